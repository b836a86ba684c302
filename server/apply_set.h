/*
 * apply_set.h - the set-based writes of a batch (apply.h "Modes"): the rows
 * a pipelined batch would write one statement per message are written with
 * one statement per table, each column of the rows passed as one text
 * array and spread out again with unnest in PostgreSQL.
 *
 * Only the writes are set-based: every message was checked and decided in
 * C by the state machine before (common/domain/case.c), exactly as in the other
 * modes.  The counters are advanced once per batch: the case-number counter
 * by the batch's count per county and day, each village's feed counter by
 * the batch's count of that village's events; the numbers are handed out
 * in the order of the rows, so they are those the per-message statements
 * would have taken.  The statements run in one libpq pipeline (one round
 * trip), in the order of countyd_set_kind: the new cases first (events
 * refer to them), the processed-message rows last (they read the new
 * cases' numbers).
 *
 * A failure aborts the transaction, as a failed pipeline does; the caller
 * runs the batch again in the serial mode.
 *
 * Entry points: countyd_set_columns(), countyd_set_write().
 */
#ifndef COUNTYD_APPLY_SET_H
#define COUNTYD_APPLY_SET_H

#include <stddef.h>

#include <libpq-fe.h>

#include "err.h"

typedef enum countyd_set_kind {
    COUNTYD_SET_CASE_INSERT, /* the parameters of the new case row (countyd_apply_case_insert_sql) */
    COUNTYD_SET_CASE_UPDATE, /* the parameters of a case's update (countyd_apply_case_update_sql) */
    COUNTYD_SET_EVENT,       /* the parameters of an event and its feed row (apply_record.c EVENT_SQL) */
    COUNTYD_SET_NOTIFY,      /* the parameters of a queued notification (apply_record.c NOTIFY_SQL) */
    COUNTYD_SET_RECORD,      /* RECORD_SQL's 8 parameters, then "t" for a new case's message */
    COUNTYD_SET_KINDS
} countyd_set_kind;

/* The rows of one kind: rows[i] holds countyd_set_columns(kind) texts
 * (NULL is SQL NULL).  Borrowed for the call. */
typedef struct countyd_set_rows {
    const char *const *const *rows;
    size_t n;
} countyd_set_rows;

/* The number of texts in a row of kind. */
int countyd_set_columns(countyd_set_kind kind);

/* Writes every kind that has rows, in one pipeline.  On success res[kind]
 * (NULL for a kind without rows; the caller PQclear()s the others) holds,
 * in the order of the rows, one row per input row: CASE_INSERT (ord,
 * number), EVENT (ord, feed seq), CASE_UPDATE and NOTIFY (ord or 1); RECORD
 * returns none.  A statement that wrote fewer rows than it was given (a
 * case that vanished) is SJ_EINTERNAL.  Returns 0, SJ_ENOMEM, SJ_EINTERNAL
 * or SJ_EDB/SJ_EDB_CONN (the transaction is then aborted). */
int countyd_set_write(PGconn *db, const countyd_set_rows sets[COUNTYD_SET_KINDS],
                      PGresult *res[COUNTYD_SET_KINDS], sj_error *err);

#endif
