/*
 * apply.c - applies upward case messages in batched transactions (see
 * apply.h for the contract): the batch driver.  It opens and closes the
 * module, chooses a batch's mode, runs each message in it (its savepoint,
 * its dedup through the processed-message row, the fallback to a slower
 * mode) and runs the supervision sweep's actions.  What a message does is
 * the other apply files' (apply_int.h lists them).
 *
 * A refusal is a positive outcome of a message (REFUSED, apply_int.h),
 * which apply_one() records; a negative return is a database failure of
 * the batch.
 *
 * Cost per message (docs/PERFORMANCE.md, tuning items 4-9): persons and
 * items come from memory (refdata.h); the processed-message insert is the
 * dedup check; the writes of a message are few statements (data-modifying
 * CTEs).  Three modes, each the fallback of the one before (their writes:
 * apply_exec.c):
 *   pipelined  the batch's cases are read in one query and its writes are
 *              deferred (countyd_apply_defer()) and sent in one pipeline:
 *              set-based, one statement per table
 *              (countyd_apply_set_flush(), apply_set.h; the default), or
 *              one per row (countyd_apply_pipe_flush(),
 *              apply.set_based = false); a round trip per batch, not per
 *              statement;
 *   serial     the statements of one message after another, the last of
 *              them in one pipeline with the processed-message row;
 *   safe       serial with a savepoint per message (NEED_SAFE).
 *
 * Entry points: countyd_apply_open(), countyd_apply_close(),
 * countyd_apply_reload_calendar(), countyd_calendar_read(),
 * countyd_apply_batch(), countyd_apply_system().
 */
#include "apply_int.h"

#include <stdlib.h>
#include <string.h>

#include "apply_set.h"
#include "clock.h"
#include "db.h"
#include "i18n.h"
#include "log.h"
#include "uuid.h"

/* apply_one() in the fast mode met something only a savepoint could undo:
 * the batch is rolled back and applied again in the safe mode. */
#define NEED_SAFE 2

int countyd_apply_open(countyd_apply *a, PGconn *db, const char *county, sj_error *err)
{
    memset(a, 0, sizeof(*a));
    if (!county || strlen(county) != 6 || strspn(county, "0123456789") != 6)
        return sj_error_set(err, SJ_EINVAL, "county code must be 6 digits");
    a->db = db;
    memcpy(a->county, county, 7);
    countyd_refdata_cache_init(&a->refs);
    a->rectify_days = SJ_RECTIFY_DAYS_DEFAULT;
    a->pipe = calloc(1, sizeof(*a->pipe));
    if (!a->pipe) {
        countyd_apply_close(a);
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    }
    int rc = countyd_apply_reload_calendar(a, err);
    if (rc != 0)
        countyd_apply_close(a);
    return rc;
}

int countyd_apply_reload_calendar(countyd_apply *a, sj_error *err)
{
    sj_calendar *cal;
    int rc = countyd_calendar_read(a->db, &cal, err);
    if (rc != 0)
        return rc;
    sj_calendar_free(a->calendar);
    a->calendar = cal;
    return 0;
}

int countyd_calendar_read(PGconn *db, sj_calendar **out, sj_error *err)
{
    *out = NULL;
    sj_calendar *cal = sj_calendar_new();
    if (!cal)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    PGresult *res = NULL;
    int rc = countyd_db_query(db, "SELECT day::text, kind, name FROM holiday ORDER BY day", 0,
                              NULL, &res, err);
    if (rc != 0)
        res = NULL;
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        int32_t day;
        if ((rc = sj_clock_parse_date(PQgetvalue(res, i, 0), &day, err)) == 0)
            rc = sj_calendar_add(cal, day,
                                 strcmp(PQgetvalue(res, i, 1), "workday") == 0 ? SJ_CALENDAR_WORKDAY
                                                                              : SJ_CALENDAR_HOLIDAY,
                                 PQgetvalue(res, i, 2), err);
    }
    PQclear(res);
    if (rc != 0) {
        sj_calendar_free(cal);
        return rc;
    }
    *out = cal;
    return 0;
}

