/*
 * desk-application.h - the sanji-desk GtkApplication: command-line options,
 * the client library on its libuv loop (run inside GLib's main loop by
 * desk-loop-source), and delivery of the library's events to the window.
 *
 * Options: --config FILE (the client.conf the `sanji` CLI reads, looked for
 * as it does: --config, SANJI_CONFIG, ~/.config/sanji/client.conf,
 * /etc/sanji/client.conf; see client_config.h), and to override it --cert, --key, --ca, --crl, --address (repeatable), --peer,
 * --store, --test-script (or SANJI_DESK_TEST_SCRIPT).  Without the first
 * four the window shows what is missing and how to start the program.
 *
 * Ownership: desk_application_new() returns a new reference; the client and
 * the loop belong to the application and live from "startup" to
 * "shutdown".  desk_application_client() is borrowed.
 *
 * Entry points: desk_application_new(), desk_application_client(),
 * desk_application_setup_error(), desk_application_config_path(),
 * desk_application_store_path(),
 * desk_application_person_default(), desk_application_board(),
 * desk_application_station_phone(),
 * desk_application_print_export_dir(), desk_application_test_script(),
 * desk_application_set_exit_status(),
 * desk_application_exit_status(), desk_application_notify_case(),
 * desk_application_withdraw_notifications(),
 * desk_application_notifications_text(),
 * desk_application_click_notification().
 *
 * Desktop notifications: the application raises them (the window decides
 * what deserves one and with which words); a click opens the case (the
 * action app.open-case, its target the case id), and logging out or
 * quitting withdraws them, so that one cadre's cases are not left on the
 * screen for the next.  Without a session bus (a bare X session, a kiosk)
 * nothing reaches the desktop, but the list is kept all the same.
 */
#ifndef DESK_APPLICATION_H
#define DESK_APPLICATION_H

#include <gtk/gtk.h>

#include "sanji_client.h"

G_BEGIN_DECLS

#define DESK_TYPE_APPLICATION (desk_application_get_type())
G_DECLARE_FINAL_TYPE(DeskApplication, desk_application, DESK, APPLICATION, GtkApplication)

DeskApplication *desk_application_new(void);

/* The client, or NULL when it could not be set up (see setup_error). */
sc_client *desk_application_client(DeskApplication *app);
const sj_error *desk_application_setup_error(DeskApplication *app);
/* The configuration file given (--config or SANJI_CONFIG), or NULL: where
 * "导入本站配置" writes the setup (client/setup.h). */
const char *desk_application_config_path(DeskApplication *app);
const char *desk_application_store_path(DeskApplication *app);
/* person.default of client.conf (NULL when unset): offered on the login page. */
const char *desk_application_person_default(DeskApplication *app);
/* --board: the station's public board instead of the cadres' pages. */
bool desk_application_board(DeskApplication *app);
/* client.conf station.phone, for the villager's papers ("" : none). */
const char *desk_application_station_phone(DeskApplication *app);
/* Under a test script, SANJI_DESK_PRINT_EXPORT: papers are exported there
 * instead of printed (desk-print.h); NULL otherwise. */
const char *desk_application_print_export_dir(DeskApplication *app);
const char *desk_application_test_script(DeskApplication *app);

void desk_application_set_exit_status(DeskApplication *app, int status);
int desk_application_exit_status(DeskApplication *app);

/* Raises (or replaces, for the same case) a notification about a case:
 * title, body, and a click that opens case_id (may be NULL: the click
 * brings the window up).  urgent asks for the cadre's attention (a
 * refusal, a case sent back). */
void desk_application_notify_case(DeskApplication *app, const uint8_t *case_id, const char *title,
                                  const char *body, bool urgent);

/* Withdraws every notification raised so far (logout, quitting). */
void desk_application_withdraw_notifications(DeskApplication *app);

/* For the test hook: the notifications raised and not withdrawn, "title:
 * body" each, joined by " | " (g_free()); and a click on the first whose
 * text holds `text`, done as the desktop does it (false when none). */
char *desk_application_notifications_text(DeskApplication *app);
bool desk_application_click_notification(DeskApplication *app, const char *text);

G_END_DECLS

#endif
