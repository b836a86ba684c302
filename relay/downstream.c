/*
 * downstream.c - the relay's station and desk links: listener, sessions,
 * scope checks, acks after commit, results, feed serving, queries.
 * See downstream.h.
 *
 * Entry points: the relay_downstream_* functions of downstream.h.
 */
#include "downstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "case.h"
#include "case_pb.h"
#include "clock.h"
#include "envelope.h"
#include "i18n.h"
#include "listener.h"
#include "log.h"
#include "orgunit.h"
#include "password.h"
#include "query.h"
#include "refusal.h"
#include "relay_metrics.h"
#include "status.h"
#include "upstream.h"

#define MOD "relay.down"
/* Why a link is closed when the relay's store fails: the station keeps its
 * messages and resends them. */
#define RELAY_STORE_FAILED                                                                     \
    N_("The township relay cannot store messages now; they stay in this computer's outbox "   \
       "and go again later.")
/* Feed updates one session may send per loop turn before yielding. */
#define FEED_BUDGET 256
/* Queries one session may have answered per loop turn before yielding:
 * a case list scans the village's cached cases (tens of ms for 4000), and the
 * other links wait meanwhile. */
#define QUERY_BUDGET 1
/* Queries one session may have waiting.  A peer that reads its answers
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

typedef struct feed_pos {
    char village[RELAY_UNIT_SIZE];
    uint64_t sent; /* last seq sent to this peer */
} feed_pos;

#define SESSION_MAGIC 0x5e55u
#define DOWN_MAGIC 0xd0a1u

/* A link's data is the relay_downstream (the listener's data) until a
 * session is made for it; both start with a magic number to tell them
 * apart in on_close. */
/* A question only the county answers (period statistics), passed on to it
 * and waiting for its QueryResult, matched by the question's message id. */
typedef struct forwarded_query {
    struct forwarded_query *next;
    uint8_t id[SJ_ENVELOPE_ID_SIZE];
    int64_t deadline_ms;
} forwarded_query;

/* How long a forwarded question waits for the county's answer. */
#define FORWARD_TIMEOUT_MS (60 * 1000)

typedef struct session {
    unsigned magic;
    struct session *next, *prev;
    relay_downstream *d;
    sj_conn *conn;
    sj_identity peer;
    char scope[RELAY_UNIT_SIZE]; /* its village, or the township for a desk */
    bool hello_done;
    bool closing;
    bool feed_dirty;
    bool results_dirty;
    bool need_caught_up;
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
    sj_listener *listener;
    session *sessions;
    void (*done)(relay *r);
};

/* ---- frames and queues --------------------------------------------------- */

/* Records what the network view shows of a peer: whether it is linked, when
 * it was last heard, its outbox, and its certificate's expiry (kept so that
 * the county can warn of a certificate running out at a station that is
 * offline now).  A failed write only leaves the row older; the next
 * heartbeat writes it again. */
static void put_station(session *s, bool connected)
{
    relay_station row = {
        .node = s->peer.node_id,
        .connected = connected,
        .last_seen_ms = s->last_seen_ms,
        .outbox_depth = s->outbox_depth,
        .cert_not_after_ms = s->cert_not_after_ms,
    };
    sj_error err;
    relay_store_station_put(s->d->r->store, &row, &err);
    sj_metrics_link(s->peer.node_id, connected, row.last_seen_ms);
    if (s->cert_not_after_ms)
        sj_metrics_cert(s->peer.node_id, s->cert_not_after_ms / 1000);
}

/* A status value for sanji-relayctl (meta table). */
static void meta_u64(relay *r, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    sj_error err;
    if (relay_store_meta_set(r->store, key, buf, &err) != 0)
        SJ_LOG_WARN(MOD, "status not written", "why", err.message);
}


/* A copy of a packed frame as an out_frame, or NULL when memory is out. */
static out_frame *frame_copy(const uint8_t *frame, size_t len)
{
    out_frame *f = malloc(sizeof *f + len);
    if (f) {
        f->next = NULL;
        f->is_result = false;
        f->len = len;
        memcpy(f->frame, frame, len);
    }
    return f;
}

static out_frame *pack_frame(relay *r, const Sanji__Envelope *env)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    sj_error err;
    int rc = sj_envelope_pack(env, r->self.node_id, r->cfg->max_frame, &frame, &len, NULL, &err);
    if (rc != 0) {
        SJ_LOG_WARN(MOD, "cannot pack a message", "code", sj_err_name(rc), "why", err.message);
        return NULL;
    }
    out_frame *f = frame_copy(frame, len);
    free(frame);
    return f;
}

static void push(out_frame **head, out_frame **tail, out_frame *f)
{
    if (f == NULL)
        return;
    if (*tail)
        (*tail)->next = f;
    else
        *head = f;
    *tail = f;
}

static void free_list(out_frame *f)
{
    while (f) {
        out_frame *n = f->next;
        free(f);
        f = n;
    }
}

static inflight *inflight_find(session *s, const uint8_t id[16])
{
    for (size_t i = 0; i < s->n_inflight; i++)
        if (memcmp(s->inflight[i].id, id, 16) == 0)
            return &s->inflight[i];
    return NULL;
}

static void inflight_drop(session *s, inflight *e)
{
    *e = s->inflight[--s->n_inflight];
}

/* Sends what is ready; false while the link is blocked or closing, so
 * that callers make nothing more for it until on_drain. */
static bool flush_out(session *s)
{
    while (s->out_head && !s->closing) {
        out_frame *f = s->out_head;
        sj_error err;
        int rc = sj_conn_send_payload(s->conn, f->frame + 4, f->len - 4, &err);
        if (rc == SJ_EBACKPRESSURE)
            return false;
        if (rc == SJ_EUNSUPPORTED)
            SJ_LOG_INFO(MOD, "not sent to an older peer", "peer", s->peer.node_id, "why",
                        err.message);
        else if (rc != 0 && rc != SJ_ECLOSED)
            SJ_LOG_WARN(MOD, "message not sent", "peer", s->peer.node_id, "why", err.message);
        inflight *e = f->is_result ? inflight_find(s, f->result_id) : NULL;
        if (e != NULL && rc == 0) {
            e->sent = true;
            e->mark = sj_conn_send_mark(s->conn);
        } else if (e != NULL) {
            inflight_drop(s, e); /* not sent: stays undelivered in the store */
        }
        s->out_head = f->next;
        if (s->out_head == NULL)
            s->out_tail = NULL;
        free(f);
    }
    return !s->closing && !sj_conn_blocked(s->conn);
}

static void send_now(session *s, const Sanji__Envelope *env)
{
    push(&s->out_head, &s->out_tail, pack_frame(s->d->r, env));
    flush_out(s);
}

/* ---- acks ---------------------------------------------------------------- */

