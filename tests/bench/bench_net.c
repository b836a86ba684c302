/*
 * bench_net.c - the benchmark network on loopback: certificates made with
 * the real sanji-pki, a private PostgreSQL 15 cluster
 * (tests/lib/pg_cluster.sh, restarted with max_connections = 100 so that
 * pgbench -c 64 fits next to the county's two connections), the demo county
 * plus bench townships 410423 9TT 000 with bench villages and one village
 * cadre each, sanji-countyd and M sanji-relayd as real processes; and the
 * /proc readers for their CPU time and memory.
 *
 * Entry points: bench_net_start(), bench_net_stop(), bench_net_village_cert(),
 * bench_net_sql(), bench_sh(), bench_township(), bench_village(),
 * bench_source_dir(), bench_build_dir(), bench_proc_read(),
 * bench_proc_reset_peak(), bench_hist_add(), bench_hist_quantile().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "err.h"

#define PGBIN "/usr/lib/postgresql/15/bin"

/* Both set by main() through sj_test_dirs_find() (tests/lib/dirs.h). */
const char *bench_source_dir(void)
{
    return getenv("SANJI_SOURCE_DIR");
}

const char *bench_build_dir(void)
{
    return getenv("SANJI_BUILD_DIR");
}

int bench_sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof(cmd)) {
        fprintf(stderr, "sanji-bench: command too long\n");
        return -1;
    }
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "sanji-bench: command failed (%d): %.300s\n", rc, cmd);
    return rc;
}

/* ---- histogram --------------------------------------------------------------- */

static size_t bucket_of(uint64_t v)
{
    if (v < BENCH_HIST_SUB)
        return (size_t)v;
    int msb = 63 - __builtin_clzll(v);      /* >= 6 */
    int shift = msb - 5;                    /* keeps 6 significant bits: 32..63 */
    size_t i = (size_t)(shift + 1) * (BENCH_HIST_SUB / 2) + (size_t)(v >> shift);
    return i < BENCH_HIST_BUCKETS ? i : BENCH_HIST_BUCKETS - 1;
}

static uint64_t bucket_top(size_t i)
{
    if (i < BENCH_HIST_SUB)
        return i;
    /* Inverse of bucket_of: i = (shift + 1) * 32 + m with m in 32..63. */
    size_t shift = i / (BENCH_HIST_SUB / 2) - 2;
    uint64_t m = i % (BENCH_HIST_SUB / 2) + BENCH_HIST_SUB / 2;
    return ((m + 1) << shift) - 1;
}

void bench_hist_add(bench_hist *h, uint64_t us)
{
    h->counts[bucket_of(us)]++;
    h->n++;
    if (us > h->max_us)
        h->max_us = us;
}

uint64_t bench_hist_quantile(const bench_hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)h->n + 0.999999);
    if (want == 0)
        want = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            uint64_t top = bucket_top(i);
            return top < h->max_us ? top : h->max_us;
        }
    }
    return h->max_us;
}

/* ---- /proc ------------------------------------------------------------------- */

int bench_proc_read(pid_t pid, bench_proc_stat *out)
{
    memset(out, 0, sizeof(*out));
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return SJ_EIO;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name (which may hold spaces): state is 3. */
    char *p = strrchr(buf, ')');
    if (!p)
        return SJ_EIO;
    unsigned long utime = 0, stime = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return SJ_EIO;
    out->cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (!(f = fopen(path, "r")))
        return SJ_EIO;
    while (fgets(buf, sizeof(buf), f)) {
        if (strncmp(buf, "VmHWM:", 6) == 0)
            out->hwm_kib = atol(buf + 6);
        else if (strncmp(buf, "VmRSS:", 6) == 0)
            out->rss_kib = atol(buf + 6);
    }
    fclose(f);
    return 0;
}

