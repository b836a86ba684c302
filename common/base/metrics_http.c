/*
 * metrics_http.c - GET /metrics with libmicrohttpd on its own thread (see
 * metrics_http.h for why).
 *
 * Entry points: sj_metrics_http_start(), sj_metrics_http_port(),
 * sj_metrics_http_stop().
 */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "metrics.h"

#define CONNECTIONS_MAX 8
#define CONNECTION_TIMEOUT_S 10

struct sj_metrics_http {
    struct MHD_Daemon *mhd;
    int port;
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, char *body, size_t len,
                              enum MHD_ResponseMemoryMode mode, const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    static const char TEXT[] = "text/plain; charset=utf-8";
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        /* A body is never read: the request is answered at its first call. */
        *upload_data_size = 0;
        static char not_allowed[] = "only GET /metrics\n";
        return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed, sizeof(not_allowed) - 1,
                      MHD_RESPMEM_PERSISTENT, TEXT);
    }
    (void)con_cls;
    if (strcmp(url, "/metrics") != 0) {
        static char not_found[] = "Sanji serves its metrics at /metrics\n";
        return answer(c, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
                      MHD_RESPMEM_PERSISTENT, TEXT);
    }
    char *text;
    size_t len;
    if (sj_metrics_render(&text, &len) != 0) {
        static char no_memory[] = "out of memory\n";
        return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR, no_memory, sizeof(no_memory) - 1,
                      MHD_RESPMEM_PERSISTENT, TEXT);
    }
    return answer(c, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE,
                  "text/plain; version=0.0.4; charset=utf-8");
}

/* "host:port" or "[v6]:port" with a numeric, non-wildcard host. */
static int parse_address(const char *text, const char *key, struct sockaddr_storage *ss,
                         sj_error *err)
{
    memset(ss, 0, sizeof(*ss));
    const char *colon = strrchr(text, ':');
    char host[64];
    const char *h = text;
    size_t hl = colon ? (size_t)(colon - text) : 0;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || hl == 0 || hl >= sizeof(host) || !end || *end || end == colon + 1 || port < 0 ||
        port > 65535)
        return sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                            "%s “%s” 无效 (must be address:port of this machine, e.g. "
                            "127.0.0.1:9464)",
                            key, text);
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        if (v4->sin_addr.s_addr == htonl(INADDR_ANY))
            goto wildcard;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        if (IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr))
            goto wildcard;
    } else {
        return sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                            "%s “%s”: “%s” is not a numeric IP address (give 127.0.0.1 or this "
                            "machine's management address)",
                            key, text, host);
    }
    return 0;
wildcard:
    return sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                        "%s “%s”: metrics are served on one address of this machine, not on "
                        "all of them (give 127.0.0.1 or the management address)",
                        key, text);
}

int sj_metrics_http_start(const char *address, const char *key, sj_metrics_http **out,
                          sj_error *err)
{
    *out = NULL;
    struct sockaddr_storage ss;
    int rc = parse_address(address, key, &ss, err);
    if (rc != 0)
        return rc;
    sj_metrics_http *h = calloc(1, sizeof(*h));
    if (!h)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!h->mhd) {
        int e = errno;
        free(h);
        return sj_error_set(err, SJ_EIO,
                            "无法在 %s 提供监控指标 (cannot serve metrics on %s = %s: %s; is the "
                            "port in use, or the address not of this machine?)",
                            address, key, address, e ? strerror(e) : "libmicrohttpd refused");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? (int)info->port : 0;
    *out = h;
    return 0;
}

int sj_metrics_http_port(const sj_metrics_http *h)
{
    return h ? h->port : 0;
}

void sj_metrics_http_stop(sj_metrics_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->mhd);
    free(h);
}
