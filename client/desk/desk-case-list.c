/*
 * desk-case-list.c - a searchable list of cases over a paged model (see
 * desk-case-list.h).
 *
 * Every cell is a label made once per visible row (setup) and filled when
 * the row shows a case (bind); the same cell_text() gives the test hook a
 * row's text, so what a test reads is what a person sees.
 *
 * Entry points: desk_case_list_new(), desk_case_list_set_view(),
 * desk_case_list_set_title(), desk_case_list_refresh(),
 * desk_case_list_reload_refdata(), desk_case_list_enable_bulk(),
 * desk_case_list_count().
 */
#include "desk-case-list.h"

#include <string.h>

#include "clock.h"
#include "desk-case-model.h"
#include "desk-format.h"
#include "desk-search-bar.h"
#include "desk-test.h"
#include "desk-widgets.h"
#include "i18n.h"

typedef enum {
    COL_NUMBER,
    COL_ITEM,
    COL_APPLICANT,
    COL_VILLAGE,
    COL_STATUS,
    COL_DELIVERY,
    COL_REGISTERED,
    COL_DUE,
    COL_N
} column;

/* A bulk action takes at most the first page of the list: what a person
 * sees and has narrowed the search to, never a whole county by mistake. */
#define BULK_MAX DESK_CASE_MODEL_PAGE

struct _DeskCaseList {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *title, *status, *view, *bulk, *bulk_message;
    char *name;
    DeskSearchBar *search;
    DeskCaseModel *model;
    char *title_text;
    Sanji__CaseListQuery *view_query; /* the page's view, copied */
    sc_outbox_entry *rows;            /* the outbox, for the delivery column */
    size_t n_rows;
};

G_DEFINE_TYPE(DeskCaseList, desk_case_list, GTK_TYPE_BOX)

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

/* The day of a time, "2026-11-23" (a row has no room for the hour). */
static char *day_of(int64_t ms)
{
    char *t = desk_format_time(ms);
    if (strlen(t) > 10)
        t[10] = '\0';
    return t;
}

/* The text of one cell (g_free) and its style class (static, may be NULL). */
static char *cell_text(DeskCaseList *l, const Sanji__Case *c, column col, const char **css)
{
    *css = NULL;
    if (!c)
        return g_strdup(col == COL_NUMBER ? _("Loading…") : "");
    switch (col) {
    case COL_NUMBER:
        *css = "case-title";
        /* Translators: shown instead of the case number until the county assigns one. */
        return g_strdup(c->number && *c->number ? c->number : _("(number pending)"));
    case COL_ITEM: return g_strdup(desk_nz(c->item_name));
    case COL_APPLICANT:
        return g_strdup(c->applicant ? desk_nz(c->applicant->name) : "");
    case COL_VILLAGE: {
        const char *name = sc_unit_name(desk_window_client(l->win), c->village);
        return g_strdup(name ? name : desk_nz(c->village));
    }
    case COL_STATUS: {
        /* The status, and beside it what presses on the case (督办, 催办),
         * marked in the colour of urgency. */
        char marks[192];
        const char *status = desk_format_label(sc_status_label((sj_case_status)c->status));
        sc_case_marks(c, marks, sizeof(marks));
        if (!marks[0]) {
            *css = "case-status";
            return g_strdup(status);
        }
        *css = c->supervised || c->overdue ? "overdue" : "due-soon";
        return g_strdup_printf("%s · %s", status, marks);
    }
    case COL_DELIVERY: {
        desk_delivery d = desk_format_delivery(c, l->rows, l->n_rows);
        *css = delivery_css(d);
        return g_strdup(desk_format_delivery_label(d));
    }
    case COL_REGISTERED: return day_of(c->registered_at_ms);
    case COL_DUE: {
        unsigned b = desk_format_buckets(c, "", sj_clock_real_ms());
        g_autofree char *day = day_of(c->due_at_ms);
        /* 暂定: in a year whose holidays the county has not loaded. */
        g_autofree char *due = g_strdup_printf("%s%s", day, c->due_provisional ? _(" (provisional)") : "");
        if (b & DESK_BUCKET_OVERDUE) {
            *css = "overdue";
            /* Translators: a list's due column; %s is the day that has passed. */
            return g_strdup_printf(_("%s (overdue)"), due);
        }
        *css = b & DESK_BUCKET_DUE_SOON ? "due-soon" : "dim-label";
        return g_strdup(due);
    }
    default: return g_strdup("");
    }
}

