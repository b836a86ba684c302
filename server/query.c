/*
 * query.c - Query answers from PostgreSQL (see query.h).
 *
 * Filters become SQL conditions with their values as parameters; only the
 * fixed condition texts of this file are ever put into a statement.
 *
 * Entry points: countyd_query_answer(), countyd_netstat_store().
 */
#include "query.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h" /* countyd_calendar_read() */
#include "attach_store.h"
#include "calendar.h"
#include "case_search.h"
#include "caserow.h"
#include "clock.h"
#include "db.h"
#include "i18n.h"
#include "login_report.h"
#include "orgunit.h"
#include "refdata.h"
#include "sqltext.h"
#include "stars.h"
#include "stats.h"
#include "uuid.h"

/* reason: the translated words (_()), in the county's language. */
static void refuse(Sanji__QueryResult *out, int code, const char *reason)
{
    out->code = code;
    out->reason = (char *)reason;
}

static bool sees(const countyd_asker *k, const Sanji__Case *c)
{
    return countyd_caserow_visible(c, k->role, k->unit);
}

static void mask(countyd_arena *a, const countyd_asker *k, Sanji__Case *c)
{
    if (!c->applicant || sees(k, c))
        return;
    Sanji__Applicant *m = countyd_arena_alloc(a, sizeof(*m));
    char *id = countyd_arena_alloc(a, SJ_PERSONAL_MASK_SIZE);
    char *ph = countyd_arena_alloc(a, SJ_PERSONAL_MASK_SIZE);
    countyd_caserow_mask(c->applicant, m, id, ph);
    c->applicant = m;
}

/* --- case list -------------------------------------------------------------- */

/* A statement made of this file's fixed texts (sqltext.h); every value a
 * query carries is a parameter ($n). */
typedef struct sqlbuf {
    char buf[6144];
    sj_sqltext t; /* over buf */
    const char *p[48];
    int n;
} sqlbuf;

static void sqlbuf_init(sqlbuf *b)
{
    sj_sqltext_init(&b->t, b->buf, sizeof(b->buf));
    b->n = 0;
}

/* Appends fmt, whose one %d is the next parameter's number, with value. */
static void add(sqlbuf *b, const char *fmt_with_param, const char *value)
{
    if (b->n >= (int)(sizeof(b->p) / sizeof(b->p[0]))) {
        b->t.overflow = true;
        return;
    }
    b->p[b->n++] = value;
    char part[512];
    snprintf(part, sizeof(part), fmt_with_param, b->n);
    sj_sqltext_add(&b->t, part);
}

/* Texts a query's values are turned into, kept until the statement ran. */
typedef struct list_texts {
    char lo[13], hi[13], unit_lo[13], unit_hi[13], vlo[13], vhi[13];
    char statuses[16 * 4 + 4];
    char level[8], vis_level[8], number[64], name[160], id[SJ_PERSONAL_ID_SIZE + 8];
    char from[24], to[24], due_from[24], due_to[24];
} list_texts;

static bool given(const char *s)
{
    return s && *s;
}

/* A name's beginning as a LIKE pattern: % _ and \ matched as themselves. */
static bool like_prefix(const char *text, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = text; *p; p++) {
        if (k + 3 >= cap)
            return false;
        if (*p == '%' || *p == '_' || *p == '\\')
            out[k++] = '\\';
        out[k++] = *p;
    }
    out[k++] = '%';
    out[k] = '\0';
    return true;
}

/* The end of a number, reversed: a prefix of the reversed number, which
 * cases_number_reversed serves.  Numbers are digits and '-' only; other
 * text matches nothing (false). */
static bool number_end_reversed(const char *text, char *out, size_t cap)
{
    size_t n = strlen(text);
    if (n + 2 > cap)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = text[n - 1 - i];
        if ((ch < '0' || ch > '9') && ch != '-')
            return false;
        out[i] = ch;
    }
    out[n] = '%';
    out[n + 1] = '\0';
    return true;
}

/* May the asker match this case's ID number or phone?  The SQL form of
 * sj_personal_visible() (common/domain/personal.h), which decides the same for a
 * case in hand: what a viewer may not see, it may not find either, so a
 * search cannot tell whether a masked applicant has a given number. */
static void visible(sqlbuf *b, const countyd_asker *k, list_texts *t)
{
    switch (k->role) {
    case SJ_NODE_ROLE_RELAY:
    case SJ_NODE_ROLE_COUNTY:
        return;
    case SJ_NODE_ROLE_VILLAGE:
        add(b, " AND c.village = $%d::char(12)", k->unit);
        return;
    case SJ_NODE_ROLE_TOWNSHIP_DESK:
    case SJ_NODE_ROLE_COUNTY_DESK:
    case SJ_NODE_ROLE_DEPARTMENT_DESK:
        if (sj_case_search_scope(k->unit, t->vlo, t->vhi)) {
            snprintf(t->vis_level, sizeof(t->vis_level), "%d", (int)sj_node_role_level(k->role));
            add(b, " AND c.holder_level = $%d::smallint", t->vis_level);
            add(b, " AND c.holder_unit BETWEEN $%d::char(12)", t->vlo);
            add(b, " AND $%d::char(12)", t->vhi);
            return;
        }
        break;
    default:
        break;
    }
    sj_sqltext_add(&b->t, " AND false");
}