void countyd_apply_close(countyd_apply *a)
{
    sj_calendar_free(a->calendar);
    a->calendar = NULL;
    countyd_refdata_cache_free(&a->refs);
    if (a->pipe) {
        countyd_apply_pipe_reset(a->pipe);
        free(a->pipe->d);
        free(a->pipe->t);
        free(a->pipe->nf);
        free(a->pipe);
        a->pipe = NULL;
    }
}

/* Is the SQLSTATE in err a data problem of this one message? */
static bool data_error(const sj_error *err)
{
    char st[6];
    countyd_db_sqlstate(err, st);
    return err->code == SJ_EDB && (strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0);
}

/* The id a message names (16 bytes), or NULL when it names none. */
static const uint8_t *message_case(const countyd_apply_msg *m)
{
    const ProtobufCBinaryData *id = m->submit   ? &m->submit->case_id
                                    : m->action ? &m->action->case_id
                                                : NULL;
    return id && id->len == 16 ? id->data : NULL;
}

/* The pipelined mode applies every message to the cases as they were
 * before the batch: two messages on one case need the serial run, where
 * the second sees what the first wrote.  A password change (rare) is
 * applied by the serial run only. */
static bool cases_distinct(const countyd_apply_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].password)
            return false;
        const uint8_t *ci = message_case(&msgs[i]);
        for (size_t k = 0; ci && k < i; k++) {
            const uint8_t *ck = message_case(&msgs[k]);
            if (ck && memcmp(ci, ck, 16) == 0)
                return false;
        }
    }
    return true;
}

/* The set-based mode takes several messages on one case, but a message
 * sent twice in one batch (a resend that caught up with the first) runs
 * serially from the start, where the second finds the first's result. */
static bool ids_distinct(const countyd_apply_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++)
            if (memcmp(msgs[i].message_id, msgs[k].message_id, 16) == 0)
                return false;
    return true;
}

