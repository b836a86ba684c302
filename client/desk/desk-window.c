/*
 * desk-window.c - the main window (see desk-window.h).
 *
 * Entry points: desk_window_new() and the functions in the header.
 */
#include "desk-window.h"

#include <string.h>

#include "desk-case-view.h"
#include "desk-format.h"
#include "desk-home-page.h"
#include "desk-level-page.h"
#include "desk-link-bar.h"
#include "desk-board.h"
#include "desk-login-page.h"
#include "desk-passwd.h"
#include "desk-admin.h"
#include "desk-network-page.h"
#include "desk-register-form.h"
#include "desk-period-stats.h"
#include "desk-report.h"
#include "desk-stars-page.h"
#include "desk-stats-page.h"
#include "desk-test.h"
#include "i18n.h"
#include "log.h"
#include "setup.h"

struct _DeskWindow {
    GtkApplicationWindow parent;
    DeskApplication *app;
    sc_client *client;
    GHashTable *named;          /* name -> GtkWidget* (borrowed; all live as long as the window) */
    DeskLinkBar *link_bar;
    GtkWidget *banner, *banner_label;
    GtkWidget *outer;           /* "setup" | "login" | "main" */
    GtkWidget *pages;           /* the role's pages */
    GtkWidget *person_label, *logout, *passwd;
    DeskLoginPage *login;
    DeskHomePage *home;
    DeskRegisterForm *reg;
    DeskCaseView *case_view;
    DeskLevelPage *township;
    DeskLevelPage *county;
    DeskNetworkPage *network;
    DeskStatsPage *stats;
    /* county desk: 人员管理, 部门管理, 事项管理 (desk-admin.h) */
    GtkWidget *admin_persons, *admin_departments, *admin_items;
    DeskBoard *board;           /* --board at a village station: the public board only */
    guint refresh_id;
    bool caught_up;
};

G_DEFINE_TYPE(DeskWindow, desk_window, GTK_TYPE_APPLICATION_WINDOW)

sc_client *desk_window_client(DeskWindow *w)
{
    return w->client;
}

const char *desk_window_store_path(DeskWindow *w)
{
    return desk_application_store_path(w->app);
}

void desk_window_register(DeskWindow *w, const char *name, GtkWidget *widget)
{
    g_hash_table_replace(w->named, g_strdup(name), widget);
}

GtkWidget *desk_window_lookup(DeskWindow *w, const char *name)
{
    if (strcmp(name, "window") == 0)
        return GTK_WIDGET(w);
    return g_hash_table_lookup(w->named, name);
}

static gboolean do_refresh(gpointer data)
{
    DeskWindow *w = data;
    w->refresh_id = 0;
    if (w->home)
        desk_home_page_refresh(w->home);
    if (w->township)
        desk_level_page_refresh(w->township);
    if (w->county)
        desk_level_page_refresh(w->county);
    if (w->case_view)
        desk_case_view_refresh(w->case_view);
    return G_SOURCE_REMOVE;
}

void desk_window_refresh_soon(DeskWindow *w)
{
    if (!w->refresh_id)
        w->refresh_id = g_timeout_add(250, do_refresh, w);
}

void desk_window_notify(DeskWindow *w, const char *text, bool error)
{
    gtk_label_set_text(GTK_LABEL(w->banner_label), text);
    if (error) {
        gtk_widget_add_css_class(w->banner, "error");
        gtk_widget_remove_css_class(w->banner, "info");
    } else {
        gtk_widget_add_css_class(w->banner, "info");
        gtk_widget_remove_css_class(w->banner, "error");
    }
    gtk_revealer_set_reveal_child(GTK_REVEALER(w->banner), true);
}

char *desk_window_undeliverable_text(DeskWindow *w)
{
    int code = w->client ? sc_lasting_refusal(w->client) : 0;
    if (!code)
        return NULL;
    /* Translators: new work was saved but the link is refused for good; %s
     * is the reason and what to do. */
    return g_strdup_printf(_("Saved on this computer, but it cannot be delivered: %s"),
                           sc_lasting_advice(code));
}

