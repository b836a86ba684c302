/*
 * case_search.c - a case search answered from an SQLite copy of cases (see
 * case_search.h).
 *
 * The statement is built from fixed condition texts of this file; every
 * value the query carries is bound as a parameter, never written into the
 * SQL.  The viewer's right to match an ID number or phone is asked of
 * sj_personal_visible() itself, through an SQL function registered for the
 * run, so that the rule has one implementation.
 *
 * Entry points: sj_case_search_rebuild(), sj_case_search_bind(), sj_case_search_index(),
 * sj_case_search_run(), sj_case_search_limit(), sj_case_search_scope().
 */
#include "case_search.h"

#include <stdio.h>
#include <string.h>

#include "case.h"
#include "orgunit.h"
#include "personal.h"
#include "sqltext.h"

/* Statuses a case is still worked on in (sj_case_is_active()) with its
 * clock running (not WAITING_MATERIALS, 6), as SQL. */
#define RUNNING_SQL "(1, 2, 3, 4, 5, 9)"

static int fail(sqlite3 *db, sj_error *err, const char *what)
{
    return sj_error_set(err, SJ_EDB, "案件检索出错（%s）：%s / case search failed (%s): %s", what,
                        sqlite3_errmsg(db), what, sqlite3_errmsg(db));
}

int sj_case_search_rebuild(sqlite3 *db, const char *cases_sql, const char *keep,
                           const char *blob_column, sj_error *err)
{
    /* The old table's indexes are dropped first, whatever format made
     * them, so that the new layout can take their names. */
    char sql[1024];
    if (sqlite3_exec(db, "ALTER TABLE cases RENAME TO cases_old", NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, err, "rebuild");
    for (;;) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db,
                               "SELECT name FROM sqlite_master WHERE type = 'index' AND"
                               " tbl_name = 'cases_old' AND sql IS NOT NULL LIMIT 1",
                               -1, &q, NULL) != SQLITE_OK)
            return fail(db, err, "rebuild indexes");
        bool more = sqlite3_step(q) == SQLITE_ROW;
        if (more)
            snprintf(sql, sizeof(sql), "DROP INDEX \"%s\"",
                     (const char *)sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
        if (!more)
            break;
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return fail(db, err, "rebuild indexes");
    }
    if (sqlite3_exec(db, cases_sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, err, "rebuild");
    snprintf(sql, sizeof(sql), "INSERT INTO cases (%s) SELECT %s FROM cases_old; DROP TABLE cases_old",
             keep, keep);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, err, "rebuild copy");
    snprintf(sql, sizeof(sql), "SELECT %s FROM cases", blob_column);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return fail(db, err, "rebuild read");
    int rc = 0;
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(s, 0);
        Sanji__Case *c = b ? sanji__case__unpack(NULL, (size_t)sqlite3_column_bytes(s, 0), b) : NULL;
        if (!c) {
            rc = sj_error_set(err, SJ_ESTORE_CORRUPT, "一个缓存的事项无法解读 / a cached case does not decode");
            break;
        }
        rc = sj_case_search_index(db, c, err);
        sanji__case__free_unpacked(c, NULL);
    }
    sqlite3_finalize(s);
    return rc;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

void sj_case_search_bind(sqlite3_stmt *s, int first, const Sanji__Case *c)
{
    const Sanji__Applicant *a = c->applicant;
    int i = first;
    sqlite3_bind_int(s, i++, (int)c->status);
    sqlite3_bind_int(s, i++, (int)c->holder_level);
    sqlite3_bind_text(s, i++, nz(c->holder_unit), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, nz(c->item_code), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, a ? nz(a->name) : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, a ? nz(a->id_number) : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, a ? nz(a->phone) : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, nz(c->first_receiver), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, nz(c->department), -1, SQLITE_STATIC);
    sqlite3_bind_int(s, i++, c->overdue ? 1 : 0);
    sqlite3_bind_int(s, i++, c->supervised ? 1 : 0);
    sqlite3_bind_int64(s, i++, c->due_at_ms);
    sqlite3_bind_text(s, i++, nz(c->assignee), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, nz(c->carrier), -1, SQLITE_STATIC);
}

