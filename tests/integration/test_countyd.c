/*
 * test_countyd.c - the real sanji-countyd process (tests/lib/proc) against a
 * private PostgreSQL 15 cluster and real TLS peers made with sanji-pki:
 * Hello/Welcome and reference sync; a whole lifecycle through relay and
 * county desk with Acks after commit and the feed arriving live;
 * redelivery applied once; stale versions refused with the current case;
 * scope refusals (a relay forwarding for another township, a desk of
 * another county refused at TLS); hostile and oversized text; queries;
 * PostgreSQL restarted (immediate) under load with everything applied
 * exactly once; and the overdue sweep under a faked clock.
 *
 * The tests share one cluster and one daemon and run in order (each builds
 * on the cases of the ones before).  Every wait is for a message, a row or
 * a log line, failing only at SJ_TEST_HANG_MS (proc.h); no test depends on
 * how fast the machine is.
 */
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <uv.h>

#include "certs.h"
#include "clock.h"
#include "conn.h"
#include "envelope.h"
#include "files.h"
#include "migrate.h"
#include "personal.h"
#include "proc.h"
#include "tls.h"
#include "uuid.h"

#define VA "410423101201" /* township X */
#define VB "410423101202"
#define VC "410423102201" /* township Y */
#define TX "410423101000"
#define TY "410423102000"
#define CO "410423000000"

static sj_test_certs certs;
static char pgdir[256], conninfo[512], workdir[256], cfgpath[512], logpath[512];
/* pgdir's physical folder: PostgreSQL's own programs run as the test user,
 * who may not pass through pgdir's parents (tests/lib/pg_cluster.sh). */
static char pgpath[PATH_MAX];
static PGconn *db;
static sj_test_proc countyd_proc; /* sanji-countyd */
static int port;
static char id_number[SJ_PERSONAL_ID_SIZE];

/* ---- helpers: shell, database ------------------------------------------------ */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void exec_sql(const char *sql)
{
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static long count(const char *sql)
{
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %s: %s", sql, PQresultErrorMessage(r));
    long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* ---- the daemon ---------------------------------------------------------------- */

/* link.handshake_timeout: the default for every test but the one that
 * waits for it to fire, so that no peer's handshake ends in a timeout
 * because the machine is loaded. */
#define HANDSHAKE_DEFAULT "10s"
#define HANDSHAKE_SHORT "1s"
#define HANDSHAKE_SHORT_MS 1000

static void write_config_handshake(int sweep_s, const char *handshake)
{
    char crt[300], key[300];
    FILE *f = fopen(cfgpath, "w");
    assert_non_null(f);
    fprintf(f,
            "[listen]\naddress = 127.0.0.1:%d\n"
            "[tls]\nca = %s\ncert = %s\nkey = %s\ncrl = %s\n"
            "[database]\nconninfo = \"%s\"\nretry_max = 500ms\n"
            "[county]\ncode = 410423\n"
            "[apply]\nbatch_size = 16\nbatch_wait = 2ms\n"
            "[sweep]\ninterval = %ds\nwarn_percents = 50,80\n"
            "[feed]\npage_size = 7\n"
            "[link]\nhandshake_timeout = %s\n"
            "[log]\nlevel = info\n",
            port, certs.ca_file, sj_test_certs_path(&certs, "county", "crt", crt, sizeof(crt)),
            sj_test_certs_path(&certs, "county", "key", key, sizeof(key)), certs.crl_file, conninfo,
            sweep_s, handshake);
    fclose(f);
}

static void write_config(int sweep_s)
{
    write_config_handshake(sweep_s, HANDSHAKE_DEFAULT);
}

static void start_daemon(const char *fake_now)
{
    const char *build = getenv("SANJI_BUILD_DIR");
    assert_non_null(build);
    char bin[512], now[128];
    snprintf(bin, sizeof(bin), "%s/server/sanji-countyd", build);
    const char *argv[] = {bin, "--config", cfgpath, "run", NULL};
    /* The daemon inherits our environment: the clock is faked only when asked. */
    unsetenv("SANJI_FAKE_NOW");
    snprintf(now, sizeof(now), "SANJI_FAKE_NOW=%s", fake_now ? fake_now : "");
    const char *env[] = {now, NULL};
    sj_error err;
    /* Ready when the port accepts. */
    if (sj_test_proc_start(&countyd_proc, argv, fake_now ? env : NULL, logpath, &err) != 0 ||
        sj_test_proc_wait_port(&countyd_proc, port, SJ_TEST_HANG_MS, &err) != 0)
        fail_msg("sanji-countyd did not listen on %d: %s", port, err.message);
}

static void stop_daemon(void)
{
    if (countyd_proc.pid <= 0)
        return;
    sj_error err;
    if (sj_test_proc_stop(&countyd_proc, SJ_TEST_HANG_MS, &err) != 0)
        fail_msg("sanji-countyd did not stop on SIGTERM: %s", err.message);
    if (!WIFEXITED(countyd_proc.status) || WEXITSTATUS(countyd_proc.status) != 0) {
        sh("tail -n 30 %s >&2", logpath);
        fail_msg("sanji-countyd stopped with status %d", countyd_proc.status);
    }
}

static bool daemon_alive(void)
{
    return sj_test_proc_alive(&countyd_proc);
}

/* ---- a TLS peer on its own loop ------------------------------------------------- */

typedef struct peer {
    uv_loop_t loop;
    uv_timer_t timer;
    uv_connect_t req;
    sj_tls_ctx *ctx;
    sj_conn *conn;
    bool ready, closed, timed_out;
    int close_status;
    Sanji__Envelope **msgs;
    size_t n, cap;
} peer;

static void p_ready(sj_conn *c, const sj_identity *id)
{
    ((peer *)sj_conn_data(c))->ready = true;
}

static void p_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *payload, size_t len)
{
    peer *p = sj_conn_data(c);
    Sanji__Envelope *copy;
    if (sj_envelope_unpack(payload, len, &copy, NULL) != 0)
        fail_msg("cannot unpack what the county sent");
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->msgs = realloc(p->msgs, p->cap * sizeof(*p->msgs));
    }
    p->msgs[p->n++] = copy;
}

static void p_close(sj_conn *c, int status, const sj_error *why)
{
    peer *p = sj_conn_data(c);
    p->closed = true;
    p->close_status = status;
}

static const sj_conn_callbacks PEER_CBS = {
    .on_ready = p_ready, .on_message = p_message, .on_close = p_close};

static void on_connected(uv_connect_t *req, int status)
{
    peer *p = req->data;
    if (status != 0)
        sj_conn_close(p->conn, SJ_ECONNECT, "connect failed");
    else
        sj_conn_start(p->conn);
}

static void on_timer(uv_timer_t *t)
{
    ((peer *)t->data)->timed_out = true;
}

/* Runs the loop until done(p, arg) or timeout_ms. */
static bool run_until(peer *p, bool (*done)(peer *, const void *), const void *arg, int timeout_ms)
{
    p->timed_out = false;
    uv_timer_start(&p->timer, on_timer, (uint64_t)timeout_ms, 0);
    while (!done(p, arg) && !p->timed_out)
        uv_run(&p->loop, UV_RUN_ONCE);
    uv_timer_stop(&p->timer);
    return done(p, arg);
}

static bool is_ready_or_closed(peer *p, const void *arg)
{
    return p->ready || p->closed;
}

