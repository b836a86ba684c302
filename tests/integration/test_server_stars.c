/*
 * test_server_stars.c - station stars (server/stars.c, docs/STATISTICS.md
 * "Station stars") on a real PostgreSQL 15.  Eight cases live known
 * histories through the county's real apply path and its sweep in the
 * fourth quarter of 2026; each station's presence is given as per-day
 * rows (their counting is test_server_presence.c's).  Every star rule is
 * met at village A and missed at village B, and each figure is compared
 * with the value worked out by hand below:
 *
 *   village A (甲村): cases 1 (即办, 满意), 2-4 (代办 at the county,
 *     满意, 基本满意, 满意), all on time; staffed every weekday 08:30-17:30.
 *     Q4: 4 registered, 4 finished, 3 代办, no record missing, 4 verdicts
 *     all good, 4 on time, staffed 65 of 66 working days (the holiday
 *     11-04 rests, the make-up Sunday 11-08 works, unstaffed) -> 5 stars.
 *     2026: 代办 3 < 4 x 3; staffed 35100 of 261 x 540 minutes -> 3 stars.
 *   village B (乙村): case 5 (即办, 不满意), case 6 (承办, never
 *     finished, overdue by the sweep), case 7 (承办, finished late, no
 *     feedback); staffed half of every weekday.
 *     Q4: 3 registered, 2 finished, 0 代办, 2 missing (6 overdue, 7 no
 *     feedback), 1 verdict, bad, 1 of 2 on time, 17550 of 35640 minutes
 *     staffed -> 0 stars.
 *   village C (丙村, township Y): case 8 (即办, 满意), for scope.
 *
 * Also: the county's thresholds moved (stars.*, from its configuration
 * file too), and the scope of each level (township, station, department
 * desk, a unit outside it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply_fixture.h"
#include "clock.h"
#include "pg_test.h"
#include "query.h"
#include "server_config.h"
#include "stars.h"
#include "sweep.h"

#define VA AFT_VA
#define VB AFT_VB
#define VC AFT_VC
#define TX AFT_TX
#define TY AFT_TY
#define CO AFT_CO

static const countyd_peer P_VA = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VA, "village:" VA};
static const countyd_peer P_VB = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VB, "village:" VB};
static const countyd_peer P_VC = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VC, "village:" VC};
static const countyd_peer P_TX = {SANJI__NODE_ROLE__NODE_ROLE_TOWNSHIP_DESK, TX,
                                  "township-desk:" TX};
static const countyd_peer P_CO = {SANJI__NODE_ROLE__NODE_ROLE_COUNTY_DESK, CO, "county-desk:" CO};

typedef aft_county fx;

static int64_t at(int y, int m, int d, int hh)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(y, m, d)) +
           (int64_t)hh * 3600 * 1000;
}

/* One message applied (apply_fixture.h). */
static void run1(fx *f, const countyd_peer *peer, const Sanji__CaseSubmit *s,
                 const Sanji__CaseAction *a)
{
    aft_applied(f, peer, s, a);
}

/* Registers case n of item at the station of peer, at the given time. */
static void reg(fx *f, int n, const countyd_peer *peer, const char *person, const char *item,
                int64_t when)
{
    aft_register(f, n, peer, person, item, "李大爷", when);
}

#define A(name) SANJI__CASE_ACTION_TYPE__CASE_ACTION_##name
#define S(name) SANJI__SATISFACTION__SATISFACTION_##name
#define NOS     SANJI__SATISFACTION__SATISFACTION_UNSPECIFIED

/* An action on case n at its current version: a result for the
 * resolving ones, a verdict for FEEDBACK. */
static void act(fx *f, const countyd_peer *peer, const char *person, int n,
                Sanji__CaseActionType type, int64_t when, Sanji__Satisfaction sat)
{
    sj_clock_set_fake_now_ms(when);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT version FROM cases WHERE case_id = '01000000-0000-7000-0000-0000000000%02x'",
             n);
    char *v = pgt_scalar(f->db, sql);
    if (!v)
        fail_msg("case %d not found", n);
    Sanji__CaseAction a = SANJI__CASE_ACTION__INIT;
    uint8_t id[16];
    aft_case_id(id, n);
    a.case_id.data = id;
    a.case_id.len = 16;
    a.action = type;
    a.expected_version = strtoull(v, NULL, 10);
    free(v);
    a.actor_person = (char *)person;
    a.acted_at_ms = when;
    a.note = "";
    a.result = type == A(RESOLVE) || type == A(RESOLVE_AT_ONCE) ? "已办好" : "";
    a.department = "";
    a.satisfaction = sat;
    run1(f, peer, NULL, &a);
}


