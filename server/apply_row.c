/*
 * apply_row.c - the case row as the apply module reads and writes it: the
 * case an action is judged against (its row read FOR UPDATE, alone or
 * with the batch's other cases, converted to an sj_case through the same
 * conversion as the feed's, or as an earlier message of the batch left
 * it), the row written back as the action left it, and the case's history
 * figures (migration 0017) that the row carries: an event's share and
 * their text as statement parameters.
 *
 * Entry points (apply_int.h): countyd_apply_read_cases(),
 * countyd_apply_case_now(), countyd_apply_write_case_row(),
 * countyd_apply_event_figures(), countyd_apply_figures_format().
 */
#include "apply_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "case_pb.h"
#include "caserow.h"
#include "db.h"
#include "i18n.h"

/* The event's share of its case's history figures (migration 0017): the
 * time of a finishing event (即办, 办结, 退办), one repeated request for
 * materials, one extension asked or approved, a 不满意 or 差评 feedback;
 * the same conditions as the migration's backfill.  Added to sum (the
 * shares of several events: the latest time, the counts added up). */
void countyd_apply_event_figures(const sj_case_event *ev, int64_t at_ms,
                                 sj_satisfaction satisfaction, case_figures *sum)
{
    sj_case_action act = ev->action;
    bool finishing = act == SJ_ACTION_RESOLVE_AT_ONCE || act == SJ_ACTION_RESOLVE ||
                     act == SJ_ACTION_RETURN_UNDOABLE;
    bool feedback = act == SJ_ACTION_FEEDBACK;
    if (finishing && at_ms > sum->fin)
        sum->fin = at_ms;
    sum->rep += ev->repeat_materials_request ? 1 : 0;
    sum->ext_req += act == SJ_ACTION_EXTEND_REQUEST ? 1 : 0;
    sum->ext_ok += act == SJ_ACTION_EXTEND_APPROVE ? 1 : 0;
    sum->unsat = sum->unsat || (feedback && satisfaction == SJ_SATISFACTION_UNSATISFIED);
    sum->bad = sum->bad || (feedback && sj_satisfaction_is_bad(satisfaction));
}

void countyd_apply_figures_format(const case_figures *f, figures_text *t)
{
    countyd_apply_i64(t->fin, sizeof(t->fin), f->fin);
    snprintf(t->rep, sizeof(t->rep), "%d", f->rep);
    snprintf(t->ext_req, sizeof(t->ext_req), "%d", f->ext_req);
    snprintf(t->ext_ok, sizeof(t->ext_ok), "%d", f->ext_ok);
    t->unsat = countyd_apply_tf(f->unsat);
    t->bad = countyd_apply_tf(f->bad);
}

/* The columns of CASES_READ_SQL: a case as caserow.h reads it for the feed
 * and the queries, then what judging and recording an action needs
 * besides.  C_CASE_ID is the first column of COUNTYD_CASE_COLUMNS. */
enum { C_CASE_ID = 0, C_MIN_LEVEL = COUNTYD_CASE_NCOLS, C_LAST_SEQ };

/* The cases named by an array of ids, locked, one row each, with the
 * number of each case's last event (the row stays locked, so no other
 * transaction adds one).  The pipelined mode reads all the cases of a
 * batch's actions at once, the serial mode one case at a time; the order
 * by id keeps concurrent transactions locking in the same order. */
static const char CASES_READ_SQL[] =
    "SELECT " COUNTYD_CASE_COLUMNS ", c.item_min_level,"
    " (SELECT coalesce(max(seq), 0) FROM case_event e WHERE e.case_id = c.case_id)"
    " FROM cases c WHERE c.case_id = ANY($1::uuid[]) ORDER BY c.case_id FOR UPDATE OF c";

/* Runs CASES_READ_SQL for n text ids into *out. */
int countyd_apply_read_cases(countyd_apply *a, const char *const *ids, size_t n, PGresult **out,
                             sj_error *err)
{
    char *array = NULL;
    if (countyd_db_text_array(ids, n, &array) != 0)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    const char *p[] = {array};
    int rc = countyd_db_query(a->db, CASES_READ_SQL, 1, p, out, err);
    free(array);
    return rc;
}

