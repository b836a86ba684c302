/*
 * db.c - libpq boundary of the county server (see db.h).
 *
 * Parameterised statements are prepared once per connection and then run
 * with PQexecPrepared: the apply path runs the same dozen statements for
 * every message, and parsing and planning them each time was most of
 * PostgreSQL's CPU per message (docs/PERFORMANCE.md).  The cache is keyed
 * by the statement text and the connection (pointer and backend pid, so a
 * new connection at a reused address is not mistaken for the old one); it
 * is shared by the worker threads under a mutex.  Names are never reused,
 * so when the table fills it is simply emptied and statements are prepared
 * again under new names.
 *
 * countyd_db_pipeline() sends a few statements at once in libpq's pipeline
 * mode (libpq 14 and later) through the same cache: a statement not yet
 * prepared on the connection is prepared in the same pipeline.
 *
 * Entry points: countyd_db_connect(), countyd_db_exec(), countyd_db_end(), countyd_db_query(),
 * countyd_db_pipeline(), countyd_db_fail(), countyd_db_sqlstate(),
 * countyd_db_text_array(), countyd_db_text_array_nulls().
 */
#include "db.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CACHE_MAX 256

typedef struct stmt {
    const PGconn *db;
    int backend;
    uint64_t hash;
    char *sql;
    unsigned id;
} stmt;

static pthread_mutex_t stmt_lock = PTHREAD_MUTEX_INITIALIZER;
static stmt stmts[STMT_CACHE_MAX];
static size_t n_stmts;
static unsigned stmt_next_id;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The name of sql's prepared statement on db, or 0 (with a new id in
 * *fresh) when it must be prepared first. */
static unsigned stmt_find(const PGconn *db, int backend, uint64_t hash, const char *sql,
                          unsigned *fresh)
{
    unsigned id = 0;
    pthread_mutex_lock(&stmt_lock);
    for (size_t i = 0; i < n_stmts; i++)
        if (stmts[i].db == db && stmts[i].backend == backend && stmts[i].hash == hash &&
            strcmp(stmts[i].sql, sql) == 0) {
            id = stmts[i].id;
            break;
        }
    if (!id)
        *fresh = ++stmt_next_id;
    pthread_mutex_unlock(&stmt_lock);
    return id;
}

static void stmt_add(const PGconn *db, int backend, uint64_t hash, const char *sql, unsigned id)
{
    char *copy = strdup(sql);
    if (!copy)
        return; /* not cached: prepared again next time under a new name */
    pthread_mutex_lock(&stmt_lock);
    if (n_stmts == STMT_CACHE_MAX) {
        for (size_t i = 0; i < n_stmts; i++)
            free(stmts[i].sql);
        n_stmts = 0;
    }
    stmts[n_stmts++] = (stmt){.db = db, .backend = backend, .hash = hash, .sql = copy, .id = id};
    pthread_mutex_unlock(&stmt_lock);
}

/* Runs a parameterised statement through the cache; a single statement
 * without parameters (BEGIN, SAVEPOINT ...) and multi-statement scripts go
 * through PQexecParams as before. */
static PGresult *run_stmt(PGconn *db, const char *sql, int n, const char *const *params)
{
    if (n == 0)
        return PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    int backend = PQbackendPID(db);
    uint64_t hash = fnv1a(sql);
    unsigned fresh = 0;
    unsigned id = stmt_find(db, backend, hash, sql, &fresh);
    char name[24];
    if (!id) {
        snprintf(name, sizeof(name), "sj%u", fresh);
        PGresult *prep = PQprepare(db, name, sql, n, NULL);
        if (!prep || PQresultStatus(prep) != PGRES_COMMAND_OK)
            return prep; /* the failure is reported like the statement's own */
        PQclear(prep);
        stmt_add(db, backend, hash, sql, fresh);
        id = fresh;
    }
    snprintf(name, sizeof(name), "sj%u", id);
    return PQexecPrepared(db, name, n, params, NULL, NULL, 0);
}

