/*
 * chaos_check.c - the checker of a chaos run (chaos.h has the contract).
 * It counts rows; it trusts neither the daemons' logs nor the clients'
 * events beyond what the journal recorded:
 *
 *   G1  every journal action with the final result APPLIED has an event
 *       with its message id in PostgreSQL; an action still without a final
 *       result is a loss.
 *   G2  no message id appears in two events; no event or case exists that
 *       no journal saved (system sweep events aside).
 *   G3  every case's history replays through sj_case_apply() from REGISTER
 *       to exactly the status, version and holder the county stores, and
 *       a REFUSED action left no event.
 *   G4  every relay store and every client store holds each case of its
 *       scope as the county has it (status, version, holder), with no local
 *       prediction left, and its feed cursors at the county's last seq.
 *   G1/G2 for attachments: every attachment a station saved (the journal's
 *       T lines and the station store's own rows) reaches the county
 *       exactly once: one attachment row with its id, complete, no part
 *       left, every chunk counted once, the same case, size, chunk count
 *       and SHA-256, and stored bytes of that size whose SHA-256 PostgreSQL
 *       computes equal to the station's; unless the station shows one of its
 *       chunks refused.  No county attachment that no station saved (one
 *       with a saved file's case and hash under another id is a duplicate).
 *
 * Stores are opened read-only while their owners still run (WAL readers).
 *
 * Entry points: chaos_check_run(), chaos_check_clean().
 */
#include "chaos.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "case.h"
#include "hex.h"
#include "identity.h"
#include "sanji.pb-c.h"

#define SHOW_MAX 20

typedef struct jent {
    uint8_t mid[16], cid[16];
    int action, final;
    int events;        /* events in PostgreSQL with this message id */
    int pm_status;     /* processed_message.status (0: none) */
} jent;

typedef struct ccase {
    uint8_t id[16];
    char village[13], holder[13];
    int status, holder_level;
    uint64_t version;
    int item_min_level;
    int present;       /* scratch: seen in the replica being checked */
} ccase;

typedef struct vseq {
    char village[13];
    uint64_t last;
} vseq;

typedef struct checker {
    chaos_net *n;
    PGconn *db;
    chaos_report *r;
    FILE *out;
    jent *j;
    size_t nj, capj;
    ccase *cs;
    size_t ncs;
    vseq *vs;
    size_t nvs;
    unsigned shown[12];
} checker;

