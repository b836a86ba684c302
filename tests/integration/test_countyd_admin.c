/*
 * test_countyd_admin.c - administration through turnover with the real
 * `sanji-countyd` binary against a real PostgreSQL 15 (docs/SERVER.md
 * "Administration"): persons deactivated, reactivated, added, edited and
 * their passwords reset; catalogue items retired and restored; departments
 * added, renamed (their items follow) and deactivated; the open cases a
 * person leaves behind; and for every change its audit row (operator,
 * command, old and new values, never the password) and the reference
 * version it raises.  A change that changes nothing writes no audit row.
 *
 * The tests share one database loaded with the demo county and run in
 * order.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "password.h"
#include "pg_test.h"

#define VA "410423101201"
#define PA "p-410423101201-01"
#define PB "p-410423101201-02"

static PGconn *db;
static char conninfo[512];

/* Runs sanji-countyd with args (a shell fragment), stdin from `input`
 * (NULL: /dev/null); *out (malloc'ed) gets stdout and stderr.  Returns the
 * exit status. */
static int countyd(const char *input, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int countyd(const char *input, char **out, const char *fmt, ...)
{
    char args[2048], cmd[4096], in[] = "/tmp/sj_admin_inXXXXXX";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    const char *bin = getenv("SANJI_BUILD_DIR");
    if (input) {
        int fd = mkstemp(in);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, input, strlen(input)), (ssize_t)strlen(input));
        close(fd);
    }
    snprintf(cmd, sizeof(cmd), "%s/server/sanji-countyd --database '%s' %s < %s 2>&1",
             bin ? bin : ".", conninfo, args, input ? in : "/dev/null");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t k;
    while ((k = fread(buf + n, 1, cap - 1 - n, p)) > 0)
        n += k;
    buf[n] = '\0';
    int st = pclose(p);
    if (input)
        unlink(in);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long version(const char *name)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT version FROM reference_version WHERE name = '%s'", name);
    char *v = pgt_scalar(db, sql);
    long n = strtol(v, NULL, 10);
    free(v);
    return n;
}

static char *scalar(const char *sql)
{
    char *v = pgt_scalar(db, sql);
    assert_non_null(v);
    return v;
}

static void expect_scalar(const char *sql, const char *want)
{
    char *v = scalar(sql);
    if (strcmp(v, want) != 0)
        fail_msg("%s: got “%s”, want “%s”", sql, v, want);
    free(v);
}

/* The last audit row is (operator, command, target, old, new). */
static void expect_last_audit(const char *op, const char *command, const char *target,
                              const char *old_value, const char *new_value)
{
    char want[2048];
    snprintf(want, sizeof(want), "%s|%s|%s|%s|%s", op, command, target, old_value, new_value);
    expect_scalar("SELECT operator || '|' || command || '|' || target || '|' || old_value || '|' ||"
                  " new_value FROM admin_audit ORDER BY id DESC LIMIT 1", want);
}

static void must(int status, char *out, int want)
{
    if (status != want)
        fail_msg("exit status %d, want %d:\n%s", status, want, out);
}

/* Runs sanji-countyd into `out` (in scope) and checks its exit status. */
#define RUN(want, input, ...)                                                                    \
    do {                                                                                         \
        int st_ = countyd(input, &out, __VA_ARGS__);                                             \
        must(st_, out, want);                                                                    \
    } while (0)

static int group_setup(void **state)
{
    (void)state;
    db = pgt_fresh_db("sanji_test_countyd_admin", conninfo, sizeof(conninfo));
    char *out;
    const char *src = getenv("SANJI_SOURCE_DIR");
    int st = countyd(NULL, &out, "migrate");
    if (st != 0) {
        fprintf(stderr, "%s", out);
        free(out);
        return -1;
    }
    free(out);
    st = countyd(NULL, &out, "demo-load '%s/deploy/demo'", src ? src : ".");
    if (st != 0)
        fprintf(stderr, "%s", out);
    free(out);
    return st == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    PQfinish(db);
    return 0;
}

