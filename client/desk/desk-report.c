/*
 * desk-report.c - the 通报's charts and the exports of the 通报 and the
 * 台账 on the desktop (see desk-report.h).
 */
#include "desk-report.h"

#include "bulletin.h"
#include "chart.h"
#include "clock.h"
#include "i18n.h"
#include "ledger.h"
#include "sanji_client.h"

struct _DeskReport {
    GtkBox parent;
    DeskWindow *win;
    sc_bulletin b;
    bool have;          /* b holds a complete bulletin */
    bool init;          /* b was initialised (sc_bulletin_free() due) */
    unsigned gen;       /* the questions' round; older answers are dropped */
    size_t waiting;     /* answers still to come in this round */
    GtkWidget *kind, *at, *ask, *message, *charts, *pdf, *xlsx, *ledger;
};

G_DEFINE_TYPE(DeskReport, desk_report, GTK_TYPE_BOX)

typedef struct ask_ctx {
    DeskReport *p;
    unsigned gen;
    size_t i;
} ask_ctx;

static bool quarter_chosen(DeskReport *p)
{
    return gtk_drop_down_get_selected(GTK_DROP_DOWN(p->kind)) == 1;
}

static void current(bool quarter, char *out, size_t cap)
{
    int y, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(sj_clock_real_ms()), &y, &m, &d);
    if (quarter)
        snprintf(out, cap, "%04d-Q%d", y, (m + 2) / 3);
    else
        snprintf(out, cap, "%04d-%02d", y, m);
}

static void on_kind(GObject *o, GParamSpec *ps, gpointer data)
{
    DeskReport *p = data;
    char at[32];
    current(quarter_chosen(p), at, sizeof at);
    gtk_editable_set_text(GTK_EDITABLE(p->at), at);
}

static void set_ready(DeskReport *p, bool ready)
{
    p->have = ready;
    gtk_widget_set_sensitive(p->pdf, ready);
    gtk_widget_set_sensitive(p->xlsx, ready);
    /* No empty white area before the first bulletin. */
    gtk_widget_set_visible(p->charts, ready);
    gtk_widget_queue_draw(p->charts);
}

static void on_answer(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    ask_ctx *x = data;
    DeskReport *p = x->p;
    if (x->gen == p->gen && gtk_widget_get_root(GTK_WIDGET(p))) {
        if (status == 0 && res && res->period_statistics) {
            /* Own copy: the answer is borrowed for the callback only. */
            size_t len = sanji__query_result__get_packed_size(res);
            uint8_t *buf = g_malloc(len ? len : 1);
            sanji__query_result__pack(res, buf);
            Sanji__QueryResult *copy = sanji__query_result__unpack(NULL, len, buf);
            g_free(buf);
            sj_error err;
            if (copy && sc_bulletin_take(&p->b, x->i, copy, &err) == 0 && --p->waiting == 0) {
                sc_bulletin_name_units(&p->b, c);
                char title[512];
                sc_bulletin_title(&p->b, title, sizeof title);
                gtk_label_set_text(GTK_LABEL(p->message), title);
                set_ready(p, true);
            }
        } else {
            p->gen++; /* the rest of this round is of no use */
            const char *why = desk_query_reason(res, status);
            g_autofree char *m = g_strdup_printf(
                _("Statistics are not available now (%s). Press Refresh to ask again."), _(why));
            gtk_label_set_text(GTK_LABEL(p->message), m);
        }
    }
    g_object_unref(p);
    g_free(x);
}

static void on_ask(GtkButton *btn, gpointer data)
{
    DeskReport *p = data;
    char at[32];
    snprintf(at, sizeof at, "%s", gtk_editable_get_text(GTK_EDITABLE(p->at)));
    if (p->init)
        sc_bulletin_free(&p->b);
    p->init = false;
    set_ready(p, false);
    p->gen++;
    sj_error err;
    if (sc_bulletin_init(&p->b, quarter_chosen(p), at, &err) != 0) {
        gtk_label_set_text(GTK_LABEL(p->message), err.message);
        return;
    }
    p->init = true;
    p->waiting = SC_BULLETIN_QUERIES;
    sc_client *c = desk_window_client(p->win);
    for (size_t i = 0; i < SC_BULLETIN_QUERIES; i++) {
        Sanji__Query q = SANJI__QUERY__INIT;
        q.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
        q.period_statistics = &p->b.q[i];
        ask_ctx *x = g_new0(ask_ctx, 1);
        *x = (ask_ctx){g_object_ref(p), p->gen, i};
        if (sc_query(c, &q, on_answer, x, &err) != 0) {
            g_object_unref(p);
            g_free(x);
            p->gen++;
            g_autofree char *m =
                g_strdup_printf(_("Statistics need the link to the county: %s"), err.message);
            gtk_label_set_text(GTK_LABEL(p->message), m);
            return;
        }
    }
    gtk_label_set_text(GTK_LABEL(p->message), _("Asking…"));
}

