/*
 * chaos.h - sanji-chaos, the fault test of G1-G4 (docs/ARCHITECTURE.md): a whole Sanji
 * network on loopback (private PostgreSQL, sanji-countyd, one sanji-relayd
 * per township, a sanji-faultproxy on every link), a load generator of
 * simulated village stations and township/county desks built on the client
 * library, a seeded fault schedule, and a checker that counts rows.
 *
 * The program is split by concern, sharing this header:
 *   chaos_net.c    the processes and proxies: start, kill -9, restart,
 *                  PostgreSQL immediate shutdown, link faults, heal
 *   chaos_load.c   the simulated clients, the action generator and the
 *                  journal of every saved action and its final result
 *   chaos_check.c  the checker: PostgreSQL against the journal, every relay
 *                  and client store against PostgreSQL
 *   chaos_main.c   options, the run's phases, the figures
 *
 * Everything runs on one libuv loop in one thread; process control calls
 * block the loop only for a fork/exec or a kill and reap.
 *
 * Ownership: chaos_run (chaos_main.c) owns every part; each part's free function
 * releases what its set-up function made.  Nothing here is thread-safe.
 *
 * Entry points: chaos_net_setup(), chaos_net_open(), chaos_net_stop(),
 * chaos_net_free(), chaos_net_fault(), chaos_net_heal(), chaos_load_new(),
 * chaos_load_read(), chaos_load_free(), chaos_load_tick(),
 * chaos_load_restart_client(), chaos_load_quiet(), chaos_load_attachments(),
 * chaos_load_attach_big(), chaos_load_uploading(), chaos_check_run(),
 * chaos_net_stations_start(), chaos_net_station_file(),
 * chaos_net_station_store(), chaos_net_station_big(),
 * chaos_net_station_uploading(), chaos_net_station_wait_upload(),
 * chaos_net_stations_done().
 *
 * Station processes: the last station of each township may run as
 * sanji-chaos-station (station_main.c), a process of its own that the run
 * kills with -9 mid-upload; chaos_net starts, kills and restarts it,
 * chaos_load reads what it saved from its journal and its store.
 */
#ifndef SJ_CHAOS_H
#define SJ_CHAOS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "err.h"
#include "proc.h"
#include "workload.h"

#define CHAOS_COUNTY "410423000000"
#define CHAOS_TOWNSHIPS_MAX 8
#define CHAOS_VILLAGES_MAX 30 /* per township */

/* ---- the network ---------------------------------------------------------- */

typedef enum chaos_fault_kind {
    CHAOS_F_RELAY_KILL = 0,  /* kill -9 of a relay, restart after a pause */
    CHAOS_F_COUNTY_KILL,     /* kill -9 of sanji-countyd, restart after a pause */
    CHAOS_F_PG_CRASH,        /* PostgreSQL immediate shutdown (SIGQUIT), restart */
    CHAOS_F_LINK_DELAY,      /* a proxy delays every chunk for a while */
    CHAOS_F_LINK_BLACKHOLE,  /* a proxy holds everything for a while */
    CHAOS_F_LINK_RESET,      /* a proxy resets every connection (RST) */
    CHAOS_F_LINK_REFUSE,     /* a proxy resets, then refuses new connections a while */
    CHAOS_F_CLIENT_RESTART,  /* a station is stopped, freed and made again mid-outbox */
    CHAOS_F_STATION_KILL,    /* kill -9 of a station process mid-upload, restart from its store */
    CHAOS_F_COUNT
} chaos_fault_kind;

extern const char *const chaos_fault_names[CHAOS_F_COUNT];

typedef struct chaos_proxy {
    sj_test_proc proc;
    int listen_port, control_port, target_port;
    char name[32];
    bool faulty;            /* not in pass mode now */
    uint64_t heal_at_ms;    /* when to put it back in pass (0: none due) */
} chaos_proxy;

typedef struct chaos_net {
    char dir[128];          /* everything of the run: certificates, configs, logs, stores */
    char pgdir[160];        /* the cluster's folder: a link to pgpath when run as root */
    char pgpath[PATH_MAX];  /* its physical folder, for PostgreSQL's own programs */
    char conninfo[256];
    int pg_port;
    bool pg_made;
    sj_test_proc pg, county;
    int county_port;
    int n_townships;
    int villages_per_township;
    char township[CHAOS_TOWNSHIPS_MAX][13];
    char village[CHAOS_TOWNSHIPS_MAX][CHAOS_VILLAGES_MAX][13];
    sj_test_proc relay[CHAOS_TOWNSHIPS_MAX];
    int relay_port[CHAOS_TOWNSHIPS_MAX];
    chaos_proxy up[CHAOS_TOWNSHIPS_MAX];    /* relay -> county */
    chaos_proxy down[CHAOS_TOWNSHIPS_MAX];  /* stations, township desk -> relay */
    chaos_proxy county_desk;                /* county desk -> county */
    /* Processes down and when to restart them (0: running). */
    uint64_t county_restart_at, pg_restart_at, relay_restart_at[CHAOS_TOWNSHIPS_MAX];
    /* Station processes (sanji-chaos-station): village proc_v[t] of
     * township t runs as one (-1: none), and when to restart it. */
    int proc_v[CHAOS_TOWNSHIPS_MAX];
    sj_test_proc station[CHAOS_TOWNSHIPS_MAX];
    uint64_t station_restart_at[CHAOS_TOWNSHIPS_MAX];
    int big_t;              /* the station process asked for a large upload (-1: none) */
    unsigned faults[CHAOS_F_COUNT];
    unsigned crashes;       /* processes that ended in a way the run did not cause */
    bool verbose;
} chaos_net;

