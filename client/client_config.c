/*
 * client_config.c - client.conf: the key table and its loading for the
 * `sanji` CLI and the `sanji-desk` desktop program (see client_config.h).
 *
 * Entry points: sc_config_keys(), sc_config_print_doc(), sc_config_path(),
 * sc_config_load(), sc_config_release().
 */
#include "client_config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "i18n.h"

/* The descriptions are English: they document the file (docs/CLI.md and
 * deploy/examples/client.conf, generated from this table). */
static const sj_config_key CLIENT_KEYS[] = {
    {"node.cert", SJ_CONFIG_PATH, NULL, 0, 0, "this station's certificate (PEM), from sanji-pki"},
    {"node.key", SJ_CONFIG_PATH, NULL, 0, 0,
     "its private key (PEM), readable by the station's user only"},
    {"node.ca", SJ_CONFIG_PATH, NULL, 0, 0, "the county CA certificate (PEM)"},
    {"node.crl", SJ_CONFIG_STRING, "", 0, 0,
     "the county CRL (PEM); empty: no revocation check"},
    {"server.address", SJ_CONFIG_HOSTPORT_LIST, NULL, 0, 0,
     "the township relay (stations, township desks) or the county (county desks), ip:port, "
     "several tried in turn"},
    {"server.peer", SJ_CONFIG_STRING, "", 0, 0,
     "the node the server must be, e.g. relay:410423101000 or county:410423000000; empty: any"},
    {"store.path", SJ_CONFIG_PATH, NULL, 0, 0,
     "the local store (SQLite), one per station: outbox, feed cursor, cached cases"},
    {"person.default", SJ_CONFIG_STRING, "", 0, 0,
     "person id offered by `sanji login` and the desktop when none is given"},
    {"station.phone", SJ_CONFIG_STRING, "", 0, 0,
     "the station's phone, printed on the villager's papers (受理回执, 一次性告知单); empty: "
     "not printed"},
    {"attachment.max_file", SJ_CONFIG_SIZE, SJ_ATTACH_MAX_FILE_DEFAULT, 1024, INT64_C(1073741824),
     "largest photo or scan a cadre may attach here (the county has its own limit too)"},
    {"attachment.max_case", SJ_CONFIG_SIZE, SJ_ATTACH_MAX_CASE_DEFAULT, 1024, INT64_C(17179869184),
     "most bytes of attachments one case may hold"},
    {"attachment.in_flight", SJ_CONFIG_INT, "2", 1, 64,
     "attachment chunks (32 KiB each) sent on the link and not yet stored by the relay: the share "
     "of a slow village link an upload may take; case messages always go first"},
    {"link.feed_deltas", SJ_CONFIG_BOOL, "true", 0, 0,
     "take feed updates from the relay as what changed in the case, not the whole case: about "
     "half the bytes down a village line; false: every update whole"},
};
#define N_CLIENT_KEYS (sizeof(CLIENT_KEYS) / sizeof(CLIENT_KEYS[0]))

const sj_config_key *sc_config_keys(size_t *n)
{
    if (n)
        *n = N_CLIENT_KEYS;
    return CLIENT_KEYS;
}

int sc_config_print_doc(FILE *out)
{
    return sj_config_print_doc(CLIENT_KEYS, N_CLIENT_KEYS, out);
}

const char *sc_config_path(const char *path_or_NULL)
{
    if (path_or_NULL)
        return path_or_NULL;
    const char *e = getenv("SANJI_CONFIG");
    if (e && *e)
        return e;
    static char path[SC_CONFIG_PATH_MAX];
    const char *home = getenv("HOME");
    if (home && *home) {
        snprintf(path, sizeof(path), "%s/.config/sanji/client.conf", home);
        if (access(path, R_OK) == 0)
            return path;
    }
    return "/etc/sanji/client.conf";
}

/* node.crl is a string so that empty means "none"; a relative one is taken
 * relative to the file's directory like the path keys. */
static void resolve_crl(sc_loaded_config *c, const char *crl)
{
    if (!crl || !*crl || crl[0] == '/') {
        snprintf(c->crl, sizeof(c->crl), "%s", crl ? crl : "");
        return;
    }
    char dir[SC_CONFIG_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", c->path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        snprintf(c->crl, sizeof(c->crl), "%.2000s/%.2000s", dir, crl);
    } else {
        snprintf(c->crl, sizeof(c->crl), "%s", crl);
    }
}

int sc_config_load(const char *path_or_NULL, sc_loaded_config *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->path, sizeof(out->path), "%s", sc_config_path(path_or_NULL));
    int rc = sj_config_new(CLIENT_KEYS, N_CLIENT_KEYS, &out->cfg, err);
    if (rc != 0)
        return rc;
    sj_error e2;
    sj_error_clear(&e2);
    rc = sj_config_load_file(out->cfg, out->path, &e2);
    if (rc != 0)
        return sj_error_set(err, rc,
                            _("Cannot use the configuration file %s: %s (see docs/CLI.md; choose a file with --config or SANJI_CONFIG)."),
                            out->path, e2.message);
    resolve_crl(out, sj_config_get_string(out->cfg, "node.crl"));
    size_t n = 0;
    const sj_config_hostport *hp = sj_config_get_hostports(out->cfg, "server.address", &n);
    sc_config *cc = &out->client;
    for (size_t i = 0; i < n && i < SC_CONFIG_MAX_ADDRESSES; i++) {
        char *b = out->addr_buf[i];
        size_t cap = sizeof(out->addr_buf[i]);
        if (strchr(hp[i].host, ':'))
            snprintf(b, cap, "[%s]:%u", hp[i].host, hp[i].port);
        else
            snprintf(b, cap, "%s:%u", hp[i].host, hp[i].port);
        out->addrs[i] = b;
        cc->n_addresses++;
    }
    cc->cert_file = sj_config_get_path(out->cfg, "node.cert");
    cc->key_file = sj_config_get_path(out->cfg, "node.key");
    cc->ca_file = sj_config_get_path(out->cfg, "node.ca");
    cc->crl_file = out->crl;
    cc->addresses = out->addrs;
    cc->expected_peer = sj_config_get_string(out->cfg, "server.peer");
    cc->store_path = sj_config_get_path(out->cfg, "store.path");
    out->person_default = sj_config_get_string(out->cfg, "person.default");
    out->station_phone = sj_config_get_string(out->cfg, "station.phone");
    cc->attach_max_file = sj_config_get_size(out->cfg, "attachment.max_file");
    cc->attach_max_case = sj_config_get_size(out->cfg, "attachment.max_case");
    cc->attach_in_flight = (unsigned)sj_config_get_int(out->cfg, "attachment.in_flight");
    cc->no_feed_deltas = !sj_config_get_bool(out->cfg, "link.feed_deltas");
    return 0;
}

void sc_config_release(sc_loaded_config *c)
{
    if (!c)
        return;
    sj_config_free(c->cfg);
    memset(c, 0, sizeof(*c));
}