int sj_case_search_index(sqlite3 *db, const Sanji__Case *c, sj_error *err)
{
    if (!c || c->case_id.len != 16)
        return 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db,
                           "UPDATE cases SET village = ?1, (" SJ_CASE_SEARCH_COLUMN_NAMES ") = ("
                           SJ_CASE_SEARCH_COLUMN_PARAMS ") WHERE case_id = ?16",
                           -1, &s, NULL) != SQLITE_OK)
        return fail(db, err, "index prepare");
    sqlite3_bind_text(s, 1, nz(c->village), -1, SQLITE_STATIC);
    sj_case_search_bind(s, 2, c);
    sqlite3_bind_blob(s, 2 + SJ_CASE_SEARCH_N_COLUMNS, c->case_id.data, 16, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail(db, err, "index");
    sqlite3_finalize(s);
    return rc;
}

bool sj_case_search_is_mine(const Sanji__Case *c, const char *person,
                            const char *const *stand_for, size_t n_stand_for)
{
    if (!c || !person || !*person)
        return false;
    const char *assignee = nz(c->assignee);
    if (strcmp(assignee, person) == 0 || strcmp(nz(c->carrier), person) == 0 ||
        strcmp(nz(c->first_receiver), person) == 0)
        return true;
    for (size_t i = 0; *assignee && i < n_stand_for; i++)
        if (stand_for[i] && strcmp(assignee, stand_for[i]) == 0)
            return true;
    return false;
}

size_t sj_case_search_stand_for(Sanji__Person *const *persons, size_t n, const char *person,
                                const char **out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; person && *person && i < n && k < max; i++)
        if (persons[i] && strcmp(nz(persons[i]->stand_in), person) == 0)
            out[k++] = nz(persons[i]->id);
    return k;
}

uint32_t sj_case_search_limit(const Sanji__CaseListQuery *q)
{
    if (!q || q->limit == 0)
        return SJ_CASE_SEARCH_LIMIT_DEFAULT;
    return q->limit > SJ_CASE_SEARCH_LIMIT_MAX ? SJ_CASE_SEARCH_LIMIT_MAX : q->limit;
}

bool sj_case_search_scope(const char *unit, char lo[13], char hi[13])
{
    int keep;
    switch (unit ? sj_orgunit_level(unit) : SJ_LEVEL_NONE) {
    case SJ_LEVEL_COUNTY: keep = 6; break;
    case SJ_LEVEL_TOWNSHIP: keep = 9; break;
    case SJ_LEVEL_VILLAGE: keep = 12; break;
    default: return false;
    }
    memcpy(lo, unit, (size_t)keep);
    memcpy(hi, unit, (size_t)keep);
    memset(lo + keep, '0', (size_t)(12 - keep));
    memset(hi + keep, '9', (size_t)(12 - keep));
    lo[12] = hi[12] = '\0';
    return true;
}

/* ---- the statement ----------------------------------------------------- */

typedef struct bindv {
    bool is_text;
    const char *text;
    int64_t i64;
} bindv;

#define MAX_BINDS 64

typedef struct builder {
    char buf[4096];
    sj_sqltext t; /* over buf (sqltext.h) */
    bindv b[MAX_BINDS];
    int n;
    /* Owned texts made here (escaped patterns, bounds). */
    char number_like[160];
    char name_hi[160];
    char scope_lo[13], scope_hi[13], unit_lo[13], unit_hi[13];
} builder;

/* Appends cond (one '?' per value) with the values. */
static void cond_text(builder *b, const char *cond, const char *v1, const char *v2)
{
    if (b->n + 2 > MAX_BINDS) {
        b->t.overflow = true;
        return;
    }
    sj_sqltext_add(&b->t, " AND ");
    sj_sqltext_add(&b->t, cond);
    b->b[b->n++] = (bindv){.is_text = true, .text = v1};
    if (v2)
        b->b[b->n++] = (bindv){.is_text = true, .text = v2};
}

static void cond_int(builder *b, const char *cond, int64_t v)
{
    if (b->n + 1 > MAX_BINDS) {
        b->t.overflow = true;
        return;
    }
    sj_sqltext_add(&b->t, " AND ");
    sj_sqltext_add(&b->t, cond);
    b->b[b->n++] = (bindv){.is_text = false, .i64 = v};
}

static bool set(const char *s)
{
    return s && *s;
}

