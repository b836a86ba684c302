/*
 * desk-board.c - the station's public board (see desk-board.h).
 *
 * Everything it shows is read through the store's search indexes with the
 * same queries as the case lists (desk-views.h), one page at a time, so a
 * station with tens of thousands of cases turns its pages as fast as one
 * with ten.  What may be shown is decided here, line by line: the case
 * number, the item, the masked name, the status and the due date.
 *
 * Entry points: desk_board_new(), desk_board_mark_changed().
 */
#include "desk-board.h"

#include "clock.h"
#include "desk-format.h"
#include "desk-views.h"
#include "desk-widgets.h"
#include "i18n.h"
#include "personal.h"

enum {
    BOARD_ROWS = 12,          /* cases and items per page */
    BOARD_TURN_S = 10,        /* a page turns every ... seconds */
    BOARD_RELOAD_TURNS = 6,   /* and the data is re-read at least every 6 turns */
};

struct _DeskBoard {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *title, *clock, *items, *items_page, *cases, *cases_page, *figures;
    guint timer;
    unsigned item_page, case_page, turns;
    bool changed;
};

G_DEFINE_TYPE(DeskBoard, desk_board, GTK_TYPE_BOX)

static sc_client *client_of(DeskBoard *b)
{
    return desk_window_client(b->win);
}

/* Number of cases matching q (the search's own count). */
static uint32_t count(DeskBoard *b, const Sanji__CaseListQuery *q)
{
    Sanji__CaseListQuery cq = *q;
    cq.limit = 1;
    cq.offset = 0;
    sc_case_page pg;
    if (sc_search_cases(client_of(b), &cq, &pg, NULL) != 0)
        return 0;
    uint32_t n = pg.total;
    sc_case_page_free(&pg);
    return n;
}

/* The first and the last millisecond + 1 of the China month holding now. */
static void this_month(int64_t now, int64_t *from, int64_t *to, int *year, int *month)
{
    int y, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(now), &y, &m, &d);
    *from = sj_clock_china_day_start_ms(sj_clock_days_from_civil(y, m, 1));
    *to = sj_clock_china_day_start_ms(sj_clock_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1));
    *year = y;
    *month = m;
}

static void show_figures(DeskBoard *b, int64_t now)
{
    desk_view_ctx ctx = {.role = SJ_NODE_ROLE_VILLAGE, .person = "", .now_ms = now};
    Sanji__CaseListQuery q;
    int64_t from, to;
    int y, m;
    this_month(now, &from, &to, &y, &m);
    desk_view_query(DESK_VIEW_ALL, &ctx, &q);
    q.registered_from_ms = from;
    q.registered_to_ms = to;
    uint32_t received = count(b, &q);
    desk_view_query(DESK_VIEW_FINISHED, &ctx, &q);
    q.registered_from_ms = from;
    q.registered_to_ms = to;
    uint32_t finished = count(b, &q);
    desk_view_query(DESK_VIEW_ACTIVE, &ctx, &q);
    uint32_t active = count(b, &q);
    desk_view_query(DESK_VIEW_OVERDUE, &ctx, &q);
    uint32_t overdue = count(b, &q);
    g_autofree char *rate = desk_format_percent(finished, received);
    g_autofree char *t = g_strdup_printf(
        _("%d-%02d: received %u · finished %u (%s) · in progress %u · overdue %u"), y, m, received,
        finished, rate, active, overdue);
    gtk_label_set_text(GTK_LABEL(b->figures), t);
}

/* A cell of the board: one line, not selectable (nothing on a wall screen
 * takes the focus); cut short with "…" only where asked. */
static GtkWidget *cell(const char *text, const char *css, bool cut)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_label_set_single_line_mode(GTK_LABEL(l), true);
    if (cut)
        gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
    gtk_widget_add_css_class(l, "board-cell");
    if (css)
        gtk_widget_add_css_class(l, css);
    return l;
}

/* One line of the cases in progress: no applicant's data but the masked
 * name. */