void desk_window_notify_saved(DeskWindow *w)
{
    g_autofree char *stuck = desk_window_undeliverable_text(w);
    desk_window_notify(w, stuck ? stuck : _("Saved. It goes up by itself, also after a link outage."),
                       stuck != NULL);
}

typedef struct save_job {
    DeskWindow *win;
    desk_window_write_fn write;
    gpointer data;
} save_job;

static void on_save_response(GtkNativeDialog *d, int response, gpointer user)
{
    save_job *j = user;
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
        g_autofree char *path = f ? g_file_get_path(f) : NULL;
        sj_error err;
        if (path && j->write(j->data, path, &err) != 0) {
            desk_window_show_error(j->win, NULL, &err);
        } else if (path) {
            g_autofree char *t = g_strdup_printf(_("Saved to %s."), path);
            desk_window_notify(j->win, t, false);
        }
    }
    g_free(j);
    g_object_unref(d);
}

void desk_window_save_file(DeskWindow *w, const char *title, const char *suggested,
                           desk_window_write_fn write, gpointer data)
{
    /* Under a test script with SANJI_DESK_PRINT_EXPORT (where a test's
     * papers go), no dialog: the file goes there under its suggested name. */
    const char *dir = desk_application_print_export_dir(w->app);
    if (dir) {
        g_autofree char *path = g_build_filename(dir, suggested, NULL);
        sj_error err;
        if (write(data, path, &err) != 0) {
            desk_window_show_error(w, NULL, &err);
        } else {
            g_autofree char *t = g_strdup_printf(_("Saved to %s."), path);
            desk_window_notify(w, t, false);
        }
        return;
    }
    GtkFileChooserNative *d = gtk_file_chooser_native_new(title, GTK_WINDOW(w),
                                                          GTK_FILE_CHOOSER_ACTION_SAVE, _("Save"),
                                                          _("Cancel"));
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), suggested);
    save_job *j = g_new0(save_job, 1);
    *j = (save_job){w, write, data};
    g_signal_connect(d, "response", G_CALLBACK(on_save_response), j);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

const char *desk_query_reason(const Sanji__QueryResult *res, int status)
{
    return res && res->reason && *res->reason ? res->reason : sj_err_text(status);
}

void desk_window_show_error(DeskWindow *w, const char *what, const sj_error *err)
{
    g_autofree char *t = what ? g_strdup_printf("%s：%s", what, err->message) : g_strdup(err->message);
    desk_window_notify(w, t, true);
}

static void on_banner_close(GtkButton *b, gpointer data)
{
    DeskWindow *w = data;
    gtk_revealer_set_reveal_child(GTK_REVEALER(w->banner), false);
}

/* A change from another level, told in one line with its reason, in the
 * banner and on the desktop (a click there opens the case). */
static void notify_case_change(DeskWindow *w, const sc_event *ev)
{
    const Sanji__CaseEvent *e = ev->event;
    const sj_identity *me = sc_client_node(w->client);
    if (!e || !ev->snapshot || strcmp(e->actor_unit ? e->actor_unit : "", me->unit) == 0)
        return;
    g_autofree char *title = desk_format_case_title(ev->snapshot);
    g_autofree char *what = desk_format_case_change(e);
    g_autofree char *t = g_strdup_printf("%s%s%s", title, _(": "), what);
    desk_window_notify(w, t, false);
    sj_case_action a = (sj_case_action)e->action;
    desk_application_notify_case(w->app, ev->case_id, title, what,
                                 a == SJ_ACTION_RETURN_DOWN || a == SJ_ACTION_RETURN_UNDOABLE ||
                                     a == SJ_ACTION_REQUEST_MATERIALS || a == SJ_ACTION_URGE ||
                                     a == SJ_ACTION_SUPERVISE);
}

