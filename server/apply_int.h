/*
 * apply_int.h - what apply.c (the rules: each message decided) and
 * apply_exec.c (the execution: its writes to PostgreSQL) share; for those
 * two files only (apply.h is the module's face).
 *
 * Entry points: see apply_exec.c; countyd_apply_set_kind() (apply.c).
 */
#ifndef COUNTYD_APPLY_INT_H
#define COUNTYD_APPLY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apply.h"
#include "arena.h"

/* What a deferred statement's result fills in once the pipeline has run. */
typedef enum sink_kind {
    SINK_NONE,     /* nothing: a failure is an error of the pipeline */
    SINK_ONE_ROW,  /* must return one row (the update of a locked case) */
    SINK_NUMBER,   /* the new case's number -> r->case_number */
    SINK_FEED_SEQ, /* the feed row's seq -> r->feed_seq */
} sink_kind;

typedef struct deferred {
    const char *sql;     /* static text */
    int n;
    const char **params; /* copies in the pipe's arena */
    sink_kind sink;
    countyd_apply_result *r;
} deferred;

/* A case's history figures that the period statistics count (migration
 * 0017), as the share of one event or the sum of several: the time of the
 * last finishing event, repeated requests for materials, extensions asked
 * and approved, a 不满意 or 差评 feedback.  apply.c's event_figures_of()
 * is the one rule for an event's share. */
typedef struct case_figures {
    int64_t fin;
    int rep, ext_req, ext_ok;
    bool unsat, bad;
} case_figures;

/* The set-based mode applies several messages on one case in one batch:
 * a case the batch wrote is kept here as the messages left it, and the
 * next message on it is judged against that, as the serial mode judges it
 * against the row the message before wrote. */
typedef struct touched {
    uint8_t id[16];
    sj_case c;                          /* strings in the pipe's arena */
    int last_seq;                       /* its last event */
    char number[32];                    /* "" for a case registered in this batch */
    const countyd_apply_result *submit; /* that registration's result (its number) */
    long update;                        /* index in d of its deferred update, or -1 */
    case_figures fig;                   /* the figures that update adds (all the batch's
                                           actions on the case) */
} touched;

/* A result whose case number is that of a case registered in the same
 * batch, known once the case rows are written. */
typedef struct number_from {
    countyd_apply_result *r;
    const countyd_apply_result *from;
} number_from;

typedef struct countyd_apply_pipe {
    countyd_arena arena;
    deferred *d;
    size_t n, cap;
    PGresult *cases; /* the batch's cases read FOR UPDATE (prefetch_cases()) */
    touched *t;
    size_t nt, tcap;
    number_from *nf;
    size_t nnf, nfcap;
} countyd_apply_pipe;

/* Clears the pipe for the next batch (its buffers are kept). */
void countyd_apply_pipe_reset(countyd_apply_pipe *pp);

/* Several messages on one case are applied set-based (touched above); the
 * per-row pipeline keeps to batches on distinct cases. */
bool countyd_apply_set_mode(const countyd_apply *a);

/* The case id as the batch left it, or NULL. */
touched *countyd_apply_touched_find(countyd_apply_pipe *pp, const uint8_t id[16]);

/* r (a message on a case registered earlier in this batch) gets the
 * case's number once the set-based flush knows it.  0 or SJ_ENOMEM. */
int countyd_apply_number_later(countyd_apply *a, countyd_apply_result *r,
                               const countyd_apply_result *from, sj_error *err);

/* Keeps what a message left of case id (set-based mode only; see
 * apply_exec.c).  0 or SJ_ENOMEM. */
int countyd_apply_touched_keep(countyd_apply *a, const uint8_t id[16], const sj_case *c,
                               int last_seq, const char *number,
                               const countyd_apply_result *submit, long update_at,
                               const case_figures *fig, sj_error *err);

/* Keeps a copy of a statement and its parameters for the flush. */
int countyd_apply_defer(countyd_apply *a, const char *sql, int n, const char *const *params,
                        sink_kind sink, countyd_apply_result *r, sj_error *err);

/* Sends every deferred write in order and fills the sinks.  Any failure
 * aborts the transaction; the caller runs the batch again serially. */
int countyd_apply_pipe_flush(countyd_apply *a, sj_error *err);

/* A write whose result fills a sink: deferred in the pipelined mode, run
 * now (and its sink filled) otherwise. */
int countyd_apply_run_write(countyd_apply *a, const char *sql, int n, const char *const *params,
                            sink_kind sink, countyd_apply_result *r, sj_error *err);

/* The deferred writes grouped by table, one statement each (apply_set.h). */
int countyd_apply_set_flush(countyd_apply *a, sj_error *err);

/* apply.c: the table (COUNTYD_SET_*) one of its write statements goes to,
 * or -1; *new_case tells the processed-message row that reads the number
 * of a case registered in the same batch. */
int countyd_apply_set_kind(const char *sql, bool *new_case);

#endif
