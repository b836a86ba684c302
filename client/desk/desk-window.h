/*
 * desk-window.h - the main window, as its application sees it: made once,
 * fed every client-library event (desk_window_handle_event) on GTK's thread.
 * It updates the link bar at once and refreshes the pages shortly after
 * (coalesced, so a feed catching up does not redraw per case).  What the
 * pages ask of it is in desk-window-api.h.
 *
 * Ownership: the window is owned by GTK (its application).
 *
 * Entry points: desk_window_new(), desk_window_handle_event(), and those of
 * desk-window-api.h.
 */
#ifndef DESK_WINDOW_H
#define DESK_WINDOW_H

#include "desk-application-api.h"
#include "desk-window-api.h"

G_BEGIN_DECLS

DeskWindow *desk_window_new(DeskApplication *app);

void desk_window_handle_event(DeskWindow *w, const sc_event *ev);

G_END_DECLS

#endif
