/*
 * desk-report.h - the 通报 and the 台账 on the desktop (docs/DESKTOP.md
 * "Statistics"): a month or quarter chosen by the user, the 通报's
 * questions asked of the county all at once (client/bulletin.h; scoped to
 * the desk as for the CLI), its charts drawn in a GtkDrawingArea with the
 * very chart module of the PDF (client/chart.h: the trend of twelve
 * months, the handling mix, the satisfaction split, 办结率 by township,
 * the village grid), and buttons to save the 通报 as a PDF or a workbook
 * and, at a station, the month's 台账 (client/ledger.h) as a PDF, through
 * desk_window_save_file().
 *
 * Ownership: a widget owned by its parent; it keeps the last bulletin.
 *
 * Test hooks (desk_window_register): "report.at", "report.ask",
 * "report.message", "report.charts", "report.pdf", "report.xlsx",
 * "report.ledger".
 *
 * Entry points: desk_report_new().
 */
#ifndef DESK_REPORT_H
#define DESK_REPORT_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_REPORT (desk_report_get_type())
G_DECLARE_FINAL_TYPE(DeskReport, desk_report, DESK, REPORT, GtkBox)

DeskReport *desk_report_new(DeskWindow *w);

G_END_DECLS

#endif
