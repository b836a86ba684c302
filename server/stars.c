/*
 * stars.c - station stars for a year or a quarter (see stars.h and
 * docs/STATISTICS.md "Station stars").
 *
 * The case figures come from two answers of the period statistics
 * (stats.c: grouped by village, and by village and finished handling),
 * the staffed time from station_presence (presence.c); this file only
 * applies the county's thresholds to them.
 */
#include "stars.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h" /* countyd_calendar_read() */
#include "case.h"
#include "clock.h"
#include "db.h"
#include "i18n.h"
#include "orgunit.h"
#include "refdata.h"
#include "stats.h"

static int refuse(Sanji__QueryResult *out, int code, const char *reason)
{
    out->code = code;
    out->reason = (char *)reason;
    return 0;
}

/* A rate of stats.c (0..1) at or above a percent threshold.  The rates are
 * quotients of counts, so a rate meant to equal the threshold may come out
 * a hair below it in floating point: allow that hair. */
static bool rate_at_least(double rate, uint32_t percent)
{
    return rate * 100.0 + 1e-9 >= (double)percent;
}

/* The row of key in a period statistics answer, or NULL. */
static const Sanji__PeriodStatRow *row_of(const Sanji__PeriodStatistics *s, const char *key)
{
    for (size_t i = 0; s && i < s->n_rows; i++)
        if (strcmp(s->rows[i]->key, key) == 0)
            return s->rows[i];
    return NULL;
}

/* One statistics answer for the period and unit, grouped by group. */
static int stats_of(PGconn *db, countyd_arena *a, const countyd_asker *k, const char *at,
                    bool quarter, const char *unit, int group, Sanji__QueryResult *res,
                    sj_error *err)
{
    Sanji__PeriodStatQuery pq = SANJI__PERIOD_STAT_QUERY__INIT;
    pq.period = quarter ? SANJI__STAT_PERIOD__STAT_PERIOD_QUARTER : SANJI__STAT_PERIOD__STAT_PERIOD_YEAR;
    pq.at = (char *)at;
    pq.unit = (char *)unit;
    return countyd_stats_answer_group(db, a, k, &pq, group, res, err);
}

/* Each village's staffed and duty seconds over the period's working days
 * before today: staffed from station_presence (the best of a village's
 * stations each day), duty from its rows where there are rows (the duty
 * hours as counted that day) and from the county's duty hours now
 * elsewhere. */
typedef struct presence_sum {
    int64_t duty_s, staffed_s;
} presence_sum;

static int presence_of(PGconn *db, const sj_calendar *cal, const countyd_duty *duty,
                       const char *prefix, int32_t from_day, int32_t end_day, PGresult *villages,
                       presence_sum *sums, sj_error *err)
{
    int64_t plain = 0; /* duty seconds of the working days, at today's duty hours */
    for (int32_t d = from_day; d < end_day; d++)
        plain += countyd_presence_duty_s(cal, duty, d);
    int nv = PQntuples(villages);
    for (int v = 0; v < nv; v++)
        sums[v] = (presence_sum){plain, 0};
    if (end_day <= from_day)
        return 0;
    char from_s[SJ_CLOCK_DATE_SIZE], end_s[SJ_CLOCK_DATE_SIZE];
    sj_clock_format_date(from_day, from_s);
    sj_clock_format_date(end_day, end_s);
    const char *p[] = {prefix, from_s, end_s};
    PGresult *res;
    int rc = countyd_db_query(db,
                              "SELECT org_unit, day - DATE '1970-01-01', max(duty_s), max(staffed_s)"
                              " FROM station_presence WHERE $1 <> '' AND left(org_unit, length($1)) = $1"
                              " AND day >= $2::date AND day < $3::date"
                              " GROUP BY org_unit, day ORDER BY org_unit, day",
                              3, p, &res, err);
    if (rc != 0)
        return rc;
    /* Both lists are in village code order: one walk. */
    int v = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *unit = PQgetvalue(res, r, 0);
        while (v < nv && strcmp(PQgetvalue(villages, v, 0), unit) < 0)
            v++;
        if (v == nv)
            break;
        if (strcmp(PQgetvalue(villages, v, 0), unit) != 0)
            continue; /* a village no longer in the org tree */
        /* A day counts as the calendar says now (a holiday imported after
         * the day's row was made rests). */
        int32_t day = (int32_t)strtol(PQgetvalue(res, r, 1), NULL, 10);
        if (!sj_calendar_is_working_day(cal, day))
            continue;
        sums[v].duty_s += strtoll(PQgetvalue(res, r, 2), NULL, 10) -
                          countyd_presence_duty_s(cal, duty, day);
        sums[v].staffed_s += strtoll(PQgetvalue(res, r, 3), NULL, 10);
    }
    PQclear(res);
    return 0;
}

/* The thresholds in force, sent with the rating so that a desk can say
 * what each star asks. */
