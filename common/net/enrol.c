/*
 * enrol.c - enrolment bundles: one file per node, sealed under a one-time
 * passphrase with OpenSSL's CMS (see enrol.h for the format and why).
 *
 * Entry points: sj_enrol_passphrase(), sj_enrol_passphrase_normalise(),
 * sj_enrol_seal(), sj_enrol_open(), sj_enrol_bundle_free().
 */
#include "enrol.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h> /* before cms.h: it declares PEM_read_bio_CMS() */
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "config.h"
#include "i18n.h"
#include "tls.h"

/* Crockford's base32: no I, L, O or U, so that a slip read aloud or typed
 * from paper has no look-alikes. */
static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* PBKDF2 rounds for the password recipient.  The passphrase has 100 bits,
 * so this is not what keeps a bundle safe; it only costs a guesser more. */
#define PWRI_ITERATIONS 100000

#define BUNDLE_VERSION 1

static const sj_config_key BUNDLE_KEYS[] = {
    {"bundle.version", SJ_CONFIG_INT, NULL, BUNDLE_VERSION, BUNDLE_VERSION, "bundle format"},
    {"bundle.node", SJ_CONFIG_STRING, NULL, 0, 0, "the node the bundle is for"},
    {"bundle.unit_name", SJ_CONFIG_STRING, "", 0, 0, "the unit's name in the org tree"},
    {"server.address", SJ_CONFIG_HOSTPORT_LIST, NULL, 0, 0, "its relay or county"},
    {"server.peer", SJ_CONFIG_STRING, "", 0, 0, "the node the server must be"},
};
#define N_BUNDLE_KEYS (sizeof(BUNDLE_KEYS) / sizeof(BUNDLE_KEYS[0]))

/* ---- passphrases ---------------------------------------------------------- */

int sj_enrol_passphrase(char out[SJ_ENROL_PASSPHRASE_SIZE], sj_error *err)
{
    unsigned char r[SJ_ENROL_PASSPHRASE_CHARS];
    if (RAND_bytes(r, sizeof r) != 1) {
        ERR_clear_error();
        return sj_error_set(err, SJ_EINTERNAL, "RAND_bytes failed: no random passphrase");
    }
    size_t n = 0;
    for (size_t i = 0; i < sizeof r; i++) {
        if (i > 0 && i % 4 == 0)
            out[n++] = '-';
        out[n++] = ALPHABET[r[i] & 31]; /* 256 is a multiple of 32: uniform */
    }
    out[n] = '\0';
    OPENSSL_cleanse(r, sizeof r);
    return 0;
}

int sj_enrol_passphrase_normalise(const char *typed, char out[SJ_ENROL_PASSPHRASE_SIZE],
                                  sj_error *err)
{
    size_t n = 0;
    for (const char *p = typed ? typed : ""; *p; p++) {
        char c = *p;
        if (c == ' ' || c == '-' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c == 'O')
            c = '0';
        else if (c == 'I' || c == 'L')
            c = '1';
        if (c == '\0' || strchr(ALPHABET, c) == NULL || n >= SJ_ENROL_PASSPHRASE_CHARS) {
            memset(out, 0, SJ_ENROL_PASSPHRASE_SIZE);
            return sj_error_set(err, SJ_EAUTH, "%s",
                                _("This is not a passphrase from an enrolment slip: it has 20 "
                                  "letters and digits in groups of four, e.g. "
                                  "K7QM-3XW2-9TRD-HE5A-M2PV. Type it again from the slip."));
        }
        out[n++] = c;
    }
    out[n] = '\0';
    if (n != SJ_ENROL_PASSPHRASE_CHARS) {
        memset(out, 0, SJ_ENROL_PASSPHRASE_SIZE);
        return sj_error_set(err, SJ_EAUTH, "%s",
                            _("This is not a passphrase from an enrolment slip: it has 20 "
                              "letters and digits in groups of four, e.g. "
                              "K7QM-3XW2-9TRD-HE5A-M2PV. Type it again from the slip."));
    }
    return 0;
}

/* ---- sealing -------------------------------------------------------------- */

/* True when s may stand in a config value as written below. */
static bool plain_value(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' || *p == '#')
            return false;
    return true;
}

