/*
 * pki_ca.c - the CA directory: its certificate and key loaded and checked
 * (the county code is the CA subject's OU), and the serial file that
 * numbers each certificate issued.
 *
 * Entry points: pki_ca_load(), pki_ca_free(), pki_next_serial().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509.h>

#include "pki_int.h"

void pki_ca_free(pki_ca *ca)
{
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    free(ca->dir);
    memset(ca, 0, sizeof *ca);
}

int pki_ca_load(const char *dir, pki_ca *ca)
{
    memset(ca, 0, sizeof *ca);
    ca->dir = strdup(dir);
    char *cp = pki_path_in(dir, "ca.crt"), *kp = pki_path_in(dir, "ca.key");
    int rc = -1;
    ca->cert = pki_read_cert(cp);
    if (ca->cert == NULL)
        goto out;
    ca->key = pki_read_key(kp);
    if (ca->key == NULL)
        goto out;
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        pki_fail("%s 与 %s 不匹配 (CA key does not match CA certificate)", kp, cp);
        goto out;
    }
    /* The county code is the CA subject's OU (written by init). */
    X509_NAME *subj = X509_get_subject_name(ca->cert);
    int i = X509_NAME_get_index_by_NID(subj, NID_organizationalUnitName, -1);
    ASN1_STRING *ou = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)) : NULL;
    if (ou == NULL || ASN1_STRING_length(ou) != SJ_IDENTITY_UNIT_LEN) {
        pki_fail("%s 不是 sanji-pki 生成的 CA (CA certificate has no county code)", cp);
        goto out;
    }
    memcpy(ca->county, ASN1_STRING_get0_data(ou), SJ_IDENTITY_UNIT_LEN);
    ca->county[SJ_IDENTITY_UNIT_LEN] = '\0';
    rc = 0;
out:
    free(cp);
    free(kp);
    if (rc != 0)
        pki_ca_free(ca);
    return rc;
}

/* Takes the next serial from D/serial and advances it. */
int pki_next_serial(const char *dir, BIGNUM **out)
{
    char *p = pki_path_in(dir, "serial");
    char line[128];
    int rc = -1;
    BIGNUM *bn = NULL;
    char *hex = NULL;
    FILE *f = fopen(p, "r");
    if (f == NULL) {
        pki_fail("无法读取 %s: %s (the CA directory is incomplete; was it made by '" PROG
                 " init'?)",
                 p, strerror(errno));
        goto out;
    }
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    int digits = got ? BN_hex2bn(&bn, line) : 0;
    if (digits == 0 || (size_t)digits != strlen(line)) {
        pki_fail("%s 内容损坏 (serial file must hold one hex number)", p);
        goto out;
    }
    BIGNUM *next = BN_dup(bn);
    if (next == NULL || !BN_add_word(next, 1) || (hex = BN_bn2hex(next)) == NULL) {
        BN_free(next);
        pki_fail("内存不足 (out of memory)");
        goto out;
    }
    BN_free(next);
    char text[140];
    snprintf(text, sizeof text, "%s\n", hex);
    if (pki_replace_file(p, 0644, pki_write_text, text) != 0)
        goto out;
    *out = bn;
    bn = NULL;
    rc = 0;
out:
    OPENSSL_free(hex);
    BN_free(bn);
    free(p);
    return rc;
}
