/*
 * listener.h - accepts Sanji links: listens on host:port, wraps every
 * accepted socket in an sj_conn with a TLS server engine, and forwards the
 * links' events to one set of callbacks.
 *
 * The listener owns its links: it creates them, calls the owner's
 * sj_conn_callbacks for each (on_ready when a peer is verified, on_message,
 * on_drain, and on_close exactly once per accepted socket, refused
 * handshakes included, with the reason), and frees each link right after
 * its on_close returns.  The application therefore must not call
 * sj_conn_free() on a listener's link, and must drop its pointers to a link
 * in on_close.  Each new link's data (sj_conn_data()) starts as the
 * listener's data; the application may replace it with its session.
 *
 * Live links follow the PKI: sj_listener_recheck_peers() judges the peer
 * of every established link again (conn.h, sj_conn_recheck_peer()) and
 * closes those whose certificate has expired or is revoked by the CRL now
 * in force; the daemons call it at every tick and after every CRL change.
 * sj_listener_each() walks the established links (for listings).
 *
 * Entry points: sj_listener_new(), sj_listener_listen(), sj_listener_port(),
 * sj_listener_count(), sj_listener_close(), sj_listener_free(),
 * sj_listener_data(), sj_listener_of(), sj_listener_each(),
 * sj_listener_recheck_peers().
 */
#ifndef SJ_LISTENER_H
#define SJ_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "conn.h"
#include "err.h"
#include "tls.h"

typedef struct sj_listener sj_listener;

/* Makes a listener on loop.  ctx must be a server context and outlive the
 * listener; cbs (with on_close set) must outlive it too; opts (NULL for
 * defaults) is copied.  Returns NULL with err set.  Free with
 * sj_listener_free() after sj_listener_close() has called back, or at once
 * if sj_listener_listen() was never called successfully. */
sj_listener *sj_listener_new(uv_loop_t *loop, sj_tls_ctx *ctx, const sj_conn_options *opts,
                             const sj_conn_callbacks *cbs, void *data, sj_error *err);

/* Binds host (numeric IPv4 or IPv6 address) and port (0: any free port, see
 * sj_listener_port()) and starts accepting.  Returns 0, or SJ_EINVAL for a
 * bad address, SJ_EIO (err says why: address in use, ...). */
int sj_listener_listen(sj_listener *l, const char *host, int port, int backlog, sj_error *err);

/* The bound port (after sj_listener_listen()), or -1. */
int sj_listener_port(const sj_listener *l);

/* Number of links open or closing. */
size_t sj_listener_count(const sj_listener *l);

/* Stops accepting and closes every link with SJ_ECANCELLED (each gets its
 * on_close); on_closed (may be NULL) runs once all are gone and the socket
 * is closed.  Calling it twice does nothing. */
void sj_listener_close(sj_listener *l, void (*on_closed)(sj_listener *l));

/* Frees l.  A caller bug (abort) while the listener is listening or closing. */
void sj_listener_free(sj_listener *l);

void *sj_listener_data(const sj_listener *l);

/* Calls fn(conn, arg) for every established link (sj_conn_established()),
 * newest first.  fn may close the link it is given, but no other. */
void sj_listener_each(sj_listener *l, void (*fn)(sj_conn *conn, void *arg), void *arg);

/* sj_conn_recheck_peer() on every established link at now (Unix seconds).
 * on_cut (may be NULL) is called for each link it closes, with the reason
 * for the log, before that link's on_close.  Returns how many it closed.
 * Cheap when nothing expired and the CRL did not change (tls.h). */
size_t sj_listener_recheck_peers(sj_listener *l, int64_t now,
                                 void (*on_cut)(sj_conn *conn, const sj_error *why, void *arg),
                                 void *arg);

/* The listener that accepted conn (conn must be one of its links: call it
 * from the link callbacks).  sj_conn_owner() of such a link is the
 * listener's private record for it, not the listener. */
sj_listener *sj_listener_of(const sj_conn *conn);

#endif
