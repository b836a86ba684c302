/*
 * test_server_stats.c - the period statistics (server/stats.c,
 * docs/STATISTICS.md) on a real PostgreSQL 15: ten cases live known
 * histories through the county's real apply path (countyd_apply_batch)
 * and its supervision sweep, on a faked clock walking through October to
 * December 2026, and every figure of PeriodStatRow is compared with the
 * value worked out by hand below for several periods and groupings:
 *   - the county desk: November by nothing, by township, handling, level,
 *     department; a day, a range, a quarter, a year, October;
 *   - scope: a township desk sees its villages only and is refused another
 *     township's unit; a station sees itself only; a department desk the
 *     cases dispatched to it;
 *   - bad periods and groupings are refused with a reason.
 * The test calendar holds one made-up holiday (Wednesday 2026-11-04) and
 * one made-up make-up working day (Sunday 2026-11-08): test data, not an
 * official arrangement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply.h"
#include "clock.h"
#include "case.h"
#include "csv.h"
#include "db.h"
#include "haocha.h"
#include "i18n.h"
#include "migrate.h"
#include "personal.h"
#include "apply_fixture.h"
#include "pg_test.h"
#include "query.h"
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
static const countyd_peer P_MZJ = {SANJI__NODE_ROLE__NODE_ROLE_DEPARTMENT_DESK, CO,
                                   "department-desk:" CO ":mzj"};

typedef aft_county fx;

/* hh:00 China time of a date in 2026. */
static int64_t at(int m, int d, int hh)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(2026, m, d)) +
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
    aft_register(f, n, peer, person, item, "王大妈", when);
}

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

/* The fields an action may carry, as the test gives them. */
typedef struct extra {
    const char *note, *result, *department;
    const char *mat;         /* one material: REQUEST_MATERIALS */
    Sanji__Satisfaction sat; /* FEEDBACK */
    uint32_t days;           /* EXTEND_REQUEST */
} extra;

static void act(fx *f, const countyd_peer *peer, const char *person, int n,
                Sanji__CaseActionType type, int64_t when, extra x)
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
    a.note = (char *)(x.note ? x.note : "");
    a.result = (char *)(x.result ? x.result : "");
    a.department = (char *)(x.department ? x.department : "");
    char *mats[] = {(char *)x.mat};
    if (x.mat) {
        a.materials = mats;
        a.n_materials = 1;
    }
    a.satisfaction = x.sat;
    a.extend_days = x.days;
    run1(f, peer, NULL, &a);
}

#define A(name) SANJI__CASE_ACTION_TYPE__CASE_ACTION_##name
#define NOX     ((extra){0})
#define DONE    ((extra){.result = "已办好"})
#define WHY     ((extra){.note = "说明"})
#define SAT(s)  ((extra){.sat = SANJI__SATISFACTION__SATISFACTION_##s})

