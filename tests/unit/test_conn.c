/*
 * test_conn.c - Sanji links over real TCP on 127.0.0.1 with real
 * certificates made by the sanji-pki binary: many frames both ways, every
 * refusal over the socket with its specific close status on both ends, an
 * oversized frame, the idle timeout, backpressure, a peer that floods the
 * link with KeyUpdate requests and never reads, the dialer
 * reconnecting with backoff after the listener restarts, and envelopes
 * taken over from on_message (sj_conn_take_envelope()).  Both ends run in
 * one libuv loop, except the flooding peer (plain OpenSSL in a thread).
 *
 * Timing: a test waits for the event it checks; the only deadline (the
 * guard, 120 s) catches a hang, and no test fails because the machine is
 * slow.  Lower bounds on a timeout are checked, upper bounds are not.
 */
#include <setjmp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "conn.h"
#include "dialer.h"
#include "envelope.h"
#include "err.h"
#include "frame.h"
#include "listener.h"
#include "tls.h"

#include "certs.h"

#define RELAY_NODE "relay:410423101000"
#define GUARD_MS 120000

/* One certificate set for the whole program (tests/lib/certs.h): our county
 * CA with a relay (the server), and the clients of every refusal case. */
static sj_test_certs certs;
static const char *dir = certs.dir;

static int make_certs(void **state)
{
    return sj_test_certs_setup(&certs);
}

static int remove_certs(void **state)
{
    sj_test_certs_cleanup(&certs);
    return 0;
}

static sj_tls_ctx *server_ctx(void)
{
    static const sj_node_role roles[] = {SJ_NODE_ROLE_VILLAGE, SJ_NODE_ROLE_TOWNSHIP_DESK};
    char ca[300], crt[300], key[300], crl[300];
    snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
    snprintf(crl, sizeof(crl), "%s/ca/crl.pem", dir);
    snprintf(crt, sizeof(crt), "%s/relay.crt", dir);
    snprintf(key, sizeof(key), "%s/relay.key", dir);
    sj_tls_config cfg = {.ca_file = ca, .cert_file = crt, .key_file = key, .crl_file = crl,
                         .is_server = true, .allowed_peer_roles = roles,
                         .n_allowed_peer_roles = 2};
    sj_error err;
    sj_tls_ctx *ctx = sj_tls_ctx_new(&cfg, &err);
    if (ctx == NULL)
        fail_msg("server context: %s", err.message);
    return ctx;
}

/* name NULL: a client without a certificate. */
static sj_tls_ctx *client_ctx(const char *name)
{
    static const sj_node_role roles[] = {SJ_NODE_ROLE_RELAY};
    char ca[300], crt[300], key[300];
    snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
    snprintf(crt, sizeof(crt), "%s/%s.crt", dir, name ? name : "");
    snprintf(key, sizeof(key), "%s/%s.key", dir, name ? name : "");
    sj_tls_config cfg = {.ca_file = ca, .cert_file = name ? crt : NULL,
                         .key_file = name ? key : NULL, .is_server = false,
                         .allowed_peer_roles = roles, .n_allowed_peer_roles = 1};
    sj_error err;
    sj_tls_ctx *ctx = sj_tls_ctx_new(&cfg, &err);
    if (ctx == NULL)
        fail_msg("client context %s: %s", name ? name : "(none)", err.message);
    return ctx;
}

/* ---- shared test state --------------------------------------------------- */

typedef struct side {
    int ready;
    int closed;
    int status;
    char why[SJ_ERROR_MESSAGE_MAX];
    char peer[SJ_IDENTITY_NODE_ID_MAX];
    uint64_t received;     /* heartbeats received */
    uint64_t next_seq;     /* next seq expected */
    int out_of_order;
} side;

typedef struct world {
    uv_loop_t loop;
    uv_timer_t guard;
    sj_tls_ctx *sctx, *cctx;
    sj_listener *listener;
    side server, client;
    uint64_t want;        /* heartbeats each way in the exchange test */
    uint64_t client_sent;
    int listener_closed;
    uint64_t last_mark;    /* server: sj_conn_send_mark() after its last send */
    uint64_t written_seen; /* server: sj_conn_written() at its last on_written */
    int written_calls;
    int written_early;     /* sends already counted written when queued */
} world;

static world *W;

static void send_heartbeat(sj_conn *c, uint64_t seq)
{
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    hb.seq = seq;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    sj_error err;
    int rc = sj_conn_send(c, &env, NULL, &err);
    if (rc != 0)
        fail_msg("send %llu: %s: %s", (unsigned long long)seq, sj_err_name(rc), err.message);
}

static void on_guard(uv_timer_t *t)
{
    fail_msg("test timed out (server ready=%d closed=%d, client ready=%d closed=%d)", W->server.ready,
             W->server.closed, W->client.ready, W->client.closed);
}

static void world_init(world *w)
{
    memset(w, 0, sizeof(*w));
    W = w;
    assert_int_equal(uv_loop_init(&w->loop), 0);
    uv_timer_init(&w->loop, &w->guard);
    /* Only a hang trips it: every test waits for events, never for time. */
    uv_timer_start(&w->guard, on_guard, GUARD_MS, 0);
    uv_unref((uv_handle_t *)&w->guard); /* the loop ends when the links do */
}

