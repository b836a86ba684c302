/*
 * admin.c - one-at-a-time administration of persons, catalogue items and
 * departments, with its audit (see admin.h).
 *
 * Shape of every change: BEGIN; read the row FOR UPDATE (its old values);
 * check the new ones; UPDATE/INSERT; one admin_audit row; raise the
 * reference versions; COMMIT.  Any failure rolls everything back, so an
 * audit row exists exactly for each change made.
 *
 * Entry points: see admin.h.
 */
#include "admin.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case.h"
#include "clock.h"
#include "db.h"
#include "refcheck.h"
#include "orgunit.h"
#include "password.h"
#include "refdata.h"

#define VALUE_SIZE 1024

void countyd_admin_operator(const char *by, char out[COUNTYD_ADMIN_OPERATOR_SIZE])
{
    if (by && *by) {
        snprintf(out, COUNTYD_ADMIN_OPERATOR_SIZE, "%s", by);
        return;
    }
    /* Who ran it on this machine: the audit names a person, and the Unix
     * account is the one the county server's machine knows. */
    const struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && *pw->pw_name)
        snprintf(out, COUNTYD_ADMIN_OPERATOR_SIZE, "%s", pw->pw_name);
    else
        snprintf(out, COUNTYD_ADMIN_OPERATOR_SIZE, "uid %u", (unsigned)geteuid());
}

static void rollback(PGconn *db)
{
    sj_error ignored;
    (void)countyd_db_exec(db, "ROLLBACK", 0, NULL, &ignored);
}

int countyd_admin_audit_write(PGconn *db, const countyd_admin_by *by, const char *command,
                              const char *target, const char *old_value, const char *new_value,
                              const char *const *refs, sj_error *err)
{
    char op[COUNTYD_ADMIN_OPERATOR_SIZE];
    countyd_admin_operator(by ? by->operator_name : NULL, op);
    const char *p[] = {op, command, target, old_value, new_value,
                       by && by->node ? by->node : ""};
    int rc = countyd_db_exec(db, "INSERT INTO admin_audit (operator, command, target, old_value,"
                                 " new_value, node) VALUES ($1, $2, $3, $4, $5, $6)", 6, p, err);
    for (size_t i = 0; rc == 0 && refs[i]; i++) {
        const char *r[] = {refs[i]};
        rc = countyd_db_exec(db, "UPDATE reference_version SET version = version + 1"
                                 " WHERE name = $1", 1, r, err);
    }
    return rc;
}

/* Writes the audit row, raises each named reference version (NULL-ended)
 * and commits. */
static int finish(PGconn *db, const countyd_admin_by *by, const char *command, const char *target,
                  const char *old_value, const char *new_value, const char *const *refs,
                  sj_error *err)
{
    int rc = countyd_admin_audit_write(db, by, command, target, old_value, new_value, refs, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "COMMIT", 0, NULL, err);
    return rc;
}

/* BEGIN, then the first row of sql with key locked, or SJ_ENOTFOUND with
 * what (rolled back). */
static int begin_row(PGconn *db, const char *sql, const char *key, const char *what,
                     PGresult **res, sj_error *err)
{
    *res = NULL;
    int rc = countyd_db_exec(db, "BEGIN", 0, NULL, err);
    if (rc != 0)
        return rc;
    const char *p[] = {key};
    if ((rc = countyd_db_query(db, sql, 1, p, res, err)) != 0) {
        rollback(db);
        return rc;
    }
    if (PQntuples(*res) == 0) {
        PQclear(*res);
        *res = NULL;
        rollback(db);
        return sj_error_set(err, SJ_ENOTFOUND, "%s“%s”不存在 (no such %s)", what, key, what);
    }
    return 0;
}

/* --- persons ------------------------------------------------------------------ */

#define PERSON_SELECT                                                                            \
    "SELECT name, role, org_unit, department, active, stand_in FROM person WHERE id = $1"         \
    " FOR UPDATE"

static void person_describe(const char *name, int role, const char *unit, const char *dept,
                            bool active, char out[VALUE_SIZE])
{
    snprintf(out, VALUE_SIZE, "name=%.400s role=%s unit=%.12s department=%.40s active=%s", name,
             sj_role_name((sj_person_role)role), unit, dept, active ? "yes" : "no");
}

