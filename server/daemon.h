/*
 * daemon.h - `sanji-countyd run`: the county's network service on one
 * libuv loop.
 *
 * What runs where:
 *   loop thread   the TLS listener (peers: relays and county desks of this
 *                 county), every session (session.h), timers (heartbeats,
 *                 the batch wait, the sweep, database retry), signals.
 *   apply worker  one PostgreSQL connection used from uv_queue_work, one
 *                 job at a time: batches of upward messages
 *                 (countyd_apply_batch, group commit: messages that arrive
 *                 while a batch is in flight form the next one), the
 *                 supervision sweep, and relays' NodeStatus.  After each
 *                 commit it reads the new feed rows and, for stale-version
 *                 refusals, the current case.
 *   query worker  a second connection, one job at a time: queries, session
 *                 start (reference data, villages in scope) and feed pages.
 *   metrics       with metrics.listen set, libmicrohttpd's own thread
 *                 answers GET /metrics from the registry (common/metrics.h);
 *                 the loop and the workers only update figures.
 * A job that finds the database unreachable is kept and retried with
 * backoff (database.retry_max) on a fresh connection; nothing is lost and,
 * because a failed batch is rolled back whole, nothing is applied twice.
 * Queries are the exception: they are answered with SJ_EDB_CONN at once.
 * Upward messages wait in memory, at most apply.max_pending; a link that
 * would pass the bound is closed with Goodbye(SJ_EBUSY) (its relay resends
 * later; nothing is refused).
 *
 * Signals: SIGTERM and SIGINT stop accepting, close every link, wait for
 * the job in flight and return 0; SIGHUP re-reads the CRL and reopens the
 * log file.
 *
 * Ownership: countyd_daemon_run() owns everything it makes and frees it all
 * before it returns.  The config is borrowed.
 *
 * Entry points: countyd_daemon_run(), and for session.c:
 * countyd_daemon_upward(), countyd_daemon_query_job(), countyd_job_new(),
 * countyd_job_free(), countyd_daemon_has_node().
 */
#ifndef COUNTYD_DAEMON_H
#define COUNTYD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <uv.h>

#include "apply.h"
#include "arena.h"
#include "err.h"
#include "server_config.h"

typedef struct countyd_daemon countyd_daemon;
typedef struct countyd_session countyd_session;
typedef struct countyd_job countyd_job;

/* A unit of database work.  run() executes on a worker thread with the
 * worker's connection (never NULL, connected); it sets status and err.
 * done() runs on the loop afterwards and must free the job
 * (countyd_job_free()).  A retryable job whose run() ends in
 * SJ_EDB_CONN is run again later instead of done(). */
struct countyd_job {
    countyd_job *next;
    void (*run)(countyd_job *j, PGconn *db, countyd_apply *apply);
    void (*done)(countyd_job *j, countyd_daemon *d);
    bool retryable;
    int status;
    sj_error err;
    countyd_arena arena;
    countyd_session *session; /* referenced, or NULL */
    void *data;               /* the job kind's own state */
};

/* Allocates a zeroed job (aborts the process on exhaustion). */
countyd_job *countyd_job_new(void);
/* Frees the arena, drops the session reference and frees the job. */
void countyd_job_free(countyd_job *j);

/* Queues a job on the query worker. */
void countyd_daemon_query_job(countyd_daemon *d, countyd_job *j);

/* Queues an upward CaseSubmit/CaseAction (env is taken over and freed
 * later) from session s, sent by peer (copied).  Returns 0, or SJ_EBUSY
 * when the pending bound is reached (env is then freed). */
int countyd_daemon_upward(countyd_daemon *d, countyd_session *s, Sanji__Envelope *env,
                          const countyd_peer *peer);

/* Queues a relay's status for the table (copied) on the apply worker. */
void countyd_daemon_store_status(countyd_daemon *d, const char *node, const char *unit,
                                 const Sanji__NodeStatus *st);

/* True when a session of node is connected. */
bool countyd_daemon_has_node(const countyd_daemon *d, const char *node);

/* Runs the service until SIGTERM/SIGINT.  Returns 0 after a clean stop, or
 * a code with err when it cannot start (TLS files, address in use ...). */
int countyd_daemon_run(const countyd_config *cfg, sj_error *err);

#endif
