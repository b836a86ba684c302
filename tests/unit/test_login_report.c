/*
 * test_login_report.c - the wrong-password report a station and a relay
 * keep until it has gone upward (common/domain/login_report.h): counts add up,
 * the later failure gives in_a_row, person ids are cleaned, and no peer
 * can make a report outgrow its bound.
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "login_report.h"

static void test_counts_add_up_and_the_later_failure_wins(void **state)
{
    (void)state;
    char text[SJ_LOGIN_REPORT_SIZE] = "";
    sj_login_report_add(text, "p-1", 1, 1, 1000);
    sj_login_report_add(text, "p-2", 1, 1, 1500);
    sj_login_report_add(text, "p-1", 2, 3, 2000);
    /* An older report (a relay passing on late) does not lower in_a_row. */
    sj_login_report_add(text, "p-1", 1, 1, 500);
    assert_int_equal(sj_login_report_total(text), 5);
    Sanji__LoginFailures **lf = NULL;
    size_t n = 0;
    assert_int_equal(sj_login_report_parse(text, &lf, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(lf[0]->person, "p-1");
    assert_int_equal(lf[0]->count, 4);
    assert_int_equal(lf[0]->in_a_row, 3);
    assert_int_equal(lf[0]->last_at_ms, 2000);
    assert_string_equal(lf[1]->person, "p-2");
    assert_int_equal(lf[1]->count, 1);
    sj_login_report_free(lf, n);
}

static void test_empty_report_parses_to_nothing(void **state)
{
    (void)state;
    Sanji__LoginFailures **lf = (Sanji__LoginFailures **)1;
    size_t n = 99;
    assert_int_equal(sj_login_report_parse("", &lf, &n), 0);
    assert_null(lf);
    assert_int_equal(n, 0);
    assert_int_equal(sj_login_report_total(""), 0);
    assert_int_equal(sj_login_report_parse("garbage without numbers\n", &lf, &n), 0);
    assert_int_equal(n, 0);
}

/* Ids from the network cannot break the line format or grow it. */
static void test_person_ids_are_cleaned(void **state)
{
    (void)state;
    char text[SJ_LOGIN_REPORT_SIZE] = "";
    sj_login_report_add(text, "a b\nc 9 9 9", 1, 1, 1);
    sj_login_report_add(text, "", 1, 1, 1);
    char longid[300];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    sj_login_report_add(text, longid, 1, 1, 1);
    Sanji__LoginFailures **lf = NULL;
    size_t n = 0;
    assert_int_equal(sj_login_report_parse(text, &lf, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(lf[0]->person, "a_b_c_9_9_9");
    assert_string_equal(lf[1]->person, "?");
    assert_int_equal(strlen(lf[2]->person), SJ_LOGIN_PERSON_MAX);
    sj_login_report_free(lf, n);
}

/* Beyond SJ_LOGIN_REPORT_PERSONS persons, further ones count under "?". */
static void test_many_persons_fold_into_unknown(void **state)
{
    (void)state;
    char text[SJ_LOGIN_REPORT_SIZE] = "";
    for (int i = 0; i < 100; i++) {
        char id[SJ_LOGIN_PERSON_MAX + 1];
        snprintf(id, sizeof id, "%0*d", SJ_LOGIN_PERSON_MAX, i);
        sj_login_report_add(text, id, 1, 1, i);
    }
    assert_true(strlen(text) < SJ_LOGIN_REPORT_SIZE);
    assert_int_equal(sj_login_report_total(text), 100);
    Sanji__LoginFailures **lf = NULL;
    size_t n = 0;
    assert_int_equal(sj_login_report_parse(text, &lf, &n), 0);
    assert_int_equal(n, SJ_LOGIN_REPORT_PERSONS);
    assert_string_equal(lf[n - 1]->person, "?");
    assert_int_equal(lf[n - 1]->count, 100 - (SJ_LOGIN_REPORT_PERSONS - 1));
    sj_login_report_free(lf, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_add_up_and_the_later_failure_wins),
        cmocka_unit_test(test_empty_report_parses_to_nothing),
        cmocka_unit_test(test_person_ids_are_cleaned),
        cmocka_unit_test(test_many_persons_fold_into_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
