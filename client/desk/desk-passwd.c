/*
 * desk-passwd.c - the password change form and its window (see
 * desk-passwd.h).
 *
 * Entry points: desk_passwd_form_new(), desk_passwd_form_set_current(),
 * desk_passwd_form_reset(), desk_passwd_window_open().
 */
#include "desk-passwd.h"

#include <string.h>

#include "i18n.h"
#include "password.h"

typedef struct passwd_form {
    DeskWindow *win;
    GtkWidget *box, *current_label, *current, *fresh, *again, *submit, *message;
    char *known; /* the current password when given (login); NULL */
    desk_passwd_done_fn done;
    gpointer data;
    bool busy;
} passwd_form;

#define FORM_KEY "desk-passwd-form"

static void known_free(passwd_form *f)
{
    if (f->known) {
        explicit_bzero(f->known, strlen(f->known));
        g_free(f->known);
        f->known = NULL;
    }
}

static void form_free(gpointer data)
{
    passwd_form *f = data;
    known_free(f);
    g_free(f);
}

static void set_message(passwd_form *f, const char *text, bool error)
{
    gtk_label_set_text(GTK_LABEL(f->message), text);
    if (error)
        gtk_widget_add_css_class(f->message, "error-text");
    else
        gtk_widget_remove_css_class(f->message, "error-text");
}

static void on_changed(sc_client *c, int status, const sj_error *err, void *data)
{
    GtkWidget *box = data;
    passwd_form *f = g_object_get_data(G_OBJECT(box), FORM_KEY);
    (void)c;
    if (f && gtk_widget_get_root(box)) {
        f->busy = false;
        gtk_widget_set_sensitive(f->submit, true);
        gtk_editable_set_text(GTK_EDITABLE(f->current), "");
        gtk_editable_set_text(GTK_EDITABLE(f->fresh), "");
        gtk_editable_set_text(GTK_EDITABLE(f->again), "");
        if (status == 0) {
            set_message(f, _("Password changed; the new one counts at this station now."), false);
            known_free(f);
            if (f->done)
                f->done(f->data);
        } else {
            set_message(f, err && err->message[0] ? err->message : sj_err_text(status), true);
        }
    }
    g_object_unref(box);
}

static void on_submit(GtkWidget *widget, gpointer data)
{
    passwd_form *f = data;
    (void)widget;
    if (f->busy)
        return;
    const char *cur = f->known ? f->known : gtk_editable_get_text(GTK_EDITABLE(f->current));
    const char *a = gtk_editable_get_text(GTK_EDITABLE(f->fresh));
    const char *b = gtk_editable_get_text(GTK_EDITABLE(f->again));
    sj_error err;
    if (!*cur) {
        set_message(f, _("Type your current password."), true);
        return;
    }
    if (strcmp(a, b) != 0) {
        set_message(f, _("The two new passwords differ."), true);
        return;
    }
    if (sj_password_strength(a, &err) != 0) {
        set_message(f, err.message, true);
        return;
    }
    if (sc_change_password(desk_window_client(f->win), cur, a, on_changed, g_object_ref(f->box),
                           &err) != 0) {
        g_object_unref(f->box);
        set_message(f, err.message, true);
        return;
    }
    f->busy = true;
    gtk_widget_set_sensitive(f->submit, false);
    set_message(f, _("Checking…"), false);
}

static GtkWidget *labelled(GtkBox *box, const char *text, GtkWidget **label)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    GtkWidget *e = gtk_password_entry_new();
    gtk_password_entry_set_show_peek_icon(GTK_PASSWORD_ENTRY(e), true);
    gtk_box_append(box, l);
    gtk_box_append(box, e);
    if (label)
        *label = l;
    return e;
}