/* The histories; docs/STATISTICS.md defines what each counts. */
static void build(fx *f)
{
    /* 1: 即办 at village A the day it came, very satisfied (which closes it). */
    reg(f, 1, &P_VA, "pa", "V-1", at(11, 2, 10));
    act(f, &P_VA, "pa", 1, A(RESOLVE_AT_ONCE), at(11, 2, 11), DONE);
    act(f, &P_VA, "pa", 1, A(FEEDBACK), at(11, 2, 12), SAT(VERY_SATISFIED));
    /* 2: 承办 by township X, late (due 11-09), urged by the village and
     * supervised by the county; unsatisfied (差评, rectification due 5
     * working days later, 11-27), reopened, resolved again on 11-23 (the
     * rectification, on time), called back basically satisfied on 11-24
     * (which closes it; the case keeps its 不满意). */
    reg(f, 2, &P_VA, "pa", "T-1", at(11, 2, 10));
    act(f, &P_VA, "pa", 2, A(ESCALATE), at(11, 2, 11), NOX);
    act(f, &P_TX, "tx", 2, A(ACCEPT), at(11, 3, 9), NOX);
    act(f, &P_VA, "pa", 2, A(URGE), at(11, 12, 9), WHY);
    act(f, &P_CO, "co", 2, A(SUPERVISE), at(11, 13, 9), WHY);
    act(f, &P_TX, "tx", 2, A(RESOLVE), at(11, 20, 10), DONE);
    act(f, &P_VA, "pa", 2, A(FEEDBACK), at(11, 20, 15), SAT(UNSATISFIED));
    act(f, &P_TX, "tx", 2, A(REOPEN), at(11, 23, 9), WHY);
    act(f, &P_TX, "tx", 2, A(RESOLVE), at(11, 23, 16), DONE);
    act(f, &P_VA, "pa", 2, A(CALLBACK), at(11, 24, 9),
        ((extra){.note = "电话回访，已补发", .sat = SANJI__SATISFACTION__SATISFACTION_BASICALLY_SATISFIED}));
    /* 3: 补办 at township X: materials asked twice with different lists
     * (一次告知 broken once), resolved 11-11 within its limit (due 11-10
     * plus the two working days it waited). */
    reg(f, 3, &P_VA, "pa", "T-1", at(11, 3, 10));
    act(f, &P_VA, "pa", 3, A(ESCALATE), at(11, 3, 11), NOX);
    act(f, &P_TX, "tx", 3, A(ACCEPT), at(11, 3, 12), NOX);
    act(f, &P_TX, "tx", 3, A(REQUEST_MATERIALS), at(11, 5, 10), ((extra){.mat = "户口簿"}));
    act(f, &P_VA, "pa", 3, A(SUPPLEMENT), at(11, 6, 10), NOX);
    act(f, &P_TX, "tx", 3, A(REQUEST_MATERIALS), at(11, 9, 10), ((extra){.mat = "收入证明"}));
    act(f, &P_VA, "pa", 3, A(SUPPLEMENT), at(11, 10, 10), NOX);
    act(f, &P_TX, "tx", 3, A(RESOLVE), at(11, 11, 10), DONE);
    /* 4: 代办 at the county for village B, registered on the holiday
     * 11-04: sent back down once, refused once by 民政局, dispatched again,
     * 5 days' extension asked and approved, reported, resolved 11-25. */
    reg(f, 4, &P_VB, "pb", "C-1", at(11, 4, 10));
    act(f, &P_VB, "pb", 4, A(ESCALATE), at(11, 4, 11), NOX);
    act(f, &P_TX, "tx", 4, A(ACCEPT), at(11, 5, 9), NOX);
    act(f, &P_TX, "tx", 4, A(ESCALATE), at(11, 5, 10), NOX);
    act(f, &P_CO, "co", 4, A(RETURN_DOWN), at(11, 5, 11), WHY);
    act(f, &P_TX, "tx", 4, A(ESCALATE), at(11, 5, 12), NOX);
    act(f, &P_CO, "co", 4, A(ACCEPT), at(11, 6, 9), NOX);
    act(f, &P_CO, "co", 4, A(DISPATCH), at(11, 6, 10), ((extra){.department = "mzj"}));
    act(f, &P_MZJ, "dm", 4, A(REFUSE_DISPATCH), at(11, 6, 11), WHY);
    act(f, &P_CO, "co", 4, A(DISPATCH), at(11, 6, 12), ((extra){.department = "mzj"}));
    act(f, &P_MZJ, "dm", 4, A(TAKE), at(11, 9, 9), NOX);
    act(f, &P_MZJ, "dm", 4, A(EXTEND_REQUEST), at(11, 9, 10),
        ((extra){.note = "需核查", .days = 5}));
    act(f, &P_CO, "co", 4, A(EXTEND_APPROVE), at(11, 9, 11), WHY);
    act(f, &P_MZJ, "dm", 4, A(REPORT), at(11, 24, 10), DONE);
    act(f, &P_CO, "co", 4, A(RESOLVE), at(11, 25, 10), DONE);
    /* 5: 退办 by township X the next day; satisfied with the answer (closed). */
    reg(f, 5, &P_VB, "pb", "T-1", at(11, 5, 10));
    act(f, &P_VB, "pb", 5, A(ESCALATE), at(11, 5, 11), NOX);
    act(f, &P_TX, "tx", 5, A(ACCEPT), at(11, 5, 12), NOX);
    act(f, &P_TX, "tx", 5, A(RETURN_UNDOABLE), at(11, 6, 10), WHY);
    act(f, &P_VB, "pb", 5, A(FEEDBACK), at(11, 6, 15), SAT(SATISFIED));
    /* 6: 即办 at village C (township Y), very unsatisfied (差评, due
     * 11-17), never rectified: the sweep of 12-01 marks it overdue. */
    reg(f, 6, &P_VC, "pc", "V-1", at(11, 10, 10));
    act(f, &P_VC, "pc", 6, A(RESOLVE_AT_ONCE), at(11, 10, 11), DONE);
    act(f, &P_VC, "pc", 6, A(FEEDBACK), at(11, 10, 12), SAT(VERY_UNSATISFIED));
    /* 7: escalated to township Y and never accepted: urged, supervised,
     * overdue after its due time 11-17. */
    reg(f, 7, &P_VC, "pc", "T-1", at(11, 10, 10));
    act(f, &P_VC, "pc", 7, A(ESCALATE), at(11, 10, 11), NOX);
    act(f, &P_VC, "pc", 7, A(URGE), at(11, 18, 9), WHY);
    act(f, &P_CO, "co", 7, A(SUPERVISE), at(11, 19, 9), WHY);
    /* 8: withdrawn by its applicant. */
    reg(f, 8, &P_VA, "pa", "V-1", at(11, 12, 10));
    act(f, &P_VA, "pa", 8, A(WITHDRAW), at(11, 12, 11), WHY);
    /* 9: October: 即办 at village A. */
    reg(f, 9, &P_VA, "pa", "V-1", at(10, 30, 10));
    act(f, &P_VA, "pa", 9, A(RESOLVE_AT_ONCE), at(10, 30, 11), DONE);
    /* 10: December, still open at village B. */
    reg(f, 10, &P_VB, "pb", "V-1", at(12, 1, 10));
    /* The sweep of 12-01 marks what is past its due time. */
    sj_clock_set_fake_now_ms(at(12, 1, 12));
    static const uint32_t warn[] = {80};
    countyd_apply_result *res = NULL;
    size_t n = 0;
    sj_error err;
    if (countyd_sweep_run(&f->ap, warn, 1, 1000, &res, &n, &err) != 0)
        fail_msg("sweep: %s", err.message);
    free(res);
    /* 11: December, 即办 at village A, unsatisfied on 12-01 (rectification
     * due 12-08), rectified late on 12-10 by the village that resolved
     * it, called back satisfied on 12-11. */
    reg(f, 11, &P_VA, "pa", "V-1", at(12, 1, 13));
    act(f, &P_VA, "pa", 11, A(RESOLVE_AT_ONCE), at(12, 1, 13), DONE);
    act(f, &P_VA, "pa", 11, A(FEEDBACK), at(12, 1, 14), SAT(UNSATISFIED));
    act(f, &P_VA, "pa", 11, A(RECTIFY), at(12, 10, 9), ((extra){.note = "已向村民说明并补正"}));
    act(f, &P_VA, "pa", 11, A(CALLBACK), at(12, 11, 9),
        ((extra){.note = "村民表示满意", .sat = SANJI__SATISFACTION__SATISFACTION_SATISFIED}));
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    /* The fixture's county, with a second category for V-1 and a cadre at
     * village C; a holiday and a make-up working day in November. */
    aft_open(f, "t_stats",
             "('2026-01-01', 'holiday', '元旦'), ('2026-11-04', 'holiday', '测试假日'),"
             " ('2026-11-08', 'workday', '测试调休')",
             "INSERT INTO catalogue_category VALUES ('ZX', '咨询服务');"
             " UPDATE catalogue_item SET category = 'ZX' WHERE code = 'V-1';"
             " INSERT INTO person (id, name, role, org_unit, verifier) VALUES"
             " ('pc', '丙干部', 1, '" VC "', 'scrypt$x')",
             at(10, 30, 9));
    f->ap.rectify_days = 5; /* 整改时限 of this test: 5 working days */
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

typedef struct answer {
    countyd_arena arena;
    Sanji__QueryResult out;
} answer;

static const countyd_asker COUNTY = {SJ_NODE_ROLE_COUNTY_DESK, SJ_LEVEL_COUNTY, CO, ""};
static const countyd_asker TOWN_X = {SJ_NODE_ROLE_TOWNSHIP_DESK, SJ_LEVEL_TOWNSHIP, TX, ""};
static const countyd_asker STATION_C = {SJ_NODE_ROLE_VILLAGE, SJ_LEVEL_VILLAGE, VC, ""};
static const countyd_asker DEPT_MZJ = {SJ_NODE_ROLE_DEPARTMENT_DESK, SJ_LEVEL_COUNTY, CO, "mzj"};

static void ask(fx *f, answer *r, const countyd_asker *k, Sanji__StatPeriod period,
                const char *when, Sanji__StatGroup group, const char *unit)
{
    Sanji__PeriodStatQuery pq = SANJI__PERIOD_STAT_QUERY__INIT;
    pq.period = period;
    pq.at = (char *)when;
    pq.group_by = group;
    pq.unit = (char *)(unit ? unit : "");
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
    q.period_statistics = &pq;
    countyd_arena_init(&r->arena);
    sj_error err;
    if (countyd_query_answer(f->db, &r->arena, k, NULL, &q, &r->out, &err) != 0)
        fail_msg("query: %s", err.message);
}

static const Sanji__PeriodStatistics *ok(answer *r)
{
    if (r->out.code != 0)
        fail_msg("refused: %s %s", sj_err_name(r->out.code), r->out.reason);
    assert_int_equal(r->out.result_case, SANJI__QUERY_RESULT__RESULT_PERIOD_STATISTICS);
    return r->out.period_statistics;
}

/* The expected figures of one row, worked out by hand. */
typedef struct want {
    const char *key;
    unsigned registered, withdrawn, finished, resolved, returned, open, on_time;
    double avg_wd;
    unsigned p90_wd, overdue_now, s1, s2, s3, unsat_ever, unsat_followed, rep, returns_down,
        refusals, ext_req, ext_ok, urges, supervised;
    /* 好差评: 非常满意, 非常不满意, 差评 cases, rectified on time / late /
     * open, called back. */
    unsigned s4, s5, bad, ron, rlate, ropen, cb;
} want;

static void near(double got, double expected, const char *what, const char *key)
{
    if (got < expected - 1e-9 || got > expected + 1e-9)
        fail_msg("%s of \"%s\": got %.12f, want %.12f", what, key, got, expected);
}

static double ratio(unsigned a, unsigned b)
{
    return b ? (double)a / b : 0.0;
}

static void check_row(const Sanji__PeriodStatRow *g, const want *w)
{
    assert_string_equal(g->key, w->key);
#define EQ(field, value)                                                                           \
    do {                                                                                           \
        if (g->field != (value))                                                                   \
            fail_msg(#field " of \"%s\": got %u, want %u", w->key, (unsigned)g->field,             \
                     (unsigned)(value));                                                           \
    } while (0)
    EQ(registered, w->registered);
    EQ(withdrawn, w->withdrawn);
    EQ(finished, w->finished);
    EQ(resolved, w->resolved);
    EQ(returned, w->returned);
    EQ(open, w->open);
    EQ(on_time, w->on_time);
    EQ(p90_working_days, w->p90_wd);
    EQ(overdue_now, w->overdue_now);
    EQ(satisfied, w->s1);
    EQ(basically_satisfied, w->s2);
    EQ(unsatisfied, w->s3);
    EQ(unsatisfied_ever, w->unsat_ever);
    EQ(unsatisfied_followed_up, w->unsat_followed);
    EQ(repeat_material_requests, w->rep);
    EQ(returns_down, w->returns_down);
    EQ(department_refusals, w->refusals);
    EQ(extension_requests, w->ext_req);
    EQ(extensions_approved, w->ext_ok);
    EQ(urges, w->urges);
    EQ(supervised, w->supervised);
    EQ(very_satisfied, w->s4);
    EQ(very_unsatisfied, w->s5);
    EQ(bad_evaluations, w->bad);
    EQ(rectified_on_time, w->ron);
    EQ(rectified_late, w->rlate);
    EQ(rectify_open, w->ropen);
    EQ(called_back, w->cb);
#undef EQ
    near(g->avg_working_days, w->avg_wd, "avg_working_days", w->key);
    near(g->finish_rate, ratio(w->finished, w->registered - w->withdrawn), "finish_rate", w->key);
    near(g->on_time_rate, ratio(w->on_time, w->finished), "on_time_rate", w->key);
    near(g->satisfaction_rate,
         ratio(w->s4 + w->s1 + w->s2, w->s4 + w->s1 + w->s2 + w->s3 + w->s5),
         "satisfaction_rate", w->key);
    near(g->callback_rate, ratio(w->cb, w->bad), "callback_rate", w->key);
}

static void check_rows(const Sanji__PeriodStatistics *s, const want *w, size_t n)
{
    if (s->n_rows != n)
        fail_msg("%zu rows, want %zu", s->n_rows, n);
    for (size_t i = 0; i < n; i++)
        check_row(s->rows[i], &w[i]);
}

/* Working days from registration to finish, by hand on the test
 * calendar (11-04 off, Sunday 11-08 on):
 *   1: 11-02 -> 11-02: 0        2: 11-02 -> 11-23: 15
 *   3: 11-03 -> 11-11: 6        4: 11-04 -> 11-25: 16
 *   5: 11-05 -> 11-06: 1        6: 11-10 -> 11-10: 0
 * November, the whole county: */
static const want NOVEMBER = {.key = "",
                              .registered = 8,
                              .withdrawn = 1,
                              .finished = 6,
                              .resolved = 5,
                              .returned = 1,
                              .open = 1,
                              .on_time = 5,
                              .avg_wd = 38.0 / 6,
                              .p90_wd = 16,
                              .overdue_now = 1,
                              .s1 = 1,
                              .s3 = 1,
                              .s4 = 1,
                              .s5 = 1,
                              .unsat_ever = 1,
                              .unsat_followed = 1,
                              .bad = 2,
                              .ron = 1,
                              .ropen = 1,
                              .cb = 1,
                              .rep = 1,
                              .returns_down = 1,
                              .refusals = 1,
                              .ext_req = 1,
                              .ext_ok = 1,
                              .urges = 2,
                              .supervised = 2};
/* Township X: cases 1-5 and 8. */
static const want NOV_TX = {.key = TX,
                            .registered = 6,
                            .withdrawn = 1,
                            .finished = 5,
                            .resolved = 4,
                            .returned = 1,
                            .on_time = 4,
                            .avg_wd = 38.0 / 5,
                            .p90_wd = 16,
                            .s1 = 1,
                            .s3 = 1,
                            .s4 = 1,
                            .unsat_ever = 1,
                            .unsat_followed = 1,
                            .bad = 1,
                            .ron = 1,
                            .cb = 1,
                            .rep = 1,
                            .returns_down = 1,
                            .refusals = 1,
                            .ext_req = 1,
                            .ext_ok = 1,
                            .urges = 1,
                            .supervised = 1};
/* Township Y: cases 6 and 7 (6 is overdue too, but finished: not counted). */
static const want NOV_TY = {.key = TY,
                            .registered = 2,
                            .finished = 1,
                            .resolved = 1,
                            .open = 1,
                            .on_time = 1,
                            .overdue_now = 1,
                            .s5 = 1,
                            .bad = 1,
                            .ropen = 1,
                            .urges = 1,
                            .supervised = 1};

static void test_county_november(void **state)
{
    fx *f = *state;
    answer r;
    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_NONE, NULL);
    const Sanji__PeriodStatistics *s = ok(&r);
    assert_int_equal(s->from_ms, at(11, 1, 0));
    assert_int_equal(s->to_ms, at(12, 1, 0));
    assert_string_equal(s->scope, CO);
    assert_int_equal(s->n_rows, 0);
    check_row(s->total, &NOVEMBER);
    countyd_arena_free(&r.arena);

    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP, NULL);
    s = ok(&r);
    want rows[] = {NOV_TX, NOV_TY};
    check_rows(s, rows, 2);
    assert_string_equal(s->rows[0]->label, "张官营镇");
    check_row(s->total, &NOVEMBER);
    countyd_arena_free(&r.arena);
}

