/*
 * test_backup_wal.c - the county's database lost with nothing lost: a
 * base backup and the WAL streamed synchronously by pg_receivewal, the
 * data directory destroyed under a running county, the restore by
 * deploy/backup/sanji-restore-county-wal.sh, and relays and stations
 * converging again (docs/OPERATIONS.md section 7, "Nothing lost").
 *
 * A private PostgreSQL cluster (tests/lib/pg_cluster.sh, pg_wal.sh), the
 * real tiers on loopback (tests/lib/tiers.h) and the station 张官营村 with
 * the `sanji` CLI:
 *
 *   1. pg_receivewal is the cluster's synchronous standby; a base backup
 *      is taken after the county's set-up;
 *   2. cases A and B are registered and recorded;
 *   3. the county stops, the database server stops at once and its data
 *      directory is removed;
 *   4. case C is registered at the station and queued at the relay;
 *   5. the data directory is laid down again from the base backup and the
 *      streamed WAL, the server recovers, the county starts on it;
 *   6. the relay's queue drains: A, B and C are recorded exactly once;
 *   7. case D is registered: its number is new (none given twice) and its
 *      change reaches the relay's cache through the feed, which only
 *      happens when the relay's cursor and the county's numbering agree:
 *      the tiers converged without realigning anything.
 *
 * Nothing waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "files.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX 65536
#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define PERSON "p-410423101201-01"
#define RUN_MS 180000

typedef struct world {
    sj_test_tiers t;
    char pgdir[PATH_MAX];   /* the private cluster (a link to its folder) */
    char conninfo[1024];
    char log[PATH_MAX];
    bool cluster;
} world;

static world W;

typedef sj_test_case_ref kase;

/* ---- helpers ------------------------------------------------------------------ */

