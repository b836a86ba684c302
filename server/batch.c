/*
 * batch.c - the batcher of upward messages: the pending queue, when a
 * batch starts, the batch as one apply-worker job, the Acks and the feed
 * after its commit (see batch.h).
 *
 * Entry points: countyd_batcher_init(), countyd_batcher_upward(),
 * countyd_batcher_report(), countyd_batcher_stop(),
 * countyd_batcher_close(), countyd_batcher_register_metrics().
 */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach_store.h"
#include "caserow.h"
#include "envelope.h"
#include "feed_written.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"

#define MOD "countyd"

/* One upward message waiting for or in a batch. */
typedef struct countyd_upmsg {
    struct countyd_upmsg *next;
    void *sender;
    Sanji__Envelope *env;
    countyd_peer peer;
    char node[SJ_IDENTITY_NODE_ID_MAX];
    uint64_t arrived_ms; /* uv_now() when it came */
} upmsg;

/* ---- metrics (metrics.h; docs/OPERATIONS.md lists them) ------------------- */

static const double BATCH_BOUNDS[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
static const double LATENCY_BOUNDS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10,   30};
static sj_metric m_applied = SJ_METRIC_COUNTER(
    "sanji_county_messages_applied_total",
    "upward messages recorded (answered APPLIED; resent ones counted again)", NULL);
static sj_metric m_refused = SJ_METRIC_COUNTER(
    "sanji_county_messages_refused_total", "upward messages refused, by the refusal's code",
    "code");
static sj_metric m_redelivered = SJ_METRIC_COUNTER(
    "sanji_county_messages_redelivered_total",
    "upward messages already recorded, answered from the stored result (resent by a relay)", NULL);
static sj_metric m_batch = SJ_METRIC_HISTOGRAM(
    "sanji_county_apply_batch_size", "upward messages applied in one database commit", NULL,
    BATCH_BOUNDS);
static sj_metric m_latency = SJ_METRIC_HISTOGRAM(
    "sanji_county_apply_latency_seconds",
    "from an upward message's arrival to its commit (waiting, batching and the database)", NULL,
    LATENCY_BOUNDS);
static sj_metric m_pending = SJ_METRIC_GAUGE(
    "sanji_county_pending_messages", "upward messages waiting for or in a database commit", NULL);

void countyd_batcher_register_metrics(void)
{
    sj_metric *const all[] = {&m_applied, &m_refused, &m_redelivered,
                              &m_batch,   &m_latency, &m_pending};
    sj_metrics_register(all, sizeof(all) / sizeof(all[0]));
}

void countyd_batcher_report(const countyd_batcher *b)
{
    sj_metric_set(&m_pending, NULL, (double)(b->n_pending + b->n_inflight));
}

/* ---- one batch on the apply worker ---------------------------------------- */

typedef struct batch {
    countyd_batcher *owner;
    upmsg **msgs;
    size_t n;
    countyd_attach_limits attach; /* a batch of one AttachmentChunk: the limits */
    countyd_apply_msg *am;
    countyd_apply_result *res;
    Sanji__Case **current;
    Sanji__FeedUpdate **upd;
    size_t n_upd;
    bool feed_lost;
} batch;

static bool is_chunk(const upmsg *m)
{
    return m->env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK;
}

/* The batch's messages as the apply path takes them. */
static void batch_messages(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const Sanji__Envelope *env = b->msgs[i]->env;
        countyd_apply_msg *m = &b->am[i];
        memset(m, 0, sizeof(*m));
        memcpy(m->message_id, env->message_id.data, 16);
        m->peer = &b->msgs[i]->peer;
        if (env->body_case == SANJI__ENVELOPE__BODY_CASE_SUBMIT)
            m->submit = env->case_submit;
        else if (env->body_case == SANJI__ENVELOPE__BODY_PASSWORD_CHANGE)
            m->password = env->password_change;
        else
            m->action = env->case_action;
        b->current[i] = NULL;
    }
}

