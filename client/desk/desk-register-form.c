/*
 * desk-register-form.c - 诉求登记 (see desk-register-form.h).
 *
 * Entry points: desk_register_form_new(), desk_register_form_reload_catalogue().
 */
#include "desk-register-form.h"

#include <string.h>

#include "attach.h"
#include "case.h"
#include "desk-attachments.h"
#include "desk-draft.h"
#include "desk-format.h"
#include "desk-widgets.h"
#include "i18n.h"
#include "personal.h"
#include "refusal.h"
#include "utf8.h"

/* Lines kept free for the form's summary at its top: the form never moves
 * under the pointer when a message comes or goes. */
#define MESSAGE_LINES 2

struct _DeskRegisterForm {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *category, *search, *items, *detail, *item_error;
    GtkWidget *name, *name_error, *id, *id_error, *phone, *phone_error;
    GtkWidget *text, *text_error, *urgent, *no_notify, *save, *message;
    GtkWidget *attach, *attach_list, *attach_error;
    GPtrArray *files;            /* chosen_file: attached to the case when it is saved */
    guint rows_named;            /* rows named register.attachment.*.N for the test hook */
    GPtrArray *category_codes;   /* index in the drop-down -> code ("" for all) */
    char *item_code;             /* chosen item, NULL when none */
    desk_draft *draft;
    bool restoring;              /* filling fields from the draft: do not write it back */
};

G_DEFINE_TYPE(DeskRegisterForm, desk_register_form, GTK_TYPE_BOX)

/* A photo or scan chosen on the form, checked (sc_attach_check()) and
 * held in memory until the case is saved: what was checked is what is
 * attached.  Not in the draft: the cadre chooses the files again after a
 * crash. */
typedef struct chosen_file {
    char *path;
    GBytes *data;
    char *material; /* the item's material it answers; NULL: none named */
} chosen_file;

static void chosen_file_free(gpointer p)
{
    chosen_file *cf = p;
    g_free(cf->path);
    g_bytes_unref(cf->data);
    g_free(cf->material);
    g_free(cf);
}

static void fill_files(DeskRegisterForm *f);

static void keep(DeskRegisterForm *f, const char *key, const char *value)
{
    if (f->restoring || !f->draft)
        return;
    sj_error err;
    if (desk_draft_set(f->draft, key, value, &err) != 0)
        desk_window_show_error(f->win, NULL, &err);
}

/* An error line is always there, empty or not (its height kept free, see
 * error_label()): a message that appears must not push the fields below it
 * under the cadre's pointer.  One line; the whole text is the tooltip. */
static void field_error(GtkWidget *label, GtkWidget *field, const char *text)
{
    gtk_label_set_text(GTK_LABEL(label), text ? text : "");
    gtk_widget_set_tooltip_text(label, text && *text ? text : NULL);
    if (text && *text)
        gtk_widget_add_css_class(field, "error");
    else
        gtk_widget_remove_css_class(field, "error");
}

/* The form's summary, at its top in space kept for it; with nothing to
 * report it says how the form is used. */
static void set_message(DeskRegisterForm *f, const char *text, bool error)
{
    bool hint = !text || !*text;
    if (hint)
        text = _("Pick the matter on the left, fill in who asks and what for, then press Save.");
    gtk_label_set_text(GTK_LABEL(f->message), text);
    gtk_widget_set_tooltip_text(f->message, hint ? NULL : text);
    if (error)
        gtk_widget_add_css_class(f->message, "error-text");
    else
        gtk_widget_remove_css_class(f->message, "error-text");
    if (hint)
        gtk_widget_add_css_class(f->message, "dim-label");
    else
        gtk_widget_remove_css_class(f->message, "dim-label");
}

/* ---- catalogue picker -------------------------------------------------- */

static void show_item(DeskRegisterForm *f)
{
    sc_client *c = desk_window_client(f->win);
    const Sanji__CatalogueItem *it = f->item_code ? sc_catalogue_item(c, f->item_code) : NULL;
    if (!it) {
        gtk_label_set_text(GTK_LABEL(f->detail), _("Pick the matter from the list on the left, or type a word to search."));
        return;
    }
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "<b>%s</b>  (%s)\n", desk_nz(it->name), desk_nz(it->code));
    g_autofree char *dept = g_markup_escape_text(desk_nz(it->department), -1);
    /* Translators: item detail; department, limit in working days, lowest level. */
    g_string_append_printf(s, _("Department: %s · time limit: %u working days · can be finished at: %s"),
                           dept, it->limit_days, desk_format_label(sc_level_label((sj_level)it->min_level)));
    if (it->urgent_limit_days)
        g_string_append_printf(s, _(" (urgent: %u working days)"), it->urgent_limit_days);
    g_string_append_printf(s, "\n<b>%s</b>", _("Materials the villager must bring:"));
    for (size_t i = 0; i < it->n_materials; i++) {
        g_autofree char *m = g_markup_escape_text(desk_nz(it->materials[i]), -1);
        g_string_append_printf(s, "\n  %zu. %s", i + 1, m);
    }
    if (it->n_materials == 0)
        g_string_append_printf(s, "\n  %s", _("none"));
    gtk_label_set_markup(GTK_LABEL(f->detail), s->str);
    g_string_free(s, TRUE);
}

