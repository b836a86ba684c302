/*
 * faultproxy.c - the link-fault proxy of the chaos tests: byte relay between
 * two loopback ports with pass / delay / blackhole / refuse modes, a
 * bandwidth limit, RST on demand, and a line-protocol control port
 * (faultproxy.h has the contract).
 *
 * Each accepted connection is a "pair": the client handle, the target
 * handle, and two directions (up: client -> target, down: target ->
 * client).  Every chunk read from a direction's source goes into that
 * direction's FIFO with a due time (now + the current delay); flush()
 * writes the due chunks in order, so a delay change never reorders bytes.
 * A direction stops reading while it holds max_buffer bytes or more, and in
 * blackhole mode.
 *
 * Entry points: sj_faultproxy_start(), sj_faultproxy_command(),
 * sj_faultproxy_close().
 */
#include "faultproxy.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#define MOD "faultproxy"

typedef enum fp_mode { FP_PASS, FP_DELAY, FP_BLACKHOLE, FP_REFUSE } fp_mode;

static const char *const mode_names[] = {"pass", "delay", "blackhole", "refuse"};

typedef struct fp_chunk {
    struct fp_chunk *next;
    struct fp_dir *dir;
    uint64_t due_ms;
    size_t len;
    uv_write_t req;
    char data[];
} fp_chunk;

typedef struct fp_dir {
    struct fp_pair *pair;
    uv_stream_t *src, *dst;
    fp_chunk *head, *tail;   /* read, not yet handed to uv_write */
    size_t held;             /* bytes queued + bytes in writes not yet completed */
    uint64_t bytes;          /* written on successfully */
    bool reading;
    bool eof;                /* the source sent FIN */
    bool shut;               /* uv_shutdown() issued on dst */
    bool shut_done;
    double wire_free_ms;     /* rate: when the link has sent what it was given */
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
} fp_dir;

/* PAIR_NEW: accepted, not yet connected upstream nor held. */
typedef enum fp_pair_state {
    PAIR_NEW,
    PAIR_HELD,
    PAIR_CONNECTING,
    PAIR_OPEN,
    PAIR_CLOSING
} fp_pair_state;

typedef struct fp_pair {
    struct sj_faultproxy *fp;
    struct fp_pair *prev, *next;
    uint64_t id;
    fp_pair_state state;
    int handles;              /* initialised handles not yet closed */
    bool target_init;
    uv_tcp_t client, target;
    uv_connect_t connect_req;
    fp_dir up, down;
    char peer[64];
} fp_pair;

typedef struct fp_ctl {
    struct sj_faultproxy *fp;
    struct fp_ctl *prev, *next;
    uv_tcp_t tcp;
    bool closing;
    size_t len;
    char line[SJ_FAULTPROXY_LINE_MAX + 2];
} fp_ctl;

typedef struct fp_reply {
    uv_write_t req;
    size_t len;
    char text[SJ_FAULTPROXY_REPLY_MAX + 1];
} fp_reply;

struct sj_faultproxy {
    uv_loop_t *loop;
    uv_tcp_t listener, control;
    bool control_init;
    bool closing;
    int handles;              /* listener, control, control connections */
    int live_pairs;           /* pairs not yet freed (including closing ones) */
    fp_pair *pairs;           /* pairs not closing */
    fp_ctl *ctls;
    int target_port;
    struct sockaddr_in target; /* target_host:target_port */
    size_t max_buffer;
    fp_mode mode;
    uint64_t delay_ms;
    uint64_t rate_kbit;       /* the link's bandwidth each way, kbit/s (0: unlimited) */
    uint64_t next_id;
    uint64_t conns, conns_total, held, refused, resets;
    uint64_t bytes_up, bytes_down;
    uint64_t buffered, buffered_peak;
};

static void pair_close(fp_pair *p, bool reset, const char *why);
static void dir_flush(fp_dir *d);

static void u64s(char *buf, size_t cap, uint64_t v)
{
    snprintf(buf, cap, "%" PRIu64, v);
}

/* ---- freeing ------------------------------------------------------------ */

static void fp_maybe_free(sj_faultproxy *fp)
{
    if (fp->closing && fp->handles == 0 && fp->live_pairs == 0)
        free(fp);
}