void desk_window_handle_event(DeskWindow *w, const sc_event *ev)
{
    if (w->board) {
        /* The board shows no person's work and raises nothing: it reads
         * the changes at its next page. */
        desk_board_mark_changed(w->board);
        return;
    }
    desk_link_bar_update(w->link_bar, ev);
    if (w->login && (ev->type == SC_EV_LINK_UP || ev->type == SC_EV_LINK_DOWN))
        desk_login_page_update_link(w->login);
    switch (ev->type) {
    case SC_EV_LINK_UP:
        w->caught_up = false;
        if (w->network)
            desk_network_page_refresh(w->network);
        if (w->stats && strcmp(desk_window_page(w), "stats") == 0)
            desk_stats_page_refresh(w->stats);
        break;
    case SC_EV_LINK_DOWN:
        w->caught_up = false;
        break;
    case SC_EV_CAUGHT_UP:
        w->caught_up = true;
        break;
    case SC_EV_REFUSED: {
        /* Translators: an action was refused by the township or county; %s is the reason. */
        const char *why = ev->reason && *ev->reason ? ev->reason : _(sj_err_text(ev->code));
        g_autofree char *t = g_strdup_printf(_("Not accepted: %s. Open the case to see what to do."), why);
        desk_window_notify(w, t, true);
        desk_application_notify_case(w->app, ev->case_id, _("Not accepted"), why, true);
        break;
    }
    case SC_EV_APPLIED:
        if (ev->action == SJ_ACTION_REGISTER && ev->case_number && *ev->case_number) {
            /* Translators: %s is the case number the county assigned. */
            g_autofree char *t = g_strdup_printf(_("Recorded by the county as %s."), ev->case_number);
            desk_window_notify(w, t, false);
            desk_application_notify_case(w->app, ev->case_id, _("Recorded by the county"), t, false);
        }
        break;
    case SC_EV_CASE_CHANGED:
        if (w->caught_up)
            notify_case_change(w, ev);
        break;
    case SC_EV_REFDATA:
        if (w->reg && ev->kind && strcmp(ev->kind, "catalogue") == 0)
            desk_register_form_reload_catalogue(w->reg);
        /* The home shows today's duty (值班表) too. */
        if (ev->kind && (strcmp(ev->kind, "catalogue") == 0 || strcmp(ev->kind, "org_tree") == 0 ||
                         strcmp(ev->kind, "duty") == 0)) {
            if (w->home)
                desk_home_page_reload_refdata(w->home);
            if (w->township)
                desk_level_page_reload_refdata(w->township);
            if (w->county)
                desk_level_page_reload_refdata(w->county);
        }
        if (w->login && ev->kind && strcmp(ev->kind, "persons") == 0)
            desk_login_page_reload_persons(w->login);
        if (w->admin_persons && ev->kind && strcmp(ev->kind, "persons") == 0)
            desk_admin_page_reload(w->admin_persons);
        if (w->admin_departments && ev->kind && strcmp(ev->kind, "org_tree") == 0)
            desk_admin_page_reload(w->admin_departments);
        if (w->admin_items && ev->kind && strcmp(ev->kind, "catalogue") == 0)
            desk_admin_page_reload(w->admin_items);
        break;
    default:
        break;
    }
    desk_window_refresh_soon(w);
}

void desk_window_show_page(DeskWindow *w, const char *name)
{
    if (gtk_stack_get_child_by_name(GTK_STACK(w->pages), name))
        gtk_stack_set_visible_child_name(GTK_STACK(w->pages), name);
}

const char *desk_window_page(DeskWindow *w)
{
    const char *outer = gtk_stack_get_visible_child_name(GTK_STACK(w->outer));
    if (!outer || strcmp(outer, "main") != 0)
        return outer ? outer : "";
    const char *p = gtk_stack_get_visible_child_name(GTK_STACK(w->pages));
    return p ? p : "";
}

void desk_window_open_case(DeskWindow *w, const uint8_t case_id[16])
{
    desk_case_view_show(w->case_view, case_id);
    desk_window_show_page(w, "case");
}

