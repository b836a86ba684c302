/*
 * case.c - the case state machine (see case.h for the rules table and the
 * order of checks; docs/LIFECYCLE.md for the same in prose).
 *
 * Pure: no I/O, no clock, no allocation, no global state.  Every refusal is
 * a constant English string marked with N_() so that the message catalogue
 * can translate it at the edge, keyed by the English text.
 *
 * Entry points: sj_case_register(), sj_case_apply(), sj_case_check(),
 * sj_case_check_submit(), sj_case_action_fields(),
 * sj_case_allowed_actions(), sj_case_in_scope(), sj_case_is_terminal(),
 * sj_case_is_active(), sj_role_level(), sj_text_valid(), and the name
 * functions.
 */
#include "case.h"

#include <string.h>

#include "calendar.h"
#include "i18n.h" /* N_(): marks refusals for xgettext; translated at the edge */
#include "orgunit.h"
#include "refusal.h" /* SJ_REFUSAL_JOIN only: nothing is translated here */
#include "utf8.h"

_Static_assert(SJ_UNIT_CODE_SIZE == SJ_ORGUNIT_CODE_SIZE, "unit code sizes differ");

/* --- names ---------------------------------------------------------------- */

static const char *const status_names[SJ_STATUS_COUNT] = {
    "none",     "registered", "escalated_township", "accepted_township",
    "escalated_county", "accepted_county", "waiting_materials", "resolved",
    "returned", "unsatisfied", "closed", "withdrawn", "dispatched", "department_handling",
    "reported",
};

static const char *const action_names[SJ_ACTION_COUNT] = {
    "none",   "register", "resolve_at_once", "escalate", "accept",  "return_down",
    "request_materials", "supplement", "resolve", "return_undoable", "withdraw",
    "urge",   "feedback", "reopen", "close", "supervise", "overdue", "warn",
    "dispatch", "take", "refuse_dispatch", "report", "return_report",
    [SJ_ACTION_EXTEND_REQUEST] = "extend_request",
    [SJ_ACTION_EXTEND_APPROVE] = "extend_approve",
    [SJ_ACTION_EXTEND_REFUSE] = "extend_refuse",
    [SJ_ACTION_DUE_RECOMPUTE] = "due_recompute",
    [SJ_ACTION_ASSIGN] = "assign",
    [SJ_ACTION_TAKE_OVER] = "take_over",
    [SJ_ACTION_SET_CARRIER] = "set_carrier",
    [SJ_ACTION_NOTIFIED] = "notified",
    [SJ_ACTION_NOTIFY_FAILED] = "notify_failed",
    [SJ_ACTION_RECTIFY] = "rectify",
    [SJ_ACTION_CALLBACK] = "callback",
    [SJ_ACTION_RECTIFY_OVERDUE] = "rectify_overdue",
};

static const char *const notify_state_names[] = {"none", "pending", "sent", "failed", "off"};
static const char *const notify_kind_names[] = {"none", "resolved", "returned", "materials"};

static const char *const level_names[] = {"none", "village", "township", "county"};

static const char *const handling_names[] = {
    "none", "at_once", "undertaken", "on_behalf", "supplemented", "returned",
};

static const char *const satisfaction_names[] = {
    "none", "satisfied", "basically_satisfied", "unsatisfied", "very_satisfied",
    "very_unsatisfied",
};

const sj_satisfaction sj_satisfaction_scale[SJ_SATISFACTION_LEVELS] = {
    SJ_SATISFACTION_VERY_SATISFIED, SJ_SATISFACTION_SATISFIED, SJ_SATISFACTION_BASICALLY,
    SJ_SATISFACTION_UNSATISFIED,    SJ_SATISFACTION_VERY_UNSATISFIED,
};

bool sj_satisfaction_is_bad(sj_satisfaction s)
{
    return s == SJ_SATISFACTION_UNSATISFIED || s == SJ_SATISFACTION_VERY_UNSATISFIED;
}

bool sj_satisfaction_is_good(sj_satisfaction s)
{
    return s == SJ_SATISFACTION_SATISFIED || s == SJ_SATISFACTION_BASICALLY ||
           s == SJ_SATISFACTION_VERY_SATISFIED;
}

#define SJ__COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, int value)
{
    if (value < 0 || (size_t)value >= n || !names[value])
        return "unknown";
    return names[value];
}

static int value_of(const char *const *names, size_t n, const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return (int)i;
    return 0;
}

const char *sj_case_status_name(sj_case_status status)
{
    return name_of(status_names, SJ__COUNT(status_names), (int)status);
}

const char *sj_case_action_name(sj_case_action action)
{
    return name_of(action_names, SJ__COUNT(action_names), (int)action);
}

const char *sj_level_name(sj_level level)
{
    return name_of(level_names, SJ__COUNT(level_names), (int)level);
}

const char *sj_handling_name(sj_handling handling)
{
    return name_of(handling_names, SJ__COUNT(handling_names), (int)handling);
}

const char *sj_satisfaction_name(sj_satisfaction satisfaction)
{
    return name_of(satisfaction_names, SJ__COUNT(satisfaction_names), (int)satisfaction);
}

const char *sj_notify_state_name(sj_notify_state state)
{
    return name_of(notify_state_names, SJ__COUNT(notify_state_names), (int)state);
}

const char *sj_notify_kind_name(sj_notify_kind kind)
{
    return name_of(notify_kind_names, SJ__COUNT(notify_kind_names), (int)kind);
}

const char *sj_role_name(sj_person_role role)
{
    switch (role) {
    case SJ_ROLE_NONE:
        return "none";
    case SJ_ROLE_VILLAGE_CADRE:
        return "village_cadre";
    case SJ_ROLE_TOWNSHIP_STAFF:
        return "township_staff";
    case SJ_ROLE_COUNTY_OPERATOR:
        return "county_operator";
    case SJ_ROLE_DEPARTMENT_STAFF:
        return "department_staff";
    case SJ_ROLE_SYSTEM:
        return "system";
    }
    return "unknown";
}

sj_case_status sj_case_status_from_name(const char *name)
{
    return (sj_case_status)value_of(status_names, SJ__COUNT(status_names), name);
}

sj_case_action sj_case_action_from_name(const char *name)
{
    return (sj_case_action)value_of(action_names, SJ__COUNT(action_names), name);
}

sj_level sj_level_from_name(const char *name)
{
    return (sj_level)value_of(level_names, SJ__COUNT(level_names), name);
}

sj_handling sj_handling_from_name(const char *name)
{
    return (sj_handling)value_of(handling_names, SJ__COUNT(handling_names), name);
}

sj_satisfaction sj_satisfaction_from_name(const char *name)
{
    return (sj_satisfaction)value_of(satisfaction_names, SJ__COUNT(satisfaction_names), name);
}

sj_person_role sj_role_from_name(const char *name)
{
    static const sj_person_role roles[] = {SJ_ROLE_VILLAGE_CADRE, SJ_ROLE_TOWNSHIP_STAFF,
                                           SJ_ROLE_COUNTY_OPERATOR, SJ_ROLE_DEPARTMENT_STAFF,
                                           SJ_ROLE_SYSTEM};
    if (!name)
        return SJ_ROLE_NONE;
    for (size_t i = 0; i < SJ__COUNT(roles); i++)
        if (strcmp(sj_role_name(roles[i]), name) == 0)
            return roles[i];
    return SJ_ROLE_NONE;
}

/* --- small predicates ------------------------------------------------------ */

#define SJ__BIT(x) (1u << (unsigned)(x))

#define SJ__OPEN                                                                                   \
    (SJ__BIT(SJ_STATUS_REGISTERED) | SJ__BIT(SJ_STATUS_ESCALATED_TOWNSHIP) |                      \
     SJ__BIT(SJ_STATUS_ACCEPTED_TOWNSHIP) | SJ__BIT(SJ_STATUS_ESCALATED_COUNTY) |                 \
     SJ__BIT(SJ_STATUS_ACCEPTED_COUNTY) | SJ__BIT(SJ_STATUS_WAITING_MATERIALS) |                \
     SJ__BIT(SJ_STATUS_DISPATCHED) | SJ__BIT(SJ_STATUS_DEPARTMENT_HANDLING) |                     \
     SJ__BIT(SJ_STATUS_REPORTED))
#define SJ__ACTIVE (SJ__OPEN | SJ__BIT(SJ_STATUS_UNSATISFIED))
/* Active and the clock runs: not while the case waits for materials. */
#define SJ__RUNNING (SJ__ACTIVE & ~SJ__BIT(SJ_STATUS_WAITING_MATERIALS))
/* Every status but the terminal ones: a case is assigned, taken over and
 * given a carrier wherever it stands. */
#define SJ__NOT_TERMINAL                                                                           \
    (SJ__ACTIVE | SJ__BIT(SJ_STATUS_RESOLVED) | SJ__BIT(SJ_STATUS_RETURNED))
#define SJ__HANDLING                                                                               \
    (SJ__BIT(SJ_STATUS_REGISTERED) | SJ__BIT(SJ_STATUS_ACCEPTED_TOWNSHIP) |                       \
     SJ__BIT(SJ_STATUS_ACCEPTED_COUNTY))

static bool status_in(sj_case_status status, unsigned mask)
{
    return status > SJ_STATUS_NONE && status < SJ_STATUS_COUNT && (mask & SJ__BIT(status));
}

bool sj_case_is_terminal(sj_case_status status)
{
    return status == SJ_STATUS_CLOSED || status == SJ_STATUS_WITHDRAWN;
}

bool sj_case_is_active(sj_case_status status)
{
    return status_in(status, SJ__ACTIVE);
}

sj_level sj_role_level(sj_person_role role)
{
    switch (role) {
    case SJ_ROLE_VILLAGE_CADRE:
        return SJ_LEVEL_VILLAGE;
    case SJ_ROLE_TOWNSHIP_STAFF:
        return SJ_LEVEL_TOWNSHIP;
    case SJ_ROLE_COUNTY_OPERATOR:
    case SJ_ROLE_DEPARTMENT_STAFF:
    case SJ_ROLE_SYSTEM:
        return SJ_LEVEL_COUNTY;
    case SJ_ROLE_NONE:
        break;
    }
    return SJ_LEVEL_NONE;
}

/* The status in which a level handles a case (and to which REOPEN and
 * SUPPLEMENT return). */