/* The WHERE conditions of q (PROTOCOL.md "Case search"). */
/* The asker's scope; false when it is no unit (nothing to see). */
static bool list_where_scope(sqlbuf *b, const countyd_asker *k, list_texts *t)
{
    /* The scope as a range of village codes, which the indexes on village
     * serve (a prefix test on left() would not).  A county-level asker's
     * scope is every case here: the county records only its own villages'
     * cases (apply.c) and takes only its own county's desks (session.c).
     * The range is left out then, since testing it on every row counted
     * would cost a read of that row where an index alone could answer. */
    if (!sj_case_search_scope(k->unit, t->lo, t->hi)) {
        sj_sqltext_add(&b->t, " AND false");
        return false;
    }
    if (sj_orgunit_level(k->unit) != SJ_LEVEL_COUNTY) {
        add(b, " AND c.village BETWEEN $%d::char(12)", t->lo);
        add(b, " AND $%d::char(12)", t->hi);
    }
    /* A department desk's scope is the cases dispatched to it. */
    if (k->role == SJ_NODE_ROLE_DEPARTMENT_DESK)
        add(b, " AND c.department_code = $%d", k->department);
    return true;
}

/* The search box: a number's end, a name's beginning, an ID number or a
 * phone (the last two only where the asker may see them). */
static void list_where_search(sqlbuf *b, const countyd_asker *k, const Sanji__CaseListQuery *q,
                              list_texts *t)
{
    if (given(q->number)) {
        if (number_end_reversed(q->number, t->number, sizeof(t->number)))
            add(b, " AND reverse(c.number) LIKE $%d", t->number);
        else
            sj_sqltext_add(&b->t, " AND false");
    }
    if (given(q->applicant_name)) {
        if (like_prefix(q->applicant_name, t->name, sizeof(t->name)))
            add(b, " AND c.applicant_name LIKE $%d", t->name);
        else
            sj_sqltext_add(&b->t, " AND false");
    }
    if (given(q->id_number)) {
        /* Stored with an upper-case X (sj_personal_check_id()). */
        snprintf(t->id, sizeof(t->id), "%s", q->id_number);
        for (char *p = t->id; *p; p++)
            if (*p == 'x')
                *p = 'X';
        add(b, " AND c.applicant_id_number = $%d", t->id);
        visible(b, k, t);
    }
    if (given(q->phone)) {
        add(b, " AND c.applicant_phone = $%d", q->phone);
        visible(b, k, t);
    }
}

/* Registered and due between. */
static void list_where_period(sqlbuf *b, const Sanji__CaseListQuery *q, list_texts *t)
{
    if (q->registered_from_ms) {
        snprintf(t->from, sizeof(t->from), "%" PRId64, q->registered_from_ms);
        add(b, " AND c.registered_at_ms >= $%d::bigint", t->from);
    }
    if (q->registered_to_ms) {
        snprintf(t->to, sizeof(t->to), "%" PRId64, q->registered_to_ms);
        add(b, " AND c.registered_at_ms < $%d::bigint", t->to);
    }
    if (q->due_from_ms) {
        snprintf(t->due_from, sizeof(t->due_from), "%" PRId64, q->due_from_ms);
        add(b, " AND c.due_at_ms > 0 AND c.due_at_ms >= $%d::bigint", t->due_from);
    }
    if (q->due_to_ms) {
        snprintf(t->due_to, sizeof(t->due_to), "%" PRId64, q->due_to_ms);
        add(b, " AND c.due_at_ms > 0 AND c.due_at_ms < $%d::bigint", t->due_to);
    }
}

