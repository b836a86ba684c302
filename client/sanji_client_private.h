/*
 * sanji_client_private.h - what the files of the client library share and
 * nothing outside it sees: the client's state (struct sc_client) and the
 * functions one job's file offers the others.  Callers use sanji_client.h
 * only.
 *
 * The jobs, one a file, each with its own prefix:
 *   sanji_client.c  sc_client_   life cycle, events to the caller
 *   sc_link.c       sc_link_     the link: Hello, Welcome, status, dispatch
 *   sc_send.c       sc_send_     outbox upward: pack, send in order, acks
 *   sc_feed.c       sc_feed_     feed downward into the store
 *   sc_queries.c    sc_queries_  questions to the county and their answers
 *   sc_refdata.c    sc_ref_      catalogue, org tree, persons, duty roster
 *   sc_login.c      sc_login_    log-in, log-out, the actor
 *   sc_password.c   sc_password_ a person's own password change
 *   sc_actions.c, sc_attach.c, sc_reads.c, sc_labels.c: public sc_* only
 */
#ifndef SANJI_CLIENT_PRIVATE_H
#define SANJI_CLIENT_PRIVATE_H

#include "sanji_client.h"

#include "case.h"
#include "dialer.h"
#include "frame.h"
#include "identity.h"
#include "login_report.h"
#include "tls.h"

#define MOD "client"
#define MAX_FRAME (1u << 20)

/* A question sent to the county, waiting for its answer. */
typedef struct pending_query {
    struct pending_query *next;
    uint8_t id[16];
    sc_query_cb cb;
    sc_admin_cb admin_cb; /* an AdminRequest, answered by an Ack (sc_admin()) */
    void *data;
} pending_query;

struct sc_client {
    uv_loop_t *loop;
    sc_event_cb cb;
    void *data;
    sc_store *st;
    sj_tls_ctx *tls;
    sj_dialer *dialer;
    sj_identity node;
    char **addresses;
    size_t n_addresses;
    char *expected_peer;
    uint64_t backoff_base_ms, backoff_cap_ms;

    sj_conn *conn;            /* the link, once up */
    bool welcomed;
    bool caught_up;
    bool gap_requested;
    bool feed_deltas;         /* the Hello asks for FeedUpdate.delta (link.feed_deltas) */
    uint64_t deltas_applied;  /* feed updates taken as deltas */
    /* A delta this store could not take: the feed is asked for again, and
     * caught_up counts only once the cursor is past it (sc_feed.c). */
    char refetch_village[16];
    uint64_t refetch_seq;
    bool upstream_online;
    int64_t upstream_last_ms;
    char peer_node[SJ_IDENTITY_NODE_ID_MAX];
    int last_error;
    char last_error_text[SJ_ERROR_MESSAGE_MAX];
    int lasting_refusal;      /* a refusal only a person can fix (sj_err_is_lasting), 0: none */
    int64_t network_time_ms;  /* the peer's clock at the last Welcome (kept in the store) */
    int64_t clock_offset_ms;  /* the peer's clock minus ours then; valid while welcomed */
    int64_t sent_upto;        /* outbox seq sent on this link (case messages) */
    int64_t chunk_upto;       /* outbox seq sent on this link (attachment chunks) */
    uint64_t attach_max_file, attach_max_case;
    unsigned attach_in_flight;

    Sanji__CatalogueSync *catalogue;
    Sanji__OrgTreeSync *org_tree;
    Sanji__PersonSync *persons;
    Sanji__DutySync *duty;          /* 值班表, this node's scope */
    uint64_t catalogue_version, org_tree_version, person_version;
    char person_id[128];      /* "" when nobody is logged in */

    uv_timer_t heartbeat;
    bool started;
    bool stopping;
    unsigned busy;            /* handles and works that must finish before on_stopped */
    uint64_t heartbeat_seq;
    pending_query *queries;
    void (*on_stopped)(sc_client *c, void *data);
};

/* A protobuf string that may be NULL, as text. */
static inline const char *nz(const char *s)
{
    return s ? s : "";
}

