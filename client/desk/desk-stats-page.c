/*
 * desk-stats-page.c - county statistics (see desk-stats-page.h).
 *
 * Entry points: desk_stats_page_new(), desk_stats_page_refresh(),
 * desk_stats_page_export().
 */
#include "desk-stats-page.h"

#include "chart.h"
#include "clock.h"
#include "desk-format.h"
#include "desk-period-stats.h"
#include "i18n.h"

struct _DeskStatsPage {
    GtkBox parent;
    DeskWindow *win;
    Sanji__Statistics *stats;    /* last answer (own copy), NULL before one came */
    GtkWidget *summary, *chart, *by_township, *by_category, *message, *export_button;
    bool asking;
};

G_DEFINE_TYPE(DeskStatsPage, desk_stats_page, GTK_TYPE_BOX)

static void put(GtkWidget *grid, int row, int col, const char *text, const char *css)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), col == 0 ? 0 : 1);
    if (css)
        gtk_widget_add_css_class(l, css);
    gtk_grid_attach(GTK_GRID(grid), l, col, row, 1, 1);
}

/* first: the heading of the first column ("Township" or "Category"). */
static void fill_table(GtkWidget *grid, const char *first, Sanji__StatRow **rows, size_t n)
{
    GtkWidget *c;
    while ((c = gtk_widget_get_first_child(grid)))
        gtk_grid_remove(GTK_GRID(grid), c);
    const char *h[] = {first, _("Total"), _("Resolved"), _("Open"), _("Overdue"),
                       _("Completion rate"), _("Satisfaction")};
    for (int i = 0; i < 7; i++)
        put(grid, 0, i, h[i], "table-head");
    for (size_t i = 0; i < n; i++) {
        const Sanji__StatRow *r = rows[i];
        int row = (int)i + 1;
        put(grid, row, 0, r->label && *r->label ? r->label : r->key, "table-strong");
        char buf[32];
        snprintf(buf, sizeof(buf), "%u", r->total);
        put(grid, row, 1, buf, NULL);
        snprintf(buf, sizeof(buf), "%u", r->resolved);
        put(grid, row, 2, buf, NULL);
        snprintf(buf, sizeof(buf), "%u", r->open);
        put(grid, row, 3, buf, NULL);
        snprintf(buf, sizeof(buf), "%u", r->overdue);
        put(grid, row, 4, buf, r->overdue ? "overdue" : NULL);
        g_autofree char *done = desk_format_percent(r->resolved, r->total);
        put(grid, row, 5, done, NULL);
        g_autofree char *sat = desk_format_percent(r->satisfied + r->basically_satisfied,
                                                   r->satisfied + r->basically_satisfied + r->unsatisfied);
        put(grid, row, 6, sat, NULL);
    }
}

/* Completion rate by township as horizontal bars, drawn by the chart
 * module of the 通报 (client/chart.h). */
static void draw_chart(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
    DeskStatsPage *p = data;
    if (!p->stats || p->stats->n_by_township == 0)
        return;
    size_t n = p->stats->n_by_township;
    const char **labels = g_new0(const char *, n);
    double *rates = g_new0(double, n);
    for (size_t i = 0; i < n; i++) {
        const Sanji__StatRow *r = p->stats->by_township[i];
        labels[i] = r->label && *r->label ? r->label : r->key;
        rates[i] = r->total ? (double)r->resolved / (double)r->total : 0;
    }
    sc_chart_bars(cr, 0, 0, width, height, NULL, labels, rates, n, true);
    g_free(labels);
    g_free(rates);
}

static void show(DeskStatsPage *p)
{
    const Sanji__Statistics *s = p->stats;
    const Sanji__StatRow *a = s->all;
    if (a) {
        g_autofree char *done = desk_format_percent(a->resolved, a->total);
        g_autofree char *sat = desk_format_percent(a->satisfied + a->basically_satisfied,
                                                   a->satisfied + a->basically_satisfied + a->unsatisfied);
        /* Translators: statistics summary. */
        g_autofree char *t = g_strdup_printf(_("Cases %u · completion rate %s · satisfaction %s · open %u · overdue %u · repeated material requests %u"),
                                             a->total, done, sat, a->open, a->overdue,
                                             a->repeat_material_requests);
        gtk_label_set_text(GTK_LABEL(p->summary), t);
    }
    fill_table(p->by_township, _("Township"), s->by_township, s->n_by_township);
    fill_table(p->by_category, _("Category"), s->by_category, s->n_by_category);
    gtk_widget_set_size_request(p->chart, -1, (int)(22 * s->n_by_township + 10));
    gtk_widget_queue_draw(p->chart);
    gtk_widget_set_sensitive(p->export_button, true);
}