/* Connects with certificate `name`; returns after the handshake (or its refusal). */
static void peer_open(peer *p, const char *name)
{
    memset(p, 0, sizeof(*p));
    assert_int_equal(uv_loop_init(&p->loop), 0);
    uv_timer_init(&p->loop, &p->timer);
    p->timer.data = p;
    static const sj_node_role roles[] = {SJ_NODE_ROLE_COUNTY};
    /* Every peer trusts our county CA, so that only the county judges. */
    sj_error err;
    p->ctx = sj_test_certs_tls_ctx(&certs, name, false, false, roles, 1, NULL, &err);
    if (!p->ctx)
        fail_msg("client TLS context %s: %s", name, err.message);
    p->conn = sj_conn_new(&p->loop, p->ctx, "county:" CO, NULL, &PEER_CBS, NULL, &err);
    assert_non_null(p->conn);
    sj_conn_set_data(p->conn, p);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", port, &a);
    p->req.data = p;
    assert_int_equal(uv_tcp_connect(&p->req, sj_conn_tcp(p->conn), (struct sockaddr *)&a, on_connected), 0);
    run_until(p, is_ready_or_closed, NULL, SJ_TEST_HANG_MS);
}

static bool is_closed(peer *p, const void *arg)
{
    return p->closed;
}

static void peer_free(peer *p)
{
    if (!p->closed)
        sj_conn_close(p->conn, 0, NULL);
    run_until(p, is_closed, NULL, SJ_TEST_HANG_MS);
    sj_conn_free(p->conn);
    uv_close((uv_handle_t *)&p->timer, NULL);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&p->loop), 0);
    sj_tls_ctx_free(p->ctx);
    for (size_t i = 0; i < p->n; i++)
        sj_envelope_free(p->msgs[i]);
    free(p->msgs);
}

static void peer_send(peer *p, const Sanji__Envelope *env, uint8_t id[16])
{
    sj_error err;
    int rc = sj_conn_send(p->conn, env, id, &err);
    if (rc != 0)
        fail_msg("send: %s: %s", sj_err_name(rc), err.message);
}

/* Hello from a peer speaking protocol levels 1..max_level. */
static void send_hello_at(peer *p, uint32_t max_level, uint64_t cat, uint64_t org, uint64_t per)
{
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = 1;
    h.max_version = max_level;
    h.software = "test";
    h.catalogue_version = cat;
    h.org_tree_version = org;
    h.person_version = per;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    peer_send(p, &env, NULL);
}

/* Hello as the first release said it (level 1). */
static void send_hello(peer *p, uint64_t cat, uint64_t org, uint64_t per)
{
    send_hello_at(p, 1, cat, org, per);
}

static const Sanji__Envelope *find_body(peer *p, Sanji__Envelope__BodyCase body, size_t from)
{
    for (size_t i = from; i < p->n; i++)
        if (p->msgs[i]->body_case == body)
            return p->msgs[i];
    return NULL;
}

static bool has_caught_up(peer *p, const void *arg)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->msgs[i]->body_case == SANJI__ENVELOPE__BODY_FEED_UPDATE &&
            p->msgs[i]->feed_update->caught_up)
            return true;
    return false;
}

/* Connects, says Hello and waits for caught_up. */
static void peer_session(peer *p, const char *name)
{
    peer_open(p, name);
    if (!p->ready)
        fail_msg("%s not admitted: %s", name, sj_err_name(p->close_status));
    send_hello(p, 0, 0, 0);
    if (!run_until(p, has_caught_up, NULL, SJ_TEST_HANG_MS))
        fail_msg("%s: no caught_up (received %zu messages, closed=%d %s)", name, p->n, p->closed,
                 sj_err_name(p->close_status));
}

static const Sanji__Ack *find_ack(peer *p, const uint8_t id[16])
{
    for (size_t i = 0; i < p->n; i++)
        if (p->msgs[i]->body_case == SANJI__ENVELOPE__BODY_ACK &&
            p->msgs[i]->ack->message_id.len == 16 && memcmp(p->msgs[i]->ack->message_id.data, id, 16) == 0)
            return p->msgs[i]->ack;
    return NULL;
}

static bool has_ack(peer *p, const void *id)
{
    return find_ack(p, id) != NULL;
}

static const Sanji__Ack *wait_ack(peer *p, const uint8_t id[16])
{
    if (!run_until(p, has_ack, id, SJ_TEST_HANG_MS))
        fail_msg("no Ack within %d ms (closed=%d)", SJ_TEST_HANG_MS, p->closed);
    return find_ack(p, id);
}

/* The feed update of a case with the given event action, if received. */
typedef struct feed_want {
    const uint8_t *case_id;
    Sanji__CaseActionType action;
} feed_want;

static const Sanji__FeedUpdate *find_feed(peer *p, const feed_want *w)
{
    for (size_t i = 0; i < p->n; i++) {
        const Sanji__FeedUpdate *u = p->msgs[i]->feed_update;
        if (p->msgs[i]->body_case == SANJI__ENVELOPE__BODY_FEED_UPDATE && u->event &&
            u->event->action == w->action && u->event->case_id.len == 16 &&
            (!w->case_id || memcmp(u->event->case_id.data, w->case_id, 16) == 0))
            return u;
    }
    return NULL;
}

static bool has_feed(peer *p, const void *w)
{
    return find_feed(p, w) != NULL;
}

static const Sanji__FeedUpdate *wait_feed(peer *p, const uint8_t *case_id,
                                          Sanji__CaseActionType action)
{
    feed_want w = {case_id, action};
    if (!run_until(p, has_feed, &w, SJ_TEST_HANG_MS))
        fail_msg("no feed update with action %d within %d ms", action, SJ_TEST_HANG_MS);
    return find_feed(p, &w);
}

/* Every feed update received must follow its village's previous one. */
static void check_feed_order(peer *p)
{
    char villages[64][13];
    uint64_t last[64];
    size_t nv = 0;
    for (size_t i = 0; i < p->n; i++) {
        const Sanji__FeedUpdate *u = p->msgs[i]->feed_update;
        if (p->msgs[i]->body_case != SANJI__ENVELOPE__BODY_FEED_UPDATE || u->caught_up)
            continue;
        size_t k = 0;
        while (k < nv && strcmp(villages[k], u->village) != 0)
            k++;
        if (k == nv) {
            snprintf(villages[nv], 13, "%s", u->village);
            last[nv++] = 0;
        }
        if (u->seq != last[k] + 1)
            fail_msg("feed of %s: seq %llu after %llu", u->village, (unsigned long long)u->seq,
                     (unsigned long long)last[k]);
        last[k] = u->seq;
    }
}

/* ---- messages ------------------------------------------------------------------------ */

static uint8_t case_ids[256][16];
static int n_cases;

static int new_case_id(void)
{
    sj_uuid_v7(case_ids[n_cases]);
    return n_cases++;
}

static void submit(peer *p, const char *sender, int c, const char *village, const char *person,
                   const char *item, const char *text, uint8_t mid[16])
{
    Sanji__CaseSubmit s = SANJI__CASE_SUBMIT__INIT;
    Sanji__Applicant a = SANJI__APPLICANT__INIT;
    s.case_id.data = case_ids[c];
    s.case_id.len = 16;
    s.village = (char *)village;
    s.item_code = (char *)item;
    a.name = "王大妈";
    a.id_number = id_number;
    a.phone = "13800138000";
    s.applicant = &a;
    s.request_text = (char *)text;
    s.actor_person = (char *)person;
    s.registered_at_ms = sj_clock_real_ms();
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_CASE_SUBMIT;
    env.case_submit = &s;
    env.sender_node = (char *)sender;
    if (mid[0])
        env.message_id = (ProtobufCBinaryData){16, mid};
    peer_send(p, &env, mid);
}

