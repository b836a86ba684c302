/*
 * case_cache.c - the relay's case cache in its own file, written by its
 * own thread from the store's feed table (case_cache.h says why).
 *
 * Threads: the writer thread uses only c->w and its statements; the loop
 * thread only c->rd and its statements; the counters between them (what
 * was committed to the store, what is written here) are under c->mu.
 *
 * Entry points: the relay_cache_* functions of case_cache.h.
 */
#include "case_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "orgunit.h"

/* The search columns (common/domain/case_search.h) before the snapshot,
 * which is read only for the rows a page shows; the events of each case;
 * how far each village's feed is in the cache. */
static const char SCHEMA[] =
    "CREATE TABLE cases (case_id BLOB PRIMARY KEY, village TEXT NOT NULL, number TEXT,"
    " registered_at_ms INTEGER NOT NULL" SJ_CASE_SEARCH_COLUMNS_SQL "snapshot BLOB NOT NULL);\n"
    "CREATE INDEX cases_village ON cases(village, registered_at_ms);\n"
    "CREATE INDEX cases_number ON cases(number);\n" SJ_CASE_SEARCH_INDEXES_SQL
    "CREATE TABLE events (case_id BLOB NOT NULL, seq INTEGER NOT NULL, event_pb BLOB NOT NULL,"
    " PRIMARY KEY (case_id, seq)) WITHOUT ROWID;\n"
    "CREATE TABLE cached (village TEXT PRIMARY KEY, seq INTEGER NOT NULL);\n";

/* A case row is written in two statements with the same parameters.  The
 * first inserts a new case, or updates in place (not INSERT OR REPLACE,
 * which deletes the row and every index entry and inserts them again) the
 * columns an action changes: SQLite rewrites the entries of only those
 * indexes whose columns the SET names, so the eight indexes on what is
 * fixed at registration (village, number, time, item, applicant, first
 * receiver) are left alone.  The second writes the whole row only when one
 * of those fixed columns did change after all (a correction at the
 * county); otherwise it is one primary-key lookup.  Relay CPU per action:
 * docs/PERFORMANCE.md "The case cache's indexes". */
#define CASE_PARAMS_SQL "?1, ?2, ?3, ?4, ?5, " SJ_CASE_SEARCH_COLUMN_PARAMS
static const char SQL_CASE_PUT[] =
    "INSERT INTO cases (case_id, village, number, registered_at_ms, snapshot, "
    SJ_CASE_SEARCH_COLUMN_NAMES ") VALUES (" CASE_PARAMS_SQL ")"
    " ON CONFLICT (case_id) DO UPDATE SET snapshot = excluded.snapshot,"
    " status = excluded.status, holder_level = excluded.holder_level,"
    " holder_unit = excluded.holder_unit, department = excluded.department,"
    " overdue = excluded.overdue, supervised = excluded.supervised,"
    " due_at_ms = excluded.due_at_ms, assignee = excluded.assignee, carrier = excluded.carrier";
/* ?9 - ?13 are the item code, applicant name, ID number, phone and first
 * receiver as sj_case_search_bind() binds them from ?6 (its column order,
 * SJ_CASE_SEARCH_COLUMN_NAMES). */
static const char SQL_CASE_FIXED[] =
    "UPDATE cases SET (village, number, registered_at_ms, snapshot, " SJ_CASE_SEARCH_COLUMN_NAMES
    ") = (?2, ?3, ?4, ?5, " SJ_CASE_SEARCH_COLUMN_PARAMS ")"
    " WHERE case_id = ?1 AND (village IS NOT ?2 OR number IS NOT ?3"
    " OR registered_at_ms IS NOT ?4 OR item_code IS NOT ?9 OR applicant_name IS NOT ?10"
    " OR id_number IS NOT ?11 OR phone IS NOT ?12 OR first_receiver IS NOT ?13)";
static const char SQL_EVENT_PUT[] =
    "INSERT OR REPLACE INTO events (case_id, seq, event_pb) VALUES (?, ?, ?)";
static const char SQL_MARK_PUT[] = "INSERT OR REPLACE INTO cached (village, seq) VALUES (?, ?)";

