/*
 * test_hostile_peer.c - G6 at the link level: the real sanji-countyd (on a
 * private PostgreSQL loaded with the demo county) and the real sanji-relayd
 * of 张官营镇 are attacked by peers that hold VALID certificates (a village
 * station at the relay; the relay's own certificate and a county desk at the
 * county), each attack on a fresh connection:
 *
 *   garbage bytes after the handshake; a frame header over link.max_frame
 *   (refused before the body: the link closes while the body never comes);
 *   a truncated frame and silence (closed at link.idle_timeout, no hang);
 *   a body that is not an Envelope, an Envelope of version 2, one with no
 *   body, one whose sender node is not the certificate's; a message before
 *   Hello, a second Hello, messages that only flow downward (Welcome,
 *   FeedUpdate) sent upward; a replayed CaseSubmit (applied once, answered
 *   with the original result) and an action on an old version (refused with
 *   the current case); a TLS client without a certificate and a plain-TCP
 *   HTTP request.
 *
 * After every attack: both daemons still run, an honest station still
 * registers a case end to end (Ack APPLIED through the relay from the
 * county), the attack stored nothing (cases, case_event and
 * processed_message in PostgreSQL, queue and results in the relay's
 * SQLite store move only by the honest case), and the attacked daemon's log
 * has a line naming the problem and no applicant data.  At the end the
 * real `sanji` program logs in at the station and registers a case.
 *
 * The attacker is a blocking socket driving the project's sans-I/O TLS
 * engine (common/net/tls.h) so that it can send any bytes at all.
 *
 * Nothing is timed from above: the attacker waits for the daemon's answer
 * or close, failing only at SJ_TEST_HANG_MS (proc.h).  The one time figure
 * checked is a lower bound that a slow machine cannot break: a truncated
 * frame is not closed before link.idle_timeout.
 *
 * Entry point: main().  The network is set up once (group setup); each test
 * is one attack.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "certs.h"
#include "clock.h"
#include "envelope.h"
#include "files.h"
#include "frame.h"
#include "hex.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"
#include "tls.h"
#include "uuid.h"

#define VA "410423101201" /* 张官营村, the attacking and the honest station */
#define TX "410423101000" /* 张官营镇, the relay's township */
#define CO "410423000000"
#define PERSON "p-410423101201-01"
#define APPLICANT_NAME "王秀兰"
#define APPLICANT_ID "11010519491231002X"
#define APPLICANT_PHONE "13800138000"

/* Short limits so that the timeouts are quick to test.  link.idle_timeout
 * is waited for twice (the truncated frames); every other link says
 * something at least every KEEPALIVE_MS while it waits for an answer, and
 * the daemons' heartbeat is 300 ms, so only a pause of the whole machine
 * longer than IDLE_MS could end a link that should stay. */
#define MAX_FRAME (64 * 1024)
#define IDLE_MS 3000
#define KEEPALIVE_MS 250

typedef struct world {
    sj_test_tiers t; /* the county and the relay; t.certs.dir is the network's folder */
    char conninfo[1024];
    PGconn *db;
} world;

static world W;

