/*
 * test_case.c - the case state machine, exhaustively: every status x every
 * action x every kind of actor x every level the status can be held at (and
 * every item level, supervision/overdue flag and feedback value), against an
 * expectation table written here from the rules of case.h, independently of
 * the code under test.  Also: sj_case_check and sj_case_allowed_actions agree
 * with sj_case_apply, the names, and inconsistent records and actors.
 *
 * The lifecycles, field checks and text checks are in test_case_paths.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "calendar.h"
#include "case.h"

/* --- the org tree used here ---------------------------------------------------- */

#define COUNTY "410423000000"
#define TOWNSHIP "410423101000"
#define VILLAGE "410423101201"
#define SIBLING_VILLAGE "410423101202"
#define OTHER_TOWNSHIP "410423102000"
#define OTHER_TOWNSHIP_VILLAGE "410423102301"
#define OTHER_COUNTY "410422000000"
/* The department the department-held configurations are with, and another. */
#define DEPT "mzj"
#define OTHER_DEPT "rsj"
/* The person the flagged configurations are assigned to (指派). */
#define ASSIGNEE "p-a"

static const char *unit_at(sj_level level)
{
    switch (level) {
    case SJ_LEVEL_VILLAGE:
        return VILLAGE;
    case SJ_LEVEL_TOWNSHIP:
        return TOWNSHIP;
    case SJ_LEVEL_COUNTY:
        return COUNTY;
    default:
        return "";
    }
}

/* --- actors ---------------------------------------------------------------------- */

typedef struct actor_kind {
    const char *label;
    sj_actor actor;
    bool in_scope;
} actor_kind;

static const actor_kind actors[] = {
    {"village cadre of the case's village", {SJ_ROLE_VILLAGE_CADRE, VILLAGE, "", "p-v"}, true},
    {"village cadre of a sibling village", {SJ_ROLE_VILLAGE_CADRE, SIBLING_VILLAGE, "", "p-sv"},
     false},
    {"village cadre of another township",
     {SJ_ROLE_VILLAGE_CADRE, OTHER_TOWNSHIP_VILLAGE, "", "p-ov"}, false},
    {"township staff of the case's township", {SJ_ROLE_TOWNSHIP_STAFF, TOWNSHIP, "", "p-t"}, true},
    {"township staff of another township", {SJ_ROLE_TOWNSHIP_STAFF, OTHER_TOWNSHIP, "", "p-ot"},
     false},
    {"county operator of the case's county", {SJ_ROLE_COUNTY_OPERATOR, COUNTY, "", "p-c"}, true},
    {"county operator of another county", {SJ_ROLE_COUNTY_OPERATOR, OTHER_COUNTY, "", "p-oc"},
     false},
    {"system of the case's county", {SJ_ROLE_SYSTEM, COUNTY, "", ""}, true},
    {"staff of the case's department", {SJ_ROLE_DEPARTMENT_STAFF, COUNTY, DEPT, "p-d"}, true},
    {"staff of another department", {SJ_ROLE_DEPARTMENT_STAFF, COUNTY, OTHER_DEPT, "p-od"}, true},
    {"staff of a department of another county",
     {SJ_ROLE_DEPARTMENT_STAFF, OTHER_COUNTY, DEPT, "p-odc"}, false},
    /* the person the flagged configurations are assigned to */
    {"the case's assignee at the village", {SJ_ROLE_VILLAGE_CADRE, VILLAGE, "", ASSIGNEE}, true},
};
#define N_ACTORS (sizeof(actors) / sizeof(actors[0]))

/* --- the expectation table (from the rules table of case.h) -------------------------- */

/* Who may act in a row. */
typedef enum who {
    W_VILLAGE,        /* the case's village cadre, wherever the case is held */
    W_HOLDER,         /* the person holding the case (level and unit; while a department
                         holds it, that department's staff and not the county operator) */
    W_VILLAGE_OR_HOLDER,
    W_NOT_HOLDER,     /* any person in scope except the holder */
    W_RESOLVER_OR_C,  /* the resolver's level and unit, or any county operator */
    W_COUNTY,
    W_SYSTEM,
    W_ABOVE_HOLDER_OR_C, /* township or county above the holder, or any county operator */
} who;

/* Where the case is held afterwards. */
typedef enum to_holder { H_SAME, H_VILLAGE, H_TOWNSHIP, H_COUNTY, H_RESOLVER } to_holder;

/* Special "to" statuses. */
#define TO_RESUME ((sj_case_status)100)
#define TO_FEEDBACK ((sj_case_status)101)        /* CLOSED or UNSATISFIED */
#define TO_RESOLVER_HANDLING ((sj_case_status)102)
#define TO_SAME ((sj_case_status)103)

typedef struct row {
    sj_case_action action;
    who who;
    sj_case_status from;
    sj_case_status to;
    to_holder holder;
} row;

