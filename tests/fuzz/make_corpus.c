/*
 * make_corpus.c - writes the seed corpus of fuzz_frame into a directory:
 * a few valid frames of different bodies and chunking seeds, so that the
 * fuzzer starts from real Envelopes instead of discovering protobuf from
 * nothing.
 *
 * Usage: make_corpus DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "frame.h"

static int write_seed(const char *dir, const char *name, unsigned char chunking,
                      const Sanji__Envelope *const *envs, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    fputc(chunking, f);
    for (size_t i = 0; i < n; i++) {
        uint8_t *frame;
        size_t len;
        sj_error err;
        if (sj_envelope_pack(envs[i], "village:410423101201", 2048, &frame, &len, NULL, &err) != 0) {
            fprintf(stderr, "make_corpus: %s\n", err.message);
            fclose(f);
            return 1;
        }
        fwrite(frame, 1, len, f);
        free(frame);
    }
    return fclose(f) != 0;
}

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
    return bad;
}
