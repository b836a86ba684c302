/*
 * fuzz_tls_link.c - libFuzzer target for what a peer's bytes reach once a
 * link's handshake is over: an established engine of common/net/tls.h, i.e.
 * OpenSSL's record layer behind Sanji's link BIO, fed as conn.c feeds it.
 *
 * Each input runs one link: one of our engines (the victim) and a plain
 * OpenSSL peer, with the village and relay certificates of tests/lib/certs
 * (made once by the real sanji-pki), handshake done.  The first input byte
 * picks the victim's side (bit 0: server), the suite the peer offers (bits
 * 1-2, mod 3), the session tickets a server peer sends (bit 3) and how the
 * peer's bytes are cut into feeds (bits 4-7: 0 all at once, n: feeds of
 * n*n bytes, from a byte at a time to 225).  The rest is a list of steps, each a kind byte, a length byte
 * and that many bytes:
 *
 *   0  the peer writes the bytes as application data;
 *   1  the peer sends a KeyUpdate (requesting ours when the first byte is
 *      odd), alone or in front of its next write;
 *   2  the bytes go to the victim as they are, as if from the network;
 *   3  one byte of what the peer has written but not yet delivered is
 *      flipped (position and mask from the bytes);
 *   4  the peer sends close_notify;
 *   5  the victim writes the bytes; the peer reads them;
 *   6  the victim shuts down (close_notify).
 *
 * After every step the peer's bytes are fed to the victim, which reads
 * after each feed until it would block, and what the victim writes (its
 * KeyUpdates, alerts, data) goes to the peer, which reads it.
 *
 * Properties: every call returns 0 or a code of the error table, and a
 * failure has a message; an engine that failed keeps failing and delivers
 * nothing more; the victim never delivers more plaintext than the peer
 * wrote; what the victim writes in answer to one step is never more than
 * what it was fed in it plus one deferred KeyUpdate and an alert (a peer
 * cannot make it write more than it sends); and when nothing was damaged
 * or injected, the victim reads back exactly the peer's bytes, in order,
 * and does not fail.
 *
 * Entry point: LLVMFuzzerTestOneInput().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certs.h"
#include "err.h"
#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A KeyUpdate record, and an alert record (TLS 1.3, AEAD tag of 16). */
#define KEY_UPDATE_RECORD 27
#define ALERT_RECORD 24

static const char *const SUITES[3] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                      "TLS_CHACHA20_POLY1305_SHA256"};

static void check(int rc)
{
    if (rc > 0 || strcmp(sj_err_name(rc), "UNKNOWN") == 0)
        abort();
}

/* ---------- made once per process ---------------------------------------- */

static sj_test_certs certs;
static sj_tls_ctx *our_server, *our_client;
static SSL_CTX *peer_ctx[2][3][2]; /* [peer is server][suite][tickets] */

static void cleanup(void)
{
    sj_tls_ctx_free(our_server);
    sj_tls_ctx_free(our_client);
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 3; k++)
            for (int t = 0; t < 2; t++)
                SSL_CTX_free(peer_ctx[s][k][t]);
    sj_test_certs_cleanup(&certs);
}

static SSL_CTX *make_peer_ctx(bool is_server, int suite, int tickets)
{
    char crt[PATH_MAX], key[PATH_MAX];
    const char *name = is_server ? "relay" : "village";
    SSL_CTX *ctx = SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        SSL_CTX_set_ciphersuites(ctx, SUITES[suite]) != 1 ||
        SSL_CTX_use_certificate_file(ctx, sj_test_certs_path(&certs, name, "crt", crt, sizeof crt),
                                     SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, sj_test_certs_path(&certs, name, "key", key, sizeof key),
                                    SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_file(ctx, certs.ca_file) != 1)
        abort();
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    if (is_server)
        SSL_CTX_set_num_tickets(ctx, (size_t)tickets * 2);
    return ctx;
}

static void setup_once(void)
{
    static bool ready;
    if (ready)
        return;
    ready = true;
    /* certs.c finds sanji-pki through SANJI_BUILD_DIR; ctest sets it, a
     * run by hand gets the build folder this target was made in. */
    setenv("SANJI_BUILD_DIR", FUZZ_BUILD_DIR, 0);
    static const sj_node_role villages[] = {SJ_NODE_ROLE_VILLAGE};
    static const sj_node_role relays[] = {SJ_NODE_ROLE_RELAY};
    sj_error err;
    if (sj_test_certs_setup(&certs) != 0)
        abort();
    atexit(cleanup);
    our_server = sj_test_certs_tls_ctx(&certs, "relay", true, true, villages, 1, NULL, &err);
    our_client = sj_test_certs_tls_ctx(&certs, "village", false, true, relays, 1, NULL, &err);
    if (our_server == NULL || our_client == NULL)
        abort();
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 3; k++)
            for (int t = 0; t < 2; t++)
                peer_ctx[s][k][t] = make_peer_ctx(s == 1, k, t);
}

