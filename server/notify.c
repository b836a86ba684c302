/*
 * notify.c - the notifier's database side (see notify.h; its texts are
 * notify_text.c's).
 *
 * Entry points: countyd_notify_recover(), countyd_notify_take(),
 * countyd_notify_record(), countyd_notify_msg_free().
 */
#include "notify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caserow.h"
#include "db.h"
#include "uuid.h"

/* --- the outbox --------------------------------------------------------------- */

void countyd_notify_msg_free(countyd_notify_msg *m)
{
    free(m->number);
    free(m->phone);
    free(m->text);
    memset(m, 0, sizeof(*m));
}

int countyd_notify_recover(PGconn *db, sj_error *err)
{
    return countyd_db_exec(
        db,
        "UPDATE notification SET state = 'pending', last_error ="
        " '县服务器停止时中断，将重发 (interrupted by a stop of the county server;"
        " sent again)'"
        " WHERE state = 'sending'",
        0, NULL, err);
}

static char *dup_or_null(const char *s)
{
    return strdup(s ? s : "");
}

/* The materials of a text[] column, joined by "、". */
static char *join_materials(const char *array_text)
{
    countyd_arena a;
    countyd_arena_init(&a);
    size_t n = 0;
    char **items = countyd_caserow_text_array(&a, array_text, &n);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(items[i]) + 3;
    char *out = malloc(len);
    if (out) {
        out[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            if (i)
                strcat(out, "、");
            strcat(out, items[i]);
        }
    }
    countyd_arena_free(&a);
    return out;
}

/* The message of the notification row res (the columns countyd_notify_take()
 * reads) into m: the text kept from an earlier attempt, else the template
 * of its kind filled in (never the applicant's name or ID number). */
static int message_of(const countyd_config *cfg, const PGresult *res, const char *id,
                      countyd_notify_msg *m, sj_error *err)
{
    int rc = 0;
    m->id = strtoll(id, NULL, 10);
    (void)sj_uuid_parse(PQgetvalue(res, 0, 1), m->case_id, NULL);
    m->kind = (sj_notify_kind)atoi(PQgetvalue(res, 0, 2));
    m->attempt = (uint32_t)strtoul(PQgetvalue(res, 0, 4), NULL, 10) + 1;
    m->phone = dup_or_null(PQgetvalue(res, 0, 3));
    m->number = dup_or_null(PQgetvalue(res, 0, 6));
    if (PQgetvalue(res, 0, 5)[0]) {
        m->text = dup_or_null(PQgetvalue(res, 0, 5));
    } else {
        char *materials = join_materials(PQgetvalue(res, 0, 8));
        countyd_notify_fields f = {.county = PQgetvalue(res, 0, 11),
                                   .item = PQgetvalue(res, 0, 7),
                                   .village = PQgetvalue(res, 0, 10),
                                   .materials = materials ? materials : "",
                                   .number = m->number};
        int k = m->kind >= SJ_NOTIFY_KIND_RESOLVED && m->kind <= SJ_NOTIFY_KIND_MATERIALS
                    ? (int)m->kind
                    : (int)SJ_NOTIFY_KIND_RESOLVED;
        rc = countyd_notify_render(cfg->notify_templates[k], &f, &m->text, err);
        free(materials);
    }
    return rc;
}