/* Makes the PKI (sanji-pki), PostgreSQL with the demo county, the county,
 * the relays and the proxies for n_townships townships of the demo county
 * with villages_per_township stations each (village codes from w).
 * Returns 0 or a code with err. */
int chaos_net_setup(chaos_net *n, sj_workload *w, int n_townships, int villages_per_township,
                    sj_error *err);

/* For a check of a kept run (sanji-chaos --check DIR): fills n from the
 * stores of dir (townships from the relays', villages from the stations')
 * and starts its PostgreSQL (dir-pg) again unless it already runs.  n must
 * be zeroed; free it
 * with chaos_net_free(n, true).  Returns 0 or a code with err. */
int chaos_net_open(chaos_net *n, const char *dir, sj_error *err);

/* Stops every process with SIGTERM and counts in n->crashes each that had
 * already ended or does not end with exit 0 (reported on stderr with its
 * log and, if it left a core, a backtrace), and each PostgreSQL backend the
 * server log shows terminated by a signal.  Idempotent. */
void chaos_net_stop(chaos_net *n);

/* Stops everything (chaos_net_stop) and, unless keep, removes the run's
 * folders. */
void chaos_net_free(chaos_net *n, bool keep);

/* Injects one fault of kind (CLIENT_RESTART excepted: chaos_load does that)
 * chosen with w; now_ms is the loop's time.  Faults that last schedule
 * their own end, carried out by chaos_net_poll(). */
int chaos_net_fault(chaos_net *n, sj_workload *w, chaos_fault_kind kind, uint64_t now_ms,
                    sj_error *err);

/* Ends faults whose time is up (restarts, proxies back to pass). */
void chaos_net_poll(chaos_net *n, uint64_t now_ms);

/* Ends every fault now: all proxies pass, every process running. */
int chaos_net_heal(chaos_net *n, sj_error *err);

/* True when nothing is down and no proxy is faulty. */
bool chaos_net_healthy(const chaos_net *n);

/* Files of the run: certificate prefix of a node ("<dir>/pki/<name>"). */
void chaos_net_cert(const chaos_net *n, const char *name, char *out, size_t cap);

/* ---- station processes ------------------------------------------------------- */

/* Starts the last station of each of the first count townships (count
 * clamped to the townships; none when a township has a single station) as
 * a sanji-chaos-station process saving about rate actions per second.
 * Returns 0 or a code with err. */
int chaos_net_stations_start(chaos_net *n, int count, double rate, uint64_t seed, sj_error *err);

/* A station process's files: its journal plus suffix ("", ".big", ".done",
 * ".idle", ".ready": station_main.c), and its store. */
void chaos_net_station_file(const chaos_net *n, int t, const char *suffix, char *out, size_t cap);
void chaos_net_station_store(const chaos_net *n, int t, char *out, size_t cap);

/* Asks a running station process, drawn with w, for a large upload now
 * (n->big_t); the next CHAOS_F_STATION_KILL kills that one.  SJ_EBUSY when
 * none runs. */
int chaos_net_station_big(chaos_net *n, sj_workload *w, sj_error *err);

/* True when the station process n->big_t has an attachment of its own
 * whose chunks the county has not all recorded (its store says so). */
bool chaos_net_station_uploading(const chaos_net *n);

/* Polls chaos_net_station_uploading() every 2 ms for up to max_ms,
 * blocking: an upload on loopback may be over within one tick of the
 * run's loop.  True as soon as it is under way. */
bool chaos_net_station_wait_upload(const chaos_net *n, int max_ms);

/* Ends the load of every station process (they save nothing new). */
void chaos_net_stations_done(chaos_net *n);

/* ---- the load --------------------------------------------------------------- */

typedef struct chaos_load chaos_load;

typedef struct chaos_load_opts {
    uint64_t actions;        /* how many actions to save in all */
    double rate;             /* actions per second, all clients together */
    bool verbose;
} chaos_load_opts;

typedef struct chaos_figures {
    uint64_t saved;          /* actions the client library reported as saved */
    uint64_t applied;        /* final result APPLIED */
    uint64_t refused;        /* final result REFUSED */
    uint64_t pending;        /* no final result yet */
    uint64_t registers;      /* of saved: new cases */
    uint64_t local_refusals; /* refused by the client's own checks (never saved) */
    uint64_t client_restarts;
    uint64_t attachments;    /* attachments the stations saved (sc_attach) */
    uint64_t attach_bytes;   /* their bytes */
    uint64_t attach_local_refusals; /* refused by the station's own checks */
    /* Of the above, the station processes' (sanji-chaos-station): how many
     * ran, the actions and attachments their journals and stores show. */
    uint64_t proc_stations, proc_saved, proc_attachments;
} chaos_figures;

