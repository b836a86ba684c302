/*
 * store.c - the township relay's SQLite store: schema, the start-up check
 * (integrity and ownership), and the queue, results, feed, cursors, case
 * cache, reference data, stations and status tables.  See store.h.
 *
 * Format 6 (docs/RELAY.md "Format 6"): an upward message is written once;
 * the writer keeps the queue in memory (queue_index.h) and a message is
 * settled by its result row.  Format 7: the case cache is a file of its
 * own, written from the stored feed by a thread of its own
 * (case_cache.h); this store keeps the feed updates the cache has not
 * written yet in memory, so that a case read sees them at once.  Format
 * 8: the feed is a rowid table (FEED_SQL says why).
 *
 * Entry points: the relay_store_* functions of store.h.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "case_cache.h"
#include "case_search.h"
#include "feed_cursor.h"
#include "orgunit.h"
#include "queue_index.h"
#include "sqlstore.h"

#define STMT_CACHE 48

struct relay_store {
    sqlite3 *db;
    char path[1024];
    char node_id[RELAY_NODE_MAX];
    bool in_tx;
    bool read_only;
    int format_version;   /* as opened (a read-only reader does not upgrade) */
    /* Format 6: the queue as the writer keeps it in memory (every message
     * queued and not settled), and the rows of settled messages not yet
     * deleted from `upward` (deleted TRIM_BATCH at a time, trim()). */
    relay_qindex *qi;
    int64_t *settled;
    size_t n_settled, cap_settled;
    /* The next message's seq: above every seq this process gave, even
     * when the rows with the highest were deleted (the forwarding side
     * resumes after the last seq it sent). */
    int64_t next_seq;
    /* Format 7: the case cache (case_cache.h), and the feed updates stored
     * and not yet written into it, oldest first, each as packed for its
     * feed row: gen is the cache's number of the commit that held it
     * (relay_cache_committed()), 0 while uncommitted.  Dropped once the
     * cache has written their commit.  sync_gen: a commit whose updates
     * could not all be kept here (no memory); case reads wait for the
     * cache until it has written that commit. */
    relay_cache *cc;
    struct cache_pending {
        uint8_t case_id[16];
        bool has_case;
        uint64_t gen;
        uint8_t *pb;
        size_t len;
    } *pend;
    size_t n_pend, cap_pend;
    bool pend_lost;
    uint64_t sync_gen;
    /* The feed cursors read or written so far (a writer's only: nobody
     * else writes its store), so that a feed update and each session's
     * feed read do not ask SQLite for them; emptied on rollback. */
    struct cursor_memo {
        char village[RELAY_UNIT_SIZE];
        uint64_t seq;
    } *memo;
    size_t n_memo, cap_memo;
    struct {
        const char *sql;
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
};

/* Format 3's column of the stations table (added by upgrade() to older
 * stores). */
#define STATIONS_V3_COLUMN "cert_not_after_ms INTEGER NOT NULL DEFAULT 0"
#define STATIONS_V3 ", " STATIONS_V3_COLUMN

/* Format 5's lane of the queue (relay_queue_lane) and its index (added by
 * upgrade() to older stores, before the queue becomes format 6's). */
#define QUEUE_V5_COLUMN "lane INTEGER NOT NULL DEFAULT 0"
#define QUEUE_V5_INDEX "CREATE INDEX queue_lane ON queue(lane, seq)"

/* Format 6: every upward message is one row of `upward`, written once when
 * it is queued (no AUTOINCREMENT, no secondary index: the writer finds
 * queued messages in memory, queue_index.h).  A message is settled when
 * its result is in `results`; its `upward` row is deleted later, in
 * batches (trim()).  The view `queue` is what is still queued: what
 * sanji-relayctl, the start-up load and operators read.  `pending` holds
 * the results not yet delivered to their station or desk (a small table:
 * delivering deletes a row instead of rewriting the result). */
#define UPWARD_SQL                                                                              \
    "CREATE TABLE upward (seq INTEGER PRIMARY KEY, message_id BLOB NOT NULL,"                   \
    " origin_node TEXT NOT NULL, village TEXT NOT NULL, case_id BLOB NOT NULL,"                 \
    " stored_at_ms INTEGER NOT NULL, lane INTEGER NOT NULL DEFAULT 0, payload BLOB NOT NULL);\n"
#define RESULTS_SQL                                                                             \
    "CREATE TABLE results (message_id BLOB PRIMARY KEY, origin_node TEXT NOT NULL,"             \
    " village TEXT NOT NULL, case_id BLOB NOT NULL, stored_at_ms INTEGER NOT NULL,"             \
    " ack BLOB NOT NULL) WITHOUT ROWID;\n"                                                      \
    "CREATE INDEX results_case ON results(case_id);\n"                                          \
    "CREATE TABLE pending (message_id BLOB PRIMARY KEY, origin_node TEXT NOT NULL)"             \
    " WITHOUT ROWID;\n"
#define QUEUE_VIEW_SQL                                                                          \
    "CREATE VIEW queue AS SELECT * FROM upward u"                                               \
    " WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.message_id = u.message_id);\n"

/* The feed (format 8): a rowid table, so that each update (about 1.5 KB)
 * is appended inline at the table's end and a commit's updates share
 * pages; keyed by (village, seq) in an index.  Format 7's feed was
 * WITHOUT ROWID on (village, seq): a row past about 1 000 bytes spilled
 * into an overflow page of its own, so each update wrote its village's
 * leaf page and a page for itself (docs/RELAY.md "Format 8"). */
#define FEED_SQL                                                                                \
    "CREATE TABLE feed (village TEXT NOT NULL, seq INTEGER NOT NULL,"                           \
    " update_pb BLOB NOT NULL);\n"                                                              \
    "CREATE UNIQUE INDEX feed_key ON feed(village, seq);\n"

static const char SCHEMA[] =
    UPWARD_SQL RESULTS_SQL QUEUE_VIEW_SQL
    FEED_SQL
    "CREATE TABLE cursors (village TEXT PRIMARY KEY, seq INTEGER NOT NULL);\n"
    "CREATE TABLE refdata (kind INTEGER PRIMARY KEY, version INTEGER NOT NULL,"
    " payload BLOB NOT NULL);\n"
    "CREATE TABLE stations (node TEXT PRIMARY KEY, connected INTEGER NOT NULL,"
    " last_seen_ms INTEGER NOT NULL, outbox_depth INTEGER NOT NULL" STATIONS_V3 ");\n";

