/*
 * delta_input.h - the input layout of fuzz_case_delta: bytes -> (base case,
 * base version, CaseDelta), shared by the target and the seed maker so that
 * seeds written by one are read the same way by the other, and the fixed
 * base cases of both are the same cases (tests/unit/test_case_delta.c uses
 * the first as its case in the middle of its life).
 *
 * Layout: one mode byte, then
 *   mode bit 0 clear: the packed CaseDelta, applied to fixed base case
 *                     number (mode >> 2) % FUZZ_DELTA_BASES;
 *   mode bit 0 set:   two bytes (little-endian) giving the length L of the
 *                     packed base Case that follows (cut to what is left),
 *                     then the packed CaseDelta;
 *   mode bit 1 set:   the version the delta is applied at is one more than
 *                     the base's (a station whose stored case is not the
 *                     sender's base), else the base's own.
 *
 * Entry points: fuzz_delta_base(), fuzz_delta_encode().
 */
#ifndef FUZZ_DELTA_INPUT_H
#define FUZZ_DELTA_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "sanji.pb-c.h"

#define FUZZ_DELTA_BASES 3
#define FUZZ_DELTA_SPLIT 0x01u       /* base Case in the input */
#define FUZZ_DELTA_WRONG_VERSION 0x02u

/* Fixed base case number i (0: accepted by a township, in the middle of its
 * life; 1: just registered at a village; 2: closed after a 差评 and its
 * rectification), filled into caller-owned c and a; the texts are static. */
void fuzz_delta_base(unsigned i, Sanji__Case *c, Sanji__Applicant *a);

/* Writes the input for mode, base (only with FUZZ_DELTA_SPLIT) and delta
 * into a malloc'd buffer; NULL when out of memory or the base is longer
 * than two bytes can say. */
uint8_t *fuzz_delta_encode(uint8_t mode, const Sanji__Case *base, const Sanji__CaseDelta *d,
                           size_t *len);

#endif
