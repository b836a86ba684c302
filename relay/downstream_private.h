/*
 * downstream_private.h - what the parts of the relay's station and desk side
 * share: the session of one verified peer and the functions each part
 * offers the others.  The side is split by job:
 *
 *   downstream.c   listener, sessions (start, dispatch, end), the side's
 *                  entry points (downstream.h)
 *   down_out.c     a session's output: frames waiting for the turn's
 *                  commit, frames ready to send, results in flight
 *   down_intake.c  upward admission: scope and case-rule checks, then the
 *                  queue, and the ack or refusal
 *   down_serve.c   session start (Hello, Welcome), reference data cut to
 *                  the peer's scope, stored results and the feed, pumped
 *                  as the link drains
 *   down_query.c   queries: answered from the cache one at a time, or
 *                  forwarded to the county and matched with its answer
 *   down_delta.c   feed updates as what changed, for stations that ask
 *
 * Only these files include it; relay.c speaks to the side through
 * downstream.h, and the side speaks to the county link only through the
 * events relay.c gave it (relay_downstream_events).
 */
#ifndef RELAY_DOWNSTREAM_PRIVATE_H
#define RELAY_DOWNSTREAM_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "downstream.h"
#include "envelope.h"
#include "identity.h"

#define DOWN_MOD "relay.down"

/* Why a link is closed when the relay's store fails: the station keeps its
 * messages and resends them. */
#define RELAY_STORE_FAILED                                                                     \
    N_("The township relay cannot store messages now; they stay in this computer's outbox "   \
       "and go again later.")

/* Queries one session may have waiting, and questions forwarded to the
 * county one session may have unanswered.  A peer that reads its answers
 * but asks faster than they are made would otherwise grow the list without
 * end (its link never blocks, so reading never stops); past this many it
 * is answered SJ_EBUSY at once.  Clients wait for their answers and have a
 * few in flight at most. */
#define QUERY_WAIT_MAX 256

typedef struct out_frame {
    struct out_frame *next;
    bool is_result;         /* a stored result: result_id is its message id */
    uint8_t result_id[16];
    size_t len;      /* frame length, header included */
    uint8_t frame[]; /* 4-byte header + Envelope */
} out_frame;

/* A stored result on its way to the station.  It is marked delivered only
 * when the link has written it (sj_conn_written() reached mark); a link
 * that closes first leaves it undelivered, sent again after the next
 * Hello. */
typedef struct inflight {
    uint8_t id[16];
    bool sent;     /* handed to the link; mark is valid */
    uint64_t mark; /* sj_conn_send_mark() right after the send */
} inflight;

/* A query as received, answered only when the link has room for the
 * answer: what a peer that does not read costs is its questions (which
 * stop arriving once the link is blocked, as reading stops), not the
 * answers. */
typedef struct pending_query {
    struct pending_query *next;
    size_t len;
    uint8_t payload[];
} pending_query;

/* A question only the county answers (period statistics), passed on to it
 * and waiting for its QueryResult, matched by the question's message id. */
typedef struct forwarded_query {
    struct forwarded_query *next;
    uint8_t id[SJ_ENVELOPE_ID_SIZE];
    int64_t deadline_ms;
} forwarded_query;

typedef struct feed_pos {
    char village[RELAY_UNIT_SIZE];
    uint64_t sent; /* last seq sent to this peer */
    uint64_t full_until;        /* rows up to this one go whole (down_delta.c) */
    struct delta_bases *bases;  /* the cases' last snapshots, for deltas */
} feed_pos;

#define SESSION_MAGIC 0x5e55u
#define DOWN_NODE_BUCKETS 256
#define DOWN_MAGIC 0xd0a1u

/* A link's data is the relay_downstream (the listener's data) until a
 * session is made for it; both start with a magic number to tell them
 * apart in on_close. */
typedef struct session {
    unsigned magic;
    struct session *next, *prev;
    struct session *node_next; /* the next session in its by_node bucket */
    relay_downstream *d;
    sj_conn *conn;
    sj_identity peer;
    char scope[RELAY_UNIT_SIZE]; /* its village, or the township for a desk */
    bool hello_done;
    bool closing;
    bool feed_dirty;
    bool results_dirty;
    bool need_caught_up;
    bool feed_deltas; /* a station that takes FeedUpdate.delta */
    feed_pos *feeds;
    size_t n_feeds, cap_feeds;
    out_frame *wait_head, *wait_tail; /* waiting for the turn's commit */
    out_frame *out_head, *out_tail;   /* ready to send, oldest first */
    pending_query *q_head, *q_tail;   /* queries not yet answered, oldest first */
    size_t n_queries;
    forwarded_query *fwd;             /* questions passed on to the county, unanswered */
    size_t n_fwd;
    inflight *inflight;               /* results queued or written, not yet marked */
    size_t n_inflight, cap_inflight;
    int64_t last_seen_ms;
    uint32_t outbox_depth;
    bool presence_known;       /* logged_in/last_login_ms below are stored */
    uint32_t logged_in;        /* presence as the station last reported it */
    int64_t last_login_ms;
    int64_t cert_not_after_ms; /* the peer certificate's, read at Hello */
    uint64_t hb_seq;
} session;