void bench_proc_reset_peak(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

/* ---- names ---------------------------------------------------------------------- */

void bench_township(int t, char out[13])
{
    snprintf(out, 13, "%s%03u000", BENCH_COUNTY, (unsigned)(901 + t) % 1000u);
}

void bench_village(int t, int k, char out[13])
{
    snprintf(out, 13, "%s%03u%03u", BENCH_COUNTY, (unsigned)(901 + t) % 1000u,
             (unsigned)(k + 1) % 1000u);
}

/* ---- the network ---------------------------------------------------------------- */

static const char *pki_bin(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/deploy/pki/sanji-pki", bench_build_dir());
    return buf;
}

int bench_net_village_cert(bench_net *n, const char *village, char *prefix, size_t cap)
{
    char pki[PATH_MAX], crt[PATH_MAX + 8];
    snprintf(prefix, cap, "%s/v%s", n->dir, village);
    snprintf(crt, sizeof(crt), "%s.crt", prefix);
    if (access(crt, R_OK) == 0)
        return 0;
    if (bench_sh("%s issue --dir %s/ca --role village --unit %s --out %s >/dev/null",
                 pki_bin(pki, sizeof(pki)), n->dir, village, prefix) != 0)
        return SJ_EIO;
    return 0;
}

int bench_net_sql(const bench_net *n, const char *sql, const char *out_file)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/q.sql", n->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return SJ_EIO;
    fputs(sql, f);
    fclose(f);
    return bench_sh(PGBIN "/psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %d -U sanji -d sanji"
                    " -f %s %s%s",
                    n->pg_port, path, out_file ? ">" : ">/dev/null", out_file ? out_file : "") == 0
               ? 0
               : SJ_EDB;
}

static int start_pg(bench_net *n)
{
    if (bench_sh("%s/tests/lib/pg_cluster.sh start %s >/dev/null", bench_source_dir(), n->pgdir))
        return SJ_EDB_CONN;
    n->pg_up = true;
    /* PostgreSQL runs as the test user, who may not pass through the link's
     * parents (tests/lib/pg_cluster.sh): its programs get the physical folder. */
    char *phys = realpath(n->pgdir, NULL);
    if (!phys)
        return SJ_EIO;
    snprintf(n->pgpath, sizeof n->pgpath, "%s", phys);
    free(phys);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/conninfo", n->pgdir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(n->conninfo, sizeof(n->conninfo), f)) {
        if (f)
            fclose(f);
        return SJ_EIO;
    }
    fclose(f);
    n->conninfo[strcspn(n->conninfo, "\r\n")] = '\0';
    const char *p = strstr(n->conninfo, "port=");
    n->pg_port = p ? atoi(p + 5) : 0;
    /* The same settings as pg_cluster.sh, but room for pgbench -c 64 plus the
     * county's connections. */
    const char *as = getuid() == 0 ? "runuser -u sanji-test --" : "";
    if (bench_sh("cd %s && %s " PGBIN "/pg_ctl -D %s/data -l %s/server.log -w -t 60 restart -o "
                 "'-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "
                 "-c shared_buffers=16MB -c max_connections=100 -c fsync=on "
                 "-c max_wal_size=256MB -c log_min_messages=warning' >/dev/null",
                 n->pgpath, as, n->pgpath, n->pgpath, n->pg_port, n->pgpath))
        return SJ_EDB_CONN;
    return 0;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "sanji-bench: cannot write %s: %s\n", path, strerror(errno));
        return SJ_EIO;
    }
    fputs(text, f);
    fclose(f);
    return 0;
}

