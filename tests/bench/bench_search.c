/*
 * bench_search.c - the county-scale subcommands of sanji-bench:
 *
 *   gen-county  fills a county database with years of cases (gen_county.h).
 *   search      on a benchmark network (bench_net.h) filled by gen-county:
 *               - county search: the county's answer to a case search
 *                 (server/query.c, with the asker a county desk) over a mix
 *                 of keys sampled from the data, each timed; p50 and p95 per
 *                 key and over the mix;
 *               - the county desk: sanji-desk under Xvfb with a county-desk
 *                 certificate, from log-in to the county workbench's first
 *                 rows drawn, then a search by number to its row, and the
 *                 desk's resident memory (its test hook's mark and memory
 *                 commands, desk-test.h);
 *               - a station with --station-cases cached cases: the store
 *                 opened, the home page's view counts and first page, and a
 *                 search by each key, through the store's indexes; and the
 *                 station's sanji-desk opening its home page (rows drawn,
 *                 memory).
 *   Benchmarks print figures; nothing here judges them.
 *
 * Usage: see usage() below and docs/PERFORMANCE.md "County search".
 * Entry points: bench_gen_county_main(), bench_search_main().
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "arena.h"
#include "bench.h"
#include "clock.h"
#include "err.h"
#include "gen_county.h"
#include "gen_station.h"
#include "query.h"
#include "store.h"
#ifdef BENCH_DESK
#include "desk_fixture.h"
#endif

#define COUNTY_UNIT BENCH_COUNTY "000000"
#define DEMO_PASSWORD "sanji123" /* the demo persons' password (deploy/demo) */

typedef struct sopts {
    uint64_t cases, station_cases, seed;
    int years, runs, per_key;
    const char *conninfo;
    bool no_desk;
} sopts;

static void usage(void)
{
    fprintf(stderr,
            "usage: sanji-bench gen-county --conninfo STR [--cases 1000000] [--years 10]"
            " [--seed 1]\n"
            "       sanji-bench search [--cases 1000000] [--years 10] [--seed 1] [--runs 5]\n"
            "                          [--per-key 40] [--station-cases 20000] [--no-desk]\n");
}

static int parse(int argc, char **argv, sopts *o)
{
    *o = (sopts){.cases = 1000000, .station_cases = 20000, .seed = 1, .years = 10, .runs = 5,
                 .per_key = 40};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-desk") == 0) {
            o->no_desk = true;
            continue;
        }
        if (!v) {
            usage();
            return SJ_EINVAL;
        }
        i++;
        if (strcmp(a, "--cases") == 0)
            o->cases = strtoull(v, NULL, 10);
        else if (strcmp(a, "--station-cases") == 0)
            o->station_cases = strtoull(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--years") == 0)
            o->years = atoi(v);
        else if (strcmp(a, "--runs") == 0)
            o->runs = atoi(v);
        else if (strcmp(a, "--per-key") == 0)
            o->per_key = atoi(v);
        else if (strcmp(a, "--conninfo") == 0)
            o->conninfo = v;
        else {
            usage();
            return SJ_EINVAL;
        }
    }
    return o->cases && o->years > 0 && o->runs > 0 && o->per_key > 0 ? 0 : SJ_EINVAL;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void print_gen(const gen_county_result *r)
{
    printf("generated %" PRIu64 " cases, %" PRIu64 " events in %.0f s: %" PRIu64 " open (%" PRIu64
           " overdue), %" PRIu64 " supervised, %" PRIu64 " closed\n",
           r->cases, r->events, r->secs, r->open, r->overdue, r->supervised, r->closed);
    fflush(stdout);
}

int bench_gen_county_main(int argc, char **argv)
{
    sopts o;
    if (parse(argc, argv, &o) != 0 || !o.conninfo) {
        usage();
        return 2;
    }
    gen_county_opts g = {.cases = o.cases, .years = o.years, .seed = o.seed};
    gen_county_result r;
    sj_error err;
    if (gen_county_fill(o.conninfo, &g, &r, &err) != 0) {
        fprintf(stderr, "sanji-bench: gen-county: %s\n", err.message);
        return 1;
    }
    print_gen(&r);
    return 0;
}

