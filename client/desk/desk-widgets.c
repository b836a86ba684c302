/*
 * desk-widgets.c - small widget helpers (see desk-widgets.h).
 *
 * Entry points: desk_list_box_clear(), desk_box_clear(),
 * desk_text_view_get(), desk_text_view_set(), desk_label_line(),
 * desk_label_cell(), desk_nz().
 */
#include "desk-widgets.h"

void desk_list_box_clear(GtkWidget *list)
{
    GtkListBoxRow *row;
    while ((row = gtk_list_box_get_row_at_index(GTK_LIST_BOX(list), 0)))
        gtk_list_box_remove(GTK_LIST_BOX(list), GTK_WIDGET(row));
}

void desk_box_clear(GtkWidget *box)
{
    GtkWidget *c;
    while ((c = gtk_widget_get_first_child(box)))
        gtk_widget_unparent(c);
}

char *desk_text_view_get(GtkWidget *view)
{
    GtkTextBuffer *b = gtk_text_view_get_buffer(GTK_TEXT_VIEW(view));
    GtkTextIter s, e;
    gtk_text_buffer_get_bounds(b, &s, &e);
    return gtk_text_buffer_get_text(b, &s, &e, FALSE);
}

void desk_text_view_set(GtkWidget *view, const char *text)
{
    gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(view)), text ? text : "", -1);
}

static GtkWidget *label(const char *text, const char *css)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    if (css)
        gtk_widget_add_css_class(l, css);
    return l;
}

GtkWidget *desk_label_line(const char *text, const char *css)
{
    GtkWidget *l = label(text, css);
    gtk_label_set_wrap(GTK_LABEL(l), true);
    gtk_label_set_selectable(GTK_LABEL(l), true);
    return l;
}

GtkWidget *desk_label_cell(const char *text, const char *css)
{
    GtkWidget *l = label(text, css);
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
    return l;
}

const char *desk_nz(const char *s)
{
    return s ? s : "";
}
