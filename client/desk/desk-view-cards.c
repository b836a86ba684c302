/*
 * desk-view-cards.c - a desk's queues with their counts (see
 * desk-view-cards.h).
 *
 * Entry points: desk_view_cards_new(), desk_view_cards_refresh(),
 * desk_view_cards_show().
 */
#include "desk-view-cards.h"

#include "clock.h"
#include "desk-case-model.h"
#include "desk-views.h"
#include "i18n.h"

/* A county desk counts at the county: at most this often. */
#define REMOTE_COUNT_MIN_US (3 * G_USEC_PER_SEC)

struct _DeskViewCards {
    GtkBox parent;
    DeskWindow *win;
    DeskCaseList *list;
    const desk_view *views;
    size_t n_views, selected;
    GtkWidget **buttons, **counts;
    gint64 last_count;
    guint count_id;
};

G_DEFINE_TYPE(DeskViewCards, desk_view_cards, GTK_TYPE_BOX)

static void view_ctx(DeskViewCards *v, desk_view_ctx *ctx)
{
    sc_client *c = desk_window_client(v->win);
    const Sanji__Person *person = sc_person(c);
    ctx->role = sc_client_node(c)->role;
    ctx->person = person && person->id ? person->id : "";
    ctx->now_ms = sj_clock_real_ms();
}

static void on_count(GObject *owner, gint64 count, gboolean capped, gpointer data)
{
    DeskViewCards *v = DESK_VIEW_CARDS(owner);
    size_t i = GPOINTER_TO_SIZE(data);
    g_autofree char *t = count < 0 ? g_strdup("?")
                         : capped  ? g_strdup_printf("%" G_GINT64_FORMAT "+", count)
                                   : g_strdup_printf("%" G_GINT64_FORMAT, count);
    gtk_label_set_text(GTK_LABEL(v->counts[i]), t);
}

static void count_now(DeskViewCards *v);

static gboolean on_count_idle(gpointer data)
{
    DeskViewCards *v = data;
    v->count_id = 0;
    count_now(v);
    return G_SOURCE_REMOVE;
}

/* The counts wait until the list's own page has been asked for (a default
 * priority idle): at a county desk they are queries too, and the rows a
 * person looks at come first. */
void desk_view_cards_refresh(DeskViewCards *v)
{
    if (!v->count_id)
        v->count_id = g_idle_add_full(G_PRIORITY_LOW, on_count_idle, v, NULL);
}

static void count_now(DeskViewCards *v)
{
    sc_client *c = desk_window_client(v->win);
    if (sc_searches_at_peer(c)) {
        gint64 now = g_get_monotonic_time();
        if (v->last_count && now - v->last_count < REMOTE_COUNT_MIN_US)
            return;
        v->last_count = now;
    }
    desk_view_ctx ctx;
    view_ctx(v, &ctx);
    for (size_t i = 0; i < v->n_views; i++) {
        Sanji__CaseListQuery q;
        desk_view_query(v->views[i].kind, &ctx, &q);
        desk_case_count(c, &q, G_OBJECT(v), on_count, GSIZE_TO_POINTER(i));
    }
}

void desk_view_cards_show(DeskViewCards *v, size_t i)
{
    if (i >= v->n_views)
        return;
    v->selected = i;
    for (size_t k = 0; k < v->n_views; k++) {
        if (k == i)
            gtk_widget_add_css_class(v->buttons[k], "card-selected");
        else
            gtk_widget_remove_css_class(v->buttons[k], "card-selected");
    }
    desk_view_ctx ctx;
    view_ctx(v, &ctx);
    Sanji__CaseListQuery q;
    desk_view_query(v->views[i].kind, &ctx, &q);
    desk_case_list_set_title(v->list, _(v->views[i].title));
    desk_case_list_set_view(v->list, &q);
    v->last_count = 0;
    desk_view_cards_refresh(v);
}

static void on_card(GtkButton *b, gpointer data)
{
    desk_view_cards_show(data, GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(b), "view")));
}

