/*
 * test_relay_slow_station.c - a station that stops reading cannot make
 * sanji-relayd buffer without bound (docs/RELAY.md "Slow peers").
 *
 * sanji-relayd runs as a real process on loopback with a small
 * link.write_buffer.  A county peer in the test numbers a large feed for
 * village 410423101201 (thousands of rows of a few KiB each, many times the
 * limit) and hands it to the relay over real mutual TLS, paced by its own
 * link's backpressure.  The slow station is a real TCP client with a tiny
 * receive buffer that completes the TLS handshake and says Hello through
 * the real TLS engine, then does not read its socket.  A township desk on
 * an ordinary link is the well-behaved peer.
 *
 * Behaviours:
 *   a station that does not read its feed: the relay's buffer for it stays
 *     under the limit (sanji-relayctl status, and the relay's VmRSS), the
 *     desk gets its whole feed and its queries are answered while the
 *     station's link is blocked, and when the station reads at last it
 *     gets every row in order;
 *   a station that sends a burst of queries and does not read: the relay
 *     answers them only as the link drains (bounded buffer), the desk is
 *     served meanwhile, and every answer arrives in order once it reads;
 *   a station that goes on sending but does not read: once its link is
 *     blocked the relay stops reading it too, closes it link.idle_timeout
 *     later with a log line; the station reconnects with its cursor and
 *     gets the rest of the feed, nothing lost or repeated;
 *   a station that reads but sends a thousand queries at once: at most 256
 *     wait at the relay, the rest are refused SJ_EBUSY at once.
 *
 * Nothing here is timed: every wait is for a state of the relay or of a
 * peer, and fails only at SJ_TEST_HANG_MS (proc.h).  How fast the desk is
 * answered is a figure for tests/bench, not a pass/fail line of a test.
 *
 * Entry point: main().
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
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

#include "certs.h"
#include "clock.h"
#include "conn.h"
#include "envelope.h"
#include "files.h"
#include "frame.h"
#include "listener.h"
#include "loop.h"
#include "proc.h"
#include "store.h"
#include "tiers.h"
#include "tls.h"
#include "uuid.h"

#define COUNTY_NODE "county:410423000000"
#define RELAY_NODE "relay:410423101000"
#define VILLAGE_NODE "village:410423101201"
#define V201 "410423101201"
/* The feed: N_ROWS updates of about ROW_TEXT bytes of request text each. */
#define N_ROWS 4000
#define ROW_TEXT 2400
/* link.write_buffer of the relay under test. */
#define LIMIT_KIB 256
#define LIMIT ((uint64_t)LIMIT_KIB * 1024)
/* The slow station's burst: QUERIES case lists of QUERY_LIMIT cases each
 * (~150 KiB an answer, ~9 MiB in all).  A case list scans the village's
 * cached cases, some 50 ms each for 4000 here, which sets the pace. */
#define QUERY_LIMIT 60
#define QUERIES 60
/* While the slow station's link is blocked: how many relayctl samples must
 * see it so (a status tick is 300 ms), and how many answers the desk must
 * get meanwhile. */
#define BLOCKED_SAMPLES 6
#define DESK_ANSWERS 5
/* For the tests that hold a link blocked for as long as they need (not the
 * one about link.idle_timeout): the relay must not end it meanwhile, however
 * long a loaded machine makes that. */
#define NO_IDLE_CLOSE "idle_timeout = 1h\n"

/* Under AddressSanitizer freed memory sits in quarantine (hundreds of MiB),
 * so VmRSS says nothing about what the relay holds: there only the
 * relay's own figure (sanji-relayctl) is checked. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_MEANINGFUL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_MEANINGFUL 0
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL 1
#endif

/* ---- the county peer ----------------------------------------------------- */

typedef struct county {
    uv_loop_t *loop;
    sj_tls_ctx *tls;
    sj_listener *listener;
    int port;
    sj_conn *link;
    uint64_t next; /* next seq to send on the link */
    bool caught_up_sent;
    uint8_t case_ids[N_ROWS + 1][16];
    char text[ROW_TEXT + 64];
} county;

static county C;

static void county_send_row(sj_conn *c, uint64_t seq, int *rc)
{
    char text[sizeof C.text + 32];
    snprintf(text, sizeof text, "第%llu件 %s", (unsigned long long)seq, C.text);
    Sanji__Case cs = SANJI__CASE__INIT;
    cs.case_id.data = C.case_ids[seq];
    cs.case_id.len = 16;
    cs.village = (char *)V201;
    cs.version = 1;
    cs.status = SANJI__CASE_STATUS__CASE_STATUS_REGISTERED;
    cs.holder_level = SANJI__LEVEL__LEVEL_VILLAGE;
    cs.holder_unit = (char *)V201;
    cs.item_code = (char *)"MZ-003";
    cs.request_text = text;
    cs.registered_at_ms = 1700000000000 + (int64_t)seq;
    Sanji__Applicant ap = SANJI__APPLICANT__INIT;
    ap.name = (char *)"张三";
    ap.id_number = (char *)"410423199001011234";
    ap.phone = (char *)"13812345678";
    cs.applicant = &ap;
    Sanji__FeedUpdate u = SANJI__FEED_UPDATE__INIT;
    u.village = (char *)V201;
    u.seq = seq;
    u.snapshot = &cs;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
    env.feed_update = &u;
    sj_error err;
    *rc = sj_conn_send(c, &env, NULL, &err);
}