static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* Prints a finding, at most SHOW_MAX of each kind. */
static void finding(checker *k, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finding(checker *k, int kind, const char *fmt, ...)
{
    if (!k->out || k->shown[kind]++ >= SHOW_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("  FINDING: ", k->out);
    vfprintf(k->out, fmt, ap);
    fputc('\n', k->out);
    va_end(ap);
}

static void on_journal(const uint8_t mid[16], const uint8_t cid[16], int action, int final,
                       uint64_t version, int code, void *data)
{
    (void)version;
    (void)code;
    checker *k = data;
    if (k->nj == k->capj) {
        k->capj = k->capj ? k->capj * 2 : 4096;
        k->j = realloc(k->j, k->capj * sizeof *k->j);
        if (!k->j)
            abort();
    }
    jent *e = &k->j[k->nj++];
    memset(e, 0, sizeof *e);
    memcpy(e->mid, mid, 16);
    memcpy(e->cid, cid, 16);
    e->action = action;
    e->final = final;
}

static jent *jfind(checker *k, const uint8_t mid[16])
{
    return bsearch(mid, k->j, k->nj, sizeof *k->j, cmp16);
}

static ccase *cfind(checker *k, const uint8_t id[16])
{
    return bsearch(id, k->cs, k->ncs, sizeof *k->cs, cmp16);
}

static PGresult *q(checker *k, const char *sql, sj_error *err)
{
    PGresult *res = PQexec(k->db, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        sj_error_set(err, SJ_EDB, "%s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
        return NULL;
    }
    return res;
}

/* ---- G1, G2: the journal against the events ----------------------------------------- */

static int check_events(checker *k, sj_error *err)
{
    PGresult *res = q(k,
                      "SELECT replace(message_id::text, '-', ''), count(*),"
                      " replace(min(case_id::text), '-', ''), min(action)"
                      " FROM case_event WHERE message_id IS NOT NULL GROUP BY 1",
                      err);
    if (!res)
        return SJ_EDB;
    for (int i = 0; i < PQntuples(res); i++) {
        uint8_t mid[16];
        sj_test_hex16_parse(PQgetvalue(res, i, 0), mid);
        int cnt = atoi(PQgetvalue(res, i, 1));
        jent *e = jfind(k, mid);
        if (!e) {
            k->r->phantom += (uint64_t)cnt;
            finding(k, 0, "event of message %s (case %s, action %s) saved by no client",
                    PQgetvalue(res, i, 0), PQgetvalue(res, i, 2),
                    sj_case_action_name(atoi(PQgetvalue(res, i, 3))));
            continue;
        }
        e->events = cnt;
        uint8_t cid[16];
        sj_test_hex16_parse(PQgetvalue(res, i, 2), cid);
        if (memcmp(cid, e->cid, 16) != 0 || atoi(PQgetvalue(res, i, 3)) != e->action) {
            k->r->phantom++;
            finding(k, 0, "message %s applied to case %s as %s, journal says another case or action",
                    PQgetvalue(res, i, 0), PQgetvalue(res, i, 2),
                    sj_case_action_name(atoi(PQgetvalue(res, i, 3))));
        }
    }
    PQclear(res);

    res = q(k, "SELECT count(*) FROM case_event WHERE message_id IS NULL AND action NOT IN (16, 17, 26)",
            err);
    if (!res)
        return SJ_EDB;
    uint64_t orphans = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (orphans) {
        k->r->phantom += orphans;
        finding(k, 0, "%llu events of persons' actions without a message id",
                (unsigned long long)orphans);
    }

    res = q(k, "SELECT replace(message_id::text, '-', ''), status FROM processed_message", err);
    if (!res)
        return SJ_EDB;
    for (int i = 0; i < PQntuples(res); i++) {
        uint8_t mid[16];
        sj_test_hex16_parse(PQgetvalue(res, i, 0), mid);
        jent *e = jfind(k, mid);
        if (e)
            e->pm_status = atoi(PQgetvalue(res, i, 1));
    }
    PQclear(res);

    for (size_t i = 0; i < k->nj; i++) {
        jent *e = &k->j[i];
        char m[33];
        sj_test_hex16_format(e->mid, m);
        if (e->events > 1) {
            k->r->duplicated++;
            finding(k, 1, "message %s (%s) applied %d times", m, sj_case_action_name(e->action),
                    e->events);
        }
        if (e->final == 'A') {
            if (e->events == 0) {
                k->r->lost++;
                finding(k, 2, "message %s (%s) acknowledged APPLIED but has no event", m,
                        sj_case_action_name(e->action));
            } else if (e->events == 1) {
                k->r->applied_once++;
            }
            if (e->pm_status != 2) {
                k->r->wrong_result++;
                finding(k, 3, "message %s APPLIED at the client, processed_message status %d", m,
                        e->pm_status);
            }
        } else if (e->final == 'R') {
            if (e->events > 0) {
                k->r->wrong_result++;
                finding(k, 3, "message %s (%s) REFUSED at the client but applied in PostgreSQL", m,
                        sj_case_action_name(e->action));
            }
        } else {
            k->r->lost++;
            finding(k, 2, "message %s (%s) saved but never got a final result (%d events, processed %d)",
                    m, sj_case_action_name(e->action), e->events, e->pm_status);
        }
    }
    return 0;
}

/* ---- G3: every history replays to the stored case ---------------------------------------- */

/* The actor of an event: a department's staff act from its desk, whose
 * node id names the department (common/domain/identity.h). */
static sj_actor actor_of(int level, const char *person, const char *unit, const char *node)
{
    sj_actor a;
    memset(&a, 0, sizeof a);
    sj_identity id;
    if (!person || !*person)
        a.role = SJ_ROLE_SYSTEM;
    else if (sj_identity_parse_node_id(node, &id, NULL) == 0 &&
             id.role == SJ_NODE_ROLE_DEPARTMENT_DESK) {
        a.role = SJ_ROLE_DEPARTMENT_STAFF;
        snprintf(a.department, sizeof a.department, "%s", id.name);
    } else {
        a.role = level == 1   ? SJ_ROLE_VILLAGE_CADRE
                 : level == 2 ? SJ_ROLE_TOWNSHIP_STAFF
                              : SJ_ROLE_COUNTY_OPERATOR;
    }
    snprintf(a.unit, sizeof a.unit, "%s", unit);
    return a;
}

/* Splits a 0x1f-joined list in place into ptrs (at most max). */
static size_t split_list(char *s, const char **ptrs, size_t max)
{
    size_t n = 0;
    if (!s || !*s)
        return 0;
    while (n < max) {
        ptrs[n++] = s;
        char *sep = strchr(s, '\x1f');
        if (!sep)
            break;
        *sep = '\0';
        s = sep + 1;
    }
    return n;
}

static void replay_case(checker *k, PGresult *res, int from, int to)
{
    char idhex[33];
    snprintf(idhex, sizeof idhex, "%s", PQgetvalue(res, from, 0));
    uint8_t id[16];
    sj_test_hex16_parse(idhex, id);
    ccase *c = cfind(k, id);
    if (!c) {
        k->r->bad_history++;
        finding(k, 4, "events of case %s, which is not in cases", idhex);
        return;
    }
    /* Materials lists and texts must outlive the replay: copies per event. */
    static const char *mats[64][SJ_CASE_MATERIALS_MAX];
    static char matbuf[64][4096];
    sj_case_outcome out;
    sj_case cur;
    sj_error err;
    memset(&cur, 0, sizeof cur);
    for (int i = from; i < to; i++) {
        int action = atoi(PQgetvalue(res, i, 2));
        sj_actor actor = actor_of(atoi(PQgetvalue(res, i, 4)), PQgetvalue(res, i, 3),
                                  PQgetvalue(res, i, 5), PQgetvalue(res, i, 15));
        int64_t at = strtoll(PQgetvalue(res, i, 6), NULL, 10);
        int rc;
        if (i == from) {
            if (action != SJ_ACTION_REGISTER) {
                k->r->bad_history++;
                finding(k, 4, "case %s: first event is %s", idhex, sj_case_action_name(action));
                return;
            }
            rc = sj_case_register(c->village, (sj_level)c->item_min_level, at, &actor, &out, &err);
        } else {
            int slot = (i - from) % 64;
            snprintf(matbuf[slot], sizeof matbuf[slot], "%s", PQgetvalue(res, i, 11));
            sj_action a = {.type = (sj_case_action)action,
                           .expected_version = cur.version,
                           .at_ms = at,
                           .note = PQgetvalue(res, i, 9),
                           .result = PQgetvalue(res, i, 10),
                           /* 派单 took the code; the event also has the name */
                           .department = action == SJ_ACTION_DISPATCH ? PQgetvalue(res, i, 14)
                                                                      : PQgetvalue(res, i, 13),
                           .satisfaction = (sj_satisfaction)atoi(PQgetvalue(res, i, 12))};
            /* An extension request's days are its event's clock_days. */
            if (a.type == SJ_ACTION_EXTEND_REQUEST)
                a.extend_days = (uint32_t)strtoul(PQgetvalue(res, i, 16), NULL, 10);
            a.n_materials = split_list(matbuf[slot], mats[slot], SJ_CASE_MATERIALS_MAX);
            a.materials = mats[slot];
            rc = sj_case_apply(&cur, &a, &actor, &out, &err);
        }
        if (rc != 0) {
            k->r->bad_history++;
            finding(k, 4, "case %s: event %d (%s by %s) does not replay: %s", idhex, i - from + 1,
                    sj_case_action_name(action), actor.unit, err.message);
            return;
        }
        if ((int)out.events[0].to_status != atoi(PQgetvalue(res, i, 8))) {
            k->r->bad_history++;
            finding(k, 4, "case %s: event %d leads to %s, the county wrote %s", idhex,
                    i - from + 1, sj_case_status_name(out.events[0].to_status),
                    sj_case_status_name(atoi(PQgetvalue(res, i, 8))));
            return;
        }
        cur = out.next;
    }
    if ((int)cur.status != c->status || cur.version != c->version ||
        strcmp(cur.holder_unit, c->holder) != 0) {
        k->r->bad_history++;
        finding(k, 4, "case %s: history gives %s v%llu at %s, the county stores %s v%llu at %s",
                idhex, sj_case_status_name(cur.status), (unsigned long long)cur.version,
                cur.holder_unit, sj_case_status_name(c->status), (unsigned long long)c->version,
                c->holder);
    }
}

static int load_cases(checker *k, sj_error *err)
{
    PGresult *res = q(k,
                      "SELECT replace(case_id::text, '-', ''), village, status, version,"
                      " holder_unit, holder_level, item_min_level FROM cases"
                      " ORDER BY case_id::text",
                      err);
    if (!res)
        return SJ_EDB;
    k->ncs = (size_t)PQntuples(res);
    k->cs = calloc(k->ncs ? k->ncs : 1, sizeof *k->cs);
    for (size_t i = 0; i < k->ncs; i++) {
        ccase *c = &k->cs[i];
        sj_test_hex16_parse(PQgetvalue(res, (int)i, 0), c->id);
        snprintf(c->village, sizeof c->village, "%s", PQgetvalue(res, (int)i, 1));
        c->status = atoi(PQgetvalue(res, (int)i, 2));
        c->version = strtoull(PQgetvalue(res, (int)i, 3), NULL, 10);
        snprintf(c->holder, sizeof c->holder, "%s", PQgetvalue(res, (int)i, 4));
        c->holder_level = atoi(PQgetvalue(res, (int)i, 5));
        c->item_min_level = atoi(PQgetvalue(res, (int)i, 6));
    }
    PQclear(res);
    qsort(k->cs, k->ncs, sizeof *k->cs, cmp16);
    k->r->cases = k->ncs;

    res = q(k, "SELECT village, last_seq FROM feed_counter WHERE last_seq > 0", err);
    if (!res)
        return SJ_EDB;
    k->nvs = (size_t)PQntuples(res);
    k->vs = calloc(k->nvs ? k->nvs : 1, sizeof *k->vs);
    for (size_t i = 0; i < k->nvs; i++) {
        snprintf(k->vs[i].village, 13, "%s", PQgetvalue(res, (int)i, 0));
        k->vs[i].last = strtoull(PQgetvalue(res, (int)i, 1), NULL, 10);
    }
    PQclear(res);

    res = q(k,
            "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_event e"
            " WHERE e.case_id = c.case_id AND e.seq = 1 AND e.action = 1"
            " AND e.message_id IS NOT NULL)",
            err);
    if (!res)
        return SJ_EDB;
    uint64_t bare = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (bare) {
        k->r->phantom += bare;
        finding(k, 0, "%llu cases without a REGISTER event from a client", (unsigned long long)bare);
    }
    return 0;
}

static int check_histories(checker *k, sj_error *err)
{
    PGresult *res = q(k,
                      "SELECT replace(case_id::text, '-', ''), seq, action, actor_person,"
                      " actor_level, actor_unit, at_ms, from_status, to_status, note, result,"
                      " array_to_string(materials, E'\\x1f'), satisfaction, department,"
                      " department_code, actor_node, clock_days FROM case_event ORDER BY case_id, seq",
                      err);
    if (!res)
        return SJ_EDB;
    int nt = PQntuples(res);
    k->r->events = (uint64_t)nt;
    int from = 0;
    for (int i = 1; i <= nt; i++) {
        if (i == nt || strcmp(PQgetvalue(res, i, 0), PQgetvalue(res, from, 0)) != 0) {
            replay_case(k, res, from, i);
            from = i;
        }
    }
    PQclear(res);
    return 0;
}

/* ---- G4: the replicas ----------------------------------------------------------------- */

static bool in_scope(const char *unit, const char *village)
{
    if (strcmp(unit, CHAOS_COUNTY) == 0)
        return true;
    if (strcmp(unit + 9, "000") == 0)
        return strncmp(unit, village, 9) == 0;
    return strcmp(unit, village) == 0;
}

static void check_store(checker *k, const char *path, const char *unit, bool relay)
{
    sqlite3 *db = NULL;
    char uri[PATH_MAX + 32];
    snprintf(uri, sizeof uri, "file:%s?mode=ro", path);
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        k->r->diverged++;
        finding(k, 5, "%s: cannot open %s: %s", unit, path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return;
    }
    /* The store's owner may hold its lock a while on a loaded machine. */
    sqlite3_busy_timeout(db, SJ_TEST_HANG_MS);
    k->r->replicas_checked++;
    for (size_t i = 0; i < k->ncs; i++)
        k->cs[i].present = 0;
    sqlite3_stmt *s = NULL;
    /* A relay's case cache is the file beside its store (docs/RELAY.md
     * "Format 7"); its cursors are in the store. */
    if (relay) {
        snprintf(uri, sizeof uri, "file:%s.cache?mode=ro", path);
        if (sqlite3_prepare_v2(db, "ATTACH DATABASE ? AS cc", -1, &s, NULL) == SQLITE_OK) {
            sqlite3_bind_text(s, 1, uri, -1, SQLITE_STATIC);
            sqlite3_step(s);
        }
        sqlite3_finalize(s);
        s = NULL;
    }
    const char *sql = relay ? "SELECT case_id, snapshot, NULL FROM cc.cases"
                            : "SELECT case_id, snapshot, predicted FROM cases";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        k->r->diverged++;
        finding(k, 5, "%s: %s: %s", unit, path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (sqlite3_column_bytes(s, 0) != 16)
            continue;
        const uint8_t *id = sqlite3_column_blob(s, 0);
        char idhex[33];
        sj_test_hex16_format(id, idhex);
        ccase *c = cfind(k, id);
        if (!c) {
            k->r->phantom++;
            finding(k, 0, "%s holds case %s that the county does not have", unit, idhex);
            continue;
        }
        c->present = 1;
        if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
            k->r->diverged++;
            finding(k, 5, "%s: case %s still has a local prediction", unit, idhex);
        }
        Sanji__Case *snap = NULL;
        if (sqlite3_column_type(s, 1) != SQLITE_NULL)
            snap = sanji__case__unpack(NULL, (size_t)sqlite3_column_bytes(s, 1),
                                       sqlite3_column_blob(s, 1));
        if (!snap) {
            k->r->diverged++;
            finding(k, 5, "%s: case %s has no readable snapshot", unit, idhex);
            continue;
        }
        if ((int)snap->status != c->status || snap->version != c->version ||
            strcmp(snap->holder_unit ? snap->holder_unit : "", c->holder) != 0) {
            k->r->diverged++;
            finding(k, 5, "%s: case %s is %s v%llu at %s, the county has %s v%llu at %s", unit,
                    idhex, sj_case_status_name((sj_case_status)snap->status),
                    (unsigned long long)snap->version, snap->holder_unit,
                    sj_case_status_name(c->status), (unsigned long long)c->version, c->holder);
        }
        sanji__case__free_unpacked(snap, NULL);
    }
    sqlite3_finalize(s);
    /* A county desk holds only the cases it opened or acted on and follows
     * the live feed without cursors (client/sanji_client.c, live_only()):
     * what it holds must equal the county, but it need not hold all. */
    if (!relay && strcmp(unit, CHAOS_COUNTY) == 0) {
        sqlite3_close(db);
        return;
    }
    for (size_t i = 0; i < k->ncs; i++) {
        if (!k->cs[i].present && in_scope(unit, k->cs[i].village)) {
            char idhex[33];
            sj_test_hex16_format(k->cs[i].id, idhex);
            k->r->missing++;
            finding(k, 6, "%s lacks case %s of village %s", unit, idhex, k->cs[i].village);
        }
    }
    /* Cursors: every village in scope with a feed must be caught up. */
    sql = relay ? "SELECT seq FROM cursors WHERE village = ?"
                : "SELECT after_seq FROM cursors WHERE village = ?";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        for (size_t i = 0; i < k->nvs; i++) {
            if (!in_scope(unit, k->vs[i].village))
                continue;
            sqlite3_reset(s);
            sqlite3_bind_text(s, 1, k->vs[i].village, -1, SQLITE_STATIC);
            uint64_t at = 0;
            if (sqlite3_step(s) == SQLITE_ROW)
                at = (uint64_t)sqlite3_column_int64(s, 0);
            if (at != k->vs[i].last) {
                k->r->cursor_behind++;
                finding(k, 7, "%s: cursor of village %s at %llu, the county's feed at %llu", unit,
                        k->vs[i].village, (unsigned long long)at,
                        (unsigned long long)k->vs[i].last);
            }
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
}

/* ---- G1/G2 for attachments ------------------------------------------------------------- */

/* One attachment a station saved: from the journal, its store, or both. */
typedef struct satt {
    uint8_t aid[16], cid[16];
    uint64_t size;
    uint8_t sha[32];
    char unit[13];
    int chunk_count, chunks_applied, code;
    bool journal, store;
    bool noted;        /* already reported lost (not in its station's store) */
    int county;        /* county rows seen with this id */
} satt;

typedef struct attset {
    satt *a;
    size_t n, cap;
} attset;

static satt *att_push(attset *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->a = realloc(s->a, s->cap * sizeof *s->a);
        if (!s->a)
            abort();
    }
    memset(&s->a[s->n], 0, sizeof *s->a);
    return &s->a[s->n++];
}

static void on_journal_attachment(const uint8_t aid[16], const uint8_t cid[16], uint64_t size,
                                  const uint8_t sha[32], const char *unit, void *data)
{
    satt *a = att_push(data);
    memcpy(a->aid, aid, 16);
    memcpy(a->cid, cid, 16);
    memcpy(a->sha, sha, 32);
    a->size = size;
    snprintf(a->unit, sizeof a->unit, "%s", unit);
    a->journal = true;
}

/* The attachments the store at path attached itself (local = 1). */
static void on_attach_store(const char *path, const char *unit, void *data)
{
    attset *s = data;
    sqlite3 *db = NULL;
    char uri[PATH_MAX + 32];
    snprintf(uri, sizeof uri, "file:%s?mode=ro", path);
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, SJ_TEST_HANG_MS);
        if (sqlite3_prepare_v2(db,
                               "SELECT attachment_id, case_id, size, sha256, chunk_count,"
                               " chunks_applied, code FROM attachments WHERE local = 1",
                               -1, &st, NULL) != SQLITE_OK)
            st = NULL;
    }
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != 16 || sqlite3_column_bytes(st, 1) != 16 ||
            sqlite3_column_bytes(st, 3) != 32)
            continue;
        satt *a = att_push(s);
        memcpy(a->aid, sqlite3_column_blob(st, 0), 16);
        memcpy(a->cid, sqlite3_column_blob(st, 1), 16);
        a->size = (uint64_t)sqlite3_column_int64(st, 2);
        memcpy(a->sha, sqlite3_column_blob(st, 3), 32);
        a->chunk_count = sqlite3_column_int(st, 4);
        a->chunks_applied = sqlite3_column_int(st, 5);
        a->code = sqlite3_column_int(st, 6);
        snprintf(a->unit, sizeof a->unit, "%s", unit);
        a->store = true;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void hex32(const uint8_t sha[32], char out[65])
{
    sj_test_hex16_format(sha, out);
    sj_test_hex16_format(sha + 16, out + 32);
}

