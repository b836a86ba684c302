/*
 * case.h - the case state machine: who may do what to a case, and what
 * follows.  Pure code: no I/O, no clock, no allocation, no global state.
 *
 * The county applies it with authority (server/); relays use it to pre-check
 * scope before they store anything; clients use it to show which actions are
 * allowed now.  No tier keeps its own copy of these rules.
 *
 * Model (docs/LIFECYCLE.md: statuses, actions, handling types):
 *
 *   A case is held by one level and unit at a time (holder_level/holder_unit).
 *   Actors are persons with a role; the role fixes their level, and their org
 *   unit fixes their scope: a village cadre acts only on cases of their own
 *   village, township staff on cases of their township's villages, county
 *   operators on every case of their county.
 *
 *   "V" below is a village cadre of the case's village, "T" a township staff
 *   member of its township, "C" a county operator of its county, "D" the
 *   staff of the county department the case is dispatched to (派单), "S" the
 *   system (the county's supervision sweep).  "open" statuses are REGISTERED,
 *   ESCALATED_TOWNSHIP, ACCEPTED_TOWNSHIP, ESCALATED_COUNTY, ACCEPTED_COUNTY,
 *   WAITING_MATERIALS, DISPATCHED, DEPARTMENT_HANDLING and REPORTED;
 *   "active" is open plus UNSATISFIED.  The handling status of a level is
 *   REGISTERED (village), ACCEPTED_TOWNSHIP (township), ACCEPTED_COUNTY
 *   (county); a department's is DEPARTMENT_HANDLING.
 *
 *   Departments: the cases of DISPATCHED, DEPARTMENT_HANDLING and
 *   WAITING_MATERIALS resumed to DEPARTMENT_HANDLING are held at the county
 *   (holder_level/holder_unit) by the department named in department_code:
 *   its staff are their "holder", and the county operator is not (so the
 *   county urges the department, and cannot request materials or resolve
 *   in its place).  Department staff act only on the cases of their own
 *   department (SJ_EWRONG_LEVEL otherwise).
 *
 *   action            by          from                      to / effect
 *   ----------------  ----------  ------------------------  -------------------------------
 *   REGISTER          V           (new)                     REGISTERED, held by the village
 *   RESOLVE_AT_ONCE   V           REGISTERED                RESOLVED; item level must be
 *                                                           village; result required
 *   ESCALATE          V           REGISTERED                ESCALATED_TOWNSHIP, held by T
 *                     T           ACCEPTED_TOWNSHIP         ESCALATED_COUNTY, held by C
 *   ACCEPT            T           ESCALATED_TOWNSHIP        ACCEPTED_TOWNSHIP
 *                     C           ESCALATED_COUNTY          ACCEPTED_COUNTY (签收; no
 *                                                           department: see DISPATCH)
 *   DISPATCH          C           ACCEPTED_COUNTY           DISPATCHED (派单); department
 *                                                           code required (its name is
 *                                                           filled in by the county)
 *   TAKE              D           DISPATCHED                DEPARTMENT_HANDLING (接单)
 *   REFUSE_DISPATCH   D           DISPATCHED                ACCEPTED_COUNTY (退单); note;
 *                                                           department cleared;
 *                                                           department_refusals + 1
 *   REPORT            D           DEPARTMENT_HANDLING       REPORTED (回单); result required
 *   RETURN_REPORT     C           REPORTED                  DEPARTMENT_HANDLING; note;
 *                                                           result cleared
 *   RETURN_DOWN       T           ESCALATED_/ACCEPTED_TOWNSHIP  REGISTERED, held by V; note
 *                     C           ESCALATED_/ACCEPTED_COUNTY    ACCEPTED_TOWNSHIP, held by T;
 *                                                           note; department cleared
 *   REQUEST_MATERIALS holder      its handling status       WAITING_MATERIALS; full list
 *                                 (D: DEPARTMENT_HANDLING)
 *                                                           (>= 1 item); resume_status kept;
 *                                                           materials_rounds + 1; a second
 *                                                           list that differs from the last
 *                                                           one is flagged (一次告知 broken)
 *   SUPPLEMENT        V, holder   WAITING_MATERIALS         resume_status
 *   RESOLVE           holder      its handling status,      RESOLVED, held by V; result
 *                                 C also REPORTED (the      required; item level must be
 *                                 回单 approved)            <= actor's level
 *   RETURN_UNDOABLE   holder      its handling status, or   RETURNED, held by V; note
 *                                 WAITING_MATERIALS held    (the 退办 reason) required
 *                                 at its level; C also
 *                                 REPORTED
 *   WITHDRAW          V           any open                  WITHDRAWN, held by V; note
 *   URGE              any in      any active, actor's unit  urge_count + 1 (no version
 *                     scope       is not the holder         change, no version check)
 *   FEEDBACK          V           RESOLVED, RETURNED; no    CLOSED if good (好评: 非常满意,
 *                                 call back due             满意, 基本满意); a 差评 (不满意,
 *                                                           非常不满意): UNSATISFIED, held by
 *                                                           the resolver, rectify_due_at_ms =
 *                                                           at + rectify_days on the calendar;
 *                                                           satisfaction (1..5) required
 *   REOPEN            resolver    UNSATISFIED, not yet      resolver's handling status, held
 *                     level, C    rectified                 by the resolver; note; result,
 *                                                           reason and resolver cleared; the
 *                                                           差评 stays: finishing the case
 *                                                           again rectifies it
 *   RECTIFY           resolver    UNSATISFIED, not yet      rectified_at_ms, rectify_late (at
 *                     level, C    rectified                 past the due time); note (整改完成)
 *   CALLBACK          V           UNSATISFIED, RESOLVED,    CLOSED; called_back_at_ms; the
 *                                 RETURNED; rectified, not  villager's new satisfaction (on
 *                                 called back               the event) and note (回访) required
 *   RECTIFY_OVERDUE   S           rectification open, with  rectify_late (no version change)
 *                                 a due time, not late
 *   CLOSE             V           RESOLVED, RETURNED; no    CLOSED without satisfaction;
 *                                 call back due             note (why no feedback)
 *   SUPERVISE         C           any active, not yet       supervised (no version change,
 *                                 supervised                no version check)
 *   OVERDUE           S           active, not waiting for   overdue (no version change)
 *                                 materials, not overdue
 *   WARN              S           active, not waiting       warn_level = warn_percent, which
 *                                                           must exceed the current one
 *   EXTEND_REQUEST    holder      its handling status, or   extension_days = extend_days
 *                                 WAITING_MATERIALS; no     (1..SJ_CASE_EXTEND_MAX); note
 *                                 request pending           (the reason) required (申请延期)
 *   EXTEND_APPROVE    T, C above  open, request pending     extended_days += extension_days;
 *                     the holder                            due time moves out; request cleared
 *   EXTEND_REFUSE     T, C above  open, request pending     request cleared; note required
 *                     the holder
 *   DUE_RECOMPUTE     S           active, not waiting; a    due time and provisional mark
 *                                 calendar given and the    recomputed on the calendar (no
 *                                 due time differs on it    version change)
 *   ASSIGN            holder      any not terminal          assignee = person (指派/改派);
 *                                                           person required, another than
 *                                                           the assignee now; note optional
 *   TAKE_OVER         holder      not terminal, assigned    assignee = the actor (接手);
 *                                 to another person         note (the reason) required
 *                                                           unless assignee_inactive
 *   SET_CARRIER       V           any not terminal          carrier = person (全程代办员);
 *                                                           no version change
 *
 * Assignment (docs/LIFECYCLE.md "Who works the case"): the assignee is a
 * person of the holding unit (or, while a department holds the case, of
 * that department); any action that moves the case to another unit or
 * department clears it, and the new holder assigns anew.  The carrier stays
 * with the case to the end.  Anyone of the holding unit may still act on an
 * assigned case: assignment says who works it, not who may.
 *   NOTIFIED          S           not terminal; notify      notify SENT; attempt and time
 *                                 PENDING                   recorded (no version change)
 *   NOTIFY_FAILED     S           not terminal; notify      attempt, time and retry time
 *                                 PENDING                   recorded; FAILED when no retry
 *                                                           (no version change); note: the
 *                                                           error
 *
 * Notifying the villager: any action that moves the case into RESOLVED,
 * RETURNED or WAITING_MATERIALS sets notify PENDING (unless OFF) and names
 * the message on its event (sj_case_event.notify), which the county queues.
 *
 * The clock (限时办结, docs/LIFECYCLE.md "The clock"): the limit runs from
 * registration and no move between levels restarts it.  REQUEST_MATERIALS
 * stops it (paused_at_ms); SUPPLEMENT adds the working days in (date of
 * paused_at_ms, date of the supplement] to paused_days; EXTEND_APPROVE adds
 * the days asked for to extended_days; each then sets due_at_ms again from
 * registration (sj_case_due()) when the action carries the county's
 * calendar, and clears the overdue mark if the new due time is later than
 * the action.  OVERDUE and WARN are not given while the case waits for
 * materials (the clock stands).  A pending extension request lapses when
 * the case changes holder or is finished.  RETURN_DOWN counts return_count.
 *
 *   "resolver" is the level and unit that resolved or returned the case
 *   (resolved_level/resolved_unit).  CLOSED and WITHDRAWN are terminal.
 *
 * Checks, in this order, each with its own refusal code:
 *   1. the actor is well formed (role and unit agree)       SJ_EINVAL
 *   2. the case lies in the actor's scope                   SJ_ESCOPE
 *   3. the case is not terminal                             SJ_ETERMINAL
 *   4. expected_version == version (except URGE, SUPERVISE,
 *      OVERDUE, WARN)                                       SJ_ESTALE_VERSION
 *   5. the actor's role may do the action at all            SJ_EWRONG_ROLE
 *   6. the status allows it                                 SJ_ENOT_ALLOWED
 *   7. the case is held at the actor's level/unit           SJ_EWRONG_LEVEL
 *   8. the item may be finished at this level               SJ_ELEVEL_TOO_LOW
 *   9. required fields present, no field the action does
 *      not take, text valid UTF-8 and within limits         SJ_EMISSING_FIELD /
 *                                                           SJ_EBAD_FIELD
 *
 * How the checks read, and what the table leaves open (docs/LIFECYCLE.md):
 *   - Check 1 also refuses an unknown action and a case record that breaks
 *     the machine's invariants (village code, holder fitting status and
 *     village, resume_status while waiting, resolver while resolved/returned/
 *     unsatisfied, materials list present when counted): SJ_EINVAL.
 *   - Check 6 asks whether the status allows the action for anyone; check 7
 *     then refuses an actor of the wrong level or unit.  So township staff
 *     accepting a case escalated to the county get SJ_EWRONG_LEVEL, not
 *     SJ_ENOT_ALLOWED.  SUPERVISE on a supervised case and OVERDUE on an
 *     overdue one are SJ_ENOT_ALLOWED (check 6).
 *   - URGE is a person's act (V, T, C); the system only marks OVERDUE/WARN.
 *   - RESOLVE by the village holding a REGISTERED case has the same effect as
 *     RESOLVE_AT_ONCE (clients may show only 即办 at the village).
 *   - ACCEPT takes no department (the county names one by DISPATCH, chosen
 *     from its records: a code of the form sj_department_code_valid();
 *     the county refuses a code it does not know or that is inactive).
 *   - CLOSE keeps the holder.  REOPEN clears result, return_reason,
 *     handling and the resolver: they are set again by the next
 *     resolution.  好差评: REOPEN keeps the 差评's satisfaction; RESOLVE,
 *     RESOLVE_AT_ONCE or RETURN_UNDOABLE of a case whose rectification is
 *     open (sj_case_rectify_open()) records the rectification like RECTIFY;
 *     any other finish clears the satisfaction.
 *   - Two materials lists are the same if they hold the same names in any
 *     order.  A caller must fill `materials` with the last list whenever
 *     materials_rounds > 0, or every new request counts as a different list.
 *   - Check 9: at_ms must be > 0 (SJ_EMISSING_FIELD).  A required text that is
 *     blank (sj_utf8_blank(): NULL, empty, or only white space, ASCII,
 *     U+00A0 or U+3000) is missing.  Then each action takes only its own
 *     fields (sj_case_action_fields()): a note with every person's action;
 *     a result with RESOLVE_AT_ONCE, RESOLVE and REPORT; a department code
 *     with DISPATCH; the materials list with
 *     REQUEST_MATERIALS; a satisfaction with FEEDBACK and CALLBACK; warn_percent with
 *     WARN only (and WARN no note: OVERDUE and WARN are the sweep's marks).
 *     Any other field given (text not empty, a list not empty, a value not
 *     0) is SJ_EBAD_FIELD, naming the field and the action, so that what a
 *     form left in a box of another action never goes into the history.
 *     Every text the action carries is checked: too long or not UTF-8 is
 *     SJ_EBAD_FIELD; so are an empty material name and a list longer than
 *     SJ_CASE_MATERIALS_MAX.  WARN: warn_percent 0 is missing; above 99, or
 *     not above warn_level, is SJ_EBAD_FIELD.  FEEDBACK, CALLBACK: a
 *     satisfaction outside 1..5 is SJ_EBAD_FIELD; CALLBACK needs its note
 *     too (SJ_EMISSING_FIELD).
 *   - Every action produces exactly one event today; SJ_CASE_EVENTS_MAX
 *     leaves room for compound actions.
 *
 * Handling type (set when a case is resolved or returned): RETURNED if
 * returned; else SUPPLEMENTED if materials were ever requested; else by the
 * resolver's level: village AT_ONCE (即办), township UNDERTAKEN (承办), county
 * ON_BEHALF (代办).
 *
 * Ownership: sj_case holds its text by borrowed pointers.  After
 * sj_case_apply() the text pointers of out->next point into `current`,
 * `action` or (TAKE_OVER's assignee) `actor`; copy them before any of them
 * goes away.  Refusal messages are
 * constant English strings, marked for translation (the caller translates
 * them at the edge, e.g. the county into Chinese for the Ack reason).  The
 * refusal of a field an action does not take is two such strings joined by
 * SJ_REFUSAL_JOIN (refusal.h): what the field is for, and what the chosen
 * action takes; sj_refusal_format() translates each.
 *
 * A new case's own fields (the applicant and the request) are checked by
 * sj_case_check_submit(), by the client before it saves a registration and
 * by the county before it records one: one rule for both.
 *
 * Entry points: sj_case_register(), sj_case_apply(), sj_case_check(),
 * sj_case_check_submit(), sj_case_action_fields(),
 * sj_case_allowed_actions(), sj_case_in_scope(), sj_case_is_terminal(),
 * sj_case_is_active(), and the name functions.
 */
