/*
 * desk-link-bar.h - the strip at the top of the window that always says
 * whether this desk is online, whether the county is reachable behind the
 * relay (updated as the relay reports a change, with the time of its last
 * county contact when down), how many items wait in the outbox, and why the
 * link last failed.  A refusal that retrying cannot fix (a revoked or
 * expired certificate, a wrong role, a station out of the relay's scope:
 * sc_lasting_refusal()) replaces the "sent by itself" line with the reason
 * and what to do (sc_lasting_advice(); the whole text is its tooltip).
 *
 * Entry points: desk_link_bar_new(), desk_link_bar_update().
 * The bar is a GtkWidget owned by its parent; it keeps a one-second timer
 * (for the reconnect countdown) that it removes itself on dispose.
 */
#ifndef DESK_LINK_BAR_H
#define DESK_LINK_BAR_H

#include <gtk/gtk.h>

#include "sanji_client.h"

G_BEGIN_DECLS

#define DESK_TYPE_LINK_BAR (desk_link_bar_get_type())
G_DECLARE_FINAL_TYPE(DeskLinkBar, desk_link_bar, DESK, LINK_BAR, GtkBox)

DeskLinkBar *desk_link_bar_new(sc_client *c);

/* Re-reads sc_status(); ev (may be NULL) is the event that caused it. */
void desk_link_bar_update(DeskLinkBar *b, const sc_event *ev);

/* The labels, for the window's registry of named widgets. */
GtkWidget *desk_link_bar_state_label(DeskLinkBar *b);
GtkWidget *desk_link_bar_outbox_label(DeskLinkBar *b);
GtkWidget *desk_link_bar_upstream_label(DeskLinkBar *b);
GtkWidget *desk_link_bar_detail_label(DeskLinkBar *b);

G_END_DECLS

#endif