/* ---- small helpers -------------------------------------------------------- */

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* What the log at path got after offset `from` (malloc'd, caller frees). */
static char *log_since(const char *path, long from)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    if (from > end)
        from = end;
    fseek(f, from, SEEK_SET);
    char *buf = malloc((size_t)(end - from) + 1);
    size_t n = fread(buf, 1, (size_t)(end - from), f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* One value from the relay's SQLite store, read-only (the relay uses WAL). */
static long relay_db_count(const char *table)
{
    char cmd[PATH_MAX + 256], buf[64] = "";
    snprintf(cmd, sizeof cmd, "sqlite3 -readonly '%s/relay.db' 'SELECT count(*) FROM %s'",
             W.t.certs.dir, table);
    FILE *f = popen(cmd, "r");
    if (!f)
        fail_msg("cannot run %s", cmd);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    if (pclose(f) != 0)
        fail_msg("sqlite3 failed: %s", cmd);
    return strtol(buf, NULL, 10);
}

/* ---- the attacker: a blocking socket and the TLS engine --------------------- */

#define ATK_MSGS_MAX 4096

typedef struct atk {
    int fd;
    sj_tls_ctx *ctx;
    sj_tls *tls;
    sj_frame_decoder dec;
    bool dec_init;
    char node[SJ_IDENTITY_NODE_ID_MAX]; /* our node id, as the certificate says */
    Sanji__Envelope **msgs;             /* every Envelope received, in order */
    size_t n;
    bool eof;      /* the daemon closed the TCP connection */
    bool notified; /* its TLS close_notify arrived */
    bool keepalive;      /* send a Heartbeat every KEEPALIVE_MS while waiting */
    int64_t last_sent_ms; /* when we last wrote to the link */
    int tls_err;   /* a TLS failure after the handshake (e.g. the peer's alert) */
    char tls_msg[SJ_ERROR_MESSAGE_MAX];
} atk;

static int atk_frame(void *arg, const uint8_t *payload, size_t len)
{
    atk *a = arg;
    Sanji__Envelope *env;
    if (sj_envelope_unpack(payload, len, &env, NULL) != 0)
        fail_msg("the daemon sent a frame that is not a valid Envelope (%zu bytes)", len);
    if (a->n < ATK_MSGS_MAX)
        a->msgs[a->n++] = env;
    else
        sj_envelope_free(env);
    return 0;
}

static void atk_flush(atk *a)
{
    uint8_t buf[16384];
    size_t n;
    while (sj_tls_pending(a->tls) > 0) {
        sj_tls_take(a->tls, buf, sizeof buf, &n);
        size_t off = 0;
        while (off < n) {
            ssize_t w = send(a->fd, buf + off, n - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                a->eof = true; /* the daemon is gone; what it said is read later */
                return;
            }
            off += (size_t)w;
        }
    }
}

/* Reads what arrives within timeout_ms (one recv); false on EOF or nothing. */
static bool atk_read_once(atk *a, int timeout_ms)
{
    if (a->eof)
        return false;
    struct pollfd p = {.fd = a->fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (r <= 0)
        return false;
    uint8_t buf[65536];
    ssize_t n = recv(a->fd, buf, sizeof buf, 0);
    if (n <= 0) {
        a->eof = true;
        return false;
    }
    assert_int_equal(sj_tls_feed(a->tls, buf, (size_t)n), 0);
    return true;
}

/* Decrypts and decodes what the engine holds. */
static void atk_decode(atk *a)
{
    if (!sj_tls_is_established(a->tls) || a->tls_err)
        return;
    uint8_t plain[65536];
    for (;;) {
        size_t n = 0;
        int rc = sj_tls_read(a->tls, plain, sizeof plain, &n);
        if (rc == SJ_EAGAIN)
            break;
        if (rc == SJ_ECLOSED) {
            a->notified = true;
            break;
        }
        if (rc != 0) {
            a->tls_err = rc;
            snprintf(a->tls_msg, sizeof a->tls_msg, "%s", sj_tls_last_error(a->tls)->message);
            break;
        }
        int frc = sj_frame_decoder_feed(&a->dec, plain, n, atk_frame, a);
        if (frc != 0)
            fail_msg("the daemon's framing broke: %s", sj_err_name(frc));
    }
    atk_flush(a);
}

static int64_t now_ms(void)
{
    return sj_clock_mono_ms();
}

typedef bool (*atk_pred)(atk *a, const void *arg);

static void atk_heartbeat(atk *a);

/* Reads until pred holds, the link ends, or timeout_ms passed; returns pred.
 * With a->keepalive it says it is alive meanwhile, so that an answer that
 * takes long on a loaded machine does not end the link at idle_timeout. */
static bool atk_until(atk *a, atk_pred pred, const void *arg, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (!(pred && pred(a, arg)) && !a->eof && now_ms() < end) {
        int wait = (int)(end - now_ms());
        if (a->keepalive) {
            if (now_ms() - a->last_sent_ms >= KEEPALIVE_MS)
                atk_heartbeat(a);
            if (wait > KEEPALIVE_MS / 2)
                wait = KEEPALIVE_MS / 2;
        }
        if (atk_read_once(a, wait))
            atk_decode(a);
    }
    atk_decode(a);
    return pred ? pred(a, arg) : false;
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        fail_msg("cannot connect to 127.0.0.1:%d: %s", port, strerror(errno));
    return fd;
}

/* Connects to a daemon with certificate `cert` (NULL: none) and runs the
 * TLS handshake.  Returns 0, or the handshake's refusal code. */
static int atk_open(atk *a, int port, const char *cert, sj_node_role server_role,
                    const char *server_node)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    sj_node_role roles[] = {server_role};
    sj_error err;
    a->ctx = sj_test_certs_tls_ctx(&W.t.certs, cert, false, false, roles, 1, NULL, &err);
    if (!a->ctx)
        fail_msg("attacker TLS context: %s", err.message);
    a->tls = sj_tls_new(a->ctx, server_node, &err);
    assert_non_null(a->tls);
    const sj_identity *me = sj_tls_ctx_identity(a->ctx);
    snprintf(a->node, sizeof a->node, "%s", me ? me->node_id : "");
    a->msgs = calloc(ATK_MSGS_MAX, sizeof *a->msgs);
    sj_frame_decoder_init(&a->dec, 16u << 20);
    a->dec_init = true;
    a->fd = tcp_connect(port);
    int64_t end = now_ms() + SJ_TEST_HANG_MS;
    for (;;) {
        int rc = sj_tls_handshake(a->tls, &err);
        atk_flush(a);
        if (rc == 0)
            return 0;
        if (rc != SJ_EAGAIN)
            return rc;
        if (now_ms() >= end)
            fail_msg("handshake with 127.0.0.1:%d did not finish in %d ms", port,
                     SJ_TEST_HANG_MS);
        if (!atk_read_once(a, (int)(end - now_ms())) && a->eof)
            return SJ_ETLS_HANDSHAKE;
    }
}

static void atk_free(atk *a)
{
    if (a->fd >= 0)
        close(a->fd);
    sj_tls_free(a->tls);
    sj_tls_ctx_free(a->ctx);
    if (a->dec_init)
        sj_frame_decoder_release(&a->dec);
    for (size_t i = 0; i < a->n; i++)
        sj_envelope_free(a->msgs[i]);
    free(a->msgs);
    memset(a, 0, sizeof *a);
    a->fd = -1;
}

/* Sends plaintext bytes as they are, inside the TLS stream. */
static void atk_raw(atk *a, const void *data, size_t len)
{
    int rc = sj_tls_write(a->tls, data, len);
    if (rc != 0)
        fail_msg("attacker TLS write: %s", sj_err_name(rc));
    atk_flush(a);
    a->last_sent_ms = now_ms();
}

/* Sends a well-formed frame of env, stamped with our own node id unless env
 * names another sender.  id_out (may be NULL) gets the message id. */
static void atk_send(atk *a, const Sanji__Envelope *env, uint8_t id_out[16])
{
    uint8_t *frame = NULL;
    size_t len = 0;
    sj_error err;
    int rc = sj_envelope_pack(env, a->node, 16u << 20, &frame, &len, id_out, &err);
    if (rc != 0)
        fail_msg("pack: %s", err.message);
    atk_raw(a, frame, len);
    free(frame);
}

/* Packs a raw protobuf Envelope, unchecked (any version, any body), as a frame. */
static void atk_send_unchecked(atk *a, const Sanji__Envelope *env)
{
    size_t n = sanji__envelope__get_packed_size(env);
    uint8_t *buf = malloc(n + 4);
    sj_frame_header_put(buf, (uint32_t)n);
    sanji__envelope__pack(env, buf + 4);
    atk_raw(a, buf, n + 4);
    free(buf);
}

static void atk_heartbeat(atk *a)
{
    Sanji__Heartbeat hb = SANJI__HEARTBEAT__INIT;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    atk_send(a, &env, NULL);
}

static void atk_hello(atk *a)
{
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = 1;
    h.max_version = 1;
    h.software = "hostile-peer";
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    atk_send(a, &env, NULL);
}

static const Sanji__Envelope *atk_find(atk *a, Sanji__Envelope__BodyCase body)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->msgs[i]->body_case == body)
            return a->msgs[i];
    return NULL;
}