static void on_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *label = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_widget_add_css_class(label, "case-cell");
    gtk_list_item_set_child(item, label);
}

static void on_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    DeskCaseList *l = data;
    column col = (column)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(f), "column"));
    GtkWidget *label = gtk_list_item_get_child(item);
    DeskCaseRow *row = gtk_list_item_get_item(item);
    const char *css = NULL;
    g_autofree char *text = cell_text(l, row ? desk_case_row_case(row) : NULL, col, &css);
    gtk_label_set_text(GTK_LABEL(label), text);
    const char *const classes[] = {"case-title", "case-status", "badge-saved", "badge-stored",
                                   "badge-applied", "badge-refused", "overdue", "due-soon",
                                   "dim-label"};
    for (size_t i = 0; i < G_N_ELEMENTS(classes); i++)
        gtk_widget_remove_css_class(label, classes[i]);
    if (css)
        gtk_widget_add_css_class(label, css);
}

/* The test hook's view of row i (desk-test.h): every cell, as shown. */
static char *row_text(GtkWidget *view, guint i)
{
    DeskCaseList *l = g_object_get_data(G_OBJECT(view), "desk-case-list");
    DeskCaseRow *row = g_list_model_get_item(G_LIST_MODEL(l->model), i);
    if (!row)
        return NULL;
    const Sanji__Case *c = desk_case_row_case(row);
    GString *s = NULL;
    for (int col = 0; c && col < COL_N; col++) {
        const char *css;
        g_autofree char *t = cell_text(l, c, (column)col, &css);
        if (!s)
            s = g_string_new(t);
        else
            g_string_append_printf(s, " | %s", t);
    }
    g_object_unref(row);
    return s ? g_string_free(s, FALSE) : NULL;
}

static void on_activate(GtkColumnView *view, guint position, gpointer data)
{
    DeskCaseList *l = data;
    DeskCaseRow *row = g_list_model_get_item(G_LIST_MODEL(l->model), position);
    if (!row)
        return;
    const Sanji__Case *c = desk_case_row_case(row);
    if (c && c->case_id.len == 16)
        desk_window_open_case_row(l->win, c);
    g_object_unref(row);
}

static void update_title(DeskCaseList *l)
{
    guint total = desk_case_model_total(l->model);
    g_autofree char *t = desk_case_model_capped(l->model)
                             ? g_strdup_printf("%s（%u+）", l->title_text, total)
                             : g_strdup_printf("%s（%u）", l->title_text, total);
    gtk_label_set_text(GTK_LABEL(l->title), t);
    const char *error = desk_case_model_error(l->model);
    sc_client *c = desk_window_client(l->win);
    const char *status = "";
    if (*error)
        status = error;
    else if (sc_searches_at_peer(c) && !desk_case_model_remote(l->model))
        status = _("The county cannot be reached: only the cases kept at this desk are listed.");
    else if (desk_case_model_capped(l->model))
        status = _("More cases match than are listed: narrow the search.");
    gtk_label_set_text(GTK_LABEL(l->status), status);
    gtk_widget_set_visible(l->status, *status != '\0');
}

static void on_loaded(DeskCaseModel *m, gpointer data)
{
    update_title(data);
}

static void apply(DeskCaseList *l)
{
    Sanji__CaseListQuery q;
    if (l->view_query)
        q = *l->view_query;
    else
        sanji__case_list_query__init(&q);
    desk_search_bar_apply(l->search, &q);
    desk_case_model_set_query(l->model, &q);
    update_title(l);
}

static void on_search(DeskSearchBar *b, gpointer data)
{
    apply(data);
}

void desk_case_list_set_title(DeskCaseList *l, const char *title)
{
    g_free(l->title_text);
    l->title_text = g_strdup(title);
    update_title(l);
}

void desk_case_list_set_view(DeskCaseList *l, const Sanji__CaseListQuery *q)
{
    if (l->view_query)
        sanji__case_list_query__free_unpacked(l->view_query, NULL);
    l->view_query = desk_pb_copy(&q->base);
    apply(l);
}

static void load_outbox(DeskCaseList *l)
{
    sc_store_outbox_free(l->rows, l->n_rows);
    l->rows = NULL;
    l->n_rows = 0;
    sj_error err;
    /* Without the outbox the rows only lack their delivery state. */
    if (sc_outbox(desk_window_client(l->win), &l->rows, &l->n_rows, &err) != 0) {
        l->rows = NULL;
        l->n_rows = 0;
    }
}

