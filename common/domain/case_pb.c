/*
 * case_pb.c - Case and CaseAction to and from the state machine's view
 * (see case_pb.h).
 *
 * Entry points: sj_case_pb_to_case(), sj_case_pb_from_case(),
 * sj_case_pb_action().
 */
#include "case_pb.h"

#include <string.h>

/* --- the numbering mirrors proto/sanji.proto ------------------------------ */

#define SJ__SAME(a, b) _Static_assert((int)(a) == (int)(b), #a " differs from " #b)

SJ__SAME(SJ_LEVEL_NONE, SANJI__LEVEL__LEVEL_UNSPECIFIED);
SJ__SAME(SJ_LEVEL_VILLAGE, SANJI__LEVEL__LEVEL_VILLAGE);
SJ__SAME(SJ_LEVEL_TOWNSHIP, SANJI__LEVEL__LEVEL_TOWNSHIP);
SJ__SAME(SJ_LEVEL_COUNTY, SANJI__LEVEL__LEVEL_COUNTY);

SJ__SAME(SJ_ROLE_NONE, SANJI__PERSON_ROLE__PERSON_ROLE_UNSPECIFIED);
SJ__SAME(SJ_ROLE_VILLAGE_CADRE, SANJI__PERSON_ROLE__PERSON_ROLE_VILLAGE_CADRE);
SJ__SAME(SJ_ROLE_TOWNSHIP_STAFF, SANJI__PERSON_ROLE__PERSON_ROLE_TOWNSHIP_STAFF);
SJ__SAME(SJ_ROLE_COUNTY_OPERATOR, SANJI__PERSON_ROLE__PERSON_ROLE_COUNTY_OPERATOR);
SJ__SAME(SJ_ROLE_DEPARTMENT_STAFF, SANJI__PERSON_ROLE__PERSON_ROLE_DEPARTMENT_STAFF);
SJ__SAME(SJ_ROLE_SYSTEM, SANJI__PERSON_ROLE__PERSON_ROLE_SYSTEM);

SJ__SAME(SJ_STATUS_NONE, SANJI__CASE_STATUS__CASE_STATUS_UNSPECIFIED);
SJ__SAME(SJ_STATUS_REGISTERED, SANJI__CASE_STATUS__CASE_STATUS_REGISTERED);
SJ__SAME(SJ_STATUS_ESCALATED_TOWNSHIP, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP);
SJ__SAME(SJ_STATUS_ACCEPTED_TOWNSHIP, SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP);
SJ__SAME(SJ_STATUS_ESCALATED_COUNTY, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY);
SJ__SAME(SJ_STATUS_ACCEPTED_COUNTY, SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_COUNTY);
SJ__SAME(SJ_STATUS_WAITING_MATERIALS, SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS);
SJ__SAME(SJ_STATUS_RESOLVED, SANJI__CASE_STATUS__CASE_STATUS_RESOLVED);
SJ__SAME(SJ_STATUS_RETURNED, SANJI__CASE_STATUS__CASE_STATUS_RETURNED);
SJ__SAME(SJ_STATUS_UNSATISFIED, SANJI__CASE_STATUS__CASE_STATUS_UNSATISFIED);
SJ__SAME(SJ_STATUS_CLOSED, SANJI__CASE_STATUS__CASE_STATUS_CLOSED);
SJ__SAME(SJ_STATUS_WITHDRAWN, SANJI__CASE_STATUS__CASE_STATUS_WITHDRAWN);
SJ__SAME(SJ_STATUS_DISPATCHED, SANJI__CASE_STATUS__CASE_STATUS_DISPATCHED);
SJ__SAME(SJ_STATUS_DEPARTMENT_HANDLING, SANJI__CASE_STATUS__CASE_STATUS_DEPARTMENT_HANDLING);
SJ__SAME(SJ_STATUS_REPORTED, SANJI__CASE_STATUS__CASE_STATUS_REPORTED);
SJ__SAME(SJ_STATUS_COUNT, SANJI__CASE_STATUS__CASE_STATUS_REPORTED + 1);

