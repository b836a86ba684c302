/*
 * conn.c - one Sanji link: TLS engine + frame decoder + Envelope codec
 * driven from libuv read/write/timer callbacks.  See conn.h.
 *
 * States: NEW (handle initialised) -> HANDSHAKE (reading, timer armed) ->
 * READY (messages flow) -> CLOSING (close_notify queued, write side shut
 * down, draining the peer until EOF or linger) -> CLOSED (handles closed,
 * on_close called).  One uv_timer_t serves the handshake timeout, the idle
 * timeout and the linger, since a link is only ever in one of them.
 *
 * Entry points: sj_conn_new(), sj_conn_start(), sj_conn_send(),
 * sj_conn_send_payload(), sj_conn_close(), sj_conn_free() and accessors.
 */
#include "conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "frame.h"
#include "i18n.h"
#include "log.h"
#include "metrics.h"
#include "refusal.h"

enum { ST_NEW, ST_HANDSHAKE, ST_READY, ST_CLOSING, ST_CLOSED };

struct sj_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_idle_t idle; /* runs flush() once a loop turn while frames wait */
    uv_shutdown_t shut;
    sj_tls *tls;
    const sj_conn_callbacks *cb;
    void *owner;
    void *data;
    const char *self_node; /* owned by the TLS context; NULL without a cert */
    sj_error *why;         /* allocated only when closing */
    sj_frame_decoder dec;
    sj_conn_options opt;
    int status;
    uint32_t level; /* protocol level agreed with the peer (envelope.h) */
    uint8_t state;
    uint8_t handles_open;
    bool reading;
    bool blocked;
    bool shut_done;
    bool eof_seen;
    bool flush_due; /* frames sent this turn wait in the engine for idle */
    uint64_t bytes_queued;  /* ciphertext handed to the socket, ever */
    uint64_t bytes_written; /* of those, writes completed */
};

/* A queued ciphertext write; the bytes follow the request. */
typedef struct wreq {
    uv_write_t req;
    size_t len;
    uint8_t data[];
} wreq;

/* Plaintext read buffer shared by every link of the thread: the engine
 * copies what it is fed, and frames are delivered before the next read. */
#define PLAIN_BUF 16384
static _Thread_local uint8_t plain_buf[PLAIN_BUF];
static _Thread_local uint8_t cipher_buf[65536];
/* Why the last frame was refused (filled by on_frame). */
static _Thread_local sj_error frame_err;

/* Heap given back after handshake bursts.  A handshake allocates tens of
 * KiB for a moment (record buffers, certificates, key exchange) between the
 * small blocks that a link keeps for its life, so after thousands of
 * stations reconnected the heap is left with free holes that stay
 * resident: about 2 KiB per session on a relay (measured with sanji-bench
 * idle, docs/PERFORMANCE.md).  When no handshake of this thread is in
 * progress any more, at least TRIM_AFTER have ended since the last trim and
 * TRIM_EVERY_MS have passed, malloc_trim() returns the free pages. */
#define TRIM_AFTER 64
#define TRIM_EVERY_MS 1000
static _Thread_local unsigned handshaking;
static _Thread_local unsigned handshakes_ended;
static _Thread_local uint64_t last_trim_ms;

static void handshake_ended(uv_loop_t *loop)
{
    handshaking--;
    handshakes_ended++;
    if (handshaking > 0 || handshakes_ended < TRIM_AFTER)
        return;
    uint64_t now = uv_now(loop);
    if (last_trim_ms != 0 && now - last_trim_ms < TRIM_EVERY_MS)
        return;
    last_trim_ms = now;
    handshakes_ended = 0;
#ifdef __GLIBC__
    (void)malloc_trim(0);
#endif
}

sj_conn_options sj_conn_options_default(void)
{
    sj_conn_options o = {
        .max_frame = SJ_FRAME_DEFAULT_MAX,
        .handshake_timeout_ms = 10000,
        .idle_timeout_ms = 0,
        .write_high_water = 1u << 20,
        .write_low_water = 256u << 10,
        .linger_ms = 2000,
    };
    return o;
}

