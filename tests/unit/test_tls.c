/*
 * test_tls.c - the TLS engine (common/net/tls.c) with real OpenSSL and real
 * certificates from sanji-pki (tests/lib/certs.c): a client engine and a
 * server engine talk to each other in memory, bytes pumped between
 * sj_tls_take() and sj_tls_feed().
 *
 * The refusal cases are one table: who connects with which certificate to
 * whom, and which code (and word of the message) each side must report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "certs.h"
#include "tls.h"
#include "tls_pair.h"

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

/* ---------- helpers ----------------------------------------------------- */

static const sj_node_role relay_listener_roles[] = {SJ_NODE_ROLE_VILLAGE,
                                                    SJ_NODE_ROLE_TOWNSHIP_DESK};
static const sj_node_role upstream_roles[] = {SJ_NODE_ROLE_RELAY};

/* A context for the named certificate ("" = none), or fails the test. */
static sj_tls_ctx *make_ctx(const char *cert, bool is_server, bool with_crl,
                            const sj_node_role *roles, size_t n_roles, const char *ca_file)
{
    sj_error err;
    sj_tls_ctx *ctx =
        sj_test_certs_tls_ctx(&certs, cert, is_server, with_crl, roles, n_roles, ca_file, &err);
    if (ctx == NULL)
        fail_msg("sj_tls_ctx_new(%s): %s %s", cert, sj_err_name(err.code), err.message);
    return ctx;
}

/* Moves everything a wants sent into b. */
static size_t transfer(sj_tls *a, sj_tls *b)
{
    size_t n;
    assert_int_equal(sj_test_tls_transfer(a, b, &n), 0);
    return n;
}

/* Runs both handshakes to their end.  If the client finished but the server
 * refused it, the client learns it from the alert on its first read; that
 * code becomes client_rc. */
static void run_handshake(sj_tls *c, sj_tls *s, sj_test_tls_outcome *o)
{
    sj_test_tls_handshake(c, s, o);
    if (o->client_rc == 0 && o->server_rc != 0) {
        unsigned char buf[64];
        size_t n;
        o->client_rc = sj_tls_read(c, buf, sizeof buf, &n);
        o->client_err = *sj_tls_last_error(c);
    }
}

static void assert_mentions(const sj_error *e, const char *word, const char *side)
{
    if (word != NULL && strstr(e->message, word) == NULL)
        fail_msg("%s message \"%s\" does not mention \"%s\"", side, e->message, word);
}

/* ---------- a good pair ------------------------------------------------- */

static void test_good_pair_talks_both_ways_and_closes(void **state)
{
    (void)state;
    sj_tls_ctx *sctx = make_ctx("relay", true, true, relay_listener_roles, 2, NULL);
    sj_tls_ctx *cctx = make_ctx("village", false, true, upstream_roles, 1, NULL);
    sj_error err;
    sj_tls *s = sj_tls_new(sctx, NULL, &err);
    sj_tls *c = sj_tls_new(cctx, "relay:410423101000", &err);
    assert_non_null(s);
    assert_non_null(c);
    assert_null(sj_tls_peer(c));

    sj_test_tls_outcome o;
    run_handshake(c, s, &o);
    if (o.client_rc != 0 || o.server_rc != 0)
        fail_msg("client %s (%s), server %s (%s)", sj_err_name(o.client_rc),
                 o.client_err.message, sj_err_name(o.server_rc), o.server_err.message);
    assert_true(sj_tls_is_established(c));
    assert_string_equal(sj_tls_peer(c)->node_id, "relay:410423101000");
    assert_string_equal(sj_tls_peer(s)->node_id, "village:410423101201");
    assert_int_equal(sj_tls_peer(s)->role, SJ_NODE_ROLE_VILLAGE);
    assert_string_equal(sj_tls_ctx_identity(sctx)->node_id, "relay:410423101000");

    unsigned char buf[256];
    size_t n;
    assert_int_equal(sj_tls_read(s, buf, sizeof buf, &n), SJ_EAGAIN);

    assert_int_equal(sj_tls_write(c, "上行 hello", strlen("上行 hello")), 0);
    transfer(c, s);
    assert_int_equal(sj_tls_read(s, buf, sizeof buf, &n), 0);
    assert_int_equal(n, strlen("上行 hello"));
    assert_memory_equal(buf, "上行 hello", n);

    /* A message larger than one TLS record (16 KiB) arrives whole. */
    static unsigned char big[40000], got[40000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7);
    assert_int_equal(sj_tls_write(s, big, sizeof big), 0);
    transfer(s, c);
    size_t total = 0;
    while (total < sizeof got) {
        int rc = sj_tls_read(c, got + total, sizeof got - total, &n);
        assert_int_equal(rc, 0);
        total += n;
    }
    assert_memory_equal(got, big, sizeof big);
    assert_int_equal(sj_tls_read(c, buf, sizeof buf, &n), SJ_EAGAIN);

    assert_int_equal(sj_tls_shutdown(c), 0);
    assert_int_equal(sj_tls_shutdown(c), 0);
    assert_int_equal(sj_tls_write(c, "x", 1), SJ_EINVAL);
    transfer(c, s);
    assert_int_equal(sj_tls_read(s, buf, sizeof buf, &n), SJ_ECLOSED);
    assert_int_equal(sj_tls_read(s, buf, sizeof buf, &n), SJ_ECLOSED);
    assert_int_equal(sj_tls_shutdown(s), 0);
    transfer(s, c);
    assert_int_equal(sj_tls_read(c, buf, sizeof buf, &n), SJ_ECLOSED);

    sj_tls_free(c);
    sj_tls_free(s);
    sj_tls_ctx_free(cctx);
    sj_tls_ctx_free(sctx);
}

