/*
 * pki_int.h - what the files of sanji-pki share (private to deploy/pki/):
 * the options of a command line, the CA directory, the careful file
 * writers, certificate making, the CRL and the enrolment pieces.
 *
 * sanji-pki.c reads the command line and calls one pki_cmd_*() per
 * command; docs/PKI.md describes the tool.
 */
#ifndef PKI_INT_H
#define PKI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "csv.h"
#include "err.h"
#include "identity.h"

#define PROG "sanji-pki"

/* ---------- messages and options (sanji-pki.c) -------------------------- */

/* "sanji-pki: " and the message on stderr, the hint to --help, exit 2. */
void pki_die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Prints the message and the OpenSSL error queue (if any) to stderr. */
void pki_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct pki_opts {
    const char *dir, *county, *name, *role, *unit, *hosts, *out, *cert;
    const char *orgunits, *township, *address; /* enrol */
    long days;
    bool have_days;
    long minutes;
    bool have_minutes;
    long long not_before, not_after;
    bool have_nb, have_na;
} pki_opts;

/* A usage error (exit 2) when v, the value of option opt, is missing. */
void pki_need(const char *v, const char *opt, const char *cmd);

/* ---------- files (pki_files.c) ----------------------------------------- */

/* Writes arg's text to f; false when the write failed. */
typedef bool (*pki_writer_fn)(FILE *f, void *arg);

bool pki_write_key(FILE *f, void *arg);  /* arg: EVP_PKEY */
bool pki_write_cert(FILE *f, void *arg); /* arg: X509 */
bool pki_write_crl(FILE *f, void *arg);  /* arg: X509_CRL */
bool pki_write_text(FILE *f, void *arg); /* arg: a string */

char *pki_path_in(const char *dir, const char *file);
FILE *pki_create_excl(const char *path, mode_t mode);
int pki_close_checked(FILE *f, const char *path, bool ok);
int pki_replace_file(const char *path, mode_t mode, pki_writer_fn fn, void *arg);
int pki_write_new(const char *path, mode_t mode, pki_writer_fn fn, void *arg);
X509 *pki_read_cert(const char *path);
EVP_PKEY *pki_read_key(const char *path);
char *pki_pem_string(pki_writer_fn fn, void *arg);
char *pki_slurp(const char *path);

/* ---------- the CA directory (pki_ca.c) --------------------------------- */

typedef struct pki_ca {
    char *dir;
    X509 *cert;
    EVP_PKEY *key;
    char county[SJ_IDENTITY_UNIT_LEN + 1];
} pki_ca;

int pki_ca_load(const char *dir, pki_ca *ca);
void pki_ca_free(pki_ca *ca);
int pki_next_serial(const char *dir, BIGNUM **out);

/* ---------- certificates (pki_cert.c) ----------------------------------- */

typedef struct pki_cert_ext {
    int nid;
    const char *value; /* in openssl.cnf's syntax */
} pki_cert_ext;

EVP_PKEY *pki_new_key(void);
X509 *pki_make_cert(const BIGNUM *bn, const char *ou, const char *cn, time_t nb, time_t na,
                    EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const pki_cert_ext *exts,
                    size_t n_exts, const char *sign_failed);
int pki_issue_node(pki_ca *ca, const sj_identity *id, const char *hosts, long long nb, long long na,
                   X509 **xo, EVP_PKEY **ko, BIGNUM **bno);
int pki_cert_identity(X509 *x, sj_identity *id, sj_error *err, bool print);

/* ---------- the CRL (pki_crl.c) ----------------------------------------- */

int pki_publish_crl(pki_ca *ca, long days);

/* ---------- enrolment (pki_orgtree.c, pki_bundle.c) --------------------- */

/* One unit of the org tree CSV (deploy/demo/orgunits.csv). */
typedef struct pki_org_unit {
    const char *code, *name, *level, *parent;
} pki_org_unit;

int pki_read_orgunits(const char *path, sj_csv *csv);
bool pki_org_row(const sj_csv *csv, size_t i, pki_org_unit *u);
bool pki_org_find(const sj_csv *csv, const char *code, pki_org_unit *u);

/* What every bundle of one run shares. */
typedef struct pki_enrol_run {
    pki_ca ca;
    char *ca_pem, *crl_pem;
    const char *address, *out;
    const char *hosts; /* --host: DNS names and addresses of a relay's certificate */
    long long nb, na;
    int issued, failed;
} pki_enrol_run;

int pki_enrol_one(pki_enrol_run *run, const sj_identity *id, const char *unit_name);

/* ---------- the commands (one file each) -------------------------------- */

int pki_cmd_init(const pki_opts *o);   /* pki_init.c */
int pki_cmd_issue(const pki_opts *o);  /* pki_issue.c */
int pki_cmd_revoke(const pki_opts *o); /* pki_revoke.c */
int pki_cmd_crl(const pki_opts *o);    /* pki_revoke.c */
int pki_cmd_show(const pki_opts *o);   /* pki_show.c */
int pki_cmd_enrol(const pki_opts *o);  /* pki_enrol.c */

#endif