static void queue_ack(session *s, const ProtobufCBinaryData *message_id, Sanji__AckStatus status,
                      int code, const char *reason, const ProtobufCBinaryData *case_id)
{
    Sanji__Ack ack = SANJI__ACK__INIT;
    ack.message_id = *message_id;
    ack.status = status;
    ack.code = code;
    ack.reason = (char *)(reason ? reason : "");
    if (case_id)
        ack.case_id = *case_id;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    /* Every ack waits for the turn's commit, refusals too, so that a
     * station sees its acks in the order it sent its messages. */
    push(&s->wait_head, &s->wait_tail, pack_frame(s->d->r, &env));
}

/* why: msgids (and run-time details) joined by SJ_REFUSAL_JOIN, as the
 * state machine and reason_set() make them; the cadre reads them in the
 * relay's language through the refusal module, like the county's. */
static void queue_refusal(session *s, const Sanji__Envelope *env, int code, const char *why,
                          const ProtobufCBinaryData *case_id)
{
    char full[SJ_ERROR_MESSAGE_MAX + 64], reason[SJ_ERROR_MESSAGE_MAX + 256];
    snprintf(full, sizeof full, "%s%s%s", N_("Refused at the township relay."),
             why && why[0] ? SJ_REFUSAL_JOIN : "", why ? why : "");
    sj_refusal_format(code, full, reason, sizeof reason);
    SJ_LOG_INFO(MOD, "message refused", "peer", s->peer.node_id, "code", sj_err_name(code));
    sj_metric_add(&relay_m_refused, sj_err_name(code), 1);
    queue_ack(s, &env->message_id, SANJI__ACK_STATUS__ACK_STATUS_REFUSED, code, reason, case_id);
}

/* A refusal's why for queue_refusal(): the msgid, then (may be NULL) a
 * detail known only now, kept as it is.  Returns code. */
static int reason_set(sj_error *err, int code, const char *why_msgid, const char *detail)
{
    return sj_error_set(err, code, "%s%s%s", why_msgid, detail ? SJ_REFUSAL_JOIN : "",
                        detail ? detail : "");
}

/* A stored final result (packed Ack) as an Envelope frame. */
static out_frame *result_frame(relay *r, const uint8_t *ack_pb, size_t len)
{
    Sanji__Ack *ack = sanji__ack__unpack(NULL, len, ack_pb);
    if (ack == NULL)
        return NULL;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ACK;
    env.ack = ack;
    out_frame *f = pack_frame(r, &env);
    sanji__ack__free_unpacked(ack, NULL);
    return f;
}

/* ---- scope checks -------------------------------------------------------- */

static sj_actor actor_of(const session *s)
{
    sj_actor a;
    memset(&a, 0, sizeof a);
    a.role = s->peer.role == SJ_NODE_ROLE_VILLAGE ? SJ_ROLE_VILLAGE_CADRE : SJ_ROLE_TOWNSHIP_STAFF;
    snprintf(a.unit, sizeof a.unit, "%s", s->peer.unit);
    return a;
}

static bool village_in_scope(const session *s, const char *village)
{
    if (village == NULL || sj_orgunit_level(village) != SJ_LEVEL_VILLAGE)
        return false;
    return sj_orgunit_contains(s->scope, village);
}

/* Refusals the relay may give from its cached copy: only those that no
 * message still queued ahead of this one could change. */
static bool certain_refusal(int code)
{
    switch (code) {
    case SJ_ESCOPE:
    case SJ_ETERMINAL:
    case SJ_EWRONG_ROLE:
    case SJ_ENOT_ALLOWED:
    case SJ_EWRONG_LEVEL:
        return true;
    default:
        return false;
    }
}

/* A person's own password change (PasswordChange): a well-formed
 * verifier for a person of this station's or desk's unit, as far as the
 * relay's copy of the persons tells (the county decides, from its own). */
static int check_password_change(session *s, const Sanji__PasswordChange *pc,
                                 char village[RELAY_UNIT_SIZE], sj_error *err)
{
    sj_password_verifier v;
    sj_error e;
    if (!pc->person || !*pc->person)
        return reason_set(err, SJ_EMISSING_FIELD, N_("Nobody is named as the person who did it; "
                                                     "log in and save it again."), NULL);
    if (!pc->new_verifier || sj_password_parse(pc->new_verifier, &v, &e) != 0)
        return reason_set(err, SJ_EBAD_FIELD, N_("The new password's verifier is malformed."),
                          NULL);
    snprintf(village, RELAY_UNIT_SIZE, "%s", s->peer.unit);
    uint64_t ver;
    uint8_t *p = NULL;
    size_t len = 0;
    if (relay_store_ref_get(s->d->r->store, RELAY_REF_PERSONS, &ver, &p, &len, &e) != 0 || !p)
        return 0; /* no list yet: the county checks */
    Sanji__PersonSync *ps = sanji__person_sync__unpack(NULL, len, p);
    free(p);
    if (!ps)
        return 0;
    bool ours = false;
    for (size_t i = 0; i < ps->n_persons && !ours; i++)
        ours = ps->persons[i]->id && strcmp(ps->persons[i]->id, pc->person) == 0 &&
               ps->persons[i]->org_unit && strcmp(ps->persons[i]->org_unit, s->peer.unit) == 0;
    sanji__person_sync__free_unpacked(ps, NULL);
    if (!ours)
        return reason_set(err, SJ_ESCOPE, N_("This person does not belong to this station:"),
                          pc->person);
    return 0;
}

/* The village of an existing case (from the cached copy, the queue or a
 * kept result) into village, and the cached copy (*cached, the caller
 * frees it; NULL when none); refuses a case unknown here or outside the
 * peer's scope. */
static int known_case_village(session *s, const ProtobufCBinaryData *case_id,
                              char village[RELAY_UNIT_SIZE], Sanji__Case **cached, sj_error *err)
{
    relay *r = s->d->r;
    *cached = NULL;
    if (case_id->len != 16)
        return reason_set(err, SJ_EBAD_FIELD, N_("The case id is not 16 bytes long."), NULL);
    sj_error e2;
    (void)relay_store_case_get(r->store, case_id->data, cached, &e2);
    bool queued = relay_store_queue_has_case(r->store, case_id->data, *cached ? NULL : village);
    if (*cached) {
        snprintf(village, RELAY_UNIT_SIZE, "%s", (*cached)->village ? (*cached)->village : "");
    } else if (!queued &&
               relay_store_result_case_village(r->store, case_id->data, village) != 0) {
        return reason_set(err, SJ_EUNKNOWN_CASE,
                          N_("The township relay has no record of this case; bring the station up "
                             "to date (sanji sync) and try again."),
                          NULL);
    }
    if (!village_in_scope(s, village))
        return reason_set(err, SJ_ESCOPE,
                          N_("The case belongs to a village outside this station's scope:"),
                          village);
    return 0;
}

/* Checks an upward message; fills village.  Returns 0 or a refusal code
 * with err. */