static void fill_items(DeskRegisterForm *f)
{
    sc_client *c = desk_window_client(f->win);
    desk_list_box_clear(f->items);
    const char *kw = gtk_editable_get_text(GTK_EDITABLE(f->search));
    guint ci = gtk_drop_down_get_selected(GTK_DROP_DOWN(f->category));
    const char *cat = ci < f->category_codes->len ? g_ptr_array_index(f->category_codes, ci) : "";
    const Sanji__CatalogueItem **items = NULL;
    size_t n = sc_catalogue_search(c, kw, &items);
    GtkListBoxRow *chosen = NULL;
    for (size_t i = 0; i < n; i++) {
        if (*cat && strcmp(desk_nz(items[i]->category), cat) != 0)
            continue;
        /* The name gives way (cut with "…", whole in the tooltip); the code
         * never does: it is what the cadre checks against the paper list. */
        GtkWidget *name = gtk_label_new(desk_nz(items[i]->name));
        gtk_label_set_xalign(GTK_LABEL(name), 0);
        gtk_label_set_ellipsize(GTK_LABEL(name), PANGO_ELLIPSIZE_END);
        gtk_widget_set_hexpand(name, true);
        gtk_widget_set_tooltip_text(name, desk_nz(items[i]->name));
        GtkWidget *code = gtk_label_new(desk_nz(items[i]->code));
        gtk_widget_add_css_class(code, "item-code");
        GtkWidget *line = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
        gtk_box_append(GTK_BOX(line), name);
        gtk_box_append(GTK_BOX(line), code);
        GtkWidget *row = gtk_list_box_row_new();
        gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), line);
        g_object_set_data_full(G_OBJECT(row), "code", g_strdup(desk_nz(items[i]->code)), g_free);
        gtk_list_box_append(GTK_LIST_BOX(f->items), row);
        if (f->item_code && strcmp(f->item_code, desk_nz(items[i]->code)) == 0)
            chosen = GTK_LIST_BOX_ROW(row);
    }
    free(items);
    if (chosen) {
        bool r = f->restoring;
        f->restoring = true; /* selecting again is not a change */
        gtk_list_box_select_row(GTK_LIST_BOX(f->items), chosen);
        f->restoring = r;
    }
}

static void on_item_selected(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
    DeskRegisterForm *f = data;
    if (!row)
        return;
    const char *code = g_object_get_data(G_OBJECT(row), "code");
    g_free(f->item_code);
    f->item_code = g_strdup(code);
    field_error(f->item_error, f->items, NULL);
    keep(f, "item", code);
    show_item(f);
    fill_files(f); /* the materials offered are the item's */
}

static void on_filter_changed(GObject *o, GParamSpec *ps, gpointer data)
{
    fill_items(data);
}

static void on_search_changed(GtkEditable *e, gpointer data)
{
    fill_items(data);
}

void desk_register_form_reload_catalogue(DeskRegisterForm *f)
{
    sc_client *c = desk_window_client(f->win);
    const Sanji__CatalogueSync *cat = sc_catalogue(c);
    GtkStringList *names = gtk_string_list_new(NULL);
    g_ptr_array_set_size(f->category_codes, 0);
    gtk_string_list_append(names, _("All categories"));
    g_ptr_array_add(f->category_codes, g_strdup(""));
    for (size_t i = 0; cat && i < cat->n_categories; i++) {
        gtk_string_list_append(names, desk_nz(cat->categories[i]->name));
        g_ptr_array_add(f->category_codes, g_strdup(desk_nz(cat->categories[i]->code)));
    }
    g_signal_handlers_block_by_func(f->category, on_filter_changed, f);
    gtk_drop_down_set_model(GTK_DROP_DOWN(f->category), G_LIST_MODEL(names));
    gtk_drop_down_set_selected(GTK_DROP_DOWN(f->category), 0);
    g_signal_handlers_unblock_by_func(f->category, on_filter_changed, f);
    g_object_unref(names);
    fill_items(f);
    show_item(f);
    if (!cat)
        gtk_label_set_text(GTK_LABEL(f->detail),
                           _("The service catalogue has not arrived yet. It comes with the first connection; wait until the bar above says Online."));
}

/* ---- field checks ------------------------------------------------------- */

static bool check_id(DeskRegisterForm *f, bool final)
{
    const char *v = gtk_editable_get_text(GTK_EDITABLE(f->id));
    sj_error err;
    sj_error_clear(&err);
    if (!*v) {
        field_error(f->id_error, f->id, final ? _("Type the applicant's ID number (18 characters).") : NULL);
        return false;
    }
    /* While typing, a short number is not yet wrong. */
    if (!final && strlen(v) < SJ_PERSONAL_ID_LEN && strspn(v, "0123456789") == strlen(v)) {
        field_error(f->id_error, f->id, NULL);
        return false;
    }
    if (sj_personal_check_id(v, NULL, &err) != 0) {
        field_error(f->id_error, f->id, err.message);
        return false;
    }
    field_error(f->id_error, f->id, NULL);
    return true;
}

