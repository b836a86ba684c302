/*
 * desk-search-bar.h - the search of a case list: one box for a case
 * number, an applicant's name, ID number or phone (the key picked, or
 * guessed from what was typed: desk_search_guess_key()), and, under "more
 * conditions", the catalogue category and item, status, the level holding
 * the case, the township or village, the department, the person who first
 * received it, registration dates, overdue and supervised only; then the
 * order of the rows.  What it holds is added to the list's view as
 * CaseListQuery fields (PROTOCOL.md "Case search").
 *
 * "changed" is emitted when a search is asked for (查询, Enter in the box)
 * or the order changes; 清空 empties every condition and emits it too.
 *
 * Widgets are registered for the test hook as "<name>.search.text",
 * ".key", ".go", ".clear", ".more", ".category", ".item", ".status",
 * ".level", ".unit", ".department", ".person", ".from", ".to", ".overdue",
 * ".supervised", ".sort", ".ascending" and ".message".
 *
 * Ownership: owned by its parent widget; desk_search_bar_apply() points the
 * query at strings the bar owns, valid until the bar changes or goes.
 *
 * Entry points: desk_search_bar_new(), desk_search_bar_apply(),
 * desk_search_bar_reload(), desk_search_guess_key().
 */
#ifndef DESK_SEARCH_BAR_H
#define DESK_SEARCH_BAR_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_SEARCH_BAR (desk_search_bar_get_type())
G_DECLARE_FINAL_TYPE(DeskSearchBar, desk_search_bar, DESK, SEARCH_BAR, GtkBox)

DeskSearchBar *desk_search_bar_new(DeskWindow *w, const char *name);

/* Adds the bar's conditions and order to q (a view's query). */
void desk_search_bar_apply(DeskSearchBar *b, Sanji__CaseListQuery *q);

/* Re-reads the catalogue and org tree into the pickers (after REFDATA). */
void desk_search_bar_reload(DeskSearchBar *b);

typedef enum desk_search_key {
    DESK_KEY_GUESS = 0,
    DESK_KEY_NUMBER,
    DESK_KEY_NAME,
    DESK_KEY_ID,
    DESK_KEY_PHONE,
} desk_search_key;

/* What typed text most likely is: 18 characters of digits (X last) an ID
 * number, a mobile or landline number a phone, other digits and '-' the
 * end of a case number, anything else a name. */
desk_search_key desk_search_guess_key(const char *text);

G_END_DECLS

#endif
