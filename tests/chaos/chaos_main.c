/*
 * chaos_main.c - sanji-chaos: set up a network, drive load while a seeded
 * schedule of faults hits it, heal, wait for convergence, check G1-G4 and
 * print the figures (tests/chaos/README.md, docs/RELIABILITY.md).
 *
 *   sanji-chaos [--seed N|random] [--actions N] [--rate PER_S] [--faults N]
 *               [--mix relay,county,pg,delay,blackhole,reset,refuse,client,station]
 *               [--townships N] [--villages N] [--station-procs N] [--bound S]
 *               [--keep] [--verbose] [--plant-crash]
 *   sanji-chaos --check DIR
 *
 * Exit status: 0 when every check passed, no process crashed and the
 * network converged within the bound (seconds after the last heal); 1 on a
 * loss, duplicate, divergence, crash or slow convergence; 2 on bad
 * arguments or a set-up failure.  The run waits past the bound only
 * LATE_GRACE_MS, to tell how late a slow convergence was; the suite gives
 * a bound that only a hang exceeds (tests/chaos/CMakeLists.txt), so that a
 * loaded machine is never a failure there, and the time to converge is a
 * figure that it prints.
 *
 * --check DIR runs only the checker on a run kept with --keep (or kept
 * because it failed): it starts that run's PostgreSQL again, reads the
 * journal and the stores, prints the findings and figures, and stops.
 *
 * --plant-crash tests the crash detection itself: halfway through the load
 * the first relay gets a SIGSEGV that is no fault of the schedule; the run
 * must then report it (crashed 1, with its log and backtrace) and fail.
 *
 * Attachments ride along: stations attach files during the load
 * (chaos_load.c), and PRE_ATTACH_MS before each fault a station begins a
 * large upload, so that every kind of fault also hits chunks in flight.
 *
 * Station processes (sanji-chaos-station, --station-procs N) do their own
 * share of the station work; every STATION_EVERY-th fault kills one with -9
 * once its large upload is under way.
 *
 * SANJI_CHAOS_SCALE (a factor, e.g. 0.5, set by the sanitizer build's
 * ctest registration) scales --actions and --rate down for slow builds.
 *
 * Entry point: main().
 */
#include "chaos.h"
#include "dirs.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long the clients may take to log in before the run calls it a hang
 * (seconds on an idle machine; scrypt checks for every client, many times
 * that under a sanitizer on a loaded one). */
#define LOGIN_LIMIT_MS (3 * SJ_TEST_HANG_MS / 2)
/* After the bound has passed, how much longer the run waits to measure how
 * late the network converged (it fails either way). */
#define LATE_GRACE_MS 30000

typedef struct opts {
    uint64_t seed;
    uint64_t actions;
    double rate;
    unsigned faults;
    bool mix[CHAOS_F_COUNT];
    int townships, villages;
    int station_procs;      /* stations run as processes (one per township at most) */
    double bound_s;
    bool keep, verbose, plant_crash;
    char mix_text[200];
    const char *check_dir;  /* --check: only the checker, on a kept run */
} opts;

typedef enum phase { P_LOGIN, P_LOAD, P_HEAL, P_DONE } phase;

typedef struct run {
    opts o;
    uv_loop_t loop;
    uv_timer_t tick;
    chaos_net net;
    sj_workload *w_load, *w_fault;
    chaos_load *load;
    phase phase;
    uint64_t phase_start, next_fault, fault_every, heal_at, converged_ms, last_check;
    unsigned faults_done;
    unsigned faults_mid_upload; /* faults injected while a large upload was in flight */
    unsigned station_kills_mid_upload; /* of those, kill -9 of a station process */
    chaos_fault_kind next_kind; /* the next fault, drawn when its upload is begun */
    bool converged, login_failed, crash_planted, pre_attached, station_asked;
} run;

/* How long before a fault a large attachment is begun: long enough for its
 * first chunks to be on the links and in the relay's queue, short enough
 * that most of its 13-19 chunks are still to go when the fault hits. */
