/*
 * listener.c - accepts TCP connections and runs each as an sj_conn with a
 * TLS server engine; see listener.h.
 *
 * Entry points: sj_listener_new(), sj_listener_listen(), sj_listener_port(),
 * sj_listener_count(), sj_listener_close(), sj_listener_free(),
 * sj_listener_data(), sj_listener_of(), sj_listener_each(),
 * sj_listener_recheck_peers().
 */
#include "listener.h"

#include <stdlib.h>
#include <string.h>

/* A link in the listener's list; the list exists so that closing the
 * listener can close its links, and so that its links can be walked
 * (listings, and judging every peer again when the PKI changes). */
typedef struct lnode {
    struct lnode *prev, *next;
    sj_conn *conn;
} lnode;

struct sj_listener {
    uv_loop_t *loop;
    uv_tcp_t *server; /* heap: a failed listen frees it on its own */
    sj_tls_ctx *ctx;
    const sj_conn_callbacks *user;
    void *data;
    sj_conn_options opt;
    lnode head; /* circular list sentinel */
    size_t count;
    int port;
    bool listening;  /* server handle initialised */
    bool closing;
    bool server_closed;
    void (*on_closed)(sj_listener *l);
};

/* The conn's owner pointer is its lnode record; the record needs the
 * listener, kept in a small wrapper. */
typedef struct owned {
    lnode k;
    sj_listener *l;
} owned;

static void maybe_done(sj_listener *l)
{
    if (l->closing && l->count == 0 && l->server_closed && l->on_closed != NULL) {
        void (*cb)(sj_listener *) = l->on_closed;
        l->on_closed = NULL;
        cb(l);
    }
}

static void t_ready(sj_conn *c, const sj_identity *peer)
{
    owned *o = sj_conn_owner(c);
    if (o->l->user->on_ready != NULL)
        o->l->user->on_ready(c, peer);
}

static void t_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *payload, size_t len)
{
    owned *o = sj_conn_owner(c);
    if (o->l->user->on_message != NULL)
        o->l->user->on_message(c, env, payload, len);
}

static void t_drain(sj_conn *c)
{
    owned *o = sj_conn_owner(c);
    if (o->l->user->on_drain != NULL)
        o->l->user->on_drain(c);
}

static void t_written(sj_conn *c)
{
    owned *o = sj_conn_owner(c);
    if (o->l->user->on_written != NULL)
        o->l->user->on_written(c);
}

static void t_close(sj_conn *c, int status, const sj_error *why)
{
    owned *o = sj_conn_owner(c);
    sj_listener *l = o->l;
    l->user->on_close(c, status, why);
    o->k.prev->next = o->k.next;
    o->k.next->prev = o->k.prev;
    l->count--;
    sj_conn_free(c);
    free(o);
    maybe_done(l);
}

void sj_listener_each(sj_listener *l, void (*fn)(sj_conn *conn, void *arg), void *arg)
{
    /* A closed link leaves the list only in t_close, later: fn may close
     * the link it is given without breaking the walk. */
    for (lnode *k = l->head.next; k != &l->head; k = k->next)
        if (sj_conn_established(k->conn))
            fn(k->conn, arg);
}

size_t sj_listener_recheck_peers(sj_listener *l, int64_t now,
                                 void (*on_cut)(sj_conn *conn, const sj_error *why, void *arg),
                                 void *arg)
{
    size_t cut = 0;
    for (lnode *k = l->head.next; k != &l->head; k = k->next) {
        sj_error why;
        if (sj_conn_recheck_peer(k->conn, now, &why) == 0)
            continue;
        cut++;
        if (on_cut != NULL)
            on_cut(k->conn, &why, arg);
    }
    return cut;
}

sj_listener *sj_listener_of(const sj_conn *c)
{
    const owned *o = sj_conn_owner(c);
    return o->l;
}

static const sj_conn_callbacks trampolines = {
    .on_ready = t_ready,
    .on_message = t_message,
    .on_drain = t_drain,
    .on_written = t_written,
    .on_close = t_close,
};

