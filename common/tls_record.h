/*
 * tls_record.h - INTERNAL to the tls module (common/tls.c): the TLS 1.3
 * record layer (RFC 8446 sections 5, 4.6.3 and 6) that carries an
 * established link once OpenSSL's SSL object is freed.
 *
 * Why: an idle link kept in OpenSSL costs ~23 KiB (the SSL object, the peer
 * certificate in its SSL_SESSION, two cipher contexts, ...).  After the
 * handshake, only the two traffic secrets, their keys/IVs and sequence
 * numbers are needed; the cipher context is shared by every engine of one
 * sj_tls_ctx (one thread), re-keyed per record.  Buffers exist only while
 * they hold bytes, so an idle link holds none.
 *
 * Nothing outside common/tls.c (and the tests of the tls module) may use
 * this header; the public API is tls.h.
 *
 * Lifecycle: the sj__tls_record is embedded in the engine (zeroed by its
 * calloc).  During the handshake tls.c stores the two application traffic
 * secrets with sj__tls_record_set_secret(); sj__tls_record_start() derives
 * the keys.  sj__tls_record_free() wipes the secrets and frees the buffers;
 * the struct is not reused after that.
 *
 * Errors: every function returns 0 or a negative SJ_E* code.  A fatal
 * protocol error queues the matching encrypted alert for the peer (still to
 * be taken), marks the record layer dead and fills err (Chinese first).  A
 * fatal alert from the peer leaves its description in peer_alert.
 *
 * Entry points: sj__tls_record_crypto_init(), sj__tls_record_crypto_free(),
 * sj__tls_record_set_secret(), sj__tls_record_start(),
 * sj__tls_record_free(), sj__tls_record_feed(), sj__tls_record_queue_raw(),
 * sj__tls_record_read(), sj__tls_record_write(), sj__tls_record_close(),
 * sj__tls_record_pending(), sj__tls_record_take(), and for tests
 * sj__tls_record_seal(), sj__tls_record_set_key_limit(), sj__tls_record_of().
 */
#ifndef SJ_TLS_RECORD_H
#define SJ_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "err.h"
#include "tls.h"

/* TLS 1.3 content types and the alert descriptions the record layer sends. */
enum {
    SJ__TLS_CT_CHANGE_CIPHER_SPEC = 20,
    SJ__TLS_CT_ALERT = 21,
    SJ__TLS_CT_HANDSHAKE = 22,
    SJ__TLS_CT_APPLICATION_DATA = 23,
};
enum {
    SJ__TLS_AD_CLOSE_NOTIFY = 0,
    SJ__TLS_AD_UNEXPECTED_MESSAGE = 10,
    SJ__TLS_AD_BAD_RECORD_MAC = 20,
    SJ__TLS_AD_RECORD_OVERFLOW = 22,
    SJ__TLS_AD_ILLEGAL_PARAMETER = 47,
    SJ__TLS_AD_DECODE_ERROR = 50,
    SJ__TLS_AD_INTERNAL_ERROR = 80,
};

#define SJ__TLS_RECORD_MAX_PLAIN 16384                        /* 2^14 */
#define SJ__TLS_RECORD_MAX_CIPHER (SJ__TLS_RECORD_MAX_PLAIN + 256)
#define SJ__TLS_RECORD_HS_MAX (64 * 1024) /* bound on a post-handshake message */
/* AES-GCM: at most 2^24.5 records per key (RFC 8446 5.5); we update sooner. */
#define SJ__TLS_RECORD_KEY_LIMIT ((uint64_t)1 << 24)

/* What the engines of one sj_tls_ctx share (one thread): the three AEADs,
 * one cipher context re-keyed per record, and the HKDF implementation.
 * Owned by the sj_tls_ctx; init fills it, free releases it (NULL members
 * are fine). */
typedef struct sj__tls_record_crypto {
    EVP_CIPHER *aead[3]; /* AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 */
    EVP_CIPHER_CTX *cctx;
    EVP_KDF *hkdf;
    const EVP_CIPHER *loaded; /* the AEAD cctx was last set up with */
} sj__tls_record_crypto;

int sj__tls_record_crypto_init(sj__tls_record_crypto *c, sj_error *err);
void sj__tls_record_crypto_free(sj__tls_record_crypto *c);

/* One direction: traffic secret, the key and IV derived from it, and the
 * sequence number of the next record. */
