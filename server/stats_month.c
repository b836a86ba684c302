/*
 * stats_month.c - the period statistics' monthly roll-up (migration 0018,
 * stats_month.h, docs/STATISTICS.md "Answering"): which full months a
 * question covers, and the counting of a month's cases into stats_month.
 *
 * A month is counted while its advisory lock is held exclusively: every
 * statement writing cases takes it shared for the months of the rows it
 * wrote (migration 0018's trigger), to the end of its transaction.  So no
 * change to the month's cases is in flight while it is counted: one
 * committed before is counted, one after marks the month again.  The
 * counting holds one month's lock at a time and waits for nothing else
 * while holding it, so it cannot take part in a deadlock.
 *
 * Entry points: countyd_stats_month_of(), countyd_stats_month_start_ms(),
 * countyd_stats_full_months(), countyd_stats_month_refresh(),
 * countyd_stats_month_use().
 */
#include "stats_month.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "db.h"
#include "sanji.pb-c.h"

/* The advisory lock of a month: ("STat", month), as migration 0018; of a
 * year's histograms: ("STyr", year), taken by their builders only. */
#define MONTH_LOCK_KEY "1398043745"
#define YEAR_LOCK_KEY  "1398044018"

static bool month_use = true;

void countyd_stats_month_use(bool on)
{
    month_use = on;
}

bool countyd_stats_month_used(void)
{
    return month_use;
}

int32_t countyd_stats_month_of(int64_t ms)
{
    int y, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(ms), &y, &m, &d);
    return (int32_t)((y - 1970) * 12 + m - 1);
}

int64_t countyd_stats_month_start_ms(int32_t month)
{
    /* floor division: months before 1970 are negative */
    int32_t y = month >= 0 ? month / 12 : -((-month + 11) / 12);
    int32_t m = month - y * 12;
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(1970 + y, m + 1, 1));
}

void countyd_stats_full_years(int32_t m_lo, int32_t m_hi, int32_t *y_lo, int32_t *y_hi)
{
    *y_lo = *y_hi = 0;
    if (m_lo < 0 || m_lo >= m_hi)
        return; /* no case was registered before 1970 */
    *y_lo = (m_lo + 11) / 12;
    *y_hi = m_hi / 12;
    if (*y_hi < *y_lo)
        *y_hi = *y_lo;
}

bool countyd_stats_full_months(int64_t from, int64_t to, int64_t now, int32_t *m_lo, int32_t *m_hi)
{
    int32_t lo = countyd_stats_month_of(from);
    if (countyd_stats_month_start_ms(lo) < from)
        lo++;
    int32_t hi = countyd_stats_month_of(to); /* its start is <= to */
    /* This month's cases change all day: counted live, and so is the month
     * before on the first day of this one.  A write marks its month only
     * once that month has ended (migration 0018's trigger), so a month is
     * kept only when every transaction that wrote it unmarked, while it
     * was going on, has long committed. */
    int32_t current = countyd_stats_month_of(now - COUNTYD_STATS_MONTH_SETTLE_MS);
    if (hi > current)
        hi = current;
    *m_lo = lo;
    *m_hi = hi;
    return lo < hi;
}

/* The groupings kept in stats_month (stats.c countyd_stats_stored_group()). */
static const int stored[] = {
    SANJI__STAT_GROUP__STAT_GROUP_NONE,    SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP,
    SANJI__STAT_GROUP__STAT_GROUP_VILLAGE, SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT,
    SANJI__STAT_GROUP__STAT_GROUP_ITEM,    SANJI__STAT_GROUP__STAT_GROUP_HANDLING,
    SANJI__STAT_GROUP__STAT_GROUP_LEVEL,
};

/* Counts month m (its lock held): its dirty mark and old rows removed, its
 * rows of every stored grouping written, its state set to this calendar.
 * The working days as a question for that month alone counts them: from
 * the day before the month to the day after now. */
