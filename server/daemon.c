/*
 * daemon.c - the county's network service: loop, listener, signals, the
 * two database workers, batching of upward messages, the sweep timer and
 * the distribution of committed feed updates (see daemon.h).
 *
 * Live links follow the PKI (docs/PKI.md): tls.crl is re-read on SIGHUP
 * and every tls.crl_reload; after each reload, and at every tick for
 * certificates that expire, every link whose peer is no longer valid is
 * cut (listener.h).  Relays that ask for it (Hello.crl_updates) get the
 * CRL in force as a CrlUpdate after their Hello and whenever it changes.
 * The live links are listed on a local socket (linkctl.h) for
 * `sanji-countyd links`.
 *
 * Entry points: countyd_daemon_run(), countyd_daemon_upward(),
 * countyd_daemon_query_job(), countyd_daemon_store_status(),
 * countyd_daemon_has_node(), countyd_job_new(), countyd_job_free().
 */
#include "daemon.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attach_store.h"
#include "ca_time.h"
#include "caserow.h"
#include "clock.h"
#include "db.h"
#include "envelope.h"
#include "feed.h"
#include "i18n.h"
#include "linkctl.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "orgunit.h"
#include "presence.h"
#include "query.h"
#include "sdnotify.h"
#include "session.h"
#include "notify.h"
#include "sweep.h"
#include "tls.h"

#define MOD "countyd"
#define RETRY_MIN_MS 100
#define SWEEP_MAX_CASES 1000
#define TICK_MS 1000

typedef struct worker {
    countyd_daemon *d;
    const char *name;
    bool is_apply;
    PGconn *db;
    countyd_apply apply;
    bool apply_open;
    countyd_job *head, *tail;
    countyd_job *running;
    uv_work_t work;
    uv_timer_t retry;
    bool waiting_retry;
    int64_t backoff_ms;
    bool db_down; /* for logging the outage once */
} worker;

/* One upward message waiting for or in a batch. */
typedef struct upmsg {
    struct upmsg *next;
    countyd_session *s;
    Sanji__Envelope *env;
    countyd_peer peer;
    char node[SJ_IDENTITY_NODE_ID_MAX];
    uint64_t arrived_ms; /* uv_now() when it came */
} upmsg;

/* A relay's link that takes CrlUpdate messages (Hello.crl_updates). */
typedef struct crl_sub {
    struct crl_sub *next;
    sj_conn *conn;
    unsigned sent; /* the crl_version last sent on it; 0: none yet */
} crl_sub;

struct countyd_daemon {
    const countyd_config *cfg;
    int64_t time_floor_ms;  /* the county CA's notBefore (ca_time.h) */
    uv_loop_t loop;
    sj_tls_ctx *tls;
    sj_listener *listener;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t batch_timer, sweep_timer, tick_timer;
    worker applyw, queryw;
    upmsg *pend_head, *pend_tail;
    size_t n_pending, n_inflight;
    bool batch_busy, sweep_busy;
    int32_t calendar_warned_day;   /* China day of the last missing-calendar warning */
    countyd_session *sessions;
    bool stopping, listener_closed, finished;
    sj_sdnotify_watchdog watchdog; /* WATCHDOG=1 from this loop when systemd asks (sdnotify.h) */
    uv_timer_t crl_timer;          /* tls.crl_reload */
    unsigned crl_version;          /* bumped when the CRL in force changes; 0: none */
    crl_sub *crl_subs;
    sj_linkctl *linkctl;           /* `sanji-countyd links` (NULL if it could not start) */
    uv_timer_t notify_timer;       /* notify.interval */
    bool notify_busy;              /* a message is being taken, sent or recorded */
    bool notify_recovered;         /* rows left `sending` by the last stop made pending */
    struct notify_run *notify_cur; /* the attempt whose command runs, or NULL */
    sj_metrics_http *metrics;      /* GET /metrics (metrics.listen), or NULL */
};

/* ---- metrics (metrics.h; docs/OPERATIONS.md lists them) ------------------- */

static const double BATCH_BOUNDS[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
static const double LATENCY_BOUNDS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10,   30};
static sj_metric m_sessions = SJ_METRIC_GAUGE(
    "sanji_county_sessions", "links of relays, county desks and department desks now open", NULL);
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
static sj_metric m_db_errors = SJ_METRIC_COUNTER(
    "sanji_county_database_errors_total",
    "database jobs that failed (DB_CONN: PostgreSQL unreachable, retried; DB: an error of the "
    "database)",
    "code");

static void register_metrics(void)
{
    sj_metric *const all[] = {&m_sessions,  &m_applied, &m_refused, &m_redelivered,
                              &m_batch,     &m_latency, &m_pending, &m_db_errors};
    sj_metrics_register_common();
    sj_metrics_register(all, sizeof(all) / sizeof(all[0]));
}

/* ---- jobs -------------------------------------------------------------- */

countyd_job *countyd_job_new(void)
{
    countyd_job *j = calloc(1, sizeof(*j));
    if (!j) {
        SJ_LOG_ERROR(MOD, "内存耗尽，退出 (out of memory; exiting)");
        exit(70);
    }
    countyd_arena_init(&j->arena);
    return j;
}

void countyd_job_free(countyd_job *j)
{
    if (!j)
        return;
    countyd_arena_free(&j->arena);
    if (j->session)
        countyd_session_unref(j->session);
    free(j);
}

static void worker_kick(worker *k);

static void work_cb(uv_work_t *w)
{
    worker *k = w->data;
    countyd_job *j = k->running;
    const countyd_config *cfg = k->d->cfg;
    j->status = 0;
    sj_error_clear(&j->err);
    if (!k->db || PQstatus(k->db) != CONNECTION_OK) {
        if (k->apply_open) {
            countyd_apply_close(&k->apply);
            k->apply_open = false;
        }
        if (k->db)
            PQfinish(k->db);
        k->db = NULL;
        if (countyd_db_connect(cfg->database, &k->db, &j->err) != 0) {
            j->status = SJ_EDB_CONN;
            return;
        }
        if (k->is_apply) {
            /* The calendar comes from the database; reread it on every
             * new connection (holidays may have been imported). */
            if (countyd_apply_open(&k->apply, k->db, cfg->county, &j->err) != 0) {
                j->status = j->err.code == SJ_EDB ? SJ_EDB_CONN : j->err.code;
                PQfinish(k->db);
                k->db = NULL;
                return;
            }
            k->apply.serial_only = !cfg->pipeline;
            k->apply.rectify_days = cfg->rectify_days;

            k->apply.row_writes = !cfg->set_based;
            k->apply.time_floor_ms = k->d->time_floor_ms;
            k->apply_open = true;
        }
    }
    j->run(j, k->db, k->is_apply ? &k->apply : NULL);
}

static void on_retry(uv_timer_t *t)
{
    worker *k = t->data;
    k->waiting_retry = false;
    worker_kick(k);
}

