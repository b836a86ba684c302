/*
 * doc.c - paged documents with Pango on cairo (see doc.h): one place for
 * the font, wrapped text, the PDF file's life (temporary file, rename) and
 * the tables and page numbers of the 通报 and the 台账.
 */
#include "doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include "clock.h"
#include "i18n.h"

#define FONT_FAMILY "Noto Sans CJK SC, Sans"
#define TABLE_SIZE 9.5
#define CELL_PAD 3.0

static PangoLayout *layout(cairo_t *cr, const char *text, double width, double size, bool bold,
                           sc_doc_align align)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_from_string(FONT_FAMILY);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    if (bold)
        pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, align == SC_DOC_CENTER  ? PANGO_ALIGN_CENTER
                                  : align == SC_DOC_RIGHT ? PANGO_ALIGN_RIGHT
                                                          : PANGO_ALIGN_LEFT);
    pango_layout_set_text(l, text ? text : "", -1);
    return l;
}

void sc_doc_text(cairo_t *cr, const char *text, double x, double *y, double width, double size,
                 bool bold, sc_doc_align align)
{
    PangoLayout *l = layout(cr, text, width, size, bold, align);
    cairo_move_to(cr, x, *y);
    pango_cairo_show_layout(cr, l);
    int w, h;
    pango_layout_get_size(l, &w, &h);
    *y += (double)h / PANGO_SCALE;
    g_object_unref(l);
}

double sc_doc_text_height(cairo_t *cr, const char *text, double width, double size, bool bold)
{
    PangoLayout *l = layout(cr, text, width, size, bold, SC_DOC_LEFT);
    int w, h;
    pango_layout_get_size(l, &w, &h);
    g_object_unref(l);
    return (double)h / PANGO_SCALE;
}

static void white_page(sc_doc *d)
{
    cairo_save(d->cr);
    cairo_set_source_rgb(d->cr, 1, 1, 1);
    cairo_paint(d->cr);
    cairo_restore(d->cr);
    cairo_set_source_rgb(d->cr, 0, 0, 0);
    d->y = d->margin;
}

/* A numbered document's next page: a recording surface of the page's size,
 * kept in d->pages.  When d->pages cannot grow, the page is drawn on a
 * surface that is not kept, and sc_doc_close() reports the failure (a
 * document with a page missing is never renamed into place). */
static void start_recorded_page(sc_doc *d)
{
    cairo_rectangle_t extents = {0, 0, d->width, d->height};
    cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
    if (d->n_pages == d->cap_pages) {
        size_t cap = d->cap_pages ? 2 * d->cap_pages : 8;
        cairo_surface_t **grown = realloc(d->pages, cap * sizeof *grown);
        if (!grown) {
            d->out_of_memory = true;
            d->cr = cairo_create(rec);
            cairo_surface_destroy(rec); /* the context keeps it while it draws */
            white_page(d);
            return;
        }
        d->pages = grown;
        d->cap_pages = cap;
    }
    d->pages[d->n_pages++] = rec;
    d->cr = cairo_create(rec);
    white_page(d);
}

int sc_doc_open_pdf(sc_doc *d, const char *path, double width, double height, const char *title,
                    bool numbered, sj_error *err)
{
    memset(d, 0, sizeof *d);
    if (snprintf(d->path, sizeof d->path, "%s", path) >= (int)sizeof d->path)
        return sj_error_set(err, SJ_EINVAL, _("The file name is too long: %s"), path);
    snprintf(d->tmp, sizeof d->tmp, "%s.tmp", path);
    d->surface = cairo_pdf_surface_create(d->tmp, width, height);
    if (cairo_surface_status(d->surface) != CAIRO_STATUS_SUCCESS) {
        int rc = sj_error_set(err, SJ_EIO, _("Cannot write %s: %s; choose another file with --output."), d->tmp,
                              cairo_status_to_string(cairo_surface_status(d->surface)));
        cairo_surface_destroy(d->surface);
        d->surface = NULL;
        return rc;
    }
    cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_CREATOR, "Sanji");
    d->width = width;
    d->height = height;
    d->margin = SC_DOC_MARGIN;
    d->page = 1;
    d->numbered = numbered;
    if (numbered) {
        start_recorded_page(d);
    } else {
        d->cr = cairo_create(d->surface);
        white_page(d);
    }
    return 0;
}

