/*
 * test_live_pki.c - live links follow the PKI, with the real daemons: the
 * real sanji-countyd (on a fresh database of the shared PostgreSQL cluster,
 * loaded with the demo county) and the real sanji-relayd of 张官营镇, with
 * certificates from the real sanji-pki (tests/lib/tiers.h).
 *
 * The county reads the CA's own crl.pem (tls.crl, re-read every second:
 * tls.crl_reload = 1s); the relay has no tls.crl at all, so whatever it
 * knows of revocation came from the county over its link (CrlUpdate).  This
 * test plays a village station at the relay and a county desk at the
 * county on its own libuv loop, each with its own certificate, and:
 *
 *   - revocation: with both links open and listed (sanji-relayctl links,
 *     sanji-countyd links: peer, serial, notAfter), `sanji-pki revoke`
 *     rewrites the CA's crl.pem and nothing else is done by hand; both
 *     links must be cut with a Goodbye carrying TLS_REVOKED, the relay
 *     must have kept the county's CRL next to its store, both daemons must
 *     log the cut with the peer, and a new handshake of the station must be
 *     refused as revoked;
 *   - expiry: a station and a desk whose certificates sanji-pki issued for
 *     twenty seconds (--not-after) are listed with that notAfter, and their
 *     links must be cut with TLS_EXPIRED once it has passed.
 *
 * Nothing is timed from above: every wait is for an event, failing only at
 * SJ_TEST_HANG_MS (proc.h) past the moment the event is due.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certs.h"
#include "clock.h"
#include "conn.h"
#include "envelope.h"
#include "files.h"
#include "loop.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define RELAY_NODE "relay:410423101000"
#define COUNTY_NODE "county:410423000000"
#define PULSE_MS 200

typedef struct peer {
    const char *name;    /* the certificate's file name in the network's folder */
    const char *node;    /* what it says it is */
    bool at_county;      /* a county desk at the county; else a station at the relay */
    sj_tls_ctx *tls;
    sj_conn *conn;
    bool welcomed, closed;
    int status;          /* on_close's */
    char why[SJ_ERROR_MESSAGE_MAX];
} peer;

typedef struct world {
    sj_test_tiers t;
    char conninfo[1024];
    PGconn *db;
    uv_loop_t loop;
    uv_timer_t pulse;
    peer *peers[4];
} world;

static world W;

/* ---- the peers ------------------------------------------------------------ */

static void send_env(peer *p, Sanji__Envelope *env)
{
    sj_error err;
    if (p->conn && sj_conn_established(p->conn))
        (void)sj_conn_send(p->conn, env, NULL, &err);
}

static void peer_ready(sj_conn *c, const sj_identity *who)
{
    (void)who;
    peer *p = sj_conn_data(c);
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = h.max_version = SJ_ENVELOPE_VERSION;
    h.software = (char *)"test_live_pki";
    h.live_only = p->at_county; /* a desk wants no feed history */
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    send_env(p, &env);
}

static void peer_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *payload,
                         size_t len)
{
    (void)payload;
    (void)len;
    peer *p = sj_conn_data(c);
    if (env->body_case == SANJI__ENVELOPE__BODY_WELCOME)
        p->welcomed = true;
}

static void peer_close(sj_conn *c, int status, const sj_error *why)
{
    peer *p = sj_conn_data(c);
    p->closed = true;
    p->status = status;
    snprintf(p->why, sizeof p->why, "%s", why ? why->message : "");
    p->conn = NULL;
    sj_conn_free(c);
}

static const sj_conn_callbacks PEER_CBS = {
    .on_ready = peer_ready, .on_message = peer_message, .on_close = peer_close};

/* Every pulse each open link says it is alive, so that no idle timeout
 * can be what ends it. */
static void pulse_cb(uv_timer_t *t)
{
    (void)t;
    for (size_t i = 0; i < sizeof W.peers / sizeof W.peers[0]; i++) {
        if (W.peers[i] == NULL || W.peers[i]->conn == NULL)
            continue;
        Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
        send_env(W.peers[i], &env);
    }
}

/* Issues the peer's certificate; name (may be NULL) for --name, not_after
 * (Unix seconds; 0: the default validity) for a short one. */
