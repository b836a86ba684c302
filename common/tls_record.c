/*
 * tls_record.c - the TLS 1.3 record layer that carries an established link
 * after the tls engine has freed OpenSSL's SSL object (tls_record.h, which
 * is internal to common/tls.c).
 *
 * RFC 8446: records (5.1, 5.2), per-record nonce (5.3), key limits (5.5),
 * KeyUpdate (4.6.3), alerts (6), key derivation (7.1, 7.2, 7.3).  Only what
 * a Sanji link needs after the handshake: application data, alerts,
 * KeyUpdate both ways, and NewSessionTicket discarded on the client.
 *
 * Why the buffers are freed when they empty: a relay holds tens of
 * thousands of idle links; an idle one must hold no buffer.  They are
 * allocated with OPENSSL_malloc() so that the tests counting OpenSSL's
 * allocations see them too, and cleared when freed (they held plaintext).
 *
 * Entry points: see tls_record.h.
 */
#include "tls_record.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>

#define HDR 5
#define TAG 16
#define IV_LEN 12

enum { HS_NEW_SESSION_TICKET = 4, HS_KEY_UPDATE = 24 };

static const struct suite {
    uint16_t id;
    const char *cipher;
    const char *digest;
    uint8_t key_len, hash_len;
} suites[3] = {
    {0x1301, "AES-128-GCM", "SHA256", 16, 32},
    {0x1302, "AES-256-GCM", "SHA384", 32, 48},
    {0x1303, "ChaCha20-Poly1305", "SHA256", 32, 32},
};

/* ---------- helpers ----------------------------------------------------- */

static void openssl_detail(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        snprintf(buf, cap, "no OpenSSL detail");
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
}

static int buf_reserve(sj__tls_buf *b, size_t extra)
{
    if (b->off > 0 && b->off >= b->len - b->off) {
        /* Move the rest to the front when it is no larger than the hole. */
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return SJ_ENOMEM;
    size_t need = b->len + extra, cap = b->cap ? b->cap : 512;
    while (cap < need)
        cap *= 2;
    uint8_t *p = OPENSSL_clear_realloc(b->p, b->cap, cap);
    if (p == NULL)
        return SJ_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void buf_release(sj__tls_buf *b)
{
    OPENSSL_clear_free(b->p, b->cap);
    memset(b, 0, sizeof *b);
}

/* Drops n bytes from the front; an emptied queue gives its memory back. */
static void buf_consume(sj__tls_buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len)
        buf_release(b);
}

static int buf_append(sj__tls_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = buf_reserve(b, n);
    if (rc != 0)
        return rc;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static int fail(sj__tls_record *r, sj_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A failure of our own (crypto, memory): the link is dead, no alert. */
static int fail(sj__tls_record *r, sj_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sj_error_setv(err, SJ_ETLS, fmt, ap);
    va_end(ap);
    r->dead = true;
    return rc;
}

/* ---------- key schedule (RFC 8446 7.1, 7.3) ----------------------------- */

/* HKDF-Expand-Label(secret, label, "", out_len). */
static int expand_label(sj__tls_record *r, const uint8_t *secret, size_t secret_len,
                        const char *label, uint8_t *out, size_t out_len, sj_error *err)
{
    uint8_t info[2 + 1 + 255 + 1];
    size_t ll = 6 + strlen(label), n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)ll;
    memcpy(info + n, "tls13 ", 6);
    memcpy(info + n + 6, label, ll - 6);
    n += ll;
    info[n++] = 0; /* empty context */

    const struct suite *s = &suites[r->suite];
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)s->digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
        OSSL_PARAM_construct_end(),
    };
    EVP_KDF_CTX *k = EVP_KDF_CTX_new(r->crypto->hkdf);
    int ok = k != NULL && EVP_KDF_derive(k, out, out_len, params) == 1;
    EVP_KDF_CTX_free(k);
    OPENSSL_cleanse(info, sizeof info);
    if (!ok) {
        char d[200];
        openssl_detail(d, sizeof d);
        return fail(r, err, "TLS 密钥派生失败 (HKDF-Expand-Label \"%s\": %s)", label, d);
    }
    return 0;
}

