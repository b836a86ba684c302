/*
 * enrol_install.h - puts a node's enrolment bundle on disk: the one copy of
 * the file handling behind `sanji setup` (client/setup.h) and
 * `sanji-relayctl setup` (relay/setup.h); each decides only which files
 * and which configuration text it writes.
 *
 * The bundle (common/net/enrol.h) is read and opened with the passphrase from
 * its slip; only when it opens and holds together is anything written.
 * Files already there with other contents are a different setup: refused,
 * before anything is written, unless force.  Each file is replaced
 * atomically (temporary file, fsync, rename) with the mode given, whatever
 * the umask; the files are written in the order given (the configuration
 * last, so that it never names a file not yet there).
 *
 * Entry points: sj_enrol_read_bundle(), sj_enrol_install(), sj_enrol_dir_of().
 */
#ifndef SJ_ENROL_INSTALL_H
#define SJ_ENROL_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "enrol.h"
#include "err.h"

#define SJ_ENROL_PATH_MAX 4096

typedef struct sj_enrol_file {
    const char *path; /* where it goes */
    const char *text; /* its contents, NUL-terminated */
    mode_t mode;      /* e.g. 0600 for a key */
} sj_enrol_file;

/* Reads the bundle file at path and opens it with passphrase (as typed).
 * Returns 0 (*out filled: free it with sj_enrol_bundle_free()), SJ_EAUTH
 * (wrong passphrase), SJ_EINVAL (not a bundle, damaged, cut short, or far
 * too large), SJ_EIO / SJ_ENOTFOUND (cannot read it), SJ_ENOMEM; err says
 * it in Chinese, naming the file. */
int sj_enrol_read_bundle(const char *path, const char *passphrase, sj_enrol_bundle *out,
                         sj_error *err);

/* Writes files[0..n) (see the top of this file).  node_id names the
 * bundle's node in the refusal.  *unchanged is set when every file was
 * already there with the same contents.  Returns 0, SJ_EEXISTS (a
 * different setup is there and force is false; nothing was written),
 * SJ_EIO (a folder or file cannot be made), SJ_ENOMEM. */
int sj_enrol_install(const sj_enrol_file *files, size_t n, bool force, const char *node_id,
                     bool *unchanged, sj_error *err);

/* The folder of path (without the last '/'), "." when it has none. */
void sj_enrol_dir_of(const char *path, char *out, size_t cap);

#endif
