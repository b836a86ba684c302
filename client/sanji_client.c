/*
 * sanji_client.c - the Sanji client library (see sanji_client.h): the
 * link to the relay or county (docs/PROTOCOL.md, the dialing side), the
 * outbox flow, the feed, log-in against cached verifiers, and reads of the
 * local copy.
 *
 * Entry points: the sc_* functions of sanji_client.h.
 */
#include "sanji_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "case_pb.h"
#include "clock.h"
#include "conn.h"
#include "dialer.h"
#include "envelope.h"
#include "i18n.h"
#include "log.h"
#include "login_report.h"
#include "orgunit.h"
#include "password.h"
#include "personal.h"
#include "refusal.h"
#include "tls.h"
#include "utf8.h"
#include "uuid.h"

#define MOD "client"
#define MAX_FRAME (1u << 20)
#define HEARTBEAT_MS 15000
#define IDLE_MS 60000

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

/* ---- small helpers ----------------------------------------------------- */

static void emit(sc_client *c, sc_event *ev)
{
    if (c->cb)
        c->cb(c, ev, c->data);
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static void pending_settle(sc_client *c);
static bool pending_verifier(sc_client *c, const char *person, char *buf, size_t cap);
static void pending_drop_for(sc_client *c, const sc_outbox_entry *e);

static sj_person_role role_for_node(sj_node_role r)
{
    switch (r) {
    case SJ_NODE_ROLE_VILLAGE: return SJ_ROLE_VILLAGE_CADRE;
    case SJ_NODE_ROLE_TOWNSHIP_DESK: return SJ_ROLE_TOWNSHIP_STAFF;
    case SJ_NODE_ROLE_COUNTY_DESK: return SJ_ROLE_COUNTY_OPERATOR;
    case SJ_NODE_ROLE_DEPARTMENT_DESK: return SJ_ROLE_DEPARTMENT_STAFF;
    default: return SJ_ROLE_NONE;
    }
}

static void load_ref(sc_client *c, const char *kind)
{
    uint64_t version = 0;
    uint8_t *data = NULL;
    size_t len = 0;
    if (sc_store_ref_get(c->st, kind, &version, &data, &len, NULL) != 0)
        return;
    if (strcmp(kind, "catalogue") == 0) {
        Sanji__CatalogueSync *m = sanji__catalogue_sync__unpack(NULL, len, data);
        if (m) {
            if (c->catalogue)
                sanji__catalogue_sync__free_unpacked(c->catalogue, NULL);
            c->catalogue = m;
            c->catalogue_version = version;
        }
    } else if (strcmp(kind, "org_tree") == 0) {
        Sanji__OrgTreeSync *m = sanji__org_tree_sync__unpack(NULL, len, data);
        if (m) {
            if (c->org_tree)
                sanji__org_tree_sync__free_unpacked(c->org_tree, NULL);
            c->org_tree = m;
            c->org_tree_version = version;
        }
    } else if (strcmp(kind, "duty") == 0) {
        Sanji__DutySync *m = sanji__duty_sync__unpack(NULL, len, data);
        if (m) {
            if (c->duty)
                sanji__duty_sync__free_unpacked(c->duty, NULL);
            c->duty = m;
        }
    } else {
        Sanji__PersonSync *m = sanji__person_sync__unpack(NULL, len, data);
        if (m) {
            if (c->persons)
                sanji__person_sync__free_unpacked(c->persons, NULL);
            c->persons = m;
            c->person_version = version;
        }
    }
    free(data);
}

const Sanji__CatalogueItem *sc_catalogue_item(const sc_client *c, const char *code)
{
    if (!c->catalogue || !code)
        return NULL;
    for (size_t i = 0; i < c->catalogue->n_items; i++)
        if (strcmp(nz(c->catalogue->items[i]->code), code) == 0)
            return c->catalogue->items[i];
    return NULL;
}

static const Sanji__Person *person_by_id(const sc_client *c, const char *id)
{
    if (!c->persons || !id || !*id)
        return NULL;
    for (size_t i = 0; i < c->persons->n_persons; i++)
        if (strcmp(nz(c->persons->persons[i]->id), id) == 0)
            return c->persons->persons[i];
    return NULL;
}

/* A person who may log in at this node: same org unit, the role of this
 * node, active. */
/* A department desk's staff are those of its department (the identity's
 * name, identity.h); other persons have no department. */
/* A person of this node whether active or not (a deactivated one is told
 * so at login, sc_login()). */
static bool person_of_node(const sc_client *c, const Sanji__Person *p)
{
    const char *department = c->node.role == SJ_NODE_ROLE_DEPARTMENT_DESK ? c->node.name : "";
    return p && strcmp(nz(p->org_unit), c->node.unit) == 0 &&
           (sj_person_role)p->role == role_for_node(c->node.role) &&
           strcmp(nz(p->department), department) == 0;
}

static bool person_fits(const sc_client *c, const Sanji__Person *p)
{
    return p && p->active && person_of_node(c, p);
}

const Sanji__Person *sc_person(const sc_client *c)
{
    const Sanji__Person *p = person_by_id(c, c->person_id);
    return person_fits(c, p) ? p : NULL;
}

int sc_persons(const sc_client *c, sc_person_entry **out, size_t *n, sj_error *err)
{
    *out = NULL;
    *n = 0;
    size_t count = 0;
    for (size_t i = 0; c->persons && i < c->persons->n_persons; i++)
        count += person_fits(c, c->persons->persons[i]);
    if (count == 0)
        return 0;
    sc_person_entry *v = calloc(count, sizeof(*v));
    if (!v)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    size_t k = 0;
    for (size_t i = 0; i < c->persons->n_persons; i++) {
        const Sanji__Person *p = c->persons->persons[i];
        if (!person_fits(c, p))
            continue;
        v[k].id = nz(p->id);
        v[k].name = nz(p->name);
        v[k].role = (sj_person_role)p->role;
        v[k].stand_in = nz(p->stand_in);
        k++;
    }
    *out = v;
    *n = k;
    return 0;
}

const sj_identity *sc_client_node(const sc_client *c)
{
    return &c->node;
}

const char *sc_unit_name(const sc_client *c, const char *code)
{
    for (size_t i = 0; code && c->org_tree && i < c->org_tree->n_units; i++) {
        const Sanji__OrgUnit *u = c->org_tree->units[i];
        if (u->code && strcmp(u->code, code) == 0)
            return u->name && *u->name ? u->name : NULL;
    }
    return NULL;
}

const Sanji__CatalogueSync *sc_catalogue(const sc_client *c)
{
    return c->catalogue;
}

const Sanji__Department *sc_item_department(const sc_client *c, const char *item_code)
{
    for (size_t i = 0; item_code && c->org_tree && i < c->org_tree->n_departments; i++) {
        const Sanji__Department *d = c->org_tree->departments[i];
        for (size_t k = 0; d->active && k < d->n_item_codes; k++)
            if (strcmp(nz(d->item_codes[k]), item_code) == 0)
                return d;
    }
    return NULL;
}

const Sanji__OrgTreeSync *sc_org_tree(const sc_client *c)
{
    return c->org_tree;
}

const Sanji__DutySync *sc_duty(const sc_client *c)
{
    return c->duty;
}

/* The state machine's view of a case record (borrowing its text).  An item
 * this node does not know counts as finishable at the county only; the
 * county decides anyway. */
static void case_view(const sc_client *c, const Sanji__Case *p, sj_case *o)
{
    const Sanji__CatalogueItem *it = sc_catalogue_item(c, p->item_code);
    sj_case_pb_to_case(p, it ? (sj_level)it->min_level : SJ_LEVEL_COUNTY, o);
}

/* ---- the link ---------------------------------------------------------- */

static int send_env(sc_client *c, Sanji__Envelope *env, uint8_t id_out[16], sj_error *err)
{
    if (!c->conn)
        return sj_error_set(err, SJ_ECLOSED, "%s", _("Not connected to the township relay or the county."));
    return sj_conn_send(c->conn, env, id_out, err);
}

/* True when some case message on case_id is still waiting (SAVED or
 * STORED) among the n unfinished rows e. */
static bool case_pending(const sc_outbox_entry *e, size_t n, const uint8_t case_id[16])
{
    for (size_t i = 0; i < n; i++)
        if (e[i].action != SC_OUTBOX_CHUNK && memcmp(e[i].case_id, case_id, 16) == 0)
            return true;
    return false;
}

/* Sends what the outbox holds and this link has not sent yet.  Case
 * messages go first, in outbox order.  Attachment chunks follow, in
 * outbox order, each only once every case message on its case has been
 * answered by the county (so the county knows the case and its scope when
 * the chunk arrives), and at most attach_in_flight of them sent and not
 * yet stored by the relay: a large upload never stands in front of a case
 * action for more than that many chunks on a slow link. */
/* Sends one outbox row (listed without its payload): its payload is read
 * now. */
static int send_row(sc_client *c, const sc_outbox_entry *row, sj_error *err)
{
    sc_outbox_entry *full = NULL;
    if (sc_store_outbox_get(c->st, row->message_id, &full, err) != 0) {
        /* The store could not be read now: the row waits for the next
         * send, as under backpressure, and is not skipped. */
        SJ_LOG_WARN(MOD, "outbox read failed", "error", err->message);
        return SJ_EBACKPRESSURE;
    }
    int rc;
    rc = sj_conn_send_payload(c->conn, full->payload, full->payload_len, err);
    sc_store_outbox_free(full, 1);
    return rc;
}

static void flush_outbox(sc_client *c)
{
    if (!c->conn || !c->welcomed || sj_conn_blocked(c->conn))
        return;
    sc_outbox_entry *e = NULL;
    size_t n = 0;
    sj_error err;
    if (sc_store_outbox_pending(c->st, &e, &n, &err) != 0) {
        SJ_LOG_WARN(MOD, "outbox read failed", "error", err.message);
        return;
    }
    unsigned in_flight = 0;
    bool stop = false;
    for (size_t i = 0; i < n && !stop; i++) {
        if (e[i].action == SC_OUTBOX_CHUNK) {
            if (e[i].seq <= c->chunk_upto && e[i].state == SC_OUT_SAVED)
                in_flight++;
            continue;
        }
        if (e[i].seq <= c->sent_upto)
            continue;
        int rc = send_row(c, &e[i], &err);
        if (rc == SJ_EBACKPRESSURE || rc == SJ_ECLOSED) {
            stop = true; /* on_drain or the next link resumes */
            break;
        }
        if (rc == SJ_EUNSUPPORTED) {
            SJ_LOG_WARN(MOD, "outbox message waits for the relay's upgrade", "error", err.message);
        } else if (rc != 0) {
            /* A payload that cannot be sent at all (over the frame limit):
             * it was checked when saved, so this is a damaged row.  Skip it
             * on this link and say so; it stays in the outbox. */
            SJ_LOG_ERROR(MOD, "outbox message cannot be sent", "error", err.message);
        }
        c->sent_upto = e[i].seq;
    }
    for (size_t i = 0; i < n && !stop; i++) {
        /* A chunk the relay already stored goes again after a reconnect
         * like every unanswered message: the relay answers it from its
         * queue or its results (a result handed over just before a crash
         * here would otherwise be lost). */
        if (e[i].action != SC_OUTBOX_CHUNK || e[i].seq <= c->chunk_upto)
            continue;
        if (in_flight >= c->attach_in_flight || case_pending(e, n, e[i].case_id))
            break; /* the next ack or answer resumes, in order */
        int rc = send_row(c, &e[i], &err);
        if (rc == SJ_EBACKPRESSURE || rc == SJ_ECLOSED)
            break;
        if (rc != 0)
            SJ_LOG_ERROR(MOD, "outbox message cannot be sent", "error", err.message);
        c->chunk_upto = e[i].seq;
        in_flight++;
    }
    sc_store_outbox_free(e, n);
}

/* A county desk does not hold the county: it searches at the county by
 * Query (PROTOCOL.md "Case search") and keeps in its store only the cases
 * it opens or acts on.  Its Hello asks for no feed history (live_only), and
 * the live updates it then receives refresh the cases it holds and tell the
 * pages to re-read; they never fill the store.  A county of a million cases
 * would otherwise mean minutes of download and most of a gigabyte here. */
static bool live_only(const sc_client *c)
{
    /* A department desk too: it works on the few cases dispatched to it,
     * and the county sends it nothing of the others (server/session.c). */
    return c->node.role == SJ_NODE_ROLE_COUNTY_DESK ||
           c->node.role == SJ_NODE_ROLE_DEPARTMENT_DESK;
}

static void send_hello(sc_client *c)
{
    sc_cursor *cur = NULL;
    size_t n = 0;
    sj_error err;
    if (!live_only(c) && sc_store_cursors(c->st, &cur, &n, &err) != 0)
        SJ_LOG_WARN(MOD, "cursor read failed", "error", err.message);
    Sanji__FeedCursor *fc = calloc(n ? n : 1, sizeof(*fc));
    Sanji__FeedCursor **pfc = calloc(n ? n : 1, sizeof(*pfc));
    if (!fc || !pfc) {
        free(fc);
        free(pfc);
        free(cur);
        sj_conn_close(c->conn, SJ_ENOMEM, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sanji__feed_cursor__init(&fc[i]);
        fc[i].village = cur[i].village;
        fc[i].after_seq = cur[i].after_seq;
        pfc[i] = &fc[i];
    }
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = SJ_PROTOCOL_LEVEL_MIN;
    h.max_version = SJ_PROTOCOL_LEVEL;
    h.software = (char *)"sanji-client " SANJI_VERSION;
    h.cursors = pfc;
    h.n_cursors = n;
    h.catalogue_version = c->catalogue_version;
    h.org_tree_version = c->org_tree_version;
    h.person_version = c->person_version;
    h.live_only = live_only(c);
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    if (send_env(c, &env, NULL, &err) != 0)
        SJ_LOG_WARN(MOD, "hello not sent", "error", err.message);
    free(fc);
    free(pfc);
    free(cur);
}

static void send_feed_request(sc_client *c)
{
    sc_cursor *cur = NULL;
    size_t n = 0;
    sj_error err;
    if (sc_store_cursors(c->st, &cur, &n, &err) != 0)
        return;
    Sanji__FeedCursor *fc = calloc(n ? n : 1, sizeof(*fc));
    Sanji__FeedCursor **pfc = calloc(n ? n : 1, sizeof(*pfc));
    if (fc && pfc) {
        for (size_t i = 0; i < n; i++) {
            sanji__feed_cursor__init(&fc[i]);
            fc[i].village = cur[i].village;
            fc[i].after_seq = cur[i].after_seq;
            pfc[i] = &fc[i];
        }
        Sanji__FeedRequest fr = SANJI__FEED_REQUEST__INIT;
        fr.cursors = pfc;
        fr.n_cursors = n;
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_FEED_REQUEST;
        env.feed_request = &fr;
        if (send_env(c, &env, NULL, &err) == 0)
            c->gap_requested = true;
    }
    free(fc);
    free(pfc);
    free(cur);
}

static void on_ref(sc_client *c, const char *kind, uint64_t version, const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    sj_error err;
    if (!buf)
        return;
    protobuf_c_message_pack(m, buf);
    if (sc_store_ref_put(c->st, kind, version, buf, len, &err) != 0)
        SJ_LOG_WARN(MOD, "reference data not stored", "kind", kind, "error", err.message);
    else
        load_ref(c, kind);
    if (strcmp(kind, "persons") == 0)
        pending_settle(c);
    free(buf);
    sc_event ev = {.type = SC_EV_REFDATA, .kind = kind};
    emit(c, &ev);
}

/* Stores c (and ev) if this desk holds the case already, in one
 * transaction; a case it does not hold stays at the county. */
static int keep_if_held(sc_client *c, const Sanji__Case *cs, const Sanji__CaseEvent *ev, bool always,
                        sj_error *err)
{
    Sanji__Case *have = NULL;
    if (!always && sc_store_case_get(c->st, cs->case_id.data, &have, NULL, NULL) != 0)
        return 0;
    if (have)
        sanji__case__free_unpacked(have, NULL);
    int rc = sc_store_begin(c->st, err);
    if (rc != 0)
        return rc;
    rc = sc_store_case_put(c->st, cs, err);
    if (rc == 0 && ev && ev->case_id.len == 16 && ev->seq > 0)
        rc = sc_store_event_put(c->st, ev, err);
    if (rc == 0)
        rc = sc_store_commit(c->st, err);
    if (rc != 0)
        sc_store_rollback(c->st);
    return rc;
}

/* A live update on a county desk (live_only()): no cursor, no gap to fill;
 * the desk re-reads its pages at the county. */
static void on_live_update(sc_client *c, const Sanji__FeedUpdate *u)
{
    if (u->snapshot->case_id.len != 16)
        return;
    sj_error err;
    if (keep_if_held(c, u->snapshot, u->event, false, &err) != 0) {
        SJ_LOG_WARN(MOD, "live update not stored", "error", err.message);
        return;
    }
    sc_event ev = {.type = SC_EV_CASE_CHANGED,
                   .case_id = u->snapshot->case_id.data,
                   .case_number = nz(u->snapshot->number),
                   .snapshot = u->snapshot,
                   .event = u->event};
    emit(c, &ev);
}

static void on_feed(sc_client *c, const Sanji__FeedUpdate *u)
{
    if (u->caught_up) {
        c->caught_up = true;
        c->gap_requested = false;
        sc_event ev = {.type = SC_EV_CAUGHT_UP};
        emit(c, &ev);
        return;
    }
    /* Only feeds of this node's scope are kept (G5: a peer that sends
     * others' cases is ignored, not obeyed). */
    if (!u->village || !sj_orgunit_contains(c->node.unit, u->village) || !u->snapshot ||
        strcmp(nz(u->snapshot->village), u->village) != 0) {
        SJ_LOG_WARN(MOD, "feed update outside scope ignored", "village", nz(u->village));
        return;
    }
    if (live_only(c)) {
        on_live_update(c, u);
        return;
    }
    sc_feed_result r;
    sj_error err;
    if (sc_store_feed_apply(c->st, u, &r, &err) != 0) {
        SJ_LOG_WARN(MOD, "feed update not stored", "error", err.message);
        return;
    }
    if (r == SC_FEED_GAP) {
        if (!c->gap_requested)
            send_feed_request(c);
        return;
    }
    if (r != SC_FEED_STORED)
        return;
    sc_event ev = {.type = SC_EV_CASE_CHANGED,
                   .case_id = u->snapshot->case_id.data,
                   .case_number = nz(u->snapshot->number),
                   .snapshot = u->snapshot,
                   .event = u->event};
    emit(c, &ev);
}

/* The county's answer to an administration request (sc_admin()): true
 * when a was one. */
static bool admin_answered(sc_client *c, const Sanji__Ack *a)
{
    for (pending_query **pp = &c->queries; *pp; pp = &(*pp)->next) {
        pending_query *q = *pp;
        if (q->admin_cb && memcmp(q->id, a->message_id.data, 16) == 0) {
            *pp = q->next;
            int code = a->status == SANJI__ACK_STATUS__ACK_STATUS_APPLIED ? 0
                       : a->code                                        ? a->code
                                                                        : SJ_EINTERNAL;
            q->admin_cb(c, code, nz(a->reason), a->changed, q->data);
            free(q);
            return true;
        }
    }
    return false;
}

/* The answer to an attachment's chunk: the outbox row and the
 * attachment's progress move together, in one transaction (a crash
 * between them would leave the count of recorded chunks short forever);
 * then the next chunks may go. */
static void on_chunk_ack(sc_client *c, const Sanji__Ack *a, const sc_outbox_entry *e,
                         sc_out_state state, const char *reason)
{
    sj_error err;
    Sanji__Envelope *env = NULL;
    const uint8_t *aid = NULL;
    if (sj_envelope_unpack(e->payload, e->payload_len, &env, &err) == 0 &&
        env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK &&
        env->attachment_chunk->attachment_id.len == 16)
        aid = env->attachment_chunk->attachment_id.data;
    bool changed = false;
    int rc = sc_store_begin(c->st, &err);
    if (rc == 0)
        rc = sc_store_outbox_mark(c->st, a->message_id.data, state,
                                  state == SC_OUT_REFUSED ? a->code : 0,
                                  state == SC_OUT_REFUSED ? reason : "", nz(a->case_number),
                                  a->case_version, sj_clock_real_ms(), &changed, &err);
    if (rc == 0 && changed && aid && state != SC_OUT_STORED)
        rc = sc_store_attach_progress(c->st, aid, state == SC_OUT_APPLIED, a->code, reason, &err);
    if (rc == 0)
        rc = sc_store_commit(c->st, &err);
    sj_envelope_free(env);
    if (rc != 0) {
        sc_store_rollback(c->st);
        SJ_LOG_WARN(MOD, "outbox update failed", "error", err.message);
        return;
    }
    if (changed && state == SC_OUT_REFUSED) {
        sc_event ev = {.type = SC_EV_REFUSED,
                       .message_id = a->message_id.data,
                       .case_id = e->case_id,
                       .action = (sj_case_action)e->action,
                       .case_number = nz(a->case_number),
                       .code = a->code,
                       .reason = reason};
        emit(c, &ev);
    }
    flush_outbox(c); /* also after a repeated answer: a resent chunk leaves room */
}

static void on_ack(sc_client *c, const Sanji__Ack *a)
{
    if (a->message_id.len != 16 || admin_answered(c, a))
        return;
    sc_out_state state;
    switch (a->status) {
    case SANJI__ACK_STATUS__ACK_STATUS_STORED: state = SC_OUT_STORED; break;
    case SANJI__ACK_STATUS__ACK_STATUS_APPLIED: state = SC_OUT_APPLIED; break;
    case SANJI__ACK_STATUS__ACK_STATUS_REFUSED: state = SC_OUT_REFUSED; break;
    default: return;
    }
    sc_outbox_entry *e = NULL;
    sj_error err;
    if (sc_store_outbox_get(c->st, a->message_id.data, &e, &err) != 0)
        return; /* not ours, or already pruned: nothing to do */
    bool changed = false;
    const char *reason = nz(a->reason);
    if (state == SC_OUT_REFUSED && !*reason)
        reason = _(sj_err_text(a->code));
    if (e->action == SC_OUTBOX_CHUNK) {
        on_chunk_ack(c, a, e, state, reason);
        sc_store_outbox_free(e, 1);
        return;
    }
    if (sc_store_outbox_mark(c->st, a->message_id.data, state, state == SC_OUT_REFUSED ? a->code : 0,
                             state == SC_OUT_REFUSED ? reason : "", nz(a->case_number),
                             a->case_version, sj_clock_real_ms(), &changed, &err) != 0) {
        SJ_LOG_WARN(MOD, "outbox update failed", "error", err.message);
        sc_store_outbox_free(e, 1);
        return;
    }
    if (changed) {
        if (state == SC_OUT_REFUSED)
            pending_drop_for(c, e);
        if (state == SC_OUT_REFUSED && a->current && a->current->case_id.len == 16 &&
            sj_orgunit_contains(c->node.unit, nz(a->current->village))) {
            if (sc_store_case_put(c->st, a->current, &err) == 0) {
                sc_event cev = {.type = SC_EV_CASE_CHANGED,
                                .case_id = a->current->case_id.data,
                                .case_number = nz(a->current->number),
                                .snapshot = a->current};
                emit(c, &cev);
            }
        }
        if (state >= SC_OUT_APPLIED &&
            sc_store_case_prediction_needed(c->st, e->case_id) == 0)
            sc_store_case_put_predicted(c->st, e->case_id, NULL, &err);
        sc_event ev = {.type = state == SC_OUT_STORED    ? SC_EV_STORED
                               : state == SC_OUT_APPLIED ? SC_EV_APPLIED
                                                         : SC_EV_REFUSED,
                       .message_id = a->message_id.data,
                       .case_id = e->case_id,
                       .action = (sj_case_action)e->action,
                       .case_number = nz(a->case_number),
                       .case_version = a->case_version,
                       .code = state == SC_OUT_REFUSED ? a->code : 0,
                       .reason = state == SC_OUT_REFUSED ? reason : ""};
        emit(c, &ev);
        if (state >= SC_OUT_APPLIED)
            flush_outbox(c); /* chunks waiting for this case may go */
    }
    sc_store_outbox_free(e, 1);
}

static void on_query_result(sc_client *c, const Sanji__QueryResult *r)
{
    pending_query **pp = &c->queries;
    while (*pp) {
        pending_query *q = *pp;
        if (!q->admin_cb && r->in_reply_to.len == 16 && memcmp(q->id, r->in_reply_to.data, 16) == 0) {
            *pp = q->next;
            q->cb(c, r->code, r, q->data);
            free(q);
            return;
        }
        pp = &q->next;
    }
}

static void fail_queries(sc_client *c, int status)
{
    while (c->queries) {
        pending_query *q = c->queries;
        c->queries = q->next;
        if (q->admin_cb)
            q->admin_cb(c, status, NULL, false, q->data);
        else
            q->cb(c, status, NULL, q->data);
        free(q);
    }
}

/* ---- what the link taught us: lasting refusals and the network's time ---- */

/* A refusal only a person can fix (a revoked or expired certificate, a node
 * outside the relay's township) is kept in the store, so that every later
 * run of the CLI knows at once that saved work cannot go out, and says so. */
static void note_lasting_refusal(sc_client *c, int code)
{
    c->lasting_refusal = code;
    char v[16];
    snprintf(v, sizeof v, "%d", code);
    sj_error err;
    if (sc_store_meta_set(c->st, "lasting_refusal", v, &err) != 0)
        SJ_LOG_WARN("sanji", "lasting refusal not stored", "why", err.message);
}

/* The peer took the link: any lasting refusal is over, and its clock tells
 * the network's time (sc_check_clock()). */
static void note_link_accepted(sc_client *c, int64_t server_time_ms)
{
    sj_error err;
    if (c->lasting_refusal) {
        c->lasting_refusal = 0;
        if (sc_store_meta_set(c->st, "lasting_refusal", "0", &err) != 0)
            SJ_LOG_WARN("sanji", "lasting refusal not cleared", "why", err.message);
    }
    if (server_time_ms <= 0)
        return;
    c->clock_offset_ms = server_time_ms - sj_clock_real_ms();
    if (server_time_ms > c->network_time_ms) {
        c->network_time_ms = server_time_ms;
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)server_time_ms);
        if (sc_store_meta_set(c->st, "network_time_ms", v, &err) != 0)
            SJ_LOG_WARN("sanji", "network time not stored", "why", err.message);
    }
}