#ifndef SJ_CASE_H
#define SJ_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "orgunit.h" /* sj_level */

typedef enum sj_person_role {
    SJ_ROLE_NONE = 0,
    SJ_ROLE_VILLAGE_CADRE = 1,
    SJ_ROLE_TOWNSHIP_STAFF = 2,
    SJ_ROLE_COUNTY_OPERATOR = 3,
    SJ_ROLE_DEPARTMENT_STAFF = 4,      /* county level; acts for one department */
    SJ_ROLE_SYSTEM = 9,
} sj_person_role;

typedef enum sj_case_status {
    SJ_STATUS_NONE = 0,
    SJ_STATUS_REGISTERED = 1,
    SJ_STATUS_ESCALATED_TOWNSHIP = 2,
    SJ_STATUS_ACCEPTED_TOWNSHIP = 3,
    SJ_STATUS_ESCALATED_COUNTY = 4,
    SJ_STATUS_ACCEPTED_COUNTY = 5,
    SJ_STATUS_WAITING_MATERIALS = 6,
    SJ_STATUS_RESOLVED = 7,
    SJ_STATUS_RETURNED = 8,
    SJ_STATUS_UNSATISFIED = 9,
    SJ_STATUS_CLOSED = 10,
    SJ_STATUS_WITHDRAWN = 11,
    SJ_STATUS_DISPATCHED = 12,          /* 待接单: dispatched to a department */
    SJ_STATUS_DEPARTMENT_HANDLING = 13, /* 部门办理中: the department took it */
    SJ_STATUS_REPORTED = 14,            /* 待审核回单: the department reported back */
} sj_case_status;
#define SJ_STATUS_COUNT 15

