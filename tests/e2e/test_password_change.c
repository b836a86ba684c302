/*
 * test_password_change.c - a password the county resets is replaced at
 * the station, offline too, and the new one reaches the county and every
 * other station (docs/PROTOCOL.md "Password change", docs/CLI.md
 * `sanji login`, `sanji passwd`): the real tiers on loopback
 * (tests/lib/tiers.h, heartbeats every 300 ms), the station 张官营村 with
 * the `sanji` CLI, its cadre logged in.
 *
 *   1. `sanji-countyd person reset-password`: after a sync the station
 *      refuses the old password; the one-time password logs in but the
 *      cadre must choose a new one first (nothing can be registered).
 *   2. The relay is stopped: at the offline station the cadre logs in with
 *      the one-time password and sets a new one (twice, the strength
 *      rules); from then on the station takes only the new one.
 *   3. The relay is back: after a sync the county holds the new verifier,
 *      must_change_password is cleared, the change is audited with the
 *      person and the station; a second station of the same village logs
 *      the person in with the new password and refuses the old ones.
 *   4. `sanji passwd` refuses a weak password and changes a good one.
 *   5. A change made offline while the county resets the password again:
 *      the county refuses the change (the newer reset wins), the station
 *      drops it, and the county's new one-time password logs in there and
 *      asks for a new one.
 *
 * Nothing waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "files.h"
#include "pg_test.h"
#include "pg_tiers.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX     65536
#define STATION     "v201"  /* village:410423101201 张官营村, through the relay */
#define STATION2    "v201b" /* a second PC of the same village */
#define PERSON      "p-410423101201-01"
#define ONE_TIME    "Reset-Pass-1"
#define NEW_PW      "Neu-gewaehlt-7"
#define NEWER_PW    "Noch-neuer-8"
#define MUST_CHANGE "此密码由县里设置"
#define WRONG       "用户名或密码错误"

static pgt_tiers W;
static char out[OUT_MAX];

static int cli_at(const char *station, const char *pw, const char *args)
{
    return sj_test_tiers_cli(&W.t, station, pw, out, sizeof out, args);
}

