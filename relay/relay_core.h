/*
 * relay_core.h - the relay's shared state, and what its two sides (the
 * county link, upstream.h, and the station and desk links, downstream.h)
 * may ask of it: a commit at the end of this loop turn, and a CRL the county
 * sent put in force.  The sides include this, not relay.h, so that the
 * daemon's core (relay.c), which starts both sides and links them, and the
 * sides do not depend on each other; relay.c implements it.
 *
 * Entry points: relay_request_commit(), relay_crl_received().
 */
#ifndef RELAY_RELAY_CORE_H
#define RELAY_RELAY_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "identity.h"
#include "linkctl.h"
#include "relay_config.h"
#include "store.h"
#include "tls.h"

typedef struct relay_upstream relay_upstream;
typedef struct relay_downstream relay_downstream;

typedef struct relay {
    uv_loop_t *loop;
    const relay_config *cfg;
    relay_store *store;
    sj_tls_ctx *server_tls;      /* stations and desks */
    sj_tls_ctx *client_tls;      /* the county link */
    sj_identity self;            /* from our certificate: relay:<township> */
    char township[13];
    relay_upstream *up;
    relay_downstream *down;
    uv_check_t commit_check;
    uv_idle_t wake;              /* keeps the loop from blocking before a commit */
    bool wake_requested;         /* a turn was asked for since the last commit check */
    uv_timer_t commit_timer;     /* ends a commit put off under load (relay.c) */
    uint64_t last_commit_ms;     /* uv_now() of the last commit */
    uv_timer_t tick;             /* heartbeats, status, result expiry */
    uint64_t ticks;
    bool upstream_online;
    int64_t upstream_last_contact_ms;
    int64_t started_at_ms;
    uv_timer_t crl_timer;        /* tls.crl_reload */
    sj_linkctl *linkctl;         /* `sanji-relayctl links`; NULL if it could not start */
    bool stopping;
    int open_parts;              /* handles and links still closing */
    void (*on_stopped)(struct relay *r);
} relay;

/* Makes sure the commit handle runs at the end of this loop turn even if
 * the loop would otherwise block (a write was made outside an I/O
 * callback). */
void relay_request_commit(relay *r);

/* A CRL came from the county (CrlUpdate, len bytes of DER): if the county
 * CA signed it and it is newer than the CRL in force, it is kept next to
 * the store (written atomically) and put in force, and the links it
 * revokes are cut.  Anything else is logged and ignored. */
void relay_crl_received(relay *r, const uint8_t *crl, size_t len);

#endif