/* Merges the journal's and the stores' rows of one attachment id into
 * the first of each run (sorted by id); reports what the journal saved
 * but the station's store lacks or holds otherwise. */
static void att_merge(checker *k, attset *s)
{
    qsort(s->a, s->n, sizeof *s->a, cmp16);
    size_t out = 0;
    for (size_t i = 0; i < s->n;) {
        size_t j = i + 1;
        satt m = s->a[i];
        for (; j < s->n && memcmp(s->a[j].aid, m.aid, 16) == 0; j++) {
            const satt *o = &s->a[j];
            const satt *js = o->journal ? o : &m, *ss = o->store ? o : &m;
            if ((o->journal && m.journal) || (o->store && m.store) || js->size != ss->size ||
                memcmp(js->sha, ss->sha, 32) != 0 || memcmp(js->cid, ss->cid, 16) != 0 ||
                strcmp(js->unit, ss->unit) != 0) {
                char id[33];
                sj_test_hex16_format(m.aid, id);
                k->r->attach_wrong++;
                finding(k, 10, "attachment %s: the journal and the store of %s disagree (size, "
                        "SHA-256, case or station), or it is saved twice",
                        id, o->unit);
            }
            if (o->store) {
                m.store = true;
                m.chunk_count = o->chunk_count;
                m.chunks_applied = o->chunks_applied;
                m.code = o->code;
            }
            m.journal = m.journal || o->journal;
        }
        if (m.journal && !m.store) {
            char id[33];
            sj_test_hex16_format(m.aid, id);
            k->r->attach_lost++;
            finding(k, 8, "attachment %s saved at %s is not in the station's store", id, m.unit);
            m.noted = true; /* not counted again below */
        }
        s->a[out++] = m;
        i = j;
    }
    s->n = out;
}

