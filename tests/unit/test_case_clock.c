/*
 * test_case_clock.c - the case's clock in the state machine (case.h "The
 * clock", docs/LIFECYCLE.md): the limit runs from registration and no move
 * between levels or return restarts it; it stands while the case waits for
 * the villager's materials and the due time moves out by the working days
 * waited; an extension (延期) is asked for by the holder and approved or
 * refused by the level above or the county; the due time is recomputed
 * (and marked provisional or not) on the calendar; returns down are
 * counted.  The status x action x actor table is test_case.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "calendar.h"
#include "case.h"
#include "case_actors.h"
#include "clock.h"

/* --- helpers -------------------------------------------------------------------- */

/* 10:00 China time of a civil date. */
static int64_t at(int y, int m, int d)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(y, m, d)) + 10 * 3600 * 1000;
}

/* The end (23:59:59.999 China time) of a civil date: how due times fall. */
static int64_t end_of(int y, int m, int d)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(y, m, d) + 1) - 1;
}

static sj_calendar *cal;

/* A calendar holding 2026 (元旦 as the official notice gives it), so that
 * 2026 is covered and 2027 is not. */
static int setup(void **state)
{
    (void)state;
    cal = sj_calendar_new();
    if (!cal)
        return -1;
    static const char text[] = "date,kind,name\n"
                               "2026-01-01,holiday,元旦\n"
                               "2026-01-02,holiday,元旦\n"
                               "2026-01-03,holiday,元旦\n"
                               "2026-01-04,workday,元旦调休上班\n"
                               "2026-05-01,holiday,劳动节\n"
                               "2026-05-04,holiday,劳动节\n"
                               "2026-05-05,holiday,劳动节\n"
                               "2026-05-09,workday,劳动节调休上班\n";
    sj_error err;
    return sj_calendar_load_csv_text(cal, "test", text, sizeof(text) - 1, &err);
}

static int teardown(void **state)
{
    (void)state;
    sj_calendar_free(cal);
    return 0;
}

/* A case registered at `when` with a limit, its due time set as the county
 * sets it. */
static sj_case registered(int64_t when, uint32_t limit)
{
    sj_case_outcome out;
    sj_error err;
    assert_int_equal(sj_case_register(VILLAGE, SJ_LEVEL_COUNTY, when, &V, &out, &err), 0);
    sj_case c = out.next;
    assert_int_equal(c.registered_at_ms, when);
    c.limit_days = limit;
    assert_int_equal(sj_case_due(cal, when, limit, &c.due_at_ms, &c.due_provisional), 0);
    return c;
}

static sj_action on(const sj_case *c, sj_case_action type, int64_t when)
{
    sj_action a;
    memset(&a, 0, sizeof(a));
    a.type = type;
    a.expected_version = c->version;
    a.at_ms = when;
    a.calendar = cal;
    return a;
}

static sj_case_outcome last;

static void ok(sj_case *c, const sj_action *a, const sj_actor *who)
{
    sj_error err;
    sj_error_clear(&err);
    int rc = sj_case_apply(c, a, who, &last, &err);
    if (rc != 0)
        print_error("%s by %s in %s: %s %s\n", sj_case_action_name(a->type),
                    sj_role_name(who->role), sj_case_status_name(c->status), sj_err_name(rc),
                    err.message);
    assert_int_equal(rc, 0);
    *c = last.next;
}

static void refused(const sj_case *c, const sj_action *a, const sj_actor *who, int code)
{
    sj_error err;
    sj_error_clear(&err);
    sj_case_outcome out;
    int rc = sj_case_apply(c, a, who, &out, &err);
    if (rc != code)
        print_error("%s by %s: got %s (%s), want %s\n", sj_case_action_name(a->type),
                    sj_role_name(who->role), sj_err_name(rc), err.message, sj_err_name(code));
    assert_int_equal(rc, code);
    assert_true(strlen(err.message) > 10);
}

static void act(sj_case *c, sj_case_action type, int64_t when, const sj_actor *who)
{
    sj_action a = on(c, type, when);
    if (type == SJ_ACTION_RETURN_DOWN || type == SJ_ACTION_EXTEND_REFUSE)
        a.note = "理由";
    ok(c, &a, who);
}

