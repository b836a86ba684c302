/*
 * test_metrics.c - the daemons' GET /metrics (metrics.listen), fetched
 * with curl from real sanji-countyd and sanji-relayd processes while a
 * station works through them (docs/OPERATIONS.md section 5).
 *
 * The real tiers on loopback (tests/lib/tiers.h, heartbeats every 300 ms)
 * with metrics.listen on a free loopback port at each daemon, and the
 * station 张官营村 with the `sanji` CLI.  The test reads the figures
 * before and after what it does and checks that they moved as they must:
 *
 *   - both daemons list their families; the county counts the relay's
 *     session and both show each other's link up and certificate expiry;
 *   - a case registered at the station: the relay stored, forwarded and
 *     settled one more message, the county applied one more, in a batch,
 *     with its latency observed, and the relay shows the village's feed lag;
 *   - the county stopped: the relay's county link is down, a registration
 *     waits in its queue (depth 1, an age), and after the county is back
 *     the queue is empty again and the county applied it;
 *   - the database refusing connections counts DB_CONN errors, and the
 *     county records again once it is back;
 *   - a TLS client without a certificate (curl) counts as a handshake
 *     failure at the relay;
 *   - SIGHUP (systemctl reload) leaves the endpoint serving; other paths
 *     are 404, other methods 405;
 *   - a wildcard metrics.listen is refused: the relay does not start.
 *
 * Nothing waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
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
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX 65536
#define TEXT_MAX (1 << 20)
#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define VILLAGE "410423101201"
#define PERSON "p-410423101201-01"
#define RELAY_NODE "relay:410423101000"
#define COUNTY_NODE "county:410423000000"
#define CURL_TIMEOUT_MS 30000

typedef struct world {
    sj_test_tiers t;
    char conninfo[1024];
    PGconn *db;
    int county_metrics, relay_metrics; /* ports */
    char curl_log[PATH_MAX];
} world;

static world W;

/* ---- fetching and reading /metrics ------------------------------------------------ */

/* curl with args (NULL-terminated after url); its output into out (the
 * body with -o, or what -w writes).  Returns curl's exit status. */
static int curl(char *out, size_t cap, const char *url, const char *const extra[])
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/curl.out", W.t.certs.dir);
    remove(path);
    const char *argv[24] = {"curl", "-sS", "--max-time", "20", "-o", path};
    size_t n = 6;
    for (size_t i = 0; extra && extra[i] && n < 22; i++)
        argv[n++] = extra[i];
    argv[n++] = url;
    argv[n] = NULL;
    int rc = sj_test_proc_run(argv, NULL, W.curl_log, CURL_TIMEOUT_MS);
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t got = fread(out, 1, cap - 1, f);
        out[got] = '\0';
        fclose(f);
    }
    return rc;
}

/* The text of GET /metrics at port; fails the test when it is not served. */
static void scrape(int port, char *text)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    int rc = curl(text, TEXT_MAX, url, NULL);
    if (rc != 0)
        fail_msg("curl %s: exit %d (see %s)", url, rc, W.curl_log);
}

/* The value of the series named exactly series (with its labels), or -1
 * when the text has no such line. */
static double value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

/* The sum of every series of a family with labels (prefix "name{"). */
static double sum_of(const char *text, const char *family)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s{", family);
    size_t n = strlen(prefix);
    double sum = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, n) == 0) {
            const char *sp = strstr(p, "} ");
            if (sp)
                sum += strtod(sp + 2, NULL);
        }
    return sum;
}

static char *new_text(void)
{
    char *t = malloc(TEXT_MAX);
    assert_non_null(t);
    return t;
}

typedef struct expect {
    int port;
    const char *series;
    double at_least; /* the series' value reaches this */
    double at_most;  /* ... and is not above this */
} expect;

static bool holds(void *arg)
{
    expect *e = arg;
    char *t = new_text();
    scrape(e->port, t);
    double v = value_of(t, e->series);
    free(t);
    return v >= e->at_least && v <= e->at_most;
}