/* Runs tests/lib/<script> <cmd> <pgdir>; its output to out (may be NULL). */
static int lib(const char *script, const char *cmd, char *out, size_t cap)
{
    char line[3 * PATH_MAX];
    snprintf(line, sizeof line, "'%.2000s/tests/lib/%s' %s '%.1000s' 2>>'%.1000s'", W.t.source,
             script, cmd, W.pgdir, W.log);
    FILE *f = popen(line, "r");
    if (!f)
        return -1;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    int st = pclose(f);
    if (out) {
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
            buf[--n] = '\0';
        snprintf(out, cap, "%s", buf);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int cli(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cli(char *out, size_t cap, const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return sj_test_tiers_cli(&W.t, STATION, "sanji123", out, cap, args);
}

/* Registers a case for applicant at the station (sj_test_tiers_register()). */
static int reg(const char *applicant, const char *wait, kase *k)
{
    int rc = sj_test_tiers_register(&W.t, STATION, applicant, wait, k);
    if (rc < 0)
        fail_msg("register %s: no case id", applicant);
    return rc;
}

/* One count from the relay's store, or (cache) from its case cache, the
 * file beside it (docs/RELAY.md "Format 7"). */
static long sqlite_count_in(bool cache, const char *sql)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/relay.db%s", W.t.certs.dir, cache ? ".cache" : "");
    sqlite3 *db = NULL;
    long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static long sqlite_count(const char *sql)
{
    return sqlite_count_in(false, sql);
}

static bool queue_is(void *arg)
{
    return sqlite_count("SELECT count(*) FROM queue") == *(long *)arg;
}

static bool relay_has(void *arg)
{
    const kase *k = arg;
    char hex[40], sql[256];
    size_t n = 0;
    for (const char *c = k->id; *c && n < 32; c++)
        if (*c != '-')
            hex[n++] = *c;
    hex[n] = '\0';
    snprintf(sql, sizeof sql, "SELECT count(*) FROM cases WHERE case_id = x'%s'", hex);
    return sqlite_count_in(true, sql) == 1;
}

/* A scalar of the county's database, as text ("" for none). */
static void county_value(const char *sql, char *out, size_t cap)
{
    PGconn *db = PQconnectdb(W.conninfo);
    out[0] = '\0';
    if (PQstatus(db) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", W.conninfo, PQerrorMessage(db));
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(db));
    if (PQntuples(r) > 0)
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(db);
}

static long county_cases(const kase *k)
{
    char sql[256], v[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM cases WHERE case_id = '%s'", k->id);
    county_value(sql, v, sizeof v);
    return strtol(v, NULL, 10);
}

/* county.conf with the restored cluster's conninfo in place of the old. */
static void point_county_at(const char *old, const char *new_conninfo)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/county.conf", W.t.certs.dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[65536], out[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char *at = strstr(text, old);
    assert_non_null(at);
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, new_conninfo, at + strlen(old));
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(out, f);
    fclose(f);
}

/* ---- the network ----------------------------------------------------------- */

static int group_teardown(void **state);

static int setup(void)
{
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    snprintf(W.pgdir, sizeof W.pgdir, "%s/pg", W.t.certs.dir);
    snprintf(W.log, sizeof W.log, "%s/pg_wal.log", W.t.certs.dir);
    if (lib("pg_cluster.sh", "start", W.conninfo, sizeof W.conninfo) != 0) {
        fprintf(stderr, "pg_cluster.sh start failed (%s)\n", W.log);
        return -1;
    }
    W.cluster = true;
    /* 1. The WAL streamed before anything is written; the base backup
     * after the county's set-up, as a county takes its weekly one. */
    if (lib("pg_wal.sh", "receive", NULL, 0) != 0) {
        fprintf(stderr, "pg_wal.sh receive failed (%s)\n", W.log);
        return -1;
    }
    if (sj_test_tiers_configure(&W.t, W.conninfo, "[link]\nheartbeat = 300ms\n",
                                "[link]\nheartbeat = 300ms\n") != 0 ||
        lib("pg_wal.sh", "base", NULL, 0) != 0 || sj_test_tiers_write_station(&W.t, STATION) != 0 ||
        sj_test_tiers_start(&W.t) != 0)
        return -1;
    return sj_test_tiers_station_login(&W.t, STATION, PERSON);
}

/* cmocka skips the teardown after a failed setup: the cluster is removed
 * here then, never left in /tmp. */
static int group_setup(void **state)
{
    if (setup() == 0)
        return 0;
    group_teardown(state);
    return -1;
}

static int group_teardown(void **state)
{
    (void)state;
    /* The cluster's own folder is under /tmp: removed whatever happened,
     * before the network's folder (which holds its link) goes. */
    int rc = 0;
    if (W.t.county.pid && !sj_test_proc_stop_clean(&W.t.county, SJ_TEST_HANG_MS)) {
        fprintf(stderr, "sanji-countyd did not stop cleanly (%s)\n", W.t.county_log);
        rc = -1;
    }
    if (W.cluster && lib("pg_cluster.sh", "stop", NULL, 0) != 0)
        rc = -1;
    W.cluster = false;
    if (sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP") != 0)
        rc = -1;
    return rc;
}

/* ---- the test ------------------------------------------------------------------ */

static void test_nothing_lost(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    kase a, b, c, d;
    sj_error err;

    /* 2. */
    if (reg("甲", "--wait-applied --wait 30", &a) != 0 ||
        reg("乙", "--wait-applied --wait 30", &b) != 0)
        fail_msg("cases A and B not recorded");

    /* 3. The county stops; the database's disk is lost. */
    assert_int_equal(sj_test_proc_stop(&W.t.county, SJ_TEST_HANG_MS, &err), 0);
    if (lib("pg_wal.sh", "crash", NULL, 0) != 0)
        fail_msg("pg_wal.sh crash failed (%s)", W.log);

    /* 4. Work goes on at the station; the relay queues it. */
    reg("丙", "--wait 0", &c);
    cli(out, sizeof out, "sync --wait 2");
    long one = 1, none = 0;
    if (!sj_test_poll_until(queue_is, &one, SJ_TEST_HANG_MS, 100))
        fail_msg("case C is not queued at the relay");

    /* 5. Base backup + streamed WAL; the county on the restored cluster. */
    char restored[1024];
    if (lib("pg_wal.sh", "restore", restored, sizeof restored) != 0 || !restored[0])
        fail_msg("pg_wal.sh restore failed (%s)", W.log);
    point_county_at(W.conninfo, restored);
    snprintf(W.conninfo, sizeof W.conninfo, "%s", restored);
    assert_int_equal(sj_test_proc_restart(&W.t.county, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.county, W.t.county_port, SJ_TEST_HANG_MS, &err), 0);

    /* 6. Nothing lost, nothing twice. */
    if (!sj_test_poll_until(queue_is, &none, SJ_TEST_HANG_MS, 100))
        fail_msg("the relay's queue does not drain into the restored county");
    assert_int_equal(county_cases(&a), 1);
    assert_int_equal(county_cases(&b), 1);
    assert_int_equal(county_cases(&c), 1);

    /* 7. A new case: a new number, and its change reaches the relay. */
    if (reg("丁", "--wait-applied --wait 30", &d) != 0)
        fail_msg("case D not recorded after the restore");
    char numbers[256];
    county_value("SELECT count(DISTINCT number) || '/' || count(*) FROM cases", numbers,
                 sizeof numbers);
    assert_string_equal(numbers, "4/4");
    if (!sj_test_poll_until(relay_has, &d, SJ_TEST_HANG_MS, 100))
        fail_msg("case D's change never reaches the relay's cache: the feed did not converge");
    assert_true(relay_has(&c) && relay_has(&b) && relay_has(&a));
    /* The relay's cursor is the county's last change of the village. */
    char last[64];
    county_value("SELECT last_seq FROM feed_counter WHERE village = '410423101201'", last,
                 sizeof last);
    assert_int_equal(sqlite_count("SELECT seq FROM cursors WHERE village = '410423101201'"),
                     strtol(last, NULL, 10));
    /* And the station sees it too, from its own copy. */
    cli(out, sizeof out, "sync --wait 5");
    if (cli(out, sizeof out, "show %s", d.id) != 0)
        fail_msg("the station does not show case D: %s", out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_lost),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
