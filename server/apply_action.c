/*
 * apply_action.c - a CaseAction (a desk or the supervision sweep acts on
 * a case): which actions a computer may send, the acting person, the
 * action as the state machine takes it (common/domain/case.c, with the
 * county's clock, calendar and 整改时限), what the county's records add
 * (the department 派单 names, the person 指派 or 全程代办员 names), and
 * the writes of an accepted action: the case row, its events, feed rows
 * and notifications.
 *
 * Entry points (apply_int.h): countyd_apply_action(),
 * countyd_apply_act_on_case().
 */
#include "apply_int.h"

#include <stdio.h>
#include <string.h>

#include "case_pb.h"
#include "clock.h"
#include "i18n.h"
#include "uuid.h"

int countyd_apply_action(countyd_apply *a, const countyd_apply_msg *m, const char *mid,
                         countyd_apply_result *r, sj_error *err)
{
    const Sanji__CaseAction *act = m->action;
    if (act->case_id.len != 16)
        return countyd_apply_refuse(r, SJ_EBAD_FIELD, N_("The case id is not 16 bytes long."));
    memcpy(r->case_id, act->case_id.data, 16);
    if (act->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER ||
        act->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_OVERDUE ||
        act->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_WARN ||
        act->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_RECTIFY_OVERDUE || act->action <= 0 ||
        act->action >= SJ_ACTION_COUNT)
        return countyd_apply_refuse(r, SJ_EWRONG_ROLE,
                                    N_("This action cannot be sent from a computer."));
    if (act->n_materials > SJ_CASE_MATERIALS_MAX)
        return countyd_apply_refuse(r, SJ_EBAD_FIELD, N_("Too many materials are listed."));
    actor_info who = {.person = act->actor_person,
                      .node = m->peer->node ? m->peer->node : ""};
    char person_name[256];
    int rc = countyd_apply_check_person(a, m->peer, act->actor_person, &who.actor, person_name,
                                        sizeof(person_name), r);
    if (rc != 0)
        return rc;
    who.person_name = person_name;
    return countyd_apply_act_on_case(a, act, &who, mid, r, err);
}

/* What the machine cannot know and the county's records say, after
 * sj_case_apply() accepted the action: 派单 names a department that takes
 * cases (its name into out); 指派 and 全程代办员 name a person who works
 * where the case is held (the village, for the carrier); 接手 makes the
 * actor the assignee.  Returns 0 or REFUSED. */
static int judge_records(countyd_apply *a, const sj_action *action, const sj_case *cur,
                         const actor_info *who, sj_case_outcome *out, const char **department_name,
                         const char **named, const char **named_name, countyd_apply_result *r)
{
    if (action->type == SJ_ACTION_DISPATCH) {
        const countyd_ref_department *d =
            countyd_refdata_cache_department(&a->refs, action->department);
        if (!d || !d->active)
            return countyd_apply_refuse(
                r, SJ_EBAD_FIELD,
                d ? N_("That department no longer takes cases (it is inactive); "
                       "dispatch the case to another department from the list.")
                  : N_("The county has no department with that code; choose the "
                       "department from the county's list (sanji departments)."));
        *department_name = d->name;
        out->next.department = d->name;
    }
    if (action->type == SJ_ACTION_ASSIGN || action->type == SJ_ACTION_SET_CARRIER) {
        const countyd_ref_person *np = countyd_refdata_cache_person(&a->refs, action->person);
        bool carrier = action->type == SJ_ACTION_SET_CARRIER;
        int rc = carrier ? countyd_apply_check_named(np, SJ_LEVEL_VILLAGE, cur->village, NULL, r)
                         : countyd_apply_check_named(np, cur->holder_level, cur->holder_unit,
                                       sj_case_department_holds(cur) ? cur->department_code : NULL,
                                       r);
        if (rc != 0)
            return rc;
        *named = np->id;
        *named_name = np->name;
        if (carrier)
            out->next.carrier_name = np->name;
        else
            out->next.assignee_name = np->name;
    } else if (action->type == SJ_ACTION_TAKE_OVER) {
        *named = who->person;
        *named_name = who->person_name;
        out->next.assignee_name = who->person_name;
    }
    return 0;
}

/* The wire's action as the state machine takes it, with what the county
 * adds: the time, the county's calendar and 整改时限, and for 接手 whether
 * the case's assignee is still active. */
static void machine_action(const countyd_apply *a, const Sanji__CaseAction *act,
                           const actor_info *who, const sj_case *cur, int64_t at,
                           sj_action *action)
{
    sj_case_pb_action(act, action);
    action->at_ms = at;
    action->warn_percent = who->warn_percent;
    action->calendar = a->calendar; /* the county's clock moves (case.h "The clock") */
    action->rectify_days = a->rectify_days; /* a 差评's 整改时限 */
    /* 接手: a deactivated assignee's case is taken without a reason. */
    if (action->type == SJ_ACTION_TAKE_OVER && cur->assignee && cur->assignee[0]) {
        const countyd_ref_person *was = countyd_refdata_cache_person(&a->refs, cur->assignee);
        action->assignee_inactive = !was || !was->active;
    }
}

/* What an action decides, for the writes: the case before it, the state
 * machine's outcome and what the county's records added. */
typedef struct action_plan {
    sj_case cur;        /* the case before the action */
    int last_seq;       /* its last event */
    const touched *t;   /* the case as an earlier message of the batch left it, or NULL */
    int64_t now, at;    /* the county's clock; the action's time in the history */
    sj_action action;   /* as the state machine took it */
    sj_case_outcome out; /* sj_case_apply()'s */
    const char *department_name, *named, *named_name; /* judge_records()' */
} action_plan;

