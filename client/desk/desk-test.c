/*
 * desk-test.c - the test hook (see desk-test.h).
 *
 * Entry points: desk_test_start(), desk_test_widget_text(),
 * desk_test_screenshot(), desk_test_take_chosen_file().
 */
#include "desk-test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk-application-api.h"
#include "desk-window-api.h"

typedef struct {
    DeskWindow *win;     /* weak */
    char **lines;
    int index;
    gint64 deadline;     /* monotonic µs for the current wait; 0: not started */
    gint64 sleep_until;
} DeskTest;

/* The path of the last choose-file step, until a file chooser takes it. */
static char *chosen_file;

char *desk_test_take_chosen_file(void)
{
    char *p = chosen_file;
    chosen_file = NULL;
    return p;
}

static void collect(GtkWidget *w, GString *s)
{
    if (!gtk_widget_get_visible(w))
        return;
    const char *t = NULL;
    g_autofree char *owned = NULL;
    if (GTK_IS_LABEL(w))
        t = gtk_label_get_text(GTK_LABEL(w));
    else if (GTK_IS_EDITABLE(w) && !GTK_IS_TEXT(w))
        t = gtk_editable_get_text(GTK_EDITABLE(w));
    else if (GTK_IS_TEXT_VIEW(w)) {
        GtkTextBuffer *b = gtk_text_view_get_buffer(GTK_TEXT_VIEW(w));
        GtkTextIter a, e;
        gtk_text_buffer_get_bounds(b, &a, &e);
        t = owned = gtk_text_buffer_get_text(b, &a, &e, FALSE);
    }
    if (t && *t) {
        if (s->len)
            g_string_append(s, " | ");
        g_string_append(s, t);
    }
    if (GTK_IS_EDITABLE(w) || GTK_IS_TEXT_VIEW(w))
        return;
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
        collect(c, s);
}

char *desk_test_widget_text(GtkWidget *widget)
{
    GString *s = g_string_new(NULL);
    collect(widget, s);
    return g_string_free(s, FALSE);
}

int desk_test_screenshot(GtkWidget *widget, const char *path, sj_error *err)
{
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    GtkNative *native = gtk_widget_get_native(widget);
    if (w <= 0 || h <= 0 || !native)
        return sj_error_set(err, SJ_EINVAL, "widget not shown (%dx%d)", w, h);
    GdkPaintable *paint = gtk_widget_paintable_new(widget);
    GtkSnapshot *snap = gtk_snapshot_new();
    /* Opaque background: the window's own may be transparent at its corners. */
    GdkRGBA white = {1, 1, 1, 1};
    gtk_snapshot_append_color(snap, &white, &GRAPHENE_RECT_INIT(0, 0, (float)w, (float)h));
    gdk_paintable_snapshot(paint, snap, w, h);
    GskRenderNode *node = gtk_snapshot_free_to_node(snap);
    g_object_unref(paint);
    if (!node)
        return sj_error_set(err, SJ_EINVAL, "nothing to render");
    GskRenderer *r = gtk_native_get_renderer(native);
    GdkTexture *tex = gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, (float)w, (float)h));
    gsk_render_node_unref(node);
    bool ok = tex && gdk_texture_save_to_png(tex, path);
    if (tex)
        g_object_unref(tex);
    return ok ? 0 : sj_error_set(err, SJ_EIO, "cannot write %s", path);
}

static void finish(DeskTest *t, int status, const char *why)
{
    if (status == 0)
        printf("desk-test: ok (%d lines)\n", t->index);
    else
        printf("desk-test: FAIL line %d: %s\n  %s\n", t->index + 1, t->lines[t->index], why);
    fflush(stdout);
    if (t->win) {
        GtkApplication *app = gtk_window_get_application(GTK_WINDOW(t->win));
        desk_application_set_exit_status(DESK_APPLICATION(app), status);
        g_application_quit(G_APPLICATION(app));
        g_object_remove_weak_pointer(G_OBJECT(t->win), (gpointer *)&t->win);
    }
    g_strfreev(t->lines);
    g_free(t);
}

