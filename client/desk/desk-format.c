/*
 * desk-format.c - display rules of the desktop (see desk-format.h).
 *
 * Entry points: desk_format_buckets(), desk_format_delivery(),
 * desk_format_time(), desk_format_label(), desk_format_percent(),
 * desk_format_stats_csv(), desk_format_case_title(),
 * desk_format_case_change().
 */
#include "desk-format.h"

#include <glib.h>
#include <string.h>
#include <time.h>

#include "i18n.h"

static const char *nz(const char *s)
{
    return s ? s : "";
}

unsigned desk_format_buckets(const Sanji__Case *c, const char *my_unit, int64_t now_ms)
{
    sj_case_status st = (sj_case_status)c->status;
    unsigned b = 0;
    if (st == SJ_STATUS_CLOSED || st == SJ_STATUS_WITHDRAWN)
        return DESK_BUCKET_DONE;
    if (st == SJ_STATUS_RESOLVED || st == SJ_STATUS_RETURNED)
        return DESK_BUCKET_FEEDBACK;
    if (!sj_case_is_active(st))
        return 0;
    if (strcmp(nz(c->holder_unit), nz(my_unit)) == 0)
        b |= DESK_BUCKET_TODO;
    else
        b |= DESK_BUCKET_IN_PROGRESS;
    /* The county's sweep sets `overdue`; a desk that has been offline since
     * the due time passed must not wait for it to say so.  While the case
     * waits for the villager's materials its clock stands (the due time
     * moves out at the supplement): no passing time makes it late. */
    bool runs = st != SJ_STATUS_WAITING_MATERIALS;
    if (c->overdue || (runs && c->due_at_ms > 0 && now_ms > c->due_at_ms))
        b |= DESK_BUCKET_OVERDUE;
    else if (runs && ((c->due_at_ms > 0 && c->due_at_ms - now_ms <= DESK_DUE_SOON_MS) ||
                      c->warn_level >= 75))
        b |= DESK_BUCKET_DUE_SOON;
    return b;
}

const char *desk_format_bucket_title(unsigned index)
{
    switch (index) {
    /* Translators: home page list of cases the user must act on now. */
    case 0: return _("Waiting for me");
    /* Translators: home page list of cases with the township or county. */
    case 1: return _("With the township or county");
    case 2: return _("Due soon");
    case 3: return _("Overdue");
    /* Translators: result is back; tell the villager and record satisfaction. */
    case 4: return _("Result back, record satisfaction");
    case 5: return _("Finished");
    default: return "";
    }
}

desk_delivery desk_format_delivery(const Sanji__Case *c, const sc_outbox_entry *rows, size_t n)
{
    desk_delivery unfinished = DESK_DELIVERY_NONE;
    const sc_outbox_entry *last = NULL;
    for (size_t i = 0; i < n; i++) {
        const sc_outbox_entry *r = &rows[i];
        if (c->case_id.len != 16 || memcmp(r->case_id, c->case_id.data, 16) != 0)
            continue;
        if (!last || r->seq > last->seq)
            last = r;
        desk_delivery d = r->state == SC_OUT_SAVED    ? DESK_DELIVERY_SAVED
                          : r->state == SC_OUT_STORED ? DESK_DELIVERY_STORED
                                                      : DESK_DELIVERY_NONE;
        if (d != DESK_DELIVERY_NONE && (unfinished == DESK_DELIVERY_NONE || d < unfinished))
            unfinished = d;
    }
    if (unfinished != DESK_DELIVERY_NONE)
        return unfinished;
    if (last && last->state == SC_OUT_REFUSED)
        return DESK_DELIVERY_REFUSED;
    if ((c->number && *c->number) || (last && last->state == SC_OUT_APPLIED))
        return DESK_DELIVERY_APPLIED;
    return DESK_DELIVERY_NONE;
}

const char *desk_format_delivery_label(desk_delivery d)
{
    switch (d) {
    /* Translators: delivery state; saved on this PC, not yet sent. */
    case DESK_DELIVERY_SAVED: return _("Saved here, not sent yet");
    case DESK_DELIVERY_STORED: return _("Reached the township");
    case DESK_DELIVERY_APPLIED: return _("Recorded by the county");
    case DESK_DELIVERY_REFUSED: return _("Refused, see the case");
    default: return "";
    }
}

char *desk_format_time(int64_t ms)
{
    if (ms <= 0)
        return g_strdup("—");
    time_t t = (time_t)(ms / 1000) + 8 * 3600; /* China has one zone and no DST */
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return g_strdup("—");
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
    return g_strdup(buf);
}