typedef enum sj_case_action {
    SJ_ACTION_NONE = 0,
    SJ_ACTION_REGISTER = 1,
    SJ_ACTION_RESOLVE_AT_ONCE = 2,
    SJ_ACTION_ESCALATE = 3,
    SJ_ACTION_ACCEPT = 4,
    SJ_ACTION_RETURN_DOWN = 5,
    SJ_ACTION_REQUEST_MATERIALS = 6,
    SJ_ACTION_SUPPLEMENT = 7,
    SJ_ACTION_RESOLVE = 8,
    SJ_ACTION_RETURN_UNDOABLE = 9,
    SJ_ACTION_WITHDRAW = 10,
    SJ_ACTION_URGE = 11,
    SJ_ACTION_FEEDBACK = 12,
    SJ_ACTION_REOPEN = 13,
    SJ_ACTION_CLOSE = 14,
    SJ_ACTION_SUPERVISE = 15,
    SJ_ACTION_OVERDUE = 16,
    SJ_ACTION_WARN = 17,
    SJ_ACTION_DISPATCH = 18,        /* 派单 */
    SJ_ACTION_TAKE = 19,            /* 接单 */
    SJ_ACTION_REFUSE_DISPATCH = 20, /* 退单: not this department's matter */
    SJ_ACTION_REPORT = 21,          /* 回单 */
    SJ_ACTION_RETURN_REPORT = 22,   /* 回单退回: the county sends the report back */
    SJ_ACTION_EXTEND_REQUEST = 23,  /* 申请延期 */
    SJ_ACTION_EXTEND_APPROVE = 24,  /* 批准延期 */
    SJ_ACTION_EXTEND_REFUSE = 25,   /* 不予延期 */
    SJ_ACTION_DUE_RECOMPUTE = 26,   /* system: due time recomputed after a calendar import */
    SJ_ACTION_ASSIGN = 27,          /* 指派/改派: to a named person of the holding unit */
    SJ_ACTION_TAKE_OVER = 28,       /* 接手: a colleague of the holding unit takes it over */
    SJ_ACTION_SET_CARRIER = 29,     /* 全程代办员: the village names the cadre who carries it */
    SJ_ACTION_NOTIFIED = 30,        /* system: the villager's message was sent (已通知) */
    SJ_ACTION_NOTIFY_FAILED = 31,   /* system: a message attempt failed (通知失败) */
    /* 32: kept for another action (unknown here). */
    SJ_ACTION_RECTIFY = 33,         /* 整改完成: a 差评's rectification is done */
    SJ_ACTION_CALLBACK = 34,        /* 回访: the village calls the villager back */
    SJ_ACTION_RECTIFY_OVERDUE = 35, /* system: a rectification passed its limit (整改超期) */
} sj_case_action;
#define SJ_ACTION_COUNT 36