/* A row's active flag (a person, a catalogue item, a department): the row
 * locked, changed only when it differs, the change audited as on_command /
 * off_command with the reference sets refs sent again.  *changed says
 * whether anything was written. */
typedef struct active_flag {
    const char *select_sql;   /* SELECT ... FOR UPDATE by $1 */
    int column;               /* the active column in its result */
    const char *what;         /* for "no such ..." */
    const char *update_sql;   /* UPDATE ... SET active = $2 ... WHERE key = $1 */
    const char *on_command, *off_command;
    const char *const *refs;
} active_flag;

static int set_active(PGconn *db, const countyd_admin_by *by, const char *key, bool active,
                      const active_flag *f, bool *changed, sj_error *err)
{
    *changed = false;
    PGresult *res;
    int rc = begin_row(db, f->select_sql, key, f->what, &res, err);
    if (rc != 0)
        return rc;
    bool was = PQgetvalue(res, 0, f->column)[0] == 't';
    PQclear(res);
    if (was == active) {
        rollback(db);
        return 0;
    }
    const char *pu[] = {key, active ? "t" : "f"};
    if ((rc = countyd_db_exec(db, f->update_sql, 2, pu, err)) != 0 ||
        (rc = finish(db, by, active ? f->on_command : f->off_command, key,
                     was ? "active=yes" : "active=no", active ? "active=yes" : "active=no",
                     f->refs, err)) != 0) {
        rollback(db);
        return rc;
    }
    *changed = true;
    return 0;
}

/* The checks of import.c's persons.csv for one person; the unit and the
 * department must exist. */
static int person_check(PGconn *db, const char *name, const char *role_name, const char *unit,
                        const char *dept, sj_person_role *role, sj_error *err)
{
    if (!countyd_refcheck_text(name, SJ_CASE_NAME_MAX))
        return sj_error_set(err, SJ_EINVAL, "姓名为空或无效 (name empty, too long or not plain text)");
    *role = countyd_refcheck_role(role_name);
    if (*role == SJ_ROLE_NONE)
        return sj_error_set(err, SJ_EINVAL, "角色“%s”无效，应为 village_cadre|township_staff|"
                            "county_operator|department_staff (bad role)", role_name);
    if (!sj_orgunit_valid(unit))
        return sj_error_set(err, SJ_EINVAL, "所属单位“%s”不是12位区划代码 (the unit is not a valid "
                            "code)", unit);
    if (sj_orgunit_level(unit) != sj_role_level(*role))
        return sj_error_set(err, SJ_EINVAL, "角色 %s 与单位 %s 的级别不符 (the role does not match "
                            "the level of the unit)", role_name, unit);
    PGresult *res;
    const char *pu[] = {unit};
    int rc = countyd_db_query(db, "SELECT 1 FROM org_unit WHERE code = $1", 1, pu, &res, err);
    if (rc != 0)
        return rc;
    bool found = PQntuples(res) > 0;
    PQclear(res);
    if (!found)
        return sj_error_set(err, SJ_EINVAL, "单位 %s 不存在，请先导入 orgunits.csv (no such unit)",
                            unit);
    if (*role != SJ_ROLE_DEPARTMENT_STAFF) {
        if (*dept)
            return sj_error_set(err, SJ_EINVAL, "只有 department_staff 有部门 (only department staff "
                                "have a department; give --department \"\")");
        return 0;
    }
    const char *pd[] = {dept};
    if (!sj_department_code_valid(dept))
        return sj_error_set(err, SJ_EINVAL, "部门工作人员须给出部门代码 (department staff need "
                            "--department CODE of a known department)");
    if ((rc = countyd_db_query(db, "SELECT 1 FROM department WHERE code = $1", 1, pd, &res,
                               err)) != 0)
        return rc;
    found = PQntuples(res) > 0;
    PQclear(res);
    if (!found)
        return sj_error_set(err, SJ_EINVAL, "部门“%s”不存在 (no such department; see "
                            "`sanji-countyd department add`)", dept);
    return 0;
}

