/*
 * chaos_net.c - the network of a chaos run and the faults done to it
 * (chaos.h has the contract): certificates from sanji-pki, a private
 * PostgreSQL whose postmaster runs under tests/lib/proc (so that it can be
 * shut down immediately with SIGQUIT and restarted), sanji-countyd, one
 * sanji-relayd per township, a sanji-faultproxy on every link, and the
 * station processes (sanji-chaos-station, one village per township).
 *
 * Crashes: every process runs in a folder of its own under <dir>/cores with
 * core dumps allowed.  Any end the run did not cause — an exit by itself,
 * a death before its kill -9 or SIGQUIT, a non-zero status or a signal on
 * SIGTERM, a PostgreSQL backend terminated by a signal — is counted in
 * crashes and reported with the end of its log (from a sanitizer's report
 * when there is one) and, when a core was written, gdb's backtrace.
 *
 * Entry points: chaos_net_setup(), chaos_net_open(), chaos_net_stop(),
 * chaos_net_free(), chaos_net_fault(), chaos_net_poll(), chaos_net_heal(),
 * chaos_net_healthy(), chaos_net_cert().
 */
#include "chaos.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#define PGBIN "/usr/lib/postgresql/15/bin"

const char *const chaos_fault_names[CHAOS_F_COUNT] = {
    "relay kill -9", "county kill -9", "PostgreSQL immediate shutdown", "link delay",
    "link blackhole", "link reset", "link refuse", "client restart", "station kill -9",
};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

/* Absolute, because every process runs in a folder of its own (cores). */
static const char *build_dir(void)
{
    static char abs[PATH_MAX - 256]; /* room for the program's path below it */
    const char *b = getenv("SANJI_BUILD_DIR");
    char *real = realpath(b && *b ? b : ".", NULL);
    snprintf(abs, sizeof abs, "%.3800s", real ? real : b && *b ? b : ".");
    free(real);
    return abs;
}

static const char *source_dir(void)
{
    const char *s = getenv("SANJI_SOURCE_DIR");
    return s && *s ? s : ".";
}

void chaos_net_cert(const chaos_net *n, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/pki/%s", n->dir, name);
}

/* ---- crashes ------------------------------------------------------------------ */

/* Gives p a folder of its own under <dir>/cores, where it runs and where a
 * core file lands (sj_test_proc core_dir). */
static void give_core_dir(chaos_net *n, sj_test_proc *p, const char *name)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.127s/cores/%.40s", n->dir, name); /* p lies inside n */
    memcpy(p->core_dir, dir, sizeof p->core_dir);
    (void)mkdir(p->core_dir, 0777);
    (void)chmod(p->core_dir, 0777); /* PostgreSQL's user writes there too */
}

/* Prints the end of a crashed process's log: from the first sanitizer
 * report in its last 64 KiB when there is one (the stack is the point),
 * else its last 2 KiB. */
static void print_log_tail(const sj_test_proc *p)
{
    static char buf[65536];
    static const char *const MARKS[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                        "runtime error:", "WARNING: ThreadSanitizer",
                                        "ERROR: UndefinedBehaviorSanitizer"};
    sj_test_proc_log_tail(p, buf, sizeof buf);
    if (buf[0] == '\0') {
        fprintf(stderr, "(the log is empty)\n");
        return;
    }
    const char *from = NULL;
    for (size_t i = 0; i < sizeof MARKS / sizeof MARKS[0]; i++) {
        const char *m = strstr(buf, MARKS[i]);
        if (m && (!from || m < from))
            from = m;
    }
    size_t len = strlen(buf);
    size_t cap = from ? 12288 : 2048;
    if (!from)
        from = len > cap ? buf + len - cap : buf;
    while (from > buf && from[-1] != '\n')
        from--;
    fprintf(stderr, "%.*s\n", (int)(strlen(from) < cap ? strlen(from) : cap), from);
}

/* gdb's backtrace of p's core, if one was written; also kept next to it. */
static void print_backtrace(chaos_net *n, const sj_test_proc *p)
{
    char core[PATH_MAX + 32];
    if (sj_test_proc_find_core(p, core, sizeof core) != 0) {
        fprintf(stderr, "sanji-chaos: no core file in %s (core_pattern or limits)\n",
                p->core_dir[0] ? p->core_dir : "?");
        return;
    }
    const char *exe = p == &n->pg ? PGBIN "/postgres" : p->argv[0];
    fprintf(stderr, "sanji-chaos: backtrace of %s (gdb):\n", core);
    (void)sh("gdb -batch -nx -q -ex 'thread apply all bt' %s %s 2>&1 | grep -v '^\\[New LWP' "
             "| tee %s.bt >&2",
             exe, core, core);
}

/* Counts and reports a process that ended in a way the run did not cause. */
static void crash(chaos_net *n, sj_test_proc *p, const char *what, const char *how)
{
    char st[96];
    n->crashes++;
    fprintf(stderr, "sanji-chaos: CRASH: %s (pid %d) %s: %s; log %s ends:\n", what,
            (int)p->last_pid, how, sj_test_proc_status_text(p->status, st, sizeof st),
            p->log_path);
    print_log_tail(p);
    print_backtrace(n, p);
}

/* kill -9 of p; if it had already ended by itself, that is a crash. */
static void kill9_checked(chaos_net *n, sj_test_proc *p, const char *what)
{
    if (sj_test_proc_kill9(p) == 0 && !sj_test_proc_killed_by(p, SIGKILL))
        crash(n, p, what, "had ended before its kill -9");
}

