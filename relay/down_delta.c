/*
 * down_delta.c - feed updates that carry only what changed, on the links of
 * stations that asked for them (Hello.feed_deltas; docs/RELAY.md "Feed
 * deltas", PROTOCOL.md "The downward feed").
 *
 * A delta is made against the previous row of the same case in the
 * village's feed: the station holds every row up to the cursor it named in
 * its Hello, and every row this session sent it since, in order (the feed is
 * gapless), so that row's snapshot is the case it holds — unless it stored a
 * newer copy from elsewhere (a query answer), which it finds by the version
 * and the check (common/domain/case_delta.h) and then asks for the feed again
 * from its cursor; those rows go whole (feed_pos.full_until).
 *
 * Each followed feed keeps the last snapshot sent or known of each case
 * (packed, as the station got it, masked as the station sees it), for at
 * most BASES_MAX cases.  The previous row of a case not among them is looked
 * for by reading the feed backwards from the lowest row read so far, once
 * per session and at most SCAN_MAX rows, every case met on the way kept, so
 * that no row is read twice.  Once a snapshot had to be dropped for room,
 * "not kept" no longer means "not in the rows read", and a case not kept is
 * sent whole.
 *
 * Entry points (downstream_private.h): down_delta_apply(), down_delta_reset().
 */
#include <stdlib.h>
#include <string.h>

#include "case_delta.h"
#include "downstream_private.h"
#include "log.h"
#include "query.h"

#define MOD DOWN_MOD
/* Cases whose last snapshot one feed of one session keeps (a few hundred
 * bytes each), and feed rows read backwards at most, per session. */
#define BASES_MAX 512
#define SCAN_MAX 4096

typedef struct delta_base {
    uint8_t id[16];
    uint8_t *pb; /* the case as the peer holds it, packed */
    size_t len;
} delta_base;

struct delta_bases {
    delta_base *v;
    size_t n, next_evict;
    uint64_t lo;      /* rows lo..sent are reflected (lo == sent + 1: none) */
    unsigned scanned; /* rows read backwards so far */
    bool no_scan;     /* a snapshot was dropped, or the feed's start read */
};

void down_delta_reset(feed_pos *f)
{
    if (f->bases == NULL)
        return;
    for (size_t i = 0; i < f->bases->n; i++)
        free(f->bases->v[i].pb);
    free(f->bases->v);
    free(f->bases);
    f->bases = NULL;
}

static delta_base *find(struct delta_bases *b, const uint8_t id[16])
{
    for (size_t i = 0; i < b->n; i++)
        if (memcmp(b->v[i].id, id, 16) == 0)
            return &b->v[i];
    return NULL;
}

/* Keeps c as case id's base: replaces the kept one when replace, else only
 * fills a case not kept (a row read backwards is older than the kept one). */
static void keep(struct delta_bases *b, const Sanji__Case *c, bool replace)
{
    if (c == NULL || c->case_id.len != 16)
        return;
    delta_base *e = find(b, c->case_id.data);
    if (e != NULL && !replace)
        return;
    size_t len = sanji__case__get_packed_size(c);
    uint8_t *pb = malloc(len ? len : 1);
    if (pb == NULL) {
        if (e != NULL) { /* a stale base must not stay */
            free(e->pb);
            *e = b->v[--b->n];
        }
        b->no_scan = true;
        return;
    }
    sanji__case__pack(c, pb);
    if (e == NULL) {
        if (b->n < BASES_MAX) {
            e = &b->v[b->n++];
        } else {
            e = &b->v[b->next_evict];
            b->next_evict = (b->next_evict + 1) % BASES_MAX;
            free(e->pb);
            b->no_scan = true;
        }
        memcpy(e->id, c->case_id.data, 16);
    } else {
        free(e->pb);
    }
    e->pb = pb;
    e->len = len;
}

/* The snapshot of case id the peer holds, reading the feed backwards from
 * the lowest row read so far while needed; NULL when not known. */
static delta_base *base_of(session *s, feed_pos *f, const uint8_t id[16])
{
    struct delta_bases *b = f->bases;
    delta_base *e = find(b, id);
    while (e == NULL && !b->no_scan && b->lo > 1 && b->scanned < SCAN_MAX) {
        uint64_t k = b->lo - 1;
        Sanji__FeedUpdate *u = NULL;
        sj_error err;
        int rc = relay_store_feed_next(s->d->r->store, f->village, k - 1, &u, &err);
        if (rc != 0 || u->seq != k || u->snapshot == NULL ||
            relay_query_mask_case(u->snapshot, &s->peer) != 0) {
            if (rc != 0 && rc != SJ_ENOTFOUND)
                SJ_LOG_WARN(MOD, "feed read failed", "why", err.message);
            b->no_scan = true; /* the rows below are not all there: stop */
        } else {
            b->lo = k;
            b->scanned++;
            keep(b, u->snapshot, false);
            e = find(b, id);
        }
        if (u)
            sanji__feed_update__free_unpacked(u, NULL);
    }
    return e;
}

/* Replaces u's snapshot by a delta when one is sure and smaller. */
static void to_delta(const delta_base *e, Sanji__FeedUpdate *u)
{
    Sanji__Case *base = sanji__case__unpack(NULL, e->len, e->pb);
    Sanji__CaseDelta *d = NULL;
    sj_error err;
    if (base != NULL && sj_case_delta_make(base, u->snapshot, &d, &err) == 0 &&
        sanji__case_delta__get_packed_size(d) + 12 < sanji__case__get_packed_size(u->snapshot)) {
        u->base_version = base->version;
        u->delta = d;
        d = NULL;
    }
    if (d)
        sanji__case_delta__free_unpacked(d, NULL);
    if (base)
        sanji__case__free_unpacked(base, NULL);
}

void down_delta_apply(session *s, feed_pos *f, Sanji__FeedUpdate *u)
{
    if (!s->feed_deltas || u->snapshot == NULL || u->snapshot->case_id.len != 16)
        return;
    if (u->seq != f->sent + 1) {
        /* Rows skipped (none should be): the peer does not hold what lies
         * between, and what is kept may be older than what it holds. */
        down_delta_reset(f);
        return;
    }
    if (f->bases == NULL) {
        f->bases = calloc(1, sizeof *f->bases);
        if (f->bases == NULL)
            return;
        f->bases->v = calloc(BASES_MAX, sizeof *f->bases->v);
        if (f->bases->v == NULL) {
            free(f->bases);
            f->bases = NULL;
            return;
        }
        f->bases->lo = u->seq;
    }
    struct delta_bases *b = f->bases;
    if (u->seq > f->full_until) {
        delta_base *e = base_of(s, f, u->snapshot->case_id.data);
        if (e != NULL)
            to_delta(e, u);
    }
    keep(b, u->snapshot, true);
    if (u->delta != NULL) {
        sanji__case__free_unpacked(u->snapshot, NULL);
        u->snapshot = NULL;
    }
}
