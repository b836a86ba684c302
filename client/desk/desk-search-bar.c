/*
 * desk-search-bar.c - the search of a case list (see desk-search-bar.h).
 *
 * Entry points: desk_search_bar_new(), desk_search_bar_apply(),
 * desk_search_bar_reload(), desk_search_guess_key().
 */
#include "desk-search-bar.h"

#include <stdio.h>
#include <string.h>

#include "desk-format.h"
#include "desk-widgets.h"
#include "i18n.h"
#include "orgunit.h"
#include "personal.h"

struct _DeskSearchBar {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *key, *text, *more, *category, *item, *status, *level, *unit, *department, *person,
        *assignee,
        *from, *to, *overdue, *supervised, *sort, *ascending, *message;
    /* Codes behind the pickers' rows (row 0 is "any": no code). */
    GPtrArray *category_codes, *item_codes, *unit_codes;
    /* What the last apply() pointed the query at. */
    char *number, *name, *id, *phone, *department_text, *person_text, *assignee_text;
    Sanji__CaseStatus status_value;
};

G_DEFINE_TYPE(DeskSearchBar, desk_search_bar, GTK_TYPE_BOX)

enum { SIG_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

desk_search_key desk_search_guess_key(const char *text)
{
    if (!text || !*text)
        return DESK_KEY_GUESS;
    if (strlen(text) == SJ_PERSONAL_ID_LEN && sj_personal_check_id(text, NULL, NULL) == 0)
        return DESK_KEY_ID;
    if (sj_personal_check_phone(text, NULL) == 0)
        return DESK_KEY_PHONE;
    for (const char *p = text; *p; p++)
        if ((*p < '0' || *p > '9') && *p != '-')
            return DESK_KEY_NAME;
    return DESK_KEY_NUMBER;
}

/* "2026-11-23" -> 00:00 of that day in China time (ms); 0 when empty or
 * not a date (the message line says so). */
static int64_t parse_day(const char *text, bool *bad)
{
    int y, m, d;
    char extra;
    if (!text || !*text)
        return 0;
    if (sscanf(text, "%d-%d-%d%c", &y, &m, &d, &extra) != 3 || y < 2000 || y > 2100 || m < 1 ||
        m > 12 || d < 1 || d > 31) {
        *bad = true;
        return 0;
    }
    g_autoptr(GTimeZone) china = g_time_zone_new_offset(8 * 3600);
    g_autoptr(GDateTime) t = g_date_time_new(china, y, m, d, 0, 0, 0);
    if (!t) {
        *bad = true;
        return 0;
    }
    return g_date_time_to_unix(t) * 1000;
}

static const char *entry_text(GtkWidget *e)
{
    return gtk_editable_get_text(GTK_EDITABLE(e));
}

static char *stripped(GtkWidget *e)
{
    return g_strstrip(g_strdup(entry_text(e)));
}

static const char *code_at(GPtrArray *codes, GtkWidget *drop)
{
    guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(drop));
    return i != GTK_INVALID_LIST_POSITION && i > 0 && i < codes->len ? codes->pdata[i] : NULL;
}

