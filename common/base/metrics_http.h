/*
 * metrics_http.h - serving the registry of metrics.h as
 * `GET /metrics` (Prometheus text format) on a local address, with
 * libmicrohttpd.
 *
 * Why a thread of its own: libmicrohttpd runs its own polling thread
 * (MHD_USE_INTERNAL_POLLING_THREAD), and a request renders the registry
 * under the registry's mutex (metrics.h).  The daemon's libuv loop never
 * waits for a scraper: a slow or stalled HTTP client holds only a
 * libmicrohttpd connection (at most a few, each timed out), never the
 * loop, and the loop's updates wait at most for one rendering.  Driving
 * libmicrohttpd from the loop instead would need its descriptors re-polled
 * after every call, for no gain at one request every few seconds.
 *
 * The address: "host:port" (IPv6 as "[::1]:9464") with a numeric host,
 * which must be an address of this machine (the loopback address, or the
 * management network's address); the wildcard addresses 0.0.0.0 and ::
 * are refused, so that the figures are never offered on every network of
 * the machine by mistake.  Port 0 takes a free port (tests).
 *
 * Only GET and HEAD of /metrics are answered (200); any other path is 404,
 * any other method 405.  The server is in libmicrohttpd (Debian's
 * libmicrohttpd12): no HTTP parsing of Sanji's own.
 *
 * Ownership: sj_metrics_http_start() returns a server that the caller
 * stops and frees with sj_metrics_http_stop().
 *
 * Entry points: sj_metrics_http_start(), sj_metrics_http_port(),
 * sj_metrics_http_stop().
 */
#ifndef SJ_METRICS_HTTP_H
#define SJ_METRICS_HTTP_H

#include "err.h"

typedef struct sj_metrics_http sj_metrics_http;

/* Starts serving on address (key: the configuration key it came from, for
 * the message).  Returns 0 with *out, or SJ_ECONFIG_BAD_VALUE (not a
 * local numeric address) or SJ_EIO (cannot listen) with err. */
int sj_metrics_http_start(const char *address, const char *key, sj_metrics_http **out,
                          sj_error *err);

/* The port it listens on (the chosen one when the address had port 0). */
int sj_metrics_http_port(const sj_metrics_http *h);

/* Stops the server's thread, closes its socket and frees it.  NULL is
 * allowed. */
void sj_metrics_http_stop(sj_metrics_http *h);

#endif
