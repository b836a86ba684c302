/*
 * test_server_stats_month.c - the period statistics' monthly roll-up
 * (migration 0018, server/stats_month.c, docs/STATISTICS.md "Answering")
 * on a real PostgreSQL 15: a county's questions over full past months add
 * those up from stats_month, and every figure of every row must be what
 * counting the cases gives.
 *
 * A known history (cases of September to November 2026, through the
 * county's real apply path on a faked clock) is asked about by every
 * grouping for a year, a quarter and a range with partial months at both
 * edges, on 2026-12-05.  The reference is the same question counted from
 * the cases alone (countyd_stats_month_use(false)).  Then:
 *   - a kept month's rows are altered behind the county's back: the answer
 *     changes (so it is read from the roll-up), and once the month is
 *     marked it is counted again and right;
 *   - cases of old months change (a 差评 feedback on a September case, a
 *     late finish of an October case, a withdrawal): the months are marked
 *     by the writes themselves, counted again, and the answers equal the
 *     cases' again and differ from before;
 *   - the calendar changes (a holiday in October): the months are counted
 *     on the new calendar;
 *   - asked in January 2027, the year 2026 is full: its working days come
 *     from the year's added-up histograms, until one of its months
 *     changes, and are added up again after.
 * The test calendar holds made-up holidays: test data, not an official
 * arrangement.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apply.h"
#include "apply_fixture.h"
#include "clock.h"
#include "db.h"
#include "pg_test.h"
#include "query.h"
#include "stats_month.h"

#define VA AFT_VA
#define VB AFT_VB
#define VC AFT_VC
#define TX AFT_TX
#define CO AFT_CO

static const countyd_peer P_VA = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VA, "village:" VA};
static const countyd_peer P_VB = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VB, "village:" VB};
static const countyd_peer P_VC = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VC, "village:" VC};
static const countyd_peer P_TX = {SANJI__NODE_ROLE__NODE_ROLE_TOWNSHIP_DESK, TX,
                                  "township-desk:" TX};

static const countyd_asker COUNTY = {SJ_NODE_ROLE_COUNTY_DESK, SJ_LEVEL_COUNTY, CO, ""};

typedef aft_county fx;

/* hh:00 China time of a date in 2026. */
static int64_t at(int m, int d, int hh)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(2026, m, d)) +
           (int64_t)hh * 3600 * 1000;
}

/* The moment the questions are asked. */
#define NOW at(12, 5, 10)

static uint64_t version_of(fx *f, int n)
{
    char sql[192];
    snprintf(sql, sizeof sql,
             "SELECT version FROM cases WHERE case_id = '01000000-0000-7000-0000-0000000000%02x'",
             n);
    char *v = pgt_scalar(f->db, sql);
    if (!v)
        fail_msg("case %d not found", n);
    uint64_t x = strtoull(v, NULL, 10);
    free(v);
    return x;
}

#define A(name) SANJI__CASE_ACTION_TYPE__CASE_ACTION_##name

/* Action type on case n by peer's person at when (the clock is set to it),
 * with a satisfaction for a feedback; fails the test unless APPLIED. */
static void act(fx *f, const countyd_peer *peer, const char *person, int n,
                Sanji__CaseActionType type, int64_t when, Sanji__Satisfaction sat)
{
    sj_clock_set_fake_now_ms(when);
    Sanji__CaseAction a = SANJI__CASE_ACTION__INIT;
    uint8_t id[16];
    aft_case_id(id, n);
    a.case_id.data = id;
    a.case_id.len = 16;
    a.action = type;
    a.expected_version = version_of(f, n);
    a.actor_person = (char *)person;
    a.acted_at_ms = when;
    bool resolves = type == A(RESOLVE) || type == A(RESOLVE_AT_ONCE);
    bool reasoned = type == A(WITHDRAW) || type == A(RETURN_UNDOABLE);
    a.note = reasoned ? "说明" : "";
    a.result = resolves ? "已办好" : "";
    a.department = "";
    a.satisfaction = sat;
    aft_applied(f, peer, NULL, &a);
}

#define NOSAT  SANJI__SATISFACTION__SATISFACTION_UNSPECIFIED
#define SAT(s) SANJI__SATISFACTION__SATISFACTION_##s

/* Township X accepts an escalated case n and resolves it at done. */
static void township_resolves(fx *f, int n, int64_t accepted, int64_t done)
{
    act(f, &P_TX, "tx", n, A(ACCEPT), accepted, NOSAT);
    act(f, &P_TX, "tx", n, A(RESOLVE), done, NOSAT);
}

