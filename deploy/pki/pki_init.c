/*
 * pki_init.c - "sanji-pki init": a new county CA in a new directory (key,
 * self-signed certificate, serial, empty index and a first CRL).
 *
 * Entry point: pki_cmd_init().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/x509.h>

#include "pki_int.h"

int pki_cmd_init(const pki_opts *o)
{
    pki_need(o->dir, "--dir", "init");
    pki_need(o->county, "--county", "init");
    sj_identity id;
    sj_error err;
    if (sj_identity_make(SJ_NODE_ROLE_COUNTY, o->county, NULL, &id, &err) != 0)
        pki_die_usage("--county: %s", err.message);
    long days = o->have_days ? o->days : 3650;

    if (mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
        pki_fail("无法创建目录 %s: %s", o->dir, strerror(errno));
        return 1;
    }
    char *kp = pki_path_in(o->dir, "ca.key"), *cp = pki_path_in(o->dir, "ca.crt");
    char *sp = pki_path_in(o->dir, "serial"), *ip = pki_path_in(o->dir, "index");
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    pki_ca ca = {0};
    int rc = 1;
    if (access(kp, F_OK) == 0) {
        pki_fail("%s 已存在：此目录已有 CA (a CA already exists here; use another --dir)", kp);
        goto out;
    }
    if ((key = pki_new_key()) == NULL)
        goto out;
    BIGNUM *bn = BN_new();
    if (bn == NULL || !BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)) {
        BN_free(bn);
        pki_fail("内存不足 (out of memory)");
        goto out;
    }
    char cn[200];
    snprintf(cn, sizeof cn, "Sanji CA %s%s%s", o->county, o->name ? " " : "",
             o->name ? o->name : "");
    static const pki_cert_ext ca_exts[] = {
        {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
    };
    time_t now = time(NULL);
    x = pki_make_cert(bn, o->county, cn, now - 300, now + days * 86400L, key, NULL, NULL, ca_exts,
                      sizeof ca_exts / sizeof ca_exts[0], "无法签署 CA 证书");
    BN_free(bn);
    if (x == NULL)
        goto out;
    if (pki_write_new(kp, 0600, pki_write_key, key) != 0)
        goto out;
    if (pki_write_new(cp, 0644, pki_write_cert, x) != 0 ||
        pki_write_new(sp, 0644, pki_write_text, "1000\n") != 0 ||
        pki_write_new(ip, 0644, pki_write_text, "") != 0)
        goto out;
    if (pki_ca_load(o->dir, &ca) != 0 || pki_publish_crl(&ca, 30) != 0)
        goto out;
    printf("%s: county CA for %s, valid %ld days\n", cp, o->county, days);
    rc = 0;
out:
    pki_ca_free(&ca);
    X509_free(x);
    EVP_PKEY_free(key);
    free(kp);
    free(cp);
    free(sp);
    free(ip);
    return rc;
}
