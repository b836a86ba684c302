/*
 * test_desk_wrong_passwords.c - the county desk sees wrong passwords typed
 * at a station: its 网络 page gives the station's count of the last day.
 *
 * The real tiers on loopback (tests/lib/tiers.h, heartbeats every 300 ms)
 * and the station 张官营村 with the `sanji` CLI: a right log-in (which
 * fetches the person list), then three wrong passwords offline, then
 * `sanji sync`, which reports them through the relay to the county
 * (PKI.md "Password guessing"; test_login_failures checks the log and the
 * query).  Once the county has logged them, sanji-desk with the county desk
 * certificate, on the county's port, logs in as 邱志强 and opens 网络:
 * the station's row must say 3 次 under 密码错误.
 *
 * Nothing waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "desk_fixture.h"
#include "files.h"
#include "pg_test.h"
#include "pg_tiers.h"
#include "proc.h"
#include "tiers.h"

#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define NODE "village:410423101201"
#define PERSON "p-410423101201-01"
#define OUT_MAX 65536

typedef pgt_tiers world;

static world W;

static int group_setup(void **state)
{
    (void)state;
    return pgt_tiers_up(&W, "sanji_desk_wrong_passwords", STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    return pgt_tiers_down(&W, "SANJI_DESK_KEEP");
}

static bool county_logged(void *arg)
{
    (void)arg;
    return sj_test_count_lines(W.t.county_log, "repeated wrong passwords at a station\" station=" NODE) >
           0;
}

static void test_county_desk_sees_wrong_passwords(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    for (int i = 0; i < 3; i++)
        if (sj_test_tiers_cli(&W.t, STATION, "not-the-password", out, sizeof out, "login " PERSON) == 0)
            fail_msg("a wrong password logged in: %s", out);
    int rc = sj_test_tiers_cli(&W.t, STATION, "sanji123", out, sizeof out, "sync --wait 20");
    if (rc != 0)
        fail_msg("sync: exit %d: %s", rc, out);
    if (!sj_test_poll_until(county_logged, NULL, SJ_TEST_HANG_MS, 100))
        fail_msg("the county did not log the wrong passwords (%s)", W.t.county_log);

    char crt[PATH_MAX], key[PATH_MAX], addr[64], bin[PATH_MAX + 32], store[PATH_MAX];
    sj_test_certs_path(&W.t.certs, "county-desk", "crt", crt, sizeof crt);
    sj_test_certs_path(&W.t.certs, "county-desk", "key", key, sizeof key);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", W.t.county_port);
    snprintf(bin, sizeof bin, "%s/client/desk/sanji-desk", W.t.build);
    snprintf(store, sizeof store, "%s/desk-county.db", W.t.certs.dir);
    const char *args[] = {"--cert", crt, "--key", key, "--ca", W.t.certs.ca_file,
                          "--address", addr, "--peer", "county:410423000000",
                          "--store", store, NULL};
    const char *script = "wait-page login 30\n"
                         "wait-text login.persons 邱志强 60\n"
                         "select-text login.persons 邱志强\n"
                         "set login.password sanji123\n"
                         "click login.submit\n"
                         "wait-page county 30\n"
                         "page network\n"
                         "wait-text network.grid village:410423101201 60\n"
                         "expect-text network.grid 密码错误\n"
                         "wait-text network.grid '3 次' 60\n"
                         "print network.grid\n"
                         "quit\n";
    assert_int_equal(desk_fixture_run(XVFB_RUN, bin, W.t.certs.dir, "county-desk", args, script), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_desk_sees_wrong_passwords),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