/* Format 5 -> 6 (upgrade()): the queue's rows move to `upward` in their
 * order and seq, the results lose their `delivered` column (those not
 * delivered are listed in `pending`), and `queue` becomes the view. */
static const char UPGRADE_V6[] =
    UPWARD_SQL
    "INSERT INTO upward (seq, message_id, origin_node, village, case_id, stored_at_ms, lane,"
    " payload) SELECT seq, message_id, origin_node, village, case_id, stored_at_ms, lane, payload"
    " FROM queue ORDER BY seq;\n"
    "DROP TABLE queue;\n"
    "DROP INDEX results_undelivered;\n"
    "DROP INDEX results_case;\n"
    "ALTER TABLE results RENAME TO results_v5;\n"
    RESULTS_SQL
    "INSERT INTO results (message_id, origin_node, village, case_id, stored_at_ms, ack)"
    " SELECT message_id, origin_node, village, case_id, stored_at_ms, ack FROM results_v5;\n"
    "INSERT INTO pending (message_id, origin_node)"
    " SELECT message_id, origin_node FROM results_v5 WHERE delivered = 0;\n"
    "DROP TABLE results_v5;\n"
    QUEUE_VIEW_SQL;

/* Format 6 -> 7 (upgrade()): the case cache leaves the store for its own
 * file (case_cache.h), written again there from the feed. */
static const char UPGRADE_V7[] =
    "DROP TABLE IF EXISTS cases;\n"
    "DROP TABLE IF EXISTS events;\n"
    "DROP TABLE IF EXISTS cached;\n";

/* Format 7 -> 8 (upgrade()): the feed's rows move to the rowid table, in
 * feed order. */
static const char UPGRADE_V8[] =
    "ALTER TABLE feed RENAME TO feed_v7;\n" FEED_SQL
    "INSERT INTO feed (village, seq, update_pb)"
    " SELECT village, seq, update_pb FROM feed_v7 ORDER BY village, seq;\n"
    "DROP TABLE feed_v7;\n";

/* Settled messages whose `upward` rows are deleted together. */
#define TRIM_BATCH 256

/* ---- helpers ------------------------------------------------------------- */

static int db_fail(relay_store *st, sj_error *err, const char *what)
{
    return sj_error_set(err, SJ_EDB, "中继存储出错 (relay store error): %s: %s (%s)", what,
                        sqlite3_errmsg(st->db), st->path);
}

/* Prepared statements are cached by the address of their SQL text (always a
 * string literal here). */
static sqlite3_stmt *prep(relay_store *st, const char *sql, sj_error *err)
{
    for (int i = 0; i < STMT_CACHE; i++) {
        if (st->cache[i].sql == sql) {
            sqlite3_reset(st->cache[i].stmt);
            sqlite3_clear_bindings(st->cache[i].stmt);
            return st->cache[i].stmt;
        }
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        db_fail(st, err, "prepare");
        return NULL;
    }
    for (int i = 0; i < STMT_CACHE; i++) {
        if (st->cache[i].sql == NULL) {
            st->cache[i].sql = sql;
            st->cache[i].stmt = s;
            return s;
        }
    }
    abort(); /* more distinct statements than STMT_CACHE: a bug here */
}

static int begin(relay_store *st, sj_error *err)
{
    if (st->in_tx)
        return 0;
    if (st->read_only)
        return sj_error_set(err, SJ_EINVAL, "store opened read-only");
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(st, err, "BEGIN");
    st->in_tx = true;
    return 0;
}

static int step_done(relay_store *st, sqlite3_stmt *s, sj_error *err, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return db_fail(st, err, what);
    return 0;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static uint8_t *dup_blob(const void *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    if (b && n)
        memcpy(b, p, n);
    return b;
}

/* ---- open and check ------------------------------------------------------ */

/* A row that no longer decodes: the file was damaged after it was opened. */
static int corrupt(relay_store *st, sj_error *err, const char *detail)
{
    return sj_error_set(err, SJ_ESTORE_CORRUPT,
                        "中继存储已损坏，未做任何改动；请停止服务，保留该文件以便排查，"
                        "从备份恢复或移走该文件后重新启动（移走后尚未上传的消息会由各村站重发）"
                        " (the relay store %s is damaged: %s; nothing was changed. Stop the "
                        "relay, keep the file for inspection, restore it from a backup or move "
                        "it away and start again; stations resend what was not yet recorded)",
                        st->path, detail);
}

/* The meta table (format, format version, node id), the start-up checks and
 * the creation are common/sqlstore's; this is what makes it a relay store.
 * Format 1 (before the case cache had its search columns) opens and is
 * upgraded (upgrade()); a newer format is refused. */
static const sj_sqlstore_spec STORE_SPEC = {
    .kind_zh = "乡镇中继存储",
    .kind_en = "relay store",
    .program = "sanji-relayd",
    .marker = RELAY_STORE_FORMAT,
    .format_version = RELAY_STORE_FORMAT_VERSION,
    .accept_older = true,
    .full_check = true,
    .key_marker = "format",
    .key_version = "format_version",
    .key_node = "node_id",
    .schema = SCHEMA,
    .damaged_zh = "请停止服务，保留该文件以便排查，从备份恢复或移走该文件后重新启动"
                  "（移走后尚未上传的消息会由各村站重发）",
    .damaged_en = "Stop the relay, keep the file for inspection, restore it from a backup or "
                  "move it away and start again; stations resend what was not yet recorded",
};

static void read_item(sqlite3_stmt *s, relay_queue_item *item);
static void pend_drop(relay_store *st, bool committed_too);
static void pend_committed(relay_store *st);

/* Remembers the seq of a settled message whose `upward` row is to be
 * deleted (trim()). */
static int settled_push(relay_store *st, int64_t seq, sj_error *err)
{
    if (st->n_settled == st->cap_settled) {
        size_t cap = st->cap_settled ? 2 * st->cap_settled : TRIM_BATCH;
        int64_t *n = realloc(st->settled, cap * sizeof *n);
        if (n == NULL)
            return sj_error_set(err, SJ_ENOMEM, NULL);
        st->settled = n;
        st->cap_settled = cap;
    }
    st->settled[st->n_settled++] = seq;
    return 0;
}

/* Rebuilds the writer's memory of the queue from the tables: what the
 * view `queue` holds, and the settled rows still in `upward`.  Run at open
 * and after a rollback (which may have undone queued or settled
 * messages). */
static int load_queue(relay_store *st, sj_error *err)
{
    if (st->read_only)
        return 0;
    relay_qindex_clear(st->qi);
    st->n_settled = 0;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT seq, message_id, origin_node, village, case_id, stored_at_ms,"
                           " lane, length(payload) FROM queue ORDER BY seq",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(st, err, "queue load");
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        relay_queue_item it;
        memset(&it, 0, sizeof it);
        read_item(q, &it);
        it.len = (size_t)sqlite3_column_int64(q, 7);
        rc = relay_qindex_add(st->qi, &it);
        if (rc == SJ_EEXISTS) /* queued twice by a relay before format 6: sent once */
            rc = 0;
        if (rc != 0)
            rc = sj_error_set(err, rc, "queue load: out of memory");
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(st, err, "queue load");
    sqlite3_finalize(q);
    if (rc != 0)
        return rc;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT seq FROM upward u WHERE EXISTS"
                           " (SELECT 1 FROM results r WHERE r.message_id = u.message_id)",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(st, err, "queue load");
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW)
        rc = settled_push(st, sqlite3_column_int64(q, 0), err);
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(st, err, "queue load");
    sqlite3_finalize(q);
    if (rc != 0)
        return rc;
    if (sqlite3_prepare_v2(st->db, "SELECT coalesce(max(seq), 0) FROM upward", -1, &q, NULL) !=
            SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return db_fail(st, err, "queue load");
    }
    if (sqlite3_column_int64(q, 0) >= st->next_seq)
        st->next_seq = sqlite3_column_int64(q, 0) + 1;
    sqlite3_finalize(q);
    return 0;
}

