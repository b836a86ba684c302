/*
 * presence.c - each village station's online and staffed time during its
 * duty hours, per day, from its relay's reports (see presence.h).
 */
#include "presence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "identity.h"
#include "orgunit.h"

#define MIN_MS INT64_C(60000)

typedef struct credit_ctx {
    PGconn *db;
    const sj_calendar *cal;
    const countyd_duty *d;
    const char *node, *unit;
    bool online, staffed;
    sj_error *err;
} credit_ctx;

/* Adds seconds to one station's day (the row made when missing, with the
 * day's duty seconds as the county counts them now). */
static int add_day(credit_ctx *c, int32_t day, int64_t online_s, int64_t staffed_s)
{
    char date[SJ_CLOCK_DATE_SIZE], duty[24], on[24], st[24];
    sj_clock_format_date(day, date);
    snprintf(duty, sizeof duty, "%" PRId64, countyd_presence_duty_s(c->cal, c->d, day));
    snprintf(on, sizeof on, "%" PRId64, online_s);
    snprintf(st, sizeof st, "%" PRId64, staffed_s);
    const char *p[] = {c->node, c->unit, date, duty, on, st};
    return countyd_db_exec(c->db,
                           "INSERT INTO station_presence (node, org_unit, day, duty_s, online_s,"
                           " staffed_s) VALUES ($1, $2, $3, $4, $5, $6)"
                           " ON CONFLICT (node, day) DO UPDATE SET"
                           " online_s = station_presence.online_s + excluded.online_s,"
                           " staffed_s = station_presence.staffed_s + excluded.staffed_s",
                           6, p, c->err);
}

static int credit_cb(void *arg, int32_t day, int64_t seconds)
{
    credit_ctx *c = arg;
    return add_day(c, day, c->online ? seconds : 0, c->staffed ? seconds : 0);
}

/* One station of a relay's status. */
static int note_station(PGconn *db, const sj_calendar *cal, const countyd_duty *d,
                        const char *relay_unit, const Sanji__StationStatus *ss, int64_t now,
                        sj_error *err)
{
    sj_identity who;
    if (!ss->node || sj_identity_parse_node_id(ss->node, &who, NULL) != 0 ||
        who.role != SJ_NODE_ROLE_VILLAGE || !sj_orgunit_contains(relay_unit, who.unit))
        return 0; /* desks have no duty hours; a relay speaks only for its township */
    PGresult *res;
    const char *p1[] = {ss->node};
    int rc = countyd_db_query(db,
                              "SELECT observed_ms, online, staffed FROM station_presence_state"
                              " WHERE node = $1 FOR UPDATE",
                              1, p1, &res, err);
    if (rc != 0)
        return rc;
    credit_ctx c = {db, cal, d, ss->node, who.unit, false, false, err};
    if (PQntuples(res) == 1) {
        int64_t prev = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        c.online = PQgetvalue(res, 0, 1)[0] == 't';
        c.staffed = PQgetvalue(res, 0, 2)[0] == 't';
        int64_t end = now < prev + d->report_gap_ms ? now : prev + d->report_gap_ms;
        if (c.online || c.staffed)
            rc = countyd_presence_credit(cal, d, prev, end, credit_cb, &c);
    }
    PQclear(res);
    /* Today's row exists from the first report of the day, so that a
     * station reported offline all day shows 0 rather than nothing. */
    if (rc == 0)
        rc = add_day(&c, sj_clock_china_day(now), 0, 0);
    if (rc != 0)
        return rc;
    bool online = ss->connected, staffed = ss->connected && ss->logged_in > 0;
    char now_s[24], n_in[16], last[24];
    snprintf(now_s, sizeof now_s, "%" PRId64, now);
    snprintf(n_in, sizeof n_in, "%" PRIu32, ss->logged_in > INT32_MAX ? INT32_MAX : ss->logged_in);
    snprintf(last, sizeof last, "%" PRId64, ss->last_login_ms);
    const char *p2[] = {ss->node, who.unit, now_s, online ? "t" : "f", staffed ? "t" : "f", n_in,
                        last};
    return countyd_db_exec(db,
                           "INSERT INTO station_presence_state (node, org_unit, observed_ms, online,"
                           " staffed, logged_in, last_login_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                           " ON CONFLICT (node) DO UPDATE SET org_unit = excluded.org_unit,"
                           " observed_ms = excluded.observed_ms, online = excluded.online,"
                           " staffed = excluded.staffed, logged_in = excluded.logged_in,"
                           " last_login_ms = excluded.last_login_ms",
                           7, p2, err);
}

