/*
 * stats.c - period statistics from PostgreSQL (see stats.h and
 * docs/STATISTICS.md, which defines every figure computed here).
 *
 * One statement answers a question: the cases registered in the period
 * and the scope from the covering index of migration 0010, each case's few
 * events a figure needs by one index-only lookup in that migration's
 * partial event index, its working days from a running count the county's
 * calendar makes (countyd_stats_working_days()), and an aggregation per
 * key and working-day count that the rows and the total are added up
 * from.  The county's questions over full past months take those months'
 * aggregation from the monthly roll-up instead (migration 0018,
 * stats_month.c counts them with countyd_stats_month_sql()).  Only this
 * file's fixed texts are put into the statement; every value is a
 * parameter.
 *
 * Entry points: countyd_stats_answer(), countyd_stats_answer_group(),
 * countyd_stats_verdicts(); for stats_month.c countyd_stats_stored_group(),
 * countyd_stats_month_sql(), countyd_stats_working_days().
 */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h" /* countyd_calendar_read() */
#include "calendar.h"
#include "case.h"
#include "case_search.h"
#include "clock.h"
#include "db.h"
#include "i18n.h"
#include "orgunit.h"
#include "stat_period.h"
#include "stats_month.h"

/* The group key and its label, per StatGroup.  key_sql is the key of a
 * case (c, with the catalogue item i joined when join is set); label_sql
 * names it from the reference tables ("''" where the label comes from
 * label_of() below). */
/* A case's handling once finished, 0 while it is not (the handling group;
 * the star rating's 代办 count per village, stars.c). */
#define FINISHED_HANDLING_SQL "(CASE WHEN c.status IN (7, 8, 9, 10) THEN c.handling ELSE 0 END)"
static const struct {
    const char *key_sql;
    bool join_item;
    const char *label_sql;
} groups[] = {
    [SANJI__STAT_GROUP__STAT_GROUP_NONE] = {"''::text", false, "''"},
    [SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP] =
        {"left(c.village, 9) || '000'", false,
         "coalesce((SELECT o.name FROM org_unit o WHERE o.code = g.k::char(12)), '')"},
    [SANJI__STAT_GROUP__STAT_GROUP_VILLAGE] =
        {"c.village::text", false,
         "coalesce((SELECT o.name FROM org_unit o WHERE o.code = g.k::char(12)), '')"},
    [SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT] =
        {"c.department_code", false,
         "coalesce((SELECT d.name FROM department d WHERE d.code = g.k), '')"},
    [SANJI__STAT_GROUP__STAT_GROUP_CATEGORY] =
        {"coalesce(i.category, '')", true,
         "coalesce((SELECT n.name FROM catalogue_category n WHERE n.code = g.k), '')"},
    [SANJI__STAT_GROUP__STAT_GROUP_ITEM] =
        {"c.item_code", false,
         "coalesce((SELECT i.name FROM catalogue_item i WHERE i.code = g.k), '')"},
    [SANJI__STAT_GROUP__STAT_GROUP_HANDLING] = {FINISHED_HANDLING_SQL "::text", false, "''"},
    [SANJI__STAT_GROUP__STAT_GROUP_LEVEL] =
        {"(CASE WHEN c.status IN (7, 8, 9, 10) THEN c.resolved_level ELSE 0 END)::text", false,
         "''"},
    [COUNTYD_STATS_GROUP_VILLAGE_HANDLING] =
        {"c.village::text || ':' || " FINISHED_HANDLING_SQL, false, "''"},
};

/* The statement, in parts around the key and its join, the scope
 * conditions and the label.
 *
 * 好差评: the good/bad classification of a satisfaction is case.h's
 * SJ_SATISFACTION_GOOD_SQL / SJ_SATISFACTION_BAD_SQL, the same as
 * sj_satisfaction_is_good() / _is_bad(); migration 0014's index predicate
 * spells the bad one out word for word.
 *
 * Statuses: 7 resolved, 8 returned, 9 unsatisfied (waiting for follow-up),
 * 10 closed are finished; 11 withdrawn; the rest open.  The figures of a
 * case's history (when a 2 resolve at once, 8 resolve or 9 return undoable
 * last finished it, its repeated material requests, its extensions asked
 * (23) and approved (24), whether a feedback (12) was 不满意 or a 差评) are
 * columns of the case, kept by the apply path with each event (migration
 * 0017): a case is one entry of cases_stats, with no read of its events.
 * finished_event_at_ms is 0 when no finishing event was recorded: such a
 * case is neither on time nor counted in the working days.
 *
 * Working days: $4 is the running count of working days over the days
 * from $3 + 1 on, made from the county's calendar by working_days() below;
 * a case's are w(finish day) - w(registration day), the working days in
 * (registration day, finish day] as sj_calendar_working_days_between()
 * counts them.  A China day is (ms + 8 h) / 24 h since 1970-01-01.
 *
 * g0 aggregates per key and working-day count, which hashes; g1 adds them
 * up per key and for the total (GROUPING SETS on those few rows); g finds
 * the 90th percentile by nearest rank from the running count of finished
 * cases (cum * 10 >= total * 9, in integers). */