static bool has_welcome(atk *a, const void *arg)
{
    (void)arg;
    return atk_find(a, SANJI__ENVELOPE__BODY_WELCOME) != NULL;
}

/* A final Ack (APPLIED or REFUSED) for id, or with `any` set any Ack. */
typedef struct ack_want {
    const uint8_t *id;
    bool any;
} ack_want;

static const Sanji__Ack *atk_ack(atk *a, const ack_want *w)
{
    for (size_t i = 0; i < a->n; i++) {
        const Sanji__Ack *k = a->msgs[i]->ack;
        if (a->msgs[i]->body_case == SANJI__ENVELOPE__BODY_ACK && k->message_id.len == 16 &&
            memcmp(k->message_id.data, w->id, 16) == 0 &&
            (w->any || k->status != SANJI__ACK_STATUS__ACK_STATUS_STORED))
            return k;
    }
    return NULL;
}

static bool has_ack(atk *a, const void *arg)
{
    return atk_ack(a, arg) != NULL;
}

/* Waits for the final Ack of id on a link that is to stay open: the
 * attacker says it is alive meanwhile (an honest peer does the same). */
static const Sanji__Ack *atk_wait_final(atk *a, const uint8_t id[16])
{
    ack_want w = {id, false};
    a->keepalive = true;
    bool got = atk_until(a, has_ack, &w, SJ_TEST_HANG_MS);
    a->keepalive = false;
    if (!got)
        fail_msg("no final Ack within %d ms (link ended: %d, received %zu messages)",
                 SJ_TEST_HANG_MS, a->eof, a->n);
    return atk_ack(a, &w);
}

/* Waits for the daemon to close the link (failing only at the hang
 * deadline). */
static void atk_wait_closed(atk *a)
{
    atk_until(a, NULL, NULL, SJ_TEST_HANG_MS);
    if (!a->eof)
        fail_msg("the daemon kept the link open for %d ms", SJ_TEST_HANG_MS);
}

/* The code of the daemon's Goodbye; fails if none came. */
static int atk_goodbye(atk *a)
{
    const Sanji__Envelope *g = atk_find(a, SANJI__ENVELOPE__BODY_GOODBYE);
    if (!g)
        fail_msg("no Goodbye before the close (received %zu messages, TLS %s)", a->n,
                 sj_err_name(a->tls_err));
    return g->goodbye->code;
}

#define assert_code(got, want)                                                                  \
    do {                                                                                        \
        int g_ = (got), w_ = (want);                                                            \
        if (g_ != w_)                                                                           \
            fail_msg("code %s (%d), want %s (%d)", sj_err_name(g_), g_, sj_err_name(w_), w_);  \
    } while (0)

/* ---- upward messages -------------------------------------------------------- */

static void submit_env(Sanji__Envelope *env, Sanji__CaseSubmit *s, Sanji__Applicant *ap,
                       uint8_t case_id[16], const char *text)
{
    sj_uuid_v7(case_id);
    *s = (Sanji__CaseSubmit)SANJI__CASE_SUBMIT__INIT;
    *ap = (Sanji__Applicant)SANJI__APPLICANT__INIT;
    ap->name = APPLICANT_NAME;
    ap->id_number = APPLICANT_ID;
    ap->phone = APPLICANT_PHONE;
    s->case_id = (ProtobufCBinaryData){16, case_id};
    s->village = VA;
    s->item_code = "MZ-001";
    s->applicant = ap;
    s->request_text = (char *)text;
    s->actor_person = PERSON;
    s->registered_at_ms = sj_clock_real_ms();
    *env = (Sanji__Envelope)SANJI__ENVELOPE__INIT;
    env->body_case = SANJI__ENVELOPE__BODY_CASE_SUBMIT;
    env->case_submit = s;
}

static void action_env(Sanji__Envelope *env, Sanji__CaseAction *ca, const uint8_t case_id[16],
                       Sanji__CaseActionType type, uint64_t expected)
{
    *ca = (Sanji__CaseAction)SANJI__CASE_ACTION__INIT;
    ca->case_id = (ProtobufCBinaryData){16, (uint8_t *)case_id};
    ca->action = type;
    ca->expected_version = expected;
    ca->actor_person = PERSON;
    ca->acted_at_ms = sj_clock_real_ms();
    ca->note = "上报乡镇";
    *env = (Sanji__Envelope)SANJI__ENVELOPE__INIT;
    env->body_case = SANJI__ENVELOPE__BODY_CASE_ACTION;
    env->case_action = ca;
}

/* ---- the honest station and the stores -------------------------------------- */

/* The village station registers a case through the relay and gets it
 * applied by the county.  case_id (may be NULL) receives the case's id. */