static const row table[] = {
    {SJ_ACTION_RESOLVE_AT_ONCE, W_VILLAGE, SJ_STATUS_REGISTERED, SJ_STATUS_RESOLVED, H_VILLAGE},
    {SJ_ACTION_ESCALATE, W_HOLDER, SJ_STATUS_REGISTERED, SJ_STATUS_ESCALATED_TOWNSHIP, H_TOWNSHIP},
    {SJ_ACTION_ESCALATE, W_HOLDER, SJ_STATUS_ACCEPTED_TOWNSHIP, SJ_STATUS_ESCALATED_COUNTY,
     H_COUNTY},
    {SJ_ACTION_ACCEPT, W_HOLDER, SJ_STATUS_ESCALATED_TOWNSHIP, SJ_STATUS_ACCEPTED_TOWNSHIP, H_SAME},
    {SJ_ACTION_ACCEPT, W_HOLDER, SJ_STATUS_ESCALATED_COUNTY, SJ_STATUS_ACCEPTED_COUNTY, H_SAME},
    {SJ_ACTION_RETURN_DOWN, W_HOLDER, SJ_STATUS_ESCALATED_TOWNSHIP, SJ_STATUS_REGISTERED,
     H_VILLAGE},
    {SJ_ACTION_RETURN_DOWN, W_HOLDER, SJ_STATUS_ACCEPTED_TOWNSHIP, SJ_STATUS_REGISTERED, H_VILLAGE},
    {SJ_ACTION_RETURN_DOWN, W_HOLDER, SJ_STATUS_ESCALATED_COUNTY, SJ_STATUS_ACCEPTED_TOWNSHIP,
     H_TOWNSHIP},
    {SJ_ACTION_RETURN_DOWN, W_HOLDER, SJ_STATUS_ACCEPTED_COUNTY, SJ_STATUS_ACCEPTED_TOWNSHIP,
     H_TOWNSHIP},
    {SJ_ACTION_REQUEST_MATERIALS, W_HOLDER, SJ_STATUS_REGISTERED, SJ_STATUS_WAITING_MATERIALS,
     H_SAME},
    {SJ_ACTION_REQUEST_MATERIALS, W_HOLDER, SJ_STATUS_ACCEPTED_TOWNSHIP,
     SJ_STATUS_WAITING_MATERIALS, H_SAME},
    {SJ_ACTION_REQUEST_MATERIALS, W_HOLDER, SJ_STATUS_ACCEPTED_COUNTY, SJ_STATUS_WAITING_MATERIALS,
     H_SAME},
    {SJ_ACTION_SUPPLEMENT, W_VILLAGE_OR_HOLDER, SJ_STATUS_WAITING_MATERIALS, TO_RESUME, H_SAME},
    {SJ_ACTION_RESOLVE, W_HOLDER, SJ_STATUS_REGISTERED, SJ_STATUS_RESOLVED, H_VILLAGE},
    {SJ_ACTION_RESOLVE, W_HOLDER, SJ_STATUS_ACCEPTED_TOWNSHIP, SJ_STATUS_RESOLVED, H_VILLAGE},
    {SJ_ACTION_RESOLVE, W_HOLDER, SJ_STATUS_ACCEPTED_COUNTY, SJ_STATUS_RESOLVED, H_VILLAGE},
    {SJ_ACTION_RETURN_UNDOABLE, W_HOLDER, SJ_STATUS_REGISTERED, SJ_STATUS_RETURNED, H_VILLAGE},
    {SJ_ACTION_RETURN_UNDOABLE, W_HOLDER, SJ_STATUS_ACCEPTED_TOWNSHIP, SJ_STATUS_RETURNED,
     H_VILLAGE},
    {SJ_ACTION_RETURN_UNDOABLE, W_HOLDER, SJ_STATUS_ACCEPTED_COUNTY, SJ_STATUS_RETURNED, H_VILLAGE},
    {SJ_ACTION_RETURN_UNDOABLE, W_HOLDER, SJ_STATUS_WAITING_MATERIALS, SJ_STATUS_RETURNED,
     H_VILLAGE},
    {SJ_ACTION_WITHDRAW, W_VILLAGE, SJ_STATUS_REGISTERED, SJ_STATUS_WITHDRAWN, H_VILLAGE},
    {SJ_ACTION_WITHDRAW, W_VILLAGE, SJ_STATUS_ESCALATED_TOWNSHIP, SJ_STATUS_WITHDRAWN, H_VILLAGE},
    {SJ_ACTION_WITHDRAW, W_VILLAGE, SJ_STATUS_ACCEPTED_TOWNSHIP, SJ_STATUS_WITHDRAWN, H_VILLAGE},
    {SJ_ACTION_WITHDRAW, W_VILLAGE, SJ_STATUS_ESCALATED_COUNTY, SJ_STATUS_WITHDRAWN, H_VILLAGE},
    {SJ_ACTION_WITHDRAW, W_VILLAGE, SJ_STATUS_ACCEPTED_COUNTY, SJ_STATUS_WITHDRAWN, H_VILLAGE},
    {SJ_ACTION_WITHDRAW, W_VILLAGE, SJ_STATUS_WAITING_MATERIALS, SJ_STATUS_WITHDRAWN, H_VILLAGE},
    {SJ_ACTION_FEEDBACK, W_VILLAGE, SJ_STATUS_RESOLVED, TO_FEEDBACK, H_RESOLVER},
    {SJ_ACTION_FEEDBACK, W_VILLAGE, SJ_STATUS_RETURNED, TO_FEEDBACK, H_RESOLVER},
    {SJ_ACTION_REOPEN, W_RESOLVER_OR_C, SJ_STATUS_UNSATISFIED, TO_RESOLVER_HANDLING, H_SAME},
    /* 好差评: rectify (整改完成), then call back (回访), which closes */
    {SJ_ACTION_RECTIFY, W_RESOLVER_OR_C, SJ_STATUS_UNSATISFIED, TO_SAME, H_SAME},
    {SJ_ACTION_CALLBACK, W_VILLAGE, SJ_STATUS_UNSATISFIED, SJ_STATUS_CLOSED, H_SAME},
    {SJ_ACTION_CALLBACK, W_VILLAGE, SJ_STATUS_RESOLVED, SJ_STATUS_CLOSED, H_SAME},
    {SJ_ACTION_CALLBACK, W_VILLAGE, SJ_STATUS_RETURNED, SJ_STATUS_CLOSED, H_SAME},
    {SJ_ACTION_RECTIFY_OVERDUE, W_SYSTEM, SJ_STATUS_UNSATISFIED, TO_SAME, H_SAME},
    {SJ_ACTION_CLOSE, W_VILLAGE, SJ_STATUS_RESOLVED, SJ_STATUS_CLOSED, H_SAME},
    {SJ_ACTION_CLOSE, W_VILLAGE, SJ_STATUS_RETURNED, SJ_STATUS_CLOSED, H_SAME},
    {SJ_ACTION_EXTEND_REQUEST, W_HOLDER, SJ_STATUS_REGISTERED, TO_SAME, H_SAME},
    {SJ_ACTION_EXTEND_REQUEST, W_HOLDER, SJ_STATUS_ACCEPTED_TOWNSHIP, TO_SAME, H_SAME},
    {SJ_ACTION_EXTEND_REQUEST, W_HOLDER, SJ_STATUS_ACCEPTED_COUNTY, TO_SAME, H_SAME},
    {SJ_ACTION_EXTEND_REQUEST, W_HOLDER, SJ_STATUS_WAITING_MATERIALS, TO_SAME, H_SAME},
    {SJ_ACTION_EXTEND_REQUEST, W_HOLDER, SJ_STATUS_DEPARTMENT_HANDLING, TO_SAME, H_SAME},
    /* 派单-接单-回单 */
    {SJ_ACTION_DISPATCH, W_HOLDER, SJ_STATUS_ACCEPTED_COUNTY, SJ_STATUS_DISPATCHED, H_SAME},
    {SJ_ACTION_TAKE, W_HOLDER, SJ_STATUS_DISPATCHED, SJ_STATUS_DEPARTMENT_HANDLING, H_SAME},
    {SJ_ACTION_REFUSE_DISPATCH, W_HOLDER, SJ_STATUS_DISPATCHED, SJ_STATUS_ACCEPTED_COUNTY, H_SAME},
    {SJ_ACTION_REQUEST_MATERIALS, W_HOLDER, SJ_STATUS_DEPARTMENT_HANDLING,
     SJ_STATUS_WAITING_MATERIALS, H_SAME},
    {SJ_ACTION_REPORT, W_HOLDER, SJ_STATUS_DEPARTMENT_HANDLING, SJ_STATUS_REPORTED, H_SAME},
    {SJ_ACTION_RETURN_REPORT, W_HOLDER, SJ_STATUS_REPORTED, SJ_STATUS_DEPARTMENT_HANDLING, H_SAME},
    {SJ_ACTION_RESOLVE, W_HOLDER, SJ_STATUS_REPORTED, SJ_STATUS_RESOLVED, H_VILLAGE},
    {SJ_ACTION_RETURN_UNDOABLE, W_HOLDER, SJ_STATUS_REPORTED, SJ_STATUS_RETURNED, H_VILLAGE},
    {SJ_ACTION_WITHDRAW, W_VILLAGE, SJ_STATUS_DISPATCHED, SJ_STATUS_WITHDRAWN, H_VILLAGE},
    {SJ_ACTION_WITHDRAW, W_VILLAGE, SJ_STATUS_DEPARTMENT_HANDLING, SJ_STATUS_WITHDRAWN, H_VILLAGE},
    {SJ_ACTION_WITHDRAW, W_VILLAGE, SJ_STATUS_REPORTED, SJ_STATUS_WITHDRAWN, H_VILLAGE},
};
#define N_ROWS (sizeof(table) / sizeof(table[0]))

/* Rows for every active status (open + UNSATISFIED) are generated: */
static const sj_case_status active_statuses[] = {
    SJ_STATUS_REGISTERED,       SJ_STATUS_ESCALATED_TOWNSHIP, SJ_STATUS_ACCEPTED_TOWNSHIP,
    SJ_STATUS_ESCALATED_COUNTY, SJ_STATUS_ACCEPTED_COUNTY,    SJ_STATUS_WAITING_MATERIALS,
    SJ_STATUS_UNSATISFIED,      SJ_STATUS_DISPATCHED,         SJ_STATUS_DEPARTMENT_HANDLING,
    SJ_STATUS_REPORTED,
};

static bool is_active(sj_case_status s)
{
    for (size_t i = 0; i < sizeof(active_statuses) / sizeof(active_statuses[0]); i++)
        if (active_statuses[i] == s)
            return true;
    return false;
}

/* Roles that may do each action at all (check 5). */
#define R(x) (1u << (x))
static unsigned roles_of(sj_case_action a)
{
    const unsigned v = R(SJ_ROLE_VILLAGE_CADRE), t = R(SJ_ROLE_TOWNSHIP_STAFF),
                   c = R(SJ_ROLE_COUNTY_OPERATOR), s = R(SJ_ROLE_SYSTEM),
                   d = R(SJ_ROLE_DEPARTMENT_STAFF);
    switch (a) {
    case SJ_ACTION_REGISTER:
    case SJ_ACTION_RESOLVE_AT_ONCE:
    case SJ_ACTION_WITHDRAW:
    case SJ_ACTION_FEEDBACK:
    case SJ_ACTION_CALLBACK:
        return v;
    case SJ_ACTION_ESCALATE:
        return v | t;
    case SJ_ACTION_ACCEPT:
    case SJ_ACTION_RETURN_DOWN:
        return t | c;
    case SJ_ACTION_REQUEST_MATERIALS:
    case SJ_ACTION_SUPPLEMENT:
        return v | t | c | d;
    case SJ_ACTION_RESOLVE:
    case SJ_ACTION_RETURN_UNDOABLE:
    case SJ_ACTION_URGE:
    case SJ_ACTION_REOPEN:
    case SJ_ACTION_CLOSE:
    case SJ_ACTION_RECTIFY:
        return v | t | c;
    case SJ_ACTION_SUPERVISE:
    case SJ_ACTION_DISPATCH:
    case SJ_ACTION_RETURN_REPORT:
        return c;
    case SJ_ACTION_TAKE:
    case SJ_ACTION_REFUSE_DISPATCH:
    case SJ_ACTION_REPORT:
        return d;
    case SJ_ACTION_OVERDUE:
    case SJ_ACTION_WARN:
    case SJ_ACTION_DUE_RECOMPUTE:
    case SJ_ACTION_NOTIFIED:
    case SJ_ACTION_NOTIFY_FAILED:
    case SJ_ACTION_RECTIFY_OVERDUE:
        return s;
    case SJ_ACTION_EXTEND_REQUEST:
        return v | t | c | d;
    case SJ_ACTION_EXTEND_APPROVE:
    case SJ_ACTION_EXTEND_REFUSE:
        return t | c;
    case SJ_ACTION_ASSIGN:
    case SJ_ACTION_TAKE_OVER:
        return v | t | c | d;
    case SJ_ACTION_SET_CARRIER:
        return v;
    default:
        return 0;
    }
}