static int64_t meta_i64(sc_client *c, const char *key)
{
    char v[32];
    if (sc_store_meta_get(c->st, key, v, sizeof v, NULL) != 0)
        return 0;
    return strtoll(v, NULL, 10);
}

int sc_lasting_refusal(const sc_client *c)
{
    return c->lasting_refusal;
}

const char *sc_lasting_advice(int code)
{
    switch (code) {
    case SJ_ETLS_REVOKED:
        return _("This station's certificate has been revoked; ask the county organisation "
                 "department for a new one. Work saved here cannot be sent until it is replaced.");
    case SJ_ETLS_EXPIRED:
        return _("A certificate has expired or is not valid yet: check this computer's date and "
                 "time; if it is right, ask the county organisation department for a new "
                 "certificate. Work saved here cannot be sent until then.");
    case SJ_ESCOPE:
        return _("The relay refuses this station as not of its township: check the relay address "
                 "in the configuration, or ask the county organisation department. Work saved "
                 "here cannot be sent until then.");
    case SJ_ETLS_UNTRUSTED:
        return _("The other side's certificate is not from this county's CA: check the address "
                 "and the CA file in the configuration, or ask the county organisation "
                 "department. Work saved here cannot be sent until then.");
    default:
        return _("The other side refuses this station's certificate (wrong role or identity); "
                 "ask the county organisation department for the right one. Work saved here "
                 "cannot be sent until then.");
    }
}

