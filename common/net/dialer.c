/*
 * dialer.c - reconnecting client link with exponential backoff and full
 * jitter over several upstream addresses; see dialer.h.
 *
 * One uv_timer_t serves both the backoff wait and the TCP connect timeout.
 * Every attempt, successful or not, ends in the link's on_close, which is
 * the one place that reports on_down and schedules the next attempt.
 *
 * Entry points: sj_dialer_new(), sj_dialer_start(), sj_dialer_stop(),
 * sj_dialer_free(), sj_dialer_conn(), sj_dialer_data(),
 * sj_dialer_attempts(), sj_dialer_options_default(), sj_dialer_backoff_ms().
 */
#include "dialer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sj_dialer {
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_connect_t connect;
    sj_tls_ctx *ctx;
    const sj_dialer_callbacks *cb;
    void *data;
    sj_dialer_options opt;
    struct sockaddr_storage *addrs;
    char **names;
    char *expected;
    sj_conn *conn;      /* the current attempt or link */
    bool up;            /* conn reached on_ready */
    bool heard;         /* the peer sent a message on conn: it accepted us */
    bool connecting;    /* TCP connect pending */
    bool started, stopping, timer_closed;
    unsigned failures;  /* consecutive failed attempts */
    unsigned attempts;
    size_t next_addr;
    uint64_t rng;
};

sj_dialer_options sj_dialer_options_default(void)
{
    sj_dialer_options o = {
        .backoff_base_ms = 500,
        .backoff_cap_ms = 60000,
        .lasting_backoff_ms = 600000,
        .connect_timeout_ms = 10000,
        .conn = sj_conn_options_default(),
    };
    return o;
}

uint64_t sj_dialer_backoff_ms(uint64_t base, uint64_t cap, unsigned failures)
{
    uint64_t v = base;
    for (unsigned i = 0; i < failures && v < cap; i++)
        v *= 2;
    return v < cap ? v : cap;
}

static uint64_t rng_next(sj_dialer *d)
{
    /* xorshift64*: jitter needs spread, not secrecy. */
    uint64_t x = d->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int parse_address(const char *s, struct sockaddr_storage *out)
{
    char host[64];
    const char *colon;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
            return -1;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
            return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    char *endp;
    long port = strtol(colon + 1, &endp, 10);
    if (*endp != '\0' || colon[1] == '\0' || port <= 0 || port > 65535)
        return -1;
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) == 0)
        return 0;
    if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)out) == 0)
        return 0;
    return -1;
}

static void attempt(sj_dialer *d);

static void on_timer(uv_timer_t *t)
{
    sj_dialer *d = t->data;
    if (d->connecting && d->conn != NULL) {
        sj_conn_close(d->conn, SJ_ECONNECT, "connect timed out");
        return;
    }
    if (!d->stopping && d->conn == NULL)
        attempt(d);
}

static void on_timer_closed(uv_handle_t *h)
{
    sj_dialer *d = h->data;
    d->timer_closed = true;
    if (d->conn == NULL && d->cb->on_stopped != NULL)
        d->cb->on_stopped(d);
}

static void t_ready(sj_conn *c, const sj_identity *peer)
{
    sj_dialer *d = sj_conn_owner(c);
    d->up = true;
    d->heard = false;
    if (d->cb->on_up != NULL)
        d->cb->on_up(d, c, peer);
}

static void t_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *payload, size_t len)
{
    sj_dialer *d = sj_conn_owner(c);
    /* In TLS 1.3 the client's handshake ends before the server has judged
     * the client's certificate, so on_ready proves nothing: a revoked
     * station is told so by an alert just after it.  Only the peer's first
     * message shows that it took the link. */
    if (!d->heard) {
        d->heard = true;
        d->failures = 0;
    }
    if (d->cb->on_message != NULL)
        d->cb->on_message(d, c, env, payload, len);
}

static void t_drain(sj_conn *c)
{
    sj_dialer *d = sj_conn_owner(c);
    if (d->cb->on_drain != NULL)
        d->cb->on_drain(d, c);
}

/* The wait before the next attempt after a link closed with status.  A
 * refusal that only a person can fix (a revoked or expired certificate, a
 * node outside the peer's scope: sj_err_is_lasting()) waits minutes, in
 * [lasting/2, lasting]: redialling at once would only load both ends and
 * fill the logs.  Otherwise full jitter as in dialer.h. */
static uint64_t next_wait(sj_dialer *d, int status, bool heard)
{
    if (sj_err_is_lasting(status) && d->opt.lasting_backoff_ms > 0) {
        uint64_t half = d->opt.lasting_backoff_ms / 2;
        return half + rng_next(d) % (d->opt.lasting_backoff_ms - half + 1);
    }
    uint64_t bound = sj_dialer_backoff_ms(d->opt.backoff_base_ms, d->opt.backoff_cap_ms,
                                          heard ? 0 : d->failures);
    return bound ? rng_next(d) % (bound + 1) : 0;
}

static void t_close(sj_conn *c, int status, const sj_error *why)
{
    sj_dialer *d = sj_conn_owner(c);
    bool heard = d->heard;
    d->conn = NULL;
    d->up = false;
    d->heard = false;
    d->connecting = false;
    uint64_t wait = UINT64_MAX;
    if (!d->stopping) {
        if (!heard)
            d->failures++;
        wait = next_wait(d, status, heard);
        uv_timer_start(&d->timer, on_timer, wait, 0);
    }
    if (d->cb->on_down != NULL)
        d->cb->on_down(d, status, why, wait);
    sj_conn_free(c);
    if (d->stopping && !uv_is_closing((uv_handle_t *)&d->timer))
        uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}

