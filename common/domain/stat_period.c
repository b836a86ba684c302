/*
 * stat_period.c - a statistics period as a range of instants (see
 * stat_period.h).
 *
 * Entry points: sj_stat_period_range(), sj_stat_period_from_name().
 */
#include "stat_period.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "i18n.h"

/* Instants accepted: 1970-01-01 .. 9999-12-31 (as the calendar's). */
#define PERIOD_MAX_MS INT64_C(253402300799999)

/* Exactly n decimal digits at p, as a number; -1 otherwise. */
static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int bad(sj_error *err, const char *at)
{
    return sj_error_set(err, SJ_EINVAL,
                        _("The period \"%.40s\" is not understood; write a day as 2026-11-23, a "
                          "month as 2026-11, a quarter as 2026-Q4 or a year as 2026."),
                        at ? at : "");
}

int sj_stat_period_range(sj_stat_period kind, const char *at, int64_t *from_ms, int64_t *to_ms,
                         sj_error *err)
{
    if (kind == SJ_STAT_PERIOD_RANGE) {
        if (*from_ms < 0 || *to_ms > PERIOD_MAX_MS || *from_ms >= *to_ms)
            return sj_error_set(err, SJ_EINVAL,
                                _("The period's end must come after its beginning (from is "
                                  "counted, to is not)."));
        return 0;
    }
    size_t n = at ? strlen(at) : 0;
    int year = n >= 4 ? digits(at, 4) : -1;
    if (year < 1970)
        return bad(err, at);
    int32_t first, next;
    switch (kind) {
    case SJ_STAT_PERIOD_DAY: {
        if (n != 10 || sj_clock_parse_date(at, &first, NULL) != 0)
            return bad(err, at);
        next = first + 1;
        break;
    }
    case SJ_STAT_PERIOD_MONTH: {
        int month = n == 7 && at[4] == '-' ? digits(at + 5, 2) : -1;
        if (month < 1 || month > 12)
            return bad(err, at);
        first = sj_clock_days_from_civil(year, month, 1);
        next = month == 12 ? sj_clock_days_from_civil(year + 1, 1, 1)
                           : sj_clock_days_from_civil(year, month + 1, 1);
        break;
    }
    case SJ_STAT_PERIOD_QUARTER: {
        const char *q = at + 4;
        if (*q == '-')
            q++;
        int quarter = (*q == 'Q' || *q == 'q') && strlen(q) == 2 ? digits(q + 1, 1) : -1;
        if (quarter < 1 || quarter > 4)
            return bad(err, at);
        first = sj_clock_days_from_civil(year, 3 * quarter - 2, 1);
        next = quarter == 4 ? sj_clock_days_from_civil(year + 1, 1, 1)
                            : sj_clock_days_from_civil(year, 3 * quarter + 1, 1);
        break;
    }
    case SJ_STAT_PERIOD_YEAR:
        if (n != 4)
            return bad(err, at);
        first = sj_clock_days_from_civil(year, 1, 1);
        next = sj_clock_days_from_civil(year + 1, 1, 1);
        break;
    default:
        return sj_error_set(err, SJ_EINVAL,
                            _("Unknown kind of period; use day, month, quarter or year."));
    }
    *from_ms = sj_clock_china_day_start_ms(first);
    *to_ms = sj_clock_china_day_start_ms(next);
    return 0;
}

int sj_stat_period_from_name(const char *name)
{
    static const char *const names[] = {"range", "day", "month", "quarter", "year"};
    for (int i = 0; name && i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}
