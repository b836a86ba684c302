/*
 * case_input.c - decodes fuzz_case's input into a case, an action and an
 * actor (see case_input.h for the layout and ownership).
 *
 * Header bytes:
 *    0 status (mod 13)          1 resume_status (mod 13)
 *    2 holder_level (mod 5)     3 item_min_level (mod 5)
 *    4 resolved_level (mod 5)
 *    5 flags: 1 overdue, 2 supervised, 4 escalated, 8 reached_county,
 *      16 holder unit of the other village, 32 resolver unit of the other
 *      village, 64 village code from the raw text, 128 actor unit from it
 *    6 warn_level  7 urge_count  8 materials_rounds
 *    9 satisfaction (mod 5)    10 version
 *   11 village index (bits 0-1), the other village's index (bits 2-3)
 *   12 actor role (mod 11)
 *   13 actor unit: village index (bits 0-1), level (bits 2-3; 0: raw text)
 *   14 action (mod SJ_ACTION_COUNT + 1: the last is unknown)
 *                              15 expected version - version (signed)
 *   16 time: 0 none, else a day in 2026 plus that many seconds
 *   17 action satisfaction (mod 5)  18 warn_percent
 *   19 action materials (mod 56)    20 case materials (mod 56)
 *   21 bit i: text i is NULL (i < 6); bit 6: an extension of
 *      1 + byte 18 % 60 days is pending; bit 7: the action carries byte 18
 *      as its extension days
 *   22 notify: bits 0-2 the case's notify state (mod 5), bits 3-6 the
 *      action's notify attempt, bit 7 a retry a minute after the action
 *   23 persons: 1 the action names a person (ASSIGN, SET_CARRIER): "p-new",
 *      or the note's text with 64; 2 the case is assigned to "p-a"; 4 its
 *      carrier is "p-new"; 8 the actor is the person "p-x", or with 32
 *      "p-a" (the assignee); 16 the county says the assignee is inactive
 *
 * Entry points: fuzz_case_input_decode(), fuzz_case_input_free(),
 * fuzz_case_input_header().
 */
#include "case_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orgunit.h"

const char *const fuzz_case_villages[FUZZ_CASE_VILLAGES] = {
    "410423101201", "410423101202", "410423102001", "411303001005"};

#define TIME_BASE INT64_C(1767225600000) /* 2026-01-01 00:00 UTC */

/* The unit at `level` above village, or "" when there is none. */
static void unit_at(const char *village, int level, char out[SJ_UNIT_CODE_SIZE])
{
    char unit[SJ_ORGUNIT_CODE_SIZE];
    memset(out, 0, SJ_UNIT_CODE_SIZE);
    if (sj_orgunit_at_level(village, (sj_level)level, unit) == 0)
        memcpy(out, unit, SJ_UNIT_CODE_SIZE);
}

/* A unit field from raw text: its first 13 bytes, without a NUL when the
 * text is that long (a fixed field lacking its NUL must read as invalid). */
static void unit_raw(const char *text, char out[SJ_UNIT_CODE_SIZE])
{
    memset(out, 0, SJ_UNIT_CODE_SIZE);
    size_t n = strlen(text);
    memcpy(out, text, n < SJ_UNIT_CODE_SIZE ? n : SJ_UNIT_CODE_SIZE);
}

