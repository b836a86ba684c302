/*
 * upstream.c - the relay's county link: dialer, Hello, windowed forwarding
 * of the queue, acks, feed and reference data in, heartbeats with status.
 * See upstream.h.
 *
 * Forwarding has two lanes (relay_queue_lane): case messages first, in
 * queue order, and attachment chunks, in queue order too, with at most
 * `upstream.chunk_window` of them in flight, so that a station's upload
 * never holds up another station's case action on the county link.
 *
 * Entry points: the relay_upstream_* functions of upstream.h.
 */
#include "upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dialer.h"
#include "envelope.h"
#include "log.h"
#include "orgunit.h"
#include "relay_metrics.h"
#include "status.h"
#include "wire.h"

#define MOD "relay.up"

struct relay_upstream {
    relay *r;
    relay_upstream_events ev; /* the station and desk side, through relay.c */
    sj_dialer *dialer;
    sj_conn *conn;          /* while up */
    bool welcomed;          /* Welcome received on this link */
    bool want_pump;
    int64_t last_sent_seq[2]; /* per lane: queue seq of the last one sent on this link */
    /* Per lane: the queue had nothing after last_sent_seq when last read,
     * and nothing was queued since: the store is not asked again. */
    bool drained[2];
    /* What was forwarded on this link and not yet answered (no payload),
     * so that the county's ack needs no look-up in the store; an ack of a
     * message sent on an earlier link is looked up there. */
    relay_queue_item *sent;
    size_t n_sent, cap_sent;
    uint32_t in_flight;       /* both lanes */
    uint32_t chunks_in_flight;
    bool gap_requested;     /* a FeedRequest is outstanding */
    uint64_t hb_seq;
    void (*done)(relay *r);
};

static int send_env(relay_upstream *u, const Sanji__Envelope *env)
{
    if (u->conn == NULL)
        return SJ_EUPSTREAM_DOWN;
    sj_error err;
    int rc = sj_conn_send(u->conn, env, NULL, &err);
    if (rc != 0 && rc != SJ_EBACKPRESSURE)
        SJ_LOG_WARN(MOD, "send to county failed", "code", sj_err_name(rc), "why", err.message);
    return rc;
}

/* ---- Hello --------------------------------------------------------------- */

typedef struct cursor_list {
    Sanji__FeedCursor *items;
    Sanji__FeedCursor **ptrs;
    size_t n, cap;
    char (*villages)[RELAY_UNIT_SIZE];
} cursor_list;

static int collect_cursor(void *arg, const char *village, uint64_t seq)
{
    cursor_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        Sanji__FeedCursor *it = realloc(l->items, cap * sizeof *it);
        if (it == NULL)
            return SJ_ENOMEM;
        l->items = it;
        char(*v)[RELAY_UNIT_SIZE] = realloc(l->villages, cap * sizeof *v);
        if (v == NULL)
            return SJ_ENOMEM;
        l->villages = v;
        l->cap = cap;
    }
    snprintf(l->villages[l->n], RELAY_UNIT_SIZE, "%s", village);
    sanji__feed_cursor__init(&l->items[l->n]);
    l->items[l->n].after_seq = seq;
    l->n++;
    return 0;
}

static void send_hello(relay_upstream *u)
{
    relay *r = u->r;
    sj_error err;
    cursor_list l = {0};
    relay_store_cursor_each(r->store, collect_cursor, &l, &err);
    l.ptrs = calloc(l.n + 1, sizeof *l.ptrs);
    for (size_t i = 0; l.ptrs && i < l.n; i++) {
        l.items[i].village = l.villages[i];
        l.ptrs[i] = &l.items[i];
    }
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = SJ_PROTOCOL_LEVEL_MIN;
    h.max_version = SJ_PROTOCOL_LEVEL;
    h.software = (char *)"sanji-relayd " SANJI_VERSION;
    h.cursors = l.ptrs;
    h.n_cursors = l.ptrs ? l.n : 0;
    /* The county sends its CRL, now and when it changes (relay_crl_received()). */
    h.crl_updates = true;
    uint8_t *p;
    size_t len;
    relay_store_ref_get(r->store, RELAY_REF_CATALOGUE, &h.catalogue_version, &p, &len, &err);
    free(p);
    relay_store_ref_get(r->store, RELAY_REF_ORG_TREE, &h.org_tree_version, &p, &len, &err);
    free(p);
    relay_store_ref_get(r->store, RELAY_REF_PERSONS, &h.person_version, &p, &len, &err);
    free(p);
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    send_env(u, &env);
    free(l.items);
    free(l.ptrs);
    free(l.villages);
}