static void world_run_and_free(world *w)
{
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&w->guard, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    sj_tls_ctx_free(w->sctx);
    sj_tls_ctx_free(w->cctx);
}

static void record_close(side *s, int status, const sj_error *why)
{
    s->closed++;
    s->status = status;
    snprintf(s->why, sizeof(s->why), "%s", why->message);
}

static void listener_closed(sj_listener *l)
{
    W->listener_closed++;
    sj_listener_free(l);
}

/* Server: echoes each heartbeat back with the same seq. */
static void srv_ready(sj_conn *c, const sj_identity *peer)
{
    W->server.ready++;
    snprintf(W->server.peer, sizeof(W->server.peer), "%s", peer->node_id);
}

static void srv_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    assert_int_equal(env->body_case, SANJI__ENVELOPE__BODY_HEARTBEAT);
    if (env->heartbeat->seq != W->server.next_seq)
        W->server.out_of_order++;
    W->server.next_seq = env->heartbeat->seq + 1;
    W->server.received++;
    assert_string_equal(env->sender_node, "village:410423101201");
    send_heartbeat(c, env->heartbeat->seq);
}

static void srv_close(sj_conn *c, int status, const sj_error *why)
{
    record_close(&W->server, status, why);
    /* One client per test: once it is gone, stop listening. */
    sj_listener_close(W->listener, listener_closed);
}

static const sj_conn_callbacks server_cbs = {
    .on_ready = srv_ready, .on_message = srv_message, .on_close = srv_close};

static int start_listener_with(world *w, const sj_conn_options *opts, int port,
                               const sj_conn_callbacks *cbs)
{
    sj_error err;
    w->listener = sj_listener_new(&w->loop, w->sctx, opts, cbs, w, &err);
    assert_non_null(w->listener);
    int rc = sj_listener_listen(w->listener, "127.0.0.1", port, 0, &err);
    if (rc != 0)
        fail_msg("listen: %s", err.message);
    return sj_listener_port(w->listener);
}

static int start_listener(world *w, const sj_conn_options *opts, int port)
{
    return start_listener_with(w, opts, port, &server_cbs);
}

/* Server that also follows write completion. */
static void mark_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    srv_message(c, env, p, len);
    uint64_t mark = sj_conn_send_mark(c);
    if (mark <= W->last_mark)
        fail_msg("send mark did not grow: %llu after %llu", (unsigned long long)mark,
                 (unsigned long long)W->last_mark);
    if (sj_conn_written(c) >= mark)
        W->written_early++;
    W->last_mark = mark;
}

static void mark_written(sj_conn *c)
{
    W->written_calls++;
    W->written_seen = sj_conn_written(c);
    /* The handshake's writes count too, so compare with the link's mark. */
    if (W->written_seen > sj_conn_send_mark(c))
        fail_msg("written %llu beyond the mark %llu", (unsigned long long)W->written_seen,
                 (unsigned long long)sj_conn_send_mark(c));
}

static const sj_conn_callbacks mark_server_cbs = {.on_ready = srv_ready,
                                                  .on_message = mark_message,
                                                  .on_written = mark_written,
                                                  .on_close = srv_close};

/* Client sends as the station's outbox makes them (sj_conn_send_frame()):
 * set by test_frames_sent_in_place. */
static bool framed_sends;

/* A heartbeat packed once, then queued from behind its header room (odd
 * seq) or copied by sj_conn_send_payload() (even seq).  The header room
 * holds junk first: only a header written in place lets the frame arrive. */
static void send_heartbeat_framed(sj_conn *c, uint64_t seq)
{
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    hb.seq = seq;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    uint8_t *frame = NULL;
    size_t len = 0;
    sj_error err;
    if (sj_envelope_pack(&env, "village:410423101201", SJ_FRAME_DEFAULT_MAX, &frame, &len, NULL,
                         &err) != 0)
        fail_msg("pack %llu: %s", (unsigned long long)seq, err.message);
    size_t plen = len - SJ_FRAME_HEADER_SIZE;
    memset(frame, 0xff, SJ_FRAME_HEADER_SIZE);
    int rc = seq % 2 ? sj_conn_send_frame(c, frame, plen, &err)
                     : sj_conn_send_payload(c, frame + SJ_FRAME_HEADER_SIZE, plen, &err);
    free(frame);
    if (rc != 0)
        fail_msg("send %llu: %s: %s", (unsigned long long)seq, sj_err_name(rc), err.message);
}

/* A frame over the link's maximum is refused before anything is queued,
 * and the link goes on. */
static void refuse_oversized_frame(sj_conn *c)
{
    size_t plen = (size_t)SJ_FRAME_DEFAULT_MAX + 1;
    uint8_t *frame = calloc(1, SJ_FRAME_HEADER_SIZE + plen);
    assert_non_null(frame);
    sj_error err;
    assert_int_equal(sj_conn_send_frame(c, frame, plen, &err), SJ_EFRAME_TOO_LARGE);
    free(frame);
}

