/*
 * desk-admin.c - the county desk's administration pages (see
 * desk-admin.h).  One shape for the three: a list of the cached reference
 * data, a form, buttons that each send one AdminRequest, and a message.
 *
 * Entry points: desk_admin_persons_new(), desk_admin_departments_new(),
 * desk_admin_items_new(), desk_admin_page_reload().
 */
#include "desk-admin.h"

#include <string.h>

#include "enrol.h"
#include "i18n.h"
#include "password.h"

typedef enum admin_kind { ADMIN_PERSONS, ADMIN_DEPARTMENTS, ADMIN_ITEMS } admin_kind;

typedef struct admin_page {
    DeskWindow *win;
    admin_kind kind;
    GtkWidget *box, *list, *message;
    GtkWidget *id, *name, *role, *unit, *department, *stand_in;
    char one_time[SJ_ENROL_PASSPHRASE_SIZE]; /* shown once the county took it */
    bool busy;
} admin_page;

#define PAGE_KEY "desk-admin-page"

/* The role names of the county's files (import.h), in the drop-down's order. */
static const char *const ROLE_NAMES[] = {"village_cadre", "township_staff", "county_operator",
                                         "department_staff"};

static const char *role_label(int role)
{
    switch (role) {
    case 1:
        return _("Village cadre");
    case 2:
        return _("Township staff");
    case 3:
        return _("County operator");
    case 4:
        return _("Department staff");
    default:
        return "?";
    }
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static void set_message(admin_page *p, const char *text, bool error)
{
    gtk_label_set_text(GTK_LABEL(p->message), text);
    if (error)
        gtk_widget_add_css_class(p->message, "error-text");
    else
        gtk_widget_remove_css_class(p->message, "error-text");
}

static void page_free(gpointer data)
{
    admin_page *p = data;
    explicit_bzero(p->one_time, sizeof p->one_time);
    g_free(p);
}

static const char *text_of(GtkWidget *e)
{
    return e ? gtk_editable_get_text(GTK_EDITABLE(e)) : "";
}

static void add_row(admin_page *p, const char *key, const char *text)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_widget_set_margin_start(l, 6);
    gtk_widget_set_margin_top(l, 3);
    gtk_widget_set_margin_bottom(l, 3);
    GtkWidget *row = gtk_list_box_row_new();
    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), l);
    g_object_set_data_full(G_OBJECT(row), "key", g_strdup(key), g_free);
    gtk_list_box_append(GTK_LIST_BOX(p->list), row);
}

void desk_admin_page_reload(GtkWidget *page)
{
    admin_page *p = g_object_get_data(G_OBJECT(page), PAGE_KEY);
    sc_client *c = desk_window_client(p->win);
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(p->list)))
        gtk_list_box_remove(GTK_LIST_BOX(p->list), child);
    if (p->kind == ADMIN_PERSONS) {
        const Sanji__PersonSync *ps = sc_person_list(c);
        for (size_t i = 0; ps && i < ps->n_persons; i++) {
            const Sanji__Person *x = ps->persons[i];
            g_autofree char *t = g_strdup_printf(
                "%s  %s · %s · %s%s%s%s%s · %s", nz(x->id), nz(x->name), role_label(x->role),
                nz(x->org_unit), x->department && *x->department ? " · " : "", nz(x->department),
                x->stand_in && *x->stand_in ? _(" · stand-in ") : "", nz(x->stand_in),
                x->active ? _("active") : _("deactivated"));
            add_row(p, nz(x->id), t);
        }
    } else if (p->kind == ADMIN_DEPARTMENTS) {
        const Sanji__OrgTreeSync *ot = sc_org_tree(c);
        for (size_t i = 0; ot && i < ot->n_departments; i++) {
            const Sanji__Department *d = ot->departments[i];
            GString *items = g_string_new(NULL);
            for (size_t k = 0; k < d->n_item_codes; k++)
                g_string_append_printf(items, "%s%s", k ? "、" : "", nz(d->item_codes[k]));
            g_autofree char *t = g_strdup_printf("%s  %s · %s · %s%s", nz(d->code), nz(d->name),
                                                 d->active ? _("active") : _("deactivated"),
                                                 _("items: "), items->len ? items->str : "—");
            g_string_free(items, TRUE);
            add_row(p, nz(d->code), t);
        }
    } else {
        const Sanji__CatalogueSync *cs = sc_catalogue(c);
        for (size_t i = 0; cs && i < cs->n_items; i++) {
            const Sanji__CatalogueItem *it = cs->items[i];
            g_autofree char *t =
                g_strdup_printf("%s  %s · %s · %s", nz(it->code), nz(it->name), nz(it->department),
                                it->active ? _("in use") : _("retired"));
            add_row(p, nz(it->code), t);
        }
    }
}

