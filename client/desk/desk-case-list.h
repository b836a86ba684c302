/*
 * desk-case-list.h - a titled, searchable list of cases: the search bar
 * (desk-search-bar.h) over a GtkColumnView of the matching cases (number,
 * item, applicant, village, status, delivery state, registered, due time
 * in red when overdue).  The rows come from a DeskCaseModel
 * (desk-case-model.h): only the visible rows have widgets and only the
 * pages looked at are read, from the local store or the county, so a list
 * opens as fast over a million cases as over ten.  Activating a row opens
 * the case.
 *
 * The list shows its view (a saved search, desk-views.h, set by the page)
 * narrowed by the search bar; the title counts the matches ("10000+" past
 * the model's cap) and says when the rows come from this desk's own copy
 * because the county cannot be reached.
 *
 * Names for the test hook: "<name>" the column view (its rows are read
 * through DESK_TEST_ROW_TEXT, desk-test.h), "<name>.title", and the search
 * bar's "<name>.search.*".
 *
 * Ownership: a GtkWidget owned by its parent; the view's query is copied.
 *
 * Entry points: desk_case_list_new(), desk_case_list_set_view(),
 * desk_case_list_set_title(), desk_case_list_refresh(),
 * desk_case_list_reload_refdata(), desk_case_list_enable_bulk(),
 * desk_case_list_count().
 */
#ifndef DESK_CASE_LIST_H
#define DESK_CASE_LIST_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_CASE_LIST (desk_case_list_get_type())
G_DECLARE_FINAL_TYPE(DeskCaseList, desk_case_list, DESK, CASE_LIST, GtkBox)

DeskCaseList *desk_case_list_new(DeskWindow *w, const char *name, const char *title);
void desk_case_list_set_title(DeskCaseList *l, const char *title);

/* Shows the view q (narrowed by the search bar), from its first row. */
void desk_case_list_set_view(DeskCaseList *l, const Sanji__CaseListQuery *q);

/* Re-reads the rows shown and the outbox (cases changed). */
void desk_case_list_refresh(DeskCaseList *l);

/* The catalogue or org tree changed: the search bar's pickers follow. */
void desk_case_list_reload_refdata(DeskCaseList *l);

/* The county console's bulk actions: 督办 and 催办 of the listed cases (the
 * first page, at most 100), each checked by the state machine and saved to
 * the outbox like a single action; the cases it does not allow are counted
 * and left alone.  Widgets "<name>.bulk.supervise", "<name>.bulk.urge",
 * "<name>.bulk.message". */
void desk_case_list_enable_bulk(DeskCaseList *l);

/* Rows of the list now (the count of the search, at most the cap). */
size_t desk_case_list_count(DeskCaseList *l);

G_END_DECLS

#endif