static const char SQL_HEAD[] = "WITH x AS (SELECT ";
static const char SQL_CASES[] =
    " AS k, c.status, c.handling, c.overdue, c.satisfaction, c.urge_count, c.supervised,"
    "  c.return_count, c.department_refusals, c.status IN (7, 8, 9, 10) AS fin,"
    "  c.rectified_at_ms, c.called_back_at_ms, c.rectify_late, c.feedback_bad AS bad,"
    "  " SJ_SATISFACTION_GOOD_SQL("c.satisfaction") " AS good_v,"
    "  " SJ_SATISFACTION_BAD_SQL("c.satisfaction") " AS bad_v,"
    "  c.status IN (7, 8, 9, 10) AND c.finished_event_at_ms > 0"
    "   AND c.finished_event_at_ms <= c.due_at_ms AS on_time,"
    "  c.repeat_requests AS rep, c.extensions_asked AS ext_req,"
    "  c.extensions_approved AS ext_ok, c.feedback_unsatisfied AS unsat,"
    "  CASE WHEN c.status IN (7, 8, 9, 10) AND c.finished_event_at_ms > 0"
    "   THEN ($4::int[])[(c.finished_event_at_ms + 28800000) / 86400000 - $3::int]"
    "    - ($4::int[])[(c.registered_at_ms + 28800000) / 86400000 - $3::int] END AS wd";
static const char SQL_FROM_CASES[] = "  FROM cases c";
static const char SQL_JOIN_ITEM[] = " LEFT JOIN catalogue_item i ON i.code = c.item_code";
static const char SQL_PERIOD[] =
    "  WHERE c.registered_at_ms >= $1::bigint AND c.registered_at_ms < $2::bigint";

/* g0's figures, per key and working-day count: the expression and its
 * name (a column of stats_month, migration 0018, too). */
#define G0_FIGURES(X)                                                                   \
    X("count(*)", registered)                                                          \
    X("count(*) FILTER (WHERE status = 11)", withdrawn)                                \
    X("count(*) FILTER (WHERE fin)", finished)                                         \
    X("count(*) FILTER (WHERE fin AND handling <> 5)", resolved)                       \
    X("count(*) FILTER (WHERE fin AND handling = 5)", returned)                        \
    X("count(*) FILTER (WHERE status IN (1, 2, 3, 4, 5, 6, 12, 13, 14))", open)         \
    X("count(*) FILTER (WHERE on_time)", on_time)                                      \
    X("count(*) FILTER (WHERE overdue AND status IN (1, 2, 3, 4, 5, 6, 12, 13, 14))",   \
      overdue_now)                                                                     \
    X("count(*) FILTER (WHERE fin AND satisfaction = 1)", s1)                          \
    X("count(*) FILTER (WHERE fin AND satisfaction = 2)", s2)                          \
    X("count(*) FILTER (WHERE fin AND satisfaction = 3)", s3)                          \
    X("count(*) FILTER (WHERE unsat)", unsat_ever)                                     \
    X("count(*) FILTER (WHERE unsat AND status <> 9)", unsat_followed)                 \
    X("count(*) FILTER (WHERE fin AND satisfaction = 4)", s4)                          \
    X("count(*) FILTER (WHERE fin AND satisfaction = 5)", s5)                          \
    X("count(*) FILTER (WHERE fin AND good_v)", good)                                  \
    X("count(*) FILTER (WHERE fin AND (good_v OR bad_v))", rated)                      \
    X("count(*) FILTER (WHERE bad)", bad)                                              \
    X("count(*) FILTER (WHERE bad AND rectified_at_ms > 0 AND NOT rectify_late)",      \
      rect_on_time)                                                                    \
    X("count(*) FILTER (WHERE bad AND rectified_at_ms > 0 AND rectify_late)", rect_late) \
    X("count(*) FILTER (WHERE bad AND rectified_at_ms = 0 AND status NOT IN (10, 11))", \
      rect_open)                                                                       \
    X("count(*) FILTER (WHERE bad AND called_back_at_ms > 0)", called_back)            \
    X("sum(rep)", rep)                                                                 \
    X("sum(return_count)", returns_down)                                               \
    X("sum(department_refusals)", refusals)                                            \
    X("sum(ext_req)", ext_req)                                                         \
    X("sum(ext_ok)", ext_ok)                                                           \
    X("sum(urge_count)", urges)                                                        \
    X("count(*) FILTER (WHERE supervised)", supervised)
#define G0_EXPR(e, n) ", (" e ")::int AS " #n
#define G0_NAME(e, n) ", " #n
#define G0_KEPT_SUM(e, n) ", (sum(s." #n "))::int AS " #n
#define G0_ZERO(e, n) ", 0"
/* g0: per key and working days, the cases' count of them (nwd) and the
 * figures. */
static const char SQL_G0[] =
    "), g0 AS (SELECT k, wd, (count(wd))::int AS nwd" G0_FIGURES(G0_EXPR) "  FROM x GROUP BY k, wd";

