/*
 * desk-network-page.c - the network view (see desk-network-page.h).
 *
 * Entry points: desk_network_page_new(), desk_network_page_refresh().
 */
#include "desk-network-page.h"

#include <string.h>

#include "clock.h"
#include "desk-format.h"
#include "i18n.h"

struct _DeskNetworkPage {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *grid, *message;
    GtkWidget *calendar;  /* next year's holidays missing (NetworkStatus) */
    guint timer;
    bool asking;
};

G_DEFINE_TYPE(DeskNetworkPage, desk_network_page, GTK_TYPE_BOX)

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
    const char *h[] = {_("Node"), _("Link"), _("Last seen"), _("Queue"), _("Oldest waiting")};
    for (int i = 0; i < 5; i++)
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

static void show(DeskNetworkPage *p, const Sanji__NetworkStatus *ns)
{
    /* From 1 November the county asks for next year's holidays. */
    if (ns->calendar_missing_year) {
        /* Translators: %u is next year, whose official holiday arrangement
         * the county server has not imported yet. */
        g_autofree char *t = g_strdup_printf(
            _("The %u holiday arrangement is not loaded: due times in %u are provisional and count "
              "its holidays as working days. Import it on the county server with sanji-countyd "
              "import holidays FILE."),
            ns->calendar_missing_year, ns->calendar_missing_year);
        gtk_label_set_text(GTK_LABEL(p->calendar), t);
    }
    gtk_widget_set_visible(p->calendar, ns->calendar_missing_year != 0);
    clear_grid(p);
    header(p);
    int row = 1;
    for (size_t i = 0; i < ns->n_nodes; i++) {
        const Sanji__NodeStatus *n = ns->nodes[i];
        g_autofree char *label = node_label(p, n->node);
        put(p, row, 0, label, "table-strong");
        put(p, row, 1, n->upstream_online ? _("● online") : _("● offline"),
            n->upstream_online ? "link-up" : "link-down");
        g_autofree char *seen = desk_format_time(n->reported_at_ms ? n->reported_at_ms
                                                                   : n->upstream_last_contact_ms);
        put(p, row, 2, seen, NULL);
        g_autofree char *q = g_strdup_printf("%u", n->queue_depth);
        put(p, row, 3, q, n->queue_depth ? "due-soon" : NULL);
        g_autofree char *age = g_strdup_printf(_("%lld min"), (long long)(n->oldest_queued_age_ms / 60000));
        put(p, row, 4, n->queue_depth ? age : "—", NULL);
        row++;
        for (size_t j = 0; j < n->n_stations; j++) {
            const Sanji__StationStatus *s = n->stations[j];
            g_autofree char *slabel = node_label(p, s->node);
            g_autofree char *name = g_strdup_printf("　└ %s", slabel);
            put(p, row, 0, name, NULL);
            put(p, row, 1, s->connected ? _("● online") : _("● offline"),
                s->connected ? "link-up" : "link-down");
            g_autofree char *t = desk_format_time(s->last_seen_ms);
            put(p, row, 2, t, NULL);
            g_autofree char *d = g_strdup_printf("%u", s->outbox_depth);
            put(p, row, 3, d, s->outbox_depth ? "due-soon" : NULL);
            row++;
        }
    }
    g_autofree char *now = desk_format_time(sj_clock_real_ms());
    /* Translators: %zu relays or desks, %s the time of the answer. */
    g_autofree char *m = g_strdup_printf(_("%zu nodes, as of %s."), ns->n_nodes, now);
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
            const char *why = res && res->reason && *res->reason ? res->reason : sj_err_text(status);
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
    p->calendar = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(p->calendar), 0);
    gtk_label_set_wrap(GTK_LABEL(p->calendar), true);
    gtk_widget_add_css_class(p->calendar, "overdue");
    gtk_widget_set_visible(p->calendar, false);
    p->grid = gtk_grid_new();
    gtk_grid_set_column_spacing(GTK_GRID(p->grid), 24);
    gtk_grid_set_row_spacing(GTK_GRID(p->grid), 6);
    gtk_widget_add_css_class(p->grid, "table");
    header(p);
    gtk_box_append(GTK_BOX(p), top);
    gtk_box_append(GTK_BOX(p), p->calendar);
    gtk_box_append(GTK_BOX(p), p->message);
    gtk_box_append(GTK_BOX(p), p->grid);
    p->timer = g_timeout_add_seconds(30, on_timer, p);
    desk_window_register(w, "network.message", p->message);
    desk_window_register(w, "network.calendar", p->calendar);
    desk_window_register(w, "network.refresh", refresh);
    return p;
}