/* ---- forwarding ---------------------------------------------------------- */

/* The next queued message to send: the message lane's next while there is
 * one, else the chunk lane's next while chunks have room in the window.
 * Both lanes keep their own order; a chunk never has to precede a case
 * message (the station sends a case's chunks only once the county answered
 * every message of the case: PROTOCOL.md "Attachments"). */
static int next_in_lane(relay_upstream *u, relay_queue_lane lane, relay_queue_item *it,
                        sj_error *err)
{
    if (u->drained[lane])
        return SJ_ENOTFOUND;
    int rc = relay_store_queue_next(u->r->store, lane, u->last_sent_seq[lane], it, err);
    u->drained[lane] = rc == SJ_ENOTFOUND;
    return rc;
}

static int next_to_send(relay_upstream *u, relay_queue_item *it, sj_error *err)
{
    relay *r = u->r;
    int rc = next_in_lane(u, RELAY_LANE_MESSAGE, it, err);
    if (rc != SJ_ENOTFOUND || u->chunks_in_flight >= r->cfg->chunk_window)
        return rc;
    return next_in_lane(u, RELAY_LANE_CHUNK, it, err);
}

/* Remembers a forwarded item (without its payload) until the county's
 * ack; memory that runs out only means a look-up in the store then. */
static void sent_add(relay_upstream *u, const relay_queue_item *it)
{
    if (u->n_sent == u->cap_sent) {
        size_t cap = u->cap_sent ? 2 * u->cap_sent : 64;
        relay_queue_item *n = realloc(u->sent, cap * sizeof *n);
        if (n == NULL)
            return;
        u->sent = n;
        u->cap_sent = cap;
    }
    u->sent[u->n_sent] = *it;
    u->sent[u->n_sent].payload = NULL;
    u->n_sent++;
}

/* The forwarded item with this message id, taken off the list: 0, or
 * SJ_ENOTFOUND (sent on an earlier link, or already answered). */
static int sent_take(relay_upstream *u, const uint8_t id[16], relay_queue_item *it)
{
    for (size_t i = 0; i < u->n_sent; i++)
        if (memcmp(u->sent[i].message_id, id, 16) == 0) {
            *it = u->sent[i];
            u->sent[i] = u->sent[--u->n_sent];
            return 0;
        }
    return SJ_ENOTFOUND;
}

/* A new link, or none: everything still queued goes again from the start. */
static void link_reset(relay_upstream *u)
{
    u->welcomed = false;
    u->in_flight = 0;
    u->chunks_in_flight = 0;
    u->last_sent_seq[RELAY_LANE_MESSAGE] = u->last_sent_seq[RELAY_LANE_CHUNK] = 0;
    u->drained[RELAY_LANE_MESSAGE] = u->drained[RELAY_LANE_CHUNK] = false;
    u->n_sent = 0;
}

static void pump(relay_upstream *u)
{
    relay *r = u->r;
    while (u->conn && u->welcomed && u->in_flight < r->cfg->window && !sj_conn_blocked(u->conn)) {
        relay_queue_item it;
        sj_error err;
        int rc = next_to_send(u, &it, &err);
        if (rc == SJ_ENOTFOUND)
            return;
        if (rc != 0) {
            SJ_LOG_ERROR(MOD, "cannot read the queue", "why", err.message);
            return;
        }
        rc = sj_conn_send_payload(u->conn, it.payload, it.len, &err);
        free(it.payload);
        if (rc == SJ_EBACKPRESSURE)
            return; /* on_drain resumes */
        if (rc == SJ_EUNSUPPORTED) {
            /* The county is older than the station that sent it: the
             * message stays queued for the next link, the rest goes on. */
            SJ_LOG_WARN(MOD, "queued message waits for the county's upgrade", "why", err.message);
            u->last_sent_seq[it.lane] = it.seq;
            continue;
        }
        if (rc != 0) {
            SJ_LOG_WARN(MOD, "queued message not forwarded", "why", err.message);
            return;
        }
        u->last_sent_seq[it.lane] = it.seq;
        sent_add(u, &it);
        u->in_flight++;
        if (it.lane == RELAY_LANE_CHUNK)
            u->chunks_in_flight++;
        sj_metric_add(&relay_m_forwarded, NULL, 1);
    }
}

