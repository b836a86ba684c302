/*
 * upstream.h - the relay's one persistent link to the county: dialled with
 * sj_dialer (several addresses, backoff with jitter), Hello with the
 * relay's feed cursors and reference-data versions, forwarding of the
 * queue with up to `upstream.window` messages in flight (case messages
 * first in queue order, attachment chunks in queue order within
 * `upstream.chunk_window`), the
 * county's acks (result stored, message deleted, result handed to the
 * sender's session), the downward feed and reference data into the store,
 * and heartbeats carrying the relay's NodeStatus.
 *
 * After every (re)connect the whole queue is sent again from its start:
 * what the county applied before the link broke is answered from its dedup
 * table (G2), so nothing is lost and nothing is applied twice.
 *
 * The link knows nothing of the station and desk side (downstream.h):
 * what it has for it goes through relay_upstream_events, given by relay.c.
 *
 * Ownership: relay_upstream_start() allocates and starts dialling;
 * relay_upstream_stop() closes the link and calls done once the dialer has
 * stopped; relay_upstream_free() frees after that.
 *
 * Entry points: relay_upstream_start(), relay_upstream_queued(),
 * relay_upstream_after_commit(),
 * relay_upstream_tick(), relay_upstream_conn(), relay_upstream_forward(),
 * relay_upstream_stop(),
 * relay_upstream_free().
 */
#ifndef RELAY_UPSTREAM_H
#define RELAY_UPSTREAM_H

#include <stdbool.h>

#include "err.h"
#include "relay_core.h"
#include "sanji.pb-c.h"

/* What the county link tells the station and desk side, through relay.c
 * (the only go-between of the two sides); arg is passed back to each. */
typedef struct relay_upstream_events {
    void *arg;
    /* The link went up (the county's Welcome came) or down. */
    void (*state_changed)(void *arg, bool online);
    /* The county's result for message id from origin_node was stored in
     * this turn; ack (len bytes) is the packed Ack as the county sent it. */
    void (*result_ready)(void *arg, const char *origin_node, const uint8_t id[16],
                         const uint8_t *ack, size_t len);
    /* New feed updates of village were stored. */
    void (*feed_changed)(void *arg, const char *village);
    /* The county answered a question forwarded for a station or desk. */
    void (*query_result)(void *arg, Sanji__QueryResult *res);
} relay_upstream_events;

/* Starts dialling the county; ev (copied) reaches the station and desk
 * side. */
int relay_upstream_start(relay *r, const relay_upstream_events *ev, relay_upstream **out,
                         sj_error *err);

/* A new message was queued (forwarded after the turn's commit). */
void relay_upstream_queued(relay_upstream *u);

/* After the turn's commit: forwards queued messages while the window and
 * the link allow. */
void relay_upstream_after_commit(relay_upstream *u);

/* Periodic: heartbeat, with the relay's NodeStatus every second time. */
void relay_upstream_tick(relay_upstream *u);

/* The county link while it is up (NULL otherwise), for judging the
 * county's certificate again and for listings (relay.c). */
sj_conn *relay_upstream_conn(const relay_upstream *u);

/* Sends a station's or desk's question to the county unchanged (the
 * county answers it for the sender_node it names).  Returns 0, or
 * SJ_EUPSTREAM_DOWN when the county link is not up, or sj_conn_send_payload()'s
 * codes (SJ_EBACKPRESSURE: blocked, nothing sent). */
int relay_upstream_forward(relay_upstream *u, const uint8_t *payload, size_t len, sj_error *err);

void relay_upstream_stop(relay_upstream *u, void (*done)(relay *r));
void relay_upstream_free(relay_upstream *u);

#endif
