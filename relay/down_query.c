/*
 * down_query.c - a station's or desk's queries at the relay: kept as
 * received and answered from the cache (query.h) one at a time as the
 * link has room, or, for what only the county computes (period
 * statistics, stars, attachments), passed to the county unchanged and
 * matched with its answer by message id.  See docs/RELAY.md "Downward
 * path and the cache" and "Slow stations and desks".
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "downstream_private.h"
#include "i18n.h"
#include "log.h"
#include "query.h"

#define MOD DOWN_MOD
/* Queries one session may have answered per loop turn before yielding:
 * a case list scans the village's cached cases (tens of ms for 4000), and the
 * other links wait meanwhile. */
#define QUERY_BUDGET 1
/* How long a forwarded question waits for the county's answer. */
#define FORWARD_TIMEOUT_MS (60 * 1000)

/* relay_query_buf_fn: the answer is packed straight into the out_frame
 * that is queued (*arg); a second call replaces the first frame. */
static uint8_t *answer_frame(void *arg, size_t cap)
{
    out_frame **f = arg;
    free(*f);
    *f = down_out_alloc(cap);
    return *f ? (*f)->frame : NULL;
}

/* See downstream_private.h; QUERY_BUDGET answers per call. */
bool down_query_answer_waiting(session *s, bool *more)
{
    relay *r = s->d->r;
    int budget = QUERY_BUDGET;
    *more = false;
    while (s->q_head) {
        if (!down_out_flush(s))
            return false;
        if (budget-- == 0) {
            *more = true;
            return true;
        }
        pending_query *q = s->q_head;
        s->q_head = q->next;
        if (s->q_head == NULL)
            s->q_tail = NULL;
        s->n_queries--;
        Sanji__Envelope *env = NULL;
        out_frame *f = NULL;
        size_t len = 0;
        sj_error err;
        /* It was checked when it arrived; unpacking again cannot fail but
         * for memory. */
        int rc = sj_envelope_unpack(q->payload, q->len, &env, &err);
        if (rc == 0)
            rc = relay_query_answer(r, &s->peer, s->scope, env, answer_frame, &f, &len, &err);
        sj_envelope_free(env);
        free(q);
        if (rc != 0) {
            free(f);
            SJ_LOG_WARN(MOD, "query not answered", "peer", s->peer.node_id, "why", err.message);
            continue;
        }
        f->len = len;
        down_out_push(&s->out_head, &s->out_tail, f);
    }
    return down_out_flush(s);
}

/* Answers a question with a code and reason only. */
static void answer_code(session *s, const ProtobufCBinaryData *id, int code, const char *reason)
{
    Sanji__QueryResult res = SANJI__QUERY_RESULT__INIT;
    res.in_reply_to = *id;
    res.code = code;
    res.reason = (char *)reason;
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
    out.query_result = &res;
    down_out_send_now(s, &out);
}

/* Period statistics are computed by the county alone (docs/STATISTICS.md
 * "Who computes"): the question goes to it unchanged, and the county takes
 * the asker from sender_node, so that a township desk sees its township
 * and a station its village.  That is why sender_node must be this link's
 * own peer. */
static void forward_query(session *s, const Sanji__Envelope *env, const uint8_t *payload,
                          size_t len, const char *down_reason)
{
    relay *r = s->d->r;
    if (env->message_id.len != SJ_ENVELOPE_ID_SIZE)
        return; /* sj_envelope_unpack() checked it; nothing to answer to */
    if (env->sender_node == NULL || strcmp(env->sender_node, s->peer.node_id) != 0) {
        answer_code(s, &env->message_id, SJ_EPROTOCOL,
                    _("The question names another sender than the certificate of this link."));
        return;
    }
    if (s->n_fwd >= QUERY_WAIT_MAX) {
        answer_code(s, &env->message_id, SJ_EBUSY,
                    _("Too many questions are waiting at the township relay; ask again once the "
                      "earlier answers have come."));
        return;
    }
    forwarded_query *f = calloc(1, sizeof *f);
    sj_error err;
    int rc = f ? 0 : SJ_ENOMEM;
    if (rc == 0 && !r->upstream_online)
        rc = SJ_EUPSTREAM_DOWN;
    if (rc == 0)
        rc = s->d->ev.forward(s->d->ev.arg, payload, len, &err);
    if (rc != 0) {
        free(f);
        answer_code(s, &env->message_id, rc == SJ_EBACKPRESSURE ? SJ_EBUSY : SJ_EUPSTREAM_DOWN,
                    down_reason);
        return;
    }
    memcpy(f->id, env->message_id.data, SJ_ENVELOPE_ID_SIZE);
    f->deadline_ms = sj_clock_mono_ms() + FORWARD_TIMEOUT_MS;
    f->next = s->fwd;
    s->fwd = f;
    s->n_fwd++;
}

