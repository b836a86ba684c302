/*
 * desk-period-stats.h - period statistics (docs/STATISTICS.md), on the
 * county desk's statistics page and as the statistics page of township
 * and department desks: a period (day, month, quarter, year and which
 * one) and a grouping chosen by the user, asked of the county
 * (Query.period_statistics; a township desk's question goes through its
 * relay), the rows and the total in the columns the CLI uses
 * (client/stats_out.h), and export to an .xlsx workbook.  It starts with
 * the current month, grouped one level below the desk (a county desk by
 * township, a township desk by village, a department desk by item).
 *
 * Ownership: the section keeps its own copy of the last answer; it is a
 * widget owned by its parent.
 *
 * Test hooks (desk_window_register): "pstats.at", "pstats.ask",
 * "pstats.message", "pstats.grid".
 *
 * Entry points: desk_period_stats_new(), desk_period_stats_export().
 */
#ifndef DESK_PERIOD_STATS_H
#define DESK_PERIOD_STATS_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_PERIOD_STATS (desk_period_stats_get_type())
G_DECLARE_FINAL_TYPE(DeskPeriodStats, desk_period_stats, DESK, PERIOD_STATS, GtkBox)

DeskPeriodStats *desk_period_stats_new(DeskWindow *w);

/* Writes the last answer as an .xlsx workbook to path.  0, SJ_ENOTFOUND
 * (nothing received yet) or SJ_EIO, with err. */
int desk_period_stats_export(DeskPeriodStats *p, const char *path, sj_error *err);

G_END_DECLS

#endif
