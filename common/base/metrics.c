/*
 * metrics.c - the process-wide registry of counters, gauges and
 * histograms and its Prometheus text rendering (see metrics.h).
 *
 * Entry points: sj_metric_add(), sj_metric_set(), sj_metric_observe(),
 * sj_metric_remove(), sj_metric_value(), sj_metrics_register(),
 * sj_metrics_render(), sj_metrics_reset().
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

struct sj_metric_series {
    sj_metric_series *next;
    char *label_value;   /* NULL for the family's only series */
    double value;        /* counter, gauge; a histogram's sum */
    unsigned long long count;    /* histogram: observations */
    unsigned long long *buckets; /* histogram: per bound, not cumulative */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static sj_metric *families_head, *families_tail;

/* ---- series (under mu) --------------------------------------------------- */

static void enrol(sj_metric *m)
{
    if (m->registered)
        return;
    m->registered = true;
    m->next = NULL;
    if (families_tail)
        families_tail->next = m;
    else
        families_head = m;
    families_tail = m;
}

static bool same_label(const sj_metric *m, const char *a, const char *b)
{
    if (!m->label)
        return true;
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static sj_metric_series *find(sj_metric *m, const char *label_value, bool make)
{
    enrol(m);
    sj_metric_series **p = &m->series;
    /* Kept sorted by label value, so that the text is stable to read. */
    for (; *p; p = &(*p)->next) {
        if (same_label(m, (*p)->label_value, label_value))
            return *p;
        if (m->label && strcmp((*p)->label_value, label_value ? label_value : "") > 0)
            break;
    }
    if (!make)
        return NULL;
    sj_metric_series *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (m->label && !(s->label_value = strdup(label_value ? label_value : ""))) {
        free(s);
        return NULL;
    }
    if (m->kind == SJ_METRIC_KIND_HISTOGRAM && m->n_bounds > 0 &&
        !(s->buckets = calloc(m->n_bounds, sizeof(*s->buckets)))) {
        free(s->label_value);
        free(s);
        return NULL;
    }
    s->next = *p;
    *p = s;
    return s;
}

static void series_free(sj_metric_series *s)
{
    free(s->label_value);
    free(s->buckets);
    free(s);
}

/* ---- updates ------------------------------------------------------------- */

void sj_metric_add(sj_metric *m, const char *label_value, double v)
{
    pthread_mutex_lock(&mu);
    sj_metric_series *s = find(m, label_value, true);
    if (s)
        s->value += v;
    pthread_mutex_unlock(&mu);
}

void sj_metric_set(sj_metric *m, const char *label_value, double v)
{
    pthread_mutex_lock(&mu);
    sj_metric_series *s = find(m, label_value, true);
    if (s)
        s->value = v;
    pthread_mutex_unlock(&mu);
}

void sj_metric_observe(sj_metric *m, const char *label_value, double v)
{
    pthread_mutex_lock(&mu);
    sj_metric_series *s = find(m, label_value, true);
    if (s) {
        s->value += v;
        s->count++;
        for (size_t i = 0; i < m->n_bounds; i++)
            if (v <= m->bounds[i]) {
                s->buckets[i]++;
                break;
            }
    }
    pthread_mutex_unlock(&mu);
}

void sj_metric_remove(sj_metric *m, const char *label_value)
{
    pthread_mutex_lock(&mu);
    for (sj_metric_series **p = &m->series; *p;) {
        if (!label_value || same_label(m, (*p)->label_value, label_value)) {
            sj_metric_series *s = *p;
            *p = s->next;
            series_free(s);
        } else {
            p = &(*p)->next;
        }
    }
    pthread_mutex_unlock(&mu);
}

double sj_metric_value(sj_metric *m, const char *label_value)
{
    pthread_mutex_lock(&mu);
    double v = 0;
    for (sj_metric_series *s = m->series; s; s = s->next)
        if (same_label(m, s->label_value, label_value)) {
            v = m->kind == SJ_METRIC_KIND_HISTOGRAM ? (double)s->count : s->value;
            break;
        }
    pthread_mutex_unlock(&mu);
    return v;
}

void sj_metrics_register(sj_metric *const *families, size_t n)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < n; i++) {
        enrol(families[i]);
        if (!families[i]->label)
            find(families[i], NULL, true);
    }
    pthread_mutex_unlock(&mu);
}

void sj_metrics_reset(void)
{
    pthread_mutex_lock(&mu);
    for (sj_metric *m = families_head; m;) {
        sj_metric *next = m->next;
        while (m->series) {
            sj_metric_series *s = m->series;
            m->series = s->next;
            series_free(s);
        }
        m->registered = false;
        m->next = NULL;
        m = next;
    }
    families_head = families_tail = NULL;
    pthread_mutex_unlock(&mu);
}

