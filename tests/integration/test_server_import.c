/*
 * test_server_import.c - `sanji-countyd import` / `demo-load` against a real
 * PostgreSQL 15: the demo files load, re-importing changes nothing, and bad
 * files are refused whole with every problem reported as FILE:LINE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "import.h"
#include "migrate.h"
#include "password.h"
#include "pg_test.h"

typedef struct fx {
    PGconn *db;
    char conninfo[1024];
    char dir[256];
} fx;

static int setup(void **state)
{
    static int n;
    fx *f = calloc(1, sizeof(*f));
    char name[64];
    snprintf(name, sizeof(name), "t_import_%d_%d", (int)getpid(), ++n);
    f->db = pgt_fresh_db(name, f->conninfo, sizeof(f->conninfo));
    sj_error err;
    if (countyd_migrate(f->db, NULL, NULL, &err) != 0)
        fail_msg("migrate: %s", err.message);
    snprintf(f->dir, sizeof(f->dir), "/tmp/sanji-import-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    PQfinish(f->db);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Imports text as a file of `kind`; returns the code, the report in *out. */
static int import_text(fx *f, countyd_import_kind kind, const char *text, char **report,
                       size_t *changed, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s.csv", f->dir, countyd_import_kind_name(kind));
    write_file(path, text);
    size_t len;
    FILE *mem = open_memstream(report, &len);
    sj_error err;
    sj_error_clear(&err);
    int rc = countyd_import_file(f->db, kind, path, mem, changed, &err);
    fclose(mem);
    return rc;
}

static void import_ok(fx *f, countyd_import_kind kind, const char *text)
{
    char *report, path[512];
    size_t changed;
    int rc = import_text(f, kind, text, &report, &changed, path, sizeof(path));
    if (rc != 0)
        fail_msg("import %s failed (%d): %s", countyd_import_kind_name(kind), rc, report);
    free(report);
}

static const char ORG[] = "code,name,level,parent\n"
                          "410423000000,鲁山县,county,\n"
                          "410423101000,张官营镇,township,410423000000\n"
                          "410423101201,前营村,village,410423101000\n"
                          "410423102000,\"下汤镇, 西\",township,410423000000\n";

static void test_orgunits_import_and_reimport_is_harmless(void **state)
{
    fx *f = *state;
    char *report, path[512];
    size_t changed = 0;
    assert_int_equal(import_text(f, COUNTYD_IMPORT_ORGUNITS, ORG, &report, &changed, path,
                                 sizeof(path)), 0);
    free(report);
    assert_int_equal(changed, 4);
    assert_int_equal(pgt_count(f->db, "org_unit"), 4);
    assert_int_equal(pgt_count(f->db, "org_unit WHERE name = '下汤镇, 西'"), 1);
    char *v1 = pgt_scalar(f->db, "SELECT version FROM reference_version WHERE name = 'org_tree'");
    assert_int_equal(import_text(f, COUNTYD_IMPORT_ORGUNITS, ORG, &report, &changed, path,
                                 sizeof(path)), 0);
    free(report);
    assert_int_equal(changed, 0);
    char *v2 = pgt_scalar(f->db, "SELECT version FROM reference_version WHERE name = 'org_tree'");
    assert_string_equal(v1, v2);
    free(v1);
    free(v2);
    assert_int_equal(pgt_count(f->db, "org_unit"), 4);
}

/* Departments (docs/DATA.md "Departments"): imported once, again harmlessly;
 * they raise the org tree's version; the catalogue then names them (a typo
 * is refused); department staff name theirs; bad rows are refused whole. */
