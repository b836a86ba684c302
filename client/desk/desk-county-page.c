/*
 * desk-county-page.c - the county desk (see desk-county-page.h).
 *
 * Entry points: desk_county_page_new(), desk_county_page_refresh().
 */
#include "desk-county-page.h"

#include <string.h>

#include "clock.h"
#include "desk-case-list.h"
#include "desk-format.h"
#include "i18n.h"

enum { L_INCOMING, L_HELD, L_SUPERVISION, L_ALL, L_N };

struct _DeskCountyPage {
    GtkBox parent;
    DeskWindow *win;
    DeskCaseList *list[L_N];
};

G_DEFINE_TYPE(DeskCountyPage, desk_county_page, GTK_TYPE_BOX)

void desk_county_page_refresh(DeskCountyPage *p)
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
        if (mine && cs->status == SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY)
            g_ptr_array_add(sel[L_INCOMING], cs);
        else if (mine && (b & DESK_BUCKET_TODO))
            g_ptr_array_add(sel[L_HELD], cs);
        /* 督办: late, urged or already supervised, wherever the case is. */
        if ((b & (DESK_BUCKET_OVERDUE | DESK_BUCKET_DUE_SOON)) ||
            ((b & (DESK_BUCKET_TODO | DESK_BUCKET_IN_PROGRESS)) && (cs->supervised || cs->urge_count)))
            g_ptr_array_add(sel[L_SUPERVISION], cs);
        g_ptr_array_add(sel[L_ALL], cs);
    }
    for (int i = 0; i < L_N; i++) {
        desk_case_list_set(p->list[i], (Sanji__Case *const *)sel[i]->pdata, sel[i]->len, rows, n_rows);
        g_ptr_array_free(sel[i], TRUE);
    }
    sc_store_outbox_free(rows, n_rows);
    sc_case_list_free(&all);
}

static void desk_county_page_class_init(DeskCountyPageClass *klass)
{
}

static void desk_county_page_init(DeskCountyPage *p)
{
}

DeskCountyPage *desk_county_page_new(DeskWindow *w)
{
    DeskCountyPage *p = g_object_new(DESK_TYPE_COUNTY_PAGE, "orientation", GTK_ORIENTATION_VERTICAL,
                                     "spacing", 18, NULL);
    p->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(p), "page");
    const char *names[L_N] = {"county.incoming", "county.held", "county.supervision", "county.all"};
    const char *titles[L_N] = {_("Escalated to the county, to accept and assign"),
                               _("Held by the county"), _("Overdue or due soon: urge and supervise"),
                               _("All cases")};
    for (int i = 0; i < L_N; i++) {
        p->list[i] = desk_case_list_new(w, names[i], titles[i]);
        gtk_box_append(GTK_BOX(p), GTK_WIDGET(p->list[i]));
    }
    return p;
}
