/*
 * stars_config.h - the county's thresholds of the station stars (its
 * stars.* keys, docs/STATISTICS.md "Station stars"): their defaults and
 * their printout.  No database: the configuration reader and its fuzz
 * target use it without libpq (stars.h rates the stations).
 *
 * Entry points: countyd_stars_defaults(), countyd_stars_print_thresholds().
 */
#ifndef COUNTYD_STARS_CONFIG_H
#define COUNTYD_STARS_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "presence_hours.h"

/* The county's thresholds (its stars.* keys). */
typedef struct countyd_stars_config {
    uint32_t daiban_min, daiban_finish_percent;
    uint32_t record_min, record_missing_max;
    uint32_t duty_percent;
    uint32_t service_percent, service_min_verdicts;
    uint32_t on_time_percent, on_time_min_finished;
} countyd_stars_config;

/* The keys' defaults. */
void countyd_stars_defaults(countyd_stars_config *c);

/* Prints the thresholds and duty hours in effect, one `key = value` line
 * each with the star it belongs to (`sanji-countyd stars thresholds`). */
void countyd_stars_print_thresholds(FILE *out, const countyd_stars_config *c,
                                    const countyd_duty *duty);

#endif