static sj_level level_of_role(sj_person_role r)
{
    return r == SJ_ROLE_VILLAGE_CADRE    ? SJ_LEVEL_VILLAGE
           : r == SJ_ROLE_TOWNSHIP_STAFF ? SJ_LEVEL_TOWNSHIP
                                         : SJ_LEVEL_COUNTY;
}

/* --- one configuration of a case ---------------------------------------------- */

typedef struct config {
    sj_case_status status;
    sj_level holder;
    sj_level resolver; /* RESOLVED, RETURNED, UNSATISFIED, CLOSED */
    bool department;   /* with DEPT (waiting: for the materials DEPT asked for) */
} config;

static const config configs[] = {
    {SJ_STATUS_REGISTERED, SJ_LEVEL_VILLAGE, SJ_LEVEL_NONE, false},
    {SJ_STATUS_ESCALATED_TOWNSHIP, SJ_LEVEL_TOWNSHIP, SJ_LEVEL_NONE, false},
    {SJ_STATUS_ACCEPTED_TOWNSHIP, SJ_LEVEL_TOWNSHIP, SJ_LEVEL_NONE, false},
    {SJ_STATUS_ESCALATED_COUNTY, SJ_LEVEL_COUNTY, SJ_LEVEL_NONE, false},
    {SJ_STATUS_ACCEPTED_COUNTY, SJ_LEVEL_COUNTY, SJ_LEVEL_NONE, false},
    {SJ_STATUS_WAITING_MATERIALS, SJ_LEVEL_VILLAGE, SJ_LEVEL_NONE, false},
    {SJ_STATUS_WAITING_MATERIALS, SJ_LEVEL_TOWNSHIP, SJ_LEVEL_NONE, false},
    {SJ_STATUS_WAITING_MATERIALS, SJ_LEVEL_COUNTY, SJ_LEVEL_NONE, false},
    {SJ_STATUS_RESOLVED, SJ_LEVEL_VILLAGE, SJ_LEVEL_VILLAGE, false},
    {SJ_STATUS_RESOLVED, SJ_LEVEL_VILLAGE, SJ_LEVEL_TOWNSHIP, false},
    {SJ_STATUS_RESOLVED, SJ_LEVEL_VILLAGE, SJ_LEVEL_COUNTY, false},
    {SJ_STATUS_RETURNED, SJ_LEVEL_VILLAGE, SJ_LEVEL_VILLAGE, false},
    {SJ_STATUS_RETURNED, SJ_LEVEL_VILLAGE, SJ_LEVEL_TOWNSHIP, false},
    {SJ_STATUS_RETURNED, SJ_LEVEL_VILLAGE, SJ_LEVEL_COUNTY, false},
    {SJ_STATUS_UNSATISFIED, SJ_LEVEL_VILLAGE, SJ_LEVEL_VILLAGE, false},
    {SJ_STATUS_UNSATISFIED, SJ_LEVEL_TOWNSHIP, SJ_LEVEL_TOWNSHIP, false},
    {SJ_STATUS_UNSATISFIED, SJ_LEVEL_COUNTY, SJ_LEVEL_COUNTY, false},
    {SJ_STATUS_CLOSED, SJ_LEVEL_VILLAGE, SJ_LEVEL_VILLAGE, false},
    {SJ_STATUS_CLOSED, SJ_LEVEL_TOWNSHIP, SJ_LEVEL_TOWNSHIP, false},
    {SJ_STATUS_CLOSED, SJ_LEVEL_COUNTY, SJ_LEVEL_COUNTY, false},
    {SJ_STATUS_WITHDRAWN, SJ_LEVEL_VILLAGE, SJ_LEVEL_NONE, false},
    {SJ_STATUS_DISPATCHED, SJ_LEVEL_COUNTY, SJ_LEVEL_NONE, true},
    {SJ_STATUS_DEPARTMENT_HANDLING, SJ_LEVEL_COUNTY, SJ_LEVEL_NONE, true},
    {SJ_STATUS_WAITING_MATERIALS, SJ_LEVEL_COUNTY, SJ_LEVEL_NONE, true},
    {SJ_STATUS_REPORTED, SJ_LEVEL_COUNTY, SJ_LEVEL_NONE, true},
    /* after a refusal (the count stays) and after the county resolved a 回单 */
    {SJ_STATUS_ACCEPTED_COUNTY, SJ_LEVEL_COUNTY, SJ_LEVEL_NONE, true},
    {SJ_STATUS_RESOLVED, SJ_LEVEL_VILLAGE, SJ_LEVEL_COUNTY, true},
};
#define N_CONFIGS (sizeof(configs) / sizeof(configs[0]))

static const char *const last_materials[] = {"户口簿复印件"};

static sj_case make_case(const config *cf, sj_level item_level, bool flags)
{
    sj_case c;
    memset(&c, 0, sizeof(c));
    strcpy(c.village, VILLAGE);
    c.item_min_level = item_level;
    c.status = cf->status;
    c.holder_level = cf->holder;
    strcpy(c.holder_unit, unit_at(cf->holder));
    if (cf->status == SJ_STATUS_WAITING_MATERIALS)
        c.resume_status = cf->holder == SJ_LEVEL_VILLAGE    ? SJ_STATUS_REGISTERED
                          : cf->holder == SJ_LEVEL_TOWNSHIP ? SJ_STATUS_ACCEPTED_TOWNSHIP
                          : cf->department                  ? SJ_STATUS_DEPARTMENT_HANDLING
                                                            : SJ_STATUS_ACCEPTED_COUNTY;
    if (cf->department) {
        c.department_code = DEPT;
        c.department = "县民政局";
        c.department_refusals = 1;
    }
    c.version = 5;
    c.resolved_level = cf->resolver;
    strcpy(c.resolved_unit, unit_at(cf->resolver));
    c.supervised = flags;
    c.overdue = flags;
    c.urge_count = 2;
    c.materials_rounds = 1;
    c.materials = last_materials;
    c.n_materials = 1;
    c.updated_at_ms = 1000;
    c.escalated = cf->holder != SJ_LEVEL_VILLAGE;
    /* The clock: registered 2023-11-01, 10 working days, a due time the
     * test calendar does not give (so that DUE_RECOMPUTE changes it). */
    c.registered_at_ms = 1698800000000;
    c.limit_days = 10;
    c.due_at_ms = 1699000000000;
    c.paused_at_ms = cf->status == SJ_STATUS_WAITING_MATERIALS ? 1699500000000 : 0;
    c.extension_days = flags ? 5 : 0; /* an extension request pending */
    c.notify = flags ? SJ_NOTIFY_PENDING : SJ_NOTIFY_SENT; /* a message to the villager waits */
    c.notify_attempts = flags ? 1 : 2;
    c.assignee = flags ? ASSIGNEE : NULL; /* assigned (指派) */
    c.assignee_name = flags ? "王五" : NULL;
    c.carrier = "p-v";
    c.carrier_name = "张三";
    /* 好差评: with the flags, a 差评 (on the statuses that can carry one)
     * already rectified, late, and waiting for the call back; without, one
     * waiting for its rectification (UNSATISFIED) or none. */
    c.rectify_due_at_ms = 1699900000000;
    bool haocha = cf->status == SJ_STATUS_UNSATISFIED || cf->status == SJ_STATUS_RESOLVED ||
                  cf->status == SJ_STATUS_RETURNED;
    if (haocha && flags) {
        c.satisfaction = SJ_SATISFACTION_VERY_UNSATISFIED;
        c.rectified_at_ms = 1699950000000;
        c.rectify_late = true;
    } else if (cf->status == SJ_STATUS_UNSATISFIED) {
        c.satisfaction = SJ_SATISFACTION_UNSATISFIED;
    }
    return c;
}

/* --- the oracle ---------------------------------------------------------------- */

typedef struct expect {
    int code;
    sj_case_status to;
    sj_level holder;
} expect;

/* A department holds the case: dispatched to it, taken by it, or waiting for
 * the materials it asked for. */