/* ---------- refusals ---------------------------------------------------- */

struct refusal_case {
    const char *what;
    const char *client_cert;  /* "" = none */
    const char *server_cert;
    bool server_crl;
    bool client_trusts_foreign; /* client's anchor is the foreign CA */
    const sj_node_role *server_allows;
    size_t n_server_allows;
    const sj_node_role *client_allows;
    size_t n_client_allows;
    const char *expected_node;
    int server_want, client_want;
    const char *server_word, *client_word;
};

static const sj_node_role village_only[] = {SJ_NODE_ROLE_VILLAGE};
static const sj_node_role county_only[] = {SJ_NODE_ROLE_COUNTY};

static const struct refusal_case refusal_cases[] = {
    {"client without certificate", "", "relay", false, false, relay_listener_roles, 2,
     upstream_roles, 1, NULL, SJ_ETLS_NO_CERT, SJ_ETLS_NO_CERT, "no certificate",
     "requires a certificate"},
    {"client certificate from a foreign CA", "foreign-village", "relay", false, false,
     relay_listener_roles, 2, upstream_roles, 1, NULL, SJ_ETLS_UNTRUSTED, SJ_ETLS_UNTRUSTED,
     "another CA", "not from the peer's CA"},
    {"server certificate from a foreign CA", "village", "relay", false, true,
     relay_listener_roles, 2, upstream_roles, 1, NULL, SJ_ETLS_UNTRUSTED, SJ_ETLS_UNTRUSTED,
     "not from the peer's CA", "another CA"},
    {"expired client certificate", "expired-village", "relay", false, false,
     relay_listener_roles, 2, upstream_roles, 1, NULL, SJ_ETLS_EXPIRED, SJ_ETLS_EXPIRED,
     "expired", "expired"},
    {"client certificate not yet valid", "future-village", "relay", false, false,
     relay_listener_roles, 2, upstream_roles, 1, NULL, SJ_ETLS_EXPIRED, SJ_ETLS_EXPIRED,
     "not yet valid", "not yet valid"},
    {"revoked client certificate", "revoked-village", "relay", true, false,
     relay_listener_roles, 2, upstream_roles, 1, NULL, SJ_ETLS_REVOKED, SJ_ETLS_REVOKED,
     "revoked", "revoked"},
    {"client role not allowed on the listener", "county-desk", "relay", true, false,
     relay_listener_roles, 2, upstream_roles, 1, NULL, SJ_ETLS_WRONG_ROLE, SJ_ETLS_WRONG_ROLE,
     "county-desk", "role is not allowed"},
    {"server of a role the client does not accept", "village", "county", false, false,
     village_only, 1, upstream_roles, 1, NULL, SJ_ETLS_WRONG_ROLE, SJ_ETLS_WRONG_ROLE,
     "role is not allowed", "has role county"},
    {"client expecting another node", "village", "relay2", false, false, relay_listener_roles,
     2, upstream_roles, 1, "relay:410423101000", SJ_ETLS_HANDSHAKE, SJ_ETLS_WRONG_PEER,
     "another node", "expected relay:410423101000, but the peer is relay:410423102000"},
    {"desk expecting the county reaches the county", "county-desk", "county", true, false,
     (const sj_node_role[]){SJ_NODE_ROLE_COUNTY_DESK}, 1, county_only, 1,
     "county:410423000000", 0, 0, NULL, NULL},
    {"revoked client accepted without a CRL", "revoked-village", "relay", false, false,
     relay_listener_roles, 2, upstream_roles, 1, NULL, 0, 0, NULL, NULL},
};

