/*
 * worker.h - a county database worker: one PostgreSQL connection used from
 * uv_queue_work, one job at a time, jobs kept in order and a job that finds
 * the database unreachable retried with backoff on a fresh connection.
 *
 * The daemon runs two (daemon.h): the apply worker (batches of upward
 * messages, the sweep, the notifier's records, relays' statuses), whose
 * connection also holds the apply state (apply.h), and the query worker
 * (session start, feed pages, queries, administration).  The modules that
 * make jobs (session*.c, batch.c, notifier.c) know only this header, not
 * the daemon.
 *
 * Threads: run() executes on a libuv pool thread with the worker's
 * connection; everything else, done() included, on the loop thread.
 *
 * Exhaustion: countyd_job_new() returns NULL when memory is short; the
 * caller then closes the link or drops the work it was for (each caller
 * says which), and the service goes on.
 *
 * Entry points: countyd_job_new(), countyd_job_free(),
 * countyd_worker_init(), countyd_worker_push(), countyd_worker_stop(),
 * countyd_worker_running(), countyd_worker_close(),
 * countyd_worker_register_metrics().
 */
#ifndef COUNTYD_WORKER_H
#define COUNTYD_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <uv.h>

#include "apply.h"
#include "arena.h"
#include "err.h"
#include "server_config.h"

typedef struct countyd_job countyd_job;

/* A unit of database work.  run() executes on a worker thread with the
 * worker's connection (never NULL, connected) and, on the apply worker,
 * its apply state (else NULL); it sets status and err.  done() runs on
 * the loop afterwards (also with SJ_ECANCELLED for a job dropped at stop)
 * and must free the job (countyd_job_free()).  A retryable job whose run()
 * ends in SJ_EDB_CONN (on the apply worker also SJ_EDB) is run again later
 * instead of done(). */
struct countyd_job {
    countyd_job *next;
    void (*run)(countyd_job *j, PGconn *db, countyd_apply *apply);
    void (*done)(countyd_job *j);
    bool retryable;
    int status;
    sj_error err;
    countyd_arena arena;
    void *owner;                  /* what the job is for (a session), or NULL */
    void (*release)(void *owner); /* drops the job's reference to owner */
    void *data;                   /* the job kind's own state */
};

/* A zeroed job, or NULL when memory is short. */
countyd_job *countyd_job_new(void);
/* Frees the arena, releases the owner and frees the job. */
void countyd_job_free(countyd_job *j);

typedef struct countyd_worker {
    uv_loop_t *loop;
    const countyd_config *cfg;
    const char *name;             /* "apply" or "query", for the log */
    bool is_apply;
    int64_t time_floor_ms;        /* given to the apply state (ca_time.h) */
    PGconn *db;
    countyd_apply apply;
    bool apply_open;
    countyd_job *head, *tail;
    countyd_job *running;
    uv_work_t work;
    uv_timer_t retry;
    bool waiting_retry;
    int64_t backoff_ms;
    bool db_down;                 /* for logging the outage once */
    bool stopping;
    void (*on_idle)(void *arg);   /* stopping and no job running */
    void *idle_arg;
} countyd_worker;

/* Sets up k on loop (its retry timer is a handle of the loop until
 * countyd_worker_close()).  on_idle(arg) is called whenever the worker is
 * stopping and has no job running. */
void countyd_worker_init(countyd_worker *k, uv_loop_t *loop, const countyd_config *cfg,
                         const char *name, bool is_apply, int64_t time_floor_ms,
                         void (*on_idle)(void *arg), void *arg);

/* Queues j (taken over).  While stopping, j is answered SJ_ECANCELLED at
 * once. */
void countyd_worker_push(countyd_worker *k, countyd_job *j);

/* Begins the stop: no retry waits any more, nothing new is started. */
void countyd_worker_stop(countyd_worker *k);

/* True while a job is on the pool thread. */
bool countyd_worker_running(const countyd_worker *k);

/* After the stop, with no job running: answers the queued jobs
 * SJ_ECANCELLED, closes the connection and the retry timer. */
void countyd_worker_close(countyd_worker *k);

/* The workers' figures (database errors) in the metrics registry. */
void countyd_worker_register_metrics(void);

#endif