/* ---------- one link ------------------------------------------------------ */

typedef struct link {
    sj_tls *victim;
    SSL *peer;
    BIO *peer_in, *peer_out; /* owned by peer */
    unsigned cut;            /* feed size; 0: everything at once */
    int failed;              /* the victim's failure code, 0 while none */
    bool peer_dead;
    bool tampered;           /* bytes injected or damaged: no equality */
    bool shut;               /* the victim sent close_notify: OpenSSL drops
                              * what arrives after it */
    uint8_t *sent;           /* what the peer wrote */
    size_t sent_len, sent_cap;
    uint8_t *got;            /* what the victim delivered */
    size_t got_len;
} link;

static void append(uint8_t **p, size_t *len, size_t *cap, const void *bytes, size_t n)
{
    if (n > *cap - *len) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n)
            c *= 2;
        uint8_t *q = realloc(*p, c);
        if (q == NULL)
            abort();
        *p = q;
        *cap = c;
    }
    memcpy(*p + *len, bytes, n);
    *len += n;
}

/* Reads what the victim has; a failure must stay, with nothing delivered. */
static void victim_read(link *l)
{
    uint8_t buf[4096];
    for (;;) {
        size_t n = 0;
        int rc = sj_tls_read(l->victim, buf, sizeof buf, &n);
        check(rc);
        if (l->failed != 0 && rc != l->failed)
            abort(); /* a dead engine came back */
        if (rc == 0) {
            if (n == 0 || n > sizeof buf || l->got_len + n > l->sent_len)
                abort(); /* more plaintext than the peer wrote */
            if (memcmp(buf, l->sent + l->got_len, n) != 0 && !l->tampered)
                abort();
            memcpy(l->got + l->got_len, buf, n);
            l->got_len += n;
            continue;
        }
        if (rc != SJ_EAGAIN && rc != SJ_ECLOSED) {
            if (sj_tls_last_error(l->victim)->message[0] == '\0')
                abort();
            l->failed = rc;
        }
        return;
    }
}

/* The peer's bytes into the victim, cut as the input says, reading after
 * each feed.  Returns how many were fed. */
static size_t peer_to_victim(link *l)
{
    char *p;
    long n = BIO_get_mem_data(l->peer_out, &p);
    if (n <= 0)
        return 0;
    size_t step = l->cut ? l->cut : (size_t)n;
    for (size_t off = 0; off < (size_t)n; off += step) {
        size_t k = (size_t)n - off < step ? (size_t)n - off : step;
        check(sj_tls_feed(l->victim, p + off, k));
        victim_read(l);
    }
    (void)BIO_reset(l->peer_out);
    return (size_t)n;
}

/* What the victim wrote, into the peer, which reads it (and so follows our
 * KeyUpdates); returns how many bytes. */
static size_t victim_to_peer(link *l)
{
    size_t have = sj_tls_pending(l->victim), n = 0;
    if (have == 0)
        return 0;
    uint8_t *buf = malloc(have);
    if (buf == NULL)
        abort();
    check(sj_tls_take(l->victim, buf, have, &n));
    if (n != have || sj_tls_pending(l->victim) != 0)
        abort();
    if (BIO_write(l->peer_in, buf, (int)n) != (int)n)
        abort();
    free(buf);
    uint8_t sink[4096];
    size_t r;
    while (!l->peer_dead && SSL_read_ex(l->peer, sink, sizeof sink, &r) == 1)
        ;
    int e = SSL_get_error(l->peer, 0);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_ZERO_RETURN)
        l->peer_dead = true;
    ERR_clear_error();
    return n;
}

static bool handshake(link *l)
{
    for (int round = 0; round < 10; round++) {
        sj_error err;
        int src = sj_tls_handshake(l->victim, &err);
        victim_to_peer(l);
        int prc = SSL_do_handshake(l->peer);
        ERR_clear_error();
        char *p;
        long n = BIO_get_mem_data(l->peer_out, &p);
        if (n > 0) {
            check(sj_tls_feed(l->victim, p, (size_t)n));
            (void)BIO_reset(l->peer_out);
        }
        if (src == 0 && prc == 1)
            return true;
        if (src != 0 && src != SJ_EAGAIN)
            return false;
    }
    return false;
}

