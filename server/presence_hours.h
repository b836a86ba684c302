/*
 * presence_hours.h - the village stations' duty hours (presence.duty_hours)
 * and the calendar arithmetic on them: which seconds of a span fall in duty
 * hours of working days.  No database: the configuration reader and its
 * fuzz target use it without libpq (presence.h keeps the records).
 *
 * Entry points: countyd_presence_defaults(), countyd_presence_parse_hours(),
 * countyd_presence_duty_s(), countyd_presence_credit().
 */
#ifndef COUNTYD_PRESENCE_HOURS_H
#define COUNTYD_PRESENCE_HOURS_H

#include <stdint.h>

#include "calendar.h"
#include "err.h"

/* The county's duty hours: minutes after midnight, China time. */
typedef struct countyd_duty {
    int from_min, to_min;     /* from < to */
    int64_t report_gap_ms;    /* an observation counts for at most this long */
    uint32_t warn_percent;    /* presence.staffed_warn_percent */
    char text[16];            /* "08:30-17:30" as configured */
} countyd_duty;

/* The default duty hours (presence.duty_hours's default). */
#define COUNTYD_DUTY_HOURS_DEFAULT "08:30-17:30"

/* The defaults of the presence.* keys (for a server run without a file). */
void countyd_presence_defaults(countyd_duty *d);

/* Parses "HH:MM-HH:MM" (from before to, within one day) into d's hours.
 * Returns 0 or SJ_ECONFIG_BAD_VALUE. */
int countyd_presence_parse_hours(const char *text, countyd_duty *d, sj_error *err);

/* The duty seconds of China day `day` (0 on a day off). */
int64_t countyd_presence_duty_s(const sj_calendar *cal, const countyd_duty *d, int32_t day);

/* Calls add(day, seconds) for each China day [from_ms, to_ms) overlaps
 * the duty hours of, with the overlap; stops at the first non-zero
 * return and returns it. */
typedef int (*countyd_presence_add_fn)(void *arg, int32_t day, int64_t seconds);
int countyd_presence_credit(const sj_calendar *cal, const countyd_duty *d, int64_t from_ms,
                            int64_t to_ms, countyd_presence_add_fn add, void *arg);

#endif
