/*
 * apply_record.c - the history and the receipt of an applied message: its
 * events with their feed rows (one statement each, with the event's share
 * of the case's history figures when no update of the case row carries
 * it), the villager's notification an event calls for, and the
 * processed-message row that is both the message's stored result and the
 * dedup check (G2), with the look-up of that result for a redelivery.
 * Each write runs now or is deferred by the mode (apply_exec.c);
 * countyd_apply_set_kind() tells the set-based flush which table each of
 * the module's write statements goes to.
 *
 * Entry points (apply_int.h): countyd_apply_write_event(),
 * countyd_apply_record_result(), countyd_apply_lookup_processed(),
 * countyd_apply_queue_notification(); countyd_apply_set_kind();
 * countyd_apply_stored_result() (apply.h).
 */
#include "apply_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_set.h"
#include "db.h"
#include "uuid.h"

/* The processed-message row of a result: the parameters of RECORD_SQL. */
typedef struct record_row {
    char status[8], code[16], version[24], cid[SJ_UUID_TEXT_SIZE];
    const char *p[8];
} record_row;

/* The insert is also the dedup check (G2): it returns a row when the id
 * was new and none, writing nothing, when the id was already recorded, so
 * that a fresh message (nearly all of them) costs no separate lookup. */
static const char RECORD_SQL[] =
    "INSERT INTO processed_message (message_id, status, code, reason, case_id, case_number,"
    " case_version, sender_node) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (message_id) DO NOTHING RETURNING 1";

/* The pipelined mode's variants: a recorded id is a unique violation that
 * aborts the batch (which then runs serially and finds the redelivery),
 * and a new case's number, not known when the statement is deferred, is
 * read from the case row the pipeline inserted before it. */
static const char RECORD_STRICT_SQL[] =
    "INSERT INTO processed_message (message_id, status, code, reason, case_id, case_number,"
    " case_version, sender_node) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char RECORD_NEW_CASE_SQL[] =
    "INSERT INTO processed_message (message_id, status, code, reason, case_id, case_number,"
    " case_version, sender_node) VALUES ($1, $2, $3, $4, $5,"
    " coalesce((SELECT number FROM cases WHERE case_id = $5), $6), $7, $8)";

/* An event, the village's feed counter and the feed row in one statement
 * (one round trip instead of three).  The counter row stays locked until
 * COMMIT: no two transactions take the same number, and a rolled-back one
 * leaves no gap.  The feed row's foreign key to the event is checked at the
 * end of the statement, when the event is in.
 *
 * The same statement adds the event to the case's history figures that the
 * period statistics count (migration 0017; $31 - $36 from
 * countyd_apply_event_figures()) when no update of the case row carries them: only a
 * new case's events (an action's go with countyd_apply_case_update_sql, so that the row
 * is written once); an event that counts for none of them (most, and
 * every action's) leaves the case row alone. */
static const char EVENT_SQL[] =
    "WITH e AS (INSERT INTO case_event (case_id, seq, action, actor_person, actor_name,"
    " actor_node, actor_level, actor_unit, at_ms, recorded_at_ms, from_status,"
    " to_status, note, result, materials, satisfaction, department, message_id,"
    " repeat_materials_request, department_code, clock_days, due_at_ms,"
    " due_provisional, notify_attempt, notify_retry_at_ms, person, person_name,"
    " rectify_due_at_ms, rectify_late) VALUES"
    " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30) RETURNING case_id, seq),"
    " s AS (UPDATE cases SET finished_event_at_ms = greatest(finished_event_at_ms, $31::bigint),"
    " repeat_requests = repeat_requests + $32::integer,"
    " extensions_asked = extensions_asked + $33::integer,"
    " extensions_approved = extensions_approved + $34::integer,"
    " feedback_unsatisfied = feedback_unsatisfied OR $35::boolean,"
    " feedback_bad = feedback_bad OR $36::boolean"
    " WHERE case_id = $1::uuid AND ($31::bigint > 0 OR $32::integer > 0 OR $33::integer > 0"
    " OR $34::integer > 0 OR $35::boolean OR $36::boolean) RETURNING 1),"
    " c AS (INSERT INTO feed_counter (village, last_seq) VALUES ($20::text, 1)"
    " ON CONFLICT (village) DO UPDATE SET last_seq = feed_counter.last_seq + 1"
    " RETURNING last_seq)"
    " INSERT INTO feed (village, seq, case_id, event_seq)"
    " SELECT $20::text, c.last_seq, e.case_id, e.seq FROM e, c RETURNING seq";

