/*
 * session.c - the county's side of one relay or county-desk link (see
 * session.h for the conversation and the feed rules).
 *
 * Sends that must not be lost (Welcome, syncs, Acks, QueryResults,
 * caught_up) go through an output queue when the link is blocked; feed
 * updates are sent only while that queue is empty and the link is not
 * blocked, and are otherwise re-read from the database later.
 *
 * Entry points: countyd_session_new(), countyd_session_message(),
 * countyd_session_drain(), countyd_session_closed(), countyd_session_ref(),
 * countyd_session_unref(), countyd_session_live(), countyd_session_node(),
 * countyd_session_ack(), countyd_session_feed(), countyd_session_feed_lost(),
 * countyd_session_tick(), countyd_session_next(), countyd_session_link(),
 * countyd_session_unlink(), countyd_session_replaced().
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_req.h"
#include "caserow.h"
#include "db.h"
#include "clock.h"
#include "envelope.h"
#include "feed.h"
#include "i18n.h"
#include "log.h"
#include "login_report.h"
#include "orgunit.h"
#include "query.h"
#include "refdata.h"
#include "refusal.h"

#define MOD "countyd"
/* The output queue before the peer is cut off: a peer that reads nothing
 * while it keeps asking.  Counted in frames and in bytes, since one frame
 * may be up to limits.max_frame: without the byte bound 20,000 large query
 * answers could hold gigabytes. */
#define OUTQ_MAX 20000
#define OUTQ_BYTES_MAX (16u << 20)
/* Queries of one session at the query workers at once; more are answered
 * SJ_EBUSY at once, as the relay does, so that one peer cannot fill the
 * workers' queue and the memory behind it.  A relay forwards the queries of
 * all its stations on one session, hence more than the relay's own per
 * station limit. */
#define QUERY_JOBS_MAX 512
#define STATUS_STORE_MIN_MS 5000
/* A status that passes on wrong passwords is kept even within
 * STATUS_STORE_MIN_MS (the relay sends them once), but not more often than
 * this: an honest relay sends its status every second heartbeat, and a
 * relay that floods cannot make the county log and store without end. */
#define FAILURES_STORE_MIN_MS 500

typedef struct outframe {
    struct outframe *next;
    uint8_t *frame; /* 4-byte header + payload */
    size_t len;
} outframe;

struct countyd_session {
    countyd_session *next, *prev;
    countyd_daemon *d;
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
     * link.heartbeat (refs_check()). */
    countyd_ref_versions ref_sent;
    bool ref_busy;
    int64_t ref_checked_ms;
};

/* ---- list and references ------------------------------------------------ */

countyd_session *countyd_session_next(const countyd_session *s)
{
    return s->next;
}

void countyd_session_link(countyd_session **head, countyd_session *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
}

