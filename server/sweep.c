/*
 * sweep.c - the overdue and warning sweep (see sweep.h).
 *
 * Entry points: countyd_sweep_run(), countyd_sweep_recompute(),
 * countyd_sweep_calendar().
 */
#include "sweep.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "uuid.h"

/* What the clock says of candidate row i (case_id, registered_at_ms,
 * due_at_ms, warn_level): overdue, or the highest warning now due that it
 * has not had.  False when neither (or the id does not parse). */
static bool clock_action(const PGresult *res, int i, int64_t now, const uint32_t *warn,
                         size_t n_warn, countyd_system_action *s)
{
    int64_t reg = strtoll(PQgetvalue(res, i, 1), NULL, 10);
    int64_t due = strtoll(PQgetvalue(res, i, 2), NULL, 10);
    uint32_t level = (uint32_t)strtoul(PQgetvalue(res, i, 3), NULL, 10);
    if (sj_uuid_parse(PQgetvalue(res, i, 0), s->case_id, NULL) != 0)
        return false;
    if (now >= due) {
        s->type = SJ_ACTION_OVERDUE;
        return true;
    }
    if (due <= reg)
        return false;
    uint32_t used = (uint32_t)((now - reg) * 100 / (due - reg));
    uint32_t best = 0;
    for (size_t w = 0; w < n_warn; w++)
        if (warn[w] <= used && warn[w] > level)
            best = warn[w];
    if (!best)
        return false;
    s->type = SJ_ACTION_WARN;
    s->warn_percent = best;
    return true;
}

int countyd_sweep_run(countyd_apply *a, const uint32_t *warn, size_t n_warn, size_t max_cases,
                      countyd_apply_result **results, size_t *n, sj_error *err)
{
    *results = NULL;
    *n = 0;
    int64_t now = sj_clock_real_ms();
    char now_s[24], lim[24], percents[8 * 12 + 4];
    snprintf(now_s, sizeof(now_s), "%" PRId64, now);
    snprintf(lim, sizeof(lim), "%zu", max_cases);
    size_t k = 0;
    percents[k++] = '{';
    for (size_t i = 0; i < n_warn; i++)
        k += (size_t)snprintf(percents + k, sizeof(percents) - k, "%s%u", i ? "," : "", warn[i]);
    snprintf(percents + k, sizeof(percents) - k, "}");
    const char *p[] = {now_s, percents, lim};
    PGresult *res;
    /* Candidates: overdue, or past the next warning they have not had.
     * Not a case waiting for materials (6): its clock stands, and its due
     * time moves out by the days waited when the materials come in. */
    int rc = countyd_db_query(
        a->db,
        "SELECT case_id::text, registered_at_ms, due_at_ms, warn_level FROM cases"
        " WHERE status IN (1, 2, 3, 4, 5, 9, 12, 13, 14) AND NOT overdue"
        "  AND (due_at_ms <= $1::bigint OR (due_at_ms > registered_at_ms"
        "   AND ($1::bigint - registered_at_ms) * 100 >= (due_at_ms - registered_at_ms)"
        "       * (SELECT min(w) FROM unnest($2::int[]) AS w WHERE w > warn_level)))"
        " ORDER BY due_at_ms LIMIT $3::bigint",
        3, p, &res, err);
    if (rc != 0)
        return rc;
    /* 好差评: the rectifications of 差评 past their own due time, not yet
     * marked (the machine says which are still open: UNSATISFIED, or
     * reopened and handled again). */
    PGresult *rres;
    const char *rp[] = {now_s, lim};
    rc = countyd_db_query(a->db,
                          "SELECT case_id::text FROM cases"
                          " WHERE rectified_at_ms = 0 AND rectify_due_at_ms > 0 AND NOT rectify_late"
                          "  AND rectify_due_at_ms < $1::bigint AND status NOT IN (10, 11)"
                          " ORDER BY rectify_due_at_ms LIMIT $2::bigint",
                          2, rp, &rres, err);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    size_t rows = (size_t)PQntuples(res), rrows = (size_t)PQntuples(rres);
    countyd_system_action *acts = calloc(rows + rrows + 1, sizeof(*acts));
    countyd_apply_result *out = calloc(rows + rrows + 1, sizeof(*out));
    if (!acts || !out) {
        PQclear(res);
        PQclear(rres);
        free(acts);
        free(out);
        return sj_error_set(err, SJ_ENOMEM, "out of memory in the sweep");
    }
    size_t m = 0;
    for (size_t i = 0; i < rows; i++)
        if (clock_action(res, (int)i, now, warn, n_warn, &acts[m]))
            m++;
    PQclear(res);
    for (size_t i = 0; i < rrows; i++)
        if (sj_uuid_parse(PQgetvalue(rres, (int)i, 0), acts[m].case_id, NULL) == 0)
            acts[m++].type = SJ_ACTION_RECTIFY_OVERDUE;
    PQclear(rres);
    if (m > 0 && (rc = countyd_apply_system(a, acts, m, out, err)) != 0) {
        free(acts);
        free(out);
        return rc;
    }
    free(acts);
    if (m == 0) {
        free(out);
        return 0;
    }
    *results = out;
    *n = m;
    return 0;
}

