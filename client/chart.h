/*
 * chart.h - the statistics' pictures drawn on any cairo_t: the trend by
 * month (lines), figures by unit (horizontal bars), a mix of parts (one
 * stacked bar with its legend: the handling types, the satisfaction
 * split), and a map-like grid of villages coloured by 办结率.  The desktop
 * draws them in a GtkDrawingArea and the 通报 on its PDF pages, so a
 * picture looks the same on screen and on paper.
 *
 * Each draws inside the rectangle (x, y, w, h) it is given, title on top,
 * with Pango text in the documents' font (doc.h); nothing is kept.
 *
 * Entry points: sc_chart_lines(), sc_chart_bars(), sc_chart_parts(),
 * sc_chart_grid(), sc_chart_rate_colour().
 */
#ifndef SC_CHART_H
#define SC_CHART_H

#include <stdbool.h>
#include <stddef.h>

#include <cairo.h>

typedef struct sc_chart_series {
    const char *name;
    const double *values; /* one per label */
} sc_chart_series;

/* Lines over n labels (months), one per series, with a legend. */
void sc_chart_lines(cairo_t *cr, double x, double y, double w, double h, const char *title,
                    const char *const *labels, size_t n, const sc_chart_series *series,
                    size_t n_series);

/* One horizontal bar per label; percent: values are rates 0..1 shown as
 * percentages on a 0..100 % axis. */
void sc_chart_bars(cairo_t *cr, double x, double y, double w, double h, const char *title,
                   const char *const *labels, const double *values, size_t n, bool percent);

/* The parts of a whole as one stacked bar, and a legend with each part's
 * count and share; colours: one rgb per part, or NULL for the palette. */
void sc_chart_parts(cairo_t *cr, double x, double y, double w, double h, const char *title,
                    const char *const *labels, const double *values, size_t n,
                    const double (*colours)[3]);

/* The satisfaction split's colours on the 好差评 scale: 非常满意 dark
 * green, 满意 green, 基本满意 light green, 不满意 orange, 非常不满意 red,
 * 未评价 grey (sc_bulletin_satisfaction()'s order). */
extern const double SC_CHART_SATISFACTION_COLOURS[6][3];

/* A grid of cells, one per village in the order given (by code, so that a
 * township's villages sit together), coloured by the rate from red (0)
 * through amber to green (1), a village with nothing to finish (has[i]
 * false) grey, under a key of the colours.  Each cell names its village
 * and rate while cells of 56 x 24 points fit; past that (a county's
 * hundreds of villages) the grid is a map of coloured squares. */
void sc_chart_grid(cairo_t *cr, double x, double y, double w, double h, const char *title,
                   const char *const *names, const double *rates, const bool *has, size_t n);

/* The grid's colour of rate (0..1) into rgb[3]. */
void sc_chart_rate_colour(double rate, double rgb[3]);

#endif
