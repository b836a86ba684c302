/*
 * test_sqltext.c - the one appender of SQL statement text
 * (common/base/sqltext.h) that the county's case list and the clients'
 * case search both build their statements with: pieces appended in order,
 * a piece that fits exactly (with its NUL) taken, one byte more refused
 * whole with the overflow remembered, and nothing appended after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "sqltext.h"

static void test_pieces_in_order(void **state)
{
    (void)state;
    char buf[64];
    sj_sqltext t;
    memset(buf, 'x', sizeof buf);
    sj_sqltext_init(&t, buf, sizeof buf);
    assert_string_equal(t.sql, "");
    assert_int_equal(t.len, 0);
    sj_sqltext_add(&t, "SELECT 1");
    sj_sqltext_add(&t, "");
    sj_sqltext_add(&t, " FROM cases WHERE true");
    assert_string_equal(buf, "SELECT 1 FROM cases WHERE true");
    assert_int_equal(t.len, strlen(buf));
    assert_false(t.overflow);
}

static void test_exact_fit_then_overflow(void **state)
{
    (void)state;
    char buf[8];
    sj_sqltext t;
    sj_sqltext_init(&t, buf, sizeof buf);
    sj_sqltext_add(&t, "abc");
    sj_sqltext_add(&t, "defg"); /* 7 bytes and the NUL: exactly the buffer */
    assert_false(t.overflow);
    assert_string_equal(buf, "abcdefg");
    sj_sqltext_add(&t, "h"); /* one byte too many: refused whole */
    assert_true(t.overflow);
    assert_string_equal(buf, "abcdefg");
    assert_int_equal(t.len, 7);
}

static void test_piece_not_cut(void **state)
{
    (void)state;
    char buf[10];
    sj_sqltext t;
    sj_sqltext_init(&t, buf, sizeof buf);
    sj_sqltext_add(&t, "AND ");
    sj_sqltext_add(&t, "status IN (1, 2)"); /* does not fit: nothing of it goes in */
    assert_true(t.overflow);
    assert_string_equal(buf, "AND ");
    /* A shorter piece after an overflow may fit, but the overflow stays:
     * the caller refuses the statement as a whole. */
    sj_sqltext_add(&t, "x");
    assert_true(t.overflow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_in_order),
        cmocka_unit_test(test_exact_fit_then_overflow),
        cmocka_unit_test(test_piece_not_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