static void fp_handle_closed(uv_handle_t *h)
{
    sj_faultproxy *fp = h->data;
    fp->handles--;
    fp_maybe_free(fp);
}

static void dir_free_queue(fp_dir *d)
{
    while (d->head != NULL) {
        fp_chunk *c = d->head;
        d->head = c->next;
        d->held -= c->len;
        d->pair->fp->buffered -= c->len;
        free(c);
    }
    d->tail = NULL;
}

static void pair_release(fp_pair *p)
{
    if (--p->handles > 0)
        return;
    /* Every write and shutdown callback has run (libuv cancels them before
     * the close callback), so only the queued chunks are left. */
    dir_free_queue(&p->up);
    dir_free_queue(&p->down);
    sj_faultproxy *fp = p->fp;
    fp->live_pairs--;
    free(p);
    fp_maybe_free(fp);
}

/* Close callback of the two TCP handles (data: the pair). */
static void pair_handle_closed(uv_handle_t *h)
{
    pair_release(h->data);
}

/* Close callback of the two timers (data: their direction). */
static void pair_timer_closed(uv_handle_t *h)
{
    pair_release(((fp_dir *)h->data)->pair);
}

/* ---- reading and backpressure ------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    fp_chunk *c = malloc(sizeof(*c) + SJ_FAULTPROXY_READ_SIZE);
    if (c == NULL) {
        *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS to on_read */
        return;
    }
    *buf = uv_buf_init(c->data, SJ_FAULTPROXY_READ_SIZE);
}

