/*
 * bench_tls.c - `sanji-bench tls`: the Sanji link on loopback.  One TLS 1.3
 * connection (mutual authentication, real certificates made with
 * sanji-pki) carries Envelope frames from a client to a server for a few
 * payload sizes: messages/s and MB/s of frames.  Then sequential full
 * handshakes (connect, mutual TLS, identity check, close): handshakes/s.
 *
 * Both ends run in ONE libuv loop on one thread, so the figures include the
 * work of both sides (encrypt + decrypt, pack + unpack) on one core.
 *
 * Usage: sanji-bench tls [--count N] [--handshakes N] [--pki PATH]
 * Entry point: bench_tls_main().
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "bench.h"
#include "conn.h"
#include "envelope.h"
#include "err.h"
#include "listener.h"
#include "tls.h"

#define RELAY_NODE "relay:410423101000"

static char dir[256];
static char pki[PATH_MAX];

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    char full[2200];
    snprintf(full, sizeof(full), "%s >/dev/null", cmd);
    int rc = system(full);
    if (rc != 0)
        fprintf(stderr, "sanji-bench: command failed: %s\n", cmd);
    return rc;
}

static sj_tls_ctx *make_ctx(bool server)
{
    static const sj_node_role sroles[] = {SJ_NODE_ROLE_VILLAGE};
    static const sj_node_role croles[] = {SJ_NODE_ROLE_RELAY};
    char ca[300], crt[300], key[300];
    snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
    snprintf(crt, sizeof(crt), "%s/%s.crt", dir, server ? "relay" : "village");
    snprintf(key, sizeof(key), "%s/%s.key", dir, server ? "relay" : "village");
    sj_tls_config cfg = {.ca_file = ca, .cert_file = crt, .key_file = key, .is_server = server,
                         .allowed_peer_roles = server ? sroles : croles,
                         .n_allowed_peer_roles = 1};
    sj_error err;
    sj_tls_ctx *ctx = sj_tls_ctx_new(&cfg, &err);
    if (ctx == NULL)
        fprintf(stderr, "sanji-bench: TLS context: %s\n", err.message);
    return ctx;
}

/* ---- state ---------------------------------------------------------------- */

static uv_loop_t loop;
static sj_tls_ctx *sctx, *cctx;
static sj_listener *listener;
static struct sockaddr_in server_addr;

static size_t payload_size;
static uint64_t want, sent, received, frame_bytes;
static uint64_t t_start, t_end;
static char *filler;
static int handshakes_left, handshakes_done;
static int failures;

static void srv_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    received++;
    frame_bytes += len + 4;
    if (received == want) {
        t_end = uv_hrtime();
        sj_conn_close(c, 0, NULL);
    }
}

static void srv_close(sj_conn *c, int status, const sj_error *why)
{
    if (status != 0 && status != SJ_ECLOSED && status != SJ_ECANCELLED) {
        fprintf(stderr, "sanji-bench: server link closed: %s: %s\n", sj_err_name(status),
                why->message);
        failures++;
    }
}

static const sj_conn_callbacks server_cbs = {.on_message = srv_message, .on_close = srv_close};

/* Client: sends until the link blocks, resumes on drain. */
static void pump_send(sj_conn *c)
{
    Sanji__NodeStatus ns = SANJI__NODE_STATUS__INIT;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    ns.software = filler;
    hb.status = &ns;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    while (sent < want) {
        hb.seq = sent;
        sj_error err;
        int rc = sj_conn_send(c, &env, NULL, &err);
        if (rc == SJ_EBACKPRESSURE)
            return;
        if (rc != 0) {
            fprintf(stderr, "sanji-bench: send: %s\n", err.message);
            failures++;
            sj_conn_close(c, rc, NULL);
            return;
        }
        sent++;
    }
}

static void cli_ready(sj_conn *c, const sj_identity *peer)
{
    if (handshakes_left > 0) {
        handshakes_done++;
        sj_conn_close(c, 0, NULL);
        return;
    }
    t_start = uv_hrtime();
    pump_send(c);
}

static void cli_drain(sj_conn *c)
{
    pump_send(c);
}

static void connect_one(void);

static void cli_close(sj_conn *c, int status, const sj_error *why)
{
    if (status != 0 && status != SJ_ECLOSED) {
        fprintf(stderr, "sanji-bench: client link closed: %s: %s\n", sj_err_name(status),
                why->message);
        failures++;
    }
    sj_conn_free(c);
    if (handshakes_left > 0 && --handshakes_left > 0 && failures == 0)
        connect_one();
}

static const sj_conn_callbacks client_cbs = {
    .on_ready = cli_ready, .on_drain = cli_drain, .on_close = cli_close};

static void on_connected(uv_connect_t *req, int status)
{
    sj_conn *c = req->data;
    free(req);
    if (status < 0) {
        fprintf(stderr, "sanji-bench: connect: %s\n", uv_strerror(status));
        failures++;
        sj_conn_close(c, SJ_ECONNECT, NULL);
        return;
    }
    sj_conn_start(c);
}