static bool check_phone(DeskRegisterForm *f, bool final)
{
    const char *v = gtk_editable_get_text(GTK_EDITABLE(f->phone));
    sj_error err;
    if (!*v) {
        field_error(f->phone_error, f->phone, final ? _("Type the applicant's phone number.") : NULL);
        return false;
    }
    if (!final && strlen(v) < 11) {
        field_error(f->phone_error, f->phone, NULL);
        return false;
    }
    if (sj_personal_check_phone(v, &err) != 0) {
        field_error(f->phone_error, f->phone, err.message);
        return false;
    }
    field_error(f->phone_error, f->phone, NULL);
    return true;
}

static void on_entry_changed(GtkEditable *e, gpointer data)
{
    DeskRegisterForm *f = data;
    const char *key = g_object_get_data(G_OBJECT(e), "draft-key");
    keep(f, key, gtk_editable_get_text(e));
    if (GTK_WIDGET(e) == f->id)
        check_id(f, false);
    else if (GTK_WIDGET(e) == f->phone)
        check_phone(f, false);
    else if (GTK_WIDGET(e) == f->name)
        field_error(f->name_error, f->name, NULL);
    set_message(f, "", false);
}

static void on_text_changed(GtkTextBuffer *b, gpointer data)
{
    DeskRegisterForm *f = data;
    g_autofree char *t = desk_text_view_get(f->text);
    keep(f, "text", t);
    field_error(f->text_error, f->text, NULL);
}

static void on_urgent_toggled(GtkCheckButton *b, gpointer data)
{
    keep(data, "urgent", gtk_check_button_get_active(b) ? "1" : "");
}

static void on_no_notify_toggled(GtkCheckButton *b, gpointer data)
{
    keep(data, "no_notify", gtk_check_button_get_active(b) ? "1" : "");
}

static void clear_form(DeskRegisterForm *f)
{
    f->restoring = true;
    gtk_editable_set_text(GTK_EDITABLE(f->name), "");
    gtk_editable_set_text(GTK_EDITABLE(f->id), "");
    gtk_editable_set_text(GTK_EDITABLE(f->phone), "");
    desk_text_view_set(f->text, "");
    gtk_check_button_set_active(GTK_CHECK_BUTTON(f->urgent), false);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(f->no_notify), false);
    gtk_editable_set_text(GTK_EDITABLE(f->search), "");
    g_clear_pointer(&f->item_code, g_free);
    gtk_list_box_unselect_all(GTK_LIST_BOX(f->items));
    show_item(f);
    field_error(f->name_error, f->name, NULL);
    field_error(f->id_error, f->id, NULL);
    field_error(f->phone_error, f->phone, NULL);
    field_error(f->text_error, f->text, NULL);
    field_error(f->item_error, f->items, NULL);
    g_ptr_array_set_size(f->files, 0);
    fill_files(f);
    field_error(f->attach_error, f->attach_list, NULL);
    f->restoring = false;
}

/* ---- attachments ------------------------------------------------------- */

static void on_material_selected(GObject *o, GParamSpec *ps, gpointer data)
{
    chosen_file *cf = data;
    (void)ps;
    guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(o));
    g_clear_pointer(&cf->material, g_free);
    if (i > 0 && i != GTK_INVALID_LIST_POSITION) {
        g_autoptr(GObject) item = g_list_model_get_item(gtk_drop_down_get_model(GTK_DROP_DOWN(o)), i);
        if (GTK_IS_STRING_OBJECT(item))
            cf->material = g_strdup(gtk_string_object_get_string(GTK_STRING_OBJECT(item)));
    }
}

static void on_remove_file(GtkButton *b, gpointer data)
{
    DeskRegisterForm *f = data;
    chosen_file *cf = g_object_get_data(G_OBJECT(b), "chosen-file");
    g_ptr_array_remove(f->files, cf);
    field_error(f->attach_error, f->attach_list, NULL);
    fill_files(f);
}

static void name_row_widget(DeskRegisterForm *f, const char *what, guint i, GtkWidget *w)
{
    g_autofree char *name = g_strdup_printf("register.attachment.%s.%u", what, i);
    desk_window_register(f->win, name, w);
}

/* One row per chosen file: its name and size, the material it answers
 * (the chosen item's list, or none), and a button that takes it off. */
