/*
 * bench_e2e.c - the end-to-end subcommands of sanji-bench:
 *
 *   e2e      county + M relays + N simulated stations over TLS on loopback:
 *            submissions (closed loop), actions on existing cases (closed
 *            loop), submissions at fixed rates (open loop, fractions of the
 *            closed-loop peak); then pgbench on the same PostgreSQL with the
 *            rows of a submission, three ways (run_baselines()); the ratios.
 *   pgbench  the baselines alone.
 *   relays   closed-loop submission throughput for 1, 2, 4 ... relays.
 *   idle     idle station sessions held by the relays (and, behind them,
 *            one county): memory per session.
 *
 * Usage: see usage() below and docs/PERFORMANCE.md.
 * Entry points: bench_e2e_main(), bench_pgbench_main(), bench_relays_main(),
 * bench_idle_main().
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "err.h"

typedef struct opts {
    int stations, relays, window, clients, set_clients, villages, sessions, parallel;
    double secs, warm, pg_secs, hold;
    double fracs[8];
    int n_fracs;
    int relay_list[8];
    int n_relay_list;
    bool no_pgbench;
    const char *county_extra;
    const char *pg_sql; /* run on the bench database before the phases */
    const char *timeline; /* every message's latency to this file */
    FILE *timeline_file;
} opts;

static void usage(void)
{
    fprintf(stderr,
            "usage: sanji-bench tls [--count N] [--handshakes N] [--pki PATH]\n"
            "       sanji-bench e2e [--stations 64] [--relays 1] [--window 1] [--secs 10]\n"
            "                       [--warm 2] [--fracs 0.5] [--pg-secs S] [--no-pgbench]\n"
            "                       [--county-conf 'key = value'...] [--pg-sql 'SQL']\n"
            "                       [--no-notify] [--timeline FILE]\n"
            "       sanji-bench pgbench [--clients 64] [--set-clients 16] [--secs 10]\n"
            "       sanji-bench relays [--stations 64] [--list 1,2,4,8,16,32] [--secs 10]\n"
            "       sanji-bench idle [--sessions 10000] [--relays 1] [--parallel 200]"
            " [--hold S]\n");
}

static int parse_list_d(const char *s, double *out, int max)
{
    int n = 0;
    char *end;
    while (*s && n < max) {
        out[n++] = strtod(s, &end);
        s = *end == ',' ? end + 1 : end;
        if (end == s && *s)
            break;
    }
    return n;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){.stations = 64, .relays = 1, .window = 1, .clients = 64, .set_clients = 16,
                .sessions = 10000,
                .parallel = 200, .secs = 10, .warm = 2, .pg_secs = 0, .fracs = {0.5},
                .n_fracs = 1, .relay_list = {1, 2, 4, 8, 16, 32}, .n_relay_list = 6,
                .county_extra = ""};
    static char extra[2048];
    extra[0] = '\0';
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-pgbench") == 0) {
            o->no_pgbench = true;
            continue;
        }
        if (strcmp(a, "--no-notify") == 0) {
            bench_load_no_notify = true;
            continue;
        }
        if (!v) {
            usage();
            return -1;
        }
        i++;
        if (strcmp(a, "--stations") == 0)
            o->stations = atoi(v);
        else if (strcmp(a, "--relays") == 0)
            o->relays = atoi(v);
        else if (strcmp(a, "--window") == 0)
            o->window = atoi(v);
        else if (strcmp(a, "--clients") == 0)
            o->clients = atoi(v);
        else if (strcmp(a, "--set-clients") == 0)
            o->set_clients = atoi(v);
        else if (strcmp(a, "--sessions") == 0)
            o->sessions = atoi(v);
        else if (strcmp(a, "--parallel") == 0)
            o->parallel = atoi(v);
        else if (strcmp(a, "--secs") == 0)
            o->secs = atof(v);
        else if (strcmp(a, "--warm") == 0)
            o->warm = atof(v);
        else if (strcmp(a, "--pg-secs") == 0)
            o->pg_secs = atof(v);
        else if (strcmp(a, "--hold") == 0)
            o->hold = atof(v);
        else if (strcmp(a, "--fracs") == 0)
            o->n_fracs = parse_list_d(v, o->fracs, 8);
        else if (strcmp(a, "--list") == 0) {
            double d[8];
            o->n_relay_list = parse_list_d(v, d, 8);
            for (int k = 0; k < o->n_relay_list; k++)
                o->relay_list[k] = (int)d[k];
        } else if (strcmp(a, "--pg-sql") == 0) {
            /* e.g. "DROP INDEX cases_stats": what a schema part costs */
            o->pg_sql = v;
        } else if (strcmp(a, "--timeline") == 0) {
            o->timeline = v;
        } else if (strcmp(a, "--county-conf") == 0) {
            /* "apply.batch_wait = 0ms": written under its section. */
            const char *dot = strchr(v, '.');
            if (!dot) {
                usage();
                return -1;
            }
            size_t len = strlen(extra);
            snprintf(extra + len, sizeof(extra) - len, "[%.*s]\n%s\n", (int)(dot - v), v, dot + 1);
            o->county_extra = extra;
        } else {
            usage();
            return -1;
        }
    }
    if (o->pg_secs <= 0)
        o->pg_secs = o->secs;
    if (o->stations < 1 || o->relays < 1 || o->relays > BENCH_RELAYS_MAX || o->window < 1 ||
        o->secs <= 0) {
        usage();
        return -1;
    }
    return 0;
}