static void run_refusal_case(const struct refusal_case *rc)
{
    /* A client whose anchor is the foreign CA sees the county-issued server
     * certificate exactly as a server sees a foreign client certificate. */
    const char *client_ca = rc->client_trusts_foreign ? certs.foreign_ca_file : NULL;
    sj_tls_ctx *sctx =
        make_ctx(rc->server_cert, true, rc->server_crl, rc->server_allows, rc->n_server_allows,
                 NULL);
    sj_tls_ctx *cctx = make_ctx(rc->client_cert, false, false, rc->client_allows,
                                rc->n_client_allows, client_ca);
    sj_error err;
    sj_tls *s = sj_tls_new(sctx, NULL, &err);
    sj_tls *c = sj_tls_new(cctx, rc->expected_node, &err);
    assert_non_null(s);
    assert_non_null(c);
    sj_test_tls_outcome o;
    run_handshake(c, s, &o);
    print_message("%-50s server %s: %s\n%-50s client %s: %s\n", rc->what,
                  sj_err_name(o.server_rc), o.server_err.message, "", sj_err_name(o.client_rc),
                  o.client_err.message);
    if (o.server_rc != rc->server_want || o.client_rc != rc->client_want)
        fail_msg("%s: server got %s want %s; client got %s want %s", rc->what,
                 sj_err_name(o.server_rc), sj_err_name(rc->server_want),
                 sj_err_name(o.client_rc), sj_err_name(rc->client_want));
    if (rc->server_want != 0) {
        assert_int_equal(o.server_err.code, rc->server_want);
        assert_mentions(&o.server_err, rc->server_word, "server");
        assert_null(sj_tls_peer(s));
        /* The engine stays dead. */
        assert_int_equal(sj_tls_handshake(s, &err), rc->server_want);
        assert_int_equal(sj_tls_write(s, "x", 1), rc->server_want);
    }
    if (rc->client_want != 0) {
        assert_int_equal(o.client_err.code, rc->client_want);
        assert_mentions(&o.client_err, rc->client_word, "client");
    }
    sj_tls_free(c);
    sj_tls_free(s);
    sj_tls_ctx_free(cctx);
    sj_tls_ctx_free(sctx);
}

#define REFUSAL_TEST(i)                                                                        \
    static void test_refusal_##i(void **state)                                                 \
    {                                                                                          \
        (void)state;                                                                           \
        run_refusal_case(&refusal_cases[i]);                                                   \
    }
REFUSAL_TEST(0)
REFUSAL_TEST(1)
REFUSAL_TEST(2)
REFUSAL_TEST(3)
REFUSAL_TEST(4)
REFUSAL_TEST(5)
REFUSAL_TEST(6)
REFUSAL_TEST(7)
REFUSAL_TEST(8)
REFUSAL_TEST(9)
REFUSAL_TEST(10)

/* ---------- TLS 1.2 ----------------------------------------------------- */

/* A TLS 1.2-only client (plain OpenSSL, not our engine) is refused. */
static void test_tls12_client_refused(void **state)
{
    (void)state;
    sj_tls_ctx *sctx = make_ctx("relay", true, false, relay_listener_roles, 2, NULL);
    sj_error err;
    sj_tls *s = sj_tls_new(sctx, NULL, &err);
    assert_non_null(s);

    SSL_CTX *oc = SSL_CTX_new(TLS_client_method());
    assert_non_null(oc);
    assert_int_equal(SSL_CTX_set_max_proto_version(oc, TLS1_2_VERSION), 1);
    SSL *ssl = SSL_new(oc);
    BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    assert_int_equal(SSL_do_handshake(ssl), -1); /* ClientHello written, waits */

    unsigned char buf[4096];
    int n;
    while ((n = BIO_read(out, buf, sizeof buf)) > 0)
        assert_int_equal(sj_tls_feed(s, buf, (size_t)n), 0);
    int rc = sj_tls_handshake(s, &err);
    assert_int_equal(rc, SJ_ETLS_PROTOCOL);
    assert_mentions(&err, "TLS 1.3", "server");

    SSL_free(ssl);
    SSL_CTX_free(oc);
    ERR_clear_error();
    sj_tls_free(s);
    sj_tls_ctx_free(sctx);
}