static sj_case_status handling_status(sj_level level)
{
    switch (level) {
    case SJ_LEVEL_VILLAGE:
        return SJ_STATUS_REGISTERED;
    case SJ_LEVEL_TOWNSHIP:
        return SJ_STATUS_ACCEPTED_TOWNSHIP;
    case SJ_LEVEL_COUNTY:
        return SJ_STATUS_ACCEPTED_COUNTY;
    case SJ_LEVEL_NONE:
        break;
    }
    return SJ_STATUS_NONE;
}

/* Levels at which a case in `status` can be held (bit per sj_level). */
static unsigned holder_levels(sj_case_status status)
{
    const unsigned v = SJ__BIT(SJ_LEVEL_VILLAGE), t = SJ__BIT(SJ_LEVEL_TOWNSHIP),
                   c = SJ__BIT(SJ_LEVEL_COUNTY);
    switch (status) {
    case SJ_STATUS_REGISTERED:
    case SJ_STATUS_RESOLVED:
    case SJ_STATUS_RETURNED:
    case SJ_STATUS_WITHDRAWN:
        return v;
    case SJ_STATUS_ESCALATED_TOWNSHIP:
    case SJ_STATUS_ACCEPTED_TOWNSHIP:
        return t;
    case SJ_STATUS_ESCALATED_COUNTY:
    case SJ_STATUS_ACCEPTED_COUNTY:
    case SJ_STATUS_DISPATCHED:
    case SJ_STATUS_DEPARTMENT_HANDLING:
    case SJ_STATUS_REPORTED:
        return c;
    case SJ_STATUS_WAITING_MATERIALS:
    case SJ_STATUS_UNSATISFIED:
    case SJ_STATUS_CLOSED:
        return v | t | c;
    case SJ_STATUS_NONE:
        break;
    }
    return 0;
}

/* True if `unit` is exactly the unit at `level` above (or equal to) village. */
static bool unit_is(const char *village, sj_level level, const char *unit)
{
    char want[SJ_ORGUNIT_CODE_SIZE];
    if (sj_orgunit_at_level(village, level, want) != 0)
        return false;
    return strncmp(want, unit, SJ_ORGUNIT_CODE_SIZE) == 0;
}

static bool valid_level(sj_level level)
{
    return level >= SJ_LEVEL_VILLAGE && level <= SJ_LEVEL_COUNTY;
}