/* A 代办: village A up to the county, resolved there in a few days. */
static void daiban(fx *f, int n, int day, Sanji__Satisfaction verdict)
{
    reg(f, n, &P_VA, "pa", "C-1", at(2026, 11, day, 9));
    act(f, &P_VA, "pa", n, A(ESCALATE), at(2026, 11, day, 10), NOS);
    act(f, &P_TX, "tx", n, A(ACCEPT), at(2026, 11, day, 11), NOS);
    act(f, &P_TX, "tx", n, A(ESCALATE), at(2026, 11, day, 12), NOS);
    act(f, &P_CO, "co", n, A(ACCEPT), at(2026, 11, day, 14), NOS);
    act(f, &P_CO, "co", n, A(RESOLVE), at(2026, 11, day + 2, 10), NOS);
    act(f, &P_VA, "pa", n, A(FEEDBACK), at(2026, 11, day + 3, 10), verdict);
}

static void build(fx *f)
{
    /* Village A. */
    reg(f, 1, &P_VA, "pa", "V-1", at(2026, 10, 12, 10));
    act(f, &P_VA, "pa", 1, A(RESOLVE_AT_ONCE), at(2026, 10, 12, 11), NOS);
    act(f, &P_VA, "pa", 1, A(FEEDBACK), at(2026, 10, 12, 12), S(SATISFIED));
    daiban(f, 2, 9, S(SATISFIED));
    daiban(f, 3, 16, S(BASICALLY_SATISFIED));
    daiban(f, 4, 23, S(SATISFIED));
    /* Village B. */
    reg(f, 5, &P_VB, "pb", "V-1", at(2026, 10, 13, 10));
    act(f, &P_VB, "pb", 5, A(RESOLVE_AT_ONCE), at(2026, 10, 13, 11), NOS);
    act(f, &P_VB, "pb", 5, A(FEEDBACK), at(2026, 10, 13, 12), S(UNSATISFIED));
    reg(f, 6, &P_VB, "pb", "T-1", at(2026, 10, 14, 10));
    act(f, &P_VB, "pb", 6, A(ESCALATE), at(2026, 10, 14, 11), NOS);
    act(f, &P_TX, "tx", 6, A(ACCEPT), at(2026, 10, 15, 9), NOS);
    reg(f, 7, &P_VB, "pb", "T-1", at(2026, 10, 14, 10));
    act(f, &P_VB, "pb", 7, A(ESCALATE), at(2026, 10, 14, 11), NOS);
    act(f, &P_TX, "tx", 7, A(ACCEPT), at(2026, 10, 15, 9), NOS);
    act(f, &P_TX, "tx", 7, A(RESOLVE), at(2026, 11, 20, 10), NOS); /* due 10-21: late */
    /* Village C. */
    reg(f, 8, &P_VC, "pc", "V-1", at(2026, 10, 20, 10));
    act(f, &P_VC, "pc", 8, A(RESOLVE_AT_ONCE), at(2026, 10, 20, 11), NOS);
    act(f, &P_VC, "pc", 8, A(FEEDBACK), at(2026, 10, 20, 12), S(SATISFIED));
    /* The sweep marks case 6 overdue. */
    sj_clock_set_fake_now_ms(at(2027, 1, 5, 9));
    static const uint32_t warn[] = {80};
    countyd_apply_result *res = NULL;
    size_t n = 0;
    sj_error err;
    if (countyd_sweep_run(&f->ap, warn, 1, 1000, &res, &n, &err) != 0)
        fail_msg("sweep: %s", err.message);
    free(res);
    /* Presence: A staffed all of every weekday of Q4, B half of it (a
     * second, silent station of B's village shows the best counts). */
    pgt_exec(f->db,
             "INSERT INTO station_presence (node, org_unit, day, duty_s, online_s, staffed_s)"
             " SELECT 'village:" VA "', '" VA "', d, 32400, 32400, 32400"
             " FROM generate_series(DATE '2026-10-01', DATE '2026-12-31', '1 day') d"
             " WHERE extract(isodow FROM d) < 6;"
             " INSERT INTO station_presence (node, org_unit, day, duty_s, online_s, staffed_s)"
             " SELECT 'village:" VB "', '" VB "', d, 32400, 32400, 16200"
             " FROM generate_series(DATE '2026-10-01', DATE '2026-12-31', '1 day') d"
             " WHERE extract(isodow FROM d) < 6;"
             " INSERT INTO station_presence (node, org_unit, day, duty_s, online_s, staffed_s)"
             " SELECT 'village:" VB ":back', '" VB "', d, 32400, 0, 0"
             " FROM generate_series(DATE '2026-10-01', DATE '2026-12-31', '1 day') d"
             " WHERE extract(isodow FROM d) < 6");
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    aft_open(f, "t_stars",
             "('2026-11-04', 'holiday', '测试假日'), ('2026-11-08', 'workday', '测试调休')",
             "INSERT INTO person (id, name, role, org_unit, verifier) VALUES"
             " ('pc', '丙干部', 1, '" VC "', 'scrypt$x')",
             at(2026, 10, 1, 9));
    build(f);
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

static const countyd_asker COUNTY = {SJ_NODE_ROLE_COUNTY_DESK, SJ_LEVEL_COUNTY, CO, ""};
static const countyd_asker TOWN_X = {SJ_NODE_ROLE_TOWNSHIP_DESK, SJ_LEVEL_TOWNSHIP, TX, ""};
static const countyd_asker STATION_A = {SJ_NODE_ROLE_VILLAGE, SJ_LEVEL_VILLAGE, VA, ""};
static const countyd_asker DEPT = {SJ_NODE_ROLE_DEPARTMENT_DESK, SJ_LEVEL_COUNTY, CO, "mzj"};

typedef struct answer {
    countyd_arena arena;
    Sanji__QueryResult out;
} answer;

static void ask(fx *f, answer *r, const countyd_asker *k, const countyd_stars_config *cfg,
                uint32_t year, uint32_t quarter, const char *unit)
{
    (void)f;
    Sanji__StarQuery sq = SANJI__STAR_QUERY__INIT;
    sq.year = year;
    sq.quarter = quarter;
    sq.unit = (char *)(unit ? unit : "");
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_STARS;
    q.stars = &sq;
    countyd_query_opts o = {3, 30, NULL, cfg};
    countyd_arena_init(&r->arena);
    sj_error err;
    if (countyd_query_answer(f->db, &r->arena, k, &o, &q, &r->out, &err) != 0)
        fail_msg("query: %s", err.message);
}

static const Sanji__StarStation *station(const answer *r, const char *unit)
{
    if (r->out.code != 0)
        fail_msg("refused: %s %s", sj_err_name(r->out.code), r->out.reason);
    assert_int_equal(r->out.result_case, SANJI__QUERY_RESULT__RESULT_STARS);
    for (size_t i = 0; i < r->out.stars->n_stations; i++)
        if (strcmp(r->out.stars->stations[i]->unit, unit) == 0)
            return r->out.stars->stations[i];
    return NULL;
}

/* "daiban record duty service on_time" as 0/1 */
static void expect_stars(const Sanji__StarStation *s, const char *want, uint32_t n)
{
    char got[16];
    snprintf(got, sizeof got, "%d%d%d%d%d", s->daiban_star, s->record_star, s->duty_star,
             s->service_star, s->on_time_star);
    if (strcmp(got, want) != 0)
        fail_msg("%s: stars %s, want %s", s->unit, got, want);
    assert_int_equal(s->stars, n);
}

static void test_quarter_by_hand(void **state)
{
    fx *f = *state;
    answer r;
    ask(f, &r, &COUNTY, NULL, 2026, 4, NULL);
    assert_int_equal(r.out.stars->n_stations, 3);
    assert_int_equal(r.out.stars->from_ms, at(2026, 10, 1, 0));
    assert_int_equal(r.out.stars->to_ms, at(2027, 1, 1, 0));
    assert_int_equal(r.out.stars->thresholds->duty_percent, 80);
    const Sanji__StarStation *a = station(&r, VA);
    assert_non_null(a);
    assert_string_equal(a->label, "甲村");
    assert_int_equal(a->registered, 4);
    assert_int_equal(a->finished, 4);
    assert_true(a->finish_rate == 1.0);
    assert_int_equal(a->daiban_finished, 3);
    assert_int_equal(a->missing_records, 0);
    assert_int_equal(a->verdicts, 4);
    assert_true(a->satisfaction_rate == 1.0);
    assert_int_equal(a->on_time, 4);
    assert_int_equal(a->duty_minutes, 66 * 540);
    assert_int_equal(a->staffed_minutes, 65 * 540);
    expect_stars(a, "11111", 5);
    const Sanji__StarStation *b = station(&r, VB);
    assert_non_null(b);
    assert_int_equal(b->registered, 3);
    assert_int_equal(b->finished, 2);
    assert_int_equal(b->daiban_finished, 0);
    assert_int_equal(b->missing_records, 2);
    assert_int_equal(b->verdicts, 1);
    assert_true(b->satisfaction_rate == 0.0);
    assert_int_equal(b->on_time, 1);
    assert_true(b->on_time_rate == 0.5);
    assert_int_equal(b->duty_minutes, 66 * 540);
    assert_int_equal(b->staffed_minutes, 65 * 270);
    expect_stars(b, "00000", 0);
    const Sanji__StarStation *c = station(&r, VC);
    assert_non_null(c);
    /* Case 8 earns C what needs no presence (no rows: no 值班星; 1 case,
     * no 代办). */
    expect_stars(c, "01011", 3);
    countyd_arena_free(&r.arena);
}

static void test_year_by_hand(void **state)
{
    fx *f = *state;
    answer r;
    ask(f, &r, &COUNTY, NULL, 2026, 0, NULL);
    const Sanji__StarStation *a = station(&r, VA);
    assert_int_equal(a->daiban_finished, 3); /* a year needs 4 x 3 */
    assert_int_equal(a->duty_minutes, 261 * 540);
    assert_int_equal(a->staffed_minutes, 65 * 540);
    expect_stars(a, "01011", 3);
    countyd_arena_free(&r.arena);
}

static void test_thresholds_moved(void **state)
{
    fx *f = *state;
    countyd_stars_config cfg;
    countyd_stars_defaults(&cfg);
    cfg.daiban_min = 4;          /* A's 3 no longer do */
    cfg.record_missing_max = 2;  /* B's 2 missing records now pass */
    cfg.duty_percent = 49;       /* B staffed 17550 / 35640 = 49.2 % */
    cfg.service_percent = 0;     /* any verdict will do */
    cfg.on_time_percent = 50;    /* B's 1 of 2 */
    answer r;
    ask(f, &r, &COUNTY, &cfg, 2026, 4, NULL);
    expect_stars(station(&r, VA), "01111", 4);
    expect_stars(station(&r, VB), "01111", 4);
    assert_int_equal(r.out.stars->thresholds->daiban_min, 4);
    countyd_arena_free(&r.arena);
    cfg.service_min_verdicts = 2; /* B has one verdict */
    cfg.duty_percent = 50;
    ask(f, &r, &COUNTY, &cfg, 2026, 4, NULL);
    expect_stars(station(&r, VB), "01001", 2);
    countyd_arena_free(&r.arena);
}

static void test_scope(void **state)
{
    fx *f = *state;
    answer r;
    ask(f, &r, &TOWN_X, NULL, 2026, 4, NULL);
    assert_int_equal(r.out.stars->n_stations, 2);
    assert_non_null(station(&r, VA));
    assert_non_null(station(&r, VB));
    assert_null(station(&r, VC));
    countyd_arena_free(&r.arena);
    ask(f, &r, &STATION_A, NULL, 2026, 4, NULL);
    assert_int_equal(r.out.stars->n_stations, 1);
    expect_stars(station(&r, VA), "11111", 5);
    countyd_arena_free(&r.arena);
    ask(f, &r, &TOWN_X, NULL, 2026, 4, VC);
    assert_int_equal(r.out.code, SJ_ESCOPE);
    countyd_arena_free(&r.arena);
    ask(f, &r, &DEPT, NULL, 2026, 4, NULL);
    assert_int_equal(r.out.code, SJ_ESCOPE);
    countyd_arena_free(&r.arena);
    ask(f, &r, &COUNTY, NULL, 2026, 5, NULL);
    assert_int_equal(r.out.code, SJ_EINVAL);
    assert_non_null(strstr(r.out.reason, "1"));
    countyd_arena_free(&r.arena);
}

/* The county sets the thresholds in its configuration file: the keys
 * reach the rating and `sanji-countyd stars thresholds` shows them. */
static void test_thresholds_from_the_config_file(void **state)
{
    fx *f = *state;
    char dir[] = "/tmp/sanji-stars-conf.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/county.conf", dir);
    FILE *c = fopen(path, "w");
    assert_non_null(c);
    fputs("[county]\ncode = 410423\n[stars]\ndaiban_min = 4\nduty_percent = 49\n"
          "[presence]\nduty_hours = 09:00-17:00\n",
          c);
    fclose(c);
    countyd_config cfg;
    sj_error err;
    int rc = countyd_config_load(path, &cfg, &err);
    unlink(path);
    rmdir(dir);
    if (rc != 0)
        fail_msg("config: %s", err.message);
    assert_int_equal(cfg.stars.daiban_min, 4);
    assert_int_equal(cfg.stars.duty_percent, 49);
    assert_int_equal(cfg.stars.service_percent, 90); /* a default */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    countyd_stars_print_thresholds(m, &cfg.stars, &cfg.duty);
    fclose(m);
    assert_non_null(strstr(text, "stars.daiban_min               = 4"));
    assert_non_null(strstr(text, "presence.duty_hours            = 09:00-17:00"));
    free(text);
    answer r;
    ask(f, &r, &COUNTY, &cfg.stars, 2026, 4, NULL);
    expect_stars(station(&r, VA), "01111", 4); /* 3 代办 < 4 */
    countyd_arena_free(&r.arena);
    countyd_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quarter_by_hand),
        cmocka_unit_test(test_year_by_hand),
        cmocka_unit_test(test_thresholds_moved),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_thresholds_from_the_config_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