static void fill_files(DeskRegisterForm *f)
{
    desk_list_box_clear(f->attach_list);
    sc_client *c = desk_window_client(f->win);
    const Sanji__CatalogueItem *it = f->item_code ? sc_catalogue_item(c, f->item_code) : NULL;
    for (guint i = 0; i < f->files->len; i++) {
        chosen_file *cf = g_ptr_array_index(f->files, i);
        g_autofree char *size = g_format_size(g_bytes_get_size(cf->data));
        g_autofree char *text = g_strdup_printf("%s  (%s)", sj_attach_base_name(cf->path), size);
        GtkWidget *name = gtk_label_new(text);
        gtk_label_set_xalign(GTK_LABEL(name), 0);
        gtk_label_set_ellipsize(GTK_LABEL(name), PANGO_ELLIPSIZE_MIDDLE);
        gtk_widget_set_hexpand(name, true);
        gtk_widget_set_tooltip_text(name, cf->path);
        GtkStringList *names = gtk_string_list_new(NULL);
        gtk_string_list_append(names, _("No particular material"));
        guint selected = 0;
        for (size_t k = 0; it && k < it->n_materials; k++) {
            gtk_string_list_append(names, desk_nz(it->materials[k]));
            if (cf->material && strcmp(cf->material, desk_nz(it->materials[k])) == 0)
                selected = (guint)k + 1;
        }
        if (selected == 0)
            g_clear_pointer(&cf->material, g_free); /* not a material of this item */
        GtkWidget *material = gtk_drop_down_new(G_LIST_MODEL(names), NULL);
        gtk_drop_down_set_selected(GTK_DROP_DOWN(material), selected);
        gtk_widget_set_tooltip_text(material, _("The material this file shows (optional)"));
        g_signal_connect(material, "notify::selected", G_CALLBACK(on_material_selected), cf);
        GtkWidget *remove = gtk_button_new_with_label(_("Remove"));
        g_object_set_data(G_OBJECT(remove), "chosen-file", cf);
        g_signal_connect(remove, "clicked", G_CALLBACK(on_remove_file), f);
        GtkWidget *line = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
        gtk_box_append(GTK_BOX(line), name);
        gtk_box_append(GTK_BOX(line), material);
        gtk_box_append(GTK_BOX(line), remove);
        gtk_list_box_append(GTK_LIST_BOX(f->attach_list), line);
        name_row_widget(f, "material", i, material);
        name_row_widget(f, "remove", i, remove);
    }
    /* Rows gone: their names must not lead the test hook to freed widgets. */
    for (guint i = f->files->len; i < f->rows_named; i++) {
        name_row_widget(f, "material", i, NULL);
        name_row_widget(f, "remove", i, NULL);
    }
    f->rows_named = f->files->len;
    gtk_widget_set_visible(f->attach_list, f->files->len > 0);
}

/* A chosen file: checked now, as sc_attach() will check it when the case
 * is saved (kind, size, the case's total with the files already listed),
 * so that a refusal comes while the villager is still there. */
static void on_file_chosen(gpointer data, const char *path, GBytes *contents, const sj_error *read_err)
{
    DeskRegisterForm *f = data;
    if (!contents) {
        field_error(f->attach_error, f->attach_list, read_err->message);
        return;
    }
    uint64_t used = 0;
    for (guint i = 0; i < f->files->len; i++) {
        chosen_file *cf = g_ptr_array_index(f->files, i);
        if (strcmp(cf->path, path) == 0) {
            /* Translators: %s is a file name. */
            g_autofree char *t = g_strdup_printf(_("%s is already in the list."), sj_attach_base_name(path));
            field_error(f->attach_error, f->attach_list, t);
            return;
        }
        used += g_bytes_get_size(cf->data);
    }
    gsize len = 0;
    const uint8_t *bytes = g_bytes_get_data(contents, &len);
    sj_error err;
    if (sc_attach_check(desk_window_client(f->win), path, bytes, len, NULL, used, NULL, &err) != 0) {
        /* Translators: %s is a file name, then why it is refused and what to do. */
        g_autofree char *t = g_strdup_printf(_("%s was not added: %s"), sj_attach_base_name(path), err.message);
        field_error(f->attach_error, f->attach_list, t);
        return;
    }
    chosen_file *cf = g_new0(chosen_file, 1);
    cf->path = g_strdup(path);
    cf->data = g_bytes_ref(contents);
    g_ptr_array_add(f->files, cf);
    field_error(f->attach_error, f->attach_list, NULL);
    fill_files(f);
}

static void on_attach(GtkButton *b, gpointer data)
{
    DeskRegisterForm *f = data;
    (void)b;
    desk_attachments_choose(f->win, on_file_chosen, f);
}

/* After the case is saved: each chosen file attached to it by sc_attach(),
 * as the case page and `sanji register --attach` do.  The case stays saved
 * whatever happens here; a file refused is named with the reason, to be
 * attached again on the case page (the banner says so).  Returns the
 * files not attached. */
static guint attach_files(DeskRegisterForm *f, const uint8_t case_id[16])
{
    guint failed = 0;
    for (guint i = 0; i < f->files->len; i++) {
        chosen_file *cf = g_ptr_array_index(f->files, i);
        gsize len = 0;
        const uint8_t *bytes = g_bytes_get_data(cf->data, &len);
        sj_error err;
        if (sc_attach(desk_window_client(f->win), case_id, cf->path, bytes, len, cf->material, NULL,
                      &err) == 0)
            continue;
        failed++;
        /* Translators: %s is a file name. */
        g_autofree char *what = g_strdup_printf(
            _("The case is saved, but %s was not attached; attach it again on the case page"),
            sj_attach_base_name(cf->path));
        desk_window_show_error(f->win, what, &err);
    }
    return failed;
}

