/*
 * conn.h - one Sanji link: a TLS 1.3 stream over a libuv TCP handle that
 * carries framed Envelopes.
 *
 * A connection reads ciphertext from its uv_tcp_t, feeds the TLS engine
 * (tls.h), decodes frames (frame.h) from the plaintext, unpacks and
 * validates each Envelope (envelope.h) and delivers it to on_message.
 * sj_conn_send() packs an Envelope into a frame, encrypts it and queues the
 * ciphertext on the socket.
 *
 * Life cycle:
 *
 *     sj_conn_new()        allocates; the TCP handle is initialised but idle
 *     (listener accepts / dialer connects on sj_conn_tcp())
 *     sj_conn_start()      starts reading and the handshake timer
 *     on_ready(peer)       handshake done, peer identity verified
 *     on_message(...)      once per valid Envelope, in order
 *     sj_conn_close()      or any failure, timeout or the peer closing
 *     on_close(status)     ALWAYS exactly once, as the very last callback
 *     sj_conn_free()       only in or after on_close
 *
 * Close status (the `status` of on_close) says why the link ended:
 *   the code given to sj_conn_close() (0 for a normal local close);
 *   SJ_ECLOSED           the peer closed cleanly (close_notify, or Goodbye 0);
 *   SJ_EPEER_RESET       the peer vanished (RST, or EOF without close_notify);
 *   SJ_EFRAME_TRUNCATED  the peer closed in the middle of a frame;
 *   SJ_ETIMEOUT          the handshake did not finish in time;
 *   SJ_EIDLE             no application data received for idle_timeout_ms
 *                        (also when blocked: the peer read nothing);
 *   SJ_ETLS_*            the handshake refused the peer or the peer refused
 *                        us (tls.h has the table);
 *   SJ_EFRAME_*          the peer sent a bad frame (we send it a Goodbye
 *                        with the code before closing);
 *   a peer's Goodbye code when the peer closed saying why;
 *   SJ_EBACKPRESSURE     never: backpressure does not close the link;
 *   SJ_EIO / SJ_ENOMEM   local failures.
 * The sj_error given to on_close carries a message for the log.
 *
 * Backpressure: sj_conn_send() queues and returns 0 while the unsent bytes
 * are under write_high_water.  Once they pass it the link is "blocked":
 * reading from the peer stops (a peer that does not read our acks must not
 * make us buffer more of its messages) and sj_conn_send() refuses with
 * SJ_EBACKPRESSURE, queuing nothing.  When the socket drains below
 * write_low_water, reading resumes and on_drain is called.  The bytes the
 * TLS engine writes on its own in answer to the peer (KeyUpdate, alerts)
 * go through the same queue and count the same way, so a peer that keeps
 * making us answer while it reads nothing gets the link blocked: the
 * queue holds at most write_high_water plus what one read (64 KiB) made
 * us write, and then the idle timeout closes the link ("the peer read
 * nothing for N ms").  Only application data re-arms the idle timer.
 *
 * Memory per idle link: this struct (about 600 bytes with the uv handles),
 * the TLS engine (OpenSSL's state of the connection, about 22 KiB with
 * OpenSSL 3.0, and no buffer: see tls.h), and no frame buffer; with the
 * owner's session and the allocator's overhead a relay spends about 27 KiB
 * per idle station (docs/PERFORMANCE.md).  Reads use one per-thread buffer
 * shared by all links.  When a burst of handshakes on a thread is over,
 * the links return the heap's free pages to the system (malloc_trim, glibc
 * only).
 *
 * The peer certificate for the life of the link: the handshake's verdict
 * is not the last word.  sj_conn_recheck_peer() judges the peer again (its
 * certificate past notAfter, or revoked by the CRL now in force: tls.h)
 * and closes the link when it fails, with a Goodbye that tells the peer
 * why; the owners call it at every tick and after every CRL change
 * (listener.h does it for all its links).  sj_conn_peer_cert() gives the
 * serial and validity for listings.
 *
 * Threads: a connection belongs to the thread running its loop.
 *
 * Entry points: sj_conn_new(), sj_conn_tcp(), sj_conn_start(),
 * sj_conn_send(), sj_conn_send_payload(), sj_conn_close(), sj_conn_free(),
 * sj_conn_peer(), sj_conn_peer_cert(), sj_conn_recheck_peer(), sj_conn_log_cut(),
 * sj_conn_established(), sj_conn_set_data(), sj_conn_data(),
 * sj_conn_owner(), sj_conn_blocked(), sj_conn_queued_bytes(),
 * sj_conn_send_mark(), sj_conn_written(), sj_conn_options_default(),
 * sj_conn_send_frame(), sj_conn_take_envelope().
 */
