/*
 * notifier.h - the county's notifier on the loop: messages to villagers
 * queued by the apply path (notify.h holds the table and the texts) sent
 * one at a time through notify.command.
 *
 * One attempt: the next due message is taken on the apply worker (at the
 * first attempt after a start, rows a stop left `sending` are made pending
 * again), notify.command runs on the loop (uv_spawn: the text on its
 * standard input; the phone, the case number, the kind and the attempt in
 * its environment, never the ID number) for at most notify.timeout, and
 * the outcome is recorded on the apply worker with the case's event, whose
 * feed rows go to committed().  Attempts start every notify.interval and
 * at once after a commit that queued a message (countyd_notifier_kick()).
 * A database outage delays the record, never loses it; a stop cuts the
 * command short and leaves its row `sending` for the next start.
 *
 * Entry points: countyd_notifier_init(), countyd_notifier_kick(),
 * countyd_notifier_stop(), countyd_notifier_close().
 */
#ifndef COUNTYD_NOTIFIER_H
#define COUNTYD_NOTIFIER_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "server_config.h"
#include "worker.h"

typedef struct countyd_notifier {
    uv_loop_t *loop;
    const countyd_config *cfg;
    countyd_worker *apply;
    /* The feed rows an attempt's record wrote (lost: not read back). */
    void (*committed)(void *arg, Sanji__FeedUpdate **u, size_t n, bool lost);
    void *arg;
    uv_timer_t timer;              /* notify.interval */
    bool busy;                     /* a message is being taken, sent or recorded */
    bool recovered;                /* rows left `sending` by the last stop made pending */
    bool stopping;
    struct notify_run *cur;        /* the attempt whose command runs, or NULL */
} countyd_notifier;

/* Sets up n on loop and starts its timer (a handle of the loop until
 * countyd_notifier_close()). */
void countyd_notifier_init(countyd_notifier *n, uv_loop_t *loop, const countyd_config *cfg,
                           countyd_worker *apply,
                           void (*committed)(void *arg, Sanji__FeedUpdate **u, size_t n, bool lost),
                           void *arg);

/* Looks for a due message now, unless an attempt is under way (or
 * notify.command is not set). */
void countyd_notifier_kick(countyd_notifier *n);

/* Begins the stop: the timer stops and a running command is killed. */
void countyd_notifier_stop(countyd_notifier *n);

/* After the stop: closes the timer. */
void countyd_notifier_close(countyd_notifier *n);

#endif