/* ---- rendering ------------------------------------------------------------ */

typedef struct buf {
    char *p;
    size_t len, cap;
    bool failed;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* A label value in the exposition format: backslash, quote and newline
 * escaped (values come from certificates and codes, but are not trusted
 * to be plain). */
static void put_escaped(buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(b, "\\\\");
        else if (*s == '"')
            put(b, "\\\"");
        else if (*s == '\n')
            put(b, "\\n");
        else
            put(b, "%c", *s);
    }
}

static void put_number(buf *b, double v)
{
    if (isinf(v))
        put(b, v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v))
        put(b, "NaN");
    else if (v == (double)(long long)v && fabs(v) < 1e15)
        put(b, "%lld", (long long)v);
    else
        put(b, "%.9g", v);
}

/* name{label="value",le="bound"} (either part may be absent). */
static void put_name(buf *b, const sj_metric *m, const char *suffix, const sj_metric_series *s,
                     const char *le)
{
    put(b, "%s%s", m->name, suffix);
    bool lab = m->label && s->label_value;
    if (!lab && !le)
        return;
    put(b, "{");
    if (lab) {
        put(b, "%s=\"", m->label);
        put_escaped(b, s->label_value);
        put(b, "\"");
    }
    if (le)
        put(b, "%sle=\"%s\"", lab ? "," : "", le);
    put(b, "}");
}

static void render_series(buf *b, const sj_metric *m, const sj_metric_series *s)
{
    if (m->kind != SJ_METRIC_KIND_HISTOGRAM) {
        put_name(b, m, "", s, NULL);
        put(b, " ");
        put_number(b, s->value);
        put(b, "\n");
        return;
    }
    unsigned long long cum = 0;
    for (size_t i = 0; i < m->n_bounds; i++) {
        char le[40];
        cum += s->buckets[i];
        snprintf(le, sizeof(le), "%.9g", m->bounds[i]);
        put_name(b, m, "_bucket", s, le);
        put(b, " %llu\n", cum);
    }
    put_name(b, m, "_bucket", s, "+Inf");
    put(b, " %llu\n", s->count);
    put_name(b, m, "_sum", s, NULL);
    put(b, " ");
    put_number(b, s->value);
    put(b, "\n");
    put_name(b, m, "_count", s, NULL);
    put(b, " %llu\n", s->count);
}

int sj_metrics_render(char **out, size_t *len)
{
    static const char *const TYPES[] = {"counter", "gauge", "histogram"};
    buf b = {.p = malloc(4096), .cap = 4096};
    if (!b.p)
        return SJ_ENOMEM;
    b.p[0] = '\0';
    pthread_mutex_lock(&mu);
    for (const sj_metric *m = families_head; m; m = m->next) {
        put(&b, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, TYPES[m->kind]);
        for (const sj_metric_series *s = m->series; s; s = s->next)
            render_series(&b, m, s);
    }
    pthread_mutex_unlock(&mu);
    if (b.failed) {
        free(b.p);
        return SJ_ENOMEM;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}

/* ---- families both daemons share ------------------------------------------ */

static sj_metric link_up = SJ_METRIC_GAUGE(
    "sanji_link_up", "1 while the link with the peer is up, 0 since it went down", "peer");
static sj_metric link_seen = SJ_METRIC_GAUGE(
    "sanji_link_last_seen_timestamp_seconds",
    "when the peer was last heard: its link's start, heartbeats, its end (Unix time)", "peer");
static sj_metric cert_expiry = SJ_METRIC_GAUGE(
    "sanji_certificate_expiry_timestamp_seconds",
    "notAfter of this node's certificate and of each peer's as it linked (Unix time)", "node");
static sj_metric tls_failures = SJ_METRIC_COUNTER(
    "sanji_tls_handshake_failures_total", "TLS handshakes that failed, by the reason's code",
    "reason");

void sj_metrics_link(const char *peer, bool up, int64_t seen_ms)
{
    sj_metric_set(&link_up, peer, up ? 1 : 0);
    sj_metric_set(&link_seen, peer, (double)seen_ms / 1000.0);
}

void sj_metrics_cert(const char *node, int64_t not_after_s)
{
    sj_metric_set(&cert_expiry, node, (double)not_after_s);
}

void sj_metrics_tls_failure(int code)
{
    sj_metric_add(&tls_failures, sj_err_name(code), 1);
}

void sj_metrics_register_common(void)
{
    sj_metric *const all[] = {&link_up, &link_seen, &cert_expiry, &tls_failures};
    sj_metrics_register(all, sizeof(all) / sizeof(all[0]));
}