static int derive_key_iv(sj__tls_record *r, sj__tls_record_dir *d, sj_error *err)
{
    int rc = expand_label(r, d->secret, d->secret_len, "key", d->key, r->key_len, err);
    if (rc == 0)
        rc = expand_label(r, d->secret, d->secret_len, "iv", d->iv, IV_LEN, err);
    return rc;
}

/* application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length) */
static int update_dir(sj__tls_record *r, sj__tls_record_dir *d, sj_error *err)
{
    uint8_t next[48];
    int rc = expand_label(r, d->secret, d->secret_len, "traffic upd", next, d->secret_len, err);
    if (rc == 0) {
        memcpy(d->secret, next, d->secret_len);
        d->seq = 0;
        rc = derive_key_iv(r, d, err);
    }
    OPENSSL_cleanse(next, sizeof next);
    return rc;
}

/* ---------- AEAD (RFC 8446 5.2, 5.3) ------------------------------------- */

static void make_nonce(const sj__tls_record_dir *d, uint8_t nonce[IV_LEN])
{
    memcpy(nonce, d->iv, IV_LEN);
    for (int i = 0; i < 8; i++)
        nonce[IV_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

/* Encrypts (enc) or decrypts in place n bytes at p with the 5-byte header
 * hdr as additional data; the tag follows the bytes.  1 on success. */
static int aead(sj__tls_record *r, sj__tls_record_dir *d, bool enc, const uint8_t *hdr,
                uint8_t *p, size_t n)
{
    EVP_CIPHER_CTX *c = r->crypto->cctx;
    uint8_t nonce[IV_LEN];
    int outl = 0, ok;
    make_nonce(d, nonce);
    /* Naming the cipher again would make OpenSSL free and rebuild the
     * cipher's context on every record; a new key and nonce suffice. */
    const EVP_CIPHER *cipher = r->crypto->aead[r->suite];
    if (r->crypto->loaded == cipher)
        cipher = NULL;
    else
        r->crypto->loaded = cipher;
    ok = EVP_CipherInit_ex2(c, cipher, d->key, nonce, enc ? 1 : 0, NULL) == 1 &&
         EVP_CipherUpdate(c, NULL, &outl, hdr, HDR) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG, p + n) == 1;
    if (ok && n > 0)
        ok = EVP_CipherUpdate(c, p, &outl, p, (int)n) == 1 && (size_t)outl == n;
    if (ok)
        ok = EVP_CipherFinal_ex(c, p + n, &outl) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG, p + n) == 1;
    if (!ok)
        r->crypto->loaded = NULL; /* set the context up afresh next time */
    OPENSSL_cleanse(nonce, sizeof nonce);
    return ok;
}

/* ---------- writing ----------------------------------------------------- */

int sj__tls_record_seal(sj__tls_record *r, uint8_t type, const void *data, size_t len,
                        sj_error *err)
{
    /* Our writers stay within 2^14; the tests may go up to the outer limit. */
    if (len + 1 + TAG > SJ__TLS_RECORD_MAX_CIPHER)
        return sj_error_set(err, SJ_EINVAL, "record too long");
    size_t inner = len + 1, total = HDR + inner + TAG;
    if (buf_reserve(&r->out, total) != 0)
        return sj_error_set(err, SJ_ENOMEM, "内存不足 (out of memory for a TLS record)");
    uint8_t *p = r->out.p + r->out.len;
    p[0] = SJ__TLS_CT_APPLICATION_DATA;
    p[1] = 3;
    p[2] = 3;
    p[3] = (uint8_t)((inner + TAG) >> 8);
    p[4] = (uint8_t)(inner + TAG);
    if (len > 0)
        memcpy(p + HDR, data, len);
    p[HDR + len] = type;
    if (!aead(r, &r->wr, true, p, p + HDR, inner)) {
        char d[200];
        openssl_detail(d, sizeof d);
        OPENSSL_cleanse(p, total);
        return fail(r, err, "TLS 加密失败 (cannot encrypt a record: %s)", d);
    }
    r->out.len += total;
    r->wr.seq++;
    return 0;
}

