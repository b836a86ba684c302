/*
 * sc_link.c - the client's link to the relay or county (docs/PROTOCOL.md,
 * the dialing side): the dialer's callbacks, Hello and Welcome, the
 * heartbeat with this node's status, the dispatch of what comes down, and
 * what the link teaches (lasting refusals, the network's time).
 *
 * Entry points: sc_lasting_refusal(), sc_lasting_advice(), sc_check_clock();
 * inside the library the sc_link_* functions of sanji_client_private.h.
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn.h"
#include "dialer.h"
#include "i18n.h"
#include "log.h"
#include "login_report.h"

#define HEARTBEAT_MS 15000
#define IDLE_MS 60000

/* ---- the link ---------------------------------------------------------- */

int sc_link_send_env(sc_client *c, Sanji__Envelope *env, uint8_t id_out[16], sj_error *err)
{
    if (!c->conn)
        return sj_error_set(err, SJ_ECLOSED, "%s", _("Not connected to the township relay or the county."));
    return sj_conn_send(c->conn, env, id_out, err);
}

/* A county desk does not hold the county: it searches at the county by
 * Query (PROTOCOL.md "Case search") and keeps in its store only the cases
 * it opens or acts on.  Its Hello asks for no feed history (live_only), and
 * the live updates it then receives refresh the cases it holds and tell the
 * pages to re-read; they never fill the store.  A county of a million cases
 * would otherwise mean minutes of download and most of a gigabyte here. */
bool sc_link_live_only(const sc_client *c)
{
    /* A department desk too: it works on the few cases dispatched to it,
     * and the county sends it nothing of the others (server/session.c). */
    return c->node.role == SJ_NODE_ROLE_COUNTY_DESK ||
           c->node.role == SJ_NODE_ROLE_DEPARTMENT_DESK;
}

static void send_hello(sc_client *c)
{
    Sanji__Hello h = SANJI__HELLO__INIT;
    sj_error err;
    if (!sc_link_live_only(c)) {
        int rc = sc_feed_cursors(c, &h.cursors, &h.n_cursors, &err);
        if (rc == SJ_ENOMEM) {
            sj_conn_close(c->conn, SJ_ENOMEM, NULL);
            return;
        }
        if (rc != 0)
            SJ_LOG_WARN(MOD, "cursor read failed", "error", err.message);
    }
    h.min_version = SJ_PROTOCOL_LEVEL_MIN;
    h.max_version = SJ_PROTOCOL_LEVEL;
    h.software = (char *)"sanji-client " SANJI_VERSION;
    h.catalogue_version = c->catalogue_version;
    h.org_tree_version = c->org_tree_version;
    h.person_version = c->person_version;
    h.live_only = sc_link_live_only(c);
    h.feed_deltas = c->feed_deltas && !h.live_only;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    if (sc_link_send_env(c, &env, NULL, &err) != 0)
        SJ_LOG_WARN(MOD, "hello not sent", "error", err.message);
    free(h.cursors);
}

/* ---- what the link taught us: lasting refusals and the network's time ---- */

/* A refusal only a person can fix (a revoked or expired certificate, a node
 * outside the relay's township) is kept in the store, so that every later
 * run of the CLI knows at once that saved work cannot go out, and says so. */
static void note_lasting_refusal(sc_client *c, int code)
{
    c->lasting_refusal = code;
    char v[16];
    snprintf(v, sizeof v, "%d", code);
    sj_error err;
    if (sc_store_meta_set(c->st, "lasting_refusal", v, &err) != 0)
        SJ_LOG_WARN("sanji", "lasting refusal not stored", "why", err.message);
}

/* The peer took the link: any lasting refusal is over, and its clock tells
 * the network's time (sc_check_clock()). */
static void note_link_accepted(sc_client *c, int64_t server_time_ms)
{
    sj_error err;
    if (c->lasting_refusal) {
        c->lasting_refusal = 0;
        if (sc_store_meta_set(c->st, "lasting_refusal", "0", &err) != 0)
            SJ_LOG_WARN("sanji", "lasting refusal not cleared", "why", err.message);
    }
    if (server_time_ms <= 0)
        return;
    c->clock_offset_ms = server_time_ms - sj_clock_real_ms();
    if (server_time_ms > c->network_time_ms) {
        c->network_time_ms = server_time_ms;
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)server_time_ms);
        if (sc_store_meta_set(c->st, "network_time_ms", v, &err) != 0)
            SJ_LOG_WARN("sanji", "network time not stored", "why", err.message);
    }
}