static void honest_case(uint8_t case_id_out[16])
{
    atk a;
    int rc = atk_open(&a, W.t.relay_port, "village", SJ_NODE_ROLE_RELAY, "relay:" TX);
    if (rc != 0)
        fail_msg("honest station not admitted: %s", sj_err_name(rc));
    atk_hello(&a);
    if (!atk_until(&a, has_welcome, NULL, SJ_TEST_HANG_MS))
        fail_msg("honest station got no Welcome");
    Sanji__Envelope env;
    Sanji__CaseSubmit s;
    Sanji__Applicant ap;
    uint8_t cid[16], mid[16];
    submit_env(&env, &s, &ap, cid, "申请社会救助政策咨询");
    atk_send(&a, &env, mid);
    const Sanji__Ack *k = atk_wait_final(&a, mid);
    if (k->status != SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
        fail_msg("honest case not applied: status %d %s: %s", k->status, sj_err_name(k->code),
                 k->reason);
    assert_int_equal(k->case_version, 1);
    assert_int_equal(strncmp(k->case_number, "410423-", 7), 0);
    sj_tls_shutdown(a.tls);
    atk_flush(&a);
    atk_free(&a);
    if (case_id_out)
        memcpy(case_id_out, cid, 16);
}

typedef struct counts {
    long cases, events, processed, queue, results;
} counts;

static bool queue_is(void *want)
{
    return relay_db_count("queue") == *(long *)want;
}

static counts stores(void)
{
    counts c;
    c.cases = pgt_count(W.db, "cases");
    c.events = pgt_count(W.db, "case_event");
    c.processed = pgt_count(W.db, "processed_message");
    c.queue = relay_db_count("queue");
    c.results = relay_db_count("results");
    return c;
}

/* State before an attack: store counts and where each log ends. */
typedef struct before {
    counts c;
    long county_log, relay_log;
} before;

static before mark(void)
{
    before b = {stores(), file_size(W.t.county_log), file_size(W.t.relay_log)};
    return b;
}

/* After an attack on the daemon whose log is `log`: both daemons run, an
 * honest case goes end to end, the stores moved only by that case (and
 * by `refused` messages the county recorded as refused), and the log got a
 * line with `needle` and no applicant data. */
static void after_attack(const before *b, bool county, const char *needle, long refused)
{
    char tail[2048];
    if (!sj_test_proc_alive(&W.t.county))
        fail_msg("sanji-countyd died: %s", sj_test_proc_log_tail(&W.t.county, tail, sizeof tail));
    if (!sj_test_proc_alive(&W.t.relay))
        fail_msg("sanji-relayd died: %s", sj_test_proc_log_tail(&W.t.relay, tail, sizeof tail));
    honest_case(NULL);
    counts now = stores();
    /* A refusal the county recorded reaches the relay's results only when
     * the message came through the relay. */
    long relay_refused = county ? 0 : refused;
    if (now.cases != b->c.cases + 1 || now.events != b->c.events + 1 ||
        now.processed != b->c.processed + 1 + refused ||
        now.results != b->c.results + 1 + relay_refused)
        fail_msg("stores moved by the attack: cases %ld->%ld, case_event %ld->%ld, "
                 "processed_message %ld->%ld (+%ld refused), relay results %ld->%ld; one honest "
                 "case expected",
                 b->c.cases, now.cases, b->c.events, now.events, b->c.processed, now.processed,
                 refused, b->c.results, now.results);
    /* The queue drains once the county answered. */
    long queue = b->c.queue;
    if (!sj_test_poll_until(queue_is, &queue, SJ_TEST_HANG_MS, 50))
        fail_msg("the relay's queue holds %ld rows, want %ld again", relay_db_count("queue"),
                 queue);
    const char *path = county ? W.t.county_log : W.t.relay_log;
    char *log = log_since(path, county ? b->county_log : b->relay_log);
    if (!strstr(log, needle))
        fail_msg("%s has no line with \"%s\" about the attack; it got:\n%s", path, needle, log);
    if (strstr(log, APPLICANT_ID) || strstr(log, APPLICANT_PHONE) || strstr(log, APPLICANT_NAME))
        fail_msg("%s logged applicant data:\n%s", path, log);
    free(log);
}

/* ---- the network ---------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    W.db = pgt_fresh_db("sanji_hostile", W.conninfo, sizeof W.conninfo);
    char county[256], relay[256];
    snprintf(county, sizeof county,
             "[limits]\nmax_frame = %d\n[link]\nidle_timeout = %dms\nheartbeat = 300ms\n", MAX_FRAME,
             IDLE_MS);
    snprintf(relay, sizeof relay,
             "[link]\nmax_frame = %d\nidle_timeout = %dms\nheartbeat = 300ms\n", MAX_FRAME,
             IDLE_MS);
    if (sj_test_tiers_configure(&W.t, W.conninfo, county, relay) != 0 ||
        sj_test_tiers_start(&W.t) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    /* Both stop cleanly on SIGTERM: exit 0, which under ASan also means no leak. */
    if (W.db)
        PQfinish(W.db);
    return sj_test_tiers_finish(&W.t, "SANJI_HOSTILE_KEEP");
}

/* ---- the two targets ---------------------------------------------------------------- */

/* A daemon and the valid certificate the attacker holds there. */
typedef struct target {
    bool county;
    const char *cert;
    sj_node_role role;
    const char *node;
} target;

static const target RELAY_T = {false, "village", SJ_NODE_ROLE_RELAY, "relay:" TX};
static const target COUNTY_T = {true, "relay", SJ_NODE_ROLE_COUNTY, "county:" CO};
static const target DESK_T = {true, "county-desk", SJ_NODE_ROLE_COUNTY, "county:" CO};

static int target_port(const target *t)
{
    return t->county ? W.t.county_port : W.t.relay_port;
}

static void open_or_fail(atk *a, const target *t)
{
    int rc = atk_open(a, target_port(t), t->cert, t->role, t->node);
    if (rc != 0)
        fail_msg("%s not admitted: %s", t->cert, sj_err_name(rc));
}

/* Opens, says Hello and waits for the Welcome. */
static void open_session(atk *a, const target *t)
{
    open_or_fail(a, t);
    atk_hello(a);
    if (!atk_until(a, has_welcome, NULL, SJ_TEST_HANG_MS))
        fail_msg("%s got no Welcome", t->cert);
}

/* ---- 1-3: framing -------------------------------------------------------------------- */

/* Opens a link (with a session when asked), sends raw bytes, and expects
 * the daemon to end the link with a Goodbye carrying want, to log it and
 * to store nothing.  Returns how long the link lasted, from before it was
 * opened (ms): the daemon received everything it got after that moment,
 * so an idle timer of its can only have fired link.idle_timeout after it,
 * however slow the machine. */
static long raw_attack(const target *t, bool session, const void *bytes, size_t n, int want)
{
    before b = mark();
    int64_t t0 = now_ms();
    atk a;
    if (session)
        open_session(&a, t);
    else
        open_or_fail(&a, t);
    atk_raw(&a, bytes, n);
    atk_wait_closed(&a);
    long took = (long)(now_ms() - t0);
    assert_code(atk_goodbye(&a), want);
    atk_free(&a);
    after_attack(&b, t->county, sj_err_name(want), 0);
    return took;
}

