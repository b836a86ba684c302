/*
 * test_tls_interop.c - the tls engine (common/net/tls.h) against a plain
 * OpenSSL peer: OpenSSL carries every record on both ends, and these are
 * the things a link meets after its handshake.
 *
 * A peer made with OpenSSL's own API (memory BIOs, TLS 1.3, certificates
 * from sanji-pki) talks to one of our engines, as client or as server,
 * with each of the three TLS 1.3 cipher suites: messages of many sizes
 * each way, input fed a byte at a time and coalesced into one feed,
 * KeyUpdate from the peer (requested or not, and many requests at once),
 * close_notify both ways, session tickets from an OpenSSL server, a
 * truncated record, a flipped bit and an oversized record with the alert
 * the peer receives.
 *
 * Entry point: main() (cmocka).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certs.h"
#include "tls.h"
#include "tls_pair.h"

static sj_test_certs certs;
static sj_tls_ctx *sj_server_ctx, *sj_client_ctx;

static const char *const suites[3] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                      "TLS_CHACHA20_POLY1305_SHA256"};

static int setup(void **state)
{
    (void)state;
    sj_error err;
    if (sj_test_certs_setup(&certs) != 0 ||
        sj_test_tls_station_ctxs(&certs, &sj_server_ctx, &sj_client_ctx, &err) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sj_tls_ctx_free(sj_server_ctx);
    sj_tls_ctx_free(sj_client_ctx);
    sj_test_certs_cleanup(&certs);
    return 0;
}

/* ---------- the plain OpenSSL peer ---------------------------------------- */

typedef struct peer {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
} peer;

static int peer_alert_seen = -1; /* the last alert an OpenSSL peer received */

static void peer_info_cb(const SSL *ssl, int where, int ret)
{
    (void)ssl;
    if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT)
        peer_alert_seen = ret & 0xff;
}

static void ossl_fail(const char *what)
{
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    fail_msg("%s: %s", what, buf);
}

/* An OpenSSL endpoint with the set's certificate `cert`, offering only
 * `suite`; a server asks for the client's certificate and sends `tickets`
 * session tickets. */