bool sj_department_code_valid(const char *code)
{
    if (!code)
        return false;
    size_t len = strnlen(code, SJ_DEPARTMENT_CODE_SIZE);
    if (len == 0 || len > SJ_DEPARTMENT_CODE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = code[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
            return false;
    }
    return true;
}

bool sj_person_id_valid(const char *id)
{
    if (!id)
        return false;
    size_t len = strnlen(id, SJ_PERSON_ID_SIZE);
    if (len == 0 || len > SJ_PERSON_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = id[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

bool sj_case_rectify_open(const sj_case *c)
{
    if (!c || c->rectified_at_ms > 0)
        return false;
    return c->status == SJ_STATUS_UNSATISFIED ||
           (sj_satisfaction_is_bad(c->satisfaction) && status_in(c->status, SJ__OPEN));
}

bool sj_case_callback_due(const sj_case *c)
{
    return c && c->rectified_at_ms > 0 && c->called_back_at_ms == 0 &&
           (c->status == SJ_STATUS_UNSATISFIED || c->status == SJ_STATUS_RESOLVED ||
            c->status == SJ_STATUS_RETURNED);
}

bool sj_case_department_holds(const sj_case *c)
{
    return c && (c->status == SJ_STATUS_DISPATCHED ||
                 c->status == SJ_STATUS_DEPARTMENT_HANDLING ||
                 (c->status == SJ_STATUS_WAITING_MATERIALS &&
                  c->resume_status == SJ_STATUS_DEPARTMENT_HANDLING));
}

static bool actor_valid(const sj_actor *actor)
{
    sj_level level = sj_role_level(actor->role);
    if (level == SJ_LEVEL_NONE || sj_orgunit_level(actor->unit) != level)
        return false;
    return actor->role != SJ_ROLE_DEPARTMENT_STAFF || sj_department_code_valid(actor->department);
}

/* Returns NULL if the case record is consistent, else what is wrong.  The
 * machine relies on these invariants, and every case it produces keeps
 * them; a record that breaks one was built wrongly by its caller. */
static const char *case_problem(const sj_case *c)
{
    if (sj_orgunit_level(c->village) != SJ_LEVEL_VILLAGE)
        return N_("the case record has no valid village code; reload the case from the county");
    if (!valid_level(c->item_min_level))
        return N_("the case record has no valid item level; reload the case from the county");
    if (c->status <= SJ_STATUS_NONE || c->status >= SJ_STATUS_COUNT)
        return N_("the case record has an unknown status; update the program or reload the case");
    if (!valid_level(c->holder_level) || !(holder_levels(c->status) & SJ__BIT(c->holder_level)) ||
        !unit_is(c->village, c->holder_level, c->holder_unit))
        return N_("the case record's holder does not fit its status or village; reload the case "
                  "from the county");
    if (c->status == SJ_STATUS_WAITING_MATERIALS &&
        c->resume_status != handling_status(c->holder_level) &&
        !(c->holder_level == SJ_LEVEL_COUNTY &&
          c->resume_status == SJ_STATUS_DEPARTMENT_HANDLING))
        return N_("the case record waits for materials but has no valid status to resume; "
                  "reload the case from the county");
    if ((sj_case_department_holds(c) || c->status == SJ_STATUS_REPORTED) &&
        !sj_department_code_valid(c->department_code))
        return N_("the case record is with a department but does not say which; reload the "
                  "case from the county");
    if (c->status == SJ_STATUS_RESOLVED || c->status == SJ_STATUS_RETURNED ||
        c->status == SJ_STATUS_UNSATISFIED) {
        if (!valid_level(c->resolved_level) ||
            !unit_is(c->village, c->resolved_level, c->resolved_unit))
            return N_("the case record is resolved but does not say by whom; reload the case "
                      "from the county");
        if (c->status == SJ_STATUS_UNSATISFIED && c->resolved_level != c->holder_level)
            return N_("the case record is unsatisfied but not held by its resolver; reload the "
                      "case from the county");
    }
    if (c->n_materials > 0 && !c->materials)
        return N_("the case record counts materials but has no list; reload the case from the "
                  "county");
    return NULL;
}

bool sj_case_in_scope(const char *village, const sj_actor *actor)
{
    if (!village || !actor || !actor_valid(actor) ||
        sj_orgunit_level(village) != SJ_LEVEL_VILLAGE)
        return false;
    return sj_orgunit_contains(actor->unit, village);
}

/* --- the rules ------------------------------------------------------------- */

#define SJ__V SJ__BIT(SJ_ROLE_VILLAGE_CADRE)
#define SJ__T SJ__BIT(SJ_ROLE_TOWNSHIP_STAFF)
#define SJ__C SJ__BIT(SJ_ROLE_COUNTY_OPERATOR)
#define SJ__D SJ__BIT(SJ_ROLE_DEPARTMENT_STAFF)
#define SJ__S SJ__BIT(SJ_ROLE_SYSTEM)

/* Checks 5 and 6 for each action, and the messages of checks 5-7. */
typedef struct rule {
    unsigned roles;    /* bit per sj_person_role */
    unsigned statuses; /* bit per sj_case_status */
    const char *wrong_role;
    const char *not_allowed;
    const char *wrong_level;
} rule;

static const rule rules[SJ_ACTION_COUNT] = {
    [SJ_ACTION_REGISTER] = {
        SJ__V, 0,
        N_("only a village duty cadre registers a case, at the station of the applicant's village"),
        N_("the case is already registered; act on the existing case instead of registering it "
           "again"),
        NULL,
    },
    [SJ_ACTION_RESOLVE_AT_ONCE] = {
        SJ__V, SJ__BIT(SJ_STATUS_REGISTERED),
        N_("only a village duty cadre resolves a case at once (即办); the township and the "
           "county use resolve"),
        N_("a case can be resolved at once only while it is registered at the village; use an "
           "action that fits its current status"),
        N_("only the village holding the case can resolve it at once; it is held at another "
           "level"),
    },
    [SJ_ACTION_ESCALATE] = {
        SJ__V | SJ__T, SJ__BIT(SJ_STATUS_REGISTERED) | SJ__BIT(SJ_STATUS_ACCEPTED_TOWNSHIP),
        N_("only a village cadre or township staff can escalate a case; the county is the top "
           "level"),
        N_("a case can be escalated only while the village holds it or after the township "
           "accepted it; accept it first"),
        N_("only the level holding the case can escalate it; it is waiting at another level"),
    },
    [SJ_ACTION_ACCEPT] = {
        SJ__T | SJ__C, SJ__BIT(SJ_STATUS_ESCALATED_TOWNSHIP) | SJ__BIT(SJ_STATUS_ESCALATED_COUNTY),
        N_("only township staff or a county operator can accept a case"),
        N_("a case can be accepted only after it was escalated and before it was accepted"),
        N_("only the township or county that holds the case can accept it; it is waiting at "
           "another level"),
    },
    [SJ_ACTION_RETURN_DOWN] = {
        SJ__T | SJ__C,
        SJ__BIT(SJ_STATUS_ESCALATED_TOWNSHIP) | SJ__BIT(SJ_STATUS_ACCEPTED_TOWNSHIP) |
            SJ__BIT(SJ_STATUS_ESCALATED_COUNTY) | SJ__BIT(SJ_STATUS_ACCEPTED_COUNTY),
        N_("only township staff or a county operator can send a case back down one level"),
        N_("a case can be sent back down only while it is escalated to or accepted by the "
           "township or the county"),
        N_("only the level holding the case can send it back down; it is held at another level"),
    },
    [SJ_ACTION_REQUEST_MATERIALS] = {
        SJ__V | SJ__T | SJ__C | SJ__D, SJ__HANDLING | SJ__BIT(SJ_STATUS_DEPARTMENT_HANDLING),
        N_("the supervision sweep cannot request materials; the level handling the case does"),
        N_("materials can be requested only while a level or a department handles the case "
           "(registered at the village, accepted by the township or county, or taken by a "
           "department); accept or take it first"),
        N_("only the level holding the case can request materials; it is held at another level"),
    },
    [SJ_ACTION_SUPPLEMENT] = {
        SJ__V | SJ__T | SJ__C | SJ__D, SJ__BIT(SJ_STATUS_WAITING_MATERIALS),
        N_("the supervision sweep cannot record materials; the village or the level that asked "
           "for them does"),
        N_("materials can be supplemented only while the case waits for materials"),
        N_("only the case's village or the level that asked for the materials can record that "
           "they came in"),
    },
    [SJ_ACTION_RESOLVE] = {
        SJ__V | SJ__T | SJ__C, SJ__HANDLING | SJ__BIT(SJ_STATUS_REPORTED),
        N_("only the village, the township or the county resolves a case; a department reports "
           "back (回单) and the county sends the result down"),
        N_("a case can be resolved only while a level handles it (registered at the village, "
           "accepted by the township or county) or after a department reported back; accept "
           "it first"),
        N_("only the level holding the case can resolve it; it is held at another level"),
    },
    [SJ_ACTION_RETURN_UNDOABLE] = {
        SJ__V | SJ__T | SJ__C,
        SJ__HANDLING | SJ__BIT(SJ_STATUS_WAITING_MATERIALS) | SJ__BIT(SJ_STATUS_REPORTED),
        N_("only the village, the township or the county returns a case as undoable (退办); a "
           "department reports back (回单) and the county decides"),
        N_("a case can be returned as undoable (退办) only while a level handles it, waits "
           "for its materials or after a department reported back; accept it first"),
        N_("only the level holding the case can return it as undoable; it is held at another "
           "level"),
    },
    [SJ_ACTION_WITHDRAW] = {
        SJ__V, SJ__OPEN,
        N_("only the village duty cadre records that the applicant withdraws a case"),
        N_("a case can be withdrawn only while it is open; a resolved or returned case gets "
           "feedback or is closed"),
        NULL,
    },
    [SJ_ACTION_URGE] = {
        SJ__V | SJ__T | SJ__C, SJ__ACTIVE,
        N_("urging (催办) is done by a person; the supervision sweep marks cases overdue instead"),
        N_("only an active case can be urged; this one is already resolved or returned"),
        N_("the level holding the case cannot urge itself; urge a case held at another level"),
    },
    [SJ_ACTION_FEEDBACK] = {
        SJ__V, SJ__BIT(SJ_STATUS_RESOLVED) | SJ__BIT(SJ_STATUS_RETURNED),
        N_("only the village duty cadre records the villager's feedback"),
        N_("feedback can be recorded only after the case is resolved or returned"),
        N_("only the village holding the resolved case can record feedback"),
    },
    [SJ_ACTION_REOPEN] = {
        SJ__V | SJ__T | SJ__C, SJ__BIT(SJ_STATUS_UNSATISFIED),
        N_("the supervision sweep cannot reopen a case; the level that resolved it or the "
           "county does"),
        N_("only a case with unsatisfied feedback can be reopened"),
        N_("only the level that resolved the case, or the county, can reopen it"),
    },
    [SJ_ACTION_CLOSE] = {
        SJ__V | SJ__T | SJ__C,
        SJ__BIT(SJ_STATUS_RESOLVED) | SJ__BIT(SJ_STATUS_RETURNED),
        N_("the supervision sweep cannot close a case; the village does"),
        N_("a case can be closed only after it is resolved or returned; after a bad evaluation "
           "(差评) it is rectified and the villager called back (回访), which closes it"),
        N_("a resolved or returned case is closed by its village"),
    },
    [SJ_ACTION_RECTIFY] = {
        SJ__V | SJ__T | SJ__C, SJ__BIT(SJ_STATUS_UNSATISFIED),
        N_("the supervision sweep cannot rectify a case; the level that resolved it or the "
           "county does"),
        N_("only a case with a bad evaluation (差评) waiting for rectification can be marked "
           "rectified (整改完成)"),
        N_("only the level that resolved the case, or the county, rectifies it"),
    },
    [SJ_ACTION_CALLBACK] = {
        SJ__V, SJ__BIT(SJ_STATUS_UNSATISFIED) | SJ__BIT(SJ_STATUS_RESOLVED) |
                   SJ__BIT(SJ_STATUS_RETURNED),
        N_("only the village duty cadre calls the villager back (回访)"),
        N_("the villager is called back (回访) only after a bad evaluation (差评) has been "
           "rectified"),
        NULL,
    },
    [SJ_ACTION_RECTIFY_OVERDUE] = {
        SJ__S, SJ__BIT(SJ_STATUS_UNSATISFIED) | SJ__OPEN,
        N_("only the county's supervision sweep marks a rectification overdue"),
        N_("only a rectification still open and not yet marked can be marked overdue"),
        NULL,
    },
    [SJ_ACTION_SUPERVISE] = {
        SJ__C, SJ__ACTIVE,
        N_("only a county operator can put a case under supervision (督办)"),
        N_("only an active case can be put under supervision"),
        NULL,
    },
    [SJ_ACTION_OVERDUE] = {
        SJ__S, SJ__RUNNING,
        N_("only the county's supervision sweep marks a case overdue"),
        N_("only an active case whose time limit runs can be marked overdue; while it waits for "
           "the villager's materials the clock stands"),
        NULL,
    },
    [SJ_ACTION_WARN] = {
        SJ__S, SJ__RUNNING,
        N_("only the county's supervision sweep issues time-limit warnings"),
        N_("only an active case whose time limit runs can be warned about it; while it waits "
           "for the villager's materials the clock stands"),
        NULL,
    },
    [SJ_ACTION_EXTEND_REQUEST] = {
        SJ__V | SJ__T | SJ__C | SJ__D,
        SJ__HANDLING | SJ__BIT(SJ_STATUS_WAITING_MATERIALS) |
            SJ__BIT(SJ_STATUS_DEPARTMENT_HANDLING),
        N_("the supervision sweep cannot ask for an extension; the level handling the case does"),
        N_("an extension (延期) can be asked for only while a level handles the case or waits "
           "for its materials; accept it first"),
        N_("only the level holding the case can ask for an extension; it is held at another "
           "level"),
    },
    [SJ_ACTION_EXTEND_APPROVE] = {
        SJ__T | SJ__C, SJ__OPEN,
        N_("only the level above the holder (township staff or a county operator) approves an "
           "extension"),
        N_("an extension can be approved only while the case is open"),
        N_("only the level above the one holding the case, or the county, approves its "
           "extension"),
    },
    [SJ_ACTION_EXTEND_REFUSE] = {
        SJ__T | SJ__C, SJ__OPEN,
        N_("only the level above the holder (township staff or a county operator) refuses an "
           "extension"),
        N_("an extension can be refused only while the case is open"),
        N_("only the level above the one holding the case, or the county, refuses its "
           "extension"),
    },
    [SJ_ACTION_DUE_RECOMPUTE] = {
        SJ__S, SJ__RUNNING,
        N_("only the county recomputes due times, when a year's holiday arrangement is "
           "imported"),
        N_("only an active case whose time limit runs gets its due time recomputed"),
        NULL,
    },
    [SJ_ACTION_NOTIFIED] = {
        SJ__S, SJ__ACTIVE | SJ__BIT(SJ_STATUS_RESOLVED) | SJ__BIT(SJ_STATUS_RETURNED),
        N_("only the county records that the villager was sent a message"),
        N_("a closed or withdrawn case takes no record of a message"),
        NULL,
    },
    [SJ_ACTION_NOTIFY_FAILED] = {
        SJ__S, SJ__ACTIVE | SJ__BIT(SJ_STATUS_RESOLVED) | SJ__BIT(SJ_STATUS_RETURNED),
        N_("only the county records that a message to the villager failed"),
        N_("a closed or withdrawn case takes no record of a message"),
        NULL,
    },
    [SJ_ACTION_DISPATCH] = {
        SJ__C, SJ__BIT(SJ_STATUS_ACCEPTED_COUNTY),
        N_("only a county operator dispatches a case to a county department (派单)"),
        N_("a case can be dispatched only after the county accepted it (签收) and while no "
           "department has it"),
        N_("only the county holding the case can dispatch it"),
    },
    [SJ_ACTION_TAKE] = {
        SJ__D, SJ__BIT(SJ_STATUS_DISPATCHED),
        N_("only the staff of the department a case was dispatched to take it (接单)"),
        N_("a case can be taken only while it waits for its department (待接单)"),
        N_("the case was dispatched to another department; only that department can take it"),
    },
    [SJ_ACTION_REFUSE_DISPATCH] = {
        SJ__D, SJ__BIT(SJ_STATUS_DISPATCHED),
        N_("only the staff of the department a case was dispatched to can refuse it back to "
           "the county (退单)"),
        N_("a case can be refused back to the county only while it waits for its department "
           "(待接单); once taken, report back (回单) instead"),
        N_("the case was dispatched to another department; only that department can refuse it"),
    },
    [SJ_ACTION_REPORT] = {
        SJ__D, SJ__BIT(SJ_STATUS_DEPARTMENT_HANDLING),
        N_("only the staff of the department handling a case report back (回单)"),
        N_("a department reports back only on a case it took and is handling (部门办理中); "
           "take it first"),
        N_("the case is handled by another department; only that department can report back"),
    },
    [SJ_ACTION_RETURN_REPORT] = {
        SJ__C, SJ__BIT(SJ_STATUS_REPORTED),
        N_("only a county operator reviews a department's report (回单)"),
        N_("a report can be sent back to the department only while it waits for review "
           "(待审核回单)"),
        N_("only the county holding the case can send the report back"),
    },
    [SJ_ACTION_ASSIGN] = {
        SJ__V | SJ__T | SJ__C | SJ__D, SJ__NOT_TERMINAL,
        N_("the supervision sweep assigns no case; the unit holding it assigns it to one of its "
           "people (指派)"),
        N_("a closed or withdrawn case is assigned to nobody"),
        N_("only the unit holding the case assigns it to one of its people; it is held at "
           "another level or by a department"),
    },
    [SJ_ACTION_TAKE_OVER] = {
        SJ__V | SJ__T | SJ__C | SJ__D, SJ__NOT_TERMINAL,
        N_("the supervision sweep takes over no case; a colleague in the unit holding it does "
           "(接手)"),
        N_("a closed or withdrawn case is taken over by nobody"),
        N_("only a colleague in the unit holding the case can take it over; it is held at "
           "another level or by a department"),
    },
    [SJ_ACTION_SET_CARRIER] = {
        SJ__V, SJ__NOT_TERMINAL,
        N_("only the village names the cadre who carries a case throughout (全程代办员)"),
        N_("a closed or withdrawn case gets no new carrier"),
        NULL,
    },
};

/* Actions that record a fact about a case without moving it: they neither
 * check nor raise the version, so that a sweep or an urge never collides
 * with the handler's work. */
static bool version_exempt(sj_case_action action)
{
    return action == SJ_ACTION_URGE || action == SJ_ACTION_SUPERVISE ||
           action == SJ_ACTION_OVERDUE || action == SJ_ACTION_WARN ||
           action == SJ_ACTION_DUE_RECOMPUTE || action == SJ_ACTION_SET_CARRIER ||
           action == SJ_ACTION_NOTIFIED || action == SJ_ACTION_NOTIFY_FAILED ||
           action == SJ_ACTION_RECTIFY_OVERDUE;
}

static int refuse(sj_error *err, int code, const char *message)
{
    return sj_error_set(err, code, "%s", message);
}

/* Check 7: is the case held where this actor may do this action? */
static bool level_ok(const sj_case *c, sj_case_action action, const sj_actor *actor)
{
    sj_level level = sj_role_level(actor->role);
    /* While a department holds the case, its staff hold it, not the
     * county's operators. */
    bool department = sj_case_department_holds(c);
    bool holder = c->holder_level == level &&
                  strncmp(c->holder_unit, actor->unit, SJ_UNIT_CODE_SIZE) == 0 &&
                  (actor->role == SJ_ROLE_DEPARTMENT_STAFF
                       ? department && strncmp(c->department_code, actor->department,
                                               SJ_DEPARTMENT_CODE_SIZE) == 0
                       : !department);
    bool resolver = c->resolved_level == level &&
                    strncmp(c->resolved_unit, actor->unit, SJ_UNIT_CODE_SIZE) == 0;
    bool county = actor->role == SJ_ROLE_COUNTY_OPERATOR;
    switch (action) {
    case SJ_ACTION_SUPPLEMENT:
        /* The villager usually brings the materials to the village station. */
        return actor->role == SJ_ROLE_VILLAGE_CADRE || holder;
    case SJ_ACTION_URGE:
        return !holder;
    case SJ_ACTION_REOPEN:
    case SJ_ACTION_RECTIFY:
        return resolver || county;
    case SJ_ACTION_EXTEND_APPROVE:
    case SJ_ACTION_EXTEND_REFUSE:
        /* The level above the holder decides; the county may always. */
        return level > c->holder_level || county;
    case SJ_ACTION_CLOSE:
        return actor->role == SJ_ROLE_VILLAGE_CADRE;
    case SJ_ACTION_WITHDRAW:
    case SJ_ACTION_SET_CARRIER: /* its village, wherever the case is */
    case SJ_ACTION_SUPERVISE:
    case SJ_ACTION_OVERDUE:
    case SJ_ACTION_WARN:
    case SJ_ACTION_DUE_RECOMPUTE:
    case SJ_ACTION_NOTIFIED:
    case SJ_ACTION_NOTIFY_FAILED:
    case SJ_ACTION_REGISTER:
    case SJ_ACTION_CALLBACK: /* its village, whoever resolved it */
    case SJ_ACTION_RECTIFY_OVERDUE:
        return true;
    default:
        return holder;
    }
}

/* Check 6's conditions beyond the status: what the case's own state says
 * against this action now (already supervised, no message pending, an
 * extension waiting, the 好差评 steps, assignment).  The reason to refuse
 * (SJ_ENOT_ALLOWED), or NULL. */
static const char *state_refusal(const sj_case *c, sj_case_action action, const sj_actor *actor,
                                 const rule *r)
{
    if (action == SJ_ACTION_SUPERVISE && c->supervised)
        return N_("the case is already under supervision; urge it instead");
    if (action == SJ_ACTION_OVERDUE && c->overdue)
        return N_("the case is already marked overdue");
    if ((action == SJ_ACTION_NOTIFIED || action == SJ_ACTION_NOTIFY_FAILED) &&
        c->notify != SJ_NOTIFY_PENDING)
        return N_("no message to the villager waits to be sent for this case");
    if (action == SJ_ACTION_EXTEND_REQUEST && c->extension_days > 0)
        return N_("an extension is already asked for and waits for the level above; wait "
                  "for its decision");
    if ((action == SJ_ACTION_EXTEND_APPROVE || action == SJ_ACTION_EXTEND_REFUSE) &&
        c->extension_days == 0)
        return N_("no extension is asked for on this case; there is nothing to decide");
    /* 好差评: a 差评 is rectified, then called back; nothing closes it
     * before, and the villager is not asked twice. */
    if ((action == SJ_ACTION_RECTIFY || action == SJ_ACTION_REOPEN ||
         action == SJ_ACTION_RECTIFY_OVERDUE) &&
        !sj_case_rectify_open(c))
        return c->rectified_at_ms > 0
                   ? N_("the rectification of this bad evaluation is already done; call "
                        "the villager back (回访)")
                   : r->not_allowed;
    if (action == SJ_ACTION_RECTIFY_OVERDUE && (c->rectify_late || c->rectify_due_at_ms <= 0))
        return N_("the rectification is already marked overdue, or has no due time");
    if (action == SJ_ACTION_CALLBACK && !sj_case_callback_due(c))
        return N_("no call back (回访) is due: the villager is called back once a bad "
                  "evaluation (差评) has been rectified, and only once");
    if ((action == SJ_ACTION_FEEDBACK || action == SJ_ACTION_CLOSE) && sj_case_callback_due(c))
        return N_("the case was handled again after a bad evaluation (差评): call the "
                  "villager back (回访) and record the new evaluation");
    if (action == SJ_ACTION_TAKE_OVER && (!c->assignee || !c->assignee[0]))
        return N_("the case is assigned to nobody, so there is nothing to take over; "
                  "assign it (指派) instead");
    /* The taker becomes the assignee: a person must be named. */
    if (action == SJ_ACTION_TAKE_OVER && !sj_person_id_valid(actor->person))
        return N_("taking a case over needs the person who takes it; log in as that "
                  "person");
    if (action == SJ_ACTION_TAKE_OVER && strcmp(c->assignee, actor->person) == 0)
        return N_("the case is already assigned to you");
    return NULL;
}

/* Checks 1-8 (4 only when check_version). */
static int check(const sj_case *c, sj_case_action action, const sj_actor *actor,
                 bool check_version, uint64_t expected_version, sj_error *err)
{
    if (!c || !actor)
        return refuse(err, SJ_EINVAL, N_("no case or no actor given; this is a program error"));
    if (action <= SJ_ACTION_NONE || action >= SJ_ACTION_COUNT || rules[action].roles == 0)
        return refuse(err, SJ_EINVAL, N_("unknown action; update the program"));
    if (!actor_valid(actor))
        return refuse(err, SJ_EINVAL,
                      N_("the actor's role and org unit do not agree (a village cadre needs a "
                         "village code, township staff a township code, the county a county "
                         "code, department staff the county's code and their department's "
                         "code); log in again"));
    const char *problem = case_problem(c);
    if (problem)
        return refuse(err, SJ_EINVAL, problem);
    /* 2 */
    if (!sj_case_in_scope(c->village, actor))
        return refuse(err, SJ_ESCOPE,
                      N_("the case belongs to a village outside your scope; only its village, "
                         "its township and its county may see or act on it"));
    /* 3 */
    if (sj_case_is_terminal(c->status))
        return refuse(err, SJ_ETERMINAL,
                      N_("the case is closed or withdrawn and takes no further action; register "
                         "a new case if the villager asks again"));
    /* 4 */
    if (check_version && !version_exempt(action) && expected_version != c->version)
        return refuse(err, SJ_ESTALE_VERSION,
                      N_("the case was changed by someone else since you saw it; look at it "
                         "again and decide anew"));
    const rule *r = &rules[action];
    /* 5 */
    if (!(r->roles & SJ__BIT(actor->role)))
        return refuse(err, SJ_EWRONG_ROLE, r->wrong_role);
    /* 6 */
    if (!status_in(c->status, r->statuses))
        return refuse(err, SJ_ENOT_ALLOWED, r->not_allowed);
    const char *state = state_refusal(c, action, actor, r);
    if (state)
        return refuse(err, SJ_ENOT_ALLOWED, state);
    /* 7 */
    if (!level_ok(c, action, actor))
        return refuse(err, SJ_EWRONG_LEVEL, r->wrong_level);
    /* 8 */
    if (action == SJ_ACTION_RESOLVE_AT_ONCE && c->item_min_level > SJ_LEVEL_VILLAGE)
        return refuse(err, SJ_ELEVEL_TOO_LOW,
                      N_("this item cannot be finished at the village; escalate it to the "
                         "township"));
    if (action == SJ_ACTION_RESOLVE && c->item_min_level > sj_role_level(actor->role))
        return refuse(err, SJ_ELEVEL_TOO_LOW,
                      N_("this item cannot be finished at this level; escalate the case to the "
                         "level the catalogue names"));
    return 0;
}

int sj_case_check(const sj_case *current, sj_case_action action, const sj_actor *actor,
                  sj_error *err)
{
    return check(current, action, actor, false, 0, err);
}

size_t sj_case_allowed_actions(const sj_case *current, const sj_actor *actor,
                               sj_case_action *out, size_t max)
{
    size_t n = 0;
    for (int a = SJ_ACTION_NONE + 1; a < SJ_ACTION_COUNT && n < max; a++)
        if (check(current, (sj_case_action)a, actor, false, 0, NULL) == 0)
            out[n++] = (sj_case_action)a;
    return n;
}

/* --- text ------------------------------------------------------------------ */

bool sj_text_valid(const char *s, size_t max)
{
    if (!s)
        return true;
    /* max + 1 would wrap to 0 for SIZE_MAX and check nothing. */
    size_t len = max == SIZE_MAX ? strlen(s) : strnlen(s, max + 1);
    return len <= max && sj_utf8_valid(s, len);
}

/* Too long, or not UTF-8: the two messages of one text field. */
typedef struct text_field {
    const char *text;
    size_t max;
    const char *too_long;
    const char *bad_utf8;
} text_field;

static int check_text(const text_field *f, sj_error *err)
{
    if (!f->text)
        return 0;
    size_t len = strnlen(f->text, f->max + 1);
    if (len > f->max)
        return refuse(err, SJ_EBAD_FIELD, f->too_long);
    if (!sj_utf8_valid(f->text, len))
        return refuse(err, SJ_EBAD_FIELD, f->bad_utf8);
    return 0;
}

/* --- the fields each action takes ----------------------------------------------- */

#define SJ__NOTE SJ_CASE_FIELD_NOTE

/* What each action takes, and the sentence that says so when another field
 * came with it.  A note goes with every person's action (it is the reason
 * where one is required, a remark elsewhere); the sweep's marks take none. */
static const struct {
    unsigned fields;
    const char *takes;
} takes[SJ_ACTION_COUNT] = {
    [SJ_ACTION_RESOLVE_AT_ONCE] = {SJ__NOTE | SJ_CASE_FIELD_RESULT,
        N_("(the chosen action is resolve at once (即办): it takes a result and a note)")},
    [SJ_ACTION_ESCALATE] = {SJ__NOTE,
        N_("(the chosen action is escalate (上报): it takes a note only)")},
    [SJ_ACTION_ACCEPT] = {SJ__NOTE,
        N_("(the chosen action is accept (签收): it takes a note only; the county names the "
           "department by dispatching (派单))")},
    [SJ_ACTION_RETURN_DOWN] = {SJ__NOTE,
        N_("(the chosen action is return down (退回下级): it takes a note only)")},
    [SJ_ACTION_REQUEST_MATERIALS] = {SJ__NOTE | SJ_CASE_FIELD_MATERIALS,
        N_("(the chosen action is request materials (一次告知): it takes the materials list "
           "and a note)")},
    [SJ_ACTION_SUPPLEMENT] = {SJ__NOTE,
        N_("(the chosen action is supplement (补齐材料): it takes a note only)")},
    [SJ_ACTION_RESOLVE] = {SJ__NOTE | SJ_CASE_FIELD_RESULT,
        N_("(the chosen action is resolve (办结): it takes a result and a note)")},
    [SJ_ACTION_RETURN_UNDOABLE] = {SJ__NOTE,
        N_("(the chosen action is return as undoable (退办): it takes a note, the reason, "
           "only)")},
    [SJ_ACTION_WITHDRAW] = {SJ__NOTE,
        N_("(the chosen action is withdraw (撤回): it takes a note only)")},
    [SJ_ACTION_URGE] = {SJ__NOTE,
        N_("(the chosen action is urge (催办): it takes a note only)")},
    [SJ_ACTION_FEEDBACK] = {SJ__NOTE | SJ_CASE_FIELD_SATISFACTION,
        N_("(the chosen action is feedback (结果反馈): it takes the satisfaction and a note)")},
    [SJ_ACTION_REOPEN] = {SJ__NOTE,
        N_("(the chosen action is reopen (重办): it takes a note only)")},
    [SJ_ACTION_CLOSE] = {SJ__NOTE,
        N_("(the chosen action is close (归档): it takes a note only)")},
    [SJ_ACTION_SUPERVISE] = {SJ__NOTE,
        N_("(the chosen action is supervise (督办): it takes a note only)")},
    [SJ_ACTION_OVERDUE] = {0,
        N_("(the chosen action is the overdue mark (超期): it takes no field)")},
    [SJ_ACTION_WARN] = {SJ_CASE_FIELD_WARN_PERCENT,
        N_("(the chosen action is a time-limit warning (预警): it takes the share of the time "
           "limit only)")},
    [SJ_ACTION_DISPATCH] = {SJ__NOTE | SJ_CASE_FIELD_DEPARTMENT,
        N_("(the chosen action is dispatch (派单): it takes a department code and a note)")},
    [SJ_ACTION_TAKE] = {SJ__NOTE,
        N_("(the chosen action is take (接单): it takes a note only)")},
    [SJ_ACTION_REFUSE_DISPATCH] = {SJ__NOTE,
        N_("(the chosen action is refuse back to the county (退单): it takes a note, the "
           "reason, only)")},
    [SJ_ACTION_REPORT] = {SJ__NOTE | SJ_CASE_FIELD_RESULT,
        N_("(the chosen action is report back (回单): it takes a result and a note)")},
    [SJ_ACTION_RETURN_REPORT] = {SJ__NOTE,
        N_("(the chosen action is send the report back (回单退回): it takes a note only)")},
    [SJ_ACTION_EXTEND_REQUEST] = {SJ__NOTE | SJ_CASE_FIELD_EXTEND_DAYS,
        N_("(the chosen action is ask for an extension (申请延期): it takes the number of "
           "working days and a note, the reason)")},
    [SJ_ACTION_EXTEND_APPROVE] = {SJ__NOTE,
        N_("(the chosen action is approve the extension (批准延期): it takes a note only)")},
    [SJ_ACTION_EXTEND_REFUSE] = {SJ__NOTE,
        N_("(the chosen action is refuse the extension (不予延期): it takes a note only)")},
    [SJ_ACTION_DUE_RECOMPUTE] = {0,
        N_("(the chosen action is the due time recomputed on the calendar: it takes no "
           "field)")},
    [SJ_ACTION_ASSIGN] = {SJ__NOTE | SJ_CASE_FIELD_PERSON,
        N_("(the chosen action is assign (指派): it takes the person and a note)")},
    [SJ_ACTION_TAKE_OVER] = {SJ__NOTE,
        N_("(the chosen action is take over (接手): it takes a note, the reason, only; the "
           "case goes to the one who takes it)")},
    [SJ_ACTION_SET_CARRIER] = {SJ__NOTE | SJ_CASE_FIELD_PERSON,
        N_("(the chosen action is name the carrier (全程代办员): it takes the person and a "
           "note)")},
    [SJ_ACTION_NOTIFIED] = {SJ_CASE_FIELD_NOTIFY,
        N_("(the chosen action is the record of a message sent to the villager: it takes the "
           "attempt only)")},
    [SJ_ACTION_NOTIFY_FAILED] = {SJ__NOTE | SJ_CASE_FIELD_NOTIFY,
        N_("(the chosen action is the record of a failed message to the villager: it takes "
           "the attempt, its retry time and a note, the error)")},
    [SJ_ACTION_RECTIFY] = {SJ__NOTE,
        N_("(the chosen action is rectified (整改完成): it takes a note only, what was done)")},
    [SJ_ACTION_CALLBACK] = {SJ__NOTE | SJ_CASE_FIELD_SATISFACTION,
        N_("(the chosen action is call back (回访): it takes the villager's new evaluation and "
           "a note, the outcome)")},
    [SJ_ACTION_RECTIFY_OVERDUE] = {0,
        N_("(the chosen action is the overdue rectification mark (整改超期): it takes no "
           "field)")},
};

unsigned sj_case_action_fields(sj_case_action action)
{
    if (action <= SJ_ACTION_NONE || action >= SJ_ACTION_COUNT)
        return 0;
    return takes[action].fields;
}

/* Which fields the action carries: text that is not empty, a list that is
 * not empty, a value that is not 0.  White space is carried too: it is
 * something typed into a box of another action. */
static unsigned carried(const sj_action *a)
{
    unsigned f = 0;
    if (a->note && a->note[0])
        f |= SJ_CASE_FIELD_NOTE;
    if (a->result && a->result[0])
        f |= SJ_CASE_FIELD_RESULT;
    if (a->department && a->department[0])
        f |= SJ_CASE_FIELD_DEPARTMENT;
    if (a->n_materials > 0)
        f |= SJ_CASE_FIELD_MATERIALS;
    if (a->satisfaction != SJ_SATISFACTION_NONE)
        f |= SJ_CASE_FIELD_SATISFACTION;
    if (a->warn_percent != 0)
        f |= SJ_CASE_FIELD_WARN_PERCENT;
    if (a->extend_days != 0)
        f |= SJ_CASE_FIELD_EXTEND_DAYS;
    if (a->person && a->person[0])
        f |= SJ_CASE_FIELD_PERSON;
    if (a->notify_attempt != 0 || a->notify_retry_at_ms != 0)
        f |= SJ_CASE_FIELD_NOTIFY;
    return f;
}

/* The field each action requires, with what to tell the person who left
 * it out (the special cases follow in missing_field()). */
static const struct {
    unsigned field;
    const char *missing;
} action_requires[SJ_ACTION_COUNT] = {
    [SJ_ACTION_RESOLVE_AT_ONCE] = {SJ_CASE_FIELD_RESULT,
        N_("a result is required: say what was done for the villager")},
    [SJ_ACTION_RESOLVE] = {SJ_CASE_FIELD_RESULT,
        N_("a result is required: say what was done for the villager")},
    [SJ_ACTION_REPORT] = {SJ_CASE_FIELD_RESULT,
        N_("a result is required: say what was done for the villager")},
    [SJ_ACTION_DISPATCH] = {SJ_CASE_FIELD_DEPARTMENT,
        N_("a department is required to dispatch a case (派单): choose one from the county's "
           "list of departments")},
    [SJ_ACTION_REFUSE_DISPATCH] = {SJ_CASE_FIELD_NOTE,
        N_("a reason is required to refuse a case back to the county (退单): say why it is not "
           "this department's matter and whose it is")},
    [SJ_ACTION_RETURN_REPORT] = {SJ_CASE_FIELD_NOTE,
        N_("a note is required to send a report back to the department: say what is missing "
           "or wrong")},
    [SJ_ACTION_RETURN_DOWN] = {SJ_CASE_FIELD_NOTE,
        N_("a note is required to send a case back down: say why it was escalated wrongly and "
           "where it belongs")},
    [SJ_ACTION_RETURN_UNDOABLE] = {SJ_CASE_FIELD_NOTE,
        N_("a reason is required to return a case as undoable (退办): say in writing why the "
           "matter cannot be done")},
    [SJ_ACTION_WITHDRAW] = {SJ_CASE_FIELD_NOTE,
        N_("a note is required when the applicant withdraws: record why")},
    [SJ_ACTION_REOPEN] = {SJ_CASE_FIELD_NOTE,
        N_("a note is required to reopen a case: say what the follow-up found")},
    [SJ_ACTION_CLOSE] = {SJ_CASE_FIELD_NOTE,
        N_("a note is required to close without feedback: say why the villager's satisfaction "
           "was not recorded")},
    [SJ_ACTION_REQUEST_MATERIALS] = {SJ_CASE_FIELD_MATERIALS,
        N_("the full list of missing materials is required (一次告知): list every item at once")},
    [SJ_ACTION_FEEDBACK] = {SJ_CASE_FIELD_SATISFACTION,
        N_("the villager's satisfaction is required: very satisfied, satisfied, basically "
           "satisfied, unsatisfied or very unsatisfied")},
    [SJ_ACTION_WARN] = {SJ_CASE_FIELD_WARN_PERCENT,
        N_("a warning needs the share of the time limit used, 1 to 99 percent")},
    [SJ_ACTION_EXTEND_REQUEST] = {SJ_CASE_FIELD_EXTEND_DAYS,
        N_("an extension needs the number of working days asked for, 1 to 60")},
    [SJ_ACTION_EXTEND_REFUSE] = {SJ_CASE_FIELD_NOTE,
        N_("a note is required to refuse an extension: say why")},
    [SJ_ACTION_ASSIGN] = {SJ_CASE_FIELD_PERSON,
        N_("a person is required to assign a case (指派): choose one of the unit holding it")},
    [SJ_ACTION_SET_CARRIER] = {SJ_CASE_FIELD_PERSON,
        N_("a person is required to name the carrier (全程代办员): choose a cadre of the "
           "village")},
    [SJ_ACTION_TAKE_OVER] = {SJ_CASE_FIELD_NOTE,
        N_("a reason is required to take over a colleague's case (接手): say why (away, on "
           "leave ...)")},
    [SJ_ACTION_NOTIFIED] = {SJ_CASE_FIELD_NOTIFY,
        N_("the record of a message to the villager needs the attempt's number")},
    [SJ_ACTION_NOTIFY_FAILED] = {SJ_CASE_FIELD_NOTIFY,
        N_("the record of a message to the villager needs the attempt's number")},
    [SJ_ACTION_RECTIFY] = {SJ_CASE_FIELD_NOTE,
        N_("a note is required to mark a rectification done (整改完成): say what was done "
           "about the villager's complaint")},
    [SJ_ACTION_CALLBACK] = {SJ_CASE_FIELD_SATISFACTION,
        N_("the villager's new evaluation is required for a call back (回访): very satisfied, "
           "satisfied, basically satisfied, unsatisfied or very unsatisfied")},
};

/* Whether a required field was given: text that is not blank (white space
 * is not a reason), a list or a value that is not empty. */
static bool given(const sj_action *a, unsigned field)
{
    switch (field) {
    case SJ_CASE_FIELD_NOTE: return !sj_utf8_blank(a->note);
    case SJ_CASE_FIELD_RESULT: return !sj_utf8_blank(a->result);
    case SJ_CASE_FIELD_DEPARTMENT: return !sj_utf8_blank(a->department);
    case SJ_CASE_FIELD_PERSON: return !sj_utf8_blank(a->person);
    case SJ_CASE_FIELD_NOTIFY: return a->notify_attempt != 0;
    default: return carried(a) & field;
    }
}

/* What the person must add for the action to be taken, or NULL. */
static const char *missing_field(const sj_case *c, const sj_action *a)
{
    if (a->type <= SJ_ACTION_NONE || a->type >= SJ_ACTION_COUNT || !action_requires[a->type].field)
        return NULL;
    /* A deactivated assignee's case is taken over without a word why. */
    if (a->type == SJ_ACTION_TAKE_OVER && a->assignee_inactive)
        return NULL;
    if (!given(a, action_requires[a->type].field)) {
        if (a->type == SJ_ACTION_CLOSE && c->status == SJ_STATUS_UNSATISFIED)
            return N_("a note is required to close after unsatisfied feedback: record the "
                      "result of the follow-up");
        return action_requires[a->type].missing;
    }
    /* An extension asked for needs its reason as well as its days. */
    if (a->type == SJ_ACTION_EXTEND_REQUEST && sj_utf8_blank(a->note))
        return N_("a reason is required to ask for an extension: say why the time limit cannot "
                  "be kept");
    /* A call back needs its outcome as well as the new evaluation. */
    if (a->type == SJ_ACTION_CALLBACK && sj_utf8_blank(a->note))
        return N_("a note is required for a call back (回访): record what the villager said "
                  "about the rectification");
    return NULL;
}

/* A field that came with an action that does not take it: refused, naming
 * the field (what it is for) and the action (what it takes). */
static int check_taken(const sj_action *a, sj_error *err)
{
    static const struct {
        unsigned field;
        const char *not_here;
    } names[] = {
        {SJ_CASE_FIELD_NOTE, N_("a note does not belong to this action; leave it empty")},
        {SJ_CASE_FIELD_RESULT, N_("a result does not belong to this action; only resolving a "
                                  "case (即办, 办结) or reporting back (回单) takes one")},
        {SJ_CASE_FIELD_DEPARTMENT, N_("a department does not belong to this action; only "
                                      "dispatching a case (派单) takes one")},
        {SJ_CASE_FIELD_MATERIALS, N_("a materials list does not belong to this action; only "
                                     "requesting materials (一次告知) takes one")},
        {SJ_CASE_FIELD_SATISFACTION, N_("a satisfaction does not belong to this action; only "
                                        "recording feedback (结果反馈) or a call back (回访) "
                                        "takes one")},
        {SJ_CASE_FIELD_WARN_PERCENT, N_("a share of the time limit does not belong to this "
                                        "action; only a time-limit warning (预警) takes one")},
        {SJ_CASE_FIELD_EXTEND_DAYS, N_("a number of extension days does not belong to this "
                                       "action; only asking for an extension (申请延期) takes "
                                       "one")},
        {SJ_CASE_FIELD_PERSON, N_("a person does not belong to this action; only assigning a "
                                  "case (指派) or naming its carrier (全程代办员) takes one")},
        {SJ_CASE_FIELD_NOTIFY, N_("a notification attempt does not belong to this action; only "
                                  "the county's record of a message to the villager takes one")},
    };
    unsigned extra = carried(a) & ~takes[a->type].fields;
    for (size_t i = 0; i < SJ__COUNT(names); i++)
        if (extra & names[i].field)
            return sj_error_set(err, SJ_EBAD_FIELD, "%s" SJ_REFUSAL_JOIN "%s", names[i].not_here,
                                takes[a->type].takes);
    return 0;
}

/* --- a new case's own fields ------------------------------------------------------ */

int sj_case_check_submit(const sj_submit *s, sj_error *err)
{
    if (!s)
        return refuse(err, SJ_EINVAL, N_("no submission given; this is a program error"));
    /* Required fields first, in the order of the form. */
    const struct {
        const char *text;
        const char *missing;
    } required[] = {
        {s->applicant_name, N_("the applicant's name is required")},
        {s->id_number, N_("the applicant's resident ID number is required")},
        {s->phone, N_("the applicant's phone number is required")},
        {s->request_text, N_("the request is required: write down what the villager asks for")},
    };
    for (size_t i = 0; i < SJ__COUNT(required); i++)
        if (sj_utf8_blank(required[i].text))
            return refuse(err, SJ_EMISSING_FIELD, required[i].missing);
    const text_field texts[] = {
        {s->applicant_name, SJ_CASE_NAME_MAX,
         N_("the applicant's name is too long; shorten it to 200 bytes"),
         N_("the applicant's name is not valid UTF-8 text; type it again")},
        {s->request_text, SJ_CASE_TEXT_MAX,
         N_("the request is too long; shorten it to 4000 bytes"),
         N_("the request is not valid UTF-8 text; type it again")},
    };
    for (size_t i = 0; i < SJ__COUNT(texts); i++) {
        int rc = check_text(&texts[i], err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Two materials lists are the same if they hold the same names, in any order. */
static bool same_materials(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        size_t in_a = 0, in_b = 0;
        for (size_t j = 0; j < na; j++) {
            in_a += strcmp(a[i], a[j]) == 0;
            in_b += strcmp(a[i], b[j]) == 0;
        }
        if (in_a != in_b)
            return false;
    }
    return true;
}

/* The action's materials list (part of check 9): at most
 * SJ_CASE_MATERIALS_MAX names, each one given and valid text. */
static int check_materials(const sj_action *a, sj_error *err)
{
    if (a->n_materials > SJ_CASE_MATERIALS_MAX)
        return refuse(err, SJ_EBAD_FIELD,
                      N_("the materials list is longer than 50 items; merge related items"));
    if (a->n_materials > 0 && !a->materials)
        return refuse(err, SJ_EBAD_FIELD, N_("the materials list is missing its items"));
    for (size_t i = 0; i < a->n_materials; i++) {
        const text_field f = {a->materials[i], SJ_CASE_NAME_MAX,
                              N_("a material name is too long; shorten it to 200 bytes"),
                              N_("a material name is not valid UTF-8 text; type it again")};
        if (sj_utf8_blank(a->materials[i]))
            return refuse(err, SJ_EBAD_FIELD,
                          N_("a material in the list has no name; remove the empty line or "
                             "name the material"));
        int rc = check_text(&f, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Check 9: required fields present, no field the action does not take, all
 * text valid and within limits. */
static int check_fields(const sj_case *c, const sj_action *a, sj_error *err)
{
    if (a->at_ms <= 0)
        return refuse(err, SJ_EMISSING_FIELD,
                      N_("the action has no time; set it from the clock of the device where it "
                         "was done"));

    /* Required fields first: the refusal tells the person what to add. */
    const char *missing = missing_field(c, a);
    if (missing)
        return refuse(err, SJ_EMISSING_FIELD, missing);
    int rc = check_taken(a, err);
    if (rc != 0)
        return rc;

    /* Every text given is checked (the action's own, after check_taken()). */
    const text_field fields[] = {
        {a->note, SJ_CASE_TEXT_MAX, N_("the note is too long; shorten it to 4000 bytes"),
         N_("the note is not valid UTF-8 text; type it again")},
        {a->result, SJ_CASE_TEXT_MAX, N_("the result is too long; shorten it to 4000 bytes"),
         N_("the result is not valid UTF-8 text; type it again")},
        {a->department, SJ_CASE_NAME_MAX,
         N_("the department name is too long; shorten it to 200 bytes"),
         N_("the department name is not valid UTF-8 text; type it again")},
    };
    for (size_t i = 0; i < SJ__COUNT(fields); i++)
        if ((rc = check_text(&fields[i], err)) != 0)
            return rc;
    if ((a->type == SJ_ACTION_ASSIGN || a->type == SJ_ACTION_SET_CARRIER) &&
        !sj_person_id_valid(a->person))
        return refuse(err, SJ_EBAD_FIELD,
                      N_("the person is not a person id (letters, digits, '.', '_' and '-', at "
                         "most 64); choose the person from the list"));
    if (a->type == SJ_ACTION_ASSIGN && c->assignee && strcmp(c->assignee, a->person) == 0)
        return refuse(err, SJ_EBAD_FIELD,
                      N_("the case is already assigned to this person; choose another one"));
    if (a->type == SJ_ACTION_SET_CARRIER && c->carrier && strcmp(c->carrier, a->person) == 0)
        return refuse(err, SJ_EBAD_FIELD,
                      N_("this cadre already carries the case; choose another one"));
    if (a->type == SJ_ACTION_DISPATCH && !sj_department_code_valid(a->department))
        return refuse(err, SJ_EBAD_FIELD,
                      N_("the department is not a department code (lower-case letters, digits "
                         "and '-', at most 31); choose the department from the county's list"));
    if ((rc = check_materials(a, err)) != 0)
        return rc;

    /* Values. */
    if ((a->type == SJ_ACTION_FEEDBACK || a->type == SJ_ACTION_CALLBACK) &&
        !sj_satisfaction_is_good(a->satisfaction) && !sj_satisfaction_is_bad(a->satisfaction))
        return refuse(err, SJ_EBAD_FIELD,
                      N_("unknown satisfaction; choose very satisfied, satisfied, basically "
                         "satisfied, unsatisfied or very unsatisfied"));
    if (a->type == SJ_ACTION_WARN) {
        if (a->warn_percent > 99)
            return refuse(err, SJ_EBAD_FIELD,
                          N_("a warning is for 1 to 99 percent of the time limit; at 100 the "
                             "case is overdue"));
        if (a->warn_percent <= c->warn_level)
            return refuse(err, SJ_EBAD_FIELD,
                          N_("a warning at this share of the time limit was already issued"));
    }
    if ((a->type == SJ_ACTION_NOTIFIED && a->notify_retry_at_ms != 0) ||
        (a->type == SJ_ACTION_NOTIFY_FAILED && a->notify_retry_at_ms != 0 &&
         a->notify_retry_at_ms <= a->at_ms))
        return refuse(err, SJ_EBAD_FIELD,
                      N_("a message is retried only after a failed attempt, and later than it"));
    if (a->type == SJ_ACTION_EXTEND_REQUEST && a->extend_days > SJ_CASE_EXTEND_MAX)
        return refuse(err, SJ_EBAD_FIELD,
                      N_("an extension asks for 1 to 60 working days; ask for less, and again "
                         "later if needed"));
    return 0;
}

/* --- transitions ------------------------------------------------------------ */

static void set_unit(char dst[SJ_UNIT_CODE_SIZE], const char *src)
{
    memcpy(dst, src, SJ_UNIT_CODE_SIZE - 1);
    dst[SJ_UNIT_CODE_SIZE - 1] = '\0';
}

/* Moves the case to the unit at `level` above its village. */
static void hold_at(sj_case *c, sj_level level)
{
    char unit[SJ_ORGUNIT_CODE_SIZE];
    /* Cannot fail: case_problem() has checked the village code. */
    (void)sj_orgunit_at_level(c->village, level, unit);
    c->holder_level = level;
    set_unit(c->holder_unit, unit);
}

static sj_handling handling_of(const sj_case *c, bool returned, sj_level level)
{
    if (returned)
        return SJ_HANDLING_RETURNED;
    if (c->materials_rounds > 0)
        return SJ_HANDLING_SUPPLEMENTED;
    switch (level) {
    case SJ_LEVEL_VILLAGE:
        return SJ_HANDLING_AT_ONCE;
    case SJ_LEVEL_TOWNSHIP:
        return SJ_HANDLING_UNDERTAKEN;
    default:
        return SJ_HANDLING_ON_BEHALF;
    }
}

/* Marks the 差评 of `was` rectified at at_ms in n (late if past its due
 * time), and says so on the event. */
static void rectified(sj_case *n, const sj_case *was, int64_t at_ms, sj_case_event *ev)
{
    n->rectified_at_ms = at_ms;
    n->rectify_late = was->rectify_late ||
                      (was->rectify_due_at_ms > 0 && at_ms > was->rectify_due_at_ms);
    ev->rectify_late = n->rectify_late;
}

/* Records the actor as the one who resolved or returned the case.  A case
 * reopened after a 差评 keeps its evaluation: finishing it again is the
 * rectification, and the village calls the villager back next. */
static void finish(sj_case *n, const sj_case *was, const sj_action *a, const sj_actor *actor,
                   bool returned, sj_case_event *ev)
{
    sj_level level = sj_role_level(actor->role);
    n->resolved_level = level;
    set_unit(n->resolved_unit, actor->unit);
    n->handling = handling_of(n, returned, level);
    n->resume_status = SJ_STATUS_NONE;
    n->paused_at_ms = 0;
    if (sj_case_rectify_open(was))
        rectified(n, was, a->at_ms, ev);
    else
        n->satisfaction = SJ_SATISFACTION_NONE;
    hold_at(n, SJ_LEVEL_VILLAGE);
}

/* What each action does to the case: one case label per action, each a
 * few lines.  Long on purpose: it is the effect half of the rule table
 * (rules[] is the permission half), and a reviewer compares actions side by
 * side here; cut into functions the table would be scattered. */
static void transition(sj_case *n, const sj_case *c, const sj_action *a, const sj_actor *actor,
                       sj_case_event *ev)
{
    switch (a->type) {
    case SJ_ACTION_RESOLVE_AT_ONCE:
    case SJ_ACTION_RESOLVE:
        n->status = SJ_STATUS_RESOLVED;
        n->result = a->result;
        n->return_reason = NULL;
        finish(n, c, a, actor, false, ev);
        break;
    case SJ_ACTION_ESCALATE:
        if (c->status == SJ_STATUS_REGISTERED) {
            n->status = SJ_STATUS_ESCALATED_TOWNSHIP;
            n->escalated = true;
            hold_at(n, SJ_LEVEL_TOWNSHIP);
        } else {
            n->status = SJ_STATUS_ESCALATED_COUNTY;
            n->reached_county = true;
            hold_at(n, SJ_LEVEL_COUNTY);
        }
        break;
    case SJ_ACTION_ACCEPT:
        n->status = c->status == SJ_STATUS_ESCALATED_TOWNSHIP ? SJ_STATUS_ACCEPTED_TOWNSHIP
                                                              : SJ_STATUS_ACCEPTED_COUNTY;
        break;
    case SJ_ACTION_RETURN_DOWN:
        if (c->holder_level == SJ_LEVEL_TOWNSHIP) {
            n->status = SJ_STATUS_REGISTERED;
            hold_at(n, SJ_LEVEL_VILLAGE);
        } else {
            n->status = SJ_STATUS_ACCEPTED_TOWNSHIP;
            n->department = NULL;
            n->department_code = NULL;
            hold_at(n, SJ_LEVEL_TOWNSHIP);
        }
        n->return_count = c->return_count + 1;
        break;
    case SJ_ACTION_DISPATCH:
        /* The name is the county's records' (apply fills it in): the
         * machine knows the code only. */
        n->status = SJ_STATUS_DISPATCHED;
        n->department_code = a->department;
        n->department = NULL;
        break;
    case SJ_ACTION_TAKE:
        n->status = SJ_STATUS_DEPARTMENT_HANDLING;
        break;
    case SJ_ACTION_REFUSE_DISPATCH:
        n->status = SJ_STATUS_ACCEPTED_COUNTY;
        n->department_refusals = c->department_refusals + 1;
        n->department_code = NULL;
        n->department = NULL;
        break;
    case SJ_ACTION_REPORT:
        n->status = SJ_STATUS_REPORTED;
        n->result = a->result;
        break;
    case SJ_ACTION_RETURN_REPORT:
        n->status = SJ_STATUS_DEPARTMENT_HANDLING;
        n->result = NULL;
        break;
    case SJ_ACTION_REQUEST_MATERIALS:
        ev->repeat_materials_request =
            c->materials_rounds > 0 &&
            !same_materials(c->materials, c->n_materials, a->materials, a->n_materials);
        n->resume_status = c->status;
        n->status = SJ_STATUS_WAITING_MATERIALS;
        n->materials_rounds = c->materials_rounds + 1;
        n->materials = a->materials;
        n->n_materials = a->n_materials;
        n->paused_at_ms = a->at_ms; /* the clock stops */
        break;
    case SJ_ACTION_SUPPLEMENT:
        n->status = c->resume_status;
        n->resume_status = SJ_STATUS_NONE;
        n->paused_at_ms = 0;
        if (a->calendar) {
            /* The days waited, counted like the limit: (pause day, today]. */
            int days = 0;
            if (c->paused_at_ms > 0 &&
                sj_calendar_working_days_between(a->calendar, c->paused_at_ms, a->at_ms, &days) ==
                    0 &&
                days > 0) {
                n->paused_days = c->paused_days + (uint32_t)days;
                ev->clock_days = (uint32_t)days;
            }
        }
        break;
    case SJ_ACTION_RETURN_UNDOABLE:
        n->status = SJ_STATUS_RETURNED;
        n->result = NULL;
        n->return_reason = a->note;
        finish(n, c, a, actor, true, ev);
        break;
    case SJ_ACTION_WITHDRAW:
        n->status = SJ_STATUS_WITHDRAWN;
        n->resume_status = SJ_STATUS_NONE;
        n->paused_at_ms = 0;
        hold_at(n, SJ_LEVEL_VILLAGE);
        break;
    case SJ_ACTION_URGE:
        n->urge_count = c->urge_count + 1;
        break;
    case SJ_ACTION_FEEDBACK:
        n->satisfaction = a->satisfaction;
        if (sj_satisfaction_is_bad(a->satisfaction)) {
            /* 差评: back to the resolver, who rectifies within the limit. */
            n->status = SJ_STATUS_UNSATISFIED;
            hold_at(n, c->resolved_level);
            n->rectified_at_ms = 0;
            n->called_back_at_ms = 0;
            n->rectify_late = false;
            n->rectify_due_at_ms = 0;
            int64_t due;
            if (a->calendar && a->rectify_days > 0 &&
                sj_case_due(a->calendar, a->at_ms, a->rectify_days, &due, NULL) == 0)
                n->rectify_due_at_ms = due;
            ev->rectify_due_at_ms = n->rectify_due_at_ms;
        } else {
            n->status = SJ_STATUS_CLOSED;
        }
        break;
    case SJ_ACTION_RECTIFY:
        rectified(n, c, a->at_ms, ev);
        break;
    case SJ_ACTION_RECTIFY_OVERDUE:
        n->rectify_late = true;
        ev->rectify_due_at_ms = c->rectify_due_at_ms;
        ev->rectify_late = true;
        break;
    case SJ_ACTION_CALLBACK:
        /* The 差评 loop ends here: the new evaluation is the event's, the
         * case keeps the evaluation that started the rectification. */
        n->called_back_at_ms = a->at_ms;
        n->status = SJ_STATUS_CLOSED;
        break;
    case SJ_ACTION_REOPEN:
        /* Back to the resolver, who handles it again from the start; the
         * 差评 stays on the case, and finishing it again rectifies it. */
        n->status = handling_status(c->resolved_level);
        n->result = NULL;
        n->return_reason = NULL;
        n->handling = SJ_HANDLING_NONE;
        n->resolved_level = SJ_LEVEL_NONE;
        memset(n->resolved_unit, 0, sizeof(n->resolved_unit));
        break;
    case SJ_ACTION_CLOSE:
        n->status = SJ_STATUS_CLOSED;
        break;
    case SJ_ACTION_SUPERVISE:
        n->supervised = true;
        break;
    case SJ_ACTION_OVERDUE:
        n->overdue = true;
        break;
    case SJ_ACTION_WARN:
        n->warn_level = a->warn_percent;
        break;
    case SJ_ACTION_EXTEND_REQUEST:
        n->extension_days = a->extend_days;
        ev->clock_days = a->extend_days;
        break;
    case SJ_ACTION_EXTEND_APPROVE:
        n->extended_days = c->extended_days + c->extension_days;
        n->extension_days = 0;
        ev->clock_days = c->extension_days;
        break;
    case SJ_ACTION_EXTEND_REFUSE:
        n->extension_days = 0;
        ev->clock_days = c->extension_days;
        break;
    case SJ_ACTION_DUE_RECOMPUTE:
        break; /* the due time is set by clock() */
    case SJ_ACTION_ASSIGN:
        /* The name is the county's records' (apply fills it in). */
        n->assignee = a->person;
        n->assignee_name = NULL;
        break;
    case SJ_ACTION_TAKE_OVER:
        n->assignee = actor->person;
        n->assignee_name = NULL;
        break;
    case SJ_ACTION_SET_CARRIER:
        n->carrier = a->person;
        n->carrier_name = NULL;
        break;
    case SJ_ACTION_NOTIFIED:
    case SJ_ACTION_NOTIFY_FAILED:
        n->notify_attempts = a->notify_attempt;
        n->notify_at_ms = a->at_ms;
        n->notify_retry_at_ms = a->notify_retry_at_ms;
        n->notify = a->type == SJ_ACTION_NOTIFIED ? SJ_NOTIFY_SENT
                    : a->notify_retry_at_ms       ? SJ_NOTIFY_PENDING
                                                  : SJ_NOTIFY_FAILED;
        ev->notify_attempt = a->notify_attempt;
        ev->notify_retry_at_ms = a->notify_retry_at_ms;
        break;
    case SJ_ACTION_REGISTER:
    case SJ_ACTION_NONE:
        break; /* refused by check() */
    }
}

int sj_case_due(const sj_calendar *cal, int64_t registered_at_ms, uint32_t days, int64_t *due_ms,
                bool *provisional)
{
    if (!cal || !due_ms || days > SJ_CALENDAR_MAX_DAYS)
        return SJ_EINVAL;
    int64_t due;
    if (sj_calendar_add_working_days(cal, registered_at_ms, (int)days, &due) != 0)
        return SJ_EINVAL;
    *due_ms = due;
    if (provisional)
        *provisional = !sj_calendar_covers(cal, due);
    return 0;
}

/* After the transition: with the county's calendar, the due time of an
 * action that moved the clock is set again from registration, and an
 * overdue mark it makes untrue is cleared.  Returns false if the due time
 * cannot be computed (a case record without its clock). */
static bool move_clock(sj_case *n, const sj_case *c, const sj_action *a, sj_case_event *ev)
{
    bool moves = a->type == SJ_ACTION_DUE_RECOMPUTE ||
                 (a->type == SJ_ACTION_SUPPLEMENT && n->paused_days != c->paused_days) ||
                 (a->type == SJ_ACTION_EXTEND_APPROVE && n->extended_days != c->extended_days);
    if (!a->calendar || !moves)
        return true;
    int64_t due;
    bool provisional;
    if (c->registered_at_ms <= 0 ||
        sj_case_due(a->calendar, c->registered_at_ms,
                    n->limit_days + n->paused_days + n->extended_days, &due, &provisional) != 0)
        return false;
    n->due_at_ms = due;
    n->due_provisional = provisional;
    if (due > a->at_ms)
        n->overdue = false;
    ev->due_at_ms = due;
    ev->due_provisional = provisional;
    return true;
}

static bool same_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* True if the case is held by another unit, or another department, after
 * the action than before. */
static bool moved(const sj_case *n, const sj_case *c)
{
    return n->holder_level != c->holder_level ||
           strncmp(n->holder_unit, c->holder_unit, SJ_UNIT_CODE_SIZE) != 0 ||
           sj_case_department_holds(n) != sj_case_department_holds(c) ||
           !same_text(n->department_code, c->department_code);
}

/* The results the villager is told of, by the status the case enters. */
static const sj_notify_kind notify_kinds[SJ_STATUS_COUNT] = {
    [SJ_STATUS_RESOLVED] = SJ_NOTIFY_KIND_RESOLVED,
    [SJ_STATUS_RETURNED] = SJ_NOTIFY_KIND_RETURNED,
    [SJ_STATUS_WAITING_MATERIALS] = SJ_NOTIFY_KIND_MATERIALS,
};

/* Entering such a status queues a message (unless the cadre chose OFF): a
 * new one, whatever became of the last. */
static void notify_on_result(sj_case *n, const sj_case *c, sj_case_event *ev)
{
    if (n->status == c->status || n->notify == SJ_NOTIFY_OFF || !notify_kinds[n->status])
        return;
    ev->notify = notify_kinds[n->status];
    n->notify = SJ_NOTIFY_PENDING;
    n->notify_attempts = 0;
    n->notify_at_ms = 0;
    n->notify_retry_at_ms = 0;
}

int sj_case_apply(const sj_case *current, const sj_action *action, const sj_actor *actor,
                  sj_case_outcome *out, sj_error *err)
{
    if (!action || !out)
        return refuse(err, SJ_EINVAL, N_("no action or no outcome given; this is a program error"));
    int rc = check(current, action->type, actor, true, action->expected_version, err);
    if (rc != 0)
        return rc;
    rc = check_fields(current, action, err);
    if (rc != 0)
        return rc;

    sj_case_outcome o;
    memset(&o, 0, sizeof(o));
    o.next = *current;
    o.n_events = 1;
    o.events[0].action = action->type;
    o.events[0].from_status = current->status;
    transition(&o.next, current, action, actor, &o.events[0]);
    /* A pending extension request is for the holder that asked, while it
     * handles the case: it lapses when the case moves on or is finished. */
    if (o.next.holder_level != current->holder_level || !status_in(o.next.status, SJ__OPEN))
        o.next.extension_days = 0;
    /* The assignee is a person of the holding unit (or department): when
     * the case moves to another, that one assigns anew. */
    if (moved(&o.next, current)) {
        o.next.assignee = NULL;
        o.next.assignee_name = NULL;
    }
    if (action->type == SJ_ACTION_DUE_RECOMPUTE && !action->calendar)
        return refuse(err, SJ_EINVAL,
                      N_("the due time can be recomputed only on the county's calendar; this is a "
                         "program error"));
    if (!move_clock(&o.next, current, action, &o.events[0]))
        return refuse(err, SJ_EINVAL,
                      N_("the case record has no registration time or limit to count its due time "
                         "from; reload the case from the county"));
    if (action->type == SJ_ACTION_DUE_RECOMPUTE && o.next.due_at_ms == current->due_at_ms &&
        o.next.due_provisional == current->due_provisional)
        return refuse(err, SJ_ENOT_ALLOWED,
                      N_("the due time is already right on the loaded calendar"));
    o.events[0].to_status = o.next.status;
    notify_on_result(&o.next, current, &o.events[0]);
    if (!version_exempt(action->type))
        o.next.version = current->version + 1;
    o.next.updated_at_ms = action->at_ms;
    if (sj_case_is_terminal(o.next.status))
        o.next.closed_at_ms = action->at_ms;
    *out = o;
    return 0;
}

int sj_case_register(const char *village, sj_level item_min_level, int64_t at_ms,
                     const sj_actor *actor, sj_case_outcome *out, sj_error *err)
{
    if (!village || !actor || !out)
        return refuse(err, SJ_EINVAL, N_("no village, actor or outcome given; this is a program "
                                         "error"));
    if (!actor_valid(actor))
        return refuse(err, SJ_EINVAL,
                      N_("the actor's role and org unit do not agree (a village cadre needs a "
                         "village code, township staff a township code, the county a county "
                         "code, department staff the county's code and their department's "
                         "code); log in again"));
    if (sj_orgunit_level(village) != SJ_LEVEL_VILLAGE)
        return refuse(err, SJ_EINVAL,
                      N_("the village code is not a valid 12-digit village code; check the "
                         "station's configuration"));
    if (!sj_case_in_scope(village, actor))
        return refuse(err, SJ_ESCOPE,
                      N_("the case belongs to a village outside your scope; only its village, "
                         "its township and its county may see or act on it"));
    if (actor->role != SJ_ROLE_VILLAGE_CADRE)
        return refuse(err, SJ_EWRONG_ROLE, rules[SJ_ACTION_REGISTER].wrong_role);
    if (!valid_level(item_min_level))
        return refuse(err, SJ_EBAD_FIELD,
                      N_("the catalogue item has no valid lowest level (village, township or "
                         "county); fix the catalogue"));
    if (at_ms <= 0)
        return refuse(err, SJ_EMISSING_FIELD,
                      N_("the action has no time; set it from the clock of the device where it "
                         "was done"));

    sj_case_outcome o;
    memset(&o, 0, sizeof(o));
    set_unit(o.next.village, village);
    o.next.item_min_level = item_min_level;
    o.next.status = SJ_STATUS_REGISTERED;
    o.next.version = 1;
    o.next.updated_at_ms = at_ms;
    o.next.registered_at_ms = at_ms; /* limit and due time: the county's (sj_case_due()) */
    hold_at(&o.next, SJ_LEVEL_VILLAGE);
    o.n_events = 1;
    o.events[0].action = SJ_ACTION_REGISTER;
    o.events[0].from_status = SJ_STATUS_NONE;
    o.events[0].to_status = SJ_STATUS_REGISTERED;
    *out = o;
    return 0;
}