/* Waits until the series is within [lo, hi]; fails naming its value. */
static void wait_value(int port, const char *series, double lo, double hi)
{
    expect e = {port, series, lo, hi};
    if (!sj_test_poll_until(holds, &e, SJ_TEST_HANG_MS, 100)) {
        char *t = new_text();
        scrape(port, t);
        fail_msg("%s is %g, want %g..%g; the metrics:\n%s", series, value_of(t, series), lo, hi,
                 t);
    }
}

static int cli(char *out, size_t cap, const char *args)
{
    return sj_test_tiers_cli(&W.t, STATION, "sanji123", out, cap, args);
}

/* ---- the network ----------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    W.county_metrics = sj_test_proc_free_port();
    W.relay_metrics = sj_test_proc_free_port();
    snprintf(W.curl_log, sizeof W.curl_log, "%s/curl.log", W.t.certs.dir);
    W.db = pgt_fresh_db("sanji_metrics", W.conninfo, sizeof W.conninfo);
    if (!W.db)
        return -1;
    char county_extra[256], relay_extra[256];
    snprintf(county_extra, sizeof county_extra,
             "[link]\nheartbeat = 300ms\n[metrics]\nlisten = 127.0.0.1:%d\n", W.county_metrics);
    snprintf(relay_extra, sizeof relay_extra,
             "[link]\nheartbeat = 300ms\n[metrics]\nlisten = 127.0.0.1:%d\n", W.relay_metrics);
    if (sj_test_tiers_configure(&W.t, W.conninfo, county_extra, relay_extra) != 0 ||
        sj_test_tiers_write_station(&W.t, STATION) != 0 || sj_test_tiers_start(&W.t) != 0)
        return -1;
    return sj_test_tiers_station_login(&W.t, STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    if (W.db)
        PQfinish(W.db);
    return sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP");
}

/* ---- the tests ------------------------------------------------------------------ */

static void test_families_and_links(void **state)
{
    (void)state;
    char *c = new_text(), *r = new_text();
    wait_value(W.county_metrics, "sanji_county_sessions", 1, 1e9);
    wait_value(W.county_metrics, "sanji_link_up{peer=\"" RELAY_NODE "\"}", 1, 1);
    wait_value(W.relay_metrics, "sanji_link_up{peer=\"" COUNTY_NODE "\"}", 1, 1);
    scrape(W.county_metrics, c);
    scrape(W.relay_metrics, r);
    const char *county_families[] = {
        "# TYPE sanji_county_messages_applied_total counter",
        "# TYPE sanji_county_messages_refused_total counter",
        "# TYPE sanji_county_apply_batch_size histogram",
        "# TYPE sanji_county_apply_latency_seconds histogram",
        "# TYPE sanji_county_database_errors_total counter",
        "# TYPE sanji_county_pending_messages gauge",
        "# TYPE sanji_tls_handshake_failures_total counter",
        "# TYPE sanji_certificate_expiry_timestamp_seconds gauge",
    };
    for (size_t i = 0; i < sizeof county_families / sizeof *county_families; i++)
        if (!strstr(c, county_families[i]))
            fail_msg("the county's metrics lack \"%s\":\n%s", county_families[i], c);
    const char *relay_families[] = {
        "# TYPE sanji_relay_messages_stored_total counter",
        "# TYPE sanji_relay_messages_forwarded_total counter",
        "# TYPE sanji_relay_messages_settled_total counter",
        "# TYPE sanji_relay_queue_messages gauge",
        "# TYPE sanji_relay_queue_oldest_age_seconds gauge",
        "# TYPE sanji_relay_feed_lag_seconds gauge",
        "# TYPE sanji_link_up gauge",
    };
    for (size_t i = 0; i < sizeof relay_families / sizeof *relay_families; i++)
        if (!strstr(r, relay_families[i]))
            fail_msg("the relay's metrics lack \"%s\":\n%s", relay_families[i], r);
    /* Each daemon's own certificate and its peer's, in the future. */
    double now = (double)time(NULL);
    const char *certs[][2] = {{c, COUNTY_NODE}, {c, RELAY_NODE}, {r, RELAY_NODE}, {r, COUNTY_NODE}};
    for (size_t i = 0; i < 4; i++) {
        char series[128];
        snprintf(series, sizeof series, "sanji_certificate_expiry_timestamp_seconds{node=\"%s\"}",
                 certs[i][1]);
        double v = value_of(certs[i][0], series);
        if (v <= now)
            fail_msg("%s is %g (now %g) at the %s", series, v, now, i < 2 ? "county" : "relay");
    }
    free(c);
    free(r);
}

