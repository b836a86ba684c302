/*
 * test_calendar.c - the working-day calendar against the State Council's
 * 2025 and 2026 holiday arrangements (deploy/demo/holidays.csv), and the
 * clock functions it stands on (China time, ISO-8601, dates, fake clock).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "calendar.h"
#include "clock.h"

#define FAKE_NOW "2026-02-13T10:00:00+08:00"

static int64_t at(const char *iso)
{
    int64_t ms;
    sj_error err;
    if (sj_clock_parse_iso(iso, &ms, &err) != 0)
        fail_msg("test time %s: %s", iso, err.message);
    return ms;
}

static int32_t day_of(const char *date)
{
    int32_t d;
    sj_error err;
    if (sj_clock_parse_date(date, &d, &err) != 0)
        fail_msg("test date %s: %s", date, err.message);
    return d;
}

static int setup_official(void **state)
{
    const char *src = getenv("SANJI_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/deploy/demo/holidays.csv", src ? src : "../..");
    sj_calendar *cal = sj_calendar_new();
    assert_non_null(cal);
    sj_error err;
    if (sj_calendar_load_csv(cal, path, &err) != 0)
        fail_msg("%s", err.message);
    *state = cal;
    return 0;
}

static int teardown_cal(void **state)
{
    sj_calendar_free(*state);
    return 0;
}

/* ---- clock ---------------------------------------------------------------- */

static void test_fake_now_from_environment(void **state)
{
    /* main() set SANJI_FAKE_NOW before anything read the clock. */
    int64_t now = sj_clock_real_ms(), want = at(FAKE_NOW);
    assert_in_range(now, want, want + 60000);
    sj_clock_set_fake_offset_ms(0);
    assert_true(llabs(sj_clock_real_ms() - sj_clock_system_ms()) < 1000);
    sj_clock_set_fake_now_ms(want);
    assert_in_range(sj_clock_real_ms(), want, want + 1000);
    sj_clock_set_fake_offset_ms(0);
}

static void test_mono_does_not_go_back(void **state)
{
    int64_t a = sj_clock_mono_ms();
    for (int i = 0; i < 1000; i++) {
        int64_t b = sj_clock_mono_ms();
        assert_true(b >= a);
        a = b;
    }
}

