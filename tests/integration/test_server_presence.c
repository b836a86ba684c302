/*
 * test_server_presence.c - station presence (server/presence.c,
 * docs/SERVER.md "Station presence") on a real PostgreSQL 15: relay
 * statuses observed at known instants are credited to each village
 * station's online and staffed seconds within the duty hours of working
 * days, and every figure is compared with the value worked out by hand:
 *   - the state observed holds until the next observation, for at most
 *     presence.report_gap;
 *   - only the duty hours count, split by China day; a holiday counts
 *     nothing, a make-up working day counts;
 *   - a relay speaks only for the village stations of its township (not
 *     for desks, nor for another township's villages);
 *   - the network view carries today and the last working day, in the
 *     asker's scope only;
 *   - the duty hours' syntax.
 * The calendar holds one made-up holiday (Wednesday 2026-11-04) and one
 * made-up make-up working day (Sunday 2026-11-08): test data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apply_fixture.h"
#include "clock.h"
#include "pg_test.h"
#include "presence.h"
#include "query.h"

#define VA AFT_VA
#define VB AFT_VB
#define VC AFT_VC
#define TX AFT_TX
#define CO AFT_CO

typedef aft_county fx;

/* hh:mm China time of a date in 2026. */
static int64_t at(int m, int d, int hh, int mm)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(2026, m, d)) +
           ((int64_t)hh * 60 + mm) * 60 * 1000;
}

static countyd_duty duty(int64_t gap_minutes)
{
    countyd_duty d;
    countyd_presence_defaults(&d); /* 08:30-17:30, 80 % */
    d.report_gap_ms = gap_minutes * 60 * 1000;
    return d;
}

/* One station entry of a relay's status. */
typedef struct seen {
    const char *node;
    bool connected;
    uint32_t logged_in;
} seen;

/* The relay of township X reports the given stations at `when`. */
static void report(fx *f, const countyd_duty *d, const char *relay_unit, int64_t when,
                   const seen *s, size_t n)
{
    Sanji__StationStatus st[8], *sp[8];
    for (size_t i = 0; i < n; i++) {
        sanji__station_status__init(&st[i]);
        st[i].node = (char *)s[i].node;
        st[i].connected = s[i].connected;
        st[i].logged_in = s[i].logged_in;
        st[i].last_login_ms = s[i].logged_in ? when - 60000 : 0;
        sp[i] = &st[i];
    }
    Sanji__NodeStatus ns = SANJI__NODE_STATUS__INIT;
    char node[40];
    snprintf(node, sizeof node, "relay:%s", relay_unit);
    ns.node = node;
    ns.org_unit = (char *)relay_unit;
    ns.role = SANJI__NODE_ROLE__NODE_ROLE_RELAY;
    ns.stations = sp;
    ns.n_stations = n;
    ns.reported_at_ms = when;
    sj_error err;
    if (countyd_netstat_store(f->db, node, relay_unit, &ns, &err) != 0 ||
        countyd_presence_note(f->db, f->ap.calendar, d, relay_unit, &ns, when, &err) != 0)
        fail_msg("presence: %s", err.message);
}

/* "duty online staffed" of a station's day, or "none". */
static void day_of(fx *f, const char *node, const char *day, char *out, size_t cap)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT duty_s || ' ' || online_s || ' ' || staffed_s FROM station_presence"
             " WHERE node = '%s' AND day = '%s'",
             node, day);
    char *v = pgt_scalar(f->db, sql);
    snprintf(out, cap, "%s", v ? v : "none");
    free(v);
}

static void expect_day(fx *f, const char *node, const char *day, const char *want)
{
    char got[64];
    day_of(f, node, day, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s on %s: got \"%s\", want \"%s\"", node, day, got, want);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    aft_open(f, "t_presence",
             "('2026-11-04', 'holiday', '测试假日'), ('2026-11-08', 'workday', '测试调休')", NULL,
             at(11, 2, 7, 0));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (!f)
        return 0;
    aft_close(f);
    free(f);
    return 0;
}

