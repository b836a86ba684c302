/*
 * ledger_draw.c - the 台账 as a PDF (see ledger.h): A4 across, the title
 * and month, then one table row per request, running over numbered pages
 * with the heading repeated (doc.c).
 */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "doc.h"
#include "i18n.h"

int sc_ledger_write_pdf(const sc_ledger *l, const char *path, sj_error *err)
{
    char title[512], below[256], at[40];
    sc_ledger_title(l, title, sizeof title);
    sc_doc_time(l->made_at_ms, at, sizeof at);
    snprintf(below, sizeof below, _("ledger: %zu cases, made %s"), l->n, at);
    sc_doc d;
    /* Across (landscape): ten columns. */
    int rc = sc_doc_open_pdf(&d, path, SC_DOC_A4_HEIGHT, SC_DOC_A4_WIDTH, title, true, err);
    if (rc != 0)
        return rc;
    d.margin = 36;
    d.y = d.margin;
    snprintf(d.footer, sizeof d.footer, "%.200s", title);
    sc_doc_title(&d, "", title, below);
    const char *heads[SC_LEDGER_COLS];
    sc_ledger_headings(heads);
    static const double widths[SC_LEDGER_COLS] = {0.5, 2.2, 1.1, 0.8, 2.6, 0.8, 1.0, 2.6, 1.1, 0.8};
    const char **cells = calloc(l->n ? l->n * SC_LEDGER_COLS : 1, sizeof *cells);
    char(*seq)[24] = calloc(l->n ? l->n : 1, sizeof *seq);
    if (!cells || !seq) {
        free(cells);
        free(seq);
        sc_doc_abort(&d);
        return sj_error_set(err, SJ_ENOMEM, "%s", _("out of memory"));
    }
    for (size_t i = 0; i < l->n; i++)
        sc_ledger_cells(l, i, seq[i], cells + i * SC_LEDGER_COLS);
    if (l->n)
        sc_doc_table(&d, heads, widths, SC_LEDGER_COLS, cells, l->n, 0);
    else
        sc_doc_text(d.cr, _("ledger: no requests this month"), d.margin, &d.y,
                    d.width - 2 * d.margin, 11, false, SC_DOC_LEFT);
    free(cells);
    free(seq);
    return sc_doc_close(&d, err);
}
