/*
 * down_out.c - a station's or desk's output at the relay: frames that wait
 * for the turn's commit (acks), frames ready to send, and the stored
 * results among them, tracked until the link has written them
 * (downstream_private.h).  Nothing here reads the store.
 */
#include <stdlib.h>
#include <string.h>

#include "downstream_private.h"
#include "frame.h"
#include "log.h"
#include "wire.h"

#define MOD DOWN_MOD

out_frame *down_out_alloc(size_t cap)
{
    out_frame *f = malloc(sizeof *f + cap);
    if (f) {
        f->next = NULL;
        f->is_result = false;
        f->len = 0;
    }
    return f;
}

out_frame *down_out_pack(relay *r, const Sanji__Envelope *env)
{
    /* Packed straight into the frame that is queued: one allocation. */
    size_t cap = sj_envelope_packed_size(env, r->self.node_id);
    out_frame *f = down_out_alloc(cap);
    if (f == NULL) {
        SJ_LOG_WARN(MOD, "cannot pack a message", "code", sj_err_name(SJ_ENOMEM));
        return NULL;
    }
    sj_error err;
    long n = sj_envelope_pack_into(env, r->self.node_id, r->cfg->max_frame, f->frame, cap, NULL,
                                   &err);
    if (n < 0) {
        SJ_LOG_WARN(MOD, "cannot pack a message", "code", sj_err_name((int)n), "why",
                    err.message);
        free(f);
        return NULL;
    }
    f->len = (size_t)n;
    return f;
}

void down_out_push(out_frame **head, out_frame **tail, out_frame *f)
{
    if (f == NULL)
        return;
    if (*tail)
        (*tail)->next = f;
    else
        *head = f;
    *tail = f;
}

void down_out_free_list(out_frame *f)
{
    while (f) {
        out_frame *n = f->next;
        free(f);
        f = n;
    }
}

inflight *down_out_inflight_find(session *s, const uint8_t id[16])
{
    for (size_t i = 0; i < s->n_inflight; i++)
        if (memcmp(s->inflight[i].id, id, 16) == 0)
            return &s->inflight[i];
    return NULL;
}

void down_out_inflight_drop(session *s, inflight *e)
{
    *e = s->inflight[--s->n_inflight];
}

bool down_out_flush(session *s)
{
    while (s->out_head && !s->closing) {
        out_frame *f = s->out_head;
        sj_error err;
        /* The frame already has its header: sent as it is, no second buffer. */
        int rc = sj_conn_send_frame(s->conn, f->frame, f->len - 4, &err);
        if (rc == SJ_EBACKPRESSURE)
            return false;
        if (rc == SJ_EUNSUPPORTED)
            SJ_LOG_INFO(MOD, "not sent to an older peer", "peer", s->peer.node_id, "why",
                        err.message);
        else if (rc != 0 && rc != SJ_ECLOSED)
            SJ_LOG_WARN(MOD, "message not sent", "peer", s->peer.node_id, "why", err.message);
        inflight *e = f->is_result ? down_out_inflight_find(s, f->result_id) : NULL;
        if (e != NULL && rc == 0) {
            e->sent = true;
            e->mark = sj_conn_send_mark(s->conn);
        } else if (e != NULL) {
            down_out_inflight_drop(s, e); /* not sent: stays undelivered in the store */
        }
        s->out_head = f->next;
        if (s->out_head == NULL)
            s->out_tail = NULL;
        free(f);
    }
    return !s->closing && !sj_conn_blocked(s->conn);
}

void down_out_send_now(session *s, const Sanji__Envelope *env)
{
    down_out_push(&s->out_head, &s->out_tail, down_out_pack(s->d->r, env));
    down_out_flush(s);
}

void down_out_queue_ack(session *s, const ProtobufCBinaryData *message_id,
                        Sanji__AckStatus status, int code, const char *reason,
                        const ProtobufCBinaryData *case_id)
{
    Sanji__Ack ack = SANJI__ACK__INIT;
    ack.message_id = *message_id;
    ack.status = status;
    ack.code = code;
    ack.reason = (char *)(reason ? reason : "");
    if (case_id)
        ack.case_id = *case_id;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    /* Every ack waits for the turn's commit, refusals too, so that a
     * station sees its acks in the order it sent its messages. */
    down_out_push(&s->wait_head, &s->wait_tail, down_out_pack(s->d->r, &env));
}

out_frame *down_out_result_frame(relay *r, const uint8_t *ack_pb, size_t len)
{
    /* The county's Ack as it sent it (wire.h): not decoded, not re-encoded. */
    size_t cap = relay_wire_ack_frame_size(r->self.node_id, len);
    if (cap - SJ_FRAME_HEADER_SIZE > r->cfg->max_frame) {
        SJ_LOG_WARN(MOD, "cannot pack a message", "code", sj_err_name(SJ_EFRAME_TOO_LARGE));
        return NULL;
    }
    out_frame *f = down_out_alloc(cap);
    if (f == NULL)
        return NULL;
    f->len = relay_wire_ack_frame(f->frame, r->self.node_id, ack_pb, len);
    return f;
}

int down_out_result(session *s, const uint8_t id[16], const uint8_t *ack_pb, size_t len,
                    bool after_commit)
{
    if (down_out_inflight_find(s, id) != NULL)
        return 0; /* already on its way on this link */
    if (s->n_inflight == s->cap_inflight) {
        size_t cap = s->cap_inflight ? 2 * s->cap_inflight : 16;
        inflight *n = realloc(s->inflight, cap * sizeof *n);
        if (n == NULL)
            return SJ_ENOMEM;
        s->inflight = n;
        s->cap_inflight = cap;
    }
    out_frame *f = down_out_result_frame(s->d->r, ack_pb, len);
    if (f == NULL)
        return SJ_ENOMEM;
    f->is_result = true;
    memcpy(f->result_id, id, 16);
    inflight *e = &s->inflight[s->n_inflight++];
    memcpy(e->id, id, 16);
    e->sent = false;
    e->mark = 0;
    if (after_commit)
        down_out_push(&s->wait_head, &s->wait_tail, f);
    else
        down_out_push(&s->out_head, &s->out_tail, f);
    return 0;
}
