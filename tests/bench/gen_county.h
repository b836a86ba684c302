/*
 * gen_county.h - fills a county database with years of realistic cases,
 * for the search benchmark (`sanji-bench gen-county`, `sanji-bench search`)
 * and the desk's county-scale test (tests/desk/test_desk_search.c).
 *
 * Every case lives its life through the real state machine (common/domain/case.h)
 * from its registration time: most are finished at once at the village,
 * others are carried to the township or the county, some wait for missing
 * materials, a few are returned or withdrawn, and the villager's feedback
 * closes them (mostly satisfied, a few unsatisfied followed up by the
 * resolver).  A step that would fall after "now" is not taken, so recent
 * cases are open at every stage; an active case past its due time (the
 * working-day calendar of deploy/demo/holidays.csv) is flagged overdue by
 * the system at its due time, and some of those are urged and supervised
 * by the county.  Registrations grow over the years, on working hours.
 * Applicants, ID numbers, phones and request texts come from
 * tests/lib/workload.c; villages, their cadres, township staff, county
 * operators and the catalogue from the database (the demo county loaded
 * by `sanji-countyd demo-load`; the benchmark's own 9xx townships are
 * left out).
 *
 * The rows go in with COPY (cases, then their history), set-based SQL
 * makes the feed, the feed counters and the case-number counters after
 * them, so that the county serves the generated cases like any other.  The
 * search indexes of `cases` are dropped during the load and made again
 * after it (faster than keeping them up row by row).  The same seed gives
 * the same county.
 *
 * Errors: 0, or SJ_EDB / SJ_EDB_CONN / SJ_EINVAL / SJ_EIO / SJ_ENOMEM with
 * err saying what failed.
 *
 * Entry points: gen_county_fill().
 */
#ifndef SJ_GEN_COUNTY_H
#define SJ_GEN_COUNTY_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef struct gen_county_opts {
    uint64_t cases;       /* how many cases to add */
    int years;            /* registered over this many years before now */
    uint64_t seed;
    int64_t now_ms;       /* "now" (0: the real time) */
    const char *demo_dir; /* NULL: $SANJI_SOURCE_DIR/deploy/demo */
    const char *village;  /* all cases in this village (NULL: spread over the county) */
    bool quiet;           /* no progress on stderr */
} gen_county_opts;

typedef struct gen_county_result {
    uint64_t cases, events;
    uint64_t open, overdue, supervised, closed;
    double secs;
} gen_county_result;

int gen_county_fill(const char *conninfo, const gen_county_opts *o, gen_county_result *r,
                    sj_error *err);

#endif