static void action(peer *p, const char *sender, int c, Sanji__CaseActionType type,
                   uint64_t expected, const char *person, const char *text, uint8_t mid[16])
{
    Sanji__CaseAction a = SANJI__CASE_ACTION__INIT;
    a.case_id.data = case_ids[c];
    a.case_id.len = 16;
    a.action = type;
    a.expected_version = expected;
    a.actor_person = (char *)person;
    a.acted_at_ms = sj_clock_real_ms();
    /* The text goes into the fields this action takes (common/domain/case.h). */
    unsigned takes = sj_case_action_fields((sj_case_action)type);
    a.note = takes & SJ_CASE_FIELD_NOTE ? (char *)text : "";
    a.result = takes & SJ_CASE_FIELD_RESULT ? (char *)text : "";
    a.department = takes & SJ_CASE_FIELD_DEPARTMENT ? (char *)text : "";
    if (type == SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK)
        a.satisfaction = SANJI__SATISFACTION__SATISFACTION_SATISFIED;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_CASE_ACTION;
    env.case_action = &a;
    env.sender_node = (char *)sender;
    if (mid[0])
        env.message_id = (ProtobufCBinaryData){16, mid};
    peer_send(p, &env, mid);
}

static void expect_applied(const Sanji__Ack *a, uint64_t version)
{
    if (a->status != SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
        fail_msg("expected APPLIED, got %d %s: %s", a->status, sj_err_name(a->code), a->reason);
    assert_int_equal(a->case_version, version);
}

static void expect_refused(const Sanji__Ack *a, int code)
{
    if (a->status != SANJI__ACK_STATUS__ACK_STATUS_REFUSED || a->code != code)
        fail_msg("expected REFUSED %s, got %d %s: %s", sj_err_name(code), a->status,
                 sj_err_name(a->code), a->reason);
}

/* Sends one action and expects it applied at want_version. */
static void step(peer *p, const char *sender, int c, Sanji__CaseActionType type, uint64_t expected,
                 const char *person, uint64_t want_version)
{
    uint8_t mid[16] = {0};
    action(p, sender, c, type, expected, person, "办理意见", mid);
    expect_applied(wait_ack(p, mid), want_version);
}

/* ---- set-up ----------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    if (sj_test_certs_setup(&certs) != 0)
        return -1;
    /* A desk of another county, from that county's own CA. */
    char other[300], out[300];
    snprintf(other, sizeof(other), "%s/other", certs.dir);
    snprintf(out, sizeof(out), "%s/other-desk", certs.dir);
    const char *init[] = {"init", "--dir", other, "--county", "410424000000", NULL};
    const char *issue[] = {"issue", "--dir", other, "--role", "county-desk", "--unit",
                           "410424000000", "--out", out, NULL};
    if (sj_test_certs_pki(&certs, init) != 0 || sj_test_certs_pki(&certs, issue) != 0)
        return -1;
    snprintf(pgdir, sizeof(pgdir), "/tmp/sanji-countyd-pg-XXXXXX");
    snprintf(workdir, sizeof(workdir), "/tmp/sanji-countyd-XXXXXX");
    if (!mkdtemp(pgdir) || !mkdtemp(workdir))
        return -1;
    const char *src = getenv("SANJI_SOURCE_DIR");
    if (sh("%s/tests/lib/pg_cluster.sh start %s >/dev/null", src, pgdir) != 0)
        return -1;
    char *phys = realpath(pgdir, NULL);
    if (!phys)
        return -1;
    snprintf(pgpath, sizeof pgpath, "%s", phys);
    free(phys);
    char path[512];
    snprintf(path, sizeof(path), "%s/conninfo", pgdir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(conninfo, sizeof(conninfo), f))
        return -1;
    fclose(f);
    conninfo[strcspn(conninfo, "\r\n")] = '\0';
    db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK)
        return -1;
    sj_error err;
    if (countyd_migrate(db, NULL, NULL, &err) != 0) {
        fprintf(stderr, "migrate: %s\n", err.message);
        return -1;
    }
    exec_sql("INSERT INTO org_unit (code, name, level, parent) VALUES"
             " ('" CO "', '鲁山县', 3, NULL), ('" TX "', '张官营镇', 2, '" CO "'),"
             " ('" TY "', '下汤镇', 2, '" CO "'), ('" VA "', '甲村', 1, '" TX "'),"
             " ('" VB "', '乙村', 1, '" TX "'), ('" VC "', '丙村', 1, '" TY "')");
    exec_sql("INSERT INTO catalogue_category VALUES ('MZ', '民政救助')");
    exec_sql("INSERT INTO catalogue_item (code, category, name, min_level, department,"
             " limit_days, urgent_limit_days, materials) VALUES"
             " ('V-1', 'MZ', '政策咨询', 1, '县民政局', 1, 0, '{}'),"
             " ('C-1', 'MZ', '城乡低保申请', 3, '县民政局', 20, 10, '{户口簿,收入证明}')");
    exec_sql("INSERT INTO person (id, name, role, org_unit, verifier) VALUES"
             " ('pa', '甲干部', 1, '" VA "', 'scrypt$x'), ('pb', '乙干部', 1, '" VB "', 'scrypt$x'),"
             " ('pc', '丙干部', 1, '" VC "', 'scrypt$x'),"
             " ('tx', '镇员X', 2, '" TX "', 'scrypt$x'), ('ty', '镇员Y', 2, '" TY "', 'scrypt$x'),"
             " ('co', '县员', 3, '" CO "', 'scrypt$x')");
    exec_sql("UPDATE reference_version SET version = 3");
    snprintf(id_number, sizeof(id_number), "41042319900101123%c",
             sj_personal_id_check_char("41042319900101123"));
    port = sj_test_proc_free_port();
    if (port <= 0)
        return -1;
    snprintf(cfgpath, sizeof(cfgpath), "%s/countyd.conf", workdir);
    snprintf(logpath, sizeof(logpath), "%s/countyd.log", workdir);
    write_config(60);
    start_daemon(NULL);
    return 0;
}

