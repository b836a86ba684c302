/*
 * apply_int.h - what the files of the apply module share; for them only
 * (apply.h is the module's face).  The module's files, one job each:
 *   apply.c         the batch driver: open/close, the modes, a message's
 *                   savepoint, dedup and fallbacks, the sweep's batch;
 *   apply_person.c  who acts and when: the acting person, a person an
 *                   action names, the client's time, refusals, a
 *                   person's own password change;
 *   apply_submit.c  a CaseSubmit: its rules and writes;
 *   apply_action.c  a CaseAction: its rules and writes;
 *   apply_row.c     the case row read into an sj_case and written back,
 *                   with its history figures;
 *   apply_record.c  events and feed rows, notifications, the
 *                   processed-message row (the message's stored result);
 *   apply_exec.c    how the writes reach PostgreSQL in each mode;
 *   apply_set.c     the set-based mode's statements, one per table.
 *
 * Entry points: the countyd_apply_* functions below, each with the file
 * that defines it.
 */
#ifndef COUNTYD_APPLY_INT_H
#define COUNTYD_APPLY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <inttypes.h>
#include <stdio.h>

#include "apply.h"
#include "arena.h"

/* Inside the apply functions a refusal is a positive outcome of the
 * message, not a failure of the batch: they return REFUSED (> 0) after
 * filling the result (countyd_apply_refuse()), and apply.c's apply_one()
 * records it.  A negative return is a database failure of the batch. */
#define REFUSED 1

/* What a deferred statement's result fills in once the pipeline has run. */
typedef enum sink_kind {
    SINK_NONE,     /* nothing: a failure is an error of the pipeline */
    SINK_ONE_ROW,  /* must return one row (the update of a locked case) */
    SINK_NUMBER,   /* the new case's number -> r->case_number */
    SINK_FEED_SEQ, /* the feed row's seq -> r->feed_seq */
} sink_kind;

/* A feed row of the message's village written with seq: the result's
 * range of rows is what countyd_feed_written_load() reads back, and only
 * that (rows before it were pushed with the message that wrote them). */
static inline void countyd_apply_feed_row(countyd_apply_result *r, uint64_t seq)
{
    if (r->feed_first == 0 || seq < r->feed_first)
        r->feed_first = seq;
    r->feed_seq = seq;
}

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
 * and approved, a 不满意 or 差评 feedback.  countyd_apply_event_figures()
 * (apply_row.c) is the one rule for an event's share. */
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

/* apply_record.c: the table (COUNTYD_SET_*) one of the module's write
 * statements goes to, or -1; *new_case tells the processed-message row
 * that reads the number of a case registered in the same batch. */
int countyd_apply_set_kind(const char *sql, bool *new_case);

/* --- small helpers of the statements' parameters ------------------------------ */

static inline void countyd_apply_i64(char *buf, size_t cap, int64_t v)
{
    snprintf(buf, cap, "%" PRId64, v);
}

/* A boolean parameter's text. */
static inline const char *countyd_apply_tf(bool v)
{
    return v ? "t" : "f";
}

/* Called before a message's first write.  The flag tells apply_one() that
 * a refusal or a redelivery found from here on has something to undo. */
static inline void countyd_apply_before_write(countyd_apply *a)
{
    a->wrote = true;
}

/* --- who acts, and when (apply_person.c) --------------------------------------- */

/* Fills r as a refusal and returns REFUSED. */
int countyd_apply_refuse(countyd_apply_result *r, int code, const char *why);

/* Refuses (REFUSED) a time t the sender cannot have saved its work at,
 * judged against the county's clock now; 0 passes. */
int countyd_apply_check_time(const countyd_apply *a, int64_t t, int64_t now,
                             countyd_apply_result *r);

/* Checks the person against the sending node; fills actor and name.
 * 0 or REFUSED. */
int countyd_apply_check_person(countyd_apply *a, const countyd_peer *peer, const char *person,
                               sj_actor *actor, char *name, size_t name_cap,
                               countyd_apply_result *r);

/* A person an action names (p, NULL when unknown) works in unit at level
 * (and department, when given).  0 or REFUSED. */
int countyd_apply_check_named(const countyd_ref_person *p, sj_level level, const char *unit,
                              const char *department, countyd_apply_result *r);

/* A person's own password change (apply.h).  0, REFUSED or an error. */
int countyd_apply_password(countyd_apply *a, const countyd_apply_msg *m, countyd_apply_result *r,
                           sj_error *err);