/* KeyUpdate(request) under the current write keys, then the next keys. */
static int send_key_update(sj__tls_record *r, bool request, sj_error *err)
{
    const uint8_t msg[5] = {HS_KEY_UPDATE, 0, 0, 1, request ? 1 : 0};
    int rc = sj__tls_record_seal(r, SJ__TLS_CT_HANDSHAKE, msg, sizeof msg, err);
    if (rc == 0)
        rc = update_dir(r, &r->wr, err);
    return rc;
}

/* Seals one record, first updating our keys when this key has carried its
 * share of records (the KeyUpdate itself takes the last sequence number). */
static int seal_limited(sj__tls_record *r, uint8_t type, const void *data, size_t len,
                        sj_error *err)
{
    if (r->wr.seq >= r->key_limit - 1) {
        int rc = send_key_update(r, false, err);
        if (rc != 0)
            return rc;
    }
    return sj__tls_record_seal(r, type, data, len, err);
}

int sj__tls_record_write(sj__tls_record *r, const void *plain, size_t len, sj_error *err)
{
    if (r->dead)
        return sj_error_set(err, SJ_ETLS, "TLS 连接已失效 (the link failed before)");
    const uint8_t *p = plain;
    do {
        size_t n = len < SJ__TLS_RECORD_MAX_PLAIN ? len : SJ__TLS_RECORD_MAX_PLAIN;
        int rc = seal_limited(r, SJ__TLS_CT_APPLICATION_DATA, p, n, err);
        if (rc != 0)
            return rc;
        if (n == 0)
            break; /* the one empty record */
        p += n;
        len -= n;
    } while (len > 0);
    return 0;
}

static int send_alert(sj__tls_record *r, uint8_t desc, sj_error *err)
{
    const uint8_t a[2] = {desc == SJ__TLS_AD_CLOSE_NOTIFY ? 1 : 2, desc};
    return seal_limited(r, SJ__TLS_CT_ALERT, a, sizeof a, err);
}

int sj__tls_record_close(sj__tls_record *r, sj_error *err)
{
    if (r->close_sent || r->dead)
        return 0;
    r->close_sent = true;
    return send_alert(r, SJ__TLS_AD_CLOSE_NOTIFY, err);
}

size_t sj__tls_record_pending(const sj__tls_record *r)
{
    return r->out.len - r->out.off;
}

size_t sj__tls_record_take(sj__tls_record *r, void *buf, size_t cap)
{
    size_t n = sj__tls_record_pending(r);
    if (n > cap)
        n = cap;
    if (n == 0)
        return 0;
    memcpy(buf, r->out.p + r->out.off, n);
    buf_consume(&r->out, n);
    return n;
}

int sj__tls_record_queue_raw(sj__tls_record *r, const void *bytes, size_t len)
{
    return buf_append(&r->out, bytes, len);
}

/* ---------- reading ----------------------------------------------------- */