/* True when p's last end was exit 0 or the very signal we sent: a process
 * signalled right after its start (a restart the moment before) may not
 * have its handler yet, and dies of the default action. */
static bool ended_as_asked(const sj_test_proc *p, int sig)
{
    return (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0) ||
           sj_test_proc_killed_by(p, sig);
}

/* SIGTERM and wait; anything but exit 0 (or death by that SIGTERM) is a
 * crash. */
static void stop_checked(chaos_net *n, sj_test_proc *p, int timeout_ms, const char *what)
{
    if (p->pid <= 0)
        return;
    if (!sj_test_proc_alive(p)) {
        crash(n, p, what, "exited by itself before the end");
        return;
    }
    sj_error err;
    int rc = sj_test_proc_stop(p, timeout_ms, &err);
    if (rc == SJ_ETIMEOUT)
        crash(n, p, what, "did not end on SIGTERM (killed)");
    else if (rc == 0 && !ended_as_asked(p, SIGTERM))
        crash(n, p, what, "ended badly on SIGTERM");
}

/* A PostgreSQL backend that dies of a signal does not end the postmaster,
 * which restarts the others; its server log says so. */
static void scan_pg_log(chaos_net *n)
{
    char path[PATH_MAX + 16], line[2048];
    snprintf(path, sizeof path, "%s/server.log", n->pgdir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "was terminated by signal") || strstr(line, "terminated by exception")) {
            n->crashes++;
            fprintf(stderr, "sanji-chaos: CRASH: PostgreSQL backend: %s", line);
        }
    }
    fclose(f);
}

/* ---- proxies ------------------------------------------------------------------ */

/* One control command, one reply line.  Blocking; the limit only catches
 * a proxy that hangs. */
static int proxy_cmd(chaos_proxy *p, const char *cmd, sj_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return sj_error_set(err, SJ_EIO, "socket: %s", strerror(errno));
    struct timeval tv = {.tv_sec = SJ_TEST_HANG_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)p->control_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char line[256], reply[512];
    int len = snprintf(line, sizeof line, "%s\n", cmd);
    int rc = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || write(fd, line, (size_t)len) != len) {
        rc = sj_error_set(err, SJ_ECONNECT, "proxy %s control: %s", p->name, strerror(errno));
    } else {
        size_t got = 0;
        while (got < sizeof reply - 1) {
            ssize_t r = read(fd, reply + got, sizeof reply - 1 - got);
            if (r <= 0)
                break;
            got += (size_t)r;
            if (memchr(reply, '\n', got))
                break;
        }
        reply[got] = '\0';
        if (strncmp(reply, "ok", 2) != 0)
            rc = sj_error_set(err, SJ_EIO, "proxy %s: '%s' answered '%s'", p->name, cmd, reply);
    }
    close(fd);
    return rc;
}

static int proxy_start(chaos_net *n, chaos_proxy *p, const char *name, int target, sj_error *err)
{
    char bin[PATH_MAX], lp[16], tp[16], cp[16], log[PATH_MAX + 64];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->listen_port = sj_test_proc_free_port();
    p->control_port = sj_test_proc_free_port();
    p->target_port = target;
    snprintf(bin, sizeof bin, "%s/tests/chaos/sanji-faultproxy", build_dir());
    snprintf(lp, sizeof lp, "%d", p->listen_port);
    snprintf(tp, sizeof tp, "%d", target);
    snprintf(cp, sizeof cp, "%d", p->control_port);
    snprintf(log, sizeof log, "%s/logs/proxy-%s.log", n->dir, name);
    const char *argv[] = {bin, "--listen", lp, "--target", tp, "--control", cp,
                          "--log-level", "warn", NULL};
    snprintf(log, sizeof log, "proxy-%s", name);
    give_core_dir(n, &p->proc, log);
    snprintf(log, sizeof log, "%s/logs/proxy-%s.log", n->dir, name);
    int rc = sj_test_proc_start(&p->proc, argv, NULL, log, err);
    if (rc == 0)
        rc = sj_test_proc_wait_port(&p->proc, p->control_port, SJ_TEST_HANG_MS, err);
    return rc;
}

/* ---- PostgreSQL ------------------------------------------------------------------ */

static int pg_run(chaos_net *n, sj_error *err);

/* The conninfo pg_cluster.sh wrote, and the port in it. */
static int pg_read_conninfo(chaos_net *n, sj_error *err)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/conninfo", n->pgdir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(n->conninfo, sizeof n->conninfo, f)) {
        if (f)
            fclose(f);
        return sj_error_set(err, SJ_EIO, "cannot read %s", path);
    }
    fclose(f);
    n->conninfo[strcspn(n->conninfo, "\r\n")] = '\0';
    const char *p = strstr(n->conninfo, "port=");
    n->pg_port = p ? atoi(p + 5) : 0;
    return 0;
}

