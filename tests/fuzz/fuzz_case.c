/*
 * fuzz_case.c - libFuzzer target for the case state machine (common/domain/case.h)
 * as a decoder of requests: the input picks a case record (status, holder,
 * resolver, version, flags, stored text), an action with its fields (text of
 * any bytes and length) and an actor (role and unit); case_input.c has the
 * layout.
 *
 * Asserts, for sj_case_apply(), sj_case_check() and
 * sj_case_allowed_actions() on the same input:
 *   - every refusal is a table code with an English reason (non-empty,
 *     starting with a lower-case letter, valid UTF-8);
 *   - check and the allowed list agree; apply succeeds only if check does;
 *     when check passes, apply can only refuse for the version or the
 *     fields; when check refuses, apply refuses with the same code, or for a
 *     stale version (check 4 comes before checks 5-8);
 *   - an accepted action moves the case along the lifecycle of case.h
 *     (a table kept here, apart from case.c), raises the version by one
 *     (keeps it for URGE, SUPERVISE, OVERDUE, WARN, DUE_RECOMPUTE,
 *     SET_CARRIER), stamps the time, gives
 *     one event from the current status to the next, and never comes from a
 *     terminal case or a stale version;
 *   - the next case's text is either the current case's, unchanged, or the
 *     action's, valid UTF-8 within its limits; the assignee is the one
 *     named (ASSIGN), the taker (TAKE_OVER), the current one or none (the
 *     case moved on), the carrier the current one or the one named
 *     (SET_CARRIER), ids of the right form; the next case keeps the
 *     machine's invariants (sj_case_check() does not call it malformed);
 *   - REGISTER (sj_case_register()) makes a case only for a village cadre of
 *     that village: registered, version 1, held by the village, one event,
 *     well formed;
 *   - the name functions map every value back (name -> value -> name).
 *
 * Entry point: LLVMFuzzerTestOneInput().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "case_input.h"
#include "err.h"
#include "orgunit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BIT(x) (1u << (unsigned)(x))

static bool is_table_code(int rc)
{
    return rc <= 0 && strcmp(sj_err_name(rc), "UNKNOWN") != 0;
}

static void check_refusal(int rc, const sj_error *err)
{
    if (!is_table_code(rc) || rc == 0 || err->code != rc)
        abort();
    const char *m = err->message;
    if (m[0] < 'a' || m[0] > 'z' || !sj_text_valid(m, SJ_ERROR_MESSAGE_MAX))
        abort();
}

static bool version_exempt(sj_case_action a)
{
    return a == SJ_ACTION_URGE || a == SJ_ACTION_SUPERVISE || a == SJ_ACTION_OVERDUE ||
           a == SJ_ACTION_WARN || a == SJ_ACTION_DUE_RECOMPUTE || a == SJ_ACTION_SET_CARRIER ||
           a == SJ_ACTION_NOTIFIED || a == SJ_ACTION_NOTIFY_FAILED ||
           a == SJ_ACTION_RECTIFY_OVERDUE;
}

/* The lifecycle of case.h, written out apart from case.c: may `action`
 * take a case from `from` to `to`? */
