/*
 * haocha.h - the county's export of evaluations (政务服务"好差评") for the
 * province's unified 好差评 platform: `sanji-countyd haocha-export`.
 *
 * One CSV row per evaluation recorded in a span of China dates: every
 * FEEDBACK (the villager's evaluation at the station) and every CALLBACK
 * (the 回访 after a 差评 was rectified), with the case's item, the unit
 * that served it, the level on the five-level scale and, for a 差评, its
 * rectification and call back.  The format is docs/STATISTICS.md "好差评
 * export"; the applicant's name, ID number and phone are never written.
 *
 * Entry points: countyd_haocha_export(), countyd_haocha_export_file(),
 * countyd_haocha_days().
 */
#ifndef COUNTYD_HAOCHA_H
#define COUNTYD_HAOCHA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "err.h"

/* The instants [*from_ms, *to_ms) of the China dates from..to, both
 * counted ("YYYY-MM-DD").  Returns 0 or SJ_EINVAL (a bad date, or to
 * before from) with err in the user's language. */
int countyd_haocha_days(const char *from, const char *to, int64_t *from_ms, int64_t *to_ms,
                        sj_error *err);

/* Writes the evaluations recorded in [from_ms, to_ms) to out, header
 * first, in time order, and their number to *rows.  Returns 0, SJ_EIO (out
 * could not be written) or SJ_EDB/SJ_EDB_CONN. */
int countyd_haocha_export(PGconn *db, int64_t from_ms, int64_t to_ms, FILE *out, size_t *rows,
                          sj_error *err);

/* The same into the file at path, written to path.tmp and renamed, so that
 * a failure leaves no half file to upload.  Returns as above. */
int countyd_haocha_export_file(PGconn *db, int64_t from_ms, int64_t to_ms, const char *path,
                               size_t *rows, sj_error *err);

#endif
