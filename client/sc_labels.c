/*
 * sc_labels.c - the words the CLI and the desktop show for the library's
 * values: outbox states, case statuses and actions, notification,
 * satisfaction, rectification, handling and level, list marks, times.
 *
 * Entry points: the sc_*_label() functions, sc_case_marks(),
 * sc_format_time(), sc_satisfaction_parse().
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "i18n.h"

/* ---- labels ------------------------------------------------------------ */

const char *sc_out_state_label(sc_out_state s)
{
    switch (s) {
    case SC_OUT_SAVED: return _("outbox: saved");
    case SC_OUT_STORED: return _("outbox: reached the township");
    case SC_OUT_APPLIED: return _("outbox: recorded by the county");
    case SC_OUT_REFUSED: return _("outbox: refused");
    }
    return "?";
}

const char *sc_status_label(sj_case_status s)
{
    switch (s) {
    case SJ_STATUS_REGISTERED: return _("case status: registered");
    case SJ_STATUS_ESCALATED_TOWNSHIP: return _("case status: escalated to the township");
    case SJ_STATUS_ACCEPTED_TOWNSHIP: return _("case status: accepted by the township");
    case SJ_STATUS_ESCALATED_COUNTY: return _("case status: escalated to the county");
    case SJ_STATUS_ACCEPTED_COUNTY: return _("case status: accepted by the county");
    case SJ_STATUS_WAITING_MATERIALS: return _("case status: waiting for materials");
    case SJ_STATUS_RESOLVED: return _("case status: resolved");
    case SJ_STATUS_RETURNED: return _("case status: returned");
    case SJ_STATUS_UNSATISFIED: return _("case status: unsatisfied, follow-up");
    case SJ_STATUS_CLOSED: return _("case status: closed");
    case SJ_STATUS_WITHDRAWN: return _("case status: withdrawn");
    case SJ_STATUS_DISPATCHED: return _("case status: dispatched, waiting for the department");
    case SJ_STATUS_DEPARTMENT_HANDLING: return _("case status: handled by the department");
    case SJ_STATUS_REPORTED: return _("case status: reported back, waiting for review");
    default: return "?";
    }
}

const char *sc_action_label(sj_case_action a)
{
    if ((int)a == SC_OUTBOX_CHUNK)
        return _("attachment piece");
    switch (a) {
    case SJ_ACTION_REGISTER: return _("case action: register");
    case SJ_ACTION_RESOLVE_AT_ONCE: return _("case action: resolve at once");
    case SJ_ACTION_ESCALATE: return _("case action: escalate");
    case SJ_ACTION_ACCEPT: return _("case action: accept");
    case SJ_ACTION_RETURN_DOWN: return _("case action: return down");
    case SJ_ACTION_REQUEST_MATERIALS: return _("case action: request materials");
    case SJ_ACTION_SUPPLEMENT: return _("case action: supplement");
    case SJ_ACTION_RESOLVE: return _("case action: resolve");
    case SJ_ACTION_RETURN_UNDOABLE: return _("case action: return as not doable");
    case SJ_ACTION_WITHDRAW: return _("case action: withdraw");
    case SJ_ACTION_URGE: return _("case action: urge");
    case SJ_ACTION_FEEDBACK: return _("case action: feedback");
    case SJ_ACTION_REOPEN: return _("case action: reopen");
    case SJ_ACTION_CLOSE: return _("case action: close");
    case SJ_ACTION_SUPERVISE: return _("case action: supervise");
    case SJ_ACTION_OVERDUE: return _("case action: overdue");
    case SJ_ACTION_WARN: return _("case action: warning");
    case SJ_ACTION_DISPATCH: return _("case action: dispatch to a department");
    case SJ_ACTION_TAKE: return _("case action: take");
    case SJ_ACTION_REFUSE_DISPATCH: return _("case action: refuse back to the county");
    case SJ_ACTION_REPORT: return _("case action: report back");
    case SJ_ACTION_RETURN_REPORT: return _("case action: send the report back");
    case SJ_ACTION_EXTEND_REQUEST: return _("case action: ask for an extension");
    case SJ_ACTION_EXTEND_APPROVE: return _("case action: approve the extension");
    case SJ_ACTION_EXTEND_REFUSE: return _("case action: refuse the extension");
    case SJ_ACTION_DUE_RECOMPUTE: return _("case action: due time recomputed");
    case SJ_ACTION_NOTIFIED: return _("case action: villager notified");
    case SJ_ACTION_NOTIFY_FAILED: return _("case action: notifying the villager failed");
    case SJ_ACTION_ASSIGN: return _("case action: assign");
    case SJ_ACTION_TAKE_OVER: return _("case action: take over");
    case SJ_ACTION_SET_CARRIER: return _("case action: name the carrier");
    case SJ_ACTION_RECTIFY: return _("case action: rectified");
    case SJ_ACTION_CALLBACK: return _("case action: call back");
    case SJ_ACTION_RECTIFY_OVERDUE: return _("case action: rectification overdue");
    /* The only outbox row without an action: a person's own password
     * change (sc_change_password()). */
    case SJ_ACTION_NONE: return _("outbox: password change");
    default: return "?";
    }
}

