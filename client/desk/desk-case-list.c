/*
 * desk-case-list.c - a list of cases (see desk-case-list.h).
 *
 * Entry points: desk_case_list_new(), desk_case_list_set(),
 * desk_case_list_set_title(), desk_case_list_count(),
 * desk_case_snapshot_load(), desk_case_snapshot_free().
 */
#include "desk-case-list.h"

#include <string.h>

#include "clock.h"
#include "desk-format.h"
#include "desk-widgets.h"
#include "i18n.h"

struct _DeskCaseList {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *title, *list;
    char *title_text;
    size_t n;
};

G_DEFINE_TYPE(DeskCaseList, desk_case_list, GTK_TYPE_BOX)

static void on_row_activated(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
    DeskCaseList *l = data;
    const uint8_t *id = g_object_get_data(G_OBJECT(row), "case-id");
    if (id)
        desk_window_open_case(l->win, id);
}

static const char *delivery_css(desk_delivery d)
{
    switch (d) {
    case DESK_DELIVERY_SAVED: return "badge-saved";
    case DESK_DELIVERY_STORED: return "badge-stored";
    case DESK_DELIVERY_APPLIED: return "badge-applied";
    case DESK_DELIVERY_REFUSED: return "badge-refused";
    default: return NULL;
    }
}

static GtkWidget *make_row(const Sanji__Case *c, const sc_outbox_entry *rows, size_t n_rows,
                           int64_t now)
{
    GtkWidget *grid = gtk_grid_new();
    gtk_grid_set_column_spacing(GTK_GRID(grid), 16);
    gtk_widget_add_css_class(grid, "case-row");
    g_autofree char *title = desk_format_case_title(c);
    GtkWidget *t = desk_label_cell(title, "case-title");
    gtk_widget_set_hexpand(t, true);
    gtk_grid_attach(GTK_GRID(grid), t, 0, 0, 2, 1);
    const char *status = desk_format_label(sc_status_label((sj_case_status)c->status));
    gtk_grid_attach(GTK_GRID(grid), desk_label_cell(status, "case-status"), 2, 0, 1, 1);
    desk_delivery d = desk_format_delivery(c, rows, n_rows);
    GtkWidget *dl = desk_label_cell(desk_format_delivery_label(d), delivery_css(d));
    gtk_grid_attach(GTK_GRID(grid), dl, 3, 0, 1, 1);

    const char *who = c->applicant && c->applicant->name ? c->applicant->name : "";
    g_autofree char *reg = desk_format_time(c->registered_at_ms);
    /* Translators: case row; applicant name and registration time. */
    g_autofree char *sub = g_strdup_printf(_("Applicant %s · registered %s"), who, reg);
    gtk_grid_attach(GTK_GRID(grid), desk_label_cell(sub, "dim-label"), 0, 1, 2, 1);
    unsigned b = desk_format_buckets(c, "", now);
    g_autofree char *due = desk_format_time(c->due_at_ms);
    g_autofree char *due_text = NULL;
    if (b & DESK_BUCKET_OVERDUE)
        /* Translators: %s is the due time that has passed. */
        due_text = g_strdup_printf(_("Overdue (due %s)"), due);
    else
        due_text = g_strdup_printf(_("Due %s"), due);
    gtk_grid_attach(GTK_GRID(grid),
                    desk_label_cell(due_text, (b & DESK_BUCKET_OVERDUE)    ? "overdue"
                                   : (b & DESK_BUCKET_DUE_SOON) ? "due-soon"
                                                                : "dim-label"),
                    2, 1, 2, 1);
    GtkWidget *row = gtk_list_box_row_new();
    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), grid);
    if (c->case_id.len == 16)
        g_object_set_data_full(G_OBJECT(row), "case-id", g_memdup2(c->case_id.data, 16), g_free);
    gtk_accessible_update_property(GTK_ACCESSIBLE(row), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
    return row;
}

static void update_title(DeskCaseList *l)
{
    g_autofree char *t = g_strdup_printf("%s（%zu）", l->title_text, l->n);
    gtk_label_set_text(GTK_LABEL(l->title), t);
}

void desk_case_list_set_title(DeskCaseList *l, const char *title)
{
    g_free(l->title_text);
    l->title_text = g_strdup(title);
    update_title(l);
}

void desk_case_list_set(DeskCaseList *l, Sanji__Case *const *cases, size_t n,
                        const sc_outbox_entry *rows, size_t n_rows)
{
    desk_list_box_clear(l->list);
    int64_t now = sj_clock_real_ms();
    for (size_t i = 0; i < n; i++)
        gtk_list_box_append(GTK_LIST_BOX(l->list), make_row(cases[i], rows, n_rows, now));
    l->n = n;
    update_title(l);
}

size_t desk_case_list_count(DeskCaseList *l)
{
    return l->n;
}

static void desk_case_list_finalize(GObject *obj)
{
    g_free(DESK_CASE_LIST(obj)->title_text);
    G_OBJECT_CLASS(desk_case_list_parent_class)->finalize(obj);
}

static void desk_case_list_class_init(DeskCaseListClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = desk_case_list_finalize;
}

static void desk_case_list_init(DeskCaseList *l)
{
}

DeskCaseList *desk_case_list_new(DeskWindow *w, const char *name, const char *title)
{
    DeskCaseList *l = g_object_new(DESK_TYPE_CASE_LIST, "orientation", GTK_ORIENTATION_VERTICAL,
                                   "spacing", 6, NULL);
    l->win = w;
    l->title = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(l->title), 0);
    gtk_widget_add_css_class(l->title, "title-3");
    l->list = gtk_list_box_new();
    gtk_widget_add_css_class(l->list, "boxed-list");
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(l->list), GTK_SELECTION_NONE);
    gtk_list_box_set_activate_on_single_click(GTK_LIST_BOX(l->list), true);
    GtkWidget *empty = gtk_label_new(_("No cases here."));
    gtk_widget_add_css_class(empty, "dim-label");
    gtk_widget_set_margin_top(empty, 12);
    gtk_widget_set_margin_bottom(empty, 12);
    gtk_list_box_set_placeholder(GTK_LIST_BOX(l->list), empty);
    g_signal_connect(l->list, "row-activated", G_CALLBACK(on_row_activated), l);
    gtk_box_append(GTK_BOX(l), l->title);
    gtk_box_append(GTK_BOX(l), l->list);
    desk_case_list_set_title(l, title);
    g_autofree char *tn = g_strdup_printf("%s.title", name);
    desk_window_register(w, name, l->list);
    desk_window_register(w, tn, l->title);
    return l;
}

bool desk_case_snapshot_load(DeskWindow *w, desk_case_snapshot *s)
{
    sc_client *c = desk_window_client(w);
    sj_error err;
    memset(s, 0, sizeof(*s));
    if (sc_list_cases(c, NULL, &s->cases, &err) != 0) {
        desk_window_show_error(w, _("The local case list cannot be read"), &err);
        return false;
    }
    /* Without the outbox the rows only lack their delivery badge. */
    if (sc_outbox(c, &s->rows, &s->n_rows, &err) != 0) {
        s->rows = NULL;
        s->n_rows = 0;
    }
    return true;
}

void desk_case_snapshot_free(desk_case_snapshot *s)
{
    sc_store_outbox_free(s->rows, s->n_rows);
    sc_case_list_free(&s->cases);
    memset(s, 0, sizeof(*s));
}