/* Makes one client per station, per township desk and the county desk, on
 * loop, logged in as the demo person of its unit; the journal is
 * <dir>/journal.txt.  Returns 0 or a code with err. */
int chaos_load_new(uv_loop_t *loop, chaos_net *n, sj_workload *w, const chaos_load_opts *o,
                   chaos_load **out, sj_error *err);

/* For a check of a kept run: the journal (<dir>/journal.txt) read back,
 * and the store paths of the clients n names, without any client running.
 * Only chaos_load_journal(), chaos_load_stores(), chaos_load_figures() and
 * chaos_load_free() may be used on it.  Returns 0 or a code with err. */
int chaos_load_read(chaos_net *n, chaos_load **out, sj_error *err);

/* True once every client has logged in. */
bool chaos_load_ready(const chaos_load *l);

/* Saves the actions due by now (rate), until opts.actions are saved. */
void chaos_load_tick(chaos_load *l, uint64_t now_ms);

/* True when every action to do has been saved. */
bool chaos_load_done(const chaos_load *l);

/* Stops a random station with work in its outbox, frees it and makes it
 * again from the same store (a client restarted mid-outbox). */
int chaos_load_restart_client(chaos_load *l, sj_error *err);

/* True when every saved action has its final result and every outbox is
 * empty. */
bool chaos_load_quiet(chaos_load *l);

void chaos_load_figures(const chaos_load *l, chaos_figures *out);

/* Journal access for the checker: calls fn for every saved action.
 * final: 0 none yet, 'A' applied (version), 'R' refused (code). */
typedef void (*chaos_journal_fn)(const uint8_t message_id[16], const uint8_t case_id[16],
                                 int action, int final, uint64_t version, int code, void *data);
void chaos_load_journal(const chaos_load *l, chaos_journal_fn fn, void *data);

/* Store paths of every client, for the checker; unit is the org unit. */
typedef void (*chaos_store_fn)(const char *store_path, const char *unit, void *data);
void chaos_load_stores(const chaos_load *l, chaos_store_fn fn, void *data);

/* Attachments the stations saved (the journal's T lines): calls fn for
 * each with its id, case, size, SHA-256 and the station's unit. */
typedef void (*chaos_attach_fn)(const uint8_t attachment_id[16], const uint8_t case_id[16],
                                uint64_t size, const uint8_t sha256[32], const char *unit,
                                void *data);
void chaos_load_attachments(const chaos_load *l, chaos_attach_fn fn, void *data);

/* A station with an open case attaches a large file (400-600 KB, 13-19
 * chunks) now: called right before a fault so that it hits an upload in
 * flight; a client restart then prefers that station.  SJ_EBUSY when no
 * station can attach now. */
int chaos_load_attach_big(chaos_load *l, sj_error *err);

/* True when the station of the last large attachment still has work in its
 * outbox that the county has not answered (its upload is in flight). */
bool chaos_load_uploading(chaos_load *l);

/* Stops every client; runs the loop until they are freed. */
void chaos_load_free(chaos_load *l);

/* ---- the checker ------------------------------------------------------------- */

typedef struct chaos_report {
    uint64_t journal;        /* actions in the journal */
    uint64_t applied_once;   /* APPLIED with exactly one event */
    uint64_t lost;           /* saved, but no final result, or APPLIED without an event */
    uint64_t duplicated;     /* more than one event for one message id */
    uint64_t phantom;        /* events or cases that no journal saved */
    uint64_t wrong_result;   /* REFUSED in the journal but applied in PostgreSQL, or the reverse */
    uint64_t bad_history;    /* a case whose events do not replay through sj_case_apply */
    uint64_t replicas_checked;
    uint64_t diverged;       /* replica rows unlike the county's (status, version, holder) */
    uint64_t missing;        /* county cases absent from a replica that should hold them */
    uint64_t cursor_behind;  /* feed cursors not at the county's last seq */
    /* Attachments (the stations' own, from the journal and their stores). */
    uint64_t attach_saved;      /* attachments the stations saved */
    uint64_t attach_once;       /* complete at the county exactly once, right size and hash */
    uint64_t attach_refused;    /* a chunk refused: the station shows it failed */
    uint64_t attach_lost;       /* saved, not refused, and not complete at the county */
    uint64_t attach_duplicated; /* a chunk counted twice, or the file again under another id */
    uint64_t attach_wrong;      /* size, hash, case, chunks or stored bytes unlike the station's */
    uint64_t attach_phantom;    /* county attachments that no station saved */
    uint64_t cases, events;
} chaos_report;

/* Runs every check against PostgreSQL (conninfo of n) and the stores;
 * prints up to 20 findings of each kind to out.  Returns 0 when the report
 * could be made (inspect it), or a code with err. */
int chaos_check_run(chaos_net *n, chaos_load *l, chaos_report *r, FILE *out, sj_error *err);

/* True when the report shows no loss, duplicate, phantom or divergence. */
bool chaos_check_clean(const chaos_report *r);

#endif