const char *sc_notify_label(const Sanji__Case *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    switch ((sj_notify_state)c->notify_state) {
    case SJ_NOTIFY_PENDING:
        if (c->notify_attempts == 0)
            snprintf(buf, cap, "%s", _("notify: waiting to be sent"));
        else
            /* Translators: the message to the villager failed %u times and is tried again. */
            snprintf(buf, cap, _("notify: failed %u times, being retried"),
                     (unsigned)c->notify_attempts);
        break;
    case SJ_NOTIFY_SENT:
        /* Translators: the villager was sent the message (已通知), at attempt %u. */
        snprintf(buf, cap, _("notify: notified (attempt %u)"), (unsigned)c->notify_attempts);
        break;
    case SJ_NOTIFY_FAILED:
        /* Translators: every attempt to message the villager failed (通知失败). */
        snprintf(buf, cap, _("notify: failed after %u attempts"), (unsigned)c->notify_attempts);
        break;
    case SJ_NOTIFY_OFF:
        snprintf(buf, cap, "%s", _("notify: do not notify"));
        break;
    default:
        break;
    }
    return buf;
}

const char *sc_satisfaction_label(sj_satisfaction s)
{
    switch (s) {
    case SJ_SATISFACTION_SATISFIED: return _("satisfaction: satisfied");
    case SJ_SATISFACTION_BASICALLY: return _("satisfaction: basically satisfied");
    case SJ_SATISFACTION_UNSATISFIED: return _("satisfaction: unsatisfied");
    case SJ_SATISFACTION_VERY_SATISFIED: return _("satisfaction: very satisfied");
    case SJ_SATISFACTION_VERY_UNSATISFIED: return _("satisfaction: very unsatisfied");
    default: return "";
    }
}

void sc_format_time(int64_t ms, char *out, size_t cap)
{
    if (ms <= 0) {
        snprintf(out, cap, "-");
        return;
    }
    char iso[SJ_CLOCK_ISO_SIZE];
    if (sj_clock_format_china(ms, iso, sizeof(iso)) != 0) {
        snprintf(out, cap, "?");
        return;
    }
    /* "2026-11-23T20:00:00.123+08:00" -> "2026-11-23 20:00" */
    snprintf(out, cap, "%.10s %.5s", iso, iso + 11);
}

