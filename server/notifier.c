/*
 * notifier.c - the notifier's attempts on the loop: take on the apply
 * worker, notify.command run with uv_spawn and its three handles, record
 * on the apply worker (see notifier.h).
 *
 * Entry points: countyd_notifier_init(), countyd_notifier_kick(),
 * countyd_notifier_stop(), countyd_notifier_close().
 */
#include "notifier.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "feed_written.h"
#include "log.h"
#include "notify.h"

#define MOD "countyd"

/* One attempt: taken on the apply worker, the command run on the loop
 * (uv_spawn; its three handles), recorded on the apply worker. */
typedef struct notify_run {
    countyd_notifier *n;
    bool recover;          /* the take job first makes `sending` rows pending */
    bool found;
    countyd_notify_msg msg;
    uv_process_t proc;
    uv_pipe_t in;
    uv_timer_t timer;
    uv_write_t wr;
    int open;              /* handles not yet closed */
    bool exited, timed_out, sent;
    char error[256];
    countyd_apply_result res;
    Sanji__FeedUpdate **upd;
    size_t n_upd;
    bool feed_lost;
} notify_run;

static void notify_finish(countyd_notifier *n, notify_run *r)
{
    countyd_notify_msg_free(&r->msg);
    free(r);
    n->cur = NULL;
    n->busy = false;
}

static void notify_record_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    notify_run *r = j->data;
    const countyd_config *cfg = r->n->cfg;
    j->status = countyd_notify_record(apply, cfg, &r->msg, r->sent, r->error, sj_clock_real_ms(),
                                      &r->res, &j->err);
    sj_error e;
    if (j->status == 0 && r->res.feed_seq > 0 &&
        countyd_feed_written_load(db, &j->arena, &r->res, 1, &r->upd, &r->n_upd, &e) != 0) {
        r->feed_lost = true;
        r->n_upd = 0;
    }
}

static void notify_record_done(countyd_job *j)
{
    notify_run *r = j->data;
    countyd_notifier *n = r->n;
    char attempt[16];
    snprintf(attempt, sizeof(attempt), "%u", r->msg.attempt);
    if (j->status == 0) {
        if (r->sent)
            SJ_LOG_INFO(MOD, "已通知村民 (villager notified)", "case", r->msg.number, "attempt",
                        attempt);
        else
            SJ_LOG_WARN(MOD, "通知村民失败 (notifying the villager failed)", "case",
                        r->msg.number, "attempt", attempt, "why", r->error);
        n->committed(n->arg, r->upd, r->n_upd, r->feed_lost);
    } else if (j->status != SJ_ECANCELLED) {
        /* Left `sending`: the next start sends it again. */
        SJ_LOG_ERROR(MOD, "通知结果未能记录 (the attempt could not be recorded)", "case",
                     r->msg.number, "code", sj_err_name(j->status), "why", j->err.message);
    }
    bool more = j->status == 0;
    countyd_job_free(j);
    notify_finish(n, r);
    if (more)
        countyd_notifier_kick(n); /* the next due message, if any, at once */
}

static void notify_closed(uv_handle_t *h)
{
    notify_run *r = h->data;
    if (--r->open > 0)
        return;
    countyd_job *j = countyd_job_new();
    if (!j) {
        /* Out of memory: not recorded now; the row stays `sending` and the
         * next start sends it again (countyd_notify_recover()). */
        notify_finish(r->n, r);
        return;
    }
    j->run = notify_record_run;
    j->done = notify_record_done;
    j->retryable = true; /* a database outage delays the record, never loses it */
    j->data = r;
    countyd_worker_push(r->n->apply, j);
}

static void notify_close_all(notify_run *r)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&r->proc, (uv_handle_t *)&r->in,
                         (uv_handle_t *)&r->timer};
    for (int i = 0; i < 3; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], notify_closed);
}

static void notify_on_exit(uv_process_t *p, int64_t status, int term_signal)
{
    notify_run *r = p->data;
    r->exited = true;
    uv_timer_stop(&r->timer);
    r->sent = status == 0 && term_signal == 0 && !r->timed_out;
    if (r->timed_out)
        snprintf(r->error, sizeof(r->error),
                 "通知命令超时 (notify.command did not finish within notify.timeout)");
    else if (term_signal)
        snprintf(r->error, sizeof(r->error),
                 "通知命令被信号终止 (notify.command was killed by signal %d)", term_signal);
    else if (status != 0)
        snprintf(r->error, sizeof(r->error),
                 "通知命令失败 (notify.command exited with status %" PRId64 ")", status);
    notify_close_all(r);
}

static void notify_on_timeout(uv_timer_t *t)
{
    notify_run *r = t->data;
    r->timed_out = true;
    (void)uv_process_kill(&r->proc, SIGKILL);
}

static void notify_on_written(uv_write_t *w, int status)
{
    (void)status; /* a command that does not read its input is its own affair */
    notify_run *r = w->data;
    if (!uv_is_closing((uv_handle_t *)&r->in))
        uv_close((uv_handle_t *)&r->in, notify_closed);
}

extern char **environ;

/* Runs notify.command for r: the text on its standard input, the phone,
 * the case number and the kind in its environment (never the ID number,
 * which the notifier does not read). */
