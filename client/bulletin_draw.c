/*
 * bulletin_draw.c - the 通报 as a PDF (see bulletin.h): A4 pages with the
 * title and period, the summary in words and figures, the charts
 * (chart.c: the trend of twelve months, 办结率 by township and by
 * department, the handling mix, the satisfaction split, the village grid) and the tables by
 * township, village, department, category and handling type, each page
 * numbered (doc.c).
 */
#include "bulletin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "clock.h"
#include "doc.h"
#include "i18n.h"
#include "stats_out.h"

/* The columns of the PDF's tables: what fits an A4 page across. */
static const sc_stats_col TABLE_COLS[] = {
    SC_STATS_COL_LABEL,       SC_STATS_COL_REGISTERED,  SC_STATS_COL_FINISHED,
    SC_STATS_COL_OPEN,        SC_STATS_COL_FINISH_RATE, SC_STATS_COL_ON_TIME_RATE,
    SC_STATS_COL_AVG_DAYS,    SC_STATS_COL_OVERDUE_NOW, SC_STATS_COL_SATISFACTION_RATE,
};
#define N_TABLE_COLS (sizeof TABLE_COLS / sizeof TABLE_COLS[0])
enum { CELL = 64 };

/* The rows of s then its total, in TABLE_COLS. */
static void stats_table(sc_doc *d, const Sanji__PeriodStatistics *s)
{
    const char *heads[N_TABLE_COLS];
    double widths[N_TABLE_COLS];
    for (size_t c = 0; c < N_TABLE_COLS; c++) {
        heads[c] = sc_stats_heading(TABLE_COLS[c]);
        widths[c] = c == 0 ? 2.4 : 1;
    }
    size_t n = s->n_rows + 1;
    char(*text)[CELL] = calloc(n * N_TABLE_COLS, CELL);
    const char **cells = calloc(n * N_TABLE_COLS, sizeof *cells);
    if (!text || !cells) {
        free(text);
        free(cells);
        return;
    }
    for (size_t r = 0; r < n; r++) {
        const Sanji__PeriodStatRow *row = r < s->n_rows ? s->rows[r] : s->total;
        for (size_t c = 0; c < N_TABLE_COLS; c++) {
            char *t = text[r * N_TABLE_COLS + c];
            if (r == s->n_rows && c == 0)
                snprintf(t, CELL, "%s", _("stats: total"));
            else
                sc_stats_cell(row, TABLE_COLS[c], t, CELL);
            cells[r * N_TABLE_COLS + c] = t;
        }
    }
    sc_doc_table(d, heads, widths, N_TABLE_COLS, cells, n, 1);
    free(text);
    free(cells);
}

static void summary(sc_doc *d, const sc_bulletin *b)
{
    const Sanji__PeriodStatRow *t = sc_bulletin_stats(b, SC_BULLETIN_TOWNSHIP)->total;
    char rate[16], on_time[16], days[16], sat[16], text[1024];
    sc_stats_cell(t, SC_STATS_COL_FINISH_RATE, rate, sizeof rate);
    sc_stats_cell(t, SC_STATS_COL_ON_TIME_RATE, on_time, sizeof on_time);
    sc_stats_cell(t, SC_STATS_COL_AVG_DAYS, days, sizeof days);
    sc_stats_cell(t, SC_STATS_COL_SATISFACTION_RATE, sat, sizeof sat);
    snprintf(text, sizeof text, _("bulletin: summary %u %u %u %u %s %s %s %s %u"), t->registered,
             t->withdrawn, t->finished, t->open, rate, on_time, days, sat, t->overdue_now);
    sc_doc_text(d->cr, text, d->margin, &d->y, d->width - 2 * d->margin, 11, false, SC_DOC_LEFT);
    d->y += 10;
}

