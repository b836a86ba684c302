/*
 * apply_exec.c - how the apply path's writes reach PostgreSQL (apply.h,
 * "Modes"): the execution side of the apply module, whose other files
 * decide each message (the rules: the acting person, the state machine of
 * common/domain/case.c, what is written; apply_int.h lists them) and hand
 * the statements here.
 *
 *   run_write      a statement whose result fills a sink (a case number, a
 *                  feed seq, one updated row): run now in the serial
 *                  modes, deferred in the pipelined one;
 *   defer          kept with copies of its parameters for the flush;
 *   pipe_flush     every deferred statement in order, one pipeline round
 *                  trip per COUNTYD_DB_PIPELINE_MAX (apply.set_based = false);
 *   set_flush      the deferred statements grouped by table, one
 *                  statement each (apply_set.h; the default);
 *   touched_keep   the set-based mode's memory of the cases the batch
 *                  wrote, so several messages on one case are judged in
 *                  order and only a row's last state is written.
 *
 * Entry points (apply_int.h): countyd_apply_pipe_reset(),
 * countyd_apply_set_mode(), countyd_apply_touched_find(),
 * countyd_apply_number_later(), countyd_apply_touched_keep(),
 * countyd_apply_defer(), countyd_apply_pipe_flush(),
 * countyd_apply_run_write(), countyd_apply_set_flush().
 */
#include "apply_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_set.h"
#include "db.h"

void countyd_apply_pipe_reset(countyd_apply_pipe *pp)
{
    countyd_arena_free(&pp->arena);
    pp->n = 0;
    pp->nt = 0;
    pp->nnf = 0;
    PQclear(pp->cases);
    pp->cases = NULL;
}

/* Several messages on one case are applied set-based (touched above); the
 * per-row pipeline keeps to batches on distinct cases. */
bool countyd_apply_set_mode(const countyd_apply *a)
{
    return a->pipelined && !a->row_writes;
}

touched *countyd_apply_touched_find(countyd_apply_pipe *pp, const uint8_t id[16])
{
    for (size_t i = pp->nt; i-- > 0;)
        if (memcmp(pp->t[i].id, id, 16) == 0)
            return &pp->t[i];
    return NULL;
}

static const char *arena_dup(countyd_arena *ar, const char *s)
{
    return s ? countyd_arena_strdup(ar, s) : NULL;
}

/* *dst = *src with its text copied into the pipe's arena (src's may live
 * only as long as the message's own arena).  Returns 0 or SJ_ENOMEM. */
static int case_keep(countyd_apply_pipe *pp, const sj_case *src, sj_case *dst)
{
    countyd_arena *ar = &pp->arena;
    sj_case c = *src;
    c.department = arena_dup(ar, src->department);
    c.department_code = arena_dup(ar, src->department_code);
    c.result = arena_dup(ar, src->result);
    c.return_reason = arena_dup(ar, src->return_reason);
    c.assignee = arena_dup(ar, src->assignee);
    c.assignee_name = arena_dup(ar, src->assignee_name);
    c.carrier = arena_dup(ar, src->carrier);
    c.carrier_name = arena_dup(ar, src->carrier_name);
    if (src->n_materials > 0) {
        const char **m = countyd_arena_alloc(ar, src->n_materials * sizeof(*m));
        if (!m)
            return SJ_ENOMEM;
        for (size_t i = 0; i < src->n_materials; i++)
            m[i] = arena_dup(ar, src->materials[i]);
        c.materials = m;
    }
    *dst = c;
    return 0;
}

/* r (a message on a case registered earlier in this batch) gets the
 * case's number once countyd_apply_set_flush() knows it; its
 * processed-message row reads it from the case row (RECORD_NEW_CASE_SQL). */
int countyd_apply_number_later(countyd_apply *a, countyd_apply_result *r,
                               const countyd_apply_result *from, sj_error *err)
{
    countyd_apply_pipe *pp = a->pipe;
    if (pp->nnf == pp->nfcap) {
        size_t cap = pp->nfcap ? 2 * pp->nfcap : 64;
        number_from *more = realloc(pp->nf, cap * sizeof(*more));
        if (!more)
            return sj_error_set(err, SJ_ENOMEM, "out of memory");
        pp->nf = more;
        pp->nfcap = cap;
    }
    pp->nf[pp->nnf++] = (number_from){.r = r, .from = from};
    a->number_later = true;
    return 0;
}

