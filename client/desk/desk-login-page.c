/*
 * desk-login-page.c - log in (see desk-login-page.h).
 *
 * Entry points: desk_login_page_new(), desk_login_page_reset(),
 * desk_login_page_reload_persons(), desk_login_page_update_link().
 */
#include "desk-login-page.h"

#include <stdlib.h>
#include <string.h>

#include "desk-draft.h"
#include "desk-passwd.h"
#include "i18n.h"

#define RECENT_MAX 6

struct _DeskLoginPage {
    GtkBox parent;
    DeskWindow *win;
    GtkWidget *person, *password, *submit, *message, *spinner;
    GtkWidget *refusal;    /* the link's lasting refusal and what to do; hidden when none */
    GtkWidget *names;      /* GtkFlowBox: one child per name, its label is the name */
    GtkWidget *names_hint; /* shown while this node has no person list */
    desk_draft *state;   /* "recent": names that logged in here, newest first, one per line */
    bool busy;
    /* A password the county set is replaced before anything else: the
     * login part is hidden and the change form shown (desk-passwd.h). */
    GtkWidget *login_part, *change, *change_note;
    char *typed;         /* the password typed, until the check is done */
};

G_DEFINE_TYPE(DeskLoginPage, desk_login_page, GTK_TYPE_BOX)

static void set_message(DeskLoginPage *p, const char *text, bool error)
{
    gtk_label_set_text(GTK_LABEL(p->message), text);
    if (error)
        gtk_widget_add_css_class(p->message, "error-text");
    else
        gtk_widget_remove_css_class(p->message, "error-text");
}

static void on_name_activated(GtkFlowBox *box, GtkFlowBoxChild *child, gpointer data)
{
    DeskLoginPage *p = data;
    GtkWidget *label = gtk_flow_box_child_get_child(child);
    gtk_editable_set_text(GTK_EDITABLE(p->person), gtk_label_get_text(GTK_LABEL(label)));
    gtk_widget_grab_focus(p->password);
}

static void add_name(DeskLoginPage *p, GHashTable *seen, const char *name)
{
    if (!name || !*name || g_hash_table_contains(seen, name))
        return;
    g_hash_table_add(seen, g_strdup(name));
    GtkWidget *l = gtk_label_new(name);
    gtk_widget_add_css_class(l, "person-name");
    gtk_flow_box_append(GTK_FLOW_BOX(p->names), l);
}

/* The names offered for one click: the persons of this node from the
 * library's list (sc_persons), those who logged in here recently first.
 * Recent names no longer in the list are not offered: they cannot log in. */
static void fill_names(DeskLoginPage *p)
{
    GtkWidget *child; /* gtk_flow_box_remove_all() is GTK 4.12; Debian 12 has 4.8 */
    while ((child = gtk_widget_get_first_child(p->names)))
        gtk_flow_box_remove(GTK_FLOW_BOX(p->names), child);
    sc_person_entry *persons = NULL;
    size_t n = 0;
    sj_error err;
    if (sc_persons(desk_window_client(p->win), &persons, &n, &err) != 0) {
        g_warning("%s", err.message); /* only a convenience; typing the name still works */
        n = 0;
    }
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < n; i++)
        g_hash_table_add(listed, (gpointer)persons[i].name);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (p->state) {
        g_auto(GStrv) recent = g_strsplit(desk_draft_get(p->state, "recent"), "\n", -1);
        for (int i = 0; recent[i]; i++)
            if (g_hash_table_contains(listed, recent[i]))
                add_name(p, seen, recent[i]);
    }
    for (size_t i = 0; i < n; i++)
        add_name(p, seen, persons[i].name);
    free(persons);
    gtk_widget_set_visible(p->names, n > 0);
    gtk_widget_set_visible(p->names_hint, n == 0);
}

