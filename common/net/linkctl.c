/*
 * linkctl.c - a daemon's live links listed over an abstract Unix socket
 * (see linkctl.h): the serving side on the daemon's libuv loop, and the
 * asking side, a blocking client for the command-line tools.
 *
 * Entry points: sj_linkctl_name(), sj_linkctl_start(), sj_linkctl_close(),
 * sj_linkctl_add_conn(), sj_linkctl_print().
 */
#include "linkctl.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define WIRE_HEADER "sanji-links 1"
/* An answer larger than this is not a listing (a relay of 50 000 stations
 * answers about 5 MiB). */
#define ANSWER_MAX (64u << 20)

/* ---- names ---------------------------------------------------------------- */

void sj_linkctl_name(const char *daemon, const char *key, char out[SJ_LINKCTL_NAME_MAX])
{
    int n = snprintf(out, SJ_LINKCTL_NAME_MAX - 1, "sanji/%s/%s", daemon, key);
    if (n >= 0 && n < SJ_LINKCTL_NAME_MAX - 1)
        return;
    /* FNV-1a: stable across builds and machines, which is all it needs. */
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    snprintf(out, SJ_LINKCTL_NAME_MAX - 1, "sanji/%.40s/#%016" PRIx64, daemon, h);
}

/* The address of an abstract socket: a NUL, then the name (no NUL after). */
static socklen_t abstract_addr(const char *name, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t len = strlen(name);
    if (len > sizeof a->sun_path - 1)
        len = sizeof a->sun_path - 1;
    memcpy(a->sun_path + 1, name, len);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

/* ---- the listing ---------------------------------------------------------- */

struct sj_linkctl_list {
    char *buf;
    size_t len, cap;
    bool oom;
};

static void list_addf(sj_linkctl_list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void list_addf(sj_linkctl_list *l, const char *fmt, ...)
{
    if (l->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(l->buf ? l->buf + l->len : NULL, l->buf ? l->cap - l->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            l->oom = true;
            return;
        }
        if (l->buf && (size_t)n < l->cap - l->len) {
            l->len += (size_t)n;
            return;
        }
        size_t cap = l->cap ? l->cap : 4096;
        while (cap - l->len <= (size_t)n)
            cap *= 2;
        char *b = realloc(l->buf, cap);
        if (b == NULL) {
            l->oom = true;
            return;
        }
        l->buf = b;
        l->cap = cap;
    }
}

/* A field of the wire form: tabs and line ends cannot occur in node ids,
 * serials or addresses, but a field must never split a record. */
static const char *field(const char *s)
{
    return s && s[0] && strpbrk(s, "\t\r\n") == NULL ? s : "-";
}

void sj_linkctl_add_conn(sj_linkctl_list *l, const char *kind, const sj_conn *conn)
{
    const sj_identity *peer = sj_conn_peer(conn);
    sj_tls_cert_info ci;
    if (!sj_conn_established(conn) || peer == NULL || sj_conn_peer_cert(conn, &ci) != 0)
        return;
    char addr[INET6_ADDRSTRLEN + 16] = "";
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_tcp_getpeername(sj_conn_tcp((sj_conn *)(uintptr_t)conn), (struct sockaddr *)&ss, &sl) ==
        0) {
        char ip[INET6_ADDRSTRLEN] = "";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            snprintf(addr, sizeof addr, "%s:%d", ip, port);
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            snprintf(addr, sizeof addr, "[%s]:%d", ip, port);
        }
    }
    list_addf(l, "link\t%s\t%s\t%s\t%lld\t%s\n", field(kind), field(peer->node_id),
              field(ci.serial), (long long)ci.not_after, field(addr));
}

/* ---- serving -------------------------------------------------------------- */

typedef struct client {
    uv_pipe_t pipe;
    uv_write_t wr;
    struct client *prev, *next;
    sj_linkctl *lc;
    char *text;
} client;

struct sj_linkctl {
    uv_pipe_t pipe;
    client *clients;
    bool closing;
    bool pipe_closed;
    void (*collect)(void *arg, sj_linkctl_list *list);
    void *arg;
    char self[SJ_IDENTITY_NODE_ID_MAX];
};

static void maybe_free(sj_linkctl *lc)
{
    if (lc->closing && lc->pipe_closed && lc->clients == NULL)
        free(lc);
}

static void client_closed(uv_handle_t *h)
{
    client *c = h->data;
    sj_linkctl *lc = c->lc;
    if (c->prev)
        c->prev->next = c->next;
    else
        lc->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->text);
    free(c);
    maybe_free(lc);
}

