/*
 * workload.h - test helper: realistic, reproducible case data for load
 * generators (the chaos run, the benchmarks).
 *
 * A workload loads the demo county's reference data (deploy/demo/
 * catalogue.csv: item codes with the lowest level that can finish them;
 * deploy/demo/orgunits.csv: townships and villages) and draws from it with a
 * fast seeded PRNG (xoshiro256**, seeded through splitmix64), so that the
 * same seed gives the same stream of applicants, items and texts on every
 * machine.  Applicants get Chinese names, 18-character resident ID numbers
 * of county 410423 with a plausible birth date and a valid check character
 * (GB 11643-1999, common/domain/personal.h), and valid mainland mobile numbers.
 * Nothing here touches the network.
 *
 * Ownership: sj_workload_new() allocates the workload; sj_workload_free()
 * frees it and every string it handed out (item codes, unit codes, names
 * are borrowed pointers into it, valid until then).  Output buffers of
 * the generators belong to the caller.  A workload is for one thread: give
 * each thread its own (e.g. seed + thread number).
 *
 * Errors: sj_workload_new() returns 0 or a negative SJ_E* code with err
 * saying which file or line was wrong.  The generators cannot fail.
 *
 * Entry points: sj_workload_new(), sj_workload_free(), sj_workload_rand(),
 * sj_workload_below(), sj_workload_applicant(), sj_workload_item(),
 * sj_workload_item_level(), sj_workload_text(), sj_workload_village_count(),
 * sj_workload_village(), sj_workload_township_count(),
 * sj_workload_township(), sj_workload_villages_of().
 */
#ifndef SJ_TEST_WORKLOAD_H
#define SJ_TEST_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "err.h"

typedef struct sj_workload sj_workload;

#define SJ_WORKLOAD_NAME_SIZE 16  /* a Chinese name of 2-3 characters, UTF-8, NUL */
#define SJ_WORKLOAD_ID_SIZE 19    /* 18 characters and NUL */
#define SJ_WORKLOAD_PHONE_SIZE 12 /* 11 digits and NUL */

/* Loads <demo_dir>/catalogue.csv and <demo_dir>/orgunits.csv and seeds the
 * PRNG.  demo_dir NULL means $SANJI_SOURCE_DIR/deploy/demo.  On success
 * *out owns a new workload (free with sj_workload_free()).  Returns 0,
 * SJ_EIO (a file cannot be read), SJ_EBAD_FIELD (a malformed row, with
 * FILE:LINE in err), SJ_EINVAL (no demo_dir and no SANJI_SOURCE_DIR, or a
 * file without items or villages), SJ_ENOMEM. */
int sj_workload_new(uint64_t seed, const char *demo_dir, sj_workload **out, sj_error *err);

/* Frees w and everything it handed out; NULL is allowed. */
void sj_workload_free(sj_workload *w);

/* The next 64 random bits. */
uint64_t sj_workload_rand(sj_workload *w);

/* A uniform number in [0, n) without modulo bias; 0 when n is 0. */
uint64_t sj_workload_below(sj_workload *w, uint64_t n);

/* A made-up applicant: a Chinese name, a resident ID (region 410423, born
 * 1940-2006, the sequence's sex digit matching the name's given sex, valid
 * check character) and a mobile number.  Any output may be NULL. */
void sj_workload_applicant(sj_workload *w, char name[SJ_WORKLOAD_NAME_SIZE],
                           char id_number[SJ_WORKLOAD_ID_SIZE],
                           char phone[SJ_WORKLOAD_PHONE_SIZE]);

/* An item code that can be finished at `level` (its lowest level is at or
 * below it), or any item for SJ_LEVEL_NONE.  Borrowed from w.  Never NULL:
 * every level has village items in the demo catalogue (checked on load). */
const char *sj_workload_item(sj_workload *w, sj_level level);

/* The lowest level that can finish `code`; SJ_LEVEL_NONE if unknown. */
sj_level sj_workload_item_level(const sj_workload *w, const char *code);

/* A plausible request text (Chinese, 20-120 bytes), NUL-terminated and cut
 * at a character boundary to fit cap.  Returns its length in bytes. */
size_t sj_workload_text(sj_workload *w, char *buf, size_t cap);

/* Villages and townships in file order; i must be below the count (a
 * caller's bug otherwise: abort).  Codes are 12 digits, borrowed from w;
 * name may be NULL. */
size_t sj_workload_village_count(const sj_workload *w);
const char *sj_workload_village(const sj_workload *w, size_t i, const char **name);
size_t sj_workload_township_count(const sj_workload *w);
const char *sj_workload_township(const sj_workload *w, size_t i, const char **name);

/* Fills out (room for max) with up to max village codes of `township`, in
 * file order; returns how many there are in all (which may exceed max). */
size_t sj_workload_villages_of(const sj_workload *w, const char *township, const char **out,
                               size_t max);

#endif