/* ---------- certificates without a valid identity ---------------------- */

/* Our engine will not even load such a certificate, so the client here is
 * plain OpenSSL presenting it: a CA-signed certificate that is not a Sanji
 * node. */
static void test_identityless_client_refused(void **state)
{
    (void)state;
    static const struct {
        const char *cert;
        const char *word;
    } rows[] = {
        {"no-identity", "no Sanji identity URI"},
        {"bad-identity", "needs a village"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sj_tls_ctx *sctx = make_ctx("relay", true, false, relay_listener_roles, 2, NULL);
        sj_error err;
        sj_tls *s = sj_tls_new(sctx, NULL, &err);
        assert_non_null(s);
        char crt[PATH_MAX], key[PATH_MAX];
        SSL_CTX *oc = SSL_CTX_new(TLS_client_method());
        assert_non_null(oc);
        assert_int_equal(SSL_CTX_use_certificate_file(
                             oc, sj_test_certs_path(&certs, rows[i].cert, "crt", crt, sizeof crt),
                             SSL_FILETYPE_PEM),
                         1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(
                             oc, sj_test_certs_path(&certs, rows[i].cert, "key", key, sizeof key),
                             SSL_FILETYPE_PEM),
                         1);
        SSL *ssl = SSL_new(oc);
        BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(in, -1);
        SSL_set_bio(ssl, in, out);
        SSL_set_connect_state(ssl);

        int rc = SJ_EAGAIN;
        unsigned char buf[4096];
        for (int round = 0; round < 10 && rc == SJ_EAGAIN; round++) {
            (void)SSL_do_handshake(ssl);
            int n;
            while ((n = BIO_read(out, buf, sizeof buf)) > 0)
                assert_int_equal(sj_tls_feed(s, buf, (size_t)n), 0);
            rc = sj_tls_handshake(s, &err);
            size_t m;
            while (sj_tls_pending(s) > 0) {
                assert_int_equal(sj_tls_take(s, buf, sizeof buf, &m), 0);
                assert_int_equal(BIO_write(in, buf, (int)m), (int)m);
            }
        }
        print_message("%s: %s %s\n", rows[i].cert, sj_err_name(rc), err.message);
        assert_int_equal(rc, SJ_ETLS_BAD_IDENTITY);
        assert_mentions(&err, rows[i].word, "server");
        assert_null(sj_tls_peer(s));
        SSL_free(ssl);
        SSL_CTX_free(oc);
        ERR_clear_error();
        sj_tls_free(s);
        sj_tls_ctx_free(sctx);
    }
}

static void test_ctx_refuses_own_certificate_without_identity(void **state)
{
    (void)state;
    char crt[PATH_MAX], key[PATH_MAX];
    sj_tls_config cfg = {
        .ca_file = certs.ca_file,
        .cert_file = sj_test_certs_path(&certs, "no-identity", "crt", crt, sizeof crt),
        .key_file = sj_test_certs_path(&certs, "no-identity", "key", key, sizeof key),
        .is_server = false,
        .allowed_peer_roles = upstream_roles,
        .n_allowed_peer_roles = 1,
    };
    sj_error err;
    assert_null(sj_tls_ctx_new(&cfg, &err));
    assert_int_equal(err.code, SJ_ETLS_BAD_IDENTITY);
    assert_mentions(&err, "no-identity.crt", "ctx");
}

/* ---------- contexts ---------------------------------------------------- */

static void test_ctx_refuses_unreadable_or_mismatched_key(void **state)
{
    (void)state;
    char crt[PATH_MAX], key[PATH_MAX], other[PATH_MAX];
    sj_tls_config cfg = {
        .ca_file = certs.ca_file,
        .cert_file = sj_test_certs_path(&certs, "relay", "crt", crt, sizeof crt),
        .key_file = "/nonexistent/relay.key",
        .is_server = true,
        .allowed_peer_roles = relay_listener_roles,
        .n_allowed_peer_roles = 2,
    };
    sj_error err;
    assert_null(sj_tls_ctx_new(&cfg, &err));
    assert_int_equal(err.code, SJ_ETLS_KEY);
    assert_mentions(&err, "/nonexistent/relay.key", "ctx");

    cfg.key_file = sj_test_certs_path(&certs, "village", "key", other, sizeof other);
    assert_null(sj_tls_ctx_new(&cfg, &err));
    assert_int_equal(err.code, SJ_ETLS_KEY);
    assert_mentions(&err, "does not match", "ctx");

    cfg.key_file = sj_test_certs_path(&certs, "relay", "key", key, sizeof key);
    cfg.ca_file = "/nonexistent/ca.crt";
    assert_null(sj_tls_ctx_new(&cfg, &err));
    assert_int_equal(err.code, SJ_ETLS_KEY);
    assert_mentions(&err, "/nonexistent/ca.crt", "ctx");
    ERR_clear_error();
}

/* A private key that other users may read (or write) is refused before it
 * is read, with the command that fixes it; 0600 and 0400 are taken.  The
 * key is a copy of the relay's (sanji-pki writes its keys 0600). */
static void test_ctx_refuses_key_open_to_others(void **state)
{
    (void)state;
    char crt[PATH_MAX], key[PATH_MAX], copy[PATH_MAX], want[PATH_MAX + 16];
    sj_test_certs_path(&certs, "relay", "key", key, sizeof key);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(copy, sizeof copy, "%s/open-relay.key", certs.dir);
    FILE *in = fopen(key, "rb"), *out = fopen(copy, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    sj_tls_config cfg = {
        .ca_file = certs.ca_file,
        .cert_file = sj_test_certs_path(&certs, "relay", "crt", crt, sizeof crt),
        .key_file = copy,
        .is_server = true,
        .allowed_peer_roles = relay_listener_roles,
        .n_allowed_peer_roles = 2,
    };
    snprintf(want, sizeof want, "chmod 600 %s", copy);
    static const mode_t refused[] = {0644, 0640, 0604, 0620, 0601, 0660, 0444};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(chmod(copy, refused[i]), 0);
        sj_error err;
        assert_null(sj_tls_ctx_new(&cfg, &err));
        if (i == 0)
            print_message("mode 0644: %s %s\n", sj_err_name(err.code), err.message);
        assert_int_equal(err.code, SJ_ETLS_KEY);
        assert_mentions(&err, want, "ctx");
    }
    static const mode_t taken[] = {0600, 0400};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        assert_int_equal(chmod(copy, taken[i]), 0);
        sj_error err;
        sj_tls_ctx *ctx = sj_tls_ctx_new(&cfg, &err);
        if (ctx == NULL)
            fail_msg("mode %03o refused: %s", (unsigned)taken[i], err.message);
        sj_tls_ctx_free(ctx);
    }
    assert_int_equal(remove(copy), 0);
}