static int check_attachments(checker *k, chaos_load *l, sj_error *err)
{
    attset s = {0};
    chaos_load_attachments(l, on_journal_attachment, &s);
    chaos_load_stores(l, on_attach_store, &s);
    att_merge(k, &s);
    k->r->attach_saved = s.n;
    PGresult *res = q(k,
                      "SELECT replace(a.attachment_id::text, '-', ''), replace(a.case_id::text, '-', ''),"
                      " a.size, encode(a.sha256, 'hex'), a.chunk_count, a.chunks_received, a.complete,"
                      " (SELECT count(*) FROM attachment_part p WHERE p.attachment_id = a.attachment_id),"
                      " length(b.data), encode(sha256(b.data), 'hex')"
                      " FROM attachment a LEFT JOIN attachment_blob b ON b.sha256 = a.sha256",
                      err);
    if (!res) {
        free(s.a);
        return SJ_EDB;
    }
    int nt = PQntuples(res);
    for (int i = 0; i < nt; i++) {
        const char *idhex = PQgetvalue(res, i, 0);
        uint8_t aid[16], cid[16];
        if (!sj_test_hex16_parse(idhex, aid) || !sj_test_hex16_parse(PQgetvalue(res, i, 1), cid))
            continue;
        uint64_t size = strtoull(PQgetvalue(res, i, 2), NULL, 10);
        const char *sha = PQgetvalue(res, i, 3);
        int count = atoi(PQgetvalue(res, i, 4)), received = atoi(PQgetvalue(res, i, 5));
        bool complete = strcmp(PQgetvalue(res, i, 6), "t") == 0;
        long parts = atol(PQgetvalue(res, i, 7));
        bool blob = !PQgetisnull(res, i, 8);
        uint64_t blob_len = blob ? strtoull(PQgetvalue(res, i, 8), NULL, 10) : 0;
        const char *blob_sha = blob ? PQgetvalue(res, i, 9) : "";
        satt *a = bsearch(aid, s.a, s.n, sizeof *s.a, cmp16);
        if (!a) {
            /* Not saved under this id: the same file of the same case saved
             * under another id arrived twice; anything else is a phantom. */
            bool twin = false;
            for (size_t x = 0; x < s.n && !twin; x++) {
                char h[65];
                hex32(s.a[x].sha, h);
                twin = memcmp(s.a[x].cid, cid, 16) == 0 && strcmp(h, sha) == 0;
            }
            if (twin) {
                k->r->attach_duplicated++;
                finding(k, 9, "attachment %s at the county repeats a saved file of the same case"
                        " (SHA-256 %.16s...) under an id no station saved", idhex, sha);
            } else {
                k->r->attach_phantom++;
                finding(k, 11, "attachment %s at the county was saved by no station", idhex);
            }
            continue;
        }
        a->county++;
        char want[65];
        hex32(a->sha, want);
        if (a->noted)
            continue;
        if (a->code != 0) {
            if (complete) {
                k->r->attach_wrong++;
                finding(k, 10, "attachment %s of %s: the station shows a chunk refused (code %d)"
                        " but the county has it complete", idhex, a->unit, a->code);
            }
            continue;
        }
        if (received > count) {
            k->r->attach_duplicated++;
            finding(k, 9, "attachment %s of %s: %d chunks counted at the county, it has %d",
                    idhex, a->unit, received, count);
        } else if (!complete || received != count || parts != 0) {
            k->r->attach_lost++;
            finding(k, 8, "attachment %s saved at %s is not complete at the county (%d of %d"
                    " chunks, %ld parts left)", idhex, a->unit, received, count, parts);
        }
        if (memcmp(a->cid, cid, 16) != 0 || a->size != size || strcmp(want, sha) != 0 ||
            (a->chunk_count && a->chunk_count != count)) {
            k->r->attach_wrong++;
            finding(k, 10, "attachment %s of %s: the county has size %llu, SHA-256 %.16s..., %d"
                    " chunks, the station %llu, %.16s..., %d chunks, or another case",
                    idhex, a->unit, (unsigned long long)size, sha, count,
                    (unsigned long long)a->size, want, a->chunk_count);
        } else if (complete && (!blob || blob_len != a->size || strcmp(blob_sha, want) != 0)) {
            k->r->attach_wrong++;
            finding(k, 10, "attachment %s of %s: the county's stored bytes are %s (%llu bytes,"
                    " SHA-256 %.16s...), the station's %llu bytes, %.16s...", idhex, a->unit,
                    blob ? "unlike the file" : "missing", (unsigned long long)blob_len, blob_sha,
                    (unsigned long long)a->size, want);
        } else if (complete && received == count && parts == 0) {
            if (a->store && a->chunks_applied != a->chunk_count) {
                k->r->attach_wrong++;
                finding(k, 10, "attachment %s: %s counts %d of its %d chunks applied, the county"
                        " has it complete", idhex, a->unit, a->chunks_applied, a->chunk_count);
            } else {
                k->r->attach_once++;
            }
        }
    }
    PQclear(res);
    for (size_t x = 0; x < s.n; x++) {
        satt *a = &s.a[x];
        if (a->noted)
            continue;
        if (a->code != 0) {
            k->r->attach_refused++;
        } else if (a->county == 0) {
            char id[33], h[65];
            sj_test_hex16_format(a->aid, id);
            hex32(a->sha, h);
            k->r->attach_lost++;
            finding(k, 8, "attachment %s saved at %s (%llu bytes, SHA-256 %.16s...) never"
                    " reached the county", id, a->unit, (unsigned long long)a->size, h);
        }
    }
    free(s.a);
    return 0;
}

