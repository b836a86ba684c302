/*
 * desk-application.c - the GtkApplication of sanji-desk (see
 * desk-application.h): options, client start and stop, event delivery.
 *
 * Entry points: desk_application_new() and the accessors in the header.
 */
#include "desk-application.h"

#include <string.h>
#include <unistd.h>

#include "client_config.h"
#include "desk-loop-source.h"
#include "desk-window.h"
#include "i18n.h"
#include "uuid.h"

/* A notification raised and not withdrawn yet. */
typedef struct raised {
    char *id;     /* GNotification id: "case-<uuid>", or "desk-<n>" without a case */
    char *text;   /* "title: body" */
    char *target; /* the case id text, "" without a case */
} raised;

static void raised_free(gpointer p)
{
    raised *r = p;
    g_free(r->id);
    g_free(r->text);
    g_free(r->target);
    g_free(r);
}

struct _DeskApplication {
    GtkApplication parent;
    char *cert, *key, *ca, *crl, *peer, *store, *test_script, *config, *person_default;
    char *station_phone;
    bool board;                 /* --board: the public board, full screen */
    char **addresses;
    uv_loop_t loop;
    bool loop_ready;
    GSource *source;
    sc_client *client;
    bool stopped;
    sj_error setup_err;
    DeskWindow *window;
    int exit_status;
    GPtrArray *raised;   /* of raised, oldest first */
    unsigned next_plain; /* numbers the notifications without a case */
};

G_DEFINE_TYPE(DeskApplication, desk_application, GTK_TYPE_APPLICATION)

static void on_client_event(sc_client *c, const sc_event *ev, void *data)
{
    DeskApplication *app = data;
    if (app->window)
        desk_window_handle_event(app->window, ev);
}

static void on_stopped(sc_client *c, void *data)
{
    DeskApplication *app = data;
    app->stopped = true;
}

static gint desk_application_handle_local_options(GApplication *gapp, GVariantDict *o)
{
    DeskApplication *app = DESK_APPLICATION(gapp);
    g_variant_dict_lookup(o, "cert", "^ay", &app->cert);
    g_variant_dict_lookup(o, "key", "^ay", &app->key);
    g_variant_dict_lookup(o, "ca", "^ay", &app->ca);
    g_variant_dict_lookup(o, "crl", "^ay", &app->crl);
    g_variant_dict_lookup(o, "store", "^ay", &app->store);
    g_variant_dict_lookup(o, "peer", "s", &app->peer);
    g_variant_dict_lookup(o, "address", "^as", &app->addresses);
    g_variant_dict_lookup(o, "test-script", "^ay", &app->test_script);
    g_variant_dict_lookup(o, "config", "^ay", &app->config);
    gboolean board = FALSE;
    if (g_variant_dict_lookup(o, "board", "b", &board))
        app->board = board;
    if (!app->config && g_getenv("SANJI_CONFIG"))
        app->config = g_strdup(g_getenv("SANJI_CONFIG"));
    if (!app->test_script && g_getenv("SANJI_DESK_TEST_SCRIPT"))
        app->test_script = g_strdup(g_getenv("SANJI_DESK_TEST_SCRIPT"));
    return -1; /* go on */
}

static void take(char **field, const char *value)
{
    if (!*field && value && *value)
        *field = g_strdup(value);
}

/* Fills what the command line did not give from the client configuration
 * file, the one the `sanji` CLI reads (client_config.h).  Without --config
 * or SANJI_CONFIG a missing file at the usual places is no error: the
 * command line may have said everything. */
