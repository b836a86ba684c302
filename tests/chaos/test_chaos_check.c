/*
 * test_chaos_check.c - the chaos checker catches what it must.
 *
 * One small real chaos run (sanji-chaos, no faults, kept with --keep) gives
 * a finished network: PostgreSQL, the relay's store and the clients'
 * stores.  Each test then plants one kind of fault into those records with
 * SQL or through SQLite, runs only the checker on them (sanji-chaos
 * --check DIR, the same code as at the end of every run), asserts the
 * figures it prints, and puts the records back:
 *
 *   untouched run                 -> every figure 0, RESULT: PASS
 *   an APPLIED action's event     -> lost 1 (and its case's history, now
 *   deleted                          short of the stored version: 1)
 *   an event applied twice        -> duplicated 1 (history: 1)
 *   a case no client saved        -> phantom 1, missing in the 4 stores of
 *                                    its scope (relay, township desk,
 *                                    station, county desk)
 *   a relay cache row unlike the  -> diverged 1
 *   county's
 *   a village cache row unlike    -> diverged 1
 *   the county's
 *   a station's attachment row    -> attachments lost 1
 *   deleted at the county
 *   its stored bytes changed      -> attachments wrong 1 (SHA-256)
 *   its row copied under a new id -> attachments duplicated 1
 *   a county attachment of a file -> attachments phantom 1
 *   no station saved
 *   a REGISTER the station process -> lost 1 (its journal has it, its
 *   journaled, gone from its store    store, the record of what it saved,
 *                                    does not)
 *   an attachment the station      -> attachments lost 1
 *   process journaled, gone from
 *   its store
 *
 * And the run catches a crash: a run with --plant-crash (a SIGSEGV to a
 * relay that no fault of the schedule sent) must fail with crashed 1, the
 * relay's log and its stack (gdb's backtrace of the core, or the
 * sanitizer's own report in the sanitizer build).
 *
 * PostgreSQL's append-only triggers and foreign keys are bypassed for the
 * planting by session_replication_role = replica, as the superuser of the
 * private cluster.  Needs SANJI_BUILD_DIR and SANJI_SOURCE_DIR (ctest sets
 * both) and SANJI_CHAOS (the sanji-chaos program).
 *
 * Entry point: main().
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "proc.h"
#include "sanji.pb-c.h"

#define PGBIN "/usr/lib/postgresql/15/bin"
#define PHANTOM_CASE "00000000-0000-4000-8000-00000000beef"
#define PLANTED_ATTACHMENT "00000000-0000-4000-8000-0000000a77ac"
/* The station's attachment every attachment plant works on: the first by id. */
#define FIRST_ATTACHMENT "(SELECT attachment_id FROM attachment ORDER BY attachment_id LIMIT 1)"

/* The finished run every test plants into. */
static struct {
    char tmp[64];            /* this test's logs */
    char dir[PATH_MAX];      /* the kept run */
    char pgdir[PATH_MAX + 8];
    char conninfo[300];      /* as the cluster's superuser */
    char township[13], village[13];
    sj_test_proc pg;
    PGconn *db;
    int checks;
} g;

/* ---- helpers ------------------------------------------------------------------ */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
            } else {
                buf = nb;
            }
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* One statement list as the superuser with triggers and foreign keys off. */
static void sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sql(const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(g.db, text);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", text, PQresultErrorMessage(res));
    PQclear(res);
}

/* The first value of a query's first row, copied into out. */
static void sql_value(char *out, size_t cap, const char *text)
{
    PGresult *res = PQexec(g.db, text);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) {
        char why[512];
        snprintf(why, sizeof why, "%s", PQresultErrorMessage(res));
        PQclear(res);
        fail_msg("%s: no row (%s)", text, why);
    }
    snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* What the checker printed for one figure: the number after key in the
 * figures part of its output. */
static long figure(const char *out, const char *key)
{
    const char *fig = strstr(out, "== figures");
    const char *at = fig ? strstr(fig, key) : NULL;
    if (!at)
        fail_msg("no figure '%s' in the checker's output:\n%s", key, out);
    return strtol(at + strlen(key), NULL, 10);
}