static Sanji__StarThresholds *thresholds_of(countyd_arena *a, const countyd_stars_config *cfg)
{
    Sanji__StarThresholds *t = countyd_arena_alloc(a, sizeof(*t));
    sanji__star_thresholds__init(t);
    t->daiban_min = cfg->daiban_min;
    t->daiban_finish_percent = cfg->daiban_finish_percent;
    t->record_min = cfg->record_min;
    t->record_missing_max = cfg->record_missing_max;
    t->duty_percent = cfg->duty_percent;
    t->service_percent = cfg->service_percent;
    t->service_min_verdicts = cfg->service_min_verdicts;
    t->on_time_percent = cfg->on_time_percent;
    t->on_time_min_finished = cfg->on_time_min_finished;
    return t;
}

/* One station's figures and its five stars (the rules of stars.h): r its
 * case figures, h those of its 代办 (NULL: none), sum its presence.  Every
 * star needs something to rate (one case, one verdict), whatever its
 * minimum: a station with no work earns none. */
static Sanji__StarStation *rate_station(countyd_arena *a, const char *code, const char *label,
                                        const Sanji__PeriodStatRow *r,
                                        const Sanji__PeriodStatRow *h, const presence_sum *sum,
                                        const countyd_stars_config *cfg, uint32_t daiban_min)
{
    Sanji__StarStation *st = countyd_arena_alloc(a, sizeof(*st));
    sanji__star_station__init(st);
    st->unit = countyd_arena_strdup(a, code);
    st->label = countyd_arena_strdup(a, label);
    uint32_t good, bad;
    countyd_stats_verdicts(r, &good, &bad);
    st->registered = r->registered - r->withdrawn;
    st->finished = r->finished;
    st->finish_rate = r->finish_rate;
    st->daiban_finished = h ? h->finished : 0;
    st->verdicts = good + bad;
    st->missing_records = r->overdue_now + (r->finished - st->verdicts);
    st->duty_minutes = (uint32_t)(sum->duty_s / 60);
    st->staffed_minutes = (uint32_t)(sum->staffed_s / 60);
    st->satisfaction_rate = r->satisfaction_rate;
    st->on_time = r->on_time;
    st->on_time_rate = r->on_time_rate;
    st->daiban_star = st->daiban_finished >= daiban_min && st->daiban_finished > 0 &&
                      rate_at_least(r->finish_rate, cfg->daiban_finish_percent);
    st->record_star = st->registered >= cfg->record_min && st->registered > 0 &&
                      st->missing_records <= cfg->record_missing_max;
    st->duty_star = sum->duty_s > 0 &&
                    sum->staffed_s * 100 >= sum->duty_s * (int64_t)cfg->duty_percent;
    st->service_star = st->verdicts >= cfg->service_min_verdicts && st->verdicts > 0 &&
                       rate_at_least(r->satisfaction_rate, cfg->service_percent);
    st->on_time_star = r->finished >= cfg->on_time_min_finished && r->finished > 0 &&
                       rate_at_least(r->on_time_rate, cfg->on_time_percent);
    st->stars = (uint32_t)st->daiban_star + st->record_star + st->duty_star +
                st->service_star + st->on_time_star;
    return st;
}

/* The stations: every village of the scope in the org tree (*villages:
 * code, name; PQclear()), and each one's presence over the period's
 * working days before today (*sums, one per village, in the arena). */
static int stations_of(PGconn *db, countyd_arena *a, const countyd_duty *duty, const char *unit,
                       const Sanji__PeriodStatistics *sv, PGresult **villages_out,
                       presence_sum **sums_out, sj_error *err)
{
    char prefix[13];
    countyd_scope_prefix(unit, prefix);
    const char *p[] = {prefix};
    PGresult *villages;
    int rc;
    if ((rc = countyd_db_query(db,
                               "SELECT code, name FROM org_unit WHERE $1 <> ''"
                               " AND left(code, length($1)) = $1 AND level = 1 ORDER BY code",
                               1, p, &villages, err)) != 0)
        return rc;
    sj_calendar *cal;
    if ((rc = countyd_calendar_read(db, &cal, err)) != 0) {
        PQclear(villages);
        return rc;
    }
    int nv = PQntuples(villages);
    presence_sum *sums = countyd_arena_alloc(a, ((size_t)nv + 1) * sizeof(*sums));
    int32_t from_day = sj_clock_china_day(sv->from_ms), end_day = sj_clock_china_day(sv->to_ms);
    int32_t today = sj_clock_china_day(sj_clock_real_ms());
    if (end_day > today)
        end_day = today;
    rc = presence_of(db, cal, duty, prefix, from_day, end_day, villages, sums, err);
    sj_calendar_free(cal);
    if (rc != 0) {
        PQclear(villages);
        return rc;
    }
    *villages_out = villages;
    *sums_out = sums;
    return 0;
}