/* The county's question over full past months (docs/STATISTICS.md
 * "The monthly roll-up"): mm lists the full months $5 .. $6 - 1 and
 * whether each is kept (counted on this calendar, $7, and unchanged
 * since); r the ranges counted from the cases: the period's partial
 * months at its edges and the months not kept, each read by its own range
 * scan (the OFFSET keeps the planner from joining the cases to the ranges
 * any other way).  g0 is then their count per key and working days, the
 * kept months' figures of grouping $8 added up per key (no working
 * days: nwd 0)
 * and their working days added up per key and count (figures 0; yy: the
 * full years $9 .. $10 - 1 whose added-up histograms are those of their
 * twelve kept months, read instead of them), which g1 adds up together.  The statement reads one snapshot, so a month
 * marked after it was counted is counted from the cases. */
static const char SQL_MONTHLY_HEAD[] =
    "WITH mm AS (SELECT m, EXISTS (SELECT 1 FROM stats_month_state s WHERE s.month = m"
    "   AND s.calendar = $7::bigint)"
    "  AND NOT EXISTS (SELECT 1 FROM stats_month_dirty d WHERE d.month = m) AS kept"
    "  FROM generate_series($5::int, $6::int - 1) m),"
    " yy AS (SELECT y FROM generate_series($9::int, $10::int - 1) y WHERE EXISTS (SELECT 1"
    "  FROM stats_year_state t WHERE t.year = y AND t.calendar = $7::bigint"
    "  AND t.gens = (SELECT array_agg(s.gen ORDER BY s.month) FROM stats_month_state s"
    "   WHERE s.month >= y * 12 AND s.month < y * 12 + 12 AND s.calendar = $7::bigint))"
    "  AND NOT EXISTS (SELECT 1 FROM stats_month_dirty d"
    "   WHERE d.month >= y * 12 AND d.month < y * 12 + 12)),"
    " r AS (SELECT $1::bigint AS lo, sanji_stats_month_start($5::int) AS hi"
    "  UNION ALL SELECT sanji_stats_month_start($6::int), $2::bigint"
    "  UNION ALL SELECT sanji_stats_month_start(m), sanji_stats_month_start(m + 1)"
    "   FROM mm WHERE NOT kept),"
    " x AS (SELECT ";
static const char SQL_FROM_RANGES[] =
    "  FROM r CROSS JOIN LATERAL (SELECT c.village, c.item_code, c.department_code, c.status,"
    "   c.handling, c.resolved_level, c.overdue, c.satisfaction, c.urge_count, c.supervised,"
    "   c.return_count, c.department_refusals, c.rectified_at_ms, c.called_back_at_ms,"
    "   c.rectify_late, c.feedback_bad, c.due_at_ms, c.finished_event_at_ms,"
    "   c.repeat_requests, c.extensions_asked, c.extensions_approved, c.feedback_unsatisfied,"
    "   c.registered_at_ms FROM cases c"
    "   WHERE c.registered_at_ms >= r.lo AND c.registered_at_ms < r.hi OFFSET 0) c";
static const char SQL_KEPT_FIGURES[] =
    " UNION ALL SELECT fk, NULL::int, 0" G0_FIGURES(G0_NAME)
    "  FROM (SELECT %s AS fk" G0_FIGURES(G0_KEPT_SUM)
    "   FROM mm JOIN stats_month s ON s.month = mm.m AND s.grp = $8::smallint%s"
    "   WHERE mm.kept GROUP BY 1) f"
    " UNION ALL SELECT hk, hwd, hn" G0_FIGURES(G0_ZERO)
    "  FROM (SELECT %s AS hk, s.wd AS hwd, (sum(s.n))::int AS hn"
    "   FROM (SELECT w.k, w.wd, w.n FROM mm CROSS JOIN LATERAL (SELECT w.k, w.wd, w.n"
    "     FROM stats_month_wd w WHERE w.grp = $8::smallint AND w.month = mm.m OFFSET 0) w"
    "    WHERE mm.kept AND NOT EXISTS (SELECT 1 FROM yy WHERE yy.y = mm.m / 12)"
    "    UNION ALL SELECT w.k, w.wd, w.n FROM yy JOIN stats_year_wd w"
    "     ON w.year = yy.y AND w.grp = $8::smallint) s%s"
    "   GROUP BY 1, 2) h";
static const char SQL_JOIN_MONTH_ITEM[] = " LEFT JOIN catalogue_item i ON i.code = s.k";

/* One month's rows of a grouping in stats_month and stats_month_wd: the
 * cases registered in month $1 counted as g0 counts them, with grouping
 * number $2, per key (figures) and per key and working days (their
 * count). */
static const char SQL_COUNT_MONTH[] =
    "  WHERE c.registered_at_ms >= sanji_stats_month_start($1::int)"
    "   AND c.registered_at_ms < sanji_stats_month_start($1::int + 1)),"
    " f AS (INSERT INTO stats_month (month, grp, k" G0_FIGURES(G0_NAME) ")"
    "  SELECT $1::int, $2::smallint, k" G0_FIGURES(G0_EXPR) " FROM x GROUP BY k)"
    " INSERT INTO stats_month_wd (month, grp, k, wd, n)"
    "  SELECT $1::int, $2::smallint, k, wd, count(*) FROM x WHERE wd IS NOT NULL GROUP BY k, wd";