static void peer_open(peer *p, bool is_server, const char *cert, const char *suite, int tickets)
{
    char crt[512], key[512];
    memset(p, 0, sizeof *p);
    p->ctx = SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
    if (p->ctx == NULL || !SSL_CTX_set_min_proto_version(p->ctx, TLS1_3_VERSION) ||
        SSL_CTX_set_ciphersuites(p->ctx, suite) != 1 ||
        SSL_CTX_use_certificate_file(p->ctx, sj_test_certs_path(&certs, cert, "crt", crt,
                                                                sizeof crt),
                                     SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(p->ctx, sj_test_certs_path(&certs, cert, "key", key,
                                                               sizeof key),
                                    SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_file(p->ctx, certs.ca_file) != 1)
        ossl_fail("peer context");
    SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    if (is_server)
        SSL_CTX_set_num_tickets(p->ctx, (size_t)tickets);
    p->ssl = SSL_new(p->ctx);
    p->rbio = BIO_new(BIO_s_mem());
    p->wbio = BIO_new(BIO_s_mem());
    assert_non_null(p->ssl);
    assert_non_null(p->rbio);
    assert_non_null(p->wbio);
    BIO_set_mem_eof_return(p->rbio, -1);
    SSL_set_bio(p->ssl, p->rbio, p->wbio);
    SSL_set_info_callback(p->ssl, peer_info_cb);
    if (is_server)
        SSL_set_accept_state(p->ssl);
    else
        SSL_set_connect_state(p->ssl);
    peer_alert_seen = -1;
}

static void peer_close(peer *p)
{
    SSL_free(p->ssl);
    SSL_CTX_free(p->ctx);
}

/* Everything the engine wants sent, into the peer. */
static size_t sj_to_peer(sj_tls *t, peer *p)
{
    unsigned char buf[8192];
    size_t total = 0, n;
    while (sj_tls_pending(t) > 0) {
        assert_int_equal(sj_tls_take(t, buf, sizeof buf, &n), 0);
        assert_int_equal(BIO_write(p->rbio, buf, (int)n), (int)n);
        total += n;
    }
    return total;
}

/* Everything the peer wrote, as one buffer (caller frees); *n its length. */
static unsigned char *peer_output(peer *p, size_t *n)
{
    *n = BIO_ctrl_pending(p->wbio);
    unsigned char *buf = malloc(*n + 1);
    assert_non_null(buf);
    if (*n > 0)
        assert_int_equal(BIO_read(p->wbio, buf, (int)*n), (int)*n);
    return buf;
}

/* Reads what the engine has into out[0..cap) until SJ_EAGAIN; returns the
 * count, and the final code in *last. */
static size_t sj_read_all(sj_tls *t, unsigned char *out, size_t cap, int *last)
{
    size_t total = 0, n;
    int rc;
    while ((rc = sj_tls_read(t, out + total, cap - total, &n)) == 0) {
        assert_true(n > 0);
        total += n;
        if (total == cap)
            break;
    }
    if (last)
        *last = rc;
    return total;
}

/* Feeds bytes to the engine (all at once, or one at a time with a read
 * after each) and returns how much plaintext came out. */
static size_t feed_and_read(sj_tls *t, const unsigned char *in, size_t n, bool bytewise,
                            unsigned char *out, size_t cap)
{
    size_t got = 0;
    int rc = SJ_EAGAIN;
    if (!bytewise) {
        assert_int_equal(sj_tls_feed(t, in, n), 0);
        got = sj_read_all(t, out, cap, &rc);
    } else {
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(sj_tls_feed(t, in + i, 1), 0);
            got += sj_read_all(t, out + got, cap - got, &rc);
            if (rc != SJ_EAGAIN && rc != 0)
                break;
        }
    }
    if (rc != SJ_EAGAIN && rc != 0)
        fail_msg("sj_tls_read: %s %s", sj_err_name(rc), sj_tls_last_error(t)->message);
    return got;
}

static void peer_to_sj(peer *p, sj_tls *t)
{
    size_t n;
    unsigned char *buf = peer_output(p, &n);
    if (n > 0)
        assert_int_equal(sj_tls_feed(t, buf, n), 0);
    free(buf);
}

/* Handshake of our engine with the peer. */
static void handshake(sj_tls *t, peer *p)
{
    int src = SJ_EAGAIN, prc = -1;
    sj_error err;
    for (int round = 0; round < 10 && (src != 0 || prc != 1); round++) {
        if (src != 0)
            src = sj_tls_handshake(t, &err);
        sj_to_peer(t, p);
        if (prc != 1) {
            prc = SSL_do_handshake(p->ssl);
            if (prc != 1 && SSL_get_error(p->ssl, prc) != SSL_ERROR_WANT_READ)
                ossl_fail("peer handshake");
        }
        peer_to_sj(p, t);
    }
    if (src != 0)
        fail_msg("engine handshake: %s %s", sj_err_name(src), err.message);
    assert_int_equal(prc, 1);
    assert_true(sj_tls_is_established(t));
}

static unsigned char *pattern(size_t len, unsigned seed)
{
    unsigned char *m = malloc(len + 1);
    assert_non_null(m);
    for (size_t i = 0; i < len; i++)
        m[i] = (unsigned char)(seed + i * 31 + (i >> 8));
    return m;
}

/* Our engine writes len bytes; the peer reads exactly them.  Returns the
 * bytes that went on the wire. */
static size_t send_sj_to_peer(sj_tls *t, peer *p, size_t len, unsigned seed)
{
    unsigned char *msg = pattern(len, seed), *got = malloc(len + 1);
    assert_non_null(got);
    assert_int_equal(sj_tls_write(t, msg, len), 0);
    size_t wire = sj_to_peer(t, p);
    size_t total = 0, n;
    while (total < len) {
        if (SSL_read_ex(p->ssl, got + total, len - total, &n) != 1)
            fail_msg("peer read after %zu of %zu bytes: error %d", total, len,
                     SSL_get_error(p->ssl, 0));
        total += n;
    }
    assert_memory_equal(got, msg, len);
    /* Nothing more is there. */
    assert_int_equal(SSL_read_ex(p->ssl, got, 1, &n), 0);
    assert_int_equal(SSL_get_error(p->ssl, 0), SSL_ERROR_WANT_READ);
    ERR_clear_error();
    free(msg);
    free(got);
    return wire;
}

/* The peer writes len bytes; our engine reads exactly them. */
static void send_peer_to_sj(peer *p, sj_tls *t, size_t len, unsigned seed, bool bytewise)
{
    unsigned char *msg = pattern(len, seed), *got = malloc(len + 1);
    assert_non_null(got);
    size_t n;
    if (len > 0 && (SSL_write_ex(p->ssl, msg, len, &n) != 1 || n != len))
        ossl_fail("peer write");
    unsigned char *wire = peer_output(p, &n);
    assert_int_equal(feed_and_read(t, wire, n, bytewise, got, len + 1), len);
    assert_memory_equal(got, msg, len);
    free(wire);
    free(msg);
    free(got);
}

/* ---------- interoperability ---------------------------------------------- */

static const size_t sizes[] = {0, 1, 16383, 16384, 16385, 300000};

static void open_pair(sj_tls **t, peer *p, bool sj_is_server, const char *suite, int tickets)
{
    sj_error err;
    *t = sj_tls_new(sj_is_server ? sj_server_ctx : sj_client_ctx, NULL, &err);
    assert_non_null(*t);
    peer_open(p, !sj_is_server, sj_is_server ? "village" : "relay", suite, tickets);
    handshake(*t, p);
}

static void close_pair(sj_tls *t, peer *p)
{
    sj_tls_free(t);
    peer_close(p);
}

static void run_sizes(bool sj_is_server, int suite)
{
    sj_tls *t;
    peer p;
    open_pair(&t, &p, sj_is_server, suites[suite], 0);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        send_sj_to_peer(t, &p, sizes[i], (unsigned)i);
        send_peer_to_sj(&p, t, sizes[i], (unsigned)i + 100, false);
        /* Byte by byte: every cut of a record is seen once. */
        send_peer_to_sj(&p, t, sizes[i] > 40000 ? 40000 : sizes[i], (unsigned)i + 200, true);
    }
    /* Several messages coalesced into one feed. */
    size_t n;
    for (int i = 0; i < 5; i++)
        assert_true(SSL_write_ex(p.ssl, "abcdefghij", 10, &n) == 1);
    unsigned char *wire = peer_output(&p, &n), got[64];
    assert_int_equal(feed_and_read(t, wire, n, false, got, sizeof got), 50);
    free(wire);
    close_pair(t, &p);
}

