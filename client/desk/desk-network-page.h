/*
 * desk-network-page.h - "one glance" at the network (鲁山's monitoring
 * view): every township relay and station in scope, online or not, when it
 * was last seen, and how many items wait in its queue.  Asked from the peer
 * (sc_query network_status) when the page is shown, on the refresh button
 * and every 30 seconds while the link is up.
 *
 * Entry points: desk_network_page_new(), desk_network_page_refresh().
 * The page is owned by the window.
 */
#ifndef DESK_NETWORK_PAGE_H
#define DESK_NETWORK_PAGE_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_NETWORK_PAGE (desk_network_page_get_type())
G_DECLARE_FINAL_TYPE(DeskNetworkPage, desk_network_page, DESK, NETWORK_PAGE, GtkBox)

DeskNetworkPage *desk_network_page_new(DeskWindow *w);
void desk_network_page_refresh(DeskNetworkPage *p);

G_END_DECLS

#endif