void countyd_session_unlink(countyd_session **head, countyd_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else if (*head == s)
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

countyd_session *countyd_session_ref(countyd_session *s)
{
    s->refs++;
    return s;
}

void countyd_session_unref(countyd_session *s)
{
    if (--s->refs > 0)
        return;
    free(s->v);
    free(s);
}

bool countyd_session_live(const countyd_session *s)
{
    /* A replaced session's link closes asynchronously; it no longer counts
     * as one of its node's links (the next replacement takes another). */
    return s && s->conn != NULL && !s->replaced;
}

void countyd_session_replaced(countyd_session *s)
{
    if (!s->conn || s->replaced)
        return;
    s->replaced = true;
    SJ_LOG_WARN(MOD, "too many links of one node; its oldest gives way to a new one", "peer",
                s->peer.node_id);
    sj_conn_close(s->conn, SJ_EBUSY,
                  _("This computer has too many links to the county; the oldest was replaced by "
                    "a new one."));
}

const char *countyd_session_node(const countyd_session *s)
{
    return s->peer.node_id;
}

countyd_session *countyd_session_new(countyd_daemon *d, sj_conn *conn, const sj_identity *peer,
                                     const countyd_config *cfg)
{
    countyd_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->d = d;
    s->cfg = cfg;
    s->conn = conn;
    s->refs = 1;
    s->peer = *peer;
    s->asker.role = peer->role;
    s->asker.level = sj_node_role_level(peer->role);
    snprintf(s->asker.unit, sizeof(s->asker.unit), "%s", peer->unit);
    if (peer->role == SJ_NODE_ROLE_DEPARTMENT_DESK)
        snprintf(s->asker.department, sizeof(s->asker.department), "%s", peer->name);
    snprintf(s->me, sizeof(s->me), "county:%s000000", cfg->county);
    s->last_send_ms = sj_clock_mono_ms();
    return s;
}

static void free_outq(countyd_session *s)
{
    while (s->out_head) {
        outframe *f = s->out_head;
        s->out_head = f->next;
        free(f->frame);
        free(f);
    }
    s->out_tail = NULL;
    s->n_out = 0;
    s->out_bytes = 0;
}

void countyd_session_closed(countyd_session *s)
{
    s->conn = NULL;
    free_outq(s);
    countyd_job *page = s->page;
    s->page = NULL;
    countyd_job_free(page);
    countyd_session_unref(s);
}

/* ---- sending ------------------------------------------------------------ */

static void flush_outq(countyd_session *s)
{
    while (s->conn && s->out_head && !sj_conn_blocked(s->conn)) {
        outframe *f = s->out_head;
        sj_error err;
        int rc = sj_conn_send_payload(s->conn, f->frame + 4, f->len - 4, &err);
        if (rc == SJ_EBACKPRESSURE)
            return;
        if (rc != 0)
            SJ_LOG_WARN(MOD, "queued frame not sent", "peer", s->peer.node_id, "why", err.message);
        s->out_head = f->next;
        if (!s->out_head)
            s->out_tail = NULL;
        s->n_out--;
        s->out_bytes -= f->len;
        free(f->frame);
        free(f);
        s->last_send_ms = sj_clock_mono_ms();
    }
}

/* Sends env now, or queues it when the link is blocked: it is not lost
 * while the link lives. */
static void send_reliable(countyd_session *s, const Sanji__Envelope *env)
{
    if (!s->conn)
        return;
    sj_error err;
    if (!s->out_head) {
        int rc = sj_conn_send(s->conn, env, NULL, &err);
        if (rc == 0) {
            s->last_send_ms = sj_clock_mono_ms();
            return;
        }
        if (rc == SJ_EUNSUPPORTED) {
            /* Reference data an older peer does not take (the duty
             * roster): it does without, as it did before. */
            SJ_LOG_INFO(MOD, "not sent to an older peer", "peer", s->peer.node_id, "why",
                        err.message);
            return;
        }
        if (rc != SJ_EBACKPRESSURE) {
            SJ_LOG_WARN(MOD, "message not sent", "peer", s->peer.node_id, "code", sj_err_name(rc),
                        "why", err.message);
            return;
        }
    }
    if (s->n_out >= OUTQ_MAX || s->out_bytes >= OUTQ_BYTES_MAX) {
        SJ_LOG_WARN(MOD, "peer does not read; link closed", "peer", s->peer.node_id, "queued",
                    s->n_out >= OUTQ_MAX ? "20000 frames" : "16 MiB");
        sj_conn_close(s->conn, SJ_EBACKPRESSURE,
                      _("This computer took nothing from the county for too long; it reconnects "
                        "and goes on where it stopped."));
        return;
    }
    outframe *f = calloc(1, sizeof(*f));
    if (!f || sj_envelope_pack(env, s->me, (uint32_t)s->cfg->max_frame, &f->frame, &f->len, NULL,
                               &err) != 0) {
        free(f);
        SJ_LOG_WARN(MOD, "message not queued", "peer", s->peer.node_id);
        return;
    }
    if (s->out_tail)
        s->out_tail->next = f;
    else
        s->out_head = f;
    s->out_tail = f;
    s->n_out++;
    s->out_bytes += f->len;
}

/* reason: a msgid (N_()), logged as it is and sent in the county's language. */
static void goodbye(countyd_session *s, int code, const char *reason)
{
    SJ_LOG_WARN(MOD, "peer broke the protocol; link closed", "peer", s->peer.node_id, "code",
                sj_err_name(code), "why", reason);
    if (s->conn)
        sj_conn_close(s->conn, code, _(reason));
}

/* ---- villages and cursors ------------------------------------------------- */

static int cmp_cursor(const void *a, const void *b)
{
    return strcmp(((const countyd_feed_cursor *)a)->village,
                  ((const countyd_feed_cursor *)b)->village);
}

static countyd_feed_cursor *find_village(countyd_session *s, const char *village)
{
    if (!village || !s->n_v)
        return NULL;
    countyd_feed_cursor key;
    snprintf(key.village, sizeof(key.village), "%s", village);
    return bsearch(&key, s->v, s->n_v, sizeof(*s->v), cmp_cursor);
}

/* Adds a village that appeared after the session started (imported). */
static countyd_feed_cursor *add_village(countyd_session *s, const char *village)
{
    if (sj_orgunit_level(village) != SJ_LEVEL_VILLAGE ||
        !sj_orgunit_contains(s->asker.unit, village))
        return NULL;
    if (s->n_v == s->cap_v) {
        size_t cap = s->cap_v ? s->cap_v * 2 : 16;
        countyd_feed_cursor *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        s->v = v;
        s->cap_v = cap;
    }
    memset(&s->v[s->n_v], 0, sizeof(s->v[0]));
    snprintf(s->v[s->n_v].village, sizeof(s->v[0].village), "%s", village);
    s->n_v++;
    qsort(s->v, s->n_v, sizeof(*s->v), cmp_cursor);
    return find_village(s, village);
}

/* ---- the feed ------------------------------------------------------------- */

typedef struct page_data {
    countyd_feed_cursor *cur;
    size_t n_cur, limit;
    Sanji__FeedUpdate **u;
    size_t n, i;
} page_data;

static void pump(countyd_session *s);

static void page_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    page_data *p = j->data;
    j->status = countyd_feed_load(db, &j->arena, p->cur, p->n_cur, p->limit, &p->u, &p->n, &j->err);
}

static void page_done(countyd_job *j, countyd_daemon *d)
{
    countyd_session *s = j->session;
    page_data *p = j->data;
    s->loading = false;
    if (j->status != 0 || !s->conn) {
        if (j->status != 0 && j->status != SJ_ECANCELLED)
            SJ_LOG_WARN(MOD, "feed not read", "peer", s->peer.node_id, "why", j->err.message);
        free(p->cur);
        free(p);
        countyd_job_free(j);
        return;
    }
    free(p->cur);
    p->cur = NULL;
    s->page = j;
    pump(s);
}