static bool link_open(link *l, uint8_t how)
{
    memset(l, 0, sizeof *l);
    bool victim_is_server = how & 1;
    int suite = (how >> 1) % 3, tickets = (how >> 3) & 1;
    l->cut = (unsigned)(how >> 4) * (unsigned)(how >> 4);
    sj_error err;
    l->victim = sj_tls_new(victim_is_server ? our_server : our_client, NULL, &err);
    l->peer = SSL_new(peer_ctx[victim_is_server ? 0 : 1][suite][tickets]);
    l->peer_in = BIO_new(BIO_s_mem());
    l->peer_out = BIO_new(BIO_s_mem());
    if (l->victim == NULL || l->peer == NULL || l->peer_in == NULL || l->peer_out == NULL)
        abort();
    BIO_set_mem_eof_return(l->peer_in, -1);
    SSL_set_bio(l->peer, l->peer_in, l->peer_out);
    if (victim_is_server)
        SSL_set_connect_state(l->peer);
    else
        SSL_set_accept_state(l->peer);
    return handshake(l);
}

static void link_close(link *l)
{
    sj_tls_free(l->victim);
    SSL_free(l->peer);
    free(l->sent);
    free(l->got);
}

/* ---------- steps --------------------------------------------------------- */

static void peer_write(link *l, const uint8_t *p, size_t len)
{
    size_t n;
    if (len == 0 || l->peer_dead)
        return;
    if (SSL_write_ex(l->peer, p, len, &n) == 1 && n == len)
        append(&l->sent, &l->sent_len, &l->sent_cap, p, len);
    else
        l->peer_dead = true;
    ERR_clear_error();
    /* The victim may deliver everything the peer wrote. */
    uint8_t *g = realloc(l->got, l->sent_len + 1);
    if (g == NULL)
        abort();
    l->got = g;
}

static void flip(link *l, const uint8_t *p, size_t len)
{
    char *out;
    long n = BIO_get_mem_data(l->peer_out, &out);
    if (n <= 0 || len < 2)
        return;
    out[p[0] % (size_t)n] ^= (char)(p[1] | 1);
    l->tampered = true;
}

static void victim_write(link *l, const uint8_t *p, size_t len)
{
    int rc = sj_tls_write(l->victim, p, len);
    check(rc);
    if (rc != 0 && rc != SJ_EINVAL && l->failed == 0)
        l->failed = rc;
    if (l->failed != 0 && rc != l->failed && rc != SJ_EINVAL)
        abort();
}

static void run_step(link *l, unsigned kind, const uint8_t *p, size_t len)
{
    switch (kind) {
    case 0:
        peer_write(l, p, len);
        break;
    case 1:
        if (!l->peer_dead &&
            SSL_key_update(l->peer, len > 0 && (p[0] & 1) ? SSL_KEY_UPDATE_REQUESTED
                                                           : SSL_KEY_UPDATE_NOT_REQUESTED) == 1)
            (void)SSL_do_handshake(l->peer); /* sends it now */
        ERR_clear_error();
        break;
    case 2:
        check(sj_tls_feed(l->victim, p, len));
        l->tampered = true;
        victim_read(l);
        break;
    case 3:
        flip(l, p, len);
        break;
    case 4:
        if (!l->peer_dead)
            (void)SSL_shutdown(l->peer);
        ERR_clear_error();
        break;
    case 5:
        victim_write(l, p, len);
        break;
    default:
        check(sj_tls_shutdown(l->victim));
        l->shut = true;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    if (size < 1)
        return 0;
    link l;
    if (!link_open(&l, data[0]))
        abort(); /* the handshake of two good ends never fails */
    l.got = malloc(1);
    if (l.got == NULL)
        abort();
    size_t i = 1;
    while (i + 2 <= size) {
        unsigned kind = data[i] % 7;
        size_t len = data[i + 1];
        i += 2;
        if (len > size - i)
            len = size - i;
        const uint8_t *p = data + i;
        i += len;
        run_step(&l, kind, p, len);
        size_t before = sj_tls_pending(l.victim);
        size_t fed = peer_to_victim(&l);
        size_t answered = sj_tls_pending(l.victim) - before;
        /* Answers to the peer's records: one per request, written when the
         * next arrives, and a fatal alert. */
        if (answered > fed + KEY_UPDATE_RECORD + ALERT_RECORD)
            abort();
        victim_to_peer(&l);
    }
    peer_to_victim(&l);
    if (!l.tampered && (l.failed != 0 || (!l.shut && l.got_len != l.sent_len)))
        abort();
    link_close(&l);
    return 0;
}