static bool with_department(const sj_case *c)
{
    return c->status == SJ_STATUS_DISPATCHED || c->status == SJ_STATUS_DEPARTMENT_HANDLING ||
           (c->status == SJ_STATUS_WAITING_MATERIALS &&
            c->resume_status == SJ_STATUS_DEPARTMENT_HANDLING);
}

static bool who_matches(who w, const sj_case *c, const sj_actor *a)
{
    sj_level level = level_of_role(a->role);
    bool person = a->role != SJ_ROLE_SYSTEM;
    bool staff = a->role == SJ_ROLE_DEPARTMENT_STAFF;
    bool holder = person && c->holder_level == level && strcmp(c->holder_unit, a->unit) == 0 &&
                  (with_department(c) ? staff && strcmp(c->department_code, a->department) == 0
                                      : !staff);
    bool resolver = person && c->resolved_level == level && strcmp(c->resolved_unit, a->unit) == 0;
    switch (w) {
    case W_VILLAGE:
        return a->role == SJ_ROLE_VILLAGE_CADRE;
    case W_HOLDER:
        return holder;
    case W_VILLAGE_OR_HOLDER:
        return a->role == SJ_ROLE_VILLAGE_CADRE || holder;
    case W_NOT_HOLDER:
        return person && !holder;
    case W_RESOLVER_OR_C:
        return resolver || a->role == SJ_ROLE_COUNTY_OPERATOR;
    case W_COUNTY:
        return a->role == SJ_ROLE_COUNTY_OPERATOR;
    case W_SYSTEM:
        return a->role == SJ_ROLE_SYSTEM;
    case W_ABOVE_HOLDER_OR_C:
        return (person && level > c->holder_level) || a->role == SJ_ROLE_COUNTY_OPERATOR;
    }
    return false;
}

static sj_level holder_after(to_holder h, const sj_case *c)
{
    switch (h) {
    case H_SAME:
        return c->holder_level;
    case H_VILLAGE:
        return SJ_LEVEL_VILLAGE;
    case H_TOWNSHIP:
        return SJ_LEVEL_TOWNSHIP;
    case H_COUNTY:
        return SJ_LEVEL_COUNTY;
    case H_RESOLVER:
        return c->resolved_level;
    }
    return SJ_LEVEL_NONE;
}

/* Collects the rows for (action, status), generating the "any active" ones. */
static size_t rows_for(sj_case_action a, sj_case_status s, row *out)
{
    size_t n = 0;
    for (size_t i = 0; i < N_ROWS; i++)
        if (table[i].action == a && table[i].from == s)
            out[n++] = table[i];
    /* The county's record of a message: on any case not closed or withdrawn. */
    if ((a == SJ_ACTION_NOTIFIED || a == SJ_ACTION_NOTIFY_FAILED) && s != SJ_STATUS_CLOSED &&
        s != SJ_STATUS_WITHDRAWN)
        out[n++] = (row){a, W_SYSTEM, s, TO_SAME, H_SAME};
    if (is_active(s)) {
        if (a == SJ_ACTION_URGE)
            out[n++] = (row){a, W_NOT_HOLDER, s, TO_SAME, H_SAME};
        if (a == SJ_ACTION_SUPERVISE)
            out[n++] = (row){a, W_COUNTY, s, TO_SAME, H_SAME};
        /* The clock stands while the case waits for materials. */
        if ((a == SJ_ACTION_OVERDUE || a == SJ_ACTION_WARN || a == SJ_ACTION_DUE_RECOMPUTE) &&
            s != SJ_STATUS_WAITING_MATERIALS)
            out[n++] = (row){a, W_SYSTEM, s, TO_SAME, H_SAME};
        if ((a == SJ_ACTION_EXTEND_APPROVE || a == SJ_ACTION_EXTEND_REFUSE) &&
            s != SJ_STATUS_UNSATISFIED)
            out[n++] = (row){a, W_ABOVE_HOLDER_OR_C, s, TO_SAME, H_SAME};
    }
    /* Assignment: wherever the case stands, until it is finished for good. */
    if (is_active(s) || s == SJ_STATUS_RESOLVED || s == SJ_STATUS_RETURNED) {
        if (a == SJ_ACTION_ASSIGN || a == SJ_ACTION_TAKE_OVER)
            out[n++] = (row){a, W_HOLDER, s, TO_SAME, H_SAME};
        if (a == SJ_ACTION_SET_CARRIER)
            out[n++] = (row){a, W_VILLAGE, s, TO_SAME, H_SAME};
    }
    return n;
}

static expect oracle(const sj_case *c, sj_case_action a, const actor_kind *k,
                     sj_satisfaction satisfaction)
{
    expect e = {0, SJ_STATUS_NONE, SJ_LEVEL_NONE};
    const sj_actor *ac = &k->actor;
    if (!k->in_scope)
        return (expect){SJ_ESCOPE, 0, 0};
    if (c->status == SJ_STATUS_CLOSED || c->status == SJ_STATUS_WITHDRAWN)
        return (expect){SJ_ETERMINAL, 0, 0};
    if (!(roles_of(a) & R(ac->role)))
        return (expect){SJ_EWRONG_ROLE, 0, 0};
    row rows[4];
    size_t n = rows_for(a, c->status, rows);
    if (n == 0)
        return (expect){SJ_ENOT_ALLOWED, 0, 0};
    if ((a == SJ_ACTION_SUPERVISE && c->supervised) || (a == SJ_ACTION_OVERDUE && c->overdue))
        return (expect){SJ_ENOT_ALLOWED, 0, 0};
    if ((a == SJ_ACTION_NOTIFIED || a == SJ_ACTION_NOTIFY_FAILED) &&
        c->notify != SJ_NOTIFY_PENDING)
        return (expect){SJ_ENOT_ALLOWED, 0, 0};
    if ((a == SJ_ACTION_EXTEND_REQUEST && c->extension_days > 0) ||
        ((a == SJ_ACTION_EXTEND_APPROVE || a == SJ_ACTION_EXTEND_REFUSE) &&
         c->extension_days == 0))
        return (expect){SJ_ENOT_ALLOWED, 0, 0};
    /* Taking over: an assigned case, assigned to someone else. */
    if (a == SJ_ACTION_TAKE_OVER &&
        (!c->assignee || !ac->person[0] || strcmp(c->assignee, ac->person) == 0))
        return (expect){SJ_ENOT_ALLOWED, 0, 0};
    /* 好差评: rectify (or reopen) while the rectification is open and mark
     * it overdue once; call back once rectified; no feedback nor closing
     * while the call back is due. */
    bool rectify_open = c->rectified_at_ms == 0 && c->status == SJ_STATUS_UNSATISFIED;
    bool callback_due = c->rectified_at_ms > 0 && c->called_back_at_ms == 0;
    if ((a == SJ_ACTION_RECTIFY || a == SJ_ACTION_REOPEN || a == SJ_ACTION_RECTIFY_OVERDUE) &&
        !rectify_open)
        return (expect){SJ_ENOT_ALLOWED, 0, 0};
    if (a == SJ_ACTION_RECTIFY_OVERDUE && c->rectify_late)
        return (expect){SJ_ENOT_ALLOWED, 0, 0};
    if (a == SJ_ACTION_CALLBACK && !callback_due)
        return (expect){SJ_ENOT_ALLOWED, 0, 0};
    if ((a == SJ_ACTION_FEEDBACK || a == SJ_ACTION_CLOSE) && callback_due)
        return (expect){SJ_ENOT_ALLOWED, 0, 0};
    const row *hit = NULL;
    for (size_t i = 0; i < n && !hit; i++)
        if (who_matches(rows[i].who, c, ac))
            hit = &rows[i];
    if (!hit)
        return (expect){SJ_EWRONG_LEVEL, 0, 0};
    if (a == SJ_ACTION_RESOLVE_AT_ONCE && c->item_min_level != SJ_LEVEL_VILLAGE)
        return (expect){SJ_ELEVEL_TOO_LOW, 0, 0};
    if (a == SJ_ACTION_RESOLVE && c->item_min_level > level_of_role(ac->role))
        return (expect){SJ_ELEVEL_TOO_LOW, 0, 0};

    e.holder = holder_after(hit->holder, c);
    switch ((int)hit->to) {
    case (int)TO_SAME:
        e.to = c->status;
        break;
    case (int)TO_RESUME:
        e.to = c->resume_status;
        break;
    case (int)TO_RESOLVER_HANDLING:
        e.to = c->resolved_level == SJ_LEVEL_VILLAGE    ? SJ_STATUS_REGISTERED
               : c->resolved_level == SJ_LEVEL_TOWNSHIP ? SJ_STATUS_ACCEPTED_TOWNSHIP
                                                        : SJ_STATUS_ACCEPTED_COUNTY;
        break;
    case (int)TO_FEEDBACK:
        if (satisfaction == SJ_SATISFACTION_UNSATISFIED ||
            satisfaction == SJ_SATISFACTION_VERY_UNSATISFIED) {
            e.to = SJ_STATUS_UNSATISFIED;
        } else {
            e.to = SJ_STATUS_CLOSED;
            e.holder = c->holder_level;
        }
        break;
    default:
        e.to = hit->to;
    }
    return e;
}