static void request_page(countyd_session *s)
{
    if (s->loading || s->page || !s->conn)
        return;
    page_data *p = calloc(1, sizeof(*p));
    if (p)
        p->cur = malloc((s->n_v + 1) * sizeof(*p->cur));
    if (!p || !p->cur) {
        free(p);
        return;
    }
    memcpy(p->cur, s->v, s->n_v * sizeof(*p->cur));
    for (size_t i = 0; i < s->n_v; i++)
        p->cur[i].upto = 0;
    p->n_cur = s->n_v;
    p->limit = (size_t)s->cfg->feed_page;
    countyd_job *j = countyd_job_new();
    j->run = page_run;
    j->done = page_done;
    j->retryable = true;
    j->session = countyd_session_ref(s);
    j->data = p;
    s->dirty = false;
    s->loading = true;
    countyd_daemon_query_job(s->d, j);
}

/* Sends one update (applicant masked for a county desk that may not see
 * it).  Returns sj_conn_send()'s code. */
static int send_update(countyd_session *s, Sanji__FeedUpdate *u)
{
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
    env.feed_update = u;
    /* A department sees the cases dispatched to it, and nothing else. */
    if (s->peer.role == SJ_NODE_ROLE_DEPARTMENT_DESK &&
        (!u->snapshot || strcmp(u->snapshot->department_code, s->asker.department) != 0))
        return 0;
    Sanji__Applicant *orig = u->snapshot ? u->snapshot->applicant : NULL, masked;
    char id[SJ_PERSONAL_MASK_SIZE], phone[SJ_PERSONAL_MASK_SIZE];
    if (orig && !countyd_caserow_visible(u->snapshot, s->peer.role, s->asker.unit)) {
        countyd_caserow_mask(orig, &masked, id, phone);
        u->snapshot->applicant = &masked;
    }
    sj_error err;
    int rc = sj_conn_send(s->conn, &env, NULL, &err);
    if (orig)
        u->snapshot->applicant = orig;
    if (rc == 0)
        s->last_send_ms = sj_clock_mono_ms();
    else if (rc != SJ_EBACKPRESSURE)
        SJ_LOG_WARN(MOD, "feed update not sent", "peer", s->peer.node_id, "why", err.message);
    return rc;
}

static void send_caught_up(countyd_session *s)
{
    Sanji__FeedUpdate cu = SANJI__FEED_UPDATE__INIT;
    cu.caught_up = true;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
    env.feed_update = &cu;
    send_reliable(s, &env);
}

static void pump(countyd_session *s)
{
    while (s->conn && s->page && !s->out_head && !sj_conn_blocked(s->conn)) {
        page_data *p = s->page->data;
        if (p->i == p->n) {
            bool full = p->limit && p->n >= p->limit;
            countyd_job *j = s->page;
            s->page = NULL;
            free(p);
            countyd_job_free(j);
            if (full || s->dirty) {
                request_page(s);
                return;
            }
            if (s->want_caught_up) {
                s->want_caught_up = false;
                send_caught_up(s);
            }
            s->live = true;
            return;
        }
        Sanji__FeedUpdate *u = p->u[p->i];
        countyd_feed_cursor *c = find_village(s, u->village);
        if (!c || u->seq <= c->after) {
            p->i++;
            continue;
        }
        if (u->seq != c->after + 1) {
            s->dirty = true; /* not expected from one read; read again */
            p->i++;
            continue;
        }
        int rc = send_update(s, u);
        if (rc == SJ_EBACKPRESSURE)
            return;
        if (rc == 0)
            c->after = u->seq;
        p->i++;
    }
}

void countyd_session_feed(countyd_session *s, Sanji__FeedUpdate *u)
{
    if (!s->conn || !s->welcomed || !u->village)
        return;
    countyd_feed_cursor *c = find_village(s, u->village);
    if (!c && !(c = add_village(s, u->village)))
        return;
    if (u->seq <= c->after)
        return;
    bool idle = s->live && !s->loading && !s->page;
    if (idle && !s->out_head && !sj_conn_blocked(s->conn) && u->seq == c->after + 1) {
        if (send_update(s, u) == 0) {
            c->after = u->seq;
            return;
        }
    }
    s->dirty = true;
    if (idle)
        request_page(s);
}

void countyd_session_feed_lost(countyd_session *s)
{
    if (!s->conn || !s->welcomed)
        return;
    s->dirty = true;
    if (s->live && !s->loading && !s->page)
        request_page(s);
}

void countyd_session_drain(countyd_session *s)
{
    flush_outq(s);
    if (s->out_head)
        return;
    if (s->page)
        pump(s);
    else if (s->dirty && s->live && !s->loading)
        request_page(s);
}

/* ---- session start --------------------------------------------------------- */

typedef struct hello_data {
    uint64_t have_catalogue, have_org, have_person;
    /* The Hello names no roster version: the first roster of a session is
     * always sent (it is small), later ones when the version moves. */
    uint64_t have_duty;
    countyd_feed_cursor *cursors; /* from the Hello */
    size_t n_cursors;
    /* Hello.live_only (a county desk, which searches by Query instead of
     * holding the county): every village's newest seq, read with the
     * villages, becomes its cursor, so the feed brings only what changes
     * from now on.  An update committed between that read and the Welcome
     * is a gap the feed's page read fills as for any session. */
    bool live_only;
    uint64_t *heads; /* per village, from the arena */
    countyd_ref_versions v;
    Sanji__CatalogueSync *catalogue;
    Sanji__OrgTreeSync *org;
    Sanji__PersonSync *persons;
    Sanji__DutySync *duty;
    char **villages;
    size_t n_villages;
    char unit[SJ_UNIT_CODE_SIZE];
} hello_data;

