/*
 * desk-period-stats.c - period statistics on the statistics page (see
 * desk-period-stats.h).
 *
 * Entry points: desk_period_stats_new(), desk_period_stats_export().
 */
#include "desk-period-stats.h"

#include "clock.h"
#include "desk-format.h"
#include "i18n.h"
#include "stat_period.h"
#include "stats_out.h"
#include "desk-report.h"

struct _DeskPeriodStats {
    GtkBox parent;
    DeskWindow *win;
    Sanji__PeriodStatistics *stats; /* last answer (own copy), NULL before one came */
    GtkWidget *kind, *at, *group, *ask, *grid, *message, *export_button;
    bool asking;
};

G_DEFINE_TYPE(DeskPeriodStats, desk_period_stats, GTK_TYPE_BOX)

/* The period kinds in the drop-down's order (sj_stat_period values). */
static const sj_stat_period KINDS[] = {SJ_STAT_PERIOD_MONTH, SJ_STAT_PERIOD_QUARTER,
                                       SJ_STAT_PERIOD_YEAR, SJ_STAT_PERIOD_DAY};

/* The current period of a kind, as its text (China time). */
static void current(sj_stat_period kind, char *out, size_t cap)
{
    int y, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(sj_clock_real_ms()), &y, &m, &d);
    switch (kind) {
    case SJ_STAT_PERIOD_DAY:
        snprintf(out, cap, "%04d-%02d-%02d", y, m, d);
        break;
    case SJ_STAT_PERIOD_QUARTER:
        snprintf(out, cap, "%04d-Q%d", y, (m + 2) / 3);
        break;
    case SJ_STAT_PERIOD_YEAR:
        snprintf(out, cap, "%04d", y);
        break;
    default:
        snprintf(out, cap, "%04d-%02d", y, m);
        break;
    }
}

static sj_stat_period chosen_kind(DeskPeriodStats *p)
{
    guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(p->kind));
    return i < G_N_ELEMENTS(KINDS) ? KINDS[i] : SJ_STAT_PERIOD_MONTH;
}

static void on_kind(GObject *o, GParamSpec *ps, gpointer data)
{
    DeskPeriodStats *p = data;
    char at[32];
    current(chosen_kind(p), at, sizeof at);
    gtk_editable_set_text(GTK_EDITABLE(p->at), at);
}

static void show(DeskPeriodStats *p)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(p->grid)))
        gtk_grid_remove(GTK_GRID(p->grid), child);
    const Sanji__PeriodStatistics *s = p->stats;
    size_t cols = sc_stats_columns();
    for (size_t c = 0; c < cols; c++) {
        GtkWidget *l = gtk_label_new(sc_stats_heading(c));
        gtk_widget_add_css_class(l, "heading");
        gtk_label_set_wrap(GTK_LABEL(l), true);
        gtk_grid_attach(GTK_GRID(p->grid), l, (int)c, 0, 1, 1);
    }
    char cell[256];
    for (size_t i = 0; i <= s->n_rows; i++) {
        const Sanji__PeriodStatRow *row = i < s->n_rows ? s->rows[i] : s->total;
        if (!row)
            continue;
        for (size_t c = 0; c < cols; c++) {
            sc_stats_cell(row, c, cell, sizeof cell);
            GtkWidget *l = gtk_label_new(cell);
            gtk_label_set_xalign(GTK_LABEL(l), c < 2 ? 0 : 1);
            if (i == s->n_rows)
                gtk_widget_add_css_class(l, "heading");
            gtk_grid_attach(GTK_GRID(p->grid), l, (int)c, (int)i + 1, 1, 1);
        }
    }
    char period[64];
    sc_stats_period_text(s, period, sizeof period);
    g_autofree char *now = desk_format_time(s->computed_at_ms);
    /* Translators: period statistics: the period, the grouping, when computed. */
    g_autofree char *m = g_strdup_printf(_("Period %s · %s · as of %s."), period,
                                         sc_stats_group_name(s->group_by), now);
    gtk_label_set_text(GTK_LABEL(p->message), m);
    gtk_widget_set_sensitive(p->export_button, true);
}