/* Sends the feed from C.next while the link takes it; on_drain goes on. */
static void county_pump(sj_conn *c)
{
    while (C.next <= N_ROWS) {
        int rc;
        county_send_row(c, C.next, &rc);
        if (rc != 0)
            return; /* SJ_EBACKPRESSURE: on_drain; SJ_ECLOSED: the next Hello */
        C.next++;
    }
    if (!C.caught_up_sent) {
        Sanji__FeedUpdate cu = SANJI__FEED_UPDATE__INIT;
        cu.caught_up = true;
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
        env.feed_update = &cu;
        sj_error err;
        C.caught_up_sent = sj_conn_send(c, &env, NULL, &err) == 0;
    }
}

static void county_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    if (env->body_case != SANJI__ENVELOPE__BODY_HELLO)
        return;
    Sanji__Welcome w = SANJI__WELCOME__INIT;
    w.version = 1;
    w.node = (char *)COUNTY_NODE;
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_WELCOME;
    out.welcome = &w;
    sj_error err;
    assert_int_equal(sj_conn_send(c, &out, NULL, &err), 0);
    C.next = 1;
    for (size_t k = 0; k < env->hello->n_cursors; k++)
        if (strcmp(env->hello->cursors[k]->village, V201) == 0)
            C.next = env->hello->cursors[k]->after_seq + 1;
    C.caught_up_sent = false;
    county_pump(c);
}

static void county_ready(sj_conn *c, const sj_identity *peer)
{
    assert_string_equal(peer->node_id, RELAY_NODE);
    C.link = c;
}

static void county_drain(sj_conn *c)
{
    county_pump(c);
}

static void county_close(sj_conn *c, int status, const sj_error *why)
{
    if (C.link == c)
        C.link = NULL;
}

static const sj_conn_callbacks COUNTY_CBS = {.on_ready = county_ready,
                                             .on_message = county_message,
                                             .on_drain = county_drain,
                                             .on_close = county_close};

static sj_tls_ctx *tls_ctx(const sj_test_certs *certs, const char *name, bool server,
                           sj_node_role peer_role)
{
    sj_node_role roles[] = {peer_role};
    sj_error err;
    sj_tls_ctx *ctx = sj_test_certs_tls_ctx(certs, name, server, false, roles, 1, NULL, &err);
    if (ctx == NULL)
        fail_msg("TLS context for %s: %s", name, err.message);
    return ctx;
}

static void county_listen(const sj_test_certs *certs)
{
    sj_error err;
    C.tls = tls_ctx(certs, "county", true, SJ_NODE_ROLE_RELAY);
    C.listener = sj_listener_new(C.loop, C.tls, NULL, &COUNTY_CBS, NULL, &err);
    assert_non_null(C.listener);
    if (sj_listener_listen(C.listener, "127.0.0.1", C.port, 16, &err) != 0)
        fail_msg("county listen: %s", err.message);
}

/* ---- the slow station: TLS over a socket the test reads only when it wants */

typedef struct raw_station {
    int fd;
    sj_tls *tls;
    sj_frame_decoder dec;
    uint64_t last_seq;     /* highest feed seq received in order */
    uint64_t rows;         /* feed rows received in order */
    uint64_t out_of_order; /* rows that were not last_seq + 1 */
    bool caught_up;
    int results;           /* query answers received in the order asked */
    int results_misordered;
    int busy;              /* queries refused SJ_EBUSY (too many waiting) */
    int last_answered;     /* index in asked[] of the last answer; -1 before */
    uint8_t (*asked)[16];  /* ids of the queries, in sending order */
    int n_asked;
    int goodbye_code;
    bool ended;            /* EOF or reset */
    bool peer_gone;        /* a write found the relay's end closed */
} raw_station;

/* Hands the engine's ciphertext to the socket, waiting while it is full.
 * A send to a link the relay has closed fails the test, or with
 * may_be_closed only marks peer_gone. */
static void raw_flush_to(raw_station *s, bool may_be_closed)
{
    uint8_t buf[16384];
    while (sj_tls_pending(s->tls) > 0) {
        size_t n = 0;
        sj_tls_take(s->tls, buf, sizeof buf, &n);
        size_t off = 0;
        while (off < n) {
            ssize_t w = send(s->fd, buf + off, n - off, MSG_NOSIGNAL);
            if (w > 0) {
                off += (size_t)w;
                continue;
            }
            if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
                struct pollfd p = {.fd = s->fd, .events = POLLOUT};
                if (poll(&p, 1, SJ_TEST_HANG_MS) == 0)
                    fail_msg("slow station: socket not writable for %d ms", SJ_TEST_HANG_MS);
                continue;
            }
            if (may_be_closed && (errno == EPIPE || errno == ECONNRESET)) {
                s->peer_gone = true;
                return;
            }
            fail_msg("slow station: send: %s", strerror(errno));
        }
    }
}

static void raw_flush(raw_station *s)
{
    raw_flush_to(s, false);
}

static int raw_frame(void *arg, const uint8_t *payload, size_t len)
{
    raw_station *s = arg;
    Sanji__Envelope *env = NULL;
    sj_error err;
    if (sj_envelope_unpack(payload, len, &env, &err) != 0)
        fail_msg("slow station: bad frame from the relay: %s", err.message);
    if (env->body_case == SANJI__ENVELOPE__BODY_FEED_UPDATE) {
        const Sanji__FeedUpdate *u = env->feed_update;
        if (u->caught_up) {
            s->caught_up = true;
        } else if (u->seq == s->last_seq + 1 && strcmp(u->village, V201) == 0) {
            s->last_seq = u->seq;
            s->rows++;
        } else {
            s->out_of_order++;
        }
    } else if (env->body_case == SANJI__ENVELOPE__BODY_QUERY_RESULT) {
        /* Answers come in the order asked; refusals (SJ_EBUSY) come at once
         * and are not counted in that order. */
        const Sanji__QueryResult *q = env->query_result;
        int i = 0;
        while (i < s->n_asked &&
               (q->in_reply_to.len != 16 || memcmp(q->in_reply_to.data, s->asked[i], 16) != 0))
            i++;
        if (i < s->n_asked && q->code == SJ_EBUSY)
            s->busy++;
        else if (i < s->n_asked && q->code == 0 && i > s->last_answered)
            s->results++, s->last_answered = i;
        else
            s->results_misordered++;
    } else if (env->body_case == SANJI__ENVELOPE__BODY_GOODBYE) {
        s->goodbye_code = env->goodbye->code;
    }
    sj_envelope_free(env);
    return 0;
}