/* Client: a plain sj_conn connected by hand. */
static void cli_ready(sj_conn *c, const sj_identity *peer)
{
    W->client.ready++;
    snprintf(W->client.peer, sizeof(W->client.peer), "%s", peer->node_id);
    if (framed_sends)
        refuse_oversized_frame(c);
    /* Send in bursts so that many frames share TLS records and reads. */
    for (uint64_t i = 0; i < W->want; i++) {
        if (framed_sends)
            send_heartbeat_framed(c, W->client_sent++);
        else
            send_heartbeat(c, W->client_sent++);
    }
}

static void cli_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    if (env->heartbeat->seq != W->client.next_seq)
        W->client.out_of_order++;
    W->client.next_seq = env->heartbeat->seq + 1;
    if (++W->client.received == W->want)
        sj_conn_close(c, 0, NULL);
}

static void cli_close(sj_conn *c, int status, const sj_error *why)
{
    record_close(&W->client, status, why);
    sj_conn_free(c);
}

static const sj_conn_callbacks client_cbs = {
    .on_ready = cli_ready, .on_message = cli_message, .on_close = cli_close};

static void on_connected(uv_connect_t *req, int status)
{
    sj_conn *c = req->data;
    free(req);
    assert_int_equal(status, 0);
    sj_conn_start(c);
}

static sj_conn *connect_client(world *w, int port, const sj_conn_options *opts)
{
    sj_error err;
    sj_conn *c = sj_conn_new(&w->loop, w->cctx, RELAY_NODE, opts, &client_cbs, NULL, &err);
    if (c == NULL)
        fail_msg("client conn: %s", err.message);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    uv_connect_t *req = malloc(sizeof(*req));
    req->data = c;
    assert_int_equal(uv_tcp_connect(req, sj_conn_tcp(c), (struct sockaddr *)&sa, on_connected), 0);
    return c;
}

/* ---- tests --------------------------------------------------------------- */

/* want heartbeats each way, then checks that all arrived in order. */
static void exchange(uint64_t want)
{
    world w;
    world_init(&w);
    w.sctx = server_ctx();
    w.cctx = client_ctx("village");
    w.want = want;
    int port = start_listener(&w, NULL, 0);
    assert_true(port > 0);
    connect_client(&w, port, NULL);
    world_run_and_free(&w);
    print_message("server close: %s (%s)\n", sj_err_name(w.server.status), w.server.why);
    assert_int_equal(w.server.ready, 1);
    assert_int_equal(w.client.ready, 1);
    assert_string_equal(w.server.peer, "village:410423101201");
    assert_string_equal(w.client.peer, RELAY_NODE);
    assert_int_equal(w.server.received, w.want);
    assert_int_equal(w.client.received, w.want);
    assert_int_equal(w.server.out_of_order, 0);
    assert_int_equal(w.client.out_of_order, 0);
    assert_int_equal(w.client.closed, 1);
    assert_int_equal(w.client.status, 0);
    assert_int_equal(w.server.closed, 1);
    assert_int_equal(w.server.status, SJ_ECLOSED); /* the client closed cleanly */
    assert_int_equal(w.listener_closed, 1);
}

static void test_many_frames_both_ways(void **state)
{
    exchange(5000);
}

/* The client's outbox frames (sj_conn_send_frame()) arrive like any other,
 * in order among sj_conn_send_payload()'s. */
static void test_frames_sent_in_place(void **state)
{
    framed_sends = true;
    exchange(1000);
    framed_sends = false;
}

/* Write completion: a send is never counted written when it is queued;
 * on_written (through the listener) follows the writes until every mark is
 * reached. */
static void test_write_completion_reaches_send_mark(void **state)
{
    world w;
    world_init(&w);
    w.sctx = server_ctx();
    w.cctx = client_ctx("village");
    w.want = 200;
    int port = start_listener_with(&w, NULL, 0, &mark_server_cbs);
    connect_client(&w, port, NULL);
    world_run_and_free(&w);
    assert_int_equal(w.client.received, w.want);
    assert_int_equal(w.written_early, 0);
    assert_true(w.written_calls > 0);
    assert_int_equal(w.written_seen, w.last_mark);
}

/* Every refusal, over the socket: the server's close status names the
 * reason, and so does the client's. */
