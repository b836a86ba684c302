/*
 * test_err.c - the error table: names, texts, and sj_error formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

static void test_names_and_texts(void **state)
{
    assert_string_equal(sj_err_name(SJ_EOK), "OK");
    assert_string_equal(sj_err_name(SJ_EFRAME_TOO_LARGE), "FRAME_TOO_LARGE");
    assert_string_equal(sj_err_text(SJ_ESTALE_VERSION), "case changed since the actor saw it");
    assert_string_equal(sj_err_name(12345), "UNKNOWN");
    assert_string_equal(sj_err_text(-9999), "unknown error");
}

static void test_codes_are_unique(void **state)
{
    static const int codes[] = {
#define SJ__T(name, num, text) num,
        SJ_ERRORS(SJ__T)
#undef SJ__T
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] <= 0);
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(codes[i], codes[j]);
    }
}

static void test_error_set(void **state)
{
    sj_error err;
    sj_error_clear(&err);
    assert_int_equal(err.code, SJ_EOK);
    assert_int_equal(sj_error_set(&err, SJ_EINVAL, "bad %s at line %d", "key", 7), SJ_EINVAL);
    assert_int_equal(err.code, SJ_EINVAL);
    assert_string_equal(err.message, "bad key at line 7");
    assert_int_equal(sj_error_set(&err, SJ_ETIMEOUT, NULL), SJ_ETIMEOUT);
    assert_string_equal(err.message, "timed out");
    assert_int_equal(sj_error_set(NULL, SJ_EIO, "ignored"), SJ_EIO);
    char big[2 * SJ_ERROR_MESSAGE_MAX];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sj_error_set(&err, SJ_EINVAL, "%s", big);
    assert_int_equal(strlen(err.message), SJ_ERROR_MESSAGE_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_texts),
        cmocka_unit_test(test_codes_are_unique),
        cmocka_unit_test(test_error_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