#ifndef SJ_CONN_H
#define SJ_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "envelope.h"
#include "err.h"
#include "identity.h"
#include "tls.h"

typedef struct sj_conn sj_conn;

/* Tunables of one link.  Start from sj_conn_options_default(). */
typedef struct sj_conn_options {
    uint32_t max_frame;            /* largest payload accepted and sent */
    uint64_t handshake_timeout_ms; /* from sj_conn_start() to on_ready; 0: none */
    uint64_t idle_timeout_ms;      /* no data received this long: close; 0: none */
    size_t write_high_water;       /* unsent bytes that block the link */
    size_t write_low_water;        /* unsent bytes that unblock it */
    uint64_t linger_ms;            /* how long a closing link may take to flush */
} sj_conn_options;

/* max_frame 1 MiB, handshake 10 s, idle off, high 1 MiB, low 256 KiB,
 * linger 2 s. */
sj_conn_options sj_conn_options_default(void);

/* Events of a link.  Every member may be NULL except on_close.  The
 * pointers passed in are borrowed: env, payload and peer are valid only
 * during the call (copy what must outlive it; payload is the exact bytes of
 * the frame, for stores that keep messages as received).  Any callback may
 * call sj_conn_send() or sj_conn_close(); only on_close may free. */
typedef struct sj_conn_callbacks {
    void (*on_ready)(sj_conn *conn, const sj_identity *peer);
    void (*on_message)(sj_conn *conn, const Sanji__Envelope *env, const uint8_t *payload,
                       size_t len);
    void (*on_drain)(sj_conn *conn);
    /* A socket write completed (sj_conn_written() grew); for owners that
     * must know a message left this node, see sj_conn_send_mark(). */
    void (*on_written)(sj_conn *conn);
    void (*on_close)(sj_conn *conn, int status, const sj_error *why);
} sj_conn_callbacks;

/* Makes a link on loop with a TLS engine from ctx (server or client as ctx
 * says; expected_peer_node as in sj_tls_new(), client side only).  cbs must
 * stay valid for the life of the link (it is not copied; usually a static
 * table).  owner is for the object that made the link (listener, dialer)
 * and data for the application; both are opaque here.  opts may be NULL for
 * the defaults.  Returns NULL with err set (SJ_EINVAL, SJ_ENOMEM, or the
 * engine's code).  The caller owns the link and must connect or accept on
 * sj_conn_tcp() and call sj_conn_start(), or call sj_conn_close(); it frees
 * it with sj_conn_free() only after on_close. */
sj_conn *sj_conn_new(uv_loop_t *loop, sj_tls_ctx *ctx, const char *expected_peer_node,
                     const sj_conn_options *opts, const sj_conn_callbacks *cbs, void *owner,
                     sj_error *err);

/* The TCP handle, initialised on the link's loop, for uv_accept() or
 * uv_tcp_connect().  Do not close it yourself. */
uv_tcp_t *sj_conn_tcp(sj_conn *conn);

/* Starts the handshake on a connected TCP handle.  Returns 0, or a code
 * after which the link is closing (on_close will follow). */
int sj_conn_start(sj_conn *conn);

/* Queues env (stamped as in sj_envelope_pack() with this node's id).
 * Returns 0 when queued (id_out, may be NULL, gets the message id);
 * SJ_EBACKPRESSURE when blocked (nothing queued; wait for on_drain);
 * SJ_ECLOSED when closing or not yet ready; SJ_EFRAME_TOO_LARGE and the
 * other sj_envelope_pack() codes for a message that cannot be sent.
 * Only the last kind is the caller's to fix; none closes the link. */
int sj_conn_send(sj_conn *conn, const Sanji__Envelope *env, uint8_t id_out[SJ_ENVELOPE_ID_SIZE],
                 sj_error *err);

/* Queues an already serialised payload (e.g. as stored by a relay) as one
 * frame, without checking it.  Same returns as sj_conn_send(); a payload
 * over max_frame is refused with SJ_EFRAME_TOO_LARGE. */
/* Both refuse, with SJ_EUNSUPPORTED and nothing queued, a message whose
 * body is of a higher protocol level than the link's (envelope.h): the
 * caller keeps it for a link that takes it.  The payload is decoded for
 * that only on a link below this program's level, i.e. to an older peer. */
int sj_conn_send_payload(sj_conn *conn, const uint8_t *payload, size_t len, sj_error *err);

