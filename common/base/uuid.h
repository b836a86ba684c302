/*
 * uuid.h - UUIDv7 identifiers (RFC 9562): message ids, case ids.
 *
 * Layout of a version 7 UUID (big-endian, 128 bits):
 *   48 bits  unix_ts_ms   milliseconds since 1970-01-01 UTC
 *    4 bits  ver = 0111
 *   12 bits  rand_a       a counter within one millisecond (RFC 9562 6.2,
 *                         method 1), seeded randomly each new millisecond
 *    2 bits  var = 10
 *   62 bits  rand_b       random (OpenSSL RAND_bytes, else getrandom)
 *
 * Ids made by one process are strictly increasing (memcmp order) even when
 * several fall in the same millisecond or the system clock steps back.
 *
 * Entry points: sj_uuid_v7(), sj_uuid_format(), sj_uuid_parse(),
 * sj_uuid_v7_time_ms(), sj_uuid_is_v7().
 * Everything writes into caller-owned buffers; nothing is allocated.
 * Thread-safe.
 */
#ifndef SJ_UUID_H
#define SJ_UUID_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define SJ_UUID_LEN 16
#define SJ_UUID_TEXT_LEN 36  /* 8-4-4-4-12 hex digits with hyphens */
#define SJ_UUID_TEXT_SIZE 37 /* with the terminating NUL */

/* Writes a new UUIDv7 into out.  Never fails: if neither OpenSSL nor the
 * kernel can give random bytes the process aborts (the system is broken). */
void sj_uuid_v7(uint8_t out[16]);

/* Writes the lower-case text form ("0190a6c4-...") and a NUL into out. */
void sj_uuid_format(const uint8_t id[16], char out[SJ_UUID_TEXT_SIZE]);

/* Parses the 36-character text form (either case; nothing before or after).
 * Returns 0, or SJ_EINVAL with err saying which character is wrong.  Any
 * version is accepted; use sj_uuid_is_v7() to insist on version 7. */
int sj_uuid_parse(const char *text, uint8_t out[16], sj_error *err);

/* True if id has version 7 and the RFC 9562 variant. */
bool sj_uuid_is_v7(const uint8_t id[16]);

/* The 48-bit millisecond timestamp of a UUIDv7. */
int64_t sj_uuid_v7_time_ms(const uint8_t id[16]);

#endif