/* Reads, locked, every case the batch's actions name (one round trip). */
static int prefetch_cases(countyd_apply *a, const countyd_apply_msg *msgs, size_t n, sj_error *err)
{
    const char **ids = calloc(n + 1, sizeof(*ids));
    char(*text)[SJ_UUID_TEXT_SIZE] = calloc(n + 1, sizeof(*text));
    size_t k = 0;
    int rc = 0;
    if (!ids || !text) {
        rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (msgs[i].action && message_case(&msgs[i])) {
            sj_uuid_format(message_case(&msgs[i]), text[k]);
            ids[k] = text[k];
            k++;
        }
    if (k > 0)
        rc = countyd_apply_read_cases(a, ids, k, &a->pipe->cases, err);
out:
    free(ids);
    free(text);
    return rc;
}

/* --- the batch -------------------------------------------------------------- */

/* Applies one message.  In the fast mode (a->safe false) no savepoint is
 * taken: a message refused before its first write (most refusals) has
 * nothing to undo, and one that writes nearly always succeeds.  When
 * something does need undoing (the database refused the message's data,
 * or the message turns out to be a redelivery after it wrote), the fast
 * mode returns NEED_SAFE and the batch runs again in the safe mode, where
 * every message has its savepoint as before; one bad message never
 * aborts the batch, it only costs the batch a second run. */
static int apply_one(countyd_apply *a, const countyd_apply_msg *m, countyd_apply_result *r,
                     sj_error *err)
{
    char mid[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(m->message_id, mid);
    a->wrote = a->recorded = a->number_later = false;
    a->cur = m;
    int rc;
    if (a->safe && (rc = countyd_db_exec(a->db, "SAVEPOINT msg", 0, NULL, err)) != 0)
        return rc;
    if (!m->peer || (!!m->submit + !!m->action + !!m->password) != 1)
        rc = countyd_apply_refuse(
            r, SJ_EPROTOCOL, N_("The message carries neither a registration nor an action."));
    else if (m->password)
        rc = countyd_apply_password(a, m, r, err);
    else if (m->submit)
        rc = countyd_apply_submit(a, m, mid, r, err);
    else
        rc = countyd_apply_action(a, m, mid, r, err);
    if (rc < 0 && data_error(err)) {
        if (!a->safe)
            return NEED_SAFE; /* the transaction is aborted */
        /* The database refused this message's data (e.g. text it cannot
         * store): a refusal of the message, not a failure of the batch.
         * The database's own words are for the operator's log. */
        SJ_LOG_WARN("countyd", "message data refused by the database", "message", mid,
                    "why", err->message);
        rc = countyd_apply_refuse(r, SJ_EBAD_FIELD,
                                  N_("The county database cannot store what was sent; check "
                                     "the text for unusual characters."));
        r->case_version = 0;
        if (m->submit) /* the number taken was rolled back with the savepoint */
            r->case_number[0] = '\0';
    }
    if (rc < 0)
        return rc;
    /* Recorded with the last event, by countyd_apply_write_event(). */
    bool recorded = rc == 0 && a->recorded;
    if (rc == REFUSED && a->safe) {
        if ((rc = countyd_db_exec(a->db, "ROLLBACK TO SAVEPOINT msg", 0, NULL, err)) != 0)
            return rc;
    } else if (rc == REFUSED && a->wrote) {
        return NEED_SAFE;
    }
    /* A redelivered message was applied (or refused) again above and is
     * found out here, when its id is already recorded: its effect is
     * undone and the original result returned (G2).  A redelivered
     * submission is refused (the case exists) and a redelivered action
     * mostly too (stale version) before they write anything. */
    if (recorded)
        rc = a->record_fresh;
    else if ((rc = countyd_apply_record_result(a, mid, m->peer, r, err)) < 0)
        return !a->safe && data_error(err) ? NEED_SAFE : rc;
    if (rc == 0) {
        if (a->wrote && !a->safe)
            return NEED_SAFE;
        if (a->safe && (rc = countyd_db_exec(a->db, "ROLLBACK TO SAVEPOINT msg", 0, NULL, err)) != 0)
            return rc;
        if ((rc = countyd_apply_lookup_processed(a, mid, r, err)) != 0)
            return rc;
    }
    return a->safe ? countyd_db_exec(a->db, "RELEASE SAVEPOINT msg", 0, NULL, err) : 0;
}

int countyd_apply_batch(countyd_apply *a, const countyd_apply_msg *msgs, size_t n,
                        countyd_apply_result *results, sj_error *err)
{
    a->safe = false;
    a->pipelined = !a->serial_only &&
                   (a->row_writes ? cases_distinct(msgs, n) : ids_distinct(msgs, n));
    int rc;
again:
    countyd_apply_pipe_reset(a->pipe);
    if ((rc = countyd_db_exec(a->db, "BEGIN", 0, NULL, err)) != 0)
        goto fail;
    /* Once per batch: a batch that starts after an import committed sees it. */
    if ((rc = countyd_refdata_cache_refresh(&a->refs, a->db, err)) != 0)
        goto fail;
    if (a->pipelined && (rc = prefetch_cases(a, msgs, n, err)) != 0)
        goto serial;
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof(results[i]));
        rc = apply_one(a, &msgs[i], &results[i], err);
        if (rc == NEED_SAFE) {
            /* Nothing of this run is kept: the numbers and feed rows it
             * took are rolled back with it, so the second run is gapless. */
            if ((rc = countyd_db_exec(a->db, "ROLLBACK", 0, NULL, err)) != 0)
                goto fail;
            a->pipelined = false;
            a->safe = true;
            a->safe_runs++;
            sj_error_clear(err);
            goto again;
        }
        if (rc != 0)
            goto fail;
    }
    a->cur = NULL;
    if (a->pipelined && (rc = a->row_writes ? countyd_apply_pipe_flush(a, err)
                                            : countyd_apply_set_flush(a, err)) != 0)
        goto serial;
    if ((rc = countyd_db_exec(a->db, "COMMIT", 0, NULL, err)) != 0)
        goto fail;
    countyd_apply_pipe_reset(a->pipe);
    return 0;
serial:
    /* The pipeline met something only the serial run can sort out (a
     * redelivery, an existing case id, data the database refuses); its
     * transaction is aborted and nothing of it is kept. */
    if (rc != SJ_EDB_CONN && countyd_db_exec(a->db, "ROLLBACK", 0, NULL, err) == 0) {
        a->pipelined = false;
        a->serial_runs++;
        sj_error_clear(err);
        goto again;
    }
fail:
    countyd_apply_pipe_reset(a->pipe);
    a->cur = NULL;
    {
        sj_error ignored;
        (void)countyd_db_exec(a->db, "ROLLBACK", 0, NULL, &ignored);
    }
    for (size_t i = 0; i < n; i++)
        memset(&results[i], 0, sizeof(results[i]));
    return rc;
}

