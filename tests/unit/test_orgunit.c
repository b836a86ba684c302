/*
 * test_orgunit.c - org unit codes: validity and level, parents, the unit at
 * a level, and containment (the scope rule of docs/ARCHITECTURE.md, G5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "orgunit.h"

static void test_level_table(void **state)
{
    static const struct {
        const char *code;
        sj_level level;
    } cases[] = {
        {"410423000000", SJ_LEVEL_COUNTY},
        {"410423101000", SJ_LEVEL_TOWNSHIP},
        {"410423101201", SJ_LEVEL_VILLAGE},
        {"410423999999", SJ_LEVEL_VILLAGE},
        {"000001000000", SJ_LEVEL_COUNTY},
        {"000000000000", SJ_LEVEL_NONE},  /* no county */
        {"000000101201", SJ_LEVEL_NONE},  /* no county */
        {"410423000201", SJ_LEVEL_NONE},  /* village without a township */
        {"41042310120", SJ_LEVEL_NONE},   /* 11 digits */
        {"4104231012011", SJ_LEVEL_NONE}, /* 13 digits */
        {"41042310120a", SJ_LEVEL_NONE},
        {"41042310120 ", SJ_LEVEL_NONE},
        {" 41042310120", SJ_LEVEL_NONE},
        {"-41042310120", SJ_LEVEL_NONE},
        {"４10423101201", SJ_LEVEL_NONE}, /* full-width digit */
        {"", SJ_LEVEL_NONE},
        {NULL, SJ_LEVEL_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("code %s\n", cases[i].code ? cases[i].code : "(null)");
        assert_int_equal(sj_orgunit_level(cases[i].code), cases[i].level);
        assert_int_equal(sj_orgunit_valid(cases[i].code), cases[i].level != SJ_LEVEL_NONE);
    }
}

static void test_unterminated_buffer_is_invalid(void **state)
{
    /* A 13-byte field filled to the brim must not be read past. */
    char buf[SJ_ORGUNIT_CODE_SIZE];
    memset(buf, '1', sizeof(buf));
    assert_int_equal(sj_orgunit_level(buf), SJ_LEVEL_NONE);
}

static void test_parent_table(void **state)
{
    static const struct {
        const char *code;
        int rc;
        const char *parent;
    } cases[] = {
        {"410423101201", 0, "410423101000"},
        {"410423101000", 0, "410423000000"},
        {"410423000000", SJ_EINVAL, NULL},
        {"410423000201", SJ_EINVAL, NULL},
        {"bogus", SJ_EINVAL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[SJ_ORGUNIT_CODE_SIZE] = "untouched";
        assert_int_equal(sj_orgunit_parent(cases[i].code, out), cases[i].rc);
        if (cases[i].parent)
            assert_string_equal(out, cases[i].parent);
    }
}

static void test_township_and_county_of(void **state)
{
    char out[SJ_ORGUNIT_CODE_SIZE];
    assert_int_equal(sj_orgunit_township_of("410423101201", out), 0);
    assert_string_equal(out, "410423101000");
    assert_int_equal(sj_orgunit_township_of("410423101000", out), 0);
    assert_string_equal(out, "410423101000");
    assert_int_equal(sj_orgunit_township_of("410423000000", out), SJ_EINVAL);
    assert_int_equal(sj_orgunit_county_of("410423101201", out), 0);
    assert_string_equal(out, "410423000000");
    assert_int_equal(sj_orgunit_county_of("410423101000", out), 0);
    assert_string_equal(out, "410423000000");
    assert_int_equal(sj_orgunit_county_of("410423000000", out), SJ_EINVAL);
    assert_int_equal(sj_orgunit_county_of("x", out), SJ_EINVAL);
}

static void test_at_level_table(void **state)
{
    static const struct {
        const char *code;
        sj_level level;
        int rc;
        const char *want;
    } cases[] = {
        {"410423101201", SJ_LEVEL_VILLAGE, 0, "410423101201"},
        {"410423101201", SJ_LEVEL_TOWNSHIP, 0, "410423101000"},
        {"410423101201", SJ_LEVEL_COUNTY, 0, "410423000000"},
        {"410423101000", SJ_LEVEL_TOWNSHIP, 0, "410423101000"},
        {"410423101000", SJ_LEVEL_COUNTY, 0, "410423000000"},
        {"410423101000", SJ_LEVEL_VILLAGE, SJ_EINVAL, NULL},
        {"410423000000", SJ_LEVEL_COUNTY, 0, "410423000000"},
        {"410423000000", SJ_LEVEL_TOWNSHIP, SJ_EINVAL, NULL},
        {"410423101201", SJ_LEVEL_NONE, SJ_EINVAL, NULL},
        {"410423101201", (sj_level)4, SJ_EINVAL, NULL},
        {"4104231012", SJ_LEVEL_COUNTY, SJ_EINVAL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[SJ_ORGUNIT_CODE_SIZE] = "";
        print_message("code %s level %d\n", cases[i].code, (int)cases[i].level);
        assert_int_equal(sj_orgunit_at_level(cases[i].code, cases[i].level, out), cases[i].rc);
        if (cases[i].want)
            assert_string_equal(out, cases[i].want);
    }
}

static void test_contains_table(void **state)
{
    static const struct {
        const char *outer, *unit;
        bool want;
    } cases[] = {
        {"410423000000", "410423000000", true},
        {"410423000000", "410423101000", true},
        {"410423000000", "410423101201", true},
        {"410423101000", "410423101201", true},
        {"410423101000", "410423101000", true},
        {"410423101201", "410423101201", true},
        {"410423101000", "410423102201", false}, /* sibling township's village */
        {"410423101201", "410423101202", false}, /* sibling village */
        {"410423101000", "410423000000", false}, /* county is not in a township */
        {"410423101201", "410423101000", false}, /* township is not in a village */
        {"410422000000", "410423101201", false}, /* other county */
        {"410423000000", "410422101201", false},
        {"410423000000", "bogus", false},
        {"bogus", "410423101201", false},
        {NULL, "410423101201", false},
        {"410423000000", NULL, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("%s contains %s?\n", cases[i].outer ? cases[i].outer : "(null)",
                      cases[i].unit ? cases[i].unit : "(null)");
        assert_int_equal(sj_orgunit_contains(cases[i].outer, cases[i].unit), cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_table),
        cmocka_unit_test(test_unterminated_buffer_is_invalid),
        cmocka_unit_test(test_parent_table),
        cmocka_unit_test(test_township_and_county_of),
        cmocka_unit_test(test_at_level_table),
        cmocka_unit_test(test_contains_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