int sc_check_clock(const sc_client *c, int64_t now, sj_error *err)
{
    int64_t network = 0;
    if (c->welcomed && (c->clock_offset_ms > SC_CLOCK_SKEW_MAX_MS ||
                        c->clock_offset_ms < -SC_CLOCK_SKEW_MAX_MS))
        network = now + c->clock_offset_ms;
    else if (c->network_time_ms > now + SC_CLOCK_SKEW_MAX_MS)
        network = c->network_time_ms;
    if (!network)
        return 0;
    char shows[SJ_CLOCK_DATE_SIZE + 16], was[SJ_CLOCK_DATE_SIZE + 16];
    sj_clock_format_china(now, shows, sizeof shows);
    sj_clock_format_china(network, was, sizeof was);
    return sj_error_set(err, SJ_EBAD_TIME,
                        _("This computer's date and time are wrong: it shows %s, but the network's "
                          "time was %s. Correct the computer's date and time, then save again; "
                          "nothing was saved."),
                        shows, was);
}

static void d_on_up(sj_dialer *d, sj_conn *conn, const sj_identity *peer)
{
    sc_client *c = sj_dialer_data(d);
    c->conn = conn;
    c->welcomed = false;
    c->caught_up = false;
    c->gap_requested = false;
    c->sent_upto = 0;
    c->chunk_upto = 0;
    snprintf(c->peer_node, sizeof(c->peer_node), "%s", peer->node_id);
    send_hello(c);
}

/* Wrong passwords not yet reported upward (common/login_report.h), kept in
 * the store: a `sanji login` that ends before any link reports them with
 * the next run that links. */
#define LOGIN_REPORT_KEY "login_report"
/* The time of the last login here (ms), reported upward for presence. */
#define LOGIN_AT_KEY "login_at"

static void login_report_read(sc_client *c, char text[SJ_LOGIN_REPORT_SIZE])
{
    if (sc_store_meta_get(c->st, LOGIN_REPORT_KEY, text, SJ_LOGIN_REPORT_SIZE, NULL) != 0)
        text[0] = '\0';
}

static void send_status(sc_client *c);

static void d_on_message(sj_dialer *d, sj_conn *conn, const Sanji__Envelope *env,
                         const uint8_t *payload, size_t len)
{
    sc_client *c = sj_dialer_data(d);
    (void)payload;
    (void)len;
    if (!c->welcomed && env->body_case != SANJI__ENVELOPE__BODY_WELCOME &&
        env->body_case != SANJI__ENVELOPE__BODY_GOODBYE) {
        sj_conn_close(conn, SJ_EPROTOCOL, "Welcome expected");
        return;
    }
    switch (env->body_case) {
    case SANJI__ENVELOPE__BODY_WELCOME: {
        const Sanji__Welcome *w = env->welcome;
        if (c->welcomed || w->version < SJ_PROTOCOL_LEVEL_MIN || w->version > SJ_PROTOCOL_LEVEL) {
            sj_conn_close(conn, SJ_EPROTOCOL, "unexpected Welcome");
            return;
        }
        /* An older relay or county: what it does not know stays in the
         * outbox until it is upgraded (flush_outbox()). */
        sj_conn_set_level(conn, w->version);
        c->welcomed = true;
        /* A county answers for itself; a relay says whether the county is
         * reachable behind it. */
        bool county = sj_conn_peer(conn) && sj_conn_peer(conn)->role == SJ_NODE_ROLE_COUNTY;
        c->upstream_online = county ? true : w->upstream_online;
        c->upstream_last_ms = county ? w->server_time_ms : w->upstream_last_contact_ms;
        c->last_error = 0;
        c->last_error_text[0] = '\0';
        note_link_accepted(c, w->server_time_ms);
        sc_event ev = {.type = SC_EV_LINK_UP,
                       .peer_node = c->peer_node,
                       .upstream_online = c->upstream_online};
        emit(c, &ev);
        flush_outbox(c);
        char report[SJ_LOGIN_REPORT_SIZE];
        login_report_read(c, report);
        if (report[0])
            send_status(c);
        break;
    }
    case SANJI__ENVELOPE__BODY_ACK: on_ack(c, env->ack); break;
    case SANJI__ENVELOPE__BODY_FEED_UPDATE: on_feed(c, env->feed_update); break;
    case SANJI__ENVELOPE__BODY_QUERY_RESULT: on_query_result(c, env->query_result); break;
    case SANJI__ENVELOPE__BODY_CATALOGUE_SYNC:
        on_ref(c, "catalogue", env->catalogue_sync->version, &env->catalogue_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_ORG_TREE_SYNC:
        on_ref(c, "org_tree", env->org_tree_sync->version, &env->org_tree_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_PERSON_SYNC:
        on_ref(c, "persons", env->person_sync->version, &env->person_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_DUTY_SYNC:
        on_ref(c, "duty", env->duty_sync->version, &env->duty_sync->base);
        break;
    case SANJI__ENVELOPE__BODY_HEARTBEAT:
        /* A relay repeats its county link's state on its heartbeats and
         * sends one at once when it changes; a county speaks for itself. */
        if (env->heartbeat->status && sj_conn_peer(conn) &&
            sj_conn_peer(conn)->role == SJ_NODE_ROLE_RELAY) {
            bool was = c->upstream_online;
            c->upstream_online = env->heartbeat->status->upstream_online;
            c->upstream_last_ms = env->heartbeat->status->upstream_last_contact_ms;
            if (was != c->upstream_online) {
                sc_event ev = {.type = SC_EV_UPSTREAM,
                               .peer_node = c->peer_node,
                               .upstream_online = c->upstream_online};
                emit(c, &ev);
            }
        }
        break;
    case SANJI__ENVELOPE__BODY_GOODBYE: break; /* the link reports it on close */
    default:
        /* Upward-only messages from our upstream: a protocol breach. */
        sj_conn_close(conn, SJ_EPROTOCOL, "message not allowed downward");
        break;
    }
}

static void d_on_drain(sj_dialer *d, sj_conn *conn)
{
    (void)conn;
    flush_outbox(sj_dialer_data(d));
}

static void d_on_down(sj_dialer *d, int status, const sj_error *why, uint64_t retry_in_ms)
{
    sc_client *c = sj_dialer_data(d);
    bool was_up = c->conn != NULL;
    c->conn = NULL;
    c->welcomed = false;
    c->caught_up = false;
    c->last_error = status;
    snprintf(c->last_error_text, sizeof(c->last_error_text), "%s", why ? why->message : "");
    if (sj_err_is_lasting(status))
        note_lasting_refusal(c, status);
    fail_queries(c, status ? status : SJ_ECLOSED);
    sc_event ev = {.type = SC_EV_LINK_DOWN,
                   .code = status,
                   .reason = why ? why->message : "",
                   .retry_in_ms = retry_in_ms,
                   .upstream_online = false};
    (void)was_up;
    emit(c, &ev);
}

static void maybe_stopped(sc_client *c)
{
    if (c->stopping && c->busy == 0 && c->on_stopped) {
        void (*cb)(sc_client *, void *) = c->on_stopped;
        c->on_stopped = NULL;
        cb(c, c->data);
    }
}

static void d_on_stopped(sj_dialer *d)
{
    sc_client *c = sj_dialer_data(d);
    c->busy--;
    maybe_stopped(c);
}

static const sj_dialer_callbacks DIALER_CBS = {
    .on_up = d_on_up,
    .on_message = d_on_message,
    .on_drain = d_on_drain,
    .on_down = d_on_down,
    .on_stopped = d_on_stopped,
};

/* Our status upward: with the heartbeat, and at once after a Welcome or a
 * wrong password while wrong passwords wait to be reported.  They are
 * dropped from the store once handed to the link. */
static void send_status(sc_client *c)
{
    if (!c->conn || !c->welcomed)
        return;
    sc_outbox_counts oc;
    sj_error err;
    sc_store_outbox_counts(c->st, &oc, &err);
    Sanji__NodeStatus ns = SANJI__NODE_STATUS__INIT;
    ns.node = c->node.node_id;
    ns.role = (Sanji__NodeRole)c->node.role;
    ns.org_unit = c->node.unit;
    ns.queue_depth = oc.saved + oc.stored;
    ns.oldest_queued_age_ms = oc.oldest_unfinished_ms ? sj_clock_real_ms() - oc.oldest_unfinished_ms : 0;
    ns.software = (char *)"sanji-client " SANJI_VERSION;
    ns.reported_at_ms = sj_clock_real_ms();
    /* Presence (docs/SERVER.md "Station presence"): whether someone is
     * logged in in this program now (the desktop's login; the CLI takes
     * the login `sanji login` remembered, sc_use_person()). */
    char at[32];
    ns.logged_in = c->person_id[0] != '\0';
    if (sc_store_meta_get(c->st, LOGIN_AT_KEY, at, sizeof at, NULL) == 0)
        ns.last_login_ms = strtoll(at, NULL, 10);
    char report[SJ_LOGIN_REPORT_SIZE];
    login_report_read(c, report);
    Sanji__LoginFailures **lf = NULL;
    size_t n_lf = 0;
    if (sj_login_report_parse(report, &lf, &n_lf) == 0) {
        ns.login_failures = lf;
        ns.n_login_failures = n_lf;
    }
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    hb.seq = ++c->heartbeat_seq;
    hb.status = &ns;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    if (send_env(c, &env, NULL, &err) == 0 && n_lf > 0 &&
        sc_store_meta_set(c->st, LOGIN_REPORT_KEY, "", &err) != 0)
        SJ_LOG_WARN("sanji", "reported wrong passwords not cleared", "why", err.message);
    sj_login_report_free(lf, n_lf);
}

static void on_heartbeat(uv_timer_t *t)
{
    send_status(t->data);
}

static void on_timer_closed(uv_handle_t *h)
{
    sc_client *c = h->data;
    c->busy--;
    maybe_stopped(c);
}

/* ---- life cycle -------------------------------------------------------- */

int sc_client_new(uv_loop_t *loop, const sc_config *cfg, sc_event_cb cb, void *data,
                  sc_client **out, sj_error *err)
{
    *out = NULL;
    if (!loop || !cfg || !cfg->cert_file || !cfg->key_file || !cfg->ca_file || !cfg->store_path)
        return sj_error_set(err, SJ_EINVAL,
                            "配置不完整：需要证书、私钥、CA 证书和本地存储路径 / certificate, key, CA "
                            "and store path are required");
    sc_client *c = calloc(1, sizeof(*c));
    if (!c)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    c->loop = loop;
    c->cb = cb;
    c->data = data;
    c->backoff_base_ms = cfg->backoff_base_ms;
    c->backoff_cap_ms = cfg->backoff_cap_ms;
    c->attach_max_file = cfg->attach_max_file ? cfg->attach_max_file : SJ_ATTACH_MAX_FILE_BYTES;
    c->attach_max_case = cfg->attach_max_case ? cfg->attach_max_case : SJ_ATTACH_MAX_CASE_BYTES;
    c->attach_in_flight = cfg->attach_in_flight ? cfg->attach_in_flight : 2;
    static const sj_node_role peers[] = {SJ_NODE_ROLE_RELAY, SJ_NODE_ROLE_COUNTY};
    sj_tls_config tc = {
        .ca_file = cfg->ca_file,
        .cert_file = cfg->cert_file,
        .key_file = cfg->key_file,
        .crl_file = cfg->crl_file && *cfg->crl_file ? cfg->crl_file : NULL,
        .is_server = false,
        .allowed_peer_roles = peers,
        .n_allowed_peer_roles = 2,
    };
    c->tls = sj_tls_ctx_new(&tc, err);
    if (!c->tls)
        goto fail;
    const sj_identity *me = sj_tls_ctx_identity(c->tls);
    if (!me || role_for_node(me->role) == SJ_ROLE_NONE) {
        sj_error_set(err, SJ_ETLS_BAD_IDENTITY,
                     "证书 %s 不是村、乡镇或县的工作站证书 / certificate %s is not a station or "
                     "desk certificate",
                     cfg->cert_file, cfg->cert_file);
        goto fail;
    }
    c->node = *me;
    if (sc_store_open(cfg->store_path, c->node.node_id, &c->st, err) != 0)
        goto fail;
    if (cfg->n_addresses) {
        c->addresses = calloc(cfg->n_addresses, sizeof(char *));
        if (!c->addresses)
            goto nomem;
        for (size_t i = 0; i < cfg->n_addresses; i++) {
            c->addresses[i] = strdup(cfg->addresses[i]);
            if (!c->addresses[i])
                goto nomem;
            c->n_addresses++;
        }
    }
    if (cfg->expected_peer && *cfg->expected_peer) {
        sj_identity tmp;
        if (sj_identity_parse_node_id(cfg->expected_peer, &tmp, err) != 0)
            goto fail;
        if (!(c->expected_peer = strdup(cfg->expected_peer)))
            goto nomem;
    }
    load_ref(c, "catalogue");
    load_ref(c, "org_tree");
    load_ref(c, "persons");
    load_ref(c, "duty");
    c->lasting_refusal = (int)meta_i64(c, "lasting_refusal");
    if (!sj_err_is_lasting(c->lasting_refusal))
        c->lasting_refusal = 0;
    c->network_time_ms = meta_i64(c, "network_time_ms");
    *out = c;
    return 0;
nomem:
    sj_error_set(err, SJ_ENOMEM, NULL);
fail:
    sc_client_free(c);
    return err ? err->code : SJ_EINVAL;
}

int sc_client_start(sc_client *c, sj_error *err)
{
    if (c->started)
        return sj_error_set(err, SJ_EINVAL, "client already started");
    if (c->n_addresses == 0)
        return sj_error_set(err, SJ_ECONFIG_MISSING,
                            "配置中没有服务器地址（server.address）/ no server address configured");
    sj_dialer_options o = sj_dialer_options_default();
    o.addresses = (const char *const *)c->addresses;
    o.n_addresses = c->n_addresses;
    o.expected_peer_node = c->expected_peer;
    if (c->backoff_base_ms)
        o.backoff_base_ms = c->backoff_base_ms;
    if (c->backoff_cap_ms)
        o.backoff_cap_ms = c->backoff_cap_ms;
    o.conn.idle_timeout_ms = IDLE_MS;
    o.conn.max_frame = MAX_FRAME;
    c->dialer = sj_dialer_new(c->loop, c->tls, &o, &DIALER_CBS, c, err);
    if (!c->dialer)
        return err ? err->code : SJ_EINVAL;
    uv_timer_init(c->loop, &c->heartbeat);
    c->heartbeat.data = c;
    uv_timer_start(&c->heartbeat, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
    c->started = true;
    c->busy += 2; /* the dialer and the timer */
    return sj_dialer_start(c->dialer);
}

void sc_client_stop(sc_client *c, void (*on_stopped)(sc_client *c, void *data))
{
    if (c->stopping)
        return;
    c->stopping = true;
    c->on_stopped = on_stopped;
    fail_queries(c, SJ_ECANCELLED);
    if (c->started) {
        uv_timer_stop(&c->heartbeat);
        uv_close((uv_handle_t *)&c->heartbeat, on_timer_closed);
        sj_dialer_stop(c->dialer);
    }
    maybe_stopped(c);
}

void sc_client_free(sc_client *c)
{
    if (!c)
        return;
    if (c->busy)
        abort(); /* caller bug: free before on_stopped */
    sj_dialer_free(c->dialer);
    sc_store_close(c->st);
    sj_tls_ctx_free(c->tls);
    for (size_t i = 0; i < c->n_addresses; i++)
        free(c->addresses[i]);
    free(c->addresses);
    free(c->expected_peer);
    if (c->catalogue)
        sanji__catalogue_sync__free_unpacked(c->catalogue, NULL);
    if (c->org_tree)
        sanji__org_tree_sync__free_unpacked(c->org_tree, NULL);
    if (c->persons)
        sanji__person_sync__free_unpacked(c->persons, NULL);
    if (c->duty)
        sanji__duty_sync__free_unpacked(c->duty, NULL);
    free(c);
}

/* ---- persons ----------------------------------------------------------- */

typedef struct login_work {
    uv_work_t req;
    sc_client *c;
    char person_id[128];
    bool inactive;            /* the county deactivated this person */
    char fail_key[160];       /* the store's key of this person's failures */
    char verifier[SJ_PASSWORD_VERIFIER_SIZE];
    char *password;
    int status;
    sj_error err;
    sc_login_cb cb;
    void *data;
} login_work;

/* Password guessing is slowed per person: after LOGIN_FAILS_FREE wrong
 * passwords in a row, each further try waits LOGIN_WAIT_BASE_MS, doubling
 * with every failure up to LOGIN_WAIT_MAX_MS.  The count and the time of the
 * last failure are kept in the station's store ("login_fail:<person>"), so
 * restarting the program does not reset them; unknown names share one
 * count, so guessing names is slowed too.  A right password clears it. */
#define LOGIN_FAILS_FREE SJ_LOGIN_REPEATED
#define LOGIN_WAIT_BASE_MS 5000
#define LOGIN_WAIT_MAX_MS (15 * 60 * 1000)

static unsigned login_failures_get(sc_client *c, const char *key, int64_t *last_ms)
{
    char v[64];
    unsigned n = 0;
    long long last = 0;
    if (sc_store_meta_get(c->st, key, v, sizeof v, NULL) == 0 &&
        sscanf(v, "%u %lld", &n, &last) != 2)
        n = 0, last = 0;
    if (last_ms)
        *last_ms = last;
    return n;
}

static void login_failures_set(sc_client *c, const char *key, unsigned n, int64_t at_ms)
{
    char v[64];
    snprintf(v, sizeof v, "%u %lld", n, (long long)at_ms);
    sj_error err;
    if (sc_store_meta_set(c->st, key, v, &err) != 0)
        SJ_LOG_WARN("sanji", "login failures not stored", "why", err.message);
}

/* Milliseconds the person of key must still wait before the next try. */
static int64_t login_wait_ms(sc_client *c, const char *key)
{
    int64_t last;
    unsigned n = login_failures_get(c, key, &last);
    if (n < LOGIN_FAILS_FREE)
        return 0;
    int64_t wait = LOGIN_WAIT_BASE_MS;
    for (unsigned i = LOGIN_FAILS_FREE; i < n && wait < LOGIN_WAIT_MAX_MS; i++)
        wait *= 2;
    if (wait > LOGIN_WAIT_MAX_MS)
        wait = LOGIN_WAIT_MAX_MS;
    int64_t left = last + wait - sj_clock_real_ms();
    /* A clock set back must not lengthen the wait beyond its own size. */
    return left < 0 ? 0 : left > wait ? wait : left;
}

static void login_run(uv_work_t *req)
{
    login_work *w = req->data;
    w->status = sj_password_verify(w->password, w->verifier, &w->err);
}

static void login_done(uv_work_t *req, int status)
{
    login_work *w = req->data;
    sc_client *c = w->c;
    c->busy--;
    explicit_bzero(w->password, strlen(w->password));
    free(w->password);
    int rc = status == UV_ECANCELED ? SJ_ECANCELLED : w->status;
    sj_error err;
    sj_error_clear(&err);
    if (rc == 0 && w->inactive) {
        login_failures_set(c, w->fail_key, 0, 0);
        rc = sj_error_set(&err, SJ_EUNKNOWN_PERSON, "%s",
                          _("This person has been deactivated by the county and can no longer log in; ask the county operator."));
    } else if (rc == 0) {
        snprintf(c->person_id, sizeof(c->person_id), "%s", w->person_id);
        rc = sc_store_meta_set(c->st, "person", w->person_id, &err);
        if (rc == 0)
            login_failures_set(c, w->fail_key, 0, 0);
        if (rc == 0) {
            char at[32];
            snprintf(at, sizeof at, "%lld", (long long)sj_clock_real_ms());
            if (sc_store_meta_set(c->st, LOGIN_AT_KEY, at, &err) != 0)
                SJ_LOG_WARN("sanji", "login time not kept for the status", "why", err.message);
            sj_error_clear(&err);
            send_status(c); /* the county counts this station staffed from now */
        }
    } else if (rc == SJ_EAUTH) {
        unsigned n = login_failures_get(c, w->fail_key, NULL) + 1;
        int64_t now = sj_clock_real_ms();
        login_failures_set(c, w->fail_key, n, now);
        /* Upward too, so the county sees guessing (never the password, nor
         * a name typed that is not in the list: "?"). */
        char report[SJ_LOGIN_REPORT_SIZE];
        login_report_read(c, report);
        sj_login_report_add(report, w->person_id[0] ? w->person_id : "?", 1, n, now);
        if (sc_store_meta_set(c->st, LOGIN_REPORT_KEY, report, &err) != 0)
            SJ_LOG_WARN("sanji", "wrong password not kept for the report", "why", err.message);
        sj_error_clear(&err);
        send_status(c);
        if (n >= LOGIN_FAILS_FREE) {
            char count[16];
            snprintf(count, sizeof count, "%u", n);
            SJ_LOG_WARN("sanji", "repeated wrong passwords at this station", "person",
                        w->person_id[0] ? w->person_id : "(unknown name)", "in_a_row", count);
        }
        sj_error_set(&err, SJ_EAUTH, "%s", _("Wrong name or password."));
    } else {
        err = w->err;
    }
    if (w->cb)
        w->cb(c, rc, &err, w->data);
    free(w);
    maybe_stopped(c);
}

int sc_login(sc_client *c, const char *person, const char *password, sc_login_cb cb, void *data,
             sj_error *err)
{
    if (sj_utf8_blank(person) || !password || !*password)
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("Give the person and the password."));
    if (!c->persons || c->persons->n_persons == 0)
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("No list of persons has been received yet; connect to the relay once (sanji sync) and try again."));
    const Sanji__Person *found = NULL;
    int matches = 0;
    for (size_t i = 0; i < c->persons->n_persons; i++) {
        const Sanji__Person *p = c->persons->persons[i];
        if (!person_fits(c, p))
            continue;
        if (strcmp(nz(p->id), person) == 0) {
            found = p;
            matches = 1;
            break;
        }
        if (strcmp(nz(p->name), person) == 0) {
            found = p;
            matches++;
        }
    }
    if (matches > 1)
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("Several persons at this station have this name; log in with the person id."));
    /* Not among the active ones: a person the county deactivated (the
     * synced list still holds them, marked inactive) is told so once their
     * password is right; a wrong one gets the usual answer. */
    bool inactive = false;
    for (size_t i = 0; !found && i < c->persons->n_persons; i++) {
        const Sanji__Person *p = c->persons->persons[i];
        if (!p->active && person_of_node(c, p) &&
            (strcmp(nz(p->id), person) == 0 || strcmp(nz(p->name), person) == 0)) {
            found = p;
            inactive = true;
        }
    }
    /* An unknown person gets the same answer as a wrong password, so the
     * tool does not tell who exists; we still spend the scrypt time on a
     * dummy so the answer takes as long. */
    login_work *w = calloc(1, sizeof(*w));
    if (!w || !(w->password = strdup(password))) {
        free(w);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    w->c = c;
    w->cb = cb;
    w->data = data;
    w->req.data = w;
    snprintf(w->fail_key, sizeof w->fail_key, "login_fail:%.120s", found ? nz(found->id) : "?");
    int64_t wait = login_wait_ms(c, w->fail_key);
    if (wait > 0) {
        explicit_bzero(w->password, strlen(w->password));
        free(w->password);
        free(w);
        return sj_error_set(err, SJ_EAUTH,
                            _("Too many wrong passwords; wait %lld seconds, then try again."),
                            (long long)((wait + 999) / 1000));
    }
    if (found) {
        w->inactive = inactive;
        snprintf(w->person_id, sizeof(w->person_id), "%s", found->id);
        /* A change made here that the county's list does not carry yet
         * counts at once, offline too. */
        if (!pending_verifier(c, found->id, w->verifier, sizeof(w->verifier)))
            snprintf(w->verifier, sizeof(w->verifier), "%s", nz(found->verifier));
    } else {
        snprintf(w->verifier, sizeof(w->verifier),
                 "scrypt$16384$8$1$00000000000000000000000000000000$"
                 "0000000000000000000000000000000000000000000000000000000000000000");
    }
    int rc = uv_queue_work(c->loop, &w->req, login_run, login_done);
    if (rc != 0) {
        free(w->password);
        free(w);
        return sj_error_set(err, SJ_EINTERNAL, "uv_queue_work: %s", uv_strerror(rc));
    }
    c->busy++;
    return 0;
}

int sc_use_person(sc_client *c, sj_error *err)
{
    char id[128];
    if (sc_store_meta_get(c->st, "person", id, sizeof(id), NULL) != 0)
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("Nobody is logged in at this station; log in first (sanji login)."));
    if (!person_fits(c, person_by_id(c, id)))
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("The person logged in here is no longer active at this station; log in again."));
    snprintf(c->person_id, sizeof(c->person_id), "%s", id);
    return 0;
}

