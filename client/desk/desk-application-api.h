/*
 * desk-application-api.h - what the window and its pages may ask of the
 * sanji-desk application (desk-application.h): the client and its setup,
 * the configuration's paths and settings, the test script's hooks, the
 * desktop notifications.  Kept apart from desk-application.h so that the
 * window, which the application makes, does not depend on the application
 * that makes it; desk-application.c implements it.
 *
 * Desktop notifications: the application raises them (the window decides
 * what deserves one and with which words); a click opens the case (the
 * action app.open-case, its target the case id), and logging out or
 * quitting withdraws them, so that one cadre's cases are not left on the
 * screen for the next.  Without a session bus (a bare X session, a kiosk)
 * nothing reaches the desktop, but the list is kept all the same.
 *
 * Entry points: desk_application_client(), desk_application_setup_error(),
 * desk_application_config_path(), desk_application_store_path(),
 * desk_application_person_default(), desk_application_board(),
 * desk_application_station_phone(), desk_application_print_export_dir(),
 * desk_application_test_script(), desk_application_set_exit_status(),
 * desk_application_notify_case(), desk_application_withdraw_notifications(),
 * desk_application_notifications_text(), desk_application_click_notification().
 */
#ifndef DESK_APPLICATION_API_H
#define DESK_APPLICATION_API_H

#include <gtk/gtk.h>

#include "sanji_client.h"

G_BEGIN_DECLS

#define DESK_TYPE_APPLICATION (desk_application_get_type())
G_DECLARE_FINAL_TYPE(DeskApplication, desk_application, DESK, APPLICATION, GtkApplication)

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
