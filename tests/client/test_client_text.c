/*
 * test_client_text.c - terminal width of mixed Chinese and ASCII text, and
 * cutting/padding it to aligned columns; the marks a list row carries
 * (sc_case_marks()) and whether the villager was notified (sc_notify_label()),
 * in Chinese.
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

/* What the station shows of the villager's message (已通知 / 通知失败 / 不通知). */
static void test_notify_label(void **state)
{
    (void)state;
    Sanji__Case c = SANJI__CASE__INIT;
    char buf[160];
    assert_string_equal(sc_notify_label(&c, buf, sizeof(buf)), "");
    c.notify_state = SANJI__NOTIFY_STATE__NOTIFY_STATE_PENDING;
    assert_string_equal(sc_notify_label(&c, buf, sizeof(buf)), "待通知");
    c.notify_attempts = 2;
    assert_string_equal(sc_notify_label(&c, buf, sizeof(buf)), "通知失败 2 次，正在重试");
    c.notify_state = SANJI__NOTIFY_STATE__NOTIFY_STATE_SENT;
    c.notify_attempts = 3;
    assert_string_equal(sc_notify_label(&c, buf, sizeof(buf)), "已通知（第 3 次发送）");
    c.notify_state = SANJI__NOTIFY_STATE__NOTIFY_STATE_FAILED;
    c.notify_attempts = 5;
    assert_string_equal(sc_notify_label(&c, buf, sizeof(buf)), "通知失败（已发送 5 次）");
    c.notify_state = SANJI__NOTIFY_STATE__NOTIFY_STATE_OFF;
    assert_string_equal(sc_notify_label(&c, buf, sizeof(buf)), "不通知");
    assert_string_equal(sc_action_label(SJ_ACTION_NOTIFIED), "已通知村民");
    assert_string_equal(sc_action_label(SJ_ACTION_NOTIFY_FAILED), "通知村民失败");
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
        cmocka_unit_test(test_notify_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