static fp_dir *dir_of_source(fp_pair *p, uv_stream_t *s)
{
    return s == (uv_stream_t *)&p->client ? &p->up : &p->down;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* Starts or stops reading the source so that the direction holds at most
 * max_buffer bytes (plus one read) and nothing is read in blackhole mode. */
static void dir_update_reading(fp_dir *d)
{
    fp_pair *p = d->pair;
    bool want = p->state == PAIR_OPEN && p->fp->mode != FP_BLACKHOLE && !d->eof &&
                d->held < p->fp->max_buffer;
    if (want && !d->reading) {
        int rc = uv_read_start(d->src, on_alloc, on_read);
        if (rc < 0) {
            SJ_LOG_WARN(MOD, "cannot read", "why", uv_strerror(rc));
            pair_close(p, true, "read-start-failed");
            return;
        }
        d->reading = true;
    } else if (!want && d->reading) {
        uv_read_stop(d->src);
        d->reading = false;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    fp_pair *p = s->data;
    fp_dir *d = dir_of_source(p, s);
    fp_chunk *c = buf->base ? (fp_chunk *)(buf->base - offsetof(fp_chunk, data)) : NULL;
    if (nread <= 0) {
        free(c);
        if (nread == 0)
            return;
        if (nread == UV_EOF) {
            d->eof = true;
            dir_update_reading(d);
            dir_flush(d); /* sends the FIN on once the queue is empty */
            return;
        }
        /* A reset or error on one side is passed on as a reset of the
         * other, as a real link would show it. */
        pair_close(p, true, uv_err_name((int)nread));
        return;
    }
    /* Shrink to what was read: the cap counts bytes, so a flood of tiny
     * chunks must not pin 64 KiB each. */
    fp_chunk *small = realloc(c, sizeof(*c) + (size_t)nread);
    if (small != NULL)
        c = small;
    sj_faultproxy *fp = p->fp;
    c->next = NULL;
    c->dir = d;
    c->len = (size_t)nread;
    uint64_t now = uv_now(fp->loop), delay = fp->mode == FP_DELAY ? fp->delay_ms : 0;
    if (fp->rate_kbit > 0) {
        /* A link of rate_kbit: the chunk is on the far side once the link
         * has sent everything before it and then it (1 kbit/s is one bit
         * per millisecond), plus the delay. */
        double start = d->wire_free_ms > (double)now ? d->wire_free_ms : (double)now;
        d->wire_free_ms = start + (double)c->len * 8.0 / (double)fp->rate_kbit;
        c->due_ms = (uint64_t)(d->wire_free_ms + 0.999) + delay;
    } else {
        c->due_ms = now + delay;
    }
    if (d->tail != NULL)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    d->held += c->len;
    fp->buffered += c->len;
    if (fp->buffered > fp->buffered_peak)
        fp->buffered_peak = fp->buffered;
    dir_flush(d);
    if (p->state == PAIR_OPEN)
        dir_update_reading(d);
}

/* ---- writing ------------------------------------------------------------ */

static void on_shutdown(uv_shutdown_t *req, int status)
{
    fp_dir *d = req->data;
    fp_pair *p = d->pair;
    if (status == UV_ECANCELED || p->state == PAIR_CLOSING)
        return;
    if (status < 0) {
        pair_close(p, true, uv_err_name(status));
        return;
    }
    d->shut_done = true;
    fp_dir *other = d == &p->up ? &p->down : &p->up;
    if (other->shut_done)
        pair_close(p, false, "eof");
}

static void on_written(uv_write_t *req, int status)
{
    fp_chunk *c = req->data;
    fp_dir *d = c->dir;
    fp_pair *p = d->pair;
    sj_faultproxy *fp = p->fp;
    d->held -= c->len;
    fp->buffered -= c->len;
    if (status == 0) {
        d->bytes += c->len;
        if (d == &p->up)
            fp->bytes_up += c->len;
        else
            fp->bytes_down += c->len;
    }
    free(c);
    if (status == UV_ECANCELED || p->state == PAIR_CLOSING)
        return;
    if (status < 0) {
        pair_close(p, true, uv_err_name(status));
        return;
    }
    dir_update_reading(d);
    dir_flush(d);
}

static void on_timer(uv_timer_t *t)
{
    dir_flush(t->data);
}

/* Writes every chunk that is due, in order; arms the timer for the next. */
static void dir_flush(fp_dir *d)
{
    fp_pair *p = d->pair;
    sj_faultproxy *fp = p->fp;
    if (p->state != PAIR_OPEN || fp->mode == FP_BLACKHOLE)
        return;
    uint64_t now = uv_now(fp->loop);
    while (d->head != NULL && d->head->due_ms <= now) {
        fp_chunk *c = d->head;
        d->head = c->next;
        if (d->head == NULL)
            d->tail = NULL;
        c->req.data = c;
        uv_buf_t b = uv_buf_init(c->data, (unsigned int)c->len);
        int rc = uv_write(&c->req, d->dst, &b, 1, on_written);
        if (rc < 0) {
            d->held -= c->len;
            fp->buffered -= c->len;
            free(c);
            pair_close(p, true, uv_err_name(rc));
            return;
        }
    }
    if (d->head != NULL) {
        uv_timer_start(&d->timer, on_timer, d->head->due_ms - now, 0);
    } else if (d->eof && !d->shut) {
        /* libuv runs the shutdown after the writes already queued. */
        d->shut = true;
        d->shutdown_req.data = d;
        int rc = uv_shutdown(&d->shutdown_req, d->dst, on_shutdown);
        if (rc < 0)
            pair_close(p, true, uv_err_name(rc));
    }
}

/* ---- connections ---------------------------------------------------------- */

static void pair_log_close(fp_pair *p, const char *why)
{
    char id[24], up[24], down[24];
    u64s(id, sizeof id, p->id);
    u64s(up, sizeof up, p->up.bytes);
    u64s(down, sizeof down, p->down.bytes);
    SJ_LOG_INFO(MOD, "close", "conn", id, "peer", p->peer, "why", why, "bytes_up", up,
                "bytes_down", down);
}

static void close_tcp(uv_tcp_t *t, bool reset, uv_close_cb cb)
{
    if (reset) {
        /* SO_LINGER 0 makes close() send an RST.  Done by hand rather than
         * uv_tcp_close_reset(), which refuses a handle that is shutting
         * down. */
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)t, &fd) == 0) {
            struct linger l = {.l_onoff = 1, .l_linger = 0};
            (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
    }
    uv_close((uv_handle_t *)t, cb);
}

static void pair_unlink(fp_pair *p)
{
    sj_faultproxy *fp = p->fp;
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        fp->pairs = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void pair_close(fp_pair *p, bool reset, const char *why)
{
    if (p->state == PAIR_CLOSING)
        return;
    sj_faultproxy *fp = p->fp;
    if (p->state == PAIR_HELD)
        fp->held--;
    p->state = PAIR_CLOSING;
    fp->conns--;
    pair_unlink(p);
    pair_log_close(p, why);
    close_tcp(&p->client, reset, pair_handle_closed);
    if (p->target_init)
        close_tcp(&p->target, reset, pair_handle_closed);
    uv_close((uv_handle_t *)&p->up.timer, pair_timer_closed);
    uv_close((uv_handle_t *)&p->down.timer, pair_timer_closed);
}

static void on_connect(uv_connect_t *req, int status)
{
    fp_pair *p = req->data;
    if (status == UV_ECANCELED || p->state == PAIR_CLOSING)
        return;
    if (status < 0) {
        /* The target is down: the client sees an RST, as it would if it
         * had dialled the target itself. */
        pair_close(p, true, uv_err_name(status));
        return;
    }
    p->state = PAIR_OPEN;
    char id[24];
    u64s(id, sizeof id, p->id);
    SJ_LOG_INFO(MOD, "connect", "conn", id, "peer", p->peer);
    dir_update_reading(&p->up);
    if (p->state == PAIR_OPEN)
        dir_update_reading(&p->down);
    if (p->state == PAIR_OPEN)
        dir_flush(&p->up);
}

static void pair_connect(fp_pair *p)
{
    sj_faultproxy *fp = p->fp;
    if (p->state == PAIR_HELD)
        fp->held--;
    p->state = PAIR_CONNECTING;
    int rc = uv_tcp_init(fp->loop, &p->target);
    if (rc < 0) {
        pair_close(p, true, uv_err_name(rc));
        return;
    }
    p->target_init = true;
    p->handles++;
    p->target.data = p;
    p->connect_req.data = p;
    rc = uv_tcp_connect(&p->connect_req, &p->target, (const struct sockaddr *)&fp->target,
                        on_connect);
    if (rc < 0)
        pair_close(p, true, uv_err_name(rc));
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void free_pair_data(uv_handle_t *h)
{
    free(h->data);
}

static void on_accept(uv_stream_t *server, int status)
{
    sj_faultproxy *fp = server->data;
    if (status < 0) {
        SJ_LOG_WARN(MOD, "accept failed", "why", uv_strerror(status));
        return;
    }
    if (fp->mode == FP_REFUSE) {
        uv_tcp_t *t = malloc(sizeof *t);
        if (t == NULL || uv_tcp_init(fp->loop, t) < 0) {
            free(t);
            return;
        }
        if (uv_accept(server, (uv_stream_t *)t) == 0) {
            fp->refused++;
            SJ_LOG_INFO(MOD, "refused");
        }
        uv_close((uv_handle_t *)t, free_handle);
        return;
    }
    fp_pair *p = calloc(1, sizeof *p);
    if (p == NULL) {
        SJ_LOG_WARN(MOD, "accept failed", "why", "out of memory");
        return;
    }
    p->fp = fp;
    if (uv_tcp_init(fp->loop, &p->client) < 0) {
        free(p);
        return;
    }
    p->client.data = p;
    if (uv_accept(server, (uv_stream_t *)&p->client) < 0) {
        uv_close((uv_handle_t *)&p->client, free_pair_data);
        return;
    }
    p->up.pair = p->down.pair = p;
    p->up.src = p->down.dst = (uv_stream_t *)&p->client;
    p->up.dst = p->down.src = (uv_stream_t *)&p->target;
    uv_timer_init(fp->loop, &p->up.timer);
    uv_timer_init(fp->loop, &p->down.timer);
    p->up.timer.data = &p->up;
    p->down.timer.data = &p->down;
    p->handles = 3;
    p->id = ++fp->next_id;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    snprintf(p->peer, sizeof p->peer, "?");
    if (uv_tcp_getpeername(&p->client, (struct sockaddr *)&ss, &len) == 0 &&
        ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
        char ip[32];
        uv_ip4_name(sin, ip, sizeof ip);
        snprintf(p->peer, sizeof p->peer, "%s:%d", ip, ntohs(sin->sin_port));
    }
    p->next = fp->pairs;
    if (fp->pairs != NULL)
        fp->pairs->prev = p;
    fp->pairs = p;
    fp->live_pairs++;
    fp->conns++;
    fp->conns_total++;
    if (fp->mode == FP_BLACKHOLE) {
        char id[24];
        u64s(id, sizeof id, p->id);
        p->state = PAIR_HELD;
        fp->held++;
        SJ_LOG_INFO(MOD, "held", "conn", id, "peer", p->peer);
        return;
    }
    pair_connect(p);
}

/* ---- commands ----------------------------------------------------------- */

static void mode_reply(sj_faultproxy *fp, char *reply, size_t cap)
{
    snprintf(reply, cap, "ok mode=%s delay_ms=%" PRIu64, mode_names[fp->mode], fp->delay_ms);
}

/* Applies a mode to every connection: held connections are connected once
 * the mode lets bytes through; reading and flushing follow the new mode. */
static void set_mode(sj_faultproxy *fp, fp_mode mode, uint64_t delay_ms)
{
    fp_mode old = fp->mode;
    fp->mode = mode;
    fp->delay_ms = mode == FP_DELAY ? delay_ms : 0;
    char d[24];
    u64s(d, sizeof d, fp->delay_ms);
    SJ_LOG_INFO(MOD, "mode change", "from", mode_names[old], "to", mode_names[mode], "delay_ms", d);
    fp_pair *next;
    for (fp_pair *p = fp->pairs; p != NULL; p = next) {
        next = p->next; /* p may close below */
        if (p->state == PAIR_HELD) {
            if (mode != FP_BLACKHOLE)
                pair_connect(p);
            continue;
        }
        if (p->state != PAIR_OPEN)
            continue;
        dir_update_reading(&p->up);
        if (p->state == PAIR_OPEN)
            dir_update_reading(&p->down);
        if (p->state == PAIR_OPEN)
            dir_flush(&p->up);
        if (p->state == PAIR_OPEN)
            dir_flush(&p->down);
    }
}

static int reply_error(char *reply, size_t cap, const char *fmt, const char *arg)
{
    char why[SJ_FAULTPROXY_REPLY_MAX];
    snprintf(why, sizeof why, fmt, arg);
    snprintf(reply, cap, "error %.500s", why);
    return SJ_EINVAL;
}

static bool parse_ms(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    uint64_t v = 0;
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > 3600u * 1000u) /* an hour is more than any test waits */
            return false;
    }
    *out = v;
    return true;
}

int sj_faultproxy_command(sj_faultproxy *fp, const char *line, char *reply, size_t cap)
{
    if (fp == NULL || line == NULL || reply == NULL || cap == 0)
        abort(); /* a caller's bug */
    char buf[SJ_FAULTPROXY_LINE_MAX + 1];
    if (strlen(line) > SJ_FAULTPROXY_LINE_MAX)
        return reply_error(reply, cap, "%s", "line too long");
    snprintf(buf, sizeof buf, "%s", line);
    char *words[3] = {NULL, NULL, NULL};
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t\r", &save); w != NULL; w = strtok_r(NULL, " \t\r", &save)) {
        if (n == 3)
            return reply_error(reply, cap, "%s", "too many words");
        words[n++] = w;
    }
    if (n == 0)
        return reply_error(reply, cap, "%s",
                           "empty command; use pass, delay MS, blackhole, refuse, rate KBIT, reset or status");
    const char *cmd = words[0];
    bool one_word = n == 1;
    if (strcmp(cmd, "pass") == 0 && one_word) {
        set_mode(fp, FP_PASS, 0);
    } else if (strcmp(cmd, "blackhole") == 0 && one_word) {
        set_mode(fp, FP_BLACKHOLE, 0);
    } else if (strcmp(cmd, "refuse") == 0 && one_word) {
        set_mode(fp, FP_REFUSE, 0);
    } else if (strcmp(cmd, "delay") == 0) {
        uint64_t ms;
        if (n != 2 || !parse_ms(words[1], &ms))
            return reply_error(reply, cap, "%s",
                               "delay needs one whole number of milliseconds (0..3600000)");
        set_mode(fp, FP_DELAY, ms);
    } else if (strcmp(cmd, "rate") == 0) {
        uint64_t kbit;
        if (n != 2 || !parse_ms(words[1], &kbit))
            return reply_error(reply, cap, "%s",
                               "rate needs the link's bandwidth in kbit/s (0: unlimited)");
        fp->rate_kbit = kbit;
        char k[24];
        u64s(k, sizeof k, kbit);
        SJ_LOG_INFO(MOD, "rate change", "kbit_per_s", k);
        snprintf(reply, cap, "ok rate_kbit=%" PRIu64, kbit);
        return 0;
    } else if (strcmp(cmd, "reset") == 0 && one_word) {
        uint64_t n_reset = 0;
        while (fp->pairs != NULL) {
            pair_close(fp->pairs, true, "reset");
            n_reset++;
        }
        fp->resets += n_reset;
        char c[24];
        u64s(c, sizeof c, n_reset);
        SJ_LOG_INFO(MOD, "reset", "conns", c);
        snprintf(reply, cap, "ok reset=%" PRIu64 " mode=%s", n_reset, mode_names[fp->mode]);
        return 0;
    } else if (strcmp(cmd, "status") == 0 && one_word) {
        snprintf(reply, cap,
                 "ok mode=%s delay_ms=%" PRIu64 " conns=%" PRIu64 " conns_total=%" PRIu64
                 " held=%" PRIu64 " refused=%" PRIu64 " resets=%" PRIu64 " bytes_up=%" PRIu64
                 " bytes_down=%" PRIu64 " buffered=%" PRIu64 " buffered_peak=%" PRIu64
                 " max_buffer=%zu rate_kbit=%" PRIu64,
                 mode_names[fp->mode], fp->delay_ms, fp->conns, fp->conns_total, fp->held,
                 fp->refused, fp->resets, fp->bytes_up, fp->bytes_down, fp->buffered,
                 fp->buffered_peak, fp->max_buffer, fp->rate_kbit);
        return 0;
    } else {
        return reply_error(reply, cap,
                           "unknown command '%s'; use pass, delay MS, blackhole, refuse, "
                           "rate KBIT, reset or status",
                           line);
    }
    mode_reply(fp, reply, cap);
    return 0;
}

