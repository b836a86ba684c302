/*
 * test_attach_e2e.c - attachments through the tiers (docs/PROTOCOL.md
 * "Attachments"): the real county (sanji-countyd on PostgreSQL), the relay
 * of 张官营镇 and, behind a link-fault proxy that slows the village link,
 * the station of 张官营村 with the `sanji` CLI; the township desk of
 * 张官营镇 on the same relay; and the relay of 马楼乡 (410423102000) with
 * the station of one of its villages.
 *   - a 3 MB scan is attached to a case registered while the relay is
 *     down (saved at the station only);
 *   - the relay comes back, the upload starts over the slowed link, the
 *     relay is killed with SIGKILL while chunks are on their way and the
 *     county server is restarted, then both come back;
 *   - the county holds the exact file (SHA-256 and every byte) once, no
 *     chunk left over; the station says the county recorded it;
 *   - the township desk opens it (`sanji attachment get`) byte for byte;
 *   - the station of the other township is refused (SCOPE) and writes
 *     nothing;
 *   - chunks fill only half of a relay's queue.quota: with the county
 *     down, the other township's relay (48 KiB) refuses a chunk, whose
 *     attachment fails at the station with the reason, and still stores a
 *     registration.
 *
 * Nothing waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX   65536
#define STATION   "v201"  /* village:410423101201 张官营村, through the proxy */
#define DESK      "desk"  /* township-desk:410423101000 */
#define OTHER     "v2201" /* village:410423102201, through the relay of 410423102000 */
#define SCAN_SIZE (3u * 1024 * 1024 + 12345)

typedef struct world {
    sj_test_tiers t;
    char conninfo[1024];
    PGconn *db;
    sj_test_proc relay2, proxy, sync;
    int relay2_port, proxy_port, control_port;
    char relay2_log[PATH_MAX], proxy_log[PATH_MAX], sync_log[PATH_MAX];
    uint8_t *scan;
} world;

static world W;
static char out[OUT_MAX];

static int cli(const char *node, const char *args)
{
    return sj_test_tiers_cli(&W.t, node, "sanji123", out, sizeof out, args);
}

/* One command on the proxy's control port; 0 when it answered "ok". */
static int proxy_command(const char *line)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)W.control_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char reply[512] = "";
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%s\n", line);
    ssize_t got = -1;
    if (write(fd, buf, (size_t)n) == n)
        got = read(fd, reply, sizeof reply - 1);
    close(fd);
    return got > 2 && strncmp(reply, "ok", 2) == 0 ? 0 : -1;
}

static void path_of(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", W.t.certs.dir, name);
}

static long count(const char *from_where)
{
    return pgt_count(W.db, from_where);
}