#define SIZES_TEST(side, is_server, suite)                                                     \
    static void test_sizes_##side##_##suite(void **state)                                      \
    {                                                                                          \
        (void)state;                                                                           \
        run_sizes(is_server, suite);                                                           \
    }
SIZES_TEST(server, true, 0)
SIZES_TEST(server, true, 1)
SIZES_TEST(server, true, 2)
SIZES_TEST(client, false, 0)
SIZES_TEST(client, false, 1)
SIZES_TEST(client, false, 2)

/* Each suite the peer offers alone is negotiated, and carries data. */
static void test_each_suite_is_negotiated(void **state)
{
    (void)state;
    for (int s = 0; s < 3; s++) {
        sj_tls *t;
        peer p;
        open_pair(&t, &p, true, suites[s], 0);
        assert_string_equal(SSL_CIPHER_get_name(SSL_get_current_cipher(p.ssl)), suites[s]);
        send_sj_to_peer(t, &p, 100, 1);
        send_peer_to_sj(&p, t, 100, 2, false);
        close_pair(t, &p);
    }
}

/* KeyUpdate from the peer, with and without a request for ours: the data
 * under the peer's new key is read, and a request is answered by exactly
 * one KeyUpdate of ours (a record of 5 + 4 + 1 + 1 + 16 bytes), which
 * OpenSSL sends in front of our next record; the peer reads that record
 * under our new key. */
#define KEY_UPDATE_RECORD 27
#define RECORD_OVERHEAD 22 /* header, inner type, tag */

static void run_peer_key_update(bool sj_is_server, int suite, int type)
{
    sj_tls *t;
    peer p;
    open_pair(&t, &p, sj_is_server, suites[suite], 0);
    send_peer_to_sj(&p, t, 100, 1, false);
    size_t reply = type == SSL_KEY_UPDATE_REQUESTED ? KEY_UPDATE_RECORD : 0;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(SSL_key_update(p.ssl, type), 1);
        send_peer_to_sj(&p, t, 1000, 2, round == 1);
        assert_int_equal(send_sj_to_peer(t, &p, 2000, 3), reply + 2000 + RECORD_OVERHEAD);
        send_peer_to_sj(&p, t, 17000, 4, false);
    }
    close_pair(t, &p);
}

static void test_peer_key_update_requested(void **state)
{
    (void)state;
    for (int s = 0; s < 3; s++) {
        run_peer_key_update(true, s, SSL_KEY_UPDATE_REQUESTED);
        run_peer_key_update(false, s, SSL_KEY_UPDATE_REQUESTED);
    }
}

static void test_peer_key_update_not_requested(void **state)
{
    (void)state;
    for (int s = 0; s < 3; s++) {
        run_peer_key_update(true, s, SSL_KEY_UPDATE_NOT_REQUESTED);
        run_peer_key_update(false, s, SSL_KEY_UPDATE_NOT_REQUESTED);
    }
}

