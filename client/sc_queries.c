/*
 * sc_queries.c - questions to the county over the link and their answers:
 * Queries (sc_query()) answered by a QueryResult, administration requests
 * (sc_admin()) answered by an Ack; the questions still open fail when the
 * link goes down or the client stops.
 *
 * Entry points: sc_query(), sc_admin(); inside the library the
 * sc_queries_* functions of sanji_client_private.h.
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "i18n.h"
#include "uuid.h"

/* The county's answer to an administration request (sc_admin()): true
 * when a was one. */
bool sc_queries_admin_answered(sc_client *c, const Sanji__Ack *a)
{
    for (pending_query **pp = &c->queries; *pp; pp = &(*pp)->next) {
        pending_query *q = *pp;
        if (q->admin_cb && memcmp(q->id, a->message_id.data, 16) == 0) {
            *pp = q->next;
            int code = a->status == SANJI__ACK_STATUS__ACK_STATUS_APPLIED ? 0
                       : a->code                                        ? a->code
                                                                        : SJ_EINTERNAL;
            q->admin_cb(c, code, nz(a->reason), a->changed, q->data);
            free(q);
            return true;
        }
    }
    return false;
}

void sc_queries_on_result(sc_client *c, const Sanji__QueryResult *r)
{
    pending_query **pp = &c->queries;
    while (*pp) {
        pending_query *q = *pp;
        if (!q->admin_cb && r->in_reply_to.len == 16 && memcmp(q->id, r->in_reply_to.data, 16) == 0) {
            *pp = q->next;
            q->cb(c, r->code, r, q->data);
            free(q);
            return;
        }
        pp = &q->next;
    }
}

void sc_queries_fail(sc_client *c, int status)
{
    while (c->queries) {
        pending_query *q = c->queries;
        c->queries = q->next;
        if (q->admin_cb)
            q->admin_cb(c, status, NULL, false, q->data);
        else
            q->cb(c, status, NULL, q->data);
        free(q);
    }
}

/* Sends env (its body set) under a new message id and keeps the question
 * open until its answer: cb for a QueryResult, or admin_cb for an Ack. */
static int ask(sc_client *c, Sanji__Envelope *env, sc_query_cb cb, sc_admin_cb admin_cb,
               void *data, sj_error *err)
{
    pending_query *pq = calloc(1, sizeof(*pq));
    if (!pq)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    sj_uuid_v7(pq->id);
    env->message_id.data = pq->id;
    env->message_id.len = 16;
    int rc = sj_conn_send(c->conn, env, NULL, err);
    if (rc != 0) {
        free(pq);
        return rc;
    }
    pq->cb = cb;
    pq->admin_cb = admin_cb;
    pq->data = data;
    pq->next = c->queries;
    c->queries = pq;
    return 0;
}

int sc_query(sc_client *c, const Sanji__Query *q, sc_query_cb cb, void *data, sj_error *err)
{
    if (!c->conn || !c->welcomed)
        return sj_error_set(err, SJ_ECLOSED, "%s", _("Not connected to the township relay or the county."));
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_QUERY;
    env.query = (Sanji__Query *)q;
    return ask(c, &env, cb, NULL, data, err);
}

int sc_admin(sc_client *c, Sanji__AdminRequest *req, sc_admin_cb cb, void *data, sj_error *err)
{
    const Sanji__Person *p = sc_person(c);
    if (c->node.role != SJ_NODE_ROLE_COUNTY_DESK || !p)
        return sj_error_set(err, SJ_ENOT_ADMIN, "%s",
                            _("Only a county operator logged in at a county desk may administer "
                              "persons, departments and items."));
    if (!c->conn || !c->welcomed)
        return sj_error_set(err, SJ_ECLOSED, "%s",
                            _("Not connected to the county; administration needs the link."));
    req->actor_person = p->id;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ADMIN_REQUEST;
    env.admin_request = req;
    int rc = ask(c, &env, NULL, cb, data, err);
    req->actor_person = NULL;
    return rc;
}
