/*
 * test_i18n.c - Chinese by default, English when the locale asks for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "i18n.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chinese_when_locale_unset),
        cmocka_unit_test(test_chinese_for_c_locale),
        cmocka_unit_test(test_english_when_asked),
        cmocka_unit_test(test_language_variable_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