/* The current versions, and each set whose version differs from the one
 * the peer has (h->have_*), for the peer's scope (h->unit). */
static int read_refs(countyd_job *j, PGconn *db, hello_data *h)
{
    countyd_arena *a = &j->arena;
    if ((j->status = countyd_refdata_versions(db, &h->v, &j->err)) != 0)
        return j->status;
    if (h->v.catalogue != h->have_catalogue &&
        (j->status = countyd_refdata_catalogue(db, a, NULL, h->v.catalogue, &h->catalogue,
                                               &j->err)) != 0)
        return j->status;
    if (h->v.org_tree != h->have_org &&
        (j->status = countyd_refdata_org_tree(db, a, h->unit, h->v.org_tree, &h->org, &j->err)) != 0)
        return j->status;
    if (h->v.person != h->have_person &&
        (j->status = countyd_refdata_persons(db, a, h->unit, h->v.person, &h->persons, &j->err)) != 0)
        return j->status;
    if (h->v.duty != 0 && h->v.duty != h->have_duty &&
        (j->status = countyd_refdata_duty(db, a, h->unit, h->v.duty, &h->duty, &j->err)) != 0)
        return j->status;
    return 0;
}

/* Sends the sets read_refs() read, in the order of the session start. */
static void send_refs(countyd_session *s, const hello_data *h)
{
    if (h->catalogue) {
        Sanji__Envelope e = SANJI__ENVELOPE__INIT;
        e.body_case = SANJI__ENVELOPE__BODY_CATALOGUE_SYNC;
        e.catalogue_sync = h->catalogue;
        send_reliable(s, &e);
    }
    if (h->org) {
        Sanji__Envelope e = SANJI__ENVELOPE__INIT;
        e.body_case = SANJI__ENVELOPE__BODY_ORG_TREE_SYNC;
        e.org_tree_sync = h->org;
        send_reliable(s, &e);
    }
    if (h->persons) {
        Sanji__Envelope e = SANJI__ENVELOPE__INIT;
        e.body_case = SANJI__ENVELOPE__BODY_PERSON_SYNC;
        e.person_sync = h->persons;
        send_reliable(s, &e);
    }
    if (h->duty) {
        Sanji__Envelope e = SANJI__ENVELOPE__INIT;
        e.body_case = SANJI__ENVELOPE__BODY_DUTY_SYNC;
        e.duty_sync = h->duty;
        send_reliable(s, &e);
    }
    s->ref_sent = h->v;
}

static void hello_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    hello_data *h = j->data;
    countyd_arena *a = &j->arena;
    if (read_refs(j, db, h) != 0)
        return;
    char prefix[13];
    countyd_scope_prefix(h->unit, prefix);
    const char *p[] = {prefix};
    PGresult *res;
    if ((j->status = countyd_db_query(db,
                                      "SELECT o.code, coalesce(f.last_seq, 0) FROM org_unit o"
                                      " LEFT JOIN feed_counter f ON f.village = o.code"
                                      " WHERE o.level = 1 AND $1 <> ''"
                                      " AND left(o.code, length($1)) = $1 ORDER BY o.code",
                                      1, p, &res, &j->err)) != 0)
        return;
    h->n_villages = (size_t)PQntuples(res);
    h->villages = countyd_arena_alloc(a, (h->n_villages + 1) * sizeof(char *));
    h->heads = countyd_arena_alloc(a, (h->n_villages + 1) * sizeof(*h->heads));
    for (size_t i = 0; i < h->n_villages; i++) {
        h->villages[i] = countyd_arena_strdup(a, PQgetvalue(res, (int)i, 0));
        h->heads[i] = strtoull(PQgetvalue(res, (int)i, 1), NULL, 10);
    }
    PQclear(res);
}

static void hello_done(countyd_job *j, countyd_daemon *d)
{
    countyd_session *s = j->session;
    hello_data *h = j->data;
    if (j->status != 0 || !s->conn) {
        if (j->status != 0 && j->status != SJ_ECANCELLED && s->conn)
            sj_conn_close(s->conn, SJ_EDB_CONN,
                          _("The county database is not available just now; the link is tried "
                            "again later."));
        goto out;
    }
    /* The villages in scope, each from the peer's cursor (0: from the start). */
    free(s->v);
    s->v = calloc(h->n_villages + 1, sizeof(*s->v));
    if (!s->v) {
        s->n_v = s->cap_v = 0;
        sj_conn_close(s->conn, SJ_ENOMEM, _(sj_err_text(SJ_ENOMEM)));
        goto out;
    }
    s->n_v = 0;
    s->cap_v = h->n_villages + 1;
    for (size_t i = 0; i < h->n_villages; i++) {
        snprintf(s->v[s->n_v].village, sizeof(s->v[0].village), "%s", h->villages[i]);
        if (h->live_only)
            s->v[s->n_v].after = h->heads[i];
        s->n_v++;
    }
    for (size_t i = 0; i < h->n_cursors && !h->live_only; i++) {
        countyd_feed_cursor *c = find_village(s, h->cursors[i].village);
        if (c)
            c->after = h->cursors[i].after;
    }
    Sanji__FeedCursor *fc = countyd_arena_alloc(&j->arena, (s->n_v + 1) * sizeof(*fc));
    Sanji__FeedCursor **fcp = countyd_arena_alloc(&j->arena, (s->n_v + 1) * sizeof(*fcp));
    for (size_t i = 0; i < s->n_v; i++) {
        sanji__feed_cursor__init(&fc[i]);
        fc[i].village = s->v[i].village;
        fc[i].after_seq = s->v[i].after;
        fcp[i] = &fc[i];
    }
    Sanji__Welcome w = SANJI__WELCOME__INIT;
    w.version = s->conn ? sj_conn_level(s->conn) : SJ_PROTOCOL_LEVEL_MIN;
    w.node = s->me;
    w.server_time_ms = sj_clock_real_ms();
    w.cursors = fcp;
    w.n_cursors = s->n_v;
    w.upstream_online = true;
    w.upstream_last_contact_ms = w.server_time_ms;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    send_reliable(s, &env);
    send_refs(s, h);
    s->ref_checked_ms = sj_clock_mono_ms(); /* the clock of countyd_session_tick() */
    s->welcomed = true;
    s->want_caught_up = true;
    request_page(s);
out:
    free(h->cursors);
    free(h);
    countyd_job_free(j);
}