static double bottom(const sc_doc *d)
{
    return d->height - d->margin - (d->numbered ? 10 : 0);
}

/* The foot of page n of m, drawn on cr. */
static void foot(const sc_doc *d, cairo_t *cr, int n, int m)
{
    char text[512];
    char num[64];
    snprintf(num, sizeof num, _("Page %d of %d"), n, m);
    if (d->footer[0])
        snprintf(text, sizeof text, "%s    %s", d->footer, num);
    else
        snprintf(text, sizeof text, "%s", num);
    double y = d->height - d->margin + 8;
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    sc_doc_text(cr, text, d->margin, &y, d->width - 2 * d->margin, 8.5, false, SC_DOC_CENTER);
    cairo_set_source_rgb(cr, 0, 0, 0);
}

void sc_doc_new_page(sc_doc *d)
{
    d->page++;
    if (d->numbered) {
        cairo_destroy(d->cr); /* the page stays in d->pages */
        start_recorded_page(d);
        return;
    }
    cairo_show_page(d->cr);
    white_page(d);
}

void sc_doc_need(sc_doc *d, double h)
{
    if (d->y + h > bottom(d))
        sc_doc_new_page(d);
}

void sc_doc_title(sc_doc *d, const char *above, const char *title, const char *below)
{
    double x = d->margin, w = d->width - 2 * d->margin;
    if (above && *above) {
        sc_doc_text(d->cr, above, x, &d->y, w, 12, false, SC_DOC_CENTER);
        d->y += 4;
    }
    sc_doc_text(d->cr, title, x, &d->y, w, 20, true, SC_DOC_CENTER);
    if (below && *below) {
        d->y += 4;
        sc_doc_text(d->cr, below, x, &d->y, w, 11, false, SC_DOC_CENTER);
    }
    d->y += 10;
    cairo_set_line_width(d->cr, 0.8);
    cairo_move_to(d->cr, x, d->y);
    cairo_line_to(d->cr, x + w, d->y);
    cairo_stroke(d->cr);
    d->y += 12;
}

void sc_doc_heading(sc_doc *d, const char *text, double keep)
{
    sc_doc_need(d, 24 + keep);
    d->y += 6;
    sc_doc_text(d->cr, text, d->margin, &d->y, d->width - 2 * d->margin, 13, true, SC_DOC_LEFT);
    d->y += 6;
}

/* A figure (a count, a rate, a date, a number): right-aligned in a table,
 * so that the digits line up; words are left-aligned. */
