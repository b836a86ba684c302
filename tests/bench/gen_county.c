/*
 * gen_county.c - years of realistic cases for a county database (see
 * gen_county.h).
 *
 * The cases are made twice with the same seed: the first pass copies the
 * case rows, the second their history (case_event refers to cases, so the
 * cases must be in first, and nothing of a million cases' history has to
 * be held in memory in between).
 *
 * Entry points: gen_county_fill().
 */
#include "gen_county.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "calendar.h"
#include "case.h"
#include "clock.h"
#include "migrate.h"
#include "uuid.h"
#include "workload.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define HOUR_MS (3600 * 1000LL)
#define CHINA_MS (8 * HOUR_MS)
#define MAX_EVENTS 24
#define COPY_CHUNK (256 * 1024)

/* ---- reference data from the database ----------------------------------- */

typedef struct unit_person {
    char code[13];
    char person[64];
    char name[64];
} unit_person;

typedef struct item {
    char code[32], category[32], name[160], department[96];
    sj_level min_level;
    int limit_days, urgent_days;
    char mat[2][96];
    size_t n_mat;
} item;

typedef struct gen {
    PGconn *db;
    const gen_county_opts *o;
    unit_person *villages, *townships, county;
    const unit_person *only; /* opts->village */
    size_t n_villages, n_townships;
    item *items;
    size_t n_items;
    sj_calendar *cal;
    int64_t start_ms, now_ms;
    int32_t first_day;
    uint32_t *day_seq;     /* per day since first_day: the last case number used */
    uint32_t *day_base;    /* the counter as found in the database */
    size_t n_days;
    char county6[7];
    /* COPY buffer */
    char *buf;
    size_t len;
} gen;

static int db_fail(gen *g, sj_error *err, const char *what)
{
    return sj_error_set(err, SJ_EDB, "%s: %s", what, PQerrorMessage(g->db));
}

static int exec_ok(gen *g, const char *sql, sj_error *err)
{
    PGresult *r = PQexec(g->db, sql);
    int st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : db_fail(g, err, sql);
    PQclear(r);
    return rc;
}

