/*
 * daemon.c - the county's network service (see daemon.h): the loop, the
 * listener and the links, signals and timers, the start and the stop; it
 * makes the two database workers (worker.h), the batcher of upward
 * messages (batch.h), the notifier (notifier.h) and the sessions
 * (session.h), and wires them: the batcher's Acks go to the sessions and
 * every commit's feed updates to all of them.  The supervision sweep's
 * job is here too.
 *
 * Live links follow the PKI (docs/PKI.md): tls.crl is re-read on SIGHUP
 * and every tls.crl_reload; after each reload, and at every tick for
 * certificates that expire, every link whose peer is no longer valid is
 * cut (listener.h).  Relays that ask for it (Hello.crl_updates) get the
 * CRL in force as a CrlUpdate after their Hello and whenever it changes.
 * The live links are listed on a local socket (linkctl.h) for
 * `sanji-countyd links`.
 *
 * Entry points: countyd_daemon_run().
 */
#include "daemon.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "ca_time.h"
#include "clock.h"
#include "feed_written.h"
#include "i18n.h"
#include "linkctl.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "notifier.h"
#include "sdnotify.h"
#include "session.h"
#include "sweep.h"
#include "tls.h"
#include "worker.h"

#define MOD "countyd"
#define SWEEP_MAX_CASES 1000
#define TICK_MS 1000

/* A relay's link that takes CrlUpdate messages (Hello.crl_updates). */
typedef struct crl_sub {
    struct crl_sub *next;
    sj_conn *conn;
    unsigned sent; /* the crl_version last sent on it; 0: none yet */
} crl_sub;

typedef struct countyd_daemon {
    const countyd_config *cfg;
    int64_t time_floor_ms;  /* the county CA's notBefore (ca_time.h) */
    uv_loop_t loop;
    sj_tls_ctx *tls;
    sj_listener *listener;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t sweep_timer, tick_timer;
    countyd_worker applyw, queryw;
    countyd_batcher batcher;
    countyd_notifier notifier;
    countyd_session_ctx session_ctx; /* what every session works with */
    bool sweep_busy;
    int32_t calendar_warned_day;   /* China day of the last missing-calendar warning */
    countyd_session *sessions;
    bool stopping, listener_closed, finished;
    sj_sdnotify_watchdog watchdog; /* WATCHDOG=1 from this loop when systemd asks (sdnotify.h) */
    uv_timer_t crl_timer;          /* tls.crl_reload */
    unsigned crl_version;          /* bumped when the CRL in force changes; 0: none */
    crl_sub *crl_subs;
    sj_linkctl *linkctl;           /* `sanji-countyd links` (NULL if it could not start) */
    sj_metrics_http *metrics;      /* GET /metrics (metrics.listen), or NULL */
} countyd_daemon;

/* ---- metrics (metrics.h; docs/OPERATIONS.md lists them) ------------------- */

static sj_metric m_sessions = SJ_METRIC_GAUGE(
    "sanji_county_sessions", "links of relays, county desks and department desks now open", NULL);

