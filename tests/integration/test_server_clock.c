/*
 * test_server_clock.c - the case's clock applied by the county (server/
 * apply.c, sweep.c, import.c) on a real PostgreSQL 15 (docs/LIFECYCLE.md
 * "The clock"):
 *   - a case paused for the villager's materials: the sweep leaves it alone
 *     while it waits, and at the supplement its due time moves out by the
 *     working days waited, recorded on the SUPPLEMENT event; moves between
 *     levels and a return down never restart the limit, and the return is
 *     counted;
 *   - an extension asked for and approved (the due time moves, the events
 *     say by how much), another asked for and refused;
 *   - a due time in 2027 is provisional while the calendar holds only 2026,
 *     and after a 2027 arrangement is imported the county's next sweep
 *     recomputes it (DUE_RECOMPUTE event on the feed), once.
 *     The 2027 file is made here and says it is test data: no official
 *     2027 dates are invented.  Until then the county desk's network view
 *     says the 2027 arrangement is missing (from 1 November).
 * The clock is faked (sj_clock_set_fake_now_ms) to walk through the days.
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
#include "db.h"
#include "import.h"
#include "migrate.h"
#include "personal.h"
#include "apply_fixture.h"
#include "pg_test.h"
#include "query.h"
#include "sweep.h"

#define VA AFT_VA
#define TX AFT_TX
#define CO AFT_CO

static const countyd_peer P_VA = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VA, "village:" VA};
static const countyd_peer P_TX = {SANJI__NODE_ROLE__NODE_ROLE_TOWNSHIP_DESK, TX, "township-desk:" TX};
static const countyd_peer P_CO = {SANJI__NODE_ROLE__NODE_ROLE_COUNTY_DESK, CO, "county-desk:" CO};

typedef aft_county fx;

/* 10:00 China time of a date. */
static int64_t at(int y, int m, int d)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(y, m, d)) + 10 * 3600 * 1000;
}

static int64_t end_of(int y, int m, int d)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(y, m, d) + 1) - 1;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    /* The calendar holds 2026 (元旦 as the official notice gives it). */
    aft_open(f, "t_clock",
             "('2026-01-01', 'holiday', '元旦'), ('2026-01-02', 'holiday', '元旦'),"
             " ('2026-01-03', 'holiday', '元旦'), ('2026-01-04', 'workday', '元旦调休上班')",
             NULL, at(2026, 3, 2));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    aft_close(*state);
    free(*state);
    return 0;
}


static countyd_apply_result run1(fx *f, const countyd_peer *peer, const Sanji__CaseSubmit *s,
                                 const Sanji__CaseAction *a)
{
    countyd_apply_msg m = aft_msg(f, peer, s, a);
    return aft_run1(f, &m);
}

static void expect_applied(const countyd_apply_result *r)
{
    if (r->status != SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
        fail_msg("expected APPLIED, got status %d code %s: %s", r->status, sj_err_name(r->code),
                 r->reason);
}

/* Registers case n at village A now (the fake clock). */
static void register_case(fx *f, int n, const char *item)
{
    Sanji__CaseSubmit s = SANJI__CASE_SUBMIT__INIT;
    Sanji__Applicant a = SANJI__APPLICANT__INIT;
    uint8_t id[16];
    aft_case_id(id, n);
    s.case_id.data = id;
    s.case_id.len = 16;
    s.village = VA;
    s.item_code = (char *)item;
    a.name = "王大妈";
    a.id_number = f->id_number;
    a.phone = "13800138000";
    s.applicant = &a;
    s.request_text = "申请办理";
    s.actor_person = "pa";
    s.registered_at_ms = sj_clock_real_ms();
    countyd_apply_result r = run1(f, &P_VA, &s, NULL);
    expect_applied(&r);
}

static long long case_int(fx *f, int n, const char *column)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT (%s)::bigint FROM cases WHERE case_id ="
                               " '01000000-0000-7000-0000-0000000000%02x'", column, n);
    char *v = pgt_scalar(f->db, sql);
    if (!v)
        fail_msg("case %d has no %s", n, column);
    long long x = strtoll(v, NULL, 10);
    free(v);
    return x;
}

