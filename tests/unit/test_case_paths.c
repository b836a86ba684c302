/*
 * test_case_paths.c - whole case lifecycles through the state machine (即办,
 * 承办, 代办, 补办 with 一次告知, 退办, return down, withdraw, unsatisfied
 * follow-up), the version rule, and the checks of required fields and text
 * (length, UTF-8, hostile but valid text).
 *
 * The exhaustive status x action x actor table is in test_case.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "calendar.h"
#include "case.h"
#include "case_actors.h"

/* --- helpers -------------------------------------------------------------------- */

static int64_t clock_ms = 1700000000000;

static sj_case registered(sj_level item_level)
{
    sj_case_outcome out;
    sj_error err;
    int rc = sj_case_register(VILLAGE, item_level, ++clock_ms, &V, &out, &err);
    if (rc != 0)
        print_error("register: %s %s\n", sj_err_name(rc), err.message);
    assert_int_equal(rc, 0);
    return out.next;
}

/* An action on c at its current version, with no fields. */
static sj_action on(const sj_case *c, sj_case_action type)
{
    sj_action a;
    memset(&a, 0, sizeof(a));
    a.type = type;
    a.expected_version = c->version;
    a.at_ms = ++clock_ms;
    return a;
}

static sj_case_outcome last;

/* Applies a and moves c on; fails the test with the refusal otherwise. */
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
    assert_int_equal(last.n_events, 1);
    assert_int_equal(last.events[0].action, a->type);
    assert_int_equal(last.events[0].from_status, c->status);
    assert_int_equal(last.events[0].to_status, last.next.status);
    *c = last.next;
}

/* Applies a, expects refusal `code`, and checks c is unchanged. */
static void refused(const sj_case *c, const sj_action *a, const sj_actor *who, int code)
{
    sj_error err;
    sj_error_clear(&err);
    sj_case_outcome out;
    memset(&out, 0x5A, sizeof(out));
    sj_case_outcome before = out;
    int rc = sj_case_apply(c, a, who, &out, &err);
    if (rc != code)
        print_error("%s by %s in %s: got %s (%s), want %s\n", sj_case_action_name(a->type),
                    sj_role_name(who->role), sj_case_status_name(c->status), sj_err_name(rc),
                    err.message, sj_err_name(code));
    assert_int_equal(rc, code);
    assert_int_equal(err.code, code);
    assert_true(strlen(err.message) > 10);
    assert_memory_equal(&out, &before, sizeof(out));
}

static void escalate(sj_case *c, const sj_actor *who)
{
    sj_action a = on(c, SJ_ACTION_ESCALATE);
    ok(c, &a, who);
}

static void accept(sj_case *c, const sj_actor *who)
{
    sj_action a = on(c, SJ_ACTION_ACCEPT);
    ok(c, &a, who);
}

/* 派单 by the county to the department `code`. */
static void dispatch(sj_case *c, const char *code)
{
    sj_action a = on(c, SJ_ACTION_DISPATCH);
    a.department = code;
    ok(c, &a, &C);
}

static void resolve(sj_case *c, const sj_actor *who)
{
    sj_action a = on(c, SJ_ACTION_RESOLVE);
    a.result = "已办结，低保证已送达";
    ok(c, &a, who);
}

static void feedback(sj_case *c, sj_satisfaction s)
{
    sj_action a = on(c, SJ_ACTION_FEEDBACK);
    a.satisfaction = s;
    ok(c, &a, &V);
}

/* A case accepted by the county, through the township. */
static sj_case at_county(sj_level item_level)
{
    sj_case c = registered(item_level);
    escalate(&c, &V);
    accept(&c, &T);
    escalate(&c, &T);
    accept(&c, &C);
    return c;
}

/* --- register ------------------------------------------------------------------- */

static void test_register_initial_case(void **state)
{
    sj_case_outcome out;
    assert_int_equal(sj_case_register(VILLAGE, SJ_LEVEL_TOWNSHIP, 42, &V, &out, NULL), 0);
    assert_string_equal(out.next.village, VILLAGE);
    assert_int_equal(out.next.item_min_level, SJ_LEVEL_TOWNSHIP);
    assert_int_equal(out.next.status, SJ_STATUS_REGISTERED);
    assert_int_equal(out.next.holder_level, SJ_LEVEL_VILLAGE);
    assert_string_equal(out.next.holder_unit, VILLAGE);
    assert_int_equal(out.next.version, 1);
    assert_int_equal(out.next.updated_at_ms, 42);
    assert_int_equal(out.next.closed_at_ms, 0);
    assert_int_equal(out.next.handling, SJ_HANDLING_NONE);
    assert_false(out.next.escalated);
    assert_int_equal(out.n_events, 1);
    assert_int_equal(out.events[0].action, SJ_ACTION_REGISTER);
    assert_int_equal(out.events[0].from_status, SJ_STATUS_NONE);
    assert_int_equal(out.events[0].to_status, SJ_STATUS_REGISTERED);
    assert_false(out.events[0].repeat_materials_request);
}

static void test_register_refusals_table(void **state)
{
    static const sj_actor other_village = {SJ_ROLE_VILLAGE_CADRE, "410423101202", "", "p-x"};
    static const sj_actor bad_actor = {SJ_ROLE_VILLAGE_CADRE, TOWNSHIP, "", "p-x"};
    static const struct {
        const char *village;
        sj_level item;
        int64_t at;
        const sj_actor *who;
        int code;
    } cases[] = {
        {VILLAGE, SJ_LEVEL_VILLAGE, 1, &other_village, SJ_ESCOPE},
        {VILLAGE, SJ_LEVEL_VILLAGE, 1, &T, SJ_EWRONG_ROLE},
        {VILLAGE, SJ_LEVEL_VILLAGE, 1, &C, SJ_EWRONG_ROLE},
        {VILLAGE, SJ_LEVEL_VILLAGE, 1, &S, SJ_EWRONG_ROLE},
        {VILLAGE, SJ_LEVEL_VILLAGE, 1, &bad_actor, SJ_EINVAL},
        {TOWNSHIP, SJ_LEVEL_VILLAGE, 1, &V, SJ_EINVAL},
        {"4104231012010", SJ_LEVEL_VILLAGE, 1, &V, SJ_EINVAL},
        {NULL, SJ_LEVEL_VILLAGE, 1, &V, SJ_EINVAL},
        {VILLAGE, SJ_LEVEL_NONE, 1, &V, SJ_EBAD_FIELD},
        {VILLAGE, (sj_level)4, 1, &V, SJ_EBAD_FIELD},
        {VILLAGE, SJ_LEVEL_COUNTY, 0, &V, SJ_EMISSING_FIELD},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_case_outcome out;
        sj_error err;
        print_message("register case %zu\n", i);
        int rc = sj_case_register(cases[i].village, cases[i].item, cases[i].at, cases[i].who,
                                  &out, &err);
        assert_int_equal(rc, cases[i].code);
        assert_int_equal(err.code, cases[i].code);
    }
}

static void test_register_again_is_refused(void **state)
{
    sj_case c = registered(SJ_LEVEL_VILLAGE);
    sj_action a = on(&c, SJ_ACTION_REGISTER);
    refused(&c, &a, &V, SJ_ENOT_ALLOWED);
}

/* --- lifecycles ----------------------------------------------------------------- */