const char *desk_format_label(const char *label)
{
    if (!label)
        return "";
    /* Only an untranslated label (plain ASCII context) is cut. */
    const char *colon = strstr(label, ": ");
    if (!colon)
        return label;
    for (const char *p = label; p < colon; p++)
        if ((unsigned char)*p >= 0x80)
            return label;
    return colon + 2;
}

char *desk_format_percent(unsigned num, unsigned den)
{
    if (den == 0)
        return g_strdup("—");
    return g_strdup_printf("%.1f%%", 100.0 * (double)num / (double)den);
}

static void csv_field(GString *s, const char *v)
{
    v = nz(v);
    if (strpbrk(v, ",\"\r\n")) {
        g_string_append_c(s, '"');
        for (const char *p = v; *p; p++) {
            if (*p == '"')
                g_string_append_c(s, '"');
            g_string_append_c(s, *p);
        }
        g_string_append_c(s, '"');
    } else {
        g_string_append(s, v);
    }
}

static void csv_row(GString *s, const char *scope, const Sanji__StatRow *r)
{
    csv_field(s, scope);
    g_string_append_c(s, ',');
    csv_field(s, r->key);
    g_string_append_c(s, ',');
    csv_field(s, r->label);
    g_autofree char *done = desk_format_percent(r->resolved, r->total);
    unsigned rated = r->satisfied + r->basically_satisfied + r->unsatisfied;
    g_autofree char *sat = desk_format_percent(r->satisfied + r->basically_satisfied, rated);
    g_string_append_printf(s, ",%u,%u,%u,%u,%u,%u,%u,%u,%u,%s,%s\r\n", r->total, r->resolved,
                           r->returned, r->open, r->overdue, r->satisfied, r->basically_satisfied,
                           r->unsatisfied, r->repeat_material_requests, done, sat);
}

char *desk_format_stats_csv(const Sanji__Statistics *s)
{
    GString *out = g_string_new("\xEF\xBB\xBF");
    /* Translators: CSV header of the statistics export; keep the commas. */
    g_string_append(out, _("scope,code,name,total,resolved,returned,open,overdue,satisfied,"
                           "basically satisfied,unsatisfied,repeated material requests,"
                           "completion rate,satisfaction"));
    g_string_append(out, "\r\n");
    if (s->all)
        csv_row(out, _("all"), s->all);
    for (size_t i = 0; i < s->n_by_township; i++)
        csv_row(out, _("township"), s->by_township[i]);
    for (size_t i = 0; i < s->n_by_category; i++)
        csv_row(out, _("category"), s->by_category[i]);
    return g_string_free(out, FALSE);
}

char *desk_format_case_title(const Sanji__Case *c)
{
    if (c->number && *c->number)
        return g_strdup_printf("%s  %s", c->number, nz(c->item_name));
    /* Translators: shown instead of the case number until the county assigns one. */
    return g_strdup_printf("%s  %s", _("(number pending)"), nz(c->item_name));
}

char *desk_format_case_change(const Sanji__CaseEvent *e)
{
    const char *who = e->actor_name && *e->actor_name ? e->actor_name : nz(e->actor_unit);
    GString *s = g_string_new(NULL);
    /* Translators: a change to a case; the action, who did it. */
    g_string_printf(s, _("%s by %s"), desk_format_label(sc_action_label((sj_case_action)e->action)), who);
    const char *note = nz(e->note);
    switch ((sj_case_action)e->action) {
    case SJ_ACTION_RETURN_DOWN:
    case SJ_ACTION_RETURN_UNDOABLE:
    case SJ_ACTION_WITHDRAW:
    case SJ_ACTION_REOPEN:
    case SJ_ACTION_CLOSE:
        if (*note)
            /* Translators: after a change, the reason given for it. */
            g_string_append_printf(s, _(". Reason: %s"), note);
        note = "";
        break;
    case SJ_ACTION_RESOLVE:
    case SJ_ACTION_RESOLVE_AT_ONCE:
        if (e->result && *e->result)
            g_string_append_printf(s, _(". Result: %s"), e->result);
        break;
    case SJ_ACTION_REQUEST_MATERIALS: {
        GString *m = g_string_new(NULL);
        for (size_t i = 0; i < e->n_materials; i++)
            g_string_append_printf(m, "%s%s", i ? _(", ") : "", nz(e->materials[i]));
        if (m->len)
            g_string_append_printf(s, _(". Missing materials: %s"), m->str);
        g_string_free(m, TRUE);
        if (e->repeat_materials_request)
            g_string_append(s, _(" (asked again: the first list was not complete)"));
        break;
    }
    default:
        break;
    }
    if (*note)
        g_string_append_printf(s, _(". Note: %s"), note);
    return g_string_free(s, FALSE);
}
