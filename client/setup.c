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

/* The folder of path (without the last '/'), "." when it has none. */
static void dir_of(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

/* mkdir -p, each new folder 0755. */
static int make_dirs(const char *dir, sj_error *err)
{
    char buf[SC_CONFIG_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return sj_error_set(err, SJ_EIO, _("Cannot create the folder %s: %s."), buf,
                                    strerror(errno));
            if (end)
                break;
            *p = '/';
        }
    }
    return 0;
}

static int read_all(const char *path, size_t max, char **out, size_t *len, sj_error *err)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sj_error_set(err, errno == ENOENT ? SJ_ENOTFOUND : SJ_EIO,
                            _("Cannot read %s: %s."), path, strerror(errno));
    char *buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, max + 1, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return sj_error_set(err, SJ_EIO, _("Cannot read %s: %s."), path, strerror(EIO));
    }
    if (n > max) {
        free(buf);
        return sj_error_set(err, SJ_ETOOBIG, _("%s is too large for this."), path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Writes text to path through a temporary file, fsync and rename, with the
 * given mode whatever the umask. */
static int write_file(const char *path, const char *text, mode_t mode, sj_error *err)
{
    char tmp[SC_CONFIG_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%.4000s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return sj_error_set(err, SJ_EIO, _("Cannot write %s: %s."), tmp, strerror(errno));
    size_t len = strlen(text), done = 0;
    bool ok = fchmod(fd, mode) == 0;
    while (ok && done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        if (ok)
            done += (size_t)w;
    }
    int saved = errno;
    ok = ok && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = false;
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved = errno;
        unlink(tmp);
        return sj_error_set(err, SJ_EIO, _("Cannot write %s: %s."), path, strerror(saved));
    }
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
    char *data = NULL;
    size_t len = 0;
    int rc = read_all(bundle_path, SJ_ENROL_MAX_BYTES, &data, &len, err);
    if (rc == SJ_ETOOBIG)
        rc = sj_error_set(err, SJ_EINVAL, _("%s is not an enrolment bundle: it is far too large."),
                          bundle_path);
    if (rc != 0)
        return rc;
    sj_enrol_bundle b;
    sj_error oerr;
    sj_error_clear(&oerr);
    rc = sj_enrol_open(data, len, passphrase, &b, &oerr);
    free(data);
    if (rc != 0)
        return sj_error_set(err, rc, "%s: %s", bundle_path, oerr.message);

    char dir[SC_CONFIG_PATH_MAX];
    dir_of(target->config, dir, sizeof dir);
    char paths[N_FILES][SC_CONFIG_PATH_MAX + 16];
    const char *texts[N_FILES] = {b.cert_pem, b.key_pem, b.ca_pem, b.crl_pem, NULL};
    char *conf = conf_text(&b, target);
    texts[F_CONF] = conf;
    if (!conf) {
        rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < N_FILES; i++) {
        if (i == F_CONF)
            snprintf(paths[i], sizeof paths[i], "%s", target->config);
        else
            snprintf(paths[i], sizeof paths[i], "%.4000s/%s", dir, FILE_NAMES[i]);
    }
    /* A different setup already there: refuse before writing anything. */
    int same = 0;
    for (int i = 0; i < N_FILES; i++) {
        char *old = NULL;
        size_t olen = 0;
        sj_error rerr;
        int r = read_all(paths[i], SJ_ENROL_MAX_BYTES, &old, &olen, &rerr);
        if (r == SJ_ENOTFOUND)
            continue;
        bool equal = r == 0 && olen == strlen(texts[i]) && memcmp(old, texts[i], olen) == 0;
        if (old) {
            memset(old, 0, olen);
            free(old);
        }
        if (equal) {
            same++;
            continue;
        }
        if (!force) {
            rc = sj_error_set(err, SJ_EEXISTS,
                              _("This computer already has a different setup: %s differs from "
                                "the bundle of %s. Nothing was changed. To replace the setup, "
                                "run again with --force (the local store is kept)."),
                              paths[i], b.id.node_id);
            goto out;
        }
    }
    rc = make_dirs(dir, err);
    if (rc != 0)
        goto out;
    for (int i = 0; i < N_FILES; i++) {
        rc = write_file(paths[i], texts[i], FILE_MODES[i], err);
        if (rc != 0)
            goto out;
    }
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
    res->unchanged = same == N_FILES;
out:
    free(conf);
    sj_enrol_bundle_free(&b);
    return rc;
}
