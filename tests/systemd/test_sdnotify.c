/*
 * test_sdnotify.c - the daemons talk to systemd (common/base/sdnotify.h): the
 * real sanji-countyd (on a private PostgreSQL) and sanji-relayd are started
 * with NOTIFY_SOCKET naming a Unix datagram socket this test owns, as
 * systemd starts a Type=notify unit, and the test reads what they send:
 *
 *   READY=1 (with a STATUS=), and by then the port accepts connections;
 *   WATCHDOG=1 again and again when WATCHDOG_USEC is set, never when it is
 *   not or when WATCHDOG_PID names another process;
 *   RELOADING=1 (with MONOTONIC_USEC=) and then READY=1 on SIGHUP;
 *   STOPPING=1 on SIGTERM, then a clean exit;
 *   EXTEND_TIMEOUT_USEC= with a STATUS= while the county waits for a
 *   database that is not there yet.
 *
 * Nothing is timed: each message is waited for, failing only at
 * SJ_TEST_HANG_MS (proc.h).  That no WATCHDOG=1 comes without a watchdog is
 * checked over the whole run of the daemon, which proves it whatever the
 * machine's speed.
 *
 * Entry point: main().  The county's database and both configurations are
 * made once (group setup, tests/lib/tiers.h); each test starts its daemon.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "clock.h"
#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define MAX_MSGS 4096

/* Every datagram a daemon sent, in order. */
typedef struct notify {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char *msgs[MAX_MSGS];
    size_t n;
} notify;

static struct {
    sj_test_tiers t;
    char conninfo[512];
} W;

static void notify_open(notify *s, const char *name)
{
    memset(s, 0, sizeof *s);
    int n = snprintf(s->path, sizeof s->path, "%s/%s", W.t.certs.dir, name);
    if (n < 0 || (size_t)n >= sizeof s->path)
        fail_msg("socket path %s/%s is too long", W.t.certs.dir, name);
    s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, s->path, strlen(s->path) + 1);
    unlink(s->path);
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail_msg("bind %s: %s", s->path, strerror(errno));
}

static void notify_close(notify *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->msgs[i]);
    close(s->fd);
    unlink(s->path);
    memset(s, 0, sizeof *s);
}

/* True when message m has the line `line` ("READY=1") or, for a line that
 * ends in '=', a line starting with it ("STATUS="). */
static bool has_line(const char *m, const char *line)
{
    size_t len = strlen(line);
    bool prefix = len > 0 && line[len - 1] == '=';
    for (const char *p = m; *p;) {
        size_t l = strcspn(p, "\n");
        if (prefix ? (l >= len && strncmp(p, line, len) == 0)
                   : (l == len && strncmp(p, line, len) == 0))
            return true;
        p += l;
        if (*p == '\n')
            p++;
    }
    return false;
}

