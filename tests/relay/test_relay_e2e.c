/*
 * test_relay_e2e.c - sanji-relayd as a real process on loopback, between a
 * county and stations that speak docs/PROTOCOL.md over real mutual TLS.
 *
 * The county end is a small protocol peer inside the test: it applies each
 * message id at most once, answers a redelivery with the original Ack,
 * numbers every village's feed and sends it after the relay's cursor.  It
 * stays a stand-in on purpose: it counts how often each message id arrives
 * (the relay's resend after a crash), which the real county hides behind
 * its dedup table, and it can be absent or slow at will.  The same
 * behaviours against the real sanji-countyd and PostgreSQL (relay killed
 * in flight, village of another township, another village's case) are in
 * tests/e2e/test_e2e.c.  The stations are sj_conn links
 * with an in-memory outbox that resends every message without a final ack
 * after each reconnect, as PROTOCOL.md asks of clients.
 *
 * Behaviours:
 *   county down: stations still get STORED; county back: all applied once,
 *     the station's feed converges;
 *   kill -9 of the relay while messages are in flight: none lost, none
 *     applied twice;
 *   queue quota full: clear SJ_EQUOTA refusals, nothing stored is lost;
 *   a village certificate of another township: refused (SJ_ESCOPE);
 *   a message on another village's case, or for another village: refused
 *     at the relay, never reaching the county;
 *   the feed to a township desk masks the applicant's ID number of a case
 *     the township does not hold; the village's own feed never does;
 *   SIGHUP reloads the CRL: the relay keeps running and refuses a station
 *     revoked after its start;
 *   feed deltas to a station that asks, read back across sessions, whole
 *     again when it asks for rows again; none to others;
 *   a desk's case action overtakes a station's queued attachment chunks on
 *     the county link (upstream.chunk_window), across a kill -9 too, and
 *     every chunk is applied once.
 *
 * Every wait is for a state (of a station, the county peer, the relay's
 * store or log) and fails only at SJ_TEST_HANG_MS (proc.h), never because
 * the machine is slow.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "attach.h"
#include "certs.h"
#include "clock.h"
#include "files.h"
#include "conn.h"
#include "case_delta.h"
#include "listener.h"
#include "loop.h"
#include "proc.h"
#include "store.h"
#include "tiers.h"
#include "tls.h"
#include "uuid.h"

#define COUNTY_NODE "county:410423000000"
#define RELAY_NODE "relay:410423101000"
#define V201 "410423101201"
#define V202 "410423101202"
#define MAXMSG 512
#define APPLICANT_ID "410423199001011234"
#define APPLICANT_PHONE "13812345678"

/* ---- the county peer ----------------------------------------------------- */

typedef struct applied {
    uint8_t id[16];
    uint8_t case_id[16];
    char village[13];
    uint64_t version;
    int deliveries; /* how often the id arrived (applied only the first time) */
    bool chunk;     /* an AttachmentChunk */
} applied;

typedef struct feed_entry {
    char village[13];
    uint64_t seq;
    uint8_t case_id[16];
    uint64_t version;
    Sanji__Level holder; /* 0: the village */
} feed_entry;

typedef struct county {
    uv_loop_t *loop;
    sj_tls_ctx *tls;
    sj_listener *listener;
    int port;
    applied apps[MAXMSG * 2];
    int n_apps;
    feed_entry feed[MAXMSG * 2];
    int n_feed;
    sj_conn *link;
    int hellos;
    char sender[SJ_IDENTITY_NODE_ID_MAX]; /* sender_node of the last case message */
} county;

static county C;

static uint64_t county_seq(const char *village)
{
    uint64_t n = 0;
    for (int i = 0; i < C.n_feed; i++)
        if (strcmp(C.feed[i].village, village) == 0)
            n = C.feed[i].seq;
    return n;
}

static void county_send_update(sj_conn *c, const feed_entry *f)
{
    Sanji__Case cs = SANJI__CASE__INIT;
    cs.case_id.data = (uint8_t *)f->case_id;
    cs.case_id.len = 16;
    cs.village = (char *)f->village;
    cs.version = f->version;
    cs.status = SANJI__CASE_STATUS__CASE_STATUS_REGISTERED;
    cs.holder_level = f->holder ? f->holder : SANJI__LEVEL__LEVEL_VILLAGE;
    cs.holder_unit = f->holder == SANJI__LEVEL__LEVEL_COUNTY     ? (char *)"410423000000"
                     : f->holder == SANJI__LEVEL__LEVEL_TOWNSHIP ? (char *)"410423101000"
                                                                 : (char *)f->village;
    cs.registered_at_ms = 1;
    Sanji__Applicant ap = SANJI__APPLICANT__INIT;
    ap.name = (char *)"张三";
    ap.id_number = (char *)APPLICANT_ID;
    ap.phone = (char *)APPLICANT_PHONE;
    cs.applicant = &ap;
    Sanji__FeedUpdate u = SANJI__FEED_UPDATE__INIT;
    u.village = (char *)f->village;
    u.seq = f->seq;
    u.snapshot = &cs;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
    env.feed_update = &u;
    sj_error err;
    sj_conn_send(c, &env, NULL, &err);
}

static void county_add_feed(const char *village, const uint8_t case_id[16], uint64_t version)
{
    uint64_t seq = county_seq(village) + 1;
    feed_entry *f = &C.feed[C.n_feed++];
    snprintf(f->village, sizeof f->village, "%s", village);
    f->seq = seq;
    memcpy(f->case_id, case_id, 16);
    f->version = version;
}

static void county_ack(sj_conn *c, const applied *a)
{
    Sanji__Ack ack = SANJI__ACK__INIT;
    ack.message_id.data = (uint8_t *)a->id;
    ack.message_id.len = 16;
    ack.status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED;
    ack.case_id.data = (uint8_t *)a->case_id;
    ack.case_id.len = 16;
    ack.case_version = a->version;
    ack.case_number = (char *)"410423-20260213-0001";
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    sj_error err;
    sj_conn_send(c, &env, NULL, &err);
}

