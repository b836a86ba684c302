/*
 * tiers.c - test helper: sanji-countyd and sanji-relayd of a test network
 * configured, loaded with the demo county, started and stopped as real
 * processes (tiers.h has the contract).
 *
 * Entry points: sj_test_tiers_init(), sj_test_tiers_configure(),
 * sj_test_tiers_start(), sj_test_tiers_finish(), sj_test_tiers_start_daemon().
 */
#include "tiers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "files.h"

/* Limits that only catch a hang (proc.h): demo-load of the whole county
 * takes seconds, a start or a stop well under one, on an idle machine; a
 * sanitizer build on a loaded one takes many times that. */
#define RUN_TIMEOUT_MS (2 * SJ_TEST_HANG_MS)
#define START_TIMEOUT_MS SJ_TEST_HANG_MS
#define STOP_TIMEOUT_MS SJ_TEST_HANG_MS

int sj_test_tiers_init(sj_test_tiers *t)
{
    const char *b, *s;
    if (sj_test_dirs(&b, &s) != 0)
        return -1;
    snprintf(t->build, sizeof t->build, "%s", b);
    snprintf(t->source, sizeof t->source, "%s", s);
    snprintf(t->countyd, sizeof t->countyd, "%s/server/sanji-countyd", b);
    snprintf(t->relayd, sizeof t->relayd, "%s/relay/sanji-relayd", b);
    snprintf(t->cli, sizeof t->cli, "%s/client/sanji", b);
    if (sj_test_certs_setup(&t->certs) != 0)
        return -1;
    snprintf(t->county_log, sizeof t->county_log, "%s/countyd.log", t->certs.dir);
    snprintf(t->relay_log, sizeof t->relay_log, "%s/relayd.log", t->certs.dir);
    t->county_port = sj_test_proc_free_port();
    t->relay_port = sj_test_proc_free_port();
    if (t->county_port <= 0 || t->relay_port <= 0 || t->county_port == t->relay_port) {
        fprintf(stderr, "no two free ports on 127.0.0.1 (%d, %d)\n", t->county_port,
                t->relay_port);
        return -1;
    }
    return 0;
}

