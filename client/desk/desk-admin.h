/*
 * desk-admin.h - the county desk's administration pages (docs/DESKTOP.md
 * "Administration"): 人员管理 (persons: add, edit name, role, unit,
 * department and stand-in, deactivate and activate, reset the password),
 * 部门管理 (departments: add, rename, deactivate and activate; the items
 * each owns are listed) and 事项管理 (catalogue items: retire and restore).
 *
 * Each page lists the desk's cached reference data and sends one
 * AdminRequest per button (sc_admin()); the county answers with what
 * changed or why it refused, shown under the buttons, and the new lists
 * come back as reference data (desk_admin_page_reload()).  A new person's
 * or a reset one-time password is made here and shown once; only its
 * verifier goes to the county.
 *
 * Widgets for the test script: admin.<page>.<part>, page one of person,
 * department, item (list, message, the entries and buttons below).
 *
 * Entry points: desk_admin_persons_new(), desk_admin_departments_new(),
 * desk_admin_items_new(), desk_admin_page_reload().
 */
#ifndef DESK_ADMIN_H
#define DESK_ADMIN_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

GtkWidget *desk_admin_persons_new(DeskWindow *w);
GtkWidget *desk_admin_departments_new(DeskWindow *w);
GtkWidget *desk_admin_items_new(DeskWindow *w);
/* Fills the page's list again from the cached reference data. */
void desk_admin_page_reload(GtkWidget *page);

#endif
