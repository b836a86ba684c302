/*
 * orgunit.h - org unit codes and the scope they imply.
 *
 * Sanji names every org unit by a 12-digit code in the style of the national
 * 统计用区划代码: 6 digits of county, 3 of township, 3 of village:
 *
 *     410423000000   鲁山县            (county: last 6 digits zero)
 *     410423101000   张官营镇          (township: last 3 digits zero)
 *     410423101201   某村              (village)
 *
 * Scope (docs/ARCHITECTURE.md, G5) follows from the codes alone: a unit contains every
 * unit whose code starts with its significant prefix.  Everything here is
 * pure string work; no I/O.
 *
 * Entry points: sj_orgunit_valid(), sj_orgunit_level(), sj_orgunit_parent(),
 * sj_orgunit_township_of(), sj_orgunit_county_of(), sj_orgunit_at_level(),
 * sj_orgunit_contains().
 *
 * Ownership: codes are NUL-terminated strings owned by the caller; output
 * codes are written into caller buffers of SJ_ORGUNIT_CODE_SIZE bytes.  A code
 * is read only up to SJ_ORGUNIT_CODE_SIZE bytes, so a fixed 13-byte field that
 * lacks its NUL is simply invalid, never overrun.
 */
#ifndef SJ_ORGUNIT_H
#define SJ_ORGUNIT_H

#include <stdbool.h>

#include "err.h"

/* The level of an org unit, and so of a node, a person or a case holder.
 * The numbering mirrors proto/sanji.proto; case_pb.c checks it at compile
 * time. */
typedef enum sj_level {
    SJ_LEVEL_NONE = 0,
    SJ_LEVEL_VILLAGE = 1,
    SJ_LEVEL_TOWNSHIP = 2,
    SJ_LEVEL_COUNTY = 3,
} sj_level;

#define SJ_ORGUNIT_CODE_LEN 12
#define SJ_ORGUNIT_CODE_SIZE 13 /* with the terminating NUL */

/* True if code is exactly 12 ASCII digits, the county part is not all zero,
 * and it names a county, a township or a village (a village code has a
 * non-zero township part). */
bool sj_orgunit_valid(const char *code);

/* Level of a valid code; SJ_LEVEL_NONE for an invalid one. */
sj_level sj_orgunit_level(const char *code);

/* Writes the parent's code (village -> township -> county) into out
 * (SJ_ORGUNIT_CODE_SIZE bytes).  Returns 0, or SJ_EINVAL for an invalid code
 * or a county (which has no parent in Sanji). */
int sj_orgunit_parent(const char *code, char out[SJ_ORGUNIT_CODE_SIZE]);

/* Township and county containing a valid village or township code (a
 * township is its own township).  Return 0, or SJ_EINVAL for an invalid code
 * or a county. */
int sj_orgunit_township_of(const char *code, char out[SJ_ORGUNIT_CODE_SIZE]);
int sj_orgunit_county_of(const char *code, char out[SJ_ORGUNIT_CODE_SIZE]);

/* The unit at `level` that contains `code` (code itself when it is at that
 * level).  Returns 0, or SJ_EINVAL for an invalid code, a level outside
 * VILLAGE..COUNTY, or a level below the code's own. */
int sj_orgunit_at_level(const char *code, sj_level level, char out[SJ_ORGUNIT_CODE_SIZE]);

/* True if `unit` is `outer` or lies below it.  False if either is invalid. */
bool sj_orgunit_contains(const char *outer, const char *unit);

#endif
