/*
 * db.c - libpq boundary of the county server (see db.h).
 *
 * Entry points: countyd_db_connect(), countyd_db_exec(), countyd_db_query(),
 * countyd_db_fail(), countyd_db_sqlstate(), countyd_db_text_array().
 */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (PQsetClientEncoding(db, "UTF8") != 0) {
        int rc = countyd_db_fail(db, NULL, "setting client encoding UTF8", err);
        PQfinish(db);
        return rc;
    }
    int rc = countyd_db_exec(db, "SET TIME ZONE 'Asia/Shanghai'", 0, NULL, err);
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
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char what[128];
        /* The first words of the statement identify it in the log. */
        snprintf(what, sizeof(what), "running \"%.60s\"", sql);
        for (char *p = what; *p; p++)
            if (*p == '\n' || *p == '\t')
                *p = ' ';
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

int countyd_db_text_array(const char *const *items, size_t n, char **out)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(items[i] ? items[i] : "") + 3;
    char *a = malloc(cap);
    if (!a)
        return SJ_ENOMEM;
    size_t k = 0;
    a[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            a[k++] = ',';
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
