/*
 * test_client_text.c - terminal width of mixed Chinese and ASCII text, and
 * cutting/padding it to aligned columns; the marks a list row carries
 * (sc_case_marks()), in Chinese.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "i18n.h"
#include "sanji_client.h"
#include "text.h"

static void test_width_table(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t want;
    } cases[] = {
        {"", 0},           {"abc", 3},         {"已保存", 6},    {"MZ-003 城乡低保", 15},
        {"（全角）", 8},   {"\xff", 1},        {"\xe4\xb8", 2}, {"e\xcc\x81", 1},
        {"한국", 4},        {"２０２６", 8},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = sc_text_width(cases[i].s);
        if (got != cases[i].want)
            fail_msg("width(\"%s\") = %zu, want %zu", cases[i].s, got, cases[i].want);
    }
    assert_int_equal(sc_text_width(NULL), 0);
}

static void test_fit_table(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t width;
        const char *want;
    } cases[] = {
        {"abc", 5, "abc  "},
        {"已保存", 8, "已保存  "},
        {"城乡低保申请", 7, "城乡低\xe2\x80\xa6"},      /* 6 columns + … */
        {"城乡低保申请", 8, "城乡低\xe2\x80\xa6 "},     /* a wide char never split */
        {"abcdef", 4, "abc\xe2\x80\xa6"},
        {"", 2, "  "},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        sc_text_fit(cases[i].s, cases[i].width, out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("fit(\"%s\", %zu) = \"%s\", want \"%s\"", cases[i].s, cases[i].width, out,
                     cases[i].want);
        assert_int_equal(sc_text_width(out), cases[i].width);
    }
}

static void test_fit_small_buffer_terminates(void **state)
{
    (void)state;
    char out[4];
    sc_text_fit("已保存已保存", 10, out, sizeof(out));
    assert_true(strlen(out) < sizeof(out));
}

static void test_case_marks(void **state)
{
    (void)state;
    Sanji__Case c = SANJI__CASE__INIT;
    char buf[128];
    assert_string_equal(sc_case_marks(&c, buf, sizeof(buf)), "");
    c.urge_count = 1;
    assert_string_equal(sc_case_marks(&c, buf, sizeof(buf)), "催办");
    c.urge_count = 3;
    c.supervised = true;
    assert_string_equal(sc_case_marks(&c, buf, sizeof(buf)), "督办 · 催办 3 次");
    c.overdue = true;
    assert_string_equal(sc_case_marks(&c, buf, sizeof(buf)), "超期 · 督办 · 催办 3 次");
    c.return_count = 1;
    c.department_refusals = 2;
    assert_string_equal(sc_case_marks(&c, buf, sizeof(buf)),
                        "超期 · 督办 · 催办 3 次 · 退回 1 次 · 退单 2 次");
    /* A small buffer is cut, never overrun, always terminated. */
    char small[8];
    sc_case_marks(&c, small, sizeof(small));
    assert_true(strlen(small) < sizeof(small));
}

int main(void)
{
    unsetenv("LANGUAGE");
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANG");
    sj_i18n_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width_table),
        cmocka_unit_test(test_fit_table),
        cmocka_unit_test(test_fit_small_buffer_terminates),
        cmocka_unit_test(test_case_marks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
