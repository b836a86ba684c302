/*
 * pki_show.c - "sanji-pki show": a certificate's identity, names, serial
 * and validity printed.
 *
 * Entry point: pki_cmd_show().
 */
#include <stdio.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/x509.h>

#include "pki_int.h"

static void print_time(const char *label, const ASN1_TIME *t)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        printf("%s?\n", label);
        return;
    }
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    printf("%s%s (%lld)\n", label, buf, (long long)timegm(&tm));
}

int pki_cmd_show(const pki_opts *o)
{
    pki_need(o->cert, "--cert", "show");
    X509 *x = pki_read_cert(o->cert);
    if (x == NULL)
        return 1;
    sj_identity id;
    sj_error err;
    sj_error_clear(&err);
    int ok = pki_cert_identity(x, &id, &err, true);
    if (ok == 0) {
        printf("identity:   sanji:%s\n", id.node_id);
        printf("node id:    %s\n", id.node_id);
        printf("role:       %s\n", sj_node_role_name(id.role));
        printf("unit:       %s\n", id.unit);
        if (id.name[0])
            printf("name:       %s\n", id.name);
    }
    /* Print names as UTF-8 (a CA name is usually Chinese), not escaped. */
    unsigned long flags = XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB;
    fputs("subject:    ", stdout);
    X509_NAME_print_ex_fp(stdout, X509_get_subject_name(x), 0, flags);
    fputs("\nissuer:     ", stdout);
    X509_NAME_print_ex_fp(stdout, X509_get_issuer_name(x), 0, flags);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    printf("\nserial:     %s\n", hex ? hex : "?");
    print_time("not before: ", X509_get0_notBefore(x));
    print_time("not after:  ", X509_get0_notAfter(x));
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(x);
    if (ok != 0) {
        pki_fail("%s 没有有效的 Sanji 身份: %s (reissue it with '" PROG " issue')", o->cert,
                 err.message);
        return 1;
    }
    return 0;
}