static char *dup_exact(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

void fuzz_case_input_free(fuzz_case_input *in)
{
    for (size_t i = 0; i < FUZZ_CASE_TEXTS; i++)
        free(in->texts[i]);
    for (size_t i = 0; i < in->n_pieces; i++)
        free(in->pieces[i]);
    free(in->pieces);
    free(in->act_materials);
    free(in->cur_materials);
    memset(in, 0, sizeof(*in));
}

int fuzz_case_input_decode(const uint8_t *data, size_t size, fuzz_case_input *in)
{
    memset(in, 0, sizeof(*in));
    uint8_t h[FUZZ_CASE_HEADER] = {0};
    memcpy(h, data, size < FUZZ_CASE_HEADER ? size : FUZZ_CASE_HEADER);
    const uint8_t *p = data + (size < FUZZ_CASE_HEADER ? size : FUZZ_CASE_HEADER);
    const uint8_t *end = data + size;

    /* Texts: NUL-separated pieces; the first FUZZ_CASE_TEXTS are the fields,
     * the rest material names. */
    size_t n_all = 0;
    for (const uint8_t *q = p; q < end; q++)
        n_all += *q == '\0';
    n_all += p < end;
    size_t n_pieces = n_all > FUZZ_CASE_TEXTS ? n_all - FUZZ_CASE_TEXTS : 0;
    in->pieces = calloc(n_pieces ? n_pieces : 1, sizeof(char *));
    if (in->pieces == NULL)
        return -1;
    for (size_t i = 0; i < n_all; i++) {
        const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
        size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
        char *s = dup_exact(p, n);
        if (s == NULL)
            goto nomem;
        if (i < FUZZ_CASE_TEXTS)
            in->texts[i] = s;
        else
            in->pieces[in->n_pieces++] = s;
        p += n + (nul != NULL);
    }
    for (size_t i = 0; i < FUZZ_CASE_TEXTS; i++)
        if (in->texts[i] == NULL && (in->texts[i] = dup_exact((const uint8_t *)"", 0)) == NULL)
            goto nomem;
    const char *raw_unit = in->texts[6];

    /* Materials: taken from the pieces in turn, "" when there are none. */
    size_t n_act = h[19] % 56, n_cur = h[20] % 56, next = 0;
    in->act_materials = calloc(n_act ? n_act : 1, sizeof(char *));
    in->cur_materials = calloc(n_cur ? n_cur : 1, sizeof(char *));
    if (in->act_materials == NULL || in->cur_materials == NULL)
        goto nomem;
    for (size_t i = 0; i < n_act; i++, next++)
        in->act_materials[i] = in->n_pieces ? in->pieces[next % in->n_pieces] : in->texts[6] + strlen(in->texts[6]);
    for (size_t i = 0; i < n_cur; i++, next++)
        in->cur_materials[i] = in->n_pieces ? in->pieces[next % in->n_pieces] : in->texts[6] + strlen(in->texts[6]);

    sj_case *c = &in->cur;
    const char *village = fuzz_case_villages[h[11] & 3];
    const char *other = fuzz_case_villages[(h[11] >> 2) & 3];
    if (h[5] & 64)
        unit_raw(raw_unit, c->village);
    else
        memcpy(c->village, village, SJ_UNIT_CODE_SIZE);
    c->status = (sj_case_status)(h[0] % (SJ_STATUS_COUNT + 1));
    c->resume_status = (sj_case_status)(h[1] % (SJ_STATUS_COUNT + 1));
    c->holder_level = (sj_level)(h[2] % 5);
    c->item_min_level = (sj_level)(h[3] % 5);
    c->resolved_level = (sj_level)(h[4] % 5);
    unit_at((h[5] & 16) ? other : village, c->holder_level, c->holder_unit);
    unit_at((h[5] & 32) ? other : village, c->resolved_level, c->resolved_unit);
    c->overdue = h[5] & 1;
    c->supervised = h[5] & 2;
    c->escalated = h[5] & 4;
    c->reached_county = h[5] & 8;
    c->warn_level = h[6];
    c->urge_count = h[7];
    c->materials_rounds = h[8];
    c->satisfaction = (sj_satisfaction)(h[9] % 5);
    c->version = h[10];
    c->updated_at_ms = TIME_BASE;
    c->department = (h[21] & 8) ? NULL : in->texts[3];
    /* The department dispatched to: the action's department text, so that
     * its staff (below) can match it. */
    c->department_code = (h[21] & 64) ? in->texts[2] : NULL;
    c->result = (h[21] & 16) ? NULL : in->texts[4];
    c->return_reason = (h[21] & 32) ? NULL : in->texts[5];
    c->materials = in->cur_materials;
    c->n_materials = n_cur;
    /* The clock: registered a day before, a pause while waiting. */
    c->registered_at_ms = TIME_BASE - 86400000;
    c->limit_days = h[7];
    c->due_at_ms = TIME_BASE + 86400000;
    c->paused_at_ms = c->status == SJ_STATUS_WAITING_MATERIALS ? TIME_BASE : 0;
    c->extension_days = (h[21] & 64) ? 1u + h[18] % 60u : 0;
    c->return_count = h[8];
    c->notify = (sj_notify_state)((h[22] & 7) % 5);
    c->notify_attempts = (h[22] >> 3) & 15;

    in->actor.role = (sj_person_role)(h[12] % 11);
    if (h[21] & 128)
        snprintf(in->actor.department, sizeof in->actor.department, "%s", in->texts[2]);
    int alevel = (h[13] >> 2) & 3;
    if (alevel == 0 || (h[5] & 128))
        unit_raw(raw_unit, in->actor.unit);
    else
        unit_at(fuzz_case_villages[h[13] & 3], alevel, in->actor.unit);

    sj_action *a = &in->act;
    a->type = (sj_case_action)(h[14] % (SJ_ACTION_COUNT + 1));
    a->expected_version = c->version + (uint64_t)(int64_t)(int8_t)h[15];
    a->at_ms = h[16] ? TIME_BASE + (int64_t)h[16] * 1000 : 0;
    a->note = (h[21] & 1) ? NULL : in->texts[0];
    a->result = (h[21] & 2) ? NULL : in->texts[1];
    a->department = (h[21] & 4) ? NULL : in->texts[2];
    a->materials = in->act_materials;
    a->n_materials = n_act;
    a->satisfaction = (sj_satisfaction)(h[17] % 5);
    a->warn_percent = h[18];
    a->extend_days = (h[21] & 128) ? h[18] : 0;
    a->notify_attempt = (h[22] >> 3) & 15;
    a->notify_retry_at_ms = (h[22] & 128) ? a->at_ms + 60000 : 0;
    /* Assignment (指派, 接手, 全程代办员). */
    if (h[23] & 1)
        a->person = (h[23] & 64) ? in->texts[0] : "p-new";
    c->assignee = (h[23] & 2) ? "p-a" : NULL;
    c->assignee_name = (h[23] & 2) ? in->texts[3] : NULL;
    c->carrier = (h[23] & 4) ? "p-new" : NULL;
    if (h[23] & 8)
        snprintf(in->actor.person, sizeof in->actor.person, "%s", (h[23] & 32) ? "p-a" : "p-x");
    a->assignee_inactive = h[23] & 16;
    return 0;
nomem:
    fuzz_case_input_free(in);
    return -1;
}

void fuzz_case_input_header(const fuzz_case_seed *s, uint8_t h[FUZZ_CASE_HEADER])
{
    memset(h, 0, FUZZ_CASE_HEADER);
    h[0] = (uint8_t)s->status;
    h[1] = (uint8_t)s->resume_status;
    h[2] = (uint8_t)s->holder_level;
    h[3] = (uint8_t)s->item_min_level;
    h[4] = (uint8_t)s->resolved_level;
    h[5] = s->flags;
    h[6] = s->warn_level;
    h[7] = s->urge_count;
    h[8] = s->materials_rounds;
    h[9] = (uint8_t)s->satisfaction;
    h[10] = s->version;
    h[11] = s->village & 3;
    h[12] = (uint8_t)s->role;
    h[13] = (uint8_t)((s->actor_village & 3) | ((unsigned)s->actor_level << 2));
    h[14] = (uint8_t)s->action;
    h[15] = (uint8_t)s->version_delta;
    h[16] = s->at;
    h[17] = (uint8_t)s->act_satisfaction;
    h[18] = s->warn_percent;
    h[19] = s->n_act_materials;
    h[20] = s->n_cur_materials;
    h[21] = s->null_mask;
    h[22] = s->notify;
    h[23] = s->persons;
}
