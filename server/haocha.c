/*
 * haocha.c - the 好差评 export of evaluations (see haocha.h and
 * docs/STATISTICS.md "好差评 export").
 *
 * One statement reads the FEEDBACK (12) and CALLBACK (34) events of the
 * span by migration 0014's partial index on their time, with each one's
 * case (item, service unit, village, rectification) and, for a 差评, the
 * case's call back.  Whether an evaluation is a 差评 is
 * sj_satisfaction_is_bad(), the one classification the statistics use too.
 *
 * Entry points: countyd_haocha_export(), countyd_haocha_export_file(),
 * countyd_haocha_days().
 */
#include "haocha.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "clock.h"
#include "csv.h"
#include "db.h"
#include "i18n.h"

/* The columns, in file order (docs/STATISTICS.md "好差评 export"). */
static const char *const header[] = {
    "evaluation_id",     "case_number",       "item_code",        "item_name",
    "service_unit_code", "service_unit_name", "department_code",  "department_name",
    "station_code",      "station_name",      "evaluated_at",     "channel",
    "satisfaction",      "satisfaction_name", "good_bad",         "rectify_status",
    "rectify_due_at",    "rectified_at",      "called_back_at",   "callback_satisfaction",
    "callback_outcome",
};
#define N_COLS (sizeof(header) / sizeof(header[0]))

/* Never the applicant's columns: nothing here selects applicant_name,
 * applicant_id_number or applicant_phone. */
static const char SQL[] =
    "SELECT c.number, c.item_code, c.item_name, c.resolved_unit,"
    " coalesce((SELECT o.name FROM org_unit o WHERE o.code = c.resolved_unit), ''),"
    " coalesce(c.department_code, ''),"
    " coalesce((SELECT d.name FROM department d WHERE d.code = c.department_code), ''),"
    " c.village, coalesce((SELECT o.name FROM org_unit o WHERE o.code = c.village), ''),"
    " e.seq, e.action, e.satisfaction, e.at_ms, c.rectify_due_at_ms, c.rectified_at_ms,"
    " c.rectify_late, c.called_back_at_ms, coalesce(cb.satisfaction, 0), coalesce(cb.note, '')"
    " FROM case_event e JOIN cases c ON c.case_id = e.case_id"
    " LEFT JOIN LATERAL (SELECT x.satisfaction, x.note FROM case_event x"
    "  WHERE x.case_id = e.case_id AND x.action = 34 ORDER BY x.seq DESC LIMIT 1) cb ON true"
    " WHERE e.action IN (12, 34) AND e.at_ms >= $1::bigint AND e.at_ms < $2::bigint"
    " ORDER BY e.at_ms, c.number, e.seq";
enum {
    Q_NUMBER, Q_ITEM, Q_ITEM_NAME, Q_UNIT, Q_UNIT_NAME, Q_DEPT, Q_DEPT_NAME, Q_VILLAGE,
    Q_VILLAGE_NAME, Q_SEQ, Q_ACTION, Q_SAT, Q_AT, Q_DUE, Q_RECTIFIED, Q_LATE, Q_CALLED,
    Q_CB_SAT, Q_CB_NOTE,
};

/* The five levels' Chinese names, as the national scale writes them. */
static const char *level_name(sj_satisfaction s)
{
    switch (s) {
    case SJ_SATISFACTION_VERY_SATISFIED:
        return "非常满意";
    case SJ_SATISFACTION_SATISFIED:
        return "满意";
    case SJ_SATISFACTION_BASICALLY:
        return "基本满意";
    case SJ_SATISFACTION_UNSATISFIED:
        return "不满意";
    case SJ_SATISFACTION_VERY_UNSATISFIED:
        return "非常不满意";
    case SJ_SATISFACTION_NONE:
        break;
    }
    return "";
}

/* A time for the file: ISO 8601 in China time, or "" for 0. */
static void when(int64_t ms, char out[SJ_CLOCK_ISO_SIZE + 8])
{
    out[0] = '\0';
    if (ms > 0 && sj_clock_format_china(ms, out, SJ_CLOCK_ISO_SIZE + 8) != 0)
        out[0] = '\0';
}

int countyd_haocha_days(const char *from, const char *to, int64_t *from_ms, int64_t *to_ms,
                        sj_error *err)
{
    int32_t a, b;
    if (!from || sj_clock_parse_date(from, &a, NULL) != 0)
        return sj_error_set(err, SJ_EINVAL, _("--from is not a date (YYYY-MM-DD): %s"),
                            from ? from : "");
    if (!to || sj_clock_parse_date(to, &b, NULL) != 0)
        return sj_error_set(err, SJ_EINVAL, _("--to is not a date (YYYY-MM-DD): %s"),
                            to ? to : "");
    if (b < a)
        return sj_error_set(err, SJ_EINVAL, _("--to is before --from; give the first and the last "
                                              "day of the span"));
    *from_ms = sj_clock_china_day_start_ms(a);
    *to_ms = sj_clock_china_day_start_ms(b + 1);
    return 0;
}

static int64_t i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* The row of one evaluation, as text, into cells (N_COLS of them; the
 * buffers in t live as long as the cells are used). */
