/*
 * desk-attachments.h - the photos and scans of one case, in the case view
 * (docs/DESKTOP.md "Attachments", PROTOCOL.md "Attachments"): a tile per
 * attachment with a thumbnail (the picture itself for JPEG and PNG held
 * here, an icon for PDF and for what is still at the county), its name,
 * the material it answers and how far it is (uploading, recorded by the
 * county, at the county); a button to attach a file (GtkFileChooserNative:
 * GTK 4.8 has no GtkFileDialog); a click on a tile opens the viewer,
 * fetching the file from the county first when it is not held here.
 *
 * desk_attachments_choose() is that button's file chooser, shared with the
 * registration form (desk-register-form.h), which attaches files to the
 * case it saves.
 *
 * Entry points: desk_attachments_new(), desk_attachments_show(),
 * desk_attachments_choose().  The widget is owned by its parent.
 */
#ifndef DESK_ATTACHMENTS_H
#define DESK_ATTACHMENTS_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_ATTACHMENTS (desk_attachments_get_type())
G_DECLARE_FINAL_TYPE(DeskAttachments, desk_attachments, DESK, ATTACHMENTS, GtkBox)

DeskAttachments *desk_attachments_new(DeskWindow *w);
/* Shows the attachments of case_id this desk knows; may_attach shows the
 * button that attaches a file (a case of this node's scope). */
void desk_attachments_show(DeskAttachments *a, const uint8_t case_id[16], bool may_attach);

/* One file chosen: its path and contents, or NULL contents and err when it
 * could not be read (err's message is the cadre's). */
typedef void (*desk_attachments_chosen_fn)(gpointer data, const char *path, GBytes *contents,
                                           const sj_error *err);
/* Lets the cadre choose photos and scans (JPEG, PNG, PDF; several at once)
 * and calls chosen for each, read whole.  Under a test script, a path
 * named by its choose-file step is taken instead of showing the dialog. */
void desk_attachments_choose(DeskWindow *w, desk_attachments_chosen_fn chosen, gpointer data);

G_END_DECLS

#endif