/* Feeds the engine what was received and decodes what it gives. */
static void raw_decode(raw_station *s)
{
    uint8_t plain[16384];
    for (;;) {
        size_t n = 0;
        int rc = sj_tls_read(s->tls, plain, sizeof plain, &n);
        if (rc == SJ_EAGAIN || rc == SJ_ECLOSED)
            return;
        if (rc != 0) {
            s->ended = true;
            return;
        }
        assert_int_equal(sj_frame_decoder_feed(&s->dec, plain, n, raw_frame, s), 0);
    }
}

/* Reads whatever the socket holds now. */
static void raw_read(raw_station *s)
{
    static uint8_t buf[65536];
    while (!s->ended) {
        ssize_t n = recv(s->fd, buf, sizeof buf, 0);
        if (n > 0) {
            assert_int_equal(sj_tls_feed(s->tls, buf, (size_t)n), 0);
            raw_decode(s);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        s->ended = true; /* EOF, or the relay reset the link */
    }
}

/* Connects with a receive buffer of rcvbuf bytes, finishes the handshake
 * and says Hello with the given cursor; from then on nothing is read until
 * the test calls raw_read(). */
static void raw_connect(raw_station *s, sj_tls_ctx *ctx, int port, int rcvbuf, uint64_t after)
{
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    /* Set before connect so that the window is announced small. */
    assert_int_equal(setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(s->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK), 0);
    sj_error err;
    s->tls = sj_tls_new(ctx, RELAY_NODE, &err);
    assert_non_null(s->tls);
    sj_frame_decoder_init(&s->dec, 64u << 20);
    s->ended = false;
    int64_t end = sj_clock_mono_ms() + SJ_TEST_HANG_MS;
    for (;;) {
        int rc = sj_tls_handshake(s->tls, &err);
        raw_flush(s);
        if (rc == 0)
            break;
        if (rc != SJ_EAGAIN)
            fail_msg("slow station handshake: %s", err.message);
        if (sj_clock_mono_ms() > end)
            fail_msg("slow station handshake not done in %d ms", SJ_TEST_HANG_MS);
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        poll(&p, 1, 50);
        uint8_t buf[16384];
        ssize_t n = recv(s->fd, buf, sizeof buf, 0);
        if (n > 0)
            assert_int_equal(sj_tls_feed(s->tls, buf, (size_t)n), 0);
        else if (n == 0)
            fail_msg("slow station: relay closed during the handshake");
    }
    Sanji__FeedCursor cur = SANJI__FEED_CURSOR__INIT;
    cur.village = (char *)V201;
    cur.after_seq = after;
    Sanji__FeedCursor *cp = &cur;
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = h.max_version = 1;
    h.software = (char *)"test-slow-station";
    h.cursors = &cp;
    h.n_cursors = 1;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    uint8_t *frame = NULL;
    size_t len = 0;
    assert_int_equal(sj_envelope_pack(&env, VILLAGE_NODE, 1u << 20, &frame, &len, NULL, &err), 0);
    assert_int_equal(sj_tls_write(s->tls, frame, len), 0);
    free(frame);
    raw_flush(s);
}

/* Sends n queries in one burst, remembering their ids: case lists of
 * QUERY_LIMIT cases (big answers), or with get_case the first case (small
 * and cheap ones). */
static void raw_ask(raw_station *s, int n, bool get_case)
{
    s->asked = calloc((size_t)n, 16);
    assert_non_null(s->asked);
    s->last_answered = -1;
    Sanji__CaseListQuery cl = SANJI__CASE_LIST_QUERY__INIT;
    cl.limit = QUERY_LIMIT;
    Sanji__CaseGetQuery cg = SANJI__CASE_GET_QUERY__INIT;
    cg.case_id.data = C.case_ids[1];
    cg.case_id.len = 16;
    Sanji__Query q = SANJI__QUERY__INIT;
    if (get_case) {
        q.kind_case = SANJI__QUERY__KIND_CASE_GET;
        q.case_get = &cg;
    } else {
        q.kind_case = SANJI__QUERY__KIND_CASE_LIST;
        q.case_list = &cl;
    }
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_QUERY;
    env.query = &q;
    for (int i = 0; i < n; i++) {
        uint8_t *frame = NULL;
        size_t len = 0;
        sj_error err;
        assert_int_equal(
            sj_envelope_pack(&env, VILLAGE_NODE, 1u << 20, &frame, &len, s->asked[i], &err), 0);
        assert_int_equal(sj_tls_write(s->tls, frame, len), 0);
        free(frame);
    }
    s->n_asked = n;
    raw_flush(s);
}

/* A Heartbeat from the station: it writes although it does not read.  It
 * learns that the relay closed the link only when it reads, so a write to
 * a closed link is not a failure here. */
static void raw_heartbeat(raw_station *s)
{
    if (s->peer_gone || s->tls == NULL)
        return;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    uint8_t *frame = NULL;
    size_t len = 0;
    sj_error err;
    assert_int_equal(sj_envelope_pack(&env, VILLAGE_NODE, 1u << 20, &frame, &len, NULL, &err), 0);
    assert_int_equal(sj_tls_write(s->tls, frame, len), 0);
    free(frame);
    raw_flush_to(s, true);
}

static void raw_close(raw_station *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    sj_tls_free(s->tls);
    s->tls = NULL;
    sj_frame_decoder_release(&s->dec);
}

/* ---- the well-behaved township desk -------------------------------------- */

typedef struct desk {
    sj_tls_ctx *tls;
    sj_conn *conn;
    bool ready, closed;
    uint64_t last_seq, rows, out_of_order;
    bool caught_up;
    bool waiting;        /* a query is out, its answer not yet in */
    int64_t next_ask_ms;
    uint8_t asked_id[16];
    int answers;
} desk;

static void desk_ready(sj_conn *c, const sj_identity *peer)
{
    desk *d = sj_conn_data(c);
    d->ready = true;
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = h.max_version = 1;
    h.software = (char *)"test-desk";
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    sj_error err;
    assert_int_equal(sj_conn_send(c, &env, NULL, &err), 0);
}

static void desk_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    desk *d = sj_conn_data(c);
    if (env->body_case == SANJI__ENVELOPE__BODY_FEED_UPDATE) {
        const Sanji__FeedUpdate *u = env->feed_update;
        if (u->caught_up)
            d->caught_up = true;
        else if (u->seq == d->last_seq + 1 && strcmp(u->village, V201) == 0)
            d->last_seq = u->seq, d->rows++;
        else
            d->out_of_order++;
    } else if (env->body_case == SANJI__ENVELOPE__BODY_QUERY_RESULT) {
        const Sanji__QueryResult *q = env->query_result;
        if (d->waiting && q->in_reply_to.len == 16 &&
            memcmp(q->in_reply_to.data, d->asked_id, 16) == 0) {
            d->answers++;
            d->waiting = false;
        }
    }
}