/* Bytes that are not a frame: the first four read as a length of about
 * 1.2 GB, so the link ends with FRAME_TOO_LARGE. */
static void garbage(const target *t)
{
    static const char junk[] = "GARBAGE \x01\x02\x03 not a Sanji frame at all \xff\xfe";
    raw_attack(t, false, junk, sizeof junk - 1, SJ_EFRAME_TOO_LARGE);
}

/* A header one byte over link.max_frame and a few body bytes: refused from
 * the header, without waiting for the body.  The body never comes, so a
 * daemon that waited for it could only end the link at link.idle_timeout,
 * with IDLE: the Goodbye's FRAME_TOO_LARGE is what shows it did not wait
 * (how soon it came depends on the machine, not on the daemon). */
static void oversized(const target *t)
{
    uint8_t hdr[SJ_FRAME_HEADER_SIZE + 8] = {0};
    sj_frame_header_put(hdr, MAX_FRAME + 1);
    memset(hdr + SJ_FRAME_HEADER_SIZE, 'x', 8);
    raw_attack(t, false, hdr, sizeof hdr, SJ_EFRAME_TOO_LARGE);
}

/* Half a frame, then silence: closed at link.idle_timeout with IDLE, not
 * before it (a lower bound: a loaded machine only makes the close later),
 * and not never. */
static void truncated(const target *t)
{
    uint8_t part[SJ_FRAME_HEADER_SIZE + 10];
    sj_frame_header_put(part, 200);
    memset(part + SJ_FRAME_HEADER_SIZE, 0x0a, 10);
    long took = raw_attack(t, true, part, sizeof part, SJ_EIDLE);
    /* 50 ms: the daemon's clock counts whole milliseconds. */
    if (took < IDLE_MS - 50)
        fail_msg("closed %ld ms after the link was opened, before link.idle_timeout (%d ms)",
                 took, IDLE_MS);
}

/* ---- 4: malformed Envelopes ------------------------------------------------------------ */

/* A well-framed payload that is not an Envelope. */
static void not_envelope(const target *t)
{
    uint8_t f[SJ_FRAME_HEADER_SIZE + 24];
    sj_frame_header_put(f, 24);
    memset(f + SJ_FRAME_HEADER_SIZE, 0xff, 24);
    raw_attack(t, false, f, sizeof f, SJ_EFRAME_DECODE);
}

/* Valid protobuf, but version 2 (version) or no body (no_body). */
static void bad_envelope(const target *t, bool no_body)
{
    before b = mark();
    atk a;
    open_or_fail(&a, t);
    uint8_t id[16];
    sj_uuid_v7(id);
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = 1;
    h.max_version = 2;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.version = no_body ? 1 : 2;
    env.message_id = (ProtobufCBinaryData){16, id};
    env.sender_node = a.node;
    env.sent_at_ms = sj_clock_real_ms();
    if (!no_body) {
        env.body_case = SANJI__ENVELOPE__BODY_HELLO;
        env.hello = &h;
    }
    atk_send_unchecked(&a, &env);
    atk_wait_closed(&a);
    int want = no_body ? SJ_EFRAME_NO_BODY : SJ_EFRAME_BAD_VERSION;
    assert_code(atk_goodbye(&a), want);
    atk_free(&a);
    after_attack(&b, t->county, sj_err_name(want), 0);
}

/* An upward message whose Envelope names another sender than the
 * certificate: refused, not stored, the link stays up. */
static void wrong_sender(const target *t, const char *sender, int want)
{
    before b = mark();
    atk a;
    open_session(&a, t);
    Sanji__Envelope env;
    Sanji__CaseSubmit s;
    Sanji__Applicant ap;
    uint8_t cid[16], mid[16];
    submit_env(&env, &s, &ap, cid, "冒名提交");
    env.sender_node = (char *)sender;
    if (strncmp(sender, "township-desk:", 14) == 0)
        s.actor_person = "p-" TX "-01"; /* the desk's own person: a full disguise */
    atk_send(&a, &env, mid);
    const Sanji__Ack *k = atk_wait_final(&a, mid);
    if (k->status != SANJI__ACK_STATUS__ACK_STATUS_REFUSED || k->code != want)
        fail_msg("sender %s: got status %d %s (%s), want REFUSED %s", sender, k->status,
                 sj_err_name(k->code), k->reason, sj_err_name(want));
    for (size_t i = 0; i < a.n; i++) {
        const Sanji__Ack *s2 = a.msgs[i]->ack;
        if (a.msgs[i]->body_case == SANJI__ENVELOPE__BODY_ACK &&
            s2->status == SANJI__ACK_STATUS__ACK_STATUS_STORED && s2->message_id.len == 16 &&
            memcmp(s2->message_id.data, mid, 16) == 0)
            fail_msg("sender %s: the relay stored the message before refusing it", sender);
    }
    assert_false(a.eof);
    atk_free(&a);
    after_attack(&b, t->county, sj_err_name(want), 0);
    assert_int_equal(pgt_count(W.db, "case_event WHERE actor_node LIKE 'township-desk:%'"), 0);
}

/* ---- 5: out of order ---------------------------------------------------------------------- */

typedef enum order_attack { BEFORE_HELLO, HELLO_TWICE, WELCOME_UP, FEED_UP } order_attack;

static void out_of_order(const target *t, order_attack kind)
{
    before b = mark();
    atk a;
    if (kind == BEFORE_HELLO)
        open_or_fail(&a, t);
    else
        open_session(&a, t);
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    Sanji__CaseSubmit s;
    Sanji__Applicant ap;
    uint8_t cid[16];
    Sanji__Welcome w = SANJI__WELCOME__INIT;
    Sanji__FeedUpdate fu = SANJI__FEED_UPDATE__INIT;
    switch (kind) {
    case BEFORE_HELLO:
        submit_env(&env, &s, &ap, cid, "未握手先提交");
        break;
    case HELLO_TWICE:
        atk_hello(&a);
        break;
    case WELCOME_UP:
        w.version = 1;
        w.node = "county:" CO;
        env.body_case = SANJI__ENVELOPE__BODY_WELCOME;
        env.welcome = &w;
        break;
    case FEED_UP:
        fu.village = VA;
        fu.seq = 999999;
        fu.caught_up = true;
        env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
        env.feed_update = &fu;
        break;
    }
    if (kind != HELLO_TWICE)
        atk_send(&a, &env, NULL);
    atk_wait_closed(&a);
    assert_code(atk_goodbye(&a), SJ_EPROTOCOL);
    atk_free(&a);
    after_attack(&b, t->county, "PROTOCOL", 0);
}

