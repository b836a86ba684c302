/*
 * relay_config.c - sanji-relayd's documented configuration keys and their
 * loading into a relay_config.  See relay_config.h.
 *
 * Entry points: relay_config_load(), relay_config_free(),
 * relay_config_print_doc(), relay_config_keys(), relay_config_links_socket().
 */
#include "relay_config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "linkctl.h"

static const sj_config_key KEYS[] = {
    {"listen.address", SJ_CONFIG_HOSTPORT_LIST, "0.0.0.0:7444", 0, 0,
     "address and port the relay accepts village stations and township desks on"},
    {"county.addresses", SJ_CONFIG_HOSTPORT_LIST, NULL, 0, 0,
     "the county server's address(es), tried in turn (numeric host:port)"},
    {"county.node", SJ_CONFIG_STRING, NULL, 0, 0,
     "node id the county server's certificate must name, e.g. county:410423000000"},
    {"tls.ca", SJ_CONFIG_PATH, "/etc/sanji/ca.crt", 0, 0,
     "the county CA certificate (PEM), the only trust anchor"},
    {"tls.cert", SJ_CONFIG_PATH, "/etc/sanji/relay.crt", 0, 0,
     "this relay's certificate (PEM); its sanji:relay:<township> URI is the relay's identity"},
    {"tls.key", SJ_CONFIG_PATH, "/etc/sanji/relay.key", 0, 0, "this relay's private key (PEM)"},
    {"tls.crl", SJ_CONFIG_STRING, "", 0, 0,
     "the county CA's revocation list (PEM); empty: no revocation check until the county "
     "sends its CRL"},
    {"tls.crl_reload", SJ_CONFIG_DURATION, "1h", 1000, INT64_C(604800000),
     "re-read tls.crl this often (also on SIGHUP) and cut live links it revokes; an older CRL "
     "than the one in force is ignored"},
    {"store.path", SJ_CONFIG_PATH, "/var/lib/sanji/relay.db", 0, 0,
     "the relay's SQLite store (queue, results, feed, cache)"},
    {"queue.quota", SJ_CONFIG_SIZE, "512MiB", 1024, INT64_C(1) << 42,
     "disk quota of the upward queue; when full, new submissions are refused"},
    {"upstream.window", SJ_CONFIG_INT, "256", 1, 65536,
     "upward messages in flight to the county before waiting for acks"},
    {"upstream.chunk_window", SJ_CONFIG_INT, "8", 1, 65536,
     "attachment chunks (32 KiB each) among them at most; case messages go first, so an upload "
     "never holds up a case action (more than upstream.window counts as upstream.window)"},
    {"upstream.backoff_max", SJ_CONFIG_DURATION, "60s", 100, INT64_C(3600000),
     "longest wait between attempts to reach the county"},
    {"results.keep", SJ_CONFIG_DURATION, "30d", 60000, INT64_C(3650) * 86400000,
     "how long county results are kept to answer resent messages"},
    {"link.max_frame", SJ_CONFIG_SIZE, "1MiB", 4096, 64 << 20,
     "largest frame accepted or sent on any link"},
    {"link.idle_timeout", SJ_CONFIG_DURATION, "60s", 1000, INT64_C(3600000),
     "close a link that received nothing for this long (also a station or desk that stopped "
     "reading: the relay stops reading from a link it cannot write to)"},
    {"link.handshake_timeout", SJ_CONFIG_DURATION, "10s", 1000, INT64_C(300000),
     "close a link whose TLS handshake is not done this long after it connected"},
    {"link.write_buffer", SJ_CONFIG_SIZE, "1MiB", 16384, INT64_C(1) << 30,
     "unsent bytes the relay holds for one station or desk; above it the relay makes nothing "
     "more for that peer (feed, results, answers) until the link drains to a quarter of it"},
    {"link.heartbeat", SJ_CONFIG_DURATION, "15s", 100, INT64_C(600000),
     "send a heartbeat on every link this often (status to the county every second one)"},
    {"log.level", SJ_CONFIG_STRING, "info", 0, 0, "debug, info, warn or error"},
    {"log.file", SJ_CONFIG_STRING, "", 0, 0, "log file (appended to); empty: standard error"},
    {"metrics.listen", SJ_CONFIG_STRING, "", 0, 0,
     "address:port of this machine to serve Prometheus metrics on (GET /metrics), e.g. "
     "127.0.0.1:9464; empty: no metrics endpoint"},
};

const sj_config_key *relay_config_keys(size_t *n)
{
    *n = sizeof KEYS / sizeof KEYS[0];
    return KEYS;
}

int relay_config_print_doc(FILE *out)
{
    return sj_config_print_doc(KEYS, sizeof KEYS / sizeof KEYS[0], out);
}

static char *dup_or_null(const char *s)
{
    return (s && s[0]) ? strdup(s) : NULL;
}