static void batch_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    batch *b = j->data;
    if (b->n == 1 && is_chunk(b->msgs[0])) {
        /* An attachment's chunk is applied alone, in its own transaction
         * (server/attach.h); it writes no feed row. */
        memcpy(b->am[0].message_id, b->msgs[0]->env->message_id.data, 16);
        b->current[0] = NULL;
        j->status = countyd_attach_apply(db, b->am[0].message_id, &b->msgs[0]->peer,
                                         b->msgs[0]->env->attachment_chunk, &b->attach,
                                         &b->res[0], &j->err);
        return;
    }
    batch_messages(b);
    j->status = countyd_apply_batch(apply, b->am, b->n, b->res, &j->err);
    if (j->status != 0)
        return;
    sj_error e;
    for (size_t i = 0; i < b->n; i++)
        if (b->res[i].code == SJ_ESTALE_VERSION &&
            countyd_caserow_load(db, &j->arena, b->res[i].case_id, NULL, &b->current[i], &e) != 0)
            b->current[i] = NULL;
    if (countyd_feed_written_load(db, &j->arena, b->res, b->n, &b->upd, &b->n_upd, &e) != 0) {
        b->feed_lost = true;
        b->n_upd = 0;
    }
}

static void free_upmsg(countyd_batcher *bt, upmsg *m)
{
    sj_envelope_free(m->env);
    if (m->sender)
        bt->hooks.release(m->sender);
    free(m);
}

static void free_batch(batch *b)
{
    if (!b)
        return;
    free(b->msgs);
    free(b->am);
    free(b->res);
    free(b->current);
    free(b);
}

static void maybe_batch(countyd_batcher *bt);