/* The rating of every station of the scope (villages: code, name; sums:
 * each one's presence) from the period's figures by village (sv) and by
 * village and handling (sh). */
static Sanji__StarRating *rating_of(countyd_arena *a, const Sanji__StarQuery *q,
                                    const countyd_stars_config *cfg, const char *unit,
                                    const Sanji__PeriodStatistics *sv,
                                    const Sanji__PeriodStatistics *sh, const PGresult *villages,
                                    const presence_sum *sums)
{
    int nv = PQntuples(villages);
    Sanji__StarRating *sr = countyd_arena_alloc(a, sizeof(*sr));
    sanji__star_rating__init(sr);
    sr->year = q->year;
    sr->quarter = q->quarter;
    sr->from_ms = sv->from_ms;
    sr->to_ms = sv->to_ms;
    sr->scope = countyd_arena_strdup(a, unit);
    sr->computed_at_ms = sj_clock_real_ms();
    sr->thresholds = thresholds_of(a, cfg);
    /* A quarter's count threshold; a year has four quarters. */
    uint32_t daiban_min = q->quarter ? cfg->daiban_min : cfg->daiban_min * 4;
    sr->stations = countyd_arena_alloc(a, ((size_t)nv + 1) * sizeof(*sr->stations));
    static const Sanji__PeriodStatRow none = SANJI__PERIOD_STAT_ROW__INIT;
    for (int v = 0; v < nv; v++) {
        const char *code = PQgetvalue(villages, v, 0);
        const Sanji__PeriodStatRow *r = row_of(sv, code);
        char key[32];
        snprintf(key, sizeof key, "%s:%d", code, (int)SJ_HANDLING_ON_BEHALF);
        Sanji__StarStation *st = rate_station(a, code, PQgetvalue(villages, v, 1), r ? r : &none,
                                              row_of(sh, key), &sums[v], cfg, daiban_min);
        sr->stations[sr->n_stations++] = st;
    }
    return sr;
}

int countyd_stars_answer(PGconn *db, countyd_arena *a, const countyd_asker *k,
                         const countyd_stars_config *cfg, const countyd_duty *duty,
                         const Sanji__StarQuery *q, Sanji__QueryResult *out, sj_error *err)
{
    countyd_stars_config dcfg;
    countyd_duty dduty;
    if (!cfg) {
        countyd_stars_defaults(&dcfg);
        cfg = &dcfg;
    }
    if (!duty) {
        countyd_presence_defaults(&dduty);
        duty = &dduty;
    }
    if (q->year < 1970 || q->year > 9999 || q->quarter > 4)
        return refuse(out, SJ_EINVAL,
                      _("Give a year (e.g. 2026) and, for a quarter, its number 1 to 4."));
    if (k->role == SJ_NODE_ROLE_DEPARTMENT_DESK)
        return refuse(out, SJ_ESCOPE,
                      _("Station stars are kept for the county, the townships and the stations "
                        "themselves; a department desk has no stations."));
    const char *unit = k->unit;
    if (q->unit && *q->unit) {
        if (!sj_orgunit_contains(k->unit, q->unit))
            return refuse(out, SJ_ESCOPE,
                          _("That unit is outside your scope; statistics cover your own units "
                            "only."));
        unit = q->unit;
    }
    char at[16];
    if (q->quarter)
        snprintf(at, sizeof at, "%u-Q%u", (unsigned)q->year, (unsigned)q->quarter);
    else
        snprintf(at, sizeof at, "%u", (unsigned)q->year);
    /* The case figures, by village and by village and handling. */
    Sanji__QueryResult by_village, by_handling;
    sanji__query_result__init(&by_village);
    sanji__query_result__init(&by_handling);
    int rc = stats_of(db, a, k, at, q->quarter != 0, unit, SANJI__STAT_GROUP__STAT_GROUP_VILLAGE,
                      &by_village, err);
    if (rc == 0 && by_village.code == 0)
        rc = stats_of(db, a, k, at, q->quarter != 0, unit, COUNTYD_STATS_GROUP_VILLAGE_HANDLING,
                      &by_handling, err);
    if (rc != 0)
        return rc;
    if (by_village.code != 0 || by_handling.code != 0) {
        const Sanji__QueryResult *bad = by_village.code ? &by_village : &by_handling;
        return refuse(out, bad->code, bad->reason);
    }
    const Sanji__PeriodStatistics *sv = by_village.period_statistics;
    const Sanji__PeriodStatistics *sh = by_handling.period_statistics;
    PGresult *villages;
    presence_sum *sums;
    if ((rc = stations_of(db, a, duty, unit, sv, &villages, &sums, err)) != 0)
        return rc;
    out->result_case = SANJI__QUERY_RESULT__RESULT_STARS;
    out->stars = rating_of(a, q, cfg, unit, sv, sh, villages, sums);
    PQclear(villages);
    return 0;
}
