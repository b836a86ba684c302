/*
 * store.c - the client's local SQLite store (outbox, case cache, history,
 * feed cursors, reference data).  See store.h for the contract.
 *
 * Entry points: the sc_store_* functions of store.h.
 */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "case_search.h"
#include "feed_cursor.h"
#include "frame.h"
#include "sqlstore.h"
#include "uuid.h"

#define APP_MARK "sanji-client"

struct sc_store {
    sqlite3 *db;
    char path[1024];
};

static int db_fail(sc_store *st, sj_error *err, const char *what)
{
    return sj_error_set(err, SJ_EDB, "本地存储出错（%s）：%s / local store error (%s): %s", what,
                        sqlite3_errmsg(st->db), what, sqlite3_errmsg(st->db));
}

static int exec(sc_store *st, const char *sql, sj_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sj_error_set(err, SJ_EDB, "本地存储出错：%s / local store error: %s", msg ? msg : "?",
                     msg ? msg : "?");
        sqlite3_free(msg);
        return SJ_EDB;
    }
    return 0;
}

static int prep(sc_store *st, const char *sql, sqlite3_stmt **s, sj_error *err)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
        return db_fail(st, err, "prepare");
    return 0;
}

static void copy_blob16(sqlite3_stmt *s, int i, uint8_t out[16])
{
    memset(out, 0, 16);
    if (sqlite3_column_bytes(s, i) == 16)
        memcpy(out, sqlite3_column_blob(s, i), 16);
}

/* The case cache: the search columns (common/domain/case_search.h) before the
 * snapshots, which are read only for the rows a page shows. */
#define CASES_SQL                                                                                 \
    "CREATE TABLE cases ("                                                                        \
    " case_id BLOB PRIMARY KEY,"                                                                  \
    " number TEXT NOT NULL DEFAULT '',"                                                           \
    " version INTEGER NOT NULL DEFAULT 0,"                                                        \
    " registered_at_ms INTEGER NOT NULL DEFAULT 0,"                                               \
    " village TEXT NOT NULL DEFAULT ''" SJ_CASE_SEARCH_COLUMNS_SQL                                \
    " snapshot BLOB,"                                                                             \
    " predicted BLOB);"                                                                           \
    "CREATE INDEX cases_number ON cases(number);"                                                 \
    "CREATE INDEX cases_village ON cases(village, registered_at_ms);" SJ_CASE_SEARCH_INDEXES_SQL

/* Attachments (schema 4): those attached here, with their data and how
 * many of their chunks the county has recorded, and those fetched from the
 * county (data only once fetched).  The chunks themselves wait in the
 * outbox like every upward message (action SC_OUTBOX_CHUNK). */
#define ATTACH_SQL                                                                                \
    "CREATE TABLE attachments ("                                                                  \
    " attachment_id BLOB PRIMARY KEY,"                                                            \
    " case_id BLOB NOT NULL,"                                                                     \
    " name TEXT NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL, sha256 BLOB NOT NULL,"       \
    " material TEXT NOT NULL DEFAULT '', actor_person TEXT NOT NULL DEFAULT '',"                  \
    " attached_at_ms INTEGER NOT NULL DEFAULT 0, chunk_count INTEGER NOT NULL,"                   \
    " chunks_applied INTEGER NOT NULL DEFAULT 0, code INTEGER NOT NULL DEFAULT 0,"                \
    " reason TEXT NOT NULL DEFAULT '', local INTEGER NOT NULL DEFAULT 0, data BLOB);"             \
    "CREATE INDEX attachments_case ON attachments(case_id);"

static const char SCHEMA[] =
    "CREATE TABLE outbox ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " message_id BLOB NOT NULL UNIQUE,"
    " case_id BLOB NOT NULL,"
    " action INTEGER NOT NULL,"
    " payload BLOB NOT NULL,"
    " state INTEGER NOT NULL,"
    " code INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL DEFAULT '',"
    " case_number TEXT NOT NULL DEFAULT '',"
    " case_version INTEGER NOT NULL DEFAULT 0,"
    " saved_at_ms INTEGER NOT NULL,"
    " stored_at_ms INTEGER NOT NULL DEFAULT 0,"
    " final_at_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX outbox_case ON outbox(case_id, state);"
    CASES_SQL
    "CREATE TABLE events ("
    " case_id BLOB NOT NULL, seq INTEGER NOT NULL, event BLOB NOT NULL,"
    " PRIMARY KEY (case_id, seq));"
    "CREATE TABLE cursors (village TEXT PRIMARY KEY, after_seq INTEGER NOT NULL);"
    "CREATE TABLE refdata (kind TEXT PRIMARY KEY, version INTEGER NOT NULL, data BLOB NOT NULL);"
    ATTACH_SQL;

/* The meta table ("app", "schema", "node"), the start-up checks and the
 * creation are common/sqlstore's; this is what makes it a client store.
 * Older schemas open and are upgraded (upgrade()). */
