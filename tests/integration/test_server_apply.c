/*
 * test_server_apply.c - the county's apply path (server/apply.c) against a
 * real PostgreSQL 15, without the network: lifecycle paths, redelivery
 * applied once (G2), stale versions refused (G3), scope refusals (G5), a
 * batch that mixes applied and refused messages, and the paths that keep a
 * message cheap without giving up those guarantees: a data error after a
 * write or inside the pipeline refuses one message alone (the batch runs
 * again with savepoints), a usual batch needs no savepoint, a redelivery
 * that wrote again is undone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin.h"
#include "apply.h"
#include "clock.h"
#include "db.h"
#include "feed_written.h"
#include "migrate.h"
#include "personal.h"
#include "apply_fixture.h"
#include "pg_test.h"
#include "query.h"

#define VA AFT_VA
#define VB AFT_VB
#define VC AFT_VC
#define TX AFT_TX
#define TY AFT_TY
#define CO AFT_CO

static const countyd_peer P_VA = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VA, "village:" VA};
static const countyd_peer P_VB = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VB, "village:" VB};
static const countyd_peer P_TX = {SANJI__NODE_ROLE__NODE_ROLE_TOWNSHIP_DESK, TX, "township-desk:" TX};
static const countyd_peer P_TY = {SANJI__NODE_ROLE__NODE_ROLE_TOWNSHIP_DESK, TY, "township-desk:" TY};
static const countyd_peer P_CO = {SANJI__NODE_ROLE__NODE_ROLE_COUNTY_DESK, CO, "county-desk:" CO};
/* The desks of two county departments (docs/DATA.md "Departments"). */
static const countyd_peer P_MZJ = {SANJI__NODE_ROLE__NODE_ROLE_DEPARTMENT_DESK, CO,
                                   "department-desk:" CO ":mzj"};
static const countyd_peer P_RSJ = {SANJI__NODE_ROLE__NODE_ROLE_DEPARTMENT_DESK, CO,
                                   "department-desk:" CO ":rsj"};

typedef aft_county fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    sj_error err;
    int64_t now;
    assert_int_equal(sj_clock_parse_iso("2026-04-30T10:00:00+08:00", &now, &err), 0);
    /* 2026-04-30 (Thursday) is followed by the May Day holiday. */
    aft_open(f, "t_apply",
             "('2026-05-01', 'holiday', '劳动节'), ('2026-05-04', 'holiday', '劳动节'),"
             " ('2026-05-05', 'holiday', '劳动节'), ('2026-05-09', 'workday', '调休')",
             NULL, now);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    aft_close(*state);
    free(*state);
    return 0;
}


/* Message builders; the protobuf structs live in the caller's frame. */
typedef struct sub {
    Sanji__CaseSubmit s;
    Sanji__Applicant a;
    uint8_t id[16];
} sub;

static void make_submit(fx *f, sub *x, int n, const char *village, const char *person,
                        const char *item)
{
    sanji__case_submit__init(&x->s);
    sanji__applicant__init(&x->a);
    aft_case_id(x->id, n);
    x->s.case_id.data = x->id;
    x->s.case_id.len = 16;
    x->s.village = (char *)village;
    x->s.item_code = (char *)item;
    x->a.name = "王大妈";
    x->a.id_number = f->id_number;
    x->a.phone = "13800138000";
    x->s.applicant = &x->a;
    x->s.request_text = "申请低保'); DROP TABLE cases; --";
    x->s.actor_person = (char *)person;
    x->s.registered_at_ms = sj_clock_real_ms();
}

typedef struct act {
    Sanji__CaseAction a;
    uint8_t id[16];
} act;

static void make_action(act *x, int n, Sanji__CaseActionType type, uint64_t expected,
                        const char *person)
{
    sanji__case_action__init(&x->a);
    aft_case_id(x->id, n);
    x->a.case_id.data = x->id;
    x->a.case_id.len = 16;
    x->a.action = type;
    x->a.expected_version = expected;
    x->a.actor_person = (char *)person;
    x->a.acted_at_ms = sj_clock_real_ms();
}



/* Case n registered at the peer's own village by person, applied alone. */
static countyd_apply_result register_case(fx *f, const countyd_peer *peer, int n,
                                          const char *person, const char *item)
{
    sub x;
    make_submit(f, &x, n, peer->unit, person, item);
    countyd_apply_msg m = aft_msg(f, peer, &x.s, NULL);
    return aft_run1(f, &m);
}

static void expect_applied(const countyd_apply_result *r, uint64_t version)
{
    if (r->status != SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
        fail_msg("expected APPLIED, got status %d code %s: %s", r->status, sj_err_name(r->code),
                 r->reason);
    assert_int_equal(r->case_version, version);
}

static void expect_refused(const countyd_apply_result *r, int code)
{
    if (r->status != SANJI__ACK_STATUS__ACK_STATUS_REFUSED || r->code != code)
        fail_msg("expected REFUSED %s, got status %d code %s: %s", sj_err_name(code), r->status,
                 sj_err_name(r->code), r->reason);
}

/* Applies an action and checks it was applied at the expected version. */
static void step(fx *f, const countyd_peer *peer, int n, Sanji__CaseActionType type,
                 uint64_t expected, const char *person, const char *field, uint64_t want_version)
{
    act x;
    make_action(&x, n, type, expected, person);
    char *mats[] = {"户口簿", "收入证明"};
    /* The text goes into the fields this action takes (common/domain/case.h). */
    unsigned takes = sj_case_action_fields((sj_case_action)type);
    x.a.note = takes & SJ_CASE_FIELD_NOTE ? (char *)field : "";
    x.a.result = takes & SJ_CASE_FIELD_RESULT ? (char *)field : "";
    x.a.department = takes & SJ_CASE_FIELD_DEPARTMENT ? (char *)field : "";
    if (type == SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS) {
        x.a.materials = mats;
        x.a.n_materials = 2;
    }
    if (type == SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK)
        x.a.satisfaction = SANJI__SATISFACTION__SATISFACTION_SATISFIED;
    countyd_apply_msg m = aft_msg(f, peer, NULL, &x.a);
    countyd_apply_result r = aft_run1(f, &m);
    expect_applied(&r, want_version);
}

static char *case_field(fx *f, int n, const char *column)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT %s::text FROM cases WHERE case_id ="
                               " '01000000-0000-7000-0000-0000000000%02x'", column, n);
    return pgt_scalar(f->db, sql);
}

static void expect_field(fx *f, int n, const char *column, const char *want)
{
    char *v = case_field(f, n, column);
    if (!v || strcmp(v, want) != 0)
        fail_msg("case %d: %s = \"%s\", want \"%s\"", n, column, v ? v : "(null)", want);
    free(v);
}

/* The feed of a village is 1..n without gaps. */
static void expect_feed_gapless(fx *f, const char *village, long n)
{
    char q[256];
    snprintf(q, sizeof(q), "feed WHERE village = '%s'", village);
    assert_int_equal(pgt_count(f->db, q), n);
    snprintf(q, sizeof(q), "feed WHERE village = '%s' AND seq BETWEEN 1 AND %ld", village, n);
    assert_int_equal(pgt_count(f->db, q), n);
}

static void test_register_assigns_number_due_and_feed(void **state)
{
    fx *f = *state;
    countyd_apply_result r = register_case(f, &P_VA, 1, "pa", "T-1");
    expect_applied(&r, 1);
    assert_string_equal(r.case_number, "410423-20260430-00001");
    assert_string_equal(r.village, VA);
    assert_int_equal(r.feed_seq, 1);
    expect_field(f, 1, "status", "1");
    expect_field(f, 1, "holder_unit", VA);
    expect_field(f, 1, "first_receiver_name", "甲干部");
    expect_field(f, 1, "request_text", "申请低保'); DROP TABLE cases; --");
    /* 5 working days after Thursday 2026-04-30: 5/1, 5/4, 5/5 are holidays,
     * 5/2-3 a weekend, 5/9 a make-up Saturday: 5/6, 5/7, 5/8, 5/9, 5/11. */
    int64_t want;
    sj_error err;
    assert_int_equal(sj_clock_parse_iso("2026-05-11T23:59:59.999+08:00", &want, &err), 0);
    char wbuf[32];
    snprintf(wbuf, sizeof(wbuf), "%lld", (long long)want);
    expect_field(f, 1, "due_at_ms", wbuf);
    assert_int_equal(pgt_count(f->db, "case_event"), 1);
    assert_int_equal(pgt_count(f->db, "processed_message WHERE status = 2"), 1);
    /* The second case of the day takes the next number. */
    r = register_case(f, &P_VA, 2, "pa", "T-1");
    assert_string_equal(r.case_number, "410423-20260430-00002");
    expect_feed_gapless(f, VA, 2);
}