static void ask_extension(sj_case *c, uint32_t days, int64_t when, const sj_actor *who)
{
    sj_action a = on(c, SJ_ACTION_EXTEND_REQUEST, when);
    a.extend_days = days;
    a.note = "需要县民政局复核，时限内无法办结";
    ok(c, &a, who);
}

/* --- the limit runs from registration ------------------------------------------ */

static void test_moves_and_returns_never_restart_the_clock(void **state)
{
    (void)state;
    /* Monday 2026-03-02, 10 working days: due Monday 2026-03-16. */
    sj_case c = registered(at(2026, 3, 2), 10);
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 16));
    assert_false(c.due_provisional);
    const int64_t due = c.due_at_ms;
    act(&c, SJ_ACTION_ESCALATE, at(2026, 3, 3), &V);
    act(&c, SJ_ACTION_ACCEPT, at(2026, 3, 4), &T);
    act(&c, SJ_ACTION_RETURN_DOWN, at(2026, 3, 5), &T); /* back to the village */
    assert_int_equal(c.return_count, 1);
    act(&c, SJ_ACTION_ESCALATE, at(2026, 3, 6), &V);
    act(&c, SJ_ACTION_ACCEPT, at(2026, 3, 9), &T);
    act(&c, SJ_ACTION_ESCALATE, at(2026, 3, 9), &T);
    act(&c, SJ_ACTION_RETURN_DOWN, at(2026, 3, 10), &C); /* back to the township */
    assert_int_equal(c.return_count, 2);
    act(&c, SJ_ACTION_ESCALATE, at(2026, 3, 10), &T);
    act(&c, SJ_ACTION_ACCEPT, at(2026, 3, 11), &C);
    assert_int_equal(c.registered_at_ms, at(2026, 3, 2));
    assert_int_equal(c.due_at_ms, due);
    assert_int_equal(c.return_count, 2);
    assert_int_equal(c.paused_days, 0);
    assert_int_equal(c.extended_days, 0);
}

/* --- the pause for materials ----------------------------------------------------- */

static void test_pause_for_materials_moves_the_due_time(void **state)
{
    (void)state;
    sj_case c = registered(at(2026, 3, 2), 10); /* due Monday 2026-03-16 */
    sj_action rq = on(&c, SJ_ACTION_REQUEST_MATERIALS, at(2026, 3, 4));
    static const char *const mats[] = {"户口簿复印件"};
    rq.materials = mats;
    rq.n_materials = 1;
    ok(&c, &rq, &V);
    assert_int_equal(c.paused_at_ms, at(2026, 3, 4));
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 16)); /* unchanged while waiting */

    /* While the clock stands the sweep neither warns nor marks overdue. */
    sj_action overdue = on(&c, SJ_ACTION_OVERDUE, at(2026, 3, 20));
    refused(&c, &overdue, &S, SJ_ENOT_ALLOWED);
    sj_action warn = on(&c, SJ_ACTION_WARN, at(2026, 3, 20));
    warn.warn_percent = 50;
    refused(&c, &warn, &S, SJ_ENOT_ALLOWED);

    /* The materials come in Monday 2026-03-09: Thu, Fri, Mon paused (3). */
    act(&c, SJ_ACTION_SUPPLEMENT, at(2026, 3, 9), &V);
    assert_int_equal(c.status, SJ_STATUS_REGISTERED);
    assert_int_equal(c.paused_at_ms, 0);
    assert_int_equal(c.paused_days, 3);
    assert_int_equal(last.events[0].clock_days, 3);
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 19));
    assert_int_equal(last.events[0].due_at_ms, end_of(2026, 3, 19));

    /* A second pause across the May Day holidays, Thursday 2026-04-30 to
     * Thursday 2026-05-07: of (04-30, 05-07] only 6 and 7 May are working
     * days (1-5 May are holidays and a weekend): 2 days. */
    sj_action rq2 = on(&c, SJ_ACTION_REQUEST_MATERIALS, at(2026, 4, 30));
    rq2.materials = mats;
    rq2.n_materials = 1;
    ok(&c, &rq2, &V);
    act(&c, SJ_ACTION_SUPPLEMENT, at(2026, 5, 7), &V);
    assert_int_equal(c.paused_days, 5);
    assert_int_equal(last.events[0].clock_days, 2);
    int64_t want;
    assert_int_equal(sj_case_due(cal, c.registered_at_ms, 15, &want, NULL), 0);
    assert_int_equal(c.due_at_ms, want);
}