/* Writes the lines to <network>/<name> (the CLI's standard input). */
static void write_input(const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", W.t.certs.dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int countyd(const char *stdin_text, const char *args)
{
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "printf '%s\\n' | '%s' --config '%s/county.conf' %s 2>&1", stdin_text,
             W.t.countyd, W.t.certs.dir, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* After a sync, is the old password refused at the station? */
static bool old_password_refused(void *arg)
{
    (void)arg;
    if (cli_at(STATION, ONE_TIME, "sync --wait 5") != 0)
        return false;
    return cli_at(STATION, "sanji123", "login " PERSON " < /dev/null") != 0 && strstr(out, WRONG);
}

static int group_setup(void **state)
{
    (void)state;
    return pgt_tiers_up(&W, "sanji_passwd", STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    return pgt_tiers_down(&W, "SANJI_E2E_KEEP");
}

static void test_reset_demands_a_change(void **state)
{
    (void)state;
    int rc = countyd(ONE_TIME, "--by 县管理员 person reset-password " PERSON " --password-stdin");
    if (rc != 0)
        fail_msg("reset-password: exit %d: %s", rc, out);
    if (!sj_test_poll_until(old_password_refused, NULL, SJ_TEST_HANG_MS, 200))
        fail_msg("the station still takes the old password after syncing: %s", out);
    /* The one-time password logs in, but a new one must be chosen first:
     * with no new password given, the login stops there ... */
    rc = cli_at(STATION, ONE_TIME, "login " PERSON " < /dev/null");
    assert_int_not_equal(rc, 0);
    if (!strstr(out, MUST_CHANGE))
        fail_msg("login with the one-time password does not ask for a new one: %s", out);
    /* ... and nothing can be saved until it is changed. */
    rc = cli_at(STATION, ONE_TIME,
                "register --item MZ-003 --name 钱七 --id 11010519491231002X"
                " --phone 13800138000 --text 改密前 --wait 0");
    assert_int_not_equal(rc, 0);
    if (!strstr(out, "须先修改密码"))
        fail_msg("register before the change: %s", out);
    assert_int_equal(pgt_count(W.db, "cases WHERE request_text = '改密前'"), 0);
}

static void test_change_offline(void **state)
{
    (void)state;
    sj_error err;
    assert_int_equal(sj_test_proc_stop(&W.t.relay, SJ_TEST_HANG_MS, &err), 0);
    /* Too weak, and two that differ: refused, nothing saved. */
    write_input("weak.txt", "short\nshort\n");
    int rc = cli_at(STATION, ONE_TIME, "login " PERSON " --wait 0 < weak.txt");
    assert_int_not_equal(rc, 0);
    if (!strstr(out, "至少要有 8 个字符"))
        fail_msg("a weak password: %s", out);
    write_input("differ.txt", NEW_PW "\n" NEWER_PW "\n");
    rc = cli_at(STATION, ONE_TIME, "login " PERSON " --wait 0 < differ.txt");
    assert_int_not_equal(rc, 0);
    if (!strstr(out, "两次输入的新密码不一致"))
        fail_msg("two different passwords: %s", out);
    /* The change, offline. */
    write_input("new.txt", NEW_PW "\n" NEW_PW "\n");
    rc = cli_at(STATION, ONE_TIME, "login " PERSON " --wait 0 < new.txt");
    if (rc != 0 || !strstr(out, "密码已修改"))
        fail_msg("the change at the offline station: exit %d: %s", rc, out);
    /* From now on the new password only, offline. */
    rc = cli_at(STATION, NEW_PW, "login " PERSON " < /dev/null");
    if (rc != 0 || strstr(out, MUST_CHANGE))
        fail_msg("login with the new password offline: exit %d: %s", rc, out);
    rc = cli_at(STATION, ONE_TIME, "login " PERSON " < /dev/null");
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, WRONG));
    /* Work can be saved again. */
    rc = cli_at(STATION, NEW_PW,
                "register --item MZ-003 --name 钱七 --id 11010519491231002X"
                " --phone 13800138000 --text 改密后 --wait 0");
    if (rc != 0)
        fail_msg("register after the change: exit %d: %s", rc, out);
    /* The county has not heard of it yet. */
    char *v =
        pgt_scalar(W.db, "SELECT must_change_password::text FROM person WHERE id = '" PERSON "'");
    assert_string_equal(v, "true");
    free(v);
}

/* After a sync, does the county hold the change? */
static bool county_has_change(void *arg)
{
    (void)arg;
    (void)cli_at(STATION, NEW_PW, "sync --wait 5");
    char *v =
        pgt_scalar(W.db, "SELECT must_change_password::text FROM person WHERE id = '" PERSON "'");
    bool done = v && strcmp(v, "false") == 0;
    free(v);
    return done;
}

/* After a sync, does station hold the county's current person list (its
 * person_version is the county's)?  Checked before a log-in that depends
 * on it: polling with log-ins would count wrong passwords and slow the
 * station's log-ins down (sc_login()). */
static bool station_has_persons(void *arg)
{
    const char *station = arg;
    char *want = pgt_scalar(W.db, "SELECT version FROM reference_version WHERE name = 'person'");
    assert_non_null(want);
    char key[64];
    snprintf(key, sizeof key, "\"person_version\":%s,", want);
    free(want);
    (void)cli_at(station, "x", "sync --wait 5");
    return cli_at(station, "x", "--json status") == 0 && strstr(out, key) != NULL;
}

/* Does station log the person in with pw, and ask for a new password
 * (must) or not? */
static bool logs_in(const char *station, const char *pw, bool must)
{
    int rc = cli_at(station, pw, "login " PERSON " < /dev/null");
    return must ? rc != 0 && strstr(out, MUST_CHANGE) : rc == 0 && !strstr(out, MUST_CHANGE);
}

/* Has the county recorded this many password changes of the person? */
static bool county_has_audits(void *arg)
{
    return pgt_count(W.db, "admin_audit WHERE target = '" PERSON "'"
                           " AND command = 'person change-password'") == (long)arg;
}

static void test_change_reaches_the_county_and_other_stations(void **state)
{
    (void)state;
    sj_error err;
    assert_int_equal(sj_test_proc_restart(&W.t.relay, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.relay, W.t.relay_port, SJ_TEST_HANG_MS, &err), 0);
    if (!sj_test_poll_until(county_has_change, NULL, SJ_TEST_HANG_MS, 200))
        fail_msg("the county did not get the change: %s", out);
    char *v = pgt_scalar(W.db, "SELECT operator || ' ' || node || ' ' || command FROM admin_audit"
                               " WHERE target = '" PERSON "' ORDER BY id DESC LIMIT 1");
    assert_non_null(v);
    assert_string_equal(v, PERSON " village:410423101201 person change-password");
    free(v);
    /* The audit as the county's command line prints it, with the node. */
    int arc = countyd("", "audit " PERSON);
    if (arc != 0 || !strstr(out, "\tperson change-password\t" PERSON "\t\tpassword changed by the"
                                 " person\tvillage:410423101201\n"))
        fail_msg("audit: exit %d: %s", arc, out);
    /* The case saved offline after the change went too. */
    assert_int_equal(pgt_count(W.db, "cases WHERE request_text = '改密后'"), 1);

    assert_int_equal(sj_test_tiers_write_station(&W.t, STATION2), 0);
    if (!sj_test_poll_until(station_has_persons, STATION2, SJ_TEST_HANG_MS, 200))
        fail_msg("the second station does not get the county's person list: %s", out);
    if (!logs_in(STATION2, NEW_PW, false))
        fail_msg("the second station does not take the new password: %s", out);
    int rc = cli_at(STATION2, ONE_TIME, "login " PERSON " < /dev/null");
    assert_int_not_equal(rc, 0);
    rc = cli_at(STATION2, "sanji123", "login " PERSON " < /dev/null");
    assert_int_not_equal(rc, 0);
}

static void test_passwd(void **state)
{
    (void)state;
    write_input("weak2.txt", "aaaaaaaaaa\naaaaaaaaaa\n");
    int rc = cli_at(STATION2, NEW_PW, "passwd --wait 0 < weak2.txt");
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "至少两种"));
    write_input("newer.txt", NEWER_PW "\n" NEWER_PW "\n");
    rc = cli_at(STATION2, "wrong-current-1", "passwd --wait 0 < newer.txt");
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "当前密码不正确"));
    rc = cli_at(STATION2, NEW_PW, "passwd --wait 5 < newer.txt");
    if (rc != 0 || !strstr(out, "密码已修改"))
        fail_msg("sanji passwd: exit %d: %s", rc, out);
    /* At once (the station holds its own change), and still once the
     * county's list carries it. */
    if (!logs_in(STATION2, NEWER_PW, false))
        fail_msg("the new password does not work: %s", out);
    if (!sj_test_poll_until(county_has_audits, (void *)2L, SJ_TEST_HANG_MS, 200) ||
        !sj_test_poll_until(station_has_persons, STATION2, SJ_TEST_HANG_MS, 200) ||
        !logs_in(STATION2, NEWER_PW, false))
        fail_msg("the new password does not work after the sync: %s", out);
}