static int count_month(PGconn *db, const sj_calendar *cal, const char *fp, int32_t m, sj_error *err)
{
    int32_t base = sj_clock_china_day(countyd_stats_month_start_ms(m)) - 2;
    int32_t end_day = sj_clock_china_day(sj_clock_real_ms()) + 1;
    int32_t next = sj_clock_china_day(countyd_stats_month_start_ms(m + 1)) + 1;
    if (end_day < next)
        end_day = next;
    char *days = NULL;
    int rc = countyd_stats_working_days(cal, base, end_day, &days, err);
    if (rc != 0)
        return rc;
    char m_s[16], base_s[16], grp_s[8];
    snprintf(m_s, sizeof m_s, "%" PRId32, m);
    snprintf(base_s, sizeof base_s, "%" PRId32, base);
    const char *p1[] = {m_s};
    const char *pstate[] = {m_s, fp};
    rc = countyd_db_exec(db, "BEGIN", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "SET LOCAL jit = off", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "SET LOCAL work_mem = '64MB'", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "SET LOCAL plan_cache_mode = force_custom_plan", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "DELETE FROM stats_month_dirty WHERE month = $1::int", 1, p1, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "DELETE FROM stats_month WHERE month = $1::int", 1, p1, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "DELETE FROM stats_month_wd WHERE month = $1::int", 1, p1, err);
    char sql[8192];
    for (size_t i = 0; rc == 0 && i < sizeof stored / sizeof stored[0]; i++) {
        if (!countyd_stats_month_sql(stored[i], sql, sizeof sql))
            abort(); /* stored[] and stats.c disagree: a broken build */
        snprintf(grp_s, sizeof grp_s, "%d", stored[i]);
        const char *p[] = {m_s, grp_s, base_s, days};
        rc = countyd_db_exec(db, sql, 4, p, err);
    }
    if (rc == 0)
        rc = countyd_db_exec(db,
                             "INSERT INTO stats_month_state (month, calendar)"
                             " VALUES ($1::int, $2::bigint) ON CONFLICT (month) DO UPDATE"
                             " SET calendar = excluded.calendar, counted_at = now(),"
                             " gen = nextval('stats_month_gen')",
                             2, pstate, err);
    rc = countyd_db_end(db, rc, err);
    free(days);
    return rc;
}

static int count_months(PGconn *db, const sj_calendar *cal, int32_t m_lo, int32_t m_hi,
                        int *counted, sj_error *err);
static int add_up_years(PGconn *db, const sj_calendar *cal, int32_t m_lo, int32_t m_hi,
                        sj_error *err);

int countyd_stats_month_refresh(PGconn *db, const sj_calendar *cal, int32_t m_lo, int32_t m_hi,
                                int *counted, sj_error *err)
{
    if (counted)
        *counted = 0;
    if (m_lo >= m_hi)
        return 0;
    int rc = count_months(db, cal, m_lo, m_hi, counted, err);
    if (rc == 0)
        rc = add_up_years(db, cal, m_lo, m_hi, err);
    return rc;
}

/* A year's histograms from its twelve months, in one statement (one
 * snapshot: the months' rows and their counts' numbers agree), when all
 * twelve are kept; the year's state gets those numbers. */
static const char YEAR_SQL[] =
    "WITH g AS (SELECT array_agg(s.gen ORDER BY s.month) AS gens FROM stats_month_state s"
    "  WHERE s.month >= $1::int * 12 AND s.month < $1::int * 12 + 12 AND s.calendar = $2::bigint"
    "  HAVING count(*) = 12 AND NOT EXISTS (SELECT 1 FROM stats_month_dirty d"
    "   WHERE d.month >= $1::int * 12 AND d.month < $1::int * 12 + 12)),"
    " del AS (DELETE FROM stats_year_wd WHERE year = $1::int AND EXISTS (SELECT 1 FROM g)),"
    " ins AS (INSERT INTO stats_year_wd (year, grp, k, wd, n)"
    "  SELECT $1::int, w.grp, w.k, w.wd, sum(w.n) FROM stats_month_wd w"
    "  WHERE w.month >= $1::int * 12 AND w.month < $1::int * 12 + 12 AND EXISTS (SELECT 1 FROM g)"
    "  GROUP BY w.grp, w.k, w.wd)"
    " INSERT INTO stats_year_state (year, calendar, gens) SELECT $1::int, $2::bigint, g.gens FROM g"
    " ON CONFLICT (year) DO UPDATE SET calendar = excluded.calendar, gens = excluded.gens";