#define PRE_ATTACH_MS 60
/* A station process is asked for its large upload at the fault's time, and
 * its kill -9 waits until the upload is under way (its store shows chunks
 * the county has not recorded), at most this long (a restart takes up to
 * 3 s). */
#define STATION_WAIT_MS 3500
/* How long one tick blocks to catch the station's upload under way. */
#define STATION_POLL_MS 150
/* Every STATION_EVERY-th fault, from the third, is a station process's
 * kill -9, so that every schedule (fixed or random seed) has some. */
#define STATION_EVERY 6

static const char *const MIX_NAMES[CHAOS_F_COUNT] = {
    "relay", "county", "pg", "delay", "blackhole", "reset", "refuse", "client", "station",
};

static int parse_mix(opts *o, const char *s)
{
    char buf[200];
    snprintf(buf, sizeof buf, "%s", s);
    snprintf(o->mix_text, sizeof o->mix_text, "%s", s);
    memset(o->mix, 0, sizeof o->mix);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int k;
        for (k = 0; k < CHAOS_F_COUNT; k++)
            if (strcmp(tok, MIX_NAMES[k]) == 0)
                break;
        if (k == CHAOS_F_COUNT)
            return -1;
        o->mix[k] = true;
    }
    return 0;
}

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &s, sizeof s) != (ssize_t)sizeof s)
            s = 0;
        close(fd);
    }
    if (s == 0)
        s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    return s % 1000000000000ULL;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: sanji-chaos [--seed N|random] [--actions N] [--rate PER_S] [--faults N]\n"
            "                   [--mix relay,county,pg,delay,blackhole,reset,refuse,client,station]\n"
            "                   [--townships N] [--villages N] [--station-procs N] [--bound S]\n"
            "                   [--keep] [--verbose] [--plant-crash]\n"
            "       sanji-chaos --check DIR\n");
}

static int parse(opts *o, int argc, char **argv)
{
    *o = (opts){.actions = 1500, .rate = 40, .faults = 12, .townships = 3, .villages = 6,
                .station_procs = CHAOS_TOWNSHIPS_MAX, .bound_s = 10};
    o->seed = random_seed();
    parse_mix(o, "relay,county,pg,delay,blackhole,reset,refuse,client,station");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--keep") == 0) {
            o->keep = true;
            continue;
        }
        if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
            continue;
        }
        if (strcmp(a, "--plant-crash") == 0) {
            o->plant_crash = true;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (strcmp(a, "--seed") == 0)
            o->seed = strcmp(v, "random") == 0 ? random_seed() : strtoull(v, NULL, 10);
        else if (strcmp(a, "--actions") == 0)
            o->actions = strtoull(v, NULL, 10);
        else if (strcmp(a, "--rate") == 0)
            o->rate = atof(v);
        else if (strcmp(a, "--faults") == 0)
            o->faults = (unsigned)atoi(v);
        else if (strcmp(a, "--mix") == 0) {
            if (parse_mix(o, v) != 0)
                return -1;
        } else if (strcmp(a, "--townships") == 0)
            o->townships = atoi(v);
        else if (strcmp(a, "--villages") == 0)
            o->villages = atoi(v);
        else if (strcmp(a, "--station-procs") == 0)
            o->station_procs = atoi(v);
        else if (strcmp(a, "--bound") == 0)
            o->bound_s = atof(v);
        else if (strcmp(a, "--check") == 0)
            o->check_dir = v;
        else
            return -1;
    }
    if (o->actions == 0 || o->rate <= 0)
        return -1;
    const char *scale = getenv("SANJI_CHAOS_SCALE");
    if (scale && atof(scale) > 0 && atof(scale) < 1) {
        double f = atof(scale);
        o->actions = (uint64_t)((double)o->actions * f) + 1;
        o->rate *= f;
    }
    return 0;
}

static chaos_fault_kind pick_fault(run *r)
{
    chaos_fault_kind ks[CHAOS_F_COUNT];
    size_t n = 0;
    for (int k = 0; k < CHAOS_F_COUNT; k++)
        if (r->o.mix[k])
            ks[n++] = (chaos_fault_kind)k;
    return n ? ks[sj_workload_below(r->w_fault, n)] : CHAOS_F_LINK_RESET;
}

