/*
 * test_case_notify.c - notifying the villager in the state machine (case.h,
 * docs/LIFECYCLE.md "Notifying the villager"): entering RESOLVED, RETURNED
 * or WAITING_MATERIALS names the message on the event and makes the case's
 * notify state PENDING, unless the cadre chose "do not notify" (OFF); the
 * county's NOTIFIED and NOTIFY_FAILED record each attempt without touching
 * the version or the status.  The status x action x actor table is
 * test_case.c's, the fields test_case_fields.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "case.h"
#include "case_actors.h"

static int64_t now_ms = 1700000000000;

static sj_case registered(sj_notify_state choice)
{
    sj_case_outcome out;
    assert_int_equal(sj_case_register(VILLAGE, SJ_LEVEL_VILLAGE, ++now_ms, &V, &out, NULL), 0);
    out.next.notify = choice; /* the county sets it from CaseSubmit.no_notify */
    return out.next;
}

/* Applies and returns the code; *c and *ev follow on success. */
static int act(sj_case *c, sj_case_action type, const sj_actor *who, uint32_t attempt,
               int64_t retry_in, sj_case_event *ev)
{
    static const char *const mats[] = {"户口簿复印件", "身份证复印件"};
    sj_action a;
    memset(&a, 0, sizeof(a));
    a.type = type;
    a.expected_version = c->version;
    a.at_ms = ++now_ms;
    a.notify_attempt = attempt;
    a.notify_retry_at_ms = retry_in ? a.at_ms + retry_in : 0;
    if (type == SJ_ACTION_RESOLVE_AT_ONCE || type == SJ_ACTION_RESOLVE)
        a.result = "已办结";
    if (type == SJ_ACTION_RETURN_UNDOABLE || type == SJ_ACTION_CLOSE)
        a.note = "不符合条件";
    if (type == SJ_ACTION_NOTIFY_FAILED)
        a.note = "notify.command exited with status 1";
    if (type == SJ_ACTION_REQUEST_MATERIALS) {
        a.materials = mats;
        a.n_materials = 2;
    }
    sj_case_outcome out;
    sj_error err;
    int rc = sj_case_apply(c, &a, who, &out, &err);
    if (rc == 0) {
        *c = out.next;
        if (ev)
            *ev = out.events[0];
    }
    return rc;
}

static void test_results_queue_a_message(void **state)
{
    (void)state;
    static const struct {
        sj_case_action action;
        sj_notify_kind kind;
    } rows[] = {
        {SJ_ACTION_RESOLVE_AT_ONCE, SJ_NOTIFY_KIND_RESOLVED},
        {SJ_ACTION_RETURN_UNDOABLE, SJ_NOTIFY_KIND_RETURNED},
        {SJ_ACTION_REQUEST_MATERIALS, SJ_NOTIFY_KIND_MATERIALS},
        {SJ_ACTION_ESCALATE, SJ_NOTIFY_KIND_NONE},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        sj_case c = registered(SJ_NOTIFY_NONE);
        sj_case_event ev;
        assert_int_equal(act(&c, rows[i].action, &V, 0, 0, &ev), 0);
        assert_int_equal(ev.notify, rows[i].kind);
        assert_int_equal(c.notify, rows[i].kind ? SJ_NOTIFY_PENDING : SJ_NOTIFY_NONE);
        /* "do not notify": the same result, no message, and the choice stays. */
        sj_case off = registered(SJ_NOTIFY_OFF);
        assert_int_equal(act(&off, rows[i].action, &V, 0, 0, &ev), 0);
        assert_int_equal(ev.notify, SJ_NOTIFY_KIND_NONE);
        assert_int_equal(off.notify, SJ_NOTIFY_OFF);
        assert_int_equal(act(&off, SJ_ACTION_NOTIFIED, &S, 1, 0, NULL), SJ_ENOT_ALLOWED);
    }
}

