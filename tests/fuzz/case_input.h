/*
 * case_input.h - the input layout of fuzz_case: bytes -> (case, action,
 * actor), shared by the target and the seed maker so that seeds written by
 * one are read the same way by the other.
 *
 * Layout: a fixed header of FUZZ_CASE_HEADER bytes (one byte per field,
 * see case_input.c), then NUL-separated texts: the action's note, result
 * and department, the case's department, result and return reason, a raw
 * unit code, then material names (the action's list first, then the
 * case's).  Missing texts are empty.
 *
 * Ownership: fuzz_case_input_decode() fills a caller-owned fuzz_case_input
 * whose texts are malloc'd (exact sizes, so that AddressSanitizer sees any
 * read past a text); fuzz_case_input_free() frees them.  The sj_case and
 * sj_action point into it until then.
 *
 * Entry points: fuzz_case_input_decode(), fuzz_case_input_free(),
 * fuzz_case_input_header().
 */
#ifndef FUZZ_CASE_INPUT_H
#define FUZZ_CASE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"

#define FUZZ_CASE_HEADER 24
#define FUZZ_CASE_TEXTS 7 /* note, result, department, case dept/result/reason, raw unit */

typedef struct fuzz_case_input {
    sj_case cur;
    sj_action act;
    sj_actor actor;
    char *texts[FUZZ_CASE_TEXTS];
    char **pieces;               /* the material names, in input order */
    size_t n_pieces;
    const char **act_materials;  /* n = act.n_materials */
    const char **cur_materials;  /* n = cur.n_materials */
} fuzz_case_input;

/* The villages the selectors pick from (two townships, two counties). */
#define FUZZ_CASE_VILLAGES 4
extern const char *const fuzz_case_villages[FUZZ_CASE_VILLAGES];

/* Decodes; always succeeds (short input reads as zeros).  Returns 0, or -1
 * when out of memory (nothing to free then). */
int fuzz_case_input_decode(const uint8_t *data, size_t size, fuzz_case_input *in);
void fuzz_case_input_free(fuzz_case_input *in);

/* The header bytes that decode to this case, action and actor, for the seed
 * maker: the village and actor unit given as indexes into
 * fuzz_case_villages plus a level; holder and resolver units derived from
 * the village.  Texts follow in the seed file. */
typedef struct fuzz_case_seed {
    sj_case_status status, resume_status;
    sj_level holder_level, item_min_level, resolved_level;
    uint8_t flags;
    uint8_t warn_level, urge_count, materials_rounds;
    sj_satisfaction satisfaction;
    uint8_t version;
    uint8_t village;
    sj_person_role role;
    uint8_t actor_village;
    sj_level actor_level;
    sj_case_action action;
    int8_t version_delta;
    uint8_t at;
    sj_satisfaction act_satisfaction;
    uint8_t warn_percent;
    uint8_t n_act_materials, n_cur_materials;
    uint8_t null_mask;
    uint8_t notify; /* header byte 22 (case_input.c) */
    uint8_t persons; /* header byte 23 (case_input.c) */
} fuzz_case_seed;
void fuzz_case_input_header(const fuzz_case_seed *s, uint8_t out[FUZZ_CASE_HEADER]);

#endif