static void on_hello(countyd_session *s, const Sanji__Hello *hello)
{
    if (s->hello_seen) {
        goodbye(s, SJ_EPROTOCOL, N_("Hello was sent twice."));
        return;
    }
    s->hello_seen = true;
    if (hello->min_version > SJ_PROTOCOL_LEVEL || hello->max_version < SJ_PROTOCOL_LEVEL_MIN) {
        goodbye(s, SJ_EFRAME_BAD_VERSION,
                N_("This program and the county speak no common protocol version; install the "
                   "version the county names."));
        return;
    }
    /* An older peer gets nothing it does not know (envelope.h). */
    sj_conn_set_level(s->conn, sj_protocol_level_agree(hello->max_version));
    hello_data *h = calloc(1, sizeof(*h));
    if (!h || !(h->cursors = calloc(hello->n_cursors + 1, sizeof(*h->cursors)))) {
        free(h);
        sj_conn_close(s->conn, SJ_ENOMEM, _(sj_err_text(SJ_ENOMEM)));
        return;
    }
    h->have_catalogue = hello->catalogue_version;
    h->have_org = hello->org_tree_version;
    h->have_person = hello->person_version;
    h->live_only = hello->live_only;
    for (size_t i = 0; i < hello->n_cursors; i++) {
        const Sanji__FeedCursor *c = hello->cursors[i];
        if (!c || !c->village || strlen(c->village) != 12)
            continue;
        countyd_feed_cursor *dst = &h->cursors[h->n_cursors++];
        snprintf(dst->village, sizeof(dst->village), "%s", c->village);
        dst->after = c->after_seq;
    }
    snprintf(h->unit, sizeof(h->unit), "%s", s->asker.unit);
    countyd_job *j = countyd_job_new();
    j->run = hello_run;
    j->done = hello_done;
    j->retryable = true;
    j->session = countyd_session_ref(s);
    j->data = h;
    countyd_daemon_query_job(s->d, j);
}

static void on_feed_request(countyd_session *s, const Sanji__FeedRequest *fr)
{
    if (!s->welcomed)
        return; /* the initial feed is still to come and covers it */
    for (size_t i = 0; i < fr->n_cursors; i++) {
        const Sanji__FeedCursor *c = fr->cursors[i];
        countyd_feed_cursor *mine = c ? find_village(s, c->village) : NULL;
        if (mine)
            mine->after = c->after_seq;
    }
    s->want_caught_up = true;
    if (s->loading || s->page)
        s->dirty = true;
    else
        request_page(s);
}

/* ---- upward messages ---------------------------------------------------------- */

/* why: a msgid (N_()); the cadre reads it through the refusal module. */
static void ack_refuse(countyd_session *s, const Sanji__Envelope *env, int code, const char *why)
{
    char reason[SJ_ERROR_MESSAGE_MAX];
    sj_refusal_format(code, why, reason, sizeof reason);
    Sanji__Ack a = SANJI__ACK__INIT;
    a.message_id = env->message_id;
    a.status = SANJI__ACK_STATUS__ACK_STATUS_REFUSED;
    a.code = code;
    a.reason = reason;
    if (env->body_case == SANJI__ENVELOPE__BODY_CASE_SUBMIT && env->case_submit->case_id.len == 16)
        a.case_id = env->case_submit->case_id;
    if (env->body_case == SANJI__ENVELOPE__BODY_CASE_ACTION && env->case_action->case_id.len == 16)
        a.case_id = env->case_action->case_id;
    if (env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK &&
        env->attachment_chunk->case_id.len == 16)
        a.case_id = env->attachment_chunk->case_id;
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_ACK;
    out.ack = &a;
    send_reliable(s, &out);
}

/* The node a relay forwarded for: a station or desk of its township. */
static int forwarded_origin(const countyd_session *s, const char *sender, sj_identity *out)
{
    if (!sender || sj_identity_parse_node_id(sender, out, NULL) != 0)
        return SJ_ESCOPE;
    if (out->role != SJ_NODE_ROLE_VILLAGE && out->role != SJ_NODE_ROLE_TOWNSHIP_DESK)
        return SJ_EWRONG_ROLE;
    if (!sj_orgunit_contains(s->peer.unit, out->unit))
        return SJ_ESCOPE;
    return 0;
}