/* The last event of case n: "action clock_days due_at_ms due_provisional". */
static char *last_event(fx *f, int n)
{
    char sql[384];
    snprintf(sql, sizeof(sql), "SELECT action || ' ' || clock_days || ' ' || due_at_ms || ' ' ||"
                               " due_provisional FROM case_event WHERE case_id ="
                               " '01000000-0000-7000-0000-0000000000%02x' ORDER BY seq DESC"
                               " LIMIT 1", n);
    return pgt_scalar(f->db, sql);
}

static void expect_last_event(fx *f, int n, Sanji__CaseActionType action, unsigned days,
                              int64_t due, bool provisional)
{
    char want[128];
    snprintf(want, sizeof(want), "%d %u %lld %s", (int)action, days, (long long)due,
             provisional ? "true" : "false");
    char *got = last_event(f, n);
    if (!got || strcmp(got, want) != 0)
        fail_msg("case %d: last event \"%s\", want \"%s\"", n, got ? got : "(none)", want);
    free(got);
}

/* An action on case n at its current version, now. */
static countyd_apply_result act(fx *f, const countyd_peer *peer, int n, Sanji__CaseActionType type,
                                const char *person, const char *note, uint32_t days)
{
    Sanji__CaseAction a = SANJI__CASE_ACTION__INIT;
    uint8_t id[16];
    aft_case_id(id, n);
    a.case_id.data = id;
    a.case_id.len = 16;
    a.action = type;
    a.expected_version = (uint64_t)case_int(f, n, "version");
    a.actor_person = (char *)person;
    a.acted_at_ms = sj_clock_real_ms();
    a.note = (char *)(note ? note : "");
    a.extend_days = days;
    char *mats[] = {"户口簿", "收入证明"};
    if (type == SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS) {
        a.materials = mats;
        a.n_materials = 2;
    }
    return run1(f, peer, NULL, &a);
}

static void must(fx *f, const countyd_peer *peer, int n, Sanji__CaseActionType type,
                 const char *person, const char *note, uint32_t days)
{
    countyd_apply_result r = act(f, peer, n, type, person, note, days);
    expect_applied(&r);
}

/* What the county desk's network view says is missing from the calendar. */
static uint32_t calendar_missing_year(fx *f)
{
    countyd_asker k = {.role = SJ_NODE_ROLE_COUNTY_DESK, .level = SJ_LEVEL_COUNTY, .unit = CO};
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_NETWORK_STATUS;
    q.network_status = true;
    Sanji__QueryResult out = SANJI__QUERY_RESULT__INIT;
    countyd_arena a;
    countyd_arena_init(&a);
    sj_error err;
    if (countyd_query_answer(f->db, &a, &k, NULL, &q, &out, &err) != 0 || out.code != 0)
        fail_msg("network query: %s %s", err.message, out.reason ? out.reason : "");
    assert_int_equal(out.result_case, SANJI__QUERY_RESULT__RESULT_NETWORK);
    uint32_t y = out.network->calendar_missing_year;
    countyd_arena_free(&a);
    return y;
}

static size_t sweep(fx *f)
{
    static const uint32_t warn[] = {50, 80};
    countyd_apply_result *res = NULL;
    size_t n = 0;
    sj_error err;
    if (countyd_sweep_run(&f->ap, warn, 2, 1000, &res, &n, &err) != 0)
        fail_msg("sweep: %s", err.message);
    free(res);
    return n;
}

/* --- the pause for materials -------------------------------------------------------- */