static void remember(DeskLoginPage *p, const char *name)
{
    if (!p->state)
        return;
    g_auto(GStrv) old = g_strsplit(desk_draft_get(p->state, "recent"), "\n", -1);
    GString *s = g_string_new(name);
    int n = 1;
    for (int i = 0; old[i] && n < RECENT_MAX; i++) {
        if (!*old[i] || strcmp(old[i], name) == 0)
            continue;
        g_string_append_printf(s, "\n%s", old[i]);
        n++;
    }
    sj_error err;
    if (desk_draft_set(p->state, "recent", s->str, &err) != 0)
        g_warning("%s", err.message); /* only a convenience; logging in goes on */
    g_string_free(s, TRUE);
    fill_names(p);
}

static void set_busy(DeskLoginPage *p, bool busy)
{
    p->busy = busy;
    gtk_widget_set_sensitive(p->submit, !busy);
    gtk_spinner_set_spinning(GTK_SPINNER(p->spinner), busy);
}

static void typed_free(DeskLoginPage *p)
{
    if (p->typed) {
        explicit_bzero(p->typed, strlen(p->typed));
        g_free(p->typed);
        p->typed = NULL;
    }
}

/* The login part or the forced change of a password the county set. */
static void show_change(DeskLoginPage *p, bool change)
{
    gtk_widget_set_visible(p->login_part, !change);
    gtk_widget_set_visible(p->change, change);
    gtk_widget_set_visible(p->change_note, change);
    if (!change)
        desk_passwd_form_set_current(p->change, NULL);
}

static void on_changed(gpointer data)
{
    DeskLoginPage *p = data;
    show_change(p, false);
    desk_passwd_form_reset(p->change);
    desk_window_logged_in(p->win);
}

static void on_login_done(sc_client *c, int status, const sj_error *err, void *data)
{
    DeskLoginPage *p = data;
    if (gtk_widget_get_root(GTK_WIDGET(p))) {
        set_busy(p, false);
        gtk_editable_set_text(GTK_EDITABLE(p->password), "");
        const Sanji__Person *who = status == 0 ? sc_person(c) : NULL;
        if (status == 0 && who && sc_must_change_password(c, who->id)) {
            set_message(p, "", false);
            remember(p, gtk_editable_get_text(GTK_EDITABLE(p->person)));
            desk_passwd_form_set_current(p->change, p->typed);
            show_change(p, true);
        } else if (status == 0) {
            set_message(p, "", false);
            remember(p, gtk_editable_get_text(GTK_EDITABLE(p->person)));
            desk_window_logged_in(p->win);
        } else if (status == SJ_EAUTH) {
            set_message(p, _("Wrong name or password. Check the name and type the password again."), true);
        } else {
            set_message(p, err && err->message[0] ? err->message : sj_err_text(status), true);
        }
    }
    typed_free(p);
    g_object_unref(p);
}

static void on_submit(GtkWidget *widget, gpointer data)
{
    DeskLoginPage *p = data;
    if (p->busy)
        return;
    g_autofree char *name = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(p->person))));
    const char *pw = gtk_editable_get_text(GTK_EDITABLE(p->password));
    if (!*name) {
        set_message(p, _("Type your name (or pick it above)."), true);
        gtk_widget_grab_focus(p->person);
        return;
    }
    if (!*pw) {
        set_message(p, _("Type your password."), true);
        gtk_widget_grab_focus(p->password);
        return;
    }
    gtk_editable_set_text(GTK_EDITABLE(p->person), name);
    sj_error err;
    int rc = sc_login(desk_window_client(p->win), name, pw, on_login_done, g_object_ref(p), &err);
    if (rc != 0) {
        g_object_unref(p);
        if (rc == SJ_EUNKNOWN_PERSON)
            set_message(p, _("This station has not received its list of persons yet. Wait until the bar above says Online, then log in again."), true);
        else
            set_message(p, err.message, true);
        return;
    }
    typed_free(p);
    p->typed = g_strdup(pw);
    set_message(p, _("Checking…"), false);
    set_busy(p, true);
}