int sc_logout(sc_client *c, sj_error *err)
{
    c->person_id[0] = '\0';
    int rc = sc_store_meta_set(c->st, "person", NULL, err);
    if (rc == 0)
        send_status(c); /* no longer staffed */
    return rc;
}

static int actor_of(sc_client *c, sj_actor *a, const Sanji__Person **pp, sj_error *err)
{
    const Sanji__Person *p = sc_person(c);
    if (!p)
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("Nobody is logged in at this station; log in first (sanji login)."));
    if (sc_must_change_password(c, p->id))
        return sj_error_set(err, SJ_EMUST_CHANGE_PASSWORD, "%s",
                            _("The county set this person's password; choose a new one first "
                              "(sanji passwd, or log in again)."));
    memset(a, 0, sizeof(*a));
    a->role = (sj_person_role)p->role;
    snprintf(a->unit, sizeof(a->unit), "%s", nz(p->org_unit));
    snprintf(a->department, sizeof(a->department), "%s", nz(p->department));
    snprintf(a->person, sizeof(a->person), "%s", nz(p->id));
    if (pp)
        *pp = p;
    return 0;
}

/* ---- passwords --------------------------------------------------------- */

/* A person's own password change made here is kept in the store's meta
 * ("pwchange:<person>" = "<new verifier> <base>", base being the verifier
 * of the person list it replaced) from the moment it is saved to the
 * outbox: until then it is the verifier logins check, so the new password
 * works at once, offline too, and a person list synced before the county
 * took the change (still the base) does not bring the old one back.  It
 * is dropped when a person list carries it, when the county refuses the
 * change, or when a list carries another verifier than the base (set at
 * the county since, or changed at another station) and no change of the
 * person waits in the outbox any more. */
#define PWCHANGE_KEY "pwchange:"

static void pending_key(const char *person, char key[160])
{
    snprintf(key, 160, PWCHANGE_KEY "%.120s", person);
}

#define PWCHANGE_VALUE_SIZE (2 * SJ_PASSWORD_VERIFIER_SIZE + 2)

/* The new verifier (into buf) and, when base is not NULL, the base. */
static bool pending_get(sc_client *c, const char *person, char *buf, size_t cap, char *base,
                        size_t base_cap)
{
    char key[160], v[PWCHANGE_VALUE_SIZE];
    pending_key(person, key);
    if (sc_store_meta_get(c->st, key, v, sizeof v, NULL) != 0 || !v[0])
        return false;
    char *sp = strchr(v, ' ');
    if (sp)
        *sp = '\0';
    const char *b = sp ? sp + 1 : "";
    /* Both are verifiers (shorter than SJ_PASSWORD_VERIFIER_SIZE). */
    if (strlen(v) >= cap || (base && strlen(b) >= base_cap))
        return false;
    memcpy(buf, v, strlen(v) + 1);
    if (base)
        memcpy(base, b, strlen(b) + 1);
    return true;
}

