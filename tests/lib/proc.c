/*
 * proc.c - test helper: start, watch, signal, restart and reap real
 * processes, each in its own process group, none left behind at exit
 * (proc.h has the contract).
 *
 * Entry points: sj_test_proc_start(), sj_test_proc_restart(),
 * sj_test_proc_wait_port(), sj_test_proc_alive(), sj_test_proc_signal(),
 * sj_test_proc_kill9(), sj_test_proc_stop(), sj_test_proc_wait(),
 * sj_test_proc_free(), sj_test_proc_free_port(), sj_test_proc_log_tail(),
 * sj_test_proc_status_text(), sj_test_proc_killed_by(),
 * sj_test_proc_find_core(), sj_test_proc_run(), sj_test_proc_start_serving(),
 * sj_test_proc_stop_clean(), sj_test_proc_port_accepts(),
 * sj_test_proc_silent_peer_ms(), sj_test_sleep_ms(), sj_test_poll_until().
 */
#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- the registry of live process groups, killed at exit -------------- */

#define MAX_GROUPS 256
static pid_t groups[MAX_GROUPS];
static bool atexit_done;

static void kill_all_groups(void)
{
    for (int i = 0; i < MAX_GROUPS; i++) {
        if (groups[i] <= 0)
            continue;
        (void)killpg(groups[i], SIGKILL);
        while (waitpid(groups[i], NULL, 0) < 0 && errno == EINTR) {
        }
        groups[i] = 0;
    }
}

static void group_add(pid_t pid)
{
    if (!atexit_done) {
        atexit(kill_all_groups);
        atexit_done = true;
    }
    for (int i = 0; i < MAX_GROUPS; i++)
        if (groups[i] == 0) {
            groups[i] = pid;
            return;
        }
    /* More live processes than any test should start: a test's bug. */
    fprintf(stderr, "proc: more than %d processes at once\n", MAX_GROUPS);
    abort();
}

static void group_remove(pid_t pid)
{
    for (int i = 0; i < MAX_GROUPS; i++)
        if (groups[i] == pid)
            groups[i] = 0;
}

/* ---- small helpers -------------------------------------------------------- */

void sj_test_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool sj_test_poll_until(bool (*cond)(void *), void *arg, int timeout_ms, int poll_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        if (now_ms() >= deadline)
            return cond(arg);
        sj_test_sleep_ms(poll_ms);
    }
}

static void free_vec(char **v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

static char **copy_vec(const char *const src[])
{
    size_t n = 0;
    while (src != NULL && src[n] != NULL)
        n++;
    char **v = calloc(n + 1, sizeof *v);
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        v[i] = strdup(src[i]);
        if (v[i] == NULL) {
            free_vec(v);
            return NULL;
        }
    }
    return v;
}

/* The environment for the child: ours, with every entry of extra added or
 * replacing the entry of the same name.  The strings are borrowed. */
static char **merge_env(char **extra)
{
    size_t n_ours = 0, n_extra = 0;
    while (environ[n_ours] != NULL)
        n_ours++;
    while (extra != NULL && extra[n_extra] != NULL)
        n_extra++;
    char **v = calloc(n_ours + n_extra + 1, sizeof *v);
    if (v == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < n_ours; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t name_len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < n_extra && !replaced; j++)
            replaced = strncmp(extra[j], environ[i], name_len) == 0;
        if (!replaced)
            v[n++] = environ[i];
    }
    for (size_t j = 0; j < n_extra; j++)
        v[n++] = extra[j];
    v[n] = NULL;
    return v;
}

/* Marks the process as gone with wait status st. */
static void reaped(sj_test_proc *p, int st)
{
    group_remove(p->pid);
    p->status = st;
    p->exited = true;
    p->pid = 0;
}