int countyd_sweep_recompute(countyd_apply *a, countyd_apply_result **results, size_t *n,
                            sj_error *err)
{
    *results = NULL;
    *n = 0;
    countyd_apply_result *kept = NULL;
    size_t nk = 0;
    char after[SJ_UUID_TEXT_SIZE] = "00000000-0000-0000-0000-000000000000";
    int rc = 0;
    for (;;) {
        /* Active cases whose clock runs (not 6, waiting for materials: its
         * due time is set again at the supplement), a page at a time in id
         * order, so that a large county is done in bounded transactions. */
        const char *p[] = {after};
        PGresult *res;
        rc = countyd_db_query(a->db,
                              "SELECT case_id::text FROM cases"
                              " WHERE status IN (1, 2, 3, 4, 5, 9, 12, 13, 14)"
                              " AND case_id > $1::uuid ORDER BY case_id LIMIT 200",
                              1, p, &res, err);
        if (rc != 0)
            break;
        size_t rows = (size_t)PQntuples(res);
        if (rows == 0) {
            PQclear(res);
            break;
        }
        countyd_system_action *acts = calloc(rows, sizeof(*acts));
        countyd_apply_result *out = calloc(rows, sizeof(*out));
        countyd_apply_result *grown = realloc(kept, (nk + rows) * sizeof(*kept));
        if (grown)
            kept = grown;
        if (!acts || !out || !grown) {
            PQclear(res);
            free(acts);
            free(out);
            rc = sj_error_set(err, SJ_ENOMEM, "out of memory recomputing due times");
            break;
        }
        size_t m = 0;
        for (size_t i = 0; i < rows; i++)
            if (sj_uuid_parse(PQgetvalue(res, (int)i, 0), acts[m].case_id, NULL) == 0)
                acts[m++].type = SJ_ACTION_DUE_RECOMPUTE;
        snprintf(after, sizeof(after), "%s", PQgetvalue(res, (int)rows - 1, 0));
        PQclear(res);
        /* A case whose due time is already right is refused by the machine
         * (nothing to change) and left as it is; only the changed ones are
         * kept, for the feed. */
        rc = m > 0 ? countyd_apply_system(a, acts, m, out, err) : 0;
        for (size_t i = 0; rc == 0 && i < m; i++)
            if (out[i].status == SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
                kept[nk++] = out[i];
        free(acts);
        free(out);
        if (rc != 0)
            break;
    }
    if (nk > 0) { /* what was committed is reported, even after a failure */
        *results = kept;
        *n = nk;
    } else {
        free(kept);
    }
    return rc;
}

int countyd_sweep_calendar(countyd_apply *a, bool *recomputed, countyd_apply_result **results,
                           size_t *n, sj_error *err)
{
    *recomputed = false;
    *results = NULL;
    *n = 0;
    int rc = countyd_apply_reload_calendar(a, err);
    if (rc != 0)
        return rc;
    char fp[24];
    snprintf(fp, sizeof(fp), "%016" PRIx64, sj_calendar_fingerprint(a->calendar));
    const char *p[] = {fp};
    PGresult *res;
    if ((rc = countyd_db_query(a->db,
                               "SELECT 1 FROM calendar_recompute WHERE fingerprint = $1", 1, p,
                               &res, err)) != 0)
        return rc;
    bool done = PQntuples(res) > 0;
    PQclear(res);
    if (done)
        return 0;
    rc = countyd_sweep_recompute(a, results, n, err);
    if (rc != 0)
        return rc;
    *recomputed = true;
    /* Recorded after the cases: a stop in between recomputes again, which
     * changes nothing twice. */
    return countyd_db_exec(a->db,
                           "INSERT INTO calendar_recompute (id, fingerprint) VALUES (true, $1)"
                           " ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint,"
                           " recomputed_at = now()",
                           1, p, err);
}