static void pump(sj_conn *c);
static void start_reading(sj_conn *c);
static void stop_reading(sj_conn *c);
static void begin_close(sj_conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- teardown ------------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *h)
{
    sj_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    c->state = ST_CLOSED;
    sj_frame_decoder_release(&c->dec);
    sj_error fallback;
    const sj_error *why = c->why;
    if (why == NULL) {
        sj_error_set(&fallback, c->status, NULL);
        why = &fallback;
    }
    /* Last thing: the owner may free c here. */
    c->cb->on_close(c, c->status, why);
}

static void hard_close(sj_conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&c->idle))
        uv_close((uv_handle_t *)&c->idle, on_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    sj_conn *c = req->data;
    c->shut_done = true;
    /* Keep reading until the peer's EOF so that unread input does not
     * turn our close into a reset that could destroy the Goodbye and
     * close_notify we just sent; linger bounds the wait. */
    if (status < 0 || c->eof_seen)
        hard_close(c);
}

/* ---- writing ------------------------------------------------------------- */

static void on_write(uv_write_t *req, int status)
{
    sj_conn *c = req->handle->data;
    size_t len = ((wreq *)req)->len;
    free(req);
    if (c->state >= ST_CLOSING) {
        if (status == 0)
            c->bytes_written += len;
        if (status < 0 && status != UV_ECANCELED)
            hard_close(c);
        return;
    }
    if (status < 0) {
        begin_close(c, status == UV_ECONNRESET || status == UV_EPIPE ? SJ_EPEER_RESET : SJ_EIO,
                    "write failed: %s", uv_strerror(status));
        return;
    }
    c->bytes_written += len;
    if (c->cb->on_written != NULL)
        c->cb->on_written(c);
    if (c->state >= ST_CLOSING)
        return; /* on_written closed the link */
    if (c->blocked && c->tcp.write_queue_size <= c->opt.write_low_water) {
        c->blocked = false;
        start_reading(c);
        if (c->state == ST_READY && c->cb->on_drain != NULL)
            c->cb->on_drain(c);
    }
}

/* Sends everything the engine has for the network: our frames and what
 * OpenSSL wrote on its own in answer to the peer (KeyUpdate, alerts), so
 * both go through one queue with one bound.  Past write_high_water the
 * link blocks: sends are refused and reading stops.  A peer that makes us
 * write without reading (a flood of KeyUpdate requests) therefore grows
 * the queue by at most what one read brought in beyond the mark; then it
 * is not read any more, and the idle timeout ends the link. */
static int flush(sj_conn *c)
{
    if (c->flush_due) {
        c->flush_due = false;
        uv_idle_stop(&c->idle);
    }
    size_t n;
    while ((n = sj_tls_pending(c->tls)) > 0) {
        wreq *w = malloc(sizeof(*w) + n);
        if (w == NULL)
            return SJ_ENOMEM;
        size_t got = 0;
        sj_tls_take(c->tls, w->data, n, &got);
        if (got == 0) {
            free(w);
            break;
        }
        w->len = got;
        uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)got);
        int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
        if (rc < 0) {
            free(w);
            return SJ_EIO;
        }
        c->bytes_queued += got;
    }
    if (c->state < ST_CLOSING && c->tcp.write_queue_size > c->opt.write_high_water) {
        c->blocked = true;
        stop_reading(c);
    }
    return 0;
}

/* The frames sent during one loop turn go to the socket together, in one
 * write: a relay forwarding a committed batch, or pumping a feed, sends
 * many frames to one link in a turn, and a write system call a frame (on
 * loopback the whole TCP path, both ends) was the largest part of its
 * processor time after SQLite.  The idle handle keeps the loop from
 * waiting for input while frames wait, so none is held back. */
static void on_idle(uv_idle_t *h)
{
    sj_conn *c = h->data;
    if (flush(c) != 0)
        begin_close(c, SJ_ENOMEM, "cannot queue what was sent");
}