/* waitpid() for p; returns true when it has exited (and reaps it). */
static bool try_reap(sj_test_proc *p, bool block)
{
    if (p->pid <= 0)
        return true;
    int st;
    pid_t r;
    do {
        r = waitpid(p->pid, &st, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == p->pid) {
        reaped(p, st);
        return true;
    }
    if (r < 0) {
        /* ECHILD: someone else reaped it; nothing left to wait for. */
        reaped(p, 0);
        return true;
    }
    return false;
}

/* ---- starting --------------------------------------------------------------- */

/* In the child, after fork(): tells the parent errno through fd (the
 * parent reports it as the start's failure) and ends.  Only
 * async-signal-safe calls here. */
static _Noreturn void child_fail(int fd)
{
    int e = errno;
    ssize_t w;
    do {
        w = write(fd, &e, sizeof e);
    } while (w < 0 && errno == EINTR);
    _exit(127);
}

static int spawn(sj_test_proc *p, sj_error *err)
{
    char **envp = merge_env(p->env);
    if (envp == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    int logfd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) {
        int e = errno;
        free(envp);
        return sj_error_set(err, SJ_EIO, "cannot open log %s: %s", p->log_path, strerror(e));
    }
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int pfd[2];
    if (nullfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
        int e = errno;
        if (nullfd >= 0)
            close(nullfd);
        close(logfd);
        free(envp);
        return sj_error_set(err, SJ_EIO, "cannot start %s: %s", p->argv[0], strerror(e));
    }
    pid_t parent = getpid();
    fflush(NULL); /* or buffered output would be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        close(nullfd);
        close(logfd);
        free(envp);
        return sj_error_set(err, SJ_EIO, "fork for %s: %s", p->argv[0], strerror(e));
    }
    if (pid == 0) {
        setpgid(0, 0);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the test is already gone */
        dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        if (p->core_dir[0] != '\0') {
            /* A crash must leave something to look at: a core file in a
             * directory of this program's own (core_pattern "core"). */
            struct rlimit rl;
            if (getrlimit(RLIMIT_CORE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_CORE, &rl);
            }
            if (chdir(p->core_dir) != 0)
                child_fail(pfd[1]);
        }
        /* Undo what the test program may have changed for itself. */
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvpe(p->argv[0], p->argv, envp);
        child_fail(pfd[1]);
    }
    /* Both sides call setpgid so that the group exists before either goes on. */
    (void)setpgid(pid, pid);
    close(pfd[1]);
    close(nullfd);
    close(logfd);
    free(envp);
    p->pid = pid;
    p->last_pid = pid;
    p->exited = false;
    p->starts++;
    group_add(pid);
    int child_errno = 0;
    ssize_t r;
    do {
        r = read(pfd[0], &child_errno, sizeof child_errno);
    } while (r < 0 && errno == EINTR);
    close(pfd[0]);
    if (r == (ssize_t)sizeof child_errno) {
        try_reap(p, true);
        return sj_error_set(err, child_errno == ENOENT ? SJ_ENOTFOUND : SJ_EIO,
                            "cannot run %s: %s", p->argv[0], strerror(child_errno));
    }
    return 0;
}

int sj_test_proc_start(sj_test_proc *p, const char *const argv[], const char *const env[],
                       const char *log_path, sj_error *err)
{
    if (p == NULL || log_path == NULL)
        abort(); /* a caller's bug */
    if (p->pid > 0)
        return sj_error_set(err, SJ_EBUSY, "%s is still running (pid %d)", p->argv[0],
                            (int)p->pid);
    if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
        return sj_error_set(err, SJ_EINVAL, "no program to start");
    if (strlen(log_path) >= sizeof p->log_path)
        return sj_error_set(err, SJ_EINVAL, "log path too long: %s", log_path);
    free_vec(p->argv);
    free_vec(p->env);
    p->argv = copy_vec(argv);
    p->env = copy_vec(env);
    if (p->argv == NULL || p->env == NULL) {
        free_vec(p->argv);
        free_vec(p->env);
        p->argv = p->env = NULL;
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    snprintf(p->log_path, sizeof p->log_path, "%s", log_path);
    return spawn(p, err);
}

int sj_test_proc_restart(sj_test_proc *p, sj_error *err)
{
    if (p->argv == NULL)
        return sj_error_set(err, SJ_EINVAL, "restart of a process never started");
    if (p->pid > 0)
        (void)sj_test_proc_kill9(p);
    return spawn(p, err);
}

/* ---- watching ------------------------------------------------------------------ */

bool sj_test_proc_alive(sj_test_proc *p)
{
    return p->pid > 0 && !try_reap(p, false);
}

bool sj_test_proc_port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc;
    do {
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    } while (rc < 0 && errno == EINTR);
    close(fd);
    return rc == 0;
}

int64_t sj_test_proc_silent_peer_ms(int port, int limit_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    /* Taken before the connect: the server's clock for this connection
     * starts later (at its accept), so the figure is never short of the
     * server's own, however long this process is kept off the CPU. */
    int64_t start = now_ms(), end = start + limit_ms;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int64_t closed = -1;
    char buf[256];
    for (int64_t now = start; closed < 0 && now < end; now = now_ms()) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(end - now)) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            closed = now_ms() - start;
    }
    close(fd);
    return closed;
}