static void test_a_case_moves_the_counters(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char *c = new_text(), *r = new_text();
    scrape(W.county_metrics, c);
    scrape(W.relay_metrics, r);
    double applied = value_of(c, "sanji_county_messages_applied_total");
    double batches = value_of(c, "sanji_county_apply_batch_size_count");
    double latencies = value_of(c, "sanji_county_apply_latency_seconds_count");
    double stored = value_of(r, "sanji_relay_messages_stored_total");
    double forwarded = value_of(r, "sanji_relay_messages_forwarded_total");
    double settled = sum_of(r, "sanji_relay_messages_settled_total");
    assert_true(applied >= 0 && batches >= 0 && latencies >= 0 && stored >= 0 && forwarded >= 0);

    int rc = cli(out, sizeof out,
                 "register --item MZ-001 --name 张三 --id 11010519491231002X --phone 13800138000 "
                 "--text '申请办理' --wait-applied --wait 30");
    if (rc != 0)
        fail_msg("register: exit %d: %s", rc, out);

    char series[128];
    snprintf(series, sizeof series, "sanji_relay_messages_settled_total{result=\"applied\"}");
    wait_value(W.relay_metrics, series, value_of(r, series) < 0 ? 1 : value_of(r, series) + 1,
               1e9);
    scrape(W.county_metrics, c);
    scrape(W.relay_metrics, r);
    assert_true(value_of(c, "sanji_county_messages_applied_total") == applied + 1);
    assert_true(value_of(c, "sanji_county_apply_batch_size_count") >= batches + 1);
    assert_true(value_of(c, "sanji_county_apply_latency_seconds_count") == latencies + 1);
    assert_true(value_of(c, "sanji_county_apply_latency_seconds_sum") > 0);
    assert_true(value_of(r, "sanji_relay_messages_stored_total") == stored + 1);
    assert_true(value_of(r, "sanji_relay_messages_forwarded_total") >= forwarded + 1);
    assert_true(sum_of(r, "sanji_relay_messages_settled_total") == settled + 1);
    /* The case's feed reached the relay: the village has a lag. */
    if (value_of(r, "sanji_relay_feed_lag_seconds{village=\"" VILLAGE "\"}") < 0)
        fail_msg("no feed lag for village %s at the relay:\n%s", VILLAGE, r);
    /* The station linked to the relay, and was seen. */
    if (value_of(r, "sanji_link_last_seen_timestamp_seconds{peer=\"village:" VILLAGE "\"}") <= 0)
        fail_msg("the relay never saw the station:\n%s", r);
    wait_value(W.relay_metrics, "sanji_relay_queue_messages", 0, 0);
    free(c);
    free(r);
}

