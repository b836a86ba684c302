/*
 * setup.c - a township relay set up from its enrolment bundle (see
 * setup.h).
 *
 * Entry points: relay_setup_import().
 */
#include "setup.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "i18n.h"
#include "relay_config.h"

/* The files, in the order they are written: the configuration last. */
enum { F_CERT, F_KEY, F_CA, F_CRL, F_CONF, N_FILES };
static const char *const FILE_NAMES[N_FILES] = {"relay.crt", "relay.key", "ca.crt", "crl.pem",
                                                "relayd.conf"};
static const mode_t FILE_MODES[N_FILES] = {0644, 0600, 0644, 0644, 0640};

static char *conf_text(const sj_enrol_bundle *b, char paths[N_FILES][SJ_ENROL_PATH_MAX],
                       const char *store, const char *listen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fprintf(f,
            "# relayd.conf of %s %s, written by `sanji-relayctl setup` from its enrolment\n"
            "# bundle (docs/PKI.md).  Every key not set here keeps its default:\n"
            "# `sanji-relayd --print-config-doc` lists them all (docs/CONFIG.md).\n"
            "\n[listen]\naddress = %s\n"
            "\n[county]\naddresses = %s\nnode = \"%s\"\n"
            "\n[tls]\nca = %s\ncert = %s\nkey = %s\ncrl = \"%s\"\n"
            "\n[store]\npath = %s\n",
            b->id.node_id, b->unit_name, listen && *listen ? listen : "0.0.0.0:7444", b->address, b->peer, paths[F_CA], paths[F_CERT],
            paths[F_KEY], paths[F_CRL], store);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* As root with a `sanji` user: the daemon (User=sanji) must read its key
 * and configuration; nobody else may. */
static int give_to_daemon(char paths[N_FILES][SJ_ENROL_PATH_MAX], sj_error *err)
{
    if (geteuid() != 0)
        return 0;
    struct passwd *pw = getpwnam("sanji");
    if (!pw)
        return 0;
    if (chown(paths[F_KEY], pw->pw_uid, pw->pw_gid) != 0)
        return sj_error_set(err, SJ_EIO, _("Cannot give %s to the user sanji: %s."), paths[F_KEY],
                            strerror(errno));
    if (chown(paths[F_CONF], 0, pw->pw_gid) != 0)
        return sj_error_set(err, SJ_EIO, _("Cannot give %s to the user sanji: %s."),
                            paths[F_CONF], strerror(errno));
    return 0;
}

/* --listen, checked before anything is written, as the relay will read
 * it. */
static int check_listen(const char *listen, sj_error *err)
{
    size_t nkeys;
    const sj_config_key *keys = relay_config_keys(&nkeys);
    sj_config *check = NULL;
    sj_error cerr;
    sj_error_clear(&cerr);
    int rc = sj_config_new(keys, nkeys, &check, &cerr);
    if (rc == 0)
        rc = sj_config_set(check, "listen.address", listen, &cerr);
    sj_config_free(check);
    if (rc != 0 || strpbrk(listen, "\"\\#\n") != NULL)
        return sj_error_set(err, SJ_EINVAL,
                            _("--listen %s is not an address to listen on: give host:port, "
                              "e.g. 0.0.0.0:7444. Nothing was changed."),
                            listen);
    return 0;
}

/* The folder of the files and the store's path, absolute: tls.crl is read
 * from where the daemon runs. */
static int setup_paths(const char *dir, char folder[SJ_ENROL_PATH_MAX],
                       char store[SJ_ENROL_PATH_MAX], sj_error *err)
{
    if (!dir || !*dir) {
        snprintf(folder, SJ_ENROL_PATH_MAX, "/etc/sanji");
        snprintf(store, SJ_ENROL_PATH_MAX, "/var/lib/sanji/relay.db");
        return 0;
    }
    char cwd[SJ_ENROL_PATH_MAX];
    if (dir[0] != '/' && !getcwd(cwd, sizeof cwd))
        return sj_error_set(err, SJ_EIO, _("Cannot read the current folder: %s."),
                            strerror(errno));
    int n = dir[0] == '/' ? snprintf(folder, SJ_ENROL_PATH_MAX, "%s", dir)
                          : snprintf(folder, SJ_ENROL_PATH_MAX, "%s/%s", cwd, dir);
    if (n < 0 || (size_t)n >= SJ_ENROL_PATH_MAX - 32)
        return sj_error_set(err, SJ_EINVAL, _("The folder name %s is too long."), dir);
    snprintf(store, SJ_ENROL_PATH_MAX, "%.4000s/relay.db", folder);
    return 0;
}

int relay_setup_import(const char *bundle_path, const char *passphrase, const char *dir,
                       const char *listen, bool force, relay_setup_result *res, sj_error *err)
{
    memset(res, 0, sizeof *res);
    sj_enrol_bundle b;
    int rc = sj_enrol_read_bundle(bundle_path, passphrase, &b, err);
    if (rc != 0)
        return rc;
    char *conf = NULL;
    if (b.id.role != SJ_NODE_ROLE_RELAY) {
        rc = sj_error_set(err, SJ_EINVAL,
                          _("%s is the bundle of %s, not of a township relay. Set a station or "
                            "desk up with `sanji setup` or sanji-desk; a relay needs a bundle "
                            "made with `sanji-pki enrol --role relay`."),
                          bundle_path, b.id.node_id);
        goto out;
    }
    if (listen && *listen && (rc = check_listen(listen, err)) != 0)
        goto out;
    char folder[SJ_ENROL_PATH_MAX], store[SJ_ENROL_PATH_MAX];
    if ((rc = setup_paths(dir, folder, store, err)) != 0)
        goto out;
    char paths[N_FILES][SJ_ENROL_PATH_MAX];
    for (int i = 0; i < N_FILES; i++)
        snprintf(paths[i], sizeof paths[i], "%.4000s/%s", folder, FILE_NAMES[i]);
    if ((conf = conf_text(&b, paths, store, listen)) == NULL) {
        rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        goto out;
    }
    const char *texts[N_FILES] = {b.cert_pem, b.key_pem, b.ca_pem, b.crl_pem, conf};
    sj_enrol_file files[N_FILES];
    for (int i = 0; i < N_FILES; i++)
        files[i] = (sj_enrol_file){paths[i], texts[i], FILE_MODES[i]};
    bool unchanged = false;
    rc = sj_enrol_install(files, N_FILES, force, b.id.node_id, &unchanged, err);
    if (rc == 0)
        rc = give_to_daemon(paths, err);
    if (rc != 0)
        goto out;
    /* What was written must be what the relay reads. */
    relay_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sj_error lerr;
    sj_error_clear(&lerr);
    rc = relay_config_load(paths[F_CONF], &cfg, &lerr);
    relay_config_free(&cfg);
    if (rc != 0) {
        rc = sj_error_set(err, rc, "%s", lerr.message);
        goto out;
    }
    res->id = b.id;
    snprintf(res->unit_name, sizeof res->unit_name, "%s", b.unit_name);
    snprintf(res->config, sizeof res->config, "%s", paths[F_CONF]);
    res->unchanged = unchanged;
out:
    free(conf);
    sj_enrol_bundle_free(&b);
    return rc;
}
