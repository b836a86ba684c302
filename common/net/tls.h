/*
 * tls.h - the TLS 1.3 engine: mutual TLS with the county CA, sans I/O.
 *
 * The engine never touches a socket.  The connection layer (conn.c) moves
 * bytes: what arrives from the network goes in with sj_tls_feed(), what the
 * engine wants sent comes out with sj_tls_take().  OpenSSL 3 does all of
 * TLS for the life of the link (handshake, records, alerts, KeyUpdate)
 * behind an in-memory BIO whose queues are freed whenever they are empty;
 * with SSL_MODE_RELEASE_BUFFERS an idle established engine holds no
 * buffer, only OpenSSL's connection state (about 22 KiB with OpenSSL 3.0;
 * tests/unit/test_tls_mem.c).  Tier code never calls OpenSSL directly.
 * Cipher suites: OpenSSL's TLS 1.3 defaults (TLS_AES_256_GCM_SHA384,
 * TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256); no session
 * tickets, no session cache, no resumption.
 *
 * Output the peer causes: OpenSSL answers some records on its own (a
 * KeyUpdate that requests ours, a fatal alert).  Those bytes wait with ours
 * for sj_tls_take(); they are never more than the peer's bytes that caused
 * them, and the connection layer bounds them with its write queue
 * (conn.h, backpressure).
 *
 * Policy (docs/ARCHITECTURE.md, G5): TLS 1.3 only; both sides present a certificate; the
 * county CA (ca_file) is the only trust anchor; an optional CRL is checked;
 * and after the chain is verified, the peer certificate must carry exactly
 * one Sanji URI in its subjectAltName (identity.h), whose role is one of
 * allowed_peer_roles and, on the client side, whose node id equals
 * expected_peer_node when one is given.  Each refusal has its own code:
 *
 *   SJ_ETLS_NO_CERT       the peer sent no certificate
 *   SJ_ETLS_UNTRUSTED     not issued by our county CA
 *   SJ_ETLS_EXPIRED       expired or not yet valid
 *   SJ_ETLS_REVOKED       listed in the CRL
 *   SJ_ETLS_BAD_IDENTITY  no Sanji URI, several, or a malformed one
 *   SJ_ETLS_WRONG_ROLE    a role not allowed on this link
 *   SJ_ETLS_WRONG_PEER    another node than expected_peer_node
 *   SJ_ETLS_PROTOCOL      the peer speaks TLS < 1.3 only
 *   SJ_ETLS_KEY           our own certificate or key cannot be loaded, or
 *                         the key file is open to other users (the message
 *                         says to run chmod 600 on it)
 *   SJ_ETLS_HANDSHAKE     any other handshake failure (text says which)
 *   SJ_ETLS               any other TLS failure after the handshake
 *
 * The side that finds the fault reports it from sj_tls_handshake(); the
 * other side learns it from the TLS alert, and reports the same code from
 * sj_tls_handshake() or, on the client (whose handshake ends before the
 * server has judged its certificate), from the first sj_tls_read().  The
 * message then says that the peer refused us and why.
 *
 * Driving an engine:
 *
 *     feed(bytes from the network)
 *     handshake() until 0  (SJ_EAGAIN: feed more)     \  after each call,
 *     write(plain) / read(plain) until SJ_EAGAIN       > send everything
 *     shutdown()                                      /  sj_tls_take() gives
 *
 * After a refusal, still send what sj_tls_take() gives (it holds the alert
 * that tells the peer why), then close the connection and free the engine.
 *
 * Live links follow the PKI: a link may last months, so the verdict of its
 * handshake is not the last word.  Each engine keeps its peer's notAfter,
 * and sj_tls_recheck_peer() judges the peer again against the clock and
 * the CRL the context holds now (after sj_tls_ctx_reload_crl() or
 * sj_tls_ctx_offer_crl()); the connection layer closes a link it refuses
 * (conn.h, sj_conn_recheck_peer()).  sj_tls_peer_cert() gives the serial
 * and validity for listings.
 *
 * Threads: an sj_tls belongs to one thread (its loop).  An sj_tls_ctx may be
 * shared by the engines of one thread; sj_tls_ctx_reload_crl() and
 * sj_tls_ctx_offer_crl() must run on that thread.
 *
 * Entry points: sj_tls_ctx_new(), sj_tls_ctx_free(), sj_tls_ctx_reload_crl(),
 * sj_tls_ctx_offer_crl(), sj_tls_ctx_crl(), sj_tls_ctx_identity(), sj_tls_ctx_own_cert(),
 * sj_tls_cert_identity(),
 * sj_tls_new(), sj_tls_free(), sj_tls_feed(), sj_tls_handshake(),
 * sj_tls_read(), sj_tls_write(), sj_tls_pending(), sj_tls_take(),
 * sj_tls_shutdown(), sj_tls_peer(), sj_tls_peer_cert(),
 * sj_tls_recheck_peer(), sj_tls_last_error(), sj_tls_is_established().
 */
