/*
 * frame.h - Sanji link framing: a 4-byte big-endian length, then the payload
 * (one serialized Envelope, see envelope.h).
 *
 * The decoder is incremental: feed it whatever the transport delivered
 * (half a header, three frames and a bit, one byte at a time) and it calls
 * back once per complete payload.  The length is checked against the
 * configured maximum as soon as the 4 header bytes are in, BEFORE any
 * payload byte is buffered, so a hostile peer cannot make it allocate more
 * than the maximum.  A frame that arrives whole inside one fed chunk is
 * handed to the callback straight from the caller's buffer, with no copy and
 * no allocation; only a frame split across chunks is assembled in a buffer
 * that is sized to that frame and released when it completes, so an idle
 * decoder holds no heap memory.
 *
 * After any error the decoder stays failed: every later feed returns the
 * same code without looking at the input.  A link whose framing broke
 * cannot be resynchronised and must be closed.
 *
 * Entry points: sj_frame_decoder_init(), sj_frame_decoder_feed(),
 * sj_frame_decoder_finish(), sj_frame_decoder_release(),
 * sj_frame_header_put(), sj_frame_check_len().
 */
#ifndef SJ_FRAME_H
#define SJ_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Size of the length prefix. */
#define SJ_FRAME_HEADER_SIZE 4

/* Default maximum payload (1 MiB); links may configure another. */
#define SJ_FRAME_DEFAULT_MAX (1u << 20)

/* Called once per complete payload.  `payload` is valid only during the
 * call (it may point into the caller's input or into the decoder's buffer);
 * copy what must outlive it.  Return 0 to go on, or a negative SJ_E* code to
 * stop: the decoder then fails with that code and feed returns it.  The
 * callback must not feed the same decoder again. */
typedef int (*sj_frame_cb)(void *arg, const uint8_t *payload, size_t len);

/* Embedded by value in its owner (a connection); initialise with
 * sj_frame_decoder_init() and release with sj_frame_decoder_release().
 * The fields are private. */
typedef struct sj_frame_decoder {
    uint32_t max_len;    /* largest payload accepted */
    int status;          /* 0, or the sticky error */
    uint8_t hdr[SJ_FRAME_HEADER_SIZE];
    uint8_t hdr_have;    /* header bytes collected (0..4) */
    uint32_t need;       /* payload length of the frame being assembled */
    uint32_t have;       /* payload bytes collected in buf */
    uint8_t *buf;        /* only while a split frame is being assembled */
} sj_frame_decoder;

/* Prepares dec to accept payloads of 1..max_len bytes.  Allocates nothing.
 * max_len must be at least 1 (0 is a caller bug and aborts). */
void sj_frame_decoder_init(sj_frame_decoder *dec, uint32_t max_len);

/* Consumes len bytes of input, calling cb(arg, payload, n) for each complete
 * frame in order.  Returns 0 when all input was consumed (a partial frame
 * may remain buffered), or a negative code, after which the decoder stays
 * failed:
 *   SJ_EFRAME_TOO_LARGE  a header announced more than max_len bytes
 *   SJ_EFRAME_EMPTY      a header announced 0 bytes
 *   SJ_ENOMEM            no memory to assemble a split frame
 *   any code the callback returned.
 * len may be 0.  data may be NULL only when len is 0. */
int sj_frame_decoder_feed(sj_frame_decoder *dec, const void *data, size_t len,
                          sj_frame_cb cb, void *arg);

/* Called when the stream has ended: returns SJ_EFRAME_TRUNCATED if the
 * stream stopped inside a frame (header or payload), the sticky error if
 * the decoder had failed, and 0 if it ended on a frame boundary. */
int sj_frame_decoder_finish(const sj_frame_decoder *dec);

/* True while a frame is partly received (for idle and progress checks). */
int sj_frame_decoder_in_frame(const sj_frame_decoder *dec);

/* Frees the assembly buffer, if any.  The decoder may then be initialised
 * again; releasing twice is harmless. */
void sj_frame_decoder_release(sj_frame_decoder *dec);

/* Checks that a payload of len bytes may be sent on a link whose maximum is
 * max_len: 0, SJ_EFRAME_EMPTY or SJ_EFRAME_TOO_LARGE. */
int sj_frame_check_len(size_t len, uint32_t max_len);

/* Writes the 4-byte big-endian header for a payload of len bytes
 * (len <= UINT32_MAX; check it first with sj_frame_check_len()). */
void sj_frame_header_put(uint8_t out[SJ_FRAME_HEADER_SIZE], uint32_t len);

#endif