static void issue(peer *p, const char *role, const char *unit, const char *name,
                  int64_t not_after)
{
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/%s", W.t.certs.dir, p->name);
    const char *args[16] = {"issue", "--dir", W.t.certs.ca_dir, "--role", role, "--unit", unit,
                            "--out", out};
    size_t n = 9;
    if (name) {
        args[n++] = "--name";
        args[n++] = name;
    }
    char na[32];
    if (not_after) {
        snprintf(na, sizeof na, "%lld", (long long)not_after);
        args[n++] = "--not-after";
        args[n++] = na;
    }
    args[n] = NULL;
    if (sj_test_certs_pki(&W.t.certs, args) != 0)
        fail_msg("sanji-pki issue %s failed; see %s/pki.log", p->name, W.t.certs.dir);
}

static void connect_peer(peer *p)
{
    static const sj_node_role relay_role[] = {SJ_NODE_ROLE_RELAY};
    static const sj_node_role county_role[] = {SJ_NODE_ROLE_COUNTY};
    sj_error err;
    if (p->tls == NULL) {
        p->tls = sj_test_certs_tls_ctx(&W.t.certs, p->name, false, false,
                                       p->at_county ? county_role : relay_role, 1, NULL, &err);
        if (p->tls == NULL)
            fail_msg("TLS context of %s: %s", p->name, err.message);
    }
    p->welcomed = p->closed = false;
    p->status = 0;
    p->why[0] = '\0';
    p->conn = sj_conn_new(&W.loop, p->tls, p->at_county ? COUNTY_NODE : RELAY_NODE, NULL,
                          &PEER_CBS, NULL, &err);
    assert_non_null(p->conn);
    sj_conn_set_data(p->conn, p);
    if (sj_test_loop_connect(p->conn, p->at_county ? W.t.county_port : W.t.relay_port, &err) != 0)
        fail_msg("connect %s: %s", p->name, err.message);
}

static void free_peer(peer *p)
{
    if (p->conn) {
        sj_conn_close(p->conn, 0, NULL);
        while (p->conn)
            uv_run(&W.loop, UV_RUN_ONCE);
    }
    sj_tls_ctx_free(p->tls);
    p->tls = NULL;
}

static bool both_welcomed(void *arg)
{
    peer **pp = arg;
    return (pp[0]->welcomed || pp[0]->closed) && (pp[1]->welcomed || pp[1]->closed);
}

static bool both_closed(void *arg)
{
    peer **pp = arg;
    return pp[0]->closed && pp[1]->closed;
}

static bool closed(void *arg)
{
    return ((peer *)arg)->closed;
}

static void welcome_both(peer *a, peer *b)
{
    peer *pp[2] = {a, b};
    connect_peer(a);
    connect_peer(b);
    if (!sj_test_loop_run_until(&W.loop, both_welcomed, pp, SJ_TEST_HANG_MS))
        fail_msg("no Welcome within %d ms", SJ_TEST_HANG_MS);
    for (int i = 0; i < 2; i++)
        if (!pp[i]->welcomed)
            fail_msg("%s was not welcomed: %s %s", pp[i]->name, sj_err_name(pp[i]->status),
                     pp[i]->why);
}

/* ---- what the certificates and the daemons say ---------------------------- */

typedef struct cert_facts {
    char serial[SJ_TLS_SERIAL_MAX];
    int64_t not_after;
} cert_facts;

/* Serial (as sanji-pki prints it) and notAfter of the peer's certificate. */
static cert_facts facts_of(const peer *p)
{
    char path[PATH_MAX];
    sj_test_certs_path(&W.t.certs, p->name, "crt", path, sizeof path);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    cert_facts cf;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = BN_bn2hex(bn);
    snprintf(cf.serial, sizeof cf.serial, "%s", hex);
    OPENSSL_free(hex);
    BN_free(bn);
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm), 1);
    cf.not_after = (int64_t)timegm(&tm);
    X509_free(x);
    return cf;
}

/* Output of `<program> --config <conf> links` (malloc'd); the command must
 * succeed. */
static char *links_of(bool county)
{
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "'%s/%s' --config '%s/%s' links 2>&1", W.t.build,
             county ? "server/sanji-countyd" : "relay/sanji-relayctl", W.t.certs.dir,
             county ? "county.conf" : "relay.conf");
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 65536, len = 0, n;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0)
        len += n;
    buf[len] = '\0';
    int st = pclose(f);
    if (st != 0)
        fail_msg("%s failed (status %d):\n%s", cmd, st, buf);
    return buf;
}