static void build(fx *f)
{
    /* September: at once and rated, at the township (two late), returned,
     * withdrawn. */
    aft_register(f, 1, &P_VA, "pa", "V-1", "王大妈", at(9, 7, 10));
    act(f, &P_VA, "pa", 1, A(RESOLVE_AT_ONCE), at(9, 7, 11), NOSAT);
    act(f, &P_VA, "pa", 1, A(FEEDBACK), at(9, 7, 12), SAT(SATISFIED));
    aft_register(f, 2, &P_VA, "pa", "T-1", "李大爷", at(9, 8, 10));
    act(f, &P_VA, "pa", 2, A(ESCALATE), at(9, 8, 11), NOSAT);
    township_resolves(f, 2, at(9, 9, 9), at(9, 25, 10));
    aft_register(f, 3, &P_VB, "pb", "T-1", "赵阿姨", at(9, 10, 10));
    act(f, &P_VB, "pb", 3, A(ESCALATE), at(9, 10, 11), NOSAT);
    township_resolves(f, 3, at(9, 10, 12), at(9, 11, 16));
    act(f, &P_VB, "pb", 3, A(FEEDBACK), at(9, 12, 9), SAT(BASICALLY_SATISFIED));
    aft_register(f, 4, &P_VB, "pb", "T-1", "钱叔", at(9, 14, 10));
    act(f, &P_VB, "pb", 4, A(ESCALATE), at(9, 14, 11), NOSAT);
    act(f, &P_TX, "tx", 4, A(ACCEPT), at(9, 14, 12), NOSAT);
    act(f, &P_TX, "tx", 4, A(RETURN_UNDOABLE), at(9, 15, 10), NOSAT);
    aft_register(f, 5, &P_VC, "pc", "V-1", "孙婆婆", at(9, 28, 10));
    act(f, &P_VC, "pc", 5, A(WITHDRAW), at(9, 28, 11), NOSAT);
    /* October: at once at C, one at the township across the holiday
     * week, one left open (finished late in the test), one at once. */
    aft_register(f, 6, &P_VC, "pc", "V-1", "周伯", at(10, 9, 10));
    act(f, &P_VC, "pc", 6, A(RESOLVE_AT_ONCE), at(10, 9, 10), NOSAT);
    aft_register(f, 7, &P_VA, "pa", "T-1", "吴姐", at(10, 12, 10));
    act(f, &P_VA, "pa", 7, A(ESCALATE), at(10, 12, 11), NOSAT);
    township_resolves(f, 7, at(10, 13, 9), at(10, 16, 17));
    aft_register(f, 8, &P_VB, "pb", "T-1", "郑哥", at(10, 20, 10));
    act(f, &P_VB, "pb", 8, A(ESCALATE), at(10, 20, 11), NOSAT);
    act(f, &P_TX, "tx", 8, A(ACCEPT), at(10, 21, 9), NOSAT);
    aft_register(f, 9, &P_VA, "pa", "V-1", "冯奶奶", at(10, 31, 23));
    act(f, &P_VA, "pa", 9, A(RESOLVE_AT_ONCE), at(10, 31, 23), NOSAT);
    /* November and December. */
    aft_register(f, 10, &P_VA, "pa", "T-1", "陈叔", at(11, 3, 10));
    act(f, &P_VA, "pa", 10, A(ESCALATE), at(11, 3, 11), NOSAT);
    township_resolves(f, 10, at(11, 4, 9), at(11, 10, 10));
    aft_register(f, 11, &P_VB, "pb", "V-1", "褚大妈", at(11, 30, 10));
    aft_register(f, 12, &P_VA, "pa", "V-1", "卫大爷", at(12, 2, 10));
    act(f, &P_VA, "pa", 12, A(RESOLVE_AT_ONCE), at(12, 2, 10), NOSAT);
    sj_clock_set_fake_now_ms(NOW);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    aft_open(f, "t_stmon",
             "('2026-10-01', 'holiday', '测试假日'), ('2026-10-02', 'holiday', '测试假日'),"
             " ('2026-10-10', 'workday', '测试调休')",
             "INSERT INTO catalogue_category VALUES ('ZX', '咨询服务');"
             " UPDATE catalogue_item SET category = 'ZX' WHERE code = 'V-1';"
             " INSERT INTO person (id, name, role, org_unit, verifier) VALUES"
             " ('pc', '丙干部', 1, '" VC "', 'scrypt$x')",
             at(9, 1, 9));
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

/* --- asking ------------------------------------------------------------------------ */

/* The questions: a year, a quarter with one full month, a range with
 * partial months at both edges and two full ones, and every grouping. */
typedef struct question {
    Sanji__StatPeriod period;
    const char *at;
    int64_t from, to; /* a range */
} question;

static question questions[3];

/* The answer to q by group, asked with the clock at now, packed with its
 * times cleared (they say when it was computed, not what). */
static size_t answer_packed(fx *f, const question *q, int group, int64_t now, uint8_t **out,
                            Sanji__PeriodStatRow *total)
{
    sj_clock_set_fake_now_ms(now);
    Sanji__PeriodStatQuery pq = SANJI__PERIOD_STAT_QUERY__INIT;
    pq.period = q->period;
    pq.at = (char *)(q->at ? q->at : "");
    pq.from_ms = q->from;
    pq.to_ms = q->to;
    pq.group_by = (Sanji__StatGroup)group;
    pq.unit = "";
    Sanji__Query qq = SANJI__QUERY__INIT;
    qq.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
    qq.period_statistics = &pq;
    countyd_arena arena;
    countyd_arena_init(&arena);
    Sanji__QueryResult res = SANJI__QUERY_RESULT__INIT;
    sj_error err;
    if (countyd_query_answer(f->db, &arena, &COUNTY, NULL, &qq, &res, &err) != 0)
        fail_msg("query: %s", err.message);
    if (res.code != 0)
        fail_msg("refused: %s", res.reason);
    Sanji__PeriodStatistics *s = res.period_statistics;
    assert_non_null(s);
    s->computed_at_ms = 0;
    if (total)
        *total = *s->total; /* the counts only: its strings die with the arena */
    size_t n = sanji__period_statistics__get_packed_size(s);
    *out = malloc(n);
    assert_non_null(*out);
    sanji__period_statistics__pack(s, *out);
    countyd_arena_free(&arena);
    sj_clock_set_fake_now_ms(NOW);
    return n;
}

/* Every question by every grouping: the answer on NOW (from the roll-up
 * where months are full) equals the answer counted from the cases.  Returns the year's total by
 * nothing. */
static Sanji__PeriodStatRow all_the_same_at(fx *f, int64_t now)
{
    Sanji__PeriodStatRow year = SANJI__PERIOD_STAT_ROW__INIT;
    for (size_t i = 0; i < sizeof questions / sizeof questions[0]; i++)
        for (int g = SANJI__STAT_GROUP__STAT_GROUP_NONE; g <= SANJI__STAT_GROUP__STAT_GROUP_LEVEL;
             g++) {
            uint8_t *kept, *live;
            Sanji__PeriodStatRow t;
            size_t nk = answer_packed(f, &questions[i], g, now, &kept, &t);
            countyd_stats_month_use(false);
            size_t nl = answer_packed(f, &questions[i], g, now, &live, NULL);
            countyd_stats_month_use(true);
            if (nk != nl || memcmp(kept, live, nk) != 0)
                fail_msg("question %zu by grouping %d: the roll-up's answer differs from the"
                         " cases'",
                         i, g);
            free(kept);
            free(live);
            if (i == 0 && g == 0)
                year = t;
        }
    return year;
}

static Sanji__PeriodStatRow all_the_same(fx *f)
{
    return all_the_same_at(f, NOW);
}

static long count_of(fx *f, const char *sql)
{
    char *v = pgt_scalar(f->db, sql);
    assert_non_null(v);
    long n = strtol(v, NULL, 10);
    free(v);
    return n;
}

/* Whether month m (countyd_stats_month_of()) is kept, marked. */
static long kept(fx *f, int64_t ms)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM stats_month_state WHERE month = %d",
             countyd_stats_month_of(ms));
    return count_of(f, sql);
}

