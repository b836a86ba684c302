/*
 * desk-passwd.h - the password change form (修改密码): the current
 * password, the new one twice, and a button; it calls sc_change_password()
 * (the strength rules of common/domain/password.h, the old password checked
 * against the verifier held here, the new verifier to the outbox) and,
 * once saved, done(data).
 *
 * Two uses: the login page, where a person whose password the county set
 * (a new person, a reset) must choose a new one before anything else (the
 * current password is the one just typed, and its entry is hidden:
 * desk_passwd_form_set_current()), and the window the header bar's
 * 修改密码 opens (desk_passwd_window_open()).
 *
 * Widgets for the test script are registered as <prefix>.current,
 * <prefix>.new, <prefix>.again, <prefix>.submit and <prefix>.message.
 *
 * Entry points: desk_passwd_form_new(), desk_passwd_form_set_current(),
 * desk_passwd_form_reset(), desk_passwd_window_open().
 */
#ifndef DESK_PASSWD_H
#define DESK_PASSWD_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

typedef void (*desk_passwd_done_fn)(gpointer data);

GtkWidget *desk_passwd_form_new(DeskWindow *w, const char *prefix, desk_passwd_done_fn done,
                                gpointer data);
/* The current password is known (just typed at login): its entry is hidden.
 * NULL shows it again. */
void desk_passwd_form_set_current(GtkWidget *form, const char *password);
/* Empties the entries and the message. */
void desk_passwd_form_reset(GtkWidget *form);

/* The 修改密码 window of the logged-in person, over w. */
void desk_passwd_window_open(DeskWindow *w);

#endif