static void county_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    if (env->body_case == SANJI__ENVELOPE__BODY_HELLO) {
        C.hellos++;
        Sanji__Welcome w = SANJI__WELCOME__INIT;
        w.version = sj_protocol_level_agree(env->hello->max_version);
        w.node = (char *)COUNTY_NODE;
        Sanji__Envelope out = SANJI__ENVELOPE__INIT;
        out.body_case = SANJI__ENVELOPE__BODY_WELCOME;
        out.welcome = &w;
        sj_error err;
        sj_conn_send(c, &out, NULL, &err);
        /* The feed after the relay's cursors (from 1 for villages not named). */
        for (int i = 0; i < C.n_feed; i++) {
            uint64_t after = 0;
            for (size_t k = 0; k < env->hello->n_cursors; k++)
                if (strcmp(env->hello->cursors[k]->village, C.feed[i].village) == 0)
                    after = env->hello->cursors[k]->after_seq;
            if (C.feed[i].seq > after)
                county_send_update(c, &C.feed[i]);
        }
        Sanji__FeedUpdate cu = SANJI__FEED_UPDATE__INIT;
        cu.caught_up = true;
        out.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
        out.feed_update = &cu;
        sj_conn_send(c, &out, NULL, &err);
        return;
    }
    if (env->body_case != SANJI__ENVELOPE__BODY_CASE_SUBMIT &&
        env->body_case != SANJI__ENVELOPE__BODY_CASE_ACTION &&
        env->body_case != SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK)
        return;
    for (int i = 0; i < C.n_apps; i++) {
        if (memcmp(C.apps[i].id, env->message_id.data, 16) == 0) {
            C.apps[i].deliveries++;
            county_ack(c, &C.apps[i]); /* dedup: the original result */
            return;
        }
    }
    snprintf(C.sender, sizeof C.sender, "%s", env->sender_node);
    assert_true(C.n_apps < MAXMSG * 2);
    applied *a = &C.apps[C.n_apps++];
    memcpy(a->id, env->message_id.data, 16);
    a->deliveries = 1;
    a->version = 1;
    if (env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK) {
        /* Attachments are not in the feed. */
        a->chunk = true;
        memcpy(a->case_id, env->attachment_chunk->case_id.data, 16);
        snprintf(a->village, sizeof a->village, "%s", V201);
        county_ack(c, a);
        return;
    }
    if (env->body_case == SANJI__ENVELOPE__BODY_CASE_SUBMIT) {
        memcpy(a->case_id, env->case_submit->case_id.data, 16);
        snprintf(a->village, sizeof a->village, "%s", env->case_submit->village);
    } else {
        memcpy(a->case_id, env->case_action->case_id.data, 16);
        snprintf(a->village, sizeof a->village, "%s", V201);
    }
    county_add_feed(a->village, a->case_id, a->version);
    county_send_update(c, &C.feed[C.n_feed - 1]);
    county_ack(c, a);
}

static void county_ready(sj_conn *c, const sj_identity *peer)
{
    assert_string_equal(peer->node_id, RELAY_NODE);
    C.link = c;
}

static void county_close(sj_conn *c, int status, const sj_error *why)
{
    if (C.link == c)
        C.link = NULL;
}

static const sj_conn_callbacks COUNTY_CBS = {
    .on_ready = county_ready, .on_message = county_message, .on_close = county_close};

static void county_listen(sj_test_certs *certs)
{
    sj_error err;
    static const sj_node_role roles[] = {SJ_NODE_ROLE_RELAY};
    if (C.tls == NULL) {
        C.tls = sj_test_certs_tls_ctx(certs, "county", true, false, roles, 1, NULL, &err);
        if (C.tls == NULL)
            fail_msg("county tls: %s", err.message);
    }
    C.listener = sj_listener_new(C.loop, C.tls, NULL, &COUNTY_CBS, NULL, &err);
    assert_non_null(C.listener);
    if (sj_listener_listen(C.listener, "127.0.0.1", C.port, 16, &err) != 0)
        fail_msg("county listen: %s", err.message);
}

static int county_applied_once_all(void)
{
    for (int i = 0; i < C.n_apps; i++)
        if (C.apps[i].deliveries < 1)
            return 0;
    return 1;
}

/* ---- a station ----------------------------------------------------------- */

typedef enum { M_NEW, M_STORED, M_APPLIED, M_REFUSED } mstate;

typedef struct station {
    sj_tls_ctx *tls;
    sj_conn *conn;
    bool ready;
    int closed_status;
    bool closed;
    int n;
    uint8_t ids[MAXMSG][16];
    uint8_t case_ids[MAXMSG][16];
    char village[MAXMSG][13];
    bool is_action[MAXMSG];
    int chunk_no[MAXMSG];    /* an attachment chunk: its number + 1; 0 for a case message */
    int chunk_count[MAXMSG];
    int apps_at_stored[MAXMSG]; /* C.n_apps when its STORED arrived */
    bool sent[MAXMSG];       /* written to the current link */
    mstate state[MAXMSG];
    int refusal_code[MAXMSG];
    uint64_t feed_seq; /* cursor of its own village */
    bool welcomed;     /* the relay answered its Hello */
    bool caught_up;
    char id_seen[8][32]; /* the applicant's ID number in feed update seq 1..7 */
    bool deltas;         /* its Hello asks for feed deltas */
    char kind[16];       /* feed update seq 1..15 taken: 'W' whole, 'D' a delta */
    uint64_t base_of[16];
    Sanji__Case *held[4]; /* the last case of each id the feed brought, deltas rebuilt */
    int n_held;
    bool rebuilt_wrong;  /* a delta did not rebuild on the case held */
} station;

static int count_state(const station *s, mstate m)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->state[i] == m;
    return n;
}

static int find_msg(const station *s, const uint8_t id[16])
{
    for (int i = 0; i < s->n; i++)
        if (memcmp(s->ids[i], id, 16) == 0)
            return i;
    return -1;
}

static void station_send(station *s, int i)
{
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.message_id.data = s->ids[i];
    env.message_id.len = 16;
    Sanji__CaseSubmit cs = SANJI__CASE_SUBMIT__INIT;
    Sanji__CaseAction ca = SANJI__CASE_ACTION__INIT;
    Sanji__Applicant ap = SANJI__APPLICANT__INIT;
    Sanji__AttachmentChunk ch = SANJI__ATTACHMENT_CHUNK__INIT;
    static uint8_t data[SJ_ATTACH_CHUNK_SIZE], sha[SJ_ATTACH_SHA256_SIZE];
    uint8_t att_id[16];
    if (s->chunk_no[i] > 0) {
        /* One attachment per chunk count (the relay checks the fields, not
         * the data). */
        memset(att_id, s->chunk_count[i], sizeof att_id);
        ch.attachment_id.data = att_id;
        ch.attachment_id.len = 16;
        ch.case_id.data = s->case_ids[i];
        ch.case_id.len = 16;
        ch.size = (uint64_t)s->chunk_count[i] * SJ_ATTACH_CHUNK_SIZE;
        ch.chunk_count = (uint32_t)s->chunk_count[i];
        ch.chunk_no = (uint32_t)s->chunk_no[i] - 1;
        ch.sha256.data = sha;
        ch.sha256.len = sizeof sha;
        ch.mime = (char *)"image/jpeg";
        ch.name = (char *)"申请材料.jpg";
        ch.data.data = data;
        ch.data.len = sizeof data;
        env.body_case = SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK;
        env.attachment_chunk = &ch;
    } else if (s->is_action[i]) {
        ca.case_id.data = s->case_ids[i];
        ca.case_id.len = 16;
        ca.action = SANJI__CASE_ACTION_TYPE__CASE_ACTION_URGE;
        ca.expected_version = 1;
        ca.actor_person = (char *)"p-410423101201-01";
        ca.acted_at_ms = sj_clock_real_ms();
        env.body_case = SANJI__ENVELOPE__BODY_CASE_ACTION;
        env.case_action = &ca;
    } else {
        cs.case_id.data = s->case_ids[i];
        cs.case_id.len = 16;
        cs.village = s->village[i];
        cs.item_code = (char *)"MZ-003";
        ap.name = (char *)"张三";
        ap.id_number = (char *)"410423199001011234";
        ap.phone = (char *)"13812345678";
        cs.applicant = &ap;
        cs.request_text = (char *)"申请城乡低保，家中两位老人无劳动能力";
        cs.actor_person = (char *)"p-410423101201-01";
        cs.registered_at_ms = sj_clock_real_ms();
        env.body_case = SANJI__ENVELOPE__BODY_CASE_SUBMIT;
        env.case_submit = &cs;
    }
    sj_error err;
    int rc = sj_conn_send(s->conn, &env, NULL, &err);
    /* (SJ_EUNSUPPORTED: an attachment chunk before Welcome agreed the
     * level; sent after it.) */
    if (rc != 0 && rc != SJ_ECLOSED && rc != SJ_EBACKPRESSURE && rc != SJ_EUNSUPPORTED)
        fail_msg("station send: %s", err.message);
    s->sent[i] = rc == 0;
}