static void test_refusals(void **state)
{
    static const struct {
        const char *cert;  /* NULL: no certificate */
        int want;
    } cases[] = {
        {NULL, SJ_ETLS_NO_CERT},
        {"foreign-village", SJ_ETLS_UNTRUSTED},
        {"expired-village", SJ_ETLS_EXPIRED},
        {"revoked-village", SJ_ETLS_REVOKED},
        {"relay2", SJ_ETLS_WRONG_ROLE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        world w;
        world_init(&w);
        w.sctx = server_ctx();
        w.cctx = client_ctx(cases[i].cert);
        int port = start_listener(&w, NULL, 0);
        connect_client(&w, port, NULL);
        world_run_and_free(&w);
        print_message("%s: server %s (%s); client %s (%s)\n",
                      cases[i].cert ? cases[i].cert : "no certificate",
                      sj_err_name(w.server.status), w.server.why, sj_err_name(w.client.status),
                      w.client.why);
        assert_int_equal(w.server.ready, 0);
        assert_int_equal(w.server.closed, 1);
        assert_int_equal(w.server.status, cases[i].want);
        assert_int_equal(w.client.closed, 1);
        assert_int_equal(w.client.status, cases[i].want);
        assert_true(w.server.why[0] != '\0');
    }
}

static void big_ready(sj_conn *c, const sj_identity *peer)
{
    W->client.ready++;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    /* A normal message that is just too big for this server (the client's
     * own maximum is the default 1 MiB, so it sends it). */
    char *reason = malloc(4001);
    memset(reason, 'x', 4000);
    reason[4000] = '\0';
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__NodeStatus ns = SANJI__NODE_STATUS__INIT;
    ns.software = reason;
    hb.status = &ns;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    sj_error err;
    assert_int_equal(sj_conn_send(c, &env, NULL, &err), 0);
    free(reason);
}

static const sj_conn_callbacks big_client_cbs = {
    .on_ready = big_ready, .on_message = cli_message, .on_close = cli_close};

static void test_oversized_frame_closes_link(void **state)
{
    world w;
    world_init(&w);
    w.sctx = server_ctx();
    w.cctx = client_ctx("village");
    sj_conn_options so = sj_conn_options_default();
    so.max_frame = 1024;
    int port = start_listener(&w, &so, 0);
    sj_error err;
    sj_conn *c = sj_conn_new(&w.loop, w.cctx, RELAY_NODE, NULL, &big_client_cbs, NULL, &err);
    assert_non_null(c);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    uv_connect_t *req = malloc(sizeof(*req));
    req->data = c;
    assert_int_equal(uv_tcp_connect(req, sj_conn_tcp(c), (struct sockaddr *)&sa, on_connected), 0);
    world_run_and_free(&w);
    print_message("server %s (%s); client %s (%s)\n", sj_err_name(w.server.status), w.server.why,
                  sj_err_name(w.client.status), w.client.why);
    assert_int_equal(w.server.ready, 1);
    assert_int_equal(w.server.received, 0);
    assert_int_equal(w.server.status, SJ_EFRAME_TOO_LARGE);
    /* The client learns why from the server's Goodbye. */
    assert_int_equal(w.client.status, SJ_EFRAME_TOO_LARGE);
}

static void test_idle_timeout(void **state)
{
    world w;
    world_init(&w);
    w.sctx = server_ctx();
    w.cctx = client_ctx("village");
    w.want = 0; /* the client connects and says nothing */
    sj_conn_options so = sj_conn_options_default();
    so.idle_timeout_ms = 150;
    int port = start_listener(&w, &so, 0);
    uint64_t t0 = uv_hrtime();
    connect_client(&w, port, NULL);
    world_run_and_free(&w);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    print_message("server %s (%s) after %llu ms; client %s\n", sj_err_name(w.server.status),
                  w.server.why, (unsigned long long)ms, sj_err_name(w.client.status));
    assert_int_equal(w.server.ready, 1);
    assert_int_equal(w.server.status, SJ_EIDLE);
    assert_int_equal(w.client.status, SJ_EIDLE);
    assert_true(ms >= 150);
}

/* A peer that opens TCP and never starts TLS (a port scanner, a stuck
 * client) is closed after the handshake timeout, with its reason. */
typedef struct silent_peer {
    uv_tcp_t tcp;
    uv_connect_t req;
    char buf[256];
    int eof;
} silent_peer;

static void silent_alloc(uv_handle_t *h, size_t size, uv_buf_t *b)
{
    silent_peer *sp = h->data;
    *b = uv_buf_init(sp->buf, sizeof(sp->buf));
}

static void silent_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    silent_peer *sp = s->data;
    if (n < 0) {
        sp->eof = 1;
        uv_close((uv_handle_t *)s, NULL);
    }
}

static void silent_connected(uv_connect_t *req, int status)
{
    silent_peer *sp = req->data;
    assert_int_equal(status, 0);
    assert_int_equal(uv_read_start((uv_stream_t *)&sp->tcp, silent_alloc, silent_read), 0);
}

static void test_handshake_timeout(void **state)
{
    world w;
    world_init(&w);
    w.sctx = server_ctx();
    sj_conn_options so = sj_conn_options_default();
    so.handshake_timeout_ms = 150;
    int port = start_listener(&w, &so, 0);
    silent_peer sp = {0};
    sp.tcp.data = &sp;
    sp.req.data = &sp;
    assert_int_equal(uv_tcp_init(&w.loop, &sp.tcp), 0);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    uint64_t t0 = uv_hrtime();
    assert_int_equal(uv_tcp_connect(&sp.req, &sp.tcp, (struct sockaddr *)&sa, silent_connected), 0);
    world_run_and_free(&w);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    print_message("server %s (%s) after %llu ms\n", sj_err_name(w.server.status), w.server.why,
                  (unsigned long long)ms);
    assert_int_equal(w.server.ready, 0);
    assert_int_equal(w.server.closed, 1);
    assert_int_equal(w.server.status, SJ_ETIMEOUT);
    assert_non_null(strstr(w.server.why, "handshake"));
    assert_int_equal(sp.eof, 1); /* the peer saw the link end */
    /* libuv's timers run on the loop's time, which it reads from
     * CLOCK_MONOTONIC_COARSE when that ticks at 1 ms or finer, so it can lag
     * uv_hrtime() (t0) by a tick: the timeout may end just short of 150 ms
     * measured this way (149 was seen under ASan). */
    if (ms < 130)
        fail_msg("closed after %llu ms; want at least about 150", (unsigned long long)ms);
}