static void on_result(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    DeskPeriodStats *p = data;
    p->asking = false;
    if (gtk_widget_get_root(GTK_WIDGET(p))) {
        if (status == 0 && res &&
            res->result_case == SANJI__QUERY_RESULT__RESULT_PERIOD_STATISTICS &&
            res->period_statistics) {
            /* Own copy: the answer is borrowed for the callback only. */
            size_t len = sanji__period_statistics__get_packed_size(res->period_statistics);
            uint8_t *buf = g_malloc(len ? len : 1);
            sanji__period_statistics__pack(res->period_statistics, buf);
            Sanji__PeriodStatistics *copy = sanji__period_statistics__unpack(NULL, len, buf);
            g_free(buf);
            if (copy) {
                if (p->stats)
                    sanji__period_statistics__free_unpacked(p->stats, NULL);
                p->stats = copy;
                show(p);
            }
        } else {
            const char *why = desk_query_reason(res, status);
            g_autofree char *m = g_strdup_printf(
                _("Statistics are not available now (%s). Press Refresh to ask again."), _(why));
            gtk_label_set_text(GTK_LABEL(p->message), m);
        }
    }
    g_object_unref(p);
}

static void on_ask(GtkButton *b, gpointer data)
{
    DeskPeriodStats *p = data;
    if (p->asking)
        return;
    Sanji__PeriodStatQuery pq = SANJI__PERIOD_STAT_QUERY__INIT;
    char at[64];
    snprintf(at, sizeof at, "%s", gtk_editable_get_text(GTK_EDITABLE(p->at)));
    pq.period = (Sanji__StatPeriod)chosen_kind(p);
    pq.at = at;
    /* The drop-down lists the groupings in StatGroup order. */
    pq.group_by = (Sanji__StatGroup)gtk_drop_down_get_selected(GTK_DROP_DOWN(p->group));
    sj_error err;
    int64_t from, to;
    if (sj_stat_period_range((sj_stat_period)pq.period, at, &from, &to, &err) != 0) {
        gtk_label_set_text(GTK_LABEL(p->message), err.message);
        return;
    }
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
    q.period_statistics = &pq;
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

int desk_period_stats_export(DeskPeriodStats *p, const char *path, sj_error *err)
{
    if (!p->stats)
        return sj_error_set(err, SJ_ENOTFOUND, "%s",
                            _("There are no statistics to export yet; press Refresh first."));
    return sc_stats_write_xlsx(path, p->stats, err);
}

static int write_export(gpointer data, const char *path, sj_error *err)
{
    return desk_period_stats_export(data, path, err);
}

static void on_export(GtkButton *b, gpointer data)
{
    DeskPeriodStats *p = data;
    desk_window_save_file(p->win, _("Export statistics"), "sanji-statistics.xlsx", write_export, p);
}

static void desk_period_stats_finalize(GObject *obj)
{
    DeskPeriodStats *p = DESK_PERIOD_STATS(obj);
    if (p->stats)
        sanji__period_statistics__free_unpacked(p->stats, NULL);
    G_OBJECT_CLASS(desk_period_stats_parent_class)->finalize(obj);
}

static void desk_period_stats_class_init(DeskPeriodStatsClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = desk_period_stats_finalize;
}

static void desk_period_stats_init(DeskPeriodStats *p)
{
}

DeskPeriodStats *desk_period_stats_new(DeskWindow *w)
{
    DeskPeriodStats *p = g_object_new(DESK_TYPE_PERIOD_STATS, "orientation",
                                      GTK_ORIENTATION_VERTICAL, "spacing", 8, NULL);
    p->win = w;
    GtkWidget *title = gtk_label_new(_("Statistics of a period"));
    gtk_widget_add_css_class(title, "title-3");
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    const char *kinds[] = {_("stats: month"), _("stats: quarter"), _("stats: year"),
                           _("stats: day"), NULL};
    p->kind = gtk_drop_down_new_from_strings(kinds);
    p->at = gtk_entry_new();
    gtk_editable_set_width_chars(GTK_EDITABLE(p->at), 11);
    char at[32];
    current(SJ_STAT_PERIOD_MONTH, at, sizeof at);
    gtk_editable_set_text(GTK_EDITABLE(p->at), at);
    g_signal_connect(p->kind, "notify::selected", G_CALLBACK(on_kind), p);
    const char *groups[] = {sc_stats_group_name(SANJI__STAT_GROUP__STAT_GROUP_NONE),
                            sc_stats_group_name(SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP),
                            sc_stats_group_name(SANJI__STAT_GROUP__STAT_GROUP_VILLAGE),
                            sc_stats_group_name(SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT),
                            sc_stats_group_name(SANJI__STAT_GROUP__STAT_GROUP_CATEGORY),
                            sc_stats_group_name(SANJI__STAT_GROUP__STAT_GROUP_ITEM),
                            sc_stats_group_name(SANJI__STAT_GROUP__STAT_GROUP_HANDLING),
                            sc_stats_group_name(SANJI__STAT_GROUP__STAT_GROUP_LEVEL),
                            NULL};
    p->group = gtk_drop_down_new_from_strings(groups);
    /* To start with, the grouping one level below the desk's own. */
    Sanji__StatGroup first = SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP;
    switch (sc_client_node(desk_window_client(w))->role) {
    case SJ_NODE_ROLE_TOWNSHIP_DESK:
        first = SANJI__STAT_GROUP__STAT_GROUP_VILLAGE;
        break;
    case SJ_NODE_ROLE_DEPARTMENT_DESK:
        first = SANJI__STAT_GROUP__STAT_GROUP_ITEM;
        break;
    default:
        break;
    }
    gtk_drop_down_set_selected(GTK_DROP_DOWN(p->group), first);
    p->ask = gtk_button_new_with_label(_("Compute"));
    g_signal_connect(p->ask, "clicked", G_CALLBACK(on_ask), p);
    p->export_button = gtk_button_new_with_label(_("Export Excel…"));
    gtk_widget_set_sensitive(p->export_button, false);
    g_signal_connect(p->export_button, "clicked", G_CALLBACK(on_export), p);
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *bar_parts[] = {p->kind, p->at, p->group, p->ask, p->export_button};
    for (size_t i = 0; i < G_N_ELEMENTS(bar_parts); i++)
        gtk_box_append(GTK_BOX(bar), bar_parts[i]);
    p->message = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(p->message), 0);
    gtk_label_set_wrap(GTK_LABEL(p->message), true);
    p->grid = gtk_grid_new();
    gtk_grid_set_column_spacing(GTK_GRID(p->grid), 12);
    gtk_grid_set_row_spacing(GTK_GRID(p->grid), 4);
    gtk_widget_add_css_class(p->grid, "table");
    GtkWidget *scroll = gtk_scrolled_window_new();
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_AUTOMATIC,
                                   GTK_POLICY_NEVER);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), p->grid);
    /* The 通报's charts and exports below the table. */
    GtkWidget *parts[] = {title, bar, p->message, scroll, GTK_WIDGET(desk_report_new(w))};
    for (size_t i = 0; i < G_N_ELEMENTS(parts); i++)
        gtk_box_append(GTK_BOX(p), parts[i]);
    desk_window_register(w, "pstats.at", p->at);
    desk_window_register(w, "pstats.ask", p->ask);
    desk_window_register(w, "pstats.message", p->message);
    desk_window_register(w, "pstats.grid", p->grid);
    return p;
}