static void test_county_by_handling_level_department_category(void **state)
{
    fx *f = *state;
    answer r;
    /* Handling: 0 not finished (7, 8), 1 即办 (1, 6), 2 承办 (2), 3 代办 (4),
     * 4 补办 (3), 5 退办 (5). */
    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_HANDLING, NULL);
    const Sanji__PeriodStatistics *s = ok(&r);
    want h[] = {
        {.key = "0",
         .registered = 2,
         .withdrawn = 1,
         .open = 1,
         .overdue_now = 1,
         .urges = 1,
         .supervised = 1},
        {.key = "1",
         .registered = 2,
         .finished = 2,
         .resolved = 2,
         .on_time = 2,
         .s4 = 1,
         .s5 = 1,
         .bad = 1,
         .ropen = 1},
        {.key = "2",
         .registered = 1,
         .finished = 1,
         .resolved = 1,
         .avg_wd = 15,
         .p90_wd = 15,
         .s3 = 1,
         .unsat_ever = 1,
         .unsat_followed = 1,
         .bad = 1,
         .ron = 1,
         .cb = 1,
         .urges = 1,
         .supervised = 1},
        {.key = "3",
         .registered = 1,
         .finished = 1,
         .resolved = 1,
         .on_time = 1,
         .avg_wd = 16,
         .p90_wd = 16,
         .returns_down = 1,
         .refusals = 1,
         .ext_req = 1,
         .ext_ok = 1},
        {.key = "4",
         .registered = 1,
         .finished = 1,
         .resolved = 1,
         .on_time = 1,
         .avg_wd = 6,
         .p90_wd = 6,
         .rep = 1},
        {.key = "5",
         .registered = 1,
         .finished = 1,
         .returned = 1,
         .on_time = 1,
         .avg_wd = 1,
         .p90_wd = 1,
         .s1 = 1},
    };
    check_rows(s, h, 6);
    assert_string_equal(s->rows[1]->label, _("stats: handled at once"));
    check_row(s->total, &NOVEMBER);
    countyd_arena_free(&r.arena);

    /* Level that finished it: 0 (7, 8), village (1, 6), township (2, 3,
     * 5), county (4). */
    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_LEVEL, NULL);
    s = ok(&r);
    want l[] = {
        h[0],
        h[1],
        {.key = "2",
         .registered = 3,
         .finished = 3,
         .resolved = 2,
         .returned = 1,
         .on_time = 2,
         .avg_wd = 22.0 / 3,
         .p90_wd = 15,
         .s1 = 1,
         .s3 = 1,
         .unsat_ever = 1,
         .unsat_followed = 1,
         .bad = 1,
         .ron = 1,
         .cb = 1,
         .rep = 1,
         .urges = 1,
         .supervised = 1},
        h[3],
    };
    l[2].key = "2";
    l[3].key = "3";
    check_rows(s, l, 4);
    countyd_arena_free(&r.arena);

    /* Department: "" (all but 4), mzj (4). */
    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT, NULL);
    s = ok(&r);
    want d[] = {
        {.key = "",
         .registered = 7,
         .withdrawn = 1,
         .finished = 5,
         .resolved = 4,
         .returned = 1,
         .open = 1,
         .on_time = 4,
         .avg_wd = 22.0 / 5,
         .p90_wd = 15,
         .overdue_now = 1,
         .s1 = 1,
         .s3 = 1,
         .s4 = 1,
         .s5 = 1,
         .unsat_ever = 1,
         .unsat_followed = 1,
         .bad = 2,
         .ron = 1,
         .ropen = 1,
         .cb = 1,
         .rep = 1,
         .urges = 2,
         .supervised = 2},
        h[3],
    };
    d[1].key = "mzj";
    check_rows(s, d, 2);
    assert_string_equal(s->rows[1]->label, "县民政局");
    countyd_arena_free(&r.arena);

    /* Category: MZ (items T-1, C-1: cases 2, 3, 4, 5, 7), ZX (V-1: 1, 6, 8). */
    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_CATEGORY, NULL);
    s = ok(&r);
    want c[] = {
        {.key = "MZ",
         .registered = 5,
         .finished = 4,
         .resolved = 3,
         .returned = 1,
         .open = 1,
         .on_time = 3,
         .avg_wd = 38.0 / 4,
         .p90_wd = 16,
         .overdue_now = 1,
         .s1 = 1,
         .s3 = 1,
         .unsat_ever = 1,
         .unsat_followed = 1,
         .bad = 1,
         .ron = 1,
         .cb = 1,
         .rep = 1,
         .returns_down = 1,
         .refusals = 1,
         .ext_req = 1,
         .ext_ok = 1,
         .urges = 2,
         .supervised = 2},
        {.key = "ZX",
         .registered = 3,
         .withdrawn = 1,
         .finished = 2,
         .resolved = 2,
         .on_time = 2,
         .s4 = 1,
         .s5 = 1,
         .bad = 1,
         .ropen = 1},
    };
    check_rows(s, c, 2);
    assert_string_equal(s->rows[1]->label, "咨询服务");
    countyd_arena_free(&r.arena);
}