static void test_queue_while_the_county_is_down(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    sj_error err;
    assert_int_equal(sj_test_proc_stop(&W.t.county, SJ_TEST_HANG_MS, &err), 0);
    wait_value(W.relay_metrics, "sanji_link_up{peer=\"" COUNTY_NODE "\"}", 0, 0);

    /* Saved at the station, then stored at the relay: it waits there. */
    cli(out, sizeof out,
        "register --item MZ-001 --name 李四 --id 11010519491231002X --phone 13800138000 "
        "--text '申请办理' --wait 0");
    cli(out, sizeof out, "sync --wait 2");
    wait_value(W.relay_metrics, "sanji_relay_queue_messages", 1, 1);
    wait_value(W.relay_metrics, "sanji_relay_queue_oldest_age_seconds", 0.001, 1e9);
    char *r = new_text();
    scrape(W.relay_metrics, r);
    if (value_of(r, "sanji_relay_queue_bytes") <= 0)
        fail_msg("a queued message of no bytes:\n%s", r);

    /* The county is back (its figures start again from zero): the queue
     * drains into it. */
    assert_int_equal(sj_test_proc_restart(&W.t.county, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.county, W.t.county_port, SJ_TEST_HANG_MS, &err), 0);
    wait_value(W.relay_metrics, "sanji_relay_queue_messages", 0, 0);
    wait_value(W.relay_metrics, "sanji_relay_queue_oldest_age_seconds", 0, 0);
    wait_value(W.relay_metrics, "sanji_link_up{peer=\"" COUNTY_NODE "\"}", 1, 1);
    wait_value(W.county_metrics, "sanji_county_messages_applied_total", 1, 1);
    free(r);
}

/* The county's database refuses connections for a while: its workers'
 * jobs fail with DB_CONN (and are retried); after it is back the county
 * records again. */