void desk_window_open_case_row(DeskWindow *w, const Sanji__Case *c)
{
    /* A county desk keeps only the cases it opens: the row's copy first,
     * so the case shows at once (offline too), then the county's full
     * record with its history, which CASE_CHANGED brings to the page. */
    if (sc_searches_at_peer(w->client)) {
        sj_error err;
        if (sc_keep_case(w->client, c, &err) != 0) {
            desk_window_show_error(w, _("The case cannot be kept at this desk"), &err);
            return;
        }
        if (sc_fetch_case(w->client, c->case_id.data, NULL, NULL, &err) != 0)
            SJ_LOG_INFO("desk", "case history not asked for", "why", err.message);
    }
    desk_window_open_case(w, c->case_id.data);
}

void desk_window_logged_in(DeskWindow *w)
{
    const Sanji__Person *p = sc_person(w->client);
    const sj_identity *node = sc_client_node(w->client);
    /* The certificate's own name, else the unit's name from the org tree,
     * else its code. */
    const char *unit_name = sc_unit_name(w->client, node->unit);
    g_autofree char *who = g_strdup_printf("%s · %s", p && p->name ? p->name : "",
                                           node->name[0] ? node->name : unit_name ? unit_name : node->unit);
    gtk_label_set_text(GTK_LABEL(w->person_label), who);
    gtk_widget_set_visible(w->logout, true);
    gtk_widget_set_visible(w->passwd, true);
    gtk_stack_set_visible_child_name(GTK_STACK(w->outer), "main");
    const char *first = w->home ? "home" : w->township ? "township" : "county";
    gtk_stack_set_visible_child_name(GTK_STACK(w->pages), first);
    if (w->home)
        desk_home_page_show(w->home);
    if (w->township)
        desk_level_page_show(w->township);
    if (w->county)
        desk_level_page_show(w->county);
    if (w->case_view)
        desk_case_view_refresh(w->case_view);
    if (w->network)
        desk_network_page_refresh(w->network);
}

/* The statistics read every case of the county (about a second at a
 * million cases, with the county's searches waiting behind them): asked
 * for when the page is shown, not at every log-in. */
static void on_page_shown(GObject *stack, GParamSpec *ps, gpointer data)
{
    DeskWindow *w = data;
    if (w->stats && strcmp(desk_window_page(w), "stats") == 0)
        desk_stats_page_refresh(w->stats);
}

static void on_logout(GtkButton *b, gpointer data)
{
    DeskWindow *w = data;
    sj_error err;
    if (sc_logout(w->client, &err) != 0)
        desk_window_show_error(w, _("Logging out failed"), &err);
    /* What was raised for this person is not left on the screen. */
    desk_application_withdraw_notifications(w->app);
    gtk_revealer_set_reveal_child(GTK_REVEALER(w->banner), false);
    gtk_label_set_text(GTK_LABEL(w->person_label), "");
    gtk_widget_set_visible(w->logout, false);
    gtk_widget_set_visible(w->passwd, false);
    desk_login_page_reset(w->login);
    gtk_stack_set_visible_child_name(GTK_STACK(w->outer), "login");
}

/* "导入本站配置" on the set-up page: the station set up from its enrolment
 * bundle and the slip's passphrase by the library function `sanji setup`
 * uses (client/setup.h), into the configuration file this program reads
 * next time. */
typedef struct import_form {
    DeskWindow *win;
    GtkWidget *file, *pass, *status;
} import_form;

static void on_import_file_chosen(GtkNativeDialog *d, int response, gpointer data)
{
    import_form *f = data;
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
        g_autofree char *path = file ? g_file_get_path(file) : NULL;
        if (path)
            gtk_editable_set_text(GTK_EDITABLE(f->file), path);
    }
    g_object_unref(d);
}

