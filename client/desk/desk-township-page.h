/*
 * desk-township-page.h - the township desk: cases its villages escalated, waiting to be accepted (签收); cases the township holds (承办); overdue cases in its villages; and every case of its villages.  The township's stations and their link state are on the network page.
 *
 * Lists are read from the local store (the feed keeps it current), so they
 * work while the link is down.
 *
 * Entry points: desk_township_page_new(), desk_township_page_refresh().
 * The page is owned by the window.
 */
#ifndef DESK_TOWNSHIP_PAGE_H
#define DESK_TOWNSHIP_PAGE_H

#include <gtk/gtk.h>

#include "desk-window.h"

G_BEGIN_DECLS

#define DESK_TYPE_TOWNSHIP_PAGE (desk_township_page_get_type())
G_DECLARE_FINAL_TYPE(DeskTownshipPage, desk_township_page, DESK, TOWNSHIP_PAGE, GtkBox)

DeskTownshipPage *desk_township_page_new(DeskWindow *w);
void desk_township_page_refresh(DeskTownshipPage *p);

G_END_DECLS

#endif