static int start_county(bench_net *n)
{
    char cfg[PATH_MAX], text[4096], bin[PATH_MAX], log[PATH_MAX];
    n->county_port = sj_test_proc_free_port();
    snprintf(cfg, sizeof(cfg), "%s/countyd.conf", n->dir);
    snprintf(text, sizeof(text),
             "[listen]\naddress = \"127.0.0.1:%d\"\n"
             "[tls]\nca = %s/ca/ca.crt\ncert = %s/county.crt\nkey = %s/county.key\n"
             "[database]\nconninfo = \"%s\"\n[county]\ncode = \"%s\"\n"
             "[log]\nlevel = warn\n%s\n",
             n->county_port, n->dir, n->dir, n->dir, n->conninfo, BENCH_COUNTY,
             n->opts.county_extra ? n->opts.county_extra : "");
    if (write_file(cfg, text) != 0)
        return SJ_EIO;
    snprintf(bin, sizeof(bin), "%s/server/sanji-countyd", bench_build_dir());
    if (bench_sh("%s --config %s migrate >>%s/setup.log 2>&1 && "
                 "%s --config %s demo-load %s/deploy/demo >>%s/setup.log 2>&1",
                 bin, cfg, n->dir, bin, cfg, bench_source_dir(), n->dir))
        return SJ_EDB;
    /* Bench townships and villages, one village cadre each. */
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "INSERT INTO org_unit (code, name, level, parent)"
             " SELECT '%s' || (900 + t) || '000', '基准镇' || t, 2, '%s000000'"
             " FROM generate_series(1, %d) t;"
             "INSERT INTO org_unit (code, name, level, parent)"
             " SELECT '%s' || (900 + t) || lpad(v::text, 3, '0'), '基准村' || t || '-' || v, 1,"
             " '%s' || (900 + t) || '000' FROM generate_series(1, %d) t, generate_series(1, %d) v;"
             "INSERT INTO person (id, name, role, org_unit, verifier)"
             " SELECT 'b' || code, '基准干部', 1, code, 'scrypt$bench' FROM org_unit"
             " WHERE level = 1 AND code LIKE '%s9%%';"
             "UPDATE reference_version SET version = version + 1;",
             BENCH_COUNTY, BENCH_COUNTY, BENCH_RELAYS_MAX, BENCH_COUNTY, BENCH_COUNTY,
             BENCH_RELAYS_MAX, n->opts.villages, BENCH_COUNTY);
    if (bench_net_sql(n, sql, NULL) != 0)
        return SJ_EDB;
    char vf[PATH_MAX];
    snprintf(vf, sizeof(vf), "%s/versions", n->dir);
    if (bench_net_sql(n, "SELECT version FROM reference_version ORDER BY"
                         " array_position(ARRAY['catalogue','org_tree','person'], name)",
                      vf) != 0)
        return SJ_EDB;
    FILE *f = fopen(vf, "r");
    for (int i = 0; f && i < 3; i++)
        if (fscanf(f, "%" SCNu64, &n->versions[i]) != 1)
            n->versions[i] = 0;
    if (f)
        fclose(f);
    snprintf(log, sizeof(log), "%s/countyd.log", n->dir);
    const char *argv[] = {bin, "--config", cfg, "run", NULL};
    sj_error err;
    if (sj_test_proc_start(&n->county, argv, NULL, log, &err) != 0 ||
        sj_test_proc_wait_port(&n->county, n->county_port, 20000, &err) != 0) {
        fprintf(stderr, "sanji-bench: sanji-countyd: %s\n", err.message);
        return SJ_ECONNECT;
    }
    return 0;
}

