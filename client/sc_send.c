/*
 * sc_send.c - the client's upward path: packing a message for the outbox,
 * sending what the outbox holds in order (case messages first, then
 * attachment chunks under their flow limit), and the acks that move the
 * outbox rows on.
 *
 * Entry points (inside the library, sanji_client_private.h): sc_send_pack(),
 * sc_send_flush(), sc_send_on_ack().
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn.h"
#include "envelope.h"
#include "i18n.h"
#include "log.h"
#include "orgunit.h"

/* True when some case message on case_id is still waiting (SAVED or
 * STORED) among the n unfinished rows e. */
static bool case_pending(const sc_outbox_entry *e, size_t n, const uint8_t case_id[16])
{
    for (size_t i = 0; i < n; i++)
        if (e[i].action != SC_OUTBOX_CHUNK && memcmp(e[i].case_id, case_id, 16) == 0)
            return true;
    return false;
}

/* Sends one outbox row (listed without its payload): its payload is read
 * now. */
static int send_row(sc_client *c, const sc_outbox_entry *row, sj_error *err)
{
    /* Read behind room for the frame header, the payload goes on the link
     * as it is: one buffer per message sent, and no copy. */
    uint8_t *frame = NULL;
    size_t len = 0;
    if (sc_store_outbox_frame(c->st, row->message_id, &frame, &len, err) != 0) {
        /* The store could not be read now: the row waits for the next
         * send, as under backpressure, and is not skipped. */
        SJ_LOG_WARN(MOD, "outbox read failed", "error", err->message);
        return SJ_EBACKPRESSURE;
    }
    int rc = sj_conn_send_frame(c->conn, frame, len, err);
    free(frame);
    return rc;
}

/* Sends what the outbox holds and this link has not sent yet.  Case
 * messages go first, in outbox order.  Attachment chunks follow, in
 * outbox order, each only once every case message on its case has been
 * answered by the county (so the county knows the case and its scope when
 * the chunk arrives), and at most attach_in_flight of them sent and not
 * yet stored by the relay: a large upload never stands in front of a case
 * action for more than that many chunks on a slow link. */
void sc_send_flush(sc_client *c)
{
    if (!c->conn || !c->welcomed || sj_conn_blocked(c->conn))
        return;
    sc_outbox_entry *e = NULL;
    size_t n = 0;
    sj_error err;
    if (sc_store_outbox_pending(c->st, &e, &n, &err) != 0) {
        SJ_LOG_WARN(MOD, "outbox read failed", "error", err.message);
        return;
    }
    unsigned in_flight = 0;
    bool stop = false;
    for (size_t i = 0; i < n && !stop; i++) {
        if (e[i].action == SC_OUTBOX_CHUNK) {
            if (e[i].seq <= c->chunk_upto && e[i].state == SC_OUT_SAVED)
                in_flight++;
            continue;
        }
        if (e[i].seq <= c->sent_upto)
            continue;
        int rc = send_row(c, &e[i], &err);
        if (rc == SJ_EBACKPRESSURE || rc == SJ_ECLOSED) {
            stop = true; /* on_drain or the next link resumes */
            break;
        }
        if (rc == SJ_EUNSUPPORTED) {
            SJ_LOG_WARN(MOD, "outbox message waits for the relay's upgrade", "error", err.message);
        } else if (rc != 0) {
            /* A payload that cannot be sent at all (over the frame limit):
             * it was checked when saved, so this is a damaged row.  Skip it
             * on this link and say so; it stays in the outbox. */
            SJ_LOG_ERROR(MOD, "outbox message cannot be sent", "error", err.message);
        }
        c->sent_upto = e[i].seq;
    }
    for (size_t i = 0; i < n && !stop; i++) {
        /* A chunk the relay already stored goes again after a reconnect
         * like every unanswered message: the relay answers it from its
         * queue or its results (a result handed over just before a crash
         * here would otherwise be lost). */
        if (e[i].action != SC_OUTBOX_CHUNK || e[i].seq <= c->chunk_upto)
            continue;
        if (in_flight >= c->attach_in_flight || case_pending(e, n, e[i].case_id))
            break; /* the next ack or answer resumes, in order */
        int rc = send_row(c, &e[i], &err);
        if (rc == SJ_EBACKPRESSURE || rc == SJ_ECLOSED)
            break;
        if (rc != 0)
            SJ_LOG_ERROR(MOD, "outbox message cannot be sent", "error", err.message);
        c->chunk_upto = e[i].seq;
        in_flight++;
    }
    sc_store_outbox_free(e, n);
}

/* The answer to an attachment's chunk: the outbox row and the
 * attachment's progress move together, in one transaction (a crash
 * between them would leave the count of recorded chunks short forever);
 * then the next chunks may go. */
