/*
 * refcheck.h - the field checks of reference data that the county's file
 * imports (import.h) and its administration commands and desk pages
 * (admin.h) share, so that a name, a code, a role or a duty roster row is
 * judged by one rule whichever way it arrives.  Kept apart from both so
 * that neither depends on the other for them.
 *
 * Entry points: countyd_refcheck_text(), countyd_refcheck_code(),
 * countyd_refcheck_role(), countyd_refcheck_duty().
 */
#ifndef COUNTYD_REFCHECK_H
#define COUNTYD_REFCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "case.h"
#include "err.h"

/* The longest code of a category, item or person, in bytes. */
#define COUNTYD_REFCHECK_CODE_MAX 32

/* Non-empty plain UTF-8 text (no control characters) of at most max bytes. */
bool countyd_refcheck_text(const char *s, size_t max);

/* A code of a category, item or person: 1-32 ASCII letters, digits, '-',
 * '_' or '.'. */
bool countyd_refcheck_code(const char *s);

/* A role name of the files (village_cadre ... department_staff);
 * SJ_ROLE_NONE otherwise ("system" is not a role a file may give). */
sj_person_role countyd_refcheck_role(const char *s);

/* One duty roster row (值班表; duty.csv, `sanji-countyd duty add`): the unit
 * exists, the day is a date (YYYY-MM-DD), the person is an active person
 * of that unit.  *why gets the reason (Chinese, then English) when not.
 * Returns 0 (see *why) or SJ_EDB. */
int countyd_refcheck_duty(PGconn *db, const char *unit, const char *day, const char *person,
                          char *why, size_t cap, sj_error *err);

#endif