void desk_case_list_refresh(DeskCaseList *l)
{
    load_outbox(l);
    desk_case_model_refresh(l->model);
}

void desk_case_list_reload_refdata(DeskCaseList *l)
{
    desk_search_bar_reload(l->search);
}

/* 督办 or 催办 every listed case (of the first BULK_MAX rows) the state
 * machine allows now; the others are counted and left alone. */
static void bulk(DeskCaseList *l, sj_case_action type)
{
    sc_client *c = desk_window_client(l->win);
    guint n = MIN(g_list_model_get_n_items(G_LIST_MODEL(l->model)), (guint)BULK_MAX);
    unsigned done = 0, left = 0;
    for (guint i = 0; i < n; i++) {
        DeskCaseRow *row = g_list_model_get_item(G_LIST_MODEL(l->model), i);
        const Sanji__Case *cs = row ? desk_case_row_case(row) : NULL;
        sj_error err;
        sc_action_req req = {.case_id = cs ? cs->case_id.data : NULL, .type = type};
        bool ok = cs && cs->case_id.len == 16 &&
                  (!sc_searches_at_peer(c) || sc_keep_case(c, cs, &err) == 0) &&
                  sc_act(c, &req, NULL, &err) == 0;
        if (ok)
            done++;
        else
            left++;
        if (row)
            g_object_unref(row);
    }
    g_autofree char *t =
        type == SJ_ACTION_SUPERVISE
            /* Translators: bulk 督办; counts of cases supervised and left alone. */
            ? g_strdup_printf(_("Supervision saved for %u cases; %u were left alone (already "
                                "supervised, finished, or not yet listed)."),
                              done, left)
            /* Translators: bulk 催办; counts of cases urged and left alone. */
            : g_strdup_printf(_("Urging saved for %u cases; %u were left alone (finished, held "
                                "here, or not yet listed)."),
                              done, left);
    gtk_label_set_text(GTK_LABEL(l->bulk_message), t);
    desk_case_list_refresh(l);
}

static void on_supervise(GtkButton *b, gpointer data)
{
    bulk(data, SJ_ACTION_SUPERVISE);
}

static void on_urge(GtkButton *b, gpointer data)
{
    bulk(data, SJ_ACTION_URGE);
}

void desk_case_list_enable_bulk(DeskCaseList *l)
{
    if (l->bulk)
        return;
    l->bulk = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *sup = gtk_button_new_with_label(_("Supervise the listed cases (first 100)"));
    GtkWidget *urge = gtk_button_new_with_label(_("Urge the listed cases (first 100)"));
    g_signal_connect(sup, "clicked", G_CALLBACK(on_supervise), l);
    g_signal_connect(urge, "clicked", G_CALLBACK(on_urge), l);
    l->bulk_message = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(l->bulk_message), 0);
    gtk_label_set_wrap(GTK_LABEL(l->bulk_message), true);
    gtk_widget_set_hexpand(l->bulk_message, true);
    gtk_box_append(GTK_BOX(l->bulk), sup);
    gtk_box_append(GTK_BOX(l->bulk), urge);
    gtk_box_append(GTK_BOX(l->bulk), l->bulk_message);
    /* Under the search bar, above the rows it acts on. */
    gtk_box_insert_child_after(GTK_BOX(l), l->bulk, l->status);
    g_autofree char *sn = g_strdup_printf("%s.bulk.supervise", l->name);
    g_autofree char *un = g_strdup_printf("%s.bulk.urge", l->name);
    g_autofree char *mn = g_strdup_printf("%s.bulk.message", l->name);
    desk_window_register(l->win, sn, sup);
    desk_window_register(l->win, un, urge);
    desk_window_register(l->win, mn, l->bulk_message);
}

size_t desk_case_list_count(DeskCaseList *l)
{
    return g_list_model_get_n_items(G_LIST_MODEL(l->model));
}

static void desk_case_list_dispose(GObject *obj)
{
    DeskCaseList *l = DESK_CASE_LIST(obj);
    if (l->model)
        g_signal_handlers_disconnect_by_data(l->model, l);
    g_clear_object(&l->model);
    G_OBJECT_CLASS(desk_case_list_parent_class)->dispose(obj);
}

