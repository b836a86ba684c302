/*
 * desk-level-page.h - the desk of a handling level above the village: the
 * township desk or the county desk.  Four lists, read from the local store
 * (the feed keeps it current), so they work while the link is down:
 *
 *   township: escalations from its villages waiting to be accepted (签收),
 *             cases the township holds (承办), overdue cases of its
 *             villages, and every case of its villages;
 *   county:   escalations to the county, to accept and assign to a
 *             department, cases the county holds, the supervision list
 *             (督办: late, due soon, urged or supervised, wherever the case
 *             is), and every case.
 *
 * The stations and their link state are on the network page.  Widgets are
 * registered as "<level>.incoming", "<level>.held", "<level>.overdue" or
 * "county.supervision", and "<level>.all" for the test hook.
 *
 * Entry points: desk_level_page_new(), desk_level_page_refresh().
 * The page is owned by the window.
 */
#ifndef DESK_LEVEL_PAGE_H
#define DESK_LEVEL_PAGE_H

#include <gtk/gtk.h>

#include "desk-window.h"

G_BEGIN_DECLS

typedef enum {
    DESK_LEVEL_TOWNSHIP,
    DESK_LEVEL_COUNTY,
} desk_level;

#define DESK_TYPE_LEVEL_PAGE (desk_level_page_get_type())
G_DECLARE_FINAL_TYPE(DeskLevelPage, desk_level_page, DESK, LEVEL_PAGE, GtkBox)

DeskLevelPage *desk_level_page_new(DeskWindow *w, desk_level level);
void desk_level_page_refresh(DeskLevelPage *p);

G_END_DECLS

#endif