static void test_path_at_once(void **state)
{
    sj_case c = registered(SJ_LEVEL_VILLAGE);
    sj_action a = on(&c, SJ_ACTION_RESOLVE_AT_ONCE);
    a.result = "当场开具证明";
    ok(&c, &a, &V);
    assert_int_equal(c.status, SJ_STATUS_RESOLVED);
    assert_int_equal(c.handling, SJ_HANDLING_AT_ONCE);
    assert_int_equal(c.resolved_level, SJ_LEVEL_VILLAGE);
    assert_string_equal(c.resolved_unit, VILLAGE);
    assert_string_equal(c.result, "当场开具证明");
    assert_int_equal(c.version, 2);
    feedback(&c, SJ_SATISFACTION_SATISFIED);
    assert_int_equal(c.status, SJ_STATUS_CLOSED);
    assert_int_equal(c.satisfaction, SJ_SATISFACTION_SATISFIED);
    assert_int_equal(c.closed_at_ms, clock_ms);
    assert_int_equal(c.handling, SJ_HANDLING_AT_ONCE);
    assert_int_equal(c.version, 3);
    assert_int_equal(sj_case_allowed_actions(&c, &V, (sj_case_action[18]){0}, 18), 0);
}

static void test_path_township_undertakes(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    assert_int_equal(c.status, SJ_STATUS_ESCALATED_TOWNSHIP);
    assert_string_equal(c.holder_unit, TOWNSHIP);
    assert_true(c.escalated);
    accept(&c, &T);
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_null(c.department); /* the township names no department */
    resolve(&c, &T);
    assert_int_equal(c.status, SJ_STATUS_RESOLVED);
    assert_int_equal(c.holder_level, SJ_LEVEL_VILLAGE);
    assert_string_equal(c.holder_unit, VILLAGE);
    assert_int_equal(c.handling, SJ_HANDLING_UNDERTAKEN);
    assert_int_equal(c.resolved_level, SJ_LEVEL_TOWNSHIP);
    assert_string_equal(c.resolved_unit, TOWNSHIP);
    assert_false(c.reached_county);
    feedback(&c, SJ_SATISFACTION_BASICALLY);
    assert_int_equal(c.status, SJ_STATUS_CLOSED);
    assert_int_equal(c.version, 5);
}

static void test_path_county_on_behalf(void **state)
{
    sj_case c = at_county(SJ_LEVEL_COUNTY);
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_COUNTY);
    assert_null(c.department); /* accepting names no department: dispatching does */
    assert_null(c.department_code);
    assert_true(c.reached_county);
    assert_string_equal(c.holder_unit, COUNTY);
    resolve(&c, &C);
    assert_int_equal(c.handling, SJ_HANDLING_ON_BEHALF);
    assert_int_equal(c.resolved_level, SJ_LEVEL_COUNTY);
    assert_string_equal(c.holder_unit, VILLAGE);
    feedback(&c, SJ_SATISFACTION_SATISFIED);
    assert_int_equal(c.status, SJ_STATUS_CLOSED);
    assert_int_equal(c.version, 7);
}