static void on_result(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    DeskStatsPage *p = data;
    p->asking = false;
    if (gtk_widget_get_root(GTK_WIDGET(p))) {
        if (status == 0 && res && res->result_case == SANJI__QUERY_RESULT__RESULT_STATISTICS &&
            res->statistics) {
            /* Own copy: the answer is borrowed for the callback only. */
            size_t len = sanji__statistics__get_packed_size(res->statistics);
            uint8_t *buf = g_malloc(len ? len : 1);
            sanji__statistics__pack(res->statistics, buf);
            Sanji__Statistics *copy = sanji__statistics__unpack(NULL, len, buf);
            g_free(buf);
            if (copy) {
                if (p->stats)
                    sanji__statistics__free_unpacked(p->stats, NULL);
                p->stats = copy;
                g_autofree char *now = desk_format_time(sj_clock_real_ms());
                g_autofree char *m = g_strdup_printf(_("As of %s."), now);
                gtk_label_set_text(GTK_LABEL(p->message), m);
                show(p);
            }
        } else {
            const char *why = desk_query_reason(res, status);
            g_autofree char *m = g_strdup_printf(_("Statistics are not available now (%s). Press Refresh to ask again."), _(why));
            gtk_label_set_text(GTK_LABEL(p->message), m);
        }
    }
    g_object_unref(p);
}

void desk_stats_page_refresh(DeskStatsPage *p)
{
    if (p->asking)
        return;
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_STATISTICS;
    q.statistics = true;
    sj_error err;
    if (sc_query(desk_window_client(p->win), &q, on_result, g_object_ref(p), &err) != 0) {
        g_object_unref(p);
        g_autofree char *m = g_strdup_printf(_("Statistics need the link to the county: %s"), err.message);
        gtk_label_set_text(GTK_LABEL(p->message), m);
        return;
    }
    p->asking = true;
    gtk_label_set_text(GTK_LABEL(p->message), _("Asking…"));
}

int desk_stats_page_export(DeskStatsPage *p, const char *path, sj_error *err)
{
    if (!p->stats)
        return sj_error_set(err, SJ_ENOTFOUND, "%s", _("There are no statistics to export yet; press Refresh first."));
    g_autofree char *csv = desk_format_stats_csv(p->stats);
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents(path, csv, -1, &e))
        return sj_error_set(err, SJ_EIO, _("The file %s could not be written: %s"), path, e->message);
    return 0;
}

static int write_export(gpointer data, const char *path, sj_error *err)
{
    return desk_stats_page_export(data, path, err);
}

static void on_export(GtkButton *b, gpointer data)
{
    DeskStatsPage *p = data;
    desk_window_save_file(p->win, _("Export statistics"), "sanji-statistics.csv", write_export, p);
}

static void on_refresh(GtkButton *b, gpointer data)
{
    desk_stats_page_refresh(data);
}

static void desk_stats_page_finalize(GObject *obj)
{
    DeskStatsPage *p = DESK_STATS_PAGE(obj);
    if (p->stats)
        sanji__statistics__free_unpacked(p->stats, NULL);
    G_OBJECT_CLASS(desk_stats_page_parent_class)->finalize(obj);
}

static void desk_stats_page_class_init(DeskStatsPageClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = desk_stats_page_finalize;
}

static void desk_stats_page_init(DeskStatsPage *p)
{
}

static GtkWidget *table(void)
{
    GtkWidget *g = gtk_grid_new();
    gtk_grid_set_column_spacing(GTK_GRID(g), 24);
    gtk_grid_set_row_spacing(GTK_GRID(g), 4);
    gtk_widget_add_css_class(g, "table");
    return g;
}

static GtkWidget *heading(const char *t)
{
    GtkWidget *l = gtk_label_new(t);
    gtk_widget_add_css_class(l, "title-3");
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    return l;
}

DeskStatsPage *desk_stats_page_new(DeskWindow *w)
{
    DeskStatsPage *p = g_object_new(DESK_TYPE_STATS_PAGE, "orientation", GTK_ORIENTATION_VERTICAL,
                                    "spacing", 12, NULL);
    p->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(p), "page");
    GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    GtkWidget *title = gtk_label_new(_("Statistics"));
    gtk_widget_add_css_class(title, "title-2");
    gtk_widget_set_hexpand(title, true);
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    GtkWidget *refresh = gtk_button_new_with_label(_("Refresh"));
    p->export_button = gtk_button_new_with_label(_("Export CSV…"));
    gtk_widget_set_sensitive(p->export_button, false);
    g_signal_connect(refresh, "clicked", G_CALLBACK(on_refresh), p);
    g_signal_connect(p->export_button, "clicked", G_CALLBACK(on_export), p);
    gtk_box_append(GTK_BOX(top), title);
    gtk_box_append(GTK_BOX(top), refresh);
    gtk_box_append(GTK_BOX(top), p->export_button);
    p->message = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(p->message), 0);
    gtk_label_set_wrap(GTK_LABEL(p->message), true);
    p->summary = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(p->summary), 0);
    gtk_label_set_wrap(GTK_LABEL(p->summary), true);
    gtk_widget_add_css_class(p->summary, "stats-summary");
    p->chart = gtk_drawing_area_new();
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(p->chart), draw_chart, p, NULL);
    p->by_township = table();
    p->by_category = table();
    GtkWidget *parts[] = {top, GTK_WIDGET(desk_period_stats_new(w)), p->message, p->summary,
                          heading(_("Completion rate by township")),
                          p->chart, heading(_("By township")), p->by_township,
                          heading(_("By category")), p->by_category};
    for (size_t i = 0; i < G_N_ELEMENTS(parts); i++)
        gtk_box_append(GTK_BOX(p), parts[i]);
    desk_window_register(w, "stats.message", p->message);
    desk_window_register(w, "stats.summary", p->summary);
    desk_window_register(w, "stats.refresh", refresh);
    return p;
}