/* The charts: the trend across the top left, the two mixes beside it, then
 * 办结率 by township and the village grid. */
static void draw(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
    DeskReport *p = data;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    if (!p->have)
        return;
    const sc_bulletin *b = &p->b;
    double w = width, h = height, gap = 16;
    double lw = (w - gap) * 0.58, rw = w - gap - lw, top_h = 230;
    /* The trend. */
    const char *months[SC_BULLETIN_MONTHS];
    double reg[SC_BULLETIN_MONTHS], fin[SC_BULLETIN_MONTHS];
    for (size_t k = 0; k < SC_BULLETIN_MONTHS; k++) {
        const Sanji__PeriodStatRow *t = sc_bulletin_stats(b, SC_BULLETIN_PARTS + k)->total;
        months[k] = b->month_at[k];
        reg[k] = t->registered;
        fin[k] = t->finished;
    }
    sc_chart_series series[2] = {{_("stats: registered"), reg}, {_("stats: finished"), fin}};
    sc_chart_lines(cr, 0, 0, lw, top_h, _("chart: trend"), months, SC_BULLETIN_MONTHS, series, 2);
    /* The mixes. */
    const Sanji__PeriodStatistics *hs = sc_bulletin_stats(b, SC_BULLETIN_HANDLING);
    const char *hl[16];
    double hv[16];
    size_t hn = 0;
    for (size_t i = 0; i < hs->n_rows && hn < 16; i++) {
        hl[hn] = hs->rows[i]->label ? hs->rows[i]->label : "";
        hv[hn++] = hs->rows[i]->registered;
    }
    sc_chart_parts(cr, lw + gap, 0, rw, top_h / 2, _("chart: handling mix"), hl, hv, hn, NULL);
    const char *sl[SC_BULLETIN_VERDICTS];
    double sv[SC_BULLETIN_VERDICTS];
    sc_bulletin_satisfaction(b, sl, sv);
    sc_chart_parts(cr, lw + gap, top_h / 2 + 6, rw, top_h / 2, _("chart: satisfaction split"), sl,
                   sv, SC_BULLETIN_VERDICTS, SC_CHART_SATISFACTION_COLOURS);
    /* 办结率 by township and the village grid. */
    const Sanji__PeriodStatistics *ts = sc_bulletin_stats(b, SC_BULLETIN_TOWNSHIP);
    size_t tn = ts->n_rows < 40 ? ts->n_rows : 40;
    const char *tl[40];
    double tv[40];
    for (size_t i = 0; i < tn; i++) {
        tl[i] = ts->rows[i]->label ? ts->rows[i]->label : "";
        tv[i] = ts->rows[i]->finish_rate;
    }
    double y2 = top_h + gap, h2 = h - y2;
    double bw = (w - gap) * 0.38;
    sc_chart_bars(cr, 0, y2, bw, h2, _("chart: finish rate by township"), tl, tv, tn, true);
    size_t cap = b->n_villages + sc_bulletin_stats(b, SC_BULLETIN_VILLAGE)->n_rows;
    const char **names = g_new0(const char *, cap + 1);
    double *rates = g_new0(double, cap + 1);
    bool *has = g_new0(bool, cap + 1);
    size_t n = sc_bulletin_grid(b, names, rates, has, cap);
    sc_chart_grid(cr, bw + gap, y2, w - bw - gap, h2, _("chart: village grid"), names, rates, has,
                  n);
    g_free(names);
    g_free(rates);
    g_free(has);
}

static int write_pdf(gpointer data, const char *path, sj_error *err)
{
    DeskReport *p = data;
    if (!p->have)
        return sj_error_set(err, SJ_ENOTFOUND, "%s",
                            _("There are no statistics to export yet; press Refresh first."));
    return sc_bulletin_write_pdf(&p->b, path, err);
}

static int write_xlsx(gpointer data, const char *path, sj_error *err)
{
    DeskReport *p = data;
    if (!p->have)
        return sj_error_set(err, SJ_ENOTFOUND, "%s",
                            _("There are no statistics to export yet; press Refresh first."));
    return sc_bulletin_write_xlsx(&p->b, path, err);
}

/* The month of the 台账: the one chosen, or for a quarter the current month. */
static void ledger_month(DeskReport *p, char *out, size_t cap)
{
    if (quarter_chosen(p))
        current(false, out, cap);
    else
        snprintf(out, cap, "%s", gtk_editable_get_text(GTK_EDITABLE(p->at)));
}