/* LIKE pattern "%<text>" with % _ and \ escaped; false when too long. */
static bool like_suffix(const char *text, char *out, size_t cap)
{
    size_t k = 0;
    out[k++] = '%';
    for (const char *p = text; *p; p++) {
        if (k + 3 >= cap)
            return false;
        if (*p == '%' || *p == '_' || *p == '\\')
            out[k++] = '\\';
        out[k++] = *p;
    }
    out[k] = '\0';
    return true;
}

/* "Overdue" at a copy: the county's flag, or an active case whose clock
 * runs (not one waiting for materials, case.h "The clock") past its due
 * time (the flag may not have arrived yet). */
#define OVERDUE_SQL                                                                               \
    "(overdue <> 0 OR (due_at_ms > 0 AND due_at_ms < ? AND status IN " RUNNING_SQL "))"

/* status IN (...): at most 16 statuses, each a small number. */
static void where_statuses(builder *b, const Sanji__CaseListQuery *q)
{
    char list[160];
    size_t k = 0;
    for (size_t i = 0; i < q->n_statuses && i < 16; i++)
        k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%d", i ? "," : "",
                              (int)q->statuses[i] & 0xff);
    sj_sqltext_add(&b->t, " AND status IN (");
    sj_sqltext_add(&b->t, list);
    sj_sqltext_add(&b->t, ")");
}

/* 我的事项 (PROTOCOL.md): the person's own, and those assigned to the
 * persons they stand in for. */
static void where_mine(builder *b, const Sanji__CaseListQuery *q, const sj_case_search_viewer *v)
{
    if (!set(q->for_person)) {
        sj_sqltext_add(&b->t, " AND 0");
    } else if (b->n + 3 + v->n_stand_for > MAX_BINDS) {
        b->t.overflow = true;
    } else {
        cond_text(b, "(assignee = ? OR carrier = ?", q->for_person, q->for_person);
        b->b[b->n++] = (bindv){.is_text = true, .text = q->for_person};
        sj_sqltext_add(&b->t, " OR first_receiver = ?");
        if (v->n_stand_for > 0) {
            sj_sqltext_add(&b->t, " OR assignee IN (");
            for (size_t i = 0; i < v->n_stand_for; i++) {
                sj_sqltext_add(&b->t, i ? ", ?" : "?");
                b->b[b->n++] = (bindv){.is_text = true, .text = v->stand_for[i]};
            }
            sj_sqltext_add(&b->t, ")");
        }
        sj_sqltext_add(&b->t, ")");
    }
}

/* A category: the items the viewer's catalogue puts in it. */
static void where_category(builder *b, const sj_case_search_viewer *v)
{
    if (v->n_category_items == 0) {
        sj_sqltext_add(&b->t, " AND 0");
    } else {
        sj_sqltext_add(&b->t, " AND item_code IN (");
        for (size_t i = 0; i < v->n_category_items && b->n < MAX_BINDS; i++) {
            sj_sqltext_add(&b->t, i ? ", ?" : "?");
            b->b[b->n++] = (bindv){.is_text = true, .text = v->category_items[i]};
        }
        if (b->n >= MAX_BINDS)
            b->t.overflow = true;
        sj_sqltext_add(&b->t, ")");
    }
}

