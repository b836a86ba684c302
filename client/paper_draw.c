/*
 * paper_draw.c - the villager's papers laid out with Pango on cairo (see
 * paper.h): one A4 page, the issuer and the title centred, then label:
 * value rows, the numbered list, what happens next, and the footer.
 *
 * The text of a paper is decided by paper.c; this file only places it, so
 * the desktop's print page and the CLI's PDF are the same drawing.  Fonts:
 * "Noto Sans CJK SC" (Debian's fonts-noto-cjk), falling back to whatever
 * fontconfig gives for "Sans" with Chinese glyphs.
 */
#include "paper.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "i18n.h"

#define FONT_FAMILY "Noto Sans CJK SC, Sans"
#define MARGIN 56.0      /* points: about 2 cm */
#define A4_WIDTH 595.0
#define A4_HEIGHT 842.0

/* Draws text at (x, *y) within width, wrapped; moves *y below it. */
static void put(cairo_t *cr, const char *text, double x, double *y, double width, double size,
                bool bold, PangoAlignment align)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_from_string(FONT_FAMILY);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    if (bold)
        pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
    pango_layout_set_font_description(l, fd);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, align);
    pango_layout_set_text(l, text, -1);
    cairo_move_to(cr, x, *y);
    pango_cairo_show_layout(cr, l);
    int w, h;
    pango_layout_get_size(l, &w, &h);
    *y += (double)h / PANGO_SCALE;
    pango_font_description_free(fd);
    g_object_unref(l);
}

void sc_paper_draw(const sc_paper *p, cairo_t *cr, double width, double height)
{
    double x = MARGIN, w = width - 2 * MARGIN, y = MARGIN;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    put(cr, p->issuer, x, &y, w, 13, false, PANGO_ALIGN_CENTER);
    y += 6;
    put(cr, p->title, x, &y, w, 22, true, PANGO_ALIGN_CENTER);
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
        put(cr, label, x, &ly, label_w, 12, true, PANGO_ALIGN_LEFT);
        put(cr, p->rows[i].value, x + label_w, &vy, w - label_w, 12, false, PANGO_ALIGN_LEFT);
        y = (ly > vy ? ly : vy) + 8;
    }
    if (p->intro[0]) {
        y += 8;
        put(cr, p->intro, x, &y, w, 12, false, PANGO_ALIGN_LEFT);
        y += 6;
    }
    for (size_t i = 0; i < p->n_list; i++) {
        char item[SC_PAPER_TEXT + 16];
        snprintf(item, sizeof item, "%zu. %s", i + 1, p->list[i]);
        put(cr, item, x + 24, &y, w - 24, 13, true, PANGO_ALIGN_LEFT);
        y += 4;
    }
    if (p->closing[0]) {
        y += 14;
        put(cr, p->closing, x, &y, w, 12, false, PANGO_ALIGN_LEFT);
    }
    if (p->footer[0]) {
        double fy = height - MARGIN - 14;
        if (fy < y + 20)
            fy = y + 20;
        put(cr, p->footer, x, &fy, w, 10, false, PANGO_ALIGN_RIGHT);
    }
    cairo_restore(cr);
}

int sc_paper_write_pdf(const sc_paper *p, const char *path, sj_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return sj_error_set(err, SJ_EINVAL, _("The file name is too long: %s"), path);
    cairo_surface_t *s = cairo_pdf_surface_create(tmp, A4_WIDTH, A4_HEIGHT);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        int rc = sj_error_set(err, SJ_EIO, _("Cannot write the paper to %s: %s; choose another file with --output."),
                              tmp, cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return rc;
    }
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, p->title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "Sanji");
    cairo_t *cr = cairo_create(s);
    sc_paper_draw(p, cr, A4_WIDTH, A4_HEIGHT);
    cairo_show_page(cr);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        remove(tmp);
        return sj_error_set(err, SJ_EIO, _("Cannot write the paper to %s: %s; choose another file with --output."),
                            tmp, cairo_status_to_string(st));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return sj_error_set(err, SJ_EIO, _("Cannot write the paper to %s: %s; choose another file with --output."),
                            path, strerror(e));
    }
    return 0;
}