static int check_upward(session *s, const Sanji__Envelope *env, char village[RELAY_UNIT_SIZE],
                        ProtobufCBinaryData *case_id, sj_error *err)
{
    relay *r = s->d->r;
    sj_actor actor = actor_of(s);
    if (env->body_case == SANJI__ENVELOPE__BODY_PASSWORD_CHANGE)
        return check_password_change(s, env->password_change, village, err);
    if (env->body_case == SANJI__ENVELOPE__BODY_CASE_SUBMIT) {
        const Sanji__CaseSubmit *cs = env->case_submit;
        *case_id = cs->case_id;
        if (cs->case_id.len != 16)
            return reason_set(err, SJ_EBAD_FIELD, N_("The case id is not 16 bytes long."), NULL);
        if (!village_in_scope(s, cs->village))
            return reason_set(err, SJ_ESCOPE, N_("This village is outside this station's scope:"),
                              cs->village ? cs->village : "");
        snprintf(village, RELAY_UNIT_SIZE, "%s", cs->village);
        sj_case_outcome out;
        int rc = sj_case_register(cs->village, SJ_LEVEL_VILLAGE, cs->registered_at_ms, &actor,
                                  &out, err);
        return rc;
    }
    if (env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK) {
        /* An attachment's chunk: its fields, and the case in scope.  The
         * limits are the county's to apply. */
        const Sanji__AttachmentChunk *ch = env->attachment_chunk;
        *case_id = ch->case_id;
        int rc = sj_attach_check_chunk(ch, UINT64_MAX, err);
        if (rc != 0)
            return rc;
        Sanji__Case *cached = NULL;
        rc = known_case_village(s, &ch->case_id, village, &cached, err);
        sanji__case__free_unpacked(cached, NULL);
        return rc;
    }
    const Sanji__CaseAction *ca = env->case_action;
    *case_id = ca->case_id;
    /* The person named (TAKE_OVER makes them the assignee); the county
     * checks who they are. */
    snprintf(actor.person, sizeof actor.person, "%s", ca->actor_person ? ca->actor_person : "");
    Sanji__Case *cached = NULL;
    int rc = known_case_village(s, &ca->case_id, village, &cached, err);
    if (rc != 0) {
        sanji__case__free_unpacked(cached, NULL);
        return rc;
    }
    bool queued = relay_store_queue_has_case(r->store, ca->case_id.data, NULL);
    if (cached && !queued && ca->expected_version == cached->version) {
        /* The catalogue level is the county's to judge; VILLAGE never refuses. */
        sj_case cur;
        sj_case_pb_to_case(cached, SJ_LEVEL_VILLAGE, &cur);
        int crc = sj_case_check(&cur, (sj_case_action)ca->action, &actor, err);
        if (crc != 0 && certain_refusal(crc))
            rc = crc;
    }
    sanji__case__free_unpacked(cached, NULL);
    return rc;
}

static void handle_upward(session *s, const Sanji__Envelope *env, const uint8_t *payload,
                          size_t len)
{
    relay *r = s->d->r;
    char village[RELAY_UNIT_SIZE] = "";
    ProtobufCBinaryData case_id = {0, NULL};
    sj_error err;
    sj_error_clear(&err);
    int rc = check_upward(s, env, village, &case_id, &err);
    /* The payload goes to the county unchanged, and the county takes the
     * original sender from sender_node: a station naming another node
     * (its township's desk, say) would act with that node's rights.
     * Checked after scope, whose refusal says more. */
    if (rc == 0 && (env->sender_node == NULL || strcmp(env->sender_node, s->peer.node_id) != 0))
        rc = reason_set(&err, SJ_EPROTOCOL,
                        N_("The message names another sender than the certificate of this link:"),
                        s->peer.node_id);
    if (rc != 0) {
        queue_refusal(s, env, rc, err.message, &case_id);
        return;
    }
    /* A message whose final result is kept: answer with that result. */
    uint8_t *ack = NULL;
    size_t ack_len = 0;
    if (relay_store_result_get(r->store, env->message_id.data, &ack, &ack_len, NULL, &err) == 0) {
        push(&s->wait_head, &s->wait_tail, result_frame(r, ack, ack_len));
        free(ack);
        return;
    }
    relay_queue_item it;
    memset(&it, 0, sizeof it);
    memcpy(it.message_id, env->message_id.data, 16);
    snprintf(it.origin_node, sizeof it.origin_node, "%s", s->peer.node_id);
    snprintf(it.village, sizeof it.village, "%s", village);
    if (case_id.len == 16) /* a password change names no case: zeros */
        memcpy(it.case_id, case_id.data, 16);
    it.payload = (uint8_t *)payload;
    it.len = len;
    /* Attachment chunks may fill only half of the quota: the other half
     * stays for case messages, which an upload never holds up. */
    bool chunk = env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK;
    /* and travel in their own lane, behind case messages (upstream.c). */
    it.lane = chunk ? RELAY_LANE_CHUNK : RELAY_LANE_MESSAGE;
    uint64_t quota = r->cfg->queue_quota;
    if (chunk && quota > 1)
        quota /= 2;
    rc = relay_store_queue_add(r->store, &it, quota, sj_clock_real_ms(), &err);
    if (rc == SJ_EQUOTA) {
        /* The store's message (sizes, what to check) is for the operator's
         * log; the cadre is told what it means for the work. */
        SJ_LOG_WARN(MOD, "queue full; submission refused", "peer", s->peer.node_id, "why",
                    err.message);
        queue_refusal(s, env, SJ_EQUOTA,
                      chunk ? N_("The township relay has no room for attachments now; attach the "
                                 "file again later, once the township's link to the county is "
                                 "back.")
                            : N_("The township relay's queue is full; nothing was stored. Save it "
                                 "again later, once the township's link to the county is back."),
                      &case_id);
        return;
    }
    if (rc != 0 && rc != SJ_EEXISTS) {
        /* A local failure: no ack at all; the station keeps the message and
         * resends it after the link is back. */
        SJ_LOG_ERROR(MOD, "cannot queue a message", "why", err.message);
        s->closing = true;
        sj_conn_close(s->conn, rc, _(RELAY_STORE_FAILED));
        return;
    }
    queue_ack(s, &env->message_id, SANJI__ACK_STATUS__ACK_STATUS_STORED, 0, NULL, &case_id);
    if (rc == 0) {
        sj_metric_add(&relay_m_stored, NULL, 1);
        relay_upstream_queued(r->up);
    }
}

/* ---- session start, reference data and feed ------------------------------ */

static feed_pos *find_feed(session *s, const char *village)
{
    for (size_t i = 0; i < s->n_feeds; i++)
        if (strcmp(s->feeds[i].village, village) == 0)
            return &s->feeds[i];
    return NULL;
}