/* ---- reading ------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    *buf = uv_buf_init((char *)cipher_buf, sizeof(cipher_buf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void start_reading(sj_conn *c)
{
    if (c->reading)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read) == 0)
        c->reading = true;
}

static void stop_reading(sj_conn *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static void on_timer(uv_timer_t *t);

static void arm_timer(sj_conn *c, uint64_t ms)
{
    if (ms == 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void begin_close(sj_conn *c, int status, const char *fmt, ...)
{
    if (c->state >= ST_CLOSING)
        return;
    int prev = c->state;
    c->state = ST_CLOSING;
    if (prev == ST_HANDSHAKE)
        handshake_ended(c->tcp.loop);
    c->status = status;
    c->why = malloc(sizeof(*c->why));
    if (c->why != NULL) {
        va_list ap;
        va_start(ap, fmt);
        sj_error_setv(c->why, status, fmt, ap);
        va_end(ap);
    }
    if (prev == ST_NEW) {
        hard_close(c);
        return;
    }
    if (prev == ST_READY)
        sj_tls_shutdown(c->tls);
    /* After a refusal the engine holds the alert that tells the peer why. */
    if (flush(c) != 0) {
        hard_close(c);
        return;
    }
    start_reading(c); /* drain (see on_shutdown), even if it was blocked */
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        hard_close(c);
        return;
    }
    arm_timer(c, c->opt.linger_ms ? c->opt.linger_ms : 1);
}

static void on_timer(uv_timer_t *t)
{
    sj_conn *c = t->data;
    switch (c->state) {
    case ST_HANDSHAKE:
        sj_metrics_tls_failure(SJ_ETIMEOUT);
        begin_close(c, SJ_ETIMEOUT, "TLS handshake not finished after %llu ms",
                    (unsigned long long)c->opt.handshake_timeout_ms);
        break;
    case ST_READY:
        {
            /* Say which side stalled: a peer that stopped reading (our
             * writes are held back) is a different fault from a silent one. */
            char msg[128];
            if (c->blocked)
                snprintf(msg, sizeof(msg),
                         "the peer read nothing for %llu ms (%zu bytes waiting for it)",
                         (unsigned long long)c->opt.idle_timeout_ms, (size_t)c->tcp.write_queue_size);
            else
                snprintf(msg, sizeof(msg), "nothing received from the peer for %llu ms",
                         (unsigned long long)c->opt.idle_timeout_ms);
            sj_conn_close(c, SJ_EIDLE, msg); /* with a Goodbye: the peer learns why */
        }
        break;
    default:
        hard_close(c); /* linger over */
        break;
    }
}

static int on_frame(void *arg, const uint8_t *payload, size_t len)
{
    sj_conn *c = arg;
    if (c->state != ST_READY)
        return SJ_ECANCELLED;
    Sanji__Envelope *env;
    int rc = sj_envelope_unpack(payload, len, &env, &frame_err);
    if (rc != 0)
        return rc;
    if (env->body_case == SANJI__ENVELOPE__BODY_GOODBYE) {
        int code = env->goodbye->code;
        /* A peer's code is only trusted when it is one of ours and a failure. */
        if (code >= 0 || strcmp(sj_err_name(code), "UNKNOWN") == 0)
            code = SJ_ECLOSED;
        begin_close(c, code, "peer said goodbye: %s (%s)", env->goodbye->reason,
                    sj_err_name(env->goodbye->code));
        sj_envelope_free(env);
        return SJ_ECANCELLED;
    }
    if (c->cb->on_message != NULL)
        c->cb->on_message(c, env, payload, len);
    sj_envelope_free(env);
    return c->state == ST_READY ? 0 : SJ_ECANCELLED;
}

