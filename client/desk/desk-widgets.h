/*
 * desk-widgets.h - small helpers on GTK widgets that every page of
 * sanji-desk needs: emptying a list box or a box, reading and writing a
 * text view, and the label kinds the pages are built from.
 *
 * Strings returned by desk_text_view_get() are the caller's (g_free);
 * widgets returned are floating, owned by the container they are put in.
 *
 * Entry points: desk_list_box_clear(), desk_box_clear(),
 * desk_text_view_get(), desk_text_view_set(), desk_label_line(),
 * desk_label_cell(), desk_nz().
 */
#ifndef DESK_WIDGETS_H
#define DESK_WIDGETS_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Removes every row (gtk_list_box_remove_all() is GTK 4.12; Debian 12
 * has 4.8). */
void desk_list_box_clear(GtkWidget *list);
/* Unparents every child of a box or any container-like widget. */
void desk_box_clear(GtkWidget *box);

char *desk_text_view_get(GtkWidget *view);
void desk_text_view_set(GtkWidget *view, const char *text);

/* A left-aligned, wrapping, selectable label (a line of facts). */
GtkWidget *desk_label_line(const char *text, const char *css);
/* A left-aligned, ellipsized label (a cell of a row). */
GtkWidget *desk_label_cell(const char *text, const char *css);

/* "" for NULL: protobuf-c leaves unset strings NULL in some paths. */
const char *desk_nz(const char *s);

G_END_DECLS

#endif