static void test_deactivate_and_activate_person(void **state)
{
    (void)state;
    long v0 = version("person");
    char *out;
    RUN(0, NULL, "--by 张科长 person deactivate " PA);
    assert_non_null(strstr(out, "已修改"));
    free(out);
    expect_scalar("SELECT active::text FROM person WHERE id = '" PA "'", "false");
    assert_int_equal(version("person"), v0 + 1);
    expect_last_audit("张科长", "person deactivate", PA, "active=yes", "active=no");
    /* Re-importing the persons file does not let them in again; the
     * import is audited too. */
    char csv[] = "/tmp/sj_admin_csvXXXXXX";
    int fd = mkstemp(csv);
    assert_true(fd >= 0);
    close(fd);
    const char *src = getenv("SANJI_SOURCE_DIR");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "(head -1 '%s/deploy/demo/persons.csv'; grep '^" PA ",'"
             " '%s/deploy/demo/persons.csv' | sed 's/,常刚,/,常刚二,/') > %s",
             src ? src : ".", src ? src : ".", csv);
    assert_int_equal(system(cmd), 0);
    RUN(0, NULL, "import persons %s", csv);
    free(out);
    unlink(csv);
    expect_scalar("SELECT name || ' ' || active::text FROM person WHERE id = '" PA "'",
                  "常刚二 false");
    expect_scalar("SELECT command || ' ' || new_value FROM admin_audit ORDER BY id DESC LIMIT 1",
                  "import persons 1 rows changed");
    pgt_exec(db, "UPDATE person SET name = '常刚' WHERE id = '" PA "'");
    v0++; /* the import changed a row */
    long n = pgt_count(db, "admin_audit");
    /* Again: nothing changes, no audit row, no new version. */
    RUN(0, NULL, "--by 张科长 person deactivate " PA);
    assert_non_null(strstr(out, "无变化"));
    free(out);
    assert_int_equal(pgt_count(db, "admin_audit"), n);
    assert_int_equal(version("person"), v0 + 1);
    /* Without --by the Unix user is the operator. */
    RUN(0, NULL, "person activate " PA);
    free(out);
    expect_scalar("SELECT active::text FROM person WHERE id = '" PA "'", "true");
    assert_int_equal(version("person"), v0 + 2);
    expect_scalar("SELECT (operator <> '')::text FROM admin_audit ORDER BY id DESC LIMIT 1",
                  "true");
    /* An unknown person: a clear error, nothing written. */
    n = pgt_count(db, "admin_audit");
    RUN(1, NULL, "person deactivate p-nobody");
    assert_non_null(strstr(out, "不存在"));
    free(out);
    assert_int_equal(pgt_count(db, "admin_audit"), n);
}

static void test_reset_password(void **state)
{
    (void)state;
    char *out;
    sj_error err;
    long v0 = version("person");
    RUN(0, "新的密码-1\n", "--by 张科长 person reset-password " PB " --password-stdin");
    free(out);
    char *v = scalar("SELECT verifier FROM person WHERE id = '" PB "'");
    assert_int_equal(sj_password_verify("新的密码-1", v, &err), 0);
    free(v);
    expect_scalar("SELECT must_change_password::text FROM person WHERE id = '" PB "'", "true");
    assert_int_equal(version("person"), v0 + 1);
    expect_last_audit("张科长", "person reset-password", PB, "",
                      "password reset; must change at next login");
    /* Generated: printed once, and it is the stored one. */
    RUN(0, NULL, "person reset-password " PB);
    const char *at = strstr(out, "(one-time password): ");
    assert_non_null(at);
    char pass[64];
    assert_int_equal(sscanf(at + strlen("(one-time password): "), "%63s", pass), 1);
    free(out);
    v = scalar("SELECT verifier FROM person WHERE id = '" PB "'");
    assert_int_equal(sj_password_verify(pass, v, &err), 0);
    free(v);
    /* Never the password in the audit. */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "admin_audit WHERE old_value LIKE '%%%s%%' OR new_value LIKE '%%%s%%'"
             " OR new_value LIKE '%%新的密码%%' OR new_value LIKE '%%scrypt%%'",
             pass, pass);
    assert_int_equal(pgt_count(db, sql), 0);
}