/* The protocol level agreed with the peer (sj_protocol_level_agree());
 * SJ_PROTOCOL_LEVEL_MIN until it is set. */
void sj_conn_set_level(sj_conn *conn, uint32_t level);
uint32_t sj_conn_level(const sj_conn *conn);

/* Closes the link: when established, sends Goodbye(status, reason) if
 * status != 0, then close_notify, lets queued data drain (at most
 * linger_ms), then closes the socket.  on_close later reports status.
 * reason may be NULL.  Closing a link that is already closing does
 * nothing (the first reason wins). */
void sj_conn_close(sj_conn *conn, int status, const char *reason);

/* Frees a link after its on_close (may be called inside on_close).  Calling
 * it earlier is a caller bug and aborts.  NULL is ignored. */
void sj_conn_free(sj_conn *conn);

/* The verified peer identity (NULL before on_ready). Owned by the link. */
const sj_identity *sj_conn_peer(const sj_conn *conn);

/* True from on_ready until the link starts closing. */
bool sj_conn_established(const sj_conn *conn);

/* The peer certificate's serial and validity (tls.h).  Returns 0, or
 * SJ_EINVAL before on_ready. */
int sj_conn_peer_cert(const sj_conn *conn, sj_tls_cert_info *out);

/* Judges the peer of an established link again at now (Unix seconds):
 * when its certificate has expired or the CRL now in force revokes it
 * (sj_tls_recheck_peer()), closes the link with that code
 * (SJ_ETLS_EXPIRED, SJ_ETLS_REVOKED) and a Goodbye saying so, in words
 * for the person at the other end (gettext) with the serial, and returns
 * the code, err (may be NULL) saying which certificate for the log;
 * on_close later reports the same code.  Returns 0 when the peer is still
 * good, and for a link not established or already closing. */
int sj_conn_recheck_peer(sj_conn *conn, int64_t now, sj_error *err);

/* Logs a link sj_conn_recheck_peer() cut (a warning naming the peer, the
 * code and why), as module: the on_cut of sj_listener_recheck_peers()
 * with the module name (a string) as its argument, shared by the daemons. */
void sj_conn_log_cut(sj_conn *conn, const sj_error *why, void *module);

void sj_conn_set_data(sj_conn *conn, void *data);
void *sj_conn_data(const sj_conn *conn);
/* The owner pointer given to sj_conn_new().  For links made by a listener
 * it is the listener's record of the link: use sj_listener_of(). */
void *sj_conn_owner(const sj_conn *conn);

/* True while sends are refused for backpressure. */
bool sj_conn_blocked(const sj_conn *conn);

/* Write completion.  Right after a send returned 0, sj_conn_send_mark() is
 * the count of ciphertext bytes that must be written for that message (and
 * all before it) to have been handed to the kernel; once sj_conn_written()
 * reaches the mark, it has (on_written tells when the count grows; it is
 * not called once the link is closing).  A link that closes before the
 * write completed may never reach it: the message may be lost.  The
 * handshake's bytes count too, so compare only with marks. */
uint64_t sj_conn_send_mark(const sj_conn *conn);
uint64_t sj_conn_written(const sj_conn *conn);

/* Ciphertext bytes queued on the socket and not yet written. */
size_t sj_conn_queued_bytes(const sj_conn *conn);

/* The options in force (for owners that print them). */
const sj_conn_options *sj_conn_options_of(const sj_conn *conn);

/* Like sj_conn_send_payload(), for a payload the caller already holds
 * behind SJ_FRAME_HEADER_SIZE spare bytes: frame is SJ_FRAME_HEADER_SIZE +
 * len bytes, the payload at frame + SJ_FRAME_HEADER_SIZE.  The header is
 * written into the spare bytes and the frame queued as it is, with no
 * second buffer and no copy (the client's outbox rows, read from its store
 * that way).  The caller keeps frame. */
int sj_conn_send_frame(sj_conn *conn, uint8_t *frame, size_t len, sj_error *err);

/* ---- taking a delivered envelope ------------------------------------------ */

/* Takes over env, the envelope on_message is being called with on this
 * link, without decoding its frame again: the returned envelope holds its
 * fields (freed with sj_envelope_free()) and env is left an empty Envelope
 * (no body) for the rest of the call.  Only during on_message, only for
 * that call's env.  Returns NULL when memory is short or the link is not
 * ready (env unchanged). */
Sanji__Envelope *sj_conn_take_envelope(sj_conn *conn, const Sanji__Envelope *env);

#endif
