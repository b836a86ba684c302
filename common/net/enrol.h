/*
 * enrol.h - the enrolment bundle: everything one station, desk or relay
 * needs to join the network, in one file protected by a one-time passphrase
 * (docs/PKI.md, "Enrolment bundles").
 *
 * `sanji-pki enrol` seals bundles; `sanji setup` and `sanji-desk` open them
 * (client/setup.h), `sanji-relayctl setup` a relay's (relay/setup.h), both
 * through common/net/enrol_install.h.  The file is a PEM "CMS" block: CMS
 * AuthEnvelopedData (AES-256-GCM, so that any change to the file is detected) whose content
 * key is wrapped for a password recipient (RFC 3211 PWRI, PBKDF2 with
 * HMAC-SHA256).  All of it is OpenSSL's; nothing here is cryptography of
 * its own.  The plaintext is a small configuration text in the syntax of
 * config.h followed by PEM blocks in a fixed order:
 *
 *   [bundle]
 *   version = 1
 *   node = village:410423101201
 *   unit_name = "张官营村"
 *   [server]
 *   address = 10.41.101.2:7444
 *   peer = relay:410423101000
 *   -----BEGIN CERTIFICATE-----   the node's certificate
 *   -----BEGIN PRIVATE KEY-----   its key
 *   -----BEGIN CERTIFICATE-----   the county CA
 *   -----BEGIN X509 CRL-----      the CA's current CRL
 *
 * The passphrase is 20 characters of Crockford's base32 alphabet (100 bits
 * from RAND_bytes), printed in groups of four: "K7QM-3XW2-9TRD-HE5A-M2PV".
 * What a person types is normalised first (case, spaces and dashes ignored,
 * O read as 0, I and L as 1).
 *
 * Ownership: sj_enrol_open() fills a caller-supplied sj_enrol_bundle with
 * malloc'd strings; free them with sj_enrol_bundle_free() (also after a
 * failed open, or on a zeroed struct).  For sealing, the caller fills the
 * struct with its own strings and keeps them.
 *
 * Entry points: sj_enrol_passphrase(), sj_enrol_passphrase_normalise(),
 * sj_enrol_seal(), sj_enrol_open(), sj_enrol_bundle_free().
 */
#ifndef SJ_ENROL_H
#define SJ_ENROL_H

#include <stddef.h>

#include "err.h"
#include "identity.h"

#define SJ_ENROL_PASSPHRASE_CHARS 20 /* significant characters (5 bits each) */
#define SJ_ENROL_PASSPHRASE_SIZE 32  /* printed form with dashes, and NUL */
#define SJ_ENROL_MAX_BYTES (1024u * 1024u) /* larger files are not bundles */
#define SJ_ENROL_UNIT_NAME_MAX 256

typedef struct sj_enrol_bundle {
    sj_identity id;                        /* the node (its certificate's identity) */
    char unit_name[SJ_ENROL_UNIT_NAME_MAX]; /* the unit's name in the org tree; may be "" */
    char *address;  /* its relay or county: "host:port[, host:port...]" */
    char *peer;     /* the node the server must be ("relay:410423101000"); may be "" */
    char *cert_pem; /* PEM texts, each ending in a newline */
    char *key_pem;
    char *ca_pem;
    char *crl_pem;
} sj_enrol_bundle;

/* A new random passphrase in its printed form (groups of four joined by
 * '-').  Returns 0, or SJ_EINTERNAL when the random generator fails. */
int sj_enrol_passphrase(char out[SJ_ENROL_PASSPHRASE_SIZE], sj_error *err);

/* The significant form of what a person typed: the 20 characters in upper
 * case, without spaces or dashes, look-alikes mapped.  Returns 0, or
 * SJ_EAUTH (err says what the passphrase looks like) when it cannot be one. */
int sj_enrol_passphrase_normalise(const char *typed, char out[SJ_ENROL_PASSPHRASE_SIZE],
                                  sj_error *err);

/* Seals b (every string set; key_pem an unencrypted PEM key) under the
 * passphrase (printed or normalised form).  *out is a malloc'd PEM text of
 * *out_len bytes (NUL-terminated).  Returns 0, SJ_EINVAL (a field cannot be
 * written: err says which) or SJ_EINTERNAL (OpenSSL failed). */
int sj_enrol_seal(const sj_enrol_bundle *b, const char *passphrase, char **out, size_t *out_len,
                  sj_error *err);

/* Opens a bundle file's bytes with the passphrase a person typed, and
 * checks what is inside: the key matches the certificate, the certificate
 * and the CRL are signed by the CA, the certificate's identity is the node
 * the bundle names.  Returns 0, SJ_EAUTH (wrong passphrase), SJ_EINVAL (not
 * a bundle, truncated or altered; or its content does not hold together) or
 * SJ_ENOMEM; err says it in Chinese with what to do. */
int sj_enrol_open(const void *data, size_t len, const char *passphrase, sj_enrol_bundle *out,
                  sj_error *err);

/* Frees the strings sj_enrol_open() set (the key text wiped first) and
 * zeroes *b. */
void sj_enrol_bundle_free(sj_enrol_bundle *b);

#endif