int sc_lasting_refusal(const sc_client *c)
{
    return c->lasting_refusal;
}

const char *sc_lasting_advice(int code)
{
    switch (code) {
    case SJ_ETLS_REVOKED:
        return _("This station's certificate has been revoked; ask the county organisation "
                 "department for a new one. Work saved here cannot be sent until it is replaced.");
    case SJ_ETLS_EXPIRED:
        return _("A certificate has expired or is not valid yet: check this computer's date and "
                 "time; if it is right, ask the county organisation department for a new "
                 "certificate. Work saved here cannot be sent until then.");
    case SJ_ESCOPE:
        return _("The relay refuses this station as not of its township: check the relay address "
                 "in the configuration, or ask the county organisation department. Work saved "
                 "here cannot be sent until then.");
    case SJ_ETLS_UNTRUSTED:
        return _("The other side's certificate is not from this county's CA: check the address "
                 "and the CA file in the configuration, or ask the county organisation "
                 "department. Work saved here cannot be sent until then.");
    default:
        return _("The other side refuses this station's certificate (wrong role or identity); "
                 "ask the county organisation department for the right one. Work saved here "
                 "cannot be sent until then.");
    }
}

int sc_check_clock(const sc_client *c, int64_t now, sj_error *err)
{
    int64_t network = 0;
    if (c->welcomed && (c->clock_offset_ms > SC_CLOCK_SKEW_MAX_MS ||
                        c->clock_offset_ms < -SC_CLOCK_SKEW_MAX_MS))
        network = now + c->clock_offset_ms;
    else if (c->network_time_ms > now + SC_CLOCK_SKEW_MAX_MS)
        network = c->network_time_ms;
    if (!network)
        return 0;
    char shows[SJ_CLOCK_DATE_SIZE + 16], was[SJ_CLOCK_DATE_SIZE + 16];
    sj_clock_format_china(now, shows, sizeof shows);
    sj_clock_format_china(network, was, sizeof was);
    return sj_error_set(err, SJ_EBAD_TIME,
                        _("This computer's date and time are wrong: it shows %s, but the network's "
                          "time was %s. Correct the computer's date and time, then save again; "
                          "nothing was saved."),
                        shows, was);
}

static void d_on_up(sj_dialer *d, sj_conn *conn, const sj_identity *peer)
{
    sc_client *c = sj_dialer_data(d);
    c->conn = conn;
    c->welcomed = false;
    c->caught_up = false;
    c->gap_requested = false;
    c->sent_upto = 0;
    c->chunk_upto = 0;
    snprintf(c->peer_node, sizeof(c->peer_node), "%s", peer->node_id);
    send_hello(c);
}

static void on_welcome(sc_client *c, sj_conn *conn, const Sanji__Welcome *w)
{
    if (c->welcomed || w->version < SJ_PROTOCOL_LEVEL_MIN || w->version > SJ_PROTOCOL_LEVEL) {
        sj_conn_close(conn, SJ_EPROTOCOL, "unexpected Welcome");
        return;
    }
    /* An older relay or county: what it does not know stays in the
     * outbox until it is upgraded (sc_send_flush()). */
    sj_conn_set_level(conn, w->version);
    c->welcomed = true;
    /* A county answers for itself; a relay says whether the county is
     * reachable behind it. */
    bool county = sj_conn_peer(conn) && sj_conn_peer(conn)->role == SJ_NODE_ROLE_COUNTY;
    c->upstream_online = county ? true : w->upstream_online;
    c->upstream_last_ms = county ? w->server_time_ms : w->upstream_last_contact_ms;
    c->last_error = 0;
    c->last_error_text[0] = '\0';
    note_link_accepted(c, w->server_time_ms);
    sc_event ev = {.type = SC_EV_LINK_UP,
                   .peer_node = c->peer_node,
                   .upstream_online = c->upstream_online};
    sc_client_emit(c, &ev);
    sc_send_flush(c);
    /* Presence at once when someone is logged in here: a CLI command may
     * end before its first heartbeat, and the county would never learn the
     * station was staffed. */
    char report[SJ_LOGIN_REPORT_SIZE];
    sc_login_report_read(c, report);
    if (report[0] || c->person_id[0])
        sc_link_send_status(c);
}