/* The kind of fault number i of the schedule. */
static chaos_fault_kind schedule_kind(run *r, unsigned i)
{
    bool procs = false;
    for (int t = 0; t < r->net.n_townships; t++)
        procs = procs || r->net.proc_v[t] >= 0;
    if (procs && r->o.mix[CHAOS_F_STATION_KILL] && i % STATION_EVERY == 2)
        return CHAOS_F_STATION_KILL;
    return pick_fault(r);
}

/* Injects a fault of kind k; a kind whose target is already down (or
 * that cannot be done now) is replaced by a drawn one, up to three tries. */
static void inject(run *r, chaos_fault_kind k, uint64_t now)
{
    sj_error err;
    for (int tries = 0; tries < 3; tries++, k = pick_fault(r)) {
        int rc;
        if (k == CHAOS_F_CLIENT_RESTART) {
            rc = chaos_load_restart_client(r->load, &err);
            if (rc == 0) {
                r->net.faults[k]++;
                if (r->o.verbose)
                    fprintf(stderr, "chaos: client restart\n");
            }
        } else {
            rc = chaos_net_fault(&r->net, r->w_fault, k, now, &err);
        }
        if (rc == 0)
            return;
        if (rc != SJ_EBUSY)
            fprintf(stderr, "sanji-chaos: fault %s: %s\n", chaos_fault_names[k], err.message);
    }
}

static void on_tick(uv_timer_t *t)
{
    run *r = t->data;
    uint64_t now = uv_now(&r->loop);
    switch (r->phase) {
    case P_LOGIN:
        if (chaos_load_ready(r->load)) {
            uint64_t login_ms = now - r->phase_start;
            r->phase = P_LOAD;
            r->phase_start = now;
            uint64_t duration = (uint64_t)((double)r->o.actions * 1000.0 / r->o.rate);
            r->fault_every = r->o.faults ? duration / (r->o.faults + 1) : 0;
            r->next_fault = now + r->fault_every;
            fprintf(stderr, "sanji-chaos: %zu clients logged in after %.1f s; load for about %.0f s\n",
                    (size_t)(r->o.townships * r->o.villages + r->o.townships + 1),
                    (double)login_ms / 1000.0, (double)duration / 1000.0);
        } else if (now - r->phase_start > LOGIN_LIMIT_MS) {
            fprintf(stderr, "sanji-chaos: clients did not log in within %d s\n",
                    LOGIN_LIMIT_MS / 1000);
            r->login_failed = true;
            r->phase = P_DONE;
            uv_stop(&r->loop);
        }
        return;
    case P_LOAD:
        chaos_net_poll(&r->net, now);
        chaos_load_tick(r->load, now);
        if (r->o.plant_crash && !r->crash_planted) {
            chaos_figures f;
            chaos_load_figures(r->load, &f);
            if (f.saved * 2 >= r->o.actions &&
                sj_test_proc_signal(&r->net.relay[0], SIGSEGV) == 0) {
                r->crash_planted = true;
                fprintf(stderr, "sanji-chaos: planted a crash: SIGSEGV to relay %s\n",
                        r->net.township[0]);
            }
        }
        if (r->faults_done < r->o.faults && !r->pre_attached &&
            now + PRE_ATTACH_MS >= r->next_fault) {
            sj_error err;
            r->pre_attached = true;
            r->next_kind = schedule_kind(r, r->faults_done);
            /* (A station process is asked at the fault's time, below.) */
            if (r->next_kind != CHAOS_F_STATION_KILL && chaos_load_attach_big(r->load, &err) != 0 &&
                r->o.verbose)
                fprintf(stderr, "chaos: no large attachment before the fault: %s\n", err.message);
        }
        if (r->faults_done < r->o.faults && now >= r->next_fault) {
            bool station = r->next_kind == CHAOS_F_STATION_KILL;
            if (station && !r->station_asked) {
                /* Its upload goes fast on loopback: ask now, kill as soon
                 * as its store shows it under way. */
                sj_error err;
                /* None runs (all restarting): ask again next tick. */
                r->station_asked = chaos_net_station_big(&r->net, r->w_fault, &err) == 0;
            }
            bool uploading = station ? r->station_asked &&
                                           chaos_net_station_wait_upload(&r->net, STATION_POLL_MS)
                                     : chaos_load_uploading(r->load);
            if (station && !uploading && now < r->next_fault + STATION_WAIT_MS)
                return; /* its upload is not under way yet: look again next tick */
            if (station && !uploading && r->o.verbose)
                fprintf(stderr, "chaos: station kill -9 without an upload in flight\n");
            if (uploading) {
                r->faults_mid_upload++;
                r->station_kills_mid_upload += station;
            }
            inject(r, r->next_kind, now);
            r->pre_attached = r->station_asked = false;
            r->faults_done++;
            r->next_fault = now + r->fault_every / 2 + sj_workload_below(r->w_fault, r->fault_every + 1);
        }
        if (chaos_load_done(r->load) && r->faults_done >= r->o.faults) {
            sj_error err;
            if (chaos_net_heal(&r->net, &err) != 0)
                fprintf(stderr, "sanji-chaos: heal: %s\n", err.message);
            chaos_net_stations_done(&r->net);
            r->heal_at = uv_now(&r->loop);
            r->phase = P_HEAL;
            fprintf(stderr, "sanji-chaos: load done, %u faults injected, every link healed; "
                            "waiting for convergence\n",
                    r->faults_done);
        }
        return;
    case P_HEAL: {
        chaos_net_poll(&r->net, now);
        uint64_t limit = (uint64_t)(r->o.bound_s * 1000.0) + LATE_GRACE_MS;
        if (now - r->last_check >= 200 && chaos_load_quiet(r->load)) {
            r->last_check = now;
            chaos_report rep;
            sj_error err;
            if (chaos_check_run(&r->net, r->load, &rep, NULL, &err) == 0 &&
                chaos_check_clean(&rep)) {
                /* Converged when the state that passed was observed, not
                 * when the (long) check finished. */
                r->converged = true;
                r->converged_ms = now - r->heal_at;
                r->phase = P_DONE;
                uv_stop(&r->loop);
                return;
            }
        }
        if (now - r->heal_at > limit) {
            r->phase = P_DONE;
            uv_stop(&r->loop);
        }
        return;
    }
    case P_DONE:
        uv_stop(&r->loop);
        return;
    }
}