static void test_attempts_are_recorded(void **state)
{
    (void)state;
    sj_case c = registered(SJ_NOTIFY_NONE);
    assert_int_equal(act(&c, SJ_ACTION_RESOLVE_AT_ONCE, &V, 0, 0, NULL), 0);
    uint64_t version = c.version;
    sj_case_event ev;
    /* A failure with a retry: still pending, the retry time on the case. */
    assert_int_equal(act(&c, SJ_ACTION_NOTIFY_FAILED, &S, 1, 60000, &ev), 0);
    assert_int_equal(c.notify, SJ_NOTIFY_PENDING);
    assert_int_equal(c.notify_attempts, 1);
    assert_int_equal(c.notify_at_ms, now_ms);
    assert_int_equal(c.notify_retry_at_ms, now_ms + 60000);
    assert_int_equal(ev.notify_attempt, 1);
    assert_int_equal(ev.notify_retry_at_ms, now_ms + 60000);
    assert_int_equal(ev.from_status, SJ_STATUS_RESOLVED);
    assert_int_equal(ev.to_status, SJ_STATUS_RESOLVED);
    /* Sent at the second attempt. */
    assert_int_equal(act(&c, SJ_ACTION_NOTIFIED, &S, 2, 0, &ev), 0);
    assert_int_equal(c.notify, SJ_NOTIFY_SENT);
    assert_int_equal(c.notify_attempts, 2);
    assert_int_equal(c.notify_retry_at_ms, 0);
    assert_int_equal(c.version, version); /* records a fact; never collides */
    assert_int_equal(c.status, SJ_STATUS_RESOLVED);
    /* Nothing waits now. */
    assert_int_equal(act(&c, SJ_ACTION_NOTIFIED, &S, 3, 0, NULL), SJ_ENOT_ALLOWED);

    /* Given up: FAILED. */
    sj_case d = registered(SJ_NOTIFY_NONE);
    assert_int_equal(act(&d, SJ_ACTION_RETURN_UNDOABLE, &V, 0, 0, NULL), 0);
    assert_int_equal(act(&d, SJ_ACTION_NOTIFY_FAILED, &S, 5, 0, NULL), 0);
    assert_int_equal(d.notify, SJ_NOTIFY_FAILED);
    assert_int_equal(d.notify_attempts, 5);
    /* A closed case takes no record. */
    assert_int_equal(act(&d, SJ_ACTION_CLOSE, &V, 0, 0, NULL), 0);
    assert_int_equal(act(&d, SJ_ACTION_NOTIFIED, &S, 1, 0, NULL), SJ_ETERMINAL);

    sj_case m = registered(SJ_NOTIFY_NONE);
    assert_int_equal(act(&m, SJ_ACTION_REQUEST_MATERIALS, &V, 0, 0, NULL), 0);
    assert_int_equal(act(&m, SJ_ACTION_NOTIFY_FAILED, &S, 1, 0, NULL), 0);
    assert_int_equal(m.notify, SJ_NOTIFY_FAILED);
    assert_int_equal(act(&m, SJ_ACTION_SUPPLEMENT, &V, 0, 0, NULL), 0);
    assert_int_equal(m.notify, SJ_NOTIFY_FAILED); /* no message for the supplement */
    /* A new result is a new message: pending again, attempts cleared. */
    assert_int_equal(act(&m, SJ_ACTION_RESOLVE_AT_ONCE, &V, 0, 0, NULL), 0);
    assert_int_equal(m.notify, SJ_NOTIFY_PENDING);
    assert_int_equal(m.notify_attempts, 0);
    assert_int_equal(m.notify_at_ms, 0);
}

static void test_only_the_county_records_and_fields(void **state)
{
    (void)state;
    sj_case c = registered(SJ_NOTIFY_NONE);
    assert_int_equal(act(&c, SJ_ACTION_RESOLVE_AT_ONCE, &V, 0, 0, NULL), 0);
    assert_int_equal(act(&c, SJ_ACTION_NOTIFIED, &V, 1, 0, NULL), SJ_EWRONG_ROLE);
    assert_int_equal(act(&c, SJ_ACTION_NOTIFIED, &C, 1, 0, NULL), SJ_EWRONG_ROLE);
    /* The attempt is required; a sent message has no retry; a retry is later. */
    assert_int_equal(act(&c, SJ_ACTION_NOTIFIED, &S, 0, 0, NULL), SJ_EMISSING_FIELD);
    assert_int_equal(act(&c, SJ_ACTION_NOTIFIED, &S, 1, 1000, NULL), SJ_EBAD_FIELD);
    assert_int_equal(act(&c, SJ_ACTION_NOTIFY_FAILED, &S, 1, -1000, NULL), SJ_EBAD_FIELD);
    /* A person's action takes no attempt. */
    sj_case e = registered(SJ_NOTIFY_NONE);
    assert_int_equal(act(&e, SJ_ACTION_ESCALATE, &V, 1, 0, NULL), SJ_EBAD_FIELD);
    /* Not buttons for any person. */
    sj_case_action allowed[SJ_ACTION_COUNT];
    const sj_actor *people[] = {&V, &T, &C};
    for (size_t p = 0; p < 3; p++) {
        size_t n = sj_case_allowed_actions(&c, people[p], allowed, SJ_ACTION_COUNT);
        for (size_t i = 0; i < n; i++)
            assert_true(allowed[i] != SJ_ACTION_NOTIFIED && allowed[i] != SJ_ACTION_NOTIFY_FAILED);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sj_case_action_name(SJ_ACTION_NOTIFIED), "notified");
    assert_string_equal(sj_case_action_name(SJ_ACTION_NOTIFY_FAILED), "notify_failed");
    assert_int_equal(sj_case_action_from_name("notify_failed"), SJ_ACTION_NOTIFY_FAILED);
    assert_string_equal(sj_notify_state_name(SJ_NOTIFY_OFF), "off");
    assert_string_equal(sj_notify_state_name(SJ_NOTIFY_SENT), "sent");
    assert_string_equal(sj_notify_state_name((sj_notify_state)9), "unknown");
    assert_string_equal(sj_notify_kind_name(SJ_NOTIFY_KIND_MATERIALS), "materials");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_queue_a_message),
        cmocka_unit_test(test_attempts_are_recorded),
        cmocka_unit_test(test_only_the_county_records_and_fields),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