/* AB岗: the stand-in must be another active person of the same unit, role
 * and department ("" clears it). */
static int stand_in_check(PGconn *db, const char *id, const char *stand_in, int role,
                          const char *unit, const char *dept, sj_error *err)
{
    if (!*stand_in)
        return 0;
    if (strcmp(stand_in, id) == 0)
        return sj_error_set(err, SJ_EINVAL, "不能做自己的B岗 (a person cannot stand in for "
                            "themselves)");
    char r[8];
    snprintf(r, sizeof(r), "%d", role);
    const char *p[] = {stand_in, unit, r, dept};
    PGresult *res;
    int rc = countyd_db_query(db, "SELECT 1 FROM person WHERE id = $1 AND org_unit = $2 AND"
                                  " role = $3::smallint AND department = $4 AND active",
                              4, p, &res, err);
    if (rc != 0)
        return rc;
    bool found = PQntuples(res) > 0;
    PQclear(res);
    if (!found)
        return sj_error_set(err, SJ_EINVAL, "B岗“%s”须为同一单位、同一角色的在岗人员 (the stand-in "
                            "must be an active person of the same unit and role)", stand_in);
    return 0;
}

static int password_check(const char *password, sj_error *err)
{
    if (!password || !*password || strlen(password) > SJ_PASSWORD_MAX_LEN ||
        !sj_text_valid(password, SJ_PASSWORD_MAX_LEN))
        return sj_error_set(err, SJ_EINVAL, "密码为空或过长 (the password is empty or longer than "
                            "%d bytes)", SJ_PASSWORD_MAX_LEN);
    return 0;
}

static const char *const REF_PERSON[] = {"person", NULL};

/* A verifier made here from password (checked first). */
static int make_verifier(const char *password, char verifier[SJ_PASSWORD_VERIFIER_SIZE],
                         sj_error *err)
{
    int rc = password_check(password, err);
    if (rc == 0)
        rc = sj_password_make(password, verifier, SJ_PASSWORD_VERIFIER_SIZE, err);
    return rc;
}

static int verifier_check(const char *verifier, sj_error *err)
{
    sj_password_verifier v;
    if (!verifier || sj_password_parse(verifier, &v, err) != 0)
        return sj_error_set(err, SJ_EINVAL, "密码校验值无效 (the password verifier is malformed)");
    return 0;
}

int countyd_admin_person_add(PGconn *db, const countyd_admin_by *by, const char *id,
                             const countyd_admin_person *p, const char *password, sj_error *err)
{
    char verifier[SJ_PASSWORD_VERIFIER_SIZE];
    int rc = make_verifier(password, verifier, err);
    if (rc == 0)
        rc = countyd_admin_person_add_verifier(db, by, id, p, verifier, err);
    explicit_bzero(verifier, sizeof(verifier));
    return rc;
}

int countyd_admin_person_add_verifier(PGconn *db, const countyd_admin_by *by, const char *id,
                                      const countyd_admin_person *p, const char *verifier,
                                      sj_error *err)
{
    if (!countyd_refcheck_code(id))
        return sj_error_set(err, SJ_EINVAL, "人员编号“%s”无效 (the id must be 1-32 letters, digits, "
                            "'-', '_' or '.')", id);
    const char *dept = p->department ? p->department : "";
    if (!p->name || !p->role || !p->unit)
        return sj_error_set(err, SJ_EINVAL, "新增人员须给出 --name、--role 和 --unit (give --name, "
                            "--role and --unit)");
    int rc = verifier_check(verifier, err);
    if (rc != 0)
        return rc;
    char set_at[24];
    snprintf(set_at, sizeof(set_at), "%lld", (long long)sj_clock_real_ms());
    if ((rc = countyd_db_exec(db, "BEGIN", 0, NULL, err)) != 0)
        return rc;
    sj_person_role role;
    PGresult *res;
    const char *pk[] = {id};
    if ((rc = countyd_db_query(db, "SELECT 1 FROM person WHERE id = $1", 1, pk, &res, err)) != 0)
        goto fail;
    bool exists = PQntuples(res) > 0;
    PQclear(res);
    if (exists) {
        rc = sj_error_set(err, SJ_EEXISTS, "人员编号 %s 已存在 (this id is in use; change the person "
                          "with `person edit`)", id);
        goto fail;
    }
    if ((rc = person_check(db, p->name, p->role, p->unit, dept, &role, err)) != 0)
        goto fail;
    char rolebuf[4];
    snprintf(rolebuf, sizeof(rolebuf), "%d", (int)role);
    const char *pi[] = {id, p->name, rolebuf, p->unit, verifier, dept, set_at};
    if ((rc = countyd_db_exec(db, "INSERT INTO person (id, name, role, org_unit, verifier, active,"
                                  " department, must_change_password, password_set_at_ms)"
                                  " VALUES ($1, $2, $3, $4, $5, true, $6, true, $7)", 7, pi,
                              err)) != 0)
        goto fail;
    char now[VALUE_SIZE];
    person_describe(p->name, role, p->unit, dept, true, now);
    if ((rc = finish(db, by, "person add", id, "", now, REF_PERSON, err)) != 0)
        goto fail;
    return 0;
fail:
    rollback(db);
    return rc;
}

