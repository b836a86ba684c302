/*
 * test_backup_restore.c - the backups of deploy/backup on a running
 * county, and what a restore of the county database brings back and
 * loses (docs/OPERATIONS.md section 7).
 *
 * The real tiers on loopback (tests/lib/tiers.h) and the station 张官营村
 * with the `sanji` CLI:
 *
 *   1. case A is registered and recorded;
 *   2. while everything runs: sanji-backup-county.sh dumps the county
 *      database, sanji-backup-store.sh copies the relay's and the
 *      station's SQLite stores (each copy passes its integrity check);
 *   3. case B is registered and recorded (after the dump);
 *   4. the county stops and its database is destroyed (dropped and made
 *      again, empty);
 *   5. case C is registered at the station: the relay stores it in its
 *      queue (the county is down), and the relay's store is copied again;
 *   6. sanji-restore-county.sh restores the dump (and refuses a database
 *      that is not empty), `migrate` runs, the county starts;
 *   7. the relay resends its queue: C is recorded once; A is there; B is
 *      lost: the relay had deleted it from its queue when the county
 *      recorded it, the station's outbox too, so no tier can resend it;
 *      the relay's cache still shows it (how it is found), and its case
 *      number is given to C, the next case of the day;
 *   8. the relay is put back on its copy of step 5 (C queued again): it
 *      resends C, and the county's dedup answers it from the stored
 *      result: C stays recorded exactly once;
 *   9. the documented realignment: with the queue empty the relay's store
 *      and then the station's are moved aside; both sync again from the
 *      county and show A and C, not B.
 *
 * Nothing waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
 *
 * Entry point: main().
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX 65536
#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define VILLAGE "410423101201"
#define PERSON "p-410423101201-01"
#define DBNAME "sanji_backup"
#define RUN_MS 120000

typedef struct world {
    sj_test_tiers t;
    char conninfo[1024];
    char backups[PATH_MAX];
    char script_log[PATH_MAX];
    PGconn *db;
} world;

static world W;

typedef sj_test_case_ref kase;

/* ---- helpers ------------------------------------------------------------------ */

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

/* Runs a script of deploy/backup with its arguments; its output goes to
 * script.log.  Returns its exit status. */
static int script(const char *name, const char *a1, const char *a2)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.3800s/deploy/backup/%s", W.t.source, name);
    const char *argv[] = {path, a1, a2, NULL};
    return sj_test_proc_run(argv, NULL, W.script_log, RUN_MS);
}

/* The one file in folder dir whose name starts with prefix and ends with
 * suffix (fails when there is not exactly one). */
