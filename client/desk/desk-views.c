/*
 * desk-views.c - the saved views of the case lists (see desk-views.h).
 *
 * Entry points: desk_views(), desk_view_query(), desk_view_week_start().
 */
#include "desk-views.h"

#include <string.h>

#include "desk-format.h"
#include "i18n.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define CHINA_MS (8 * 3600 * 1000LL)

/* Statuses of cases still worked on (sj_case_is_active()). */
static Sanji__CaseStatus ACTIVE[] = {
    SANJI__CASE_STATUS__CASE_STATUS_REGISTERED,        SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP,
    SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY,
    SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_COUNTY,   SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS,
    SANJI__CASE_STATUS__CASE_STATUS_UNSATISFIED,       SANJI__CASE_STATUS__CASE_STATUS_DISPATCHED,
    SANJI__CASE_STATUS__CASE_STATUS_DEPARTMENT_HANDLING, SANJI__CASE_STATUS__CASE_STATUS_REPORTED,
};
/* Not finished for good: active, or resolved/returned and waiting for the
 * villager's feedback (我的事项 keeps them until they are closed). */
static Sanji__CaseStatus NOT_TERMINAL[] = {
    SANJI__CASE_STATUS__CASE_STATUS_REGISTERED,        SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP,
    SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY,
    SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_COUNTY,   SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS,
    SANJI__CASE_STATUS__CASE_STATUS_UNSATISFIED,       SANJI__CASE_STATUS__CASE_STATUS_DISPATCHED,
    SANJI__CASE_STATUS__CASE_STATUS_DEPARTMENT_HANDLING, SANJI__CASE_STATUS__CASE_STATUS_REPORTED,
    SANJI__CASE_STATUS__CASE_STATUS_RESOLVED,          SANJI__CASE_STATUS__CASE_STATUS_RETURNED,
};
/* 待回访: results to ask the villager about, and 差评 being rectified or
 * waiting for the village's call back (回访) wherever they are held. */
static Sanji__CaseStatus FEEDBACK[] = {SANJI__CASE_STATUS__CASE_STATUS_RESOLVED,
                                       SANJI__CASE_STATUS__CASE_STATUS_RETURNED,
                                       SANJI__CASE_STATUS__CASE_STATUS_UNSATISFIED};
static Sanji__CaseStatus DONE[] = {SANJI__CASE_STATUS__CASE_STATUS_CLOSED,
                                   SANJI__CASE_STATUS__CASE_STATUS_WITHDRAWN};
static Sanji__CaseStatus FINISHED[] = {SANJI__CASE_STATUS__CASE_STATUS_RESOLVED,
                                       SANJI__CASE_STATUS__CASE_STATUS_RETURNED,
                                       SANJI__CASE_STATUS__CASE_STATUS_CLOSED};
static Sanji__CaseStatus IN_TOWNSHIP[] = {SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP};
/* At the county: to accept (签收), and 回单 to review. */
/* The county's queues, each case of the county in one of them: escalated
 * to it (待签收), accepted and not yet dispatched (待派单), with a
 * department (部门办理中: dispatched, taken, or waiting for the materials
 * asked at the county), and what comes back to the operator to judge (待审核:
 * a department's 回单, or a result the villager was not satisfied with). */
static Sanji__CaseStatus IN_COUNTY[] = {SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY};
static Sanji__CaseStatus TO_DISPATCH[] = {SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_COUNTY};
static Sanji__CaseStatus WITH_DEPARTMENTS[] = {
    SANJI__CASE_STATUS__CASE_STATUS_DISPATCHED,
    SANJI__CASE_STATUS__CASE_STATUS_DEPARTMENT_HANDLING,
    SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS};
static Sanji__CaseStatus TO_REVIEW[] = {SANJI__CASE_STATUS__CASE_STATUS_REPORTED,
                                        SANJI__CASE_STATUS__CASE_STATUS_UNSATISFIED};
/* A department's: dispatched to it (待接单); taken, waiting for the
 * materials it asked, or reported and under review (办理中). */
static Sanji__CaseStatus IN_DEPARTMENT[] = {SANJI__CASE_STATUS__CASE_STATUS_DISPATCHED};
static Sanji__CaseStatus HELD_DEPARTMENT[] = {
    SANJI__CASE_STATUS__CASE_STATUS_DEPARTMENT_HANDLING,
    SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS, SANJI__CASE_STATUS__CASE_STATUS_REPORTED,
};
/* Held and handled at a level: active, but not the escalations still to
 * accept there. */
