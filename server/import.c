/*
 * import.c - reference-data import (see import.h).
 *
 * Shape: read the CSV, check the header, check every row (collecting all
 * problems), and only if there were none upsert every row inside one
 * transaction.  Checks that need the database (does the parent, category or
 * org unit exist?) run as SELECTs inside that same transaction, so what is
 * checked is what is written.
 *
 * Entry points: countyd_import_kind_parse(), countyd_import_kind_name(),
 * countyd_import_file(), countyd_import_demo().
 */
#include "import.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "apply.h" /* countyd_calendar_read() */
#include "case.h"
#include "clock.h"
#include "csv.h"
#include "db.h"
#include "orgunit.h"
#include "password.h"
#include "refcheck.h"

#define NAME_MAX_BYTES SJ_CASE_NAME_MAX

typedef struct import_ctx {
    PGconn *db;
    const char *path;
    FILE *report;
    size_t n_bad;
    size_t changed;
    const sj_csv *csv;
    bool have_departments; /* the department table has rows */
} import_ctx;

static void bad(import_ctx *c, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void bad(import_ctx *c, size_t line, const char *fmt, ...)
{
    c->n_bad++;
    if (!c->report)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->report, "%s:%zu: ", c->path, line);
    vfprintf(c->report, fmt, ap);
    fputc('\n', c->report);
    va_end(ap);
}

/* A kind may also take a longer header (alt_header, one more column at the
 * end; long_header, two more): persons.csv with a department column for
 * department staff and a stand_in column (AB岗), while files without them
 * stay valid. */
static const struct {
    countyd_import_kind kind;
    const char *name;
    const char *header;
    size_t n_cols;
    const char *alt_header;
    const char *long_header;
} KINDS[] = {
    {COUNTYD_IMPORT_ORGUNITS, "orgunits", "code,name,level,parent", 4, NULL, NULL},
    {COUNTYD_IMPORT_CATEGORIES, "categories", "code,name", 2, NULL, NULL},
    {COUNTYD_IMPORT_CATALOGUE, "catalogue",
     "code,category,name,min_level,department,limit_days,urgent_limit_days,materials", 8, NULL, NULL},
    {COUNTYD_IMPORT_PERSONS, "persons", "id,name,role,org_unit,password", 5,
     "id,name,role,org_unit,password,department",
     "id,name,role,org_unit,password,department,stand_in"},
    {COUNTYD_IMPORT_HOLIDAYS, "holidays", "date,kind,name", 3, NULL, NULL},
    {COUNTYD_IMPORT_DEPARTMENTS, "departments", "code,name,active", 3, NULL, NULL},
    {COUNTYD_IMPORT_DUTY, "duty", "org_unit,date,person", 3, NULL, NULL},
};
#define N_KINDS (sizeof(KINDS) / sizeof(KINDS[0]))

int countyd_import_kind_parse(const char *name, countyd_import_kind *out)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(name, KINDS[i].name) == 0) {
            *out = KINDS[i].kind;
            return 0;
        }
    return SJ_EINVAL;
}

const char *countyd_import_kind_name(countyd_import_kind kind)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (KINDS[i].kind == kind)
            return KINDS[i].name;
    return "?";
}

/* --- field checks ---------------------------------------------------------- */

/* Level names as written in the files. */
static sj_level level_from_name(const char *s)
{
    if (strcmp(s, "village") == 0)
        return SJ_LEVEL_VILLAGE;
    if (strcmp(s, "township") == 0)
        return SJ_LEVEL_TOWNSHIP;
    if (strcmp(s, "county") == 0)
        return SJ_LEVEL_COUNTY;
    return SJ_LEVEL_NONE;
}

static sj_level role_level(sj_person_role r)
{
    return r == SJ_ROLE_SYSTEM ? SJ_LEVEL_NONE : sj_role_level(r);
}