static feed_pos *add_feed(session *s, const char *village, uint64_t after)
{
    if (!village_in_scope(s, village))
        return NULL;
    feed_pos *f = find_feed(s, village);
    if (f)
        return f;
    if (s->n_feeds == s->cap_feeds) {
        size_t cap = s->cap_feeds ? s->cap_feeds * 2 : 8;
        feed_pos *n = realloc(s->feeds, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        s->feeds = n;
        s->cap_feeds = cap;
    }
    f = &s->feeds[s->n_feeds++];
    snprintf(f->village, sizeof f->village, "%s", village);
    f->sent = after;
    return f;
}

static int add_cursor_feed(void *arg, const char *village, uint64_t seq)
{
    add_feed(arg, village, 0);
    return 0;
}

static bool unit_in_org_tree(relay *r, const char *unit, bool *have_tree)
{
    uint64_t ver;
    uint8_t *p;
    size_t len;
    sj_error err;
    *have_tree = false;
    if (relay_store_ref_get(r->store, RELAY_REF_ORG_TREE, &ver, &p, &len, &err) != 0 || !p)
        return false;
    Sanji__OrgTreeSync *t = sanji__org_tree_sync__unpack(NULL, len, p);
    free(p);
    if (t == NULL)
        return false;
    bool found = false;
    *have_tree = t->n_units > 0;
    for (size_t i = 0; i < t->n_units && !found; i++)
        found = t->units[i]->code && strcmp(t->units[i]->code, unit) == 0;
    sanji__org_tree_sync__free_unpacked(t, NULL);
    return found;
}

static bool in_tree_scope(const char *scope, const char *code)
{
    return code && (sj_orgunit_contains(scope, code) || sj_orgunit_contains(code, scope));
}

static void send_ref(session *s, relay_ref_kind kind, uint64_t peer_version)
{
    relay *r = s->d->r;
    uint64_t ver;
    uint8_t *p;
    size_t len;
    sj_error err;
    if (relay_store_ref_get(r->store, kind, &ver, &p, &len, &err) != 0 || p == NULL)
        return;
    if (ver == peer_version || ver == 0) {
        free(p);
        return;
    }
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    if (kind == RELAY_REF_CATALOGUE) {
        Sanji__CatalogueSync *c = sanji__catalogue_sync__unpack(NULL, len, p);
        if (c) {
            env.body_case = SANJI__ENVELOPE__BODY_CATALOGUE_SYNC;
            env.catalogue_sync = c;
            send_now(s, &env);
            sanji__catalogue_sync__free_unpacked(c, NULL);
        }
    } else if (kind == RELAY_REF_ORG_TREE) {
        Sanji__OrgTreeSync *t = sanji__org_tree_sync__unpack(NULL, len, p);
        Sanji__OrgUnit **keep = t ? calloc(t->n_units + 1, sizeof *keep) : NULL;
        if (keep) {
            Sanji__OrgTreeSync f = SANJI__ORG_TREE_SYNC__INIT;
            f.version = t->version;
            f.units = keep;
            for (size_t i = 0; i < t->n_units; i++)
                if (in_tree_scope(s->scope, t->units[i]->code))
                    keep[f.n_units++] = t->units[i];
            env.body_case = SANJI__ENVELOPE__BODY_ORG_TREE_SYNC;
            env.org_tree_sync = &f;
            send_now(s, &env);
        }
        free(keep);
        if (t)
            sanji__org_tree_sync__free_unpacked(t, NULL);
    } else if (kind == RELAY_REF_DUTY) {
        /* The station's own part of the roster. */
        Sanji__DutySync *ds = sanji__duty_sync__unpack(NULL, len, p);
        Sanji__DutyEntry **keep = ds ? calloc(ds->n_entries + 1, sizeof *keep) : NULL;
        if (keep) {
            Sanji__DutySync f = SANJI__DUTY_SYNC__INIT;
            f.version = ds->version;
            f.entries = keep;
            for (size_t i = 0; i < ds->n_entries; i++)
                if (ds->entries[i]->org_unit &&
                    sj_orgunit_contains(s->scope, ds->entries[i]->org_unit))
                    keep[f.n_entries++] = ds->entries[i];
            env.body_case = SANJI__ENVELOPE__BODY_DUTY_SYNC;
            env.duty_sync = &f;
            send_now(s, &env);
        }
        free(keep);
        if (ds)
            sanji__duty_sync__free_unpacked(ds, NULL);
    } else {
        Sanji__PersonSync *ps = sanji__person_sync__unpack(NULL, len, p);
        Sanji__Person **keep = ps ? calloc(ps->n_persons + 1, sizeof *keep) : NULL;
        if (keep) {
            Sanji__PersonSync f = SANJI__PERSON_SYNC__INIT;
            f.version = ps->version;
            f.persons = keep;
            for (size_t i = 0; i < ps->n_persons; i++)
                if (ps->persons[i]->org_unit &&
                    sj_orgunit_contains(s->scope, ps->persons[i]->org_unit))
                    keep[f.n_persons++] = ps->persons[i];
            env.body_case = SANJI__ENVELOPE__BODY_PERSON_SYNC;
            env.person_sync = &f;
            send_now(s, &env);
        }
        free(keep);
        if (ps)
            sanji__person_sync__free_unpacked(ps, NULL);
    }
    free(p);
}

static int result_cb(void *arg, const uint8_t id[16], const uint8_t *ack, size_t len)
{
    session *s = arg;
    relay *r = s->d->r;
    if (inflight_find(s, id) != NULL)
        return 0; /* already on its way on this link */
    if (s->n_inflight == s->cap_inflight) {
        size_t cap = s->cap_inflight ? 2 * s->cap_inflight : 16;
        inflight *n = realloc(s->inflight, cap * sizeof *n);
        if (n == NULL)
            return 0; /* sent on a later pump */
        s->inflight = n;
        s->cap_inflight = cap;
    }
    out_frame *f = result_frame(r, ack, len);
    if (f == NULL)
        return 0;
    f->is_result = true;
    memcpy(f->result_id, id, 16);
    inflight *e = &s->inflight[s->n_inflight++];
    memcpy(e->id, id, 16);
    e->sent = false;
    e->mark = 0;
    push(&s->out_head, &s->out_tail, f);
    if (!flush_out(s)) {
        s->results_dirty = true; /* the rest when the link drains */
        return 1;
    }
    return 0;
}

/* Marks delivered the results the link has written. */
static void on_written(sj_conn *conn)
{
    session *s = sj_conn_data(conn);
    if (s == NULL || s->magic != SESSION_MAGIC || s->n_inflight == 0)
        return;
    uint64_t done = sj_conn_written(conn);
    bool marked = false;
    for (size_t i = 0; i < s->n_inflight;) {
        inflight *e = &s->inflight[i];
        if (!e->sent || e->mark > done) {
            i++;
            continue;
        }
        sj_error err;
        if (relay_store_result_mark_delivered(s->d->r->store, e->id, &err) != 0)
            SJ_LOG_WARN(MOD, "result not marked delivered", "why", err.message);
        marked = true;
        inflight_drop(s, e);
    }
    if (marked)
        relay_request_commit(s->d->r);
}

static void free_queries(pending_query *q)
{
    while (q) {
        pending_query *n = q->next;
        free(q);
        q = n;
    }
}

/* Answers waiting queries, oldest first, while the link takes the answers.
 * Returns false when the link is blocked (or closing), true otherwise;
 * *more says the turn's budget ran out with queries left. */
static bool answer_queries(session *s, bool *more)
{
    relay *r = s->d->r;
    int budget = QUERY_BUDGET;
    *more = false;
    while (s->q_head) {
        if (!flush_out(s))
            return false;
        if (budget-- == 0) {
            *more = true;
            return true;
        }
        pending_query *q = s->q_head;
        s->q_head = q->next;
        if (s->q_head == NULL)
            s->q_tail = NULL;
        s->n_queries--;
        Sanji__Envelope *env = NULL;
        uint8_t *frame = NULL;
        size_t len = 0;
        sj_error err;
        /* It was checked when it arrived; unpacking again cannot fail but
         * for memory. */
        int rc = sj_envelope_unpack(q->payload, q->len, &env, &err);
        if (rc == 0)
            rc = relay_query_answer(r, &s->peer, s->scope, env, &frame, &len, &err);
        sj_envelope_free(env);
        free(q);
        if (rc != 0) {
            SJ_LOG_WARN(MOD, "query not answered", "peer", s->peer.node_id, "why", err.message);
            continue;
        }
        out_frame *f = frame_copy(frame, len);
        if (f) {
            push(&s->out_head, &s->out_tail, f);
        } else {
            SJ_LOG_WARN(MOD, "query not answered: out of memory", "peer", s->peer.node_id);
        }
        free(frame);
    }
    return flush_out(s);
}

/* Sends results, query answers and feed updates while the link takes
 * them: nothing more is made for a blocked link, and on_drain comes back
 * here.  Returns true when there is more to send in a later turn. */
static bool pump(session *s)
{
    relay *r = s->d->r;
    if (!s->hello_done || s->closing)
        return false;
    if (!flush_out(s))
        return false;
    if (s->results_dirty) {
        s->results_dirty = false;
        sj_error err;
        if (relay_store_result_each_undelivered(r->store, s->peer.node_id, result_cb, s, &err) < 0)
            SJ_LOG_WARN(MOD, "results not delivered", "why", err.message);
        relay_request_commit(r);
        if (!flush_out(s))
            return false;
    }
    if (s->q_head) {
        bool more;
        if (!answer_queries(s, &more))
            return false;
        if (more)
            return true;
    }
    if (!s->feed_dirty)
        return false;
    int budget = FEED_BUDGET;
    for (size_t i = 0; i < s->n_feeds; i++) {
        feed_pos *f = &s->feeds[i];
        while (budget > 0) {
            Sanji__FeedUpdate *u = NULL;
            sj_error err;
            int rc = relay_store_feed_next(r->store, f->village, f->sent, &u, &err);
            if (rc != 0) {
                if (rc != SJ_ENOTFOUND)
                    SJ_LOG_WARN(MOD, "feed read failed", "why", err.message);
                break;
            }
            /* The store keeps the county's whole record; a township desk
             * sees the applicant only while its level holds the case. */
            if (relay_query_mask_case(u->snapshot, &s->peer) != 0) {
                SJ_LOG_WARN(MOD, "feed update not sent: out of memory", "peer", s->peer.node_id);
                sanji__feed_update__free_unpacked(u, NULL);
                return true; /* retried on a later turn */
            }
            Sanji__Envelope env = SANJI__ENVELOPE__INIT;
            env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
            env.feed_update = u;
            f->sent = u->seq;
            push(&s->out_head, &s->out_tail, pack_frame(r, &env));
            sanji__feed_update__free_unpacked(u, NULL);
            budget--;
            if (!flush_out(s))
                return false; /* on_drain resumes */
        }
        if (budget == 0)
            return true;
    }
    s->feed_dirty = false;
    if (s->need_caught_up) {
        s->need_caught_up = false;
        Sanji__FeedUpdate cu = SANJI__FEED_UPDATE__INIT;
        cu.caught_up = true;
        cu.village = (char *)"";
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
        env.feed_update = &cu;
        send_now(s, &env);
    }
    return false;
}

static void handle_hello(session *s, const Sanji__Envelope *env)
{
    relay *r = s->d->r;
    const Sanji__Hello *h = env->hello;
    if (h->min_version > SJ_PROTOCOL_LEVEL || h->max_version < SJ_PROTOCOL_LEVEL_MIN) {
        s->closing = true;
        sj_conn_close(s->conn, SJ_EFRAME_BAD_VERSION,
                      _("This program and the township relay speak no common protocol version; "
                        "install the version the county names."));
        return;
    }
    /* An older station or desk gets nothing it does not know (envelope.h). */
    sj_conn_set_level(s->conn, sj_protocol_level_agree(h->max_version));
    /* The feeds: those the peer names, then every other village in scope. */
    for (size_t i = 0; i < h->n_cursors; i++)
        if (h->cursors[i]->village)
            add_feed(s, h->cursors[i]->village, h->cursors[i]->after_seq);
    if (s->peer.role == SJ_NODE_ROLE_VILLAGE) {
        add_feed(s, s->peer.unit, 0);
    } else {
        sj_error err;
        relay_store_cursor_each(r->store, add_cursor_feed, s, &err);
        uint64_t ver;
        uint8_t *p;
        size_t len;
        if (relay_store_ref_get(r->store, RELAY_REF_ORG_TREE, &ver, &p, &len, &err) == 0 && p) {
            Sanji__OrgTreeSync *t = sanji__org_tree_sync__unpack(NULL, len, p);
            for (size_t i = 0; t && i < t->n_units; i++)
                if (t->units[i]->code && sj_orgunit_level(t->units[i]->code) == SJ_LEVEL_VILLAGE)
                    add_feed(s, t->units[i]->code, 0);
            if (t)
                sanji__org_tree_sync__free_unpacked(t, NULL);
            free(p);
        }
    }
    Sanji__FeedCursor *curs = calloc(s->n_feeds + 1, sizeof *curs);
    Sanji__FeedCursor **cp = calloc(s->n_feeds + 1, sizeof *cp);
    Sanji__Welcome w = SANJI__WELCOME__INIT;
    w.version = sj_conn_level(s->conn);
    w.node = r->self.node_id;
    w.server_time_ms = sj_clock_real_ms();
    w.upstream_online = r->upstream_online;
    w.upstream_last_contact_ms = r->upstream_last_contact_ms;
    if (curs && cp) {
        for (size_t i = 0; i < s->n_feeds; i++) {
            sanji__feed_cursor__init(&curs[i]);
            curs[i].village = s->feeds[i].village;
            curs[i].after_seq = s->feeds[i].sent;
            cp[i] = &curs[i];
        }
        w.cursors = cp;
        w.n_cursors = s->n_feeds;
    }
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_WELCOME;
    out.welcome = &w;
    send_now(s, &out);
    free(curs);
    free(cp);
    s->hello_done = true;
    send_ref(s, RELAY_REF_CATALOGUE, h->catalogue_version);
    send_ref(s, RELAY_REF_ORG_TREE, h->org_tree_version);
    send_ref(s, RELAY_REF_PERSONS, h->person_version);
    send_ref(s, RELAY_REF_DUTY, 0); /* no version in the Hello: always */
    s->feed_dirty = true;
    s->need_caught_up = true;
    s->results_dirty = true;
    SJ_LOG_INFO(MOD, "session started", "peer", s->peer.node_id);
    sj_tls_cert_info ci;
    if (sj_conn_peer_cert(s->conn, &ci) == 0)
        s->cert_not_after_ms = ci.not_after * 1000;
    put_station(s, true);
    relay_request_commit(r);
}

static void handle_feed_request(session *s, const Sanji__FeedRequest *fr)
{
    for (size_t i = 0; i < fr->n_cursors; i++) {
        const Sanji__FeedCursor *c = fr->cursors[i];
        feed_pos *f = c->village ? add_feed(s, c->village, c->after_seq) : NULL;
        if (f)
            f->sent = c->after_seq;
    }
    s->feed_dirty = true;
    s->need_caught_up = true;
    relay_request_commit(s->d->r);
}

/* Queues the query as received; pump() answers it when the link has room. */
/* Answers a question with a code and reason only. */
static void answer_code(session *s, const ProtobufCBinaryData *id, int code, const char *reason)
{
    Sanji__QueryResult res = SANJI__QUERY_RESULT__INIT;
    res.in_reply_to = *id;
    res.code = code;
    res.reason = (char *)reason;
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
    out.query_result = &res;
    send_now(s, &out);
}

/* Period statistics are computed by the county alone (docs/STATISTICS.md
 * "Who computes"): the question goes to it unchanged, and the county takes
 * the asker from sender_node, so that a township desk sees its township
 * and a station its village.  That is why sender_node must be this link's
 * own peer. */
static void forward_query(session *s, const Sanji__Envelope *env, const uint8_t *payload,
                          size_t len, const char *down_reason)
{
    relay *r = s->d->r;
    if (env->message_id.len != SJ_ENVELOPE_ID_SIZE)
        return; /* sj_envelope_unpack() checked it; nothing to answer to */
    if (env->sender_node == NULL || strcmp(env->sender_node, s->peer.node_id) != 0) {
        answer_code(s, &env->message_id, SJ_EPROTOCOL,
                    _("The question names another sender than the certificate of this link."));
        return;
    }
    if (s->n_fwd >= QUERY_WAIT_MAX) {
        answer_code(s, &env->message_id, SJ_EBUSY,
                    _("Too many questions are waiting at the township relay; ask again once the "
                      "earlier answers have come."));
        return;
    }
    forwarded_query *f = calloc(1, sizeof *f);
    sj_error err;
    int rc = f ? 0 : SJ_ENOMEM;
    if (rc == 0 && !r->upstream_online)
        rc = SJ_EUPSTREAM_DOWN;
    if (rc == 0)
        rc = relay_upstream_forward(r->up, payload, len, &err);
    if (rc != 0) {
        free(f);
        answer_code(s, &env->message_id, rc == SJ_EBACKPRESSURE ? SJ_EBUSY : SJ_EUPSTREAM_DOWN,
                    down_reason);
        return;
    }
    memcpy(f->id, env->message_id.data, SJ_ENVELOPE_ID_SIZE);
    f->deadline_ms = sj_clock_mono_ms() + FORWARD_TIMEOUT_MS;
    f->next = s->fwd;
    s->fwd = f;
    s->n_fwd++;
}

/* Answers every forwarded question of s with code, or only those past
 * their deadline (expired_only). */
static void fail_forwarded(session *s, int code, const char *reason, bool expired_only)
{
    int64_t now = sj_clock_mono_ms();
    for (forwarded_query **p = &s->fwd; *p;) {
        forwarded_query *f = *p;
        if (expired_only && f->deadline_ms > now) {
            p = &f->next;
            continue;
        }
        *p = f->next;
        s->n_fwd--;
        ProtobufCBinaryData id = {SJ_ENVELOPE_ID_SIZE, f->id};
        answer_code(s, &id, code, reason);
        free(f);
    }
}

void relay_downstream_query_result(relay_downstream *d, Sanji__QueryResult *res)
{
    if (res->in_reply_to.len != SJ_ENVELOPE_ID_SIZE)
        return;
    for (session *s = d->sessions; s; s = s->next)
        for (forwarded_query **p = &s->fwd; *p; p = &(*p)->next) {
            if (memcmp((*p)->id, res->in_reply_to.data, SJ_ENVELOPE_ID_SIZE) != 0)
                continue;
            forwarded_query *f = *p;
            *p = f->next;
            s->n_fwd--;
            free(f);
            if (!s->closing) {
                Sanji__Envelope out = SANJI__ENVELOPE__INIT;
                out.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
                out.query_result = res;
                send_now(s, &out);
            }
            return;
        }
}

static void handle_query(session *s, const Sanji__Envelope *env, const uint8_t *payload,
                         size_t len)
{
    /* Statistics and station stars are the county's to compute. */
    if (env->query && (env->query->kind_case == SANJI__QUERY__KIND_PERIOD_STATISTICS ||
                       env->query->kind_case == SANJI__QUERY__KIND_STARS)) {
        forward_query(s, env, payload, len,
                      _("Statistics are computed by the county; ask again when the township's "
                        "link to the county is back."));
        return;
    }
    if (env->query && env->query->kind_case == SANJI__QUERY__KIND_ATTACHMENT) {
        /* Attachments are kept at the county only (PROTOCOL.md "Attachments"). */
        forward_query(s, env, payload, len,
                      _("Attachments are kept at the county; open it again when the township's "
                        "link to the county is back."));
        return;
    }
    if (s->n_queries >= QUERY_WAIT_MAX) {
        Sanji__QueryResult res = SANJI__QUERY_RESULT__INIT;
        res.in_reply_to = env->message_id;
        res.code = SJ_EBUSY;
        res.reason = (char *)_("Too many questions are waiting at the township relay; ask again "
                               "once the earlier answers have come.");
        Sanji__Envelope out = SANJI__ENVELOPE__INIT;
        out.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
        out.query_result = &res;
        send_now(s, &out);
        return;
    }
    pending_query *q = malloc(sizeof *q + len);
    if (q == NULL) {
        SJ_LOG_WARN(MOD, "query not answered: out of memory", "peer", s->peer.node_id);
        return;
    }
    q->next = NULL;
    q->len = len;
    memcpy(q->payload, payload, len);
    if (s->q_tail)
        s->q_tail->next = q;
    else
        s->q_head = q;
    s->q_tail = q;
    s->n_queries++;
    /* Answered at the end of the turn (relay_downstream_after_commit()),
     * QUERY_BUDGET at a time, not here: a burst of queries in one read
     * must not hold the loop for all of its answers. */
    relay_request_commit(s->d->r);
}

/* ---- link callbacks ------------------------------------------------------ */

static void on_ready(sj_conn *conn, const sj_identity *peer)
{
    relay_downstream *d = sj_conn_data(conn);
    relay *r = d->r;
    bool have_tree = false;
    bool ok;
    if (peer->role == SJ_NODE_ROLE_VILLAGE)
        ok = sj_orgunit_contains(r->township, peer->unit) &&
             (unit_in_org_tree(r, peer->unit, &have_tree) || !have_tree);
    else
        ok = peer->role == SJ_NODE_ROLE_TOWNSHIP_DESK && strcmp(peer->unit, r->township) == 0;
    if (!ok || d->r->stopping) {
        SJ_LOG_WARN(MOD, "peer outside the township refused", "peer", peer->node_id, "township",
                    r->township);
        sj_conn_set_data(conn, NULL);
        char why[256], reason[512];
        snprintf(why, sizeof why, "%s" SJ_REFUSAL_JOIN "%s",
                 N_("This node does not belong to the township of this relay:"), peer->node_id);
        sj_reason_format(why, reason, sizeof reason);
        sj_conn_close(conn, SJ_ESCOPE, reason);
        return;
    }
    session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        sj_conn_set_data(conn, NULL);
        sj_conn_close(conn, SJ_ENOMEM, NULL);
        return;
    }
    s->magic = SESSION_MAGIC;
    s->d = d;
    s->conn = conn;
    s->peer = *peer;
    snprintf(s->scope, sizeof s->scope, "%s", peer->unit);
    s->last_seen_ms = sj_clock_real_ms();
    s->next = d->sessions;
    if (d->sessions)
        d->sessions->prev = s;
    d->sessions = s;
    sj_conn_set_data(conn, s);
}