static bool text_has(GtkWidget *w, const char *want)
{
    g_autofree char *got = desk_test_widget_text(w);
    return strstr(got, want) != NULL;
}

/* A paged list (DESK_TEST_ROW_TEXT): its model and row reader, or false. */
static bool paged(GtkWidget *w, GListModel **model, desk_test_row_text_fn *text)
{
    *text = (desk_test_row_text_fn)g_object_get_data(G_OBJECT(w), DESK_TEST_ROW_TEXT);
    if (!*text)
        return false;
    if (GTK_IS_COLUMN_VIEW(w))
        *model = G_LIST_MODEL(gtk_column_view_get_model(GTK_COLUMN_VIEW(w)));
    else if (GTK_IS_LIST_VIEW(w))
        *model = G_LIST_MODEL(gtk_list_view_get_model(GTK_LIST_VIEW(w)));
    else
        return false;
    return *model != NULL;
}

/* The steps on paged lists.  Returns like step(), or 2 when cmd is not one
 * of them (or w is not such a list). */
static int paged_step(DeskTest *t, GtkWidget *w, char **argv, int argc, gint64 now, char **why)
{
    GListModel *model;
    desk_test_row_text_fn text;
    const char *cmd = argv[0];
    if (!w || !paged(w, &model, &text))
        return 2;
    guint n = g_list_model_get_n_items(model);
    if (strcmp(cmd, "expect-rows") == 0 && argc == 3) {
        if (n == (guint)atoi(argv[2]))
            return 1;
        *why = g_strdup_printf("want %s rows, got %u", argv[2], n);
        return -1;
    }
    if (strcmp(cmd, "select") == 0 && argc == 3) {
        guint i = (guint)atoi(argv[2]);
        g_autofree char *row = i < n ? text(w, i) : NULL;
        if (i < n && !row) {
            if (!t->deadline)
                t->deadline = now + 10 * G_USEC_PER_SEC;
            if (now < t->deadline)
                return 0; /* its page is on the way */
        }
        if (!row) {
            *why = g_strdup_printf("%s has no row %u", argv[1], i);
            return -1;
        }
        g_signal_emit_by_name(w, "activate", i);
        return 1;
    }
    if (strcmp(cmd, "select-text") == 0 && argc == 3) {
        /* The first row with TEXT, reading the rows in order as a person
         * scrolling would (at most the first thousand). */
        for (guint i = 0; i < n && i < 1000; i++) {
            g_autofree char *row = text(w, i);
            if (!row) {
                if (!t->deadline)
                    t->deadline = now + 10 * G_USEC_PER_SEC;
                if (now < t->deadline)
                    return 0;
                break;
            }
            if (strstr(row, argv[2])) {
                g_signal_emit_by_name(w, "activate", i);
                return 1;
            }
        }
        *why = g_strdup_printf("%s has no row with \"%s\"", argv[1], argv[2]);
        return -1;
    }
    if (strcmp(cmd, "wait-row") == 0 && argc >= 4) {
        int secs = argc > 4 ? atoi(argv[4]) : 10;
        if (!t->deadline)
            t->deadline = now + (gint64)secs * G_USEC_PER_SEC;
        guint i = (guint)atoi(argv[2]);
        g_autofree char *row = i < g_list_model_get_n_items(model) ? text(w, i) : NULL;
        if (row && strstr(row, argv[3]))
            return 1;
        if (now < t->deadline)
            return 0;
        *why = g_strdup_printf("after %d s: row %u: want \"%s\", got \"%s\"", secs, i, argv[3],
                               row ? row : "(none)");
        return -1;
    }
    return 2;
}

/* One step.  Returns 1 done, 0 not yet (wait), -1 failed with *why. */
/* ---- notifications, focus and layout -------------------------------------- */

/* The application's notifications (desk-application.h): the steps that
 * need no widget.  Returns like step(), or 2 when cmd is not one of them. */
