/*
 * caserow.c - Case and CaseEvent from PostgreSQL rows, and masking (see
 * caserow.h).
 *
 * Entry points: countyd_caserow_case(), countyd_caserow_event(),
 * countyd_caserow_load(), countyd_caserow_events(), countyd_caserow_visible(),
 * countyd_caserow_mask(), countyd_caserow_text_array().
 */
#include "caserow.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "orgunit.h"
#include "uuid.h"

char **countyd_caserow_text_array(countyd_arena *a, const char *lit, size_t *n)
{
    *n = 0;
    size_t len = lit ? strlen(lit) : 0;
    if (len < 2 || lit[0] != '{')
        return NULL;
    /* At most one element per comma, plus one. */
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += lit[i] == ',';
    char **out = countyd_arena_alloc(a, (cap + 1) * sizeof(*out));
    char *buf = countyd_arena_alloc(a, len + 1);
    const char *p = lit + 1;
    if (*p == '}')
        return out;
    while (*p && *p != '}') {
        char *start = buf;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                *buf++ = *p++;
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',' && *p != '}')
                *buf++ = *p++;
        }
        *buf++ = '\0';
        out[(*n)++] = start;
        if (*p == ',')
            p++;
    }
    return out;
}

static const char *V(const PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col);
}

static int64_t I64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool B(const PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col)[0] == 't';
}

static ProtobufCBinaryData uuid_bytes(countyd_arena *a, const char *text)
{
    ProtobufCBinaryData d = {0, NULL};
    if (!text || !*text)
        return d;
    uint8_t *id = countyd_arena_alloc(a, 16);
    if (sj_uuid_parse(text, id, NULL) == 0) {
        d.data = id;
        d.len = 16;
    }
    return d;
}

static char *S(countyd_arena *a, const PGresult *r, int row, int col)
{
    /* char(12) columns come padded only when shorter; codes are exact. */
    return countyd_arena_strdup(a, V(r, row, col));
}

Sanji__Case *countyd_caserow_case(countyd_arena *a, const PGresult *r, int row, int k)
{
    Sanji__Case *c = countyd_arena_alloc(a, sizeof(*c));
    sanji__case__init(c);
    Sanji__Applicant *ap = countyd_arena_alloc(a, sizeof(*ap));
    sanji__applicant__init(ap);
    c->case_id = uuid_bytes(a, V(r, row, k + 0));
    c->number = S(a, r, row, k + 1);
    c->village = S(a, r, row, k + 2);
    c->item_code = S(a, r, row, k + 3);
    c->item_name = S(a, r, row, k + 4);
    ap->name = S(a, r, row, k + 5);
    ap->id_number = S(a, r, row, k + 6);
    ap->phone = S(a, r, row, k + 7);
    c->applicant = ap;
    c->request_text = S(a, r, row, k + 8);
    c->first_receiver = S(a, r, row, k + 9);
    c->first_receiver_name = S(a, r, row, k + 10);
    c->holder_level = (Sanji__Level)I64(r, row, k + 11);
    c->holder_unit = S(a, r, row, k + 12);
    c->status = (Sanji__CaseStatus)I64(r, row, k + 13);
    c->resume_status = (Sanji__CaseStatus)I64(r, row, k + 14);
    c->version = (uint64_t)I64(r, row, k + 15);
    c->registered_at_ms = I64(r, row, k + 16);
    c->due_at_ms = I64(r, row, k + 17);
    c->department = S(a, r, row, k + 18);
    c->handling = (Sanji__HandlingType)I64(r, row, k + 19);
    c->overdue = B(r, row, k + 20);
    c->warn_level = (uint32_t)I64(r, row, k + 21);
    c->urge_count = (uint32_t)I64(r, row, k + 22);
    c->supervised = B(r, row, k + 23);
    c->materials_rounds = (uint32_t)I64(r, row, k + 24);
    c->materials = countyd_caserow_text_array(a, V(r, row, k + 25), &c->n_materials);
    c->result = S(a, r, row, k + 26);
    c->return_reason = S(a, r, row, k + 27);
    c->satisfaction = (Sanji__Satisfaction)I64(r, row, k + 28);
    c->resolved_level = (Sanji__Level)I64(r, row, k + 29);
    c->resolved_unit = S(a, r, row, k + 30);
    c->updated_at_ms = I64(r, row, k + 31);
    c->closed_at_ms = I64(r, row, k + 32);
    c->urgent = B(r, row, k + 33);
    c->appointment_at_ms = I64(r, row, k + 34);
    c->escalated = B(r, row, k + 35);
    c->reached_county = B(r, row, k + 36);
    c->department_code = S(a, r, row, k + 37);
    c->department_refusals = (uint32_t)I64(r, row, k + 38);
    c->limit_days = (uint32_t)I64(r, row, k + 39);
    c->due_provisional = B(r, row, k + 40);
    c->paused_at_ms = I64(r, row, k + 41);
    c->paused_days = (uint32_t)I64(r, row, k + 42);
    c->extended_days = (uint32_t)I64(r, row, k + 43);
    c->extension_days = (uint32_t)I64(r, row, k + 44);
    c->return_count = (uint32_t)I64(r, row, k + 45);
    c->notify_state = (Sanji__NotifyState)I64(r, row, k + 46);
    c->notify_attempts = (uint32_t)I64(r, row, k + 47);
    c->notify_at_ms = I64(r, row, k + 48);
    c->notify_retry_at_ms = I64(r, row, k + 49);
    c->assignee = S(a, r, row, k + 50);
    c->assignee_name = S(a, r, row, k + 51);
    c->carrier = S(a, r, row, k + 52);
    c->carrier_name = S(a, r, row, k + 53);
    c->rectify_due_at_ms = I64(r, row, k + 54);
    c->rectified_at_ms = I64(r, row, k + 55);
    c->called_back_at_ms = I64(r, row, k + 56);
    c->rectify_late = B(r, row, k + 57);
    return c;
}