static void list_where(sqlbuf *b, const countyd_asker *k, const Sanji__CaseListQuery *q,
                       list_texts *t)
{
    sj_sqltext_add(&b->t, " FROM cases c WHERE true");
    if (!list_where_scope(b, k, t))
        return;
    if (given(q->unit)) {
        if (sj_case_search_scope(q->unit, t->unit_lo, t->unit_hi)) {
            add(b, " AND c.village BETWEEN $%d::char(12)", t->unit_lo);
            add(b, " AND $%d::char(12)", t->unit_hi);
        } else {
            sj_sqltext_add(&b->t, " AND false");
        }
    }
    if (q->n_statuses > 0) {
        size_t n = 1;
        t->statuses[0] = '{';
        for (size_t i = 0; i < q->n_statuses && i < 16; i++)
            n += (size_t)snprintf(t->statuses + n, sizeof(t->statuses) - n, "%s%d", i ? "," : "",
                                  (int)q->statuses[i] & 0xff);
        snprintf(t->statuses + n, sizeof(t->statuses) - n, "}");
        add(b, " AND c.status = ANY($%d::smallint[])", t->statuses);
    }
    if (given(q->village))
        add(b, " AND c.village = $%d::char(12)", q->village);
    if (q->holder_level) {
        snprintf(t->level, sizeof(t->level), "%d", (int)q->holder_level);
        add(b, " AND c.holder_level = $%d::smallint", t->level);
    }
    /* At the county the sweep's flag is the truth (a copy elsewhere also
     * counts a passed due time; see common/domain/case_search.h). */
    if (q->overdue_only)
        sj_sqltext_add(&b->t, " AND c.overdue");
    if (q->not_overdue)
        sj_sqltext_add(&b->t, " AND NOT c.overdue");
    if (q->waiting_for_me)
        add(b, " AND c.holder_unit = $%d::char(12)", k->unit);
    if (q->held_elsewhere)
        add(b, " AND c.holder_unit <> $%d::char(12)", k->unit);
    if (given(q->person))
        add(b, " AND c.first_receiver = $%d", q->person);
    if (given(q->assignee))
        add(b, " AND c.assignee = $%d", q->assignee);
    /* 我的事项: assigned to the person, carried or first received by them,
     * or assigned to someone they stand in for (AB岗). */
    if (q->mine) {
        if (given(q->for_person)) {
            add(b, " AND (c.assignee = $%d", q->for_person);
            add(b, " OR c.carrier = $%d", q->for_person);
            add(b, " OR c.first_receiver = $%d", q->for_person);
            add(b, " OR c.assignee IN (SELECT s.id FROM person s WHERE s.stand_in = $%d))",
                q->for_person);
        } else {
            sj_sqltext_add(&b->t, " AND false");
        }
    }
    list_where_search(b, k, q, t);
    if (given(q->item_code))
        add(b, " AND c.item_code = $%d", q->item_code);
    if (given(q->category))
        add(b, " AND c.item_code IN (SELECT i.code FROM catalogue_item i WHERE i.category = $%d)",
            q->category);
    if (given(q->holder_unit))
        add(b, " AND c.holder_unit = $%d::char(12)", q->holder_unit);
    if (given(q->department))
        add(b, " AND c.department = $%d", q->department);
    list_where_period(b, q, t);
    if (q->supervised_only)
        sj_sqltext_add(&b->t, " AND c.supervised");
}

static void list_order(sqlbuf *b, const Sanji__CaseListQuery *q)
{
    const char *dir = q->ascending ? " ASC" : " DESC";
    sj_sqltext_add(&b->t, " ORDER BY ");
    switch (q->sort) {
    case SANJI__CASE_SORT__CASE_SORT_DUE: sj_sqltext_add(&b->t, "c.due_at_ms"); break;
    case SANJI__CASE_SORT__CASE_SORT_NUMBER: sj_sqltext_add(&b->t, "c.number"); break;
    case SANJI__CASE_SORT__CASE_SORT_STATUS:
        sj_sqltext_add(&b->t, "c.status");
        sj_sqltext_add(&b->t, dir);
        sj_sqltext_add(&b->t, ", c.registered_at_ms");
        break;
    default: sj_sqltext_add(&b->t, "c.registered_at_ms"); break;
    }
    sj_sqltext_add(&b->t, dir);
    sj_sqltext_add(&b->t, ", c.case_id");
    sj_sqltext_add(&b->t, dir);
}

