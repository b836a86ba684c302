/*
 * test_i18n.c - Chinese by default, English when the locale asks for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "i18n.h"
#include "refusal.h"

#include <string.h>

static void clear_env(void)
{
    unsetenv("LANGUAGE");
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANG");
}

static void test_chinese_when_locale_unset(void **state)
{
    clear_env();
    sj_i18n_init(NULL);
    assert_string_equal(sj_i18n_language(), "zh_CN");
    assert_string_equal(_("timed out"), "超时");
}

static void test_chinese_for_c_locale(void **state)
{
    clear_env();
    setenv("LANG", "C", 1);
    sj_i18n_init(NULL);
    assert_string_equal(sj_i18n_language(), "zh_CN");
    assert_string_equal(_("county link is down"), "与县级服务器的连接已中断");
}

static void test_english_when_asked(void **state)
{
    clear_env();
    setenv("LANG", "en_US.UTF-8", 1);
    sj_i18n_init(NULL);
    assert_string_equal(sj_i18n_language(), "en");
    assert_string_equal(_("timed out"), "timed out");
}

static void test_language_variable_wins(void **state)
{
    clear_env();
    setenv("LANG", "zh_CN.UTF-8", 1);
    setenv("LANGUAGE", "en", 1);
    sj_i18n_init(NULL);
    assert_string_equal(sj_i18n_language(), "en");
}

/* A refusal of the state machine reads as one Chinese sentence pair: the
 * kind (by code), then the machine's own reason, both translated. */
static void test_refusal_in_chinese(void **state)
{
    clear_env();
    sj_i18n_init(NULL);
    char out[512];
    sj_refusal_format(SJ_EMISSING_FIELD,
                      "a note is required to send a case back down: say why it was escalated wrongly and "
                      "where it belongs",
                      out, sizeof(out));
    assert_string_equal(out, "此操作缺少必填内容。 退回下级时必须填写说明：写明为什么报错了、应由哪里办理");
    sj_error err;
    assert_int_equal(sj_refusal_set(&err, SJ_ENOT_ALLOWED, NULL), SJ_ENOT_ALLOWED);
    assert_int_equal(err.code, SJ_ENOT_ALLOWED);
    assert_string_equal(err.message, "该事项当前状态下不能进行此操作。");
    /* A detail written at run time (not a msgid) is kept as it is. */
    sj_refusal_format(SJ_EBAD_FIELD, "item XX-999", out, sizeof(out));
    assert_non_null(strstr(out, "item XX-999"));
    /* Cut to the buffer, always terminated. */
    char small[8];
    sj_refusal_format(SJ_ESCOPE, "x", small, sizeof(small));
    assert_true(strlen(small) < sizeof(small));
}

static void test_refusal_in_english(void **state)
{
    clear_env();
    setenv("LANGUAGE", "en", 1);
    sj_i18n_init(NULL);
    char out[512];
    sj_refusal_format(SJ_EWRONG_LEVEL, "the case is held at another level", out, sizeof(out));
    assert_string_equal(out, "The case is not held at your level now. the case is held at another level");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chinese_when_locale_unset),
        cmocka_unit_test(test_refusal_in_chinese),
        cmocka_unit_test(test_refusal_in_english),
        cmocka_unit_test(test_chinese_for_c_locale),
        cmocka_unit_test(test_english_when_asked),
        cmocka_unit_test(test_language_variable_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
