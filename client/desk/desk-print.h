/*
 * desk-print.h - the villager's papers (client/paper.h) printed from the
 * desktop: the 受理回执 and the 一次性告知单 of the case shown, through
 * GTK's print dialog (which also offers "print to file" as PDF).
 *
 * With export_dir (the desktop passes SANJI_DESK_PRINT_EXPORT=DIR under a
 * test script, desk-test.h) no dialog opens: the page is exported to
 * DIR/receipt.pdf or DIR/notice.pdf, so that a test reads what a printer
 * would get.
 *
 * Entry point: desk_print_paper().
 */
#ifndef DESK_PRINT_H
#define DESK_PRINT_H

#include <gtk/gtk.h>

#include "paper.h"
#include "sanji_client.h"

/* Prints paper kind of case case_id with the station's phone ("" : none).
 * Returns 0 once the print dialog (or the export to export_dir, when not
 * NULL) has run, or an error with err: no such case here, a notice for a
 * case waiting for no materials, a failed print. */
int desk_print_paper(GtkWindow *parent, sc_client *c, const uint8_t case_id[16],
                     sc_paper_kind kind, const char *phone, const char *export_dir,
                     sj_error *err);

#endif
