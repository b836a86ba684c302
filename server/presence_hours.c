/*
 * presence_hours.c - the stations' duty hours and the seconds of a span
 * within them (see presence_hours.h).
 */
#include "presence_hours.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"

#define MIN_MS INT64_C(60000)

static int parse_hhmm(const char *p, int *min)
{
    if (strlen(p) < 5 || p[2] != ':' || !strchr("012", p[0]) || p[1] < '0' || p[1] > '9' ||
        p[3] < '0' || p[3] > '5' || p[4] < '0' || p[4] > '9')
        return -1;
    int h = (p[0] - '0') * 10 + (p[1] - '0');
    if (h > 24)
        return -1;
    *min = h * 60 + (p[3] - '0') * 10 + (p[4] - '0');
    return *min <= 24 * 60 ? 0 : -1;
}

void countyd_presence_defaults(countyd_duty *d)
{
    memset(d, 0, sizeof *d);
    (void)countyd_presence_parse_hours(COUNTYD_DUTY_HOURS_DEFAULT, d, NULL);
    d->warn_percent = 80;
    d->report_gap_ms = 2 * MIN_MS;
}

int countyd_presence_parse_hours(const char *text, countyd_duty *d, sj_error *err)
{
    int from, to;
    if (!text || strlen(text) != 11 || text[5] != '-' || parse_hhmm(text, &from) != 0 ||
        parse_hhmm(text + 6, &to) != 0 || from >= to)
        return sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                            "presence.duty_hours “%s” 无效 (must be HH:MM-HH:MM, the start before "
                            "the end within one day, e.g. " COUNTYD_DUTY_HOURS_DEFAULT ")",
                            text ? text : "");
    d->from_min = from;
    d->to_min = to;
    snprintf(d->text, sizeof d->text, "%s", text);
    return 0;
}

int64_t countyd_presence_duty_s(const sj_calendar *cal, const countyd_duty *d, int32_t day)
{
    if (!sj_calendar_is_working_day(cal, day))
        return 0;
    return (int64_t)(d->to_min - d->from_min) * 60;
}

int countyd_presence_credit(const sj_calendar *cal, const countyd_duty *d, int64_t from_ms,
                            int64_t to_ms, countyd_presence_add_fn add, void *arg)
{
    if (to_ms <= from_ms)
        return 0;
    for (int32_t day = sj_clock_china_day(from_ms); day <= sj_clock_china_day(to_ms - 1); day++) {
        if (!sj_calendar_is_working_day(cal, day))
            continue;
        int64_t start = sj_clock_china_day_start_ms(day);
        int64_t lo = start + d->from_min * MIN_MS, hi = start + d->to_min * MIN_MS;
        if (lo < from_ms)
            lo = from_ms;
        if (hi > to_ms)
            hi = to_ms;
        /* Whole seconds: a report's milliseconds are no business of a day's sum. */
        if (hi / 1000 > lo / 1000) {
            int rc = add(arg, day, hi / 1000 - lo / 1000);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}
