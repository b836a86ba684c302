/*
 * session_query.c - questions on a county session (session.h): a Query
 * answered on the query worker (query.h; a station's query through its
 * relay sees what the station sees), and a county desk's administration
 * request (admin_req.h), answered with an Ack and neither stored nor
 * retried.  At most QUERY_JOBS_MAX of a session are at work at once; more
 * are answered SJ_EBUSY at once.  The message is taken over from the link
 * as decoded (no second decode).
 *
 * Entry points (session_int.h): countyd_session_on_query(),
 * countyd_session_on_admin().
 */
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_req.h"
#include "envelope.h"
#include "i18n.h"
#include "log.h"

/* Out of memory mid-run: the link is closed (the peer asks again once it
 * has reconnected); the service goes on. */
static void no_memory(countyd_session *s)
{
    SJ_LOG_ERROR(MOD, "内存耗尽，链路已关闭 (out of memory; link closed)", "peer", s->peer.node_id);
    sj_conn_close(s->conn, SJ_ENOMEM, _(sj_err_text(SJ_ENOMEM)));
}

typedef struct query_data {
    Sanji__Envelope *env; /* owned copy */
    countyd_asker asker;
    Sanji__QueryResult result;
} query_data;

static void query_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    query_data *q = j->data;
    const countyd_config *cfg = ((countyd_session *)j->owner)->cfg;
    countyd_query_opts opts = {cfg->offline_warn_days, cfg->cert_warn_days, &cfg->duty,
                               &cfg->stars};
    j->status = countyd_query_answer(db, &j->arena, &q->asker, &opts, q->env->query, &q->result,
                                     &j->err);
}

static void query_done(countyd_job *j)
{
    countyd_session *s = j->owner;
    query_data *q = j->data;
    s->n_queries--;
    if (j->status == SJ_ECANCELLED) {
        sanji__query_result__init(&q->result);
        q->result.code = SJ_ECANCELLED;
    }
    if (s->conn) {
        Sanji__QueryResult *r = &q->result;
        r->in_reply_to = q->env->message_id;
        if (r->result_case == SANJI__QUERY_RESULT__RESULT_NETWORK)
            for (size_t i = 0; i < r->network->n_nodes; i++) {
                /* A status from a relay that is not connected now is old. */
                Sanji__NodeStatus *st = r->network->nodes[i];
                if (st->node && !countyd_sessions_have_node(*s->ctx->all, st->node))
                    st->upstream_online = false;
            }
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
        env.query_result = r;
        countyd_session_send(s, &env);
    }
    sj_envelope_free(q->env);
    free(q);
    countyd_job_free(j);
}

/* Answers a query SJ_EBUSY at once: too many of this peer's are at work. */
static void query_busy(countyd_session *s, const Sanji__Envelope *query)
{
    Sanji__QueryResult res = SANJI__QUERY_RESULT__INIT;
    res.in_reply_to = query->message_id;
    res.code = SJ_EBUSY;
    res.reason = (char *)_("Too many questions are waiting at the county; ask again once the "
                           "earlier answers have come.");
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
    out.query_result = &res;
    countyd_session_send(s, &out);
}

void countyd_session_on_query(countyd_session *s, const Sanji__Envelope *env)
{
    if (s->n_queries >= QUERY_JOBS_MAX) {
        query_busy(s, env);
        return;
    }
    query_data *q = calloc(1, sizeof(*q));
    countyd_job *j = q ? countyd_session_job(s) : NULL;
    if (!j || !(q->env = sj_conn_take_envelope(s->conn, env))) {
        free(q);
        countyd_job_free(j);
        no_memory(s);
        return;
    }
    q->asker = s->asker;
    sj_identity origin;
    if (s->peer.role == SJ_NODE_ROLE_RELAY && q->env->sender_node &&
        strcmp(q->env->sender_node, s->peer.node_id) != 0 &&
        countyd_session_origin(s, q->env->sender_node, &origin) == 0) {
        /* A station's query through its relay sees what the station sees. */
        q->asker.role = origin.role;
        q->asker.level = sj_node_role_level(origin.role);
        snprintf(q->asker.unit, sizeof(q->asker.unit), "%s", origin.unit);
    }
    j->run = query_run;
    j->done = query_done;
    j->data = q;
    s->n_queries++;
    countyd_worker_push(s->ctx->query, j);
}

/* ---- administration from a county desk (admin_req.h) ------------------------------- */

typedef struct admin_data {
    Sanji__Envelope *env; /* owned copy */
    sj_identity node;
    bool changed;
} admin_data;

static void admin_answer(countyd_session *s, const ProtobufCBinaryData *id, int code,
                         const char *reason, bool changed)
{
    Sanji__Ack a = SANJI__ACK__INIT;
    a.message_id = *id;
    a.status = code == 0 ? SANJI__ACK_STATUS__ACK_STATUS_APPLIED
                         : SANJI__ACK_STATUS__ACK_STATUS_REFUSED;
    a.code = code;
    a.reason = (char *)(reason ? reason : "");
    a.changed = changed;
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_ACK;
    out.ack = &a;
    countyd_session_send(s, &out);
}

static void admin_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    (void)apply;
    admin_data *a = j->data;
    j->status = countyd_admin_request(db, &a->node, a->env->admin_request, &a->changed, &j->err);
}

static void admin_done(countyd_job *j)
{
    countyd_session *s = j->owner;
    admin_data *a = j->data;
    s->n_queries--;
    if (s->conn) {
        if (j->status != 0)
            SJ_LOG_INFO(MOD, "administration request refused", "peer", s->peer.node_id, "code",
                        sj_err_name(j->status));
        admin_answer(s, &a->env->message_id, j->status, j->status ? j->err.message : "",
                     a->changed);
    }
    sj_envelope_free(a->env);
    free(a);
    countyd_job_free(j);
}

/* Answered on the link with an Ack; not stored nor retried: the desk
 * asks while it is connected and shows the answer. */
void countyd_session_on_admin(countyd_session *s, const Sanji__Envelope *env)
{
    if (s->peer.role != SJ_NODE_ROLE_COUNTY_DESK) {
        char reason[SJ_ERROR_MESSAGE_MAX];
        snprintf(reason, sizeof reason, "%s",
                 _("Only a county desk may administer persons, departments and items."));
        admin_answer(s, &env->message_id, SJ_ENOT_ADMIN, reason, false);
        return;
    }
    if (s->n_queries >= QUERY_JOBS_MAX) {
        char reason[SJ_ERROR_MESSAGE_MAX];
        snprintf(reason, sizeof reason, "%s",
                 _("Too many questions are waiting at the county; ask again once the earlier "
                   "answers have come."));
        admin_answer(s, &env->message_id, SJ_EBUSY, reason, false);
        return;
    }
    admin_data *a = calloc(1, sizeof(*a));
    countyd_job *j = a ? countyd_session_job(s) : NULL;
    if (!j || !(a->env = sj_conn_take_envelope(s->conn, env))) {
        free(a);
        countyd_job_free(j);
        no_memory(s);
        return;
    }
    a->node = s->peer;
    j->run = admin_run;
    j->done = admin_done;
    j->data = a;
    s->n_queries++;
    countyd_worker_push(s->ctx->query, j);
}