/* A retired item (sanji-countyd item retire, admin.h): the case registered
 * before keeps it and goes on; a new registration is refused, saying so. */
static void test_retired_item_refused_for_new_cases_only(void **state)
{
    fx *f = *state;
    expect_applied((countyd_apply_result[]){register_case(f, &P_VA, 1, "pa", "T-1")}, 1);
    bool changed;
    sj_error err;
    if (countyd_admin_item_set_active(f->db, &(const countyd_admin_by){"测试", NULL}, "T-1", false, &changed, &err) != 0)
        fail_msg("retire: %s", err.message);
    assert_true(changed);
    countyd_apply_result r = register_case(f, &P_VA, 2, "pa", "T-1");
    expect_refused(&r, SJ_EUNKNOWN_ITEM);
    if (!strstr(r.reason, "retired") && !strstr(r.reason, "停用"))
        fail_msg("the refusal does not say the item is retired: %s", r.reason);
    assert_int_equal(pgt_count(f->db, "cases"), 1);
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
    /* Restored: registrations take it again. */
    if (countyd_admin_item_set_active(f->db, &(const countyd_admin_by){"测试", NULL}, "T-1", true, &changed, &err) != 0)
        fail_msg("restore: %s", err.message);
    expect_applied((countyd_apply_result[]){register_case(f, &P_VA, 3, "pa", "T-1")}, 1);
}

static void test_lifecycle_to_county_and_closed(void **state)
{
    fx *f = *state;
    expect_applied((countyd_apply_result[]){register_case(f, &P_VA, 1, "pa", "C-1")}, 1);
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
    step(f, &P_TX, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 2, "tx", "", 3);
    step(f, &P_TX, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 3, "tx", "", 4);
    step(f, &P_CO, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 4, "co", "", 5);
    expect_field(f, 1, "department", ""); /* 签收 names no department: 派单 does */
    step(f, &P_CO, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE, 5, "co", "已批准", 6);
    expect_field(f, 1, "status", "7");
    expect_field(f, 1, "handling", "3"); /* 代办 */
    expect_field(f, 1, "holder_unit", VA);
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK, 6, "pa", "", 7);
    expect_field(f, 1, "status", "10");
    expect_field(f, 1, "reached_county", "true");
    assert_int_equal(pgt_count(f->db, "case_event"), 7);
    expect_feed_gapless(f, VA, 7);
}

/* An action expected to be refused with code; returns the reason (static). */
static const char *refused_step(fx *f, const countyd_peer *peer, int n, Sanji__CaseActionType type,
                                uint64_t expected, const char *person, const char *note,
                                const char *department, int code)
{
    static char reason[512];
    act x;
    make_action(&x, n, type, expected, person);
    x.a.note = (char *)note;
    x.a.department = (char *)department;
    countyd_apply_msg m = aft_msg(f, peer, NULL, &x.a);
    countyd_apply_result r = aft_run1(f, &m);
    expect_refused(&r, code);
    snprintf(reason, sizeof(reason), "%s", r.reason);
    return reason;
}

/* 派单-接单-回单 through the county's apply and PostgreSQL: dispatched to a
 * department that refuses it back, re-dispatched, taken, reported, the
 * report returned, reported again, resolved and sent down to the village.
 * Unknown and inactive departments and typed names are refused; a
 * department acts only on its own cases, by its own staff. */
static void test_department_dispatch_take_report(void **state)
{
    fx *f = *state;
    const Sanji__CaseActionType DISPATCH = SANJI__CASE_ACTION_TYPE__CASE_ACTION_DISPATCH,
                                TAKE = SANJI__CASE_ACTION_TYPE__CASE_ACTION_TAKE,
                                REFUSE = SANJI__CASE_ACTION_TYPE__CASE_ACTION_REFUSE_DISPATCH,
                                REPORT = SANJI__CASE_ACTION_TYPE__CASE_ACTION_REPORT,
                                RETURN_REPORT = SANJI__CASE_ACTION_TYPE__CASE_ACTION_RETURN_REPORT;
    expect_applied((countyd_apply_result[]){register_case(f, &P_VA, 1, "pa", "C-1")}, 1);
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
    step(f, &P_TX, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 2, "tx", "", 3);
    step(f, &P_TX, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 3, "tx", "", 4);
    /* 签收 with a typed department is refused: never free text. */
    refused_step(f, &P_CO, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 4, "co", "", "县民正局",
                 SJ_EBAD_FIELD);
    step(f, &P_CO, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 4, "co", "", 5);

    /* Only a department of the county's records, and an active one. */
    const char *why = refused_step(f, &P_CO, 1, DISPATCH, 5, "co", "", "xyz", SJ_EBAD_FIELD);
    assert_true(strstr(why, "部门") || strstr(why, "no department with that code"));
    refused_step(f, &P_CO, 1, DISPATCH, 5, "co", "", "old", SJ_EBAD_FIELD);
    refused_step(f, &P_CO, 1, DISPATCH, 5, "co", "", "县民政局", SJ_EBAD_FIELD);
    refused_step(f, &P_CO, 1, DISPATCH, 5, "co", "", "", SJ_EMISSING_FIELD);
    expect_field(f, 1, "status", "5");

    step(f, &P_CO, 1, DISPATCH, 5, "co", "rsj", 6);
    expect_field(f, 1, "status", "12");
    expect_field(f, 1, "department", "县人社局");
    expect_field(f, 1, "department_code", "rsj");
    /* 民政局 cannot take 人社局's case; a person of one department cannot act
     * from the other's desk. */
    refused_step(f, &P_MZJ, 1, TAKE, 6, "dm", "", "", SJ_EWRONG_LEVEL);
    refused_step(f, &P_RSJ, 1, TAKE, 6, "dm", "", "", SJ_EUNKNOWN_PERSON);
    refused_step(f, &P_RSJ, 1, REFUSE, 6, "dr", "", "", SJ_EMISSING_FIELD);
    step(f, &P_RSJ, 1, REFUSE, 6, "dr", "低保属民政局职责", 7);
    expect_field(f, 1, "status", "5");
    expect_field(f, 1, "department_refusals", "1");
    expect_field(f, 1, "department_code", "");

    step(f, &P_CO, 1, DISPATCH, 7, "co", "mzj", 8);
    step(f, &P_MZJ, 1, TAKE, 8, "dm", "已接单", 9);
    expect_field(f, 1, "status", "13");
    step(f, &P_MZJ, 1, REPORT, 9, "dm", "已审批", 10);
    expect_field(f, 1, "status", "14");
    expect_field(f, 1, "result", "已审批");
    refused_step(f, &P_MZJ, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_URGE, 10, "dm", "", "",
                 SJ_EWRONG_ROLE);
    step(f, &P_CO, 1, RETURN_REPORT, 10, "co", "请写明金额", 11);
    expect_field(f, 1, "status", "13");
    expect_field(f, 1, "result", "");
    step(f, &P_MZJ, 1, REPORT, 11, "dm", "已审批，每月420元", 12);
    step(f, &P_CO, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE, 12, "co",
         "县民政局已审批，每月420元", 13);
    expect_field(f, 1, "status", "7");
    expect_field(f, 1, "holder_unit", VA);
    expect_field(f, 1, "handling", "3");
    expect_field(f, 1, "department", "县民政局");
    expect_field(f, 1, "department_code", "mzj");
    expect_field(f, 1, "department_refusals", "1");

    /* Every step is an event with its person and node, and went down the
     * village's feed: register + 4 + 9 department steps. */
    assert_int_equal(pgt_count(f->db, "case_event"), 13);
    expect_feed_gapless(f, VA, 13);
    assert_int_equal(pgt_count(f->db, "case_event WHERE action = 18 AND department = '县人社局'"
                                      " AND department_code = 'rsj' AND to_status = 12"),
                     1);
    assert_int_equal(pgt_count(f->db, "case_event WHERE action = 20 AND actor_person = 'dr'"
                                      " AND actor_name = '人社员' AND note = '低保属民政局职责'"
                                      " AND actor_node = 'department-desk:" CO ":rsj'"),
                     1);
    assert_int_equal(pgt_count(f->db, "case_event WHERE action IN (19, 21) AND actor_person = 'dm'"
                                      " AND actor_node = 'department-desk:" CO ":mzj'"
                                      " AND actor_level = 3 AND actor_unit = '" CO "'"),
                     3);
    assert_int_equal(pgt_count(f->db, "case_event WHERE action = 22 AND note = '请写明金额'"), 1);
    /* The result reaches the village: the last feed row is the resolution. */
    assert_int_equal(pgt_count(f->db, "feed d JOIN case_event e ON e.case_id = d.case_id"
                                      " AND e.seq = d.event_seq WHERE d.village = '" VA "'"
                                      " AND d.seq = 13 AND e.action = 8"
                                      " AND e.result = '县民政局已审批，每月420元'"),
                     1);
}