void down_query_fail_forwarded(session *s, int code, const char *reason, bool expired_only)
{
    int64_t now = sj_clock_mono_ms();
    for (forwarded_query **p = &s->fwd; *p;) {
        forwarded_query *f = *p;
        if (expired_only && f->deadline_ms > now) {
            p = &f->next;
            continue;
        }
        *p = f->next;
        s->n_fwd--;
        ProtobufCBinaryData id = {SJ_ENVELOPE_ID_SIZE, f->id};
        answer_code(s, &id, code, reason);
        free(f);
    }
}

void relay_downstream_query_result(relay_downstream *d, Sanji__QueryResult *res)
{
    if (res->in_reply_to.len != SJ_ENVELOPE_ID_SIZE)
        return;
    for (session *s = d->sessions; s; s = s->next)
        for (forwarded_query **p = &s->fwd; *p; p = &(*p)->next) {
            if (memcmp((*p)->id, res->in_reply_to.data, SJ_ENVELOPE_ID_SIZE) != 0)
                continue;
            forwarded_query *f = *p;
            *p = f->next;
            s->n_fwd--;
            free(f);
            if (!s->closing) {
                Sanji__Envelope out = SANJI__ENVELOPE__INIT;
                out.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
                out.query_result = res;
                down_out_send_now(s, &out);
            }
            return;
        }
}

void down_query_handle(session *s, const Sanji__Envelope *env, const uint8_t *payload,
                         size_t len)
{
    /* Statistics and station stars are the county's to compute. */
    if (env->query && (env->query->kind_case == SANJI__QUERY__KIND_PERIOD_STATISTICS ||
                       env->query->kind_case == SANJI__QUERY__KIND_STARS)) {
        forward_query(s, env, payload, len,
                      _("Statistics are computed by the county; ask again when the township's "
                        "link to the county is back."));
        return;
    }
    if (env->query && env->query->kind_case == SANJI__QUERY__KIND_ATTACHMENT) {
        /* Attachments are kept at the county only (PROTOCOL.md "Attachments"). */
        forward_query(s, env, payload, len,
                      _("Attachments are kept at the county; open it again when the township's "
                        "link to the county is back."));
        return;
    }
    if (s->n_queries >= QUERY_WAIT_MAX) {
        Sanji__QueryResult res = SANJI__QUERY_RESULT__INIT;
        res.in_reply_to = env->message_id;
        res.code = SJ_EBUSY;
        res.reason = (char *)_("Too many questions are waiting at the township relay; ask again "
                               "once the earlier answers have come.");
        Sanji__Envelope out = SANJI__ENVELOPE__INIT;
        out.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
        out.query_result = &res;
        down_out_send_now(s, &out);
        return;
    }
    pending_query *q = malloc(sizeof *q + len);
    if (q == NULL) {
        SJ_LOG_WARN(MOD, "query not answered: out of memory", "peer", s->peer.node_id);
        return;
    }
    q->next = NULL;
    q->len = len;
    memcpy(q->payload, payload, len);
    if (s->q_tail)
        s->q_tail->next = q;
    else
        s->q_head = q;
    s->q_tail = q;
    s->n_queries++;
    /* Answered at the end of the turn (relay_downstream_after_commit()),
     * QUERY_BUDGET at a time, not here: a burst of queries in one read
     * must not hold the loop for all of its answers. */
    relay_request_commit(s->d->r);
}

void down_query_free(session *s)
{
    pending_query *q = s->q_head;
    while (q) {
        pending_query *n = q->next;
        free(q);
        q = n;
    }
    s->q_head = s->q_tail = NULL;
    s->n_queries = 0;
    while (s->fwd) {
        forwarded_query *n = s->fwd->next;
        free(s->fwd);
        s->fwd = n;
    }
    s->n_fwd = 0;
}