static void client_written(uv_write_t *req, int status)
{
    (void)status; /* an asker that went away is no concern of the daemon */
    client *c = req->data;
    if (!uv_is_closing((uv_handle_t *)&c->pipe))
        uv_close((uv_handle_t *)&c->pipe, client_closed);
}

/* Whether the asking process runs as root or as this daemon's user: the
 * listing names every node and certificate of the links. */
static bool asker_allowed(uv_pipe_t *p)
{
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (uv_fileno((uv_handle_t *)p, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return false;
    return cred.uid == 0 || cred.uid == geteuid();
}

static void on_connection(uv_stream_t *server, int status)
{
    sj_linkctl *lc = server->data;
    if (status < 0 || lc->closing)
        return;
    client *c = calloc(1, sizeof *c);
    if (c == NULL || uv_pipe_init(server->loop, &c->pipe, 0) != 0) {
        free(c);
        return; /* libuv offers the connection again at the next readiness */
    }
    c->pipe.data = c;
    c->wr.data = c;
    c->lc = lc;
    c->next = lc->clients;
    if (lc->clients)
        lc->clients->prev = c;
    lc->clients = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        uv_close((uv_handle_t *)&c->pipe, client_closed);
        return;
    }
    sj_linkctl_list l = {0};
    if (!asker_allowed(&c->pipe)) {
        list_addf(&l, "refused\t只有 root 和守护进程的用户可以查看链路 (only root and the user the "
                      "daemon runs as may list its links)\n");
    } else {
        list_addf(&l, WIRE_HEADER "\t%s\t%lld\n", field(lc->self),
                  (long long)(sj_clock_real_ms() / 1000));
        lc->collect(lc->arg, &l);
    }
    if (l.oom) {
        free(l.buf);
        uv_close((uv_handle_t *)&c->pipe, client_closed);
        return;
    }
    c->text = l.buf;
    uv_buf_t b = uv_buf_init(l.buf, (unsigned)l.len);
    if (uv_write(&c->wr, (uv_stream_t *)&c->pipe, &b, 1, client_written) != 0)
        uv_close((uv_handle_t *)&c->pipe, client_closed);
}

static void pipe_closed(uv_handle_t *h)
{
    sj_linkctl *lc = h->data;
    lc->pipe_closed = true;
    maybe_free(lc);
}

sj_linkctl *sj_linkctl_start(uv_loop_t *loop, const char *name, const char *self,
                             void (*collect)(void *arg, sj_linkctl_list *list), void *arg,
                             sj_error *err)
{
    sj_linkctl *lc = calloc(1, sizeof *lc);
    if (lc == NULL) {
        sj_error_set(err, SJ_ENOMEM, "内存不足 (out of memory)");
        return NULL;
    }
    lc->collect = collect;
    lc->arg = arg;
    snprintf(lc->self, sizeof lc->self, "%s", self ? self : "");
    /* libuv 1.44 binds only file-system names: the socket is made here and
     * handed over. */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un a;
    socklen_t alen = abstract_addr(name, &a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, alen) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        free(lc);
        sj_error_set(err, SJ_EIO,
                     "无法提供链路列表 (cannot serve the list of links on the local socket @%s: "
                     "%s)%s",
                     name, strerror(e),
                     e == EADDRINUSE ? "; another process, maybe this daemon with the same "
                                       "configuration, holds it"
                                     : "");
        return NULL;
    }
    int rc = uv_pipe_init(loop, &lc->pipe, 0);
    if (rc != 0) {
        close(fd);
        free(lc);
        sj_error_set(err, SJ_EIO, "cannot make a pipe handle: %s", uv_strerror(rc));
        return NULL;
    }
    lc->pipe.data = lc;
    rc = uv_pipe_open(&lc->pipe, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&lc->pipe, 16, on_connection);
    if (rc != 0) {
        sj_error_set(err, SJ_EIO, "cannot listen on the local socket @%s: %s", name,
                     uv_strerror(rc));
        lc->closing = true;
        uv_close((uv_handle_t *)&lc->pipe, pipe_closed); /* closes fd; frees lc */
        return NULL;
    }
    return lc;
}

void sj_linkctl_close(sj_linkctl *lc)
{
    if (lc == NULL || lc->closing)
        return;
    lc->closing = true;
    uv_close((uv_handle_t *)&lc->pipe, pipe_closed);
    for (client *c = lc->clients; c; c = c->next)
        if (!uv_is_closing((uv_handle_t *)&c->pipe))
            uv_close((uv_handle_t *)&c->pipe, client_closed);
}

