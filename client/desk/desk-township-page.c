/*
 * desk-township-page.c - the township desk (see desk-township-page.h).
 *
 * Entry points: desk_township_page_new(), desk_township_page_refresh().
 */
#include "desk-township-page.h"

#include <string.h>

#include "clock.h"
#include "desk-case-list.h"
#include "desk-format.h"
#include "i18n.h"

enum { L_INCOMING, L_HELD, L_OVERDUE, L_ALL, L_N };

struct _DeskTownshipPage {
    GtkBox parent;
    DeskWindow *win;
    DeskCaseList *list[L_N];
};

G_DEFINE_TYPE(DeskTownshipPage, desk_township_page, GTK_TYPE_BOX)

void desk_township_page_refresh(DeskTownshipPage *p)
{
    sc_client *c = desk_window_client(p->win);
    sc_case_list all;
    sj_error err;
    if (sc_list_cases(c, NULL, &all, &err) != 0) {
        desk_window_show_error(p->win, _("The local case list cannot be read"), &err);
        return;
    }
    sc_outbox_entry *rows = NULL;
    size_t n_rows = 0;
    if (sc_outbox(c, &rows, &n_rows, &err) != 0)
        n_rows = 0;
    const char *unit = sc_client_node(c)->unit;
    int64_t now = sj_clock_real_ms();
    GPtrArray *sel[L_N];
    for (int i = 0; i < L_N; i++)
        sel[i] = g_ptr_array_new();
    for (size_t i = 0; i < all.n; i++) {
        Sanji__Case *cs = all.cases[i];
        unsigned b = desk_format_buckets(cs, unit, now);
        bool mine = cs->holder_unit && strcmp(cs->holder_unit, unit) == 0;
        if (mine && cs->status == SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP)
            g_ptr_array_add(sel[L_INCOMING], cs);
        else if (mine && (b & DESK_BUCKET_TODO))
            g_ptr_array_add(sel[L_HELD], cs);
        if (b & DESK_BUCKET_OVERDUE)
            g_ptr_array_add(sel[L_OVERDUE], cs);
        g_ptr_array_add(sel[L_ALL], cs);
    }
    for (int i = 0; i < L_N; i++) {
        desk_case_list_set(p->list[i], (Sanji__Case *const *)sel[i]->pdata, sel[i]->len, rows, n_rows);
        g_ptr_array_free(sel[i], TRUE);
    }
    sc_store_outbox_free(rows, n_rows);
    sc_case_list_free(&all);
}

static void desk_township_page_class_init(DeskTownshipPageClass *klass)
{
}

static void desk_township_page_init(DeskTownshipPage *p)
{
}

DeskTownshipPage *desk_township_page_new(DeskWindow *w)
{
    DeskTownshipPage *p = g_object_new(DESK_TYPE_TOWNSHIP_PAGE, "orientation",
                                       GTK_ORIENTATION_VERTICAL, "spacing", 18, NULL);
    p->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(p), "page");
    const char *names[L_N] = {"township.incoming", "township.held", "township.overdue", "township.all"};
    const char *titles[L_N] = {_("Escalated by the villages, to accept"), _("Held by the township"),
                               _("Overdue in this township"), _("All cases of this township")};
    for (int i = 0; i < L_N; i++) {
        p->list[i] = desk_case_list_new(w, names[i], titles[i]);
        gtk_box_append(GTK_BOX(p), GTK_WIDGET(p->list[i]));
    }
    return p;
}
