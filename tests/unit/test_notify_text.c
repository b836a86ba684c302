/*
 * test_notify_text.c - the county notifier's texts and back-off
 * (server/notify.h): a template's placeholders filled in, an unknown or
 * unclosed placeholder refused (also when the configuration is read, with
 * its file and line), and the wait between attempts doubling up to its cap.
 * The sending itself is test_notify's (tests/e2e).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"
#include "server_config.h"

static const countyd_notify_fields F = {.county = "鲁山县",
                                        .item = "城乡低保申请",
                                        .village = "张官营村",
                                        .materials = "户口簿、近期免冠照片",
                                        .number = "410423-20261207-00001"};

static void test_render_fills_every_placeholder(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(
        countyd_notify_render("【{county}代办】您申请的{item}已办结，请到{village}便民服务站"
                              "领取结果。",
                              &F, &out, NULL),
        0);
    assert_string_equal(
        out, "【鲁山县代办】您申请的城乡低保申请已办结，请到张官营村便民服务站领取结果。");
    free(out);
    assert_int_equal(countyd_notify_render("{number}: {materials}{materials}", &F, &out, NULL), 0);
    assert_string_equal(out, "410423-20261207-00001: 户口簿、近期免冠照片户口簿、近期免冠照片");
    free(out);
    assert_int_equal(countyd_notify_render("", &F, &out, NULL), 0);
    assert_string_equal(out, "");
    free(out);
    /* A long text grows the buffer. */
    char big[2048];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(countyd_notify_render(big, &F, &out, NULL), 0);
    assert_string_equal(out, big);
    free(out);
}

static void test_bad_placeholders_are_refused(void **state)
{
    (void)state;
    sj_error err;
    char *out = (char *)1;
    assert_int_equal(countyd_notify_render("您的身份证号{id_number}", &F, &out, &err),
                     SJ_ECONFIG_BAD_VALUE);
    assert_null(out);
    assert_non_null(strstr(err.message, "{id_number}"));
    assert_int_equal(countyd_notify_check_template("请到{village便民服务站", &err),
                     SJ_ECONFIG_BAD_VALUE);
    assert_int_equal(countyd_notify_check_template("{name}", &err), SJ_ECONFIG_BAD_VALUE);
    assert_int_equal(
        countyd_notify_check_template("{county}{item}{village}{materials}{number}", &err), 0);
}

static void test_config_refuses_a_bad_template_at_its_line(void **state)
{
    (void)state;
    char path[] = "/tmp/sanji-notify-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "[county]\ncode = 410423\n[notify]\n"
                        "template_resolved = \"您的{applicant}已办结\"\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    countyd_config cfg;
    sj_error err;
    assert_int_equal(countyd_config_load(path, &cfg, &err), SJ_ECONFIG_BAD_VALUE);
    char where[sizeof path + 8];
    snprintf(where, sizeof where, "%s:4", path);
    assert_non_null(strstr(err.message, where));
    assert_non_null(strstr(err.message, "{applicant}"));
    unlink(path);
}

static void test_backoff_doubles_up_to_the_cap(void **state)
{
    (void)state;
    countyd_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.notify_retry_base_ms = 60000;
    cfg.notify_retry_cap_ms = 3600000;
    assert_int_equal(countyd_notify_backoff_ms(cfg.notify_retry_base_ms, cfg.notify_retry_cap_ms, 1), 60000);
    assert_int_equal(countyd_notify_backoff_ms(cfg.notify_retry_base_ms, cfg.notify_retry_cap_ms, 2), 120000);
    assert_int_equal(countyd_notify_backoff_ms(cfg.notify_retry_base_ms, cfg.notify_retry_cap_ms, 3), 240000);
    assert_int_equal(countyd_notify_backoff_ms(cfg.notify_retry_base_ms, cfg.notify_retry_cap_ms, 6), 1920000);
    assert_int_equal(countyd_notify_backoff_ms(cfg.notify_retry_base_ms, cfg.notify_retry_cap_ms, 7), 3600000);
    assert_int_equal(countyd_notify_backoff_ms(cfg.notify_retry_base_ms, cfg.notify_retry_cap_ms, 100), 3600000);
    cfg.notify_retry_cap_ms = 30000; /* a cap below the base wins */
    assert_int_equal(countyd_notify_backoff_ms(cfg.notify_retry_base_ms, cfg.notify_retry_cap_ms, 1), 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_fills_every_placeholder),
        cmocka_unit_test(test_bad_placeholders_are_refused),
        cmocka_unit_test(test_config_refuses_a_bad_template_at_its_line),
        cmocka_unit_test(test_backoff_doubles_up_to_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
