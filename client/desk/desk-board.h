/*
 * desk-board.h - the station's public board (办事公开) for the screen on the
 * wall of the service hall: `sanji-desk --board` opens it full screen,
 * without anyone logging in.  It shows the station's commitments (every
 * active catalogue item with its time limit), the cases in progress
 * (number, item, the applicant's name masked as 王**, where it is, the
 * date it is to be done by; overdue ones marked), and the month's figures
 * (received, finished, 办结率, in progress, overdue).  The lists turn a page
 * every few seconds; the data is re-read when cases change and every
 * minute, from the station's own store, so the board works offline.
 *
 * It never shows personal data: no ID number, no phone, no request text,
 * and names only masked (sj_personal_mask_name()).
 *
 * Widgets for the test hook: "board.title", "board.items", "board.cases",
 * "board.figures".
 *
 * Entry points: desk_board_new(), desk_board_mark_changed().
 */
#ifndef DESK_BOARD_H
#define DESK_BOARD_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_BOARD (desk_board_get_type())
G_DECLARE_FINAL_TYPE(DeskBoard, desk_board, DESK, BOARD, GtkBox)

DeskBoard *desk_board_new(DeskWindow *w);
/* Cases or reference data changed: re-read at the next turn of a page. */
void desk_board_mark_changed(DeskBoard *b);

G_END_DECLS

#endif
