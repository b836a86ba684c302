/*
 * downstream.c - the relay's station and desk side: the listener, one
 * session per verified peer (who may connect, the dispatch of what it
 * sends, its end), heartbeats and the links' status, and the side's entry
 * points (downstream.h).  Admission, serving, output and queries are the
 * other down_*.c files (downstream_private.h).
 */
#include "downstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "downstream_private.h"
#include "i18n.h"
#include "listener.h"
#include "log.h"
#include "orgunit.h"
#include "refusal.h"
#include "relay_metrics.h"
#include "status.h"

#define MOD DOWN_MOD

/* ---- sessions ------------------------------------------------------------ */

bool down_session_in_scope(const session *s, const char *village)
{
    if (village == NULL || sj_orgunit_level(village) != SJ_LEVEL_VILLAGE)
        return false;
    return sj_orgunit_contains(s->scope, village);
}

/* FNV-1a of a node id, for relay_downstream.by_node. */
static size_t node_bucket(const char *node)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)node; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % DOWN_NODE_BUCKETS;
}

static void by_node_add(relay_downstream *d, session *s)
{
    session **b = &d->by_node[node_bucket(s->peer.node_id)];
    s->node_next = *b;
    *b = s;
}

static void by_node_remove(relay_downstream *d, session *s)
{
    for (session **p = &d->by_node[node_bucket(s->peer.node_id)]; *p; p = &(*p)->node_next)
        if (*p == s) {
            *p = s->node_next;
            return;
        }
}

void down_session_close(session *s, int code, const char *reason)
{
    s->closing = true;
    sj_conn_close(s->conn, code, reason);
}

/* Records what the network view shows of a peer: whether it is linked, when
 * it was last heard, its outbox, and its certificate's expiry (kept so that
 * the county can warn of a certificate running out at a station that is
 * offline now).  A failed write only leaves the row older; the next
 * heartbeat writes it again. */
void down_session_put_station(session *s, bool connected)
{
    relay_station row = {
        .node = s->peer.node_id,
        .connected = connected,
        .last_seen_ms = s->last_seen_ms,
        .outbox_depth = s->outbox_depth,
        .cert_not_after_ms = s->cert_not_after_ms,
    };
    sj_error err;
    relay_store_station_put(s->d->r->store, &row, &err);
    sj_metrics_link(s->peer.node_id, connected, row.last_seen_ms);
    if (s->cert_not_after_ms)
        sj_metrics_cert(s->peer.node_id, s->cert_not_after_ms / 1000);
}

/* A status value for sanji-relayctl (meta table). */
static void meta_u64(relay *r, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    sj_error err;
    if (relay_store_meta_set(r->store, key, buf, &err) != 0)
        SJ_LOG_WARN(MOD, "status not written", "why", err.message);
}


/* ---- link callbacks ------------------------------------------------------ */

static void on_ready(sj_conn *conn, const sj_identity *peer)
{
    relay_downstream *d = sj_conn_data(conn);
    relay *r = d->r;
    bool have_tree = false;
    bool ok;
    if (peer->role == SJ_NODE_ROLE_VILLAGE)
        ok = sj_orgunit_contains(r->township, peer->unit) &&
             (down_serve_unit_in_org_tree(r, peer->unit, &have_tree) || !have_tree);
    else
        ok = peer->role == SJ_NODE_ROLE_TOWNSHIP_DESK && strcmp(peer->unit, r->township) == 0;
    if (!ok || d->r->stopping) {
        SJ_LOG_WARN(MOD, "peer outside the township refused", "peer", peer->node_id, "township",
                    r->township);
        sj_conn_set_data(conn, NULL);
        char why[256], reason[512];
        snprintf(why, sizeof why, "%s" SJ_REFUSAL_JOIN "%s",
                 N_("This node does not belong to the township of this relay:"), peer->node_id);
        sj_reason_format(why, reason, sizeof reason);
        sj_conn_close(conn, SJ_ESCOPE, reason);
        return;
    }
    session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        sj_conn_set_data(conn, NULL);
        sj_conn_close(conn, SJ_ENOMEM, NULL);
        return;
    }
    s->magic = SESSION_MAGIC;
    s->d = d;
    s->conn = conn;
    s->peer = *peer;
    snprintf(s->scope, sizeof s->scope, "%s", peer->unit);
    s->last_seen_ms = sj_clock_real_ms();
    s->next = d->sessions;
    if (d->sessions)
        d->sessions->prev = s;
    d->sessions = s;
    by_node_add(d, s);
    sj_conn_set_data(conn, s);
}