static int load_units(gen *g, const char *sql, unit_person **out, size_t *n, sj_error *err)
{
    PGresult *r = PQexec(g->db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return db_fail(g, err, "reading units");
    }
    *n = (size_t)PQntuples(r);
    *out = calloc(*n + 1, sizeof(**out));
    if (!*out) {
        PQclear(r);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    for (size_t i = 0; i < *n; i++) {
        snprintf((*out)[i].code, sizeof((*out)[i].code), "%s", PQgetvalue(r, (int)i, 0));
        snprintf((*out)[i].person, sizeof((*out)[i].person), "%s", PQgetvalue(r, (int)i, 1));
        snprintf((*out)[i].name, sizeof((*out)[i].name), "%s", PQgetvalue(r, (int)i, 2));
    }
    PQclear(r);
    return 0;
}

/* The first active person of a role in each unit of a level (the benchmark's
 * own 9xx townships left out: they have no staff). */
#define UNITS_SQL(level, role)                                                                     \
    "SELECT o.code, p.id, p.name FROM org_unit o CROSS JOIN LATERAL"                              \
    " (SELECT id, name FROM person WHERE org_unit = o.code AND role = " #role " AND active"       \
    " ORDER BY id LIMIT 1) p WHERE o.level = " #level " AND substr(o.code, 7, 1) <> '9'"         \
    " ORDER BY o.code"

static int load_items(gen *g, sj_error *err)
{
    PGresult *r = PQexec(g->db, "SELECT code, category, name, min_level, department, limit_days,"
                                " urgent_limit_days, coalesce(materials[1], ''),"
                                " coalesce(materials[2], '') FROM catalogue_item WHERE active"
                                " ORDER BY code");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return db_fail(g, err, "reading the catalogue");
    }
    g->n_items = (size_t)PQntuples(r);
    g->items = calloc(g->n_items + 1, sizeof(*g->items));
    if (!g->items) {
        PQclear(r);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    for (size_t i = 0; i < g->n_items; i++) {
        item *it = &g->items[i];
        int row = (int)i;
        snprintf(it->code, sizeof(it->code), "%s", PQgetvalue(r, row, 0));
        snprintf(it->category, sizeof(it->category), "%s", PQgetvalue(r, row, 1));
        snprintf(it->name, sizeof(it->name), "%s", PQgetvalue(r, row, 2));
        it->min_level = (sj_level)atoi(PQgetvalue(r, row, 3));
        snprintf(it->department, sizeof(it->department), "%s", PQgetvalue(r, row, 4));
        it->limit_days = atoi(PQgetvalue(r, row, 5));
        it->urgent_days = atoi(PQgetvalue(r, row, 6));
        for (int k = 0; k < 2; k++)
            if (*PQgetvalue(r, row, 7 + k))
                snprintf(it->mat[it->n_mat++], sizeof(it->mat[0]), "%s", PQgetvalue(r, row, 7 + k));
    }
    PQclear(r);
    return g->n_items ? 0 : sj_error_set(err, SJ_EINVAL, "the county has no catalogue: load it first");
}

static int32_t china_day(int64_t ms)
{
    int64_t l = ms + CHINA_MS;
    return (int32_t)(l >= 0 ? l / DAY_MS : (l - DAY_MS + 1) / DAY_MS);
}

static int load_refs(gen *g, sj_error *err)
{
    int rc;
    if ((rc = load_units(g, UNITS_SQL(1, 1), &g->villages, &g->n_villages, err)) != 0 ||
        (rc = load_units(g, UNITS_SQL(2, 2), &g->townships, &g->n_townships, err)) != 0)
        return rc;
    unit_person *county = NULL;
    size_t n = 0;
    if ((rc = load_units(g, UNITS_SQL(3, 3), &county, &n, err)) != 0)
        return rc;
    if (n == 0 || g->n_villages == 0) {
        free(county);
        return sj_error_set(err, SJ_EINVAL, "the county has no villages with cadres or no county "
                                            "operator: load the demo county first");
    }
    g->county = county[0];
    for (size_t i = 0; g->o->village && i < g->n_villages; i++)
        if (strcmp(g->villages[i].code, g->o->village) == 0)
            g->only = &g->villages[i];
    if (g->o->village && !g->only) {
        free(county);
        return sj_error_set(err, SJ_EINVAL, "no village %s with a cadre", g->o->village);
    }
    free(county);
    snprintf(g->county6, sizeof(g->county6), "%.6s", g->county.code);
    if ((rc = load_items(g, err)) != 0)
        return rc;
    g->cal = sj_calendar_new();
    if (!g->cal)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    char path[4096];
    const char *demo = g->o->demo_dir ? g->o->demo_dir : NULL;
    if (demo)
        snprintf(path, sizeof(path), "%s/holidays.csv", demo);
    else
        snprintf(path, sizeof(path), "%s/deploy/demo/holidays.csv",
                 getenv("SANJI_SOURCE_DIR") ? getenv("SANJI_SOURCE_DIR") : ".");
    if ((rc = sj_calendar_load_csv(g->cal, path, err)) != 0)
        return rc;
    /* Case numbers go on from the county's own counters. */
    g->first_day = china_day(g->start_ms);
    g->n_days = (size_t)(china_day(g->now_ms) - g->first_day + 1);
    g->day_seq = calloc(g->n_days, sizeof(*g->day_seq));
    g->day_base = calloc(g->n_days, sizeof(*g->day_base));
    if (!g->day_seq || !g->day_base)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    PGresult *r = PQexec(g->db, "SELECT (day - date '1970-01-01'), last_seq FROM case_number_seq");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return db_fail(g, err, "reading case number counters");
    }
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t d = atoll(PQgetvalue(r, i, 0)) - g->first_day;
        if (d >= 0 && (size_t)d < g->n_days)
            g->day_base[d] = (uint32_t)atoi(PQgetvalue(r, i, 1));
    }
    PQclear(r);
    return 0;
}

/* ---- one case's life ------------------------------------------------------ */

typedef struct ev {
    sj_case_action action;
    const unit_person *who;
    sj_level level;
    int64_t at_ms;
    sj_case_status from, to;
    const char *note, *result, *department;
    const char *const *materials;
    size_t n_materials;
    sj_satisfaction satisfaction;
    uint8_t message_id[16];
} ev;

typedef struct made {
    uint8_t id[16];
    char number[40];
    const unit_person *village;
    const item *it;
    char name[SJ_WORKLOAD_NAME_SIZE], id_number[SJ_WORKLOAD_ID_SIZE], phone[SJ_WORKLOAD_PHONE_SIZE];
    char text[160];
    const char *mats[2];   /* the item's materials */
    int64_t registered_ms, due_ms;
    bool urgent;
    sj_case c;
    ev events[MAX_EVENTS];
    size_t n_events;
} made;

static uint64_t rnd(sj_workload *w, uint64_t n)
{
    return sj_workload_below(w, n);
}

