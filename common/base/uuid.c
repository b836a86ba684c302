/*
 * uuid.c - UUIDv7 generation (monotonic counter in rand_a), text form.
 * See uuid.h.
 *
 * Entry points: sj_uuid_v7(), sj_uuid_format(), sj_uuid_parse(),
 * sj_uuid_is_v7(), sj_uuid_v7_time_ms().
 */
#include "uuid.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "clock.h"

static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t uuid_last_ms = -1;
static uint32_t uuid_counter; /* 12 bits used */

/* Random bytes are drawn from OpenSSL's generator a few kilobytes at a
 * time and handed out from a buffer of the calling thread: one
 * RAND_bytes() per id (its locks and per-call set-up) was a few percent
 * of a relay's CPU, which stamps a new id on every frame it sends.  The
 * buffer remembers the process it was filled in, so that a child of
 * fork() never hands out its parent's bytes again. */
#define UUID_POOL 4096
static __thread struct {
    uint8_t bytes[UUID_POOL];
    size_t used;
    pid_t pid;
} uuid_pool = {.used = UUID_POOL};

static bool pool_take(uint8_t *buf, size_t n)
{
    pid_t pid = getpid();
    if (uuid_pool.used + n > UUID_POOL || uuid_pool.pid != pid) {
        if (RAND_bytes(uuid_pool.bytes, UUID_POOL) != 1)
            return false;
        uuid_pool.used = 0;
        uuid_pool.pid = pid;
    }
    memcpy(buf, uuid_pool.bytes + uuid_pool.used, n);
    /* What was handed out is not kept. */
    memset(uuid_pool.bytes + uuid_pool.used, 0, n);
    uuid_pool.used += n;
    return true;
}

static void uuid_random(uint8_t *buf, size_t n)
{
    if (pool_take(buf, n))
        return;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            /* No randomness anywhere: ids could collide; refuse to go on. */
            fprintf(stderr, "sanji: 无法获取随机数 (no random bytes from OpenSSL or getrandom)\n");
            abort();
        }
        got += (size_t)r;
    }
}

void sj_uuid_v7(uint8_t out[16])
{
    uint8_t rnd[10];
    uuid_random(rnd, sizeof(rnd));
    /* The system clock, not the fakeable business clock: ids must keep
     * increasing across a change of the fake offset. */
    int64_t now = sj_clock_system_ms();

    pthread_mutex_lock(&uuid_lock);
    int64_t ms;
    if (now > uuid_last_ms) {
        ms = now;
        /* Seed the counter randomly but below 2^11, leaving at least 2048
         * increments before it overflows within one millisecond. */
        uuid_counter = ((uint32_t)rnd[0] << 8 | rnd[1]) & 0x7ff;
    } else {
        /* Same millisecond, or the clock stepped back: keep the last
         * timestamp and count on; on overflow borrow the next millisecond. */
        ms = uuid_last_ms;
        uuid_counter++;
        if (uuid_counter > 0xfff) {
            ms++;
            uuid_counter = 0;
        }
    }
    uuid_last_ms = ms;
    uint32_t counter = uuid_counter;
    pthread_mutex_unlock(&uuid_lock);

    uint64_t ts = (uint64_t)ms;
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ts >> (40 - 8 * i));
    out[6] = (uint8_t)(0x70 | (counter >> 8));
    out[7] = (uint8_t)(counter & 0xff);
    out[8] = (uint8_t)(0x80 | (rnd[2] & 0x3f));
    memcpy(out + 9, rnd + 3, 7);
}

void sj_uuid_format(const uint8_t id[16], char out[SJ_UUID_TEXT_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[id[i] >> 4];
        out[o++] = hex[id[i] & 15];
    }
    out[o] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sj_uuid_parse(const char *text, uint8_t out[16], sj_error *err)
{
    if (text == NULL)
        return sj_error_set(err, SJ_EINVAL, "UUID 为空 (no UUID given)");
    size_t len = strnlen(text, SJ_UUID_TEXT_LEN + 1);
    if (len != SJ_UUID_TEXT_LEN)
        return sj_error_set(err, SJ_EINVAL,
                            "UUID 长度不正确 (UUID text has %s%zu characters; expected 36 as "
                            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                            len > SJ_UUID_TEXT_LEN ? "more than " : "", len > 36 ? (size_t)36 : len);
    uint8_t id[16];
    size_t b = 0;
    for (size_t i = 0; i < SJ_UUID_TEXT_LEN;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return sj_error_set(err, SJ_EINVAL,
                                    "UUID 格式不正确 (character %zu must be '-'; expected "
                                    "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                                    i + 1);
            i++;
            continue;
        }
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0)
            return sj_error_set(err, SJ_EINVAL,
                                "UUID 格式不正确 (character %zu is not a hexadecimal digit)",
                                hi < 0 ? i + 1 : i + 2);
        id[b++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    memcpy(out, id, 16);
    return 0;
}

bool sj_uuid_is_v7(const uint8_t id[16])
{
    return (id[6] >> 4) == 7 && (id[8] & 0xc0) == 0x80;
}

int64_t sj_uuid_v7_time_ms(const uint8_t id[16])
{
    uint64_t ts = 0;
    for (int i = 0; i < 6; i++)
        ts = ts << 8 | id[i];
    return (int64_t)ts;
}