Sanji__CaseEvent *countyd_caserow_event(countyd_arena *a, const PGresult *r, int row, int k)
{
    Sanji__CaseEvent *e = countyd_arena_alloc(a, sizeof(*e));
    sanji__case_event__init(e);
    e->case_id = uuid_bytes(a, V(r, row, k + 0));
    e->seq = (uint32_t)I64(r, row, k + 1);
    e->action = (Sanji__CaseActionType)I64(r, row, k + 2);
    e->actor_person = S(a, r, row, k + 3);
    e->actor_name = S(a, r, row, k + 4);
    e->actor_node = S(a, r, row, k + 5);
    e->actor_level = (Sanji__Level)I64(r, row, k + 6);
    e->actor_unit = S(a, r, row, k + 7);
    e->at_ms = I64(r, row, k + 8);
    e->recorded_at_ms = I64(r, row, k + 9);
    e->from_status = (Sanji__CaseStatus)I64(r, row, k + 10);
    e->to_status = (Sanji__CaseStatus)I64(r, row, k + 11);
    e->note = S(a, r, row, k + 12);
    e->result = S(a, r, row, k + 13);
    e->materials = countyd_caserow_text_array(a, V(r, row, k + 14), &e->n_materials);
    e->satisfaction = (Sanji__Satisfaction)I64(r, row, k + 15);
    e->department = S(a, r, row, k + 16);
    e->message_id = uuid_bytes(a, V(r, row, k + 17));
    e->repeat_materials_request = B(r, row, k + 18);
    e->department_code = S(a, r, row, k + 19);
    e->clock_days = (uint32_t)I64(r, row, k + 20);
    e->due_at_ms = I64(r, row, k + 21);
    e->due_provisional = B(r, row, k + 22);
    e->notify_attempt = (uint32_t)I64(r, row, k + 23);
    e->notify_retry_at_ms = I64(r, row, k + 24);
    e->person = S(a, r, row, k + 25);
    e->person_name = S(a, r, row, k + 26);
    e->rectify_due_at_ms = I64(r, row, k + 27);
    e->rectify_late = B(r, row, k + 28);
    return e;
}

int countyd_caserow_load(PGconn *db, countyd_arena *a, const uint8_t *id, const char *number,
                         Sanji__Case **out, sj_error *err)
{
    *out = NULL;
    char cid[SJ_UUID_TEXT_SIZE];
    const char *p[1];
    const char *sql;
    if (id) {
        sj_uuid_format(id, cid);
        p[0] = cid;
        sql = "SELECT " COUNTYD_CASE_COLUMNS " FROM cases c WHERE c.case_id = $1";
    } else {
        p[0] = number ? number : "";
        sql = "SELECT " COUNTYD_CASE_COLUMNS " FROM cases c WHERE c.number = $1";
    }
    PGresult *res;
    int rc = countyd_db_query(db, sql, 1, p, &res, err);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return sj_error_set(err, SJ_EUNKNOWN_CASE, "案件不存在 (no such case)");
    }
    *out = countyd_caserow_case(a, res, 0, 0);
    PQclear(res);
    return 0;
}

int countyd_caserow_events(PGconn *db, countyd_arena *a, const uint8_t id[16],
                           Sanji__CaseEvent ***out, size_t *n, sj_error *err)
{
    *out = NULL;
    *n = 0;
    char cid[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(id, cid);
    const char *p[] = {cid};
    PGresult *res;
    int rc = countyd_db_query(db,
                              "SELECT " COUNTYD_EVENT_COLUMNS
                              " FROM case_event e WHERE e.case_id = $1 ORDER BY e.seq",
                              1, p, &res, err);
    if (rc != 0)
        return rc;
    size_t rows = (size_t)PQntuples(res);
    Sanji__CaseEvent **ev = countyd_arena_alloc(a, (rows + 1) * sizeof(*ev));
    for (size_t i = 0; i < rows; i++)
        ev[i] = countyd_caserow_event(a, res, (int)i, 0);
    PQclear(res);
    *out = ev;
    *n = rows;
    return 0;
}

bool countyd_caserow_visible(const Sanji__Case *c, sj_node_role role, const char *unit)
{
    return c && sj_personal_visible(c->village, (sj_level)c->holder_level, c->holder_unit, role,
                                    unit);
}

void countyd_caserow_mask(const Sanji__Applicant *in, Sanji__Applicant *out,
                          char id_buf[SJ_PERSONAL_MASK_SIZE], char phone_buf[SJ_PERSONAL_MASK_SIZE])
{
    *out = *in;
    if (sj_personal_mask_id(in->id_number ? in->id_number : "", id_buf, SJ_PERSONAL_MASK_SIZE) != 0)
        id_buf[0] = '\0';
    if (sj_personal_mask_phone(in->phone ? in->phone : "", phone_buf, SJ_PERSONAL_MASK_SIZE) != 0)
        phone_buf[0] = '\0';
    out->id_number = id_buf;
    out->phone = phone_buf;
}