static void test_departments_import(void **state)
{
    fx *f = *state;
    import_ok(f, COUNTYD_IMPORT_ORGUNITS, ORG);
    char *v1 = pgt_scalar(f->db, "SELECT version FROM reference_version WHERE name = 'org_tree'");
    static const char DEPTS[] = "code,name,active\n"
                                "mzj,县民政局,yes\n"
                                "rsj,县人社局,yes\n"
                                "lgj,县老干局,no\n";
    char *report, path[512];
    size_t changed = 0;
    assert_int_equal(import_text(f, COUNTYD_IMPORT_DEPARTMENTS, DEPTS, &report, &changed, path,
                                 sizeof(path)), 0);
    free(report);
    assert_int_equal(changed, 3);
    assert_int_equal(pgt_count(f->db, "department WHERE active"), 2);
    char *v2 = pgt_scalar(f->db, "SELECT version FROM reference_version WHERE name = 'org_tree'");
    assert_string_not_equal(v1, v2);
    assert_int_equal(import_text(f, COUNTYD_IMPORT_DEPARTMENTS, DEPTS, &report, &changed, path,
                                 sizeof(path)), 0);
    free(report);
    assert_int_equal(changed, 0);
    free(v1);
    free(v2);

    /* Bad rows: nothing imported, each one reported. */
    assert_int_equal(import_text(f, COUNTYD_IMPORT_DEPARTMENTS,
                                 "code,name,active\nMZJ,县民政局二,yes\nybj,县民政局,yes\n"
                                 "ybj,县医保局,maybe\n",
                                 &report, &changed, path, sizeof(path)),
                     SJ_EINVAL);
    assert_non_null(strstr(report, ":2: 部门代码“MZJ”无效"));
    assert_non_null(strstr(report, ":4: 部门代码 ybj 重复"));
    assert_non_null(strstr(report, ":4: 是否启用“maybe”无效"));
    free(report);
    assert_int_equal(pgt_count(f->db, "department"), 3);

    /* The catalogue names known departments only, once there are any. */
    import_ok(f, COUNTYD_IMPORT_CATEGORIES, "code,name\nMZ,民政救助\n");
    assert_int_equal(import_text(f, COUNTYD_IMPORT_CATALOGUE,
                                 "code,category,name,min_level,department,limit_days,"
                                 "urgent_limit_days,materials\n"
                                 "MZ-003,MZ,城乡低保申请,county,县民正局,30,10,身份证\n",
                                 &report, &changed, path, sizeof(path)),
                     SJ_EINVAL);
    assert_non_null(strstr(report, ":2: 责任部门“县民正局”不在部门表中"));
    free(report);
    import_ok(f, COUNTYD_IMPORT_CATALOGUE,
              "code,category,name,min_level,department,limit_days,urgent_limit_days,materials\n"
              "MZ-003,MZ,城乡低保申请,county,县民政局,30,10,身份证\n");

    /* Department staff: the county's unit and a known department code. */
    assert_int_equal(import_text(f, COUNTYD_IMPORT_PERSONS,
                                 "id,name,role,org_unit,password,department\n"
                                 "d-1,民政甲,department_staff,410423000000,pw1,xyz\n"
                                 "d-2,民政乙,department_staff,410423000000,pw2,\n"
                                 "c-1,县员,county_operator,410423000000,pw3,mzj\n",
                                 &report, &changed, path, sizeof(path)),
                     SJ_EINVAL);
    assert_non_null(strstr(report, ":2: 部门工作人员的部门代码“xyz”不存在"));
    assert_non_null(strstr(report, ":3: 部门工作人员的部门代码“”不存在"));
    assert_non_null(strstr(report, ":4: 只有 department_staff 填写部门代码"));
    free(report);
    import_ok(f, COUNTYD_IMPORT_PERSONS,
              "id,name,role,org_unit,password,department\n"
              "d-1,民政甲,department_staff,410423000000,pw1,mzj\n"
              "c-1,县员,county_operator,410423000000,pw3,\n");
    assert_int_equal(pgt_count(f->db, "person WHERE role = 4 AND department = 'mzj'"), 1);
    assert_int_equal(pgt_count(f->db, "person WHERE role = 3 AND department = ''"), 1);
}

/* A bad file: every listed problem is reported at its line, and nothing of
 * the file is imported. */
typedef struct bad_case {
    countyd_import_kind kind;
    const char *text;
    const char *expect[4]; /* ":LINE: <substring>" fragments, all required */
} bad_case;