static void test_other_periods(void **state)
{
    fx *f = *state;
    answer r;
    /* One day: cases 1 and 2. */
    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_DAY, "2026-11-02",
        SANJI__STAT_GROUP__STAT_GROUP_NONE, NULL);
    want day = {.key = "",
                .registered = 2,
                .finished = 2,
                .resolved = 2,
                .on_time = 1,
                .avg_wd = 7.5,
                .p90_wd = 15,
                .s3 = 1,
                .s4 = 1,
                .unsat_ever = 1,
                .unsat_followed = 1,
                .bad = 1,
                .ron = 1,
                .cb = 1,
                .urges = 1,
                .supervised = 1};
    check_row(ok(&r)->total, &day);
    countyd_arena_free(&r.arena);
    /* October: case 9 alone, 即办 the same day. */
    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-10",
        SANJI__STAT_GROUP__STAT_GROUP_NONE, NULL);
    want oct = {.key = "", .registered = 1, .finished = 1, .resolved = 1, .on_time = 1};
    check_row(ok(&r)->total, &oct);
    countyd_arena_free(&r.arena);
    /* The quarter and the year: all eleven; case 10 is open, not overdue;
     * case 11 is a 差评 rectified late and called back. */
    want all = NOVEMBER;
    all.registered += 3;
    all.finished += 2;
    all.resolved += 2;
    all.on_time += 2;
    all.open += 1;
    all.avg_wd = 38.0 / 8;
    all.s3 += 1;
    all.unsat_ever += 1;
    all.unsat_followed += 1;
    all.bad += 1;
    all.rlate += 1;
    all.cb += 1;
    const char *names[] = {"2026-Q4", "2026"};
    Sanji__StatPeriod kinds[] = {SANJI__STAT_PERIOD__STAT_PERIOD_QUARTER,
                                 SANJI__STAT_PERIOD__STAT_PERIOD_YEAR};
    for (int i = 0; i < 2; i++) {
        ask(f, &r, &COUNTY, kinds[i], names[i], SANJI__STAT_GROUP__STAT_GROUP_NONE, NULL);
        check_row(ok(&r)->total, &all);
        countyd_arena_free(&r.arena);
    }
    /* A range of instants: 11-10 00:00 to 11-11 00:00, cases 6 and 7. */
    Sanji__PeriodStatQuery pq = SANJI__PERIOD_STAT_QUERY__INIT;
    pq.period = SANJI__STAT_PERIOD__STAT_PERIOD_RANGE;
    pq.from_ms = at(11, 10, 0);
    pq.to_ms = at(11, 11, 0);
    pq.group_by = SANJI__STAT_GROUP__STAT_GROUP_VILLAGE;
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
    q.period_statistics = &pq;
    countyd_arena_init(&r.arena);
    sj_error err;
    assert_int_equal(countyd_query_answer(f->db, &r.arena, &COUNTY, NULL, &q, &r.out, &err), 0);
    want vc = NOV_TY;
    vc.key = VC;
    check_rows(ok(&r), &vc, 1);
    assert_string_equal(ok(&r)->rows[0]->label, "丙村");
    countyd_arena_free(&r.arena);
}

