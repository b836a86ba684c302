/*
 * feed_cursor.h - the gapless feed rule (docs/ARCHITECTURE.md, G4), decided once for
 * every store that follows a village's feed (the relay's and the clients').
 *
 * The county numbers each village's feed 1, 2, 3 ... without gaps.  A store
 * keeps, per village, the sequence number of the last row it applied (its
 * cursor; 0 before the first).  An incoming row is applied only when it is
 * the very next one; one at or below the cursor was applied already (a
 * resend after a reconnect); one further ahead means rows were missed, and
 * the store must ask for the feed again from its cursor instead of applying
 * it.  What "apply" and "ask again" mean is the store's own business.
 *
 * Pure function; no I/O.
 *
 * Entry point: sj_feed_cursor_step().
 */
#ifndef SJ_FEED_CURSOR_H
#define SJ_FEED_CURSOR_H

#include <stdint.h>

typedef enum sj_feed_step {
    SJ_FEED_APPLY,     /* seq == cursor + 1: apply it and move the cursor to seq */
    SJ_FEED_DUPLICATE, /* seq <= cursor: applied before; skip it */
    SJ_FEED_GAP,       /* seq > cursor + 1: rows are missing; resync from the cursor */
} sj_feed_step;

/* What to do with feed row `seq` given the stored `cursor`.  Sequence
 * number 0 names no row and is never applied (DUPLICATE). */
sj_feed_step sj_feed_cursor_step(uint64_t cursor, uint64_t seq);

#endif