int countyd_presence_note(PGconn *db, const sj_calendar *cal, const countyd_duty *d,
                          const char *relay_unit, const Sanji__NodeStatus *st, int64_t now_ms,
                          sj_error *err)
{
    int rc = countyd_db_exec(db, "BEGIN", 0, NULL, err);
    for (size_t i = 0; rc == 0 && i < st->n_stations; i++)
        rc = note_station(db, cal, d, relay_unit, st->stations[i], now_ms, err);
    return countyd_db_end(db, rc, err);
}

/* The last working day before day (at most a month back; -1 if none). */
static int32_t previous_working_day(const sj_calendar *cal, int32_t day)
{
    for (int32_t d = day - 1; d > day - 32; d--)
        if (sj_calendar_is_working_day(cal, d))
            return d;
    return -1;
}

int countyd_presence_fill(PGconn *db, countyd_arena *a, const sj_calendar *cal,
                          const countyd_duty *d, Sanji__NetworkStatus *ns, int64_t now_ms,
                          sj_error *err)
{
    ns->duty_hours = countyd_arena_strdup(a, d->text);
    ns->staffed_warn_percent = d->warn_percent;
    int32_t today = sj_clock_china_day(now_ms), before = previous_working_day(cal, today);
    char t[SJ_CLOCK_DATE_SIZE], b[SJ_CLOCK_DATE_SIZE];
    sj_clock_format_date(today, t);
    sj_clock_format_date(before >= 0 ? before : today, b);
    const char *p[] = {t, b};
    PGresult *res;
    int rc = countyd_db_query(db,
                              "SELECT node, day::text, duty_s, online_s, staffed_s"
                              " FROM station_presence WHERE day IN ($1, $2) ORDER BY node, day DESC",
                              2, p, &res, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < ns->n_nodes; i++)
        for (size_t j = 0; j < ns->nodes[i]->n_stations; j++) {
            Sanji__StationStatus *s = ns->nodes[i]->stations[j];
            if (!s->node || !*s->node)
                continue;
            size_t n = 0;
            for (int r = 0; r < PQntuples(res); r++)
                n += strcmp(PQgetvalue(res, r, 0), s->node) == 0;
            if (n == 0)
                continue;
            s->presence = countyd_arena_alloc(a, n * sizeof(*s->presence));
            s->n_presence = 0;
            for (int r = 0; r < PQntuples(res); r++) {
                if (strcmp(PQgetvalue(res, r, 0), s->node) != 0)
                    continue;
                Sanji__PresenceDay *pd = countyd_arena_alloc(a, sizeof(*pd));
                sanji__presence_day__init(pd);
                pd->day = countyd_arena_strdup(a, PQgetvalue(res, r, 1));
                pd->duty_minutes = (uint32_t)(strtoll(PQgetvalue(res, r, 2), NULL, 10) / 60);
                pd->online_minutes = (uint32_t)(strtoll(PQgetvalue(res, r, 3), NULL, 10) / 60);
                pd->staffed_minutes = (uint32_t)(strtoll(PQgetvalue(res, r, 4), NULL, 10) / 60);
                s->presence[s->n_presence++] = pd;
            }
        }
    PQclear(res);
    return 0;
}