static int peer_fault(sj__tls_record *r, uint8_t alert, sj_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The peer broke the protocol: tell it with a fatal alert, and die. */
static int peer_fault(sj__tls_record *r, uint8_t alert, sj_error *err, const char *fmt, ...)
{
    sj_error ignored;
    (void)send_alert(r, alert, &ignored); /* best effort: we are failing anyway */
    r->dead = true;
    va_list ap;
    va_start(ap, fmt);
    int rc = sj_error_setv(err, SJ_ETLS, fmt, ap);
    va_end(ap);
    return rc;
}

/* Frees the in-queue's space when it is much larger than the incomplete
 * record it still holds, so that one large read leaves nothing behind. */
static void shrink_input(sj__tls_record *r)
{
    sj__tls_buf *b = &r->in;
    if (b->p == NULL)
        return;
    size_t left = b->len - b->off;
    if (b->off > 0) {
        memmove(b->p, b->p + b->off, left);
        b->len = left;
        b->off = 0;
    }
    /* Only a queue grown past two records by a coalesced read is shrunk:
     * one fed a byte at a time never grows that far, so never thrashes. */
    size_t want = left < 512 ? 512 : left;
    if (b->cap > 2 * (SJ__TLS_RECORD_MAX_CIPHER + HDR)) {
        uint8_t *p = OPENSSL_clear_realloc(b->p, b->cap, want);
        if (p != NULL) { /* else keep the larger one: only memory is lost */
            b->p = p;
            b->cap = want;
        }
    }
}

static int handle_handshake(sj__tls_record *r, const uint8_t *p, size_t n, sj_error *err)
{
    if (r->hs_len + n > SJ__TLS_RECORD_HS_MAX)
        return peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                          "对端发送的握手消息过长 (the peer sent a post-handshake message of more "
                          "than %d bytes)",
                          SJ__TLS_RECORD_HS_MAX);
    uint8_t *hs = OPENSSL_clear_realloc(r->hs, r->hs_len, r->hs_len + n);
    if (hs == NULL)
        return fail(r, err, "内存不足 (out of memory for a handshake message)");
    memcpy(hs + r->hs_len, p, n);
    r->hs = hs;
    r->hs_len += n;

    size_t off = 0;
    int rc = 0;
    while (rc == 0 && r->hs_len - off >= 4) {
        const uint8_t *m = r->hs + off;
        size_t mlen = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
        if (4 + mlen > SJ__TLS_RECORD_HS_MAX) {
            rc = peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                            "对端发送的握手消息过长 (the peer announced a post-handshake message "
                            "of %zu bytes)",
                            mlen);
            break;
        }
        if (r->hs_len - off < 4 + mlen)
            break; /* the rest comes in the next record */
        off += 4 + mlen;
        if (m[0] == HS_NEW_SESSION_TICKET && r->is_client)
            continue; /* resumption is off: nothing to keep */
        if (m[0] != HS_KEY_UPDATE) {
            rc = peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                            "对端在握手之后发送了不允许的握手消息 (the peer sent handshake message "
                            "type %u after the handshake; only KeyUpdate%s is allowed)",
                            m[0], r->is_client ? " and NewSessionTicket" : "");
        } else if (mlen != 1) {
            rc = peer_fault(r, SJ__TLS_AD_DECODE_ERROR, err,
                            "对端的 KeyUpdate 格式错误 (the peer sent a KeyUpdate of %zu bytes, "
                            "not 1)",
                            mlen);
        } else if (m[4] > 1) {
            rc = peer_fault(r, SJ__TLS_AD_ILLEGAL_PARAMETER, err,
                            "对端的 KeyUpdate 参数无效 (the peer sent KeyUpdate request_update "
                            "%u)",
                            m[4]);
        } else if (off != r->hs_len) {
            /* Anything after it in the record was protected by the old key. */
            rc = peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                            "对端的 KeyUpdate 没有结束在记录边界 (the peer's KeyUpdate does not "
                            "end its record)");
        } else {
            bool requested = m[4] == 1;
            rc = update_dir(r, &r->rd, err);
            if (rc == 0 && requested && !r->close_sent)
                rc = send_key_update(r, false, err);
        }
    }
    if (rc != 0)
        return rc;
    if (off == r->hs_len) {
        OPENSSL_clear_free(r->hs, r->hs_len);
        r->hs = NULL;
        r->hs_len = 0;
    } else if (off > 0) {
        memmove(r->hs, r->hs + off, r->hs_len - off);
        r->hs_len -= off;
    }
    return 0;
}

/* Opens the next whole record in the in-queue.  0 with a record delivered
 * into plain_pos/plain_left (possibly empty data) or consumed, SJ_EAGAIN,
 * SJ_ECLOSED, or SJ_ETLS. */