static void on_connection(uv_stream_t *server, int status)
{
    sj_listener *l = server->data;
    if (status < 0 || l->closing)
        return; /* e.g. EMFILE: libuv retries on the next readiness */
    owned *o = calloc(1, sizeof(*o));
    sj_error err;
    sj_conn *c = o ? sj_conn_new(l->loop, l->ctx, NULL, &l->opt, &trampolines, o, &err) : NULL;
    if (c == NULL) {
        /* Refuse the socket rather than leave it pending forever. */
        free(o);
        uv_tcp_t *tmp = malloc(sizeof(*tmp));
        if (tmp != NULL && uv_tcp_init(l->loop, tmp) == 0) {
            if (uv_accept(server, (uv_stream_t *)tmp) == 0) { /* then drop it */ }
            uv_close((uv_handle_t *)tmp, (uv_close_cb)free);
        } else {
            free(tmp);
        }
        return;
    }
    o->l = l;
    o->k.conn = c;
    o->k.next = l->head.next;
    o->k.prev = &l->head;
    l->head.next->prev = &o->k;
    l->head.next = &o->k;
    l->count++;
    sj_conn_set_data(c, l->data);
    int rc = uv_accept(server, (uv_stream_t *)sj_conn_tcp(c));
    if (rc != 0) {
        sj_conn_close(c, SJ_EIO, "accept failed");
        return;
    }
    sj_conn_start(c);
}

sj_listener *sj_listener_new(uv_loop_t *loop, sj_tls_ctx *ctx, const sj_conn_options *opts,
                             const sj_conn_callbacks *cbs, void *data, sj_error *err)
{
    if (loop == NULL || ctx == NULL || cbs == NULL || cbs->on_close == NULL) {
        sj_error_set(err, SJ_EINVAL, "sj_listener_new needs a loop, a TLS context and on_close");
        return NULL;
    }
    sj_listener *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        sj_error_set(err, SJ_ENOMEM, "no memory for a listener");
        return NULL;
    }
    l->loop = loop;
    l->ctx = ctx;
    l->user = cbs;
    l->data = data;
    l->opt = opts ? *opts : sj_conn_options_default();
    l->head.next = l->head.prev = &l->head;
    l->port = -1;
    return l;
}

int sj_listener_listen(sj_listener *l, const char *host, int port, int backlog, sj_error *err)
{
    if (l->listening)
        return sj_error_set(err, SJ_EINVAL, "listener already listening");
    struct sockaddr_storage ss;
    if (port < 0 || port > 65535)
        return sj_error_set(err, SJ_EINVAL, "port %d out of range", port);
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
        return sj_error_set(err, SJ_EINVAL, "监听地址无效 / listen address \"%s\" is not a numeric IP address",
                            host);
    uv_tcp_t *srv = malloc(sizeof(*srv));
    if (srv == NULL)
        return sj_error_set(err, SJ_ENOMEM, "no memory for a socket");
    int rc = uv_tcp_init(l->loop, srv);
    if (rc != 0) {
        free(srv);
        return sj_error_set(err, SJ_EIO, "cannot create a socket: %s", uv_strerror(rc));
    }
    srv->data = l;
    rc = uv_tcp_bind(srv, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)srv, backlog > 0 ? backlog : 511, on_connection);
    if (rc != 0) {
        /* Bind errors surface at listen time in libuv. */
        uv_close((uv_handle_t *)srv, (uv_close_cb)free);
        return sj_error_set(err, SJ_EIO, "无法监听 %s:%d / cannot listen on %s:%d: %s", host, port,
                            host, port, uv_strerror(rc));
    }
    l->server = srv;
    l->listening = true;
    l->server_closed = false;
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    if (uv_tcp_getsockname(l->server, (struct sockaddr *)&bound, &blen) == 0)
        l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

int sj_listener_port(const sj_listener *l)
{
    return l->port;
}

size_t sj_listener_count(const sj_listener *l)
{
    return l->count;
}

void *sj_listener_data(const sj_listener *l)
{
    return l->data;
}

static void on_server_closed(uv_handle_t *h)
{
    sj_listener *l = h->data;
    free(h);
    l->server = NULL;
    l->server_closed = true;
    l->listening = false;
    maybe_done(l);
}

void sj_listener_close(sj_listener *l, void (*on_closed)(sj_listener *l))
{
    if (l->closing)
        return;
    l->closing = true;
    l->on_closed = on_closed;
    if (l->listening)
        uv_close((uv_handle_t *)l->server, on_server_closed);
    else
        l->server_closed = true;
    /* Closing a lnode only starts it; the list changes in t_close, later. */
    for (lnode *k = l->head.next; k != &l->head; k = k->next)
        sj_conn_close(k->conn, SJ_ECANCELLED, "listener closing");
    maybe_done(l);
}

void sj_listener_free(sj_listener *l)
{
    if (l == NULL)
        return;
    if (l->listening || l->count != 0)
        abort(); /* caller bug: close first and wait for on_closed */
    free(l);
}