SJ__SAME(SJ_ACTION_NONE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_UNSPECIFIED);
SJ__SAME(SJ_ACTION_REGISTER, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER);
SJ__SAME(SJ_ACTION_RESOLVE_AT_ONCE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE);
SJ__SAME(SJ_ACTION_ESCALATE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ESCALATE);
SJ__SAME(SJ_ACTION_ACCEPT, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT);
SJ__SAME(SJ_ACTION_RETURN_DOWN, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RETURN_DOWN);
SJ__SAME(SJ_ACTION_REQUEST_MATERIALS, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS);
SJ__SAME(SJ_ACTION_SUPPLEMENT, SANJI__CASE_ACTION_TYPE__CASE_ACTION_SUPPLEMENT);
SJ__SAME(SJ_ACTION_RESOLVE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE);
SJ__SAME(SJ_ACTION_RETURN_UNDOABLE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RETURN_UNDOABLE);
SJ__SAME(SJ_ACTION_WITHDRAW, SANJI__CASE_ACTION_TYPE__CASE_ACTION_WITHDRAW);
SJ__SAME(SJ_ACTION_URGE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_URGE);
SJ__SAME(SJ_ACTION_FEEDBACK, SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK);
SJ__SAME(SJ_ACTION_REOPEN, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REOPEN);
SJ__SAME(SJ_ACTION_CLOSE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_CLOSE);
SJ__SAME(SJ_ACTION_SUPERVISE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_SUPERVISE);
SJ__SAME(SJ_ACTION_OVERDUE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_OVERDUE);
SJ__SAME(SJ_ACTION_WARN, SANJI__CASE_ACTION_TYPE__CASE_ACTION_WARN);
SJ__SAME(SJ_ACTION_DISPATCH, SANJI__CASE_ACTION_TYPE__CASE_ACTION_DISPATCH);
SJ__SAME(SJ_ACTION_TAKE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_TAKE);
SJ__SAME(SJ_ACTION_REFUSE_DISPATCH, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REFUSE_DISPATCH);
SJ__SAME(SJ_ACTION_REPORT, SANJI__CASE_ACTION_TYPE__CASE_ACTION_REPORT);
SJ__SAME(SJ_ACTION_RETURN_REPORT, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RETURN_REPORT);
SJ__SAME(SJ_ACTION_EXTEND_REQUEST, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_REQUEST);
SJ__SAME(SJ_ACTION_EXTEND_APPROVE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_APPROVE);
SJ__SAME(SJ_ACTION_EXTEND_REFUSE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_EXTEND_REFUSE);
SJ__SAME(SJ_ACTION_DUE_RECOMPUTE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_DUE_RECOMPUTE);
SJ__SAME(SJ_ACTION_ASSIGN, SANJI__CASE_ACTION_TYPE__CASE_ACTION_ASSIGN);
SJ__SAME(SJ_ACTION_TAKE_OVER, SANJI__CASE_ACTION_TYPE__CASE_ACTION_TAKE_OVER);
SJ__SAME(SJ_ACTION_SET_CARRIER, SANJI__CASE_ACTION_TYPE__CASE_ACTION_SET_CARRIER);
SJ__SAME(SJ_ACTION_NOTIFIED, SANJI__CASE_ACTION_TYPE__CASE_ACTION_NOTIFIED);
SJ__SAME(SJ_ACTION_NOTIFY_FAILED, SANJI__CASE_ACTION_TYPE__CASE_ACTION_NOTIFY_FAILED);
SJ__SAME(SJ_ACTION_RECTIFY, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RECTIFY);
SJ__SAME(SJ_ACTION_CALLBACK, SANJI__CASE_ACTION_TYPE__CASE_ACTION_CALLBACK);
SJ__SAME(SJ_ACTION_RECTIFY_OVERDUE, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RECTIFY_OVERDUE);
SJ__SAME(SJ_ACTION_COUNT, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RECTIFY_OVERDUE + 1);

