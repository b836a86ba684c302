/*
 * chart.c - the statistics' pictures on cairo (see chart.h).  Kept plain
 * so that a photocopy of the 通报 still reads: few colours, every bar and
 * cell labelled with its figure, no value shown only by colour.
 */
#include "chart.h"

#include <math.h>
#include <stdio.h>

#include "doc.h"
#include "i18n.h"

static const double PALETTE[][3] = {
    {0.16, 0.40, 0.71}, {0.90, 0.49, 0.13}, {0.22, 0.62, 0.32}, {0.80, 0.22, 0.22},
    {0.55, 0.38, 0.72}, {0.50, 0.50, 0.50}, {0.10, 0.65, 0.70}, {0.75, 0.60, 0.10},
};
#define N_PALETTE (sizeof PALETTE / sizeof PALETTE[0])

static void colour(cairo_t *cr, size_t i)
{
    const double *c = PALETTE[i % N_PALETTE];
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
}

static void ink(cairo_t *cr)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
}

/* The title; returns the y below it. */
static double title_at(cairo_t *cr, const char *title, double x, double y, double w)
{
    ink(cr);
    if (title && *title) {
        sc_doc_text(cr, title, x, &y, w, 11, true, SC_DOC_LEFT);
        y += 4;
    }
    return y;
}

/* A number as a chart shows it. */
static void figure(double v, bool percent, char *buf, size_t cap)
{
    if (percent)
        snprintf(buf, cap, "%.1f%%", v * 100.0);
    else if (fabs(v - round(v)) < 1e-9)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.1f", v);
}

