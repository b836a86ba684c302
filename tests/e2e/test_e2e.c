/*
 * test_e2e.c - the three tiers together on loopback: the real sanji-countyd
 * on a private PostgreSQL loaded with the demo county, a real sanji-relayd
 * for 张官营镇 (410423101000), and the `sanji` command-line client at
 * village stations, the township desk (both through the relay) and a county
 * desk (direct to the county).  Certificates come from the real sanji-pki.
 *
 * Every test drives the CLI with --json, then checks the county's
 * PostgreSQL rows (cases, case_event, feed, processed_message) and the
 * village's local copy (`sanji show` / `sanji list` read the station's
 * SQLite store), not only exit codes.
 *
 * Behaviours:
 *   full lifecycle village -> township -> county (签收, 派单 to a department
 *     that refuses it, re-dispatched, 接单, 回单, the 回单 returned,
 *     reported again, reviewed and resolved) -> back, feedback, closed;
 *   即办 at the village (handling AT_ONCE);
 *   退办 with a reason, reason visible at the village;
 *   一次告知 of several materials, supplement, resolved (SUPPLEMENTED);
 *   延期 through the CLI: asked by the township, refused to the asker,
 *     approved by the county (due time moves), asked again and refused;
 *     the village's copy shows the clock as the county recorded it;
 *   a village working while its relay is down, applied exactly once later;
 *   two levels acting on one version at once: one applied, one STALE_VERSION;
 *   a station acting on another village's case, and a station of another
 *     township: refused, nothing recorded;
 *   kill -9 of the county with messages in flight: all applied exactly once;
 *   kill -9 of the relay with its queue in flight: all applied exactly once;
 *   one `sanji sync` waits for the county's answers while it is reachable;
 *   feed deltas: the station that took its feed as deltas holds the same
 *     cases, to the byte, as a store of it that took every update whole;
 *   the network view (`sanji network`) at the county desk lists every
 *     township and village of the demo county, those never connected with
 *     warnings, and at the township desk the relay's own villages.
 *
 * Nothing waits a fixed time: the CLI's --wait is CLI_WAIT (it returns as
 * soon as its answer is in, so the figure only catches a hang), and every
 * state a test needs is polled for until SJ_TEST_HANG_MS (proc.h).  A
 * short --wait is kept only where the run is meant to end without an
 * answer (relay down, link refused), and what it then shows cannot
 * depend on the machine's speed, or is polled for.
 *
 * Entry point: main().  The whole network is set up once (group setup) and
 * every test works on its own new cases.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "case.h"
#include "certs.h"
#include "err.h"
#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX 65536
/* --wait of a CLI run that waits for an answer: it ends when the answer is
 * in, so this only catches a hang (seconds, as the CLI takes it). */
#define CLI_WAIT "120"

/* The stations of this network, by the name of their configuration file. */
#define V201 "v201"   /* village:410423101201 张官营村, through the relay */
#define V202 "v202"   /* village:410423101202 前营村, same township */
#define V301 "v301"   /* village:410423102201, a village of another township */
#define TDESK "tdesk" /* township-desk:410423101000 */
#define CDESK "cdesk" /* county-desk:410423000000:ops1, direct to the county */
#define DMZJ "dmzj"   /* department-desk:410423000000:mzj (县民政局), direct to the county */
#define DRSJ "drsj"   /* department-desk:410423000000:rsj (县人社局), direct to the county */

typedef struct world {
    sj_test_tiers t; /* the county and the relay; t.certs.dir is the network's folder */
    char conninfo[1024];
    PGconn *db;
} world;

static world W;

/* ---- small helpers ------------------------------------------------------ */

static const char *wpath(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", W.t.certs.dir, name);
    return buf;
}

/* ---- the sanji CLI -------------------------------------------------------- */

/* Starts `sanji --config <station>.conf --json <args>` in the network's
 * folder; args is a shell word list the test writes itself. */
static FILE *cli_start(const char *station, const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && exec '%s' --config %s.conf --json %s 2>>cli-%s.log",
             W.t.certs.dir, W.t.cli, station, args, station);
    FILE *f = popen(cmd, "r");
    if (!f)
        fail_msg("popen failed for %s", cmd);
    return f;
}