static const sj_sqlstore_spec STORE_SPEC = {
    .kind_zh = "本地存储",
    .kind_en = "client store",
    .program = "sanji",
    .marker = APP_MARK,
    .format_version = SC_STORE_SCHEMA,
    .accept_older = true,
    .full_check = false,
    .key_marker = "app",
    .key_version = "schema",
    .key_node = "node",
    .schema = SCHEMA,
    .damaged_zh = "程序不会自动重置它；请联系乡镇管理员，保留该文件以便恢复",
    .damaged_en = "It was not reset; keep it for recovery and ask the township administrator",
};

static int reindex(sc_store *st, const uint8_t case_id[16], sj_error *err);

/* Schema 1 -> 2: the search columns and indexes of the case cache
 * (common/domain/case_search.h), filled from every cached case, in one
 * transaction: a crash leaves the store at schema 1, upgraded again on the
 * next start.  2 -> 3: the same rebuild adds the assignment columns
 * (assignee, carrier: 我的事项).  3 -> 4: the attachments table. */
static int upgrade(sc_store *st, int from, sj_error *err)
{
    int rc = sc_store_begin(st, err);
    if (rc != 0)
        return rc;
    if (from < 3)
        rc = sj_case_search_rebuild(st->db, CASES_SQL,
                                    "case_id, number, version, registered_at_ms, snapshot, predicted",
                                    "coalesce(predicted, snapshot)", err);
    if (rc == 0 && from < 4)
        rc = exec(st, ATTACH_SQL, err);
    if (rc == 0) {
        char v[16];
        snprintf(v, sizeof(v), "%d", SC_STORE_SCHEMA);
        rc = sc_store_meta_set(st, "schema", v, err);
    }
    if (rc == 0)
        rc = sc_store_commit(st, err);
    if (rc != 0)
        sc_store_rollback(st);
    return rc;
}

int sc_store_open(const char *path, const char *node_id, sc_store **out, sj_error *err)
{
    *out = NULL;
    if (!path || !*path || !node_id || !*node_id)
        return sj_error_set(err, SJ_EINVAL, "store path and node id are required");
    sc_store *st = calloc(1, sizeof(*st));
    if (!st)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    snprintf(st->path, sizeof(st->path), "%s", path);
    sj_sqlstore_info info;
    int rc = sj_sqlstore_open(path, &STORE_SPEC, node_id, false, &st->db, &info, err);
    if (rc != 0 || (rc = exec(st, "PRAGMA foreign_keys=ON", err)) != 0)
        goto fail;
    if (info.format_version < SC_STORE_SCHEMA && (rc = upgrade(st, (int)info.format_version, err)) != 0)
        goto fail;
    /* Final rows are history only; prune the old ones. */
    {
        sqlite3_stmt *s = NULL;
        if ((rc = prep(st, "DELETE FROM outbox WHERE state >= 3 AND final_at_ms < ?", &s, err)) != 0)
            goto fail;
        int64_t keep = (int64_t)SC_STORE_FINAL_KEEP_DAYS * 86400000;
        sqlite3_int64 cutoff = 0;
        {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            cutoff = (sqlite3_int64)ts.tv_sec * 1000 - keep;
        }
        sqlite3_bind_int64(s, 1, cutoff);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    *out = st;
    return 0;
fail:
    sqlite3_close(st->db);
    free(st);
    return rc;
}

void sc_store_close(sc_store *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st);
}

int sc_store_begin(sc_store *st, sj_error *err)
{
    return exec(st, "BEGIN IMMEDIATE", err);
}

int sc_store_commit(sc_store *st, sj_error *err)
{
    return exec(st, "COMMIT", err);
}