static void test_format_utc_and_china(void **state)
{
    static const struct {
        int64_t ms;
        const char *utc, *china;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z", "1970-01-01T08:00:00.000+08:00"},
        {1795435200123LL, "2026-11-23T12:00:00.123Z", "2026-11-23T20:00:00.123+08:00"},
        {1771000799999LL, "2026-02-13T16:39:59.999Z", "2026-02-14T00:39:59.999+08:00"},
        {-1, "1969-12-31T23:59:59.999Z", "1970-01-01T07:59:59.999+08:00"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[SJ_CLOCK_ISO_SIZE];
        assert_int_equal(sj_clock_format_utc(cases[i].ms, buf, sizeof(buf)), 0);
        assert_string_equal(buf, cases[i].utc);
        assert_int_equal(sj_clock_format_china(cases[i].ms, buf, sizeof(buf)), 0);
        assert_string_equal(buf, cases[i].china);
        assert_int_equal(at(cases[i].utc), cases[i].ms);
        assert_int_equal(at(cases[i].china), cases[i].ms);
    }
    char small[10];
    assert_int_equal(sj_clock_format_utc(0, small, sizeof(small)), SJ_ETOOBIG);
}

static void test_parse_iso_forms(void **state)
{
    int64_t want = at("2026-02-13T02:00:00Z");
    assert_int_equal(at("2026-02-13T10:00:00+08:00"), want);
    assert_int_equal(at("2026-02-13 10:00:00+08:00"), want);
    assert_int_equal(at("2026-02-12T21:00:00-05:00"), want);
    assert_int_equal(at("2026-02-13T02:00:00.000000Z"), want);
    assert_int_equal(at("2026-02-13T02:00:00.5Z"), want + 500);
    char digits[32];
    snprintf(digits, sizeof(digits), "%lld", (long long)want);
    assert_int_equal(at(digits), want);
    static const char *const bad[] = {"",
                                      "2026-02-13",
                                      "2026-02-13T10:00:00",
                                      "2026-02-13T24:00:00Z",
                                      "2026-02-30T10:00:00Z",
                                      "2026-2-13T10:00:00Z",
                                      "2026-02-13T10:00:00+0800",
                                      "2026-02-13T10:00:00Z junk",
                                      "2026-02-13T10:00:00.Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms;
        sj_error err;
        sj_error_clear(&err);
        if (sj_clock_parse_iso(bad[i], &ms, &err) != SJ_EINVAL || strstr(err.message, "YYYY") == NULL)
            fail_msg("\"%s\" accepted or message \"%s\" lacks the expected form", bad[i],
                     err.message);
    }
}

static void test_parse_date(void **state)
{
    assert_int_equal(day_of("1970-01-01"), 0);
    assert_int_equal(day_of("2026-11-23"), 20780);
    assert_int_equal(sj_clock_weekday(day_of("2026-11-23")), 1); /* Monday */
    assert_int_equal(sj_clock_weekday(day_of("2025-01-26")), 0); /* Sunday */
    static const char *const bad[] = {"2026-02-29", "2025-13-01", "2025-00-10", "2025-1-1",
                                      "20250101",   "2025-01-01 ", "1899-12-31", "2025-04-31"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int32_t d = 42;
        sj_error err;
        if (sj_clock_parse_date(bad[i], &d, &err) != SJ_EINVAL)
            fail_msg("\"%s\" accepted as day %d", bad[i], d);
        assert_int_equal(d, 42);
    }
    assert_int_equal(day_of("2024-02-29"), day_of("2024-03-01") - 1);
    /* Round trip over four centuries, leap rules included. */
    for (int32_t d = day_of("1900-01-01"); d < day_of("2300-01-01"); d += 7) {
        char text[SJ_CLOCK_DATE_SIZE];
        sj_clock_format_date(d, text);
        assert_int_equal(day_of(text), d);
    }
}

static void test_china_day_boundaries(void **state)
{
    int32_t d = day_of("2026-03-03");
    assert_int_equal(sj_clock_china_day(at("2026-03-02T16:00:00Z")), d);
    assert_int_equal(sj_clock_china_day(at("2026-03-02T15:59:59.999Z")), d - 1);
    assert_int_equal(sj_clock_china_day_start_ms(d), at("2026-03-03T00:00:00+08:00"));
}

/* ---- calendar --------------------------------------------------------------- */

static void test_official_days(void **state)
{
    const sj_calendar *cal = *state;
    static const struct {
        const char *date;
        bool working;
    } cases[] = {
        {"2025-01-01", false}, {"2025-01-26", true},  {"2025-01-27", true},  {"2025-01-28", false},
        {"2025-02-04", false}, {"2025-02-05", true},  {"2025-02-08", true},  {"2025-04-04", false},
        {"2025-04-27", true},  {"2025-05-05", false}, {"2025-05-06", true},  {"2025-06-02", false},
        {"2025-09-28", true},  {"2025-10-08", false}, {"2025-10-11", true},  {"2025-10-12", false},
        {"2026-01-02", false}, {"2026-01-04", true},  {"2026-02-14", true},  {"2026-02-23", false},
        {"2026-02-24", true},  {"2026-02-28", true},  {"2026-03-01", false}, {"2026-04-06", false},
        {"2026-05-09", true},  {"2026-06-19", false}, {"2026-09-20", true},  {"2026-09-25", false},
        {"2026-10-07", false}, {"2026-10-10", true},  {"2026-10-11", false}, {"2026-11-23", true},
        {"2027-01-01", true}, /* not listed: a plain Friday */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (sj_calendar_is_working_day(cal, day_of(cases[i].date)) != cases[i].working)
            fail_msg("%s: working %d; want %d", cases[i].date, !cases[i].working,
                     cases[i].working);
    const char *name;
    assert_int_equal(sj_calendar_kind_of(cal, day_of("2026-02-17"), &name), SJ_CALENDAR_HOLIDAY);
    assert_string_equal(name, "春节");
    assert_int_equal(sj_calendar_kind_of(cal, day_of("2026-03-17"), &name), SJ_CALENDAR_NORMAL);
    assert_null(name);
}

static void test_due_times(void **state)
{
    const sj_calendar *cal = *state;
    static const struct {
        const char *start;
        int n;
        const char *due_date;
        const char *what;
    } cases[] = {
        {"2026-02-13T10:00:00+08:00", 7, "2026-03-02", "春节 2026: 2/14 and 2/28 make-up Saturdays count"},
        {"2025-09-30T10:00:00+08:00", 3, "2025-10-11", "国庆 2025: ends on make-up Saturday 10/11"},
        {"2025-09-26T10:00:00+08:00", 1, "2025-09-28", "make-up Sunday 9/28 is the next working day"},
        {"2025-12-31T10:00:00+08:00", 1, "2026-01-04", "元旦 2026: make-up Sunday 1/4"},
        {"2025-12-31T10:00:00+08:00", 2, "2026-01-05", "元旦 2026: then Monday"},
        {"2026-03-02T10:00:00+08:00", 1, "2026-03-03", "plain working day, 1-day limit"},
        {"2026-03-06T10:00:00+08:00", 1, "2026-03-09", "Friday, over a plain weekend"},
        {"2026-03-07T10:00:00+08:00", 1, "2026-03-09", "Saturday counts from Monday"},
        {"2026-03-02T10:00:00+08:00", 0, "2026-03-02", "n=0 on a working day: same day"},
        {"2026-10-01T10:00:00+08:00", 0, "2026-10-08", "n=0 on a holiday: next working day"},
        {"2025-05-01T09:00:00+08:00", 1, "2025-05-06", "start on a holiday"},
        {"2025-05-01T09:00:00+08:00", 2, "2025-05-07", "start on a holiday, 2 days"},
        {"2025-04-27T10:00:00+08:00", 1, "2025-04-28", "start on make-up Sunday"},
        {"2026-10-10T10:00:00+08:00", 1, "2026-10-12", "start on make-up Saturday"},
        {"2026-03-02T23:59:59.999+08:00", 1, "2026-03-03", "last ms of the day"},
        {"2026-03-02T16:30:00Z", 1, "2026-03-04", "UTC evening is already 3/3 in China"},
        {"2024-12-31T10:00:00+08:00", 248, "2025-12-31", "all 248 working days of 2025"},
        {"2025-12-31T10:00:00+08:00", 248, "2026-12-31", "all 248 working days of 2026"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t due = 0;
        assert_int_equal(sj_calendar_add_working_days(cal, at(cases[i].start), cases[i].n, &due), 0);
        char want_iso[64];
        snprintf(want_iso, sizeof(want_iso), "%sT23:59:59.999+08:00", cases[i].due_date);
        if (due != at(want_iso)) {
            char got[SJ_CLOCK_ISO_SIZE];
            sj_clock_format_china(due, got, sizeof(got));
            fail_msg("%s + %d (%s): due %s; want %s", cases[i].start, cases[i].n, cases[i].what,
                     got, want_iso);
        }
        if (cases[i].n > 0) {
            int used = -1;
            assert_int_equal(sj_calendar_working_days_between(cal, at(cases[i].start), due, &used), 0);
            assert_int_equal(used, cases[i].n);
        }
    }
}

static void test_days_between(void **state)
{
    const sj_calendar *cal = *state;
    static const struct {
        const char *from, *to;
        int want;
    } cases[] = {
        {"2026-02-13T10:00:00+08:00", "2026-02-13T18:00:00+08:00", 0},
        {"2026-02-13T10:00:00+08:00", "2026-02-14T09:00:00+08:00", 1},
        {"2026-02-13T10:00:00+08:00", "2026-02-23T09:00:00+08:00", 1},
        {"2026-02-13T10:00:00+08:00", "2026-02-24T15:00:00+08:00", 2},
        {"2026-02-24T15:00:00+08:00", "2026-02-13T10:00:00+08:00", -2},
        {"2024-12-31T12:00:00+08:00", "2025-12-31T12:00:00+08:00", 248},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = 12345;
        assert_int_equal(sj_calendar_working_days_between(cal, at(cases[i].from), at(cases[i].to), &got), 0);
        if (got != cases[i].want)
            fail_msg("(%s, %s]: %d working days; want %d", cases[i].from, cases[i].to, got,
                     cases[i].want);
    }
}

static void test_limits_refused(void **state)
{
    const sj_calendar *cal = *state;
    int64_t due = 7, start = at("2026-03-02T10:00:00+08:00");
    assert_int_equal(sj_calendar_add_working_days(cal, start, -1, &due), SJ_EINVAL);
    assert_int_equal(sj_calendar_add_working_days(cal, start, SJ_CALENDAR_MAX_DAYS + 1, &due), SJ_EINVAL);
    assert_int_equal(sj_calendar_add_working_days(cal, -5, 1, &due), SJ_EINVAL);
    assert_int_equal(due, 7);
    assert_int_equal(sj_calendar_add_working_days(cal, start, SJ_CALENDAR_MAX_DAYS, &due), 0);
    assert_true(due > at("2060-01-01T00:00:00Z"));
    int n;
    assert_int_equal(sj_calendar_working_days_between(cal, 0, at("2200-01-01T00:00:00Z"), &n), SJ_EINVAL);
}

/* Coverage: a year is loaded when a holiday of it is listed; from 1
 * November next year is expected; the fingerprint follows the dates and
 * kinds, not the names. */
static void test_coverage_and_fingerprint(void **state)
{
    (void)state;
    sj_calendar *cal = sj_calendar_new();
    assert_non_null(cal);
    sj_error err;
    uint64_t empty = sj_calendar_fingerprint(cal);
    assert_false(sj_calendar_covers_year(cal, 2026));
    /* A 调休 working day late in 2025 does not cover 2025. */
    assert_int_equal(sj_calendar_add(cal, day_of("2025-12-28"), SJ_CALENDAR_WORKDAY, "调休", &err),
                     0);
    assert_false(sj_calendar_covers_year(cal, 2025));
    assert_int_equal(sj_calendar_add(cal, day_of("2026-01-01"), SJ_CALENDAR_HOLIDAY, "元旦", &err),
                     0);
    assert_true(sj_calendar_covers_year(cal, 2026));
    assert_false(sj_calendar_covers_year(cal, 2027));
    assert_false(sj_calendar_covers_year(cal, 1969));
    int64_t t;
    assert_int_equal(sj_clock_parse_iso("2026-12-31T23:00:00+08:00", &t, &err), 0);
    assert_true(sj_calendar_covers(cal, t));
    /* 2027-01-01 00:30 China time is still 2026 in UTC: China's year counts. */
    assert_int_equal(sj_clock_parse_iso("2027-01-01T00:30:00+08:00", &t, &err), 0);
    assert_false(sj_calendar_covers(cal, t));
    assert_false(sj_calendar_covers(cal, -1));
    /* The warning: not before 1 November (China time), then until loaded. */
    assert_int_equal(sj_clock_parse_iso("2026-10-31T23:59:00+08:00", &t, &err), 0);
    assert_int_equal(sj_calendar_missing_next_year(cal, t), 0);
    assert_int_equal(sj_clock_parse_iso("2026-11-01T00:01:00+08:00", &t, &err), 0);
    assert_int_equal(sj_calendar_missing_next_year(cal, t), 2027);
    assert_int_equal(sj_clock_parse_iso("2026-12-31T12:00:00+08:00", &t, &err), 0);
    assert_int_equal(sj_calendar_missing_next_year(cal, t), 2027);
    uint64_t with2026 = sj_calendar_fingerprint(cal);
    assert_true(with2026 != empty);
    /* A renamed day counts the same. */
    assert_int_equal(sj_calendar_add(cal, day_of("2026-01-01"), SJ_CALENDAR_HOLIDAY, "新年", &err),
                     0);
    assert_true(sj_calendar_fingerprint(cal) == with2026);
    assert_int_equal(sj_calendar_add(cal, day_of("2027-01-01"), SJ_CALENDAR_HOLIDAY, "测试", &err),
                     0);
    assert_int_equal(sj_calendar_missing_next_year(cal, t), 0);
    assert_true(sj_calendar_fingerprint(cal) != with2026);
    sj_calendar_free(cal);
}

static void test_add_programmatically(void **state)
{
    sj_calendar *cal = sj_calendar_new();
    assert_non_null(cal);
    sj_error err;
    int32_t sat = day_of("2026-03-07"), mon = day_of("2026-03-09");
    assert_false(sj_calendar_is_working_day(cal, sat));
    assert_int_equal(sj_calendar_add(cal, sat, SJ_CALENDAR_WORKDAY, "调休", &err), 0);
    assert_int_equal(sj_calendar_add(cal, mon, SJ_CALENDAR_HOLIDAY, NULL, &err), 0);
    assert_true(sj_calendar_is_working_day(cal, sat));
    assert_false(sj_calendar_is_working_day(cal, mon));
    /* same kind again: a rename */
    assert_int_equal(sj_calendar_add(cal, sat, SJ_CALENDAR_WORKDAY, "新名", &err), 0);
    const char *name;
    sj_calendar_kind_of(cal, sat, &name);
    assert_string_equal(name, "新名");
    /* the other kind: refused */
    assert_int_equal(sj_calendar_add(cal, sat, SJ_CALENDAR_HOLIDAY, "x", &err), SJ_EEXISTS);
    assert_non_null(strstr(err.message, "2026-03-07"));
    assert_int_equal(sj_calendar_add(cal, sat, (sj_calendar_kind)7, "x", &err), SJ_EINVAL);
    assert_int_equal(sj_calendar_count(cal), 2);
    sj_calendar_free(cal);
}

static void test_csv_errors(void **state)
{
    static const struct {
        const char *text;
        int rc;
        const char *why;
    } cases[] = {
        {"date,kind,name\n2026-02-30,holiday,x\n", SJ_EINVAL, "t.csv:2: 日期格式不正确"},
        {"# c\n\n2026-02-16,vacation,春节\n", SJ_EINVAL, "t.csv:3: 类型 \"vacation\""},
        {"2026-02-16 holiday\n", SJ_EINVAL, "t.csv:1: 缺少逗号"},
        {"2026-02-16,holiday,a\r\n2026-02-16,workday,b\r\n", SJ_EEXISTS, "t.csv:2: 2026-02-16"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_calendar *cal = sj_calendar_new();
        assert_non_null(cal);
        sj_error err;
        sj_error_clear(&err);
        int rc = sj_calendar_load_csv_text(cal, "t.csv", cases[i].text, strlen(cases[i].text), &err);
        if (rc != cases[i].rc || strstr(err.message, cases[i].why) == NULL)
            fail_msg("case %zu: rc %d \"%s\"; want %d with \"%s\"", i, rc, err.message, cases[i].rc,
                     cases[i].why);
        sj_calendar_free(cal);
    }
    sj_calendar *cal = sj_calendar_new();
    sj_error err;
    const char *ok = "date,kind,name\n 2026-02-16 , holiday , \"春节, 初一\" \n2026-02-14,workday,\n";
    assert_int_equal(sj_calendar_load_csv_text(cal, "t.csv", ok, strlen(ok), &err), 0);
    const char *name;
    assert_int_equal(sj_calendar_kind_of(cal, day_of("2026-02-16"), &name), SJ_CALENDAR_HOLIDAY);
    assert_string_equal(name, "春节, 初一");
    assert_int_equal(sj_calendar_kind_of(cal, day_of("2026-02-14"), &name), SJ_CALENDAR_WORKDAY);
    assert_null(name);
    assert_int_equal(sj_calendar_load_csv(cal, "/nonexistent/holidays.csv", &err), SJ_EIO);
    assert_non_null(strstr(err.message, "/nonexistent/holidays.csv"));
    sj_calendar_free(cal);
}

int main(void)
{
    /* Before any clock call: SANJI_FAKE_NOW is read once. */
    setenv("SANJI_FAKE_NOW", FAKE_NOW, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_now_from_environment),
        cmocka_unit_test(test_mono_does_not_go_back),
        cmocka_unit_test(test_format_utc_and_china),
        cmocka_unit_test(test_parse_iso_forms),
        cmocka_unit_test(test_parse_date),
        cmocka_unit_test(test_china_day_boundaries),
        cmocka_unit_test_setup_teardown(test_official_days, setup_official, teardown_cal),
        cmocka_unit_test_setup_teardown(test_due_times, setup_official, teardown_cal),
        cmocka_unit_test_setup_teardown(test_days_between, setup_official, teardown_cal),
        cmocka_unit_test_setup_teardown(test_limits_refused, setup_official, teardown_cal),
        cmocka_unit_test(test_add_programmatically),
        cmocka_unit_test(test_coverage_and_fingerprint),
        cmocka_unit_test(test_csv_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
