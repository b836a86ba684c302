/*
 * down_serve.c - what the relay serves a station or desk from its store:
 * the session start (Hello, Welcome with the feed cursors), reference data
 * cut to the peer's scope, its stored results (marked delivered once the
 * link has written them), and the feed, read one update at a time as the
 * link drains so that a slow peer never makes the relay buffer more than
 * link.write_buffer for it.  See docs/RELAY.md "Downward path and the
 * cache" and "Slow stations and desks".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "downstream_private.h"
#include "i18n.h"
#include "log.h"
#include "orgunit.h"
#include "query.h"

#define MOD DOWN_MOD
/* Feed updates one session may send per loop turn before yielding. */
#define FEED_BUDGET 256

static feed_pos *find_feed(session *s, const char *village)
{
    for (size_t i = 0; i < s->n_feeds; i++)
        if (strcmp(s->feeds[i].village, village) == 0)
            return &s->feeds[i];
    return NULL;
}

feed_pos *down_serve_add_feed(session *s, const char *village, uint64_t after)
{
    if (!down_session_in_scope(s, village))
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
    memset(f, 0, sizeof *f);
    snprintf(f->village, sizeof f->village, "%s", village);
    f->sent = after;
    return f;
}

static int add_cursor_feed(void *arg, const char *village, uint64_t seq)
{
    down_serve_add_feed(arg, village, 0);
    return 0;
}

bool down_serve_unit_in_org_tree(relay *r, const char *unit, bool *have_tree)
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

/* The org tree cut to the units above and below the peer's scope. */
static void send_org_tree(session *s, const uint8_t *p, size_t len)
{
    Sanji__OrgTreeSync *t = sanji__org_tree_sync__unpack(NULL, len, p);
    Sanji__OrgUnit **keep = t ? calloc(t->n_units + 1, sizeof *keep) : NULL;
    if (keep) {
        Sanji__OrgTreeSync f = SANJI__ORG_TREE_SYNC__INIT;
        f.version = t->version;
        f.units = keep;
        for (size_t i = 0; i < t->n_units; i++)
            if (in_tree_scope(s->scope, t->units[i]->code))
                keep[f.n_units++] = t->units[i];
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_ORG_TREE_SYNC;
        env.org_tree_sync = &f;
        down_out_send_now(s, &env);
    }
    free(keep);
    if (t)
        sanji__org_tree_sync__free_unpacked(t, NULL);
}

/* The station's own part of the roster. */
static void send_duty(session *s, const uint8_t *p, size_t len)
{
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
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_DUTY_SYNC;
        env.duty_sync = &f;
        down_out_send_now(s, &env);
    }
    free(keep);
    if (ds)
        sanji__duty_sync__free_unpacked(ds, NULL);
}

/* The persons of the peer's scope (with their verifiers, for offline
 * log-in). */
static void send_persons(session *s, const uint8_t *p, size_t len)
{
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
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_PERSON_SYNC;
        env.person_sync = &f;
        down_out_send_now(s, &env);
    }
    free(keep);
    if (ps)
        sanji__person_sync__free_unpacked(ps, NULL);
}

/* Reference data of kind, when the relay holds a version other than the
 * peer's: the catalogue whole, the rest cut to the peer's scope. */
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
    if (kind == RELAY_REF_CATALOGUE) {
        Sanji__CatalogueSync *c = sanji__catalogue_sync__unpack(NULL, len, p);
        if (c) {
            Sanji__Envelope env = SANJI__ENVELOPE__INIT;
            env.body_case = SANJI__ENVELOPE__BODY_CATALOGUE_SYNC;
            env.catalogue_sync = c;
            down_out_send_now(s, &env);
            sanji__catalogue_sync__free_unpacked(c, NULL);
        }
    } else if (kind == RELAY_REF_ORG_TREE) {
        send_org_tree(s, p, len);
    } else if (kind == RELAY_REF_DUTY) {
        send_duty(s, p, len);
    } else {
        send_persons(s, p, len);
    }
    free(p);
}

static int result_cb(void *arg, const uint8_t id[16], const uint8_t *ack, size_t len)
{
    session *s = arg;
    if (down_out_result(s, id, ack, len, false) != 0)
        return 0; /* sent on a later pump */
    if (!down_out_flush(s)) {
        s->results_dirty = true; /* the rest when the link drains */
        return 1;
    }
    return 0;
}

/* Marks delivered the results the link has written. */
void down_serve_on_written(sj_conn *conn)
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
        down_out_inflight_drop(s, e);
    }
    if (marked)
        relay_request_commit(s->d->r);
}

/* Feed updates after each followed village's position, FEED_BUDGET per
 * turn, while the link takes them; then caught_up once, when asked for.
 * Returns true when there is more to send in a later turn. */