int countyd_admin_person_edit(PGconn *db, const countyd_admin_by *by, const char *id,
                              const countyd_admin_person *p, bool *changed, sj_error *err)
{
    *changed = false;
    PGresult *res;
    int rc = begin_row(db, PERSON_SELECT, id, "人员 (person)", &res, err);
    if (rc != 0)
        return rc;
    char name[VALUE_SIZE], unit[16], dept[64];
    snprintf(name, sizeof(name), "%s", PQgetvalue(res, 0, 0));
    int old_role = atoi(PQgetvalue(res, 0, 1));
    snprintf(unit, sizeof(unit), "%s", PQgetvalue(res, 0, 2));
    snprintf(dept, sizeof(dept), "%s", PQgetvalue(res, 0, 3));
    bool active = PQgetvalue(res, 0, 4)[0] == 't';
    char stand_in[128];
    snprintf(stand_in, sizeof(stand_in), "%s", PQgetvalue(res, 0, 5));
    PQclear(res);
    char old[VALUE_SIZE], now[VALUE_SIZE];
    person_describe(name, old_role, unit, dept, active, old);
    /* The stand-in (AB岗) is part of what the audit shows. */
    snprintf(old + strlen(old), VALUE_SIZE - strlen(old), " stand_in=%s", stand_in);
    const char *new_name = p->name ? p->name : name;
    const char *new_role = p->role ? p->role : sj_role_name((sj_person_role)old_role);
    const char *new_unit = p->unit ? p->unit : unit;
    /* A person who leaves department work leaves their department too. */
    const char *new_dept = p->department ? p->department
                           : countyd_refcheck_role(new_role) == SJ_ROLE_DEPARTMENT_STAFF ? dept
                                                                                      : "";
    sj_person_role role;
    if ((rc = person_check(db, new_name, new_role, new_unit, new_dept, &role, err)) != 0)
        goto fail;
    /* A person who moves to another unit or role leaves their stand-in. */
    const char *new_stand_in =
        p->stand_in ? p->stand_in
        : (strcmp(new_unit, unit) == 0 && (int)role == old_role && strcmp(new_dept, dept) == 0)
            ? stand_in
            : "";
    if ((rc = stand_in_check(db, id, new_stand_in, (int)role, new_unit, new_dept, err)) != 0)
        goto fail;
    person_describe(new_name, role, new_unit, new_dept, active, now);
    snprintf(now + strlen(now), VALUE_SIZE - strlen(now), " stand_in=%s", new_stand_in);
    if (strcmp(old, now) == 0) {
        rollback(db);
        return 0;
    }
    char rolebuf[4];
    snprintf(rolebuf, sizeof(rolebuf), "%d", (int)role);
    const char *pu[] = {id, new_name, rolebuf, new_unit, new_dept, new_stand_in};
    if ((rc = countyd_db_exec(db, "UPDATE person SET name = $2, role = $3, org_unit = $4,"
                                  " department = $5, stand_in = $6, updated_at = now()"
                                  " WHERE id = $1", 6, pu, err)) != 0 ||
        (rc = finish(db, by, "person edit", id, old, now, REF_PERSON, err)) != 0)
        goto fail;
    *changed = true;
    return 0;
fail:
    rollback(db);
    return rc;
}

