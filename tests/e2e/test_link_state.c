/*
 * test_link_state.c - a station sees the county link behind its relay go
 * down and come back while its own link to the relay stays open.
 *
 * The real tiers on loopback (tiers.h: sanji-countyd on a private
 * PostgreSQL, sanji-relayd of 张官营镇) and the station 张官营村 running
 * `sanji --json watch`, which keeps one link open and prints every event of
 * the client library.  The county is stopped (SIGTERM) and started again
 * under that open link:
 *   - the watch prints an "upstream" event with county_online false, then
 *     one with county_online true, and never a link_down of its own link;
 *   - `sanji status` at the station says the county link is down (Chinese,
 *     with the relay's last contact), then up; `--json status` agrees.
 *
 * Nothing waits a fixed time: each state is polled for until
 * SJ_TEST_HANG_MS (proc.h), which only catches a hang.
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX 65536
#define STATION "v201" /* village:410423101201 张官营村, through the relay */

typedef struct world {
    sj_test_tiers t;
    char conninfo[1024];
    PGconn *db;
    sj_test_proc watch; /* `sanji --json watch` at the station */
    char watch_log[PATH_MAX];
} world;

static world W;

/* Runs `sanji --config v201.conf <args>` in the network's folder with the
 * locale unset (Chinese); returns its exit status, stdout in out. */
static int cli(char *out, size_t cap, const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env -u LANGUAGE -u LC_ALL -u LC_MESSAGES -u LANG "
             "'%s' --config " STATION ".conf %s 2>>cli.log",
             W.t.certs.dir, W.t.cli, args);
    FILE *f = popen(cmd, "r");
    if (!f)
        fail_msg("popen failed for %s", cmd);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* What the watch has printed so far ("" before its first line). */
static void watch_output(char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(W.watch_log, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* The county's state as the watch last heard it: from the last link_up or
 * upstream event line.  -1 when there was none yet. */
static int county_state_seen(const char *text, int *upstream_events)
{
    int state = -1;
    *upstream_events = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            break; /* a line still being written */
        char one[4096];
        snprintf(one, sizeof one, "%.*s", (int)(end - line), line);
        bool up = strstr(one, "\"event\":\"upstream\"") != NULL;
        if (up || strstr(one, "\"event\":\"link_up\"")) {
            *upstream_events += up;
            state = strstr(one, "\"county_online\":true") != NULL;
        }
        line = end + 1;
    }
    return state;
}

typedef struct want_state {
    int state;      /* 1 up, 0 down */
    int min_events; /* at least this many "upstream" events in all */
} want_state;

static bool watch_shows(void *arg)
{
    const want_state *w = arg;
    static char text[OUT_MAX];
    watch_output(text, sizeof text);
    int n = 0;
    return county_state_seen(text, &n) == w->state && n >= w->min_events;
}

static void wait_watch(int state, int min_events)
{
    want_state w = {state, min_events};
    if (!sj_test_poll_until(watch_shows, &w, SJ_TEST_HANG_MS, 50)) {
        static char text[OUT_MAX];
        watch_output(text, sizeof text);
        fail_msg("the station's watch did not show the county link %s (event %d):\n%s",
                 state ? "up" : "down", min_events, text);
    }
}

/* ---- the network ----------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    chmod(W.t.certs.dir, 0755);
    W.db = pgt_fresh_db("sanji_link_state", W.conninfo, sizeof W.conninfo);
    if (sj_test_tiers_up_with_station(&W.t, W.conninfo, STATION) != 0)
        return -1;
    snprintf(W.watch_log, sizeof W.watch_log, "%s/watch.log", W.t.certs.dir);
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/" STATION ".conf", W.t.certs.dir);
    const char *argv[] = {W.t.cli, "--config", conf, "--json", "watch", NULL};
    sj_error err;
    if (sj_test_proc_start(&W.watch, argv, NULL, W.watch_log, &err) != 0) {
        fprintf(stderr, "cannot start the watch: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    /* The watch ends on SIGINT (Ctrl-C) like a person would end it. */
    int rc = 0;
    if (W.watch.pid) {
        sj_test_proc_signal(&W.watch, SIGINT);
        if (sj_test_proc_wait(&W.watch, SJ_TEST_HANG_MS, NULL) != 0 || !WIFEXITED(W.watch.status) ||
            WEXITSTATUS(W.watch.status) != 0) {
            fprintf(stderr, "sanji watch did not end cleanly on SIGINT (%s)\n", W.watch_log);
            rc = -1;
        }
    }
    sj_test_proc_free(&W.watch);
    if (W.db)
        PQfinish(W.db);
    if (sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP") != 0)
        rc = -1;
    return rc;
}

/* ---- the test ------------------------------------------------------------------ */

static void test_station_sees_county_down_then_up(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    /* The relay may take its county link after the station connected: the
     * watch then says up in an "upstream" event instead of link_up. */
    wait_watch(1, 0);
    assert_int_equal(cli(out, sizeof out, "--json status"), 0);
    if (!strstr(out, "\"county_online\":true"))
        fail_msg("status before the stop: %s", out);

    /* Stop the county: the relay's link to it ends, and the relay tells the
     * open station link. */
    sj_error err;
    assert_int_equal(sj_test_proc_stop(&W.t.county, SJ_TEST_HANG_MS, &err), 0);
    wait_watch(0, 1);
    assert_int_equal(cli(out, sizeof out, "status"), 0);
    if (!strstr(out, "县级连接") || !strstr(out, "中断") || !strstr(out, "乡镇连接"))
        fail_msg("status while the county is stopped does not say the county link is down:\n%s",
                 out);
    assert_int_equal(cli(out, sizeof out, "--json status"), 0);
    if (!strstr(out, "\"link_up\":true") || !strstr(out, "\"county_online\":false"))
        fail_msg("--json status while the county is stopped: %s", out);

    /* Start it again: the relay dials it and tells the station once the
     * county has answered. */
    assert_int_equal(sj_test_proc_restart(&W.t.county, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.county, W.t.county_port, SJ_TEST_HANG_MS, &err), 0);
    wait_watch(1, 2);
    assert_int_equal(cli(out, sizeof out, "status"), 0);
    if (!strstr(out, "县级连接") || !strstr(out, "正常"))
        fail_msg("status after the county is back: %s", out);

    /* The station's own link stayed open through it all: what it saw came
     * on that link, not from a new Welcome. */
    static char text[OUT_MAX];
    watch_output(text, sizeof text);
    if (strstr(text, "\"event\":\"link_down\""))
        fail_msg("the station's link to the relay went down:\n%s", text);
    assert_true(sj_test_proc_alive(&W.watch));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_station_sees_county_down_then_up),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