static void build_where(builder *b, const Sanji__CaseListQuery *q, const sj_case_search_viewer *v)
{
    sj_sqltext_add(&b->t, " WHERE 1");
    if (!v->scope)
        ; /* the whole store */
    else if (sj_case_search_scope(v->scope, b->scope_lo, b->scope_hi))
        cond_text(b, "village BETWEEN ? AND ?", b->scope_lo, b->scope_hi);
    else
        sj_sqltext_add(&b->t, " AND 0"); /* a scope that is no unit: nothing to see */
    if (set(q->village))
        cond_text(b, "village = ?", q->village, NULL);
    if (set(q->unit)) {
        if (sj_case_search_scope(q->unit, b->unit_lo, b->unit_hi))
            cond_text(b, "village BETWEEN ? AND ?", b->unit_lo, b->unit_hi);
        else
            sj_sqltext_add(&b->t, " AND 0");
    }
    if (q->n_statuses > 0)
        where_statuses(b, q);
    if (q->holder_level)
        cond_int(b, "holder_level = ?", (int64_t)q->holder_level);
    if (q->overdue_only)
        cond_int(b, OVERDUE_SQL, v->now_ms);
    if (q->not_overdue)
        cond_int(b, "NOT " OVERDUE_SQL, v->now_ms);
    if (q->waiting_for_me)
        cond_text(b, "holder_unit = ?", nz(v->unit), NULL);
    if (q->held_elsewhere)
        cond_text(b, "holder_unit <> ?", nz(v->unit), NULL);
    if (set(q->person))
        cond_text(b, "first_receiver = ?", q->person, NULL);
    if (set(q->assignee))
        cond_text(b, "assignee = ?", q->assignee, NULL);
    if (q->mine)
        where_mine(b, q, v);
    if (set(q->number)) {
        if (like_suffix(q->number, b->number_like, sizeof(b->number_like)))
            cond_text(b, "number LIKE ? ESCAPE '\\'", b->number_like, NULL);
        else
            sj_sqltext_add(&b->t, " AND 0");
    }
    if (set(q->applicant_name)) {
        /* Every name beginning so: [prefix, prefix + U+10FFFF) in byte
         * order, which an index on the column serves. */
        snprintf(b->name_hi, sizeof(b->name_hi), "%s\xf4\x8f\xbf\xbf", q->applicant_name);
        cond_text(b, "applicant_name >= ? AND applicant_name < ?", q->applicant_name, b->name_hi);
    }
    if (set(q->id_number))
        cond_text(b, "id_number = ? AND sj_visible(village, holder_level, holder_unit)",
                  q->id_number, NULL);
    if (set(q->phone))
        cond_text(b, "phone = ? AND sj_visible(village, holder_level, holder_unit)", q->phone,
                  NULL);
    if (set(q->item_code))
        cond_text(b, "item_code = ?", q->item_code, NULL);
    if (set(q->category))
        where_category(b, v);
    if (set(q->holder_unit))
        cond_text(b, "holder_unit = ?", q->holder_unit, NULL);
    if (set(q->department))
        cond_text(b, "department = ?", q->department, NULL);
    if (q->registered_from_ms)
        cond_int(b, "registered_at_ms >= ?", q->registered_from_ms);
    if (q->registered_to_ms)
        cond_int(b, "registered_at_ms < ?", q->registered_to_ms);
    if (q->due_from_ms)
        cond_int(b, "due_at_ms > 0 AND due_at_ms >= ?", q->due_from_ms);
    if (q->due_to_ms)
        cond_int(b, "due_at_ms > 0 AND due_at_ms < ?", q->due_to_ms);
    if (q->supervised_only)
        sj_sqltext_add(&b->t, " AND supervised <> 0");
}

static void build_order(builder *b, const Sanji__CaseListQuery *q)
{
    const char *dir = q->ascending ? " ASC" : " DESC";
    const char *key;
    switch (q->sort) {
    case SANJI__CASE_SORT__CASE_SORT_DUE: key = "due_at_ms"; break;
    case SANJI__CASE_SORT__CASE_SORT_NUMBER: key = "number"; break;
    case SANJI__CASE_SORT__CASE_SORT_STATUS: key = "status"; break;
    default: key = "registered_at_ms"; break;
    }
    sj_sqltext_add(&b->t, " ORDER BY ");
    sj_sqltext_add(&b->t, key);
    sj_sqltext_add(&b->t, dir);
    if (q->sort == SANJI__CASE_SORT__CASE_SORT_STATUS) {
        sj_sqltext_add(&b->t, ", registered_at_ms");
        sj_sqltext_add(&b->t, dir);
    }
    sj_sqltext_add(&b->t, ", case_id");
    sj_sqltext_add(&b->t, dir);
}

static void bind_all(sqlite3_stmt *s, const builder *b)
{
    for (int i = 0; i < b->n; i++) {
        if (b->b[i].is_text)
            sqlite3_bind_text(s, i + 1, b->b[i].text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(s, i + 1, b->b[i].i64);
    }
}

/* sj_visible(village, holder_level, holder_unit): sj_personal_visible()
 * for the viewer of this run. */
static void visible_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const sj_case_search_viewer *v = sqlite3_user_data(ctx);
    const char *village = (const char *)sqlite3_value_text(argv[0]);
    const char *holder = (const char *)sqlite3_value_text(argv[2]);
    sqlite3_result_int(ctx, sj_personal_visible(village, (sj_level)sqlite3_value_int(argv[1]),
                                                holder, v->role, v->unit));
}