/* ---- CPU of PostgreSQL: every process whose working directory is the data dir -- */

static double pg_cpu(const bench_net *n)
{
    char data[PATH_MAX + 8];
    snprintf(data, sizeof(data), "%s/data", n->pgpath);
    DIR *d = opendir("/proc");
    double sum = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char link[300], cwd[PATH_MAX];
        snprintf(link, sizeof(link), "/proc/%s/cwd", e->d_name);
        ssize_t k = readlink(link, cwd, sizeof(cwd) - 1);
        if (k <= 0)
            continue;
        cwd[k] = '\0';
        if (strcmp(cwd, data) != 0)
            continue;
        bench_proc_stat st;
        if (bench_proc_read((pid_t)atoi(e->d_name), &st) == 0)
            sum += st.cpu_s;
    }
    if (d)
        closedir(d);
    return sum;
}

typedef struct cpu_snap {
    double county, relays, pg;
} cpu_snap;

static cpu_snap cpu_now(const bench_net *n)
{
    cpu_snap c = {0};
    bench_proc_stat st;
    if (bench_proc_read(n->county.pid, &st) == 0)
        c.county = st.cpu_s;
    for (int t = 0; t < n->opts.relays; t++)
        if (bench_proc_read(n->relay[t].pid, &st) == 0)
            c.relays += st.cpu_s;
    c.pg = pg_cpu(n);
    return c;
}

/* ---- reporting ------------------------------------------------------------------- */

static void print_header(void)
{
    printf("%-22s %9s %7s | %-24s | %-24s | %-26s\n", "phase", "msgs/s", "refused",
           "stored ms p50/p99/p99.9", "recorded ms p50/p99/p99.9",
           "CPU µs/msg county/relay/pg");
}

/* A closed or open phase with CPU accounting.  The daemons' CPU time is
 * read before and after the whole phase (warm-up, window, drain) and
 * divided by the messages of warm-up + window (the window's count scaled). */
static int phase(bench_load *l, const bench_net *n, const char *name, bench_kind kind,
                 int window, double rate, const opts *o, bench_phase_result *r)
{
    bench_load_timeline(l, o->timeline_file, name);
    cpu_snap a = cpu_now(n);
    int rc = rate > 0 ? bench_load_open(l, kind, rate, o->warm, o->secs, r)
                      : bench_load_closed(l, kind, window, o->warm, o->secs, r);
    cpu_snap b = cpu_now(n);
    if (rc == 0) {
        /* Scale CPU to the messages of the whole phase (warm-up included). */
        double all = (o->warm + o->secs) / o->secs;
        double nmsg = (double)r->applied * all;
        if (nmsg < 1)
            nmsg = 1;
        char st[64], rec[64];
        snprintf(st, sizeof(st), "%.1f/%.1f/%.1f", bench_hist_quantile(&r->stored, 0.5) / 1e3,
                 bench_hist_quantile(&r->stored, 0.99) / 1e3,
                 bench_hist_quantile(&r->stored, 0.999) / 1e3);
        snprintf(rec, sizeof(rec), "%.1f/%.1f/%.1f",
                 bench_hist_quantile(&r->recorded, 0.5) / 1e3,
                 bench_hist_quantile(&r->recorded, 0.99) / 1e3,
                 bench_hist_quantile(&r->recorded, 0.999) / 1e3);
        printf("%-22s %9.0f %7llu | %-24s | %-24s | %.0f/%.0f/%.0f\n", name, r->per_s,
               (unsigned long long)r->refused, st, rec, (b.county - a.county) * 1e6 / nmsg,
               (b.relays - a.relays) * 1e6 / nmsg, (b.pg - a.pg) * 1e6 / nmsg);
        fflush(stdout);
    }
    return rc;
}

