/*
 * test_case_fields.c - each action takes only its own fields, and a
 * registration's own fields (common/domain/case.h, docs/LIFECYCLE.md check 9):
 *   - every action with exactly its required fields is applied; with each
 *     field it takes added, still applied; with each field it does not take
 *     added, refused SJ_EBAD_FIELD naming the field and the action, the
 *     case untouched;
 *   - sj_case_action_fields() agrees with a table written here from
 *     LIFECYCLE.md, apart from case.c;
 *   - the refusal reads in Chinese as the lead, the field's sentence and
 *     the action's sentence, each translated;
 *   - sj_case_check_submit(): required fields (white space of every kind is
 *     blank), limits and UTF-8, with the codes the tiers rely on.
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
#include "i18n.h"
#include "refusal.h"

static int64_t clock_ms = 1700000000000;

/* --- the fields, from docs/LIFECYCLE.md ------------------------------------------ */

#define NOTE SJ_CASE_FIELD_NOTE
#define RESULT SJ_CASE_FIELD_RESULT
#define DEPT SJ_CASE_FIELD_DEPARTMENT
#define MATS SJ_CASE_FIELD_MATERIALS
#define SAT SJ_CASE_FIELD_SATISFACTION
#define WARN SJ_CASE_FIELD_WARN_PERCENT
#define DAYS SJ_CASE_FIELD_EXTEND_DAYS
#define NTF SJ_CASE_FIELD_NOTIFY
#define PERSON SJ_CASE_FIELD_PERSON