/* Sends the outbox not yet written to this link (everything without a
 * final ack), in order, until the link pushes back (on_drain goes on). */
static void station_flush(station *s)
{
    for (int i = 0; s->ready && i < s->n; i++) {
        if (s->sent[i] || (s->state[i] != M_NEW && s->state[i] != M_STORED))
            continue;
        station_send(s, i);
        if (!s->sent[i])
            return;
    }
}

static void station_drain(sj_conn *c)
{
    station_flush(sj_conn_data(c));
}

static int station_add(station *s, const char *village, bool action, const uint8_t *case_id)
{
    int i = s->n++;
    assert_true(i < MAXMSG);
    sj_uuid_v7(s->ids[i]);
    if (case_id)
        memcpy(s->case_ids[i], case_id, 16);
    else
        sj_uuid_v7(s->case_ids[i]);
    snprintf(s->village[i], sizeof s->village[i], "%s", village);
    s->is_action[i] = action;
    s->chunk_no[i] = 0;
    s->state[i] = M_NEW;
    s->sent[i] = false;
    station_flush(s);
    return i;
}

/* Queues chunk k of an attachment of count chunks (32 KiB each) on the case
 * of message sub. */
static int station_add_chunk(station *s, int sub, int k, int count)
{
    int i = s->n++;
    assert_true(i < MAXMSG);
    sj_uuid_v7(s->ids[i]);
    memcpy(s->case_ids[i], s->case_ids[sub], 16);
    memcpy(s->village[i], s->village[sub], sizeof s->village[i]);
    s->is_action[i] = false;
    s->chunk_no[i] = k + 1;
    s->chunk_count[i] = count;
    s->state[i] = M_NEW;
    s->sent[i] = false;
    station_flush(s);
    return i;
}

static void station_ready(sj_conn *c, const sj_identity *peer)
{
    station *s = sj_conn_data(c);
    assert_string_equal(peer->node_id, RELAY_NODE);
    s->ready = true;
    Sanji__FeedCursor cur = SANJI__FEED_CURSOR__INIT;
    cur.village = (char *)V201;
    cur.after_seq = s->feed_seq;
    Sanji__FeedCursor *cp = &cur;
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = SJ_PROTOCOL_LEVEL_MIN;
    h.max_version = SJ_PROTOCOL_LEVEL;
    h.software = (char *)"test-station";
    h.cursors = &cp;
    h.n_cursors = 1;
    h.feed_deltas = s->deltas;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    sj_error err;
    assert_int_equal(sj_conn_send(c, &env, NULL, &err), 0);
    /* The outbox: everything without a final ack, in order. */
    memset(s->sent, 0, sizeof s->sent);
    station_flush(s);
}

/* Notes how a feed update came and, at a station that asks for deltas,
 * keeps the case it brings: a delta rebuilt on the case held
 * (common/domain/case_delta.h), as a station does. */
static void station_take(station *s, const Sanji__FeedUpdate *u)
{
    if (u->seq < 16) {
        s->kind[u->seq] = u->delta ? 'D' : 'W';
        s->base_of[u->seq] = u->base_version;
    }
    const Sanji__Case *c = u->delta ? u->delta->set : u->snapshot;
    if (!s->deltas || c == NULL || c->case_id.len != 16)
        return;
    int i = 0;
    while (i < s->n_held && memcmp(s->held[i]->case_id.data, c->case_id.data, 16) != 0)
        i++;
    Sanji__Case *now = NULL;
    sj_error err;
    if (u->delta) {
        if (i == s->n_held ||
            sj_case_delta_apply(s->held[i], u->base_version, u->delta, &now, &err) != 0) {
            s->rebuilt_wrong = true;
            return;
        }
    } else {
        uint8_t buf[4096];
        size_t n = sanji__case__pack(c, buf);
        now = sanji__case__unpack(NULL, n, buf);
    }
    if (i == s->n_held) {
        assert_true(s->n_held < 4);
        s->n_held++;
    } else {
        sanji__case__free_unpacked(s->held[i], NULL);
    }
    s->held[i] = now;
}

static void station_held_free(station *s)
{
    for (int i = 0; i < s->n_held; i++)
        sanji__case__free_unpacked(s->held[i], NULL);
    s->n_held = 0;
}

static void station_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    station *s = sj_conn_data(c);
    if (env->body_case == SANJI__ENVELOPE__BODY_WELCOME) {
        s->welcomed = true;
        sj_conn_set_level(c, sj_protocol_level_agree(env->welcome->version));
        station_flush(s);
    }
    if (env->body_case == SANJI__ENVELOPE__BODY_ACK) {
        int i = find_msg(s, env->ack->message_id.data);
        assert_true(i >= 0);
        switch (env->ack->status) {
        case SANJI__ACK_STATUS__ACK_STATUS_STORED:
            if (s->state[i] == M_NEW) {
                s->state[i] = M_STORED;
                s->apps_at_stored[i] = C.n_apps;
            }
            break;
        case SANJI__ACK_STATUS__ACK_STATUS_APPLIED:
            assert_int_not_equal(s->state[i], M_REFUSED);
            s->state[i] = M_APPLIED;
            break;
        case SANJI__ACK_STATUS__ACK_STATUS_REFUSED:
            s->state[i] = M_REFUSED;
            s->refusal_code[i] = env->ack->code;
            assert_non_null(env->ack->reason);
            assert_true(strlen(env->ack->reason) > 0);
            break;
        default:
            fail_msg("ack status %d", env->ack->status);
        }
    } else if (env->body_case == SANJI__ENVELOPE__BODY_FEED_UPDATE) {
        const Sanji__FeedUpdate *u = env->feed_update;
        if (u->caught_up) {
            s->caught_up = true;
            return;
        }
        assert_string_equal(u->village, V201); /* never another village's feed */
        if (u->seq < 8 && u->snapshot && u->snapshot->applicant)
            snprintf(s->id_seen[u->seq], sizeof s->id_seen[u->seq], "%s",
                     u->snapshot->applicant->id_number ? u->snapshot->applicant->id_number : "");
        if (u->seq == s->feed_seq + 1) {
            s->feed_seq = u->seq;
            station_take(s, u);
        }
    }
}