static bool is_session(relay_downstream *d, void *data)
{
    for (session *s = d->sessions; s; s = s->next)
        if (s == data)
            return true;
    return false;
}

/* A station's status: its outbox depth, and wrong passwords typed there,
 * kept for the county (status.h). */
static void on_station_status(session *s, const Sanji__NodeStatus *ns)
{
    s->outbox_depth = ns->queue_depth;
    sj_error err;
    /* Presence goes to the store only when it changed (not every heartbeat). */
    if (!s->presence_known || s->logged_in != ns->logged_in ||
        s->last_login_ms != ns->last_login_ms) {
        if (relay_status_note_presence(s->d->r->store, s->peer.node_id, ns->logged_in,
                                       ns->last_login_ms, &err) != 0) {
            SJ_LOG_WARN(MOD, "reported presence not kept", "peer", s->peer.node_id, "why",
                        err.message);
        } else {
            s->presence_known = true;
            s->logged_in = ns->logged_in;
            s->last_login_ms = ns->last_login_ms;
            relay_request_commit(s->d->r);
        }
    }
    if (ns->n_login_failures == 0)
        return;
    if (relay_status_note_login_failures(s->d->r->store, s->peer.node_id, ns->login_failures,
                                         ns->n_login_failures, &err) != 0)
        SJ_LOG_WARN(MOD, "reported wrong passwords not kept", "peer", s->peer.node_id, "why",
                    err.message);
    relay_request_commit(s->d->r);
}

