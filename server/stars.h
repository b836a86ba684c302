/*
 * stars.h - station stars (docs/STATISTICS.md "Station stars"): every
 * village station of the asker's scope rated for a year or a quarter from
 * the county's records, five stars each decided by one written rule.
 *
 *   代办星  cases finished as 代办 (handling 3) >= daiban_min (a quarter's
 *          figure; a year needs four times it), and 办结率 >= daiban_finish_percent
 *   记录星  cases registered (not withdrawn) >= record_min, and cases open
 *          past their due time plus finished cases without feedback
 *          <= record_missing_max
 *   值班星  staffed share of the duty hours of the period's working days so
 *          far >= duty_percent (presence.h)
 *   服务星  verdicts >= service_min_verdicts, and 满意率 >= service_percent
 *   时效星  cases finished >= on_time_min_finished, and 按时办结率 >= on_time_percent
 *
 * The case figures are server/stats.c's (the period statistics grouped by
 * village, and by village and handling), never computed a second time;
 * satisfaction is classified by countyd_stats_verdicts() only.
 *
 * Scope: a county desk sees the county's stations, a township desk (through
 * its relay) its township's, a station itself; a department desk none.
 *
 * Entry points: countyd_stars_answer(); the thresholds are
 * stars_config.h's.
 */
#ifndef COUNTYD_STARS_H
#define COUNTYD_STARS_H

#include <libpq-fe.h>
#include <stdio.h>

#include "arena.h"
#include "err.h"
#include "presence.h"
#include "stars_config.h"
#include "asker.h"
#include "sanji.pb-c.h"

/* Fills out->stars, or a refusal (code and Chinese reason) for a bad year,
 * quarter or unit.  cfg and duty NULL: the defaults.  Returns 0 (answer or
 * refusal in out), or SJ_EDB* when the database failed. */
int countyd_stars_answer(PGconn *db, countyd_arena *a, const countyd_asker *k,
                         const countyd_stars_config *cfg, const countyd_duty *duty,
                         const Sanji__StarQuery *q, Sanji__QueryResult *out, sj_error *err);

#endif