static void on_upward(countyd_session *s, const Sanji__Envelope *env, const uint8_t *payload,
                      size_t len)
{
    countyd_peer peer;
    memset(&peer, 0, sizeof(peer));
    sj_identity origin = s->peer;
    if (s->peer.role == SJ_NODE_ROLE_RELAY) {
        int rc = forwarded_origin(s, env->sender_node, &origin);
        if (rc != 0) {
            SJ_LOG_WARN(MOD, "forwarded message refused: sender outside the relay's township",
                        "peer", s->peer.node_id, "sender", env->sender_node, "code",
                        sj_err_name(rc));
            ack_refuse(s, env, rc,
                       N_("The station or desk that sent it does not belong to the township of "
                          "the relay that forwarded it."));
            return;
        }
    } else if (env->sender_node && *env->sender_node && strcmp(env->sender_node, s->peer.node_id) != 0) {
        /* A desk speaks for itself only, as the relay requires of its
         * stations: a message naming another sender is refused, not
         * silently re-attributed. */
        SJ_LOG_WARN(MOD, "message refused: sender is not the certificate's node", "peer",
                    s->peer.node_id, "sender", env->sender_node, "code",
                    sj_err_name(SJ_EPROTOCOL));
        ack_refuse(s, env, SJ_EPROTOCOL,
                   N_("The message names another sender than the certificate of this link."));
        return;
    }
    peer.role = (Sanji__NodeRole)origin.role;
    snprintf(peer.unit, sizeof(peer.unit), "%s", origin.unit);
    peer.node = origin.node_id;
    Sanji__Envelope *copy;
    sj_error err;
    if (sj_envelope_unpack(payload, len, &copy, &err) != 0) {
        ack_refuse(s, env, SJ_EINTERNAL, N_("The county could not read the message again."));
        return;
    }
    int rc = countyd_daemon_upward(s->d, s, copy, &peer);
    if (rc == SJ_EBUSY)
        sj_conn_close(s->conn, SJ_EBUSY,
                      _("The county server is busy; what was sent stays in the outbox and goes "
                        "again later."));
    else if (rc != 0)
        sj_conn_close(s->conn, rc, _(sj_err_text(SJ_ENOMEM)));
}

void countyd_session_ack(countyd_session *s, const uint8_t message_id[16],
                         const countyd_apply_result *r, Sanji__Case *current,
                         const countyd_peer *origin)
{
    if (!s || !s->conn)
        return; /* the sender resends and gets the stored result */
    static const uint8_t zero[16];
    Sanji__Ack a = SANJI__ACK__INIT;
    a.message_id.data = (uint8_t *)message_id;
    a.message_id.len = 16;
    a.status = r->status;
    a.code = r->code;
    a.reason = (char *)r->reason;
    if (memcmp(r->case_id, zero, 16) != 0) {
        a.case_id.data = (uint8_t *)r->case_id;
        a.case_id.len = 16;
    }
    a.case_number = (char *)r->case_number;
    a.case_version = r->case_version;
    Sanji__Applicant *orig = current ? current->applicant : NULL, masked;
    char id[SJ_PERSONAL_MASK_SIZE], phone[SJ_PERSONAL_MASK_SIZE];
    if (orig && !countyd_caserow_visible(current, (sj_node_role)origin->role, origin->unit)) {
        countyd_caserow_mask(orig, &masked, id, phone);
        current->applicant = &masked;
    }
    a.current = current;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ACK;
    env.ack = &a;
    send_reliable(s, &env);
    if (orig)
        current->applicant = orig;
}

/* ---- queries --------------------------------------------------------------------- */

typedef struct query_data {
    Sanji__Envelope *env; /* owned copy */
    countyd_asker asker;
    Sanji__QueryResult result;
} query_data;

static void query_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    query_data *q = j->data;
    const countyd_config *cfg = j->session->cfg;
    countyd_query_opts opts = {cfg->offline_warn_days, cfg->cert_warn_days, &cfg->duty,
                               &cfg->stars};
    j->status = countyd_query_answer(db, &j->arena, &q->asker, &opts, q->env->query, &q->result,
                                     &j->err);
}

static void query_done(countyd_job *j, countyd_daemon *d)
{
    countyd_session *s = j->session;
    query_data *q = j->data;
    s->n_queries--;
    if (j->status == SJ_ECANCELLED) {
        sanji__query_result__init(&q->result);
        q->result.code = SJ_ECANCELLED;
    }
    if (s->conn) {
        Sanji__QueryResult *r = &q->result;
        r->in_reply_to = q->env->message_id;
        if (r->result_case == SANJI__QUERY_RESULT__RESULT_NETWORK)
            for (size_t i = 0; i < r->network->n_nodes; i++) {
                /* A status from a relay that is not connected now is old. */
                Sanji__NodeStatus *st = r->network->nodes[i];
                if (st->node && !countyd_daemon_has_node(d, st->node))
                    st->upstream_online = false;
            }
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
        env.query_result = r;
        send_reliable(s, &env);
    }
    sj_envelope_free(q->env);
    free(q);
    countyd_job_free(j);
}

/* Answers a query SJ_EBUSY at once: too many of this peer's are at work. */
static void query_busy(countyd_session *s, const Sanji__Envelope *query)
{
    Sanji__QueryResult res = SANJI__QUERY_RESULT__INIT;
    res.in_reply_to = query->message_id;
    res.code = SJ_EBUSY;
    res.reason = (char *)_("Too many questions are waiting at the county; ask again once the "
                           "earlier answers have come.");
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
    out.query_result = &res;
    send_reliable(s, &out);
}

