/*
 * stat_period.h - the period of a statistics question (docs/STATISTICS.md
 * "Periods"): a China-time day, month, quarter or year named by text, or a
 * range of instants, turned into the half-open range [from_ms, to_ms) of
 * registration times the county counts.  One rule for the CLI, the desk
 * and the county, so that they all mean the same days.
 *
 * Texts: day "2026-11-23", month "2026-11", quarter "2026-Q4" (or
 * "2026Q4", q in either case), year "2026".
 *
 * Entry points: sj_stat_period_range(), sj_stat_period_from_name().
 */
#ifndef SJ_STAT_PERIOD_H
#define SJ_STAT_PERIOD_H

#include <stdint.h>

#include "err.h"

typedef enum sj_stat_period {
    SJ_STAT_PERIOD_RANGE = 0,
    SJ_STAT_PERIOD_DAY = 1,
    SJ_STAT_PERIOD_MONTH = 2,
    SJ_STAT_PERIOD_QUARTER = 3,
    SJ_STAT_PERIOD_YEAR = 4,
} sj_stat_period;

/* The instants of the period kind named by `at` (kind != RANGE), or
 * [*from_ms, *to_ms) checked as given (kind == RANGE: from < to, both in
 * 1970..9999).  Returns 0, or SJ_EINVAL with err saying what is wrong (in
 * the user's language). */
int sj_stat_period_range(sj_stat_period kind, const char *at, int64_t *from_ms, int64_t *to_ms,
                         sj_error *err);

/* "day", "month", "quarter", "year" (and "range"); -1 for other text. */
int sj_stat_period_from_name(const char *name);

#endif
