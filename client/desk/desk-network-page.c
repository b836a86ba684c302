/*
 * desk-network-page.c - the network view (see desk-network-page.h).
 *
 * Every township and village of the desk's scope is listed (the county
 * answers with the org tree, so a station that never connected shows too),
 * with the warnings of client/netview.h above the table: what needs
 * someone's attention first, in words, not only in colours.
 *
 * Entry points: desk_network_page_new(), desk_network_page_refresh().
 */
#include "desk-network-page.h"

#include <string.h>

#include "clock.h"
#include "desk-format.h"
#include "i18n.h"
#include "netview.h"

struct _DeskNetworkPage {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *grid, *message, *warnings;
    guint timer;
    bool asking;
};

G_DEFINE_TYPE(DeskNetworkPage, desk_network_page, GTK_TYPE_BOX)

/* Warnings listed above the table; more are counted. */
#define WARNINGS_SHOWN 12

static void clear_grid(DeskNetworkPage *p)
{
    GtkWidget *c;
    while ((c = gtk_widget_get_first_child(p->grid)))
        gtk_grid_remove(GTK_GRID(p->grid), c);
}

static void put(DeskNetworkPage *p, int row, int col, const char *text, const char *css)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    if (css)
        gtk_widget_add_css_class(l, css);
    gtk_grid_attach(GTK_GRID(p->grid), l, col, row, 1, 1);
}

static void header(DeskNetworkPage *p)
{
    const char *h[] = {_("Node"), _("Link"), _("Last seen"), _("Queue"), _("Oldest waiting"),
                       _("Certificate until"), _("Wrong passwords"), _("Staffed today (h)"),
                       _("Last working day (h)")};
    for (int i = 0; i < (int)G_N_ELEMENTS(h); i++)
        put(p, 0, i, h[i], "table-head");
}

/* "张官营镇 · relay:410423101000": the place a person knows, then the node
 * id an administrator looks for in logs and certificates. */
static char *node_label(DeskNetworkPage *p, const char *node)
{
    const char *colon = node ? strchr(node, ':') : NULL;
    const char *name = colon ? sc_unit_name(desk_window_client(p->win), colon + 1) : NULL;
    return name ? g_strdup_printf("%s · %s", name, node) : g_strdup(node ? node : "");
}

/* "梁洼镇 · 410423102000" for a place whose node never reported. */
static char *place_label(DeskNetworkPage *p, const char *unit)
{
    const char *name = sc_unit_name(desk_window_client(p->win), unit);
    return name ? g_strdup_printf("%s · %s", name, unit) : g_strdup(unit ? unit : "");
}

/* The link cell: online, offline (and for how many working days), or
 * never connected. */
static char *link_text(bool never, bool online, uint32_t days, const char **css)
{
    *css = online ? "link-up" : "link-down";
    if (never)
        return g_strdup(_("○ never connected"));
    if (online)
        return g_strdup(_("● online"));
    if (days > 0)
        /* Translators: offline, and for how many working days. */
        return g_strdup_printf(_("● offline %u working days"), (unsigned)days);
    return g_strdup(_("● offline"));
}

/* The certificate cell: its last day, marked when it has run out or runs
 * out within the county's warning period. */
static char *cert_text(int64_t not_after_ms, uint32_t warn_days, int64_t now, const char **css)
{
    *css = NULL;
    if (not_after_ms <= 0)
        return g_strdup("—");
    g_autofree char *t = desk_format_time(not_after_ms);
    if (strlen(t) > 10)
        t[10] = '\0';
    if (not_after_ms <= now) {
        *css = "overdue";
        /* Translators: a certificate's last day, already passed. */
        return g_strdup_printf(_("%s (expired)"), t);
    }
    if (not_after_ms - now <= (int64_t)warn_days * 86400000)
        *css = "due-soon";
    return g_strdup(t);
}