/* ---- control connections -------------------------------------------------- */

static void ctl_closed(uv_handle_t *h)
{
    fp_ctl *c = h->data;
    sj_faultproxy *fp = c->fp;
    free(c);
    fp->handles--;
    fp_maybe_free(fp);
}

static void ctl_close(fp_ctl *c)
{
    if (c->closing)
        return;
    c->closing = true;
    sj_faultproxy *fp = c->fp;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        fp->ctls = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, ctl_closed);
}

static void ctl_written(uv_write_t *req, int status)
{
    free(req->data);
}

static void ctl_send(fp_ctl *c, const char *text)
{
    fp_reply *r = malloc(sizeof *r);
    if (r == NULL) {
        ctl_close(c);
        return;
    }
    r->len = (size_t)snprintf(r->text, sizeof r->text - 1, "%s", text);
    if (r->len > sizeof r->text - 2)
        r->len = sizeof r->text - 2;
    r->text[r->len++] = '\n';
    r->req.data = r;
    uv_buf_t b = uv_buf_init(r->text, (unsigned int)r->len);
    if (uv_write(&r->req, (uv_stream_t *)&c->tcp, &b, 1, ctl_written) < 0) {
        free(r);
        ctl_close(c);
    }
}

static void ctl_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    fp_ctl *c = h->data;
    size_t room = sizeof c->line - c->len;
    *buf = uv_buf_init(c->line + c->len, (unsigned int)room);
}

