/*
 * sc_feed.c - the client's downward feed: case updates of this node's
 * scope kept in the store (or, on a desk that searches at the county,
 * only the cases it holds), gaps asked for again; an update that carries
 * only what changed (FeedUpdate.delta) rebuilt from the stored case first.
 *
 * Entry points (inside the library, sanji_client_private.h): sc_feed_on_update(),
 * sc_feed_keep_if_held().
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_delta.h"
#include "feed_cursor.h"
#include "log.h"
#include "orgunit.h"

int sc_feed_cursors(sc_client *c, Sanji__FeedCursor ***out, size_t *n, sj_error *err)
{
    *out = NULL;
    *n = 0;
    sc_cursor *cur = NULL;
    size_t k = 0;
    int rc = sc_store_cursors(c->st, &cur, &k, err);
    if (rc != 0)
        return rc;
    /* One block: the pointers, the messages, then the cursors whose
     * villages they point to (each part a multiple of 8 bytes). */
    size_t m = k ? k : 1;
    uint8_t *block = calloc(
        1, m * (sizeof(Sanji__FeedCursor *) + sizeof(Sanji__FeedCursor) + sizeof(sc_cursor)));
    if (!block) {
        free(cur);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    Sanji__FeedCursor **pfc = (Sanji__FeedCursor **)block;
    Sanji__FeedCursor *fc = (Sanji__FeedCursor *)(block + m * sizeof(*pfc));
    sc_cursor *kept = (sc_cursor *)((uint8_t *)fc + m * sizeof(*fc));
    for (size_t i = 0; i < k; i++) {
        kept[i] = cur[i];
        sanji__feed_cursor__init(&fc[i]);
        fc[i].village = kept[i].village;
        fc[i].after_seq = kept[i].after_seq;
        pfc[i] = &fc[i];
    }
    free(cur);
    *out = pfc;
    *n = k;
    return 0;
}

static void send_feed_request(sc_client *c)
{
    Sanji__FeedRequest fr = SANJI__FEED_REQUEST__INIT;
    sj_error err;
    if (sc_feed_cursors(c, &fr.cursors, &fr.n_cursors, &err) != 0)
        return;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_FEED_REQUEST;
    env.feed_request = &fr;
    if (sc_link_send_env(c, &env, NULL, &err) == 0)
        c->gap_requested = true;
    free(fr.cursors);
}

/* Stores c (and ev) if this desk holds the case already, in one
 * transaction; a case it does not hold stays at the county. */
int sc_feed_keep_if_held(sc_client *c, const Sanji__Case *cs, const Sanji__CaseEvent *ev,
                         bool always, sj_error *err)
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

/* Tells the caller that the case of u changed. */
static void case_changed(sc_client *c, const Sanji__FeedUpdate *u)
{
    sc_event ev = {.type = SC_EV_CASE_CHANGED,
                   .case_id = u->snapshot->case_id.data,
                   .case_number = nz(u->snapshot->number),
                   .snapshot = u->snapshot,
                   .event = u->event};
    sc_client_emit(c, &ev);
}

/* A live update on a county desk (sc_link_live_only()): no cursor, no gap to fill;
 * the desk re-reads its pages at the county. */
static void on_live_update(sc_client *c, const Sanji__FeedUpdate *u)
{
    if (u->snapshot->case_id.len != 16)
        return;
    sj_error err;
    if (sc_feed_keep_if_held(c, u->snapshot, u->event, false, &err) != 0) {
        SJ_LOG_WARN(MOD, "live update not stored", "error", err.message);
        return;
    }
    case_changed(c, u);
}

/* One update with its snapshot: kept if it is of this node's scope and the
 * next row of its feed.  True when stored. */