/* ---- county search -------------------------------------------------------- */

typedef enum county_key {
    K_NUMBER, K_NAME, K_ID, K_PHONE, K_ITEM, K_CATEGORY, K_STATUS, K_HOLDER, K_PERSON,
    K_DEPARTMENT, K_DATES, K_OVERDUE, K_SUPERVISED, K_TOWNSHIP_OPEN, K_ALL_DUE, K_ALL_NUMBER,
    K_DEEP, K_N
} county_key;

static const char *const KEY_NAMES[K_N] = {
    "number end", "name beginning", "ID number", "phone", "item", "category", "status",
    "holder unit", "first receiver", "department", "registered in a month", "overdue (open)",
    "supervised (open)", "township, open", "all, by due time", "all, by number",
    "all, page 50 (offset 5000)"};

/* Values drawn from the generated cases, one row per sample. */
typedef struct samples {
    PGresult *r, *ids;
    int n, n_ids;
} samples;

/* ID numbers and phones a county desk may match: of cases the county holds
 * (sj_personal_visible()); any case's when it holds none. */
static const char IDS_SQL[] =
    "(SELECT applicant_id_number, applicant_phone FROM cases WHERE holder_level = 3"
    "  ORDER BY random() LIMIT 500)"
    " UNION ALL (SELECT applicant_id_number, applicant_phone FROM cases LIMIT 1)";

static const char SAMPLE_SQL[] =
    "SELECT number, applicant_name, applicant_id_number, applicant_phone, item_code,"
    " (SELECT category FROM catalogue_item i WHERE i.code = c.item_code), status::text,"
    " holder_unit, first_receiver, department, registered_at_ms::text,"
    " left(village, 9) || '000' FROM cases c TABLESAMPLE SYSTEM (5) WHERE number IS NOT NULL"
    " LIMIT 2000";

static const Sanji__CaseStatus OPEN[] = {1, 2, 3, 4, 5, 6, 9};