void sc_store_rollback(sc_store *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- outbox ------------------------------------------------------------ */

int sc_store_outbox_add(sc_store *st, const uint8_t message_id[16], const uint8_t case_id[16],
                        int action, const uint8_t *payload, size_t len, int64_t now_ms,
                        sj_error *err)
{
    sqlite3_stmt *s = NULL;
    if (prep(st,
             "INSERT INTO outbox (message_id, case_id, action, payload, state, saved_at_ms) "
             "VALUES (?, ?, ?, ?, 1, ?)",
             &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, message_id, 16, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, case_id, 16, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, action);
    sqlite3_bind_blob(s, 4, payload, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now_ms);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc == SQLITE_CONSTRAINT)
        return sj_error_set(err, SJ_EEXISTS, "message already in the outbox");
    if (rc == SQLITE_FULL)
        return sj_error_set(err, SJ_EQUOTA,
                            "磁盘已满，本次操作未保存，已保存的内容不受影响 / disk full: not saved");
    if (rc != SQLITE_DONE)
        return db_fail(st, err, "outbox insert");
    return 0;
}

int sc_store_outbox_mark(sc_store *st, const uint8_t message_id[16], sc_out_state state, int code,
                         const char *reason, const char *case_number, uint64_t case_version,
                         int64_t now_ms, bool *changed, sj_error *err)
{
    if (changed)
        *changed = false;
    sqlite3_stmt *s = NULL;
    if (prep(st, "SELECT state FROM outbox WHERE message_id = ?", &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, message_id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int cur = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
        return sj_error_set(err, SJ_ENOTFOUND, "no such message in the outbox");
    if (rc != SQLITE_ROW)
        return db_fail(st, err, "outbox read");
    /* Forward only; a final state is never replaced. */
    if ((int)state <= cur || cur >= SC_OUT_APPLIED)
        return 0;
    const char *sql =
        state == SC_OUT_STORED
            ? "UPDATE outbox SET state = ?, code = ?, reason = ?, "
              "case_number = CASE WHEN ? = '' THEN case_number ELSE ? END, "
              "case_version = ?, stored_at_ms = ? WHERE message_id = ?"
            : "UPDATE outbox SET state = ?, code = ?, reason = ?, "
              "case_number = CASE WHEN ? = '' THEN case_number ELSE ? END, "
              "case_version = ?, final_at_ms = ?, "
              "stored_at_ms = CASE WHEN stored_at_ms = 0 THEN ? ELSE stored_at_ms END "
              "WHERE message_id = ?";
    if (prep(st, sql, &s, err) != 0)
        return SJ_EDB;
    int i = 1;
    sqlite3_bind_int(s, i++, (int)state);
    sqlite3_bind_int(s, i++, code);
    sqlite3_bind_text(s, i++, reason ? reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, case_number ? case_number : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, case_number ? case_number : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)case_version);
    sqlite3_bind_int64(s, i++, now_ms);
    if (state != SC_OUT_STORED)
        sqlite3_bind_int64(s, i++, now_ms);
    sqlite3_bind_blob(s, i++, message_id, 16, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return db_fail(st, err, "outbox update");
    if (changed)
        *changed = true;
    return 0;
}

static char *dup_col(sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    return strdup(t ? t : "");
}

static int outbox_query_cols(sc_store *st, const char *where, const uint8_t *id, bool payload,
                             sc_outbox_entry **out, size_t *n, sj_error *err)
{
    *out = NULL;
    *n = 0;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT seq, message_id, case_id, action, state, code, reason, case_number, "
             "case_version, saved_at_ms, stored_at_ms, final_at_ms, %s FROM outbox %s "
             "ORDER BY seq",
             payload ? "payload" : "x''", where);
    sqlite3_stmt *s = NULL;
    if (prep(st, sql, &s, err) != 0)
        return SJ_EDB;
    if (id)
        sqlite3_bind_blob(s, 1, id, 16, SQLITE_STATIC);
    size_t cap = 0;
    sc_outbox_entry *v = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            sc_outbox_entry *nv = realloc(v, cap * sizeof(*v));
            if (!nv)
                goto nomem;
            v = nv;
        }
        sc_outbox_entry *e = &v[*n];
        memset(e, 0, sizeof(*e));
        (*n)++;
        e->seq = sqlite3_column_int64(s, 0);
        copy_blob16(s, 1, e->message_id);
        copy_blob16(s, 2, e->case_id);
        e->action = sqlite3_column_int(s, 3);
        e->state = (sc_out_state)sqlite3_column_int(s, 4);
        e->code = sqlite3_column_int(s, 5);
        e->reason = dup_col(s, 6);
        e->case_number = dup_col(s, 7);
        e->case_version = (uint64_t)sqlite3_column_int64(s, 8);
        e->saved_at_ms = sqlite3_column_int64(s, 9);
        e->stored_at_ms = sqlite3_column_int64(s, 10);
        e->final_at_ms = sqlite3_column_int64(s, 11);
        e->payload_len = (size_t)sqlite3_column_bytes(s, 12);
        e->payload = malloc(e->payload_len ? e->payload_len : 1);
        if (!e->reason || !e->case_number || !e->payload)
            goto nomem;
        if (e->payload_len)
            memcpy(e->payload, sqlite3_column_blob(s, 12), e->payload_len);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        sc_store_outbox_free(v, *n);
        *n = 0;
        return db_fail(st, err, "outbox list");
    }
    *out = v;
    return 0;
nomem:
    sqlite3_finalize(s);
    sc_store_outbox_free(v, *n);
    *n = 0;
    return sj_error_set(err, SJ_ENOMEM, NULL);
}

static int outbox_query(sc_store *st, const char *where, const uint8_t *id, sc_outbox_entry **out,
                        size_t *n, sj_error *err)
{
    return outbox_query_cols(st, where, id, true, out, n, err);
}

int sc_store_outbox_pending(sc_store *st, sc_outbox_entry **out, size_t *n, sj_error *err)
{
    return outbox_query_cols(st, "WHERE state <= 2", NULL, false, out, n, err);
}

int sc_store_outbox_list(sc_store *st, bool unfinished_only, sc_outbox_entry **out, size_t *n,
                         sj_error *err)
{
    return outbox_query(st, unfinished_only ? "WHERE state <= 2" : "", NULL, out, n, err);
}

int sc_store_outbox_get(sc_store *st, const uint8_t message_id[16], sc_outbox_entry **out,
                        sj_error *err)
{
    size_t n = 0;
    int rc = outbox_query(st, "WHERE message_id = ?", message_id, out, &n, err);
    if (rc == 0 && n == 0)
        return sj_error_set(err, SJ_ENOTFOUND, "no such message in the outbox");
    return rc;
}

void sc_store_outbox_free(sc_outbox_entry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(entries[i].reason);
        free(entries[i].case_number);
        free(entries[i].payload);
    }
    free(entries);
}