static void desk_close(sj_conn *c, int status, const sj_error *why)
{
    desk *d = sj_conn_data(c);
    d->closed = true;
    d->ready = false;
    d->conn = NULL;
    sj_conn_free(c);
}

static const sj_conn_callbacks DESK_CBS = {
    .on_ready = desk_ready, .on_message = desk_message, .on_close = desk_close};

static void desk_connect(desk *d, int port)
{
    sj_error err;
    d->conn = sj_conn_new(C.loop, d->tls, RELAY_NODE, NULL, &DESK_CBS, NULL, &err);
    assert_non_null(d->conn);
    sj_conn_set_data(d->conn, d);
    if (sj_test_loop_connect(d->conn, port, &err) != 0)
        fail_msg("desk connect: %s", err.message);
}

/* One small query at a time, at most every 300 ms (a desk paging its case
 * list). */
static void desk_ask(desk *d)
{
    if (!d->ready || d->waiting || sj_clock_mono_ms() < d->next_ask_ms)
        return;
    d->next_ask_ms = sj_clock_mono_ms() + 300;
    Sanji__CaseListQuery cl = SANJI__CASE_LIST_QUERY__INIT;
    cl.limit = 5;
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_CASE_LIST;
    q.case_list = &cl;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_QUERY;
    env.query = &q;
    sj_error err;
    if (sj_conn_send(d->conn, &env, d->asked_id, &err) == 0)
        d->waiting = true;
}

/* The desk says it is alive on every pulse, whether or not an answer is
 * out, so that the relay's idle timer never takes it for a dead peer. */
static void desk_heartbeat(desk *d)
{
    if (!d->ready)
        return;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    sj_error err;
    (void)sj_conn_send(d->conn, &env, NULL, &err);
}

/* ---- the world ----------------------------------------------------------- */

typedef struct world {
    sj_test_certs certs;
    uv_loop_t loop;
    uv_timer_t pulse;
    sj_tls_ctx *station_tls;
    char conf[PATH_MAX];
    char store[PATH_MAX];
    char log[PATH_MAX];
    int relay_port;
    sj_test_proc relay;
    desk desk;
    raw_station *talker; /* a slow station that writes on every pulse; NULL: none */
    int64_t next_feed_look; /* relay_has_feed(): when to read the store again */
    uint64_t feed_seq;      /* and what it read there last */
} world;

static world *W;

/* Every 100 ms: the desk asks (every 300 ms), the desk, the county and the
 * talking station (if any) say they are alive (the relay's idle timer
 * covers every link). */
static void pulse_cb(uv_timer_t *t)
{
    desk_ask(&W->desk);
    desk_heartbeat(&W->desk);
    if (W->talker)
        raw_heartbeat(W->talker);
    if (C.link) {
        Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
        sj_error err;
        sj_conn_send(C.link, &env, NULL, &err);
    }
}

static void write_config(world *w, const char *link_extra)
{
    char crt[PATH_MAX], key[PATH_MAX];
    int rc = sj_test_write_file(NULL, w->conf,
                                "[listen]\naddress = 127.0.0.1:%d\n"
                                "[county]\naddresses = 127.0.0.1:%d\nnode = %s\n"
                                "[tls]\nca = %s\ncert = %s\nkey = %s\n"
                                "[store]\npath = %s\n"
                                "[upstream]\nbackoff_max = 300ms\n"
                                "[link]\nheartbeat = 300ms\n%s"
                                "[log]\nlevel = info\n",
                                w->relay_port, C.port, COUNTY_NODE, w->certs.ca_file,
                                sj_test_certs_path(&w->certs, "relay", "crt", crt, sizeof crt),
                                sj_test_certs_path(&w->certs, "relay", "key", key, sizeof key),
                                w->store, link_extra);
    assert_int_equal(rc, 0);
}

