/*
 * tls_pair.h - test helper: two TLS engines (common/net/tls.h) of this process
 * talking through memory, bytes moved between sj_tls_take() and
 * sj_tls_feed() as a TCP connection would carry them.  Shared by the TLS
 * tests (test_tls, test_tls_mem, test_tls_interop).
 *
 * No test framework here: failures come back as values for the test to
 * assert on.
 *
 * Entry points: sj_test_tls_transfer(), sj_test_tls_handshake(),
 * sj_test_tls_pair(), sj_test_tls_station_ctxs().
 */
#ifndef SJ_TEST_TLS_PAIR_H
#define SJ_TEST_TLS_PAIR_H

#include <stddef.h>

#include "certs.h"
#include "err.h"
#include "tls.h"

/* Moves everything `from` has to send into `to` in one feed (as one TCP
 * read would bring it).  Returns 0 with *moved set (0 when nothing
 * waited), or SJ_ENOMEM / the failure of sj_tls_take() or sj_tls_feed(). */
int sj_test_tls_transfer(sj_tls *from, sj_tls *to, size_t *moved);

/* What each side's sj_tls_handshake() last returned, and its error. */
typedef struct sj_test_tls_outcome {
    int client_rc, server_rc;
    sj_error client_err, server_err;
} sj_test_tls_outcome;

/* Runs both handshakes, moving the bytes between them, until both have
 * ended or a round moves nothing (at most 20 rounds).  A side that never
 * ended reports SJ_EAGAIN; a transfer that failed ends the run with its
 * code as the server's. */
void sj_test_tls_handshake(sj_tls *client, sj_tls *server, sj_test_tls_outcome *o);

/* A client engine of client_ctx and a server engine of server_ctx with
 * their handshake done.  Returns 0 with both set (free each with
 * sj_tls_free()), or the first side's failure with *o saying what each
 * side reported and both NULL. */
int sj_test_tls_pair(sj_tls_ctx *client_ctx, sj_tls_ctx *server_ctx, sj_tls **client,
                     sj_tls **server, sj_test_tls_outcome *o);

/* The two ends of a station's link, CRL on: a relay's listener for village
 * stations (certificate "relay") and a village's uplink that accepts only
 * relays (certificate "village").  Returns 0 with both set (free each with
 * sj_tls_ctx_free()), or the failure with err and both NULL. */
int sj_test_tls_station_ctxs(const sj_test_certs *certs, sj_tls_ctx **relay_side,
                             sj_tls_ctx **village_side, sj_error *err);

#endif