static const char SQL_GROUPS[] =
    "),"
    " g1 AS (SELECT grouping(k) AS gk, k, wd, sum(registered)::int AS registered,"
    "  sum(withdrawn)::int AS withdrawn, sum(finished)::int AS finished, sum(resolved)::int AS resolved,"
    "  sum(returned)::int AS returned, sum(open)::int AS open, sum(on_time)::int AS on_time, sum(nwd)::int AS nwd,"
    "  sum(overdue_now)::int AS overdue_now, sum(s1)::int AS s1, sum(s2)::int AS s2, sum(s3)::int AS s3,"
    "  sum(unsat_ever)::int AS unsat_ever, sum(unsat_followed)::int AS unsat_followed, sum(rep)::int AS rep,"
    "  sum(returns_down)::int AS returns_down, sum(refusals)::int AS refusals, sum(ext_req)::int AS ext_req,"
    "  sum(ext_ok)::int AS ext_ok, sum(urges)::int AS urges, sum(supervised)::int AS supervised,"
    "  sum(s4)::int AS s4, sum(s5)::int AS s5, sum(good)::int AS good, sum(rated)::int AS rated, sum(bad)::int AS bad,"
    "  sum(rect_on_time)::int AS rect_on_time, sum(rect_late)::int AS rect_late,"
    "  sum(rect_open)::int AS rect_open, sum(called_back)::int AS called_back"
    "  FROM g0 GROUP BY GROUPING SETS ((k, wd), (wd))),"
    " c1 AS (SELECT g1.*, sum(nwd) OVER (PARTITION BY gk, k ORDER BY wd) AS cum,"
    "  sum(nwd) OVER (PARTITION BY gk, k) AS nfin FROM g1),"
    " g AS (SELECT gk, k, sum(registered) AS registered, sum(withdrawn) AS withdrawn,"
    "  sum(finished) AS finished, sum(resolved) AS resolved, sum(returned) AS returned,"
    "  sum(open) AS open, sum(on_time) AS on_time,"
    "  coalesce(sum(wd::int8 * nwd)::float8 / nullif(sum(nwd), 0), 0) AS avg_wd,"
    "  coalesce(min(wd) FILTER (WHERE nwd > 0 AND cum * 10 >= nfin * 9), 0) AS p90_wd,"
    "  sum(overdue_now) AS overdue_now, sum(s1) AS s1, sum(s2) AS s2, sum(s3) AS s3,"
    "  sum(unsat_ever) AS unsat_ever, sum(unsat_followed) AS unsat_followed,"
    "  coalesce(sum(rep), 0) AS rep, coalesce(sum(returns_down), 0) AS returns_down,"
    "  coalesce(sum(refusals), 0) AS refusals, coalesce(sum(ext_req), 0) AS ext_req,"
    "  coalesce(sum(ext_ok), 0) AS ext_ok, coalesce(sum(urges), 0) AS urges,"
    "  sum(supervised) AS supervised,"
    "  sum(s4) AS s4, sum(s5) AS s5, sum(good) AS good, sum(rated) AS rated, sum(bad) AS bad,"
    "  sum(rect_on_time) AS rect_on_time, sum(rect_late) AS rect_late,"
    "  sum(rect_open) AS rect_open, sum(called_back) AS called_back"
    "  FROM c1 GROUP BY gk, k)"
    " SELECT g.gk, g.k, ";
static const char SQL_TAIL[] =
    ", registered, withdrawn, finished, resolved, returned, open, on_time, avg_wd, p90_wd,"
    " overdue_now, s1, s2, s3, unsat_ever, unsat_followed, rep, returns_down, refusals,"
    " ext_req, ext_ok, urges, supervised,"
    " CASE WHEN registered > withdrawn THEN finished::float8 / (registered - withdrawn) ELSE 0 END,"
    " CASE WHEN finished > 0 THEN on_time::float8 / finished ELSE 0 END,"
    " CASE WHEN rated > 0 THEN good::float8 / rated ELSE 0 END,"
    " s4, s5, bad, rect_on_time, rect_late, rect_open, called_back,"
    " CASE WHEN bad > 0 THEN called_back::float8 / bad ELSE 0 END"
    " FROM g ORDER BY g.gk, g.k";

/* Column numbers of the answer's counts, in PeriodStatRow order below. */
enum { COL_GK, COL_KEY, COL_LABEL, COL_FIRST };

