/*
 * wire.h - the county's Ack as bytes: the relay stores the Ack exactly as
 * the county sent it and hands it down to the station inside a new
 * Envelope without decoding and re-encoding it.  Protobuf's wire format
 * lets a message's fields come in any order, so an Envelope made of the
 * relay's own header fields followed by the Ack field, copied as it is,
 * is the same Envelope a decoder sees from sj_envelope_pack().
 *
 * Entry points: relay_wire_field(), relay_wire_ack_frame_size(),
 * relay_wire_ack_frame().
 */
#ifndef RELAY_WIRE_H
#define RELAY_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* The value of the first length-delimited field number `field` of the
 * protobuf message msg (len bytes): 0 with *out pointing into msg and
 * *out_len its length; SJ_ENOTFOUND when absent; SJ_EFRAME_BAD_FIELD when
 * msg is not well-formed wire format. */
int relay_wire_field(const uint8_t *msg, size_t len, uint32_t field, const uint8_t **out,
                     size_t *out_len);

/* The size of the frame relay_wire_ack_frame() makes (header included). */
size_t relay_wire_ack_frame_size(const char *sender_node, size_t ack_len);

/* Writes into buf (relay_wire_ack_frame_size() bytes) one frame: the
 * 4-byte header and an Envelope stamped as sj_envelope_pack() stamps
 * (version, a fresh message id, sender_node, the time) whose body is the
 * packed Ack ack (ack_len bytes), copied.  Returns the frame length. */
size_t relay_wire_ack_frame(uint8_t *buf, const char *sender_node, const uint8_t *ack,
                            size_t ack_len);

#endif