static int group_teardown(void **state)
{
    sj_test_proc_free(&countyd_proc); /* kill -9 if it still runs */
    if (db)
        PQfinish(db);
    const char *src = getenv("SANJI_SOURCE_DIR");
    sh("%s/tests/lib/pg_cluster.sh stop %s >/dev/null", src, pgdir);
    if (getenv("SANJI_KEEP_LOG"))
        sh("cat %s >&2", logpath);
    sh("rm -rf %s", workdir);
    sj_test_certs_cleanup(&certs);
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_hello_and_sync(void **state)
{
    peer p;
    peer_session(&p, "relay");
    const Sanji__Envelope *w = find_body(&p, SANJI__ENVELOPE__BODY_WELCOME, 0);
    assert_non_null(w);
    assert_int_equal(w->welcome->version, 1);
    assert_string_equal(w->welcome->node, "county:" CO);
    assert_int_equal(w->welcome->n_cursors, 2); /* VA and VB: the relay's township only */
    const Sanji__Envelope *c = find_body(&p, SANJI__ENVELOPE__BODY_CATALOGUE_SYNC, 0);
    const Sanji__Envelope *o = find_body(&p, SANJI__ENVELOPE__BODY_ORG_TREE_SYNC, 0);
    const Sanji__Envelope *ps = find_body(&p, SANJI__ENVELOPE__BODY_PERSON_SYNC, 0);
    assert_non_null(c);
    assert_non_null(o);
    assert_non_null(ps);
    assert_int_equal(c->catalogue_sync->version, 3);
    assert_int_equal(c->catalogue_sync->n_items, 2);
    assert_int_equal(o->org_tree_sync->n_units, 4); /* county, TX, VA, VB */
    for (size_t i = 0; i < o->org_tree_sync->n_units; i++)
        assert_string_not_equal(o->org_tree_sync->units[i]->code, VC);
    assert_int_equal(ps->person_sync->n_persons, 3); /* pa, pb, tx */
    assert_string_equal(ps->person_sync->persons[0]->verifier, "scrypt$x");
    peer_free(&p);

    /* Versions already held: no reference data, straight to the feed. */
    peer q;
    peer_open(&q, "relay");
    send_hello(&q, 3, 3, 3);
    assert_true(run_until(&q, has_caught_up, NULL, SJ_TEST_HANG_MS));
    assert_null(find_body(&q, SANJI__ENVELOPE__BODY_CATALOGUE_SYNC, 0));
    assert_null(find_body(&q, SANJI__ENVELOPE__BODY_PERSON_SYNC, 0));
    peer_free(&q);
}

/* Protocol levels (docs/PROTOCOL.md): a peer of the first release (level 1)
 * is welcomed at level 1 and never sent the duty roster, a body it does
 * not know and would end its link over; a current peer is welcomed at the
 * county's level and gets it.  A peer whose lowest level is above the
 * county's is refused with a reason. */
static void test_protocol_levels(void **state)
{
    exec_sql("INSERT INTO duty_roster (org_unit, day, person) VALUES"
             " ('" VA "', (now() AT TIME ZONE 'Asia/Shanghai')::date, 'pa')");
    exec_sql("UPDATE reference_version SET version = version + 1 WHERE name = 'duty'");

    peer old;
    peer_open(&old, "relay");
    send_hello_at(&old, 1, 0, 0, 0);
    assert_true(run_until(&old, has_caught_up, NULL, SJ_TEST_HANG_MS));
    const Sanji__Envelope *w = find_body(&old, SANJI__ENVELOPE__BODY_WELCOME, 0);
    assert_non_null(w);
    assert_int_equal(w->welcome->version, 1);
    assert_non_null(find_body(&old, SANJI__ENVELOPE__BODY_PERSON_SYNC, 0));
    assert_null(find_body(&old, SANJI__ENVELOPE__BODY_DUTY_SYNC, 0));
    assert_false(old.closed);
    peer_free(&old);

    peer now;
    peer_open(&now, "relay");
    send_hello_at(&now, SJ_PROTOCOL_LEVEL + 5, 0, 0, 0);
    assert_true(run_until(&now, has_caught_up, NULL, SJ_TEST_HANG_MS));
    w = find_body(&now, SANJI__ENVELOPE__BODY_WELCOME, 0);
    assert_non_null(w);
    assert_int_equal(w->welcome->version, SJ_PROTOCOL_LEVEL);
    const Sanji__Envelope *d = find_body(&now, SANJI__ENVELOPE__BODY_DUTY_SYNC, 0);
    assert_non_null(d);
    assert_int_equal(d->duty_sync->n_entries, 1);
    assert_string_equal(d->duty_sync->entries[0]->person, "pa");
    peer_free(&now);

    peer future;
    peer_open(&future, "relay");
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = SJ_PROTOCOL_LEVEL + 1;
    h.max_version = SJ_PROTOCOL_LEVEL + 3;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    peer_send(&future, &env, NULL);
    assert_true(run_until(&future, is_closed, NULL, SJ_TEST_HANG_MS));
    assert_int_equal(future.close_status, SJ_EFRAME_BAD_VERSION);
    assert_null(find_body(&future, SANJI__ENVELOPE__BODY_WELCOME, 0));
    peer_free(&future);
    exec_sql("DELETE FROM duty_roster");
}

static void test_first_message_must_be_hello(void **state)
{
    peer p;
    peer_open(&p, "relay");
    assert_true(p.ready);
    uint8_t mid[16] = {0};
    int c = new_case_id();
    submit(&p, "village:" VA, c, VA, "pa", "V-1", "x", mid);
    assert_true(run_until(&p, is_closed, NULL, SJ_TEST_HANG_MS));
    assert_int_equal(p.close_status, SJ_EPROTOCOL);
    peer_free(&p);
    assert_true(daemon_alive());
}

/* A client that connects and never starts TLS holds its socket for
 * link.handshake_timeout (1 s here, 10 s by default), not for ever and not
 * less (the close may come any time later on a loaded machine: only "not
 * before" is a bound).  Only this test runs the daemon with the short
 * limit, so that no honest peer's handshake meets it. */
static void test_silent_client_closed_at_handshake_timeout(void **state)
{
    (void)state;
    stop_daemon();
    write_config_handshake(60, HANDSHAKE_SHORT);
    start_daemon(NULL);
    int64_t ms = sj_test_proc_silent_peer_ms(port, SJ_TEST_HANG_MS);
    if (ms < 0)
        fail_msg("a silent client was still connected after %d ms (handshake_timeout = %s)",
                 SJ_TEST_HANG_MS, HANDSHAKE_SHORT);
    /* The daemon's timer starts at its accept, after our connect began:
     * slack of a few ms for its clock's millisecond steps only. */
    if (ms < HANDSHAKE_SHORT_MS - 50)
        fail_msg("a silent client was closed after %lld ms, before handshake_timeout = %s",
                 (long long)ms, HANDSHAKE_SHORT);
    assert_true(daemon_alive());
    stop_daemon();
    write_config(60);
    start_daemon(NULL);
}

static void test_lifecycle_through_both_links(void **state)
{
    peer relay, desk;
    peer_session(&relay, "relay");
    peer_session(&desk, "county-desk");
    int c = new_case_id();
    uint8_t mid[16] = {0};
    submit(&relay, "village:" VA, c, VA, "pa", "C-1", "申请低保", mid);
    const Sanji__Ack *a = wait_ack(&relay, mid);
    expect_applied(a, 1);
    assert_int_equal(strncmp(a->case_number, "410423-", 7), 0);
    assert_int_equal(count("SELECT count(*) FROM cases"), 1);
    /* Live feed on both links; the desk sees the applicant masked while the
     * village holds the case, the relay (its villages' cache) does not. */
    const Sanji__FeedUpdate *u =
        wait_feed(&relay, case_ids[c], SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER);
    assert_string_equal(u->village, VA);
    assert_string_equal(u->snapshot->applicant->id_number, id_number);
    u = wait_feed(&desk, case_ids[c], SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER);
    assert_string_not_equal(u->snapshot->applicant->id_number, id_number);
    assert_non_null(strstr(u->snapshot->applicant->id_number, "*"));

    step(&relay, "village:" VA, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", 2);
    step(&relay, "township-desk:" TX, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 2, "tx", 3);
    step(&relay, "township-desk:" TX, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 3, "tx", 4);
    step(&desk, NULL, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT, 4, "co", 5);
    wait_feed(&desk, case_ids[c], SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT);
    step(&desk, NULL, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE, 5, "co", 6);
    step(&relay, "village:" VA, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK, 6, "pa", 7);
    u = wait_feed(&relay, case_ids[c], SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK);
    assert_int_equal(u->snapshot->status, SANJI__CASE_STATUS__CASE_STATUS_CLOSED);
    assert_int_equal(u->snapshot->handling, SANJI__HANDLING_TYPE__HANDLING_ON_BEHALF);
    wait_feed(&desk, case_ids[c], SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK);
    assert_int_equal(count("SELECT count(*) FROM case_event"), 7);
    check_feed_order(&relay);
    check_feed_order(&desk);
    peer_free(&relay);
    peer_free(&desk);

    /* A late joiner gets the whole history from cursor 0, in order, in pages. */
    peer late;
    peer_session(&late, "county-desk");
    feed_want w = {case_ids[c], SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK};
    assert_non_null(find_feed(&late, &w));
    check_feed_order(&late);
    peer_free(&late);
}

/* The index of the n-th Ack (1-based) for mid, or -1. */
static long nth_ack(peer *p, const uint8_t mid[16], int n)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->msgs[i]->body_case == SANJI__ENVELOPE__BODY_ACK &&
            memcmp(p->msgs[i]->ack->message_id.data, mid, 16) == 0 && --n == 0)
            return (long)i;
    return -1;
}