static void station_close(sj_conn *c, int status, const sj_error *why)
{
    station *s = sj_conn_data(c);
    s->closed = true;
    s->closed_status = status;
    s->ready = false;
    s->conn = NULL;
    sj_conn_free(c);
}

static const sj_conn_callbacks STATION_CBS = {
    .on_ready = station_ready,
    .on_message = station_message,
    .on_drain = station_drain,
    .on_close = station_close};

static void station_connect(station *s, sj_test_certs *certs, const char *cert, int port)
{
    sj_error err;
    if (s->tls == NULL) {
        static const sj_node_role roles[] = {SJ_NODE_ROLE_RELAY};
        s->tls = sj_test_certs_tls_ctx(certs, cert, false, false, roles, 1, NULL, &err);
        if (s->tls == NULL)
            fail_msg("station tls: %s", err.message);
    }
    s->closed = false;
    s->closed_status = 0;
    s->conn = sj_conn_new(C.loop, s->tls, RELAY_NODE, NULL, &STATION_CBS, NULL, &err);
    assert_non_null(s->conn);
    sj_conn_set_data(s->conn, s);
    if (sj_test_loop_connect(s->conn, port, &err) != 0)
        fail_msg("station connect: %s", err.message);
}

/* ---- the relay process --------------------------------------------------- */

typedef struct world {
    sj_test_certs certs;
    uv_loop_t loop;
    uv_timer_t pulse;
    char conf[PATH_MAX];
    char store[PATH_MAX];
    char log[PATH_MAX];
    char crl[PATH_MAX]; /* tls.crl of the relay; "" for none */
    int relay_port;
    sj_test_proc relay;
} world;

/* link.handshake_timeout of the relay: the default (10 s) for every test
 * but the one that waits for it to fire, so that no station's handshake
 * ends in a timeout because the machine is loaded. */
#define HANDSHAKE_DEFAULT "10s"
#define HANDSHAKE_SHORT "1s"
#define HANDSHAKE_SHORT_MS 1000
/* upstream.chunk_window of the relay */
#define CHUNK_WINDOW "2"
#define CHUNK_WINDOW_N 2

static void write_config_handshake(world *w, const char *quota, const char *handshake)
{
    char crt[PATH_MAX], key[PATH_MAX];
    int rc = sj_test_write_file(NULL, w->conf,
                                "[listen]\naddress = 127.0.0.1:%d\n"
                                "[county]\naddresses = 127.0.0.1:%d\nnode = %s\n"
                                "[tls]\nca = %s\ncert = %s\nkey = %s\ncrl = \"%s\"\n"
                                "[store]\npath = %s\n"
                                "[queue]\nquota = %s\n"
                                "[upstream]\nwindow = 16\nchunk_window = " CHUNK_WINDOW
                                "\nbackoff_max = 300ms\n"
                                "[link]\nheartbeat = 500ms\nhandshake_timeout = %s\n"
                                "[log]\nlevel = info\n",
                                w->relay_port, C.port, COUNTY_NODE, w->certs.ca_file,
                                sj_test_certs_path(&w->certs, "relay", "crt", crt, sizeof crt),
                                sj_test_certs_path(&w->certs, "relay", "key", key, sizeof key),
                                w->crl, w->store, quota, handshake);
    assert_int_equal(rc, 0);
}

static void write_config(world *w, const char *quota)
{
    write_config_handshake(w, quota, HANDSHAKE_DEFAULT);
}

static void pulse_cb(uv_timer_t *t)
{
}

/* Runs the loop until pred() holds or ms pass; returns pred(). */
static bool run_until(world *w, bool (*pred)(void *), void *arg, int ms)
{
    return sj_test_loop_run_until(&w->loop, pred, arg, ms);
}

static bool never(void *arg)
{
    return false;
}

static void relay_spawn(world *w)
{
    if (sj_test_tiers_start_daemon(&w->relay, "relay/sanji-relayd", w->conf, w->log,
                                   w->relay_port) != 0)
        fail_msg("sanji-relayd did not start; log %s", w->log);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (sj_test_certs_setup(&w->certs) != 0)
        return -1;
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/village-102", w->certs.dir);
    const char *args[] = {"issue", "--dir", w->certs.ca_dir, "--role", "village", "--unit",
                          "410423102201", "--out", out, NULL};
    if (sj_test_certs_pki(&w->certs, args) != 0)
        return -1;
    snprintf(w->conf, sizeof w->conf, "%s/relay.conf", w->certs.dir);
    snprintf(w->store, sizeof w->store, "%s/relay.db", w->certs.dir);
    snprintf(w->log, sizeof w->log, "%s/relay.log", w->certs.dir);
    if (sj_test_loop_init(&w->loop, &w->pulse, pulse_cb, 20) != 0)
        return -1;
    memset(&C, 0, sizeof C);
    C.loop = &w->loop;
    C.port = sj_test_proc_free_port();
    w->relay_port = sj_test_proc_free_port();
    if (C.port <= 0 || w->relay_port <= 0)
        return -1;
    *state = w;
    return 0;
}

static void county_stop(void)
{
    sj_test_loop_close_listener(&C.listener);
}

static void station_free(world *w, station *s)
{
    if (s->conn)
        sj_conn_close(s->conn, 0, NULL);
    run_until(w, never, NULL, 100);
    sj_tls_ctx_free(s->tls);
    s->tls = NULL;
}

static int teardown(void **state)
{
    world *w = *state;
    sj_error err;
    /* SIGTERM (none running: nothing to do); how it ends is not what these
     * tests check. */
    (void)sj_test_proc_stop(&w->relay, SJ_TEST_HANG_MS, &err);
    sj_test_proc_free(&w->relay);
    county_stop();
    run_until(w, never, NULL, 100);
    sj_test_loop_close(&w->loop);
    sj_tls_ctx_free(C.tls);
    C.tls = NULL;
    if (getenv("SANJI_KEEP_TEST_DIR") == NULL)
        sj_test_certs_cleanup(&w->certs);
    free(w);
    return 0;
}

/* ---- predicates ---------------------------------------------------------- */

typedef struct want {
    station *s;
    int n;
    mstate m;
} want;

static bool at_least(void *arg)
{
    want *x = arg;
    return count_state(x->s, x->m) >= x->n;
}

static bool finals(void *arg)
{
    want *x = arg;
    return count_state(x->s, M_APPLIED) + count_state(x->s, M_REFUSED) >= x->n;
}

static bool feed_at(void *arg)
{
    want *x = arg;
    return x->s->feed_seq >= (uint64_t)x->n;
}

static bool is_closed(void *arg)
{
    return ((station *)arg)->closed;
}

static bool is_ready(void *arg)
{
    return ((station *)arg)->ready;
}

static bool is_welcomed(void *arg)
{
    return ((station *)arg)->welcomed;
}