static void on_import_choose(GtkButton *b, gpointer data)
{
    import_form *f = data;
    GtkWindow *parent = GTK_WINDOW(gtk_widget_get_root(GTK_WIDGET(b)));
    GtkFileChooserNative *d = gtk_file_chooser_native_new(
        _("Choose the enrolment bundle"), parent, GTK_FILE_CHOOSER_ACTION_OPEN, _("Open"),
        _("Cancel"));
    g_signal_connect(d, "response", G_CALLBACK(on_import_file_chosen), f);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void on_import(GtkButton *b, gpointer data)
{
    import_form *f = data;
    (void)b;
    const char *path = gtk_editable_get_text(GTK_EDITABLE(f->file));
    sc_setup_target t;
    sc_setup_result res;
    sj_error err;
    sj_error_clear(&err);
    int rc = 0;
    if (!*path)
        rc = sj_error_set(&err, SJ_EINVAL, "%s", _("Choose the enrolment bundle file first."));
    if (rc == 0)
        rc = sc_setup_default_target(NULL, desk_application_config_path(f->win->app), &t, &err);
    if (rc == 0)
        rc = sc_setup_import(path, gtk_editable_get_text(GTK_EDITABLE(f->pass)), &t, false, &res,
                             &err);
    if (rc != 0) {
        gtk_label_set_text(GTK_LABEL(f->status), err.message);
        gtk_widget_add_css_class(f->status, "error");
        return;
    }
    gtk_editable_set_text(GTK_EDITABLE(f->pass), "");
    gtk_widget_remove_css_class(f->status, "error");
    g_autofree char *msg = g_strdup_printf(
        _("This station is now set up as %s %s (%s). Close this program and open it again to "
          "start."),
        res.id.node_id, res.unit_name, t.config);
    gtk_label_set_text(GTK_LABEL(f->status), msg);
}

static GtkWidget *import_section(DeskWindow *w)
{
    import_form *f = g_new0(import_form, 1);
    f->win = w;
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    g_object_set_data_full(G_OBJECT(box), "import-form", f, g_free);
    GtkWidget *title = gtk_label_new(_("Import this station's setup"));
    gtk_widget_add_css_class(title, "title-2");
    GtkWidget *hint = gtk_label_new(_("The county sends each station one enrolment bundle file "
                                      "and a slip with its passphrase."));
    gtk_label_set_wrap(GTK_LABEL(hint), true);
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    f->file = gtk_entry_new();
    gtk_widget_set_hexpand(f->file, true);
    gtk_entry_set_placeholder_text(GTK_ENTRY(f->file), _("Enrolment bundle file (.sanji)"));
    GtkWidget *choose = gtk_button_new_with_label(_("Choose file..."));
    g_signal_connect(choose, "clicked", G_CALLBACK(on_import_choose), f);
    gtk_box_append(GTK_BOX(row), f->file);
    gtk_box_append(GTK_BOX(row), choose);
    f->pass = gtk_password_entry_new();
    gtk_password_entry_set_show_peek_icon(GTK_PASSWORD_ENTRY(f->pass), true);
    g_object_set(f->pass, "placeholder-text", _("Passphrase (on the slip)"), NULL);
    GtkWidget *go = gtk_button_new_with_label(_("Import this station's setup"));
    gtk_widget_add_css_class(go, "suggested-action");
    gtk_widget_set_halign(go, GTK_ALIGN_START);
    g_signal_connect(go, "clicked", G_CALLBACK(on_import), f);
    f->status = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(f->status), true);
    gtk_label_set_selectable(GTK_LABEL(f->status), true);
    gtk_label_set_max_width_chars(GTK_LABEL(f->status), 60);
    gtk_box_append(GTK_BOX(box), title);
    gtk_box_append(GTK_BOX(box), hint);
    gtk_box_append(GTK_BOX(box), row);
    gtk_box_append(GTK_BOX(box), f->pass);
    gtk_box_append(GTK_BOX(box), go);
    gtk_box_append(GTK_BOX(box), f->status);
    desk_window_register(w, "setup.file", f->file);
    desk_window_register(w, "setup.passphrase", f->pass);
    desk_window_register(w, "setup.import", go);
    desk_window_register(w, "setup.status", f->status);
    return box;
}