void desk_search_bar_apply(DeskSearchBar *b, Sanji__CaseListQuery *q)
{
    g_clear_pointer(&b->number, g_free);
    g_clear_pointer(&b->name, g_free);
    g_clear_pointer(&b->id, g_free);
    g_clear_pointer(&b->phone, g_free);
    g_clear_pointer(&b->department_text, g_free);
    g_clear_pointer(&b->person_text, g_free);
    g_clear_pointer(&b->assignee_text, g_free);
    char *text = stripped(b->text);
    desk_search_key key = (desk_search_key)gtk_drop_down_get_selected(GTK_DROP_DOWN(b->key));
    if (key == DESK_KEY_GUESS)
        key = desk_search_guess_key(text);
    switch (key) {
    case DESK_KEY_NUMBER: b->number = text; q->number = text; break;
    case DESK_KEY_NAME: b->name = text; q->applicant_name = text; break;
    case DESK_KEY_ID: b->id = text; q->id_number = text; break;
    case DESK_KEY_PHONE: b->phone = text; q->phone = text; break;
    default: g_free(text); break;
    }
    const char *cat = code_at(b->category_codes, b->category);
    const char *item = code_at(b->item_codes, b->item);
    const char *unit = code_at(b->unit_codes, b->unit);
    if (cat)
        q->category = (char *)cat;
    if (item)
        q->item_code = (char *)item;
    if (unit)
        q->unit = (char *)unit;
    guint st = gtk_drop_down_get_selected(GTK_DROP_DOWN(b->status));
    if (st > 0 && st <= SJ_STATUS_WITHDRAWN) {
        /* One status picked replaces the view's: the view's other
         * conditions still hold. */
        b->status_value = (Sanji__CaseStatus)st;
        q->statuses = &b->status_value;
        q->n_statuses = 1;
    }
    guint lv = gtk_drop_down_get_selected(GTK_DROP_DOWN(b->level));
    if (lv > 0 && lv <= SJ_LEVEL_COUNTY)
        q->holder_level = (Sanji__Level)lv;
    b->department_text = stripped(b->department);
    if (*b->department_text)
        q->department = b->department_text;
    b->person_text = stripped(b->person);
    if (*b->person_text)
        q->person = b->person_text;
    /* 指派: the person the case is assigned to (the county console's key). */
    b->assignee_text = stripped(b->assignee);
    if (*b->assignee_text)
        q->assignee = b->assignee_text;
    bool bad = false;
    int64_t from = parse_day(entry_text(b->from), &bad);
    int64_t to = parse_day(entry_text(b->to), &bad);
    if (from)
        q->registered_from_ms = from;
    if (to)
        q->registered_to_ms = to + 24 * 3600 * 1000LL; /* the whole last day */
    gtk_label_set_text(GTK_LABEL(b->message),
                       bad ? _("Write dates as 2026-11-23; the wrong one is left out.") : "");
    if (gtk_check_button_get_active(GTK_CHECK_BUTTON(b->overdue)))
        q->overdue_only = true;
    if (gtk_check_button_get_active(GTK_CHECK_BUTTON(b->supervised)))
        q->supervised_only = true;
    guint sort = gtk_drop_down_get_selected(GTK_DROP_DOWN(b->sort));
    if (sort > 0 && sort <= SANJI__CASE_SORT__CASE_SORT_STATUS + 1) {
        /* Row 0 keeps the view's own order. */
        q->sort = (Sanji__CaseSort)(sort - 1);
        q->ascending = gtk_check_button_get_active(GTK_CHECK_BUTTON(b->ascending));
    } else if (gtk_check_button_get_active(GTK_CHECK_BUTTON(b->ascending))) {
        q->ascending = !q->ascending;
    }
}

static void changed(DeskSearchBar *b)
{
    g_signal_emit(b, signals[SIG_CHANGED], 0);
}

static void on_go(GtkWidget *w, gpointer data)
{
    changed(data);
}

static void on_pick(GObject *o, GParamSpec *ps, gpointer data)
{
    changed(data);
}

static void fill_items(DeskSearchBar *b);

static void on_category(GObject *o, GParamSpec *ps, gpointer data)
{
    fill_items(data);
}

static void on_clear(GtkButton *button, gpointer data)
{
    DeskSearchBar *b = data;
    GtkWidget *entries[] = {b->text, b->department, b->person, b->assignee, b->from, b->to};
    for (size_t i = 0; i < G_N_ELEMENTS(entries); i++)
        gtk_editable_set_text(GTK_EDITABLE(entries[i]), "");
    GtkWidget *drops[] = {b->key, b->category, b->item, b->status, b->level, b->unit, b->sort};
    for (size_t i = 0; i < G_N_ELEMENTS(drops); i++) {
        g_signal_handlers_block_matched(drops[i], G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, b);
        gtk_drop_down_set_selected(GTK_DROP_DOWN(drops[i]), 0);
        g_signal_handlers_unblock_matched(drops[i], G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, b);
    }
    fill_items(b);
    GtkWidget *checks[] = {b->overdue, b->supervised, b->ascending};
    for (size_t i = 0; i < G_N_ELEMENTS(checks); i++) {
        g_signal_handlers_block_matched(checks[i], G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, b);
        gtk_check_button_set_active(GTK_CHECK_BUTTON(checks[i]), false);
        g_signal_handlers_unblock_matched(checks[i], G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, b);
    }
    changed(b);
}