static bool lifecycle_allows(const sj_case *c, sj_case_action action, sj_case_status to)
{
    const unsigned handling = BIT(SJ_STATUS_REGISTERED) | BIT(SJ_STATUS_ACCEPTED_TOWNSHIP) |
                              BIT(SJ_STATUS_ACCEPTED_COUNTY);
    const unsigned open = handling | BIT(SJ_STATUS_ESCALATED_TOWNSHIP) |
                          BIT(SJ_STATUS_ESCALATED_COUNTY) | BIT(SJ_STATUS_WAITING_MATERIALS) |
                          BIT(SJ_STATUS_DISPATCHED) | BIT(SJ_STATUS_DEPARTMENT_HANDLING) |
                          BIT(SJ_STATUS_REPORTED);
    /* 好差评: a 差评 waits for its rectification (UNSATISFIED, or reopened
     * and handled again), then for its call back. */
    const bool bad = c->satisfaction == SJ_SATISFACTION_UNSATISFIED ||
                     c->satisfaction == SJ_SATISFACTION_VERY_UNSATISFIED;
    const bool rectify_open = c->rectified_at_ms == 0 &&
                              (c->status == SJ_STATUS_UNSATISFIED || (bad && (BIT(c->status) & open)));
    const bool callback_due =
        c->rectified_at_ms > 0 && c->called_back_at_ms == 0 &&
        (c->status == SJ_STATUS_UNSATISFIED || c->status == SJ_STATUS_RESOLVED ||
         c->status == SJ_STATUS_RETURNED);
    /* where a department works the case, and where the county reviews it */
    const unsigned department = BIT(SJ_STATUS_DEPARTMENT_HANDLING);
    const unsigned reported = BIT(SJ_STATUS_REPORTED);
    const unsigned active = open | BIT(SJ_STATUS_UNSATISFIED);
    sj_case_status from = c->status;
    unsigned f = BIT(from);
    switch (action) {
    case SJ_ACTION_RESOLVE_AT_ONCE:
        return from == SJ_STATUS_REGISTERED && to == SJ_STATUS_RESOLVED;
    case SJ_ACTION_ESCALATE:
        return (from == SJ_STATUS_REGISTERED && to == SJ_STATUS_ESCALATED_TOWNSHIP) ||
               (from == SJ_STATUS_ACCEPTED_TOWNSHIP && to == SJ_STATUS_ESCALATED_COUNTY);
    case SJ_ACTION_ACCEPT:
        return (from == SJ_STATUS_ESCALATED_TOWNSHIP && to == SJ_STATUS_ACCEPTED_TOWNSHIP) ||
               (from == SJ_STATUS_ESCALATED_COUNTY && to == SJ_STATUS_ACCEPTED_COUNTY);
    case SJ_ACTION_RETURN_DOWN:
        return ((from == SJ_STATUS_ESCALATED_TOWNSHIP || from == SJ_STATUS_ACCEPTED_TOWNSHIP) &&
                to == SJ_STATUS_REGISTERED) ||
               ((from == SJ_STATUS_ESCALATED_COUNTY || from == SJ_STATUS_ACCEPTED_COUNTY) &&
                to == SJ_STATUS_ACCEPTED_TOWNSHIP);
    case SJ_ACTION_REQUEST_MATERIALS:
        return (f & (handling | department)) && to == SJ_STATUS_WAITING_MATERIALS;
    case SJ_ACTION_SUPPLEMENT:
        return from == SJ_STATUS_WAITING_MATERIALS && to == c->resume_status &&
               (BIT(to) & (handling | department));
    case SJ_ACTION_RESOLVE:
        return (f & (handling | reported)) && to == SJ_STATUS_RESOLVED;
    case SJ_ACTION_RETURN_UNDOABLE:
        return ((f & (handling | reported)) || from == SJ_STATUS_WAITING_MATERIALS) &&
               to == SJ_STATUS_RETURNED;
    case SJ_ACTION_DISPATCH:
        return from == SJ_STATUS_ACCEPTED_COUNTY && to == SJ_STATUS_DISPATCHED;
    case SJ_ACTION_TAKE:
        return from == SJ_STATUS_DISPATCHED && to == SJ_STATUS_DEPARTMENT_HANDLING;
    case SJ_ACTION_REFUSE_DISPATCH:
        return from == SJ_STATUS_DISPATCHED && to == SJ_STATUS_ACCEPTED_COUNTY;
    case SJ_ACTION_REPORT:
        return from == SJ_STATUS_DEPARTMENT_HANDLING && to == SJ_STATUS_REPORTED;
    case SJ_ACTION_RETURN_REPORT:
        return from == SJ_STATUS_REPORTED && to == SJ_STATUS_DEPARTMENT_HANDLING;
    case SJ_ACTION_WITHDRAW:
        return (f & open) && to == SJ_STATUS_WITHDRAWN;
    case SJ_ACTION_URGE:
    case SJ_ACTION_SUPERVISE:
        return (f & active) && to == from;
    case SJ_ACTION_OVERDUE:
    case SJ_ACTION_WARN: /* the clock stands while waiting for materials */
        return (f & active) && from != SJ_STATUS_WAITING_MATERIALS && to == from;
    case SJ_ACTION_NOTIFIED:
    case SJ_ACTION_NOTIFY_FAILED: /* a message waits; recorded on any case not finished */
        return c->notify == SJ_NOTIFY_PENDING && to == from;
    case SJ_ACTION_EXTEND_REQUEST:
        return ((f & handling) || from == SJ_STATUS_WAITING_MATERIALS) &&
               c->extension_days == 0 && to == from;
    case SJ_ACTION_EXTEND_APPROVE:
    case SJ_ACTION_EXTEND_REFUSE:
        return (f & open) && c->extension_days > 0 && to == from;
    case SJ_ACTION_FEEDBACK: /* not while a call back is due (好差评) */
        return (from == SJ_STATUS_RESOLVED || from == SJ_STATUS_RETURNED) && !callback_due &&
               (to == SJ_STATUS_CLOSED || to == SJ_STATUS_UNSATISFIED);
    case SJ_ACTION_REOPEN: {
        sj_case_status back = c->resolved_level == SJ_LEVEL_VILLAGE    ? SJ_STATUS_REGISTERED
                              : c->resolved_level == SJ_LEVEL_TOWNSHIP ? SJ_STATUS_ACCEPTED_TOWNSHIP
                                                                       : SJ_STATUS_ACCEPTED_COUNTY;
        return from == SJ_STATUS_UNSATISFIED && c->rectified_at_ms == 0 && to == back;
    }
    case SJ_ACTION_CLOSE: /* a 差评 is rectified and called back, not closed */
        return (from == SJ_STATUS_RESOLVED || from == SJ_STATUS_RETURNED) && !callback_due &&
               to == SJ_STATUS_CLOSED;
    case SJ_ACTION_RECTIFY:
        return from == SJ_STATUS_UNSATISFIED && c->rectified_at_ms == 0 && to == from;
    case SJ_ACTION_RECTIFY_OVERDUE:
        return rectify_open && !c->rectify_late && c->rectify_due_at_ms > 0 && to == from;
    case SJ_ACTION_CALLBACK:
        return callback_due && to == SJ_STATUS_CLOSED;
    case SJ_ACTION_ASSIGN:
    case SJ_ACTION_TAKE_OVER:
    case SJ_ACTION_SET_CARRIER:
        return (f & (active | BIT(SJ_STATUS_RESOLVED) | BIT(SJ_STATUS_RETURNED))) && to == from;
    default:
        return false; /* REGISTER goes through sj_case_register() */
    }
}

