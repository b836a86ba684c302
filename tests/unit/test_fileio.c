/*
 * test_fileio.c - the one whole-file reader (common/base/fileio.h): files at,
 * under and over the limit, across the first buffer's size, empty, and
 * missing; what is read ends in a '\0' that the length does not count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"

static char dir[] = "/tmp/sanji-fileio-XXXXXX";

static void write_bytes(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc((int)(i * 7 % 251), f);
    assert_int_equal(fclose(f), 0);
}

static void check_bytes(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)(i * 7 % 251))
            fail_msg("byte %zu is %u", i, b[i]);
    assert_int_equal(b[n], 0);
}

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void test_sizes_around_the_limit_and_the_first_buffer(void **state)
{
    (void)state;
    /* 64 KiB is the first buffer: below, at and past it. */
    static const size_t sizes[] = {0, 1, 65534, 65535, 65536, 65537, 300000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        char path[256];
        path_of(path, sizeof path, "f");
        write_bytes(path, sizes[k]);
        uint8_t *b = NULL;
        size_t len = 99;
        sj_error err;
        /* At the limit: read whole. */
        assert_int_equal(sj_file_read_all(path, sizes[k], &b, &len, &err), 0);
        assert_int_equal(len, sizes[k]);
        check_bytes(b, len);
        free(b);
        /* Far under a large limit: the same. */
        assert_int_equal(sj_file_read_all(path, (size_t)1 << 32, &b, &len, &err), 0);
        assert_int_equal(len, sizes[k]);
        check_bytes(b, len);
        free(b);
        /* One byte over the limit: refused, nothing handed back. */
        if (sizes[k] > 0) {
            assert_int_equal(sj_file_read_all(path, sizes[k] - 1, &b, &len, &err), SJ_ETOOBIG);
            assert_null(b);
            assert_int_equal(len, 0);
            assert_non_null(strstr(err.message, path));
        }
        unlink(path);
    }
}

static void test_missing_file_is_not_found(void **state)
{
    (void)state;
    char path[256];
    path_of(path, sizeof path, "missing");
    uint8_t *b = (uint8_t *)"x";
    size_t len = 5;
    sj_error err;
    assert_int_equal(sj_file_read_all(path, 100, &b, &len, &err), SJ_ENOTFOUND);
    assert_null(b);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err.message, path));
}

static void test_a_directory_cannot_be_read(void **state)
{
    (void)state;
    uint8_t *b = NULL;
    size_t len = 0;
    sj_error err;
    assert_int_equal(sj_file_read_all(dir, 100, &b, &len, &err), SJ_EIO);
    assert_null(b);
    assert_non_null(strstr(err.message, dir));
}

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_around_the_limit_and_the_first_buffer),
        cmocka_unit_test(test_missing_file_is_not_found),
        cmocka_unit_test(test_a_directory_cannot_be_read),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