static Sanji__CaseStatus HELD_TOWNSHIP[] = {
    SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY,
    SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_COUNTY,   SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS,
    SANJI__CASE_STATUS__CASE_STATUS_UNSATISFIED,       SANJI__CASE_STATUS__CASE_STATUS_REGISTERED,
    SANJI__CASE_STATUS__CASE_STATUS_DISPATCHED,        SANJI__CASE_STATUS__CASE_STATUS_DEPARTMENT_HANDLING,
    SANJI__CASE_STATUS__CASE_STATUS_REPORTED,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Titles are msgids (N_ marks them for xgettext; they are shown with _()). */
static const desk_view VILLAGE[] = {
    {DESK_VIEW_TODO, "todo", N_("Waiting for me")},
    {DESK_VIEW_ELSEWHERE, "elsewhere", N_("With the township or county")},
    {DESK_VIEW_DUE_SOON, "due_soon", N_("Due soon")},
    {DESK_VIEW_OVERDUE, "overdue", N_("Overdue")},
    {DESK_VIEW_FEEDBACK, "feedback", N_("Result back, record satisfaction")},
    {DESK_VIEW_DONE, "done", N_("Finished")},
    {DESK_VIEW_MINE, "mine", N_("Registered by me")},
    {DESK_VIEW_ALL, "all", N_("All cases")},
    {DESK_VIEW_ASSIGNED, "assigned", N_("My cases (assigned, carried, standing in)")},
};

static const desk_view TOWNSHIP[] = {
    {DESK_VIEW_INCOMING, "incoming", N_("To accept")},
    {DESK_VIEW_HELD, "held", N_("Handled here")},
    {DESK_VIEW_OVERDUE, "overdue", N_("Overdue")},
    {DESK_VIEW_WEEK_OVERDUE, "week", N_("Due this week")},
    {DESK_VIEW_SUPERVISED, "supervised", N_("Supervised")},
    {DESK_VIEW_ASSIGNED, "assigned", N_("My cases (assigned, carried, standing in)")},
    {DESK_VIEW_ALL, "all", N_("All cases")},
};

static const desk_view COUNTY[] = {
    {DESK_VIEW_INCOMING, "incoming", N_("To accept")},
    {DESK_VIEW_TO_DISPATCH, "dispatch", N_("To dispatch")},
    {DESK_VIEW_HELD, "held", N_("With the departments")},
    {DESK_VIEW_TO_REVIEW, "review", N_("To review (reports, unsatisfied)")},
    {DESK_VIEW_OVERDUE, "overdue", N_("Overdue")},
    {DESK_VIEW_WEEK_OVERDUE, "week", N_("Due this week")},
    {DESK_VIEW_SUPERVISED, "supervised", N_("Supervised")},
    {DESK_VIEW_ASSIGNED, "assigned", N_("My cases (assigned, carried, standing in)")},
    {DESK_VIEW_ALL, "all", N_("All cases")},
};

static const desk_view DEPARTMENT[] = {
    {DESK_VIEW_INCOMING, "incoming", N_("To take")},
    {DESK_VIEW_HELD, "held", N_("Being handled")},
    {DESK_VIEW_DUE_SOON, "due_soon", N_("Due soon")},
    {DESK_VIEW_OVERDUE, "overdue", N_("Overdue")},
    {DESK_VIEW_ASSIGNED, "assigned", N_("My cases (assigned, carried, standing in)")},
    {DESK_VIEW_ALL, "all", N_("All cases")},
};

const desk_view *desk_views(sj_node_role role, size_t *n)
{
    switch (role) {
    case SJ_NODE_ROLE_DEPARTMENT_DESK: *n = N(DEPARTMENT); return DEPARTMENT;
    case SJ_NODE_ROLE_VILLAGE: *n = N(VILLAGE); return VILLAGE;
    case SJ_NODE_ROLE_TOWNSHIP_DESK: *n = N(TOWNSHIP); return TOWNSHIP;
    default: *n = N(COUNTY); return COUNTY;
    }
}

int64_t desk_view_week_start(int64_t t)
{
    int64_t local = t + CHINA_MS;
    int64_t day = local >= 0 ? local / DAY_MS : (local - DAY_MS + 1) / DAY_MS;
    /* 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday. */
    int64_t weekday = ((day % 7) + 7 + 3) % 7;
    return (day - weekday) * DAY_MS - CHINA_MS;
}

static void statuses(Sanji__CaseListQuery *q, Sanji__CaseStatus *v, size_t n)
{
    q->statuses = v;
    q->n_statuses = n;
}

/* The statuses of one view at one level. */
typedef struct status_set {
    Sanji__CaseStatus *v;
    size_t n;
} status_set;

/* The incoming and held views: which statuses they hold depends on the
 * desk's level, [0] a department's, [1] the county's, [2] a township's. */
static void level_view(desk_view_kind kind, sj_node_role role, Sanji__CaseListQuery *q)
{
    static const status_set incoming[] = {
        {IN_DEPARTMENT, N(IN_DEPARTMENT)}, {IN_COUNTY, N(IN_COUNTY)}, {IN_TOWNSHIP, N(IN_TOWNSHIP)}};
    static const status_set held[] = {{HELD_DEPARTMENT, N(HELD_DEPARTMENT)},
                                      {WITH_DEPARTMENTS, N(WITH_DEPARTMENTS)},
                                      {HELD_TOWNSHIP, N(HELD_TOWNSHIP)}};
    size_t level = role == SJ_NODE_ROLE_DEPARTMENT_DESK ? 0
                   : role == SJ_NODE_ROLE_COUNTY_DESK   ? 1
                                                        : 2;
    const status_set *s = kind == DESK_VIEW_INCOMING ? &incoming[level] : &held[level];
    statuses(q, s->v, s->n);
    q->waiting_for_me = true;
}

void desk_view_query(desk_view_kind kind, const desk_view_ctx *ctx, Sanji__CaseListQuery *q)
{
    sanji__case_list_query__init(q);
    switch (kind) {
    case DESK_VIEW_TODO:
        statuses(q, ACTIVE, N(ACTIVE));
        q->waiting_for_me = true;
        break;
    case DESK_VIEW_ELSEWHERE:
        statuses(q, ACTIVE, N(ACTIVE));
        q->held_elsewhere = true;
        break;
    case DESK_VIEW_DUE_SOON:
        statuses(q, ACTIVE, N(ACTIVE));
        q->not_overdue = true;
        q->due_from_ms = ctx->now_ms;
        q->due_to_ms = ctx->now_ms + DESK_DUE_SOON_MS;
        q->sort = SANJI__CASE_SORT__CASE_SORT_DUE;
        q->ascending = true;
        break;
    case DESK_VIEW_OVERDUE:
        statuses(q, ACTIVE, N(ACTIVE));
        q->overdue_only = true;
        q->sort = SANJI__CASE_SORT__CASE_SORT_DUE;
        q->ascending = true;
        break;
    case DESK_VIEW_FEEDBACK: statuses(q, FEEDBACK, N(FEEDBACK)); break;
    case DESK_VIEW_DONE: statuses(q, DONE, N(DONE)); break;
    case DESK_VIEW_MINE:
        /* "" would mean no condition: with nobody logged in, nobody's. */
        q->person = (char *)(ctx->person && *ctx->person ? ctx->person : "-");
        break;
    case DESK_VIEW_ALL: break;
    case DESK_VIEW_ASSIGNED:
        /* 我的事项, until finished for good; with nobody logged in,
         * nobody's (the search matches nothing without a person). */
        statuses(q, NOT_TERMINAL, N(NOT_TERMINAL));
        q->mine = true;
        q->for_person = (char *)(ctx->person ? ctx->person : "");
        break;
    case DESK_VIEW_INCOMING:
    case DESK_VIEW_HELD: level_view(kind, ctx->role, q); break;
    case DESK_VIEW_WEEK_OVERDUE:
        statuses(q, ACTIVE, N(ACTIVE));
        q->due_from_ms = desk_view_week_start(ctx->now_ms);
        q->due_to_ms = q->due_from_ms + 7 * DAY_MS;
        q->sort = SANJI__CASE_SORT__CASE_SORT_DUE;
        q->ascending = true;
        break;
    case DESK_VIEW_SUPERVISED:
        statuses(q, ACTIVE, N(ACTIVE));
        q->supervised_only = true;
        break;
    case DESK_VIEW_TO_DISPATCH:
        statuses(q, TO_DISPATCH, N(TO_DISPATCH));
        q->waiting_for_me = true;
        break;
    case DESK_VIEW_TO_REVIEW:
        statuses(q, TO_REVIEW, N(TO_REVIEW));
        q->waiting_for_me = true;
        break;
    case DESK_VIEW_ACTIVE:
        statuses(q, ACTIVE, N(ACTIVE));
        q->sort = SANJI__CASE_SORT__CASE_SORT_DUE;
        q->ascending = true;
        break;
    case DESK_VIEW_FINISHED: statuses(q, FINISHED, N(FINISHED)); break;
    }
}
