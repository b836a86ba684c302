/*
 * test_enrol.c - a township's stations enrolled from the org tree in one
 * command, and one of them set up from its bundle and working.
 *
 * The real tiers on loopback (tiers.h): sanji-countyd on PostgreSQL with
 * the demo county and the relay of 张官营镇 (410423101000).  The real
 * sanji-pki enrols every village of that township from
 * deploy/demo/orgunits.csv (one bundle and one slip each); the real `sanji
 * setup` then
 *   - refuses a wrong passphrase, a truncated bundle and an altered one with
 *     a Chinese message, writing nothing;
 *   - sets 张官营村 (410423101201) up in a fresh folder from its bundle and
 *     the passphrase as typed from the slip (lower case, no dashes): the
 *     files are there with the key readable by the owner only, the
 *     certificate verifies against the county CA, `status --offline`
 *     accepts the configuration;
 *   - refuses another village's bundle over that setup, and accepts the
 *     same bundle again as "nothing changed";
 * and the station so set up logs a person in and registers a case that the
 * county records.
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
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX 65536
#define TOWNSHIP "410423101000"
#define VILLAGE "410423101201"
#define OTHER "410423101202"
#define CLI_WAIT "120"

typedef struct world {
    sj_test_tiers t;
    char conninfo[1024];
    PGconn *db;
    char bundles[4200]; /* the enrol --out folder */
    char station[4200]; /* the folder 张官营村 is set up in */
} world;

static world W;

/* Runs a shell command line (in the network's folder, with the locale
 * unset: Chinese, as on a village PC never configured); returns its exit
 * status, stdout and stderr together in out. */
static int sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t cap, const char *fmt, ...)
{
    char line[8192], cmd[9000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env -u LANGUAGE -u LC_ALL -u LC_MESSAGES -u LANG SANJI_PASSWORD=sanji123 "
             "sh -c '%s' 2>&1",
             W.t.certs.dir, line);
    FILE *f = popen(cmd, "r");
    if (!f)
        fail_msg("popen failed for %s", cmd);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The passphrase on the slip of bundle base (e.g. "410423101201-village";
 * "" when there is none). */
static void slip_passphrase_of(const char *base, char *pass, size_t cap)
{
    char path[4400], line[512];
    snprintf(path, sizeof path, "%s/%s.slip.txt", W.bundles, base);
    pass[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("no slip %s", path);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "口令 passphrase:", strlen("口令 passphrase:")) == 0)
            sscanf(line + strlen("口令 passphrase:"), "%127s", pass);
    fclose(f);
    (void)cap;
}

/* The passphrase on a village's slip. */
static void slip_passphrase(const char *unit, char *pass, size_t cap)
{
    char base[64];
    snprintf(base, sizeof base, "%s-village", unit);
    slip_passphrase_of(base, pass, cap);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static mode_t mode_of(const char *dir, const char *name)
{
    char path[4400];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) != 0)
        fail_msg("%s was not written", path);
    return st.st_mode & 0777;
}

/* ---- the network ----------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    W.db = pgt_fresh_db("sanji_enrol", W.conninfo, sizeof W.conninfo);
    if (!W.db || sj_test_tiers_configure(&W.t, W.conninfo, NULL, NULL) != 0 ||
        sj_test_tiers_start(&W.t) != 0)
        return -1;
    snprintf(W.bundles, sizeof W.bundles, "%s/bundles", W.t.certs.dir);
    snprintf(W.station, sizeof W.station, "%s/station", W.t.certs.dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (W.db)
        PQfinish(W.db);
    return sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP");
}

/* ---- the tests ----------------------------------------------------------------- */

