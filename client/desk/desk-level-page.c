/*
 * desk-level-page.c - the township or county desk (see desk-level-page.h).
 *
 * Entry points: desk_level_page_new(), desk_level_page_refresh().
 */
#include "desk-level-page.h"

#include <string.h>

#include "clock.h"
#include "desk-case-list.h"
#include "desk-format.h"
#include "i18n.h"

enum { L_INCOMING, L_HELD, L_WATCH, L_ALL, L_N };

struct _DeskLevelPage {
    GtkBox parent;
    DeskWindow *win;
    desk_level level;
    DeskCaseList *list[L_N];
};

G_DEFINE_TYPE(DeskLevelPage, desk_level_page, GTK_TYPE_BOX)

/* Which of the lists a case belongs in, as a bit set of 1 << L_*. */
static unsigned lists_of(const DeskLevelPage *p, const Sanji__Case *cs, const char *unit, int64_t now)
{
    unsigned b = desk_format_buckets(cs, unit, now);
    bool mine = cs->holder_unit && strcmp(cs->holder_unit, unit) == 0;
    Sanji__CaseStatus incoming = p->level == DESK_LEVEL_COUNTY
                                     ? SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY
                                     : SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP;
    unsigned in = 1u << L_ALL;
    if (mine && cs->status == incoming)
        in |= 1u << L_INCOMING;
    else if (mine && (b & DESK_BUCKET_TODO))
        in |= 1u << L_HELD;
    bool watch = b & DESK_BUCKET_OVERDUE;
    if (p->level == DESK_LEVEL_COUNTY) {
        /* 督办: late, urged or already supervised, wherever the case is. */
        watch = (b & (DESK_BUCKET_OVERDUE | DESK_BUCKET_DUE_SOON)) ||
                ((b & (DESK_BUCKET_TODO | DESK_BUCKET_IN_PROGRESS)) && (cs->supervised || cs->urge_count));
    }
    if (watch)
        in |= 1u << L_WATCH;
    return in;
}

void desk_level_page_refresh(DeskLevelPage *p)
{
    desk_case_snapshot snap;
    if (!desk_case_snapshot_load(p->win, &snap))
        return;
    const char *unit = sc_client_node(desk_window_client(p->win))->unit;
    int64_t now = sj_clock_real_ms();
    GPtrArray *sel[L_N];
    for (int i = 0; i < L_N; i++)
        sel[i] = g_ptr_array_new();
    for (size_t i = 0; i < snap.cases.n; i++) {
        unsigned in = lists_of(p, snap.cases.cases[i], unit, now);
        for (int k = 0; k < L_N; k++)
            if (in & (1u << k))
                g_ptr_array_add(sel[k], snap.cases.cases[i]);
    }
    for (int i = 0; i < L_N; i++) {
        desk_case_list_set(p->list[i], (Sanji__Case *const *)sel[i]->pdata, sel[i]->len, snap.rows,
                           snap.n_rows);
        g_ptr_array_free(sel[i], TRUE);
    }
    desk_case_snapshot_free(&snap);
}

static void desk_level_page_class_init(DeskLevelPageClass *klass)
{
}

static void desk_level_page_init(DeskLevelPage *p)
{
}

DeskLevelPage *desk_level_page_new(DeskWindow *w, desk_level level)
{
    DeskLevelPage *p = g_object_new(DESK_TYPE_LEVEL_PAGE, "orientation", GTK_ORIENTATION_VERTICAL,
                                    "spacing", 18, NULL);
    p->win = w;
    p->level = level;
    gtk_widget_add_css_class(GTK_WIDGET(p), "page");
    static const char *const township_names[L_N] = {"township.incoming", "township.held",
                                                    "township.overdue", "township.all"};
    static const char *const county_names[L_N] = {"county.incoming", "county.held", "county.supervision",
                                                  "county.all"};
    const char *township_titles[L_N] = {_("Escalated by the villages, to accept"), _("Held by the township"),
                                        _("Overdue in this township"), _("All cases of this township")};
    const char *county_titles[L_N] = {_("Escalated to the county, to accept and assign"),
                                      _("Held by the county"), _("Overdue or due soon: urge and supervise"),
                                      _("All cases")};
    bool county = level == DESK_LEVEL_COUNTY;
    for (int i = 0; i < L_N; i++) {
        p->list[i] = desk_case_list_new(w, county ? county_names[i] : township_names[i],
                                        county ? county_titles[i] : township_titles[i]);
        gtk_box_append(GTK_BOX(p), GTK_WIDGET(p->list[i]));
    }
    return p;
}