/* Brings the summary at the top of the form into view (the cadre may have
 * scrolled down to 保存), once the focus has moved to the first bad field. */
static gboolean show_message(gpointer data)
{
    DeskRegisterForm *f = data;
    GtkWidget *sw = gtk_widget_get_ancestor(GTK_WIDGET(f), GTK_TYPE_SCROLLED_WINDOW);
    GtkWidget *content = sw ? gtk_scrolled_window_get_child(GTK_SCROLLED_WINDOW(sw)) : NULL;
    graphene_point_t p;
    if (content && gtk_widget_compute_point(f->message, content, &GRAPHENE_POINT_INIT(0, 0), &p)) {
        GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(sw));
        if (p.y < gtk_adjustment_get_value(adj))
            gtk_adjustment_set_value(adj, p.y);
    }
    g_object_unref(f);
    return G_SOURCE_REMOVE;
}

/* The registration's own rule (sj_case_check_submit(), the county's and the
 * library's too) for one text field: the submission with the other text
 * filled in, so that a refusal names this field.  Returns the refusal
 * code, its words (translated) in why. */
static int submit_rule(const sj_submit *s, bool name, char *why, size_t cap)
{
    sj_submit one = *s;
    if (name)
        one.request_text = "-";
    else
        one.applicant_name = "-";
    sj_error err;
    int rc = sj_case_check_submit(&one, &err);
    if (rc != 0)
        sj_refusal_format(rc, err.message, why, cap);
    return rc;
}

/* The form's fields checked as 保存 would send them, each bad one marked
 * in red with what to do; id_norm gets the ID number as stored.  Returns
 * the first bad field (where the focus goes), or NULL when all are good. */
static GtkWidget *check_form(DeskRegisterForm *f, const char *name, const char *text,
                             char id_norm[SJ_PERSONAL_ID_SIZE])
{
    GtkWidget *first_bad = NULL;
    if (!f->item_code) {
        field_error(f->item_error, f->items, _("Pick the matter from the catalogue."));
        first_bad = f->search;
    }
    if (sj_utf8_blank(name)) {
        field_error(f->name_error, f->name, _("Type the applicant's name."));
        first_bad = first_bad ? first_bad : f->name;
    }
    if (!check_id(f, true))
        first_bad = first_bad ? first_bad : f->id;
    if (!check_phone(f, true))
        first_bad = first_bad ? first_bad : f->phone;
    if (sj_utf8_blank(text)) {
        field_error(f->text_error, f->text, _("Write down what the villager asks for."));
        first_bad = first_bad ? first_bad : f->text;
    }
    sj_error err;
    sj_personal_check_id(gtk_editable_get_text(GTK_EDITABLE(f->id)), id_norm, &err);
    sj_submit sub = {.applicant_name = name,
                     .id_number = id_norm,
                     .phone = gtk_editable_get_text(GTK_EDITABLE(f->phone)),
                     .request_text = text};
    char why[SJ_ERROR_MESSAGE_MAX];
    if (!sj_utf8_blank(name) && submit_rule(&sub, true, why, sizeof(why)) != 0) {
        field_error(f->name_error, f->name, why);
        first_bad = first_bad ? first_bad : f->name;
    }
    if (!sj_utf8_blank(text) && submit_rule(&sub, false, why, sizeof(why)) != 0) {
        field_error(f->text_error, f->text, why);
        first_bad = first_bad ? first_bad : f->text;
    }
    return first_bad;
}

static void on_save(GtkButton *button, gpointer data)
{
    DeskRegisterForm *f = data;
    /* Spaces typed around the name are not part of it; whether anything is
     * left is the one blank rule (NBSP and U+3000 are blank too). */
    g_autofree char *name = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(f->name))));
    g_autofree char *text = desk_text_view_get(f->text);
    char id_norm[SJ_PERSONAL_ID_SIZE] = "";
    GtkWidget *first_bad = check_form(f, name, text, id_norm);
    if (first_bad) {
        set_message(f, _("Not saved yet: correct the fields marked in red."), true);
        gtk_widget_grab_focus(first_bad);
        g_idle_add_full(G_PRIORITY_LOW, show_message, g_object_ref(f), NULL);
        return;
    }
    sc_register_req req = {
        .item_code = f->item_code,
        .applicant_name = name,
        .id_number = id_norm,
        .phone = gtk_editable_get_text(GTK_EDITABLE(f->phone)),
        .request_text = text,
        .urgent = gtk_check_button_get_active(GTK_CHECK_BUTTON(f->urgent)),
        .no_notify = gtk_check_button_get_active(GTK_CHECK_BUTTON(f->no_notify)),
    };
    uint8_t case_id[16];
    sj_error err;
    int rc = sc_register(desk_window_client(f->win), &req, case_id, NULL, &err);
    if (rc != 0) {
        /* The library checks again (and more); put its answer where it belongs. */
        if (rc == SJ_EBAD_ID_NUMBER)
            field_error(f->id_error, f->id, err.message);
        else if (rc == SJ_EBAD_PHONE)
            field_error(f->phone_error, f->phone, err.message);
        else if (rc == SJ_EUNKNOWN_ITEM)
            field_error(f->item_error, f->items, err.message);
        /* Translators: %s says why saving failed and what to do. */
        g_autofree char *t = g_strdup_printf(_("Not saved: %s The text stays here; nothing is lost."), err.message);
        set_message(f, t, true);
        g_idle_add_full(G_PRIORITY_LOW, show_message, g_object_ref(f), NULL);
        return;
    }
    guint not_attached = attach_files(f, case_id);
    if (f->draft && desk_draft_clear(f->draft, &err) != 0)
        g_warning("%s", err.message);
    clear_form(f);
    g_autofree char *stuck = desk_window_undeliverable_text(f->win);
    set_message(f, stuck ? stuck : _("Saved on this computer. It is sent by itself; the case page shows when it reaches the township and the county."),
                stuck != NULL);
    if (not_attached == 0) /* else the banner keeps which file was not attached */
        desk_window_notify_saved(f->win);
    desk_window_refresh_soon(f->win);
    desk_window_open_case(f->win, case_id);
}