typedef enum sj_handling {
    SJ_HANDLING_NONE = 0,
    SJ_HANDLING_AT_ONCE = 1,
    SJ_HANDLING_UNDERTAKEN = 2,
    SJ_HANDLING_ON_BEHALF = 3,
    SJ_HANDLING_SUPPLEMENTED = 4,
    SJ_HANDLING_RETURNED = 5,
} sj_handling;

/* Notifying the villager of a result (docs/LIFECYCLE.md "Notifying the
 * villager"); the numbering mirrors proto/sanji.proto's NotifyState. */
typedef enum sj_notify_state {
    SJ_NOTIFY_NONE = 0,     /* nothing to tell yet */
    SJ_NOTIFY_PENDING = 1,  /* a message waits to be sent or retried (待通知) */
    SJ_NOTIFY_SENT = 2,     /* sent (已通知) */
    SJ_NOTIFY_FAILED = 3,   /* every attempt failed (通知失败) */
    SJ_NOTIFY_OFF = 4,      /* the cadre chose "do not notify" at registration (不通知) */
} sj_notify_state;

/* Which message a result calls for: entering RESOLVED, RETURNED or
 * WAITING_MATERIALS (sj_case_event.notify). */
typedef enum sj_notify_kind {
    SJ_NOTIFY_KIND_NONE = 0,
    SJ_NOTIFY_KIND_RESOLVED = 1,
    SJ_NOTIFY_KIND_RETURNED = 2,
    SJ_NOTIFY_KIND_MATERIALS = 3,
} sj_notify_kind;

