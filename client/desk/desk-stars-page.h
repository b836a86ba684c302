/*
 * desk-stars-page.h - the 星级 page (docs/STATISTICS.md "Station stars"):
 * a year and optionally a quarter chosen by the user, the county's star
 * rating of the stations the desk sees asked for (Query.stars; a township
 * desk's and a station's question goes through the relay), one row per
 * station with its stars (★/☆) and each star's figure in the words of
 * client/stars_out.h.  The county desk sees the county's stations, a
 * township desk its township's, a station itself.  It starts with the
 * current year.
 *
 * Test hooks (desk_window_register): "stars.year", "stars.quarter",
 * "stars.ask", "stars.message", "stars.grid".
 *
 * Entry points: desk_stars_page_new().
 */
#ifndef DESK_STARS_PAGE_H
#define DESK_STARS_PAGE_H

#include <gtk/gtk.h>

#include "desk-window-api.h"

G_BEGIN_DECLS

#define DESK_TYPE_STARS_PAGE (desk_stars_page_get_type())
G_DECLARE_FINAL_TYPE(DeskStarsPage, desk_stars_page, DESK, STARS_PAGE, GtkBox)

DeskStarsPage *desk_stars_page_new(DeskWindow *w);

G_END_DECLS

#endif