static int run(sqlite3 *db, const char *blob_column, const Sanji__CaseListQuery *q,
               const sj_case_search_viewer *v, sj_case_search_row_cb cb, void *arg,
               uint32_t *total, bool *capped, sj_error *err)
{
    /* The page's rows are found first by rowid, which the indexes can give
     * without reading a row (the offset's skipped rows included), then
     * only those rows are read with their snapshots. */
    builder b;
    memset(&b, 0, sizeof(b));
    sj_sqltext_init(&b.t, b.buf, sizeof(b.buf));
    sj_sqltext_add(&b.t, "SELECT ");
    sj_sqltext_add(&b.t, blob_column);
    sj_sqltext_add(&b.t, " FROM cases WHERE rowid IN (SELECT rowid");
    size_t from = b.t.len;
    sj_sqltext_add(&b.t, " FROM cases");
    build_where(&b, q, v);
    size_t where_end = b.t.len;
    int where_binds = b.n;
    size_t order = b.t.len;
    build_order(&b, q);
    size_t order_end = b.t.len;
    sj_sqltext_add(&b.t, " LIMIT ? OFFSET ?)");
    char order_by[256];
    snprintf(order_by, sizeof(order_by), "%.*s", (int)(order_end - order), b.t.sql + order);
    sj_sqltext_add(&b.t, order_by);
    if (b.t.overflow)
        return sj_error_set(err, SJ_EINVAL, "search too long / 检索条件过多");
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, b.t.sql, -1, &s, NULL) != SQLITE_OK)
        return fail(db, err, "prepare");
    bind_all(s, &b);
    sqlite3_bind_int64(s, b.n + 1, sj_case_search_limit(q));
    sqlite3_bind_int64(s, b.n + 2, q->offset);
    int rc = 0, step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(s, 0);
        if (!blob)
            continue;
        if ((rc = cb(arg, blob, (size_t)sqlite3_column_bytes(s, 0))) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fail(db, err, "read");
    sqlite3_finalize(s);
    if (rc != 0)
        return rc;

    /* The count: the same conditions, up to count_limit when one is set
     * (a broad search then stops counting early instead of reading every
     * case). */
    char where[sizeof(b.buf)];
    snprintf(where, sizeof(where), "%.*s", (int)(where_end - from), b.t.sql + from);
    char count_sql[sizeof(b.buf) + 64];
    if (q->count_limit)
        snprintf(count_sql, sizeof(count_sql), "SELECT count(*) FROM (SELECT 1%s LIMIT ?)", where);
    else
        snprintf(count_sql, sizeof(count_sql), "SELECT count(*)%s", where);
    if (sqlite3_prepare_v2(db, count_sql, -1, &s, NULL) != SQLITE_OK)
        return fail(db, err, "prepare count");
    b.n = where_binds;
    bind_all(s, &b);
    if (q->count_limit)
        sqlite3_bind_int64(s, where_binds + 1, q->count_limit);
    step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *total = (uint32_t)sqlite3_column_int64(s, 0);
        *capped = q->count_limit && *total >= q->count_limit;
    } else {
        rc = fail(db, err, "count");
    }
    sqlite3_finalize(s);
    return rc;
}

int sj_case_search_run(sqlite3 *db, const char *blob_column, const Sanji__CaseListQuery *q,
                       const sj_case_search_viewer *v, sj_case_search_row_cb cb, void *arg,
                       uint32_t *total, bool *capped, sj_error *err)
{
    *total = 0;
    *capped = false;
    /* The function holds v: registered for this run only. */
    if (sqlite3_create_function(db, "sj_visible", 3, SQLITE_UTF8, (void *)v, visible_fn, NULL,
                                NULL) != SQLITE_OK)
        return fail(db, err, "function");
    int rc = run(db, blob_column, q, v, cb, arg, total, capped, err);
    sqlite3_create_function(db, "sj_visible", 3, SQLITE_UTF8, NULL, NULL, NULL, NULL);
    return rc;
}