static void after_work_cb(uv_work_t *w, int uvstatus)
{
    worker *k = w->data;
    countyd_job *j = k->running;
    k->running = NULL;
    countyd_daemon *d = k->d;
    bool db_failed = j->status == SJ_EDB_CONN || (k->is_apply && j->status == SJ_EDB);
    if (j->status == SJ_EDB_CONN || j->status == SJ_EDB)
        sj_metric_add(&m_db_errors, sj_err_name(j->status), 1);
    if (db_failed && j->retryable && !d->stopping) {
        if (!k->db_down || k->backoff_ms >= d->cfg->retry_max_ms)
            SJ_LOG_WARN(MOD, "数据库不可用，稍后重试 (database unavailable; will retry)", "worker",
                        k->name, "code", sj_err_name(j->status), "why", j->err.message);
        k->db_down = true;
        j->next = k->head;
        k->head = j;
        if (!k->tail)
            k->tail = j;
        k->waiting_retry = true;
        uv_timer_start(&k->retry, on_retry, (uint64_t)k->backoff_ms, 0);
        k->backoff_ms = k->backoff_ms * 2 > d->cfg->retry_max_ms ? d->cfg->retry_max_ms
                                                                  : k->backoff_ms * 2;
        return;
    }
    if (j->status == 0 && k->db_down) {
        SJ_LOG_INFO(MOD, "数据库已恢复 (database reachable again)", "worker", k->name);
        k->db_down = false;
    }
    if (j->status == 0)
        k->backoff_ms = RETRY_MIN_MS;
    j->done(j, d);
    worker_kick(k);
}

static void maybe_finish(countyd_daemon *d);

static void worker_kick(worker *k)
{
    if (k->running || k->waiting_retry || !k->head) {
        if (k->d->stopping && !k->running)
            maybe_finish(k->d);
        return;
    }
    if (k->d->stopping) {
        maybe_finish(k->d);
        return;
    }
    countyd_job *j = k->head;
    k->head = j->next;
    if (!k->head)
        k->tail = NULL;
    j->next = NULL;
    k->running = j;
    k->work.data = k;
    if (uv_queue_work(&k->d->loop, &k->work, work_cb, after_work_cb) != 0) {
        /* Cannot happen with a valid loop; answer the job as failed. */
        k->running = NULL;
        j->status = SJ_EINTERNAL;
        j->done(j, k->d);
    }
}

static void worker_push(worker *k, countyd_job *j)
{
    if (k->d->stopping) {
        j->status = SJ_ECANCELLED;
        j->done(j, k->d);
        return;
    }
    j->next = NULL;
    if (k->tail)
        k->tail->next = j;
    else
        k->head = j;
    k->tail = j;
    worker_kick(k);
}

void countyd_daemon_query_job(countyd_daemon *d, countyd_job *j)
{
    worker_push(&d->queryw, j);
}

/* ---- committed feed updates to the sessions ------------------------------ */

static void distribute(countyd_daemon *d, Sanji__FeedUpdate **u, size_t n, bool lost)
{
    for (countyd_session *s = d->sessions; s; s = countyd_session_next(s)) {
        for (size_t i = 0; i < n; i++)
            countyd_session_feed(s, u[i]);
        if (lost)
            countyd_session_feed_lost(s);
    }
}

/* Reads back the feed rows the results say were written (worker thread). */
static int load_written(PGconn *db, countyd_arena *a, const countyd_apply_result *r, size_t n,
                        Sanji__FeedUpdate ***out, size_t *n_out, sj_error *err)
{
    *out = NULL;
    *n_out = 0;
    countyd_feed_cursor *cur = calloc(n + 1, sizeof(*cur));
    if (!cur)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].feed_seq == 0 || r[i].redelivered)
            continue;
        size_t k = 0;
        while (k < m && strcmp(cur[k].village, r[i].village) != 0)
            k++;
        /* An action writes at most SJ_CASE_EVENTS_MAX rows ending at feed_seq. */
        uint64_t first = r[i].feed_seq > SJ_CASE_EVENTS_MAX ? r[i].feed_seq - SJ_CASE_EVENTS_MAX : 0;
        if (k == m) {
            snprintf(cur[m].village, sizeof(cur[m].village), "%s", r[i].village);
            cur[m].after = first;
            cur[m].upto = r[i].feed_seq;
            m++;
        } else {
            if (first < cur[k].after)
                cur[k].after = first;
            if (r[i].feed_seq > cur[k].upto)
                cur[k].upto = r[i].feed_seq;
        }
    }
    int rc = countyd_feed_load(db, a, cur, m, 0, out, n_out, err);
    free(cur);
    return rc;
}

/* ---- batches of upward messages ------------------------------------------ */

typedef struct batch {
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
    j->status = countyd_apply_batch(apply, b->am, b->n, b->res, &j->err);
    if (j->status != 0)
        return;
    sj_error e;
    for (size_t i = 0; i < b->n; i++)
        if (b->res[i].code == SJ_ESTALE_VERSION &&
            countyd_caserow_load(db, &j->arena, b->res[i].case_id, NULL, &b->current[i], &e) != 0)
            b->current[i] = NULL;
    if (load_written(db, &j->arena, b->res, b->n, &b->upd, &b->n_upd, &e) != 0) {
        b->feed_lost = true;
        b->n_upd = 0;
    }
}

static void free_upmsg(upmsg *m)
{
    sj_envelope_free(m->env);
    if (m->s)
        countyd_session_unref(m->s);
    free(m);
}

static void maybe_batch(countyd_daemon *d);

static void notify_kick(countyd_daemon *d);