static void pump(sj_conn *c)
{
    if (c->state == ST_HANDSHAKE) {
        sj_error err;
        sj_error_clear(&err);
        int rc = sj_tls_handshake(c->tls, &err);
        if (flush(c) != 0 && rc == SJ_EAGAIN)
            rc = SJ_ENOMEM;
        if (rc == SJ_EAGAIN)
            return;
        if (rc != 0) {
            sj_metrics_tls_failure(rc);
            begin_close(c, rc, "%s", err.message[0] ? err.message : sj_err_text(rc));
            return;
        }
        c->state = ST_READY;
        handshake_ended(c->tcp.loop);
        arm_timer(c, c->opt.idle_timeout_ms);
        if (c->cb->on_ready != NULL)
            c->cb->on_ready(c, sj_tls_peer(c->tls));
    }
    bool got_data = false;
    while (c->state == ST_READY) {
        size_t n = 0;
        int rc = sj_tls_read(c->tls, plain_buf, sizeof(plain_buf), &n);
        if (rc == SJ_EAGAIN)
            break;
        if (rc == 0) {
            got_data = true;
            sj_error_clear(&frame_err);
            rc = sj_frame_decoder_feed(&c->dec, plain_buf, n, on_frame, c);
            if (rc == 0 || c->state != ST_READY)
                continue;
            if (rc == SJ_EFRAME_TOO_LARGE)
                sj_conn_close(c, rc, "frame larger than the link maximum; refused before reading it");
            else if (rc == SJ_EFRAME_EMPTY)
                sj_conn_close(c, rc, "frame of length zero");
            else
                sj_conn_close(c, rc, frame_err.message[0] ? frame_err.message : sj_err_text(rc));
            break;
        }
        if (rc == SJ_ECLOSED) {
            if (sj_frame_decoder_in_frame(&c->dec))
                begin_close(c, SJ_EFRAME_TRUNCATED, "peer closed in the middle of a frame");
            else
                begin_close(c, SJ_ECLOSED, "peer closed the link");
            break;
        }
        const sj_error *e = sj_tls_last_error(c->tls);
        begin_close(c, rc, "%s", e && e->message[0] ? e->message : sj_err_text(rc));
        break;
    }
    /* Only application data shows the peer is alive: records that carry
     * none (KeyUpdate, empty records) must not keep a link open. */
    if (got_data && c->state == ST_READY && c->opt.idle_timeout_ms)
        arm_timer(c, c->opt.idle_timeout_ms);
    if (c->state == ST_READY && flush(c) != 0)
        begin_close(c, SJ_ENOMEM, "no memory to queue TLS data");
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    sj_conn *c = s->data;
    if (c->state >= ST_CLOSING) {
        if (nread < 0) {
            c->eof_seen = true;
            stop_reading(c);
            if (c->shut_done)
                hard_close(c);
        }
        return; /* draining: input after our close is dropped */
    }
    if (nread == 0)
        return;
    if (nread < 0) {
        stop_reading(c);
        c->eof_seen = true;
        if (nread != UV_EOF)
            begin_close(c, nread == UV_ECONNRESET ? SJ_EPEER_RESET : SJ_EIO, "read failed: %s",
                        uv_strerror((int)nread));
        else if (c->state == ST_HANDSHAKE)
            begin_close(c, SJ_ETLS_HANDSHAKE, "peer closed the connection during the TLS handshake");
        else if (sj_frame_decoder_in_frame(&c->dec))
            begin_close(c, SJ_EFRAME_TRUNCATED, "peer closed in the middle of a frame");
        else
            begin_close(c, SJ_EPEER_RESET, "peer closed the connection without TLS close_notify");
        return;
    }
    if (sj_tls_feed(c->tls, buf->base, (size_t)nread) != 0) {
        begin_close(c, SJ_ENOMEM, "no memory for %zd received bytes", nread);
        return;
    }
    pump(c);
}

/* ---- public -------------------------------------------------------------- */