static void test_supplement_on_the_day_pauses_nothing(void **state)
{
    (void)state;
    sj_case c = registered(at(2026, 3, 2), 10);
    sj_action rq = on(&c, SJ_ACTION_REQUEST_MATERIALS, at(2026, 3, 4));
    static const char *const mats[] = {"身份证复印件"};
    rq.materials = mats;
    rq.n_materials = 1;
    ok(&c, &rq, &V);
    act(&c, SJ_ACTION_SUPPLEMENT, at(2026, 3, 4) + 3600 * 1000, &V);
    assert_int_equal(c.paused_days, 0);
    assert_int_equal(last.events[0].clock_days, 0);
    assert_int_equal(last.events[0].due_at_ms, 0); /* did not move */
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 16));
}

static void test_overdue_mark_cleared_only_when_untrue(void **state)
{
    (void)state;
    sj_case c = registered(at(2026, 3, 2), 2); /* due Wednesday 2026-03-04 */
    act(&c, SJ_ACTION_OVERDUE, at(2026, 3, 5), &S);
    assert_true(c.overdue);
    sj_action rq = on(&c, SJ_ACTION_REQUEST_MATERIALS, at(2026, 3, 5));
    static const char *const mats[] = {"身份证复印件"};
    rq.materials = mats;
    rq.n_materials = 1;
    ok(&c, &rq, &V);
    /* Paused Fri, Mon, Tue: due Monday 2026-03-09, passed at the supplement:
     * the case stays overdue (the time was lost before the pause). */
    act(&c, SJ_ACTION_SUPPLEMENT, at(2026, 3, 10), &V);
    assert_int_equal(c.paused_days, 3);
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 9));
    assert_true(c.overdue);
    /* An approved extension of 5 days: due 2026-03-16, ahead: not overdue. */
    ask_extension(&c, 5, at(2026, 3, 10), &V);
    act(&c, SJ_ACTION_EXTEND_APPROVE, at(2026, 3, 10), &T);
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 16));
    assert_false(c.overdue);
}

static void test_without_a_calendar_the_due_time_stays(void **state)
{
    (void)state;
    /* A client's pre-check: no calendar, nothing moves, the action is allowed. */
    sj_case c = registered(at(2026, 3, 2), 10);
    sj_action rq = on(&c, SJ_ACTION_REQUEST_MATERIALS, at(2026, 3, 4));
    static const char *const mats[] = {"身份证复印件"};
    rq.materials = mats;
    rq.n_materials = 1;
    ok(&c, &rq, &V);
    sj_action sup = on(&c, SJ_ACTION_SUPPLEMENT, at(2026, 3, 9));
    sup.calendar = NULL;
    ok(&c, &sup, &V);
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 16));
    sj_action re = on(&c, SJ_ACTION_DUE_RECOMPUTE, at(2026, 3, 9));
    re.calendar = NULL;
    refused(&c, &re, &S, SJ_EINVAL);
}

/* --- extensions ------------------------------------------------------------------- */

