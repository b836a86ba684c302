/*
 * test_conn.c - Sanji links over real TCP on 127.0.0.1 with real
 * certificates made by the sanji-pki binary: many frames both ways, every
 * refusal over the socket with its specific close status on both ends, an
 * oversized frame, the idle timeout, and the dialer reconnecting with
 * backoff after the listener restarts.  Both ends run in one libuv loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "conn.h"
#include "dialer.h"
#include "envelope.h"
#include "err.h"
#include "listener.h"
#include "tls.h"

#include "certs.h"

#define RELAY_NODE "relay:410423101000"

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
    uv_timer_start(&w->guard, on_guard, 20000, 0);
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

/* Client: a plain sj_conn connected by hand. */
static void cli_ready(sj_conn *c, const sj_identity *peer)
{
    W->client.ready++;
    snprintf(W->client.peer, sizeof(W->client.peer), "%s", peer->node_id);
    /* Send in bursts so that many frames share TLS records and reads. */
    for (uint64_t i = 0; i < W->want; i++)
        send_heartbeat(c, W->client_sent++);
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

static void test_many_frames_both_ways(void **state)
{
    world w;
    world_init(&w);
    w.sctx = server_ctx();
    w.cctx = client_ctx("village");
    w.want = 5000;
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
    assert_true(ms < 5000);
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
    if (ms < 130 || ms >= 5000)
        fail_msg("closed after %llu ms; want about 150", (unsigned long long)ms);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_dialer_refuses_bad_address),
        cmocka_unit_test(test_many_frames_both_ways),
        cmocka_unit_test(test_write_completion_reaches_send_mark),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_oversized_frame_closes_link),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_backpressure_blocks_and_drains),
        cmocka_unit_test(test_dialer_reconnects_after_restart),
    };
    return cmocka_run_group_tests(tests, make_certs, remove_certs);
}