static void connect_one(void)
{
    sj_error err;
    sj_conn *c = sj_conn_new(&loop, cctx, RELAY_NODE, NULL, &client_cbs, NULL, &err);
    uv_connect_t *req = malloc(sizeof(*req));
    if (c == NULL || req == NULL) {
        fprintf(stderr, "sanji-bench: %s\n", c ? "no memory" : err.message);
        failures++;
        free(req);
        return;
    }
    req->data = c;
    uv_tcp_connect(req, sj_conn_tcp(c), (struct sockaddr *)&server_addr, on_connected);
}

/* Runs the loop until the current scenario's links are closed. */
static void run_until_quiet(void)
{
    /* The listener keeps the loop alive; run until the client side is done. */
    while (uv_run(&loop, UV_RUN_ONCE) != 0) {
        if (handshakes_left == 0 && received >= want && sent >= want && t_end != 0 &&
            sj_listener_count(listener) == 0)
            break;
        if (handshakes_left <= 0 && failures)
            break;
        if (handshakes_left == 0 && want == 0)
            break;
    }
}

static void listener_closed(sj_listener *l)
{
    sj_listener_free(l);
}

int bench_tls_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "tls") != 0) {
        fprintf(stderr, "usage: sanji-bench tls [--count N] [--handshakes N] [--pki PATH]\n");
        return 2;
    }
    uint64_t count = 0;
    int handshakes = 2000;
    pki[0] = '\0';
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--handshakes") == 0 && i + 1 < argc)
            handshakes = atoi(argv[++i]);
        else if (strcmp(argv[i], "--pki") == 0 && i + 1 < argc)
            snprintf(pki, sizeof(pki), "%s", argv[++i]);
        else {
            fprintf(stderr, "sanji-bench: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (pki[0] == '\0') {
        /* BUILD/tests/bench/sanji-bench -> BUILD/deploy/pki/sanji-pki */
        char self[PATH_MAX - 64];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0) {
            fprintf(stderr, "sanji-bench: give --pki PATH\n");
            return 2;
        }
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        *slash = '\0';
        snprintf(pki, sizeof(pki), "%s/../../deploy/pki/sanji-pki", self);
    }
    snprintf(dir, sizeof(dir), "/tmp/sanji-bench-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    if (run("%s init --dir %s/ca --county 410423000000", pki, dir) ||
        run("%s issue --dir %s/ca --role relay --unit 410423101000 --host 127.0.0.1 --out %s/relay",
            pki, dir, dir) ||
        run("%s issue --dir %s/ca --role village --unit 410423101201 --out %s/village", pki, dir,
            dir))
        return 1;
    sctx = make_ctx(true);
    cctx = make_ctx(false);
    if (sctx == NULL || cctx == NULL)
        return 1;
    uv_loop_init(&loop);
    sj_error err;
    listener = sj_listener_new(&loop, sctx, NULL, &server_cbs, NULL, &err);
    if (listener == NULL || sj_listener_listen(listener, "127.0.0.1", 0, 0, &err) != 0) {
        fprintf(stderr, "sanji-bench: listen: %s\n", err.message);
        return 1;
    }
    uv_ip4_addr("127.0.0.1", sj_listener_port(listener), &server_addr);

    printf("sanji-bench tls: one TLS 1.3 link on 127.0.0.1, client and server in one loop "
           "(one thread)\n\n");
    printf("%10s %10s %14s %12s\n", "payload", "messages", "messages/s", "MB/s");
    static const size_t sizes[] = {100, 1024, 16384};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        payload_size = sizes[s];
        /* About 100 B of Envelope around the filler. */
        size_t fill = payload_size > 60 ? payload_size - 60 : 1;
        filler = malloc(fill + 1);
        memset(filler, 'a', fill);
        filler[fill] = '\0';
        want = count ? count : (payload_size >= 16384 ? 20000 : 200000);
        sent = received = frame_bytes = t_start = t_end = 0;
        handshakes_left = 0;
        connect_one();
        run_until_quiet();
        free(filler);
        if (failures)
            break;
        double secs = (double)(t_end - t_start) / 1e9;
        printf("%8zu B %10llu %14.0f %12.1f\n", (size_t)(frame_bytes / want),
               (unsigned long long)want, (double)want / secs, (double)frame_bytes / secs / 1e6);
    }
    if (!failures && handshakes > 0) {
        want = 0;
        handshakes_left = handshakes;
        handshakes_done = 0;
        uint64_t t0 = uv_hrtime();
        connect_one();
        while (handshakes_left > 0 && !failures && uv_run(&loop, UV_RUN_ONCE) != 0)
            ;
        /* Let the last server-side link finish closing. */
        while (sj_listener_count(listener) > 0 && uv_run(&loop, UV_RUN_ONCE) != 0)
            ;
        double secs = (double)(uv_hrtime() - t0) / 1e9;
        printf("\n%d sequential handshakes (connect, mutual TLS 1.3, identity check, close): "
               "%.0f handshakes/s\n",
               handshakes_done, handshakes_done / secs);
    }
    sj_listener_close(listener, listener_closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    sj_tls_ctx_free(sctx);
    sj_tls_ctx_free(cctx);
    run("rm -rf %s", dir);
    return failures ? 1 : 0;
}
