/*
 * desk-case-view.h - one case: what it is, where it is now, whether this
 * desk's latest action on it is saved here, has reached the township, or is
 * recorded by the county; its timeline (who, where, when, what), and the
 * actions the logged-in person may take now (sc_allowed_actions, i.e. the
 * state machine of common/domain/case.h) with the inputs each one needs (result,
 * department, materials list, satisfaction, note).
 *
 * The action inputs are kept in a draft file like the register form, so a
 * half-written result or 退办 reason survives a crash.
 *
 * Entry points: desk_case_view_new(), desk_case_view_show(),
 * desk_case_view_refresh().  The view is owned by the window.
 */
#ifndef DESK_CASE_VIEW_H
#define DESK_CASE_VIEW_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_CASE_VIEW (desk_case_view_get_type())
G_DECLARE_FINAL_TYPE(DeskCaseView, desk_case_view, DESK, CASE_VIEW, GtkBox)

DeskCaseView *desk_case_view_new(DeskWindow *w);
void desk_case_view_show(DeskCaseView *v, const uint8_t case_id[16]);
/* Re-reads the shown case from the local store. */
void desk_case_view_refresh(DeskCaseView *v);

G_END_DECLS

#endif