typedef struct row_text {
    char id[64], at[SJ_CLOCK_ISO_SIZE + 8], sat[8], due[SJ_CLOCK_ISO_SIZE + 8],
        done[SJ_CLOCK_ISO_SIZE + 8], called[SJ_CLOCK_ISO_SIZE + 8], cb_sat[8];
} row_text;

static void row_cells(const PGresult *r, int i, row_text *t, const char *cells[N_COLS])
{
    sj_satisfaction sat = (sj_satisfaction)atoi(PQgetvalue(r, i, Q_SAT));
    bool callback = atoi(PQgetvalue(r, i, Q_ACTION)) == SJ_ACTION_CALLBACK;
    /* A row is about a 差评's rectification when it is the 差评 itself or
     * the call back that ends it. */
    bool rectification = callback || sj_satisfaction_is_bad(sat);
    int64_t rectified = i64(r, i, Q_RECTIFIED), called = i64(r, i, Q_CALLED);
    bool late = PQgetvalue(r, i, Q_LATE)[0] == 't';
    const char *status = !rectification ? ""
                         : rectified > 0 ? (late ? "late" : "on_time")
                         : late          ? "overdue"
                                         : "open";
    snprintf(t->id, sizeof(t->id), "%s-%s", PQgetvalue(r, i, Q_NUMBER), PQgetvalue(r, i, Q_SEQ));
    when(i64(r, i, Q_AT), t->at);
    snprintf(t->sat, sizeof(t->sat), "%d", (int)sat);
    t->due[0] = t->done[0] = t->called[0] = t->cb_sat[0] = '\0';
    sj_satisfaction cb_sat = SJ_SATISFACTION_NONE;
    if (rectification) {
        when(i64(r, i, Q_DUE), t->due);
        when(rectified, t->done);
        when(called, t->called);
        cb_sat = (sj_satisfaction)atoi(PQgetvalue(r, i, Q_CB_SAT));
        if (cb_sat != SJ_SATISFACTION_NONE)
            snprintf(t->cb_sat, sizeof(t->cb_sat), "%d", (int)cb_sat);
    }
    const char *c[N_COLS] = {
        t->id,
        PQgetvalue(r, i, Q_NUMBER),
        PQgetvalue(r, i, Q_ITEM),
        PQgetvalue(r, i, Q_ITEM_NAME),
        PQgetvalue(r, i, Q_UNIT),
        PQgetvalue(r, i, Q_UNIT_NAME),
        PQgetvalue(r, i, Q_DEPT),
        PQgetvalue(r, i, Q_DEPT_NAME),
        PQgetvalue(r, i, Q_VILLAGE),
        PQgetvalue(r, i, Q_VILLAGE_NAME),
        t->at,
        callback ? "callback" : "station",
        t->sat,
        level_name(sat),
        sj_satisfaction_is_bad(sat) ? "差评" : sj_satisfaction_is_good(sat) ? "好评" : "",
        status,
        t->due,
        t->done,
        t->called,
        t->cb_sat,
        rectification && called > 0 ? PQgetvalue(r, i, Q_CB_NOTE) : "",
    };
    memcpy(cells, c, sizeof(c));
}

int countyd_haocha_export(PGconn *db, int64_t from_ms, int64_t to_ms, FILE *out, size_t *rows,
                          sj_error *err)
{
    *rows = 0;
    char a[24], b[24];
    snprintf(a, sizeof(a), "%" PRId64, from_ms);
    snprintf(b, sizeof(b), "%" PRId64, to_ms);
    const char *p[] = {a, b};
    PGresult *res;
    int rc = countyd_db_query(db, SQL, 2, p, &res, err);
    if (rc != 0)
        return rc;
    for (size_t c = 0; c < N_COLS; c++) {
        if (c)
            fputc(',', out);
        sj_csv_write_field(out, header[c]);
    }
    fputs("\r\n", out);
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        row_text t;
        const char *cells[N_COLS];
        row_cells(res, i, &t, cells);
        for (size_t c = 0; c < N_COLS; c++) {
            if (c)
                fputc(',', out);
            sj_csv_write_field(out, cells[c]);
        }
        fputs("\r\n", out);
    }
    PQclear(res);
    if (fflush(out) != 0 || ferror(out))
        return sj_error_set(err, SJ_EIO, "%s", _("The evaluations could not be written completely."));
    *rows = (size_t)n;
    return 0;
}

int countyd_haocha_export_file(PGconn *db, int64_t from_ms, int64_t to_ms, const char *path,
                               size_t *rows, sj_error *err)
{
    *rows = 0;
    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    if (!tmp)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int e = errno;
        sj_error_set(err, SJ_EIO, _("%s cannot be written: %s"), tmp, strerror(e));
        free(tmp);
        return SJ_EIO;
    }
    int rc = countyd_haocha_export(db, from_ms, to_ms, f, rows, err);
    if (fclose(f) != 0 && rc == 0)
        rc = sj_error_set(err, SJ_EIO, "%s", _("The evaluations could not be written completely."));
    if (rc == 0 && rename(tmp, path) != 0) {
        int e = errno;
        rc = sj_error_set(err, SJ_EIO, _("%s cannot be written: %s"), path, strerror(e));
    }
    if (rc != 0)
        remove(tmp);
    free(tmp);
    return rc;
}