static int case_list(PGconn *db, countyd_arena *a, const countyd_asker *k,
                     const Sanji__CaseListQuery *q, Sanji__QueryResult *out, sj_error *err)
{
    list_texts t;
    memset(&t, 0, sizeof(t));
    sqlbuf rows, count;
    sqlbuf_init(&rows);
    sqlbuf_init(&count);
    sj_sqltext_add(&rows.t, "SELECT " COUNTYD_CASE_COLUMNS);
    list_where(&rows, k, q, &t);
    /* The count reads the same conditions, once the rows' text is done. */
    if (q->count_limit)
        sj_sqltext_add(&count.t, "SELECT count(*) FROM (SELECT 1");
    else
        sj_sqltext_add(&count.t, "SELECT count(*)");
    sj_sqltext_add(&count.t, strstr(rows.t.sql, " FROM cases c"));
    memcpy(count.p, rows.p, sizeof(rows.p));
    count.n = rows.n;
    char lim[16], off[16], cap[16];
    if (q->count_limit) {
        snprintf(cap, sizeof(cap), "%u", q->count_limit);
        add(&count, " LIMIT $%d::bigint) m", cap);
    }
    list_order(&rows, q);
    snprintf(lim, sizeof(lim), "%u", sj_case_search_limit(q));
    snprintf(off, sizeof(off), "%u", q->offset);
    add(&rows, " LIMIT $%d::bigint", lim);
    add(&rows, " OFFSET $%d::bigint", off);
    if (rows.t.overflow || count.t.overflow) {
        refuse(out, SJ_EINVAL, _("Too many search conditions; leave some out."));
        return 0;
    }
    PGresult *res;
    int rc = countyd_db_query(db, rows.t.sql, rows.n, rows.p, &res, err);
    if (rc != 0)
        return rc;
    Sanji__CaseList *l = countyd_arena_alloc(a, sizeof(*l));
    sanji__case_list__init(l);
    l->n_cases = (size_t)PQntuples(res);
    l->cases = countyd_arena_alloc(a, (l->n_cases + 1) * sizeof(*l->cases));
    for (size_t i = 0; i < l->n_cases; i++) {
        l->cases[i] = countyd_caserow_case(a, res, (int)i, 0);
        mask(a, k, l->cases[i]);
    }
    PQclear(res);
    if ((rc = countyd_db_query(db, count.t.sql, count.n, count.p, &res, err)) != 0)
        return rc;
    l->total = PQntuples(res) ? (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    l->total_capped = q->count_limit && l->total >= q->count_limit;
    PQclear(res);
    out->result_case = SANJI__QUERY_RESULT__RESULT_CASE_LIST;
    out->case_list = l;
    return 0;
}

/* --- one case ---------------------------------------------------------------- */

static int case_get(PGconn *db, countyd_arena *a, const countyd_asker *k,
                    const Sanji__CaseGetQuery *q, Sanji__QueryResult *out, sj_error *err)
{
    Sanji__Case *c;
    int rc;
    if (q->case_id.len == 16)
        rc = countyd_caserow_load(db, a, q->case_id.data, NULL, &c, err);
    else if (q->number && *q->number)
        rc = countyd_caserow_load(db, a, NULL, q->number, &c, err);
    else {
        refuse(out, SJ_EMISSING_FIELD, _("Give the case number or the case id."));
        return 0;
    }
    if (rc == SJ_EUNKNOWN_CASE || (rc == 0 && !countyd_asker_sees_case(k, c))) {
        refuse(out, SJ_EUNKNOWN_CASE, _("There is no such case within your scope."));
        return 0;
    }
    if (rc != 0)
        return rc;
    Sanji__CaseDetail *d = countyd_arena_alloc(a, sizeof(*d));
    sanji__case_detail__init(d);
    if ((rc = countyd_caserow_events(db, a, c->case_id.data, &d->events, &d->n_events, err)) != 0)
        return rc;
    mask(a, k, c);
    d->case_ = c;
    out->result_case = SANJI__QUERY_RESULT__RESULT_CASE_DETAIL;
    out->case_detail = d;
    return 0;
}

/* --- network view -------------------------------------------------------------- */

static void *arena_alloc(void *data, size_t n)
{
    return countyd_arena_alloc(data, n);
}

static void arena_free(void *data, void *p)
{
}

/* The unit code of a node id ("village:410423101201[:name]"), or "". */
static void node_unit(const char *node, char out[13])
{
    const char *colon = node ? strchr(node, ':') : NULL;
    snprintf(out, 13, "%.12s", colon ? colon + 1 : "");
}

/* Working days since ms (0 for a time not yet a day ago, or unknown). */
static uint32_t silent_days(const sj_calendar *cal, int64_t ms, int64_t now)
{
    int d;
    if (ms <= 0 || ms >= now || sj_calendar_working_days_between(cal, ms, now, &d) != 0 || d < 0)
        return 0;
    return (uint32_t)d;
}

/* Appends a station to a node's list (arena storage; the list is rebuilt
 * one larger, which is fine for the few villages of a township). */
static void add_station_status(countyd_arena *a, Sanji__NodeStatus *n, Sanji__StationStatus *st)
{
    Sanji__StationStatus **v = countyd_arena_alloc(a, (n->n_stations + 1) * sizeof(*v));
    if (n->n_stations)
        memcpy(v, n->stations, n->n_stations * sizeof(*v));
    v[n->n_stations++] = st;
    n->stations = v;
}

/* The relays' reports, unpacked into the arena: nodes[] in node order. */
static int read_node_status(PGconn *db, countyd_arena *a, const char *prefix,
                            Sanji__NodeStatus ***nodes, size_t *n, sj_error *err)
{
    const char *p[] = {prefix};
    /* Binary result format for the bytea column. */
    PGresult *res = PQexecParams(db,
                                 "SELECT status FROM node_status"
                                 " WHERE $1 <> '' AND left(org_unit, length($1)) = $1 ORDER BY node",
                                 1, NULL, p, NULL, NULL, 1);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = countyd_db_fail(db, res, "reading node_status", err);
        PQclear(res);
        return rc;
    }
    ProtobufCAllocator al = {.alloc = arena_alloc, .free = arena_free, .allocator_data = a};
    *nodes = countyd_arena_alloc(a, ((size_t)PQntuples(res) + 1) * sizeof(**nodes));
    *n = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        Sanji__NodeStatus *st = sanji__node_status__unpack(
            &al, (size_t)PQgetlength(res, i, 0), (const uint8_t *)PQgetvalue(res, i, 0));
        if (st)
            (*nodes)[(*n)++] = st;
    }
    PQclear(res);
    /* Each station's wrong passwords of the last 24 hours; the per-person
     * reports stay here (the log has them). */
    PGresult *r1 = PQexecParams(db,
                                "SELECT station, sum(count) FROM login_failure"
                                " WHERE $1 <> '' AND left(org_unit, length($1)) = $1"
                                " AND reported_at > now() - interval '24 hours' GROUP BY station",
                                1, NULL, p, NULL, NULL, 0);
    if (!r1 || PQresultStatus(r1) != PGRES_TUPLES_OK) {
        int rc = countyd_db_fail(db, r1, "reading login_failure", err);
        PQclear(r1);
        return rc;
    }
    for (size_t i = 0; i < *n; i++)
        for (size_t j = 0; j < (*nodes)[i]->n_stations; j++) {
            Sanji__StationStatus *st = (*nodes)[i]->stations[j];
            st->n_login_failures = 0;
            st->failed_logins = 0;
            for (int row = 0; row < PQntuples(r1); row++)
                if (st->node && strcmp(st->node, PQgetvalue(r1, row, 0)) == 0)
                    st->failed_logins = (uint32_t)strtoul(PQgetvalue(r1, row, 1), NULL, 10);
        }
    PQclear(r1);
    return 0;
}

