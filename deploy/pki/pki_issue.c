/*
 * pki_issue.c - "sanji-pki issue": one node's key and certificate, with the
 * validity the options ask for.
 *
 * Entry point: pki_cmd_issue().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "pki_int.h"

int pki_cmd_issue(const pki_opts *o)
{
    pki_need(o->dir, "--dir", "issue");
    pki_need(o->role, "--role", "issue");
    pki_need(o->unit, "--unit", "issue");
    pki_need(o->out, "--out", "issue");
    sj_node_role role;
    if (sj_node_role_parse(o->role, strlen(o->role), &role) != 0)
        pki_die_usage("--role \"%s\" 无效 (use village, relay, township-desk, county-desk, "
                      "department-desk or county)",
                      o->role);
    sj_identity id;
    sj_error err;
    if (sj_identity_make(role, o->unit, o->name, &id, &err) != 0)
        pki_die_usage("%s", err.message);
    long days = o->have_days ? o->days : 825;
    time_t now = time(NULL);
    if (o->have_minutes && (o->have_days || o->have_na))
        pki_die_usage(
            "--minutes 不能与 --days 或 --not-after 同用 (--minutes sets the end itself)");
    long long nb = o->have_nb   ? o->not_before
                   : o->have_na ? o->not_after - days * 86400LL
                                : (long long)now - 300;
    /* --minutes counts from now, not from the start 5 minutes back: a
     * certificate for one minute is good for one minute. */
    long long na = o->have_minutes ? (long long)now + o->minutes * 60LL
                   : o->have_na    ? o->not_after
                                   : nb + days * 86400LL;
    if (na <= nb)
        pki_die_usage("--not-after 必须晚于 --not-before (validity would be empty)");

    pki_ca ca;
    if (pki_ca_load(o->dir, &ca) != 0)
        return 1;
    int rc = 1;
    char *kp = NULL, *cp = NULL;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    BIGNUM *bn = NULL;
    if (asprintf(&kp, "%s.key", o->out) < 0 || asprintf(&cp, "%s.crt", o->out) < 0)
        goto out;
    if (access(kp, F_OK) == 0 || access(cp, F_OK) == 0) {
        pki_fail("%s 或 %s 已存在，不会覆盖 (choose another --out, or move the old files away)", kp,
                 cp);
        goto out;
    }
    if (pki_issue_node(&ca, &id, o->hosts, nb, na, &x, &key, &bn) != 0)
        goto out;
    if (pki_write_new(kp, 0600, pki_write_key, key) != 0)
        goto out;
    if (pki_write_new(cp, 0644, pki_write_cert, x) != 0) {
        unlink(kp);
        goto out;
    }
    char *hex = BN_bn2hex(bn);
    printf("%s: %s serial %s, valid %lld..%lld\n", cp, id.node_id, hex ? hex : "?", nb, na);
    OPENSSL_free(hex);
    rc = 0;
out:
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(key);
    free(kp);
    free(cp);
    pki_ca_free(&ca);
    return rc;
}