static void on_clear(GtkButton *b, gpointer data)
{
    DeskRegisterForm *f = data;
    sj_error err;
    if (f->draft && desk_draft_clear(f->draft, &err) != 0)
        desk_window_show_error(f->win, NULL, &err);
    clear_form(f);
    set_message(f, "", false);
}

static void restore_draft(DeskRegisterForm *f)
{
    if (!f->draft || desk_draft_is_empty(f->draft))
        return;
    f->restoring = true;
    const char *item = desk_draft_get(f->draft, "item");
    if (*item)
        f->item_code = g_strdup(item);
    gtk_editable_set_text(GTK_EDITABLE(f->name), desk_draft_get(f->draft, "name"));
    gtk_editable_set_text(GTK_EDITABLE(f->id), desk_draft_get(f->draft, "id"));
    gtk_editable_set_text(GTK_EDITABLE(f->phone), desk_draft_get(f->draft, "phone"));
    gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(f->text)),
                             desk_draft_get(f->draft, "text"), -1);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(f->urgent), *desk_draft_get(f->draft, "urgent"));
    gtk_check_button_set_active(GTK_CHECK_BUTTON(f->no_notify),
                                *desk_draft_get(f->draft, "no_notify"));
    f->restoring = false;
    set_message(f, _("The form you had not saved last time is back. Check it and press Save."), false);
}

static void desk_register_form_finalize(GObject *obj)
{
    DeskRegisterForm *f = DESK_REGISTER_FORM(obj);
    g_ptr_array_unref(f->category_codes);
    g_ptr_array_unref(f->files);
    g_free(f->item_code);
    desk_draft_free(f->draft);
    G_OBJECT_CLASS(desk_register_form_parent_class)->finalize(obj);
}

static void desk_register_form_class_init(DeskRegisterFormClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = desk_register_form_finalize;
}

static void desk_register_form_init(DeskRegisterForm *f)
{
    f->category_codes = g_ptr_array_new_with_free_func(g_free);
    f->files = g_ptr_array_new_with_free_func(chosen_file_free);
}

/* Measured once the label is in the window, with the fonts and the style
 * it will use (measured earlier, an error line came out 2 px short): a line
 * of Chinese and Latin letters, the two fonts a message mixes. */
static void on_label_realize(GtkWidget *l, gpointer data)
{
    int lines = GPOINTER_TO_INT(data);
    PangoLayout *layout = gtk_widget_create_pango_layout(l, "国Ag");
    int h = 0;
    pango_layout_get_pixel_size(layout, NULL, &h);
    g_object_unref(layout);
    gtk_widget_set_size_request(l, -1, h * lines);
}

/* Keeps the height of `lines` lines of text for l, empty or not; a longer
 * text is cut with "…" (the tooltip has it whole). */
static void keep_lines(GtkWidget *l, int lines)
{
    gtk_label_set_lines(GTK_LABEL(l), lines);
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
    gtk_label_set_yalign(GTK_LABEL(l), 0);
    g_signal_connect(l, "realize", G_CALLBACK(on_label_realize), GINT_TO_POINTER(lines));
}

/* A field's error line: there all the time, `lines` lines high (see
 * field_error()). */
static GtkWidget *error_label(int lines)
{
    GtkWidget *l = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_label_set_wrap(GTK_LABEL(l), lines > 1);
    gtk_widget_add_css_class(l, "error-text");
    keep_lines(l, lines);
    return l;
}

/* error_lines: the lines kept for its error (the ID number's and the
 * phone's explain what to check, and take two). */
