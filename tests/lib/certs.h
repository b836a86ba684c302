/*
 * certs.h - test helper: a temporary county PKI made by the real sanji-pki
 * binary, with one certificate for every case a TLS test needs.
 *
 * sj_test_certs_setup() finds sanji-pki under $SANJI_BUILD_DIR/deploy/pki,
 * makes a temporary directory and in it:
 *
 *   ca/        the county CA of 410423000000 (ca.crt, crl.pem, ...)
 *   foreign/   another CA claiming the same county (a rogue or stale one)
 *   <name>.crt/.key for each name below (issued by ca/ unless noted):
 *     county          county:410423000000, hosts 127.0.0.1,localhost
 *     relay           relay:410423101000, hosts 127.0.0.1,localhost
 *     relay2          relay:410423102000, hosts 127.0.0.1,localhost
 *     village         village:410423101201
 *     township-desk   township-desk:410423101000
 *     county-desk     county-desk:410423000000:ops1
 *     foreign-village village:410423101201 issued by foreign/
 *     expired-village village:410423101202, expired a year ago
 *     future-village  village:410423101203, valid from a year ahead
 *     revoked-village village:410423101204, revoked in ca/crl.pem
 *     no-identity     from ca/, but with only DNS:localhost in subjectAltName
 *     bad-identity    from ca/, URI sanji:village:410423101000 (a township code)
 *
 * The struct is filled by setup and owned by the caller (usually on the
 * stack); sj_test_certs_cleanup() removes the directory.  Loopback tests use
 * the same set.
 *
 * Entry points: sj_test_certs_setup(), sj_test_certs_cleanup(),
 * sj_test_certs_path(), sj_test_certs_pki(), sj_test_certs_tls_ctx().
 */
#ifndef SJ_TEST_CERTS_H
#define SJ_TEST_CERTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "tls.h"

typedef struct sj_test_certs {
    char dir[256];            /* the temporary directory (short, so paths below fit) */
    char pki[PATH_MAX];       /* the sanji-pki binary */
    char ca_file[PATH_MAX];   /* <dir>/ca/ca.crt */
    char crl_file[PATH_MAX];  /* <dir>/ca/crl.pem */
    char ca_dir[PATH_MAX];    /* <dir>/ca */
    char foreign_ca_file[PATH_MAX];
} sj_test_certs;

/* Makes the set.  Returns 0, or -1 after printing what failed to stderr. */
int sj_test_certs_setup(sj_test_certs *c);

/* Removes the directory and everything in it. */
void sj_test_certs_cleanup(sj_test_certs *c);

/* Writes "<dir>/<name>.<ext>" (ext "crt" or "key") into buf and returns buf. */
const char *sj_test_certs_path(const sj_test_certs *c, const char *name, const char *ext,
                               char *buf, size_t cap);

/* Runs sanji-pki with the given arguments (NULL-terminated; argv[0] is
 * added), output appended to <dir>/pki.log.  Returns its exit status, or -1
 * when it could not be run. */
int sj_test_certs_pki(const sj_test_certs *c, const char *const args[]);

/* A TLS context (common/net/tls.h) holding the set's certificate `name` (NULL
 * or "": none, as a client without a certificate), trusting ca_file (NULL:
 * the set's county CA), checking the set's CRL when with_crl, and allowing
 * peers of the n_roles roles.  Returns the context (the caller frees it
 * with sj_tls_ctx_free()), or NULL with err set by sj_tls_ctx_new(). */
sj_tls_ctx *sj_test_certs_tls_ctx(const sj_test_certs *c, const char *name, bool is_server,
                                  bool with_crl, const sj_node_role *roles, size_t n_roles,
                                  const char *ca_file, sj_error *err);

#endif