/* One command: a bundle and a slip for every village of the township. */
static void test_enrol_a_township(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    int rc = sh(out, sizeof out,
                "%s enrol --dir %s --orgunits %s/deploy/demo/orgunits.csv --township " TOWNSHIP
                " --relay-address 127.0.0.1:%d --out %s",
                W.t.certs.pki, W.t.certs.ca_dir, W.t.source, W.t.relay_port, W.bundles);
    if (rc != 0)
        fail_msg("sanji-pki enrol: exit %d: %s", rc, out);

    /* Every village of the township in the org tree, and nothing else. */
    char csv[4400], line[512];
    snprintf(csv, sizeof csv, "%s/deploy/demo/orgunits.csv", W.t.source);
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    int villages = 0;
    char seen[64][32];
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, ",village," TOWNSHIP))
            continue;
        char unit[13] = "", path[4400], pass[128];
        memcpy(unit, line, 12);
        snprintf(path, sizeof path, "%s/%s-village.sanji", W.bundles, unit);
        if (!exists(path))
            fail_msg("no bundle for %s (%s)", unit, path);
        assert_int_equal(mode_of(W.bundles, strrchr(path, '/') + 1), 0600);
        slip_passphrase(unit, pass, sizeof pass);
        /* 20 characters in groups of four: 24 with the dashes. */
        if (strlen(pass) != 24)
            fail_msg("slip of %s: passphrase \"%s\"", unit, pass);
        for (int i = 0; i < villages && i < 64; i++)
            if (strcmp(seen[i], pass) == 0)
                fail_msg("two slips with the same passphrase %s", pass);
        if (villages < 64)
            snprintf(seen[villages], sizeof seen[villages], "%s", pass);
        villages++;
    }
    fclose(f);
    assert_true(villages > 10);
    char want[64];
    snprintf(want, sizeof want, "%d bundle(s) written", villages);
    if (!strstr(out, want))
        fail_msg("want \"%s\" in: %s", want, out);
}

/* Wrong passphrase, truncated file, altered file: refused in Chinese,
 * nothing written. */
static void test_bad_imports_are_refused(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char pass[128], other[128];
    slip_passphrase(VILLAGE, pass, sizeof pass);
    slip_passphrase(OTHER, other, sizeof other);

    int rc = sh(out, sizeof out, "echo %s | %s setup %s/" VILLAGE "-village.sanji --dir %s --passphrase-stdin",
                other, W.t.cli, W.bundles, W.station);
    if (rc != 3 || !strstr(out, "口令不对"))
        fail_msg("wrong passphrase: exit %d: %s", rc, out);
    assert_false(exists(W.station));

    rc = sh(out, sizeof out, "echo 1234 | %s setup %s/" VILLAGE "-village.sanji --dir %s --passphrase-stdin",
            W.t.cli, W.bundles, W.station);
    if (rc != 3 || !strstr(out, "不是配置口令单上的口令"))
        fail_msg("not a passphrase: exit %d: %s", rc, out);
    assert_false(exists(W.station));

    rc = sh(out, sizeof out,
            "head -c 1500 %s/" VILLAGE "-village.sanji > cut.sanji && echo %s | %s setup cut.sanji "
            "--dir %s --passphrase-stdin",
            W.bundles, pass, W.t.cli, W.station);
    if (rc != 3 || !strstr(out, "不是完整的本站配置包"))
        fail_msg("truncated bundle: exit %d: %s", rc, out);
    assert_false(exists(W.station));

    /* One base64 character in the middle changed (line 20 of the PEM): to
     * A, or to B when it is an A (a mapping of letters and digits alone
     * left '+' and '/' as they were, and the file unchanged). */
    rc = sh(out, sizeof out,
            "c=$(sed -n 20p %s/" VILLAGE "-village.sanji | cut -c1); "
            "if [ \"$c\" = A ]; then n=B; else n=A; fi; "
            "sed \"20s/^./$n/\" %s/" VILLAGE "-village.sanji > altered.sanji && ! cmp -s altered.sanji "
            "%s/" VILLAGE "-village.sanji && echo %s | %s setup altered.sanji --dir %s "
            "--passphrase-stdin",
            W.bundles, W.bundles, W.bundles, pass, W.t.cli, W.station);
    if (rc != 3 || !strstr(out, "不是完整的本站配置包"))
        fail_msg("altered bundle: exit %d: %s", rc, out);
    assert_false(exists(W.station));
}

/* The certificate written verifies against the CA written, and is the
 * village's. */