static void test_add_and_edit_person(void **state)
{
    (void)state;
    char *out;
    sj_error err;
    long n = pgt_count(db, "admin_audit");
    /* A township role in a village: refused, nothing stored. */
    RUN(1, "pw-1\n", "person add p-new-01 --name 李新 --role township_staff --unit " VA
                 " --password-stdin");
    assert_non_null(strstr(out, "级别不符"));
    free(out);
    assert_int_equal(pgt_count(db, "person WHERE id = 'p-new-01'"), 0);
    assert_int_equal(pgt_count(db, "admin_audit"), n);
    long v0 = version("person");
    RUN(0, "pw-1\n", "--by 张科长 person add p-new-01 --name 李新 --role village_cadre"
                 " --unit " VA " --password-stdin");
    free(out);
    expect_scalar("SELECT name || role || org_unit || active::text || must_change_password::text"
                  " FROM person WHERE id = 'p-new-01'", "李新1" VA "truetrue");
    char *v = scalar("SELECT verifier FROM person WHERE id = 'p-new-01'");
    assert_int_equal(sj_password_verify("pw-1", v, &err), 0);
    free(v);
    assert_int_equal(version("person"), v0 + 1);
    expect_last_audit("张科长", "person add", "p-new-01", "",
                      "name=李新 role=village_cadre unit=" VA " department= active=yes");
    /* An id the files would refuse is refused here too. */
    RUN(1, "pw-1\n", "person add 'p new' --name 李新 --role village_cadre --unit " VA
        " --password-stdin");
    assert_non_null(strstr(out, "人员编号"));
    free(out);
    /* The same id again is refused. */
    RUN(1, "pw-1\n", "person add p-new-01 --name 李新 --role village_cadre --unit " VA
                 " --password-stdin");
    assert_non_null(strstr(out, "已存在"));
    free(out);
    /* Edit: the name only. */
    RUN(0, NULL, "--by 张科长 person edit p-new-01 --name 李新民");
    free(out);
    expect_scalar("SELECT name FROM person WHERE id = 'p-new-01'", "李新民");
    expect_last_audit("张科长", "person edit", "p-new-01",
                      "name=李新 role=village_cadre unit=" VA " department= active=yes stand_in=",
                      "name=李新民 role=village_cadre unit=" VA " department= active=yes stand_in=");
    /* Into department work: needs a known department. */
    RUN(1, NULL, "person edit p-new-01 --role department_staff --unit 410423000000");
    assert_non_null(strstr(out, "--department"));
    free(out);
    RUN(0, NULL, "--by 张科长 person edit p-new-01 --role department_staff"
                 " --unit 410423000000 --department mzj");
    free(out);
    expect_scalar("SELECT role || department FROM person WHERE id = 'p-new-01'", "4mzj");
    assert_int_equal(version("person"), v0 + 3);
}

static void test_person_cases(void **state)
{
    (void)state;
    /* Two open cases received by PA, one closed; PA's unit has PB too, so
     * only what PA received first is listed. */
    static const char ins[] =
        "INSERT INTO cases (case_id, number, village, item_code, item_name, item_min_level,"
        " applicant_name, applicant_id_number, applicant_phone, request_text, first_receiver,"
        " first_receiver_name, holder_level, holder_unit, status, version, registered_at_ms,"
        " due_at_ms, updated_at_ms) SELECT gen_random_uuid(), n, '" VA "', 'MZ-001', '社会救助政策咨询',"
        " 1, '张三', '410423199001011234', '13800000000', '咨询', '" PA "', '常刚', 1, '" VA "',"
        " s, 1, 0, 0, 0 FROM (VALUES ('N-1', 1), ('N-2', 2), ('N-3', 10)) AS t(n, s)";
    pgt_exec(db, ins);
    char *out;
    RUN(0, NULL, "person cases " PA);
    assert_non_null(strstr(out, "N-1\t"));
    assert_non_null(strstr(out, "N-2\t"));
    assert_null(strstr(out, "N-3\t"));
    assert_non_null(strstr(out, "2 件"));
    free(out);
    /* PB received none, and PA is there to take the unit's cases. */
    RUN(0, NULL, "person cases " PB);
    assert_non_null(strstr(out, "0 件"));
    free(out);
    /* With PA deactivated, PB is alone: the unit's open cases are listed. */
    RUN(0, NULL, "person deactivate " PA);
    free(out);
    RUN(0, NULL, "person cases " PB);
    assert_non_null(strstr(out, "N-1\t"));
    assert_non_null(strstr(out, "本单位无人接替"));
    free(out);
    RUN(0, NULL, "person activate " PA);
    free(out);
}

