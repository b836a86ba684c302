/*
 * sweep.h - the supervision sweep: marks active cases OVERDUE once their
 * due time has passed, and WARNs when a set fraction of the time limit is
 * used (docs/LIFECYCLE.md; sweep.interval and sweep.warn_percents).
 *
 * The fraction is of the wall-clock span from registration to the due time
 * (which already counts working days on the holiday calendar).  A case
 * gets the highest configured percentage it has reached and not had yet,
 * one WARN per sweep; an overdue case gets OVERDUE and no more warnings.
 * The clock (case.h): a case waiting for the villager's materials is left
 * alone (its clock stands); the due time an approved extension or a pause
 * moved out is the one checked.
 * Every change goes through the state machine with the SYSTEM actor and is
 * written like any action (countyd_apply_system(): event and feed row in
 * one transaction), so it shows on the village's feed and, by scope, on
 * every level above.  "Now" is sj_clock_real_ms() (SANJI_FAKE_NOW in tests).
 *
 * Ownership: countyd_sweep_run() returns a malloc'ed results array the
 * caller frees with free().
 *
 * countyd_sweep_recompute() sets the due time of every active case whose
 * clock runs again on a->calendar (DUE_RECOMPUTE by the system, with an
 * event where it changes).  countyd_sweep_calendar() rereads the holiday
 * table and, when it differs from the calendar the cases were last
 * recomputed on (its fingerprint in calendar_recompute), recomputes them:
 * the daemon runs it at start and before every sweep, so that a year
 * imported with `sanji-countyd import holidays` reaches every open case,
 * and its events go down the feeds like the sweep's.

 * Entry points: countyd_sweep_run(), countyd_sweep_recompute(),
 * countyd_sweep_calendar().
 */
#ifndef COUNTYD_SWEEP_H
#define COUNTYD_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apply.h"
#include "err.h"

/* Checks at most max_cases cases (the rest wait for the next sweep) against
 * the ascending percentages warn[0..n_warn), and marks at most max_cases
 * rectifications of 差评 past their due time overdue (RECTIFY_OVERDUE,
 * once each: docs/LIFECYCLE.md "Bad evaluations: rectify and call back").  Returns 0 with *results (one
 * per changed or refused case, *n of them; NULL when none), or
 * SJ_EDB/SJ_EDB_CONN/SJ_ENOMEM with nothing applied. */
int countyd_sweep_run(countyd_apply *a, const uint32_t *warn, size_t n_warn, size_t max_cases,
                      countyd_apply_result **results, size_t *n, sj_error *err);

/* Recomputes due times on a->calendar.  *results (malloc'ed, *n of them;
 * NULL when none) are the cases that changed.  Returns 0 or
 * SJ_EDB/SJ_EDB_CONN/SJ_ENOMEM (pages already done stay done and are in
 * *results). */
int countyd_sweep_recompute(countyd_apply *a, countyd_apply_result **results, size_t *n,
                            sj_error *err);

/* Rereads the calendar; recomputes (*recomputed true) when it is not the
 * one last recomputed on.  Results as countyd_sweep_recompute(). */
int countyd_sweep_calendar(countyd_apply *a, bool *recomputed, countyd_apply_result **results,
                           size_t *n, sj_error *err);

#endif
