/*
 * test_enrol_bundle.c - enrolment bundles (common/net/enrol.h): passphrases, sealing
 * and opening with real certificates from sanji-pki (certs.h), and every
 * way a bundle can be wrong: wrong passphrase, cut short at any length, a
 * byte changed anywhere, a key of another certificate, a certificate of
 * another CA, a node name that is not the certificate's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certs.h"
#include "enrol.h"

static sj_test_certs certs;

static int setup_certs(void **state)
{
    (void)state;
    return sj_test_certs_setup(&certs);
}

static int teardown_certs(void **state)
{
    (void)state;
    sj_test_certs_cleanup(&certs);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *cert_file(const char *name, const char *ext)
{
    char path[1024];
    sj_test_certs_path(&certs, name, ext, path, sizeof path);
    return slurp(path);
}

/* The bundle of the village station (cert of `cert_name`, key of
 * `key_name`, CA ca_path), sealed under pass. */
static char *seal(const char *cert_name, const char *key_name, const char *ca_path,
                  const char *node, const char *pass, size_t *len)
{
    sj_enrol_bundle b = {0};
    sj_error err;
    assert_int_equal(sj_identity_parse_node_id(node, &b.id, &err), 0);
    snprintf(b.unit_name, sizeof b.unit_name, "张官营村");
    b.address = "127.0.0.1:7444, [::1]:7444";
    b.peer = "relay:410423101000";
    b.cert_pem = cert_file(cert_name, "crt");
    b.key_pem = cert_file(key_name, "key");
    b.ca_pem = slurp(ca_path);
    b.crl_pem = slurp(certs.crl_file);
    char *out = NULL;
    if (sj_enrol_seal(&b, pass, &out, len, &err) != 0)
        fail_msg("seal: %s", err.message);
    free(b.cert_pem);
    free(b.key_pem);
    free(b.ca_pem);
    free(b.crl_pem);
    return out;
}

static void test_passphrase(void **state)
{
    (void)state;
    char a[SJ_ENROL_PASSPHRASE_SIZE], b[SJ_ENROL_PASSPHRASE_SIZE], n[SJ_ENROL_PASSPHRASE_SIZE];
    sj_error err;
    assert_int_equal(sj_enrol_passphrase(a, &err), 0);
    assert_int_equal(sj_enrol_passphrase(b, &err), 0);
    assert_int_equal(strlen(a), 24);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 24; i++) {
        if (i % 5 == 4)
            assert_int_equal(a[i], '-');
        else
            assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", a[i]));
    }
    /* As typed: lower case, spaces, O for 0, I and L for 1. */
    assert_int_equal(sj_enrol_passphrase_normalise(" k7qm 3xw2-9trd he5a-m2pv\n", n, &err), 0);
    assert_string_equal(n, "K7QM3XW29TRDHE5AM2PV");
    assert_int_equal(sj_enrol_passphrase_normalise("OIL0-0000-0000-0000-0000", n, &err), 0);
    assert_string_equal(n, "01100000000000000000");
    assert_int_equal(sj_enrol_passphrase_normalise("K7QM-3XW2", n, &err), SJ_EAUTH);
    assert_int_equal(sj_enrol_passphrase_normalise("K7QM-3XW2-9TRD-HE5A-M2PV-X", n, &err), SJ_EAUTH);
    assert_int_equal(sj_enrol_passphrase_normalise("K7QM-3XW2-9TRD-HE5A-M2P!", n, &err), SJ_EAUTH);
    assert_int_equal(sj_enrol_passphrase_normalise("K7QM-3XW2-9TRD-HE5A-M2PU", n, &err), SJ_EAUTH);
    assert_int_equal(sj_enrol_passphrase_normalise("", n, &err), SJ_EAUTH);
}

static void test_round_trip(void **state)
{
    (void)state;
    char pass[SJ_ENROL_PASSPHRASE_SIZE];
    sj_error err;
    assert_int_equal(sj_enrol_passphrase(pass, &err), 0);
    size_t len = 0;
    char *data = seal("village", "village", certs.ca_file, "village:410423101201", pass, &len);
    assert_non_null(strstr(data, "-----BEGIN CMS-----"));
    /* Nothing of the content is readable in the file. */
    assert_null(strstr(data, "BEGIN CERTIFICATE"));
    assert_null(strstr(data, "410423101201"));
    sj_enrol_bundle b;
    if (sj_enrol_open(data, len, pass, &b, &err) != 0)
        fail_msg("open: %s", err.message);
    assert_string_equal(b.id.node_id, "village:410423101201");
    assert_string_equal(b.unit_name, "张官营村");
    assert_string_equal(b.address, "127.0.0.1:7444, [::1]:7444");
    assert_string_equal(b.peer, "relay:410423101000");
    char *crt = cert_file("village", "crt"), *ca = slurp(certs.ca_file);
    assert_string_equal(b.cert_pem, crt);
    assert_string_equal(b.ca_pem, ca);
    assert_non_null(strstr(b.key_pem, "-----BEGIN PRIVATE KEY-----"));
    assert_non_null(strstr(b.crl_pem, "-----BEGIN X509 CRL-----"));
    free(crt);
    free(ca);
    sj_enrol_bundle_free(&b);
    free(data);
}