static bool exempt(sj_case_action a)
{
    return a == SJ_ACTION_URGE || a == SJ_ACTION_SUPERVISE || a == SJ_ACTION_OVERDUE ||
           a == SJ_ACTION_WARN || a == SJ_ACTION_DUE_RECOMPUTE || a == SJ_ACTION_SET_CARRIER ||
           a == SJ_ACTION_NOTIFIED || a == SJ_ACTION_NOTIFY_FAILED ||
           a == SJ_ACTION_RECTIFY_OVERDUE;
}

/* A number between known actions that names none (kept for others). */
static bool reserved(int a)
{
    return strcmp(sj_case_action_name((sj_case_action)a), "unknown") == 0;
}

/* An empty calendar: plain weeks, no year covered. */
static sj_calendar *test_calendar;

/* --- the exhaustive test ------------------------------------------------------- */

static const char *const new_materials[] = {"身份证复印件", "低保申请表"};

/* Every field the action takes (docs/LIFECYCLE.md, check 9), filled; the
 * others stay empty, as a form that sends only the chosen action's fields
 * would leave them.  The refusal of the others is test_case_fields.c's. */
static sj_action full_action(sj_case_action a, const sj_case *c, sj_satisfaction satisfaction)
{
    sj_action act;
    memset(&act, 0, sizeof(act));
    act.type = a;
    act.expected_version = c->version;
    act.at_ms = 1700000000000;
    bool system = a == SJ_ACTION_OVERDUE || a == SJ_ACTION_WARN || a == SJ_ACTION_DUE_RECOMPUTE ||
                  a == SJ_ACTION_NOTIFIED || a == SJ_ACTION_RECTIFY_OVERDUE;
    act.calendar = test_calendar;
    if (a == SJ_ACTION_NOTIFIED || a == SJ_ACTION_NOTIFY_FAILED)
        act.notify_attempt = 2;
    if (a == SJ_ACTION_NOTIFY_FAILED)
        act.notify_retry_at_ms = act.at_ms + 60000;
    if (a == SJ_ACTION_EXTEND_REQUEST)
        act.extend_days = 5;
    if (!system)
        act.note = "村民说明情况";
    if (a == SJ_ACTION_RESOLVE_AT_ONCE || a == SJ_ACTION_RESOLVE || a == SJ_ACTION_REPORT)
        act.result = "已办理完毕，证件已交村民";
    if (a == SJ_ACTION_DISPATCH)
        act.department = OTHER_DEPT;
    if (a == SJ_ACTION_REQUEST_MATERIALS) {
        act.materials = new_materials;
        act.n_materials = 2;
    }
    if (a == SJ_ACTION_FEEDBACK || a == SJ_ACTION_CALLBACK)
        act.satisfaction = satisfaction;
    if (a == SJ_ACTION_WARN)
        act.warn_percent = 50;
    if (a == SJ_ACTION_ASSIGN || a == SJ_ACTION_SET_CARRIER)
        act.person = "p-new";
    return act;
}