static void trend_chart(sc_doc *d, const sc_bulletin *b, double h)
{
    const char *labels[SC_BULLETIN_MONTHS];
    double reg[SC_BULLETIN_MONTHS], fin[SC_BULLETIN_MONTHS];
    for (size_t k = 0; k < SC_BULLETIN_MONTHS; k++) {
        const Sanji__PeriodStatRow *t = sc_bulletin_stats(b, SC_BULLETIN_PARTS + k)->total;
        labels[k] = b->month_at[k];
        reg[k] = t->registered;
        fin[k] = t->finished;
    }
    sc_chart_series series[2] = {{sc_stats_heading(SC_STATS_COL_REGISTERED), reg},
                                 {sc_stats_heading(SC_STATS_COL_FINISHED), fin}};
    sc_doc_need(d, h);
    sc_chart_lines(d->cr, d->margin, d->y, d->width - 2 * d->margin, h, _("chart: trend"), labels,
                   SC_BULLETIN_MONTHS, series, 2);
    d->y += h + 10;
}

/* The handling mix and the satisfaction split side by side. */
static void mix_charts(sc_doc *d, const sc_bulletin *b, double h)
{
    const Sanji__PeriodStatistics *s = sc_bulletin_stats(b, SC_BULLETIN_HANDLING);
    const char *labels[16];
    double values[16];
    size_t n = 0;
    for (size_t i = 0; i < s->n_rows && n < 16; i++) {
        labels[n] = s->rows[i]->label ? s->rows[i]->label : "";
        values[n++] = s->rows[i]->registered;
    }
    double w = (d->width - 2 * d->margin - 20) / 2;
    sc_doc_need(d, h);
    sc_chart_parts(d->cr, d->margin, d->y, w, h, _("chart: handling mix"), labels, values, n, NULL);
    const char *sl[SC_BULLETIN_VERDICTS];
    double sv[SC_BULLETIN_VERDICTS];
    sc_bulletin_satisfaction(b, sl, sv);
    sc_chart_parts(d->cr, d->margin + w + 20, d->y, w, h, _("chart: satisfaction split"), sl, sv,
                   SC_BULLETIN_VERDICTS, SC_CHART_SATISFACTION_COLOURS);
    d->y += h + 10;
}

/* 办结率 of each row of s as bars (at most 40: a county's townships or
 * departments). */
static void rate_bars(sc_doc *d, const Sanji__PeriodStatistics *s, const char *title)
{
    size_t n = s->n_rows < 40 ? s->n_rows : 40;
    const char *labels[40];
    double values[40];
    for (size_t i = 0; i < n; i++) {
        labels[i] = s->rows[i]->label ? s->rows[i]->label : "";
        values[i] = s->rows[i]->finish_rate;
    }
    double h = 24 + 16.0 * (double)(n ? n : 1);
    sc_doc_need(d, h);
    sc_chart_bars(d->cr, d->margin, d->y, d->width - 2 * d->margin, h, title, labels, values, n,
                  true);
    d->y += h + 8;
}

static void village_grid(sc_doc *d, const sc_bulletin *b)
{
    const Sanji__PeriodStatistics *s = sc_bulletin_stats(b, SC_BULLETIN_VILLAGE);
    size_t cap = b->n_villages + s->n_rows;
    const char **names = calloc(cap ? cap : 1, sizeof *names);
    double *rates = calloc(cap ? cap : 1, sizeof *rates);
    bool *has = calloc(cap ? cap : 1, sizeof *has);
    if (names && rates && has) {
        size_t n = sc_bulletin_grid(b, names, rates, has, cap);
        double w = d->width - 2 * d->margin;
        size_t cols = (size_t)(w / 56);
        size_t rows = (n + cols - 1) / cols;
        /* Named cells of 30 points while a half page holds them, else a
         * map of squares in a third of a page. */
        double h = 40 + 30.0 * (double)(rows ? rows : 1);
        if (h > (d->height - 2 * d->margin) / 2)
            h = (d->height - 2 * d->margin) / 3;
        sc_doc_need(d, h);
        sc_chart_grid(d->cr, d->margin, d->y, w, h, _("chart: village grid"), names, rates, has,
                      n);
        d->y += h + 8;
    }
    free(names);
    free(rates);
    free(has);
}