sj_conn *sj_conn_new(uv_loop_t *loop, sj_tls_ctx *ctx, const char *expected_peer_node,
                     const sj_conn_options *opts, const sj_conn_callbacks *cbs, void *owner,
                     sj_error *err)
{
    if (loop == NULL || ctx == NULL || cbs == NULL || cbs->on_close == NULL) {
        sj_error_set(err, SJ_EINVAL, "sj_conn_new needs a loop, a TLS context and on_close");
        return NULL;
    }
    sj_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        sj_error_set(err, SJ_ENOMEM, "no memory for a connection");
        return NULL;
    }
    c->opt = opts ? *opts : sj_conn_options_default();
    if (c->opt.max_frame == 0)
        c->opt.max_frame = SJ_FRAME_DEFAULT_MAX;
    if (c->opt.write_low_water > c->opt.write_high_water)
        c->opt.write_low_water = c->opt.write_high_water;
    c->tls = sj_tls_new(ctx, expected_peer_node, err);
    if (c->tls == NULL) {
        free(c);
        return NULL;
    }
    int rc = uv_tcp_init(loop, &c->tcp);
    if (rc == 0)
        rc = uv_timer_init(loop, &c->timer);
    if (rc == 0)
        rc = uv_idle_init(loop, &c->idle);
    if (rc != 0) {
        /* uv_tcp_init cannot fail after allocation on Unix; the timer init
         * never fails.  Keep the check for other platforms. */
        sj_tls_free(c->tls);
        free(c);
        sj_error_set(err, SJ_EIO, "cannot initialise a TCP handle: %s", uv_strerror(rc));
        return NULL;
    }
    c->tcp.data = c;
    c->timer.data = c;
    c->idle.data = c;
    c->handles_open = 3;
    c->cb = cbs;
    c->owner = owner;
    const sj_identity *self = sj_tls_ctx_identity(ctx);
    c->self_node = self ? self->node_id : NULL;
    sj_frame_decoder_init(&c->dec, c->opt.max_frame);
    c->state = ST_NEW;
    c->level = SJ_PROTOCOL_LEVEL_MIN; /* until Hello or Welcome says more */
    return c;
}

uv_tcp_t *sj_conn_tcp(sj_conn *c)
{
    return &c->tcp;
}

int sj_conn_start(sj_conn *c)
{
    if (c->state != ST_NEW)
        return SJ_EINVAL;
    c->state = ST_HANDSHAKE;
    handshaking++;
    uv_tcp_nodelay(&c->tcp, 1);
    start_reading(c);
    if (!c->reading) {
        begin_close(c, SJ_EIO, "cannot read from the socket");
        return SJ_EIO;
    }
    arm_timer(c, c->opt.handshake_timeout_ms);
    pump(c); /* the client speaks first */
    return c->state >= ST_CLOSING ? c->status : 0;
}

/* Queues one plaintext frame (header included). */
static int write_plain(sj_conn *c, const uint8_t *frame, size_t len, sj_error *err)
{
    int rc = sj_tls_write(c->tls, frame, len);
    if (rc != 0) {
        const sj_error *e = sj_tls_last_error(c->tls);
        sj_error_set(err, rc, "%s", e && e->message[0] ? e->message : sj_err_text(rc));
        begin_close(c, rc, "%s", e && e->message[0] ? e->message : sj_err_text(rc));
        return rc;
    }
    /* Past the high-water mark at once (sends are then refused and reading
     * stops, as flush() says); below it at the end of the turn. */
    if ((size_t)c->tcp.write_queue_size + sj_tls_pending(c->tls) <= c->opt.write_high_water) {
        if (!c->flush_due) {
            c->flush_due = true;
            uv_idle_start(&c->idle, on_idle);
        }
        return 0;
    }
    rc = flush(c);
    if (rc != 0) {
        begin_close(c, rc, "cannot queue %zu bytes", len);
        return sj_error_set(err, rc, "cannot queue %zu bytes", len);
    }
    return 0;
}

static int can_send(const sj_conn *c, sj_error *err)
{
    if (c->state != ST_READY)
        return sj_error_set(err, SJ_ECLOSED, "link is not established (or closing)");
    if (c->blocked)
        return sj_error_set(err, SJ_EBACKPRESSURE,
                            "peer is not reading: %zu bytes waiting; wait for on_drain",
                            c->tcp.write_queue_size);
    return 0;
}

void sj_conn_set_level(sj_conn *c, uint32_t level)
{
    c->level = level;
}

uint32_t sj_conn_level(const sj_conn *c)
{
    return c->level;
}

/* SJ_EUNSUPPORTED when the peer's protocol level is below body's. */
static int check_level(const sj_conn *c, Sanji__Envelope__BodyCase body, sj_error *err)
{
    uint32_t need = sj_envelope_body_level(body);
    if (need <= c->level)
        return 0;
    return sj_error_set(err, SJ_EUNSUPPORTED,
                        "the peer speaks protocol level %u and this message needs level %u; it "
                        "is kept until the peer is upgraded",
                        c->level, need);
}