static bool pending_verifier(sc_client *c, const char *person, char *buf, size_t cap)
{
    return pending_get(c, person, buf, cap, NULL, 0);
}

/* Does a password change of person still wait in the outbox? */
static bool pending_unsent(sc_client *c, const char *person)
{
    sc_outbox_entry *e = NULL;
    size_t n = 0;
    bool found = false;
    if (sc_store_outbox_list(c->st, true, &e, &n, NULL) != 0)
        return true; /* keep it: it is dropped at a later list */
    for (size_t i = 0; i < n && !found; i++) {
        if (e[i].action != SJ_ACTION_NONE || !e[i].payload)
            continue;
        Sanji__Envelope *env = sanji__envelope__unpack(NULL, e[i].payload_len, e[i].payload);
        found = env && env->body_case == SANJI__ENVELOPE__BODY_PASSWORD_CHANGE &&
                strcmp(nz(env->password_change->person), person) == 0;
        if (env)
            sanji__envelope__free_unpacked(env, NULL);
    }
    sc_store_outbox_free(e, n);
    return found;
}

static void pending_drop(sc_client *c, const char *person)
{
    char key[160];
    sj_error err;
    pending_key(person, key);
    if (sc_store_meta_set(c->st, key, NULL, &err) != 0)
        SJ_LOG_WARN(MOD, "password change not cleared", "why", err.message);
}

/* After a new person list: changes it carries, or that a newer password
 * overtook, are no longer held apart (above). */
static void pending_settle(sc_client *c)
{
    char v[SJ_PASSWORD_VERIFIER_SIZE], base[SJ_PASSWORD_VERIFIER_SIZE];
    for (size_t i = 0; c->persons && i < c->persons->n_persons; i++) {
        const Sanji__Person *p = c->persons->persons[i];
        if (!p->id || !pending_get(c, p->id, v, sizeof v, base, sizeof base))
            continue;
        if (strcmp(v, nz(p->verifier)) == 0 ||
            (strcmp(base, nz(p->verifier)) != 0 && !pending_unsent(c, p->id)))
            pending_drop(c, p->id);
    }
}

/* A refused outbox row: if it was a password change, the county's
 * password counts again. */
static void pending_drop_for(sc_client *c, const sc_outbox_entry *e)
{
    if (e->action != SJ_ACTION_NONE || !e->payload)
        return;
    Sanji__Envelope *env = sanji__envelope__unpack(NULL, e->payload_len, e->payload);
    if (env && env->body_case == SANJI__ENVELOPE__BODY_PASSWORD_CHANGE &&
        env->password_change->person)
        pending_drop(c, env->password_change->person);
    if (env)
        sanji__envelope__free_unpacked(env, NULL);
}

bool sc_must_change_password(sc_client *c, const char *person)
{
    const Sanji__Person *p = person_by_id(c, person);
    char v[SJ_PASSWORD_VERIFIER_SIZE];
    return p && p->must_change_password && !pending_verifier(c, p->id, v, sizeof v);
}

typedef struct passwd_work {
    uv_work_t req;
    sc_client *c;
    char person_id[128];
    char old_verifier[SJ_PASSWORD_VERIFIER_SIZE];
    char new_verifier[SJ_PASSWORD_VERIFIER_SIZE];
    char *old_password, *new_password;
    int status;
    sj_error err;
    sc_login_cb cb;
    void *data;
} passwd_work;

static void passwd_run(uv_work_t *req)
{
    passwd_work *w = req->data;
    w->status = sj_password_verify(w->old_password, w->old_verifier, &w->err);
    if (w->status == 0)
        w->status = sj_password_make(w->new_password, w->new_verifier, sizeof w->new_verifier,
                                     &w->err);
}

static void secret_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static int pack_payload(sc_client *c, Sanji__Envelope *env, uint8_t **payload, size_t *len,
                        sj_error *err);

/* The PasswordChange to the outbox and the new verifier held, in one
 * transaction; then SAVED and a send. */
static int passwd_save(sc_client *c, const char *person, const char *verifier, sj_error *err)
{
    int64_t now = sj_clock_real_ms();
    int rc = sc_check_clock(c, now, err);
    if (rc != 0)
        return rc;
    uint8_t msg_id[16];
    static const uint8_t no_case[16];
    sj_uuid_v7(msg_id);
    Sanji__PasswordChange pc = SANJI__PASSWORD_CHANGE__INIT;
    pc.person = (char *)person;
    pc.new_verifier = (char *)verifier;
    pc.changed_at_ms = now;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.message_id.data = msg_id;
    env.message_id.len = 16;
    env.body_case = SANJI__ENVELOPE__BODY_PASSWORD_CHANGE;
    env.password_change = &pc;
    uint8_t *payload = NULL;
    size_t len = 0;
    if ((rc = pack_payload(c, &env, &payload, &len, err)) != 0)
        return rc;
    char key[160], value[PWCHANGE_VALUE_SIZE], base[SJ_PASSWORD_VERIFIER_SIZE];
    pending_key(person, key);
    /* The base stays the list's verifier through several changes here. */
    const Sanji__Person *p = person_by_id(c, person);
    char ignored[SJ_PASSWORD_VERIFIER_SIZE];
    if (!pending_get(c, person, ignored, sizeof ignored, base, sizeof base))
        snprintf(base, sizeof base, "%s", p ? nz(p->verifier) : "");
    snprintf(value, sizeof value, "%s %s", verifier, base);
    if ((rc = sc_store_begin(c->st, err)) == 0) {
        rc = sc_store_outbox_add(c->st, msg_id, no_case, SJ_ACTION_NONE, payload, len, now, err);
        if (rc == 0)
            rc = sc_store_meta_set(c->st, key, value, err);
        if (rc == 0)
            rc = sc_store_commit(c->st, err);
        if (rc != 0)
            sc_store_rollback(c->st);
    }
    free(payload);
    explicit_bzero(value, sizeof value);
    if (rc != 0)
        return rc;
    sc_event ev = {.type = SC_EV_SAVED, .message_id = msg_id, .action = SJ_ACTION_NONE};
    emit(c, &ev);
    flush_outbox(c);
    return 0;
}

static void passwd_done(uv_work_t *req, int status)
{
    passwd_work *w = req->data;
    sc_client *c = w->c;
    c->busy--;
    secret_free(w->old_password);
    secret_free(w->new_password);
    int rc = status == UV_ECANCELED ? SJ_ECANCELLED : w->status;
    sj_error err = w->err;
    if (rc == SJ_EAUTH)
        sj_error_set(&err, SJ_EAUTH, "%s", _("The current password is wrong."));
    else if (rc == 0)
        rc = passwd_save(c, w->person_id, w->new_verifier, &err);
    explicit_bzero(w->new_verifier, sizeof w->new_verifier);
    if (w->cb)
        w->cb(c, rc, &err, w->data);
    free(w);
    maybe_stopped(c);
}

int sc_change_password(sc_client *c, const char *old_password, const char *new_password,
                       sc_login_cb cb, void *data, sj_error *err)
{
    const Sanji__Person *p = sc_person(c);
    if (!p) {
        const Sanji__Person *was = person_by_id(c, c->person_id);
        if (was && !was->active)
            return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                                _("This person has been deactivated by the county and can no longer log in; ask the county operator."));
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("Nobody is logged in at this station; log in first (sanji login)."));
    }
    if (!old_password || !*old_password || !new_password || !*new_password)
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s",
                            _("Give the current password and the new one."));
    int rc = sj_password_strength(new_password, err);
    if (rc != 0)
        return rc;
    if (strcmp(old_password, new_password) == 0)
        return sj_error_set(err, SJ_EINVAL, "%s",
                            _("The new password must differ from the current one."));
    passwd_work *w = calloc(1, sizeof(*w));
    if (!w || !(w->old_password = strdup(old_password)) ||
        !(w->new_password = strdup(new_password))) {
        if (w)
            secret_free(w->old_password);
        free(w);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    w->c = c;
    w->cb = cb;
    w->data = data;
    w->req.data = w;
    snprintf(w->person_id, sizeof w->person_id, "%s", p->id);
    if (!pending_verifier(c, p->id, w->old_verifier, sizeof w->old_verifier))
        snprintf(w->old_verifier, sizeof w->old_verifier, "%s", nz(p->verifier));
    if ((rc = uv_queue_work(c->loop, &w->req, passwd_run, passwd_done)) != 0) {
        secret_free(w->old_password);
        secret_free(w->new_password);
        free(w);
        return sj_error_set(err, SJ_EINTERNAL, "uv_queue_work: %s", uv_strerror(rc));
    }
    c->busy++;
    return 0;
}

/* ---- actions ----------------------------------------------------------- */

/* Packs env with the given id and this node as sender; *payload (malloc'd)
 * is the Envelope without the frame header. */
static int pack_payload(sc_client *c, Sanji__Envelope *env, uint8_t **payload, size_t *len,
                        sj_error *err)
{
    uint8_t *frame = NULL;
    size_t flen = 0;
    int rc = sj_envelope_pack(env, c->node.node_id, MAX_FRAME, &frame, &flen, NULL, err);
    if (rc != 0)
        return rc;
    *len = flen - 4;
    *payload = malloc(*len ? *len : 1);
    if (!*payload) {
        free(frame);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    memcpy(*payload, frame + 4, *len);
    free(frame);
    return 0;
}

/* Writes one outbox row and the predicted case in one transaction, then
 * reports SAVED and sends. */
static int save(sc_client *c, const uint8_t msg_id[16], const uint8_t case_id[16],
                sj_case_action action, Sanji__Envelope *env, const Sanji__Case *predicted,
                sj_error *err)
{
    uint8_t *payload = NULL;
    size_t len = 0;
    int rc = pack_payload(c, env, &payload, &len, err);
    if (rc != 0)
        return rc;
    if ((rc = sc_store_begin(c->st, err)) == 0) {
        rc = sc_store_outbox_add(c->st, msg_id, case_id, action, payload, len,
                                 sj_clock_real_ms(), err);
        if (rc == 0)
            rc = sc_store_case_put_predicted(c->st, case_id, predicted, err);
        if (rc == 0)
            rc = sc_store_commit(c->st, err);
        if (rc != 0)
            sc_store_rollback(c->st);
    }
    free(payload);
    if (rc != 0)
        return rc;
    sc_event ev = {.type = SC_EV_SAVED, .message_id = msg_id, .case_id = case_id, .action = action};
    emit(c, &ev);
    sc_event cev = {.type = SC_EV_CASE_CHANGED,
                    .case_id = case_id,
                    .case_number = nz(predicted->number),
                    .snapshot = predicted};
    emit(c, &cev);
    flush_outbox(c);
    return 0;
}

int sc_register(sc_client *c, const sc_register_req *req, uint8_t case_id_out[16],
                uint8_t message_id_out[16], sj_error *err)
{
    sj_actor actor;
    const Sanji__Person *p = NULL;
    int rc = actor_of(c, &actor, &p, err);
    if (rc != 0)
        return rc;
    if (sj_utf8_blank(req->item_code))
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("Give the catalogue item (--item); search with: sanji catalogue KEYWORD."));
    const Sanji__CatalogueItem *it = sc_catalogue_item(c, req->item_code);
    if (!c->catalogue)
        return sj_error_set(err, SJ_EUNKNOWN_ITEM, "%s",
                            _("No service catalogue has been received yet; connect to the relay once (sanji sync) and try again."));
    if (!it)
        return sj_error_set(err, SJ_EUNKNOWN_ITEM, _("There is no catalogue item %s; search with: sanji catalogue KEYWORD."),
                            req->item_code);
    if (!it->active)
        return sj_error_set(err, SJ_EUNKNOWN_ITEM,
                            _("The catalogue item %s has been retired by the county; new cases cannot be registered for it. Choose another item (sanji catalogue KEYWORD)."),
                            req->item_code);
    /* The county's own checks, so that what it would refuse is never saved. */
    sj_error e2;
    const sj_submit fields = {.applicant_name = req->applicant_name,
                              .id_number = req->id_number,
                              .phone = req->phone,
                              .request_text = req->request_text};
    if (sj_case_check_submit(&fields, &e2) != 0)
        return sj_refusal_set(err, e2.code, e2.message);
    char idn[SJ_PERSONAL_ID_SIZE];
    if (sj_personal_check_id(req->id_number, idn, &e2) != 0)
        return sj_error_set(err, SJ_EBAD_ID_NUMBER, "%s", e2.message);
    if (sj_personal_check_phone(req->phone, &e2) != 0)
        return sj_error_set(err, SJ_EBAD_PHONE, "%s", e2.message);
    /* 全程代办员: a cadre who works here, or the first receiver. */
    const Sanji__Person *carrier = p;
    if (req->carrier && *req->carrier) {
        carrier = person_by_id(c, req->carrier);
        if (!person_fits(c, carrier))
            return sj_error_set(err, SJ_EUNKNOWN_PERSON,
                                _("%s is not an active person of this station; choose the carrier "
                                  "from sanji persons."),
                                req->carrier);
    }
    int64_t now = sj_clock_real_ms();
    if ((rc = sc_check_clock(c, now, err)) != 0)
        return rc;
    sj_case_outcome out;
    if (sj_case_register(c->node.unit, (sj_level)it->min_level, now, &actor, &out, &e2) != 0)
        return sj_refusal_set(err, e2.code, e2.message);

    uint8_t case_id[16], msg_id[16];
    sj_uuid_v7(case_id);
    sj_uuid_v7(msg_id);
    Sanji__Applicant ap = SANJI__APPLICANT__INIT;
    ap.name = (char *)req->applicant_name;
    ap.id_number = idn;
    ap.phone = (char *)req->phone;
    Sanji__CaseSubmit sub = SANJI__CASE_SUBMIT__INIT;
    sub.case_id.data = case_id;
    sub.case_id.len = 16;
    sub.village = c->node.unit;
    sub.item_code = (char *)req->item_code;
    sub.applicant = &ap;
    sub.request_text = (char *)req->request_text;
    sub.actor_person = (char *)p->id;
    sub.registered_at_ms = now;
    sub.urgent = req->urgent;
    sub.appointment_at_ms = req->appointment_at_ms;
    sub.no_notify = req->no_notify;
    sub.carrier = carrier == p ? (char *)"" : carrier->id;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.message_id.data = msg_id;
    env.message_id.len = 16;
    env.body_case = SANJI__ENVELOPE__BODY_CASE_SUBMIT;
    env.case_submit = &sub;

    Sanji__Case pc = SANJI__CASE__INIT;
    pc.case_id = sub.case_id;
    pc.number = (char *)"";
    pc.village = c->node.unit;
    pc.item_code = (char *)req->item_code;
    pc.item_name = it->name;
    pc.applicant = &ap;
    pc.request_text = (char *)req->request_text;
    pc.first_receiver = p->id;
    pc.first_receiver_name = p->name;
    pc.registered_at_ms = now;
    pc.urgent = req->urgent;
    pc.appointment_at_ms = req->appointment_at_ms;
    out.next.notify = req->no_notify ? SJ_NOTIFY_OFF : SJ_NOTIFY_NONE; /* as the county will */
    /* 全程代办员, as the county will record it. */
    out.next.carrier = carrier->id;
    out.next.carrier_name = carrier->name;
    sj_case_pb_from_case(&out.next, &pc);
    rc = save(c, msg_id, case_id, SJ_ACTION_REGISTER, &env, &pc, err);
    if (rc == 0) {
        if (case_id_out)
            memcpy(case_id_out, case_id, 16);
        if (message_id_out)
            memcpy(message_id_out, msg_id, 16);
    }
    return rc;
}

