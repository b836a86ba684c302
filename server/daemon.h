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
 *                 answers GET /metrics from the registry (common/base/metrics.h);
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
 * Modules: worker.h (the two workers and their jobs), batch.h (upward
 * messages into batches), notifier.h (messages to villagers), session.h
 * (each link's conversation, which knows only the workers and the batcher);
 * this module makes them and wires them together.
 *
 * Exhaustion: memory short at start-up ends the start with SJ_ENOMEM (the
 * program reports it and exits 1); mid-run it never exits: a batch that cannot be made
 * waits and is tried again, a session's job that cannot be made closes
 * that link (its peer reconnects and sends again), periodic work (sweep,
 * notifier, status) waits for its next turn.
 *
 * Ownership: countyd_daemon_run() owns everything it makes and frees it all
 * before it returns.  The config is borrowed.
 *
 * Entry points: countyd_daemon_run().
 */
#ifndef COUNTYD_DAEMON_H
#define COUNTYD_DAEMON_H

#include "err.h"
#include "server_config.h"

/* Runs the service until SIGTERM/SIGINT.  Returns 0 after a clean stop, or
 * a code with err when it cannot start (TLS files, address in use ...). */
int countyd_daemon_run(const countyd_config *cfg, sj_error *err);

#endif