/* ---- pgbench ----------------------------------------------------------------------- */

/* What PostgreSQL can do with the rows of one CaseSubmit, three ways, each
 * a pgbench script written into the bench's folder:
 *
 *   PG_HOT      one submission per transaction, every client upserting the
 *               county's one case-number row of the day, as the county
 *               does: each commit waits for the one before it to release
 *               that row, so this measures lock waits and commit flushes
 *               in a row (the baseline Sanji was first compared with).
 *   PG_OWN_ROW  one submission per transaction, each client its own
 *               counter row: no hot row, one commit per submission.
 *   PG_SET      PG_SET_ROWS submissions per transaction, one INSERT ...
 *               SELECT per table, counters advanced once per transaction:
 *               what PostgreSQL can write for the same rows on this
 *               machine, the limit a set-based apply could reach.
 *
 * The rows are exactly what server/apply_submit.c writes for a CaseSubmit: the
 * case-number counter (upsert RETURNING), the case row, its event, the
 * per-village feed counter (upsert RETURNING), the feed row, the processed
 * message id with its result.  Client c uses bench village c, as station c
 * does.  The county's case-exists read is not in the scripts, so each is a
 * little easier than what the county does. */
typedef enum pg_kind { PG_HOT, PG_OWN_ROW, PG_SET } pg_kind;

enum { PG_SET_ROWS = 50 };

static const char *const PG_KIND_NAME[] = {"one per transaction, one hot counter row",
                                           "one per transaction, a counter row per client",
                                           "50 per transaction, set-based"};

/* The rows of the transaction's submissions, from the derived table b
 * (cid, mid, n: the case-number sequence, fseq: the feed sequence) that
 * write_pgbench_script() puts in place of %1$s.  pgbench replaces :name
 * with the variable's text, hence the quotes. */
static const char PG_ROWS[] =
    "INSERT INTO cases (case_id, number, village, item_code, item_name, item_min_level,"
    " applicant_name, applicant_id_number, applicant_phone, request_text, first_receiver,"
    " first_receiver_name, holder_level, holder_unit, status, version, registered_at_ms,"
    " due_at_ms, updated_at_ms, urgent, appointment_at_ms) SELECT cid,"
    " ':ckey-' || to_char(current_date, 'YYYYMMDD') || '-' || lpad(n::text, greatest(5, length(n::text)), '0'),"
    " ':village', 'MZ-001', '社会救助政策咨询', 1, '王秀英', '410423195803120027',"
    " '13837512345', '村民反映低保政策不清楚，请求解释申请条件和所需材料。',"
    " 'b:village', '基准干部', 1, ':village', 1, 1, :now_ms, :now_ms + 86400000,"
    " :now_ms, false, 0 %1$s;\n"
    "INSERT INTO case_event (case_id, seq, action, actor_person, actor_name, actor_node,"
    " actor_level, actor_unit, at_ms, recorded_at_ms, from_status, to_status, note, result,"
    " materials, satisfaction, department, message_id, repeat_materials_request) SELECT"
    " cid, 1, 1, 'b:village', '基准干部', 'village:' || ':village', 1,"
    " ':village', :now_ms, :now_ms, 0, 1,"
    " '村民反映低保政策不清楚，请求解释申请条件和所需材料。', '', '{}', 0, '', mid,"
    " false %1$s;\n"
    "INSERT INTO feed (village, seq, case_id, event_seq) SELECT ':village', fseq, cid, 1"
    " %1$s;\n"
    "INSERT INTO processed_message (message_id, status, code, reason, case_id,"
    " case_number, case_version, sender_node) SELECT mid, 2, 0, '', cid,"
    " ':ckey-' || to_char(current_date, 'YYYYMMDD') || '-' || lpad(n::text, greatest(5, length(n::text)), '0'),"
    " 1, 'village:' || ':village' %1$s;\n";