int sc_act(sc_client *c, const sc_action_req *req, uint8_t message_id_out[16], sj_error *err)
{
    sj_actor actor;
    const Sanji__Person *p = NULL;
    int rc = actor_of(c, &actor, &p, err);
    if (rc != 0)
        return rc;
    if (req->type == SJ_ACTION_REGISTER || req->type == SJ_ACTION_NONE ||
        req->type == SJ_ACTION_OVERDUE || req->type == SJ_ACTION_WARN ||
        req->type == SJ_ACTION_DUE_RECOMPUTE || !req->case_id)
        return sj_error_set(err, SJ_EINVAL, "not an action a person can take");
    Sanji__Case *cur = NULL;
    if (sc_store_case_get(c->st, req->case_id, &cur, NULL, err) != 0) {
        if (err && err->code == SJ_ENOTFOUND)
            return sj_error_set(err, SJ_EUNKNOWN_CASE, "%s", _("There is no such case at this station."));
        return err ? err->code : SJ_EDB;
    }
    sj_case sm;
    case_view(c, cur, &sm);
    int64_t now = sj_clock_real_ms();
    if ((rc = sc_check_clock(c, now, err)) != 0) {
        sanji__case__free_unpacked(cur, NULL);
        return rc;
    }
    if (now <= sm.updated_at_ms)
        now = sm.updated_at_ms + 1; /* keep the history in order despite clock skew */
    uint8_t msg_id[16];
    sj_uuid_v7(msg_id);
    Sanji__CaseAction ca = SANJI__CASE_ACTION__INIT;
    ca.case_id.data = (uint8_t *)req->case_id;
    ca.case_id.len = 16;
    ca.action = (Sanji__CaseActionType)req->type;
    ca.expected_version = sm.version;
    ca.actor_person = p->id;
    ca.acted_at_ms = now;
    ca.note = (char *)nz(req->note);
    ca.result = (char *)nz(req->result);
    ca.materials = (char **)req->materials;
    ca.n_materials = req->n_materials;
    ca.satisfaction = (Sanji__Satisfaction)req->satisfaction;
    ca.department = (char *)nz(req->department);
    ca.extend_days = req->extend_days;
    ca.person = (char *)nz(req->person);
    /* Judged as the county will judge the message it becomes: a case
     * assigned to someone this station's list no longer holds active is
     * taken over without a reason there too. */
    sj_action a;
    sj_case_pb_action(&ca, &a);
    if (req->type == SJ_ACTION_TAKE_OVER && sm.assignee && *sm.assignee) {
        const Sanji__Person *was = person_by_id(c, sm.assignee);
        a.assignee_inactive = !was || !was->active;
    }
    sj_case_outcome out;
    sj_error e2;
    if (sj_case_apply(&sm, &a, &actor, &out, &e2) != 0) {
        sanji__case__free_unpacked(cur, NULL);
        return sj_refusal_set(err, e2.code, e2.message);
    }
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.message_id.data = msg_id;
    env.message_id.len = 16;
    env.body_case = SANJI__ENVELOPE__BODY_CASE_ACTION;
    env.case_action = &ca;
    /* The names the county will fill in, from this station's list. */
    const Sanji__Person *named = person_by_id(c, req->person);
    if (req->type == SJ_ACTION_ASSIGN && named)
        out.next.assignee_name = named->name;
    if (req->type == SJ_ACTION_SET_CARRIER && named)
        out.next.carrier_name = named->name;
    if (req->type == SJ_ACTION_TAKE_OVER)
        out.next.assignee_name = p->name;
    Sanji__Case pc = *cur; /* shallow: text stays owned by cur */
    sj_case_pb_from_case(&out.next, &pc);
    rc = save(c, msg_id, req->case_id, req->type, &env, &pc, err);
    sanji__case__free_unpacked(cur, NULL);
    if (rc == 0 && message_id_out)
        memcpy(message_id_out, msg_id, 16);
    return rc;
}

/* ---- attachments ------------------------------------------------------- */

int sc_attach_check(sc_client *c, const char *name, const uint8_t *data, size_t len,
                    const char *material, uint64_t case_used, const char **mime, sj_error *err)
{
    name = sj_attach_base_name(nz(name));
    if (!*name || strlen(name) > SJ_ATTACH_NAME_MAX || !sj_utf8_valid(name, strlen(name)))
        return sj_error_set(err, SJ_EBAD_FIELD, "%s",
                            _("The file name is empty, too long or not valid text; rename the file."));
    material = nz(material);
    if (strlen(material) > SJ_ATTACH_MATERIAL_MAX || !sj_utf8_valid(material, strlen(material)))
        return sj_error_set(err, SJ_EBAD_FIELD, "%s",
                            _("The material's name is too long or not valid text."));
    const char *kind = NULL;
    int rc = sj_attach_check_file(data, len, c->attach_max_file, case_used, c->attach_max_case,
                                  &kind, err);
    if (rc == 0 && mime)
        *mime = kind;
    return rc;
}

int sc_attach(sc_client *c, const uint8_t case_id[16], const char *name, const uint8_t *data,
              size_t len, const char *material, uint8_t attachment_id_out[16], sj_error *err)
{
    sj_actor actor;
    const Sanji__Person *p = NULL;
    int rc = actor_of(c, &actor, &p, err);
    if (rc != 0)
        return rc;
    Sanji__Case *cur = NULL;
    if (sc_store_case_get(c->st, case_id, &cur, NULL, err) != 0) {
        if (err && err->code == SJ_ENOTFOUND)
            return sj_error_set(err, SJ_EUNKNOWN_CASE, "%s", _("There is no such case at this station."));
        return err ? err->code : SJ_EDB;
    }
    bool mine = sj_orgunit_contains(c->node.unit, nz(cur->village));
    sanji__case__free_unpacked(cur, NULL);
    if (!mine)
        return sj_error_set(err, SJ_ESCOPE, "%s",
                            _("The case belongs to a village outside this station's scope."));
    name = sj_attach_base_name(nz(name));
    material = nz(material);
    const char *mime = NULL;
    if ((rc = sc_attach_check(c, name, data, len, material,
                              sc_store_attach_case_bytes(c->st, case_id), &mime, err)) != 0)
        return rc;
    sc_attach_row row;
    memset(&row, 0, sizeof row);
    sj_uuid_v7(row.attachment_id);
    memcpy(row.case_id, case_id, 16);
    snprintf(row.name, sizeof row.name, "%s", name);
    snprintf(row.mime, sizeof row.mime, "%s", mime);
    row.size = len;
    sj_attach_sha256(data, len, row.sha256);
    snprintf(row.material, sizeof row.material, "%s", material);
    snprintf(row.actor_person, sizeof row.actor_person, "%s", nz(p->id));
    row.attached_at_ms = sj_clock_real_ms();
    row.chunk_count = sj_attach_chunk_count(len);
    row.local = true;
    Sanji__AttachmentChunk ch = SANJI__ATTACHMENT_CHUNK__INIT;
    ch.attachment_id = (ProtobufCBinaryData){16, row.attachment_id};
    ch.case_id = (ProtobufCBinaryData){16, (uint8_t *)case_id};
    ch.chunk_count = row.chunk_count;
    ch.size = len;
    ch.sha256 = (ProtobufCBinaryData){SJ_ATTACH_SHA256_SIZE, row.sha256};
    ch.name = row.name;
    ch.mime = row.mime;
    ch.material = row.material;
    ch.actor_person = row.actor_person;
    ch.attached_at_ms = row.attached_at_ms;
    /* The file and every chunk in one transaction: the attachment is
     * saved whole or not at all. */
    if ((rc = sc_store_begin(c->st, err)) != 0)
        return rc;
    rc = sc_store_attach_add(c->st, &row, data, len, err);
    for (uint32_t k = 0; rc == 0 && k < row.chunk_count; k++) {
        uint8_t msg_id[16];
        sj_uuid_v7(msg_id);
        ch.chunk_no = k;
        ch.data = (ProtobufCBinaryData){sj_attach_chunk_len(len, k),
                                        (uint8_t *)data + (size_t)k * SJ_ATTACH_CHUNK_SIZE};
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.message_id = (ProtobufCBinaryData){16, msg_id};
        env.body_case = SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK;
        env.attachment_chunk = &ch;
        uint8_t *payload = NULL;
        size_t plen = 0;
        rc = pack_payload(c, &env, &payload, &plen, err);
        if (rc == 0)
            rc = sc_store_outbox_add(c->st, msg_id, case_id, SC_OUTBOX_CHUNK, payload, plen,
                                     row.attached_at_ms, err);
        free(payload);
    }
    if (rc == 0)
        rc = sc_store_commit(c->st, err);
    if (rc != 0) {
        sc_store_rollback(c->st);
        return rc;
    }
    if (attachment_id_out)
        memcpy(attachment_id_out, row.attachment_id, 16);
    flush_outbox(c);
    return 0;
}

int sc_attachments(sc_client *c, const uint8_t case_id[16], sc_attach_row **out, size_t *n,
                   sj_error *err)
{
    return sc_store_attach_list(c->st, case_id, out, n, err);
}

int sc_attachment_data(sc_client *c, const uint8_t attachment_id[16], uint8_t **data, size_t *len,
                       sj_error *err)
{
    return sc_store_attach_data(c->st, attachment_id, data, len, err);
}

int sc_attachment_keep(sc_client *c, const Sanji__AttachmentInfo *in, const uint8_t *data,
                       size_t len, sj_error *err)
{
    uint8_t sha[SJ_ATTACH_SHA256_SIZE];
    if (in->attachment_id.len != 16 || in->case_id.len != 16 ||
        in->sha256.len != SJ_ATTACH_SHA256_SIZE || len != in->size)
        return sj_error_set(err, SJ_EBAD_FIELD, "%s", _("The attachment received is incomplete."));
    sj_attach_sha256(data, len, sha);
    if (memcmp(sha, in->sha256.data, sizeof sha) != 0)
        return sj_error_set(err, SJ_EATTACH_HASH, "%s",
                            _("The attachment received does not match its SHA-256; fetch it again."));
    sc_attach_row row;
    memset(&row, 0, sizeof row);
    memcpy(row.attachment_id, in->attachment_id.data, 16);
    memcpy(row.case_id, in->case_id.data, 16);
    snprintf(row.name, sizeof row.name, "%s", nz(in->name));
    snprintf(row.mime, sizeof row.mime, "%s", nz(in->mime));
    row.size = in->size;
    memcpy(row.sha256, sha, sizeof sha);
    snprintf(row.material, sizeof row.material, "%s", nz(in->material));
    snprintf(row.actor_person, sizeof row.actor_person, "%s", nz(in->actor_person));
    row.attached_at_ms = in->attached_at_ms;
    row.chunk_count = in->chunk_count;
    row.chunks_applied = in->chunk_count;
    return sc_store_attach_add(c->st, &row, data, len, err);
}

/* One attachment being fetched from the county, piece after piece. */
typedef struct attach_fetch {
    sc_client *c;
    uint8_t case_id[16], attachment_id[16];
    Sanji__AttachmentInfo *info; /* a copy of the first answer's description */
    uint8_t *buf;
    uint64_t size, have;
    sc_attach_fetch_cb cb;
    void *data;
} attach_fetch;

static void fetch_answered(sc_client *c, int status, const Sanji__QueryResult *res, void *data);

static int fetch_next(attach_fetch *f, sj_error *err)
{
    Sanji__AttachmentQuery aq = SANJI__ATTACHMENT_QUERY__INIT;
    aq.case_id = (ProtobufCBinaryData){16, f->case_id};
    aq.attachment_id = (ProtobufCBinaryData){16, f->attachment_id};
    aq.offset = f->have;
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_ATTACHMENT;
    q.attachment = &aq;
    return sc_query(f->c, &q, fetch_answered, f, err);
}

static void fetch_end(attach_fetch *f, int status, const char *reason)
{
    f->cb(f->c, status, reason, status == 0 ? f->buf : NULL, status == 0 ? (size_t)f->size : 0,
          f->data);
    if (f->info)
        sanji__attachment_info__free_unpacked(f->info, NULL);
    free(f->buf);
    free(f);
}

