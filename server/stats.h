/*
 * stats.h - period statistics (docs/STATISTICS.md): every figure of
 * PeriodStatRow for the cases registered in a period, within the asker's
 * scope, grouped one way, computed in one set-based SQL statement.
 *
 * Scope: a county desk (and the county itself) sees the county; a
 * department desk the cases dispatched to its department; a township desk
 * or relay its township's villages; a station its village.  The query's
 * unit narrows that scope further and is refused (SJ_ESCOPE) outside it.
 * Working days are counted on the county's holiday table as
 * sj_calendar_working_days_between() counts them.
 *
 * Ownership: the answer's content comes from the caller's arena; out is
 * the caller's QueryResult, filled with the result or a refusal.
 *
 * Entry points: countyd_stats_answer(), countyd_stats_answer_group(),
 * countyd_stats_verdicts().
 */
#ifndef COUNTYD_STATS_H
#define COUNTYD_STATS_H

#include <libpq-fe.h>

#include "arena.h"
#include "err.h"
#include "asker.h"
#include "sanji.pb-c.h"

/* Fills out->period_statistics, or a refusal (code and Chinese reason) for
 * a bad period, group or unit.  Returns 0 (answer or refusal in out), or
 * SJ_EDB/SJ_EDB_CONN when the database failed. */
int countyd_stats_answer(PGconn *db, countyd_arena *a, const countyd_asker *k,
                         const Sanji__PeriodStatQuery *q, Sanji__QueryResult *out, sj_error *err);

/* A grouping the county uses itself, never asked on the wire: per village
 * and finished handling, keys "<village>:<handling>" (0: not finished);
 * the star rating's 代办 count (stars.c). */
#define COUNTYD_STATS_GROUP_VILLAGE_HANDLING (SANJI__STAT_GROUP__STAT_GROUP_LEVEL + 1)

/* countyd_stats_answer() with any grouping, the county's own included
 * (q->group_by is ignored). */
int countyd_stats_answer_group(PGconn *db, countyd_arena *a, const countyd_asker *k,
                               const Sanji__PeriodStatQuery *q, int group, Sanji__QueryResult *out,
                               sj_error *err);

/* The one place a row's verdicts are classified good (满意, 基本满意) or
 * bad (不满意); the satisfaction rate is good / (good + bad)
 * (docs/STATISTICS.md).  A finer satisfaction scale changes this and the
 * statement's counts in stats.c, nothing else. */
void countyd_stats_verdicts(const Sanji__PeriodStatRow *r, uint32_t *good, uint32_t *bad);

#endif