/* The query of key k from sample row i. */
static void make_query(county_key k, const samples *s, int i, Sanji__CaseListQuery *q, char *buf,
                       size_t cap, Sanji__CaseStatus *status)
{
    sanji__case_list_query__init(q);
    q->limit = 100;
    q->count_limit = 10000;
    int row = i % s->n;
    const char *v = NULL;
    switch (k) {
    case K_NUMBER:
        /* The last 10 characters: the day and the day's sequence. */
        v = PQgetvalue(s->r, row, 0);
        snprintf(buf, cap, "%s", strlen(v) > 10 ? v + strlen(v) - 10 : v);
        q->number = buf;
        break;
    case K_NAME:
        snprintf(buf, cap, "%s", PQgetvalue(s->r, row, 1));
        if (i % 2 && strlen(buf) > 3)
            buf[3] = '\0'; /* the family name alone: many matches */
        q->applicant_name = buf;
        break;
    case K_ID: q->id_number = PQgetvalue(s->ids, i % s->n_ids, 0); break;
    case K_PHONE: q->phone = PQgetvalue(s->ids, i % s->n_ids, 1); break;
    case K_ITEM: q->item_code = PQgetvalue(s->r, row, 4); break;
    case K_CATEGORY: q->category = PQgetvalue(s->r, row, 5); break;
    case K_STATUS:
        *status = (Sanji__CaseStatus)atoi(PQgetvalue(s->r, row, 6));
        q->statuses = status;
        q->n_statuses = 1;
        break;
    case K_HOLDER: q->holder_unit = PQgetvalue(s->r, row, 7); break;
    case K_PERSON: q->person = PQgetvalue(s->r, row, 8); break;
    case K_DEPARTMENT:
        q->department = PQgetvalue(s->r, row, 9);
        if (!*q->department)
            q->department = "县民政局";
        break;
    case K_DATES: {
        int64_t t = atoll(PQgetvalue(s->r, row, 10));
        q->registered_from_ms = t - 15LL * 86400000;
        q->registered_to_ms = t + 15LL * 86400000;
        break;
    }
    case K_OVERDUE:
        q->overdue_only = true;
        q->statuses = (Sanji__CaseStatus *)OPEN;
        q->n_statuses = 7;
        q->sort = SANJI__CASE_SORT__CASE_SORT_DUE;
        q->ascending = true;
        break;
    case K_SUPERVISED:
        q->supervised_only = true;
        q->statuses = (Sanji__CaseStatus *)OPEN;
        q->n_statuses = 7;
        break;
    case K_TOWNSHIP_OPEN:
        q->unit = PQgetvalue(s->r, row, 11);
        q->statuses = (Sanji__CaseStatus *)OPEN;
        q->n_statuses = 7;
        break;
    case K_ALL_DUE: q->sort = SANJI__CASE_SORT__CASE_SORT_DUE; q->ascending = i % 2; break;
    case K_ALL_NUMBER: q->sort = SANJI__CASE_SORT__CASE_SORT_NUMBER; q->ascending = i % 2; break;
    case K_DEEP: q->offset = 5000; break;
    default: break;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static double median(double *v, size_t n)
{
    return quantile(v, n, 0.5);
}

/* One run over every key: per key p50/p95 (into p50[k], p95[k]) and the
 * mix's p95; the matches of each key's first query are printed once. */
static int county_run(PGconn *db, const samples *s, int per_key, double *p50, double *p95,
                      double *mix_p95, bool show)
{
    countyd_asker k = {.role = SJ_NODE_ROLE_COUNTY_DESK, .level = SJ_LEVEL_COUNTY};
    snprintf(k.unit, sizeof(k.unit), "%s", COUNTY_UNIT);
    size_t n_all = (size_t)per_key * K_N;
    double *all = calloc(n_all, sizeof(*all)), *one = calloc((size_t)per_key, sizeof(*one));
    if (!all || !one) {
        free(all);
        free(one);
        return SJ_ENOMEM;
    }
    size_t m = 0;
    int rc = 0;
    for (int key_i = 0; key_i < K_N && rc == 0; key_i++) {
        for (int i = 0; i < per_key && rc == 0; i++) {
            Sanji__CaseListQuery q;
            char buf[128];
            Sanji__CaseStatus st;
            make_query((county_key)key_i, s, i * 7 + key_i, &q, buf, sizeof(buf), &st);
            Sanji__Query query = SANJI__QUERY__INIT;
            query.kind_case = SANJI__QUERY__KIND_CASE_LIST;
            query.case_list = &q;
            countyd_arena a;
            countyd_arena_init(&a);
            Sanji__QueryResult res;
            sj_error err;
            double t0 = mono_ms();
            rc = countyd_query_answer(db, &a, &k, NULL, &query, &res, &err);
            double t = mono_ms() - t0;
            if (rc == 0 && res.code != 0) {
                fprintf(stderr, "sanji-bench: %s: refused: %s\n", KEY_NAMES[key_i], res.reason);
                rc = SJ_EDB;
            }
            if (rc == 0 && show && i == 0)
                printf("  %-28s e.g. %u%s matches\n", KEY_NAMES[key_i], res.case_list->total,
                       res.case_list->total_capped ? "+" : "");
            countyd_arena_free(&a);
            if (rc != 0) {
                fprintf(stderr, "sanji-bench: %s: %s\n", KEY_NAMES[key_i], err.message);
                break;
            }
            one[i] = t;
            all[m++] = t;
        }
        p50[key_i] = quantile(one, (size_t)per_key, 0.5);
        p95[key_i] = quantile(one, (size_t)per_key, 0.95);
    }
    *mix_p95 = quantile(all, m, 0.95);
    free(all);
    free(one);
    return rc;
}

static int county_search(bench_net *n, const sopts *o)
{
    PGconn *db = PQconnectdb(n->conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "sanji-bench: %s\n", PQerrorMessage(db));
        PQfinish(db);
        return SJ_EDB_CONN;
    }
    samples s = {.r = PQexec(db, SAMPLE_SQL), .ids = PQexec(db, IDS_SQL)};
    s.n = PQresultStatus(s.r) == PGRES_TUPLES_OK ? PQntuples(s.r) : 0;
    s.n_ids = PQresultStatus(s.ids) == PGRES_TUPLES_OK ? PQntuples(s.ids) : 0;
    if (s.n == 0 || s.n_ids == 0) {
        fprintf(stderr, "sanji-bench: no sample of cases: %s\n", PQerrorMessage(db));
        PQclear(s.r);
        PQclear(s.ids);
        PQfinish(db);
        return SJ_EDB;
    }
    printf("county search (server/query.c as a county desk asks, %d queries per key, %d runs):\n",
           o->per_key, o->runs);
    double p50[K_N][16], p95[K_N][16], mix[16];
    int runs = o->runs > 16 ? 16 : o->runs;
    int rc = 0;
    for (int r = 0; r < runs && rc == 0; r++) {
        double a[K_N], b[K_N];
        rc = county_run(db, &s, o->per_key, a, b, &mix[r], r == 0);
        for (int k = 0; k < K_N; k++) {
            p50[k][r] = a[k];
            p95[k][r] = b[k];
        }
    }
    if (rc == 0) {
        printf("  %-28s %8s %8s   (ms, medians of the runs)\n", "key", "p50", "p95");
        for (int k = 0; k < K_N; k++)
            printf("  %-28s %8.1f %8.1f\n", KEY_NAMES[k], median(p50[k], (size_t)runs),
                   median(p95[k], (size_t)runs));
        printf("  county search p95 over the mix: %.1f ms (median of %d runs)\n",
               median(mix, (size_t)runs), runs);
    }
    PQclear(s.r);
    PQclear(s.ids);
    PQfinish(db);
    fflush(stdout);
    return rc;
}

#ifdef BENCH_DESK
/* ---- sanji-desk under Xvfb ------------------------------------------------- */

typedef struct desk_figures {
    double start_ms;   /* program start to the log-in page */
    double rows_ms;    /* log-in to the first rows drawn */
    double page_ms;    /* the workbench shown to its first rows drawn */
    double search_ms;  /* a search asked to its row drawn */
    long rss_kib, hwm_kib;
} desk_figures;

/* The value after "mark LABEL " in out; -1 when absent. */
static double mark_of(const char *out, const char *label)
{
    char want[64];
    snprintf(want, sizeof(want), "mark %s ", label);
    const char *p = strstr(out, want);
    return p ? strtod(p + strlen(want), NULL) : -1;
}

/* Runs the desk with args and script; fills f from its marks. */
static int run_desk(bench_net *n, const char *const *args, const char *script, const char *tag,
                    desk_figures *f)
{
    char sp[PATH_MAX], log[PATH_MAX], bin[PATH_MAX];
    snprintf(sp, sizeof(sp), "%s/%s.script", n->dir, tag);
    snprintf(log, sizeof(log), "%s/%s.out", n->dir, tag);
    snprintf(bin, sizeof(bin), "%s/client/desk/sanji-desk", bench_build_dir());
    FILE *fp = fopen(sp, "w");
    if (!fp)
        return SJ_EIO;
    fputs(script, fp);
    fclose(fp);
    const char *argv[32];
    int a = 0;
    argv[a++] = "xvfb-run";
    argv[a++] = "-a";
    argv[a++] = "-s";
    argv[a++] = "-screen 0 1280x1000x24";
    argv[a++] = bin;
    for (int i = 0; args[i] && a < 28; i++)
        argv[a++] = args[i];
    argv[a++] = "--test-script";
    argv[a++] = sp;
    argv[a] = NULL;
    const char *env[] = {"GSK_RENDERER=cairo", "NO_AT_BRIDGE=1", "GDK_BACKEND=x11", "LANG=C.UTF-8",
                         "LANGUAGE=", "LC_ALL=", "LC_MESSAGES=", NULL};
    sj_test_proc p = {0};
    sj_error err;
    double t0 = mono_ms();
    if (sj_test_proc_start(&p, argv, env, log, &err) != 0) {
        fprintf(stderr, "sanji-bench: sanji-desk: %s\n", err.message);
        return SJ_EIO;
    }
    int rc = sj_test_proc_wait(&p, 300000, &err);
    sj_test_proc_free(&p);
    char *out = NULL;
    size_t len = 0;
    FILE *lf = fopen(log, "r");
    if (lf) {
        fseek(lf, 0, SEEK_END);
        len = (size_t)ftell(lf);
        fseek(lf, 0, SEEK_SET);
        out = calloc(1, len + 1);
        if (out && fread(out, 1, len, lf) != len)
            out[0] = '\0';
        fclose(lf);
    }
    if (!out || !strstr(out, "desk-test: ok")) {
        fprintf(stderr, "sanji-bench: the desk script failed (%d); see %s\n", rc, log);
        free(out);
        return SJ_EIO;
    }
    (void)t0;
    double login = mark_of(out, "login"), rows = mark_of(out, "rows"),
           search = mark_of(out, "search"), found = mark_of(out, "found"),
           page = mark_of(out, "page"),
           shown = mark_of(out, "shown");
    f->start_ms = shown;
    f->rows_ms = rows - login;
    f->page_ms = rows - page;
    f->search_ms = found > 0 ? found - search : -1;
    const char *m = strstr(out, "memory: rss_kib=");
    f->rss_kib = m ? strtol(m + 16, NULL, 10) : -1;
    m = m ? strstr(m, "hwm_kib=") : NULL;
    f->hwm_kib = m ? strtol(m + 8, NULL, 10) : -1;
    free(out);
    return 0;
}

static void print_desk(const char *what, desk_figures *f, int runs)
{
    double rows[16], page[16], search[16], rss[16], hwm[16];
    for (int i = 0; i < runs; i++) {
        rows[i] = f[i].rows_ms;
        page[i] = f[i].page_ms;
        search[i] = f[i].search_ms;
        rss[i] = (double)f[i].rss_kib / 1024.0;
        hwm[i] = (double)f[i].hwm_kib / 1024.0;
    }
    printf("  %s: log-in to first rows drawn %.0f ms (workbench shown to its rows %.0f ms),"
           " search to its row %.0f ms, resident %.0f MiB (peak %.0f MiB)   (medians of %d runs)\n",
           what, median(rows, (size_t)runs), median(page, (size_t)runs), median(search, (size_t)runs),
           median(rss, (size_t)runs), median(hwm, (size_t)runs), runs);
    fflush(stdout);
}

/* The county desk: county-desk certificate, the county's address, a fresh
 * store each run; log in as the first county operator. */
static int county_desk(bench_net *n, const sopts *o, const char *number_end)
{
    char pki[PATH_MAX], prefix[PATH_MAX];
    snprintf(pki, sizeof(pki), "%s/deploy/pki/sanji-pki", bench_build_dir());
    snprintf(prefix, sizeof(prefix), "%s/county-desk", n->dir);
    if (bench_sh("%s issue --dir %s/ca --role county-desk --unit %s --out %s >/dev/null", pki,
                 n->dir, COUNTY_UNIT, prefix) != 0)
        return SJ_EIO;
    char crt[PATH_MAX + 8], key[PATH_MAX + 8], ca[PATH_MAX], addr[64], peer[64];
    snprintf(crt, sizeof(crt), "%s.crt", prefix);
    snprintf(key, sizeof(key), "%s.key", prefix);
    snprintf(ca, sizeof(ca), "%s/ca/ca.crt", n->dir);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", n->county_port);
    snprintf(peer, sizeof(peer), "county:%s", COUNTY_UNIT);
    char script[4096];
    snprintf(script, sizeof(script),
             "mark shown\n"
             "wait-page login 60\n"
             "wait-text login.persons 邱志强 60\n"
             "select-text login.persons 邱志强\n"
             "set login.password " DEMO_PASSWORD "\n"
             "mark login\n"
             "click login.submit\n"
             "wait-page county 30\n"
             "mark page\n"
             "click county.view.all\n"
             "wait-text county.list 410423- 60\n"
             "mark rows\n"
             "set county.list.search.text %s\n"
             "mark search\n"
             "click county.list.search.go\n"
             "wait-text county.list %s 60\n"
             "mark found\n"
             "memory\n"
             "quit\n",
             number_end, number_end);
    int runs = o->runs > 16 ? 16 : o->runs;
    desk_figures f[16];
    for (int r = 0; r < runs; r++) {
        char store[PATH_MAX];
        snprintf(store, sizeof(store), "%s/county-desk-%d.db", n->dir, r);
        const char *args[] = {"--cert", crt, "--key", key, "--ca", ca, "--address", addr,
                              "--peer", peer, "--store", store, NULL};
        int rc = run_desk(n, args, script, "county-desk", &f[r]);
        if (rc != 0)
            return rc;
    }
    print_desk("county desk", f, runs);
    return 0;
}

#endif

/* ---- a station with many cached cases ------------------------------------- */

/* The village with the most cases, and one of its case numbers. */
static int busiest_village(PGconn *db, char village[13], char person[64])
{
    PGresult *r = PQexec(db, "SELECT c.village, min(p.id) FROM cases c JOIN person p"
                             " ON p.org_unit = c.village AND p.role = 1"
                             " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok) {
        snprintf(village, 13, "%s", PQgetvalue(r, 0, 0));
        snprintf(person, 64, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return ok ? 0 : SJ_EDB;
}

typedef enum skey { S_OPEN, S_HOME, S_NUMBER, S_NAME, S_ID, S_PHONE, S_ITEM, S_STATUS, S_DATES,
                    S_DUE, S_DEEP, S_N } skey;
static const char *const SKEY_NAMES[S_N] = {
    "open the store", "home: 8 counts + first page", "number end", "name beginning",
    "ID number", "phone", "item", "status", "registered in a month", "all, by due time",
    "all, page 50 (offset 5000)"};

static int station_search(PGconn *db, const char *village, const char *store, int runs)
{
    char node[64];
    snprintf(node, sizeof(node), "village:%s", village);
    PGresult *s = PQexecParams(db,
                               "SELECT number, applicant_name, applicant_id_number,"
                               " applicant_phone, item_code, registered_at_ms::text FROM cases"
                               " WHERE village = $1 ORDER BY random() LIMIT 1",
                               1, NULL, &village, NULL, NULL, 0);
    if (PQresultStatus(s) != PGRES_TUPLES_OK || PQntuples(s) != 1) {
        PQclear(s);
        return SJ_EDB;
    }
    double t[S_N][16];
    int rc = 0;
    runs = runs > 16 ? 16 : runs;
    for (int r = 0; r < runs && rc == 0; r++) {
        sj_error err;
        sc_store *st = NULL;
        double t0 = mono_ms();
        rc = sc_store_open(store, node, &st, &err);
        t[S_OPEN][r] = mono_ms() - t0;
        if (rc != 0)
            break;
        /* As the station's client searches its own store (sc_search_cases()). */
        sj_case_search_viewer v = {.role = SJ_NODE_ROLE_VILLAGE, .unit = village, .scope = NULL,
                                   .now_ms = sj_clock_real_ms()};
        for (int k = S_HOME; k < S_N && rc == 0; k++) {
            Sanji__CaseListQuery q = SANJI__CASE_LIST_QUERY__INIT;
            q.limit = 100;
            q.count_limit = 10000;
            Sanji__CaseStatus st1 = SANJI__CASE_STATUS__CASE_STATUS_CLOSED;
            char end[16];
            const char *num = PQgetvalue(s, 0, 0);
            snprintf(end, sizeof(end), "%s", strlen(num) > 10 ? num + strlen(num) - 10 : num);
            int64_t at = atoll(PQgetvalue(s, 0, 5));
            int reps = k == S_HOME ? 9 : 1; /* the home page: 8 counts and its first page */
            t0 = mono_ms();
            for (int i = 0; i < reps && rc == 0; i++) {
                switch (k) {
                case S_HOME:
                    q.statuses = (Sanji__CaseStatus *)OPEN;
                    q.n_statuses = i % 2 ? 7 : 0;
                    q.waiting_for_me = i % 3 == 0;
                    q.limit = i == 0 ? 100 : 1;
                    break;
                case S_NUMBER: q.number = end; break;
                case S_NAME: q.applicant_name = PQgetvalue(s, 0, 1); break;
                case S_ID: q.id_number = PQgetvalue(s, 0, 2); break;
                case S_PHONE: q.phone = PQgetvalue(s, 0, 3); break;
                case S_ITEM: q.item_code = PQgetvalue(s, 0, 4); break;
                case S_STATUS: q.statuses = &st1; q.n_statuses = 1; break;
                case S_DATES:
                    q.registered_from_ms = at - 15LL * 86400000;
                    q.registered_to_ms = at + 15LL * 86400000;
                    break;
                case S_DUE: q.sort = SANJI__CASE_SORT__CASE_SORT_DUE; break;
                case S_DEEP: q.offset = 5000; break;
                default: break;
                }
                Sanji__Case **cases = NULL;
                size_t n = 0;
                uint32_t total = 0;
                bool capped = false;
                rc = sc_store_case_search(st, &q, &v, &cases, &n, &total, &capped, &err);
                sc_store_cases_free(cases, n);
            }
            t[k][r] = mono_ms() - t0;
        }
        sc_store_close(st);
    }
    if (rc == 0) {
        printf("  %-30s %8s   (ms, median of %d runs)\n", "station step", "time", runs);
        for (int k = 0; k < S_N; k++)
            printf("  %-30s %8.2f\n", SKEY_NAMES[k], median(t[k], (size_t)runs));
    }
    PQclear(s);
    fflush(stdout);
    return rc;
}

static int station(bench_net *n, const sopts *o)
{
    PGconn *db = PQconnectdb(n->conninfo);
    char village[13], person[64];
    if (PQstatus(db) != CONNECTION_OK || busiest_village(db, village, person) != 0) {
        fprintf(stderr, "sanji-bench: %s\n", PQerrorMessage(db));
        PQfinish(db);
        return SJ_EDB;
    }
    /* A village of a county of this size holds fewer than a busy station
     * may: more cases of the same village, on top of the county's. */
    PGresult *c = PQexecParams(db, "SELECT count(*) FROM cases WHERE village = $1", 1, NULL,
                               (const char *const[]){village}, NULL, NULL, 0);
    uint64_t have = PQresultStatus(c) == PGRES_TUPLES_OK ? strtoull(PQgetvalue(c, 0, 0), NULL, 10) : 0;
    PQclear(c);
    int rc = 0;
    if (have < o->station_cases) {
        gen_county_opts g = {.cases = o->station_cases - have, .years = o->years,
                             .seed = o->seed + 1, .village = village, .quiet = true};
        gen_county_result r;
        sj_error err;
        if ((rc = gen_county_fill(n->conninfo, &g, &r, &err)) != 0)
            fprintf(stderr, "sanji-bench: gen-county for the station: %s\n", err.message);
    }
    char store[PATH_MAX], station_node[64];
    snprintf(store, sizeof(store), "%s/station.db", n->dir);
    snprintf(station_node, sizeof(station_node), "village:%s", village);
    sj_error err;
    uint64_t got = 0;
#ifdef BENCH_DESK
    /* The catalogue and a person who can log in, as the desk tests make
     * them. */
    if (rc == 0 && (rc = desk_fixture_store(store, station_node, bench_source_dir(), person,
                                            "基准干部", 1, village, DEMO_PASSWORD, &err)) != 0)
        fprintf(stderr, "sanji-bench: station store: %s\n", err.message);
#endif
    if (rc == 0 && (rc = gen_station_fill(n->conninfo, village, store, o->station_cases, &got,
                                          &err)) != 0)
        fprintf(stderr, "sanji-bench: station store: %s\n", err.message);
    char number_end[16] = "";
    PGresult *nr = PQexecParams(db, "SELECT right(number, 10) FROM cases WHERE village = $1"
                                    " ORDER BY random() LIMIT 1",
                                1, NULL, (const char *const[]){village}, NULL, NULL, 0);
    if (PQresultStatus(nr) == PGRES_TUPLES_OK && PQntuples(nr) == 1)
        snprintf(number_end, sizeof(number_end), "%s", PQgetvalue(nr, 0, 0));
    PQclear(nr);
    if (rc == 0) {
        struct stat sb;
        printf("station %s with %" PRIu64 " cached cases (store %.1f MiB):\n", village, got,
               stat(store, &sb) == 0 ? (double)sb.st_size / 1048576.0 : 0.0);
        rc = station_search(db, village, store, o->runs);
    }
    PQfinish(db);
#ifndef BENCH_DESK
    (void)station_node;
    (void)number_end;
    return rc;
#else
    if (rc != 0 || o->no_desk)
        return rc;
    /* The station's desk, offline (nothing listens on port 9): log in and
     * see the home page's rows. */
    char prefix[PATH_MAX], crt[PATH_MAX + 8], key[PATH_MAX + 8], ca[PATH_MAX];
    if (bench_net_village_cert(n, village, prefix, sizeof(prefix)) != 0)
        return SJ_EIO;
    snprintf(crt, sizeof(crt), "%s.crt", prefix);
    snprintf(key, sizeof(key), "%s.key", prefix);
    snprintf(ca, sizeof(ca), "%s/ca/ca.crt", n->dir);
    const char *fmt = "mark shown\n"
                         "wait-page login 60\n"
                         "wait-text login.persons 基准干部 60\n"
                         "select-text login.persons 基准干部\n"
                         "set login.password " DEMO_PASSWORD "\n"
                         "mark login\n"
                         "click login.submit\n"
                         "wait-page home 30\n"
                         "mark page\n"
                         "click home.view.7\n"
                         "wait-text home.list 410423- 60\n"
                         "mark rows\n"
                         "set home.list.search.text %s\n"
                         "mark search\n"
                         "click home.list.search.go\n"
                         "wait-text home.list %s 60\n"
                         "mark found\n"
                         "memory\n"
                         "quit\n";
    char script[2048];
    snprintf(script, sizeof(script), fmt, number_end, number_end);
    int runs = o->runs > 16 ? 16 : o->runs;
    desk_figures f[16];
    for (int r = 0; r < runs; r++) {
        const char *args[] = {"--cert", crt, "--key", key, "--ca", ca, "--address",
                              "127.0.0.1:9", "--store", store, NULL};
        if ((rc = run_desk(n, args, script, "station-desk", &f[r])) != 0)
            return rc;
    }
    print_desk("station desk (offline)", f, runs);
    return 0;
#endif
}

int bench_search_main(int argc, char **argv)
{
    sopts o;
    if (parse(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    bench_net n;
    memset(&n, 0, sizeof(n));
    bench_net_opts no = {.relays = 1, .villages = 1, .quiet = false};
    int rc = bench_net_start(&n, &no);
    if (rc == 0) {
        gen_county_opts g = {.cases = o.cases, .years = o.years, .seed = o.seed};
        gen_county_result r;
        sj_error err;
        rc = gen_county_fill(n.conninfo, &g, &r, &err);
        if (rc != 0)
            fprintf(stderr, "sanji-bench: gen-county: %s\n", err.message);
        else
            print_gen(&r);
    }
    char number_end[16] = "";
    if (rc == 0) {
        PGconn *db = PQconnectdb(n.conninfo);
        PGresult *r = PQexec(db, "SELECT right(number, 10) FROM cases ORDER BY random() LIMIT 1");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            snprintf(number_end, sizeof(number_end), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(db);
        rc = county_search(&n, &o);
    }
#ifdef BENCH_DESK
    if (rc == 0 && !o.no_desk)
        rc = county_desk(&n, &o, number_end);
#endif
    if (rc == 0 && o.station_cases)
        rc = station(&n, &o);
    bench_net_stop(&n);
    return rc == 0 ? 0 : 1;
}
