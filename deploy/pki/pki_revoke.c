/*
 * pki_revoke.c - "sanji-pki revoke" (a certificate added to D/index, the
 * CRL published again) and "sanji-pki crl" (the CRL published again).
 *
 * Entry points: pki_cmd_revoke(), pki_cmd_crl().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "pki_int.h"

int pki_cmd_revoke(const pki_opts *o)
{
    pki_need(o->dir, "--dir", "revoke");
    pki_need(o->cert, "--cert", "revoke");
    pki_ca ca;
    if (pki_ca_load(o->dir, &ca) != 0)
        return 1;
    int rc = 1;
    char *ip = pki_path_in(o->dir, "index");
    char *hex = NULL;
    FILE *f = NULL;
    X509 *x = pki_read_cert(o->cert);
    if (x == NULL)
        goto out;
    EVP_PKEY *capub = X509_get0_pubkey(ca.cert);
    if (capub == NULL || X509_verify(x, capub) != 1) {
        ERR_clear_error();
        pki_fail("%s 不是本 CA 签发的 (certificate was not issued by the CA in %s)", o->cert,
                 o->dir);
        goto out;
    }
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    hex = bn ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    if (hex == NULL) {
        pki_fail("内存不足 (out of memory)");
        goto out;
    }
    sj_identity id;
    sj_error err;
    const char *who = pki_cert_identity(x, &id, &err, false) == 0 ? id.node_id : "-";
    f = fopen(ip, "a+");
    if (f == NULL) {
        pki_fail("无法打开 %s: %s", ip, strerror(errno));
        goto out;
    }
    char line[256];
    bool already = false;
    rewind(f);
    while (fgets(line, sizeof line, f) != NULL) {
        char h[80];
        if (sscanf(line, "%79s", h) == 1 && strcmp(h, hex) == 0)
            already = true;
    }
    if (already) {
        printf("%s: serial %s was already revoked\n", o->cert, hex);
    } else {
        fprintf(f, "%s %lld %s\n", hex, (long long)time(NULL), who);
        if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
            pki_fail("写入 %s 失败 (write failed)", ip);
            goto out;
        }
        printf("%s: serial %s (%s) revoked\n", o->cert, hex, who);
    }
    if (pki_publish_crl(&ca, o->have_days ? o->days : 30) != 0)
        goto out;
    rc = 0;
out:
    if (f && fclose(f) != 0)
        rc = 1;
    OPENSSL_free(hex);
    X509_free(x);
    free(ip);
    pki_ca_free(&ca);
    return rc;
}

int pki_cmd_crl(const pki_opts *o)
{
    pki_need(o->dir, "--dir", "crl");
    pki_ca ca;
    if (pki_ca_load(o->dir, &ca) != 0)
        return 1;
    int rc = pki_publish_crl(&ca, o->have_days ? o->days : 30) == 0 ? 0 : 1;
    pki_ca_free(&ca);
    return rc;
}