static const bad_case BAD[] = {
    {COUNTYD_IMPORT_ORGUNITS,
     "code,name,level,parent\n"
     "410423000000,鲁山县,county,\n"
     "41042310100,短码,township,410423000000\n"       /* 11 digits */
     "410423103000,下汤镇,village,410423000000\n"     /* level does not match code */
     "410423104201,某村,village,410423105000\n",      /* wrong parent */
     {":3: ", ":4: ", ":5: ", NULL}},
    {COUNTYD_IMPORT_ORGUNITS,
     "code,name,level,parent\n"
     "410423109201,某村,village,410423109000\n",       /* parent missing everywhere */
     {":2: ", NULL}},
    {COUNTYD_IMPORT_ORGUNITS, "code,name,level\n410423000000,鲁山县,county\n", {":1: ", NULL}},
    {COUNTYD_IMPORT_ORGUNITS,
     "code,name,level,parent\n410423000000,鲁山县,county,\n410423000000,again,county,\n",
     {":3: ", NULL}},
    {COUNTYD_IMPORT_ORGUNITS,
     "code,name,level,parent\n410423000000,\"unclosed,county,\n", {":2: ", NULL}},
    {COUNTYD_IMPORT_CATALOGUE,
     "code,category,name,min_level,department,limit_days,urgent_limit_days,materials\n"
     "MZ-001,NOPE,咨询,village,县民政局,5,0,身份证\n"      /* unknown category */
     "MZ-002,MZ,咨询,city,县民政局,5,0,身份证\n"           /* bad level */
     "MZ-003,MZ,咨询,village,县民政局,0,0,身份证\n"        /* limit 0 */
     "MZ-004,MZ,咨询,village,县民政局,5,9,身份证||户口簿\n", /* urgent > limit, empty item */
     {":2: ", ":3: ", ":4: ", ":5: "}},
    {COUNTYD_IMPORT_PERSONS,
     "id,name,role,org_unit,password\n"
     "p-1,张三,village_cadre,410423101000,pw\n"       /* role/level mismatch */
     "p-2,李四,mayor,410423101201,pw\n"               /* bad role */
     "p-3,王五,village_cadre,410423101299,pw\n"       /* unit not in database */
     "p-4,赵六,village_cadre,410423101201,\n",        /* empty password */
     {":2: ", ":3: ", ":4: ", ":5: "}},
    {COUNTYD_IMPORT_PERSONS,
     "id,name,role,org_unit,password\n"
     "p-5,钱七,village_cadre,410423101201,scrypt$16384$8$1$00ff$zz\n", /* malformed verifier */
     {":2: ", NULL}},
    {COUNTYD_IMPORT_HOLIDAYS,
     "date,kind,name\n"
     "2026-02-30,holiday,春节\n"                      /* no such date */
     "2026-02-16,vacation,春节\n"                     /* bad kind */
     "2026-02-17,workday,调休\n",                     /* a Tuesday is no make-up day */
     {":2: ", ":3: ", ":4: ", NULL}},
};

static void test_bad_files_refused_whole(void **state)
{
    fx *f = *state;
    import_ok(f, COUNTYD_IMPORT_ORGUNITS, ORG);
    import_ok(f, COUNTYD_IMPORT_CATEGORIES, "code,name\nMZ,民政救助\n");
    const char *tables[] = {"org_unit", "catalogue_item", "person", "holiday"};
    long before[4];
    for (int t = 0; t < 4; t++)
        before[t] = pgt_count(f->db, tables[t]);
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        char *report, path[512];
        size_t changed = 99;
        int rc = import_text(f, BAD[i].kind, BAD[i].text, &report, &changed, path, sizeof(path));
        if (rc == 0)
            fail_msg("bad file %zu was imported", i);
        for (int k = 0; k < 4 && BAD[i].expect[k]; k++) {
            char want[600];
            snprintf(want, sizeof(want), "%s%s", path, BAD[i].expect[k]);
            if (!strstr(report, want))
                fail_msg("bad file %zu: report lacks \"%s\":\n%s", i, want, report);
        }
        free(report);
        for (int t = 0; t < 4; t++)
            if (pgt_count(f->db, tables[t]) != before[t])
                fail_msg("bad file %zu changed table %s", i, tables[t]);
    }
}