int sj_conn_send(sj_conn *c, const Sanji__Envelope *env, uint8_t id_out[SJ_ENVELOPE_ID_SIZE],
                 sj_error *err)
{
    int rc = can_send(c, err);
    if (rc == 0)
        rc = check_level(c, env->body_case, err);
    if (rc != 0)
        return rc;
    uint8_t stack[2048];
    size_t want = sj_envelope_packed_size(env, c->self_node);
    if (want <= sizeof(stack)) {
        long n = sj_envelope_pack_into(env, c->self_node, c->opt.max_frame, stack, sizeof(stack),
                                       id_out, err);
        if (n < 0)
            return (int)n;
        return write_plain(c, stack, (size_t)n, err);
    }
    uint8_t *frame;
    size_t len;
    rc = sj_envelope_pack(env, c->self_node, c->opt.max_frame, &frame, &len, id_out, err);
    if (rc != 0)
        return rc;
    rc = write_plain(c, frame, len, err);
    free(frame);
    return rc;
}

/* Whether payload may be sent now: the link is up and not blocked, an
 * older peer knows its message, it fits the link's frame limit. */
static int payload_check(sj_conn *c, const uint8_t *payload, size_t len, sj_error *err)
{
    int rc = can_send(c, err);
    if (rc != 0)
        return rc;
    if (c->level < SJ_PROTOCOL_LEVEL) {
        /* An older peer: only now is it worth decoding what is sent.  A
         * payload that does not decode is sent as before: the receiver
         * judges it. */
        Sanji__Envelope *e = sanji__envelope__unpack(NULL, len, payload);
        if (e != NULL) {
            rc = check_level(c, e->body_case, err);
            sanji__envelope__free_unpacked(e, NULL);
            if (rc != 0)
                return rc;
        }
    }
    rc = sj_frame_check_len(len, c->opt.max_frame);
    if (rc != 0)
        return sj_error_set(err, rc, "payload of %zu bytes; link maximum is %u", len,
                            c->opt.max_frame);
    return 0;
}

int sj_conn_send_payload(sj_conn *c, const uint8_t *payload, size_t len, sj_error *err)
{
    int rc = payload_check(c, payload, len, err);
    if (rc != 0)
        return rc;
    uint8_t *frame = malloc(SJ_FRAME_HEADER_SIZE + len);
    if (frame == NULL)
        return sj_error_set(err, SJ_ENOMEM, "no memory for a %zu-byte frame", len);
    sj_frame_header_put(frame, (uint32_t)len);
    memcpy(frame + SJ_FRAME_HEADER_SIZE, payload, len);
    rc = write_plain(c, frame, SJ_FRAME_HEADER_SIZE + len, err);
    free(frame);
    return rc;
}

void sj_conn_close(sj_conn *c, int status, const char *reason)
{
    if (c == NULL || c->state >= ST_CLOSING)
        return;
    if (reason == NULL)
        reason = status == 0 ? "closed by this node" : sj_err_text(status);
    if (c->state == ST_READY && status != 0) {
        Sanji__Goodbye bye = SANJI__GOODBYE__INIT;
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        bye.code = status;
        bye.reason = (char *)(uintptr_t)reason;
        env.body_case = SANJI__ENVELOPE__BODY_GOODBYE;
        env.goodbye = &bye;
        uint8_t buf[SJ_ERROR_MESSAGE_MAX + 256];
        long n = sj_envelope_pack_into(&env, c->self_node, c->opt.max_frame, buf, sizeof(buf), NULL,
                                       NULL);
        if (n > 0)
            (void)sj_tls_write(c->tls, buf, (size_t)n); /* best effort */
    }
    begin_close(c, status, "%s", reason);
}

void sj_conn_free(sj_conn *c)
{
    if (c == NULL)
        return;
    if (c->state != ST_CLOSED)
        abort(); /* caller bug: free only after on_close */
    sj_tls_free(c->tls);
    free(c->why);
    free(c);
}

const sj_identity *sj_conn_peer(const sj_conn *c)
{
    return c->state == ST_READY || c->state == ST_CLOSING ? sj_tls_peer(c->tls) : NULL;
}

bool sj_conn_established(const sj_conn *c)
{
    return c->state == ST_READY;
}