static void test_path_materials_once_and_again(void **state)
{
    static const char *const list[] = {"户口簿复印件", "身份证复印件"};
    static const char *const same_reordered[] = {"身份证复印件", "户口簿复印件"};
    static const char *const other[] = {"户口簿复印件", "身份证复印件", "残疾证"};
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    accept(&c, &T);

    sj_action a = on(&c, SJ_ACTION_REQUEST_MATERIALS);
    a.materials = list;
    a.n_materials = 2;
    ok(&c, &a, &T);
    assert_int_equal(c.status, SJ_STATUS_WAITING_MATERIALS);
    assert_int_equal(c.resume_status, SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_int_equal(c.materials_rounds, 1);
    assert_int_equal(c.n_materials, 2);
    assert_false(last.events[0].repeat_materials_request);
    assert_string_equal(c.holder_unit, TOWNSHIP);

    /* The villager brings them to the village station. */
    a = on(&c, SJ_ACTION_SUPPLEMENT);
    ok(&c, &a, &V);
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_int_equal(c.resume_status, SJ_STATUS_NONE);

    /* The same list again, in another order: not a broken 一次告知. */
    a = on(&c, SJ_ACTION_REQUEST_MATERIALS);
    a.materials = same_reordered;
    a.n_materials = 2;
    ok(&c, &a, &T);
    assert_false(last.events[0].repeat_materials_request);
    a = on(&c, SJ_ACTION_SUPPLEMENT);
    ok(&c, &a, &T); /* brought to the township office this time */

    /* A different list: flagged. */
    a = on(&c, SJ_ACTION_REQUEST_MATERIALS);
    a.materials = other;
    a.n_materials = 3;
    ok(&c, &a, &T);
    assert_true(last.events[0].repeat_materials_request);
    assert_int_equal(c.materials_rounds, 3);
    a = on(&c, SJ_ACTION_SUPPLEMENT);
    ok(&c, &a, &V);

    resolve(&c, &T);
    assert_int_equal(c.handling, SJ_HANDLING_SUPPLEMENTED);
    assert_int_equal(c.version, 10);
}

static void test_path_materials_at_the_village(void **state)
{
    static const char *const list[] = {"结婚证"};
    sj_case c = registered(SJ_LEVEL_VILLAGE);
    sj_action a = on(&c, SJ_ACTION_REQUEST_MATERIALS);
    a.materials = list;
    a.n_materials = 1;
    ok(&c, &a, &V);
    assert_int_equal(c.resume_status, SJ_STATUS_REGISTERED);
    a = on(&c, SJ_ACTION_SUPPLEMENT);
    ok(&c, &a, &V);
    assert_int_equal(c.status, SJ_STATUS_REGISTERED);
    a = on(&c, SJ_ACTION_RESOLVE_AT_ONCE);
    a.result = "已办";
    ok(&c, &a, &V);
    assert_int_equal(c.handling, SJ_HANDLING_SUPPLEMENTED);
}

static void test_path_returned_undoable(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    accept(&c, &T);
    sj_action a = on(&c, SJ_ACTION_RETURN_UNDOABLE);
    a.note = "申请人家庭收入超过低保标准，不符合条件";
    ok(&c, &a, &T);
    assert_int_equal(c.status, SJ_STATUS_RETURNED);
    assert_int_equal(c.handling, SJ_HANDLING_RETURNED);
    assert_string_equal(c.return_reason, "申请人家庭收入超过低保标准，不符合条件");
    assert_null(c.result);
    assert_int_equal(c.holder_level, SJ_LEVEL_VILLAGE);
    assert_int_equal(c.resolved_level, SJ_LEVEL_TOWNSHIP);
    feedback(&c, SJ_SATISFACTION_BASICALLY);
    assert_int_equal(c.status, SJ_STATUS_CLOSED);
    assert_int_equal(c.handling, SJ_HANDLING_RETURNED);
}

static void test_path_returned_while_waiting_for_materials(void **state)
{
    static const char *const list[] = {"土地承包合同"};
    sj_case c = at_county(SJ_LEVEL_COUNTY);
    sj_action a = on(&c, SJ_ACTION_REQUEST_MATERIALS);
    a.materials = list;
    a.n_materials = 1;
    ok(&c, &a, &C);
    a = on(&c, SJ_ACTION_RETURN_UNDOABLE);
    a.note = "三十日内未补齐材料";
    ok(&c, &a, &C);
    assert_int_equal(c.status, SJ_STATUS_RETURNED);
    assert_int_equal(c.resume_status, SJ_STATUS_NONE);
    assert_int_equal(c.handling, SJ_HANDLING_RETURNED); /* returned beats supplemented */
}

typedef enum setup {
    AT_VILLAGE,
    AT_TOWNSHIP,
    ESCALATED_TO_COUNTY,
    AT_COUNTY,
    RESOLVED,
    DISPATCHED,         /* to D_MZJ */
    DEPARTMENT_HANDLING, /* taken by D_MZJ */
    REPORTED,           /* reported back by D_MZJ */
} setup;

static sj_case set_up(setup s)
{
    sj_case c = registered(SJ_LEVEL_VILLAGE);
    if (s == RESOLVED) {
        sj_action a = on(&c, SJ_ACTION_RESOLVE_AT_ONCE);
        a.result = "已办";
        ok(&c, &a, &V);
        return c;
    }
    if (s == AT_VILLAGE)
        return c;
    escalate(&c, &V);
    accept(&c, &T);
    if (s == AT_TOWNSHIP)
        return c;
    escalate(&c, &T);
    if (s == ESCALATED_TO_COUNTY)
        return c;
    accept(&c, &C);
    if (s == AT_COUNTY)
        return c;
    dispatch(&c, "mzj");
    if (s == DISPATCHED)
        return c;
    sj_action a = on(&c, SJ_ACTION_TAKE);
    ok(&c, &a, &D_MZJ);
    if (s == DEPARTMENT_HANDLING)
        return c;
    a = on(&c, SJ_ACTION_REPORT);
    a.result = "已审核通过";
    ok(&c, &a, &D_MZJ);
    return c;
}

/* 派单-接单-回单: dispatched to the wrong department, refused back (counted),
 * re-dispatched, taken, materials asked by the department and brought to the
 * village, reported back, the report sent back, reported again, resolved by
 * the county and sent down. */
static void test_path_department_dispatch_take_report(void **state)
{
    sj_case c = at_county(SJ_LEVEL_COUNTY);
    sj_case_action allowed[SJ_ACTION_COUNT];
    /* A department has nothing to do with a case not dispatched to it. */
    assert_int_equal(sj_case_allowed_actions(&c, &D_MZJ, allowed, SJ_ACTION_COUNT), 0);

    dispatch(&c, "rsj");
    assert_int_equal(c.status, SJ_STATUS_DISPATCHED);
    assert_int_equal(c.holder_level, SJ_LEVEL_COUNTY);
    assert_string_equal(c.holder_unit, COUNTY);
    assert_string_equal(c.department_code, "rsj");
    assert_null(c.department);
    assert_true(sj_case_department_holds(&c));

    /* Only 人社局 may take or refuse it; the county waits for it. */
    sj_action a = on(&c, SJ_ACTION_TAKE);
    refused(&c, &a, &D_MZJ, SJ_EWRONG_LEVEL);
    a = on(&c, SJ_ACTION_RESOLVE);
    a.result = "县里直接办了";
    refused(&c, &a, &C, SJ_ENOT_ALLOWED);
    a = on(&c, SJ_ACTION_DISPATCH);
    a.department = "mzj";
    refused(&c, &a, &C, SJ_ENOT_ALLOWED);
    a = on(&c, SJ_ACTION_URGE);
    ok(&c, &a, &C); /* the county urges the department */
    a = on(&c, SJ_ACTION_URGE);
    refused(&c, &a, &D_RSJ, SJ_EWRONG_ROLE);

    a = on(&c, SJ_ACTION_REFUSE_DISPATCH);
    refused(&c, &a, &D_RSJ, SJ_EMISSING_FIELD);
    a.note = "低保审批属民政局职责";
    ok(&c, &a, &D_RSJ);
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_COUNTY);
    assert_int_equal(c.department_refusals, 1);
    assert_null(c.department_code);
    assert_false(sj_case_department_holds(&c));

    dispatch(&c, "mzj");
    a = on(&c, SJ_ACTION_REFUSE_DISPATCH);
    a.note = "不是我们的";
    refused(&c, &a, &D_RSJ, SJ_EWRONG_LEVEL); /* no longer 人社局's */
    a = on(&c, SJ_ACTION_TAKE);
    a.result = "接单";
    refused(&c, &a, &D_MZJ, SJ_EBAD_FIELD); /* 接单 takes a note only */
    a.result = NULL;
    a.note = "已接单";
    ok(&c, &a, &D_MZJ);
    assert_int_equal(c.status, SJ_STATUS_DEPARTMENT_HANDLING);
    assert_int_equal(c.department_refusals, 1);

    /* The county cannot ask for materials or resolve in the department's place. */
    a = on(&c, SJ_ACTION_REQUEST_MATERIALS);
    static const char *const list[] = {"户口簿复印件", "收入证明"};
    a.materials = list;
    a.n_materials = 2;
    refused(&c, &a, &C, SJ_EWRONG_LEVEL);
    ok(&c, &a, &D_MZJ);
    assert_int_equal(c.status, SJ_STATUS_WAITING_MATERIALS);
    assert_int_equal(c.resume_status, SJ_STATUS_DEPARTMENT_HANDLING);
    assert_true(sj_case_department_holds(&c));
    a = on(&c, SJ_ACTION_SUPPLEMENT);
    refused(&c, &a, &C, SJ_EWRONG_LEVEL);
    ok(&c, &a, &V); /* the villager brings them to the station */
    assert_int_equal(c.status, SJ_STATUS_DEPARTMENT_HANDLING);

    a = on(&c, SJ_ACTION_REPORT);
    a.result = "已审核，符合低保条件";
    refused(&c, &a, &D_RSJ, SJ_EWRONG_LEVEL);
    ok(&c, &a, &D_MZJ);
    assert_int_equal(c.status, SJ_STATUS_REPORTED);
    assert_string_equal(c.result, "已审核，符合低保条件");
    assert_false(sj_case_department_holds(&c));
    assert_int_equal(sj_case_allowed_actions(&c, &D_MZJ, allowed, SJ_ACTION_COUNT), 0);

    a = on(&c, SJ_ACTION_RETURN_REPORT);
    refused(&c, &a, &C, SJ_EMISSING_FIELD);
    a.note = "请写明低保金额和起始月份";
    ok(&c, &a, &C);
    assert_int_equal(c.status, SJ_STATUS_DEPARTMENT_HANDLING);
    assert_null(c.result);

    a = on(&c, SJ_ACTION_REPORT);
    a.result = "已审批，每月 420 元，自 12 月起发放";
    ok(&c, &a, &D_MZJ);
    a = on(&c, SJ_ACTION_RESOLVE);
    refused(&c, &a, &D_MZJ, SJ_EWRONG_ROLE); /* the county sends the result down */
    a.result = "县民政局已审批：每月 420 元，自 12 月起发放";
    ok(&c, &a, &C);
    assert_int_equal(c.status, SJ_STATUS_RESOLVED);
    assert_int_equal(c.holder_level, SJ_LEVEL_VILLAGE);
    assert_int_equal(c.resolved_level, SJ_LEVEL_COUNTY);
    assert_int_equal(c.handling, SJ_HANDLING_SUPPLEMENTED);
    assert_string_equal(c.department_code, "mzj"); /* who handled it stays on the case */
    assert_int_equal(c.department_refusals, 1);
    feedback(&c, SJ_SATISFACTION_SATISFIED);
    assert_int_equal(c.status, SJ_STATUS_CLOSED);
}

/* The county may also return as undoable what a department reported it
 * cannot do, and a return down drops the department. */
