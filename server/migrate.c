/*
 * migrate.c - applies the embedded schema migrations (see migrate.h).
 *
 * Entry points: countyd_migrate(), countyd_migrate_version(),
 * countyd_migrate_check(), countyd_migrate_latest().
 */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"

/* Key of the advisory lock that serialises migrators ("sanjimig"). */
#define MIGRATE_LOCK_KEY "7308613432373893479"

static const char SQL_BOOTSTRAP[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

int countyd_migrate_latest(void)
{
    return countyd__n_migrations ? countyd__migrations[countyd__n_migrations - 1].version : 0;
}

static int read_version(PGconn *db, int *version, sj_error *err)
{
    PGresult *res;
    int rc = countyd_db_query(db,
                              "SELECT coalesce(max(version), 0) FROM schema_version", 0,
                              NULL, &res, err);
    if (rc != 0)
        return rc;
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static int newer_refusal(int have, sj_error *err)
{
    return sj_error_set(err, SJ_EDB_SCHEMA_NEWER,
                        "数据库结构版本 %d 比本程序支持的版本 %d 新，请升级 sanji-countyd "
                        "(database schema version %d is newer than this program knows, %d; "
                        "install the newer sanji-countyd)",
                        have, countyd_migrate_latest(), have, countyd_migrate_latest());
}

int countyd_migrate_version(PGconn *db, int *version, sj_error *err)
{
    PGresult *res;
    *version = 0;
    int rc = countyd_db_query(db, "SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL,
                              &res, err);
    if (rc != 0)
        return rc;
    int exists = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return exists ? read_version(db, version, err) : 0;
}

static void rollback(PGconn *db)
{
    sj_error ignored;
    /* Best effort: on a broken connection the server rolls back itself. */
    (void)countyd_db_exec(db, "ROLLBACK", 0, NULL, &ignored);
}

/* One transaction: lock, make sure schema_version exists, and apply
 * migration m unless it is already recorded.  Returns 1 if applied. */
static int apply_one(PGconn *db, const countyd_migration *m, sj_error *err)
{
    int rc, have;
    if ((rc = countyd_db_exec(db, "BEGIN", 0, NULL, err)) != 0)
        return rc;
    if ((rc = countyd_db_exec(db, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", 0, NULL,
                              err)) != 0 ||
        (rc = countyd_db_exec(db, SQL_BOOTSTRAP, 0, NULL, err)) != 0 ||
        (rc = read_version(db, &have, err)) != 0)
        goto fail;
    if (have > countyd_migrate_latest()) {
        rc = newer_refusal(have, err);
        goto fail;
    }
    if (have >= m->version) {
        rollback(db);
        return 0;
    }
    /* The migration text holds several statements: the simple-query
     * protocol runs them all inside our transaction.  It carries no
     * outside input, so no parameters are needed. */
    PGresult *res = PQexec(db, m->sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        char what[128];
        snprintf(what, sizeof(what), "applying migration %s", m->name);
        rc = countyd_db_fail(db, res, what, err);
        PQclear(res);
        goto fail;
    }
    PQclear(res);
    char vbuf[16];
    snprintf(vbuf, sizeof(vbuf), "%d", m->version);
    const char *params[] = {vbuf, m->name};
    if ((rc = countyd_db_exec(db, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", 2,
                              params, err)) != 0 ||
        (rc = countyd_db_exec(db, "COMMIT", 0, NULL, err)) != 0)
        goto fail;
    return 1;
fail:
    rollback(db);
    return rc;
}

int countyd_migrate(PGconn *db, int *from, int *to, sj_error *err)
{
    int before = 0, rc;
    if ((rc = countyd_migrate_version(db, &before, err)) != 0)
        return rc;
    if (from)
        *from = before;
    if (before > countyd_migrate_latest())
        return newer_refusal(before, err);
    for (size_t i = 0; i < countyd__n_migrations; i++) {
        if (countyd__migrations[i].version <= before)
            continue;
        rc = apply_one(db, &countyd__migrations[i], err);
        if (rc < 0)
            return rc;
    }
    int after = 0;
    if ((rc = countyd_migrate_version(db, &after, err)) != 0)
        return rc;
    if (to)
        *to = after;
    return 0;
}

int countyd_migrate_check(PGconn *db, sj_error *err)
{
    int have, rc;
    if ((rc = countyd_migrate_version(db, &have, err)) != 0)
        return rc;
    if (have > countyd_migrate_latest())
        return newer_refusal(have, err);
    if (have < countyd_migrate_latest())
        return sj_error_set(err, SJ_EDB,
                            "数据库结构版本 %d 过旧，请先运行 sanji-countyd migrate "
                            "(database schema version %d is older than %d; run "
                            "`sanji-countyd migrate` first)",
                            have, have, countyd_migrate_latest());
    return 0;
}