static bool is_pem(const char *s, const char *label)
{
    char head[64];
    snprintf(head, sizeof head, "-----BEGIN %s-----", label);
    return s && strncmp(s, head, strlen(head)) == 0 && s[strlen(s) - 1] == '\n';
}

int sj_enrol_seal(const sj_enrol_bundle *b, const char *passphrase, char **out, size_t *out_len,
                  sj_error *err)
{
    *out = NULL;
    *out_len = 0;
    char pass[SJ_ENROL_PASSPHRASE_SIZE];
    int rc = sj_enrol_passphrase_normalise(passphrase, pass, err);
    if (rc != 0)
        return rc;
    if (!b->address || !*b->address || !plain_value(b->address) || !b->peer ||
        !plain_value(b->peer) || !plain_value(b->unit_name) || !plain_value(b->id.node_id))
        return sj_error_set(err, SJ_EINVAL,
                            "bundle of %s: the address, peer or unit name holds a quote, "
                            "backslash, '#' or control character",
                            b->id.node_id);
    if (!is_pem(b->cert_pem, "CERTIFICATE") || !is_pem(b->key_pem, "PRIVATE KEY") ||
        !is_pem(b->ca_pem, "CERTIFICATE") || !is_pem(b->crl_pem, "X509 CRL"))
        return sj_error_set(err, SJ_EINVAL, "bundle of %s: a certificate, key or CRL is not PEM",
                            b->id.node_id);
    char *text = NULL;
    size_t text_len = 0;
    FILE *f = open_memstream(&text, &text_len);
    if (!f)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    fprintf(f,
            "# Sanji enrolment bundle (docs/PKI.md)\n[bundle]\nversion = %d\nnode = %s\n"
            "unit_name = \"%s\"\n[server]\naddress = %s\npeer = \"%s\"\n",
            BUNDLE_VERSION, b->id.node_id, b->unit_name, b->address, b->peer);
    fputs(b->cert_pem, f);
    fputs(b->key_pem, f);
    fputs(b->ca_pem, f);
    fputs(b->crl_pem, f);
    if (fclose(f) != 0) {
        free(text);
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    }

    rc = SJ_EINTERNAL;
    BIO *in = BIO_new_mem_buf(text, (int)text_len);
    BIO *pem = BIO_new(BIO_s_mem());
    CMS_ContentInfo *cms = CMS_AuthEnvelopedData_create(EVP_aes_256_gcm());
    /* The recipient takes the password and frees it with the structure. */
    unsigned char *pw = OPENSSL_memdup(pass, strlen(pass));
    if (!in || !pem || !cms || !pw || !CMS_set_detached(cms, 0))
        goto out;
    /* The key-encryption cipher must be a CBC one (RFC 3211's wrap);
     * the content's GCM cannot do it. */
    if (CMS_add0_recipient_password(cms, PWRI_ITERATIONS, NID_undef, NID_hmacWithSHA256, pw,
                                    (ossl_ssize_t)strlen(pass), EVP_aes_256_cbc()) == NULL)
        goto out;
    pw = NULL;
    if (!CMS_final(cms, in, NULL, CMS_BINARY) || !PEM_write_bio_CMS(pem, cms))
        goto out;
    char *data = NULL;
    long n = BIO_get_mem_data(pem, &data);
    if (n <= 0 || (*out = malloc((size_t)n + 1)) == NULL)
        goto out;
    memcpy(*out, data, (size_t)n);
    (*out)[n] = '\0';
    *out_len = (size_t)n;
    rc = 0;
out:
    if (rc != 0) {
        char e[256] = "";
        ERR_error_string_n(ERR_peek_last_error(), e, sizeof e);
        sj_error_set(err, rc, "cannot seal the bundle of %s: %s", b->id.node_id, e);
        ERR_clear_error();
    }
    OPENSSL_clear_free(pw, strlen(pass));
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(pem);
    OPENSSL_cleanse(text, text_len);
    free(text);
    OPENSSL_cleanse(pass, sizeof pass);
    return rc;
}

/* ---- opening -------------------------------------------------------------- */