/* ---- 6: replay and stale version ------------------------------------------------------------ */

/* The same CaseSubmit (same message id) twice, the second on a new link
 * after the first was applied: one case, and the original answer again. */
static void replay(const target *t)
{
    atk a;
    open_session(&a, t);
    Sanji__Envelope env;
    Sanji__CaseSubmit s;
    Sanji__Applicant ap;
    uint8_t cid[16], mid[16];
    submit_env(&env, &s, &ap, cid, "重放测试");
    if (t->county) /* forwarded by a relay: the original sender is a station */
        env.sender_node = "village:" VA;
    atk_send(&a, &env, mid);
    const Sanji__Ack *k = atk_wait_final(&a, mid);
    assert_int_equal(k->status, SANJI__ACK_STATUS__ACK_STATUS_APPLIED);
    char number[64];
    snprintf(number, sizeof number, "%s", k->case_number);
    uint64_t version = k->case_version;
    atk_free(&a);

    before b = mark();
    open_session(&a, t);
    env.message_id = (ProtobufCBinaryData){16, mid};
    atk_send(&a, &env, NULL);
    k = atk_wait_final(&a, mid);
    if (k->status != SANJI__ACK_STATUS__ACK_STATUS_APPLIED || strcmp(k->case_number, number) != 0 ||
        k->case_version != version)
        fail_msg("replay answered %d %s v%llu, want the original APPLIED %s v%llu", k->status,
                 k->case_number, (unsigned long long)k->case_version, number,
                 (unsigned long long)version);
    atk_free(&a);
    after_attack(&b, t->county, "", 0);
    char sql[256], hex[33];
    sj_test_hex16_format(cid, hex);
    snprintf(sql, sizeof sql, "cases WHERE case_id = '%s'", hex);
    assert_int_equal(pgt_count(W.db, sql), 1);
    snprintf(sql, sizeof sql, "case_event WHERE case_id = '%s'", hex);
    assert_int_equal(pgt_count(W.db, sql), 1);
}

/* An action against version 1 of a case already at version 2: refused
 * with STALE_VERSION and the current case. */
static void stale(const target *t)
{
    uint8_t cid[16];
    honest_case(cid);
    atk a;
    open_session(&a, t);
    const char *sender = t->county ? "village:" VA : NULL;
    Sanji__Envelope env;
    Sanji__CaseAction ca;
    uint8_t mid[16];
    action_env(&env, &ca, cid, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE, 1);
    env.sender_node = (char *)sender;
    atk_send(&a, &env, mid);
    const Sanji__Ack *k = atk_wait_final(&a, mid);
    assert_int_equal(k->status, SANJI__ACK_STATUS__ACK_STATUS_APPLIED);
    assert_int_equal(k->case_version, 2);
    atk_free(&a);

    before b = mark();
    open_session(&a, t);
    action_env(&env, &ca, cid, SANJI__CASE_ACTION_TYPE__CASE_ACTION_WITHDRAW, 1);
    env.sender_node = (char *)sender;
    atk_send(&a, &env, mid);
    k = atk_wait_final(&a, mid);
    if (k->status != SANJI__ACK_STATUS__ACK_STATUS_REFUSED || k->code != SJ_ESTALE_VERSION)
        fail_msg("old version: got %d %s (%s), want REFUSED STALE_VERSION", k->status,
                 sj_err_name(k->code), k->reason);
    assert_non_null(k->current);
    assert_int_equal(k->current->version, 2);
    atk_free(&a);
    /* The refusal is the message's recorded result (its dedup row), nothing else. */
    after_attack(&b, t->county, "", 1);
}

/* ---- 7: no certificate, no TLS ------------------------------------------------------------- */

static void no_certificate(const target *t)
{
    before b = mark();
    atk a;
    int rc = atk_open(&a, target_port(t), NULL, t->role, t->node);
    if (rc == 0) {
        /* TLS 1.3: the client's handshake ends before the server judged it;
         * the refusal comes as an alert on the first read. */
        atk_until(&a, NULL, NULL, SJ_TEST_HANG_MS);
        rc = a.tls_err;
    }
    assert_code(rc, SJ_ETLS_NO_CERT);
    if (!a.eof)
        atk_wait_closed(&a);
    assert_int_equal(a.n, 0);
    atk_free(&a);
    after_attack(&b, t->county, "TLS_NO_CERT", 0);
}

