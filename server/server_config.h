/*
 * server_config.h - the configuration of sanji-countyd: its documented key
 * table (common/base/config.h) and the values read from it.
 *
 * Keys (docs/SERVER.md lists them with their defaults; `sanji-countyd
 * --print-config-doc` prints them as a commented example file):
 *   listen.address, tls.ca, tls.cert, tls.key, tls.crl, tls.crl_reload, database.conninfo,
 *   county.code, apply.batch_size, apply.batch_wait, apply.pipeline, apply.set_based,
 *   sweep.interval,
 *   sweep.warn_percents, limits.max_frame, log.level, log.file,
 *   apply.max_pending, feed.page_size, link.idle_timeout, link.handshake_timeout,
 *   link.heartbeat,
 *   database.retry_max
 *
 * Ownership: countyd_config_load() fills a countyd_config whose strings
 * belong to it until countyd_config_free() (which is safe on a zeroed or
 * failed one).
 *
 * Entry points: countyd_config_load(), countyd_config_free(),
 * countyd_config_print_doc(), countyd_config_keys(),
 * countyd_config_links_socket().
 */
#ifndef COUNTYD_SERVER_CONFIG_H
#define COUNTYD_SERVER_CONFIG_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "err.h"
#include "linkctl.h"
#include "presence_hours.h"
#include "stars_config.h"

#define COUNTYD_WARN_MAX 8

typedef struct countyd_config {
    sj_config *cfg;             /* NULL when no file was given */
    const char *listen;         /* "host:port" */
    const char *tls_ca, *tls_cert, *tls_key, *tls_crl; /* crl: "" for none */
    int64_t crl_reload_ms;      /* tls.crl re-read this often (and on SIGHUP) */
    const char *database;       /* libpq conninfo; NULL: libpq's PG* environment */
    char county[7];             /* 6-digit county code; "" when no file was given */
    int batch_size;             /* messages applied per commit, at most */
    int64_t batch_wait_ms;      /* how long a batch waits to fill */
    bool pipeline;              /* batches pipelined (apply.h); false: serial only */
    bool set_based;             /* pipelined writes one statement per table (apply_set.h) */
    int64_t sweep_interval_ms;  /* overdue/warning sweep period */
    uint32_t warn_percents[COUNTYD_WARN_MAX]; /* ascending, 1..99 */
    size_t n_warn;
    uint64_t max_frame;         /* bytes */
    const char *log_level;
    const char *log_file;       /* "" for stderr */
    const char *metrics_listen; /* metrics.listen; "" or NULL: no metrics endpoint */
    int max_pending;            /* upward messages waiting, at most */
    int feed_page;              /* feed updates per catch-up read */
    int64_t idle_timeout_ms;    /* link closed after this long without input */
    int64_t handshake_timeout_ms; /* link closed when its handshake takes longer */
    int64_t heartbeat_ms;       /* heartbeat after this long without output */
    int64_t retry_max_ms;       /* longest database retry backoff */
    uint32_t offline_warn_days; /* network view: silent this many working days */
    uint32_t cert_warn_days;    /* network view: certificate expiring within these days */
    uint32_t rectify_days;      /* haocha.rectify_days: a 差评's 整改时限 in working days */
    countyd_duty duty;          /* presence.* (presence.h) */
    countyd_stars_config stars; /* stars.* (stars.h) */
    /* Notifying the villager (notify.h). */
    const char *notify_command; /* "" : messages wait unsent */
    int64_t attach_max_file, attach_max_case; /* attachment.max_file, .max_case (bytes) */
    int64_t notify_timeout_ms, notify_interval_ms, notify_retry_base_ms, notify_retry_cap_ms;
    int notify_retry_max;       /* attempts per message in all */
    const char *notify_templates[4]; /* by sj_notify_kind (1..3) */
} countyd_config;

/* The key table (static storage). */
const sj_config_key *countyd_config_keys(size_t *n);

/* Loads path (NULL: no file; only `database` is then NULL and the rest is
 * unset, enough for migrate and import).  Returns 0 or an SJ_ECONFIG_* /
 * SJ_EIO code with err "file:line: ...". */
int countyd_config_load(const char *path, countyd_config *out, sj_error *err);

void countyd_config_free(countyd_config *c);

/* Prints the documented keys as a commented example file. */
int countyd_config_print_doc(FILE *out);

/* The local socket on which `run` lists its live links for `sanji-countyd
 * links` (linkctl.h), named after listen.address: one county server per
 * address. */
void countyd_config_links_socket(const countyd_config *cfg, char out[SJ_LINKCTL_NAME_MAX]);

#endif