/* The whole of a file, or NULL. */
static uint8_t *slurp(const char *name, size_t *len)
{
    char path[PATH_MAX];
    path_of(name, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    *len = b && n > 0 ? fread(b, 1, (size_t)n, f) : 0;
    fclose(f);
    return b;
}

/* ---- waiting for things ------------------------------------------------------ */

static bool some_chunks_at_county(void *arg)
{
    (void)arg;
    return count("attachment_part") >= 8;
}

/* Syncs the station (unless the long sync still runs) and says whether
 * the county has the attachment whole. */
static bool county_complete(void *arg)
{
    (void)arg;
    if (!sj_test_proc_alive(&W.sync))
        (void)cli(STATION, "sync --wait 10");
    return count("attachment WHERE complete") == 1;
}

static bool desk_opens(void *arg)
{
    const char *args = arg;
    (void)cli(DESK, "sync --wait 3");
    return cli(DESK, args) == 0;
}

static bool station_says_recorded(void *arg)
{
    const char *args = arg;
    (void)cli(STATION, "sync --wait 3");
    return cli(STATION, args) == 0 && strstr(out, "\"here\":[") &&
           strstr(strstr(out, "\"here\":["), "\"state\":\"县已记录附件\"") != NULL;
}

/* ---- the network ----------------------------------------------------------- */

static int write_client(const char *name, const char *cert, int port, const char *peer)
{
    char file[128];
    snprintf(file, sizeof file, "%s.conf", name);
    return sj_test_write_file(W.t.certs.dir, file,
                              "[node]\ncert = %s.crt\nkey = %s.key\nca = ca/ca.crt\n"
                              "[server]\naddress = 127.0.0.1:%d\npeer = %s\n"
                              "[store]\npath = %s.db\n",
                              cert, cert, port, peer, name);
}

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    W.db = pgt_fresh_db("sanji_attach", W.conninfo, sizeof W.conninfo);
    if (!W.db)
        return -1;
    const char *dir = W.t.certs.dir;
    const char *fast = "[link]\nheartbeat = 300ms\n";
    if (sj_test_tiers_configure(&W.t, W.conninfo, fast, fast) != 0)
        return -1;
    /* A village of the other township and its relay. */
    char ca_dir[PATH_MAX], v2[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];
    snprintf(ca_dir, sizeof ca_dir, "%s/ca", dir);
    snprintf(v2, sizeof v2, "%s/village2", dir);
    const char *issue[] = {"issue", "--dir", ca_dir, "--role", "village", "--unit", "410423102201",
                           "--out", v2, NULL};
    if (sj_test_certs_pki(&W.t.certs, issue) != 0)
        return -1;
    W.relay2_port = sj_test_proc_free_port();
    W.proxy_port = sj_test_proc_free_port();
    W.control_port = sj_test_proc_free_port();
    if (sj_test_write_file(dir, "relay2.conf",
                           "[listen]\naddress = 127.0.0.1:%d\n"
                           "[county]\naddresses = 127.0.0.1:%d\nnode = county:410423000000\n"
                           "[tls]\nca = %s\ncert = %s\nkey = %s\n"
                           "[store]\npath = %s/relay2.db\n"
                           "[upstream]\nbackoff_max = 300ms\n[queue]\nquota = 48KiB\n%s",
                           W.relay2_port, W.t.county_port, W.t.certs.ca_file,
                           sj_test_certs_path(&W.t.certs, "relay2", "crt", crt, sizeof crt),
                           sj_test_certs_path(&W.t.certs, "relay2", "key", key, sizeof key), dir,
                           fast) != 0 ||
        write_client(STATION, "village", W.proxy_port, "relay:410423101000") != 0 ||
        write_client(DESK, "township-desk", W.t.relay_port, "relay:410423101000") != 0 ||
        write_client(OTHER, "village2", W.relay2_port, "relay:410423102000") != 0)
        return -1;
    if (sj_test_tiers_start(&W.t) != 0)
        return -1;
    char conf[PATH_MAX];
    path_of("relay2.conf", conf, sizeof conf);
    path_of("relayd2.log", W.relay2_log, sizeof W.relay2_log);
    if (sj_test_tiers_start_daemon(&W.relay2, "relay/sanji-relayd", conf, W.relay2_log,
                                   W.relay2_port) != 0)
        return -1;
    /* The village link through the proxy. */
    char proxy[PATH_MAX + 64], listen[16], target[16], control[16];
    snprintf(proxy, sizeof proxy, "%s/tests/chaos/sanji-faultproxy", W.t.build);
    snprintf(listen, sizeof listen, "%d", W.proxy_port);
    snprintf(target, sizeof target, "%d", W.t.relay_port);
    snprintf(control, sizeof control, "%d", W.control_port);
    path_of("proxy.log", W.proxy_log, sizeof W.proxy_log);
    const char *pargv[] = {proxy, "--listen", listen, "--target", target, "--control", control,
                           NULL};
    if (sj_test_proc_start_serving(&W.proxy, pargv, NULL, W.proxy_log, W.proxy_port,
                                   SJ_TEST_HANG_MS) != 0)
        return -1;
    if (sj_test_tiers_station_login(&W.t, STATION, "p-410423101201-01") != 0 ||
        sj_test_tiers_station_login(&W.t, DESK, "p-410423101000-01") != 0 ||
        sj_test_tiers_station_login(&W.t, OTHER, "p-410423102201-01") != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sj_error err;
    if (sj_test_proc_alive(&W.sync))
        sj_test_proc_kill9(&W.sync);
    sj_test_proc_free(&W.sync);
    if (sj_test_proc_alive(&W.proxy))
        (void)sj_test_proc_stop(&W.proxy, SJ_TEST_HANG_MS, &err);
    sj_test_proc_free(&W.proxy);
    bool relay2_ok = sj_test_proc_stop_clean(&W.relay2, SJ_TEST_HANG_MS);
    sj_test_proc_free(&W.relay2);
    if (W.db)
        PQfinish(W.db);
    free(W.scan);
    int rc = sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP");
    return relay2_ok ? rc : -1;
}

/* ---- the test ------------------------------------------------------------------ */

static void test_scan_reaches_the_county_whole_through_kills_and_restarts(void **state)
{
    (void)state;
    sj_error err;
    /* A 3 MB "scan": a PDF header, then bytes no compression would help. */
    W.scan = malloc(SCAN_SIZE);
    assert_non_null(W.scan);
    memcpy(W.scan, "%PDF-1.4\n", 9);
    uint32_t x = 2463534242u;
    for (size_t i = 9; i < SCAN_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        W.scan[i] = (uint8_t)x;
    }
    char path[PATH_MAX];
    path_of("scan.pdf", path, sizeof path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(W.scan, 1, SCAN_SIZE, f), SCAN_SIZE);
    assert_int_equal(fclose(f), 0);

    /* Offline: the relay is down; the case and its scan are saved here. */
    assert_int_equal(sj_test_proc_stop(&W.t.relay, SJ_TEST_HANG_MS, &err), 0);
    int rc = cli(STATION, "--json register --item MZ-001 --name 张三 --id 11010519491231002X "
                          "--phone 13800138000 --text 申请办理 --attach scan.pdf:户口簿 --wait 0");
    if (rc != 0 && rc != 5)
        fail_msg("register with --attach: exit %d: %s", rc, out);
    char case_id[64], aid[64];
    sj_test_cli_json_str(out, "case", case_id, sizeof case_id);
    sj_test_cli_json_str(out, "attachment_id", aid, sizeof aid);
    if (!case_id[0] || !aid[0])
        fail_msg("no case or attachment id in: %s", out);
    assert_int_equal(count("attachment"), 0);
    /* A text file named like a scan is refused by its content. */
    assert_int_equal(sj_test_write_file(W.t.certs.dir, "fake.pdf", "not a scan\n"), 0);
    char args[512];
    snprintf(args, sizeof args, "--json attachment add %s fake.pdf --wait 0", case_id);
    assert_int_equal(cli(STATION, args), 3);
    assert_non_null(strstr(out, "ATTACH_TYPE"));

    /* The relay is back; the village link slowed to 2 Mbit/s. */
    assert_int_equal(sj_test_proc_restart(&W.t.relay, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.relay, W.t.relay_port, SJ_TEST_HANG_MS, &err), 0);
    assert_int_equal(proxy_command("rate 2000"), 0);
    char conf[PATH_MAX];
    path_of(STATION ".conf", conf, sizeof conf);
    path_of("sync.log", W.sync_log, sizeof W.sync_log);
    const char *sargv[] = {W.t.cli, "--config", conf, "sync", "--wait", "600", NULL};
    const char *senv[] = {"SANJI_PASSWORD=sanji123", NULL};
    assert_int_equal(sj_test_proc_start(&W.sync, sargv, senv, W.sync_log, &err), 0);

    /* Mid-upload: the relay dies, the county restarts. */
    if (!sj_test_poll_until(some_chunks_at_county, NULL, SJ_TEST_HANG_MS, 20))
        fail_msg("no chunk reached the county; see %s", W.t.certs.dir);
    assert_int_equal(sj_test_proc_kill9(&W.t.relay), 0);
    assert_int_equal(count("attachment WHERE complete"), 0);
    assert_int_equal(sj_test_proc_stop(&W.t.county, SJ_TEST_HANG_MS, &err), 0);
    assert_int_equal(sj_test_proc_restart(&W.t.county, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.county, W.t.county_port, SJ_TEST_HANG_MS, &err),
                     0);
    assert_int_equal(sj_test_proc_restart(&W.t.relay, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.relay, W.t.relay_port, SJ_TEST_HANG_MS, &err), 0);
    if (!sj_test_poll_until(county_complete, NULL, SJ_TEST_HANG_MS, 200))
        fail_msg("the county never completed the attachment; see %s", W.t.certs.dir);
    if (sj_test_proc_alive(&W.sync))
        sj_test_proc_kill9(&W.sync);
    (void)sj_test_proc_wait(&W.sync, SJ_TEST_HANG_MS, &err);

    /* The county holds it once, byte for byte, nothing left over. */
    assert_int_equal(count("attachment"), 1);
    assert_int_equal(count("attachment_blob"), 1);
    assert_int_equal(count("attachment_part"), 0);
    char q[512];
    snprintf(q, sizeof q,
             "attachment a JOIN attachment_blob b USING (sha256) WHERE a.attachment_id = '%s'"
             " AND a.case_id = '%s' AND a.size = %u AND b.size = %u AND a.material = '户口簿'"
             " AND a.mime = 'application/pdf' AND b.sha256 = sha256(b.data)",
             aid, case_id, SCAN_SIZE, SCAN_SIZE);
    assert_int_equal(count(q), 1);
    const char *p[] = {aid};
    PGresult *res = PQexecParams(W.db,
                                 "SELECT b.data FROM attachment a JOIN attachment_blob b USING"
                                 " (sha256) WHERE a.attachment_id = $1",
                                 1, NULL, p, NULL, NULL, 1);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), 1);
    assert_int_equal(PQgetlength(res, 0, 0), SCAN_SIZE);
    assert_memory_equal(PQgetvalue(res, 0, 0), W.scan, SCAN_SIZE);
    PQclear(res);
    /* Every chunk was recorded exactly once (G2): one processed message
     * per chunk, all applied. */
    snprintf(q, sizeof q, "processed_message WHERE case_id = '%s' AND status = 2", case_id);
    assert_int_equal(count(q), 1 + (SCAN_SIZE + 32767) / 32768);

    /* The station says the county recorded it. */
    snprintf(args, sizeof args, "--json attachment list %s", case_id);
    if (!sj_test_poll_until(station_says_recorded, args, SJ_TEST_HANG_MS, 200))
        fail_msg("the station does not say the county recorded it: %s", out);

    snprintf(args, sizeof args, "--json show %s", case_id);
    assert_int_equal(cli(STATION, args), 0);
    char want[160];
    snprintf(want, sizeof want, "\"attachment_id\":\"%s\"", aid);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "\"chunks_recorded\":%u,\"chunks\":%u", (SCAN_SIZE + 32767) / 32768,
             (SCAN_SIZE + 32767) / 32768);
    assert_non_null(strstr(out, want));

    /* The township desk opens it. */
    snprintf(args, sizeof args, "attachment get %s %s -o desk.pdf", case_id, aid);
    if (!sj_test_poll_until(desk_opens, args, SJ_TEST_HANG_MS, 200))
        fail_msg("the township desk cannot open the scan: %s", out);
    size_t len = 0;
    uint8_t *got = slurp("desk.pdf", &len);
    assert_non_null(got);
    assert_int_equal(len, SCAN_SIZE);
    assert_memory_equal(got, W.scan, SCAN_SIZE);
    free(got);

    /* A station of another township cannot. */
    (void)cli(OTHER, "sync --wait 3");
    snprintf(args, sizeof args, "--json attachment get %s %s -o other.pdf", case_id, aid);
    rc = cli(OTHER, args);
    if (rc != 4 || !strstr(out, "\"error\":\"SCOPE\""))
        fail_msg("another township's station was not refused with SCOPE: exit %d: %s", rc, out);
    path_of("other.pdf", path, sizeof path);
    assert_int_equal(access(path, F_OK), -1);

    /* 补办: a file with the supplement answers a material of the
     * one-time notice; another name is refused before anything is saved. */
    snprintf(args, sizeof args, "--json request-materials %s --material 户口簿 --wait-applied --wait 120",
             case_id);
    if (cli(STATION, args) != 0)
        fail_msg("request-materials: %s", out);
    snprintf(args, sizeof args, "--json supplement %s --attach scan.pdf:结婚证 --wait 0", case_id);
    assert_int_equal(cli(STATION, args), 3);
    assert_non_null(strstr(out, "BAD_FIELD"));
    snprintf(args, sizeof args, "--json supplement %s --attach scan.pdf:户口簿 --wait 0", case_id);
    rc = cli(STATION, args);
    if ((rc != 0 && rc != 5) || !strstr(out, "attachment_id"))
        fail_msg("supplement with the material asked for: exit %d: %s", rc, out);

    /* Personal documents are in no log and not in the province's
     * publication (docs/SCALING.md). */
    const char *logs[] = {W.t.county_log, W.t.relay_log, W.relay2_log, W.sync_log};
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
        assert_int_equal(sj_test_count_lines(logs[i], "户口簿"), 0);
        assert_int_equal(sj_test_count_lines(logs[i], "scan.pdf"), 0);
    }
}

