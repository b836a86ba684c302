/*
 * desk-register-form.h - 诉求登记: the form a duty cadre fills while the
 * villager is there.  A catalogue picker (category, then item, or a keyword)
 * shows the item's materials, department and time limit; the applicant's
 * name, ID number (18 characters, check digit verified as typed) and phone
 * are checked field by field with the reason shown next to the field; saving
 * writes the case to the outbox at once (sc_register), online or not.
 * 添加附件 lets the cadre choose photos and scans of the materials, each
 * checked when chosen (kind, size) and with the item's material it
 * answers; they are attached to the case right after it is saved, by the
 * same sc_attach() as the case page and `sanji register --attach`.
 *
 * Every change is written to a draft file next to the store and read back
 * when the program starts, so a crash or power cut loses nothing typed.
 *
 * Entry points: desk_register_form_new(), desk_register_form_reload_catalogue().
 * The form is owned by the window.
 */
#ifndef DESK_REGISTER_FORM_H
#define DESK_REGISTER_FORM_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_REGISTER_FORM (desk_register_form_get_type())
G_DECLARE_FINAL_TYPE(DeskRegisterForm, desk_register_form, DESK, REGISTER_FORM, GtkBox)

DeskRegisterForm *desk_register_form_new(DeskWindow *w);
/* The catalogue changed (REFDATA): rebuild the picker, keeping the choice. */
void desk_register_form_reload_catalogue(DeskRegisterForm *f);

G_END_DECLS

#endif