static void ctl_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    fp_ctl *c = s->data;
    if (nread < 0) {
        ctl_close(c);
        return;
    }
    c->len += (size_t)nread;
    for (;;) {
        char *nl = memchr(c->line, '\n', c->len);
        if (nl == NULL)
            break;
        *nl = '\0';
        char reply[SJ_FAULTPROXY_REPLY_MAX];
        (void)sj_faultproxy_command(c->fp, c->line, reply, sizeof reply);
        if (c->closing)
            return;
        ctl_send(c, reply);
        size_t used = (size_t)(nl - c->line) + 1;
        memmove(c->line, nl + 1, c->len - used);
        c->len -= used;
    }
    if (c->len >= sizeof c->line) {
        ctl_send(c, "error line too long; at most 200 bytes per command");
        ctl_close(c);
    }
}

static void on_control(uv_stream_t *server, int status)
{
    sj_faultproxy *fp = server->data;
    if (status < 0)
        return;
    fp_ctl *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->fp = fp;
    if (uv_tcp_init(fp->loop, &c->tcp) < 0) {
        free(c);
        return;
    }
    c->tcp.data = c;
    fp->handles++;
    c->next = fp->ctls;
    if (fp->ctls != NULL)
        fp->ctls->prev = c;
    fp->ctls = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, ctl_alloc, ctl_read) < 0)
        ctl_close(c);
}