/* Backpressure: both ends share one thread, so while the client sends a
 * burst the server cannot read; the kernel buffers fill, the link blocks
 * (SJ_EBACKPRESSURE, nothing queued), reading resumes and on_drain lets the
 * client finish.  Every message arrives once, in order. */
static int bp_refusals, bp_drains;
static char *bp_filler;

static void bp_pump(sj_conn *c)
{
    Sanji__NodeStatus ns = SANJI__NODE_STATUS__INIT;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    ns.software = bp_filler;
    hb.status = &ns;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    while (W->client_sent < W->want) {
        hb.seq = W->client_sent;
        sj_error err;
        int rc = sj_conn_send(c, &env, NULL, &err);
        if (rc == SJ_EBACKPRESSURE) {
            assert_true(sj_conn_blocked(c));
            bp_refusals++;
            return;
        }
        assert_int_equal(rc, 0);
        W->client_sent++;
    }
}

static void bp_ready(sj_conn *c, const sj_identity *peer)
{
    W->client.ready++;
    bp_pump(c);
}

static void bp_drain(sj_conn *c)
{
    bp_drains++;
    assert_false(sj_conn_blocked(c));
    bp_pump(c);
}

static void bp_srv_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    if (env->heartbeat->seq != W->server.next_seq)
        W->server.out_of_order++;
    W->server.next_seq = env->heartbeat->seq + 1;
    if (++W->server.received == W->want)
        sj_conn_close(c, 0, NULL);
}

static const sj_conn_callbacks bp_server_cbs = {
    .on_ready = srv_ready, .on_message = bp_srv_message, .on_close = srv_close};

static const sj_conn_callbacks bp_client_cbs = {
    .on_ready = bp_ready, .on_drain = bp_drain, .on_close = cli_close};

static void test_backpressure_blocks_and_drains(void **state)
{
    world w;
    world_init(&w);
    w.sctx = server_ctx();
    w.cctx = client_ctx("village");
    w.want = 2000; /* 2000 x 16 KiB: far more than the socket buffers */
    bp_filler = malloc(16001);
    memset(bp_filler, 'b', 16000);
    bp_filler[16000] = '\0';
    sj_error err;
    sj_listener *l = sj_listener_new(&w.loop, w.sctx, NULL, &bp_server_cbs, &w, &err);
    assert_non_null(l);
    w.listener = l;
    assert_int_equal(sj_listener_listen(l, "127.0.0.1", 0, 0, &err), 0);
    sj_conn_options co = sj_conn_options_default();
    co.write_high_water = 256 * 1024;
    co.write_low_water = 64 * 1024;
    sj_conn *c = sj_conn_new(&w.loop, w.cctx, RELAY_NODE, &co, &bp_client_cbs, NULL, &err);
    assert_non_null(c);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", sj_listener_port(l), &sa);
    uv_connect_t *req = malloc(sizeof(*req));
    req->data = c;
    assert_int_equal(uv_tcp_connect(req, sj_conn_tcp(c), (struct sockaddr *)&sa, on_connected), 0);
    world_run_and_free(&w);
    free(bp_filler);
    print_message("refusals %d drains %d received %llu\n", bp_refusals, bp_drains,
                  (unsigned long long)w.server.received);
    assert_true(bp_refusals >= 1);
    assert_int_equal(bp_drains, bp_refusals);
    assert_int_equal(w.server.received, w.want);
    assert_int_equal(w.server.out_of_order, 0);
    assert_int_equal(w.client.status, SJ_ECLOSED);
}

/* ---- a peer that floods KeyUpdate requests and never reads --------------- */

/* The peer is plain OpenSSL in its own thread, on a blocking-then-
 * nonblocking socket: it connects with the village certificate, then
 * sends, for ever, a KeyUpdate that requests ours followed by one byte of
 * a stream of valid frames (so the victim has application data and no
 * reason to close), and never reads.  Each request makes the victim's
 * OpenSSL write a KeyUpdate back, so its write queue grows with what the
 * peer sends.  The victim must block at write_high_water (reading stops)
 * and stay there: its queue never holds more than the mark plus what one
 * read brought in.  The loop samples the queue after every I/O turn. */
#define FLOOD_HIGH (16 * 1024)
#define FLOOD_READ_MAX (64 * 1024) /* conn.c reads at most this at once */
#define FLOOD_STALL_POLLS 25       /* 20 ms polls without progress: "stuck" */

typedef struct flood {
    uv_async_t stuck;     /* the peer cannot send any more */
    uv_check_t sampler;   /* samples the victim after every loop turn */
    sj_conn *victim;
    int port;
    uint8_t *stream;      /* frames the peer sends, a byte per record */
    size_t stream_len;
    atomic_int stop;
    atomic_ulong rounds;  /* KeyUpdate + byte sent */
    char error[256];      /* the peer's failure, if any */
    size_t max_queued;    /* the victim's largest write queue seen */
    size_t queued_at_end;
    int blocked_seen;
    int messages;
    int finished;
} flood;

