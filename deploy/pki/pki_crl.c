/*
 * pki_crl.c - the CRL: D/crl.pem made from D/index, numbered above the
 * last one, signed by the CA and replaced atomically.
 *
 * Entry points: pki_publish_crl().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki_int.h"

/* The crlNumber of the CRL at path, or 0 when there is none (no file yet,
 * or no number in it). */
static int64_t last_crl_number(const char *path)
{
    FILE *f = fopen(path, "r");
    X509_CRL *old = f ? PEM_read_X509_CRL(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    ASN1_INTEGER *num = old ? X509_CRL_get_ext_d2i(old, NID_crl_number, NULL, NULL) : NULL;
    int64_t v = 0;
    if (num == NULL || ASN1_INTEGER_get_int64(&v, num) != 1)
        v = 0;
    ASN1_INTEGER_free(num);
    X509_CRL_free(old);
    ERR_clear_error();
    return v;
}

/* One line of D/index ("<serial hex> <unix time> <node id>") added to crl;
 * blank and comment lines are skipped.  Returns 1 (added), 0 (skipped) or
 * -1 after saying what is wrong with line lineno of ip. */
static int add_index_line(X509_CRL *crl, const char *line, const char *ip, int lineno)
{
    char hex[80];
    long long when;
    if (line[0] == '#' || line[0] == '\n')
        return 0;
    if (sscanf(line, "%79s %lld", hex, &when) != 2) {
        pki_fail("%s 第 %d 行损坏 (index line must be: <serial hex> <unix time> <node id>)", ip,
                 lineno);
        return -1;
    }
    BIGNUM *bn = NULL;
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_INTEGER *serial = NULL;
    ASN1_TIME *rt = ASN1_TIME_set(NULL, (time_t)when);
    bool ok = r && rt && BN_hex2bn(&bn, hex) && (serial = BN_to_ASN1_INTEGER(bn, NULL)) &&
              X509_REVOKED_set_serialNumber(r, serial) && X509_REVOKED_set_revocationDate(r, rt);
    BN_free(bn);
    ASN1_INTEGER_free(serial);
    ASN1_TIME_free(rt);
    if (!ok || !X509_CRL_add0_revoked(crl, r)) {
        X509_REVOKED_free(r);
        pki_fail("%s 第 %d 行无法处理 (bad serial?)", ip, lineno);
        return -1;
    }
    return 1;
}

/* Every certificate revoked in the index file ip added to crl, which is
 * then sorted.  Returns how many, or -1 after saying why. */
static int add_index(X509_CRL *crl, const char *ip)
{
    FILE *f = fopen(ip, "r");
    if (f == NULL) {
        pki_fail("无法读取 %s: %s (the CA directory is incomplete)", ip, strerror(errno));
        return -1;
    }
    char line[256];
    int lineno = 0, n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        int added = add_index_line(crl, line, ip, ++lineno);
        if (added < 0) {
            fclose(f);
            return -1;
        }
        n += added;
    }
    fclose(f);
    X509_CRL_sort(crl);
    return n;
}

/* Rewrites D/crl.pem from D/index, valid for days. */
int pki_publish_crl(pki_ca *ca, long days)
{
    char *ip = pki_path_in(ca->dir, "index"), *cp = pki_path_in(ca->dir, "crl.pem");
    X509_CRL *crl = X509_CRL_new();
    int rc = -1, n = 0;
    if (crl == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert))) {
        pki_fail("内存不足 (out of memory)");
        goto out;
    }
    time_t now = time(NULL);
    ASN1_TIME *t1 = ASN1_TIME_set(NULL, now), *t2 = ASN1_TIME_set(NULL, now + days * 86400L);
    bool ok = t1 && t2 && X509_CRL_set1_lastUpdate(crl, t1) && X509_CRL_set1_nextUpdate(crl, t2);
    ASN1_TIME_free(t1);
    ASN1_TIME_free(t2);
    if (!ok) {
        pki_fail("无法设置 CRL 时间");
        goto out;
    }
    if ((n = add_index(crl, ip)) < 0)
        goto out;
    /* crlNumber: the publication time, and always above the last one's, so
     * that two publications in one second still tell apart (relays take a
     * CRL only with a greater number than theirs). */
    int64_t number = (int64_t)now, last = last_crl_number(cp);
    if (number <= last)
        number = last + 1;
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    ok = num && ASN1_INTEGER_set_int64(num, number) &&
         X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
    ASN1_INTEGER_free(num);
    if (!ok || !X509_CRL_sign(crl, ca->key, EVP_sha256())) {
        pki_fail("无法签署 CRL (CRL signing failed)");
        goto out;
    }
    if (pki_replace_file(cp, 0644, pki_write_crl, crl) != 0)
        goto out;
    printf("%s: %d revoked, valid until %lld (re-run '" PROG " crl' before then)\n", cp, n,
           (long long)(now + days * 86400L));
    rc = 0;
out:
    X509_CRL_free(crl);
    free(ip);
    free(cp);
    return rc;
}