static long marked(fx *f, int64_t ms)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM stats_month_dirty WHERE month = %d",
             countyd_stats_month_of(ms));
    return count_of(f, sql);
}

static void set_questions(void)
{
    questions[0] = (question){SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, "2026", 0, 0};
    questions[1] = (question){SANJI__STAT_PERIOD__STAT_PERIOD_QUARTER, "2026-Q3", 0, 0};
    questions[2] =
        (question){SANJI__STAT_PERIOD__STAT_PERIOD_RANGE, NULL, at(9, 10, 0), at(12, 3, 0)};
}

/* The roll-up gives the cases' figures, and is what is read. */
static void test_rollup_equals_cases(void **state)
{
    fx *f = *state;
    set_questions();
    Sanji__PeriodStatRow year = all_the_same(f);
    assert_int_equal(year.registered, 12);
    /* September to November are kept; December (this month) never is. */
    assert_int_equal(kept(f, at(9, 1, 0)) + kept(f, at(10, 1, 0)) + kept(f, at(11, 1, 0)), 3);
    assert_int_equal(kept(f, at(12, 1, 0)), 0);
    assert_int_equal(marked(f, at(9, 1, 0)) + marked(f, at(10, 1, 0)), 0);
    /* Altered behind the county's back, October's rows are what the year
     * adds up: so they are read, not the cases. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE stats_month SET registered = registered + 100"
             " WHERE ctid = (SELECT ctid FROM stats_month WHERE month = %d"
             " AND grp = 0 LIMIT 1)",
             countyd_stats_month_of(at(10, 1, 0)));
    pgt_exec(f->db, sql);
    uint8_t *p;
    Sanji__PeriodStatRow t;
    answer_packed(f, &questions[0], 0, NOW, &p, &t);
    free(p);
    assert_int_equal(t.registered, 112);
    /* Marked, October is counted again. */
    snprintf(sql, sizeof sql, "INSERT INTO stats_month_dirty VALUES (%d)",
             countyd_stats_month_of(at(10, 1, 0)));
    pgt_exec(f->db, sql);
    year = all_the_same(f);
    assert_int_equal(year.registered, 12);
    assert_int_equal(marked(f, at(10, 1, 0)), 0);
}