/* Migrates the county's database and loads deploy/demo into it. */
static int load_demo(const sj_test_tiers *t)
{
    char conf[PATH_MAX], demo[PATH_MAX], mlog[PATH_MAX], dlog[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/county.conf", t->certs.dir);
    snprintf(demo, sizeof demo, "%.4000s/deploy/demo", t->source);
    snprintf(mlog, sizeof mlog, "%s/migrate.log", t->certs.dir);
    snprintf(dlog, sizeof dlog, "%s/demo-load.log", t->certs.dir);
    const char *mig[] = {t->countyd, "--config", conf, "migrate", NULL};
    const char *load[] = {t->countyd, "--config", conf, "demo-load", demo, NULL};
    if (sj_test_proc_run(mig, NULL, mlog, RUN_TIMEOUT_MS) != 0 ||
        sj_test_proc_run(load, NULL, dlog, RUN_TIMEOUT_MS) != 0) {
        fprintf(stderr, "migrate or demo-load failed; see %s\n", t->certs.dir);
        return -1;
    }
    return 0;
}

int sj_test_tiers_configure(sj_test_tiers *t, const char *conninfo, const char *county_extra,
                            const char *relay_extra)
{
    char crt[PATH_MAX], key[PATH_MAX];
    if (sj_test_write_file(t->certs.dir, "county.conf",
                           "[listen]\naddress = \"127.0.0.1:%d\"\n"
                           "[tls]\nca = %s\ncert = %s\nkey = %s\n"
                           "[database]\nconninfo = \"%s\"\n"
                           "[county]\ncode = \"410423\"\n"
                           "[apply]\nbatch_wait = 2ms\n"
                           "%s",
                           t->county_port, t->certs.ca_file,
                           sj_test_certs_path(&t->certs, "county", "crt", crt, sizeof crt),
                           sj_test_certs_path(&t->certs, "county", "key", key, sizeof key),
                           conninfo, county_extra ? county_extra : "") != 0)
        return -1;
    if (sj_test_write_file(t->certs.dir, "relay.conf",
                           "[listen]\naddress = 127.0.0.1:%d\n"
                           "[county]\naddresses = 127.0.0.1:%d\nnode = county:410423000000\n"
                           "[tls]\nca = %s\ncert = %s\nkey = %s\n"
                           "[store]\npath = %s/relay.db\n"
                           "[upstream]\nbackoff_max = 300ms\n"
                           "%s",
                           t->relay_port, t->county_port, t->certs.ca_file,
                           sj_test_certs_path(&t->certs, "relay", "crt", crt, sizeof crt),
                           sj_test_certs_path(&t->certs, "relay", "key", key, sizeof key),
                           t->certs.dir, relay_extra ? relay_extra : "") != 0)
        return -1;
    return load_demo(t);
}

int sj_test_tiers_start_daemon(sj_test_proc *p, const char *program, const char *conf,
                               const char *log, int port)
{
    const char *b, *s;
    if (sj_test_dirs(&b, &s) != 0)
        return -1;
    char bin[PATH_MAX];
    snprintf(bin, sizeof bin, "%s/%s", b, program);
    const char *argv[] = {bin, "--config", conf, "run", NULL};
    return sj_test_proc_start_serving(p, argv, NULL, log, port, START_TIMEOUT_MS);
}

int sj_test_tiers_start(sj_test_tiers *t)
{
    char cconf[PATH_MAX], rconf[PATH_MAX];
    snprintf(cconf, sizeof cconf, "%s/county.conf", t->certs.dir);
    snprintf(rconf, sizeof rconf, "%s/relay.conf", t->certs.dir);
    if (sj_test_tiers_start_daemon(&t->county, "server/sanji-countyd", cconf, t->county_log,
                                   t->county_port) != 0 ||
        sj_test_tiers_start_daemon(&t->relay, "relay/sanji-relayd", rconf, t->relay_log,
                                   t->relay_port) != 0)
        return -1;
    return 0;
}

int sj_test_tiers_finish(sj_test_tiers *t, const char *keep_var)
{
    int bad = 0;
    if (!sj_test_proc_stop_clean(&t->relay, STOP_TIMEOUT_MS)) {
        fprintf(stderr, "sanji-relayd did not stop cleanly (status %d); log %s\n", t->relay.status,
                t->relay_log);
        bad = -1;
    }
    if (!sj_test_proc_stop_clean(&t->county, STOP_TIMEOUT_MS)) {
        fprintf(stderr, "sanji-countyd did not stop cleanly (status %d); log %s\n",
                t->county.status, t->county_log);
        bad = -1;
    }
    sj_test_proc_free(&t->relay);
    sj_test_proc_free(&t->county);
    bool keep = bad != 0 || (keep_var && getenv(keep_var));
    if (t->certs.dir[0] != '\0') {
        if (keep)
            fprintf(stderr, "network folder kept: %s\n", t->certs.dir);
        else
            sj_test_certs_cleanup(&t->certs);
    }
    memset(t, 0, sizeof *t);
    return bad;
}

int sj_test_tiers_up_with_station(sj_test_tiers *t, const char *conninfo, const char *station)
{
    if (sj_test_tiers_configure(t, conninfo, NULL, NULL) != 0 ||
        sj_test_tiers_write_station(t, station) != 0)
        return -1;
    return sj_test_tiers_start(t);
}

int sj_test_tiers_up_logged_in(sj_test_tiers *t, const char *conninfo, const char *station,
                               const char *person)
{
    const char *fast = "[link]\nheartbeat = 300ms\n";
    if (sj_test_tiers_configure(t, conninfo, fast, fast) != 0 ||
        sj_test_tiers_write_station(t, station) != 0 || sj_test_tiers_start(t) != 0)
        return -1;
    return sj_test_tiers_station_login(t, station, person);
}

int sj_test_tiers_write_station(const sj_test_tiers *t, const char *station)
{
    char name[128];
    snprintf(name, sizeof name, "%s.conf", station);
    if (sj_test_write_file(t->certs.dir, name,
                           "[node]\ncert = village.crt\nkey = village.key\nca = ca/ca.crt\n"
                           "[server]\naddress = 127.0.0.1:%d\npeer = relay:410423101000\n"
                           "[store]\npath = %s.db\n",
                           t->relay_port, station) != 0)
        return -1;
    return 0;
}

int sj_test_tiers_cli(const sj_test_tiers *t, const char *station, const char *password, char *out,
                      size_t cap, const char *args)
{
    char cmd[12288];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env -u LANGUAGE -u LC_ALL -u LC_MESSAGES -u LANG SANJI_PASSWORD='%s' "
             "'%s' --config %s.conf %s 2>&1",
             t->certs.dir, password, t->cli, station, args);
    out[0] = '\0';
    FILE *f = popen(cmd, "r");
    if (!f) {
        fprintf(stderr, "popen failed for %s\n", cmd);
        return -1;
    }
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void sj_test_cli_json_str(const char *json, const char *key, char *buf, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    size_t n = 0;
    if (p)
        for (p += strlen(pat); *p && *p != '"' && n + 1 < cap; p++)
            buf[n++] = *p;
    buf[n] = '\0';
}

int sj_test_tiers_register(const sj_test_tiers *t, const char *station, const char *applicant,
                           const char *wait, sj_test_case_ref *k)
{
    static char out[65536];
    char args[1024];
    snprintf(args, sizeof args,
             "--json register --item MZ-001 --name %s --id 11010519491231002X "
             "--phone 13800138000 --text '申请办理' %s",
             applicant, wait ? wait : "");
    int rc = sj_test_tiers_cli(t, station, "sanji123", out, sizeof out, args);
    sj_test_cli_json_str(out, "case", k->id, sizeof k->id);
    sj_test_cli_json_str(out, "case_number", k->number, sizeof k->number);
    if (!k->id[0]) {
        fprintf(stderr, "register %s at %s: no case id in: %s\n", applicant, station, out);
        return -1;
    }
    return rc;
}

typedef struct login_try {
    const sj_test_tiers *t;
    const char *station, *person;
} login_try;

static bool station_logged_in(void *arg)
{
    const login_try *l = arg;
    static char out[65536];
    char args[256];
    snprintf(args, sizeof args, "login %s", l->person);
    if (sj_test_tiers_cli(l->t, l->station, "sanji123", out, sizeof out, args) == 0)
        return true;
    sj_test_tiers_cli(l->t, l->station, "sanji123", out, sizeof out, "sync --wait 2");
    return false;
}

int sj_test_tiers_station_login(const sj_test_tiers *t, const char *station, const char *person)
{
    login_try l = {t, station, person};
    if (sj_test_poll_until(station_logged_in, &l, SJ_TEST_HANG_MS, 100))
        return 0;
    fprintf(stderr, "%s could not log in at %s (see %s)\n", person, station, t->certs.dir);
    return -1;
}
