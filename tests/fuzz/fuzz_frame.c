/*
 * fuzz_frame.c - libFuzzer target for everything a peer's bytes reach
 * before any tier code: the frame decoder and Envelope unpacking.
 *
 * Input layout: the first byte seeds the chunking (how the stream is cut
 * into reads, from 1 byte at a time to everything at once), the rest is the
 * byte stream as it would arrive from TLS.  Each complete frame is unpacked
 * and, when valid, re-packed and unpacked again, which must succeed and give
 * the same message id.  Every failure must be a table code.
 *
 * Entry point: LLVMFuzzerTestOneInput().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "err.h"
#include "frame.h"

/* Small enough that the fuzzer reaches the limit, large enough for real
 * messages. */
#define FUZZ_MAX_FRAME 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_table_code(int rc)
{
    return rc <= 0 && strcmp(sj_err_name(rc), "UNKNOWN") != 0;
}

static int on_frame(void *arg, const uint8_t *payload, size_t len)
{
    size_t *frames = arg;
    (*frames)++;
    Sanji__Envelope *env = NULL;
    sj_error err;
    int rc = sj_envelope_unpack(payload, len, &env, &err);
    if (!is_table_code(rc))
        abort();
    if (rc != 0) {
        if (env != NULL)
            abort();
        /* Keep going on odd frames so that later frames are fuzzed too. */
        return (len & 1) ? 0 : rc;
    }
    uint8_t *frame;
    size_t flen;
    uint8_t id[SJ_ENVELOPE_ID_SIZE];
    rc = sj_envelope_pack(env, NULL, UINT32_MAX, &frame, &flen, id, &err);
    if (rc != 0 || memcmp(id, env->message_id.data, SJ_ENVELOPE_ID_SIZE) != 0)
        abort(); /* a message we accepted must be sendable unchanged */
    Sanji__Envelope *again = NULL;
    rc = sj_envelope_unpack(frame + SJ_FRAME_HEADER_SIZE, flen - SJ_FRAME_HEADER_SIZE, &again, &err);
    if (rc != 0 || again->body_case != env->body_case)
        abort();
    sj_envelope_free(again);
    free(frame);
    sj_envelope_free(env);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t seed = data[0];
    data++;
    size--;
    sj_frame_decoder dec;
    sj_frame_decoder_init(&dec, FUZZ_MAX_FRAME);
    size_t frames = 0;
    size_t off = 0;
    int rc = 0;
    while (off < size) {
        /* seed 0: all at once; otherwise pseudo-random chunks of 1..seed*4. */
        size_t chunk = size - off;
        if (seed != 0) {
            seed = seed * 1103515245u + 12345u;
            size_t c = 1 + (seed >> 16) % ((size_t)data[-1] * 4);
            if (c < chunk)
                chunk = c;
        }
        rc = sj_frame_decoder_feed(&dec, data + off, chunk, on_frame, &frames);
        if (!is_table_code(rc))
            abort();
        off += chunk;
        if (rc != 0)
            break;
    }
    rc = sj_frame_decoder_finish(&dec);
    if (!is_table_code(rc))
        abort();
    sj_frame_decoder_release(&dec);
    return 0;
}