/* The network view: every township and village of the asker's scope from
 * the org tree, so that a station that never connected shows (it has no
 * row anywhere else), each with what its relay last reported and the
 * working days it has been silent on the county's calendar.  Warnings are
 * the desk's to draw from these figures and the two thresholds sent along
 * (client/netview.h), so the CLI and the desktop say the same. */
/* How long each relay and each of its stations has been silent, in
 * working days; each station's unit from its node id. */
static void mark_silence(countyd_arena *a, const sj_calendar *cal, Sanji__NodeStatus **relays,
                         size_t n_relays, int64_t now)
{
    for (size_t r = 0; r < n_relays; r++) {
        Sanji__NodeStatus *n = relays[r];
        n->offline_working_days = silent_days(cal, n->reported_at_ms, now);
        for (size_t j = 0; j < n->n_stations; j++) {
            Sanji__StationStatus *st = n->stations[j];
            char unit[13];
            node_unit(st->node, unit);
            st->org_unit = countyd_arena_strdup(a, unit);
            st->offline_working_days = st->connected ? 0 : silent_days(cal, st->last_seen_ms, now);
        }
    }
}

/* Every village of township town (units: code, level, parent) that no relay
 * of it, ns->nodes[first..], reported: shown as never connected under the
 * township's first node. */
static void add_unreported_villages(countyd_arena *a, const PGresult *units, const char *town,
                                    Sanji__NetworkStatus *ns, size_t first)
{
    for (int v = 0; v < PQntuples(units); v++) {
        if (atoi(PQgetvalue(units, v, 1)) != SJ_LEVEL_VILLAGE ||
            strcmp(PQgetvalue(units, v, 2), town) != 0)
            continue;
        const char *village = PQgetvalue(units, v, 0);
        bool seen = false;
        for (size_t r = first; r < ns->n_nodes && !seen; r++)
            for (size_t j = 0; j < ns->nodes[r]->n_stations && !seen; j++)
                seen = strcmp(ns->nodes[r]->stations[j]->org_unit, village) == 0;
        if (seen)
            continue;
        Sanji__StationStatus *st = countyd_arena_alloc(a, sizeof(*st));
        sanji__station_status__init(st);
        st->node = countyd_arena_strdup(a, "");
        st->org_unit = countyd_arena_strdup(a, village);
        st->never_connected = true;
        add_station_status(a, ns->nodes[first], st);
    }
}