static void relay_spawn(world *w)
{
    if (sj_test_tiers_start_daemon(&w->relay, "relay/sanji-relayd", w->conf, w->log,
                                   w->relay_port) != 0)
        fail_msg("sanji-relayd did not start; log %s", w->log);
}

static bool run_until(world *w, bool (*pred)(void *), void *arg, int ms)
{
    return sj_test_loop_run_until(&w->loop, pred, arg, ms);
}

static bool never(void *arg)
{
    return false;
}

/* The relay's feed cursor of V201, read from its store file (every 200
 * ms at most: the file is the relay's). */
static bool relay_has_feed(void *arg)
{
    world *w = arg;
    if (sj_clock_mono_ms() < w->next_feed_look)
        return w->feed_seq == N_ROWS;
    w->next_feed_look = sj_clock_mono_ms() + 200;
    relay_store *st = NULL;
    sj_error err;
    w->feed_seq = 0;
    if (relay_store_open_readonly(w->store, &st, &err) != 0)
        return false;
    w->feed_seq = relay_store_cursor_get(st, V201);
    relay_store_close(st);
    return w->feed_seq == N_ROWS;
}

static long vm_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    assert_true(kib > 0);
    return kib;
}

/* The buffer figures sanji-relayctl prints from the store. */
typedef struct buffers {
    unsigned long long total, largest, limit, blocked;
    char by[80];
} buffers;

static void relayctl_buffers(world *w, buffers *b)
{
    char cmd[PATH_MAX * 2], text[8192];
    snprintf(cmd, sizeof cmd, "%s/relay/sanji-relayctl --store %s", getenv("SANJI_BUILD_DIR"),
             w->store);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(text, 1, sizeof text - 1, p);
    text[n] = '\0';
    assert_int_equal(pclose(p), 0);
    memset(b, 0, sizeof *b);
    const char *t = strstr(text, "total=");
    if (t == NULL || sscanf(t, "total=%llu largest=%llu", &b->total, &b->largest) != 2)
        fail_msg("no buffer line in sanji-relayctl status:\n%s", text);
    const char *by = strstr(t, " by=");
    if (by)
        sscanf(by, " by=%79s", b->by);
    const char *l = strstr(t, "limit=");
    if (l == NULL || sscanf(l, "limit=%llu blocked=%llu", &b->limit, &b->blocked) != 2)
        fail_msg("no limit/blocked in sanji-relayctl status:\n%s", text);
}

/* While the slow station does not read: samples relayctl and VmRSS once a
 * status tick (300 ms), keeping the largest of each, until the station's
 * link has been seen blocked in BLOCKED_SAMPLES samples and the desk got
 * DESK_ANSWERS answers after the first of them: the relay served the desk
 * while the station's link was full.  How long that takes depends on the
 * machine (a sanitizer build makes answers slowly); only a hang fails. */
typedef struct sample {
    buffers worst;
    long rss_max_kib;
    int blocked_samples;
    int desk_answers; /* answers the desk got since the link was first seen blocked */
} sample;

static void watch(world *w, sample *out)
{
    memset(out, 0, sizeof *out);
    int answers_at_block = -1;
    int64_t end = sj_clock_mono_ms() + SJ_TEST_HANG_MS;
    while (out->blocked_samples < BLOCKED_SAMPLES || out->desk_answers < DESK_ANSWERS) {
        if (sj_clock_mono_ms() > end)
            fail_msg("after %d ms: the slow station's link seen blocked in %d samples, the desk "
                     "answered %d times since (want %d and %d); desk closed: %d",
                     SJ_TEST_HANG_MS, out->blocked_samples, out->desk_answers, BLOCKED_SAMPLES,
                     DESK_ANSWERS, w->desk.closed);
        run_until(w, never, NULL, 300);
        buffers b;
        relayctl_buffers(w, &b);
        if (b.largest >= out->worst.largest)
            out->worst = b;
        if (b.blocked > 0) {
            out->blocked_samples++;
            if (answers_at_block < 0)
                answers_at_block = w->desk.answers;
        }
        if (answers_at_block >= 0)
            out->desk_answers = w->desk.answers - answers_at_block;
        long rss = vm_rss_kib(w->relay.pid);
        if (rss > out->rss_max_kib)
            out->rss_max_kib = rss;
    }
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (w == NULL || sj_test_certs_setup(&w->certs) != 0)
        return -1;
    snprintf(w->conf, sizeof w->conf, "%s/relay.conf", w->certs.dir);
    snprintf(w->store, sizeof w->store, "%s/relay.db", w->certs.dir);
    snprintf(w->log, sizeof w->log, "%s/relay.log", w->certs.dir);
    if (sj_test_loop_init(&w->loop, &w->pulse, pulse_cb, 100) != 0)
        return -1;
    memset(&C, 0, sizeof C);
    C.loop = &w->loop;
    C.port = sj_test_proc_free_port();
    w->relay_port = sj_test_proc_free_port();
    for (int i = 1; i <= N_ROWS; i++)
        sj_uuid_v7(C.case_ids[i]);
    /* About ROW_TEXT bytes of ordinary request text (3 bytes a character). */
    const char *phrase = "申请城乡低保，家中两位老人无劳动能力，";
    size_t off = 0, pl = strlen(phrase);
    while (off + pl < ROW_TEXT) {
        memcpy(C.text + off, phrase, pl);
        off += pl;
    }
    C.text[off] = '\0';
    w->station_tls = tls_ctx(&w->certs, "village", false, SJ_NODE_ROLE_RELAY);
    w->desk.tls = tls_ctx(&w->certs, "township-desk", false, SJ_NODE_ROLE_RELAY);
    W = w;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    w->talker = NULL; /* a test that failed half-way may have left it talking */
    /* A test that failed half-way: kill -9 (the passing ones stopped it
     * with relay_stop_clean()). */
    if (w->relay.pid > 0 && sj_test_proc_alive(&w->relay))
        sj_test_proc_kill9(&w->relay);
    sj_test_proc_free(&w->relay);
    if (w->desk.conn)
        sj_conn_close(w->desk.conn, 0, NULL);
    sj_test_loop_close_listener(&C.listener);
    run_until(w, never, NULL, 100);
    sj_test_loop_close(&w->loop);
    sj_tls_ctx_free(C.tls);
    sj_tls_ctx_free(w->station_tls);
    sj_tls_ctx_free(w->desk.tls);
    if (getenv("SANJI_KEEP_TEST_DIR") == NULL)
        sj_test_certs_cleanup(&w->certs);
    else
        fprintf(stderr, "kept %s\n", w->certs.dir);
    free(w);
    W = NULL;
    return 0;
}