static void on_store(const char *path, const char *unit, void *data)
{
    check_store(data, path, unit, false);
}

int chaos_check_run(chaos_net *n, chaos_load *l, chaos_report *r, FILE *out, sj_error *err)
{
    checker k = {.n = n, .r = r, .out = out};
    memset(r, 0, sizeof *r);
    k.db = PQconnectdb(n->conninfo);
    if (PQstatus(k.db) != CONNECTION_OK) {
        int rc = sj_error_set(err, SJ_EDB_CONN, "%s: %s", n->conninfo, PQerrorMessage(k.db));
        PQfinish(k.db);
        return rc;
    }
    chaos_load_journal(l, on_journal, &k);
    qsort(k.j, k.nj, sizeof *k.j, cmp16);
    r->journal = k.nj;
    int rc = check_events(&k, err);
    if (rc == 0)
        rc = load_cases(&k, err);
    if (rc == 0)
        rc = check_histories(&k, err);
    if (rc == 0) {
        for (int t = 0; t < n->n_townships; t++) {
            char path[PATH_MAX + 64];
            snprintf(path, sizeof path, "%s/stores/relay-%s.db", n->dir, n->township[t]);
            check_store(&k, path, n->township[t], true);
        }
        chaos_load_stores(l, on_store, &k);
    }
    if (rc == 0)
        rc = check_attachments(&k, l, err);
    PQfinish(k.db);
    free(k.j);
    free(k.cs);
    free(k.vs);
    return rc;
}

bool chaos_check_clean(const chaos_report *r)
{
    return r->lost == 0 && r->duplicated == 0 && r->phantom == 0 && r->wrong_result == 0 &&
           r->bad_history == 0 && r->diverged == 0 && r->missing == 0 && r->cursor_behind == 0 &&
           r->attach_lost == 0 && r->attach_duplicated == 0 && r->attach_wrong == 0 &&
           r->attach_phantom == 0;
}