static void show_warnings(DeskNetworkPage *p, const Sanji__NetworkStatus *ns, int64_t now)
{
    sc_netview_warning *w = NULL;
    size_t n = 0;
    sj_error err;
    GString *text = g_string_new("");
    if (sc_netview_warnings(ns, now, &w, &n, &err) != 0)
        g_string_append(text, err.message);
    /* The first ones, most serious first; the rest are a count (the list
     * is for reading, the whole of it is `sanji network`). */
    for (size_t i = 0; i < n && i < WARNINGS_SHOWN; i++) {
        char line[1024];
        sc_netview_warning_text(&w[i], sc_netview_unit_name, desk_window_client(p->win), line,
                                sizeof(line));
        g_string_append_printf(text, "%s⚠ %s", i ? "\n" : "", line);
    }
    if (n > WARNINGS_SHOWN)
        /* Translators: more warnings than the page lists. */
        g_string_append_printf(text, _("\n… and %zu more warnings (sanji network lists them all)."),
                               n - WARNINGS_SHOWN);
    free(w);
    gtk_label_set_text(GTK_LABEL(p->warnings), text->str);
    gtk_widget_set_visible(p->warnings, text->len > 0);
    g_string_free(text, TRUE);
}

static void show(DeskNetworkPage *p, const Sanji__NetworkStatus *ns)
{
    clear_grid(p);
    header(p);
    int64_t now = sj_clock_real_ms();
    show_warnings(p, ns, now);
    int row = 1;
    size_t stations = 0, never = 0;
    for (size_t i = 0; i < ns->n_nodes; i++) {
        const Sanji__NodeStatus *n = ns->nodes[i];
        const char *css;
        g_autofree char *label = n->never_connected ? place_label(p, n->org_unit)
                                                    : node_label(p, n->node);
        put(p, row, 0, label, "table-strong");
        g_autofree char *link = link_text(n->never_connected, n->upstream_online && !n->never_connected,
                                          n->offline_working_days, &css);
        put(p, row, 1, link, css);
        if (!n->never_connected) {
            g_autofree char *seen = desk_format_time(n->reported_at_ms ? n->reported_at_ms
                                                                       : n->upstream_last_contact_ms);
            put(p, row, 2, seen, NULL);
            g_autofree char *q = g_strdup_printf("%u", n->queue_depth);
            put(p, row, 3, q, n->queue_depth ? "due-soon" : NULL);
            g_autofree char *age = g_strdup_printf(_("%lld min"),
                                                   (long long)(n->oldest_queued_age_ms / 60000));
            put(p, row, 4, n->queue_depth ? age : "—", NULL);
            g_autofree char *cert = cert_text(n->cert_not_after_ms, ns->cert_warn_days, now, &css);
            put(p, row, 5, cert, css);
        }
        row++;
        for (size_t j = 0; j < n->n_stations; j++) {
            const Sanji__StationStatus *s = n->stations[j];
            g_autofree char *slabel = s->never_connected ? place_label(p, s->org_unit)
                                                         : node_label(p, s->node);
            g_autofree char *name = g_strdup_printf("　└ %s", slabel);
            put(p, row, 0, name, NULL);
            g_autofree char *slink = link_text(s->never_connected, s->connected,
                                               s->offline_working_days, &css);
            put(p, row, 1, slink, css);
            stations++;
            if (s->never_connected) {
                never++;
                row++;
                continue;
            }
            g_autofree char *t = desk_format_time(s->last_seen_ms);
            put(p, row, 2, t, NULL);
            g_autofree char *d = g_strdup_printf("%u", s->outbox_depth);
            put(p, row, 3, d, s->outbox_depth ? "due-soon" : NULL);
            g_autofree char *cert = cert_text(s->cert_not_after_ms, ns->cert_warn_days, now, &css);
            put(p, row, 5, cert, css);
            /* From the county: those of the last 24 hours; from a relay:
             * those not yet passed on (PKI.md "Password guessing"). */
            /* Translators: wrong passwords typed at a station, e.g. "3 次". */
            g_autofree char *f = g_strdup_printf(_("%u times"), s->failed_logins);
            put(p, row, 6, s->failed_logins ? f : "—", s->failed_logins ? "link-down" : NULL);
            /* Presence (docs/SERVER.md "Station presence"): hours staffed
             * of the duty hours, today and on the last working day, the
             * latter flagged below the county's share. */
            const Sanji__PresenceDay *today, *last;
            sc_netview_presence(s, now, &today, &last);
            char h[32];
            sc_netview_staffed_text(today, h, sizeof h);
            put(p, row, 7, h, NULL);
            sc_netview_staffed_text(last, h, sizeof h);
            put(p, row, 8, h,
                sc_netview_understaffed(last, ns->staffed_warn_percent) ? "link-down" : NULL);
            row++;
        }
    }
    g_autofree char *at = desk_format_time(now);
    /* Translators: %zu townships' relays, %zu stations and desks of which
     * %zu never connected, %s the time of the answer. */
    g_autofree char *m = g_strdup_printf(_("%zu relays, %zu stations (%zu never connected), as of %s."),
                                         ns->n_nodes, stations, never, at);
    gtk_label_set_text(GTK_LABEL(p->message), m);
}

