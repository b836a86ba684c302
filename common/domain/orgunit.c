/*
 * orgunit.c - 12-digit org unit codes (county xxxxxx000000, township
 * xxxxxxTTT000, village xxxxxxTTTVVV) and the containment they imply.
 *
 * Pure string work: no I/O, no allocation, no global state.
 *
 * Entry points: sj_orgunit_valid(), sj_orgunit_level(), sj_orgunit_parent(),
 * sj_orgunit_township_of(), sj_orgunit_county_of(), sj_orgunit_at_level(),
 * sj_orgunit_contains().
 */
#include "orgunit.h"

#include <string.h>

#include "err.h"

/* Digits of each part of a code. */
#define SJ__COUNTY_DIGITS 6
#define SJ__TOWNSHIP_END 9 /* county + township digits */

static bool all_zero(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0')
            return false;
    return true;
}

sj_level sj_orgunit_level(const char *code)
{
    if (!code)
        return SJ_LEVEL_NONE;
    /* strnlen keeps us inside a 13-byte buffer that lacks its NUL. */
    if (strnlen(code, SJ_ORGUNIT_CODE_SIZE) != SJ_ORGUNIT_CODE_LEN)
        return SJ_LEVEL_NONE;
    for (size_t i = 0; i < SJ_ORGUNIT_CODE_LEN; i++)
        if (code[i] < '0' || code[i] > '9')
            return SJ_LEVEL_NONE;
    if (all_zero(code, SJ__COUNTY_DIGITS))
        return SJ_LEVEL_NONE;
    bool township_zero = all_zero(code + SJ__COUNTY_DIGITS, SJ__TOWNSHIP_END - SJ__COUNTY_DIGITS);
    bool village_zero = all_zero(code + SJ__TOWNSHIP_END, SJ_ORGUNIT_CODE_LEN - SJ__TOWNSHIP_END);
    if (township_zero)
        /* xxxxxx000VVV would be a village directly under a county: Sanji's
         * network always has a township in between. */
        return village_zero ? SJ_LEVEL_COUNTY : SJ_LEVEL_NONE;
    return village_zero ? SJ_LEVEL_TOWNSHIP : SJ_LEVEL_VILLAGE;
}

bool sj_orgunit_valid(const char *code)
{
    return sj_orgunit_level(code) != SJ_LEVEL_NONE;
}

/* Copies the first `keep` digits of code and pads with zeros. */
static void truncate_code(const char *code, size_t keep, char out[SJ_ORGUNIT_CODE_SIZE])
{
    memcpy(out, code, keep);
    memset(out + keep, '0', SJ_ORGUNIT_CODE_LEN - keep);
    out[SJ_ORGUNIT_CODE_LEN] = '\0';
}

int sj_orgunit_parent(const char *code, char out[SJ_ORGUNIT_CODE_SIZE])
{
    switch (sj_orgunit_level(code)) {
    case SJ_LEVEL_VILLAGE:
        truncate_code(code, SJ__TOWNSHIP_END, out);
        return 0;
    case SJ_LEVEL_TOWNSHIP:
        truncate_code(code, SJ__COUNTY_DIGITS, out);
        return 0;
    default:
        return SJ_EINVAL;
    }
}

/* The unit made of the first `keep` digits of a village's or township's code
 * (the code itself when it is that unit already); SJ_EINVAL for a county's
 * code or an invalid one. */
static int enclosing_unit(const char *code, size_t keep, char out[SJ_ORGUNIT_CODE_SIZE])
{
    sj_level level = sj_orgunit_level(code);
    if (level != SJ_LEVEL_VILLAGE && level != SJ_LEVEL_TOWNSHIP)
        return SJ_EINVAL;
    truncate_code(code, keep, out);
    return 0;
}

int sj_orgunit_township_of(const char *code, char out[SJ_ORGUNIT_CODE_SIZE])
{
    return enclosing_unit(code, SJ__TOWNSHIP_END, out);
}

int sj_orgunit_county_of(const char *code, char out[SJ_ORGUNIT_CODE_SIZE])
{
    return enclosing_unit(code, SJ__COUNTY_DIGITS, out);
}

int sj_orgunit_at_level(const char *code, sj_level level, char out[SJ_ORGUNIT_CODE_SIZE])
{
    sj_level own = sj_orgunit_level(code);
    if (own == SJ_LEVEL_NONE || level < SJ_LEVEL_VILLAGE || level > SJ_LEVEL_COUNTY ||
        level < own)
        return SJ_EINVAL;
    size_t keep = level == SJ_LEVEL_COUNTY     ? SJ__COUNTY_DIGITS
                  : level == SJ_LEVEL_TOWNSHIP ? SJ__TOWNSHIP_END
                                               : SJ_ORGUNIT_CODE_LEN;
    truncate_code(code, keep, out);
    return 0;
}

bool sj_orgunit_contains(const char *outer, const char *unit)
{
    sj_level outer_level = sj_orgunit_level(outer);
    sj_level unit_level = sj_orgunit_level(unit);
    if (outer_level == SJ_LEVEL_NONE || unit_level == SJ_LEVEL_NONE)
        return false;
    if (unit_level > outer_level) /* a county never lies inside a township */
        return false;
    size_t prefix = outer_level == SJ_LEVEL_COUNTY     ? SJ__COUNTY_DIGITS
                    : outer_level == SJ_LEVEL_TOWNSHIP ? SJ__TOWNSHIP_END
                                                       : SJ_ORGUNIT_CODE_LEN;
    return memcmp(outer, unit, prefix) == 0;
}
