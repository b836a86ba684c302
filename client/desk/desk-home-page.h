/*
 * desk-home-page.h - the village station's home: its saved views (待办,
 * 在办, 即将超期, 已超期, 待回访, 已办结, 我登记的, 全部) as large buttons
 * with their counts (desk-view-cards.h), the searchable list of the chosen
 * one below (desk-case-list.h), and the button to register a new request.
 * Everything is read from the local store through its search indexes, so
 * it works offline and opens at once with tens of thousands of cases.
 *
 * Widgets for the test hook: "home.view.<i>", "home.count.<i>" (i the
 * view's index, 0 待办 .. 7 全部), "home.list", "home.register".
 *
 * Entry points: desk_home_page_new(), desk_home_page_refresh(),
 * desk_home_page_show(), desk_home_page_reload_refdata().
 * The page is owned by the window.
 */
#ifndef DESK_HOME_PAGE_H
#define DESK_HOME_PAGE_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_HOME_PAGE (desk_home_page_get_type())
G_DECLARE_FINAL_TYPE(DeskHomePage, desk_home_page, DESK, HOME_PAGE, GtkBox)

DeskHomePage *desk_home_page_new(DeskWindow *w);
/* Re-reads the list and the counts (cases changed). */
void desk_home_page_refresh(DeskHomePage *p);
/* A person logged in: the first view afresh. */
void desk_home_page_show(DeskHomePage *p);
/* The catalogue or org tree changed. */
void desk_home_page_reload_refdata(DeskHomePage *p);

G_END_DECLS

#endif