int sc_store_outbox_counts(sc_store *st, sc_outbox_counts *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *s = NULL;
    if (prep(st, "SELECT state, count(*), min(saved_at_ms) FROM outbox GROUP BY state", &s,
             err) != 0)
        return SJ_EDB;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        unsigned cnt = (unsigned)sqlite3_column_int(s, 1);
        int64_t oldest = sqlite3_column_int64(s, 2);
        switch (sqlite3_column_int(s, 0)) {
        case SC_OUT_SAVED: out->saved = cnt; break;
        case SC_OUT_STORED: out->stored = cnt; break;
        case SC_OUT_APPLIED: out->applied = cnt; break;
        case SC_OUT_REFUSED: out->refused = cnt; break;
        default: continue;
        }
        int st_ = sqlite3_column_int(s, 0);
        if (st_ <= SC_OUT_STORED &&
            (out->oldest_unfinished_ms == 0 || oldest < out->oldest_unfinished_ms))
            out->oldest_unfinished_ms = oldest;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(st, err, "outbox counts");
}

unsigned sc_store_outbox_unfinished_for_case(sc_store *st, const uint8_t case_id[16])
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM outbox WHERE case_id = ? AND state <= 2"
                           " AND action <> " SC_OUTBOX_CHUNK_TEXT,
                           -1, &s, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    unsigned n = sqlite3_step(s) == SQLITE_ROW ? (unsigned)sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    return n;
}

unsigned sc_store_case_prediction_needed(sc_store *st, const uint8_t case_id[16])
{
    /* An applied row whose version the cached county snapshot has not
     * reached yet still needs the prediction: the Ack comes before the feed
     * update, and dropping the prediction at the Ack would show (and check
     * the next action against) the case as it was before this station's own
     * applied action. */
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT count(*) FROM outbox o WHERE o.case_id = ?1 AND o.action <> " SC_OUTBOX_CHUNK_TEXT " AND (o.state <= 2 OR "
                           "(o.state = 3 AND o.case_version > coalesce((SELECT c.version FROM cases c "
                           "WHERE c.case_id = ?1 AND c.snapshot IS NOT NULL), 0)))",
                           -1, &s, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    unsigned n = sqlite3_step(s) == SQLITE_ROW ? (unsigned)sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    return n;
}

/* ---- cases ------------------------------------------------------------- */

static int pack_msg(const ProtobufCMessage *m, uint8_t **buf, size_t *len, sj_error *err)
{
    *len = protobuf_c_message_get_packed_size(m);
    *buf = malloc(*len ? *len : 1);
    if (!*buf)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    protobuf_c_message_pack(m, *buf);
    return 0;
}

int sc_store_case_put(sc_store *st, const Sanji__Case *c, sj_error *err)
{
    if (!c || c->case_id.len != 16)
        return sj_error_set(err, SJ_EFRAME_BAD_FIELD, "case snapshot without a 16-byte id");
    uint8_t *buf = NULL;
    size_t len = 0;
    if (pack_msg(&c->base, &buf, &len, err) != 0)
        return SJ_ENOMEM;
    sqlite3_stmt *s = NULL;
    int rc = prep(st,
                  "INSERT INTO cases (case_id, number, version, registered_at_ms, snapshot) "
                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(case_id) DO UPDATE SET "
                  "number = CASE WHEN excluded.number = '' THEN number ELSE excluded.number END, "
                  "version = excluded.version, registered_at_ms = excluded.registered_at_ms, "
                  "snapshot = excluded.snapshot "
                  "WHERE cases.snapshot IS NULL OR excluded.version >= cases.version",
                  &s, err);
    if (rc == 0) {
        sqlite3_bind_blob(s, 1, c->case_id.data, 16, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, c->number ? c->number : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)c->version);
        sqlite3_bind_int64(s, 4, c->registered_at_ms);
        sqlite3_bind_blob(s, 5, buf, (int)len, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "case put");
        sqlite3_finalize(s);
    }
    free(buf);
    if (rc == 0 && sc_store_case_prediction_needed(st, c->case_id.data) == 0)
        rc = sc_store_case_put_predicted(st, c->case_id.data, NULL, err);
    else if (rc == 0)
        rc = reindex(st, c->case_id.data, err);
    return rc;
}

int sc_store_case_put_predicted(sc_store *st, const uint8_t case_id[16], const Sanji__Case *c,
                                sj_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (c && pack_msg(&c->base, &buf, &len, err) != 0)
        return SJ_ENOMEM;
    sqlite3_stmt *s = NULL;
    int rc;
    if (c)
        rc = prep(st,
                  "INSERT INTO cases (case_id, number, registered_at_ms, predicted) "
                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(case_id) DO UPDATE SET "
                  "predicted = excluded.predicted",
                  &s, err);
    else
        rc = prep(st, "UPDATE cases SET predicted = NULL WHERE case_id = ?1", &s, err);
    if (rc == 0) {
        sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
        if (c) {
            sqlite3_bind_text(s, 2, c->number ? c->number : "", -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 3, c->registered_at_ms);
            sqlite3_bind_blob(s, 4, buf, (int)len, SQLITE_STATIC);
        }
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "case predict");
        sqlite3_finalize(s);
    }
    free(buf);
    /* A case known only from its own refused or dropped registration has
     * nothing left to show. */
    if (rc == 0 && !c &&
        prep(st, "DELETE FROM cases WHERE case_id = ?1 AND snapshot IS NULL AND predicted IS NULL",
             &s, err) == 0) {
        sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "case drop");
        sqlite3_finalize(s);
    }
    if (rc == 0)
        rc = reindex(st, case_id, err);
    return rc;
}

