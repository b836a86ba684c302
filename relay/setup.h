/*
 * setup.h - sets a township relay up from its enrolment bundle: the logic
 * behind `sanji-relayctl setup BUNDLE` (docs/PKI.md "A relay from its
 * bundle").
 *
 * The bundle (`sanji-pki enrol --role relay`) holds the relay's
 * certificate and key, the county CA, its CRL and the county's address.
 * Written into one folder: relay.crt, relay.key (0600), ca.crt, crl.pem and,
 * last, relayd.conf (0640) naming them by absolute path, with the county's
 * address and node and the store path; every other key keeps its default.
 * The file handling (refusing a different setup unless force, atomic
 * replacement) is common/net/enrol_install.h's.  Run as root with a `sanji`
 * user present (the packages make it), the key goes to sanji:sanji and the
 * configuration to root:sanji, which is what the daemon's unit needs.  The
 * store is never touched.
 *
 * Entry points: relay_setup_import().
 */
#ifndef SANJI_RELAY_SETUP_H
#define SANJI_RELAY_SETUP_H

#include <stdbool.h>

#include "enrol.h"
#include "enrol_install.h"
#include "err.h"

typedef struct relay_setup_result {
    sj_identity id;                         /* the relay set up */
    char unit_name[SJ_ENROL_UNIT_NAME_MAX]; /* its township's name */
    char config[SJ_ENROL_PATH_MAX];         /* the relayd.conf written */
    bool unchanged;                         /* the same setup was already there */
} relay_setup_result;

/* Opens the bundle with passphrase (as typed) and writes the relay's files
 * into dir (NULL or "": /etc/sanji, with the store /var/lib/sanji/relay.db;
 * otherwise the store relay.db in dir); listen (NULL or "": the default,
 * 0.0.0.0:7444) is the address stations and desks connect to.  Returns 0 (res filled), SJ_EAUTH
 * (wrong passphrase), SJ_EINVAL (not a bundle, damaged, or a bundle of a
 * station or desk), SJ_EEXISTS (a different setup is there and force is
 * false), SJ_EIO, SJ_ENOMEM; err says in Chinese what was wrong and what to
 * do. */
int relay_setup_import(const char *bundle_path, const char *passphrase, const char *dir,
                       const char *listen, bool force, relay_setup_result *res, sj_error *err);

#endif