static void test_person_verifier_is_scrypt(void **state)
{
    fx *f = *state;
    import_ok(f, COUNTYD_IMPORT_ORGUNITS, ORG);
    import_ok(f, COUNTYD_IMPORT_PERSONS,
              "id,name,role,org_unit,password\np-1,张三,village_cadre,410423101201,\"pw,'x\"\n");
    char *v = pgt_scalar(f->db, "SELECT verifier FROM person WHERE id = 'p-1'");
    assert_non_null(v);
    assert_null(strstr(v, "pw,'x"));
    sj_error err;
    assert_int_equal(sj_password_verify("pw,'x", v, &err), 0);
    assert_int_equal(sj_password_verify("wrong", v, &err), SJ_EAUTH);
    /* Re-import keeps the verifier (nothing changes). */
    char *report, path[512];
    size_t changed = 9;
    assert_int_equal(import_text(f, COUNTYD_IMPORT_PERSONS,
                                 "id,name,role,org_unit,password\n"
                                 "p-1,张三,village_cadre,410423101201,\"pw,'x\"\n",
                                 &report, &changed, path, sizeof(path)), 0);
    free(report);
    assert_int_equal(changed, 0);
    char *v2 = pgt_scalar(f->db, "SELECT verifier FROM person WHERE id = 'p-1'");
    assert_string_equal(v, v2);
    /* A ready verifier in the password column is stored as it is. */
    char text[600];
    snprintf(text, sizeof(text), "id,name,role,org_unit,password\np-2,李四,village_cadre,410423101201,%s\n",
             v);
    import_ok(f, COUNTYD_IMPORT_PERSONS, text);
    char *v3 = pgt_scalar(f->db, "SELECT verifier FROM person WHERE id = 'p-2'");
    assert_string_equal(v3, v);
    assert_int_equal(sj_password_verify("pw,'x", v3, &err), 0);
    free(v);
    free(v2);
    free(v3);
}

static void test_demo_files_load(void **state)
{
    fx *f = *state;
    char dir[1024];
    const char *src = getenv("SANJI_SOURCE_DIR");
    snprintf(dir, sizeof(dir), "%s/deploy/demo", src ? src : ".");
    char probe[1100];
    snprintf(probe, sizeof(probe), "%s/orgunits.csv", dir);
    if (access(probe, R_OK) != 0)
        fail_msg("cannot read %s (is SANJI_SOURCE_DIR the source tree?)", probe);
    char *report;
    size_t len;
    FILE *mem = open_memstream(&report, &len);
    sj_error err;
    sj_error_clear(&err);
    int rc = countyd_import_demo(f->db, dir, mem, &err);
    fclose(mem);
    if (rc != 0)
        fail_msg("demo-load: %s\n%s", err.message, report);
    free(report);
    assert_true(pgt_count(f->db, "org_unit WHERE level = 3") >= 1);
    assert_true(pgt_count(f->db, "org_unit WHERE level = 1") > 100);
    assert_true(pgt_count(f->db, "catalogue_item") > 10);
    assert_true(pgt_count(f->db, "person") > 10);
    assert_int_equal(pgt_count(f->db, "person WHERE verifier NOT LIKE 'scrypt$%'"), 0);
    /* Loading again is harmless: no row changes. */
    long orgs = pgt_count(f->db, "org_unit");
    char *v = pgt_scalar(f->db, "SELECT string_agg(version::text, ',' ORDER BY name)"
                                " FROM reference_version");
    mem = open_memstream(&report, &len);
    rc = countyd_import_demo(f->db, dir, mem, &err);
    fclose(mem);
    if (rc != 0 || strstr(report, "imported; 0 rows changed") == NULL)
        print_message("second demo-load:\n%s\n", report);
    free(report);
    assert_int_equal(rc, 0);
    char *v2 = pgt_scalar(f->db, "SELECT string_agg(version::text, ',' ORDER BY name)"
                                 " FROM reference_version");
    assert_string_equal(v, v2);
    assert_int_equal(pgt_count(f->db, "org_unit"), orgs);
    free(v);
    free(v2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_orgunits_import_and_reimport_is_harmless, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_files_refused_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_departments_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_person_verifier_is_scrypt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_files_load, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