static int load_config(DeskApplication *app, sj_error *err)
{
    const char *path = sc_config_path(app->config);
    if (!app->config && access(path, R_OK) != 0)
        return 0;
    sc_loaded_config lc;
    int rc = sc_config_load(path, &lc, err);
    if (rc == 0) {
        const sc_config *cc = &lc.client;
        take(&app->cert, cc->cert_file);
        take(&app->key, cc->key_file);
        take(&app->ca, cc->ca_file);
        take(&app->crl, cc->crl_file);
        take(&app->peer, cc->expected_peer);
        take(&app->store, cc->store_path);
        take(&app->person_default, lc.person_default);
        take(&app->station_phone, lc.station_phone);
        if (!app->addresses && cc->n_addresses > 0) {
            app->addresses = g_new0(char *, cc->n_addresses + 1);
            for (size_t i = 0; i < cc->n_addresses; i++)
                app->addresses[i] = g_strdup(cc->addresses[i]);
        }
    }
    sc_config_release(&lc);
    return rc;
}

static void start_client(DeskApplication *app)
{
    sj_error *err = &app->setup_err;
    if (load_config(app, err) != 0)
        return;
    if (!app->cert || !app->key || !app->ca || !app->store || !app->addresses ||
        !app->addresses[0]) {
        sj_error_set(err, SJ_ECONFIG_MISSING, "%s",
                     _("This station is not set up yet: the program needs its certificate, key, "
                       "the county CA, the address of the relay or county and the local store. "
                       "Start it as: sanji-desk --cert station.crt --key station.key --ca ca.crt "
                       "--address 10.0.0.1:7443 --store station.db (ask the county for these files)."));
        return;
    }
    int rc = uv_loop_init(&app->loop);
    if (rc != 0) {
        sj_error_set(err, SJ_EINTERNAL, "uv_loop_init: %s", uv_strerror(rc));
        return;
    }
    app->loop_ready = true;
    sc_config cfg = {
        .cert_file = app->cert,
        .key_file = app->key,
        .ca_file = app->ca,
        .crl_file = app->crl,
        .addresses = (const char *const *)app->addresses,
        .n_addresses = g_strv_length(app->addresses),
        .expected_peer = app->peer,
        .store_path = app->store,
    };
    if (sc_client_new(&app->loop, &cfg, on_client_event, app, &app->client, err) != 0)
        return;
    if (sc_client_start(app->client, err) != 0) {
        sc_client_free(app->client);
        app->client = NULL;
        return;
    }
    app->source = desk_loop_source_new(&app->loop);
    g_source_attach(app->source, NULL);
}

/* From desk-resources.c (glib-compile-resources --manual-register). */
void desk_register_resource(void);

static void load_css(void)
{
    desk_register_resource();
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css, "/org/sanji/desk/desk.css");
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

/* app.open-case: a click on a notification.  The case opens only for a
 * person logged in; otherwise the window comes up at the log-in page. */
static void on_open_case(GSimpleAction *action, GVariant *param, gpointer data)
{
    DeskApplication *app = data;
    (void)action;
    if (!app->window)
        return;
    gtk_window_present(GTK_WINDOW(app->window));
    uint8_t id[16];
    sj_error err;
    const char *text = g_variant_get_string(param, NULL);
    if (app->client && sc_person(app->client) && sj_uuid_parse(text, id, &err) == 0)
        desk_window_open_case(app->window, id);
}

static void desk_application_startup(GApplication *gapp)
{
    DeskApplication *app = DESK_APPLICATION(gapp);
    G_APPLICATION_CLASS(desk_application_parent_class)->startup(gapp);
    static const GActionEntry actions[] = {
        {.name = "open-case", .activate = on_open_case, .parameter_type = "s"},
    };
    g_action_map_add_action_entries(G_ACTION_MAP(app), actions, G_N_ELEMENTS(actions), app);
    load_css();
    start_client(app);
}

static void desk_application_activate(GApplication *gapp)
{
    DeskApplication *app = DESK_APPLICATION(gapp);
    if (!app->window) {
        app->window = desk_window_new(app);
        g_object_add_weak_pointer(G_OBJECT(app->window), (gpointer *)&app->window);
    }
    gtk_window_present(GTK_WINDOW(app->window));
}

