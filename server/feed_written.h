/*
 * feed_written.h - the feed rows a database job just wrote, read back for
 * the live push to the sessions: from the results of an apply batch, the
 * sweep or the notifier's record (apply.h), each village's window of new
 * rows, read with countyd_feed_load() (feed.h).
 *
 * Runs on a worker thread, with the worker's connection.  The updates come
 * from the caller's arena; the results are borrowed.
 *
 * Entry points: countyd_feed_written_load().
 */
#ifndef COUNTYD_FEED_WRITTEN_H
#define COUNTYD_FEED_WRITTEN_H

#include <stddef.h>

#include <libpq-fe.h>

#include "apply.h"
#include "arena.h"
#include "err.h"
#include "sanji.pb-c.h"

/* The updates results r[0..n) say were written (redeliveries and results
 * without a feed row are skipped).  Returns 0, SJ_ENOMEM or SJ_EDB*; on
 * failure *n_out is 0 and the caller marks the feed lost. */
int countyd_feed_written_load(PGconn *db, countyd_arena *a, const countyd_apply_result *r,
                              size_t n, Sanji__FeedUpdate ***out, size_t *n_out, sj_error *err);

#endif
