/*
 * sdnotify.h - telling systemd how a daemon is doing (sd_notify(3)):
 * readiness, reloads, stopping, a status line, and the watchdog kept alive
 * by the daemon's own libuv loop.
 *
 * The units (deploy/systemd) are Type=notify with WatchdogSec=: systemd
 * counts a daemon as started only when it says READY=1 (after its store or
 * database is checked and its listener is up, so `systemctl start` returns
 * when the port accepts), and restarts it when WATCHDOG=1 stops arriving
 * (the loop is stuck).  On SIGHUP a daemon says RELOADING=1, reloads, then
 * READY=1 again; on SIGTERM it says STOPPING=1.
 *
 * Outside systemd ($NOTIFY_SOCKET unset: a shell, the tests) every call
 * does nothing.  A notification that cannot be sent is logged as a warning
 * (module "sdnotify") and otherwise ignored: a daemon goes on serving
 * whether or not systemd heard it, so these calls return nothing to check.
 *
 * The watchdog: sj_sdnotify_watchdog_start() reads $WATCHDOG_USEC (and
 * $WATCHDOG_PID) through sd_watchdog_enabled(3); when a watchdog is asked
 * for, a uv timer on the daemon's loop sends WATCHDOG=1 every half of that
 * interval.  Because the timer runs on the loop, a loop blocked for longer
 * than the interval stops the pings, which is what the watchdog is for.
 *
 * Ownership: the caller owns the sj_sdnotify_watchdog (inside its daemon
 * struct) and closes it with sj_sdnotify_watchdog_close() when it closes its
 * other handles; the loop then finishes as usual.
 *
 * Entry points: sj_sdnotify_ready(), sj_sdnotify_reloading(),
 * sj_sdnotify_stopping(), sj_sdnotify_status(), sj_sdnotify_extend_timeout(),
 * sj_sdnotify_watchdog_start(), sj_sdnotify_watchdog_close(),
 * sj_sdnotify_watchdog_interval_ms().
 */
#ifndef SJ_SDNOTIFY_H
#define SJ_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "err.h"

/* READY=1, with STATUS=status when status is not NULL. */
void sj_sdnotify_ready(const char *status);

/* RELOADING=1 with the MONOTONIC_USEC= that systemd asks of it; send
 * sj_sdnotify_ready() once the reload is done (also when it failed and the
 * old settings stay in force). */
void sj_sdnotify_reloading(void);

/* STOPPING=1: the daemon has begun a clean stop. */
void sj_sdnotify_stopping(void);

/* STATUS=status: one line shown by `systemctl status`. */
void sj_sdnotify_status(const char *status);

/* EXTEND_TIMEOUT_USEC=: asks systemd to wait ms milliseconds more for the
 * start to finish (a daemon still waiting for its database), with
 * STATUS=status when status is not NULL. */
void sj_sdnotify_extend_timeout(uint64_t ms, const char *status);

typedef struct sj_sdnotify_watchdog {
    uv_timer_t timer;
    bool running;        /* the timer was started and not yet closed */
    uint64_t interval_ms; /* between two WATCHDOG=1; 0 when no watchdog */
} sj_sdnotify_watchdog;

/* Starts pinging when systemd asked for a watchdog; otherwise leaves w idle
 * (interval 0) and returns 0.  Returns SJ_EIO with err when the timer cannot
 * be started (w is then idle and needs no close). */
int sj_sdnotify_watchdog_start(sj_sdnotify_watchdog *w, uv_loop_t *loop, sj_error *err);

/* Stops and closes the timer, if it runs.  Safe to call twice. */
void sj_sdnotify_watchdog_close(sj_sdnotify_watchdog *w);

/* The interval between pings, 0 when none. */
uint64_t sj_sdnotify_watchdog_interval_ms(const sj_sdnotify_watchdog *w);

#endif
