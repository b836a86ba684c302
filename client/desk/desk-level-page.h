/*
 * desk-level-page.h - the desk of a handling level above the village: the
 * township desk or the county desk.  Its queues are saved views
 * (desk-views.h), each a button with its count:
 *
 *   township: 待签收 (escalations from its villages to accept), 本级在办
 *             (held by the township), 已超期, 本周超期, 督办, all;
 *   county:   待签收 (escalations to the county, to accept and assign to
 *             a department), 部门办理中 (held by the county), 已超期,
 *             本周超期, 督办, all;
 *
 * and under them one searchable list (desk-case-list.h) of the chosen
 * view.  A township desk reads its own store (the feed keeps it current,
 * so it works while the link is down); a county desk asks the county.
 *
 * The stations and their link state are on the network page.  Widgets are
 * registered as "<level>.view.<view>" (the buttons), "<level>.count.<view>"
 * (their counts) and "<level>.list" (the list) for the test hook, <level>
 * being "township" or "county" and <view> a desk_view name.
 *
 * Entry points: desk_level_page_new(), desk_level_page_refresh(),
 * desk_level_page_show(), desk_level_page_reload_refdata().
 * The page is owned by the window.
 */
#ifndef DESK_LEVEL_PAGE_H
#define DESK_LEVEL_PAGE_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

typedef enum {
    DESK_LEVEL_TOWNSHIP,
    DESK_LEVEL_COUNTY,
    DESK_LEVEL_DEPARTMENT, /* a county department's desk: its queue (待接单, 办理中 ...) */
} desk_level;

#define DESK_TYPE_LEVEL_PAGE (desk_level_page_get_type())
G_DECLARE_FINAL_TYPE(DeskLevelPage, desk_level_page, DESK, LEVEL_PAGE, GtkBox)

DeskLevelPage *desk_level_page_new(DeskWindow *w, desk_level level);
/* Re-reads the list and the counts (cases changed). */
void desk_level_page_refresh(DeskLevelPage *p);
/* A person logged in: lists the chosen view afresh and counts the views. */
void desk_level_page_show(DeskLevelPage *p);
/* The catalogue or org tree changed. */
void desk_level_page_reload_refdata(DeskLevelPage *p);

G_END_DECLS

#endif