/* The figures, the Acks and the feed of a committed batch. */
static void batch_committed(countyd_batcher *bt, batch *b)
{
    uint64_t now = uv_now(bt->loop);
    sj_metric_observe(&m_batch, NULL, (double)b->n);
    bool notify = false;
    for (size_t i = 0; i < b->n; i++) {
        const countyd_apply_result *r = &b->res[i];
        sj_metric_observe(&m_latency, NULL, (double)(now - b->msgs[i]->arrived_ms) / 1000.0);
        if (r->redelivered)
            sj_metric_add(&m_redelivered, NULL, 1);
        else if (r->status == SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
            sj_metric_add(&m_applied, NULL, 1);
        else
            sj_metric_add(&m_refused, sj_err_name(r->code), 1);
        /* A message to a villager was queued: the notifier looks at once
         * instead of at its next interval. */
        notify = notify || (r->notify_queued && !r->redelivered);
    }
    for (size_t i = 0; i < b->n; i++)
        bt->hooks.ack(b->msgs[i]->sender, b->am[i].message_id, &b->res[i], b->current[i],
                      &b->msgs[i]->peer);
    bt->hooks.committed(bt->hooks.arg, b->upd, b->n_upd, b->feed_lost, notify);
    char n[24];
    snprintf(n, sizeof(n), "%zu", b->n);
    SJ_LOG_DEBUG(MOD, "batch committed", "messages", n);
}

static void batch_done(countyd_job *j)
{
    batch *b = j->data;
    countyd_batcher *bt = b->owner;
    if (j->status == 0) {
        batch_committed(bt, b);
    } else if (j->status != SJ_ECANCELLED) {
        /* Not a database outage (those are retried): nothing was applied
         * and no Ack goes out; the senders resend after reconnecting. */
        SJ_LOG_ERROR(MOD, "批处理失败，未应用 (batch failed; nothing applied)", "code",
                     sj_err_name(j->status), "why", j->err.message);
    }
    for (size_t i = 0; i < b->n; i++)
        free_upmsg(bt, b->msgs[i]);
    bt->n_inflight -= b->n;
    free_batch(b);
    countyd_job_free(j);
    bt->busy = false;
    maybe_batch(bt);
}

/* A batch of n messages, or NULL when memory is short. */
static batch *batch_new(size_t n)
{
    batch *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->msgs = calloc(n, sizeof(*b->msgs));
    b->am = calloc(n, sizeof(*b->am));
    b->res = calloc(n, sizeof(*b->res));
    b->current = calloc(n, sizeof(*b->current));
    if (!b->msgs || !b->am || !b->res || !b->current) {
        free_batch(b);
        return NULL;
    }
    return b;
}

static void launch_batch(countyd_batcher *bt);

static void on_timer(uv_timer_t *t)
{
    countyd_batcher *bt = t->data;
    if (!bt->busy && !bt->stopping)
        launch_batch(bt);
}

static void launch_batch(countyd_batcher *bt)
{
    size_t n = bt->n_pending < (size_t)bt->cfg->batch_size ? bt->n_pending
                                                           : (size_t)bt->cfg->batch_size;
    if (n == 0)
        return;
    /* Messages are applied in the order they came: a batch ends before an
     * attachment's chunk, which goes as a batch of its own. */
    size_t k = 0;
    for (const upmsg *m = bt->head; m && k < n; m = m->next, k++)
        if (is_chunk(m)) {
            n = k ? k : 1;
            break;
        }
    batch *b = batch_new(n);
    countyd_job *j = b ? countyd_job_new() : NULL;
    if (!j) {
        /* Out of memory mid-run: the messages stay pending (nothing is
         * lost or answered) and the batch is tried again later; the
         * max_pending bound closes links meanwhile. */
        free_batch(b);
        SJ_LOG_ERROR(MOD, "内存耗尽，批处理稍后重试 (out of memory; the batch is tried again later)");
        uint64_t wait = bt->cfg->batch_wait_ms > 0 ? (uint64_t)bt->cfg->batch_wait_ms : 100;
        uv_timer_start(&bt->timer, on_timer, wait, 0);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        upmsg *m = bt->head;
        bt->head = m->next;
        m->next = NULL;
        b->msgs[i] = m;
    }
    if (!bt->head)
        bt->tail = NULL;
    bt->n_pending -= n;
    bt->n_inflight += n;
    b->owner = bt;
    b->n = n;
    b->attach.max_file = (uint64_t)bt->cfg->attach_max_file;
    b->attach.max_case = (uint64_t)bt->cfg->attach_max_case;
    j->run = batch_run;
    j->done = batch_done;
    j->retryable = true;
    j->data = b;
    bt->busy = true;
    countyd_worker_push(bt->apply, j);
}

/* A batch starts when batch_size messages wait, or when the oldest has
 * waited batch_wait.  The wait is counted from the oldest message's
 * arrival, not from the end of the last commit: messages that came while
 * a batch was applied have waited already, and under load a commit takes
 * longer than batch_wait, so they go at once and the batch is as large as
 * the load makes it anyway. */
static void maybe_batch(countyd_batcher *bt)
{
    if (bt->busy || !bt->head || bt->stopping)
        return;
    uint64_t wait = (uint64_t)bt->cfg->batch_wait_ms;
    uint64_t waited = uv_now(bt->loop) - bt->head->arrived_ms;
    if (bt->n_pending >= (size_t)bt->cfg->batch_size || waited >= wait) {
        uv_timer_stop(&bt->timer);
        launch_batch(bt);
    } else if (!uv_is_active((uv_handle_t *)&bt->timer)) {
        uv_timer_start(&bt->timer, on_timer, wait - waited, 0);
    }
}

void countyd_batcher_init(countyd_batcher *b, uv_loop_t *loop, const countyd_config *cfg,
                          countyd_worker *apply, const countyd_batcher_hooks *hooks)
{
    *b = (countyd_batcher){.loop = loop, .cfg = cfg, .apply = apply, .hooks = *hooks};
    uv_timer_init(loop, &b->timer);
    b->timer.data = b;
}

int countyd_batcher_upward(countyd_batcher *b, void *sender, Sanji__Envelope *env,
                           const countyd_peer *peer)
{
    int rc = 0;
    upmsg *m = NULL;
    if (b->n_pending + b->n_inflight >= (size_t)b->cfg->max_pending || b->stopping)
        rc = SJ_EBUSY;
    else if (!(m = calloc(1, sizeof(*m))))
        rc = SJ_ENOMEM;
    if (rc != 0) {
        sj_envelope_free(env);
        if (sender)
            b->hooks.release(sender);
        return rc;
    }
    m->sender = sender;
    m->env = env;
    m->arrived_ms = uv_now(b->loop);
    m->peer = *peer;
    snprintf(m->node, sizeof(m->node), "%s", peer->node ? peer->node : "");
    m->peer.node = m->node;
    if (b->tail)
        b->tail->next = m;
    else
        b->head = m;
    b->tail = m;
    b->n_pending++;
    maybe_batch(b);
    return 0;
}

void countyd_batcher_stop(countyd_batcher *b)
{
    b->stopping = true;
    uv_timer_stop(&b->timer);
}

void countyd_batcher_close(countyd_batcher *b)
{
    while (b->head) {
        upmsg *m = b->head;
        b->head = m->next;
        free_upmsg(b, m);
    }
    b->tail = NULL;
    b->n_pending = 0;
    uv_close((uv_handle_t *)&b->timer, NULL);
}
