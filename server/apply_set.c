/*
 * apply_set.c - one statement per table for a batch's writes (see
 * apply_set.h).
 *
 * Each statement takes every column as a text array and casts it to the
 * column's type in SQL (one text array per column keeps the statements
 * prepared once, whatever the batch size).  WITH ORDINALITY numbers the
 * rows, so that the counters are handed out in the order of the messages,
 * as the per-message statements hand them out.
 *
 * Entry points: countyd_set_columns(), countyd_set_write().
 */
#include "apply_set.h"

#include <stdbool.h>
#include <stdlib.h>

#include "db.h"

static const char SET_CASE_INSERT_SQL[] =
    "WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    " $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],"
    " $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],"
    " $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[],"
    " $24::text[], $25::text[], $26::text[], $27::text[], $28::text[]) WITH ORDINALITY AS"
    " i(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19,"
    " c20, c21, c22, c23, c24, c25, c26, c27, c28, ord)), k AS (SELECT c22 AS county,"
    " c23::date AS day, count(*)::int AS n FROM i GROUP BY 1, 2), n AS (INSERT INTO"
    " case_number_seq (county, day, last_seq) SELECT county, day, n FROM k ORDER BY county,"
    " day ON CONFLICT (county, day) DO UPDATE SET last_seq = case_number_seq.last_seq +"
    " excluded.last_seq RETURNING county, day, last_seq), x AS (SELECT i.*, (n.last_seq - k.n"
    " + row_number() OVER (PARTITION BY i.c22, i.c23 ORDER BY i.ord))::text AS s FROM i JOIN"
    " k ON k.county = i.c22 AND k.day = i.c23::date JOIN n ON n.county = k.county AND n.day ="
    " k.day), y AS (SELECT x.*, c2 || '-' || lpad(s, greatest(5, length(s)), '0') AS number"
    " FROM x), w AS (INSERT INTO cases (case_id, number, village, item_code, item_name,"
    " item_min_level, applicant_name, applicant_id_number, applicant_phone, request_text,"
    " first_receiver, first_receiver_name, holder_level, holder_unit, status, version,"
    " registered_at_ms, due_at_ms, updated_at_ms, urgent, appointment_at_ms, limit_days,"
    " due_provisional, notify_state, carrier, carrier_name) SELECT c1::uuid, number, c3, c4,"
    " c5, c6::smallint, c7, c8, c9, c10, c11, c12, c13::smallint, c14, c15::smallint,"
    " c16::bigint, c17::bigint, c18::bigint, c19::bigint, c20::boolean, c21::bigint,"
    " c24::integer, c25::boolean, c26::smallint, c27, c28 FROM y ORDER BY ord RETURNING 1)"
    " SELECT ord, number FROM y ORDER BY ord";

/* A case's last state in the batch, with ($45 - $50) what all the
 * batch's actions on it add to its history figures (apply.c
 * CASE_UPDATE_SQL): one write of the row per batch. */
static const char SET_CASE_UPDATE_SQL[] =
    "WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    " $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],"
    " $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],"
    " $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[],"
    " $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[],"
    " $30::text[], $31::text[], $32::text[], $33::text[], $34::text[], $35::text[],"
    " $36::text[], $37::text[], $38::text[], $39::text[], $40::text[], $41::text[],"
    " $42::text[], $43::text[], $44::text[], $45::text[], $46::text[], $47::text[],"
    " $48::text[], $49::text[], $50::text[]) WITH ORDINALITY AS"
    " i(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19,"
    " c20, c21, c22, c23, c24, c25, c26, c27, c28, c29, c30, c31, c32, c33, c34, c35, c36,"
    " c37, c38, c39, c40, c41, c42, c43, c44, c45, c46, c47, c48, c49, c50, ord)) UPDATE cases SET status = c2::smallint, resume_status ="
    " c3::smallint, holder_level = c4::smallint, holder_unit = c5, version = c6::bigint,"
    " handling = c7::smallint, overdue = c8::boolean, supervised = c9::boolean, escalated ="
    " c10::boolean, reached_county = c11::boolean, warn_level = c12::integer, urge_count ="
    " c13::integer, materials_rounds = c14::integer, satisfaction = c15::smallint,"
    " resolved_level = c16::smallint, resolved_unit = c17, updated_at_ms = c18::bigint,"
    " closed_at_ms = c19::bigint, department = c20, result = c21, return_reason = c22,"
    " materials = c23::text[], department_code = c24, department_refusals = c25::integer,"
    " due_at_ms = c26::bigint, due_provisional = c27::boolean, paused_at_ms = c28::bigint,"
    " paused_days = c29::integer, extended_days = c30::integer, extension_days ="
    " c31::integer, return_count = c32::integer, notify_state = c33::smallint,"
    " notify_attempts = c34::integer, notify_at_ms = c35::bigint, notify_retry_at_ms ="
    " c36::bigint, assignee = c37, assignee_name = c38, carrier = c39, carrier_name = c40,"
    " rectify_due_at_ms = c41::bigint, rectified_at_ms = c42::bigint, called_back_at_ms ="
    " c43::bigint, rectify_late = c44::boolean, finished_event_at_ms ="
    " greatest(cases.finished_event_at_ms, c45::bigint), repeat_requests ="
    " cases.repeat_requests + c46::integer, extensions_asked = cases.extensions_asked +"
    " c47::integer, extensions_approved = cases.extensions_approved + c48::integer,"
    " feedback_unsatisfied = cases.feedback_unsatisfied OR c49::boolean, feedback_bad ="
    " cases.feedback_bad OR c50::boolean"
    " FROM i WHERE cases.case_id = i.c1::uuid RETURNING i.ord";