/* After a sync, does the station's outbox hold the county's refusal of
 * the late change? */
static bool station_has_refusal(void *arg)
{
    (void)arg;
    (void)cli_at(STATION, "x", "sync --wait 5");
    return cli_at(STATION, "x", "status") == 0 && strstr(out, "县里又为此人员重设了密码");
}

static void test_newer_reset_wins(void **state)
{
    (void)state;
    /* The first station learns the password changed at the second. */
    if (!sj_test_poll_until(station_has_persons, STATION, SJ_TEST_HANG_MS, 200))
        fail_msg("the station does not get the county's person list: %s", out);
    if (!logs_in(STATION, NEWER_PW, false))
        fail_msg("the station does not take the password changed elsewhere: %s", out);
    sj_error err;
    assert_int_equal(sj_test_proc_stop(&W.t.relay, SJ_TEST_HANG_MS, &err), 0);
    write_input("late.txt", "Offline-Late-9\nOffline-Late-9\n");
    int rc = cli_at(STATION, NEWER_PW, "passwd --wait 0 < late.txt");
    if (rc != 0)
        fail_msg("passwd offline: exit %d: %s", rc, out);
    rc =
        countyd("Reset-Again-2", "--by 县管理员 person reset-password " PERSON " --password-stdin");
    if (rc != 0)
        fail_msg("reset-password: exit %d: %s", rc, out);
    assert_int_equal(sj_test_proc_restart(&W.t.relay, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.relay, W.t.relay_port, SJ_TEST_HANG_MS, &err), 0);
    /* Refused at the county (shown with its reason): the station drops its
     * change, and the county's one-time password logs in there, asking for
     * a new one. */
    if (!sj_test_poll_until(station_has_refusal, NULL, SJ_TEST_HANG_MS, 200) ||
        !sj_test_poll_until(station_has_persons, STATION, SJ_TEST_HANG_MS, 200))
        fail_msg("the county's refusal or its list does not reach the station: %s", out);
    if (!logs_in(STATION, "Reset-Again-2", true))
        fail_msg("the county's newer reset does not count at the station: %s", out);
    rc = cli_at(STATION, "Offline-Late-9", "login " PERSON " < /dev/null");
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, WRONG));
    char *v =
        pgt_scalar(W.db, "SELECT must_change_password::text FROM person WHERE id = '" PERSON "'");
    assert_string_equal(v, "true");
    free(v);
    assert_true(county_has_audits((void *)2L));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_demands_a_change),
        cmocka_unit_test(test_change_offline),
        cmocka_unit_test(test_change_reaches_the_county_and_other_stations),
        cmocka_unit_test(test_passwd),
        cmocka_unit_test(test_newer_reset_wins),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
