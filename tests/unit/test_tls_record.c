/*
 * test_tls_record.c - the TLS 1.3 record layer that carries a link after
 * the handshake (common/tls_record.c, through the tls engine of tls.h).
 *
 * Interoperability: our engine against a plain OpenSSL SSL peer (memory
 * BIOs, TLS 1.3, the same certificates from sanji-pki), both directions,
 * each of the three cipher suites: messages of many sizes each way, input
 * fed a byte at a time and in one chunk, KeyUpdate from the peer (requested
 * or not) and from us (a small key limit), close_notify both ways, session
 * tickets from an OpenSSL server, a flipped bit, an oversized or truncated
 * record.  Then every refusal of the record reader, one table, with records
 * forged by one of our engines (sj__tls_record_seal) or bytes changed on
 * the way, each checked on both sides: the reader's code and the alert the
 * sender receives.
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
#include "tls_record.h"

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
    assert_non_null(sj__tls_record_of(t));
}

static unsigned char *pattern(size_t len, unsigned seed)
{
    unsigned char *m = malloc(len + 1);
    assert_non_null(m);
    for (size_t i = 0; i < len; i++)
        m[i] = (unsigned char)(seed + i * 31 + (i >> 8));
    return m;
}

/* Our engine writes len bytes; the peer reads exactly them. */
static void send_sj_to_peer(sj_tls *t, peer *p, size_t len, unsigned seed)
{
    unsigned char *msg = pattern(len, seed), *got = malloc(len + 1);
    assert_non_null(got);
    assert_int_equal(sj_tls_write(t, msg, len), 0);
    sj_to_peer(t, p);
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

/* The engine's negotiated suite is the one the peer offered. */
static void test_each_suite_is_negotiated(void **state)
{
    (void)state;
    static const uint8_t key_len[3] = {16, 32, 32};
    for (int s = 0; s < 3; s++) {
        sj_tls *t;
        peer p;
        open_pair(&t, &p, true, suites[s], 0);
        assert_int_equal(sj__tls_record_of(t)->key_len, key_len[s]);
        assert_string_equal(SSL_CIPHER_get_name(SSL_get_current_cipher(p.ssl)), suites[s]);
        close_pair(t, &p);
    }
}

/* KeyUpdate from the peer, with and without a request for ours. */
static void run_peer_key_update(bool sj_is_server, int suite, int type)
{
    sj_tls *t;
    peer p;
    open_pair(&t, &p, sj_is_server, suites[suite], 0);
    send_peer_to_sj(&p, t, 100, 1, false);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(SSL_key_update(p.ssl, type), 1);
        send_peer_to_sj(&p, t, 1000, 2, round == 1);
        assert_int_equal(sj__tls_record_of(t)->rd.seq, 1); /* new key: data only */
        if (type == SSL_KEY_UPDATE_REQUESTED)
            assert_true(sj_tls_pending(t) > 0); /* our KeyUpdate waits */
        else
            assert_int_equal(sj_tls_pending(t), 0);
        send_sj_to_peer(t, &p, 2000, 3);
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

/* With a key limit of 3 records, our writer updates its key every 3
 * records (the KeyUpdate takes the last one); the peer reads on. */
static void test_own_key_update_at_the_limit(void **state)
{
    (void)state;
    for (int s = 0; s < 3; s++) {
        sj_tls *t;
        peer p;
        open_pair(&t, &p, s != 1, suites[s], 0);
        sj__tls_record *r = sj__tls_record_of(t);
        uint8_t first_key[32];
        memcpy(first_key, r->wr.key, sizeof first_key);
        sj__tls_record_set_key_limit(r, 3);
        for (int i = 0; i < 10; i++) {
            send_sj_to_peer(t, &p, 10 + (size_t)i, (unsigned)i);
            assert_in_range(r->wr.seq, 0, 2);
        }
        send_sj_to_peer(t, &p, 100000, 11); /* 7 records in one write */
        assert_in_range(r->wr.seq, 0, 2);
        assert_memory_not_equal(first_key, r->wr.key, r->key_len);
        send_peer_to_sj(&p, t, 5000, 12, false);
        close_pair(t, &p);
    }
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
    /* The peer may still send after our close (half close). */
    send_peer_to_sj(&p, t, 20, 2, false);
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

/* An OpenSSL server that sends two session tickets: our client drops them. */
static void test_client_ignores_session_tickets(void **state)
{
    (void)state;
    for (int s = 0; s < 3; s++) {
        sj_tls *t;
        peer p;
        open_pair(&t, &p, false, suites[s], 2);
        /* The tickets go with the first write (or an explicit handshake
         * step after the client's Finished). */
        send_peer_to_sj(&p, t, 100, 1, s == 1);
        assert_null(sj__tls_record_of(t)->hs);
        assert_true(sj__tls_record_of(t)->rd.seq >= 3); /* 2 tickets + data */
        send_sj_to_peer(t, &p, 100, 2);
        send_peer_to_sj(&p, t, 300000, 3, false);
        close_pair(t, &p);
    }
}

/* A zero-length data record is legal: nothing is delivered, the link
 * goes on, and OpenSSL accepts ours. */
static void test_empty_data_records(void **state)
{
    (void)state;
    sj_tls *t;
    peer p;
    open_pair(&t, &p, true, suites[0], 0);
    sj_error err;
    assert_int_equal(sj__tls_record_write(sj__tls_record_of(t), NULL, 0, &err), 0);
    send_sj_to_peer(t, &p, 5, 1);
    close_pair(t, &p);
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

/* ---------- refusals of the record reader ---------------------------------- */

/* A pair of our own engines; the records the sender forges with
 * sj__tls_record_seal() are refused by the receiver. */
static void sj_pair(sj_tls **c, sj_tls **s)
{
    sj_test_tls_outcome o;
    if (sj_test_tls_pair(sj_client_ctx, sj_server_ctx, c, s, &o) != 0)
        fail_msg("handshake: client %s %s, server %s %s", sj_err_name(o.client_rc),
                 o.client_err.message, sj_err_name(o.server_rc), o.server_err.message);
}

static void move(sj_tls *from, sj_tls *to, size_t damage_at, unsigned char value)
{
    size_t have = sj_tls_pending(from), n;
    unsigned char *buf = malloc(have + 1);
    assert_non_null(buf);
    assert_int_equal(sj_tls_take(from, buf, have, &n), 0);
    assert_int_equal(n, have);
    if (damage_at != SIZE_MAX)
        buf[damage_at] = value;
    assert_int_equal(sj_tls_feed(to, buf, n), 0);
    free(buf);
}

typedef enum forge {
    F_INNER_CCS,          /* inner type 20 */
    F_INNER_UNKNOWN,      /* inner type 99 */
    F_ONLY_PADDING,       /* inner plaintext all zeros */
    F_ALERT_TOO_LONG,     /* alert of 3 bytes */
    F_HS_CLIENT_HELLO,    /* handshake type 1 */
    F_HS_TICKET_TO_SERVER,
    F_KU_BAD_LENGTH,
    F_KU_BAD_VALUE,
    F_KU_NOT_AT_END,      /* data in the same record after a KeyUpdate */
    F_HS_TOO_LONG,        /* announces 70 000 bytes */
    F_HS_INTERLEAVED,     /* half a message, then data */
    F_EMPTY_HANDSHAKE,    /* handshake record with no content */
    F_INNER_OVERFLOW,     /* 2^14 + 1 bytes of plaintext */
    F_OUTER_TYPE,         /* outer type 22 */
    F_OUTER_VERSION,      /* outer version 3.1 */
    F_SHORTER_THAN_TAG,   /* length 5 */
    F_SEQ_WRAP,           /* the reader at the last sequence number */
} forge;

static const struct refusal {
    const char *what;
    forge how;
    bool client_receives; /* else the server */
    const char *word;     /* in the receiver's message */
    const char *alert;    /* in the sender's message: the alert it got */
} refusals[] = {
    {"ChangeCipherSpec inside", F_INNER_CCS, false, "inner type 20", "unexpected_message"},
    {"unknown inner type", F_INNER_UNKNOWN, true, "inner type 99", "unexpected_message"},
    {"only padding", F_ONLY_PADDING, false, "only padding", "unexpected_message"},
    {"alert of 3 bytes", F_ALERT_TOO_LONG, true, "alert of 3 bytes", "decode error"},
    {"ClientHello after the handshake", F_HS_CLIENT_HELLO, false, "message type 1",
     "unexpected_message"},
    {"ticket to a server", F_HS_TICKET_TO_SERVER, false, "message type 4",
     "unexpected_message"},
    {"KeyUpdate of 2 bytes", F_KU_BAD_LENGTH, true, "KeyUpdate of 2 bytes", "decode error"},
    {"KeyUpdate request 2", F_KU_BAD_VALUE, false, "request_update 2", "illegal parameter"},
    {"KeyUpdate not at the end", F_KU_NOT_AT_END, true, "does not end its record",
     "unexpected_message"},
    {"handshake message too long", F_HS_TOO_LONG, true, "70000 bytes", "unexpected_message"},
    {"interleaved", F_HS_INTERLEAVED, true, "interleaved", "unexpected_message"},
    {"empty handshake record", F_EMPTY_HANDSHAKE, false, "empty handshake", "unexpected_message"},
    {"inner overflow", F_INNER_OVERFLOW, true, "16385 bytes of plaintext", "record overflow"},
    {"outer type 22", F_OUTER_TYPE, false, "outer type 22", "unexpected_message"},
    {"outer version 3.1", F_OUTER_VERSION, true, "version 3.1", "decode error"},
    {"shorter than its tag", F_SHORTER_THAN_TAG, false, "shorter than its tag",
     "bad record mac"},
    {"sequence number wrap", F_SEQ_WRAP, true, "wrap", "unexpected_message"},
};

static void run_refusal(const struct refusal *rf)
{
    sj_tls *c, *s;
    sj_pair(&c, &s);
    sj_tls *from = rf->client_receives ? s : c, *to = rf->client_receives ? c : s;
    sj__tls_record *w = sj__tls_record_of(from);
    sj_error err;
    size_t damage_at = SIZE_MAX;
    unsigned char value = 0;
    static unsigned char big[16385];
    int rc = 0;
    switch (rf->how) {
    case F_INNER_CCS:
        rc = sj__tls_record_seal(w, 20, "\x01", 1, &err);
        break;
    case F_INNER_UNKNOWN:
        rc = sj__tls_record_seal(w, 99, "abc", 3, &err);
        break;
    case F_ONLY_PADDING:
        rc = sj__tls_record_seal(w, 0, "\0\0", 2, &err);
        break;
    case F_ALERT_TOO_LONG:
        rc = sj__tls_record_seal(w, 21, "\x02\x28\x00", 3, &err);
        break;
    case F_HS_CLIENT_HELLO:
        rc = sj__tls_record_seal(w, 22, "\x01\x00\x00\x02xx", 6, &err);
        break;
    case F_HS_TICKET_TO_SERVER:
        rc = sj__tls_record_seal(w, 22, "\x04\x00\x00\x02xx", 6, &err);
        break;
    case F_KU_BAD_LENGTH:
        rc = sj__tls_record_seal(w, 22, "\x18\x00\x00\x02\x00\x00", 6, &err);
        break;
    case F_KU_BAD_VALUE:
        rc = sj__tls_record_seal(w, 22, "\x18\x00\x00\x01\x02", 5, &err);
        break;
    case F_KU_NOT_AT_END:
        rc = sj__tls_record_seal(w, 22, "\x18\x00\x00\x01\x00\x04\x00\x00\x00", 9, &err);
        break;
    case F_HS_TOO_LONG:
        rc = sj__tls_record_seal(w, 22, "\x04\x01\x11\x70", 4, &err);
        break;
    case F_HS_INTERLEAVED:
        rc = sj__tls_record_seal(w, 22, "\x04\x00\x00\x10xx", 6, &err);
        if (rc == 0)
            rc = sj__tls_record_seal(w, 23, "data", 4, &err);
        break;
    case F_EMPTY_HANDSHAKE:
        rc = sj__tls_record_seal(w, 22, NULL, 0, &err);
        break;
    case F_INNER_OVERFLOW:
        memset(big, 'a', sizeof big);
        rc = sj__tls_record_seal(w, 23, big, sizeof big, &err);
        break;
    case F_OUTER_TYPE:
        rc = sj_tls_write(from, "x", 1);
        damage_at = 0;
        value = 22;
        break;
    case F_OUTER_VERSION:
        rc = sj_tls_write(from, "x", 1);
        damage_at = 2;
        value = 1;
        break;
    case F_SHORTER_THAN_TAG:
        rc = sj_tls_write(from, "x", 1);
        damage_at = 4;
        value = 5;
        break;
    case F_SEQ_WRAP:
        sj__tls_record_of(to)->rd.seq = UINT64_MAX;
        rc = sj_tls_write(from, "x", 1);
        break;
    }
    assert_int_equal(rc, 0);
    move(from, to, damage_at, value);
    unsigned char buf[64];
    size_t n;
    int got = sj_tls_read(to, buf, sizeof buf, &n);
    const sj_error *e = sj_tls_last_error(to);
    print_message("%-32s receiver %s: %s\n", rf->what, sj_err_name(got), e->message);
    assert_int_equal(got, SJ_ETLS);
    if (strstr(e->message, rf->word) == NULL)
        fail_msg("%s: receiver message \"%s\" lacks \"%s\"", rf->what, e->message, rf->word);
    /* The sender receives the alert and reports it as the engine always
     * reported a fatal alert. */
    move(to, from, SIZE_MAX, 0);
    got = sj_tls_read(from, buf, sizeof buf, &n);
    e = sj_tls_last_error(from);
    print_message("%-32s sender   %s: %s\n", "", sj_err_name(got), e->message);
    assert_int_equal(got, SJ_ETLS_HANDSHAKE);
    if (strstr(e->message, rf->alert) == NULL)
        fail_msg("%s: sender message \"%s\" lacks \"%s\"", rf->what, e->message, rf->alert);
    sj_tls_free(c);
    sj_tls_free(s);
}

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        run_refusal(&refusals[i]);
}

/* A session ticket that spans two records is put together and dropped;
 * data behind it flows. */
static void test_ticket_across_records_is_dropped(void **state)
{
    (void)state;
    sj_tls *c, *s;
    sj_pair(&c, &s);
    sj__tls_record *w = sj__tls_record_of(s);
    sj_error err;
    assert_int_equal(sj__tls_record_seal(w, 22, "\x04\x00\x00\x06tic", 7, &err), 0);
    assert_int_equal(sj__tls_record_seal(w, 22, "ket", 3, &err), 0);
    assert_int_equal(sj_tls_write(s, "after", 5), 0);
    move(s, c, SIZE_MAX, 0);
    unsigned char buf[16];
    size_t n;
    assert_int_equal(sj_tls_read(c, buf, sizeof buf, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "after", 5);
    assert_null(sj__tls_record_of(c)->hs);
    sj_tls_free(c);
    sj_tls_free(s);
}

/* A fatal alert from the peer after the handshake: the code and message
 * the engine always gave for that alert (here: certificate revoked). */
static void test_fatal_alert_from_peer(void **state)
{
    (void)state;
    sj_tls *c, *s;
    sj_pair(&c, &s);
    sj_error err;
    assert_int_equal(sj__tls_record_seal(sj__tls_record_of(s), 21, "\x02\x2c", 2, &err), 0);
    move(s, c, SIZE_MAX, 0);
    unsigned char buf[16];
    size_t n;
    assert_int_equal(sj_tls_read(c, buf, sizeof buf, &n), SJ_ETLS_REVOKED);
    assert_non_null(strstr(sj_tls_last_error(c)->message, "revoked"));
    assert_int_equal(sj_tls_pending(c), 0); /* no alert back to an alert */
    sj_tls_free(c);
    sj_tls_free(s);
}

/* A peer's KeyUpdate request after our close_notify is not answered: we
 * send nothing after close_notify. */
static void test_no_key_update_after_close(void **state)
{
    (void)state;
    sj_tls *c, *s;
    sj_pair(&c, &s);
    assert_int_equal(sj_tls_shutdown(c), 0);
    move(c, s, SIZE_MAX, 0);
    sj_error err;
    assert_int_equal(sj__tls_record_seal(sj__tls_record_of(s), 22, "\x18\x00\x00\x01\x01", 5,
                                         &err),
                     0);
    move(s, c, SIZE_MAX, 0);
    unsigned char buf[16];
    size_t n;
    assert_int_equal(sj_tls_read(c, buf, sizeof buf, &n), SJ_EAGAIN);
    assert_int_equal(sj_tls_pending(c), 0);
    assert_int_equal(sj__tls_record_of(c)->rd.seq, 0); /* read key updated */
    sj_tls_free(c);
    sj_tls_free(s);
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
        cmocka_unit_test(test_own_key_update_at_the_limit),
        cmocka_unit_test(test_close_notify_from_us),
        cmocka_unit_test(test_close_notify_from_peer),
        cmocka_unit_test(test_client_ignores_session_tickets),
        cmocka_unit_test(test_empty_data_records),
        cmocka_unit_test(test_truncated_record_waits),
        cmocka_unit_test(test_flipped_bit_is_bad_record_mac),
        cmocka_unit_test(test_oversized_length_is_record_overflow),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_ticket_across_records_is_dropped),
        cmocka_unit_test(test_fatal_alert_from_peer),
        cmocka_unit_test(test_no_key_update_after_close),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