static void test_scope(void **state)
{
    fx *f = *state;
    answer r;
    /* Township X sees villages A and B only. */
    ask(f, &r, &TOWN_X, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_VILLAGE, NULL);
    const Sanji__PeriodStatistics *s = ok(&r);
    assert_string_equal(s->scope, TX);
    want v[] = {
        {.key = VA,
         .registered = 4,
         .withdrawn = 1,
         .finished = 3,
         .resolved = 3,
         .on_time = 2,
         .avg_wd = 21.0 / 3,
         .p90_wd = 15,
         .s3 = 1,
         .s4 = 1,
         .unsat_ever = 1,
         .unsat_followed = 1,
         .bad = 1,
         .ron = 1,
         .cb = 1,
         .rep = 1,
         .urges = 1,
         .supervised = 1},
        {.key = VB,
         .registered = 2,
         .finished = 2,
         .resolved = 1,
         .returned = 1,
         .on_time = 2,
         .avg_wd = 17.0 / 2,
         .p90_wd = 16,
         .s1 = 1,
         .returns_down = 1,
         .refusals = 1,
         .ext_req = 1,
         .ext_ok = 1},
    };
    check_rows(s, v, 2);
    want tx = NOV_TX;
    tx.key = "";
    check_row(s->total, &tx);
    countyd_arena_free(&r.arena);
    /* ... and may narrow to its own village, not to another township's. */
    ask(f, &r, &TOWN_X, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_NONE, VB);
    want vb = v[1];
    vb.key = "";
    check_row(ok(&r)->total, &vb);
    countyd_arena_free(&r.arena);
    ask(f, &r, &TOWN_X, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_NONE, TY);
    assert_int_equal(r.out.code, SJ_ESCOPE);
    assert_int_equal(r.out.result_case, SANJI__QUERY_RESULT__RESULT__NOT_SET);
    countyd_arena_free(&r.arena);
    ask(f, &r, &TOWN_X, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-11",
        SANJI__STAT_GROUP__STAT_GROUP_NONE, CO);
    assert_int_equal(r.out.code, SJ_ESCOPE);
    countyd_arena_free(&r.arena);

    /* A station sees itself only, whatever grouping it asks for. */
    ask(f, &r, &STATION_C, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, "2026",
        SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP, NULL);
    s = ok(&r);
    assert_string_equal(s->scope, VC);
    want ty = NOV_TY;
    check_rows(s, &ty, 1);
    countyd_arena_free(&r.arena);
    ask(f, &r, &STATION_C, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, "2026",
        SANJI__STAT_GROUP__STAT_GROUP_NONE, VA);
    assert_int_equal(r.out.code, SJ_ESCOPE);
    countyd_arena_free(&r.arena);

    /* A department desk: the cases dispatched to it (case 4). */
    ask(f, &r, &DEPT_MZJ, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, "2026",
        SANJI__STAT_GROUP__STAT_GROUP_NONE, NULL);
    s = ok(&r);
    assert_string_equal(s->department, "mzj");
    want c4 = {.key = "",
               .registered = 1,
               .finished = 1,
               .resolved = 1,
               .on_time = 1,
               .avg_wd = 16,
               .p90_wd = 16,
               .returns_down = 1,
               .refusals = 1,
               .ext_req = 1,
               .ext_ok = 1};
    check_row(s->total, &c4);
    countyd_arena_free(&r.arena);
}