/* Starts the county and the relay and waits until the relay holds the whole
 * feed; returns the relay's VmRSS then. */
static long start_with_feed(world *w, const char *link_extra)
{
    write_config(w, link_extra);
    county_listen(&w->certs);
    relay_spawn(w);
    if (!run_until(w, relay_has_feed, w, SJ_TEST_HANG_MS))
        fail_msg("the relay did not store the %d feed rows in %d ms", N_ROWS, SJ_TEST_HANG_MS);
    long rss = vm_rss_kib(w->relay.pid);
    print_message("relay stored %d rows (~%d KiB); VmRSS %ld KiB\n", N_ROWS,
                  (int)((uint64_t)N_ROWS * ROW_TEXT / 1024), rss);
    return rss;
}

static bool desk_has_feed(void *arg)
{
    desk *d = arg;
    return d->caught_up && d->rows == N_ROWS;
}

static bool desk_closed(void *arg)
{
    return ((desk *)arg)->closed;
}

typedef struct log_wait {
    const char *path, *needle;
    int want; /* at least this many lines with needle */
} log_wait;

static bool log_has(void *arg)
{
    const log_wait *lw = arg;
    return sj_test_count_lines(lw->path, lw->needle) >= lw->want;
}

/* The desk takes the whole feed once and leaves: SQLite's page cache and
 * the allocator of the relay are then as warm as they get, and its VmRSS
 * after that is the baseline.  Returns it. */
static long warm_up(world *w)
{
    desk_connect(&w->desk, w->relay_port);
    if (!run_until(w, desk_has_feed, &w->desk, SJ_TEST_HANG_MS))
        fail_msg("warm-up: the desk got %llu of %d rows", (unsigned long long)w->desk.rows,
                 N_ROWS);
    log_wait ended = {w->log, "session ended", sj_test_count_lines(w->log, "session ended") + 1};
    sj_conn_close(w->desk.conn, 0, NULL);
    assert_true(run_until(w, desk_closed, &w->desk, SJ_TEST_HANG_MS));
    /* The baseline once the relay has let go of the desk's session. */
    assert_true(run_until(w, log_has, &ended, SJ_TEST_HANG_MS));
    long rss = vm_rss_kib(w->relay.pid);
    sj_tls_ctx *tls = w->desk.tls;
    memset(&w->desk, 0, sizeof w->desk);
    w->desk.tls = tls;
    return rss;
}

/* Runs the loop and reads the slow station until pred holds. */
static bool raw_until(world *w, raw_station *s, bool (*pred)(raw_station *), int ms)
{
    int64_t end = sj_clock_mono_ms() + ms;
    while (!pred(s) && sj_clock_mono_ms() < end) {
        uv_run(&w->loop, UV_RUN_NOWAIT);
        raw_read(s);
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        poll(&p, 1, 5);
    }
    return pred(s);
}

static bool raw_caught_up(raw_station *s)
{
    return s->caught_up || s->ended;
}

static bool raw_all_answers(raw_station *s)
{
    return s->results + s->results_misordered + s->busy >= s->n_asked || s->ended;
}

static bool raw_ended(raw_station *s)
{
    return s->ended;
}

static int log_count(const world *w, const char *needle)
{
    return sj_test_count_lines(w->log, needle);
}

/* The slack above the limit: one frame is queued whole while the link is
 * under it, plus TLS record overhead. */
static uint64_t slack(uint64_t largest_frame)
{
    return largest_frame + 16 * 1024;
}

static bool relay_exited(void *arg)
{
    return !sj_test_proc_alive(arg);
}

/* SIGTERM while the loop runs (the county and desk answer the relay's
 * close), then exit status 0: under the sanitizer build that is also the
 * relay's leak check. */
static void relay_stop_clean(world *w)
{
    if (w->desk.conn)
        sj_conn_close(w->desk.conn, 0, NULL);
    assert_int_equal(sj_test_proc_signal(&w->relay, SIGTERM), 0);
    if (!run_until(w, relay_exited, &w->relay, SJ_TEST_HANG_MS))
        fail_msg("sanji-relayd did not stop within %d ms of SIGTERM", SJ_TEST_HANG_MS);
    char tail[2048];
    if (!WIFEXITED(w->relay.status) || WEXITSTATUS(w->relay.status) != 0)
        fail_msg("sanji-relayd ended with status 0x%x; log ends:\n%s", w->relay.status,
                 sj_test_proc_log_tail(&w->relay, tail, sizeof tail));
}

