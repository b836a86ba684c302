/*
 * test_faultproxy.c - sanji-faultproxy as a real process (started with
 * tests/lib/proc) between a client socket and an echo server on 127.0.0.1:
 * pass echoes every byte, delay adds latency and keeps order, rate limits
 * the bandwidth, reset gives
 * the client ECONNRESET, blackhole stalls and pass recovers, refuse closes
 * new connections, memory stays bounded under a flood, bad control lines
 * are refused, kill -9 and restart work, SIGTERM exits cleanly.
 *
 * The echo server is this program run again with --echo-server PORT (one
 * forked process per connection), so it too is a real process on a real
 * socket.
 *
 * Waits are for the proxy's answers and counters, failing only at
 * SJ_TEST_HANG_MS (proc.h).  Two figures are bounds a slow machine cannot
 * break: a delayed round trip takes at least twice the delay, bytes through
 * a rate take at least their size over the rate, and nothing
 * comes back through a black hole within 300 ms (it never does).
 *
 * Entry point: main() (the cmocka group, or the echo server).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "faultproxy.h"
#include "proc.h"

#define MAX_BUFFER 262144
#define FLOOD_BYTES (50u * 1024u * 1024u)

static char dir[64];
static char self_exe[4096];
static sj_test_proc echo_proc;
static int echo_port;

/* Per test: the proxy process and its ports. */
static sj_test_proc proxy;
static int listen_port, control_port;
static int test_no;

/* ---- the echo server (this program with --echo-server PORT) -------------- */

static int echo_main(int port)
{
    signal(SIGCHLD, SIG_IGN); /* connection processes reap themselves */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 64) < 0) {
        perror("echo server");
        return 1;
    }
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0)
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            close(ls);
            char buf[65536];
            for (;;) {
                ssize_t n = read(c, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    _exit(0);
                for (ssize_t off = 0; off < n;) {
                    ssize_t w = write(c, buf + off, (size_t)(n - off));
                    if (w < 0 && errno == EINTR)
                        continue;
                    if (w <= 0)
                        _exit(0);
                    off += w;
                }
            }
        }
        close(c);
    }
}

/* ---- client sockets --------------------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_timeout(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        fail_msg("connect to 127.0.0.1:%d: %s", port, strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_timeout(fd, SJ_TEST_HANG_MS);
    return fd;
}

static void send_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fail_msg("send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

/* Reads exactly n bytes; returns n, 0 on EOF before that, or -errno. */
static ssize_t recv_exact(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return 0;
        got += (size_t)r;
    }
    return (ssize_t)n;
}

static void assert_echo(int fd, const char *msg)
{
    char buf[256];
    size_t n = strlen(msg);
    send_all(fd, msg, n);
    ssize_t r = recv_exact(fd, buf, n);
    if (r != (ssize_t)n)
        fail_msg("echo of '%s': recv returned %zd (%s)", msg, r,
                 r < 0 ? strerror((int)-r) : "EOF");
    buf[n] = '\0';
    assert_string_equal(buf, msg);
}

/* ---- the control port --------------------------------------------------------- */