static int open_record(sj__tls_record *r, sj_error *err)
{
    sj__tls_buf *b = &r->in;
    size_t avail = b->len - b->off;
    if (avail < HDR) {
        shrink_input(r);
        return SJ_EAGAIN;
    }
    uint8_t *h = b->p + b->off;
    size_t len = (size_t)h[3] << 8 | h[4];
    if (h[0] != SJ__TLS_CT_APPLICATION_DATA)
        return peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                          "对端发送了错误类型的 TLS 记录 (the peer sent a record of outer type %u "
                          "after the handshake; only 23 is allowed)",
                          h[0]);
    if (h[1] != 3 || h[2] != 3)
        return peer_fault(r, SJ__TLS_AD_DECODE_ERROR, err,
                          "对端 TLS 记录的版本号错误 (the peer sent record version %u.%u, not "
                          "3.3)",
                          h[1], h[2]);
    if (len > SJ__TLS_RECORD_MAX_CIPHER)
        return peer_fault(r, SJ__TLS_AD_RECORD_OVERFLOW, err,
                          "对端的 TLS 记录过长 (the peer sent a record of %zu bytes; at most %d "
                          "are allowed)",
                          len, SJ__TLS_RECORD_MAX_CIPHER);
    if (avail < HDR + len) {
        shrink_input(r);
        return SJ_EAGAIN;
    }
    if (len < TAG + 1)
        return peer_fault(r, SJ__TLS_AD_BAD_RECORD_MAC, err,
                          "对端的 TLS 记录过短 (the peer sent a record of %zu bytes, shorter "
                          "than its tag)",
                          len);
    if (r->rd.seq == UINT64_MAX)
        return peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                          "对端未更新密钥, 记录序号将溢出 (the peer's record sequence number "
                          "would wrap without a KeyUpdate)");
    uint8_t *p = h + HDR;
    size_t n = len - TAG;
    if (!aead(r, &r->rd, false, h, p, n)) {
        ERR_clear_error();
        return peer_fault(r, SJ__TLS_AD_BAD_RECORD_MAC, err,
                          "对端的 TLS 记录校验失败 (a record from the peer failed its "
                          "authentication check: bad_record_mac; the data was altered on the "
                          "way or the peer is broken)");
    }
    r->rd.seq++;
    while (n > 0 && p[n - 1] == 0)
        n--; /* padding */
    if (n == 0)
        return peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                          "对端发送了没有内容类型的记录 (the peer sent a record whose plaintext "
                          "is only padding)");
    uint8_t type = p[--n];
    if (n > SJ__TLS_RECORD_MAX_PLAIN)
        return peer_fault(r, SJ__TLS_AD_RECORD_OVERFLOW, err,
                          "对端的 TLS 记录内容过长 (the peer sent %zu bytes of plaintext in one "
                          "record; at most %d are allowed)",
                          n, SJ__TLS_RECORD_MAX_PLAIN);
    if (r->hs_len > 0 && type != SJ__TLS_CT_HANDSHAKE)
        return peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                          "对端在握手消息中间插入了其他记录 (the peer interleaved a record of "
                          "type %u with an unfinished handshake message)",
                          type);
    switch (type) {
    case SJ__TLS_CT_APPLICATION_DATA:
        if (n == 0) {
            buf_consume(b, HDR + len);
            return 0;
        }
        r->plain_pos = HDR;
        r->plain_left = n;
        r->rec_len = HDR + len;
        return 0;
    case SJ__TLS_CT_ALERT: {
        if (n != 2)
            return peer_fault(r, SJ__TLS_AD_DECODE_ERROR, err,
                              "对端的 TLS 警报格式错误 (the peer sent an alert of %zu bytes, not "
                              "2)",
                              n);
        uint8_t desc = p[1];
        buf_consume(b, HDR + len);
        if (desc == SJ__TLS_AD_CLOSE_NOTIFY) {
            r->close_received = true;
            return SJ_ECLOSED;
        }
        r->peer_alert = desc;
        r->dead = true;
        return sj_error_set(err, SJ_ETLS, "对端发送了 TLS 警报 (the peer sent fatal alert %u)",
                            desc);
    }
    case SJ__TLS_CT_HANDSHAKE: {
        if (n == 0)
            return peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                              "对端发送了空的握手记录 (the peer sent an empty handshake "
                              "record)");
        int rc = handle_handshake(r, p, n, err);
        if (rc == 0)
            buf_consume(b, HDR + len);
        return rc;
    }
    default:
        return peer_fault(r, SJ__TLS_AD_UNEXPECTED_MESSAGE, err,
                          "对端发送了不允许的记录类型 (the peer sent a record of inner type %u "
                          "after the handshake)",
                          type);
    }
}