const char *sj_test_proc_log_tail(const sj_test_proc *p, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    int fd = open(p->log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return buf;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t start = end > (off_t)(cap - 1) ? end - (off_t)(cap - 1) : 0;
    ssize_t n;
    do {
        n = pread(fd, buf, cap - 1, start);
    } while (n < 0 && errno == EINTR);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

int sj_test_proc_wait_port(sj_test_proc *p, int port, int timeout_ms, sj_error *err)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (sj_test_proc_port_accepts(port))
            return 0;
        if (p != NULL && !sj_test_proc_alive(p)) {
            char tail[300];
            return sj_error_set(err, SJ_ECLOSED,
                                "%s exited (status 0x%x) before 127.0.0.1:%d accepted; log "
                                "%s ends: %s",
                                p->argv ? p->argv[0] : "?", p->status, port, p->log_path,
                                sj_test_proc_log_tail(p, tail, sizeof tail));
        }
        if (now_ms() >= deadline)
            return sj_error_set(err, SJ_ETIMEOUT, "127.0.0.1:%d did not accept within %d ms",
                                port, timeout_ms);
        sj_test_sleep_ms(10);
    }
}

/* ---- signalling and stopping ---------------------------------------------------- */

int sj_test_proc_signal(sj_test_proc *p, int sig)
{
    if (!sj_test_proc_alive(p))
        return SJ_ECLOSED;
    return kill(p->pid, sig) == 0 ? 0 : SJ_ECLOSED;
}

int sj_test_proc_kill9(sj_test_proc *p)
{
    if (p->pid <= 0)
        return SJ_ECLOSED;
    (void)killpg(p->pid, SIGKILL);
    try_reap(p, true);
    return 0;
}

int sj_test_proc_wait(sj_test_proc *p, int timeout_ms, sj_error *err)
{
    if (p->pid <= 0)
        return sj_error_set(err, SJ_ECLOSED, "nothing running");
    if (timeout_ms < 0) {
        try_reap(p, true);
        return 0;
    }
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (try_reap(p, false))
            return 0;
        if (now_ms() >= deadline)
            return sj_error_set(err, SJ_ETIMEOUT, "%s (pid %d) still running after %d ms",
                                p->argv[0], (int)p->pid, timeout_ms);
        sj_test_sleep_ms(5);
    }
}

int sj_test_proc_stop(sj_test_proc *p, int timeout_ms, sj_error *err)
{
    if (p->pid <= 0)
        return sj_error_set(err, SJ_ECLOSED, "nothing running");
    pid_t group = p->pid;
    (void)kill(p->pid, SIGTERM);
    int rc = sj_test_proc_wait(p, timeout_ms, err);
    if (rc == SJ_ETIMEOUT) {
        (void)sj_test_proc_kill9(p);
        return rc;
    }
    (void)killpg(group, SIGKILL); /* helpers the leader left behind */
    return rc;
}

void sj_test_proc_free(sj_test_proc *p)
{
    if (p->pid > 0)
        (void)sj_test_proc_kill9(p);
    free_vec(p->argv);
    free_vec(p->env);
    memset(p, 0, sizeof *p);
}

/* The kernel's range for the local ports of outgoing connections.  A port
 * picked there by binding port 0 may be taken by any connection on the
 * machine (hundreds while a chaos run goes on beside) between the pick and
 * the daemon's own bind. */
static void ephemeral_range(int *lo, int *hi)
{
    *lo = 32768;
    *hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f == NULL)
        return;
    int a, b;
    if (fscanf(f, "%d %d", &a, &b) == 2 && a > 0 && b >= a)
        *lo = a, *hi = b;
    fclose(f);
}

static bool port_bindable(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Ports this program handed out lately: two picks before either is bound
 * (a county's and a relay's) must not be the same. */
#define RECENT_PORTS 64
static int recent_ports[RECENT_PORTS];
static unsigned recent_next;

static bool recently_given(int port)
{
    for (int i = 0; i < RECENT_PORTS; i++)
        if (recent_ports[i] == port)
            return true;
    return false;
}

/* Ports handed out are also reserved across the test programs that run
 * side by side: a daemon restarted by one test (kill -9, then start on the
 * same port) leaves its port unbound for a while, and another test's pick
 * must not land on it meanwhile.  A reservation is a file named after the
 * port in PORT_DIR holding the reserving program's pid; the program removes
 * its own at exit, and one whose program is gone is taken over. */
#define PORT_DIR "/tmp/sanji-test-ports"
static int reserved_ports[RECENT_PORTS];
static unsigned reserved_next;
static pid_t reserved_by;

static void release_ports(void)
{
    if (getpid() != reserved_by)
        return; /* a forked child that did not exec */
    char path[64];
    for (int i = 0; i < RECENT_PORTS; i++)
        if (reserved_ports[i] > 0) {
            snprintf(path, sizeof path, PORT_DIR "/%d", reserved_ports[i]);
            (void)unlink(path);
        }
}

static bool reservation_stale(const char *path)
{
    char buf[32] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
    /* An empty file is one being written: not stale. */
    return n > 0 && pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Reserves PORT for this program; false when another live program has. */
static bool reserve_port(int port)
{
    if (reserved_by == 0) {
        (void)mkdir(PORT_DIR, 01777);
        (void)chmod(PORT_DIR, 01777);
        reserved_by = getpid();
        atexit(release_ports);
    }
    char path[64];
    snprintf(path, sizeof path, PORT_DIR "/%d", port);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            char pid[32];
            int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
            bool ok = write(fd, pid, (size_t)len) == len;
            close(fd);
            if (!ok) {
                (void)unlink(path);
                return false;
            }
            int slot = (int)(reserved_next++ % RECENT_PORTS);
            if (reserved_ports[slot] > 0) { /* the oldest goes */
                char old[64];
                snprintf(old, sizeof old, PORT_DIR "/%d", reserved_ports[slot]);
                (void)unlink(old);
            }
            reserved_ports[slot] = port;
            return true;
        }
        if (errno != EEXIST) /* no folder to share: the bind test alone */
            return true;
        if (!reservation_stale(path))
            return false;
        (void)unlink(path);
    }
    return false;
}