/* ---- start and close -------------------------------------------------------- */

static int bind_listen(sj_faultproxy *fp, uv_tcp_t *t, int port, uv_connection_cb cb,
                       const char *what, sj_error *err)
{
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    int rc = uv_tcp_bind(t, (const struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)t, 128, cb);
    if (rc < 0)
        return sj_error_set(err, SJ_EIO, "无法监听 127.0.0.1:%d（%s）: %s; choose a free port",
                            port, what, uv_strerror(rc));
    return 0;
}

static bool port_ok(int port)
{
    return port > 0 && port < 65536;
}

int sj_faultproxy_start(uv_loop_t *loop, const sj_faultproxy_config *cfg, sj_faultproxy **out,
                        sj_error *err)
{
    if (loop == NULL || cfg == NULL || out == NULL)
        abort(); /* a caller's bug */
    if (!port_ok(cfg->listen_port) || !port_ok(cfg->target_port) ||
        (cfg->control_port != 0 && !port_ok(cfg->control_port)))
        return sj_error_set(err, SJ_EINVAL,
                            "端口无效: listen=%d target=%d control=%d; ports are 1..65535",
                            cfg->listen_port, cfg->target_port, cfg->control_port);
    const char *host = cfg->target_host ? cfg->target_host : "127.0.0.1";
    struct sockaddr_in target;
    if (uv_ip4_addr(host, cfg->target_port, &target) != 0)
        return sj_error_set(err, SJ_EINVAL, "目标地址无效 '%s': the target host is an IPv4 address",
                            host);
    sj_faultproxy *fp = calloc(1, sizeof *fp);
    if (fp == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    fp->loop = loop;
    fp->target_port = cfg->target_port;
    fp->target = target;
    fp->max_buffer = cfg->max_buffer ? cfg->max_buffer : SJ_FAULTPROXY_MAX_BUFFER_DEFAULT;
    const char *mode = cfg->mode ? cfg->mode : "pass";
    char first[16] = "";
    sscanf(mode, "%15s", first);
    char reply[SJ_FAULTPROXY_REPLY_MAX] = "error not a mode";
    if (strcmp(first, "reset") == 0 || strcmp(first, "status") == 0 ||
        sj_faultproxy_command(fp, mode, reply, sizeof reply) < 0) {
        free(fp);
        return sj_error_set(err, SJ_EINVAL,
                            "起始模式无效 '%s': %s; use pass, delay MS, blackhole or refuse", mode,
                            reply);
    }
    uv_tcp_init(loop, &fp->listener);
    fp->listener.data = fp;
    fp->handles = 1;
    int rc = bind_listen(fp, &fp->listener, cfg->listen_port, on_accept, "listen", err);
    if (rc == 0 && cfg->control_port != 0) {
        uv_tcp_init(loop, &fp->control);
        fp->control.data = fp;
        fp->control_init = true;
        fp->handles++;
        rc = bind_listen(fp, &fp->control, cfg->control_port, on_control, "control", err);
    }
    if (rc < 0) {
        sj_faultproxy_close(fp);
        return rc;
    }
    char lp[16], tp[16], cp[16];
    snprintf(lp, sizeof lp, "%d", cfg->listen_port);
    snprintf(tp, sizeof tp, "%d", cfg->target_port);
    snprintf(cp, sizeof cp, "%d", cfg->control_port);
    SJ_LOG_INFO(MOD, "listening", "listen", lp, "target_host", host, "target", tp, "control", cp,
                "mode", mode_names[fp->mode]);
    *out = fp;
    return 0;
}

void sj_faultproxy_close(sj_faultproxy *fp)
{
    if (fp == NULL || fp->closing)
        return;
    fp->closing = true;
    while (fp->pairs != NULL)
        pair_close(fp->pairs, false, "shutdown");
    while (fp->ctls != NULL)
        ctl_close(fp->ctls);
    uv_close((uv_handle_t *)&fp->listener, fp_handle_closed);
    if (fp->control_init)
        uv_close((uv_handle_t *)&fp->control, fp_handle_closed);
}
