/*
 * test_presence.c - a station's presence reaches the county through a
 * real relay: the station 张官营村, with its person logged in (the `sanji`
 * CLI's login, kept in its store), links with `sanji sync`; its status
 * says someone is logged in there (NodeStatus.logged_in, last_login_ms),
 * the relay passes that on in its own status (StationStatus.logged_in),
 * and the county keeps the station's state (station_presence_state) and
 * its per-day record (station_presence, today's row made by the first
 * report of the day), which its network view carries (today's
 * PresenceDay, the logged-in count).  `sanji stars` at the station is
 * answered by the county through the relay, for the station alone.
 *
 * The real tiers on loopback (tests/lib/tiers.h, heartbeats every 300 ms).
 * Which minutes count as staffed depends on the time of day the test runs
 * (the duty hours), so no count of minutes is asserted here:
 * test_server_presence.c checks those by hand on a faked clock.  Nothing
 * waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "arena.h"
#include "clock.h"
#include "files.h"
#include "pg_test.h"
#include "pg_tiers.h"
#include "proc.h"
#include "query.h"
#include "tiers.h"

#define OUT_MAX 65536
#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define NODE "village:410423101201"
#define PERSON "p-410423101201-01"

static pgt_tiers W;

/* The county holds the station's state with someone logged in. */
static bool county_has_presence(void *arg)
{
    (void)arg;
    return pgt_count(W.db, "station_presence_state WHERE node = '" NODE "' AND logged_in = 1"
                           " AND last_login_ms > 0") == 1;
}

static int group_setup(void **state)
{
    (void)state;
    return pgt_tiers_up(&W, "sanji_presence", STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    return pgt_tiers_down(&W, "SANJI_E2E_KEEP");
}

static void test_presence_reaches_the_county(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    int rc = sj_test_tiers_cli(&W.t, STATION, "sanji123", out, sizeof out, "sync --wait 20");
    if (rc != 0)
        fail_msg("sync: exit %d: %s", rc, out);
    if (!sj_test_poll_until(county_has_presence, NULL, SJ_TEST_HANG_MS, 100))
        fail_msg("the county holds no presence with someone logged in for %s", NODE);
    /* Today's row of the station, in the county's (China) day. */
    char today[SJ_CLOCK_DATE_SIZE], sql[256];
    sj_clock_format_date(sj_clock_china_day(sj_clock_real_ms()), today);
    snprintf(sql, sizeof sql,
             "station_presence WHERE node = '" NODE "' AND org_unit = '410423101201'"
             " AND day = '%s'",
             today);
    assert_int_equal(pgt_count(W.db, sql), 1);
    /* The network view, as a county desk asks it. */
    countyd_arena a;
    countyd_arena_init(&a);
    countyd_asker k = {.role = SJ_NODE_ROLE_COUNTY_DESK, .level = SJ_LEVEL_COUNTY};
    snprintf(k.unit, sizeof k.unit, "410423000000");
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_NETWORK_STATUS;
    q.network_status = true;
    Sanji__QueryResult r;
    sj_error err;
    if (countyd_query_answer(W.db, &a, &k, NULL, &q, &r, &err) != 0)
        fail_msg("network query: %s", err.message);
    assert_int_equal(r.code, 0);
    const Sanji__StationStatus *st = NULL;
    for (size_t i = 0; i < r.network->n_nodes; i++)
        for (size_t j = 0; j < r.network->nodes[i]->n_stations; j++)
            if (r.network->nodes[i]->stations[j]->node &&
                strcmp(r.network->nodes[i]->stations[j]->node, NODE) == 0)
                st = r.network->nodes[i]->stations[j];
    if (!st)
        fail_msg("%s not in the network view", NODE);
    assert_int_equal(st->logged_in, 1);
    assert_true(st->last_login_ms > 0);
    assert_true(st->n_presence >= 1);
    assert_string_equal(st->presence[0]->day, today);
    assert_string_equal(r.network->duty_hours, "08:30-17:30");
    countyd_arena_free(&a);
}

/* `sanji stars` at the station: asked through the relay, answered by the
 * county for the station itself only. */
static void test_station_asks_its_stars(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    int y, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(sj_clock_real_ms()), &y, &m, &d);
    char args[96];
    snprintf(args, sizeof args, "--json stars --year %d --quarter %d --wait 20", y, (m + 2) / 3);
    int rc = sj_test_tiers_cli(&W.t, STATION, "sanji123", out, sizeof out, args);
    if (rc != 0)
        fail_msg("sanji stars: exit %d: %s", rc, out);
    if (!strstr(out, "\"unit\":\"410423101201\"") || !strstr(out, "\"duty_star\":"))
        fail_msg("sanji stars does not rate the station: %s", out);
    if (strstr(out, "410423101202"))
        fail_msg("the station sees another village's stars: %s", out);
    /* A year without a number is refused before anything is asked. */
    rc = sj_test_tiers_cli(&W.t, STATION, "sanji123", out, sizeof out, "stars --year soon");
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "--year"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presence_reaches_the_county),
        cmocka_unit_test(test_station_asks_its_stars),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