static int damaged(sj_error *err, const char *what)
{
    ERR_clear_error();
    return sj_error_set(err, SJ_EINVAL, _("The file is not a complete enrolment bundle (%s): it "
                                          "is damaged, cut short or not the file from the "
                                          "county. Ask the county for the file again."),
                        what);
}

/* The PEM text of an object written by fn into a fresh BIO (secure memory
 * for the key, so that freeing it wipes it). */
typedef int (*pem_writer)(BIO *bio, const void *obj);

static int w_x509(BIO *b, const void *o) { return PEM_write_bio_X509(b, (X509 *)o); }
static int w_crl(BIO *b, const void *o) { return PEM_write_bio_X509_CRL(b, (X509_CRL *)o); }
static int w_key(BIO *b, const void *o)
{
    return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)o, NULL, NULL, 0, NULL, NULL);
}

static char *pem_text(pem_writer fn, const void *obj, bool secret)
{
    BIO *b = BIO_new(secret ? BIO_s_secmem() : BIO_s_mem());
    char *data = NULL, *copy = NULL;
    long n;
    if (b && fn(b, obj) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
        (copy = malloc((size_t)n + 1)) != NULL) {
        memcpy(copy, data, (size_t)n);
        copy[n] = '\0';
    }
    BIO_free(b);
    return copy;
}

/* A PEM key callback that never asks: a bundle's key is not encrypted. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* The bundle's server.address as one text, "host:port, [v6]:port", or
 * NULL when memory is out. */
static char *address_text(const sj_config *cfg)
{
    size_t n = 0;
    const sj_config_hostport *hp = sj_config_get_hostports(cfg, "server.address", &n);
    char *addr = NULL;
    size_t alen = 0;
    FILE *f = open_memstream(&addr, &alen);
    if (!f)
        return NULL;
    for (size_t i = 0; i < n; i++)
        fprintf(f, strchr(hp[i].host, ':') ? "%s[%s]:%u" : "%s%s:%u", i ? ", " : "", hp[i].host,
                hp[i].port);
    if (fclose(f) != 0) {
        free(addr);
        return NULL;
    }
    return addr;
}

/* Reads the plaintext into b. */
static int parse_plain(const char *text, size_t len, sj_enrol_bundle *b, sj_error *err)
{
    const char *pem = NULL;
    for (size_t i = 0; i + 11 <= len && !pem; i++)
        if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, "-----BEGIN ", 11) == 0)
            pem = text + i;
    if (!pem)
        return damaged(err, _("no certificate inside"));
    sj_config *cfg = NULL;
    sj_error cerr;
    sj_error_clear(&cerr);
    int rc = sj_config_new(BUNDLE_KEYS, N_BUNDLE_KEYS, &cfg, err);
    if (rc != 0)
        return rc;
    X509 *cert = NULL, *ca = NULL;
    EVP_PKEY *key = NULL;
    X509_CRL *crl = NULL;
    BIO *bio = NULL;
    if (sj_config_load_string(cfg, "bundle", NULL, text, (size_t)(pem - text), &cerr) != 0) {
        rc = damaged(err, cerr.message);
        goto out;
    }
    bio = BIO_new_mem_buf(pem, (int)(len - (size_t)(pem - text)));
    if (!bio || !(cert = PEM_read_bio_X509(bio, NULL, no_password, NULL)) ||
        !(key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL)) ||
        !(ca = PEM_read_bio_X509(bio, NULL, no_password, NULL)) ||
        !(crl = PEM_read_bio_X509_CRL(bio, NULL, no_password, NULL))) {
        rc = damaged(err, _("a certificate, the key or the CRL is missing"));
        goto out;
    }
    EVP_PKEY *capub = X509_get0_pubkey(ca);
    if (X509_check_private_key(cert, key) != 1 || !capub || X509_verify(ca, capub) != 1 ||
        X509_verify(cert, capub) != 1 || X509_CRL_verify(crl, capub) != 1) {
        rc = damaged(err, _("the key, certificate, CA and CRL do not belong together"));
        goto out;
    }
    if (sj_tls_cert_identity(cert, &b->id, &cerr) != 0 ||
        strcmp(b->id.node_id, sj_config_get_string(cfg, "bundle.node")) != 0) {
        rc = damaged(err, _("the certificate is not for the node the bundle names"));
        goto out;
    }
    const char *peer = sj_config_get_string(cfg, "server.peer");
    sj_identity pid;
    if (*peer && sj_identity_parse_node_id(peer, &pid, &cerr) != 0) {
        rc = damaged(err, cerr.message);
        goto out;
    }
    snprintf(b->unit_name, sizeof b->unit_name, "%s",
             sj_config_get_string(cfg, "bundle.unit_name"));
    if ((b->address = address_text(cfg)) == NULL) {
        rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        goto out;
    }
    b->peer = strdup(peer);
    b->cert_pem = pem_text(w_x509, cert, false);
    b->key_pem = pem_text(w_key, key, true);
    b->ca_pem = pem_text(w_x509, ca, false);
    b->crl_pem = pem_text(w_crl, crl, false);
    if (!b->peer || !b->cert_pem || !b->key_pem || !b->ca_pem || !b->crl_pem) {
        rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    BIO_free(bio);
    X509_free(cert);
    X509_free(ca);
    X509_CRL_free(crl);
    EVP_PKEY_free(key);
    sj_config_free(cfg);
    return rc;
}