static void test_exhaustive(void **state)
{
    static const sj_level item_levels[] = {SJ_LEVEL_VILLAGE, SJ_LEVEL_TOWNSHIP, SJ_LEVEL_COUNTY};
    static const sj_satisfaction sats[] = {SJ_SATISFACTION_SATISFIED, SJ_SATISFACTION_UNSATISFIED,
                                           SJ_SATISFACTION_VERY_SATISFIED,
                                           SJ_SATISFACTION_VERY_UNSATISFIED};
    size_t combos = 0, successes = 0;
    size_t success_by_action[SJ_ACTION_COUNT] = {0};
    size_t refusal_by_code[128] = {0};
    bool status_seen[SJ_STATUS_COUNT] = {false};

    for (size_t ci = 0; ci < N_CONFIGS; ci++)
    for (size_t li = 0; li < 3; li++)
    for (int flags = 0; flags < 2; flags++)
    for (size_t si = 0; si < sizeof(sats) / sizeof(sats[0]); si++)
    for (size_t ki = 0; ki < N_ACTORS; ki++)
    for (int a = SJ_ACTION_REGISTER; a < SJ_ACTION_COUNT; a++) {
        if (reserved(a))
            continue;
        const sj_case c = make_case(&configs[ci], item_levels[li], flags);
        const actor_kind *k = &actors[ki];
        sj_action act = full_action((sj_case_action)a, &c, sats[si]);
        expect e = oracle(&c, (sj_case_action)a, k, sats[si]);
        status_seen[c.status] = true;

        char what[256];
        snprintf(what, sizeof(what), "%s held at %s (resolver %s, item %s, flags %d) / %s / %s",
                 sj_case_status_name(c.status), sj_level_name(c.holder_level),
                 sj_level_name(c.resolved_level), sj_level_name(c.item_min_level), flags,
                 sj_case_action_name((sj_case_action)a), k->label);

        sj_case_outcome out;
        memset(&out, 0xA5, sizeof(out));
        sj_case_outcome before = out;
        sj_error err;
        sj_error_clear(&err);
        int rc = sj_case_apply(&c, &act, &k->actor, &out, &err);
        if (rc != e.code) {
            print_error("%s: got %s (%s), want %s\n", what, sj_err_name(rc), err.message,
                        sj_err_name(e.code));
            fail();
        }
        combos++;

        /* check() and the buttons agree with apply on every outcome. */
        sj_error err2;
        int check_rc = sj_case_check(&c, (sj_case_action)a, &k->actor, &err2);
        if (check_rc != rc) {
            print_error("%s: check says %s, apply says %s\n", what, sj_err_name(check_rc),
                        sj_err_name(rc));
            fail();
        }
        sj_case_action allowed[SJ_ACTION_COUNT];
        size_t n_allowed = sj_case_allowed_actions(&c, &k->actor, allowed, SJ_ACTION_COUNT);
        bool listed = false;
        for (size_t i = 0; i < n_allowed; i++)
            listed |= allowed[i] == (sj_case_action)a;
        if (listed != (rc == 0)) {
            print_error("%s: allowed_actions lists it: %d, apply: %s\n", what, listed,
                        sj_err_name(rc));
            fail();
        }

        if (rc != 0) {
            assert_int_equal(err.code, rc);
            assert_true(err.message[0] != '\0');
            assert_int_equal(err2.code, rc);
            assert_string_equal(err2.message, err.message);
            assert_memory_equal(&out, &before, sizeof(out)); /* untouched */
            refusal_by_code[-rc]++;
            continue;
        }
        successes++;
        success_by_action[a]++;
        if (out.next.status != e.to || out.next.holder_level != e.holder) {
            print_error("%s: got %s held at %s, want %s held at %s\n", what,
                        sj_case_status_name(out.next.status), sj_level_name(out.next.holder_level),
                        sj_case_status_name(e.to), sj_level_name(e.holder));
            fail();
        }
        assert_string_equal(out.next.holder_unit, unit_at(e.holder));
        assert_string_equal(out.next.village, VILLAGE);
        assert_int_equal(out.next.version, exempt((sj_case_action)a) ? c.version : c.version + 1);
        assert_int_equal(out.next.updated_at_ms, act.at_ms);
        bool terminal = e.to == SJ_STATUS_CLOSED || e.to == SJ_STATUS_WITHDRAWN;
        assert_int_equal(out.next.closed_at_ms, terminal ? act.at_ms : c.closed_at_ms);
        assert_int_equal(out.n_events, 1);
        assert_int_equal(out.events[0].action, a);
        assert_int_equal(out.events[0].from_status, c.status);
        assert_int_equal(out.events[0].to_status, e.to);
        /* The list differs from the last one and a round was already asked. */
        assert_int_equal(out.events[0].repeat_materials_request,
                         a == SJ_ACTION_REQUEST_MATERIALS);
        assert_int_equal(out.next.urge_count, c.urge_count + (a == SJ_ACTION_URGE));
        /* 好差评: a 差评 starts a rectification (no due time without the
         * county's limit), RECTIFY records it (late: past the due time),
         * the sweep marks it late, CALLBACK records the call; the
         * evaluation that started it stays, REOPEN included. */
        bool bad = a == SJ_ACTION_FEEDBACK && (sats[si] == SJ_SATISFACTION_UNSATISFIED ||
                                               sats[si] == SJ_SATISFACTION_VERY_UNSATISFIED);
        assert_int_equal(out.next.rectify_due_at_ms, bad ? 0 : c.rectify_due_at_ms);
        assert_int_equal(out.next.rectified_at_ms,
                         a == SJ_ACTION_RECTIFY ? act.at_ms : bad ? 0 : c.rectified_at_ms);
        assert_int_equal(out.next.rectify_late,
                         a == SJ_ACTION_RECTIFY ? act.at_ms > c.rectify_due_at_ms
                         : a == SJ_ACTION_RECTIFY_OVERDUE ? true
                         : bad                            ? false
                                                          : c.rectify_late);
        assert_int_equal(out.next.called_back_at_ms,
                         a == SJ_ACTION_CALLBACK ? act.at_ms : c.called_back_at_ms);
        assert_int_equal(out.events[0].rectify_late, out.next.rectify_late &&
                                                         (a == SJ_ACTION_RECTIFY ||
                                                          a == SJ_ACTION_RECTIFY_OVERDUE));
        if (a == SJ_ACTION_FEEDBACK || a == SJ_ACTION_CALLBACK)
            assert_int_equal(out.next.satisfaction, a == SJ_ACTION_FEEDBACK ? sats[si]
                                                                             : c.satisfaction);
        else if (a == SJ_ACTION_REOPEN)
            assert_int_equal(out.next.satisfaction, c.satisfaction);
        /* The clock never restarts: registration and limit stay. */
        assert_int_equal(out.next.registered_at_ms, c.registered_at_ms);
        assert_int_equal(out.next.limit_days, c.limit_days);
        assert_int_equal(out.next.return_count, c.return_count + (a == SJ_ACTION_RETURN_DOWN));
        /* Entering a result the villager is told of queues a message. */
        sj_notify_kind kind = e.to == c.status                   ? SJ_NOTIFY_KIND_NONE
                              : e.to == SJ_STATUS_RESOLVED          ? SJ_NOTIFY_KIND_RESOLVED
                              : e.to == SJ_STATUS_RETURNED          ? SJ_NOTIFY_KIND_RETURNED
                              : e.to == SJ_STATUS_WAITING_MATERIALS ? SJ_NOTIFY_KIND_MATERIALS
                                                                    : SJ_NOTIFY_KIND_NONE;
        assert_int_equal(out.events[0].notify, kind);
        if (kind != SJ_NOTIFY_KIND_NONE) {
            assert_int_equal(out.next.notify, SJ_NOTIFY_PENDING);
            assert_int_equal(out.next.notify_attempts, 0);
        } else if (a == SJ_ACTION_NOTIFIED) {
            assert_int_equal(out.next.notify, SJ_NOTIFY_SENT);
            assert_int_equal(out.next.notify_attempts, 2);
            assert_int_equal(out.next.notify_at_ms, act.at_ms);
        } else if (a == SJ_ACTION_NOTIFY_FAILED) {
            assert_int_equal(out.next.notify, SJ_NOTIFY_PENDING); /* retried */
            assert_int_equal(out.next.notify_retry_at_ms, act.notify_retry_at_ms);
            assert_int_equal(out.events[0].notify_attempt, 2);
        } else {
            assert_int_equal(out.next.notify, c.notify);
            assert_int_equal(out.next.notify_attempts, c.notify_attempts);
        }
        bool moves = a == SJ_ACTION_DUE_RECOMPUTE || a == SJ_ACTION_EXTEND_APPROVE ||
                     a == SJ_ACTION_SUPPLEMENT; /* paused for some working days here */
        if (!moves)
            assert_int_equal(out.next.due_at_ms, c.due_at_ms);
        else
            assert_int_equal(out.events[0].due_at_ms, out.next.due_at_ms);
        /* A pending request is decided, lapses when the holder changes or
         * the case is finished, and is never made twice. */
        bool open = (out.next.status >= SJ_STATUS_REGISTERED &&
                     out.next.status <= SJ_STATUS_WAITING_MATERIALS) ||
                    out.next.status == SJ_STATUS_DISPATCHED ||
                    out.next.status == SJ_STATUS_DEPARTMENT_HANDLING ||
                    out.next.status == SJ_STATUS_REPORTED;
        uint32_t pending = a == SJ_ACTION_EXTEND_REQUEST ? 5
                           : a == SJ_ACTION_EXTEND_APPROVE || a == SJ_ACTION_EXTEND_REFUSE
                               ? 0
                           : out.next.holder_level == c.holder_level && open ? c.extension_days
                                                                             : 0;
        assert_int_equal(out.next.extension_days, pending);
        assert_int_equal(out.next.extended_days,
                         c.extended_days + (a == SJ_ACTION_EXTEND_APPROVE ? c.extension_days : 0));
        assert_int_equal(out.next.paused_at_ms,
                         a == SJ_ACTION_REQUEST_MATERIALS ? act.at_ms
                         : out.next.status == SJ_STATUS_WAITING_MATERIALS ? c.paused_at_ms
                                                                           : 0);
        /* The department: named by DISPATCH, dropped by a refusal or a return
         * down, counted by a refusal, kept otherwise. */
        assert_int_equal(out.next.department_refusals,
                         c.department_refusals + (a == SJ_ACTION_REFUSE_DISPATCH));
        if (a == SJ_ACTION_DISPATCH) {
            assert_string_equal(out.next.department_code, OTHER_DEPT);
            assert_null(out.next.department); /* the county fills in the name */
        } else if (a == SJ_ACTION_REFUSE_DISPATCH ||
                   (a == SJ_ACTION_RETURN_DOWN && c.holder_level == SJ_LEVEL_COUNTY)) {
            assert_null(out.next.department_code);
            assert_null(out.next.department);
        } else {
            assert_ptr_equal(out.next.department_code, c.department_code);
            assert_ptr_equal(out.next.department, c.department);
        }
        /* The 回单's result: set by REPORT, cleared when the report is sent back. */
        if (a == SJ_ACTION_REPORT)
            assert_string_equal(out.next.result, act.result);
        if (a == SJ_ACTION_RETURN_REPORT)
            assert_null(out.next.result);
        /* Who works it: named by ASSIGN, the taker by TAKE_OVER, cleared when
         * the case goes to another unit or department; the carrier stays
         * unless the village names another. */
        bool dept_before = with_department(&c), dept_after = with_department(&out.next);
        bool moved = out.next.holder_level != c.holder_level || dept_before != dept_after ||
                     strcmp(out.next.department_code ? out.next.department_code : "",
                            c.department_code ? c.department_code : "") != 0;
        if (a == SJ_ACTION_ASSIGN) {
            assert_string_equal(out.next.assignee, "p-new");
            assert_null(out.next.assignee_name);
        } else if (a == SJ_ACTION_TAKE_OVER) {
            assert_string_equal(out.next.assignee, k->actor.person);
            assert_null(out.next.assignee_name);
        } else if (moved) {
            assert_null(out.next.assignee);
            assert_null(out.next.assignee_name);
        } else {
            assert_ptr_equal(out.next.assignee, c.assignee);
            assert_ptr_equal(out.next.assignee_name, c.assignee_name);
        }
        if (a == SJ_ACTION_SET_CARRIER) {
            assert_string_equal(out.next.carrier, "p-new");
            assert_null(out.next.carrier_name);
        } else {
            assert_ptr_equal(out.next.carrier, c.carrier);
            assert_ptr_equal(out.next.carrier_name, c.carrier_name);
        }
    }

    /* The table was really exercised: every status, every action succeeded
     * somewhere, and every refusal code of checks 2-8 occurred. */
    print_message("%zu combinations, %zu applied\n", combos, successes);
    for (int s = SJ_STATUS_REGISTERED; s < SJ_STATUS_COUNT; s++)
        assert_true(status_seen[s]);
    for (int a = SJ_ACTION_RESOLVE_AT_ONCE; a < SJ_ACTION_COUNT; a++) {
        if (reserved(a))
            continue;
        if (success_by_action[a] == 0)
            print_error("no combination applied %s\n", sj_case_action_name((sj_case_action)a));
        assert_true(success_by_action[a] > 0);
    }
    assert_int_equal(success_by_action[SJ_ACTION_REGISTER], 0);
    static const int codes[] = {SJ_ESCOPE,       SJ_ETERMINAL,   SJ_EWRONG_ROLE,
                                SJ_ENOT_ALLOWED, SJ_EWRONG_LEVEL, SJ_ELEVEL_TOO_LOW};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_true(refusal_by_code[-codes[i]] > 0);
}

/* --- allowed actions ----------------------------------------------------------- */