/* Reads the output of a started CLI into out; returns its exit status. */
static int cli_finish(FILE *f, char *out, size_t cap)
{
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int cli(const char *station, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int cli(const char *station, char *out, size_t cap, const char *fmt, ...)
{
    char args[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return cli_finish(cli_start(station, args), out, cap);
}

/* The value of the first "key": in a JSON text (string without quotes, or
 * a bare number/true/false), or "" when absent. */
static const char *jget(const char *json, const char *key, char *buf, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    buf[0] = '\0';
    if (!p)
        return buf;
    p += strlen(pat);
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p && *p != '"' && n + 1 < cap) {
            if (*p == '\\' && p[1])
                p++;
            buf[n++] = *p++;
        }
    } else {
        while (*p && *p != ',' && *p != '}' && *p != ']' && n + 1 < cap)
            buf[n++] = *p++;
    }
    buf[n] = '\0';
    return buf;
}

#define JEQ(json, key, want)                                                                    \
    do {                                                                                        \
        char jb_[512];                                                                          \
        const char *got_ = jget((json), (key), jb_, sizeof jb_);                                \
        if (strcmp(got_, (want)) != 0)                                                          \
            fail_msg("%s: got \"%s\", want \"%s\" in %s", (key), got_, (want), (json));         \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Syncs a station until its outbox has nothing unsent or unconfirmed and
 * the feed is caught up (the county's answers come back asynchronously). */
static void settle(const char *station)
{
    static char out[OUT_MAX];
    char b1[32], b2[32], b3[32];
    for (int64_t end = now_ms() + SJ_TEST_HANG_MS; now_ms() < end;) {
        int rc = cli(station, out, sizeof out, "sync --wait 5");
        if (rc == 0 && strcmp(jget(out, "saved", b1, sizeof b1), "0") == 0 &&
            strcmp(jget(out, "stored", b2, sizeof b2), "0") == 0 &&
            strcmp(jget(out, "caught_up", b3, sizeof b3), "true") == 0)
            return;
        sj_test_sleep_ms(100);
    }
    fail_msg("%s did not settle: %s", station, out);
}

/* Runs `sync --wait 1` at a station until its outbox shows nothing saved
 * and `stored` actions reached the township (the county frozen, so none
 * is answered); fails at the hang deadline.  One sync may end before the
 * relay stored them all on a loaded machine: the next one goes on. */
static void sync_until_stored(const char *station, const char *stored, char *out, size_t cap)
{
    char b1[32], b2[32];
    int rc = -1;
    for (int64_t end = now_ms() + SJ_TEST_HANG_MS; now_ms() < end;) {
        rc = cli(station, out, cap, "sync --wait 1");
        if (rc == 0 && strcmp(jget(out, "saved", b1, sizeof b1), "0") == 0 &&
            strcmp(jget(out, "stored", b2, sizeof b2), stored) == 0)
            return;
    }
    fail_msg("%s: want saved 0, stored %s; last sync exit %d: %s", station, stored, rc, out);
}

/* Registers a case at a village station and waits until the county has
 * recorded it; case_id receives the case's UUID, number its number. */
static void reg(const char *station, const char *item, char case_id[64], char number[64])
{
    static char out[OUT_MAX];
    int rc = cli(station, out, sizeof out,
                 "register --item %s --name 张三 --id 11010519491231002X --phone 13800138000 "
                 "--text '申请办理' --wait-applied --wait " CLI_WAIT,
                 item);
    if (rc != 0)
        fail_msg("register at %s: exit %d: %s", station, rc, out);
    JEQ(out, "state", "applied");
    jget(out, "case", case_id, 64);
    jget(out, "case_number", number, 64);
}

/* One action, checked locally against the station's up-to-date copy, then
 * recorded by the county (exit 0, state applied). */
static void act(const char *station, const char *case_ref, const char *args)
{
    static char out[OUT_MAX];
    settle(station);
    int rc = cli(station, out, sizeof out, "%s %s --wait-applied --wait " CLI_WAIT, args, case_ref);
    if (rc != 0)
        fail_msg("%s %s at %s: exit %d: %s", args, case_ref, station, rc, out);
    JEQ(out, "state", "applied");
}

/* ---- PostgreSQL ------------------------------------------------------------ */

static const char *pq(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *pq(const char *fmt, ...)
{
    static char ring[8][2048];
    static int k;
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *v = pgt_scalar(W.db, sql);
    char *slot = ring[k++ % 8];
    snprintf(slot, 2048, "%s", v ? v : "(null)");
    free(v);
    return slot;
}

#define PQEQ(want, ...)                                                                          \
    do {                                                                                         \
        const char *got_ = pq(__VA_ARGS__);                                                      \
        if (strcmp(got_, (want)) != 0)                                                           \
            fail_msg("SQL %s: got \"%s\", want \"%s\"", #__VA_ARGS__, got_, (want));             \
    } while (0)

/* The case's status and version in PostgreSQL equal the station's copy,
 * and the copy is the county's (not a local prediction). */
static void same_at_station(const char *station, const char *case_id)
{
    static char out[OUT_MAX];
    settle(station);
    int rc = cli(station, out, sizeof out, "show %s", case_id);
    if (rc != 0)
        fail_msg("show %s at %s: exit %d: %s", case_id, station, rc, out);
    char st[64], ver[32];
    jget(out, "status", st, sizeof st);
    jget(out, "version", ver, sizeof ver);
    assert_string_equal(ver, pq("SELECT version FROM cases WHERE case_id = '%s'", case_id));
    assert_string_equal(st, sj_case_status_name((sj_case_status)atoi(
                                pq("SELECT status FROM cases WHERE case_id = '%s'", case_id))));
    JEQ(out, "predicted", "false");
}

/* One value from an SQLite file in the network's folder (read-only; the
 * daemons use WAL, so reading while they run is safe). */
static const char *sq(const char *file, const char *sql, char *buf, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && sqlite3 -readonly %s \"%s\"", W.t.certs.dir, file, sql);
    FILE *f = popen(cmd, "r");
    if (!f)
        fail_msg("cannot run %s", cmd);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (pclose(f) != 0)
        fail_msg("sqlite3 failed: %s", cmd);
    return buf;
}

typedef struct relay_events_want {
    const char *sql, *events;
} relay_events_want;

static bool relay_events_are(void *arg)
{
    const relay_events_want *w = arg;
    char b[64];
    return strcmp(sq("relay.db.cache", w->sql, b, sizeof b), w->events) == 0;
}

/* The relay's copy and 张官营村's station have the whole feed of the
 * village and every event of the case, as PostgreSQL has them. */
static void replicas_converged(const char *case_id)
{
    char b[64], sql[512], hex[40];
    size_t k = 0;
    for (const char *p = case_id; *p && k + 1 < sizeof hex; p++)
        if (*p != '-')
            hex[k++] = (char)(*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
    hex[k] = '\0';
    settle(V201);
    const char *last = pq("SELECT last_seq FROM feed_counter WHERE village = '410423101201'");
    assert_string_equal(sq("relay.db", "SELECT seq FROM cursors WHERE village = '410423101201'", b, sizeof b),
                        last);
    assert_string_equal(sq("v201.db", "SELECT after_seq FROM cursors WHERE village = '410423101201'", b,
                           sizeof b),
                        last);
    const char *events = pq("SELECT count(*) FROM case_event WHERE case_id = '%s'", case_id);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE hex(case_id) = '%s'", hex);
    /* The relay writes its feed into its case cache in batches, at a
     * commit a second after the oldest (docs/RELAY.md "Format 7"); what it
     * serves always has them.  Read from the file: wait for that commit. */
    relay_events_want want = {sql, events};
    if (!sj_test_poll_until(relay_events_are, &want, SJ_TEST_HANG_MS, 50))
        assert_string_equal(sq("relay.db.cache", sql, b, sizeof b), events);
    assert_string_equal(sq("v201.db", sql, b, sizeof b), events);
}

/* Status number of a case in PostgreSQL. */
static const char *pg_status(const char *case_id)
{
    return pq("SELECT status FROM cases WHERE case_id = '%s'", case_id);
}

/* Every event of the case, as action numbers in order. */
static const char *pg_actions(const char *case_id)
{
    return pq("SELECT string_agg(action::text, ',' ORDER BY seq) FROM case_event "
              "WHERE case_id = '%s'", case_id);
}

/* Every event went out on the village's feed once, every applied message
 * was recorded once. */
static void feed_and_dedup_consistent(const char *case_id)
{
    const char *events = pq("SELECT count(*) FROM case_event WHERE case_id = '%s'", case_id);
    assert_string_equal(pq("SELECT count(*) FROM feed WHERE case_id = '%s'", case_id), events);
    assert_string_equal(pq("SELECT count(DISTINCT event_seq) FROM feed WHERE case_id = '%s'", case_id),
                        events);
    assert_string_equal(pq("SELECT count(*) FROM processed_message WHERE case_id = '%s' AND status = 2",
                           case_id),
                        pq("SELECT count(*) FROM case_event WHERE case_id = '%s' AND message_id IS NOT NULL",
                           case_id));
}

/* ---- the network ------------------------------------------------------------ */

static int station_conf(const char *name, const char *cert, int port, const char *peer)
{
    char f[64];
    snprintf(f, sizeof f, "%s.conf", name);
    return sj_test_write_file(W.t.certs.dir, f,
                              "[node]\ncert = %s.crt\nkey = %s.key\nca = ca/ca.crt\n"
                              "[server]\naddress = 127.0.0.1:%d\npeer = %s\n"
                              "[store]\npath = %s.db\n",
                              cert, cert, port, peer, name);
}

static int issue_village(const char *unit, const char *out_name)
{
    char out[PATH_MAX];
    const char *args[] = {"issue", "--dir", W.t.certs.ca_dir, "--role", "village", "--unit", unit,
                          "--out", wpath(out_name, out, sizeof out), NULL};
    return sj_test_certs_pki(&W.t.certs, args);
}

/* A county department's desk: its certificate names the department. */
static int issue_department(const char *code, const char *out_name)
{
    char out[PATH_MAX];
    const char *args[] = {"issue", "--dir", W.t.certs.ca_dir, "--role", "department-desk",
                          "--unit", "410423000000", "--name", code,
                          "--out", wpath(out_name, out, sizeof out), NULL};
    return sj_test_certs_pki(&W.t.certs, args);
}

static int login(const char *station, const char *person)
{
    static char out[OUT_MAX];
    int rc = 1;
    /* The first log-in fetches the person list; the relay may still be
     * getting it from the county, so it is tried until it works. */
    for (int64_t end = now_ms() + SJ_TEST_HANG_MS; rc != 0 && now_ms() < end;) {
        rc = cli(station, out, sizeof out, "login %s", person);
        if (rc != 0) {
            cli(station, out, sizeof out, "sync --wait 2");
            sj_test_sleep_ms(100);
        }
    }
    if (rc != 0)
        fprintf(stderr, "login %s at %s failed: %s\n", person, station, out);
    return rc;
}

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    if (issue_village("410423101202", "v202") != 0 || issue_village("410423102201", "v301") != 0 ||
        issue_department("mzj", "dmzj") != 0 || issue_department("rsj", "drsj") != 0)
        return -1;
    chmod(W.t.certs.dir, 0755);
    W.db = pgt_fresh_db("sanji_e2e", W.conninfo, sizeof W.conninfo);
    if (sj_test_tiers_configure(&W.t, W.conninfo, NULL, "[link]\nheartbeat = 500ms\n") != 0)
        return -1;
    if (station_conf(V201, "village", W.t.relay_port, "relay:410423101000") != 0 ||
        station_conf(V202, "v202", W.t.relay_port, "relay:410423101000") != 0 ||
        station_conf(V301, "v301", W.t.relay_port, "relay:410423101000") != 0 ||
        station_conf(TDESK, "township-desk", W.t.relay_port, "relay:410423101000") != 0 ||
        station_conf(CDESK, "county-desk", W.t.county_port, "county:410423000000") != 0 ||
        station_conf(DMZJ, "dmzj", W.t.county_port, "county:410423000000") != 0 ||
        station_conf(DRSJ, "drsj", W.t.county_port, "county:410423000000") != 0)
        return -1;
    if (sj_test_tiers_start(&W.t) != 0)
        return -1;
    setenv("SANJI_PASSWORD", "sanji123", 1);
    if (login(V201, "p-410423101201-01") != 0 || login(V202, "p-410423101202-01") != 0 ||
        login(TDESK, "p-410423101000-01") != 0 || login(CDESK, "p-410423000000-01") != 0 ||
        login(DMZJ, "p-410423000000-mzj-01") != 0 || login(DRSJ, "p-410423000000-rsj-01") != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    /* Both daemons must stop cleanly on SIGTERM (exit 0; under ASan a leak
     * turns into a non-zero exit). */
    if (W.db)
        PQfinish(W.db);
    return sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP");
}

/* ---- tests -------------------------------------------------------------------- */

/* 1. village -> township -> county and back: every step recorded in order,
 * the result at the village, feedback 满意 closes it. */
static void test_full_lifecycle(void **state)
{
    (void)state;
    char id[64], number[64];
    reg(V201, "MZ-003", id, number);

    /* <county 6>-<yyyymmdd>-<5 digits>, today in China. */
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    char want_prefix[64];
    snprintf(want_prefix, sizeof want_prefix, "410423-%04d%02d%02d-", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday);
    assert_int_equal(strlen(number), strlen(want_prefix) + 5);
    assert_memory_equal(number, want_prefix, strlen(want_prefix));
    assert_string_equal(pq("SELECT number FROM cases WHERE case_id = '%s'", id), number);
    assert_string_equal(pq("SELECT due_at_ms > registered_at_ms FROM cases WHERE case_id = '%s'", id), "t");

    /* By the number just printed, before the feed brought the case. */
    static char out[OUT_MAX];
    int rc = cli(V201, out, sizeof out, "escalate %s --wait-applied --wait " CLI_WAIT, number);
    if (rc != 0)
        fail_msg("escalate by the new number: exit %d: %s", rc, out);
    JEQ(out, "state", "applied");
    act(TDESK, number, "accept");
    /* Straight on, before the feed brought the accepted case: the desk
     * checks against its own applied action, not the older copy. */
    rc = cli(TDESK, out, sizeof out, "escalate %s --wait-applied --wait " CLI_WAIT, number);
    if (rc != 0)
        fail_msg("escalate right after accept: exit %d: %s", rc, out);
    JEQ(out, "state", "applied");
    act(CDESK, number, "accept");
    /* 派单 to a department from the list, never typed: a name or an unknown
     * code is refused with the reason. */
    rc = cli(CDESK, out, sizeof out, "dispatch --department 县民正局 --wait " CLI_WAIT " %s", number);
    if (rc == 0)
        fail_msg("a typed department name was dispatched: %s", out);
    rc = cli(CDESK, out, sizeof out,
             "dispatch --department xyz --wait-applied --wait " CLI_WAIT " %s", number);
    JEQ(out, "state", "refused");
    assert_true(strstr(out, "部门") || strstr(out, "department"));
    assert_int_equal(cli(CDESK, out, sizeof out, "departments"), 0);
    assert_non_null(strstr(out, "\"code\":\"mzj\""));
    act(CDESK, number, "dispatch --department rsj");
    /* The department sees it in its queue (待接单); the other does not. */
    assert_int_equal(cli(DRSJ, out, sizeof out, "queue --wait " CLI_WAIT), 0);
    assert_non_null(strstr(out, number));
    assert_int_equal(cli(DMZJ, out, sizeof out, "queue --wait " CLI_WAIT), 0);
    assert_null(strstr(out, number));
    act(DRSJ, number, "refuse --note '低保审批属县民政局职责'");
    assert_string_equal(pq("SELECT department_refusals FROM cases WHERE case_id = '%s'", id), "1");
    act(CDESK, number, "dispatch --department mzj");
    act(DMZJ, number, "take");
    act(DMZJ, number, "report --result '已审批'");
    act(CDESK, number, "return-report --note '请写明金额和发放起始月'");
    act(DMZJ, number, "report --result '已批准，每月420元，自下月起发放'");
    assert_int_equal(cli(CDESK, out, sizeof out, "show %s", number), 0);
    JEQ(out, "status", "reported");
    act(CDESK, number, "resolve --result '已批准，按月发放'");

    /* The result reaches the village's copy. */
    settle(V201);
    assert_int_equal(cli(V201, out, sizeof out, "show %s", number), 0);
    JEQ(out, "status", "resolved");
    JEQ(out, "result", "已批准，按月发放");
    JEQ(out, "department", "县民政局");

    act(V201, number, "feedback --satisfaction 满意");
    assert_string_equal(pg_status(id), "10");
    assert_string_equal(pq("SELECT handling FROM cases WHERE case_id = '%s'", id), "3");
    assert_string_equal(pq("SELECT satisfaction FROM cases WHERE case_id = '%s'", id), "1");
    assert_string_equal(pq("SELECT department FROM cases WHERE case_id = '%s'", id), "县民政局");
    assert_string_equal(pg_actions(id), "1,3,4,3,4,18,20,18,19,21,22,21,8,12");
    assert_string_equal(pq("SELECT string_agg(actor_node, ',' ORDER BY seq) FROM case_event "
                           "WHERE case_id = '%s'", id),
                        "village:410423101201,village:410423101201,township-desk:410423101000,"
                        "township-desk:410423101000,county-desk:410423000000:ops1,"
                        "county-desk:410423000000:ops1,department-desk:410423000000:rsj,"
                        "county-desk:410423000000:ops1,department-desk:410423000000:mzj,"
                        "department-desk:410423000000:mzj,county-desk:410423000000:ops1,"
                        "department-desk:410423000000:mzj,county-desk:410423000000:ops1,"
                        "village:410423101201");
    assert_string_equal(pq("SELECT string_agg(actor_person, ',' ORDER BY seq) FROM case_event "
                           "WHERE case_id = '%s' AND action IN (19, 20, 21)", id),
                        "p-410423000000-rsj-01,p-410423000000-mzj-01,p-410423000000-mzj-01,"
                        "p-410423000000-mzj-01");
    assert_string_equal(pq("SELECT department_code FROM cases WHERE case_id = '%s'", id), "mzj");
    assert_string_equal(pq("SELECT version FROM cases WHERE case_id = '%s'", id), "14");
    feed_and_dedup_consistent(id);
    same_at_station(V201, id);
    assert_int_equal(cli(V201, out, sizeof out, "show %s", id), 0);
    JEQ(out, "status", "closed");
    JEQ(out, "satisfaction", "satisfied");
    JEQ(out, "handling", "on_behalf");
    assert_string_equal(jget(out, "due_at_ms", number, sizeof number),
                        pq("SELECT due_at_ms FROM cases WHERE case_id = '%s'", id));
    same_at_station(TDESK, id);
    replicas_converged(id);
}

/* 好差评 through the CLI, the relay and the county: a 差评 (非常不满意 by its
 * Chinese name) starts a rectification due on the county's calendar
 * (haocha.rectify_days, 15 by default); closing and calling back before
 * the rectification are refused at the station with the reason; 整改完成
 * by the village that resolved it, then 回访 with the new evaluation
 * closes it.  The case keeps the 差评; the call back's level is on its
 * event. */
static void test_haocha_through_the_cli(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char id[64], number[64];
    reg(V201, "MZ-001", id, number);
    act(V201, id, "resolve-now --result '已当场答复'");
    act(V201, id, "feedback --satisfaction 非常不满意 --note '答复不清楚'");
    assert_string_equal(pg_status(id), "9");
    assert_string_equal(pq("SELECT satisfaction FROM cases WHERE case_id = '%s'", id), "5");
    /* The due time: 15 working days after the evaluation, on the event too. */
    assert_string_equal(pq("SELECT rectify_due_at_ms > at_ms + 15::bigint * 86400000 AND"
                           " rectify_due_at_ms < at_ms + 30::bigint * 86400000"
                           " FROM case_event WHERE case_id = '%s' AND action = 12", id),
                        "t");
    assert_string_equal(pq("SELECT c.rectify_due_at_ms = e.rectify_due_at_ms FROM cases c"
                           " JOIN case_event e USING (case_id) WHERE c.case_id = '%s'"
                           " AND e.action = 12", id),
                        "t");
    settle(V201);
    int rc = cli(V201, out, sizeof out, "close --note '联系不上' %s", id);
    if (rc == 0)
        fail_msg("a 差评 case was closed: %s", out);
    rc = cli(V201, out, sizeof out, "callback --satisfaction 满意 --note '已回访' %s", id);
    if (rc == 0 || !strstr(out, "回访"))
        fail_msg("a call back before the rectification: exit %d: %s", rc, out);
    rc = cli(V201, out, sizeof out, "feedback --satisfaction 最满意 %s", id);
    if (rc == 0 || !strstr(out, "非常满意"))
        fail_msg("an unknown level: exit %d: %s", rc, out);
    act(V201, id, "rectify --note '已重新解释政策并书面答复'");
    assert_string_equal(pq("SELECT rectified_at_ms > 0 AND NOT rectify_late FROM cases"
                           " WHERE case_id = '%s'", id),
                        "t");
    act(V201, id, "callback --satisfaction very_satisfied --note '电话回访，村民满意'");
    assert_string_equal(pg_status(id), "10");
    assert_string_equal(pg_actions(id), "1,2,12,33,34");
    assert_string_equal(pq("SELECT satisfaction FROM cases WHERE case_id = '%s'", id), "5");
    assert_string_equal(pq("SELECT satisfaction || ' ' || note FROM case_event"
                           " WHERE case_id = '%s' AND action = 34", id),
                        "4 电话回访，村民满意");
    assert_string_equal(pq("SELECT called_back_at_ms = closed_at_ms FROM cases"
                           " WHERE case_id = '%s'", id),
                        "t");
    feed_and_dedup_consistent(id);
    same_at_station(V201, id);
    assert_int_equal(cli(V201, out, sizeof out, "show %s", id), 0);
    JEQ(out, "status", "closed");
    JEQ(out, "satisfaction", "very_unsatisfied");
    char v[32];
    assert_string_equal(jget(out, "called_back_at_ms", v, sizeof v),
                        pq("SELECT called_back_at_ms FROM cases WHERE case_id = '%s'", id));
}

/* 2. 即办 at the village: never leaves it. */
static void test_resolve_now_at_village(void **state)
{
    (void)state;
    char id[64], number[64];
    reg(V201, "MZ-001", id, number);
    act(V201, id, "resolve-now --result '已当场答复'");
    act(V201, id, "feedback --satisfaction 满意");
    assert_string_equal(pg_status(id), "10");
    assert_string_equal(pq("SELECT handling FROM cases WHERE case_id = '%s'", id), "1");
    assert_string_equal(pq("SELECT holder_level FROM cases WHERE case_id = '%s'", id), "1");
    assert_string_equal(pg_actions(id), "1,2,12");
    assert_string_equal(pq("SELECT count(*) FROM case_event WHERE case_id = '%s' AND actor_level <> 1", id),
                        "0");
    feed_and_dedup_consistent(id);
    same_at_station(V201, id);
}

/* 3. 退办 at the township: the reason reaches the village. */
static void test_return_with_reason(void **state)
{
    (void)state;
    char id[64], number[64];
    static char out[OUT_MAX];
    reg(V201, "MZ-007", id, number);
    act(V201, id, "escalate");
    act(TDESK, id, "accept");
    act(TDESK, id, "return --note '申请人不符合救助条件'");
    assert_string_equal(pg_status(id), "8");
    assert_string_equal(pq("SELECT return_reason FROM cases WHERE case_id = '%s'", id), "申请人不符合救助条件");
    assert_string_equal(pq("SELECT handling FROM cases WHERE case_id = '%s'", id), "5");
    assert_string_equal(pg_actions(id), "1,3,4,9");
    feed_and_dedup_consistent(id);
    same_at_station(V201, id);
    assert_int_equal(cli(V201, out, sizeof out, "show %s", id), 0);
    JEQ(out, "status", "returned");
    JEQ(out, "return_reason", "申请人不符合救助条件");
}

/* 4. 一次告知 of several materials, supplement, resolved. */
static void test_materials_round(void **state)
{
    (void)state;
    char id[64], number[64];
    static char out[OUT_MAX];
    reg(V201, "SB-003", id, number);
    act(V201, id, "escalate");
    act(TDESK, id, "accept");
    act(TDESK, id, "request-materials --material 户口簿 --material '近期免冠照片' --material 参保登记表");
    assert_string_equal(pg_status(id), "6");
    assert_string_equal(pq("SELECT array_to_string(materials, '|') FROM cases WHERE case_id = '%s'", id),
                        "户口簿|近期免冠照片|参保登记表");
    settle(V201);
    assert_int_equal(cli(V201, out, sizeof out, "show %s", id), 0);
    JEQ(out, "status", "waiting_materials");
    assert_non_null(strstr(out, "\"materials\":[\"户口簿\",\"近期免冠照片\",\"参保登记表\"]"));
    act(V201, id, "supplement");
    act(TDESK, id, "resolve --result '已参保'");
    assert_string_equal(pg_status(id), "7");
    assert_string_equal(pq("SELECT handling FROM cases WHERE case_id = '%s'", id), "4");
    assert_string_equal(pg_actions(id), "1,3,4,6,7,8");
    feed_and_dedup_consistent(id);
    same_at_station(V201, id);
}

/* 5. 延期: the township asks, the county approves (the due time moves out
 * by the working days asked), then refuses a second request. */
static void test_extension_through_the_cli(void **state)
{
    (void)state;
    char id[64], number[64], due0[32], due1[32];
    static char out[OUT_MAX];
    reg(V201, "SB-003", id, number);
    act(V201, id, "escalate");
    act(TDESK, id, "accept");
    snprintf(due0, sizeof due0, "%s", pq("SELECT due_at_ms FROM cases WHERE case_id = '%s'", id));
    act(TDESK, id, "extend --days 3 --note '需县人社局核对参保记录'");
    assert_string_equal(pq("SELECT extension_days FROM cases WHERE case_id = '%s'", id), "3");
    /* The asker does not decide its own request: refused on its machine. */
    assert_int_equal(cli(TDESK, out, sizeof out, "extend-approve %s --wait 0", id), 3);
    act(CDESK, id, "extend-approve --note 同意延期");
    assert_string_equal(pq("SELECT extended_days || ',' || extension_days FROM cases"
                           " WHERE case_id = '%s'", id),
                        "3,0");
    snprintf(due1, sizeof due1, "%s", pq("SELECT due_at_ms FROM cases WHERE case_id = '%s'", id));
    assert_true(strtoll(due1, NULL, 10) > strtoll(due0, NULL, 10));
    assert_string_equal(pq("SELECT clock_days || ',' || due_at_ms FROM case_event"
                           " WHERE case_id = '%s' AND action = 24", id),
                        pq("SELECT '3,' || due_at_ms FROM cases WHERE case_id = '%s'", id));
    act(TDESK, id, "extend --days 2 --note 仍需时间");
    /* A refusal needs its reason. */
    assert_int_equal(cli(CDESK, out, sizeof out, "extend-refuse %s --wait 0", id), 2);
    act(CDESK, id, "extend-refuse --note '材料已齐，请按期办结'");
    assert_string_equal(pq("SELECT due_at_ms FROM cases WHERE case_id = '%s'", id), due1);
    assert_string_equal(pg_actions(id), "1,3,4,23,24,23,25");
    feed_and_dedup_consistent(id);
    same_at_station(V201, id);
    assert_int_equal(cli(V201, out, sizeof out, "show %s", id), 0);
    JEQ(out, "extended_days", "3");
    JEQ(out, "extension_days", "0");
    JEQ(out, "due_at_ms", due1);
    JEQ(out, "due_provisional",
        strcmp(pq("SELECT due_provisional FROM cases WHERE case_id = '%s'", id), "t") == 0
            ? "true"
            : "false");
}

/* Message id of a --wait 0 action's JSON answer, checked as saved. */
static void saved_only(const char *out, int rc, char msg[64], char case_id[64])
{
    if (rc != 0)
        fail_msg("save-only action: exit %d: %s", rc, out);
    JEQ(out, "state", "saved");
    jget(out, "message_id", msg, 64);
    if (case_id)
        jget(out, "case", case_id, 64);
}

/* One `sanji sync` with the county reachable returns only when every sent
 * action has the county's answer (it used to stop at "reached the
 * township", just before the answers came). */
static void test_sync_waits_for_county_answers(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char ids[6][64], msgs[6][64];
    settle(V201);
    for (int i = 0; i < 6; i++) {
        int rc = cli(V201, out, sizeof out,
                     "register --item MZ-001 --name 赵六 --id 11010519491231002X --phone 13800138000 "
                     "--text '同步 %d' --wait 0", i);
        saved_only(out, rc, msgs[i], ids[i]);
    }
    assert_int_equal(cli(V201, out, sizeof out, "sync --wait " CLI_WAIT), 0);
    JEQ(out, "saved", "0");
    JEQ(out, "stored", "0");
    JEQ(out, "caught_up", "true");
    for (int i = 0; i < 6; i++)
        assert_string_equal(pq("SELECT count(*) FROM processed_message WHERE message_id = '%s' "
                               "AND status = 2", msgs[i]), "1");
}

/* 5. The relay is down while the village works; everything goes once it
 * is back, exactly once. */
static void test_village_offline_then_relay_back(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char ids[3][64], msgs[5][64];
    assert_int_equal(sj_test_proc_kill9(&W.t.relay), 0);
    /* It died of our kill, not of a crash a moment before. */
    assert_true(sj_test_proc_killed_by(&W.t.relay, SIGKILL));
    for (int i = 0; i < 3; i++) {
        int rc = cli(V201, out, sizeof out,
                     "register --item MZ-001 --name 李四 --id 11010519491231002X --phone 13800138000 "
                     "--text '离线登记 %d' --wait 0", i);
        saved_only(out, rc, msgs[i], ids[i]);
    }
    /* Actions chained on a case the county has not seen yet. */
    saved_only(out, cli(V201, out, sizeof out, "escalate %s --wait 0", ids[0]), msgs[3], NULL);
    saved_only(out, cli(V201, out, sizeof out, "resolve-now %s --result 已办 --wait 0", ids[1]), msgs[4], NULL);
    assert_int_equal(cli(V201, out, sizeof out, "sync --wait 1"), 5);
    JEQ(out, "saved", "5");
    for (int i = 0; i < 5; i++)
        assert_string_equal(pq("SELECT count(*) FROM processed_message WHERE message_id = '%s'", msgs[i]),
                            "0");

    assert_int_equal(sj_test_proc_restart(&W.t.relay, NULL), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.relay, W.t.relay_port, SJ_TEST_HANG_MS, NULL), 0);
    settle(V201);
    for (int i = 0; i < 5; i++)
        assert_string_equal(pq("SELECT count(*) FROM processed_message WHERE message_id = '%s' "
                               "AND status = 2", msgs[i]), "1");
    for (int i = 0; i < 3; i++) {
        assert_string_equal(pq("SELECT count(*) FROM cases WHERE case_id = '%s'", ids[i]), "1");
        feed_and_dedup_consistent(ids[i]);
        same_at_station(V201, ids[i]);
    }
    assert_string_equal(pg_actions(ids[0]), "1,3");
    assert_string_equal(pg_actions(ids[1]), "1,2");
    assert_string_equal(pg_actions(ids[2]), "1");
    replicas_converged(ids[0]);
    /* A second sync sends nothing again. */
    settle(V201);
    for (int i = 0; i < 5; i++)
        assert_string_equal(pq("SELECT count(*) FROM case_event WHERE message_id = '%s'", msgs[i]), "1");
}

/* 6. The township returns a case down while the village withdraws it, both
 * made against the same version.  `concurrent`: both stations send at the
 * same moment and either may win; otherwise the township's reaches the
 * county first.  Exactly one is applied; the other is refused with its
 * reason: SJ_ESTALE_VERSION when the case is still open, SJ_ETERMINAL when
 * the withdrawal won (common/domain/case.h checks "terminal" before "version"). */
static void two_levels_same_version(bool concurrent)
{
    static char out[OUT_MAX], out2[OUT_MAX];
    char id[64], number[64], m_t[64], m_v[64];
    reg(V201, "MZ-007", id, number);
    act(V201, id, "escalate");
    settle(TDESK);
    char before[32];
    snprintf(before, sizeof before, "%s", pq("SELECT version FROM cases WHERE case_id = '%s'", id));
    saved_only(out, cli(V201, out, sizeof out, "withdraw %s --note '申请人撤回' --wait 0", id), m_v, NULL);
    if (concurrent) {
        saved_only(out, cli(TDESK, out, sizeof out, "return-down %s --note '应由村里即办' --wait 0", id),
                   m_t, NULL);
        FILE *a = cli_start(TDESK, "sync --wait 5");
        FILE *b = cli_start(V201, "sync --wait 5");
        cli_finish(a, out, sizeof out);
        cli_finish(b, out2, sizeof out2);
    } else {
        int rc = cli(TDESK, out, sizeof out,
                     "return-down %s --note '应由村里即办' --wait-applied --wait " CLI_WAIT, id);
        if (rc != 0)
            fail_msg("return-down: exit %d: %s", rc, out);
        jget(out, "message_id", m_t, sizeof m_t);
    }
    settle(TDESK);
    settle(V201);
    const char *st_t = pq("SELECT status FROM processed_message WHERE message_id = '%s'", m_t);
    const char *st_v = pq("SELECT status FROM processed_message WHERE message_id = '%s'", m_v);
    bool t_won = strcmp(st_t, "2") == 0;
    if (!((t_won && strcmp(st_v, "3") == 0) || (!t_won && strcmp(st_t, "3") == 0 && strcmp(st_v, "2") == 0)))
        fail_msg("want exactly one applied: township %s, village %s", st_t, st_v);
    if (!concurrent)
        assert_true(t_won);
    const char *loser = t_won ? m_v : m_t;
    char code[16];
    snprintf(code, sizeof code, "%d", t_won ? SJ_ESTALE_VERSION : SJ_ETERMINAL);
    assert_string_equal(pq("SELECT code FROM processed_message WHERE message_id = '%s'", loser), code);
    assert_string_not_equal(pq("SELECT reason FROM processed_message WHERE message_id = '%s'", loser), "");
    assert_string_equal(pq("SELECT count(*) FROM case_event WHERE message_id = '%s'", loser), "0");
    assert_string_equal(pq("SELECT version - %s FROM cases WHERE case_id = '%s'", before, id), "1");
    assert_string_equal(pg_status(id), t_won ? "1" : "11");
    /* The loser's station shows the refusal with its reason. */
    assert_int_equal(cli(t_won ? V201 : TDESK, out, sizeof out, "show %s", id), 0);
    const char *r = strstr(out, "\"state\":\"refused\",\"reason\":");
    if (!r)
        fail_msg("no refused action with a reason in %s", out);
    char reason[512];
    jget(r, "reason", reason, sizeof reason);
    assert_string_not_equal(reason, "");
    /* Both see the same case as PostgreSQL. */
    same_at_station(V201, id);
    same_at_station(TDESK, id);
    feed_and_dedup_consistent(id);
}

static void test_two_levels_same_version(void **state)
{
    (void)state;
    two_levels_same_version(false);
}

static void test_two_levels_same_version_at_once(void **state)
{
    (void)state;
    two_levels_same_version(true);
}

/* 7a. A station sends an action on another village's case.  The client
 * refuses that itself, so the test moves a saved action of 张官营村's
 * station (envelope, message id and all, naming 张官营村 as the sender)
 * into 前营村's outbox and lets 前营村's station send it over its own
 * certificate: the relay refuses it (SJ_ESCOPE), stores nothing, and the
 * county records nothing. */
static void test_other_villages_case_refused(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char id[64], number[64], msg[64];
    reg(V201, "MZ-007", id, number);
    char before[32];
    snprintf(before, sizeof before, "%s", pq("SELECT version FROM cases WHERE case_id = '%s'", id));
    /* The client's own check first: 前营村's station will not act on it. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && sqlite3 v202.db \"ATTACH 'v201.db' AS o; INSERT OR REPLACE INTO main.cases "
             "SELECT * FROM o.cases WHERE hex(case_id) = upper(replace('%s','-',''))\"",
             W.t.certs.dir, id);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(cli(V202, out, sizeof out, "escalate %s --wait 5", id), 3);
    JEQ(out, "error", "SCOPE");

    saved_only(out, cli(V201, out, sizeof out, "escalate %s --wait 0", id), msg, NULL);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && sqlite3 v202.db \"ATTACH 'v201.db' AS o; BEGIN; "
             "INSERT INTO main.outbox (message_id, case_id, action, payload, state, saved_at_ms) "
             "SELECT message_id, case_id, action, payload, 1, saved_at_ms FROM o.outbox "
             "WHERE hex(message_id) = upper(replace('%s','-','')); "
             "DELETE FROM o.outbox WHERE hex(message_id) = upper(replace('%s','-','')); "
             "UPDATE o.cases SET predicted = NULL WHERE hex(case_id) = upper(replace('%s','-','')); "
             "COMMIT;\"",
             W.t.certs.dir, msg, msg, id);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(cli(V202, out, sizeof out, "sync --wait " CLI_WAIT), 0);
    JEQ(out, "refused", "1");
    JEQ(out, "saved", "0");
    JEQ(out, "stored", "0");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && test \"$(sqlite3 v202.db \"SELECT code FROM outbox WHERE "
             "hex(message_id) = upper(replace('%s','-',''))\")\" = '%d' && "
             "test \"$(sqlite3 relay.db \"SELECT count(*) FROM queue WHERE "
             "hex(message_id) = upper(replace('%s','-',''))\")\" = 0",
             W.t.certs.dir, msg, SJ_ESCOPE, msg);
    assert_int_equal(system(cmd), 0);
    assert_string_equal(pq("SELECT count(*) FROM processed_message WHERE message_id = '%s'", msg), "0");
    assert_string_equal(pq("SELECT version FROM cases WHERE case_id = '%s'", id), before);
    assert_string_equal(pg_actions(id), "1");
    same_at_station(V201, id);
}

/* 7b. A village certificate of another township is refused by the relay;
 * it cannot even fetch the person list, and nothing is recorded. */
static void test_village_of_other_township_refused(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    const char *before = pq("SELECT count(*) FROM processed_message");
    char b[32];
    snprintf(b, sizeof b, "%s", before);
    /* Each run ends without a link (exit 5); the refusal's reason, naming
     * the township, is in the one that got as far as the handshake. */
    int rc;
    int64_t end = now_ms() + SJ_TEST_HANG_MS;
    do {
        rc = cli(V301, out, sizeof out, "sync --wait 3");
        assert_int_equal(rc, 5);
        JEQ(out, "link_up", "false");
    } while (strstr(out, "乡镇") == NULL && now_ms() < end);
    assert_non_null(strstr(out, "乡镇"));
    assert_int_not_equal(cli(V301, out, sizeof out, "login p-410423102201-01"), 0);
    /* A registration in its outbox (moved there from 张官营村's station, so
     * that it names a village of this township) is never taken. */
    char msg[64], id[64], cmd[4096], q[64];
    saved_only(out, cli(V201, out, sizeof out,
                        "register --item MZ-001 --name 周八 --id 11010519491231002X "
                        "--phone 13800138000 --text '外乡镇' --wait 0"),
               msg, id);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && sqlite3 v301.db \"ATTACH 'v201.db' AS o; BEGIN; "
             "INSERT INTO main.outbox (message_id, case_id, action, payload, state, saved_at_ms) "
             "SELECT message_id, case_id, action, payload, 1, saved_at_ms FROM o.outbox "
             "WHERE hex(message_id) = upper(replace('%s','-','')); "
             "DELETE FROM o.outbox WHERE hex(message_id) = upper(replace('%s','-','')); "
             "DELETE FROM o.cases WHERE hex(case_id) = upper(replace('%s','-','')); COMMIT;\"",
             W.t.certs.dir, msg, msg, id);
    assert_int_equal(system(cmd), 0);
    /* Tried (the relay's refusal is in the output) and still not taken. */
    end = now_ms() + SJ_TEST_HANG_MS;
    do {
        assert_int_equal(cli(V301, out, sizeof out, "sync --wait 2"), 5);
        JEQ(out, "saved", "1");
    } while (strstr(out, "乡镇") == NULL && now_ms() < end);
    assert_non_null(strstr(out, "乡镇"));
    assert_string_equal(sq("relay.db", "SELECT count(*) FROM queue", q, sizeof q), "0");
    assert_string_equal(pq("SELECT count(*) FROM processed_message WHERE message_id = '%s'", msg), "0");
    assert_string_equal(pq("SELECT count(*) FROM cases WHERE case_id = '%s'", id), "0");
    assert_string_equal(pq("SELECT count(*) FROM processed_message"), b);
}

/* 8. kill -9 of the county while messages are in flight: every one is
 * applied exactly once after the restart. */
static void test_county_killed_in_flight(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    enum { N = 12 };
    char ids[N][64], msgs[N][64];
    for (int i = 0; i < N; i++) {
        int rc = cli(V201, out, sizeof out,
                     "register --item MZ-001 --name 王五 --id 11010519491231002X --phone 13800138000 "
                     "--text '批量 %d' --wait 0", i);
        saved_only(out, rc, msgs[i], ids[i]);
    }
    /* Freeze the county, so that the messages are surely in flight (stored
     * at the relay, sent on its link, unanswered) when it is killed. */
    assert_int_equal(sj_test_proc_signal(&W.t.county, SIGSTOP), 0);
    sync_until_stored(V201, "12", out, sizeof out);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && test \"$(sqlite3 relay.db 'SELECT count(*) FROM queue')\" -gt 0",
             W.t.certs.dir);
    int in_flight = system(cmd) == 0;
    assert_int_equal(sj_test_proc_kill9(&W.t.county), 0);
    /* It died of our kill, not of a crash a moment before. */
    assert_true(sj_test_proc_killed_by(&W.t.county, SIGKILL));
    if (!in_flight)
        fail_msg("nothing was in flight when the county was killed: %s", out);
    assert_int_equal(sj_test_proc_restart(&W.t.county, NULL), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.county, W.t.county_port, SJ_TEST_HANG_MS, NULL), 0);
    settle(V201);
    for (int i = 0; i < N; i++) {
        assert_string_equal(pq("SELECT count(*) FROM processed_message WHERE message_id = '%s' "
                               "AND status = 2", msgs[i]), "1");
        assert_string_equal(pq("SELECT count(*) FROM cases WHERE case_id = '%s'", ids[i]), "1");
        assert_string_equal(pg_actions(ids[i]), "1");
        feed_and_dedup_consistent(ids[i]);
    }
    same_at_station(V201, ids[N - 1]);
    replicas_converged(ids[0]);
}

/* Lines of the county's log that say the relay's link ended. */
static int relay_link_closed_lines(void)
{
    FILE *f = fopen(W.t.county_log, "r");
    if (!f)
        return 0;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, "link closed") != NULL && strstr(line, "relay:410423101000") != NULL;
    fclose(f);
    return n;
}

typedef struct relay_link_ends {
    const char *log;
    int want; /* at least this many such lines */
} relay_link_ends;

static bool relay_link_ended(void *arg)
{
    return relay_link_closed_lines() >= ((relay_link_ends *)arg)->want;
}

/* 9. kill -9 of the relay with its queue in flight to the county (the
 * county frozen meanwhile, so it reads them only after the relay is gone
 * and cannot answer): after both are back, each applied exactly once and
 * the station holds the county's answers. */
static void test_relay_killed_in_flight(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    enum { N = 8 };
    char ids[N][64], msgs[N][64];
    settle(V201);
    for (int i = 0; i < N; i++) {
        int rc = cli(V201, out, sizeof out,
                     "register --item MZ-001 --name 孙七 --id 11010519491231002X --phone 13800138000 "
                     "--text '中继重启 %d' --wait 0", i);
        saved_only(out, rc, msgs[i], ids[i]);
    }
    assert_int_equal(sj_test_proc_signal(&W.t.county, SIGSTOP), 0);
    sync_until_stored(V201, "8", out, sizeof out);
    relay_link_ends ends = {W.t.county_log, relay_link_closed_lines() + 1};
    assert_int_equal(sj_test_proc_kill9(&W.t.relay), 0);
    /* It died of our kill, not of a crash a moment before. */
    assert_true(sj_test_proc_killed_by(&W.t.relay, SIGKILL));
    assert_int_equal(sj_test_proc_signal(&W.t.county, SIGCONT), 0);
    /* The county reads what the dead link carried, to its end, before the
     * relay is back to send it all again. */
    if (!sj_test_poll_until(relay_link_ended, &ends, SJ_TEST_HANG_MS, 50))
        fail_msg("the county did not log the end of the dead relay's link (%s)", W.t.county_log);
    assert_int_equal(sj_test_proc_restart(&W.t.relay, NULL), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.relay, W.t.relay_port, SJ_TEST_HANG_MS, NULL), 0);
    settle(V201);
    for (int i = 0; i < N; i++) {
        assert_string_equal(pq("SELECT count(*) FROM processed_message WHERE message_id = '%s' "
                               "AND status = 2", msgs[i]), "1");
        assert_string_equal(pg_actions(ids[i]), "1");
        feed_and_dedup_consistent(ids[i]);
    }
    same_at_station(V201, ids[0]);
    same_at_station(V201, ids[N - 1]);
}

