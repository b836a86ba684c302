/*
 * desk-case-model.h - the cases of a search as a GListModel that holds only
 * the pages being looked at.  A GtkColumnView over it makes widgets for
 * the visible rows only; asking for a row whose page is not here returns a
 * placeholder row and loads that page (PAGE rows) from the search: the
 * local store's indexes at a station or township desk, the county at a
 * county desk (sc_searches_at_peer()), which then falls back to the cases
 * it keeps itself while the county cannot be reached.  When the page comes
 * the model says its rows changed and the view shows them.
 *
 * At most DESK_CASE_MODEL_PAGES pages are kept (the least recently used go
 * first; rows still shown keep their page), so memory does not grow with
 * the county.  The number of rows is the search's count, capped at
 * DESK_CASE_MODEL_COUNT_CAP (a person narrows a search long before that).
 *
 * "loaded" is emitted when the count or the source (county or local) may
 * have changed: a list updates its title then.
 *
 * Ownership: the model borrows the client (which outlives the window);
 * rows hold a reference on their page, so a row handed to a view stays
 * valid when the model drops the page.  Queries are copied.
 *
 * Entry points: desk_case_model_new(), desk_case_model_set_query(),
 * desk_case_model_refresh(), desk_case_model_total(),
 * desk_case_model_capped(), desk_case_model_remote(),
 * desk_case_model_error(), desk_case_row_case(), desk_case_count().
 */
#ifndef DESK_CASE_MODEL_H
#define DESK_CASE_MODEL_H

#include <gio/gio.h>

#include "sanji_client.h"

G_BEGIN_DECLS

#define DESK_CASE_MODEL_PAGE 100
#define DESK_CASE_MODEL_PAGES 8
#define DESK_CASE_MODEL_COUNT_CAP 10000

#define DESK_TYPE_CASE_ROW (desk_case_row_get_type())
G_DECLARE_FINAL_TYPE(DeskCaseRow, desk_case_row, DESK, CASE_ROW, GObject)

/* The row's case; NULL while its page is being loaded. */
const Sanji__Case *desk_case_row_case(DeskCaseRow *r);

#define DESK_TYPE_CASE_MODEL (desk_case_model_get_type())
G_DECLARE_FINAL_TYPE(DeskCaseModel, desk_case_model, DESK, CASE_MODEL, GObject)

DeskCaseModel *desk_case_model_new(sc_client *c);

/* Shows the search q from its first row (q's limit and offset are the
 * model's business and ignored). */
void desk_case_model_set_query(DeskCaseModel *m, const Sanji__CaseListQuery *q);

/* Reads the pages again (the cases changed); rows stay shown until the new
 * ones come. */
void desk_case_model_refresh(DeskCaseModel *m);

guint desk_case_model_total(DeskCaseModel *m);
gboolean desk_case_model_capped(DeskCaseModel *m);
/* The rows come from the county (false: from the local store). */
gboolean desk_case_model_remote(DeskCaseModel *m);
/* The last failure to read ("" when none). */
const char *desk_case_model_error(DeskCaseModel *m);

/* Counts the matches of q (up to DESK_CASE_MODEL_COUNT_CAP) where the
 * model would search, and calls cb with the count once known (at once for
 * the local store) unless owner was finalized meanwhile.  A failed count
 * calls cb with -1. */
typedef void (*desk_case_count_cb)(GObject *owner, gint64 count, gboolean capped, gpointer data);
void desk_case_count(sc_client *c, const Sanji__CaseListQuery *q, GObject *owner,
                     desk_case_count_cb cb, gpointer data);

/* A private copy of any protobuf-c message (packed and unpacked again):
 * what the client library lends is kept past the call this way.  Free it
 * with protobuf_c_message_free_unpacked(copy, NULL). */
gpointer desk_pb_copy(const ProtobufCMessage *m);

G_END_DECLS

#endif