static void on_result(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    DeskNetworkPage *p = data;
    p->asking = false;
    if (gtk_widget_get_root(GTK_WIDGET(p))) {
        if (status == 0 && res && res->result_case == SANJI__QUERY_RESULT__RESULT_NETWORK) {
            show(p, res->network);
        } else {
            const char *why = desk_query_reason(res, status);
            /* Translators: the network view could not be read; %s is why. */
            g_autofree char *m = g_strdup_printf(_("The network view is not available now (%s). It is asked again every 30 seconds."), _(why));
            gtk_label_set_text(GTK_LABEL(p->message), m);
        }
    }
    g_object_unref(p);
}

void desk_network_page_refresh(DeskNetworkPage *p)
{
    if (p->asking)
        return;
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_NETWORK_STATUS;
    q.network_status = true;
    sj_error err;
    if (sc_query(desk_window_client(p->win), &q, on_result, g_object_ref(p), &err) != 0) {
        g_object_unref(p);
        g_autofree char *m = g_strdup_printf(_("The network view needs the link: %s"), err.message);
        gtk_label_set_text(GTK_LABEL(p->message), m);
        return;
    }
    p->asking = true;
    gtk_label_set_text(GTK_LABEL(p->message), _("Asking…"));
}

static gboolean on_timer(gpointer data)
{
    DeskNetworkPage *p = data;
    if (gtk_widget_get_mapped(GTK_WIDGET(p)))
        desk_network_page_refresh(p);
    return G_SOURCE_CONTINUE;
}

static void on_refresh(GtkButton *b, gpointer data)
{
    desk_network_page_refresh(data);
}

static void desk_network_page_dispose(GObject *obj)
{
    DeskNetworkPage *p = DESK_NETWORK_PAGE(obj);
    if (p->timer) {
        g_source_remove(p->timer);
        p->timer = 0;
    }
    G_OBJECT_CLASS(desk_network_page_parent_class)->dispose(obj);
}

static void desk_network_page_class_init(DeskNetworkPageClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = desk_network_page_dispose;
}

static void desk_network_page_init(DeskNetworkPage *p)
{
}

DeskNetworkPage *desk_network_page_new(DeskWindow *w)
{
    DeskNetworkPage *p = g_object_new(DESK_TYPE_NETWORK_PAGE, "orientation",
                                      GTK_ORIENTATION_VERTICAL, "spacing", 12, NULL);
    p->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(p), "page");
    GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    GtkWidget *title = gtk_label_new(_("Townships and stations"));
    gtk_widget_add_css_class(title, "title-2");
    gtk_widget_set_hexpand(title, true);
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    GtkWidget *refresh = gtk_button_new_with_label(_("Refresh"));
    g_signal_connect(refresh, "clicked", G_CALLBACK(on_refresh), p);
    gtk_box_append(GTK_BOX(top), title);
    gtk_box_append(GTK_BOX(top), refresh);
    p->message = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(p->message), 0);
    gtk_label_set_wrap(GTK_LABEL(p->message), true);
    p->warnings = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(p->warnings), 0);
    gtk_label_set_wrap(GTK_LABEL(p->warnings), true);
    gtk_label_set_selectable(GTK_LABEL(p->warnings), true);
    gtk_widget_add_css_class(p->warnings, "warning-list");
    gtk_widget_set_visible(p->warnings, false);
    p->grid = gtk_grid_new();
    gtk_grid_set_column_spacing(GTK_GRID(p->grid), 24);
    gtk_grid_set_row_spacing(GTK_GRID(p->grid), 6);
    gtk_widget_add_css_class(p->grid, "table");
    header(p);
    gtk_box_append(GTK_BOX(p), top);
    gtk_box_append(GTK_BOX(p), p->message);
    gtk_box_append(GTK_BOX(p), p->warnings);
    gtk_box_append(GTK_BOX(p), p->grid);
    p->timer = g_timeout_add_seconds(30, on_timer, p);
    desk_window_register(w, "network.message", p->message);
    desk_window_register(w, "network.warnings", p->warnings);
    desk_window_register(w, "network.refresh", refresh);
    desk_window_register(w, "network.grid", p->grid);
    return p;
}