GtkWidget *desk_passwd_form_new(DeskWindow *w, const char *prefix, desk_passwd_done_fn done,
                                gpointer data)
{
    passwd_form *f = g_new0(passwd_form, 1);
    f->win = w;
    f->done = done;
    f->data = data;
    f->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    g_object_set_data_full(G_OBJECT(f->box), FORM_KEY, f, form_free);
    GtkBox *b = GTK_BOX(f->box);
    f->current = labelled(b, _("Current password"), &f->current_label);
    f->fresh = labelled(b, _("New password"), NULL);
    f->again = labelled(b, _("New password again"), NULL);
    GtkWidget *rules =
        gtk_label_new(_("At least 8 characters, with two of: letters, digits, other characters."));
    gtk_label_set_wrap(GTK_LABEL(rules), true);
    gtk_label_set_xalign(GTK_LABEL(rules), 0);
    gtk_widget_add_css_class(rules, "dim-label");
    gtk_box_append(b, rules);
    f->submit = gtk_button_new_with_label(_("Change password"));
    gtk_widget_add_css_class(f->submit, "suggested-action");
    gtk_box_append(b, f->submit);
    f->message = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(f->message), true);
    gtk_label_set_max_width_chars(GTK_LABEL(f->message), 40);
    gtk_box_append(b, f->message);
    g_signal_connect(f->submit, "clicked", G_CALLBACK(on_submit), f);
    g_signal_connect(f->again, "activate", G_CALLBACK(on_submit), f);
    static const char *const parts[] = {"current", "new", "again", "submit", "message"};
    GtkWidget *widgets[] = {f->current, f->fresh, f->again, f->submit, f->message};
    for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) {
        g_autofree char *name = g_strdup_printf("%s.%s", prefix, parts[i]);
        desk_window_register(w, name, widgets[i]);
    }
    return f->box;
}

void desk_passwd_form_set_current(GtkWidget *form, const char *password)
{
    passwd_form *f = g_object_get_data(G_OBJECT(form), FORM_KEY);
    known_free(f);
    f->known = password ? g_strdup(password) : NULL;
    gtk_widget_set_visible(f->current, !password);
    gtk_widget_set_visible(f->current_label, !password);
}

void desk_passwd_form_reset(GtkWidget *form)
{
    passwd_form *f = g_object_get_data(G_OBJECT(form), FORM_KEY);
    gtk_editable_set_text(GTK_EDITABLE(f->current), "");
    gtk_editable_set_text(GTK_EDITABLE(f->fresh), "");
    gtk_editable_set_text(GTK_EDITABLE(f->again), "");
    set_message(f, "", false);
}

static void window_done(gpointer data)
{
    GtkWindow *win = data;
    DeskWindow *w = DESK_WINDOW(gtk_window_get_transient_for(win));
    desk_window_notify(w, _("Password changed; the new one counts at this station now."), false);
    gtk_widget_set_visible(GTK_WIDGET(win), false);
}

/* One window per main window, hidden when closed: its widgets stay
 * registered for the test script (desk_window_register) as long as the
 * main window lives. */
void desk_passwd_window_open(DeskWindow *w)
{
    GtkWidget *win = g_object_get_data(G_OBJECT(w), "desk-passwd-window");
    if (win) {
        desk_passwd_form_reset(gtk_window_get_child(GTK_WINDOW(win)));
        gtk_window_present(GTK_WINDOW(win));
        return;
    }
    win = gtk_window_new();
    gtk_window_set_title(GTK_WINDOW(win), _("Change password"));
    gtk_window_set_transient_for(GTK_WINDOW(win), GTK_WINDOW(w));
    gtk_window_set_modal(GTK_WINDOW(win), true);
    gtk_window_set_hide_on_close(GTK_WINDOW(win), true);
    gtk_window_set_destroy_with_parent(GTK_WINDOW(win), true);
    gtk_window_set_default_size(GTK_WINDOW(win), 420, -1);
    GtkWidget *form = desk_passwd_form_new(w, "passwd", window_done, win);
    gtk_widget_set_margin_top(form, 18);
    gtk_widget_set_margin_bottom(form, 18);
    gtk_widget_set_margin_start(form, 18);
    gtk_widget_set_margin_end(form, 18);
    gtk_window_set_child(GTK_WINDOW(win), form);
    g_object_set_data(G_OBJECT(w), "desk-passwd-window", win);
    desk_window_register(w, "passwd.window", win);
    gtk_window_present(GTK_WINDOW(win));
}
