/*
 * test_frame.c - the frame decoder and header encoder: partial input at
 * every split point, many frames per chunk, the maximum exactly and one
 * over, zero length, truncation at end of stream, sticky failure, and no
 * allocation for frames that arrive whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "frame.h"

#define MAX_GOT 64

/* What the callback saw. */
typedef struct got {
    size_t n;
    size_t len[MAX_GOT];
    uint8_t first[MAX_GOT];
    uint8_t last[MAX_GOT];
    int stop_at;      /* return stop_code on this frame index (-1: never) */
    int stop_code;
    int buffered;     /* frames delivered from the decoder's own buffer */
    const sj_frame_decoder *dec;
} got;

static int on_frame(void *arg, const uint8_t *p, size_t len)
{
    got *g = arg;
    assert_true(g->n < MAX_GOT);
    g->len[g->n] = len;
    g->first[g->n] = p[0];
    g->last[g->n] = p[len - 1];
    if (g->dec != NULL && g->dec->buf != NULL && p == g->dec->buf)
        g->buffered++;
    int idx = (int)g->n++;
    return idx == g->stop_at ? g->stop_code : 0;
}

static void got_init(got *g, const sj_frame_decoder *dec)
{
    memset(g, 0, sizeof(*g));
    g->stop_at = -1;
    g->dec = dec;
}

/* Appends a frame of len bytes whose payload bytes are seed, seed+1, ... */
static size_t put_frame(uint8_t *out, uint32_t len, uint8_t seed)
{
    sj_frame_header_put(out, len);
    for (uint32_t i = 0; i < len; i++)
        out[SJ_FRAME_HEADER_SIZE + i] = (uint8_t)(seed + i);
    return SJ_FRAME_HEADER_SIZE + len;
}

static void test_header_is_big_endian(void **state)
{
    uint8_t h[4];
    sj_frame_header_put(h, 0x01020304u);
    assert_int_equal(h[0], 1);
    assert_int_equal(h[1], 2);
    assert_int_equal(h[2], 3);
    assert_int_equal(h[3], 4);
}

static void test_check_len(void **state)
{
    static const struct {
        size_t len;
        uint32_t max;
        int want;
    } cases[] = {
        {0, 100, SJ_EFRAME_EMPTY}, {1, 100, 0},
        {100, 100, 0},             {101, 100, SJ_EFRAME_TOO_LARGE},
        {(size_t)1 << 33, 100, SJ_EFRAME_TOO_LARGE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(sj_frame_check_len(cases[i].len, cases[i].max), cases[i].want);
}

/* Two frames (7 and 300 bytes) split into two chunks at every byte. */
static void test_split_at_every_byte(void **state)
{
    uint8_t buf[400];
    size_t n = put_frame(buf, 7, 10);
    n += put_frame(buf + n, 300, 50);
    for (size_t cut = 0; cut <= n; cut++) {
        sj_frame_decoder dec;
        got g;
        sj_frame_decoder_init(&dec, 1000);
        got_init(&g, &dec);
        assert_int_equal(sj_frame_decoder_feed(&dec, buf, cut, on_frame, &g), 0);
        assert_int_equal(sj_frame_decoder_feed(&dec, buf + cut, n - cut, on_frame, &g), 0);
        assert_int_equal(g.n, 2);
        assert_int_equal(g.len[0], 7);
        assert_int_equal(g.first[0], 10);
        assert_int_equal(g.last[0], 16);
        assert_int_equal(g.len[1], 300);
        assert_int_equal(g.first[1], 50);
        assert_int_equal(g.last[1], (uint8_t)(50 + 299));
        assert_int_equal(sj_frame_decoder_finish(&dec), 0);
        assert_null(dec.buf);
        sj_frame_decoder_release(&dec);
    }
}

static void test_one_byte_at_a_time(void **state)
{
    uint8_t buf[64];
    size_t n = put_frame(buf, 5, 1);
    n += put_frame(buf + n, 1, 9);
    sj_frame_decoder dec;
    got g;
    sj_frame_decoder_init(&dec, 16);
    got_init(&g, &dec);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sj_frame_decoder_feed(&dec, buf + i, 1, on_frame, &g), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.len[0], 5);
    assert_int_equal(g.len[1], 1);
    assert_int_equal(g.first[1], 9);
    assert_int_equal(sj_frame_decoder_finish(&dec), 0);
    sj_frame_decoder_release(&dec);
}

static void test_many_frames_in_one_chunk_without_copy(void **state)
{
    uint8_t buf[40 * (4 + 20)];
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        n += put_frame(buf + n, (uint32_t)(1 + i % 20), (uint8_t)i);
    sj_frame_decoder dec;
    got g;
    sj_frame_decoder_init(&dec, 20);
    got_init(&g, &dec);
    assert_int_equal(sj_frame_decoder_feed(&dec, buf, n, on_frame, &g), 0);
    assert_int_equal(g.n, 40);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(g.len[i], 1 + i % 20);
        assert_int_equal(g.first[i], i);
    }
    assert_int_equal(g.buffered, 0);
    assert_null(dec.buf);
    sj_frame_decoder_release(&dec);
}