/* The county's Ack as it sent it: the Ack field of the Envelope payload,
 * not re-encoded (wire.h); *buf is set when it had to be packed again
 * (the caller frees it). */
static int ack_bytes(const Sanji__Ack *ack, const uint8_t *payload, size_t len,
                     const uint8_t **out, size_t *out_len, uint8_t **buf)
{
    *buf = NULL;
    if (relay_wire_field(payload, len, SANJI__ENVELOPE__BODY_ACK, out, out_len) == 0)
        return 0;
    size_t n = sanji__ack__get_packed_size(ack);
    if ((*buf = malloc(n ? n : 1)) == NULL)
        return SJ_ENOMEM;
    sanji__ack__pack(ack, *buf);
    *out = *buf;
    *out_len = n;
    return 0;
}

static void handle_ack(relay_upstream *u, const Sanji__Ack *ack, const uint8_t *payload,
                       size_t len)
{
    relay *r = u->r;
    if (ack->message_id.len != 16 || (ack->status != SANJI__ACK_STATUS__ACK_STATUS_APPLIED &&
                                      ack->status != SANJI__ACK_STATUS__ACK_STATUS_REFUSED))
        return;
    relay_queue_item it;
    sj_error err;
    if (sent_take(u, ack->message_id.data, &it) != 0 &&
        relay_store_queue_find(r->store, ack->message_id.data, &it, &err) != 0)
        return; /* a repeated ack of something already settled */
    const uint8_t *ab;
    size_t an;
    uint8_t *buf;
    if (ack_bytes(ack, payload, len, &ab, &an, &buf) != 0)
        return;
    /* The result settles the message, in the turn's transaction: after a
     * crash either the message is still queued (and resent; the county
     * answers from its dedup table) or its result is kept. */
    int rc = relay_store_queue_settle(r->store, &it, ab, an, sj_clock_real_ms(), &err);
    if (rc == SJ_ENOTFOUND) {
        free(buf);
        return; /* settled already */
    }
    if (rc != 0) {
        SJ_LOG_ERROR(MOD, "cannot store a county result", "why", err.message);
        free(buf);
        return;
    }
    sj_metric_add(&relay_m_settled,
                  ack->status == SANJI__ACK_STATUS__ACK_STATUS_APPLIED ? "applied" : "refused", 1);
    if (u->in_flight > 0)
        u->in_flight--;
    if (it.lane == RELAY_LANE_CHUNK && u->chunks_in_flight > 0)
        u->chunks_in_flight--;
    u->want_pump = true;
    u->ev.result_ready(u->ev.arg, it.origin_node, it.message_id, ab, an);
    free(buf);
}

static void request_feed(relay_upstream *u, const char *village, uint64_t after)
{
    Sanji__FeedCursor c = SANJI__FEED_CURSOR__INIT;
    c.village = (char *)village;
    c.after_seq = after;
    Sanji__FeedCursor *cp = &c;
    Sanji__FeedRequest fr = SANJI__FEED_REQUEST__INIT;
    fr.cursors = &cp;
    fr.n_cursors = 1;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_FEED_REQUEST;
    env.feed_request = &fr;
    if (send_env(u, &env) == 0)
        u->gap_requested = true;
}

static void handle_feed(relay_upstream *u, const Sanji__FeedUpdate *fu)
{
    relay *r = u->r;
    if (fu->caught_up) {
        u->gap_requested = false;
        return;
    }
    if (fu->village == NULL || !sj_orgunit_contains(r->township, fu->village) ||
        sj_orgunit_level(fu->village) != SJ_LEVEL_VILLAGE) {
        SJ_LOG_WARN(MOD, "feed update outside the township ignored", "village", fu->village);
        return;
    }
    sj_error err;
    int rc = relay_store_feed_put(r->store, fu, &err);
    if (rc == 0) {
        if (fu->event && fu->event->recorded_at_ms > 0) {
            int64_t lag = sj_clock_real_ms() - fu->event->recorded_at_ms;
            sj_metric_set(&relay_m_feed_lag, fu->village, lag > 0 ? (double)lag / 1000.0 : 0);
        }
        u->ev.feed_changed(u->ev.arg, fu->village);
    } else if (rc == SJ_EAGAIN) {
        if (!u->gap_requested)
            request_feed(u, fu->village, relay_store_cursor_get(r->store, fu->village));
    } else if (rc != SJ_EEXISTS) {
        SJ_LOG_ERROR(MOD, "cannot store a feed update", "why", err.message);
    }
}