static void test_ctx_refuses_bad_config(void **state)
{
    (void)state;
    char crt[PATH_MAX], key[PATH_MAX];
    sj_tls_config cfg = {
        .ca_file = certs.ca_file,
        .cert_file = sj_test_certs_path(&certs, "relay", "crt", crt, sizeof crt),
        .key_file = sj_test_certs_path(&certs, "relay", "key", key, sizeof key),
        .is_server = true,
        .allowed_peer_roles = relay_listener_roles,
        .n_allowed_peer_roles = 0,
    };
    sj_error err;
    assert_null(sj_tls_ctx_new(&cfg, &err));
    assert_int_equal(err.code, SJ_EINVAL);
    cfg.n_allowed_peer_roles = 2;
    cfg.key_file = NULL;
    assert_null(sj_tls_ctx_new(&cfg, &err));
    assert_int_equal(err.code, SJ_EINVAL);
    cfg.key_file = key;
    sj_tls_ctx *ctx = sj_tls_ctx_new(&cfg, &err);
    assert_non_null(ctx);
    /* A server engine takes no expected peer; a client's must be well formed. */
    assert_null(sj_tls_new(ctx, "village:410423101201", &err));
    assert_int_equal(err.code, SJ_EINVAL);
    sj_tls_ctx_free(ctx);
    sj_tls_ctx *cctx = make_ctx("village", false, false, upstream_roles, 1, NULL);
    assert_null(sj_tls_new(cctx, "relay:4104231010", &err));
    assert_int_equal(err.code, SJ_EINVAL);
    sj_tls_ctx_free(cctx);
}