static void add_case_row(DeskBoard *b, int row, const Sanji__Case *c, int64_t now)
{
    char name[SJ_PERSONAL_MASK_SIZE] = "";
    if (c->applicant && c->applicant->name)
        (void)sj_personal_mask_name(c->applicant->name, name, sizeof name);
    const char *number = c->number && *c->number ? c->number : _("(not numbered yet)");
    /* The number without the county's prefix ("20261123-00014"): short,
     * and still unique, since the sequence restarts each day. */
    const char *dash = strchr(number, '-');
    g_autofree char *due_time = c->due_at_ms > 0 ? desk_format_time(c->due_at_ms) : g_strdup("—");
    g_autofree char *due = g_strndup(due_time, 10); /* the date: "2026-12-21" */
    bool overdue = c->overdue || (c->due_at_ms > 0 && c->due_at_ms < now &&
                                  (sj_case_status)c->status != SJ_STATUS_WAITING_MATERIALS);
    const char *cells[] = {dash ? dash + 1 : number, c->item_name ? c->item_name : "", name,
                           desk_format_label(sc_status_label((sj_case_status)c->status)),
                           due};
    for (int i = 0; i < (int)G_N_ELEMENTS(cells); i++) {
        /* Only the item may be cut short: it takes the room left. */
        GtkWidget *l = cell(cells[i], i == 4 && overdue ? "overdue" : NULL, i == 1);
        gtk_widget_set_hexpand(l, i == 1);
        gtk_grid_attach(GTK_GRID(b->cases), l, i, row, 1, 1);
    }
}

static void show_cases(DeskBoard *b, int64_t now)
{
    desk_box_clear(b->cases);
    static const char *const head[] = {N_("No."), N_("Item"), N_("Applicant"), N_("Status"),
                                       N_("To be done by")};
    for (int i = 0; i < (int)G_N_ELEMENTS(head); i++) {
        GtkWidget *l = cell(_(head[i]), "board-head", false);
        gtk_grid_attach(GTK_GRID(b->cases), l, i, 0, 1, 1);
    }
    desk_view_ctx ctx = {.role = SJ_NODE_ROLE_VILLAGE, .person = "", .now_ms = now};
    Sanji__CaseListQuery q;
    desk_view_query(DESK_VIEW_ACTIVE, &ctx, &q);
    q.limit = BOARD_ROWS;
    q.offset = b->case_page * BOARD_ROWS;
    sc_case_page pg;
    if (sc_search_cases(client_of(b), &q, &pg, NULL) != 0)
        return;
    if (pg.n == 0 && b->case_page > 0) { /* past the end: back to the first page */
        sc_case_page_free(&pg);
        b->case_page = 0;
        q.offset = 0;
        if (sc_search_cases(client_of(b), &q, &pg, NULL) != 0)
            return;
    }
    for (size_t i = 0; i < pg.n; i++)
        add_case_row(b, (int)i + 1, pg.cases[i], now);
    unsigned pages = (pg.total + BOARD_ROWS - 1) / BOARD_ROWS;
    g_autofree char *t = pg.total == 0 ? g_strdup(_("No case in progress."))
                                       : g_strdup_printf(_("Page %u of %u · %u in progress"),
                                                         b->case_page + 1, pages, pg.total);
    gtk_label_set_text(GTK_LABEL(b->cases_page), t);
    sc_case_page_free(&pg);
}

/* The station's commitments: every active item and its time limit. */
static void show_items(DeskBoard *b)
{
    desk_box_clear(b->items);
    const Sanji__CatalogueSync *cat = sc_catalogue(client_of(b));
    size_t n_active = 0;
    for (size_t i = 0; cat && i < cat->n_items; i++)
        n_active += cat->items[i]->active;
    unsigned pages = (unsigned)((n_active + BOARD_ROWS - 1) / BOARD_ROWS);
    if (b->item_page >= pages)
        b->item_page = 0;
    size_t k = 0, shown = 0;
    for (size_t i = 0; cat && i < cat->n_items && shown < BOARD_ROWS; i++) {
        const Sanji__CatalogueItem *it = cat->items[i];
        if (!it->active || k++ < (size_t)b->item_page * BOARD_ROWS)
            continue;
        g_autofree char *limit = g_strdup_printf(_("%u working days"), it->limit_days);
        GtkWidget *name = cell(it->name ? it->name : "", NULL, true);
        gtk_label_set_max_width_chars(GTK_LABEL(name), 16); /* the cases get the wider half */
        GtkWidget *days = cell(limit, NULL, false);
        gtk_grid_attach(GTK_GRID(b->items), name, 0, (int)shown, 1, 1);
        gtk_grid_attach(GTK_GRID(b->items), days, 1, (int)shown, 1, 1);
        shown++;
    }
    g_autofree char *t = pages > 1 ? g_strdup_printf(_("Page %u of %u"), b->item_page + 1, pages)
                                   : g_strdup("");
    gtk_label_set_text(GTK_LABEL(b->items_page), t);
}