static Sanji__Case *unpack_case_col(sqlite3_stmt *s, int i)
{
    const void *b = sqlite3_column_blob(s, i);
    int n = sqlite3_column_bytes(s, i);
    if (!b)
        return NULL;
    return sanji__case__unpack(NULL, (size_t)n, b);
}

/* The search columns follow the case as readers see it (predicted if
 * any, else the county's).  A row that is gone or does not decode changes
 * nothing. */
static int reindex(sc_store *st, const uint8_t case_id[16], sj_error *err)
{
    sqlite3_stmt *s = NULL;
    if (prep(st, "SELECT coalesce(predicted, snapshot) FROM cases WHERE case_id = ?", &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    int step = sqlite3_step(s);
    Sanji__Case *c = step == SQLITE_ROW ? unpack_case_col(s, 0) : NULL;
    sqlite3_finalize(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return db_fail(st, err, "case index");
    int rc = c ? sj_case_search_index(st->db, c, err) : 0;
    if (c)
        sanji__case__free_unpacked(c, NULL);
    return rc;
}

int sc_store_case_get(sc_store *st, const uint8_t case_id[16], Sanji__Case **out,
                      bool *predicted, sj_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = NULL;
    if (prep(st, "SELECT predicted IS NOT NULL, coalesce(predicted, snapshot) FROM cases "
                 "WHERE case_id = ?",
             &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        if (predicted)
            *predicted = sqlite3_column_int(s, 0) != 0;
        *out = unpack_case_col(s, 1);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
        return sj_error_set(err, SJ_ENOTFOUND, "case not in the local cache");
    if (rc != SQLITE_ROW)
        return db_fail(st, err, "case get");
    if (!*out)
        return sj_error_set(err, SJ_ESTORE_CORRUPT, "本地缓存中的事项记录已损坏 / cached case is damaged");
    return 0;
}

int sc_store_case_snapshot(sc_store *st, const uint8_t case_id[16], Sanji__Case **out,
                           sj_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = NULL;
    if (prep(st, "SELECT snapshot FROM cases WHERE case_id = ? AND snapshot IS NOT NULL", &s,
             err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = unpack_case_col(s, 0);
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
        return sj_error_set(err, SJ_ENOTFOUND, "no county snapshot of the case in the local cache");
    if (rc != SQLITE_ROW)
        return db_fail(st, err, "case snapshot");
    if (!*out)
        return sj_error_set(err, SJ_ESTORE_CORRUPT, "本地缓存中的事项记录已损坏 / cached case is damaged");
    return 0;
}

int sc_store_case_find(sc_store *st, const char *ref, uint8_t case_id[16], sj_error *err)
{
    if (!ref || !*ref)
        return sj_error_set(err, SJ_EINVAL, "empty case reference");
    uint8_t id[16];
    sqlite3_stmt *s = NULL;
    int rc;
    if (sj_uuid_parse(ref, id, NULL) == 0) {
        if (prep(st, "SELECT case_id FROM cases WHERE case_id = ?", &s, err) != 0)
            return SJ_EDB;
        sqlite3_bind_blob(s, 1, id, 16, SQLITE_TRANSIENT);
    } else {
        /* The county's number reaches the outbox with the Ack, before the
         * feed brings the case under it: a station may act on a case by the
         * number `sanji register` has just printed. */
        if (prep(st,
                 "SELECT case_id FROM cases WHERE number = ?1 UNION ALL "
                 "SELECT o.case_id FROM outbox o JOIN cases c ON c.case_id = o.case_id "
                 "WHERE o.case_number = ?1 LIMIT 1",
                 &s, err) != 0)
            return SJ_EDB;
        sqlite3_bind_text(s, 1, ref, -1, SQLITE_TRANSIENT);
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        copy_blob16(s, 0, case_id);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return sj_error_set(err, SJ_EUNKNOWN_CASE, "no case %s in the local cache", ref);
    return db_fail(st, err, "case find");
}

/* Steps s and collects the message of column 0 of every row, unpacked as
 * d, into a growing array (*out, *n).  A row that does not unpack is
 * skipped: a damaged row must not hide the others from a list.  Finalizes
 * s; on failure nothing is left allocated. */
static int collect_msgs(sc_store *st, sqlite3_stmt *s, const ProtobufCMessageDescriptor *d,
                        ProtobufCMessage ***out, size_t *n, const char *what, sj_error *err)
{
    size_t cap = 0;
    ProtobufCMessage **v = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(s, 0);
        ProtobufCMessage *m =
            b ? protobuf_c_message_unpack(d, NULL, (size_t)sqlite3_column_bytes(s, 0), b) : NULL;
        if (!m)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            ProtobufCMessage **nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                protobuf_c_message_free_unpacked(m, NULL);
                rc = SQLITE_NOMEM;
                break;
            }
            v = nv;
        }
        v[(*n)++] = m;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < *n; i++)
            protobuf_c_message_free_unpacked(v[i], NULL);
        free(v);
        *n = 0;
        return rc == SQLITE_NOMEM ? sj_error_set(err, SJ_ENOMEM, NULL) : db_fail(st, err, what);
    }
    *out = v;
    return 0;
}

int sc_store_case_list(sc_store *st, Sanji__Case ***out, size_t *n, sj_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = NULL;
    if (prep(st, "SELECT coalesce(predicted, snapshot) FROM cases "
                 "ORDER BY registered_at_ms DESC, case_id DESC",
             &s, err) != 0)
        return SJ_EDB;
    return collect_msgs(st, s, &sanji__case__descriptor, (ProtobufCMessage ***)out, n, "case list", err);
}

typedef struct search_rows {
    Sanji__Case **v;
    size_t n, cap;
} search_rows;

static int search_row(void *arg, const void *blob, size_t len)
{
    search_rows *r = arg;
    Sanji__Case *c = sanji__case__unpack(NULL, len, blob);
    if (!c)
        return 0; /* a damaged row must not hide the others */
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        Sanji__Case **nv = realloc(r->v, cap * sizeof(*nv));
        if (!nv) {
            sanji__case__free_unpacked(c, NULL);
            return SJ_ENOMEM;
        }
        r->v = nv;
        r->cap = cap;
    }
    r->v[r->n++] = c;
    return 0;
}

int sc_store_case_search(sc_store *st, const Sanji__CaseListQuery *q,
                         const sj_case_search_viewer *viewer, Sanji__Case ***out, size_t *n,
                         uint32_t *total, bool *capped, sj_error *err)
{
    *out = NULL;
    *n = 0;
    search_rows r = {0};
    int rc = sj_case_search_run(st->db, "coalesce(predicted, snapshot)", q, viewer, search_row, &r,
                                total, capped, err);
    if (rc != 0) {
        sc_store_cases_free(r.v, r.n);
        return rc == SJ_ENOMEM ? sj_error_set(err, SJ_ENOMEM, NULL) : rc;
    }
    *out = r.v;
    *n = r.n;
    return 0;
}

void sc_store_cases_free(Sanji__Case **cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sanji__case__free_unpacked(cases[i], NULL);
    free(cases);
}

/* ---- history ----------------------------------------------------------- */

int sc_store_event_put(sc_store *st, const Sanji__CaseEvent *ev, sj_error *err)
{
    if (!ev || ev->case_id.len != 16 || ev->seq == 0)
        return sj_error_set(err, SJ_EFRAME_BAD_FIELD, "case event without id or seq");
    uint8_t *buf = NULL;
    size_t len = 0;
    if (pack_msg(&ev->base, &buf, &len, err) != 0)
        return SJ_ENOMEM;
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "INSERT OR REPLACE INTO events (case_id, seq, event) VALUES (?, ?, ?)", &s,
                  err);
    if (rc == 0) {
        sqlite3_bind_blob(s, 1, ev->case_id.data, 16, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, ev->seq);
        sqlite3_bind_blob(s, 3, buf, (int)len, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "event put");
        sqlite3_finalize(s);
    }
    free(buf);
    return rc;
}

int sc_store_events_get(sc_store *st, const uint8_t case_id[16], Sanji__CaseEvent ***out,
                        size_t *n, sj_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = NULL;
    if (prep(st, "SELECT event FROM events WHERE case_id = ? ORDER BY seq", &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    return collect_msgs(st, s, &sanji__case_event__descriptor, (ProtobufCMessage ***)out, n, "events get",
                        err);
}

void sc_store_events_free(Sanji__CaseEvent **events, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sanji__case_event__free_unpacked(events[i], NULL);
    free(events);
}

/* ---- feed -------------------------------------------------------------- */

static uint64_t cursor_of(sc_store *st, const char *village)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT after_seq FROM cursors WHERE village = ?", -1, &s,
                           NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(s, 1, village, -1, SQLITE_STATIC);
    uint64_t v = sqlite3_step(s) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return v;
}

uint64_t sc_store_cursor(sc_store *st, const char *village)
{
    return cursor_of(st, village);
}

int sc_store_feed_apply(sc_store *st, const Sanji__FeedUpdate *u, sc_feed_result *result,
                        sj_error *err)
{
    if (!u->village || strlen(u->village) != 12 || u->seq == 0 || !u->snapshot)
        return sj_error_set(err, SJ_EFRAME_BAD_FIELD,
                            "feed update without village, seq or snapshot");
    if (sc_store_begin(st, err) != 0)
        return SJ_EDB;
    switch (sj_feed_cursor_step(cursor_of(st, u->village), u->seq)) {
    case SJ_FEED_DUPLICATE:
        *result = SC_FEED_DUPLICATE;
        sc_store_rollback(st);
        return 0;
    case SJ_FEED_GAP:
        *result = SC_FEED_GAP;
        sc_store_rollback(st);
        return 0;
    case SJ_FEED_APPLY:
        break;
    }
    int rc = sc_store_case_put(st, u->snapshot, err);
    if (rc == 0 && u->event && u->event->case_id.len == 16 && u->event->seq > 0)
        rc = sc_store_event_put(st, u->event, err);
    if (rc == 0) {
        sqlite3_stmt *s = NULL;
        rc = prep(st, "INSERT OR REPLACE INTO cursors (village, after_seq) VALUES (?, ?)", &s,
                  err);
        if (rc == 0) {
            sqlite3_bind_text(s, 1, u->village, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, (sqlite3_int64)u->seq);
            rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "cursor");
            sqlite3_finalize(s);
        }
    }
    if (rc == 0)
        rc = sc_store_commit(st, err);
    if (rc != 0) {
        sc_store_rollback(st);
        return rc;
    }
    *result = SC_FEED_STORED;
    return 0;
}

int sc_store_cursors(sc_store *st, sc_cursor **out, size_t *n, sj_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = NULL;
    if (prep(st, "SELECT village, after_seq FROM cursors ORDER BY village", &s, err) != 0)
        return SJ_EDB;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            sc_cursor *nv = realloc(*out, cap * sizeof(**out));
            if (!nv) {
                sqlite3_finalize(s);
                free(*out);
                *out = NULL;
                *n = 0;
                return sj_error_set(err, SJ_ENOMEM, NULL);
            }
            *out = nv;
        }
        const char *v = (const char *)sqlite3_column_text(s, 0);
        snprintf((*out)[*n].village, sizeof((*out)[*n].village), "%s", v ? v : "");
        (*out)[*n].after_seq = (uint64_t)sqlite3_column_int64(s, 1);
        (*n)++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return db_fail(st, err, "cursors");
    }
    return 0;
}