void desk_login_page_update_link(DeskLoginPage *p)
{
    /* Logging in still works (offline, from the cached verifiers); the
     * cadre must know before starting work that nothing will go out. */
    int code = sc_lasting_refusal(desk_window_client(p->win));
    gtk_label_set_text(GTK_LABEL(p->refusal), code ? sc_lasting_advice(code) : "");
    gtk_widget_set_visible(p->refusal, code != 0);
}

void desk_login_page_reset(DeskLoginPage *p)
{
    show_change(p, false);
    desk_passwd_form_reset(p->change);
    gtk_editable_set_text(GTK_EDITABLE(p->password), "");
    set_message(p, "", false);
    fill_names(p);
}

void desk_login_page_reload_persons(DeskLoginPage *p)
{
    fill_names(p);
    /* The list may have just arrived: the "not received yet" message is stale. */
    if (gtk_widget_has_css_class(p->message, "error-text") && gtk_widget_get_visible(p->names))
        set_message(p, "", false);
}

static void desk_login_page_finalize(GObject *obj)
{
    DeskLoginPage *p = DESK_LOGIN_PAGE(obj);
    typed_free(p);
    desk_draft_free(p->state);
    G_OBJECT_CLASS(desk_login_page_parent_class)->finalize(obj);
}

static void desk_login_page_class_init(DeskLoginPageClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = desk_login_page_finalize;
}

static void desk_login_page_init(DeskLoginPage *p)
{
}

static const char *role_text(sj_node_role r)
{
    switch (r) {
    case SJ_NODE_ROLE_VILLAGE: return _("Village service station");
    case SJ_NODE_ROLE_TOWNSHIP_DESK: return _("Township service centre");
    case SJ_NODE_ROLE_COUNTY_DESK: return _("County service centre");
    case SJ_NODE_ROLE_DEPARTMENT_DESK: return _("County department");
    default: return "";
    }
}

/* The name (picked from the station's persons or typed), the password and
 * 登录, in p->login_part.  The names to pick come before the name box, so
 * that Tab goes from the name straight to the password (the focus follows
 * this order): a password typed after Tab must not land on a name button
 * and be lost. */
static void build_login_part(DeskLoginPage *p)
{
    GtkWidget *l1 = gtk_label_new(_("Name"));
    gtk_label_set_xalign(GTK_LABEL(l1), 0);
    p->person = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(p->person), _("Your name, e.g. 王秀英"));
    p->names = gtk_flow_box_new();
    gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(p->names), GTK_SELECTION_NONE);
    gtk_flow_box_set_activate_on_single_click(GTK_FLOW_BOX(p->names), true);
    gtk_flow_box_set_max_children_per_line(GTK_FLOW_BOX(p->names), 6);
    gtk_flow_box_set_homogeneous(GTK_FLOW_BOX(p->names), true);
    gtk_flow_box_set_column_spacing(GTK_FLOW_BOX(p->names), 8);
    gtk_flow_box_set_row_spacing(GTK_FLOW_BOX(p->names), 8);
    gtk_widget_set_halign(p->names, GTK_ALIGN_START);
    gtk_widget_add_css_class(p->names, "person-names");
    g_signal_connect(p->names, "child-activated", G_CALLBACK(on_name_activated), p);
    p->names_hint = gtk_label_new(_("The list of persons of this station has not arrived yet; it comes with the first connection."));
    gtk_label_set_wrap(GTK_LABEL(p->names_hint), true);
    gtk_label_set_xalign(GTK_LABEL(p->names_hint), 0);
    gtk_widget_add_css_class(p->names_hint, "dim-label");
    GtkWidget *l2 = gtk_label_new(_("Password"));
    gtk_label_set_xalign(GTK_LABEL(l2), 0);
    p->password = gtk_password_entry_new();
    gtk_password_entry_set_show_peek_icon(GTK_PASSWORD_ENTRY(p->password), true);
    p->submit = gtk_button_new_with_label(_("Log in"));
    gtk_widget_add_css_class(p->submit, "suggested-action");
    gtk_widget_add_css_class(p->submit, "big-button");
    g_signal_connect(p->submit, "clicked", G_CALLBACK(on_submit), p);
    g_signal_connect(p->password, "activate", G_CALLBACK(on_submit), p);
    g_signal_connect_swapped(p->person, "activate", G_CALLBACK(gtk_widget_grab_focus), p->password);

    p->login_part = gtk_box_new(GTK_ORIENTATION_VERTICAL, 14);
    GtkBox *lp = GTK_BOX(p->login_part);
    gtk_box_append(lp, l1);
    gtk_box_append(lp, p->names);
    gtk_box_append(lp, p->names_hint);
    gtk_box_append(lp, p->person);
    gtk_box_append(lp, l2);
    gtk_box_append(lp, p->password);
    gtk_box_append(lp, p->submit);
}