static bool has_two_acks(peer *p, const void *mid)
{
    return nth_ack(p, mid, 2) >= 0;
}

static void test_redelivery_applied_once(void **state)
{
    peer p;
    peer_session(&p, "relay");
    int c = new_case_id();
    uint8_t mid[16] = {0};
    submit(&p, "village:" VA, c, VA, "pa", "V-1", "咨询", mid);
    const Sanji__Ack *a1 = wait_ack(&p, mid);
    expect_applied(a1, 1);
    submit(&p, "village:" VA, c, VA, "pa", "V-1", "咨询", mid); /* the same message id */
    assert_true(run_until(&p, has_two_acks, mid, SJ_TEST_HANG_MS));
    a1 = p.msgs[nth_ack(&p, mid, 1)]->ack;
    const Sanji__Ack *a2 = p.msgs[nth_ack(&p, mid, 2)]->ack;
    expect_applied(a2, 1);
    assert_string_equal(a2->case_number, a1->case_number);
    char sql[256], cid[SJ_UUID_TEXT_SIZE], m[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(case_ids[c], cid);
    sj_uuid_format(mid, m);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM case_event WHERE case_id = '%s'", cid);
    assert_int_equal(count(sql), 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM processed_message WHERE message_id = '%s'", m);
    assert_int_equal(count(sql), 1);
    peer_free(&p);
}

static void test_stale_version_refused_with_current(void **state)
{
    peer p;
    peer_session(&p, "relay");
    int c = new_case_id();
    uint8_t mid[16] = {0};
    submit(&p, "village:" VA, c, VA, "pa", "C-1", "低保", mid);
    expect_applied(wait_ack(&p, mid), 1);
    step(&p, "village:" VA, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1, "pa", 2);
    uint8_t m2[16] = {0};
    action(&p, "village:" VA, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_WITHDRAW, 1, "pa", "撤回", m2);
    const Sanji__Ack *a = wait_ack(&p, m2);
    expect_refused(a, SJ_ESTALE_VERSION);
    assert_non_null(a->current);
    assert_int_equal(a->current->version, 2);
    assert_int_equal(a->current->status, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP);
    /* The village's own case: its station sees the applicant. */
    assert_string_equal(a->current->applicant->id_number, id_number);
    peer_free(&p);
}

static void test_scope_refusals(void **state)
{
    peer p;
    peer_session(&p, "relay");
    long before = count("SELECT count(*) FROM cases");
    int c = new_case_id();
    uint8_t mid[16] = {0};
    /* The relay of township X forwards for a station of township Y. */
    submit(&p, "village:" VC, c, VC, "pc", "V-1", "越权", mid);
    expect_refused(wait_ack(&p, mid), SJ_ESCOPE);
    uint8_t m2[16] = {0};
    submit(&p, "garbage", c, VC, "pc", "V-1", "越权", m2);
    expect_refused(wait_ack(&p, m2), SJ_ESCOPE);
    /* A station of X registering for Y's village: refused by the county. */
    uint8_t m3[16] = {0};
    submit(&p, "village:" VA, c, VC, "pa", "V-1", "越权", m3);
    const Sanji__Ack *a = wait_ack(&p, m3);
    assert_int_equal(a->status, SANJI__ACK_STATUS__ACK_STATUS_REFUSED);
    assert_int_equal(count("SELECT count(*) FROM cases"), before);
    peer_free(&p);

    /* A desk of another county never gets past TLS. */
    peer o;
    peer_open(&o, "other-desk");
    if (!o.closed)
        run_until(&o, is_closed, NULL, SJ_TEST_HANG_MS);
    assert_true(o.closed);
    assert_false(o.ready && o.n > 0);
    if (o.close_status != SJ_ETLS_UNTRUSTED && o.close_status != SJ_ETLS_HANDSHAKE)
        fail_msg("other county's desk closed with %s", sj_err_name(o.close_status));
    peer_free(&o);
    /* Nor a village station: it must come through its relay. */
    peer v;
    peer_open(&v, "village");
    if (!v.closed)
        run_until(&v, is_closed, NULL, SJ_TEST_HANG_MS);
    assert_true(v.closed);
    assert_int_equal(v.close_status, SJ_ETLS_WRONG_ROLE);
    peer_free(&v);
    assert_true(daemon_alive());
}

static void test_hostile_and_oversized_text(void **state)
{
    peer p;
    peer_session(&p, "relay");
    char *big = malloc(10 * 1024 + 1);
    memset(big, 'A', 10 * 1024);
    big[10 * 1024] = '\0';
    const char *meta = "'); DROP TABLE cases; -- \\ \" % _ $1 ; SELECT pg_sleep(10);";
    int c = new_case_id();
    uint8_t mid[16] = {0};
    submit(&p, "village:" VA, c, VA, "pa", "V-1", meta, mid);
    expect_applied(wait_ack(&p, mid), 1);
    /* 10 KB in each text field: refused with the field's reason, nothing stored. */
    struct {
        const char *village, *person, *item, *text;
        int code;
    } rows[] = {
        {VA, "pa", "V-1", big, SJ_EBAD_FIELD},
        {VA, big, "V-1", "x", SJ_EMISSING_FIELD},
        {VA, "pa", big, "x", SJ_EUNKNOWN_ITEM},
        {big, "pa", "V-1", "x", SJ_ESCOPE},
    };
    long before = count("SELECT count(*) FROM cases");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int k = new_case_id();
        uint8_t m[16] = {0};
        submit(&p, "village:" VA, k, rows[i].village, rows[i].person, rows[i].item, rows[i].text, m);
        expect_refused(wait_ack(&p, m), rows[i].code);
    }
    assert_int_equal(count("SELECT count(*) FROM cases"), before);
    uint8_t m3[16] = {0};
    action(&p, "village:" VA, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_WITHDRAW, 1, "pa", big, m3);
    expect_refused(wait_ack(&p, m3), SJ_EBAD_FIELD);
    uint8_t m4[16] = {0};
    action(&p, "village:" VA, c, SANJI__CASE_ACTION_TYPE__CASE_ACTION_WITHDRAW, 1, "pa", meta, m4);
    expect_applied(wait_ack(&p, m4), 2);
    const Sanji__FeedUpdate *u =
        wait_feed(&p, case_ids[c], SANJI__CASE_ACTION_TYPE__CASE_ACTION_WITHDRAW);
    assert_string_equal(u->event->note, meta);
    assert_string_equal(u->snapshot->request_text, meta);
    free(big);
    peer_free(&p);
    assert_true(daemon_alive());
}

static const Sanji__QueryResult *find_result(peer *p, const uint8_t mid[16])
{
    for (size_t i = 0; i < p->n; i++)
        if (p->msgs[i]->body_case == SANJI__ENVELOPE__BODY_QUERY_RESULT &&
            p->msgs[i]->query_result->in_reply_to.len == 16 &&
            memcmp(p->msgs[i]->query_result->in_reply_to.data, mid, 16) == 0)
            return p->msgs[i]->query_result;
    return NULL;
}

static bool has_result(peer *p, const void *mid)
{
    return find_result(p, mid) != NULL;
}

static const Sanji__QueryResult *ask(peer *p, Sanji__Query *q)
{
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_QUERY;
    env.query = q;
    uint8_t mid[16];
    peer_send(p, &env, mid);
    if (!run_until(p, has_result, mid, SJ_TEST_HANG_MS))
        fail_msg("no QueryResult within %d ms (closed=%d)", SJ_TEST_HANG_MS, p->closed);
    return find_result(p, mid);
}

/* Runs p's loop (its link answers the county meanwhile) until the SQL
 * count is at least want; false at the hang deadline. */
static bool run_until_count(peer *p, const char *sql, long want)
{
    int64_t end = sj_clock_mono_ms() + SJ_TEST_HANG_MS;
    while (count(sql) < want) {
        if (sj_clock_mono_ms() > end)
            return false;
        uv_run(&p->loop, UV_RUN_NOWAIT);
        usleep(50000);
    }
    return true;
}

static void test_queries(void **state)
{
    peer relay, desk;
    peer_session(&relay, "relay");
    peer_session(&desk, "county-desk");
    /* A relay's status from its heartbeat feeds the network view; who it is
     * comes from its certificate. */
    Sanji__NodeStatus st = SANJI__NODE_STATUS__INIT;
    st.node = "relay:forged";
    st.queue_depth = 7;
    st.upstream_online = true;
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    hb.seq = 1;
    hb.status = &st;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    peer_send(&relay, &env, NULL);
    assert_true(run_until_count(&relay, "SELECT count(*) FROM node_status", 1));
    assert_int_equal(count("SELECT count(*) FROM node_status WHERE node = 'relay:" TX "'"), 1);

    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_NETWORK_STATUS;
    q.network_status = true;
    const Sanji__QueryResult *r = ask(&desk, &q);
    assert_int_equal(r->code, 0);
    /* Every township of the org tree, the one whose relay never reported
     * too, and every village under it (none of whose stations came). */
    const Sanji__NetworkStatus *ns = r->network;
    assert_int_equal(ns->n_nodes, 2);
    assert_int_equal(ns->offline_warn_working_days, 3); /* the defaults */
    assert_int_equal(ns->cert_warn_days, 30);
    assert_string_equal(ns->nodes[0]->node, "relay:" TX);
    assert_string_equal(ns->nodes[0]->org_unit, TX);
    assert_false(ns->nodes[0]->never_connected);
    assert_int_equal(ns->nodes[0]->queue_depth, 7);
    assert_true(ns->nodes[0]->upstream_online);
    assert_int_equal(ns->nodes[0]->n_stations, 2);
    assert_string_equal(ns->nodes[0]->stations[0]->org_unit, VA);
    assert_string_equal(ns->nodes[0]->stations[1]->org_unit, VB);
    assert_true(ns->nodes[0]->stations[0]->never_connected);
    assert_string_equal(ns->nodes[1]->node, "");
    assert_string_equal(ns->nodes[1]->org_unit, TY);
    assert_true(ns->nodes[1]->never_connected);
    assert_int_equal(ns->nodes[1]->n_stations, 1);
    assert_string_equal(ns->nodes[1]->stations[0]->org_unit, VC);
    assert_true(ns->nodes[1]->stations[0]->never_connected);

    Sanji__CaseListQuery cl = SANJI__CASE_LIST_QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_CASE_LIST;
    q.case_list = &cl;
    r = ask(&desk, &q);
    assert_int_equal(r->code, 0);
    long all = count("SELECT count(*) FROM cases");
    assert_int_equal(r->case_list->total, all);
    assert_int_equal(r->case_list->n_cases, all);
    cl.limit = 1;
    cl.offset = 1;
    r = ask(&desk, &q);
    assert_int_equal(r->case_list->n_cases, 1);
    assert_int_equal(r->case_list->total, all);
    cl.offset = 1000;
    r = ask(&desk, &q);
    assert_int_equal(r->case_list->n_cases, 0);
    assert_int_equal(r->case_list->total, all);
    Sanji__CaseStatus closed = SANJI__CASE_STATUS__CASE_STATUS_CLOSED;
    cl.limit = 0;
    cl.offset = 0;
    cl.statuses = &closed;
    cl.n_statuses = 1;
    r = ask(&desk, &q);
    assert_int_equal(r->case_list->total, 1);
    char number[32];
    snprintf(number, sizeof(number), "%s", r->case_list->cases[0]->number);

    Sanji__CaseGetQuery cg = SANJI__CASE_GET_QUERY__INIT;
    cg.number = number;
    q.kind_case = SANJI__QUERY__KIND_CASE_GET;
    q.case_get = &cg;
    r = ask(&desk, &q);
    assert_int_equal(r->code, 0);
    assert_int_equal(r->case_detail->n_events, 7);
    assert_int_equal(r->case_detail->events[6]->action, SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK);
    /* Closed and held by the village: masked for the county desk. */
    assert_non_null(strstr(r->case_detail->case_->applicant->phone, "*"));
    /* The relay of the case's township: its own village's case, unmasked. */
    r = ask(&relay, &q);
    assert_int_equal(r->code, 0);
    assert_string_equal(r->case_detail->case_->applicant->phone, "13800138000");
    cg.number = "'; DROP TABLE cases; --";
    r = ask(&desk, &q);
    assert_int_equal(r->code, SJ_EUNKNOWN_CASE);

    Sanji__CatalogueQuery cq = SANJI__CATALOGUE_QUERY__INIT;
    cq.keyword = "收入";
    q.kind_case = SANJI__QUERY__KIND_CATALOGUE;
    q.catalogue = &cq;
    r = ask(&desk, &q);
    assert_int_equal(r->catalogue->n_items, 1);
    assert_string_equal(r->catalogue->items[0]->code, "C-1");

    q.kind_case = SANJI__QUERY__KIND_STATISTICS;
    q.statistics = true;
    r = ask(&desk, &q);
    assert_int_equal(r->code, 0);
    assert_int_equal(r->statistics->all->total, all);
    assert_int_equal(r->statistics->all->satisfied, 1);
    assert_int_equal(r->statistics->n_by_township, 1);
    assert_string_equal(r->statistics->by_township[0]->key, TX);

    q.kind_case = SANJI__QUERY__KIND_ORG_TREE;
    q.org_tree = true;
    r = ask(&relay, &q);
    assert_int_equal(r->org_tree->n_units, 4);
    peer_free(&relay);
    peer_free(&desk);
}

/* The county keeps persons and catalogue items in memory (server/refdata.h);
 * an import run by another process while the daemon runs is seen by the
 * very next submission: a new item and a new person are accepted, and a
 * renamed item is stored under its new name. */
static void test_import_while_running_is_seen_at_once(void **state)
{
    peer p;
    peer_session(&p, "relay");
    int c0 = new_case_id(), c00 = new_case_id();
    uint8_t m0[16] = {0}, m00[16] = {0};
    submit(&p, "village:" VA, c0, VA, "pa", "N-1", "新事项", m0);
    expect_refused(wait_ack(&p, m0), SJ_EUNKNOWN_ITEM); /* neither is known yet */
    submit(&p, "village:" VA, c00, VA, "pn", "V-1", "咨询", m00);
    expect_refused(wait_ack(&p, m00), SJ_EUNKNOWN_PERSON);

    char cat[600], per[600];
    snprintf(cat, sizeof(cat), "%s/catalogue.csv", workdir);
    snprintf(per, sizeof(per), "%s/persons.csv", workdir);
    FILE *f = fopen(cat, "w");
    assert_non_null(f);
    fputs("code,category,name,min_level,department,limit_days,urgent_limit_days,materials\n"
          "V-1,MZ,政策咨询（改名）,village,县民政局,1,0,\n"
          "N-1,MZ,新增服务事项,village,县民政局,3,1,居民身份证\n", f);
    fclose(f);
    f = fopen(per, "w");
    assert_non_null(f);
    fputs("id,name,role,org_unit,password\npn,新干部,village_cadre," VA ",新密码123\n", f);
    fclose(f);
    const char *build = getenv("SANJI_BUILD_DIR");
    assert_non_null(build);
    if (sh("%s/server/sanji-countyd --database '%s' import catalogue %s >/dev/null", build, conninfo,
           cat) != 0 ||
        sh("%s/server/sanji-countyd --database '%s' import persons %s >/dev/null", build, conninfo,
           per) != 0)
        fail_msg("sanji-countyd import failed");

    int c1 = new_case_id(), c2 = new_case_id();
    uint8_t m1[16] = {0}, m2[16] = {0};
    submit(&p, "village:" VA, c1, VA, "pn", "N-1", "新事项", m1);
    expect_applied(wait_ack(&p, m1), 1);
    submit(&p, "village:" VA, c2, VA, "pa", "V-1", "咨询", m2);
    expect_applied(wait_ack(&p, m2), 1);
    char sql[256], cid[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(case_ids[c1], cid);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE case_id = '%s'"
                               " AND item_name = '新增服务事项' AND first_receiver_name = '新干部'", cid);
    assert_int_equal(count(sql), 1);
    sj_uuid_format(case_ids[c2], cid);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE case_id = '%s'"
                               " AND item_name = '政策咨询（改名）'", cid);
    assert_int_equal(count(sql), 1);
    peer_free(&p);
    assert_true(daemon_alive());
}