SJ__SAME(SJ_NOTIFY_NONE, SANJI__NOTIFY_STATE__NOTIFY_STATE_UNSPECIFIED);
SJ__SAME(SJ_NOTIFY_PENDING, SANJI__NOTIFY_STATE__NOTIFY_STATE_PENDING);
SJ__SAME(SJ_NOTIFY_SENT, SANJI__NOTIFY_STATE__NOTIFY_STATE_SENT);
SJ__SAME(SJ_NOTIFY_FAILED, SANJI__NOTIFY_STATE__NOTIFY_STATE_FAILED);
SJ__SAME(SJ_NOTIFY_OFF, SANJI__NOTIFY_STATE__NOTIFY_STATE_OFF);

SJ__SAME(SJ_HANDLING_NONE, SANJI__HANDLING_TYPE__HANDLING_UNSPECIFIED);
SJ__SAME(SJ_HANDLING_AT_ONCE, SANJI__HANDLING_TYPE__HANDLING_AT_ONCE);
SJ__SAME(SJ_HANDLING_UNDERTAKEN, SANJI__HANDLING_TYPE__HANDLING_UNDERTAKEN);
SJ__SAME(SJ_HANDLING_ON_BEHALF, SANJI__HANDLING_TYPE__HANDLING_ON_BEHALF);
SJ__SAME(SJ_HANDLING_SUPPLEMENTED, SANJI__HANDLING_TYPE__HANDLING_SUPPLEMENTED);
SJ__SAME(SJ_HANDLING_RETURNED, SANJI__HANDLING_TYPE__HANDLING_RETURNED);

SJ__SAME(SJ_SATISFACTION_NONE, SANJI__SATISFACTION__SATISFACTION_UNSPECIFIED);
SJ__SAME(SJ_SATISFACTION_SATISFIED, SANJI__SATISFACTION__SATISFACTION_SATISFIED);
SJ__SAME(SJ_SATISFACTION_BASICALLY, SANJI__SATISFACTION__SATISFACTION_BASICALLY_SATISFIED);
SJ__SAME(SJ_SATISFACTION_UNSATISFIED, SANJI__SATISFACTION__SATISFACTION_UNSATISFIED);
SJ__SAME(SJ_SATISFACTION_VERY_SATISFIED, SANJI__SATISFACTION__SATISFACTION_VERY_SATISFIED);
SJ__SAME(SJ_SATISFACTION_VERY_UNSATISFIED, SANJI__SATISFACTION__SATISFACTION_VERY_UNSATISFIED);

/* --- conversions ------------------------------------------------------------ */

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* A unit code of a message into a fixed field.  A code too long for it
 * is left out rather than cut (cut, it could name another unit): the field
 * is then empty, which the state machine refuses as malformed (SJ_EINVAL). */
static void unit_of(char dst[SJ_UNIT_CODE_SIZE], const char *src)
{
    size_t n = strnlen(nz(src), SJ_UNIT_CODE_SIZE);
    if (n == SJ_UNIT_CODE_SIZE)
        n = 0;
    memcpy(dst, nz(src), n);
    dst[n] = '\0';
}

void sj_case_pb_to_case(const Sanji__Case *p, sj_level item_min_level, sj_case *o)
{
    memset(o, 0, sizeof(*o));
    unit_of(o->village, p->village);
    o->item_min_level = item_min_level;
    o->status = (sj_case_status)p->status;
    o->resume_status = (sj_case_status)p->resume_status;
    o->holder_level = (sj_level)p->holder_level;
    unit_of(o->holder_unit, p->holder_unit);
    o->version = p->version;
    o->handling = (sj_handling)p->handling;
    o->overdue = p->overdue;
    o->supervised = p->supervised;
    o->escalated = p->escalated;
    o->reached_county = p->reached_county;
    o->warn_level = p->warn_level;
    o->urge_count = p->urge_count;
    o->materials_rounds = p->materials_rounds;
    o->satisfaction = (sj_satisfaction)p->satisfaction;
    o->resolved_level = (sj_level)p->resolved_level;
    unit_of(o->resolved_unit, p->resolved_unit);
    o->updated_at_ms = p->updated_at_ms;
    o->closed_at_ms = p->closed_at_ms;
    o->department = p->department;
    o->department_code = p->department_code;
    o->department_refusals = p->department_refusals;
    o->result = p->result;
    o->return_reason = p->return_reason;
    o->materials = (const char *const *)p->materials;
    o->n_materials = p->n_materials;
    o->registered_at_ms = p->registered_at_ms;
    o->limit_days = p->limit_days;
    o->due_at_ms = p->due_at_ms;
    o->due_provisional = p->due_provisional;
    o->paused_at_ms = p->paused_at_ms;
    o->paused_days = p->paused_days;
    o->extended_days = p->extended_days;
    o->extension_days = p->extension_days;
    o->return_count = p->return_count;
    o->notify = (sj_notify_state)p->notify_state;
    o->notify_attempts = p->notify_attempts;
    o->notify_at_ms = p->notify_at_ms;
    o->notify_retry_at_ms = p->notify_retry_at_ms;
    o->assignee = p->assignee;
    o->assignee_name = p->assignee_name;
    o->carrier = p->carrier;
    o->carrier_name = p->carrier_name;
    o->rectify_due_at_ms = p->rectify_due_at_ms;
    o->rectified_at_ms = p->rectified_at_ms;
    o->called_back_at_ms = p->called_back_at_ms;
    o->rectify_late = p->rectify_late;
}