/* ---------- CRL reload -------------------------------------------------- */

static void test_reload_crl_applies_to_new_handshakes(void **state)
{
    (void)state;
    char out[PATH_MAX], crt[PATH_MAX];
    snprintf(out, sizeof out, "%s/reload-village", certs.dir);
    const char *issue[] = {"issue", "--dir", certs.ca_dir, "--role", "village", "--unit",
                           "410423101205", "--out", out, NULL};
    assert_int_equal(sj_test_certs_pki(&certs, issue), 0);

    sj_tls_ctx *sctx = make_ctx("relay", true, true, relay_listener_roles, 2, NULL);
    sj_tls_ctx *cctx = make_ctx("reload-village", false, false, upstream_roles, 1, NULL);
    sj_error err;
    sj_test_tls_outcome o;
    sj_tls *s = sj_tls_new(sctx, NULL, &err), *c = sj_tls_new(cctx, NULL, &err);
    run_handshake(c, s, &o);
    assert_int_equal(o.server_rc, 0);
    assert_int_equal(o.client_rc, 0);
    sj_tls_free(c);
    sj_tls_free(s);

    const char *revoke[] = {"revoke", "--dir", certs.ca_dir, "--cert",
                            sj_test_certs_path(&certs, "reload-village", "crt", crt, sizeof crt),
                            NULL};
    assert_int_equal(sj_test_certs_pki(&certs, revoke), 0);
    assert_int_equal(sj_tls_ctx_reload_crl(sctx, &err), 0);

    s = sj_tls_new(sctx, NULL, &err);
    c = sj_tls_new(cctx, NULL, &err);
    run_handshake(c, s, &o);
    assert_int_equal(o.server_rc, SJ_ETLS_REVOKED);
    assert_int_equal(o.client_rc, SJ_ETLS_REVOKED);
    sj_tls_free(c);
    sj_tls_free(s);

    /* A reload that cannot read the file keeps the old CRL. */
    sj_tls_ctx *nctx = make_ctx("relay", true, false, relay_listener_roles, 2, NULL);
    assert_int_equal(sj_tls_ctx_reload_crl(nctx, &err), SJ_EINVAL);
    sj_tls_ctx_free(nctx);
    sj_tls_ctx_free(cctx);
    sj_tls_ctx_free(sctx);
}

/* ---------- live links: the peer judged again -------------------------- */

/* Issues a village certificate named name for unit, from the set's CA. */
static void issue_village(const char *name, const char *unit)
{
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/%s", certs.dir, name);
    const char *issue[] = {"issue", "--dir", certs.ca_dir, "--role", "village", "--unit", unit,
                           "--out", out, NULL};
    assert_int_equal(sj_test_certs_pki(&certs, issue), 0);
}

static void revoke_cert(const char *name)
{
    char crt[PATH_MAX];
    const char *revoke[] = {"revoke", "--dir", certs.ca_dir, "--cert",
                            sj_test_certs_path(&certs, name, "crt", crt, sizeof crt), NULL};
    assert_int_equal(sj_test_certs_pki(&certs, revoke), 0);
}

/* The serial (as sanji-pki prints it) and notAfter of a certificate of the set. */
static void cert_facts(const char *name, char serial[SJ_TLS_SERIAL_MAX], int64_t *not_after)
{
    char path[PATH_MAX];
    FILE *f = fopen(sj_test_certs_path(&certs, name, "crt", path, sizeof path), "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = BN_bn2hex(bn);
    snprintf(serial, SJ_TLS_SERIAL_MAX, "%s", hex);
    OPENSSL_free(hex);
    BN_free(bn);
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm), 1);
    *not_after = (int64_t)timegm(&tm);
    X509_free(x);
}