static int write_pgbench_script(const bench_net *n, int villages, pg_kind kind, char *path,
                                size_t cap)
{
    snprintf(path, cap, "%s/submit-%d.sql", n->dir, (int)kind);
    FILE *f = fopen(path, "w");
    if (!f)
        return SJ_EIO;
    int rows = kind == PG_SET ? PG_SET_ROWS : 1;
    /* The counter row: the county's own, or a six-digit key per client
     * (9ccccc); case numbers stay unique either way. */
    char key[64];
    if (kind == PG_HOT)
        snprintf(key, sizeof(key), "'%s'", BENCH_COUNTY);
    else
        snprintf(key, sizeof(key), "'9' || lpad(:client_id::text, 5, '0')");
    fprintf(f,
            "\\set v 901001 + (:client_id %% %d)\n"
            "BEGIN;\n"
            "INSERT INTO case_number_seq (county, day, last_seq) VALUES (%s, current_date, %d)"
            " ON CONFLICT (county, day) DO UPDATE SET last_seq = case_number_seq.last_seq + %d"
            " RETURNING last_seq AS last_n, county AS ckey, ('%s' || :v) AS village,"
            " (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms \\gset\n"
            "INSERT INTO feed_counter (village, last_seq) VALUES (':village', %d)"
            " ON CONFLICT (village) DO UPDATE SET last_seq = feed_counter.last_seq + %d"
            " RETURNING last_seq AS last_f \\gset\n",
            villages, key, rows, rows, BENCH_COUNTY, rows, rows);
    /* Every submission of the transaction: case numbers and feed sequences
     * counted back from the counters' new values; ids unique per client,
     * counter value and row. */
    char from[512];
    snprintf(from, sizeof(from),
             "FROM (SELECT :last_n - %d + g AS n, :last_f - %d + g AS fseq,"
             " md5(':ckey-' || :last_n || '-' || g)::uuid AS cid,"
             " md5('m:ckey-' || :last_n || '-' || g)::uuid AS mid"
             " FROM generate_series(1, %d) g) b",
             rows, rows, rows);
    fprintf(f, PG_ROWS, from);
    fprintf(f, "END;\n");
    fclose(f);
    return 0;
}

/* Runs pgbench with the script of kind; returns submissions per second
 * (tps, without connection time, times the submissions of a transaction)
 * or a negative number. */
static double run_pgbench(const bench_net *n, pg_kind kind, int clients, double secs,
                          double *lat_ms)
{
    char script[PATH_MAX], out[PATH_MAX];
    if (write_pgbench_script(n, n->opts.villages < clients ? n->opts.villages : clients, kind,
                             script, sizeof(script)) != 0)
        return -1;
    snprintf(out, sizeof(out), "%s/pgbench-%d.out", n->dir, (int)kind);
    if (bench_sh("/usr/lib/postgresql/15/bin/pgbench -n -c %d -j 2 -T %d -f %s"
                 " -h 127.0.0.1 -p %d -U sanji sanji >%s 2>&1",
                 clients, (int)(secs + 0.5), script, n->pg_port, out) != 0) {
        bench_sh("tail -5 %s >&2", out);
        return -1;
    }
    FILE *f = fopen(out, "r");
    char line[512];
    double tps = -1;
    *lat_ms = 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "tps = ", 6) == 0)
            tps = atof(line + 6);
        else if (strncmp(line, "latency average = ", 18) == 0)
            *lat_ms = atof(line + 18);
    }
    if (f)
        fclose(f);
    return tps < 0 ? tps : tps * (kind == PG_SET ? PG_SET_ROWS : 1);
}

/* The three baselines one after the other, each line with Sanji's ratio to
 * it when sanji_per_s > 0.  Returns 0 or SJ_EDB. */
