/*
 * calendar.h - the working-day calendar: holidays, 调休 make-up working
 * days, and due times counted in working days.
 *
 * A day is a China-time civil date (days since 1970-01-01, see clock.h).
 * A day is a working day if it is listed as a make-up working day
 * (workday), or it is Monday..Friday and not listed as a public holiday
 * (holiday).  Dates the calendar does not list fall back to Monday..Friday,
 * so a calendar loaded only up to 2026 treats 2027 as plain weeks.
 *
 * Due-time rule (限时办结).  Let D be the China-time date of the start
 * instant (registration).  The registration day itself never counts, as
 * in Chinese law's counting of periods (开始的当日不计入):
 *   n >= 1: the case is due at 23:59:59.999 China time of the n-th working
 *           day strictly after D.  A case registered on a working day at
 *           10:00 with a 1-day limit is due at the end of the next working
 *           day; one registered on a holiday or weekend counts from the next
 *           working day, which is its day 1 (so Friday and Saturday
 *           registrations with a 1-day limit are both due Monday evening).
 *   n == 0: ("办结即时") due at the end of D if D is a working day, else at
 *           the end of the first working day after D.
 * sj_calendar_working_days_between(start, t) counts the working days in
 * (D, date of t], so for t up to the due time it is the number of limit
 * days used; it equals n at the due time.
 *
 * Coverage.  A year is covered when the calendar lists at least one public
 * holiday in it: every official arrangement (国务院办公厅关于某年部分节假日
 * 安排的通知) gives 元旦 of its year, while a make-up working day it lists
 * may fall late in the year before, which that does not cover.  A due time
 * in a year not covered is provisional (暂定): the year's holidays are not
 * known yet.  From 1 November (China time) the next year's arrangement is
 * expected (sj_calendar_missing_next_year()).
 *
 * Ownership: sj_calendar_new() allocates, sj_calendar_free() frees.  Names
 * are copied.  Not thread-safe while being filled; read-only use from
 * several threads is fine.
 *
 * Entry points: sj_calendar_new(), sj_calendar_free(), sj_calendar_add(),
 * sj_calendar_load_csv(), sj_calendar_load_csv_text(), sj_calendar_kind_of(),
 * sj_calendar_is_working_day(), sj_calendar_add_working_days(),
 * sj_calendar_working_days_between(), sj_calendar_count(),
 * sj_calendar_covers_year(), sj_calendar_covers(),
 * sj_calendar_missing_next_year(), sj_calendar_fingerprint().
 */
#ifndef SJ_CALENDAR_H
#define SJ_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef enum sj_calendar_kind {
    SJ_CALENDAR_NORMAL = 0,  /* not listed: Monday..Friday work */
    SJ_CALENDAR_HOLIDAY = 1, /* public holiday (a rest day even on a weekday) */
    SJ_CALENDAR_WORKDAY = 2, /* make-up working day (调休上班, usually a weekend day) */
} sj_calendar_kind;

/* Longest limit accepted by sj_calendar_add_working_days (about 40 years). */
#define SJ_CALENDAR_MAX_DAYS 10000

typedef struct sj_calendar sj_calendar;

/* Returns an empty calendar (plain Monday..Friday weeks), or NULL when out
 * of memory. */
sj_calendar *sj_calendar_new(void);
void sj_calendar_free(sj_calendar *cal);

/* Lists a date.  Adding the same date with the same kind again replaces the
 * name; with the other kind it is refused with SJ_EEXISTS (a date cannot be
 * both).  name may be NULL.  Returns 0, SJ_EEXISTS, SJ_EINVAL or SJ_ENOMEM. */
int sj_calendar_add(sj_calendar *cal, int32_t day, sj_calendar_kind kind, const char *name,
                    sj_error *err);

/* Loads lines "date,kind,name" (e.g. "2026-02-16,holiday,春节"): kind is
 * holiday or workday; the name is the rest of the line and may be empty;
 * blank lines and lines starting with '#' are skipped, as is a header line
 * "date,kind,name".  Errors name "file:line".  On error, lines before the
 * bad one stay added. */
int sj_calendar_load_csv(sj_calendar *cal, const char *path, sj_error *err);
int sj_calendar_load_csv_text(sj_calendar *cal, const char *name, const char *text, size_t len,
                              sj_error *err);

/* How a date is listed, and its name (NULL if none) if name is not NULL. */
sj_calendar_kind sj_calendar_kind_of(const sj_calendar *cal, int32_t day, const char **name);
bool sj_calendar_is_working_day(const sj_calendar *cal, int32_t day);
size_t sj_calendar_count(const sj_calendar *cal);

/* The due instant for a limit of n working days from start_ms (see the rule
 * above).  Returns 0, or SJ_EINVAL if n < 0 or n > SJ_CALENDAR_MAX_DAYS or
 * start_ms is before 1970 or after 9999. */
int sj_calendar_add_working_days(const sj_calendar *cal, int64_t start_ms, int n, int64_t *due_ms);

/* Working days in (date of from_ms, date of to_ms]; negative (the count of
 * (date of to_ms, date of from_ms]) when to_ms is earlier.  Returns 0 or
 * SJ_EINVAL for instants before 1970 or after 9999 or more than
 * SJ_CALENDAR_MAX_DAYS * 2 days apart. */
int sj_calendar_working_days_between(const sj_calendar *cal, int64_t from_ms, int64_t to_ms,
                                     int *out);

/* True if the calendar lists a public holiday in `year` (see Coverage). */
bool sj_calendar_covers_year(const sj_calendar *cal, int year);

/* True if the China-time year of the instant `ms` is covered. */
bool sj_calendar_covers(const sj_calendar *cal, int64_t ms);

/* The year whose arrangement should be loaded by now and is not: from 1
 * November (China time) of year Y, Y + 1 if it is not covered; else 0. */
int sj_calendar_missing_next_year(const sj_calendar *cal, int64_t now_ms);

/* A hash of the listed dates and their kinds (not the names): equal for two
 * calendars that count the same working days, so that a changed one can be
 * told from the same one loaded again. */
uint64_t sj_calendar_fingerprint(const sj_calendar *cal);

#endif