/* A relay repeats its county link's state on its heartbeats and sends one
 * at once when it changes; a county speaks for itself. */
static void on_peer_heartbeat(sc_client *c, sj_conn *conn, const Sanji__Heartbeat *hb)
{
    if (!hb->status || !sj_conn_peer(conn) || sj_conn_peer(conn)->role != SJ_NODE_ROLE_RELAY)
        return;
    bool was = c->upstream_online;
    c->upstream_online = hb->status->upstream_online;
    c->upstream_last_ms = hb->status->upstream_last_contact_ms;
    if (was != c->upstream_online) {
        sc_event ev = {.type = SC_EV_UPSTREAM,
                       .peer_node = c->peer_node,
                       .upstream_online = c->upstream_online};
        sc_client_emit(c, &ev);
    }
}

static void d_on_message(sj_dialer *d, sj_conn *conn, const Sanji__Envelope *env,
                         const uint8_t *payload, size_t len)
{
    sc_client *c = sj_dialer_data(d);
    (void)payload;
    (void)len;
    if (!c->welcomed && env->body_case != SANJI__ENVELOPE__BODY_WELCOME &&
        env->body_case != SANJI__ENVELOPE__BODY_GOODBYE) {
        sj_conn_close(conn, SJ_EPROTOCOL, "Welcome expected");
        return;
    }
    switch (env->body_case) {
    case SANJI__ENVELOPE__BODY_WELCOME: on_welcome(c, conn, env->welcome); break;
    case SANJI__ENVELOPE__BODY_ACK: sc_send_on_ack(c, env->ack); break;
    case SANJI__ENVELOPE__BODY_FEED_UPDATE: sc_feed_on_update(c, env->feed_update); break;
    case SANJI__ENVELOPE__BODY_QUERY_RESULT: sc_queries_on_result(c, env->query_result); break;
    case SANJI__ENVELOPE__BODY_CATALOGUE_SYNC:
        sc_ref_on_sync(c, "catalogue", env->catalogue_sync->version, &env->catalogue_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_ORG_TREE_SYNC:
        sc_ref_on_sync(c, "org_tree", env->org_tree_sync->version, &env->org_tree_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_PERSON_SYNC:
        sc_ref_on_sync(c, "persons", env->person_sync->version, &env->person_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_DUTY_SYNC:
        sc_ref_on_sync(c, "duty", env->duty_sync->version, &env->duty_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_HEARTBEAT:
        on_peer_heartbeat(c, conn, env->heartbeat);
        break;
    case SANJI__ENVELOPE__BODY_GOODBYE: break; /* the link reports it on close */
    default:
        /* Upward-only messages from our upstream: a protocol breach. */
        sj_conn_close(conn, SJ_EPROTOCOL, "message not allowed downward");
        break;
    }
}

static void d_on_drain(sj_dialer *d, sj_conn *conn)
{
    (void)conn;
    sc_send_flush(sj_dialer_data(d));
}

static void d_on_down(sj_dialer *d, int status, const sj_error *why, uint64_t retry_in_ms)
{
    sc_client *c = sj_dialer_data(d);
    bool was_up = c->conn != NULL;
    c->conn = NULL;
    c->welcomed = false;
    c->caught_up = false;
    c->last_error = status;
    snprintf(c->last_error_text, sizeof(c->last_error_text), "%s", why ? why->message : "");
    if (sj_err_is_lasting(status))
        note_lasting_refusal(c, status);
    sc_queries_fail(c, status ? status : SJ_ECLOSED);
    sc_event ev = {.type = SC_EV_LINK_DOWN,
                   .code = status,
                   .reason = why ? why->message : "",
                   .retry_in_ms = retry_in_ms,
                   .upstream_online = false};
    (void)was_up;
    sc_client_emit(c, &ev);
}

static void d_on_stopped(sj_dialer *d)
{
    sc_client *c = sj_dialer_data(d);
    c->busy--;
    sc_client_maybe_stopped(c);
}

static const sj_dialer_callbacks DIALER_CBS = {
    .on_up = d_on_up,
    .on_message = d_on_message,
    .on_drain = d_on_drain,
    .on_down = d_on_down,
    .on_stopped = d_on_stopped,
};

/* Our status upward: with the heartbeat, at once after a wrong password,
 * and at once after a Welcome when someone is logged in or wrong passwords
 * wait to be reported.  Wrong passwords are dropped from the store once
 * handed to the link. */
void sc_link_send_status(sc_client *c)
{
    if (!c->conn || !c->welcomed)
        return;
    sc_outbox_counts oc;
    sj_error err;
    sc_store_outbox_counts(c->st, &oc, &err);
    Sanji__NodeStatus ns = SANJI__NODE_STATUS__INIT;
    ns.node = c->node.node_id;
    ns.role = (Sanji__NodeRole)c->node.role;
    ns.org_unit = c->node.unit;
    ns.queue_depth = oc.saved + oc.stored;
    ns.oldest_queued_age_ms = oc.oldest_unfinished_ms ? sj_clock_real_ms() - oc.oldest_unfinished_ms : 0;
    ns.software = (char *)"sanji-client " SANJI_VERSION;
    ns.reported_at_ms = sj_clock_real_ms();
    /* Presence (docs/SERVER.md "Station presence"): whether someone is
     * logged in in this program now (the desktop's login; the CLI takes
     * the login `sanji login` remembered, sc_use_person()). */
    ns.logged_in = c->person_id[0] != '\0';
    ns.last_login_ms = sc_login_last_ms(c);
    char report[SJ_LOGIN_REPORT_SIZE];
    sc_login_report_read(c, report);
    Sanji__LoginFailures **lf = NULL;
    size_t n_lf = 0;
    if (sj_login_report_parse(report, &lf, &n_lf) == 0) {
        ns.login_failures = lf;
        ns.n_login_failures = n_lf;
    }
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    hb.seq = ++c->heartbeat_seq;
    hb.status = &ns;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    if (sc_link_send_env(c, &env, NULL, &err) == 0 && n_lf > 0 &&
        sc_login_report_clear(c, &err) != 0)
        SJ_LOG_WARN("sanji", "reported wrong passwords not cleared", "why", err.message);
    sj_login_report_free(lf, n_lf);
}

static void on_heartbeat(uv_timer_t *t)
{
    sc_link_send_status(t->data);
}

static void on_timer_closed(uv_handle_t *h)
{
    sc_client *c = h->data;
    c->busy--;
    sc_client_maybe_stopped(c);
}


/* ---- starting and stopping --------------------------------------------- */

int sc_link_start(sc_client *c, sj_error *err)
{
    sj_dialer_options o = sj_dialer_options_default();
    o.addresses = (const char *const *)c->addresses;
    o.n_addresses = c->n_addresses;
    o.expected_peer_node = c->expected_peer;
    if (c->backoff_base_ms)
        o.backoff_base_ms = c->backoff_base_ms;
    if (c->backoff_cap_ms)
        o.backoff_cap_ms = c->backoff_cap_ms;
    o.conn.idle_timeout_ms = IDLE_MS;
    o.conn.max_frame = MAX_FRAME;
    c->dialer = sj_dialer_new(c->loop, c->tls, &o, &DIALER_CBS, c, err);
    if (!c->dialer)
        return err ? err->code : SJ_EINVAL;
    uv_timer_init(c->loop, &c->heartbeat);
    c->heartbeat.data = c;
    uv_timer_start(&c->heartbeat, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
    c->started = true;
    c->busy += 2; /* the dialer and the timer */
    return sj_dialer_start(c->dialer);
}

void sc_link_stop(sc_client *c)
{
    uv_timer_stop(&c->heartbeat);
    uv_close((uv_handle_t *)&c->heartbeat, on_timer_closed);
    sj_dialer_stop(c->dialer);
}
