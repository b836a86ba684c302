/*
 * bench.h - shared parts of `sanji-bench` (tests/bench/): the subcommands,
 * the benchmark network (a private PostgreSQL, sanji-countyd, M
 * sanji-relayd processes, certificates), the simulated village stations
 * that load it, latency histograms and process statistics.
 *
 * The simulated stations are light: each is one common/conn link (TLS 1.3,
 * mutual authentication with its own village certificate) that says Hello,
 * sends CaseSubmit / CaseAction envelopes and reads Acks; no SQLite outbox.
 * Thousands fit in one process.
 *
 * Ownership: a bench_net is caller storage (zeroed before bench_net_start());
 * bench_net_stop() stops every process it started, removes its folders and
 * may be followed by another start.  A bench_load is made by
 * bench_load_new() and freed by bench_load_free() after its loop has no
 * open link (bench_load_close_all()).  Histograms are plain values.
 *
 * Errors: functions return 0 or a negative SJ_E* code and print what went
 * wrong on stderr (this is a command-line tool; the message is for the
 * person running it).
 *
 * Entry points: bench_tls_main(), bench_e2e_main(), bench_pgbench_main(),
 * bench_relays_main(), bench_idle_main(), bench_gen_county_main(),
 * bench_search_main(), bench_stats_main(); bench_net_*(), bench_load_*(),
 * bench_hist_*(), bench_proc_*().
 */
#ifndef SJ_BENCH_H
#define SJ_BENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <uv.h>

#include "proc.h"
#include "tls.h"
#include "workload.h"

/* ---- subcommands (each returns the process exit status) ------------------ */

int bench_tls_main(int argc, char **argv);
int bench_e2e_main(int argc, char **argv);
int bench_pgbench_main(int argc, char **argv);
int bench_relays_main(int argc, char **argv);
int bench_idle_main(int argc, char **argv);
int bench_gen_county_main(int argc, char **argv);
int bench_search_main(int argc, char **argv);
int bench_stats_main(int argc, char **argv);

/* ---- latency histogram ----------------------------------------------------- */

/* Log-linear buckets over microseconds: 64 sub-buckets per power of two
 * (about 1.6% resolution), enough for p99.9 of a few thousand samples. */
#define BENCH_HIST_SUB 64
#define BENCH_HIST_BUCKETS (BENCH_HIST_SUB * 40)

typedef struct bench_hist {
    uint64_t n;
    uint64_t max_us;
    uint64_t counts[BENCH_HIST_BUCKETS];
} bench_hist;

void bench_hist_add(bench_hist *h, uint64_t us);
/* The value (µs, upper edge of its bucket) at quantile q in [0, 1]; 0 when empty. */
uint64_t bench_hist_quantile(const bench_hist *h, double q);

/* ---- process statistics ---------------------------------------------------- */

typedef struct bench_proc_stat {
    double cpu_s;      /* user + system time so far */
    long hwm_kib;      /* VmHWM: peak resident set */
    long rss_kib;      /* VmRSS now */
} bench_proc_stat;

/* Reads /proc/PID/stat and /proc/PID/status.  Returns 0 or SJ_EIO. */
int bench_proc_read(pid_t pid, bench_proc_stat *out);
/* Resets the peak resident set of pid (echo 5 > /proc/PID/clear_refs). */
void bench_proc_reset_peak(pid_t pid);

/* ---- the network ------------------------------------------------------------- */

#define BENCH_RELAYS_MAX 32
#define BENCH_COUNTY "410423"

typedef struct bench_net_opts {
    int relays;               /* 1..BENCH_RELAYS_MAX */
    int villages;             /* bench villages made in each bench township */
    const char *county_extra; /* extra countyd config lines ("" or NULL) */
    const char *relay_extra;  /* extra relayd config lines */
    bool quiet;
} bench_net_opts;

