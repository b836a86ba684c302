/*
 * session_start.c - the start of a county session and the reference data
 * it keeps current (session.h): Hello checked, then on the query worker
 * the reference versions, the sets that differ from the peer's and the
 * villages in scope; the Welcome with the cursors, the syncs and the first
 * feed page.  On the live link the sets are checked again every
 * link.heartbeat and sent when an import or an administration command
 * changed them.
 *
 * Entry points (session_int.h): countyd_session_on_hello(),
 * countyd_session_refs_check().
 */
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "envelope.h"
#include "i18n.h"
#include "log.h"

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
        countyd_session_send(s, &e);
    }
    if (h->org) {
        Sanji__Envelope e = SANJI__ENVELOPE__INIT;
        e.body_case = SANJI__ENVELOPE__BODY_ORG_TREE_SYNC;
        e.org_tree_sync = h->org;
        countyd_session_send(s, &e);
    }
    if (h->persons) {
        Sanji__Envelope e = SANJI__ENVELOPE__INIT;
        e.body_case = SANJI__ENVELOPE__BODY_PERSON_SYNC;
        e.person_sync = h->persons;
        countyd_session_send(s, &e);
    }
    if (h->duty) {
        Sanji__Envelope e = SANJI__ENVELOPE__INIT;
        e.body_case = SANJI__ENVELOPE__BODY_DUTY_SYNC;
        e.duty_sync = h->duty;
        countyd_session_send(s, &e);
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

static void hello_done(countyd_job *j)
{
    countyd_session *s = j->owner;
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
        countyd_feed_cursor *c = countyd_session_village(s, h->cursors[i].village);
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
    countyd_session_send(s, &env);
    send_refs(s, h);
    s->ref_checked_ms = sj_clock_mono_ms(); /* the clock of countyd_session_tick() */
    s->welcomed = true;
    s->want_caught_up = true;
    countyd_session_request_page(s);
out:
    free(h->cursors);
    free(h);
    countyd_job_free(j);
}

void countyd_session_on_hello(countyd_session *s, const Sanji__Hello *hello)
{
    if (s->hello_seen) {
        countyd_session_goodbye(s, SJ_EPROTOCOL, N_("Hello was sent twice."));
        return;
    }
    s->hello_seen = true;
    if (hello->min_version > SJ_PROTOCOL_LEVEL || hello->max_version < SJ_PROTOCOL_LEVEL_MIN) {
        countyd_session_goodbye(s, SJ_EFRAME_BAD_VERSION,
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
    countyd_job *j = countyd_session_job(s);
    if (!j) {
        free(h->cursors);
        free(h);
        sj_conn_close(s->conn, SJ_ENOMEM, _(sj_err_text(SJ_ENOMEM)));
        return;
    }
    j->run = hello_run;
    j->done = hello_done;
    j->retryable = true;
    j->data = h;
    countyd_worker_push(s->ctx->query, j);
}

/* ---- reference data on a live link ------------------------------------------------------ */

static void refs_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    (void)apply;
    (void)read_refs(j, db, j->data);
}

static void refs_done(countyd_job *j)
{
    countyd_session *s = j->owner;
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
void countyd_session_refs_check(countyd_session *s, int64_t now)
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
    countyd_job *j = countyd_session_job(s);
    if (!j) { /* out of memory: the next tick checks again */
        free(h);
        return;
    }
    j->run = refs_run;
    j->done = refs_done;
    j->data = h;
    s->ref_busy = true;
    countyd_worker_push(s->ctx->query, j);
}

