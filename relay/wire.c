/*
 * wire.c - the county's Ack passed through as bytes (wire.h): finding a
 * field in a packed message, and an Envelope frame around a packed Ack.
 */
#include "wire.h"

#include <string.h>
#include <time.h>

#include "envelope.h"
#include "err.h"
#include "frame.h"
#include "uuid.h"

/* A varint at *p (before end): 0 and advances *p, or -1 when malformed. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

int relay_wire_field(const uint8_t *msg, size_t len, uint32_t field, const uint8_t **out,
                     size_t *out_len)
{
    const uint8_t *p = msg, *end = msg + len;
    while (p < end) {
        uint64_t key, v;
        if (read_varint(&p, end, &key) != 0)
            return SJ_EFRAME_BAD_FIELD;
        switch (key & 7) {
        case 0: /* varint */
            if (read_varint(&p, end, &v) != 0)
                return SJ_EFRAME_BAD_FIELD;
            break;
        case 1: /* 64-bit */
            if ((size_t)(end - p) < 8)
                return SJ_EFRAME_BAD_FIELD;
            p += 8;
            break;
        case 2: /* length-delimited */
            if (read_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
                return SJ_EFRAME_BAD_FIELD;
            if ((key >> 3) == field) {
                *out = p;
                *out_len = (size_t)v;
                return 0;
            }
            p += v;
            break;
        case 5: /* 32-bit */
            if ((size_t)(end - p) < 4)
                return SJ_EFRAME_BAD_FIELD;
            p += 4;
            break;
        default: /* groups are not used by Sanji's protocol */
            return SJ_EFRAME_BAD_FIELD;
        }
    }
    return SJ_ENOTFOUND;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* The Ack's key: field SANJI__ENVELOPE__BODY_ACK, length-delimited. */
#define ACK_KEY (((uint64_t)SANJI__ENVELOPE__BODY_ACK << 3) | 2)

/* The Envelope's header fields as sj_envelope_pack() stamps them; id backs
 * the message id. */
static Sanji__Envelope header(const char *sender_node, uint8_t id[SJ_ENVELOPE_ID_SIZE])
{
    Sanji__Envelope e = SANJI__ENVELOPE__INIT;
    e.version = SJ_ENVELOPE_VERSION;
    e.message_id.data = id;
    e.message_id.len = SJ_ENVELOPE_ID_SIZE;
    e.sender_node = (char *)sender_node;
    return e;
}

size_t relay_wire_ack_frame_size(const char *sender_node, size_t ack_len)
{
    uint8_t id[SJ_ENVELOPE_ID_SIZE] = {0};
    Sanji__Envelope e = header(sender_node, id);
    e.sent_at_ms = INT64_MAX; /* the widest the stamp can be */
    return SJ_FRAME_HEADER_SIZE + sanji__envelope__get_packed_size(&e) + varint_size(ACK_KEY) +
           varint_size(ack_len) + ack_len;
}

size_t relay_wire_ack_frame(uint8_t *buf, const char *sender_node, const uint8_t *ack,
                            size_t ack_len)
{
    uint8_t id[SJ_ENVELOPE_ID_SIZE];
    sj_uuid_v7(id);
    Sanji__Envelope e = header(sender_node, id);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    e.sent_at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    uint8_t *p = buf + SJ_FRAME_HEADER_SIZE;
    p += sanji__envelope__pack(&e, p);
    p += put_varint(p, ACK_KEY);
    p += put_varint(p, ack_len);
    memcpy(p, ack, ack_len);
    p += ack_len;
    size_t n = (size_t)(p - buf);
    sj_frame_header_put(buf, (uint32_t)(n - SJ_FRAME_HEADER_SIZE));
    return n;
}