static void test_allowed_actions_match_check(void **state)
{
    for (size_t ci = 0; ci < N_CONFIGS; ci++)
    for (int flags = 0; flags < 2; flags++)
    for (size_t ki = 0; ki < N_ACTORS; ki++) {
        sj_case c = make_case(&configs[ci], SJ_LEVEL_TOWNSHIP, flags);
        sj_case_action allowed[SJ_ACTION_COUNT];
        size_t n = sj_case_allowed_actions(&c, &actors[ki].actor, allowed, SJ_ACTION_COUNT);
        size_t j = 0;
        for (int a = SJ_ACTION_NONE + 1; a < SJ_ACTION_COUNT; a++) {
            bool ok = sj_case_check(&c, (sj_case_action)a, &actors[ki].actor, NULL) == 0;
            if (ok) {
                assert_true(j < n);
                assert_int_equal(allowed[j], a); /* in enum order */
                j++;
            }
        }
        assert_int_equal(j, n);
    }
}

static void test_allowed_actions_respects_max(void **state)
{
    config cf = {SJ_STATUS_ACCEPTED_TOWNSHIP, SJ_LEVEL_TOWNSHIP, SJ_LEVEL_NONE, false};
    sj_case c = make_case(&cf, SJ_LEVEL_VILLAGE, false);
    sj_actor t = {SJ_ROLE_TOWNSHIP_STAFF, TOWNSHIP, "", "p-t"};
    sj_case_action all[SJ_ACTION_COUNT], two[3] = {0, 0, SJ_ACTION_WARN};
    size_t n = sj_case_allowed_actions(&c, &t, all, SJ_ACTION_COUNT);
    /* escalate, return_down, request_materials, resolve, return_undoable,
     * extend_request, assign (not take_over: the case is assigned to nobody) */
    assert_int_equal(n, 7);
    assert_int_equal(all[0], SJ_ACTION_ESCALATE);
    assert_int_equal(all[4], SJ_ACTION_RETURN_UNDOABLE);
    assert_int_equal(all[5], SJ_ACTION_EXTEND_REQUEST);
    assert_int_equal(all[6], SJ_ACTION_ASSIGN);
    assert_int_equal(sj_case_allowed_actions(&c, &t, two, 2), 2);
    assert_int_equal(two[0], SJ_ACTION_ESCALATE);
    assert_int_equal(two[1], SJ_ACTION_RETURN_DOWN);
    assert_int_equal(two[2], SJ_ACTION_WARN); /* not written past max */
}

/* --- malformed input ----------------------------------------------------------- */

static void test_malformed_actor_table(void **state)
{
    static const struct {
        sj_person_role role;
        const char *unit;
        const char *department;
    } bad[] = {
        {SJ_ROLE_VILLAGE_CADRE, TOWNSHIP, ""},
        {SJ_ROLE_TOWNSHIP_STAFF, VILLAGE, ""},
        {SJ_ROLE_TOWNSHIP_STAFF, COUNTY, ""},
        {SJ_ROLE_COUNTY_OPERATOR, TOWNSHIP, ""},
        {SJ_ROLE_SYSTEM, VILLAGE, ""},
        {SJ_ROLE_NONE, VILLAGE, ""},
        {(sj_person_role)7, COUNTY, ""},
        {SJ_ROLE_VILLAGE_CADRE, "41042310120x", ""},
        {SJ_ROLE_VILLAGE_CADRE, "", ""},
        /* department staff: a county unit and a department code */
        {SJ_ROLE_DEPARTMENT_STAFF, COUNTY, ""},
        {SJ_ROLE_DEPARTMENT_STAFF, COUNTY, "MZJ"},
        {SJ_ROLE_DEPARTMENT_STAFF, COUNTY, "县民政局"},
        {SJ_ROLE_DEPARTMENT_STAFF, COUNTY, "mz j"},
        {SJ_ROLE_DEPARTMENT_STAFF, TOWNSHIP, "mzj"},
    };
    config cf = {SJ_STATUS_REGISTERED, SJ_LEVEL_VILLAGE, SJ_LEVEL_NONE, false};
    sj_case c = make_case(&cf, SJ_LEVEL_VILLAGE, false);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sj_actor a = {bad[i].role, "", "", ""};
        strcpy(a.unit, bad[i].unit);
        strcpy(a.department, bad[i].department);
        sj_action act = full_action(SJ_ACTION_ESCALATE, &c, SJ_SATISFACTION_NONE);
        sj_case_outcome out;
        print_message("role %d unit '%s'\n", (int)bad[i].role, bad[i].unit);
        assert_int_equal(sj_case_apply(&c, &act, &a, &out, NULL), SJ_EINVAL);
        assert_int_equal(sj_case_check(&c, SJ_ACTION_ESCALATE, &a, NULL), SJ_EINVAL);
        assert_false(sj_case_in_scope(VILLAGE, &a));
        assert_int_equal(sj_case_allowed_actions(&c, &a, (sj_case_action[SJ_ACTION_COUNT]){0},
                                                 SJ_ACTION_COUNT),
                         0);
    }
}

static void test_inconsistent_case_table(void **state)
{
    config cf = {SJ_STATUS_REGISTERED, SJ_LEVEL_VILLAGE, SJ_LEVEL_NONE, false};
    sj_actor v = {SJ_ROLE_VILLAGE_CADRE, VILLAGE, "", "p-v"};
    for (int i = 0; i < 12; i++) {
        sj_case c = make_case(&cf, SJ_LEVEL_VILLAGE, false);
        switch (i) {
        case 0: strcpy(c.village, TOWNSHIP); break;                  /* not a village */
        case 1: c.status = SJ_STATUS_NONE; break;
        case 2: c.status = (sj_case_status)SJ_STATUS_COUNT; break;
        case 3: c.holder_level = SJ_LEVEL_TOWNSHIP; break;           /* unit disagrees */
        case 4: c.holder_level = SJ_LEVEL_TOWNSHIP;                  /* REGISTERED not held there */
                strcpy(c.holder_unit, TOWNSHIP); break;
        case 5: c.item_min_level = SJ_LEVEL_NONE; break;
        case 6: c.status = SJ_STATUS_WAITING_MATERIALS;              /* no resume status */
                c.resume_status = SJ_STATUS_NONE; break;
        case 7: c.status = SJ_STATUS_RESOLVED;                       /* no resolver */
                c.resolved_level = SJ_LEVEL_NONE; break;
        case 8: c.n_materials = 3; c.materials = NULL; break;
        case 9: c.status = SJ_STATUS_DISPATCHED;                     /* no department */
                c.holder_level = SJ_LEVEL_COUNTY;
                strcpy(c.holder_unit, COUNTY); break;
        case 10: c.status = SJ_STATUS_REPORTED;                      /* not a code */
                 c.holder_level = SJ_LEVEL_COUNTY;
                 strcpy(c.holder_unit, COUNTY);
                 c.department_code = "县民政局"; break;
        case 11: c.status = SJ_STATUS_WAITING_MATERIALS;             /* resumes to a department */
                 c.resume_status = SJ_STATUS_DEPARTMENT_HANDLING;    /* but held at the village */
                 c.department_code = DEPT; break;
        }
        sj_error err;
        print_message("inconsistency %d\n", i);
        assert_int_equal(sj_case_check(&c, SJ_ACTION_WITHDRAW, &v, &err), SJ_EINVAL);
        assert_true(strstr(err.message, "case record") != NULL);
    }
}

static void test_null_arguments(void **state)
{
    config cf = {SJ_STATUS_REGISTERED, SJ_LEVEL_VILLAGE, SJ_LEVEL_NONE, false};
    sj_case c = make_case(&cf, SJ_LEVEL_VILLAGE, false);
    sj_actor v = {SJ_ROLE_VILLAGE_CADRE, VILLAGE, "", "p-v"};
    sj_action act = full_action(SJ_ACTION_ESCALATE, &c, SJ_SATISFACTION_NONE);
    sj_case_outcome out;
    assert_int_equal(sj_case_apply(NULL, &act, &v, &out, NULL), SJ_EINVAL);
    assert_int_equal(sj_case_apply(&c, NULL, &v, &out, NULL), SJ_EINVAL);
    assert_int_equal(sj_case_apply(&c, &act, NULL, &out, NULL), SJ_EINVAL);
    assert_int_equal(sj_case_apply(&c, &act, &v, NULL, NULL), SJ_EINVAL);
    assert_int_equal(sj_case_check(&c, SJ_ACTION_NONE, &v, NULL), SJ_EINVAL);
    assert_int_equal(sj_case_check(&c, (sj_case_action)SJ_ACTION_COUNT, &v, NULL), SJ_EINVAL);
    {
        /* A number past the last action is unknown. */
        sj_action unknown = act;
        unknown.type = (sj_case_action)SJ_ACTION_COUNT;
        assert_int_equal(sj_case_apply(&c, &unknown, &v, &out, NULL), SJ_EINVAL);
        assert_string_equal(sj_case_action_name((sj_case_action)SJ_ACTION_COUNT), "unknown");
    }
    assert_false(sj_case_in_scope(NULL, &v));
    assert_false(sj_case_in_scope(VILLAGE, NULL));
    assert_false(sj_case_in_scope(TOWNSHIP, &v));
}