/* The listing has a line for the peer's node with its serial and notAfter. */
static void expect_listed(const char *listing, const char *node, const cert_facts *cf)
{
    char when[SJ_CLOCK_ISO_SIZE], serial[64], after[64];
    assert_int_equal(sj_clock_format_china(cf->not_after * 1000, when, sizeof when), 0);
    snprintf(serial, sizeof serial, "serial=%s ", cf->serial);
    snprintf(after, sizeof after, "not_after=%s ", when);
    for (const char *l = listing; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)len, l);
        if (strstr(line, node) && strstr(line, serial) && strstr(line, after))
            return;
    }
    fail_msg("no line for %s with %s and %s in the listing:\n%s", node, serial, after, listing);
}

/* The log has a line with every one of the words (NULL-ended). */
static bool log_has_line(const char *path, ...)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    char line[8192];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        va_list ap;
        va_start(ap, path);
        found = true;
        for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *))
            if (!strstr(line, w))
                found = false;
        va_end(ap);
    }
    fclose(f);
    return found;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

static bool relay_holds_county_crl(void *arg)
{
    (void)arg;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/relay.db.crl", W.t.certs.dir);
    return file_exists(path);
}

static void revoke_cert(const peer *p)
{
    char crt[PATH_MAX];
    const char *args[] = {"revoke", "--dir", W.t.certs.ca_dir, "--cert",
                          sj_test_certs_path(&W.t.certs, p->name, "crt", crt, sizeof crt), NULL};
    if (sj_test_certs_pki(&W.t.certs, args) != 0)
        fail_msg("sanji-pki revoke %s failed; see %s/pki.log", p->name, W.t.certs.dir);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_revoked_while_linked_is_cut_at_relay_and_county(void **state)
{
    (void)state;
    static peer station = {.name = "live-station", .node = "village:410423101202"};
    static peer desk = {.name = "live-desk", .node = "county-desk:410423000000:live",
                        .at_county = true};
    W.peers[0] = &station;
    W.peers[1] = &desk;
    issue(&station, "village", "410423101202", NULL, 0);
    issue(&desk, "county-desk", "410423000000", "live", 0);
    welcome_both(&station, &desk);

    /* The relay was given no CRL file: it holds the county's, sent over
     * its link after its Hello. */
    if (!sj_test_loop_run_until(&W.loop, relay_holds_county_crl, NULL, SJ_TEST_HANG_MS))
        fail_msg("the relay never kept the county's CRL; see %s", W.t.relay_log);

    cert_facts sf = facts_of(&station), df = facts_of(&desk);
    char *relay_links = links_of(false), *county_links = links_of(true);
    expect_listed(relay_links, station.node, &sf);
    assert_non_null(strstr(relay_links, COUNTY_NODE));
    expect_listed(county_links, desk.node, &df);
    assert_non_null(strstr(county_links, RELAY_NODE));
    free(relay_links);
    free(county_links);

    /* The CA revokes both; nothing is copied anywhere. */
    revoke_cert(&station);
    revoke_cert(&desk);
    peer *pp[2] = {&station, &desk};
    if (!sj_test_loop_run_until(&W.loop, both_closed, pp, SJ_TEST_HANG_MS))
        fail_msg("revoked links still open after %d ms: station %s, desk %s; see %s and %s",
                 SJ_TEST_HANG_MS, station.closed ? "closed" : "open",
                 desk.closed ? "closed" : "open", W.t.relay_log, W.t.county_log);
    if (station.status != SJ_ETLS_REVOKED || desk.status != SJ_ETLS_REVOKED)
        fail_msg("closed with %s (%s) and %s (%s), not TLS_REVOKED", sj_err_name(station.status),
                 station.why, sj_err_name(desk.status), desk.why);
    assert_non_null(strstr(station.why, sf.serial));
    assert_true(log_has_line(W.t.relay_log, "link cut", station.node, "TLS_REVOKED", NULL));
    assert_true(log_has_line(W.t.county_log, "link cut", desk.node, "TLS_REVOKED", NULL));

    /* And the relay refuses the station's next handshake itself. */
    connect_peer(&station);
    if (!sj_test_loop_run_until(&W.loop, closed, &station, SJ_TEST_HANG_MS))
        fail_msg("a revoked station was not refused");
    assert_false(station.welcomed);
    assert_int_equal(station.status, SJ_ETLS_REVOKED);

    free_peer(&station);
    free_peer(&desk);
    W.peers[0] = W.peers[1] = NULL;
}

static void test_expired_while_linked_is_cut(void **state)
{
    (void)state;
    static peer station = {.name = "short-station", .node = "village:410423101203"};
    static peer desk = {.name = "short-desk", .node = "county-desk:410423000000:short",
                        .at_county = true};
    W.peers[0] = &station;
    W.peers[1] = &desk;
    /* Twenty seconds: time for both to link and be listed first, even on a
     * loaded machine (a link refused at its handshake as expired would fail
     * this test, not pass it). */
    int64_t until = (int64_t)time(NULL) + 20;
    issue(&station, "village", "410423101203", NULL, until);
    issue(&desk, "county-desk", "410423000000", "short", until);
    cert_facts sf = facts_of(&station), df = facts_of(&desk);
    int64_t now = (int64_t)time(NULL);
    assert_true(sf.not_after == until && df.not_after == until && until > now);
    welcome_both(&station, &desk);

    char *relay_links = links_of(false), *county_links = links_of(true);
    expect_listed(relay_links, station.node, &sf);
    expect_listed(county_links, desk.node, &df);
    free(relay_links);
    free(county_links);

    /* Due once notAfter has passed; only a hang may take longer than that
     * plus SJ_TEST_HANG_MS. */
    int64_t due = sf.not_after > df.not_after ? sf.not_after : df.not_after;
    int wait_ms = (int)((due - (int64_t)time(NULL) + 1) * 1000) + SJ_TEST_HANG_MS;
    peer *pp[2] = {&station, &desk};
    if (!sj_test_loop_run_until(&W.loop, both_closed, pp, wait_ms))
        fail_msg("expired links still open: station %s, desk %s; see %s and %s",
                 station.closed ? "closed" : "open", desk.closed ? "closed" : "open",
                 W.t.relay_log, W.t.county_log);
    if (station.status != SJ_ETLS_EXPIRED || desk.status != SJ_ETLS_EXPIRED)
        fail_msg("closed with %s (%s) and %s (%s), not TLS_EXPIRED", sj_err_name(station.status),
                 station.why, sj_err_name(desk.status), desk.why);
    /* Not before notAfter: a link is cut because it expired, not sooner. */
    assert_true((int64_t)time(NULL) > sf.not_after);
    assert_true(log_has_line(W.t.relay_log, "link cut", station.node, "TLS_EXPIRED", NULL));
    assert_true(log_has_line(W.t.county_log, "link cut", desk.node, "TLS_EXPIRED", NULL));

    free_peer(&station);
    free_peer(&desk);
    W.peers[0] = W.peers[1] = NULL;
}

/* ---- the network ---------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    W.db = pgt_fresh_db("sanji_live_pki", W.conninfo, sizeof W.conninfo);
    /* The county reads the CA's own crl.pem, so that `sanji-pki revoke` is
     * all it takes; the relay has no tls.crl. */
    char county[PATH_MAX + 128];
    snprintf(county, sizeof county, "[tls]\ncrl = %s\ncrl_reload = 1s\n[link]\nheartbeat = 300ms\n",
             W.t.certs.crl_file);
    if (sj_test_tiers_configure(&W.t, W.conninfo, county, "[link]\nheartbeat = 300ms\n") != 0 ||
        sj_test_tiers_start(&W.t) != 0)
        return -1;
    return sj_test_loop_init(&W.loop, &W.pulse, pulse_cb, PULSE_MS) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = sj_test_loop_close(&W.loop) == 0 ? 0 : -1;
    if (W.db)
        PQfinish(W.db);
    /* Both daemons stop cleanly on SIGTERM: exit 0, under ASan also no leak. */
    if (sj_test_tiers_finish(&W.t, "SANJI_LIVE_PKI_KEEP") != 0)
        rc = -1;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_revoked_while_linked_is_cut_at_relay_and_county),
        cmocka_unit_test(test_expired_while_linked_is_cut),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
