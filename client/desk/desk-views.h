/*
 * desk-views.h - the saved views of the case lists ("我的事项", "待签收",
 * "本周超期", ...): for each desk role the views its case list offers, and
 * the search (CaseListQuery, PROTOCOL.md "Case search") each one is.  A
 * view is a query, so the same view lists and counts the same cases
 * whether the desk reads its own store (stations, township desks) or asks
 * the county (county desks).  No widgets here: the rules are unit-tested.
 *
 * The village views are the home page's cards, in the order of
 * desk_format_buckets()'s buckets (待办, 在办, 即将超期, 已超期, 待回访,
 * 已办结), then 我登记的 and 全部.
 *
 * Ownership: views are static; desk_view_query() points the query's status
 * array at static storage, so the filled query lives as long as the caller
 * keeps it (and is copied by whoever keeps it longer).
 *
 * Entry points: desk_views(), desk_view_query(), desk_view_week_start().
 */
#ifndef DESK_VIEWS_H
#define DESK_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "sanji_client.h"

typedef enum desk_view_kind {
    DESK_VIEW_TODO,          /* active, held by my unit */
    DESK_VIEW_ELSEWHERE,     /* active, held by another unit */
    DESK_VIEW_DUE_SOON,      /* active, not overdue, due within two days */
    DESK_VIEW_OVERDUE,       /* active and overdue */
    DESK_VIEW_FEEDBACK,      /* resolved or returned: record satisfaction */
    DESK_VIEW_DONE,          /* closed or withdrawn */
    DESK_VIEW_MINE,          /* first received by the person logged in */
    DESK_VIEW_ALL,           /* everything in scope */
    DESK_VIEW_INCOMING,      /* escalated to my level and unit: 待签收 */
    DESK_VIEW_HELD,          /* accepted and handled here: 本级在办 / 部门办理中 */
    DESK_VIEW_WEEK_OVERDUE,  /* active and due this week (Monday to Sunday, China time) */
    DESK_VIEW_SUPERVISED,    /* active and supervised: 督办 */
    DESK_VIEW_TO_DISPATCH,   /* the county: accepted, not yet dispatched: 待派单 */
    DESK_VIEW_TO_REVIEW,     /* the county: a department's 回单 to review: 待审核回单 */
    DESK_VIEW_ASSIGNED,      /* 我的事项: assigned to, carried or first received by the person
                                logged in, or assigned to one they stand in for (B岗) */
    /* Not offered as list views; the station's wall board (desk-board.h): */
    DESK_VIEW_ACTIVE,        /* every active case, earliest due first */
    DESK_VIEW_FINISHED,      /* finished with a result or a reason: resolved, returned, closed */
} desk_view_kind;

typedef struct desk_view {
    desk_view_kind kind;
    const char *name;        /* widget name part: "<page>.view.<name>" */
    const char *title;       /* untranslated English msgid; show with _() */
} desk_view;

/* The views of a desk whose node has this role; *n gets their count.  The
 * first is the one shown at first. */
const desk_view *desk_views(sj_node_role role, size_t *n);

/* What the view needs to know about the desk. */
typedef struct desk_view_ctx {
    sj_node_role role;
    const char *person;      /* person logged in ("" when none) */
    int64_t now_ms;
} desk_view_ctx;

/* Fills q (initialised here) with the view's conditions. */
void desk_view_query(desk_view_kind kind, const desk_view_ctx *ctx, Sanji__CaseListQuery *q);

/* Monday 00:00 China time (UTC+8) of the week holding t. */
int64_t desk_view_week_start(int64_t t);

#endif
