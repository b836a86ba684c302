/*
 * sc_actions.c - case actions taken at this station: registering a case
 * and acting on one, pre-checked with the case rules (common/domain/case.c) and
 * saved to the outbox with the predicted case in one transaction.
 *
 * Entry points: sc_register(), sc_act(), sc_allowed_actions().
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_pb.h"
#include "clock.h"
#include "i18n.h"
#include "personal.h"
#include "refusal.h"
#include "utf8.h"
#include "uuid.h"

/* Writes one outbox row and the predicted case in one transaction, then
 * reports SAVED and sends. */
static int save(sc_client *c, const uint8_t msg_id[16], const uint8_t case_id[16],
                sj_case_action action, Sanji__Envelope *env, const Sanji__Case *predicted,
                sj_error *err)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    int rc = sc_send_pack(c, env, &frame, &len, err);
    if (rc != 0)
        return rc;
    if ((rc = sc_store_begin(c->st, err)) == 0) {
        rc = sc_store_outbox_add(c->st, msg_id, case_id, action, frame + SJ_FRAME_HEADER_SIZE,
                                 len, sj_clock_real_ms(), err);
        if (rc == 0)
            rc = sc_store_case_put_predicted(c->st, case_id, predicted, err);
        if (rc == 0)
            rc = sc_store_commit(c->st, err);
        if (rc != 0)
            sc_store_rollback(c->st);
    }
    free(frame);
    if (rc != 0)
        return rc;
    sc_event ev = {.type = SC_EV_SAVED, .message_id = msg_id, .case_id = case_id, .action = action};
    sc_client_emit(c, &ev);
    sc_event cev = {.type = SC_EV_CASE_CHANGED,
                    .case_id = case_id,
                    .case_number = nz(predicted->number),
                    .snapshot = predicted};
    sc_client_emit(c, &cev);
    sc_send_flush(c);
    return 0;
}

/* The catalogue item a new case is registered for: known here and active. */
static int register_item(sc_client *c, const char *item_code, const Sanji__CatalogueItem **out,
                         sj_error *err)
{
    if (sj_utf8_blank(item_code))
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("Give the catalogue item (--item); search with: sanji catalogue KEYWORD."));
    const Sanji__CatalogueItem *it = sc_catalogue_item(c, item_code);
    if (!c->catalogue)
        return sj_error_set(err, SJ_EUNKNOWN_ITEM, "%s",
                            _("No service catalogue has been received yet; connect to the relay once (sanji sync) and try again."));
    if (!it)
        return sj_error_set(err, SJ_EUNKNOWN_ITEM, _("There is no catalogue item %s; search with: sanji catalogue KEYWORD."),
                            item_code);
    if (!it->active)
        return sj_error_set(err, SJ_EUNKNOWN_ITEM,
                            _("The catalogue item %s has been retired by the county; new cases cannot be registered for it. Choose another item (sanji catalogue KEYWORD)."),
                            item_code);
    *out = it;
    return 0;
}

/* The applicant's fields as the county checks them, so that what it would
 * refuse is never saved; idn receives the ID number in its one form. */
static int register_fields(const sc_register_req *req, char idn[SJ_PERSONAL_ID_SIZE],
                           sj_error *err)
{
    sj_error e2;
    const sj_submit fields = {.applicant_name = req->applicant_name,
                              .id_number = req->id_number,
                              .phone = req->phone,
                              .request_text = req->request_text};
    if (sj_case_check_submit(&fields, &e2) != 0)
        return sj_refusal_set(err, e2.code, e2.message);
    if (sj_personal_check_id(req->id_number, idn, &e2) != 0)
        return sj_error_set(err, SJ_EBAD_ID_NUMBER, "%s", e2.message);
    if (sj_personal_check_phone(req->phone, &e2) != 0)
        return sj_error_set(err, SJ_EBAD_PHONE, "%s", e2.message);
    return 0;
}

/* 全程代办员: a cadre who works here (id), or *carrier as it is (the first
 * receiver) when id is empty. */