static void on_chunk_ack(sc_client *c, const Sanji__Ack *a, const sc_outbox_entry *e,
                         sc_out_state state, const char *reason)
{
    sj_error err;
    Sanji__Envelope *env = NULL;
    const uint8_t *aid = NULL;
    if (sj_envelope_unpack(e->payload, e->payload_len, &env, &err) == 0 &&
        env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK &&
        env->attachment_chunk->attachment_id.len == 16)
        aid = env->attachment_chunk->attachment_id.data;
    bool changed = false;
    int rc = sc_store_begin(c->st, &err);
    if (rc == 0)
        rc = sc_store_outbox_mark(c->st, a->message_id.data, state,
                                  state == SC_OUT_REFUSED ? a->code : 0,
                                  state == SC_OUT_REFUSED ? reason : "", nz(a->case_number),
                                  a->case_version, sj_clock_real_ms(), &changed, &err);
    if (rc == 0 && changed && aid && state != SC_OUT_STORED)
        rc = sc_store_attach_progress(c->st, aid, state == SC_OUT_APPLIED, a->code, reason, &err);
    if (rc == 0)
        rc = sc_store_commit(c->st, &err);
    sj_envelope_free(env);
    if (rc != 0) {
        sc_store_rollback(c->st);
        SJ_LOG_WARN(MOD, "outbox update failed", "error", err.message);
        return;
    }
    if (changed && state == SC_OUT_REFUSED) {
        sc_event ev = {.type = SC_EV_REFUSED,
                       .message_id = a->message_id.data,
                       .case_id = e->case_id,
                       .action = (sj_case_action)e->action,
                       .case_number = nz(a->case_number),
                       .code = a->code,
                       .reason = reason};
        sc_client_emit(c, &ev);
    }
    sc_send_flush(c); /* also after a repeated answer: a resent chunk leaves room */
}

void sc_send_on_ack(sc_client *c, const Sanji__Ack *a)
{
    if (a->message_id.len != 16 || sc_queries_admin_answered(c, a))
        return;
    sc_out_state state;
    switch (a->status) {
    case SANJI__ACK_STATUS__ACK_STATUS_STORED: state = SC_OUT_STORED; break;
    case SANJI__ACK_STATUS__ACK_STATUS_APPLIED: state = SC_OUT_APPLIED; break;
    case SANJI__ACK_STATUS__ACK_STATUS_REFUSED: state = SC_OUT_REFUSED; break;
    default: return;
    }
    sc_outbox_entry *e = NULL;
    sj_error err;
    if (sc_store_outbox_get(c->st, a->message_id.data, &e, &err) != 0)
        return; /* not ours, or already pruned: nothing to do */
    bool changed = false;
    const char *reason = nz(a->reason);
    if (state == SC_OUT_REFUSED && !*reason)
        reason = _(sj_err_text(a->code));
    if (e->action == SC_OUTBOX_CHUNK) {
        on_chunk_ack(c, a, e, state, reason);
        sc_store_outbox_free(e, 1);
        return;
    }
    if (sc_store_outbox_mark(c->st, a->message_id.data, state, state == SC_OUT_REFUSED ? a->code : 0,
                             state == SC_OUT_REFUSED ? reason : "", nz(a->case_number),
                             a->case_version, sj_clock_real_ms(), &changed, &err) != 0) {
        SJ_LOG_WARN(MOD, "outbox update failed", "error", err.message);
        sc_store_outbox_free(e, 1);
        return;
    }
    if (changed) {
        if (state == SC_OUT_REFUSED)
            sc_password_drop_for(c, e);
        if (state == SC_OUT_REFUSED && a->current && a->current->case_id.len == 16 &&
            sj_orgunit_contains(c->node.unit, nz(a->current->village))) {
            if (sc_store_case_put(c->st, a->current, &err) == 0) {
                sc_event cev = {.type = SC_EV_CASE_CHANGED,
                                .case_id = a->current->case_id.data,
                                .case_number = nz(a->current->number),
                                .snapshot = a->current};
                sc_client_emit(c, &cev);
            }
        }
        if (state >= SC_OUT_APPLIED &&
            sc_store_case_prediction_needed(c->st, e->case_id) == 0)
            sc_store_case_put_predicted(c->st, e->case_id, NULL, &err);
        sc_event ev = {.type = state == SC_OUT_STORED    ? SC_EV_STORED
                               : state == SC_OUT_APPLIED ? SC_EV_APPLIED
                                                         : SC_EV_REFUSED,
                       .message_id = a->message_id.data,
                       .case_id = e->case_id,
                       .action = (sj_case_action)e->action,
                       .case_number = nz(a->case_number),
                       .case_version = a->case_version,
                       .code = state == SC_OUT_REFUSED ? a->code : 0,
                       .reason = state == SC_OUT_REFUSED ? reason : ""};
        sc_client_emit(c, &ev);
        if (state >= SC_OUT_APPLIED)
            sc_send_flush(c); /* chunks waiting for this case may go */
    }
    sc_store_outbox_free(e, 1);
}

/* ---- packing -------------------------------------------------------- */

/* The frame is packed once and kept whole: the outbox stores the payload
 * from inside it, so no second buffer and no copy are made per message. */
int sc_send_pack(sc_client *c, Sanji__Envelope *env, uint8_t **frame, size_t *len, sj_error *err)
{
    size_t flen = 0;
    int rc = sj_envelope_pack(env, c->node.node_id, MAX_FRAME, frame, &flen, NULL, err);
    if (rc != 0)
        return rc;
    *len = flen - SJ_FRAME_HEADER_SIZE;
    return 0;
}