/* Keeps what a message left of case id (set-based mode only): c after it,
 * its last event, its number ("" when registered in this batch, with the
 * registration's result), and, for an action, the index of its deferred
 * update (else -1), which replaces the one an earlier message of the
 * batch deferred: only the last state of a row is written.  fig is what
 * that update adds to the case's history figures: its caller has summed
 * in the superseded update's (t->fig), so no event's share is lost. */
int countyd_apply_touched_keep(countyd_apply *a, const uint8_t id[16], const sj_case *c,
                               int last_seq, const char *number,
                               const countyd_apply_result *submit, long update_at,
                               const case_figures *fig, sj_error *err)
{
    countyd_apply_pipe *pp = a->pipe;
    touched *t = countyd_apply_touched_find(pp, id);
    if (!t) {
        if (pp->nt == pp->tcap) {
            size_t cap = pp->tcap ? 2 * pp->tcap : 64;
            touched *more = realloc(pp->t, cap * sizeof(*more));
            if (!more)
                return sj_error_set(err, SJ_ENOMEM, "out of memory");
            pp->t = more;
            pp->tcap = cap;
        }
        t = &pp->t[pp->nt++];
        memcpy(t->id, id, 16);
        snprintf(t->number, sizeof(t->number), "%s", number);
        t->submit = submit;
        t->update = -1;
        t->fig = (case_figures){0};
    }
    if (case_keep(pp, c, &t->c) != 0)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    t->last_seq = last_seq;
    if (update_at >= 0) {
        if (t->update >= 0)
            pp->d[t->update].sql = NULL; /* superseded: the set-based flush skips it */
        t->update = update_at;
        t->fig = fig ? *fig : (case_figures){0};
    }
    return 0;
}

/* Keeps a copy of a statement and its parameters for countyd_apply_pipe_flush(). */
int countyd_apply_defer(countyd_apply *a, const char *sql, int n, const char *const *params,
                        sink_kind sink, countyd_apply_result *r, sj_error *err)
{
    countyd_apply_pipe *pp = a->pipe;
    if (pp->n == pp->cap) {
        size_t cap = pp->cap ? 2 * pp->cap : 64;
        deferred *d = realloc(pp->d, cap * sizeof(*d));
        if (!d)
            return sj_error_set(err, SJ_ENOMEM, "out of memory");
        pp->d = d;
        pp->cap = cap;
    }
    const char **copy = countyd_arena_alloc(&pp->arena, (size_t)n * sizeof(*copy));
    for (int i = 0; i < n; i++)
        copy[i] = params[i] ? countyd_arena_strdup(&pp->arena, params[i]) : NULL;
    pp->d[pp->n++] = (deferred){.sql = sql, .n = n, .params = copy, .sink = sink, .r = r};
    return 0;
}

static int take_result(const deferred *d, const PGresult *res, sj_error *err)
{
    if (d->sink == SINK_NONE)
        return 0;
    if (PQntuples(res) != 1)
        return sj_error_set(err, SJ_EINTERNAL, "a pipelined write returned %d rows, not one (%.50s)",
                            PQntuples(res), d->sql);
    if (d->sink == SINK_NUMBER)
        snprintf(d->r->case_number, sizeof(d->r->case_number), "%s", PQgetvalue(res, 0, 0));
    else if (d->sink == SINK_FEED_SEQ)
        countyd_apply_feed_row(d->r, strtoull(PQgetvalue(res, 0, 0), NULL, 10));
    return 0;
}

/* Sends every deferred write in order, COUNTYD_DB_PIPELINE_MAX statements
 * per round trip, and fills the results' sinks.  Any failure aborts the
 * transaction; the caller runs the batch again serially. */
