/*
 * dialer.h - a reconnecting client link: connects to one of several
 * upstream addresses in turn, runs a TLS client engine that expects a given
 * peer node, and after every failure or loss reconnects with exponential
 * backoff and full jitter, until stopped.
 *
 * Backoff: after the k-th consecutive failed attempt (k = 1, 2, ...) the
 * next attempt waits a uniformly random time in [0, min(cap, base * 2^k)]
 * ("full jitter": many villages that lost the same relay do not come back
 * in step).  A link on which the peer sent a message resets k, so the first
 * retry after a loss waits in [0, base]; reaching on_up is not enough, since
 * a TLS 1.3 server refuses the client's certificate only after the client's
 * handshake ended.  A link closed with a refusal that retrying cannot fix
 * (sj_err_is_lasting(): revoked, expired, untrusted, wrong role or out of
 * scope) waits lasting_backoff_ms instead, jittered in [half, all].  Each
 * attempt uses the next address of the list.
 *
 * The dialer owns its links: it frees each one after on_down.  The
 * application uses the sj_conn given to on_up to send, until on_down.
 *
 * Entry points: sj_dialer_new(), sj_dialer_start(), sj_dialer_stop(),
 * sj_dialer_free(), sj_dialer_conn(), sj_dialer_data(),
 * sj_dialer_attempts(), sj_dialer_options_default(), sj_dialer_backoff_ms().
 */
#ifndef SJ_DIALER_H
#define SJ_DIALER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "conn.h"
#include "err.h"
#include "tls.h"

typedef struct sj_dialer sj_dialer;

typedef struct sj_dialer_options {
    /* "IPv4:port" or "[IPv6]:port", numeric; tried in turn.  Copied. */
    const char *const *addresses;
    size_t n_addresses;
    /* The node the server must be, e.g. "county:410423000000"; NULL: any
     * node of an allowed role.  Copied. */
    const char *expected_peer_node;
    uint64_t backoff_base_ms;    /* default 500 */
    uint64_t backoff_cap_ms;     /* default 60000 */
    uint64_t lasting_backoff_ms; /* after a lasting refusal; default 600000, 0: as others */
    uint64_t connect_timeout_ms; /* TCP connect; default 10000 */
    sj_conn_options conn;        /* the links' options */
} sj_dialer_options;

/* Defaults as above, no addresses. */
sj_dialer_options sj_dialer_options_default(void);

typedef struct sj_dialer_callbacks {
    /* The link is up and the peer verified.  conn is valid until on_down. */
    void (*on_up)(sj_dialer *d, sj_conn *conn, const sj_identity *peer);
    void (*on_message)(sj_dialer *d, sj_conn *conn, const Sanji__Envelope *env,
                       const uint8_t *payload, size_t len);
    void (*on_drain)(sj_dialer *d, sj_conn *conn);
    /* An attempt failed or the link went down (status as in conn.h's close
     * status; SJ_ECONNECT when TCP could not connect; SJ_ECANCELLED after
     * sj_dialer_stop()).  retry_in_ms: when the next attempt starts
     * (UINT64_MAX when stopped). */
    void (*on_down)(sj_dialer *d, int status, const sj_error *why, uint64_t retry_in_ms);
    /* After sj_dialer_stop(): nothing is pending any more; free now. */
    void (*on_stopped)(sj_dialer *d);
} sj_dialer_callbacks;

/* Validates opts (at least one parseable address) and copies it.  ctx must
 * be a client context that outlives the dialer; cbs must outlive it too.
 * Returns NULL with err set (SJ_EINVAL names the bad address). */
sj_dialer *sj_dialer_new(uv_loop_t *loop, sj_tls_ctx *ctx, const sj_dialer_options *opts,
                         const sj_dialer_callbacks *cbs, void *data, sj_error *err);

/* Starts the first attempt at once.  Returns 0 (failures are reported
 * through on_down and retried), or SJ_EINVAL if already started. */
int sj_dialer_start(sj_dialer *d);

/* Closes the link (if any) with SJ_ECANCELLED, cancels retries, and calls
 * on_stopped when everything is closed.  Calling it twice does nothing. */
void sj_dialer_stop(sj_dialer *d);

/* Frees d: after on_stopped, or if it was never started.  Otherwise a
 * caller bug (abort).  NULL is ignored. */
void sj_dialer_free(sj_dialer *d);

/* The current link once on_up was called, else NULL. */
sj_conn *sj_dialer_conn(const sj_dialer *d);

void *sj_dialer_data(const sj_dialer *d);

/* Number of connection attempts so far. */
unsigned sj_dialer_attempts(const sj_dialer *d);

/* The backoff rule (exposed for tests): the upper bound of the wait after
 * `failures` consecutive failures, min(cap, base * 2^failures). */
uint64_t sj_dialer_backoff_ms(uint64_t base, uint64_t cap, unsigned failures);

#endif
