/*
 * setup.h - sets a station (or desk) up from its enrolment bundle: the one
 * copy of the logic behind `sanji setup BUNDLE` and the desktop's
 * "导入本站配置" (docs/PKI.md, docs/CLI.md).
 *
 * The bundle (common/net/enrol.h) is opened with the passphrase from its slip;
 * only when it opens and holds together is anything written.  Next to the
 * configuration file go station.crt, station.key (mode 0600: the client
 * refuses a key others may read), ca.crt and crl.pem, and then the
 * configuration itself (client.conf syntax, relative paths).  Files already
 * there with other contents are a different setup: refused unless force.
 * Each file is replaced atomically (temporary file, fsync, rename): the
 * file handling is common/net/enrol_install.h's, shared with the relay's
 * setup.  The local store is never touched.
 *
 * Entry points: sc_setup_default_target(), sc_setup_import().
 */
#ifndef SANJI_CLIENT_SETUP_H
#define SANJI_CLIENT_SETUP_H

#include <stdbool.h>

#include "client_config.h"
#include "enrol.h"
#include "err.h"

typedef struct sc_setup_target {
    char config[SC_CONFIG_PATH_MAX]; /* the configuration file to write */
    char store[SC_CONFIG_PATH_MAX];  /* its store.path (relative: next to it) */
} sc_setup_target;

typedef struct sc_setup_result {
    sj_identity id;                         /* the node set up */
    char unit_name[SJ_ENROL_UNIT_NAME_MAX]; /* its unit's name */
    bool unchanged;                         /* the same setup was already there */
} sc_setup_result;

/* Where a setup goes.  dir given: dir/client.conf with the store client.db
 * beside it.  Otherwise config_or_NULL, else $SANJI_CONFIG, else (as root)
 * /etc/sanji/client.conf with the store /var/lib/sanji/client.db, else
 * ~/.config/sanji/client.conf with client.db beside it: the files the
 * client then finds by itself (client_config.h).  Returns 0 or SJ_EINVAL
 * (a path too long, or no home folder). */
int sc_setup_default_target(const char *dir, const char *config_or_NULL, sc_setup_target *out,
                            sj_error *err);

/* Opens the bundle file with passphrase (as typed) and writes the setup to
 * target.  Returns 0 (res filled), SJ_EAUTH (wrong passphrase), SJ_EINVAL
 * (not a bundle, damaged or cut short), SJ_EEXISTS (a different setup is
 * there and force is false), SJ_EIO (cannot read the bundle or write a
 * file), SJ_ENOMEM; err says in Chinese what was wrong and what to do. */
int sc_setup_import(const char *bundle_path, const char *passphrase, const sc_setup_target *target,
                    bool force, sc_setup_result *res, sj_error *err);

#endif