/* Cases of old months change: the writes mark their months, which are
 * counted again. */
static void test_old_months_change(void **state)
{
    fx *f = *state;
    set_questions();
    Sanji__PeriodStatRow before = all_the_same(f);
    /* A 差评 on September's case 2, a late finish of October's case 8 and
     * a withdrawal of November's case 11, on 12-05. */
    act(f, &P_VA, "pa", 2, A(FEEDBACK), NOW, SAT(UNSATISFIED));
    act(f, &P_TX, "tx", 8, A(RESOLVE), NOW + 1000, NOSAT);
    act(f, &P_VB, "pb", 11, A(WITHDRAW), NOW + 3000, NOSAT);
    sj_clock_set_fake_now_ms(NOW);
    assert_int_equal(marked(f, at(9, 1, 0)), 1);
    assert_int_equal(marked(f, at(10, 1, 0)), 1);
    assert_int_equal(marked(f, at(11, 1, 0)), 1);
    Sanji__PeriodStatRow after = all_the_same(f);
    assert_int_equal(marked(f, at(9, 1, 0)) + marked(f, at(10, 1, 0)), 0);
    /* The figures moved as the changes say. */
    assert_int_equal(after.unsatisfied, before.unsatisfied + 1);
    assert_int_equal(after.bad_evaluations, before.bad_evaluations + 1);
    assert_int_equal(after.finished, before.finished + 1);
    assert_int_equal(after.on_time, before.on_time);
    assert_int_equal(after.withdrawn, before.withdrawn + 1);
    assert_int_equal(after.open, before.open - 2);
}

/* Another calendar: the months are counted on it. */
static void test_calendar_changes(void **state)
{
    fx *f = *state;
    set_questions();
    Sanji__PeriodStatRow before = all_the_same(f);
    pgt_exec(f->db, "INSERT INTO holiday VALUES ('2026-10-14', 'holiday', '测试假日'),"
                    " ('2026-09-24', 'holiday', '测试假日')");
    Sanji__PeriodStatRow after = all_the_same(f);
    /* Cases 2 and 7 took a working day less. */
    assert_true(after.avg_working_days < before.avg_working_days);
}

/* A full past year: its working days are read from the year's added-up
 * histograms while its twelve months are the ones they were added up
 * from, and from the months once one of them changed. */