/* The villager's evaluation on the national 政务服务"好差评" five-level
 * scale.  1-3 are the three levels Sanji always had and keep their numbers
 * (a stored 1, 2 or 3 means what it always meant); 4 and 5 are the two
 * added ends.  Screens list them in sj_satisfaction_scale[] order
 * (非常满意 .. 非常不满意), never in number order. */
typedef enum sj_satisfaction {
    SJ_SATISFACTION_NONE = 0,
    SJ_SATISFACTION_SATISFIED = 1,        /* 满意 */
    SJ_SATISFACTION_BASICALLY = 2,        /* 基本满意 */
    SJ_SATISFACTION_UNSATISFIED = 3,      /* 不满意 (差评) */
    SJ_SATISFACTION_VERY_SATISFIED = 4,   /* 非常满意 */
    SJ_SATISFACTION_VERY_UNSATISFIED = 5, /* 非常不满意 (差评) */
} sj_satisfaction;
#define SJ_SATISFACTION_LEVELS 5

/* The five levels from best to worst, for forms and tables. */
extern const sj_satisfaction sj_satisfaction_scale[SJ_SATISFACTION_LEVELS];

/* The one good/bad classification of an evaluation (好评/差评): 不满意 and
 * 非常不满意 are 差评 (they start a rectification and a 回访), the other
 * three levels are 好评.  The statistics' SQL uses SJ_SATISFACTION_BAD_SQL,
 * the same classification as a PostgreSQL expression on a satisfaction
 * column; tests check that the two agree.  Anything that classifies an
 * evaluation (the 满意率, the export, service ratings) uses these two. */
bool sj_satisfaction_is_bad(sj_satisfaction s);
bool sj_satisfaction_is_good(sj_satisfaction s);
#define SJ_SATISFACTION_BAD_SQL(col) "(" col " IN (3, 5))"
#define SJ_SATISFACTION_GOOD_SQL(col) "(" col " IN (1, 2, 4))"

/* The working days a 差评's rectification may take by default (整改时限,
 * the county's haocha.rectify_days). */
#define SJ_RECTIFY_DAYS_DEFAULT 15

/* Limits on text carried by actions (bytes of UTF-8). */
#define SJ_CASE_TEXT_MAX 4000      /* note, result, request text */
#define SJ_CASE_NAME_MAX 200       /* department, material name */
#define SJ_CASE_MATERIALS_MAX 50   /* items in one materials list */
#define SJ_CASE_EVENTS_MAX 2
#define SJ_CASE_EXTEND_MAX 60      /* working days one extension may ask for */