/* Below the ephemeral range, from PICK_LO up: no outgoing connection takes
 * those, and tests running beside each other pick at random among
 * thousands. */
#define PICK_LO 20000

int sj_test_proc_free_port(void)
{
    static uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = (((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec) | 1;
    }
    int lo, hi;
    ephemeral_range(&lo, &hi);
    int top = lo; /* exclusive */
    if (top > 65536)
        top = 65536;
    for (int tries = 0; top - PICK_LO >= 1000 && tries < 200; tries++) {
        state ^= state << 13; /* xorshift64 */
        state ^= state >> 7;
        state ^= state << 17;
        int port = PICK_LO + (int)(state % (uint64_t)(top - PICK_LO));
        if (!recently_given(port) && port_bindable(port) && reserve_port(port)) {
            recent_ports[recent_next++ % RECENT_PORTS] = port;
            return port;
        }
    }
    /* No room below the ephemeral range: the kernel's pick. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return SJ_EIO;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        close(fd);
        return SJ_EIO;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

const char *sj_test_proc_status_text(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(buf, cap, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(buf, cap, "status 0x%x", (unsigned)status);
    return buf;
}

bool sj_test_proc_killed_by(const sj_test_proc *p, int sig)
{
    return p->exited && WIFSIGNALED(p->status) && WTERMSIG(p->status) == sig;
}

int sj_test_proc_find_core(const sj_test_proc *p, char *out, size_t cap)
{
    if (p->core_dir[0] == '\0' || p->last_pid <= 0)
        return SJ_ENOTFOUND;
    struct stat st;
    snprintf(out, cap, "%s/core.%d", p->core_dir, (int)p->last_pid);
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    char plain[PATH_MAX + 8];
    snprintf(plain, sizeof plain, "%s/core", p->core_dir);
    if (stat(plain, &st) != 0 || !S_ISREG(st.st_mode))
        return SJ_ENOTFOUND;
    /* Name it after the process, so that the next crash keeps this one. */
    if (rename(plain, out) != 0)
        snprintf(out, cap, "%s", plain);
    return 0;
}

/* ---- whole runs and daemons ------------------------------------------------ */

int sj_test_proc_run(const char *const argv[], const char *const env[], const char *log_path,
                     int timeout_ms)
{
    sj_test_proc p = {0};
    sj_error err;
    if (sj_test_proc_start(&p, argv, env, log_path, &err) != 0) {
        fprintf(stderr, "cannot run %s: %s\n", argv[0] ? argv[0] : "(none)", err.message);
        return -1;
    }
    int rc = sj_test_proc_wait(&p, timeout_ms, &err);
    if (rc != 0)
        fprintf(stderr, "%s did not end: %s\n", argv[0], err.message);
    int st = rc == 0 && WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
    sj_test_proc_free(&p); /* kills it if it was still running */
    return st;
}

int sj_test_proc_start_serving(sj_test_proc *p, const char *const argv[], const char *const env[],
                               const char *log_path, int port, int timeout_ms)
{
    sj_error err;
    if (sj_test_proc_start(p, argv, env, log_path, &err) != 0 ||
        sj_test_proc_wait_port(p, port, timeout_ms, &err) != 0) {
        fprintf(stderr, "%s did not start: %s\n", argv[0] ? argv[0] : "(none)", err.message);
        return -1;
    }
    return 0;
}

bool sj_test_proc_stop_clean(sj_test_proc *p, int timeout_ms)
{
    if (p->pid <= 0)
        return true;
    sj_error err;
    return sj_test_proc_stop(p, timeout_ms, &err) == 0 && WIFEXITED(p->status) &&
           WEXITSTATUS(p->status) == 0;
}