static GtkWidget *entry_field(DeskRegisterForm *f, GtkWidget *box, const char *label,
                              const char *placeholder, const char *key, int error_lines,
                              GtkWidget **error)
{
    GtkWidget *l = gtk_label_new(label);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_widget_add_css_class(l, "field-label");
    GtkWidget *e = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(e), placeholder);
    g_object_set_data(G_OBJECT(e), "draft-key", (gpointer)key);
    gtk_accessible_update_property(GTK_ACCESSIBLE(e), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
    *error = error_label(error_lines);
    gtk_box_append(GTK_BOX(box), l);
    gtk_box_append(GTK_BOX(box), e);
    gtk_box_append(GTK_BOX(box), *error);
    return e;
}

/* The left column: the catalogue (category, search, items, the chosen
 * item's details). */
static GtkWidget *catalogue_column(DeskRegisterForm *f)
{
    GtkWidget *left = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    gtk_widget_set_hexpand(left, true);
    GtkWidget *t1 = gtk_label_new(_("1. Which matter?"));
    gtk_widget_add_css_class(t1, "title-3");
    gtk_label_set_xalign(GTK_LABEL(t1), 0);
    f->category = gtk_drop_down_new(NULL, NULL);
    f->search = gtk_search_entry_new();
    g_object_set(f->search, "placeholder-text", _("Search: e.g. 低保, 医保, 户口"), NULL);
    f->items = gtk_list_box_new();
    gtk_widget_add_css_class(f->items, "boxed-list");
    GtkWidget *scroll = gtk_scrolled_window_new();
    /* Rows fit the width (a long name is cut, its code never is). */
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), f->items);
    gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroll), 220);
    gtk_widget_set_vexpand(scroll, true);
    f->item_error = error_label(1);
    f->detail = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(f->detail), true);
    gtk_label_set_xalign(GTK_LABEL(f->detail), 0);
    gtk_widget_add_css_class(f->detail, "item-detail");
    gtk_box_append(GTK_BOX(left), t1);
    gtk_box_append(GTK_BOX(left), f->category);
    gtk_box_append(GTK_BOX(left), f->search);
    gtk_box_append(GTK_BOX(left), scroll);
    gtk_box_append(GTK_BOX(left), f->item_error);
    gtk_box_append(GTK_BOX(left), f->detail);
    return left;
}

/* The right column: the applicant, the request, urgent, 不通知, the
 * attachments, 保存 and 清空. */
static GtkWidget *request_column(DeskRegisterForm *f)
{
    GtkWidget *right = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_set_hexpand(right, true);
    GtkWidget *t2 = gtk_label_new(_("2. Who asks, and what for?"));
    gtk_widget_add_css_class(t2, "title-3");
    gtk_label_set_xalign(GTK_LABEL(t2), 0);
    gtk_box_append(GTK_BOX(right), t2);
    f->name = entry_field(f, right, _("Applicant's name"), _("e.g. 张建国"), "name", 1, &f->name_error);
    /* The example must pass the check it illustrates: its check character
     * is computed by the rule of common/domain/personal.h. */
    char example[SJ_PERSONAL_ID_SIZE] = "41042319800101123";
    example[17] = sj_personal_id_check_char(example);
    example[18] = '\0';
    /* Translators: placeholder of the ID number; %s is a valid example. */
    g_autofree char *id_hint = g_strdup_printf(_("e.g. %s"), example);
    f->id = entry_field(f, right, _("ID number (18 characters)"), id_hint, "id", 2, &f->id_error);
    gtk_entry_set_max_length(GTK_ENTRY(f->id), 18);
    f->phone = entry_field(f, right, _("Phone"), _("mobile 13812345678 or 0375-5012345"), "phone", 2,
                           &f->phone_error);
    gtk_entry_set_max_length(GTK_ENTRY(f->phone), 20);
    GtkWidget *lt = gtk_label_new(_("What the villager asks for"));
    gtk_label_set_xalign(GTK_LABEL(lt), 0);
    gtk_widget_add_css_class(lt, "field-label");
    f->text = gtk_text_view_new();
    gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(f->text), GTK_WRAP_WORD_CHAR);
    gtk_widget_add_css_class(f->text, "request-text");
    gtk_widget_set_size_request(f->text, -1, 110);
    gtk_accessible_update_property(GTK_ACCESSIBLE(f->text), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("What the villager asks for"), -1);
    f->text_error = error_label(1);
    f->urgent = gtk_check_button_new_with_label(_("Urgent (green channel, shorter time limit)"));
    f->no_notify =
        gtk_check_button_new_with_label(_("Do not notify: send the villager no messages (不通知)"));
    /* 添加附件: photos and scans saved with the case (optional). */
    GtkWidget *attach_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    f->attach = gtk_button_new_with_label(_("Add attachments…"));
    GtkWidget *attach_hint = gtk_label_new(_("Photos or scans of the materials (JPEG, PNG, PDF), saved with the case; optional."));
    gtk_label_set_wrap(GTK_LABEL(attach_hint), true);
    gtk_label_set_xalign(GTK_LABEL(attach_hint), 0);
    gtk_widget_set_hexpand(attach_hint, true);
    gtk_widget_add_css_class(attach_hint, "dim-label");
    gtk_box_append(GTK_BOX(attach_row), f->attach);
    gtk_box_append(GTK_BOX(attach_row), attach_hint);
    f->attach_list = gtk_list_box_new();
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(f->attach_list), GTK_SELECTION_NONE);
    gtk_widget_add_css_class(f->attach_list, "boxed-list");
    gtk_widget_set_visible(f->attach_list, false);
    f->attach_error = error_label(2);
    GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    f->save = gtk_button_new_with_label(_("Save"));
    gtk_widget_add_css_class(f->save, "suggested-action");
    gtk_widget_add_css_class(f->save, "big-button");
    GtkWidget *clear = gtk_button_new_with_label(_("Clear the form"));
    gtk_box_append(GTK_BOX(buttons), f->save);
    gtk_box_append(GTK_BOX(buttons), clear);
    gtk_box_append(GTK_BOX(right), lt);
    gtk_box_append(GTK_BOX(right), f->text);
    gtk_box_append(GTK_BOX(right), f->text_error);
    gtk_box_append(GTK_BOX(right), f->urgent);
    gtk_box_append(GTK_BOX(right), f->no_notify);
    gtk_box_append(GTK_BOX(right), attach_row);
    gtk_box_append(GTK_BOX(right), f->attach_list);
    gtk_box_append(GTK_BOX(right), f->attach_error);
    gtk_box_append(GTK_BOX(right), buttons);
    g_signal_connect(clear, "clicked", G_CALLBACK(on_clear), f);
    return right;
}

