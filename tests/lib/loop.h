/*
 * loop.h - test helper: a test that plays a tier itself on a libuv loop
 * (a county listener, stations dialling a relay) runs the loop until a
 * condition holds, dials 127.0.0.1 with an sj_conn, and closes what is
 * left on the loop at the end.
 *
 * Ownership: the caller owns the loop, the connections and the listener;
 * sj_test_loop_connect() owns its connect request until the callback
 * frees it.  The helpers are for the loop's own thread.
 *
 * Errors: sj_test_loop_connect() returns 0 or a negative SJ_E* code.
 *
 * Entry points: sj_test_loop_init(), sj_test_loop_run_until(),
 * sj_test_loop_connect(), sj_test_loop_close_listener(), sj_test_loop_close().
 */
#ifndef SJ_TEST_LOOP_H
#define SJ_TEST_LOOP_H

#include <stdbool.h>

#include <uv.h>

#include "conn.h"
#include "err.h"
#include "listener.h"

/* Initialises loop and starts pulse on it, calling on_pulse every
 * every_ms: the timer keeps sj_test_loop_run_until() from blocking for
 * ever when nothing else happens.  Returns 0, or SJ_EINTERNAL (libuv's
 * reason on stderr). */
int sj_test_loop_init(uv_loop_t *loop, uv_timer_t *pulse, uv_timer_cb on_pulse, int every_ms);

/* Runs loop (one event at a time) until pred(arg) holds or ms pass; returns
 * pred(arg).  The loop needs a timer (sj_test_loop_init()) so that one
 * event always comes. */
bool sj_test_loop_run_until(uv_loop_t *loop, bool (*pred)(void *), void *arg, int ms);

/* Dials 127.0.0.1:port on sj_conn_tcp(c) of a new, idle connection; when
 * the TCP connection is made the conn is started (TLS handshake, then
 * on_ready), and when it fails the conn is closed with SJ_ECONNECT (its
 * on_close runs).  Returns 0, or SJ_ENOMEM / SJ_ECONNECT (libuv's reason in
 * err, may be NULL) when the attempt could not begin; c is then untouched. */
int sj_test_loop_connect(sj_conn *c, int port, sj_error *err);

/* Closes *l (if any) and frees it once closed; sets *l to NULL.  The loop
 * must run a little afterwards for the close to finish. */
void sj_test_loop_close_listener(sj_listener **l);

/* Closes every handle still on the loop, runs it until they are closed,
 * and closes the loop.  Returns uv_loop_close()'s result (0: nothing was
 * left). */
int sj_test_loop_close(uv_loop_t *loop);

#endif
