/*
 * hex.h - test helper: 16-byte ids (message and case ids) as the 32
 * lower-case hex digits that PostgreSQL's encode(id, 'hex') and the test
 * journals write.
 *
 * Ownership: nothing is allocated; the caller owns the buffers.
 *
 * Entry points: sj_test_hex16_parse(), sj_test_hex16_format().
 */
#ifndef SJ_TEST_HEX_H
#define SJ_TEST_HEX_H

#include <stdbool.h>
#include <stdint.h>

/* Reads exactly 32 hex digits (either case) of s into out.  Returns false,
 * with out partly written, for NULL, another length or a non-hex digit. */
bool sj_test_hex16_parse(const char *s, uint8_t out[16]);

/* Writes the 32 lower-case hex digits of b and a NUL into out. */
void sj_test_hex16_format(const uint8_t b[16], char out[33]);

#endif