static void batch_done(countyd_job *j, countyd_daemon *d)
{
    batch *b = j->data;
    if (j->status == 0) {
        uint64_t now = uv_now(&d->loop);
        sj_metric_observe(&m_batch, NULL, (double)b->n);
        for (size_t i = 0; i < b->n; i++) {
            const countyd_apply_result *r = &b->res[i];
            sj_metric_observe(&m_latency, NULL, (double)(now - b->msgs[i]->arrived_ms) / 1000.0);
            if (r->redelivered)
                sj_metric_add(&m_redelivered, NULL, 1);
            else if (r->status == SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
                sj_metric_add(&m_applied, NULL, 1);
            else
                sj_metric_add(&m_refused, sj_err_name(r->code), 1);
        }
        for (size_t i = 0; i < b->n; i++)
            countyd_session_ack(b->msgs[i]->s, b->am[i].message_id, &b->res[i], b->current[i],
                                &b->msgs[i]->peer);
        distribute(d, b->upd, b->n_upd, b->feed_lost);
        char n[24];
        snprintf(n, sizeof(n), "%zu", b->n);
        SJ_LOG_DEBUG(MOD, "batch committed", "messages", n);
        /* A message to a villager was queued: the notifier looks at once
         * instead of at its next interval. */
        for (size_t i = 0; i < b->n; i++)
            if (b->res[i].notify_queued && !b->res[i].redelivered) {
                notify_kick(d);
                break;
            }
    } else if (j->status != SJ_ECANCELLED) {
        /* Not a database outage (those are retried): nothing was applied
         * and no Ack goes out; the senders resend after reconnecting. */
        SJ_LOG_ERROR(MOD, "批处理失败，未应用 (batch failed; nothing applied)", "code",
                     sj_err_name(j->status), "why", j->err.message);
    }
    for (size_t i = 0; i < b->n; i++)
        free_upmsg(b->msgs[i]);
    d->n_inflight -= b->n;
    free(b->msgs);
    free(b->am);
    free(b->res);
    free(b->current);
    free(b);
    countyd_job_free(j);
    d->batch_busy = false;
    maybe_batch(d);
}

static void launch_batch(countyd_daemon *d)
{
    size_t n = d->n_pending < (size_t)d->cfg->batch_size ? d->n_pending : (size_t)d->cfg->batch_size;
    if (n == 0)
        return;
    /* Messages are applied in the order they came: a batch ends before an
     * attachment's chunk, which goes as a batch of its own. */
    size_t k = 0;
    for (const upmsg *m = d->pend_head; m && k < n; m = m->next, k++)
        if (is_chunk(m)) {
            n = k ? k : 1;
            break;
        }
    batch *b = calloc(1, sizeof(*b));
    countyd_job *j = countyd_job_new();
    if (b) {
        b->msgs = calloc(n, sizeof(*b->msgs));
        b->am = calloc(n, sizeof(*b->am));
        b->res = calloc(n, sizeof(*b->res));
        b->current = calloc(n, sizeof(*b->current));
    }
    if (!b || !b->msgs || !b->am || !b->res || !b->current) {
        SJ_LOG_ERROR(MOD, "内存耗尽，退出 (out of memory; exiting)");
        exit(70);
    }
    for (size_t i = 0; i < n; i++) {
        upmsg *m = d->pend_head;
        d->pend_head = m->next;
        m->next = NULL;
        b->msgs[i] = m;
    }
    if (!d->pend_head)
        d->pend_tail = NULL;
    d->n_pending -= n;
    d->n_inflight += n;
    b->n = n;
    b->attach.max_file = (uint64_t)d->cfg->attach_max_file;
    b->attach.max_case = (uint64_t)d->cfg->attach_max_case;
    j->run = batch_run;
    j->done = batch_done;
    j->retryable = true;
    j->data = b;
    d->batch_busy = true;
    worker_push(&d->applyw, j);
}

static void on_batch_timer(uv_timer_t *t)
{
    countyd_daemon *d = t->data;
    if (!d->batch_busy && !d->stopping)
        launch_batch(d);
}

/* A batch starts when batch_size messages wait, or when the oldest has
 * waited batch_wait.  The wait is counted from the oldest message's
 * arrival, not from the end of the last commit: messages that came while
 * a batch was applied have waited already, and under load a commit takes
 * longer than batch_wait, so they go at once and the batch is as large as
 * the load makes it anyway. */
static void maybe_batch(countyd_daemon *d)
{
    if (d->batch_busy || !d->pend_head || d->stopping)
        return;
    uint64_t wait = (uint64_t)d->cfg->batch_wait_ms;
    uint64_t waited = uv_now(&d->loop) - d->pend_head->arrived_ms;
    if (d->n_pending >= (size_t)d->cfg->batch_size || waited >= wait) {
        uv_timer_stop(&d->batch_timer);
        launch_batch(d);
    } else if (!uv_is_active((uv_handle_t *)&d->batch_timer)) {
        uv_timer_start(&d->batch_timer, on_batch_timer, wait - waited, 0);
    }
}

int countyd_daemon_upward(countyd_daemon *d, countyd_session *s, Sanji__Envelope *env,
                          const countyd_peer *peer)
{
    if (d->n_pending + d->n_inflight >= (size_t)d->cfg->max_pending || d->stopping) {
        sj_envelope_free(env);
        return SJ_EBUSY;
    }
    upmsg *m = calloc(1, sizeof(*m));
    if (!m) {
        sj_envelope_free(env);
        return SJ_ENOMEM;
    }
    m->s = countyd_session_ref(s);
    m->env = env;
    m->arrived_ms = uv_now(&d->loop);
    m->peer = *peer;
    snprintf(m->node, sizeof(m->node), "%s", peer->node ? peer->node : "");
    m->peer.node = m->node;
    if (d->pend_tail)
        d->pend_tail->next = m;
    else
        d->pend_head = m;
    d->pend_tail = m;
    d->n_pending++;
    maybe_batch(d);
    return 0;
}

/* ---- the sweep -------------------------------------------------------------- */

typedef struct sweep_data {
    const countyd_config *cfg;
    bool calendar_only;   /* at start: reload the calendar and check it, no sweep */
    bool recomputed;      /* due times were recomputed on a changed calendar */
    countyd_apply_result *cal_res; /* their changed cases, until merged into res */
    size_t n_cal;         /* how many (the first n_cal of res once merged) */
    int missing_year;     /* next year's holidays expected and not loaded (0: fine) */
    int32_t today;        /* China day of the check */
    countyd_apply_result *res;
    size_t n;
    Sanji__FeedUpdate **upd;
    size_t n_upd;
    bool feed_lost;
} sweep_data;

static void sweep_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    sweep_data *s = j->data;
    /* The holiday table may have been imported since the calendar was
     * read: due times count on the new one from now on, and every open
     * case's due time is recomputed on it (its events go down the feeds
     * with the sweep's).  On failure the old calendar stays, and the
     * next sweep tries again. */
    bool recomputed = false;
    j->status = countyd_sweep_calendar(apply, &recomputed, &s->cal_res, &s->n_cal, &j->err);
    s->recomputed = recomputed;
    int64_t now = sj_clock_real_ms();
    s->today = sj_clock_china_day(now);
    s->missing_year = sj_calendar_missing_next_year(apply->calendar, now);
    if (j->status == 0 && !s->calendar_only)
        j->status = countyd_sweep_run(apply, s->cfg->warn_percents, s->cfg->n_warn, SWEEP_MAX_CASES,
                                  &s->res, &s->n, &j->err);
    /* One list for the feed: the recomputed cases, then the sweep's. */
    if (s->n_cal > 0) {
        countyd_apply_result *all = realloc(s->cal_res, (s->n_cal + s->n) * sizeof(*all));
        if (!all) {
            s->feed_lost = true;
            return;
        }
        if (s->n)
            memcpy(all + s->n_cal, s->res, s->n * sizeof(*all));
        free(s->res);
        s->res = all;
        s->n += s->n_cal;
        s->cal_res = NULL;
    }
    /* What was written is distributed even when a later step failed. */
    sj_error e;
    if (s->n > 0 && load_written(db, &j->arena, s->res, s->n, &s->upd, &s->n_upd, &e) != 0) {
        s->feed_lost = true;
        s->n_upd = 0;
    }
}

