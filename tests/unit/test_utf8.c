/*
 * test_utf8.c - the one strict UTF-8 check and the one blank rule
 * (common/base/utf8.h), which the envelope decoder, the case rules and the
 * clients all use: tables of valid and invalid sequences at every boundary
 * of RFC 3629, lengths that cut a sequence, and every kind of white space.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static void test_valid_table(void **state)
{
    static const struct {
        const char *what;
        const char *s;
        bool ok;
    } cases[] = {
        {"empty", "", true},
        {"ASCII", "plain text 123", true},
        {"Chinese", "鲁山县张官营镇", true},
        {"U+0080", "\xc2\x80", true},
        {"U+07FF", "\xdf\xbf", true},
        {"U+0800", "\xe0\xa0\x80", true},
        {"U+D7FF before the surrogates", "\xed\x9f\xbf", true},
        {"U+E000 after the surrogates", "\xee\x80\x80", true},
        {"U+FFFF", "\xef\xbf\xbf", true},
        {"U+10000", "\xf0\x90\x80\x80", true},
        {"emoji", "\xf0\x9f\x98\x80", true},
        {"U+10FFFF", "\xf4\x8f\xbf\xbf", true},
        {"overlong NUL", "\xc0\x80", false},
        {"overlong C1", "\xc1\xbf", false},
        {"overlong 3-byte", "\xe0\x80\xaf", false},
        {"overlong 3-byte, top", "\xe0\x9f\xbf", false},
        {"overlong 4-byte", "\xf0\x80\x80\xaf", false},
        {"overlong 4-byte, top", "\xf0\x8f\xbf\xbf", false},
        {"surrogate D800", "\xed\xa0\x80", false},
        {"surrogate DFFF", "\xed\xbf\xbf", false},
        {"U+110000", "\xf4\x90\x80\x80", false},
        {"F5 lead", "\xf5\x80\x80\x80", false},
        {"FF", "\xff", false},
        {"lone continuation", "a\x80", false},
        {"truncated 2-byte", "\xc2", false},
        {"truncated 3-byte", "\xe4\xb8", false},
        {"truncated at the end", "ok\xe4", false},
        {"ASCII as 2nd byte", "\xe4\x28\xad", false},
        {"ASCII as 3rd byte", "\xe4\xb8\x28", false},
        {"ASCII as 4th byte", "\xf0\x9f\x98\x28", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("%s\n", cases[i].what);
        assert_int_equal(sj_utf8_valid(cases[i].s, strlen(cases[i].s)), cases[i].ok);
    }
}

/* The length is what is checked: a sequence cut by it is invalid, bytes
 * after it are not looked at, and a NUL inside is U+0000. */
static void test_length_bounds_the_check(void **state)
{
    const char *zhang = "张"; /* e5 bc a0 */
    assert_true(sj_utf8_valid(zhang, 3));
    assert_false(sj_utf8_valid(zhang, 2));
    assert_false(sj_utf8_valid(zhang, 1));
    assert_true(sj_utf8_valid(zhang, 0));
    assert_true(sj_utf8_valid("ok\xff", 2));
    assert_true(sj_utf8_valid("a\0b", 3));
    assert_true(sj_utf8_valid(NULL, 0));
}

static void test_blank_table(void **state)
{
    static const struct {
        const char *what;
        const char *s;
        bool blank;
    } cases[] = {
        {"empty", "", true},
        {"spaces", "   ", true},
        {"tab, CR, LF", "\t\r\n", true},
        {"vertical tab and form feed", "\v\f", true},
        {"no-break space U+00A0", "\u00a0", true},
        {"ideographic space U+3000", "\u3000\u3000", true},
        {"all of them", " \t\u00a0\v\u3000\f\r\n", true},
        {"a letter", " a ", false},
        {"a Chinese character", "\u3000张\u3000", false},
        {"a zero", "0", false},
        {"a lone C2", "\xc2", false},
        {"C2 with another byte", "\xc2\xa1", false},
        {"E3 80 cut", "\xe3\x80", false},
        {"U+3001 (ideographic comma)", "\u3001", false},
        {"U+2003 (em space, not typed by input methods)", "\u2003", false},
    };
    assert_true(sj_utf8_blank(NULL));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("%s\n", cases[i].what);
        assert_int_equal(sj_utf8_blank(cases[i].s), cases[i].blank);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_table),
        cmocka_unit_test(test_length_bounds_the_check),
        cmocka_unit_test(test_blank_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