static flood *F;

static void flood_fail(flood *f, const char *what)
{
    char detail[160];
    ERR_error_string_n(ERR_get_error(), detail, sizeof detail);
    snprintf(f->error, sizeof f->error, "%s: %s", what, detail);
}

static SSL_CTX *flood_peer_ctx(flood *f)
{
    char crt[PATH_MAX], key[PATH_MAX];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        SSL_CTX_use_certificate_file(ctx, sj_test_certs_path(&certs, "village", "crt", crt,
                                                             sizeof crt),
                                     SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, sj_test_certs_path(&certs, "village", "key", key,
                                                            sizeof key),
                                    SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_file(ctx, certs.ca_file) != 1) {
        flood_fail(f, "peer context");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

/* Small kernel buffers on the peer's side, so that a victim that stops
 * reading is felt after kilobytes, not megabytes. */
static int flood_connect(flood *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), small = 4096;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)f->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) != 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(f->error, sizeof f->error, "peer socket: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Sends KeyUpdate + one byte until told to stop; when the socket takes
 * nothing for FLOOD_STALL_POLLS polls, tells the loop (again after each
 * such stall). */
static void flood_send(flood *f, SSL *ssl, int fd)
{
    size_t pos = 0, n;
    bool pending = false;
    int stalls = 0;
    while (!atomic_load(&f->stop)) {
        if (!pending) {
            if (SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) != 1) {
                flood_fail(f, "SSL_key_update");
                return;
            }
            pending = true;
        }
        int r = SSL_write_ex(ssl, f->stream + pos, 1, &n);
        if (r == 1) {
            pending = false;
            pos = (pos + 1) % f->stream_len;
            atomic_fetch_add(&f->rounds, 1);
            stalls = 0;
            continue;
        }
        if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_WRITE) {
            flood_fail(f, "SSL_write");
            return;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 20) == 0 && ++stalls % FLOOD_STALL_POLLS == 0)
            uv_async_send(&f->stuck);
    }
}

static void *flood_peer(void *arg)
{
    flood *f = arg;
    SSL_CTX *ctx = flood_peer_ctx(f);
    int fd = ctx ? flood_connect(f) : -1;
    SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
    if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1) {
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0)
            flood_send(f, ssl, fd);
        else
            snprintf(f->error, sizeof f->error, "peer fcntl: %s", strerror(errno));
    } else if (fd >= 0) {
        flood_fail(f, "peer handshake");
    }
    if (f->error[0] != '\0')
        uv_async_send(&f->stuck); /* let the loop end the test */
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    return NULL;
}

static void flood_sample(uv_check_t *h)
{
    flood *f = h->data;
    if (f->victim == NULL)
        return;
    size_t q = sj_conn_queued_bytes(f->victim);
    if (q > f->max_queued)
        f->max_queued = q;
    if (sj_conn_blocked(f->victim))
        f->blocked_seen = 1;
    if (q > FLOOD_HIGH + FLOOD_READ_MAX) {
        atomic_store(&f->stop, 1); /* fail at once rather than at the guard */
        fail_msg("the victim queued %zu bytes for a peer that reads nothing (high water %d)", q,
                 FLOOD_HIGH);
    }
}

/* The peer cannot send: done once the victim is blocked (a victim that is
 * only slow to read is waited for).  Also ends the test if the peer failed. */
static void flood_stuck(uv_async_t *h)
{
    flood *f = h->data;
    if (f->finished || (f->error[0] == '\0' && (f->victim == NULL || !sj_conn_blocked(f->victim))))
        return;
    f->finished = 1;
    flood_sample(&f->sampler);
    if (f->victim != NULL)
        f->queued_at_end = sj_conn_queued_bytes(f->victim);
    atomic_store(&f->stop, 1);
    uv_close((uv_handle_t *)&f->stuck, NULL);
    uv_close((uv_handle_t *)&f->sampler, NULL);
    if (f->victim != NULL)
        sj_conn_close(f->victim, 0, NULL);
    else
        sj_listener_close(W->listener, listener_closed);
}

static void flood_ready(sj_conn *c, const sj_identity *peer)
{
    W->server.ready++;
    F->victim = c;
    /* Small kernel buffers on the victim's side too. */
    int small = 4096;
    uv_send_buffer_size((uv_handle_t *)sj_conn_tcp(c), &small);
    small = 4096;
    uv_recv_buffer_size((uv_handle_t *)sj_conn_tcp(c), &small);
}

static void flood_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    F->messages++;
    flood_sample(&F->sampler);
}

static void flood_close(sj_conn *c, int status, const sj_error *why)
{
    record_close(&W->server, status, why);
    F->victim = NULL;
    sj_listener_close(W->listener, listener_closed);
}

static const sj_conn_callbacks flood_cbs = {
    .on_ready = flood_ready, .on_message = flood_message, .on_close = flood_close};

/* A few heartbeats, packed as a village sends them: the peer's stream. */
static void flood_stream(flood *f)
{
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    sj_error err;
    uint8_t *frame;
    size_t len;
    assert_int_equal(sj_envelope_pack(&env, "village:410423101201", 1024, &frame, &len, NULL,
                                      &err),
                     0);
    f->stream = frame;
    f->stream_len = len;
}

