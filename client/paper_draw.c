/*
 * paper_draw.c - the villager's papers laid out with Pango on cairo (see
 * paper.h): one A4 page, the issuer and the title centred, then label:
 * value rows, the numbered list, what happens next, and the footer.
 *
 * The text of a paper is decided by paper.c; this file only places it, so
 * the desktop's print page and the CLI's PDF are the same drawing.  Text,
 * font and the PDF file are doc.c's, shared with the 通报 and the 台账.
 */
#include "paper.h"

#include <stdio.h>

#include <cairo.h>

#include "doc.h"

void sc_paper_draw(const sc_paper *p, cairo_t *cr, double width, double height)
{
    double x = SC_DOC_MARGIN, w = width - 2 * SC_DOC_MARGIN, y = SC_DOC_MARGIN;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    sc_doc_text(cr, p->issuer, x, &y, w, 13, false, SC_DOC_CENTER);
    y += 6;
    sc_doc_text(cr, p->title, x, &y, w, 22, true, SC_DOC_CENTER);
    y += 18;
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + w, y);
    cairo_stroke(cr);
    y += 14;
    /* Rows: the label in a column of its own, the value wrapped beside it. */
    const double label_w = 110;
    for (size_t i = 0; i < p->n_rows; i++) {
        double ly = y, vy = y;
        char label[80];
        snprintf(label, sizeof label, "%s：", p->rows[i].label);
        sc_doc_text(cr, label, x, &ly, label_w, 12, true, SC_DOC_LEFT);
        sc_doc_text(cr, p->rows[i].value, x + label_w, &vy, w - label_w, 12, false, SC_DOC_LEFT);
        y = (ly > vy ? ly : vy) + 8;
    }
    if (p->intro[0]) {
        y += 8;
        sc_doc_text(cr, p->intro, x, &y, w, 12, false, SC_DOC_LEFT);
        y += 6;
    }
    for (size_t i = 0; i < p->n_list; i++) {
        char item[SC_PAPER_TEXT + 16];
        snprintf(item, sizeof item, "%zu. %s", i + 1, p->list[i]);
        sc_doc_text(cr, item, x + 24, &y, w - 24, 13, true, SC_DOC_LEFT);
        y += 4;
    }
    if (p->closing[0]) {
        y += 14;
        sc_doc_text(cr, p->closing, x, &y, w, 12, false, SC_DOC_LEFT);
    }
    if (p->footer[0]) {
        double fy = height - SC_DOC_MARGIN - 14;
        if (fy < y + 20)
            fy = y + 20;
        sc_doc_text(cr, p->footer, x, &fy, w, 10, false, SC_DOC_RIGHT);
    }
    cairo_restore(cr);
}

int sc_paper_write_pdf(const sc_paper *p, const char *path, sj_error *err)
{
    sc_doc d;
    int rc = sc_doc_open_pdf(&d, path, SC_DOC_A4_WIDTH, SC_DOC_A4_HEIGHT, p->title, false, err);
    if (rc != 0)
        return rc;
    sc_paper_draw(p, d.cr, SC_DOC_A4_WIDTH, SC_DOC_A4_HEIGHT);
    return sc_doc_close(&d, err);
}