int countyd_admin_person_set_active(PGconn *db, const countyd_admin_by *by, const char *id, bool active,
                                    bool *changed, sj_error *err)
{
    static const active_flag f = {PERSON_SELECT, 4, "人员 (person)",
                                  "UPDATE person SET active = $2, updated_at = now() WHERE id = $1",
                                  "person activate", "person deactivate", REF_PERSON};
    return set_active(db, by, id, active, &f, changed, err);
}

int countyd_admin_person_reset_password(PGconn *db, const countyd_admin_by *by, const char *id,
                                        const char *password, sj_error *err)
{
    char verifier[SJ_PASSWORD_VERIFIER_SIZE];
    int rc = make_verifier(password, verifier, err);
    if (rc == 0)
        rc = countyd_admin_person_reset_verifier(db, by, id, verifier, err);
    explicit_bzero(verifier, sizeof(verifier));
    return rc;
}

int countyd_admin_person_reset_verifier(PGconn *db, const countyd_admin_by *by, const char *id,
                                        const char *verifier, sj_error *err)
{
    int rc = verifier_check(verifier, err);
    if (rc != 0)
        return rc;
    PGresult *res;
    if ((rc = begin_row(db, PERSON_SELECT, id, "人员 (person)", &res, err)) != 0)
        return rc;
    PQclear(res);
    char set_at[24];
    snprintf(set_at, sizeof(set_at), "%lld", (long long)sj_clock_real_ms());
    const char *pu[] = {id, verifier, set_at};
    /* The audit says that the password was reset, never what to.  The
     * time orders it against a change a station may still be sending
     * (apply.c refuses a change made before it). */
    if ((rc = countyd_db_exec(db, "UPDATE person SET verifier = $2, must_change_password = true,"
                                  " password_set_at_ms = $3, updated_at = now() WHERE id = $1", 3,
                              pu, err)) != 0 ||
        (rc = finish(db, by, "person reset-password", id, "",
                     "password reset; must change at next login", REF_PERSON, err)) != 0) {
        rollback(db);
        return rc;
    }
    return 0;
}

int countyd_admin_person_cases(PGconn *db, const char *id, FILE *out, size_t *n, sj_error *err)
{
    if (n)
        *n = 0;
    const char *pk[] = {id};
    PGresult *res;
    int rc = countyd_db_query(db, "SELECT 1 FROM person WHERE id = $1", 1, pk, &res, err);
    if (rc != 0)
        return rc;
    bool found = PQntuples(res) > 0;
    PQclear(res);
    if (!found)
        return sj_error_set(err, SJ_ENOTFOUND, "人员“%s”不存在 (no such person)", id);
    /* Open: not closed (10) nor withdrawn (11).  "Alone": no other active
     * person of the same role in the same unit (and department). */
    static const char sql[] =
        "SELECT coalesce(c.number, c.case_id::text), c.item_name, c.status, c.holder_unit,"
        " c.department_code, c.first_receiver = p.id, c.assignee = p.id, c.carrier = p.id"
        " FROM person p JOIN cases c ON c.status NOT IN (10, 11) AND (c.first_receiver = p.id OR"
        "  c.assignee = p.id OR c.carrier = p.id OR"
        "  (NOT EXISTS (SELECT 1 FROM person q WHERE q.active AND q.id <> p.id"
        "     AND q.role = p.role AND q.org_unit = p.org_unit AND q.department = p.department)"
        "   AND (CASE WHEN p.role = 4 THEN c.department_code = p.department"
        "        ELSE c.holder_unit = p.org_unit END)))"
        " WHERE p.id = $1 ORDER BY c.due_at_ms, c.case_id";
    if ((rc = countyd_db_query(db, sql, 1, pk, &res, err)) != 0)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *dept = PQgetvalue(res, r, 4);
        fprintf(out, "%s\t%s\t%s\t%s%s%s\t%s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                sj_case_status_name((sj_case_status)atoi(PQgetvalue(res, r, 2))),
                PQgetvalue(res, r, 3), *dept ? "/" : "", dept,
                PQgetvalue(res, r, 6)[0] == 't'   ? "指派给本人 (assigned to them; sanji assign)"
                : PQgetvalue(res, r, 7)[0] == 't' ? "全程代办员 (carrier; sanji set-carrier)"
                : PQgetvalue(res, r, 5)[0] == 't' ? "首问 (first receiver)"
                                                  : "本单位无人接替 (no one else in the unit)");
    }
    if (n)
        *n = (size_t)PQntuples(res);
    PQclear(res);
    return 0;
}