/* A drop-down of labels; codes (may be NULL) hold what each row means. */
static void set_rows(GtkWidget *drop, GPtrArray *codes, const char *any, GPtrArray *labels,
                     GPtrArray *row_codes)
{
    GtkStringList *l = gtk_string_list_new(NULL);
    gtk_string_list_append(l, any);
    if (codes) {
        g_ptr_array_set_size(codes, 0);
        g_ptr_array_add(codes, g_strdup(""));
    }
    for (guint i = 0; labels && i < labels->len; i++) {
        gtk_string_list_append(l, labels->pdata[i]);
        if (codes)
            g_ptr_array_add(codes, g_strdup(row_codes->pdata[i]));
    }
    gtk_drop_down_set_model(GTK_DROP_DOWN(drop), G_LIST_MODEL(l));
    g_object_unref(l);
}

static void fill_items(DeskSearchBar *b)
{
    const Sanji__CatalogueSync *cat = sc_catalogue(desk_window_client(b->win));
    const char *category = code_at(b->category_codes, b->category);
    g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) codes = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; cat && i < cat->n_items; i++) {
        const Sanji__CatalogueItem *it = cat->items[i];
        if (category && g_strcmp0(it->category, category) != 0)
            continue;
        g_ptr_array_add(labels, g_strdup_printf("%s %s", desk_nz(it->code), desk_nz(it->name)));
        g_ptr_array_add(codes, g_strdup(desk_nz(it->code)));
    }
    g_signal_handlers_block_matched(b->item, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, b);
    set_rows(b->item, b->item_codes, _("Any item"), labels, codes);
    g_signal_handlers_unblock_matched(b->item, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, b);
}

void desk_search_bar_reload(DeskSearchBar *b)
{
    sc_client *c = desk_window_client(b->win);
    const Sanji__CatalogueSync *cat = sc_catalogue(c);
    g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) codes = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; cat && i < cat->n_categories; i++) {
        g_ptr_array_add(labels, g_strdup(desk_nz(cat->categories[i]->name)));
        g_ptr_array_add(codes, g_strdup(desk_nz(cat->categories[i]->code)));
    }
    g_signal_handlers_block_matched(b->category, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, b);
    set_rows(b->category, b->category_codes, _("Any category"), labels, codes);
    g_signal_handlers_unblock_matched(b->category, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, b);
    fill_items(b);
    /* The units below this desk's own: townships (and their villages) at
     * the county, villages at a township. */
    const char *mine = sc_client_node(c)->unit;
    const Sanji__OrgTreeSync *tree = sc_org_tree(c);
    g_ptr_array_set_size(labels, 0);
    g_ptr_array_set_size(codes, 0);
    for (size_t i = 0; tree && i < tree->n_units; i++) {
        const Sanji__OrgUnit *u = tree->units[i];
        if (!u->code || strcmp(u->code, mine) == 0 || !sj_orgunit_contains(mine, u->code))
            continue;
        bool village = u->level == SANJI__LEVEL__LEVEL_VILLAGE;
        g_ptr_array_add(labels, g_strdup_printf("%s%s", village ? "　" : "", desk_nz(u->name)));
        g_ptr_array_add(codes, g_strdup(u->code));
    }
    set_rows(b->unit, b->unit_codes, _("Any township or village"), labels, codes);
    gtk_widget_set_visible(b->unit, codes->len > 0);
}

static GtkWidget *drop(const char *const *rows)
{
    GtkWidget *d = gtk_drop_down_new_from_strings(rows);
    return d;
}

static void reg(DeskSearchBar *b, const char *name, const char *part, GtkWidget *w)
{
    g_autofree char *full = g_strdup_printf("%s.search.%s", name, part);
    desk_window_register(b->win, full, w);
}

