/*
 * stats_month.h - the period statistics' monthly roll-up (migration 0018,
 * docs/STATISTICS.md "Answering"): the figures of each full past month's
 * cases counted per grouping key and working days, kept in stats_month,
 * counted again when one of the month's cases changed (stats_month_dirty)
 * or the calendar did; stats.c adds them up for the county's questions.
 *
 * Months are China calendar months numbered from January 1970 (0), the
 * same numbers as migration 0018's sanji_stats_month().
 *
 * Entry points: countyd_stats_month_of(), countyd_stats_month_start_ms(),
 * countyd_stats_full_months(), countyd_stats_month_refresh(),
 * countyd_stats_month_use(); stats.c's
 * countyd_stats_stored_group(), countyd_stats_month_sql(),
 * countyd_stats_working_days() for this module.
 */
#ifndef COUNTYD_STATS_MONTH_H
#define COUNTYD_STATS_MONTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "calendar.h"
#include "err.h"

/* The month of a time (ms since the epoch), and a month's first ms. */
int32_t countyd_stats_month_of(int64_t ms);
int64_t countyd_stats_month_start_ms(int32_t month);

/* How long a month must have been over before it is kept counted: the
 * writes made while it was going on did not mark it (migration 0018). */
#define COUNTYD_STATS_MONTH_SETTLE_MS (INT64_C(24) * 3600 * 1000)

/* The full months of [from, to) that ended before the month of now less
 * COUNTYD_STATS_MONTH_SETTLE_MS began: [*m_lo, *m_hi).  False when there
 * is none. */
bool countyd_stats_full_months(int64_t from, int64_t to, int64_t now, int32_t *m_lo, int32_t *m_hi);

/* The full years (numbered as months / 12) of the months [m_lo, m_hi):
 * [*y_lo, *y_hi), empty when none. */
void countyd_stats_full_years(int32_t m_lo, int32_t m_hi, int32_t *y_lo, int32_t *y_hi);

/* Counts the months of [m_lo, m_hi) that are not kept for the calendar cal
 * (never counted, counted on another calendar, or marked changed) into
 * stats_month, each in its own transaction while holding the month's
 * lock exclusively.  *counted (if not NULL) gets how many were counted.
 * Then adds up the working-day histograms of each full year of them
 * whose twelve months are kept (stats_year_wd), where not done since.
 * Must be called outside a transaction.  Returns 0, SJ_EDB or SJ_EDB_CONN, or SJ_ENOMEM. */
int countyd_stats_month_refresh(PGconn *db, const sj_calendar *cal, int32_t m_lo, int32_t m_hi,
                                int *counted, sj_error *err);

/* Whether the questions use the roll-up (the default) or count every case
 * (to compare the two: the tests, sanji-bench).  Set before any question. */
void countyd_stats_month_use(bool on);
bool countyd_stats_month_used(void);

/* stats.c: the grouping whose stats_month rows answer group (the item's
 * for the category), or -1 when it is always counted from the cases. */
int countyd_stats_stored_group(int group);

/* stats.c: the statement counting one month of a stored grouping into
 * stats_month, in sql (cap bytes).  False for a grouping not stored. */
bool countyd_stats_month_sql(int group, char *sql, size_t cap);

/* stats.c: the running count of working days over base + 1 .. end_day,
 * as an array literal in *out (the caller frees it). */
int countyd_stats_working_days(const sj_calendar *cal, int32_t base, int32_t end_day, char **out,
                               sj_error *err);

#endif