static bool crl_reloaded(void *arg)
{
    (void)arg;
    return sj_test_count_lines(logpath, "CRL reloaded") > 0;
}

static void test_sighup_reloads_the_crl(void **state)
{
    assert_int_equal(sj_test_proc_signal(&countyd_proc, SIGHUP), 0);
    if (!sj_test_poll_until(crl_reloaded, NULL, SJ_TEST_HANG_MS, 50))
        fail_msg("no \"CRL reloaded\" in %s after SIGHUP", logpath);
    assert_true(daemon_alive());
    peer p; /* and it still serves */
    peer_session(&p, "relay");
    peer_free(&p);
}

#define LOAD 40

static void test_postgres_restart_under_load(void **state)
{
    peer p;
    peer_session(&p, "relay");
    uint8_t mids[LOAD][16];
    int first = n_cases;
    memset(mids, 0, sizeof(mids));
    long before = count("SELECT count(*) FROM cases");
    PQfinish(db);
    db = NULL;
    for (int i = 0; i < LOAD; i++) {
        int c = new_case_id();
        submit(&p, "village:" VB, c, VB, "pb", "V-1", "重启", mids[i]);
        if (i == LOAD / 4) {
            uv_run(&p.loop, UV_RUN_NOWAIT);
            int rc = sh("cd %s && runuser -u sanji-test -- /usr/lib/postgresql/15/bin/pg_ctl "
                        "-D %s/data -m immediate -w restart >/dev/null 2>&1",
                        pgpath, pgpath);
            if (rc != 0)
                rc = sh("/usr/lib/postgresql/15/bin/pg_ctl -D %s/data -m immediate -w restart "
                        ">/dev/null 2>&1",
                        pgpath);
            assert_int_equal(rc, 0);
        }
    }
    for (int i = 0; i < LOAD; i++)
        if (!run_until(&p, has_ack, mids[i], SJ_TEST_HANG_MS))
            fail_msg("message %d never acknowledged after the restart", i);
    for (int i = 0; i < LOAD; i++)
        expect_applied(find_ack(&p, mids[i]), 1);
    db = PQconnectdb(conninfo);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    assert_int_equal(count("SELECT count(*) FROM cases"), before + LOAD);
    /* Everything again, as a relay does after a reconnect: applied once. */
    for (int i = 0; i < LOAD; i++)
        submit(&p, "village:" VB, first + i, VB, "pb", "V-1", "重启", mids[i]);
    for (int i = 0; i < LOAD; i++)
        if (!run_until(&p, has_two_acks, mids[i], SJ_TEST_HANG_MS))
            fail_msg("redelivered message %d not acknowledged", i);
    assert_int_equal(count("SELECT count(*) FROM cases"), before + LOAD);
    assert_int_equal(count("SELECT count(*) FROM feed WHERE village = '" VB "'"), LOAD);
    check_feed_order(&p);
    assert_true(daemon_alive());
    peer_free(&p);
}