static void make_id(sj_workload *w, int64_t ms, uint8_t id[16])
{
    uint64_t a = sj_workload_rand(w), b = sj_workload_rand(w);
    for (int i = 0; i < 6; i++)
        id[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(id + 6, &a, 2);
    memcpy(id + 8, &b, 8);
    id[6] = (uint8_t)(0x70 | (id[6] & 0x0f));
    id[8] = (uint8_t)(0x80 | (id[8] & 0x3f));
}

/* A registration time: more cases in later years (density growing
 * linearly), on a working day, in office hours (China time). */
static int64_t pick_time(gen *g, sj_workload *w)
{
    double u = (double)(sj_workload_rand(w) >> 11) / 9007199254740992.0;
    int64_t t = g->start_ms + (int64_t)((double)(g->now_ms - g->start_ms) * __builtin_sqrt(u));
    int32_t day = china_day(t);
    while (day > g->first_day && !sj_calendar_is_working_day(g->cal, day))
        day--;
    int64_t at = (int64_t)day * DAY_MS - CHINA_MS + 8 * HOUR_MS + 30 * 60000 +
                 (int64_t)rnd(w, 9 * HOUR_MS);
    return at < g->now_ms ? at : g->now_ms - (int64_t)rnd(w, HOUR_MS) - 1;
}

/* Time to the next step: an hour and up to a third of the item's time
 * limit (a day at least); a slow case (one in twelve) takes four times as
 * long, and is late. */
static int64_t step_delay(sj_workload *w, int limit_days, bool slow)
{
    int64_t span = (limit_days > 3 ? limit_days : 3) * DAY_MS / 3;
    int64_t d = HOUR_MS + (int64_t)rnd(w, (uint64_t)span);
    return slow ? d * 4 : d;
}

typedef struct life {
    gen *g;
    sj_workload *w;
    made *m;
    sj_actor v, t, c, s;
    const unit_person *township;
    bool stopped;
} life;

static const char *const NOTE = "按规定办理";
static const char *const RESULT = "已按规定办结，结果已告知申请人";

/* Takes one action at `at` if it lies before now and the machine allows it;
 * records its events.  False when the life stops here. */
static bool act(life *l, sj_case_action type, const sj_actor *actor, int64_t at,
                sj_satisfaction sat)
{
    made *m = l->m;
    if (l->stopped || at >= l->g->now_ms || m->n_events + SJ_CASE_EVENTS_MAX > MAX_EVENTS) {
        l->stopped = true;
        return false;
    }
    unsigned fields = sj_case_action_fields(type);
    sj_action a = {.type = type, .expected_version = m->c.version, .at_ms = at};
    if (fields & SJ_CASE_FIELD_NOTE)
        a.note = NOTE;
    if (fields & SJ_CASE_FIELD_RESULT)
        a.result = RESULT;
    if (fields & SJ_CASE_FIELD_DEPARTMENT)
        a.department = m->it->department;
    if (fields & SJ_CASE_FIELD_MATERIALS) {
        /* The item's own materials: the case keeps pointing at them. */
        a.materials = m->mats;
        a.n_materials = m->it->n_mat;
    }
    if (fields & SJ_CASE_FIELD_SATISFACTION)
        a.satisfaction = sat;
    if (fields & SJ_CASE_FIELD_WARN_PERCENT)
        a.warn_percent = 75;
    sj_case_outcome out;
    if (sj_case_apply(&m->c, &a, actor, &out, NULL) != 0) {
        l->stopped = true;
        return false;
    }
    const unit_person *who = actor == &l->v   ? m->village
                             : actor == &l->t ? l->township
                                              : &l->g->county;
    for (size_t i = 0; i < out.n_events; i++) {
        ev *e = &m->events[m->n_events++];
        memset(e, 0, sizeof(*e));
        e->action = out.events[i].action;
        e->who = actor == &l->s ? NULL : who;
        e->level = sj_role_level(actor->role);
        e->at_ms = at;
        e->from = out.events[i].from_status;
        e->to = out.events[i].to_status;
        e->note = a.note;
        e->result = a.result;
        e->department = a.department;
        e->materials = a.materials;
        e->n_materials = a.n_materials;
        e->satisfaction = a.satisfaction;
        make_id(l->w, at, e->message_id);
    }
    m->c = out.next;
    return true;
}

/* System and county supervision of a late active case: flagged overdue at
 * its due time, some urged and supervised a day later. */
static void watch(life *l, int64_t until)
{
    made *m = l->m;
    /* Never before the last step: a case reopened by an unsatisfied
     * villager long after its due time is flagged when it became active. */
    int64_t last = m->events[m->n_events - 1].at_ms + 60000;
    int64_t at = m->due_ms > last ? m->due_ms : last;
    if (!sj_case_is_active(m->c.status) || m->c.overdue || at >= until || at >= l->g->now_ms)
        return;
    bool stopped = l->stopped;
    l->stopped = false;
    if (act(l, SJ_ACTION_OVERDUE, &l->s, at, SJ_SATISFACTION_NONE)) {
        int64_t next = at + DAY_MS;
        if (next < until && rnd(l->w, 3) == 0 && strcmp(m->c.holder_unit, l->g->county.code) != 0)
            act(l, SJ_ACTION_URGE, &l->c, next, SJ_SATISFACTION_NONE);
        l->stopped = false;
        if (next + HOUR_MS < until && rnd(l->w, 3) == 0)
            act(l, SJ_ACTION_SUPERVISE, &l->c, next + HOUR_MS, SJ_SATISFACTION_NONE);
    }
    l->stopped = stopped;
}

static bool step(life *l, int64_t *t, sj_case_action type, const sj_actor *actor, bool slow,
                 sj_satisfaction sat)
{
    /* The villager's feedback comes days after the result. */
    int limit = type == SJ_ACTION_FEEDBACK || type == SJ_ACTION_CLOSE ? 15 : l->m->it->limit_days;
    int64_t at = *t + step_delay(l->w, limit, slow);
    watch(l, at);
    if (!act(l, type, actor, at, sat))
        return false;
    *t = at;
    return true;
}

static const unit_person *township_of(gen *g, const char *village)
{
    for (size_t i = 0; i < g->n_townships; i++)
        if (strncmp(g->townships[i].code, village, 9) == 0)
            return &g->townships[i];
    return NULL;
}

static void make_case(gen *g, sj_workload *w, made *m)
{
    memset(m, 0, sizeof(*m));
    m->registered_ms = pick_time(g, w);
    m->village = g->only ? g->only : &g->villages[rnd(w, g->n_villages)];
    m->it = &g->items[rnd(w, g->n_items)];
    m->mats[0] = m->it->mat[0];
    m->mats[1] = m->it->mat[1];
    sj_workload_applicant(w, m->name, m->id_number, m->phone);
    sj_workload_text(w, m->text, sizeof(m->text));
    make_id(w, m->registered_ms, m->id);
    m->urgent = m->it->urgent_days > 0 && rnd(w, 30) == 0;
    int limit = m->urgent ? m->it->urgent_days : m->it->limit_days;
    if (sj_calendar_add_working_days(g->cal, m->registered_ms, limit, &m->due_ms) != 0)
        m->due_ms = m->registered_ms + (int64_t)limit * DAY_MS;
    int32_t day = china_day(m->registered_ms) - g->first_day;
    uint32_t seq = g->day_base[day] + ++g->day_seq[day];
    time_t secs = (time_t)((m->registered_ms + CHINA_MS) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(m->number, sizeof(m->number), "%s-%04d%02d%02d-%05u", g->county6, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, seq);

    life l = {.g = g, .w = w, .m = m, .township = township_of(g, m->village->code)};
    l.v.role = SJ_ROLE_VILLAGE_CADRE;
    snprintf(l.v.unit, sizeof(l.v.unit), "%s", m->village->code);
    l.t.role = SJ_ROLE_TOWNSHIP_STAFF;
    snprintf(l.t.unit, sizeof(l.t.unit), "%.9s000", m->village->code);
    l.c.role = SJ_ROLE_COUNTY_OPERATOR;
    snprintf(l.c.unit, sizeof(l.c.unit), "%s", g->county.code);
    l.s.role = SJ_ROLE_SYSTEM;
    snprintf(l.s.unit, sizeof(l.s.unit), "%s", g->county.code);
    if (!l.township)
        l.township = &g->county; /* a village whose township has no staff: never escalated */
    sj_case_outcome out;
    if (sj_case_register(m->village->code, m->it->min_level, m->registered_ms, &l.v, &out, NULL) != 0)
        return;
    m->c = out.next;
    ev *e = &m->events[m->n_events++];
    e->action = SJ_ACTION_REGISTER;
    e->who = m->village;
    e->level = SJ_LEVEL_VILLAGE;
    e->at_ms = m->registered_ms;
    e->from = SJ_STATUS_NONE;
    e->to = SJ_STATUS_REGISTERED;
    make_id(w, m->registered_ms, e->message_id);

    bool slow = rnd(w, 12) == 0;
    int64_t t = m->registered_ms;
    uint64_t r = rnd(w, 1000);
    sj_level handle = m->it->min_level < SJ_LEVEL_TOWNSHIP ? SJ_LEVEL_TOWNSHIP : m->it->min_level;
    if (!township_of(g, m->village->code))
        handle = SJ_LEVEL_VILLAGE;
    if (r < 15) {
        step(&l, &t, SJ_ACTION_WITHDRAW, &l.v, slow, 0);
    } else if ((m->it->min_level == SJ_LEVEL_VILLAGE && r < 800) || handle == SJ_LEVEL_VILLAGE) {
        if (m->it->min_level == SJ_LEVEL_VILLAGE)
            step(&l, &t, SJ_ACTION_RESOLVE_AT_ONCE, &l.v, slow, 0);
    } else {
        const sj_actor *holder = &l.t;
        bool ok = step(&l, &t, SJ_ACTION_ESCALATE, &l.v, slow, 0) &&
                  step(&l, &t, SJ_ACTION_ACCEPT, &l.t, slow, 0);
        if (ok && handle == SJ_LEVEL_COUNTY) {
            ok = step(&l, &t, SJ_ACTION_ESCALATE, &l.t, slow, 0) &&
                 step(&l, &t, SJ_ACTION_ACCEPT, &l.c, slow, 0);
            holder = &l.c;
        }
        if (ok && m->it->n_mat && rnd(w, 10) == 0)
            ok = step(&l, &t, SJ_ACTION_REQUEST_MATERIALS, holder, slow, 0) &&
                 step(&l, &t, SJ_ACTION_SUPPLEMENT, &l.v, true, 0);
        if (ok)
            step(&l, &t, rnd(w, 33) == 0 ? SJ_ACTION_RETURN_UNDOABLE : SJ_ACTION_RESOLVE, holder,
                 slow, 0);
    }
    if (m->c.status == SJ_STATUS_RESOLVED || m->c.status == SJ_STATUS_RETURNED) {
        uint64_t f = rnd(w, 100);
        if (f < 8) {
            step(&l, &t, SJ_ACTION_CLOSE, &l.v, slow, 0);
        } else {
            sj_satisfaction s = f < 30   ? SJ_SATISFACTION_VERY_SATISFIED
                                : f < 85 ? SJ_SATISFACTION_SATISFIED
                                : f < 97 ? SJ_SATISFACTION_BASICALLY
                                : f < 99 ? SJ_SATISFACTION_UNSATISFIED
                                         : SJ_SATISFACTION_VERY_UNSATISFIED;
            /* A 差评 is rectified by its resolver, then called back. */
            if (step(&l, &t, SJ_ACTION_FEEDBACK, &l.v, slow, s) &&
                m->c.status == SJ_STATUS_UNSATISFIED) {
                const sj_actor *res = m->c.resolved_level == SJ_LEVEL_COUNTY     ? &l.c
                                      : m->c.resolved_level == SJ_LEVEL_TOWNSHIP ? &l.t
                                                                                 : &l.c;
                if (step(&l, &t, SJ_ACTION_RECTIFY, res, true, 0))
                    step(&l, &t, SJ_ACTION_CALLBACK, &l.v, slow, SJ_SATISFACTION_SATISFIED);
            }
        }
    }
    l.stopped = false;
    watch(&l, g->now_ms);
}

/* ---- COPY ------------------------------------------------------------------ */

static void put(gen *g, const char *s)
{
    size_t n = strlen(s);
    memcpy(g->buf + g->len, s, n);
    g->len += n;
}

/* Text for COPY's text format: \ tab and line ends escaped. */
static void put_text(gen *g, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '\\': put(g, "\\\\"); break;
        case '\t': put(g, "\\t"); break;
        case '\n': put(g, "\\n"); break;
        case '\r': put(g, "\\r"); break;
        default: g->buf[g->len++] = *p;
        }
    }
}