static bool pump_feed(session *s)
{
    relay *r = s->d->r;
    int budget = FEED_BUDGET;
    for (size_t i = 0; i < s->n_feeds; i++) {
        feed_pos *f = &s->feeds[i];
        /* The store's cursor is the last update it holds (kept in memory):
         * a session that has it is not asked about. */
        while (budget > 0 && f->sent < relay_store_cursor_get(r->store, f->village)) {
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
            down_delta_apply(s, f, u);
            Sanji__Envelope env = SANJI__ENVELOPE__INIT;
            env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
            env.feed_update = u;
            f->sent = u->seq;
            down_out_push(&s->out_head, &s->out_tail, down_out_pack(r, &env));
            sanji__feed_update__free_unpacked(u, NULL);
            budget--;
            if (!down_out_flush(s))
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
        down_out_send_now(s, &env);
    }
    return false;
}

bool down_serve_pump(session *s)
{
    relay *r = s->d->r;
    if (!s->hello_done || s->closing)
        return false;
    if (!down_out_flush(s))
        return false;
    if (s->results_dirty) {
        s->results_dirty = false;
        sj_error err;
        if (relay_store_result_each_undelivered(r->store, s->peer.node_id, result_cb, s, &err) < 0)
            SJ_LOG_WARN(MOD, "results not delivered", "why", err.message);
        relay_request_commit(r);
        if (!down_out_flush(s))
            return false;
    }
    if (s->q_head) {
        bool more;
        if (!down_query_answer_waiting(s, &more))
            return false;
        if (more)
            return true;
    }
    if (!s->feed_dirty)
        return false;
    return pump_feed(s);
}

/* The feeds a session follows: those the peer names in its Hello, then its
 * own village (a station), or every village of the township the relay
 * knows of, by its cursors and its org tree (a desk). */
static void follow_feeds(session *s, const Sanji__Hello *h)
{
    relay *r = s->d->r;
    for (size_t i = 0; i < h->n_cursors; i++)
        if (h->cursors[i]->village)
            down_serve_add_feed(s, h->cursors[i]->village, h->cursors[i]->after_seq);
    if (s->peer.role == SJ_NODE_ROLE_VILLAGE) {
        down_serve_add_feed(s, s->peer.unit, 0);
        return;
    }
    sj_error err;
    relay_store_cursor_each(r->store, add_cursor_feed, s, &err);
    uint64_t ver;
    uint8_t *p;
    size_t len;
    if (relay_store_ref_get(r->store, RELAY_REF_ORG_TREE, &ver, &p, &len, &err) == 0 && p) {
        Sanji__OrgTreeSync *t = sanji__org_tree_sync__unpack(NULL, len, p);
        for (size_t i = 0; t && i < t->n_units; i++)
            if (t->units[i]->code && sj_orgunit_level(t->units[i]->code) == SJ_LEVEL_VILLAGE)
                down_serve_add_feed(s, t->units[i]->code, 0);
        if (t)
            sanji__org_tree_sync__free_unpacked(t, NULL);
        free(p);
    }
}

/* The Welcome: the agreed level, the relay's node and county-link state,
 * and the cursor of every feed the session follows. */
static void send_welcome(session *s)
{
    relay *r = s->d->r;
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
    down_out_send_now(s, &out);
    free(curs);
    free(cp);
}

void down_serve_hello(session *s, const Sanji__Envelope *env)
{
    relay *r = s->d->r;
    const Sanji__Hello *h = env->hello;
    if (h->min_version > SJ_PROTOCOL_LEVEL || h->max_version < SJ_PROTOCOL_LEVEL_MIN) {
        down_session_close(s, SJ_EFRAME_BAD_VERSION,
                           _("This program and the township relay speak no common protocol "
                             "version; install the version the county names."));
        return;
    }
    /* An older station or desk gets nothing it does not know (envelope.h). */
    sj_conn_set_level(s->conn, sj_protocol_level_agree(h->max_version));
    /* Deltas on the station's hop only: a desk's copy of a case may be
     * masked differently from one row to the next. */
    s->feed_deltas = h->feed_deltas && s->peer.role == SJ_NODE_ROLE_VILLAGE;
    follow_feeds(s, h);
    send_welcome(s);
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
    down_session_put_station(s, true);
    relay_request_commit(r);
}

void down_serve_feed_request(session *s, const Sanji__FeedRequest *fr)
{
    for (size_t i = 0; i < fr->n_cursors; i++) {
        const Sanji__FeedCursor *c = fr->cursors[i];
        feed_pos *f = c->village ? down_serve_add_feed(s, c->village, c->after_seq) : NULL;
        if (f == NULL)
            continue;
        /* Asked again for rows already sent: the peer did not take them
         * (a gap, or a delta whose base it does not hold); they go whole. */
        if (c->after_seq < f->sent && f->sent > f->full_until)
            f->full_until = f->sent;
        if (c->after_seq != f->sent)
            down_delta_reset(f);
        f->sent = c->after_seq;
    }
    s->feed_dirty = true;
    s->need_caught_up = true;
    relay_request_commit(s->d->r);
}