/* The events, and (s) each case's share of them in its history figures
 * (migration 0017, apply.c EVENT_SQL), added up per case: one update of a
 * case however many of its events the batch holds.  Only a new case's
 * events carry a share here; an action's go with its case's update
 * (SET_CASE_UPDATE_SQL). */
static const char SET_EVENT_SQL[] =
    "WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    " $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],"
    " $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],"
    " $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[],"
    " $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[],"
    " $30::text[], $31::text[], $32::text[], $33::text[], $34::text[], $35::text[],"
    " $36::text[]) WITH ORDINALITY AS"
    " i(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19,"
    " c20, c21, c22, c23, c24, c25, c26, c27, c28, c29, c30, c31, c32, c33, c34, c35, c36,"
    " ord)), s AS (UPDATE cases SET finished_event_at_ms = greatest(cases.finished_event_at_ms,"
    " d.fin), repeat_requests = cases.repeat_requests + d.rep, extensions_asked ="
    " cases.extensions_asked + d.ext_req, extensions_approved = cases.extensions_approved +"
    " d.ext_ok, feedback_unsatisfied = cases.feedback_unsatisfied OR d.unsat, feedback_bad ="
    " cases.feedback_bad OR d.bad FROM (SELECT c1::uuid AS case_id, max(c31::bigint) AS fin,"
    " sum(c32::integer)::integer AS rep, sum(c33::integer)::integer AS ext_req,"
    " sum(c34::integer)::integer AS ext_ok, bool_or(c35::boolean) AS unsat,"
    " bool_or(c36::boolean) AS bad FROM i WHERE c31::bigint > 0 OR c32::integer > 0 OR"
    " c33::integer > 0 OR c34::integer > 0 OR c35::boolean OR c36::boolean GROUP BY 1) d"
    " WHERE cases.case_id = d.case_id RETURNING 1), e AS (INSERT INTO case_event"
    " (case_id, seq, action, actor_person, actor_name, actor_node, actor_level, actor_unit,"
    " at_ms, recorded_at_ms, from_status, to_status, note, result, materials, satisfaction,"
    " department, message_id, repeat_materials_request, department_code, clock_days,"
    " due_at_ms, due_provisional, notify_attempt, notify_retry_at_ms, person, person_name,"
    " rectify_due_at_ms, rectify_late)"
    " SELECT c1::uuid, c2::integer, c3::smallint, c4, c5, c6, c7::smallint, c8, c9::bigint,"
    " c10::bigint, c11::smallint, c12::smallint, c13, c14, c15::text[], c16::smallint, c17,"
    " c18::uuid, c19::boolean, c21, c22::integer, c23::bigint, c24::boolean, c25::integer,"
    " c26::bigint, c27, c28, c29::bigint, c30::boolean FROM i ORDER BY ord RETURNING 1), k AS (SELECT c20 AS village,"
    " count(*)::bigint AS n FROM i GROUP BY 1), c AS (INSERT INTO feed_counter (village,"
    " last_seq) SELECT village, n FROM k ORDER BY village ON CONFLICT (village) DO UPDATE SET"
    " last_seq = feed_counter.last_seq + excluded.last_seq RETURNING village::text AS"
    " village, last_seq), x AS (SELECT i.ord, i.c20 AS village, i.c1::uuid AS case_id,"
    " i.c2::integer AS event_seq, c.last_seq - k.n + row_number() OVER (PARTITION BY i.c20"
    " ORDER BY i.ord) AS seq FROM i JOIN k ON k.village = i.c20 JOIN c ON c.village ="
    " k.village), f AS (INSERT INTO feed (village, seq, case_id, event_seq) SELECT village,"
    " seq, case_id, event_seq FROM x ORDER BY ord RETURNING 1) SELECT ord, seq FROM x ORDER"
    " BY ord";