static void sweep_done(countyd_job *j, countyd_daemon *d)
{
    sweep_data *s = j->data;
    /* The calendar never silently runs out: from 1 November, once a day
     * (and at start), until next year's arrangement is imported. */
    if (s->missing_year && s->today != d->calendar_warned_day) {
        char year[16];
        snprintf(year, sizeof(year), "%d", s->missing_year);
        SJ_LOG_WARN(MOD, "尚未导入明年的节假日安排，期限暂按普通周计算 (next year's holiday "
                    "arrangement is not loaded; due times in it are provisional; import it with "
                    "sanji-countyd import holidays FILE)", "year", year);
        d->calendar_warned_day = s->today;
    }
    if (s->recomputed) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", s->n_cal);
        SJ_LOG_INFO(MOD, "节假日安排已变，在办事项办结期限已重算 (holiday calendar changed: open "
                    "cases' due times recomputed)", "cases", n);
    }
    if (j->status != 0 && s->n > 0)
        distribute(d, s->upd, s->n_upd, s->feed_lost);
    if (j->status == 0) {
        size_t changed = 0;
        for (size_t i = s->n_cal; i < s->n; i++)
            changed += s->res[i].status == SANJI__ACK_STATUS__ACK_STATUS_APPLIED;
        if (changed) {
            char n[24];
            snprintf(n, sizeof(n), "%zu", changed);
            SJ_LOG_INFO(MOD, "督办扫描：超期/预警已记录 (sweep: overdue and warnings recorded)",
                        "cases", n);
        }
        distribute(d, s->upd, s->n_upd, s->feed_lost);
    } else if (j->status != SJ_ECANCELLED) {
        SJ_LOG_WARN(MOD, "督办扫描未完成，下次再试 (sweep failed; next interval retries)", "code",
                    sj_err_name(j->status), "why", j->err.message);
    }
    free(s->res);
    free(s->cal_res);
    free(s);
    countyd_job_free(j);
    d->sweep_busy = false;
}

static void start_sweep(countyd_daemon *d, bool calendar_only)
{
    if (d->sweep_busy || d->stopping)
        return;
    sweep_data *s = calloc(1, sizeof(*s));
    if (!s)
        return;
    s->cfg = d->cfg;
    s->calendar_only = calendar_only;
    countyd_job *j = countyd_job_new();
    j->run = sweep_run;
    j->done = sweep_done;
    j->data = s;
    d->sweep_busy = true;
    worker_push(&d->applyw, j);
}

static void on_sweep_timer(uv_timer_t *t)
{
    start_sweep(t->data, false);
}

/* ---- the notifier (notify.h) ------------------------------------------------------ */

/* One attempt: taken on the apply worker, the command run on the loop
 * (uv_spawn; its three handles), recorded on the apply worker. */
typedef struct notify_run {
    countyd_daemon *d;
    bool recover;          /* the take job first makes `sending` rows pending */
    bool found;
    countyd_notify_msg msg;
    uv_process_t proc;
    uv_pipe_t in;
    uv_timer_t timer;
    uv_write_t wr;
    int open;              /* handles not yet closed */
    bool exited, timed_out, sent;
    char error[256];
    countyd_apply_result res;
    Sanji__FeedUpdate **upd;
    size_t n_upd;
    bool feed_lost;
} notify_run;

static void notify_finish(countyd_daemon *d, notify_run *r)
{
    countyd_notify_msg_free(&r->msg);
    free(r);
    d->notify_cur = NULL;
    d->notify_busy = false;
}

static void notify_record_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    notify_run *r = j->data;
    const countyd_config *cfg = r->d->cfg;
    j->status = countyd_notify_record(apply, cfg, &r->msg, r->sent, r->error, sj_clock_real_ms(),
                                      &r->res, &j->err);
    sj_error e;
    if (j->status == 0 && r->res.feed_seq > 0 &&
        load_written(db, &j->arena, &r->res, 1, &r->upd, &r->n_upd, &e) != 0) {
        r->feed_lost = true;
        r->n_upd = 0;
    }
}

static void notify_record_done(countyd_job *j, countyd_daemon *d)
{
    notify_run *r = j->data;
    char attempt[16];
    snprintf(attempt, sizeof(attempt), "%u", r->msg.attempt);
    if (j->status == 0) {
        if (r->sent)
            SJ_LOG_INFO(MOD, "已通知村民 (villager notified)", "case", r->msg.number, "attempt",
                        attempt);
        else
            SJ_LOG_WARN(MOD, "通知村民失败 (notifying the villager failed)", "case",
                        r->msg.number, "attempt", attempt, "why", r->error);
        distribute(d, r->upd, r->n_upd, r->feed_lost);
    } else if (j->status != SJ_ECANCELLED) {
        /* Left `sending`: the next start sends it again. */
        SJ_LOG_ERROR(MOD, "通知结果未能记录 (the attempt could not be recorded)", "case",
                     r->msg.number, "code", sj_err_name(j->status), "why", j->err.message);
    }
    bool more = j->status == 0;
    countyd_job_free(j);
    notify_finish(d, r);
    if (more)
        notify_kick(d); /* the next due message, if any, at once */
}

static void notify_closed(uv_handle_t *h)
{
    notify_run *r = h->data;
    if (--r->open > 0)
        return;
    countyd_job *j = countyd_job_new();
    j->run = notify_record_run;
    j->done = notify_record_done;
    j->retryable = true; /* a database outage delays the record, never loses it */
    j->data = r;
    worker_push(&r->d->applyw, j);
}

static void notify_close_all(notify_run *r)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&r->proc, (uv_handle_t *)&r->in,
                         (uv_handle_t *)&r->timer};
    for (int i = 0; i < 3; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], notify_closed);
}

static void notify_on_exit(uv_process_t *p, int64_t status, int term_signal)
{
    notify_run *r = p->data;
    r->exited = true;
    uv_timer_stop(&r->timer);
    r->sent = status == 0 && term_signal == 0 && !r->timed_out;
    if (r->timed_out)
        snprintf(r->error, sizeof(r->error),
                 "通知命令超时 (notify.command did not finish within notify.timeout)");
    else if (term_signal)
        snprintf(r->error, sizeof(r->error),
                 "通知命令被信号终止 (notify.command was killed by signal %d)", term_signal);
    else if (status != 0)
        snprintf(r->error, sizeof(r->error),
                 "通知命令失败 (notify.command exited with status %" PRId64 ")", status);
    notify_close_all(r);
}

static void notify_on_timeout(uv_timer_t *t)
{
    notify_run *r = t->data;
    r->timed_out = true;
    (void)uv_process_kill(&r->proc, SIGKILL);
}

static void notify_on_written(uv_write_t *w, int status)
{
    (void)status; /* a command that does not read its input is its own affair */
    notify_run *r = w->data;
    if (!uv_is_closing((uv_handle_t *)&r->in))
        uv_close((uv_handle_t *)&r->in, notify_closed);
}

extern char **environ;

/* Runs notify.command for r: the text on its standard input, the phone,
 * the case number and the kind in its environment (never the ID number,
 * which the notifier does not read). */
