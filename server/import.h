/*
 * import.h - `sanji-countyd import KIND FILE` and `demo-load DIR`: loads the
 * county's reference data (org units, catalogue, persons, holidays) from
 * UTF-8 CSV files into PostgreSQL.
 *
 * File formats (one header row, exactly these columns):
 *   orgunits.csv             code,name,level,parent
 *   catalogue_categories.csv code,name
 *   catalogue.csv            code,category,name,min_level,department,limit_days,
 *                            urgent_limit_days,materials     (materials split by '|')
 *   persons.csv              id,name,role,org_unit,password[,department]
 *                            (department: a department_staff's department code)
 *   holidays.csv             date,kind,name
 *   departments.csv          code,name,active  (active: yes|no; docs/DATA.md)
 *
 * Every row is checked (codes, parents, levels, limits, roles, dates, that
 * referenced rows exist in the file or the database) and every problem is
 * written to `report` as "FILE:LINE: what is wrong" (Chinese, then English).
 * If any row is bad nothing is imported; otherwise all rows are upserted in
 * one transaction, so importing the same file again changes nothing.  The
 * reference version (CatalogueSync/OrgTreeSync/PersonSync.version) is raised
 * only when a row really changed.  Persons' passwords are stored as scrypt
 * verifiers (common/domain/password.h); a verifier that already matches the
 * password is kept.  A stored person keeps their `active` flag (new ones
 * are active): only `sanji-countyd person activate` reactivates (admin.h).
 * An import that changes rows writes one admin_audit row (the Unix user,
 * "import KIND", the file, how many rows).
 *
 * The caller owns the connection; it must not be inside a transaction.
 * Nothing is allocated for the caller.
 *
 * Entry points: countyd_import_kind_parse(), countyd_import_kind_name(),
 * countyd_import_file(), countyd_import_demo(), countyd_import_calendar_report().
 * The field checks it shares with the administration are in refcheck.h.
 */
#ifndef COUNTYD_IMPORT_H
#define COUNTYD_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "case.h"
#include "err.h"

typedef enum countyd_import_kind {
    COUNTYD_IMPORT_ORGUNITS = 1,
    COUNTYD_IMPORT_CATEGORIES,
    COUNTYD_IMPORT_CATALOGUE,
    COUNTYD_IMPORT_PERSONS,
    COUNTYD_IMPORT_HOLIDAYS,
    COUNTYD_IMPORT_DEPARTMENTS,
    COUNTYD_IMPORT_DUTY,
} countyd_import_kind;

/* "orgunits", "categories", "catalogue", "persons", "holidays", "departments", "duty".  Returns 0
 * or SJ_EINVAL. */
int countyd_import_kind_parse(const char *name, countyd_import_kind *out);

const char *countyd_import_kind_name(countyd_import_kind kind);

/* Imports one file.  *changed (may be NULL) receives the number of rows
 * inserted or changed.  Returns 0; SJ_EINVAL if rows were bad (each one
 * reported; err says how many; nothing imported); SJ_EIO/SJ_ETOOBIG for an
 * unreadable file; SJ_EDB/SJ_EDB_CONN. */
int countyd_import_file(PGconn *db, countyd_import_kind kind, const char *path, FILE *report,
                        size_t *changed, sj_error *err);

/* Imports DIR/orgunits.csv, departments.csv, catalogue_categories.csv,
 * catalogue.csv, persons.csv, department_staff.csv (persons with a
 * department column) and holidays.csv in this order (a missing
 * departments.csv, department_staff.csv or holidays.csv is skipped; the
 * others are required).  Stops at the first failing file. */
int countyd_import_demo(PGconn *db, const char *dir, FILE *report, sj_error *err);

/* After holidays were imported: writes to `report` which years the
 * calendar covers, that the county server recomputes the open cases' due
 * times on it (countyd_sweep_calendar(), at its next sweep or start), and
 * whether next year's arrangement is still missing.  Returns 0, SJ_ENOMEM or
 * SJ_EDB/SJ_EDB_CONN. */
int countyd_import_calendar_report(PGconn *db, FILE *report, sj_error *err);


#endif
