/*
 * db.h - the county's libpq boundary: connecting, running parameterised SQL,
 * and mapping libpq failures into the Sanji error table.
 *
 * Every statement the county runs goes through countyd_db_exec() or
 * countyd_db_query() with parameters passed separately from the SQL text
 * (never spliced into it), so hostile text cannot change a statement.
 *
 * Ownership: countyd_db_connect() returns a PGconn the caller closes with
 * PQfinish().  countyd_db_query() returns a PGresult the caller frees with
 * PQclear(); on failure nothing is returned and nothing needs freeing.
 *
 * Entry points: countyd_db_connect(), countyd_db_exec(), countyd_db_query(),
 * countyd_db_pipeline(), countyd_db_fail(), countyd_db_sqlstate(),
 * countyd_db_text_array(), countyd_db_text_array_nulls().
 */
#ifndef COUNTYD_DB_H
#define COUNTYD_DB_H

#include <stddef.h>

#include <libpq-fe.h>

#include "err.h"

/* Connects with a libpq conninfo string, sets client_encoding UTF8 and the
 * session time zone Asia/Shanghai (case numbers use the China date).
 * Returns 0 and *out, or SJ_EDB_CONN with libpq's text in err. */
int countyd_db_connect(const char *conninfo, PGconn **out, sj_error *err);

/* Runs one statement with n text parameters (params may be NULL when n is
 * 0; a NULL element is SQL NULL) and discards the result.  Returns 0,
 * SJ_EDB (the statement failed: SQLSTATE and message in err) or
 * SJ_EDB_CONN (the connection is gone). */
int countyd_db_exec(PGconn *db, const char *sql, int n, const char *const *params, sj_error *err);

/* Ends the transaction a BEGIN opened: COMMIT when rc is 0, and ROLLBACK
 * when rc is not or the COMMIT failed (the rollback's own failure is
 * ignored: err keeps the first error).  Returns rc, or the COMMIT's. */
int countyd_db_end(PGconn *db, int rc, sj_error *err);

/* Same, keeping the result (command or rows) in *out for the caller. */
int countyd_db_query(PGconn *db, const char *sql, int n, const char *const *params,
                     PGresult **out, sj_error *err);

/* One statement of countyd_db_pipeline(): the caller fills sql, n and
 * params (borrowed for the call); res is filled by the call. */
typedef struct countyd_db_stmt {
    const char *sql;
    int n;
    const char *const *params;
    PGresult *res;
} countyd_db_stmt;

/* Results of a full pipeline stay far below the socket buffers, so the
 * blocking send cannot wait on a server that waits on us. */
#define COUNTYD_DB_PIPELINE_MAX 64

/* Runs n (at most COUNTYD_DB_PIPELINE_MAX) parameterised statements in
 * libpq's pipeline mode: all are sent, then all results read, in one round
 * trip.  Meant for independent statements inside a transaction: if one
 * fails, the ones after it are not run (and the transaction is aborted, as
 * with countyd_db_query()).  Returns 0 with every stmts[i].res set (the
 * caller PQclear()s each), or SJ_EDB/SJ_EDB_CONN with the first failure in
 * err (SQLSTATE first, as countyd_db_query()) and every res NULL. */
int countyd_db_pipeline(PGconn *db, countyd_db_stmt *stmts, size_t n, sj_error *err);

/* Fills err from a failed result (may be NULL) and the connection's state;
 * returns SJ_EDB_CONN if the connection is bad, else SJ_EDB.  `what` says
 * what was being done. */
int countyd_db_fail(PGconn *db, const PGresult *res, const char *what, sj_error *err);

/* SQLSTATE of the last failure kept in err by the functions above ("" if
 * none): the first five characters of err->message when it starts with
 * "SQLSTATE ". */
const char *countyd_db_sqlstate(const sj_error *err, char out[6]);

/* Writes items as a PostgreSQL array literal ({"a","b"}, every item quoted
 * and escaped) into a malloc'ed string the caller frees, to be passed as a
 * text[] parameter.  Returns 0 or SJ_ENOMEM. */
int countyd_db_text_array(const char *const *items, size_t n, char **out);

/* The same, but a NULL item is the SQL NULL instead of "" (the columns
 * of a set-based write, apply_set.h). */
int countyd_db_text_array_nulls(const char *const *items, size_t n, char **out);

#endif
