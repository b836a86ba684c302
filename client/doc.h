/*
 * doc.h - paged documents laid out with Pango on cairo: what the villager's
 * papers, the 通报 and the 台账 share (paper_draw.c, bulletin_draw.c,
 * ledger_draw.c): the font, wrapped text, a PDF written to a temporary
 * file and renamed into place, a title block, tables that run over pages
 * with their heading repeated, and page numbers.
 *
 * Fonts: "Noto Sans CJK SC" (Debian's fonts-noto-cjk), falling back to
 * whatever fontconfig gives for "Sans" with Chinese glyphs.
 *
 * Entry points: sc_doc_text(), sc_doc_open_pdf(), sc_doc_need(),
 * sc_doc_new_page(), sc_doc_title(), sc_doc_heading(), sc_doc_table(),
 * sc_doc_close(), sc_doc_abort(), sc_doc_time().
 */
#ifndef SC_DOC_H
#define SC_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cairo.h>

#include "err.h"

#define SC_DOC_A4_WIDTH 595.0
#define SC_DOC_A4_HEIGHT 842.0
#define SC_DOC_MARGIN 56.0 /* points: about 2 cm */

typedef enum sc_doc_align { SC_DOC_LEFT = 0, SC_DOC_CENTER = 1, SC_DOC_RIGHT = 2 } sc_doc_align;

/* Draws text at (x, *y) within width, wrapped, in the documents' font at
 * size points; moves *y below it. */
void sc_doc_text(cairo_t *cr, const char *text, double x, double *y, double width, double size,
                 bool bold, sc_doc_align align);

/* The height text would take (sc_doc_text() without drawing). */
double sc_doc_text_height(cairo_t *cr, const char *text, double width, double size, bool bold);

/* A PDF being written: pages of width x height points, y the next line. */
typedef struct sc_doc {
    cairo_surface_t *surface; /* the PDF file */
    cairo_t *cr;              /* draws the page being drawn */
    double width, height, margin, y;
    int page;              /* the page being drawn, from 1 */
    bool numbered;         /* "第 n 页 共 m 页" at the foot of every page */
    char footer[256];      /* beside the page number ("" : none) */
    /* A numbered document's pages, each drawn on a recording surface and
     * put into the file by sc_doc_close(), when the count is known. */
    cairo_surface_t **pages;
    size_t n_pages, cap_pages;
    bool out_of_memory;
    char path[4096], tmp[4104];
} sc_doc;

/* Starts a PDF at path (written to path.tmp until sc_doc_close()), its
 * metadata title set, the first page white.  Returns 0 or SJ_EIO/SJ_EINVAL
 * with err saying why and what to do. */
int sc_doc_open_pdf(sc_doc *d, const char *path, double width, double height, const char *title,
                    bool numbered, sj_error *err);

/* Starts a new page when less than h points are left on this one. */
void sc_doc_need(sc_doc *d, double h);

/* Ends the page and starts the next (a numbered document's page numbers
 * are drawn by sc_doc_close(), which knows how many pages there are). */
void sc_doc_new_page(sc_doc *d);

/* The title block: a line above (issuer, "" for none), the title, a line
 * below (the period), a rule. */
void sc_doc_title(sc_doc *d, const char *above, const char *title, const char *below);

/* A section heading, kept on the page with at least keep points after it. */
void sc_doc_heading(sc_doc *d, const char *text, double keep);

/* A table of n_rows rows of n_cols cells (cells row-major), the columns
 * widths in proportion to widths[], the first column left-aligned and the
 * others right-aligned; the last bold_rows rows bold (a total).  Rows run
 * over pages, each page repeating the heading. */
void sc_doc_table(sc_doc *d, const char *const *heads, const double *widths, size_t n_cols,
                  const char *const *cells, size_t n_rows, size_t bold_rows);

/* Ends the last page, puts a numbered document's pages into the file with
 * "page n of m" at their feet, finishes the file and renames it into place.
 * Returns 0 or SJ_EIO (nothing left at path.tmp). */
int sc_doc_close(sc_doc *d, sj_error *err);

/* A time as documents print it: "2026-12-01 09:30", China time. */
void sc_doc_time(int64_t ms, char *buf, size_t cap);

/* Gives up: the temporary file removed. */
void sc_doc_abort(sc_doc *d);

#endif
