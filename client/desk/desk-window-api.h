/*
 * desk-window-api.h - what a page may ask of the window it lives in: the
 * client and its store, the banner, opening a case or a page, saving a
 * file, the names test scripts drive, a refresh.  The pages include this,
 * not desk-window.h, so that the window (which builds every page) and its
 * pages do not depend on each other; desk-window.c implements it.
 *
 * The window: the link bar (always visible), a banner
 * for notifications and errors, the log-in page, and the pages of this
 * desk's role (village station: home, register, case; township desk:
 * township, case; county desk: county, network, statistics, case).
 *
 * The window receives every client-library event (desk_window_handle_event)
 * on GTK's thread, updates the link bar at once and refreshes the pages
 * shortly after (coalesced, so a feed catching up does not redraw per case).
 *
 * Widgets that a test script may drive are registered by name
 * (desk_window_register); desk-test.c finds them with desk_window_lookup.
 *
 * Ownership: the window is owned by GTK (its application); pointers it
 * returns are borrowed.
 *
 * Entry points: desk_window_client(), desk_window_store_path(),
 * desk_window_logged_in(), desk_window_open_case(), desk_window_open_case_row(),
 * desk_window_show_page(),
 * desk_window_page(), desk_window_notify(), desk_window_show_error(), desk_query_reason(),
 * desk_window_register(), desk_window_lookup(), desk_window_refresh_soon().
 */
#ifndef DESK_WINDOW_API_H
#define DESK_WINDOW_API_H

#include <stdbool.h>

#include <gtk/gtk.h>

#include "sanji_client.h"

G_BEGIN_DECLS

#define DESK_TYPE_WINDOW (desk_window_get_type())
G_DECLARE_FINAL_TYPE(DeskWindow, desk_window, DESK, WINDOW, GtkApplicationWindow)

sc_client *desk_window_client(DeskWindow *w);
const char *desk_window_store_path(DeskWindow *w);

/* The person logged in: shows the pages of this desk's role. */
void desk_window_logged_in(DeskWindow *w);

void desk_window_open_case(DeskWindow *w, const uint8_t case_id[16]);
/* Opens a case shown as a row of a list; a desk that searches at the county
 * keeps the row's copy and asks the county for the full record. */
void desk_window_open_case_row(DeskWindow *w, const Sanji__Case *c);
void desk_window_show_page(DeskWindow *w, const char *name);
/* "setup", "login", or the visible page of the role ("home", "register",
 * "case", "township", "county", "network", "stats"). */
const char *desk_window_page(DeskWindow *w);

/* A message in the banner (and a desktop notification when not an error). */
void desk_window_notify(DeskWindow *w, const char *text, bool error);
/* After new work was saved: NULL while it can go out, else (the link is
 * refused for good, sc_lasting_refusal()) that it was saved but cannot be
 * delivered, with the reason and what to do (sc_lasting_advice()); g_free. */
char *desk_window_undeliverable_text(DeskWindow *w);
/* Tells in the banner that new work was saved: that it goes up by itself,
 * or, as an error, desk_window_undeliverable_text(). */
void desk_window_notify_saved(DeskWindow *w);
/* err's message in the banner, as an error. */
void desk_window_show_error(DeskWindow *w, const char *what, const sj_error *err);

/* Why a query was not answered: the county's or relay's reason, else the
 * text of status (untranslated, as the msgid). */
const char *desk_query_reason(const Sanji__QueryResult *res, int status);

/* Writes a file the person names: a save dialog (title, the suggested
 * file name), then write(data, path, err); an error is shown, a success
 * said (已保存到 …).  data must outlive the dialog (a page of w).  Under
 * a test script with SANJI_DESK_PRINT_EXPORT=DIR, written to DIR/suggested
 * without a dialog (desk_application_print_export_dir()). */
typedef int (*desk_window_write_fn)(gpointer data, const char *path, sj_error *err);
void desk_window_save_file(DeskWindow *w, const char *title, const char *suggested,
                           desk_window_write_fn write, gpointer data);

void desk_window_register(DeskWindow *w, const char *name, GtkWidget *widget);
GtkWidget *desk_window_lookup(DeskWindow *w, const char *name);

/* Re-reads the local store into every page, shortly. */
void desk_window_refresh_soon(DeskWindow *w);

G_END_DECLS

#endif
