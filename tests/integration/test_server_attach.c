/*
 * test_server_attach.c - the county's side of attachments
 * (server/attach_store.h) against PostgreSQL, on the apply fixture's
 * small county (apply_fixture.h):
 *   - chunks in any order, one of them sent twice under its message id
 *     and once more under a new id: the file is assembled once, byte for
 *     byte, no part left, each message answered (a redelivery from the
 *     stored result);
 *   - a file whose content does not match its SHA-256 is refused at its
 *     last chunk and never stored;
 *   - a case of another township's village, an unknown case, a wrong
 *     chunk length and a case over its limit are refused, and the refusal
 *     is what a redelivery gets;
 *   - the query lists a case's attachments for the township desk and
 *     reads a piece from an offset, refuses another township (SCOPE) and
 *     an attachment not complete yet (ATTACH_INCOMPLETE).
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apply_fixture.h"
#include "arena.h"
#include "attach.h"
#include "attach_store.h"
#include "clock.h"
#include "pg_test.h"
#include "query.h"

static const countyd_peer P_VA = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, AFT_VA, "village:" AFT_VA};
static const countyd_peer P_VC = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, AFT_VC, "village:" AFT_VC};

#define SIZE (3 * SJ_ATTACH_CHUNK_SIZE + 100)

typedef struct world {
    aft_county f;
    uint8_t case_id[16];
    uint8_t file[SIZE];
    uint8_t sha[SJ_ATTACH_SHA256_SIZE];
    countyd_attach_limits lim;
    uint8_t mid;
} world;

static void register_case(world *w, int n)
{
    Sanji__CaseSubmit s = SANJI__CASE_SUBMIT__INIT;
    Sanji__Applicant a = SANJI__APPLICANT__INIT;
    aft_case_id(w->case_id, n);
    s.case_id = (ProtobufCBinaryData){16, w->case_id};
    s.village = AFT_VA;
    s.item_code = "V-1";
    a.name = "王大妈";
    a.id_number = w->f.id_number;
    a.phone = "13800138000";
    s.applicant = &a;
    s.request_text = "申请办理";
    s.actor_person = "pa";
    s.registered_at_ms = sj_clock_real_ms();
    countyd_apply_msg m = aft_msg(&w->f, &P_VA, &s, NULL);
    countyd_apply_result r = aft_run1(&w->f, &m);
    assert_int_equal(r.status, SANJI__ACK_STATUS__ACK_STATUS_APPLIED);
}

static Sanji__AttachmentChunk chunk(world *w, const uint8_t aid[16], const uint8_t *file,
                                    uint64_t size, const uint8_t *sha, uint32_t k)
{
    Sanji__AttachmentChunk c = SANJI__ATTACHMENT_CHUNK__INIT;
    c.attachment_id = (ProtobufCBinaryData){16, (uint8_t *)aid};
    c.case_id = (ProtobufCBinaryData){16, w->case_id};
    c.chunk_no = k;
    c.chunk_count = sj_attach_chunk_count(size);
    c.size = size;
    c.sha256 = (ProtobufCBinaryData){SJ_ATTACH_SHA256_SIZE, (uint8_t *)sha};
    c.name = "户口簿.pdf";
    c.mime = "application/pdf";
    c.material = "户口簿";
    c.actor_person = "pa";
    c.attached_at_ms = sj_clock_real_ms();
    c.data = (ProtobufCBinaryData){sj_attach_chunk_len(size, k),
                                   (uint8_t *)file + (size_t)k * SJ_ATTACH_CHUNK_SIZE};
    return c;
}

static countyd_apply_result send(world *w, uint8_t mid_last, const countyd_peer *p,
                                 const Sanji__AttachmentChunk *c)
{
    uint8_t mid[16] = {0x02, 0, 0, 0, 0, 0, 0x70, 0, 0x80};
    mid[15] = mid_last;
    countyd_apply_result r;
    sj_error err;
    int rc = countyd_attach_apply(w->f.db, mid, p, c, &w->lim, &r, &err);
    if (rc != 0)
        fail_msg("attach apply: %s", err.message);
    return r;
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    aft_open(&w->f, "attach", NULL, NULL, sj_clock_real_ms());
    register_case(w, 1);
    memcpy(w->file, "%PDF-1.4\n", 9);
    for (size_t i = 9; i < SIZE; i++)
        w->file[i] = (uint8_t)(i * 131 + (i >> 7));
    sj_attach_sha256(w->file, SIZE, w->sha);
    w->lim.max_file = 1 << 20;
    w->lim.max_case = 1 << 20;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    aft_close(&w->f);
    free(w);
    return 0;
}

static long count(world *w, const char *from_where)
{
    return pgt_count(w->f.db, from_where);
}

static void test_any_order_once_and_whole(void **state)
{
    world *w = *state;
    uint8_t aid[16] = {0x03, 0, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 1};
    static const uint32_t order[] = {2, 0, 3};
    for (size_t i = 0; i < 3; i++) {
        Sanji__AttachmentChunk c = chunk(w, aid, w->file, SIZE, w->sha, order[i]);
        countyd_apply_result r = send(w, (uint8_t)(10 + i), &P_VA, &c);
        assert_int_equal(r.status, SANJI__ACK_STATUS__ACK_STATUS_APPLIED);
        assert_false(r.redelivered);
    }
    /* The same message again: its stored result, nothing new. */
    Sanji__AttachmentChunk c0 = chunk(w, aid, w->file, SIZE, w->sha, 0);
    countyd_apply_result r = send(w, 11, &P_VA, &c0);
    assert_true(r.redelivered);
    assert_int_equal(r.status, SANJI__ACK_STATUS__ACK_STATUS_APPLIED);
    /* The same chunk under a new message id: stored once. */
    r = send(w, 13, &P_VA, &c0);
    assert_int_equal(r.status, SANJI__ACK_STATUS__ACK_STATUS_APPLIED);
    assert_int_equal(count(w, "attachment_part"), 3);
    assert_int_equal(count(w, "attachment WHERE complete"), 0);
    /* The last one missing completes it. */
    Sanji__AttachmentChunk c1 = chunk(w, aid, w->file, SIZE, w->sha, 1);
    r = send(w, 14, &P_VA, &c1);
    assert_int_equal(r.status, SANJI__ACK_STATUS__ACK_STATUS_APPLIED);
    assert_int_equal(count(w, "attachment WHERE complete AND chunks_received = 4"), 1);
    assert_int_equal(count(w, "attachment_part"), 0);
    assert_int_equal(count(w, "attachment_blob WHERE sha256 = sha256(data)"), 1);

    /* Read back: the township desk lists it and reads from an offset. */
    countyd_asker tx = {.role = SJ_NODE_ROLE_TOWNSHIP_DESK, .level = SJ_LEVEL_TOWNSHIP};
    snprintf(tx.unit, sizeof tx.unit, "%s", AFT_TX);
    countyd_arena a;
    countyd_arena_init(&a);
    Sanji__AttachmentQuery q = SANJI__ATTACHMENT_QUERY__INIT;
    q.case_id = (ProtobufCBinaryData){16, w->case_id};
    Sanji__QueryResult out;
    sj_error err;
    sanji__query_result__init(&out);
    assert_int_equal(countyd_attach_query(w->f.db, &a, &tx, &q, &out, &err), 0);
    assert_int_equal(out.code, 0);
    assert_int_equal(out.attachment->n_attachments, 1);
    assert_true(out.attachment->attachments[0]->complete);
    assert_memory_equal(out.attachment->attachments[0]->sha256.data, w->sha, 32);
    q.attachment_id = (ProtobufCBinaryData){16, aid};
    q.offset = SJ_ATTACH_CHUNK_SIZE + 7;
    q.max_bytes = 1000;
    sanji__query_result__init(&out);
    assert_int_equal(countyd_attach_query(w->f.db, &a, &tx, &q, &out, &err), 0);
    assert_int_equal(out.code, 0);
    assert_int_equal(out.attachment->offset, SJ_ATTACH_CHUNK_SIZE + 7);
    assert_int_equal(out.attachment->data.len, 1000);
    assert_memory_equal(out.attachment->data.data, w->file + SJ_ATTACH_CHUNK_SIZE + 7, 1000);
    /* Another township: SCOPE. */
    countyd_asker ty = tx;
    snprintf(ty.unit, sizeof ty.unit, "%s", AFT_TY);
    sanji__query_result__init(&out);
    assert_int_equal(countyd_attach_query(w->f.db, &a, &ty, &q, &out, &err), 0);
    assert_int_equal(out.code, SJ_ESCOPE);
    countyd_arena_free(&a);
}

