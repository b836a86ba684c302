/*
 * test_relay_refusal_text.c - a refusal made by the township relay reaches
 * the cadre in Chinese, as the county's own refusals do.
 *
 * The real tiers on loopback (tiers.h) and the station 张官营村 with the
 * `sanji` CLI.  A case is registered and escalated (the township holds it
 * now, at version 2).  The station's local copy is then put back to "held
 * by the village, registered" at the same version, as a copy that missed
 * the escalation would be: the station's own check lets a second 上报 pass,
 * and the relay, whose copy is the county's, refuses it with the state
 * machine's reason before storing it.  What the cadre reads (`sanji
 * escalate` in plain text and its --json reason, and `sanji show`) must be
 * Chinese: the relay's words through the refusal module, not the English
 * msgid; and nothing reaches the county.
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
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "store.h"
#include "tiers.h"
#include "uuid.h"

#define OUT_MAX 65536
#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define NODE "village:410423101201"
#define VILLAGE "410423101201"
#define CLI_WAIT "120"

typedef struct world {
    sj_test_tiers t;
    char conninfo[1024];
    PGconn *db;
} world;

static world W;

/* Runs `sanji --config v201.conf <args>` in the network's folder with the
 * locale unset (Chinese, as on a village PC never configured); returns its
 * exit status, stdout and stderr together in out. */
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

static const char *pq(const char *sql)
{
    static char buf[1024];
    char *v = pgt_scalar(W.db, sql);
    snprintf(buf, sizeof buf, "%s", v ? v : "(null)");
    free(v);
    return buf;
}

/* True when the first line of text holds no run of 4 ASCII letters (no
 * English word).  One line only: other output may follow it (a case id
 * whose hex digits read "becf", say). */
static bool no_english_words(const char *text)
{
    int run = 0;
    for (const char *p = text; *p && *p != '\n'; p++) {
        run = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) ? run + 1 : 0;
        if (run >= 4)
            return false;
    }
    return true;
}

/* The station's copy of the case, as the station reads it. */
typedef struct copy_state {
    const char *case_id;
    const char *status; /* wanted, e.g. "escalated_township" */
} copy_state;

static bool station_copy_is(void *arg)
{
    const copy_state *w = arg;
    static char out[OUT_MAX];
    char st[64], pred[16];
    cli(out, sizeof out, "sync --wait 5 --json");
    if (cli(out, sizeof out, "--json show %s", w->case_id) != 0)
        return false;
    const char *p = strstr(out, "\"predicted\":");
    snprintf(pred, sizeof pred, "%s", p ? p + strlen("\"predicted\":") : "");
    sj_test_cli_json_str(out, "status", st, sizeof st);
    return strcmp(st, w->status) == 0 && strncmp(pred, "false", 5) == 0;
}

/* ---- the network ----------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    chmod(W.t.certs.dir, 0755);
    W.db = pgt_fresh_db("sanji_relay_refusal_text", W.conninfo, sizeof W.conninfo);
    if (sj_test_tiers_up_with_station(&W.t, W.conninfo, STATION) != 0)
        return -1;
    return sj_test_tiers_station_login(&W.t, STATION, "p-" VILLAGE "-01");
}

static int group_teardown(void **state)
{
    (void)state;
    if (W.db)
        PQfinish(W.db);
    return sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP");
}

/* ---- the test ------------------------------------------------------------------ */

static void test_relay_refusal_reaches_the_cadre_in_chinese(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char id[64], number[64], reason[2048];
    int rc = cli(out, sizeof out,
                 "--json register --item MZ-003 --name 张三 --id 11010519491231002X --phone 13800138000 "
                 "--text '申请城乡低保' --wait-applied --wait " CLI_WAIT);
    if (rc != 0)
        fail_msg("register: exit %d: %s", rc, out);
    sj_test_cli_json_str(out, "case", id, sizeof id);
    sj_test_cli_json_str(out, "case_number", number, sizeof number);
    rc = cli(out, sizeof out, "--json escalate %s --wait-applied --wait " CLI_WAIT, id);
    if (rc != 0)
        fail_msg("escalate: exit %d: %s", rc, out);
    copy_state want = {id, "escalated_township"};
    if (!sj_test_poll_until(station_copy_is, &want, SJ_TEST_HANG_MS, 50))
        fail_msg("the station's copy of %s did not become the county's escalated case", id);

    /* The station's copy as if it had missed the escalation: held by the
     * village, registered, at the version the relay holds. */
    char path[4200];
    snprintf(path, sizeof path, "%s/" STATION ".db", W.t.certs.dir);
    sc_store *st = NULL;
    sj_error err;
    uint8_t cid[16];
    assert_int_equal(sj_uuid_parse(id, cid, &err), 0);
    if (sc_store_open(path, NODE, &st, &err) != 0)
        fail_msg("store: %s", err.message);
    Sanji__Case *c = NULL;
    assert_int_equal(sc_store_case_get(st, cid, &c, NULL, &err), 0);
    assert_int_equal(c->version, 2);
    c->status = SANJI__CASE_STATUS__CASE_STATUS_REGISTERED;
    c->holder_level = SANJI__LEVEL__LEVEL_VILLAGE;
    free(c->holder_unit);
    c->holder_unit = strdup(VILLAGE);
    assert_non_null(c->holder_unit);
    if (sc_store_case_put(st, c, &err) != 0)
        fail_msg("case_put: %s", err.message);
    sanji__case__free_unpacked(c, NULL);
    sc_store_close(st);

    /* 上报 again: the station's check passes, the relay refuses. */
    rc = cli(out, sizeof out, "escalate %s --wait " CLI_WAIT, id);
    if (rc != 4)
        fail_msg("second escalate: exit %d, want 4 (refused by the township or county): %s", rc, out);
    if (!strstr(out, "乡镇中转站已拒收"))
        fail_msg("the refusal does not say the township relay refused it:\n%s", out);
    /* The relay's reason, from the refusal module: nothing of the English
     * msgid (or any other English sentence) is left in what the cadre
     * reads after "被拒绝". */
    const char *refused = strstr(out, "乡镇中转站已拒收");
    if (!no_english_words(refused))
        fail_msg("English left in the relay's refusal:\n%s", out);

    /* The same words in the case's own history of this station's actions. */
    assert_int_equal(cli(out, sizeof out, "--json show %s", id), 0);
    const char *row = strstr(out, "\"state\":\"refused\"");
    sj_test_cli_json_str(row ? row : "", "reason", reason, sizeof reason);
    if (!strstr(reason, "乡镇中转站已拒收") || !no_english_words(reason))
        fail_msg("the refused action's reason kept at the station: \"%s\" in %s", reason, out);

    /* Nothing reached the county: registered and escalated only. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT string_agg(action::text, ',' ORDER BY seq) FROM case_event WHERE case_id = '%s'",
             id);
    assert_string_equal(pq(sql), "1,3");
    (void)number;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay_refusal_reaches_the_cadre_in_chinese),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