static bool is_session(relay_downstream *d, void *data)
{
    for (session *s = d->sessions; s; s = s->next)
        if (s == data)
            return true;
    return false;
}

/* A station's status: its outbox depth, and wrong passwords typed there,
 * kept for the county (status.h). */
static void on_station_status(session *s, const Sanji__NodeStatus *ns)
{
    s->outbox_depth = ns->queue_depth;
    sj_error err;
    /* Presence goes to the store only when it changed (not every heartbeat). */
    if (!s->presence_known || s->logged_in != ns->logged_in ||
        s->last_login_ms != ns->last_login_ms) {
        if (relay_status_note_presence(s->d->r->store, s->peer.node_id, ns->logged_in,
                                       ns->last_login_ms, &err) != 0) {
            SJ_LOG_WARN(MOD, "reported presence not kept", "peer", s->peer.node_id, "why",
                        err.message);
        } else {
            s->presence_known = true;
            s->logged_in = ns->logged_in;
            s->last_login_ms = ns->last_login_ms;
            relay_request_commit(s->d->r);
        }
    }
    if (ns->n_login_failures == 0)
        return;
    if (relay_status_note_login_failures(s->d->r->store, s->peer.node_id, ns->login_failures,
                                         ns->n_login_failures, &err) != 0)
        SJ_LOG_WARN(MOD, "reported wrong passwords not kept", "peer", s->peer.node_id, "why",
                    err.message);
    relay_request_commit(s->d->r);
}

static void on_message(sj_conn *conn, const Sanji__Envelope *env, const uint8_t *payload,
                       size_t len)
{
    session *s = sj_conn_data(conn);
    if (s == NULL || s->closing)
        return;
    s->last_seen_ms = sj_clock_real_ms();
    if (!s->hello_done) {
        if (env->body_case == SANJI__ENVELOPE__BODY_HELLO) {
            down_serve_hello(s, env);
            return;
        }
        s->closing = true;
        sj_conn_close(conn, SJ_EPROTOCOL, _("The first message must be Hello."));
        return;
    }
    switch (env->body_case) {
    case SANJI__ENVELOPE__BODY_CASE_SUBMIT:
    case SANJI__ENVELOPE__BODY_CASE_ACTION:
    case SANJI__ENVELOPE__BODY_PASSWORD_CHANGE:
    case SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK:
        down_intake_upward(s, env, payload, len);
        break;
    case SANJI__ENVELOPE__BODY_QUERY:
        down_query_handle(s, env, payload, len);
        break;
    case SANJI__ENVELOPE__BODY_FEED_REQUEST:
        down_serve_feed_request(s, env->feed_request);
        break;
    case SANJI__ENVELOPE__BODY_HEARTBEAT:
        if (env->heartbeat->status)
            on_station_status(s, env->heartbeat->status);
        break;
    case SANJI__ENVELOPE__BODY_NODE_STATUS:
        on_station_status(s, env->node_status);
        break;
    default:
        s->closing = true;
        sj_conn_close(conn, SJ_EPROTOCOL, _("This message is not allowed from a station or desk."));
        break;
    }
}

static void on_drain(sj_conn *conn)
{
    session *s = sj_conn_data(conn);
    if (s && down_serve_pump(s))
        relay_request_commit(s->d->r);
}

static void on_close(sj_conn *conn, int status, const sj_error *why)
{
    session *s = sj_conn_data(conn);
    if (s == NULL || s->magic != SESSION_MAGIC) {
        /* Refused before a session was made: a failed TLS handshake (no
         * certificate, not TLS at all, ...), or (data NULL) a peer outside
         * the township, logged when it was refused. */
        if (s != NULL && status != 0 && status != SJ_ECLOSED)
            SJ_LOG_WARN(MOD, "link refused", "code", sj_err_name(status), "why",
                        why ? why->message : "");
        return;
    }
    relay_downstream *d = s->d;
    if (!is_session(d, s))
        return;
    if (status == SJ_EIDLE && sj_conn_blocked(conn)) {
        /* The relay stopped reading from it when it could not write to
         * it; link.idle_timeout later this is where it ends. */
        char waited[32], limit[32];
        snprintf(waited, sizeof waited, "%llums",
                 (unsigned long long)sj_conn_options_of(conn)->idle_timeout_ms);
        snprintf(limit, sizeof limit, "%zu", sj_conn_options_of(conn)->write_high_water);
        SJ_LOG_WARN(MOD, "peer not reading: link closed", "peer", s->peer.node_id, "waited",
                    waited, "write_buffer", limit, "why",
                    "对方长时间不接收数据，已断开；重连后从其游标继续 (the peer took nothing for "
                    "link.idle_timeout with link.write_buffer full; it resumes from its cursor "
                    "when it reconnects)");
    }
    SJ_LOG_INFO(MOD, "session ended", "peer", s->peer.node_id, "code", sj_err_name(status), "why",
                why ? why->message : "");
    if (s->hello_done) {
        down_session_put_station(s, false);
        relay_request_commit(d->r);
    }
    if (s->prev)
        s->prev->next = s->next;
    else
        d->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    by_node_remove(d, s);
    down_out_free_list(s->wait_head);
    down_out_free_list(s->out_head);
    down_query_free(s);
    free(s->inflight);
    for (size_t i = 0; i < s->n_feeds; i++)
        down_delta_reset(&s->feeds[i]);
    free(s->feeds);
    free(s);
}