/* The rules of an action on case cid: the case as it is now (its row in
 * *res, PQclear()ed by the caller when *owned; converted strings in arena),
 * the client's time, the state machine, then the county's records.
 * Returns 0 with pl filled, REFUSED, or an error. */
static int judge_action(countyd_apply *a, const Sanji__CaseAction *act, const actor_info *who,
                        const char *cid, countyd_arena *arena, PGresult **res, bool *owned,
                        action_plan *pl, countyd_apply_result *r, sj_error *err)
{
    int rc;
    if ((rc = countyd_apply_case_now(a, cid, arena, res, owned, &pl->cur, &pl->last_seq, &pl->t, r,
                                     err)) != 0)
        return rc;
    int64_t now = pl->now = sj_clock_real_ms();
    if ((rc = countyd_apply_check_time(a, act->acted_at_ms, now, r)) != 0)
        return rc;
    /* The client's time is kept in the history, but never later than the
     * county's clock: "updated" must not lie in the future. */
    pl->at = act->acted_at_ms > 0 && act->acted_at_ms <= now ? act->acted_at_ms : now;
    machine_action(a, act, who, &pl->cur, pl->at, &pl->action);
    sj_error why;
    sj_error_clear(&why);
    if ((rc = sj_case_apply(&pl->cur, &pl->action, &who->actor, &pl->out, &why)) != 0) {
        r->case_version = pl->cur.version;
        return countyd_apply_refuse(r, rc, why.message);
    }
    if ((rc = judge_records(a, &pl->action, &pl->cur, who, &pl->out, &pl->department_name,
                            &pl->named, &pl->named_name, r)) != 0)
        r->case_version = pl->cur.version;
    return rc;
}

/* The writes of an accepted action: the case row, then each event with
 * the notification it calls for and its feed row, and in the set-based
 * mode the case as this batch left it. */
static int write_action(countyd_apply *a, const Sanji__CaseAction *act, const actor_info *who,
                        const char *cid, const char *mid, const action_plan *pl,
                        countyd_apply_result *r, sj_error *err)
{
    int rc;
    const sj_actor *actor = &who->actor;
    const sj_case_outcome *out = &pl->out;
    const sj_case *c = &out->next;
    const touched *t = pl->t;
    int64_t at = pl->at;
    /* The events' shares of the history figures go with the case's update;
     * in the set-based mode that update replaces the one an earlier message
     * of the batch made of the case, so it carries that one's too. */
    case_figures fig = t && t->update >= 0 ? t->fig : (case_figures){0};
    for (size_t i = 0; i < out->n_events; i++)
        countyd_apply_event_figures(&out->events[i], at, (sj_satisfaction)act->satisfaction, &fig);
    countyd_apply_before_write(a);
    long update_at = a->pipelined ? (long)a->pipe->n : -1;
    if ((rc = countyd_apply_write_case_row(a, cid, c, &fig, r, err)) != 0)
        return rc;
    int next = pl->last_seq + 1;
    r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED; /* final before the last event's write */
    r->case_version = c->version;
    for (size_t i = 0; i < out->n_events; i++) {
        event_row e = {.case_id = cid, .seq = next + (int)i, .ev = &out->events[i],
                       .person = who->person, .person_name = who->person_name,
                       .node = who->node, .level = sj_role_level(actor->role), .unit = actor->unit,
                       .at_ms = at, .recorded_ms = pl->now, .note = act->note,
                       .result = act->result,
                       .department = pl->department_name ? pl->department_name : act->department,
                       .department_code = pl->department_name ? pl->action.department : NULL,
                       .materials = (const char *const *)act->materials,
                       .n_materials = act->n_materials,
                       .satisfaction = (sj_satisfaction)act->satisfaction, .message_id = mid,
                       .named = pl->named, .named_name = pl->named_name, .figures_on_case = true};
        /* The villager's message is queued with the event that calls for
         * it, in this transaction: exactly once per event. */
        if ((rc = countyd_apply_queue_notification(a, cid, e.seq, &out->events[i], at, r, err)) !=
            0)
            return rc;
        if ((rc = countyd_apply_write_event(a, pl->cur.village, &e, i + 1 == out->n_events, r,
                                            err)) != 0)
            return rc;
    }
    if (countyd_apply_set_mode(a) &&
        (rc = countyd_apply_touched_keep(a, r->case_id, c, next + (int)out->n_events - 1,
                                         r->case_number, t ? t->submit : NULL, update_at, &fig,
                                         err)) != 0)
        return rc;
    r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED;
    r->case_version = c->version;
    return 0;
}

/* Loads the case FOR UPDATE (or takes it as an earlier message of the
 * batch left it), runs the state machine, writes the case, its events and
 * the feed rows.  Shared by nodes' actions and the sweep. */
int countyd_apply_act_on_case(countyd_apply *a, const Sanji__CaseAction *act, const actor_info *who,
                              const char *mid, countyd_apply_result *r, sj_error *err)
{
    char cid[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(r->case_id, cid);
    PGresult *res = NULL;
    bool owned = false;
    countyd_arena arena;
    countyd_arena_init(&arena);
    action_plan pl;
    memset(&pl, 0, sizeof(pl));
    int rc = judge_action(a, act, who, cid, &arena, &res, &owned, &pl, r, err);
    if (rc == 0)
        rc = write_action(a, act, who, cid, mid, &pl, r, err);
    countyd_arena_free(&arena);
    if (owned)
        PQclear(res);
    return rc;
}