static void store_ref(relay_upstream *u, relay_ref_kind kind, uint64_t version,
                      const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return;
    protobuf_c_message_pack(m, buf);
    sj_error err;
    if (relay_store_ref_put(u->r->store, kind, version, buf, n, &err) != 0)
        SJ_LOG_ERROR(MOD, "cannot store reference data", "why", err.message);
    free(buf);
}

/* ---- dialer callbacks ---------------------------------------------------- */

static void on_up(sj_dialer *d, sj_conn *conn, const sj_identity *peer)
{
    relay_upstream *u = sj_dialer_data(d);
    u->conn = conn;
    link_reset(u); /* resend everything still queued, each lane in order */
    u->gap_requested = false;
    sj_metrics_link(peer->node_id, true, sj_clock_real_ms());
    sj_tls_cert_info ci;
    if (sj_conn_peer_cert(conn, &ci) == 0)
        sj_metrics_cert(peer->node_id, ci.not_after);
    SJ_LOG_INFO(MOD, "county link up", "peer", peer->node_id);
    /* Online only once the county answers (Welcome): a county that takes
     * the TLS handshake but not the session is not reachable for the
     * stations' work. */
    send_hello(u);
}

static void on_message(sj_dialer *d, sj_conn *conn, const Sanji__Envelope *env,
                       const uint8_t *payload, size_t len)
{
    relay_upstream *u = sj_dialer_data(d);
    relay *r = u->r;
    r->upstream_last_contact_ms = sj_clock_real_ms();
    switch (env->body_case) {
    case SANJI__ENVELOPE__BODY_WELCOME:
        /* An older county: what it does not know waits in the queue. */
        sj_conn_set_level(u->conn, sj_protocol_level_agree(env->welcome->version));
        u->welcomed = true;
        u->want_pump = true;
        u->ev.state_changed(u->ev.arg, true);
        relay_request_commit(r);
        break;
    case SANJI__ENVELOPE__BODY_ACK:
        handle_ack(u, env->ack, payload, len);
        break;
    case SANJI__ENVELOPE__BODY_FEED_UPDATE:
        handle_feed(u, env->feed_update);
        break;
    case SANJI__ENVELOPE__BODY_CATALOGUE_SYNC:
        store_ref(u, RELAY_REF_CATALOGUE, env->catalogue_sync->version,
                  &env->catalogue_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_ORG_TREE_SYNC:
        store_ref(u, RELAY_REF_ORG_TREE, env->org_tree_sync->version, &env->org_tree_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_PERSON_SYNC:
        store_ref(u, RELAY_REF_PERSONS, env->person_sync->version, &env->person_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_DUTY_SYNC:
        store_ref(u, RELAY_REF_DUTY, env->duty_sync->version, &env->duty_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_CRL_UPDATE:
        /* Revocation reaches the relay over this link (docs/PKI.md). */
        relay_crl_received(r, env->crl_update->crl.data, env->crl_update->crl.len);
        break;
    case SANJI__ENVELOPE__BODY_QUERY_RESULT:
        /* An answer to a question forwarded for a station or desk. */
        u->ev.query_result(u->ev.arg, env->query_result);
        break;
    case SANJI__ENVELOPE__BODY_HEARTBEAT:
        break;
    default:
        SJ_LOG_WARN(MOD, "unexpected message from the county ignored");
        break;
    }
}

static void on_drain(sj_dialer *d, sj_conn *conn)
{
    relay_upstream *u = sj_dialer_data(d);
    pump(u);
}

static void on_down(sj_dialer *d, int status, const sj_error *why, uint64_t retry_in_ms)
{
    relay_upstream *u = sj_dialer_data(d);
    bool was_up = u->conn != NULL;
    if (was_up)
        sj_metrics_link(u->r->cfg->county_node, false,
                        u->r->upstream_last_contact_ms ? u->r->upstream_last_contact_ms
                                                       : sj_clock_real_ms());
    u->conn = NULL;
    link_reset(u);
    if (was_up || sj_dialer_attempts(d) <= 1)
        SJ_LOG_WARN(MOD, "county link down", "code", sj_err_name(status), "why",
                    why ? why->message : "");
    if (was_up && u->r->upstream_online)
        u->ev.state_changed(u->ev.arg, false);
}

static void on_stopped(sj_dialer *d)
{
    relay_upstream *u = sj_dialer_data(d);
    if (u->done)
        u->done(u->r);
}

static const sj_dialer_callbacks CBS = {.on_up = on_up,
                                        .on_message = on_message,
                                        .on_drain = on_drain,
                                        .on_down = on_down,
                                        .on_stopped = on_stopped};

/* ---- entry points -------------------------------------------------------- */

int relay_upstream_start(relay *r, const relay_upstream_events *ev, relay_upstream **out,
                         sj_error *err)
{
    *out = NULL;
    relay_upstream *u = calloc(1, sizeof *u);
    if (u == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    u->r = r;
    u->ev = *ev;
    sj_dialer_options o = sj_dialer_options_default();
    o.addresses = (const char *const *)r->cfg->county_addresses;
    o.n_addresses = r->cfg->n_county_addresses;
    o.expected_peer_node = r->cfg->county_node;
    o.backoff_cap_ms = r->cfg->backoff_max_ms;
    if (o.backoff_base_ms > o.backoff_cap_ms)
        o.backoff_base_ms = o.backoff_cap_ms;
    o.conn.max_frame = r->cfg->max_frame;
    o.conn.idle_timeout_ms = r->cfg->idle_timeout_ms;
    o.conn.handshake_timeout_ms = r->cfg->handshake_timeout_ms;
    u->dialer = sj_dialer_new(r->loop, r->client_tls, &o, &CBS, u, err);
    if (u->dialer == NULL) {
        free(u);
        return err->code ? err->code : SJ_EINVAL;
    }
    int rc = sj_dialer_start(u->dialer);
    if (rc != 0) {
        sj_dialer_free(u->dialer);
        free(u);
        return sj_error_set(err, rc, "cannot start the county dialer");
    }
    *out = u;
    return 0;
}

void relay_upstream_queued(relay_upstream *u)
{
    u->want_pump = true;
    u->drained[RELAY_LANE_MESSAGE] = u->drained[RELAY_LANE_CHUNK] = false;
}

void relay_upstream_after_commit(relay_upstream *u)
{
    if (u->want_pump) {
        u->want_pump = false;
        pump(u);
    }
}

void relay_upstream_tick(relay_upstream *u)
{
    if (u->conn == NULL || !u->welcomed)
        return;
    relay *r = u->r;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    hb.seq = ++u->hb_seq;
    Sanji__NodeStatus ns;
    bool with_status = (hb.seq % 2) == 1;
    sj_error err;
    if (with_status && relay_status_collect(r->store, NULL, &ns, &err) == 0) {
        ns.upstream_online = true;
        ns.upstream_last_contact_ms = r->upstream_last_contact_ms;
        ns.reported_at_ms = sj_clock_real_ms();
        hb.status = &ns;
    } else {
        with_status = false;
    }
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    int rc = send_env(u, &env);
    if (with_status) {
        /* Wrong passwords the status carried are the county's now. */
        if (rc == 0 && relay_status_forwarded(r->store, &ns, &err) != 0)
            SJ_LOG_WARN(MOD, "reported wrong passwords not dropped", "why", err.message);
        relay_status_release(&ns);
    }
}

sj_conn *relay_upstream_conn(const relay_upstream *u)
{
    return u->conn;
}

int relay_upstream_forward(relay_upstream *u, const uint8_t *payload, size_t len, sj_error *err)
{
    if (u == NULL || u->conn == NULL || !u->welcomed)
        return sj_error_set(err, SJ_EUPSTREAM_DOWN, "county link is down");
    return sj_conn_send_payload(u->conn, payload, len, err);
}

void relay_upstream_stop(relay_upstream *u, void (*done)(relay *r))
{
    u->done = done;
    sj_dialer_stop(u->dialer);
}

void relay_upstream_free(relay_upstream *u)
{
    if (u == NULL)
        return;
    sj_dialer_free(u->dialer);
    free(u->sent);
    free(u);
}