static const sj_conn_callbacks CBS = {.on_ready = on_ready,
                                      .on_message = on_message,
                                      .on_drain = on_drain,
                                      .on_written = down_serve_on_written,
                                      .on_close = on_close};

/* ---- the module's entry points ------------------------------------------- */

int relay_downstream_start(relay *r, const relay_downstream_events *ev,
                           relay_downstream **out, sj_error *err)
{
    *out = NULL;
    relay_downstream *d = calloc(1, sizeof *d);
    if (d == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    d->magic = DOWN_MAGIC;
    d->r = r;
    d->ev = *ev;
    sj_conn_options o = sj_conn_options_default();
    o.max_frame = r->cfg->max_frame;
    o.idle_timeout_ms = r->cfg->idle_timeout_ms;
    o.handshake_timeout_ms = r->cfg->handshake_timeout_ms;
    /* A blocked link stops reading, so a peer that does not read ends
     * after idle_timeout; the quarter leaves room to refill before the
     * socket runs dry. */
    o.write_high_water = r->cfg->write_buffer;
    o.write_low_water = r->cfg->write_buffer / 4;
    d->listener = sj_listener_new(r->loop, r->server_tls, &o, &CBS, d, err);
    if (d->listener == NULL) {
        free(d);
        return err->code ? err->code : SJ_EINTERNAL;
    }
    int rc = sj_listener_listen(d->listener, r->cfg->listen_host, r->cfg->listen_port, 128, err);
    if (rc != 0) {
        sj_listener_free(d->listener);
        free(d);
        return rc;
    }
    meta_u64(r, "link_write_buffer_bytes", r->cfg->write_buffer);
    relay_request_commit(r);
    *out = d;
    return 0;
}

int relay_downstream_port(const relay_downstream *d)
{
    return sj_listener_port(d->listener);
}

sj_listener *relay_downstream_listener(relay_downstream *d)
{
    return d->listener;
}

void relay_downstream_after_commit(relay_downstream *d)
{
    bool more = false;
    for (session *s = d->sessions; s; s = s->next) {
        if (s->wait_head) {
            if (s->out_tail)
                s->out_tail->next = s->wait_head;
            else
                s->out_head = s->wait_head;
            s->out_tail = s->wait_tail;
            s->wait_head = s->wait_tail = NULL;
            down_out_flush(s);
        }
        if (s->feed_dirty || s->results_dirty || s->q_head)
            more |= down_serve_pump(s);
    }
    if (more)
        relay_request_commit(d->r);
}

void relay_downstream_commit_failed(relay_downstream *d, const sj_error *why)
{
    for (session *s = d->sessions; s; s = s->next) {
        if (s->wait_head == NULL)
            continue;
        down_out_free_list(s->wait_head);
        s->wait_head = s->wait_tail = NULL;
        if (!s->closing) {
            s->closing = true;
            sj_conn_close(s->conn, SJ_EDB, _(RELAY_STORE_FAILED));
        }
    }
    (void)why;
}

void relay_downstream_result_ready(relay_downstream *d, const char *origin_node,
                                   const uint8_t id[16], const uint8_t *ack, size_t len)
{
    for (session *s = d->by_node[node_bucket(origin_node)]; s; s = s->node_next) {
        if (strcmp(s->peer.node_id, origin_node) != 0 || s->closing)
            continue;
        /* Handed over as it is, after the commit that stores it, unless
         * the session is to read its results from the store anyway
         * (results_dirty) or has output waiting: then the store's turn. */
        if (!s->hello_done || s->results_dirty || s->out_head || sj_conn_blocked(s->conn) ||
            down_out_result(s, id, ack, len, true) != 0)
            s->results_dirty = true;
    }
}

void relay_downstream_feed_changed(relay_downstream *d, const char *village)
{
    for (session *s = d->sessions; s; s = s->next) {
        if (!s->hello_done || !down_session_in_scope(s, village))
            continue;
        down_serve_add_feed(s, village, 0);
        s->feed_dirty = true;
    }
}

/* What the relay holds in memory for one peer: ciphertext queued on its
 * socket, frames made but not yet handed to the link, and its queries not
 * yet answered. */
static size_t session_buffered(const session *s)
{
    size_t n = sj_conn_queued_bytes(s->conn);
    for (const out_frame *f = s->out_head; f; f = f->next)
        n += f->len;
    for (const pending_query *q = s->q_head; q; q = q->next)
        n += q->len;
    return n;
}

/* The links' buffers for sanji-relayctl: total, the largest and whose,
 * and how many links are blocked. */
static void write_buffer_status(relay_downstream *d)
{
    relay *r = d->r;
    uint64_t total = 0, largest = 0, blocked = 0;
    const char *whose = "";
    for (session *s = d->sessions; s; s = s->next) {
        if (s->closing)
            continue;
        size_t n = session_buffered(s);
        total += n;
        if (n > largest) {
            largest = n;
            whose = s->peer.node_id;
        }
        blocked += sj_conn_blocked(s->conn);
    }
    meta_u64(r, "links_buffered_bytes", total);
    meta_u64(r, "links_buffered_max_bytes", largest);
    sj_error err;
    if (relay_store_meta_set(r->store, "links_buffered_max_node", whose, &err) != 0)
        SJ_LOG_WARN(MOD, "status not written", "why", err.message);
    meta_u64(r, "links_blocked", blocked);
}

/* The relay's county link as a station or desk sees it: a Heartbeat whose
 * NodeStatus carries only the relay's own node and its upstream state (never
 * the other stations), so that the peer can show the hop behind the relay
 * (PROTOCOL.md "Liveness").  A peer that knows nothing of it ignores it. */
static void send_upstream_state(session *s)
{
    relay *r = s->d->r;
    Sanji__NodeStatus ns = SANJI__NODE_STATUS__INIT;
    ns.node = r->self.node_id;
    ns.role = SANJI__NODE_ROLE__NODE_ROLE_RELAY;
    ns.org_unit = r->township;
    ns.upstream_online = r->upstream_online;
    ns.upstream_last_contact_ms = r->upstream_last_contact_ms;
    ns.reported_at_ms = sj_clock_real_ms();
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    hb.seq = ++s->hb_seq;
    hb.status = &ns;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    down_out_send_now(s, &env);
}

void relay_downstream_upstream_changed(relay_downstream *d)
{
    /* Told at once on every open link, whatever else waits on it: the
     * station's link bar must not say the county is reachable while the
     * relay knows it is not. */
    for (session *s = d->sessions; s; s = s->next)
        if (s->hello_done && !s->closing)
            send_upstream_state(s);
    /* Questions the county was asking will not be answered on a new link. */
    if (!d->r->upstream_online)
        for (session *s = d->sessions; s; s = s->next)
            if (!s->closing)
                down_query_fail_forwarded(s, SJ_EUPSTREAM_DOWN,
                               _("Statistics are computed by the county; ask again when the "
                                 "township's link to the county is back."),
                               false);
}

void relay_downstream_tick(relay_downstream *d)
{
    write_buffer_status(d);
    for (session *s = d->sessions; s; s = s->next) {
        if (!s->hello_done || s->closing)
            continue;
        /* The heartbeat repeats the county link's state, so a peer's view
         * is never older than one heartbeat even if a change was missed. */
        if (s->out_head == NULL) /* a link with frames waiting is not idle */
            send_upstream_state(s);
        down_session_put_station(s, true);
        if (s->fwd)
            down_query_fail_forwarded(s, SJ_ETIMEOUT,
                           _("The county did not answer in time; ask again later."), true);
    }
}

static void listener_closed(sj_listener *l)
{
    relay_downstream *d = sj_listener_data(l);
    if (d->done)
        d->done(d->r);
}

void relay_downstream_close(relay_downstream *d, void (*done)(relay *r))
{
    d->done = done;
    for (session *s = d->sessions; s; s = s->next)
        s->closing = true;
    sj_listener_close(d->listener, listener_closed);
}

void relay_downstream_free(relay_downstream *d)
{
    if (d == NULL)
        return;
    sj_listener_free(d->listener);
    free(d);
}
