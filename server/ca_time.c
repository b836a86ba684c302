/*
 * ca_time.c - the notBefore of the county CA certificate (see ca_time.h).
 */
#include "ca_time.h"

#include <stdio.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int countyd_ca_not_before_ms(const char *path, int64_t *out, sj_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sj_error_set(err, SJ_ETLS_KEY, "cannot read the CA certificate %s", path);
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!cert)
        return sj_error_set(err, SJ_ETLS_KEY, "%s holds no PEM certificate", path);
    struct tm tm;
    int ok = ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm);
    X509_free(cert);
    if (ok != 1)
        return sj_error_set(err, SJ_ETLS_KEY, "%s: unreadable notBefore", path);
    /* ASN1_TIME_to_tm gives UTC; timegm reads it as UTC. */
    *out = (int64_t)timegm(&tm) * 1000;
    return 0;
}
