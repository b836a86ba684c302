/*
 * feed.h - the downward feed read back from PostgreSQL: every FeedUpdate of
 * some villages after given cursors (PROTOCOL.md "Session start", and the
 * live updates pushed after a commit).
 *
 * The feed table numbers each village's changes 1, 2, 3 ... without gaps
 * (apply.c writes it).  An update carries the event of its row and the
 * case as it is NOW, which is at or after that change: a receiver keeps
 * the newest snapshot of a case, and the event history is exact.  The
 * applicant is not masked here; the sender masks per receiver.
 *
 * Ownership: the updates and everything in them come from the caller's
 * arena.  The cursors are borrowed.
 *
 * Entry points: countyd_feed_load().
 */
#ifndef COUNTYD_FEED_H
#define COUNTYD_FEED_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "arena.h"
#include "case.h"
#include "err.h"
#include "sanji.pb-c.h"

/* One village's window: seq > after, and seq <= upto unless upto is 0. */
typedef struct countyd_feed_cursor {
    char village[SJ_UNIT_CODE_SIZE];
    uint64_t after;
    uint64_t upto;
} countyd_feed_cursor;

/* Loads at most limit updates (0: no limit) of the n windows, ordered by
 * village, then seq.  Returns 0 with *out (n_out entries), or
 * SJ_EDB/SJ_EDB_CONN. */
int countyd_feed_load(PGconn *db, countyd_arena *a, const countyd_feed_cursor *cur, size_t n,
                      size_t limit, Sanji__FeedUpdate ***out, size_t *n_out, sj_error *err);

#endif