void sj_case_pb_from_case(const sj_case *c, Sanji__Case *t)
{
    t->status = (Sanji__CaseStatus)c->status;
    t->resume_status = (Sanji__CaseStatus)c->resume_status;
    t->holder_level = (Sanji__Level)c->holder_level;
    t->holder_unit = (char *)c->holder_unit;
    t->version = c->version;
    t->handling = (Sanji__HandlingType)c->handling;
    t->overdue = c->overdue;
    t->supervised = c->supervised;
    t->escalated = c->escalated;
    t->reached_county = c->reached_county;
    t->warn_level = c->warn_level;
    t->urge_count = c->urge_count;
    t->materials_rounds = c->materials_rounds;
    t->satisfaction = (Sanji__Satisfaction)c->satisfaction;
    t->resolved_level = (Sanji__Level)c->resolved_level;
    t->resolved_unit = (char *)c->resolved_unit;
    t->updated_at_ms = c->updated_at_ms;
    t->closed_at_ms = c->closed_at_ms;
    t->department = (char *)nz(c->department);
    t->department_code = (char *)nz(c->department_code);
    t->department_refusals = c->department_refusals;
    t->result = (char *)nz(c->result);
    t->return_reason = (char *)nz(c->return_reason);
    t->materials = (char **)c->materials;
    t->n_materials = c->n_materials;
    t->registered_at_ms = c->registered_at_ms;
    t->limit_days = c->limit_days;
    t->due_at_ms = c->due_at_ms;
    t->due_provisional = c->due_provisional;
    t->paused_at_ms = c->paused_at_ms;
    t->paused_days = c->paused_days;
    t->extended_days = c->extended_days;
    t->extension_days = c->extension_days;
    t->return_count = c->return_count;
    t->notify_state = (Sanji__NotifyState)c->notify;
    t->notify_attempts = c->notify_attempts;
    t->notify_at_ms = c->notify_at_ms;
    t->notify_retry_at_ms = c->notify_retry_at_ms;
    t->assignee = (char *)nz(c->assignee);
    t->assignee_name = (char *)nz(c->assignee_name);
    t->carrier = (char *)nz(c->carrier);
    t->carrier_name = (char *)nz(c->carrier_name);
    t->rectify_due_at_ms = c->rectify_due_at_ms;
    t->rectified_at_ms = c->rectified_at_ms;
    t->called_back_at_ms = c->called_back_at_ms;
    t->rectify_late = c->rectify_late;
}

void sj_case_pb_action(const Sanji__CaseAction *a, sj_action *o)
{
    memset(o, 0, sizeof(*o));
    o->type = (sj_case_action)a->action;
    o->expected_version = a->expected_version;
    o->at_ms = a->acted_at_ms;
    o->note = a->note;
    o->result = a->result;
    o->department = a->department;
    o->materials = (const char *const *)a->materials;
    o->n_materials = a->n_materials;
    o->satisfaction = (sj_satisfaction)a->satisfaction;
    o->extend_days = a->extend_days;
    o->notify_attempt = a->notify_attempt;
    o->notify_retry_at_ms = a->notify_retry_at_ms;
    o->person = a->person;
}