/* Where a case's row is: the prefetched rows (pipelined mode) or its own
 * locked read.  *owned says whether the caller PQclear()s *res.  *row is
 * -1 when there is no such case. */
static int load_case(countyd_apply *a, const char *cid, PGresult **res, bool *owned, int *row,
                     sj_error *err)
{
    *row = -1;
    *owned = !a->pipelined;
    if (*owned) {
        const char *id[] = {cid};
        int rc = countyd_apply_read_cases(a, id, 1, res, err);
        if (rc != 0)
            return rc;
    } else {
        *res = a->pipe->cases;
    }
    int rows = *res ? PQntuples(*res) : 0;
    for (int i = 0; i < rows && *row < 0; i++)
        if (strcasecmp(PQgetvalue(*res, i, C_CASE_ID), cid) == 0)
            *row = i;
    return 0;
}

/* A case's row after an action (every column an action may change), and
 * ($45 - $50) what the action's events add to its history figures
 * (migration 0017): the row is written once per action. */
const char countyd_apply_case_update_sql[] =
    "UPDATE cases SET status = $2, resume_status = $3, holder_level = $4, holder_unit = $5,"
    " version = $6, handling = $7, overdue = $8, supervised = $9, escalated = $10,"
    " reached_county = $11, warn_level = $12, urge_count = $13, materials_rounds = $14,"
    " satisfaction = $15, resolved_level = $16, resolved_unit = $17, updated_at_ms = $18,"
    " closed_at_ms = $19, department = $20, result = $21, return_reason = $22,"
    " materials = $23, department_code = $24, department_refusals = $25, due_at_ms = $26,"
    " due_provisional = $27, paused_at_ms = $28, paused_days = $29, extended_days = $30,"
    " extension_days = $31, return_count = $32, notify_state = $33, notify_attempts = $34,"
    " notify_at_ms = $35, notify_retry_at_ms = $36, assignee = $37, assignee_name = $38,"
    " carrier = $39, carrier_name = $40, rectify_due_at_ms = $41, rectified_at_ms = $42,"
    " called_back_at_ms = $43, rectify_late = $44,"
    " finished_event_at_ms = greatest(finished_event_at_ms, $45::bigint),"
    " repeat_requests = repeat_requests + $46::integer,"
    " extensions_asked = extensions_asked + $47::integer,"
    " extensions_approved = extensions_approved + $48::integer,"
    " feedback_unsatisfied = feedback_unsatisfied OR $49::boolean,"
    " feedback_bad = feedback_bad OR $50::boolean WHERE case_id = $1 RETURNING 1";

/* The case an action is judged against: as an earlier message of this
 * batch left it (set-based mode, *t set), else its row loaded FOR UPDATE
 * (*res, to be cleared by the caller when *owned) and converted as the
 * feed shows it, through the same conversion as the relays' and the
 * clients' copies.  Fills r's case number.  Returns 0, REFUSED (no such
 * case) or an error. */
int countyd_apply_case_now(countyd_apply *a, const char *cid, countyd_arena *arena, PGresult **res,
                           bool *owned, sj_case *cur, int *last_seq, const touched **t,
                           countyd_apply_result *r, sj_error *err)
{
    int rc, row = -1;
    *t = countyd_apply_set_mode(a) ? countyd_apply_touched_find(a->pipe, r->case_id) : NULL;
    if (*t) {
        *cur = (*t)->c;
        *last_seq = (*t)->last_seq;
        snprintf(r->case_number, sizeof(r->case_number), "%s", (*t)->number);
        return (*t)->number[0] ? 0 : countyd_apply_number_later(a, r, (*t)->submit, err);
    }
    if ((rc = load_case(a, cid, res, owned, &row, err)) != 0)
        return rc;
    if (row < 0)
        return countyd_apply_refuse(r, SJ_EUNKNOWN_CASE, N_("The county has no such case."));
    const Sanji__Case *row_case = countyd_caserow_case(arena, *res, row, 0);
    sj_case_pb_to_case(row_case, (sj_level)atoi(PQgetvalue(*res, row, C_MIN_LEVEL)), cur);
    snprintf(r->case_number, sizeof(r->case_number), "%s", row_case->number);
    *last_seq = atoi(PQgetvalue(*res, row, C_LAST_SEQ));
    return 0;
}