static void test_path_department_report_undoable(void **state)
{
    sj_case c = set_up(REPORTED);
    sj_action a = on(&c, SJ_ACTION_RETURN_UNDOABLE);
    a.note = "经民政局核实，申请人不符合条件";
    ok(&c, &a, &C);
    assert_int_equal(c.status, SJ_STATUS_RETURNED);
    assert_int_equal(c.handling, SJ_HANDLING_RETURNED);

    c = set_up(DISPATCHED);
    a = on(&c, SJ_ACTION_REFUSE_DISPATCH);
    a.note = "请派人社局";
    ok(&c, &a, &D_MZJ);
    a = on(&c, SJ_ACTION_RETURN_DOWN);
    a.note = "乡镇可以办";
    ok(&c, &a, &C);
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_null(c.department_code);
    assert_int_equal(c.department_refusals, 1); /* every refusal stays counted */

    /* Accepting takes no department any more (派单 does): never free text. */
    c = set_up(ESCALATED_TO_COUNTY);
    a = on(&c, SJ_ACTION_ACCEPT);
    a.department = "县民正局";
    refused(&c, &a, &C, SJ_EBAD_FIELD);
    c = set_up(AT_COUNTY);
    a = on(&c, SJ_ACTION_DISPATCH);
    a.department = "县民政局";
    refused(&c, &a, &C, SJ_EBAD_FIELD); /* a name, not a code from the list */
    a.department = "MZJ";
    refused(&c, &a, &C, SJ_EBAD_FIELD);
}

static void test_path_return_down_county_then_township(void **state)
{
    sj_case c = at_county(SJ_LEVEL_TOWNSHIP);
    sj_action a = on(&c, SJ_ACTION_RETURN_DOWN);
    a.note = "此事项乡镇可办";
    ok(&c, &a, &C);
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_int_equal(c.holder_level, SJ_LEVEL_TOWNSHIP);
    assert_string_equal(c.holder_unit, TOWNSHIP);
    assert_null(c.department);
    a = on(&c, SJ_ACTION_RETURN_DOWN);
    a.note = "村里可以即办";
    ok(&c, &a, &T);
    assert_int_equal(c.status, SJ_STATUS_REGISTERED);
    assert_string_equal(c.holder_unit, VILLAGE);
    assert_true(c.escalated);
    assert_true(c.reached_county);
}

static void test_path_return_down_before_accepting(void **state)
{
    sj_case c = registered(SJ_LEVEL_VILLAGE);
    escalate(&c, &V);
    sj_action a = on(&c, SJ_ACTION_RETURN_DOWN);
    a.note = "村级即可办理";
    ok(&c, &a, &T);
    assert_int_equal(c.status, SJ_STATUS_REGISTERED);

    /* Returned from the county, escalated again, and returned before the
     * county accepted it this time. */
    c = at_county(SJ_LEVEL_COUNTY);
    a = on(&c, SJ_ACTION_RETURN_DOWN);
    a.note = "请乡镇先核实";
    ok(&c, &a, &C);
    escalate(&c, &T);
    assert_int_equal(c.status, SJ_STATUS_ESCALATED_COUNTY);
    a = on(&c, SJ_ACTION_RETURN_DOWN);
    a.note = "材料应在乡镇审核";
    ok(&c, &a, &C);
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_TOWNSHIP);
}

static void test_path_withdraw(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    sj_action a = on(&c, SJ_ACTION_WITHDRAW);
    a.note = "申请人已自行办理";
    ok(&c, &a, &V);
    assert_int_equal(c.status, SJ_STATUS_WITHDRAWN);
    assert_int_equal(c.holder_level, SJ_LEVEL_VILLAGE);
    assert_int_equal(c.closed_at_ms, clock_ms);
    a = on(&c, SJ_ACTION_ACCEPT);
    a.department = "x";
    refused(&c, &a, &T, SJ_ETERMINAL);
    a = on(&c, SJ_ACTION_URGE);
    refused(&c, &a, &V, SJ_ETERMINAL);
}

static void test_path_unsatisfied_reopen_resolve_satisfied(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    accept(&c, &T);
    resolve(&c, &T);
    feedback(&c, SJ_SATISFACTION_UNSATISFIED);
    assert_int_equal(c.status, SJ_STATUS_UNSATISFIED);
    assert_int_equal(c.holder_level, SJ_LEVEL_TOWNSHIP);
    assert_string_equal(c.holder_unit, TOWNSHIP);
    assert_int_equal(c.satisfaction, SJ_SATISFACTION_UNSATISFIED);
    assert_int_equal(c.closed_at_ms, 0);

    sj_action a = on(&c, SJ_ACTION_REOPEN);
    a.note = "回访：补助金额计算有误";
    ok(&c, &a, &T);
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_null(c.result);
    /* The 差评 stays: handling it again is its rectification. */
    assert_int_equal(c.satisfaction, SJ_SATISFACTION_UNSATISFIED);
    assert_true(sj_case_rectify_open(&c));
    assert_int_equal(c.handling, SJ_HANDLING_NONE);
    assert_int_equal(c.resolved_level, SJ_LEVEL_NONE);

    int64_t resolved_at = clock_ms + 1;
    resolve(&c, &T);
    assert_int_equal(c.handling, SJ_HANDLING_UNDERTAKEN);
    assert_int_equal(c.rectified_at_ms, resolved_at);
    assert_false(sj_case_rectify_open(&c));
    assert_true(sj_case_callback_due(&c));
    /* Not a second feedback nor a close: the village calls back. */
    a = on(&c, SJ_ACTION_FEEDBACK);
    a.satisfaction = SJ_SATISFACTION_SATISFIED;
    refused(&c, &a, &V, SJ_ENOT_ALLOWED);
    a = on(&c, SJ_ACTION_CLOSE);
    a.note = "已回访";
    refused(&c, &a, &V, SJ_ENOT_ALLOWED);
    a = on(&c, SJ_ACTION_CALLBACK);
    a.satisfaction = SJ_SATISFACTION_SATISFIED;
    a.note = "电话回访，补助已补发，村民满意";
    ok(&c, &a, &V);
    assert_int_equal(c.status, SJ_STATUS_CLOSED);
    assert_int_equal(c.called_back_at_ms, clock_ms);
    assert_int_equal(c.satisfaction, SJ_SATISFACTION_UNSATISFIED); /* the 差评 is kept */
    assert_int_equal(c.version, 8);
}

static void test_path_county_reopens_township_case(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    accept(&c, &T);
    resolve(&c, &T);
    feedback(&c, SJ_SATISFACTION_UNSATISFIED);
    sj_action a = on(&c, SJ_ACTION_REOPEN);
    a.note = "县督察组要求重办";
    ok(&c, &a, &C);
    /* Back to the township that resolved it, not pulled up to the county. */
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_string_equal(c.holder_unit, TOWNSHIP);
}

/* 差评 -> 整改完成 -> 回访: the rectification has its own limit on the
 * calendar, late if done after it; nothing closes the case but the call
 * back. */