static void test_refusals(void **state)
{
    fx *f = *state;
    answer r;
    const struct {
        Sanji__StatPeriod kind;
        const char *at;
    } bad[] = {
        {SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026-13"},
        {SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, "2026/11"},
        {SANJI__STAT_PERIOD__STAT_PERIOD_QUARTER, "2026-Q5"},
        {SANJI__STAT_PERIOD__STAT_PERIOD_DAY, "2026-02-30"},
        {SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, "26"},
        {SANJI__STAT_PERIOD__STAT_PERIOD_RANGE, ""}, /* from == to == 0 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ask(f, &r, &COUNTY, bad[i].kind, bad[i].at, SANJI__STAT_GROUP__STAT_GROUP_NONE, NULL);
        assert_int_equal(r.out.code, SJ_EINVAL);
        assert_non_null(r.out.reason);
        assert_true(r.out.reason[0] != '\0');
        countyd_arena_free(&r.arena);
    }
    /* A range of centuries is refused before anything is read. */
    Sanji__PeriodStatQuery pq = SANJI__PERIOD_STAT_QUERY__INIT;
    pq.period = SANJI__STAT_PERIOD__STAT_PERIOD_RANGE;
    pq.from_ms = 0;
    pq.to_ms = sj_clock_china_day_start_ms(sj_clock_days_from_civil(2300, 1, 1));
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
    q.period_statistics = &pq;
    countyd_arena_init(&r.arena);
    sj_error err;
    assert_int_equal(countyd_query_answer(f->db, &r.arena, &COUNTY, NULL, &q, &r.out, &err), 0);
    assert_int_equal(r.out.code, SJ_EINVAL);
    countyd_arena_free(&r.arena);
    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, "2026", (Sanji__StatGroup)99, NULL);
    assert_int_equal(r.out.code, SJ_EINVAL);
    countyd_arena_free(&r.arena);
    /* A period with no cases: every figure 0. */
    ask(f, &r, &COUNTY, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, "2025",
        SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP, NULL);
    want none = {.key = ""};
    check_rows(ok(&r), NULL, 0);
    check_row(ok(&r)->total, &none);
    countyd_arena_free(&r.arena);
}

/* --- 好差评 ------------------------------------------------------------------------ */

static char *case_sql(fx *f, const char *what, int n)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM cases WHERE case_id = '01000000-0000-7000-0000-0000000000%02x'",
             what, n);
    char *v = pgt_scalar(f->db, sql);
    if (!v)
        fail_msg("case %d: no %s", n, what);
    return v;
}