static void test_extension_approved_moves_the_due_time(void **state)
{
    (void)state;
    sj_case c = registered(at(2026, 3, 2), 10); /* due 2026-03-16 */
    act(&c, SJ_ACTION_ESCALATE, at(2026, 3, 2), &V);
    act(&c, SJ_ACTION_ACCEPT, at(2026, 3, 3), &T);
    ask_extension(&c, 5, at(2026, 3, 10), &T);
    assert_int_equal(c.extension_days, 5);
    assert_int_equal(last.events[0].clock_days, 5);
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 16));
    /* Not twice, and not decided by the one who asked. */
    sj_action again = on(&c, SJ_ACTION_EXTEND_REQUEST, at(2026, 3, 10));
    again.extend_days = 3;
    again.note = "再次申请";
    refused(&c, &again, &T, SJ_ENOT_ALLOWED);
    sj_action self = on(&c, SJ_ACTION_EXTEND_APPROVE, at(2026, 3, 10));
    refused(&c, &self, &T, SJ_EWRONG_LEVEL);
    refused(&c, &self, &V, SJ_EWRONG_ROLE);
    refused(&c, &self, &S, SJ_EWRONG_ROLE);
    act(&c, SJ_ACTION_EXTEND_APPROVE, at(2026, 3, 11), &C);
    assert_int_equal(c.extension_days, 0);
    assert_int_equal(c.extended_days, 5);
    assert_int_equal(last.events[0].clock_days, 5);
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 23));
    assert_int_equal(last.events[0].due_at_ms, end_of(2026, 3, 23));
    /* Nothing left to decide. */
    sj_action twice = on(&c, SJ_ACTION_EXTEND_APPROVE, at(2026, 3, 11));
    refused(&c, &twice, &C, SJ_ENOT_ALLOWED);
}

static void test_extension_refused_leaves_the_due_time(void **state)
{
    (void)state;
    sj_case c = registered(at(2026, 3, 2), 10);
    ask_extension(&c, 3, at(2026, 3, 5), &V);
    sj_action no_note = on(&c, SJ_ACTION_EXTEND_REFUSE, at(2026, 3, 6));
    refused(&c, &no_note, &T, SJ_EMISSING_FIELD);
    act(&c, SJ_ACTION_EXTEND_REFUSE, at(2026, 3, 6), &T);
    assert_int_equal(c.extension_days, 0);
    assert_int_equal(c.extended_days, 0);
    assert_int_equal(last.events[0].clock_days, 3);
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 16));
    /* It may be asked again after a refusal. */
    ask_extension(&c, 2, at(2026, 3, 9), &V);
    act(&c, SJ_ACTION_EXTEND_APPROVE, at(2026, 3, 9), &T);
    assert_int_equal(c.extended_days, 2);
    assert_int_equal(c.due_at_ms, end_of(2026, 3, 18));
}

static void test_extension_deciders_by_holder_level(void **state)
{
    (void)state;
    /* Village holder: the township or the county decides. */
    sj_case v = registered(at(2026, 3, 2), 10);
    ask_extension(&v, 2, at(2026, 3, 3), &V);
    sj_action d = on(&v, SJ_ACTION_EXTEND_APPROVE, at(2026, 3, 3));
    assert_int_equal(sj_case_check(&v, SJ_ACTION_EXTEND_APPROVE, &T, NULL), 0);
    assert_int_equal(sj_case_check(&v, SJ_ACTION_EXTEND_APPROVE, &C, NULL), 0);
    refused(&v, &d, &V, SJ_EWRONG_ROLE);
    /* County holder: the county. */
    sj_case c = registered(at(2026, 3, 2), 10);
    act(&c, SJ_ACTION_ESCALATE, at(2026, 3, 2), &V);
    act(&c, SJ_ACTION_ACCEPT, at(2026, 3, 2), &T);
    act(&c, SJ_ACTION_ESCALATE, at(2026, 3, 2), &T);
    act(&c, SJ_ACTION_ACCEPT, at(2026, 3, 3), &C);
    ask_extension(&c, 4, at(2026, 3, 4), &C);
    d = on(&c, SJ_ACTION_EXTEND_REFUSE, at(2026, 3, 4));
    d.note = "理由";
    refused(&c, &d, &T, SJ_EWRONG_LEVEL);
    ok(&c, &d, &C);
    /* Only the holder asks. */
    sj_case t = registered(at(2026, 3, 2), 10);
    act(&t, SJ_ACTION_ESCALATE, at(2026, 3, 2), &V);
    act(&t, SJ_ACTION_ACCEPT, at(2026, 3, 2), &T);
    sj_action ask = on(&t, SJ_ACTION_EXTEND_REQUEST, at(2026, 3, 3));
    ask.extend_days = 2;
    ask.note = "理由";
    refused(&t, &ask, &V, SJ_EWRONG_LEVEL);
    refused(&t, &ask, &C, SJ_EWRONG_LEVEL);
    refused(&t, &ask, &S, SJ_EWRONG_ROLE);
    /* Not while escalated and not yet accepted. */
    act(&t, SJ_ACTION_ESCALATE, at(2026, 3, 3), &T);
    ask.expected_version = t.version;
    refused(&t, &ask, &C, SJ_ENOT_ALLOWED);
}