static void test_path_bad_evaluation_rectified_and_called_back(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    accept(&c, &T);
    resolve(&c, &T);
    sj_calendar *cal = sj_calendar_new(); /* plain weeks */
    assert_non_null(cal);
    sj_action a = on(&c, SJ_ACTION_FEEDBACK);
    a.satisfaction = SJ_SATISFACTION_VERY_UNSATISFIED;
    a.rectify_days = 15;
    a.calendar = cal;
    ok(&c, &a, &V);
    assert_int_equal(c.status, SJ_STATUS_UNSATISFIED);
    assert_string_equal(c.holder_unit, TOWNSHIP);
    int64_t due;
    assert_int_equal(sj_case_due(a.calendar, a.at_ms, 15, &due, NULL), 0);
    assert_int_equal(c.rectify_due_at_ms, due);
    assert_true(due > a.at_ms + 15LL * 86400000); /* working days: weekends skipped */
    /* Closing is refused (a 差评 is rectified and called back), so is a
     * call back before the rectification. */
    a = on(&c, SJ_ACTION_CLOSE);
    a.note = "已回访解释政策，村民表示理解";
    refused(&c, &a, &T, SJ_ENOT_ALLOWED);
    a = on(&c, SJ_ACTION_CALLBACK);
    a.satisfaction = SJ_SATISFACTION_SATISFIED;
    a.note = "回访";
    refused(&c, &a, &V, SJ_ENOT_ALLOWED);
    /* Rectified by the township, with a note, late. */
    a = on(&c, SJ_ACTION_RECTIFY);
    refused(&c, &a, &T, SJ_EMISSING_FIELD);
    refused(&c, &a, &V, SJ_EWRONG_LEVEL);
    a.note = "已重新核算补助并补发";
    a.at_ms = clock_ms = due + 1;
    sj_case_outcome out;
    assert_int_equal(sj_case_apply(&c, &a, &T, &out, NULL), 0);
    assert_true(out.events[0].rectify_late);
    c = out.next;
    assert_int_equal(c.status, SJ_STATUS_UNSATISFIED);
    assert_int_equal(c.rectified_at_ms, due + 1);
    assert_true(c.rectify_late);
    a = on(&c, SJ_ACTION_RECTIFY);
    a.note = "再次整改";
    refused(&c, &a, &T, SJ_ENOT_ALLOWED);
    a = on(&c, SJ_ACTION_REOPEN);
    a.note = "重办";
    refused(&c, &a, &T, SJ_ENOT_ALLOWED);
    /* The call back takes the new evaluation and the outcome. */
    a = on(&c, SJ_ACTION_CALLBACK);
    a.note = "村民表示满意";
    refused(&c, &a, &V, SJ_EMISSING_FIELD);
    a.satisfaction = (sj_satisfaction)6;
    refused(&c, &a, &V, SJ_EBAD_FIELD);
    a.satisfaction = SJ_SATISFACTION_VERY_SATISFIED;
    a.note = NULL;
    refused(&c, &a, &V, SJ_EMISSING_FIELD);
    a.note = "村民表示满意";
    refused(&c, &a, &T, SJ_EWRONG_ROLE);
    ok(&c, &a, &V);
    assert_int_equal(c.status, SJ_STATUS_CLOSED);
    assert_int_equal(c.called_back_at_ms, clock_ms);
    assert_int_equal(c.satisfaction, SJ_SATISFACTION_VERY_UNSATISFIED);
    assert_int_equal(c.closed_at_ms, clock_ms);
    sj_calendar_free(cal);
}

/* A 差评 reopened and handled again: the sweep may mark it overdue while
 * it is handled, and resolving it then rectifies it late; returning it as
 * undoable rectifies it too. */
static void test_path_reopened_bad_evaluation_overdue(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    accept(&c, &T);
    resolve(&c, &T);
    feedback(&c, SJ_SATISFACTION_VERY_UNSATISFIED);
    c.rectify_due_at_ms = clock_ms + 10; /* as the county's calendar would have set it */
    sj_action a = on(&c, SJ_ACTION_REOPEN);
    a.note = "重新核实";
    ok(&c, &a, &C);
    assert_int_equal(c.status, SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_true(sj_case_rectify_open(&c));
    clock_ms += 100;
    a = on(&c, SJ_ACTION_RECTIFY_OVERDUE);
    ok(&c, &a, &S);
    assert_true(c.rectify_late);
    a = on(&c, SJ_ACTION_RECTIFY);
    a.note = "x";
    refused(&c, &a, &T, SJ_ENOT_ALLOWED); /* RECTIFY is for UNSATISFIED; here resolving is */
    a = on(&c, SJ_ACTION_RETURN_UNDOABLE);
    a.note = "政策不允许";
    ok(&c, &a, &T);
    assert_int_equal(c.status, SJ_STATUS_RETURNED);
    assert_int_equal(c.rectified_at_ms, clock_ms);
    assert_true(c.rectify_late);
    assert_true(last.events[0].rectify_late);
    assert_int_equal(c.satisfaction, SJ_SATISFACTION_VERY_UNSATISFIED);
    assert_true(sj_case_callback_due(&c));
    a = on(&c, SJ_ACTION_CALLBACK);
    a.satisfaction = SJ_SATISFACTION_BASICALLY;
    a.note = "村民理解";
    ok(&c, &a, &V);
    assert_int_equal(c.status, SJ_STATUS_CLOSED);
}

/* The sweep marks an open rectification overdue once; rectified on time
 * is not late. */
static void test_path_rectify_overdue_and_on_time(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    accept(&c, &T);
    resolve(&c, &T);
    sj_action a = on(&c, SJ_ACTION_FEEDBACK);
    a.satisfaction = SJ_SATISFACTION_UNSATISFIED;
    ok(&c, &a, &V); /* no limit given: no due time */
    assert_int_equal(c.rectify_due_at_ms, 0);
    a = on(&c, SJ_ACTION_RECTIFY_OVERDUE);
    refused(&c, &a, &S, SJ_ENOT_ALLOWED);
    c.rectify_due_at_ms = clock_ms + 100;
    a = on(&c, SJ_ACTION_RECTIFY_OVERDUE);
    a.expected_version = 999; /* the sweep's mark: no version check, no version change */
    uint64_t version = c.version;
    refused(&c, &a, &T, SJ_EWRONG_ROLE);
    sj_case_outcome out;
    assert_int_equal(sj_case_apply(&c, &a, &S, &out, NULL), 0);
    assert_int_equal(out.events[0].rectify_due_at_ms, c.rectify_due_at_ms);
    c = out.next;
    assert_true(c.rectify_late);
    assert_int_equal(c.version, version);
    refused(&c, &a, &S, SJ_ENOT_ALLOWED); /* once */
    /* Another case: rectified before its due time is on time. */
    sj_case d = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&d, &V);
    accept(&d, &T);
    resolve(&d, &T);
    sj_calendar *cal = sj_calendar_new();
    assert_non_null(cal);
    a = on(&d, SJ_ACTION_FEEDBACK);
    a.satisfaction = SJ_SATISFACTION_UNSATISFIED;
    a.rectify_days = 15;
    a.calendar = cal;
    ok(&d, &a, &V);
    sj_calendar_free(cal);
    assert_true(d.rectify_due_at_ms > clock_ms);
    a = on(&d, SJ_ACTION_RECTIFY);
    a.note = "已整改";
    ok(&d, &a, &C); /* the county may rectify too */
    assert_false(d.rectify_late);
    assert_true(sj_case_callback_due(&d));
}

static void test_path_closed_without_feedback(void **state)
{
    sj_case c = registered(SJ_LEVEL_VILLAGE);
    sj_action a = on(&c, SJ_ACTION_RESOLVE_AT_ONCE);
    a.result = "已办";
    ok(&c, &a, &V);
    a = on(&c, SJ_ACTION_CLOSE);
    a.note = "村民外出务工，联系不上";
    ok(&c, &a, &V);
    assert_int_equal(c.status, SJ_STATUS_CLOSED);
    assert_int_equal(c.satisfaction, SJ_SATISFACTION_NONE);
}

/* --- version-free actions --------------------------------------------------------- */

