/*
 * proc.h - test helper: real processes for end-to-end and chaos tests.
 *
 * A program is started with its arguments and extra environment, in its own
 * process group, with stdin from /dev/null and stdout and stderr appended to
 * a log file.  The helpers then wait for a TCP port on 127.0.0.1, signal it
 * (kill -9, SIGTERM and wait, SIGQUIT for a PostgreSQL immediate shutdown,
 * SIGSTOP to freeze it), restart it with the same arguments, check whether
 * it is alive, and reap it.
 *
 * No orphans: every started process group is remembered, and an atexit
 * handler kills (SIGKILL to the whole group) and reaps whatever is still
 * running when the test program exits.  Each child also asks the kernel to
 * kill it if the test program dies (PR_SET_PDEATHSIG), which covers a test
 * that is itself killed.  Every wait retries on EINTR.
 *
 * Ownership: the caller owns the sj_test_proc (usually on the stack or
 * static), zero-initialised before the first start.  sj_test_proc_start()
 * copies argv, env and the log path into it; sj_test_proc_free() kills the
 * process if it is still running, reaps it and frees the copies, after
 * which the struct may be started again.  The helpers are for one thread.
 *
 * Errors: functions return 0 or a negative SJ_E* code, with err (may be
 * NULL) saying what went wrong.
 *
 * Crashes: a caller that sets core_dir before the start gets each run of
 * the program in that directory with core dumps allowed (RLIMIT_CORE raised
 * to its hard limit), so that sj_test_proc_find_core() can hand a core to
 * gdb.  sj_test_proc_status_text() and sj_test_proc_killed_by() tell an end
 * the test caused from one it did not.
 *
 * Entry points: sj_test_proc_start(), sj_test_proc_restart(),
 * sj_test_proc_wait_port(), sj_test_proc_alive(), sj_test_proc_signal(),
 * sj_test_proc_kill9(), sj_test_proc_stop(), sj_test_proc_wait(),
 * sj_test_proc_free(), sj_test_proc_free_port(), sj_test_proc_log_tail(),
 * sj_test_proc_status_text(), sj_test_proc_killed_by(),
 * sj_test_proc_find_core(), sj_test_proc_run(), sj_test_proc_start_serving(),
 * sj_test_proc_stop_clean(), sj_test_proc_port_accepts(),
 * sj_test_proc_silent_peer_ms(), sj_test_sleep_ms(), sj_test_poll_until().
 *
 * Waiting: a test waits for an event or a state, never for a fixed time,
 * and fails on time only at SJ_TEST_HANG_MS, a deadline that catches a
 * hang and nothing else (a loaded 2-core machine running a sanitizer build
 * next to other tests is slow, not hung).
 */
#ifndef SJ_TEST_PROC_H
#define SJ_TEST_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* How long a test waits for something that happens in well under a second
 * on an idle machine before it calls it a hang.  Generous on purpose: it
 * must never fire because the machine is slow. */
#define SJ_TEST_HANG_MS (120 * 1000)

typedef struct sj_test_proc {
    pid_t pid;              /* the running process (leader of its group); 0 when none */
    int status;             /* waitpid() status of the last exit; valid when exited */
    bool exited;            /* the last started process has been reaped */
    int starts;             /* how many times it was started */
    char **argv;            /* copies, NULL-terminated; argv[0] is the program */
    char **env;             /* extra "NAME=value" entries over the environment */
    char log_path[PATH_MAX];
    /* Set by the caller before a start (optional): the working directory of
     * the child, which also gets core dumps enabled.  Empty: the test's own
     * directory and the inherited core limit.  free() clears it. */
    char core_dir[PATH_MAX];
    pid_t last_pid;         /* pid of the last started process, kept after it is reaped */
} sj_test_proc;

/* Starts argv[0] (a path, or a name looked up in PATH) with argv and the
 * test program's environment plus env ("NAME=value" entries that add or
 * replace; env may be NULL), output appended to log_path.  Returns 0 once
 * the program has been exec'ed (an exec failure is reported here, as
 * SJ_ENOTFOUND or SJ_EIO, not as a later exit), SJ_EBUSY if p is running,
 * SJ_EINVAL for an empty argv, SJ_EIO when the log cannot be opened or
 * fork() fails. */
int sj_test_proc_start(sj_test_proc *p, const char *const argv[], const char *const env[],
                       const char *log_path, sj_error *err);

/* Kills (-9) the process if it still runs, then starts it again with the
 * same argv, env and log. */
int sj_test_proc_restart(sj_test_proc *p, sj_error *err);

/* Waits until 127.0.0.1:port accepts a TCP connection (each probe is a
 * real connection, closed at once: the program sees it, so wait on a port
 * where that is harmless, e.g. the fault proxy's control port).  Returns 0,
 * SJ_ETIMEOUT after timeout_ms, or SJ_ECLOSED at once if p (may be NULL)
 * exits while waiting (err then quotes the end of its log). */