#ifndef SJ_TLS_H
#define SJ_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "identity.h"

typedef struct sj_tls_config {
    const char *ca_file;   /* PEM: the county CA certificate (the only anchor) */
    const char *cert_file; /* PEM: this node's certificate; NULL only on a
                            * client that has none (a server will refuse it) */
    const char *key_file;  /* PEM: this node's private key (NULL with cert_file) */
    const char *crl_file;  /* PEM CRL of the county CA; NULL: no revocation check */
    bool is_server;
    /* Roles a peer may have on this link (at least one). */
    const sj_node_role *allowed_peer_roles;
    size_t n_allowed_peer_roles;
} sj_tls_config;

typedef struct sj_tls_ctx sj_tls_ctx;
typedef struct sj_tls sj_tls;

/* Loads CA, certificate, key and CRL, and checks that the key matches the
 * certificate and that the certificate carries a valid Sanji identity.
 * The config and its strings are copied; the caller may free them after.
 * The key file must be for its owner only (no group or other permission
 * bits, e.g. mode 0600 as sanji-pki writes it): a daemon or client must not
 * start with a key that another local account could read.
 * Returns a new context (free with sj_tls_ctx_free() after every engine made
 * from it is freed), or NULL with err set: SJ_ETLS_KEY for an unreadable or
 * mismatched file, or a key open to other users (the message names the
 * file and says "chmod 600 FILE"), SJ_ETLS_BAD_IDENTITY for a certificate
 * without identity, SJ_EINVAL for a bad config, SJ_ENOMEM. */
sj_tls_ctx *sj_tls_ctx_new(const sj_tls_config *config, sj_error *err);

/* Frees ctx; NULL is ignored.  Every sj_tls made from it must be freed first. */
void sj_tls_ctx_free(sj_tls_ctx *ctx);

/* Re-reads crl_file (after `sanji-pki revoke` or `sanji-pki crl`).  It
 * applies to every handshake from now on, including those of existing
 * engines, and to sj_tls_recheck_peer() of established ones.  The file is
 * taken as it is, older or not (it is the operator's).  On failure the old
 * CRL stays in force and err says why (SJ_ETLS_KEY for an unreadable file,
 * SJ_EINVAL when ctx has no crl_file). */
int sj_tls_ctx_reload_crl(sj_tls_ctx *ctx, sj_error *err);

/* What identifies a CRL and tells two apart. */
typedef struct sj_tls_crl_info {
    uint64_t number;     /* its crlNumber extension; 0 when it has none */
    int64_t last_update; /* Unix seconds */
    int64_t next_update; /* Unix seconds; 0 when it names none */
    size_t revoked;      /* certificates listed */
} sj_tls_crl_info;

/* Puts a CRL that came from elsewhere (the county, over the link) in force
 * for every handshake from now on and for sj_tls_recheck_peer(), once it
 * has passed two checks: it is signed by this context's CA (its issuer is
 * the CA's subject and the signature verifies), and it is newer than the
 * one in force (a greater crlNumber; when either has none, a later
 * lastUpdate).  data is the CRL in DER or PEM (len bytes).  offered (may be
 * NULL) gets the offered CRL's numbers once it could be read.  Returns 0
 * when it is in force now (revocation checks start on a context made
 * without crl_file); SJ_EEXISTS when it is not newer (the one in force
 * stays; err says which numbers); SJ_ETLS_UNTRUSTED when another CA made
 * it or the signature is bad; SJ_EINVAL when the bytes are no CRL; SJ_ETLS_KEY
 * when ca_file cannot be read again; SJ_ENOMEM. */
int sj_tls_ctx_offer_crl(sj_tls_ctx *ctx, const void *data, size_t len, sj_tls_crl_info *offered,
                         sj_error *err);

/* The CRL in force: 0 with *info (may be NULL) and, when der and len are
 * given, its DER bytes (owned by ctx, valid until the CRL in force
 * changes), or SJ_ENOTFOUND when the context checks no CRL. */
int sj_tls_ctx_crl(const sj_tls_ctx *ctx, sj_tls_crl_info *info, const uint8_t **der,
                   size_t *len);

/* Hex digits of a 20-byte serial (RFC 5280's largest), and the NUL. */
#define SJ_TLS_SERIAL_MAX 44

/* A certificate's serial and validity (a link's peer, or this node's own),
 * for listings, status and logs. */
typedef struct sj_tls_cert_info {
    char serial[SJ_TLS_SERIAL_MAX]; /* upper-case hex, as `sanji-pki show` prints it */
    int64_t not_before, not_after;  /* Unix seconds */
} sj_tls_cert_info;