static GtkWidget *labelled(const char *label, GtkWidget *w)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    GtkWidget *l = gtk_label_new(label);
    gtk_widget_add_css_class(l, "dim-label");
    gtk_box_append(GTK_BOX(box), l);
    gtk_box_append(GTK_BOX(box), w);
    return box;
}

static void desk_search_bar_finalize(GObject *obj)
{
    DeskSearchBar *b = DESK_SEARCH_BAR(obj);
    g_ptr_array_unref(b->category_codes);
    g_ptr_array_unref(b->item_codes);
    g_ptr_array_unref(b->unit_codes);
    g_free(b->number);
    g_free(b->name);
    g_free(b->id);
    g_free(b->phone);
    g_free(b->department_text);
    g_free(b->person_text);
    g_free(b->assignee_text);
    G_OBJECT_CLASS(desk_search_bar_parent_class)->finalize(obj);
}

static void desk_search_bar_class_init(DeskSearchBarClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = desk_search_bar_finalize;
    signals[SIG_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void desk_search_bar_init(DeskSearchBar *b)
{
    b->category_codes = g_ptr_array_new_with_free_func(g_free);
    b->item_codes = g_ptr_array_new_with_free_func(g_free);
    b->unit_codes = g_ptr_array_new_with_free_func(g_free);
}

/* The first row: the key and its text, 搜索, 清除, the order. */
static GtkWidget *main_row(DeskSearchBar *b, const char *name)
{
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    const char *keys[] = {_("Number, name, ID or phone"), _("Case number"), _("Applicant name"),
                          _("ID number"), _("Phone"), NULL};
    b->key = drop(keys);
    b->text = gtk_search_entry_new();
    gtk_widget_set_hexpand(b->text, true);
    g_object_set(b->text, "placeholder-text",
                 _("Case number or its end, name or its beginning, ID number, phone"), NULL);
    g_signal_connect(b->text, "activate", G_CALLBACK(on_go), b);
    GtkWidget *go = gtk_button_new_with_label(_("Search"));
    gtk_widget_add_css_class(go, "suggested-action");
    g_signal_connect(go, "clicked", G_CALLBACK(on_go), b);
    GtkWidget *clear = gtk_button_new_with_label(_("Clear"));
    g_signal_connect(clear, "clicked", G_CALLBACK(on_clear), b);
    const char *sorts[] = {_("Order: this view's"), _("Order: registered"), _("Order: due"),
                           _("Order: number"), _("Order: status"), NULL};
    b->sort = drop(sorts);
    g_signal_connect(b->sort, "notify::selected", G_CALLBACK(on_pick), b);
    b->ascending = gtk_check_button_new_with_label(_("Reverse"));
    g_signal_connect(b->ascending, "toggled", G_CALLBACK(on_go), b);
    gtk_box_append(GTK_BOX(row), b->key);
    gtk_box_append(GTK_BOX(row), b->text);
    gtk_box_append(GTK_BOX(row), go);
    gtk_box_append(GTK_BOX(row), clear);
    gtk_box_append(GTK_BOX(row), b->sort);
    gtk_box_append(GTK_BOX(row), b->ascending);
    reg(b, name, "go", go);
    reg(b, name, "clear", clear);
    return row;
}

/* The further conditions: category, item, status, level, unit,
 * department, people, the registration period, overdue, supervised. */
static GtkWidget *more_conditions(DeskSearchBar *b)
{
    GtkWidget *more = gtk_flow_box_new();
    gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(more), GTK_SELECTION_NONE);
    gtk_flow_box_set_max_children_per_line(GTK_FLOW_BOX(more), 6);
    gtk_flow_box_set_column_spacing(GTK_FLOW_BOX(more), 10);
    b->category = drop((const char *[]){_("Any category"), NULL});
    g_signal_connect(b->category, "notify::selected", G_CALLBACK(on_category), b);
    b->item = drop((const char *[]){_("Any item"), NULL});
    const char *statuses[SJ_STATUS_WITHDRAWN + 2];
    statuses[0] = _("Any status");
    for (int s = 1; s <= SJ_STATUS_WITHDRAWN; s++)
        statuses[s] = desk_format_label(sc_status_label((sj_case_status)s));
    statuses[SJ_STATUS_WITHDRAWN + 1] = NULL;
    b->status = drop(statuses);
    const char *levels[] = {_("Held at any level"), _("Held by the village"),
                            _("Held by the township"), _("Held by the county"), NULL};
    b->level = drop(levels);
    b->unit = drop((const char *[]){_("Any township or village"), NULL});
    b->department = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(b->department), _("e.g. 县民政局"));
    b->person = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(b->person), _("person id"));
    b->assignee = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(b->assignee), _("person id"));
    b->from = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(b->from), "2026-01-01");
    gtk_editable_set_width_chars(GTK_EDITABLE(b->from), 11);
    b->to = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(b->to), "2026-12-31");
    gtk_editable_set_width_chars(GTK_EDITABLE(b->to), 11);
    b->overdue = gtk_check_button_new_with_label(_("Overdue only"));
    b->supervised = gtk_check_button_new_with_label(_("Supervised only"));
    GtkWidget *entries[] = {b->department, b->person, b->assignee, b->from, b->to};
    for (size_t i = 0; i < G_N_ELEMENTS(entries); i++)
        g_signal_connect(entries[i], "activate", G_CALLBACK(on_go), b);
    gtk_flow_box_append(GTK_FLOW_BOX(more), b->category);
    gtk_flow_box_append(GTK_FLOW_BOX(more), b->item);
    gtk_flow_box_append(GTK_FLOW_BOX(more), b->status);
    gtk_flow_box_append(GTK_FLOW_BOX(more), b->level);
    gtk_flow_box_append(GTK_FLOW_BOX(more), b->unit);
    gtk_flow_box_append(GTK_FLOW_BOX(more), labelled(_("Department"), b->department));
    gtk_flow_box_append(GTK_FLOW_BOX(more), labelled(_("First received by"), b->person));
    gtk_flow_box_append(GTK_FLOW_BOX(more), labelled(_("Assigned to"), b->assignee));
    gtk_flow_box_append(GTK_FLOW_BOX(more), labelled(_("Registered from"), b->from));
    gtk_flow_box_append(GTK_FLOW_BOX(more), labelled(_("to"), b->to));
    gtk_flow_box_append(GTK_FLOW_BOX(more), b->overdue);
    gtk_flow_box_append(GTK_FLOW_BOX(more), b->supervised);
    return more;
}

