/*
 * envelope.h - the Envelope codec: stamping and packing an outgoing
 * Envelope into a complete frame, and unpacking and validating an incoming
 * frame payload.
 *
 * Packing stamps the fields a sender must not get wrong: version 1 always;
 * a fresh UUIDv7 message id unless the Envelope already carries a 16-byte
 * id (a relay forwarding, or an outbox redelivering, keeps the original id,
 * which is the idempotency key of G2); the sender node unless already set
 * (forwarded messages keep the original sender); the send time unless
 * already set.  The caller's Envelope is never modified.
 *
 * Unpacking uses protobuf-c with a bounded allocator (a hostile payload of
 * n bytes can make protobuf-c allocate many times n, e.g. a repeated field
 * of empty sub-messages), then validates, each failure with its own code:
 *   SJ_EFRAME_DECODE       not a protobuf Envelope, or over the memory budget
 *   SJ_EFRAME_NO_BODY      no body set
 *   SJ_EFRAME_BAD_VERSION  version != 1
 *   SJ_EFRAME_BAD_ID       message id not exactly 16 bytes
 *   SJ_EFRAME_BAD_FIELD    a string anywhere in the message is not valid
 *                          UTF-8 (sj_utf8_valid(); protobuf-c 1.4 does not
 *                          check this)
 *
 * Entry points: sj_envelope_pack(), sj_envelope_pack_into(),
 * sj_envelope_packed_size(), sj_envelope_unpack(), sj_envelope_free(),
 * sj_envelope_body_level(), sj_protocol_level_agree().
 */
#ifndef SJ_ENVELOPE_H
#define SJ_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sanji.pb-c.h"
#include "utf8.h"

/* The Envelope's wire format (Envelope.version): 1, unchanged since the
 * first release, so that every release can read every other's frames. */
#define SJ_ENVELOPE_VERSION 1u

/* The protocol level (docs/PROTOCOL.md "Protocol levels"): which bodies a
 * peer understands.  A link's two ends agree on the lower of their highest
 * levels in Hello/Welcome (Hello.min_version/max_version,
 * Welcome.version), and nothing of a higher level is sent on it: a body a
 * peer does not know ends its link, so a county or relay newer than its
 * peers must hold such messages back, not send them.
 *   1  everything up to CrlUpdate (Envelope.body 10-25)
 *   2  DutySync and every body added after it (26 and up) */
#define SJ_PROTOCOL_LEVEL_MIN 1u
#define SJ_PROTOCOL_LEVEL 2u

/* The lowest protocol level whose peers understand an Envelope body. */
uint32_t sj_envelope_body_level(Sanji__Envelope__BodyCase body);

/* The level a link runs at, from the peer's Hello (acceptor) or Welcome
 * (connector): the lower of the peer's highest and ours, and
 * SJ_PROTOCOL_LEVEL_MIN for a peer that says nothing. */
uint32_t sj_protocol_level_agree(uint32_t peer_max);

/* Size of Envelope.message_id. */
#define SJ_ENVELOPE_ID_SIZE 16

/* Stamps env (see above) and serialises it as one frame: 4-byte header +
 * payload.  On success *frame is a malloc'd buffer of *frame_len bytes that
 * the caller owns and frees with free(); id_out (may be NULL) receives the
 * message id that was sent.  sender_node may be NULL when env already names
 * its sender.  Fails with SJ_EFRAME_TOO_LARGE if the payload would exceed
 * max_len (the peer would refuse it), SJ_EFRAME_NO_BODY if env has no body,
 * SJ_EFRAME_BAD_FIELD if a string is not valid UTF-8, SJ_EINVAL for a
 * message id that is neither empty nor 16 bytes, SJ_ENOMEM. */
int sj_envelope_pack(const Sanji__Envelope *env, const char *sender_node, uint32_t max_len,
                     uint8_t **frame, size_t *frame_len, uint8_t id_out[SJ_ENVELOPE_ID_SIZE],
                     sj_error *err);

/* Like sj_envelope_pack() but into a caller buffer: returns the frame length
 * written (> 0), or a negative code; SJ_ETOOBIG if cap is too small (ask
 * sj_envelope_packed_size() first).  No allocation. */
long sj_envelope_pack_into(const Sanji__Envelope *env, const char *sender_node, uint32_t max_len,
                           uint8_t *buf, size_t cap, uint8_t id_out[SJ_ENVELOPE_ID_SIZE],
                           sj_error *err);

/* Frame size (header included) env will have once stamped; an upper bound
 * when the fields to be stamped are still empty. */
size_t sj_envelope_packed_size(const Sanji__Envelope *env, const char *sender_node);

/* Decodes and validates one frame payload.  On success *out is a new
 * Envelope that the caller owns and frees with sj_envelope_free() (never
 * with sanji__envelope__free_unpacked directly: it was made with Sanji's
 * allocator).  On failure *out is NULL and err (may be NULL) says what was
 * wrong.  Never aborts on any input. */
int sj_envelope_unpack(const uint8_t *payload, size_t len, Sanji__Envelope **out, sj_error *err);

/* Frees an Envelope returned by sj_envelope_unpack(); NULL is harmless. */
void sj_envelope_free(Sanji__Envelope *env);

/* The strict UTF-8 check the decoder applies: sj_utf8_valid() of utf8.h,
 * the one implementation, under the name test_envelope.c still calls. */
static inline bool sj_envelope_utf8_valid(const char *s, size_t len)
{
    return sj_utf8_valid(s, len);
}

/* Memory budget for unpacking a payload of len bytes (exposed for tests). */
size_t sj_envelope_unpack_budget(size_t len);

#endif