static int register_carrier(sc_client *c, const char *id, const Sanji__Person **carrier,
                            sj_error *err)
{
    if (!id || !*id)
        return 0;
    *carrier = sc_ref_person_by_id(c, id);
    if (!sc_ref_person_fits(c, *carrier))
        return sj_error_set(err, SJ_EUNKNOWN_PERSON,
                            _("%s is not an active person of this station; choose the carrier "
                              "from sanji persons."),
                            id);
    return 0;
}

int sc_register(sc_client *c, const sc_register_req *req, uint8_t case_id_out[16],
                uint8_t message_id_out[16], sj_error *err)
{
    sj_actor actor;
    const Sanji__Person *p = NULL;
    int rc = sc_login_actor(c, &actor, &p, err);
    if (rc != 0)
        return rc;
    const Sanji__CatalogueItem *it = NULL;
    if ((rc = register_item(c, req->item_code, &it, err)) != 0)
        return rc;
    char idn[SJ_PERSONAL_ID_SIZE];
    if ((rc = register_fields(req, idn, err)) != 0)
        return rc;
    const Sanji__Person *carrier = p;
    if ((rc = register_carrier(c, req->carrier, &carrier, err)) != 0)
        return rc;
    int64_t now = sj_clock_real_ms();
    if ((rc = sc_check_clock(c, now, err)) != 0)
        return rc;
    sj_case_outcome out;
    sj_error e2;
    if (sj_case_register(c->node.unit, (sj_level)it->min_level, now, &actor, &out, &e2) != 0)
        return sj_refusal_set(err, e2.code, e2.message);

    uint8_t case_id[16], msg_id[16];
    sj_uuid_v7(case_id);
    sj_uuid_v7(msg_id);
    Sanji__Applicant ap = SANJI__APPLICANT__INIT;
    ap.name = (char *)req->applicant_name;
    ap.id_number = idn;
    ap.phone = (char *)req->phone;
    Sanji__CaseSubmit sub = SANJI__CASE_SUBMIT__INIT;
    sub.case_id.data = case_id;
    sub.case_id.len = 16;
    sub.village = c->node.unit;
    sub.item_code = (char *)req->item_code;
    sub.applicant = &ap;
    sub.request_text = (char *)req->request_text;
    sub.actor_person = (char *)p->id;
    sub.registered_at_ms = now;
    sub.urgent = req->urgent;
    sub.appointment_at_ms = req->appointment_at_ms;
    sub.no_notify = req->no_notify;
    sub.carrier = carrier == p ? (char *)"" : carrier->id;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.message_id.data = msg_id;
    env.message_id.len = 16;
    env.body_case = SANJI__ENVELOPE__BODY_CASE_SUBMIT;
    env.case_submit = &sub;

    Sanji__Case pc = SANJI__CASE__INIT;
    pc.case_id = sub.case_id;
    pc.number = (char *)"";
    pc.village = c->node.unit;
    pc.item_code = (char *)req->item_code;
    pc.item_name = it->name;
    pc.applicant = &ap;
    pc.request_text = (char *)req->request_text;
    pc.first_receiver = p->id;
    pc.first_receiver_name = p->name;
    pc.registered_at_ms = now;
    pc.urgent = req->urgent;
    pc.appointment_at_ms = req->appointment_at_ms;
    out.next.notify = req->no_notify ? SJ_NOTIFY_OFF : SJ_NOTIFY_NONE; /* as the county will */
    /* 全程代办员, as the county will record it. */
    out.next.carrier = carrier->id;
    out.next.carrier_name = carrier->name;
    sj_case_pb_from_case(&out.next, &pc);
    rc = save(c, msg_id, case_id, SJ_ACTION_REGISTER, &env, &pc, err);
    if (rc == 0) {
        if (case_id_out)
            memcpy(case_id_out, case_id, 16);
        if (message_id_out)
            memcpy(message_id_out, msg_id, 16);
    }
    return rc;
}