/* A text of the next case: the current case's own pointer, or the action's
 * (then valid within max). */
static void check_text(const char *next, const char *cur, const char *act, size_t max)
{
    if (next == NULL || next == cur)
        return;
    if (next != act || !sj_text_valid(next, max))
        abort();
}

static void check_outcome(const sj_case *c, const sj_action *a, const sj_actor *actor,
                          const sj_case_outcome *o)
{
    const sj_case *n = &o->next;
    if (sj_case_is_terminal(c->status) || !lifecycle_allows(c, a->type, n->status))
        abort();
    if (!version_exempt(a->type) && a->expected_version != c->version)
        abort();
    if (n->version != c->version + (version_exempt(a->type) ? 0 : 1))
        abort();
    if (n->updated_at_ms != a->at_ms || a->at_ms <= 0)
        abort();
    if (sj_case_is_terminal(n->status) && n->closed_at_ms != a->at_ms)
        abort();
    if (o->n_events != 1 || o->events[0].action != a->type ||
        o->events[0].from_status != c->status || o->events[0].to_status != n->status)
        abort();
    if (memcmp(n->village, c->village, SJ_UNIT_CODE_SIZE) != 0)
        abort();
    /* Notifying the villager: "do not notify" stays; a result the villager
     * is told of queues a message; only the county's records end one. */
    sj_notify_kind kind = o->events[0].notify;
    if (c->notify == SJ_NOTIFY_OFF && (n->notify != SJ_NOTIFY_OFF || kind))
        abort();
    if (kind && (n->notify != SJ_NOTIFY_PENDING || n->status == c->status ||
                 (n->status != SJ_STATUS_RESOLVED && n->status != SJ_STATUS_RETURNED &&
                  n->status != SJ_STATUS_WAITING_MATERIALS)))
        abort();
    if (!kind && a->type != SJ_ACTION_NOTIFIED && a->type != SJ_ACTION_NOTIFY_FAILED &&
        (n->notify != c->notify || n->notify_attempts != c->notify_attempts))
        abort();
    if (a->type == SJ_ACTION_NOTIFIED && (n->notify != SJ_NOTIFY_SENT || a->notify_attempt == 0))
        abort();
    check_text(n->department, c->department, a->department, SJ_CASE_NAME_MAX);
    check_text(n->department_code, c->department_code, a->department, SJ_DEPARTMENT_CODE_MAX);
    if (n->department_code != c->department_code && n->department_code &&
        !sj_department_code_valid(n->department_code))
        abort();
    check_text(n->result, c->result, a->result, SJ_CASE_TEXT_MAX);
    check_text(n->return_reason, c->return_reason, a->note, SJ_CASE_TEXT_MAX);
    if (n->materials != c->materials) {
        if (n->materials != a->materials || n->n_materials != a->n_materials ||
            n->n_materials < 1 || n->n_materials > SJ_CASE_MATERIALS_MAX)
            abort();
        for (size_t i = 0; i < n->n_materials; i++)
            if (n->materials[i] == NULL || n->materials[i][0] == '\0' ||
                !sj_text_valid(n->materials[i], SJ_CASE_NAME_MAX))
                abort();
    } else if (n->n_materials != c->n_materials) {
        abort();
    }
    /* The assignee: the current one, kept or (the case moved on) dropped;
     * the person ASSIGN names; the one who takes it over.  The carrier: the
     * current one, or the one SET_CARRIER names. */
    if (a->type == SJ_ACTION_ASSIGN) {
        if (n->assignee != a->person || !sj_person_id_valid(n->assignee) || n->assignee_name)
            abort();
    } else if (a->type == SJ_ACTION_TAKE_OVER) {
        if (n->assignee != actor->person || !sj_person_id_valid(n->assignee) ||
            (c->assignee && strcmp(c->assignee, actor->person) == 0))
            abort();
    } else if (!(n->assignee == c->assignee && n->assignee_name == c->assignee_name) &&
               !(n->assignee == NULL && n->assignee_name == NULL)) {
        abort();
    }
    if (a->type == SJ_ACTION_SET_CARRIER) {
        if (n->carrier != a->person || !sj_person_id_valid(n->carrier))
            abort();
    } else if (n->carrier != c->carrier || n->carrier_name != c->carrier_name) {
        abort();
    }
    /* The invariants: the county may look at the next case without it being
     * called malformed (a terminal case is refused as terminal). */
    sj_actor county = {.role = SJ_ROLE_COUNTY_OPERATOR};
    if (sj_orgunit_county_of(n->village, county.unit) != 0)
        abort();
    sj_error err;
    int rc = sj_case_check(n, SJ_ACTION_URGE, &county, &err);
    if (rc == SJ_EINVAL)
        abort();
}

