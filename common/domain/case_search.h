/*
 * case_search.h - a case search (the Query's CaseListQuery, PROTOCOL.md
 * "Case search") answered from an SQLite copy of cases: the relay's cache
 * and a station's or township desk's local store read it the same way.
 * (The county answers the same query from PostgreSQL in server/query.c;
 * PROTOCOL.md is the one description both follow.)
 *
 * A store keeps, next to each cached case's protobuf snapshot, the fields
 * a search needs as columns of its `cases` table (village, number and
 * registered_at_ms it already had, and the columns below), with indexes:
 * a search reads the matching rows of one page, never every case.
 *
 *   SJ_CASE_SEARCH_COLUMNS_SQL,   the columns and indexes, for a store's
 *   SJ_CASE_SEARCH_INDEXES_SQL    schema
 *   sj_case_search_rebuild()      an older store's `cases` table rebuilt
 *                                 with them (an upgrade)
 *   sj_case_search_index()        writes one case's columns
 *   sj_case_search_run()          one page of matching rows, and the count
 *
 * Keys, as PROTOCOL.md defines them: number (the whole number or its end),
 * applicant name (its beginning), ID number and phone (whole, and only on
 * cases whose applicant the viewer may see: sj_personal_visible()), item,
 * category (the caller passes the category's item codes from its
 * catalogue), holder unit, department, first receiver, assignee, "mine"
 * (assigned to, carried or first received by the asking person, or
 * assigned to one they stand in for: the caller passes those persons),
 * village and unit
 * (under a township), statuses, holder level, registration and due time
 * ranges, overdue / not overdue, supervised, waiting for me / held
 * elsewhere.  A copy's overdue flag may lag the county's sweep, so here an
 * active case whose due time has passed counts as overdue too.  Rows come
 * in the query's order (registration time, due time, number or status;
 * either direction) with the case id breaking ties, LIMIT/OFFSET paged.
 *
 * Ownership: the database handle is borrowed; row blobs handed to the
 * callback are valid during the call only.  Errors are SJ_EDB (with the
 * SQLite message) or what the callback returned.
 *
 * Entry points: sj_case_search_rebuild(), sj_case_search_bind(),
 * sj_case_search_index(), sj_case_search_run(), sj_case_search_limit(), sj_case_search_scope().
 */
#ifndef SJ_CASE_SEARCH_H
#define SJ_CASE_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "err.h"
#include "identity.h"
#include "sanji.pb-c.h"

#define SJ_CASE_SEARCH_LIMIT_DEFAULT 200
#define SJ_CASE_SEARCH_LIMIT_MAX 1000

/* Column definitions and indexes for a store's `cases` table: the columns
 * go before the store's snapshot blobs (", status INTEGER ..., " between
 * its own columns and the blobs: a column stored after a large blob is read
 * only by walking past it), the indexes after the table.  The table must
 * also have case_id, village, number, registered_at_ms, and an index on
 * (village, registered_at_ms). */
#define SJ_CASE_SEARCH_COLUMNS_SQL                                                                 \
    ", status INTEGER NOT NULL DEFAULT 0, holder_level INTEGER NOT NULL DEFAULT 0,"               \
    " holder_unit TEXT NOT NULL DEFAULT '', item_code TEXT NOT NULL DEFAULT '',"                   \
    " applicant_name TEXT NOT NULL DEFAULT '', id_number TEXT NOT NULL DEFAULT '',"                \
    " phone TEXT NOT NULL DEFAULT '', first_receiver TEXT NOT NULL DEFAULT '',"                    \
    " department TEXT NOT NULL DEFAULT '', overdue INTEGER NOT NULL DEFAULT 0,"                    \
    " supervised INTEGER NOT NULL DEFAULT 0, due_at_ms INTEGER NOT NULL DEFAULT 0,"                \
    " assignee TEXT NOT NULL DEFAULT '', carrier TEXT NOT NULL DEFAULT '', "
#define SJ_CASE_SEARCH_INDEXES_SQL                                                                 \
    "CREATE INDEX cases_s_registered ON cases(registered_at_ms);"                                \
    "CREATE INDEX cases_s_status ON cases(status, registered_at_ms);"                            \
    "CREATE INDEX cases_s_due ON cases(due_at_ms);"                                              \
    "CREATE INDEX cases_s_holder ON cases(holder_unit, status);"                                 \
    "CREATE INDEX cases_s_name ON cases(applicant_name);"                                        \
    "CREATE INDEX cases_s_id ON cases(id_number);"                                               \
    "CREATE INDEX cases_s_phone ON cases(phone);"                                                \
    "CREATE INDEX cases_s_item ON cases(item_code);"                                             \
    "CREATE INDEX cases_s_receiver ON cases(first_receiver);"                                   \
    "CREATE INDEX cases_s_assignee ON cases(assignee);"                                          \
    "CREATE INDEX cases_s_carrier ON cases(carrier);"

