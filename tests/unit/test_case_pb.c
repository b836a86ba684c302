/*
 * test_case_pb.c - the wire's Case and CaseAction and the state machine's
 * view of them (common/domain/case_pb.h), the one conversion the county, the
 * relays and the clients use: every lifecycle field each way, text
 * borrowed, empty text as "" on the wire, the other fields of a Case left
 * alone, a unit code too long for its field refused rather than cut, and a
 * converted case judged as the tiers judge it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "case_pb.h"

#define COUNTY "410423000000"
#define TOWNSHIP "410423101000"
#define VILLAGE "410423101201"

static char *materials[] = {"户口簿", "收入证明"};

/* A case resolved by the township after a round of materials: every
 * lifecycle field set to something other than its zero. */
static void full_case(Sanji__Case *p)
{
    sanji__case__init(p);
    p->number = "410423-20261123-00001";
    p->village = VILLAGE;
    p->holder_level = SANJI__LEVEL__LEVEL_VILLAGE;
    p->holder_unit = VILLAGE;
    p->status = SANJI__CASE_STATUS__CASE_STATUS_RESOLVED;
    p->resume_status = SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP;
    p->version = 9;
    p->department = "县民政局";
    p->handling = SANJI__HANDLING_TYPE__HANDLING_SUPPLEMENTED;
    p->overdue = true;
    p->warn_level = 80;
    p->urge_count = 2;
    p->supervised = true;
    p->materials_rounds = 1;
    p->materials = materials;
    p->n_materials = 2;
    p->result = "已办结";
    p->return_reason = "";
    p->satisfaction = SANJI__SATISFACTION__SATISFACTION_BASICALLY_SATISFIED;
    p->resolved_level = SANJI__LEVEL__LEVEL_TOWNSHIP;
    p->resolved_unit = TOWNSHIP;
    p->updated_at_ms = 1700000000123;
    p->closed_at_ms = 1700000000456;
    p->escalated = true;
    p->reached_county = true;
}

/* A case just registered at the village, as the wire carries it. */
static void registered_case(Sanji__Case *p)
{
    sanji__case__init(p);
    p->village = VILLAGE;
    p->holder_level = SANJI__LEVEL__LEVEL_VILLAGE;
    p->holder_unit = VILLAGE;
    p->status = SANJI__CASE_STATUS__CASE_STATUS_REGISTERED;
    p->version = 1;
    p->updated_at_ms = 1000;
}