/* AB岗: a stand-in of the same unit and role, audited like every edit,
 * sent to the stations with the person list; moving unit drops it.  And
 * persons.csv with a stand_in column sets it. */
static void test_stand_in(void **state)
{
    (void)state;
    char *out;
    long v0 = version("person");
    RUN(1, NULL, "person edit " PA " --stand-in " PA);
    assert_non_null(strstr(out, "自己"));
    free(out);
    RUN(1, NULL, "person edit " PA " --stand-in p-410423000000-01"); /* a county operator */
    assert_non_null(strstr(out, "同一单位"));
    free(out);
    RUN(1, NULL, "person edit " PA " --stand-in nobody");
    free(out);
    assert_int_equal(version("person"), v0);
    RUN(0, NULL, "--by 张科长 person edit " PA " --stand-in " PB);
    free(out);
    expect_scalar("SELECT stand_in FROM person WHERE id = '" PA "'", PB);
    expect_last_audit("张科长", "person edit", PA,
                      "name=常刚 role=village_cadre unit=" VA " department= active=yes stand_in=",
                      "name=常刚 role=village_cadre unit=" VA " department= active=yes stand_in=" PB);
    assert_int_equal(version("person"), v0 + 1);
    /* A deactivated colleague is no stand-in. */
    RUN(0, NULL, "person deactivate " PB);
    free(out);
    RUN(1, NULL, "person edit " PA " --stand-in " PB);
    free(out);
    RUN(0, NULL, "person activate " PB);
    free(out);
    /* Cleared. */
    RUN(0, NULL, "person edit " PA " --stand-in ''");
    free(out);
    expect_scalar("SELECT stand_in FROM person WHERE id = '" PA "'", "");
    /* persons.csv with the column: set from the file; a stand-in of another
     * unit is refused with the line, nothing written. */
    char *verifier = scalar("SELECT verifier FROM person WHERE id = '" PA "'");
    char file[2048], path[] = "/tmp/sj_admin_personsXXXXXX";
    snprintf(file, sizeof(file),
             "id,name,role,org_unit,password,department,stand_in\n"
             "" PA ",常刚,village_cadre," VA ",%s,,p-410423000000-01\n", verifier);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, file, strlen(file)), (ssize_t)strlen(file));
    close(fd);
    RUN(1, NULL, "import persons %s", path);
    assert_non_null(strstr(out, "B岗"));
    free(out);
    snprintf(file, sizeof(file),
             "id,name,role,org_unit,password,department,stand_in\n"
             "" PA ",常刚,village_cadre," VA ",%s,," PB "\n", verifier);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, file, strlen(file)), (ssize_t)strlen(file));
    close(fd);
    RUN(0, NULL, "import persons %s", path);
    free(out);
    unlink(path);
    free(verifier);
    expect_scalar("SELECT stand_in FROM person WHERE id = '" PA "'", PB);
    RUN(0, NULL, "person edit " PA " --stand-in ''");
    free(out);
}

/* 值班表: duty add/remove/list, audited, the roster's version raised; a
 * person of another unit refused; duty.csv replaces the days it names. */
