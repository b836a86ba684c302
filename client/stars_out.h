/*
 * stars_out.h - a station star rating (proto StarRating, docs/STATISTICS.md
 * "Station stars") as people read it, once for `sanji stars` and the
 * desktop's 星级 page: the five stars' names, a station's stars as a row
 * of ★ and ☆, and each star's figures in words.
 *
 * Entry points: sc_stars_count(), sc_stars_name(), sc_stars_has(),
 * sc_stars_figure(), sc_stars_marks(), sc_stars_period_text(),
 * sc_stars_write_table().
 */
#ifndef SC_STARS_OUT_H
#define SC_STARS_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "sanji.pb-c.h"

/* The five stars, in the order of docs/STATISTICS.md. */
size_t sc_stars_count(void);

/* Star i's name, translated ("代办星" ...). */
const char *sc_stars_name(size_t i);

/* Whether station s earned star i. */
bool sc_stars_has(const Sanji__StarStation *s, size_t i);

/* The figure star i was decided on for s, e.g. "3 件 / 100%", into buf. */
void sc_stars_figure(const Sanji__StarStation *s, size_t i, char *buf, size_t cap);

/* "★★★☆☆" for s (the earned ones first in the stars' order). */
void sc_stars_marks(const Sanji__StarStation *s, char *buf, size_t cap);

/* "2026" or "2026 Q4" into buf. */
void sc_stars_period_text(const Sanji__StarRating *r, char *buf, size_t cap);

/* One line per station: name, code, the marks, then each star's figure
 * with ✓ where it was earned. */
void sc_stars_write_table(FILE *f, const Sanji__StarRating *r);

#endif