/* All messages so far, for a failure message. */
static const char *transcript(const notify *s)
{
    static char buf[8192];
    size_t off = 0;
    buf[0] = '\0';
    size_t first = s->n > 40 ? s->n - 40 : 0;
    for (size_t i = first; i < s->n && off < sizeof buf; i++) {
        int w = snprintf(buf + off, sizeof buf - off, "  [%zu] %s\n", i, s->msgs[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    return buf;
}

/* Reads datagrams until one at index >= from has line `line`; returns its
 * index.  Fails the test at SJ_TEST_HANG_MS, or at once when p exits. */
static size_t wait_for(notify *s, size_t from, const char *line, sj_test_proc *p)
{
    for (size_t i = from; i < s->n; i++)
        if (has_line(s->msgs[i], line))
            return i;
    int64_t deadline = sj_clock_mono_ms() + SJ_TEST_HANG_MS;
    for (;;) {
        int64_t left = deadline - sj_clock_mono_ms();
        if (left <= 0)
            fail_msg("no %s from the daemon in %d ms; it sent:\n%s", line, SJ_TEST_HANG_MS,
                     transcript(s));
        struct pollfd pf = {.fd = s->fd, .events = POLLIN};
        int r = poll(&pf, 1, left > 200 ? 200 : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r >= 0);
        if (r == 0) {
            if (p != NULL && !sj_test_proc_alive(p)) {
                char tail[2048];
                fail_msg("the daemon exited before it sent %s; it sent:\n%s\nits log ends:\n%s",
                         line, transcript(s), sj_test_proc_log_tail(p, tail, sizeof tail));
            }
            continue;
        }
        char buf[4096];
        ssize_t n = recv(s->fd, buf, sizeof buf - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        buf[n] = '\0';
        if (s->n == MAX_MSGS)
            fail_msg("more than %d messages", MAX_MSGS);
        s->msgs[s->n] = strdup(buf);
        assert_non_null(s->msgs[s->n]);
        if (has_line(buf, line))
            return s->n++;
        s->n++;
    }
}

/* Reads what is queued on the socket now, without waiting. */
static void drain(notify *s)
{
    char buf[4096];
    ssize_t n;
    while ((n = recv(s->fd, buf, sizeof buf - 1, MSG_DONTWAIT)) >= 0) {
        buf[n] = '\0';
        if (s->n == MAX_MSGS)
            fail_msg("more than %d messages", MAX_MSGS);
        s->msgs[s->n] = strdup(buf);
        assert_non_null(s->msgs[s->n]);
        s->n++;
    }
}

static size_t count_line(const notify *s, const char *line)
{
    size_t c = 0;
    for (size_t i = 0; i < s->n; i++)
        c += has_line(s->msgs[i], line);
    return c;
}

/* Starts `program --config conf run` of the build with env (NOTIFY_SOCKET
 * and more), output in log. */
static void start(sj_test_proc *p, const char *program, const char *conf, const char *const env[],
                  const char *log)
{
    char bin[PATH_MAX];
    int n = snprintf(bin, sizeof bin, "%.*s/%s", (int)(sizeof bin / 2), W.t.build, program);
    if (n < 0 || (size_t)n >= sizeof bin)
        fail_msg("path of %s too long", program);
    const char *argv[] = {bin, "--config", conf, "run", NULL};
    sj_error err;
    if (sj_test_proc_start(p, argv, env, log, &err) != 0)
        fail_msg("cannot start %s: %s", bin, err.message);
}

/* SIGTERM: STOPPING=1, then exit 0 (under ASan: and no leak). */
static void stop_clean(notify *s, sj_test_proc *p)
{
    assert_int_equal(sj_test_proc_signal(p, SIGTERM), 0);
    wait_for(s, 0, "STOPPING=1", p);
    sj_error err;
    if (sj_test_proc_wait(p, SJ_TEST_HANG_MS, &err) != 0)
        fail_msg("the daemon did not exit after SIGTERM: %s", err.message);
    char st[128], tail[2048];
    if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != 0)
        fail_msg("the daemon ended with %s; its log ends:\n%s",
                 sj_test_proc_status_text(p->status, st, sizeof st),
                 sj_test_proc_log_tail(p, tail, sizeof tail));
}

/* The whole conversation of one daemon under a watchdog: ready when the
 * port accepts, pings, a reload, a clean stop. */
static void ready_watchdog_reload_stop(const char *program, const char *conf, int port,
                                       const char *sockname, const char *logname)
{
    notify s;
    notify_open(&s, sockname);
    char ns[sizeof s.path + 32], log[PATH_MAX];
    snprintf(ns, sizeof ns, "NOTIFY_SOCKET=%s", s.path);
    snprintf(log, sizeof log, "%s/%s", W.t.certs.dir, logname);
    /* 400 ms: a ping every 200 ms, so the test sees several soon; nothing
     * here fails if they come late. */
    const char *env[] = {ns, "WATCHDOG_USEC=400000", NULL};
    sj_test_proc p = {0};
    start(&p, program, conf, env, log);

    size_t ready = wait_for(&s, 0, "READY=1", &p);
    /* READY=1 is sent after the listener is up, so the port accepts now. */
    if (!sj_test_proc_port_accepts(port))
        fail_msg("READY=1 came but 127.0.0.1:%d does not accept", port);
    if (!has_line(s.msgs[ready], "STATUS="))
        fail_msg("READY=1 without STATUS=: %s", s.msgs[ready]);

    size_t w1 = wait_for(&s, ready + 1, "WATCHDOG=1", &p);
    wait_for(&s, w1 + 1, "WATCHDOG=1", &p);

    assert_int_equal(sj_test_proc_signal(&p, SIGHUP), 0);
    size_t reloading = wait_for(&s, ready + 1, "RELOADING=1", &p);
    if (!has_line(s.msgs[reloading], "MONOTONIC_USEC="))
        fail_msg("RELOADING=1 without MONOTONIC_USEC=: %s", s.msgs[reloading]);
    wait_for(&s, reloading + 1, "READY=1", &p);
    /* Still pinging after the reload. */
    wait_for(&s, reloading + 1, "WATCHDOG=1", &p);

    stop_clean(&s, &p);
    sj_test_proc_free(&p);
    notify_close(&s);
}

static void test_county_ready_watchdog_reload(void **state)
{
    (void)state;
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/county.conf", W.t.certs.dir);
    ready_watchdog_reload_stop("server/sanji-countyd", conf, W.t.county_port, "county.sock",
                               "countyd-notify.log");
}

static void test_relay_ready_watchdog_reload(void **state)
{
    (void)state;
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/relay.conf", W.t.certs.dir);
    ready_watchdog_reload_stop("relay/sanji-relayd", conf, W.t.relay_port, "relay.sock",
                               "relayd-notify.log");
}

/* Without WATCHDOG_USEC, or with WATCHDOG_PID naming another process, a
 * daemon is ready, reloads and stops, and never sends WATCHDOG=1. */
static void no_watchdog(const char *const extra_env[], const char *logname)
{
    notify s;
    notify_open(&s, "relay-nowd.sock");
    char ns[sizeof s.path + 32], conf[PATH_MAX], log[PATH_MAX];
    snprintf(ns, sizeof ns, "NOTIFY_SOCKET=%s", s.path);
    snprintf(conf, sizeof conf, "%s/relay.conf", W.t.certs.dir);
    snprintf(log, sizeof log, "%s/%s", W.t.certs.dir, logname);
    const char *env[4] = {ns, extra_env[0], extra_env[0] ? extra_env[1] : NULL, NULL};
    sj_test_proc p = {0};
    start(&p, "relay/sanji-relayd", conf, env, log);
    size_t ready = wait_for(&s, 0, "READY=1", &p);
    assert_int_equal(sj_test_proc_signal(&p, SIGHUP), 0);
    size_t reloading = wait_for(&s, ready + 1, "RELOADING=1", &p);
    wait_for(&s, reloading + 1, "READY=1", &p);
    stop_clean(&s, &p);
    drain(&s);
    if (count_line(&s, "WATCHDOG=1") != 0)
        fail_msg("WATCHDOG=1 sent without a watchdog asked for:\n%s", transcript(&s));
    sj_test_proc_free(&p);
    notify_close(&s);
}

static void test_relay_no_watchdog_unless_asked(void **state)
{
    (void)state;
    const char *none[] = {NULL, NULL};
    no_watchdog(none, "relayd-nowd.log");
    /* pid 1 is never the relay: the watchdog is another process's. */
    const char *other[] = {"WATCHDOG_USEC=400000", "WATCHDOG_PID=1"};
    no_watchdog(other, "relayd-otherpid.log");
}

/* A county whose database is not up yet asks systemd to wait for it. */
static void test_county_waiting_for_database(void **state)
{
    (void)state;
    notify s;
    notify_open(&s, "county-wait.sock");
    int db_port = sj_test_proc_free_port();
    assert_true(db_port > 0);
    char conf[PATH_MAX], crt[PATH_MAX], key[PATH_MAX], log[PATH_MAX], ns[sizeof s.path + 32];
    /* Nothing listens on db_port: every attempt fails at once. */
    if (sj_test_write_file(W.t.certs.dir, "county-nodb.conf",
                           "[listen]\naddress = \"127.0.0.1:%d\"\n"
                           "[tls]\nca = %s\ncert = %s\nkey = %s\n"
                           "[database]\nconninfo = \"host=127.0.0.1 port=%d dbname=sanji\"\n"
                           "[county]\ncode = \"410423\"\n",
                           W.t.county_port, W.t.certs.ca_file,
                           sj_test_certs_path(&W.t.certs, "county", "crt", crt, sizeof crt),
                           sj_test_certs_path(&W.t.certs, "county", "key", key, sizeof key),
                           db_port) != 0)
        fail_msg("cannot write county-nodb.conf");
    snprintf(conf, sizeof conf, "%s/county-nodb.conf", W.t.certs.dir);
    snprintf(log, sizeof log, "%s/countyd-nodb.log", W.t.certs.dir);
    snprintf(ns, sizeof ns, "NOTIFY_SOCKET=%s", s.path);
    const char *env[] = {ns, NULL};
    sj_test_proc p = {0};
    start(&p, "server/sanji-countyd", conf, env, log);
    size_t i = wait_for(&s, 0, "EXTEND_TIMEOUT_USEC=", &p);
    if (!has_line(s.msgs[i], "STATUS="))
        fail_msg("EXTEND_TIMEOUT_USEC= without STATUS=: %s", s.msgs[i]);
    /* Not ready while it waits: only a later connection could make it so. */
    drain(&s);
    if (count_line(&s, "READY=1") != 0)
        fail_msg("READY=1 without a database:\n%s", transcript(&s));
    /* It sleeps between attempts with the default signal actions: SIGTERM
     * ends it there, which is all a start that never finished needs. */
    sj_test_proc_free(&p);
    notify_close(&s);
}

/* ---- the network ---------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    /* What an outer service manager may have set must not reach the
     * daemons: each test gives them exactly what it means to. */
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    PGconn *db = pgt_fresh_db("sanji_sdnotify", W.conninfo, sizeof W.conninfo);
    PQfinish(db);
    return sj_test_tiers_configure(&W.t, W.conninfo, NULL, NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return sj_test_tiers_finish(&W.t, "SANJI_SDNOTIFY_KEEP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_ready_watchdog_reload),
        cmocka_unit_test(test_relay_ready_watchdog_reload),
        cmocka_unit_test(test_relay_no_watchdog_unless_asked),
        cmocka_unit_test(test_county_waiting_for_database),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