static void test_damage_is_refused(void **state)
{
    (void)state;
    char pass[SJ_ENROL_PASSPHRASE_SIZE], other[SJ_ENROL_PASSPHRASE_SIZE];
    sj_error err;
    assert_int_equal(sj_enrol_passphrase(pass, &err), 0);
    assert_int_equal(sj_enrol_passphrase(other, &err), 0);
    size_t len = 0;
    char *data = seal("village", "village", certs.ca_file, "village:410423101201", pass, &len);
    sj_enrol_bundle b;

    assert_int_equal(sj_enrol_open(data, len, other, &b, &err), SJ_EAUTH);
    assert_non_null(strstr(err.message, "passphrase"));
    assert_null(b.cert_pem);

    /* Cut short at every length. */
    /* (The last byte is the final newline, which PEM does not need.) */
    for (size_t cut = 0; cut < len - 1; cut += 7) {
        int rc = sj_enrol_open(data, cut, pass, &b, &err);
        if (rc != SJ_EINVAL)
            fail_msg("cut at %zu of %zu: %d (%s)", cut, len, rc, err.message);
    }
    /* One byte changed anywhere in the base64 body: refused, or (in a
     * header field outside the seal, such as a version number OpenSSL
     * does not insist on) opened to exactly the same content. */
    sj_enrol_bundle good;
    assert_int_equal(sj_enrol_open(data, len, pass, &good, &err), 0);
    const char *body = strchr(data, '\n') + 1;
    const char *end = strstr(data, "-----END");
    /* (Every 53rd: each opening costs its PBKDF2 rounds.) */
    for (const char *p = body; p < end; p += 53) {
        if (*p == '\n')
            continue;
        char *copy = strdup(data);
        size_t at = (size_t)(p - data);
        copy[at] = copy[at] == 'A' ? 'B' : 'A';
        int rc = sj_enrol_open(copy, len, pass, &b, &err);
        if (rc == 0) {
            if (strcmp(b.cert_pem, good.cert_pem) != 0 || strcmp(b.key_pem, good.key_pem) != 0 ||
                strcmp(b.ca_pem, good.ca_pem) != 0 || strcmp(b.crl_pem, good.crl_pem) != 0 ||
                strcmp(b.address, good.address) != 0 || strcmp(b.peer, good.peer) != 0 ||
                strcmp(b.unit_name, good.unit_name) != 0)
                fail_msg("byte %zu changed, and the bundle opened to other content", at);
            sj_enrol_bundle_free(&b);
        } else {
            assert_true(rc == SJ_EINVAL || rc == SJ_EAUTH);
        }
        free(copy);
    }
    sj_enrol_bundle_free(&good);
    assert_int_equal(sj_enrol_open("hello", 5, pass, &b, &err), SJ_EINVAL);
    free(data);
}

static void test_content_must_hold_together(void **state)
{
    (void)state;
    char pass[SJ_ENROL_PASSPHRASE_SIZE];
    sj_error err;
    assert_int_equal(sj_enrol_passphrase(pass, &err), 0);
    sj_enrol_bundle b;
    size_t len = 0;
    /* The key of another certificate. */
    char *data = seal("village", "relay", certs.ca_file, "village:410423101201", pass, &len);
    assert_int_equal(sj_enrol_open(data, len, pass, &b, &err), SJ_EINVAL);
    free(data);
    /* A certificate of another CA. */
    data = seal("foreign-village", "foreign-village", certs.ca_file, "village:410423101201", pass,
                &len);
    assert_int_equal(sj_enrol_open(data, len, pass, &b, &err), SJ_EINVAL);
    free(data);
    /* A node that is not the certificate's. */
    data = seal("village", "village", certs.ca_file, "village:410423101202", pass, &len);
    assert_int_equal(sj_enrol_open(data, len, pass, &b, &err), SJ_EINVAL);
    assert_non_null(strstr(err.message, "node"));
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passphrase),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damage_is_refused),
        cmocka_unit_test(test_content_must_hold_together),
    };
    return cmocka_run_group_tests(tests, setup_certs, teardown_certs);
}