static void desk_application_shutdown(GApplication *gapp)
{
    DeskApplication *app = DESK_APPLICATION(gapp);
    desk_application_withdraw_notifications(app);
    if (app->window)
        gtk_window_destroy(GTK_WINDOW(app->window));
    if (app->client) {
        /* Let the link say goodbye and the thread pool finish; bounded by
         * the library's own close timeouts. */
        sc_client_stop(app->client, on_stopped);
        while (!app->stopped && uv_run(&app->loop, UV_RUN_ONCE) != 0)
            ;
        sc_client_free(app->client);
        app->client = NULL;
    }
    if (app->source) {
        g_source_destroy(app->source);
        g_source_unref(app->source);
        app->source = NULL;
    }
    if (app->loop_ready) {
        uv_run(&app->loop, UV_RUN_NOWAIT);
        if (uv_loop_close(&app->loop) != 0)
            g_warning("libuv loop still has handles at exit");
        app->loop_ready = false;
    }
    G_APPLICATION_CLASS(desk_application_parent_class)->shutdown(gapp);
}

static void desk_application_finalize(GObject *obj)
{
    DeskApplication *app = DESK_APPLICATION(obj);
    g_free(app->cert);
    g_free(app->key);
    g_free(app->ca);
    g_free(app->crl);
    g_free(app->peer);
    g_free(app->store);
    g_free(app->test_script);
    g_free(app->config);
    g_free(app->person_default);
    g_free(app->station_phone);
    g_strfreev(app->addresses);
    g_ptr_array_unref(app->raised);
    G_OBJECT_CLASS(desk_application_parent_class)->finalize(obj);
}

static void desk_application_class_init(DeskApplicationClass *klass)
{
    GApplicationClass *ac = G_APPLICATION_CLASS(klass);
    ac->handle_local_options = desk_application_handle_local_options;
    ac->startup = desk_application_startup;
    ac->activate = desk_application_activate;
    ac->shutdown = desk_application_shutdown;
    G_OBJECT_CLASS(klass)->finalize = desk_application_finalize;
}

