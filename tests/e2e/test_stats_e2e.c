/*
 * test_stats_e2e.c - period statistics through the real tiers
 * (docs/STATISTICS.md): sanji-countyd on a private PostgreSQL with the
 * demo county, the sanji-relayd of 张官营镇 (410423101000) and the `sanji`
 * CLI at two of its village stations, at its township desk (both through
 * the relay, which forwards the question to the county) and at a county
 * desk (direct).
 *
 * Behaviours:
 *   each asker's figures cover its own scope and nothing else: a station
 *     counts its village's cases only, the township desk its villages',
 *     the county desk the county's, each equal to what the county's
 *     database holds for that scope; a station asking for its township is
 *     refused;
 *   the outputs: --json figures, the table, CSV (byte-order mark, Chinese headings,
 *     a line per row and one for the total), and an .xlsx workbook written
 *     with -o (a zip whose parts are the three sheets);
 *   the 通报 (`sanji bulletin`, PDF and workbook) of this month at the
 *     county desk, the township desk and a station: its title names the
 *     asker's scope and the month, its summary's figures are the asker's
 *     own statistics, its pages are numbered, and a township's or a
 *     station's holds no village outside its scope;
 *   the 台账 (`sanji ledger`) of a station: its own village's requests of
 *     the month and no other village's, the names masked, no ID number or
 *     phone; a county desk is refused;
 *   the county stopped: the relay refuses at once (UPSTREAM_DOWN) instead
 *     of answering from its cache; the county back: answered again.
 *
 * Entry point: main().
 */
#include <setjmp.h>
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

#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define V201     "v201"  /* village:410423101201 */
#define V202     "v202"  /* village:410423101202 */
#define TDESK    "tdesk" /* township-desk:410423101000 */
#define CDESK    "cdesk" /* county-desk:410423000000:ops1 */
#define OUT_MAX  65536
#define CLI_WAIT "120"

static struct {
    sj_test_tiers t;
    PGconn *db;
    char conninfo[1024];
} W;