#define SJ_UNIT_CODE_SIZE 13
/* A department code: [a-z0-9-]{1,31}, the name part of a department desk's
 * identity (identity.h), e.g. "mzj" for 县民政局 (docs/DATA.md). */
#define SJ_DEPARTMENT_CODE_MAX 31
#define SJ_DEPARTMENT_CODE_SIZE (SJ_DEPARTMENT_CODE_MAX + 1)
/* A person id: 1..64 bytes of [A-Za-z0-9._-] (sj_person_id_valid()). */
#define SJ_PERSON_ID_MAX 64
#define SJ_PERSON_ID_SIZE (SJ_PERSON_ID_MAX + 1)

/* Who acts: a person's role and org unit (12-digit code); department staff
 * also name their department (their unit is the county's).  The person id
 * is judged by TAKE_OVER only (the taker becomes the assignee); "" for the
 * system and wherever no person is known. */
typedef struct sj_actor {
    sj_person_role role;
    char unit[SJ_UNIT_CODE_SIZE];
    char department[SJ_DEPARTMENT_CODE_SIZE]; /* DEPARTMENT_STAFF only */
    char person[SJ_PERSON_ID_SIZE];
} sj_actor;

/* The lifecycle-relevant part of a case (the rest: applicant, request text,
 * item name ... is data the state machine does not judge). */
typedef struct sj_case {
    char village[SJ_UNIT_CODE_SIZE];
    sj_level item_min_level;           /* lowest level that can finish the item */
    sj_case_status status;
    sj_case_status resume_status;      /* WAITING_MATERIALS only */
    sj_level holder_level;
    char holder_unit[SJ_UNIT_CODE_SIZE];
    uint64_t version;                  /* 1 after REGISTER */
    sj_handling handling;
    bool overdue;
    bool supervised;
    bool escalated;                    /* has ever left the village */
    bool reached_county;               /* has ever been escalated to the county */
    uint32_t warn_level;               /* percent */
    uint32_t urge_count;
    uint32_t materials_rounds;
    sj_satisfaction satisfaction;
    sj_level resolved_level;
    char resolved_unit[SJ_UNIT_CODE_SIZE];
    int64_t updated_at_ms;
    int64_t closed_at_ms;
    uint32_t department_refusals;      /* times a department refused it (退单) */
    /* The clock (限时办结): the case is due limit_days + paused_days +
     * extended_days working days after registered_at_ms (sj_case_due()). */
    int64_t registered_at_ms;
    uint32_t limit_days;               /* the item's limit (or urgent limit) */
    int64_t due_at_ms;
    bool due_provisional;              /* due beyond the loaded calendar (暂定) */
    int64_t paused_at_ms;              /* WAITING_MATERIALS: when the clock stopped */
    uint32_t paused_days;              /* working days waited for materials */
    uint32_t extended_days;            /* working days of approved extensions */
    uint32_t extension_days;           /* pending extension request (0: none) */
    uint32_t return_count;             /* RETURN_DOWNs (退回下级) so far */
    /* Borrowed text; NULL means empty. */
    const char *department;            /* the department's name (the county fills it) */
    const char *department_code;       /* the department dispatched to (派单) */
    const char *result;
    const char *return_reason;
    const char *const *materials;      /* last list requested */
    size_t n_materials;
    /* Notifying the villager of the last result.  OFF is set at
     * registration by the caller from the submission (CaseSubmit.no_notify)
     * and stays; otherwise entering RESOLVED, RETURNED or WAITING_MATERIALS
     * makes it PENDING (attempts and times cleared), and NOTIFIED /
     * NOTIFY_FAILED record each attempt. */
    sj_notify_state notify;
    uint32_t notify_attempts;
    int64_t notify_at_ms;              /* last attempt */
    int64_t notify_retry_at_ms;        /* PENDING after a failure: next attempt */
    /* Who works the case in the holding unit (指派), cleared whenever the
     * case moves to another unit or department; and the village cadre who
     * carries it throughout (全程代办员), kept wherever it goes.  Ids are
     * judged here; names are the county's records' (apply fills them). */
    const char *assignee;
    const char *assignee_name;
    const char *carrier;
    const char *carrier_name;
    /* 好差评 (docs/LIFECYCLE.md "Bad evaluations: rectify and call back"):
     * a 差评 by FEEDBACK sets rectify_due_at_ms (on the county's calendar);
     * RECTIFY, or the case finished again after REOPEN, sets rectified_at_ms
     * and rectify_late; the sweep's RECTIFY_OVERDUE sets rectify_late early;
     * CALLBACK sets called_back_at_ms and closes the case. */
    int64_t rectify_due_at_ms;         /* 0: no due time (none, or not on the calendar) */
    int64_t rectified_at_ms;           /* 0: not rectified */
    int64_t called_back_at_ms;         /* 0: not called back */
    bool rectify_late;                 /* rectified after, or still open past, the due time */
} sj_case;