static void test_duty_roster(void **state)
{
    (void)state;
    char *out;
    long v0 = version("duty");
    RUN(1, NULL, "duty add " VA " 2099-01-05 p-410423000000-01"); /* not of the village */
    assert_non_null(strstr(out, "不是单位"));
    free(out);
    RUN(1, NULL, "duty add " VA " 2099-02-30 " PA);
    assert_non_null(strstr(out, "日期"));
    free(out);
    assert_int_equal(version("duty"), v0);
    RUN(0, NULL, "--by 张科长 duty add " VA " 2099-01-05 " PA);
    free(out);
    expect_last_audit("张科长", "duty add", VA " 2099-01-05", "", "person=" PA);
    assert_int_equal(version("duty"), v0 + 1);
    RUN(0, NULL, "duty add " VA " 2099-01-05 " PA); /* again: nothing changes */
    assert_non_null(strstr(out, "无变化"));
    free(out);
    assert_int_equal(version("duty"), v0 + 1);
    RUN(0, NULL, "duty list " VA);
    assert_non_null(strstr(out, "2099-01-05\t" VA "\t"));
    assert_non_null(strstr(out, PA "\t常刚"));
    free(out);
    /* The file is the roster of its days: PB replaces PA on the 5th. */
    char path[] = "/tmp/sj_admin_dutyXXXXXX";
    const char file[] = "org_unit,date,person\n" VA ",2099-01-05," PB "\n" VA ",2099-01-06," PA
                        "\n" VA ",2099-01-06," PB "\n";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, file, strlen(file)), (ssize_t)strlen(file));
    close(fd);
    RUN(0, NULL, "import duty %s", path);
    free(out);
    unlink(path);
    expect_scalar("SELECT string_agg(day || ' ' || person, ',' ORDER BY day, person)"
                  " FROM duty_roster WHERE day >= '2099-01-01'",
                  "2099-01-05 " PB ",2099-01-06 " PA ",2099-01-06 " PB);
    assert_int_equal(version("duty"), v0 + 2);
    RUN(0, NULL, "--by 张科长 duty remove " VA " 2099-01-06 " PA);
    free(out);
    expect_last_audit("张科长", "duty remove", VA " 2099-01-06", "person=" PA, "");
    pgt_exec(db, "DELETE FROM duty_roster");
}

static void test_retire_and_restore_item(void **state)
{
    (void)state;
    char *out;
    long v0 = version("catalogue");
    RUN(0, NULL, "--by 张科长 item retire MZ-002");
    free(out);
    expect_scalar("SELECT active::text FROM catalogue_item WHERE code = 'MZ-002'", "false");
    assert_int_equal(version("catalogue"), v0 + 1);
    expect_last_audit("张科长", "item retire", "MZ-002", "active=yes", "active=no");
    RUN(0, NULL, "--by 张科长 item restore MZ-002");
    free(out);
    expect_scalar("SELECT active::text FROM catalogue_item WHERE code = 'MZ-002'", "true");
    assert_int_equal(version("catalogue"), v0 + 2);
    expect_last_audit("张科长", "item restore", "MZ-002", "active=no", "active=yes");
    RUN(1, NULL, "item retire NO-SUCH");
    assert_non_null(strstr(out, "不存在"));
    free(out);
}

/* sanji-countyd haocha-export: the evaluations of a span of dates as the
 * documented CSV (docs/STATISTICS.md "好差评 export"); here a county with
 * no evaluation in the span: the header alone.  A bad date is refused with
 * the reason, a missing option is a usage error, and no file is left. */