static void check_certificate(void)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/ca.crt", W.station);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof path, "%s/station.crt", W.station);
    f = fopen(path, "r");
    assert_non_null(f);
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(ca);
    assert_non_null(cert);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    assert_int_equal(X509_STORE_add_cert(store, ca), 1);
    assert_int_equal(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
    if (X509_verify_cert(ctx) != 1)
        fail_msg("station.crt does not verify against ca.crt: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    /* The CA is the network's own. */
    f = fopen(W.t.certs.ca_file, "r");
    assert_non_null(f);
    X509 *net_ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_int_equal(X509_cmp(net_ca, ca), 0);
    X509_free(net_ca);
    X509_free(ca);
    X509_free(cert);
}

static bool logged_in(void *arg)
{
    (void)arg;
    static char out[OUT_MAX];
    if (sh(out, sizeof out, "%s --config %s/client.conf login p-" VILLAGE "-01", W.t.cli, W.station) == 0)
        return true;
    sh(out, sizeof out, "%s --config %s/client.conf sync --wait 2", W.t.cli, W.station);
    return false;
}

static void test_import_and_work(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char pass[128], typed[128], other[128];
    slip_passphrase(VILLAGE, pass, sizeof pass);
    slip_passphrase(OTHER, other, sizeof other);
    /* As a clerk may type it: lower case, no dashes. */
    size_t n = 0;
    for (const char *p = pass; *p && n + 1 < sizeof typed; p++)
        if (*p != '-')
            typed[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    typed[n] = '\0';

    int rc = sh(out, sizeof out, "echo %s | %s setup %s/" VILLAGE "-village.sanji --dir %s --passphrase-stdin",
                typed, W.t.cli, W.bundles, W.station);
    if (rc != 0 || !strstr(out, "village:" VILLAGE))
        fail_msg("setup: exit %d: %s", rc, out);
    assert_int_equal(mode_of(W.station, "station.key"), 0600);
    assert_int_equal(mode_of(W.station, "station.crt"), 0644);
    assert_int_equal(mode_of(W.station, "ca.crt"), 0644);
    assert_int_equal(mode_of(W.station, "crl.pem"), 0644);
    assert_int_equal(mode_of(W.station, "client.conf"), 0644);
    check_certificate();
    rc = sh(out, sizeof out, "%s --config %s/client.conf status --offline", W.t.cli, W.station);
    if (rc != 0 || !strstr(out, "village:" VILLAGE))
        fail_msg("status --offline: exit %d: %s", rc, out);

    /* Another village's bundle over it: refused, nothing changed. */
    char before[OUT_MAX];
    sh(before, sizeof before, "cat %s/client.conf %s/station.crt", W.station, W.station);
    rc = sh(out, sizeof out, "echo %s | %s setup %s/" OTHER "-village.sanji --dir %s --passphrase-stdin",
            other, W.t.cli, W.bundles, W.station);
    if (rc != 1 || !strstr(out, "已有另一套配置") || !strstr(out, "--force"))
        fail_msg("a different setup over it: exit %d: %s", rc, out);
    sh(out, sizeof out, "cat %s/client.conf %s/station.crt", W.station, W.station);
    assert_string_equal(out, before);
    /* The same bundle again: nothing to change. */
    rc = sh(out, sizeof out, "echo %s | %s --json setup %s/" VILLAGE "-village.sanji --dir %s",
            pass, W.t.cli, W.bundles, W.station);
    if (rc != 0 || !strstr(out, "\"unchanged\":true"))
        fail_msg("the same setup again: exit %d: %s", rc, out);

    /* The station works: a person logs in, a case reaches the county. */
    if (!sj_test_poll_until(logged_in, NULL, SJ_TEST_HANG_MS, 100))
        fail_msg("login at the enrolled station failed");
    rc = sh(out, sizeof out,
            "%s --config %s/client.conf register --item MZ-003 --name 张三 --id 11010519491231002X "
            "--phone 13800138000 --text 申请城乡低保 --wait-applied --wait " CLI_WAIT,
            W.t.cli, W.station);
    if (rc != 0)
        fail_msg("register at the enrolled station: exit %d: %s", rc, out);
    char *cnt = pgt_scalar(W.db, "SELECT count(*) FROM cases WHERE village = '" VILLAGE "'");
    assert_non_null(cnt);
    assert_string_equal(cnt, "1");
    free(cnt);

    /* --force replaces the setup; the local store stays where it was. */
    rc = sh(out, sizeof out, "echo %s | %s setup %s/" OTHER "-village.sanji --dir %s --force",
            other, W.t.cli, W.bundles, W.station);
    if (rc != 0 || !strstr(out, "village:" OTHER))
        fail_msg("setup --force: exit %d: %s", rc, out);
    char db[4400];
    snprintf(db, sizeof db, "%s/client.db", W.station);
    assert_true(exists(db));
    assert_int_equal(mode_of(W.station, "station.key"), 0600);
}

/* A township desk's bundle: made with --unit and --role, its peer the
 * township's relay. */
static void test_enrol_a_desk(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    int rc = sh(out, sizeof out,
                "%s enrol --dir %s --orgunits %s/deploy/demo/orgunits.csv --unit " TOWNSHIP
                " --role township-desk --address 127.0.0.1:%d --out %s",
                W.t.certs.pki, W.t.certs.ca_dir, W.t.source, W.t.relay_port, W.bundles);
    if (rc != 0)
        fail_msg("sanji-pki enrol --role township-desk: exit %d: %s", rc, out);
    /* Made once: a second run refuses to overwrite it. */
    rc = sh(out, sizeof out,
            "%s enrol --dir %s --orgunits %s/deploy/demo/orgunits.csv --unit " TOWNSHIP
            " --role township-desk --address 127.0.0.1:%d --out %s",
            W.t.certs.pki, W.t.certs.ca_dir, W.t.source, W.t.relay_port, W.bundles);
    if (rc != 1 || !strstr(out, "不会覆盖"))
        fail_msg("second enrol of the desk: exit %d: %s", rc, out);
    char pass[128];
    slip_passphrase_of(TOWNSHIP "-township-desk", pass, sizeof pass);
    rc = sh(out, sizeof out,
            "echo %s | %s setup %s/" TOWNSHIP "-township-desk.sanji --dir desk && %s --config "
            "desk/client.conf status --offline && grep ^peer desk/client.conf",
            pass, W.t.cli, W.bundles, W.t.cli);
    if (rc != 0 || !strstr(out, "township-desk:" TOWNSHIP) ||
        !strstr(out, "peer = \"relay:" TOWNSHIP "\""))
        fail_msg("the desk's setup: exit %d: %s", rc, out);
}

/* A township relay's bundle: made with --unit, --role relay and --host,
 * set up with `sanji-relayctl setup`, and the relay so set up then stands
 * in for the one the network started with: a station's case goes through
 * it to the county. */
static void test_enrol_a_relay(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char relayctl[PATH_MAX + 32], pass[128], village_pass[128];
    snprintf(relayctl, sizeof relayctl, "%s/relay/sanji-relayctl", W.t.build);
    int rc = sh(out, sizeof out,
                "%s enrol --dir %s --orgunits %s/deploy/demo/orgunits.csv --unit " TOWNSHIP
                " --role relay --host 127.0.0.1 --address 127.0.0.1:%d --out %s",
                W.t.certs.pki, W.t.certs.ca_dir, W.t.source, W.t.county_port, W.bundles);
    if (rc != 0)
        fail_msg("sanji-pki enrol --role relay: exit %d: %s", rc, out);
    rc = sh(out, sizeof out, "cat %s/" TOWNSHIP "-relay.slip.txt", W.bundles);
    if (rc != 0 || !strstr(out, "sanji-relayctl setup " TOWNSHIP "-relay.sanji") ||
        !strstr(out, "county:410423000000"))
        fail_msg("the relay's slip: exit %d: %s", rc, out);
    /* A host is for a relay only. */
    rc = sh(out, sizeof out,
            "%s enrol --dir %s --orgunits %s/deploy/demo/orgunits.csv --unit " VILLAGE
            " --host 127.0.0.1 --address 127.0.0.1:%d --out %s",
            W.t.certs.pki, W.t.certs.ca_dir, W.t.source, W.t.relay_port, W.bundles);
    if (rc != 2 || !strstr(out, "--host"))
        fail_msg("enrol of a village with --host: exit %d: %s", rc, out);
    slip_passphrase_of(TOWNSHIP "-relay", pass, sizeof pass);
    slip_passphrase(VILLAGE, village_pass, sizeof village_pass);

    /* A station's bundle is not a relay's; a bad --listen is refused:
     * nothing written either time. */
    rc = sh(out, sizeof out, "echo %s | %s setup %s/" VILLAGE "-village.sanji --dir relay2",
            village_pass, relayctl, W.bundles);
    if (rc != 1 || !strstr(out, "--role relay"))
        fail_msg("relayctl setup of a village bundle: exit %d: %s", rc, out);
    rc = sh(out, sizeof out,
            "echo %s | %s setup %s/" TOWNSHIP "-relay.sanji --dir relay2 --listen nowhere", pass,
            relayctl, W.bundles);
    if (rc != 1 || !strstr(out, "--listen nowhere"))
        fail_msg("relayctl setup --listen nowhere: exit %d: %s", rc, out);
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/relay2", W.t.certs.dir);
    assert_false(exists(dir));

    rc = sh(out, sizeof out,
            "echo %s | %s setup %s/" TOWNSHIP "-relay.sanji --dir relay2 --listen 127.0.0.1:%d",
            pass, relayctl, W.bundles, W.t.relay_port);
    if (rc != 0 || !strstr(out, "relay:" TOWNSHIP) || !strstr(out, "relayd.conf"))
        fail_msg("relayctl setup: exit %d: %s", rc, out);
    assert_int_equal(mode_of(dir, "relay.key"), 0600);
    assert_int_equal(mode_of(dir, "relay.crt"), 0644);
    assert_int_equal(mode_of(dir, "relayd.conf"), 0640);
    rc = sh(out, sizeof out, "openssl x509 -in relay2/relay.crt -noout -ext subjectAltName");
    if (rc != 0 || !strstr(out, "127.0.0.1") || !strstr(out, "sanji:relay:" TOWNSHIP))
        fail_msg("the relay's certificate: exit %d: %s", rc, out);
    rc = sh(out, sizeof out,
            "echo %s | %s setup %s/" TOWNSHIP "-relay.sanji --dir relay2 --listen 127.0.0.1:%d",
            pass, relayctl, W.bundles, W.t.relay_port);
    if (rc != 0 || !strstr(out, "无需改动"))
        fail_msg("relayctl setup again: exit %d: %s", rc, out);

    /* The relay from the bundle in place of the network's own. */
    assert_int_equal(sj_test_proc_stop(&W.t.relay, SJ_TEST_HANG_MS, NULL), 0);
    char conf[4400];
    snprintf(conf, sizeof conf, "%.4000s/relayd.conf", dir);
    snprintf(W.t.relay_log, sizeof W.t.relay_log, "%.4000s/relayd.log", dir);
    if (sj_test_tiers_start_daemon(&W.t.relay, "relay/sanji-relayd", conf, W.t.relay_log,
                                   W.t.relay_port) != 0)
        fail_msg("sanji-relayd from the bundle's configuration did not start; log %s",
                 W.t.relay_log);
    if (sj_test_tiers_write_station(&W.t, "zgy") != 0 ||
        sj_test_tiers_station_login(&W.t, "zgy", "p-" VILLAGE "-01") != 0)
        fail_msg("a station could not log in through the relay from the bundle");
    sj_test_case_ref k;
    rc = sj_test_tiers_register(&W.t, "zgy", "李四", "--wait-applied --wait " CLI_WAIT, &k);
    if (rc != 0 || !k.number[0])
        fail_msg("register through the relay from the bundle: exit %d", rc);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM cases WHERE number = '%s'", k.number);
    char *cnt = pgt_scalar(W.db, sql);
    assert_non_null(cnt);
    assert_string_equal(cnt, "1");
    free(cnt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enrol_a_township),
        cmocka_unit_test(test_bad_imports_are_refused),
        cmocka_unit_test(test_import_and_work),
        cmocka_unit_test(test_enrol_a_desk),
        cmocka_unit_test(test_enrol_a_relay),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
