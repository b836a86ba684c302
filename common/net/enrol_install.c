/*
 * enrol_install.c - a node's enrolment bundle put on disk (see
 * enrol_install.h).
 *
 * Entry points: sj_enrol_read_bundle(), sj_enrol_install(), sj_enrol_dir_of().
 */
#include "enrol_install.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "i18n.h"

void sj_enrol_dir_of(const char *path, char *out, size_t cap)
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
    char buf[SJ_ENROL_PATH_MAX];
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

/* Writes text to path through a temporary file, fsync and rename, with the
 * given mode whatever the umask. */
static int write_file(const char *path, const char *text, mode_t mode, sj_error *err)
{
    char tmp[SJ_ENROL_PATH_MAX + 32];
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

int sj_enrol_read_bundle(const char *path, const char *passphrase, sj_enrol_bundle *out,
                         sj_error *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = sj_file_read_all(path, SJ_ENROL_MAX_BYTES, &data, &len, err);
    if (rc == SJ_ETOOBIG)
        rc = sj_error_set(err, SJ_EINVAL, _("%s is not an enrolment bundle: it is far too large."),
                          path);
    if (rc != 0)
        return rc;
    sj_error oerr;
    sj_error_clear(&oerr);
    rc = sj_enrol_open(data, len, passphrase, out, &oerr);
    free(data);
    if (rc != 0)
        return sj_error_set(err, rc, "%s: %s", path, oerr.message);
    return 0;
}

int sj_enrol_install(const sj_enrol_file *files, size_t n, bool force, const char *node_id,
                     bool *unchanged, sj_error *err)
{
    *unchanged = false;
    /* A different setup already there: refuse before writing anything. */
    size_t same = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *old = NULL;
        size_t olen = 0;
        sj_error rerr;
        int r = sj_file_read_all(files[i].path, SJ_ENROL_MAX_BYTES, &old, &olen, &rerr);
        if (r == SJ_ENOTFOUND)
            continue;
        bool equal =
            r == 0 && olen == strlen(files[i].text) && memcmp(old, files[i].text, olen) == 0;
        if (old) {
            memset(old, 0, olen); /* it may be a key */
            free(old);
        }
        if (equal) {
            same++;
            continue;
        }
        if (!force)
            return sj_error_set(err, SJ_EEXISTS,
                                _("This computer already has a different setup: %s differs from "
                                  "the bundle of %s. Nothing was changed. To replace the setup, "
                                  "run again with --force (the local store is kept)."),
                                files[i].path, node_id);
    }
    for (size_t i = 0; i < n; i++) {
        char dir[SJ_ENROL_PATH_MAX];
        sj_enrol_dir_of(files[i].path, dir, sizeof dir);
        int rc = make_dirs(dir, err);
        if (rc == 0)
            rc = write_file(files[i].path, files[i].text, files[i].mode, err);
        if (rc != 0)
            return rc;
    }
    *unchanged = same == n;
    return 0;
}