/* The full years of [m_lo, m_hi) whose histograms are not those of their
 * months as kept now: added up again, each in its own transaction under
 * the year's lock (two builders never write one year's rows at once). */
static int add_up_years(PGconn *db, const sj_calendar *cal, int32_t m_lo, int32_t m_hi,
                        sj_error *err)
{
    int32_t y_lo, y_hi;
    countyd_stats_full_years(m_lo, m_hi, &y_lo, &y_hi);
    if (y_lo >= y_hi)
        return 0;
    char lo_s[16], hi_s[16], fp[24];
    snprintf(lo_s, sizeof lo_s, "%" PRId32, y_lo);
    snprintf(hi_s, sizeof hi_s, "%" PRId32, y_hi);
    snprintf(fp, sizeof fp, "%" PRId64, (int64_t)sj_calendar_fingerprint(cal));
    const char *p[] = {lo_s, hi_s, fp};
    PGresult *res = NULL;
    int rc = countyd_db_query(
        db,
        "SELECT y FROM generate_series($1::int, $2::int - 1) y WHERE NOT EXISTS (SELECT 1"
        "  FROM stats_year_state t WHERE t.year = y AND t.calendar = $3::bigint"
        "  AND t.gens = (SELECT array_agg(s.gen ORDER BY s.month) FROM stats_month_state s"
        "   WHERE s.month >= y * 12 AND s.month < y * 12 + 12 AND s.calendar = $3::bigint))"
        " ORDER BY y",
        3, p, &res, err);
    if (rc != 0)
        return rc;
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        const char *py[] = {PQgetvalue(res, r, 0), fp};
        rc = countyd_db_exec(db, "BEGIN", 0, NULL, err);
        if (rc == 0)
            rc = countyd_db_exec(db, "SELECT pg_advisory_xact_lock(" YEAR_LOCK_KEY ", $1::int)", 1,
                                 py, err);
        if (rc == 0)
            rc = countyd_db_exec(db, YEAR_SQL, 2, py, err);
        rc = countyd_db_end(db, rc, err);
    }
    PQclear(res);
    return rc;
}

/* The months of [m_lo, m_hi) not kept, counted (countyd_stats_month_refresh()). */
static int count_months(PGconn *db, const sj_calendar *cal, int32_t m_lo, int32_t m_hi,
                        int *counted, sj_error *err)
{
    char lo_s[16], hi_s[16], fp[24];
    snprintf(lo_s, sizeof lo_s, "%" PRId32, m_lo);
    snprintf(hi_s, sizeof hi_s, "%" PRId32, m_hi);
    snprintf(fp, sizeof fp, "%" PRId64, (int64_t)sj_calendar_fingerprint(cal));
    const char *p[] = {lo_s, hi_s, fp};
    PGresult *res = NULL;
    int rc = countyd_db_query(
        db,
        "SELECT m FROM generate_series($1::int, $2::int - 1) m"
        " WHERE NOT EXISTS (SELECT 1 FROM stats_month_state s WHERE s.month = m"
        "   AND s.calendar = $3::bigint)"
        "  OR EXISTS (SELECT 1 FROM stats_month_dirty d WHERE d.month = m) ORDER BY m",
        3, p, &res, err);
    if (rc != 0)
        return rc;
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        const char *lock[] = {PQgetvalue(res, r, 0)};
        int32_t m = (int32_t)strtol(lock[0], NULL, 10);
        rc = countyd_db_exec(db, "SELECT pg_advisory_lock(" MONTH_LOCK_KEY ", $1::int)", 1, lock,
                             err);
        if (rc != 0)
            break;
        rc = count_month(db, cal, fp, m, err);
        sj_error uerr;
        int urc = countyd_db_exec(db, "SELECT pg_advisory_unlock(" MONTH_LOCK_KEY ", $1::int)", 1,
                                  lock, &uerr);
        if (rc == 0 && urc != 0) {
            rc = urc;
            *err = uerr;
        }
        if (rc == 0 && counted)
            (*counted)++;
    }
    PQclear(res);
    return rc;
}