static void test_urge_counts_without_version_change(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    uint64_t version = c.version;
    for (int i = 1; i <= 3; i++) {
        sj_action a = on(&c, SJ_ACTION_URGE);
        a.expected_version = 999; /* not checked */
        ok(&c, &a, i == 2 ? &C : &V);
        assert_int_equal(c.urge_count, i);
        assert_int_equal(c.version, version);
        assert_int_equal(c.updated_at_ms, clock_ms);
    }
    sj_action a = on(&c, SJ_ACTION_URGE);
    refused(&c, &a, &T, SJ_EWRONG_LEVEL); /* the holder does not urge itself */
}

static void test_supervise_overdue_warn(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    uint64_t version = c.version;

    sj_action a = on(&c, SJ_ACTION_SUPERVISE);
    ok(&c, &a, &C);
    assert_true(c.supervised);
    a = on(&c, SJ_ACTION_SUPERVISE);
    refused(&c, &a, &C, SJ_ENOT_ALLOWED);

    a = on(&c, SJ_ACTION_OVERDUE);
    ok(&c, &a, &S);
    assert_true(c.overdue);
    a = on(&c, SJ_ACTION_OVERDUE);
    refused(&c, &a, &S, SJ_ENOT_ALLOWED);

    static const struct {
        uint32_t percent;
        int code;
    } warns[] = {{0, SJ_EMISSING_FIELD}, {100, SJ_EBAD_FIELD}, {50, 0},
                 {50, SJ_EBAD_FIELD},    {30, SJ_EBAD_FIELD},  {80, 0}};
    for (size_t i = 0; i < sizeof(warns) / sizeof(warns[0]); i++) {
        a = on(&c, SJ_ACTION_WARN);
        a.warn_percent = warns[i].percent;
        if (warns[i].code == 0) {
            ok(&c, &a, &S);
            assert_int_equal(c.warn_level, warns[i].percent);
        } else {
            refused(&c, &a, &S, warns[i].code);
        }
    }
    assert_int_equal(c.version, version);
}

static void test_stale_version_refused(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    static const int64_t deltas[] = {-1, +1, -2};
    for (size_t i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
        sj_action a = on(&c, SJ_ACTION_ACCEPT);
        a.expected_version = (uint64_t)((int64_t)c.version + deltas[i]);
        refused(&c, &a, &T, SJ_ESTALE_VERSION);
    }
    /* Two levels acting at once: the township accepts, the village's
     * withdrawal made against the old version is refused. */
    sj_action withdraw = on(&c, SJ_ACTION_WITHDRAW);
    withdraw.note = "不办了";
    accept(&c, &T);
    refused(&c, &withdraw, &V, SJ_ESTALE_VERSION);
}

static void test_item_level_too_low(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    sj_action a = on(&c, SJ_ACTION_RESOLVE_AT_ONCE);
    a.result = "已办";
    refused(&c, &a, &V, SJ_ELEVEL_TOO_LOW);
    a.type = SJ_ACTION_RESOLVE;
    refused(&c, &a, &V, SJ_ELEVEL_TOO_LOW);

    c = registered(SJ_LEVEL_COUNTY);
    escalate(&c, &V);
    accept(&c, &T);
    a = on(&c, SJ_ACTION_RESOLVE);
    a.result = "已办";
    refused(&c, &a, &T, SJ_ELEVEL_TOO_LOW);
    /* 退办 is not finishing the item: the township may still refuse it. */
    a.type = SJ_ACTION_RETURN_UNDOABLE;
    a.result = NULL; /* 退办 takes the reason, not a result */
    a.note = "不符合条件";
    ok(&c, &a, &T);
}

/* --- required fields ----------------------------------------------------------------- */

