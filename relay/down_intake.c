/*
 * down_intake.c - upward admission at the relay: every CaseSubmit,
 * CaseAction, PasswordChange and AttachmentChunk of a station or desk is
 * checked (scope, sender, and the case rules on the cached copy where no
 * queued message could change the answer), then answered from a kept
 * result, or queued within the quota, and acknowledged after the turn's
 * commit (down_out.c).  See docs/RELAY.md "Upward path".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "case.h"
#include "case_pb.h"
#include "clock.h"
#include "downstream_private.h"
#include "i18n.h"
#include "log.h"
#include "orgunit.h"
#include "password.h"
#include "refusal.h"
#include "relay_metrics.h"

#define MOD DOWN_MOD

/* why: msgids (and run-time details) joined by SJ_REFUSAL_JOIN, as the
 * state machine and reason_set() make them; the cadre reads them in the
 * relay's language through the refusal module, like the county's. */
static void queue_refusal(session *s, const Sanji__Envelope *env, int code, const char *why,
                          const ProtobufCBinaryData *case_id)
{
    char full[SJ_ERROR_MESSAGE_MAX + 64], reason[SJ_ERROR_MESSAGE_MAX + 256];
    snprintf(full, sizeof full, "%s%s%s", N_("Refused at the township relay."),
             why && why[0] ? SJ_REFUSAL_JOIN : "", why ? why : "");
    sj_refusal_format(code, full, reason, sizeof reason);
    SJ_LOG_INFO(MOD, "message refused", "peer", s->peer.node_id, "code", sj_err_name(code));
    sj_metric_add(&relay_m_refused, sj_err_name(code), 1);
    down_out_queue_ack(s, &env->message_id, SANJI__ACK_STATUS__ACK_STATUS_REFUSED, code, reason, case_id);
}

/* A refusal's why for queue_refusal(): the msgid, then (may be NULL) a
 * detail known only now, kept as it is.  Returns code. */
static int reason_set(sj_error *err, int code, const char *why_msgid, const char *detail)
{
    return sj_error_set(err, code, "%s%s%s", why_msgid, detail ? SJ_REFUSAL_JOIN : "",
                        detail ? detail : "");
}

static sj_actor actor_of(const session *s)
{
    sj_actor a;
    memset(&a, 0, sizeof a);
    a.role = s->peer.role == SJ_NODE_ROLE_VILLAGE ? SJ_ROLE_VILLAGE_CADRE : SJ_ROLE_TOWNSHIP_STAFF;
    snprintf(a.unit, sizeof a.unit, "%s", s->peer.unit);
    return a;
}

/* Refusals the relay may give from its cached copy: only those that no
 * message still queued ahead of this one could change. */
static bool certain_refusal(int code)
{
    switch (code) {
    case SJ_ESCOPE:
    case SJ_ETERMINAL:
    case SJ_EWRONG_ROLE:
    case SJ_ENOT_ALLOWED:
    case SJ_EWRONG_LEVEL:
        return true;
    default:
        return false;
    }
}

/* A person's own password change (PasswordChange): a well-formed
 * verifier for a person of this station's or desk's unit, as far as the
 * relay's copy of the persons tells (the county decides, from its own). */
static int check_password_change(session *s, const Sanji__PasswordChange *pc,
                                 char village[RELAY_UNIT_SIZE], sj_error *err)
{
    sj_password_verifier v;
    sj_error e;
    if (!pc->person || !*pc->person)
        return reason_set(err, SJ_EMISSING_FIELD, N_("Nobody is named as the person who did it; "
                                                     "log in and save it again."), NULL);
    if (!pc->new_verifier || sj_password_parse(pc->new_verifier, &v, &e) != 0)
        return reason_set(err, SJ_EBAD_FIELD, N_("The new password's verifier is malformed."),
                          NULL);
    snprintf(village, RELAY_UNIT_SIZE, "%s", s->peer.unit);
    uint64_t ver;
    uint8_t *p = NULL;
    size_t len = 0;
    if (relay_store_ref_get(s->d->r->store, RELAY_REF_PERSONS, &ver, &p, &len, &e) != 0 || !p)
        return 0; /* no list yet: the county checks */
    Sanji__PersonSync *ps = sanji__person_sync__unpack(NULL, len, p);
    free(p);
    if (!ps)
        return 0;
    bool ours = false;
    for (size_t i = 0; i < ps->n_persons && !ours; i++)
        ours = ps->persons[i]->id && strcmp(ps->persons[i]->id, pc->person) == 0 &&
               ps->persons[i]->org_unit && strcmp(ps->persons[i]->org_unit, s->peer.unit) == 0;
    sanji__person_sync__free_unpacked(ps, NULL);
    if (!ours)
        return reason_set(err, SJ_ESCOPE, N_("This person does not belong to this station:"),
                          pc->person);
    return 0;
}