static GtkWidget *setup_page(DeskWindow *w, const sj_error *err)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
    gtk_widget_add_css_class(box, "page");
    gtk_widget_set_valign(box, GTK_ALIGN_CENTER);
    /* A new station has no configuration yet: that is no error to show a
     * cadre, only the import to do.  A configuration that is there and
     * broken is an error an administrator copies (selectable). */
    sc_setup_target t;
    sj_error terr;
    bool fresh = sc_setup_default_target(NULL, desk_application_config_path(w->app), &t,
                                         &terr) == 0 &&
                 !g_file_test(t.config, G_FILE_TEST_EXISTS);
    GtkWidget *title = gtk_label_new(fresh ? _("This station is not set up yet")
                                           : _("This program cannot start its connection"));
    gtk_widget_add_css_class(title, "title-1");
    g_autofree char *text =
        fresh ? g_strdup_printf(_("There is no setup here yet (%s). Import the enrolment bundle "
                                  "the county sent for this station, with the passphrase on its "
                                  "slip."),
                                t.config)
              : g_strdup(err->message);
    GtkWidget *msg = gtk_label_new(text);
    gtk_label_set_wrap(GTK_LABEL(msg), true);
    gtk_label_set_selectable(GTK_LABEL(msg), !fresh);
    gtk_label_set_max_width_chars(GTK_LABEL(msg), 60);
    gtk_box_append(GTK_BOX(box), title);
    gtk_box_append(GTK_BOX(box), msg);
    gtk_box_append(GTK_BOX(box), import_section(w));
    return box;
}

static void add_page(DeskWindow *w, GtkWidget *page, const char *name, const char *title)
{
    GtkWidget *scroll = gtk_scrolled_window_new();
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), page);
    gtk_stack_add_titled(GTK_STACK(w->pages), scroll, name, title);
}

/* A page whose case list scrolls itself (only its visible rows are
 * widgets): it fills the window instead of growing in an outer scroller. */
static void add_list_page(DeskWindow *w, GtkWidget *page, const char *name, const char *title)
{
    gtk_widget_set_vexpand(page, true);
    gtk_stack_add_titled(GTK_STACK(w->pages), page, name, title);
}

static void build_role_pages(DeskWindow *w)
{
    switch (sc_client_node(w->client)->role) {
    case SJ_NODE_ROLE_VILLAGE:
        w->home = desk_home_page_new(w);
        add_list_page(w, GTK_WIDGET(w->home), "home", _("Home"));
        w->reg = desk_register_form_new(w);
        add_page(w, GTK_WIDGET(w->reg), "register", _("Register a request"));
        /* The station's 通报 (its village, computed by the county) and 台账. */
        add_page(w, GTK_WIDGET(desk_report_new(w)), "stats", _("Statistics"));
        add_page(w, GTK_WIDGET(desk_stars_page_new(w)), "stars", _("Stars"));
        break;
    case SJ_NODE_ROLE_TOWNSHIP_DESK:
        w->township = desk_level_page_new(w, DESK_LEVEL_TOWNSHIP);
        add_list_page(w, GTK_WIDGET(w->township), "township", _("Township desk"));
        w->network = desk_network_page_new(w);
        add_page(w, GTK_WIDGET(w->network), "network", _("Stations"));
        /* The township's own statistics, computed by the county (the relay
         * passes the question on; docs/STATISTICS.md). */
        add_page(w, GTK_WIDGET(desk_period_stats_new(w)), "stats", _("Statistics"));
        add_page(w, GTK_WIDGET(desk_stars_page_new(w)), "stars", _("Stars"));
        break;
    case SJ_NODE_ROLE_DEPARTMENT_DESK:
        /* The department's queue; the county scopes it to its cases. */
        w->county = desk_level_page_new(w, DESK_LEVEL_DEPARTMENT);
        add_list_page(w, GTK_WIDGET(w->county), "department", _("Department desk"));
        add_page(w, GTK_WIDGET(desk_period_stats_new(w)), "stats", _("Statistics"));
        break;
    default:
        w->county = desk_level_page_new(w, DESK_LEVEL_COUNTY);
        add_list_page(w, GTK_WIDGET(w->county), "county", _("County desk"));
        w->network = desk_network_page_new(w);
        add_page(w, GTK_WIDGET(w->network), "network", _("Network"));
        w->stats = desk_stats_page_new(w);
        add_page(w, GTK_WIDGET(w->stats), "stats", _("Statistics"));
        add_page(w, GTK_WIDGET(desk_stars_page_new(w)), "stars", _("Stars"));
        w->admin_persons = desk_admin_persons_new(w);
        add_page(w, w->admin_persons, "admin-persons", _("Persons"));
        w->admin_departments = desk_admin_departments_new(w);
        add_page(w, w->admin_departments, "admin-departments", _("Departments"));
        w->admin_items = desk_admin_items_new(w);
        add_page(w, w->admin_items, "admin-items", _("Catalogue items"));
        break;
    }
    w->case_view = desk_case_view_new(w);
    add_page(w, GTK_WIDGET(w->case_view), "case", _("Case"));
}