static int notification_step(DeskTest *t, char **argv, int argc, gint64 now, char **why)
{
    const char *cmd = argv[0];
    DeskApplication *app = DESK_APPLICATION(gtk_window_get_application(GTK_WINDOW(t->win)));
    g_autofree char *raised = desk_application_notifications_text(app);
    if (strcmp(cmd, "wait-notification") == 0 && argc >= 2) {
        int secs = argc > 2 ? atoi(argv[2]) : 10;
        if (!t->deadline)
            t->deadline = now + (gint64)secs * G_USEC_PER_SEC;
        if (strstr(raised, argv[1]))
            return 1;
        if (now < t->deadline)
            return 0;
        *why = g_strdup_printf("after %d s: no notification with \"%s\"; raised: \"%s\"", secs, argv[1],
                               raised);
        return -1;
    }
    if (strcmp(cmd, "expect-no-notification") == 0 && argc == 2) {
        if (*argv[1] ? !strstr(raised, argv[1]) : !*raised)
            return 1;
        *why = g_strdup_printf("do not want \"%s\"; raised: \"%s\"", argv[1], raised);
        return -1;
    }
    if (strcmp(cmd, "click-notification") == 0 && argc == 2) {
        if (desk_application_click_notification(app, argv[1]))
            return 1;
        *why = g_strdup_printf("no notification with \"%s\"; raised: \"%s\"", argv[1], raised);
        return -1;
    }
    return 2;
}

/* True once the window has gone through at least two frames (layout and
 * drawing) since the first call of a step, or two seconds passed: what a
 * person sees after a change.  The frame clock runs meanwhile without
 * invalidating what is drawn (a screenshot right after stays whole). */
static bool settled(DeskTest *t, gint64 now)
{
    static gint64 mark;
    GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(t->win));
    if (!clock)
        return true;
    gint64 frame = gdk_frame_clock_get_frame_counter(clock);
    if (!t->deadline) {
        t->deadline = now + 2 * G_USEC_PER_SEC;
        mark = frame;
        gdk_frame_clock_begin_updating(clock);
        return false;
    }
    if (frame < mark + 2 && now < t->deadline)
        return false;
    gdk_frame_clock_end_updating(clock);
    t->deadline = 0;
    return true;
}

/* w's bounds in the scrolled window that holds it (or the window). */
static GtkWidget *viewport_of(GtkWidget *w, graphene_rect_t *in_it)
{
    GtkWidget *sw = gtk_widget_get_ancestor(w, GTK_TYPE_SCROLLED_WINDOW);
    GtkWidget *area = sw ? sw : GTK_WIDGET(gtk_widget_get_root(w));
    if (!area || !gtk_widget_compute_bounds(w, area, in_it))
        return NULL;
    return area;
}

/* The first shown label inside w (or w) whose text holds text. */
static GtkWidget *label_with(GtkWidget *w, const char *text)
{
    if (!gtk_widget_get_visible(w) || !gtk_widget_get_child_visible(w))
        return NULL;
    if (GTK_IS_LABEL(w) && strstr(gtk_label_get_text(GTK_LABEL(w)), text))
        return w;
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *l = label_with(c, text);
        if (l)
            return l;
    }
    return NULL;
}

/* tab-from A B: the Tab key from A lands on B (or inside it).  2 when cmd
 * is something else. */
static int tab_step(DeskTest *t, GtkWidget *w, char **argv, int argc, char **why)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "tab-from") == 0 && argc == 3) {
        GtkWidget *next = desk_window_lookup(t->win, argv[2]);
        if (!next) {
            *why = g_strdup_printf("no widget named %s", argv[2]);
            return -1;
        }
        gtk_widget_grab_focus(w);
        /* What the Tab key does: the window's move-focus binding. */
        g_signal_emit_by_name(t->win, "move-focus", GTK_DIR_TAB_FORWARD);
        GtkWidget *focus = gtk_root_get_focus(GTK_ROOT(t->win));
        if (focus && (focus == next || gtk_widget_is_ancestor(focus, next)))
            return 1;
        *why = g_strdup_printf("Tab from %s went to a %s, not to %s", argv[1],
                               focus ? G_OBJECT_TYPE_NAME(focus) : "nothing", argv[2]);
        return -1;
    }
    return 2;
}