DeskLoginPage *desk_login_page_new(DeskWindow *w)
{
    DeskLoginPage *p = g_object_new(DESK_TYPE_LOGIN_PAGE, "orientation", GTK_ORIENTATION_VERTICAL,
                                    "spacing", 14, NULL);
    p->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(p), "login");
    gtk_widget_set_halign(GTK_WIDGET(p), GTK_ALIGN_CENTER);
    gtk_widget_set_valign(GTK_WIDGET(p), GTK_ALIGN_CENTER);
    gtk_widget_set_size_request(GTK_WIDGET(p), 420, -1);

    const sj_identity *node = sc_client_node(desk_window_client(w));
    GtkWidget *title = gtk_label_new(_("Sanji proxy service"));
    gtk_widget_add_css_class(title, "title-1");
    g_autofree char *where = g_strdup_printf("%s  %s%s%s", role_text(node->role), node->unit,
                                             node->name[0] ? " · " : "", node->name);
    GtkWidget *station = gtk_label_new(where);
    gtk_widget_add_css_class(station, "dim-label");

    p->spinner = gtk_spinner_new();
    p->message = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(p->message), true);
    gtk_label_set_max_width_chars(GTK_LABEL(p->message), 40);
    p->refusal = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(p->refusal), true);
    gtk_label_set_max_width_chars(GTK_LABEL(p->refusal), 40);
    gtk_label_set_xalign(GTK_LABEL(p->refusal), 0);
    gtk_widget_add_css_class(p->refusal, "error-text");
    GtkWidget *hint = gtk_label_new(_("Logging in works without a network connection too."));
    gtk_widget_add_css_class(hint, "dim-label");

    GtkBox *b = GTK_BOX(p);
    gtk_box_append(b, title);
    gtk_box_append(b, station);
    gtk_box_append(b, p->refusal);
    build_login_part(p);
    gtk_box_append(b, p->login_part);
    p->change_note = gtk_label_new(_("The county set this password: choose a new one now, before anything else."));
    gtk_label_set_wrap(GTK_LABEL(p->change_note), true);
    gtk_label_set_xalign(GTK_LABEL(p->change_note), 0);
    p->change = desk_passwd_form_new(w, "login.change", on_changed, p);
    gtk_box_append(b, p->change_note);
    gtk_box_append(b, p->change);
    show_change(p, false);
    gtk_box_append(b, p->spinner);
    gtk_box_append(b, p->message);
    gtk_box_append(b, hint);

    if (desk_window_store_path(w)) {
        g_autofree char *path = desk_draft_path(desk_window_store_path(w), "desk");
        p->state = desk_draft_open(path);
    }
    fill_names(p);
    desk_login_page_update_link(p);
    desk_window_register(w, "login.person", p->person);
    desk_window_register(w, "login.persons", p->names);
    desk_window_register(w, "login.password", p->password);
    desk_window_register(w, "login.submit", p->submit);
    desk_window_register(w, "login.message", p->message);
    desk_window_register(w, "login.refusal", p->refusal);
    return p;
}
