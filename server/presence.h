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
 * Entry points: countyd_presence_note(), countyd_presence_fill(); the duty
 * hours themselves are presence_hours.h's.
 */
#ifndef COUNTYD_PRESENCE_H
#define COUNTYD_PRESENCE_H

#include <libpq-fe.h>
#include <stdint.h>

#include "arena.h"
#include "calendar.h"
#include "err.h"
#include "presence_hours.h"
#include "sanji.pb-c.h"

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
