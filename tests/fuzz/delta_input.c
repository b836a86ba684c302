/*
 * delta_input.c - fixed base cases and the input encoder of
 * fuzz_case_delta (delta_input.h).  The cases look like real ones (codes,
 * times, names as the county writes them) so that the seeds made from them
 * are deltas a relay really sends.
 */
#include "delta_input.h"

#include <stdlib.h>
#include <string.h>

static uint8_t ID[16] = {0x01, 0x8c, 0x3f, 0x20, 0x11, 0x22, 0x73, 0x44,
                         0x95, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc};
static uint8_t ID2[16] = {0x01, 0x8c, 0x41, 0x07, 0x5e, 0x10, 0x72, 0x01,
                          0x83, 0x00, 0x4d, 0x2a, 0x19, 0x6b, 0xe0, 0x42};
static char *MATERIALS[] = {"户口簿", "收入证明"};

static void accepted_township(Sanji__Case *c, Sanji__Applicant *a)
{
    a->name = "张三";
    a->id_number = "410423199001011234";
    a->phone = "13800000000";
    c->case_id.data = ID;
    c->case_id.len = 16;
    c->number = "410423-20261123-00001";
    c->village = "410423101201";
    c->item_code = "MZ-003";
    c->item_name = "低保申请";
    c->applicant = a;
    c->request_text = "家中困难，申请低保";
    c->first_receiver = "p1";
    c->first_receiver_name = "李四";
    c->holder_level = SANJI__LEVEL__LEVEL_TOWNSHIP;
    c->holder_unit = "410423101000";
    c->status = SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP;
    c->version = 4;
    c->registered_at_ms = 1700000000000;
    c->due_at_ms = 1700900000000;
    c->materials_rounds = 1;
    c->materials = MATERIALS;
    c->n_materials = 2;
    c->urge_count = 1;
    c->supervised = 1;
    c->updated_at_ms = 1700000500000;
    c->escalated = 1;
    c->limit_days = 10;
    c->assignee = "p7";
    c->assignee_name = "王五";
    c->carrier = "p1";
    c->carrier_name = "李四";
}

static void registered(Sanji__Case *c, Sanji__Applicant *a)
{
    a->name = "刘桂兰";
    a->id_number = "11010519491231002X";
    a->phone = "0375-5012345";
    c->case_id.data = ID2;
    c->case_id.len = 16;
    c->village = "410423101202";
    c->item_code = "RS-011";
    c->item_name = "城乡居民养老保险待遇领取";
    c->applicant = a;
    c->request_text = "年满六十周岁，申请领取养老金";
    c->first_receiver = "p21";
    c->first_receiver_name = "赵敏";
    c->holder_level = SANJI__LEVEL__LEVEL_VILLAGE;
    c->holder_unit = "410423101202";
    c->status = SANJI__CASE_STATUS__CASE_STATUS_REGISTERED;
    c->version = 1;
    c->registered_at_ms = 1764000000000;
    c->updated_at_ms = 1764000000000;
    c->urgent = 1;
    c->limit_days = 3;
    c->carrier = "p21";
    c->carrier_name = "赵敏";
}

static void closed_rectified(Sanji__Case *c, Sanji__Applicant *a)
{
    accepted_township(c, a);
    c->status = SANJI__CASE_STATUS__CASE_STATUS_CLOSED;
    c->version = 9;
    c->holder_level = SANJI__LEVEL__LEVEL_COUNTY;
    c->holder_unit = "410423000000";
    c->materials = NULL;
    c->n_materials = 0;
    c->result = "已纳入低保，按月发放";
    c->satisfaction = SANJI__SATISFACTION__SATISFACTION_UNSATISFIED;
    c->resolved_level = SANJI__LEVEL__LEVEL_COUNTY;
    c->resolved_unit = "410423000000";
    c->handling = SANJI__HANDLING_TYPE__HANDLING_ON_BEHALF;
    c->reached_county = 1;
    c->department = "县民政局";
    c->department_code = "mzj";
    c->closed_at_ms = 1701500000000;
    c->updated_at_ms = 1701600000000;
    c->notify_state = SANJI__NOTIFY_STATE__NOTIFY_STATE_SENT;
    c->notify_attempts = 1;
    c->notify_at_ms = 1701500060000;
    c->rectify_due_at_ms = 1702100000000;
    c->rectified_at_ms = 1701590000000;
    c->called_back_at_ms = 1701600000000;
    c->assignee = "";
    c->assignee_name = "";
}

void fuzz_delta_base(unsigned i, Sanji__Case *c, Sanji__Applicant *a)
{
    sanji__case__init(c);
    sanji__applicant__init(a);
    switch (i % FUZZ_DELTA_BASES) {
    case 0:
        accepted_township(c, a);
        break;
    case 1:
        registered(c, a);
        break;
    default:
        closed_rectified(c, a);
        break;
    }
}

uint8_t *fuzz_delta_encode(uint8_t mode, const Sanji__Case *base, const Sanji__CaseDelta *d,
                           size_t *len)
{
    size_t bl = (mode & FUZZ_DELTA_SPLIT) ? sanji__case__get_packed_size(base) : 0;
    size_t dl = sanji__case_delta__get_packed_size(d);
    if (bl > 0xffff)
        return NULL;
    size_t head = (mode & FUZZ_DELTA_SPLIT) ? 3 : 1;
    uint8_t *p = malloc(head + bl + dl);
    if (p == NULL)
        return NULL;
    p[0] = mode;
    if (mode & FUZZ_DELTA_SPLIT) {
        p[1] = (uint8_t)(bl & 0xff);
        p[2] = (uint8_t)(bl >> 8);
        sanji__case__pack(base, p + head);
    }
    sanji__case_delta__pack(d, p + head + bl);
    *len = head + bl + dl;
    return p;
}