static void test_haocha_export_command(void **state)
{
    (void)state;
    char *out;
    char path[64];
    snprintf(path, sizeof path, "/tmp/sj_haocha_%d.csv", (int)getpid());
    RUN(0, NULL, "haocha-export --from 2026-11-01 --to 2026-11-30 --out %s", path);
    assert_non_null(strstr(out, "已导出 0 条评价"));
    free(out);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char line[1024] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    unlink(path);
    assert_true(strncmp(line, "evaluation_id,case_number,item_code,", 36) == 0);
    assert_non_null(strstr(line, ",callback_outcome\r\n"));
    RUN(1, NULL, "haocha-export --from 2026-11-31 --to 2026-12-01 --out %s", path);
    assert_non_null(strstr(out, "--from 不是日期"));
    free(out);
    RUN(2, NULL, "haocha-export --from 2026-11-01 --out %s", path);
    free(out);
    assert_int_equal(access(path, F_OK), -1);
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_departments(void **state)
{
    (void)state;
    char *out;
    long org = version("org_tree"), cat = version("catalogue");
    RUN(0, NULL, "--by 张科长 department add csj --name 县测试局");
    free(out);
    expect_scalar("SELECT name || active::text FROM department WHERE code = 'csj'", "县测试局true");
    assert_int_equal(version("org_tree"), org + 1);
    expect_last_audit("张科长", "department add", "csj", "", "name=县测试局 active=yes");
    /* A name in use, a bad code: refused. */
    RUN(1, NULL, "department add csj2 --name 县民政局");
    assert_non_null(strstr(out, "已被部门 mzj 使用"));
    free(out);
    RUN(1, NULL, "department add CSJ --name 县另一局");
    assert_non_null(strstr(out, "部门代码"));
    free(out);
    /* Renaming a department renames its items' department. */
    long items = pgt_count(db, "catalogue_item WHERE department = '县民政局'");
    assert_true(items > 0);
    RUN(0, NULL, "--by 张科长 department edit mzj --name 县民政事务局");
    free(out);
    assert_int_equal(pgt_count(db, "catalogue_item WHERE department = '县民政事务局'"), items);
    assert_int_equal(version("org_tree"), org + 2);
    assert_int_equal(version("catalogue"), cat + 1);
    expect_last_audit("张科长", "department edit", "mzj", "name=县民政局", "name=县民政事务局");
    /* An item given to another department: the catalogue and the org tree
     * (Department.item_codes) follow; the same again changes nothing; an
     * unknown department and a missing one are refused. */
    RUN(0, NULL, "--by 张科长 item edit MZ-002 --department csj");
    free(out);
    expect_scalar("SELECT department FROM catalogue_item WHERE code = 'MZ-002'", "县测试局");
    assert_int_equal(version("catalogue"), cat + 2);
    assert_int_equal(version("org_tree"), org + 3);
    expect_last_audit("张科长", "item department", "MZ-002", "department=县民政事务局",
                      "department=县测试局");
    RUN(0, NULL, "item edit MZ-002 --department csj");
    free(out);
    assert_int_equal(version("catalogue"), cat + 2);
    RUN(1, NULL, "item edit MZ-002 --department nosuch");
    assert_non_null(strstr(out, "没有部门 nosuch"));
    free(out);
    RUN(1, NULL, "item edit MZ-002");
    assert_non_null(strstr(out, "--department"));
    free(out);
    RUN(0, NULL, "--by 张科长 department deactivate csj");
    free(out);
    expect_scalar("SELECT active::text FROM department WHERE code = 'csj'", "false");
    assert_int_equal(version("org_tree"), org + 4);
    expect_last_audit("张科长", "department deactivate", "csj", "active=yes", "active=no");
    /* A deactivated department takes no item. */
    RUN(1, NULL, "item edit MZ-001 --department csj");
    assert_non_null(strstr(out, "已停用"));
    free(out);
    expect_scalar("SELECT department FROM catalogue_item WHERE code = 'MZ-001'", "县民政事务局");
}

static void test_audit_lists_changes(void **state)
{
    (void)state;
    char *out;
    RUN(0, NULL, "audit");
    /* The node last: empty for this command line. */
    assert_non_null(strstr(out, "\t张科长\tperson deactivate\t" PA "\tactive=yes\tactive=no\t\n"));
    assert_non_null(strstr(out, "\titem retire\tMZ-002\t"));
    assert_non_null(strstr(out, "\tdepartment edit\tmzj\t"));
    free(out);
    RUN(0, NULL, "audit MZ-002");
    assert_non_null(strstr(out, "\titem restore\tMZ-002\t"));
    assert_null(strstr(out, PA));
    free(out);
    /* A usage error. */
    RUN(2, NULL, "person fly " PA);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deactivate_and_activate_person),
        cmocka_unit_test(test_reset_password),
        cmocka_unit_test(test_add_and_edit_person),
        cmocka_unit_test(test_person_cases),
        cmocka_unit_test(test_stand_in),
        cmocka_unit_test(test_duty_roster),
        cmocka_unit_test(test_retire_and_restore_item),
        cmocka_unit_test(test_departments),
        cmocka_unit_test(test_haocha_export_command),
        cmocka_unit_test(test_audit_lists_changes),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