/* Upgrades an older format in one transaction; a crash leaves the old
 * format, upgraded again on the next start.
 *   1 -> 2: the case cache's search columns and indexes
 *           (common/domain/case_search.h), filled from every cached snapshot: "the
 *           relay's per-unit case list scans every cached case" no more.
 *   2 -> 3: each station's certificate expiry, for the network view.
 *   3 -> 4: the search columns of assignment (assignee, carrier: 我的事项
 *           and the search by assignee), filled from every snapshot.
 *   4 -> 5: the queue's lane (relay_queue_lane), set from every queued
 *           envelope (classify_queue()), so that chunks queued by an
 *           older relay do not hold up case messages either.
 *   5 -> 6: the queue written once per message (UPGRADE_V6): rows move to
 *           `upward` with their seq and lane, `queue` becomes a view of
 *           the messages not settled, results lose `delivered` for the
 *           small `pending` table.
 *   6 -> 7: the case cache (cases, events, cached) dropped: it lives in
 *           its own file now and is written there from the feed
 *           (case_cache.h). */
/* Sets the lane of every queued attachment chunk (format 4 -> 5).  A
 * payload that does not decode stays in the message lane: the county
 * judges it as before. */
static int classify_queue(relay_store *st, sj_error *err)
{
    sqlite3_stmt *q = NULL, *u = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT seq, payload FROM queue ORDER BY seq", -1, &q,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "UPDATE queue SET lane = ? WHERE seq = ?", -1, &u, NULL) !=
            SQLITE_OK) {
        sqlite3_finalize(q);
        return db_fail(st, err, "upgrade queue");
    }
    int rc = 0, step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        Sanji__Envelope *env = sanji__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(q, 1),
                                                       sqlite3_column_blob(q, 1));
        bool chunk = env && env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK;
        sanji__envelope__free_unpacked(env, NULL);
        if (!chunk)
            continue;
        sqlite3_bind_int(u, 1, RELAY_LANE_CHUNK);
        sqlite3_bind_int64(u, 2, sqlite3_column_int64(q, 0));
        rc = step_done(st, u, err, "upgrade queue lane");
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(st, err, "upgrade queue");
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    return rc;
}

/* Whether sql (a query reading a column) prepares: the column is there. */
static bool has_column(relay_store *st, const char *sql)
{
    sqlite3_stmt *q = NULL;
    bool has = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) == SQLITE_OK;
    sqlite3_finalize(q);
    return has;
}

/* Whether sql returns a row. */
static bool has_row(relay_store *st, const char *sql)
{
    sqlite3_stmt *q = NULL;
    bool has = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) == SQLITE_OK &&
               sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return has;
}