static int cli(const char *station, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int cli(const char *station, char *out, size_t cap, const char *fmt, ...)
{
    char args[2048], cmd[12288];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && exec '%s' --config %s.conf %s 2>&1", W.t.certs.dir,
             W.t.cli, station, args);
    FILE *f = popen(cmd, "r");
    if (!f)
        fail_msg("popen failed for %s", cmd);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The number after the first "key": at or after from in a JSON text. */
static long jnum(const char *json, const char *from_key, const char *key)
{
    const char *p = strstr(json, from_key);
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    p = p ? strstr(p, pat) : NULL;
    if (!p)
        fail_msg("no %s after %s in: %s", key, from_key, json);
    return strtol(p + strlen(pat), NULL, 10);
}

static long db_count(const char *where)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM cases WHERE registered_at_ms >= extract(epoch FROM"
             " date_trunc('year', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE"
             " 'Asia/Shanghai') * 1000 AND %s",
             where);
    PGresult *r = PQexec(W.db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(W.db));
    long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static int login(const char *station, const char *person)
{
    static char out[OUT_MAX];
    int rc = 1;
    int64_t end = now_ms() + SJ_TEST_HANG_MS;
    while (rc != 0 && now_ms() < end) {
        rc = cli(station, out, sizeof out, "--json login %s", person);
        if (rc != 0) {
            cli(station, out, sizeof out, "sync --wait 2");
            sj_test_sleep_ms(100);
        }
    }
    if (rc != 0)
        fprintf(stderr, "login %s at %s failed: %s\n", person, station, out);
    return rc;
}

static void reg(const char *station, bool resolve)
{
    static char out[OUT_MAX];
    int rc = cli(station, out, sizeof out,
                 "--json register --item MZ-001 --name 张三 --id 11010519491231002X "
                 "--phone 13800138000 --text '咨询' --wait-applied --wait " CLI_WAIT);
    if (rc != 0)
        fail_msg("register at %s: exit %d: %s", station, rc, out);
    if (!resolve)
        return;
    const char *p = strstr(out, "\"case\":\"");
    if (!p)
        fail_msg("no case id in %s", out);
    char id[64];
    snprintf(id, sizeof id, "%.36s", p + 8);
    rc = cli(station, out, sizeof out,
             "--json resolve-now %s --result 已答复 --wait-applied --wait " CLI_WAIT, id);
    if (rc != 0)
        fail_msg("resolve-now at %s: exit %d: %s", station, rc, out);
}

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    const char *args[] = {"issue",  "--dir",        W.t.certs.ca_dir, "--role", "village",
                          "--unit", "410423101202", "--out",          NULL,     NULL};
    char out[4096];
    snprintf(out, sizeof out, "%s/v202", W.t.certs.dir);
    args[8] = out;
    if (sj_test_certs_pki(&W.t.certs, args) != 0)
        return -1;
    chmod(W.t.certs.dir, 0755);
    W.db = pgt_fresh_db("sanji_stats_e2e", W.conninfo, sizeof W.conninfo);
    if (sj_test_tiers_configure(&W.t, W.conninfo, NULL, NULL) != 0 ||
        station_conf(V201, "village", W.t.relay_port, "relay:410423101000") != 0 ||
        station_conf(V202, "v202", W.t.relay_port, "relay:410423101000") != 0 ||
        station_conf(TDESK, "township-desk", W.t.relay_port, "relay:410423101000") != 0 ||
        station_conf(CDESK, "county-desk", W.t.county_port, "county:410423000000") != 0 ||
        sj_test_tiers_start(&W.t) != 0)
        return -1;
    setenv("SANJI_PASSWORD", "sanji123", 1);
    if (login(V201, "p-410423101201-01") != 0 || login(V202, "p-410423101202-01") != 0 ||
        login(TDESK, "p-410423101000-01") != 0 || login(CDESK, "p-410423000000-01") != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (W.db)
        PQfinish(W.db);
    return sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP");
}

/* Each level's figures are its own scope's, as the county's database
 * counts them. */
static void test_each_level_sees_its_scope(void **state)
{
    (void)state;
    reg(V201, true);
    reg(V201, false);
    reg(V202, true);
    static char out[OUT_MAX];
    const struct {
        const char *who, *scope, *where;
    } askers[] = {
        {V201, "410423101201", "village = '410423101201'"},
        {V202, "410423101202", "village = '410423101202'"},
        {TDESK, "410423101000", "village BETWEEN '410423101000' AND '410423101999'"},
        {CDESK, "410423000000", "true"},
    };
    long registered[4];
    for (int i = 0; i < 4; i++) {
        int rc = cli(askers[i].who, out, sizeof out, "--json stats --period year --wait " CLI_WAIT);
        if (rc != 0)
            fail_msg("stats at %s: exit %d: %s", askers[i].who, rc, out);
        char scope[64];
        snprintf(scope, sizeof scope, "\"scope\":\"%s\"", askers[i].scope);
        if (!strstr(out, scope))
            fail_msg("stats at %s: want %s in %s", askers[i].who, scope, out);
        registered[i] = jnum(out, "\"total\":", "registered");
        assert_int_equal(registered[i], db_count(askers[i].where));
        char where[256];
        snprintf(where, sizeof where, "%s AND status IN (7, 8, 9, 10)", askers[i].where);
        assert_int_equal(jnum(out, "\"total\":", "finished"), db_count(where));
    }
    /* What this test made: village 201 two (one resolved), 202 one. */
    assert_true(registered[0] >= 2);
    assert_true(registered[1] >= 1);
    assert_true(registered[2] >= registered[0] + registered[1]);
    assert_true(registered[3] >= registered[2]);

    /* The township desk by village: rows of its own villages only. */
    int rc =
        cli(TDESK, out, sizeof out, "--json stats --period year --by village --wait " CLI_WAIT);
    if (rc != 0)
        fail_msg("stats --by village at the township desk: exit %d: %s", rc, out);
    for (const char *p = strstr(out, "\"key\":\""); p; p = strstr(p + 1, "\"key\":\"")) {
        if (strncmp(p + 7, "\"", 1) == 0)
            continue; /* the total's empty key */
        if (strncmp(p + 7, "410423101", 9) != 0)
            fail_msg("a row outside the township: %.40s", p);
    }
    /* A station may not look at its township. */
    rc = cli(V201, out, sizeof out,
             "--json stats --period year --unit 410423101000 --wait " CLI_WAIT);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "SCOPE"));
}