static void test_missing_fields_table(void **state)
{
    static const struct {
        const char *what;
        setup setup;
        sj_case_action action;
        const sj_actor *who;
        const char *text; /* put into the field under test */
    } cases[] = {
        {"result of resolve at once", AT_VILLAGE, SJ_ACTION_RESOLVE_AT_ONCE, &V, NULL},
        {"blank result", AT_VILLAGE, SJ_ACTION_RESOLVE_AT_ONCE, &V, " \t\r\n"},
        {"ideographic-space result", AT_VILLAGE, SJ_ACTION_RESOLVE_AT_ONCE, &V, "\u3000\u3000"},
        {"result of resolve", AT_TOWNSHIP, SJ_ACTION_RESOLVE, &T, ""},
        {"reason of 退办", AT_TOWNSHIP, SJ_ACTION_RETURN_UNDOABLE, &T, NULL},
        {"note of return down", AT_TOWNSHIP, SJ_ACTION_RETURN_DOWN, &T, "  "},
        {"department", AT_COUNTY, SJ_ACTION_DISPATCH, &C, NULL},
        {"blank department", AT_COUNTY, SJ_ACTION_DISPATCH, &C, "\u00a0"},
        {"reason of 退单", DISPATCHED, SJ_ACTION_REFUSE_DISPATCH, &D_MZJ, " "},
        {"result of 回单", DEPARTMENT_HANDLING, SJ_ACTION_REPORT, &D_MZJ, NULL},
        {"note of 回单退回", REPORTED, SJ_ACTION_RETURN_REPORT, &C, "\u3000"},
        {"result of resolving a 回单", REPORTED, SJ_ACTION_RESOLVE, &C, ""},
        {"materials", AT_COUNTY, SJ_ACTION_REQUEST_MATERIALS, &C, NULL},
        {"satisfaction", RESOLVED, SJ_ACTION_FEEDBACK, &V, NULL},
        {"note of withdraw", AT_TOWNSHIP, SJ_ACTION_WITHDRAW, &V, NULL},
        {"note of close without feedback", RESOLVED, SJ_ACTION_CLOSE, &V, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("missing %s\n", cases[i].what);
        sj_case c = set_up(cases[i].setup);
        sj_action a = on(&c, cases[i].action);
        a.note = a.result = a.department = cases[i].text;
        refused(&c, &a, cases[i].who, SJ_EMISSING_FIELD);
    }
}

static void test_feedback_unknown_satisfaction(void **state)
{
    sj_case c = set_up(RESOLVED);
    sj_action a = on(&c, SJ_ACTION_FEEDBACK);
    a.satisfaction = (sj_satisfaction)6;
    refused(&c, &a, &V, SJ_EBAD_FIELD);
    a.satisfaction = (sj_satisfaction)-1;
    refused(&c, &a, &V, SJ_EBAD_FIELD);
}

static void test_action_without_time(void **state)
{
    sj_case c = set_up(AT_VILLAGE);
    sj_action a = on(&c, SJ_ACTION_ESCALATE);
    a.at_ms = 0;
    refused(&c, &a, &V, SJ_EMISSING_FIELD);
}

static void test_bad_materials_table(void **state)
{
    static char long_name[SJ_CASE_NAME_MAX + 2];
    memset(long_name, 'x', SJ_CASE_NAME_MAX + 1);
    static const char *many[SJ_CASE_MATERIALS_MAX + 1];
    for (size_t i = 0; i < SJ_CASE_MATERIALS_MAX + 1; i++)
        many[i] = "材料";
    static const char *const empty_name[] = {"户口簿", ""};
    static const char *const blank_name[] = {"\u3000"};
    static const char *const null_name[] = {"户口簿", NULL};
    static const char *const bad_utf8[] = {"\xe6\x88"};
    const char *const long_list[] = {long_name};
    const struct {
        const char *what;
        const char *const *list;
        size_t n;
        int code;
    } cases[] = {
        {"51 items", many, SJ_CASE_MATERIALS_MAX + 1, SJ_EBAD_FIELD},
        {"50 items", many, SJ_CASE_MATERIALS_MAX, 0},
        {"empty name", empty_name, 2, SJ_EBAD_FIELD},
        {"blank name", blank_name, 1, SJ_EBAD_FIELD},
        {"NULL name", null_name, 2, SJ_EBAD_FIELD},
        {"NULL list", NULL, 2, SJ_EBAD_FIELD},
        {"201-byte name", long_list, 1, SJ_EBAD_FIELD},
        {"bad UTF-8", bad_utf8, 1, SJ_EBAD_FIELD},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("materials: %s\n", cases[i].what);
        sj_case c = set_up(AT_TOWNSHIP);
        sj_action a = on(&c, SJ_ACTION_REQUEST_MATERIALS);
        a.materials = cases[i].list;
        a.n_materials = cases[i].n;
        if (cases[i].code == 0)
            ok(&c, &a, &T);
        else
            refused(&c, &a, &T, cases[i].code);
    }
}

/* --- text --------------------------------------------------------------------------- */

static void test_text_length_limits(void **state)
{
    char *big = malloc(10 * 1024 + 1);
    assert_non_null(big);
    memset(big, 'a', 10 * 1024);
    big[10 * 1024] = '\0';
    char *edge = malloc(SJ_CASE_TEXT_MAX + 1);
    assert_non_null(edge);
    /* 4000 bytes exactly, made of 3-byte characters plus one ASCII byte. */
    for (size_t i = 0; i + 3 <= SJ_CASE_TEXT_MAX; i += 3)
        memcpy(edge + i, "办", 3);
    edge[SJ_CASE_TEXT_MAX - 1] = '.';
    edge[SJ_CASE_TEXT_MAX] = '\0';
    assert_int_equal(strlen(edge), SJ_CASE_TEXT_MAX);
    char dept[SJ_CASE_NAME_MAX + 2];
    memset(dept, 'd', SJ_CASE_NAME_MAX + 1);
    dept[SJ_CASE_NAME_MAX + 1] = '\0';

    sj_case c = set_up(AT_TOWNSHIP);
    sj_action a = on(&c, SJ_ACTION_ESCALATE);
    a.note = big;
    refused(&c, &a, &T, SJ_EBAD_FIELD);
    a = on(&c, SJ_ACTION_RESOLVE);
    a.result = big;
    refused(&c, &a, &T, SJ_EBAD_FIELD);
    a.result = edge;
    ok(&c, &a, &T);
    assert_ptr_equal(c.result, edge);

    c = set_up(AT_COUNTY);
    a = on(&c, SJ_ACTION_DISPATCH);
    a.department = dept;
    refused(&c, &a, &C, SJ_EBAD_FIELD);
    dept[SJ_DEPARTMENT_CODE_MAX + 1] = '\0'; /* 32 letters: not a department code */
    refused(&c, &a, &C, SJ_EBAD_FIELD);
    dept[SJ_DEPARTMENT_CODE_MAX] = '\0';
    ok(&c, &a, &C);
    assert_string_equal(c.department_code, dept);

    assert_false(sj_text_valid(big, SJ_CASE_TEXT_MAX));
    assert_true(sj_text_valid(edge, SJ_CASE_TEXT_MAX));
    free(big);
    free(edge);
}

static void test_utf8_table(void **state)
{
    static const struct {
        const char *what;
        const char *text;
        bool valid;
    } cases[] = {
        {"ASCII", "plain", true},
        {"Chinese", "鲁山县张官营镇", true},
        {"emoji", "\xf0\x9f\x98\x80", true},
        {"U+10FFFF", "\xf4\x8f\xbf\xbf", true},
        {"U+E000 after the surrogates", "\xee\x80\x80", true},
        {"U+D7FF before the surrogates", "\xed\x9f\xbf", true},
        {"empty", "", true},
        {"overlong slash", "\xc0\xaf", false},
        {"overlong C1", "\xc1\xbf", false},
        {"overlong 3-byte", "\xe0\x80\xaf", false},
        {"overlong 4-byte", "\xf0\x80\x80\xaf", false},
        {"surrogate D800", "\xed\xa0\x80", false},
        {"surrogate DFFF", "\xed\xbf\xbf", false},
        {"above U+10FFFF", "\xf4\x90\x80\x80", false},
        {"F5 lead", "\xf5\x80\x80\x80", false},
        {"lone continuation", "a\x80", false},
        {"truncated 3-byte", "\xe4\xb8", false},
        {"truncated at end", "ok\xe4", false},
        {"bad continuation", "\xe4\x41\x80", false},
        {"FF", "\xff", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("utf-8: %s\n", cases[i].what);
        assert_int_equal(sj_text_valid(cases[i].text, 100), cases[i].valid);
        sj_case c = set_up(AT_VILLAGE);
        sj_action a = on(&c, SJ_ACTION_ESCALATE);
        a.note = cases[i].text;
        if (cases[i].valid)
            ok(&c, &a, &V);
        else
            refused(&c, &a, &V, SJ_EBAD_FIELD);
    }
    assert_true(sj_text_valid(NULL, 0));
    assert_false(sj_text_valid("ab", 1));
}

static void test_hostile_but_valid_text_is_plain_text(void **state)
{
    static const char *const texts[] = {
        "'; DROP TABLE cases; --",
        "Robert\"); DELETE FROM events WHERE 1=1; /*",
        "%s%s%n%x 😀👍🏻 \\0 <script>alert(1)</script>",
        "家人👨‍👩‍👧 已办 ✅",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        sj_case c = set_up(AT_VILLAGE);
        sj_action a = on(&c, SJ_ACTION_RESOLVE_AT_ONCE);
        a.result = texts[i];
        a.note = texts[i];
        ok(&c, &a, &V);
        assert_string_equal(c.result, texts[i]);
    }
}


/* --- assignment (指派, 接手, 全程代办员) ------------------------------------------ */

static void assign(sj_case *c, const sj_actor *who, const char *person)
{
    sj_action a = on(c, SJ_ACTION_ASSIGN);
    a.person = person;
    ok(c, &a, who);
}

/* Assigned at each level, cleared whenever the case moves on (the new holder
 * assigns), while the carrier stays to the end. */
static void test_path_assignment_follows_the_holder(void **state)
{
    sj_case c = registered(SJ_LEVEL_COUNTY);
    sj_action carrier = on(&c, SJ_ACTION_SET_CARRIER);
    carrier.person = V2.person;
    carrier.expected_version = 0; /* a fact: no version check, no version change */
    uint64_t v = c.version;
    ok(&c, &carrier, &V);
    assert_int_equal(c.version, v);
    assert_string_equal(c.carrier, V2.person);
    assert_null(c.carrier_name); /* the county's records give the name */

    assign(&c, &V, V2.person);
    assert_int_equal(c.version, v + 1);
    assert_string_equal(c.assignee, V2.person);
    escalate(&c, &V);
    assert_null(c.assignee);
    accept(&c, &T);
    assign(&c, &T, T2.person);
    assert_string_equal(c.assignee, T2.person);
    sj_action again = on(&c, SJ_ACTION_ASSIGN);
    again.person = T2.person;
    refused(&c, &again, &T, SJ_EBAD_FIELD); /* already this person's */
    assign(&c, &T2, T.person);              /* 改派: any colleague may reassign */
    assert_string_equal(c.assignee, T.person);
    sj_action mats = on(&c, SJ_ACTION_REQUEST_MATERIALS);
    static const char *const list[] = {"户口簿"};
    mats.materials = list;
    mats.n_materials = 1;
    ok(&c, &mats, &T);
    assert_string_equal(c.assignee, T.person); /* still with the township */
    sj_action sup = on(&c, SJ_ACTION_SUPPLEMENT);
    ok(&c, &sup, &V);
    escalate(&c, &T);
    assert_null(c.assignee);
    accept(&c, &C);
    assign(&c, &C, C.person);
    dispatch(&c, "mzj");
    assert_null(c.assignee); /* the department assigns its own */
    sj_action take = on(&c, SJ_ACTION_TAKE);
    ok(&c, &take, &D_MZJ);
    assign(&c, &D_MZJ, D_MZJ.person);
    sj_action report = on(&c, SJ_ACTION_REPORT);
    report.result = "已核实";
    ok(&c, &report, &D_MZJ);
    assert_null(c.assignee); /* back with the county operators */
    resolve(&c, &C);
    assert_null(c.assignee);
    assert_string_equal(c.carrier, V2.person);
    assign(&c, &V, V.person); /* the feedback is the village's work */
    feedback(&c, SJ_SATISFACTION_SATISFIED);
    assert_string_equal(c.carrier, V2.person);
    /* Nothing is assigned on a closed case. */
    sj_action late = on(&c, SJ_ACTION_ASSIGN);
    late.person = V2.person;
    refused(&c, &late, &V, SJ_ETERMINAL);
}

static void test_take_over(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    escalate(&c, &V);
    accept(&c, &T);
    sj_action take = on(&c, SJ_ACTION_TAKE_OVER);
    take.note = "王五休假";
    refused(&c, &take, &T2, SJ_ENOT_ALLOWED); /* assigned to nobody */
    assign(&c, &T, T.person);
    take = on(&c, SJ_ACTION_TAKE_OVER);
    take.note = "王五休假";
    refused(&c, &take, &T, SJ_ENOT_ALLOWED); /* one's own */
    refused(&c, &take, &V, SJ_EWRONG_LEVEL); /* not of the holding unit */
    refused(&c, &take, &S, SJ_EWRONG_ROLE);
    sj_actor nobody = T2;
    nobody.person[0] = '\0';
    refused(&c, &take, &nobody, SJ_ENOT_ALLOWED);
    take.note = " \u3000";
    refused(&c, &take, &T2, SJ_EMISSING_FIELD); /* the assignee is active: say why */
    take.assignee_inactive = true; /* the county: the assignee was deactivated */
    uint64_t v = c.version;
    sj_case before = c;
    ok(&before, &take, &T2);
    assert_string_equal(before.assignee, T2.person);
    take.assignee_inactive = false;
    take.note = "王五休假，李四接手";
    ok(&c, &take, &T2);
    assert_string_equal(c.assignee, T2.person);
    assert_null(c.assignee_name);
    assert_int_equal(c.version, v + 1);
    /* A person is not a field of TAKE_OVER: the taker is the actor. */
    sj_action back = on(&c, SJ_ACTION_TAKE_OVER);
    back.note = "回来了";
    back.person = T.person;
    refused(&c, &back, &T, SJ_EBAD_FIELD);
}

static void test_carrier_and_assign_refusals(void **state)
{
    sj_case c = registered(SJ_LEVEL_TOWNSHIP);
    sj_action set = on(&c, SJ_ACTION_SET_CARRIER);
    refused(&c, &set, &V, SJ_EMISSING_FIELD);
    set.person = "p v";
    refused(&c, &set, &V, SJ_EBAD_FIELD);
    set.person = V2.person;
    refused(&c, &set, &T, SJ_EWRONG_ROLE); /* the village names its cadre */
    ok(&c, &set, &V);
    set = on(&c, SJ_ACTION_SET_CARRIER);
    set.person = V2.person;
    refused(&c, &set, &V, SJ_EBAD_FIELD); /* already the carrier */
    escalate(&c, &V);
    set.person = V.person;
    set.expected_version = 1; /* stale does not matter: a fact */
    ok(&c, &set, &V);         /* wherever the case is */
    assert_string_equal(c.carrier, V.person);

    sj_action a = on(&c, SJ_ACTION_ASSIGN);
    refused(&c, &a, &T, SJ_EMISSING_FIELD);
    a.person = "p-王五";
    refused(&c, &a, &T, SJ_EBAD_FIELD);
    a.person = "p-01234567890123456789012345678901234567890123456789012345678901234";
    refused(&c, &a, &T, SJ_EBAD_FIELD); /* 66 bytes */
    a.person = T2.person;
    refused(&c, &a, &V, SJ_EWRONG_LEVEL); /* the village no longer holds it */
    a.expected_version = c.version - 1;
    refused(&c, &a, &T, SJ_ESTALE_VERSION);
    a.expected_version = c.version;
    a.result = "x";
    refused(&c, &a, &T, SJ_EBAD_FIELD);
    a.result = NULL;
    ok(&c, &a, &T);
    assert_true(sj_person_id_valid("p-410423101201-01"));
    assert_true(sj_person_id_valid("A.b_c-9"));
    assert_false(sj_person_id_valid(""));
    assert_false(sj_person_id_valid(NULL));
    assert_false(sj_person_id_valid("p/1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_initial_case),
        cmocka_unit_test(test_register_refusals_table),
        cmocka_unit_test(test_register_again_is_refused),
        cmocka_unit_test(test_path_at_once),
        cmocka_unit_test(test_path_township_undertakes),
        cmocka_unit_test(test_path_county_on_behalf),
        cmocka_unit_test(test_path_materials_once_and_again),
        cmocka_unit_test(test_path_materials_at_the_village),
        cmocka_unit_test(test_path_returned_undoable),
        cmocka_unit_test(test_path_returned_while_waiting_for_materials),
        cmocka_unit_test(test_path_department_dispatch_take_report),
        cmocka_unit_test(test_path_department_report_undoable),
        cmocka_unit_test(test_path_return_down_county_then_township),
        cmocka_unit_test(test_path_return_down_before_accepting),
        cmocka_unit_test(test_path_withdraw),
        cmocka_unit_test(test_path_unsatisfied_reopen_resolve_satisfied),
        cmocka_unit_test(test_path_county_reopens_township_case),
        cmocka_unit_test(test_path_bad_evaluation_rectified_and_called_back),
        cmocka_unit_test(test_path_rectify_overdue_and_on_time),
        cmocka_unit_test(test_path_reopened_bad_evaluation_overdue),
        cmocka_unit_test(test_path_closed_without_feedback),
        cmocka_unit_test(test_urge_counts_without_version_change),
        cmocka_unit_test(test_supervise_overdue_warn),
        cmocka_unit_test(test_stale_version_refused),
        cmocka_unit_test(test_item_level_too_low),
        cmocka_unit_test(test_missing_fields_table),
        cmocka_unit_test(test_feedback_unknown_satisfaction),
        cmocka_unit_test(test_action_without_time),
        cmocka_unit_test(test_bad_materials_table),
        cmocka_unit_test(test_text_length_limits),
        cmocka_unit_test(test_utf8_table),
        cmocka_unit_test(test_hostile_but_valid_text_is_plain_text),
        cmocka_unit_test(test_path_assignment_follows_the_holder),
        cmocka_unit_test(test_take_over),
        cmocka_unit_test(test_carrier_and_assign_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