static void notify_spawn(countyd_daemon *d, notify_run *r)
{
    r->proc.data = r->in.data = r->timer.data = r->wr.data = r;
    r->open = 3;
    uv_pipe_init(&d->loop, &r->in, 0);
    uv_timer_init(&d->loop, &r->timer);
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **env = calloc(n_env + 5, sizeof(*env));
    if (!env) {
        SJ_LOG_ERROR(MOD, "内存耗尽，退出 (out of memory; exiting)");
        exit(70);
    }
    char phone[96], number[64], kind[48], attempt[48];
    snprintf(phone, sizeof(phone), "SANJI_NOTIFY_PHONE=%s", r->msg.phone);
    snprintf(number, sizeof(number), "SANJI_NOTIFY_CASE=%s", r->msg.number);
    snprintf(kind, sizeof(kind), "SANJI_NOTIFY_KIND=%s", sj_notify_kind_name(r->msg.kind));
    snprintf(attempt, sizeof(attempt), "SANJI_NOTIFY_ATTEMPT=%u", r->msg.attempt);
    int rc;
    {
        size_t k = 0;
        for (size_t i = 0; i < n_env; i++)
            if (strncmp(environ[i], "SANJI_NOTIFY_", 13) != 0)
                env[k++] = environ[i];
        env[k++] = phone;
        env[k++] = number;
        env[k++] = kind;
        env[k++] = attempt;
        char *args[] = {"/bin/sh", "-c", (char *)d->cfg->notify_command, NULL};
        uv_stdio_container_t io[3] = {
            {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&r->in},
            {.flags = UV_IGNORE},
            {.flags = UV_INHERIT_FD, .data.fd = 2}};
        uv_process_options_t o = {.exit_cb = notify_on_exit, .file = "/bin/sh", .args = args,
                                  .env = env, .stdio_count = 3, .stdio = io};
        rc = uv_spawn(&d->loop, &r->proc, &o);
        free(env);
    }
    if (rc != 0) {
        /* The handle is initialised even so, and closed like the others. */
        snprintf(r->error, sizeof(r->error),
                 "通知命令无法启动 (notify.command cannot be started: %s)", uv_strerror(rc));
        notify_close_all(r);
        return;
    }
    d->notify_cur = r;
    uv_buf_t buf = uv_buf_init(r->msg.text, (unsigned)strlen(r->msg.text));
    if (uv_write(&r->wr, (uv_stream_t *)&r->in, &buf, 1, notify_on_written) != 0)
        uv_close((uv_handle_t *)&r->in, notify_closed);
    uv_timer_start(&r->timer, notify_on_timeout, (uint64_t)d->cfg->notify_timeout_ms, 0);
}

static void notify_take_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    (void)apply;
    notify_run *r = j->data;
    const countyd_config *cfg = r->d->cfg;
    if (r->recover && (j->status = countyd_notify_recover(db, &j->err)) != 0)
        return;
    j->status = countyd_notify_take(db, cfg, sj_clock_real_ms(), &r->msg, &r->found, &j->err);
}

static void notify_take_done(countyd_job *j, countyd_daemon *d)
{
    notify_run *r = j->data;
    if (j->status == 0 && r->recover)
        d->notify_recovered = true;
    bool go = j->status == 0 && r->found && !d->stopping;
    if (j->status != 0 && j->status != SJ_ECANCELLED)
        SJ_LOG_WARN(MOD, "待发通知未能读取，下次再试 (messages to villagers could not be read; next "
                    "interval retries)", "code", sj_err_name(j->status), "why", j->err.message);
    countyd_job_free(j);
    if (!go) {
        notify_finish(d, r);
        return;
    }
    notify_spawn(d, r);
}

static void notify_kick(countyd_daemon *d)
{
    if (d->notify_busy || d->stopping || !d->cfg->notify_command || !*d->cfg->notify_command)
        return;
    notify_run *r = calloc(1, sizeof(*r));
    if (!r)
        return;
    r->d = d;
    r->recover = !d->notify_recovered;
    d->notify_busy = true;
    countyd_job *j = countyd_job_new();
    j->run = notify_take_run;
    j->done = notify_take_done;
    j->data = r;
    worker_push(&d->applyw, j);
}

static void on_notify_timer(uv_timer_t *t)
{
    notify_kick(t->data);
}

/* ---- relays' status ----------------------------------------------------------- */

typedef struct status_data {
    char node[SJ_IDENTITY_NODE_ID_MAX];
    char unit[SJ_UNIT_CODE_SIZE];
    uint8_t *packed;
    size_t len;
    countyd_duty duty;  /* presence.* */
    int64_t at_ms;      /* when the county got it */
} status_data;

static void status_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    status_data *s = j->data;
    Sanji__NodeStatus *st = sanji__node_status__unpack(NULL, s->len, s->packed);
    if (!st) {
        j->status = sj_error_set(&j->err, SJ_EINTERNAL, "cannot unpack a node status");
        return;
    }
    j->status = countyd_netstat_store(db, s->node, s->unit, st, &j->err);
    if (j->status == 0)
        j->status = countyd_login_failures_store(db, s->node, s->unit, st, &j->err);
    if (j->status == 0)
        j->status = countyd_presence_note(db, apply->calendar, &s->duty, s->unit, st, s->at_ms,
                                          &j->err);
    sanji__node_status__free_unpacked(st, NULL);
}

static void status_done(countyd_job *j, countyd_daemon *d)
{
    status_data *s = j->data;
    if (j->status != 0 && j->status != SJ_ECANCELLED)
        SJ_LOG_WARN(MOD, "node status not stored", "node", s->node, "why", j->err.message);
    free(s->packed);
    free(s);
    countyd_job_free(j);
}

void countyd_daemon_store_status(countyd_daemon *d, const char *node, const char *unit,
                                 const Sanji__NodeStatus *st)
{
    status_data *s = calloc(1, sizeof(*s));
    if (!s)
        return;
    snprintf(s->node, sizeof(s->node), "%s", node);
    snprintf(s->unit, sizeof(s->unit), "%s", unit);
    s->duty = d->cfg->duty;
    s->at_ms = sj_clock_real_ms();
    s->len = sanji__node_status__get_packed_size(st);
    s->packed = malloc(s->len ? s->len : 1);
    if (!s->packed) {
        free(s);
        return;
    }
    sanji__node_status__pack(st, s->packed);
    countyd_job *j = countyd_job_new();
    j->run = status_run;
    j->done = status_done;
    j->data = s;
    worker_push(&d->applyw, j);
}

bool countyd_daemon_has_node(const countyd_daemon *d, const char *node)
{
    for (countyd_session *s = d->sessions; s; s = countyd_session_next(s))
        if (countyd_session_live(s) && strcmp(countyd_session_node(s), node) == 0)
            return true;
    return false;
}

/* ---- links ----------------------------------------------------------------------- */

