/*
 * test_csv.c - the reference-data CSV reader (common/base/csv.h): fields,
 * quoting, comments and the refusals a county operator reads when a file
 * is not what the import expects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

static int parse(const char *text, size_t len, sj_csv *out, sj_error *err)
{
    memset(out, 0, sizeof *out);
    sj_error_clear(err);
    return sj_csv_parse("t.csv", text, len, out, err);
}

static void test_fields_quotes_and_comments(void **state)
{
    (void)state;
    const char text[] = "# source: 县委组织部\ncode,name\n130423001,\"张官营镇, 东\"\n"
                        "130423002,\"说 \"\"便民\"\"\"\n";
    sj_csv csv;
    sj_error err;
    assert_int_equal(parse(text, sizeof text - 1, &csv, &err), 0);
    assert_int_equal(csv.n, 3);
    assert_string_equal(csv.records[0].fields[1], "name");
    assert_string_equal(csv.records[1].fields[1], "张官营镇, 东");
    assert_string_equal(csv.records[2].fields[1], "说 \"便民\"");
    assert_int_equal(csv.records[2].line, 4);
    sj_csv_free(&csv);
}

static void test_invalid_utf8_is_refused_with_its_line(void **state)
{
    (void)state;
    /* GBK bytes of 张官营 where UTF-8 is expected: the common mistake of a
     * file saved by a spreadsheet in the local code page. */
    const char text[] = "code,name\n130423001,\xd5\xc5\xb9\xd9\xd3\xaa\n";
    sj_csv csv;
    sj_error err;
    assert_int_equal(parse(text, sizeof text - 1, &csv, &err), SJ_EINVAL);
    assert_non_null(strstr(err.message, "t.csv:2"));
    assert_non_null(strstr(err.message, "UTF-8"));
    sj_csv_free(&csv);

    const char quoted[] = "code,name\n1,\"ok\"\n2,\"\xff\"\n";
    assert_int_equal(parse(quoted, sizeof quoted - 1, &csv, &err), SJ_EINVAL);
    assert_non_null(strstr(err.message, "t.csv:3"));
    sj_csv_free(&csv);
}

static void test_nul_byte_is_refused(void **state)
{
    (void)state;
    const char text[] = "code,name\n1,a\0b\n";
    sj_csv csv;
    sj_error err;
    assert_int_equal(parse(text, sizeof text - 1, &csv, &err), SJ_EINVAL);
    assert_non_null(strstr(err.message, "NUL"));
    sj_csv_free(&csv);
}

static void test_malformed_fields_are_refused_with_their_line(void **state)
{
    (void)state;
    struct {
        const char *text, *where, *what;
    } cases[] = {
        {"a,b\n1,\"open\n", "t.csv:2", "not closed"},
        {"a,b\n1,\"x\"y\n", "t.csv:2", "after the closing quote"},
        {"a,b\n1,x\"y\n", "t.csv:2", "quote inside an unquoted field"},
        {"a,b\n\n1,x\ry\n", "t.csv:3", "carriage return"},
        {"a,b\n1,\"two\nlines\"z\n", "t.csv:3", "after the closing quote"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sj_csv csv;
        sj_error err;
        assert_int_equal(parse(cases[i].text, strlen(cases[i].text), &csv, &err), SJ_EINVAL);
        if (!strstr(err.message, cases[i].where) || !strstr(err.message, cases[i].what))
            fail_msg("case %zu: %s", i, err.message);
        assert_int_equal(csv.n, 0);
        sj_csv_free(&csv);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_quotes_and_comments),
        cmocka_unit_test(test_invalid_utf8_is_refused_with_its_line),
        cmocka_unit_test(test_nul_byte_is_refused),
        cmocka_unit_test(test_malformed_fields_are_refused_with_their_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