/* A row picked: its values into the form. */
static void on_row(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
    admin_page *p = data;
    (void)box;
    const char *key = row ? g_object_get_data(G_OBJECT(row), "key") : NULL;
    if (!key)
        return;
    gtk_editable_set_text(GTK_EDITABLE(p->id), key);
    sc_client *c = desk_window_client(p->win);
    if (p->kind == ADMIN_PERSONS) {
        const Sanji__PersonSync *ps = sc_person_list(c);
        for (size_t i = 0; ps && i < ps->n_persons; i++) {
            const Sanji__Person *x = ps->persons[i];
            if (strcmp(nz(x->id), key) != 0)
                continue;
            gtk_editable_set_text(GTK_EDITABLE(p->name), nz(x->name));
            if (x->role >= 1 && x->role <= 4)
                gtk_drop_down_set_selected(GTK_DROP_DOWN(p->role), (guint)x->role - 1);
            gtk_editable_set_text(GTK_EDITABLE(p->unit), nz(x->org_unit));
            gtk_editable_set_text(GTK_EDITABLE(p->department), nz(x->department));
            gtk_editable_set_text(GTK_EDITABLE(p->stand_in), nz(x->stand_in));
        }
    } else if (p->kind == ADMIN_DEPARTMENTS) {
        const Sanji__OrgTreeSync *ot = sc_org_tree(c);
        for (size_t i = 0; ot && i < ot->n_departments; i++)
            if (strcmp(nz(ot->departments[i]->code), key) == 0)
                gtk_editable_set_text(GTK_EDITABLE(p->name), nz(ot->departments[i]->name));
    } else {
        /* The department that owns the item now, by code. */
        const Sanji__OrgTreeSync *ot = sc_org_tree(c);
        for (size_t i = 0; ot && i < ot->n_departments; i++)
            for (size_t k = 0; k < ot->departments[i]->n_item_codes; k++)
                if (strcmp(nz(ot->departments[i]->item_codes[k]), key) == 0)
                    gtk_editable_set_text(GTK_EDITABLE(p->department),
                                          nz(ot->departments[i]->code));
    }
    set_message(p, "", false);
}

static void on_answer(sc_client *c, int status, const char *reason, bool changed, void *data)
{
    GtkWidget *box = data;
    admin_page *p = g_object_get_data(G_OBJECT(box), PAGE_KEY);
    (void)c;
    if (p && gtk_widget_get_root(box)) {
        p->busy = false;
        if (status != 0) {
            set_message(p, reason && *reason ? reason : sj_err_text(status), true);
        } else if (p->one_time[0]) {
            g_autofree char *t = g_strdup_printf(
                _("Done. One-time password: %s (give it to the person; it must be changed at the "
                  "first login)."),
                p->one_time);
            set_message(p, t, false);
        } else {
            set_message(p, changed ? _("Done; the lists follow shortly.") : _("Nothing to change."),
                        false);
        }
        explicit_bzero(p->one_time, sizeof p->one_time);
    }
    g_object_unref(box);
}

/* Sends req; with_password: a one-time password is made here first and
 * only its verifier goes. */
static void send_request(admin_page *p, Sanji__AdminRequest *req, bool with_password)
{
    if (p->busy)
        return;
    sj_error err;
    char verifier[SJ_PASSWORD_VERIFIER_SIZE] = "";
    p->one_time[0] = '\0';
    if (!*nz(req->target)) {
        set_message(p, _("Pick a row or type the code first."), true);
        return;
    }
    if (with_password && (sj_enrol_passphrase(p->one_time, &err) != 0 ||
                          sj_password_make(p->one_time, verifier, sizeof verifier, &err) != 0)) {
        set_message(p, err.message, true);
        return;
    }
    req->new_verifier = verifier;
    int rc = sc_admin(desk_window_client(p->win), req, on_answer, g_object_ref(p->box), &err);
    explicit_bzero(verifier, sizeof verifier);
    req->new_verifier = NULL;
    if (rc != 0) {
        g_object_unref(p->box);
        explicit_bzero(p->one_time, sizeof p->one_time);
        set_message(p, err.message, true);
        return;
    }
    p->busy = true;
    set_message(p, _("Sent to the county…"), false);
}

static void person_fields(admin_page *p, Sanji__AdminRequest *req)
{
    guint role = gtk_drop_down_get_selected(GTK_DROP_DOWN(p->role));
    req->name = (char *)text_of(p->name);
    req->role = (char *)(role < G_N_ELEMENTS(ROLE_NAMES) ? ROLE_NAMES[role] : "");
    req->unit = (char *)text_of(p->unit);
    req->department = (char *)text_of(p->department);
    req->stand_in = (char *)text_of(p->stand_in);
}