static void test_scope_table(void **state)
{
    for (size_t ki = 0; ki < N_ACTORS; ki++) {
        print_message("%s\n", actors[ki].label);
        assert_int_equal(sj_case_in_scope(VILLAGE, &actors[ki].actor), actors[ki].in_scope);
    }
}

/* --- names --------------------------------------------------------------------- */

static void test_names_round_trip(void **state)
{
    for (int s = 0; s < SJ_STATUS_COUNT; s++)
        assert_int_equal(sj_case_status_from_name(sj_case_status_name((sj_case_status)s)), s);
    for (int a = 0; a < SJ_ACTION_COUNT; a++)
        if (!reserved(a))
            assert_int_equal(sj_case_action_from_name(sj_case_action_name((sj_case_action)a)), a);
    for (int l = 0; l <= SJ_LEVEL_COUNTY; l++)
        assert_int_equal(sj_level_from_name(sj_level_name((sj_level)l)), l);
    for (int h = 0; h <= SJ_HANDLING_RETURNED; h++)
        assert_int_equal(sj_handling_from_name(sj_handling_name((sj_handling)h)), h);
    /* The national scale, best first: 4, 1, 2, 3, 5; 好评 the first three. */
    static const sj_satisfaction order[] = {4, 1, 2, 3, 5};
    for (int i = 0; i < SJ_SATISFACTION_LEVELS; i++) {
        assert_int_equal(sj_satisfaction_scale[i], order[i]);
        assert_int_equal(sj_satisfaction_is_good(order[i]), i < 3);
        assert_int_equal(sj_satisfaction_is_bad(order[i]), i >= 3);
    }
    assert_false(sj_satisfaction_is_good(SJ_SATISFACTION_NONE));
    assert_false(sj_satisfaction_is_bad(SJ_SATISFACTION_NONE));
    assert_false(sj_satisfaction_is_bad((sj_satisfaction)6));
    for (int s = 0; s <= SJ_SATISFACTION_VERY_UNSATISFIED; s++)
        assert_int_equal(sj_satisfaction_from_name(sj_satisfaction_name((sj_satisfaction)s)), s);
    static const sj_person_role roles[] = {SJ_ROLE_NONE, SJ_ROLE_VILLAGE_CADRE,
                                           SJ_ROLE_TOWNSHIP_STAFF, SJ_ROLE_COUNTY_OPERATOR,
                                           SJ_ROLE_DEPARTMENT_STAFF, SJ_ROLE_SYSTEM};
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        assert_int_equal(sj_role_from_name(sj_role_name(roles[i])), roles[i]);
}

static void test_names_table(void **state)
{
    assert_string_equal(sj_case_status_name(SJ_STATUS_ESCALATED_TOWNSHIP), "escalated_township");
    assert_string_equal(sj_case_status_name(SJ_STATUS_WAITING_MATERIALS), "waiting_materials");
    assert_string_equal(sj_case_status_name(SJ_STATUS_WITHDRAWN), "withdrawn");
    assert_string_equal(sj_case_action_name(SJ_ACTION_RESOLVE_AT_ONCE), "resolve_at_once");
    assert_string_equal(sj_case_action_name(SJ_ACTION_RETURN_UNDOABLE), "return_undoable");
    assert_string_equal(sj_case_action_name(SJ_ACTION_WARN), "warn");
    assert_string_equal(sj_case_action_name(SJ_ACTION_EXTEND_REQUEST), "extend_request");
    assert_string_equal(sj_case_action_name(SJ_ACTION_EXTEND_APPROVE), "extend_approve");
    assert_string_equal(sj_case_action_name(SJ_ACTION_EXTEND_REFUSE), "extend_refuse");
    assert_string_equal(sj_case_action_name(SJ_ACTION_DUE_RECOMPUTE), "due_recompute");
    assert_string_equal(sj_case_action_name(SJ_ACTION_ASSIGN), "assign");
    assert_string_equal(sj_case_action_name(SJ_ACTION_TAKE_OVER), "take_over");
    assert_string_equal(sj_case_action_name(SJ_ACTION_SET_CARRIER), "set_carrier");
    assert_string_equal(sj_case_status_name(SJ_STATUS_DISPATCHED), "dispatched");
    assert_string_equal(sj_case_status_name(SJ_STATUS_DEPARTMENT_HANDLING),
                        "department_handling");
    assert_string_equal(sj_case_status_name(SJ_STATUS_REPORTED), "reported");
    assert_string_equal(sj_case_action_name(SJ_ACTION_DISPATCH), "dispatch");
    assert_string_equal(sj_case_action_name(SJ_ACTION_TAKE), "take");
    assert_string_equal(sj_case_action_name(SJ_ACTION_REFUSE_DISPATCH), "refuse_dispatch");
    assert_string_equal(sj_case_action_name(SJ_ACTION_REPORT), "report");
    assert_string_equal(sj_case_action_name(SJ_ACTION_RETURN_REPORT), "return_report");
    assert_string_equal(sj_role_name(SJ_ROLE_DEPARTMENT_STAFF), "department_staff");
    assert_string_equal(sj_level_name(SJ_LEVEL_TOWNSHIP), "township");
    assert_string_equal(sj_role_name(SJ_ROLE_COUNTY_OPERATOR), "county_operator");
    assert_string_equal(sj_role_name(SJ_ROLE_SYSTEM), "system");
    assert_string_equal(sj_handling_name(SJ_HANDLING_ON_BEHALF), "on_behalf");
    assert_string_equal(sj_satisfaction_name(SJ_SATISFACTION_BASICALLY), "basically_satisfied");
    /* Out of range and unknown. */
    assert_string_equal(sj_case_status_name((sj_case_status)99), "unknown");
    assert_string_equal(sj_case_action_name((sj_case_action)-1), "unknown");
    assert_string_equal(sj_role_name((sj_person_role)5), "unknown");
    assert_int_equal(sj_case_status_from_name("Registered"), SJ_STATUS_NONE);
    assert_int_equal(sj_case_action_from_name(""), SJ_ACTION_NONE);
    assert_int_equal(sj_case_action_from_name(NULL), SJ_ACTION_NONE);
    assert_int_equal(sj_role_from_name("admin"), SJ_ROLE_NONE);
    assert_int_equal(sj_satisfaction_from_name("very"), SJ_SATISFACTION_NONE);
}

static void test_status_classes(void **state)
{
    for (int s = 0; s < SJ_STATUS_COUNT; s++) {
        bool terminal = s == SJ_STATUS_CLOSED || s == SJ_STATUS_WITHDRAWN;
        assert_int_equal(sj_case_is_terminal((sj_case_status)s), terminal);
        assert_int_equal(sj_case_is_active((sj_case_status)s), is_active((sj_case_status)s));
    }
    assert_false(sj_case_is_active((sj_case_status)40));
    assert_int_equal(sj_role_level(SJ_ROLE_SYSTEM), SJ_LEVEL_COUNTY);
    assert_int_equal(sj_role_level(SJ_ROLE_TOWNSHIP_STAFF), SJ_LEVEL_TOWNSHIP);
    assert_int_equal(sj_role_level(SJ_ROLE_NONE), SJ_LEVEL_NONE);
    assert_int_equal(sj_role_level(SJ_ROLE_DEPARTMENT_STAFF), SJ_LEVEL_COUNTY);
}

static void test_department_code_form(void **state)
{
    static const char *const good[] = {"mzj", "rsj", "a", "x-1", "0",
                                       "abcdefghijabcdefghijabcdefghij1"};
    static const char *const bad[] = {NULL, "", "MZJ", "mz j", "县民政局", "mzj_", "mzj.",
                                      "abcdefghijabcdefghijabcdefghij12"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(sj_department_code_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(sj_department_code_valid(bad[i]));
}

static int setup(void **state)
{
    (void)state;
    test_calendar = sj_calendar_new();
    return test_calendar ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sj_calendar_free(test_calendar);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exhaustive),
        cmocka_unit_test(test_allowed_actions_match_check),
        cmocka_unit_test(test_allowed_actions_respects_max),
        cmocka_unit_test(test_malformed_actor_table),
        cmocka_unit_test(test_inconsistent_case_table),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_scope_table),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_names_table),
        cmocka_unit_test(test_status_classes),
        cmocka_unit_test(test_department_code_form),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
