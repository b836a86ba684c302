/*
 * fuzz_tls_record.c - libFuzzer target for the TLS 1.3 record layer
 * (common/tls_record.c): everything a peer's bytes reach once a link's
 * handshake is over and OpenSSL is gone.
 *
 * Two record layers with fixed traffic secrets stand for the two ends of a
 * link, in the suite the first input byte picks (its upper bits set how
 * many records the sender writes per key, so that its own KeyUpdates
 * happen).  The rest of the input is a list of steps, each a kind byte, a
 * length byte and that many bytes:
 *
 *   0  the sender seals one record of the inner type given by the first
 *      byte around the rest: behind the tag check, so the fuzzer reaches
 *      alerts, KeyUpdate, tickets, padding and unknown types;
 *   1  raw bytes go to the receiver as if from the network;
 *   2  application data through the sender's normal write path;
 *   3  application data whose records get one byte flipped on the way.
 *
 * After every step the sender's records go to the receiver, which reads
 * until it would block, and what the receiver sends back (its alerts, its
 * KeyUpdate) goes to the sender's reader.
 *
 * Properties: every call returns 0 or a code of the error table; a layer
 * that failed keeps failing; the receiver never delivers more plaintext
 * than the input put in; and when the steps are only kind 2, the receiver
 * reads back exactly the bytes written, in order.
 *
 * Entry point: LLVMFuzzerTestOneInput().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tls_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t SUITES[3] = {0x1301, 0x1302, 0x1303};
static const size_t HASH_LEN[3] = {32, 48, 32};

static int is_table_code(int rc)
{
    return rc <= 0 && strcmp(sj_err_name(rc), "UNKNOWN") != 0;
}

static void check(int rc)
{
    if (!is_table_code(rc))
        abort();
}

/* Plaintext delivered by one reader. */
typedef struct sink {
    uint8_t *p;
    size_t len, cap;
} sink;

/* Moves everything `from` has to send into `to`; with damage set, one
 * byte of it is flipped first. */
static void carry(sj__tls_record *from, sj__tls_record *to, const uint8_t *damage)
{
    size_t n = sj__tls_record_pending(from);
    if (n == 0)
        return;
    uint8_t *buf = malloc(n);
    if (!buf)
        abort();
    if (sj__tls_record_take(from, buf, n) != n)
        abort();
    if (damage)
        buf[damage[0] % n] ^= (uint8_t)(damage[1] | 1);
    check(sj__tls_record_feed(to, buf, n));
    free(buf);
}

/* Reads until the reader would block or fails; a failure must stay. */
static void drain(sj__tls_record *r, sink *out)
{
    uint8_t buf[SJ__TLS_RECORD_MAX_PLAIN];
    for (;;) {
        size_t n = 0;
        sj_error err;
        int rc = sj__tls_record_read(r, buf, sizeof buf, &n, &err);
        check(rc);
        if (rc == 0) {
            if (n == 0 || n > sizeof buf)
                abort();
            if (out) {
                if (n > out->cap - out->len)
                    abort(); /* more plaintext than the input put in */
                memcpy(out->p + out->len, buf, n);
                out->len += n;
            }
            continue;
        }
        if (rc != SJ_EAGAIN && rc != SJ_ECLOSED) {
            size_t again = 0;
            if (sj__tls_record_read(r, buf, sizeof buf, &again, &err) == 0)
                abort(); /* a dead layer delivered data */
        }
        return;
    }
}

static sj__tls_record_crypto crypto;
static bool crypto_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sj_error err;
    if (!crypto_ready) {
        if (sj__tls_record_crypto_init(&crypto, &err) != 0)
            abort();
        crypto_ready = true;
    }
    if (size < 1)
        return 0;
    int suite = data[0] % 3;
    unsigned limit = data[0] >> 2; /* 0: the real limit */
    data++;
    size--;

    uint8_t secret_a[48], secret_b[48];
    for (size_t i = 0; i < sizeof secret_a; i++) {
        secret_a[i] = (uint8_t)(0x11 * i + 1);
        secret_b[i] = (uint8_t)(0x2b * i + 7);
    }
    sj__tls_record a, b; /* a: the client that sends, b: the server that reads */
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    check(sj__tls_record_set_secret(&a, true, secret_a, HASH_LEN[suite]));
    check(sj__tls_record_set_secret(&a, false, secret_b, HASH_LEN[suite]));
    check(sj__tls_record_set_secret(&b, false, secret_a, HASH_LEN[suite]));
    check(sj__tls_record_set_secret(&b, true, secret_b, HASH_LEN[suite]));
    if (sj__tls_record_start(&a, &crypto, SUITES[suite], true, &err) != 0 ||
        sj__tls_record_start(&b, &crypto, SUITES[suite], false, &err) != 0)
        abort();
    if (limit)
        sj__tls_record_set_key_limit(&a, limit);

    sink want = {malloc(size + 1), 0, size + 1}, got = {malloc(size + 1), 0, size + 1};
    if (!want.p || !got.p)
        abort();
    bool only_data = true;
    size_t i = 0;
    while (i + 2 <= size) {
        unsigned kind = data[i] % 4;
        size_t len = data[i + 1];
        i += 2;
        if (len > size - i)
            len = size - i;
        const uint8_t *p = data + i;
        i += len;
        const uint8_t *damage = NULL;
        switch (kind) {
        case 0:
            only_data = false;
            if (len > 0)
                check(sj__tls_record_seal(&a, p[0], p + 1, len - 1, &err));
            break;
        case 1:
            only_data = false;
            check(sj__tls_record_feed(&b, p, len));
            break;
        case 2:
            check(sj__tls_record_write(&a, p, len, &err));
            memcpy(want.p + want.len, p, len);
            want.len += len;
            break;
        default:
            only_data = false;
            check(sj__tls_record_write(&a, p, len, &err));
            if (len >= 2)
                damage = p;
            break;
        }
        carry(&a, &b, damage);
        drain(&b, &got);
        carry(&b, &a, NULL);
        drain(&a, NULL);
    }
    if (only_data && (got.len != want.len || memcmp(got.p, want.p, got.len) != 0))
        abort();
    sj__tls_record_free(&a);
    sj__tls_record_free(&b);
    free(want.p);
    free(got.p);
    return 0;
}
