/*
 * refusal.c - refusal text for the cadre (see refusal.h).
 *
 * Entry points: sj_refusal_lead(), sj_refusal_format(), sj_refusal_set(),
 * sj_reason_format().
 */
#include "refusal.h"

#include <stdio.h>
#include <string.h>

#include "i18n.h"

const char *sj_refusal_lead(int code)
{
    switch (code) {
    case SJ_ESCOPE: return _("This case is outside what this station may handle.");
    case SJ_ETERMINAL: return _("This case is finished; no further action is possible.");
    case SJ_ESTALE_VERSION: return _("The case has changed; look at it again (sanji show) and retry.");
    case SJ_EWRONG_ROLE: return _("Your role may not take this action.");
    case SJ_ENOT_ALLOWED: return _("This action is not allowed in the case's current status.");
    case SJ_EWRONG_LEVEL: return _("The case is not held at your level now.");
    case SJ_ELEVEL_TOO_LOW: return _("This item cannot be finished at your level; escalate it instead.");
    case SJ_EMISSING_FIELD: return _("A required field is missing for this action.");
    case SJ_EBAD_FIELD: return _("A field has a bad value (too long, not valid text, or not part of this action).");
    case SJ_EBAD_TIME: return _("The computer that saved this has a wrong date or time.");
    default: return _("The action was refused.");
    }
}

/* Appends the translated parts of why to out, which holds n bytes (n < cap),
 * each after a space when something is before it. */
static void append_parts(const char *why, char *out, size_t cap, int n)
{
    for (const char *p = why ? why : ""; *p && n >= 0 && (size_t)n < cap;) {
        size_t len = strcspn(p, SJ_REFUSAL_JOIN);
        char part[SJ_ERROR_MESSAGE_MAX];
        /* A part longer than any msgid is a run-time detail: kept, cut. */
        snprintf(part, sizeof(part), "%.*s", (int)len, p);
        if (part[0])
            n += snprintf(out + n, cap - (size_t)n, "%s%s", n > 0 ? " " : "", _(part));
        p += len;
        p += strspn(p, SJ_REFUSAL_JOIN);
    }
    if (n < 0)
        out[0] = '\0';
}

void sj_refusal_format(int code, const char *why, char *out, size_t cap)
{
    if (cap == 0)
        return;
    /* Cut silently: a long detail must not lose the lead. */
    append_parts(why, out, cap, snprintf(out, cap, "%s", sj_refusal_lead(code)));
}

void sj_reason_format(const char *why, char *out, size_t cap)
{
    if (cap == 0)
        return;
    out[0] = '\0';
    append_parts(why, out, cap, 0);
}

int sj_refusal_set(sj_error *err, int code, const char *why)
{
    char text[SJ_ERROR_MESSAGE_MAX];
    sj_refusal_format(code, why, text, sizeof(text));
    return sj_error_set(err, code, "%s", text);
}