static int start_relay(bench_net *n, int t)
{
    char town[13], cfg[PATH_MAX], text[4096], bin[PATH_MAX], log[PATH_MAX];
    bench_township(t, town);
    n->relay_port[t] = sj_test_proc_free_port();
    snprintf(cfg, sizeof(cfg), "%s/relay-%s.conf", n->dir, town);
    snprintf(text, sizeof(text),
             "[listen]\naddress = 127.0.0.1:%d\n"
             "[county]\naddresses = 127.0.0.1:%d\nnode = county:%s000000\n"
             "[tls]\nca = %s/ca/ca.crt\ncert = %s/relay-%s.crt\nkey = %s/relay-%s.key\n"
             "[store]\npath = %s/relay-%s.db\n[upstream]\nbackoff_max = 2s\n"
             "[log]\nlevel = warn\n%s\n",
             n->relay_port[t], n->county_port, BENCH_COUNTY, n->dir, n->dir, town, n->dir, town,
             n->dir, town, n->opts.relay_extra ? n->opts.relay_extra : "");
    if (write_file(cfg, text) != 0)
        return SJ_EIO;
    snprintf(bin, sizeof(bin), "%s/relay/sanji-relayd", bench_build_dir());
    snprintf(log, sizeof(log), "%s/relay-%s.log", n->dir, town);
    const char *argv[] = {bin, "--config", cfg, "run", NULL};
    sj_error err;
    if (sj_test_proc_start(&n->relay[t], argv, NULL, log, &err) != 0 ||
        sj_test_proc_wait_port(&n->relay[t], n->relay_port[t], 20000, &err) != 0) {
        fprintf(stderr, "sanji-bench: sanji-relayd %s: %s\n", town, err.message);
        return SJ_ECONNECT;
    }
    return 0;
}

int bench_net_start(bench_net *n, const bench_net_opts *opts)
{
    n->opts = *opts;
    if (n->opts.relays < 1 || n->opts.relays > BENCH_RELAYS_MAX || n->opts.villages < 1 ||
        n->opts.villages > 999) {
        fprintf(stderr, "sanji-bench: relays 1..%d, villages 1..999\n", BENCH_RELAYS_MAX);
        return SJ_EINVAL;
    }
    snprintf(n->dir, sizeof(n->dir), "/tmp/sanji-bench-XXXXXX");
    snprintf(n->pgdir, sizeof(n->pgdir), "/tmp/sanji-bench-pg-XXXXXX");
    if (!mkdtemp(n->dir) || !mkdtemp(n->pgdir)) {
        perror("sanji-bench: mkdtemp");
        return SJ_EIO;
    }
    char pki[PATH_MAX];
    pki_bin(pki, sizeof(pki));
    if (!n->opts.quiet)
        fprintf(stderr, "sanji-bench: setting up in %s (PostgreSQL in %s)\n", n->dir, n->pgdir);
    if (bench_sh("%s init --dir %s/ca --county %s000000 >/dev/null && "
                 "%s issue --dir %s/ca --role county --unit %s000000 --host 127.0.0.1"
                 " --out %s/county >/dev/null",
                 pki, n->dir, BENCH_COUNTY, pki, n->dir, BENCH_COUNTY, n->dir))
        return SJ_EIO;
    for (int t = 0; t < n->opts.relays; t++) {
        char town[13];
        bench_township(t, town);
        if (bench_sh("%s issue --dir %s/ca --role relay --unit %s --host 127.0.0.1"
                     " --out %s/relay-%s >/dev/null",
                     pki, n->dir, town, n->dir, town))
            return SJ_EIO;
    }
    int rc;
    if ((rc = start_pg(n)) != 0 || (rc = start_county(n)) != 0)
        return rc;
    for (int t = 0; t < n->opts.relays; t++)
        if ((rc = start_relay(n, t)) != 0)
            return rc;
    return 0;
}

void bench_net_stop(bench_net *n)
{
    sj_error err;
    for (int t = 0; t < BENCH_RELAYS_MAX; t++) {
        if (n->relay[t].pid > 0)
            (void)sj_test_proc_stop(&n->relay[t], 10000, &err);
        sj_test_proc_free(&n->relay[t]);
    }
    if (n->county.pid > 0)
        (void)sj_test_proc_stop(&n->county, 10000, &err);
    sj_test_proc_free(&n->county);
    if (n->pg_up)
        (void)bench_sh("%s/tests/lib/pg_cluster.sh stop %s >/dev/null", bench_source_dir(),
                       n->pgdir);
    n->pg_up = false;
    if (getenv("SANJI_BENCH_KEEP"))
        fprintf(stderr, "sanji-bench: kept %s\n", n->dir);
    else if (n->dir[0])
        (void)bench_sh("rm -rf %s %s", n->dir, n->pgdir);
    n->dir[0] = '\0';
}
