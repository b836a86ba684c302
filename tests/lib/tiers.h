/*
 * tiers.h - test helper: the county and township tiers of a test network
 * as real processes on loopback: sanji-countyd on a PostgreSQL database the
 * test made (loaded with the demo county of deploy/demo) and the
 * sanji-relayd of 张官营镇 (410423101000) in front of it, with
 * certificates from the real sanji-pki (certs.h).
 *
 * The network's folder is certs.dir: it holds the PKI, county.conf,
 * relay.conf, the relay's store relay.db, and the logs countyd.log,
 * relayd.log, migrate.log and demo-load.log.  A test adds its stations'
 * files there.
 *
 * Use: sj_test_tiers_init() (programs, PKI, ports), then
 * sj_test_tiers_configure() with the database (configuration files, schema
 * and demo data), sj_test_tiers_start() (both daemons, listening), and at
 * the end sj_test_tiers_finish().
 *
 * Ownership: the caller owns the struct (usually static), zeroed before
 * init; sj_test_tiers_finish() stops and reaps the daemons, removes the
 * folder unless it is to be kept, and zeroes the struct, which may then be
 * initialised again.
 *
 * Errors: functions return 0, or -1 after saying on stderr what failed
 * (and where its log is).
 *
 * A test that plays the other tiers itself starts one daemon with
 * sj_test_tiers_start_daemon().
 *
 * Entry points: sj_test_tiers_init(), sj_test_tiers_configure(),
 * sj_test_tiers_start(), sj_test_tiers_finish(), sj_test_tiers_start_daemon(),
 * sj_test_tiers_up_with_station(), sj_test_tiers_write_station(),
 * sj_test_tiers_cli(), sj_test_cli_json_str(), sj_test_tiers_register(),
 * sj_test_tiers_station_login().
 */
#ifndef SJ_TEST_TIERS_H
#define SJ_TEST_TIERS_H

#include <limits.h>

#include "certs.h"
#include "proc.h"

typedef struct sj_test_tiers {
    sj_test_certs certs;           /* the PKI; certs.dir is the network's folder */
    char build[PATH_MAX];          /* $SANJI_BUILD_DIR */
    char source[PATH_MAX];         /* $SANJI_SOURCE_DIR */
    char countyd[PATH_MAX], relayd[PATH_MAX], cli[PATH_MAX]; /* the programs */
    char county_log[PATH_MAX], relay_log[PATH_MAX];          /* the daemons' logs */
    int county_port, relay_port;   /* on 127.0.0.1, free when init ran */
    sj_test_proc county, relay;
} sj_test_tiers;

/* Finds the programs under $SANJI_BUILD_DIR, makes the PKI and picks two
 * free ports. */
int sj_test_tiers_init(sj_test_tiers *t);

/* Writes county.conf (the county's listen address, TLS files, conninfo,
 * code 410423, apply.batch_wait 2ms, then county_extra) and relay.conf
 * (listen address, the county's address and node, TLS files, the store,
 * upstream.backoff_max 300ms, then relay_extra); the extras (may be NULL)
 * are whole sections of the daemon's configuration.  Then migrates the
 * database and loads the demo county into it with sanji-countyd. */
int sj_test_tiers_configure(sj_test_tiers *t, const char *conninfo, const char *county_extra,
                            const char *relay_extra);

/* Starts sanji-countyd, then sanji-relayd, each `run` with its
 * configuration, and waits until each accepts connections. */
int sj_test_tiers_start(sj_test_tiers *t);

/* Starts one daemon of the build, program its path under $SANJI_BUILD_DIR
 * (e.g. "relay/sanji-relayd"), as `<program> --config <conf> run` with its
 * output in log, and waits until it accepts connections on 127.0.0.1:port
 * (failing only at SJ_TEST_HANG_MS, or when it exits).  p as for
 * sj_test_proc_start(). */
int sj_test_tiers_start_daemon(sj_test_proc *p, const char *program, const char *conf,
                               const char *log, int port);

/* Writes a client configuration "<station>.conf" in the network's folder
 * for the village station of 张官营村 (410423101201) through the relay,
 * its store "<station>.db". */
int sj_test_tiers_write_station(const sj_test_tiers *t, const char *station);

/* sj_test_tiers_configure() without extras, sj_test_tiers_write_station(),
 * then sj_test_tiers_start(): the network a CLI test at a station needs. */
int sj_test_tiers_up_with_station(sj_test_tiers *t, const char *conninfo, const char *station);

/* Runs `sanji --config <station>.conf <args>` in the network's folder with
 * the locale unset (Chinese, as on a village PC never configured) and
 * SANJI_PASSWORD=password (a shell-quoted word, no single quotes); its
 * stdout and stderr together into out.  Returns its exit status, -1 when
 * it did not exit normally or could not be run. */
int sj_test_tiers_cli(const sj_test_tiers *t, const char *station, const char *password, char *out,
                      size_t cap, const char *args);

/* The value of the first "key":"..." in the CLI's --json output ("" when
 * absent; no escapes are undone: for ids, numbers and codes). */
void sj_test_cli_json_str(const char *json, const char *key, char *buf, size_t cap);

/* A case and its number as the CLI reported them ("" before the county
 * recorded it). */
typedef struct sj_test_case_ref {
    char id[64];
    char number[64];
} sj_test_case_ref;

/* Registers an MZ-001 case for applicant at station (demo password) with
 * the CLI's wait options (e.g. "--wait-applied", "--wait 0"; NULL: none);
 * fills k.  Returns the CLI's exit status, or -1 when it printed no case
 * id (said on stderr). */
int sj_test_tiers_register(const sj_test_tiers *t, const char *station, const char *applicant,
                           const char *wait, sj_test_case_ref *k);

/* Logs person in at station with its demo password (sanji123): the first
 * log-in fetches the person list, which the relay may still be getting
 * from the county, so it is tried, with a sync between, until it works
 * (failing only at SJ_TEST_HANG_MS).  Returns 0, or -1 after saying so on
 * stderr. */
int sj_test_tiers_station_login(const sj_test_tiers *t, const char *station, const char *person);

/* The network a test of a station's statuses needs: heartbeats every
 * 300 ms at the county and the relay (so that what a station reports
 * travels at once), the station written, everything started and person
 * logged in at the station.  Returns 0 or -1. */
int sj_test_tiers_up_logged_in(sj_test_tiers *t, const char *conninfo, const char *station,
                               const char *person);

/* Stops the relay, then the county, with SIGTERM, and reaps them.  Returns
 * 0 when each that was running exited with status 0 (under a sanitizer a
 * leak is a non-zero exit), -1 after naming the one that did not.  The
 * folder is removed, but kept (and named on stderr) after a bad stop or
 * when the environment variable keep_var (may be NULL) is set. */
int sj_test_tiers_finish(sj_test_tiers *t, const char *keep_var);

#endif
