/*
 * test_desk_admin.c - the county desk's administration pages
 * (docs/DESKTOP.md "Administration"): sanji-desk with the county desk
 * certificate on the county's port of the real tiers (tests/lib/tiers.h,
 * heartbeats every 300 ms), logged in as the county operator 邱志强.
 *
 * 人员管理: a new village cadre is added (the one-time password shown
 * once), the cadre 姚铁柱 deactivated, a deactivation of an unknown person
 * refused with the county's reason; the list shows the new person once the
 * county's person list came back.  部门管理: a department added.  事项管理:
 * an item retired and another given to that department.  Each change is checked in PostgreSQL, with its audit
 * (operator the desk's person, node the desk).
 *
 * The password: the county resets the operator's password
 * (`sanji-countyd person reset-password`); at the desk the one-time
 * password logs in, but the login page asks for a new one before anything
 * else; then 修改密码 in the header bar changes it again.  The county holds
 * the last one, the flag cleared, both changes audited with the desk.
 *
 * Nothing waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
 * SANJI_DESK_SCREENSHOTS=DIR keeps the three pages' screenshots.
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk_fixture.h"
#include "password.h"
#include "files.h"
#include "pg_test.h"
#include "pg_tiers.h"
#include "proc.h"
#include "tiers.h"

#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define PERSON "p-410423101201-01"
#define OPERATOR "p-410423000000-01" /* 邱志强 */
#define NEWCOMER "p-410423101201-09"
#define LEAVER "p-410423101201-02"   /* 姚铁柱 */

static pgt_tiers W;