/* ---- sanji_client.c ---- */
/* Hands ev to the caller's event callback. */
void sc_client_emit(sc_client *c, sc_event *ev);
/* Calls on_stopped once stopping and nothing is busy any more. */
void sc_client_maybe_stopped(sc_client *c);
/* An integer kept in the store's meta, 0 when there is none. */
int64_t sc_client_meta_i64(sc_client *c, const char *key);

/* ---- sc_link.c ---- */
/* Starts dialing and the heartbeat (sc_client_start()). */
int sc_link_start(sc_client *c, sj_error *err);
/* Stops both; each ends with sc_client_maybe_stopped(). */
void sc_link_stop(sc_client *c);
/* Sends env on the link now, or SJ_ECLOSED with the words for a person. */
int sc_link_send_env(sc_client *c, Sanji__Envelope *env, uint8_t id_out[16], sj_error *err);
/* This node's status upward (heartbeat, login, logout). */
void sc_link_send_status(sc_client *c);
/* True for a desk that searches at the county and holds few cases. */
bool sc_link_live_only(const sc_client *c);

/* ---- sc_send.c ---- */
/* Packs env (its id set, this node as sender) as one frame: *frame is
 * malloc'd, and the header-less payload the outbox keeps is
 * *frame + SJ_FRAME_HEADER_SIZE, *len bytes. */
int sc_send_pack(sc_client *c, Sanji__Envelope *env, uint8_t **frame, size_t *len, sj_error *err);
/* Sends what the outbox holds and this link has not sent yet. */
void sc_send_flush(sc_client *c);
/* An Ack for an outbox row (or an administration request). */
void sc_send_on_ack(sc_client *c, const Sanji__Ack *a);

/* ---- sc_feed.c ---- */
/* The store's feed cursors as a Hello or a FeedRequest carries them: *out
 * is one malloc'd block (free() it), NULL with *n 0 on failure. */
int sc_feed_cursors(sc_client *c, Sanji__FeedCursor ***out, size_t *n, sj_error *err);
void sc_feed_on_update(sc_client *c, const Sanji__FeedUpdate *u);
/* Stores cs (and ev) if this desk holds the case already, or always. */
int sc_feed_keep_if_held(sc_client *c, const Sanji__Case *cs, const Sanji__CaseEvent *ev,
                         bool always, sj_error *err);

/* ---- sc_queries.c ---- */
/* True when a answered an administration request (which is then done). */
bool sc_queries_admin_answered(sc_client *c, const Sanji__Ack *a);
void sc_queries_on_result(sc_client *c, const Sanji__QueryResult *r);
/* Every open question fails with status. */
void sc_queries_fail(sc_client *c, int status);

/* ---- sc_refdata.c ---- */
/* Loads the cached reference data of kind from the store. */
void sc_ref_load(sc_client *c, const char *kind);
/* New reference data from the link: stored, loaded, announced. */
void sc_ref_on_sync(sc_client *c, const char *kind, uint64_t version, const ProtobufCMessage *m);
sj_person_role sc_ref_role_for_node(sj_node_role r);
const Sanji__Person *sc_ref_person_by_id(const sc_client *c, const char *id);
bool sc_ref_person_of_node(const sc_client *c, const Sanji__Person *p);
bool sc_ref_person_fits(const sc_client *c, const Sanji__Person *p);
void sc_ref_case_view(const sc_client *c, const Sanji__Case *p, sj_case *o);

/* ---- sc_login.c ---- */
/* The logged-in person as the case rules' actor (and the person). */
int sc_login_actor(sc_client *c, sj_actor *a, const Sanji__Person **pp, sj_error *err);
/* Wrong passwords not yet reported upward, "" when none. */
void sc_login_report_read(sc_client *c, char text[SJ_LOGIN_REPORT_SIZE]);
/* They were handed to the link. */
int sc_login_report_clear(sc_client *c, sj_error *err);
/* The time of the last login here (ms), 0 when none. */
int64_t sc_login_last_ms(sc_client *c);

/* ---- sc_password.c ---- */
/* The verifier of a change made here and not yet in the person list. */
bool sc_password_verifier(sc_client *c, const char *person, char *buf, size_t cap);
/* After a new person list. */
void sc_password_settle(sc_client *c);
/* A refused outbox row that was a password change. */
void sc_password_drop_for(sc_client *c, const sc_outbox_entry *e);

#endif
