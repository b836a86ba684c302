/*
 * relay_config.h - sanji-relayd's configuration: the documented keys, their
 * defaults, and the values read from the configuration file.
 *
 * Every key is declared once in the table in relay_config.c (name, type,
 * default, range, description); docs/RELAY.md lists the same keys and
 * `sanji-relayd --print-config-doc` prints the table as a commented file.
 *
 * Ownership: relay_config_load() fills a caller-owned relay_config whose
 * strings are malloc'd; relay_config_free() frees them (also after a failed
 * load, and on a zeroed struct).  The struct may be loaded again after
 * relay_config_free().
 *
 * Entry points: relay_config_load(), relay_config_free(),
 * relay_config_print_doc(), relay_config_keys(), relay_config_links_socket().
 */
#ifndef RELAY_CONFIG_H
#define RELAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "err.h"
#include "log.h"

typedef struct relay_config {
    char *listen_host;          /* listen.address, host part */
    int listen_port;            /* listen.address, port part (0: any free port) */
    char **county_addresses;    /* county.addresses, "host:port" each */
    size_t n_county_addresses;
    char *county_node;          /* county.node, e.g. "county:410423000000" */
    char *ca_file, *cert_file, *key_file;
    char *crl_file;             /* NULL when tls.crl is empty */
    uint64_t crl_reload_ms;     /* tls.crl_reload */
    char *store_path;           /* store.path */
    uint64_t queue_quota;       /* queue.quota, bytes */
    uint32_t window;            /* upstream.window */
    uint32_t chunk_window;      /* upstream.chunk_window: attachment chunks of the window */
    uint64_t backoff_max_ms;    /* upstream.backoff_max */
    int64_t result_keep_ms;     /* results.keep */
    uint32_t max_frame;         /* link.max_frame */
    uint64_t idle_timeout_ms;   /* link.idle_timeout */
    uint64_t handshake_timeout_ms; /* link.handshake_timeout */
    uint64_t write_buffer;      /* link.write_buffer, bytes (a station or desk link) */
    uint64_t heartbeat_ms;      /* link.heartbeat */
    sj_log_level log_level;     /* log.level */
    char *log_file;             /* log.file; NULL: stderr */
    char *metrics_listen;       /* metrics.listen; NULL: no metrics endpoint */
} relay_config;

/* The key table (static). */
const sj_config_key *relay_config_keys(size_t *n);

/* Reads path (required) and fills cfg.  Returns 0, or the sj_config codes
 * (SJ_EIO, SJ_ECONFIG_*) with err "file:line: ...". */
int relay_config_load(const char *path, relay_config *cfg, sj_error *err);

void relay_config_free(relay_config *cfg);

/* Prints the documented keys as a commented configuration file. */
int relay_config_print_doc(FILE *out);

/* The local socket on which the relay of the store at store_path lists its
 * live links for `sanji-relayctl links` (linkctl.h); out holds
 * SJ_LINKCTL_NAME_MAX bytes. */
void relay_config_links_socket(const char *store_path, char *out);

#endif