/* One button: its op is on the widget ("op"). */
static void on_button(GtkButton *b, gpointer data)
{
    admin_page *p = data;
    Sanji__AdminOp op = (Sanji__AdminOp)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "op"));
    Sanji__AdminRequest req = SANJI__ADMIN_REQUEST__INIT;
    g_autofree char *target = g_strstrip(g_strdup(text_of(p->id)));
    req.op = op;
    req.target = target;
    if (op == SANJI__ADMIN_OP__ADMIN_OP_PERSON_ADD || op == SANJI__ADMIN_OP__ADMIN_OP_PERSON_EDIT)
        person_fields(p, &req);
    if (op == SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_ADD ||
        op == SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_EDIT)
        req.name = (char *)text_of(p->name);
    if (op == SANJI__ADMIN_OP__ADMIN_OP_ITEM_DEPARTMENT)
        req.department = (char *)text_of(p->department);
    send_request(p, &req,
                 op == SANJI__ADMIN_OP__ADMIN_OP_PERSON_ADD ||
                     op == SANJI__ADMIN_OP__ADMIN_OP_PERSON_RESET_PASSWORD);
}

static GtkWidget *field(GtkGrid *grid, int row, const char *label, const char *placeholder)
{
    GtkWidget *l = gtk_label_new(label);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    GtkWidget *e = gtk_entry_new();
    gtk_widget_set_hexpand(e, true);
    if (placeholder)
        gtk_entry_set_placeholder_text(GTK_ENTRY(e), placeholder);
    gtk_grid_attach(grid, l, 0, row, 1, 1);
    gtk_grid_attach(grid, e, 1, row, 1, 1);
    return e;
}

static const char *page_part(admin_kind k)
{
    return k == ADMIN_PERSONS ? "person" : k == ADMIN_DEPARTMENTS ? "department" : "item";
}

static void reg(admin_page *p, const char *what, GtkWidget *widget)
{
    g_autofree char *name = g_strdup_printf("admin.%s.%s", page_part(p->kind), what);
    desk_window_register(p->win, name, widget);
}

static void button(admin_page *p, GtkBox *row, const char *label, Sanji__AdminOp op,
                   const char *what)
{
    GtkWidget *b = gtk_button_new_with_label(label);
    g_object_set_data(G_OBJECT(b), "op", GINT_TO_POINTER(op));
    g_signal_connect(b, "clicked", G_CALLBACK(on_button), p);
    gtk_box_append(row, b);
    reg(p, what, b);
}

static admin_page *page_new(DeskWindow *w, admin_kind kind, const char *title, const char *intro)
{
    admin_page *p = g_new0(admin_page, 1);
    p->win = w;
    p->kind = kind;
    p->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
    gtk_widget_set_margin_start(p->box, 18);
    gtk_widget_set_margin_end(p->box, 18);
    gtk_widget_set_margin_top(p->box, 12);
    gtk_widget_set_margin_bottom(p->box, 12);
    g_object_set_data_full(G_OBJECT(p->box), PAGE_KEY, p, page_free);
    GtkWidget *t = gtk_label_new(title);
    gtk_widget_add_css_class(t, "title-2");
    gtk_label_set_xalign(GTK_LABEL(t), 0);
    GtkWidget *i = gtk_label_new(intro);
    gtk_label_set_wrap(GTK_LABEL(i), true);
    gtk_label_set_xalign(GTK_LABEL(i), 0);
    gtk_widget_add_css_class(i, "dim-label");
    gtk_box_append(GTK_BOX(p->box), t);
    gtk_box_append(GTK_BOX(p->box), i);
    p->list = gtk_list_box_new();
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(p->list), GTK_SELECTION_SINGLE);
    /* Activated only (a click, Enter): a list filled again when the
     * county's new lists come must not overwrite what is being typed. */
    gtk_list_box_set_activate_on_single_click(GTK_LIST_BOX(p->list), true);
    g_signal_connect(p->list, "row-activated", G_CALLBACK(on_row), p);
    GtkWidget *scroll = gtk_scrolled_window_new();
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroll), 260);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), p->list);
    gtk_widget_add_css_class(scroll, "card");
    gtk_box_append(GTK_BOX(p->box), scroll);
    reg(p, "list", p->list);
    return p;
}

static void finish_page(admin_page *p, GtkWidget *grid, GtkWidget *buttons)
{
    gtk_box_append(GTK_BOX(p->box), grid);
    gtk_box_append(GTK_BOX(p->box), buttons);
    p->message = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(p->message), true);
    gtk_label_set_xalign(GTK_LABEL(p->message), 0);
    gtk_label_set_selectable(GTK_LABEL(p->message), true);
    gtk_box_append(GTK_BOX(p->box), p->message);
    reg(p, "message", p->message);
    desk_admin_page_reload(p->box);
}