static bool feed_apply(sc_client *c, const Sanji__FeedUpdate *u)
{
    /* Only feeds of this node's scope are kept (G5: a peer that sends
     * others' cases is ignored, not obeyed). */
    if (!u->village || !sj_orgunit_contains(c->node.unit, u->village) || !u->snapshot ||
        strcmp(nz(u->snapshot->village), u->village) != 0) {
        SJ_LOG_WARN(MOD, "feed update outside scope ignored", "village", nz(u->village));
        return false;
    }
    if (sc_link_live_only(c)) {
        on_live_update(c, u);
        return false;
    }
    sc_feed_result r;
    sj_error err;
    if (sc_store_feed_apply(c->st, u, &r, &err) != 0) {
        SJ_LOG_WARN(MOD, "feed update not stored", "error", err.message);
        return false;
    }
    if (r == SC_FEED_GAP) {
        if (!c->gap_requested)
            send_feed_request(c);
        return false;
    }
    if (r != SC_FEED_STORED)
        return false;
    case_changed(c, u);
    return true;
}

/* The case a delta (FeedUpdate.delta) makes of the county's snapshot this
 * store holds, owned by the caller.  When the store holds a newer version
 * than the update makes (from a query answer), the stored case: a whole
 * update would not have replaced it either.  SJ_EDELTA_BAD or
 * SJ_EDELTA_BASE when it cannot be rebuilt exactly (case_delta.h). */
static int rebuild(sc_client *c, const Sanji__FeedUpdate *u, Sanji__Case **out, sj_error *err)
{
    const Sanji__CaseDelta *d = u->delta;
    *out = NULL;
    if (!d->set || d->set->case_id.len != 16)
        return sj_error_set(err, SJ_EDELTA_BAD, "a feed delta without a 16-byte case id");
    Sanji__Case *have = NULL;
    int rc = sc_store_case_snapshot(c->st, d->set->case_id.data, &have, err);
    if (rc != 0 && rc != SJ_ENOTFOUND)
        return rc;
    uint64_t made = d->set->version ? d->set->version : u->base_version;
    if (have && have->version > made) {
        *out = have;
        return 0;
    }
    rc = sj_case_delta_apply(have, u->base_version, d, out, err);
    if (have)
        sanji__case__free_unpacked(have, NULL);
    return rc;
}

/* Whether a caught_up may count: not while the feed asked for again after
 * a delta this store could not take has not come past that row (the relay
 * may have said caught_up before it read the request). */
static bool refetch_done(sc_client *c)
{
    if (c->refetch_seq == 0)
        return true;
    if (sc_store_cursor(c->st, c->refetch_village) < c->refetch_seq)
        return false;
    c->refetch_seq = 0;
    return true;
}

void sc_feed_on_update(sc_client *c, const Sanji__FeedUpdate *u)
{
    if (u->caught_up) {
        if (!refetch_done(c))
            return;
        c->caught_up = true;
        c->gap_requested = false;
        sc_event ev = {.type = SC_EV_CAUGHT_UP};
        sc_client_emit(c, &ev);
        return;
    }
    if (u->snapshot || !u->delta || !u->village || sc_link_live_only(c)) {
        feed_apply(c, u);
        return;
    }
    /* A delta: rebuilt from the stored case, and only for the row this
     * store applies next (a resent row is not rebuilt against a newer
     * case).  One that cannot be rebuilt exactly is not stored: the feed
     * is asked for again from the cursor, and the relay sends those rows
     * whole. */
    switch (sj_feed_cursor_step(sc_store_cursor(c->st, u->village), u->seq)) {
    case SJ_FEED_DUPLICATE:
        return;
    case SJ_FEED_GAP:
        if (!c->gap_requested)
            send_feed_request(c);
        return;
    case SJ_FEED_APPLY:
        break;
    }
    Sanji__Case *rebuilt = NULL;
    sj_error err;
    if (rebuild(c, u, &rebuilt, &err) != 0) {
        SJ_LOG_WARN(MOD, "feed delta not taken: asking for the feed again", "village", u->village,
                    "why", err.message);
        snprintf(c->refetch_village, sizeof c->refetch_village, "%s", u->village);
        c->refetch_seq = u->seq;
        c->caught_up = false;
        send_feed_request(c);
        return;
    }
    Sanji__FeedUpdate whole = *u;
    whole.snapshot = rebuilt;
    whole.delta = NULL;
    whole.base_version = 0;
    if (feed_apply(c, &whole))
        c->deltas_applied++;
    sanji__case__free_unpacked(rebuilt, NULL);
}