static void test_resolve_at_once_and_materials_round(void **state)
{
    fx *f = *state;
    register_case(f, &P_VA, 1, "pa", "V-1");
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE, 1, "pa", "已答复", 2);
    expect_field(f, 1, "handling", "1"); /* 即办 */
    register_case(f, &P_VA, 2, "pa", "T-1");
    step(f, &P_VA, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
    step(f, &P_TX, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 2, "tx", "", 3);
    step(f, &P_TX, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS, 3, "tx", "缺材料", 4);
    expect_field(f, 2, "materials", "{户口簿,收入证明}");
    step(f, &P_VA, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_SUPPLEMENT, 4, "pa", "已补齐", 5);
    step(f, &P_TX, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE, 5, "tx", "已出具证明", 6);
    expect_field(f, 2, "handling", "4"); /* 补办 */
    expect_feed_gapless(f, VA, 8);
}

static void test_redelivery_applied_once(void **state)
{
    fx *f = *state;
    sub x;
    make_submit(f, &x, 1, VA, "pa", "T-1");
    countyd_apply_msg m = aft_msg(f, &P_VA, &x.s, NULL);
    countyd_apply_result r1 = aft_run1(f, &m);
    expect_applied(&r1, 1);
    assert_false(r1.redelivered);
    countyd_apply_result r2 = aft_run1(f, &m); /* same message id again */
    expect_applied(&r2, 1);
    assert_true(r2.redelivered);
    assert_string_equal(r2.case_number, r1.case_number);
    assert_memory_equal(r2.case_id, r1.case_id, 16);
    assert_int_equal(pgt_count(f->db, "cases"), 1);
    assert_int_equal(pgt_count(f->db, "case_event"), 1);
    assert_int_equal(pgt_count(f->db, "feed"), 1);
    /* An action redelivered is applied once too. */
    act a;
    make_action(&a, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    m = aft_msg(f, &P_VA, NULL, &a.a);
    expect_applied((countyd_apply_result[]){aft_run1(f, &m)}, 2);
    countyd_apply_result r3 = aft_run1(f, &m);
    expect_applied(&r3, 2);
    assert_true(r3.redelivered);
    expect_field(f, 1, "version", "2");
    assert_int_equal(pgt_count(f->db, "case_event"), 2);
}

/* A result the villager is told of queues one notification row with the
 * event, in the same transaction: a redelivery does not double it, a case
 * registered "do not notify" gets none, and a pipelined batch queues them
 * like a serial one (docs/LIFECYCLE.md "Notifying the villager"). */
static void test_results_queue_one_notification(void **state)
{
    fx *f = *state;
    register_case(f, &P_VA, 1, "pa", "V-1");
    expect_field(f, 1, "notify_state", "0");
    act a;
    make_action(&a, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE, 1, "pa");
    a.a.result = "已答复";
    countyd_apply_msg m = aft_msg(f, &P_VA, NULL, &a.a);
    countyd_apply_result first = aft_run1(f, &m);
    expect_applied(&first, 2);
    assert_true(first.notify_queued); /* the daemon's notifier looks at once */
    countyd_apply_result again = aft_run1(f, &m);
    assert_true(again.redelivered);
    assert_false(again.notify_queued);
    assert_int_equal(pgt_count(f->db, "notification"), 1);
    assert_int_equal(pgt_count(f->db, "notification WHERE kind = 1 AND event_seq = 2 AND"
                                      " phone = '13800138000' AND state = 'pending'"
                                      " AND message = '' AND attempts = 0"),
                     1);
    expect_field(f, 1, "notify_state", "1");

    /* "do not notify" (不通知): the choice is kept, nothing is queued. */
    sub quiet;
    make_submit(f, &quiet, 2, VA, "pa", "V-1");
    quiet.s.no_notify = true;
    countyd_apply_msg q = aft_msg(f, &P_VA, &quiet.s, NULL);
    expect_applied((countyd_apply_result[]){aft_run1(f, &q)}, 1);
    expect_field(f, 2, "notify_state", "4");
    step(f, &P_VA, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE, 1, "pa", "已答复", 2);
    expect_field(f, 2, "notify_state", "4");
    assert_int_equal(pgt_count(f->db, "notification"), 1);

    /* Two cases in one pipelined batch: materials asked, returned. */
    register_case(f, &P_VA, 3, "pa", "V-1");
    register_case(f, &P_VA, 4, "pa", "V-1");
    act x3, x4;
    char *mats[] = {"户口簿"};
    make_action(&x3, 3, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS, 1, "pa");
    x3.a.materials = mats;
    x3.a.n_materials = 1;
    make_action(&x4, 4, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RETURN_UNDOABLE, 1, "pa");
    x4.a.note = "不符合条件";
    countyd_apply_msg batch[2] = {aft_msg(f, &P_VA, NULL, &x3.a), aft_msg(f, &P_VA, NULL, &x4.a)};
    countyd_apply_result r[2];
    sj_error err;
    unsigned serial_before = f->ap.serial_runs, safe_before = f->ap.safe_runs;
    if (countyd_apply_batch(&f->ap, batch, 2, r, &err) != 0)
        fail_msg("batch: %s", err.message);
    assert_int_equal(f->ap.serial_runs, serial_before); /* stayed pipelined */
    assert_int_equal(f->ap.safe_runs, safe_before);
    expect_applied(&r[0], 2);
    expect_applied(&r[1], 2);
    assert_true(r[0].notify_queued && r[1].notify_queued);
    assert_int_equal(pgt_count(f->db, "notification WHERE kind = 3"), 1);
    assert_int_equal(pgt_count(f->db, "notification WHERE kind = 2"), 1);
    assert_int_equal(pgt_count(f->db, "notification"), 3);
    expect_field(f, 3, "notify_state", "1");
    expect_field(f, 4, "notify_state", "1");
}

static void test_stale_version_refused_and_remembered(void **state)
{
    fx *f = *state;
    register_case(f, &P_VA, 1, "pa", "T-1");
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
    act a;
    make_action(&a, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_WITHDRAW, 1, "pa");
    a.a.note = "申请人撤回";
    countyd_apply_msg m = aft_msg(f, &P_VA, NULL, &a.a);
    countyd_apply_result r = aft_run1(f, &m);
    expect_refused(&r, SJ_ESTALE_VERSION);
    assert_int_equal(r.case_version, 2);
    expect_field(f, 1, "status", "2");
    assert_int_equal(pgt_count(f->db, "processed_message WHERE status = 3 AND code = -81"), 1);
    countyd_apply_result again = aft_run1(f, &m);
    expect_refused(&again, SJ_ESTALE_VERSION);
    assert_true(again.redelivered);
    assert_string_equal(again.reason, r.reason);
    assert_int_equal(pgt_count(f->db, "case_event"), 2);
    expect_feed_gapless(f, VA, 2);
}

static void test_scope_refusals(void **state)
{
    fx *f = *state;
    sub x;
    register_case(f, &P_VA, 1, "pa", "T-1");
    /* Village B's cadre on village A's case. */
    act a;
    make_action(&a, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pb");
    countyd_apply_msg m = aft_msg(f, &P_VB, NULL, &a.a);
    expect_refused((countyd_apply_result[]){aft_run1(f, &m)}, SJ_ESCOPE);
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
    /* Township Y on a village of township X. */
    make_action(&a, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 2, "ty");
    m = aft_msg(f, &P_TY, NULL, &a.a);
    expect_refused((countyd_apply_result[]){aft_run1(f, &m)}, SJ_ESCOPE);
    /* A person acting through another village's node. */
    make_action(&a, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_URGE, 0, "pa");
    m = aft_msg(f, &P_VB, NULL, &a.a);
    expect_refused((countyd_apply_result[]){aft_run1(f, &m)}, SJ_EUNKNOWN_PERSON);
    /* Registering for another village. */
    make_submit(f, &x, 2, VA, "pb", "T-1");
    m = aft_msg(f, &P_VB, &x.s, NULL);
    expect_refused((countyd_apply_result[]){aft_run1(f, &m)}, SJ_ESCOPE);
    expect_field(f, 1, "status", "2");
    assert_int_equal(pgt_count(f->db, "cases"), 1);
    assert_int_equal(pgt_count(f->db, "case_event"), 2);
    assert_int_equal(pgt_count(f->db, "processed_message WHERE status = 3"), 4);
}

/* A time the station cannot have saved its work at is refused BAD_TIME,
 * not moved: later than the county's clock allows, or before the county's
 * CA existed (a station clock fallen back to 2020).  Nothing is stored; a
 * right time from the same station is applied. */
static void test_impossible_times_refused(void **state)
{
    fx *f = *state;
    int64_t now = sj_clock_real_ms();
    f->ap.time_floor_ms = now - 86400000LL; /* the CA began yesterday */
    sub x;
    make_submit(f, &x, 1, VA, "pa", "T-1");
    x.s.registered_at_ms = 1577836800000LL; /* 2020-01-01 */
    countyd_apply_msg m = aft_msg(f, &P_VA, &x.s, NULL);
    countyd_apply_result r = aft_run1(f, &m);
    expect_refused(&r, SJ_EBAD_TIME);
    make_submit(f, &x, 1, VA, "pa", "T-1");
    x.s.registered_at_ms = now + 86400000LL; /* tomorrow */
    m = aft_msg(f, &P_VA, &x.s, NULL);
    expect_refused((countyd_apply_result[]){aft_run1(f, &m)}, SJ_EBAD_TIME);
    assert_int_equal(pgt_count(f->db, "cases"), 0);
    expect_applied((countyd_apply_result[]){register_case(f, &P_VA, 1, "pa", "T-1")}, 1);
    act a;
    make_action(&a, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    a.a.acted_at_ms = 1577836800000LL;
    m = aft_msg(f, &P_VA, NULL, &a.a);
    expect_refused((countyd_apply_result[]){aft_run1(f, &m)}, SJ_EBAD_TIME);
    expect_field(f, 1, "status", "1");
    assert_int_equal(pgt_count(f->db, "case_event"), 1);
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
}

static void test_batch_mixing_applied_and_refused(void **state)
{
    fx *f = *state;
    sub s1, s2;
    act a1, a2;
    make_submit(f, &s1, 1, VA, "pa", "T-1");
    make_submit(f, &s2, 2, VA, "pa", "T-1");
    s2.a.id_number = "410423199001011230"; /* wrong check character */
    if (sj_personal_id_check_char("41042319900101123") == '0')
        s2.a.id_number = "410423199001011231";
    make_action(&a1, 9, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa"); /* no such case */
    make_action(&a2, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    countyd_apply_msg m[5];
    m[0] = aft_msg(f, &P_VA, &s1.s, NULL);
    m[1] = aft_msg(f, &P_VA, &s2.s, NULL);
    m[2] = aft_msg(f, &P_VA, NULL, &a1.a);
    m[3] = aft_msg(f, &P_VA, NULL, &a2.a);
    m[4] = m[0]; /* the same message twice in one batch */
    countyd_apply_result r[5];
    sj_error err;
    if (countyd_apply_batch(&f->ap, m, 5, r, &err) != 0)
        fail_msg("batch: %s", err.message);
    expect_applied(&r[0], 1);
    expect_refused(&r[1], SJ_EBAD_ID_NUMBER);
    expect_refused(&r[2], SJ_EUNKNOWN_CASE);
    expect_applied(&r[3], 2);
    expect_applied(&r[4], 1);
    assert_true(r[4].redelivered);
    assert_int_equal(pgt_count(f->db, "cases"), 1);
    assert_int_equal(pgt_count(f->db, "case_event"), 2);
    assert_int_equal(pgt_count(f->db, "processed_message"), 4);
    assert_int_equal(pgt_count(f->db, "case_number_seq WHERE last_seq = 1"), 1);
    expect_feed_gapless(f, VA, 2);
}

/* A message whose data the database refuses after it has taken its case
 * number (here a CHECK constraint the test adds on the request text) is
 * refused alone; the messages around it in the same batch are applied, and
 * the number it took is given to the next. */
static void test_bad_data_midway_refused_alone(void **state)
{
    fx *f = *state;
    pgt_exec(f->db, "ALTER TABLE cases ADD CONSTRAINT test_refused CHECK (request_text <> '拒收')");
    sub s1, s2, s3;
    make_submit(f, &s1, 1, VA, "pa", "T-1");
    make_submit(f, &s2, 2, VA, "pa", "T-1");
    s2.s.request_text = "拒收";
    make_submit(f, &s3, 3, VA, "pa", "T-1");
    countyd_apply_msg m[3] = {aft_msg(f, &P_VA, &s1.s, NULL), aft_msg(f, &P_VA, &s2.s, NULL),
                              aft_msg(f, &P_VA, &s3.s, NULL)};
    countyd_apply_result r[3];
    sj_error err;
    if (countyd_apply_batch(&f->ap, m, 3, r, &err) != 0)
        fail_msg("batch: %s", err.message);
    expect_applied(&r[0], 1);
    expect_refused(&r[1], SJ_EBAD_FIELD);
    assert_string_equal(r[1].case_number, "");
    expect_applied(&r[2], 1);
    assert_string_equal(r[0].case_number, "410423-20260430-00001");
    assert_string_equal(r[2].case_number, "410423-20260430-00002");
    assert_int_equal(f->ap.safe_runs, 1);
    assert_int_equal(pgt_count(f->db, "cases"), 2);
    assert_int_equal(pgt_count(f->db, "processed_message WHERE status = 3 AND code = -86"), 1);
    expect_feed_gapless(f, VA, 2);
    /* Its redelivery gets the same refusal. */
    countyd_apply_result again = aft_run1(f, &m[1]);
    expect_refused(&again, SJ_EBAD_FIELD);
    assert_true(again.redelivered);
    assert_string_equal(again.reason, r[1].reason);
}

/* The same when the database refuses the event, which is written together
 * with its feed row and the processed message in one pipeline: the
 * pipeline's failure refuses that action alone, the connection stays
 * usable, and the next action of the batch is applied. */
static void test_bad_event_in_pipeline_refused_alone(void **state)
{
    fx *f = *state;
    expect_applied((countyd_apply_result[]){register_case(f, &P_VA, 1, "pa", "T-1")}, 1);
    pgt_exec(f->db, "ALTER TABLE case_event ADD CONSTRAINT test_refused CHECK (note <> '拒收')");
    act bad, good;
    make_action(&bad, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    bad.a.note = "拒收";
    make_action(&good, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    countyd_apply_msg m[2] = {aft_msg(f, &P_VA, NULL, &bad.a), aft_msg(f, &P_VA, NULL, &good.a)};
    countyd_apply_result r[2];
    sj_error err;
    if (countyd_apply_batch(&f->ap, m, 2, r, &err) != 0)
        fail_msg("batch: %s", err.message);
    expect_refused(&r[0], SJ_EBAD_FIELD);
    expect_applied(&r[1], 2);
    assert_int_equal(f->ap.safe_runs, 1);
    expect_field(f, 1, "version", "2");
    assert_int_equal(pgt_count(f->db, "case_event"), 2);
    assert_int_equal(pgt_count(f->db, "processed_message"), 3);
    expect_feed_gapless(f, VA, 2);
    /* The connection is out of pipeline mode and takes the next batch. */
    step(f, &P_TX, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 2, "tx", "", 3);
}

/* The usual batch (submissions, actions, refusals before any write, a
 * submission redelivered in the same batch) runs once, without the safe
 * mode's savepoints. */
static void test_usual_batch_needs_no_savepoint(void **state)
{
    fx *f = *state;
    sub s1, s2, bad;
    make_submit(f, &s1, 1, VA, "pa", "T-1");
    make_submit(f, &s2, 2, VB, "pb", "V-1");
    make_submit(f, &bad, 3, VA, "pa", "NO-SUCH");
    countyd_apply_msg m[4] = {aft_msg(f, &P_VA, &s1.s, NULL), aft_msg(f, &P_VB, &s2.s, NULL),
                              aft_msg(f, &P_VA, &bad.s, NULL)};
    m[3] = m[0];
    countyd_apply_result r[4];
    sj_error err;
    if (countyd_apply_batch(&f->ap, m, 4, r, &err) != 0)
        fail_msg("batch: %s", err.message);
    expect_applied(&r[0], 1);
    expect_applied(&r[1], 1);
    expect_refused(&r[2], SJ_EUNKNOWN_ITEM);
    expect_applied(&r[3], 1);
    assert_true(r[3].redelivered);
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
    assert_int_equal(f->ap.safe_runs, 0);
}

/* An URGE carries no expected version, so its redelivery passes the state
 * machine and writes again before its id is found recorded: the second
 * effect is undone and the first result returned. */
static void test_redelivered_urge_undone(void **state)
{
    fx *f = *state;
    register_case(f, &P_VA, 1, "pa", "T-1");
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
    act u;
    make_action(&u, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_URGE, 0, "pa");
    countyd_apply_msg m = aft_msg(f, &P_VA, NULL, &u.a);
    countyd_apply_result r1 = aft_run1(f, &m);
    expect_applied(&r1, 2); /* an urge changes no version */
    assert_false(r1.redelivered);
    countyd_apply_result r2 = aft_run1(f, &m);
    expect_applied(&r2, 2);
    assert_true(r2.redelivered);
    assert_int_equal(f->ap.safe_runs, 1);
    expect_field(f, 1, "version", "2");
    expect_field(f, 1, "urge_count", "1");
    assert_int_equal(pgt_count(f->db, "case_event"), 3);
    expect_feed_gapless(f, VA, 3);
}

/* --- the pipelined mode ----------------------------------------------------- */

/* Every row Sanji wrote, as text, to compare two databases; times left
 * out (the fake clock runs on from its fixed start).  A case's history
 * figures (migration 0017) are also compared with what its events say
 * (its time of finishing only so: the times differ between runs).  The
 * months marked for the statistics' roll-up (migration 0018) are listed,
 * and every month of a case must be one. */
static char *dump_case_tables(fx *f)
{
    return pgt_scalar(
        f->db,
        "SELECT string_agg(t, E'\\n' ORDER BY t) FROM ("
        " SELECT 'c ' || (to_jsonb(x) - ARRAY['recorded_at', 'registered_at_ms', 'updated_at_ms',"
        " 'closed_at_ms', 'finished_event_at_ms'] || jsonb_build_object('figures_of_events',"
        " (SELECT (x.finished_event_at_ms, x.repeat_requests, x.extensions_asked,"
        " x.extensions_approved, x.feedback_unsatisfied, x.feedback_bad) ="
        " (coalesce(max(e.at_ms) FILTER (WHERE e.action IN (2, 8, 9)), 0),"
        " (count(*) FILTER (WHERE e.repeat_materials_request))::int,"
        " (count(*) FILTER (WHERE e.action = 23))::int, (count(*) FILTER (WHERE e.action = 24))::int,"
        " coalesce(bool_or(e.action = 12 AND e.satisfaction = 3), false),"
        " coalesce(bool_or(e.action = 12 AND e.satisfaction IN (3, 5)), false))"
        " FROM case_event e WHERE e.case_id = x.case_id)))::text t FROM cases x UNION ALL"
        " SELECT 'e ' || (to_jsonb(x) - ARRAY['at_ms', 'recorded_at_ms'])::text FROM case_event x"
        " UNION ALL"
        " SELECT 'f ' || to_jsonb(x)::text FROM feed x UNION ALL"
        " SELECT 'k ' || to_jsonb(x)::text FROM feed_counter x UNION ALL"
        " SELECT 'n ' || to_jsonb(x)::text FROM case_number_seq x UNION ALL"
        " SELECT 'p ' || (to_jsonb(x) - 'processed_at')::text FROM processed_message x UNION ALL"
        " SELECT 'd ' || x.month || CASE WHEN EXISTS (SELECT 1 FROM cases c"
        "  WHERE sanji_stats_month(c.registered_at_ms) = x.month) THEN ' has cases' ELSE '' END"
        " FROM stats_month_dirty x UNION ALL"
        " SELECT 'd unmarked ' || m FROM (SELECT DISTINCT sanji_stats_month(registered_at_ms) m"
        "  FROM cases) c WHERE NOT EXISTS (SELECT 1 FROM stats_month_dirty d WHERE d.month = c.m)) q");
}

/* Fails with the first line where got and want differ. */
static void expect_same_lines(const char *got, const char *want)
{
    for (int line = 1;; line++) {
        size_t g = strcspn(got, "\n"), w = strcspn(want, "\n");
        if (g != w || memcmp(got, want, g) != 0)
            fail_msg("line %d differs:\n  pipelined: %.*s\n  serial:    %.*s", line, (int)g, got,
                     (int)w, want);
        if (!got[g] || !want[w]) {
            assert_int_equal(got[g], want[w]);
            return;
        }
        got += g + 1;
        want += w + 1;
    }
}

enum { SCENARIO_BATCH = 6 };

/* Two cases moved on one message at a time, then one batch: submissions
 * in two villages, actions on both cases (one with a materials list in
 * the row), a refused submission and an action on no case. */
static void pipeline_scenario(fx *f, countyd_apply_result r[SCENARIO_BATCH])
{
    expect_applied((countyd_apply_result[]){register_case(f, &P_VA, 1, "pa", "T-1")}, 1);
    expect_applied((countyd_apply_result[]){register_case(f, &P_VB, 2, "pb", "T-1")}, 1);
    step(f, &P_VA, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", "", 2);
    step(f, &P_VB, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pb", "", 2);
    step(f, &P_TX, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 2, "tx", "", 3);
    step(f, &P_TX, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS, 3, "tx", "缺材料", 4);

    sub c, d, bad;
    act accept, supplement, nocase;
    make_submit(f, &c, 3, VA, "pa", "T-1");
    make_submit(f, &d, 4, VB, "pb", "V-1");
    make_submit(f, &bad, 5, VA, "pa", "NO-SUCH");
    make_action(&accept, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 2, "tx");
    make_action(&supplement, 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_SUPPLEMENT, 4, "pb");
    supplement.a.note = "已补齐";
    make_action(&nocase, 9, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    countyd_apply_msg batch[SCENARIO_BATCH] = {
        aft_msg(f, &P_VA, &c.s, NULL),          aft_msg(f, &P_TX, NULL, &accept.a),
        aft_msg(f, &P_VB, &d.s, NULL),          aft_msg(f, &P_VB, NULL, &supplement.a),
        aft_msg(f, &P_VA, &bad.s, NULL),        aft_msg(f, &P_VA, NULL, &nocase.a)};
    sj_error err;
    if (countyd_apply_batch(&f->ap, batch, SCENARIO_BATCH, r, &err) != 0)
        fail_msg("batch: %s", err.message);
    expect_applied(&r[0], 1);
    expect_applied(&r[1], 3);
    expect_applied(&r[2], 1);
    expect_applied(&r[3], 5);
    expect_refused(&r[4], SJ_EUNKNOWN_ITEM);
    expect_refused(&r[5], SJ_EUNKNOWN_CASE);
}

/* A batch on distinct cases runs pipelined in one pass and leaves exactly
 * the rows and Acks the serial mode leaves. */
static void test_pipelined_batch_equals_serial(void **state)
{
    fx *f = *state;
    countyd_apply_result piped[SCENARIO_BATCH], serial[SCENARIO_BATCH];
    pipeline_scenario(f, piped);
    assert_int_equal(f->ap.serial_runs, 0);
    assert_int_equal(f->ap.safe_runs, 0);
    assert_string_equal(piped[0].case_number, "410423-20260430-00003");
    assert_string_equal(piped[2].case_number, "410423-20260430-00004");
    assert_string_equal(piped[0].village, VA);
    assert_int_equal(piped[0].feed_seq, 3); /* VA: submit and escalate before */
    assert_int_equal(piped[1].feed_seq, 4);
    assert_int_equal(piped[3].feed_seq, 6); /* VB: four before, then the submission */
    expect_feed_gapless(f, VA, 4);
    expect_feed_gapless(f, VB, 6);

    void *other = NULL;
    assert_int_equal(setup(&other), 0);
    fx *g = other;
    g->ap.serial_only = true;
    pipeline_scenario(g, serial);
    char *want = dump_case_tables(g), *got = dump_case_tables(f);
    assert_non_null(want);
    assert_non_null(got);
    expect_same_lines(got, want);
    for (int i = 0; i < SCENARIO_BATCH; i++) {
        assert_int_equal(piped[i].status, serial[i].status);
        assert_int_equal(piped[i].code, serial[i].code);
        assert_string_equal(piped[i].reason, serial[i].reason);
        assert_memory_equal(piped[i].case_id, serial[i].case_id, 16);
        assert_string_equal(piped[i].case_number, serial[i].case_number);
        assert_int_equal(piped[i].case_version, serial[i].case_version);
        assert_string_equal(piped[i].village, serial[i].village);
        assert_int_equal(piped[i].feed_first, serial[i].feed_first);
        assert_int_equal(piped[i].feed_seq, serial[i].feed_seq);
        assert_int_equal(piped[i].redelivered, serial[i].redelivered);
    }
    free(want);
    free(got);
    teardown(&other);
}

/* What the county pushes after a batch's commit is the rows the batch
 * wrote, each once: not the village's rows before them, which went out
 * with the batches that wrote them (and the relay would receive again and
 * throw away). */
static void test_feed_read_back_is_the_batch_rows(void **state)
{
    fx *f = *state;
    countyd_apply_result r[SCENARIO_BATCH];
    pipeline_scenario(f, r);
    for (int i = 0; i < 4; i++)
        assert_int_equal(r[i].feed_first, r[i].feed_seq); /* one event each */
    countyd_arena a;
    countyd_arena_init(&a);
    Sanji__FeedUpdate **u = NULL;
    size_t n = 0;
    sj_error err;
    if (countyd_feed_written_load(f->db, &a, r, SCENARIO_BATCH, &u, &n, &err) != 0)
        fail_msg("feed read back: %s", err.message);
    char got[256] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s/%llu ", u[i]->village,
                 (unsigned long long)u[i]->seq);
    char want[256];
    snprintf(want, sizeof want, "%s/3 %s/4 %s/5 %s/6 ", VA, VA, VB, VB);
    assert_string_equal(got, want);
    countyd_arena_free(&a);
}

/* A redelivery in a pipelined batch aborts the pipeline; the batch runs
 * again serially: the new submission keeps a gapless number, the
 * redelivery gets its original Ack. */
static void test_pipeline_redelivery_runs_serially(void **state)
{
    fx *f = *state;
    sub a, b;
    make_submit(f, &a, 1, VA, "pa", "T-1");
    countyd_apply_msg first = aft_msg(f, &P_VA, &a.s, NULL);
    countyd_apply_result r0 = aft_run1(f, &first);
    make_submit(f, &b, 2, VA, "pa", "T-1");
    countyd_apply_msg m[2] = {aft_msg(f, &P_VA, &b.s, NULL), first};
    countyd_apply_result r[2];
    sj_error err;
    if (countyd_apply_batch(&f->ap, m, 2, r, &err) != 0)
        fail_msg("batch: %s", err.message);
    assert_int_equal(f->ap.serial_runs, 1);
    assert_int_equal(f->ap.safe_runs, 0);
    expect_applied(&r[0], 1);
    assert_string_equal(r[0].case_number, "410423-20260430-00002");
    expect_applied(&r[1], 1);
    assert_true(r[1].redelivered);
    assert_string_equal(r[1].case_number, r0.case_number);
    assert_int_equal(pgt_count(f->db, "cases"), 2);
    expect_feed_gapless(f, VA, 2);
}

/* A new message with the id of an existing case: the pipeline's case
 * insert fails, the serial run refuses that message alone. */
static void test_pipeline_existing_case_refused(void **state)
{
    fx *f = *state;
    sub again, other;
    register_case(f, &P_VA, 1, "pa", "T-1");
    make_submit(f, &again, 1, VA, "pa", "T-1");
    make_submit(f, &other, 2, VB, "pb", "T-1");
    countyd_apply_msg m[2] = {aft_msg(f, &P_VA, &again.s, NULL), aft_msg(f, &P_VB, &other.s, NULL)};
    countyd_apply_result r[2];
    sj_error err;
    if (countyd_apply_batch(&f->ap, m, 2, r, &err) != 0)
        fail_msg("batch: %s", err.message);
    assert_int_equal(f->ap.serial_runs, 1);
    expect_refused(&r[0], SJ_ECASE_EXISTS);
    expect_applied(&r[1], 1);
    assert_string_equal(r[1].case_number, "410423-20260430-00002");
    expect_feed_gapless(f, VA, 1);
    expect_feed_gapless(f, VB, 1);
}

/* Two messages on one case in one batch (an outbox flushed after a day
 * offline: the registration and the escalation): the escalation is judged
 * against the case as the registration left it, in memory, and both are
 * written set-based; the per-row pipeline runs such a batch serially. */
static void test_same_case_twice_runs_serially(void **state)
{
    fx *f = *state;
    sub a;
    act up;
    make_submit(f, &a, 1, VA, "pa", "T-1");
    make_action(&up, 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    countyd_apply_msg m[2] = {aft_msg(f, &P_VA, &a.s, NULL), aft_msg(f, &P_VA, NULL, &up.a)};
    countyd_apply_result r[2];
    sj_error err;
    if (countyd_apply_batch(&f->ap, m, 2, r, &err) != 0)
        fail_msg("batch: %s", err.message);
    expect_applied(&r[0], 1);
    expect_applied(&r[1], 2);
    assert_int_equal(f->ap.serial_runs, 0);
    assert_int_equal(f->ap.set_batches, 1);
    assert_string_equal(r[1].case_number, r[0].case_number);
    expect_field(f, 1, "version", "2");
    expect_feed_gapless(f, VA, 2);
}

/* --- the set-based writes compared with the other modes ---------------------- */

enum { MODES_RESULTS = 26 };

/* One batch of the mode comparison: applied, results appended at *at. */
static void modes_batch(fx *f, const countyd_apply_msg *m, size_t n, countyd_apply_result *out,
                        size_t *at)
{
    assert_true(*at + n <= MODES_RESULTS);
    sj_error err;
    if (countyd_apply_batch(&f->ap, m, n, out + *at, &err) != 0)
        fail_msg("batch: %s", err.message);
    *at += n;
}

/* The same batches for every mode: submissions in two villages and a
 * refusal; actions on distinct cases (one queues a notification, one is
 * stale, one names no case) with a submission; a redelivery of the first
 * batch's message with a new submission (the set-based write meets the
 * unique violation and the batch runs serially); one message twice in a
 * batch; two actions on one case in a batch, and a registration with an
 * action and a stale action on the new case; a new message with the id of
 * an existing case; a 差评 feedback on a resolved case.  Returns the
 * number of results. */
static size_t modes_scenario(fx *f, countyd_apply_result out[MODES_RESULTS])
{
    size_t at = 0;
    sub s[13];
    act a[8];
    make_submit(f, &s[1], 1, VA, "pa", "T-1");
    make_submit(f, &s[2], 2, VB, "pb", "V-1");
    make_submit(f, &s[3], 3, VA, "pa", "V-1");
    make_submit(f, &s[4], 4, VB, "pb", "T-1");
    make_submit(f, &s[5], 5, VA, "pa", "NO-SUCH");
    countyd_apply_msg b1[5] = {aft_msg(f, &P_VA, &s[1].s, NULL), aft_msg(f, &P_VB, &s[2].s, NULL),
                               aft_msg(f, &P_VA, &s[3].s, NULL), aft_msg(f, &P_VB, &s[4].s, NULL),
                               aft_msg(f, &P_VA, &s[5].s, NULL)};
    modes_batch(f, b1, 5, out, &at);

    make_action(&a[0], 1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    make_action(&a[1], 3, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE, 1, "pa");
    a[1].a.result = "已答复";
    make_action(&a[2], 2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE, 7, "pb");
    a[2].a.result = "已答复";
    make_action(&a[3], 9, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    make_submit(f, &s[6], 6, VA, "pa", "C-1");
    countyd_apply_msg b2[5] = {aft_msg(f, &P_VA, NULL, &a[0].a), aft_msg(f, &P_VA, NULL, &a[1].a),
                               aft_msg(f, &P_VB, NULL, &a[2].a), aft_msg(f, &P_VA, NULL, &a[3].a),
                               aft_msg(f, &P_VA, &s[6].s, NULL)};
    modes_batch(f, b2, 5, out, &at);

    make_submit(f, &s[7], 7, VB, "pb", "T-1");
    countyd_apply_msg b3[2] = {aft_msg(f, &P_VB, &s[7].s, NULL), b1[0]};
    modes_batch(f, b3, 2, out, &at);

    make_submit(f, &s[8], 8, VA, "pa", "V-1");
    countyd_apply_msg b4[2] = {aft_msg(f, &P_VA, &s[8].s, NULL)};
    b4[1] = b4[0];
    modes_batch(f, b4, 2, out, &at);

    make_action(&a[4], 4, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pb");
    make_action(&a[5], 4, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 2, "tx");
    make_submit(f, &s[9], 9, VB, "pb", "V-1");
    make_submit(f, &s[12], 11, VA, "pa", "T-1");
    make_action(&a[6], 11, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa");
    make_action(&a[7], 11, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa"); /* stale */
    countyd_apply_msg b5[6] = {aft_msg(f, &P_VB, NULL, &a[4].a), aft_msg(f, &P_TX, NULL, &a[5].a),
                               aft_msg(f, &P_VB, &s[9].s, NULL),  aft_msg(f, &P_VA, &s[12].s, NULL),
                               aft_msg(f, &P_VA, NULL, &a[6].a),  aft_msg(f, &P_VA, NULL, &a[7].a)};
    modes_batch(f, b5, 6, out, &at);

    make_submit(f, &s[10], 2, VB, "pb", "T-1"); /* case 2 exists */
    make_submit(f, &s[11], 10, VA, "pa", "T-1");
    countyd_apply_msg b6[2] = {aft_msg(f, &P_VB, &s[10].s, NULL),
                               aft_msg(f, &P_VA, &s[11].s, NULL)};
    modes_batch(f, b6, 2, out, &at);

    act fb;
    make_action(&fb, 3, SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK, 2, "pa");
    fb.a.satisfaction = 5; /* 非常不满意: a 差评 in the case's history figures */
    act x1, x2;
    make_action(&x1, 9, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE, 1, "pb");
    x1.a.result = "已答复";
    make_action(&x2, 9, SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK, 2, "pb");
    x2.a.satisfaction = 5;
    countyd_apply_msg b7[3] = {aft_msg(f, &P_VA, NULL, &fb.a), aft_msg(f, &P_VB, NULL, &x1.a), aft_msg(f, &P_VB, NULL, &x2.a)};
    modes_batch(f, b7, 3, out, &at);
    return at;
}

/* The rows of dump_case_tables() and the notifications (ids aside: a
 * rolled-back run takes sequence values; times aside, as there). */
static char *dump_with_notifications(fx *f)
{
    char *rows = dump_case_tables(f);
    char *notes = pgt_scalar(f->db, "SELECT string_agg(t, E'\\n' ORDER BY t) FROM ("
                                    " SELECT 'o ' || (to_jsonb(x) - ARRAY['id', 'created_at',"
                                    " 'next_attempt_at_ms'])::text t"
                                    " FROM notification x) q");
    assert_non_null(rows);
    assert_non_null(notes);
    size_t len = strlen(rows) + strlen(notes) + 2;
    char *all = malloc(len);
    snprintf(all, len, "%s\n%s", rows, notes);
    free(rows);
    free(notes);
    return all;
}

static void expect_same_results(const countyd_apply_result *got, const countyd_apply_result *want,
                                size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i].status, want[i].status);
        assert_int_equal(got[i].code, want[i].code);
        assert_string_equal(got[i].reason, want[i].reason);
        assert_memory_equal(got[i].case_id, want[i].case_id, 16);
        assert_string_equal(got[i].case_number, want[i].case_number);
        assert_int_equal(got[i].case_version, want[i].case_version);
        assert_string_equal(got[i].village, want[i].village);
        assert_int_equal(got[i].feed_first, want[i].feed_first);
        assert_int_equal(got[i].feed_seq, want[i].feed_seq);
        assert_int_equal(got[i].redelivered, want[i].redelivered);
        assert_int_equal(got[i].notify_queued, want[i].notify_queued);
    }
}

/* The set-based writes (the default) leave row for row what the
 * per-row pipeline and the serial mode leave, and the same Acks, for the
 * same batches; the batches on distinct cases were written set-based,
 * the others fell back as before. */
static void test_set_based_equals_rows_and_serial(void **state)
{
    fx *f = *state;
    countyd_apply_result set[MODES_RESULTS], rows[MODES_RESULTS], serial[MODES_RESULTS];
    size_t n = modes_scenario(f, set);
    /* b1, b2, b5, b7 set-based; b3 and b6 tried and ran serially; b4 (one
     * message twice) serial from the start. */
    assert_int_equal(f->ap.set_batches, 4);
    assert_int_equal(f->ap.serial_runs, 2);
    assert_int_equal(f->ap.safe_runs, 0);
    expect_applied(&set[0], 1);
    assert_string_equal(set[0].case_number, "410423-20260430-00001");
    assert_string_equal(set[3].case_number, "410423-20260430-00004");
    expect_refused(&set[4], SJ_EUNKNOWN_ITEM);
    assert_int_equal(set[3].feed_seq, 2); /* VB: its second event */
    expect_applied(&set[5], 2);
    expect_applied(&set[6], 2);
    assert_true(set[6].notify_queued);
    expect_refused(&set[7], SJ_ESTALE_VERSION);
    expect_refused(&set[8], SJ_EUNKNOWN_CASE);
    assert_string_equal(set[9].case_number, "410423-20260430-00005");
    assert_int_equal(set[9].feed_seq, 5); /* VA: 1, 3, then 1 up, 3 resolved, 6 */
    assert_string_equal(set[10].case_number, "410423-20260430-00006");
    assert_true(set[11].redelivered);
    assert_string_equal(set[11].case_number, "410423-20260430-00001");
    assert_true(set[13].redelivered);
    expect_applied(&set[14], 2);
    expect_applied(&set[15], 3);
    /* Two actions on case 4, then case 11 registered, escalated and a
     * stale escalation refused, in one set-based batch. */
    assert_int_equal(set[15].feed_seq, 5);
    expect_applied(&set[17], 1);
    assert_string_equal(set[17].case_number, "410423-20260430-00009");
    expect_applied(&set[18], 2);
    assert_string_equal(set[18].case_number, "410423-20260430-00009");
    assert_int_equal(set[18].feed_seq, 8);
    expect_refused(&set[19], SJ_ESTALE_VERSION);
    assert_string_equal(set[19].case_number, "410423-20260430-00009");
    assert_int_equal(set[19].case_version, 2);
    expect_refused(&set[20], SJ_ECASE_EXISTS);
    expect_applied(&set[21], 1);
    expect_applied(&set[22], 3); /* the 差评 */
    expect_applied(&set[23], 2);
    expect_applied(&set[24], 3);
    expect_feed_gapless(f, VA, 10);
    expect_feed_gapless(f, VB, 8);

    void *other = NULL, *third = NULL;
    assert_int_equal(setup(&other), 0);
    assert_int_equal(setup(&third), 0);
    fx *g = other, *h = third;
    g->ap.row_writes = true;  /* pipelined, one statement per row */
    h->ap.serial_only = true; /* one message after another */
    assert_int_equal(modes_scenario(g, rows), n);
    assert_int_equal(modes_scenario(h, serial), n);
    assert_int_equal(g->ap.set_batches, 0);
    assert_int_equal(h->ap.set_batches, 0);
    char *got = dump_with_notifications(f), *want_rows = dump_with_notifications(g),
         *want_serial = dump_with_notifications(h);
    expect_same_lines(got, want_rows);
    expect_same_lines(got, want_serial);
    /* Each case's history figures are its events' (migration 0017). */
    assert_non_null(strstr(got, "\"figures_of_events\": true"));
    assert_non_null(strstr(got, "\"feedback_bad\": true"));
    assert_null(strstr(got, "\"figures_of_events\": false"));
    /* The statistics' months of the cases written are marked (0018). */
    assert_non_null(strstr(got, " has cases"));
    assert_null(strstr(got, "d unmarked"));
    expect_same_results(set, rows, n);
    expect_same_results(set, serial, n);
    free(got);
    free(want_rows);
    free(want_serial);
    teardown(&other);
    teardown(&third);
}


/* --- assignment (指派, 接手, 全程代办员) and AB岗 ---------------------------------- */

/* An action naming a person (ASSIGN, SET_CARRIER), or none (TAKE_OVER). */
static countyd_apply_result act_person(fx *f, const countyd_peer *peer, int n,
                                       Sanji__CaseActionType type, uint64_t expected,
                                       const char *actor, const char *person, const char *note)
{
    act x;
    make_action(&x, n, type, expected, actor);
    x.a.person = (char *)(person ? person : "");
    x.a.note = (char *)(note ? note : "");
    countyd_apply_msg m = aft_msg(f, peer, NULL, &x.a);
    return aft_run1(f, &m);
}

/* The case numbers of a case list query, in order, one a line. */
static char *list_numbers(fx *f, const countyd_asker *k, Sanji__CaseListQuery *cl)
{
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_CASE_LIST;
    q.case_list = cl;
    cl->ascending = true;
    Sanji__QueryResult out = SANJI__QUERY_RESULT__INIT;
    countyd_arena a;
    countyd_arena_init(&a);
    sj_error err;
    if (countyd_query_answer(f->db, &a, k, NULL, &q, &out, &err) != 0 || out.code != 0)
        fail_msg("case list: %s %s", err.message, out.reason ? out.reason : "");
    char *text = calloc(1, 4096);
    for (size_t i = 0; i < out.case_list->n_cases; i++) {
        const Sanji__Case *c = out.case_list->cases[i];
        snprintf(text + strlen(text), 4096 - strlen(text), "%s %s/%s %s/%s\n",
                 c->number + strlen(c->number) - 1, c->assignee, c->assignee_name, c->carrier,
                 c->carrier_name);
    }
    countyd_arena_free(&a);
    return text;
}

static void expect_list(fx *f, const countyd_asker *k, Sanji__CaseListQuery *cl, const char *want)
{
    char *got = list_numbers(f, k, cl);
    if (strcmp(got, want) != 0)
        fail_msg("case list:\n%s\nwant:\n%s", got, want);
    free(got);
}

/* A cadre deactivated mid-case: the case assigned to them shows up for
 * reassignment, a colleague takes it over without a reason, the B岗 of an
 * absent A岗 sees and works the A岗's case; the assignee is cleared when
 * the case moves on, the carrier stays; the feed carries every step by
 * name. */
static void test_assignment_take_over_and_stand_in(void **state)
{
    fx *f = *state;
    pgt_exec(f->db, "INSERT INTO person (id, name, role, org_unit, verifier) VALUES"
                    " ('pa2', '甲干部二', 1, '" VA "', 'scrypt$x'),"
                    " ('tx2', '镇员X二', 2, '" TX "', 'scrypt$x')");
    pgt_exec(f->db, "UPDATE person SET stand_in = 'tx2' WHERE id = 'tx'");
    pgt_exec(f->db, "UPDATE reference_version SET version = version + 1 WHERE name = 'person'");

    /* 全程代办员 at registration: named, or the first receiver. */
    sub x;
    make_submit(f, &x, 1, VA, "pa", "C-1");
    x.s.carrier = "pa2";
    countyd_apply_msg m = aft_msg(f, &P_VA, &x.s, NULL);
    expect_applied((countyd_apply_result[]){aft_run1(f, &m)}, 1);
    expect_field(f, 1, "carrier_name", "甲干部二");
    expect_applied((countyd_apply_result[]){register_case(f, &P_VA, 2, "pa", "T-1")}, 1);
    expect_field(f, 2, "carrier", "pa");
    make_submit(f, &x, 3, VA, "pa", "T-1");
    x.s.carrier = "pb"; /* a cadre of another village */
    m = aft_msg(f, &P_VA, &x.s, NULL);
    expect_refused((countyd_apply_result[]){aft_run1(f, &m)}, SJ_EBAD_FIELD);

    const Sanji__CaseActionType ASSIGN = SANJI__CASE_ACTION_TYPE__CASE_ACTION_ASSIGN,
                                TAKE_OVER = SANJI__CASE_ACTION_TYPE__CASE_ACTION_TAKE_OVER,
                                SET_CARRIER = SANJI__CASE_ACTION_TYPE__CASE_ACTION_SET_CARRIER,
                                ESCALATE = SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE,
                                ACCEPT = SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT;
    /* 指派 at the village, then up to the township: cleared there. */
    expect_refused((countyd_apply_result[]){act_person(f, &P_VA, 1, ASSIGN, 1, "pa", "tx", NULL)},
                   SJ_EBAD_FIELD); /* not of the village */
    expect_refused((countyd_apply_result[]){act_person(f, &P_VA, 1, ASSIGN, 1, "pa", "zz", NULL)},
                   SJ_EUNKNOWN_PERSON);
    expect_applied((countyd_apply_result[]){act_person(f, &P_VA, 1, ASSIGN, 1, "pa", "pa2",
                                                       "请跟进")},
                   2);
    expect_field(f, 1, "assignee_name", "甲干部二");
    step(f, &P_VA, 1, ESCALATE, 2, "pa2", "", 3);
    expect_field(f, 1, "assignee", "");
    expect_field(f, 1, "carrier", "pa2");
    step(f, &P_TX, 1, ACCEPT, 3, "tx", "", 4);
    expect_applied((countyd_apply_result[]){act_person(f, &P_TX, 1, ASSIGN, 4, "tx", "tx", NULL)},
                   5);

    /* 我的事项 and the search by assignee, at the county and the township. */
    countyd_asker county = {.role = SJ_NODE_ROLE_COUNTY_DESK, .level = SJ_LEVEL_COUNTY, .unit = CO};
    countyd_asker township = {.role = SJ_NODE_ROLE_TOWNSHIP_DESK, .level = SJ_LEVEL_TOWNSHIP,
                              .unit = TX};
    Sanji__CaseListQuery cl = SANJI__CASE_LIST_QUERY__INIT;
    cl.assignee = "tx";
    expect_list(f, &county, &cl, "1 tx/镇员X pa2/甲干部二\n");
    Sanji__CaseListQuery mine = SANJI__CASE_LIST_QUERY__INIT;
    mine.mine = true;
    mine.for_person = "tx2"; /* B岗 of tx: sees tx's case */
    expect_list(f, &township, &mine, "1 tx/镇员X pa2/甲干部二\n");
    mine.for_person = "pa"; /* first receiver of both, carrier of 2 */
    expect_list(f, &township, &mine, "1 tx/镇员X pa2/甲干部二\n2 / pa/甲干部\n");
    mine.for_person = "";
    expect_list(f, &township, &mine, "");

    /* The A岗 is away: the B岗 acts on the case, and takes it over with a
     * reason; without one, refused while the A岗 is active. */
    expect_refused((countyd_apply_result[]){act_person(f, &P_TX, 1, TAKE_OVER, 5, "tx2", NULL,
                                                       NULL)},
                   SJ_EMISSING_FIELD);
    /* Deactivated mid-case: the case shows up for reassignment. */
    bool changed;
    sj_error err;
    if (countyd_admin_person_set_active(f->db, &(const countyd_admin_by){"测试", NULL}, "tx", false, &changed, &err) != 0)
        fail_msg("deactivate: %s", err.message);
    char *buf = NULL;
    size_t len = 0, n = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(countyd_admin_person_cases(f->db, "tx", out, &n, &err), 0);
    fclose(out);
    assert_int_equal(n, 1);
    assert_non_null(strstr(buf, "410423-20260430-00001"));
    assert_non_null(strstr(buf, "指派给本人"));
    free(buf);
    /* The deactivated person can no longer act. */
    expect_refused((countyd_apply_result[]){act_person(f, &P_TX, 1, ASSIGN, 5, "tx", "tx2", NULL)},
                   SJ_EUNKNOWN_PERSON);
    /* Taken over without a reason: the assignee is gone. */
    expect_applied((countyd_apply_result[]){act_person(f, &P_TX, 1, TAKE_OVER, 5, "tx2", NULL,
                                                       NULL)},
                   6);
    expect_field(f, 1, "assignee", "tx2");
    expect_field(f, 1, "assignee_name", "镇员X二");
    /* Nobody assigns to the deactivated person. */
    expect_refused((countyd_apply_result[]){act_person(f, &P_TX, 1, ASSIGN, 6, "tx2", "tx", NULL)},
                   SJ_EUNKNOWN_PERSON);
    cl.assignee = "tx2";
    expect_list(f, &county, &cl, "1 tx2/镇员X二 pa2/甲干部二\n");

    /* The village changes the carrier wherever the case is: no new version. */
    expect_applied((countyd_apply_result[]){act_person(f, &P_VA, 1, SET_CARRIER, 0, "pa", "pa",
                                                       NULL)},
                   6);
    expect_field(f, 1, "carrier_name", "甲干部");

    /* Every step is in the history and the feed, with the persons named. */
    char *names = pgt_scalar(f->db, "SELECT string_agg(action || ':' || person || ':' ||"
                                    " person_name, ',' ORDER BY seq) FROM case_event"
                                    " WHERE person <> ''");
    assert_string_equal(names, "27:pa2:甲干部二,27:tx:镇员X,28:tx2:镇员X二,29:pa:甲干部");
    free(names);
    expect_feed_gapless(f, VA, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_assigns_number_due_and_feed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle_to_county_and_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retired_item_refused_for_new_cases_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_department_dispatch_take_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_at_once_and_materials_round, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redelivery_applied_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_queue_one_notification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_version_refused_and_remembered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scope_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_impossible_times_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_mixing_applied_and_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_data_midway_refused_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_event_in_pipeline_refused_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usual_batch_needs_no_savepoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redelivered_urge_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_batch_equals_serial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_read_back_is_the_batch_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_redelivery_runs_serially, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_existing_case_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_case_twice_runs_serially, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assignment_take_over_and_stand_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_based_equals_rows_and_serial, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
