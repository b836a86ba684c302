/*
 * desk-stars-page.c - station stars (see desk-stars-page.h).
 *
 * Entry points: desk_stars_page_new().
 */
#include "desk-stars-page.h"

#include <stdlib.h>

#include "clock.h"
#include "desk-format.h"
#include "i18n.h"
#include "stars_out.h"

struct _DeskStarsPage {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *year, *quarter, *ask, *grid, *message;
    bool asking;
};

G_DEFINE_TYPE(DeskStarsPage, desk_stars_page, GTK_TYPE_BOX)

static void put(DeskStarsPage *p, int row, int col, const char *text, const char *css)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    if (css)
        gtk_widget_add_css_class(l, css);
    gtk_grid_attach(GTK_GRID(p->grid), l, col, row, 1, 1);
}

static void show(DeskStarsPage *p, const Sanji__StarRating *r)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(p->grid)))
        gtk_grid_remove(GTK_GRID(p->grid), child);
    put(p, 0, 0, _("Station"), "heading");
    put(p, 0, 1, _("Stars"), "heading");
    for (size_t i = 0; i < sc_stars_count(); i++)
        put(p, 0, 2 + (int)i, sc_stars_name(i), "heading");
    for (size_t k = 0; k < r->n_stations; k++) {
        const Sanji__StarStation *s = r->stations[k];
        int row = (int)k + 1;
        g_autofree char *name = g_strdup_printf("%s · %s", s->label && *s->label ? s->label : s->unit,
                                                s->unit);
        put(p, row, 0, name, "table-strong");
        char marks[64];
        sc_stars_marks(s, marks, sizeof marks);
        put(p, row, 1, marks, "stars");
        for (size_t i = 0; i < sc_stars_count(); i++) {
            char fig[96];
            sc_stars_figure(s, i, fig, sizeof fig);
            g_autofree char *cell = g_strdup_printf("%s %s", sc_stars_has(s, i) ? "★" : "☆", fig);
            put(p, row, 2 + (int)i, cell, sc_stars_has(s, i) ? NULL : "dim-label");
        }
    }
    char period[32];
    sc_stars_period_text(r, period, sizeof period);
    g_autofree char *now = desk_format_time(r->computed_at_ms);
    /* Translators: station stars: the period, how many stations, when computed. */
    g_autofree char *m = g_strdup_printf(_("Stars of %s · %zu stations · as of %s."), period,
                                         r->n_stations, now);
    gtk_label_set_text(GTK_LABEL(p->message), m);
}

static void on_result(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    DeskStarsPage *p = data;
    p->asking = false;
    if (gtk_widget_get_root(GTK_WIDGET(p))) {
        if (status == 0 && res && res->result_case == SANJI__QUERY_RESULT__RESULT_STARS &&
            res->stars) {
            show(p, res->stars);
        } else {
            const char *why = desk_query_reason(res, status);
            g_autofree char *m = g_strdup_printf(
                _("Station stars are not available now (%s). Press Compute to ask again."), _(why));
            gtk_label_set_text(GTK_LABEL(p->message), m);
        }
    }
    g_object_unref(p);
}

static void on_ask(GtkButton *b, gpointer data)
{
    DeskStarsPage *p = data;
    if (p->asking)
        return;
    const char *text = gtk_editable_get_text(GTK_EDITABLE(p->year));
    char *end;
    unsigned long year = strtoul(text, &end, 10);
    if (*end || year < 1970 || year > 9999) {
        gtk_label_set_text(GTK_LABEL(p->message), _("Give a year (e.g. 2026) and, for a quarter, its number 1 to 4."));
        return;
    }
    Sanji__StarQuery sq = SANJI__STAR_QUERY__INIT;
    sq.year = (uint32_t)year;
    /* The drop-down: the whole year, then quarters 1 to 4. */
    sq.quarter = gtk_drop_down_get_selected(GTK_DROP_DOWN(p->quarter));
    sq.unit = "";
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_STARS;
    q.stars = &sq;
    sj_error err;
    if (sc_query(desk_window_client(p->win), &q, on_result, g_object_ref(p), &err) != 0) {
        g_object_unref(p);
        g_autofree char *m =
            g_strdup_printf(_("Statistics need the link to the county: %s"), err.message);
        gtk_label_set_text(GTK_LABEL(p->message), m);
        return;
    }
    p->asking = true;
    gtk_label_set_text(GTK_LABEL(p->message), _("Asking…"));
}

static void desk_stars_page_class_init(DeskStarsPageClass *klass)
{
}

static void desk_stars_page_init(DeskStarsPage *p)
{
}

DeskStarsPage *desk_stars_page_new(DeskWindow *w)
{
    DeskStarsPage *p = g_object_new(DESK_TYPE_STARS_PAGE, "orientation", GTK_ORIENTATION_VERTICAL,
                                    "spacing", 8, NULL);
    p->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(p), "page");
    GtkWidget *title = gtk_label_new(_("Station stars"));
    gtk_widget_add_css_class(title, "title-2");
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    p->year = gtk_entry_new();
    gtk_editable_set_width_chars(GTK_EDITABLE(p->year), 6);
    int y, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(sj_clock_real_ms()), &y, &m, &d);
    char year[16];
    snprintf(year, sizeof year, "%04d", y);
    gtk_editable_set_text(GTK_EDITABLE(p->year), year);
    const char *quarters[] = {_("stars: whole year"), _("stars: Q1"), _("stars: Q2"),
                              _("stars: Q3"), _("stars: Q4"), NULL};
    p->quarter = gtk_drop_down_new_from_strings(quarters);
    p->ask = gtk_button_new_with_label(_("Compute"));
    g_signal_connect(p->ask, "clicked", G_CALLBACK(on_ask), p);
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *bar_parts[] = {p->year, p->quarter, p->ask};
    for (size_t i = 0; i < G_N_ELEMENTS(bar_parts); i++)
        gtk_box_append(GTK_BOX(bar), bar_parts[i]);
    GtkWidget *rules = gtk_label_new(
        _("Each star is decided by one rule on the county's records (docs/STATISTICS.md): 代办星 "
          "cases carried and finished, 记录星 a complete ledger, 值班星 staffed during the duty "
          "hours, 服务星 satisfaction, 时效星 finished on time."));
    gtk_label_set_wrap(GTK_LABEL(rules), true);
    gtk_label_set_xalign(GTK_LABEL(rules), 0);
    gtk_widget_add_css_class(rules, "dim-label");
    p->message = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(p->message), 0);
    gtk_label_set_wrap(GTK_LABEL(p->message), true);
    p->grid = gtk_grid_new();
    gtk_grid_set_column_spacing(GTK_GRID(p->grid), 16);
    gtk_grid_set_row_spacing(GTK_GRID(p->grid), 6);
    gtk_widget_add_css_class(p->grid, "table");
    GtkWidget *scroll = gtk_scrolled_window_new();
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_AUTOMATIC,
                                   GTK_POLICY_NEVER);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), p->grid);
    GtkWidget *parts[] = {title, rules, bar, p->message, scroll};
    for (size_t i = 0; i < G_N_ELEMENTS(parts); i++)
        gtk_box_append(GTK_BOX(p), parts[i]);
    desk_window_register(w, "stars.year", p->year);
    desk_window_register(w, "stars.quarter", p->quarter);
    desk_window_register(w, "stars.ask", p->ask);
    desk_window_register(w, "stars.message", p->message);
    desk_window_register(w, "stars.grid", p->grid);
    return p;
}