/* One action as requested. */
typedef struct sj_action {
    sj_case_action type;
    uint64_t expected_version;
    int64_t at_ms;                     /* when it was done; becomes updated_at/closed_at */
    const char *note;
    const char *result;
    const char *department;            /* DISPATCH: the department's code */
    const char *const *materials;
    size_t n_materials;
    sj_satisfaction satisfaction;
    uint32_t warn_percent;             /* WARN only: 1..99 */
    uint32_t extend_days;              /* EXTEND_REQUEST only: 1..SJ_CASE_EXTEND_MAX */
    uint32_t notify_attempt;           /* NOTIFIED, NOTIFY_FAILED: 1, 2 ... (required) */
    int64_t notify_retry_at_ms;        /* NOTIFY_FAILED: the retry, after at_ms (0: given up) */
    const char *person;                /* ASSIGN: the assignee; SET_CARRIER: the carrier */
    /* Not a field of the action: the county's records say the case's
     * assignee is no longer active, so that TAKE_OVER needs no reason.
     * Clients and relays leave it false (a reason is asked for). */
    bool assignee_inactive;
    /* The county's working-day calendar, not a field of the action: with
     * it the clock moves (SUPPLEMENT, EXTEND_APPROVE, DUE_RECOMPUTE); NULL
     * (clients, relays) leaves the due time as it is and refuses
     * DUE_RECOMPUTE. */
    const struct sj_calendar *calendar;
    /* The county's 整改时限 in working days, not a field of the action: a
     * 差评 by FEEDBACK gets rectify_due_at_ms = at_ms + rectify_days on the
     * calendar (both needed; else no due time). */
    uint32_t rectify_days;
} sj_action;

/* The fields of an sj_action other than its type, version and time, as
 * bits: sj_case_action_fields() says which an action takes. */
typedef enum sj_case_field {
    SJ_CASE_FIELD_NOTE = 1 << 0,
    SJ_CASE_FIELD_RESULT = 1 << 1,
    SJ_CASE_FIELD_DEPARTMENT = 1 << 2,
    SJ_CASE_FIELD_MATERIALS = 1 << 3,
    SJ_CASE_FIELD_SATISFACTION = 1 << 4,
    SJ_CASE_FIELD_WARN_PERCENT = 1 << 5,
    SJ_CASE_FIELD_EXTEND_DAYS = 1 << 6,
    SJ_CASE_FIELD_NOTIFY = 1 << 7,     /* notify_attempt, notify_retry_at_ms */
    SJ_CASE_FIELD_PERSON = 1 << 8,     /* person */
} sj_case_field;

/* A new case's own fields as the village registers them. */
typedef struct sj_submit {
    const char *applicant_name;
    const char *id_number;
    const char *phone;
    const char *request_text;
} sj_submit;

/* One history entry produced by an action (the caller adds who/where/when). */
typedef struct sj_case_event {
    sj_case_action action;
    sj_case_status from_status;
    sj_case_status to_status;
    bool repeat_materials_request;
    /* The clock: working days paused (SUPPLEMENT), asked for
     * (EXTEND_REQUEST), granted or refused (EXTEND_APPROVE/REFUSE); and
     * the due time after the action when it moved (0: unchanged). */
    uint32_t clock_days;
    int64_t due_at_ms;
    bool due_provisional;
    /* The message to the villager this event calls for (the county queues
     * it in the same transaction); NONE when none is, or the case is OFF.
     * NOTIFIED / NOTIFY_FAILED: the attempt and the retry time. */
    sj_notify_kind notify;
    uint32_t notify_attempt;
    int64_t notify_retry_at_ms;
    /* 好差评: the rectification's due time a 差评 set (FEEDBACK) or passed
     * (RECTIFY_OVERDUE); whether a rectification was late (RECTIFY, or the
     * case finished again after REOPEN). */
    int64_t rectify_due_at_ms;
    bool rectify_late;
} sj_case_event;

/* True if a 差评 on the case waits for its rectification (整改): the case
 * is UNSATISFIED and not rectified yet, or was reopened after the 差评 and
 * is being handled again. */
bool sj_case_rectify_open(const sj_case *c);

/* True if the village owes the villager a 回访: the 差评 is rectified and
 * the villager not called back yet. */
bool sj_case_callback_due(const sj_case *c);

