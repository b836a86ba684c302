/*
 * hex.c - test helper: 16-byte ids to and from 32 hex digits (hex.h has
 * the contract).
 *
 * Entry points: sj_test_hex16_parse(), sj_test_hex16_format().
 */
#include "hex.h"

#include <stdio.h>
#include <string.h>

bool sj_test_hex16_parse(const char *s, uint8_t out[16])
{
    if (!s || strlen(s) != 32)
        return false;
    for (int i = 0; i < 16; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

void sj_test_hex16_format(const uint8_t b[16], char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}
