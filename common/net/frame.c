/*
 * frame.c - incremental decoder and header encoder for Sanji frames
 * (4-byte big-endian length + payload).  See frame.h for the contract.
 *
 * Entry points: sj_frame_decoder_init(), sj_frame_decoder_feed(),
 * sj_frame_decoder_finish(), sj_frame_decoder_release(),
 * sj_frame_header_put(), sj_frame_check_len().
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

void sj_frame_decoder_init(sj_frame_decoder *dec, uint32_t max_len)
{
    if (dec == NULL || max_len == 0)
        abort(); /* caller bug: a link must accept some payload */
    memset(dec, 0, sizeof(*dec));
    dec->max_len = max_len;
}

void sj_frame_decoder_release(sj_frame_decoder *dec)
{
    if (dec == NULL)
        return;
    free(dec->buf);
    dec->buf = NULL;
    dec->have = 0;
}

int sj_frame_check_len(size_t len, uint32_t max_len)
{
    if (len == 0)
        return SJ_EFRAME_EMPTY;
    if (len > max_len)
        return SJ_EFRAME_TOO_LARGE;
    return 0;
}

void sj_frame_header_put(uint8_t out[SJ_FRAME_HEADER_SIZE], uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}

static uint32_t header_get(const uint8_t h[SJ_FRAME_HEADER_SIZE])
{
    return ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
}

/* Records a failure; the decoder is unusable from now on, so the assembly
 * buffer is not needed any more. */
static int fail(sj_frame_decoder *dec, int code)
{
    dec->status = code;
    free(dec->buf);
    dec->buf = NULL;
    dec->have = 0;
    return code;
}

int sj_frame_decoder_feed(sj_frame_decoder *dec, const void *data, size_t len,
                          sj_frame_cb cb, void *arg)
{
    if (dec == NULL || cb == NULL || (data == NULL && len > 0))
        abort(); /* caller bug */
    if (dec->status != 0)
        return dec->status;

    const uint8_t *p = data;
    const uint8_t *end = p + len;
    while (p < end) {
        if (dec->hdr_have < SJ_FRAME_HEADER_SIZE) {
            /* Fast path: a whole header and payload in the input, nothing
             * partial pending: deliver straight from the input. */
            if (dec->hdr_have == 0 && (size_t)(end - p) >= SJ_FRAME_HEADER_SIZE) {
                uint32_t n = header_get(p);
                int rc = sj_frame_check_len(n, dec->max_len);
                if (rc != 0)
                    return fail(dec, rc);
                if ((size_t)(end - p) - SJ_FRAME_HEADER_SIZE >= n) {
                    rc = cb(arg, p + SJ_FRAME_HEADER_SIZE, n);
                    if (rc != 0)
                        return fail(dec, rc);
                    p += SJ_FRAME_HEADER_SIZE + (size_t)n;
                    continue;
                }
            }
            size_t take = SJ_FRAME_HEADER_SIZE - dec->hdr_have;
            if (take > (size_t)(end - p))
                take = (size_t)(end - p);
            memcpy(dec->hdr + dec->hdr_have, p, take);
            dec->hdr_have = (uint8_t)(dec->hdr_have + take);
            p += take;
            if (dec->hdr_have < SJ_FRAME_HEADER_SIZE)
                break;
            uint32_t n = header_get(dec->hdr);
            int rc = sj_frame_check_len(n, dec->max_len);
            if (rc != 0)
                return fail(dec, rc);
            dec->need = n;
            dec->have = 0;
            /* Whole payload available now: no copy needed. */
            if ((size_t)(end - p) >= n) {
                rc = cb(arg, p, n);
                if (rc != 0)
                    return fail(dec, rc);
                p += n;
                dec->hdr_have = 0;
                continue;
            }
            /* Split payload: the length was checked above, so the
             * allocation is bounded by max_len. */
            dec->buf = malloc(n);
            if (dec->buf == NULL)
                return fail(dec, SJ_ENOMEM);
        }
        size_t take = dec->need - dec->have;
        if (take > (size_t)(end - p))
            take = (size_t)(end - p);
        memcpy(dec->buf + dec->have, p, take);
        dec->have += (uint32_t)take;
        p += take;
        if (dec->have < dec->need)
            break;
        int rc = cb(arg, dec->buf, dec->need);
        /* Released per frame so that idle links hold no buffer. */
        free(dec->buf);
        dec->buf = NULL;
        dec->have = 0;
        dec->hdr_have = 0;
        if (rc != 0)
            return fail(dec, rc);
    }
    return 0;
}

int sj_frame_decoder_finish(const sj_frame_decoder *dec)
{
    if (dec->status != 0)
        return dec->status;
    if (dec->hdr_have != 0)
        return SJ_EFRAME_TRUNCATED;
    return 0;
}

int sj_frame_decoder_in_frame(const sj_frame_decoder *dec)
{
    return dec->status == 0 && dec->hdr_have != 0;
}
