/*
 * feed.c - FeedUpdates after cursors, from PostgreSQL (see feed.h).
 *
 * One statement serves any number of villages: the windows travel as three
 * parallel arrays and are unnested into a join, so a county desk with
 * hundreds of villages costs one round trip.  Each window is its own
 * LATERAL range scan of the feed's primary key (village, seq), bounds in
 * the index condition: a plain join of the unnested windows with the feed
 * was planned as a merge join over the whole feed index, a cost that grew
 * with the county's history (7.4 ms for 36 windows at 14,000 feed rows,
 * 1.4 ms this way).
 *
 * Entry points: countyd_feed_load().
 */
#include "feed.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caserow.h"
#include "db.h"

/* "{1,2,3}" for n numbers. */
static char *u64_array(const countyd_feed_cursor *cur, size_t n, int upto)
{
    char *s = malloc(n * 22 + 3);
    if (!s)
        return NULL;
    size_t k = 0;
    s[k++] = '{';
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(s + k, "%s%" PRIu64, i ? "," : "", upto ? cur[i].upto : cur[i].after);
    s[k++] = '}';
    s[k] = '\0';
    return s;
}

int countyd_feed_load(PGconn *db, countyd_arena *a, const countyd_feed_cursor *cur, size_t n,
                      size_t limit, Sanji__FeedUpdate ***out, size_t *n_out, sj_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return 0;
    const char **villages = malloc(n * sizeof(*villages));
    char *vs = NULL, *afters = u64_array(cur, n, 0), *uptos = u64_array(cur, n, 1);
    int rc = SJ_ENOMEM;
    if (!villages || !afters || !uptos)
        goto done;
    for (size_t i = 0; i < n; i++)
        villages[i] = cur[i].village;
    if (countyd_db_text_array(villages, n, &vs) != 0)
        goto done;
    char lim[24];
    snprintf(lim, sizeof(lim), "%zu", limit);
    const char *p[] = {vs, afters, uptos, limit ? lim : NULL};
    PGresult *res;
    /* Each feed row's event and case are looked up by primary key in a
     * LATERAL ... LIMIT 1, which the planner cannot turn into a join: the
     * statement is prepared once and its generic plan kept, and a plain
     * join planned while case_event was small (a new county, before
     * autovacuum's first ANALYZE) became a hash join over a sequential
     * scan of every event, paid again at every commit (docs/PERFORMANCE.md
     * "The feed read back after a commit"). */
    rc = countyd_db_query(
        db,
        "SELECT f.village, f.seq, " COUNTYD_CASE_COLUMNS ", " COUNTYD_EVENT_COLUMNS
        " FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS q(v, after, upto)"
        " CROSS JOIN LATERAL (SELECT * FROM feed f WHERE f.village = q.v::char(12)"
        "  AND f.seq > q.after"
        "  AND f.seq <= CASE WHEN q.upto = 0 THEN 9223372036854775807 ELSE q.upto END"
        "  ORDER BY f.seq LIMIT $4::bigint) f"
        " CROSS JOIN LATERAL (SELECT * FROM case_event e WHERE e.case_id = f.case_id"
        "  AND e.seq = f.event_seq LIMIT 1) e"
        " CROSS JOIN LATERAL (SELECT * FROM cases c WHERE c.case_id = f.case_id LIMIT 1) c"
        " ORDER BY f.village, f.seq LIMIT $4::bigint",
        4, p, &res, err);
    if (rc != 0)
        goto done;
    size_t rows = (size_t)PQntuples(res);
    Sanji__FeedUpdate **u = countyd_arena_alloc(a, (rows + 1) * sizeof(*u));
    for (size_t i = 0; i < rows; i++) {
        Sanji__FeedUpdate *f = countyd_arena_alloc(a, sizeof(*f));
        sanji__feed_update__init(f);
        f->village = countyd_arena_strdup(a, PQgetvalue(res, (int)i, 0));
        f->seq = strtoull(PQgetvalue(res, (int)i, 1), NULL, 10);
        f->snapshot = countyd_caserow_case(a, res, (int)i, 2);
        f->event = countyd_caserow_event(a, res, (int)i, 2 + COUNTYD_CASE_NCOLS);
        u[i] = f;
    }
    PQclear(res);
    *out = u;
    *n_out = rows;
    rc = 0;
done:
    if (rc == SJ_ENOMEM)
        sj_error_set(err, SJ_ENOMEM, "out of memory while reading the feed");
    free(villages);
    free(vs);
    free(afters);
    free(uptos);
    return rc;
}