DeskRegisterForm *desk_register_form_new(DeskWindow *w)
{
    DeskRegisterForm *f = g_object_new(DESK_TYPE_REGISTER_FORM, "orientation",
                                       GTK_ORIENTATION_VERTICAL, "spacing", 8, NULL);
    f->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(f), "page");
    /* The summary first, where it is seen (and scrolled to) after 保存. */
    f->message = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(f->message), true);
    gtk_label_set_xalign(GTK_LABEL(f->message), 0);
    keep_lines(f->message, MESSAGE_LINES);
    set_message(f, "", false);
    gtk_box_append(GTK_BOX(f), f->message);
    /* Two equal columns: the list's long names must not take the width
     * from the applicant's fields. */
    GtkWidget *columns = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 24);
    gtk_box_set_homogeneous(GTK_BOX(columns), true);
    gtk_box_append(GTK_BOX(f), columns);

    GtkWidget *left = catalogue_column(f);
    GtkWidget *right = request_column(f);
    gtk_box_append(GTK_BOX(columns), left);
    gtk_box_append(GTK_BOX(columns), right);

    if (desk_window_store_path(w)) {
        g_autofree char *path = desk_draft_path(desk_window_store_path(w), "register");
        f->draft = desk_draft_open(path);
    }
    restore_draft(f);
    desk_register_form_reload_catalogue(f);

    g_signal_connect(f->category, "notify::selected", G_CALLBACK(on_filter_changed), f);
    /* "changed", not "search-changed": filtering 100-odd items is instant, and the
     * list must never lag behind the words a cadre sees in the box. */
    g_signal_connect(f->search, "changed", G_CALLBACK(on_search_changed), f);
    g_signal_connect(f->items, "row-selected", G_CALLBACK(on_item_selected), f);
    g_signal_connect(f->name, "changed", G_CALLBACK(on_entry_changed), f);
    g_signal_connect(f->id, "changed", G_CALLBACK(on_entry_changed), f);
    g_signal_connect(f->phone, "changed", G_CALLBACK(on_entry_changed), f);
    g_signal_connect(gtk_text_view_get_buffer(GTK_TEXT_VIEW(f->text)), "changed",
                     G_CALLBACK(on_text_changed), f);
    g_signal_connect(f->urgent, "toggled", G_CALLBACK(on_urgent_toggled), f);
    g_signal_connect(f->no_notify, "toggled", G_CALLBACK(on_no_notify_toggled), f);
    g_signal_connect(f->attach, "clicked", G_CALLBACK(on_attach), f);
    g_signal_connect(f->save, "clicked", G_CALLBACK(on_save), f);

    desk_window_register(w, "register.category", f->category);
    desk_window_register(w, "register.search", f->search);
    desk_window_register(w, "register.items", f->items);
    desk_window_register(w, "register.detail", f->detail);
    desk_window_register(w, "register.item.error", f->item_error);
    desk_window_register(w, "register.name", f->name);
    desk_window_register(w, "register.name.error", f->name_error);
    desk_window_register(w, "register.id", f->id);
    desk_window_register(w, "register.id.error", f->id_error);
    desk_window_register(w, "register.phone", f->phone);
    desk_window_register(w, "register.phone.error", f->phone_error);
    desk_window_register(w, "register.text", f->text);
    desk_window_register(w, "register.text.error", f->text_error);
    desk_window_register(w, "register.urgent", f->urgent);
    desk_window_register(w, "register.no_notify", f->no_notify);
    desk_window_register(w, "register.attach", f->attach);
    desk_window_register(w, "register.attachments", f->attach_list);
    desk_window_register(w, "register.attach.error", f->attach_error);
    desk_window_register(w, "register.save", f->save);
    desk_window_register(w, "register.message", f->message);
    return f;
}