static void desk_application_init(DeskApplication *app)
{
    sj_error_clear(&app->setup_err);
    app->raised = g_ptr_array_new_with_free_func(raised_free);
    const GOptionEntry entries[] = {
        {"cert", 0, 0, G_OPTION_ARG_FILENAME, NULL, _("This station's certificate (PEM)"), _("FILE")},
        {"key", 0, 0, G_OPTION_ARG_FILENAME, NULL, _("This station's private key (PEM)"), _("FILE")},
        {"ca", 0, 0, G_OPTION_ARG_FILENAME, NULL, _("The county CA certificate"), _("FILE")},
        {"crl", 0, 0, G_OPTION_ARG_FILENAME, NULL, _("The county revocation list"), _("FILE")},
        {"address", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL,
         _("Address of the township relay or the county (ip:port); repeat for more"), _("ADDR")},
        {"peer", 0, 0, G_OPTION_ARG_STRING, NULL,
         _("Expected peer, e.g. relay:410423101000 or county:410423000000"), _("NODE")},
        {"store", 0, 0, G_OPTION_ARG_FILENAME, NULL, _("The local store file"), _("FILE")},
        {"config", 0, 0, G_OPTION_ARG_FILENAME, NULL,
         _("The client configuration file (as for the sanji command; also SANJI_CONFIG)"), _("FILE")},
        {"test-script", 0, 0, G_OPTION_ARG_FILENAME, NULL,
         _("Drive the window with a test script (see docs/DESKTOP.md)"), _("FILE")},
        {"board", 0, 0, G_OPTION_ARG_NONE, NULL,
         _("Show the station's public board full screen, for the wall of the hall (办事公开)"), NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_application_add_main_option_entries(G_APPLICATION(app), entries);
}

DeskApplication *desk_application_new(void)
{
    return g_object_new(DESK_TYPE_APPLICATION, "application-id", "org.sanji.Desk", "flags",
                        G_APPLICATION_NON_UNIQUE, NULL);
}

sc_client *desk_application_client(DeskApplication *app)
{
    return app->client;
}

const sj_error *desk_application_setup_error(DeskApplication *app)
{
    return &app->setup_err;
}

const char *desk_application_config_path(DeskApplication *app)
{
    return app->config;
}

const char *desk_application_store_path(DeskApplication *app)
{
    return app->store;
}

const char *desk_application_person_default(DeskApplication *app)
{
    return app->person_default;
}

bool desk_application_board(DeskApplication *app)
{
    return app->board;
}

const char *desk_application_station_phone(DeskApplication *app)
{
    return app->station_phone ? app->station_phone : "";
}

const char *desk_application_print_export_dir(DeskApplication *app)
{
    const char *dir = g_getenv("SANJI_DESK_PRINT_EXPORT");
    return app->test_script && dir && *dir ? dir : NULL;
}

const char *desk_application_test_script(DeskApplication *app)
{
    return app->test_script;
}

void desk_application_set_exit_status(DeskApplication *app, int status)
{
    app->exit_status = status;
}

int desk_application_exit_status(DeskApplication *app)
{
    return app->exit_status;
}

/* The desktop gets notifications only over a session bus. */
static bool has_bus(DeskApplication *app)
{
    return g_application_get_dbus_connection(G_APPLICATION(app)) != NULL;
}

void desk_application_notify_case(DeskApplication *app, const uint8_t *case_id, const char *title,
                                  const char *body, bool urgent)
{
    char target[SJ_UUID_TEXT_SIZE] = "";
    if (case_id)
        sj_uuid_format(case_id, target);
    g_autofree char *id = case_id ? g_strdup_printf("case-%s", target)
                                  : g_strdup_printf("desk-%u", app->next_plain++);
    /* One per case: a newer word on the same case replaces the older. */
    for (guint i = 0; i < app->raised->len; i++)
        if (strcmp(((raised *)g_ptr_array_index(app->raised, i))->id, id) == 0) {
            g_ptr_array_remove_index(app->raised, i);
            break;
        }
    raised *r = g_new0(raised, 1);
    r->id = g_strdup(id);
    r->text = g_strdup_printf("%s: %s", title, body);
    r->target = g_strdup(target);
    g_ptr_array_add(app->raised, r);
    if (!has_bus(app))
        return;
    g_autoptr(GNotification) n = g_notification_new(title);
    g_notification_set_body(n, body);
    g_notification_set_priority(n, urgent ? G_NOTIFICATION_PRIORITY_HIGH
                                          : G_NOTIFICATION_PRIORITY_NORMAL);
    if (case_id)
        g_notification_set_default_action_and_target_value(n, "app.open-case",
                                                           g_variant_new_string(target));
    g_application_send_notification(G_APPLICATION(app), id, n);
}

void desk_application_withdraw_notifications(DeskApplication *app)
{
    for (guint i = 0; has_bus(app) && i < app->raised->len; i++)
        g_application_withdraw_notification(G_APPLICATION(app),
                                            ((raised *)g_ptr_array_index(app->raised, i))->id);
    g_ptr_array_set_size(app->raised, 0);
}

char *desk_application_notifications_text(DeskApplication *app)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < app->raised->len; i++)
        g_string_append_printf(s, "%s%s", i ? " | " : "",
                               ((raised *)g_ptr_array_index(app->raised, i))->text);
    return g_string_free(s, FALSE);
}

bool desk_application_click_notification(DeskApplication *app, const char *text)
{
    for (guint i = 0; i < app->raised->len; i++) {
        raised *r = g_ptr_array_index(app->raised, i);
        if (!strstr(r->text, text))
            continue;
        if (*r->target)
            g_action_group_activate_action(G_ACTION_GROUP(app), "open-case",
                                           g_variant_new_string(r->target));
        else
            g_application_activate(G_APPLICATION(app));
        return true;
    }
    return false;
}