/* A node may hold a few links at once (a county desk's program and its
 * command-line tool share one certificate), but not without bound: a peer
 * opening links in a loop, or old links left half open after cuts, would
 * grow the county's memory.  At the limit the node's oldest link gives way
 * to the new one, so that a node dialling again is never locked out. */
#define SESSIONS_PER_NODE_MAX 4

static void replace_oldest_session(countyd_daemon *d, const char *node)
{
    countyd_session *oldest = NULL;
    int n = 0;
    /* The list is newest first (countyd_session_link). */
    for (countyd_session *o = d->sessions; o; o = countyd_session_next(o))
        if (countyd_session_live(o) && strcmp(countyd_session_node(o), node) == 0) {
            n++;
            oldest = o;
        }
    if (n >= SESSIONS_PER_NODE_MAX)
        countyd_session_replaced(oldest);
}

/* ---- the PKI on live links ------------------------------------------------------ */

/* Cuts every link whose peer has expired or is revoked by the CRL in
 * force.  Wall-clock time, as the handshake judges it (not the fakeable
 * business clock). */
static void recheck_links(countyd_daemon *d)
{
    if (d->listener)
        sj_listener_recheck_peers(d->listener, (int64_t)time(NULL), sj_conn_log_cut, (void *)MOD);
}

/* Sends the CRL in force to every subscribed relay that has not had this
 * version; a blocked link gets it at a later tick. */
static void crl_push(countyd_daemon *d)
{
    sj_tls_crl_info info;
    const uint8_t *der;
    size_t len;
    if (d->crl_subs == NULL || sj_tls_ctx_crl(d->tls, &info, &der, &len) != 0)
        return;
    for (crl_sub *c = d->crl_subs; c; c = c->next) {
        if (c->sent == d->crl_version || !sj_conn_established(c->conn))
            continue;
        Sanji__CrlUpdate cu = SANJI__CRL_UPDATE__INIT;
        cu.crl.data = (uint8_t *)(uintptr_t)der;
        cu.crl.len = len;
        cu.number = info.number;
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_CRL_UPDATE;
        env.crl_update = &cu;
        sj_error err;
        int rc = sj_conn_send(c->conn, &env, NULL, &err);
        if (rc == SJ_EBACKPRESSURE || rc == SJ_ECLOSED)
            continue;
        if (rc != 0) /* e.g. larger than limits.max_frame: not tried again until it changes */
            SJ_LOG_ERROR(MOD, "cannot send the CRL to a relay", "peer",
                         sj_conn_peer(c->conn) ? sj_conn_peer(c->conn)->node_id : "?", "why",
                         err.message);
        c->sent = d->crl_version;
    }
}

static void crl_subscribe(countyd_daemon *d, sj_conn *conn)
{
    for (crl_sub *c = d->crl_subs; c; c = c->next)
        if (c->conn == conn)
            return;
    crl_sub *c = calloc(1, sizeof(*c));
    if (!c)
        return; /* the relay keeps the CRL it has; its next link asks again */
    c->conn = conn;
    c->next = d->crl_subs;
    d->crl_subs = c;
    crl_push(d);
}

static void crl_unsubscribe(countyd_daemon *d, sj_conn *conn)
{
    for (crl_sub **p = &d->crl_subs; *p; p = &(*p)->next)
        if ((*p)->conn == conn) {
            crl_sub *c = *p;
            *p = c->next;
            free(c);
            return;
        }
}

/* Re-reads tls.crl (SIGHUP, every tls.crl_reload); the old list stays in
 * force when the file cannot be read.  Then cuts the links it revokes and
 * sends it to the relays if it changed. */
static void reload_crl(countyd_daemon *d, const char *trigger)
{
    if (!d->cfg->tls_crl || !*d->cfg->tls_crl)
        return;
    sj_tls_crl_info before, after;
    bool had = sj_tls_ctx_crl(d->tls, &before, NULL, NULL) == 0;
    sj_error err;
    if (sj_tls_ctx_reload_crl(d->tls, &err) != 0) {
        SJ_LOG_ERROR(MOD, "吊销列表重新加载失败，旧列表仍有效 (CRL reload failed; the old one "
                          "stays in force)",
                     "trigger", trigger, "why", err.message);
        return;
    }
    sj_tls_ctx_crl(d->tls, &after, NULL, NULL);
    bool changed = !had || after.number != before.number || after.last_update != before.last_update;
    if (changed)
        d->crl_version++;
    char number[24], revoked[24];
    snprintf(number, sizeof(number), "%" PRIu64, after.number);
    snprintf(revoked, sizeof(revoked), "%zu", after.revoked);
    if (changed || strcmp(trigger, "SIGHUP") == 0)
        SJ_LOG_INFO(MOD, "吊销列表已重新加载 (CRL reloaded)", "file", d->cfg->tls_crl, "number",
                    number, "revoked", revoked, "changed", changed ? "yes" : "no", "trigger",
                    trigger);
    recheck_links(d);
    crl_push(d);
}

static void on_crl_timer(uv_timer_t *t)
{
    countyd_daemon *d = t->data;
    if (!d->stopping)
        reload_crl(d, "tls.crl_reload");
}

static void add_link(sj_conn *conn, void *arg)
{
    const sj_identity *peer = sj_conn_peer(conn);
    sj_linkctl_add_conn(arg, peer && peer->role == SJ_NODE_ROLE_RELAY ? "relay" : "desk", conn);
}

static void collect_links(void *arg, sj_linkctl_list *list)
{
    countyd_daemon *d = arg;
    if (d->listener)
        sj_listener_each(d->listener, add_link, list);
}

static void on_ready(sj_conn *conn, const sj_identity *peer)
{
    countyd_daemon *d = sj_listener_data(sj_listener_of(conn));
    if (strncmp(peer->unit, d->cfg->county, 6) != 0) {
        SJ_LOG_WARN(MOD, "peer of another county refused", "peer", peer->node_id);
        sj_conn_close(conn, SJ_ESCOPE, _("This computer does not belong to this county."));
        return;
    }
    countyd_session *s = countyd_session_new(d, conn, peer, d->cfg);
    if (!s) {
        sj_conn_close(conn, SJ_ENOMEM, _(sj_err_text(SJ_ENOMEM)));
        return;
    }
    sj_conn_set_data(conn, s);
    replace_oldest_session(d, peer->node_id);
    countyd_session_link(&d->sessions, s);
    sj_metric_add(&m_sessions, NULL, 1);
    sj_metrics_link(peer->node_id, true, (int64_t)time(NULL) * 1000);
    sj_tls_cert_info ci;
    if (sj_conn_peer_cert(conn, &ci) == 0)
        sj_metrics_cert(peer->node_id, ci.not_after);
    SJ_LOG_INFO(MOD, "peer connected", "peer", peer->node_id);
}

static countyd_session *session_of(sj_conn *conn)
{
    countyd_daemon *d = sj_listener_data(sj_listener_of(conn));
    void *data = sj_conn_data(conn);
    return data && data != (void *)d ? data : NULL;
}