static void desk_window_dispose(GObject *obj)
{
    DeskWindow *w = DESK_WINDOW(obj);
    if (w->refresh_id) {
        g_source_remove(w->refresh_id);
        w->refresh_id = 0;
    }
    G_OBJECT_CLASS(desk_window_parent_class)->dispose(obj);
}

static void desk_window_finalize(GObject *obj)
{
    DeskWindow *w = DESK_WINDOW(obj);
    g_hash_table_destroy(w->named);
    G_OBJECT_CLASS(desk_window_parent_class)->finalize(obj);
}

static void desk_window_class_init(DeskWindowClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = desk_window_dispose;
    G_OBJECT_CLASS(klass)->finalize = desk_window_finalize;
}

static void desk_window_init(DeskWindow *w)
{
    w->named = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/* The title bar: who is logged in, 修改密码 (desk-passwd.h), 退出登录. */
static void build_header(DeskWindow *w)
{
    GtkWidget *header = gtk_header_bar_new();
    w->person_label = gtk_label_new("");
    w->logout = gtk_button_new_with_label(_("Log out"));
    gtk_widget_set_visible(w->logout, false);
    g_signal_connect(w->logout, "clicked", G_CALLBACK(on_logout), w);
    gtk_header_bar_pack_end(GTK_HEADER_BAR(header), w->logout);
    /* 修改密码: the logged-in person's own password (desk-passwd.h). */
    w->passwd = gtk_button_new_with_label(_("Change password"));
    gtk_widget_set_visible(w->passwd, false);
    g_signal_connect_swapped(w->passwd, "clicked", G_CALLBACK(desk_passwd_window_open), w);
    gtk_header_bar_pack_end(GTK_HEADER_BAR(header), w->passwd);
    gtk_header_bar_pack_end(GTK_HEADER_BAR(header), w->person_label);
    gtk_window_set_titlebar(GTK_WINDOW(w), header);
}

/* The banner under the link bar: a message and 关闭. */
static void build_banner(DeskWindow *w)
{
    w->banner = gtk_revealer_new();
    GtkWidget *bbox = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    gtk_widget_add_css_class(bbox, "banner");
    w->banner_label = gtk_label_new("");
    gtk_label_set_wrap(GTK_LABEL(w->banner_label), true);
    gtk_label_set_xalign(GTK_LABEL(w->banner_label), 0);
    gtk_widget_set_hexpand(w->banner_label, true);
    GtkWidget *close = gtk_button_new_with_label(_("Close"));
    g_signal_connect(close, "clicked", G_CALLBACK(on_banner_close), w);
    gtk_box_append(GTK_BOX(bbox), w->banner_label);
    gtk_box_append(GTK_BOX(bbox), close);
    gtk_revealer_set_child(GTK_REVEALER(w->banner), bbox);
}

DeskWindow *desk_window_new(DeskApplication *app)
{
    DeskWindow *w = g_object_new(DESK_TYPE_WINDOW, "application", app, NULL);
    w->app = app;
    w->client = desk_application_client(app);
    gtk_window_set_title(GTK_WINDOW(w), _("Sanji proxy service"));
    /* Room for a case list's columns on a common 1366 x 768 screen. */
    gtk_window_set_default_size(GTK_WINDOW(w), 1260, 760);

    build_header(w);

    GtkWidget *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    w->link_bar = desk_link_bar_new(w->client);
    gtk_widget_set_visible(GTK_WIDGET(w->link_bar), w->client != NULL);
    gtk_box_append(GTK_BOX(vbox), GTK_WIDGET(w->link_bar));

    build_banner(w);
    gtk_box_append(GTK_BOX(vbox), w->banner);

    w->outer = gtk_stack_new();
    gtk_widget_set_vexpand(w->outer, true);
    gtk_box_append(GTK_BOX(vbox), w->outer);
    gtk_window_set_child(GTK_WINDOW(w), vbox);

    desk_window_register(w, "banner", w->banner_label);
    desk_window_register(w, "person", w->person_label);
    desk_window_register(w, "logout", w->logout);
    desk_window_register(w, "passwd.open", w->passwd);

    if (!w->client) {
        gtk_stack_add_named(GTK_STACK(w->outer), setup_page(w, desk_application_setup_error(app)),
                            "setup");
    } else if (desk_application_board(app) &&
               sc_client_node(w->client)->role == SJ_NODE_ROLE_VILLAGE) {
        /* The wall screen: no log-in, no link bar, nothing to click. */
        gtk_widget_set_visible(GTK_WIDGET(w->link_bar), false);
        w->board = desk_board_new(w);
        gtk_stack_add_named(GTK_STACK(w->outer), GTK_WIDGET(w->board), "board");
        gtk_stack_set_visible_child_name(GTK_STACK(w->outer), "board");
        gtk_window_fullscreen(GTK_WINDOW(w));
    } else {
        desk_window_register(w, "link.state", desk_link_bar_state_label(w->link_bar));
        desk_window_register(w, "link.outbox", desk_link_bar_outbox_label(w->link_bar));
        desk_window_register(w, "link.upstream", desk_link_bar_upstream_label(w->link_bar));
        desk_window_register(w, "link.detail", desk_link_bar_detail_label(w->link_bar));
        w->login = desk_login_page_new(w);
        gtk_stack_add_named(GTK_STACK(w->outer), GTK_WIDGET(w->login), "login");
        GtkWidget *main = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
        w->pages = gtk_stack_new();
        gtk_stack_set_transition_type(GTK_STACK(w->pages), GTK_STACK_TRANSITION_TYPE_NONE);
        gtk_widget_set_hexpand(w->pages, true);
        GtkWidget *side = gtk_stack_sidebar_new();
        gtk_stack_sidebar_set_stack(GTK_STACK_SIDEBAR(side), GTK_STACK(w->pages));
        gtk_widget_add_css_class(side, "desk-sidebar");
        gtk_widget_set_size_request(side, 150, -1);
        gtk_box_append(GTK_BOX(main), side);
        gtk_box_append(GTK_BOX(main), w->pages);
        gtk_stack_add_named(GTK_STACK(w->outer), main, "main");
        build_role_pages(w);
        g_signal_connect(w->pages, "notify::visible-child", G_CALLBACK(on_page_shown), w);
        gtk_stack_set_visible_child_name(GTK_STACK(w->outer), "login");
    }
    if (desk_application_test_script(app))
        desk_test_start(w, desk_application_test_script(app));
    return w;
}