int sc_act(sc_client *c, const sc_action_req *req, uint8_t message_id_out[16], sj_error *err)
{
    sj_actor actor;
    const Sanji__Person *p = NULL;
    int rc = sc_login_actor(c, &actor, &p, err);
    if (rc != 0)
        return rc;
    if (req->type == SJ_ACTION_REGISTER || req->type == SJ_ACTION_NONE ||
        req->type == SJ_ACTION_OVERDUE || req->type == SJ_ACTION_WARN ||
        req->type == SJ_ACTION_DUE_RECOMPUTE || !req->case_id)
        return sj_error_set(err, SJ_EINVAL, "not an action a person can take");
    Sanji__Case *cur = NULL;
    if (sc_store_case_get(c->st, req->case_id, &cur, NULL, err) != 0) {
        if (err && err->code == SJ_ENOTFOUND)
            return sj_error_set(err, SJ_EUNKNOWN_CASE, "%s", _("There is no such case at this station."));
        return err ? err->code : SJ_EDB;
    }
    sj_case sm;
    sc_ref_case_view(c, cur, &sm);
    int64_t now = sj_clock_real_ms();
    if ((rc = sc_check_clock(c, now, err)) != 0) {
        sanji__case__free_unpacked(cur, NULL);
        return rc;
    }
    if (now <= sm.updated_at_ms)
        now = sm.updated_at_ms + 1; /* keep the history in order despite clock skew */
    uint8_t msg_id[16];
    sj_uuid_v7(msg_id);
    Sanji__CaseAction ca = SANJI__CASE_ACTION__INIT;
    ca.case_id.data = (uint8_t *)req->case_id;
    ca.case_id.len = 16;
    ca.action = (Sanji__CaseActionType)req->type;
    ca.expected_version = sm.version;
    ca.actor_person = p->id;
    ca.acted_at_ms = now;
    ca.note = (char *)nz(req->note);
    ca.result = (char *)nz(req->result);
    ca.materials = (char **)req->materials;
    ca.n_materials = req->n_materials;
    ca.satisfaction = (Sanji__Satisfaction)req->satisfaction;
    ca.department = (char *)nz(req->department);
    ca.extend_days = req->extend_days;
    ca.person = (char *)nz(req->person);
    /* Judged as the county will judge the message it becomes: a case
     * assigned to someone this station's list no longer holds active is
     * taken over without a reason there too. */
    sj_action a;
    sj_case_pb_action(&ca, &a);
    if (req->type == SJ_ACTION_TAKE_OVER && sm.assignee && *sm.assignee) {
        const Sanji__Person *was = sc_ref_person_by_id(c, sm.assignee);
        a.assignee_inactive = !was || !was->active;
    }
    sj_case_outcome out;
    sj_error e2;
    if (sj_case_apply(&sm, &a, &actor, &out, &e2) != 0) {
        sanji__case__free_unpacked(cur, NULL);
        return sj_refusal_set(err, e2.code, e2.message);
    }
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.message_id.data = msg_id;
    env.message_id.len = 16;
    env.body_case = SANJI__ENVELOPE__BODY_CASE_ACTION;
    env.case_action = &ca;
    /* The names the county will fill in, from this station's list. */
    const Sanji__Person *named = sc_ref_person_by_id(c, req->person);
    if (req->type == SJ_ACTION_ASSIGN && named)
        out.next.assignee_name = named->name;
    if (req->type == SJ_ACTION_SET_CARRIER && named)
        out.next.carrier_name = named->name;
    if (req->type == SJ_ACTION_TAKE_OVER)
        out.next.assignee_name = p->name;
    Sanji__Case pc = *cur; /* shallow: text stays owned by cur */
    sj_case_pb_from_case(&out.next, &pc);
    rc = save(c, msg_id, req->case_id, req->type, &env, &pc, err);
    sanji__case__free_unpacked(cur, NULL);
    if (rc == 0 && message_id_out)
        memcpy(message_id_out, msg_id, 16);
    return rc;
}

size_t sc_allowed_actions(sc_client *c, const Sanji__Case *cs, sj_case_action *out, size_t max)
{
    sj_actor a;
    if (sc_login_actor(c, &a, NULL, NULL) != 0)
        return 0;
    sj_case sm;
    sc_ref_case_view(c, cs, &sm);
    return sj_case_allowed_actions(&sm, &a, out, max);
}