/* The village of an existing case (from the cached copy, the queue or a
 * kept result) into village, and the cached copy (*cached, the caller
 * frees it; NULL when none); refuses a case unknown here or outside the
 * peer's scope. */
static int known_case_village(session *s, const ProtobufCBinaryData *case_id,
                              char village[RELAY_UNIT_SIZE], Sanji__Case **cached, sj_error *err)
{
    relay *r = s->d->r;
    *cached = NULL;
    if (case_id->len != 16)
        return reason_set(err, SJ_EBAD_FIELD, N_("The case id is not 16 bytes long."), NULL);
    sj_error e2;
    (void)relay_store_case_get(r->store, case_id->data, cached, &e2);
    bool queued = relay_store_queue_has_case(r->store, case_id->data, *cached ? NULL : village);
    if (*cached) {
        snprintf(village, RELAY_UNIT_SIZE, "%s", (*cached)->village ? (*cached)->village : "");
    } else if (!queued &&
               relay_store_result_case_village(r->store, case_id->data, village) != 0) {
        return reason_set(err, SJ_EUNKNOWN_CASE,
                          N_("The township relay has no record of this case; bring the station up "
                             "to date (sanji sync) and try again."),
                          NULL);
    }
    if (!down_session_in_scope(s, village))
        return reason_set(err, SJ_ESCOPE,
                          N_("The case belongs to a village outside this station's scope:"),
                          village);
    return 0;
}

/* Checks an upward message; fills village.  Returns 0 or a refusal code
 * with err. */
static int check_upward(session *s, const Sanji__Envelope *env, char village[RELAY_UNIT_SIZE],
                        ProtobufCBinaryData *case_id, sj_error *err)
{
    relay *r = s->d->r;
    sj_actor actor = actor_of(s);
    if (env->body_case == SANJI__ENVELOPE__BODY_PASSWORD_CHANGE)
        return check_password_change(s, env->password_change, village, err);
    if (env->body_case == SANJI__ENVELOPE__BODY_CASE_SUBMIT) {
        const Sanji__CaseSubmit *cs = env->case_submit;
        *case_id = cs->case_id;
        if (cs->case_id.len != 16)
            return reason_set(err, SJ_EBAD_FIELD, N_("The case id is not 16 bytes long."), NULL);
        if (!down_session_in_scope(s, cs->village))
            return reason_set(err, SJ_ESCOPE, N_("This village is outside this station's scope:"),
                              cs->village ? cs->village : "");
        snprintf(village, RELAY_UNIT_SIZE, "%s", cs->village);
        sj_case_outcome out;
        int rc = sj_case_register(cs->village, SJ_LEVEL_VILLAGE, cs->registered_at_ms, &actor,
                                  &out, err);
        return rc;
    }
    if (env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK) {
        /* An attachment's chunk: its fields, and the case in scope.  The
         * limits are the county's to apply. */
        const Sanji__AttachmentChunk *ch = env->attachment_chunk;
        *case_id = ch->case_id;
        int rc = sj_attach_check_chunk(ch, UINT64_MAX, err);
        if (rc != 0)
            return rc;
        Sanji__Case *cached = NULL;
        rc = known_case_village(s, &ch->case_id, village, &cached, err);
        sanji__case__free_unpacked(cached, NULL);
        return rc;
    }
    const Sanji__CaseAction *ca = env->case_action;
    *case_id = ca->case_id;
    /* The person named (TAKE_OVER makes them the assignee); the county
     * checks who they are. */
    snprintf(actor.person, sizeof actor.person, "%s", ca->actor_person ? ca->actor_person : "");
    Sanji__Case *cached = NULL;
    int rc = known_case_village(s, &ca->case_id, village, &cached, err);
    if (rc != 0) {
        sanji__case__free_unpacked(cached, NULL);
        return rc;
    }
    bool queued = relay_store_queue_has_case(r->store, ca->case_id.data, NULL);
    if (cached && !queued && ca->expected_version == cached->version) {
        /* The catalogue level is the county's to judge; VILLAGE never refuses. */
        sj_case cur;
        sj_case_pb_to_case(cached, SJ_LEVEL_VILLAGE, &cur);
        int crc = sj_case_check(&cur, (sj_case_action)ca->action, &actor, err);
        if (crc != 0 && certain_refusal(crc))
            rc = crc;
    }
    sanji__case__free_unpacked(cached, NULL);
    return rc;
}