/* Table: one stream fed whole; what comes out and what the feed returns. */
static void test_length_limits(void **state)
{
    static const struct {
        const char *name;
        uint32_t max;
        uint32_t len;
        int want_rc;
        size_t want_frames;
    } cases[] = {
        {"max exactly", 64, 64, 0, 1},
        {"max + 1", 64, 65, SJ_EFRAME_TOO_LARGE, 0},
        {"zero length", 64, 0, SJ_EFRAME_EMPTY, 0},
        {"one byte", 64, 1, 0, 1},
        {"4 GiB - 1 announced", 64, UINT32_MAX, SJ_EFRAME_TOO_LARGE, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[4 + 65];
        sj_frame_header_put(buf, cases[i].len);
        memset(buf + 4, 0xAB, 65);
        /* Only the header plus what is needed: a too-large length must be
         * refused on the header alone. */
        size_t feed = 4 + (cases[i].len <= 65 ? cases[i].len : 0);
        sj_frame_decoder dec;
        got g;
        sj_frame_decoder_init(&dec, cases[i].max);
        got_init(&g, &dec);
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(sj_frame_decoder_feed(&dec, buf, feed, on_frame, &g), cases[i].want_rc);
        assert_int_equal(g.n, cases[i].want_frames);
        assert_null(dec.buf);
        sj_frame_decoder_release(&dec);
    }
}

/* The length is refused from the header even when it arrives byte by byte
 * and before any payload byte. */
static void test_too_large_refused_before_buffering(void **state)
{
    uint8_t h[4];
    sj_frame_header_put(h, 1u << 30);
    sj_frame_decoder dec;
    got g;
    sj_frame_decoder_init(&dec, 1u << 20);
    got_init(&g, &dec);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sj_frame_decoder_feed(&dec, h + i, 1, on_frame, &g), 0);
    assert_int_equal(sj_frame_decoder_feed(&dec, h + 3, 1, on_frame, &g), SJ_EFRAME_TOO_LARGE);
    assert_null(dec.buf);
    sj_frame_decoder_release(&dec);
}

static void test_failure_is_sticky(void **state)
{
    uint8_t bad[4] = {0, 0, 0, 0};
    uint8_t good[16];
    size_t n = put_frame(good, 3, 1);
    sj_frame_decoder dec;
    got g;
    sj_frame_decoder_init(&dec, 16);
    got_init(&g, &dec);
    assert_int_equal(sj_frame_decoder_feed(&dec, bad, 4, on_frame, &g), SJ_EFRAME_EMPTY);
    assert_int_equal(sj_frame_decoder_feed(&dec, good, n, on_frame, &g), SJ_EFRAME_EMPTY);
    assert_int_equal(sj_frame_decoder_finish(&dec), SJ_EFRAME_EMPTY);
    assert_int_equal(g.n, 0);
    sj_frame_decoder_release(&dec);
}

/* End of stream inside the header, inside the payload, and on a boundary. */
static void test_truncated_at_close(void **state)
{
    uint8_t buf[32];
    size_t n = put_frame(buf, 10, 0);
    static const struct {
        size_t fed;
        int want;
    } cases[] = {{0, 0}, {2, SJ_EFRAME_TRUNCATED}, {4, SJ_EFRAME_TRUNCATED},
                 {9, SJ_EFRAME_TRUNCATED}, {13, SJ_EFRAME_TRUNCATED}, {14, 0}};
    assert_int_equal(n, 14);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_frame_decoder dec;
        got g;
        sj_frame_decoder_init(&dec, 16);
        got_init(&g, &dec);
        assert_int_equal(sj_frame_decoder_feed(&dec, buf, cases[i].fed, on_frame, &g), 0);
        assert_int_equal(sj_frame_decoder_finish(&dec), cases[i].want);
        assert_int_equal(sj_frame_decoder_in_frame(&dec), cases[i].want != 0);
        sj_frame_decoder_release(&dec); /* frees a partial payload */
    }
}

/* A callback error stops delivery at that frame and fails the decoder,
 * whether the frame came whole or assembled. */
static void test_callback_error_stops(void **state)
{
    uint8_t buf[64];
    size_t n = put_frame(buf, 5, 0);
    n += put_frame(buf + n, 5, 1);
    n += put_frame(buf + n, 5, 2);
    for (size_t cut = 0; cut <= n; cut++) {
        sj_frame_decoder dec;
        got g;
        sj_frame_decoder_init(&dec, 16);
        got_init(&g, &dec);
        g.stop_at = 1;
        g.stop_code = SJ_EFRAME_DECODE;
        int rc1 = sj_frame_decoder_feed(&dec, buf, cut, on_frame, &g);
        int rc2 = sj_frame_decoder_feed(&dec, buf + cut, n - cut, on_frame, &g);
        assert_int_equal(rc2, SJ_EFRAME_DECODE);
        assert_true(rc1 == 0 || rc1 == SJ_EFRAME_DECODE);
        assert_int_equal(g.n, 2);
        assert_null(dec.buf);
        sj_frame_decoder_release(&dec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_is_big_endian),
        cmocka_unit_test(test_check_len),
        cmocka_unit_test(test_split_at_every_byte),
        cmocka_unit_test(test_one_byte_at_a_time),
        cmocka_unit_test(test_many_frames_in_one_chunk_without_copy),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_too_large_refused_before_buffering),
        cmocka_unit_test(test_failure_is_sticky),
        cmocka_unit_test(test_truncated_at_close),
        cmocka_unit_test(test_callback_error_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