/* keep-place A / expect-same-place A: where A is shown, remembered, and
 * later found unmoved.  2 when cmd is something else. */
static int place_step(DeskTest *t, GtkWidget *w, char **argv, int argc, gint64 now, char **why)
{
    static GHashTable *places; /* name -> graphene_point_t*, for the whole run */
    const char *cmd = argv[0];
    if ((strcmp(cmd, "keep-place") == 0 || strcmp(cmd, "expect-same-place") == 0) && argc == 2) {
        if (!settled(t, now))
            return 0;
        graphene_point_t p;
        if (!gtk_widget_compute_point(w, GTK_WIDGET(t->win), &GRAPHENE_POINT_INIT(0, 0), &p)) {
            *why = g_strdup_printf("%s is not shown", argv[1]);
            return -1;
        }
        if (!places)
            places = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        if (cmd[0] == 'k') {
            g_hash_table_replace(places, g_strdup(argv[1]), g_memdup2(&p, sizeof p));
            return 1;
        }
        const graphene_point_t *was = g_hash_table_lookup(places, argv[1]);
        if (!was) {
            *why = g_strdup_printf("no keep-place %s before", argv[1]);
            return -1;
        }
        if (fabsf(was->x - p.x) < 0.5f && fabsf(was->y - p.y) < 0.5f)
            return 1;
        *why = g_strdup_printf("%s moved from (%.0f, %.0f) to (%.0f, %.0f)", argv[1], was->x, was->y, p.x,
                               p.y);
        return -1;
    }
    return 2;
}

/* The steps on focus and layout (a pointer or a key must meet what the
 * cadre sees).  Returns like step(), or 2 when cmd is not one of them. */
static int layout_step(DeskTest *t, GtkWidget *w, char **argv, int argc, gint64 now, char **why)
{
    const char *cmd = argv[0];
    int rc = tab_step(t, w, argv, argc, why);
    if (rc == 2)
        rc = place_step(t, w, argv, argc, now, why);
    if (rc != 2)
        return rc;
    if (strcmp(cmd, "expect-in-view") == 0 && argc == 2) {
        if (!settled(t, now))
            return 0;
        graphene_rect_t r;
        GtkWidget *area = gtk_widget_get_mapped(w) ? viewport_of(w, &r) : NULL;
        int h = area ? gtk_widget_get_height(area) : 0;
        if (area && r.origin.y >= -0.5f && r.origin.y + r.size.height <= (float)h + 0.5f)
            return 1;
        *why = area ? g_strdup_printf("%s is at y %.0f..%.0f of a view %d high", argv[1], r.origin.y,
                                      r.origin.y + r.size.height, h)
                    : g_strdup_printf("%s is not shown", argv[1]);
        return -1;
    }
    if (strcmp(cmd, "expect-whole") == 0 && argc == 3) {
        if (!settled(t, now))
            return 0;
        GtkWidget *l = label_with(w, argv[2]);
        if (!l) {
            *why = g_strdup_printf("no label with \"%s\" in %s", argv[2], argv[1]);
            return -1;
        }
        int nat = 0;
        gtk_widget_measure(l, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &nat, NULL, NULL);
        graphene_rect_t r;
        GtkWidget *area = viewport_of(l, &r);
        int aw = area ? gtk_widget_get_width(area) : 0;
        bool cut = pango_layout_is_ellipsized(gtk_label_get_layout(GTK_LABEL(l))) ||
                   gtk_widget_get_width(l) < nat || !area || r.origin.x < -0.5f ||
                   r.origin.x + r.size.width > (float)aw + 0.5f;
        if (!cut)
            return 1;
        *why = g_strdup_printf("\"%s\" is cut: it needs %d px and has %d, at x %.0f..%.0f of a view "
                               "%d wide",
                               gtk_label_get_text(GTK_LABEL(l)), nat, gtk_widget_get_width(l), r.origin.x,
                               r.origin.x + r.size.width, aw);
        return -1;
    }
    if (strcmp(cmd, "scroll-page") == 0 && argc == 3) {
        GtkWidget *sw = gtk_widget_get_ancestor(w, GTK_TYPE_SCROLLED_WINDOW);
        if (!sw) {
            *why = g_strdup_printf("%s is not in a scrolled page", argv[1]);
            return -1;
        }
        GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(sw));
        double range = gtk_adjustment_get_upper(adj) - gtk_adjustment_get_page_size(adj);
        gtk_adjustment_set_value(adj, gtk_adjustment_get_lower(adj) + range * g_ascii_strtod(argv[2], NULL));
        return 1;
    }
    if (strcmp(cmd, "resize-window") == 0 && argc == 3) {
        gtk_window_set_default_size(GTK_WINDOW(t->win), atoi(argv[1]), atoi(argv[2]));
        return 1;
    }
    if (strcmp(cmd, "expect-placeholder") == 0 && argc == 3) {
        const char *ph = GTK_IS_ENTRY(w) ? gtk_entry_get_placeholder_text(GTK_ENTRY(w)) : NULL;
        if (ph && strstr(ph, argv[2]))
            return 1;
        *why = g_strdup_printf("want a placeholder with \"%s\", got \"%s\"", argv[2], ph ? ph : "");
        return -1;
    }
    return 2;
}