int countyd_notify_take(PGconn *db, const countyd_config *cfg, int64_t now, countyd_notify_msg *m,
                        bool *found, sj_error *err)
{
    memset(m, 0, sizeof(*m));
    *found = false;
    char now_s[24];
    snprintf(now_s, sizeof(now_s), "%" PRId64, now);
    int rc = countyd_db_exec(db, "BEGIN", 0, NULL, err);
    if (rc != 0)
        return rc;
    for (;;) {
        const char *p[] = {now_s};
        PGresult *res;
        /* The county's and the village's names from the org units; the
         * applicant's name and ID number are not read at all. */
        rc = countyd_db_query(
            db,
            "SELECT n.id, n.case_id::text, n.kind, n.phone, n.attempts, n.message,"
            " coalesce(c.number, ''), c.item_name, c.materials, c.status,"
            " coalesce(v.name, ''), coalesce(k.name, '')"
            " FROM notification n JOIN cases c ON c.case_id = n.case_id"
            " LEFT JOIN org_unit v ON v.code = c.village"
            " LEFT JOIN org_unit k ON k.code = substr(c.village, 1, 6) || '000000'"
            " WHERE n.state = 'pending' AND n.next_attempt_at_ms <= $1::bigint"
            " ORDER BY n.next_attempt_at_ms, n.id LIMIT 1 FOR UPDATE OF n SKIP LOCKED",
            1, p, &res, err);
        if (rc != 0)
            break;
        if (PQntuples(res) == 0) {
            PQclear(res);
            break;
        }
        char id[24]; /* kept: the result is cleared before the row's update */
        snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
        int status = atoi(PQgetvalue(res, 0, 9));
        if (sj_case_is_terminal((sj_case_status)status)) {
            /* Closed or withdrawn before the message went out: the
             * villager has been back, or no longer waits for it. */
            const char *q[] = {id};
            rc = countyd_db_exec(db,
                                 "UPDATE notification SET state = 'cancelled', last_error ="
                                 " '发送前事项已归档或撤回 (the case was closed or withdrawn"
                                 " before it was sent)'"
                                 " WHERE id = $1",
                                 1, q, err);
            PQclear(res);
            if (rc != 0)
                break;
            continue;
        }
        rc = message_of(cfg, res, id, m, err);
        PQclear(res);
        if (rc == 0 && (!m->phone || !m->number || !m->text))
            rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        if (rc != 0)
            break;
        const char *q[] = {id, m->text};
        if ((rc = countyd_db_exec(db,
                                  "UPDATE notification SET state = 'sending', message = $2"
                                  " WHERE id = $1",
                                  2, q, err)) != 0)
            break;
        *found = true;
        break;
    }
    if (rc == 0)
        rc = countyd_db_exec(db, "COMMIT", 0, NULL, err);
    if (rc != 0) {
        sj_error ignored;
        (void)countyd_db_exec(db, "ROLLBACK", 0, NULL, &ignored);
        countyd_notify_msg_free(m);
        *found = false;
    }
    return rc;
}

int countyd_notify_record(countyd_apply *a, const countyd_config *cfg, const countyd_notify_msg *m,
                          bool sent, const char *error, int64_t now, countyd_apply_result *r,
                          sj_error *err)
{
    bool retry = !sent && m->attempt < (uint32_t)cfg->notify_retry_max;
    int64_t next = retry ? now + countyd_notify_backoff_ms(cfg->notify_retry_base_ms,
                                                           cfg->notify_retry_cap_ms, m->attempt) : 0;
    char id[24], attempt[16], next_s[24], now_s[24];
    snprintf(id, sizeof(id), "%" PRId64, m->id);
    snprintf(attempt, sizeof(attempt), "%u", m->attempt);
    snprintf(next_s, sizeof(next_s), "%" PRId64, retry ? next : now);
    snprintf(now_s, sizeof(now_s), "%" PRId64, now);
    const char *state = sent ? "sent" : retry ? "pending" : "failed";
    const char *why = sent ? "" : error ? error : "";
    const char *p[] = {id, state, attempt, next_s, why, now_s, sent ? "t" : "f"};
    countyd_system_action act = {
        .type = sent ? SJ_ACTION_NOTIFIED : SJ_ACTION_NOTIFY_FAILED,
        .notify_attempt = m->attempt,
        .notify_retry_at_ms = next,
        .note = why,
        .then_sql = "WITH u AS (UPDATE notification SET state = $2, attempts = $3::integer,"
                    " next_attempt_at_ms = $4::bigint, last_error = $5 WHERE id = $1::bigint)"
                    " INSERT INTO notification_attempt (notification_id, attempt, at_ms, sent,"
                    " error) VALUES ($1::bigint, $3::integer, $6::bigint, $7::boolean, $5)"
                    " ON CONFLICT (notification_id, attempt) DO NOTHING",
        .then_n = 7,
        .then_params = p,
    };
    memcpy(act.case_id, m->case_id, 16);
    return countyd_apply_system(a, &act, 1, r, err);
}
