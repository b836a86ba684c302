/*
 * desk-link-bar.c - link and outbox state, always visible (see
 * desk-link-bar.h).
 *
 * Entry points: desk_link_bar_new(), desk_link_bar_update().
 * The label accessors: desk_link_bar_state_label() and its siblings.
 */
#include "desk-link-bar.h"

#include "clock.h"
#include "desk-format.h"
#include "i18n.h"

struct _DeskLinkBar {
    GtkBox parent;
    sc_client *client;
    GtkWidget *state, *upstream, *outbox, *detail;
    int64_t retry_at_ms;   /* when the next connection attempt starts; 0: none */
    guint tick;
};

G_DEFINE_TYPE(DeskLinkBar, desk_link_bar, GTK_TYPE_BOX)

static void set_class(GtkWidget *w, const char *on, const char *off)
{
    gtk_widget_add_css_class(w, on);
    gtk_widget_remove_css_class(w, off);
}

void desk_link_bar_update(DeskLinkBar *b, const sc_event *ev)
{
    if (!b->client)
        return;
    if (ev && ev->type == SC_EV_LINK_DOWN)
        b->retry_at_ms = sj_clock_mono_ms() + (int64_t)ev->retry_in_ms;
    if (ev && ev->type == SC_EV_LINK_UP)
        b->retry_at_ms = 0;
    sc_status_info st;
    sj_error err;
    if (sc_status(b->client, &st, &err) != 0) {
        gtk_label_set_text(GTK_LABEL(b->detail), err.message);
        return;
    }
    bool via_relay = g_str_has_prefix(st.peer_node, "relay:");
    if (!st.lasting_refusal)
        gtk_widget_remove_css_class(b->detail, "error-text");
    if (st.link_up) {
        gtk_label_set_text(GTK_LABEL(b->state), _("● Online"));
        set_class(b->state, "link-up", "link-down");
        /* The hop behind the relay, as the relay last told it: it sends a
         * change at once (SC_EV_UPSTREAM), so this is never a stale
         * "up" while the county is gone. */
        gtk_widget_set_visible(b->upstream, via_relay);
        if (st.upstream_online) {
            gtk_label_set_text(GTK_LABEL(b->upstream), _("County link: up"));
            set_class(b->upstream, "link-up", "link-down");
        } else {
            g_autofree char *since = desk_format_time(st.upstream_last_contact_ms);
            /* Translators: the relay cannot reach the county; %s is the time
             * the relay last heard from the county. */
            g_autofree char *t = g_strdup_printf(_("County link: down since %s, the township keeps your items"),
                                                 since);
            gtk_label_set_text(GTK_LABEL(b->upstream), t);
            set_class(b->upstream, "link-down", "link-up");
        }
        gtk_widget_set_tooltip_text(b->detail, NULL);
        gtk_label_set_text(GTK_LABEL(b->detail), st.caught_up ? "" : _("Receiving updates…"));
    } else if (st.lasting_refusal) {
        /* Retrying cannot help: the true reason and what to do
         * (sc_lasting_advice(), the words `sanji status` prints), not the
         * usual "sent by itself" with a countdown.  One line, as the bar
         * is (a wrapped label cannot share a row); the whole text is its
         * tooltip, and the log-in page and the banner after saving show
         * it wrapped. */
        const char *advice = sc_lasting_advice(st.lasting_refusal);
        gtk_label_set_text(GTK_LABEL(b->state), _("● Refused"));
        set_class(b->state, "link-down", "link-up");
        gtk_widget_set_visible(b->upstream, false);
        gtk_widget_set_tooltip_text(b->detail, advice);
        gtk_widget_add_css_class(b->detail, "error-text");
        gtk_label_set_text(GTK_LABEL(b->detail), advice);
    } else {
        gtk_label_set_text(GTK_LABEL(b->state), _("● Offline"));
        set_class(b->state, "link-down", "link-up");
        gtk_widget_set_visible(b->upstream, false);
        int64_t left = b->retry_at_ms ? (b->retry_at_ms - sj_clock_mono_ms() + 999) / 1000 : 0;
        g_autofree char *t = NULL;
        if (left > 0)
            /* Translators: offline; %lld is seconds until the next attempt. */
            t = g_strdup_printf(_("Work goes on: everything is saved here and sent by itself. Retrying in %lld s."),
                                (long long)left);
        else
            t = g_strdup(_("Work goes on: everything is saved here and sent by itself. Connecting…"));
        if (st.last_error)
            gtk_widget_set_tooltip_text(b->detail, st.last_error_text);
        gtk_label_set_text(GTK_LABEL(b->detail), t);
    }
    unsigned waiting = st.outbox.saved + st.outbox.stored;
    g_autofree char *o = NULL;
    if (waiting == 0) {
        o = g_strdup(_("Outbox: all delivered"));
    } else {
        g_autofree char *since = desk_format_time(st.outbox.oldest_unfinished_ms);
        /* Translators: %u not sent yet, %u at the township, %s time of the oldest. */
        o = g_strdup_printf(_("Outbox: %u not sent, %u at the township (oldest %s)"),
                            st.outbox.saved, st.outbox.stored, since);
    }
    gtk_label_set_text(GTK_LABEL(b->outbox), o);
}

static gboolean on_tick(gpointer data)
{
    DeskLinkBar *b = data;
    if (b->retry_at_ms)
        desk_link_bar_update(b, NULL);
    return G_SOURCE_CONTINUE;
}

static void desk_link_bar_dispose(GObject *obj)
{
    DeskLinkBar *b = DESK_LINK_BAR(obj);
    if (b->tick) {
        g_source_remove(b->tick);
        b->tick = 0;
    }
    G_OBJECT_CLASS(desk_link_bar_parent_class)->dispose(obj);
}

static void desk_link_bar_class_init(DeskLinkBarClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = desk_link_bar_dispose;
}

static void desk_link_bar_init(DeskLinkBar *b)
{
    gtk_orientable_set_orientation(GTK_ORIENTABLE(b), GTK_ORIENTATION_HORIZONTAL);
    gtk_box_set_spacing(GTK_BOX(b), 18);
    gtk_widget_add_css_class(GTK_WIDGET(b), "link-bar");
    b->state = gtk_label_new("");
    b->upstream = gtk_label_new("");
    b->outbox = gtk_label_new("");
    b->detail = gtk_label_new("");
    gtk_widget_add_css_class(b->state, "link-state");
    gtk_label_set_ellipsize(GTK_LABEL(b->detail), PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(b->detail, true);
    gtk_label_set_xalign(GTK_LABEL(b->detail), 0);
    gtk_box_append(GTK_BOX(b), b->state);
    gtk_box_append(GTK_BOX(b), b->upstream);
    gtk_box_append(GTK_BOX(b), b->outbox);
    gtk_box_append(GTK_BOX(b), b->detail);
}

DeskLinkBar *desk_link_bar_new(sc_client *c)
{
    DeskLinkBar *b = g_object_new(DESK_TYPE_LINK_BAR, NULL);
    b->client = c;
    b->tick = g_timeout_add_seconds(1, on_tick, b);
    desk_link_bar_update(b, NULL);
    return b;
}

GtkWidget *desk_link_bar_state_label(DeskLinkBar *b)
{
    return b->state;
}

GtkWidget *desk_link_bar_outbox_label(DeskLinkBar *b)
{
    return b->outbox;
}

GtkWidget *desk_link_bar_upstream_label(DeskLinkBar *b)
{
    return b->upstream;
}

GtkWidget *desk_link_bar_detail_label(DeskLinkBar *b)
{
    return b->detail;
}
