/*
 * case_actors.h - the org units and the actors the case tests act with
 * (test_case_paths.c, test_case_fields.c): a village of a township of a
 * county, its village cadre V, township staff T, county operator C, the
 * county's supervision sweep S, and the staff of two county departments
 * (D_MZJ of 县民政局 "mzj", D_RSJ of 县人社局 "rsj"); V2 and T2 are colleagues of V
 * and T (assignment, 接手).
 */
#ifndef SJ_TEST_CASE_ACTORS_H
#define SJ_TEST_CASE_ACTORS_H

#include "case.h"

#define COUNTY "410423000000"
#define TOWNSHIP "410423101000"
#define VILLAGE "410423101201"

static const sj_actor V = {SJ_ROLE_VILLAGE_CADRE, VILLAGE, "", "p-v1"};
static const sj_actor V2 = {SJ_ROLE_VILLAGE_CADRE, VILLAGE, "", "p-v2"};
static const sj_actor T = {SJ_ROLE_TOWNSHIP_STAFF, TOWNSHIP, "", "p-t1"};
static const sj_actor T2 = {SJ_ROLE_TOWNSHIP_STAFF, TOWNSHIP, "", "p-t2"};
static const sj_actor C = {SJ_ROLE_COUNTY_OPERATOR, COUNTY, "", "p-c1"};
static const sj_actor S = {SJ_ROLE_SYSTEM, COUNTY, "", ""};
static const sj_actor D_MZJ = {SJ_ROLE_DEPARTMENT_STAFF, COUNTY, "mzj", "p-d1"};
static const sj_actor D_RSJ = {SJ_ROLE_DEPARTMENT_STAFF, COUNTY, "rsj", "p-d2"};

#endif
