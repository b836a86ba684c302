/*
 * netview.c - the network view's warnings (see netview.h).
 */
#include "netview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "i18n.h"
#include "identity.h"
#include "sanji_client.h"

#define DAY_MS INT64_C(86400000)

typedef struct list {
    sc_netview_warning *v;
    size_t n, cap;
} list;

static int push(list *l, sc_netview_kind kind, const char *node, const char *unit, int is_relay,
                uint32_t days, const Sanji__NodeStatus *township, size_t count)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        sc_netview_warning *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return SJ_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (sc_netview_warning){
        kind, node ? node : "", unit ? unit : "", is_relay, days, township, count, NULL};
    return 0;
}

void sc_netview_presence(const Sanji__StationStatus *s, int64_t now_ms,
                         const Sanji__PresenceDay **today, const Sanji__PresenceDay **last)
{
    char day[SJ_CLOCK_DATE_SIZE];
    sj_clock_format_date(sj_clock_china_day(now_ms), day);
    *today = *last = NULL;
    for (size_t i = 0; i < s->n_presence; i++) {
        const Sanji__PresenceDay *p = s->presence[i];
        if (!p->day)
            continue;
        int c = strcmp(p->day, day);
        if (c == 0)
            *today = p;
        else if (c < 0 && (*last == NULL || strcmp(p->day, (*last)->day) > 0))
            *last = p;
    }
}

/* Minutes as hours with one decimal, without a trailing ".0". */
static void hours(uint32_t minutes, char *buf, size_t cap)
{
    unsigned tenths = (unsigned)((minutes * 10u + 30u) / 60u);
    if (tenths % 10)
        snprintf(buf, cap, "%u.%u", tenths / 10, tenths % 10);
    else
        snprintf(buf, cap, "%u", tenths / 10);
}

void sc_netview_staffed_text(const Sanji__PresenceDay *p, char *buf, size_t cap)
{
    if (p == NULL) {
        snprintf(buf, cap, "-");
        return;
    }
    char a[16], b[16];
    hours(p->staffed_minutes, a, sizeof a);
    hours(p->duty_minutes, b, sizeof b);
    snprintf(buf, cap, "%s/%s", a, b);
}

int sc_netview_understaffed(const Sanji__PresenceDay *p, uint32_t warn_percent)
{
    return p && p->duty_minutes > 0 && warn_percent > 0 &&
           (uint64_t)p->staffed_minutes * 100 < (uint64_t)p->duty_minutes * warn_percent;
}

/* A village station, as opposed to a township or county desk (a desk off
 * over a holiday is no fault, so its silence is not warned of). */
static int is_station(const Sanji__StationStatus *s)
{
    sj_identity id;
    sj_error err;
    if (s->node == NULL || s->node[0] == '\0')
        return 1; /* the county's stand-in for a village never seen */
    return sj_identity_parse_node_id(s->node, &id, &err) == 0 && id.role == SJ_NODE_ROLE_VILLAGE;
}

/* The rule of netview.h a certificate falls under at now, or 0. */
static int cert_rule(int64_t not_after_ms, int64_t now, uint32_t warn_days, uint32_t *days_left)
{
    if (not_after_ms <= 0)
        return 0;
    if (not_after_ms <= now)
        return SC_NETVIEW_CERT_EXPIRED;
    int64_t left = (not_after_ms - now + DAY_MS - 1) / DAY_MS;
    if (left > (int64_t)warn_days)
        return 0;
    *days_left = (uint32_t)left;
    return SC_NETVIEW_CERT_EXPIRING;
}