/* --- the supervision sweep's actions ----------------------------------------- */

int countyd_apply_system(countyd_apply *a, const countyd_system_action *acts, size_t n,
                         countyd_apply_result *results, sj_error *err)
{
    char node[SJ_UNIT_CODE_SIZE + 8];
    actor_info who = {.actor = {.role = SJ_ROLE_SYSTEM}, .person = "", .person_name = "系统",
                      .node = node};
    snprintf(who.actor.unit, sizeof(who.actor.unit), "%s000000", a->county);
    snprintf(node, sizeof(node), "county:%s", who.actor.unit);
    a->cur = NULL; /* no processed-message rows for the sweep */
    a->pipelined = false;
    int rc = countyd_db_exec(a->db, "BEGIN", 0, NULL, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        countyd_apply_result *r = &results[i];
        memset(r, 0, sizeof(*r));
        Sanji__CaseAction act = SANJI__CASE_ACTION__INIT;
        act.case_id.data = (uint8_t *)acts[i].case_id;
        act.case_id.len = 16;
        memcpy(r->case_id, acts[i].case_id, 16);
        act.action = (Sanji__CaseActionType)acts[i].type;
        act.acted_at_ms = sj_clock_real_ms();
        act.notify_attempt = acts[i].notify_attempt;
        act.notify_retry_at_ms = acts[i].notify_retry_at_ms;
        act.note = (char *)(acts[i].note ? acts[i].note : "");
        who.warn_percent = acts[i].warn_percent;
        if ((rc = countyd_db_exec(a->db, "SAVEPOINT sys", 0, NULL, err)) != 0)
            goto fail;
        rc = countyd_apply_act_on_case(a, &act, &who, NULL, r, err);
        if (rc < 0)
            goto fail;
        if (rc == REFUSED &&
            (rc = countyd_db_exec(a->db, "ROLLBACK TO SAVEPOINT sys", 0, NULL, err)) != 0)
            goto fail;
        if ((rc = countyd_db_exec(a->db, "RELEASE SAVEPOINT sys", 0, NULL, err)) != 0)
            goto fail;
        if (acts[i].then_sql && (rc = countyd_db_exec(a->db, acts[i].then_sql, acts[i].then_n,
                                                      acts[i].then_params, err)) != 0)
            goto fail;
    }
    if ((rc = countyd_db_exec(a->db, "COMMIT", 0, NULL, err)) != 0)
        goto fail;
    return 0;
fail:
    {
        sj_error ignored;
        (void)countyd_db_exec(a->db, "ROLLBACK", 0, NULL, &ignored);
    }
    for (size_t i = 0; i < n; i++)
        memset(&results[i], 0, sizeof(results[i]));
    return rc;
}

