/*
 * desk-home-page.c - the village station's home (see desk-home-page.h).
 *
 * Entry points: desk_home_page_new(), desk_home_page_refresh().
 */
#include "desk-home-page.h"

#include "clock.h"
#include "desk-case-list.h"
#include "desk-format.h"
#include "i18n.h"

struct _DeskHomePage {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *count[DESK_BUCKET_N];
    GtkWidget *card[DESK_BUCKET_N];
    DeskCaseList *list;
    unsigned selected;
};

G_DEFINE_TYPE(DeskHomePage, desk_home_page, GTK_TYPE_BOX)

void desk_home_page_refresh(DeskHomePage *p)
{
    desk_case_snapshot snap;
    if (!desk_case_snapshot_load(p->win, &snap))
        return;
    const sc_case_list all = snap.cases;
    const char *unit = sc_client_node(desk_window_client(p->win))->unit;
    int64_t now = sj_clock_real_ms();
    unsigned counts[DESK_BUCKET_N] = {0};
    GPtrArray *shown = g_ptr_array_new();
    for (size_t i = 0; i < all.n; i++) {
        unsigned b = desk_format_buckets(all.cases[i], unit, now);
        for (unsigned k = 0; k < DESK_BUCKET_N; k++)
            if (b & (1u << k))
                counts[k]++;
        if (b & (1u << p->selected))
            g_ptr_array_add(shown, all.cases[i]);
    }
    for (unsigned k = 0; k < DESK_BUCKET_N; k++) {
        g_autofree char *t = g_strdup_printf("%u", counts[k]);
        gtk_label_set_text(GTK_LABEL(p->count[k]), t);
        if (k == p->selected)
            gtk_widget_add_css_class(p->card[k], "card-selected");
        else
            gtk_widget_remove_css_class(p->card[k], "card-selected");
    }
    desk_case_list_set_title(p->list, desk_format_bucket_title(p->selected));
    desk_case_list_set(p->list, (Sanji__Case *const *)shown->pdata, shown->len, snap.rows, snap.n_rows);
    g_ptr_array_free(shown, TRUE);
    desk_case_snapshot_free(&snap);
}

static void on_card(GtkButton *b, gpointer data)
{
    DeskHomePage *p = data;
    p->selected = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(b), "bucket"));
    desk_home_page_refresh(p);
}

static void on_register(GtkButton *b, gpointer data)
{
    DeskHomePage *p = data;
    desk_window_show_page(p->win, "register");
}

static void desk_home_page_class_init(DeskHomePageClass *klass)
{
}

static void desk_home_page_init(DeskHomePage *p)
{
}

DeskHomePage *desk_home_page_new(DeskWindow *w)
{
    DeskHomePage *p = g_object_new(DESK_TYPE_HOME_PAGE, "orientation", GTK_ORIENTATION_VERTICAL,
                                   "spacing", 18, NULL);
    p->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(p), "page");

    GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    GtkWidget *title = gtk_label_new(_("Today at this station"));
    gtk_widget_add_css_class(title, "title-2");
    gtk_widget_set_hexpand(title, true);
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    GtkWidget *reg = gtk_button_new_with_label(_("＋ Register a new request"));
    gtk_widget_add_css_class(reg, "suggested-action");
    gtk_widget_add_css_class(reg, "big-button");
    g_signal_connect(reg, "clicked", G_CALLBACK(on_register), p);
    gtk_box_append(GTK_BOX(top), title);
    gtk_box_append(GTK_BOX(top), reg);
    gtk_box_append(GTK_BOX(p), top);

    GtkWidget *cards = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
    gtk_box_set_homogeneous(GTK_BOX(cards), true);
    static const char *const css[DESK_BUCKET_N] = {"card-todo", "card-progress", "card-soon",
                                                   "card-overdue", "card-feedback", "card-done"};
    for (unsigned k = 0; k < DESK_BUCKET_N; k++) {
        GtkWidget *b = gtk_button_new();
        GtkWidget *v = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
        p->count[k] = gtk_label_new("0");
        gtk_widget_add_css_class(p->count[k], "card-count");
        GtkWidget *l = gtk_label_new(desk_format_bucket_title(k));
        gtk_label_set_wrap(GTK_LABEL(l), true);
        gtk_label_set_justify(GTK_LABEL(l), GTK_JUSTIFY_CENTER);
        gtk_box_append(GTK_BOX(v), p->count[k]);
        gtk_box_append(GTK_BOX(v), l);
        gtk_button_set_child(GTK_BUTTON(b), v);
        gtk_widget_add_css_class(b, "card");
        gtk_widget_add_css_class(b, css[k]);
        g_object_set_data(G_OBJECT(b), "bucket", GUINT_TO_POINTER(k));
        g_signal_connect(b, "clicked", G_CALLBACK(on_card), p);
        gtk_box_append(GTK_BOX(cards), b);
        p->card[k] = b;
        g_autofree char *name = g_strdup_printf("home.count.%u", k);
        desk_window_register(w, name, p->count[k]);
        g_autofree char *bname = g_strdup_printf("home.bucket.%u", k);
        desk_window_register(w, bname, b);
    }
    gtk_box_append(GTK_BOX(p), cards);
    p->list = desk_case_list_new(w, "home.list", desk_format_bucket_title(0));
    gtk_box_append(GTK_BOX(p), GTK_WIDGET(p->list));
    desk_window_register(w, "home.register", reg);
    return p;
}