static void test_pause_for_materials_moves_the_due_time(void **state)
{
    fx *f = *state;
    /* Monday 2026-03-02, 5 working days: due Monday 2026-03-09. */
    register_case(f, 1, "T-1");
    assert_int_equal(case_int(f, 1, "due_at_ms"), end_of(2026, 3, 9));
    assert_int_equal(case_int(f, 1, "limit_days"), 5);
    assert_int_equal(case_int(f, 1, "due_provisional::int"), 0);
    must(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, "pa", NULL, 0);
    /* Returned down and escalated again: the limit does not restart. */
    must(f, &P_TX, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RETURN_DOWN, "tx", "应先开村证明", 0);
    must(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, "pa", NULL, 0);
    must(f, &P_TX, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, "tx", NULL, 0);
    assert_int_equal(case_int(f, 1, "return_count"), 1);
    assert_int_equal(case_int(f, 1, "due_at_ms"), end_of(2026, 3, 9));

    sj_clock_set_fake_now_ms(at(2026, 3, 3));
    must(f, &P_TX, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS, "tx", NULL, 0);
    /* The faked clock runs on from the time it was set to. */
    long long paused = case_int(f, 1, "paused_at_ms");
    assert_true(paused >= at(2026, 3, 3) && paused < at(2026, 3, 3) + SJ_CLOCK_MS_PER_DAY / 2);

    /* Past the due time while waiting: the sweep leaves it alone. */
    sj_clock_set_fake_now_ms(at(2026, 3, 12));
    assert_int_equal(sweep(f), 0);
    assert_int_equal(case_int(f, 1, "overdue::int"), 0);

    /* Thursday 2026-03-12: (03-03, 03-12] holds 7 working days. */
    must(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_SUPPLEMENT, "pa", NULL, 0);
    assert_int_equal(case_int(f, 1, "paused_days"), 7);
    assert_int_equal(case_int(f, 1, "paused_at_ms"), 0);
    assert_int_equal(case_int(f, 1, "due_at_ms"), end_of(2026, 3, 18));
    expect_last_event(f, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_SUPPLEMENT, 7,
                      end_of(2026, 3, 18), false);
    /* The sweep sees the moved due time: not overdue yet. */
    assert_int_equal(sweep(f), 1); /* a warning: most of the span is used */
    assert_int_equal(case_int(f, 1, "overdue::int"), 0);
    sj_clock_set_fake_now_ms(at(2026, 3, 19));
    assert_int_equal(sweep(f), 1);
    assert_int_equal(case_int(f, 1, "overdue::int"), 1);
}

/* --- extensions --------------------------------------------------------------------- */

static void test_extension_approved_and_refused(void **state)
{
    fx *f = *state;
    register_case(f, 2, "T-1"); /* due 2026-03-09 */
    must(f, &P_VA, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, "pa", NULL, 0);
    must(f, &P_TX, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, "tx", NULL, 0);
    sj_clock_set_fake_now_ms(at(2026, 3, 5));
    must(f, &P_TX, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_REQUEST, "tx",
         "需县民政局复核", 3);
    assert_int_equal(case_int(f, 2, "extension_days"), 3);
    expect_last_event(f, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_REQUEST, 3, 0, false);
    /* The township cannot approve its own request. */
    countyd_apply_result r =
        act(f, &P_TX, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_APPROVE, "tx", NULL, 0);
    assert_int_equal(r.status, SANJI__ACK_STATUS__ACK_STATUS_REFUSED);
    assert_int_equal(r.code, SJ_EWRONG_LEVEL);
    must(f, &P_CO, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_APPROVE, "co", "同意", 0);
    assert_int_equal(case_int(f, 2, "extension_days"), 0);
    assert_int_equal(case_int(f, 2, "extended_days"), 3);
    assert_int_equal(case_int(f, 2, "due_at_ms"), end_of(2026, 3, 12));
    expect_last_event(f, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_APPROVE, 3,
                      end_of(2026, 3, 12), false);

    /* A second request, refused: the due time stays. */
    must(f, &P_TX, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_REQUEST, "tx", "仍需时间", 5);
    r = act(f, &P_CO, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_REFUSE, "co", NULL, 0);
    assert_int_equal(r.code, SJ_EMISSING_FIELD); /* a refusal says why */
    must(f, &P_CO, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_REFUSE, "co", "材料已齐，应按期办结",
         0);
    assert_int_equal(case_int(f, 2, "extension_days"), 0);
    assert_int_equal(case_int(f, 2, "extended_days"), 3);
    assert_int_equal(case_int(f, 2, "due_at_ms"), end_of(2026, 3, 12));
    expect_last_event(f, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_REFUSE, 5, 0, false);
    char *n = pgt_scalar(f->db, "SELECT count(*) FROM case_event WHERE action IN (23, 24, 25)");
    assert_string_equal(n, "4");
    free(n);
}

