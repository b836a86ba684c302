/*
 * session.c - the county's side of one relay or county-desk link (see
 * session.h for the conversation and the feed rules): the session's life
 * and references, the list of sessions, sending, the villages in scope and
 * the feed, heartbeats, and the dispatch of what the peer sends to the
 * part of the conversation that answers it (session_int.h).
 *
 * Sends that must not be lost (Welcome, syncs, Acks, QueryResults,
 * caught_up) go through an output queue when the link is blocked; feed
 * updates are sent only while that queue is empty and the link is not
 * blocked, and are otherwise re-read from the database later.
 *
 * Entry points: countyd_session_new(), countyd_session_message(),
 * countyd_session_drain(), countyd_session_closed(), countyd_session_ref(),
 * countyd_session_unref(), countyd_session_live(), countyd_session_node(),
 * countyd_session_feed(), countyd_session_feed_lost(),
 * countyd_session_tick(), countyd_session_next(), countyd_session_link(),
 * countyd_session_unlink(), countyd_session_replaced(),
 * countyd_sessions_have_node(); for session*.c: countyd_session_send(),
 * countyd_session_goodbye(), countyd_session_village(),
 * countyd_session_request_page(), countyd_session_job().
 */
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caserow.h"
#include "clock.h"
#include "envelope.h"
#include "i18n.h"
#include "log.h"
#include "orgunit.h"

/* The output queue before the peer is cut off: a peer that reads nothing
 * while it keeps asking.  Counted in frames and in bytes, since one frame
 * may be up to limits.max_frame: without the byte bound 20,000 large query
 * answers could hold gigabytes. */
#define OUTQ_MAX 20000
#define OUTQ_BYTES_MAX (16u << 20)

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

bool countyd_sessions_have_node(const countyd_session *head, const char *node)
{
    for (const countyd_session *s = head; s; s = s->next)
        if (countyd_session_live(s) && strcmp(s->peer.node_id, node) == 0)
            return true;
    return false;
}

static void release_session(void *s)
{
    countyd_session_unref(s);
}

countyd_job *countyd_session_job(countyd_session *s)
{
    countyd_job *j = countyd_job_new();
    if (!j)
        return NULL;
    j->owner = countyd_session_ref(s);
    j->release = release_session;
    return j;
}

countyd_session *countyd_session_new(const countyd_session_ctx *ctx, sj_conn *conn,
                                     const sj_identity *peer)
{
    const countyd_config *cfg = ctx->cfg;
    countyd_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->ctx = ctx;
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
        /* The frame already has its header: sent as it is, no second buffer. */
        int rc = sj_conn_send_frame(s->conn, f->frame, f->len - 4, &err);
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

void countyd_session_send(countyd_session *s, const Sanji__Envelope *env)
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
void countyd_session_goodbye(countyd_session *s, int code, const char *reason)
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

countyd_feed_cursor *countyd_session_village(countyd_session *s, const char *village)
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
    return countyd_session_village(s, village);
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

static void page_done(countyd_job *j)
{
    countyd_session *s = j->owner;
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

void countyd_session_request_page(countyd_session *s)
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
    countyd_job *j = countyd_session_job(s);
    if (!j) { /* out of memory: the next drain or update asks again */
        free(p->cur);
        free(p);
        return;
    }
    j->run = page_run;
    j->done = page_done;
    j->retryable = true;
    j->data = p;
    s->dirty = false;
    s->loading = true;
    countyd_worker_push(s->ctx->query, j);
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
    countyd_session_send(s, &env);
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
                countyd_session_request_page(s);
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
        countyd_feed_cursor *c = countyd_session_village(s, u->village);
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
    countyd_feed_cursor *c = countyd_session_village(s, u->village);
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
        countyd_session_request_page(s);
}

void countyd_session_feed_lost(countyd_session *s)
{
    if (!s->conn || !s->welcomed)
        return;
    s->dirty = true;
    if (s->live && !s->loading && !s->page)
        countyd_session_request_page(s);
}

void countyd_session_drain(countyd_session *s)
{
    flush_outq(s);
    if (s->out_head)
        return;
    if (s->page)
        pump(s);
    else if (s->dirty && s->live && !s->loading)
        countyd_session_request_page(s);
}

static void on_feed_request(countyd_session *s, const Sanji__FeedRequest *fr)
{
    if (!s->welcomed)
        return; /* the initial feed is still to come and covers it */
    for (size_t i = 0; i < fr->n_cursors; i++) {
        const Sanji__FeedCursor *c = fr->cursors[i];
        countyd_feed_cursor *mine = c ? countyd_session_village(s, c->village) : NULL;
        if (mine)
            mine->after = c->after_seq;
    }
    s->want_caught_up = true;
    if (s->loading || s->page)
        s->dirty = true;
    else
        countyd_session_request_page(s);
}

void countyd_session_tick(countyd_session *s, int64_t now)
{
    if (!s->conn || !s->hello_seen)
        return;
    countyd_session_refs_check(s, now);
    if (now - s->last_send_ms < s->cfg->heartbeat_ms || sj_conn_blocked(s->conn))
        return;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    hb.seq = ++s->hb_seq;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    countyd_session_send(s, &env);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

void countyd_session_message(countyd_session *s, const Sanji__Envelope *env)
{
    if (!s->conn)
        return;
    if (env->body_case != SANJI__ENVELOPE__BODY_HELLO && !s->hello_seen) {
        countyd_session_goodbye(s, SJ_EPROTOCOL, N_("The first message must be Hello."));
        return;
    }
    switch (env->body_case) {
    case SANJI__ENVELOPE__BODY_HELLO:
        countyd_session_on_hello(s, env->hello);
        break;
    case SANJI__ENVELOPE__BODY_CASE_SUBMIT:
    case SANJI__ENVELOPE__BODY_CASE_ACTION:
    case SANJI__ENVELOPE__BODY_PASSWORD_CHANGE:
    case SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK:
        countyd_session_on_upward(s, env);
        break;
    case SANJI__ENVELOPE__BODY_FEED_REQUEST:
        on_feed_request(s, env->feed_request);
        break;
    case SANJI__ENVELOPE__BODY_QUERY:
        countyd_session_on_query(s, env);
        break;
    case SANJI__ENVELOPE__BODY_ADMIN_REQUEST:
        countyd_session_on_admin(s, env);
        break;
    case SANJI__ENVELOPE__BODY_HEARTBEAT:
        countyd_session_on_status(s, env->heartbeat->status);
        break;
    case SANJI__ENVELOPE__BODY_NODE_STATUS:
        countyd_session_on_status(s, env->node_status);
        break;
    default:
        countyd_session_goodbye(s, SJ_EPROTOCOL, N_("This message is not allowed on this link."));
        break;
    }
}
