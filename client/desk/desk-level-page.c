/*
 * desk-level-page.c - the township or county desk (see desk-level-page.h).
 *
 * Entry points: desk_level_page_new(), desk_level_page_refresh(),
 * desk_level_page_show(), desk_level_page_reload_refdata().
 */
#include "desk-level-page.h"

#include "desk-case-list.h"
#include "desk-view-cards.h"
#include "i18n.h"

struct _DeskLevelPage {
    GtkBox parent;
    DeskWindow *win;
    DeskViewCards *cards;
    DeskCaseList *list;
};

G_DEFINE_TYPE(DeskLevelPage, desk_level_page, GTK_TYPE_BOX)

void desk_level_page_refresh(DeskLevelPage *p)
{
    desk_case_list_refresh(p->list);
    desk_view_cards_refresh(p->cards);
}

void desk_level_page_show(DeskLevelPage *p)
{
    desk_view_cards_show(p->cards, 0);
}

void desk_level_page_reload_refdata(DeskLevelPage *p)
{
    desk_case_list_reload_refdata(p->list);
}

static void desk_level_page_class_init(DeskLevelPageClass *klass)
{
}

static void desk_level_page_init(DeskLevelPage *p)
{
}

DeskLevelPage *desk_level_page_new(DeskWindow *w, desk_level level)
{
    DeskLevelPage *p = g_object_new(DESK_TYPE_LEVEL_PAGE, "orientation", GTK_ORIENTATION_VERTICAL,
                                    "spacing", 12, NULL);
    p->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(p), "page");
    bool county = level == DESK_LEVEL_COUNTY;
    bool department = level == DESK_LEVEL_DEPARTMENT;
    const char *prefix = county ? "county" : department ? "department" : "township";
    g_autofree char *ln = g_strdup_printf("%s.list", prefix);
    p->list = desk_case_list_new(w, ln, "");
    gtk_widget_set_vexpand(GTK_WIDGET(p->list), true);
    if (county)
        desk_case_list_enable_bulk(p->list);
    p->cards = desk_view_cards_new(w, prefix,
                                   county       ? SJ_NODE_ROLE_COUNTY_DESK
                                   : department ? SJ_NODE_ROLE_DEPARTMENT_DESK
                                                : SJ_NODE_ROLE_TOWNSHIP_DESK,
                                   p->list);
    gtk_box_append(GTK_BOX(p), GTK_WIDGET(p->cards));
    gtk_box_append(GTK_BOX(p), GTK_WIDGET(p->list));
    return p;
}
