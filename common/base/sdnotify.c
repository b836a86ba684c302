/*
 * sdnotify.c - sd_notify(3) readiness, reload, stop and watchdog messages
 * for the daemons, through libsystemd.  See sdnotify.h.
 *
 * Entry points: sj_sdnotify_ready(), sj_sdnotify_reloading(),
 * sj_sdnotify_stopping(), sj_sdnotify_status(), sj_sdnotify_extend_timeout(),
 * sj_sdnotify_watchdog_start(), sj_sdnotify_watchdog_close(),
 * sj_sdnotify_watchdog_interval_ms().
 */
#include "sdnotify.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"

#define MOD "sdnotify"

/* Sends state; a failure is logged, never returned (sdnotify.h).  A caller
 * that sends the same state over and over (the watchdog) passes a flag that
 * keeps the warning to the first failure. */
static void send_state(const char *state, bool *warned)
{
    /* unset_environment 0: the daemon notifies more than once (watchdog,
     * reloads), so $NOTIFY_SOCKET must stay. */
    int rc = sd_notify(0, state);
    if (rc < 0 && !(warned && *warned)) {
        if (warned)
            *warned = true;
        char why[128];
        snprintf(why, sizeof why, "%s", strerror(-rc));
        /* Only the first line: the state names what was lost. */
        char what[64];
        snprintf(what, sizeof what, "%.*s", (int)strcspn(state, "\n"), state);
        SJ_LOG_WARN(MOD, "cannot notify systemd", "state", what, "why", why);
    }
}

/* "FIRST\nSTATUS=status" (or just FIRST) into buf. */
static void with_status(char *buf, size_t cap, const char *first, const char *status)
{
    if (status != NULL)
        snprintf(buf, cap, "%s\nSTATUS=%s", first, status);
    else
        snprintf(buf, cap, "%s", first);
}

void sj_sdnotify_ready(const char *status)
{
    char buf[512];
    with_status(buf, sizeof buf, "READY=1", status);
    send_state(buf, NULL);
}

void sj_sdnotify_reloading(void)
{
    /* MONOTONIC_USEC lets systemd tell this reload from an older one
     * (systemd.service(5), Type=notify-reload); older systemd ignores it. */
    struct timespec ts;
    char buf[96];
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
                 (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
    else
        snprintf(buf, sizeof buf, "RELOADING=1");
    send_state(buf, NULL);
}

void sj_sdnotify_stopping(void)
{
    send_state("STOPPING=1", NULL);
}

void sj_sdnotify_status(const char *status)
{
    char buf[512];
    snprintf(buf, sizeof buf, "STATUS=%s", status ? status : "");
    send_state(buf, NULL);
}

void sj_sdnotify_extend_timeout(uint64_t ms, const char *status)
{
    char first[64], buf[512];
    snprintf(first, sizeof first, "EXTEND_TIMEOUT_USEC=%" PRIu64, ms * 1000u);
    with_status(buf, sizeof buf, first, status);
    send_state(buf, NULL);
}

/* Loop thread only, like every caller of these functions. */
static bool watchdog_warned;

static void on_watchdog(uv_timer_t *t)
{
    send_state("WATCHDOG=1", &watchdog_warned);
}

int sj_sdnotify_watchdog_start(sj_sdnotify_watchdog *w, uv_loop_t *loop, sj_error *err)
{
    memset(w, 0, sizeof *w);
    uint64_t usec = 0;
    /* > 0: a watchdog is asked of this very process (WATCHDOG_PID, when
     * set, names it); 0: none; < 0: the variables do not parse, which is
     * logged and treated as none rather than stopping the daemon. */
    int rc = sd_watchdog_enabled(0, &usec);
    if (rc < 0) {
        SJ_LOG_WARN(MOD, "WATCHDOG_USEC not understood; no watchdog pings", "why", strerror(-rc));
        return 0;
    }
    if (rc == 0 || usec == 0)
        return 0;
    /* Half the interval, as sd_watchdog_enabled(3) advises, and at least
     * 1 ms so that a tiny setting cannot make a busy loop of the timer. */
    uint64_t ms = usec / 2000u;
    if (ms == 0)
        ms = 1;
    if ((rc = uv_timer_init(loop, &w->timer)) != 0)
        return sj_error_set(err, SJ_EIO, "watchdog timer: %s", uv_strerror(rc));
    if ((rc = uv_timer_start(&w->timer, on_watchdog, ms, ms)) != 0) {
        uv_close((uv_handle_t *)&w->timer, NULL);
        /* The handle closes on the next loop turn; the struct must live
         * until then, which it does (the caller's daemon struct). */
        return sj_error_set(err, SJ_EIO, "watchdog timer: %s", uv_strerror(rc));
    }
    w->running = true;
    w->interval_ms = ms;
    /* The first ping now: systemd starts counting at READY=1, which the
     * daemon sends right after this. */
    send_state("WATCHDOG=1", &watchdog_warned);
    return 0;
}

void sj_sdnotify_watchdog_close(sj_sdnotify_watchdog *w)
{
    if (!w->running)
        return;
    w->running = false;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, NULL);
}

uint64_t sj_sdnotify_watchdog_interval_ms(const sj_sdnotify_watchdog *w)
{
    return w->interval_ms;
}