/* Adds the warnings of one rule, walking the answer in its order. */
static int collect(const Sanji__NetworkStatus *ns, int64_t now, sc_netview_kind rule, list *l)
{
    for (size_t i = 0; i < ns->n_nodes; i++) {
        const Sanji__NodeStatus *r = ns->nodes[i];
        uint32_t left = 0;
        int rc = 0;
        if (rule == SC_NETVIEW_NEVER_CONNECTED && r->never_connected)
            rc = push(l, rule, r->node, r->org_unit, 1, 0, NULL, 0);
        else if (rule == SC_NETVIEW_SILENT && !r->never_connected &&
                 r->offline_working_days >= ns->offline_warn_working_days &&
                 ns->offline_warn_working_days > 0)
            rc = push(l, rule, r->node, r->org_unit, 1, r->offline_working_days, NULL, 0);
        else if ((rule == SC_NETVIEW_CERT_EXPIRED || rule == SC_NETVIEW_CERT_EXPIRING) &&
                 cert_rule(r->cert_not_after_ms, now, ns->cert_warn_days, &left) == (int)rule)
            rc = push(l, rule, r->node, r->org_unit, 1, left, NULL, 0);
        size_t never = 0;
        for (size_t j = 0; rc == 0 && j < r->n_stations; j++) {
            const Sanji__StationStatus *s = r->stations[j];
            if (rule == SC_NETVIEW_NEVER_CONNECTED && s->never_connected)
                never++;
            else if (rule == SC_NETVIEW_SILENT && !s->never_connected && !s->connected &&
                     is_station(s) && ns->offline_warn_working_days > 0 &&
                     s->offline_working_days >= ns->offline_warn_working_days)
                rc = push(l, rule, s->node, s->org_unit, 0, s->offline_working_days, NULL, 0);
            else if ((rule == SC_NETVIEW_CERT_EXPIRED || rule == SC_NETVIEW_CERT_EXPIRING) &&
                     cert_rule(s->cert_not_after_ms, now, ns->cert_warn_days, &left) == (int)rule)
                rc = push(l, rule, s->node, s->org_unit, 0, left, NULL, 0);
            else if (rule == SC_NETVIEW_UNSTAFFED && !s->never_connected && is_station(s)) {
                const Sanji__PresenceDay *today, *last;
                sc_netview_presence(s, now, &today, &last);
                if (sc_netview_understaffed(last, ns->staffed_warn_percent)) {
                    rc = push(l, rule, s->node, s->org_unit, 0,
                              (uint32_t)((uint64_t)last->staffed_minutes * 100 / last->duty_minutes),
                              NULL, 0);
                    if (rc == 0)
                        l->v[l->n - 1].presence = last;
                }
            }
        }
        if (rc == 0 && never > 0)
            rc = push(l, rule, "", r->org_unit, 0, 0, r, never);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int sc_netview_warnings(const Sanji__NetworkStatus *ns, int64_t now_ms, sc_netview_warning **out,
                        size_t *n, sj_error *err)
{
    static const sc_netview_kind order[] = {SC_NETVIEW_CERT_EXPIRED, SC_NETVIEW_NEVER_CONNECTED,
                                            SC_NETVIEW_SILENT, SC_NETVIEW_UNSTAFFED,
                                            SC_NETVIEW_CERT_EXPIRING};
    list l = {0};
    *out = NULL;
    *n = 0;
    if (ns && ns->calendar_missing_year &&
        push(&l, SC_NETVIEW_CALENDAR_MISSING, "", "", 0, ns->calendar_missing_year, NULL, 0) != 0)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    for (size_t i = 0; ns && i < sizeof(order) / sizeof(order[0]); i++) {
        if (collect(ns, now_ms, order[i], &l) != 0) {
            free(l.v);
            return sj_error_set(err, SJ_ENOMEM, NULL);
        }
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

/* The place's name, or its code. */
static const char *place(sc_netview_name_fn name_of, void *ctx, const char *code)
{
    const char *name = name_of && code && *code ? name_of(ctx, code) : NULL;
    return name && *name ? name : (code ? code : "");
}

/* "甲村、乙村…" for the stations of w's township that never connected. */
static void village_names(const sc_netview_warning *w, sc_netview_name_fn name_of, void *ctx,
                          char *buf, size_t cap)
{
    size_t used = 0, shown = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < w->township->n_stations && used < cap; j++) {
        const Sanji__StationStatus *s = w->township->stations[j];
        if (!s->never_connected)
            continue;
        if (shown == 10) {
            snprintf(buf + used, cap - used, "…");
            return;
        }
        int n = snprintf(buf + used, cap - used, "%s%s", shown ? "、" : "",
                         place(name_of, ctx, s->org_unit));
        if (n < 0)
            return;
        used += (size_t)n;
        shown++;
    }
}

void sc_netview_warning_text(const sc_netview_warning *w, sc_netview_name_fn name_of, void *ctx,
                             char *buf, size_t cap)
{
    const char *where = place(name_of, ctx, w->unit);
    char names[512];
    switch (w->kind) {
    case SC_NETVIEW_CALENDAR_MISSING:
        /* Translators: %u is next year, whose official holiday arrangement
         * the county server has not imported yet. */
        snprintf(buf, cap,
                 _("The %u holiday arrangement is not loaded: due times in %u are provisional and "
                   "count its holidays as working days. Import it on the county server with "
                   "sanji-countyd import holidays FILE."),
                 (unsigned)w->days, (unsigned)w->days);
        break;
    case SC_NETVIEW_CERT_EXPIRED:
        /* Translators: %s is a township or village, then its node id. */
        snprintf(buf, cap, _("%s (%s): the certificate has expired and the link is refused; issue "
                             "a new one (sanji-pki issue) and install it there."),
                 where, w->node);
        break;
    case SC_NETVIEW_NEVER_CONNECTED:
        if (w->is_relay) {
            snprintf(buf, cap,
                     _("%s: the township relay has never reported to the county; check that it "
                       "is installed, configured and running."),
                     where);
        } else {
            village_names(w, name_of, ctx, names, sizeof(names));
            /* Translators: %s a township, %zu how many of its village
             * stations, %s their names. */
            snprintf(buf, cap,
                     _("%s: %zu village stations have never connected (%s); check that they are "
                       "installed and enrolled, and that someone is on duty."),
                     where, w->count, names);
        }
        break;
    case SC_NETVIEW_SILENT:
        /* Translators: %s is a place, %u a number of working days. */
        snprintf(buf, cap,
                 w->is_relay ? _("%s: the township relay has not reported for %u working days; "
                                 "check its power and network.")
                             : _("%s: the village station has not connected for %u working days; "
                                 "call the duty cadre."),
                 where, (unsigned)w->days);
        break;
    case SC_NETVIEW_CERT_EXPIRING:
        /* Translators: %s a place, %s its node id, %u days left. */
        snprintf(buf, cap, _("%s (%s): the certificate expires in %u days; issue a new one before "
                             "then."),
                 where, w->node, (unsigned)w->days);
        break;
    case SC_NETVIEW_UNSTAFFED: {
        char staffed[32];
        sc_netview_staffed_text(w->presence, staffed, sizeof staffed);
        /* Translators: %s a village, %s its last working day, %s hours
         * staffed/duty hours ("6.5/9"). */
        snprintf(buf, cap,
                 _("%s: on %s the village station was staffed only %s hours of its duty hours; "
                   "call the duty cadre."),
                 where, w->presence && w->presence->day ? w->presence->day : "", staffed);
        break;
    }
    default: snprintf(buf, cap, "%s", where); break;
    }
}

const char *sc_netview_unit_name(void *client, const char *code)
{
    return sc_unit_name(client, code);
}