static void on_query(countyd_session *s, const Sanji__Envelope *env, const uint8_t *payload,
                     size_t len)
{
    if (s->n_queries >= QUERY_JOBS_MAX) {
        query_busy(s, env);
        return;
    }
    query_data *q = calloc(1, sizeof(*q));
    sj_error err;
    if (!q || sj_envelope_unpack(payload, len, &q->env, &err) != 0) {
        free(q);
        return;
    }
    q->asker = s->asker;
    sj_identity origin;
    if (s->peer.role == SJ_NODE_ROLE_RELAY && q->env->sender_node &&
        strcmp(q->env->sender_node, s->peer.node_id) != 0 &&
        forwarded_origin(s, q->env->sender_node, &origin) == 0) {
        /* A station's query through its relay sees what the station sees. */
        q->asker.role = origin.role;
        q->asker.level = sj_node_role_level(origin.role);
        snprintf(q->asker.unit, sizeof(q->asker.unit), "%s", origin.unit);
    }
    countyd_job *j = countyd_job_new();
    j->run = query_run;
    j->done = query_done;
    j->session = countyd_session_ref(s);
    j->data = q;
    s->n_queries++;
    countyd_daemon_query_job(s->d, j);
}

/* ---- administration from a county desk (admin_req.h) ------------------------------- */

typedef struct admin_data {
    Sanji__Envelope *env; /* owned copy */
    sj_identity node;
    bool changed;
} admin_data;

static void admin_answer(countyd_session *s, const ProtobufCBinaryData *id, int code,
                         const char *reason, bool changed)
{
    Sanji__Ack a = SANJI__ACK__INIT;
    a.message_id = *id;
    a.status = code == 0 ? SANJI__ACK_STATUS__ACK_STATUS_APPLIED
                         : SANJI__ACK_STATUS__ACK_STATUS_REFUSED;
    a.code = code;
    a.reason = (char *)(reason ? reason : "");
    a.changed = changed;
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_ACK;
    out.ack = &a;
    send_reliable(s, &out);
}

static void admin_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    (void)apply;
    admin_data *a = j->data;
    j->status = countyd_admin_request(db, &a->node, a->env->admin_request, &a->changed, &j->err);
}

static void admin_done(countyd_job *j, countyd_daemon *d)
{
    (void)d;
    countyd_session *s = j->session;
    admin_data *a = j->data;
    s->n_queries--;
    if (s->conn) {
        if (j->status != 0)
            SJ_LOG_INFO(MOD, "administration request refused", "peer", s->peer.node_id, "code",
                        sj_err_name(j->status));
        admin_answer(s, &a->env->message_id, j->status, j->status ? j->err.message : "",
                     a->changed);
    }
    sj_envelope_free(a->env);
    free(a);
    countyd_job_free(j);
}

/* Answered on the link with an Ack; not stored nor retried: the desk
 * asks while it is connected and shows the answer. */
static void on_admin(countyd_session *s, const Sanji__Envelope *env, const uint8_t *payload,
                     size_t len)
{
    if (s->peer.role != SJ_NODE_ROLE_COUNTY_DESK) {
        char reason[SJ_ERROR_MESSAGE_MAX];
        snprintf(reason, sizeof reason, "%s",
                 _("Only a county desk may administer persons, departments and items."));
        admin_answer(s, &env->message_id, SJ_ENOT_ADMIN, reason, false);
        return;
    }
    if (s->n_queries >= QUERY_JOBS_MAX) {
        char reason[SJ_ERROR_MESSAGE_MAX];
        snprintf(reason, sizeof reason, "%s",
                 _("Too many questions are waiting at the county; ask again once the earlier "
                   "answers have come."));
        admin_answer(s, &env->message_id, SJ_EBUSY, reason, false);
        return;
    }
    admin_data *a = calloc(1, sizeof(*a));
    sj_error err;
    if (!a || sj_envelope_unpack(payload, len, &a->env, &err) != 0) {
        free(a);
        return;
    }
    a->node = s->peer;
    countyd_job *j = countyd_job_new();
    j->run = admin_run;
    j->done = admin_done;
    j->session = countyd_session_ref(s);
    j->data = a;
    s->n_queries++;
    countyd_daemon_query_job(s->d, j);
}

/* ---- liveness ------------------------------------------------------------------------ */

static bool carries_login_failures(const Sanji__NodeStatus *st)
{
    for (size_t i = 0; i < st->n_stations; i++)
        if (st->stations[i]->n_login_failures)
            return true;
    return false;
}

/* Wrong passwords a relay passes on from its stations (PKI.md "Password
 * guessing"): one log line per station and person, a warning when
 * repeated (SJ_LOGIN_REPEATED), never the password.  Reports of stations
 * outside the relay's township are not believed. */
static void log_login_failures(countyd_session *s, const Sanji__NodeStatus *st)
{
    for (size_t i = 0; i < st->n_stations; i++) {
        const Sanji__StationStatus *ss = st->stations[i];
        char unit[SJ_UNIT_CODE_SIZE];
        if (ss->n_login_failures == 0)
            continue;
        if (!countyd_login_failure_station(s->peer.unit, ss, unit)) {
            SJ_LOG_WARN(MOD, "wrong passwords reported for a station not of the relay's township",
                        "relay", s->peer.node_id, "station", ss->node ? ss->node : "");
            continue;
        }
        /* As many persons as a relay's report holds (login_report.h). */
        for (size_t j = 0; j < ss->n_login_failures && j < SJ_LOGIN_REPORT_PERSONS; j++) {
            const Sanji__LoginFailures *lf = ss->login_failures[j];
            char count[16], row[16];
            snprintf(count, sizeof count, "%u", (unsigned)lf->count);
            snprintf(row, sizeof row, "%u", (unsigned)lf->in_a_row);
            const char *person = lf->person && *lf->person ? lf->person : "?";
            if (lf->count >= SJ_LOGIN_REPEATED || lf->in_a_row >= SJ_LOGIN_REPEATED)
                SJ_LOG_WARN(MOD, "repeated wrong passwords at a station", "station", ss->node,
                            "person", person, "count", count, "in_a_row", row, "relay",
                            s->peer.node_id);
            else
                SJ_LOG_INFO(MOD, "wrong password at a station", "station", ss->node, "person",
                            person, "count", count, "in_a_row", row, "relay", s->peer.node_id);
        }
    }
}

