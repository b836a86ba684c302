/*
 * test_attach.c - what every tier shares about attachments
 * (common/domain/attach.h): the kind from the content and not the name, the
 * limits per file and per case, the chunking (every byte in exactly one
 * chunk, the last one short), the checks of a chunk as received, and
 * SHA-256 against a known vector.  The upload through the tiers is
 * test_attach_e2e's (tests/e2e).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attach.h"

static void test_kind_is_taken_from_the_content(void **state)
{
    (void)state;
    static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10};
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0};
    assert_string_equal(sj_attach_sniff(jpeg, sizeof jpeg), "image/jpeg");
    assert_string_equal(sj_attach_sniff(png, sizeof png), "image/png");
    assert_string_equal(sj_attach_sniff((const uint8_t *)"%PDF-1.7\n", 9), "application/pdf");
    assert_null(sj_attach_sniff((const uint8_t *)"GIF89a", 6));
    assert_null(sj_attach_sniff(png, 7)); /* a PNG signature cut short */
    assert_null(sj_attach_sniff(NULL, 0));
    assert_true(sj_attach_mime_ok("application/pdf"));
    assert_false(sj_attach_mime_ok("image/gif"));
    assert_false(sj_attach_mime_ok(NULL));
}

static void test_limits_per_file_and_per_case(void **state)
{
    (void)state;
    static const uint8_t pdf[64] = "%PDF-1.4 a scan";
    const char *mime = NULL;
    sj_error err;
    assert_int_equal(sj_attach_check_file(pdf, sizeof pdf, 64, 0, 1000, &mime, &err), 0);
    assert_string_equal(mime, "application/pdf");
    assert_int_equal(sj_attach_check_file(pdf, sizeof pdf, 63, 0, 1000, &mime, &err),
                     SJ_EATTACH_TOO_BIG);
    assert_int_equal(err.code, SJ_EATTACH_TOO_BIG);
    assert_int_equal(sj_attach_check_file(pdf, sizeof pdf, 64, 937, 1000, &mime, &err),
                     SJ_EATTACH_CASE_FULL);
    assert_int_equal(sj_attach_check_file(pdf, sizeof pdf, 64, 936, 1000, &mime, &err), 0);
    /* A name ending in .pdf does not make a text file a PDF. */
    assert_int_equal(sj_attach_check_file((const uint8_t *)"hello", 5, 64, 0, 1000, &mime, &err),
                     SJ_EATTACH_TYPE);
    assert_string_equal(sj_attach_base_name("/tmp/scans/户口簿.pdf"), "户口簿.pdf");
    assert_string_equal(sj_attach_base_name("a.png"), "a.png");
}

static void test_chunks_cover_every_byte_once(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1, SJ_ATTACH_CHUNK_SIZE - 1, SJ_ATTACH_CHUNK_SIZE,
                              SJ_ATTACH_CHUNK_SIZE + 1, 3u * 1024 * 1024 + 17};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t size = sizes[i], sum = 0;
        uint32_t n = sj_attach_chunk_count(size);
        assert_true(n >= 1);
        for (uint32_t k = 0; k < n; k++) {
            size_t len = sj_attach_chunk_len(size, k);
            assert_true(len > 0 && len <= SJ_ATTACH_CHUNK_SIZE);
            if (k + 1 < n)
                assert_int_equal(len, SJ_ATTACH_CHUNK_SIZE);
            sum += len;
        }
        assert_int_equal(sum, size);
        assert_int_equal(sj_attach_chunk_len(size, n), 0);
    }
    assert_int_equal(sj_attach_chunk_count(0), 0);
    assert_int_equal(sj_attach_chunk_count(SJ_ATTACH_CHUNK_SIZE * 3), 3);
}

static void test_a_chunk_is_checked_as_received(void **state)
{
    (void)state;
    static uint8_t id[16] = {1}, cid[16] = {2}, sha[32] = {3}, data[SJ_ATTACH_CHUNK_SIZE];
    Sanji__AttachmentChunk c = SANJI__ATTACHMENT_CHUNK__INIT;
    c.attachment_id = (ProtobufCBinaryData){16, id};
    c.case_id = (ProtobufCBinaryData){16, cid};
    c.sha256 = (ProtobufCBinaryData){32, sha};
    c.size = SJ_ATTACH_CHUNK_SIZE + 10;
    c.chunk_count = 2;
    c.chunk_no = 0;
    c.data = (ProtobufCBinaryData){SJ_ATTACH_CHUNK_SIZE, data};
    c.name = "scan.pdf";
    c.mime = "application/pdf";
    c.material = "户口簿/居民身份证";
    sj_error err;
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), 0);
    c.chunk_no = 1; /* the last chunk holds 10 bytes, not a whole one */
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), SJ_EBAD_FIELD);
    c.data.len = 10;
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), 0);
    c.chunk_no = 2;
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), SJ_EBAD_FIELD);
    c.chunk_no = 1;
    c.chunk_count = 3;
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), SJ_EBAD_FIELD);
    c.chunk_count = 2;
    assert_int_equal(sj_attach_check_chunk(&c, 1000, &err), SJ_EATTACH_TOO_BIG);
    c.mime = "image/gif";
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), SJ_EATTACH_TYPE);
    c.mime = "application/pdf";
    c.name = "../etc/passwd";
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), SJ_EBAD_FIELD);
    c.name = "";
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), SJ_EBAD_FIELD);
    c.name = "scan.pdf";
    c.sha256.len = 31;
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), SJ_EBAD_FIELD);
    c.sha256.len = 32;
    c.case_id.len = 0;
    assert_int_equal(sj_attach_check_chunk(&c, 1 << 20, &err), SJ_EBAD_FIELD);
}

static void test_sha256_of_a_known_text(void **state)
{
    (void)state;
    uint8_t sha[SJ_ATTACH_SHA256_SIZE];
    char hex[SJ_ATTACH_HEX_SIZE];
    sj_attach_sha256((const uint8_t *)"abc", 3, sha);
    sj_attach_hex(sha, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_is_taken_from_the_content),
        cmocka_unit_test(test_limits_per_file_and_per_case),
        cmocka_unit_test(test_chunks_cover_every_byte_once),
        cmocka_unit_test(test_a_chunk_is_checked_as_received),
        cmocka_unit_test(test_sha256_of_a_known_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