static void test_key_update_flood_is_bounded(void **state)
{
    world w;
    flood f;
    memset(&f, 0, sizeof f);
    F = &f;
    world_init(&w);
    w.sctx = server_ctx();
    flood_stream(&f);
    sj_conn_options so = sj_conn_options_default();
    so.write_high_water = FLOOD_HIGH;
    so.write_low_water = FLOOD_HIGH / 4;
    so.idle_timeout_ms = 0; /* the test ends the link, not a timer */
    so.linger_ms = 100;
    f.port = start_listener_with(&w, &so, 0, &flood_cbs);
    assert_int_equal(uv_async_init(&w.loop, &f.stuck, flood_stuck), 0);
    assert_int_equal(uv_check_init(&w.loop, &f.sampler), 0);
    f.stuck.data = f.sampler.data = &f;
    assert_int_equal(uv_check_start(&f.sampler, flood_sample), 0);
    pthread_t peer;
    assert_int_equal(pthread_create(&peer, NULL, flood_peer, &f), 0);
    world_run_and_free(&w);
    atomic_store(&f.stop, 1);
    pthread_join(peer, NULL);
    free(f.stream);
    unsigned long rounds = atomic_load(&f.rounds);
    print_message("peer sent %lu KeyUpdate requests (%d frames); the victim blocked: %d, its "
                  "queue at most %zu bytes (%zu at the end), high water %d\n",
                  rounds, f.messages, f.blocked_seen, f.max_queued, f.queued_at_end, FLOOD_HIGH);
    if (f.error[0] != '\0')
        fail_msg("flooding peer: %s", f.error);
    assert_int_equal(w.server.ready, 1);
    /* The flood was felt: more requests than the queue may hold answers,
     * and the victim's sends were refused for backpressure (its queue
     * reached the high water).  The peak itself is not asserted: the
     * sampler runs once per loop turn, and on a busy machine the kernel
     * may take part of the queue before it looks. */
    assert_true(f.blocked_seen);
    assert_true(rounds * 27 > FLOOD_HIGH);
    assert_true(f.max_queued <= FLOOD_HIGH + FLOOD_READ_MAX);
    assert_true(f.queued_at_end <= FLOOD_HIGH + FLOOD_READ_MAX);
    assert_int_equal(w.server.closed, 1);
    assert_int_equal(w.server.status, 0);
}

/* ---- dialer -------------------------------------------------------------- */

typedef struct dial_state {
    world *w;
    sj_dialer *d;
    int port;
    int ups;
    int downs;
    int connect_failures;
    int restarted;
    uint64_t max_wait;
    uv_timer_t restart;
} dial_state;

static dial_state *D;

static void dsrv_close(sj_conn *c, int status, const sj_error *why)
{
    record_close(&W->server, status, why);
}

static const sj_conn_callbacks dial_server_cbs = {.on_ready = srv_ready, .on_close = dsrv_close};

static void listen_on(dial_state *s, int port)
{
    sj_error err;
    s->w->listener = sj_listener_new(&s->w->loop, s->w->sctx, NULL, &dial_server_cbs, s, &err);
    assert_non_null(s->w->listener);
    int rc = sj_listener_listen(s->w->listener, "127.0.0.1", port, 0, &err);
    if (rc != 0)
        fail_msg("listen: %s", err.message);
    s->port = sj_listener_port(s->w->listener);
}

static void on_restart(uv_timer_t *t)
{
    D->restarted++;
    listen_on(D, D->port);
}

static void d_up(sj_dialer *d, sj_conn *c, const sj_identity *peer)
{
    D->ups++;
    assert_string_equal(peer->node_id, RELAY_NODE);
    if (D->ups == 1) {
        /* Take the server away; bring it back after a few failed attempts. */
        sj_listener_close(D->w->listener, listener_closed);
        uv_timer_start(&D->restart, on_restart, 400, 0);
    } else {
        sj_dialer_stop(d);
        sj_listener_close(D->w->listener, listener_closed);
    }
}

static void d_down(sj_dialer *d, int status, const sj_error *why, uint64_t retry_in)
{
    D->downs++;
    if (status == SJ_ECONNECT)
        D->connect_failures++;
    if (retry_in != UINT64_MAX && retry_in > D->max_wait)
        D->max_wait = retry_in;
    print_message("down: %s (%s), retry in %llu ms\n", sj_err_name(status), why->message,
                  (unsigned long long)retry_in);
}

static void d_stopped(sj_dialer *d)
{
    uv_close((uv_handle_t *)&D->restart, NULL);
}

static const sj_dialer_callbacks dialer_cbs = {.on_up = d_up, .on_down = d_down,
                                               .on_stopped = d_stopped};

