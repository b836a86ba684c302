/*
 * relay_cache_bench.c - sanji-relay-cache-bench: what the relay's store and
 * its case cache (relay/case_cache.c) cost per feed update, without the
 * network: CASES new cases go into a fresh store as the county's feed
 * would bring them (COMMIT updates per store commit, as the relay's group
 * commit takes them), then one update of each (an action: status and
 * holder change).  For each phase it prints the relay's loop thread's CPU
 * per update, the cache thread's CPU per update (the process's CPU less
 * the loop thread's) and the bytes the process wrote per update (store and
 * cache, WAL and checkpoints: /proc/self/io wchar).  RUNS fresh stores;
 * the last line is the medians.  docs/PERFORMANCE.md "The case cache's
 * indexes"; a benchmark, not a test.
 *
 *   sanji-relay-cache-bench [CASES [COMMIT [RUNS]]]     (20000 20 3)
 *
 * Entry point: main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "store.h"

#define NODE "relay:410423101000"
#define VILLAGES 50
#define MAX_RUNS 15

typedef struct figures {
    double loop_us, cache_us, bytes;
} figures;

static double process_cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Bytes this process has written (write, pwrite), or -1. */
static double written_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    if (!f)
        return -1;
    char key[64];
    unsigned long long v;
    double r = -1;
    while (fscanf(f, "%63s %llu", key, &v) == 2)
        if (strcmp(key, "wchar:") == 0)
            r = (double)v;
    fclose(f);
    return r;
}

/* Case n of the run, as the county's feed carries it in its version
 * (1: registered in its village; 2: escalated to the township), with an
 * applicant, number and times of its own so that every index takes it at
 * its own place. */
static int put_case(relay_store *st, uint64_t seqs[VILLAGES], int n, int version, sj_error *err)
{
    uint8_t cid[16] = {0};
    memcpy(cid, &n, sizeof n);
    cid[15] = 1;
    int v = n % VILLAGES;
    char village[16], name[32], id_number[32], phone[32], number[32];
    snprintf(village, sizeof village, "4104231%02d2%02d", v / 10, v % 10 + 1);
    unsigned r = (unsigned)n * 2654435761u;
    snprintf(name, sizeof name, "申请人%u", r % 100000);
    snprintf(id_number, sizeof id_number, "41042319%010u", r);
    snprintf(phone, sizeof phone, "13%09u", r % 1000000000u);
    snprintf(number, sizeof number, "410423-20260213-%06d", n);
    Sanji__Applicant a = SANJI__APPLICANT__INIT;
    a.name = name;
    a.id_number = id_number;
    a.phone = phone;
    Sanji__Case c = SANJI__CASE__INIT;
    c.case_id.data = cid;
    c.case_id.len = 16;
    c.village = village;
    c.version = (uint64_t)version;
    c.number = number;
    c.registered_at_ms = INT64_C(1770000000000) + (int64_t)n * 1000;
    c.due_at_ms = c.registered_at_ms + INT64_C(5) * 86400000;
    c.item_code = (char *)"ITEM-0042";
    c.first_receiver = (char *)"b410423101201";
    c.applicant = &a;
    c.status = version == 1 ? SANJI__CASE_STATUS__CASE_STATUS_REGISTERED
                            : SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP;
    c.holder_unit = version == 1 ? village : (char *)"410423101000";
    Sanji__CaseEvent e = SANJI__CASE_EVENT__INIT;
    e.case_id = c.case_id;
    e.seq = (uint32_t)version;
    e.action = version == 1 ? SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER
                            : SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE;
    e.note = (char *)"基准";
    Sanji__FeedUpdate u = SANJI__FEED_UPDATE__INIT;
    u.village = village;
    u.seq = ++seqs[v];
    u.snapshot = &c;
    u.event = &e;
    return relay_store_feed_put(st, &u, err);
}

static int count_case(void *arg, const Sanji__Case *c)
{
    (void)c;
    (*(int *)arg)++;
    return 0;
}

/* One phase: every case in the given version, then a list, which waits
 * until the cache thread has written them all. */
static int phase(relay_store *st, uint64_t seqs[VILLAGES], int cases, int commit, int version,
                 figures *out, sj_error *err)
{
    double p0 = process_cpu_s(), t0 = thread_cpu_s(), w0 = written_bytes();
    for (int i = 0; i < cases; i++) {
        if (put_case(st, seqs, i, version, err) != 0)
            return -1;
        if ((i + 1) % commit == 0 && relay_store_commit(st, err) != 0)
            return -1;
    }
    int n = 0;
    if (relay_store_commit(st, err) != 0 ||
        relay_store_case_each(st, "410423100201", count_case, &n, err) != 0)
        return -1;
    double p1 = process_cpu_s(), t1 = thread_cpu_s(), w1 = written_bytes();
    out->loop_us = (t1 - t0) / cases * 1e6;
    out->cache_us = ((p1 - p0) - (t1 - t0)) / cases * 1e6;
    out->bytes = w0 < 0 || w1 < 0 ? -1 : (w1 - w0) / cases;
    return 0;
}

static int one_run(int cases, int commit, figures f[2])
{
    char dir[] = "/tmp/sanji-cache-bench-XXXXXX", path[64], cmd[96];
    if (!mkdtemp(dir)) {
        perror("sanji-relay-cache-bench: mkdtemp");
        return -1;
    }
    snprintf(path, sizeof path, "%s/relay.db", dir);
    relay_store *st = NULL;
    sj_error err;
    uint64_t seqs[VILLAGES] = {0};
    int rc = relay_store_open(path, NODE, &st, &err);
    if (rc == 0)
        rc = phase(st, seqs, cases, commit, 1, &f[0], &err);
    if (rc == 0)
        rc = phase(st, seqs, cases, commit, 2, &f[1], &err);
    if (rc != 0)
        fprintf(stderr, "sanji-relay-cache-bench: %s\n", err.message);
    if (st)
        relay_store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "sanji-relay-cache-bench: could not remove %s\n", dir);
    return rc;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int cases = argc > 1 ? atoi(argv[1]) : 20000, commit = argc > 2 ? atoi(argv[2]) : 20;
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    if (cases < 1 || commit < 1 || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: sanji-relay-cache-bench [CASES [COMMIT [RUNS (1..%d)]]]\n",
                MAX_RUNS);
        return 2;
    }
    static const char *const names[2] = {"new cases", "updates"};
    double col[2][3][MAX_RUNS];
    printf("%d cases in %d villages, %d updates per store commit\n", cases, VILLAGES, commit);
    printf("%-4s %-10s %12s %13s %12s\n", "run", "phase", "loop us/upd", "cache us/upd",
           "bytes/upd");
    for (int r = 0; r < runs; r++) {
        figures f[2];
        if (one_run(cases, commit, f) != 0)
            return 1;
        for (int p = 0; p < 2; p++) {
            printf("%-4d %-10s %12.1f %13.1f %12.0f\n", r + 1, names[p], f[p].loop_us,
                   f[p].cache_us, f[p].bytes);
            col[p][0][r] = f[p].loop_us;
            col[p][1][r] = f[p].cache_us;
            col[p][2][r] = f[p].bytes;
        }
    }
    for (int p = 0; p < 2; p++)
        printf("%-4s %-10s %12.1f %13.1f %12.0f\n", "med", names[p], median(col[p][0], runs),
               median(col[p][1], runs), median(col[p][2], runs));
    return 0;
}