/* Occurrences of needle in hay. */
static long occurrences(const char *hay, const char *needle)
{
    long n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_network_view(void **state)
{
    (void)state;
    size_t cap = 4u << 20; /* ~500 villages of JSON */
    char *out = malloc(cap);
    assert_non_null(out);
    /* The relay's status reaches the county with its heartbeats: poll. */
    int rc = -1;
    for (int64_t end = now_ms() + SJ_TEST_HANG_MS; now_ms() < end; usleep(500000)) {
        rc = cli(CDESK, out, cap, "network --wait " CLI_WAIT);
        if (rc == 0 && strstr(out, "\"node\":\"relay:410423101000\""))
            break;
    }
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "{\"unit\":\"410423101000\",\"node\":\"relay:410423101000\","
                                "\"never_connected\":false,\"online\":true"));
    /* Every township once, every village once. */
    assert_int_equal(occurrences(out, "\"stations\":["),
                     atol(pq("SELECT count(*) FROM org_unit WHERE level = 2")));
    long villages = atol(pq("SELECT count(*) FROM org_unit WHERE level = 1"));
    assert_int_equal(occurrences(out, "\"never_connected\":true,\"connected\":false") +
                         occurrences(out, "\"never_connected\":false,\"connected\":"),
                     villages + 1 /* and the township desk under the relay */);
    /* A station that came is not "never connected"; 梁洼镇 has no relay in
     * this network, so it and its villages never connected. */
    assert_non_null(strstr(out, "{\"unit\":\"410423101201\",\"node\":\"village:410423101201\","
                                "\"never_connected\":false"));
    assert_non_null(strstr(out, "{\"unit\":\"410423102000\",\"node\":\"\",\"never_connected\":true"));
    assert_non_null(strstr(out, "\"kind\":\"never_connected\",\"unit\":\"410423102000\""));
    assert_non_null(strstr(out, "乡镇中继从未向县里报到"));

    /* The township desk: its relay answers for its own villages only. */
    assert_int_equal(cli(TDESK, out, cap, "network --wait " CLI_WAIT), 0);
    assert_int_equal(occurrences(out, "\"stations\":["), 1);
    assert_null(strstr(out, "410423102000"));
    const char *nodes = strstr(out, "\"nodes\":["); /* past the warnings */
    assert_non_null(nodes);
    assert_int_equal(occurrences(nodes, "\"unit\":\"410423101"),
                     1 /* the relay */ + 1 /* its desk */ +
                         atol(pq("SELECT count(*) FROM org_unit WHERE parent = '410423101000'")));
    free(out);
}