/* A round step for an axis up to max in about 4 steps. */
static double axis_step(double max)
{
    if (max <= 0)
        return 1;
    double raw = max / 4, mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

void sc_chart_lines(cairo_t *cr, double x, double y, double w, double h, const char *title,
                    const char *const *labels, size_t n, const sc_chart_series *series,
                    size_t n_series)
{
    cairo_save(cr);
    double top = title_at(cr, title, x, y, w);
    /* Legend on one line. */
    double lx = x, ly = top;
    for (size_t s = 0; s < n_series; s++) {
        colour(cr, s);
        cairo_rectangle(cr, lx, ly + 3, 14, 6);
        cairo_fill(cr);
        ink(cr);
        double ty = ly;
        sc_doc_text(cr, series[s].name, lx + 18, &ty, 90, 8.5, false, SC_DOC_LEFT);
        lx += 110;
    }
    top += 16;
    double max = 0;
    for (size_t s = 0; s < n_series; s++)
        for (size_t i = 0; i < n; i++)
            if (series[s].values[i] > max)
                max = series[s].values[i];
    double step = axis_step(max), top_v = step * ceil(max / step);
    if (top_v <= 0)
        top_v = step;
    double left = x + 34, right = x + w - 6, bottom = y + h - 16;
    double ph = bottom - top;
    if (ph < 10 || n == 0) {
        cairo_restore(cr);
        return;
    }
    /* Axis and grid lines. */
    cairo_set_line_width(cr, 0.4);
    for (double v = 0; v <= top_v + 1e-9; v += step) {
        double yy = bottom - ph * v / top_v;
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_move_to(cr, left, yy);
        cairo_line_to(cr, right, yy);
        cairo_stroke(cr);
        ink(cr);
        char t[32];
        figure(v, false, t, sizeof t);
        double ty = yy - 5;
        sc_doc_text(cr, t, x, &ty, 30, 7.5, false, SC_DOC_RIGHT);
    }
    double dx = n > 1 ? (right - left) / (double)(n - 1) : 0;
    for (size_t i = 0; i < n; i++) {
        double ty = bottom + 3;
        sc_doc_text(cr, labels[i], left + dx * (double)i - 20, &ty, 40, 7, false, SC_DOC_CENTER);
    }
    for (size_t s = 0; s < n_series; s++) {
        colour(cr, s);
        cairo_set_line_width(cr, 1.6);
        for (size_t i = 0; i < n; i++) {
            double px = n > 1 ? left + dx * (double)i : (left + right) / 2;
            double py = bottom - ph * series[s].values[i] / top_v;
            if (i == 0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
        cairo_stroke(cr);
        for (size_t i = 0; i < n; i++) {
            double px = n > 1 ? left + dx * (double)i : (left + right) / 2;
            double py = bottom - ph * series[s].values[i] / top_v;
            cairo_arc(cr, px, py, 2.2, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
    cairo_restore(cr);
}

void sc_chart_bars(cairo_t *cr, double x, double y, double w, double h, const char *title,
                   const char *const *labels, const double *values, size_t n, bool percent)
{
    cairo_save(cr);
    double top = title_at(cr, title, x, y, w);
    if (n == 0) {
        sc_doc_text(cr, _("chart: no data"), x, &top, w, 9, false, SC_DOC_LEFT);
        cairo_restore(cr);
        return;
    }
    double max = percent ? 1.0 : 0;
    if (!percent)
        for (size_t i = 0; i < n; i++)
            if (values[i] > max)
                max = values[i];
    if (max <= 0)
        max = 1;
    double label_w = w * 0.28, fig_w = 48;
    double bx = x + label_w + 4, bw = w - label_w - 4 - fig_w;
    double slot = (y + h - top) / (double)n;
    if (slot > 22)
        slot = 22;
    double bar = slot * 0.7;
    for (size_t i = 0; i < n; i++) {
        double yy = top + slot * (double)i;
        ink(cr);
        double ty = yy + bar / 2 - 6;
        sc_doc_text(cr, labels[i], x, &ty, label_w, slot < 12 ? 7 : 8.5, false, SC_DOC_RIGHT);
        double len = bw * (values[i] > 0 ? values[i] : 0) / max;
        colour(cr, 0);
        cairo_rectangle(cr, bx, yy, len, bar);
        cairo_fill(cr);
        ink(cr);
        char t[32];
        figure(values[i], percent, t, sizeof t);
        ty = yy + bar / 2 - 6;
        sc_doc_text(cr, t, bx + len + 3, &ty, fig_w, slot < 12 ? 7 : 8.5, false, SC_DOC_LEFT);
    }
    cairo_restore(cr);
}

const double SC_CHART_SATISFACTION_COLOURS[6][3] = {
    {0.13, 0.50, 0.24}, {0.22, 0.62, 0.32}, {0.60, 0.80, 0.45},
    {0.85, 0.45, 0.25}, {0.75, 0.15, 0.15}, {0.70, 0.70, 0.70}};

static void part_colour(cairo_t *cr, const double (*colours)[3], size_t i)
{
    if (colours)
        cairo_set_source_rgb(cr, colours[i][0], colours[i][1], colours[i][2]);
    else
        colour(cr, i);
}

void sc_chart_parts(cairo_t *cr, double x, double y, double w, double h, const char *title,
                    const char *const *labels, const double *values, size_t n,
                    const double (*colours)[3])
{
    (void)h;
    cairo_save(cr);
    double top = title_at(cr, title, x, y, w);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += values[i] > 0 ? values[i] : 0;
    double bar_h = 22, px = x;
    if (sum > 0)
        for (size_t i = 0; i < n; i++) {
            double part = w * (values[i] > 0 ? values[i] : 0) / sum;
            part_colour(cr, colours, i);
            cairo_rectangle(cr, px, top, part, bar_h);
            cairo_fill(cr);
            px += part;
        }
    else {
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_rectangle(cr, x, top, w, bar_h);
        cairo_fill(cr);
    }
    /* The legend: two columns of "■ 即办 12 (40.0%)". */
    double ly = top + bar_h + 8, col_w = w / 2;
    for (size_t i = 0; i < n; i++) {
        double lx = x + col_w * (double)(i % 2);
        double yy = ly + 15 * (double)(i / 2);
        part_colour(cr, colours, i);
        cairo_rectangle(cr, lx, yy + 3, 9, 9);
        cairo_fill(cr);
        ink(cr);
        char t[256];
        snprintf(t, sizeof t, "%s  %.0f  (%.1f%%)", labels[i], values[i],
                 sum > 0 ? 100.0 * values[i] / sum : 0.0);
        sc_doc_text(cr, t, lx + 13, &yy, col_w - 14, 8.5, false, SC_DOC_LEFT);
    }
    cairo_restore(cr);
}

void sc_chart_rate_colour(double rate, double rgb[3])
{
    if (rate < 0)
        rate = 0;
    if (rate > 1)
        rate = 1;
    /* red (0.85, 0.25, 0.2) -> amber (0.95, 0.75, 0.2) at 0.5 -> green (0.25, 0.65, 0.3) */
    static const double lo[3] = {0.85, 0.25, 0.20}, mid[3] = {0.95, 0.75, 0.20},
                        hi[3] = {0.25, 0.65, 0.30};
    const double *a = rate < 0.5 ? lo : mid, *b = rate < 0.5 ? mid : hi;
    double t = rate < 0.5 ? rate / 0.5 : (rate - 0.5) / 0.5;
    for (int k = 0; k < 3; k++)
        rgb[k] = a[k] + (b[k] - a[k]) * t;
}

/* The grid's key on one line: swatches of 0, 25, 50, 75 and 100 % and
 * grey for 无件; returns the y below it. */
static double grid_key(cairo_t *cr, double x, double y)
{
    static const double rates[] = {0, 0.25, 0.5, 0.75, 1};
    double kx = x;
    for (size_t i = 0; i <= 5; i++) {
        double rgb[3] = {0.85, 0.85, 0.85};
        char t[32];
        if (i < 5) {
            sc_chart_rate_colour(rates[i], rgb);
            snprintf(t, sizeof t, "%.0f%%", rates[i] * 100);
        } else {
            snprintf(t, sizeof t, "%s", _("chart: none"));
        }
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, kx, y + 2, 10, 8);
        cairo_fill(cr);
        ink(cr);
        double ty = y;
        sc_doc_text(cr, t, kx + 13, &ty, 40, 7.5, false, SC_DOC_LEFT);
        kx += 52;
    }
    return y + 14;
}

void sc_chart_grid(cairo_t *cr, double x, double y, double w, double h, const char *title,
                   const char *const *names, const double *rates, const bool *has, size_t n)
{
    cairo_save(cr);
    double top = title_at(cr, title, x, y, w);
    if (n == 0) {
        sc_doc_text(cr, _("chart: no data"), x, &top, w, 9, false, SC_DOC_LEFT);
        cairo_restore(cr);
        return;
    }
    top = grid_key(cr, x, top) + 2;
    double avail = y + h - top;
    if (avail < 4)
        avail = 4;
    /* Named cells (at least 56 x 24 points) while they fit; a county's
     * hundreds of villages become a map of coloured squares instead. */
    size_t cols = (size_t)(w / 56);
    if (cols == 0)
        cols = 1;
    size_t rows = (n + cols - 1) / cols;
    bool named = avail / (double)rows >= 24;
    if (named) {
        size_t fit = (size_t)ceil(sqrt((double)n * w / avail));
        if (fit < cols)
            cols = fit ? fit : 1;
    } else {
        cols = (size_t)ceil(sqrt((double)n * w / avail));
        if (cols == 0)
            cols = 1;
    }
    rows = (n + cols - 1) / cols;
    double cw = w / (double)cols, ch = avail / (double)rows;
    if (ch > 40)
        ch = 40;
    if (!named && ch > cw)
        ch = cw;
    for (size_t i = 0; i < n; i++) {
        double cx = x + cw * (double)(i % cols), cy = top + ch * (double)(i / cols);
        double rgb[3] = {0.85, 0.85, 0.85};
        if (has[i])
            sc_chart_rate_colour(rates[i], rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        double gap = named ? 1 : (cw > 6 ? 0.5 : 0);
        cairo_rectangle(cr, cx + gap, cy + gap, cw - 2 * gap, ch - 2 * gap);
        cairo_fill(cr);
        if (!named)
            continue;
        ink(cr);
        char t[256];
        if (has[i])
            snprintf(t, sizeof t, "%s\n%.0f%%", names[i], rates[i] * 100.0);
        else
            snprintf(t, sizeof t, "%s\n%s", names[i], _("chart: none"));
        double ty = cy + 3;
        sc_doc_text(cr, t, cx + 2, &ty, cw - 4, ch < 30 ? 6.5 : 7.5, false, SC_DOC_CENTER);
    }
    cairo_restore(cr);
}