/* Limits that only catch a hang (proc.h): a whole small run of sanji-chaos,
 * which has hang limits of its own inside (logging in, converging within
 * --bound CHAOS_BOUND, stopping), and one --check of it. */
#define CHAOS_BOUND "120"
#define RUN_LIMIT_MS (5 * SJ_TEST_HANG_MS)
#define CHECK_LIMIT_MS (2 * SJ_TEST_HANG_MS)

typedef struct expect {
    long lost, duplicated, phantom, wrong, bad_history, diverged, missing, behind;
    long att_lost, att_duplicated, att_wrong, att_phantom;
} expect;

/* Runs sanji-chaos --check on the kept run; returns its output (free it)
 * and its exit status in *status. */
static char *run_check(int *status)
{
    const char *chaos = getenv("SANJI_CHAOS");
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/check-%d.log", g.tmp, ++g.checks);
    const char *argv[] = {chaos, "--check", g.dir, NULL};
    sj_test_proc p = {0};
    sj_error err;
    if (sj_test_proc_start(&p, argv, NULL, log, &err) != 0)
        fail_msg("sanji-chaos --check: %s", err.message);
    if (sj_test_proc_wait(&p, CHECK_LIMIT_MS, &err) != 0)
        fail_msg("sanji-chaos --check: %s", err.message);
    *status = WIFEXITED(p.status) ? WEXITSTATUS(p.status) : 128 + WTERMSIG(p.status);
    sj_test_proc_free(&p);
    char *out = read_all(log);
    assert_non_null(out);
    return out;
}

static void check_expect(const expect *want, int want_status)
{
    int status;
    char *out = run_check(&status);
    if (status != want_status)
        print_message("checker output:\n%s\n", out);
    assert_int_equal(status, want_status);
    assert_int_equal(figure(out, "\nlost "), want->lost);
    assert_int_equal(figure(out, "\nduplicated "), want->duplicated);
    assert_int_equal(figure(out, "\nphantom rows "), want->phantom);
    assert_int_equal(figure(out, "\nwrong results "), want->wrong);
    assert_int_equal(figure(out, "\nbad histories "), want->bad_history);
    assert_int_equal(figure(out, ": diverged "), want->diverged);
    assert_int_equal(figure(out, ", missing "), want->missing);
    assert_int_equal(figure(out, ", cursors behind "), want->behind);
    assert_int_equal(figure(out, "\nattachments lost "), want->att_lost);
    assert_int_equal(figure(out, "\nattachments duplicated "), want->att_duplicated);
    assert_int_equal(figure(out, "\nattachments wrong "), want->att_wrong);
    assert_int_equal(figure(out, "\nattachments phantom "), want->att_phantom);
    assert_int_equal(figure(out, "\ncrashed "), 0);
    assert_non_null(strstr(out, want_status == 0 ? "RESULT: PASS" : "RESULT: FAIL (checks)"));
    if (want_status != 0)
        assert_non_null(strstr(out, "FINDING: "));
    free(out);
}

/* The last event of some case with more than one, made by a client, that
 * moved the case to another status: without an urge or a supervision the
 * history still replays, so deleting one would not show as planned. */
static void pick_last_event(char *case_id, size_t cap, char *seq, size_t seq_cap)
{
    static const char *const Q =
        "SELECT case_id::text || ' ' || seq FROM case_event e WHERE message_id IS NOT NULL"
        " AND seq > 1 AND from_status <> to_status"
        " AND seq = (SELECT max(seq) FROM case_event x WHERE x.case_id = e.case_id)"
        " ORDER BY case_id LIMIT 1";
    char both[128];
    sql_value(both, sizeof both, Q);
    char *sp = strchr(both, ' ');
    assert_non_null(sp);
    *sp = '\0';
    snprintf(case_id, cap, "%.36s", both); /* a uuid */
    snprintf(seq, seq_cap, "%.10s", sp + 1);
}