static void test_extension_request_lapses_when_the_case_moves_on(void **state)
{
    (void)state;
    sj_case c = registered(at(2026, 3, 2), 10);
    ask_extension(&c, 2, at(2026, 3, 3), &V);
    act(&c, SJ_ACTION_ESCALATE, at(2026, 3, 4), &V);
    assert_int_equal(c.extension_days, 0);
    sj_action d = on(&c, SJ_ACTION_EXTEND_APPROVE, at(2026, 3, 4));
    refused(&c, &d, &C, SJ_ENOT_ALLOWED);
    /* While waiting for materials the request stays, and can be made. */
    sj_case w = registered(at(2026, 3, 2), 10);
    sj_action rq = on(&w, SJ_ACTION_REQUEST_MATERIALS, at(2026, 3, 3));
    static const char *const mats[] = {"身份证复印件"};
    rq.materials = mats;
    rq.n_materials = 1;
    ok(&w, &rq, &V);
    ask_extension(&w, 2, at(2026, 3, 3), &V);
    act(&w, SJ_ACTION_SUPPLEMENT, at(2026, 3, 4), &V);
    assert_int_equal(w.extension_days, 2);
    /* Finished (here withdrawn), the request lapses. */
    sj_action wd = on(&w, SJ_ACTION_WITHDRAW, at(2026, 3, 4));
    wd.note = "村民撤回";
    ok(&w, &wd, &V);
    assert_int_equal(w.extension_days, 0);
}

static void test_extension_fields(void **state)
{
    (void)state;
    sj_case c = registered(at(2026, 3, 2), 10);
    sj_action a = on(&c, SJ_ACTION_EXTEND_REQUEST, at(2026, 3, 3));
    a.note = "理由";
    refused(&c, &a, &V, SJ_EMISSING_FIELD); /* no days */
    a.extend_days = 2;
    a.note = "  ";
    refused(&c, &a, &V, SJ_EMISSING_FIELD); /* no reason */
    a.note = "理由";
    a.extend_days = SJ_CASE_EXTEND_MAX + 1;
    refused(&c, &a, &V, SJ_EBAD_FIELD);
    a.extend_days = SJ_CASE_EXTEND_MAX;
    a.result = "结果";
    refused(&c, &a, &V, SJ_EBAD_FIELD); /* a field it does not take */
    a.result = NULL;
    ok(&c, &a, &V);
    /* Days on another action are refused, naming the field. */
    sj_action esc = on(&c, SJ_ACTION_ESCALATE, at(2026, 3, 3));
    esc.extend_days = 3;
    sj_error err;
    sj_case_outcome out;
    assert_int_equal(sj_case_apply(&c, &esc, &V, &out, &err), SJ_EBAD_FIELD);
    assert_non_null(strstr(err.message, "extension days"));
    sj_action ap = on(&c, SJ_ACTION_EXTEND_APPROVE, at(2026, 3, 3));
    ap.extend_days = 9; /* the approver does not choose the days */
    refused(&c, &ap, &T, SJ_EBAD_FIELD);
    assert_int_equal(sj_case_action_fields(SJ_ACTION_EXTEND_REQUEST),
                     SJ_CASE_FIELD_NOTE | SJ_CASE_FIELD_EXTEND_DAYS);
    assert_int_equal(sj_case_action_fields(SJ_ACTION_EXTEND_APPROVE), SJ_CASE_FIELD_NOTE);
    assert_int_equal(sj_case_action_fields(SJ_ACTION_EXTEND_REFUSE), SJ_CASE_FIELD_NOTE);
    assert_int_equal(sj_case_action_fields(SJ_ACTION_DUE_RECOMPUTE), 0);
}