static void test_case_to_view(void **state)
{
    Sanji__Case p;
    full_case(&p);
    sj_case c;
    memset(&c, 0x5A, sizeof(c));
    sj_case_pb_to_case(&p, SJ_LEVEL_TOWNSHIP, &c);
    assert_string_equal(c.village, VILLAGE);
    assert_int_equal(c.item_min_level, SJ_LEVEL_TOWNSHIP);
    assert_int_equal(c.status, SJ_STATUS_RESOLVED);
    assert_int_equal(c.resume_status, SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_int_equal(c.holder_level, SJ_LEVEL_VILLAGE);
    assert_string_equal(c.holder_unit, VILLAGE);
    assert_int_equal(c.version, 9);
    assert_int_equal(c.handling, SJ_HANDLING_SUPPLEMENTED);
    assert_true(c.overdue && c.supervised && c.escalated && c.reached_county);
    assert_int_equal(c.warn_level, 80);
    assert_int_equal(c.urge_count, 2);
    assert_int_equal(c.materials_rounds, 1);
    assert_int_equal(c.satisfaction, SJ_SATISFACTION_BASICALLY);
    assert_int_equal(c.resolved_level, SJ_LEVEL_TOWNSHIP);
    assert_string_equal(c.resolved_unit, TOWNSHIP);
    assert_int_equal(c.updated_at_ms, 1700000000123);
    assert_int_equal(c.closed_at_ms, 1700000000456);
    /* Text is borrowed, not copied. */
    assert_ptr_equal(c.department, p.department);
    assert_ptr_equal(c.result, p.result);
    assert_ptr_equal(c.return_reason, p.return_reason);
    assert_ptr_equal(c.materials, (const char *const *)p.materials);
    assert_int_equal(c.n_materials, 2);
}

static void test_view_to_case_and_back(void **state)
{
    Sanji__Case p;
    full_case(&p);
    sj_case c;
    sj_case_pb_to_case(&p, SJ_LEVEL_VILLAGE, &c);
    Sanji__Case q;
    sanji__case__init(&q);
    q.number = "kept";
    q.request_text = "kept too";
    sj_case_pb_from_case(&c, &q);
    /* The other fields of the record are left as they were. */
    assert_string_equal(q.number, "kept");
    assert_string_equal(q.request_text, "kept too");
    assert_int_equal(q.status, p.status);
    assert_int_equal(q.resume_status, p.resume_status);
    assert_int_equal(q.holder_level, p.holder_level);
    assert_string_equal(q.holder_unit, p.holder_unit);
    assert_ptr_equal(q.holder_unit, c.holder_unit); /* points into the view */
    assert_int_equal(q.version, p.version);
    assert_int_equal(q.handling, p.handling);
    assert_int_equal(q.overdue, p.overdue);
    assert_int_equal(q.supervised, p.supervised);
    assert_int_equal(q.escalated, p.escalated);
    assert_int_equal(q.reached_county, p.reached_county);
    assert_int_equal(q.warn_level, p.warn_level);
    assert_int_equal(q.urge_count, p.urge_count);
    assert_int_equal(q.materials_rounds, p.materials_rounds);
    assert_int_equal(q.satisfaction, p.satisfaction);
    assert_int_equal(q.resolved_level, p.resolved_level);
    assert_string_equal(q.resolved_unit, p.resolved_unit);
    assert_int_equal(q.updated_at_ms, p.updated_at_ms);
    assert_int_equal(q.closed_at_ms, p.closed_at_ms);
    assert_string_equal(q.department, p.department);
    assert_string_equal(q.result, p.result);
    assert_string_equal(q.return_reason, p.return_reason);
    assert_int_equal(q.n_materials, 2);
    assert_string_equal(q.materials[1], "收入证明");
    /* Empty text goes on the wire as "", which protobuf-c packs. */
    c.department = c.result = c.return_reason = NULL;
    sj_case_pb_from_case(&c, &q);
    assert_string_equal(q.department, "");
    assert_string_equal(q.result, "");
    assert_string_equal(q.return_reason, "");
}

/* A Case with missing or overlong codes: a view the state machine calls
 * malformed, never one that names another unit. */
static void test_bad_codes_are_refused_not_cut(void **state)
{
    Sanji__Case p;
    registered_case(&p);
    p.village = VILLAGE "9"; /* 13 digits: cut, it would be VILLAGE */
    sj_case c;
    sj_case_pb_to_case(&p, SJ_LEVEL_VILLAGE, &c);
    assert_string_equal(c.village, "");
    const sj_actor v = {SJ_ROLE_VILLAGE_CADRE, VILLAGE, "", "p-v"};
    assert_int_equal(sj_case_check(&c, SJ_ACTION_ESCALATE, &v, NULL), SJ_EINVAL);
    /* NULL codes (an empty message) are empty too. */
    sanji__case__init(&p);
    sj_case_pb_to_case(&p, SJ_LEVEL_VILLAGE, &c);
    assert_string_equal(c.village, "");
    assert_string_equal(c.holder_unit, "");
    assert_string_equal(c.resolved_unit, "");
    /* Twelve digits exactly fit. */
    registered_case(&p);
    sj_case_pb_to_case(&p, SJ_LEVEL_VILLAGE, &c);
    assert_int_equal(sj_case_check(&c, SJ_ACTION_ESCALATE, &v, NULL), 0);
}

static void test_action(void **state)
{
    Sanji__CaseAction a = SANJI__CASE_ACTION__INIT;
    a.action = SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS;
    a.expected_version = 4;
    a.acted_at_ms = 1700000000999;
    a.note = "一次告知";
    a.result = "";
    a.department = "";
    a.materials = materials;
    a.n_materials = 2;
    a.satisfaction = SANJI__SATISFACTION__SATISFACTION_UNSPECIFIED;
    sj_action o;
    memset(&o, 0x5A, sizeof(o));
    sj_case_pb_action(&a, &o);
    assert_int_equal(o.type, SJ_ACTION_REQUEST_MATERIALS);
    assert_int_equal(o.expected_version, 4);
    assert_int_equal(o.at_ms, 1700000000999);
    assert_ptr_equal(o.note, a.note);
    assert_string_equal(o.result, "");
    assert_string_equal(o.department, "");
    assert_ptr_equal(o.materials, (const char *const *)a.materials);
    assert_int_equal(o.n_materials, 2);
    assert_int_equal(o.satisfaction, SJ_SATISFACTION_NONE);
    assert_int_equal(o.warn_percent, 0);
}

/* What the tiers do with it: a Case from the wire, judged and moved on,
 * and the next Case written back from the outcome. */
static void test_judged_as_the_tiers_judge_it(void **state)
{
    Sanji__Case p;
    registered_case(&p);
    sj_case c;
    sj_case_pb_to_case(&p, SJ_LEVEL_VILLAGE, &c);
    Sanji__CaseAction a = SANJI__CASE_ACTION__INIT;
    a.action = SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE;
    a.expected_version = 1;
    a.acted_at_ms = 2000;
    a.note = "";
    a.result = "";
    a.department = "";
    sj_action act;
    sj_case_pb_action(&a, &act);
    const sj_actor v = {SJ_ROLE_VILLAGE_CADRE, VILLAGE, "", "p-v"};
    sj_case_outcome out;
    sj_error err;
    assert_int_equal(sj_case_apply(&c, &act, &v, &out, &err), 0);
    Sanji__Case next = p;
    sj_case_pb_from_case(&out.next, &next);
    assert_int_equal(next.status, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP);
    assert_int_equal(next.holder_level, SANJI__LEVEL__LEVEL_TOWNSHIP);
    assert_string_equal(next.holder_unit, TOWNSHIP);
    assert_int_equal(next.version, 2);
    assert_int_equal(next.updated_at_ms, 2000);
    assert_true(next.escalated);
    /* The same message with the materials a form left in it is refused. */
    a.materials = materials;
    a.n_materials = 2;
    sj_case_pb_action(&a, &act);
    assert_int_equal(sj_case_apply(&c, &act, &v, &out, &err), SJ_EBAD_FIELD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_to_view),
        cmocka_unit_test(test_view_to_case_and_back),
        cmocka_unit_test(test_bad_codes_are_refused_not_cut),
        cmocka_unit_test(test_action),
        cmocka_unit_test(test_judged_as_the_tiers_judge_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
