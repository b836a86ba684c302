/*
 * desk-county-page.h - the county desk: cases escalated to the county, waiting to be accepted and assigned to a department (the case view's accept action asks for the department, filled in from the catalogue); cases the county holds; the overdue and supervision list (urge and supervise from the case view); and every case.  The network and statistics pages are separate widgets.
 *
 * Lists are read from the local store (the feed keeps it current), so they
 * work while the link is down.
 *
 * Entry points: desk_county_page_new(), desk_county_page_refresh().
 * The page is owned by the window.
 */
#ifndef DESK_COUNTY_PAGE_H
#define DESK_COUNTY_PAGE_H

#include <gtk/gtk.h>

#include "desk-window.h"

G_BEGIN_DECLS

#define DESK_TYPE_COUNTY_PAGE (desk_county_page_get_type())
G_DECLARE_FINAL_TYPE(DeskCountyPage, desk_county_page, DESK, COUNTY_PAGE, GtkBox)

DeskCountyPage *desk_county_page_new(DeskWindow *w);
void desk_county_page_refresh(DeskCountyPage *p);

G_END_DECLS

#endif