/* --- the messages on cases (apply_submit.c, apply_action.c) --------------------- */

/* Who acted, for the history. */
typedef struct actor_info {
    sj_actor actor;
    const char *person, *person_name, *node;
    uint32_t warn_percent; /* WARN only */
} actor_info;

/* A CaseSubmit: judged, then written.  0, REFUSED or an error. */
int countyd_apply_submit(countyd_apply *a, const countyd_apply_msg *m, const char *mid,
                         countyd_apply_result *r, sj_error *err);

/* A node's CaseAction: the action and person checked, then
 * countyd_apply_act_on_case().  0, REFUSED or an error. */
int countyd_apply_action(countyd_apply *a, const countyd_apply_msg *m, const char *mid,
                         countyd_apply_result *r, sj_error *err);

/* An action on the case r->case_id names, by who: judged against the case
 * as it is now and written.  Shared by nodes' actions and the sweep (mid
 * NULL).  0, REFUSED or an error. */
int countyd_apply_act_on_case(countyd_apply *a, const Sanji__CaseAction *act,
                              const actor_info *who, const char *mid, countyd_apply_result *r,
                              sj_error *err);

/* --- the case row (apply_row.c) ---------------------------------------------------- */

/* Figures as statement parameters: $31 - $36 of the event statement, $45 -
 * $50 of countyd_apply_case_update_sql. */
typedef struct figures_text {
    char fin[24], rep[16], ext_req[16], ext_ok[16];
    const char *unsat, *bad;
} figures_text;

/* The statements that write a case row (their addresses name them to
 * countyd_apply_set_kind()): the insert of a new case (apply_submit.c),
 * the update after an action (apply_row.c). */
extern const char countyd_apply_case_insert_sql[];
extern const char countyd_apply_case_update_sql[];

/* Adds an event's share of its case's history figures to sum. */
void countyd_apply_event_figures(const sj_case_event *ev, int64_t at_ms,
                                 sj_satisfaction satisfaction, case_figures *sum);

void countyd_apply_figures_format(const case_figures *f, figures_text *t);

/* The cases of n text ids, locked, into *out (PQclear()). */
int countyd_apply_read_cases(countyd_apply *a, const char *const *ids, size_t n, PGresult **out,
                             sj_error *err);

/* The case an action is judged against, into *cur and *last_seq (see
 * apply_row.c).  0, REFUSED (no such case) or an error. */
int countyd_apply_case_now(countyd_apply *a, const char *cid, countyd_arena *arena,
                           PGresult **res, bool *owned, sj_case *cur, int *last_seq,
                           const touched **t, countyd_apply_result *r, sj_error *err);

/* The case row as the action left it, with what fig adds to its figures. */
int countyd_apply_write_case_row(countyd_apply *a, const char *cid, const sj_case *c,
                                 const case_figures *fig, countyd_apply_result *r,
                                 sj_error *err);

/* --- the history and the receipt (apply_record.c) -------------------------------- */

/* An event to write, with who did it and what it names. */
typedef struct event_row {
    const char *case_id;   /* text uuid */
    int seq;
    const sj_case_event *ev;
    const char *person, *person_name, *node;
    sj_level level;
    const char *unit;
    int64_t at_ms, recorded_ms;
    const char *note, *result, *department, *department_code;
    const char *const *materials;
    size_t n_materials;
    sj_satisfaction satisfaction;
    const char *message_id; /* text uuid */
    const char *named, *named_name; /* ASSIGN, TAKE_OVER, SET_CARRIER: the person named */
    bool figures_on_case; /* its share of the history figures goes with the case's update */
} event_row;

/* Writes one event and its feed row (see apply_record.c). */
int countyd_apply_write_event(countyd_apply *a, const char *village, const event_row *e,
                              bool last, countyd_apply_result *r, sj_error *err);

/* Queues the villager's message an event calls for, if any. */
int countyd_apply_queue_notification(countyd_apply *a, const char *cid, int seq,
                                     const sj_case_event *ev, int64_t at,
                                     countyd_apply_result *r, sj_error *err);

/* Records the message id with its result: 1 when the id was new, 0 when
 * it was recorded already (nothing written), or a negative code. */
int countyd_apply_record_result(countyd_apply *a, const char *message_id,
                                const countyd_peer *peer, const countyd_apply_result *r,
                                sj_error *err);

/* The stored result of a message id recorded earlier, into r. */
int countyd_apply_lookup_processed(countyd_apply *a, const char *message_id,
                                   countyd_apply_result *r, sj_error *err);

#endif