/* Chunks may fill only half of a relay's queue.quota: the relay of the
 * other township has 48 KiB, so with its county link down a 32 KiB chunk
 * is refused (its attachment fails at the station, with the reason) while
 * a registration is still stored. */
static void test_chunks_leave_room_for_cases(void **state)
{
    (void)state;
    sj_error err;
    int rc = cli(OTHER, "--json register --item MZ-001 --name 李四 --id 11010519491231002X "
                        "--phone 13800138000 --text 申请办理 --wait-applied --wait 120");
    if (rc != 0)
        fail_msg("register at the other township: exit %d: %s", rc, out);
    char case_id[64], args[512];
    sj_test_cli_json_str(out, "case", case_id, sizeof case_id);
    assert_int_equal(sj_test_proc_stop(&W.t.county, SJ_TEST_HANG_MS, &err), 0);
    snprintf(args, sizeof args, "--json attachment add %s scan.pdf --wait 10", case_id);
    rc = cli(OTHER, args);
    assert_true(rc == 0 || rc == 5);
    snprintf(args, sizeof args, "--json attachment list %s --offline", case_id);
    assert_int_equal(cli(OTHER, args), 0);
    if (!strstr(out, "乡镇中继暂时没有存放附件的空间"))
        fail_msg("the chunk was not refused for room: %s", out);
    rc = cli(OTHER, "--json register --item MZ-001 --name 王五 --id 11010519491231002X "
                    "--phone 13800138000 --text 申请办理 --wait 10");
    if (rc != 0 || !strstr(out, "\"state\":\"stored\""))
        fail_msg("a registration was not stored next to the refused chunk: exit %d: %s", rc, out);
    assert_int_equal(sj_test_proc_restart(&W.t.county, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.county, W.t.county_port, SJ_TEST_HANG_MS, &err),
                     0);
    assert_int_equal(count("pg_publication_tables WHERE pubname = 'sanji_report'"
                           " AND tablename LIKE 'attachment%'"),
                     0);
    assert_true(count("pg_publication_tables WHERE pubname = 'sanji_report'") > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_reaches_the_county_whole_through_kills_and_restarts),
        cmocka_unit_test(test_chunks_leave_room_for_cases),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
