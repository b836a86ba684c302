/*
 * desk-stats-page.h - county statistics: 办结率, 满意度 and overdue for the
 * whole county, by township and by category, a bar chart of the completion
 * rate by township, and export of the numbers to a CSV file.  Asked from
 * the county (sc_query statistics) when the link comes up and on refresh.
 * Above them, the period statistics with their period and grouping
 * selector (desk-period-stats.h).
 *
 * Ownership: the page keeps its own copy of the last answer.
 *
 * Entry points: desk_stats_page_new(), desk_stats_page_refresh(),
 * desk_stats_page_export().  The page is owned by the window.
 */
#ifndef DESK_STATS_PAGE_H
#define DESK_STATS_PAGE_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_STATS_PAGE (desk_stats_page_get_type())
G_DECLARE_FINAL_TYPE(DeskStatsPage, desk_stats_page, DESK, STATS_PAGE, GtkBox)

DeskStatsPage *desk_stats_page_new(DeskWindow *w);
void desk_stats_page_refresh(DeskStatsPage *p);
/* Writes the last answer as CSV to path.  0, SJ_ENOTFOUND (nothing
 * received yet) or SJ_EIO, with err. */
int desk_stats_page_export(DeskStatsPage *p, const char *path, sj_error *err);

G_END_DECLS

#endif