typedef struct sj__tls_record_dir {
    uint64_t seq;
    uint8_t secret[48];
    uint8_t key[32];
    uint8_t iv[12];
    uint8_t secret_len; /* 0 until set */
} sj__tls_record_dir;

/* A byte queue [off, len) in p; p is NULL whenever the queue is empty. */
typedef struct sj__tls_buf {
    uint8_t *p;
    size_t off, len, cap;
} sj__tls_buf;

typedef struct sj__tls_record {
    sj__tls_record_crypto *crypto; /* not owned */
    uint8_t suite;                 /* index into crypto->aead */
    uint8_t key_len;
    bool started, is_client, close_sent, close_received, dead;
    int peer_alert; /* a fatal alert the peer sent us, -1 if none */
    uint64_t key_limit; /* write records per key before we update it */
    sj__tls_record_dir rd, wr;
    sj__tls_buf out; /* ciphertext waiting to be taken */
    sj__tls_buf in;  /* ciphertext fed; the current record starts at in.off */
    /* Undelivered plaintext of the current record: at in.off + plain_pos,
     * plain_left bytes; the record is rec_len bytes long in all. */
    size_t plain_pos, plain_left, rec_len;
    /* Post-handshake messages being reassembled (NULL when none). */
    uint8_t *hs;
    size_t hs_len;
} sj__tls_record;

/* Stores an application traffic secret (write: ours, else the peer's).
 * SJ_EINVAL when longer than 48 bytes. */
int sj__tls_record_set_secret(sj__tls_record *r, bool write, const uint8_t *secret, size_t len);

/* Starts the record layer for the TLS 1.3 suite `suite_id` (0x1301,
 * 0x1302 or 0x1303): both secrets must be set and of the suite's hash
 * length.  Both sequence numbers start at 0.  SJ_ETLS with err set on any
 * failure (the caller must then treat the link as dead). */
int sj__tls_record_start(sj__tls_record *r, sj__tls_record_crypto *crypto, uint16_t suite_id,
                         bool is_client, sj_error *err);

/* Wipes the secrets and keys and frees every buffer. */
void sj__tls_record_free(sj__tls_record *r);

/* Appends len bytes of ciphertext from the network (copied).  0 or SJ_ENOMEM. */
int sj__tls_record_feed(sj__tls_record *r, const void *cipher, size_t len);

/* Appends bytes that are already records (the handshake's last flight,
 * written by OpenSSL) to the output queue as they are.  0 or SJ_ENOMEM. */
int sj__tls_record_queue_raw(sj__tls_record *r, const void *bytes, size_t len);

/* Reads plaintext of at most one record.  0 with *nread > 0; SJ_EAGAIN when
 * a whole record is not there yet; SJ_ECLOSED after close_notify; SJ_ETLS
 * (err set; peer_alert >= 0 if the peer sent a fatal alert). */
int sj__tls_record_read(sj__tls_record *r, void *buf, size_t cap, size_t *nread, sj_error *err);

/* Encrypts len bytes as records of at most 2^14 bytes (len 0: one empty
 * record).  0, or SJ_ETLS / SJ_ENOMEM with err set. */
int sj__tls_record_write(sj__tls_record *r, const void *plain, size_t len, sj_error *err);

/* Queues an encrypted close_notify, once.  0, or a failure code with err. */
int sj__tls_record_close(sj__tls_record *r, sj_error *err);

/* Bytes waiting in the output queue. */
size_t sj__tls_record_pending(const sj__tls_record *r);

/* Moves up to cap bytes of the output queue into buf; returns how many. */
size_t sj__tls_record_take(sj__tls_record *r, void *buf, size_t cap);

/* Test hooks.  Seals one record of inner type `type` holding len bytes
 * exactly as given (no check of what they say). */
int sj__tls_record_seal(sj__tls_record *r, uint8_t type, const void *data, size_t len,
                        sj_error *err);

/* Makes our write side update its keys after `records` records per key
 * (clamped to 2 .. SJ__TLS_RECORD_KEY_LIMIT). */
void sj__tls_record_set_key_limit(sj__tls_record *r, uint64_t records);

/* The record layer of an engine once it has taken over from OpenSSL (the
 * handshake is done); NULL before.  Defined in tls.c. */
sj__tls_record *sj__tls_record_of(sj_tls *tls);

#endif