typedef struct sj_case_outcome {
    sj_case next;
    sj_case_event events[SJ_CASE_EVENTS_MAX];
    size_t n_events;
} sj_case_outcome;

/* REGISTER: makes the initial case for `village` (must equal the actor's
 * unit) and an item whose lowest level is item_min_level.  Returns 0 and
 * fills out, or a refusal code with err set. */
int sj_case_register(const char *village, sj_level item_min_level, int64_t at_ms,
                     const sj_actor *actor, sj_case_outcome *out, sj_error *err);

/* Every other action.  Returns 0 and fills out, or a refusal code (see the
 * order of checks above) with err set; out is then untouched. */
int sj_case_apply(const sj_case *current, const sj_action *action, const sj_actor *actor,
                  sj_case_outcome *out, sj_error *err);

/* The due time of a case with `days` working days in all (limit, paused,
 * extended) from registered_at_ms on cal (calendar.h's rule), and whether it
 * is provisional: it falls in a year whose holiday arrangement cal does not
 * hold (sj_calendar_covers()).  Returns 0 or SJ_EINVAL (times or days out of
 * range). */
int sj_case_due(const struct sj_calendar *cal, int64_t registered_at_ms, uint32_t days,
                int64_t *due_ms, bool *provisional);

/* The fields `action` takes (bits of sj_case_field); 0 for REGISTER, whose
 * fields are the submission's, and for an unknown action.  Forms show these
 * inputs and send these fields only. */
unsigned sj_case_action_fields(sj_case_action action);

/* Checks a registration's own fields: the applicant's name, ID number and
 * phone and the request text are required (a blank one is
 * SJ_EMISSING_FIELD, naming it); the name (SJ_CASE_NAME_MAX) and the request
 * (SJ_CASE_TEXT_MAX) must be valid UTF-8 within their limits
 * (SJ_EBAD_FIELD).  The form of the ID number and the phone is
 * personal.h's to judge (SJ_EBAD_ID_NUMBER, SJ_EBAD_PHONE), after this.
 * Returns 0 or the refusal code with err. */
int sj_case_check_submit(const sj_submit *submit, sj_error *err);

/* Checks 1-8 only (no fields, no version): could this actor do this action
 * now?  For showing buttons.  Returns 0 or the refusal code. */
int sj_case_check(const sj_case *current, sj_case_action action, const sj_actor *actor,
                  sj_error *err);

/* Fills out (room for max) with the actions the actor may take now, in enum
 * order, and returns how many. */
size_t sj_case_allowed_actions(const sj_case *current, const sj_actor *actor,
                               sj_case_action *out, size_t max);

/* True if the actor may see and act on cases of this village at all. */
bool sj_case_in_scope(const char *village, const sj_actor *actor);

bool sj_case_is_terminal(sj_case_status status);
bool sj_case_is_active(sj_case_status status);

/* Level of a person role (SYSTEM is county level). */
sj_level sj_role_level(sj_person_role role);

/* Stable lower-case names, for logs, the CLI and JSON ("escalated_township").
 * The *_from_name functions return the NONE value for an unknown name. */
const char *sj_case_status_name(sj_case_status status);
const char *sj_case_action_name(sj_case_action action);
const char *sj_level_name(sj_level level);
const char *sj_role_name(sj_person_role role);
const char *sj_handling_name(sj_handling handling);
const char *sj_satisfaction_name(sj_satisfaction satisfaction);
const char *sj_notify_state_name(sj_notify_state state); /* "pending", "sent" ... */
const char *sj_notify_kind_name(sj_notify_kind kind);    /* "resolved", "returned", "materials" */
sj_case_status sj_case_status_from_name(const char *name);
sj_case_action sj_case_action_from_name(const char *name);
sj_person_role sj_role_from_name(const char *name);
sj_level sj_level_from_name(const char *name);
sj_handling sj_handling_from_name(const char *name);
sj_satisfaction sj_satisfaction_from_name(const char *name);

/* True if code has the form of a department code ([a-z0-9-]{1,31}).  Whether
 * such a department exists and is active is the county's records' to say. */
bool sj_department_code_valid(const char *code);

/* True if id has the form of a person id (1..SJ_PERSON_ID_MAX bytes of
 * letters, digits, '.', '_' and '-').  Whether such a person exists, is
 * active and works in the right unit is the county's records' to say. */
bool sj_person_id_valid(const char *id);

/* True if a department holds the case now: dispatched to it, taken by it,
 * or waiting for materials it asked for. */
bool sj_case_department_holds(const sj_case *c);

/* True if s is valid UTF-8 of at most max bytes (NULL counts as empty). */
bool sj_text_valid(const char *s, size_t max);

#endif
