/*
 * notify_text.h - the villager's messages as text (docs/LIFECYCLE.md
 * "Notifying the villager"): a template with the placeholders {county}
 * (the county's name), {item} (the catalogue item's name), {village} (the
 * village's name), {materials} (the list asked for, joined by "、") and
 * {number} (the case number) rendered into the message, the check the
 * configuration makes of each template, and the wait between attempts.
 * No placeholder gives the applicant's name or ID number.
 *
 * Entry points: countyd_notify_render(), countyd_notify_check_template(),
 * countyd_notify_backoff_ms().
 */
#ifndef COUNTYD_NOTIFY_TEXT_H
#define COUNTYD_NOTIFY_TEXT_H

#include <stdint.h>

#include "err.h"

/* What a template may name. */
typedef struct countyd_notify_fields {
    const char *county, *item, *village, *materials, *number;
} countyd_notify_fields;

/* Renders tmpl into *out (malloc'ed).  Returns 0, SJ_ENOMEM, or
 * SJ_ECONFIG_BAD_VALUE for an unknown or unclosed placeholder. */
int countyd_notify_render(const char *tmpl, const countyd_notify_fields *f, char **out,
                          sj_error *err);

/* Checks a template's placeholders (for the configuration). */
int countyd_notify_check_template(const char *tmpl, sj_error *err);

/* The wait before attempt `attempt` + 1 after `attempt` failed: base_ms
 * (notify.retry_base) doubled per attempt, at most cap_ms (notify.retry_cap).
 * The settings come as values so that the configuration, which checks the
 * templates with this module, is not also a dependency of it. */
int64_t countyd_notify_backoff_ms(int64_t base_ms, int64_t cap_ms, uint32_t attempt);

#endif
