/*
 * relay.h - the township relay daemon's core: one object that owns the
 * store, the TLS contexts, the county link (upstream.h) and the station and
 * desk links (downstream.h), that groups the store's commits per loop
 * turn, and that alone links the two sides (neither includes the other's
 * header: relay.c hands each an events struct at its start).
 *
 * Commit rule (PROTOCOL.md "Relay" 2): every store write of one loop turn
 * joins one SQLite transaction; a uv_check handle commits it after the
 * turn's I/O callbacks (under load at most one commit a millisecond: the
 * turns within it share the commit), and only then are the acks and results that depend
 * on it sent (relay_downstream_after_commit()) and newly queued messages
 * forwarded (relay_upstream_after_commit()).  When the commit fails nothing that
 * depended on it is acknowledged: the affected links are closed, and their
 * stations resend.
 *
 * Ownership: the caller owns the relay struct (usually in main()) and the
 * config, which must outlive it.  relay_start() opens everything;
 * relay_stop() closes the links and calls on_stopped once every handle is
 * closed; then relay_free() releases the rest.
 *
 * Live links follow the PKI (docs/PKI.md): the CRL in force is the newest
 * of tls.crl (re-read on SIGHUP and every tls.crl_reload) and what the
 * county sent over the link (kept next to the store as <store.path>.crl, DER);
 * after each change, and at every tick for certificates that expire, the
 * links whose peer is no longer valid are cut.  The live links are listed
 * on a local socket for `sanji-relayctl links` (linkctl.h).
 *
 * Entry points: relay_start(), relay_stop(), relay_free(), relay_reload_crl(),
 * and those of relay_core.h (the state and services the two sides share).
 */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "err.h"
#include "relay_core.h"

/* Opens the store, the TLS contexts, starts listening and dialling.
 * Returns 0, or a code with err saying what to fix (nothing is left open). */
int relay_start(relay *r, uv_loop_t *loop, const relay_config *cfg, sj_error *err);

/* Commits what is pending, closes every link and handle; on_stopped (may be
 * NULL) runs once all are closed.  Calling it twice does nothing. */
void relay_stop(relay *r, void (*on_stopped)(relay *r));

/* Frees what relay_start() opened, after on_stopped. */
void relay_free(relay *r);

/* Re-reads tls.crl (trigger says why, for the log: "SIGHUP", ...), puts it
 * in force if it is newer than the CRL in force, and cuts the links it
 * revokes.  Problems are logged; the CRL in force stays. */
void relay_reload_crl(relay *r, const char *trigger);

#endif