/* Fills x for r (which must not move before x is used). */
static void record_params(record_row *x, const char *message_id, const countyd_peer *peer,
                          const countyd_apply_result *r)
{
    static const uint8_t zero[16];
    snprintf(x->status, sizeof(x->status), "%d", (int)r->status);
    snprintf(x->code, sizeof(x->code), "%d", r->code);
    snprintf(x->version, sizeof(x->version), "%" PRIu64, r->case_version);
    sj_uuid_format(r->case_id, x->cid);
    const char *p[8] = {message_id, x->status, x->code, r->reason,
                        memcmp(r->case_id, zero, 16) ? x->cid : NULL, r->case_number, x->version,
                        peer && peer->node ? peer->node : ""};
    memcpy(x->p, p, sizeof(p));
}

/* Writes one event and its feed row; r->village and its feed rows' range
 * (countyd_apply_feed_row()) are updated.
 * With last set for a node's message (a->cur), r is final and the message's
 * processed row is inserted in the same round trip (pipeline); apply_one()
 * then finds the outcome in a->recorded / a->record_fresh. */
int countyd_apply_write_event(countyd_apply *a, const char *village, const event_row *e, bool last,
                              countyd_apply_result *r, sj_error *err)
{
    char seq[16], action[8], level[8], at[24], rec[24], from[8], to[8], sat[8], cd[16], due[24],
        na[16], nrt[24], rdue[24], *mats = NULL;
    countyd_apply_i64(rdue, sizeof(rdue), e->ev->rectify_due_at_ms);
    snprintf(na, sizeof(na), "%u", e->ev->notify_attempt);
    countyd_apply_i64(nrt, sizeof(nrt), e->ev->notify_retry_at_ms);
    snprintf(seq, sizeof(seq), "%d", e->seq);
    snprintf(action, sizeof(action), "%d", (int)e->ev->action);
    snprintf(level, sizeof(level), "%d", (int)e->level);
    countyd_apply_i64(at, sizeof(at), e->at_ms);
    countyd_apply_i64(rec, sizeof(rec), e->recorded_ms);
    snprintf(from, sizeof(from), "%d", (int)e->ev->from_status);
    snprintf(to, sizeof(to), "%d", (int)e->ev->to_status);
    snprintf(sat, sizeof(sat), "%d", (int)e->satisfaction);
    snprintf(cd, sizeof(cd), "%u", e->ev->clock_days);
    countyd_apply_i64(due, sizeof(due), e->ev->due_at_ms);
    case_figures share = {0};
    if (!e->figures_on_case)
        countyd_apply_event_figures(e->ev, e->at_ms, e->satisfaction, &share);
    figures_text fig;
    countyd_apply_figures_format(&share, &fig);
    if (countyd_db_text_array(e->materials, e->n_materials, &mats) != 0)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    const char *p[] = {e->case_id, seq, action, e->person, e->person_name, e->node, level, e->unit,
                       at, rec, from, to, e->note ? e->note : "", e->result ? e->result : "",
                       mats, sat, e->department ? e->department : "", e->message_id,
                       countyd_apply_tf(e->ev->repeat_materials_request), village,
                       e->department_code ? e->department_code : "", cd, due,
                       countyd_apply_tf(e->ev->due_provisional), na, nrt,
                       e->named ? e->named : "", e->named_name ? e->named_name : "", rdue,
                       countyd_apply_tf(e->ev->rectify_late), fig.fin, fig.rep, fig.ext_req,
                       fig.ext_ok, fig.unsat, fig.bad};
    countyd_db_stmt st[2] = {
        {.sql = EVENT_SQL,
         .n = 36, .params = p},
        {.sql = RECORD_SQL, .n = 8}};
    record_row row;
    bool with_record = last && a->cur && e->message_id;
    if (with_record) {
        record_params(&row, e->message_id, a->cur->peer, r);
        st[1].params = row.p;
    }
    snprintf(r->village, sizeof(r->village), "%s", village);
    if (a->pipelined) {
        int rc = countyd_apply_defer(a, st[0].sql, st[0].n, st[0].params, SINK_FEED_SEQ, r, err);
        if (rc == 0 && with_record) {
            /* A new case's number is read from its row (not known yet). */
            bool new_case = a->cur->submit || a->number_later;
            rc = countyd_apply_defer(a, new_case ? RECORD_NEW_CASE_SQL : RECORD_STRICT_SQL, 8,
                                     row.p, SINK_NONE, NULL, err);
            a->recorded = a->record_fresh = true; /* else the pipeline fails */
        }
        free(mats);
        return rc;
    }
    int rc = countyd_db_pipeline(a->db, st, with_record ? 2 : 1, err);
    free(mats);
    if (rc != 0)
        return rc;
    PGresult *res = st[0].res;
    if (with_record) {
        a->recorded = true;
        a->record_fresh = PQntuples(st[1].res) == 1;
        PQclear(st[1].res);
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return sj_error_set(err, SJ_EINTERNAL, "feed row of case %s event %s not written",
                            e->case_id, seq);
    }
    countyd_apply_feed_row(r, strtoull(PQgetvalue(res, 0, 0), NULL, 10));
    PQclear(res);
    return 0;
}

