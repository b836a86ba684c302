/*
 * sc_feed.c - the client's downward feed: case updates of this node's
 * scope kept in the store (or, on a desk that searches at the county,
 * only the cases it holds), gaps asked for again.
 *
 * Entry points (inside the library, sanji_client_private.h): sc_feed_on_update(),
 * sc_feed_keep_if_held().
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void sc_feed_on_update(sc_client *c, const Sanji__FeedUpdate *u)
{
    if (u->caught_up) {
        c->caught_up = true;
        c->gap_requested = false;
        sc_event ev = {.type = SC_EV_CAUGHT_UP};
        sc_client_emit(c, &ev);
        return;
    }
    /* Only feeds of this node's scope are kept (G5: a peer that sends
     * others' cases is ignored, not obeyed). */
    if (!u->village || !sj_orgunit_contains(c->node.unit, u->village) || !u->snapshot ||
        strcmp(nz(u->snapshot->village), u->village) != 0) {
        SJ_LOG_WARN(MOD, "feed update outside scope ignored", "village", nz(u->village));
        return;
    }
    if (sc_link_live_only(c)) {
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
    case_changed(c, u);
}