static void fetch_answered(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    attach_fetch *f = data;
    sj_error err;
    if (status != 0 || !res || res->code != 0) {
        int code = res && res->code ? res->code : status ? status : SJ_ECLOSED;
        fetch_end(f, code, res && res->reason && *res->reason ? _(res->reason) : _(sj_err_text(code)));
        return;
    }
    const Sanji__AttachmentResult *ar =
        res->result_case == SANJI__QUERY_RESULT__RESULT_ATTACHMENT ? res->attachment : NULL;
    if (!ar || ar->n_attachments != 1 || ar->offset != f->have || ar->data.len == 0 ||
        (f->info && ar->attachments[0]->size != f->size) ||
        (f->info && f->have + ar->data.len > f->size)) {
        fetch_end(f, SJ_EPROTOCOL, _("The county's answer does not fit the question."));
        return;
    }
    if (!f->info) {
        size_t n = sanji__attachment_info__get_packed_size(ar->attachments[0]);
        uint8_t *pb = malloc(n ? n : 1);
        if (pb) {
            sanji__attachment_info__pack(ar->attachments[0], pb);
            f->info = sanji__attachment_info__unpack(NULL, n, pb);
            free(pb);
        }
        f->size = f->info ? f->info->size : 0;
        f->buf = f->info && f->size <= c->attach_max_file ? malloc(f->size ? f->size : 1) : NULL;
        if (!f->buf || ar->data.len > f->size) {
            fetch_end(f, f->buf ? SJ_EPROTOCOL : SJ_ENOMEM,
                      f->buf ? _("The county's answer does not fit the question.")
                             : _(sj_err_text(SJ_ENOMEM)));
            return;
        }
    }
    memcpy(f->buf + f->have, ar->data.data, ar->data.len);
    f->have += ar->data.len;
    if (f->have < f->size) {
        if (fetch_next(f, &err) != 0)
            fetch_end(f, err.code, err.message);
        return;
    }
    if (sc_attachment_keep(c, f->info, f->buf, (size_t)f->size, &err) != 0) {
        fetch_end(f, err.code, err.message);
        return;
    }
    fetch_end(f, 0, "");
}

int sc_attachment_fetch(sc_client *c, const uint8_t case_id[16], const uint8_t attachment_id[16],
                        sc_attach_fetch_cb cb, void *data, sj_error *err)
{
    attach_fetch *f = calloc(1, sizeof *f);
    if (!f)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    f->c = c;
    memcpy(f->case_id, case_id, 16);
    memcpy(f->attachment_id, attachment_id, 16);
    f->cb = cb;
    f->data = data;
    int rc = fetch_next(f, err);
    if (rc != 0)
        free(f);
    return rc;
}

/* ---- reads ------------------------------------------------------------- */

int sc_find_case(sc_client *c, const char *ref, uint8_t case_id[16], sj_error *err)
{
    if (sj_utf8_blank(ref))
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("Give a case number or case id."));
    if (sc_store_case_find(c->st, ref, case_id, NULL) != 0)
        return sj_error_set(err, SJ_EUNKNOWN_CASE,
                            _("There is no case %s at this station (give the case number, e.g. 410423-20261123-00001, or the case id)."),
                            ref);
    return 0;
}

int sc_get_case(sc_client *c, const uint8_t case_id[16], sc_case_detail *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = sc_store_case_get(c->st, case_id, &out->c, &out->predicted, err);
    if (rc == SJ_ENOTFOUND)
        return sj_error_set(err, SJ_EUNKNOWN_CASE, "%s", _("There is no such case at this station."));
    if (rc != 0)
        return rc;
    if ((rc = sc_store_events_get(c->st, case_id, &out->events, &out->n_events, err)) != 0)
        goto fail;
    sc_outbox_entry *all = NULL;
    size_t n = 0;
    if ((rc = sc_store_outbox_list(c->st, false, &all, &n, err)) != 0)
        goto fail;
    /* Keep this case's rows: move them to the front.  Attachment chunks
     * are left out: their attachment says how far its upload is
     * (sc_attachments()). */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(all[i].case_id, case_id, 16) == 0 && all[i].action != SC_OUTBOX_CHUNK) {
            sc_outbox_entry t = all[k];
            all[k] = all[i];
            all[i] = t;
            k++;
        }
    }
    for (size_t i = k; i < n; i++) {
        free(all[i].reason);
        free(all[i].case_number);
        free(all[i].payload);
    }
    out->pending = all;
    out->n_pending = k;
    return 0;
fail:
    sc_case_detail_free(out);
    return rc;
}

void sc_case_detail_free(sc_case_detail *d)
{
    if (d->c)
        sanji__case__free_unpacked(d->c, NULL);
    sc_store_events_free(d->events, d->n_events);
    sc_store_outbox_free(d->pending, d->n_pending);
    memset(d, 0, sizeof(*d));
}

int sc_list_cases(sc_client *c, const sc_list_filter *f, sc_case_list *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    /* 我的事项 includes the cases of those the person stands in for. */
    const char *stand_for[64];
    size_t n_stand_for =
        c->persons ? sj_case_search_stand_for(c->persons->persons, c->persons->n_persons,
                                              c->person_id, stand_for, 64)
                   : 0;
    Sanji__Case **all = NULL;
    size_t n = 0;
    int rc = sc_store_case_list(c->st, &all, &n, err);
    if (rc != 0)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        Sanji__Case *cs = all[i];
        bool keep = true;
        if (f && f->mine)
            keep = keep && c->person_id[0] && strcmp(nz(cs->first_receiver), c->person_id) == 0;
        if (f && f->assigned)
            keep = keep && sj_case_search_is_mine(cs, c->person_id, stand_for, n_stand_for);
        if (f && f->overdue)
            keep = keep && cs->overdue && sj_case_is_active((sj_case_status)cs->status);
        if (f && f->waiting_for_me)
            keep = keep && strcmp(nz(cs->holder_unit), c->node.unit) == 0 &&
                   !sj_case_is_terminal((sj_case_status)cs->status);
        if (f && f->n_statuses) {
            bool any = false;
            for (size_t j = 0; j < f->n_statuses; j++)
                any = any || (sj_case_status)cs->status == f->statuses[j];
            keep = keep && any;
        }
        if (keep)
            all[k++] = cs;
        else
            sanji__case__free_unpacked(cs, NULL);
    }
    out->cases = all;
    out->n = k;
    return 0;
}

void sc_case_list_free(sc_case_list *l)
{
    sc_store_cases_free(l->cases, l->n);
    memset(l, 0, sizeof(*l));
}

bool sc_searches_at_peer(const sc_client *c)
{
    return live_only(c);
}

int sc_search_cases(sc_client *c, const Sanji__CaseListQuery *q, sc_case_page *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    /* A category's items come from the cached catalogue. */
    const char **items = NULL;
    size_t n_items = 0;
    if (q->category && *q->category && c->catalogue) {
        items = calloc(c->catalogue->n_items + 1, sizeof(*items));
        if (!items)
            return sj_error_set(err, SJ_ENOMEM, NULL);
        for (size_t i = 0; i < c->catalogue->n_items; i++)
            if (strcmp(nz(c->catalogue->items[i]->category), q->category) == 0)
                items[n_items++] = c->catalogue->items[i]->code;
    }
    /* The store holds this node's scope only (the feed and sc_keep_case()
     * check it): no scope condition to test on every row. */
    const char *stand_for[64];
    size_t n_stand_for =
        c->persons && q->mine
            ? sj_case_search_stand_for(c->persons->persons, c->persons->n_persons,
                                       q->for_person, stand_for, 64)
            : 0;
    sj_case_search_viewer v = {.role = c->node.role,
                               .unit = c->node.unit,
                               .scope = NULL,
                               .category_items = items,
                               .n_category_items = n_items,
                               .now_ms = sj_clock_real_ms(),
                               .stand_for = stand_for,
                               .n_stand_for = n_stand_for};
    int rc = sc_store_case_search(c->st, q, &v, &out->cases, &out->n, &out->total, &out->capped,
                                  err);
    free(items);
    return rc;
}

void sc_case_page_free(sc_case_page *p)
{
    sc_store_cases_free(p->cases, p->n);
    memset(p, 0, sizeof(*p));
}

int sc_keep_case(sc_client *c, const Sanji__Case *cs, sj_error *err)
{
    if (!cs || cs->case_id.len != 16 || !sj_orgunit_contains(c->node.unit, nz(cs->village)))
        return sj_error_set(err, SJ_EINVAL, "case outside this desk's scope");
    return keep_if_held(c, cs, NULL, true, err);
}

typedef struct fetch_req {
    sc_fetch_cb cb;
    void *data;
} fetch_req;

static void on_fetched(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    fetch_req *f = data;
    sj_error err;
    sj_error_clear(&err);
    const Sanji__CaseDetail *d =
        status == 0 && res && res->result_case == SANJI__QUERY_RESULT__RESULT_CASE_DETAIL
            ? res->case_detail
            : NULL;
    if (status == 0 && (!d || !d->case_ || d->case_->case_id.len != 16 ||
                        !sj_orgunit_contains(c->node.unit, nz(d->case_->village))))
        status = SJ_EFRAME_BAD_FIELD;
    if (status == 0) {
        status = sc_store_begin(c->st, &err);
        if (status == 0)
            status = sc_store_case_put(c->st, d->case_, &err);
        for (size_t i = 0; status == 0 && i < d->n_events; i++)
            if (d->events[i]->case_id.len == 16 && d->events[i]->seq > 0)
                status = sc_store_event_put(c->st, d->events[i], &err);
        if (status == 0)
            status = sc_store_commit(c->st, &err);
        if (status != 0)
            sc_store_rollback(c->st);
    }
    if (status == 0) {
        sc_event ev = {.type = SC_EV_CASE_CHANGED,
                       .case_id = d->case_->case_id.data,
                       .case_number = nz(d->case_->number),
                       .snapshot = d->case_};
        emit(c, &ev);
    }
    if (f->cb)
        f->cb(c, status, f->data);
    free(f);
}

int sc_fetch_case(sc_client *c, const uint8_t case_id[16], sc_fetch_cb cb, void *data,
                  sj_error *err)
{
    char id[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(case_id, id);
    return sc_fetch_case_ref(c, id, cb, data, err);
}

int sc_fetch_case_ref(sc_client *c, const char *ref, sc_fetch_cb cb, void *data, sj_error *err)
{
    if (sj_utf8_blank(ref))
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("Give a case number or case id."));
    fetch_req *f = calloc(1, sizeof(*f));
    if (!f)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    f->cb = cb;
    f->data = data;
    Sanji__CaseGetQuery g = SANJI__CASE_GET_QUERY__INIT;
    uint8_t case_id[16];
    if (sj_uuid_parse(ref, case_id, NULL) == 0) {
        g.case_id.data = case_id;
        g.case_id.len = 16;
    } else {
        g.number = (char *)ref;
    }
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_CASE_GET;
    q.case_get = &g;
    int rc = sc_query(c, &q, on_fetched, f, err);
    if (rc != 0)
        free(f);
    return rc;
}

size_t sc_allowed_actions(sc_client *c, const Sanji__Case *cs, sj_case_action *out, size_t max)
{
    sj_actor a;
    if (actor_of(c, &a, NULL, NULL) != 0)
        return 0;
    sj_case sm;
    case_view(c, cs, &sm);
    return sj_case_allowed_actions(&sm, &a, out, max);
}

static const char *category_name(const sc_client *c, const char *code)
{
    for (size_t i = 0; i < c->catalogue->n_categories; i++)
        if (strcmp(nz(c->catalogue->categories[i]->code), nz(code)) == 0)
            return nz(c->catalogue->categories[i]->name);
    return "";
}

/* How well an item matches a keyword, best first; CATALOGUE_NO_MATCH when
 * it does not.  A cadre who types 户口 wants 户口迁移, not every item whose
 * materials list a 户口簿. */
enum {
    CATALOGUE_BY_NAME,
    CATALOGUE_BY_CODE,
    CATALOGUE_BY_CATEGORY,
    CATALOGUE_BY_DEPARTMENT,
    CATALOGUE_BY_MATERIAL,
    CATALOGUE_NO_MATCH,
};

static int catalogue_rank(const sc_client *c, const Sanji__CatalogueItem *it, const char *keyword)
{
    if (sj_utf8_blank(keyword) || strstr(nz(it->name), keyword))
        return CATALOGUE_BY_NAME;
    if (strstr(nz(it->code), keyword))
        return CATALOGUE_BY_CODE;
    if (strstr(category_name(c, it->category), keyword))
        return CATALOGUE_BY_CATEGORY;
    if (strstr(nz(it->department), keyword))
        return CATALOGUE_BY_DEPARTMENT;
    for (size_t j = 0; j < it->n_materials; j++)
        if (strstr(nz(it->materials[j]), keyword))
            return CATALOGUE_BY_MATERIAL;
    return CATALOGUE_NO_MATCH;
}

size_t sc_catalogue_search(const sc_client *c, const char *keyword,
                           const Sanji__CatalogueItem ***items)
{
    *items = NULL;
    if (!c->catalogue || c->catalogue->n_items == 0)
        return 0;
    const Sanji__CatalogueItem **v = calloc(c->catalogue->n_items, sizeof(*v));
    if (!v)
        return 0;
    /* One pass per rank keeps catalogue order within a rank. */
    size_t k = 0;
    for (int rank = CATALOGUE_BY_NAME; rank < CATALOGUE_NO_MATCH; rank++)
        for (size_t i = 0; i < c->catalogue->n_items; i++) {
            const Sanji__CatalogueItem *it = c->catalogue->items[i];
            if (it->active && catalogue_rank(c, it, keyword) == rank)
                v[k++] = it;
        }
    *items = v;
    return k;
}