static GtkWidget *new_grid(void)
{
    GtkWidget *g = gtk_grid_new();
    gtk_grid_set_row_spacing(GTK_GRID(g), 6);
    gtk_grid_set_column_spacing(GTK_GRID(g), 12);
    return g;
}

GtkWidget *desk_admin_persons_new(DeskWindow *w)
{
    admin_page *p = page_new(w, ADMIN_PERSONS, _("Persons"),
                             _("Everyone who may log in anywhere in the county. Pick a row to edit "
                               "it; a new person and a reset get a one-time password shown here "
                               "once, to be changed at the first login."));
    GtkWidget *g = new_grid();
    GtkGrid *grid = GTK_GRID(g);
    p->id = field(grid, 0, _("Person id"), "p-410423101201-03");
    p->name = field(grid, 1, _("Name"), NULL);
    GtkWidget *rl = gtk_label_new(_("Role"));
    gtk_label_set_xalign(GTK_LABEL(rl), 0);
    const char *roles[] = {role_label(1), role_label(2), role_label(3), role_label(4), NULL};
    p->role = gtk_drop_down_new_from_strings(roles);
    gtk_grid_attach(grid, rl, 0, 2, 1, 1);
    gtk_grid_attach(grid, p->role, 1, 2, 1, 1);
    p->unit = field(grid, 3, _("Unit code"), "410423101201");
    p->department = field(grid, 4, _("Department code"), _("department staff only, e.g. mzj"));
    p->stand_in = field(grid, 5, _("Stand-in (B岗)"), _("person id, or empty"));
    reg(p, "id", p->id);
    reg(p, "name", p->name);
    reg(p, "role", p->role);
    reg(p, "unit", p->unit);
    reg(p, "department", p->department);
    reg(p, "stand_in", p->stand_in);
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    button(p, GTK_BOX(row), _("Add person"), SANJI__ADMIN_OP__ADMIN_OP_PERSON_ADD, "add");
    button(p, GTK_BOX(row), _("Save changes"), SANJI__ADMIN_OP__ADMIN_OP_PERSON_EDIT, "edit");
    button(p, GTK_BOX(row), _("Deactivate"), SANJI__ADMIN_OP__ADMIN_OP_PERSON_DEACTIVATE,
           "deactivate");
    button(p, GTK_BOX(row), _("Activate"), SANJI__ADMIN_OP__ADMIN_OP_PERSON_ACTIVATE, "activate");
    button(p, GTK_BOX(row), _("Reset password"), SANJI__ADMIN_OP__ADMIN_OP_PERSON_RESET_PASSWORD,
           "reset");
    finish_page(p, g, row);
    return p->box;
}

GtkWidget *desk_admin_departments_new(DeskWindow *w)
{
    admin_page *p = page_new(w, ADMIN_DEPARTMENTS, _("Departments"),
                             _("The county departments cases are dispatched to, with the catalogue "
                               "items each owns. A deactivated department gets no new dispatch."));
    GtkWidget *g = new_grid();
    p->id = field(GTK_GRID(g), 0, _("Department code"), "zjj");
    p->name = field(GTK_GRID(g), 1, _("Name"), _("e.g. 县住建局"));
    reg(p, "id", p->id);
    reg(p, "name", p->name);
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    button(p, GTK_BOX(row), _("Add department"), SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_ADD, "add");
    button(p, GTK_BOX(row), _("Rename"), SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_EDIT, "edit");
    button(p, GTK_BOX(row), _("Deactivate"), SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_DEACTIVATE,
           "deactivate");
    button(p, GTK_BOX(row), _("Activate"), SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_ACTIVATE,
           "activate");
    finish_page(p, g, row);
    return p->box;
}

GtkWidget *desk_admin_items_new(DeskWindow *w)
{
    admin_page *p = page_new(w, ADMIN_ITEMS, _("Catalogue items"),
                             _("A retired item is no longer offered for registration; cases "
                               "registered before keep it."));
    GtkWidget *g = new_grid();
    p->id = field(GTK_GRID(g), 0, _("Item code"), "MZ-001");
    p->department = field(GTK_GRID(g), 1, _("Department code"), _("the department to own it, e.g. mzj"));
    reg(p, "id", p->id);
    reg(p, "department", p->department);
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    button(p, GTK_BOX(row), _("Retire item"), SANJI__ADMIN_OP__ADMIN_OP_ITEM_RETIRE, "retire");
    button(p, GTK_BOX(row), _("Restore item"), SANJI__ADMIN_OP__ADMIN_OP_ITEM_RESTORE, "restore");
    button(p, GTK_BOX(row), _("Move to department"), SANJI__ADMIN_OP__ADMIN_OP_ITEM_DEPARTMENT,
           "move");
    finish_page(p, g, row);
    return p->box;
}