static void check_each_applied_once(const station *s)
{
    for (int i = 0; i < s->n; i++) {
        if (s->state[i] != M_APPLIED)
            continue;
        int found = 0;
        for (int k = 0; k < C.n_apps; k++)
            found += memcmp(C.apps[k].id, s->ids[i], 16) == 0;
        if (found != 1)
            fail_msg("message %d applied %d times at the county", i, found);
    }
}

static bool county_has(void *arg)
{
    return C.n_apps >= *(int *)arg;
}

static int count_result(void *arg, const uint8_t id[16], const uint8_t *ack, size_t len)
{
    (*(int *)arg)++;
    return 0;
}

/* Results for node the relay's store has not marked delivered (read from
 * the file beside the running relay). */
static int store_undelivered(const world *w, const char *node)
{
    relay_store *st = NULL;
    sj_error err;
    if (relay_store_open_readonly(w->store, &st, &err) != 0)
        fail_msg("store: %s", err.message);
    int n = 0;
    if (relay_store_result_each_undelivered(st, node, count_result, &n, &err) != 0)
        fail_msg("store results: %s", err.message);
    relay_store_close(st);
    return n;
}

typedef struct want_store {
    const world *w;
    int n;
} want_store;

static bool undelivered_is(void *arg)
{
    const want_store *x = arg;
    return store_undelivered(x->w, C.sender) == x->n;
}

static void relayctl_status(world *w, char *out, size_t cap)
{
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "%s/relay/sanji-relayctl --store %s", getenv("SANJI_BUILD_DIR"),
             w->store);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
}

/* sanji-relayctl status shows both texts (the relay writes its status
 * once a tick). */
typedef struct status_want {
    world *w;
    const char *a, *b;
    char text[4096]; /* the status last read */
} status_want;

static bool status_shows(void *arg)
{
    status_want *x = arg;
    relayctl_status(x->w, x->text, sizeof x->text);
    return strstr(x->text, x->a) != NULL && strstr(x->text, x->b) != NULL;
}

/* ---- tests --------------------------------------------------------------- */

static void test_county_down_villages_keep_submitting(void **state)
{
    world *w = *state;
    write_config(w, "64MiB");
    relay_spawn(w);
    static station s;
    memset(&s, 0, sizeof s);
    station_connect(&s, &w->certs, "village", w->relay_port);
    assert_true(run_until(w, is_ready, &s, SJ_TEST_HANG_MS));
    for (int i = 0; i < 20; i++)
        station_add(&s, V201, false, NULL);
    want st = {&s, 20, M_STORED};
    assert_true(run_until(w, at_least, &st, SJ_TEST_HANG_MS));
    assert_int_equal(count_state(&s, M_APPLIED), 0);
    assert_int_equal(C.n_apps, 0);

    /* The status the relay writes on its next tick says so. */
    static status_want sw;
    sw = (status_want){w, "队列 (queue): 20 条", "断开 (down)", ""};
    if (!run_until(w, status_shows, &sw, SJ_TEST_HANG_MS))
        fail_msg("relayctl status:\n%s", sw.text);
    assert_non_null(strstr(sw.text, "village:410423101201"));

    /* The county comes back: everything is applied once, the feed converges. */
    county_listen(&w->certs);
    want ap = {&s, 20, M_APPLIED};
    if (!run_until(w, at_least, &ap, SJ_TEST_HANG_MS))
        fail_msg("applied %d of 20 (county has %d)", count_state(&s, M_APPLIED), C.n_apps);
    assert_int_equal(C.n_apps, 20);
    check_each_applied_once(&s);
    want fd = {&s, 20, M_NEW};
    assert_true(run_until(w, feed_at, &fd, SJ_TEST_HANG_MS));
    assert_int_equal(s.feed_seq, county_seq(V201));
    station_free(w, &s);
}

static void test_kill9_while_in_flight_loses_nothing(void **state)
{
    world *w = *state;
    write_config(w, "64MiB");
    county_listen(&w->certs);
    relay_spawn(w);
    static station s;
    memset(&s, 0, sizeof s);
    station_connect(&s, &w->certs, "village", w->relay_port);
    assert_true(run_until(w, is_ready, &s, SJ_TEST_HANG_MS));
    const int N = 300;
    for (int i = 0; i < N; i++)
        station_add(&s, V201, false, NULL);
    want some = {&s, 40, M_STORED};
    assert_true(run_until(w, at_least, &some, SJ_TEST_HANG_MS));
    assert_int_equal(sj_test_proc_kill9(&w->relay), 0);
    int stored_before = count_state(&s, M_STORED) + count_state(&s, M_APPLIED);
    assert_true(run_until(w, is_closed, &s, SJ_TEST_HANG_MS));
    print_message("killed the relay with %d of %d acked (stored or applied), county has %d\n",
                  stored_before, N, C.n_apps);

    relay_spawn(w);
    station_connect(&s, &w->certs, "village", w->relay_port);
    want all = {&s, N, M_APPLIED};
    if (!run_until(w, at_least, &all, SJ_TEST_HANG_MS))
        fail_msg("applied %d of %d after restart (county has %d)", count_state(&s, M_APPLIED), N,
                 C.n_apps);
    assert_int_equal(C.n_apps, N); /* none lost, none applied twice */
    check_each_applied_once(&s);
    assert_true(county_applied_once_all());
    want fd = {&s, N, M_NEW};
    assert_true(run_until(w, feed_at, &fd, SJ_TEST_HANG_MS));
    station_free(w, &s);
}

/* Results kept for an absent station are marked delivered only once the
 * relay's link has written them to the station, not when they are queued. */
static void test_results_marked_delivered_when_written(void **state)
{
    world *w = *state;
    write_config(w, "64MiB");
    relay_spawn(w);
    static station s;
    memset(&s, 0, sizeof s);
    station_connect(&s, &w->certs, "village", w->relay_port);
    assert_true(run_until(w, is_ready, &s, SJ_TEST_HANG_MS));
    const int N = 10;
    for (int i = 0; i < N; i++)
        station_add(&s, V201, false, NULL);
    want st = {&s, N, M_STORED};
    assert_true(run_until(w, at_least, &st, SJ_TEST_HANG_MS));
    sj_conn_close(s.conn, 0, NULL);
    assert_true(run_until(w, is_closed, &s, SJ_TEST_HANG_MS));

    /* The county applies everything while the station is away. */
    county_listen(&w->certs);
    int n = N;
    assert_true(run_until(w, county_has, &n, SJ_TEST_HANG_MS));
    want_store kept = {w, N};
    if (!run_until(w, undelivered_is, &kept, SJ_TEST_HANG_MS))
        fail_msg("undelivered results %d, want %d", store_undelivered(w, C.sender), N);

    /* The station comes back: it gets every result, then they are marked. */
    station_connect(&s, &w->certs, "village", w->relay_port);
    want ap = {&s, N, M_APPLIED};
    if (!run_until(w, at_least, &ap, SJ_TEST_HANG_MS))
        fail_msg("applied %d of %d", count_state(&s, M_APPLIED), N);
    want_store none = {w, 0};
    if (!run_until(w, undelivered_is, &none, SJ_TEST_HANG_MS))
        fail_msg("undelivered results %d after the station got them, want 0",
                 store_undelivered(w, C.sender));
    check_each_applied_once(&s);
    station_free(w, &s);
}

