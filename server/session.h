/*
 * session.h - one peer of the county (a relay or a county desk) on one
 * TLS link: the conversation of docs/PROTOCOL.md from the county's side.
 *
 *   Hello (first, version 1 in range, else Goodbye PROTOCOL) -> on the query
 *   worker: reference versions, syncs that differ, villages in scope ->
 *   Welcome, CatalogueSync, OrgTreeSync, PersonSync, the feed of every
 *   village in scope after the peer's cursors in pages (feed.page_size),
 *   caught_up, then live updates.  FeedRequest re-sends from its cursors.
 *   CaseSubmit/CaseAction -> checked (from a relay: the original sender
 *   must be a station or township desk of the relay's township, G5) and
 *   queued for the apply worker; Acks come back after COMMIT.
 *   Query -> query worker -> QueryResult.  Heartbeat/NodeStatus -> the
 *   relay's latest status is kept.
 *
 * Feed delivery keeps, per village in scope, the last seq sent.  A live
 * update is sent only if it is exactly the next one and the link is not
 * blocked; otherwise the session marks itself behind and reads a page from
 * its cursors, so a slow or blocked peer costs one page of memory, and no
 * update is skipped or sent twice in a row.  Relays get applicants
 * unmasked (they are their villages' cache); county desks get them masked
 * unless the county holds the case.
 *
 * Ownership: sessions are made by the daemon for every verified link and
 * reference counted: a session lives until its link closed and no job or
 * queued message refers to it.
 *
 * Dependencies: a session gives its database work to the workers
 * (worker.h) and its upward messages to the batcher (batch.h) named in its
 * countyd_session_ctx; it knows nothing of the daemon, which makes the
 * context and wires the batcher's Acks back to countyd_session_ack().
 * The code is split by job (session_int.h): this file and session.c hold
 * the link, sending and the feed; session_start.c the Hello and the
 * reference data; session_upward.c the upward messages and their Acks;
 * session_query.c queries and administration; session_status.c relays'
 * statuses.
 *
 * Entry points: countyd_session_new(), countyd_session_message(),
 * countyd_session_drain(), countyd_session_closed(), countyd_session_ref(),
 * countyd_session_unref(), countyd_session_feed(), countyd_session_ack(),
 * countyd_session_tick(), countyd_session_feed_lost(), countyd_session_node(),
 * countyd_sessions_have_node().
 */
#ifndef COUNTYD_SESSION_H
#define COUNTYD_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "apply.h"
#include "batch.h"
#include "conn.h"
#include "server_config.h"
#include "worker.h"

typedef struct countyd_session countyd_session;

/* What the sessions work with, made and owned by the daemon; borrowed by
 * every session for its whole life. */
typedef struct countyd_session_ctx {
    const countyd_config *cfg;
    countyd_worker *query;          /* session start, feed pages, queries, administration */
    countyd_worker *apply;          /* relays' statuses */
    countyd_batcher *upward;        /* CaseSubmit, CaseAction, PasswordChange, AttachmentChunk */
    countyd_session *const *all;    /* the list of sessions (countyd_session_link()) */
} countyd_session_ctx;

/* A new session for a verified link (NULL if out of memory). */
countyd_session *countyd_session_new(const countyd_session_ctx *ctx, sj_conn *conn,
                                     const sj_identity *peer);

/* One message of the link (conn.h's on_message).  An upward message, a
 * query or an administration request is taken over from the link
 * (sj_conn_take_envelope()): env is then empty when this returns. */
void countyd_session_message(countyd_session *s, const Sanji__Envelope *env);
void countyd_session_drain(countyd_session *s);
/* The link is gone: the session drops it and its own reference. */
void countyd_session_closed(countyd_session *s);

countyd_session *countyd_session_ref(countyd_session *s);
void countyd_session_unref(countyd_session *s);

/* True while the link is up. */
bool countyd_session_live(const countyd_session *s);
/* Closes the session's link because its node opened more links than the
 * county keeps (logged; the peer is told SJ_EBUSY in its Goodbye). */
void countyd_session_replaced(countyd_session *s);
const char *countyd_session_node(const countyd_session *s);

/* Sends the Ack for a committed (or refused) message, if still connected. */
void countyd_session_ack(countyd_session *s, const uint8_t message_id[16],
                         const countyd_apply_result *r, Sanji__Case *current,
                         const countyd_peer *origin);

/* Offers one committed feed update (live push). */
void countyd_session_feed(countyd_session *s, Sanji__FeedUpdate *u);

/* Feed rows were committed but could not be read back: catch up later. */
void countyd_session_feed_lost(countyd_session *s);

/* Periodic: heartbeat when nothing was sent for the heartbeat interval. */
void countyd_session_tick(countyd_session *s, int64_t now_mono_ms);

/* Doubly linked list of the daemon's sessions. */
countyd_session *countyd_session_next(const countyd_session *s);
/* True when a live session of node is in the list from head. */
bool countyd_sessions_have_node(const countyd_session *head, const char *node);
void countyd_session_link(countyd_session **head, countyd_session *s);
void countyd_session_unlink(countyd_session **head, countyd_session *s);

#endif
