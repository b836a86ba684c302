/*
 * presence.h - each village station's presence during its duty hours, day
 * by day (docs/SERVER.md "Station presence").
 *
 * A station reports upward whether someone is logged in there
 * (NodeStatus.logged_in); its relay passes that on with whether the
 * station is linked (StationStatus.connected, logged_in).  Every relay
 * status the county stores is one observation per station: the state
 * observed holds from then until the next observation, but for at most
 * presence.report_gap (a relay that falls silent proves nothing about
 * its stations).  The time a state held is counted only inside the duty
 * hours (presence.duty_hours) of working days of the county calendar,
 * split by China day, into station_presence: online (linked) and staffed
 * (linked with someone logged in) seconds per station and day, with the
 * day's duty seconds.  The network view and the 值班星 read it.
 *
 * Entry points: countyd_presence_defaults(), countyd_presence_parse_hours(), countyd_presence_duty_s(),
 * countyd_presence_credit(), countyd_presence_note(),
 * countyd_presence_fill().
 */
#ifndef COUNTYD_PRESENCE_H
#define COUNTYD_PRESENCE_H

#include <libpq-fe.h>
#include <stdint.h>

#include "arena.h"
#include "calendar.h"
#include "err.h"
#include "sanji.pb-c.h"

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

/* One relay status (st, from the relay of relay_unit) observed at now_ms:
 * credits each of its village stations' previous state up to now and
 * keeps the new one.  One transaction.  Returns 0 or SJ_EDB*. */
int countyd_presence_note(PGconn *db, const sj_calendar *cal, const countyd_duty *d,
                          const char *relay_unit, const Sanji__NodeStatus *st, int64_t now_ms,
                          sj_error *err);

/* Fills StationStatus.presence of every station of ns (today and the last
 * working day before it, as of now_ms) and ns's duty_hours and
 * staffed_warn_percent.  Arena storage.  Returns 0 or SJ_EDB*. */
int countyd_presence_fill(PGconn *db, countyd_arena *a, const sj_calendar *cal,
                          const countyd_duty *d, Sanji__NetworkStatus *ns, int64_t now_ms,
                          sj_error *err);

#endif