static void on_message(sj_conn *conn, const Sanji__Envelope *env, const uint8_t *payload,
                       size_t len)
{
    session *s = sj_conn_data(conn);
    if (s == NULL || s->closing)
        return;
    s->last_seen_ms = sj_clock_real_ms();
    if (!s->hello_done) {
        if (env->body_case == SANJI__ENVELOPE__BODY_HELLO) {
            handle_hello(s, env);
            return;
        }
        s->closing = true;
        sj_conn_close(conn, SJ_EPROTOCOL, _("The first message must be Hello."));
        return;
    }
    switch (env->body_case) {
    case SANJI__ENVELOPE__BODY_CASE_SUBMIT:
    case SANJI__ENVELOPE__BODY_CASE_ACTION:
    case SANJI__ENVELOPE__BODY_PASSWORD_CHANGE:
    case SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK:
        handle_upward(s, env, payload, len);
        break;
    case SANJI__ENVELOPE__BODY_QUERY:
        handle_query(s, env, payload, len);
        break;
    case SANJI__ENVELOPE__BODY_FEED_REQUEST:
        handle_feed_request(s, env->feed_request);
        break;
    case SANJI__ENVELOPE__BODY_HEARTBEAT:
        if (env->heartbeat->status)
            on_station_status(s, env->heartbeat->status);
        break;
    case SANJI__ENVELOPE__BODY_NODE_STATUS:
        on_station_status(s, env->node_status);
        break;
    default:
        s->closing = true;
        sj_conn_close(conn, SJ_EPROTOCOL, _("This message is not allowed from a station or desk."));
        break;
    }
}