static void show_all(DeskBoard *b)
{
    int64_t now = sj_clock_real_ms();
    g_autofree char *clock = desk_format_time(now);
    gtk_label_set_text(GTK_LABEL(b->clock), clock);
    const sj_identity *me = sc_client_node(client_of(b));
    const char *village = sc_unit_name(client_of(b), me->unit);
    g_autofree char *title = g_strdup_printf(_("%s service station · public board"),
                                             village ? village : me->unit);
    gtk_label_set_text(GTK_LABEL(b->title), title);
    show_items(b);
    show_cases(b, now);
    show_figures(b, now);
    b->changed = false;
    b->turns = 0;
}

static gboolean on_turn(gpointer data)
{
    DeskBoard *b = data;
    b->item_page++;
    b->case_page++;
    if (++b->turns >= BOARD_RELOAD_TURNS || b->changed) {
        show_all(b);
    } else {
        int64_t now = sj_clock_real_ms();
        g_autofree char *clock = desk_format_time(now);
        gtk_label_set_text(GTK_LABEL(b->clock), clock);
        show_items(b);
        show_cases(b, now);
    }
    return G_SOURCE_CONTINUE;
}

void desk_board_mark_changed(DeskBoard *b)
{
    b->changed = true;
}

static void desk_board_dispose(GObject *o)
{
    DeskBoard *b = DESK_BOARD(o);
    if (b->timer) {
        g_source_remove(b->timer);
        b->timer = 0;
    }
    G_OBJECT_CLASS(desk_board_parent_class)->dispose(o);
}

static void desk_board_class_init(DeskBoardClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = desk_board_dispose;
}

static void desk_board_init(DeskBoard *b)
{
    (void)b;
}

static GtkWidget *column(const char *heading, GtkWidget *grid, GtkWidget *footer)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    GtkWidget *h = gtk_label_new(heading);
    gtk_widget_add_css_class(h, "title-2");
    gtk_label_set_xalign(GTK_LABEL(h), 0);
    gtk_box_append(GTK_BOX(box), h);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 24);
    gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
    gtk_widget_set_vexpand(grid, true);
    gtk_box_append(GTK_BOX(box), grid);
    gtk_widget_add_css_class(footer, "dim-label");
    gtk_label_set_xalign(GTK_LABEL(footer), 0);
    gtk_box_append(GTK_BOX(box), footer);
    return box;
}

DeskBoard *desk_board_new(DeskWindow *w)
{
    DeskBoard *b = g_object_new(DESK_TYPE_BOARD, "orientation", GTK_ORIENTATION_VERTICAL,
                                "spacing", 18, NULL);
    b->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(b), "page");
    gtk_widget_add_css_class(GTK_WIDGET(b), "board");

    GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    b->title = gtk_label_new("");
    gtk_widget_add_css_class(b->title, "title-1");
    gtk_widget_set_hexpand(b->title, true);
    gtk_label_set_xalign(GTK_LABEL(b->title), 0);
    b->clock = gtk_label_new("");
    gtk_widget_add_css_class(b->clock, "title-2");
    gtk_box_append(GTK_BOX(top), b->title);
    gtk_box_append(GTK_BOX(top), b->clock);
    gtk_box_append(GTK_BOX(b), top);

    GtkWidget *body = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 48);
    gtk_widget_set_vexpand(body, true);
    b->items = gtk_grid_new();
    b->items_page = gtk_label_new("");
    b->cases = gtk_grid_new();
    b->cases_page = gtk_label_new("");
    GtkWidget *left = column(_("Our commitments: items and time limits"), b->items, b->items_page);
    GtkWidget *right = column(_("Cases in progress"), b->cases, b->cases_page);
    gtk_widget_set_hexpand(right, true);
    gtk_box_append(GTK_BOX(body), left);
    gtk_box_append(GTK_BOX(body), right);
    gtk_box_append(GTK_BOX(b), body);

    b->figures = gtk_label_new("");
    gtk_widget_add_css_class(b->figures, "title-2");
    gtk_label_set_xalign(GTK_LABEL(b->figures), 0);
    gtk_box_append(GTK_BOX(b), b->figures);

    desk_window_register(w, "board.title", b->title);
    desk_window_register(w, "board.items", b->items);
    desk_window_register(w, "board.cases", b->cases);
    desk_window_register(w, "board.figures", b->figures);
    show_all(b);
    b->timer = g_timeout_add_seconds(BOARD_TURN_S, on_turn, b);
    return b;
}
