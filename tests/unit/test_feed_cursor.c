/*
 * test_feed_cursor.c - the gapless feed rule (common/domain/feed_cursor.h) that
 * the relay's store and the clients' store both follow: the next row is
 * applied, a row at or below the cursor is a duplicate, a row further ahead
 * is a gap; at the edges of the sequence numbers too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "feed_cursor.h"

static void test_step_table(void **state)
{
    static const struct {
        uint64_t cursor, seq;
        sj_feed_step want;
    } cases[] = {
        {0, 1, SJ_FEED_APPLY},        /* the first row of a village */
        {0, 2, SJ_FEED_GAP},          /* its first row missed */
        {0, 0, SJ_FEED_DUPLICATE},    /* 0 names no row */
        {41, 42, SJ_FEED_APPLY},
        {41, 41, SJ_FEED_DUPLICATE},  /* the row just applied, resent */
        {41, 1, SJ_FEED_DUPLICATE},   /* an old row, resent after a reconnect */
        {41, 0, SJ_FEED_DUPLICATE},
        {41, 43, SJ_FEED_GAP},
        {41, UINT64_MAX, SJ_FEED_GAP},
        {UINT64_MAX - 1, UINT64_MAX, SJ_FEED_APPLY},
        {UINT64_MAX, UINT64_MAX, SJ_FEED_DUPLICATE},
        {UINT64_MAX, 1, SJ_FEED_DUPLICATE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("cursor %llu, row %llu\n", (unsigned long long)cases[i].cursor,
                      (unsigned long long)cases[i].seq);
        assert_int_equal(sj_feed_cursor_step(cases[i].cursor, cases[i].seq), cases[i].want);
    }
}

/* Rows arriving out of order, with resends, are applied exactly once each,
 * in order, when a store follows the rule and resyncs on a gap (here: the
 * resync sends every row after the cursor again). */
static void test_a_store_following_the_rule_is_gapless(void **state)
{
    static const uint64_t arriving[] = {1, 2, 2, 4, 5, 3, 1, 7, 6, 6, 8};
    uint64_t cursor = 0, applied[16], n = 0, gaps = 0;
    for (size_t i = 0; i < sizeof(arriving) / sizeof(arriving[0]); i++) {
        switch (sj_feed_cursor_step(cursor, arriving[i])) {
        case SJ_FEED_APPLY:
            applied[n++] = cursor = arriving[i];
            break;
        case SJ_FEED_DUPLICATE:
            break;
        case SJ_FEED_GAP:
            /* The resync: the rows after the cursor up to the one seen. */
            gaps++;
            for (uint64_t s = cursor + 1; s <= arriving[i]; s++) {
                assert_int_equal(sj_feed_cursor_step(cursor, s), SJ_FEED_APPLY);
                applied[n++] = cursor = s;
            }
            break;
        }
    }
    assert_int_equal(n, 8);
    for (uint64_t k = 0; k < n; k++)
        assert_int_equal(applied[k], k + 1);
    assert_int_equal(gaps, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_table),
        cmocka_unit_test(test_a_store_following_the_rule_is_gapless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