static void plain_http(const target *t)
{
    before b = mark();
    int fd = tcp_connect(target_port(t));
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88\r\n\r\n";
    assert_int_equal(send(fd, req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
    /* Closed (perhaps after a TLS alert), never an HTTP answer, never a hang. */
    int64_t end = now_ms() + SJ_TEST_HANG_MS;
    size_t got = 0;
    char buf[4096];
    bool closed = false;
    while (!closed && now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(end - now_ms())) <= 0)
            break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            closed = true;
        else
            got += (size_t)n;
    }
    close(fd);
    if (!closed)
        fail_msg("the daemon kept a plain-TCP HTTP client connected for %d ms", SJ_TEST_HANG_MS);
    assert_true(got < 64); /* at most a TLS alert record */
    after_attack(&b, t->county, "TLS_HANDSHAKE", 0);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_relay_garbage(void **st) { (void)st; garbage(&RELAY_T); }
static void test_county_garbage(void **st) { (void)st; garbage(&COUNTY_T); }
static void test_relay_oversized_header(void **st) { (void)st; oversized(&RELAY_T); }
static void test_county_oversized_header(void **st) { (void)st; oversized(&COUNTY_T); }
static void test_relay_truncated_then_silent(void **st) { (void)st; truncated(&RELAY_T); }
static void test_county_truncated_then_silent(void **st) { (void)st; truncated(&COUNTY_T); }
static void test_relay_not_an_envelope(void **st) { (void)st; not_envelope(&RELAY_T); }
static void test_county_not_an_envelope(void **st) { (void)st; not_envelope(&COUNTY_T); }
static void test_relay_unknown_version(void **st) { (void)st; bad_envelope(&RELAY_T, false); }
static void test_county_unknown_version(void **st) { (void)st; bad_envelope(&COUNTY_T, false); }
static void test_relay_no_body(void **st) { (void)st; bad_envelope(&RELAY_T, true); }
static void test_county_no_body(void **st) { (void)st; bad_envelope(&DESK_T, true); }

/* A station posing as its township's desk (it could act as the township). */
static void test_relay_sender_not_certificate(void **st)
{
    (void)st;
    wrong_sender(&RELAY_T, "township-desk:" TX, SJ_EPROTOCOL);
}

/* A county desk naming another node (a village) as the sender: the desk
 * itself is the only sender its link may carry. */
static void test_county_desk_sender_not_certificate(void **st)
{
    (void)st;
    wrong_sender(&DESK_T, "village:" VA, SJ_EPROTOCOL);
}

/* A relay forwarding for a station of another township, or for a relay. */
static void test_county_sender_outside_relay(void **st)
{
    (void)st;
    wrong_sender(&COUNTY_T, "village:410423102201", SJ_ESCOPE);
    wrong_sender(&COUNTY_T, "relay:410423102000", SJ_EWRONG_ROLE);
}

static void test_relay_message_before_hello(void **st) { (void)st; out_of_order(&RELAY_T, BEFORE_HELLO); }
static void test_county_message_before_hello(void **st) { (void)st; out_of_order(&COUNTY_T, BEFORE_HELLO); }
static void test_relay_second_hello(void **st) { (void)st; out_of_order(&RELAY_T, HELLO_TWICE); }
static void test_county_second_hello(void **st) { (void)st; out_of_order(&DESK_T, HELLO_TWICE); }
static void test_relay_welcome_upward(void **st) { (void)st; out_of_order(&RELAY_T, WELCOME_UP); }
static void test_county_welcome_upward(void **st) { (void)st; out_of_order(&COUNTY_T, WELCOME_UP); }
static void test_relay_feed_update_upward(void **st) { (void)st; out_of_order(&RELAY_T, FEED_UP); }
static void test_county_feed_update_upward(void **st) { (void)st; out_of_order(&COUNTY_T, FEED_UP); }
static void test_relay_replay(void **st) { (void)st; replay(&RELAY_T); }
static void test_county_replay(void **st) { (void)st; replay(&COUNTY_T); }
static void test_relay_stale_version(void **st) { (void)st; stale(&RELAY_T); }
static void test_county_stale_version(void **st) { (void)st; stale(&COUNTY_T); }
static void test_relay_no_certificate(void **st) { (void)st; no_certificate(&RELAY_T); }
static void test_county_no_certificate(void **st) { (void)st; no_certificate(&COUNTY_T); }
static void test_relay_plain_http(void **st) { (void)st; plain_http(&RELAY_T); }
static void test_county_plain_http(void **st) { (void)st; plain_http(&COUNTY_T); }

/* Last, the real station program: `sanji` logs in at the relay and
 * registers a case that the county records. */
static void test_real_station_after_attacks(void **st)
{
    (void)st;
    before b = mark();
    assert_int_equal(sj_test_write_file(W.t.certs.dir, "v201.conf",
                                        "[node]\ncert = village.crt\nkey = village.key\n"
                                        "ca = ca/ca.crt\n"
                                        "[server]\naddress = 127.0.0.1:%d\npeer = relay:" TX "\n"
                                        "[store]\npath = v201.db\n",
                                        W.t.relay_port),
                     0);
    setenv("SANJI_PASSWORD", "sanji123", 1);
    char cmd[PATH_MAX * 4], out[8192];
    int rc = -1;
    /* The first log-in needs the person list, which the relay may still be
     * fetching: tried until it works, or until a hang is plain. */
    for (int64_t end = now_ms() + SJ_TEST_HANG_MS; rc != 0 && now_ms() < end;) {
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --config v201.conf --json login " PERSON
                 " >/dev/null 2>>cli.log || { '%s' --config v201.conf --json sync --wait 1 "
                 ">/dev/null 2>>cli.log; exit 1; }",
                 W.t.certs.dir, W.t.cli, W.t.cli);
        rc = system(cmd);
    }
    if (rc != 0)
        fail_msg("sanji login failed; see %s/cli.log", W.t.certs.dir);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' --config v201.conf --json register --item MZ-001 --name %s "
             "--id %s --phone %s --text '攻击之后照常登记' --wait-applied --wait %d 2>>cli.log",
             W.t.certs.dir, W.t.cli, APPLICANT_NAME, APPLICANT_ID, APPLICANT_PHONE,
             SJ_TEST_HANG_MS / 1000);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int status = pclose(f);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !strstr(out, "\"state\":\"applied\""))
        fail_msg("sanji register: status %d: %s", status, out);
    assert_int_equal(pgt_count(W.db, "cases"), b.c.cases + 1);
    assert_int_equal(pgt_count(W.db, "case_event"), b.c.events + 1);
}

/* The first honest case also waits for the relay's county link. */
/* ---- bounds on what one peer can make the county hold ------------------------- */

/* How much the county's resident memory may grow under a flood.  Under
 * AddressSanitizer freed blocks wait in its quarantine (up to 256 MiB)
 * instead of being reused, so every allocation made while answering
 * shows; the plain build's figure is the one that says "flat". */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLOOD_RSS_SLACK_KIB (256 * 1024)
#endif
#endif
#ifndef FLOOD_RSS_SLACK_KIB
#define FLOOD_RSS_SLACK_KIB (32 * 1024)
#endif