typedef struct bench_net {
    bench_net_opts opts;
    char dir[256];            /* certificates, configs, stores, logs */
    char pgdir[256];          /* the PostgreSQL cluster (a link to pgpath when root) */
    char pgpath[PATH_MAX];    /* its physical folder, for PostgreSQL's own programs */
    char conninfo[512];
    int pg_port;
    int county_port;
    int relay_port[BENCH_RELAYS_MAX];
    sj_test_proc county;
    sj_test_proc relay[BENCH_RELAYS_MAX];
    uint64_t versions[3];     /* catalogue, org tree, person versions (for Hello) */
    bool pg_up;
} bench_net;

/* Township t (0-based) of the bench: 410423 9TT 000, TT = t + 1. */
void bench_township(int t, char out[13]);
/* Village k (0-based) of township t: 410423 9TT KKK, KKK = k + 1. */
void bench_village(int t, int k, char out[13]);

/* Makes certificates, starts PostgreSQL (max_connections raised to 100 for
 * pgbench -c 64), migrates and loads the demo county plus the bench
 * townships, villages and one village cadre per village ("b" + code),
 * starts sanji-countyd and opts->relays relays.  Returns 0 or a code. */
int bench_net_start(bench_net *n, const bench_net_opts *opts);
/* Stops everything and removes the folders. */
void bench_net_stop(bench_net *n);
/* Certificate prefix of village (issued on first use): "<dir>/v<code>". */
int bench_net_village_cert(bench_net *n, const char *village, char *prefix, size_t cap);
/* Runs SQL through psql on the bench database; output to out_file if not NULL. */
int bench_net_sql(const bench_net *n, const char *sql, const char *out_file);
/* Runs a shell command (printf format); returns its exit status. */
int bench_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Source and build folders (compiled in). */
const char *bench_source_dir(void);
const char *bench_build_dir(void);

/* ---- the simulated stations ---------------------------------------------------- */

typedef enum bench_kind { BENCH_SUBMIT = 0, BENCH_ACTION = 1 } bench_kind;

typedef struct bench_load bench_load;

typedef struct bench_phase_result {
    uint64_t applied;          /* APPLIED acks for messages sent in the window */
    uint64_t refused;
    uint64_t sent;
    double secs;
    double per_s;              /* applied / secs */
    bench_hist stored, recorded;
} bench_phase_result;

/* Makes a load on loop for n stations; station i dials relay i % relays of
 * net and is village bench_village(i % relays, i / relays). */
/* Submissions marked "do not notify" (不通知): their results queue no
 * notification row (what the notification outbox costs). */
extern bool bench_load_no_notify;

int bench_load_new(uv_loop_t *loop, bench_net *net, int stations, uint64_t seed,
                   bench_load **out);
/* Connects every station (at most `parallel` handshakes at once) and waits
 * for Welcome and caught_up.  Returns 0, or SJ_ETIMEOUT/SJ_ECONNECT. */
int bench_load_connect(bench_load *l, int parallel, int timeout_ms);
/* Closed loop: each station keeps `window` messages of kind in flight
 * (sending the next when one is recorded by the county) for warm_s + secs;
 * the last secs are measured.  Action: RESOLVE on the station's own cases
 * made earlier (a station with no case left stops). */
int bench_load_closed(bench_load *l, bench_kind kind, int window, double warm_s, double secs,
                      bench_phase_result *r);
/* Open loop: `rate` messages/s in all, spread round-robin, timed from their
 * scheduled send time. */
int bench_load_open(bench_load *l, bench_kind kind, double rate, double warm_s, double secs,
                    bench_phase_result *r);
/* Stations connected now. */
int bench_load_connected(const bench_load *l);
/* Every message of the following phases' windows, as it is answered, to f
 * (tab-separated: phase, ms from the window's start to its send or, open
 * loop, its scheduled time; ms until "recorded by the county"; station;
 * applied or refused): where a p99 comes from (stalls every station
 * shares, or a steady spread).  f NULL stops. */
void bench_load_timeline(bench_load *l, FILE *f, const char *phase);
/* Closes every link and runs the loop until they are gone. */
void bench_load_close_all(bench_load *l);
void bench_load_free(bench_load *l);

#endif