/* --- the calendar's coverage ------------------------------------------------------ */

static void test_due_beyond_the_calendar_is_provisional_and_recomputed(void **state)
{
    (void)state;
    /* Registered Monday 2026-12-21 with 10 working days: the 2027 holidays
     * are not loaded, so 2027-01-01 (a Friday) counts and the case is due
     * Monday 2027-01-04, provisionally. */
    sj_case c = registered(at(2026, 12, 21), 10);
    assert_int_equal(c.due_at_ms, end_of(2027, 1, 4));
    assert_true(c.due_provisional);
    sj_action re = on(&c, SJ_ACTION_DUE_RECOMPUTE, at(2026, 12, 22));
    refused(&c, &re, &S, SJ_ENOT_ALLOWED); /* nothing changed */
    refused(&c, &re, &C, SJ_EWRONG_ROLE);

    /* The year's arrangement comes in.  Test data, not an official notice:
     * only 2027-01-01 as a holiday, which makes 2027 covered. */
    sj_calendar *with2027 = sj_calendar_new();
    assert_non_null(with2027);
    static const char text[] = "2026-01-01,holiday,元旦\n2027-01-01,holiday,测试数据\n";
    sj_error err;
    assert_int_equal(sj_calendar_load_csv_text(with2027, "test", text, sizeof(text) - 1, &err), 0);
    re.calendar = with2027;
    ok(&c, &re, &S);
    assert_int_equal(c.due_at_ms, end_of(2027, 1, 5));
    assert_false(c.due_provisional);
    assert_int_equal(last.events[0].due_at_ms, end_of(2027, 1, 5));
    assert_false(last.events[0].due_provisional);
    assert_int_equal(c.version, 1); /* a mark, like the sweep's */
    /* Again: nothing to change. */
    refused(&c, &re, &S, SJ_ENOT_ALLOWED);
    /* Not while the clock stands. */
    sj_action rq = on(&c, SJ_ACTION_REQUEST_MATERIALS, at(2026, 12, 23));
    static const char *const mats[] = {"身份证复印件"};
    rq.materials = mats;
    rq.n_materials = 1;
    ok(&c, &rq, &V);
    re.expected_version = c.version;
    refused(&c, &re, &S, SJ_ENOT_ALLOWED);
    sj_calendar_free(with2027);
}

static void test_due_helper(void **state)
{
    (void)state;
    int64_t due;
    bool prov = true;
    assert_int_equal(sj_case_due(cal, at(2026, 3, 2), 10, &due, &prov), 0);
    assert_int_equal(due, end_of(2026, 3, 16));
    assert_false(prov);
    assert_int_equal(sj_case_due(NULL, at(2026, 3, 2), 10, &due, &prov), SJ_EINVAL);
    assert_int_equal(sj_case_due(cal, -5, 10, &due, &prov), SJ_EINVAL);
    assert_int_equal(sj_case_due(cal, at(2026, 3, 2), SJ_CALENDAR_MAX_DAYS + 1, &due, &prov),
                     SJ_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moves_and_returns_never_restart_the_clock),
        cmocka_unit_test(test_pause_for_materials_moves_the_due_time),
        cmocka_unit_test(test_supplement_on_the_day_pauses_nothing),
        cmocka_unit_test(test_overdue_mark_cleared_only_when_untrue),
        cmocka_unit_test(test_without_a_calendar_the_due_time_stays),
        cmocka_unit_test(test_extension_approved_moves_the_due_time),
        cmocka_unit_test(test_extension_refused_leaves_the_due_time),
        cmocka_unit_test(test_extension_deciders_by_holder_level),
        cmocka_unit_test(test_extension_request_lapses_when_the_case_moves_on),
        cmocka_unit_test(test_extension_fields),
        cmocka_unit_test(test_due_beyond_the_calendar_is_provisional_and_recomputed),
        cmocka_unit_test(test_due_helper),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