static void test_database_errors_counted(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    /* From the cluster's own database: none may refuse its own. */
    char base[1024];
    snprintf(base, sizeof base, "%s", W.conninfo);
    char *own = strstr(base, " dbname=sanji_metrics");
    assert_non_null(own);
    *own = '\0';
    PGconn *admin = PQconnectdb(base);
    if (PQstatus(admin) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", base, PQerrorMessage(admin));
    pgt_exec(admin, "ALTER DATABASE sanji_metrics ALLOW_CONNECTIONS false");
    pgt_exec(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = 'sanji_metrics'");
    /* The relay's status every second heartbeat is a database job. */
    wait_value(W.county_metrics, "sanji_county_database_errors_total{code=\"DB_CONN\"}", 1, 1e9);
    pgt_exec(admin, "ALTER DATABASE sanji_metrics ALLOW_CONNECTIONS true");
    PQfinish(admin);
    PQfinish(W.db); /* terminated with the others */
    W.db = PQconnectdb(W.conninfo);
    char *c = new_text();
    scrape(W.county_metrics, c);
    double applied = value_of(c, "sanji_county_messages_applied_total");
    free(c);
    int rc = cli(out, sizeof out,
                 "register --item MZ-001 --name 王五 --id 11010519491231002X --phone 13800138000 "
                 "--text '申请办理' --wait-applied --wait 60");
    if (rc != 0)
        fail_msg("register after the database came back: exit %d: %s", rc, out);
    wait_value(W.county_metrics, "sanji_county_messages_applied_total", applied + 1, applied + 1);
}

typedef struct failures {
    double before;
    char *text;
} failures;

static bool failure_counted(void *arg)
{
    failures *f = arg;
    scrape(W.relay_metrics, f->text);
    return sum_of(f->text, "sanji_tls_handshake_failures_total") >= f->before + 1;
}

static void test_handshake_failure_is_counted(void **state)
{
    (void)state;
    failures f = {0, new_text()};
    scrape(W.relay_metrics, f.text);
    f.before = sum_of(f.text, "sanji_tls_handshake_failures_total");
    /* A TLS client with no certificate: the relay refuses the handshake. */
    char url[64], out[256];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", W.t.relay_port);
    const char *insecure[] = {"-k", NULL};
    if (curl(out, sizeof out, url, insecure) == 0)
        fail_msg("the relay answered a TLS client without a certificate");
    if (!sj_test_poll_until(failure_counted, &f, SJ_TEST_HANG_MS, 100))
        fail_msg("a refused handshake is not counted:\n%s", f.text);
    free(f.text);
}

/* The HTTP status curl gets for url with the given curl options. */
static void http_status(const char *options, const char *url, char code[16])
{
    char path[PATH_MAX], cmd[PATH_MAX + 1024];
    snprintf(path, sizeof path, "%s/curl.code", W.t.certs.dir);
    snprintf(cmd, sizeof cmd, "curl -s %s -o /dev/null -w '%%{http_code}' '%s' > '%s'", options,
             url, path);
    const char *argv[] = {"sh", "-c", cmd, NULL};
    assert_int_equal(sj_test_proc_run(argv, NULL, W.curl_log, CURL_TIMEOUT_MS), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(code, 1, 15, f);
    code[n] = '\0';
    fclose(f);
}

static void test_reload_paths_and_methods(void **state)
{
    (void)state;
    /* systemctl reload sends SIGHUP: the endpoint goes on serving. */
    assert_int_equal(sj_test_proc_signal(&W.t.relay, SIGHUP), 0);
    assert_int_equal(sj_test_proc_signal(&W.t.county, SIGHUP), 0);
    wait_value(W.relay_metrics, "sanji_link_up{peer=\"" COUNTY_NODE "\"}", 1, 1);
    wait_value(W.county_metrics, "sanji_county_sessions", 1, 1e9);
    assert_true(sj_test_proc_alive(&W.t.relay) && sj_test_proc_alive(&W.t.county));

    char url[64], code[16];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/other", W.relay_metrics);
    http_status("", url, code);
    assert_string_equal(code, "404");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", W.county_metrics);
    http_status("-X POST -d x=1", url, code);
    assert_string_equal(code, "405");
    http_status("", url, code);
    assert_string_equal(code, "200");
}

static void test_wildcard_address_refused(void **state)
{
    (void)state;
    char conf[PATH_MAX], log[PATH_MAX], bin[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];
    int port = sj_test_proc_free_port();
    if (sj_test_write_file(W.t.certs.dir, "wild.conf",
                           "[listen]\naddress = 127.0.0.1:%d\n"
                           "[county]\naddresses = 127.0.0.1:%d\nnode = " COUNTY_NODE "\n"
                           "[tls]\nca = %s\ncert = %s\nkey = %s\n"
                           "[store]\npath = %s/wild.db\n"
                           "[metrics]\nlisten = 0.0.0.0:%d\n",
                           port, W.t.county_port, W.t.certs.ca_file,
                           sj_test_certs_path(&W.t.certs, "relay", "crt", crt, sizeof crt),
                           sj_test_certs_path(&W.t.certs, "relay", "key", key, sizeof key),
                           W.t.certs.dir, sj_test_proc_free_port()) != 0)
        fail_msg("cannot write wild.conf");
    snprintf(conf, sizeof conf, "%s/wild.conf", W.t.certs.dir);
    snprintf(log, sizeof log, "%s/wild.log", W.t.certs.dir);
    snprintf(bin, sizeof bin, "%s", W.t.relayd);
    const char *argv[] = {bin, "--config", conf, "run", NULL};
    int rc = sj_test_proc_run(argv, NULL, log, SJ_TEST_HANG_MS);
    assert_int_equal(rc, 1);
    if (sj_test_count_lines(log, "metrics.listen") < 1)
        fail_msg("the refusal does not name metrics.listen (see %s)", log);
    assert_false(sj_test_proc_port_accepts(port));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families_and_links),
        cmocka_unit_test(test_a_case_moves_the_counters),
        cmocka_unit_test(test_queue_while_the_county_is_down),
        cmocka_unit_test(test_database_errors_counted),
        cmocka_unit_test(test_handshake_failure_is_counted),
        cmocka_unit_test(test_reload_paths_and_methods),
        cmocka_unit_test(test_wildcard_address_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