static const char SET_NOTIFY_SQL[] =
    "WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH"
    " ORDINALITY AS i(c1, c2, c3, c4, ord)) INSERT INTO notification (case_id, event_seq,"
    " kind, phone, next_attempt_at_ms) SELECT c.case_id, i.c2::integer, i.c3::smallint,"
    " c.applicant_phone, i.c4::bigint FROM i JOIN cases c ON c.case_id = i.c1::uuid ORDER BY"
    " i.ord RETURNING 1";

static const char SET_RECORD_SQL[] =
    "WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    " $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS i(c1,"
    " c2, c3, c4, c5, c6, c7, c8, c9, ord)) INSERT INTO processed_message (message_id,"
    " status, code, reason, case_id, case_number, case_version, sender_node) SELECT c1::uuid,"
    " c2::smallint, c3::integer, c4, c5::uuid, CASE WHEN c9 = 't' THEN coalesce((SELECT"
    " number FROM cases WHERE case_id = c5::uuid), c6) ELSE c6 END, c7::bigint, c8 FROM i"
    " ORDER BY ord";

static const struct {
    const char *sql;
    int columns;
    bool row_per_row; /* returns a row for each row given */
} kinds[COUNTYD_SET_KINDS] = {
    [COUNTYD_SET_CASE_INSERT] = {SET_CASE_INSERT_SQL, 28, true},
    [COUNTYD_SET_CASE_UPDATE] = {SET_CASE_UPDATE_SQL, 50, true},
    [COUNTYD_SET_EVENT] = {SET_EVENT_SQL, 36, true},
    [COUNTYD_SET_NOTIFY] = {SET_NOTIFY_SQL, 4, true},
    [COUNTYD_SET_RECORD] = {SET_RECORD_SQL, 9, false},
};

int countyd_set_columns(countyd_set_kind kind)
{
    return kinds[kind].columns;
}

#define SET_COLUMNS_MAX 50

int countyd_set_write(PGconn *db, const countyd_set_rows sets[COUNTYD_SET_KINDS],
                      PGresult *res[COUNTYD_SET_KINDS], sj_error *err)
{
    countyd_db_stmt st[COUNTYD_SET_KINDS];
    int which[COUNTYD_SET_KINDS];
    char *arrays[COUNTYD_SET_KINDS][SET_COLUMNS_MAX] = {{0}};
    size_t m = 0;
    int rc = 0;
    const char **items = NULL;
    size_t cap = 0;
    for (int k = 0; k < COUNTYD_SET_KINDS; k++)
        res[k] = NULL;
    for (int k = 0; k < COUNTYD_SET_KINDS; k++) {
        const countyd_set_rows *s = &sets[k];
        if (s->n == 0)
            continue;
        if (s->n > cap) {
            const char **more = realloc(items, s->n * sizeof(*items));
            if (!more) {
                rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
                goto out;
            }
            items = more;
            cap = s->n;
        }
        /* Column j of every row, as one array. */
        for (int j = 0; j < kinds[k].columns; j++) {
            for (size_t i = 0; i < s->n; i++)
                items[i] = s->rows[i][j];
            if (countyd_db_text_array_nulls(items, s->n, &arrays[k][j]) != 0) {
                rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
                goto out;
            }
        }
        st[m] = (countyd_db_stmt){.sql = kinds[k].sql, .n = kinds[k].columns,
                                  .params = (const char *const *)arrays[k]};
        which[m++] = k;
    }
    if (m == 0)
        goto out;
    if ((rc = countyd_db_pipeline(db, st, m, err)) != 0)
        goto out;
    for (size_t i = 0; i < m; i++) {
        int k = which[i];
        if (rc == 0 && kinds[k].row_per_row && (size_t)PQntuples(st[i].res) != sets[k].n)
            rc = sj_error_set(err, SJ_EINTERNAL,
                              "a set-based write returned %d rows for %zu (%.40s)",
                              PQntuples(st[i].res), sets[k].n, kinds[k].sql);
        res[k] = st[i].res;
    }
    if (rc != 0)
        for (int k = 0; k < COUNTYD_SET_KINDS; k++) {
            PQclear(res[k]);
            res[k] = NULL;
        }
out:
    for (int k = 0; k < COUNTYD_SET_KINDS; k++)
        for (int j = 0; j < SET_COLUMNS_MAX; j++)
            free(arrays[k][j]);
    free(items);
    return rc;
}