/* ---- reference data and settings -------------------------------------- */

int sc_store_ref_put(sc_store *st, const char *kind, uint64_t version, const uint8_t *data,
                     size_t len, sj_error *err)
{
    sqlite3_stmt *s = NULL;
    if (prep(st, "INSERT OR REPLACE INTO refdata (kind, version, data) VALUES (?, ?, ?)", &s,
             err) != 0)
        return SJ_EDB;
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)version);
    sqlite3_bind_blob(s, 3, data ? (const void *)data : "", (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "refdata put");
    sqlite3_finalize(s);
    return rc;
}

int sc_store_ref_get(sc_store *st, const char *kind, uint64_t *version, uint8_t **data,
                     size_t *len, sj_error *err)
{
    *version = 0;
    *data = NULL;
    *len = 0;
    sqlite3_stmt *s = NULL;
    if (prep(st, "SELECT version, data FROM refdata WHERE kind = ?", &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *version = (uint64_t)sqlite3_column_int64(s, 0);
        *len = (size_t)sqlite3_column_bytes(s, 1);
        *data = malloc(*len ? *len : 1);
        if (!*data) {
            sqlite3_finalize(s);
            return sj_error_set(err, SJ_ENOMEM, NULL);
        }
        if (*len)
            memcpy(*data, sqlite3_column_blob(s, 1), *len);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
        return sj_error_set(err, SJ_ENOTFOUND, "no %s stored yet", kind);
    return rc == SQLITE_ROW ? 0 : db_fail(st, err, "refdata get");
}

int sc_store_meta_set(sc_store *st, const char *key, const char *value, sj_error *err)
{
    sqlite3_stmt *s = NULL;
    if (prep(st, value ? "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"
                       : "DELETE FROM meta WHERE key = ?",
             &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "meta set");
    sqlite3_finalize(s);
    return rc;
}

int sc_store_meta_get(sc_store *st, const char *key, char *buf, size_t cap, sj_error *err)
{
    int rc = sj_sqlstore_meta_get(st->db, key, buf, cap);
    if (rc == SJ_ENOTFOUND)
        return sj_error_set(err, SJ_ENOTFOUND, "%s not set", key);
    return rc == 0 ? 0 : db_fail(st, err, "meta get");
}

/* ---- attachments --------------------------------------------------------- */

int sc_store_attach_add(sc_store *st, const sc_attach_row *a, const uint8_t *data, size_t len,
                        sj_error *err)
{
    sqlite3_stmt *s = NULL;
    if (prep(st,
             "INSERT INTO attachments (attachment_id, case_id, name, mime, size, sha256, material,"
             " actor_person, attached_at_ms, chunk_count, chunks_applied, local, data)"
             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
             " ON CONFLICT (attachment_id) DO UPDATE SET data = coalesce(attachments.data, excluded.data)",
             &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, a->attachment_id, 16, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, a->case_id, 16, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, a->mime, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)a->size);
    sqlite3_bind_blob(s, 6, a->sha256, SJ_ATTACH_SHA256_SIZE, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, a->material, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, a->actor_person, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, a->attached_at_ms);
    sqlite3_bind_int(s, 10, (int)a->chunk_count);
    sqlite3_bind_int(s, 11, (int)a->chunks_applied);
    sqlite3_bind_int(s, 12, a->local ? 1 : 0);
    if (data)
        sqlite3_bind_blob(s, 13, data, (int)len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 13);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "attachment insert");
    sqlite3_finalize(s);
    return rc;
}

int sc_store_attach_list(sc_store *st, const uint8_t case_id[16], sc_attach_row **out, size_t *n,
                         sj_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = NULL;
    if (prep(st,
             "SELECT attachment_id, case_id, name, mime, size, sha256, material, actor_person,"
             " attached_at_ms, chunk_count, chunks_applied, code, reason, local,"
             " data IS NOT NULL FROM attachments WHERE case_id = ? ORDER BY attached_at_ms, rowid",
             &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            sc_attach_row *nv = realloc(*out, cap * sizeof **out);
            if (!nv) {
                sqlite3_finalize(s);
                free(*out);
                *out = NULL;
                *n = 0;
                return sj_error_set(err, SJ_ENOMEM, NULL);
            }
            *out = nv;
        }
        sc_attach_row *a = &(*out)[(*n)++];
        memset(a, 0, sizeof *a);
        copy_blob16(s, 0, a->attachment_id);
        copy_blob16(s, 1, a->case_id);
        snprintf(a->name, sizeof a->name, "%s", (const char *)sqlite3_column_text(s, 2));
        snprintf(a->mime, sizeof a->mime, "%s", (const char *)sqlite3_column_text(s, 3));
        a->size = (uint64_t)sqlite3_column_int64(s, 4);
        if (sqlite3_column_bytes(s, 5) == SJ_ATTACH_SHA256_SIZE)
            memcpy(a->sha256, sqlite3_column_blob(s, 5), SJ_ATTACH_SHA256_SIZE);
        snprintf(a->material, sizeof a->material, "%s", (const char *)sqlite3_column_text(s, 6));
        snprintf(a->actor_person, sizeof a->actor_person, "%s",
                 (const char *)sqlite3_column_text(s, 7));
        a->attached_at_ms = sqlite3_column_int64(s, 8);
        a->chunk_count = (uint32_t)sqlite3_column_int(s, 9);
        a->chunks_applied = (uint32_t)sqlite3_column_int(s, 10);
        a->code = sqlite3_column_int(s, 11);
        snprintf(a->reason, sizeof a->reason, "%s", (const char *)sqlite3_column_text(s, 12));
        a->local = sqlite3_column_int(s, 13) != 0;
        a->have_data = sqlite3_column_int(s, 14) != 0;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return db_fail(st, err, "attachment list");
    }
    return 0;
}

/* The one blob column the statement sql selects for id, into a malloc'd
 * buffer of headroom spare bytes then the blob (*len: the blob's length);
 * SJ_ENOTFOUND (missing) when no row answers. */
static int blob_get(sc_store *st, const char *sql, const uint8_t id[16], size_t headroom,
                    uint8_t **buf, size_t *len, const char *missing, const char *what,
                    sj_error *err)
{
    *buf = NULL;
    *len = 0;
    sqlite3_stmt *s = NULL;
    if (prep(st, sql, &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(s, 0);
        *buf = malloc(headroom + *len ? headroom + *len : 1);
        if (*buf && *len)
            memcpy(*buf + headroom, sqlite3_column_blob(s, 0), *len);
        rc = *buf ? 0 : sj_error_set(err, SJ_ENOMEM, NULL);
    } else if (rc == SQLITE_DONE) {
        rc = sj_error_set(err, SJ_ENOTFOUND, "%s", missing);
    } else {
        rc = db_fail(st, err, what);
    }
    sqlite3_finalize(s);
    return rc;
}

int sc_store_attach_data(sc_store *st, const uint8_t attachment_id[16], uint8_t **data, size_t *len,
                         sj_error *err)
{
    return blob_get(st, "SELECT data FROM attachments WHERE attachment_id = ? AND data IS NOT NULL",
                    attachment_id, 0, data, len, "attachment not held here", "attachment read",
                    err);
}

uint64_t sc_store_attach_case_bytes(sc_store *st, const uint8_t case_id[16])
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT coalesce(sum(size), 0) FROM attachments WHERE case_id = ?",
                           -1, &s, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    uint64_t n = sqlite3_step(s) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return n;
}

int sc_store_attach_progress(sc_store *st, const uint8_t attachment_id[16], bool applied, int code,
                             const char *reason, sj_error *err)
{
    sqlite3_stmt *s = NULL;
    if (prep(st,
             applied ? "UPDATE attachments SET chunks_applied = min(chunks_applied + 1, chunk_count)"
                       " WHERE attachment_id = ?"
                     : "UPDATE attachments SET code = ?2, reason = ?3 WHERE attachment_id = ?1",
             &s, err) != 0)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, attachment_id, 16, SQLITE_STATIC);
    if (!applied) {
        sqlite3_bind_int(s, 2, code);
        sqlite3_bind_text(s, 3, reason ? reason : "", -1, SQLITE_STATIC);
    }
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "attachment progress");
    sqlite3_finalize(s);
    return rc;
}

/* ---- an outbox row's payload, ready to be framed ------------------------- */

int sc_store_outbox_frame(sc_store *st, const uint8_t message_id[16], uint8_t **frame,
                          size_t *len, sj_error *err)
{
    return blob_get(st, "SELECT payload FROM outbox WHERE message_id = ?", message_id,
                    SJ_FRAME_HEADER_SIZE, frame, len, "no such message in the outbox",
                    "outbox read", err);
}
