/*
 * feed_written.c - the feed rows a job wrote, read back for the live push
 * (see feed_written.h).
 *
 * Entry points: countyd_feed_written_load().
 */
#include "feed_written.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

int countyd_feed_written_load(PGconn *db, countyd_arena *a, const countyd_apply_result *r,
                              size_t n, Sanji__FeedUpdate ***out, size_t *n_out, sj_error *err)
{
    *out = NULL;
    *n_out = 0;
    countyd_feed_cursor *cur = calloc(n + 1, sizeof(*cur));
    if (!cur)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].feed_seq == 0 || r[i].redelivered)
            continue;
        size_t k = 0;
        while (k < m && strcmp(cur[k].village, r[i].village) != 0)
            k++;
        /* The rows from feed_first to feed_seq, set together with it
         * (countyd_apply_feed_row()); a window reaching further back pushed
         * each batch's rows again with the village's next batch (read, sent
         * and thrown away by the relay as known). */
        uint64_t first = r[i].feed_first - 1;
        if (k == m) {
            snprintf(cur[m].village, sizeof(cur[m].village), "%s", r[i].village);
            cur[m].after = first;
            cur[m].upto = r[i].feed_seq;
            m++;
        } else {
            if (first < cur[k].after)
                cur[k].after = first;
            if (r[i].feed_seq > cur[k].upto)
                cur[k].upto = r[i].feed_seq;
        }
    }
    int rc = countyd_feed_load(db, a, cur, m, 0, out, n_out, err);
    free(cur);
    return rc;
}