sj_satisfaction sc_satisfaction_parse(const char *s)
{
    static const struct {
        const char *en, *en2, *zh;
        sj_satisfaction v;
    } names[] = {
        {"very_satisfied", "very-satisfied", "非常满意", SJ_SATISFACTION_VERY_SATISFIED},
        {"satisfied", "satisfied", "满意", SJ_SATISFACTION_SATISFIED},
        {"basically", "basically_satisfied", "基本满意", SJ_SATISFACTION_BASICALLY},
        {"unsatisfied", "unsatisfied", "不满意", SJ_SATISFACTION_UNSATISFIED},
        {"very_unsatisfied", "very-unsatisfied", "非常不满意", SJ_SATISFACTION_VERY_UNSATISFIED},
    };
    if (!s)
        return SJ_SATISFACTION_NONE;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].en) == 0 || strcmp(s, names[i].en2) == 0 ||
            strcmp(s, names[i].zh) == 0)
            return names[i].v;
    return SJ_SATISFACTION_NONE;
}

const char *sc_rectify_label(const Sanji__Case *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!c || cap == 0)
        return buf;
    char due[32], done[32];
    sc_format_time(c->rectify_due_at_ms, due, sizeof(due));
    sc_format_time(c->rectified_at_ms, done, sizeof(done));
    if (c->rectified_at_ms > 0) {
        snprintf(buf, cap, c->rectify_late ? _("rectified %s, late (due %s)")
                                           : _("rectified %s (due %s)"),
                 done, due);
        if (c->called_back_at_ms == 0) {
            size_t len = strlen(buf);
            snprintf(buf + len, cap - len, " · %s", _("call back due (待回访)"));
        }
    } else if (c->rectify_due_at_ms > 0 || (sj_case_status)c->status == SJ_STATUS_UNSATISFIED) {
        snprintf(buf, cap, c->rectify_late ? _("being rectified, overdue (due %s)")
                                           : _("being rectified (due %s)"),
                 due);
    }
    return buf;
}

const char *sc_handling_label(sj_handling h)
{
    switch (h) {
    case SJ_HANDLING_AT_ONCE: return _("handling: at once at the village");
    case SJ_HANDLING_UNDERTAKEN: return _("handling: undertaken by the township");
    case SJ_HANDLING_ON_BEHALF: return _("handling: on behalf, by the county");
    case SJ_HANDLING_SUPPLEMENTED: return _("handling: after missing materials came in");
    case SJ_HANDLING_RETURNED: return _("handling: returned as not doable");
    default: return "";
    }
}

const char *sc_case_marks(const Sanji__Case *c, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    const char *sep = " · ";
#define MARK(...)                                                                              \
    do {                                                                                       \
        if (n < cap) {                                                                         \
            if (n > 0)                                                                         \
                n += (size_t)snprintf(buf + n, cap - n, "%s", sep);                            \
            if (n < cap)                                                                       \
                n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__);                          \
        }                                                                                      \
    } while (0)
    if (c->overdue)
        MARK("%s", _("overdue"));
    if (c->supervised)
        /* Translators: a list mark: the county supervises the case (督办). */
        MARK("%s", _("mark: supervised"));
    if (c->urge_count == 1)
        /* Translators: a list mark: urged once (催办). */
        MARK("%s", _("mark: urged"));
    else if (c->urge_count > 1)
        /* Translators: a list mark: urged %u times (催办). */
        MARK(_("mark: urged %u times"), (unsigned)c->urge_count);
    if (c->return_count > 0)
        /* Translators: a list mark: sent back down a level %u times (退回). */
        MARK(_("mark: returned down %u times"), (unsigned)c->return_count);
    if (c->department_refusals > 0)
        /* Translators: a list mark: refused by a department %u times (退单). */
        MARK(_("mark: refused by departments %u times"), (unsigned)c->department_refusals);
#undef MARK
    return buf;
}

const char *sc_level_label(sj_level l)
{
    switch (l) {
    case SJ_LEVEL_VILLAGE: return _("level: village");
    case SJ_LEVEL_TOWNSHIP: return _("level: township");
    case SJ_LEVEL_COUNTY: return _("level: county");
    default: return "";
    }
}