static void strip_newline(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

int countyd_db_fail(PGconn *db, const PGresult *res, const char *what, sj_error *err)
{
    char msg[SJ_ERROR_MESSAGE_MAX];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *text = res ? PQresultErrorMessage(res) : NULL;
    if (!text || !*text)
        text = db ? PQerrorMessage(db) : "no connection";
    snprintf(msg, sizeof(msg), "%s", text);
    strip_newline(msg);
    if (!db || PQstatus(db) != CONNECTION_OK)
        return sj_error_set(err, SJ_EDB_CONN, "数据库连接中断 (database connection lost) while %s: %s",
                            what, msg);
    /* The SQLSTATE leads the message so that callers can tell a unique
     * violation from a trigger refusal without parsing the text. */
    return sj_error_set(err, SJ_EDB, "SQLSTATE %s: %s: %s", state ? state : "XX000", what, msg);
}

const char *countyd_db_sqlstate(const sj_error *err, char out[6])
{
    out[0] = '\0';
    if (err && strncmp(err->message, "SQLSTATE ", 9) == 0 && strlen(err->message) >= 14) {
        memcpy(out, err->message + 9, 5);
        out[5] = '\0';
    }
    return out;
}

/* "running "<first words of sql>"": the first words identify the
 * statement in the log. */
static void describe(const char *sql, char *what, size_t cap)
{
    snprintf(what, cap, "running \"%.60s\"", sql);
    for (char *p = what; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

/* What every county session needs: UTF8 and the China time zone. */
static int session_setup(PGconn *db, sj_error *err)
{
    if (PQsetClientEncoding(db, "UTF8") != 0)
        return countyd_db_fail(db, NULL, "setting client encoding UTF8", err);
    return countyd_db_exec(db, "SET TIME ZONE 'Asia/Shanghai'", 0, NULL, err);
}

int countyd_db_connect(const char *conninfo, PGconn **out, sj_error *err)
{
    *out = NULL;
    PGconn *db = PQconnectdb(conninfo ? conninfo : "");
    if (!db)
        return sj_error_set(err, SJ_ENOMEM, "out of memory while connecting to the database");
    if (PQstatus(db) != CONNECTION_OK) {
        char msg[SJ_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db));
        strip_newline(msg);
        PQfinish(db);
        return sj_error_set(err, SJ_EDB_CONN,
                            "无法连接数据库，请检查 database 配置与 PostgreSQL 是否运行 "
                            "(cannot connect to the database; check the conninfo): %s",
                            msg);
    }
    int rc = session_setup(db, err);
    if (rc != 0) {
        PQfinish(db);
        return rc;
    }
    *out = db;
    return 0;
}

int countyd_db_query(PGconn *db, const char *sql, int n, const char *const *params,
                     PGresult **out, sj_error *err)
{
    *out = NULL;
    PGresult *res = run_stmt(db, sql, n, params);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char what[128];
        describe(sql, what, sizeof(what));
        int rc = countyd_db_fail(db, res, what, err);
        PQclear(res);
        return rc;
    }
    *out = res;
    return 0;
}

int countyd_db_exec(PGconn *db, const char *sql, int n, const char *const *params, sj_error *err)
{
    PGresult *res;
    int rc = countyd_db_query(db, sql, n, params, &res, err);
    PQclear(res);
    return rc;
}

int countyd_db_end(PGconn *db, int rc, sj_error *err)
{
    if (rc == 0)
        rc = countyd_db_exec(db, "COMMIT", 0, NULL, err);
    if (rc != 0) {
        sj_error ignored;
        (void)countyd_db_exec(db, "ROLLBACK", 0, NULL, &ignored);
    }
    return rc;
}

/* Reads what is left of a pipeline up to its sync point and leaves
 * pipeline mode; a connection that cannot leave it is reset, so that it is
 * never left in a state the next statement cannot use. */
static void pipeline_finish(PGconn *db, bool synced)
{
    if (synced) {
        int nulls = 0;
        while (nulls < 2 && PQstatus(db) == CONNECTION_OK) {
            PGresult *r = PQgetResult(db);
            if (!r) {
                nulls++;
                continue;
            }
            nulls = 0;
            ExecStatusType st = PQresultStatus(r);
            PQclear(r);
            if (st == PGRES_PIPELINE_SYNC)
                break;
        }
    }
    if (PQexitPipelineMode(db) != 1 && PQstatus(db) == CONNECTION_OK) {
        sj_error ignored;
        PQreset(db);
        if (PQstatus(db) == CONNECTION_OK)
            (void)session_setup(db, &ignored); /* on failure the next statement reports it */
    }
}

/* Sends the n statements of a pipeline and its sync point, each prepared
 * once per connection (ids[i] its prepared name's number; fresh[i] when
 * this pipeline prepares it).  On failure the pipeline mode is left. */
static int pipeline_send(PGconn *db, int backend, const countyd_db_stmt *st, size_t n,
                         unsigned *ids, bool *fresh, uint64_t *hashes, sj_error *err)
{
    if (PQenterPipelineMode(db) != 1)
        return countyd_db_fail(db, NULL, "entering pipeline mode", err);
    char name[24];
    for (size_t i = 0; i < n; i++) {
        unsigned f = 0;
        hashes[i] = fnv1a(st[i].sql);
        ids[i] = stmt_find(db, backend, hashes[i], st[i].sql, &f);
        fresh[i] = ids[i] == 0;
        if (fresh[i]) {
            /* The same text twice in one pipeline is prepared once. */
            for (size_t k = 0; k < i; k++)
                if (fresh[k] && hashes[k] == hashes[i] && strcmp(st[k].sql, st[i].sql) == 0) {
                    fresh[i] = false;
                    f = ids[k];
                    break;
                }
            ids[i] = f;
        }
        snprintf(name, sizeof(name), "sj%u", ids[i]);
        if ((fresh[i] && PQsendPrepare(db, name, st[i].sql, st[i].n, NULL) != 1) ||
            PQsendQueryPrepared(db, name, st[i].n, st[i].params, NULL, NULL, 0) != 1) {
            int rc = countyd_db_fail(db, NULL, "sending a pipeline", err);
            bool synced = PQpipelineSync(db) == 1;
            pipeline_finish(db, synced);
            return rc;
        }
    }
    if (PQpipelineSync(db) != 1) {
        int rc = countyd_db_fail(db, NULL, "sending a pipeline", err);
        pipeline_finish(db, false);
        return rc;
    }
    return 0;
}

int countyd_db_pipeline(PGconn *db, countyd_db_stmt *st, size_t n, sj_error *err)
{
    for (size_t i = 0; i < n; i++)
        st[i].res = NULL;
    if (n == 0 || n > COUNTYD_DB_PIPELINE_MAX)
        return sj_error_set(err, SJ_EINVAL, "a pipeline holds 1 to %d statements, not %zu",
                            COUNTYD_DB_PIPELINE_MAX, n);
    int backend = PQbackendPID(db);
    unsigned ids[COUNTYD_DB_PIPELINE_MAX];
    bool fresh[COUNTYD_DB_PIPELINE_MAX];
    uint64_t hashes[COUNTYD_DB_PIPELINE_MAX];
    int rc = pipeline_send(db, backend, st, n, ids, fresh, hashes, err);
    if (rc != 0)
        return rc;
    PGresult *failed = NULL;
    const char *failed_sql = NULL;
    bool lost = false;
    for (size_t i = 0; i < n && !lost; i++) {
        for (int part = fresh[i] ? 0 : 1; part < 2; part++) {
            PGresult *r = PQgetResult(db);
            if (!r) {
                lost = true; /* the connection failed: no result where one was due */
                break;
            }
            ExecStatusType s = PQresultStatus(r);
            bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
            if (ok && part == 0 && !failed)
                stmt_add(db, backend, hashes[i], st[i].sql, ids[i]);
            if (ok && part == 1 && !failed) {
                st[i].res = r;
            } else if (!ok && !failed) {
                failed = r;
                failed_sql = st[i].sql;
            } else {
                PQclear(r);
            }
            /* Each statement's results end with a NULL. */
            PGresult *end;
            while ((end = PQgetResult(db)) != NULL)
                PQclear(end);
        }
    }
    pipeline_finish(db, true);
    if (!failed && !lost)
        return 0;
    char what[128];
    describe(failed_sql ? failed_sql : "a pipeline", what, sizeof(what));
    rc = countyd_db_fail(db, failed, what, err);
    PQclear(failed);
    for (size_t i = 0; i < n; i++) {
        PQclear(st[i].res);
        st[i].res = NULL;
    }
    return rc;
}

/* The array literal of items; with nulls, a NULL item is the SQL NULL
 * (unquoted), else the empty string. */
static int text_array(const char *const *items, size_t n, bool nulls, char **out)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(items[i] ? items[i] : "") + 5;
    char *a = malloc(cap);
    if (!a)
        return SJ_ENOMEM;
    size_t k = 0;
    a[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            a[k++] = ',';
        if (nulls && !items[i]) {
            memcpy(a + k, "NULL", 4);
            k += 4;
            continue;
        }
        a[k++] = '"';
        for (const char *p = items[i] ? items[i] : ""; *p; p++) {
            if (*p == '"' || *p == '\\')
                a[k++] = '\\';
            a[k++] = *p;
        }
        a[k++] = '"';
    }
    a[k++] = '}';
    a[k] = '\0';
    *out = a;
    return 0;
}

int countyd_db_text_array(const char *const *items, size_t n, char **out)
{
    return text_array(items, n, false, out);
}

int countyd_db_text_array_nulls(const char *const *items, size_t n, char **out)
{
    return text_array(items, n, true, out);
}