static void on_drain(sj_conn *conn)
{
    session *s = sj_conn_data(conn);
    if (s && pump(s))
        relay_request_commit(s->d->r);
}

static void on_close(sj_conn *conn, int status, const sj_error *why)
{
    session *s = sj_conn_data(conn);
    if (s == NULL || s->magic != SESSION_MAGIC) {
        /* Refused before a session was made: a failed TLS handshake (no
         * certificate, not TLS at all, ...), or (data NULL) a peer outside
         * the township, logged when it was refused. */
        if (s != NULL && status != 0 && status != SJ_ECLOSED)
            SJ_LOG_WARN(MOD, "link refused", "code", sj_err_name(status), "why",
                        why ? why->message : "");
        return;
    }
    relay_downstream *d = s->d;
    if (!is_session(d, s))
        return;
    if (status == SJ_EIDLE && sj_conn_blocked(conn)) {
        /* The relay stopped reading from it when it could not write to
         * it; link.idle_timeout later this is where it ends. */
        char waited[32], limit[32];
        snprintf(waited, sizeof waited, "%llums",
                 (unsigned long long)sj_conn_options_of(conn)->idle_timeout_ms);
        snprintf(limit, sizeof limit, "%zu", sj_conn_options_of(conn)->write_high_water);
        SJ_LOG_WARN(MOD, "peer not reading: link closed", "peer", s->peer.node_id, "waited",
                    waited, "write_buffer", limit, "why",
                    "对方长时间不接收数据，已断开；重连后从其游标继续 (the peer took nothing for "
                    "link.idle_timeout with link.write_buffer full; it resumes from its cursor "
                    "when it reconnects)");
    }
    SJ_LOG_INFO(MOD, "session ended", "peer", s->peer.node_id, "code", sj_err_name(status), "why",
                why ? why->message : "");
    if (s->hello_done) {
        put_station(s, false);
        relay_request_commit(d->r);
    }
    if (s->prev)
        s->prev->next = s->next;
    else
        d->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free_list(s->wait_head);
    free_list(s->out_head);
    free_queries(s->q_head);
    while (s->fwd) {
        forwarded_query *n = s->fwd->next;
        free(s->fwd);
        s->fwd = n;
    }
    free(s->inflight);
    free(s->feeds);
    free(s);
}

static const sj_conn_callbacks CBS = {.on_ready = on_ready,
                                      .on_message = on_message,
                                      .on_drain = on_drain,
                                      .on_written = on_written,
                                      .on_close = on_close};

/* ---- the module's entry points ------------------------------------------- */