static void test_quota_full_refuses_clearly_and_keeps_old(void **state)
{
    world *w = *state;
    write_config(w, "4KiB");
    relay_spawn(w);
    static station s;
    memset(&s, 0, sizeof s);
    station_connect(&s, &w->certs, "village", w->relay_port);
    assert_true(run_until(w, is_ready, &s, SJ_TEST_HANG_MS));
    const int N = 80;
    for (int i = 0; i < N; i++)
        station_add(&s, V201, false, NULL);
    want acked = {&s, N, M_NEW};
    bool (*all_acked)(void *) = NULL;
    (void)all_acked;
    int64_t end = sj_clock_mono_ms() + SJ_TEST_HANG_MS;
    while (count_state(&s, M_STORED) + count_state(&s, M_REFUSED) < N &&
           sj_clock_mono_ms() < end)
        uv_run(&w->loop, UV_RUN_ONCE);
    (void)acked;
    int stored = count_state(&s, M_STORED), refused = count_state(&s, M_REFUSED);
    print_message("quota 4KiB: %d stored, %d refused\n", stored, refused);
    assert_int_equal(stored + refused, N);
    assert_true(stored > 0);
    assert_true(refused > 0);
    for (int i = 0; i < N; i++)
        if (s.state[i] == M_REFUSED)
            assert_int_equal(s.refusal_code[i], SJ_EQUOTA);

    county_listen(&w->certs);
    want fin = {&s, N, M_NEW};
    assert_true(run_until(w, finals, &fin, SJ_TEST_HANG_MS));
    assert_int_equal(count_state(&s, M_APPLIED), stored); /* nothing stored was dropped */
    assert_int_equal(C.n_apps, stored);                   /* nothing refused went up */
    check_each_applied_once(&s);
    station_free(w, &s);
}

static void test_village_of_another_township_refused(void **state)
{
    world *w = *state;
    write_config(w, "64MiB");
    relay_spawn(w);
    static station s;
    memset(&s, 0, sizeof s);
    station_connect(&s, &w->certs, "village-102", w->relay_port);
    assert_true(run_until(w, is_closed, &s, SJ_TEST_HANG_MS));
    assert_int_equal(s.closed_status, SJ_ESCOPE);
    station_free(w, &s);
    /* A desk of this township is welcome: the relay answers its Hello. */
    static station d;
    memset(&d, 0, sizeof d);
    station_connect(&d, &w->certs, "township-desk", w->relay_port);
    assert_true(run_until(w, is_ready, &d, SJ_TEST_HANG_MS));
    if (!run_until(w, is_welcomed, &d, SJ_TEST_HANG_MS))
        fail_msg("the township desk got no Welcome (closed: %d, %s)", d.closed,
                 sj_err_name(d.closed_status));
    assert_false(d.closed);
    station_free(w, &d);
}

/* A client that connects and never starts TLS is closed once
 * link.handshake_timeout (1 s here) has passed, not before, and not never;
 * the relay stays up.  (The close may come any time later on a loaded
 * machine: only "not before" is a bound.) */
static void test_silent_client_closed_at_handshake_timeout(void **state)
{
    world *w = *state;
    write_config_handshake(w, "64MiB", HANDSHAKE_SHORT);
    relay_spawn(w);
    int64_t ms = sj_test_proc_silent_peer_ms(w->relay_port, SJ_TEST_HANG_MS);
    if (ms < 0)
        fail_msg("a silent client was still connected after %d ms (handshake_timeout = %s)",
                 SJ_TEST_HANG_MS, HANDSHAKE_SHORT);
    /* The relay's timer starts at its accept, after our connect began:
     * slack of a few ms for its clock's millisecond steps only. */
    if (ms < HANDSHAKE_SHORT_MS - 50)
        fail_msg("a silent client was closed after %lld ms, before handshake_timeout = %s",
                 (long long)ms, HANDSHAKE_SHORT);
    assert_true(sj_test_proc_alive(&w->relay));
}

static bool relay_knows_v202(void *arg)
{
    world *w = arg;
    char text[4096];
    relayctl_status(w, text, sizeof text);
    return strstr(text, "410423101202  1") != NULL;
}

static void test_other_villages_case_refused_before_storing(void **state)
{
    world *w = *state;
    write_config(w, "64MiB");
    uint8_t other_case[16];
    sj_uuid_v7(other_case);
    county_add_feed(V202, other_case, 1); /* a case of the neighbouring village */
    county_listen(&w->certs);
    relay_spawn(w);
    assert_true(run_until(w, relay_knows_v202, w, SJ_TEST_HANG_MS));

    static station s;
    memset(&s, 0, sizeof s);
    station_connect(&s, &w->certs, "village", w->relay_port);
    assert_true(run_until(w, is_ready, &s, SJ_TEST_HANG_MS));
    int a = station_add(&s, V201, true, other_case); /* act on 202's case */
    int b = station_add(&s, V202, false, NULL);      /* register for 202 */
    int c = station_add(&s, V201, false, NULL);      /* its own: fine */
    want fin = {&s, 3, M_NEW};
    assert_true(run_until(w, finals, &fin, SJ_TEST_HANG_MS));
    assert_int_equal(s.state[a], M_REFUSED);
    assert_int_equal(s.refusal_code[a], SJ_ESCOPE);
    assert_int_equal(s.state[b], M_REFUSED);
    assert_int_equal(s.refusal_code[b], SJ_ESCOPE);
    assert_int_equal(s.state[c], M_APPLIED);
    assert_int_equal(C.n_apps, 1); /* only the own-village message reached the county */
    station_free(w, &s);
}

/* The relay keeps the county's whole record but passes the applicant's ID
 * number on only to those who handle the case: the village always, the
 * township desk while the township holds it. */
static void test_township_desk_feed_masked_unless_township_holds(void **state)
{
    world *w = *state;
    write_config(w, "64MiB");
    uint8_t at_county[16], at_township[16];
    sj_uuid_v7(at_county);
    sj_uuid_v7(at_township);
    county_add_feed(V201, at_county, 3);
    C.feed[C.n_feed - 1].holder = SANJI__LEVEL__LEVEL_COUNTY;
    county_add_feed(V201, at_township, 2);
    C.feed[C.n_feed - 1].holder = SANJI__LEVEL__LEVEL_TOWNSHIP;
    county_listen(&w->certs);
    relay_spawn(w);

    static station v, d;
    memset(&v, 0, sizeof v);
    memset(&d, 0, sizeof d);
    station_connect(&v, &w->certs, "village", w->relay_port);
    station_connect(&d, &w->certs, "township-desk", w->relay_port);
    want vf = {&v, 2, M_NEW}, df = {&d, 2, M_NEW};
    assert_true(run_until(w, feed_at, &vf, SJ_TEST_HANG_MS));
    assert_true(run_until(w, feed_at, &df, SJ_TEST_HANG_MS));
    /* seq 1: held by the county */
    assert_string_equal(v.id_seen[1], APPLICANT_ID);
    assert_string_equal(d.id_seen[1], "4104**********1234");
    /* seq 2: held by the township */
    assert_string_equal(v.id_seen[2], APPLICANT_ID);
    assert_string_equal(d.id_seen[2], APPLICANT_ID);
    station_free(w, &v);
    station_free(w, &d);
}