/* The store's feed rows past the marks, village by village in feed order. */
#define REPLAY_LIMIT 4096
#define STR_(x) #x
#define STR(x) STR_(x)
static const char SQL_REPLAY[] =
    "SELECT f.village, f.seq, f.update_pb FROM s.cursors k"
    " LEFT JOIN cached c ON c.village = k.village"
    " JOIN s.feed f ON f.village = k.village AND f.seq > coalesce(c.seq, 0)"
    " WHERE k.seq > coalesce(c.seq, 0) ORDER BY f.village, f.seq LIMIT " STR(REPLAY_LIMIT);

/* Marks ahead of the store's feed: the cache belongs to another copy of it. */
static const char SQL_STALE[] =
    "SELECT count(*) FROM cached c LEFT JOIN s.cursors k ON k.village = c.village"
    " WHERE coalesce(k.seq, 0) < c.seq";

struct relay_cache {
    char path[1100];
    char store_path[1024];
    bool read_only;
    sqlite3 *rd; /* the loop thread's */
    sqlite3_stmt *rd_get, *rd_number;
    sqlite3 *w; /* the writer thread's */
    sqlite3_stmt *w_case, *w_fixed, *w_event, *w_mark, *w_replay;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    uint64_t committed, written, attempts;
    size_t rows;      /* feed updates committed since the writer last began */
    int64_t first_ms; /* when the first of them was */
    bool first;       /* the catch-up at start is still to be made */
    bool want_now, stop;
    sj_error last; /* the writer's last failure (code 0: none) */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int db_fail(const relay_cache *c, sqlite3 *db, sj_error *err, const char *what)
{
    return sj_error_set(err, SJ_EDB, "中继案件缓存出错 (relay case cache error): %s: %s (%s)",
                        what, sqlite3_errmsg(db), c->path);
}

static int corrupt(const relay_cache *c, sj_error *err, const char *detail)
{
    return sj_error_set(err, SJ_ESTORE_CORRUPT,
                        "中继案件缓存已损坏；请停止服务并删除该文件，重新启动时会从中继存储重建"
                        " (the relay's case cache %s is damaged: %s. Stop the relay and delete "
                        "the file; the next start writes it again from the relay store)",
                        c->path, detail);
}

/* ---- the writer thread ----------------------------------------------------------- */

static int step_done(relay_cache *c, sqlite3_stmt *s, sj_error *err, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : db_fail(c, c->w, err, what);
}

/* m packed into *buf (the caller frees it), its length in *n. */
static int pack(const ProtobufCMessage *m, uint8_t **buf, size_t *n)
{
    *n = protobuf_c_message_get_packed_size(m);
    if ((*buf = malloc(*n ? *n : 1)) == NULL)
        return SJ_ENOMEM;
    protobuf_c_message_pack(m, *buf);
    return 0;
}

/* Writes the case snapshot and the event of one feed update. */
static int put_update(relay_cache *c, const Sanji__FeedUpdate *u, sj_error *err)
{
    uint8_t *buf;
    size_t n;
    int rc = 0;
    const Sanji__Case *k = u->snapshot;
    if (k && k->case_id.len == 16) {
        if (pack(&k->base, &buf, &n) != 0)
            return sj_error_set(err, SJ_ENOMEM, NULL);
        sqlite3_stmt *const both[] = {c->w_case, c->w_fixed};
        for (size_t i = 0; rc == 0 && i < 2; i++) {
            sqlite3_stmt *s = both[i];
            sqlite3_bind_blob(s, 1, k->case_id.data, 16, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, k->village && k->village[0] ? k->village : u->village, -1,
                              SQLITE_STATIC);
            sqlite3_bind_text(s, 3, k->number ? k->number : "", -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 4, k->registered_at_ms);
            sqlite3_bind_blob(s, 5, buf, (int)n, SQLITE_STATIC);
            sj_case_search_bind(s, 6, k);
            rc = step_done(c, s, err, i == 0 ? "case upsert" : "case correction");
        }
        free(buf);
    }
    const Sanji__CaseEvent *e = u->event;
    if (rc == 0 && e && e->case_id.len == 16 && e->seq > 0) {
        if (pack(&e->base, &buf, &n) != 0)
            return sj_error_set(err, SJ_ENOMEM, NULL);
        sqlite3_stmt *s = c->w_event;
        sqlite3_bind_blob(s, 1, e->case_id.data, 16, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, e->seq);
        sqlite3_bind_blob(s, 3, buf, (int)n, SQLITE_STATIC);
        rc = step_done(c, s, err, "event insert");
        free(buf);
    }
    return rc;
}

static int put_mark(relay_cache *c, const char *village, int64_t seq, sj_error *err)
{
    sqlite3_bind_text(c->w_mark, 1, village, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(c->w_mark, 2, seq);
    return step_done(c, c->w_mark, err, "cache mark");
}

/* Empties a cache whose marks are ahead of the store's feed. */
static int drop_stale(relay_cache *c, sj_error *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(c->w, SQL_STALE, -1, &q, NULL) != SQLITE_OK)
        return db_fail(c, c->w, err, "cache check");
    int step = sqlite3_step(q);
    bool stale = step == SQLITE_ROW && sqlite3_column_int64(q, 0) > 0;
    sqlite3_finalize(q);
    if (step != SQLITE_ROW)
        return db_fail(c, c->w, err, "cache check");
    if (stale && sqlite3_exec(c->w, "DELETE FROM cases; DELETE FROM events; DELETE FROM cached",
                              NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(c, c->w, err, "cache reset");
    return 0;
}

/* One transaction: up to REPLAY_LIMIT feed rows past the marks, and the
 * marks moved past them.  *n: the rows read. */
static int write_some(relay_cache *c, bool check, size_t *n, sj_error *err)
{
    *n = 0;
    /* Deferred: BEGIN IMMEDIATE would take the write lock of the attached
     * store as well, and hold the relay's own writes up; the cache file
     * has no other writer. */
    if (sqlite3_exec(c->w, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(c, c->w, err, "BEGIN");
    int rc = check ? drop_stale(c, err) : 0;
    char village[32] = "";
    int64_t seq = 0;
    sqlite3_stmt *q = c->w_replay;
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        if (village[0] && strcmp(village, v ? v : "") != 0)
            rc = put_mark(c, village, seq, err);
        snprintf(village, sizeof village, "%s", v ? v : "");
        seq = sqlite3_column_int64(q, 1);
        (*n)++;
        /* A row that does not decode (damaged since it was stored) is
         * passed over: the feed read reports it (relay_store_feed_next). */
        Sanji__FeedUpdate *u = sanji__feed_update__unpack(
            NULL, (size_t)sqlite3_column_bytes(q, 2), sqlite3_column_blob(q, 2));
        if (rc == 0 && u)
            rc = put_update(c, u, err);
        sanji__feed_update__free_unpacked(u, NULL);
    }
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = db_fail(c, c->w, err, "feed read");
    sqlite3_reset(q);
    if (rc == 0 && village[0])
        rc = put_mark(c, village, seq, err);
    if (rc == 0 && sqlite3_exec(c->w, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(c, c->w, err, "COMMIT");
    if (rc != 0)
        sqlite3_exec(c->w, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Everything the feed holds past the marks, REPLAY_LIMIT rows a
 * transaction. */
static int write_all(relay_cache *c, bool check, sj_error *err)
{
    size_t n;
    int rc;
    do {
        rc = write_some(c, check, &n, err);
        check = false;
    } while (rc == 0 && n == REPLAY_LIMIT);
    return rc;
}

/* Whether the writer has a batch to write now (under c->mu). */
static bool batch_due(const relay_cache *c)
{
    if (c->first || c->want_now || c->stop)
        return true;
    return c->committed > c->written &&
           (c->rows >= RELAY_CACHE_BATCH || mono_ms() >= c->first_ms + RELAY_CACHE_WAIT_MS);
}

static void wait_until(relay_cache *c, int64_t at_mono_ms)
{
    /* The condition variable's clock is CLOCK_MONOTONIC (relay_cache_open). */
    struct timespec ts = {.tv_sec = at_mono_ms / 1000, .tv_nsec = (at_mono_ms % 1000) * 1000000};
    pthread_cond_timedwait(&c->work, &c->mu, &ts);
}

/* Copies the store's WAL into the store file, without holding up its
 * writer (PASSIVE); the relay's own connection does not checkpoint
 * (relay_cache_open()), so that the copy and its fsync of the store file
 * stay off the relay's loop. */
static void checkpoint_store(relay_cache *c)
{
    sqlite3_exec(c->w, "PRAGMA s.wal_checkpoint(PASSIVE)", NULL, NULL, NULL);
}

static void *writer_main(void *arg)
{
    relay_cache *c = arg;
    pthread_mutex_lock(&c->mu);
    int64_t checkpoint_at = mono_ms() + RELAY_CACHE_WAIT_MS;
    for (;;) {
        if (mono_ms() >= checkpoint_at) {
            pthread_mutex_unlock(&c->mu);
            checkpoint_store(c);
            pthread_mutex_lock(&c->mu);
            checkpoint_at = mono_ms() + RELAY_CACHE_WAIT_MS;
        }
        if (!batch_due(c)) {
            int64_t until = checkpoint_at;
            if (c->committed > c->written && c->first_ms + RELAY_CACHE_WAIT_MS < until)
                until = c->first_ms + RELAY_CACHE_WAIT_MS;
            wait_until(c, until);
            continue;
        }
        if (c->stop && !c->first && c->committed == c->written)
            break;
        uint64_t gen = c->committed;
        bool check = c->first;
        c->rows = 0; /* the next commit's updates set first_ms again */
        pthread_mutex_unlock(&c->mu);
        sj_error err;
        sj_error_clear(&err);
        int rc = write_all(c, check, &err);
        pthread_mutex_lock(&c->mu);
        c->attempts++;
        if (rc == 0) {
            c->written = gen;
            c->first = false;
            c->last.code = 0;
        } else {
            c->last = err;
        }
        pthread_cond_broadcast(&c->done);
        if (rc != 0) {
            /* Tried again in a second (a full disk, a lock held by a backup);
             * a stop gives up: the next start catches up. */
            if (c->stop)
                break;
            wait_until(c, mono_ms() + 1000);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- open and close --------------------------------------------------------------- */

static int prepare_all(relay_cache *c, sj_error *err)
{
    if (sqlite3_prepare_v2(c->w, SQL_CASE_PUT, -1, &c->w_case, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->w, SQL_CASE_FIXED, -1, &c->w_fixed, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->w, SQL_EVENT_PUT, -1, &c->w_event, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->w, SQL_MARK_PUT, -1, &c->w_mark, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->w, SQL_REPLAY, -1, &c->w_replay, NULL) != SQLITE_OK)
        return db_fail(c, c->w, err, "prepare");
    return 0;
}

/* Whether the open file holds the cache's three tables (else: new, or not
 * a cache, or damaged). */
static bool looks_like_cache(sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    bool ok = sqlite3_prepare_v2(db,
                                 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
                                 " name IN ('cases', 'events', 'cached')",
                                 -1, &q, NULL) == SQLITE_OK &&
              sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 3;
    sqlite3_finalize(q);
    if (!ok)
        return false;
    ok = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, NULL) == SQLITE_OK &&
         sqlite3_step(q) == SQLITE_ROW &&
         strcmp((const char *)sqlite3_column_text(q, 0), "ok") == 0;
    sqlite3_finalize(q);
    return ok;
}

static void remove_files(const char *path)
{
    char p[1200];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static int open_conn(relay_cache *c, int flags, sqlite3 **db, sj_error *err)
{
    if (sqlite3_open_v2(c->path, db, flags, NULL) != SQLITE_OK) {
        int rc = sj_error_set(err, SJ_EIO, "中继案件缓存无法打开 (cannot open the relay's case "
                                           "cache %s: %s); check the directory's permissions",
                              c->path, *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*db, 5000);
    sqlite3_extended_result_codes(*db, 1);
    return 0;
}

/* The writer's connection: the file made a cache (a new one, or one that
 * was not, replaced), WAL without fsync at commit, the store attached. */
static int open_writer(relay_cache *c, sj_error *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    int rc = open_conn(c, flags, &c->w, err);
    if (rc == 0 && !looks_like_cache(c->w)) {
        sqlite3_close(c->w);
        c->w = NULL;
        remove_files(c->path);
        if ((rc = open_conn(c, flags, &c->w, err)) == 0 &&
            sqlite3_exec(c->w, SCHEMA, NULL, NULL, NULL) != SQLITE_OK)
            rc = db_fail(c, c->w, err, "create");
    }
    if (rc != 0)
        return rc;
    if (sqlite3_exec(c->w, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(c->w, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(c, c->w, err, "settings");
    sqlite3_stmt *a = NULL;
    if (sqlite3_prepare_v2(c->w, "ATTACH DATABASE ? AS s", -1, &a, NULL) != SQLITE_OK)
        return db_fail(c, c->w, err, "attach");
    sqlite3_bind_text(a, 1, c->store_path, -1, SQLITE_STATIC);
    int step = sqlite3_step(a);
    sqlite3_finalize(a);
    if (step != SQLITE_DONE)
        return db_fail(c, c->w, err, "attach the store");
    return prepare_all(c, err);
}

static int start_writer(relay_cache *c, sj_error *err)
{
    c->first = true;
    if (pthread_create(&c->thread, NULL, writer_main, c) != 0)
        return sj_error_set(err, SJ_ENOMEM, "cannot start the case cache's writer thread");
    c->started = true;
    return 0;
}

int relay_cache_open(const char *store_path, bool read_only, relay_cache **out, sj_error *err)
{
    *out = NULL;
    relay_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    snprintf(c->path, sizeof c->path, "%s.cache", store_path);
    snprintf(c->store_path, sizeof c->store_path, "%s", store_path);
    c->read_only = read_only;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->done, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_until()'s clock */
    pthread_cond_init(&c->work, &ca);
    pthread_condattr_destroy(&ca);
    int rc = 0;
    if (read_only) {
        /* A reader (sanji-relayctl) that cannot open the cache reads the
         * store without it: no case is read then. */
        sj_error scratch;
        if (access(c->path, F_OK) == 0)
            (void)open_conn(c, SQLITE_OPEN_READONLY, &c->rd, &scratch);
    } else if ((rc = open_writer(c, err)) == 0 &&
               (rc = open_conn(c, SQLITE_OPEN_READWRITE, &c->rd, err)) == 0) {
        rc = start_writer(c, err);
    }
    if (rc != 0) {
        relay_cache_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void relay_cache_close(relay_cache *c)
{
    if (c == NULL)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_cond_signal(&c->work);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    sqlite3_finalize(c->w_case);
    sqlite3_finalize(c->w_fixed);
    sqlite3_finalize(c->w_event);
    sqlite3_finalize(c->w_mark);
    sqlite3_finalize(c->w_replay);
    sqlite3_finalize(c->rd_get);
    sqlite3_finalize(c->rd_number);
    sqlite3_close(c->w);
    sqlite3_close(c->rd);
    pthread_cond_destroy(&c->work);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- the loop thread's side ------------------------------------------------------- */

uint64_t relay_cache_committed(relay_cache *c, size_t n)
{
    if (!c->started)
        return 0;
    pthread_mutex_lock(&c->mu);
    c->committed++;
    bool was_idle = c->rows == 0;
    if (was_idle)
        c->first_ms = mono_ms();
    c->rows += n;
    /* The writer sleeps without a deadline when nothing waits, and until
     * the first update's deadline otherwise: woken for the first and for
     * a full batch only. */
    if (was_idle || c->rows >= RELAY_CACHE_BATCH)
        pthread_cond_signal(&c->work);
    uint64_t gen = c->committed;
    pthread_mutex_unlock(&c->mu);
    return gen;
}

uint64_t relay_cache_written(relay_cache *c)
{
    if (!c->started)
        return UINT64_MAX;
    pthread_mutex_lock(&c->mu);
    uint64_t w = c->written;
    pthread_mutex_unlock(&c->mu);
    return w;
}

int relay_cache_sync(relay_cache *c, sj_error *err)
{
    if (!c->started)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    uint64_t target = c->committed, attempts = c->attempts;
    while (c->first || c->written < target) {
        if (c->attempts > attempts && c->last.code != 0) {
            *err = c->last;
            rc = c->last.code;
            break;
        }
        c->want_now = true;
        pthread_cond_signal(&c->work);
        pthread_cond_wait(&c->done, &c->mu);
    }
    c->want_now = false;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- reads (loop thread) ------------------------------------------------------------ */

static int case_from_stmt(relay_cache *c, sqlite3_stmt *s, Sanji__Case **out, sj_error *err)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sanji__case__unpack(NULL, (size_t)sqlite3_column_bytes(s, 0),
                                   sqlite3_column_blob(s, 0));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE)
        return SJ_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return db_fail(c, c->rd, err, "case read");
    return *out ? 0 : corrupt(c, err, "a cached case does not decode");
}

int relay_cache_case_get(relay_cache *c, const uint8_t case_id[16], Sanji__Case **out,
                         sj_error *err)
{
    *out = NULL;
    if (c->rd == NULL)
        return SJ_ENOTFOUND;
    if (c->rd_get == NULL &&
        sqlite3_prepare_v2(c->rd, "SELECT snapshot FROM cases WHERE case_id = ?", -1,
                           &c->rd_get, NULL) != SQLITE_OK)
        return db_fail(c, c->rd, err, "prepare");
    sqlite3_bind_blob(c->rd_get, 1, case_id, 16, SQLITE_TRANSIENT);
    return case_from_stmt(c, c->rd_get, out, err);
}

int relay_cache_case_get_by_number(relay_cache *c, const char *number, Sanji__Case **out,
                                   sj_error *err)
{
    *out = NULL;
    if (c->rd == NULL)
        return SJ_ENOTFOUND;
    if (c->rd_number == NULL &&
        sqlite3_prepare_v2(c->rd, "SELECT snapshot FROM cases WHERE number = ? AND number <> ''",
                           -1, &c->rd_number, NULL) != SQLITE_OK)
        return db_fail(c, c->rd, err, "prepare");
    sqlite3_bind_text(c->rd_number, 1, number, -1, SQLITE_TRANSIENT);
    return case_from_stmt(c, c->rd_number, out, err);
}

int relay_cache_case_each(relay_cache *c, const char *unit, relay_cache_case_cb cb, void *arg,
                          sj_error *err)
{
    if (c->rd == NULL)
        return 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->rd,
                           "SELECT snapshot, village FROM cases"
                           " ORDER BY registered_at_ms DESC, case_id DESC",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(c, c->rd, err, "case list");
    int rc = 0;
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        const char *village = (const char *)sqlite3_column_text(s, 1);
        if (unit && !sj_orgunit_contains(unit, village))
            continue;
        Sanji__Case *k = sanji__case__unpack(NULL, (size_t)sqlite3_column_bytes(s, 0),
                                             sqlite3_column_blob(s, 0));
        if (k == NULL) {
            rc = corrupt(c, err, "a cached case does not decode");
            break;
        }
        rc = cb(arg, k);
        sanji__case__free_unpacked(k, NULL);
    }
    sqlite3_finalize(s);
    return rc;
}

typedef struct search_ctx {
    relay_cache *c;
    relay_cache_case_cb cb;
    void *arg;
    sj_error *err;
} search_ctx;

static int search_row(void *arg, const void *blob, size_t len)
{
    search_ctx *x = arg;
    Sanji__Case *k = sanji__case__unpack(NULL, len, blob);
    if (k == NULL)
        return corrupt(x->c, x->err, "a cached case does not decode");
    int rc = x->cb(x->arg, k);
    sanji__case__free_unpacked(k, NULL);
    return rc;
}

int relay_cache_case_search(relay_cache *c, const Sanji__CaseListQuery *q,
                            const sj_case_search_viewer *viewer, relay_cache_case_cb cb,
                            void *arg, uint32_t *total, bool *capped, sj_error *err)
{
    if (c->rd == NULL) {
        *total = 0;
        *capped = false;
        return 0;
    }
    search_ctx x = {c, cb, arg, err};
    return sj_case_search_run(c->rd, "snapshot", q, viewer, search_row, &x, total, capped, err);
}

int relay_cache_case_events(relay_cache *c, const uint8_t case_id[16], relay_cache_event_cb cb,
                            void *arg, sj_error *err)
{
    if (c->rd == NULL)
        return 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->rd, "SELECT event_pb FROM events WHERE case_id = ? ORDER BY seq",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(c, c->rd, err, "event list");
    sqlite3_bind_blob(s, 1, case_id, 16, SQLITE_STATIC);
    int rc = 0;
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        Sanji__CaseEvent *e = sanji__case_event__unpack(NULL, (size_t)sqlite3_column_bytes(s, 0),
                                                        sqlite3_column_blob(s, 0));
        if (e == NULL) {
            rc = corrupt(c, err, "a cached event does not decode");
            break;
        }
        rc = cb(arg, e);
        sanji__case_event__free_unpacked(e, NULL);
    }
    sqlite3_finalize(s);
    return rc;
}
