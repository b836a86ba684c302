/*
 * test_stat_period.c - common/domain/stat_period.c: a statistics period as the
 * instants it covers, in China time (UTC+8): days, months (December into
 * the next year, February of a leap year), quarters in their spellings,
 * years, ranges as given, and every malformed text refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "stat_period.h"

/* 00:00 China time of a date. */
static int64_t start(int y, int m, int d)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(y, m, d));
}

static void expect(sj_stat_period kind, const char *at, int64_t from, int64_t to)
{
    int64_t f = 0, t = 0;
    sj_error err;
    if (sj_stat_period_range(kind, at, &f, &t, &err) != 0)
        fail_msg("%s refused: %s", at, err.message);
    assert_int_equal(f, from);
    assert_int_equal(t, to);
}

static void test_calendar_periods(void **state)
{
    (void)state;
    expect(SJ_STAT_PERIOD_DAY, "2026-11-23", start(2026, 11, 23), start(2026, 11, 24));
    expect(SJ_STAT_PERIOD_DAY, "2026-12-31", start(2026, 12, 31), start(2027, 1, 1));
    expect(SJ_STAT_PERIOD_MONTH, "2026-11", start(2026, 11, 1), start(2026, 12, 1));
    expect(SJ_STAT_PERIOD_MONTH, "2026-12", start(2026, 12, 1), start(2027, 1, 1));
    expect(SJ_STAT_PERIOD_MONTH, "2028-02", start(2028, 2, 1), start(2028, 3, 1));
    expect(SJ_STAT_PERIOD_QUARTER, "2026-Q1", start(2026, 1, 1), start(2026, 4, 1));
    expect(SJ_STAT_PERIOD_QUARTER, "2026Q3", start(2026, 7, 1), start(2026, 10, 1));
    expect(SJ_STAT_PERIOD_QUARTER, "2026-q4", start(2026, 10, 1), start(2027, 1, 1));
    expect(SJ_STAT_PERIOD_YEAR, "2026", start(2026, 1, 1), start(2027, 1, 1));
    /* China midnight is 16:00 UTC the day before. */
    int64_t utc;
    assert_int_equal(sj_clock_parse_iso("2026-10-31T16:00:00Z", &utc, NULL), 0);
    expect(SJ_STAT_PERIOD_MONTH, "2026-11", utc, start(2026, 12, 1));
}

static void test_range_as_given(void **state)
{
    (void)state;
    int64_t f = 1000, t = 2000;
    assert_int_equal(sj_stat_period_range(SJ_STAT_PERIOD_RANGE, NULL, &f, &t, NULL), 0);
    assert_int_equal(f, 1000);
    assert_int_equal(t, 2000);
    const int64_t bad[][2] = {{2000, 2000}, {2000, 1000}, {-1, 1000}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = bad[i][0];
        t = bad[i][1];
        sj_error err;
        assert_int_equal(sj_stat_period_range(SJ_STAT_PERIOD_RANGE, NULL, &f, &t, &err), SJ_EINVAL);
        assert_true(err.message[0] != '\0');
    }
}

static void test_bad_texts_refused(void **state)
{
    (void)state;
    const struct {
        sj_stat_period kind;
        const char *at;
    } bad[] = {
        {SJ_STAT_PERIOD_DAY, "2026-02-30"},  {SJ_STAT_PERIOD_DAY, "2026-11"},
        {SJ_STAT_PERIOD_DAY, NULL},          {SJ_STAT_PERIOD_MONTH, "2026-13"},
        {SJ_STAT_PERIOD_MONTH, "2026-00"},   {SJ_STAT_PERIOD_MONTH, "2026/11"},
        {SJ_STAT_PERIOD_MONTH, "2026-1"},    {SJ_STAT_PERIOD_QUARTER, "2026-Q0"},
        {SJ_STAT_PERIOD_QUARTER, "2026-Q5"}, {SJ_STAT_PERIOD_QUARTER, "2026-4"},
        {SJ_STAT_PERIOD_QUARTER, "2026"},    {SJ_STAT_PERIOD_YEAR, "26"},
        {SJ_STAT_PERIOD_YEAR, "1969"},       {SJ_STAT_PERIOD_YEAR, "2026x"},
        {SJ_STAT_PERIOD_YEAR, ""},           {(sj_stat_period)9, "2026"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t f = 0, t = 0;
        sj_error err;
        if (sj_stat_period_range(bad[i].kind, bad[i].at, &f, &t, &err) != SJ_EINVAL)
            fail_msg("\"%s\" (kind %d) was taken", bad[i].at ? bad[i].at : "(null)",
                     (int)bad[i].kind);
        assert_true(err.message[0] != '\0');
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(sj_stat_period_from_name("day"), SJ_STAT_PERIOD_DAY);
    assert_int_equal(sj_stat_period_from_name("month"), SJ_STAT_PERIOD_MONTH);
    assert_int_equal(sj_stat_period_from_name("quarter"), SJ_STAT_PERIOD_QUARTER);
    assert_int_equal(sj_stat_period_from_name("year"), SJ_STAT_PERIOD_YEAR);
    assert_int_equal(sj_stat_period_from_name("range"), SJ_STAT_PERIOD_RANGE);
    assert_int_equal(sj_stat_period_from_name("week"), -1);
    assert_int_equal(sj_stat_period_from_name(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar_periods),
        cmocka_unit_test(test_range_as_given),
        cmocka_unit_test(test_bad_texts_refused),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