/* The steps that wait: sleep, wait-page, wait-text, wait-file.  2 when cmd is not one of them. */
static int wait_step(DeskTest *t, GtkWidget *w, char **argv, int argc, gint64 now, char **why)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "sleep") == 0 && argc == 2) {
        if (!t->sleep_until)
            t->sleep_until = now + g_ascii_strtoll(argv[1], NULL, 10) * 1000;
        if (now < t->sleep_until)
            return 0;
        t->sleep_until = 0;
        return 1;
    }
    if ((strcmp(cmd, "wait-page") == 0 && argc >= 2) ||
        (strcmp(cmd, "wait-text") == 0 && argc >= 3)) {
        bool page = cmd[5] == 'p';
        int secs = argc > (page ? 2 : 3) ? atoi(argv[page ? 2 : 3]) : 10;
        if (!t->deadline)
            t->deadline = now + (gint64)secs * G_USEC_PER_SEC;
        bool ok = page ? strcmp(desk_window_page(t->win), argv[1]) == 0 : text_has(w, argv[2]);
        if (ok)
            return 1;
        if (now < t->deadline)
            return 0;
        g_autofree char *got = page ? g_strdup(desk_window_page(t->win)) : desk_test_widget_text(w);
        *why = g_strdup_printf("after %d s: want \"%s\", got \"%s\"", secs, page ? argv[1] : argv[2], got);
        return -1;
    }
    if (strcmp(cmd, "wait-file") == 0 && argc >= 2) {
        /* A test process outside says "go on" by creating a file (say,
         * after it stopped a daemon the next step must find stopped). */
        int secs = argc > 2 ? atoi(argv[2]) : 10;
        if (!t->deadline)
            t->deadline = now + (gint64)secs * G_USEC_PER_SEC;
        if (g_file_test(argv[1], G_FILE_TEST_EXISTS))
            return 1;
        if (now < t->deadline)
            return 0;
        *why = g_strdup_printf("after %d s: no file %s", secs, argv[1]);
        return -1;
    }
    return 2;
}

/* The steps that do what a person does: choose-file, page, set, click,
 * select, select-text, scroll.  2 when cmd is not one of them. */
/* select N and select-text TEXT on a drop-down, list or flow box: what a
 * person picks.  2 when cmd is not one of them. */
