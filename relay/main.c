/*
 * main.c - sanji-relayd, the township relay daemon: command line, logging,
 * signals, and the libuv loop around relay.h.
 *
 *   sanji-relayd --config FILE [run]     run the relay
 *   sanji-relayd --config FILE status    print the status kept in the store
 *   sanji-relayd --print-config-doc      print every key with its default
 *
 * Signals: SIGTERM and SIGINT stop the relay cleanly; SIGHUP reloads the
 * CRL (tls.crl, for both the station listener and the county link; a bad
 * or older file leaves the CRL in force) and reopens the log file (after
 * rotation).  Live links whose peer the CRL revokes are cut
 * (relay_reload_crl()); the list applies to every handshake from then on.
 *
 * Metrics (relay_metrics.h): with metrics.listen set, GET /metrics is
 * served on that address from libmicrohttpd's own thread
 * (common/base/metrics_http.h says why), started before the relay so that an
 * address that cannot be served stops the start with nothing open.
 *
 * systemd (sdnotify.h): READY=1 once the store is open and checked and the
 * stations' listener accepts, WATCHDOG=1 from the loop when the unit asks
 * for a watchdog, RELOADING=1 ... READY=1 around a SIGHUP reload, and
 * STOPPING=1 on SIGTERM/SIGINT.
 *
 * Exit status: 0 after SIGTERM/SIGINT or a successful command; 1 when the
 * relay cannot start (message on stderr: a bad configuration, unreadable
 * certificates, a damaged or foreign store, a port in use); 2 usage error.
 *
 * Entry point: main().
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "i18n.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "relay.h"
#include "relay_config.h"
#include "relayctl_print.h"
#include "sdnotify.h"

static void usage(FILE *out)
{
    fprintf(out, "用法 (usage):\n"
                 "  sanji-relayd --config FILE [run]\n"
                 "  sanji-relayd --config FILE status\n"
                 "  sanji-relayd --print-config-doc\n");
}

static relay R;
static uv_signal_t sig_term, sig_int, sig_hup;
static sj_sdnotify_watchdog watchdog;

static void on_stopped(relay *r)
{
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
    uv_close((uv_handle_t *)&sig_hup, NULL);
    sj_sdnotify_watchdog_close(&watchdog);
}

/* SIGHUP: what an operator changes without a restart (docs/OPERATIONS.md). */
static void reload(const relay_config *cfg)
{
    relay_reload_crl(&R, "SIGHUP");
    sj_error err;
    if (cfg->log_file && *cfg->log_file && sj_log_set_file(cfg->log_file, &err) != 0)
        SJ_LOG_ERROR("relay", "cannot reopen the log file", "why", err.message);
}

static void on_signal(uv_signal_t *h, int signum)
{
    if (signum == SIGHUP) {
        /* systemd shows the unit as reloading until the READY=1 after it. */
        sj_sdnotify_reloading();
        reload(h->data);
        sj_sdnotify_ready(NULL);
        return;
    }
    SJ_LOG_INFO("relay", "stopping", "signal", signum == SIGTERM ? "TERM" : "INT");
    sj_sdnotify_stopping();
    relay_stop(&R, on_stopped);
}

/* The command line: -1 to go on with *config_path and *cmd, else the exit
 * status (the doc printed, help, or a usage error). */
static int parse_args(int argc, char **argv, const char **config_path, const char **cmd)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            *config_path = argv[++i];
        } else if (strcmp(argv[i], "--print-config-doc") == 0) {
            return relay_config_print_doc(stdout) == 0 ? 0 : 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && (strcmp(argv[i], "run") == 0 ||
                                         strcmp(argv[i], "status") == 0)) {
            *cmd = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (*config_path == NULL) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* The started relay's loop: signals, readiness and watchdog for systemd,
 * until the relay has stopped. */
static void serve(uv_loop_t *loop, relay_config *cfg)
{
    sj_error err;
    uv_signal_init(loop, &sig_term);
    uv_signal_init(loop, &sig_int);
    uv_signal_init(loop, &sig_hup);
    sig_hup.data = cfg;
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_start(&sig_hup, on_signal, SIGHUP);
    /* Ready for systemd (Type=notify): relay_start() has opened and
     * checked the store and the stations' listener accepts.  A watchdog
     * that cannot run is only logged: systemd then restarts the relay,
     * as it would for a stuck loop. */
    if (sj_sdnotify_watchdog_start(&watchdog, loop, &err) != 0)
        SJ_LOG_ERROR("relay", "no watchdog pings", "why", err.message);
    sj_sdnotify_ready("serving stations; see sanji-relayctl for the county link");
    uv_run(loop, UV_RUN_DEFAULT);
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    const char *cmd = "run";
    sj_i18n_init(NULL);
    int exit_now = parse_args(argc, argv, &config_path, &cmd);
    if (exit_now >= 0)
        return exit_now;
    relay_config cfg;
    sj_error err;
    sj_error_clear(&err);
    if (relay_config_load(config_path, &cfg, &err) != 0) {
        /* The prefix files the line as an error in the journal (log.h). */
        fprintf(stderr, "%ssanji-relayd: %s: %s\n", sj_log_stderr_prefix(SJ_LOG_LEVEL_ERROR),
                sj_err_name(err.code), err.message);
        return 1;
    }
    if (strcmp(cmd, "status") == 0) {
        int rc = relayctl_print_status(stdout, cfg.store_path, &err);
        if (rc != 0)
            fprintf(stderr, "sanji-relayd: %s: %s\n", sj_err_name(rc), err.message);
        relay_config_free(&cfg);
        return rc == 0 ? 0 : 1;
    }
    sj_log_set_level(cfg.log_level);
    if (cfg.log_file && sj_log_set_file(cfg.log_file, &err) != 0) {
        fprintf(stderr, "%ssanji-relayd: %s\n", sj_log_stderr_prefix(SJ_LOG_LEVEL_ERROR),
                err.message);
        relay_config_free(&cfg);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    sj_metrics_http *metrics = NULL;
    if (cfg.metrics_listen &&
        sj_metrics_http_start(cfg.metrics_listen, "metrics.listen", &metrics, &err) != 0) {
        fprintf(stderr, "%ssanji-relayd: %s: %s\n", sj_log_stderr_prefix(SJ_LOG_LEVEL_ERROR),
                sj_err_name(err.code), err.message);
        relay_config_free(&cfg);
        return 1;
    }
    if (metrics) {
        char port[16];
        snprintf(port, sizeof port, "%d", sj_metrics_http_port(metrics));
        SJ_LOG_INFO("relay", "serving metrics", "address", cfg.metrics_listen, "port", port);
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    int status = 0;
    if (relay_start(&R, &loop, &cfg, &err) != 0) {
        fprintf(stderr, "%ssanji-relayd: %s: %s\n", sj_log_stderr_prefix(SJ_LOG_LEVEL_ERROR),
                sj_err_name(err.code), err.message);
        SJ_LOG_ERROR("relay", "cannot start", "code", sj_err_name(err.code), "why", err.message);
        status = 1;
        if (R.stopping) {
            uv_run(&loop, UV_RUN_DEFAULT);
            relay_free(&R);
        }
    } else {
        serve(&loop, &cfg);
        relay_free(&R);
        SJ_LOG_INFO("relay", "stopped");
    }
    uv_loop_close(&loop);
    sj_metrics_http_stop(metrics);
    sj_metrics_reset();
    relay_config_free(&cfg);
    sj_log_close();
    return status;
}
