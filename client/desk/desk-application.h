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
 * Entry points: desk_application_new(), desk_application_exit_status(),
 * and those of desk-application-api.h (what the window and pages ask).
 */
#ifndef DESK_APPLICATION_H
#define DESK_APPLICATION_H

#include "desk-application-api.h"

G_BEGIN_DECLS

DeskApplication *desk_application_new(void);
int desk_application_exit_status(DeskApplication *app);

G_END_DECLS

#endif