static bool figure_like(const char *s)
{
    if (!s || !(*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* One row of cells at d->y; returns its height.  draw false: measure only. */
static double table_row(sc_doc *d, const char *const *cells, const double *xs, const double *ws,
                        size_t n_cols, bool bold, bool shade, bool draw)
{
    double h = 0;
    for (size_t c = 0; c < n_cols; c++) {
        double ch = sc_doc_text_height(d->cr, cells[c], ws[c] - 2 * CELL_PAD, TABLE_SIZE, bold);
        if (ch > h)
            h = ch;
    }
    h += 2 * CELL_PAD;
    if (!draw)
        return h;
    double x0 = xs[0], x1 = xs[n_cols - 1] + ws[n_cols - 1];
    if (shade) {
        cairo_set_source_rgb(d->cr, 0.91, 0.93, 0.96);
        cairo_rectangle(d->cr, x0, d->y, x1 - x0, h);
        cairo_fill(d->cr);
        cairo_set_source_rgb(d->cr, 0, 0, 0);
    }
    for (size_t c = 0; c < n_cols; c++) {
        double y = d->y + CELL_PAD;
        sc_doc_align a = shade ? (c ? SC_DOC_CENTER : SC_DOC_LEFT)
                         : c && figure_like(cells[c]) ? SC_DOC_RIGHT
                                                      : SC_DOC_LEFT;
        sc_doc_text(d->cr, cells[c], xs[c] + CELL_PAD, &y, ws[c] - 2 * CELL_PAD, TABLE_SIZE, bold,
                    a);
    }
    cairo_set_line_width(d->cr, 0.4);
    cairo_set_source_rgb(d->cr, 0.6, 0.6, 0.6);
    cairo_move_to(d->cr, x0, d->y + h);
    cairo_line_to(d->cr, x1, d->y + h);
    cairo_stroke(d->cr);
    cairo_set_source_rgb(d->cr, 0, 0, 0);
    d->y += h;
    return h;
}

void sc_doc_table(sc_doc *d, const char *const *heads, const double *widths, size_t n_cols,
                  const char *const *cells, size_t n_rows, size_t bold_rows)
{
    if (n_cols == 0 || n_cols > 32)
        return;
    double xs[32], ws[32], sum = 0, w = d->width - 2 * d->margin;
    for (size_t c = 0; c < n_cols; c++)
        sum += widths[c] > 0 ? widths[c] : 1;
    double x = d->margin;
    for (size_t c = 0; c < n_cols; c++) {
        xs[c] = x;
        ws[c] = w * (widths[c] > 0 ? widths[c] : 1) / sum;
        x += ws[c];
    }
    double head_h = table_row(d, heads, xs, ws, n_cols, true, true, false);
    sc_doc_need(d, head_h + 20);
    table_row(d, heads, xs, ws, n_cols, true, true, true);
    for (size_t r = 0; r < n_rows; r++) {
        const char *const *row = cells + r * n_cols;
        bool bold = r + bold_rows >= n_rows;
        double h = table_row(d, row, xs, ws, n_cols, bold, false, false);
        if (d->y + h > bottom(d)) {
            sc_doc_new_page(d);
            table_row(d, heads, xs, ws, n_cols, true, true, true);
        }
        table_row(d, row, xs, ws, n_cols, bold, false, true);
    }
    d->y += 8;
}

/* Puts a numbered document's recorded pages into the file, each with its
 * foot, and frees them.  Returns the first error of any page. */
static cairo_status_t put_pages(sc_doc *d)
{
    cairo_status_t st = d->out_of_memory ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
    cairo_t *out = cairo_create(d->surface);
    int m = (int)d->n_pages;
    for (size_t i = 0; i < d->n_pages; i++) {
        if (st == CAIRO_STATUS_SUCCESS)
            st = cairo_surface_status(d->pages[i]);
        if (st == CAIRO_STATUS_SUCCESS) {
            cairo_set_source_surface(out, d->pages[i], 0, 0);
            cairo_paint(out);
            foot(d, out, (int)i + 1, m);
            cairo_show_page(out);
        }
        cairo_surface_destroy(d->pages[i]);
    }
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_status(out);
    cairo_destroy(out);
    free(d->pages);
    d->pages = NULL;
    d->n_pages = d->cap_pages = 0;
    return st;
}

int sc_doc_close(sc_doc *d, sj_error *err)
{
    if (!d->numbered)
        cairo_show_page(d->cr);
    cairo_status_t st = cairo_status(d->cr);
    cairo_destroy(d->cr);
    d->cr = NULL;
    if (d->numbered) {
        cairo_status_t put = put_pages(d);
        if (st == CAIRO_STATUS_SUCCESS)
            st = put;
    }
    cairo_surface_finish(d->surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(d->surface);
    cairo_surface_destroy(d->surface);
    d->surface = NULL;
    if (st != CAIRO_STATUS_SUCCESS) {
        remove(d->tmp);
        return sj_error_set(err, SJ_EIO, _("Cannot write %s: %s; choose another file with --output."), d->tmp,
                            cairo_status_to_string(st));
    }
    if (rename(d->tmp, d->path) != 0) {
        int e = errno;
        remove(d->tmp);
        return sj_error_set(err, SJ_EIO, _("Cannot write %s: %s; choose another file with --output."), d->path, strerror(e));
    }
    return 0;
}

void sc_doc_abort(sc_doc *d)
{
    if (d->cr)
        cairo_destroy(d->cr);
    for (size_t i = 0; i < d->n_pages; i++)
        cairo_surface_destroy(d->pages[i]);
    free(d->pages);
    d->pages = NULL;
    d->n_pages = d->cap_pages = 0;
    if (d->surface) {
        cairo_surface_finish(d->surface);
        cairo_surface_destroy(d->surface);
    }
    d->cr = NULL;
    d->surface = NULL;
    remove(d->tmp);
}

void sc_doc_time(int64_t ms, char *buf, size_t cap)
{
    char iso[64];
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (sj_clock_format_china(ms, iso, sizeof iso) != 0 || strlen(iso) < 16)
        return;
    iso[10] = ' ';
    snprintf(buf, cap, "%.16s", iso);
}