/* The county's resident memory, KiB (0 when unreadable). */
static long county_rss_kib(void)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)W.t.county.pid);
    FILE *f = fopen(path, "r");
    long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static size_t count_results(atk *a, int code)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->msgs[i]->body_case == SANJI__ENVELOPE__BODY_QUERY_RESULT &&
            (code == 1 || a->msgs[i]->query_result->code == code))
            n++;
    return n;
}

static bool has_results(atk *a, const void *arg)
{
    return count_results(a, 1) >= *(const size_t *)arg;
}

/* Sends a query for a case number nobody has: cheap to answer. */
static void ask_unknown_case(atk *a)
{
    Sanji__CaseGetQuery g = SANJI__CASE_GET_QUERY__INIT;
    g.number = "410423-20990101-00001";
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_CASE_GET;
    q.case_get = &g;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_QUERY;
    env.query = &q;
    atk_send(a, &env, NULL);
}

/* A county desk sends 1,500 queries at once: at most 512 of one session go
 * to the query worker, the rest are answered BUSY at once; every query gets
 * an answer, the county's memory does not grow with the flood, and honest
 * peers are served.  (A slower worker only means more BUSY answers.) */
static void test_county_query_flood_bounded(void **st)
{
    (void)st;
    before b = mark();
    atk a;
    open_session(&a, &DESK_T);
    long rss0 = county_rss_kib();
    enum { FLOOD = 1500 };
    for (int i = 0; i < FLOOD; i++)
        ask_unknown_case(&a);
    size_t want = FLOOD;
    a.keepalive = true;
    if (!atk_until(&a, has_results, &want, SJ_TEST_HANG_MS))
        fail_msg("%zu of %d queries answered", count_results(&a, 1), FLOOD);
    size_t busy = count_results(&a, SJ_EBUSY);
    long rss1 = county_rss_kib();
    print_message("%d queries: %zu answered BUSY; county RSS %ld -> %ld KiB\n", FLOOD, busy, rss0,
                  rss1);
    assert_true(busy > 0);
    assert_true(rss1 - rss0 < FLOOD_RSS_SLACK_KIB);
    atk_free(&a);
    after_attack(&b, true, "peer connected", 0);
}

/* Opens links[i] as open_session() does while links[0..i-1] keep saying
 * something every KEEPALIVE_MS, so that none of them ends at the idle
 * timeout however long the new one takes. */
static void open_session_keeping(atk *links, int i, const target *t)
{
    open_or_fail(&links[i], t);
    atk_hello(&links[i]);
    int64_t end = now_ms() + SJ_TEST_HANG_MS;
    for (;;) {
        for (int j = 0; j < i; j++)
            if (!links[j].eof)
                atk_heartbeat(&links[j]);
        if (has_welcome(&links[i], NULL))
            return;
        if (now_ms() >= end)
            fail_msg("%s got no Welcome", t->cert);
        atk_until(&links[i], has_welcome, NULL, KEEPALIVE_MS);
    }
}

/* One node opening link after link: the county keeps at most 4 links of a
 * node; each further one replaces the node's oldest, which is told BUSY,
 * and the newest still answer. */
static void test_county_links_per_node_capped(void **st)
{
    (void)st;
    before b = mark();
    static atk links[6];
    for (int i = 0; i < 6; i++)
        open_session_keeping(links, i, &DESK_T);
    for (int i = 0; i < 2; i++) {
        atk_wait_closed(&links[i]);
        assert_code(atk_goodbye(&links[i]), SJ_EBUSY);
    }
    for (int i = 2; i < 6; i++) {
        ask_unknown_case(&links[i]);
        size_t want = 1;
        links[i].keepalive = true;
        if (!atk_until(&links[i], has_results, &want, SJ_TEST_HANG_MS))
            fail_msg("link %d of the node was not served (ended: %d)", i, links[i].eof);
    }
    for (int i = 0; i < 6; i++)
        atk_free(&links[i]);
    after_attack(&b, true, "too many links of one node", 0);
}

static void test_honest_station_first(void **st)
{
    (void)st;
    honest_case(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_honest_station_first),
        cmocka_unit_test(test_relay_garbage),
        cmocka_unit_test(test_county_garbage),
        cmocka_unit_test(test_relay_oversized_header),
        cmocka_unit_test(test_county_oversized_header),
        cmocka_unit_test(test_relay_truncated_then_silent),
        cmocka_unit_test(test_county_truncated_then_silent),
        cmocka_unit_test(test_relay_not_an_envelope),
        cmocka_unit_test(test_county_not_an_envelope),
        cmocka_unit_test(test_relay_unknown_version),
        cmocka_unit_test(test_county_unknown_version),
        cmocka_unit_test(test_relay_no_body),
        cmocka_unit_test(test_county_no_body),
        cmocka_unit_test(test_relay_sender_not_certificate),
        cmocka_unit_test(test_county_sender_outside_relay),
        cmocka_unit_test(test_county_desk_sender_not_certificate),
        cmocka_unit_test(test_relay_message_before_hello),
        cmocka_unit_test(test_county_message_before_hello),
        cmocka_unit_test(test_relay_second_hello),
        cmocka_unit_test(test_county_second_hello),
        cmocka_unit_test(test_relay_welcome_upward),
        cmocka_unit_test(test_county_welcome_upward),
        cmocka_unit_test(test_relay_feed_update_upward),
        cmocka_unit_test(test_county_feed_update_upward),
        cmocka_unit_test(test_relay_replay),
        cmocka_unit_test(test_county_replay),
        cmocka_unit_test(test_relay_stale_version),
        cmocka_unit_test(test_county_stale_version),
        cmocka_unit_test(test_relay_no_certificate),
        cmocka_unit_test(test_county_no_certificate),
        cmocka_unit_test(test_relay_plain_http),
        cmocka_unit_test(test_county_plain_http),
        cmocka_unit_test(test_county_query_flood_bounded),
        cmocka_unit_test(test_county_links_per_node_capped),
        cmocka_unit_test(test_real_station_after_attacks),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