static void on_status(countyd_session *s, const Sanji__NodeStatus *st)
{
    if (s->peer.role != SJ_NODE_ROLE_RELAY || !st)
        return;
    int64_t now = sj_clock_mono_ms();
    bool failures = carries_login_failures(st);
    if (failures && s->last_failures_ms && now - s->last_failures_ms < FAILURES_STORE_MIN_MS) {
        if (!s->failures_dropped) /* once per flood, not per message */
            SJ_LOG_WARN(MOD, "statuses with wrong passwords dropped: the relay sends too often",
                        "relay", s->peer.node_id);
        s->failures_dropped = true;
        return;
    }
    if (failures) {
        s->last_failures_ms = now;
        s->failures_dropped = false;
        log_login_failures(s, st);
    } else if (s->last_status_ms && now - s->last_status_ms < STATUS_STORE_MIN_MS) {
        return;
    }
    s->last_status_ms = now;
    /* Who it is comes from the certificate, not from the message. */
    Sanji__NodeStatus copy = *st;
    copy.node = s->peer.node_id;
    copy.role = SANJI__NODE_ROLE__NODE_ROLE_RELAY;
    copy.org_unit = s->peer.unit;
    if (copy.reported_at_ms == 0)
        copy.reported_at_ms = sj_clock_real_ms();
    countyd_daemon_store_status(s->d, s->peer.node_id, s->peer.unit, &copy);
}

/* ---- reference data on a live link ------------------------------------------------------ */

static void refs_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    (void)apply;
    (void)read_refs(j, db, j->data);
}

static void refs_done(countyd_job *j, countyd_daemon *d)
{
    (void)d;
    countyd_session *s = j->session;
    hello_data *h = j->data;
    s->ref_busy = false;
    /* A failed read is tried again at the next check. */
    if (j->status == 0 && s->conn)
        send_refs(s, h);
    free(h);
    countyd_job_free(j);
}

/* A set changed since the Welcome (an import or an administration
 * command, admin.h): the peer gets it on this link, as it would at its
 * next session start, so that a deactivated person is known at the
 * relays, and so at their stations' next sync, without a reconnect. */
static void refs_check(countyd_session *s, int64_t now)
{
    if (!s->welcomed || s->ref_busy || now - s->ref_checked_ms < s->cfg->heartbeat_ms)
        return;
    hello_data *h = calloc(1, sizeof(*h));
    if (!h)
        return;
    s->ref_checked_ms = now;
    h->have_catalogue = s->ref_sent.catalogue;
    h->have_org = s->ref_sent.org_tree;
    h->have_person = s->ref_sent.person;
    h->have_duty = s->ref_sent.duty;
    snprintf(h->unit, sizeof(h->unit), "%s", s->asker.unit);
    countyd_job *j = countyd_job_new();
    j->run = refs_run;
    j->done = refs_done;
    j->session = countyd_session_ref(s);
    j->data = h;
    s->ref_busy = true;
    countyd_daemon_query_job(s->d, j);
}

void countyd_session_tick(countyd_session *s, int64_t now)
{
    if (!s->conn || !s->hello_seen)
        return;
    refs_check(s, now);
    if (now - s->last_send_ms < s->cfg->heartbeat_ms || sj_conn_blocked(s->conn))
        return;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    hb.seq = ++s->hb_seq;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    send_reliable(s, &env);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

void countyd_session_message(countyd_session *s, const Sanji__Envelope *env,
                             const uint8_t *payload, size_t len)
{
    if (!s->conn)
        return;
    if (env->body_case != SANJI__ENVELOPE__BODY_HELLO && !s->hello_seen) {
        goodbye(s, SJ_EPROTOCOL, N_("The first message must be Hello."));
        return;
    }
    switch (env->body_case) {
    case SANJI__ENVELOPE__BODY_HELLO:
        on_hello(s, env->hello);
        break;
    case SANJI__ENVELOPE__BODY_CASE_SUBMIT:
    case SANJI__ENVELOPE__BODY_CASE_ACTION:
    case SANJI__ENVELOPE__BODY_PASSWORD_CHANGE:
    case SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK:
        on_upward(s, env, payload, len);
        break;
    case SANJI__ENVELOPE__BODY_FEED_REQUEST:
        on_feed_request(s, env->feed_request);
        break;
    case SANJI__ENVELOPE__BODY_QUERY:
        on_query(s, env, payload, len);
        break;
    case SANJI__ENVELOPE__BODY_ADMIN_REQUEST:
        on_admin(s, env, payload, len);
        break;
    case SANJI__ENVELOPE__BODY_HEARTBEAT:
        on_status(s, env->heartbeat->status);
        break;
    case SANJI__ENVELOPE__BODY_NODE_STATUS:
        on_status(s, env->node_status);
        break;
    default:
        goodbye(s, SJ_EPROTOCOL, N_("This message is not allowed on this link."));
        break;
    }
}
