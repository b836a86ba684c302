/*
 * test_workload.c - the shared case-data generator (tests/lib/workload.h):
 * it loads the real demo files, is reproducible by seed, and everything it
 * makes passes the same checks the county applies (personal.h, catalogue
 * levels, UTF-8 text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case.h"
#include "personal.h"
#include "workload.h"

static int setup(void **state)
{
    sj_workload *w;
    sj_error err;
    int rc = sj_workload_new(42, NULL, &w, &err);
    if (rc < 0) {
        fprintf(stderr, "sj_workload_new: %s\n", err.message);
        return -1;
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    sj_workload_free(*state);
    return 0;
}

static void test_loads_demo_county(void **state)
{
    sj_workload *w = *state;
    assert_int_equal(sj_workload_township_count(w), 25);
    assert_int_equal(sj_workload_village_count(w), 502);
    assert_int_equal(sj_workload_item_level(w, "MZ-001"), SJ_LEVEL_VILLAGE);
    assert_int_equal(sj_workload_item_level(w, "MZ-003"), SJ_LEVEL_COUNTY);
    assert_int_equal(sj_workload_item_level(w, "NOPE-1"), SJ_LEVEL_NONE);
    const char *villages[64];
    size_t n = sj_workload_villages_of(w, sj_workload_township(w, 0, NULL), villages, 64);
    assert_in_range(n, 5, 40);
    for (size_t i = 0; i < n; i++)
        assert_memory_equal(villages[i], sj_workload_township(w, 0, NULL), 9);
}

static void test_same_seed_same_stream(void **state)
{
    (void)state;
    sj_workload *a, *b;
    sj_error err;
    assert_int_equal(sj_workload_new(7, NULL, &a, &err), 0);
    assert_int_equal(sj_workload_new(7, NULL, &b, &err), 0);
    for (int i = 0; i < 100; i++) {
        char na[SJ_WORKLOAD_NAME_SIZE], nb[SJ_WORKLOAD_NAME_SIZE];
        char ia[SJ_WORKLOAD_ID_SIZE], ib[SJ_WORKLOAD_ID_SIZE];
        sj_workload_applicant(a, na, ia, NULL);
        sj_workload_applicant(b, nb, ib, NULL);
        assert_string_equal(na, nb);
        assert_string_equal(ia, ib);
        assert_string_equal(sj_workload_item(a, SJ_LEVEL_NONE), sj_workload_item(b, SJ_LEVEL_NONE));
    }
    sj_workload *c;
    assert_int_equal(sj_workload_new(8, NULL, &c, &err), 0);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += sj_workload_rand(a) == sj_workload_rand(c);
    assert_int_equal(same, 0);
    sj_workload_free(a);
    sj_workload_free(b);
    sj_workload_free(c);
}

static void test_applicants_pass_county_checks(void **state)
{
    sj_workload *w = *state;
    for (int i = 0; i < 2000; i++) {
        char name[SJ_WORKLOAD_NAME_SIZE], id[SJ_WORKLOAD_ID_SIZE], phone[SJ_WORKLOAD_PHONE_SIZE];
        sj_error err;
        sj_workload_applicant(w, name, id, phone);
        assert_true(sj_text_valid(name, SJ_WORKLOAD_NAME_SIZE - 1));
        assert_in_range(strlen(name), 6, 9); /* 2-3 CJK characters */
        if (sj_personal_check_id(id, NULL, &err) != 0)
            fail_msg("id %s refused: %s", id, err.message);
        assert_memory_equal(id, "410423", 6);
        if (sj_personal_check_phone(phone, &err) != 0)
            fail_msg("phone %s refused: %s", phone, err.message);
        assert_true(sj_personal_is_mobile(phone));
    }
}

static void test_items_fit_level(void **state)
{
    sj_workload *w = *state;
    static const sj_level levels[] = {SJ_LEVEL_VILLAGE, SJ_LEVEL_TOWNSHIP, SJ_LEVEL_COUNTY};
    for (size_t l = 0; l < 3; l++) {
        for (int i = 0; i < 500; i++) {
            const char *code = sj_workload_item(w, levels[l]);
            sj_level got = sj_workload_item_level(w, code);
            if (got == SJ_LEVEL_NONE || got > levels[l])
                fail_msg("item %s has level %d, asked for <= %d", code, got, levels[l]);
        }
    }
    int county = 0;
    for (int i = 0; i < 500; i++)
        county += sj_workload_item_level(w, sj_workload_item(w, SJ_LEVEL_NONE)) == SJ_LEVEL_COUNTY;
    assert_in_range(county, 100, 400); /* 54 of 122 items */
}

static void test_text_fits_and_is_utf8(void **state)
{
    sj_workload *w = *state;
    static const size_t caps[] = {1, 2, 5, 17, 40, 512};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        for (int i = 0; i < 200; i++) {
            char buf[512];
            size_t n = sj_workload_text(w, buf, caps[c]);
            assert_int_equal(n, strlen(buf));
            assert_true(n < caps[c]);
            assert_true(sj_text_valid(buf, SJ_CASE_TEXT_MAX));
            if (caps[c] == 512)
                assert_in_range(n, 20, 200);
        }
    }
}

static void test_below_is_in_range_and_spread(void **state)
{
    sj_workload *w = *state;
    int hist[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t r = sj_workload_below(w, 7);
        assert_in_range(r, 0, 6);
        hist[r]++;
    }
    for (int i = 0; i < 7; i++)
        assert_in_range(hist[i], 9000, 11000);
    assert_int_equal(sj_workload_below(w, 0), 0);
}

static void test_missing_dir_is_an_error(void **state)
{
    (void)state;
    sj_workload *w = (sj_workload *)1;
    sj_error err;
    assert_int_equal(sj_workload_new(1, "/nonexistent-demo", &w, &err), SJ_EIO);
    assert_null(w);
    assert_non_null(strstr(err.message, "/nonexistent-demo/catalogue.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loads_demo_county, setup, teardown),
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test_setup_teardown(test_applicants_pass_county_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items_fit_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_fits_and_is_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_below_is_in_range_and_spread, setup, teardown),
        cmocka_unit_test(test_missing_dir_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