static int select_step(GtkWidget *w, char **argv, int argc, char **why)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "select") == 0 && argc == 3) {
        int i = atoi(argv[2]);
        if (GTK_IS_DROP_DOWN(w)) {
            gtk_drop_down_set_selected(GTK_DROP_DOWN(w), (guint)i);
            return 1;
        }
        if (GTK_IS_FLOW_BOX(w)) {
            GtkFlowBoxChild *child = gtk_flow_box_get_child_at_index(GTK_FLOW_BOX(w), i);
            if (!child) {
                *why = g_strdup_printf("%s has no child %d", argv[1], i);
                return -1;
            }
            g_signal_emit_by_name(w, "child-activated", child);
            return 1;
        }
        GtkListBoxRow *row = GTK_IS_LIST_BOX(w) ? gtk_list_box_get_row_at_index(GTK_LIST_BOX(w), i) : NULL;
        if (!row) {
            *why = g_strdup_printf("%s has no row %d", argv[1], i);
            return -1;
        }
        gtk_list_box_select_row(GTK_LIST_BOX(w), row);
        g_signal_emit_by_name(w, "row-activated", row);
        return 1;
    }
    if (strcmp(cmd, "select-text") == 0 && argc == 3 && GTK_IS_DROP_DOWN(w)) {
        /* The first item of a drop-down of strings that contains TEXT. */
        GListModel *m = gtk_drop_down_get_model(GTK_DROP_DOWN(w));
        for (guint i = 0; m && i < g_list_model_get_n_items(m); i++) {
            g_autoptr(GObject) item = g_list_model_get_item(m, i);
            if (GTK_IS_STRING_OBJECT(item) &&
                strstr(gtk_string_object_get_string(GTK_STRING_OBJECT(item)), argv[2])) {
                gtk_drop_down_set_selected(GTK_DROP_DOWN(w), i);
                return 1;
            }
        }
        *why = g_strdup_printf("%s has no item with \"%s\"", argv[1], argv[2]);
        return -1;
    }
    if (strcmp(cmd, "select-text") == 0 && argc == 3) {
        /* The first shown row whose text contains TEXT: what a person does
         * who reads the list instead of counting rows.  Rows a filter hid
         * are skipped. */
        for (int i = 0;; i++) {
            GtkWidget *row = NULL;
            if (GTK_IS_LIST_BOX(w))
                row = GTK_WIDGET(gtk_list_box_get_row_at_index(GTK_LIST_BOX(w), i));
            else if (GTK_IS_FLOW_BOX(w))
                row = GTK_WIDGET(gtk_flow_box_get_child_at_index(GTK_FLOW_BOX(w), i));
            if (!row)
                break;
            if (!gtk_widget_get_child_visible(row) || !gtk_widget_get_visible(row) || !text_has(row, argv[2]))
                continue;
            if (GTK_IS_FLOW_BOX(w)) {
                g_signal_emit_by_name(w, "child-activated", row);
            } else {
                gtk_list_box_select_row(GTK_LIST_BOX(w), GTK_LIST_BOX_ROW(row));
                g_signal_emit_by_name(w, "row-activated", row);
            }
            return 1;
        }
        *why = g_strdup_printf("%s has no shown row with \"%s\"", argv[1], argv[2]);
        return -1;
    }
    return 2;
}