/* ---- the run ---------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    const char *chaos = getenv("SANJI_CHAOS");
    if (!chaos || !getenv("SANJI_BUILD_DIR") || !getenv("SANJI_SOURCE_DIR")) {
        fprintf(stderr, "SANJI_CHAOS, SANJI_BUILD_DIR and SANJI_SOURCE_DIR must be set\n");
        return -1;
    }
    snprintf(g.tmp, sizeof g.tmp, "/tmp/sanji-chaos-check-XXXXXX");
    if (!mkdtemp(g.tmp))
        return -1;
    /* A small run without faults, kept: one township, two stations.  Its
     * convergence bound only catches a hang: a slow machine is no finding. */
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/run.log", g.tmp);
    const char *argv[] = {chaos, "--seed", "31337", "--actions", "160", "--rate", "60",
                          "--faults", "0", "--townships", "1", "--villages", "2", "--keep",
                          "--bound", CHAOS_BOUND, NULL};
    sj_test_proc run = {0};
    sj_error err;
    if (sj_test_proc_start(&run, argv, NULL, log, &err) != 0 ||
        sj_test_proc_wait(&run, RUN_LIMIT_MS, &err) != 0) {
        fprintf(stderr, "sanji-chaos: %s\n", err.message);
        return -1;
    }
    char *out = read_all(log);
    int ok = WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0;
    sj_test_proc_free(&run);
    const char *up = out ? strstr(out, "network up in ") : NULL;
    const char *open = up ? strchr(up, '(') : NULL;
    if (!ok || !open || sscanf(open, "(%4000[^)])", g.dir) != 1) {
        fprintf(stderr, "the small run failed:\n%s\n", out ? out : "(no output)");
        free(out);
        return -1;
    }
    free(out);
    snprintf(g.pgdir, sizeof g.pgdir, "%s-pg", g.dir);

    /* Its PostgreSQL, up for every plant and check. */
    char path[PATH_MAX + 32], conninfo[256] = "";
    snprintf(path, sizeof path, "%s/conninfo", g.pgdir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(conninfo, sizeof conninfo, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    conninfo[strcspn(conninfo, "\r\n")] = '\0';
    const char *pp = strstr(conninfo, "port=");
    int port = pp ? atoi(pp + 5) : 0;
    char data[PATH_MAX + 16], portarg[32], sock[PATH_MAX + 40], pglog[PATH_MAX + 16];
    /* PostgreSQL runs as the test user, who may not pass through the
     * link's parents (tests/lib/pg_cluster.sh): give it the physical folder. */
    char *phys = realpath(g.pgdir, NULL);
    if (!phys) {
        fprintf(stderr, "%s: %s\n", g.pgdir, strerror(errno));
        return -1;
    }
    char pgpath[PATH_MAX];
    snprintf(pgpath, sizeof pgpath, "%s", phys);
    free(phys);
    snprintf(data, sizeof data, "%s/data", pgpath);
    snprintf(portarg, sizeof portarg, "port=%d", port);
    snprintf(sock, sizeof sock, "unix_socket_directories=%s", pgpath);
    snprintf(pglog, sizeof pglog, "%s/postgres.log", g.tmp);
    const char *pg_argv[] = {"setpriv", "--reuid=sanji-test", "--regid=sanji-test",
                             "--clear-groups", PGBIN "/postgres", "-D", data, "-c",
                             "listen_addresses=127.0.0.1", "-c", portarg, "-c", sock, NULL};
    if (sj_test_proc_start(&g.pg, getuid() == 0 ? pg_argv : pg_argv + 4, NULL, pglog, &err) != 0 ||
        sj_test_proc_wait_port(&g.pg, port, SJ_TEST_HANG_MS, &err) != 0) {
        fprintf(stderr, "PostgreSQL: %s\n", err.message);
        return -1;
    }
    snprintf(g.conninfo, sizeof g.conninfo, "host=127.0.0.1 port=%d dbname=sanji user=postgres",
             port);
    for (int i = 0; i < SJ_TEST_HANG_MS / 100 && PQping(g.conninfo) != PQPING_OK; i++)
        usleep(100000);
    g.db = PQconnectdb(g.conninfo);
    if (PQstatus(g.db) != CONNECTION_OK) {
        fprintf(stderr, "%s: %s\n", g.conninfo, PQerrorMessage(g.db));
        return -1;
    }
    PQclear(PQexec(g.db, "SET session_replication_role = replica"));
    PGresult *res = PQexec(g.db, "SELECT code FROM org_unit WHERE code IN (SELECT village FROM"
                                 " cases) ORDER BY code LIMIT 1");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    snprintf(g.village, sizeof g.village, "%s", PQgetvalue(res, 0, 0));
    snprintf(g.township, sizeof g.township, "%.9s000", g.village);
    PQclear(res);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g.db)
        PQfinish(g.db);
    if (g.pg.pid > 0) {
        sj_error err;
        (void)sj_test_proc_stop(&g.pg, SJ_TEST_HANG_MS, &err);
    }
    sj_test_proc_free(&g.pg);
    char cmd[5 * PATH_MAX];
    if (g.dir[0]) {
        /* pg_cluster.sh stop removes the cluster's private folder too. */
        snprintf(cmd, sizeof cmd, "%s/tests/lib/pg_cluster.sh stop '%s'; rm -rf '%s' '%s'",
                 getenv("SANJI_SOURCE_DIR"), g.pgdir, g.dir, g.tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", g.dir);
    }
    return 0;
}

/* ---- planting into a store --------------------------------------------------------- */

/* Bumps the version in the snapshot of one case of the store (its first by
 * id) and returns the original blob (free it) so that it can be put back. */
static void *store_bump_version(const char *store, uint8_t id[16], int *len)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(store, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT case_id, snapshot FROM cases ORDER BY case_id"
                                            " LIMIT 1", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(s, 0), 16);
    memcpy(id, sqlite3_column_blob(s, 0), 16);
    *len = sqlite3_column_bytes(s, 1);
    void *orig = malloc((size_t)*len);
    assert_non_null(orig);
    memcpy(orig, sqlite3_column_blob(s, 1), (size_t)*len);
    sqlite3_finalize(s);
    Sanji__Case *c = sanji__case__unpack(NULL, (size_t)*len, orig);
    assert_non_null(c);
    c->version++;
    size_t n = sanji__case__get_packed_size(c);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    sanji__case__pack(c, buf);
    sanji__case__free_unpacked(c, NULL);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE cases SET snapshot = ? WHERE case_id = ?", -1,
                                        &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(s, 1, buf, (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 2, id, 16, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(s);
    free(buf);
    sqlite3_close(db);
    return orig;
}

static void store_put_back(const char *store, const uint8_t id[16], const void *blob, int len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(store, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE cases SET snapshot = ? WHERE case_id = ?", -1,
                                        &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(s, 1, blob, len, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 2, id, 16, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* ---- the tests --------------------------------------------------------------------- */

static void test_untouched_run_passes(void **state)
{
    (void)state;
    expect none = {0};
    check_expect(&none, 0);
    /* The run attached files (every station's first case has one), and
     * each reached the county exactly once. */
    int status;
    char *out = run_check(&status);
    long saved = figure(out, "\nattachments ");
    assert_true(saved >= 2);
    assert_int_equal(figure(out, "at the county exactly once "), saved);
    assert_int_equal(figure(out, ", refused "), 0);
    /* One station ran as a process, saved actions and attached files. */
    assert_int_equal(figure(out, "\nstation processes "), 1);
    assert_true(figure(out, ": actions saved ") > 0);
    assert_true(figure(out, ", attachments ") > 0);
    free(out);
}

static void test_deleted_event_is_lost(void **state)
{
    (void)state;
    char cid[64], seq[16];
    pick_last_event(cid, sizeof cid, seq, sizeof seq);
    sql("CREATE TABLE planted_event AS SELECT * FROM case_event WHERE case_id = '%s' AND seq = %s;"
        "CREATE TABLE planted_feed AS SELECT * FROM feed WHERE case_id = '%s' AND event_seq = %s;"
        "DELETE FROM feed WHERE case_id = '%s' AND event_seq = %s;"
        "DELETE FROM case_event WHERE case_id = '%s' AND seq = %s",
        cid, seq, cid, seq, cid, seq, cid, seq);
    /* The action was acknowledged APPLIED; its case still says the version
     * the lost event made, which the history no longer reaches. */
    expect want = {.lost = 1, .bad_history = 1};
    check_expect(&want, 1);
    sql("INSERT INTO case_event SELECT * FROM planted_event;"
        "INSERT INTO feed SELECT * FROM planted_feed;"
        "DROP TABLE planted_event, planted_feed");
}

static void test_event_applied_twice_is_duplicated(void **state)
{
    (void)state;
    char cid[64], seq[16];
    pick_last_event(cid, sizeof cid, seq, sizeof seq);
    sql("CREATE TEMP TABLE twice AS SELECT * FROM case_event WHERE case_id = '%s' AND seq = %s;"
        "UPDATE twice SET seq = seq + 1;"
        "INSERT INTO case_event SELECT * FROM twice;"
        "DROP TABLE twice",
        cid, seq);
    expect want = {.duplicated = 1, .bad_history = 1};
    check_expect(&want, 1);
    sql("DELETE FROM case_event WHERE case_id = '%s' AND seq = %s + 1", cid, seq);
}

static void test_case_no_client_saved_is_phantom(void **state)
{
    (void)state;
    sql("CREATE TEMP TABLE extra AS SELECT * FROM cases WHERE village = '%s' LIMIT 1;"
        "UPDATE extra SET case_id = '" PHANTOM_CASE "', number = NULL;"
        "INSERT INTO cases SELECT * FROM extra;"
        "DROP TABLE extra",
        g.village);
    /* No REGISTER from a client, and absent from every store that must
     * hold its village's cases: the relay, the township desk and the
     * station (a county desk holds only the cases it opened). */
    expect want = {.phantom = 1, .missing = 3};
    check_expect(&want, 1);
    sql("DELETE FROM cases WHERE case_id = '" PHANTOM_CASE "'");
}

static void test_store_row_unlike_county_diverges(const char *store)
{
    uint8_t id[16];
    int len;
    void *orig = store_bump_version(store, id, &len);
    expect want = {.diverged = 1};
    check_expect(&want, 1);
    store_put_back(store, id, orig, len);
    free(orig);
}

static void test_relay_row_diverged(void **state)
{
    (void)state;
    char store[PATH_MAX + 64];
    snprintf(store, sizeof store, "%s/stores/relay-%s.db.cache", g.dir, g.township);
    test_store_row_unlike_county_diverges(store);
}

static void test_village_row_diverged(void **state)
{
    (void)state;
    char store[PATH_MAX + 64];
    snprintf(store, sizeof store, "%s/stores/station-%s.db", g.dir, g.village);
    test_store_row_unlike_county_diverges(store);
}

static void test_attachment_deleted_is_lost(void **state)
{
    (void)state;
    sql("CREATE TABLE planted_att AS SELECT * FROM attachment WHERE attachment_id = " FIRST_ATTACHMENT ";"
        "DELETE FROM attachment WHERE attachment_id IN (SELECT attachment_id FROM planted_att)");
    expect want = {.att_lost = 1};
    check_expect(&want, 1);
    sql("INSERT INTO attachment SELECT * FROM planted_att; DROP TABLE planted_att");
}

static void test_attachment_bytes_changed_is_wrong(void **state)
{
    (void)state;
    /* One byte of the stored file, past its magic: size and the row's
     * SHA-256 still agree with the station, the bytes' hash does not. */
    sql("UPDATE attachment_blob SET data = set_byte(data, 100, (get_byte(data, 100) + 1) %% 256)"
        " WHERE sha256 = (SELECT sha256 FROM attachment WHERE attachment_id = " FIRST_ATTACHMENT ")");
    expect want = {.att_wrong = 1};
    check_expect(&want, 1);
    sql("UPDATE attachment_blob SET data = set_byte(data, 100, (get_byte(data, 100) + 255) %% 256)"
        " WHERE sha256 = (SELECT sha256 FROM attachment WHERE attachment_id = " FIRST_ATTACHMENT ")");
}

static void test_attachment_twice_is_duplicated(void **state)
{
    (void)state;
    /* The same file of the same case under a second id: it arrived twice. */
    sql("CREATE TEMP TABLE twin AS SELECT * FROM attachment WHERE attachment_id = " FIRST_ATTACHMENT ";"
        "UPDATE twin SET attachment_id = '" PLANTED_ATTACHMENT "';"
        "INSERT INTO attachment SELECT * FROM twin; DROP TABLE twin");
    expect want = {.att_duplicated = 1};
    check_expect(&want, 1);
    sql("DELETE FROM attachment WHERE attachment_id = '" PLANTED_ATTACHMENT "'");
}

static void test_attachment_no_station_saved_is_phantom(void **state)
{
    (void)state;
    sql("CREATE TEMP TABLE other AS SELECT * FROM attachment WHERE attachment_id = " FIRST_ATTACHMENT ";"
        "UPDATE other SET attachment_id = '" PLANTED_ATTACHMENT "',"
        " sha256 = decode(repeat('ab', 32), 'hex');"
        "INSERT INTO attachment SELECT * FROM other; DROP TABLE other");
    expect want = {.att_phantom = 1};
    check_expect(&want, 1);
    sql("DELETE FROM attachment WHERE attachment_id = '" PLANTED_ATTACHMENT "'");
}

/* The store of the run's station process (sanji-chaos-station), named by
 * its journal <dir>/stations/<village>.journal. */
static void proc_store(char *out, size_t cap)
{
    char dir[PATH_MAX + 16], village[13] = "";
    snprintf(dir, sizeof dir, "%s/stations", g.dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) == 12 + 8 && strcmp(e->d_name + 12, ".journal") == 0)
            snprintf(village, sizeof village, "%.12s", e->d_name);
    closedir(d);
    assert_int_equal(strlen(village), 12);
    snprintf(out, cap, "%s/stores/station-%s.db", g.dir, village);
}

/* Runs statements on a store (no foreign keys: the copies are put back). */
static void store_exec(const char *store, const char *text)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open_v2(store, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", text, msg ? msg : "?");
    sqlite3_close(db);
}

static void test_proc_station_action_gone_from_store_is_lost(void **state)
{
    (void)state;
    char store[PATH_MAX + 64];
    proc_store(store, sizeof store);
    /* Its first registration: journaled after the library saved it, so
     * the store must still hold it. */
    store_exec(store, "CREATE TABLE planted_out AS SELECT * FROM outbox WHERE action = 1"
                      " ORDER BY seq LIMIT 1;"
                      "DELETE FROM outbox WHERE seq IN (SELECT seq FROM planted_out)");
    expect want = {.lost = 1};
    check_expect(&want, 1);
    store_exec(store, "INSERT INTO outbox SELECT * FROM planted_out; DROP TABLE planted_out");
}

static void test_proc_station_attachment_gone_from_store_is_lost(void **state)
{
    (void)state;
    char store[PATH_MAX + 64];
    proc_store(store, sizeof store);
    store_exec(store, "CREATE TABLE planted_att AS SELECT * FROM attachments WHERE local = 1"
                      " ORDER BY attachment_id LIMIT 1;"
                      "DELETE FROM attachments WHERE attachment_id IN"
                      " (SELECT attachment_id FROM planted_att)");
    expect want = {.att_lost = 1};
    check_expect(&want, 1);
    store_exec(store, "INSERT INTO attachments SELECT * FROM planted_att; DROP TABLE planted_att");
}

static void test_put_back_run_passes_again(void **state)
{
    /* Every plant was undone: the checker is clean again, so each finding
     * above came from its plant alone. */
    test_untouched_run_passes(state);
}

/* True when a crashing process here leaves a core file in its working
 * folder: kernel.core_pattern is a plain name, and the hard limit allows. */
static bool cores_possible(void)
{
    char pattern[256] = "";
    FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");
    if (f) {
        if (!fgets(pattern, sizeof pattern, f))
            pattern[0] = '\0';
        fclose(f);
    }
    struct rlimit rl;
    return pattern[0] != '\0' && pattern[0] != '|' && pattern[0] != '/' &&
           getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_max != 0;
}

static void test_planted_crash_is_reported(void **state)
{
    (void)state;
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/crash.log", g.tmp);
    const char *argv[] = {getenv("SANJI_CHAOS"), "--seed", "4242", "--actions", "120", "--rate",
                          "60", "--faults", "0", "--townships", "1", "--villages", "2",
                          "--bound", CHAOS_BOUND, "--plant-crash", NULL};
    sj_test_proc run = {0};
    sj_error err;
    if (sj_test_proc_start(&run, argv, NULL, log, &err) != 0 ||
        sj_test_proc_wait(&run, RUN_LIMIT_MS, &err) != 0)
        fail_msg("sanji-chaos: %s", err.message);
    int status = WIFEXITED(run.status) ? WEXITSTATUS(run.status) : 128 + WTERMSIG(run.status);
    sj_test_proc_free(&run);
    char *out = read_all(log);
    assert_non_null(out);
    /* A failing run keeps its folders: remove them, the cluster's private
     * folder too (its -pg is only a link to it: pg_cluster.sh stop). */
    const char *kept = strstr(out, "kept ");
    char dir[PATH_MAX] = "";
    if (kept && sscanf(kept, "kept %4000s", dir) == 1 && strncmp(dir, "/tmp/sanji-chaos-", 17) == 0) {
        char cmd[3 * PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "%s/tests/lib/pg_cluster.sh stop '%s-pg'; rm -rf '%s'",
                 getenv("SANJI_SOURCE_DIR"), dir, dir);
        if (system(cmd) != 0)
            print_message("could not remove %s\n", dir);
    }
    if (status != 1 || !strstr(out, "CRASH: sanji-relayd"))
        print_message("run output:\n%s\n", out);
    assert_int_equal(status, 1);
    assert_int_equal(figure(out, "\ncrashed "), 1);
    assert_int_equal(figure(out, "\nlost "), 0);
    assert_non_null(strstr(out, "CRASH: sanji-relayd"));
    assert_non_null(strstr(out, "RESULT: FAIL (crashes)"));
    /* The stack: from the core (gcc build) or from the sanitizer's report.
     * Where no core can be written (a core_pattern pipe, a hard limit of
     * 0) the run must at least say so. */
    bool stack = strstr(out, "backtrace of") && strstr(out, "#0 ");
    bool asan = strstr(out, "ERROR: AddressSanitizer") != NULL;
    bool no_core = strstr(out, "no core file in") != NULL;
    if (!stack && !asan && !(no_core && !cores_possible()))
        print_message("run output:\n%s\n", out);
    assert_true(stack || asan || (no_core && !cores_possible()));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untouched_run_passes),
        cmocka_unit_test(test_deleted_event_is_lost),
        cmocka_unit_test(test_event_applied_twice_is_duplicated),
        cmocka_unit_test(test_case_no_client_saved_is_phantom),
        cmocka_unit_test(test_relay_row_diverged),
        cmocka_unit_test(test_village_row_diverged),
        cmocka_unit_test(test_attachment_deleted_is_lost),
        cmocka_unit_test(test_attachment_bytes_changed_is_wrong),
        cmocka_unit_test(test_attachment_twice_is_duplicated),
        cmocka_unit_test(test_attachment_no_station_saved_is_phantom),
        cmocka_unit_test(test_proc_station_action_gone_from_store_is_lost),
        cmocka_unit_test(test_proc_station_attachment_gone_from_store_is_lost),
        cmocka_unit_test(test_put_back_run_passes_again),
        cmocka_unit_test(test_planted_crash_is_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