/* --- the duty roster -------------------------------------------------------------- */

static const char *const REF_DUTY[] = {"duty", NULL};

int countyd_admin_duty_set(PGconn *db, const countyd_admin_by *by, const char *unit, const char *day,
                           const char *person, bool on, bool *changed, sj_error *err)
{
    *changed = false;
    char why[512];
    int rc;
    if (on && (rc = countyd_refcheck_duty(db, unit, day, person, why, sizeof(why), err)) != 0)
        return rc;
    if (on && why[0])
        return sj_error_set(err, SJ_EINVAL, "%s", why);
    int32_t d;
    sj_error e;
    if (!on && sj_clock_parse_date(day, &d, &e) != 0)
        return sj_error_set(err, SJ_EINVAL, "日期“%s”无效，应为 YYYY-MM-DD (bad date)", day);
    if ((rc = countyd_db_exec(db, "BEGIN", 0, NULL, err)) != 0)
        return rc;
    const char *p[] = {unit, day, person};
    PGresult *res;
    rc = countyd_db_query(db,
                          on ? "INSERT INTO duty_roster (org_unit, day, person) VALUES"
                               " ($1, $2::date, $3) ON CONFLICT DO NOTHING RETURNING 1"
                             : "DELETE FROM duty_roster WHERE org_unit = $1 AND day = $2::date"
                               " AND person = $3 RETURNING 1",
                          3, p, &res, err);
    if (rc != 0) {
        rollback(db);
        return rc;
    }
    bool did = PQntuples(res) > 0;
    PQclear(res);
    if (!did) {
        rollback(db);
        return 0;
    }
    char target[64], value[256];
    snprintf(target, sizeof(target), "%.12s %.10s", unit, day);
    snprintf(value, sizeof(value), "person=%.200s", person);
    if ((rc = finish(db, by, on ? "duty add" : "duty remove", target, on ? "" : value,
                     on ? value : "", REF_DUTY, err)) != 0) {
        rollback(db);
        return rc;
    }
    *changed = true;
    return 0;
}

