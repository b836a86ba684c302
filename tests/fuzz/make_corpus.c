/*
 * make_corpus.c - writes the seed corpus of fuzz_frame into a directory:
 * a few valid frames of different bodies and chunking seeds, so that the
 * fuzzer starts from real Envelopes instead of discovering protobuf from
 * nothing; and inputs that once found a bug, byte for byte, so that every
 * short run replays them (the generated seeds differ from build to build:
 * fresh message ids and send times).
 *
 * Usage: make_corpus DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "frame.h"

/* Writes n bytes as the seed file `name`. */
static int write_raw(const char *dir, const char *name, const unsigned char *bytes, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    fwrite(bytes, 1, n, f);
    return fclose(f) != 0;
}

/* A seed of fuzz_frame: the chunking byte, then the packed frames. */
static int write_seed(const char *dir, const char *name, unsigned char chunking,
                      const Sanji__Envelope *const *envs, size_t n)
{
    unsigned char seed[4096];
    size_t len = 0;
    seed[len++] = chunking;
    for (size_t i = 0; i < n; i++) {
        uint8_t *frame;
        size_t flen;
        sj_error err;
        if (sj_envelope_pack(envs[i], "village:410423101201", 2048, &frame, &flen, NULL, &err) != 0) {
            fprintf(stderr, "make_corpus: %s\n", err.message);
            return 1;
        }
        if (flen > sizeof seed - len) {
            fprintf(stderr, "make_corpus: seed %s over %zu bytes\n", name, sizeof seed);
            free(frame);
            return 1;
        }
        memcpy(seed + len, frame, flen);
        len += flen;
        free(frame);
    }
    return write_raw(dir, name, seed, len);
}

/* An Ack whose current Case ends in a field numbered 0, its tag written in
 * two bytes (80 00): protobuf-c accepted it, wrote the tag back in one byte
 * and then refused its own output (envelope.c now refuses field 0). */
static const unsigned char FIELD_NUMBER_ZERO[] = {
    0x01, 0x00, 0x00, 0x00, 0x93, 0x08, 0x01, 0x12, 0x10, 0x01, 0xa2, 0x09, 0xd4, 0x55, 0xd9, 0x72,
    0xe8, 0xbe, 0xd1, 0xea, 0x34, 0x49, 0x3b, 0x0b, 0x12, 0x1a, 0x14, 0x76, 0x69, 0x6c, 0x6c, 0x61,
    0x67, 0x65, 0x3a, 0x34, 0x31, 0x30, 0x34, 0x32, 0x33, 0x31, 0x30, 0x31, 0x32, 0x30, 0x31, 0x20,
    0xd9, 0xab, 0xd1, 0xce, 0xa0, 0x34, 0x72, 0x60, 0x10, 0x03, 0x18, 0xaf, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x01, 0x22, 0x18, 0xe6, 0xa1, 0x88, 0xe4, 0xbb, 0xb6, 0xe5, 0xb7, 0xb2,
    0xe8, 0xa2, 0xab, 0xe4, 0xb8, 0x8a, 0xe7, 0xba, 0xa7, 0xe5, 0xa4, 0x84, 0xe7, 0x90, 0x86, 0x42,
    0x37, 0xc2, 0x14, 0x31, 0x34, 0x30, 0x32, 0x34, 0x33, 0x2d, 0x32, 0x30, 0x32, 0x36, 0x30, 0x31,
    0x30, 0x35, 0x2d, 0x30, 0x30, 0x30, 0x31, 0xc2, 0x01, 0x09, 0xe6, 0x88, 0xb7, 0xe5, 0x8f, 0xa3,
    0xe6, 0x9c, 0xac, 0xc2, 0x01, 0x12, 0xe8, 0xba, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x00, 0x60, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2,
    0x10, 0x0b};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    hb.seq = 7;
    Sanji__Envelope e_hb = SANJI__ENVELOPE__INIT;
    e_hb.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    e_hb.heartbeat = &hb;

    Sanji__Applicant app = SANJI__APPLICANT__INIT;
    app.name = "张三";
    app.id_number = "410423199001011234";
    app.phone = "13800000000";
    Sanji__CaseSubmit cs = SANJI__CASE_SUBMIT__INIT;
    static uint8_t case_id[16] = {1, 2, 3, 4, 5, 6, 0x70, 8, 0x80, 10, 11, 12, 13, 14, 15, 16};
    cs.case_id.data = case_id;
    cs.case_id.len = 16;
    cs.village = "410423101201";
    cs.item_code = "MZ-003";
    cs.applicant = &app;
    cs.request_text = "申请城乡低保";
    cs.actor_person = "p-410423101201-01";
    Sanji__Envelope e_cs = SANJI__ENVELOPE__INIT;
    e_cs.body_case = SANJI__ENVELOPE__BODY_CASE_SUBMIT;
    e_cs.case_submit = &cs;

    Sanji__Ack ack = SANJI__ACK__INIT;
    ack.status = SANJI__ACK_STATUS__ACK_STATUS_REFUSED;
    ack.code = -81;
    ack.reason = "案件已被上级处理";
    Sanji__Case cur = SANJI__CASE__INIT;
    char *mats[] = {"户口本", "身份证复印件"};
    cur.materials = mats;
    cur.n_materials = 2;
    cur.number = "410423-20260105-0001";
    ack.current = &cur;
    Sanji__Envelope e_ack = SANJI__ENVELOPE__INIT;
    e_ack.body_case = SANJI__ENVELOPE__BODY_ACK;
    e_ack.ack = &ack;

    const Sanji__Envelope *one[] = {&e_hb};
    const Sanji__Envelope *two[] = {&e_cs, &e_ack};
    const Sanji__Envelope *three[] = {&e_ack, &e_hb, &e_cs};
    int bad = 0;
    bad |= write_seed(argv[1], "heartbeat", 0, one, 1);
    bad |= write_seed(argv[1], "submit_ack", 3, two, 2);
    bad |= write_seed(argv[1], "ack_hb_submit", 1, three, 3);
    bad |= write_raw(argv[1], "field_number_zero", FIELD_NUMBER_ZERO, sizeof FIELD_NUMBER_ZERO);
    return bad;
}