static int pg_start(chaos_net *n, sj_error *err)
{
    snprintf(n->pgdir, sizeof n->pgdir, "%s-pg", n->dir);
    if (mkdir(n->pgdir, 0755) != 0 && errno != EEXIST)
        return sj_error_set(err, SJ_EIO, "mkdir %s: %s", n->pgdir, strerror(errno));
    if (sh("%s/tests/lib/pg_cluster.sh start %s >/dev/null", source_dir(), n->pgdir) != 0)
        return sj_error_set(err, SJ_EDB_CONN, "pg_cluster.sh start %s failed", n->pgdir);
    n->pg_made = true;
    int rc = pg_read_conninfo(n, err);
    if (rc < 0)
        return rc;
    /* Hand the postmaster over to the process helpers: stopped cleanly by
     * pg_ctl, started again as our child, so that SIGQUIT (immediate
     * shutdown) and restart are ours to do. */
    if (sh("%s/tests/lib/pg_cluster.sh halt %s", source_dir(), n->pgdir) != 0)
        return sj_error_set(err, SJ_EDB_CONN, "pg_cluster.sh halt %s failed", n->pgdir);
    return pg_run(n, err);
}

/* Runs the postmaster of n->pgdir as our child until it takes sessions. */
static int pg_run(chaos_net *n, sj_error *err)
{
    /* The postmaster runs as the test user, who may not pass through the
     * link's parents (pg_cluster.sh): give it the physical folder. */
    char *phys = realpath(n->pgdir, NULL);
    if (!phys)
        return sj_error_set(err, SJ_EIO, "%s: %s", n->pgdir, strerror(errno));
    snprintf(n->pgpath, sizeof n->pgpath, "%s", phys);
    free(phys);
    char data[PATH_MAX + 8], port[16], sock[PATH_MAX + 40], log[PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/data", n->pgpath);
    snprintf(port, sizeof port, "port=%d", n->pg_port);
    snprintf(sock, sizeof sock, "unix_socket_directories=%s", n->pgpath);
    snprintf(log, sizeof log, "%s/server.log", n->pgpath);
    const char *root_argv[] = {"setpriv", "--reuid=sanji-test", "--regid=sanji-test",
                               "--clear-groups", PGBIN "/postgres", "-D", data, "-c",
                               "listen_addresses=127.0.0.1", "-c", port, "-c", sock, "-c",
                               "max_connections=60", "-c", "shared_buffers=16MB", "-c",
                               "fsync=on", "-c", "log_min_messages=warning", NULL};
    const char *const *argv = getuid() == 0 ? root_argv : root_argv + 4;
    /* The postmaster works in its data folder, where its cores go too. */
    snprintf(n->pg.core_dir, sizeof n->pg.core_dir, "%.4000s", data);
    int rc = sj_test_proc_start(&n->pg, argv, NULL, log, err);
    if (rc == 0)
        rc = sj_test_proc_wait_port(&n->pg, n->pg_port, SJ_TEST_HANG_MS, err);
    /* The port opens before recovery ends; wait until it takes sessions. */
    for (int i = 0; rc == 0 && i < SJ_TEST_HANG_MS / 100; i++) {
        if (sh(PGBIN "/pg_isready -q -h 127.0.0.1 -p %d -t 1", n->pg_port) == 0)
            return 0;
        usleep(100000);
    }
    return rc ? rc : sj_error_set(err, SJ_EDB_CONN, "PostgreSQL on port %d never ready", n->pg_port);
}

/* ---- county and relays --------------------------------------------------------------- */

static int write_file(const char *path, const char *text, sj_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return sj_error_set(err, SJ_EIO, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    return 0;
}

static int county_start(chaos_net *n, sj_error *err)
{
    char cfg[PATH_MAX + 16], text[8192], bin[PATH_MAX], log[PATH_MAX + 32];
    n->county_port = sj_test_proc_free_port();
    snprintf(cfg, sizeof cfg, "%s/countyd.conf", n->dir);
    snprintf(text, sizeof text,
             "[listen]\naddress = \"127.0.0.1:%d\"\n"
             "[tls]\nca = %s/pki/ca/ca.crt\ncert = %s/pki/county.crt\nkey = %s/pki/county.key\n"
             "[database]\nconninfo = \"%s\"\nretry_max = 500ms\n"
             "[county]\ncode = \"410423\"\n"
             "[sweep]\ninterval = 1d\n"
             "[link]\nheartbeat = 2s\nidle_timeout = 8s\n"
             "[log]\nlevel = warn\n",
             n->county_port, n->dir, n->dir, n->dir, n->conninfo);
    int rc = write_file(cfg, text, err);
    if (rc < 0)
        return rc;
    snprintf(bin, sizeof bin, "%s/server/sanji-countyd", build_dir());
    if (sh("%s --config %s migrate >>%s/logs/setup.log 2>&1 && "
           "%s --config %s demo-load %s/deploy/demo >>%s/logs/setup.log 2>&1",
           bin, cfg, n->dir, bin, cfg, source_dir(), n->dir) != 0)
        return sj_error_set(err, SJ_EDB, "migrate/demo-load failed: see %s/logs/setup.log", n->dir);
    snprintf(log, sizeof log, "%s/logs/countyd.log", n->dir);
    const char *argv[] = {bin, "--config", cfg, "run", NULL};
    give_core_dir(n, &n->county, "countyd");
    rc = sj_test_proc_start(&n->county, argv, NULL, log, err);
    if (rc == 0)
        rc = sj_test_proc_wait_port(&n->county, n->county_port, SJ_TEST_HANG_MS, err);
    return rc;
}

static int relay_start(chaos_net *n, int t, sj_error *err)
{
    char cfg[PATH_MAX + 32], text[8192], bin[PATH_MAX], log[PATH_MAX + 32];
    const char *town = n->township[t];
    n->relay_port[t] = sj_test_proc_free_port();
    snprintf(cfg, sizeof cfg, "%s/relay-%s.conf", n->dir, town);
    snprintf(text, sizeof text,
             "[listen]\naddress = 127.0.0.1:%d\n"
             "[county]\naddresses = 127.0.0.1:%d\nnode = county:" CHAOS_COUNTY "\n"
             "[tls]\nca = %s/pki/ca/ca.crt\ncert = %s/pki/relay-%s.crt\nkey = %s/pki/relay-%s.key\n"
             "[store]\npath = %s/stores/relay-%s.db\n"
             "[upstream]\nbackoff_max = 1s\n"
             "[link]\nheartbeat = 2s\nidle_timeout = 8s\n"
             "[log]\nlevel = warn\n",
             n->relay_port[t], n->up[t].listen_port, n->dir, n->dir, town, n->dir, town, n->dir,
             town);
    int rc = write_file(cfg, text, err);
    if (rc < 0)
        return rc;
    snprintf(bin, sizeof bin, "%s/relay/sanji-relayd", build_dir());
    snprintf(log, sizeof log, "%s/logs/relay-%s.log", n->dir, town);
    const char *argv[] = {bin, "--config", cfg, "run", NULL};
    char core[40];
    snprintf(core, sizeof core, "relay-%s", town);
    give_core_dir(n, &n->relay[t], core);
    rc = sj_test_proc_start(&n->relay[t], argv, NULL, log, err);
    if (rc == 0)
        rc = sj_test_proc_wait_port(&n->relay[t], n->relay_port[t], SJ_TEST_HANG_MS, err);
    return rc;
}

/* ---- set-up ----------------------------------------------------------------------- */

static int make_pki(chaos_net *n, sj_error *err)
{
    /* One shell script for every certificate: a few hundred ms, not one
     * fork per call from here. */
    char script[PATH_MAX + 16], pki[PATH_MAX];
    snprintf(script, sizeof script, "%s/pki.sh", n->dir);
    snprintf(pki, sizeof pki, "%s/deploy/pki/sanji-pki", build_dir());
    FILE *f = fopen(script, "w");
    if (!f)
        return sj_error_set(err, SJ_EIO, "cannot write %s", script);
    fprintf(f, "set -e\nP=%s\nD=%s/pki\nmkdir -p $D\n", pki, n->dir);
    fprintf(f, "$P init --dir $D/ca --county " CHAOS_COUNTY " --name 鲁山县\n");
    fprintf(f, "$P issue --dir $D/ca --role county --unit " CHAOS_COUNTY
               " --host 127.0.0.1,localhost --out $D/county\n");
    fprintf(f, "$P issue --dir $D/ca --role county-desk --unit " CHAOS_COUNTY
               " --name ops1 --out $D/county-desk\n");
    for (int t = 0; t < n->n_townships; t++) {
        fprintf(f, "$P issue --dir $D/ca --role relay --unit %s --host 127.0.0.1,localhost"
                   " --out $D/relay-%s &\n",
                n->township[t], n->township[t]);
        fprintf(f, "$P issue --dir $D/ca --role township-desk --unit %s --out $D/desk-%s &\n",
                n->township[t], n->township[t]);
        for (int v = 0; v < n->villages_per_township; v++)
            fprintf(f, "$P issue --dir $D/ca --role village --unit %s --out $D/station-%s &\n",
                    n->village[t][v], n->village[t][v]);
        fprintf(f, "wait\n");
    }
    fclose(f);
    if (sh("bash %s >%s/logs/pki.log 2>&1", script, n->dir) != 0)
        return sj_error_set(err, SJ_EIO, "sanji-pki failed: see %s/logs/pki.log", n->dir);
    return 0;
}

int chaos_net_setup(chaos_net *n, sj_workload *w, int n_townships, int villages_per_township,
                    sj_error *err)
{
    if (n_townships < 1 || n_townships > CHAOS_TOWNSHIPS_MAX || villages_per_township < 1 ||
        villages_per_township > CHAOS_VILLAGES_MAX)
        return sj_error_set(err, SJ_EINVAL, "townships 1..%d, villages 1..%d",
                            CHAOS_TOWNSHIPS_MAX, CHAOS_VILLAGES_MAX);
    n->n_townships = n_townships;
    n->big_t = -1;
    for (int t = 0; t < CHAOS_TOWNSHIPS_MAX; t++)
        n->proc_v[t] = -1;
    /* The townships with the most villages first, so that every one has
     * enough; the demo county has about 20 per township. */
    size_t nt = sj_workload_township_count(w);
    int picked = 0;
    for (size_t i = 0; i < nt && picked < n_townships; i++) {
        const char *code = sj_workload_township(w, i, NULL);
        const char *vs[CHAOS_VILLAGES_MAX];
        size_t nv = sj_workload_villages_of(w, code, vs, CHAOS_VILLAGES_MAX);
        if ((int)nv < villages_per_township)
            continue;
        snprintf(n->township[picked], 13, "%s", code);
        for (int v = 0; v < villages_per_township; v++)
            snprintf(n->village[picked][v], 13, "%s", vs[v]);
        picked++;
    }
    if (picked < n_townships)
        return sj_error_set(err, SJ_EINVAL, "the demo county has only %d townships with %d villages",
                            picked, villages_per_township);
    n->villages_per_township = villages_per_township;

    snprintf(n->dir, sizeof n->dir, "/tmp/sanji-chaos-XXXXXX");
    if (!mkdtemp(n->dir))
        return sj_error_set(err, SJ_EIO, "mkdtemp: %s", strerror(errno));
    chmod(n->dir, 0755);
    if (sh("mkdir -p %s/logs %s/stores %s/pki %s/cores %s/stations", n->dir, n->dir, n->dir, n->dir,
           n->dir) != 0)
        return sj_error_set(err, SJ_EIO, "mkdir in %s failed", n->dir);
    int rc;
    if ((rc = make_pki(n, err)) < 0 || (rc = pg_start(n, err)) < 0 ||
        (rc = county_start(n, err)) < 0)
        return rc;
    for (int t = 0; t < n->n_townships; t++) {
        char name[32];
        snprintf(name, sizeof name, "up-%d", t);
        if ((rc = proxy_start(n, &n->up[t], name, n->county_port, err)) < 0 ||
            (rc = relay_start(n, t, err)) < 0)
            return rc;
        snprintf(name, sizeof name, "down-%d", t);
        if ((rc = proxy_start(n, &n->down[t], name, n->relay_port[t], err)) < 0)
            return rc;
    }
    return proxy_start(n, &n->county_desk, "county-desk", n->county_port, err);
}

int chaos_net_open(chaos_net *n, const char *dir, sj_error *err)
{
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    snprintf(n->pgdir, sizeof n->pgdir, "%s-pg", n->dir);
    char stores[PATH_MAX];
    snprintf(stores, sizeof stores, "%s/stores", n->dir);
    DIR *d = opendir(stores);
    if (!d)
        return sj_error_set(err, SJ_ENOTFOUND, "%s: %s (not a kept chaos run?)", stores,
                            strerror(errno));
    /* The relays' stores name the townships, the stations' the villages. */
    char villages[CHAOS_TOWNSHIPS_MAX * CHAOS_VILLAGES_MAX][13];
    int nv = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char code[13];
        if (strlen(e->d_name) == 6 + 12 + 3 && sscanf(e->d_name, "relay-%12[0-9].db", code) == 1 &&
            n->n_townships < CHAOS_TOWNSHIPS_MAX)
            snprintf(n->township[n->n_townships++], 13, "%s", code);
        else if (strlen(e->d_name) == 8 + 12 + 3 &&
                 sscanf(e->d_name, "station-%12[0-9].db", code) == 1 &&
                 nv < CHAOS_TOWNSHIPS_MAX * CHAOS_VILLAGES_MAX)
            snprintf(villages[nv++], 13, "%s", code);
    }
    closedir(d);
    if (n->n_townships == 0)
        return sj_error_set(err, SJ_ENOTFOUND, "no relay store in %s", stores);
    int per[CHAOS_TOWNSHIPS_MAX] = {0};
    for (int i = 0; i < nv; i++)
        for (int t = 0; t < n->n_townships; t++)
            if (strncmp(villages[i], n->township[t], 9) == 0 && per[t] < CHAOS_VILLAGES_MAX)
                snprintf(n->village[t][per[t]++], 13, "%.12s", villages[i]);
    for (int t = 0; t < n->n_townships; t++) {
        if (per[t] != per[0])
            return sj_error_set(err, SJ_EINVAL, "%s: township %s has %d stations, %s has %d",
                                stores, n->township[t], per[t], n->township[0], per[0]);
    }
    n->villages_per_township = per[0];
    /* A station that ran as a process left its journal in <dir>/stations. */
    n->big_t = -1;
    for (int t = 0; t < CHAOS_TOWNSHIPS_MAX; t++) {
        n->proc_v[t] = -1;
        for (int v = 0; t < n->n_townships && v < per[t]; v++) {
            char j[PATH_MAX];
            snprintf(j, sizeof j, "%s/stations/%s.journal", n->dir, n->village[t][v]);
            if (access(j, F_OK) == 0)
                n->proc_v[t] = v;
        }
    }
    int rc = pg_read_conninfo(n, err);
    if (rc < 0)
        return rc;
    /* A cluster someone already runs on that port (a test planting faults
     * keeps it up between checks) is used as it is. */
    if (sh(PGBIN "/pg_isready -q -h 127.0.0.1 -p %d -t 1", n->pg_port) == 0)
        return 0;
    return pg_run(n, err);
}

void chaos_net_stop(chaos_net *n)
{
    /* A process that has not ended on SIGTERM by the hang deadline is
     * stuck, not slow: that is a crash.  Clients first. */
    for (int t = 0; t < n->n_townships; t++) {
        char what[48];
        snprintf(what, sizeof what, "sanji-chaos-station %s", n->proc_v[t] >= 0 ? n->village[t][n->proc_v[t]] : "");
        stop_checked(n, &n->station[t], SJ_TEST_HANG_MS, what);
    }
    for (int t = 0; t < n->n_townships; t++) {
        stop_checked(n, &n->up[t].proc, SJ_TEST_HANG_MS, n->up[t].name);
        stop_checked(n, &n->down[t].proc, SJ_TEST_HANG_MS, n->down[t].name);
    }
    stop_checked(n, &n->county_desk.proc, SJ_TEST_HANG_MS, n->county_desk.name);
    for (int t = 0; t < n->n_townships; t++) {
        char what[40];
        snprintf(what, sizeof what, "sanji-relayd %s", n->township[t]);
        stop_checked(n, &n->relay[t], SJ_TEST_HANG_MS, what);
    }
    stop_checked(n, &n->county, SJ_TEST_HANG_MS, "sanji-countyd");
    if (n->pg.pid > 0) {
        stop_checked(n, &n->pg, SJ_TEST_HANG_MS, "PostgreSQL");
        scan_pg_log(n);
    }
}

void chaos_net_free(chaos_net *n, bool keep)
{
    chaos_net_stop(n);
    for (int t = 0; t < n->n_townships; t++) {
        sj_test_proc_free(&n->up[t].proc);
        sj_test_proc_free(&n->down[t].proc);
        sj_test_proc_free(&n->relay[t]);
        sj_test_proc_free(&n->station[t]);
    }
    sj_test_proc_free(&n->county_desk.proc);
    sj_test_proc_free(&n->county);
    sj_test_proc_free(&n->pg);
    if (n->pg_made && !keep)
        (void)sh("%s/tests/lib/pg_cluster.sh stop %s", source_dir(), n->pgdir);
    if (n->dir[0] && !keep)
        (void)sh("rm -rf %s", n->dir);
    else if (n->dir[0])
        fprintf(stderr, "sanji-chaos: kept %s and %s\n", n->dir, n->pgdir);
}

/* ---- faults ------------------------------------------------------------------------- */

static uint64_t between(sj_workload *w, uint64_t lo, uint64_t hi)
{
    return lo + sj_workload_below(w, hi - lo + 1);
}

static chaos_proxy *pick_proxy(chaos_net *n, sj_workload *w)
{
    uint64_t k = sj_workload_below(w, (uint64_t)(2 * n->n_townships + 1));
    if (k == (uint64_t)(2 * n->n_townships))
        return &n->county_desk;
    return k % 2 ? &n->down[k / 2] : &n->up[k / 2];
}

int chaos_net_fault(chaos_net *n, sj_workload *w, chaos_fault_kind kind, uint64_t now_ms,
                    sj_error *err)
{
    int rc = 0;
    char cmd[64];
    chaos_proxy *p = NULL;
    switch (kind) {
    case CHAOS_F_RELAY_KILL: {
        int t = (int)sj_workload_below(w, (uint64_t)n->n_townships);
        if (n->relay_restart_at[t])
            return SJ_EBUSY; /* already down */
        char what[40];
        snprintf(what, sizeof what, "sanji-relayd %s", n->township[t]);
        kill9_checked(n, &n->relay[t], what);
        n->relay_restart_at[t] = now_ms + between(w, 200, 3000);
        if (n->verbose)
            fprintf(stderr, "chaos: kill -9 relay %s\n", n->township[t]);
        break;
    }
    case CHAOS_F_COUNTY_KILL:
        if (n->county_restart_at)
            return SJ_EBUSY;
        kill9_checked(n, &n->county, "sanji-countyd");
        n->county_restart_at = now_ms + between(w, 200, 3000);
        if (n->verbose)
            fprintf(stderr, "chaos: kill -9 county\n");
        break;
    case CHAOS_F_PG_CRASH:
        if (n->pg_restart_at)
            return SJ_EBUSY;
        /* Immediate shutdown: the postmaster SIGQUITs every backend and
         * exits without a checkpoint; the restart runs crash recovery. */
        if (sj_test_proc_signal(&n->pg, SIGQUIT) != 0) {
            if (n->pg.exited)
                crash(n, &n->pg, "PostgreSQL", "had ended before its immediate shutdown");
        } else if (sj_test_proc_wait(&n->pg, SJ_TEST_HANG_MS, err) != 0) {
            (void)sj_test_proc_kill9(&n->pg);
            crash(n, &n->pg, "PostgreSQL", "hung after SIGQUIT (killed)");
        } else if (!ended_as_asked(&n->pg, SIGQUIT)) {
            /* (A postmaster that had just been restarted dies of the
             * SIGQUIT itself, with a core: found by a chaos run.) */
            crash(n, &n->pg, "PostgreSQL", "ended badly on SIGQUIT");
        }
        n->pg_restart_at = now_ms + between(w, 200, 3000);
        if (n->verbose)
            fprintf(stderr, "chaos: PostgreSQL immediate shutdown\n");
        break;
    case CHAOS_F_LINK_DELAY:
        p = pick_proxy(n, w);
        snprintf(cmd, sizeof cmd, "delay %u", (unsigned)between(w, 50, 2000));
        rc = proxy_cmd(p, cmd, err);
        p->faulty = true;
        p->heal_at_ms = now_ms + between(w, 1000, 8000);
        break;
    case CHAOS_F_LINK_BLACKHOLE:
        p = pick_proxy(n, w);
        snprintf(cmd, sizeof cmd, "blackhole");
        rc = proxy_cmd(p, cmd, err);
        p->faulty = true;
        p->heal_at_ms = now_ms + between(w, 1000, 10000);
        break;
    case CHAOS_F_LINK_RESET:
        p = pick_proxy(n, w);
        snprintf(cmd, sizeof cmd, "reset");
        rc = proxy_cmd(p, cmd, err);
        break;
    case CHAOS_F_LINK_REFUSE:
        p = pick_proxy(n, w);
        snprintf(cmd, sizeof cmd, "refuse");
        rc = proxy_cmd(p, cmd, err);
        if (rc == 0)
            rc = proxy_cmd(p, "reset", err);
        p->faulty = true;
        p->heal_at_ms = now_ms + between(w, 1000, 5000);
        break;
    case CHAOS_F_STATION_KILL: {
        /* The one asked for a large upload, else any that runs. */
        int t = n->big_t;
        if (t < 0 || n->proc_v[t] < 0 || n->station_restart_at[t])
            for (int k = 0, start = (int)sj_workload_below(w, (uint64_t)n->n_townships);
                 k < n->n_townships; k++) {
                t = (start + k) % n->n_townships;
                if (n->proc_v[t] >= 0 && !n->station_restart_at[t])
                    break;
                t = -1;
            }
        if (t < 0)
            return SJ_EBUSY; /* none runs now */
        char what[48];
        snprintf(what, sizeof what, "sanji-chaos-station %s", n->village[t][n->proc_v[t]]);
        kill9_checked(n, &n->station[t], what);
        n->station_restart_at[t] = now_ms + between(w, 200, 3000);
        n->big_t = -1;
        if (n->verbose)
            fprintf(stderr, "chaos: kill -9 %s\n", what);
        break;
    }
    default:
        return sj_error_set(err, SJ_EINVAL, "fault %d is not the network's", kind);
    }
    if (rc == 0) {
        n->faults[kind]++;
        if (p && n->verbose)
            fprintf(stderr, "chaos: %s on %s\n", cmd, p->name);
    }
    return rc;
}

static void restart(sj_test_proc *p, const char *what)
{
    sj_error err;
    if (sj_test_proc_restart(p, &err) != 0)
        fprintf(stderr, "sanji-chaos: cannot restart %s: %s\n", what, err.message);
}

/* A daemon that exited although nobody killed it has crashed: that is a
 * finding (a daemon never dies because a peer misbehaved), reported and
 * restarted so that the run goes on. */
static bool check_alive(chaos_net *n, sj_test_proc *p, uint64_t restart_at, const char *what)
{
    if (restart_at || p->pid <= 0 || sj_test_proc_alive(p))
        return true;
    crash(n, p, what, "exited by itself");
    restart(p, what);
    return false;
}

/* A proxy that crashed is started again on its ports, in pass mode. */
static void check_proxy(chaos_net *n, chaos_proxy *p)
{
    if (!check_alive(n, &p->proc, 0, p->name)) {
        p->faulty = false;
        p->heal_at_ms = 0;
    }
}

void chaos_net_poll(chaos_net *n, uint64_t now_ms)
{
    if (n->pg_restart_at && now_ms >= n->pg_restart_at) {
        restart(&n->pg, "PostgreSQL");
        n->pg_restart_at = 0;
    }
    if (n->county_restart_at && now_ms >= n->county_restart_at) {
        restart(&n->county, "sanji-countyd");
        n->county_restart_at = 0;
    }
    for (int t = 0; t < n->n_townships; t++) {
        if (n->relay_restart_at[t] && now_ms >= n->relay_restart_at[t]) {
            restart(&n->relay[t], "sanji-relayd");
            n->relay_restart_at[t] = 0;
        }
        char what[48];
        snprintf(what, sizeof what, "sanji-relayd %s", n->township[t]);
        check_alive(n, &n->relay[t], n->relay_restart_at[t], what);
        if (n->proc_v[t] >= 0) {
            snprintf(what, sizeof what, "sanji-chaos-station %s", n->village[t][n->proc_v[t]]);
            if (n->station_restart_at[t] && now_ms >= n->station_restart_at[t]) {
                restart(&n->station[t], what);
                n->station_restart_at[t] = 0;
            }
            check_alive(n, &n->station[t], n->station_restart_at[t], what);
        }
        check_proxy(n, &n->up[t]);
        check_proxy(n, &n->down[t]);
        for (int k = 0; k < 2; k++) {
            chaos_proxy *p = k ? &n->down[t] : &n->up[t];
            if (p->faulty && p->heal_at_ms && now_ms >= p->heal_at_ms) {
                sj_error err;
                if (proxy_cmd(p, "pass", &err) == 0)
                    p->faulty = false;
                p->heal_at_ms = 0;
            }
        }
    }
    if (n->county_desk.faulty && n->county_desk.heal_at_ms && now_ms >= n->county_desk.heal_at_ms) {
        sj_error err;
        if (proxy_cmd(&n->county_desk, "pass", &err) == 0)
            n->county_desk.faulty = false;
        n->county_desk.heal_at_ms = 0;
    }
    check_proxy(n, &n->county_desk);
    check_alive(n, &n->county, n->county_restart_at, "sanji-countyd");
    check_alive(n, &n->pg, n->pg_restart_at, "PostgreSQL");
}

int chaos_net_heal(chaos_net *n, sj_error *err)
{
    int rc = 0;
    chaos_net_poll(n, UINT64_MAX);
    for (int t = 0; t < n->n_townships; t++) {
        chaos_proxy *ps[2] = {&n->up[t], &n->down[t]};
        for (int k = 0; k < 2; k++)
            if (proxy_cmd(ps[k], "pass", err) == 0)
                ps[k]->faulty = false;
            else
                rc = SJ_EIO;
    }
    if (proxy_cmd(&n->county_desk, "pass", err) == 0)
        n->county_desk.faulty = false;
    else
        rc = SJ_EIO;
    return rc;
}

bool chaos_net_healthy(const chaos_net *n)
{
    if (n->pg_restart_at || n->county_restart_at || n->county_desk.faulty)
        return false;
    for (int t = 0; t < n->n_townships; t++)
        if (n->relay_restart_at[t] || n->station_restart_at[t] || n->up[t].faulty || n->down[t].faulty)
            return false;
    return true;
}

/* ---- station processes ------------------------------------------------------------ */

void chaos_net_station_file(const chaos_net *n, int t, const char *suffix, char *out, size_t cap)
{
    snprintf(out, cap, "%s/stations/%s.journal%s", n->dir,
             n->proc_v[t] >= 0 ? n->village[t][n->proc_v[t]] : "none", suffix);
}

void chaos_net_station_store(const chaos_net *n, int t, char *out, size_t cap)
{
    snprintf(out, cap, "%s/stores/station-%s.db", n->dir,
             n->proc_v[t] >= 0 ? n->village[t][n->proc_v[t]] : "none");
}

int chaos_net_stations_start(chaos_net *n, int count, double rate, uint64_t seed, sj_error *err)
{
    for (int t = 0; t < n->n_townships && t < count; t++) {
        if (n->villages_per_township < 2)
            break; /* the in-process load needs a station of its own */
        n->proc_v[t] = n->villages_per_township - 1;
        const char *village = n->village[t][n->proc_v[t]];
        char bin[PATH_MAX], store[PATH_MAX], cert[PATH_MAX], ca[PATH_MAX + 16],
            crl[PATH_MAX + 16], addr[32], peer[40], unit[13], journal[PATH_MAX], seed_s[24],
            rate_s[32], log[PATH_MAX + 48], name[40];
        snprintf(bin, sizeof bin, "%s/tests/chaos/sanji-chaos-station", build_dir());
        chaos_net_station_store(n, t, store, sizeof store);
        snprintf(name, sizeof name, "station-%s", village);
        chaos_net_cert(n, name, cert, sizeof cert);
        snprintf(ca, sizeof ca, "%s/pki/ca/ca.crt", n->dir);
        snprintf(crl, sizeof crl, "%s/pki/ca/crl.pem", n->dir);
        snprintf(addr, sizeof addr, "127.0.0.1:%d", n->down[t].listen_port);
        snprintf(peer, sizeof peer, "relay:%s", n->township[t]);
        snprintf(unit, sizeof unit, "%s", village);
        chaos_net_station_file(n, t, "", journal, sizeof journal);
        snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)(seed + (uint64_t)t));
        snprintf(rate_s, sizeof rate_s, "%g", rate);
        snprintf(log, sizeof log, "%s/logs/station-%s.log", n->dir, village);
        /* The journal exists from the start: it marks the station as a
         * process for a later --check. */
        FILE *f = fopen(journal, "a");
        if (!f)
            return sj_error_set(err, SJ_EIO, "cannot make %s", journal);
        fclose(f);
        const char *argv[] = {bin, "--store", store, "--cert", cert, "--ca", ca, "--crl", crl,
                              "--address", addr, "--peer", peer, "--unit", unit,
                              "--journal", journal, "--seed", seed_s, "--rate", rate_s, NULL};
        give_core_dir(n, &n->station[t], name);
        int rc = sj_test_proc_start(&n->station[t], argv, NULL, log, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int chaos_net_station_big(chaos_net *n, sj_workload *w, sj_error *err)
{
    int start = (int)sj_workload_below(w, (uint64_t)n->n_townships);
    for (int k = 0; k < n->n_townships; k++) {
        int t = (start + k) % n->n_townships;
        if (n->proc_v[t] < 0 || n->station_restart_at[t])
            continue;
        char path[PATH_MAX];
        chaos_net_station_file(n, t, ".big", path, sizeof path);
        int rc = write_file(path, "", err);
        if (rc < 0)
            return rc;
        n->big_t = t;
        return 0;
    }
    return sj_error_set(err, SJ_EBUSY, "no station process runs now");
}

bool chaos_net_station_uploading(const chaos_net *n)
{
    if (n->big_t < 0 || n->proc_v[n->big_t] < 0)
        return false;
    char store[PATH_MAX], uri[PATH_MAX + 32];
    chaos_net_station_store(n, n->big_t, store, sizeof store);
    snprintf(uri, sizeof uri, "file:%s?mode=ro", store);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool up = false;
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 1000) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM attachments WHERE local = 1 AND code = 0"
                           " AND chunks_applied < chunk_count",
                           -1, &st, NULL) == SQLITE_OK)
        up = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return up;
}

bool chaos_net_station_wait_upload(const chaos_net *n, int max_ms)
{
    for (int waited = 0;; waited += 2) {
        if (chaos_net_station_uploading(n))
            return true;
        if (waited >= max_ms)
            return false;
        uv_sleep(2);
    }
}

void chaos_net_stations_done(chaos_net *n)
{
    for (int t = 0; t < n->n_townships; t++) {
        if (n->proc_v[t] < 0)
            continue;
        char path[PATH_MAX];
        sj_error err;
        chaos_net_station_file(n, t, ".done", path, sizeof path);
        if (write_file(path, "", &err) != 0)
            fprintf(stderr, "sanji-chaos: %s\n", err.message);
    }
}