static void on_message(sj_conn *conn, const Sanji__Envelope *env, const uint8_t *payload,
                       size_t len)
{
    countyd_session *s = session_of(conn);
    if (s)
        countyd_session_message(s, env, payload, len);
    /* A relay that takes CRL updates gets the CRL in force now and after
     * every change (the session itself knows nothing of the PKI). */
    const sj_identity *peer = sj_conn_peer(conn);
    if (s && env->body_case == SANJI__ENVELOPE__BODY_HELLO && env->hello->crl_updates && peer &&
        peer->role == SJ_NODE_ROLE_RELAY && sj_conn_established(conn))
        crl_subscribe(sj_listener_data(sj_listener_of(conn)), conn);
}

static void on_drain(sj_conn *conn)
{
    countyd_session *s = session_of(conn);
    if (s)
        countyd_session_drain(s);
}

static void on_close(sj_conn *conn, int status, const sj_error *why)
{
    countyd_daemon *d = sj_listener_data(sj_listener_of(conn));
    countyd_session *s = session_of(conn);
    const sj_identity *peer = sj_conn_peer(conn);
    const char *who = s ? countyd_session_node(s) : peer ? peer->node_id : "(before handshake)";
    if (status != 0 && status != SJ_ECLOSED && status != SJ_ECANCELLED)
        SJ_LOG_INFO(MOD, "link closed", "peer", who,
                    "code", sj_err_name(status), "why", why ? why->message : "");
    crl_unsubscribe(d, conn);
    if (s) {
        sj_conn_set_data(conn, d);
        countyd_session_unlink(&d->sessions, s);
        sj_metric_add(&m_sessions, NULL, -1);
        /* A node may hold several links (SESSIONS_PER_NODE_MAX). */
        if (!countyd_daemon_has_node(d, who))
            sj_metrics_link(who, false, (int64_t)time(NULL) * 1000);
        countyd_session_closed(s);
    }
}

static const sj_conn_callbacks LINK_CBS = {
    .on_ready = on_ready, .on_message = on_message, .on_drain = on_drain, .on_close = on_close};

/* ---- timers, signals, stopping ------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
    countyd_daemon *d = t->data;
    int64_t now = sj_clock_mono_ms();
    sj_metric_set(&m_pending, NULL, (double)(d->n_pending + d->n_inflight));
    for (countyd_session *s = d->sessions; s; s = countyd_session_next(s))
        countyd_session_tick(s, now);
    /* Certificates that expired since the last tick; CRL updates a blocked
     * relay link could not take before. */
    recheck_links(d);
    crl_push(d);
}

static void drop_queue(countyd_daemon *d, worker *k)
{
    while (k->head) {
        countyd_job *j = k->head;
        k->head = j->next;
        j->status = SJ_ECANCELLED;
        j->done(j, d);
    }
    k->tail = NULL;
}

static void maybe_finish(countyd_daemon *d)
{
    if (d->finished || !d->stopping || !d->listener_closed || d->applyw.running ||
        d->queryw.running)
        return;
    d->finished = true;
    drop_queue(d, &d->applyw);
    drop_queue(d, &d->queryw);
    while (d->pend_head) {
        upmsg *m = d->pend_head;
        d->pend_head = m->next;
        free_upmsg(m);
    }
    d->pend_tail = NULL;
    d->n_pending = 0;
    worker *ws[] = {&d->applyw, &d->queryw};
    for (int i = 0; i < 2; i++) {
        if (ws[i]->apply_open)
            countyd_apply_close(&ws[i]->apply);
        ws[i]->apply_open = false;
        if (ws[i]->db)
            PQfinish(ws[i]->db);
        ws[i]->db = NULL;
        uv_close((uv_handle_t *)&ws[i]->retry, NULL);
    }
    uv_close((uv_handle_t *)&d->batch_timer, NULL);
    uv_close((uv_handle_t *)&d->sweep_timer, NULL);
    uv_close((uv_handle_t *)&d->tick_timer, NULL);
    uv_close((uv_handle_t *)&d->crl_timer, NULL);
    uv_close((uv_handle_t *)&d->notify_timer, NULL);
    sj_linkctl_close(d->linkctl);
    d->linkctl = NULL;
    while (d->crl_subs)
        crl_unsubscribe(d, d->crl_subs->conn);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    sj_sdnotify_watchdog_close(&d->watchdog);
}

static void on_listener_closed(sj_listener *l)
{
    countyd_daemon *d = sj_listener_data(l);
    sj_listener_free(l);
    d->listener = NULL;
    d->listener_closed = true;
    maybe_finish(d);
}

static void begin_stop(countyd_daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = true;
    SJ_LOG_INFO(MOD, "正在停止 (stopping)");
    sj_sdnotify_stopping();
    uv_timer_stop(&d->batch_timer);
    uv_timer_stop(&d->sweep_timer);
    uv_timer_stop(&d->tick_timer);
    uv_timer_stop(&d->crl_timer);
    uv_timer_stop(&d->notify_timer);
    /* A message being sent is cut short; its row stays `sending` and the
     * next start sends it again (countyd_notify_recover()). */
    if (d->notify_cur && !d->notify_cur->exited)
        (void)uv_process_kill(&d->notify_cur->proc, SIGKILL);
    for (worker *k = &d->applyw; k; k = k == &d->applyw ? &d->queryw : NULL) {
        uv_timer_stop(&k->retry);
        k->waiting_retry = false;
    }
    sj_listener_close(d->listener, on_listener_closed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    countyd_daemon *d = h->data;
    if (signum != SIGHUP) {
        begin_stop(d);
        return;
    }
    /* systemd shows the unit as reloading until READY=1 below; the reload
     * is done (or has failed and the old list stays) when it is sent. */
    sj_sdnotify_reloading();
    sj_error err;
    reload_crl(d, "SIGHUP");
    if (d->cfg->log_file && *d->cfg->log_file && sj_log_set_file(d->cfg->log_file, &err) != 0)
        SJ_LOG_ERROR(MOD, "cannot reopen the log file", "why", err.message);
    sj_sdnotify_ready(NULL);
}

static int split_hostport(const char *text, char *host, size_t cap, int *port, sj_error *err)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= cap)
        return sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                            "listen.address “%s” 无效 (must be host:port, e.g. 0.0.0.0:7443)", text);
    const char *h = text;
    size_t hl = (size_t)(colon - text);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535)
        return sj_error_set(err, SJ_ECONFIG_BAD_VALUE, "listen.address “%s”: bad port", text);
    *port = (int)p;
    return 0;
}