static void notify_spawn(countyd_notifier *n, notify_run *r)
{
    r->proc.data = r->in.data = r->timer.data = r->wr.data = r;
    r->open = 3;
    uv_pipe_init(n->loop, &r->in, 0);
    uv_timer_init(n->loop, &r->timer);
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **env = calloc(n_env + 5, sizeof(*env));
    if (!env) {
        /* Out of memory: the attempt fails and is recorded as failed (its
         * retry comes as for any failed attempt); the process is never
         * made, so only the pipe and the timer are closed. */
        snprintf(r->error, sizeof(r->error), "内存耗尽 (out of memory: notify.command not started)");
        r->open = 2;
        uv_close((uv_handle_t *)&r->in, notify_closed);
        uv_close((uv_handle_t *)&r->timer, notify_closed);
        return;
    }
    char phone[96], number[64], kind[48], attempt[48];
    snprintf(phone, sizeof(phone), "SANJI_NOTIFY_PHONE=%s", r->msg.phone);
    snprintf(number, sizeof(number), "SANJI_NOTIFY_CASE=%s", r->msg.number);
    snprintf(kind, sizeof(kind), "SANJI_NOTIFY_KIND=%s", sj_notify_kind_name(r->msg.kind));
    snprintf(attempt, sizeof(attempt), "SANJI_NOTIFY_ATTEMPT=%u", r->msg.attempt);
    int rc;
    {
        size_t k = 0;
        for (size_t i = 0; i < n_env; i++)
            if (strncmp(environ[i], "SANJI_NOTIFY_", 13) != 0)
                env[k++] = environ[i];
        env[k++] = phone;
        env[k++] = number;
        env[k++] = kind;
        env[k++] = attempt;
        char *args[] = {"/bin/sh", "-c", (char *)n->cfg->notify_command, NULL};
        uv_stdio_container_t io[3] = {
            {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&r->in},
            {.flags = UV_IGNORE},
            {.flags = UV_INHERIT_FD, .data.fd = 2}};
        uv_process_options_t o = {.exit_cb = notify_on_exit, .file = "/bin/sh", .args = args,
                                  .env = env, .stdio_count = 3, .stdio = io};
        rc = uv_spawn(n->loop, &r->proc, &o);
        free(env);
    }
    if (rc != 0) {
        /* The handle is initialised even so, and closed like the others. */
        snprintf(r->error, sizeof(r->error),
                 "通知命令无法启动 (notify.command cannot be started: %s)", uv_strerror(rc));
        notify_close_all(r);
        return;
    }
    n->cur = r;
    uv_buf_t buf = uv_buf_init(r->msg.text, (unsigned)strlen(r->msg.text));
    if (uv_write(&r->wr, (uv_stream_t *)&r->in, &buf, 1, notify_on_written) != 0)
        uv_close((uv_handle_t *)&r->in, notify_closed);
    uv_timer_start(&r->timer, notify_on_timeout, (uint64_t)n->cfg->notify_timeout_ms, 0);
}

static void notify_take_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    (void)apply;
    notify_run *r = j->data;
    const countyd_config *cfg = r->n->cfg;
    if (r->recover && (j->status = countyd_notify_recover(db, &j->err)) != 0)
        return;
    j->status = countyd_notify_take(db, cfg, sj_clock_real_ms(), &r->msg, &r->found, &j->err);
}

static void notify_take_done(countyd_job *j)
{
    notify_run *r = j->data;
    countyd_notifier *n = r->n;
    if (j->status == 0 && r->recover)
        n->recovered = true;
    bool go = j->status == 0 && r->found && !n->stopping;
    if (j->status != 0 && j->status != SJ_ECANCELLED)
        SJ_LOG_WARN(MOD, "待发通知未能读取，下次再试 (messages to villagers could not be read; next "
                    "interval retries)", "code", sj_err_name(j->status), "why", j->err.message);
    countyd_job_free(j);
    if (!go) {
        notify_finish(n, r);
        return;
    }
    notify_spawn(n, r);
}

void countyd_notifier_kick(countyd_notifier *n)
{
    if (n->busy || n->stopping || !n->cfg->notify_command || !*n->cfg->notify_command)
        return;
    notify_run *r = calloc(1, sizeof(*r));
    countyd_job *j = r ? countyd_job_new() : NULL;
    if (!j) { /* out of memory: the next interval tries again */
        free(r);
        return;
    }
    r->n = n;
    r->recover = !n->recovered;
    n->busy = true;
    j->run = notify_take_run;
    j->done = notify_take_done;
    j->data = r;
    countyd_worker_push(n->apply, j);
}

static void on_timer(uv_timer_t *t)
{
    countyd_notifier_kick(t->data);
}

void countyd_notifier_init(countyd_notifier *n, uv_loop_t *loop, const countyd_config *cfg,
                           countyd_worker *apply,
                           void (*committed)(void *arg, Sanji__FeedUpdate **u, size_t n, bool lost),
                           void *arg)
{
    *n = (countyd_notifier){.loop = loop, .cfg = cfg, .apply = apply, .committed = committed,
                            .arg = arg};
    uv_timer_init(loop, &n->timer);
    n->timer.data = n;
    uv_timer_start(&n->timer, on_timer, (uint64_t)cfg->notify_interval_ms,
                   (uint64_t)cfg->notify_interval_ms);
}

void countyd_notifier_stop(countyd_notifier *n)
{
    n->stopping = true;
    uv_timer_stop(&n->timer);
    /* A message being sent is cut short; its row stays `sending` and the
     * next start sends it again (countyd_notify_recover()). */
    if (n->cur && !n->cur->exited)
        (void)uv_process_kill(&n->cur->proc, SIGKILL);
}

void countyd_notifier_close(countyd_notifier *n)
{
    uv_close((uv_handle_t *)&n->timer, NULL);
}