DeskSearchBar *desk_search_bar_new(DeskWindow *w, const char *name)
{
    DeskSearchBar *b = g_object_new(DESK_TYPE_SEARCH_BAR, "orientation", GTK_ORIENTATION_VERTICAL,
                                    "spacing", 6, NULL);
    b->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(b), "search-bar");

    GtkWidget *row = main_row(b, name);
    gtk_box_append(GTK_BOX(b), row);

    /* More conditions, folded away until wanted. */
    GtkWidget *more = more_conditions(b);
    b->more = gtk_expander_new(_("More conditions"));
    gtk_expander_set_child(GTK_EXPANDER(b->more), more);
    gtk_box_append(GTK_BOX(b), b->more);
    b->message = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(b->message), 0);
    gtk_widget_add_css_class(b->message, "error-text");
    gtk_box_append(GTK_BOX(b), b->message);

    reg(b, name, "key", b->key);
    reg(b, name, "text", b->text);
    reg(b, name, "more", b->more);
    reg(b, name, "category", b->category);
    reg(b, name, "item", b->item);
    reg(b, name, "status", b->status);
    reg(b, name, "level", b->level);
    reg(b, name, "unit", b->unit);
    reg(b, name, "department", b->department);
    reg(b, name, "person", b->person);
    reg(b, name, "assignee", b->assignee);
    reg(b, name, "from", b->from);
    reg(b, name, "to", b->to);
    reg(b, name, "overdue", b->overdue);
    reg(b, name, "supervised", b->supervised);
    reg(b, name, "sort", b->sort);
    reg(b, name, "ascending", b->ascending);
    reg(b, name, "message", b->message);
    desk_search_bar_reload(b);
    return b;
}
