/*
 * chaos_gen.c - what a simulated village station (and desk) does in a chaos
 * run (chaos_gen.h): one copy of the weights, the fields of each action,
 * registrations, generated scans and the journal lines, for the in-process
 * clients of chaos_load.c and the station process sanji-chaos-station.
 *
 * Entry points: chaos_gen_pick(), chaos_gen_fill(), chaos_gen_register(),
 * chaos_gen_file(), chaos_gen_line_saved(), chaos_gen_line_attachment().
 */
#include "chaos_gen.h"

#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "hex.h"

/* Weights of each action for stations and for desks; 0: never chosen. */
static const int STATION_W[SJ_ACTION_COUNT] = {
    [SJ_ACTION_RESOLVE_AT_ONCE] = 30, [SJ_ACTION_ESCALATE] = 50, [SJ_ACTION_WITHDRAW] = 2,
    [SJ_ACTION_SUPPLEMENT] = 50,      [SJ_ACTION_FEEDBACK] = 50, [SJ_ACTION_CLOSE] = 2,
    [SJ_ACTION_URGE] = 2,             [SJ_ACTION_RETURN_UNDOABLE] = 2,
    [SJ_ACTION_EXTEND_REQUEST] = 2,   [SJ_ACTION_RECTIFY] = 20,  [SJ_ACTION_CALLBACK] = 50,
};
static const int DESK_W[SJ_ACTION_COUNT] = {
    [SJ_ACTION_ACCEPT] = 50,           [SJ_ACTION_RETURN_DOWN] = 4, [SJ_ACTION_RESOLVE] = 40,
    [SJ_ACTION_ESCALATE] = 30,         [SJ_ACTION_REQUEST_MATERIALS] = 8,
    [SJ_ACTION_RETURN_UNDOABLE] = 3,   [SJ_ACTION_REOPEN] = 20,     [SJ_ACTION_RECTIFY] = 20,
    /* 派单: the network has no department desk, so a dispatched case waits
     * there (the county may still send it down or urge); rare, so that most
     * county cases are still resolved by the county itself. */
    [SJ_ACTION_DISPATCH] = 3,
    [SJ_ACTION_EXTEND_REQUEST] = 3,    [SJ_ACTION_EXTEND_APPROVE] = 10,
    [SJ_ACTION_EXTEND_REFUSE] = 4,
};
#define SKIP_WEIGHT 30 /* stations: leave a case alone this often when little is possible */

sj_case_action chaos_gen_pick(sj_workload *w, bool station, const sj_case_action *allowed,
                              size_t n_allowed, bool *possible)
{
    const int *wt = station ? STATION_W : DESK_W;
    int total = 0;
    for (size_t k = 0; k < n_allowed; k++)
        total += wt[allowed[k]];
    *possible = total > 0;
    if (total == 0)
        return SJ_ACTION_NONE;
    int skip = station && total < 10 ? SKIP_WEIGHT : 0;
    int pick = (int)sj_workload_below(w, (uint64_t)(total + skip));
    if (pick >= total)
        return SJ_ACTION_NONE;
    for (size_t k = 0; k < n_allowed; k++) {
        pick -= wt[allowed[k]];
        if (pick < 0)
            return allowed[k];
    }
    return SJ_ACTION_NONE;
}

void chaos_gen_fill(sj_workload *w, sc_action_req *a, char *note, size_t cap)
{
    static const char *const MATERIALS[] = {"户口簿", "居民身份证复印件", "收入证明", "近期免冠照片"};
    /* Department codes of deploy/demo/departments.csv. */
    static const char *const DEPTS[] = {"mzj", "rsj", "ybj", "nyncj"};
    sj_workload_text(w, note, cap);
    a->note = note;
    switch (a->type) {
    case SJ_ACTION_RESOLVE:
    case SJ_ACTION_RESOLVE_AT_ONCE:
        a->result = "已办结，结果已告知申请人。";
        break;
    case SJ_ACTION_DISPATCH:
        a->department = DEPTS[sj_workload_below(w, 4)];
        break;
    case SJ_ACTION_REQUEST_MATERIALS:
        a->materials = MATERIALS;
        a->n_materials = 1 + (size_t)sj_workload_below(w, 4);
        break;
    case SJ_ACTION_FEEDBACK:
    case SJ_ACTION_CALLBACK:
        /* one in ten a 差评 (不满意 or 非常不满意), else one of the three good levels */
        a->satisfaction = sj_workload_below(w, 10) == 0
                              ? sj_satisfaction_scale[3 + sj_workload_below(w, 2)]
                              : sj_satisfaction_scale[sj_workload_below(w, 3)];
        break;
    case SJ_ACTION_EXTEND_REQUEST:
        a->extend_days = 1 + (uint32_t)sj_workload_below(w, 10);
        break;
    default:
        break;
    }
}

void chaos_gen_register(sj_workload *w, chaos_gen_reg *g)
{
    sj_workload_applicant(w, g->name, g->idn, g->phone);
    sj_workload_text(w, g->text, sizeof g->text);
    g->req = (sc_register_req){.item_code = sj_workload_item(w, SJ_LEVEL_NONE),
                               .applicant_name = g->name,
                               .id_number = g->idn,
                               .phone = g->phone,
                               .request_text = g->text,
                               .urgent = sj_workload_below(w, 20) == 0};
}

void chaos_gen_file(sj_workload *w, size_t min, size_t max, unsigned seq, uint8_t **data,
                    size_t *size, char name[64], const char **material)
{
    static const char *const MATERIALS[] = {"", "户口簿", "居民身份证复印件", "收入证明"};
    size_t n = min + (size_t)sj_workload_below(w, max - min + 1);
    uint8_t *d = malloc(n);
    if (!d)
        abort(); /* exhaustion of a test program */
    uint64_t x = sj_workload_rand(w) | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        d[i] = (uint8_t)(x >> 24);
    }
    const char *ext;
    switch (sj_workload_below(w, 3)) {
    case 0:
        memcpy(d, "\xff\xd8\xff\xe0", 4);
        ext = "jpg";
        break;
    case 1:
        memcpy(d, "\x89PNG\r\n\x1a\n", 8);
        ext = "png";
        break;
    default:
        memcpy(d, "%PDF-1.4\n", 9);
        ext = "pdf";
        break;
    }
    snprintf(name, 64, "scan-%u.%s", seq, ext);
    *material = MATERIALS[sj_workload_below(w, 4)];
    *data = d;
    *size = n;
}

void chaos_gen_line_saved(FILE *f, const uint8_t mid[16], const uint8_t cid[16], int action,
                          uint64_t expected, const char *unit)
{
    char m[33], c[33];
    sj_test_hex16_format(mid, m);
    sj_test_hex16_format(cid, c);
    fprintf(f, "S %s %s %s %llu %s\n", m, c, sj_case_action_name((sj_case_action)action),
            (unsigned long long)expected, unit);
    fflush(f);
}

void chaos_gen_line_attachment(FILE *f, const uint8_t aid[16], const uint8_t cid[16],
                               uint64_t size, const uint8_t sha256[32], const char *unit)
{
    char m[33], c[33], sha[SJ_ATTACH_HEX_SIZE];
    sj_test_hex16_format(aid, m);
    sj_test_hex16_format(cid, c);
    sj_attach_hex(sha256, sha);
    fprintf(f, "T %s %s %llu %s %s\n", m, c, (unsigned long long)size, sha, unit);
    fflush(f);
}
