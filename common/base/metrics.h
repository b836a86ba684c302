/*
 * metrics.h - the daemons' figures for monitoring: counters, gauges and
 * histograms, rendered in the Prometheus text exposition format (0.0.4).
 *
 * One process-wide registry.  A module declares its families as static
 * sj_metric values (SJ_METRIC_COUNTER(), SJ_METRIC_GAUGE(),
 * SJ_METRIC_HISTOGRAM()) and updates them where the event happens; a
 * family joins the registry on its first update or sj_metrics_register(),
 * and is rendered in that order.  A family has no label or one label
 * (peer, village, code, reason ...); each label value is one series,
 * made on its first update.
 *
 * Threads: every update and the rendering take one mutex, so figures may
 * be updated from the loop thread and from worker threads (the county's
 * database work) while the HTTP server's own thread renders them
 * (metrics_http.h).  An update holds it for a list walk and an addition;
 * a render holds it while it formats the text (well under a millisecond
 * for the few hundred series of a county).
 *
 * Names follow Prometheus' conventions: sanji_<tier>_<what>_<unit>, a
 * counter ends in _total, times are in seconds.  docs/OPERATIONS.md lists
 * every family.
 *
 * Ownership: the families are the caller's (static); the registry owns
 * the series and frees them all in sj_metrics_reset(), after which the
 * families may be used again (a daemon calls it when it stops, so that a
 * leak checker sees nothing left).
 *
 * Entry points: sj_metric_add(), sj_metric_set(), sj_metric_observe(),
 * sj_metric_remove(), sj_metric_value(), sj_metrics_register(),
 * sj_metrics_render(), sj_metrics_reset(), and the shared families'
 * sj_metrics_link(), sj_metrics_cert(), sj_metrics_tls_failure(),
 * sj_metrics_register_common().
 */
#ifndef SJ_METRICS_H
#define SJ_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sj_metric_kind {
    SJ_METRIC_KIND_COUNTER,
    SJ_METRIC_KIND_GAUGE,
    SJ_METRIC_KIND_HISTOGRAM,
} sj_metric_kind;

typedef struct sj_metric_series sj_metric_series;

typedef struct sj_metric {
    const char *name;      /* e.g. "sanji_county_messages_applied_total" */
    const char *help;      /* one line, English */
    const char *label;     /* the label's name, or NULL for a family of one series */
    sj_metric_kind kind;
    const double *bounds;  /* histograms: upper bounds, ascending (+Inf is implied) */
    size_t n_bounds;
    /* the registry's (under its mutex) */
    sj_metric_series *series;
    struct sj_metric *next;
    bool registered;
} sj_metric;

#define SJ_METRIC_COUNTER(name_, help_, label_)                                                 \
    {.name = (name_), .help = (help_), .label = (label_), .kind = SJ_METRIC_KIND_COUNTER}
#define SJ_METRIC_GAUGE(name_, help_, label_)                                                   \
    {.name = (name_), .help = (help_), .label = (label_), .kind = SJ_METRIC_KIND_GAUGE}
#define SJ_METRIC_HISTOGRAM(name_, help_, label_, bounds_)                                      \
    {.name = (name_), .help = (help_), .label = (label_), .kind = SJ_METRIC_KIND_HISTOGRAM,      \
     .bounds = (bounds_), .n_bounds = sizeof(bounds_) / sizeof((bounds_)[0])}

/* label_value: the series' label value; ignored (pass NULL) for a family
 * without a label.  A series that cannot be allocated is skipped (the
 * figure is lost, the daemon goes on). */
void sj_metric_add(sj_metric *m, const char *label_value, double v);       /* counter, gauge */
void sj_metric_set(sj_metric *m, const char *label_value, double v);       /* gauge */
void sj_metric_observe(sj_metric *m, const char *label_value, double v);   /* histogram */

/* Drops one series (a peer that is gone), or all of them when label_value
 * is NULL. */
void sj_metric_remove(sj_metric *m, const char *label_value);

/* A series' value (a histogram's count); 0 when it does not exist. */
double sj_metric_value(sj_metric *m, const char *label_value);

/* Registers families so that they are rendered before their first update:
 * a family without a label as one series of value 0. */
void sj_metrics_register(sj_metric *const *families, size_t n);

/* The text of every registered family, malloc'd and NUL-terminated (*len
 * without the NUL).  Returns 0, or SJ_ENOMEM. */
int sj_metrics_render(char **out, size_t *len);

/* Frees every series and forgets every family. */
void sj_metrics_reset(void);

/* ---- families both daemons share ------------------------------------------ */

/* sanji_link_up{peer}: 1 while a link with the peer is up, 0 after it went
 * down; sanji_link_last_seen_timestamp_seconds{peer}: when the peer was
 * last heard (for "a station offline for two days").  seen_ms: Unix ms. */
void sj_metrics_link(const char *peer, bool up, int64_t seen_ms);

/* sanji_certificate_expiry_timestamp_seconds{node}: a certificate's
 * notAfter (Unix seconds), this node's own and each peer's as it linked. */
void sj_metrics_cert(const char *node, int64_t not_after_s);

/* sanji_tls_handshake_failures_total{reason}: handshakes that failed, by
 * the error code's name (TLS_EXPIRED, TLS_UNTRUSTED, TIMEOUT ...); counted
 * by every link (conn.c). */
void sj_metrics_tls_failure(int code);

/* Registers the shared families (before any link). */
void sj_metrics_register_common(void);

#endif