/* The relay's county link is up and said Hello. */
static bool is_county_linked(void *arg)
{
    (void)arg;
    return C.link != NULL && C.hellos > 0;
}

/* The version of the case held for id. */
static uint64_t held_version(const station *s, const uint8_t id[16])
{
    for (int i = 0; i < s->n_held; i++)
        if (memcmp(s->held[i]->case_id.data, id, 16) == 0)
            return s->held[i]->version;
    return 0;
}

static void station_feed_request(station *s, uint64_t after)
{
    Sanji__FeedCursor cur = SANJI__FEED_CURSOR__INIT;
    cur.village = (char *)V201;
    cur.after_seq = after;
    Sanji__FeedCursor *cp = &cur;
    Sanji__FeedRequest fr = SANJI__FEED_REQUEST__INIT;
    fr.cursors = &cp;
    fr.n_cursors = 1;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_FEED_REQUEST;
    env.feed_request = &fr;
    sj_error err;
    assert_int_equal(sj_conn_send(s->conn, &env, NULL, &err), 0);
}

/* Feed deltas (PROTOCOL.md "The downward feed"): a station that asks gets
 * each update of a case it holds as what changed since the previous one
 * (found among the rows sent, or read back from the store in a new
 * session), which rebuilds exactly; asked for rows again, the relay sends
 * them whole; a station that does not ask, and a township desk, get every
 * update whole. */
static void test_feed_deltas_to_stations_that_ask(void **state)
{
    world *w = *state;
    write_config(w, "64MiB");
    uint8_t a[16], b[16];
    sj_uuid_v7(a);
    sj_uuid_v7(b);
    county_add_feed(V201, a, 1);
    county_listen(&w->certs);
    relay_spawn(w);

    /* The station takes row 1 and goes away. */
    static station v, old, d;
    memset(&v, 0, sizeof v);
    memset(&old, 0, sizeof old);
    memset(&d, 0, sizeof d);
    v.deltas = true;
    station_connect(&v, &w->certs, "village", w->relay_port);
    want v1 = {&v, 1, M_NEW}, vf = {&v, 4, M_NEW};
    assert_true(run_until(w, feed_at, &v1, SJ_TEST_HANG_MS));
    station_free(w, &v);
    assert_int_equal(v.kind[1], 'W');

    /* Three more rows; back from cursor 1: row 2's base (row 1) is read
     * back from the store, row 4's is row 2, sent in this session; case b
     * has no earlier row and comes whole. */
    county_add_feed(V201, a, 2);
    county_add_feed(V201, b, 1);
    county_add_feed(V201, a, 3);
    assert_true(run_until(w, is_county_linked, NULL, SJ_TEST_HANG_MS));
    for (int i = C.n_feed - 3; i < C.n_feed; i++)
        county_send_update(C.link, &C.feed[i]);
    station_connect(&v, &w->certs, "village", w->relay_port);
    assert_true(run_until(w, feed_at, &vf, SJ_TEST_HANG_MS));
    assert_memory_equal(v.kind + 2, "DWD", 3);
    assert_int_equal(v.base_of[2], 1);
    assert_int_equal(v.base_of[4], 2);
    assert_false(v.rebuilt_wrong);
    assert_int_equal(held_version(&v, a), 3);
    assert_int_equal(held_version(&v, b), 1);

    /* Asked again from 1 on the same link: rows 2..4 come whole. */
    v.feed_seq = 1;
    memset(v.kind, 0, sizeof v.kind);
    station_feed_request(&v, 1);
    assert_true(run_until(w, feed_at, &vf, SJ_TEST_HANG_MS));
    assert_memory_equal(v.kind + 2, "WWW", 3);
    assert_false(v.rebuilt_wrong);
    assert_int_equal(held_version(&v, a), 3);

    /* No flag: whole; a township desk is never sent deltas. */
    d.deltas = true;
    station_connect(&old, &w->certs, "village", w->relay_port);
    station_connect(&d, &w->certs, "township-desk", w->relay_port);
    want of = {&old, 4, M_NEW}, df = {&d, 4, M_NEW};
    assert_true(run_until(w, feed_at, &of, SJ_TEST_HANG_MS));
    assert_true(run_until(w, feed_at, &df, SJ_TEST_HANG_MS));
    assert_memory_equal(old.kind + 1, "WWWW", 4);
    assert_memory_equal(d.kind + 1, "WWWW", 4);
    station_free(w, &v);
    station_free(w, &old);
    station_free(w, &d);
    station_held_free(&v);
}

