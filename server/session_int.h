/*
 * session_int.h - what the files of one county session share (session.h
 * is the module's face; this header is for session*.c only): the session
 * itself and the helpers each part of the conversation uses.
 *
 *   session.c          life, references, the list, sending, the feed,
 *                      heartbeats, dispatch of received messages
 *   session_start.c    Hello -> Welcome, reference sets, on the live link too
 *   session_upward.c   upward messages to the batcher, their Acks
 *   session_query.c    queries and administration on the query worker
 *   session_status.c   relays' statuses and the wrong passwords they report
 *
 * Entry points (internal): countyd_session_send(),
 * countyd_session_goodbye(), countyd_session_village(),
 * countyd_session_request_page(), countyd_session_job(),
 * countyd_session_origin(), countyd_session_on_hello(),
 * countyd_session_refs_check(), countyd_session_on_upward(),
 * countyd_session_on_query(), countyd_session_on_admin(),
 * countyd_session_on_status().
 */
#ifndef COUNTYD_SESSION_INT_H
#define COUNTYD_SESSION_INT_H

#include "feed.h"
#include "query.h"
#include "refdata.h"
#include "session.h"

#define MOD "countyd"
/* Queries of one session at the query workers at once; more are answered
 * SJ_EBUSY at once, as the relay does, so that one peer cannot fill the
 * workers' queue and the memory behind it.  A relay forwards the queries of
 * all its stations on one session, hence more than the relay's own per
 * station limit. */
#define QUERY_JOBS_MAX 512

typedef struct outframe {
    struct outframe *next;
    uint8_t *frame; /* 4-byte header + payload */
    size_t len;
} outframe;

struct countyd_session {
    countyd_session *next, *prev;
    const countyd_session_ctx *ctx;
    const countyd_config *cfg;
    sj_conn *conn; /* NULL once the link is gone */
    int refs;
    sj_identity peer;
    countyd_asker asker;
    char me[SJ_IDENTITY_NODE_ID_MAX];
    bool hello_seen, welcomed;
    countyd_feed_cursor *v; /* villages in scope, sorted; after = last seq sent */
    size_t n_v, cap_v;
    bool live, loading, dirty, want_caught_up;
    countyd_job *page;
    outframe *out_head, *out_tail;
    size_t n_out, out_bytes;
    size_t n_queries; /* query jobs given to the workers, not yet done */
    bool replaced;    /* closing: a newer link of its node took its place */
    int64_t last_send_ms, last_status_ms, last_failures_ms;
    bool failures_dropped; /* statuses with wrong passwords dropped since the last kept */
    uint64_t hb_seq;
    /* The reference versions the peer holds (sent at the Welcome or
     * since): a set changed by `sanji-countyd import` or an administration
     * command (admin.h) is sent on the live link, checked at most every
     * link.heartbeat (countyd_session_refs_check()). */
    countyd_ref_versions ref_sent;
    bool ref_busy;
    int64_t ref_checked_ms;
};

/* Sends env now, or queues it when the link is blocked: it is not lost
 * while the link lives. */
void countyd_session_send(countyd_session *s, const Sanji__Envelope *env);

/* Closes the link for a broken protocol.  reason: a msgid (N_()), logged
 * as it is and sent in the county's language. */
void countyd_session_goodbye(countyd_session *s, int code, const char *reason);

/* The cursor of a village in scope, or NULL. */
countyd_feed_cursor *countyd_session_village(countyd_session *s, const char *village);

/* Reads the next page of the feed from the cursors (query worker). */
void countyd_session_request_page(countyd_session *s);

/* A job for s (it holds a reference to s until freed), or NULL when
 * memory is short. */
countyd_job *countyd_session_job(countyd_session *s);

/* The node a relay forwarded for: a station or desk of its township.
 * Returns 0, SJ_ESCOPE or SJ_EWRONG_ROLE. */
int countyd_session_origin(const countyd_session *s, const char *sender, sj_identity *out);

/* session_start.c */
void countyd_session_on_hello(countyd_session *s, const Sanji__Hello *hello);
void countyd_session_refs_check(countyd_session *s, int64_t now);

/* session_upward.c */
void countyd_session_on_upward(countyd_session *s, const Sanji__Envelope *env);

/* session_query.c */
void countyd_session_on_query(countyd_session *s, const Sanji__Envelope *env);
void countyd_session_on_admin(countyd_session *s, const Sanji__Envelope *env);

/* session_status.c */
void countyd_session_on_status(countyd_session *s, const Sanji__NodeStatus *st);

#endif