static void case_is(fx *f, int n, const char *what, const char *expected)
{
    char *v = case_sql(f, what, n);
    if (strcmp(v, expected) != 0)
        fail_msg("case %d: %s is %s, want %s", n, what, v, expected);
    free(v);
}

static void case_ms(fx *f, int n, const char *what, int64_t expected)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)expected);
    case_is(f, n, what, buf);
}

/* The end of a China date: a rectification's due time (calendar.h: the
 * end of the n-th working day after the evaluation's day). */
static int64_t end_of(int m, int d)
{
    return at(m, d, 24) - 1;
}

/* The case columns the figures come from, and the one good/bad
 * classification: the SQL text the statistics use says what the C
 * function says, for every value. */
static void test_haocha_records(void **state)
{
    fx *f = *state;
    /* 2: 差评 on Friday 11-20, due at the end of the 5th working day after
     * (11-27); rectified by resolving again 11-23, called back 11-24. */
    case_is(f, 2, "satisfaction", "3");
    case_ms(f, 2, "rectify_due_at_ms", end_of(11, 27));
    case_ms(f, 2, "rectified_at_ms", at(11, 23, 16));
    case_is(f, 2, "rectify_late", "f");
    case_ms(f, 2, "called_back_at_ms", at(11, 24, 9));
    case_is(f, 2, "status", "10");
    /* 6: 差评 on Tuesday 11-10, due 11-17, never rectified: the sweep of
     * 12-01 marked it overdue, once, by an event of the system. */
    case_is(f, 6, "satisfaction", "5");
    case_ms(f, 6, "rectify_due_at_ms", end_of(11, 17));
    case_ms(f, 6, "rectified_at_ms", 0);
    case_is(f, 6, "rectify_late", "t");
    case_is(f, 6, "status", "9");
    char *v = pgt_scalar(f->db, "SELECT count(*) || ' ' || min(rectify_due_at_ms) || ' '"
                                " || bool_and(rectify_late) FROM case_event"
                                " WHERE action = 35");
    char marks[64];
    snprintf(marks, sizeof marks, "1 %lld true", (long long)end_of(11, 17));
    assert_string_equal(v, marks);
    free(v);
    /* 11: due 12-08, rectified 12-10: late. */
    case_ms(f, 11, "rectify_due_at_ms", end_of(12, 8));
    case_ms(f, 11, "rectified_at_ms", at(12, 10, 9));
    case_is(f, 11, "rectify_late", "t");
    /* The classification. */
    v = pgt_scalar(f->db, "SELECT string_agg(s || ':' || " SJ_SATISFACTION_GOOD_SQL("s") " || "
                          SJ_SATISFACTION_BAD_SQL("s") ", ' ' ORDER BY s)"
                          " FROM generate_series(0, 5) AS s");
    char c_says[128] = "";
    for (int i = 0; i <= 5; i++) {
        char one[16];
        snprintf(one, sizeof one, "%s%d:%s%s", i ? " " : "", i,
                 sj_satisfaction_is_good((sj_satisfaction)i) ? "true" : "false",
                 sj_satisfaction_is_bad((sj_satisfaction)i) ? "true" : "false");
        strcat(c_says, one);
    }
    assert_string_equal(v, c_says);
    free(v);
}