static const sj_conn_callbacks trampolines = {
    .on_ready = t_ready,
    .on_message = t_message,
    .on_drain = t_drain,
    .on_close = t_close,
};

static void on_connect(uv_connect_t *req, int status)
{
    sj_dialer *d = req->data;
    d->connecting = false;
    if (d->conn == NULL || status == UV_ECANCELED)
        return; /* closed meanwhile; on_close reports it */
    uv_timer_stop(&d->timer);
    if (status < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "无法连接上级 / cannot connect to %s: %s",
                 d->names[(d->next_addr + d->opt.n_addresses - 1) % d->opt.n_addresses],
                 uv_strerror(status));
        sj_conn_close(d->conn, SJ_ECONNECT, msg);
        return;
    }
    sj_conn_start(d->conn);
}

static void attempt(sj_dialer *d)
{
    sj_error err;
    size_t i = d->next_addr;
    d->next_addr = (d->next_addr + 1) % d->opt.n_addresses;
    d->attempts++;
    sj_conn *c = sj_conn_new(d->loop, d->ctx, d->expected, &d->opt.conn, &trampolines, d, &err);
    if (c == NULL) {
        /* Not a network failure, but retrying later is still the right
         * thing for a daemon (e.g. memory pressure). */
        d->failures++;
        uint64_t wait = sj_dialer_backoff_ms(d->opt.backoff_base_ms, d->opt.backoff_cap_ms,
                                             d->failures);
        uv_timer_start(&d->timer, on_timer, wait, 0);
        if (d->cb->on_down != NULL)
            d->cb->on_down(d, err.code, &err, wait);
        return;
    }
    sj_conn_set_data(c, d->data);
    d->conn = c;
    d->connect.data = d;
    int rc = uv_tcp_connect(&d->connect, sj_conn_tcp(c), (const struct sockaddr *)&d->addrs[i],
                            on_connect);
    if (rc != 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "无法连接上级 / cannot connect to %s: %s", d->names[i],
                 uv_strerror(rc));
        sj_conn_close(c, SJ_ECONNECT, msg);
        return;
    }
    d->connecting = true;
    if (d->opt.connect_timeout_ms)
        uv_timer_start(&d->timer, on_timer, d->opt.connect_timeout_ms, 0);
}

static void free_copies(sj_dialer *d)
{
    if (d->names != NULL)
        for (size_t i = 0; i < d->opt.n_addresses; i++)
            free(d->names[i]);
    free(d->names);
    free(d->addrs);
    free(d->expected);
}

sj_dialer *sj_dialer_new(uv_loop_t *loop, sj_tls_ctx *ctx, const sj_dialer_options *opts,
                         const sj_dialer_callbacks *cbs, void *data, sj_error *err)
{
    if (loop == NULL || ctx == NULL || opts == NULL || cbs == NULL || opts->n_addresses == 0) {
        sj_error_set(err, SJ_EINVAL, "sj_dialer_new needs a loop, a TLS context and addresses");
        return NULL;
    }
    sj_dialer *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        sj_error_set(err, SJ_ENOMEM, "no memory for a dialer");
        return NULL;
    }
    d->opt = *opts;
    d->opt.addresses = NULL;
    d->addrs = calloc(opts->n_addresses, sizeof(*d->addrs));
    d->names = calloc(opts->n_addresses, sizeof(*d->names));
    if (d->addrs == NULL || d->names == NULL)
        goto nomem;
    for (size_t i = 0; i < opts->n_addresses; i++) {
        if (opts->addresses[i] == NULL || parse_address(opts->addresses[i], &d->addrs[i]) != 0) {
            sj_error_set(err, SJ_EINVAL,
                         "上级地址无效 / upstream address \"%s\" is not IP:port or [IPv6]:port",
                         opts->addresses[i] ? opts->addresses[i] : "(null)");
            free_copies(d);
            free(d);
            return NULL;
        }
        d->names[i] = strdup(opts->addresses[i]);
        if (d->names[i] == NULL)
            goto nomem;
    }
    if (opts->expected_peer_node != NULL && (d->expected = strdup(opts->expected_peer_node)) == NULL)
        goto nomem;
    if (d->opt.backoff_cap_ms < d->opt.backoff_base_ms)
        d->opt.backoff_cap_ms = d->opt.backoff_base_ms;
    d->loop = loop;
    d->ctx = ctx;
    d->cb = cbs;
    d->data = data;
    d->rng = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)d;
    if (d->rng == 0)
        d->rng = 0x9E3779B97F4A7C15ULL;
    return d;
nomem:
    free_copies(d);
    free(d);
    sj_error_set(err, SJ_ENOMEM, "no memory for a dialer");
    return NULL;
}

int sj_dialer_start(sj_dialer *d)
{
    if (d->started)
        return SJ_EINVAL;
    uv_timer_init(d->loop, &d->timer);
    d->timer.data = d;
    d->started = true;
    attempt(d);
    return 0;
}

void sj_dialer_stop(sj_dialer *d)
{
    if (!d->started || d->stopping)
        return;
    d->stopping = true;
    uv_timer_stop(&d->timer);
    if (d->conn != NULL)
        sj_conn_close(d->conn, SJ_ECANCELLED, "dialer stopped"); /* t_close closes the timer */
    else
        uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}

void sj_dialer_free(sj_dialer *d)
{
    if (d == NULL)
        return;
    if (d->started && !d->timer_closed)
        abort(); /* caller bug: stop and wait for on_stopped */
    free_copies(d);
    free(d);
}

sj_conn *sj_dialer_conn(const sj_dialer *d)
{
    return d->up ? d->conn : NULL;
}

void *sj_dialer_data(const sj_dialer *d)
{
    return d->data;
}

unsigned sj_dialer_attempts(const sj_dialer *d)
{
    return d->attempts;
}