static int network(PGconn *db, countyd_arena *a, const countyd_asker *k,
                   const countyd_query_opts *o, Sanji__QueryResult *out, sj_error *err)
{
    char prefix[13];
    countyd_scope_prefix(k->unit, prefix);
    Sanji__NodeStatus **relays = NULL;
    size_t n_relays = 0;
    int rc = read_node_status(db, a, prefix, &relays, &n_relays, err);
    if (rc != 0)
        return rc;
    const char *p[] = {prefix};
    PGresult *units;
    if ((rc = countyd_db_query(db,
                               "SELECT code, level, coalesce(parent, '') FROM org_unit"
                               " WHERE $1 <> '' AND left(code, length($1)) = $1 AND level < 3"
                               " ORDER BY level DESC, code",
                               1, p, &units, err)) != 0)
        return rc;
    sj_calendar *cal;
    if ((rc = countyd_calendar_read(db, &cal, err)) != 0) {
        PQclear(units);
        return rc;
    }
    int64_t now = sj_clock_real_ms();
    int nu = PQntuples(units);
    Sanji__NetworkStatus *ns = countyd_arena_alloc(a, sizeof(*ns));
    sanji__network_status__init(ns);
    ns->offline_warn_working_days = o->offline_warn_days;
    ns->cert_warn_days = o->cert_warn_days;
    /* The calendar never silently runs out: the county desk is told, from
     * 1 November, that next year's holidays are still to be imported. */
    ns->calendar_missing_year = (uint32_t)sj_calendar_missing_next_year(cal, now);
    /* At most every relay plus a stand-in for every township without one. */
    ns->nodes = countyd_arena_alloc(a, (n_relays + (size_t)nu + 1) * sizeof(*ns->nodes));
    bool *placed = countyd_arena_alloc(a, (n_relays + 1) * sizeof(bool));
    memset(placed, 0, (n_relays + 1) * sizeof(bool));
    mark_silence(a, cal, relays, n_relays, now);
    /* Townships first (ORDER BY level DESC), each followed by its relays. */
    for (int i = 0; i < nu && atoi(PQgetvalue(units, i, 1)) == SJ_LEVEL_TOWNSHIP; i++) {
        const char *town = PQgetvalue(units, i, 0);
        size_t first = ns->n_nodes;
        for (size_t r = 0; r < n_relays; r++)
            if (!placed[r] && strcmp(relays[r]->org_unit, town) == 0) {
                ns->nodes[ns->n_nodes++] = relays[r];
                placed[r] = true;
            }
        if (ns->n_nodes == first) {
            Sanji__NodeStatus *stand_in = countyd_arena_alloc(a, sizeof(*stand_in));
            sanji__node_status__init(stand_in);
            stand_in->role = SANJI__NODE_ROLE__NODE_ROLE_RELAY;
            stand_in->org_unit = countyd_arena_strdup(a, town);
            stand_in->never_connected = true;
            ns->nodes[ns->n_nodes++] = stand_in;
        }
        add_unreported_villages(a, units, town, ns, first);
    }
    /* A relay of a township the org tree does not have (yet) still shows. */
    for (size_t r = 0; r < n_relays; r++)
        if (!placed[r])
            ns->nodes[ns->n_nodes++] = relays[r];
    /* Each station's presence today and on the last working day. */
    countyd_duty dflt;
    const countyd_duty *duty = o->duty;
    if (!duty) {
        countyd_presence_defaults(&dflt);
        duty = &dflt;
    }
    rc = countyd_presence_fill(db, a, cal, duty, ns, now, err);
    sj_calendar_free(cal);
    PQclear(units);
    if (rc != 0)
        return rc;
    out->result_case = SANJI__QUERY_RESULT__RESULT_NETWORK;
    out->network = ns;
    return 0;
}

int countyd_netstat_store(PGconn *db, const char *node, const char *unit,
                          const Sanji__NodeStatus *st, sj_error *err)
{
    size_t n = sanji__node_status__get_packed_size(st);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    sanji__node_status__pack(st, buf);
    const char *p[] = {node, unit, (const char *)buf};
    int lens[] = {0, 0, (int)n};
    int fmts[] = {0, 0, 1};
    PGresult *res = PQexecParams(db,
                                 "INSERT INTO node_status (node, org_unit, status) VALUES ($1, $2, $3)"
                                 " ON CONFLICT (node) DO UPDATE SET org_unit = excluded.org_unit,"
                                 " status = excluded.status, reported_at = now()",
                                 3, NULL, p, lens, fmts, 0);
    free(buf);
    int rc = 0;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = countyd_db_fail(db, res, "storing a node status", err);
    PQclear(res);
    return rc;
}

bool countyd_login_failure_station(const char *relay_unit, const Sanji__StationStatus *ss,
                                   char unit[SJ_UNIT_CODE_SIZE])
{
    sj_identity who;
    if (!ss->node || sj_identity_parse_node_id(ss->node, &who, NULL) != 0 ||
        !sj_orgunit_contains(relay_unit, who.unit))
        return false;
    snprintf(unit, SJ_UNIT_CODE_SIZE, "%s", who.unit);
    return true;
}