static void copy_file(const char *from, const char *to)
{
    char cmd[PATH_MAX * 2 + 16];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static bool log_says_crl_reloaded(void *arg)
{
    world *w = arg;
    /* the station listener's and the county link's */
    return sj_test_count_lines(w->log, "CRL reloaded") >= 2;
}

/* SIGHUP reloads the CRL (it used to kill the relay): a station revoked
 * after the start is refused from then on, and the relay keeps running. */
static void test_sighup_reloads_crl_and_keeps_running(void **state)
{
    world *w = *state;
    snprintf(w->crl, sizeof w->crl, "%s/relay-crl.pem", w->certs.dir);
    copy_file(w->certs.crl_file, w->crl);
    write_config(w, "64MiB");
    county_listen(&w->certs);
    relay_spawn(w);

    /* Before: the village station is welcome. */
    static station a;
    memset(&a, 0, sizeof a);
    station_connect(&a, &w->certs, "village", w->relay_port);
    assert_true(run_until(w, is_ready, &a, SJ_TEST_HANG_MS));
    station_free(w, &a);

    /* The county revokes it and the operator installs the new list. */
    char crt[PATH_MAX];
    const char *revoke[] = {"revoke", "--dir", w->certs.ca_dir, "--cert",
                            sj_test_certs_path(&w->certs, "village", "crt", crt, sizeof crt),
                            NULL};
    assert_int_equal(sj_test_certs_pki(&w->certs, revoke), 0);
    copy_file(w->certs.crl_file, w->crl);
    assert_int_equal(sj_test_proc_signal(&w->relay, SIGHUP), 0);
    if (!run_until(w, log_says_crl_reloaded, w, SJ_TEST_HANG_MS))
        fail_msg("sanji-relayd did not log \"CRL reloaded\" twice after SIGHUP (log: %s)", w->log);
    assert_true(sj_test_proc_alive(&w->relay));

    /* After: the revoked station never gets through the handshake. */
    static station b;
    memset(&b, 0, sizeof b);
    station_connect(&b, &w->certs, "village", w->relay_port);
    assert_true(run_until(w, is_closed, &b, SJ_TEST_HANG_MS));
    /* (TLS 1.3: the client's side of the handshake ends before the relay
     * has judged its certificate, so the refusal arrives as the alert.) */
    if (b.closed_status != SJ_ETLS_REVOKED)
        fail_msg("revoked station closed with %s, want TLS_REVOKED", sj_err_name(b.closed_status));
    station_free(w, &b);
    /* Others still are: the township desk. */
    static station d;
    memset(&d, 0, sizeof d);
    station_connect(&d, &w->certs, "township-desk", w->relay_port);
    assert_true(run_until(w, is_ready, &d, SJ_TEST_HANG_MS));
    station_free(w, &d);
    assert_true(sj_test_proc_alive(&w->relay));
}

/* Where message id arrived at the county (-1: never), and how many chunks
 * arrived before position end. */
static int county_pos(const uint8_t id[16])
{
    for (int k = 0; k < C.n_apps; k++)
        if (memcmp(C.apps[k].id, id, 16) == 0)
            return k;
    return -1;
}

static int county_chunks_before(int end)
{
    int n = 0;
    for (int k = 0; k < end && k < C.n_apps; k++)
        n += C.apps[k].chunk;
    return n;
}

/* A station's upload must not hold up case actions on the county link:
 * the relay sends case messages first and attachment chunks only within
 * upstream.chunk_window.  Orders of arrival are asserted, never times. */
static void test_case_action_overtakes_attachment_chunks(void **state)
{
    world *w = *state;
    write_config(w, "64MiB");
    relay_spawn(w); /* the county is down */
    static station v, d;
    memset(&v, 0, sizeof v);
    memset(&d, 0, sizeof d);
    station_connect(&v, &w->certs, "village", w->relay_port);
    station_connect(&d, &w->certs, "township-desk", w->relay_port);
    assert_true(run_until(w, is_ready, &v, SJ_TEST_HANG_MS));
    assert_true(run_until(w, is_ready, &d, SJ_TEST_HANG_MS));

    /* The station registers a case and uploads a scan of 40 chunks; then
     * the desk acts on the case: all of it stored at the relay. */
    const int N1 = 40, N2 = 160;
    int sub = station_add(&v, V201, false, NULL);
    for (int k = 0; k < N1; k++)
        station_add_chunk(&v, sub, k, N1);
    want vs = {&v, 1 + N1, M_STORED};
    assert_true(run_until(w, at_least, &vs, SJ_TEST_HANG_MS));
    int act1 = station_add(&d, V201, true, v.case_ids[sub]);
    want ds = {&d, 1, M_STORED};
    assert_true(run_until(w, at_least, &ds, SJ_TEST_HANG_MS));

    /* A kill -9 with all of it queued: the queue and its lanes survive. */
    assert_int_equal(sj_test_proc_kill9(&w->relay), 0);
    assert_true(run_until(w, is_closed, &v, SJ_TEST_HANG_MS));
    assert_true(run_until(w, is_closed, &d, SJ_TEST_HANG_MS));
    relay_spawn(w);
    station_connect(&v, &w->certs, "village", w->relay_port);
    station_connect(&d, &w->certs, "township-desk", w->relay_port);
    assert_true(run_until(w, is_ready, &v, SJ_TEST_HANG_MS));
    assert_true(run_until(w, is_ready, &d, SJ_TEST_HANG_MS));

    /* The county comes back: the action, queued after every chunk, reaches
     * it before any of them (and after its case's submission). */
    county_listen(&w->certs);
    want da = {&d, 1, M_APPLIED};
    if (!run_until(w, at_least, &da, SJ_TEST_HANG_MS))
        fail_msg("the desk's action not applied (county has %d)", C.n_apps);
    int pos = county_pos(d.ids[act1]);
    assert_true(pos >= 0);
    assert_true(county_pos(v.ids[sub]) < pos);
    assert_int_equal(county_chunks_before(pos), 0);
    want va = {&v, 1 + N1, M_APPLIED};
    if (!run_until(w, at_least, &va, SJ_TEST_HANG_MS))
        fail_msg("applied %d of %d chunks", count_state(&v, M_APPLIED), 1 + N1);

    /* A second upload, with the county up: an action stored while it flows
     * overtakes the chunks still queued.  Of the chunks before it at the
     * county, at most CHUNK_WINDOW were not yet there when the relay said
     * STORED for it (causality, not timing: the relay sends it in the
     * same turn as it commits it, ahead of every chunk not yet sent). */
    int base = C.n_apps;
    for (int k = 0; k < N2; k++)
        station_add_chunk(&v, sub, k, N2);
    static int first;
    first = base + 1;
    assert_true(run_until(w, county_has, &first, SJ_TEST_HANG_MS));
    int act2 = station_add(&d, V201, true, v.case_ids[sub]);
    want da2 = {&d, 2, M_APPLIED};
    if (!run_until(w, at_least, &da2, SJ_TEST_HANG_MS))
        fail_msg("the desk's second action not applied (county has %d)", C.n_apps);
    pos = county_pos(d.ids[act2]);
    int before = county_chunks_before(pos) - N1;
    int at_stored = county_chunks_before(d.apps_at_stored[act2]) - N1;
    print_message("second action: %d of %d chunks before it at the county, %d there when it "
                  "was stored\n", before, N2, at_stored);
    assert_true(before <= at_stored + CHUNK_WINDOW_N);

    /* A kill -9 in the middle of the upload (if any is left): nothing lost,
     * nothing applied twice. */
    assert_int_equal(sj_test_proc_kill9(&w->relay), 0);
    assert_true(run_until(w, is_closed, &v, SJ_TEST_HANG_MS));
    relay_spawn(w);
    station_connect(&v, &w->certs, "village", w->relay_port);
    want all = {&v, 1 + N1 + N2, M_APPLIED};
    if (!run_until(w, at_least, &all, SJ_TEST_HANG_MS))
        fail_msg("applied %d of %d after restart (county has %d)", count_state(&v, M_APPLIED),
                 1 + N1 + N2, C.n_apps);
    assert_int_equal(C.n_apps, 1 + N1 + N2 + 2); /* none lost, none applied twice */
    assert_int_equal(county_chunks_before(C.n_apps), N1 + N2);
    check_each_applied_once(&v);
    check_each_applied_once(&d);
    assert_true(county_applied_once_all());
    station_free(w, &v);
    station_free(w, &d);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_county_down_villages_keep_submitting),
        T(test_kill9_while_in_flight_loses_nothing),
        T(test_results_marked_delivered_when_written),
        T(test_quota_full_refuses_clearly_and_keeps_old),
        T(test_village_of_another_township_refused),
        T(test_silent_client_closed_at_handshake_timeout),
        T(test_other_villages_case_refused_before_storing),
        T(test_township_desk_feed_masked_unless_township_holds),
        T(test_sighup_reloads_crl_and_keeps_running),
        T(test_case_action_overtakes_attachment_chunks),
        T(test_feed_deltas_to_stations_that_ask),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