int sj_test_proc_wait_port(sj_test_proc *p, int port, int timeout_ms, sj_error *err);

/* True while the process runs.  Reaps it (and records the status) if it has
 * exited. */
bool sj_test_proc_alive(sj_test_proc *p);

/* Sends sig to the process (not its group).  Returns 0, or SJ_ECLOSED if it
 * is not running. */
int sj_test_proc_signal(sj_test_proc *p, int sig);

/* kill -9 of the whole process group, then reaps the leader.  Returns 0, or
 * SJ_ECLOSED if it was not running. */
int sj_test_proc_kill9(sj_test_proc *p);

/* SIGTERM to the process, then waits up to timeout_ms for it to exit.
 * Returns 0 with p->status set, or SJ_ETIMEOUT after killing the group with
 * SIGKILL.  Either way what is left of the group is killed. */
int sj_test_proc_stop(sj_test_proc *p, int timeout_ms, sj_error *err);

/* Waits up to timeout_ms (negative: for ever) for the process to exit by
 * itself.  Returns 0 with p->status set, SJ_ETIMEOUT (still running), or
 * SJ_ECLOSED if nothing was running. */
int sj_test_proc_wait(sj_test_proc *p, int timeout_ms, sj_error *err);

/* Kills and reaps the process if it still runs, frees the copies and
 * zeroes the struct (status and starts included). */
void sj_test_proc_free(sj_test_proc *p);

/* True when something accepts a TCP connection on 127.0.0.1:port now (the
 * probe is a real connection, closed at once). */
bool sj_test_proc_port_accepts(int port);

/* Connects to 127.0.0.1:port and sends nothing (a peer that never starts
 * TLS).  Returns the milliseconds from just before the connect until the
 * server closed the connection (never less than the server's own time for
 * it, so a lower bound on it holds on any machine), or -1 if it was still
 * open after limit_ms (or could not be opened). */
int64_t sj_test_proc_silent_peer_ms(int port, int limit_ms);

/* A TCP port on 127.0.0.1 that was free a moment ago (bound and released),
 * or a negative SJ_E* code.  It is drawn at random below the kernel's
 * ephemeral range, so that no outgoing connection of another test takes it
 * before the caller binds it, and it is not one this program handed out
 * lately. */
int sj_test_proc_free_port(void);

/* Copies the last cap-1 bytes (at most) of the process's log into buf;
 * returns buf.  For failure messages. */
const char *sj_test_proc_log_tail(const sj_test_proc *p, char *buf, size_t cap);

/* Describes a waitpid() status in buf ("exit 0", "exit 1", "signal 11
 * (Segmentation fault), core dumped"); returns buf. */
const char *sj_test_proc_status_text(int status, char *buf, size_t cap);

/* True when the last exit of p was by signal sig (e.g. the SIGKILL of
 * sj_test_proc_kill9()), i.e. an end the caller caused. */
bool sj_test_proc_killed_by(const sj_test_proc *p, int sig);

/* Looks for the core file of the last process of p in p->core_dir
 * ("core.<pid>" or "core", as kernel.core_pattern "core" with or without
 * core_uses_pid writes it).  A plain "core" is renamed to "core.<pid>" so
 * that a later crash does not overwrite it.  Returns 0 with the path in out,
 * or SJ_ENOTFOUND (no core_dir, none written, or cores go to a pipe). */
int sj_test_proc_find_core(const sj_test_proc *p, char *out, size_t cap);

/* Runs argv (env as for sj_test_proc_start()) to its end, output appended
 * to log_path, waiting at most timeout_ms (negative: for ever; a run still
 * going then is killed).  Returns its exit status, or -1 (after saying why
 * on stderr) when it could not be started, did not end in time, or was
 * ended by a signal.  Nothing is left to free. */
int sj_test_proc_run(const char *const argv[], const char *const env[], const char *log_path,
                     int timeout_ms);

/* Starts a daemon (as sj_test_proc_start()) and waits up to timeout_ms for
 * it to accept connections on 127.0.0.1:port.  Returns 0, or -1 after
 * saying on stderr why it did not start; p is then to be freed as usual. */
int sj_test_proc_start_serving(sj_test_proc *p, const char *const argv[], const char *const env[],
                               const char *log_path, int port, int timeout_ms);

/* Stops p with SIGTERM (sj_test_proc_stop()).  True when it exited by
 * itself with status 0 in time (under a sanitizer a leak is a non-zero
 * exit), or was not running at all; p->status tells the rest. */
bool sj_test_proc_stop_clean(sj_test_proc *p, int timeout_ms);

/* Sleeps ms milliseconds, resumed after a signal. */
void sj_test_sleep_ms(int ms);

/* Calls cond(arg) every poll_ms until it holds or timeout_ms have passed
 * (SJ_TEST_HANG_MS for "until it holds, unless something hangs"); returns
 * cond's last answer, so that a false one names a hang. */
bool sj_test_poll_until(bool (*cond)(void *), void *arg, int timeout_ms, int poll_ms);

#endif