static void test_sweep_warns_then_marks_overdue_under_a_faked_clock(void **state)
{
    stop_daemon(); /* SIGTERM: a clean stop, exit 0 */
    /* Sixteen days on, an open C-1 case (20 working days, about 28 calendar
     * days) has used more than half of its limit: WARN 50, not yet 80. */
    char fake[32];
    snprintf(fake, sizeof(fake), "%lld", (long long)(sj_clock_real_ms() + 16 * SJ_CLOCK_MS_PER_DAY));
    write_config(1);
    start_daemon(fake);
    peer early;
    peer_session(&early, "county-desk");
    const Sanji__FeedUpdate *w =
        wait_feed(&early, NULL, SANJI__CASE_ACTION_TYPE__CASE_ACTION_WARN);
    assert_int_equal(w->snapshot->warn_level, 50);
    assert_string_equal(w->snapshot->item_code, "C-1");
    assert_false(w->snapshot->overdue);
    peer_free(&early);
    stop_daemon();
    /* Forty days on, every V-1 case (limit 1 working day) still open is
     * overdue; the sweep runs every second. */
    int64_t later = sj_clock_real_ms() + 40 * SJ_CLOCK_MS_PER_DAY;
    snprintf(fake, sizeof(fake), "%lld", (long long)later);
    write_config(1);
    start_daemon(fake);
    peer desk;
    peer_session(&desk, "county-desk");
    const Sanji__FeedUpdate *u = wait_feed(&desk, NULL, SANJI__CASE_ACTION_TYPE__CASE_ACTION_OVERDUE);
    assert_true(u->snapshot->overdue);
    assert_int_equal(u->event->actor_level, SANJI__LEVEL__LEVEL_COUNTY);
    long open = count("SELECT count(*) FROM cases WHERE status IN (1,2,3,4,5,6,9,12,13,14)");
    assert_true(run_until_count(&desk, "SELECT count(*) FROM cases WHERE overdue", open));
    assert_int_equal(count("SELECT count(*) FROM cases WHERE overdue"), open);
    assert_int_equal(count("SELECT count(*) FROM case_event WHERE action = 16"), open);
    /* Overdue once: later sweeps add nothing.  A case registered now (its
     * one working day long over on the faked clock) is marked by a sweep
     * that starts after it was applied; once its OVERDUE is in the feed,
     * that later sweep has also been over every case marked before. */
    peer relay;
    peer_session(&relay, "relay");
    int late = new_case_id();
    uint8_t mid[16] = {0};
    submit(&relay, "village:" VA, late, VA, "pa", "V-1", "超期之后登记", mid);
    expect_applied(wait_ack(&relay, mid), 1);
    wait_feed(&desk, case_ids[late], SANJI__CASE_ACTION_TYPE__CASE_ACTION_OVERDUE);
    assert_int_equal(count("SELECT count(*) FROM case_event WHERE action = 16"), open + 1);
    assert_int_equal(count("SELECT count(*) FROM cases WHERE closed_at_ms = 0 AND status = 10"), 0);
    peer_free(&relay);
    peer_free(&desk);
    stop_daemon();
}