static int write_ledger(gpointer data, const char *path, sj_error *err)
{
    DeskReport *p = data;
    char month[32];
    ledger_month(p, month, sizeof month);
    sc_ledger l;
    int rc = sc_ledger_make(desk_window_client(p->win), month, &l, err);
    if (rc == 0)
        rc = sc_ledger_write_pdf(&l, path, err);
    sc_ledger_free(&l);
    return rc;
}

static void on_pdf(GtkButton *btn, gpointer data)
{
    DeskReport *p = data;
    g_autofree char *name = g_strdup_printf("%s-%s.pdf", _("bulletin: file"), p->b.at);
    desk_window_save_file(p->win, _("Export the bulletin as PDF"), name, write_pdf, p);
}

static void on_xlsx(GtkButton *btn, gpointer data)
{
    DeskReport *p = data;
    g_autofree char *name = g_strdup_printf("%s-%s.xlsx", _("bulletin: file"), p->b.at);
    desk_window_save_file(p->win, _("Export the bulletin as Excel"), name, write_xlsx, p);
}

static void on_ledger(GtkButton *btn, gpointer data)
{
    DeskReport *p = data;
    char month[32];
    ledger_month(p, month, sizeof month);
    g_autofree char *name = g_strdup_printf("%s-%s.pdf", _("ledger: file"), month);
    desk_window_save_file(p->win, _("Export the ledger"), name, write_ledger, p);
}

static void desk_report_finalize(GObject *obj)
{
    DeskReport *p = DESK_REPORT(obj);
    if (p->init)
        sc_bulletin_free(&p->b);
    G_OBJECT_CLASS(desk_report_parent_class)->finalize(obj);
}

static void desk_report_class_init(DeskReportClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = desk_report_finalize;
}

static void desk_report_init(DeskReport *p)
{
}

DeskReport *desk_report_new(DeskWindow *w)
{
    DeskReport *p = g_object_new(DESK_TYPE_REPORT, "orientation", GTK_ORIENTATION_VERTICAL,
                                 "spacing", 8, NULL);
    p->win = w;
    GtkWidget *title = gtk_label_new(_("Bulletin and charts"));
    gtk_widget_add_css_class(title, "title-3");
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    const char *kinds[] = {_("stats: month"), _("stats: quarter"), NULL};
    p->kind = gtk_drop_down_new_from_strings(kinds);
    p->at = gtk_entry_new();
    gtk_editable_set_width_chars(GTK_EDITABLE(p->at), 9);
    char at[32];
    current(false, at, sizeof at);
    gtk_editable_set_text(GTK_EDITABLE(p->at), at);
    g_signal_connect(p->kind, "notify::selected", G_CALLBACK(on_kind), p);
    p->ask = gtk_button_new_with_label(_("Make the bulletin"));
    g_signal_connect(p->ask, "clicked", G_CALLBACK(on_ask), p);
    p->pdf = gtk_button_new_with_label(_("Export bulletin PDF"));
    g_signal_connect(p->pdf, "clicked", G_CALLBACK(on_pdf), p);
    p->xlsx = gtk_button_new_with_label(_("Export bulletin Excel"));
    g_signal_connect(p->xlsx, "clicked", G_CALLBACK(on_xlsx), p);
    gtk_widget_set_sensitive(p->pdf, false);
    gtk_widget_set_sensitive(p->xlsx, false);
    p->ledger = gtk_button_new_with_label(_("Export ledger"));
    g_signal_connect(p->ledger, "clicked", G_CALLBACK(on_ledger), p);
    /* The 台账 is a station's: it holds its village's cases. */
    gtk_widget_set_visible(p->ledger,
                           sc_client_node(desk_window_client(w))->role == SJ_NODE_ROLE_VILLAGE);
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *bar_parts[] = {p->kind, p->at, p->ask, p->pdf, p->xlsx, p->ledger};
    for (size_t i = 0; i < G_N_ELEMENTS(bar_parts); i++)
        gtk_box_append(GTK_BOX(bar), bar_parts[i]);
    p->message = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(p->message), 0);
    gtk_label_set_wrap(GTK_LABEL(p->message), true);
    p->charts = gtk_drawing_area_new();
    gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(p->charts), 900);
    gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(p->charts), 560);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(p->charts), draw, p, NULL);
    gtk_widget_set_visible(p->charts, false);
    GtkWidget *parts[] = {title, bar, p->message, p->charts};
    for (size_t i = 0; i < G_N_ELEMENTS(parts); i++)
        gtk_box_append(GTK_BOX(p), parts[i]);
    desk_window_register(w, "report.at", p->at);
    desk_window_register(w, "report.ask", p->ask);
    desk_window_register(w, "report.message", p->message);
    desk_window_register(w, "report.charts", p->charts);
    desk_window_register(w, "report.pdf", p->pdf);
    desk_window_register(w, "report.xlsx", p->xlsx);
    desk_window_register(w, "report.ledger", p->ledger);
    return p;
}
