/*
 * pg_test.c - helpers for tests against the fixture's PostgreSQL cluster
 * (see pg_test.h).
 *
 * Entry points: pgt_fresh_db(), pgt_scalar(), pgt_count(), pgt_exec().
 */
#include "pg_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void read_conninfo(char *out, size_t cap)
{
    const char *dir = getenv("SANJI_PG_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/conninfo", dir ? dir : "");
    FILE *f = dir ? fopen(path, "r") : NULL;
    if (!f || !fgets(out, (int)cap, f)) {
        fprintf(stderr, "pg_test: no cluster conninfo at %s (run through ctest, whose fixture "
                        "pg_cluster_start starts the cluster)\n", path);
        exit(1);
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
}

PGconn *pgt_fresh_db(const char *name, char *out, size_t cap)
{
    char base[512];
    read_conninfo(base, sizeof(base));
    PGconn *admin = PQconnectdb(base);
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "pg_test: cannot connect to %s: %s\n", base, PQerrorMessage(admin));
        exit(1);
    }
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    pgt_exec(admin, sql);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    pgt_exec(admin, sql);
    PQfinish(admin);
    /* A later dbname in a conninfo overrides an earlier one. */
    snprintf(out, cap, "%s dbname=%s", base, name);
    PGconn *db = PQconnectdb(out);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "pg_test: cannot connect to %s: %s\n", out, PQerrorMessage(db));
        exit(1);
    }
    return db;
}

void pgt_exec(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

char *pgt_scalar(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %s: %s", sql, PQresultErrorMessage(r));
    char *v = NULL;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

long pgt_count(PGconn *db, const char *from_where)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", from_where);
    char *v = pgt_scalar(db, sql);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}