static int group_setup(void **state)
{
    (void)state;
    return pgt_tiers_up(&W, "sanji_desk_admin", STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    return pgt_tiers_down(&W, "SANJI_DESK_KEEP");
}

static void expect(const char *sql, const char *want)
{
    char *got = pgt_scalar(W.db, sql);
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: got %s, want %s", sql, got ? got : "(null)", want);
    free(got);
}

static void test_county_desk_administers(void **state)
{
    (void)state;
    char crt[PATH_MAX], key[PATH_MAX], addr[64], bin[PATH_MAX + 32], store[PATH_MAX];
    sj_test_certs_path(&W.t.certs, "county-desk", "crt", crt, sizeof crt);
    sj_test_certs_path(&W.t.certs, "county-desk", "key", key, sizeof key);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", W.t.county_port);
    snprintf(bin, sizeof bin, "%s/client/desk/sanji-desk", W.t.build);
    snprintf(store, sizeof store, "%s/desk-county.db", W.t.certs.dir);
    const char *args[] = {"--cert", crt, "--key", key, "--ca", W.t.certs.ca_file,
                          "--address", addr, "--peer", "county:410423000000",
                          "--store", store, NULL};
    g_autofree char *s1 = desk_fixture_shot("admin-persons"),
                    *s2 = desk_fixture_shot("admin-departments"),
                    *s3 = desk_fixture_shot("admin-items");
    g_autofree char *script = g_strdup_printf(
        "wait-page login 30\n"
        "wait-text login.persons 邱志强 60\n"
        "select-text login.persons 邱志强\n"
        "set login.password sanji123\n"
        "click login.submit\n"
        "wait-page county 30\n"
        "page admin-persons\n"
        "wait-text admin.person.list " LEAVER " 60\n"
        /* A new village cadre. */
        "set admin.person.id " NEWCOMER "\n"
        "set admin.person.name 新来干部\n"
        "select admin.person.role 0\n"
        "set admin.person.unit 410423101201\n"
        "click admin.person.add\n"
        "wait-text admin.person.message 一次性密码 30\n"
        "print admin.person.message\n"
        /* The cadre who leaves. */
        "set admin.person.id " LEAVER "\n"
        "click admin.person.deactivate\n"
        "wait-text admin.person.message 已完成 30\n"
        /* Someone the county does not know: its reason. */
        "set admin.person.id p-410423101201-77\n"
        "click admin.person.deactivate\n"
        "wait-text admin.person.message 不存在 30\n"
        "print admin.person.message\n"
        /* The lists come back from the county. */
        "wait-text admin.person.list 新来干部 60\n"
        "%s"
        "page admin-departments\n"
        "wait-text admin.department.list mzj 30\n"
        "set admin.department.id rfb\n"
        "set admin.department.name 县人防办\n"
        "click admin.department.add\n"
        "wait-text admin.department.message 已完成 30\n"
        "wait-text admin.department.list 县人防办 60\n"
        "%s"
        "page admin-items\n"
        "wait-text admin.item.list MZ-001 30\n"
        "set admin.item.id MZ-001\n"
        "click admin.item.retire\n"
        "wait-text admin.item.message 已完成 30\n"
        "wait-text admin.item.list 已停用 60\n"
        /* Another item given to the department just added. */
        "set admin.item.id MZ-002\n"
        "set admin.item.department rfb\n"
        "click admin.item.move\n"
        "wait-text admin.item.message 已完成 30\n"
        "wait-text admin.item.list 县人防办 60\n"
        "%s"
        "quit\n",
        s1, s2, s3);
    assert_int_equal(desk_fixture_run(XVFB_RUN, bin, W.t.certs.dir, "county-admin", args, script), 0);

    expect("SELECT name || ' ' || role || ' ' || org_unit || ' ' || active::text || ' '"
           " || must_change_password::text FROM person WHERE id = '" NEWCOMER "'",
           "新来干部 1 410423101201 true true");
    expect("SELECT active::text FROM person WHERE id = '" LEAVER "'", "false");
    expect("SELECT operator || ' ' || node || ' ' || command FROM admin_audit"
           " WHERE target = '" NEWCOMER "'",
           OPERATOR " county-desk:410423000000:ops1 person add");
    expect("SELECT operator || ' ' || node || ' ' || command FROM admin_audit"
           " WHERE target = '" LEAVER "'",
           OPERATOR " county-desk:410423000000:ops1 person deactivate");
    assert_int_equal(pgt_count(W.db, "admin_audit WHERE target = 'p-410423101201-77'"), 0);
    expect("SELECT name || ' ' || active::text FROM department WHERE code = 'rfb'", "县人防办 true");
    expect("SELECT active::text FROM catalogue_item WHERE code = 'MZ-001'", "false");
    expect("SELECT operator || ' ' || command FROM admin_audit WHERE target = 'MZ-001'",
           OPERATOR " item retire");
    expect("SELECT department FROM catalogue_item WHERE code = 'MZ-002'", "县人防办");
    expect("SELECT operator || ' ' || command || ' ' || new_value FROM admin_audit"
           " WHERE target = 'MZ-002'",
           OPERATOR " item department department=县人防办");
}

/* "screenshot WIDGET '<dir>/<name>.png'" when SANJI_DESK_SCREENSHOTS is set. */
static char *shot_of(const char *widget, const char *name)
{
    const char *dir = getenv("SANJI_DESK_SCREENSHOTS");
    return dir && *dir ? g_strdup_printf("screenshot %s '%s/%s.png'\n", widget, dir, name)
                       : g_strdup("");
}

static void test_county_desk_password(void **state)
{
    (void)state;
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd,
             "printf 'Desk-Reset-1\\n' | '%s' --config '%s/county.conf' --by 县管理员"
             " person reset-password " OPERATOR " --password-stdin >/dev/null 2>&1",
             W.t.countyd, W.t.certs.dir);
    assert_int_equal(system(cmd), 0);
    expect("SELECT must_change_password::text FROM person WHERE id = '" OPERATOR "'", "true");

    char crt[PATH_MAX], key[PATH_MAX], addr[64], bin[PATH_MAX + 32], store[PATH_MAX];
    sj_test_certs_path(&W.t.certs, "county-desk", "crt", crt, sizeof crt);
    sj_test_certs_path(&W.t.certs, "county-desk", "key", key, sizeof key);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", W.t.county_port);
    snprintf(bin, sizeof bin, "%s/client/desk/sanji-desk", W.t.build);
    /* A desk that never synced: its person list is the county's now. */
    snprintf(store, sizeof store, "%s/desk-county-2.db", W.t.certs.dir);
    const char *args[] = {"--cert", crt, "--key", key, "--ca", W.t.certs.ca_file,
                          "--address", addr, "--peer", "county:410423000000",
                          "--store", store, NULL};
    g_autofree char *s1 = desk_fixture_shot("login-change-password"),
                    *s2 = shot_of("passwd.window", "change-password");
    g_autofree char *script = g_strdup_printf(
        "wait-page login 30\n"
        "wait-text login.persons 邱志强 60\n"
        "select-text login.persons 邱志强\n"
        "set login.password Desk-Reset-1\n"
        "click login.submit\n"
        "wait-text window 此密码由县里设置 30\n"
        "%s"
        /* Too short first: refused, still here. */
        "set login.change.new short\n"
        "set login.change.again short\n"
        "click login.change.submit\n"
        "wait-text login.change.message 至少要有 10\n"
        "set login.change.new Desk-New-pass2\n"
        "set login.change.again Desk-New-pass2\n"
        "click login.change.submit\n"
        "wait-page county 30\n"
        "click passwd.open\n"
        "set passwd.current Desk-New-pass2\n"
        "set passwd.new Desk-Newer-3x\n"
        "set passwd.again Desk-Newer-3x\n"
        "%s"
        "click passwd.submit\n"
        "wait-text banner 密码已修改 30\n"
        "quit\n",
        s1, s2);
    assert_int_equal(desk_fixture_run(XVFB_RUN, bin, W.t.certs.dir, "county-passwd", args, script), 0);

    /* The desk is linked to the county itself: both changes are there
     * once it applied them. */
    for (int i = 0; i < SJ_TEST_HANG_MS / 100; i++) {
        if (pgt_count(W.db, "admin_audit WHERE target = '" OPERATOR "'"
                            " AND command = 'person change-password'") == 2)
            break;
        sj_test_sleep_ms(100);
    }
    expect("SELECT count(*) || ' ' || min(node) FROM admin_audit WHERE target = '" OPERATOR "'"
           " AND command = 'person change-password'",
           "2 county-desk:410423000000:ops1");
    expect("SELECT must_change_password::text FROM person WHERE id = '" OPERATOR "'", "false");
    char *v = pgt_scalar(W.db, "SELECT verifier FROM person WHERE id = '" OPERATOR "'");
    assert_non_null(v);
    sj_error err;
    assert_int_equal(sj_password_verify("Desk-Newer-3x", v, &err), 0);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_desk_administers),
        cmocka_unit_test(test_county_desk_password),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