int sc_status(sc_client *c, sc_status_info *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    out->link_up = c->conn && c->welcomed;
    out->caught_up = c->caught_up;
    out->upstream_online = out->link_up && c->upstream_online;
    out->upstream_last_contact_ms = c->upstream_last_ms;
    snprintf(out->peer_node, sizeof(out->peer_node), "%s", c->peer_node);
    out->last_error = c->last_error;
    out->lasting_refusal = c->lasting_refusal;
    snprintf(out->last_error_text, sizeof(out->last_error_text), "%s", c->last_error_text);
    out->catalogue_version = c->catalogue_version;
    out->org_tree_version = c->org_tree_version;
    out->person_version = c->person_version;
    int rc = sc_store_outbox_counts(c->st, &out->outbox, err);
    if (rc != 0)
        return rc;
    sc_cursor *cur = NULL;
    size_t n = 0;
    if ((rc = sc_store_cursors(c->st, &cur, &n, err)) != 0)
        return rc;
    out->n_cursors = n;
    for (size_t i = 0; i < n && i < 16; i++)
        out->cursors[i] = cur[i];
    free(cur);
    return 0;
}

int sc_outbox(sc_client *c, sc_outbox_entry **out, size_t *n, sj_error *err)
{
    return sc_store_outbox_list(c->st, false, out, n, err);
}

int sc_query(sc_client *c, const Sanji__Query *q, sc_query_cb cb, void *data, sj_error *err)
{
    if (!c->conn || !c->welcomed)
        return sj_error_set(err, SJ_ECLOSED, "%s", _("Not connected to the township relay or the county."));
    pending_query *pq = calloc(1, sizeof(*pq));
    if (!pq)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_QUERY;
    env.query = (Sanji__Query *)q;
    sj_uuid_v7(pq->id);
    env.message_id.data = pq->id;
    env.message_id.len = 16;
    int rc = sj_conn_send(c->conn, &env, NULL, err);
    if (rc != 0) {
        free(pq);
        return rc;
    }
    pq->cb = cb;
    pq->data = data;
    pq->next = c->queries;
    c->queries = pq;
    return 0;
}

/* ---- administration (county desks) -------------------------------------- */

const Sanji__PersonSync *sc_person_list(const sc_client *c)
{
    return c->persons;
}

int sc_admin(sc_client *c, Sanji__AdminRequest *req, sc_admin_cb cb, void *data, sj_error *err)
{
    const Sanji__Person *p = sc_person(c);
    if (c->node.role != SJ_NODE_ROLE_COUNTY_DESK || !p)
        return sj_error_set(err, SJ_ENOT_ADMIN, "%s",
                            _("Only a county operator logged in at a county desk may administer "
                              "persons, departments and items."));
    if (!c->conn || !c->welcomed)
        return sj_error_set(err, SJ_ECLOSED, "%s",
                            _("Not connected to the county; administration needs the link."));
    pending_query *pq = calloc(1, sizeof(*pq));
    if (!pq)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    req->actor_person = p->id;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ADMIN_REQUEST;
    env.admin_request = req;
    sj_uuid_v7(pq->id);
    env.message_id.data = pq->id;
    env.message_id.len = 16;
    int rc = sj_conn_send(c->conn, &env, NULL, err);
    req->actor_person = NULL;
    if (rc != 0) {
        free(pq);
        return rc;
    }
    pq->admin_cb = cb;
    pq->data = data;
    pq->next = c->queries;
    c->queries = pq;
    return 0;
}

/* ---- labels ------------------------------------------------------------ */

const char *sc_out_state_label(sc_out_state s)
{
    switch (s) {
    case SC_OUT_SAVED: return _("outbox: saved");
    case SC_OUT_STORED: return _("outbox: reached the township");
    case SC_OUT_APPLIED: return _("outbox: recorded by the county");
    case SC_OUT_REFUSED: return _("outbox: refused");
    }
    return "?";
}

const char *sc_status_label(sj_case_status s)
{
    switch (s) {
    case SJ_STATUS_REGISTERED: return _("case status: registered");
    case SJ_STATUS_ESCALATED_TOWNSHIP: return _("case status: escalated to the township");
    case SJ_STATUS_ACCEPTED_TOWNSHIP: return _("case status: accepted by the township");
    case SJ_STATUS_ESCALATED_COUNTY: return _("case status: escalated to the county");
    case SJ_STATUS_ACCEPTED_COUNTY: return _("case status: accepted by the county");
    case SJ_STATUS_WAITING_MATERIALS: return _("case status: waiting for materials");
    case SJ_STATUS_RESOLVED: return _("case status: resolved");
    case SJ_STATUS_RETURNED: return _("case status: returned");
    case SJ_STATUS_UNSATISFIED: return _("case status: unsatisfied, follow-up");
    case SJ_STATUS_CLOSED: return _("case status: closed");
    case SJ_STATUS_WITHDRAWN: return _("case status: withdrawn");
    case SJ_STATUS_DISPATCHED: return _("case status: dispatched, waiting for the department");
    case SJ_STATUS_DEPARTMENT_HANDLING: return _("case status: handled by the department");
    case SJ_STATUS_REPORTED: return _("case status: reported back, waiting for review");
    default: return "?";
    }
}

const char *sc_action_label(sj_case_action a)
{
    if ((int)a == SC_OUTBOX_CHUNK)
        return _("attachment piece");
    switch (a) {
    case SJ_ACTION_REGISTER: return _("case action: register");
    case SJ_ACTION_RESOLVE_AT_ONCE: return _("case action: resolve at once");
    case SJ_ACTION_ESCALATE: return _("case action: escalate");
    case SJ_ACTION_ACCEPT: return _("case action: accept");
    case SJ_ACTION_RETURN_DOWN: return _("case action: return down");
    case SJ_ACTION_REQUEST_MATERIALS: return _("case action: request materials");
    case SJ_ACTION_SUPPLEMENT: return _("case action: supplement");
    case SJ_ACTION_RESOLVE: return _("case action: resolve");
    case SJ_ACTION_RETURN_UNDOABLE: return _("case action: return as not doable");
    case SJ_ACTION_WITHDRAW: return _("case action: withdraw");
    case SJ_ACTION_URGE: return _("case action: urge");
    case SJ_ACTION_FEEDBACK: return _("case action: feedback");
    case SJ_ACTION_REOPEN: return _("case action: reopen");
    case SJ_ACTION_CLOSE: return _("case action: close");
    case SJ_ACTION_SUPERVISE: return _("case action: supervise");
    case SJ_ACTION_OVERDUE: return _("case action: overdue");
    case SJ_ACTION_WARN: return _("case action: warning");
    case SJ_ACTION_DISPATCH: return _("case action: dispatch to a department");
    case SJ_ACTION_TAKE: return _("case action: take");
    case SJ_ACTION_REFUSE_DISPATCH: return _("case action: refuse back to the county");
    case SJ_ACTION_REPORT: return _("case action: report back");
    case SJ_ACTION_RETURN_REPORT: return _("case action: send the report back");
    case SJ_ACTION_EXTEND_REQUEST: return _("case action: ask for an extension");
    case SJ_ACTION_EXTEND_APPROVE: return _("case action: approve the extension");
    case SJ_ACTION_EXTEND_REFUSE: return _("case action: refuse the extension");
    case SJ_ACTION_DUE_RECOMPUTE: return _("case action: due time recomputed");
    case SJ_ACTION_NOTIFIED: return _("case action: villager notified");
    case SJ_ACTION_NOTIFY_FAILED: return _("case action: notifying the villager failed");
    case SJ_ACTION_ASSIGN: return _("case action: assign");
    case SJ_ACTION_TAKE_OVER: return _("case action: take over");
    case SJ_ACTION_SET_CARRIER: return _("case action: name the carrier");
    case SJ_ACTION_RECTIFY: return _("case action: rectified");
    case SJ_ACTION_CALLBACK: return _("case action: call back");
    case SJ_ACTION_RECTIFY_OVERDUE: return _("case action: rectification overdue");
    /* The only outbox row without an action: a person's own password
     * change (sc_change_password()). */
    case SJ_ACTION_NONE: return _("outbox: password change");
    default: return "?";
    }
}

const char *sc_notify_label(const Sanji__Case *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    switch ((sj_notify_state)c->notify_state) {
    case SJ_NOTIFY_PENDING:
        if (c->notify_attempts == 0)
            snprintf(buf, cap, "%s", _("notify: waiting to be sent"));
        else
            /* Translators: the message to the villager failed %u times and is tried again. */
            snprintf(buf, cap, _("notify: failed %u times, being retried"),
                     (unsigned)c->notify_attempts);
        break;
    case SJ_NOTIFY_SENT:
        /* Translators: the villager was sent the message (已通知), at attempt %u. */
        snprintf(buf, cap, _("notify: notified (attempt %u)"), (unsigned)c->notify_attempts);
        break;
    case SJ_NOTIFY_FAILED:
        /* Translators: every attempt to message the villager failed (通知失败). */
        snprintf(buf, cap, _("notify: failed after %u attempts"), (unsigned)c->notify_attempts);
        break;
    case SJ_NOTIFY_OFF:
        snprintf(buf, cap, "%s", _("notify: do not notify"));
        break;
    default:
        break;
    }
    return buf;
}

const char *sc_satisfaction_label(sj_satisfaction s)
{
    switch (s) {
    case SJ_SATISFACTION_SATISFIED: return _("satisfaction: satisfied");
    case SJ_SATISFACTION_BASICALLY: return _("satisfaction: basically satisfied");
    case SJ_SATISFACTION_UNSATISFIED: return _("satisfaction: unsatisfied");
    case SJ_SATISFACTION_VERY_SATISFIED: return _("satisfaction: very satisfied");
    case SJ_SATISFACTION_VERY_UNSATISFIED: return _("satisfaction: very unsatisfied");
    default: return "";
    }
}

void sc_format_time(int64_t ms, char *out, size_t cap)
{
    if (ms <= 0) {
        snprintf(out, cap, "-");
        return;
    }
    char iso[SJ_CLOCK_ISO_SIZE];
    if (sj_clock_format_china(ms, iso, sizeof(iso)) != 0) {
        snprintf(out, cap, "?");
        return;
    }
    /* "2026-11-23T20:00:00.123+08:00" -> "2026-11-23 20:00" */
    snprintf(out, cap, "%.10s %.5s", iso, iso + 11);
}

sj_satisfaction sc_satisfaction_parse(const char *s)
{
    static const struct {
        const char *en, *en2, *zh;
        sj_satisfaction v;
    } names[] = {
        {"very_satisfied", "very-satisfied", "非常满意", SJ_SATISFACTION_VERY_SATISFIED},
        {"satisfied", "satisfied", "满意", SJ_SATISFACTION_SATISFIED},
        {"basically", "basically_satisfied", "基本满意", SJ_SATISFACTION_BASICALLY},
        {"unsatisfied", "unsatisfied", "不满意", SJ_SATISFACTION_UNSATISFIED},
        {"very_unsatisfied", "very-unsatisfied", "非常不满意", SJ_SATISFACTION_VERY_UNSATISFIED},
    };
    if (!s)
        return SJ_SATISFACTION_NONE;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].en) == 0 || strcmp(s, names[i].en2) == 0 ||
            strcmp(s, names[i].zh) == 0)
            return names[i].v;
    return SJ_SATISFACTION_NONE;
}

const char *sc_rectify_label(const Sanji__Case *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!c || cap == 0)
        return buf;
    char due[32], done[32];
    sc_format_time(c->rectify_due_at_ms, due, sizeof(due));
    sc_format_time(c->rectified_at_ms, done, sizeof(done));
    if (c->rectified_at_ms > 0) {
        snprintf(buf, cap, c->rectify_late ? _("rectified %s, late (due %s)")
                                           : _("rectified %s (due %s)"),
                 done, due);
        if (c->called_back_at_ms == 0) {
            size_t len = strlen(buf);
            snprintf(buf + len, cap - len, " · %s", _("call back due (待回访)"));
        }
    } else if (c->rectify_due_at_ms > 0 || (sj_case_status)c->status == SJ_STATUS_UNSATISFIED) {
        snprintf(buf, cap, c->rectify_late ? _("being rectified, overdue (due %s)")
                                           : _("being rectified (due %s)"),
                 due);
    }
    return buf;
}

const char *sc_handling_label(sj_handling h)
{
    switch (h) {
    case SJ_HANDLING_AT_ONCE: return _("handling: at once at the village");
    case SJ_HANDLING_UNDERTAKEN: return _("handling: undertaken by the township");
    case SJ_HANDLING_ON_BEHALF: return _("handling: on behalf, by the county");
    case SJ_HANDLING_SUPPLEMENTED: return _("handling: after missing materials came in");
    case SJ_HANDLING_RETURNED: return _("handling: returned as not doable");
    default: return "";
    }
}

const char *sc_case_marks(const Sanji__Case *c, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    const char *sep = " · ";
#define MARK(...)                                                                              \
    do {                                                                                       \
        if (n < cap) {                                                                         \
            if (n > 0)                                                                         \
                n += (size_t)snprintf(buf + n, cap - n, "%s", sep);                            \
            if (n < cap)                                                                       \
                n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__);                          \
        }                                                                                      \
    } while (0)
    if (c->overdue)
        MARK("%s", _("overdue"));
    if (c->supervised)
        /* Translators: a list mark: the county supervises the case (督办). */
        MARK("%s", _("mark: supervised"));
    if (c->urge_count == 1)
        /* Translators: a list mark: urged once (催办). */
        MARK("%s", _("mark: urged"));
    else if (c->urge_count > 1)
        /* Translators: a list mark: urged %u times (催办). */
        MARK(_("mark: urged %u times"), (unsigned)c->urge_count);
    if (c->return_count > 0)
        /* Translators: a list mark: sent back down a level %u times (退回). */
        MARK(_("mark: returned down %u times"), (unsigned)c->return_count);
    if (c->department_refusals > 0)
        /* Translators: a list mark: refused by a department %u times (退单). */
        MARK(_("mark: refused by departments %u times"), (unsigned)c->department_refusals);
#undef MARK
    return buf;
}

const char *sc_level_label(sj_level l)
{
    switch (l) {
    case SJ_LEVEL_VILLAGE: return _("level: village");
    case SJ_LEVEL_TOWNSHIP: return _("level: township");
    case SJ_LEVEL_COUNTY: return _("level: county");
    default: return "";
    }
}