/* ---- asking --------------------------------------------------------------- */

/* Reads everything the daemon sends until it closes. */
static int read_answer(int fd, int timeout_ms, char **out, sj_error *err)
{
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap);
    if (buf == NULL)
        return sj_error_set(err, SJ_ENOMEM, "内存不足 (out of memory)");
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            free(buf);
            return sj_error_set(err, SJ_ETIMEOUT,
                                "守护进程没有回答 (the daemon did not answer within %d ms; is it "
                                "stuck? see its log)",
                                timeout_ms);
        }
        if (len + 1 >= cap) {
            char *b = cap < ANSWER_MAX ? realloc(buf, cap * 2) : NULL;
            if (b == NULL) {
                free(buf);
                return sj_error_set(err, SJ_EPROTOCOL, "the answer is too large to be a listing");
            }
            buf = b;
            cap *= 2;
        }
        ssize_t n = r < 0 ? -1 : read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return sj_error_set(err, SJ_EIO, "reading the daemon's answer: %s", strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

/* Splits line (modified) at tabs into at most max fields; returns how many. */
static size_t split_tabs(char *line, char **f, size_t max)
{
    size_t n = 0;
    while (n < max) {
        f[n++] = line;
        char *t = strchr(line, '\t');
        if (t == NULL)
            break;
        *t = '\0';
        line = t + 1;
    }
    return n;
}

static void print_left(FILE *out, long long secs)
{
    if (secs < 0)
        fprintf(out, "已过期 %llds (expired %llds ago)", -secs, -secs);
    else if (secs < 2 * 86400)
        fprintf(out, "剩 %llds (%llds left)", secs, secs);
    else
        fprintf(out, "剩 %lld 天 (%lld days left)", secs / 86400, secs / 86400);
}

int sj_linkctl_print(FILE *out, const char *name, int timeout_ms, sj_error *err)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sj_error_set(err, SJ_EIO, "cannot make a socket: %s", strerror(errno));
    struct sockaddr_un a;
    socklen_t alen = abstract_addr(name, &a);
    if (connect(fd, (struct sockaddr *)&a, alen) != 0) {
        int e = errno;
        close(fd);
        return sj_error_set(err, SJ_ECONNECT,
                            "守护进程没有运行，或使用了另一份配置 (no daemon answers on the local "
                            "socket @%s: %s); start it, or give the configuration it runs with",
                            name, strerror(e));
    }
    char *text = NULL;
    int rc = read_answer(fd, timeout_ms, &text, err);
    close(fd);
    if (rc != 0)
        return rc;
    char *save = NULL, *f[8];
    char *line = strtok_r(text, "\n", &save);
    size_t nf = line ? split_tabs(line, f, 8) : 0;
    if (nf >= 2 && strcmp(f[0], "refused") == 0) {
        rc = sj_error_set(err, SJ_ECONNECT, "%s", f[1]);
        free(text);
        return rc;
    }
    if (nf != 3 || strcmp(f[0], WIRE_HEADER) != 0) {
        free(text);
        return sj_error_set(err, SJ_EPROTOCOL,
                            "the answer on @%s is not a list of links (another program holds "
                            "the socket?)",
                            name);
    }
    long long now = strtoll(f[2], NULL, 10);
    fprintf(out, "节点 (node): %s\n", f[1]);
    size_t count = 0;
    char *body = save; /* the records after the header */
    for (const char *p = body; p != NULL && (p = strstr(p, "link\t")) != NULL; p++)
        if (p == body || p[-1] == '\n')
            count++;
    fprintf(out, "活动链路 (live links): %zu\n", count);
    for (char *s2 = NULL, *l = body ? strtok_r(body, "\n", &s2) : NULL; l;
         l = strtok_r(NULL, "\n", &s2)) {
        if (split_tabs(l, f, 8) != 6 || strcmp(f[0], "link") != 0)
            continue;
        long long not_after = strtoll(f[4], NULL, 10);
        char when[SJ_CLOCK_ISO_SIZE];
        if (sj_clock_format_china((int64_t)not_after * 1000, when, sizeof when) != 0)
            snprintf(when, sizeof when, "%s", f[4]);
        fprintf(out, "  %-40s %-8s serial=%s not_after=%s (", f[2], f[1], f[3], when);
        print_left(out, not_after - now);
        fprintf(out, ") from=%s\n", f[5]);
    }
    free(text);
    return 0;
}
