/*
 * downstream.h - the relay's side of the station and desk links: the
 * listener, one session per verified peer, the session start of
 * PROTOCOL.md (Hello, Welcome, reference data, feed, caught_up), the scope
 * checks of every upward message before it is stored, acks after the
 * grouped commit, results delivered now or after the next Hello (marked
 * delivered in the store only when the link wrote them), live feed
 * updates, queries (query.h) and heartbeats.
 *
 * Who may connect: village stations of a village of the relay's township
 * (and, when the relay holds an org tree, a village that is in it) and
 * township desks of the township.  Others are closed with Goodbye(SJ_ESCOPE)
 * right after the handshake; certificates of another CA or role never get
 * that far (tls.h).
 *
 * Backpressure: a link's high-water mark is link.write_buffer (low water a
 * quarter of it).  A session makes output only while its link is not
 * blocked (conn.h): feed updates and stored results are read from the store
 * one at a time, and queries are kept as received (at most 256 waiting per
 * session; more are answered SJ_EBUSY) and answered one at a time, as the
 * link drains (on_drain resumes where it stopped: the feed
 * from the session's cursor, so nothing is skipped or sent twice).  A
 * blocked link stops reading, so a peer that does not read costs at most
 * link.write_buffer plus one frame, the acks and questions of its last read,
 * and is closed after link.idle_timeout with a "peer not reading" warning;
 * it resumes from its cursor when it reconnects.  relay_downstream_tick()
 * writes the links' buffered bytes to the store for sanji-relayctl.
 *
 * The side is split by job (downstream_private.h lists the files).  It knows
 * nothing of the county link (upstream.h): what it needs of it comes
 * through relay_downstream_events, given by relay.c.
 *
 * Ownership: relay_downstream_start() allocates; relay_downstream_close()
 * closes the listener and every session, calling done once all are gone;
 * relay_downstream_free() frees after that.
 *
 * Entry points: relay_downstream_start(), relay_downstream_port(),
 * relay_downstream_listener(), relay_downstream_after_commit(), relay_downstream_commit_failed(),
 * relay_downstream_result_ready(), relay_downstream_feed_changed(),
 * relay_downstream_upstream_changed(), relay_downstream_tick(),
 * relay_downstream_query_result(),
 * relay_downstream_close(), relay_downstream_free().
 */
#ifndef RELAY_DOWNSTREAM_H
#define RELAY_DOWNSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "listener.h"
#include "relay_core.h"
#include "sanji.pb-c.h"

/* What the side needs of the county link, given by relay.c (the only
 * go-between of the two sides); arg is passed back to each. */
typedef struct relay_downstream_events {
    void *arg;
    /* A message was queued: forwarded after the turn's commit. */
    void (*queued)(void *arg);
    /* A station's or desk's question for the county, sent unchanged.
     * Returns 0, SJ_EUPSTREAM_DOWN when the county link is not up, or
     * SJ_EBACKPRESSURE (blocked, nothing sent) and other send codes. */
    int (*forward)(void *arg, const uint8_t *payload, size_t len, sj_error *err);
} relay_downstream_events;

/* Listens for stations and desks; ev (copied) reaches the county link. */
int relay_downstream_start(relay *r, const relay_downstream_events *ev, relay_downstream **out,
                           sj_error *err);

/* The bound listening port. */
int relay_downstream_port(const relay_downstream *d);

/* The stations' and desks' listener, for judging every peer again when
 * the PKI changes and for listings (relay.c). */
sj_listener *relay_downstream_listener(relay_downstream *d);

/* The turn's commit succeeded: send the acks waiting for it, and push
 * results and feed updates to the sessions that have new ones. */
void relay_downstream_after_commit(relay_downstream *d);

/* The turn's commit failed: nothing waiting for it may be acknowledged;
 * the sessions that wait are closed (their stations resend). */
void relay_downstream_commit_failed(relay_downstream *d, const sj_error *why);

/* The county's result for message id from origin_node was stored in this
 * turn (ack: the packed Ack, len bytes, as the county sent it): delivered
 * after the commit if that node is connected, else after its next Hello. */
void relay_downstream_result_ready(relay_downstream *d, const char *origin_node,
                                   const uint8_t id[16], const uint8_t *ack, size_t len);

/* New feed updates of village were stored. */
void relay_downstream_feed_changed(relay_downstream *d, const char *village);

/* The county link went up or down (relay->upstream_online): every open
 * session is told at once with a Heartbeat carrying the relay's status. */
void relay_downstream_upstream_changed(relay_downstream *d);

/* Periodic: heartbeats (with the county link's state) to every session,
 * stations' last-seen to the store. */
void relay_downstream_tick(relay_downstream *d);

/* The county answered a question a station or desk asked through this
 * relay (period statistics, forwarded): hands it to the asker, if it is
 * still linked; answers nobody else asked for are dropped. */
void relay_downstream_query_result(relay_downstream *d, Sanji__QueryResult *res);

void relay_downstream_close(relay_downstream *d, void (*done)(relay *r));
void relay_downstream_free(relay_downstream *d);

#endif