/* The label of a handling or level group key (the county's language). */
static const char *label_of(Sanji__StatGroup g, int key)
{
    if (g == SANJI__STAT_GROUP__STAT_GROUP_HANDLING) {
        switch ((sj_handling)key) {
        case SJ_HANDLING_AT_ONCE:
            return _("stats: handled at once");
        case SJ_HANDLING_UNDERTAKEN:
            return _("stats: undertaken by the township");
        case SJ_HANDLING_ON_BEHALF:
            return _("stats: on behalf, at the county");
        case SJ_HANDLING_SUPPLEMENTED:
            return _("stats: after missing materials");
        case SJ_HANDLING_RETURNED:
            return _("stats: returned as not doable");
        default:
            return _("stats: not finished");
        }
    }
    switch ((sj_level)key) {
    case SJ_LEVEL_VILLAGE:
        return _("stats: village");
    case SJ_LEVEL_TOWNSHIP:
        return _("stats: township");
    case SJ_LEVEL_COUNTY:
        return _("stats: county");
    default:
        return _("stats: not finished");
    }
}

static uint32_t u32(const PGresult *res, int r, int c)
{
    unsigned long long v = strtoull(PQgetvalue(res, r, c), NULL, 10);
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static Sanji__PeriodStatRow *row_of(countyd_arena *a, const PGresult *res, int r,
                                    Sanji__StatGroup g)
{
    Sanji__PeriodStatRow *row = countyd_arena_alloc(a, sizeof(*row));
    sanji__period_stat_row__init(row);
    row->key = countyd_arena_strdup(a, PQgetvalue(res, r, COL_KEY));
    const char *label = PQgetvalue(res, r, COL_LABEL);
    bool total = atoi(PQgetvalue(res, r, COL_GK)) != 0;
    if (total)
        label = _("stats: total");
    else if (g == SANJI__STAT_GROUP__STAT_GROUP_HANDLING ||
             g == SANJI__STAT_GROUP__STAT_GROUP_LEVEL)
        label = label_of(g, atoi(row->key));
    else if (!*label && g == SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT)
        label = _("stats: no department");
    row->label = countyd_arena_strdup(a, label);
    int c = COL_FIRST;
    row->registered = u32(res, r, c++);
    row->withdrawn = u32(res, r, c++);
    row->finished = u32(res, r, c++);
    row->resolved = u32(res, r, c++);
    row->returned = u32(res, r, c++);
    row->open = u32(res, r, c++);
    row->on_time = u32(res, r, c++);
    row->avg_working_days = strtod(PQgetvalue(res, r, c++), NULL);
    row->p90_working_days = u32(res, r, c++);
    row->overdue_now = u32(res, r, c++);
    row->satisfied = u32(res, r, c++);
    row->basically_satisfied = u32(res, r, c++);
    row->unsatisfied = u32(res, r, c++);
    row->unsatisfied_ever = u32(res, r, c++);
    row->unsatisfied_followed_up = u32(res, r, c++);
    row->repeat_material_requests = u32(res, r, c++);
    row->returns_down = u32(res, r, c++);
    row->department_refusals = u32(res, r, c++);
    row->extension_requests = u32(res, r, c++);
    row->extensions_approved = u32(res, r, c++);
    row->urges = u32(res, r, c++);
    row->supervised = u32(res, r, c++);
    row->finish_rate = strtod(PQgetvalue(res, r, c++), NULL);
    row->on_time_rate = strtod(PQgetvalue(res, r, c++), NULL);
    row->satisfaction_rate = strtod(PQgetvalue(res, r, c++), NULL);
    row->very_satisfied = u32(res, r, c++);
    row->very_unsatisfied = u32(res, r, c++);
    row->bad_evaluations = u32(res, r, c++);
    row->rectified_on_time = u32(res, r, c++);
    row->rectified_late = u32(res, r, c++);
    row->rectify_open = u32(res, r, c++);
    row->called_back = u32(res, r, c++);
    row->callback_rate = strtod(PQgetvalue(res, r, c++), NULL);
    return row;
}

int countyd_stats_stored_group(int group)
{
    switch (group) {
    case SANJI__STAT_GROUP__STAT_GROUP_NONE:
    case SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP:
    case SANJI__STAT_GROUP__STAT_GROUP_VILLAGE:
    case SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT:
    case SANJI__STAT_GROUP__STAT_GROUP_ITEM:
    case SANJI__STAT_GROUP__STAT_GROUP_HANDLING:
    case SANJI__STAT_GROUP__STAT_GROUP_LEVEL:
        return group;
    case SANJI__STAT_GROUP__STAT_GROUP_CATEGORY:
        /* an item's category is the catalogue's when asked */
        return SANJI__STAT_GROUP__STAT_GROUP_ITEM;
    default:
        return -1;
    }
}

bool countyd_stats_month_sql(int group, char *sql, size_t cap)
{
    /* The statement text is fixed per grouping, its values parameters
     * ($1 month, $2 grouping, $3 and $4 the working days). */
    if (countyd_stats_stored_group(group) != group)
        return false;
    int len = snprintf(sql, cap, "%s%s%s%s%s", SQL_HEAD, groups[group].key_sql, SQL_CASES,
                       SQL_FROM_CASES, SQL_COUNT_MONTH);
    if (len < 0 || (size_t)len >= cap)
        abort(); /* the fixed texts above fit: a broken build */
    return true;
}

/* Longest span of days a question may cover (about a hundred years). */
#define STATS_MAX_DAYS 40000

/* The running count of working days over the days base + 1 .. end_day on
 * the county's calendar, as a PostgreSQL array literal ("{1,2,2,...}",
 * element i counting the working days in (base, base + i]) in *out, which
 * the caller frees.  The calendar's own rule (sj_calendar_is_working_day())
 * decides each day, so the statistics count working days exactly as due
 * times are counted.  Returns 0 or SJ_ENOMEM. */
int countyd_stats_working_days(const sj_calendar *cal, int32_t base, int32_t end_day, char **out,
                               sj_error *err)
{
    size_t n = end_day > base ? (size_t)(end_day - base) : 0;
    size_t cap = n * 7 + 3; /* up to 6 digits and a comma each, braces */
    char *s = malloc(cap);
    if (!s)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    size_t len = 0;
    s[len++] = '{';
    int w = 0;
    for (size_t i = 1; i <= n; i++) {
        if (sj_calendar_is_working_day(cal, base + (int32_t)i))
            w++;
        len += (size_t)snprintf(s + len, cap - len, "%s%d", i > 1 ? "," : "", w);
    }
    s[len++] = '}';
    s[len] = '\0';
    *out = s;
    return 0;
}

static int refuse(Sanji__QueryResult *out, int code, const char *reason)
{
    out->code = code;
    out->reason = (char *)reason;
    return 0;
}

void countyd_stats_verdicts(const Sanji__PeriodStatRow *r, uint32_t *good, uint32_t *bad)
{
    /* The row's count of each level of the 好差评 scale, classified by the
     * one rule of common/domain/case.h. */
    const struct {
        sj_satisfaction level;
        uint32_t count;
    } levels[] = {
        {SJ_SATISFACTION_VERY_SATISFIED, r->very_satisfied},
        {SJ_SATISFACTION_SATISFIED, r->satisfied},
        {SJ_SATISFACTION_BASICALLY, r->basically_satisfied},
        {SJ_SATISFACTION_UNSATISFIED, r->unsatisfied},
        {SJ_SATISFACTION_VERY_UNSATISFIED, r->very_unsatisfied},
    };
    *good = *bad = 0;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (sj_satisfaction_is_good(levels[i].level))
            *good += levels[i].count;
        else if (sj_satisfaction_is_bad(levels[i].level))
            *bad += levels[i].count;
    }
}