int countyd_apply_pipe_flush(countyd_apply *a, sj_error *err)
{
    countyd_apply_pipe *pp = a->pipe;
    for (size_t at = 0; at < pp->n; at += COUNTYD_DB_PIPELINE_MAX) {
        size_t k = pp->n - at < COUNTYD_DB_PIPELINE_MAX ? pp->n - at : COUNTYD_DB_PIPELINE_MAX;
        countyd_db_stmt st[COUNTYD_DB_PIPELINE_MAX];
        for (size_t i = 0; i < k; i++)
            st[i] = (countyd_db_stmt){.sql = pp->d[at + i].sql, .n = pp->d[at + i].n,
                                      .params = pp->d[at + i].params};
        int rc = countyd_db_pipeline(a->db, st, k, err);
        for (size_t i = 0; i < k; i++) {
            if (rc == 0)
                rc = take_result(&pp->d[at + i], st[i].res, err);
            PQclear(st[i].res);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A write whose result fills a sink: deferred in the pipelined mode, run
 * now (and its sink filled) otherwise. */
int countyd_apply_run_write(countyd_apply *a, const char *sql, int n, const char *const *params,
                            sink_kind sink, countyd_apply_result *r, sj_error *err)
{
    if (a->pipelined)
        return countyd_apply_defer(a, sql, n, params, sink, r, err);
    PGresult *res;
    int rc = countyd_db_query(a->db, sql, n, params, &res, err);
    if (rc != 0)
        return rc;
    deferred d = {.sql = sql, .sink = sink, .r = r};
    rc = take_result(&d, res, err);
    PQclear(res);
    return rc;
}


/* --- the set-based writes --------------------------------------------------- */

/* The set-based flush (apply_set.h): the deferred writes grouped by table
 * (kind, countyd_apply_set_kind()), in the order they were deferred, each
 * group one statement, then the sinks filled from the rows returned in
 * that order. */
int countyd_apply_set_flush(countyd_apply *a, sj_error *err)
{
    countyd_apply_pipe *pp = a->pipe;
    const char *const **rows[COUNTYD_SET_KINDS] = {0};
    deferred **of[COUNTYD_SET_KINDS] = {0};
    countyd_set_rows sets[COUNTYD_SET_KINDS] = {{0}};
    PGresult *res[COUNTYD_SET_KINDS] = {0};
    int rc = 0;
    for (int k = 0; k < COUNTYD_SET_KINDS; k++) {
        rows[k] = countyd_arena_alloc(&pp->arena, (pp->n + 1) * sizeof(*rows[k]));
        of[k] = countyd_arena_alloc(&pp->arena, (pp->n + 1) * sizeof(*of[k]));
        if (!rows[k] || !of[k])
            return sj_error_set(err, SJ_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < pp->n; i++) {
        deferred *d = &pp->d[i];
        if (!d->sql)
            continue; /* a case's update superseded by a later one (touched_keep) */
        bool new_case = false;
        int k = countyd_apply_set_kind(d->sql, &new_case);
        if (k < 0)
            return sj_error_set(err, SJ_EINTERNAL, "no set-based form of %.50s", d->sql);
        const char *const *row = d->params;
        if (k == COUNTYD_SET_RECORD) {
            /* RECORD_NEW_CASE_SQL reads the new case's number: a ninth column says so. */
            const char **r9 = countyd_arena_alloc(&pp->arena, 9 * sizeof(*r9));
            if (!r9)
                return sj_error_set(err, SJ_ENOMEM, "out of memory");
            memcpy(r9, d->params, 8 * sizeof(*r9));
            r9[8] = new_case ? "t" : "f";
            row = r9;
        }
        rows[k][sets[k].n] = row;
        of[k][sets[k].n++] = d;
    }
    for (int k = 0; k < COUNTYD_SET_KINDS; k++)
        sets[k].rows = rows[k];
    if ((rc = countyd_set_write(a->db, sets, res, err)) != 0)
        return rc;
    /* One row per input row, in order: (ord, value). */
    for (int k = 0; k < COUNTYD_SET_KINDS; k++) {
        for (size_t i = 0; res[k] && i < sets[k].n; i++) {
            deferred *d = of[k][i];
            if (d->sink == SINK_NUMBER)
                snprintf(d->r->case_number, sizeof(d->r->case_number), "%s",
                         PQgetvalue(res[k], (int)i, 1));
            else if (d->sink == SINK_FEED_SEQ)
                countyd_apply_feed_row(d->r, strtoull(PQgetvalue(res[k], (int)i, 1), NULL, 10));
        }
        PQclear(res[k]);
    }
    /* Messages on a case registered in this batch: its number now. */
    for (size_t i = 0; i < pp->nnf; i++)
        snprintf(pp->nf[i].r->case_number, sizeof(pp->nf[i].r->case_number), "%s",
                 pp->nf[i].from->case_number);
    a->set_batches++;
    return 0;
}

