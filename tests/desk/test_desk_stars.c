/*
 * test_desk_stars.c - the desks show presence and station stars, against
 * the real tiers on loopback (tests/lib/tiers.h, heartbeats every 300 ms):
 *
 *   the station 张官营村, its person logged in with the `sanji` CLI, links
 *   with `sanji sync`; its presence reaches the county through the relay
 *   (test_presence checks the records);
 *   county desk (邱志强): the 网络 page has the 今日在岗 and 上个工作日在岗
 *     columns and the station's hours staffed / duty hours of today (the
 *     duty hours as the county's record of today says: 9 on a working
 *     day, 0 on a day off); the 星级 page rates every station of the
 *     county (张官营村 and 梁洼村 of another township);
 *   township desk of 张官营镇 (王志强, through the relay): the 星级 page
 *     rates its own stations (张官营村) and none of 梁洼镇's (梁洼村);
 *   the station 张官营村's own desk (常刚): itself only, not its
 *     neighbour 前营村.
 *
 * Figures are the county's (test_server_stars checks them by hand); what
 * is checked here is what each desk shows and that its scope holds.
 * Screenshots (network-staffed, stars-county, stars-township, stars-station) go to
 * SANJI_DESK_SCREENSHOTS when set.  Nothing waits a fixed time.
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
#include <string.h>

#include "clock.h"
#include "desk_fixture.h"
#include "files.h"
#include "pg_test.h"
#include "pg_tiers.h"
#include "proc.h"
#include "tiers.h"

#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define NODE "village:410423101201"
#define PERSON "p-410423101201-01"
#define PERSON_NAME "常刚" /* its name in deploy/demo */
#define OUT_MAX 65536

static pgt_tiers W;

static int group_setup(void **state)
{
    (void)state;
    return pgt_tiers_up(&W, "sanji_desk_stars", STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    return pgt_tiers_down(&W, "SANJI_DESK_KEEP");
}

static bool county_has_presence(void *arg)
{
    (void)arg;
    return pgt_count(W.db, "station_presence_state WHERE node = '" NODE "' AND logged_in = 1") == 1;
}

/* Runs sanji-desk with certificate `who` against addr/peer and the script. */
static int desk(const char *who, int port, const char *peer, const char *tag, const char *script)
{
    char crt[PATH_MAX], key[PATH_MAX], addr[64], bin[PATH_MAX + 32], store[PATH_MAX];
    sj_test_certs_path(&W.t.certs, who, "crt", crt, sizeof crt);
    sj_test_certs_path(&W.t.certs, who, "key", key, sizeof key);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(bin, sizeof bin, "%s/client/desk/sanji-desk", W.t.build);
    snprintf(store, sizeof store, "%s/desk-%s.db", W.t.certs.dir, tag);
    const char *args[] = {"--cert", crt, "--key", key, "--ca", W.t.certs.ca_file,
                          "--address", addr, "--peer", peer, "--store", store, NULL};
    return desk_fixture_run(XVFB_RUN, bin, W.t.certs.dir, tag, args, script);
}

static void test_desks_show_presence_and_stars(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    int rc = sj_test_tiers_cli(&W.t, STATION, "sanji123", out, sizeof out, "sync --wait 20");
    if (rc != 0)
        fail_msg("sync: exit %d: %s", rc, out);
    if (!sj_test_poll_until(county_has_presence, NULL, SJ_TEST_HANG_MS, 100))
        fail_msg("no presence for %s at the county", NODE);
    /* Today's duty hours as the county's record says ("/9" on a working
     * day with the default hours, "/0" on a day off). */
    char today[SJ_CLOCK_DATE_SIZE], sql[256];
    sj_clock_format_date(sj_clock_china_day(sj_clock_real_ms()), today);
    snprintf(sql, sizeof sql,
             "SELECT duty_s / 3600 FROM station_presence WHERE node = '" NODE "' AND day = '%s'",
             today);
    char *duty_h = pgt_scalar(W.db, sql);
    assert_non_null(duty_h);
    int year, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(sj_clock_real_ms()), &year, &m, &d);
    g_autofree char *shot_net = desk_fixture_shot("network-staffed");
    g_autofree char *shot_cs = desk_fixture_shot("stars-county");
    g_autofree char *county = g_strdup_printf(
        "wait-page login 30\n"
        "wait-text login.persons 邱志强 60\n"
        "select-text login.persons 邱志强\n"
        "set login.password sanji123\n"
        "click login.submit\n"
        "wait-page county 30\n"
        "page network\n"
        "wait-text network.grid village:410423101201 60\n"
        "expect-text network.grid 今日在岗\n"
        "expect-text network.grid 上个工作日在岗\n"
        "wait-text network.grid '/%s' 60\n"
        "%s"
        "page stars\n"
        "set stars.year %d\n"
        "click stars.ask\n"
        "wait-text stars.grid 张官营村 60\n"
        "expect-text stars.grid 梁洼村\n"
        "expect-text stars.grid 值班星\n"
        "expect-text stars.grid 在岗\n"
        "expect-text stars.message 星级\n"
        "%s"
        "print stars.grid\n"
        "quit\n",
        duty_h, shot_net, year, shot_cs);
    free(duty_h);
    assert_int_equal(desk("county-desk", W.t.county_port, "county:410423000000", "county", county),
                     0);
    g_autofree char *shot_ts = desk_fixture_shot("stars-township");
    g_autofree char *town = g_strdup_printf("wait-page login 30\n"
                                            "wait-text login.persons 王志强 60\n"
                                            "select-text login.persons 王志强\n"
                                            "set login.password sanji123\n"
                                            "click login.submit\n"
                                            "wait-page township 30\n"
                                            "page stars\n"
                                            "set stars.year %d\n"
                                            "click stars.ask\n"
                                            "wait-text stars.grid 张官营村 60\n"
                                            "expect-no-text stars.grid 梁洼村\n"
                                            "%s"
                                            "print stars.grid\n"
                                            "quit\n",
                                            year, shot_ts);
    assert_int_equal(desk("township-desk", W.t.relay_port, "relay:410423101000", "township", town),
                     0);
    /* The station itself: its own stars only, not its neighbour's. */
    g_autofree char *shot_vs = desk_fixture_shot("stars-station");
    g_autofree char *village = g_strdup_printf("wait-page login 30\n"
                                               "wait-text login.persons %s 60\n"
                                               "select-text login.persons %s\n"
                                               "set login.password sanji123\n"
                                               "click login.submit\n"
                                               "wait-page home 30\n"
                                               "page stars\n"
                                               "set stars.year %d\n"
                                               "click stars.ask\n"
                                               "wait-text stars.grid 张官营村 60\n"
                                               "expect-no-text stars.grid 前营村\n"
                                               "%s"
                                               "print stars.grid\n"
                                               "quit\n",
                                               PERSON_NAME, PERSON_NAME, year, shot_vs);
    assert_int_equal(desk("village", W.t.relay_port, "relay:410423101000", "village", village), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desks_show_presence_and_stars),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