static int run_baselines(const bench_net *n, const opts *o, double sanji_per_s)
{
    const int clients[] = {o->clients, o->clients, o->set_clients};
    for (pg_kind k = PG_HOT; k <= PG_SET; k++) {
        double lat, per_s = run_pgbench(n, k, clients[k], o->pg_secs, &lat);
        if (per_s <= 0)
            return SJ_EDB;
        printf("pgbench -c %d, %s: %.0f submissions/s, latency average %.2f ms per transaction",
               clients[k], PG_KIND_NAME[k], per_s, lat);
        if (sanji_per_s > 0)
            printf("; ratio Sanji / this: %.2f", sanji_per_s / per_s);
        printf("\n");
        fflush(stdout);
    }
    return 0;
}

/* ---- e2e ----------------------------------------------------------------------------- */

static void print_machine(void)
{
    char model[256] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            snprintf(model, sizeof(model), "%.200s", c ? c + 2 : line);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    long mem = sysconf(_SC_PHYS_PAGES) * (sysconf(_SC_PAGESIZE) / 1024) / 1024;
    printf("machine: %ld CPUs (%s), %ld MiB memory\n", sysconf(_SC_NPROCESSORS_ONLN), model, mem);
}

static void print_memory(const bench_net *n)
{
    bench_proc_stat st;
    if (bench_proc_read(n->county.pid, &st) == 0)
        printf("peak memory (VmHWM): sanji-countyd %ld KiB", st.hwm_kib);
    long relays = 0;
    for (int t = 0; t < n->opts.relays; t++)
        if (bench_proc_read(n->relay[t].pid, &st) == 0 && st.hwm_kib > relays)
            relays = st.hwm_kib;
    printf(", sanji-relayd %ld KiB (largest of %d)\n", relays, n->opts.relays);
}