/* The figures and the result line; returns the exit status (0 or 1). */
static int print_figures(const run *r, const chaos_report *rep, const chaos_figures *fig)
{
    bool clean = chaos_check_clean(rep) && r->net.crashes == 0;
    bool fast = r->o.check_dir ||
                (r->converged && r->converged_ms <= (uint64_t)(r->o.bound_s * 1000.0));
    if (r->o.check_dir)
        printf("== figures (check of %s)\n", r->o.check_dir);
    else
        printf("== figures (seed %llu)\n", (unsigned long long)r->o.seed);
    printf("actions saved        %llu (registrations %llu)\n", (unsigned long long)fig->saved,
           (unsigned long long)fig->registers);
    printf("applied              %llu (exactly once in PostgreSQL: %llu)\n",
           (unsigned long long)fig->applied, (unsigned long long)rep->applied_once);
    printf("refused by the county %llu (stale version, conflicts)\n",
           (unsigned long long)fig->refused);
    printf("lost                 %llu\n", (unsigned long long)rep->lost);
    printf("duplicated           %llu\n", (unsigned long long)rep->duplicated);
    printf("phantom rows         %llu\n", (unsigned long long)rep->phantom);
    printf("wrong results        %llu\n", (unsigned long long)rep->wrong_result);
    printf("bad histories        %llu of %llu cases, %llu events\n",
           (unsigned long long)rep->bad_history, (unsigned long long)rep->cases,
           (unsigned long long)rep->events);
    printf("replicas checked     %llu: diverged %llu, missing %llu, cursors behind %llu\n",
           (unsigned long long)rep->replicas_checked, (unsigned long long)rep->diverged,
           (unsigned long long)rep->missing, (unsigned long long)rep->cursor_behind);
    printf("attachments          %llu saved (%llu bytes): complete at the county exactly once %llu,"
           " refused %llu\n",
           (unsigned long long)rep->attach_saved, (unsigned long long)fig->attach_bytes,
           (unsigned long long)rep->attach_once, (unsigned long long)rep->attach_refused);
    printf("attachments lost     %llu\n", (unsigned long long)rep->attach_lost);
    printf("attachments duplicated %llu\n", (unsigned long long)rep->attach_duplicated);
    printf("attachments wrong    %llu (size, SHA-256, case, chunks or stored bytes)\n",
           (unsigned long long)rep->attach_wrong);
    printf("attachments phantom  %llu\n", (unsigned long long)rep->attach_phantom);
    printf("station processes    %llu: actions saved %llu, attachments %llu (their journals"
           " and stores)\n",
           (unsigned long long)fig->proc_stations, (unsigned long long)fig->proc_saved,
           (unsigned long long)fig->proc_attachments);
    printf("crashed              %u\n", r->net.crashes);
    unsigned total = 0;
    for (int k = 0; k < CHAOS_F_COUNT; k++)
        total += r->net.faults[k];
    printf("faults injected      %u:", total);
    for (int k = 0; k < CHAOS_F_COUNT; k++)
        printf(" %s %u%s", chaos_fault_names[k], r->net.faults[k],
               k + 1 < CHAOS_F_COUNT ? "," : "\n");
    if (!r->o.check_dir)
        printf("faults mid-upload    %u (a large attachment still in its station's outbox),"
               " of them station kill -9 %u\n",
               r->faults_mid_upload, r->station_kills_mid_upload);
    if (r->o.check_dir)
        printf("time to converge     not measured (check only)\n");
    else if (r->converged)
        printf("time to converge     %.2f s after the last heal (bound %.0f s)\n",
               (double)r->converged_ms / 1000.0, r->o.bound_s);
    else
        printf("time to converge     NOT CONVERGED\n");
    printf("local refusals       %llu (the client's own checks; never saved), attachments %llu\n",
           (unsigned long long)fig->local_refusals, (unsigned long long)fig->attach_local_refusals);
    if (clean && fast) {
        printf("RESULT: PASS\n");
        return 0;
    }
    printf("RESULT: FAIL%s%s%s\n", chaos_check_clean(rep) ? "" : " (checks)",
           r->net.crashes ? " (crashes)" : "", fast ? "" : " (convergence)");
    if (!r->o.check_dir)
        printf("seed=%llu replay with: sanji-chaos --seed %llu --actions %llu --rate %g "
               "--faults %u --mix %s --townships %d --villages %d\n",
               (unsigned long long)r->o.seed, (unsigned long long)r->o.seed,
               (unsigned long long)r->o.actions, r->o.rate, r->o.faults, r->o.mix_text,
               r->o.townships, r->o.villages);
    return 1;
}