/* ---- tests --------------------------------------------------------------- */

static void test_slow_station_feed_bounded_and_complete(void **state)
{
    world *w = *state;
    char extra[128];
    snprintf(extra, sizeof extra, "write_buffer = %dKiB\n%s", LIMIT_KIB, NO_IDLE_CLOSE);
    start_with_feed(w, extra);
    long rss0 = warm_up(w);

    /* The station says Hello and reads no more; the desk comes back for
     * its whole feed meanwhile. */
    static raw_station s;
    memset(&s, 0, sizeof s);
    raw_connect(&s, w->station_tls, w->relay_port, 4096, 0);
    desk_connect(&w->desk, w->relay_port);
    if (!run_until(w, desk_has_feed, &w->desk, SJ_TEST_HANG_MS))
        fail_msg("the desk got %llu of %d rows while the station did not read",
                 (unsigned long long)w->desk.rows, N_ROWS);
    sample sm;
    watch(w, &sm);
    print_message("feed of %d rows (~%d KiB) to a station that does not read, limit %d KiB:\n"
                  "  relayctl: largest buffer %llu bytes (%s), blocked in %d samples\n"
                  "  relay VmRSS %ld KiB after warm-up, %ld KiB at most while it did not read\n"
                  "  desk: whole feed, then %d answers while the station's link was blocked\n",
                  N_ROWS, (int)((uint64_t)N_ROWS * ROW_TEXT / 1024), LIMIT_KIB, sm.worst.largest,
                  sm.worst.by, sm.blocked_samples, rss0, sm.rss_max_kib, sm.desk_answers);
    /* The station's link did fill up (else nothing was proven) ... */
    assert_string_equal(sm.worst.by, VILLAGE_NODE);
    assert_true(sm.blocked_samples > 0);
    assert_int_equal(sm.worst.limit, LIMIT);
    /* ... and the relay kept no more than the limit and one row for it. */
    if (sm.worst.largest > LIMIT + slack(8 * 1024))
        fail_msg("relay buffered %llu bytes for the slow station, limit %llu", sm.worst.largest,
                 (unsigned long long)LIMIT);
    /* The relay's memory did not take the feed in: after the warm-up it
     * grew by less than half of it (the feed is ~36 times the limit; the
     * exact bound is relayctl's figure above, this one only has to tell
     * "bounded" from "all of it", also on a loaded machine where the
     * allocator keeps more). */
    long feed_kib = (long)((uint64_t)N_ROWS * ROW_TEXT / 1024);
    if (RSS_MEANINGFUL && sm.rss_max_kib - rss0 > feed_kib / 2)
        fail_msg("relay VmRSS grew by %ld KiB with a %ld KiB feed waiting", sm.rss_max_kib - rss0,
                 feed_kib);
    /* The desk was served while the station's link stayed full. */
    assert_true(sm.desk_answers >= DESK_ANSWERS);
    assert_false(w->desk.closed);
    assert_int_equal(w->desk.out_of_order, 0);

    /* The station reads at last: every row, in order, none twice. */
    assert_false(s.ended);
    assert_int_equal(s.rows, 0); /* it really had not read any */
    if (!raw_until(w, &s, raw_caught_up, SJ_TEST_HANG_MS) || s.ended)
        fail_msg("slow station: %llu rows then %s", (unsigned long long)s.rows,
                 s.ended ? "the link ended" : "nothing more (hang)");
    assert_int_equal(s.out_of_order, 0);
    assert_int_equal(s.rows, N_ROWS);
    assert_int_equal(s.last_seq, N_ROWS);
    assert_int_equal(log_count(w, "not reading"), 0);
    raw_close(&s);
    relay_stop_clean(w);
}

static void test_query_burst_without_reading_bounded(void **state)
{
    world *w = *state;
    char extra[128];
    snprintf(extra, sizeof extra, "write_buffer = %dKiB\n%s", LIMIT_KIB, NO_IDLE_CLOSE);
    start_with_feed(w, extra);
    long rss0 = warm_up(w);

    /* Up to date with the feed: only the answers are for it. */
    static raw_station s;
    memset(&s, 0, sizeof s);
    raw_connect(&s, w->station_tls, w->relay_port, 4096, N_ROWS);
    raw_ask(&s, QUERIES, false);
    desk_connect(&w->desk, w->relay_port);
    if (!run_until(w, desk_has_feed, &w->desk, SJ_TEST_HANG_MS))
        fail_msg("the desk got %llu of %d rows", (unsigned long long)w->desk.rows, N_ROWS);
    sample sm;
    watch(w, &sm);
    /* One answer: QUERY_LIMIT cases of ~ROW_TEXT bytes. */
    uint64_t answer = (uint64_t)QUERY_LIMIT * (ROW_TEXT + 200);
    print_message("%d queries (answers ~%llu KiB each, ~%llu KiB in all) from a station that "
                  "does not read, limit %d KiB:\n"
                  "  relayctl: largest buffer %llu bytes (%s), blocked in %d samples\n"
                  "  relay VmRSS %ld KiB after warm-up, %ld KiB at most while it did not read\n"
                  "  desk: %d answers while the station's link was blocked\n",
                  QUERIES, (unsigned long long)answer / 1024,
                  (unsigned long long)answer * QUERIES / 1024, LIMIT_KIB, sm.worst.largest,
                  sm.worst.by, sm.blocked_samples, rss0, sm.rss_max_kib, sm.desk_answers);
    assert_string_equal(sm.worst.by, VILLAGE_NODE);
    assert_true(sm.blocked_samples > 0);
    if (sm.worst.largest > LIMIT + slack(answer))
        fail_msg("relay buffered %llu bytes for the slow station, limit %llu", sm.worst.largest,
                 (unsigned long long)LIMIT);
    /* Less than half of what was asked for (building one answer takes a
     * few copies of it; taking the burst in would take all of it). */
    long all_kib = (long)(answer * QUERIES / 1024);
    if (RSS_MEANINGFUL && sm.rss_max_kib - rss0 > all_kib / 2)
        fail_msg("relay VmRSS grew by %ld KiB with %ld KiB of answers asked for",
                 sm.rss_max_kib - rss0, all_kib);
    assert_true(sm.desk_answers >= DESK_ANSWERS);
    assert_false(w->desk.closed);

    /* It reads: every answer, in the order asked. */
    if (!raw_until(w, &s, raw_all_answers, SJ_TEST_HANG_MS) || s.ended)
        fail_msg("slow station: %d of %d answers then %s", s.results, QUERIES,
                 s.ended ? "the link ended" : "nothing more (hang)");
    assert_int_equal(s.results_misordered, 0);
    assert_int_equal(s.busy, 0);
    assert_int_equal(s.results, QUERIES);
    free(s.asked);
    raw_close(&s);
    relay_stop_clean(w);
}