/* The search columns by name, and as many parameters, for a store that
 * writes them in its own INSERT; sj_case_search_bind() binds them. */
#define SJ_CASE_SEARCH_COLUMN_NAMES                                                                \
    "status, holder_level, holder_unit, item_code, applicant_name, id_number, phone,"             \
    " first_receiver, department, overdue, supervised, due_at_ms, assignee, carrier"
#define SJ_CASE_SEARCH_COLUMN_PARAMS "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
#define SJ_CASE_SEARCH_N_COLUMNS 14

/* Binds c's values of SJ_CASE_SEARCH_COLUMN_NAMES to parameters first ..
 * first + SJ_CASE_SEARCH_N_COLUMNS - 1 of s (strings borrowed from c). */
void sj_case_search_bind(sqlite3_stmt *s, int first, const Sanji__Case *c);

/* Rebuilds an older store's `cases` table in the layout of cases_sql (its
 * new CREATE TABLE and CREATE INDEX statements), keeping the values of the
 * columns named in keep (a comma list both layouts have), then fills the
 * search columns of every row from the snapshot expression blob_column
 * with sj_case_search_index().  The caller runs it inside its upgrade
 * transaction.  0, SJ_EDB, or SJ_ESTORE_CORRUPT for a snapshot that does
 * not decode. */
int sj_case_search_rebuild(sqlite3 *db, const char *cases_sql, const char *keep,
                           const char *blob_column, sj_error *err);

/* Writes the search columns (and village) of the row whose case_id is
 * c->case_id from c.  A missing row changes nothing.  0 or SJ_EDB. */
int sj_case_search_index(sqlite3 *db, const Sanji__Case *c, sj_error *err);

/* Who searches: the viewer's role and unit decide "waiting for me", "held
 * elsewhere" and which applicants' ID numbers and phones may be matched;
 * scope limits the villages (a relay answering for one of its stations:
 * that station's village), NULL when every cached case is in scope (a
 * client's own store holds its scope only).  category_items are the item codes of q->category (ignored
 * when q->category is empty; none means nothing matches).  now_ms decides
 * whether a due time has passed. */
typedef struct sj_case_search_viewer {
    sj_node_role role;
    const char *unit;
    const char *scope;
    const char *const *category_items;
    size_t n_category_items;
    int64_t now_ms;
    /* 我的事项 (q->mine for q->for_person): the persons for_person stands in
     * for (AB岗), from the caller's persons list; their assigned cases are
     * the stand-in's too. */
    const char *const *stand_for;
    size_t n_stand_for;
} sj_case_search_viewer;

/* Called for each row of the page, in order, with the blob of blob_column
 * (the caller's snapshot column or expression).  Non-zero stops the run and
 * is returned. */
typedef int (*sj_case_search_row_cb)(void *arg, const void *blob, size_t len);

/* Runs q: the rows of its page through cb, and in *total the number of
 * matches (up to q->count_limit when that is set: *capped then says the
 * limit was reached).  blob_column is an SQL expression of the table (a
 * constant of the caller, never input).  Returns 0, SJ_EDB with err, or
 * cb's code. */
int sj_case_search_run(sqlite3 *db, const char *blob_column, const Sanji__CaseListQuery *q,
                       const sj_case_search_viewer *v, sj_case_search_row_cb cb, void *arg,
                       uint32_t *total, bool *capped, sj_error *err);

/* 我的事项, for a copy that filters cases itself (a station's list): is c
 * assigned to, carried or first received by person, or assigned to one of
 * the persons person stands in for (stand_for)?  The same rule as the
 * search's q->mine. */
bool sj_case_search_is_mine(const Sanji__Case *c, const char *person,
                            const char *const *stand_for, size_t n_stand_for);

/* The persons `person` stands in for (AB岗: their stand_in is person) among
 * persons, into out (room for max); returns how many.  Pointers borrow
 * from persons. */
size_t sj_case_search_stand_for(Sanji__Person *const *persons, size_t n, const char *person,
                                const char **out, size_t max);

/* The page size a query asks for: its limit, the default when 0, at most
 * SJ_CASE_SEARCH_LIMIT_MAX. */
uint32_t sj_case_search_limit(const Sanji__CaseListQuery *q);

/* The villages under unit as a code range [lo, hi] (both 12 digits); false
 * for an invalid unit. */
bool sj_case_search_scope(const char *unit, char lo[13], char hi[13]);

#endif