static void test_duty_hours_syntax(void **state)
{
    (void)state;
    countyd_duty d;
    sj_error err;
    assert_int_equal(countyd_presence_parse_hours("08:30-17:30", &d, &err), 0);
    assert_int_equal(d.from_min, 8 * 60 + 30);
    assert_int_equal(d.to_min, 17 * 60 + 30);
    assert_int_equal(countyd_presence_parse_hours("00:00-24:00", &d, &err), 0);
    const char *bad[] = {"17:30-08:30", "8:30-17:30", "08:30-25:00", "08:60-17:00",
                         "08:30-08:30", "08:30 17:30", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (countyd_presence_parse_hours(bad[i], &d, &err) != SJ_ECONFIG_BAD_VALUE)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_non_null(strstr(err.message, "HH:MM-HH:MM"));
    }
}

static void test_credit_by_hand(void **state)
{
    fx *f = *state;
    countyd_duty d = duty(60);
    const char *A = "village:" VA, *B = "village:" VB;
    /* Monday 2 November. 08:00: A linked and staffed, B linked, nobody
     * logged in; a desk and another township's village are ignored. */
    seen s1[] = {{A, true, 1}, {B, true, 0}, {"township-desk:" TX, true, 1},
                 {"village:" VC, true, 1}};
    report(f, &d, TX, at(11, 2, 8, 0), s1, 4);
    expect_day(f, A, "2026-11-02", "32400 0 0"); /* 9 duty hours, nothing yet */
    assert_int_equal(pgt_count(f->db, "station_presence WHERE node NOT LIKE 'village:4104231012%'"),
                     0);
    /* 08:45: [08:30, 08:45) counts: 900 s each, staffed at A only. */
    report(f, &d, TX, at(11, 2, 8, 45), s1, 2);
    expect_day(f, A, "2026-11-02", "32400 900 900");
    expect_day(f, B, "2026-11-02", "32400 900 0");
    /* 10:45, two hours later: the relay was silent, only an hour (the
     * report gap) counts: [08:45, 09:45).  A's cadre has logged out. */
    seen s2[] = {{A, true, 0}, {B, false, 0}};
    report(f, &d, TX, at(11, 2, 10, 45), s2, 2);
    expect_day(f, A, "2026-11-02", "32400 4500 4500");
    expect_day(f, B, "2026-11-02", "32400 4500 0");
    /* 11:15: A was online, not staffed; B offline. */
    report(f, &d, TX, at(11, 2, 11, 15), s2, 2);
    expect_day(f, A, "2026-11-02", "32400 6300 4500");
    expect_day(f, B, "2026-11-02", "32400 4500 0");
    /* 17:00 A staffed again: A's online state since 11:15 counts for an
     * hour (the gap), [11:15, 12:15). */
    seen s3[] = {{A, true, 2}};
    report(f, &d, TX, at(11, 2, 17, 0), s3, 1);
    expect_day(f, A, "2026-11-02", "32400 9900 4500");
    /* The next report Tuesday 09:00, with a day-long gap: [17:00, 17:30)
     * Monday and [08:30, 09:00) Tuesday. */
    d = duty(24 * 60);
    report(f, &d, TX, at(11, 3, 9, 0), s3, 1);
    expect_day(f, A, "2026-11-02", "32400 11700 6300");
    expect_day(f, A, "2026-11-03", "32400 1800 1800");
    /* Wednesday 4 November is a holiday: a row, nothing counted there.
     * Its first report credits Tuesday [09:00, 10:00) (an hour's gap). */
    d = duty(60);
    report(f, &d, TX, at(11, 4, 10, 0), s3, 1);
    expect_day(f, A, "2026-11-03", "32400 5400 5400");
    d = duty(24 * 60);
    report(f, &d, TX, at(11, 4, 10, 30), s3, 1);
    expect_day(f, A, "2026-11-04", "0 0 0");
    /* Sunday 8 November is a make-up working day.  Its first report ends
     * the day-long gap after Wednesday 10:30: Thursday [08:30, 10:30). */
    report(f, &d, TX, at(11, 8, 10, 0), s3, 1);
    expect_day(f, A, "2026-11-05", "32400 7200 7200");
    expect_day(f, A, "2026-11-06", "none");
    report(f, &d, TX, at(11, 8, 10, 30), s3, 1);
    expect_day(f, A, "2026-11-08", "32400 1800 1800");
    expect_day(f, A, "2026-11-07", "none");
    /* The last state is kept, with the presence reported. */
    char *v = pgt_scalar(f->db, "SELECT logged_in || ' ' || staffed FROM station_presence_state"
                                " WHERE node = 'village:" VA "'");
    assert_string_equal(v, "2 true");
    free(v);
}