static void test_not_reading_closed_after_idle_then_resumes(void **state)
{
    world *w = *state;
    char extra[128];
    /* idle_timeout: what the test waits once; kept well above any pause a
     * loaded machine gives the relay or the test, so that only the link
     * that is blocked for it ends. */
    snprintf(extra, sizeof extra, "write_buffer = %dKiB\nidle_timeout = 5s\n", LIMIT_KIB);
    start_with_feed(w, extra);

    /* The station sends a Heartbeat on every pulse and reads nothing: until
     * its link is blocked the relay reads them and its idle timer never
     * fires, so the link can end only as a link that does not read. */
    static raw_station s;
    memset(&s, 0, sizeof s);
    raw_connect(&s, w->station_tls, w->relay_port, 4096, 0);
    w->talker = &s;
    desk_connect(&w->desk, w->relay_port);
    /* The relay gives up on it after link.idle_timeout and says so. */
    log_wait said = {w->log, "not reading", 1};
    if (!run_until(w, log_has, &said, SJ_TEST_HANG_MS))
        fail_msg("no \"not reading\" line in the relay's log after %d ms (log: %s)",
                 SJ_TEST_HANG_MS, w->log);
    w->talker = NULL;
    assert_int_equal(log_count(w, "not reading"), 1);
    assert_false(w->desk.closed); /* the desk, which reads, stays */
    assert_true(run_until(w, desk_has_feed, &w->desk, SJ_TEST_HANG_MS));

    /* The station reads what reached it, then finds the link closed. */
    assert_true(raw_until(w, &s, raw_ended, SJ_TEST_HANG_MS));
    uint64_t got = s.last_seq;
    assert_int_equal(s.out_of_order, 0);
    assert_true(got < N_ROWS);
    raw_close(&s);
    print_message("station not reading: closed having got %llu of %d rows\n",
                  (unsigned long long)got, N_ROWS);

    /* It reconnects with its cursor and gets the rest, nothing twice. */
    raw_station s2;
    memset(&s2, 0, sizeof s2);
    s2.last_seq = got;
    raw_connect(&s2, w->station_tls, w->relay_port, 1 << 20, got);
    if (!raw_until(w, &s2, raw_caught_up, SJ_TEST_HANG_MS) || s2.ended)
        fail_msg("after reconnecting: %llu rows then %s", (unsigned long long)s2.rows,
                 s2.ended ? "the link ended" : "nothing more (hang)");
    assert_int_equal(s2.out_of_order, 0);
    assert_int_equal(s2.last_seq, N_ROWS);
    assert_int_equal(got + s2.rows, N_ROWS);
    raw_close(&s2);
    relay_stop_clean(w);
}

/* A station that reads but asks far faster than answers are made: the
 * relay keeps at most 256 questions of it waiting and refuses the rest at
 * once with SJ_EBUSY, instead of queueing without end. */
static void test_query_flood_beyond_the_wait_limit_refused_busy(void **state)
{
    world *w = *state;
    start_with_feed(w, "");
    static raw_station s;
    memset(&s, 0, sizeof s);
    raw_connect(&s, w->station_tls, w->relay_port, 1 << 20, N_ROWS);
    const int n = 1000;
    raw_ask(&s, n, true);
    if (!raw_until(w, &s, raw_all_answers, SJ_TEST_HANG_MS) || s.ended)
        fail_msg("%d answers and %d refusals of %d, then %s", s.results, s.busy, n,
                 s.ended ? "the link ended" : "nothing more (hang)");
    print_message("%d queries at once from a station that reads: %d answered in order, %d "
                  "refused SJ_EBUSY\n",
                  n, s.results, s.busy);
    assert_int_equal(s.results_misordered, 0);
    assert_int_equal(s.results + s.busy, n);
    assert_true(s.results >= 256); /* the waiting list was full ... */
    assert_true(s.busy > 0);       /* ... and the rest refused */
    free(s.asked);
    raw_close(&s);
    relay_stop_clean(w);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_slow_station_feed_bounded_and_complete),
        T(test_query_burst_without_reading_bounded),
        T(test_not_reading_closed_after_idle_then_resumes),
        T(test_query_flood_beyond_the_wait_limit_refused_busy),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
