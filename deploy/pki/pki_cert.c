/*
 * pki_cert.c - certificates of this PKI: a P-256 key, a certificate made
 * and signed (the CA's own or a node's), a node's subjectAltName (its
 * identity URI and hosts), and the identity read back from one.
 *
 * Entry points: pki_new_key(), pki_make_cert(), pki_issue_node(),
 * pki_cert_identity().
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki_int.h"

EVP_PKEY *pki_new_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (k == NULL)
        pki_fail("无法生成 P-256 密钥 (key generation failed)");
    return k;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL) {
        pki_fail("无法生成扩展 %s=%s", OBJ_nid2sn(nid), value);
        return -1;
    }
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ok) {
        pki_fail("无法添加扩展 %s", OBJ_nid2sn(nid));
        return -1;
    }
    return 0;
}

static int set_validity(X509 *x, time_t nb, time_t na)
{
    if (ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL) {
        pki_fail("无法设置有效期 (cannot set validity)");
        return -1;
    }
    return 0;
}

static int name_add(X509_NAME *n, const char *field, const char *value)
{
    if (!X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)value, -1, -1,
                                    0)) {
        pki_fail("无法设置证书名称 %s=%s (is it valid UTF-8?)", field, value);
        return -1;
    }
    return 0;
}

/* Makes and signs a certificate of this PKI: serial bn, version 3, subject
 * O=Sanji, OU=ou, CN=cn, valid nb..na, for key's public half, with exts.
 * issuer NULL: self-signed with key (the CA's own); otherwise issued by
 * issuer and signed with issuer_key.  sign_failed is what to say when the
 * signature fails.  Returns the certificate (the caller frees it with
 * X509_free), or NULL after printing why. */
X509 *pki_make_cert(const BIGNUM *bn, const char *ou, const char *cn, time_t nb, time_t na,
                    EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const pki_cert_ext *exts,
                    size_t n_exts, const char *sign_failed)
{
    X509 *x = X509_new();
    ASN1_INTEGER *serial = NULL;
    bool ok = x && (serial = BN_to_ASN1_INTEGER(bn, NULL)) && X509_set_serialNumber(x, serial) &&
              X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_free(serial);
    if (!ok) {
        pki_fail("内存不足 (out of memory)");
        goto fail;
    }
    X509_NAME *nm = X509_get_subject_name(x);
    if (name_add(nm, "O", "Sanji") != 0 || name_add(nm, "OU", ou) != 0 ||
        name_add(nm, "CN", cn) != 0)
        goto fail;
    X509 *signer = issuer ? issuer : x;
    if (!X509_set_issuer_name(x, X509_get_subject_name(signer)) || !X509_set_pubkey(x, key)) {
        pki_fail("内存不足 (out of memory)");
        goto fail;
    }
    if (set_validity(x, nb, na) != 0)
        goto fail;
    for (size_t i = 0; i < n_exts; i++)
        if (add_ext(x, signer, exts[i].nid, exts[i].value) != 0)
            goto fail;
    if (!X509_sign(x, issuer ? issuer_key : key, EVP_sha256())) {
        pki_fail("%s", sign_failed);
        goto fail;
    }
    return x;
fail:
    X509_free(x);
    return NULL;
}

/* Adds "URI:sanji:..." and DNS:/IP: entries for each host to the SAN value. */
static char *san_value(const sj_identity *id, const char *hosts)
{
    char uri[SJ_IDENTITY_URI_MAX];
    if (sj_identity_format_uri(id, uri, sizeof uri) != 0)
        return NULL;
    size_t cap = strlen(uri) + 8 + (hosts ? strlen(hosts) * 2 + 64 : 0);
    char *v = malloc(cap);
    if (v == NULL)
        return NULL;
    snprintf(v, cap, "URI:%s", uri);
    if (hosts == NULL)
        return v;
    char *copy = strdup(hosts), *save = NULL;
    if (copy == NULL) {
        free(v);
        return NULL;
    }
    for (char *h = strtok_r(copy, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
        unsigned char addr[16];
        bool ip = inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1;
        /* Refuse what would smuggle another SAN entry into the config string. */
        if (strpbrk(h, ",:= \t") != NULL && !ip) {
            fprintf(stderr, PROG ": --host \"%s\" 无效 (not a host name or IP address)\n", h);
            free(copy);
            free(v);
            return NULL;
        }
        size_t len = strlen(v);
        snprintf(v + len, cap - len, ",%s:%s", ip ? "IP" : "DNS", h);
    }
    free(copy);
    return v;
}

/* Makes a key and a certificate for id issued by ca, valid nb..na, with
 * DNS/IP names for hosts (may be NULL); takes the next serial.  Returns 0
 * with *xo, *ko and *bno (the caller frees them), or -1 after saying why. */
int pki_issue_node(pki_ca *ca, const sj_identity *id, const char *hosts, long long nb, long long na,
                   X509 **xo, EVP_PKEY **ko, BIGNUM **bno)
{
    *xo = NULL;
    *ko = NULL;
    *bno = NULL;
    if (memcmp(id->unit, ca->county, 6) != 0) {
        pki_fail("单位 %s 不属于本县 %s (unit is outside this CA's county; use the CA of that "
                 "county)",
                 id->unit, ca->county);
        return -1;
    }
    int rc = -1;
    char *san = NULL;
    EVP_PKEY *key = NULL;
    BIGNUM *bn = NULL;
    if ((san = san_value(id, hosts)) == NULL)
        goto out;
    if ((key = pki_new_key()) == NULL || pki_next_serial(ca->dir, &bn) != 0)
        goto out;
    const pki_cert_ext node_exts[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "serverAuth,clientAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {NID_subject_alt_name, san},
    };
    X509 *x = pki_make_cert(bn, id->unit, id->node_id, (time_t)nb, (time_t)na, key, ca->cert,
                            ca->key, node_exts, sizeof node_exts / sizeof node_exts[0],
                            "无法签署证书 (signing failed)");
    if (x == NULL)
        goto out;
    *xo = x;
    *ko = key;
    *bno = bn;
    key = NULL;
    bn = NULL;
    rc = 0;
out:
    BN_free(bn);
    EVP_PKEY_free(key);
    free(san);
    return rc;
}

/* The identity in x's SAN: fills id (or err) and returns 0 / -1.  Also
 * prints the hosts when print is true. */
int pki_cert_identity(X509 *x, sj_identity *id, sj_error *err, bool print)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int uris = 0, rc = -1;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_URI) {
            uris++;
            const ASN1_IA5STRING *s = g->d.uniformResourceIdentifier;
            if (sj_identity_parse_uri((const char *)ASN1_STRING_get0_data(s),
                                      (size_t)ASN1_STRING_length(s), id, err) == 0)
                rc = 0;
        } else if (print && g->type == GEN_DNS) {
            printf("host:       %.*s\n", ASN1_STRING_length(g->d.dNSName),
                   ASN1_STRING_get0_data(g->d.dNSName));
        } else if (print && g->type == GEN_IPADD) {
            char buf[64] = "?";
            int len = ASN1_STRING_length(g->d.iPAddress);
            inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), buf,
                      sizeof buf);
            printf("host:       %s\n", buf);
        }
    }
    GENERAL_NAMES_free(gens);
    if (uris != 1) {
        sj_error_set(err, SJ_ETLS_BAD_IDENTITY, "证书含有 %d 个身份 URI (must hold exactly one)",
                     uris);
        return -1;
    }
    return rc;
}