/* The table, CSV and the workbook. */
static void test_csv_and_xlsx(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    int rc = cli(TDESK, out, sizeof out,
                 "stats --period year --by village --format csv --wait " CLI_WAIT);
    if (rc != 0)
        fail_msg("csv: exit %d: %s", rc, out);
    assert_memory_equal(out, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(out, "登记"));
    assert_non_null(strstr(out, "办结率"));
    assert_non_null(strstr(out, "合计"));
    /* Heading, one line per village with cases, the total. */
    int lines = 0;
    for (const char *p = out; (p = strstr(p, "\r\n")); p += 2)
        lines++;
    assert_true(lines >= 3);

    /* The table: headings, a line per township, the total. */
    rc = cli(CDESK, out, sizeof out, "stats --period year --by township --wait " CLI_WAIT);
    if (rc != 0)
        fail_msg("table: exit %d: %s", rc, out);
    assert_non_null(strstr(out, "按乡镇"));
    assert_non_null(strstr(out, "张官营镇"));
    assert_non_null(strstr(out, "按时办结率"));
    assert_non_null(strstr(out, "合计"));

    rc = cli(CDESK, out, sizeof out,
             "stats --period year --by township --format xlsx -o stats.xlsx --wait " CLI_WAIT);
    if (rc != 0)
        fail_msg("xlsx: exit %d: %s", rc, out);
    char path[4096];
    snprintf(path, sizeof path, "%s/stats.xlsx", W.t.certs.dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char zip[1 << 20];
    size_t n = fread(zip, 1, sizeof zip, f);
    fclose(f);
    assert_true(n > 4);
    assert_memory_equal(zip, "PK\x03\x04", 4);
    /* Part names are stored as they are in the zip's directory. */
    const char *parts[] = {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
                           "xl/worksheets/sheet3.xml", "xl/workbook.xml"};
    for (size_t i = 0; i < 4; i++)
        assert_non_null(memmem(zip, n, parts[i], strlen(parts[i])));
    /* The total alone: its sheet and the total's would share the name 合计. */
    rc = cli(CDESK, out, sizeof out,
             "stats --period year --format xlsx -o total.xlsx --wait " CLI_WAIT);
    if (rc != 0)
        fail_msg("xlsx of the total: exit %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/total.xlsx", W.t.certs.dir);
    f = fopen(path, "rb");
    assert_non_null(f);
    n = fread(zip, 1, sizeof zip, f);
    fclose(f);
    for (size_t i = 0; i < 4; i++)
        assert_non_null(memmem(zip, n, parts[i], strlen(parts[i])));
    /* An .xlsx without a file is refused before asking. */
    rc = cli(CDESK, out, sizeof out, "stats --period year --format xlsx");
    assert_int_not_equal(rc, 0);
}

/* The text of a command's output file (pdftotext for a PDF, unzip -p for
 * a part of a workbook), malloc'd. */
static char *file_text(const char *cmd_fmt, const char *file, const char *part)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, cmd_fmt, W.t.certs.dir, file, part ? part : "");
    FILE *p = popen(cmd, "r");
    if (!p)
        fail_msg("popen failed for %s", cmd);
    size_t cap = 1 << 20, n = 0, got;
    char *buf = calloc(1, cap);
    while (n + 1 < cap && (got = fread(buf + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    if (pclose(p) != 0)
        fail_msg("%s failed", cmd);
    /* pdftotext spaces Chinese text as the layout falls: compare without. */
    char *o = buf;
    for (const char *q = buf; *q; q++)
        if (*q != ' ')
            *o++ = *q;
    *o = '\0';
    return buf;
}
#define PDF_TEXT "pdftotext -enc UTF-8 '%s/%s' -%s"
#define XLSX_PART "unzip -p '%s/%s' %s"

/* This month ("2026-12") and its name in the 通报 ("2026年12月"), China time. */
static void this_month(char at[16], char name[32])
{
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(at, 16, "%04d-%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100);
    snprintf(name, 32, "%d年%d月", tm.tm_year + 1900, tm.tm_mon + 1);
}

/* Every "410423…" code in text lies under prefix, or is the township
 * enclosing it (a station's row by township: its own township, counting
 * its village only). */
static void codes_under(const char *text, const char *prefix, const char *township,
                        const char *what)
{
    for (const char *p = strstr(text, "410423"); p; p = strstr(p + 1, "410423")) {
        /* Case numbers (410423-2026…) are not units. */
        if (p[6] == '-' || (township && strncmp(p, township, 12) == 0))
            continue;
        if (strncmp(p, prefix, strlen(prefix)) != 0)
            fail_msg("%s: %.12s lies outside %s", what, p, prefix);
    }
}

/* The 通报 of this month at each level, and a station's 台账. */
static void test_bulletin_and_ledger(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char at[16], month[32];
    this_month(at, month);
    reg(V201, true);
    reg(V202, false);
    const struct {
        const char *who, *scope_name, *prefix, *township;
    } askers[] = {
        {CDESK, "鲁山县", "410423", NULL},
        {TDESK, "鲁山县张官营镇", "410423101", NULL},
        {V201, "鲁山县张官营镇张官营村", "410423101201", "410423101000"},
    };
    for (int i = 0; i < 3; i++) {
        /* The asker's own statistics of the month. */
        int rc = cli(askers[i].who, out, sizeof out,
                     "--json stats --period month --at %s --wait " CLI_WAIT, at);
        if (rc != 0)
            fail_msg("stats at %s: exit %d: %s", askers[i].who, rc, out);
        long registered = jnum(out, "\"total\":", "registered");
        long finished = jnum(out, "\"total\":", "finished");
        rc = cli(askers[i].who, out, sizeof out,
                 "--json bulletin --month %s -o %s.pdf --wait " CLI_WAIT, at, askers[i].who);
        if (rc != 0)
            fail_msg("bulletin at %s: exit %d: %s", askers[i].who, rc, out);
        char file[64], want[256];
        snprintf(file, sizeof file, "%s.pdf", askers[i].who);
        char *text = file_text(PDF_TEXT, file, NULL);
        snprintf(want, sizeof want, "%s%s代办工作通报", askers[i].scope_name, month);
        if (!strstr(text, want))
            fail_msg("bulletin at %s: no title %s in:\n%.3000s", askers[i].who, want, text);
        snprintf(want, sizeof want, "本期共登记诉求%ld件", registered);
        if (!strstr(text, want))
            fail_msg("bulletin at %s: no \"%s\" in:\n%.3000s", askers[i].who, want, text);
        snprintf(want, sizeof want, "已办结%ld件", finished);
        if (!strstr(text, want))
            fail_msg("bulletin at %s: no \"%s\" in:\n%.3000s", askers[i].who, want, text);
        assert_non_null(strstr(text, "第1页"));
        assert_null(strstr(text, "11010519491231002X"));
        assert_null(strstr(text, "13800138000"));
        free(text);
        /* The workbook: its sheets, and no unit outside the scope. */
        rc = cli(askers[i].who, out, sizeof out,
                 "bulletin --month %s --format xlsx -o %s.xlsx --wait " CLI_WAIT, at,
                 askers[i].who);
        if (rc != 0)
            fail_msg("bulletin xlsx at %s: exit %d: %s", askers[i].who, rc, out);
        snprintf(file, sizeof file, "%s.xlsx", askers[i].who);
        char *wb = file_text(XLSX_PART, file, "xl/workbook.xml");
        assert_non_null(strstr(wb, "概况"));
        assert_non_null(strstr(wb, "按村"));
        assert_non_null(strstr(wb, "月度趋势"));
        free(wb);
        char *strings = file_text(XLSX_PART, file, "xl/sharedStrings.xml");
        codes_under(strings, askers[i].prefix, askers[i].township, askers[i].who);
        free(strings);
    }

    /* The station's 台账: its own cases of the month, masked. */
    int rc = cli(V201, out, sizeof out, "--json list");
    if (rc != 0)
        fail_msg("list at v201: exit %d: %s", rc, out);
    const char *num = strstr(out, "\"number\":\"410423-");
    if (!num)
        fail_msg("no case number at v201: %s", out);
    char number[64];
    snprintf(number, sizeof number, "%.21s", num + 10);
    rc = cli(V201, out, sizeof out, "--json stats --period month --at %s --wait " CLI_WAIT, at);
    assert_int_equal(rc, 0);
    long registered = jnum(out, "\"total\":", "registered");
    rc = cli(V201, out, sizeof out, "--json ledger --month %s -o ledger.pdf --wait 20", at);
    if (rc != 0)
        fail_msg("ledger at v201: exit %d: %s", rc, out);
    assert_int_equal(jnum(out, "{", "cases"), registered);
    char *text = file_text(PDF_TEXT, "ledger.pdf", NULL);
    char want[256];
    snprintf(want, sizeof want, "%s代办台账", month);
    if (!strstr(text, want) || !strstr(text, number) || !strstr(text, "张*") ||
        !strstr(text, "第1页") || !strstr(text, "已答复"))
        fail_msg("ledger at v201: want %s, %s, 张*, 已答复 and a page number in:\n%.3000s", want,
                 number, text);
    assert_null(strstr(text, "张三"));
    assert_null(strstr(text, "11010519491231002X"));
    assert_null(strstr(text, "13800138000"));
    free(text);
    rc = cli(V201, out, sizeof out, "ledger --month %s --format xlsx -o ledger.xlsx --wait 20", at);
    assert_int_equal(rc, 0);
    char *strings = file_text(XLSX_PART, "ledger.xlsx", "xl/sharedStrings.xml");
    assert_non_null(strstr(strings, number));
    assert_null(strstr(strings, "11010519491231002X"));
    free(strings);
    /* The other station's ledger does not hold this one's case. */
    rc = cli(V202, out, sizeof out, "ledger --month %s -o ledger202.pdf --wait 20", at);
    assert_int_equal(rc, 0);
    text = file_text(PDF_TEXT, "ledger202.pdf", NULL);
    assert_null(strstr(text, number));
    free(text);
    /* Bad input is refused before asking: a month that does not exist, a
     * format neither pdf nor xlsx, no file to write, a month with a quarter. */
    const char *bad[] = {"bulletin --month 2026-13 -o x.pdf", "bulletin --format docx -o x.docx",
                         "bulletin --month 2026-11", "bulletin --period quarter --month 2026-11 -o x.pdf",
                         "bulletin --period month --quarter 2026Q4 -o x.pdf",
                         "ledger --format csv -o x.csv"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = cli(V201, out, sizeof out, "%s", bad[i]);
        if (rc != 2)
            fail_msg("%s: exit %d, want 2 (usage): %s", bad[i], rc, out);
    }
    /* A county desk holds only the cases it opened: refused, with why. */
    rc = cli(CDESK, out, sizeof out, "ledger --month %s -o c.pdf --wait 20", at);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "台账"));
}

/* The county stopped: the relay refuses a station's question at once, as
 * the county computes statistics (no figures from the relay's cache); once
 * the county is back, the question is answered again. */
static void test_county_down_then_back(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    sj_error err;
    assert_int_equal(sj_test_proc_stop(&W.t.county, 30000, &err), 0);
    int rc = 0;
    for (int64_t end = now_ms() + SJ_TEST_HANG_MS; now_ms() < end;) {
        rc = cli(V201, out, sizeof out, "--json stats --period year --wait " CLI_WAIT);
        if (rc != 0 && strstr(out, "UPSTREAM_DOWN"))
            break;
        sj_test_sleep_ms(100);
    }
    if (rc == 0 || !strstr(out, "UPSTREAM_DOWN"))
        fail_msg("with the county stopped, stats at a station: exit %d: %s", rc, out);
    if (!strstr(out, "统计由县里计算"))
        fail_msg("the refusal does not say the county computes statistics: %s", out);

    assert_int_equal(sj_test_proc_restart(&W.t.county, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.county, W.t.county_port, SJ_TEST_HANG_MS, &err),
                     0);
    for (int64_t end = now_ms() + SJ_TEST_HANG_MS; now_ms() < end;) {
        rc = cli(V201, out, sizeof out, "--json stats --period year --wait " CLI_WAIT);
        if (rc == 0)
            break;
        sj_test_sleep_ms(200);
    }
    if (rc != 0)
        fail_msg("with the county back, stats at a station: exit %d: %s", rc, out);
    assert_non_null(strstr(out, "\"scope\":\"410423101201\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_level_sees_its_scope),
        cmocka_unit_test(test_csv_and_xlsx),
        cmocka_unit_test(test_bulletin_and_ledger),
        cmocka_unit_test(test_county_down_then_back),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