static void test_full_year(void **state)
{
    fx *f = *state;
    set_questions();
    const int64_t later = at(12, 31, 12) + 15 * 86400000LL; /* 2027-01-15 */
    Sanji__PeriodStatRow before = all_the_same_at(f, later);
    assert_int_equal(before.registered, 12);
    assert_int_equal(count_of(f, "SELECT count(*) FROM stats_year_state WHERE year = 56"), 1);
    assert_true(count_of(f, "SELECT count(*) FROM stats_year_wd WHERE year = 56") > 0);
    /* Altered behind the county's back, the year's histogram is what the
     * year's working days are made of. */
    pgt_exec(f->db, "UPDATE stats_year_wd SET wd = wd + 100 WHERE year = 56 AND grp = 0");
    uint8_t *p;
    Sanji__PeriodStatRow t;
    sj_clock_set_fake_now_ms(later);
    answer_packed(f, &questions[0], 0, later, &p, &t);
    free(p);
    assert_true(t.avg_working_days > before.avg_working_days + 99);
    /* A case of September changes: the year is no longer its months'. */
    act(f, &P_VA, "pa", 2, A(FEEDBACK), later, SAT(UNSATISFIED));
    Sanji__PeriodStatRow after = all_the_same_at(f, later);
    assert_int_equal(after.unsatisfied, before.unsatisfied + 1);
    assert_true(after.avg_working_days < before.avg_working_days + 1);
    /* and the year is added up again from its months as counted now */
    char *v = pgt_scalar(f->db, "SELECT t.gens = (SELECT array_agg(s.gen ORDER BY s.month)"
                                " FROM stats_month_state s WHERE s.month / 12 = 56)"
                                " FROM stats_year_state t WHERE t.year = 56");
    assert_string_equal(v, "t");
    free(v);
    assert_int_equal(count_of(f, "SELECT count(*) FROM stats_year_wd WHERE year = 56 AND wd > 99"),
                     0);
}

/* The months of migration 0018's SQL functions are stats_month.c's. */
static void test_month_numbers(void **state)
{
    fx *f = *state;
    const int64_t times[] = {0,
                             at(1, 1, 0) - 1,
                             at(1, 1, 0),
                             at(2, 28, 23),
                             at(3, 1, 0) - 1,
                             at(3, 1, 0),
                             at(12, 31, 23),
                             sj_clock_china_day_start_ms(sj_clock_days_from_civil(2028, 2, 29)),
                             sj_clock_china_day_start_ms(sj_clock_days_from_civil(2099, 12, 31))};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        char sql[160];
        int32_t m = countyd_stats_month_of(times[i]);
        snprintf(sql, sizeof sql, "SELECT sanji_stats_month(%lld)", (long long)times[i]);
        assert_int_equal(count_of(f, sql), m);
        snprintf(sql, sizeof sql, "SELECT sanji_stats_month_start(%d)", m);
        char *v = pgt_scalar(f->db, sql);
        assert_non_null(v);
        assert_int_equal(strtoll(v, NULL, 10), countyd_stats_month_start_ms(m));
        free(v);
        assert_true(countyd_stats_month_start_ms(m) <= times[i]);
        assert_true(countyd_stats_month_start_ms(m + 1) > times[i]);
    }
    /* The triggers' month of now is the month of now. */
    assert_int_equal(count_of(f, "SELECT (sanji_stats_month_now_start() = sanji_stats_month_start("
                                 "sanji_stats_month((extract(epoch FROM statement_timestamp())"
                                 " * 1000)::bigint)))::int"),
                     1);
    /* Full months: none in a month's part; this month is never one. */
    int32_t lo, hi;
    assert_false(countyd_stats_full_months(at(10, 1, 1), at(11, 30, 0), NOW, &lo, &hi));
    assert_true(countyd_stats_full_months(at(10, 1, 0), at(12, 1, 0), NOW, &lo, &hi));
    assert_int_equal(lo, countyd_stats_month_of(at(10, 1, 0)));
    assert_int_equal(hi, countyd_stats_month_of(at(12, 1, 0)));
    assert_true(countyd_stats_full_months(at(10, 1, 0), at(12, 31, 0) + 86400000, NOW, &lo, &hi));
    assert_int_equal(hi, countyd_stats_month_of(NOW));
    /* On a month's first day the month before is not kept yet: writes made
     * while it went on did not mark it. */
    assert_true(countyd_stats_full_months(at(10, 1, 0), at(12, 31, 0), at(12, 1, 23), &lo, &hi));
    assert_int_equal(hi, countyd_stats_month_of(at(11, 1, 0)));
    assert_true(countyd_stats_full_months(at(10, 1, 0), at(12, 31, 0), at(12, 2, 1), &lo, &hi));
    assert_int_equal(hi, countyd_stats_month_of(at(12, 1, 0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_month_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_equals_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_months_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calendar_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_year, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