static void check_names(const sj_case *c, const sj_action *a, const sj_actor *actor)
{
    if (c->status > SJ_STATUS_NONE && c->status < SJ_STATUS_COUNT &&
        sj_case_status_from_name(sj_case_status_name(c->status)) != c->status)
        abort();
    const char *an = sj_case_action_name(a->type);
    if (a->type > SJ_ACTION_NONE && a->type < SJ_ACTION_COUNT && strcmp(an, "unknown") != 0 &&
        sj_case_action_from_name(an) != a->type)
        abort();
    if (sj_role_level(actor->role) != SJ_LEVEL_NONE &&
        sj_role_from_name(sj_role_name(actor->role)) != actor->role)
        abort();
    /* Out-of-range values have a name too, never NULL. */
    if (sj_case_status_name(c->status) == NULL || sj_level_name(c->holder_level) == NULL ||
        sj_satisfaction_name(a->satisfaction) == NULL || sj_handling_name(c->handling) == NULL)
        abort();
}

/* REGISTER has its own entry: a new case for the input's village. */
static void fuzz_register(const sj_case *c, const sj_action *a, const sj_actor *actor)
{
    sj_case_outcome out;
    sj_error err;
    int rc = sj_case_register(c->village, c->item_min_level, a->at_ms, actor, &out, &err);
    if (rc != 0) {
        check_refusal(rc, &err);
        return;
    }
    const sj_case *n = &out.next;
    if (actor->role != SJ_ROLE_VILLAGE_CADRE || !sj_case_in_scope(c->village, actor) ||
        n->status != SJ_STATUS_REGISTERED || n->version != 1 ||
        n->holder_level != SJ_LEVEL_VILLAGE || strcmp(n->holder_unit, n->village) != 0 ||
        strncmp(n->village, c->village, SJ_UNIT_CODE_SIZE) != 0 || n->updated_at_ms != a->at_ms ||
        out.n_events != 1 || out.events[0].action != SJ_ACTION_REGISTER ||
        out.events[0].from_status != SJ_STATUS_NONE ||
        out.events[0].to_status != SJ_STATUS_REGISTERED)
        abort();
    /* A new case is well formed: its own village may act on it. */
    if (sj_case_check(n, SJ_ACTION_ESCALATE, actor, &err) == SJ_EINVAL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_case_input in;
    if (fuzz_case_input_decode(data, size, &in) != 0)
        return 0;
    const sj_case *c = &in.cur;
    const sj_action *a = &in.act;
    const sj_actor *actor = &in.actor;
    check_names(c, a, actor);
    if (a->type == SJ_ACTION_REGISTER)
        fuzz_register(c, a, actor);

    sj_error err_apply, err_check;
    sj_case_outcome out;
    memset(&out, 0xA5, sizeof(out));
    sj_case_outcome untouched = out;
    int rc_apply = sj_case_apply(c, a, actor, &out, &err_apply);
    int rc_check = sj_case_check(c, a->type, actor, &err_check);

    sj_case_action allowed[SJ_ACTION_COUNT + 1];
    size_t n = sj_case_allowed_actions(c, actor, allowed, SJ_ACTION_COUNT + 1);
    bool listed = false;
    for (size_t i = 0; i < n; i++) {
        if ((i > 0 && allowed[i] <= allowed[i - 1]) ||
            sj_case_check(c, allowed[i], actor, NULL) != 0)
            abort();
        listed |= allowed[i] == a->type;
    }
    if (listed != (rc_check == 0))
        abort();

    if (rc_check != 0)
        check_refusal(rc_check, &err_check);
    if (rc_apply != 0) {
        check_refusal(rc_apply, &err_apply);
        if (memcmp(&out, &untouched, sizeof(out)) != 0)
            abort(); /* header: out is untouched on refusal */
        if (rc_check == 0) {
            /* DUE_RECOMPUTE needs the county's calendar, which no action
             * here carries (case.h). */
            if (rc_apply != SJ_ESTALE_VERSION && rc_apply != SJ_EMISSING_FIELD &&
                rc_apply != SJ_EBAD_FIELD &&
                !(a->type == SJ_ACTION_DUE_RECOMPUTE && rc_apply == SJ_EINVAL))
                abort();
        } else if (rc_apply != rc_check &&
                   !(rc_apply == SJ_ESTALE_VERSION &&
                     (rc_check == SJ_EWRONG_ROLE || rc_check == SJ_ENOT_ALLOWED ||
                      rc_check == SJ_EWRONG_LEVEL || rc_check == SJ_ELEVEL_TOO_LOW))) {
            abort();
        }
    } else {
        if (rc_check != 0)
            abort();
        check_outcome(c, a, actor, &out);
    }
    fuzz_case_input_free(&in);
    return 0;
}