int bench_e2e_main(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    if (o.timeline && (o.timeline_file = fopen(o.timeline, "w")) == NULL) {
        fprintf(stderr, "sanji-bench: cannot write %s: %s\n", o.timeline, strerror(errno));
        return 2;
    }
    int per_relay = (o.stations + o.relays - 1) / o.relays;
    bench_net net = {0};
    bench_net_opts no = {.relays = o.relays,
                         .villages = per_relay > o.clients ? per_relay : o.clients,
                         .county_extra = o.county_extra};
    int rc = bench_net_start(&net, &no);
    if (rc == 0 && o.pg_sql && bench_net_sql(&net, o.pg_sql, NULL) != 0) {
        fprintf(stderr, "sanji-bench: --pg-sql failed: %s\n", o.pg_sql);
        rc = 1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    bench_load *l = NULL;
    if (rc == 0)
        rc = bench_load_new(&loop, &net, o.stations, 1, &l);
    if (rc == 0)
        rc = bench_load_connect(l, 64, 60000);
    if (rc == 0) {
        print_machine();
        printf("sanji-bench e2e: 1 county, %d relay(s), %d stations (window %d), %.0f s per phase"
               " after %.0f s warm-up\n",
               o.relays, o.stations, o.window, o.secs, o.warm);
        if (o.county_extra[0])
            printf("county config: %s", o.county_extra);
        if (o.pg_sql)
            printf("database changed first: %s\n", o.pg_sql);
        if (bench_load_no_notify)
            printf("submissions marked do-not-notify: no notification rows\n");
        printf("\n");
        bench_proc_reset_peak(net.county.pid);
        for (int t = 0; t < o.relays; t++)
            bench_proc_reset_peak(net.relay[t].pid);
        print_header();
        bench_phase_result sub, act, open;
        rc = phase(l, &net, "submit closed", BENCH_SUBMIT, o.window, 0, &o, &sub);
        if (rc == 0)
            rc = phase(l, &net, "action closed", BENCH_ACTION, o.window, 0, &o, &act);
        for (int i = 0; rc == 0 && i < o.n_fracs; i++) {
            char name[64];
            double rate = sub.per_s * o.fracs[i];
            snprintf(name, sizeof(name), "submit open %.0f/s", rate);
            rc = phase(l, &net, name, BENCH_SUBMIT, 0, rate, &o, &open);
        }
        print_memory(&net);
        bench_load_close_all(l);
        if (rc == 0 && !o.no_pgbench) {
            printf("\nbaselines on the same cluster (the rows of a submission; Sanji's"
                   " submit closed: %.0f/s)\n",
                   sub.per_s);
            rc = run_baselines(&net, &o, sub.per_s);
        }
    }
    if (l) {
        bench_load_close_all(l);
        bench_load_free(l);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    bench_net_stop(&net);
    if (o.timeline_file && fclose(o.timeline_file) != 0) {
        fprintf(stderr, "sanji-bench: cannot write %s: %s\n", o.timeline, strerror(errno));
        rc = 1;
    }
    return rc == 0 ? 0 : 1;
}

int bench_pgbench_main(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    bench_net net = {0};
    bench_net_opts no = {.relays = 1, .villages = o.clients};
    int rc = bench_net_start(&net, &no);
    if (rc == 0) {
        o.pg_secs = o.secs;
        rc = run_baselines(&net, &o, 0);
    }
    bench_net_stop(&net);
    return rc == 0 ? 0 : 1;
}

int bench_relays_main(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    print_machine();
    printf("sanji-bench relays: %d stations (window %d) spread over M relays, closed-loop"
           " submissions, %.0f s\n\n",
           o.stations, o.window, o.secs);
    printf("%7s %9s %-24s %9s\n", "relays", "msgs/s", "recorded ms p50/p99", "relay KiB");
    int rc = 0;
    for (int i = 0; rc == 0 && i < o.n_relay_list; i++) {
        int m = o.relay_list[i];
        bench_net net = {0};
        bench_net_opts no = {.relays = m, .villages = (o.stations + m - 1) / m, .quiet = true,
                             .county_extra = o.county_extra};
        uv_loop_t loop;
        uv_loop_init(&loop);
        bench_load *l = NULL;
        rc = bench_net_start(&net, &no);
        if (rc == 0)
            rc = bench_load_new(&loop, &net, o.stations, 1, &l);
        if (rc == 0)
            rc = bench_load_connect(l, 64, 60000);
        bench_phase_result r;
        if (rc == 0)
            rc = bench_load_closed(l, BENCH_SUBMIT, o.window, o.warm, o.secs, &r);
        if (rc == 0) {
            bench_proc_stat st;
            long hwm = 0;
            for (int t = 0; t < m; t++)
                if (bench_proc_read(net.relay[t].pid, &st) == 0 && st.hwm_kib > hwm)
                    hwm = st.hwm_kib;
            printf("%7d %9.0f %5.1f/%-18.1f %9ld\n", m, r.per_s,
                   bench_hist_quantile(&r.recorded, 0.5) / 1e3,
                   bench_hist_quantile(&r.recorded, 0.99) / 1e3, hwm);
            fflush(stdout);
        }
        if (l) {
            bench_load_close_all(l);
            bench_load_free(l);
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        bench_net_stop(&net);
    }
    return rc == 0 ? 0 : 1;
}

/* ---- idle sessions ----------------------------------------------------------------- */

/* One worker process: connects its share of sessions, reports how many are
 * up on the pipe, then holds them until the parent closes the other pipe. */
static int idle_worker(bench_net *net, int share, int parallel, int wfd, int rfd)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    bench_load *l = NULL;
    int up = 0;
    if (bench_load_new(&loop, net, share, 7, &l) == 0) {
        (void)bench_load_connect(l, parallel, 600000);
        up = bench_load_connected(l);
    }
    if (write(wfd, &up, sizeof(up)) != (ssize_t)sizeof(up))
        return 1;
    /* Keep the links turning (heartbeats are not needed: the relay's idle
     * timeout is raised for this test) until the parent says stop. */
    char c;
    while (read(rfd, &c, 1) > 0)
        ;
    if (l) {
        bench_load_close_all(l);
        bench_load_free(l);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return 0;
}

int bench_idle_main(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl); /* inherited by the relays and the workers */
    int per_worker = (int)rl.rlim_cur - 200;
    int per_relay = (o.sessions + o.relays - 1) / o.relays;
    if (per_relay > per_worker)
        printf("note: %d sessions per relay exceed the fd limit %llu of one process\n", per_relay,
               (unsigned long long)rl.rlim_cur);
    bench_net net = {0};
    /* 50 village certificates per township, reused by many sessions. */
    bench_net_opts no = {.relays = o.relays, .villages = 50,
                         .relay_extra = "[link]\nidle_timeout = 10m\nheartbeat = 10m\n",
                         .county_extra = o.county_extra};
    int rc = bench_net_start(&net, &no);
    if (rc != 0) {
        bench_net_stop(&net);
        return 1;
    }
    /* Issue the certificates before forking, so the workers only read them. */
    for (int t = 0; t < o.relays; t++)
        for (int k = 0; k < 50; k++) {
            char v[13], prefix[PATH_MAX];
            bench_village(t, k, v);
            if (bench_net_village_cert(&net, v, prefix, sizeof(prefix)) != 0)
                rc = SJ_EIO;
        }
    sleep(2); /* the relays' county links settle */
    bench_proc_stat c0, r0[BENCH_RELAYS_MAX];
    bench_proc_read(net.county.pid, &c0);
    long relay_base = 0;
    for (int t = 0; t < o.relays; t++) {
        bench_proc_read(net.relay[t].pid, &r0[t]);
        relay_base += r0[t].rss_kib;
    }
    int workers = (o.sessions + per_worker - 1) / per_worker;
    /* Each worker's sessions go round-robin over all relays. */
    int stop_pipe[2], up_pipe[2];
    pid_t pids[64];
    int nw = 0;
    if (rc == 0 && (pipe(stop_pipe) != 0 || pipe(up_pipe) != 0))
        rc = SJ_EIO;
    uint64_t t0 = uv_hrtime();
    fflush(stdout);
    for (int w = 0; rc == 0 && w < workers && w < 64; w++) {
        int share = o.sessions / workers + (w < o.sessions % workers ? 1 : 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(stop_pipe[1]);
            close(up_pipe[0]);
            _exit(idle_worker(&net, share, o.parallel / workers + 1, up_pipe[1], stop_pipe[0]));
        }
        if (pid > 0)
            pids[nw++] = pid;
    }
    int total = 0;
    if (rc == 0) {
        close(stop_pipe[0]);
        close(up_pipe[1]);
        for (int w = 0; w < nw; w++) {
            int up = 0;
            if (read(up_pipe[0], &up, sizeof(up)) == (ssize_t)sizeof(up))
                total += up;
        }
    }
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    sleep(2); /* let the relays release handshake buffers */
    bench_proc_stat c1;
    bench_proc_read(net.county.pid, &c1);
    long relay_now = 0, relay_max = 0;
    for (int t = 0; t < o.relays; t++) {
        bench_proc_stat st;
        bench_proc_read(net.relay[t].pid, &st);
        relay_now += st.rss_kib;
        if (st.hwm_kib > relay_max)
            relay_max = st.hwm_kib;
    }
    print_machine();
    printf("sanji-bench idle: %d of %d station sessions up (TLS 1.3, Hello, caught up) on %d"
           " relay(s) in %.1f s (%d client processes)\n",
           total, o.sessions, o.relays, secs, nw);
    printf("relays: RSS %ld KiB before, %ld KiB with the sessions (largest peak %ld KiB);"
           " %.1f KiB per session\n",
           relay_base, relay_now, relay_max,
           total ? (double)(relay_now - relay_base) / total : 0.0);
    printf("county: RSS %ld KiB before, %ld KiB with the sessions behind its relays\n",
           c0.rss_kib, c1.rss_kib);
    printf("relays + county with the sessions: %.1f MiB\n",
           (double)(relay_now + c1.rss_kib) / 1024.0);
    if (o.hold > 0) {
        /* Time to look at the relays from outside (gdb, pmap, massif). */
        for (int t = 0; t < o.relays; t++)
            printf("relay %d: pid %d\n", t, (int)net.relay[t].pid);
        fflush(stdout);
        usleep((useconds_t)(o.hold * 1e6));
    }
    if (rc == 0) {
        close(stop_pipe[1]);
        close(up_pipe[0]);
    }
    for (int w = 0; w < nw; w++)
        waitpid(pids[w], NULL, 0);
    bench_net_stop(&net);
    return rc == 0 && total == o.sessions ? 0 : 1;
}
