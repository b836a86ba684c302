/*
 * feed_cursor.c - the gapless feed rule (see feed_cursor.h).
 *
 * Entry point: sj_feed_cursor_step().
 */
#include "feed_cursor.h"

sj_feed_step sj_feed_cursor_step(uint64_t cursor, uint64_t seq)
{
    if (seq <= cursor)
        return SJ_FEED_DUPLICATE;
    /* seq > cursor here, so seq - cursor cannot wrap. */
    return seq - cursor == 1 ? SJ_FEED_APPLY : SJ_FEED_GAP;
}
