/*
 * desk-login-page.h - the log-in page.  The station's certificate already
 * says which machine this is (shown on the page); the cadre types or picks
 * their name and types their password.  The password is checked against
 * the verifiers the library keeps, so logging in works while offline.
 * The persons of this node (sc_persons, from the list the county sends)
 * are offered as one-click names, those who logged in here before first
 * (kept in a small file next to the store).
 *
 * When the station's link is refused for good (sc_lasting_refusal()), the
 * page says why and what to do under the station's name.
 *
 * Entry points: desk_login_page_new(), desk_login_page_reset(),
 * desk_login_page_reload_persons(), desk_login_page_update_link().
 * The page is owned by the window.
 */
#ifndef DESK_LOGIN_PAGE_H
#define DESK_LOGIN_PAGE_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_LOGIN_PAGE (desk_login_page_get_type())
G_DECLARE_FINAL_TYPE(DeskLoginPage, desk_login_page, DESK, LOGIN_PAGE, GtkBox)

DeskLoginPage *desk_login_page_new(DeskWindow *w);
/* Clears the password and the message (after logging out). */
void desk_login_page_reset(DeskLoginPage *p);
/* Re-reads the person list (after a REFDATA "persons" event). */
void desk_login_page_reload_persons(DeskLoginPage *p);
/* Shows or hides the lasting refusal (after a link event). */
void desk_login_page_update_link(DeskLoginPage *p);

G_END_DECLS

#endif