/* Records the message id with its result: returns 1 when the id was new,
 * 0 when it was already recorded (nothing written), or a negative code. */
int countyd_apply_record_result(countyd_apply *a, const char *message_id, const countyd_peer *peer,
                                const countyd_apply_result *r, sj_error *err)
{
    record_row x;
    record_params(&x, message_id, peer, r);
    if (a->pipelined) {
        int rc = countyd_apply_defer(a, a->number_later ? RECORD_NEW_CASE_SQL : RECORD_STRICT_SQL,
                                     8, x.p, SINK_NONE, NULL, err);
        return rc != 0 ? rc : 1; /* a recorded id fails the pipeline */
    }
    PGresult *res;
    int rc = countyd_db_query(a->db, RECORD_SQL, 8, x.p, &res, err);
    if (rc != 0)
        return rc;
    int fresh = PQntuples(res) == 1;
    PQclear(res);
    return fresh;
}

int countyd_apply_stored_result(PGconn *db, const char *message_id, countyd_apply_result *r,
                                sj_error *err)
{
    PGresult *res;
    const char *p[] = {message_id};
    int rc = countyd_db_query(db,
                              "SELECT status, code, reason, coalesce(case_id::text, ''),"
                              " case_number, case_version FROM processed_message"
                              " WHERE message_id = $1",
                              1, p, &res, err);
    if (rc != 0)
        return rc;
    int found = PQntuples(res) == 1;
    if (found) {
        memset(r, 0, sizeof(*r));
        r->status = (Sanji__AckStatus)atoi(PQgetvalue(res, 0, 0));
        r->code = atoi(PQgetvalue(res, 0, 1));
        snprintf(r->reason, sizeof(r->reason), "%s", PQgetvalue(res, 0, 2));
        if (PQgetvalue(res, 0, 3)[0])
            (void)sj_uuid_parse(PQgetvalue(res, 0, 3), r->case_id, NULL);
        snprintf(r->case_number, sizeof(r->case_number), "%s", PQgetvalue(res, 0, 4));
        r->case_version = strtoull(PQgetvalue(res, 0, 5), NULL, 10);
        r->redelivered = true;
    }
    PQclear(res);
    return found;
}

/* The stored result of a message id recorded earlier (a redelivery),
 * into r. */
int countyd_apply_lookup_processed(countyd_apply *a, const char *message_id,
                                   countyd_apply_result *r, sj_error *err)
{
    int rc = countyd_apply_stored_result(a->db, message_id, r, err);
    if (rc < 0)
        return rc;
    /* countyd_apply_record_result() just found the row in this transaction. */
    return rc == 1 ? 0
                   : sj_error_set(err, SJ_EINTERNAL, "processed message %s vanished", message_id);
}

static const char NOTIFY_SQL[] =
    "INSERT INTO notification (case_id, event_seq, kind, phone, next_attempt_at_ms)"
    " SELECT case_id, $2, $3, applicant_phone, $4 FROM cases WHERE case_id = $1 RETURNING 1";

/* Queues the message to the villager an event calls for (ev->notify; the
 * state machine leaves it NONE for a case the cadre marked "do not
 * notify").  Only the phone is copied; the text is rendered by the
 * notifier (notify.h), never with the ID number. */
int countyd_apply_queue_notification(countyd_apply *a, const char *cid, int seq,
                                     const sj_case_event *ev, int64_t at, countyd_apply_result *r,
                                     sj_error *err)
{
    if (ev->notify == SJ_NOTIFY_KIND_NONE)
        return 0;
    char sq[16], kind[8], when[24];
    snprintf(sq, sizeof(sq), "%d", seq);
    snprintf(kind, sizeof(kind), "%d", (int)ev->notify);
    countyd_apply_i64(when, sizeof(when), at);
    const char *p[] = {cid, sq, kind, when};
    r->notify_queued = true;
    return countyd_apply_run_write(a, NOTIFY_SQL, 4, p, SINK_ONE_ROW, r, err);
}

/* --- the set-based writes' tables ------------------------------------------- */

int countyd_apply_set_kind(const char *sql, bool *new_case)
{
    *new_case = sql == RECORD_NEW_CASE_SQL;
    if (sql == countyd_apply_case_insert_sql)
        return COUNTYD_SET_CASE_INSERT;
    if (sql == countyd_apply_case_update_sql)
        return COUNTYD_SET_CASE_UPDATE;
    if (sql == EVENT_SQL)
        return COUNTYD_SET_EVENT;
    if (sql == NOTIFY_SQL)
        return COUNTYD_SET_NOTIFY;
    if (sql == RECORD_STRICT_SQL || sql == RECORD_NEW_CASE_SQL)
        return COUNTYD_SET_RECORD;
    return -1;
}