/* This node's identity, from its certificate; NULL on a client without one.
 * Owned by ctx, valid until sj_tls_ctx_free(). */
const sj_identity *sj_tls_ctx_identity(const sj_tls_ctx *ctx);

/* This node's own certificate (serial and validity), for status reports.
 * Returns 0, or SJ_ENOTFOUND on a context without a certificate. */
int sj_tls_ctx_own_cert(const sj_tls_ctx *ctx, sj_tls_cert_info *out);

/* The Sanji identity of an OpenSSL certificate (an X509 *): exactly one URI
 * in its subjectAltName, a valid sanji: one.  Returns 0, or
 * SJ_ETLS_BAD_IDENTITY with err saying what is wrong.  The check the
 * handshake makes, for programs that read certificates from files
 * (enrolment bundles, enrol.h). */
struct x509_st;
int sj_tls_cert_identity(struct x509_st *cert, sj_identity *out, sj_error *err);

/* A new engine for one connection.  expected_peer_node (client side only,
 * copied): the node id the server must have, e.g. "county:410423000000";
 * NULL accepts any node of an allowed role.  Returns NULL with err set
 * (SJ_EINVAL for a malformed expected_peer_node or one given to a server
 * engine, SJ_ENOMEM).  Free with sj_tls_free(); not reusable for another
 * connection. */
sj_tls *sj_tls_new(sj_tls_ctx *ctx, const char *expected_peer_node, sj_error *err);

/* Frees the engine and whatever it buffers; NULL is ignored. */
void sj_tls_free(sj_tls *tls);

/* Hands the engine len bytes received from the network (copied).  Always
 * takes all of them: returns 0, or SJ_ENOMEM. */
int sj_tls_feed(sj_tls *tls, const void *cipher, size_t len);

/* Advances the handshake.  Returns 0 once it is done (again 0 on later
 * calls), SJ_EAGAIN when it needs bytes from the peer, or a refusal code
 * (see the table above) with err saying who is at fault and what to do.
 * After a refusal the engine is dead: every call returns the same code. */
int sj_tls_handshake(sj_tls *tls, sj_error *err);

/* True after sj_tls_handshake() returned 0. */
bool sj_tls_is_established(const sj_tls *tls);

/* Reads decrypted bytes into buf.  Returns 0 with *nread > 0, SJ_EAGAIN when
 * there are none yet, SJ_ECLOSED after the peer's close_notify, or a failure
 * code (details in sj_tls_last_error()).  Before the handshake is done:
 * SJ_EINVAL. */
int sj_tls_read(sj_tls *tls, void *buf, size_t cap, size_t *nread);

/* Encrypts len bytes (all of them) for sending; fetch them with
 * sj_tls_take().  SJ_EINVAL before the handshake is done or after
 * sj_tls_shutdown(); a failure code after a fatal error. */
int sj_tls_write(sj_tls *tls, const void *plain, size_t len);

/* Number of ciphertext bytes waiting to be sent. */
size_t sj_tls_pending(const sj_tls *tls);

/* Moves up to cap bytes of waiting ciphertext into buf; *n says how many
 * (0 when nothing waits).  Returns 0. */
int sj_tls_take(sj_tls *tls, void *buf, size_t cap, size_t *n);

/* Queues close_notify (send it with sj_tls_take()); further writes are
 * refused.  Returns 0; calling it twice is harmless. */
int sj_tls_shutdown(sj_tls *tls);

/* The peer's identity, once the handshake is done (NULL before).  Owned by
 * the engine; valid until sj_tls_free(). */
const sj_identity *sj_tls_peer(const sj_tls *tls);


/* Fills *out from the peer's certificate.  Returns 0, or SJ_EINVAL before
 * the handshake is done. */
int sj_tls_peer_cert(const sj_tls *tls, sj_tls_cert_info *out);

/* Judges the peer of an established engine again, as a handshake would
 * now: SJ_ETLS_EXPIRED once now (Unix seconds) is past the certificate's
 * notAfter, SJ_ETLS_REVOKED when the CRL the context holds now lists it;
 * err says which certificate (node id and serial) and what to do.  Returns
 * 0 while the peer is still good, and for an engine that is not
 * established (or is dead).  Cheap enough for every link at every tick: the
 * CRL is looked up only when it changed since this engine's last check. */
int sj_tls_recheck_peer(sj_tls *tls, int64_t now, sj_error *err);

/* The last failure of this engine (code SJ_EOK if none), for the log after
 * sj_tls_read()/sj_tls_write() returned a failure code.  Owned by the engine. */
const sj_error *sj_tls_last_error(const sj_tls *tls);

#endif
