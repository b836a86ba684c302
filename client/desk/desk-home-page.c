/*
 * desk-home-page.c - the village station's home (see desk-home-page.h).
 *
 * Entry points: desk_home_page_new(), desk_home_page_refresh(),
 * desk_home_page_show(), desk_home_page_reload_refdata().
 */
#include "desk-home-page.h"

#include <string.h>

#include "clock.h"
#include "desk-case-list.h"
#include "desk-view-cards.h"
#include "desk-widgets.h"
#include "i18n.h"

struct _DeskHomePage {
    GtkBox parent;
    DeskWindow *win;
    DeskViewCards *cards;
    DeskCaseList *list;
    GtkWidget *duty; /* 今日值班: who is on duty at this station today */
};

G_DEFINE_TYPE(DeskHomePage, desk_home_page, GTK_TYPE_BOX)

/* Today's duty (值班表) as the county last sent it. */
static void duty_refresh(DeskHomePage *p)
{
    const Sanji__DutySync *d = sc_duty(desk_window_client(p->win));
    char today[SJ_CLOCK_DATE_SIZE];
    sj_clock_format_date(sj_clock_china_day(sj_clock_real_ms()), today);
    GString *names = g_string_new(NULL);
    for (size_t i = 0; d && i < d->n_entries; i++)
        if (strcmp(desk_nz(d->entries[i]->day), today) == 0)
            g_string_append_printf(names, "%s%s", names->len ? "、" : "",
                                   desk_nz(d->entries[i]->person_name));
    g_autofree char *t = g_strdup_printf("%s%s", _("On duty today: "),
                                         names->len ? names->str : _("(no roster received)"));
    gtk_label_set_text(GTK_LABEL(p->duty), t);
    g_string_free(names, TRUE);
}

void desk_home_page_refresh(DeskHomePage *p)
{
    duty_refresh(p);
    desk_case_list_refresh(p->list);
    desk_view_cards_refresh(p->cards);
}

void desk_home_page_show(DeskHomePage *p)
{
    desk_view_cards_show(p->cards, 0);
}

void desk_home_page_reload_refdata(DeskHomePage *p)
{
    duty_refresh(p);
    desk_case_list_reload_refdata(p->list);
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
                                   "spacing", 12, NULL);
    p->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(p), "page");

    GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    /* The cards count the station's open work, not today's alone. */
    GtkWidget *title = gtk_label_new(_("The work of this station"));
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
    p->duty = desk_label_line("", "dim-label");
    gtk_box_append(GTK_BOX(p), p->duty);
    desk_window_register(w, "home.duty", p->duty);

    p->list = desk_case_list_new(w, "home.list", "");
    gtk_widget_set_vexpand(GTK_WIDGET(p->list), true);
    p->cards = desk_view_cards_new(w, "home", SJ_NODE_ROLE_VILLAGE, p->list);
    gtk_box_append(GTK_BOX(p), GTK_WIDGET(p->cards));
    gtk_box_append(GTK_BOX(p), GTK_WIDGET(p->list));
    desk_window_register(w, "home.register", reg);
    duty_refresh(p);
    return p;
}