/* Many requests in one feed: each is answered once (the answer to one is
 * written when the next arrives, the last with our next record), so what
 * the engine writes back is never more than what the peer sent.  With
 * data between the requests or none at all: OpenSSL 3.0 sets no limit on
 * their number, so bounding what waits for a peer that never reads is the
 * connection layer's part (test_conn: the KeyUpdate flood). */
static void run_key_update_requests(bool with_data)
{
    enum { ROUNDS = 200 };
    sj_tls *t;
    peer p;
    open_pair(&t, &p, !with_data, suites[with_data ? 0 : 1], 0);
    size_t n;
    for (int i = 0; i < ROUNDS; i++) {
        assert_int_equal(SSL_key_update(p.ssl, SSL_KEY_UPDATE_REQUESTED), 1);
        /* The KeyUpdate goes out with the next write, or alone. */
        if (with_data)
            assert_true(SSL_write_ex(p.ssl, "k", 1, &n) == 1);
        else
            assert_int_equal(SSL_do_handshake(p.ssl), 1);
    }
    unsigned char *wire = peer_output(&p, &n), got[ROUNDS + 1];
    assert_int_equal(feed_and_read(t, wire, n, false, got, sizeof got), with_data ? ROUNDS : 0);
    print_message("%d requests in %zu bytes: %zu bytes of replies waiting\n", ROUNDS, n,
                  sj_tls_pending(t));
    assert_int_equal(sj_tls_pending(t), (ROUNDS - 1) * KEY_UPDATE_RECORD);
    assert_true(sj_tls_pending(t) < n);
    free(wire);
    /* The last answer goes with our next record; the peer follows every
     * one of our key changes. */
    assert_int_equal(send_sj_to_peer(t, &p, 300, 5),
                     ROUNDS * KEY_UPDATE_RECORD + 300 + RECORD_OVERHEAD);
    send_peer_to_sj(&p, t, 300, 6, false);
    close_pair(t, &p);
}

static void test_key_update_requests_with_data(void **state)
{
    (void)state;
    run_key_update_requests(true);
}

static void test_key_update_requests_alone(void **state)
{
    (void)state;
    run_key_update_requests(false);
}

/* close_notify both ways. */
static void test_close_notify_from_us(void **state)
{
    (void)state;
    sj_tls *t;
    peer p;
    open_pair(&t, &p, true, suites[0], 0);
    send_sj_to_peer(t, &p, 10, 1);
    assert_int_equal(sj_tls_shutdown(t), 0);
    assert_int_equal(sj_tls_shutdown(t), 0); /* queued once */
    size_t pending = sj_tls_pending(t);
    assert_int_equal(pending, 5 + 2 + 1 + 16);
    assert_int_equal(sj_tls_write(t, "x", 1), SJ_EINVAL);
    sj_to_peer(t, &p);
    unsigned char buf[16];
    size_t n;
    assert_int_equal(SSL_read_ex(p.ssl, buf, sizeof buf, &n), 0);
    assert_int_equal(SSL_get_error(p.ssl, 0), SSL_ERROR_ZERO_RETURN);
    close_pair(t, &p);
}

static void test_close_notify_from_peer(void **state)
{
    (void)state;
    sj_tls *t;
    peer p;
    open_pair(&t, &p, false, suites[2], 0);
    size_t n;
    assert_true(SSL_write_ex(p.ssl, "last words", 10, &n) == 1);
    assert_int_equal(SSL_shutdown(p.ssl), 0);
    unsigned char *wire = peer_output(&p, &n), got[32];
    assert_int_equal(sj_tls_feed(t, wire, n), 0);
    free(wire);
    int rc;
    assert_int_equal(sj_read_all(t, got, sizeof got, &rc), 10);
    assert_int_equal(rc, SJ_ECLOSED);
    assert_int_equal(sj_tls_read(t, got, sizeof got, &n), SJ_ECLOSED);
    assert_int_equal(sj_tls_last_error(t)->code, SJ_EOK);
    /* We can still answer, then close too. */
    send_sj_to_peer(t, &p, 30, 3);
    close_pair(t, &p);
}

/* An OpenSSL server that sends two session tickets: our client takes them
 * (no session cache keeps them) and the data behind them flows. */
static void test_client_takes_session_tickets(void **state)
{
    (void)state;
    for (int s = 0; s < 3; s++) {
        sj_tls *t;
        peer p;
        open_pair(&t, &p, false, suites[s], 2);
        /* The tickets go with the first write. */
        send_peer_to_sj(&p, t, 100, 1, s == 1);
        assert_int_equal(sj_tls_pending(t), 0); /* nothing to answer */
        send_sj_to_peer(t, &p, 100, 2);
        send_peer_to_sj(&p, t, 300000, 3, false);
        close_pair(t, &p);
    }
}