static int input_step(DeskTest *t, GtkWidget *w, char **argv, int argc, gint64 now, char **why)
{
    const char *cmd = argv[0];
    (void)now;
    if (strcmp(cmd, "choose-file") == 0 && argc == 2) {
        g_free(chosen_file);
        chosen_file = g_strdup(argv[1]);
        return 1;
    }
    if (strcmp(cmd, "page") == 0 && argc == 2) {
        desk_window_show_page(t->win, argv[1]);
        return 1;
    }
    if (strcmp(cmd, "set") == 0 && argc == 3) {
        if (GTK_IS_TEXT_VIEW(w))
            gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(w)), argv[2], -1);
        else if (GTK_IS_EDITABLE(w))
            gtk_editable_set_text(GTK_EDITABLE(w), argv[2]);
        else {
            *why = g_strdup_printf("%s is not an entry", argv[1]);
            return -1;
        }
        return 1;
    }
    if (strcmp(cmd, "click") == 0 && argc == 2) {
        if (!gtk_widget_is_visible(w) || !gtk_widget_is_sensitive(w)) {
            *why = g_strdup_printf("%s is hidden or insensitive", argv[1]);
            return -1;
        }
        if (GTK_IS_CHECK_BUTTON(w))
            gtk_check_button_set_active(GTK_CHECK_BUTTON(w), !gtk_check_button_get_active(GTK_CHECK_BUTTON(w)));
        else
            g_signal_emit_by_name(w, "clicked");
        return 1;
    }
    int rc = select_step(w, argv, argc, why);
    if (rc != 2)
        return rc;
    if (strcmp(cmd, "scroll") == 0 && argc == 3) {
        GtkAdjustment *adj = GTK_IS_SCROLLABLE(w) ? gtk_scrollable_get_vadjustment(GTK_SCROLLABLE(w)) : NULL;
        if (!adj) {
            *why = g_strdup_printf("%s does not scroll", argv[1]);
            return -1;
        }
        double range = gtk_adjustment_get_upper(adj) - gtk_adjustment_get_page_size(adj);
        gtk_adjustment_set_value(adj, gtk_adjustment_get_lower(adj) + range * g_ascii_strtod(argv[2], NULL));
        return 1;
    }
    return 2;
}

/* The steps that check or report: expect-text, expect-no-text,
 * expect-rows, mark, memory, print, screenshot.  2 when cmd is not one of them. */
static int report_step(DeskTest *t, GtkWidget *w, char **argv, int argc, gint64 now, char **why)
{
    const char *cmd = argv[0];
    if ((strcmp(cmd, "expect-text") == 0 || strcmp(cmd, "expect-no-text") == 0) && argc == 3) {
        bool want = cmd[7] == 't';
        if (text_has(w, argv[2]) == want)
            return 1;
        g_autofree char *got = desk_test_widget_text(w);
        *why = g_strdup_printf("%s \"%s\", got \"%s\"", want ? "want" : "do not want", argv[2], got);
        return -1;
    }
    if (strcmp(cmd, "expect-rows") == 0 && argc == 3) {
        int n = 0;
        while (GTK_IS_LIST_BOX(w) && gtk_list_box_get_row_at_index(GTK_LIST_BOX(w), n))
            n++;
        while (GTK_IS_FLOW_BOX(w) && gtk_flow_box_get_child_at_index(GTK_FLOW_BOX(w), n))
            n++;
        if (n == atoi(argv[2]))
            return 1;
        *why = g_strdup_printf("want %s rows, got %d", argv[2], n);
        return -1;
    }
    if (strcmp(cmd, "mark") == 0 && argc == 2) {
        printf("mark %s %" G_GINT64_FORMAT "\n", argv[1], now / 1000);
        fflush(stdout);
        return 1;
    }
    if (strcmp(cmd, "memory") == 0 && argc == 1) {
        /* VmRSS and VmHWM of this process, as the kernel counts them. */
        g_autofree char *status = NULL;
        long rss = -1, hwm = -1;
        if (g_file_get_contents("/proc/self/status", &status, NULL, NULL)) {
            const char *p = strstr(status, "VmRSS:");
            if (p)
                rss = strtol(p + 6, NULL, 10);
            p = strstr(status, "VmHWM:");
            if (p)
                hwm = strtol(p + 6, NULL, 10);
        }
        printf("memory: rss_kib=%ld hwm_kib=%ld\n", rss, hwm);
        fflush(stdout);
        return 1;
    }
    if (strcmp(cmd, "print") == 0 && argc == 2) {
        g_autofree char *got = desk_test_widget_text(w);
        printf("%s: %s\n", argv[1], got);
        fflush(stdout);
        return 1;
    }
    if (strcmp(cmd, "screenshot") == 0 && argc == 3) {
        /* What was just typed or clicked is drawn first: a widget waiting
         * to be redrawn renders blank. */
        if (!settled(t, now))
            return 0;
        sj_error err;
        if (desk_test_screenshot(w, argv[2], &err) != 0) {
            *why = g_strdup(err.message);
            return -1;
        }
        printf("screenshot %s -> %s\n", argv[1], argv[2]);
        return 1;
    }
    return 2;
}