/* A whole file, malloc'd. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void test_peer_cert_and_expiry_recheck(void **state)
{
    (void)state;
    sj_tls_ctx *sctx = make_ctx("relay", true, true, relay_listener_roles, 2, NULL);
    sj_tls_ctx *cctx = make_ctx("village", false, true, upstream_roles, 1, NULL);
    sj_error err;
    sj_tls *s = sj_tls_new(sctx, NULL, &err), *c = sj_tls_new(cctx, NULL, &err);
    sj_tls_cert_info ci;
    assert_int_equal(sj_tls_peer_cert(s, &ci), SJ_EINVAL); /* before the handshake */
    assert_int_equal(sj_tls_recheck_peer(s, 0, &err), 0);
    sj_test_tls_outcome o;
    run_handshake(c, s, &o);
    assert_int_equal(o.server_rc, 0);

    char serial[SJ_TLS_SERIAL_MAX];
    int64_t not_after;
    cert_facts("village", serial, &not_after);
    assert_int_equal(sj_tls_peer_cert(s, &ci), 0);
    assert_string_equal(ci.serial, serial);
    assert_int_equal(ci.not_after, not_after);
    assert_true(ci.not_before < ci.not_after);
    cert_facts("relay", serial, &not_after);
    assert_int_equal(sj_tls_peer_cert(c, &ci), 0);
    assert_string_equal(ci.serial, serial);

    /* Good through notAfter itself, as at the handshake; expired after it,
     * with the node and serial in the message. */
    cert_facts("village", serial, &not_after);
    assert_int_equal(sj_tls_recheck_peer(s, not_after, &err), 0);
    assert_int_equal(sj_tls_recheck_peer(s, not_after + 1, &err), SJ_ETLS_EXPIRED);
    assert_mentions(&err, "village:410423101201", "server");
    assert_mentions(&err, serial, "server");
    sj_tls_free(c);
    sj_tls_free(s);
    sj_tls_ctx_free(cctx);
    sj_tls_ctx_free(sctx);
}

static void test_reload_revokes_a_live_peer(void **state)
{
    (void)state;
    issue_village("live-village", "410423101206");
    sj_tls_ctx *sctx = make_ctx("relay", true, true, relay_listener_roles, 2, NULL);
    sj_tls_ctx *lctx = make_ctx("live-village", false, false, upstream_roles, 1, NULL);
    sj_tls_ctx *vctx = make_ctx("village", false, false, upstream_roles, 1, NULL);
    sj_error err;
    sj_test_tls_outcome o;
    sj_tls *ls = sj_tls_new(sctx, NULL, &err), *lc = sj_tls_new(lctx, NULL, &err);
    sj_tls *vs = sj_tls_new(sctx, NULL, &err), *vc = sj_tls_new(vctx, NULL, &err);
    run_handshake(lc, ls, &o);
    assert_int_equal(o.server_rc, 0);
    run_handshake(vc, vs, &o);
    assert_int_equal(o.server_rc, 0);
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(sj_tls_recheck_peer(ls, now, &err), 0);

    revoke_cert("live-village");
    /* Not in force until the context reloads: the link stays. */
    assert_int_equal(sj_tls_recheck_peer(ls, now, &err), 0);
    assert_int_equal(sj_tls_ctx_reload_crl(sctx, &err), 0);
    assert_int_equal(sj_tls_recheck_peer(ls, now, &err), SJ_ETLS_REVOKED);
    char serial[SJ_TLS_SERIAL_MAX];
    int64_t not_after;
    cert_facts("live-village", serial, &not_after);
    assert_mentions(&err, serial, "server");
    assert_mentions(&err, "village:410423101206", "server");
    /* It stays refused on later checks; the other peer stays good. */
    assert_int_equal(sj_tls_recheck_peer(ls, now, &err), SJ_ETLS_REVOKED);
    assert_int_equal(sj_tls_recheck_peer(vs, now, &err), 0);

    sj_tls_free(lc);
    sj_tls_free(ls);
    sj_tls_free(vc);
    sj_tls_free(vs);
    sj_tls_ctx_free(lctx);
    sj_tls_ctx_free(vctx);
    sj_tls_ctx_free(sctx);
}