/* Queues an admitted message (the payload as received) within the quota
 * and acknowledges it STORED after the commit; a full queue is refused,
 * and a store failure closes the link without any ack (the station
 * resends). */
static void enqueue(session *s, const Sanji__Envelope *env, const uint8_t *payload, size_t len,
                    const char *village, const ProtobufCBinaryData *case_id)
{
    relay *r = s->d->r;
    relay_queue_item it;
    memset(&it, 0, sizeof it);
    memcpy(it.message_id, env->message_id.data, 16);
    snprintf(it.origin_node, sizeof it.origin_node, "%s", s->peer.node_id);
    snprintf(it.village, sizeof it.village, "%s", village);
    if (case_id->len == 16) /* a password change names no case: zeros */
        memcpy(it.case_id, case_id->data, 16);
    it.payload = (uint8_t *)payload;
    it.len = len;
    /* Attachment chunks may fill only half of the quota: the other half
     * stays for case messages, which an upload never holds up. */
    bool chunk = env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK;
    /* and travel in their own lane, behind case messages (upstream.c). */
    it.lane = chunk ? RELAY_LANE_CHUNK : RELAY_LANE_MESSAGE;
    uint64_t quota = r->cfg->queue_quota;
    if (chunk && quota > 1)
        quota /= 2;
    sj_error err;
    int rc = relay_store_queue_add(r->store, &it, quota, sj_clock_real_ms(), &err);
    if (rc == SJ_EQUOTA) {
        /* The store's message (sizes, what to check) is for the operator's
         * log; the cadre is told what it means for the work. */
        SJ_LOG_WARN(MOD, "queue full; submission refused", "peer", s->peer.node_id, "why",
                    err.message);
        queue_refusal(s, env, SJ_EQUOTA,
                      chunk ? N_("The township relay has no room for attachments now; attach the "
                                 "file again later, once the township's link to the county is "
                                 "back.")
                            : N_("The township relay's queue is full; nothing was stored. Save it "
                                 "again later, once the township's link to the county is back."),
                      case_id);
        return;
    }
    if (rc != 0 && rc != SJ_EEXISTS) {
        /* A local failure: no ack at all; the station keeps the message and
         * resends it after the link is back. */
        SJ_LOG_ERROR(MOD, "cannot queue a message", "why", err.message);
        down_session_close(s, rc, _(RELAY_STORE_FAILED));
        return;
    }
    down_out_queue_ack(s, &env->message_id, SANJI__ACK_STATUS__ACK_STATUS_STORED, 0, NULL,
                       case_id);
    if (rc == 0) {
        sj_metric_add(&relay_m_stored, NULL, 1);
        s->d->ev.queued(s->d->ev.arg);
    }
}

void down_intake_upward(session *s, const Sanji__Envelope *env, const uint8_t *payload,
                        size_t len)
{
    relay *r = s->d->r;
    char village[RELAY_UNIT_SIZE] = "";
    ProtobufCBinaryData case_id = {0, NULL};
    sj_error err;
    sj_error_clear(&err);
    int rc = check_upward(s, env, village, &case_id, &err);
    /* The payload goes to the county unchanged, and the county takes the
     * original sender from sender_node: a station naming another node
     * (its township's desk, say) would act with that node's rights.
     * Checked after scope, whose refusal says more. */
    if (rc == 0 && (env->sender_node == NULL || strcmp(env->sender_node, s->peer.node_id) != 0))
        rc = reason_set(&err, SJ_EPROTOCOL,
                        N_("The message names another sender than the certificate of this link:"),
                        s->peer.node_id);
    if (rc != 0) {
        queue_refusal(s, env, rc, err.message, &case_id);
        return;
    }
    /* A message whose final result is kept: answer with that result. */
    uint8_t *ack = NULL;
    size_t ack_len = 0;
    if (relay_store_result_get(r->store, env->message_id.data, &ack, &ack_len, NULL, &err) == 0) {
        down_out_push(&s->wait_head, &s->wait_tail, down_out_result_frame(r, ack, ack_len));
        free(ack);
        return;
    }
    enqueue(s, env, payload, len, village, &case_id);
}
