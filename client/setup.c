/*
 * setup.c - a station set up from its enrolment bundle (see setup.h).
 *
 * Entry points: sc_setup_default_target(), sc_setup_import().
 */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrol_install.h"
#include "i18n.h"

/* The files of a setup, in the order they are written: the configuration
 * last, so that it never names a file not yet there. */
enum { F_CERT, F_KEY, F_CA, F_CRL, F_CONF, N_FILES };
static const char *const FILE_NAMES[N_FILES] = {"station.crt", "station.key", "ca.crt", "crl.pem",
                                                NULL};
static const mode_t FILE_MODES[N_FILES] = {0644, 0600, 0644, 0644, 0644};

int sc_setup_default_target(const char *dir, const char *config_or_NULL, sc_setup_target *out,
                            sj_error *err)
{
    memset(out, 0, sizeof *out);
    int n;
    const char *env = getenv("SANJI_CONFIG");
    const char *home = getenv("HOME");
    if (dir && *dir) {
        n = snprintf(out->config, sizeof out->config, "%s/client.conf", dir);
        snprintf(out->store, sizeof out->store, "client.db");
    } else if ((config_or_NULL && *config_or_NULL) || (env && *env)) {
        n = snprintf(out->config, sizeof out->config, "%s",
                     config_or_NULL && *config_or_NULL ? config_or_NULL : env);
        snprintf(out->store, sizeof out->store, "client.db");
    } else if (geteuid() == 0) {
        n = snprintf(out->config, sizeof out->config, "/etc/sanji/client.conf");
        snprintf(out->store, sizeof out->store, "/var/lib/sanji/client.db");
    } else if (home && *home) {
        n = snprintf(out->config, sizeof out->config, "%s/.config/sanji/client.conf", home);
        snprintf(out->store, sizeof out->store, "client.db");
    } else {
        return sj_error_set(err, SJ_EINVAL, "%s",
                            _("No folder for the station's files: HOME is not set. Choose one "
                              "with --dir."));
    }
    if (n < 0 || (size_t)n >= sizeof out->config - 32)
        return sj_error_set(err, SJ_EINVAL, _("The folder name %s is too long."),
                            dir ? dir : out->config);
    return 0;
}

static char *conf_text(const sj_enrol_bundle *b, const sc_setup_target *t)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fprintf(f,
            "# client.conf of %s %s, written by `sanji setup` from its enrolment bundle\n"
            "# (docs/PKI.md, docs/CLI.md).  Relative paths are taken from this file's folder.\n"
            "\n[node]\ncert = %s\nkey = %s\nca = %s\ncrl = %s\n"
            "\n[server]\naddress = %s\npeer = \"%s\"\n"
            "\n[store]\npath = %s\n",
            b->id.node_id, b->unit_name, FILE_NAMES[F_CERT], FILE_NAMES[F_KEY], FILE_NAMES[F_CA],
            FILE_NAMES[F_CRL], b->address, b->peer, t->store);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

int sc_setup_import(const char *bundle_path, const char *passphrase, const sc_setup_target *target,
                    bool force, sc_setup_result *res, sj_error *err)
{
    memset(res, 0, sizeof *res);
    sj_enrol_bundle b;
    int rc = sj_enrol_read_bundle(bundle_path, passphrase, &b, err);
    if (rc != 0)
        return rc;
    char dir[SC_CONFIG_PATH_MAX];
    sj_enrol_dir_of(target->config, dir, sizeof dir);
    char paths[N_FILES][SC_CONFIG_PATH_MAX + 16];
    const char *texts[N_FILES] = {b.cert_pem, b.key_pem, b.ca_pem, b.crl_pem, NULL};
    char *conf = conf_text(&b, target);
    texts[F_CONF] = conf;
    if (!conf) {
        rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        goto out;
    }
    sj_enrol_file files[N_FILES];
    for (int i = 0; i < N_FILES; i++) {
        if (i == F_CONF)
            snprintf(paths[i], sizeof paths[i], "%s", target->config);
        else
            snprintf(paths[i], sizeof paths[i], "%.4000s/%s", dir, FILE_NAMES[i]);
        files[i] = (sj_enrol_file){paths[i], texts[i], FILE_MODES[i]};
    }
    bool unchanged = false;
    rc = sj_enrol_install(files, N_FILES, force, b.id.node_id, &unchanged, err);
    if (rc != 0)
        goto out;
    /* What was written must be what the client reads. */
    sc_loaded_config lc;
    sj_error lerr;
    sj_error_clear(&lerr);
    rc = sc_config_load(target->config, &lc, &lerr);
    sc_config_release(&lc);
    if (rc != 0) {
        rc = sj_error_set(err, rc, "%s", lerr.message);
        goto out;
    }
    res->id = b.id;
    snprintf(res->unit_name, sizeof res->unit_name, "%s", b.unit_name);
    res->unchanged = unchanged;
out:
    free(conf);
    sj_enrol_bundle_free(&b);
    return rc;
}
