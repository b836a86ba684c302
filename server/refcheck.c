/*
 * refcheck.c - the field checks of reference data (see refcheck.h).
 *
 * Entry points: countyd_refcheck_text(), countyd_refcheck_code(),
 * countyd_refcheck_role(), countyd_refcheck_duty().
 */
#include "refcheck.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "orgunit.h"

/* Non-empty valid UTF-8 text without control characters, at most max bytes
 * (also the check of names given to `sanji-countyd person|department`). */
bool countyd_refcheck_text(const char *s, size_t max)
{
    if (!s[0] || !sj_text_valid(s, max))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Codes of categories, items and persons: ASCII letters, digits, '-', '_', '.'. */
bool countyd_refcheck_code(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > COUNTYD_REFCHECK_CODE_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

/* The roles a person of the files may have (not "system"). */
sj_person_role countyd_refcheck_role(const char *s)
{
    if (strcmp(s, "village_cadre") == 0)
        return SJ_ROLE_VILLAGE_CADRE;
    if (strcmp(s, "township_staff") == 0)
        return SJ_ROLE_TOWNSHIP_STAFF;
    if (strcmp(s, "county_operator") == 0)
        return SJ_ROLE_COUNTY_OPERATOR;
    if (strcmp(s, "department_staff") == 0)
        return SJ_ROLE_DEPARTMENT_STAFF;
    return SJ_ROLE_NONE;
}

int countyd_refcheck_duty(PGconn *db, const char *unit, const char *day, const char *person,
                              char *why, size_t cap, sj_error *err)
{
    why[0] = '\0';
    int32_t d;
    sj_error e;
    if (sj_clock_parse_date(day, &d, &e) != 0) {
        snprintf(why, cap, "日期“%s”无效，应为 YYYY-MM-DD (bad date)", day);
        return 0;
    }
    if (!sj_orgunit_valid(unit)) {
        snprintf(why, cap, "单位“%s”不是12位区划代码 (org_unit is not a valid code)", unit);
        return 0;
    }
    const char *p[] = {person, unit};
    PGresult *res;
    int rc = countyd_db_query(db, "SELECT active FROM person WHERE id = $1 AND org_unit = $2", 2, p,
                              &res, err);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        snprintf(why, cap, "人员“%s”不是单位 %s 的人员 (the person is not of that unit)", person,
                 unit);
    else if (PQgetvalue(res, 0, 0)[0] != 't')
        snprintf(why, cap, "人员“%s”已停用 (the person is deactivated)", person);
    PQclear(res);
    return 0;
}