int countyd_daemon_run(const countyd_config *cfg, sj_error *err)
{
    countyd_daemon *d = calloc(1, sizeof(*d));
    if (!d)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    d->cfg = cfg;
    char host[128];
    int port = 0, rc;
    if ((rc = split_hostport(cfg->listen, host, sizeof(host), &port, err)) != 0) {
        free(d);
        return rc;
    }
    static const sj_node_role roles[] = {SJ_NODE_ROLE_RELAY, SJ_NODE_ROLE_COUNTY_DESK,
                                         SJ_NODE_ROLE_DEPARTMENT_DESK};
    sj_tls_config tc = {.ca_file = cfg->tls_ca, .cert_file = cfg->tls_cert,
                        .key_file = cfg->tls_key,
                        .crl_file = cfg->tls_crl && *cfg->tls_crl ? cfg->tls_crl : NULL,
                        .is_server = true, .allowed_peer_roles = roles,
                        .n_allowed_peer_roles = 3};
    d->tls = sj_tls_ctx_new(&tc, err);
    if (!d->tls) {
        free(d);
        return err->code;
    }
    if ((rc = countyd_ca_not_before_ms(cfg->tls_ca, &d->time_floor_ms, err)) != 0) {
        sj_tls_ctx_free(d->tls);
        free(d);
        return rc;
    }
    const sj_identity *me = sj_tls_ctx_identity(d->tls);
    if (!me || me->role != SJ_NODE_ROLE_COUNTY || strncmp(me->unit, cfg->county, 6) != 0) {
        sj_tls_ctx_free(d->tls);
        free(d);
        return sj_error_set(err, SJ_ETLS_BAD_IDENTITY,
                            "证书不是本县服务器的证书 (tls.cert must be a county certificate of "
                            "county.code %s)",
                            cfg->county);
    }
    register_metrics();
    sj_tls_cert_info own;
    if (sj_tls_ctx_own_cert(d->tls, &own) == 0)
        sj_metrics_cert(me->node_id, own.not_after);
    /* Before the listener: a metrics address that cannot be served stops
     * the start, with nothing else open yet. */
    if (cfg->metrics_listen && *cfg->metrics_listen &&
        (rc = sj_metrics_http_start(cfg->metrics_listen, "metrics.listen", &d->metrics, err)) != 0) {
        sj_metrics_reset();
        sj_tls_ctx_free(d->tls);
        free(d);
        return rc;
    }
    if (uv_loop_init(&d->loop) != 0) {
        sj_metrics_http_stop(d->metrics);
        sj_metrics_reset();
        sj_tls_ctx_free(d->tls);
        free(d);
        return sj_error_set(err, SJ_EIO, "cannot make the event loop");
    }
    sj_conn_options o = sj_conn_options_default();
    o.max_frame = (uint32_t)cfg->max_frame;
    o.idle_timeout_ms = (uint64_t)cfg->idle_timeout_ms;
    o.handshake_timeout_ms = (uint64_t)cfg->handshake_timeout_ms;
    d->listener = sj_listener_new(&d->loop, d->tls, &o, &LINK_CBS, d, err);
    if (!d->listener || (rc = sj_listener_listen(d->listener, host, port, 511, err)) != 0) {
        rc = err->code;
        if (d->listener)
            sj_listener_free(d->listener);
        uv_loop_close(&d->loop);
        sj_metrics_http_stop(d->metrics);
        sj_metrics_reset();
        sj_tls_ctx_free(d->tls);
        free(d);
        return rc;
    }
    worker *ws[] = {&d->applyw, &d->queryw};
    for (int i = 0; i < 2; i++) {
        ws[i]->d = d;
        ws[i]->name = i == 0 ? "apply" : "query";
        ws[i]->is_apply = i == 0;
        ws[i]->backoff_ms = RETRY_MIN_MS;
        uv_timer_init(&d->loop, &ws[i]->retry);
        ws[i]->retry.data = ws[i];
    }
    uv_timer_t *timers[] = {&d->batch_timer, &d->sweep_timer, &d->tick_timer, &d->crl_timer,
                            &d->notify_timer};
    for (int i = 0; i < 5; i++) {
        uv_timer_init(&d->loop, timers[i]);
        timers[i]->data = d;
    }
    if (sj_tls_ctx_crl(d->tls, NULL, NULL, NULL) == 0) {
        d->crl_version = 1;
        uv_timer_start(&d->crl_timer, on_crl_timer, (uint64_t)cfg->crl_reload_ms,
                       (uint64_t)cfg->crl_reload_ms);
    }
    char links_name[SJ_LINKCTL_NAME_MAX];
    countyd_config_links_socket(cfg, links_name);
    sj_error lc_err;
    d->linkctl = sj_linkctl_start(&d->loop, links_name, me->node_id, collect_links, d, &lc_err);
    if (!d->linkctl) /* the service goes on; only `sanji-countyd links` cannot answer */
        SJ_LOG_WARN(MOD, "no list of links for sanji-countyd links", "why", lc_err.message);
    uv_timer_start(&d->sweep_timer, on_sweep_timer, (uint64_t)cfg->sweep_interval_ms,
                   (uint64_t)cfg->sweep_interval_ms);
    start_sweep(d, true); /* the calendar's check at start */
    uv_timer_start(&d->notify_timer, on_notify_timer, (uint64_t)cfg->notify_interval_ms,
                   (uint64_t)cfg->notify_interval_ms);
    uv_timer_start(&d->tick_timer, on_tick, TICK_MS, TICK_MS);
    uv_signal_t *sigs[] = {&d->sigterm, &d->sigint, &d->sighup};
    int nums[] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&d->loop, sigs[i]);
        sigs[i]->data = d;
        uv_signal_start(sigs[i], on_signal, nums[i]);
    }
    signal(SIGPIPE, SIG_IGN);
    char port_s[16];
    snprintf(port_s, sizeof(port_s), "%d", sj_listener_port(d->listener));
    SJ_LOG_INFO(MOD, "县服务器已启动 (county server listening)", "address", host, "port", port_s,
                "node", me->node_id);
    if (d->metrics) {
        char mport[16];
        snprintf(mport, sizeof(mport), "%d", sj_metrics_http_port(d->metrics));
        SJ_LOG_INFO(MOD, "serving metrics", "address", cfg->metrics_listen, "port", mport);
    }
    /* Ready for systemd (Type=notify): the schema was checked before this
     * function and the listener accepts now.  A watchdog that cannot run
     * is only logged: systemd then restarts the server, as it would for a
     * stuck loop. */
    sj_error wd_err;
    if (sj_sdnotify_watchdog_start(&d->watchdog, &d->loop, &wd_err) != 0)
        SJ_LOG_ERROR(MOD, "no watchdog pings", "why", wd_err.message);
    char status[sizeof(host) + sizeof(port_s) + 64];
    snprintf(status, sizeof(status), "serving relays and county desks on %s:%s", host, port_s);
    sj_sdnotify_ready(status);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&d->loop);
    if (rc != 0)
        SJ_LOG_WARN(MOD, "event loop closed with handles open", "why", uv_strerror(rc));
    sj_metrics_http_stop(d->metrics);
    sj_metrics_reset();
    sj_tls_ctx_free(d->tls);
    free(d);
    SJ_LOG_INFO(MOD, "已停止 (stopped)");
    return 0;
}