int countyd_login_failures_store(PGconn *db, const char *relay, const char *relay_unit,
                                 const Sanji__NodeStatus *st, sj_error *err)
{
    int rc = 0;
    bool any = false;
    for (size_t i = 0; i < st->n_stations && rc == 0; i++) {
        const Sanji__StationStatus *ss = st->stations[i];
        char unit[SJ_UNIT_CODE_SIZE];
        if (ss->n_login_failures == 0 || !countyd_login_failure_station(relay_unit, ss, unit))
            continue;
        /* As many persons as a relay's report holds (login_report.h). */
        for (size_t j = 0; j < ss->n_login_failures && j < SJ_LOGIN_REPORT_PERSONS && rc == 0; j++) {
            const Sanji__LoginFailures *lf = ss->login_failures[j];
            char count[16], row[16], last[32];
            snprintf(count, sizeof count, "%" PRIu32, lf->count > INT32_MAX ? INT32_MAX : lf->count);
            snprintf(row, sizeof row, "%" PRIu32, lf->in_a_row > INT32_MAX ? INT32_MAX : lf->in_a_row);
            snprintf(last, sizeof last, "%" PRId64, lf->last_at_ms);
            const char *p[] = {ss->node, unit, relay, lf->person && *lf->person ? lf->person : "?",
                               count, row, last};
            rc = countyd_db_exec(db,
                                 "INSERT INTO login_failure (station, org_unit, relay, person, count,"
                                 " in_a_row, last_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                 7, p, err);
            any = true;
        }
    }
    if (rc == 0 && any)
        rc = countyd_db_exec(db,
                             "DELETE FROM login_failure WHERE reported_at < now() - interval '30 days'",
                             0, NULL, err);
    return rc;
}

/* --- statistics ------------------------------------------------------------------ */

/* One read of the cases in scope makes every row: by township, by category
 * and for all (GROUPING SETS), with the repeated material requests counted
 * once from their own index (case_event_repeat).  A county of a million
 * cases reads them in about a second; three reads with a subquery per case
 * took the county's query worker, and every desk's search behind it, for
 * most of a minute.  The kind: 0 township, 1 category, 2 all. */
static const char STATS_SQL[] =
    "WITH r AS (SELECT case_id, count(*) AS n FROM case_event WHERE repeat_materials_request"
    "  GROUP BY case_id),"
    " x AS (SELECT left(c.village, 9) || '000' AS tw, coalesce(i.category, '') AS cat, c.status,"
    "  c.handling, c.overdue, c.satisfaction, coalesce(r.n, 0) AS rep FROM cases c"
    "  LEFT JOIN catalogue_item i ON i.code = c.item_code LEFT JOIN r ON r.case_id = c.case_id"
    "  WHERE $1 = '' OR c.village BETWEEN $1::char(12) AND $2::char(12)),"
    " g AS (SELECT grouping(tw) AS gt, grouping(cat) AS gc, tw, cat, count(*) AS total,"
    "  count(*) FILTER (WHERE status IN (7, 10) AND handling <> 5) AS resolved,"
    "  count(*) FILTER (WHERE handling = 5 OR status = 8) AS returned,"
    "  count(*) FILTER (WHERE status IN (1, 2, 3, 4, 5, 6, 9, 12, 13, 14)) AS open,"
    "  count(*) FILTER (WHERE overdue AND status IN (1, 2, 3, 4, 5, 6, 9, 12, 13, 14)) AS overdue,"
    "  count(*) FILTER (WHERE satisfaction = 1) AS s1,"
    "  count(*) FILTER (WHERE satisfaction = 2) AS s2,"
    "  count(*) FILTER (WHERE satisfaction = 3) AS s3, sum(rep) AS rep"
    "  FROM x GROUP BY GROUPING SETS ((tw), (cat), ()))"
    " SELECT CASE WHEN gt = 0 THEN 0 WHEN gc = 0 THEN 1 ELSE 2 END AS kind,"
    "  CASE WHEN gt = 0 THEN tw WHEN gc = 0 THEN cat ELSE '' END AS k,"
    "  CASE WHEN gt = 0 THEN coalesce((SELECT o.name FROM org_unit o WHERE o.code = tw), '')"
    "   WHEN gc = 0 THEN coalesce((SELECT n.name FROM catalogue_category n WHERE n.code = cat), '')"
    "   ELSE '合计' END, total, resolved, returned, open, overdue, s1, s2, s3, rep"
    " FROM g ORDER BY 1, 2";

static int statistics(PGconn *db, countyd_arena *a, const countyd_asker *k,
                      Sanji__QueryResult *out, sj_error *err)
{
    /* The scope as for a search: no condition for the county's own desks. */
    char lo[13] = "", hi[13] = "";
    if (!sj_case_search_scope(k->unit, lo, hi)) {
        refuse(out, SJ_ESCOPE,
               _("Statistics are kept for this county only; this desk is outside it."));
        return 0;
    }
    if (sj_orgunit_level(k->unit) == SJ_LEVEL_COUNTY)
        lo[0] = '\0';
    const char *p[] = {lo, hi};
    PGresult *res;
    /* The JIT compiles a plan this size for longer than it runs; off for
     * this connection (none of its short queries gains from it either). */
    int rc = countyd_db_exec(db, "SET jit = off", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_query(db, STATS_SQL, 2, p, &res, err);
    if (rc != 0)
        return rc;
    Sanji__Statistics *s = countyd_arena_alloc(a, sizeof(*s));
    sanji__statistics__init(s);
    int n = PQntuples(res);
    s->by_township = countyd_arena_alloc(a, ((size_t)n + 1) * sizeof(*s->by_township));
    s->by_category = countyd_arena_alloc(a, ((size_t)n + 1) * sizeof(*s->by_category));
    for (int r = 0; r < n; r++) {
        Sanji__StatRow *row = countyd_arena_alloc(a, sizeof(*row));
        sanji__stat_row__init(row);
        row->key = countyd_arena_strdup(a, PQgetvalue(res, r, 1));
        row->label = countyd_arena_strdup(a, PQgetvalue(res, r, 2));
        uint32_t *f[] = {&row->total, &row->resolved, &row->returned, &row->open, &row->overdue,
                         &row->satisfied, &row->basically_satisfied, &row->unsatisfied,
                         &row->repeat_material_requests};
        for (int j = 0; j < 9; j++)
            *f[j] = (uint32_t)strtoul(PQgetvalue(res, r, 3 + j), NULL, 10);
        switch (atoi(PQgetvalue(res, r, 0))) {
        case 0: s->by_township[s->n_by_township++] = row; break;
        case 1: s->by_category[s->n_by_category++] = row; break;
        default: s->all = row; break;
        }
    }
    PQclear(res);
    if (!s->all) {
        s->all = countyd_arena_alloc(a, sizeof(*s->all));
        sanji__stat_row__init(s->all);
        s->all->key = "";
        s->all->label = "合计";
    }
    out->result_case = SANJI__QUERY_RESULT__RESULT_STATISTICS;
    out->statistics = s;
    return 0;
}

/* --- dispatch ---------------------------------------------------------------------- */

int countyd_query_answer(PGconn *db, countyd_arena *a, const countyd_asker *k,
                         const countyd_query_opts *opts, const Sanji__Query *q,
                         Sanji__QueryResult *out, sj_error *err)
{
    static const countyd_query_opts defaults = {3, 30, NULL, NULL}; /* server_config.c's */
    if (opts == NULL)
        opts = &defaults;
    sanji__query_result__init(out);
    countyd_ref_versions v;
    int rc = 0;
    switch (q ? q->kind_case : SANJI__QUERY__KIND__NOT_SET) {
    case SANJI__QUERY__KIND_CASE_LIST:
        rc = case_list(db, a, k, q->case_list, out, err);
        break;
    case SANJI__QUERY__KIND_CASE_GET:
        rc = case_get(db, a, k, q->case_get, out, err);
        break;
    case SANJI__QUERY__KIND_ATTACHMENT:
        rc = countyd_attach_query(db, a, k, q->attachment, out, err);
        break;
    case SANJI__QUERY__KIND_CATALOGUE:
        if ((rc = countyd_refdata_versions(db, &v, err)) == 0 &&
            (rc = countyd_refdata_catalogue(db, a, q->catalogue->keyword, v.catalogue,
                                            &out->catalogue, err)) == 0)
            out->result_case = SANJI__QUERY_RESULT__RESULT_CATALOGUE;
        break;
    case SANJI__QUERY__KIND_ORG_TREE:
        if ((rc = countyd_refdata_versions(db, &v, err)) == 0 &&
            (rc = countyd_refdata_org_tree(db, a, k->unit, v.org_tree, &out->org_tree, err)) == 0)
            out->result_case = SANJI__QUERY_RESULT__RESULT_ORG_TREE;
        break;
    case SANJI__QUERY__KIND_NETWORK_STATUS:
        rc = network(db, a, k, opts, out, err);
        break;
    case SANJI__QUERY__KIND_STATISTICS:
        rc = statistics(db, a, k, out, err);
        break;
    case SANJI__QUERY__KIND_PERIOD_STATISTICS:
        rc = countyd_stats_answer(db, a, k, q->period_statistics, out, err);
        break;
    case SANJI__QUERY__KIND_STARS:
        rc = countyd_stars_answer(db, a, k, opts->stars, opts->duty, q->stars, out, err);
        break;
    default:
        refuse(out, SJ_EUNSUPPORTED, _("This kind of question is not known here."));
        return 0;
    }
    if (rc != 0) {
        sanji__query_result__init(out);
        refuse(out, rc, _("The county database is not available just now; ask again later."));
    }
    return rc;
}