void relay_config_free(relay_config *cfg)
{
    free(cfg->listen_host);
    for (size_t i = 0; i < cfg->n_county_addresses; i++)
        free(cfg->county_addresses[i]);
    free(cfg->county_addresses);
    free(cfg->county_node);
    free(cfg->ca_file);
    free(cfg->cert_file);
    free(cfg->key_file);
    free(cfg->crl_file);
    free(cfg->store_path);
    free(cfg->log_file);
    free(cfg->metrics_listen);
    memset(cfg, 0, sizeof *cfg);
}

static char *hostport_text(const sj_config_hostport *hp)
{
    char buf[300];
    if (strchr(hp->host, ':'))
        snprintf(buf, sizeof buf, "[%s]:%u", hp->host, hp->port);
    else
        snprintf(buf, sizeof buf, "%s:%u", hp->host, hp->port);
    return strdup(buf);
}

int relay_config_load(const char *path, relay_config *cfg, sj_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    sj_config *c = NULL;
    int rc = sj_config_new(KEYS, sizeof KEYS / sizeof KEYS[0], &c, err);
    if (rc != 0)
        return rc;
    if ((rc = sj_config_load_file(c, path, err)) != 0)
        goto out;
    size_t n = 0;
    const sj_config_hostport *hp = sj_config_get_hostports(c, "listen.address", &n);
    if (n != 1) {
        rc = sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                          "%s: listen.address must name exactly one host:port", path);
        goto out;
    }
    cfg->listen_host = strdup(hp[0].host);
    cfg->listen_port = hp[0].port;
    hp = sj_config_get_hostports(c, "county.addresses", &n);
    if (n == 0) {
        rc = sj_error_set(err, SJ_ECONFIG_MISSING, "%s: county.addresses names no address",
                          path);
        goto out;
    }
    cfg->county_addresses = calloc(n, sizeof(char *));
    if (cfg->county_addresses == NULL) {
        rc = sj_error_set(err, SJ_ENOMEM, NULL);
        goto out;
    }
    cfg->n_county_addresses = n;
    for (size_t i = 0; i < n; i++)
        cfg->county_addresses[i] = hostport_text(&hp[i]);
    cfg->county_node = strdup(sj_config_get_string(c, "county.node"));
    cfg->ca_file = strdup(sj_config_get_path(c, "tls.ca"));
    cfg->cert_file = strdup(sj_config_get_path(c, "tls.cert"));
    cfg->key_file = strdup(sj_config_get_path(c, "tls.key"));
    cfg->crl_file = dup_or_null(sj_config_get_string(c, "tls.crl"));
    cfg->crl_reload_ms = (uint64_t)sj_config_get_duration_ms(c, "tls.crl_reload");
    cfg->store_path = strdup(sj_config_get_path(c, "store.path"));
    cfg->queue_quota = sj_config_get_size(c, "queue.quota");
    cfg->window = (uint32_t)sj_config_get_int(c, "upstream.window");
    cfg->chunk_window = (uint32_t)sj_config_get_int(c, "upstream.chunk_window");
    cfg->backoff_max_ms = (uint64_t)sj_config_get_duration_ms(c, "upstream.backoff_max");
    cfg->result_keep_ms = sj_config_get_duration_ms(c, "results.keep");
    cfg->max_frame = (uint32_t)sj_config_get_size(c, "link.max_frame");
    cfg->idle_timeout_ms = (uint64_t)sj_config_get_duration_ms(c, "link.idle_timeout");
    cfg->handshake_timeout_ms = (uint64_t)sj_config_get_duration_ms(c, "link.handshake_timeout");
    cfg->write_buffer = sj_config_get_size(c, "link.write_buffer");
    cfg->heartbeat_ms = (uint64_t)sj_config_get_duration_ms(c, "link.heartbeat");
    cfg->log_file = dup_or_null(sj_config_get_string(c, "log.file"));
    cfg->metrics_listen = dup_or_null(sj_config_get_string(c, "metrics.listen"));
    if (sj_log_level_parse(sj_config_get_string(c, "log.level"), &cfg->log_level) != 0) {
        rc = sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                          "%s: log.level must be debug, info, warn or error", path);
        goto out;
    }
    if (cfg->listen_host == NULL || cfg->county_node == NULL || cfg->ca_file == NULL ||
        cfg->cert_file == NULL || cfg->key_file == NULL || cfg->store_path == NULL)
        rc = sj_error_set(err, SJ_ENOMEM, NULL);
out:
    sj_config_free(c);
    if (rc != 0)
        relay_config_free(cfg);
    return rc;
}

void relay_config_links_socket(const char *store_path, char *out)
{
    /* The store is what makes a relay unique on its machine; its real path,
     * so that the daemon and sanji-relayctl --store agree however the path
     * is written. */
    char real[PATH_MAX];
    sj_linkctl_name("sanji-relayd", realpath(store_path, real) ? real : store_path, out);
}