int sj_conn_peer_cert(const sj_conn *c, sj_tls_cert_info *out)
{
    if (c->state != ST_READY && c->state != ST_CLOSING) {
        memset(out, 0, sizeof *out);
        return SJ_EINVAL;
    }
    return sj_tls_peer_cert(c->tls, out);
}

void sj_conn_log_cut(sj_conn *conn, const sj_error *why, void *module)
{
    const sj_identity *peer = sj_conn_peer(conn);
    SJ_LOG_WARN((const char *)module,
                "链路已切断：对端证书不再有效 (link cut: the peer's certificate is no longer "
                "valid)",
                "peer", peer ? peer->node_id : "?", "code", sj_err_name(why->code), "why",
                why->message);
}

int sj_conn_recheck_peer(sj_conn *c, int64_t now, sj_error *err)
{
    if (c->state != ST_READY)
        return 0;
    sj_error e;
    int rc = sj_tls_recheck_peer(c->tls, now, &e);
    if (rc == 0)
        return 0;
    if (err != NULL)
        *err = e;
    /* The Goodbye is read by a person at the peer: the sentence through
     * gettext, the serial as a detail of its own (refusal.h). */
    sj_tls_cert_info ci;
    sj_tls_peer_cert(c->tls, &ci);
    char why[256], reason[SJ_ERROR_MESSAGE_MAX];
    snprintf(why, sizeof why, "%s" SJ_REFUSAL_JOIN "serial %s",
             rc == SJ_ETLS_REVOKED
                 ? N_("The county has revoked this computer's certificate; the link is closed. "
                      "Ask the county for a new certificate.")
                 : N_("This computer's certificate has expired; the link is closed. Ask the "
                      "county for a new certificate, or check the computer's clock."),
             ci.serial);
    sj_reason_format(why, reason, sizeof reason);
    sj_conn_close(c, rc, reason);
    return rc;
}

void sj_conn_set_data(sj_conn *c, void *data)
{
    c->data = data;
}

void *sj_conn_data(const sj_conn *c)
{
    return c->data;
}

void *sj_conn_owner(const sj_conn *c)
{
    return c->owner;
}

bool sj_conn_blocked(const sj_conn *c)
{
    return c->blocked;
}

uint64_t sj_conn_send_mark(const sj_conn *c)
{
    /* What waits in the engine for the turn's write counts as queued: it
     * goes to the socket before anything sent later. */
    return c->bytes_queued + sj_tls_pending(c->tls);
}

uint64_t sj_conn_written(const sj_conn *c)
{
    return c->bytes_written;
}

size_t sj_conn_queued_bytes(const sj_conn *c)
{
    return c->tcp.write_queue_size + sj_tls_pending(c->tls);
}

const sj_conn_options *sj_conn_options_of(const sj_conn *c)
{
    return &c->opt;
}

/* ---- a frame the caller built (no copy) ---------------------------------- */

int sj_conn_send_frame(sj_conn *c, uint8_t *frame, size_t len, sj_error *err)
{
    int rc = payload_check(c, frame + SJ_FRAME_HEADER_SIZE, len, err);
    if (rc != 0)
        return rc;
    sj_frame_header_put(frame, (uint32_t)len);
    return write_plain(c, frame, SJ_FRAME_HEADER_SIZE + len, err);
}

/* ---- taking a delivered envelope (conn.h) ---------------------------------- */

Sanji__Envelope *sj_conn_take_envelope(sj_conn *c, const Sanji__Envelope *env)
{
    if (c == NULL || env == NULL || c->state != ST_READY)
        return NULL; /* on_message is delivered only on a ready link */
    /* The envelope on_frame() delivers was unpacked on the heap by
     * sj_envelope_unpack() (envelope.c's allocator is malloc/free), and
     * on_frame() frees it with sj_envelope_free() after on_message.  Its
     * fields move to a new shell from the same allocator; the delivered
     * one is re-initialised to an empty Envelope, whose free then releases
     * only the shell (protobuf-c frees no field that holds its default). */
    Sanji__Envelope *own = malloc(sizeof(*own));
    if (own == NULL)
        return NULL;
    Sanji__Envelope *src = (Sanji__Envelope *)(uintptr_t)env;
    *own = *src;
    sanji__envelope__init(src);
    return own;
}