static const struct {
    unsigned field;
    const char *name;  /* for messages */
    const char *word;  /* what the refusal says of it */
} fields[] = {
    {NOTE, "note", "a note"},
    {RESULT, "result", "a result"},
    {DEPT, "department", "a department"},
    {MATS, "materials", "a materials list"},
    {SAT, "satisfaction", "a satisfaction"},
    {WARN, "warn_percent", "a share of the time limit"},
    {DAYS, "extend_days", "a number of extension days"},
    {NTF, "notify_attempt", "a notification attempt"},
    {PERSON, "person", "a person"},
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

/* Where each action can be taken, by whom, what it takes, what it
 * requires, and the name the refusal gives it. */
typedef enum where {
    REGISTERED,
    AT_TOWNSHIP,
    AT_COUNTY_ESCALATED,
    WAITING,
    RESOLVED,
    UNSATISFIED,
    EXTENSION_ASKED, /* at the township, an extension asked for */
    AT_COUNTY,
    DISPATCHED,          /* to D_MZJ */
    DEPARTMENT_HANDLING, /* taken by D_MZJ */
    REPORTED,            /* reported back by D_MZJ */
    ASSIGNED,            /* at the township, assigned to T2 */
    RECTIFIED,           /* a 差评 rectified (整改完成), the call back due */
} where;

static const struct {
    sj_case_action action;
    where where;
    const sj_actor *who;
    unsigned takes;
    unsigned requires;
    const char *chinese; /* as the refusal names the action */
} actions[] = {
    {SJ_ACTION_RESOLVE_AT_ONCE, REGISTERED, &V, NOTE | RESULT, RESULT, "(即办)"},
    {SJ_ACTION_ESCALATE, REGISTERED, &V, NOTE, 0, "(上报)"},
    {SJ_ACTION_ACCEPT, AT_COUNTY_ESCALATED, &C, NOTE, 0, "(签收)"},
    {SJ_ACTION_RETURN_DOWN, AT_TOWNSHIP, &T, NOTE, NOTE, "(退回下级)"},
    {SJ_ACTION_REQUEST_MATERIALS, AT_TOWNSHIP, &T, NOTE | MATS, MATS, "(一次告知)"},
    {SJ_ACTION_SUPPLEMENT, WAITING, &V, NOTE, 0, "(补齐材料)"},
    {SJ_ACTION_RESOLVE, AT_TOWNSHIP, &T, NOTE | RESULT, RESULT, "(办结)"},
    {SJ_ACTION_RETURN_UNDOABLE, AT_TOWNSHIP, &T, NOTE, NOTE, "(退办)"},
    {SJ_ACTION_WITHDRAW, REGISTERED, &V, NOTE, NOTE, "(撤回)"},
    {SJ_ACTION_URGE, AT_TOWNSHIP, &V, NOTE, 0, "(催办)"},
    {SJ_ACTION_FEEDBACK, RESOLVED, &V, NOTE | SAT, SAT, "(结果反馈)"},
    {SJ_ACTION_REOPEN, UNSATISFIED, &V, NOTE, NOTE, "(重办)"},
    {SJ_ACTION_CLOSE, RESOLVED, &V, NOTE, NOTE, "(归档)"},
    {SJ_ACTION_SUPERVISE, AT_TOWNSHIP, &C, NOTE, 0, "(督办)"},
    {SJ_ACTION_OVERDUE, AT_TOWNSHIP, &S, 0, 0, "(超期)"},
    {SJ_ACTION_WARN, AT_TOWNSHIP, &S, WARN, WARN, "(预警)"},
    {SJ_ACTION_EXTEND_REQUEST, AT_TOWNSHIP, &T, NOTE | DAYS, NOTE | DAYS, "(申请延期)"},
    {SJ_ACTION_EXTEND_APPROVE, EXTENSION_ASKED, &C, NOTE, 0, "(批准延期)"},
    {SJ_ACTION_EXTEND_REFUSE, EXTENSION_ASKED, &C, NOTE, NOTE, "(不予延期)"},
    {SJ_ACTION_DUE_RECOMPUTE, AT_TOWNSHIP, &S, 0, 0, "recomputed on the calendar"},
    {SJ_ACTION_DISPATCH, AT_COUNTY, &C, NOTE | DEPT, DEPT, "(派单)"},
    {SJ_ACTION_TAKE, DISPATCHED, &D_MZJ, NOTE, 0, "(接单)"},
    {SJ_ACTION_REFUSE_DISPATCH, DISPATCHED, &D_MZJ, NOTE, NOTE, "(退单)"},
    {SJ_ACTION_REPORT, DEPARTMENT_HANDLING, &D_MZJ, NOTE | RESULT, RESULT, "(回单)"},
    {SJ_ACTION_RETURN_REPORT, REPORTED, &C, NOTE, NOTE, "(回单退回)"},
    {SJ_ACTION_NOTIFIED, RESOLVED, &S, NTF, NTF, "message sent to the villager"},
    {SJ_ACTION_NOTIFY_FAILED, RESOLVED, &S, NOTE | NTF, NTF, "failed message to the villager"},
    {SJ_ACTION_ASSIGN, AT_TOWNSHIP, &T, NOTE | PERSON, PERSON, "(指派)"},
    {SJ_ACTION_TAKE_OVER, ASSIGNED, &T, NOTE, NOTE, "(接手)"},
    {SJ_ACTION_SET_CARRIER, AT_TOWNSHIP, &V, NOTE | PERSON, PERSON, "(全程代办员)"},
    {SJ_ACTION_RECTIFY, UNSATISFIED, &V, NOTE, NOTE, "(整改完成)"},
    {SJ_ACTION_CALLBACK, RECTIFIED, &V, NOTE | SAT, NOTE | SAT, "(回访)"},
    {SJ_ACTION_RECTIFY_OVERDUE, UNSATISFIED, &S, 0, 0, "(整改超期)"},
};
#define N_ACTIONS (sizeof(actions) / sizeof(actions[0]))

static const char *const one_material[] = {"户口簿"};

/* An empty calendar (no year covered): DUE_RECOMPUTE always finds a change
 * from a case whose due time was never set. */
static sj_calendar *cal;

/* An action on c at its version with exactly the fields in `set`. */
static sj_action with_fields(const sj_case *c, sj_case_action type, unsigned set)
{
    sj_action a;
    memset(&a, 0, sizeof(a));
    a.type = type;
    a.expected_version = c->version;
    a.at_ms = ++clock_ms;
    if (set & NOTE)
        a.note = "已与申请人核实";
    if (set & RESULT)
        a.result = "已办结，证明已交申请人";
    if (set & DEPT)
        a.department = "mzj";
    if (set & MATS) {
        a.materials = one_material;
        a.n_materials = 1;
    }
    if (set & SAT)
        a.satisfaction = type == SJ_ACTION_FEEDBACK ? SJ_SATISFACTION_SATISFIED
                                                    : SJ_SATISFACTION_UNSATISFIED;
    if (set & WARN)
        a.warn_percent = 50;
    if (set & DAYS)
        a.extend_days = 3;
    if (set & NTF)
        a.notify_attempt = 1;
    if (set & PERSON)
        a.person = type == SJ_ACTION_SET_CARRIER ? V2.person : T2.person;
    a.calendar = cal;
    return a;
}

static int apply(sj_case *c, const sj_action *a, const sj_actor *who, sj_error *err)
{
    sj_case_outcome out;
    int rc = sj_case_apply(c, a, who, &out, err);
    if (rc == 0)
        *c = out.next;
    return rc;
}

static void must(sj_case *c, sj_case_action type, unsigned set, const sj_actor *who)
{
    sj_action a = with_fields(c, type, set);
    sj_error err;
    int rc = apply(c, &a, who, &err);
    if (rc != 0)
        fail_msg("setting up with %s: %s %s", sj_case_action_name(type), sj_err_name(rc),
                 err.message);
}

/* A case (item finishable at the village) where the row's action is allowed. */
static sj_case set_up(where w)
{
    sj_case_outcome out;
    assert_int_equal(sj_case_register(VILLAGE, SJ_LEVEL_VILLAGE, ++clock_ms, &V, &out, NULL), 0);
    sj_case c = out.next;
    switch (w) {
    case REGISTERED:
        break;
    case RESOLVED:
    case UNSATISFIED:
    case RECTIFIED:
        must(&c, SJ_ACTION_RESOLVE_AT_ONCE, RESULT, &V);
        if (w != RESOLVED) {
            /* a 差评 with its rectification due in 15 working days */
            sj_action a = with_fields(&c, SJ_ACTION_FEEDBACK, 0);
            a.satisfaction = SJ_SATISFACTION_UNSATISFIED;
            a.rectify_days = SJ_RECTIFY_DAYS_DEFAULT;
            assert_int_equal(apply(&c, &a, &V, NULL), 0);
            assert_true(c.rectify_due_at_ms > 0);
        }
        if (w == RECTIFIED)
            must(&c, SJ_ACTION_RECTIFY, NOTE, &V);
        break;
    case AT_TOWNSHIP:
    case WAITING:
    case AT_COUNTY_ESCALATED:
    case EXTENSION_ASKED:
    case ASSIGNED:
    case AT_COUNTY:
    case DISPATCHED:
    case DEPARTMENT_HANDLING:
    case REPORTED:
        must(&c, SJ_ACTION_ESCALATE, 0, &V);
        must(&c, SJ_ACTION_ACCEPT, 0, &T);
        if (w == EXTENSION_ASKED)
            must(&c, SJ_ACTION_EXTEND_REQUEST, NOTE | DAYS, &T);
        if (w == WAITING)
            must(&c, SJ_ACTION_REQUEST_MATERIALS, MATS, &T);
        if (w == ASSIGNED)
            must(&c, SJ_ACTION_ASSIGN, PERSON, &T);
        if (w == AT_TOWNSHIP || w == WAITING || w == EXTENSION_ASKED || w == ASSIGNED)
            break;
        must(&c, SJ_ACTION_ESCALATE, 0, &T);
        if (w == AT_COUNTY_ESCALATED)
            break;
        must(&c, SJ_ACTION_ACCEPT, 0, &C);
        if (w == AT_COUNTY)
            break;
        must(&c, SJ_ACTION_DISPATCH, DEPT, &C);
        if (w == DISPATCHED)
            break;
        must(&c, SJ_ACTION_TAKE, 0, &D_MZJ);
        if (w == REPORTED)
            must(&c, SJ_ACTION_REPORT, RESULT, &D_MZJ);
        break;
    }
    return c;
}

/* --- the tests --------------------------------------------------------------------- */

static void test_fields_table_matches_lifecycle(void **state)
{
    bool seen[SJ_ACTION_COUNT] = {false};
    for (size_t i = 0; i < N_ACTIONS; i++) {
        print_message("%s\n", sj_case_action_name(actions[i].action));
        assert_int_equal(sj_case_action_fields(actions[i].action), actions[i].takes);
        seen[actions[i].action] = true;
    }
    /* Every action but REGISTER (whose fields are the submission's) is above. */
    for (int a = SJ_ACTION_REGISTER + 1; a < SJ_ACTION_COUNT; a++)
        if (strcmp(sj_case_action_name((sj_case_action)a), "unknown") != 0) /* numbers kept free */
            assert_true(seen[a]);
    assert_int_equal(sj_case_action_fields(SJ_ACTION_REGISTER), 0);
    assert_int_equal(sj_case_action_fields(SJ_ACTION_NONE), 0);
    assert_int_equal(sj_case_action_fields((sj_case_action)SJ_ACTION_COUNT), 0);
}

/* Every action x every field: taken -> applied, not taken -> refused. */
static void test_each_action_takes_only_its_fields(void **state)
{
    size_t refusals = 0, accepted = 0;
    for (size_t i = 0; i < N_ACTIONS; i++) {
        const char *name = sj_case_action_name(actions[i].action);
        sj_case c = set_up(actions[i].where);
        sj_action a = with_fields(&c, actions[i].action, actions[i].requires);
        sj_case copy = c;
        sj_error err;
        int rc = apply(&copy, &a, actions[i].who, &err);
        if (rc != 0)
            fail_msg("%s with its required fields: %s %s", name, sj_err_name(rc), err.message);
        for (size_t k = 0; k < N_FIELDS; k++) {
            sj_case before = set_up(actions[i].where);
            a = with_fields(&before, actions[i].action, actions[i].requires | fields[k].field);
            sj_case after = before;
            sj_error_clear(&err);
            rc = apply(&after, &a, actions[i].who, &err);
            bool takes = actions[i].takes & fields[k].field;
            print_message("%s + %s: %s\n", name, fields[k].name, sj_err_name(rc));
            if (takes) {
                if (rc != 0)
                    fail_msg("%s takes %s but refused it: %s", name, fields[k].name, err.message);
                accepted++;
                continue;
            }
            if (rc != SJ_EBAD_FIELD)
                fail_msg("%s with %s: got %s (%s), want BAD_FIELD", name, fields[k].name,
                         sj_err_name(rc), err.message);
            assert_int_equal(err.code, SJ_EBAD_FIELD);
            /* The reason names the field, then the action chosen. */
            assert_true(strncmp(err.message, fields[k].word, strlen(fields[k].word)) == 0);
            const char *join = strstr(err.message, SJ_REFUSAL_JOIN);
            assert_non_null(join);
            assert_non_null(strstr(join, actions[i].chinese));
            assert_memory_equal(&after, &before, sizeof(before));
            refusals++;
        }
    }
    print_message("%zu refused, %zu accepted\n", refusals, accepted);
    /* 33 actions x 9 fields, and 28 actions take a note, 3 a result, 1 a
     * department (DISPATCH), 1 materials, 2 a satisfaction (FEEDBACK,
     * CALLBACK), 1 a share, 1 a
     * number of working days (EXTEND_REQUEST), 2 a notification attempt
     * (NOTIFIED, NOTIFY_FAILED), 2 a person (ASSIGN, SET_CARRIER). */
    assert_int_equal(refusals + accepted, N_ACTIONS * N_FIELDS);
    assert_int_equal(accepted, 28 + 3 + 1 + 1 + 2 + 1 + 1 + 2 + 2);
}

/* No acceptance takes a department, at the township or the county: the
 * county names one by dispatching (派单), from its list, never typed. */
static void test_accept_takes_no_department(void **state)
{
    static const where at[] = {AT_TOWNSHIP, AT_COUNTY_ESCALATED};
    for (size_t i = 0; i < 2; i++) {
        sj_case_outcome out;
        assert_int_equal(
            sj_case_register(VILLAGE, SJ_LEVEL_VILLAGE, ++clock_ms, &V, &out, NULL), 0);
        sj_case c = out.next;
        must(&c, SJ_ACTION_ESCALATE, 0, &V);
        if (at[i] == AT_COUNTY_ESCALATED) {
            must(&c, SJ_ACTION_ACCEPT, 0, &T);
            must(&c, SJ_ACTION_ESCALATE, 0, &T);
        }
        sj_action a = with_fields(&c, SJ_ACTION_ACCEPT, DEPT);
        a.department = "县民正局";
        sj_error err;
        assert_int_equal(apply(&c, &a, i == 0 ? &T : &C, &err), SJ_EBAD_FIELD);
        assert_non_null(strstr(err.message, "(派单)"));
    }
}

/* White space typed into a box of another action is still something sent
 * with this one; an empty text or list is nothing. */
static void test_white_space_is_carried_empty_is_not(void **state)
{
    sj_case c = set_up(REGISTERED);
    sj_action a = with_fields(&c, SJ_ACTION_ESCALATE, 0);
    a.result = "\u3000";
    sj_case copy = c;
    assert_int_equal(apply(&copy, &a, &V, NULL), SJ_EBAD_FIELD);
    a.result = "";
    a.department = "";
    a.materials = one_material; /* a list pointer with no items */
    a.n_materials = 0;
    assert_int_equal(apply(&copy, &a, &V, NULL), 0);
    assert_int_equal(copy.status, SJ_STATUS_ESCALATED_TOWNSHIP);
    assert_int_equal(copy.n_materials, 0);
}

/* A missing required field is named before a field that does not belong. */
static void test_missing_comes_before_not_taken(void **state)
{
    sj_case c = set_up(AT_TOWNSHIP);
    sj_action a = with_fields(&c, SJ_ACTION_RESOLVE, MATS);
    assert_int_equal(apply(&c, &a, &T, NULL), SJ_EMISSING_FIELD);
}

/* The cadre reads the refusal in Chinese: each sentence translated. */
static void test_refusal_reads_in_chinese(void **state)
{
    unsetenv("LANGUAGE");
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANG");
    sj_i18n_init(NULL);
    sj_case c = set_up(REGISTERED);
    sj_action a = with_fields(&c, SJ_ACTION_ESCALATE, MATS);
    sj_error err;
    assert_int_equal(apply(&c, &a, &V, &err), SJ_EBAD_FIELD);
    char out[SJ_ERROR_MESSAGE_MAX];
    sj_refusal_format(err.code, err.message, out, sizeof(out));
    assert_string_equal(out, "填写的内容有误（太长、含无效字符，或不属于此操作）。"
                             " 此操作不填写材料清单；只有一次告知才填写"
                             " （所选操作为上报：只填写说明）");
    /* English, too, keeps both sentences. */
    setenv("LANGUAGE", "en", 1);
    sj_i18n_init(NULL);
    sj_refusal_format(err.code, err.message, out, sizeof(out));
    assert_non_null(strstr(out, "a materials list does not belong to this action"));
    assert_non_null(strstr(out, "(the chosen action is escalate (上报)"));
    assert_null(strchr(out, '\n'));
    unsetenv("LANGUAGE");
}

/* --- a registration's own fields ---------------------------------------------------- */

static void test_submit_table(void **state)
{
    char long_name[SJ_CASE_NAME_MAX + 2], edge_name[SJ_CASE_NAME_MAX + 1];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    memset(edge_name, 'x', sizeof(edge_name) - 1);
    edge_name[sizeof(edge_name) - 1] = '\0';
    char *long_text = malloc(SJ_CASE_TEXT_MAX + 2);
    assert_non_null(long_text);
    memset(long_text, 'y', SJ_CASE_TEXT_MAX + 1);
    long_text[SJ_CASE_TEXT_MAX + 1] = '\0';
    static const char *const blanks[] = {NULL, "", " ", "\t\r\n", "\v\f", "\u00a0", "\u3000\u3000",
                                         " \u00a0\u3000\v"};
    const sj_submit good = {"张建国", "410423198001011238", "13812345678", "申请城乡低保"};

    assert_int_equal(sj_case_check_submit(&good, NULL), 0);
    sj_submit s = good;
    s.applicant_name = edge_name;
    assert_int_equal(sj_case_check_submit(&s, NULL), 0);
    /* Every kind of white space is blank in every required field. */
    for (size_t b = 0; b < sizeof(blanks) / sizeof(blanks[0]); b++) {
        for (int f = 0; f < 4; f++) {
            s = good;
            const char **slot = f == 0   ? &s.applicant_name
                                : f == 1 ? &s.id_number
                                : f == 2 ? &s.phone
                                         : &s.request_text;
            *slot = blanks[b];
            sj_error err;
            print_message("blank %zu in field %d\n", b, f);
            assert_int_equal(sj_case_check_submit(&s, &err), SJ_EMISSING_FIELD);
            assert_int_equal(err.code, SJ_EMISSING_FIELD);
            assert_non_null(strstr(err.message, " is required"));
        }
    }
    const struct {
        const char *what;
        const char *name, *text;
        const char *says;
    } bad[] = {
        {"201-byte name", long_name, "申请", "name is too long"},
        {"name not UTF-8", "\xe5\xbc", "申请", "name is not valid UTF-8"},
        {"4001-byte request", "张三", long_text, "request is too long"},
        {"request not UTF-8", "张三", "\xed\xa0\x80", "request is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = good;
        s.applicant_name = bad[i].name;
        s.request_text = bad[i].text;
        sj_error err;
        print_message("%s\n", bad[i].what);
        assert_int_equal(sj_case_check_submit(&s, &err), SJ_EBAD_FIELD);
        assert_non_null(strstr(err.message, bad[i].says));
    }
    /* The form of the ID number and the phone is personal.h's, not this. */
    s = good;
    s.id_number = "410423198001011234";
    s.phone = "12345";
    assert_int_equal(sj_case_check_submit(&s, NULL), 0);
    assert_int_equal(sj_case_check_submit(NULL, NULL), SJ_EINVAL);
    free(long_text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_table_matches_lifecycle),
        cmocka_unit_test(test_each_action_takes_only_its_fields),
        cmocka_unit_test(test_accept_takes_no_department),
        cmocka_unit_test(test_white_space_is_carried_empty_is_not),
        cmocka_unit_test(test_missing_comes_before_not_taken),
        cmocka_unit_test(test_refusal_reads_in_chinese),
        cmocka_unit_test(test_submit_table),
    };
    cal = sj_calendar_new();
    if (!cal)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    sj_calendar_free(cal);
    return failed;
}
