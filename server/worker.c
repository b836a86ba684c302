/*
 * worker.c - a county database worker: the job queue, the connection made
 * (and the apply state opened) on first use and after a failure, the retry
 * with backoff of jobs that met an unreachable database (see worker.h).
 *
 * Entry points: countyd_job_new(), countyd_job_free(),
 * countyd_worker_init(), countyd_worker_push(), countyd_worker_stop(),
 * countyd_worker_running(), countyd_worker_close(),
 * countyd_worker_register_metrics().
 */
#include "worker.h"

#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "metrics.h"

#define MOD "countyd"
#define RETRY_MIN_MS 100

static sj_metric m_db_errors = SJ_METRIC_COUNTER(
    "sanji_county_database_errors_total",
    "database jobs that failed (DB_CONN: PostgreSQL unreachable, retried; DB: an error of the "
    "database)",
    "code");

void countyd_worker_register_metrics(void)
{
    sj_metric *const all[] = {&m_db_errors};
    sj_metrics_register(all, 1);
}

/* ---- jobs -------------------------------------------------------------- */

countyd_job *countyd_job_new(void)
{
    countyd_job *j = calloc(1, sizeof(*j));
    if (!j) {
        SJ_LOG_ERROR(MOD, "内存耗尽，任务未能创建 (out of memory; a database job was not made)");
        return NULL;
    }
    countyd_arena_init(&j->arena);
    return j;
}

void countyd_job_free(countyd_job *j)
{
    if (!j)
        return;
    countyd_arena_free(&j->arena);
    if (j->owner && j->release)
        j->release(j->owner);
    free(j);
}

/* ---- the worker -------------------------------------------------------- */

static void kick(countyd_worker *k);

/* (Re)connects, and on the apply worker opens the apply state; the
 * calendar comes from the database, so it is reread on every new
 * connection (holidays may have been imported).  Pool thread. */
static int connect_db(countyd_worker *k, countyd_job *j)
{
    const countyd_config *cfg = k->cfg;
    if (k->apply_open) {
        countyd_apply_close(&k->apply);
        k->apply_open = false;
    }
    if (k->db)
        PQfinish(k->db);
    k->db = NULL;
    if (countyd_db_connect(cfg->database, &k->db, &j->err) != 0)
        return SJ_EDB_CONN;
    if (!k->is_apply)
        return 0;
    if (countyd_apply_open(&k->apply, k->db, cfg->county, &j->err) != 0) {
        int rc = j->err.code == SJ_EDB ? SJ_EDB_CONN : j->err.code;
        PQfinish(k->db);
        k->db = NULL;
        return rc;
    }
    k->apply.serial_only = !cfg->pipeline;
    k->apply.rectify_days = cfg->rectify_days;
    k->apply.row_writes = !cfg->set_based;
    k->apply.time_floor_ms = k->time_floor_ms;
    k->apply_open = true;
    return 0;
}

static void work_cb(uv_work_t *w)
{
    countyd_worker *k = w->data;
    countyd_job *j = k->running;
    j->status = 0;
    sj_error_clear(&j->err);
    if ((!k->db || PQstatus(k->db) != CONNECTION_OK) && (j->status = connect_db(k, j)) != 0)
        return;
    j->run(j, k->db, k->is_apply ? &k->apply : NULL);
}

static void on_retry(uv_timer_t *t)
{
    countyd_worker *k = t->data;
    k->waiting_retry = false;
    kick(k);
}

/* Puts j back at the head of the queue and waits the backoff. */
static void retry_later(countyd_worker *k, countyd_job *j)
{
    if (!k->db_down || k->backoff_ms >= k->cfg->retry_max_ms)
        SJ_LOG_WARN(MOD, "数据库不可用，稍后重试 (database unavailable; will retry)", "worker",
                    k->name, "code", sj_err_name(j->status), "why", j->err.message);
    k->db_down = true;
    j->next = k->head;
    k->head = j;
    if (!k->tail)
        k->tail = j;
    k->waiting_retry = true;
    uv_timer_start(&k->retry, on_retry, (uint64_t)k->backoff_ms, 0);
    k->backoff_ms = k->backoff_ms * 2 > k->cfg->retry_max_ms ? k->cfg->retry_max_ms
                                                              : k->backoff_ms * 2;
}

static void after_work_cb(uv_work_t *w, int uvstatus)
{
    (void)uvstatus;
    countyd_worker *k = w->data;
    countyd_job *j = k->running;
    k->running = NULL;
    bool db_failed = j->status == SJ_EDB_CONN || (k->is_apply && j->status == SJ_EDB);
    if (j->status == SJ_EDB_CONN || j->status == SJ_EDB)
        sj_metric_add(&m_db_errors, sj_err_name(j->status), 1);
    if (db_failed && j->retryable && !k->stopping) {
        retry_later(k, j);
        return;
    }
    if (j->status == 0 && k->db_down) {
        SJ_LOG_INFO(MOD, "数据库已恢复 (database reachable again)", "worker", k->name);
        k->db_down = false;
    }
    if (j->status == 0)
        k->backoff_ms = RETRY_MIN_MS;
    j->done(j);
    kick(k);
}

static void kick(countyd_worker *k)
{
    if (k->running)
        return;
    if (k->stopping) {
        if (k->on_idle)
            k->on_idle(k->idle_arg);
        return;
    }
    if (k->waiting_retry || !k->head)
        return;
    countyd_job *j = k->head;
    k->head = j->next;
    if (!k->head)
        k->tail = NULL;
    j->next = NULL;
    k->running = j;
    k->work.data = k;
    if (uv_queue_work(k->loop, &k->work, work_cb, after_work_cb) != 0) {
        /* Cannot happen with a valid loop; answer the job as failed. */
        k->running = NULL;
        j->status = SJ_EINTERNAL;
        j->done(j);
    }
}

void countyd_worker_init(countyd_worker *k, uv_loop_t *loop, const countyd_config *cfg,
                         const char *name, bool is_apply, int64_t time_floor_ms,
                         void (*on_idle)(void *arg), void *arg)
{
    *k = (countyd_worker){.loop = loop, .cfg = cfg, .name = name, .is_apply = is_apply,
                          .time_floor_ms = time_floor_ms, .backoff_ms = RETRY_MIN_MS,
                          .on_idle = on_idle, .idle_arg = arg};
    uv_timer_init(loop, &k->retry);
    k->retry.data = k;
}

void countyd_worker_push(countyd_worker *k, countyd_job *j)
{
    if (k->stopping) {
        j->status = SJ_ECANCELLED;
        j->done(j);
        return;
    }
    j->next = NULL;
    if (k->tail)
        k->tail->next = j;
    else
        k->head = j;
    k->tail = j;
    kick(k);
}

void countyd_worker_stop(countyd_worker *k)
{
    k->stopping = true;
    uv_timer_stop(&k->retry);
    k->waiting_retry = false;
}

bool countyd_worker_running(const countyd_worker *k)
{
    return k->running != NULL;
}

void countyd_worker_close(countyd_worker *k)
{
    while (k->head) {
        countyd_job *j = k->head;
        k->head = j->next;
        j->status = SJ_ECANCELLED;
        j->done(j);
    }
    k->tail = NULL;
    if (k->apply_open)
        countyd_apply_close(&k->apply);
    k->apply_open = false;
    if (k->db)
        PQfinish(k->db);
    k->db = NULL;
    uv_close((uv_handle_t *)&k->retry, NULL);
}