/* In the order they are rendered: the links, the batches, the workers. */
static void register_metrics(void)
{
    sj_metric *const all[] = {&m_sessions};
    sj_metrics_register_common();
    sj_metrics_register(all, 1);
    countyd_batcher_register_metrics();
    countyd_worker_register_metrics();
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

/* ---- the batcher's and the notifier's hooks ------------------------------- */

static void hook_ack(void *sender, const uint8_t message_id[16], const countyd_apply_result *r,
                     Sanji__Case *current, const countyd_peer *origin)
{
    countyd_session_ack(sender, message_id, r, current, origin);
}

static void hook_release(void *sender)
{
    countyd_session_unref(sender);
}

static void hook_batch_committed(void *arg, Sanji__FeedUpdate **u, size_t n, bool lost,
                                 bool notify)
{
    countyd_daemon *d = arg;
    distribute(d, u, n, lost);
    if (notify)
        countyd_notifier_kick(&d->notifier);
}

static void hook_notify_committed(void *arg, Sanji__FeedUpdate **u, size_t n, bool lost)
{
    distribute(arg, u, n, lost);
}

/* ---- the sweep -------------------------------------------------------------- */

typedef struct sweep_data {
    countyd_daemon *d;
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
    if (s->n > 0 && countyd_feed_written_load(db, &j->arena, s->res, s->n, &s->upd, &s->n_upd, &e) != 0) {
        s->feed_lost = true;
        s->n_upd = 0;
    }
}

static void sweep_done(countyd_job *j)
{
    sweep_data *s = j->data;
    countyd_daemon *d = s->d;
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
    countyd_job *j = s ? countyd_job_new() : NULL;
    if (!j) { /* out of memory: the next interval sweeps */
        free(s);
        return;
    }
    s->d = d;
    s->cfg = d->cfg;
    s->calendar_only = calendar_only;
    j->run = sweep_run;
    j->done = sweep_done;
    j->data = s;
    d->sweep_busy = true;
    countyd_worker_push(&d->applyw, j);
}

static void on_sweep_timer(uv_timer_t *t)
{
    start_sweep(t->data, false);
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
    countyd_session *s = countyd_session_new(&d->session_ctx, conn, peer);
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
    /* Read before the session may take the envelope over (session.h). */
    bool crl_updates = env->body_case == SANJI__ENVELOPE__BODY_HELLO && env->hello->crl_updates;
    if (s)
        countyd_session_message(s, env);
    /* A relay that takes CRL updates gets the CRL in force now and after
     * every change (the session itself knows nothing of the PKI). */
    const sj_identity *peer = sj_conn_peer(conn);
    if (s && crl_updates && peer && peer->role == SJ_NODE_ROLE_RELAY &&
        sj_conn_established(conn))
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
        if (!countyd_sessions_have_node(d->sessions, who))
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
    countyd_batcher_report(&d->batcher);
    for (countyd_session *s = d->sessions; s; s = countyd_session_next(s))
        countyd_session_tick(s, now);
    /* Certificates that expired since the last tick; CRL updates a blocked
     * relay link could not take before. */
    recheck_links(d);
    crl_push(d);
}

/* Called whenever a worker is idle while stopping: once the listener and
 * both workers are done, every handle is closed and the loop ends. */
static void maybe_finish(void *arg)
{
    countyd_daemon *d = arg;
    if (d->finished || !d->stopping || !d->listener_closed ||
        countyd_worker_running(&d->applyw) || countyd_worker_running(&d->queryw))
        return;
    d->finished = true;
    countyd_worker_close(&d->applyw);
    countyd_worker_close(&d->queryw);
    countyd_batcher_close(&d->batcher);
    countyd_notifier_close(&d->notifier);
    uv_close((uv_handle_t *)&d->sweep_timer, NULL);
    uv_close((uv_handle_t *)&d->tick_timer, NULL);
    uv_close((uv_handle_t *)&d->crl_timer, NULL);
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
    countyd_batcher_stop(&d->batcher);
    uv_timer_stop(&d->sweep_timer);
    uv_timer_stop(&d->tick_timer);
    uv_timer_stop(&d->crl_timer);
    countyd_notifier_stop(&d->notifier);
    countyd_worker_stop(&d->applyw);
    countyd_worker_stop(&d->queryw);
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

/* The TLS context with the county's own certificate, checked to be this
 * county's server, the time floor from its CA, and the metrics (served
 * before the listener: an address that cannot be served stops the start
 * with nothing else open yet).  On failure everything made is freed. */
static int start_identity(countyd_daemon *d, sj_error *err)
{
    const countyd_config *cfg = d->cfg;
    static const sj_node_role roles[] = {SJ_NODE_ROLE_RELAY, SJ_NODE_ROLE_COUNTY_DESK,
                                         SJ_NODE_ROLE_DEPARTMENT_DESK};
    sj_tls_config tc = {.ca_file = cfg->tls_ca, .cert_file = cfg->tls_cert,
                        .key_file = cfg->tls_key,
                        .crl_file = cfg->tls_crl && *cfg->tls_crl ? cfg->tls_crl : NULL,
                        .is_server = true, .allowed_peer_roles = roles,
                        .n_allowed_peer_roles = 3};
    d->tls = sj_tls_ctx_new(&tc, err);
    if (!d->tls)
        return err->code;
    int rc;
    if ((rc = countyd_ca_not_before_ms(cfg->tls_ca, &d->time_floor_ms, err)) != 0) {
        sj_tls_ctx_free(d->tls);
        return rc;
    }
    const sj_identity *me = sj_tls_ctx_identity(d->tls);
    if (!me || me->role != SJ_NODE_ROLE_COUNTY || strncmp(me->unit, cfg->county, 6) != 0) {
        sj_tls_ctx_free(d->tls);
        return sj_error_set(err, SJ_ETLS_BAD_IDENTITY,
                            "证书不是本县服务器的证书 (tls.cert must be a county certificate of "
                            "county.code %s)",
                            cfg->county);
    }
    register_metrics();
    sj_tls_cert_info own;
    if (sj_tls_ctx_own_cert(d->tls, &own) == 0)
        sj_metrics_cert(me->node_id, own.not_after);
    if (cfg->metrics_listen && *cfg->metrics_listen &&
        (rc = sj_metrics_http_start(cfg->metrics_listen, "metrics.listen", &d->metrics, err)) != 0) {
        sj_metrics_reset();
        sj_tls_ctx_free(d->tls);
        return rc;
    }
    return 0;
}

/* Frees what start_identity() made (after the loop, or when the loop or
 * the listener cannot start). */
static void stop_identity(countyd_daemon *d)
{
    sj_metrics_http_stop(d->metrics);
    sj_metrics_reset();
    sj_tls_ctx_free(d->tls);
}

/* The loop and the listener on host:port.  On failure both are undone. */
static int start_listener(countyd_daemon *d, const char *host, int port, sj_error *err)
{
    const countyd_config *cfg = d->cfg;
    if (uv_loop_init(&d->loop) != 0)
        return sj_error_set(err, SJ_EIO, "cannot make the event loop");
    sj_conn_options o = sj_conn_options_default();
    o.max_frame = (uint32_t)cfg->max_frame;
    o.idle_timeout_ms = (uint64_t)cfg->idle_timeout_ms;
    o.handshake_timeout_ms = (uint64_t)cfg->handshake_timeout_ms;
    d->listener = sj_listener_new(&d->loop, d->tls, &o, &LINK_CBS, d, err);
    int rc;
    if (!d->listener || (rc = sj_listener_listen(d->listener, host, port, 511, err)) != 0) {
        rc = err->code;
        if (d->listener)
            sj_listener_free(d->listener);
        uv_loop_close(&d->loop);
        return rc;
    }
    return 0;
}

/* The workers, the batcher, the notifier, the sessions' context, the
 * timers, the list of links and the signals, wired on the loop. */
static void start_services(countyd_daemon *d)
{
    const countyd_config *cfg = d->cfg;
    countyd_worker_init(&d->applyw, &d->loop, cfg, "apply", true, d->time_floor_ms, maybe_finish,
                        d);
    countyd_worker_init(&d->queryw, &d->loop, cfg, "query", false, d->time_floor_ms, maybe_finish,
                        d);
    countyd_batcher_hooks hooks = {.ack = hook_ack, .release = hook_release,
                                   .committed = hook_batch_committed, .arg = d};
    countyd_batcher_init(&d->batcher, &d->loop, cfg, &d->applyw, &hooks);
    countyd_notifier_init(&d->notifier, &d->loop, cfg, &d->applyw, hook_notify_committed, d);
    d->session_ctx = (countyd_session_ctx){.cfg = cfg, .query = &d->queryw, .apply = &d->applyw,
                                           .upward = &d->batcher, .all = &d->sessions};
    uv_timer_t *timers[] = {&d->sweep_timer, &d->tick_timer, &d->crl_timer};
    for (int i = 0; i < 3; i++) {
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
    d->linkctl = sj_linkctl_start(&d->loop, links_name, sj_tls_ctx_identity(d->tls)->node_id,
                                  collect_links, d, &lc_err);
    if (!d->linkctl) /* the service goes on; only `sanji-countyd links` cannot answer */
        SJ_LOG_WARN(MOD, "no list of links for sanji-countyd links", "why", lc_err.message);
    uv_timer_start(&d->sweep_timer, on_sweep_timer, (uint64_t)cfg->sweep_interval_ms,
                   (uint64_t)cfg->sweep_interval_ms);
    start_sweep(d, true); /* the calendar's check at start */
    uv_timer_start(&d->tick_timer, on_tick, TICK_MS, TICK_MS);
    uv_signal_t *sigs[] = {&d->sigterm, &d->sigint, &d->sighup};
    int nums[] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&d->loop, sigs[i]);
        sigs[i]->data = d;
        uv_signal_start(sigs[i], on_signal, nums[i]);
    }
    signal(SIGPIPE, SIG_IGN);
}

/* Logs the start and tells systemd (Type=notify) the service is ready:
 * the schema was checked before countyd_daemon_run() and the listener
 * accepts now.  A watchdog that cannot run is only logged: systemd then
 * restarts the server, as it would for a stuck loop. */
static void announce_ready(countyd_daemon *d, const char *host)
{
    char port_s[16];
    snprintf(port_s, sizeof(port_s), "%d", sj_listener_port(d->listener));
    SJ_LOG_INFO(MOD, "县服务器已启动 (county server listening)", "address", host, "port", port_s,
                "node", sj_tls_ctx_identity(d->tls)->node_id);
    if (d->metrics) {
        char mport[16];
        snprintf(mport, sizeof(mport), "%d", sj_metrics_http_port(d->metrics));
        SJ_LOG_INFO(MOD, "serving metrics", "address", d->cfg->metrics_listen, "port", mport);
    }
    sj_error wd_err;
    if (sj_sdnotify_watchdog_start(&d->watchdog, &d->loop, &wd_err) != 0)
        SJ_LOG_ERROR(MOD, "no watchdog pings", "why", wd_err.message);
    char status[128 + sizeof(port_s) + 64];
    snprintf(status, sizeof(status), "serving relays and county desks on %s:%s", host, port_s);
    sj_sdnotify_ready(status);
}

int countyd_daemon_run(const countyd_config *cfg, sj_error *err)
{
    countyd_daemon *d = calloc(1, sizeof(*d));
    if (!d)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    d->cfg = cfg;
    char host[128];
    int port = 0, rc;
    if ((rc = split_hostport(cfg->listen, host, sizeof(host), &port, err)) != 0 ||
        (rc = start_identity(d, err)) != 0) {
        free(d);
        return rc;
    }
    if ((rc = start_listener(d, host, port, err)) != 0) {
        stop_identity(d);
        free(d);
        return rc;
    }
    start_services(d);
    announce_ready(d, host);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&d->loop);
    if (rc != 0)
        SJ_LOG_WARN(MOD, "event loop closed with handles open", "why", uv_strerror(rc));
    stop_identity(d);
    free(d);
    SJ_LOG_INFO(MOD, "已停止 (stopped)");
    return 0;
}