/* The export of November's evaluations, read back with the CSV reader:
 * the header, one row per FEEDBACK and CALLBACK in time order, and never
 * the applicant's name, ID number or phone. */
static void test_haocha_export(void **state)
{
    fx *f = *state;
    int64_t from, to;
    sj_error err;
    assert_int_equal(countyd_haocha_days("2026-11-01", "2026-11-30", &from, &to, &err), 0);
    assert_int_equal(from, at(11, 1, 0));
    assert_int_equal(to, at(12, 1, 0));
    assert_int_equal(countyd_haocha_days("2026-11-30", "2026-11-01", &from, &to, &err), SJ_EINVAL);
    assert_int_equal(countyd_haocha_days("2026-11-31", "2026-12-01", &from, &to, &err), SJ_EINVAL);
    assert_int_equal(countyd_haocha_days("2026-11-01", "2026-11-30", &from, &to, &err), 0);

    char path[64];
    snprintf(path, sizeof path, "haocha_%d.csv", (int)getpid());
    size_t rows = 0;
    if (countyd_haocha_export_file(f->db, from, to, path, &rows, &err) != 0)
        fail_msg("export: %s", err.message);
    assert_int_equal(rows, 5);

    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char bytes[16384];
    size_t len = fread(bytes, 1, sizeof bytes - 1, fp);
    fclose(fp);
    bytes[len] = '\0';
    assert_null(strstr(bytes, "王大妈"));
    assert_null(strstr(bytes, f->id_number));
    assert_null(strstr(bytes, "13800138000"));

    sj_csv csv = {0};
    if (sj_csv_read(path, &csv, &err) != 0)
        fail_msg("read back: %s", err.message);
    remove(path);
    assert_int_equal(csv.n, 6);
    static const char *const header[] = {
        "evaluation_id", "case_number", "item_code", "item_name", "service_unit_code",
        "service_unit_name", "department_code", "department_name", "station_code",
        "station_name", "evaluated_at", "channel", "satisfaction", "satisfaction_name",
        "good_bad", "rectify_status", "rectify_due_at", "rectified_at", "called_back_at",
        "callback_satisfaction", "callback_outcome"};
    assert_int_equal(csv.records[0].n, 21);
    for (size_t c = 0; c < 21; c++)
        assert_string_equal(csv.records[0].fields[c], header[c]);
    /* case, channel, time, level, name, good/bad, status, service unit,
     * due, rectified, called back, callback level, outcome */
    struct {
        int n;
        const char *channel;
        int64_t at;
        const char *sat, *name, *gb, *status, *unit;
        int64_t due, done, called;
        const char *cb_sat, *outcome;
    } rows_want[] = {
        {1, "station", at(11, 2, 12), "4", "非常满意", "好评", "", VA, 0, 0, 0, "", ""},
        {5, "station", at(11, 6, 15), "1", "满意", "好评", "", TX, 0, 0, 0, "", ""},
        {6, "station", at(11, 10, 12), "5", "非常不满意", "差评", "overdue", VC, end_of(11, 17), 0,
         0, "", ""},
        {2, "station", at(11, 20, 15), "3", "不满意", "差评", "on_time", TX, end_of(11, 27),
         at(11, 23, 16), at(11, 24, 9), "2", "电话回访，已补发"},
        {2, "callback", at(11, 24, 9), "2", "基本满意", "好评", "on_time", TX, end_of(11, 27),
         at(11, 23, 16), at(11, 24, 9), "2", "电话回访，已补发"},
    };
    for (size_t i = 0; i < 5; i++) {
        char **r = csv.records[i + 1].fields;
        assert_int_equal(csv.records[i + 1].n, 21);
        char *number = case_sql(f, "number", rows_want[i].n);
        assert_string_equal(r[1], number);
        assert_true(strncmp(r[0], number, strlen(number)) == 0 && r[0][strlen(number)] == '-');
        free(number);
        char t[48] = "";
        print_message("row %zu: case %d %s\n", i + 1, rows_want[i].n, r[11]);
        assert_string_equal(r[11], rows_want[i].channel);
        sj_clock_format_china(rows_want[i].at, t, sizeof t);
        assert_string_equal(r[10], t);
        assert_string_equal(r[12], rows_want[i].sat);
        assert_string_equal(r[13], rows_want[i].name);
        assert_string_equal(r[14], rows_want[i].gb);
        assert_string_equal(r[15], rows_want[i].status);
        assert_string_equal(r[4], rows_want[i].unit);
        const int64_t times[] = {rows_want[i].due, rows_want[i].done, rows_want[i].called};
        for (int k = 0; k < 3; k++) {
            t[0] = '\0';
            if (times[k])
                sj_clock_format_china(times[k], t, sizeof t);
            assert_string_equal(r[16 + k], t);
        }
        assert_string_equal(r[19], rows_want[i].cb_sat);
        assert_string_equal(r[20], rows_want[i].outcome);
    }
    /* Names from the records: the item, the service unit, the station. */
    assert_string_equal(csv.records[3].fields[9], "丙村");
    assert_string_equal(csv.records[4].fields[5], "张官营镇");
    sj_csv_free(&csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_november),
        cmocka_unit_test(test_county_by_handling_level_department_category),
        cmocka_unit_test(test_other_periods),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_haocha_records),
        cmocka_unit_test(test_haocha_export),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