static void satisfaction_table(sc_doc *d, const sc_bulletin *b)
{
    const char *labels[SC_BULLETIN_VERDICTS];
    double counts[SC_BULLETIN_VERDICTS], sum = 0;
    sc_bulletin_satisfaction(b, labels, counts);
    for (int i = 0; i < SC_BULLETIN_VERDICTS; i++)
        sum += counts[i];
    char text[SC_BULLETIN_VERDICTS][2][32];
    const char *cells[SC_BULLETIN_VERDICTS * 3];
    for (int i = 0; i < SC_BULLETIN_VERDICTS; i++) {
        snprintf(text[i][0], sizeof text[i][0], "%.0f", counts[i]);
        snprintf(text[i][1], sizeof text[i][1], "%.1f%%", sum > 0 ? 100.0 * counts[i] / sum : 0.0);
        cells[i * 3] = labels[i];
        cells[i * 3 + 1] = text[i][0];
        cells[i * 3 + 2] = text[i][1];
    }
    const char *heads[3] = {_("bulletin: verdict"), _("bulletin: count"), _("bulletin: share")};
    const double widths[3] = {2, 1, 1};
    sc_doc_table(d, heads, widths, 3, cells, SC_BULLETIN_VERDICTS, 0);
}

int sc_bulletin_write_pdf(const sc_bulletin *b, const char *path, sj_error *err)
{
    if (!sc_bulletin_ready(b))
        return sj_error_set(err, SJ_EINVAL, "%s", _("The bulletin is not complete: some statistics were not answered."));
    char title[512], period[64], at[40], below[256];
    sc_bulletin_title(b, title, sizeof title);
    const Sanji__PeriodStatistics *main = sc_bulletin_stats(b, SC_BULLETIN_TOWNSHIP);
    sc_stats_period_text(main, period, sizeof period);
    sc_doc_time(main->computed_at_ms, at, sizeof at);
    snprintf(below, sizeof below, _("bulletin: period %s, computed %s"), period, at);
    sc_doc d;
    int rc = sc_doc_open_pdf(&d, path, SC_DOC_A4_WIDTH, SC_DOC_A4_HEIGHT, title, true, err);
    if (rc != 0)
        return rc;
    snprintf(d.footer, sizeof d.footer, "%.200s", title);
    sc_doc_title(&d, "", title, below);

    sc_doc_heading(&d, _("bulletin: 1 overview"), 60);
    summary(&d, b);
    trend_chart(&d, b, 170);
    mix_charts(&d, b, 110);

    sc_doc_heading(&d, _("bulletin: 2 townships"), 80);
    rate_bars(&d, main, _("chart: finish rate by township"));
    stats_table(&d, main);

    sc_doc_heading(&d, _("bulletin: 3 villages"), 120);
    village_grid(&d, b);
    stats_table(&d, sc_bulletin_stats(b, SC_BULLETIN_VILLAGE));

    sc_doc_heading(&d, _("bulletin: 4 departments"), 80);
    rate_bars(&d, sc_bulletin_stats(b, SC_BULLETIN_DEPARTMENT), _("chart: finish rate by department"));
    stats_table(&d, sc_bulletin_stats(b, SC_BULLETIN_DEPARTMENT));
    sc_doc_heading(&d, _("bulletin: 5 categories"), 60);
    stats_table(&d, sc_bulletin_stats(b, SC_BULLETIN_CATEGORY));
    sc_doc_heading(&d, _("bulletin: 6 handling"), 60);
    stats_table(&d, sc_bulletin_stats(b, SC_BULLETIN_HANDLING));
    sc_doc_heading(&d, _("bulletin: 7 satisfaction"), 60);
    satisfaction_table(&d, b);
    return sc_doc_close(&d, err);
}
