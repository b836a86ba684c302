/*
 * bench_stats.c - `sanji-bench stats`: the period statistics
 * (server/stats.c, docs/STATISTICS.md) on a county database filled by
 * `sanji-bench gen-county`, answered on one connection as the county's
 * query worker answers a county desk, for several periods and groupings,
 * and for a township desk and a station.  Prints each question's times
 * (runs, in order) and their median; docs/PERFORMANCE.md "Period
 * statistics" holds the figures.  --live counts every question from the
 * cases (no monthly roll-up, server/stats_month.c); --compare asks each
 * question once more counted from the cases and fails unless the two
 * answers are the same in every figure.
 *
 * Entry point: bench_stats_main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "db.h"
#include "err.h"
#include "query.h"
#include "stat_period.h"
#include "stats_month.h"

#define COUNTY_UNIT BENCH_COUNTY "000000"

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The answer to q packed, its computing time cleared, in *out (freed by
 * the caller); 0 or the query's failure. */
static int packed_answer(PGconn *db, const countyd_asker *k, const Sanji__Query *q, uint8_t **out,
                         size_t *n, sj_error *err)
{
    countyd_arena a;
    countyd_arena_init(&a);
    Sanji__QueryResult res;
    int rc = countyd_query_answer(db, &a, k, NULL, q, &res, err);
    if (rc == 0 && res.code != 0)
        rc = sj_error_set(err, res.code, "refused: %s", res.reason);
    if (rc == 0) {
        res.period_statistics->computed_at_ms = 0;
        *n = sanji__period_statistics__get_packed_size(res.period_statistics);
        *out = malloc(*n ? *n : 1);
        if (!*out)
            rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        else
            sanji__period_statistics__pack(res.period_statistics, *out);
    }
    countyd_arena_free(&a);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int bench_stats_main(int argc, char **argv)
{
    const char *conninfo = NULL;
    int runs = 3;
    bool compare = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--conninfo") == 0 && i + 1 < argc)
            conninfo = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--live") == 0)
            countyd_stats_month_use(false);
        else if (strcmp(argv[i], "--compare") == 0)
            compare = true;
        else
            runs = 0; /* unknown: usage */
    }
    if (!conninfo || runs < 1 || runs > 50) {
        fprintf(stderr,
                "usage: sanji-bench stats --conninfo STR [--runs 3] [--live] [--compare]\n");
        return 2;
    }
    PGconn *db;
    sj_error err;
    if (countyd_db_connect(conninfo, &db, &err) != 0) {
        fprintf(stderr, "sanji-bench: stats: %s\n", err.message);
        return 1;
    }
    /* The newest full year, quarter and month of the data, and the
     * township and village with the most cases, from the data itself. */
    PGresult *res =
        PQexec(db, "SELECT to_char(to_timestamp(max(registered_at_ms) / 1000.0)"
                   " AT TIME ZONE 'Asia/Shanghai' - interval '1 year', 'YYYY'),"
                   " (SELECT left(village, 9) || '000' FROM cases GROUP BY 1"
                   "  ORDER BY count(*) DESC LIMIT 1),"
                   " (SELECT village FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1),"
                   " min(registered_at_ms), max(registered_at_ms) + 1, count(*) FROM cases");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        fprintf(stderr, "sanji-bench: stats: no cases (%s)\n", PQerrorMessage(db));
        PQclear(res);
        PQfinish(db);
        return 1;
    }
    char year[8], quarter[16], month[16], day[16], town[13], village[13];
    snprintf(year, sizeof year, "%s", PQgetvalue(res, 0, 0));
    snprintf(quarter, sizeof quarter, "%s-Q4", year);
    snprintf(month, sizeof month, "%s-11", year);
    snprintf(day, sizeof day, "%s-11-13", year);
    snprintf(town, sizeof town, "%.12s", PQgetvalue(res, 0, 1));
    snprintf(village, sizeof village, "%.12s", PQgetvalue(res, 0, 2));
    int64_t from = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    int64_t to = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    /* A range of its own: the year's second half, from its middle
     * millisecond on (a range need not start at midnight). */
    int64_t y0 = 0, y1 = 0, half_from, half_to;
    if (sj_stat_period_range(SJ_STAT_PERIOD_YEAR, year, &y0, &y1, &err) != 0) {
        fprintf(stderr, "sanji-bench: stats: %s\n", err.message);
        PQclear(res);
        PQfinish(db);
        return 1;
    }
    half_from = y0 + (y1 - y0) / 2;
    half_to = y1;
    printf("cases: %s; year %s, township %s, village %s\n", PQgetvalue(res, 0, 5), year, town,
           village);
    PQclear(res);

    const countyd_asker county = {SJ_NODE_ROLE_COUNTY_DESK, SJ_LEVEL_COUNTY, COUNTY_UNIT, ""};
    countyd_asker township = {SJ_NODE_ROLE_TOWNSHIP_DESK, SJ_LEVEL_TOWNSHIP, "", ""};
    countyd_asker station = {SJ_NODE_ROLE_VILLAGE, SJ_LEVEL_VILLAGE, "", ""};
    snprintf(township.unit, sizeof township.unit, "%s", town);
    snprintf(station.unit, sizeof station.unit, "%s", village);
    const struct {
        const char *name;
        const countyd_asker *k;
        Sanji__StatPeriod period;
        const char *at;
        Sanji__StatGroup group;
        bool half; /* a range: the year's second half, not all the data */
    } qs[] = {
        {"county, a day, by village", &county, SANJI__STAT_PERIOD__STAT_PERIOD_DAY, day,
         SANJI__STAT_GROUP__STAT_GROUP_VILLAGE, false},
        {"county, a month, total", &county, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, month,
         SANJI__STAT_GROUP__STAT_GROUP_NONE, false},
        {"county, a month, by township", &county, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH, month,
         SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP, false},
        {"county, a quarter, by category", &county, SANJI__STAT_PERIOD__STAT_PERIOD_QUARTER,
         quarter, SANJI__STAT_GROUP__STAT_GROUP_CATEGORY, false},
        {"county, a year, total", &county, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_NONE, false},
        {"county, a year, by township", &county, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP, false},
        {"county, a year, by village", &county, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_VILLAGE, false},
        {"county, a year, by item", &county, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_ITEM, false},
        {"county, a year, by handling", &county, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_HANDLING, false},
        {"county, a year, by department", &county, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT, false},
        {"county, a year, by category", &county, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_CATEGORY, false},
        {"county, a year, by level", &county, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_LEVEL, false},
        {"county, a range (half a year), by item", &county, SANJI__STAT_PERIOD__STAT_PERIOD_RANGE,
         NULL, SANJI__STAT_GROUP__STAT_GROUP_ITEM, true},
        {"county, all ten years, by township", &county, SANJI__STAT_PERIOD__STAT_PERIOD_RANGE, NULL,
         SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP, false},
        {"county, all ten years, total", &county, SANJI__STAT_PERIOD__STAT_PERIOD_RANGE, NULL,
         SANJI__STAT_GROUP__STAT_GROUP_NONE, false},
        {"county, all ten years, by village", &county, SANJI__STAT_PERIOD__STAT_PERIOD_RANGE, NULL,
         SANJI__STAT_GROUP__STAT_GROUP_VILLAGE, false},
        {"county, all ten years, by department", &county, SANJI__STAT_PERIOD__STAT_PERIOD_RANGE,
         NULL, SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT, false},
        {"county, all ten years, by category", &county, SANJI__STAT_PERIOD__STAT_PERIOD_RANGE, NULL,
         SANJI__STAT_GROUP__STAT_GROUP_CATEGORY, false},
        {"county, all ten years, by item", &county, SANJI__STAT_PERIOD__STAT_PERIOD_RANGE, NULL,
         SANJI__STAT_GROUP__STAT_GROUP_ITEM, false},
        {"county, all ten years, by handling", &county, SANJI__STAT_PERIOD__STAT_PERIOD_RANGE, NULL,
         SANJI__STAT_GROUP__STAT_GROUP_HANDLING, false},
        {"county, all ten years, by level", &county, SANJI__STAT_PERIOD__STAT_PERIOD_RANGE, NULL,
         SANJI__STAT_GROUP__STAT_GROUP_LEVEL, false},
        {"township desk, a year, by village", &township, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_VILLAGE, false},
        {"station, a year, total", &station, SANJI__STAT_PERIOD__STAT_PERIOD_YEAR, year,
         SANJI__STAT_GROUP__STAT_GROUP_NONE, false},
    };
    int rc = 0;
    printf("| question | registered | runs, ms | median, ms |\n|---|---:|---|---:|\n");
    for (size_t i = 0; i < sizeof qs / sizeof qs[0] && rc == 0; i++) {
        double t[50];
        uint32_t registered = 0;
        char runs_text[256] = "";
        for (int r = 0; r < runs && rc == 0; r++) {
            Sanji__PeriodStatQuery pq = SANJI__PERIOD_STAT_QUERY__INIT;
            pq.period = qs[i].period;
            pq.at = (char *)(qs[i].at ? qs[i].at : "");
            pq.from_ms = qs[i].half ? half_from : from;
            pq.to_ms = qs[i].half ? half_to : to;
            pq.group_by = qs[i].group;
            Sanji__Query q = SANJI__QUERY__INIT;
            q.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
            q.period_statistics = &pq;
            Sanji__QueryResult out;
            countyd_arena a;
            countyd_arena_init(&a);
            double t0 = mono_ms();
            rc = countyd_query_answer(db, &a, qs[i].k, NULL, &q, &out, &err);
            t[r] = mono_ms() - t0;
            if (rc == 0 && out.code != 0) {
                fprintf(stderr, "sanji-bench: stats: %s refused: %s\n", qs[i].name, out.reason);
                rc = 1;
            }
            if (rc == 0)
                registered = out.period_statistics->total->registered;
            countyd_arena_free(&a);
            size_t n = strlen(runs_text);
            snprintf(runs_text + n, sizeof runs_text - n, "%s%.0f", r ? ", " : "", t[r]);
        }
        if (rc != 0)
            break;
        const char *same = "";
        if (compare) {
            Sanji__PeriodStatQuery pq = SANJI__PERIOD_STAT_QUERY__INIT;
            pq.period = qs[i].period;
            pq.at = (char *)(qs[i].at ? qs[i].at : "");
            pq.from_ms = qs[i].half ? half_from : from;
            pq.to_ms = qs[i].half ? half_to : to;
            pq.group_by = qs[i].group;
            Sanji__Query q = SANJI__QUERY__INIT;
            q.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
            q.period_statistics = &pq;
            uint8_t *x = NULL, *y = NULL;
            size_t nx = 0, ny = 0;
            bool used = countyd_stats_month_used();
            rc = packed_answer(db, qs[i].k, &q, &x, &nx, &err);
            countyd_stats_month_use(false);
            if (rc == 0)
                rc = packed_answer(db, qs[i].k, &q, &y, &ny, &err);
            countyd_stats_month_use(used);
            if (rc == 0 && (nx != ny || memcmp(x, y, nx) != 0)) {
                fprintf(stderr, "sanji-bench: stats: %s: the roll-up's answer differs from the"
                                " cases'\n", qs[i].name);
                rc = 1;
                err.message[0] = '\0';
            }
            free(x);
            free(y);
            same = " | same as counted from the cases";
            if (rc != 0)
                break;
        }
        qsort(t, (size_t)runs, sizeof t[0], cmp_double);
        printf("| %s | %u | %s | %.0f%s |\n", qs[i].name, registered, runs_text, t[runs / 2], same);
    }
    if (rc != 0 && err.message[0])
        fprintf(stderr, "sanji-bench: stats: %s\n", err.message);
    PQfinish(db);
    return rc == 0 ? 0 : 1;
}