/* Every case a station's store holds from the county, one line each: id,
 * version and the snapshot as stored (hex), in id order. */
static char *store_cases(const char *db)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && sqlite3 -readonly %s \"SELECT hex(case_id) || ' ' || version || ' ' || "
             "hex(snapshot) FROM cases WHERE snapshot IS NOT NULL ORDER BY case_id\"",
             W.t.certs.dir, db);
    FILE *f = popen(cmd, "r");
    if (!f)
        fail_msg("cannot run %s", cmd);
    size_t cap = 8u << 20, n = 0, k;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while (n + 1 < cap && (k = fread(buf + n, 1, cap - 1 - n, f)) > 0)
        n += k;
    buf[n] = '\0';
    if (pclose(f) != 0)
        fail_msg("sqlite3 failed: %s", cmd);
    return buf;
}

/* Feed deltas (PROTOCOL.md "The downward feed"): 张官营村's station has
 * taken its feed as deltas since the start (link.feed_deltas is true by
 * default) through every test above; a second store of the same station,
 * with link.feed_deltas = false, takes the whole feed as snapshots.  The
 * county's changes come down as deltas, and both stores end with the same
 * cases to the byte. */
static void test_feed_deltas_same_cases(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char id[64], number[64], b[32];
    reg(V201, "MZ-003", id, number);
    act(V201, number, "escalate");
    settle(V201);
    /* The township's 签收 comes down to a station that holds the case. */
    act(TDESK, number, "accept");
    long deltas = 0;
    for (int64_t end = now_ms() + SJ_TEST_HANG_MS; deltas == 0 && now_ms() < end;) {
        assert_int_equal(cli(V201, out, sizeof out, "sync --wait 5"), 0);
        deltas = atol(jget(out, "feed_deltas", b, sizeof b));
    }
    if (deltas == 0)
        fail_msg("the 签收 did not come down as a delta: %s", out);

    assert_int_equal(sj_test_write_file(W.t.certs.dir, "v201whole.conf",
                                        "[node]\ncert = village.crt\nkey = village.key\n"
                                        "ca = ca/ca.crt\n[server]\naddress = 127.0.0.1:%d\n"
                                        "peer = relay:410423101000\n[store]\npath = v201whole.db\n"
                                        "[link]\nfeed_deltas = false\n",
                                        W.t.relay_port),
                     0);
    settle("v201whole");
    assert_int_equal(cli("v201whole", out, sizeof out, "sync --wait 5"), 0);
    JEQ(out, "feed_deltas", "0");
    settle(V201);
    char *with = store_cases("v201.db"), *whole = store_cases("v201whole.db");
    size_t lines = 0;
    for (const char *p = whole; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    print_message("%zu cases compared\n", lines);
    assert_true(lines >= 10);
    assert_non_null(strstr(whole, pq("SELECT upper(replace(case_id::text, '-', '')) FROM cases "
                                     "WHERE case_id = '%s'", id)));
    if (strcmp(with, whole) != 0)
        fail_msg("the station with deltas holds other cases than the one without");
    free(with);
    free(whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_lifecycle),
        cmocka_unit_test(test_resolve_now_at_village),
        cmocka_unit_test(test_haocha_through_the_cli),
        cmocka_unit_test(test_return_with_reason),
        cmocka_unit_test(test_materials_round),
        cmocka_unit_test(test_extension_through_the_cli),
        cmocka_unit_test(test_sync_waits_for_county_answers),
        cmocka_unit_test(test_village_offline_then_relay_back),
        cmocka_unit_test(test_two_levels_same_version),
        cmocka_unit_test(test_two_levels_same_version_at_once),
        cmocka_unit_test(test_other_villages_case_refused),
        cmocka_unit_test(test_village_of_other_township_refused),
        cmocka_unit_test(test_network_view),
        cmocka_unit_test(test_county_killed_in_flight),
        cmocka_unit_test(test_relay_killed_in_flight),
        cmocka_unit_test(test_feed_deltas_same_cases),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