static const char *card_css(desk_view_kind k)
{
    switch (k) {
    case DESK_VIEW_TODO:
    case DESK_VIEW_INCOMING:
    case DESK_VIEW_TO_DISPATCH:
    case DESK_VIEW_TO_REVIEW: return "card-todo";
    case DESK_VIEW_ELSEWHERE:
    case DESK_VIEW_HELD: return "card-progress";
    case DESK_VIEW_DUE_SOON:
    case DESK_VIEW_WEEK_OVERDUE: return "card-soon";
    case DESK_VIEW_OVERDUE:
    case DESK_VIEW_SUPERVISED: return "card-overdue";
    case DESK_VIEW_FEEDBACK: return "card-feedback";
    case DESK_VIEW_DONE: return "card-done";
    default: return "card-all";
    }
}

static void desk_view_cards_dispose(GObject *obj)
{
    DeskViewCards *v = DESK_VIEW_CARDS(obj);
    if (v->count_id) {
        g_source_remove(v->count_id);
        v->count_id = 0;
    }
    G_OBJECT_CLASS(desk_view_cards_parent_class)->dispose(obj);
}

static void desk_view_cards_finalize(GObject *obj)
{
    DeskViewCards *v = DESK_VIEW_CARDS(obj);
    g_free(v->buttons);
    g_free(v->counts);
    G_OBJECT_CLASS(desk_view_cards_parent_class)->finalize(obj);
}

static void desk_view_cards_class_init(DeskViewCardsClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = desk_view_cards_dispose;
    G_OBJECT_CLASS(klass)->finalize = desk_view_cards_finalize;
}

static void desk_view_cards_init(DeskViewCards *v)
{
}

DeskViewCards *desk_view_cards_new(DeskWindow *w, const char *prefix, sj_node_role role,
                                   DeskCaseList *list)
{
    DeskViewCards *v = g_object_new(DESK_TYPE_VIEW_CARDS, "orientation",
                                    GTK_ORIENTATION_HORIZONTAL, "spacing", 8, "homogeneous",
                                    TRUE, NULL);
    v->win = w;
    v->list = list;
    v->views = desk_views(role, &v->n_views);
    v->buttons = g_new0(GtkWidget *, v->n_views);
    v->counts = g_new0(GtkWidget *, v->n_views);
    for (size_t i = 0; i < v->n_views; i++) {
        GtkWidget *b = gtk_button_new();
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
        v->counts[i] = gtk_label_new("…");
        gtk_widget_add_css_class(v->counts[i], "card-count");
        /* One line, cut short if it must: a wrapping label in a row of
         * equal buttons asks GTK for sizes it cannot give consistently. */
        GtkWidget *t = gtk_label_new(_(v->views[i].title));
        gtk_label_set_ellipsize(GTK_LABEL(t), PANGO_ELLIPSIZE_END);
        gtk_label_set_width_chars(GTK_LABEL(t), 4);
        gtk_widget_set_tooltip_text(b, _(v->views[i].title));
        gtk_box_append(GTK_BOX(box), v->counts[i]);
        gtk_box_append(GTK_BOX(box), t);
        gtk_button_set_child(GTK_BUTTON(b), box);
        gtk_widget_add_css_class(b, "card");
        gtk_widget_add_css_class(b, card_css(v->views[i].kind));
        g_object_set_data(G_OBJECT(b), "view", GSIZE_TO_POINTER(i));
        g_signal_connect(b, "clicked", G_CALLBACK(on_card), v);
        gtk_box_append(GTK_BOX(v), b);
        v->buttons[i] = b;
        const char *keys[] = {g_strdup_printf("%zu", i), g_strdup(v->views[i].name)};
        for (int k = 0; k < 2; k++) {
            g_autofree char *bn = g_strdup_printf("%s.view.%s", prefix, keys[k]);
            g_autofree char *cn = g_strdup_printf("%s.count.%s", prefix, keys[k]);
            desk_window_register(w, bn, b);
            desk_window_register(w, cn, v->counts[i]);
            g_free((char *)keys[k]);
        }
    }
    desk_view_cards_show(v, 0);
    return v;
}
