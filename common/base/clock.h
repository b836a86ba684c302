/*
 * clock.h - clocks, and the time and date formats Sanji writes and reads.
 *
 * Three clocks:
 *   sj_clock_mono_ms()    monotonic; for timeouts and intervals only.
 *   sj_clock_real_ms()    "now" for business rules (registration time, due
 *                         times, the county's overdue sweep).  It is the
 *                         system time plus a fake offset, so that tests and a
 *                         demo county can run at another date.  The offset
 *                         starts from the environment variable SANJI_FAKE_NOW
 *                         (read once, at the first call): an ISO-8601 time
 *                         such as "2026-02-13T10:00:00+08:00" or a number of
 *                         milliseconds since the epoch; "now" then starts at
 *                         that time and runs on at the normal rate.
 *   sj_clock_system_ms()  the system time, never faked (log lines).
 *
 * China time is UTC+8 all year (no daylight saving since 1991).  A "day" in
 * this module is a civil date numbered as days since 1970-01-01.
 *
 * Entry points: the clocks above, sj_clock_set_fake_offset_ms(),
 * sj_clock_set_fake_now_ms(), sj_clock_format_utc(), sj_clock_format_china(),
 * sj_clock_parse_iso(), sj_clock_parse_date(), sj_clock_format_date(),
 * sj_clock_days_from_civil(), sj_clock_civil_from_days(),
 * sj_clock_china_day(), sj_clock_china_day_start_ms().
 * Nothing is allocated; all output goes to caller buffers.  Thread-safe.
 */
#ifndef SJ_CLOCK_H
#define SJ_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SJ_CLOCK_MS_PER_DAY INT64_C(86400000)
#define SJ_CLOCK_CHINA_OFFSET_MS INT64_C(28800000) /* UTC+8 */

/* Buffer sizes, with the terminating NUL. */
#define SJ_CLOCK_ISO_SIZE 32  /* "2026-11-23T20:00:00.123+08:00" */
#define SJ_CLOCK_DATE_SIZE 11 /* "2026-11-23" */

int64_t sj_clock_mono_ms(void);
int64_t sj_clock_real_ms(void);
int64_t sj_clock_system_ms(void);

/* Sets the offset added to the system time by sj_clock_real_ms() (0 turns
 * faking off).  Overrides SANJI_FAKE_NOW. */
void sj_clock_set_fake_offset_ms(int64_t offset_ms);
/* Makes sj_clock_real_ms() return now_ms at this moment, running on from it. */
void sj_clock_set_fake_now_ms(int64_t now_ms);
int64_t sj_clock_fake_offset_ms(void);

/* "2026-11-23T12:00:00.123Z".  Returns 0, or SJ_ETOOBIG if cap is less than
 * SJ_CLOCK_ISO_SIZE, or SJ_EINVAL for a year outside 0000..9999. */
int sj_clock_format_utc(int64_t ms, char *buf, size_t cap);
/* "2026-11-23T20:00:00.123+08:00". Same returns. */
int sj_clock_format_china(int64_t ms, char *buf, size_t cap);

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" (a space may replace
 * the T) or a plain decimal number of milliseconds since the epoch.
 * Returns 0 or SJ_EINVAL with err saying what is wrong. */
int sj_clock_parse_iso(const char *text, int64_t *ms, sj_error *err);

/* Parses exactly "YYYY-MM-DD" (a real calendar date, year 1900..9999) into
 * a day number.  Returns 0 or SJ_EINVAL. */
int sj_clock_parse_date(const char *text, int32_t *day, sj_error *err);
/* Writes "YYYY-MM-DD" (SJ_CLOCK_DATE_SIZE bytes) for a day number. */
void sj_clock_format_date(int32_t day, char out[SJ_CLOCK_DATE_SIZE]);

/* Proleptic Gregorian conversions; month 1..12, mday 1..31.  The caller
 * checks that the date exists (sj_clock_parse_date does). */
int32_t sj_clock_days_from_civil(int year, int month, int mday);
void sj_clock_civil_from_days(int32_t day, int *year, int *month, int *mday);
/* 0 = Sunday, 1 = Monday, ... 6 = Saturday. */
int sj_clock_weekday(int32_t day);

/* The China-time date on which instant ms falls, and the instant at which a
 * China-time date begins (00:00:00.000+08:00). */
int32_t sj_clock_china_day(int64_t ms);
int64_t sj_clock_china_day_start_ms(int32_t day);

#endif