static void test_dialer_reconnects_after_restart(void **state)
{
    world w;
    dial_state s;
    memset(&s, 0, sizeof(s));
    D = &s;
    world_init(&w);
    s.w = &w;
    w.sctx = server_ctx();
    w.cctx = client_ctx("village");
    uv_timer_init(&w.loop, &s.restart);
    listen_on(&s, 0);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", s.port);
    const char *addrs[] = {addr};
    sj_dialer_options o = sj_dialer_options_default();
    o.addresses = addrs;
    o.n_addresses = 1;
    o.expected_peer_node = RELAY_NODE;
    o.backoff_base_ms = 20;
    o.backoff_cap_ms = 160;
    sj_error err;
    s.d = sj_dialer_new(&w.loop, w.cctx, &o, &dialer_cbs, &s, &err);
    assert_non_null(s.d);
    assert_int_equal(sj_dialer_start(s.d), 0);
    world_run_and_free(&w);
    print_message("ups %d downs %d connect failures %d attempts %u max wait %llu\n", s.ups, s.downs,
                  s.connect_failures, sj_dialer_attempts(s.d), (unsigned long long)s.max_wait);
    assert_int_equal(s.ups, 2);
    assert_int_equal(s.restarted, 1);
    assert_true(s.connect_failures >= 2);
    assert_true(s.max_wait <= 160);
    assert_true(sj_dialer_attempts(s.d) >= 4);
    sj_dialer_free(s.d);
}

static void test_backoff_bounds(void **state)
{
    static const struct {
        uint64_t base, cap;
        unsigned k;
        uint64_t want;
    } cases[] = {
        {500, 60000, 0, 500},  {500, 60000, 1, 1000},   {500, 60000, 3, 4000},
        {500, 60000, 7, 60000}, {500, 60000, 200, 60000}, {0, 100, 5, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(sj_dialer_backoff_ms(cases[i].base, cases[i].cap, cases[i].k),
                         cases[i].want);
}

static void test_dialer_refuses_bad_address(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    sj_tls_ctx *ctx = client_ctx("village");
    static const char *bad[] = {"localhost", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999",
                                "[::1", "example.org:7443"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *one[] = {bad[i]};
        sj_dialer_options o = sj_dialer_options_default();
        o.addresses = one;
        o.n_addresses = 1;
        sj_error err;
        assert_null(sj_dialer_new(&loop, ctx, &o, &dialer_cbs, NULL, &err));
        assert_int_equal(err.code, SJ_EINVAL);
    }
    sj_tls_ctx_free(ctx);
    uv_loop_close(&loop);
}

/* ---- taking a delivered envelope (sj_conn_take_envelope) ------------------ */

#define TAKE_COUNT 200
static Sanji__Envelope *taken[TAKE_COUNT];
static size_t n_taken;

/* Server: takes every heartbeat over and echoes it from what it took. */
static void take_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    assert_true(n_taken < TAKE_COUNT);
    Sanji__Envelope *own = sj_conn_take_envelope(c, env);
    assert_non_null(own);
    /* What the link still holds for the rest of the call is empty. */
    assert_int_equal(env->body_case, SANJI__ENVELOPE__BODY__NOT_SET);
    assert_null(env->heartbeat);
    assert_int_equal(env->message_id.len, 0);
    assert_int_equal(own->body_case, SANJI__ENVELOPE__BODY_HEARTBEAT);
    assert_string_equal(own->sender_node, "village:410423101201");
    assert_int_equal(own->message_id.len, SJ_ENVELOPE_ID_SIZE);
    taken[n_taken++] = own;
    W->server.received++;
    send_heartbeat(c, own->heartbeat->seq);
}

static const sj_conn_callbacks take_server_cbs = {
    .on_ready = srv_ready, .on_message = take_message, .on_close = srv_close};

/* The envelopes taken over outlive the calls that delivered them (the
 * link freed only the emptied shells), hold what was sent, in order, and
 * are freed by their new owner; outside on_message nothing is taken. */
static void test_take_envelope(void **state)
{
    world w;
    world_init(&w);
    w.sctx = server_ctx();
    w.cctx = client_ctx("village");
    w.want = TAKE_COUNT;
    n_taken = 0;
    int port = start_listener_with(&w, NULL, 0, &take_server_cbs);
    connect_client(&w, port, NULL);
    world_run_and_free(&w);
    assert_int_equal(w.client.received, w.want);
    assert_int_equal(n_taken, TAKE_COUNT);
    for (size_t i = 0; i < n_taken; i++) {
        assert_int_equal(taken[i]->body_case, SANJI__ENVELOPE__BODY_HEARTBEAT);
        assert_int_equal(taken[i]->heartbeat->seq, i);
        assert_string_equal(taken[i]->sender_node, "village:410423101201");
        sj_envelope_free(taken[i]);
    }
    Sanji__Envelope none = SANJI__ENVELOPE__INIT;
    assert_null(sj_conn_take_envelope(NULL, &none));
}

int main(void)
{
    /* As the daemons do: a write to a link the other side closed is an
     * error value, not a signal (the flooding peer writes until it stops). */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_dialer_refuses_bad_address),
        cmocka_unit_test(test_many_frames_both_ways),
        cmocka_unit_test(test_frames_sent_in_place),
        cmocka_unit_test(test_write_completion_reaches_send_mark),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_oversized_frame_closes_link),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_backpressure_blocks_and_drains),
        cmocka_unit_test(test_key_update_flood_is_bounded),
        cmocka_unit_test(test_dialer_reconnects_after_restart),
        cmocka_unit_test(test_take_envelope),
    };
    return cmocka_run_group_tests(tests, make_certs, remove_certs);
}