static int upgrade(relay_store *st, int from, sj_error *err)
{
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(st, err, "BEGIN");
    int rc = 0;
    if (from < 3 &&
        sqlite3_exec(st->db, "ALTER TABLE stations ADD COLUMN " STATIONS_V3_COLUMN, NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(st, err, "upgrade stations");
    /* (A store made by a newer build, then marked older, may have the
     * newer tables already: only what is missing is added.  Format 5's
     * results have `delivered`; format 6's do not.) */
    bool v5_shape = has_column(st, "SELECT delivered FROM results LIMIT 0");
    if (rc == 0 && from < 5 && v5_shape && !has_column(st, "SELECT lane FROM queue LIMIT 0") &&
        (sqlite3_exec(st->db, "ALTER TABLE queue ADD COLUMN " QUEUE_V5_COLUMN, NULL, NULL,
                      NULL) != SQLITE_OK ||
         sqlite3_exec(st->db, QUEUE_V5_INDEX, NULL, NULL, NULL) != SQLITE_OK))
        rc = db_fail(st, err, "upgrade queue");
    if (rc == 0 && from < 5 && v5_shape)
        rc = classify_queue(st, err);
    if (rc == 0 && from < 6 && v5_shape &&
        sqlite3_exec(st->db, UPGRADE_V6, NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(st, err, "upgrade queue to format 6");
    if (rc == 0 && from < 7 && sqlite3_exec(st->db, UPGRADE_V7, NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(st, err, "upgrade to format 7");
    /* (A feed with the index already is format 8's, marked older.) */
    if (rc == 0 && from < 8 &&
        !has_row(st, "SELECT 1 FROM sqlite_master WHERE name = 'feed_key'") &&
        sqlite3_exec(st->db, UPGRADE_V8, NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(st, err, "upgrade to format 8");
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE meta SET value = '%d' WHERE key = 'format_version'",
             RELAY_STORE_FORMAT_VERSION);
    if (rc == 0 && sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(st, err, "upgrade version");
    if (rc == 0 && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(st, err, "COMMIT");
    if (rc != 0)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int open_common(const char *path, const char *node_id, bool read_only, relay_store **out,
                       sj_error *err)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0' || (!read_only && (node_id == NULL || node_id[0] == 0)))
        return sj_error_set(err, SJ_EINVAL, "relay_store_open: path and node id are required");
    relay_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    snprintf(st->path, sizeof st->path, "%s", path);
    st->read_only = read_only;
    sj_sqlstore_info info;
    int rc = sj_sqlstore_open(path, &STORE_SPEC, node_id, read_only, &st->db, &info, err);
    if (rc != 0)
        goto fail;
    snprintf(st->node_id, sizeof st->node_id, "%.*s", (int)sizeof st->node_id - 1, info.node_id);
    sqlite3_extended_result_codes(st->db, 1);
    /* Pages read through a mapping rather than a read() copy each: CPU
     * only, the durability rules (WAL, synchronous=FULL) are unchanged.
     * A pragma that does not take only costs speed.  (Checkpoints: the
     * case cache's thread makes them, below.) */
    sqlite3_exec(st->db, "PRAGMA mmap_size=268435456", NULL, NULL, NULL);
    /* A read-only reader (sanji-relayctl) does not upgrade; it reads what
     * the format it finds has (station_each). */
    st->format_version = info.format_version;
    if (!read_only && info.format_version < RELAY_STORE_FORMAT_VERSION) {
        if ((rc = upgrade(st, info.format_version, err)) != 0)
            goto fail;
        st->format_version = RELAY_STORE_FORMAT_VERSION;
    }
    if (!read_only && (st->qi = relay_qindex_new()) == NULL) {
        rc = sj_error_set(err, SJ_ENOMEM, NULL);
        goto fail;
    }
    if ((rc = load_queue(st, err)) != 0)
        goto fail;
    /* Its writer first writes what a stop or a crash left out. */
    if ((rc = relay_cache_open(path, read_only, &st->cc, err)) != 0)
        goto fail;
    /* The cache's thread checkpoints the WAL (case_cache.h): the copy and
     * its fsync of this file stay off the loop. */
    if (!read_only)
        sqlite3_exec(st->db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
    *out = st;
    return 0;
fail:
    relay_store_close(st);
    return rc;
}

int relay_store_open(const char *path, const char *node_id, relay_store **out, sj_error *err)
{
    return open_common(path, node_id, false, out, err);
}

int relay_store_open_readonly(const char *path, relay_store **out, sj_error *err)
{
    return open_common(path, NULL, true, out, err);
}

void relay_store_close(relay_store *st)
{
    if (st == NULL)
        return;
    if (st->in_tx)
        relay_store_rollback(st);
    /* A stop in order leaves the case cache complete (after a crash, the
     * next start catches it up). */
    relay_cache_close(st->cc);
    for (int i = 0; i < STMT_CACHE; i++)
        if (st->cache[i].stmt)
            sqlite3_finalize(st->cache[i].stmt);
    if (st->db)
        sqlite3_close(st->db);
    free(st->memo);
    pend_drop(st, true);
    free(st->pend);
    relay_qindex_free(st->qi);
    free(st->settled);
    free(st);
}

const char *relay_store_node_id(const relay_store *st)
{
    return st->node_id;
}

int relay_store_commit(relay_store *st, sj_error *err)
{
    if (!st->in_tx)
        return 0;
    st->in_tx = false;
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = db_fail(st, err, "COMMIT");
        pend_drop(st, false);
        st->pend_lost = false;
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        st->n_memo = 0;
        sj_error scratch;
        load_queue(st, &scratch);
        return rc;
    }
    pend_committed(st);
    return 0;
}

void relay_store_rollback(relay_store *st)
{
    if (!st->in_tx)
        return;
    st->in_tx = false;
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->n_memo = 0;
    pend_drop(st, false);
    st->pend_lost = false;
    sj_error scratch;
    load_queue(st, &scratch);
}

bool relay_store_in_tx(const relay_store *st)
{
    return st->in_tx;
}

/* ---- queue --------------------------------------------------------------- */

static const char SQL_Q_INSERT[] =
    "INSERT INTO upward (message_id, origin_node, village, case_id, stored_at_ms, lane, payload,"
    " seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_Q_DELETE_SEQ[] = "DELETE FROM upward WHERE seq = ?";

static int queue_full(relay_store *st, uint64_t quota_bytes, sj_error *err)
{
    return sj_error_set(err, SJ_EQUOTA,
                        "乡镇中继队列已满（%llu / %llu 字节），新提交被拒绝，已存的消息不会丢失；"
                        "请检查县里链路 (the township relay queue is full; new submissions "
                        "are refused and nothing stored is dropped; check the county link)",
                        (unsigned long long)relay_qindex_bytes(st->qi),
                        (unsigned long long)quota_bytes);
}

int relay_store_queue_add(relay_store *st, relay_queue_item *item, uint64_t quota_bytes,
                          int64_t now_ms, sj_error *err)
{
    if (st->read_only)
        return sj_error_set(err, SJ_EINVAL, "store opened read-only");
    /* A message already queued is SJ_EEXISTS even over the quota (its
     * station gets STORED again). */
    if (relay_qindex_find(st->qi, item->message_id))
        return sj_error_set(err, SJ_EEXISTS, "message already queued");
    if (quota_bytes > 0 && relay_qindex_bytes(st->qi) + item->len > quota_bytes)
        return queue_full(st, quota_bytes, err);
    int rc = begin(st, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = prep(st, SQL_Q_INSERT, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, item->message_id, 16, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, item->origin_node, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, item->village, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, item->case_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now_ms);
    item->lane = item->lane == RELAY_LANE_CHUNK ? RELAY_LANE_CHUNK : RELAY_LANE_MESSAGE;
    sqlite3_bind_int(s, 6, (int)item->lane);
    sqlite3_bind_blob(s, 7, item->payload, (int)item->len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, st->next_seq);
    /* Only the statement is undone on failure; the turn's transaction goes on. */
    if ((rc = step_done(st, s, err, "queue insert")) != 0)
        return rc;
    item->seq = st->next_seq++;
    item->stored_at_ms = now_ms;
    if ((rc = relay_qindex_add(st->qi, item)) != 0) {
        /* Out of memory: the row goes too, and the station resends. */
        if ((s = prep(st, SQL_Q_DELETE_SEQ, err)) != NULL) {
            sqlite3_bind_int64(s, 1, item->seq);
            step_done(st, s, err, "queue delete");
        }
        return sj_error_set(err, SJ_ENOMEM, "queue: out of memory");
    }
    return 0;
}

static void read_item(sqlite3_stmt *s, relay_queue_item *item)
{
    item->seq = sqlite3_column_int64(s, 0);
    const void *id = sqlite3_column_blob(s, 1);
    if (id && sqlite3_column_bytes(s, 1) == 16)
        memcpy(item->message_id, id, 16);
    copy_text(item->origin_node, sizeof item->origin_node, sqlite3_column_text(s, 2));
    copy_text(item->village, sizeof item->village, sqlite3_column_text(s, 3));
    const void *cid = sqlite3_column_blob(s, 4);
    if (cid && sqlite3_column_bytes(s, 4) == 16)
        memcpy(item->case_id, cid, 16);
    item->stored_at_ms = sqlite3_column_int64(s, 5);
    item->lane = sqlite3_column_int(s, 6) == RELAY_LANE_CHUNK ? RELAY_LANE_CHUNK
                                                             : RELAY_LANE_MESSAGE;
}

static const char SQL_Q_PAYLOAD[] = "SELECT payload FROM upward WHERE seq = ?";

int relay_store_queue_next(relay_store *st, relay_queue_lane lane, int64_t after_seq,
                           relay_queue_item *item, sj_error *err)
{
    memset(item, 0, sizeof *item);
    const relay_queue_item *found = st->qi ? relay_qindex_next(st->qi, lane, after_seq) : NULL;
    if (found == NULL)
        return SJ_ENOTFOUND;
    *item = *found;
    sqlite3_stmt *s = prep(st, SQL_Q_PAYLOAD, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_int64(s, 1, item->seq);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        item->len = (size_t)sqlite3_column_bytes(s, 0);
        item->payload = dup_blob(sqlite3_column_blob(s, 0), item->len);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return corrupt(st, err, "a queued message has no row");
    if (rc != SQLITE_ROW)
        return db_fail(st, err, "queue read");
    if (item->payload == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    return 0;
}

int relay_store_queue_find(relay_store *st, const uint8_t id[16], relay_queue_item *item,
                           sj_error *err)
{
    (void)err;
    memset(item, 0, sizeof *item);
    const relay_queue_item *found = st->qi ? relay_qindex_find(st->qi, id) : NULL;
    if (found == NULL)
        return SJ_ENOTFOUND;
    *item = *found;
    return 0;
}

/* Deletes the `upward` rows of settled messages, in the open transaction. */
static int trim(relay_store *st, sj_error *err)
{
    if (st->n_settled == 0)
        return 0;
    int rc = begin(st, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = prep(st, SQL_Q_DELETE_SEQ, err);
    if (s == NULL)
        return SJ_EDB;
    for (size_t i = 0; i < st->n_settled; i++) {
        sqlite3_bind_int64(s, 1, st->settled[i]);
        if ((rc = step_done(st, s, err, "queue trim")) != 0)
            return rc;
    }
    st->n_settled = 0;
    return 0;
}

int relay_store_queue_remove_found(relay_store *st, const relay_queue_item *found,
                                   sj_error *err)
{
    const relay_queue_item *q = st->qi ? relay_qindex_find(st->qi, found->message_id) : NULL;
    if (q == NULL)
        return SJ_ENOTFOUND;
    int64_t seq = q->seq;
    int rc = begin(st, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = prep(st, SQL_Q_DELETE_SEQ, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_int64(s, 1, seq);
    if ((rc = step_done(st, s, err, "queue delete")) != 0)
        return rc;
    relay_qindex_remove(st->qi, found->message_id);
    return 0;
}

int relay_store_queue_remove(relay_store *st, const uint8_t id[16], sj_error *err)
{
    relay_queue_item it;
    int rc = relay_store_queue_find(st, id, &it, err);
    return rc != 0 ? rc : relay_store_queue_remove_found(st, &it, err);
}

int relay_store_queue_settle(relay_store *st, const relay_queue_item *found, const uint8_t *ack,
                             size_t ack_len, int64_t now_ms, sj_error *err)
{
    const relay_queue_item *q = st->qi ? relay_qindex_find(st->qi, found->message_id) : NULL;
    if (q == NULL)
        return SJ_ENOTFOUND;
    int64_t seq = q->seq;
    int rc = relay_store_result_put(st, found->message_id, found->origin_node, found->village,
                                    found->case_id, ack, ack_len, now_ms, err);
    if (rc != 0)
        return rc;
    relay_qindex_remove(st->qi, found->message_id);
    if (settled_push(st, seq, err) != 0) {
        /* No memory to remember the row: it goes now. */
        sqlite3_stmt *s = prep(st, SQL_Q_DELETE_SEQ, err);
        if (s == NULL)
            return SJ_EDB;
        sqlite3_bind_int64(s, 1, seq);
        return step_done(st, s, err, "queue delete");
    }
    return st->n_settled >= TRIM_BATCH ? trim(st, err) : 0;
}

bool relay_store_queue_has_case(relay_store *st, const uint8_t case_id[16],
                                char village[RELAY_UNIT_SIZE])
{
    return st->qi && relay_qindex_case(st->qi, case_id, village);
}

/* The view `queue` (format 6) or the table (older, read-only). */
static const char SQL_Q_STATS[] =
    "SELECT count(*), coalesce(sum(length(payload)), 0), coalesce(min(stored_at_ms), 0)"
    " FROM queue";

int relay_store_queue_stats(relay_store *st, relay_queue_stats *out, sj_error *err)
{
    memset(out, 0, sizeof *out);
    if (st->qi) {
        relay_qindex_stats(st->qi, out);
        return 0;
    }
    sqlite3_stmt *s = prep(st, SQL_Q_STATS, err);
    if (s == NULL)
        return SJ_EDB;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->depth = (uint32_t)sqlite3_column_int64(s, 0);
        out->bytes = (uint64_t)sqlite3_column_int64(s, 1);
        out->oldest_stored_at_ms = sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : db_fail(st, err, "queue stats");
}

/* ---- results ------------------------------------------------------------- */

static const char SQL_R_PUT[] =
    "INSERT OR REPLACE INTO results (message_id, origin_node, village, case_id, ack,"
    " stored_at_ms) VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_R_PENDING[] =
    "INSERT OR REPLACE INTO pending (message_id, origin_node) VALUES (?, ?)";

int relay_store_result_put(relay_store *st, const uint8_t id[16], const char *origin_node,
                           const char *village, const uint8_t case_id[16],
                           const uint8_t *ack, size_t ack_len, int64_t now_ms, sj_error *err)
{
    int rc = begin(st, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = prep(st, SQL_R_PUT, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, id, 16, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, origin_node, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, village ? village : "", -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, case_id, 16, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, ack_len ? (const void *)ack : "", (int)ack_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now_ms);
    if ((rc = step_done(st, s, err, "result insert")) != 0)
        return rc;
    if ((s = prep(st, SQL_R_PENDING, err)) == NULL)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, id, 16, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, origin_node, -1, SQLITE_STATIC);
    return step_done(st, s, err, "result pending");
}

static const char SQL_R_GET[] = "SELECT ack, village FROM results WHERE message_id = ?";

int relay_store_result_get(relay_store *st, const uint8_t id[16], uint8_t **ack,
                           size_t *ack_len, char village[RELAY_UNIT_SIZE], sj_error *err)
{
    *ack = NULL;
    *ack_len = 0;
    sqlite3_stmt *s = prep(st, SQL_R_GET, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *ack_len = (size_t)sqlite3_column_bytes(s, 0);
        *ack = dup_blob(sqlite3_column_blob(s, 0), *ack_len);
        if (village)
            copy_text(village, RELAY_UNIT_SIZE, sqlite3_column_text(s, 1));
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return SJ_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return db_fail(st, err, "result read");
    return *ack ? 0 : sj_error_set(err, SJ_ENOMEM, NULL);
}

static const char SQL_R_CASE[] = "SELECT village FROM results WHERE case_id = ? LIMIT 1";

int relay_store_result_case_village(relay_store *st, const uint8_t case_id[16],
                                    char village[RELAY_UNIT_SIZE])
{
    sj_error e;
    sqlite3_stmt *s = prep(st, SQL_R_CASE, &e);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_ROW ? 0 : SJ_ENOTFOUND;
    if (rc == 0)
        copy_text(village, RELAY_UNIT_SIZE, sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return rc;
}

/* Format 6 (the ORDER BY sorts the rows before the first is returned, so
 * cb may delete from `pending` meanwhile), and older stores read by
 * sanji-relayctl. */
static const char SQL_R_UNDELIVERED[] =
    "SELECT p.message_id, r.ack FROM pending p JOIN results r ON r.message_id = p.message_id"
    " WHERE p.origin_node = ? ORDER BY r.stored_at_ms, r.message_id";
static const char SQL_R_UNDELIVERED_V5[] =
    "SELECT message_id, ack FROM results WHERE origin_node = ? AND delivered = 0"
    " ORDER BY stored_at_ms, rowid";

int relay_store_result_each_undelivered(relay_store *st, const char *origin_node,
                                        relay_store_result_cb cb, void *arg, sj_error *err)
{
    /* Not a cached statement: cb may write to the store (mark delivered). */
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           st->format_version >= 6 ? SQL_R_UNDELIVERED : SQL_R_UNDELIVERED_V5, -1,
                           &s, NULL) != SQLITE_OK)
        return db_fail(st, err, "results read");
    sqlite3_bind_text(s, 1, origin_node, -1, SQLITE_STATIC);
    int rc = 0, src;
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
        uint8_t id[16] = {0};
        const void *p = sqlite3_column_blob(s, 0);
        if (p && sqlite3_column_bytes(s, 0) == 16)
            memcpy(id, p, 16);
        rc = cb(arg, id, sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1));
        if (rc != 0)
            break;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = db_fail(st, err, "results read");
    sqlite3_finalize(s);
    return rc;
}

static const char SQL_R_DELIVERED[] = "DELETE FROM pending WHERE message_id = ?";

int relay_store_result_mark_delivered(relay_store *st, const uint8_t id[16], sj_error *err)
{
    int rc = begin(st, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = prep(st, SQL_R_DELIVERED, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_blob(s, 1, id, 16, SQLITE_STATIC);
    return step_done(st, s, err, "result delivered");
}

static const char SQL_R_EXPIRE[] = "DELETE FROM results WHERE stored_at_ms < ?";
static const char SQL_R_EXPIRE_PENDING[] =
    "DELETE FROM pending WHERE NOT EXISTS"
    " (SELECT 1 FROM results r WHERE r.message_id = pending.message_id)";

int relay_store_result_expire(relay_store *st, int64_t before_ms, size_t *removed,
                              sj_error *err)
{
    /* The rows of settled messages go first: a settled message whose
     * result expired would look queued again. */
    int rc = trim(st, err);
    if (rc == 0)
        rc = begin(st, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = prep(st, SQL_R_EXPIRE, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_int64(s, 1, before_ms);
    if ((rc = step_done(st, s, err, "result expiry")) != 0)
        return rc;
    if (removed)
        *removed = (size_t)sqlite3_changes(st->db);
    if ((s = prep(st, SQL_R_EXPIRE_PENDING, err)) == NULL)
        return SJ_EDB;
    return step_done(st, s, err, "result expiry");
}

/* ---- feed, cursors, cases ------------------------------------------------ */

static const char SQL_CUR_GET[] = "SELECT seq FROM cursors WHERE village = ?";
static const char SQL_CUR_SET[] = "INSERT OR REPLACE INTO cursors (village, seq) VALUES (?, ?)";
static const char SQL_FEED_PUT[] = "INSERT INTO feed (village, seq, update_pb) VALUES (?, ?, ?)";

static struct cursor_memo *memo_find(relay_store *st, const char *village)
{
    for (size_t i = 0; i < st->n_memo; i++)
        if (strcmp(st->memo[i].village, village) == 0)
            return &st->memo[i];
    return NULL;
}

/* Remembers village's cursor (a writer's store only); memory that runs out
 * only means asking SQLite next time. */
static void memo_put(relay_store *st, const char *village, uint64_t seq)
{
    if (st->read_only || strlen(village) >= RELAY_UNIT_SIZE)
        return;
    struct cursor_memo *m = memo_find(st, village);
    if (m == NULL) {
        if (st->n_memo == st->cap_memo) {
            size_t cap = st->cap_memo ? 2 * st->cap_memo : 64;
            struct cursor_memo *n = realloc(st->memo, cap * sizeof *n);
            if (n == NULL)
                return;
            st->memo = n;
            st->cap_memo = cap;
        }
        m = &st->memo[st->n_memo++];
        snprintf(m->village, sizeof m->village, "%s", village);
    }
    m->seq = seq;
}

uint64_t relay_store_cursor_get(relay_store *st, const char *village)
{
    const struct cursor_memo *m = st->read_only ? NULL : memo_find(st, village);
    if (m != NULL)
        return m->seq;
    sj_error e;
    sqlite3_stmt *s = prep(st, SQL_CUR_GET, &e);
    if (s == NULL)
        return 0;
    sqlite3_bind_text(s, 1, village, -1, SQLITE_STATIC);
    uint64_t seq = 0;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        seq = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        memo_put(st, village, seq);
    return seq;
}

/* ---- feed updates not yet in the case cache ------------------------------ */

/* Drops the pending updates of uncommitted writes (a rollback), or all of
 * them (committed_too: at close). */
static void pend_drop(relay_store *st, bool committed_too)
{
    size_t keep = 0;
    for (size_t i = 0; i < st->n_pend; i++) {
        if (committed_too || st->pend[i].gen == 0)
            free(st->pend[i].pb);
        else
            st->pend[keep++] = st->pend[i];
    }
    st->n_pend = keep;
}

/* After a commit: its updates get the cache's number of the commit, and
 * those the cache has written are dropped (oldest first: the cache writes
 * commits in order). */
static void pend_committed(relay_store *st)
{
    size_t n = 0;
    for (size_t i = st->n_pend; i-- > 0 && st->pend[i].gen == 0;)
        n++;
    if (n > 0 || st->pend_lost) {
        uint64_t gen = relay_cache_committed(st->cc, n ? n : 1);
        for (size_t i = st->n_pend - n; i < st->n_pend; i++)
            st->pend[i].gen = gen;
        if (st->pend_lost)
            st->sync_gen = gen;
        st->pend_lost = false;
    }
    uint64_t written = relay_cache_written(st->cc);
    size_t done = 0;
    while (done < st->n_pend && st->pend[done].gen != 0 && st->pend[done].gen <= written)
        free(st->pend[done++].pb);
    if (done > 0) {
        memmove(st->pend, st->pend + done, (st->n_pend - done) * sizeof *st->pend);
        st->n_pend -= done;
    }
}

/* Keeps pb (the packed update, now the list's) until the case cache has
 * it; 0 or SJ_ENOMEM (pb freed, nothing kept). */
static int pend_add(relay_store *st, const Sanji__FeedUpdate *u, uint8_t *pb, size_t len,
                    sj_error *err)
{
    if (st->n_pend == st->cap_pend) {
        size_t cap = st->cap_pend ? 2 * st->cap_pend : 64;
        struct cache_pending *n = realloc(st->pend, cap * sizeof *n);
        if (n == NULL) {
            free(pb);
            return sj_error_set(err, SJ_ENOMEM, NULL);
        }
        st->pend = n;
        st->cap_pend = cap;
    }
    struct cache_pending *p = &st->pend[st->n_pend++];
    memset(p, 0, sizeof *p);
    if (u->snapshot && u->snapshot->case_id.len == 16) {
        memcpy(p->case_id, u->snapshot->case_id.data, 16);
        p->has_case = true;
    }
    p->pb = pb;
    p->len = len;
    return 0;
}

/* The newest pending snapshot of case_id into *out (the caller frees it):
 * 0, SJ_ENOTFOUND (none pending) or SJ_ENOMEM. */
static int pend_case(const relay_store *st, const uint8_t case_id[16], Sanji__Case **out,
                     sj_error *err)
{
    for (size_t i = st->n_pend; i-- > 0;) {
        const struct cache_pending *p = &st->pend[i];
        if (!p->has_case || memcmp(p->case_id, case_id, 16) != 0)
            continue;
        Sanji__FeedUpdate *u = sanji__feed_update__unpack(NULL, p->len, p->pb);
        size_t n = u ? protobuf_c_message_get_packed_size(&u->snapshot->base) : 0;
        uint8_t *buf = u ? malloc(n ? n : 1) : NULL;
        if (buf) {
            protobuf_c_message_pack(&u->snapshot->base, buf);
            *out = sanji__case__unpack(NULL, n, buf);
        }
        free(buf);
        sanji__feed_update__free_unpacked(u, NULL);
        return *out ? 0 : sj_error_set(err, SJ_ENOMEM, NULL);
    }
    return SJ_ENOTFOUND;
}

/* Before a read of the case cache that must see every stored update:
 * uncommitted ones are committed (the cache reads only what is), then the
 * cache is waited for. */
static int cache_sync(relay_store *st, sj_error *err)
{
    if (st->read_only)
        return 0;
    bool uncommitted = st->pend_lost || (st->n_pend > 0 && st->pend[st->n_pend - 1].gen == 0);
    int rc = uncommitted ? relay_store_commit(st, err) : 0;
    return rc != 0 ? rc : relay_cache_sync(st->cc, err);
}

int relay_store_feed_put(relay_store *st, const Sanji__FeedUpdate *u, sj_error *err)
{
    if (u->village == NULL || !sj_orgunit_valid(u->village) || u->seq == 0)
        return sj_error_set(err, SJ_EINVAL, "feed update without a village or sequence");
    uint64_t cur = relay_store_cursor_get(st, u->village);
    switch (sj_feed_cursor_step(cur, u->seq)) {
    case SJ_FEED_DUPLICATE:
        return SJ_EEXISTS;
    case SJ_FEED_GAP:
        return sj_error_set(err, SJ_EAGAIN, "feed gap for %s: have %llu, got %llu", u->village,
                            (unsigned long long)cur, (unsigned long long)u->seq);
    case SJ_FEED_APPLY:
        break;
    }
    int rc = begin(st, err);
    if (rc != 0)
        return rc;
    uint8_t *buf = NULL;
    sqlite3_stmt *s = prep(st, SQL_FEED_PUT, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_text(s, 1, u->village, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)u->seq);
    size_t len = protobuf_c_message_get_packed_size(&u->base);
    if ((buf = malloc(len ? len : 1)) == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    protobuf_c_message_pack(&u->base, buf);
    sqlite3_bind_blob(s, 3, buf, (int)len, SQLITE_STATIC);
    rc = step_done(st, s, err, "feed insert");
    if (rc != 0) {
        free(buf);
        return rc;
    }
    if ((s = prep(st, SQL_CUR_SET, err)) == NULL) {
        free(buf);
        return SJ_EDB;
    }
    sqlite3_bind_text(s, 1, u->village, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)u->seq);
    if ((rc = step_done(st, s, err, "cursor update")) != 0) {
        free(buf);
        return rc;
    }
    /* The case cache writes it later, from the feed row (case_cache.h);
     * until then case reads find it here.  Without memory to keep it,
     * case reads wait for the cache instead. */
    if (pend_add(st, u, buf, len, err) != 0)
        st->pend_lost = true;
    memo_put(st, u->village, u->seq);
    return 0;
}

static const char SQL_FEED_NEXT[] =
    "SELECT update_pb FROM feed WHERE village = ? AND seq > ? ORDER BY seq LIMIT 1";

int relay_store_feed_next(relay_store *st, const char *village, uint64_t after_seq,
                          Sanji__FeedUpdate **out, sj_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = prep(st, SQL_FEED_NEXT, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_text(s, 1, village, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)after_seq);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sanji__feed_update__unpack(NULL, (size_t)sqlite3_column_bytes(s, 0),
                                          sqlite3_column_blob(s, 0));
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return SJ_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return db_fail(st, err, "feed read");
    if (*out == NULL)
        return corrupt(st, err, "a stored feed update does not decode");
    return 0;
}

int relay_store_cursor_each(relay_store *st, relay_store_cursor_cb cb, void *arg, sj_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT village, seq FROM cursors ORDER BY village", -1, &s,
                           NULL) != SQLITE_OK)
        return db_fail(st, err, "cursor read");
    int rc = 0;
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
        rc = cb(arg, (const char *)sqlite3_column_text(s, 0),
                (uint64_t)sqlite3_column_int64(s, 1));
    sqlite3_finalize(s);
    return rc;
}

int relay_store_case_get(relay_store *st, const uint8_t case_id[16], Sanji__Case **out,
                         sj_error *err)
{
    *out = NULL;
    int rc = pend_case(st, case_id, out, err);
    if (rc != SJ_ENOTFOUND)
        return rc;
    if (st->pend_lost || (st->sync_gen && relay_cache_written(st->cc) < st->sync_gen))
        if ((rc = cache_sync(st, err)) != 0)
            return rc;
    return relay_cache_case_get(st->cc, case_id, out, err);
}

int relay_store_case_get_by_number(relay_store *st, const char *number, Sanji__Case **out,
                                   sj_error *err)
{
    *out = NULL;
    int rc = cache_sync(st, err);
    return rc != 0 ? rc : relay_cache_case_get_by_number(st->cc, number, out, err);
}

int relay_store_case_each(relay_store *st, const char *unit, relay_store_case_cb cb, void *arg,
                          sj_error *err)
{
    int rc = cache_sync(st, err);
    return rc != 0 ? rc : relay_cache_case_each(st->cc, unit, cb, arg, err);
}

int relay_store_case_search(relay_store *st, const Sanji__CaseListQuery *q,
                            const sj_case_search_viewer *viewer, relay_store_case_cb cb, void *arg,
                            uint32_t *total, bool *capped, sj_error *err)
{
    int rc = cache_sync(st, err);
    return rc != 0 ? rc
                   : relay_cache_case_search(st->cc, q, viewer, cb, arg, total, capped, err);
}

int relay_store_case_events(relay_store *st, const uint8_t case_id[16], relay_store_event_cb cb,
                            void *arg, sj_error *err)
{
    int rc = cache_sync(st, err);
    return rc != 0 ? rc : relay_cache_case_events(st->cc, case_id, cb, arg, err);
}

/* ---- reference data ------------------------------------------------------ */

static const char SQL_REF_PUT[] =
    "INSERT OR REPLACE INTO refdata (kind, version, payload) VALUES (?, ?, ?)";
static const char SQL_REF_GET[] = "SELECT version, payload FROM refdata WHERE kind = ?";

int relay_store_ref_put(relay_store *st, relay_ref_kind kind, uint64_t version,
                        const uint8_t *payload, size_t len, sj_error *err)
{
    int rc = begin(st, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = prep(st, SQL_REF_PUT, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_int(s, 1, (int)kind);
    sqlite3_bind_int64(s, 2, (int64_t)version);
    sqlite3_bind_blob(s, 3, len ? (const void *)payload : "", (int)len, SQLITE_STATIC);
    return step_done(st, s, err, "reference data");
}

int relay_store_ref_get(relay_store *st, relay_ref_kind kind, uint64_t *version,
                        uint8_t **payload, size_t *len, sj_error *err)
{
    *version = 0;
    *payload = NULL;
    *len = 0;
    sqlite3_stmt *s = prep(st, SQL_REF_GET, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_int(s, 1, (int)kind);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *version = (uint64_t)sqlite3_column_int64(s, 0);
        *len = (size_t)sqlite3_column_bytes(s, 1);
        *payload = dup_blob(sqlite3_column_blob(s, 1), *len);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return db_fail(st, err, "reference data");
    return *payload ? 0 : sj_error_set(err, SJ_ENOMEM, NULL);
}

/* ---- stations and meta --------------------------------------------------- */

static const char SQL_ST_PUT[] =
    "INSERT OR REPLACE INTO stations (node, connected, last_seen_ms, outbox_depth,"
    " cert_not_after_ms) VALUES (?, ?, ?, ?, ?)";

int relay_store_station_put(relay_store *st, const relay_station *station, sj_error *err)
{
    int rc = begin(st, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = prep(st, SQL_ST_PUT, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_text(s, 1, station->node, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, station->connected ? 1 : 0);
    sqlite3_bind_int64(s, 3, station->last_seen_ms);
    sqlite3_bind_int64(s, 4, station->outbox_depth);
    sqlite3_bind_int64(s, 5, station->cert_not_after_ms);
    return step_done(st, s, err, "station");
}

int relay_store_station_each(relay_store *st, relay_store_station_cb cb, void *arg,
                             sj_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           st->format_version < 3
                               ? "SELECT node, connected, last_seen_ms, outbox_depth, 0"
                                 " FROM stations ORDER BY node"
                               : "SELECT node, connected, last_seen_ms, outbox_depth,"
                                 " cert_not_after_ms FROM stations ORDER BY node",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(st, err, "stations");
    int rc = 0;
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        relay_station row = {
            .node = (const char *)sqlite3_column_text(s, 0),
            .connected = sqlite3_column_int(s, 1) != 0,
            .last_seen_ms = sqlite3_column_int64(s, 2),
            .outbox_depth = (uint32_t)sqlite3_column_int64(s, 3),
            .cert_not_after_ms = sqlite3_column_int64(s, 4),
        };
        rc = cb(arg, &row);
    }
    sqlite3_finalize(s);
    return rc;
}

static const char SQL_META_SET[] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)";

int relay_store_meta_set(relay_store *st, const char *key, const char *value, sj_error *err)
{
    if (strcmp(key, "format") == 0 || strcmp(key, "format_version") == 0 ||
        strcmp(key, "node_id") == 0)
        return sj_error_set(err, SJ_EINVAL, "meta key %s is fixed", key);
    int rc = begin(st, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = prep(st, SQL_META_SET, err);
    if (s == NULL)
        return SJ_EDB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    return step_done(st, s, err, "meta");
}

int relay_store_meta_get(relay_store *st, const char *key, char *buf, size_t cap)
{
    return sj_sqlstore_meta_get(st->db, key, buf, cap);
}