static int step(DeskTest *t, char **argv, int argc, char **why)
{
    const char *cmd = argv[0];
    GtkWidget *w = NULL;
    int nrc = notification_step(t, argv, argc, g_get_monotonic_time(), why);
    if (nrc != 2)
        return nrc;
    bool need_widget = argc > 1 && strcmp(cmd, "wait-page") != 0 && strcmp(cmd, "page") != 0 &&
                       strcmp(cmd, "resize-window") != 0 &&
                       strcmp(cmd, "sleep") != 0 && strcmp(cmd, "wait-file") != 0 &&
                       strcmp(cmd, "mark") != 0 && strcmp(cmd, "choose-file") != 0;
    if (need_widget) {
        w = desk_window_lookup(t->win, argv[1]);
        if (!w) {
            *why = g_strdup_printf("no widget named %s", argv[1]);
            return -1;
        }
    }
    gint64 now = g_get_monotonic_time();
    if (strcmp(cmd, "quit") == 0)
        return 1;
    int prc = paged_step(t, w, argv, argc, now, why);
    if (prc != 2)
        return prc;
    int lrc = layout_step(t, w, argv, argc, now, why);
    if (lrc != 2)
        return lrc;
    int rc = wait_step(t, w, argv, argc, now, why);
    if (rc == 2)
        rc = input_step(t, w, argv, argc, now, why);
    if (rc == 2)
        rc = report_step(t, w, argv, argc, now, why);
    if (rc != 2)
        return rc;
    *why = g_strdup("unknown command or wrong number of words");
    return -1;
}

static gboolean on_tick(gpointer data)
{
    DeskTest *t = data;
    if (!t->win) {
        g_strfreev(t->lines);
        g_free(t);
        return G_SOURCE_REMOVE;
    }
    /* Run as many steps as are ready this tick; stop at a wait. */
    for (;;) {
        if (!t->lines[t->index]) {
            finish(t, 0, NULL);
            return G_SOURCE_REMOVE;
        }
        char *l = g_strstrip(t->lines[t->index]);
        if (!*l || *l == '#') {
            t->index++;
            continue;
        }
        char **argv = NULL;
        int argc = 0;
        g_autoptr(GError) e = NULL;
        if (!g_shell_parse_argv(l, &argc, &argv, &e)) {
            finish(t, 1, e->message);
            return G_SOURCE_REMOVE;
        }
        char *why = NULL;
        int rc = step(t, argv, argc, &why);
        bool quit = strcmp(argv[0], "quit") == 0;
        g_strfreev(argv);
        if (rc < 0) {
            finish(t, 1, why);
            g_free(why);
            return G_SOURCE_REMOVE;
        }
        if (rc == 0)
            return G_SOURCE_CONTINUE;
        t->deadline = 0;
        if (quit) {
            finish(t, 0, NULL);
            return G_SOURCE_REMOVE;
        }
        t->index++;
        /* One action per tick, so GTK can lay out and the loop can turn. */
        return G_SOURCE_CONTINUE;
    }
}

void desk_test_start(DeskWindow *w, const char *script_path)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(script_path, &text, NULL, &e)) {
        fprintf(stderr, "desk-test: %s\n", e->message);
        GtkApplication *app = gtk_window_get_application(GTK_WINDOW(w));
        desk_application_set_exit_status(DESK_APPLICATION(app), 2);
        g_application_quit(G_APPLICATION(app));
        return;
    }
    DeskTest *t = g_new0(DeskTest, 1);
    t->win = w;
    g_object_add_weak_pointer(G_OBJECT(w), (gpointer *)&t->win);
    t->lines = g_strsplit(text, "\n", -1);
    /* Waits are polled every 20 ms, so what a benchmark times between two
     * marks is not rounded up to a slow tick. */
    g_timeout_add(20, on_tick, t);
}