static void desk_case_list_finalize(GObject *obj)
{
    DeskCaseList *l = DESK_CASE_LIST(obj);
    g_free(l->title_text);
    g_free(l->name);
    if (l->view_query)
        sanji__case_list_query__free_unpacked(l->view_query, NULL);
    sc_store_outbox_free(l->rows, l->n_rows);
    G_OBJECT_CLASS(desk_case_list_parent_class)->finalize(obj);
}

static void desk_case_list_class_init(DeskCaseListClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = desk_case_list_dispose;
    G_OBJECT_CLASS(klass)->finalize = desk_case_list_finalize;
}

static void desk_case_list_init(DeskCaseList *l)
{
}

static void add_column(DeskCaseList *l, column col, const char *title, bool expand, int width)
{
    GtkListItemFactory *f = gtk_signal_list_item_factory_new();
    g_object_set_data(G_OBJECT(f), "column", GINT_TO_POINTER(col));
    g_signal_connect(f, "setup", G_CALLBACK(on_setup), l);
    g_signal_connect(f, "bind", G_CALLBACK(on_bind), l);
    GtkColumnViewColumn *c = gtk_column_view_column_new(title, f);
    gtk_column_view_column_set_expand(c, expand);
    gtk_column_view_column_set_resizable(c, true);
    if (width > 0)
        gtk_column_view_column_set_fixed_width(c, width);
    gtk_column_view_append_column(GTK_COLUMN_VIEW(l->view), c);
    g_object_unref(c);
}

DeskCaseList *desk_case_list_new(DeskWindow *w, const char *name, const char *title)
{
    DeskCaseList *l = g_object_new(DESK_TYPE_CASE_LIST, "orientation", GTK_ORIENTATION_VERTICAL,
                                   "spacing", 6, NULL);
    l->win = w;
    l->name = g_strdup(name);
    l->title = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(l->title), 0);
    gtk_widget_add_css_class(l->title, "title-3");
    l->search = desk_search_bar_new(w, name);
    g_signal_connect(l->search, "changed", G_CALLBACK(on_search), l);
    l->status = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(l->status), 0);
    gtk_label_set_wrap(GTK_LABEL(l->status), true);
    gtk_widget_add_css_class(l->status, "due-soon");
    gtk_widget_set_visible(l->status, false);

    l->model = desk_case_model_new(desk_window_client(w));
    g_signal_connect(l->model, "loaded", G_CALLBACK(on_loaded), l);
    GtkSelectionModel *sel = GTK_SELECTION_MODEL(gtk_no_selection_new(g_object_ref(G_LIST_MODEL(l->model))));
    l->view = gtk_column_view_new(sel);
    gtk_column_view_set_single_click_activate(GTK_COLUMN_VIEW(l->view), true);
    gtk_column_view_set_show_row_separators(GTK_COLUMN_VIEW(l->view), true);
    gtk_widget_add_css_class(l->view, "case-table");
    add_column(l, COL_NUMBER, _("Case number"), false, 215);
    add_column(l, COL_ITEM, _("Item"), true, -1);
    add_column(l, COL_APPLICANT, _("Applicant"), false, 75);
    add_column(l, COL_VILLAGE, _("Village"), false, 85);
    add_column(l, COL_STATUS, _("Status"), false, 230);
    add_column(l, COL_DELIVERY, _("Delivery"), false, 95);
    add_column(l, COL_REGISTERED, _("Registered"), false, 105);
    add_column(l, COL_DUE, _("Due"), false, 150);
    g_signal_connect(l->view, "activate", G_CALLBACK(on_activate), l);
    g_object_set_data(G_OBJECT(l->view), "desk-case-list", l);
    g_object_set_data(G_OBJECT(l->view), DESK_TEST_ROW_TEXT, (gpointer)row_text);

    GtkWidget *scroll = gtk_scrolled_window_new();
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_AUTOMATIC,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), l->view);
    gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroll), 240);
    gtk_widget_set_vexpand(scroll, true);

    gtk_box_append(GTK_BOX(l), l->title);
    gtk_box_append(GTK_BOX(l), GTK_WIDGET(l->search));
    gtk_box_append(GTK_BOX(l), l->status);
    gtk_box_append(GTK_BOX(l), scroll);
    desk_case_list_set_title(l, title);
    load_outbox(l);
    g_autofree char *tn = g_strdup_printf("%s.title", name);
    desk_window_register(w, name, l->view);
    desk_window_register(w, tn, l->title);
    return l;
}