int sj_enrol_open(const void *data, size_t len, const char *passphrase, sj_enrol_bundle *out,
                  sj_error *err)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > SJ_ENROL_MAX_BYTES)
        return damaged(err, len == 0 ? _("the file is empty") : _("the file is too large"));
    char pass[SJ_ENROL_PASSPHRASE_SIZE];
    int rc = sj_enrol_passphrase_normalise(passphrase, pass, err);
    if (rc != 0)
        return rc;
    BIO *in = BIO_new_mem_buf(data, (int)len);
    BIO *plain = BIO_new(BIO_s_secmem());
    CMS_ContentInfo *cms = in ? PEM_read_bio_CMS(in, NULL, no_password, NULL) : NULL;
    if (!in || !plain) {
        rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        goto out;
    }
    if (!cms || OBJ_obj2nid(CMS_get0_type(cms)) != NID_id_smime_ct_authEnvelopedData) {
        rc = damaged(err, _("no sealed content"));
        goto out;
    }
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    if (sk_CMS_RecipientInfo_num(ris) != 1 ||
        CMS_RecipientInfo_type(sk_CMS_RecipientInfo_value(ris, 0)) != CMS_RECIPINFO_PASS) {
        rc = damaged(err, _("not sealed with a passphrase"));
        goto out;
    }
    /* Unwrapping the content key checks the passphrase (RFC 3211's check
     * bytes); the content's GCM tag then checks every byte of the rest. */
    if (CMS_decrypt_set1_password(cms, (unsigned char *)pass, (ossl_ssize_t)strlen(pass)) != 1) {
        ERR_clear_error();
        rc = sj_error_set(err, SJ_EAUTH, "%s",
                          _("Wrong passphrase for this enrolment bundle. Check it against the "
                            "slip that came with the file (case, spaces and dashes do not "
                            "matter)."));
        goto out;
    }
    if (CMS_decrypt(cms, NULL, NULL, NULL, plain, 0) != 1) {
        rc = damaged(err, _("its content does not match its seal"));
        goto out;
    }
    char *text = NULL;
    long n = BIO_get_mem_data(plain, &text);
    if (n <= 0) {
        rc = damaged(err, _("nothing inside"));
        goto out;
    }
    rc = parse_plain(text, (size_t)n, out, err);
out:
    ERR_clear_error();
    if (rc != 0)
        sj_enrol_bundle_free(out);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(plain);
    OPENSSL_cleanse(pass, sizeof pass);
    return rc;
}

void sj_enrol_bundle_free(sj_enrol_bundle *b)
{
    if (!b)
        return;
    if (b->key_pem)
        OPENSSL_cleanse(b->key_pem, strlen(b->key_pem));
    free(b->address);
    free(b->peer);
    free(b->cert_pem);
    free(b->key_pem);
    free(b->ca_pem);
    free(b->crl_pem);
    memset(b, 0, sizeof *b);
}