static void the_backup(const char *dir, const char *prefix, const char *suffix, char out[PATH_MAX])
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), ls = strlen(suffix);
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && l > ls &&
            strcmp(e->d_name + l - ls, suffix) == 0) {
            snprintf(out, PATH_MAX, "%.3800s/%.255s", dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    if (n != 1)
        fail_msg("%d backups %s*%s in %s, want 1 (see %s)", n, prefix, suffix, dir,
                 W.script_log);
}

/* SELECT count(*) in a SQLite file (read only); -1 when it cannot be read. */
static long sqlite_count(const char *path, const char *sql)
{
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

static void relay_db(char out[PATH_MAX])
{
    snprintf(out, PATH_MAX, "%s/relay.db", W.t.certs.dir);
}

static bool relay_queue_empty(void *arg)
{
    (void)arg;
    char p[PATH_MAX];
    relay_db(p);
    return sqlite_count(p, "SELECT count(*) FROM queue") == 0;
}

static bool relay_queue_one(void *arg)
{
    (void)arg;
    char p[PATH_MAX];
    relay_db(p);
    return sqlite_count(p, "SELECT count(*) FROM queue") == 1;
}

/* How many cases with this id the county has. */
static long county_cases(const kase *k)
{
    char sql[256];
    snprintf(sql, sizeof sql, "cases WHERE case_id = '%s'", k->id);
    return pgt_count(W.db, sql);
}

/* The relay's cache holds the case (its id as a 16-byte blob). */
static long relay_cases(const kase *k)
{
    char hex[40], sql[256], p[PATH_MAX];
    size_t n = 0;
    for (const char *c = k->id; *c && n < 32; c++)
        if (*c != '-')
            hex[n++] = *c;
    hex[n] = '\0';
    snprintf(sql, sizeof sql, "SELECT count(*) FROM cases WHERE case_id = x'%s'", hex);
    relay_db(p);
    strncat(p, ".cache", PATH_MAX - strlen(p) - 1); /* docs/RELAY.md "Format 7" */
    return sqlite_count(p, sql);
}

/* The relay's cache holds the case: its thread writes the feed into the
 * cache file a second after the feed at most (docs/RELAY.md "Format 7"),
 * so a reader of the file waits for that. */
static bool relay_has_case(void *arg)
{
    return relay_cases(arg) == 1;
}

static void reconnect(void)
{
    if (W.db)
        PQfinish(W.db);
    W.db = PQconnectdb(W.conninfo);
    if (PQstatus(W.db) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", W.conninfo, PQerrorMessage(W.db));
}

/* Drops the county's database and makes it again, empty: the disk lost. */
static void destroy_database(void)
{
    PQfinish(W.db);
    W.db = NULL;
    char base[1024];
    snprintf(base, sizeof base, "%s", W.conninfo);
    char *own = strstr(base, " dbname=" DBNAME);
    assert_non_null(own);
    *own = '\0'; /* the cluster's own database */
    PGconn *admin = PQconnectdb(base);
    if (PQstatus(admin) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", base, PQerrorMessage(admin));
    pgt_exec(admin, "DROP DATABASE " DBNAME " WITH (FORCE)");
    pgt_exec(admin, "CREATE DATABASE " DBNAME);
    PQfinish(admin);
    reconnect();
    assert_int_equal(pgt_count(W.db, "pg_tables WHERE schemaname = 'public'"), 0);
}

static int countyd(const char *cmd)
{
    char conf[PATH_MAX], log[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/county.conf", W.t.certs.dir);
    snprintf(log, sizeof log, "%s/migrate-again.log", W.t.certs.dir);
    const char *argv[] = {W.t.countyd, "--config", conf, cmd, NULL};
    return sj_test_proc_run(argv, NULL, log, RUN_MS);
}

/* Replaces the relay's store by src (NULL: none, a new store), with the
 * relay stopped; the store in place is kept as relay.db.<keep>. */
static void swap_relay_store(const char *src, const char *keep)
{
    sj_error err;
    assert_int_equal(sj_test_proc_stop(&W.t.relay, SJ_TEST_HANG_MS, &err), 0);
    char p[PATH_MAX], aside[PATH_MAX + 16], side[PATH_MAX + 8];
    relay_db(p);
    snprintf(aside, sizeof aside, "%s.%s", p, keep);
    assert_int_equal(rename(p, aside), 0);
    const char *sides[] = {"-wal", "-shm"};
    for (int i = 0; i < 2; i++) {
        snprintf(side, sizeof side, "%s%s", p, sides[i]);
        unlink(side); /* a clean stop leaves none; never a stale one beside a new file */
    }
    if (src) {
        char cmd[3 * PATH_MAX];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, p);
        const char *argv[] = {"sh", "-c", cmd, NULL};
        assert_int_equal(sj_test_proc_run(argv, NULL, W.script_log, RUN_MS), 0);
    }
    assert_int_equal(sj_test_proc_restart(&W.t.relay, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.relay, W.t.relay_port, SJ_TEST_HANG_MS, &err), 0);
}

static bool station_shows(void *arg)
{
    const kase *k = arg;
    static char out[OUT_MAX];
    if (cli(out, sizeof out, "show %s", k->id) == 0)
        return true;
    cli(out, sizeof out, "sync --wait 3");
    return false;
}

/* ---- the network ----------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    snprintf(W.backups, sizeof W.backups, "%s/backups", W.t.certs.dir);
    snprintf(W.script_log, sizeof W.script_log, "%s/scripts.log", W.t.certs.dir);
    if (mkdir(W.backups, 0700) != 0)
        return -1;
    W.db = pgt_fresh_db(DBNAME, W.conninfo, sizeof W.conninfo);
    if (!W.db)
        return -1;
    return sj_test_tiers_up_logged_in(&W.t, W.conninfo, STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    if (W.db)
        PQfinish(W.db);
    return sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP");
}

/* ---- the test ------------------------------------------------------------------ */

static void test_backup_destroy_restore(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    kase a, b, c;
    sj_error err;

    /* 1. */
    if (reg("甲", "--wait-applied --wait 30", &a) != 0)
        fail_msg("case A not recorded");
    /* 2. Online backups, everything running. */
    char station_db[PATH_MAX], relay_path[PATH_MAX];
    snprintf(station_db, sizeof station_db, "%s/" STATION ".db", W.t.certs.dir);
    relay_db(relay_path);
    assert_int_equal(script("sanji-backup-county.sh", W.conninfo, W.backups), 0);
    assert_int_equal(script("sanji-backup-store.sh", relay_path, W.backups), 0);
    assert_int_equal(script("sanji-backup-store.sh", station_db, W.backups), 0);
    char dump[PATH_MAX], relay_copy[PATH_MAX], station_copy[PATH_MAX];
    the_backup(W.backups, "sanji-county-", ".dump", dump);
    the_backup(W.backups, "relay-", ".db", relay_copy);
    the_backup(W.backups, STATION "-", ".db", station_copy);
    /* The relay's copy is a whole store: its cache has case A. */
    assert_int_equal(sqlite_count(relay_copy, "SELECT count(*) FROM stations"), 1);

    /* 3. Recorded after the dump. */
    if (reg("乙", "--wait-applied --wait 30", &b) != 0)
        fail_msg("case B not recorded");
    assert_int_equal(county_cases(&b), 1);

    /* 4. The county stops; its database is lost. */
    assert_int_equal(sj_test_proc_stop(&W.t.county, SJ_TEST_HANG_MS, &err), 0);
    destroy_database();

    /* 5. Work goes on at the station; the relay queues it. */
    reg("丙", "--wait 0", &c);
    cli(out, sizeof out, "sync --wait 2");
    if (!sj_test_poll_until(relay_queue_one, NULL, SJ_TEST_HANG_MS, 100))
        fail_msg("case C is not queued at the relay");
    /* Into a folder of its own: the copies are named by the second. */
    char queued_dir[PATH_MAX + 8], relay_queued[PATH_MAX];
    snprintf(queued_dir, sizeof queued_dir, "%s/queued", W.backups);
    assert_int_equal(mkdir(queued_dir, 0700), 0);
    assert_int_equal(script("sanji-backup-store.sh", relay_path, queued_dir), 0);
    the_backup(queued_dir, "relay-", ".db", relay_queued);
    assert_true(relay_queued[0] != '\0');
    assert_int_equal(sqlite_count(relay_queued, "SELECT count(*) FROM queue"), 1);

    /* 6. Restore into the empty database; a second restore is refused
     * (the database is not empty any more). */
    assert_int_equal(script("sanji-restore-county.sh", dump, W.conninfo), 0);
    assert_int_not_equal(script("sanji-restore-county.sh", dump, W.conninfo), 0);
    if (sj_test_count_lines(W.script_log, "is not empty") < 1)
        fail_msg("the second restore does not say why it was refused (%s)", W.script_log);
    assert_int_equal(countyd("migrate"), 0);
    assert_int_equal(sj_test_proc_restart(&W.t.county, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.county, W.t.county_port, SJ_TEST_HANG_MS, &err), 0);

    /* 7. The relay resends C; B is lost. */
    if (!sj_test_poll_until(relay_queue_empty, NULL, SJ_TEST_HANG_MS, 100))
        fail_msg("the relay's queue does not drain into the restored county");
    reconnect();
    assert_int_equal(county_cases(&a), 1);
    assert_int_equal(county_cases(&c), 1);
    assert_int_equal(county_cases(&b), 0);
    /* How the loss is found: the relay's cache has B (written from its
     * feed up to a second later: relay_has_case()). */
    if (!sj_test_poll_until(relay_has_case, &b, SJ_TEST_HANG_MS, 100))
        assert_int_equal(relay_cases(&b), 1);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT number FROM cases WHERE case_id = '%s'", c.id);
    char *c_number = pgt_scalar(W.db, sql);
    assert_non_null(c_number);
    /* B's number, given again: the county's numbering went back with it. */
    assert_string_equal(c_number, b.number);
    free(c_number);
    snprintf(sql, sizeof sql, "case_event WHERE case_id = '%s'", c.id);
    long c_events = pgt_count(W.db, sql);
    assert_true(c_events >= 1);

    /* 8. The relay's copy with C still queued: resent, answered by the
     * dedup, recorded once. */
    swap_relay_store(relay_queued, "live");
    if (!sj_test_poll_until(relay_queue_empty, NULL, SJ_TEST_HANG_MS, 100))
        fail_msg("the restored relay store's queue does not drain");
    assert_int_equal(county_cases(&c), 1);
    assert_int_equal(pgt_count(W.db, sql), c_events);

    /* 9. Realignment: a new relay store, then a new station store, both
     * synced from the county: A and C, and no B. */
    swap_relay_store(NULL, "old");
    char aside[PATH_MAX + 8];
    snprintf(aside, sizeof aside, "%s.old", station_db);
    assert_int_equal(rename(station_db, aside), 0);
    assert_int_equal(sj_test_tiers_station_login(&W.t, STATION, PERSON), 0);
    if (!sj_test_poll_until(station_shows, &a, SJ_TEST_HANG_MS, 200))
        fail_msg("the new station store never shows case A");
    if (!sj_test_poll_until(station_shows, &c, SJ_TEST_HANG_MS, 200))
        fail_msg("the new station store never shows case C");
    assert_int_not_equal(cli(out, sizeof out, "show %s", b.id), 0);
    if (!sj_test_poll_until(relay_has_case, &c, SJ_TEST_HANG_MS, 100))
        fail_msg("the new relay store never holds case C");
    assert_int_equal(relay_cases(&b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_destroy_restore),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