/* The network view on Tuesday 3 November: today and Monday. */
static void test_network_view(void **state)
{
    fx *f = *state;
    countyd_duty d = duty(60);
    const char *A = "village:" VA;
    seen s[] = {{A, true, 1}};
    report(f, &d, TX, at(11, 2, 9, 0), s, 1);
    report(f, &d, TX, at(11, 2, 10, 0), s, 1); /* Monday [09:00, 10:00) */
    report(f, &d, TX, at(11, 3, 9, 0), s, 1);  /* Monday [10:00, 11:00): the gap */
    report(f, &d, TX, at(11, 3, 9, 30), s, 1); /* Tuesday [09:00, 09:30) */
    sj_clock_set_fake_now_ms(at(11, 3, 12, 0));
    static const countyd_asker county = {SJ_NODE_ROLE_COUNTY_DESK, SJ_LEVEL_COUNTY, CO, ""};
    static const countyd_asker town_y = {SJ_NODE_ROLE_TOWNSHIP_DESK, SJ_LEVEL_TOWNSHIP, AFT_TY,
                                         ""};
    countyd_query_opts o = {3, 30, &d, NULL};
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_NETWORK_STATUS;
    q.network_status = true;
    countyd_arena a;
    countyd_arena_init(&a);
    Sanji__QueryResult out;
    sj_error err;
    if (countyd_query_answer(f->db, &a, &county, &o, &q, &out, &err) != 0)
        fail_msg("query: %s", err.message);
    assert_int_equal(out.code, 0);
    const Sanji__NetworkStatus *ns = out.network;
    assert_string_equal(ns->duty_hours, "08:30-17:30");
    assert_int_equal(ns->staffed_warn_percent, 80);
    const Sanji__StationStatus *st = NULL;
    for (size_t i = 0; i < ns->n_nodes; i++)
        for (size_t j = 0; j < ns->nodes[i]->n_stations; j++)
            if (strcmp(ns->nodes[i]->stations[j]->node, A) == 0)
                st = ns->nodes[i]->stations[j];
    assert_non_null(st);
    assert_int_equal(st->logged_in, 1);
    assert_int_equal(st->n_presence, 2);
    assert_string_equal(st->presence[0]->day, "2026-11-03");
    assert_int_equal(st->presence[0]->duty_minutes, 540);
    assert_int_equal(st->presence[0]->staffed_minutes, 30);
    assert_string_equal(st->presence[1]->day, "2026-11-02");
    assert_int_equal(st->presence[1]->staffed_minutes, 120);
    assert_int_equal(st->presence[1]->online_minutes, 120);
    countyd_arena_free(&a);
    /* Township Y's desk sees none of township X's stations. */
    countyd_arena_init(&a);
    if (countyd_query_answer(f->db, &a, &town_y, &o, &q, &out, &err) != 0)
        fail_msg("query: %s", err.message);
    for (size_t i = 0; i < out.network->n_nodes; i++)
        for (size_t j = 0; j < out.network->nodes[i]->n_stations; j++)
            assert_string_not_equal(out.network->nodes[i]->stations[j]->node, A);
    countyd_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duty_hours_syntax),
        cmocka_unit_test_setup_teardown(test_credit_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_view, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