int countyd_admin_duty_print(PGconn *db, const char *unit, FILE *out, size_t *n, sj_error *err)
{
    char prefix[13] = "";
    if (unit && *unit)
        countyd_scope_prefix(unit, prefix);
    const char *p[] = {prefix};
    PGresult *res;
    int rc = countyd_db_query(db,
                              "SELECT d.day::text, d.org_unit, o.name, d.person, p.name"
                              " FROM duty_roster d JOIN person p ON p.id = d.person"
                              " JOIN org_unit o ON o.code = d.org_unit"
                              " WHERE left(d.org_unit, length($1)) = $1"
                              " AND d.day >= (now() AT TIME ZONE 'Asia/Shanghai')::date"
                              " ORDER BY d.day, d.org_unit, d.person",
                              1, p, &res, err);
    if (rc != 0)
        return rc;
    for (int r = 0; r < PQntuples(res); r++)
        fprintf(out, "%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), PQgetvalue(res, r, 4));
    if (n)
        *n = (size_t)PQntuples(res);
    PQclear(res);
    return 0;
}

/* --- catalogue items -------------------------------------------------------------- */

int countyd_admin_item_set_active(PGconn *db, const countyd_admin_by *by, const char *code, bool active,
                                  bool *changed, sj_error *err)
{
    static const char *const refs[] = {"catalogue", NULL};
    static const active_flag f = {
        "SELECT active FROM catalogue_item WHERE code = $1 FOR UPDATE", 0, "事项 (catalogue item)",
        "UPDATE catalogue_item SET active = $2, updated_at = now() WHERE code = $1",
        "item restore", "item retire", refs};
    return set_active(db, by, code, active, &f, changed, err);
}

/* Moves a catalogue item to another department (which one owns it: its
 * catalogue_item.department, the name the catalogue and the org tree's
 * Department.item_codes carry).  Cases already dispatched keep theirs. */
int countyd_admin_item_set_department(PGconn *db, const countyd_admin_by *by, const char *code,
                                      const char *department_code, bool *changed, sj_error *err)
{
    *changed = false;
    PGresult *res;
    int rc = begin_row(db, "SELECT department FROM catalogue_item WHERE code = $1 FOR UPDATE",
                       code, "事项 (catalogue item)", &res, err);
    if (rc != 0)
        return rc;
    char old_name[VALUE_SIZE];
    snprintf(old_name, sizeof(old_name), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *pd[] = {department_code ? department_code : ""};
    if ((rc = countyd_db_query(db, "SELECT name, active FROM department WHERE code = $1", 1, pd,
                               &res, err)) != 0) {
        rollback(db);
        return rc;
    }
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        rc = sj_error_set(err, PQntuples(res) == 0 ? SJ_ENOTFOUND : SJ_EINVAL,
                          PQntuples(res) == 0
                              ? "没有部门 %s (no department with this code; `sanji-countyd "
                                "department add` makes one)"
                              : "部门 %s 已停用，不能再接收事项 (the department is deactivated; "
                                "activate it first)",
                          pd[0]);
        PQclear(res);
        rollback(db);
        return rc;
    }
    char name[VALUE_SIZE];
    snprintf(name, sizeof(name), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (strcmp(old_name, name) == 0) {
        rollback(db);
        return 0;
    }
    char old[VALUE_SIZE + 16], now[VALUE_SIZE + 16];
    snprintf(old, sizeof(old), "department=%s", old_name);
    snprintf(now, sizeof(now), "department=%s", name);
    static const char *const refs[] = {"catalogue", "org_tree", NULL};
    const char *pu[] = {code, name};
    if ((rc = countyd_db_exec(db, "UPDATE catalogue_item SET department = $2, updated_at = now()"
                                  " WHERE code = $1", 2, pu, err)) != 0 ||
        (rc = finish(db, by, "item department", code, old, now, refs, err)) != 0) {
        rollback(db);
        return rc;
    }
    *changed = true;
    return 0;
}

/* --- departments ------------------------------------------------------------------ */

#define DEPARTMENT_SELECT "SELECT name, active FROM department WHERE code = $1 FOR UPDATE"

static int department_name_free(PGconn *db, const char *name, sj_error *err)
{
    if (!countyd_refcheck_text(name, SJ_CASE_NAME_MAX))
        return sj_error_set(err, SJ_EINVAL, "部门名称为空或无效 (the name is empty, too long or not "
                            "plain text)");
    const char *p[] = {name};
    PGresult *res;
    int rc = countyd_db_query(db, "SELECT code FROM department WHERE name = $1", 1, p, &res, err);
    if (rc != 0)
        return rc;
    if (PQntuples(res) > 0)
        rc = sj_error_set(err, SJ_EEXISTS, "部门名称“%s”已被部门 %s 使用 (another department has "
                          "this name)", name, PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

int countyd_admin_department_add(PGconn *db, const countyd_admin_by *by, const char *code, const char *name,
                                 sj_error *err)
{
    if (!sj_department_code_valid(code))
        return sj_error_set(err, SJ_EINVAL, "部门代码“%s”无效 (the code must be 1-31 lower-case "
                            "letters, digits or '-')", code);
    int rc = countyd_db_exec(db, "BEGIN", 0, NULL, err);
    if (rc != 0)
        return rc;
    const char *pk[] = {code};
    PGresult *res;
    if ((rc = countyd_db_query(db, "SELECT 1 FROM department WHERE code = $1", 1, pk, &res,
                               err)) != 0)
        goto fail;
    bool exists = PQntuples(res) > 0;
    PQclear(res);
    if (exists) {
        rc = sj_error_set(err, SJ_EEXISTS, "部门代码 %s 已存在 (this code is in use; rename with "
                          "`department edit`)", code);
        goto fail;
    }
    if ((rc = department_name_free(db, name, err)) != 0)
        goto fail;
    static const char *const refs[] = {"org_tree", NULL};
    const char *pi[] = {code, name};
    char now[VALUE_SIZE];
    snprintf(now, sizeof(now), "name=%s active=yes", name);
    if ((rc = countyd_db_exec(db, "INSERT INTO department (code, name, active) VALUES ($1, $2, true)",
                              2, pi, err)) != 0 ||
        (rc = finish(db, by, "department add", code, "", now, refs, err)) != 0)
        goto fail;
    return 0;
fail:
    rollback(db);
    return rc;
}

int countyd_admin_department_edit(PGconn *db, const countyd_admin_by *by, const char *code, const char *name,
                                  bool *changed, sj_error *err)
{
    *changed = false;
    PGresult *res;
    int rc = begin_row(db, DEPARTMENT_SELECT, code, "部门 (department)", &res, err);
    if (rc != 0)
        return rc;
    char old[VALUE_SIZE], now[VALUE_SIZE];
    snprintf(old, sizeof(old), "name=%s", PQgetvalue(res, 0, 0));
    char old_name[VALUE_SIZE];
    snprintf(old_name, sizeof(old_name), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (strcmp(old_name, name) == 0) {
        rollback(db);
        return 0;
    }
    snprintf(now, sizeof(now), "name=%s", name);
    /* The items it owns name it (catalogue_item.department): they follow,
     * so the catalogue changes too.  Cases keep the name they were
     * dispatched under. */
    static const char *const refs[] = {"org_tree", "catalogue", NULL};
    const char *pu[] = {code, name};
    const char *pi[] = {old_name, name};
    if ((rc = department_name_free(db, name, err)) != 0 ||
        (rc = countyd_db_exec(db, "UPDATE department SET name = $2, updated_at = now()"
                                  " WHERE code = $1", 2, pu, err)) != 0 ||
        (rc = countyd_db_exec(db, "UPDATE catalogue_item SET department = $2, updated_at = now()"
                                  " WHERE department = $1", 2, pi, err)) != 0 ||
        (rc = finish(db, by, "department edit", code, old, now, refs, err)) != 0) {
        rollback(db);
        return rc;
    }
    *changed = true;
    return 0;
}

int countyd_admin_department_set_active(PGconn *db, const countyd_admin_by *by, const char *code, bool active,
                                        bool *changed, sj_error *err)
{
    static const char *const refs[] = {"org_tree", NULL};
    static const active_flag f = {
        DEPARTMENT_SELECT, 1, "部门 (department)",
        "UPDATE department SET active = $2, updated_at = now() WHERE code = $1",
        "department activate", "department deactivate", refs};
    return set_active(db, by, code, active, &f, changed, err);
}

/* --- the audit --------------------------------------------------------------------- */

int countyd_admin_audit_print(PGconn *db, const char *target, FILE *out, sj_error *err)
{
    const char *p[] = {target ? target : ""};
    PGresult *res;
    int rc = countyd_db_query(db, "SELECT to_char(at AT TIME ZONE 'Asia/Shanghai',"
                                  " 'YYYY-MM-DD HH24:MI:SS'), operator, command, target, old_value,"
                                  " new_value, node FROM admin_audit WHERE $1 = '' OR target = $1"
                                  " ORDER BY id", 1, p, &res, err);
    if (rc != 0)
        return rc;
    /* The node last: empty for the county machine's command line. */
    for (int r = 0; r < PQntuples(res); r++)
        fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, r, 0),
                PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), PQgetvalue(res, r, 3),
                PQgetvalue(res, r, 4), PQgetvalue(res, r, 5), PQgetvalue(res, r, 6));
    PQclear(res);
    return 0;
}