/* The calendar never silently runs out: started on 15 November 2026 with no
 * 2027 holidays in the table, the server says so in its log at once (the
 * daily repeat is the same check at each sweep, once per China day). */
static int warned_before;

static bool warned_2027(void *arg)
{
    (void)arg;
    return sj_test_count_lines(logpath, "year=2027") > warned_before;
}

static void test_missing_holidays_warned_at_start(void **state)
{
    (void)state;
    if (daemon_alive())
        stop_daemon();
    warned_before = sj_test_count_lines(logpath, "year=2027");
    assert_int_equal(count("SELECT count(*) FROM holiday WHERE day >= '2027-01-01'"), 0);
    int64_t nov15;
    assert_int_equal(sj_clock_parse_iso("2026-11-15T10:00:00+08:00", &nov15, NULL), 0);
    char fake[32];
    snprintf(fake, sizeof(fake), "%lld", (long long)nov15);
    write_config(3600); /* no sweep in this test: the warning comes from the start */
    start_daemon(fake);
    if (!sj_test_poll_until(warned_2027, NULL, SJ_TEST_HANG_MS, 50))
        fail_msg("no warning about the 2027 holidays in %s", logpath);
    assert_true(sj_test_count_lines(logpath, "holiday arrangement is not loaded") > 0);
    stop_daemon();
}

/* A year's holidays imported by `sanji-countyd import holidays` while the
 * server runs: its next sweep recomputes the open cases' due times, and the
 * DUE_RECOMPUTE reaches a desk on its live feed.  The 2027 file is test
 * data made here, not an official notice. */
static void test_holiday_import_recomputes_due_times_on_the_feed(void **state)
{
    (void)state;
    if (daemon_alive())
        stop_daemon();
    int64_t dec21;
    assert_int_equal(sj_clock_parse_iso("2026-12-21T10:00:00+08:00", &dec21, NULL), 0);
    sj_clock_set_fake_now_ms(dec21); /* the registration's time, as the daemon's */
    char fake[32];
    snprintf(fake, sizeof(fake), "%lld", (long long)dec21);
    write_config(1);
    start_daemon(fake);
    peer relay, desk;
    peer_session(&relay, "relay");
    peer_session(&desk, "county-desk");
    int c = new_case_id();
    uint8_t mid[16] = {0};
    /* C-1: 20 working days, into January 2027, whose holidays are unknown. */
    submit(&relay, "village:" VA, c, VA, "pa", "C-1", "跨年的事项", mid);
    expect_applied(wait_ack(&relay, mid), 1);
    char cid[SJ_UUID_TEXT_SIZE], sql[256];
    sj_uuid_format(case_ids[c], cid);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE case_id = '%s'"
                               " AND due_provisional", cid);
    assert_int_equal(count(sql), 1);

    char path[600];
    snprintf(path, sizeof(path), "%s/holidays-2027.csv", workdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# 测试数据，非官方安排 (test data, not an official arrangement)\n"
          "date,kind,name\n2027-01-01,holiday,测试假日\n", f);
    fclose(f);
    const char *build = getenv("SANJI_BUILD_DIR");
    assert_non_null(build);
    if (sh("%s/server/sanji-countyd --database '%s' import holidays %s >/dev/null", build, conninfo,
           path) != 0)
        fail_msg("sanji-countyd import holidays failed");
    const Sanji__FeedUpdate *u =
        wait_feed(&desk, case_ids[c], SANJI__CASE_ACTION_TYPE__CASE_ACTION_DUE_RECOMPUTE);
    assert_false(u->snapshot->due_provisional);
    assert_true(u->event->due_at_ms == u->snapshot->due_at_ms);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM cases WHERE case_id = '%s'"
                               " AND NOT due_provisional AND due_at_ms = %lld", cid,
             (long long)u->snapshot->due_at_ms);
    assert_int_equal(count(sql), 1);
    peer_free(&desk);
    peer_free(&relay);
    stop_daemon();
    sj_clock_set_fake_offset_ms(0);
}

/* Found by the chaos run: a county server (re)started while PostgreSQL was
 * down or still recovering exited at once.  `run` must wait for the
 * database and then serve. */
static void test_run_waits_for_the_database_at_start(void **state)
{
    (void)state;
    if (daemon_alive())
        stop_daemon();
    write_config(60);
    PQfinish(db);
    db = NULL;
    const char *as = getuid() == 0 ? "runuser -u sanji-test --" : "";
    int pgport = atoi(strstr(conninfo, "port=") + 5);
    assert_int_equal(sh("cd %s && %s /usr/lib/postgresql/15/bin/pg_ctl -D %s/data -m fast -w stop "
                        ">/dev/null 2>&1",
                        pgpath, as, pgpath),
                     0);
    /* PostgreSQL comes back two seconds after the county server starts. */
    assert_int_equal(sh("(cd %s && sleep 2 && %s /usr/lib/postgresql/15/bin/pg_ctl -D %s/data -l "
                        "%s/server.log -w start -o '-c listen_addresses=127.0.0.1 -c port=%d "
                        "-c unix_socket_directories=%s' >/dev/null 2>&1) &",
                        pgpath, as, pgpath, pgpath, pgport, pgpath),
                     0);
    start_daemon(NULL); /* fails if the daemon exits, or does not listen before a hang is plain */
    peer p;
    peer_session(&p, "relay");
    assert_true(daemon_alive());
    peer_free(&p);
    db = PQconnectdb(conninfo);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    stop_daemon();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_and_sync),
        cmocka_unit_test(test_protocol_levels),
        cmocka_unit_test(test_first_message_must_be_hello),
        cmocka_unit_test(test_silent_client_closed_at_handshake_timeout),
        cmocka_unit_test(test_lifecycle_through_both_links),
        cmocka_unit_test(test_redelivery_applied_once),
        cmocka_unit_test(test_stale_version_refused_with_current),
        cmocka_unit_test(test_scope_refusals),
        cmocka_unit_test(test_hostile_and_oversized_text),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_import_while_running_is_seen_at_once),
        cmocka_unit_test(test_sighup_reloads_the_crl),
        cmocka_unit_test(test_postgres_restart_under_load),
        cmocka_unit_test(test_sweep_warns_then_marks_overdue_under_a_faked_clock),
        cmocka_unit_test(test_missing_holidays_warned_at_start),
        cmocka_unit_test(test_holiday_import_recomputes_due_times_on_the_feed),
        cmocka_unit_test(test_run_waits_for_the_database_at_start),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