/* sanji-chaos --check DIR: the checker alone, on a kept run. */
static int check_only(run *r)
{
    sj_error err;
    int status = 2;
    if (chaos_net_open(&r->net, r->o.check_dir, &err) != 0) {
        fprintf(stderr, "sanji-chaos: --check %s: %s\n", r->o.check_dir, err.message);
    } else if (chaos_load_read(&r->net, &r->load, &err) != 0) {
        fprintf(stderr, "sanji-chaos: --check %s: %s\n", r->o.check_dir, err.message);
    } else {
        chaos_report rep;
        chaos_figures fig;
        printf("== checks (findings, if any)\n");
        if (chaos_check_run(&r->net, r->load, &rep, stdout, &err) != 0) {
            fprintf(stderr, "sanji-chaos: check: %s\n", err.message);
        } else {
            chaos_load_figures(r->load, &fig);
            chaos_net_stop(&r->net);
            status = print_figures(r, &rep, &fig);
        }
    }
    chaos_load_free(r->load);
    chaos_net_free(&r->net, true);
    return status;
}

int main(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    if (parse(&r.o, argc, argv) != 0) {
        usage();
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A write to a link the other end reset must be an error, not the end
     * of the run (the long run once died silently of SIGPIPE). */
    signal(SIGPIPE, SIG_IGN);
    sj_error dirs_err;
    if (sj_test_dirs_find(&dirs_err) != 0) {
        fprintf(stderr, "sanji-chaos: %s\n", dirs_err.message);
        return 2;
    }
    if (r.o.check_dir)
        return check_only(&r);
    printf("seed=%llu replay with: sanji-chaos --seed %llu --actions %llu --rate %g --faults %u "
           "--mix %s --townships %d --villages %d\n",
           (unsigned long long)r.o.seed, (unsigned long long)r.o.seed,
           (unsigned long long)r.o.actions, r.o.rate, r.o.faults, r.o.mix_text, r.o.townships,
           r.o.villages);
    sj_error err;
    int status = 2;
    if (sj_workload_new(r.o.seed, NULL, &r.w_load, &err) != 0 ||
        sj_workload_new(r.o.seed ^ 0x5eedfa17ULL, NULL, &r.w_fault, &err) != 0) {
        fprintf(stderr, "sanji-chaos: %s\n", err.message);
        goto out;
    }
    r.net.verbose = r.o.verbose;
    uv_loop_init(&r.loop);
    uint64_t t0 = uv_now(&r.loop);
    if (chaos_net_setup(&r.net, r.w_load, r.o.townships, r.o.villages, &err) != 0) {
        fprintf(stderr, "sanji-chaos: set-up: %s\n", err.message);
        goto out_net;
    }
    /* A station process's share of the load: a station's share of the rate. */
    if (chaos_net_stations_start(&r.net, r.o.station_procs,
                                 r.o.rate / (double)(r.o.townships * r.o.villages), r.o.seed,
                                 &err) != 0) {
        fprintf(stderr, "sanji-chaos: station processes: %s\n", err.message);
        goto out_net;
    }
    chaos_load_opts lo = {.actions = r.o.actions, .rate = r.o.rate, .verbose = r.o.verbose};
    if (chaos_load_new(&r.loop, &r.net, r.w_load, &lo, &r.load, &err) != 0) {
        fprintf(stderr, "sanji-chaos: clients: %s\n", err.message);
        goto out_net;
    }
    uv_update_time(&r.loop);
    fprintf(stderr, "sanji-chaos: network up in %.1f s (%s)\n",
            (double)(uv_now(&r.loop) - t0) / 1000.0, r.net.dir);
    r.phase_start = uv_now(&r.loop);
    uv_timer_init(&r.loop, &r.tick);
    r.tick.data = &r;
    uv_timer_start(&r.tick, on_tick, 10, 10);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    uv_timer_stop(&r.tick);
    uv_close((uv_handle_t *)&r.tick, NULL);

    status = 1;
    if (!r.login_failed) {
        chaos_report rep;
        chaos_figures fig;
        printf("== checks (findings, if any)\n");
        if (chaos_check_run(&r.net, r.load, &rep, stdout, &err) != 0) {
            fprintf(stderr, "sanji-chaos: check: %s\n", err.message);
        } else {
            chaos_load_figures(r.load, &fig);
            /* Clients first, then every process ends on SIGTERM: one that
             * does not end cleanly counts as crashed before the figures. */
            chaos_load_free(r.load);
            r.load = NULL;
            chaos_net_stop(&r.net);
            status = print_figures(&r, &rep, &fig);
        }
    }
    chaos_load_free(r.load);
    r.load = NULL;
out_net:
    chaos_load_free(r.load);
    chaos_net_free(&r.net, r.o.keep || status != 0);
    uv_run(&r.loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&r.loop) != 0) {
        uv_run(&r.loop, UV_RUN_DEFAULT);
        uv_loop_close(&r.loop);
    }
out:
    sj_workload_free(r.w_load);
    sj_workload_free(r.w_fault);
    return status;
}