/* Decimal integer in [min, max]. */
static bool int_ok(const char *s, long min, long max, long *out)
{
    if (!s[0] || strlen(s) > 9)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    long v = strtol(s, NULL, 10);
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Does a row with this key exist in table (a fixed name from this file)? */
static int exists_in_db(import_ctx *c, const char *sql, const char *key, bool *found, sj_error *err)
{
    PGresult *res;
    const char *p[] = {key};
    int rc = countyd_db_query(c->db, sql, 1, p, &res, err);
    if (rc != 0)
        return rc;
    *found = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

/* Is value the first column of a row of the file other than `self`? */
static bool in_file(const import_ctx *c, size_t col, const char *value, size_t before)
{
    for (size_t i = 1; i < c->csv->n && i < before; i++)
        if (c->csv->records[i].n > col && strcmp(c->csv->records[i].fields[col], value) == 0)
            return true;
    return false;
}

static int upsert(import_ctx *c, size_t line, const char *sql, int n, const char *const *params,
                  sj_error *err)
{
    PGresult *res;
    int rc = countyd_db_query(c->db, sql, n, params, &res, err);
    if (rc != 0) {
        bad(c, line, "数据库拒绝此行 (the database refused this row): %s", err->message);
        return rc;
    }
    c->changed += (size_t)strtoul(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return 0;
}

/* --- org units ------------------------------------------------------------- */

static int check_orgunits(import_ctx *c, sj_error *err)
{
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        size_t line = c->csv->records[i].line;
        const char *code = f[0], *name = f[1], *level = f[2], *parent = f[3];
        if (!sj_orgunit_valid(code)) {
            bad(c, line, "编码“%s”无效，应为12位区划代码 (code must be a 12-digit org unit code)", code);
            continue;
        }
        if (in_file(c, 0, code, i))
            bad(c, line, "编码 %s 重复 (code appears twice in the file)", code);
        if (!countyd_refcheck_text(name, NAME_MAX_BYTES))
            bad(c, line, "名称为空或无效 (name empty, too long or not plain text)");
        sj_level lv = level_from_name(level);
        if (lv == SJ_LEVEL_NONE) {
            bad(c, line, "级别“%s”无效，应为 county|township|village (bad level)", level);
            continue;
        }
        if (lv != sj_orgunit_level(code)) {
            bad(c, line, "级别 %s 与编码 %s 不符 (level does not match the code: %s is a %s code)",
                level, code, code, sj_level_name(sj_orgunit_level(code)));
            continue;
        }
        if (lv == SJ_LEVEL_COUNTY) {
            if (parent[0])
                bad(c, line, "县级单位不应有上级 (a county has no parent; leave parent empty)");
            continue;
        }
        char want[SJ_ORGUNIT_CODE_SIZE];
        if (sj_orgunit_parent(code, want) != 0 || strcmp(parent, want) != 0) {
            bad(c, line, "上级“%s”不对，%s 的上级应为 %s (parent must be %s)", parent, code, want, want);
            continue;
        }
        if (!in_file(c, 0, parent, c->csv->n)) {
            bool found;
            int rc = exists_in_db(c, "SELECT 1 FROM org_unit WHERE code = $1", parent, &found, err);
            if (rc != 0)
                return rc;
            if (!found)
                bad(c, line, "上级 %s 不存在 (parent is neither in this file nor in the database)",
                    parent);
        }
    }
    return 0;
}

static int write_orgunits(import_ctx *c, sj_error *err)
{
    static const char sql[] =
        "INSERT INTO org_unit (code, name, level, parent) VALUES ($1, $2, $3, nullif($4, ''))"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,"
        " parent = excluded.parent, updated_at = now()"
        " WHERE (org_unit.name, org_unit.level, org_unit.parent) IS DISTINCT FROM"
        " (excluded.name, excluded.level, excluded.parent)";
    /* Parents first: counties, then townships, then villages. */
    for (int lv = SJ_LEVEL_COUNTY; lv >= SJ_LEVEL_VILLAGE; lv--)
        for (size_t i = 1; i < c->csv->n; i++) {
            char **f = c->csv->records[i].fields;
            if ((int)level_from_name(f[2]) != lv)
                continue;
            char lvbuf[4];
            snprintf(lvbuf, sizeof(lvbuf), "%d", lv);
            const char *p[] = {f[0], f[1], lvbuf, f[3]};
            int rc = upsert(c, c->csv->records[i].line, sql, 4, p, err);
            if (rc != 0)
                return rc;
        }
    return 0;
}

/* --- catalogue ------------------------------------------------------------- */

static int check_categories(import_ctx *c, sj_error *err)
{
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        size_t line = c->csv->records[i].line;
        if (!countyd_refcheck_code(f[0]))
            bad(c, line, "类别编码“%s”无效 (code must be 1-32 letters, digits, '-', '_' or '.')", f[0]);
        else if (in_file(c, 0, f[0], i))
            bad(c, line, "类别编码 %s 重复 (code appears twice in the file)", f[0]);
        if (!countyd_refcheck_text(f[1], NAME_MAX_BYTES))
            bad(c, line, "名称为空或无效 (name empty, too long or not plain text)");
    }
    return 0;
}

static int write_categories(import_ctx *c, sj_error *err)
{
    static const char sql[] =
        "INSERT INTO catalogue_category (code, name) VALUES ($1, $2)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name"
        " WHERE catalogue_category.name IS DISTINCT FROM excluded.name";
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        const char *p[] = {f[0], f[1]};
        int rc = upsert(c, c->csv->records[i].line, sql, 2, p, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Turns "a|b|c" into the PostgreSQL array literal {"a","b","c"} (quoted and
 * escaped, then passed as a parameter).  Returns the number of items, or -1
 * (bad item, reported) or -2 (out of memory). */
static int materials_array(import_ctx *c, size_t line, const char *list, char **out)
{
    *out = NULL;
    /* Worst case per item of c bytes: c escapes, two quotes and a comma,
     * against c + 1 bytes of input with its '|'; 3 per input byte covers it. */
    size_t cap = 3 * strlen(list) + 8;
    char *a = malloc(cap);
    if (!a)
        return -2;
    size_t n = 0;
    int items = 0;
    a[n++] = '{';
    const char *p = list;
    while (*list) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[NAME_MAX_BYTES + 2];
        if (len == 0 || len > NAME_MAX_BYTES) {
            bad(c, line, "材料清单第 %d 项为空或过长 (materials item %d is empty or longer than %d bytes)",
                items + 1, items + 1, NAME_MAX_BYTES);
            free(a);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (!countyd_refcheck_text(item, NAME_MAX_BYTES)) {
            bad(c, line, "材料清单第 %d 项无效 (materials item %d is not plain text)", items + 1,
                items + 1);
            free(a);
            return -1;
        }
        if (items)
            a[n++] = ',';
        a[n++] = '"';
        for (size_t k = 0; k < len; k++) {
            if (item[k] == '"' || item[k] == '\\')
                a[n++] = '\\';
            a[n++] = item[k];
        }
        a[n++] = '"';
        items++;
        if (!end)
            break;
        p = end + 1;
    }
    a[n++] = '}';
    a[n] = '\0';
    if (items > SJ_CASE_MATERIALS_MAX) {
        bad(c, line, "材料清单过长 (more than %d materials)", SJ_CASE_MATERIALS_MAX);
        free(a);
        return -1;
    }
    *out = a;
    return items;
}

static int check_catalogue(import_ctx *c, sj_error *err)
{
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        size_t line = c->csv->records[i].line;
        long limit = 0, urgent = 0;
        if (!countyd_refcheck_code(f[0]))
            bad(c, line, "事项编码“%s”无效 (code must be 1-32 letters, digits, '-', '_' or '.')", f[0]);
        else if (in_file(c, 0, f[0], i))
            bad(c, line, "事项编码 %s 重复 (code appears twice in the file)", f[0]);
        if (!countyd_refcheck_code(f[1])) {
            bad(c, line, "类别编码“%s”无效 (bad category code)", f[1]);
        } else {
            bool found;
            int rc = exists_in_db(c, "SELECT 1 FROM catalogue_category WHERE code = $1", f[1], &found,
                                  err);
            if (rc != 0)
                return rc;
            if (!found)
                bad(c, line, "类别 %s 不存在，请先导入 catalogue_categories.csv (category not "
                    "in the database; import the categories first)", f[1]);
        }
        if (!countyd_refcheck_text(f[2], NAME_MAX_BYTES))
            bad(c, line, "名称为空或无效 (name empty, too long or not plain text)");
        if (level_from_name(f[3]) == SJ_LEVEL_NONE)
            bad(c, line, "最低办理级别“%s”无效，应为 village|township|county (bad min_level)", f[3]);
        if (!countyd_refcheck_text(f[4], NAME_MAX_BYTES)) {
            bad(c, line, "责任部门为空或无效 (department empty, too long or not plain text)");
        } else if (c->have_departments) {
            /* Once departments are records, an item names one of them: a
             * typo (县民正局) is caught here, not stored. */
            bool found;
            int rc = exists_in_db(c, "SELECT 1 FROM department WHERE name = $1", f[4], &found,
                                  err);
            if (rc != 0)
                return rc;
            if (!found)
                bad(c, line, "责任部门“%s”不在部门表中，请先导入 departments.csv 或改正名称 "
                    "(department is not a known department's name)", f[4]);
        }
        if (!int_ok(f[5], 1, 365, &limit))
            bad(c, line, "办理时限“%s”无效，应为 1-365 个工作日 (limit_days must be 1..365)", f[5]);
        if (f[6][0] && !int_ok(f[6], 0, 365, &urgent))
            bad(c, line, "加急时限“%s”无效 (urgent_limit_days must be 0..365 or empty)", f[6]);
        else if (limit && urgent > limit)
            bad(c, line, "加急时限 %ld 大于办理时限 %ld (urgent_limit_days exceeds limit_days)", urgent,
                limit);
        char *arr = NULL;
        if (f[7][0] && materials_array(c, line, f[7], &arr) == -2)
            return sj_error_set(err, SJ_ENOMEM, "out of memory");
        free(arr);
    }
    return 0;
}

static int write_catalogue(import_ctx *c, sj_error *err)
{
    static const char sql[] =
        "INSERT INTO catalogue_item (code, category, name, min_level, department, limit_days,"
        " urgent_limit_days, materials, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true)"
        " ON CONFLICT (code) DO UPDATE SET category = excluded.category, name = excluded.name,"
        " min_level = excluded.min_level, department = excluded.department,"
        " limit_days = excluded.limit_days, urgent_limit_days = excluded.urgent_limit_days,"
        " materials = excluded.materials, active = true, updated_at = now()"
        " WHERE (catalogue_item.category, catalogue_item.name, catalogue_item.min_level,"
        " catalogue_item.department, catalogue_item.limit_days, catalogue_item.urgent_limit_days,"
        " catalogue_item.materials, catalogue_item.active) IS DISTINCT FROM"
        " (excluded.category, excluded.name, excluded.min_level, excluded.department,"
        " excluded.limit_days, excluded.urgent_limit_days, excluded.materials, true)";
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        size_t line = c->csv->records[i].line;
        char lv[4];
        snprintf(lv, sizeof(lv), "%d", (int)level_from_name(f[3]));
        char *arr = NULL;
        if (f[7][0] && materials_array(c, line, f[7], &arr) < 0)
            return sj_error_set(err, SJ_ENOMEM, "out of memory");
        const char *p[] = {f[0], f[1], f[2], lv, f[4], f[5], f[6][0] ? f[6] : "0", arr ? arr : "{}"};
        int rc = upsert(c, line, sql, 8, p, err);
        free(arr);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* --- persons --------------------------------------------------------------- */

/* The password column holds either a plain password, turned into an scrypt
 * verifier here, or a ready verifier ("scrypt$N$r$p$salt$hash").  Verifiers
 * let a county hand over a file that holds no password at all, and make
 * large imports fast: scrypt is deliberately slow (about 50 ms a password). */
static bool is_verifier(const char *field)
{
    return strncmp(field, "scrypt$", 7) == 0;
}

/* AB岗: a person's stand-in (f: the person's fields) is a colleague of the
 * same unit and role (and department), in this file or already stored;
 * not oneself. */
static int check_stand_in(import_ctx *c, char **f, const char *stand_in, sj_person_role role,
                          const char *dept, size_t line, sj_error *err)
{
    bool fits = false, listed = false;
    for (size_t k = 1; k < c->csv->n; k++) {
        char **g = c->csv->records[k].fields;
        if (c->csv->records[k].n < 7 || strcmp(g[0], stand_in) != 0)
            continue;
        listed = true;
        fits = strcmp(g[2], f[2]) == 0 && strcmp(g[3], f[3]) == 0 &&
               strcmp(g[5], dept) == 0;
    }
    if (!listed) {
        char role_no[4];
        snprintf(role_no, sizeof(role_no), "%d", (int)role);
        const char *pk[] = {stand_in, f[3], role_no, dept};
        PGresult *res;
        int rc = countyd_db_query(c->db,
                                  "SELECT 1 FROM person WHERE id = $1 AND org_unit = $2"
                                  " AND role = $3::smallint AND department = $4",
                                  4, pk, &res, err);
        if (rc != 0)
            return rc;
        fits = PQntuples(res) == 1;
        PQclear(res);
    }
    if (!fits || strcmp(stand_in, f[0]) == 0)
        bad(c, line, "B岗“%s”应为同一单位、同一角色的另一人员 (stand_in must be another "
            "person of the same unit and role)", stand_in);
    return 0;
}

static int check_persons(import_ctx *c, sj_error *err)
{
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        size_t line = c->csv->records[i].line;
        if (!countyd_refcheck_code(f[0]))
            bad(c, line, "人员编号“%s”无效 (id must be 1-32 letters, digits, '-', '_' or '.')", f[0]);
        else if (in_file(c, 0, f[0], i))
            bad(c, line, "人员编号 %s 重复 (id appears twice in the file)", f[0]);
        if (!countyd_refcheck_text(f[1], NAME_MAX_BYTES))
            bad(c, line, "姓名为空或无效 (name empty, too long or not plain text)");
        sj_person_role role = countyd_refcheck_role(f[2]);
        if (role == SJ_ROLE_NONE)
            bad(c, line, "角色“%s”无效，应为 village_cadre|township_staff|county_operator|"
                "department_staff (bad role)", f[2]);
        const char *dept = c->csv->records[i].n > 5 ? f[5] : "";
        if (role == SJ_ROLE_DEPARTMENT_STAFF) {
            bool found = false;
            int rc = sj_department_code_valid(dept)
                         ? exists_in_db(c, "SELECT 1 FROM department WHERE code = $1", dept,
                                        &found, err)
                         : 0;
            if (rc != 0)
                return rc;
            if (!found)
                bad(c, line, "部门工作人员的部门代码“%s”不存在，请先导入 departments.csv "
                    "(department_staff needs the code of a known department)", dept);
        } else if (dept[0]) {
            bad(c, line, "只有 department_staff 填写部门代码 (only department staff have a "
                "department)");
        }
        if (!sj_orgunit_valid(f[3])) {
            bad(c, line, "所属单位“%s”不是12位区划代码 (org_unit is not a valid code)", f[3]);
        } else {
            if (role != SJ_ROLE_NONE && sj_orgunit_level(f[3]) != role_level(role))
                bad(c, line, "角色 %s 与单位 %s 的级别不符 (role does not match the level of the org unit)",
                    f[2], f[3]);
            bool found;
            int rc = exists_in_db(c, "SELECT 1 FROM org_unit WHERE code = $1", f[3], &found, err);
            if (rc != 0)
                return rc;
            if (!found)
                bad(c, line, "单位 %s 不存在，请先导入 orgunits.csv (org unit not in the database)", f[3]);
        }
        const char *stand_in = c->csv->records[i].n > 6 ? f[6] : "";
        int rc = stand_in[0] ? check_stand_in(c, f, stand_in, role, dept, line, err) : 0;
        if (rc != 0)
            return rc;
        if (is_verifier(f[4])) {
            sj_password_verifier v;
            sj_error e;
            if (sj_password_parse(f[4], &v, &e) != 0)
                bad(c, line, "密码校验值格式不正确 (malformed scrypt verifier): %s", e.message);
        } else if (!f[4][0] || strlen(f[4]) > SJ_PASSWORD_MAX_LEN ||
                   !sj_text_valid(f[4], SJ_PASSWORD_MAX_LEN)) {
            bad(c, line, "密码为空或过长 (password empty or longer than %d bytes)", SJ_PASSWORD_MAX_LEN);
        }
    }
    return 0;
}

/* A stored person keeps their active flag: re-importing last year's file
 * must not let a deactivated person log in again (`sanji-countyd person
 * activate` does that, audited; admin.h). */
static int write_persons(import_ctx *c, sj_error *err)
{
    static const char sql[] =
        "INSERT INTO person (id, name, role, org_unit, verifier, active, department)"
        " VALUES ($1, $2, $3, $4, $5, true, $6)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,"
        " org_unit = excluded.org_unit, verifier = excluded.verifier,"
        " department = excluded.department, updated_at = now()"
        " WHERE (person.name, person.role, person.org_unit, person.verifier,"
        " person.department) IS DISTINCT FROM (excluded.name, excluded.role, excluded.org_unit,"
        " excluded.verifier, excluded.department)";
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        size_t line = c->csv->records[i].line;
        char verifier[SJ_PASSWORD_VERIFIER_SIZE] = "";
        PGresult *res;
        const char *key[] = {f[0]};
        int rc = countyd_db_query(c->db, "SELECT verifier FROM person WHERE id = $1", 1, key, &res,
                                  err);
        if (rc != 0)
            return rc;
        /* Keep a verifier that already matches: re-importing the same file
         * then changes nothing. */
        sj_error ignored;
        if (is_verifier(f[4]))
            snprintf(verifier, sizeof(verifier), "%s", f[4]);
        else if (PQntuples(res) == 1 &&
                 sj_password_verify(f[4], PQgetvalue(res, 0, 0), &ignored) == 0)
            snprintf(verifier, sizeof(verifier), "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (!verifier[0] && (rc = sj_password_make(f[4], verifier, sizeof(verifier), err)) != 0) {
            bad(c, line, "无法生成密码校验值 (cannot make the password verifier): %s", err->message);
            return rc;
        }
        char role[4];
        snprintf(role, sizeof(role), "%d", (int)countyd_refcheck_role(f[2]));
        const char *p[] = {f[0], f[1], role, f[3], verifier,
                           c->csv->records[i].n > 5 ? f[5] : ""};
        if ((rc = upsert(c, line, sql, 6, p, err)) != 0)
            return rc;
    }
    /* AB岗, once every person of the file is in: only with the column, so
     * that a file without it keeps the stand-ins set by person edit. */
    for (size_t i = 1; i < c->csv->n; i++) {
        if (c->csv->records[i].n <= 6)
            break;
        char **f = c->csv->records[i].fields;
        const char *p[] = {f[0], f[6]};
        int rc = upsert(c, c->csv->records[i].line,
                        "UPDATE person SET stand_in = $2, updated_at = now() WHERE id = $1"
                        " AND stand_in <> $2",
                        2, p, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* --- holidays -------------------------------------------------------------- */

static int check_holidays(import_ctx *c, sj_error *err)
{
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        size_t line = c->csv->records[i].line;
        int32_t day;
        sj_error e;
        if (sj_clock_parse_date(f[0], &day, &e) != 0) {
            bad(c, line, "日期“%s”无效，应为 YYYY-MM-DD (bad date)", f[0]);
            continue;
        }
        if (in_file(c, 0, f[0], i))
            bad(c, line, "日期 %s 重复 (date appears twice in the file)", f[0]);
        int wd = sj_clock_weekday(day);
        if (strcmp(f[1], "holiday") == 0) {
            /* A holiday on a weekend is allowed: the files list whole holiday
             * periods as announced. */
        } else if (strcmp(f[1], "workday") == 0) {
            if (wd != 0 && wd != 6)
                bad(c, line, "调休上班日 %s 不是周末 (a make-up working day must be a Saturday or "
                    "Sunday)", f[0]);
        } else {
            bad(c, line, "类型“%s”无效，应为 holiday|workday (bad kind)", f[1]);
        }
        if (f[2][0] && !countyd_refcheck_text(f[2], NAME_MAX_BYTES))
            bad(c, line, "名称无效 (name too long or not plain text)");
    }
    return 0;
}

static int write_holidays(import_ctx *c, sj_error *err)
{
    static const char sql[] =
        "INSERT INTO holiday (day, kind, name) VALUES ($1, $2, $3)"
        " ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name"
        " WHERE (holiday.kind, holiday.name) IS DISTINCT FROM (excluded.kind, excluded.name)";
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        const char *p[] = {f[0], f[1], f[2]};
        int rc = upsert(c, c->csv->records[i].line, sql, 3, p, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* --- departments ------------------------------------------------------------ */

/* code,name,active: the code is the department desk's identity name
 * (identity.h), active is yes or no (no: no new dispatch to it). */
static int check_departments(import_ctx *c, sj_error *err)
{
    (void)err;
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        size_t line = c->csv->records[i].line;
        if (!sj_department_code_valid(f[0]))
            bad(c, line, "部门代码“%s”无效 (code must be 1-31 lower-case letters, digits or '-')",
                f[0]);
        else if (in_file(c, 0, f[0], i))
            bad(c, line, "部门代码 %s 重复 (code appears twice in the file)", f[0]);
        if (!countyd_refcheck_text(f[1], NAME_MAX_BYTES))
            bad(c, line, "部门名称为空或无效 (name empty, too long or not plain text)");
        else if (in_file(c, 1, f[1], i))
            bad(c, line, "部门名称 %s 重复 (name appears twice in the file)", f[1]);
        if (strcmp(f[2], "yes") != 0 && strcmp(f[2], "no") != 0)
            bad(c, line, "是否启用“%s”无效，应为 yes|no (active must be yes or no)", f[2]);
    }
    return 0;
}

static int write_departments(import_ctx *c, sj_error *err)
{
    static const char sql[] =
        "INSERT INTO department (code, name, active) VALUES ($1, $2, $3)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, active = excluded.active,"
        " updated_at = now()"
        " WHERE (department.name, department.active) IS DISTINCT FROM"
        " (excluded.name, excluded.active)";
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        const char *p[] = {f[0], f[1], strcmp(f[2], "yes") == 0 ? "t" : "f"};
        int rc = upsert(c, c->csv->records[i].line, sql, 3, p, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* --- the duty roster ------------------------------------------------------- */

/* org_unit,date,person: who is on duty at a unit on a day. */
static int check_duty(import_ctx *c, sj_error *err)
{
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        size_t line = c->csv->records[i].line;
        char why[512];
        int rc = countyd_refcheck_duty(c->db, f[0], f[1], f[2], why, sizeof(why), err);
        if (rc != 0)
            return rc;
        if (why[0])
            bad(c, line, "%s", why);
        for (size_t k = 1; k < i; k++) {
            char **g = c->csv->records[k].fields;
            if (strcmp(g[0], f[0]) == 0 && strcmp(g[1], f[1]) == 0 && strcmp(g[2], f[2]) == 0)
                bad(c, line, "本行与第 %zu 行重复 (the same as line %zu)",
                    c->csv->records[k].line, c->csv->records[k].line);
        }
    }
    return 0;
}

/* The file is the roster of the days it names: for each unit and day in
 * it, those on duty are exactly the file's (others of that day leave). */
static int write_duty(import_ctx *c, sj_error *err)
{
    for (size_t i = 1; i < c->csv->n; i++) {
        char **f = c->csv->records[i].fields;
        bool first = true;
        for (size_t k = 1; k < i && first; k++)
            first = !(strcmp(c->csv->records[k].fields[0], f[0]) == 0 &&
                      strcmp(c->csv->records[k].fields[1], f[1]) == 0);
        if (first) {
            const char **names = calloc(c->csv->n, sizeof(*names));
            if (!names)
                return sj_error_set(err, SJ_ENOMEM, "out of memory");
            size_t n = 0;
            for (size_t k = i; k < c->csv->n; k++)
                if (strcmp(c->csv->records[k].fields[0], f[0]) == 0 &&
                    strcmp(c->csv->records[k].fields[1], f[1]) == 0)
                    names[n++] = c->csv->records[k].fields[2];
            char *list = NULL;
            int rc = countyd_db_text_array(names, n, &list);
            free(names);
            if (rc != 0)
                return sj_error_set(err, SJ_ENOMEM, "out of memory");
            const char *p[] = {f[0], f[1], list};
            rc = upsert(c, c->csv->records[i].line,
                        "DELETE FROM duty_roster WHERE org_unit = $1 AND day = $2::date"
                        " AND NOT person = ANY($3::text[])",
                        3, p, err);
            free(list);
            if (rc != 0)
                return rc;
        }
        const char *p[] = {f[0], f[1], f[2]};
        int rc = upsert(c, c->csv->records[i].line,
                        "INSERT INTO duty_roster (org_unit, day, person) VALUES ($1, $2::date, $3)"
                        " ON CONFLICT DO NOTHING",
                        3, p, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* --- driver ---------------------------------------------------------------- */

static int check_shape(import_ctx *c, size_t k)
{
    const sj_csv *csv = c->csv;
    if (csv->n == 0) {
        bad(c, 1, "文件为空，应有表头 %s (empty file; expected the header %s)", KINDS[k].header,
            KINDS[k].header);
        return 0;
    }
    char header[256] = "";
    size_t n = 0;
    /* Stop once full: a longer header cannot be the right one, and header + n
     * must stay inside the array. */
    for (size_t i = 0; i < csv->records[0].n && n < sizeof(header); i++) {
        int w = snprintf(header + n, sizeof(header) - n, "%s%s", i ? "," : "",
                         csv->records[0].fields[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    size_t n_cols = KINDS[k].n_cols;
    if (KINDS[k].alt_header && strcmp(header, KINDS[k].alt_header) == 0) {
        n_cols++;
    } else if (KINDS[k].long_header && strcmp(header, KINDS[k].long_header) == 0) {
        n_cols += 2;
    } else if (strcmp(header, KINDS[k].header) != 0) {
        bad(c, csv->records[0].line, "表头应为 %s (header must be exactly %s)", KINDS[k].header,
            KINDS[k].header);
        return 0;
    }
    for (size_t i = 1; i < csv->n; i++)
        if (csv->records[i].n != n_cols)
            bad(c, csv->records[i].line, "应有 %zu 列，实有 %zu 列 (expected %zu fields, found %zu)",
                n_cols, csv->records[i].n, n_cols, csv->records[i].n);
    return 0;
}

static void rollback(PGconn *db)
{
    sj_error ignored;
    (void)countyd_db_exec(db, "ROLLBACK", 0, NULL, &ignored);
}

int countyd_import_file(PGconn *db, countyd_import_kind kind, const char *path, FILE *report,
                        size_t *changed, sj_error *err)
{
    size_t k = 0;
    while (k < N_KINDS && KINDS[k].kind != kind)
        k++;
    if (k == N_KINDS)
        return sj_error_set(err, SJ_EINVAL, "unknown import kind %d", (int)kind);
    if (changed)
        *changed = 0;
    sj_csv csv;
    int rc = sj_csv_read(path, &csv, err);
    if (rc != 0) {
        if (report)
            fprintf(report, "%s\n", err->message);
        return rc;
    }
    import_ctx c = {.db = db, .path = path, .report = report, .csv = &csv};
    static int (*const check[])(import_ctx *, sj_error *) = {
        [COUNTYD_IMPORT_ORGUNITS] = check_orgunits, [COUNTYD_IMPORT_CATEGORIES] = check_categories,
        [COUNTYD_IMPORT_CATALOGUE] = check_catalogue, [COUNTYD_IMPORT_PERSONS] = check_persons,
        [COUNTYD_IMPORT_HOLIDAYS] = check_holidays,
        [COUNTYD_IMPORT_DEPARTMENTS] = check_departments, [COUNTYD_IMPORT_DUTY] = check_duty};
    static int (*const write[])(import_ctx *, sj_error *) = {
        [COUNTYD_IMPORT_ORGUNITS] = write_orgunits, [COUNTYD_IMPORT_CATEGORIES] = write_categories,
        [COUNTYD_IMPORT_CATALOGUE] = write_catalogue, [COUNTYD_IMPORT_PERSONS] = write_persons,
        [COUNTYD_IMPORT_HOLIDAYS] = write_holidays,
        [COUNTYD_IMPORT_DEPARTMENTS] = write_departments, [COUNTYD_IMPORT_DUTY] = write_duty};
    static const char *const refname[] = {
        [COUNTYD_IMPORT_ORGUNITS] = "org_tree", [COUNTYD_IMPORT_CATEGORIES] = "catalogue",
        [COUNTYD_IMPORT_CATALOGUE] = "catalogue", [COUNTYD_IMPORT_PERSONS] = "person",
        [COUNTYD_IMPORT_HOLIDAYS] = NULL, [COUNTYD_IMPORT_DEPARTMENTS] = "org_tree",
        [COUNTYD_IMPORT_DUTY] = "duty"};

    if ((rc = countyd_db_exec(db, "BEGIN", 0, NULL, err)) != 0)
        goto out;
    check_shape(&c, k);
    bool any = false;
    if ((rc = exists_in_db(&c, "SELECT 1 FROM department WHERE $1 <> '' LIMIT 1", "x", &any,
                           err)) != 0)
        goto fail;
    c.have_departments = any;
    if (c.n_bad == 0 && (rc = check[kind](&c, err)) != 0)
        goto fail;
    if (c.n_bad > 0) {
        rc = sj_error_set(err, SJ_EINVAL, "%s: %zu 处错误，未导入任何数据 (%zu bad rows or fields; "
                          "nothing imported)", path, c.n_bad, c.n_bad);
        goto fail;
    }
    if ((rc = write[kind](&c, err)) != 0)
        goto fail;
    if (c.changed > 0 && refname[kind]) {
        const char *p[] = {refname[kind]};
        if ((rc = countyd_db_exec(db, "UPDATE reference_version SET version = version + 1"
                                      " WHERE name = $1", 1, p, err)) != 0)
            goto fail;
    }
    /* The audit of administration (admin.h) counts bulk changes too: who
     * imported which file and how many rows it changed. */
    if (c.changed > 0) {
        char op[COUNTYD_ADMIN_OPERATOR_SIZE], command[32], rows[64];
        countyd_admin_operator(NULL, op);
        snprintf(command, sizeof(command), "import %s", KINDS[k].name);
        snprintf(rows, sizeof(rows), "%zu rows changed", c.changed);
        const char *p[] = {op, command, path, rows};
        if ((rc = countyd_db_exec(db, "INSERT INTO admin_audit (operator, command, target,"
                                      " new_value) VALUES ($1, $2, $3, $4)", 4, p, err)) != 0)
            goto fail;
    }
    if ((rc = countyd_db_exec(db, "COMMIT", 0, NULL, err)) != 0)
        goto fail;
    if (changed)
        *changed = c.changed;
    goto out;
fail:
    rollback(db);
out:
    sj_csv_free(&csv);
    return rc;
}

int countyd_import_demo(PGconn *db, const char *dir, FILE *report, sj_error *err)
{
    static const struct {
        countyd_import_kind kind;
        const char *file;
        bool optional;
    } order[] = {
        {COUNTYD_IMPORT_ORGUNITS, "orgunits.csv", false},
        {COUNTYD_IMPORT_DEPARTMENTS, "departments.csv", true},
        {COUNTYD_IMPORT_CATEGORIES, "catalogue_categories.csv", false},
        {COUNTYD_IMPORT_CATALOGUE, "catalogue.csv", false},
        {COUNTYD_IMPORT_PERSONS, "persons.csv", false},
        {COUNTYD_IMPORT_PERSONS, "department_staff.csv", true},
        {COUNTYD_IMPORT_HOLIDAYS, "holidays.csv", true},
    };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, order[i].file) >= sizeof(path))
            return sj_error_set(err, SJ_EINVAL, "%s: path too long", dir);
        struct stat st;
        if (order[i].optional && stat(path, &st) != 0 && errno == ENOENT)
            continue;
        size_t changed = 0;
        int rc = countyd_import_file(db, order[i].kind, path, report, &changed, err);
        if (rc != 0)
            return rc;
        if (report)
            fprintf(report, "%s: 导入完成，%zu 行有变化 (imported; %zu rows changed)\n", path, changed,
                    changed);
    }
    return 0;
}

/* --- after a holiday import ---------------------------------------------------- */

int countyd_import_calendar_report(PGconn *db, FILE *report, sj_error *err)
{
    sj_calendar *cal;
    int rc = countyd_calendar_read(db, &cal, err);
    if (rc != 0)
        return rc;
    /* Which years the calendar now holds, and the one still missing. */
    char years[256] = "";
    size_t k = 0;
    for (int y = 1970; y <= 9999 && k + 8 < sizeof(years); y++)
        if (sj_calendar_covers_year(cal, y))
            k += (size_t)snprintf(years + k, sizeof(years) - k, "%s%d", k ? ", " : "", y);
    fprintf(report, "日历已有节假日安排的年份 (years the calendar covers): %s\n",
            k ? years : "无 (none)");
    fprintf(report, "县服务器将在下次督办扫描时（未运行时在启动时）重算在办事项的办结期限 (the county "
            "server recomputes open cases' due times at its next sweep, or at its start)\n");
    int missing = sj_calendar_missing_next_year(cal, sj_clock_real_ms());
    if (missing)
        fprintf(report, "注意：尚未导入 %d 年的节假日安排 (the %d holiday arrangement is not "
                "loaded yet)\n", missing, missing);
    sj_calendar_free(cal);
    return 0;
}