int countyd_stats_answer(PGconn *db, countyd_arena *a, const countyd_asker *k,
                         const Sanji__PeriodStatQuery *q, Sanji__QueryResult *out, sj_error *err)
{
    /* The groups beyond the wire's are the county's own (stats.h). */
    if (q->group_by > SANJI__STAT_GROUP__STAT_GROUP_LEVEL)
        return refuse(out, SJ_EINVAL,
                      _("Unknown grouping; group by township, village, department, category, "
                        "item, handling or level."));
    return countyd_stats_answer_group(db, a, k, q, (int)q->group_by, out, err);
}

/* One read-only transaction: its settings end with it.  The JIT
 * compiles a plan this size for longer than it runs; the hashes of a
 * year's cases want more than the default work_mem.  The planner
 * cannot tell that g0 has few groups (a key and a working-day count:
 * a few tens of thousands at most) and reckons one per case; with
 * hash memory of only work_mem it then sorts every case of the period
 * by its key instead of hashing, twice as slow for a year
 * (docs/PERFORMANCE.md).  hash_mem_multiplier lets it hash; the
 * memory actually used is that of the few groups, and a hash that
 * outgrew it would spill to disk, not fail.  The statement is
 * prepared once per connection (db.c): after five runs PostgreSQL may
 * keep a generic plan, made without the period's bounds, which reckons
 * a year as a few thousand cases and plans it accordingly; each
 * question is planned for its own period instead (a few milliseconds). */
