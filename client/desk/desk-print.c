/*
 * desk-print.c - printing the villager's papers from the desktop (see
 * desk-print.h).  What a paper says is paper.c's; how it is laid out,
 * paper_draw.c's: here is only the GTK print operation around them.
 */
#include "desk-print.h"

#include <stdlib.h>

#include "i18n.h"

static void on_draw_page(GtkPrintOperation *op, GtkPrintContext *ctx, int page, gpointer data)
{
    (void)op;
    (void)page;
    sc_paper_draw(data, gtk_print_context_get_cairo_context(ctx),
                  gtk_print_context_get_width(ctx), gtk_print_context_get_height(ctx));
}

int desk_print_paper(GtkWindow *parent, sc_client *c, const uint8_t case_id[16],
                     sc_paper_kind kind, const char *phone, const char *export_dir,
                     sj_error *err)
{
    sc_case_detail d;
    if (sc_get_case(c, case_id, &d, err) != 0)
        return err->code;
    sc_paper_input in;
    sc_paper_input_fill(c, &d, phone ? phone : "", &in);
    sc_paper *paper = g_new0(sc_paper, 1);
    int rc = sc_paper_make(&in, kind, paper, err);
    sc_case_detail_free(&d);
    if (rc != 0) {
        g_free(paper);
        return rc;
    }
    GtkPrintOperation *op = gtk_print_operation_new();
    gtk_print_operation_set_n_pages(op, 1);
    gtk_print_operation_set_unit(op, GTK_UNIT_POINTS);
    gtk_print_operation_set_job_name(op, paper->title);
    GtkPageSetup *setup = gtk_page_setup_new();
    GtkPaperSize *a4 = gtk_paper_size_new(GTK_PAPER_NAME_A4);
    gtk_page_setup_set_paper_size_and_default_margins(setup, a4);
    gtk_print_operation_set_default_page_setup(op, setup);
    g_signal_connect(op, "draw-page", G_CALLBACK(on_draw_page), paper);
    GtkPrintOperationAction action = GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG;
    g_autofree char *export_path = NULL;
    if (export_dir && *export_dir) {
        export_path = g_build_filename(export_dir, kind == SC_PAPER_NOTICE ? "notice.pdf" : "receipt.pdf",
                                       NULL);
        gtk_print_operation_set_export_filename(op, export_path);
        action = GTK_PRINT_OPERATION_ACTION_EXPORT;
    }
    GError *gerr = NULL;
    GtkPrintOperationResult res = gtk_print_operation_run(op, action, parent, &gerr);
    rc = 0;
    if (res == GTK_PRINT_OPERATION_RESULT_ERROR) {
        rc = sj_error_set(err, SJ_EIO, _("The paper could not be printed: %s"),
                          gerr ? gerr->message : "?");
        g_clear_error(&gerr);
    }
    g_object_unref(op);
    g_object_unref(setup);
    gtk_paper_size_free(a4);
    g_free(paper);
    return rc;
}
