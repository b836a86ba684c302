/*
 * desk-view-cards.h - the queues of a desk: one large button per saved
 * view of its role (desk-views.h) with the view's count, and the list
 * (desk-case-list.h) that shows the chosen one.  The counts are searches
 * like the lists: the local store's indexes at a station or township desk,
 * the county at a county desk (then at most every few seconds, however
 * often cases change).
 *
 * Widgets for the test hook: "<prefix>.view.<i>" and "<prefix>.view.<name>"
 * (the buttons), "<prefix>.count.<i>" and "<prefix>.count.<name>" (their
 * counts), i the view's index and name its desk_view name.
 *
 * Ownership: a GtkWidget owned by its parent; the list is borrowed (the
 * page holds both).
 *
 * Entry points: desk_view_cards_new(), desk_view_cards_refresh(),
 * desk_view_cards_show().
 */
#ifndef DESK_VIEW_CARDS_H
#define DESK_VIEW_CARDS_H

#include <gtk/gtk.h>

#include "desk-case-list.h"
#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_VIEW_CARDS (desk_view_cards_get_type())
G_DECLARE_FINAL_TYPE(DeskViewCards, desk_view_cards, DESK, VIEW_CARDS, GtkBox)

DeskViewCards *desk_view_cards_new(DeskWindow *w, const char *prefix, sj_node_role role,
                                   DeskCaseList *list);

/* Counts the views again (cases changed). */
void desk_view_cards_refresh(DeskViewCards *v);

/* Lists view i afresh (after log-in: "mine" depends on the person) and
 * counts every view. */
void desk_view_cards_show(DeskViewCards *v, size_t i);

G_END_DECLS

#endif
