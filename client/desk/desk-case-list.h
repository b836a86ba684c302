/*
 * desk-case-list.h - a titled list of cases, one row each: number and item,
 * applicant, status, delivery state (saved / reached the township /
 * recorded by the county) and due time (red when overdue).  Activating a
 * row opens the case.
 *
 * desk_case_list_set() copies what it shows; the arrays passed in stay the
 * caller's.  The list is a GtkWidget owned by its parent.
 *
 * A snapshot is what one refresh of a page reads: every case of the local
 * store and the outbox (for the delivery state of each row).  Load it,
 * hand its parts to the lists (which copy what they show), free it.
 *
 * Entry points: desk_case_list_new(), desk_case_list_set(),
 * desk_case_list_set_title(), desk_case_list_count(),
 * desk_case_snapshot_load(), desk_case_snapshot_free().
 */
#ifndef DESK_CASE_LIST_H
#define DESK_CASE_LIST_H

#include <gtk/gtk.h>

#include "desk-window.h"

G_BEGIN_DECLS

#define DESK_TYPE_CASE_LIST (desk_case_list_get_type())
G_DECLARE_FINAL_TYPE(DeskCaseList, desk_case_list, DESK, CASE_LIST, GtkBox)

/* name registers the list box as "<name>" and its title as "<name>.title". */
DeskCaseList *desk_case_list_new(DeskWindow *w, const char *name, const char *title);
void desk_case_list_set_title(DeskCaseList *l, const char *title);
void desk_case_list_set(DeskCaseList *l, Sanji__Case *const *cases, size_t n,
                        const sc_outbox_entry *rows, size_t n_rows);
size_t desk_case_list_count(DeskCaseList *l);

typedef struct {
    sc_case_list cases;
    sc_outbox_entry *rows; /* the outbox; NULL when it could not be read */
    size_t n_rows;
} desk_case_snapshot;

/* false: the cases could not be read; the error is shown in the window and
 * there is nothing to free. */
bool desk_case_snapshot_load(DeskWindow *w, desk_case_snapshot *s);
void desk_case_snapshot_free(desk_case_snapshot *s);

G_END_DECLS

#endif