/* --- the calendar runs out, and is imported --------------------------------------- */

static void test_due_time_in_an_unloaded_year_is_provisional_then_recomputed(void **state)
{
    fx *f = *state;
    /* Monday 2026-12-21, 20 working days: with no 2027 holidays known,
     * 2027-01-01 (a Friday) counts, and the case is due Monday 2027-01-18,
     * provisionally. */
    assert_int_equal(calendar_missing_year(f), 0); /* March: not yet asked for */
    sj_clock_set_fake_now_ms(at(2026, 12, 21));
    assert_int_equal(calendar_missing_year(f), 2027);
    register_case(f, 3, "C-1");
    assert_int_equal(case_int(f, 3, "due_at_ms"), end_of(2027, 1, 18));
    assert_int_equal(case_int(f, 3, "due_provisional::int"), 1);
    /* A case waiting for materials is recomputed at its supplement instead. */
    register_case(f, 4, "C-1");
    must(f, &P_VA, 4, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS, "pa", NULL, 0);

    /* The 2027 arrangement is imported.  Test data made here, not the State
     * Council's notice: one holiday, 2027-01-01, which covers the year. */
    char dir[] = "/tmp/sj_clock_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/holidays.csv", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("# 测试数据，非官方安排 (test data, not an official arrangement)\n"
          "date,kind,name\n2027-01-01,holiday,测试假日\n",
          fp);
    fclose(fp);
    sj_error err;
    size_t changed = 0;
    if (countyd_import_file(f->db, COUNTYD_IMPORT_HOLIDAYS, path, stderr, &changed, &err) != 0)
        fail_msg("import: %s", err.message);
    assert_int_equal(changed, 1);
    if (countyd_import_calendar_report(f->db, stdout, &err) != 0)
        fail_msg("report: %s", err.message);
    /* The county server's next sweep (or start) sees the new calendar. */
    bool recomputed = false;
    countyd_apply_result *res = NULL;
    size_t n = 0;
    if (countyd_sweep_calendar(&f->ap, &recomputed, &res, &n, &err) != 0)
        fail_msg("recompute: %s", err.message);
    assert_true(recomputed);
    assert_int_equal(n, 1); /* the waiting case is left for its supplement */
    assert_true(res[0].feed_seq > 0); /* its event went on the village's feed */
    free(res);
    assert_int_equal(calendar_missing_year(f), 0);
    assert_int_equal(case_int(f, 3, "due_at_ms"), end_of(2027, 1, 19));
    assert_int_equal(case_int(f, 3, "due_provisional::int"), 0);
    expect_last_event(f, 3, SANJI__CASE_ACTION_TYPE__CASE_ACTION_DUE_RECOMPUTE, 0,
                      end_of(2027, 1, 19), false);
    assert_int_equal(case_int(f, 3, "version"), 1); /* a mark, like the sweep's */
    /* The next sweep: the same calendar, nothing recomputed, no event. */
    if (countyd_sweep_calendar(&f->ap, &recomputed, &res, &n, &err) != 0)
        fail_msg("recompute: %s", err.message);
    assert_false(recomputed);
    assert_int_equal(n, 0);
    char *count = pgt_scalar(f->db, "SELECT count(*) FROM case_event WHERE action = 26");
    assert_string_equal(count, "1");
    free(count);

    /* The waiting case resumes on the county's new calendar. */
    sj_clock_set_fake_now_ms(at(2026, 12, 22));
    must(f, &P_VA, 4, SANJI__CASE_ACTION_TYPE__CASE_ACTION_SUPPLEMENT, "pa", NULL, 0);
    assert_int_equal(case_int(f, 4, "due_at_ms"), end_of(2027, 1, 20));
    assert_int_equal(case_int(f, 4, "due_provisional::int"), 0);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pause_for_materials_moves_the_due_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_extension_approved_and_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_due_time_in_an_unloaded_year_is_provisional_then_recomputed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