static void put_i64(gen *g, int64_t v)
{
    g->len += (size_t)sprintf(g->buf + g->len, "%" PRId64, v);
}

static void tab(gen *g)
{
    g->buf[g->len++] = '\t';
}

static void put_uuid(gen *g, const uint8_t id[16])
{
    char t[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(id, t);
    put(g, t);
}

static void put_bool(gen *g, bool b)
{
    put(g, b ? "t" : "f");
}

/* A text[] literal of plain texts (no quotes or backslashes in them). */
static void put_array(gen *g, const char *const *v, size_t n)
{
    put(g, "{");
    for (size_t i = 0; i < n; i++) {
        put(g, i ? ",\"" : "\"");
        put_text(g, v[i]);
        put(g, "\"");
    }
    put(g, "}");
}

static int flush(gen *g, bool force, sj_error *err)
{
    if (g->len == 0 || (!force && g->len < COPY_CHUNK - 8192))
        return 0;
    if (PQputCopyData(g->db, g->buf, (int)g->len) != 1)
        return db_fail(g, err, "COPY");
    g->len = 0;
    return 0;
}

static const char CASE_COPY[] =
    "COPY cases (case_id, number, village, item_code, item_name, item_min_level, applicant_name,"
    " applicant_id_number, applicant_phone, request_text, first_receiver, first_receiver_name,"
    " holder_level, holder_unit, status, resume_status, version, registered_at_ms, due_at_ms,"
    " department, handling, overdue, warn_level, urge_count, supervised, materials_rounds,"
    " materials, result, return_reason, satisfaction, resolved_level, resolved_unit,"
    " updated_at_ms, closed_at_ms, urgent, appointment_at_ms, escalated, reached_county,"
    " recorded_at) FROM STDIN";

static void case_row(gen *g, const made *m)
{
    const sj_case *c = &m->c;
    put_uuid(g, m->id), tab(g);
    put(g, m->number), tab(g);
    put(g, m->village->code), tab(g);
    put_text(g, m->it->code), tab(g);
    put_text(g, m->it->name), tab(g);
    put_i64(g, m->it->min_level), tab(g);
    put_text(g, m->name), tab(g);
    put(g, m->id_number), tab(g);
    put(g, m->phone), tab(g);
    put_text(g, m->text), tab(g);
    put_text(g, m->village->person), tab(g);
    put_text(g, m->village->name), tab(g);
    put_i64(g, c->holder_level), tab(g);
    put(g, c->holder_unit), tab(g);
    put_i64(g, c->status), tab(g);
    put_i64(g, c->resume_status), tab(g);
    put_i64(g, (int64_t)c->version), tab(g);
    put_i64(g, m->registered_ms), tab(g);
    put_i64(g, m->due_ms), tab(g);
    put_text(g, c->department), tab(g);
    put_i64(g, c->handling), tab(g);
    put_bool(g, c->overdue), tab(g);
    put_i64(g, c->warn_level), tab(g);
    put_i64(g, c->urge_count), tab(g);
    put_bool(g, c->supervised), tab(g);
    put_i64(g, c->materials_rounds), tab(g);
    put_array(g, c->materials, c->n_materials), tab(g);
    put_text(g, c->result), tab(g);
    put_text(g, c->return_reason), tab(g);
    put_i64(g, c->satisfaction), tab(g);
    put_i64(g, c->resolved_level), tab(g);
    put(g, c->resolved_unit), tab(g);
    put_i64(g, c->updated_at_ms ? c->updated_at_ms : m->registered_ms), tab(g);
    put_i64(g, c->closed_at_ms), tab(g);
    put_bool(g, m->urgent), tab(g);
    put(g, "0"), tab(g);
    put_bool(g, c->escalated), tab(g);
    put_bool(g, c->reached_county), tab(g);
    /* recorded_at: when the county recorded it, a few seconds later */
    char ts[64];
    time_t secs = (time_t)(m->registered_ms / 1000 + 3);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S+00", &tm);
    put(g, ts);
    put(g, "\n");
}

static const char EVENT_COPY[] =
    "COPY case_event (case_id, seq, action, actor_person, actor_name, actor_node, actor_level,"
    " actor_unit, at_ms, recorded_at_ms, from_status, to_status, note, result, materials,"
    " satisfaction, department, message_id, repeat_materials_request) FROM STDIN";

static void event_rows(gen *g, const made *m)
{
    for (size_t i = 0; i < m->n_events; i++) {
        const ev *e = &m->events[i];
        char node[64];
        const char *role = e->level == SJ_LEVEL_VILLAGE    ? "village"
                           : e->level == SJ_LEVEL_TOWNSHIP ? "township-desk"
                                                           : "county-desk";
        if (e->who)
            snprintf(node, sizeof(node), "%s:%s", role, e->who->code);
        else
            snprintf(node, sizeof(node), "county:%s", g->county.code);
        put_uuid(g, m->id), tab(g);
        put_i64(g, (int64_t)i + 1), tab(g);
        put_i64(g, e->action), tab(g);
        put_text(g, e->who ? e->who->person : ""), tab(g);
        put_text(g, e->who ? e->who->name : ""), tab(g);
        put(g, node), tab(g);
        put_i64(g, e->level), tab(g);
        put(g, e->who ? e->who->code : g->county.code), tab(g);
        put_i64(g, e->at_ms), tab(g);
        put_i64(g, e->at_ms + 2000), tab(g);
        put_i64(g, e->from), tab(g);
        put_i64(g, e->to), tab(g);
        put_text(g, e->action == SJ_ACTION_REGISTER ? m->text : e->note), tab(g);
        put_text(g, e->result), tab(g);
        put_array(g, e->materials, e->n_materials), tab(g);
        put_i64(g, e->satisfaction), tab(g);
        put_text(g, e->department), tab(g);
        if (e->action == SJ_ACTION_OVERDUE || e->action == SJ_ACTION_WARN)
            put(g, "\\N");
        else
            put_uuid(g, e->message_id);
        tab(g);
        put(g, "f\n");
    }
}

/* One pass over every case with a fresh workload of the same seed: pass 0
 * copies the cases, pass 1 their history. */
static int pass(gen *g, int which, gen_county_result *r, sj_error *err)
{
    sj_workload *w = NULL;
    int rc = sj_workload_new(g->o->seed, g->o->demo_dir, &w, err);
    if (rc != 0)
        return rc;
    memset(g->day_seq, 0, g->n_days * sizeof(*g->day_seq));
    PGresult *res = PQexec(g->db, which == 0 ? CASE_COPY : EVENT_COPY);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        PQclear(res);
        sj_workload_free(w);
        return db_fail(g, err, "starting COPY");
    }
    PQclear(res);
    made *m = malloc(sizeof(*m));
    if (!m) {
        sj_workload_free(w);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    for (uint64_t i = 0; i < g->o->cases && rc == 0; i++) {
        make_case(g, w, m);
        if (m->n_events == 0)
            continue;
        if (which == 0) {
            case_row(g, m);
            r->cases++;
            r->open += sj_case_is_active(m->c.status);
            r->overdue += m->c.overdue && sj_case_is_active(m->c.status);
            r->supervised += m->c.supervised;
            r->closed += m->c.status == SJ_STATUS_CLOSED;
        } else {
            event_rows(g, m);
            r->events += m->n_events;
        }
        rc = flush(g, false, err);
        if (!g->o->quiet && (i + 1) % 100000 == 0)
            fprintf(stderr, "gen-county: %s %" PRIu64 " cases\n", which ? "history of" : "copied",
                    i + 1);
    }
    free(m);
    sj_workload_free(w);
    if (rc == 0)
        rc = flush(g, true, err);
    if (PQputCopyEnd(g->db, rc == 0 ? NULL : "generation failed") != 1 && rc == 0)
        rc = db_fail(g, err, "ending COPY");
    res = PQgetResult(g->db);
    if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = db_fail(g, err, "COPY");
    PQclear(res);
    while ((res = PQgetResult(g->db)))
        PQclear(res);
    return rc;
}

/* The search indexes of cases (not the keys): dropped for the load, made
 * again after it.  *defs gets their CREATE statements. */
static int drop_indexes(gen *g, PGresult **defs, sj_error *err)
{
    *defs = PQexec(g->db, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname ="
                          " current_schema() AND tablename = 'cases' AND indexname NOT IN"
                          " (SELECT conname FROM pg_constraint)");
    if (PQresultStatus(*defs) != PGRES_TUPLES_OK)
        return db_fail(g, err, "reading the indexes");
    for (int i = 0; i < PQntuples(*defs); i++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "DROP INDEX %s", PQgetvalue(*defs, i, 0));
        int rc = exec_ok(g, sql, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int make_indexes(gen *g, PGresult *defs, sj_error *err)
{
    for (int i = 0; i < PQntuples(defs); i++) {
        int rc = exec_ok(g, PQgetvalue(defs, i, 1), err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The feed of the new history (after what each village had), its
 * counters, and the case-number counters. */
static const char FINISH_SQL[] =
    "INSERT INTO feed (village, seq, case_id, event_seq)"
    " SELECT c.village, coalesce(fc.last_seq, 0) + row_number() OVER (PARTITION BY c.village"
    "   ORDER BY e.recorded_at_ms, e.case_id, e.seq), e.case_id, e.seq"
    " FROM case_event e JOIN cases c USING (case_id)"
    " LEFT JOIN feed_counter fc ON fc.village = c.village"
    " WHERE NOT EXISTS (SELECT 1 FROM feed f WHERE f.case_id = e.case_id AND f.event_seq = e.seq);"
    "INSERT INTO feed_counter (village, last_seq) SELECT village, max(seq) FROM feed GROUP BY 1"
    " ON CONFLICT (village) DO UPDATE SET last_seq = excluded.last_seq;"
    "INSERT INTO case_number_seq (county, day, last_seq)"
    " SELECT left(number, 6), to_date(substr(number, 8, 8), 'YYYYMMDD'),"
    "  max(substr(number, 17)::int) FROM cases WHERE number IS NOT NULL GROUP BY 1, 2"
    " ON CONFLICT (county, day) DO UPDATE SET last_seq ="
    "  greatest(case_number_seq.last_seq, excluded.last_seq);";

/* The case rows' history figures (migration 0017) from the history just
 * written: the migration's own backfill statement, the text between its
 * "-- figures: begin" and "-- figures: end" lines, so that the generated
 * county holds what the apply path would have kept. */
static int fill_figures(gen *g, sj_error *err)
{
    static const char begin[] = "-- figures: begin\n", end[] = "-- figures: end";
    for (size_t i = 0; i < countyd__n_migrations; i++) {
        if (countyd__migrations[i].version != 17)
            continue;
        const char *s = strstr(countyd__migrations[i].sql, begin);
        const char *e = s ? strstr(s, end) : NULL;
        if (!e)
            break;
        s += sizeof(begin) - 1;
        char *sql = strndup(s, (size_t)(e - s));
        if (!sql)
            return sj_error_set(err, SJ_ENOMEM, NULL);
        int rc = exec_ok(g, sql, err);
        free(sql);
        return rc;
    }
    return sj_error_set(err, SJ_EINTERNAL, "migration 0017 has no figures statement");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int gen_county_fill(const char *conninfo, const gen_county_opts *o, gen_county_result *r,
                    sj_error *err)
{
    memset(r, 0, sizeof(*r));
    if (o->cases == 0 || o->years < 1)
        return sj_error_set(err, SJ_EINVAL, "cases and years must be at least 1");
    double t0 = now_s();
    gen g = {.o = o};
    g.now_ms = o->now_ms ? o->now_ms : sj_clock_real_ms();
    g.start_ms = g.now_ms - (int64_t)o->years * 365 * DAY_MS - (int64_t)(o->years / 4) * DAY_MS;
    g.buf = malloc(COPY_CHUNK);
    g.db = PQconnectdb(conninfo);
    PGresult *defs = NULL;
    int rc;
    if (!g.buf) {
        rc = sj_error_set(err, SJ_ENOMEM, NULL);
        goto done;
    }
    if (PQstatus(g.db) != CONNECTION_OK) {
        rc = sj_error_set(err, SJ_EDB_CONN, "%s", PQerrorMessage(g.db));
        goto done;
    }
    if ((rc = load_refs(&g, err)) != 0 || (rc = exec_ok(&g, "BEGIN", err)) != 0 ||
        (rc = drop_indexes(&g, &defs, err)) != 0 || (rc = pass(&g, 0, r, err)) != 0 ||
        (rc = pass(&g, 1, r, err)) != 0)
        goto done;
    if (!o->quiet)
        fprintf(stderr, "gen-county: feed, counters and indexes\n");
    if ((rc = exec_ok(&g, FINISH_SQL, err)) != 0 || (rc = fill_figures(&g, err)) != 0 ||
        (rc = make_indexes(&g, defs, err)) != 0 ||
        (rc = exec_ok(&g, "COMMIT", err)) != 0)
        goto done;
    /* As autovacuum leaves a table at rest: statistics, and the visibility
     * map that lets an index answer a count alone. */
    rc = exec_ok(&g, "VACUUM ANALYZE cases", err);
    if (rc == 0)
        rc = exec_ok(&g, "VACUUM ANALYZE case_event", err);
    if (rc == 0)
        rc = exec_ok(&g, "VACUUM ANALYZE feed", err);
done:
    if (rc != 0 && g.db && PQstatus(g.db) == CONNECTION_OK)
        PQclear(PQexec(g.db, "ROLLBACK"));
    PQclear(defs);
    if (g.db)
        PQfinish(g.db);
    free(g.buf);
    free(g.villages);
    free(g.townships);
    free(g.items);
    free(g.day_seq);
    free(g.day_base);
    if (g.cal)
        sj_calendar_free(g.cal);
    r->secs = now_s() - t0;
    return rc;
}