/* Sends one command line and returns the reply line (static buffer). */
static const char *ctl(const char *line)
{
    static char reply[SJ_FAULTPROXY_REPLY_MAX + 2];
    int fd = dial(control_port);
    send_all(fd, line, strlen(line));
    send_all(fd, "\n", 1);
    size_t n = 0;
    while (n < sizeof reply - 1) {
        ssize_t r = recv(fd, reply + n, 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            fail_msg("control reply to '%s': %s", line, r < 0 ? strerror(errno) : "EOF");
        if (reply[n] == '\n')
            break;
        n++;
    }
    reply[n] = '\0';
    close(fd);
    return reply;
}

static uint64_t status_field(const char *name)
{
    const char *st = ctl("status");
    char key[64];
    snprintf(key, sizeof key, " %s=", name);
    const char *at = strstr(st, key);
    if (at == NULL)
        fail_msg("status has no %s: %s", name, st);
    return strtoull(at + strlen(key), NULL, 10);
}

/* Polls the proxy's status until the counter name equals want; fails at
 * the hang deadline. */
static void wait_status(const char *name, uint64_t want)
{
    long long deadline = now_ms() + SJ_TEST_HANG_MS;
    uint64_t got;
    while ((got = status_field(name)) != want) {
        if (now_ms() > deadline)
            fail_msg("status %s is %" PRIu64 " after %d ms, want %" PRIu64, name, got,
                     SJ_TEST_HANG_MS, want);
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void assert_ok(const char *line)
{
    const char *r = ctl(line);
    if (strncmp(r, "ok", 2) != 0)
        fail_msg("'%s' replied '%s'", line, r);
}

/* ---- the proxy process ----------------------------------------------------------- */

static void start_proxy_at(int target_port)
{
    listen_port = sj_test_proc_free_port();
    control_port = sj_test_proc_free_port();
    assert_true(listen_port > 0 && control_port > 0);
    char exe[4096], l[16], t[16], c[16], b[16], log[128];
    const char *bin = getenv("SANJI_FAULTPROXY");
    snprintf(exe, sizeof exe, "%s", bin ? bin : "sanji-faultproxy");
    snprintf(l, sizeof l, "%d", listen_port);
    snprintf(t, sizeof t, "%d", target_port);
    snprintf(c, sizeof c, "%d", control_port);
    snprintf(b, sizeof b, "%d", MAX_BUFFER);
    snprintf(log, sizeof log, "%s/proxy-%d.log", dir, ++test_no);
    const char *argv[] = {exe, "--listen", l, "--target", t, "--control", c,
                          "--max-buffer", b, NULL};
    sj_error err;
    if (sj_test_proc_start(&proxy, argv, NULL, log, &err) < 0)
        fail_msg("start proxy: %s", err.message);
    if (sj_test_proc_wait_port(&proxy, control_port, SJ_TEST_HANG_MS, &err) < 0)
        fail_msg("proxy control port: %s", err.message);
}

static int start_proxy(void **state)
{
    start_proxy_at(echo_port);
    return 0;
}

/* Stops the proxy with SIGTERM: it must exit 0, which in the sanitizer
 * build also means no leak and no sanitizer report during the test. */
static int stop_proxy(void **state)
{
    int rc = 0;
    if (sj_test_proc_alive(&proxy)) {
        sj_error err;
        if (sj_test_proc_stop(&proxy, SJ_TEST_HANG_MS, &err) < 0) {
            fprintf(stderr, "stopping the proxy: %s\n", err.message);
            rc = -1;
        } else if (!WIFEXITED(proxy.status) || WEXITSTATUS(proxy.status) != 0) {
            char tail[2000];
            fprintf(stderr, "proxy ended with status 0x%x; log ends:\n%s\n", proxy.status,
                    sj_test_proc_log_tail(&proxy, tail, sizeof tail));
            rc = -1;
        }
    }
    sj_test_proc_free(&proxy);
    return rc;
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long kb = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* Writes up to FLOOD_BYTES without reading anything back, until the socket
 * takes no more and the proxy has held at least held_at_least bytes at
 * once (buffered_peak): the proxy has stopped reading, so the socket stays
 * full.  The proxy's word, not a quiet spell, says when: a proxy kept off
 * the CPU for a while looks quiet too.  Returns the bytes sent. */
static size_t flood(int fd, uint64_t held_at_least)
{
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    size_t sent = 0;
    long long deadline = now_ms() + SJ_TEST_HANG_MS;
    while (sent < FLOOD_BYTES) {
        if (now_ms() > deadline)
            fail_msg("flood: %zu bytes sent, the proxy held at most %" PRIu64 " at once after "
                     "%d ms; want %" PRIu64,
                     sent, status_field("buffered_peak"), SJ_TEST_HANG_MS, held_at_least);
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int r = poll(&pfd, 1, 100);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 && status_field("buffered_peak") >= held_at_least)
            break;
        if (r == 0)
            continue;
        ssize_t w = send(fd, chunk, sizeof chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w < 0)
            fail_msg("flood send: %s", strerror(errno));
        sent += (size_t)w;
    }
    return sent;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_pass_echoes_every_byte(void **state)
{
    enum { N = 4 * 1024 * 1024 };
    char *out = malloc(N), *in = malloc(N);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < N; i++)
        out[i] = (char)(i * 31 + (i >> 12));
    int fd = dial(listen_port);
    /* Send and receive together, or both ways fill up and stall. */
    size_t sent = 0, got = 0;
    long long deadline = now_ms() + SJ_TEST_HANG_MS;
    while (got < N) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN | (sent < N ? POLLOUT : 0)};
        if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
            fail_msg("poll: %s", strerror(errno));
        if (now_ms() > deadline)
            fail_msg("echo stalled: sent %zu, got %zu of %d", sent, got, N);
        if ((pfd.revents & POLLOUT) && sent < N) {
            ssize_t w = send(fd, out + sent, N - sent > 65536 ? 65536 : N - sent,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(fd, in + got, N - got, MSG_DONTWAIT);
            if (r == 0)
                fail_msg("EOF after %zu bytes", got);
            if (r > 0)
                got += (size_t)r;
        }
    }
    assert_memory_equal(in, out, N);
    close(fd);
    assert_int_equal(status_field("bytes_up"), N);
    assert_int_equal(status_field("bytes_down"), N);
    free(out);
    free(in);
}

static void test_delay_adds_latency_both_ways(void **state)
{
    assert_ok("delay 150");
    int fd = dial(listen_port);
    long long t0 = now_ms();
    assert_echo(fd, "ping");
    long long rtt = now_ms() - t0;
    /* 150 ms up and 150 ms down: a lower bound, which only a proxy that
     * skipped the delay can break. */
    if (rtt < 300)
        fail_msg("round trip %lld ms, want >= 300", rtt);
    close(fd);
}

/* rate 256: 16 KiB take at least 512 ms each way on a 256 kbit/s link (a
 * lower bound again), arrive whole, and the setting is in the status. */
static void test_rate_limits_bandwidth(void **state)
{
    assert_string_equal(ctl("rate 256"), "ok rate_kbit=256");
    assert_int_equal(status_field("rate_kbit"), 256);
    enum { N = 16 * 1024 };
    static char out[N], in[N];
    for (size_t i = 0; i < N; i++)
        out[i] = (char)(i * 7 + 3);
    int fd = dial(listen_port);
    long long t0 = now_ms();
    send_all(fd, out, N);
    assert_int_equal(recv_exact(fd, in, N), N);
    long long took = now_ms() - t0;
    assert_memory_equal(in, out, N);
    if (took < 2 * 512)
        fail_msg("16 KiB there and back took %lld ms, want >= 1024 at 256 kbit/s", took);
    assert_string_equal(ctl("rate 0"), "ok rate_kbit=0");
    assert_echo(fd, "unlimited again");
    close(fd);
    assert_true(strncmp(ctl("rate fast"), "error ", 6) == 0);
}

static void test_delay_keeps_order(void **state)
{
    assert_ok("delay 100");
    int fd = dial(listen_port);
    char want[40 * 8 + 1] = "", got[sizeof want];
    for (int i = 0; i < 40; i++) {
        char m[9];
        snprintf(m, sizeof m, "msg-%03d\n", i);
        strcat(want, m);
        send_all(fd, m, 8);
        if (i == 20) /* a shorter delay must not let later bytes overtake */
            assert_ok("delay 0");
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    ssize_t r = recv_exact(fd, got, strlen(want));
    assert_int_equal(r, strlen(want));
    got[r] = '\0';
    assert_string_equal(got, want);
    close(fd);
}

static void test_reset_gives_econnreset(void **state)
{
    int fd = dial(listen_port);
    assert_echo(fd, "before");
    assert_string_equal(ctl("reset"), "ok reset=1 mode=pass");
    char buf[16];
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    assert_int_equal(r, -1);
    assert_int_equal(errno, ECONNRESET);
    close(fd);
    assert_int_equal(status_field("resets"), 1);
    assert_int_equal(status_field("conns"), 0);
}

static void test_reset_keeps_accepting(void **state)
{
    int a = dial(listen_port);
    assert_echo(a, "a");
    assert_ok("reset");
    int b = dial(listen_port);
    assert_echo(b, "after reset");
    close(a);
    close(b);
}

static void test_blackhole_stalls_then_pass_recovers(void **state)
{
    int a = dial(listen_port);
    assert_echo(a, "a");
    assert_ok("blackhole");
    set_timeout(a, 300);
    send_all(a, "lost?", 5);
    char buf[16];
    ssize_t r = recv(a, buf, sizeof buf, 0);
    assert_int_equal(r, -1);
    assert_int_equal(errno, EAGAIN);

    int b = dial(listen_port); /* accepted, but goes nowhere */
    set_timeout(b, 300);
    send_all(b, "b", 1);
    r = recv(b, buf, sizeof buf, 0);
    assert_int_equal(r, -1);
    assert_int_equal(errno, EAGAIN);
    /* Held once the proxy has taken it from its listening socket. */
    wait_status("held", 1);

    assert_ok("pass");
    int c = dial(listen_port);
    assert_echo(c, "after blackhole");
    close(a);
    close(b);
    close(c);
}

static void test_blackhole_holds_bytes_until_pass(void **state)
{
    int a = dial(listen_port);
    assert_echo(a, "a");
    assert_ok("blackhole");
    int b = dial(listen_port);
    send_all(a, "held-a", 6);
    send_all(b, "held-b", 6);
    assert_ok("pass");
    char buf[8] = "";
    assert_int_equal(recv_exact(a, buf, 6), 6);
    assert_memory_equal(buf, "held-a", 6);
    assert_int_equal(recv_exact(b, buf, 6), 6);
    assert_memory_equal(buf, "held-b", 6);
    assert_int_equal(status_field("held"), 0);
    close(a);
    close(b);
}

static void test_refuse_closes_new_connections(void **state)
{
    int old = dial(listen_port);
    assert_echo(old, "old");
    assert_ok("refuse");
    int fd = dial(listen_port);
    char buf[16];
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (!(r == 0 || (r < 0 && errno == ECONNRESET)))
        fail_msg("refused connection: recv %zd (%s), want EOF or ECONNRESET", r,
                 r < 0 ? strerror(errno) : "data");
    close(fd);
    assert_int_equal(status_field("refused"), 1);
    assert_echo(old, "old still flows"); /* only new connections are refused */
    assert_ok("pass");
    int c = dial(listen_port);
    assert_echo(c, "after refuse");
    close(c);
    close(old);
}

static void test_blackhole_flood_is_bounded(void **state)
{
    int fd = dial(listen_port);
    assert_echo(fd, "up");
    long before = rss_kb(proxy.pid);
    assert_ok("blackhole");
    size_t sent = flood(fd, 0); /* it reads nothing in blackhole */
    if (sent >= FLOOD_BYTES)
        fail_msg("the kernel took all %u bytes: the proxy kept reading", FLOOD_BYTES);
    uint64_t buffered = status_field("buffered");
    if (buffered > MAX_BUFFER + SJ_FAULTPROXY_READ_SIZE)
        fail_msg("proxy holds %" PRIu64 " bytes in blackhole, cap %u", buffered,
                 MAX_BUFFER + SJ_FAULTPROXY_READ_SIZE);
    long grown = rss_kb(proxy.pid) - before;
    if (grown > 16 * 1024)
        fail_msg("proxy RSS grew by %ld kB during a %zu byte flood", grown, sent);
    close(fd);
}

static void test_delay_flood_is_bounded(void **state)
{
    int fd = dial(listen_port);
    assert_echo(fd, "up");
    long before = rss_kb(proxy.pid);
    assert_ok("delay 3000");
    size_t sent = flood(fd, MAX_BUFFER); /* it reads up to its cap */
    if (sent >= FLOOD_BYTES)
        fail_msg("the kernel took all %u bytes: no backpressure", FLOOD_BYTES);
    /* Each direction may hold its cap plus one read. */
    uint64_t cap = 2 * (MAX_BUFFER + SJ_FAULTPROXY_READ_SIZE);
    uint64_t peak = status_field("buffered_peak");
    if (peak > cap)
        fail_msg("proxy held %" PRIu64 " bytes, cap %" PRIu64, peak, cap);
    if (peak < MAX_BUFFER)
        fail_msg("proxy held only %" PRIu64 " bytes; the delay did not buffer", peak);
    long grown = rss_kb(proxy.pid) - before;
    if (grown > 16 * 1024)
        fail_msg("proxy RSS grew by %ld kB during a %zu byte flood", grown, sent);
    close(fd);
}

static void test_control_refuses_bad_commands(void **state)
{
    static const char *const bad[] = {
        "",           "delay",       "delay x",    "delay -1",   "delay 10 20",
        "delay 1e3",  "pass now",    "frobnicate", "PASS",       "delay 99999999",
        "reset all",  "status full",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *r = ctl(bad[i]);
        if (strncmp(r, "error ", 6) != 0)
            fail_msg("'%s' replied '%s', want an error", bad[i], r);
    }
    const char *st = ctl("status");
    if (strncmp(st, "ok mode=pass delay_ms=0 ", 24) != 0)
        fail_msg("mode changed by bad commands: %s", st);
}

static void test_control_takes_many_lines_per_connection(void **state)
{
    int fd = dial(control_port);
    const char *lines = "delay 20\r\nstatus\nblackhole\npass\n";
    send_all(fd, lines, strlen(lines));
    char buf[2048];
    size_t n = 0;
    int nl = 0;
    while (nl < 4) {
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r <= 0)
            fail_msg("control: %s", r < 0 ? strerror(errno) : "EOF");
        for (ssize_t i = 0; i < r; i++)
            nl += buf[n + (size_t)i] == '\n';
        n += (size_t)r;
    }
    buf[n] = '\0';
    assert_non_null(strstr(buf, "ok mode=delay delay_ms=20\nok mode=delay delay_ms=20 conns="));
    assert_non_null(strstr(buf, "\nok mode=blackhole delay_ms=0\nok mode=pass delay_ms=0\n"));
    close(fd);
}

static void test_target_down_resets_client(void **state)
{
    sj_test_proc_free(&proxy);
    int nothing = sj_test_proc_free_port(); /* nobody listens there */
    start_proxy_at(nothing);
    int fd = dial(listen_port);
    char buf[16];
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    assert_int_equal(r, -1);
    assert_int_equal(errno, ECONNRESET);
    close(fd);
}

static void test_kill9_and_restart(void **state)
{
    pid_t first = proxy.pid;
    assert_int_equal(sj_test_proc_kill9(&proxy), 0);
    assert_false(sj_test_proc_alive(&proxy));
    assert_true(WIFSIGNALED(proxy.status));
    assert_int_equal(WTERMSIG(proxy.status), SIGKILL);
    sj_error err;
    assert_int_equal(sj_test_proc_restart(&proxy, &err), 0);
    assert_int_not_equal(proxy.pid, first);
    if (sj_test_proc_wait_port(&proxy, listen_port, SJ_TEST_HANG_MS, &err) < 0)
        fail_msg("after restart: %s", err.message);
    int fd = dial(listen_port);
    assert_echo(fd, "restarted");
    close(fd);
    assert_int_equal(proxy.starts, 2);
}

static void test_sigterm_exits_zero(void **state)
{
    int fd = dial(listen_port);
    assert_echo(fd, "open while stopping");
    /* Held far longer than any wait here: the bytes are surely in the
     * proxy when the signal comes. */
    assert_ok("delay 600000");
    send_all(fd, "queued", 6);
    wait_status("buffered", 6);
    sj_error err;
    if (sj_test_proc_stop(&proxy, SJ_TEST_HANG_MS, &err) < 0)
        fail_msg("stop: %s", err.message);
    /* Exit 0 also means LeakSanitizer found nothing in the sanitizer build. */
    assert_true(WIFEXITED(proxy.status));
    assert_int_equal(WEXITSTATUS(proxy.status), 0);
    close(fd);
}

static void test_log_has_one_line_per_event(void **state)
{
    int fd = dial(listen_port);
    assert_echo(fd, "x");
    close(fd);
    assert_ok("delay 5");
    /* The proxy has seen the EOF and closed the pair (logged "close"). */
    wait_status("conns", 0);
    sj_error err;
    assert_int_equal(sj_test_proc_stop(&proxy, SJ_TEST_HANG_MS, &err), 0);
    FILE *f = fopen(proxy.log_path, "r");
    assert_non_null(f);
    char line[1024];
    int connect = 0, close_eof = 0, mode = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        connect += strstr(line, "msg=\"connect\" ") != NULL;
        close_eof += strstr(line, "msg=\"close\" ") != NULL && strstr(line, "why=eof") != NULL;
        mode += strstr(line, "msg=\"mode change\" from=pass to=delay delay_ms=5") != NULL;
    }
    fclose(f);
    assert_int_equal(connect, 1);
    assert_int_equal(close_eof, 1);
    assert_int_equal(mode, 1);
}

static void test_proc_reports_missing_program(void **state)
{
    sj_test_proc p = {0};
    char log[128];
    snprintf(log, sizeof log, "%s/missing.log", dir);
    const char *argv[] = {"/nonexistent/sanji-nothing", NULL};
    sj_error err;
    assert_int_equal(sj_test_proc_start(&p, argv, NULL, log, &err), SJ_ENOTFOUND);
    assert_false(sj_test_proc_alive(&p));
    sj_test_proc_free(&p);
}

static void test_proc_passes_environment(void **state)
{
    sj_test_proc p = {0};
    char log[128], text[256];
    snprintf(log, sizeof log, "%s/env.log", dir);
    const char *argv[] = {"sh", "-c", "echo \"$SJ_PROC_TEST:$HOME\"", NULL};
    const char *env[] = {"SJ_PROC_TEST=hello", "HOME=/nowhere", NULL};
    sj_error err;
    assert_int_equal(sj_test_proc_start(&p, argv, env, log, &err), 0);
    assert_int_equal(sj_test_proc_wait(&p, SJ_TEST_HANG_MS, &err), 0);
    assert_int_equal(WEXITSTATUS(p.status), 0);
    assert_string_equal(sj_test_proc_log_tail(&p, text, sizeof text), "hello:/nowhere\n");
    sj_test_proc_free(&p);
}

/* ---- set-up ---------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int group_setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "/tmp/sj-faultproxy-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        return -1;
    self_exe[n] = '\0';
    echo_port = sj_test_proc_free_port();
    char port[16], log[128];
    snprintf(port, sizeof port, "%d", echo_port);
    snprintf(log, sizeof log, "%s/echo.log", dir);
    const char *argv[] = {self_exe, "--echo-server", port, NULL};
    sj_error err;
    if (sj_test_proc_start(&echo_proc, argv, NULL, log, &err) < 0 ||
        sj_test_proc_wait_port(&echo_proc, echo_port, SJ_TEST_HANG_MS, &err) < 0) {
        fprintf(stderr, "echo server: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    sj_test_proc_free(&echo_proc);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--echo-server") == 0)
        return echo_main(atoi(argv[2]));
#define T(f) cmocka_unit_test_setup_teardown(f, start_proxy, stop_proxy)
    const struct CMUnitTest tests[] = {
        T(test_pass_echoes_every_byte),
        T(test_delay_adds_latency_both_ways),
        T(test_delay_keeps_order),
        T(test_rate_limits_bandwidth),
        T(test_reset_gives_econnreset),
        T(test_reset_keeps_accepting),
        T(test_blackhole_stalls_then_pass_recovers),
        T(test_blackhole_holds_bytes_until_pass),
        T(test_refuse_closes_new_connections),
        T(test_blackhole_flood_is_bounded),
        T(test_delay_flood_is_bounded),
        T(test_control_refuses_bad_commands),
        T(test_control_takes_many_lines_per_connection),
        T(test_target_down_resets_client),
        T(test_kill9_and_restart),
        T(test_sigterm_exits_zero),
        T(test_log_has_one_line_per_event),
        cmocka_unit_test(test_proc_reports_missing_program),
        cmocka_unit_test(test_proc_passes_environment),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