static void test_offer_crl_checks_signer_and_age(void **state)
{
    (void)state;
    /* A context without crl_file checks nothing until it is offered one. */
    sj_tls_ctx *nctx = make_ctx("relay", true, false, relay_listener_roles, 2, NULL);
    sj_tls_ctx *rctx = make_ctx("revoked-village", false, false, upstream_roles, 1, NULL);
    sj_error err;
    sj_tls_crl_info info, in;
    assert_int_equal(sj_tls_ctx_crl(nctx, &info, NULL, NULL), SJ_ENOTFOUND);

    size_t old_len;
    unsigned char *old_pem = slurp(certs.crl_file, &old_len);
    assert_int_equal(sj_tls_ctx_offer_crl(nctx, old_pem, old_len, &in, &err), 0);
    const uint8_t *der;
    size_t der_len;
    assert_int_equal(sj_tls_ctx_crl(nctx, &info, &der, &der_len), 0);
    assert_true(info.number > 0);
    assert_int_equal(info.number, in.number);
    assert_true(info.revoked >= 1);
    assert_true(der_len > 0);
    /* Now it refuses the revoked station at the handshake. */
    sj_test_tls_outcome o;
    sj_tls *s = sj_tls_new(nctx, NULL, &err), *c = sj_tls_new(rctx, NULL, &err);
    run_handshake(c, s, &o);
    assert_int_equal(o.server_rc, SJ_ETLS_REVOKED);
    sj_tls_free(c);
    sj_tls_free(s);

    /* The same CRL again, in DER this time: nothing changes. */
    unsigned char *copy = malloc(der_len);
    assert_non_null(copy);
    memcpy(copy, der, der_len);
    assert_int_equal(sj_tls_ctx_offer_crl(nctx, copy, der_len, NULL, &err), SJ_EEXISTS);
    free(copy);

    /* Bytes that are no CRL, and a CRL of another CA. */
    assert_int_equal(sj_tls_ctx_offer_crl(nctx, "not a CRL", 9, NULL, &err), SJ_EINVAL);
    char foreign[PATH_MAX];
    snprintf(foreign, sizeof foreign, "%s/foreign/crl.pem", certs.dir);
    size_t flen;
    unsigned char *fpem = slurp(foreign, &flen);
    assert_int_equal(sj_tls_ctx_offer_crl(nctx, fpem, flen, NULL, &err), SJ_ETLS_UNTRUSTED);
    free(fpem);

    /* A newer one is taken (sanji-pki numbers even two publications of one
     * second apart); then the older one is refused. */
    const char *crl[] = {"crl", "--dir", certs.ca_dir, NULL};
    assert_int_equal(sj_test_certs_pki(&certs, crl), 0);
    size_t new_len;
    unsigned char *new_pem = slurp(certs.crl_file, &new_len);
    assert_int_equal(sj_tls_ctx_offer_crl(nctx, new_pem, new_len, &in, &err), 0);
    assert_true(in.number > info.number);
    assert_int_equal(sj_tls_ctx_offer_crl(nctx, old_pem, old_len, NULL, &err), SJ_EEXISTS);
    assert_int_equal(sj_tls_ctx_crl(nctx, &info, NULL, NULL), 0);
    assert_int_equal(info.number, in.number);
    free(new_pem);
    free(old_pem);
    sj_tls_ctx_free(rctx);
    sj_tls_ctx_free(nctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_pair_talks_both_ways_and_closes),
        cmocka_unit_test(test_refusal_0),
        cmocka_unit_test(test_refusal_1),
        cmocka_unit_test(test_refusal_2),
        cmocka_unit_test(test_refusal_3),
        cmocka_unit_test(test_refusal_4),
        cmocka_unit_test(test_refusal_5),
        cmocka_unit_test(test_refusal_6),
        cmocka_unit_test(test_refusal_7),
        cmocka_unit_test(test_refusal_8),
        cmocka_unit_test(test_refusal_9),
        cmocka_unit_test(test_refusal_10),
        cmocka_unit_test(test_identityless_client_refused),
        cmocka_unit_test(test_ctx_refuses_own_certificate_without_identity),
        cmocka_unit_test(test_tls12_client_refused),
        cmocka_unit_test(test_ctx_refuses_unreadable_or_mismatched_key),
        cmocka_unit_test(test_ctx_refuses_key_open_to_others),
        cmocka_unit_test(test_ctx_refuses_bad_config),
        cmocka_unit_test(test_reload_crl_applies_to_new_handshakes),
        cmocka_unit_test(test_peer_cert_and_expiry_recheck),
        cmocka_unit_test(test_reload_revokes_a_live_peer),
        cmocka_unit_test(test_offer_crl_checks_signer_and_age),
    };
    return cmocka_run_group_tests(tests, setup_certs, teardown_certs);
}
