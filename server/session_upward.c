/*
 * session_upward.c - upward messages on a county session (session.h):
 * CaseSubmit, CaseAction, PasswordChange and AttachmentChunk checked for
 * their sender (from a relay: a station or township desk of the relay's
 * township, G5; from a desk: the certificate's own node), then taken over
 * from the link as decoded (no second decode) and given to the batcher
 * (batch.h); the Ack after the commit, the applicant masked for a peer
 * that may not see it.
 *
 * Entry points: countyd_session_ack(); (session_int.h)
 * countyd_session_on_upward(), countyd_session_origin().
 */
#include "session_int.h"

#include <stdio.h>
#include <string.h>

#include "caserow.h"
#include "i18n.h"
#include "log.h"
#include "orgunit.h"
#include "refusal.h"

/* why: a msgid (N_()); the cadre reads it through the refusal module. */
static void ack_refuse(countyd_session *s, const Sanji__Envelope *env, int code, const char *why)
{
    char reason[SJ_ERROR_MESSAGE_MAX];
    sj_refusal_format(code, why, reason, sizeof reason);
    Sanji__Ack a = SANJI__ACK__INIT;
    a.message_id = env->message_id;
    a.status = SANJI__ACK_STATUS__ACK_STATUS_REFUSED;
    a.code = code;
    a.reason = reason;
    if (env->body_case == SANJI__ENVELOPE__BODY_CASE_SUBMIT && env->case_submit->case_id.len == 16)
        a.case_id = env->case_submit->case_id;
    if (env->body_case == SANJI__ENVELOPE__BODY_CASE_ACTION && env->case_action->case_id.len == 16)
        a.case_id = env->case_action->case_id;
    if (env->body_case == SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK &&
        env->attachment_chunk->case_id.len == 16)
        a.case_id = env->attachment_chunk->case_id;
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_ACK;
    out.ack = &a;
    countyd_session_send(s, &out);
}

int countyd_session_origin(const countyd_session *s, const char *sender, sj_identity *out)
{
    if (!sender || sj_identity_parse_node_id(sender, out, NULL) != 0)
        return SJ_ESCOPE;
    if (out->role != SJ_NODE_ROLE_VILLAGE && out->role != SJ_NODE_ROLE_TOWNSHIP_DESK)
        return SJ_EWRONG_ROLE;
    if (!sj_orgunit_contains(s->peer.unit, out->unit))
        return SJ_ESCOPE;
    return 0;
}

void countyd_session_on_upward(countyd_session *s, const Sanji__Envelope *env)
{
    countyd_peer peer;
    memset(&peer, 0, sizeof(peer));
    sj_identity origin = s->peer;
    if (s->peer.role == SJ_NODE_ROLE_RELAY) {
        int rc = countyd_session_origin(s, env->sender_node, &origin);
        if (rc != 0) {
            SJ_LOG_WARN(MOD, "forwarded message refused: sender outside the relay's township",
                        "peer", s->peer.node_id, "sender", env->sender_node, "code",
                        sj_err_name(rc));
            ack_refuse(s, env, rc,
                       N_("The station or desk that sent it does not belong to the township of "
                          "the relay that forwarded it."));
            return;
        }
    } else if (env->sender_node && *env->sender_node && strcmp(env->sender_node, s->peer.node_id) != 0) {
        /* A desk speaks for itself only, as the relay requires of its
         * stations: a message naming another sender is refused, not
         * silently re-attributed. */
        SJ_LOG_WARN(MOD, "message refused: sender is not the certificate's node", "peer",
                    s->peer.node_id, "sender", env->sender_node, "code",
                    sj_err_name(SJ_EPROTOCOL));
        ack_refuse(s, env, SJ_EPROTOCOL,
                   N_("The message names another sender than the certificate of this link."));
        return;
    }
    peer.role = (Sanji__NodeRole)origin.role;
    snprintf(peer.unit, sizeof(peer.unit), "%s", origin.unit);
    peer.node = origin.node_id;
    /* The envelope conn decoded is the one applied: taken over, not
     * decoded a second time.  Out of memory closes the link and refuses
     * nothing: the sender sends it again. */
    Sanji__Envelope *own = sj_conn_take_envelope(s->conn, env);
    int rc = own ? countyd_batcher_upward(s->ctx->upward, countyd_session_ref(s), own, &peer)
                 : SJ_ENOMEM;
    if (rc == SJ_EBUSY)
        sj_conn_close(s->conn, SJ_EBUSY,
                      _("The county server is busy; what was sent stays in the outbox and goes "
                        "again later."));
    else if (rc != 0)
        sj_conn_close(s->conn, rc, _(sj_err_text(SJ_ENOMEM)));
}

void countyd_session_ack(countyd_session *s, const uint8_t message_id[16],
                         const countyd_apply_result *r, Sanji__Case *current,
                         const countyd_peer *origin)
{
    if (!s || !s->conn)
        return; /* the sender resends and gets the stored result */
    static const uint8_t zero[16];
    Sanji__Ack a = SANJI__ACK__INIT;
    a.message_id.data = (uint8_t *)message_id;
    a.message_id.len = 16;
    a.status = r->status;
    a.code = r->code;
    a.reason = (char *)r->reason;
    if (memcmp(r->case_id, zero, 16) != 0) {
        a.case_id.data = (uint8_t *)r->case_id;
        a.case_id.len = 16;
    }
    a.case_number = (char *)r->case_number;
    a.case_version = r->case_version;
    Sanji__Applicant *orig = current ? current->applicant : NULL, masked;
    char id[SJ_PERSONAL_MASK_SIZE], phone[SJ_PERSONAL_MASK_SIZE];
    if (orig && !countyd_caserow_visible(current, (sj_node_role)origin->role, origin->unit)) {
        countyd_caserow_mask(orig, &masked, id, phone);
        current->applicant = &masked;
    }
    a.current = current;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ACK;
    env.ack = &a;
    countyd_session_send(s, &env);
    if (orig)
        current->applicant = orig;
}