static void test_refusals(void **state)
{
    world *w = *state;
    uint8_t aid[16] = {0x03, 0, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 2};
    /* A content that does not match its hash: refused at the last chunk. */
    uint8_t bad[SJ_ATTACH_SHA256_SIZE];
    memcpy(bad, w->sha, sizeof bad);
    bad[0] ^= 1;
    countyd_apply_result r;
    for (uint32_t k = 0; k < 4; k++) {
        Sanji__AttachmentChunk c = chunk(w, aid, w->file, SIZE, bad, k);
        r = send(w, (uint8_t)(20 + k), &P_VA, &c);
    }
    assert_int_equal(r.status, SANJI__ACK_STATUS__ACK_STATUS_REFUSED);
    assert_int_equal(r.code, SJ_EATTACH_HASH);
    /* Only the first test's file is stored. */
    assert_int_equal(count(w, "attachment_blob"), 1);
    assert_int_equal(count(w, "attachment WHERE complete"), 1);
    /* Its redelivery gets the same refusal. */
    Sanji__AttachmentChunk c3 = chunk(w, aid, w->file, SIZE, bad, 3);
    r = send(w, 23, &P_VA, &c3);
    assert_true(r.redelivered);
    assert_int_equal(r.code, SJ_EATTACH_HASH);
    /* Incomplete: the query says so. */
    countyd_asker va = {.role = SJ_NODE_ROLE_VILLAGE, .level = SJ_LEVEL_VILLAGE};
    snprintf(va.unit, sizeof va.unit, "%s", AFT_VA);
    countyd_arena a;
    countyd_arena_init(&a);
    Sanji__AttachmentQuery q = SANJI__ATTACHMENT_QUERY__INIT;
    q.case_id = (ProtobufCBinaryData){16, w->case_id};
    q.attachment_id = (ProtobufCBinaryData){16, aid};
    Sanji__QueryResult out;
    sj_error err;
    sanji__query_result__init(&out);
    assert_int_equal(countyd_attach_query(w->f.db, &a, &va, &q, &out, &err), 0);
    assert_int_equal(out.code, SJ_EATTACH_INCOMPLETE);
    countyd_arena_free(&a);

    uint8_t aid3[16] = {0x03, 0, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 3};
    /* Another township's village: SCOPE, and nothing stored. */
    Sanji__AttachmentChunk c = chunk(w, aid3, w->file, SIZE, w->sha, 0);
    r = send(w, 30, &P_VC, &c);
    assert_int_equal(r.code, SJ_ESCOPE);
    /* A chunk whose data does not fit its number. */
    c.data.len -= 1;
    r = send(w, 31, &P_VA, &c);
    assert_int_equal(r.code, SJ_EBAD_FIELD);
    c.data.len += 1;
    /* An unknown case. */
    uint8_t other[16];
    aft_case_id(other, 99);
    c.case_id = (ProtobufCBinaryData){16, other};
    r = send(w, 32, &P_VA, &c);
    assert_int_equal(r.code, SJ_EUNKNOWN_CASE);
    c.case_id = (ProtobufCBinaryData){16, w->case_id};
    /* Over the case's limit (the refused attachment above counts too). */
    w->lim.max_case = 2 * SIZE - 1;
    r = send(w, 33, &P_VA, &c);
    assert_int_equal(r.code, SJ_EATTACH_CASE_FULL);
    w->lim.max_case = 1 << 20;
    assert_int_equal(count(w, "attachment WHERE attachment_id::text LIKE '%0003'"), 0);
    r = send(w, 33, &P_VA, &c);
    assert_true(r.redelivered);
    assert_int_equal(r.code, SJ_EATTACH_CASE_FULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_order_once_and_whole),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