int sj__tls_record_read(sj__tls_record *r, void *buf, size_t cap, size_t *nread, sj_error *err)
{
    *nread = 0;
    if (r->dead)
        return sj_error_set(err, SJ_ETLS, "TLS 连接已失效 (the link failed before)");
    for (;;) {
        if (r->plain_left > 0) {
            size_t k = r->plain_left < cap ? r->plain_left : cap;
            memcpy(buf, r->in.p + r->in.off + r->plain_pos, k);
            r->plain_pos += k;
            r->plain_left -= k;
            if (r->plain_left == 0) {
                OPENSSL_cleanse(r->in.p + r->in.off, r->rec_len);
                buf_consume(&r->in, r->rec_len);
            }
            *nread = k;
            return 0;
        }
        if (r->close_received)
            return SJ_ECLOSED;
        int rc = open_record(r, err);
        if (rc != 0)
            return rc;
    }
}

int sj__tls_record_feed(sj__tls_record *r, const void *cipher, size_t len)
{
    return buf_append(&r->in, cipher, len);
}

/* ---------- set-up ------------------------------------------------------ */

int sj__tls_record_crypto_init(sj__tls_record_crypto *c, sj_error *err)
{
    memset(c, 0, sizeof *c);
    ERR_clear_error();
    for (int i = 0; i < 3; i++)
        c->aead[i] = EVP_CIPHER_fetch(NULL, suites[i].cipher, NULL);
    c->cctx = EVP_CIPHER_CTX_new();
    c->hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (c->aead[0] && c->aead[1] && c->aead[2] && c->cctx && c->hkdf)
        return 0;
    char d[200];
    openssl_detail(d, sizeof d);
    sj__tls_record_crypto_free(c);
    return sj_error_set(err, SJ_EINTERNAL, "无法载入 TLS 加密算法 (cannot fetch AEAD/HKDF: %s)",
                        d);
}

void sj__tls_record_crypto_free(sj__tls_record_crypto *c)
{
    for (int i = 0; i < 3; i++)
        EVP_CIPHER_free(c->aead[i]);
    EVP_CIPHER_CTX_free(c->cctx);
    EVP_KDF_free(c->hkdf);
    memset(c, 0, sizeof *c);
}

int sj__tls_record_set_secret(sj__tls_record *r, bool write, const uint8_t *secret, size_t len)
{
    sj__tls_record_dir *d = write ? &r->wr : &r->rd;
    if (len > sizeof d->secret)
        return SJ_EINVAL;
    memcpy(d->secret, secret, len);
    d->secret_len = (uint8_t)len;
    return 0;
}

int sj__tls_record_start(sj__tls_record *r, sj__tls_record_crypto *crypto, uint16_t suite_id,
                         bool is_client, sj_error *err)
{
    int idx = -1;
    for (int i = 0; i < 3; i++)
        if (suites[i].id == suite_id)
            idx = i;
    r->crypto = crypto;
    r->is_client = is_client;
    r->peer_alert = -1;
    r->key_limit = SJ__TLS_RECORD_KEY_LIMIT;
    if (idx < 0)
        return fail(r, err, "TLS 协商了不支持的算法套件 (cipher suite 0x%04x is not one the "
                            "record layer implements)",
                    suite_id);
    r->suite = (uint8_t)idx;
    r->key_len = suites[idx].key_len;
    if (r->rd.secret_len != suites[idx].hash_len || r->wr.secret_len != suites[idx].hash_len)
        return fail(r, err, "TLS 流量密钥缺失 (the application traffic secrets were not "
                            "captured: read %u, write %u bytes, need %u)",
                    r->rd.secret_len, r->wr.secret_len, suites[idx].hash_len);
    r->rd.seq = r->wr.seq = 0;
    int rc = derive_key_iv(r, &r->rd, err);
    if (rc == 0)
        rc = derive_key_iv(r, &r->wr, err);
    if (rc == 0)
        r->started = true;
    return rc;
}

void sj__tls_record_free(sj__tls_record *r)
{
    buf_release(&r->out);
    buf_release(&r->in);
    OPENSSL_clear_free(r->hs, r->hs_len);
    r->hs = NULL;
    r->hs_len = 0;
    OPENSSL_cleanse(&r->rd, sizeof r->rd);
    OPENSSL_cleanse(&r->wr, sizeof r->wr);
}

void sj__tls_record_set_key_limit(sj__tls_record *r, uint64_t records)
{
    if (records < 2)
        records = 2;
    if (records > SJ__TLS_RECORD_KEY_LIMIT)
        records = SJ__TLS_RECORD_KEY_LIMIT;
    r->key_limit = records;
}