/* The case row as the action left it: every column an action may change
 * and what fig adds to its history figures (countyd_apply_case_update_sql), run now or
 * deferred (apply_exec.c). */
int countyd_apply_write_case_row(countyd_apply *a, const char *cid, const sj_case *c,
                                 const case_figures *fig, countyd_apply_result *r, sj_error *err)
{
    char *mats = NULL;
    if (countyd_db_text_array(c->materials, c->n_materials, &mats) != 0)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    char st[8], rs[8], hl[8], ver[24], hd[8], wl[16], uc[16], mr[16], sat[8], rl[8], upd[24], cl[24],
        due[24], pa[24], pd[16], xd[16], xp[16], rcn[16], dr[16], ns[8], na[16], nat[24],
        nrt[24], rdue[24], rat[24], cbat[24];
    countyd_apply_i64(rdue, sizeof(rdue), c->rectify_due_at_ms);
    countyd_apply_i64(rat, sizeof(rat), c->rectified_at_ms);
    countyd_apply_i64(cbat, sizeof(cbat), c->called_back_at_ms);
    figures_text ft;
    countyd_apply_figures_format(fig, &ft);
    snprintf(ns, sizeof(ns), "%d", (int)c->notify);
    snprintf(na, sizeof(na), "%u", c->notify_attempts);
    countyd_apply_i64(nat, sizeof(nat), c->notify_at_ms);
    countyd_apply_i64(nrt, sizeof(nrt), c->notify_retry_at_ms);
#define SJ__T(x) ((x) ? (x) : "")
    snprintf(st, sizeof(st), "%d", (int)c->status);
    snprintf(rs, sizeof(rs), "%d", (int)c->resume_status);
    snprintf(hl, sizeof(hl), "%d", (int)c->holder_level);
    snprintf(ver, sizeof(ver), "%" PRIu64, c->version);
    snprintf(hd, sizeof(hd), "%d", (int)c->handling);
    snprintf(wl, sizeof(wl), "%u", c->warn_level);
    snprintf(uc, sizeof(uc), "%u", c->urge_count);
    snprintf(mr, sizeof(mr), "%u", c->materials_rounds);
    snprintf(sat, sizeof(sat), "%d", (int)c->satisfaction);
    snprintf(rl, sizeof(rl), "%d", (int)c->resolved_level);
    countyd_apply_i64(upd, sizeof(upd), c->updated_at_ms);
    countyd_apply_i64(cl, sizeof(cl), c->closed_at_ms);
    countyd_apply_i64(due, sizeof(due), c->due_at_ms);
    countyd_apply_i64(pa, sizeof(pa), c->paused_at_ms);
    snprintf(pd, sizeof(pd), "%u", c->paused_days);
    snprintf(xd, sizeof(xd), "%u", c->extended_days);
    snprintf(xp, sizeof(xp), "%u", c->extension_days);
    snprintf(rcn, sizeof(rcn), "%u", c->return_count);
    snprintf(dr, sizeof(dr), "%u", c->department_refusals);
    const char *p[] = {cid, st, rs, hl, c->holder_unit, ver, hd, countyd_apply_tf(c->overdue),
                       countyd_apply_tf(c->supervised), countyd_apply_tf(c->escalated),
                       countyd_apply_tf(c->reached_county), wl, uc, mr, sat, rl,
                       c->resolved_unit, upd, cl, c->department ? c->department : "",
                       c->result ? c->result : "", c->return_reason ? c->return_reason : "", mats,
                       c->department_code ? c->department_code : "", dr, due,
                       countyd_apply_tf(c->due_provisional), pa, pd, xd, xp, rcn, ns, na, nat, nrt,
                       SJ__T(c->assignee), SJ__T(c->assignee_name), SJ__T(c->carrier),
                       SJ__T(c->carrier_name), rdue, rat, cbat, countyd_apply_tf(c->rectify_late),
                       ft.fin, ft.rep, ft.ext_req, ft.ext_ok, ft.unsat, ft.bad};
#undef SJ__T
    int rc = countyd_apply_run_write(a, countyd_apply_case_update_sql, 50, p, SINK_ONE_ROW, r, err);
    free(mats);
    return rc;
}
