/*
 * test_login_failures.c - wrong passwords at a station reach the county:
 * its log names the station, the person and the count (never the
 * password), and its network view shows the station's count.
 *
 * The real tiers on loopback (tests/lib/tiers.h, heartbeats every 300 ms)
 * and the station 张官营村 with the `sanji` CLI.  After a first right
 * log-in (which fetches the person list), three wrong passwords are typed
 * with `sanji login` while no link is up: the station keeps them in its
 * store for the report.  `sanji sync` then links; the station reports
 * them in its status, the relay passes them on in its own status to the
 * county, which logs "repeated wrong passwords at a station" and keeps
 * them for the network view: the county's answer to a network query
 * (countyd_query_answer(), as a county desk asks it) shows 3 for the
 * station.  Nothing of the password is in any log.
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

#include "arena.h"
#include "files.h"
#include "pg_test.h"
#include "pg_tiers.h"
#include "proc.h"
#include "query.h"
#include "tiers.h"

#define OUT_MAX 65536
#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define NODE "village:410423101201"
#define PERSON "p-410423101201-01"
#define WRONG "guess-Qx7-not-it"

typedef pgt_tiers world;

static world W;

static int cli(const char *pw, char *out, size_t cap, const char *args)
{
    return sj_test_tiers_cli(&W.t, STATION, pw, out, cap, args);
}

/* The county's log holds the warning for the station and the person. */
static bool county_warned(void *arg)
{
    (void)arg;
    return sj_test_count_lines(W.t.county_log, "repeated wrong passwords at a station\" station=" NODE
                                               " person=" PERSON " count=3 in_a_row=3") > 0;
}

/* The station's count in the county's network view, as a county desk
 * asks it; -1 when the station is not listed. */
static long network_count(void)
{
    countyd_arena a;
    countyd_arena_init(&a);
    countyd_asker k = {.role = SJ_NODE_ROLE_COUNTY_DESK, .level = SJ_LEVEL_COUNTY};
    snprintf(k.unit, sizeof k.unit, "410423000000");
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_NETWORK_STATUS;
    q.network_status = true;
    Sanji__QueryResult r;
    sj_error err;
    long found = -1;
    if (countyd_query_answer(W.db, &a, &k, NULL, &q, &r, &err) == 0 && r.code == 0 &&
        r.result_case == SANJI__QUERY_RESULT__RESULT_NETWORK)
        for (size_t i = 0; i < r.network->n_nodes; i++)
            for (size_t j = 0; j < r.network->nodes[i]->n_stations; j++) {
                const Sanji__StationStatus *s = r.network->nodes[i]->stations[j];
                if (s->node && strcmp(s->node, NODE) == 0) {
                    found = s->failed_logins;
                    assert_int_equal(s->n_login_failures, 0); /* per person: the log's */
                }
            }
    countyd_arena_free(&a);
    return found;
}

static bool network_shows_three(void *arg)
{
    (void)arg;
    return network_count() == 3;
}

/* ---- the network ----------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return pgt_tiers_up(&W, "sanji_login_failures", STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    return pgt_tiers_down(&W, "SANJI_E2E_KEEP");
}

/* ---- the test ------------------------------------------------------------------ */

static void test_wrong_passwords_reach_the_county(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    /* Offline: the person list is cached, so `sanji login` does not link. */
    for (int i = 0; i < 3; i++) {
        int rc = cli(WRONG, out, sizeof out, "login " PERSON);
        if (rc == 0)
            fail_msg("a wrong password logged in: %s", out);
        if (!strstr(out, "密码"))
            fail_msg("wrong password %d: not told so in Chinese: %s", i + 1, out);
    }
    int rc = cli("sanji123", out, sizeof out, "sync --wait 20");
    if (rc != 0)
        fail_msg("sync: exit %d: %s", rc, out);
    if (!sj_test_poll_until(county_warned, NULL, SJ_TEST_HANG_MS, 100))
        fail_msg("no warning about %s of %s in the county's log %s", PERSON, NODE,
                 W.t.county_log);
    if (!sj_test_poll_until(network_shows_three, NULL, SJ_TEST_HANG_MS, 100))
        fail_msg("the county's network view shows %ld wrong passwords for %s, want 3",
                 network_count(), NODE);
    /* Passed on once: the relay holds none now, so its next statuses add
     * nothing (the count stays 3). */
    char count[64];
    char *v = pgt_scalar(W.db, "SELECT sum(count) FROM login_failure WHERE station = '" NODE "'");
    snprintf(count, sizeof count, "%s", v ? v : "(null)");
    free(v);
    assert_string_equal(count, "3");
    /* Never the password, in any tier's log. */
    const char *logs[] = {W.t.county_log, W.t.relay_log};
    for (size_t i = 0; i < 2; i++)
        if (sj_test_count_lines(logs[i], WRONG) != 0)
            fail_msg("the password is in %s", logs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_passwords_reach_the_county),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