struct relay_downstream {
    unsigned magic;
    relay *r;
    relay_downstream_events ev; /* the county link, through relay.c */
    sj_listener *listener;
    session *sessions;
    /* Sessions by node id, so that a county result finds its station's
     * session without comparing every session's node id. */
    session *by_node[DOWN_NODE_BUCKETS];
    void (*done)(relay *r);
};

/* ---- downstream.c: sessions --------------------------------------------- */

/* Whether village is a village within the session's scope. */
bool down_session_in_scope(const session *s, const char *village);

/* Records the peer's row of the network view (linked or not, last seen,
 * outbox, certificate expiry). */
void down_session_put_station(session *s, bool connected);

/* Closes the session's link with code and reason (the session ends in
 * on_close). */
void down_session_close(session *s, int code, const char *reason);

/* ---- down_out.c: output ------------------------------------------------- */

/* env packed as a frame, or NULL (logged) when it cannot be. */
out_frame *down_out_pack(relay *r, const Sanji__Envelope *env);
/* An empty out_frame with room for a frame of cap bytes (len 0, to be
 * packed into), or NULL when memory is out. */
out_frame *down_out_alloc(size_t cap);
/* Appends f (NULL: nothing) to a list. */
void down_out_push(out_frame **head, out_frame **tail, out_frame *f);
void down_out_free_list(out_frame *f);
/* Sends what is ready; false while the link is blocked or closing, so
 * that callers make nothing more for it until on_drain. */
bool down_out_flush(session *s);
/* Packs env and sends it now, behind what is ready. */
void down_out_send_now(session *s, const Sanji__Envelope *env);
/* An Ack that waits for the turn's commit. */
void down_out_queue_ack(session *s, const ProtobufCBinaryData *message_id,
                        Sanji__AckStatus status, int code, const char *reason,
                        const ProtobufCBinaryData *case_id);
/* A stored final result (packed Ack) as an Envelope frame. */
out_frame *down_out_result_frame(relay *r, const uint8_t *ack_pb, size_t len);
/* Queues the stored result id (packed Ack) for the session, tracked until
 * the link has written it: after the turn's commit (after_commit: the
 * result was stored in this turn) or now.  0 (also when it is already on
 * its way), or SJ_ENOMEM (it stays undelivered in the store). */
int down_out_result(session *s, const uint8_t id[16], const uint8_t *ack_pb, size_t len,
                    bool after_commit);
inflight *down_out_inflight_find(session *s, const uint8_t id[16]);
void down_out_inflight_drop(session *s, inflight *e);

/* ---- down_intake.c: upward admission ------------------------------------ */

/* A CaseSubmit, CaseAction, PasswordChange or AttachmentChunk: checked,
 * queued (or answered from a kept result), acknowledged after the commit. */
void down_intake_upward(session *s, const Sanji__Envelope *env, const uint8_t *payload,
                        size_t len);

/* ---- down_serve.c: session start, reference data, results, feed --------- */

void down_serve_hello(session *s, const Sanji__Envelope *env);
void down_serve_feed_request(session *s, const Sanji__FeedRequest *fr);
/* Follows village's feed from after (already followed: unchanged); NULL
 * when village is out of scope or memory is out. */
feed_pos *down_serve_add_feed(session *s, const char *village, uint64_t after);
/* Whether unit is in the org tree the relay holds (*have_tree: one is held). */
bool down_serve_unit_in_org_tree(relay *r, const char *unit, bool *have_tree);
/* Sends results, query answers and feed updates while the link takes
 * them.  Returns true when there is more to send in a later turn. */
bool down_serve_pump(session *s);
/* The link wrote bytes: marks delivered the results it has written. */
void down_serve_on_written(sj_conn *conn);

/* ---- down_delta.c: feed updates as what changed ------------------------- */

/* Turns u (the next row of f, masked for the peer) into a delta when s
 * takes them and the case's previous row is known, and keeps its snapshot
 * as the base of the next one. */
void down_delta_apply(session *s, feed_pos *f, Sanji__FeedUpdate *u);
/* Forgets f's kept snapshots (the session ends, or f moved). */
void down_delta_reset(feed_pos *f);

/* ---- down_query.c: queries ---------------------------------------------- */

void down_query_handle(session *s, const Sanji__Envelope *env, const uint8_t *payload,
                       size_t len);
/* Answers waiting queries, oldest first, while the link takes the answers.
 * Returns false when the link is blocked (or closing), true otherwise;
 * *more says the turn's budget ran out with queries left. */
bool down_query_answer_waiting(session *s, bool *more);
/* Answers every forwarded question of s with code, or only those past
 * their deadline (expired_only). */
void down_query_fail_forwarded(session *s, int code, const char *reason, bool expired_only);
/* Frees what the session's queries hold (at its end). */
void down_query_free(session *s);

#endif