int relay_downstream_start(relay *r, relay_downstream **out, sj_error *err)
{
    *out = NULL;
    relay_downstream *d = calloc(1, sizeof *d);
    if (d == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    d->magic = DOWN_MAGIC;
    d->r = r;
    sj_conn_options o = sj_conn_options_default();
    o.max_frame = r->cfg->max_frame;
    o.idle_timeout_ms = r->cfg->idle_timeout_ms;
    o.handshake_timeout_ms = r->cfg->handshake_timeout_ms;
    /* A blocked link stops reading, so a peer that does not read ends
     * after idle_timeout; the quarter leaves room to refill before the
     * socket runs dry. */
    o.write_high_water = r->cfg->write_buffer;
    o.write_low_water = r->cfg->write_buffer / 4;
    d->listener = sj_listener_new(r->loop, r->server_tls, &o, &CBS, d, err);
    if (d->listener == NULL) {
        free(d);
        return err->code ? err->code : SJ_EINTERNAL;
    }
    int rc = sj_listener_listen(d->listener, r->cfg->listen_host, r->cfg->listen_port, 128, err);
    if (rc != 0) {
        sj_listener_free(d->listener);
        free(d);
        return rc;
    }
    meta_u64(r, "link_write_buffer_bytes", r->cfg->write_buffer);
    relay_request_commit(r);
    *out = d;
    return 0;
}

int relay_downstream_port(const relay_downstream *d)
{
    return sj_listener_port(d->listener);
}

sj_listener *relay_downstream_listener(relay_downstream *d)
{
    return d->listener;
}

void relay_downstream_after_commit(relay_downstream *d)
{
    bool more = false;
    for (session *s = d->sessions; s; s = s->next) {
        if (s->wait_head) {
            if (s->out_tail)
                s->out_tail->next = s->wait_head;
            else
                s->out_head = s->wait_head;
            s->out_tail = s->wait_tail;
            s->wait_head = s->wait_tail = NULL;
            flush_out(s);
        }
        if (s->feed_dirty || s->results_dirty || s->q_head)
            more |= pump(s);
    }
    if (more)
        relay_request_commit(d->r);
}

void relay_downstream_commit_failed(relay_downstream *d, const sj_error *why)
{
    for (session *s = d->sessions; s; s = s->next) {
        if (s->wait_head == NULL)
            continue;
        free_list(s->wait_head);
        s->wait_head = s->wait_tail = NULL;
        if (!s->closing) {
            s->closing = true;
            sj_conn_close(s->conn, SJ_EDB, _(RELAY_STORE_FAILED));
        }
    }
    (void)why;
}

void relay_downstream_result_ready(relay_downstream *d, const char *origin_node)
{
    for (session *s = d->sessions; s; s = s->next)
        if (strcmp(s->peer.node_id, origin_node) == 0)
            s->results_dirty = true;
}

void relay_downstream_feed_changed(relay_downstream *d, const char *village)
{
    for (session *s = d->sessions; s; s = s->next) {
        if (!s->hello_done || !village_in_scope(s, village))
            continue;
        add_feed(s, village, 0);
        s->feed_dirty = true;
    }
}

/* What the relay holds in memory for one peer: ciphertext queued on its
 * socket, frames made but not yet handed to the link, and its queries not
 * yet answered. */
static size_t session_buffered(const session *s)
{
    size_t n = sj_conn_queued_bytes(s->conn);
    for (const out_frame *f = s->out_head; f; f = f->next)
        n += f->len;
    for (const pending_query *q = s->q_head; q; q = q->next)
        n += q->len;
    return n;
}

/* The links' buffers for sanji-relayctl: total, the largest and whose,
 * and how many links are blocked. */
static void write_buffer_status(relay_downstream *d)
{
    relay *r = d->r;
    uint64_t total = 0, largest = 0, blocked = 0;
    const char *whose = "";
    for (session *s = d->sessions; s; s = s->next) {
        if (s->closing)
            continue;
        size_t n = session_buffered(s);
        total += n;
        if (n > largest) {
            largest = n;
            whose = s->peer.node_id;
        }
        blocked += sj_conn_blocked(s->conn);
    }
    meta_u64(r, "links_buffered_bytes", total);
    meta_u64(r, "links_buffered_max_bytes", largest);
    sj_error err;
    if (relay_store_meta_set(r->store, "links_buffered_max_node", whose, &err) != 0)
        SJ_LOG_WARN(MOD, "status not written", "why", err.message);
    meta_u64(r, "links_blocked", blocked);
}

/* The relay's county link as a station or desk sees it: a Heartbeat whose
 * NodeStatus carries only the relay's own node and its upstream state (never
 * the other stations), so that the peer can show the hop behind the relay
 * (PROTOCOL.md "Liveness").  A peer that knows nothing of it ignores it. */
static void send_upstream_state(session *s)
{
    relay *r = s->d->r;
    Sanji__NodeStatus ns = SANJI__NODE_STATUS__INIT;
    ns.node = r->self.node_id;
    ns.role = SANJI__NODE_ROLE__NODE_ROLE_RELAY;
    ns.org_unit = r->township;
    ns.upstream_online = r->upstream_online;
    ns.upstream_last_contact_ms = r->upstream_last_contact_ms;
    ns.reported_at_ms = sj_clock_real_ms();
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    hb.seq = ++s->hb_seq;
    hb.status = &ns;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    send_now(s, &env);
}

void relay_downstream_upstream_changed(relay_downstream *d)
{
    /* Told at once on every open link, whatever else waits on it: the
     * station's link bar must not say the county is reachable while the
     * relay knows it is not. */
    for (session *s = d->sessions; s; s = s->next)
        if (s->hello_done && !s->closing)
            send_upstream_state(s);
    /* Questions the county was asking will not be answered on a new link. */
    if (!d->r->upstream_online)
        for (session *s = d->sessions; s; s = s->next)
            if (!s->closing)
                fail_forwarded(s, SJ_EUPSTREAM_DOWN,
                               _("Statistics are computed by the county; ask again when the "
                                 "township's link to the county is back."),
                               false);
}

void relay_downstream_tick(relay_downstream *d)
{
    write_buffer_status(d);
    for (session *s = d->sessions; s; s = s->next) {
        if (!s->hello_done || s->closing)
            continue;
        /* The heartbeat repeats the county link's state, so a peer's view
         * is never older than one heartbeat even if a change was missed. */
        if (s->out_head == NULL) /* a link with frames waiting is not idle */
            send_upstream_state(s);
        put_station(s, true);
        if (s->fwd)
            fail_forwarded(s, SJ_ETIMEOUT,
                           _("The county did not answer in time; ask again later."), true);
    }
}

static void listener_closed(sj_listener *l)
{
    relay_downstream *d = sj_listener_data(l);
    if (d->done)
        d->done(d->r);
}

void relay_downstream_close(relay_downstream *d, void (*done)(relay *r))
{
    d->done = done;
    for (session *s = d->sessions; s; s = s->next)
        s->closing = true;
    sj_listener_close(d->listener, listener_closed);
}

void relay_downstream_free(relay_downstream *d)
{
    if (d == NULL)
        return;
    sj_listener_free(d->listener);
    free(d);
}
