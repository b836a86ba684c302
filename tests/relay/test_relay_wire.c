/*
 * test_relay_wire.c - unit tests of relay/wire.c: the county's Ack found
 * in an Envelope as packed by sj_envelope_pack(), and the Envelope the
 * relay makes around those bytes, decoded by sj_envelope_unpack() as the
 * station decodes it (same Ack, the relay as sender, a fresh id); fields
 * in another order and malformed wire format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "err.h"
#include "frame.h"
#include "wire.h"

/* A county Ack in an Envelope payload (frame header dropped); *frame is
 * the caller's to free. */
static const uint8_t *county_ack_payload(uint8_t **frame, size_t *len)
{
    static uint8_t mid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static uint8_t cid[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    Sanji__Ack ack = SANJI__ACK__INIT;
    ack.message_id.data = mid;
    ack.message_id.len = 16;
    ack.case_id.data = cid;
    ack.case_id.len = 16;
    ack.status = SANJI__ACK_STATUS__ACK_STATUS_REFUSED;
    ack.code = SJ_ESCOPE;
    ack.reason = (char *)"县里拒绝 (refused by the county)";
    ack.case_number = (char *)"2026-000042";
    ack.case_version = 7;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    sj_error err;
    assert_int_equal(sj_envelope_pack(&env, "county:410423000000", 1 << 20, frame, len, NULL,
                                      &err),
                     0);
    *len -= SJ_FRAME_HEADER_SIZE;
    return *frame + SJ_FRAME_HEADER_SIZE;
}

static void test_ack_passed_through_unchanged(void **state)
{
    (void)state;
    uint8_t *cframe;
    size_t clen;
    const uint8_t *payload = county_ack_payload(&cframe, &clen);
    const uint8_t *ack;
    size_t ack_len;
    assert_int_equal(relay_wire_field(payload, clen, SANJI__ENVELOPE__BODY_ACK, &ack, &ack_len),
                     0);
    Sanji__Ack *a = sanji__ack__unpack(NULL, ack_len, ack);
    assert_non_null(a);
    assert_int_equal(a->code, SJ_ESCOPE);
    sanji__ack__free_unpacked(a, NULL);

    size_t cap = relay_wire_ack_frame_size("relay:410423101000", ack_len);
    uint8_t *frame = malloc(cap);
    size_t n = relay_wire_ack_frame(frame, "relay:410423101000", ack, ack_len);
    assert_true(n <= cap);
    uint32_t announced = (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 |
                         (uint32_t)frame[2] << 8 | frame[3]; /* big-endian (frame.h) */
    assert_int_equal(announced, n - SJ_FRAME_HEADER_SIZE);
    Sanji__Envelope *env = NULL;
    sj_error err;
    assert_int_equal(sj_envelope_unpack(frame + SJ_FRAME_HEADER_SIZE, n - SJ_FRAME_HEADER_SIZE,
                                        &env, &err),
                     0);
    assert_int_equal(env->body_case, SANJI__ENVELOPE__BODY_ACK);
    assert_string_equal(env->sender_node, "relay:410423101000");
    assert_int_equal(env->version, SJ_ENVELOPE_VERSION);
    assert_int_equal(env->message_id.len, 16);
    assert_true(env->sent_at_ms > 0);
    assert_int_equal(env->ack->status, SANJI__ACK_STATUS__ACK_STATUS_REFUSED);
    assert_int_equal(env->ack->code, SJ_ESCOPE);
    assert_string_equal(env->ack->reason, "县里拒绝 (refused by the county)");
    assert_string_equal(env->ack->case_number, "2026-000042");
    assert_int_equal(env->ack->case_version, 7);
    assert_int_equal(env->ack->case_id.len, 16);
    assert_int_equal(env->ack->case_id.data[0], 16);
    /* The Ack's bytes are those the county sent, not an encoding of them. */
    size_t re = sanji__ack__get_packed_size(env->ack);
    assert_int_equal(re, ack_len);
    sj_envelope_free(env);
    free(frame);
    free(cframe);
}

static void test_field_in_any_order_and_malformed(void **state)
{
    (void)state;
    /* field 3 (varint 150), field 14 "ab", field 1 (fixed64), field 2 "x" */
    const uint8_t m[] = {0x18, 0x96, 0x01, 0x72, 0x02, 'a', 'b',
                         0x09, 1,    2,    3,    4,    5,    6, 7, 8, 0x12, 0x01, 'x'};
    const uint8_t *v;
    size_t n;
    assert_int_equal(relay_wire_field(m, sizeof m, 14, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(v, "ab", 2);
    assert_int_equal(relay_wire_field(m, sizeof m, 2, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(relay_wire_field(m, sizeof m, 15, &v, &n), SJ_ENOTFOUND);
    /* a length past the end, a cut varint, a group */
    const uint8_t past[] = {0x72, 0x05, 'a'};
    assert_int_equal(relay_wire_field(past, sizeof past, 14, &v, &n), SJ_EFRAME_BAD_FIELD);
    const uint8_t cut[] = {0x18, 0x96};
    assert_int_equal(relay_wire_field(cut, sizeof cut, 14, &v, &n), SJ_EFRAME_BAD_FIELD);
    const uint8_t group[] = {0x73};
    assert_int_equal(relay_wire_field(group, sizeof group, 14, &v, &n), SJ_EFRAME_BAD_FIELD);
    assert_int_equal(relay_wire_field(m, 0, 14, &v, &n), SJ_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ack_passed_through_unchanged),
        cmocka_unit_test(test_field_in_any_order_and_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
