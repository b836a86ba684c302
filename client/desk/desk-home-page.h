/*
 * desk-home-page.h - the village station's home: counts of 待办, 在办,
 * 即将超期, 已超期, 待回访 and 已办结 as large buttons, the list of the
 * chosen one below, and the button to register a new request.  Everything
 * is read from the local store, so it works offline.
 *
 * Entry points: desk_home_page_new(), desk_home_page_refresh().
 * The page is owned by the window.
 */
#ifndef DESK_HOME_PAGE_H
#define DESK_HOME_PAGE_H

#include <gtk/gtk.h>

#include "desk-window.h"

G_BEGIN_DECLS

#define DESK_TYPE_HOME_PAGE (desk_home_page_get_type())
G_DECLARE_FINAL_TYPE(DeskHomePage, desk_home_page, DESK, HOME_PAGE, GtkBox)

DeskHomePage *desk_home_page_new(DeskWindow *w);
void desk_home_page_refresh(DeskHomePage *p);

G_END_DECLS

#endif