/* A truncated record waits for its rest. */
static void test_truncated_record_waits(void **state)
{
    (void)state;
    sj_tls *t;
    peer p;
    open_pair(&t, &p, true, suites[1], 0);
    size_t len, n;
    assert_true(SSL_write_ex(p.ssl, "0123456789", 10, &n) == 1);
    unsigned char *wire = peer_output(&p, &len), got[16];
    assert_int_equal(sj_tls_feed(t, wire, len - 1), 0);
    assert_int_equal(sj_tls_read(t, got, sizeof got, &n), SJ_EAGAIN);
    assert_int_equal(sj_tls_read(t, got, sizeof got, &n), SJ_EAGAIN);
    assert_int_equal(sj_tls_feed(t, wire + len - 1, 1), 0);
    assert_int_equal(sj_tls_read(t, got, sizeof got, &n), 0);
    assert_int_equal(n, 10);
    assert_memory_equal(got, "0123456789", 10);
    free(wire);
    close_pair(t, &p);
}

/* A flipped ciphertext bit, an oversized length: refused, and the peer
 * receives the matching alert. */
static void run_damaged(int suite, size_t byte, unsigned char mask, const unsigned char *set_len,
                        int want_alert)
{
    sj_tls *t;
    peer p;
    open_pair(&t, &p, suite != 1, suites[suite], 0);
    size_t n;
    assert_true(SSL_write_ex(p.ssl, "secret data", 11, &n) == 1);
    unsigned char *wire = peer_output(&p, &n), got[32];
    if (set_len != NULL) {
        wire[3] = set_len[0];
        wire[4] = set_len[1];
    } else {
        wire[byte] ^= mask;
    }
    assert_int_equal(sj_tls_feed(t, wire, n), 0);
    free(wire);
    assert_int_equal(sj_tls_read(t, got, sizeof got, &n), SJ_ETLS);
    const sj_error *e = sj_tls_last_error(t);
    assert_int_equal(e->code, SJ_ETLS);
    print_message("engine: %s\n", e->message);
    /* Dead from now on, but the alert is still there to take. */
    assert_int_equal(sj_tls_read(t, got, sizeof got, &n), SJ_ETLS);
    assert_int_equal(sj_tls_write(t, "x", 1), SJ_ETLS);
    sj_to_peer(t, &p);
    assert_int_equal(SSL_read_ex(p.ssl, got, sizeof got, &n), 0);
    assert_int_equal(SSL_get_error(p.ssl, 0), SSL_ERROR_SSL);
    ERR_clear_error();
    assert_int_equal(peer_alert_seen, want_alert);
    close_pair(t, &p);
}

static void test_flipped_bit_is_bad_record_mac(void **state)
{
    (void)state;
    for (int s = 0; s < 3; s++) {
        run_damaged(s, 5, 0x01, NULL, SSL_AD_BAD_RECORD_MAC);      /* ciphertext */
        run_damaged(s, 5 + 11 + 1 + 15, 0x80, NULL, SSL_AD_BAD_RECORD_MAC); /* tag */
    }
}

static void test_oversized_length_is_record_overflow(void **state)
{
    (void)state;
    static const unsigned char len[2] = {0x41, 0x01}; /* 2^14 + 257 */
    run_damaged(0, 0, 0, len, SSL_AD_RECORD_OVERFLOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_server_0),
        cmocka_unit_test(test_sizes_server_1),
        cmocka_unit_test(test_sizes_server_2),
        cmocka_unit_test(test_sizes_client_0),
        cmocka_unit_test(test_sizes_client_1),
        cmocka_unit_test(test_sizes_client_2),
        cmocka_unit_test(test_each_suite_is_negotiated),
        cmocka_unit_test(test_peer_key_update_requested),
        cmocka_unit_test(test_peer_key_update_not_requested),
        cmocka_unit_test(test_key_update_requests_with_data),
        cmocka_unit_test(test_key_update_requests_alone),
        cmocka_unit_test(test_close_notify_from_us),
        cmocka_unit_test(test_close_notify_from_peer),
        cmocka_unit_test(test_client_takes_session_tickets),
        cmocka_unit_test(test_truncated_record_waits),
        cmocka_unit_test(test_flipped_bit_is_bad_record_mac),
        cmocka_unit_test(test_oversized_length_is_record_overflow),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