static int run_statistics(PGconn *db, const char *sql, int n, const char *const *p,
                          PGresult **res_out, sj_error *err)
{
    PGresult *res = NULL;
    int rc;
    rc = countyd_db_exec(db, "BEGIN READ ONLY", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "SET LOCAL jit = off", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "SET LOCAL work_mem = '64MB'", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "SET LOCAL hash_mem_multiplier = 16", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "SET LOCAL plan_cache_mode = force_custom_plan", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_query(db, sql, n, p, &res, err);
    if ((rc = countyd_db_end(db, rc, err)) != 0) {
        PQclear(res);
        return rc;
    }
    *res_out = res;
    return 0;
}

/* The answer from the statement's rows: one per key, and the total (the
 * GROUPING SETS row whose gk is set). */
static Sanji__PeriodStatistics *statistics_of(countyd_arena *a, const PGresult *res, int group,
                                              int64_t from, int64_t to, const char *unit,
                                              const char *department)
{
    Sanji__PeriodStatistics *s = countyd_arena_alloc(a, sizeof(*s));
    sanji__period_statistics__init(s);
    s->from_ms = from;
    s->to_ms = to;
    s->group_by = (Sanji__StatGroup)group;
    s->scope = countyd_arena_strdup(a, unit);
    s->department = countyd_arena_strdup(a, department);
    s->computed_at_ms = sj_clock_real_ms();
    int rows = PQntuples(res);
    s->rows = countyd_arena_alloc(a, ((size_t)rows + 1) * sizeof(*s->rows));
    for (int r = 0; r < rows; r++) {
        Sanji__PeriodStatRow *row = row_of(a, res, r, (Sanji__StatGroup)group);
        if (atoi(PQgetvalue(res, r, COL_GK)) != 0)
            s->total = row;
        else if (group != SANJI__STAT_GROUP__STAT_GROUP_NONE)
            s->rows[s->n_rows++] = row;
    }
    if (!s->total) { /* GROUPING SETS always gives the total; kept safe anyway */
        s->total = countyd_arena_alloc(a, sizeof(*s->total));
        sanji__period_stat_row__init(s->total);
        s->total->key = "";
        s->total->label = countyd_arena_strdup(a, _("stats: total"));
    }
    return s;
}

/* One question's statement parameters ($1 ...), kept while it runs. */
typedef struct stats_call {
    int64_t from, to;
    const char *unit;
    char lo[13], hi[13];
    bool villages, department, monthly;
    int stored;
    char *days;
    char from_s[24], to_s[24], base_s[16];
    char m_lo_s[16], m_hi_s[16], fp_s[24], grp_s[8], y_lo_s[16], y_hi_s[16];
    const char *p[12];
    int n;
    char scope[160];
} stats_call;

/* The period, the grouping and the scope of q for asker k into c; false
 * when the question is refused (out says why). */
static bool question_valid(countyd_arena *a, const countyd_asker *k,
                           const Sanji__PeriodStatQuery *q, int group, stats_call *c,
                           Sanji__QueryResult *out)
{
    c->from = q->from_ms;
    c->to = q->to_ms;
    sj_error perr;
    if (sj_stat_period_range((sj_stat_period)q->period, q->at, &c->from, &c->to, &perr) != 0) {
        out->code = SJ_EINVAL;
        out->reason = countyd_arena_strdup(a, perr.message);
        return false;
    }
    const char *why = NULL;
    int code = SJ_ESCOPE;
    /* The scope: the asker's unit, or the query's unit inside it. */
    c->unit = q->unit && *q->unit ? q->unit : k->unit;
    if ((unsigned)group >= sizeof(groups) / sizeof(groups[0]) || !groups[group].key_sql) {
        code = SJ_EINVAL;
        why = _("Unknown grouping; group by township, village, department, category, "
                "item, handling or level.");
    } else if (c->unit != k->unit && !sj_orgunit_contains(k->unit, c->unit)) {
        why = _("That unit is outside your scope; statistics cover your own units only.");
    } else if (!sj_case_search_scope(c->unit, c->lo, c->hi)) {
        why = _("Statistics are kept for this county only; this desk is outside it.");
    }
    if (why)
        refuse(out, code, why);
    return why == NULL;
}

/* The parameters of the kept months ($5 - $10), after the roll-up has
 * counted what it did not hold yet (stats_month.c). */
static int monthly_params(PGconn *db, const sj_calendar *cal, int32_t m_lo, int32_t m_hi,
                          stats_call *c, sj_error *err)
{
    int rc = countyd_stats_month_refresh(db, cal, m_lo, m_hi, NULL, err);
    if (rc != 0)
        return rc;
    snprintf(c->m_lo_s, sizeof c->m_lo_s, "%" PRId32, m_lo);
    snprintf(c->m_hi_s, sizeof c->m_hi_s, "%" PRId32, m_hi);
    snprintf(c->fp_s, sizeof c->fp_s, "%" PRId64, (int64_t)sj_calendar_fingerprint(cal));
    snprintf(c->grp_s, sizeof c->grp_s, "%d", c->stored);
    int32_t y_lo, y_hi;
    countyd_stats_full_years(m_lo, m_hi, &y_lo, &y_hi);
    snprintf(c->y_lo_s, sizeof c->y_lo_s, "%" PRId32, y_lo);
    snprintf(c->y_hi_s, sizeof c->y_hi_s, "%" PRId32, y_hi);
    c->p[c->n++] = c->m_lo_s; /* $5 */
    c->p[c->n++] = c->m_hi_s; /* $6 */
    c->p[c->n++] = c->fp_s;   /* $7 */
    c->p[c->n++] = c->grp_s;  /* $8 */
    c->p[c->n++] = c->y_lo_s; /* $9 */
    c->p[c->n++] = c->y_hi_s; /* $10 */
    return 0;
}

/* The parameters $1 - $4 (period, calendar days) and, for a county's
 * question over full past months, those of the roll-up. */
static int period_params(PGconn *db, int group, stats_call *c, sj_error *err)
{
    snprintf(c->from_s, sizeof c->from_s, "%" PRId64, c->from);
    snprintf(c->to_s, sizeof c->to_s, "%" PRId64, c->to);
    /* The calendar's days: from the day before the period to the day after
     * the later of its end and now (a finish is never later than now). */
    int64_t now = sj_clock_real_ms(), last = c->to > now ? c->to : now;
    int32_t base = sj_clock_china_day(c->from) - 2, end_day = sj_clock_china_day(last) + 1;
    snprintf(c->base_s, sizeof c->base_s, "%" PRId32, base);
    sj_calendar *cal;
    int rc = countyd_calendar_read(db, &cal, err);
    if (rc == 0)
        rc = countyd_stats_working_days(cal, base, end_day, &c->days, err);
    c->p[0] = c->from_s;
    c->p[1] = c->to_s;
    c->p[2] = c->base_s;
    c->p[3] = c->days;
    c->n = 4;
    /* The county's questions over full past months add those up from the
     * monthly roll-up (stats_month.c), counted first where they are not
     * current; the rest of the period is counted from the cases. */
    c->stored = countyd_stats_stored_group(group);
    int32_t m_lo = 0, m_hi = 0;
    c->monthly = rc == 0 && c->stored >= 0 && !c->villages && !c->department &&
                 countyd_stats_month_used() &&
                 countyd_stats_full_months(c->from, c->to, now, &m_lo, &m_hi);
    if (c->monthly)
        rc = monthly_params(db, cal, m_lo, m_hi, c, err);
    if (rc == 0 && c->villages) {
        c->p[c->n++] = c->lo;
        c->p[c->n++] = c->hi;
        snprintf(c->scope, sizeof c->scope,
                 " AND c.village BETWEEN $%d::char(12) AND $%d::char(12)", c->n - 1, c->n);
    }
    sj_calendar_free(cal);
    return rc;
}

/* The statement of the question (sql: 16 KiB). */
static void statement_text(const stats_call *c, int group, char *sql, size_t cap)
{
    int len;
    if (c->monthly) {
        /* the kept months' rows, their key as the grouping's (the item's
         * category from the catalogue as it is now) */
        bool item = group != c->stored;
        const char *k_kept = item ? groups[group].key_sql : "s.k";
        char kept[4096];
        len = snprintf(kept, sizeof kept, SQL_KEPT_FIGURES, k_kept,
                       item ? SQL_JOIN_MONTH_ITEM : "", k_kept, item ? SQL_JOIN_MONTH_ITEM : "");
        if (len < 0 || (size_t)len >= sizeof kept)
            abort(); /* the fixed texts above fit: a broken build */
        len = snprintf(sql, cap, "%s%s%s%s%s%s%s%s%s%s", SQL_MONTHLY_HEAD, groups[group].key_sql,
                       SQL_CASES, SQL_FROM_RANGES, groups[group].join_item ? SQL_JOIN_ITEM : "",
                       SQL_G0, kept, SQL_GROUPS, groups[group].label_sql, SQL_TAIL);
    } else {
        len = snprintf(sql, cap, "%s%s%s%s%s%s%s%s%s%s%s", SQL_HEAD, groups[group].key_sql,
                       SQL_CASES, SQL_FROM_CASES, groups[group].join_item ? SQL_JOIN_ITEM : "",
                       SQL_PERIOD, c->scope, SQL_G0, SQL_GROUPS, groups[group].label_sql,
                       SQL_TAIL);
    }
    if (len < 0 || (size_t)len >= cap)
        abort(); /* the fixed texts above fit: a broken build */
}

int countyd_stats_answer_group(PGconn *db, countyd_arena *a, const countyd_asker *k,
                               const Sanji__PeriodStatQuery *q, int group, Sanji__QueryResult *out,
                               sj_error *err)
{
    stats_call c;
    memset(&c, 0, sizeof c);
    if (!question_valid(a, k, q, group, &c, out))
        return 0;
    int64_t now = sj_clock_real_ms(), last = c.to > now ? c.to : now;
    if (sj_clock_china_day(last) + 1 - (sj_clock_china_day(c.from) - 2) > STATS_MAX_DAYS)
        return refuse(out, SJ_EINVAL,
                      _("The period is too long; ask for at most a hundred years at a time."));
    /* A county-level scope is every case here (apply.c records only the
     * county's own villages): no village condition, as for a search. */
    c.villages = sj_orgunit_level(c.unit) != SJ_LEVEL_COUNTY;
    c.department = k->role == SJ_NODE_ROLE_DEPARTMENT_DESK;
    int rc = period_params(db, group, &c, err);
    if (rc == 0 && c.department) {
        c.p[c.n++] = k->department;
        size_t used = strlen(c.scope);
        snprintf(c.scope + used, sizeof c.scope - used, " AND c.department_code = $%d", c.n);
    }
    char sql[16384];
    PGresult *res = NULL;
    if (rc == 0) {
        statement_text(&c, group, sql, sizeof sql);
        rc = run_statistics(db, sql, c.n, c.p, &res, err);
    }
    free(c.days);
    if (rc != 0)
        return rc;
    Sanji__PeriodStatistics *s =
        statistics_of(a, res, group, c.from, c.to, c.unit, c.department ? k->department : "");
    PQclear(res);
    out->result_case = SANJI__QUERY_RESULT__RESULT_PERIOD_STATISTICS;
    out->period_statistics = s;
    return 0;
}
