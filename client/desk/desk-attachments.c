/*
 * desk-attachments.c - a case's photos and scans in the case view (see
 * desk-attachments.h).
 *
 * Entry points: desk_attachments_new(), desk_attachments_show(),
 * desk_attachments_choose().
 */
#include "desk-attachments.h"

#include <string.h>

#include "desk-test.h"
#include "desk-widgets.h"
#include "i18n.h"
#include "uuid.h"

#define THUMB_SIZE 96

struct _DeskAttachments {
    GtkBox parent;
    DeskWindow *win;
    bool have_case;
    uint8_t case_id[16];
    GtkWidget *add, *tiles, *empty;
    unsigned n_tiles; /* tiles shown, named attachments.tile.N for the test hook */
};

G_DEFINE_TYPE(DeskAttachments, desk_attachments, GTK_TYPE_BOX)

/* ---- the viewer ---------------------------------------------------------- */

/* What a viewer window shows, kept for its "Save…" button. */
typedef struct viewer {
    GBytes *file;
    char *name;
} viewer;

static void viewer_free(gpointer p)
{
    viewer *vw = p;
    g_bytes_unref(vw->file);
    g_free(vw->name);
    g_free(vw);
}

static int viewer_write(gpointer data, const char *path, sj_error *err)
{
    viewer *vw = data;
    GError *e = NULL;
    gsize n = 0;
    const void *d = g_bytes_get_data(vw->file, &n);
    if (!g_file_set_contents(path, d, (gssize)n, &e)) {
        sj_error_set(err, SJ_EIO, _("Cannot write %s: %s"), path, e->message);
        g_error_free(e);
        return SJ_EIO;
    }
    return 0;
}

static void on_viewer_save(GtkButton *b, gpointer data)
{
    DeskAttachments *a = data;
    viewer *vw = g_object_get_data(G_OBJECT(b), "viewer");
    desk_window_save_file(a->win, _("Save the attachment"), vw->name, viewer_write, vw);
}

/* The picture itself for JPEG and PNG; for a PDF what it is and how to
 * read it (saved, then opened with the computer's PDF reader). */
static void open_viewer(DeskAttachments *a, const char *name, const char *mime,
                        const uint8_t *file, size_t len)
{
    viewer *vw = g_new0(viewer, 1);
    vw->file = g_bytes_new(file, len);
    vw->name = g_strdup(name);
    GtkWidget *win = gtk_window_new();
    gtk_window_set_transient_for(GTK_WINDOW(win), GTK_WINDOW(a->win));
    gtk_window_set_title(GTK_WINDOW(win), name);
    gtk_window_set_default_size(GTK_WINDOW(win), 800, 900);
    g_object_set_data_full(G_OBJECT(win), "viewer", vw, viewer_free);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    gtk_widget_add_css_class(box, "page");
    GError *e = NULL;
    GdkTexture *tex = strcmp(mime, "application/pdf") != 0
                          ? gdk_texture_new_from_bytes(vw->file, &e)
                          : NULL;
    if (tex) {
        GtkWidget *pic = gtk_picture_new_for_paintable(GDK_PAINTABLE(tex));
        gtk_picture_set_can_shrink(GTK_PICTURE(pic), true);
        gtk_widget_set_vexpand(pic, true);
        GtkWidget *sc = gtk_scrolled_window_new();
        gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sc), pic);
        gtk_widget_set_vexpand(sc, true);
        gtk_box_append(GTK_BOX(box), sc);
        g_object_unref(tex);
    } else {
        if (e)
            g_error_free(e);
        GtkWidget *icon = gtk_image_new_from_icon_name("x-office-document");
        gtk_image_set_pixel_size(GTK_IMAGE(icon), 128);
        gtk_box_append(GTK_BOX(box), icon);
        gtk_box_append(GTK_BOX(box),
                       desk_label_line(_("A PDF scan: save it and open it with the computer's PDF "
                                         "reader."),
                                       NULL));
    }
    GtkWidget *save = gtk_button_new_with_label(_("Save…"));
    g_object_set_data(G_OBJECT(save), "viewer", vw);
    g_signal_connect(save, "clicked", G_CALLBACK(on_viewer_save), a);
    gtk_box_append(GTK_BOX(box), save);
    gtk_window_set_child(GTK_WINDOW(win), box);
    desk_window_register(a->win, "attachment.viewer", win);
    gtk_window_present(GTK_WINDOW(win));
}

/* ---- the tiles ----------------------------------------------------------- */

/* The attachment a tile stands for. */
typedef struct tile {
    uint8_t attachment_id[16];
    char name[SJ_ATTACH_NAME_MAX + 1];
    char mime[32];
} tile;

typedef struct fetch_job {
    DeskAttachments *a; /* a reference: the answer may come after a page change */
    tile t;
} fetch_job;

static void on_fetched(sc_client *c, int status, const char *reason, const uint8_t *file, size_t len,
                       void *data)
{
    fetch_job *j = data;
    (void)c;
    if (status == 0) {
        open_viewer(j->a, j->t.name, j->t.mime, file, len);
        if (j->a->have_case)
            desk_attachments_show(j->a, j->a->case_id,
                                  gtk_widget_get_visible(j->a->add));
    } else {
        sj_error err;
        sj_error_set(&err, status, "%s", reason);
        desk_window_show_error(j->a->win, _("The attachment could not be fetched"), &err);
    }
    g_object_unref(j->a);
    g_free(j);
}

static void on_tile_open(GtkButton *b, gpointer data)
{
    DeskAttachments *a = data;
    const tile *t = g_object_get_data(G_OBJECT(b), "tile");
    sc_client *c = desk_window_client(a->win);
    uint8_t *file = NULL;
    size_t len = 0;
    sj_error err;
    if (sc_attachment_data(c, t->attachment_id, &file, &len, &err) == 0) {
        open_viewer(a, t->name, t->mime, file, len);
        free(file);
        return;
    }
    fetch_job *j = g_new0(fetch_job, 1);
    j->a = g_object_ref(a);
    j->t = *t;
    if (sc_attachment_fetch(c, a->case_id, t->attachment_id, on_fetched, j, &err) != 0) {
        g_object_unref(j->a);
        g_free(j);
        desk_window_show_error(a->win, _("The attachment could not be fetched"), &err);
        return;
    }
    desk_window_notify(a->win, _("Fetching the attachment from the county…"), false);
}

/* The thumbnail: the picture itself when held here and an image, else an
 * icon of its kind. */
static GtkWidget *thumbnail(DeskAttachments *a, const sc_attach_row *r)
{
    if (r->have_data && strcmp(r->mime, "application/pdf") != 0) {
        uint8_t *file = NULL;
        size_t len = 0;
        sj_error err;
        if (sc_attachment_data(desk_window_client(a->win), r->attachment_id, &file, &len, &err) ==
            0) {
            GBytes *bytes = g_bytes_new_take(file, len);
            GdkTexture *tex = gdk_texture_new_from_bytes(bytes, NULL);
            g_bytes_unref(bytes);
            if (tex) {
                GtkWidget *pic = gtk_picture_new_for_paintable(GDK_PAINTABLE(tex));
                g_object_unref(tex);
                gtk_picture_set_can_shrink(GTK_PICTURE(pic), true);
                gtk_widget_set_size_request(pic, THUMB_SIZE, THUMB_SIZE);
                return pic;
            }
        }
    }
    GtkWidget *icon = gtk_image_new_from_icon_name(
        strcmp(r->mime, "application/pdf") == 0 ? "x-office-document" : "image-x-generic");
    gtk_image_set_pixel_size(GTK_IMAGE(icon), THUMB_SIZE / 2);
    gtk_widget_set_size_request(icon, THUMB_SIZE, THUMB_SIZE);
    return icon;
}

static char *state_text(const sc_attach_row *r)
{
    if (r->code)
        return g_strdup_printf("%s%s", _("Refused: "), r->reason);
    if (!r->local)
        return g_strdup(_("attachment: fetched from the county"));
    if (r->chunks_applied >= r->chunk_count)
        return g_strdup(_("attachment: recorded by the county"));
    return g_strdup_printf(_("attachment: uploading, %u of %u pieces recorded"), r->chunks_applied,
                           r->chunk_count);
}

static void add_tile(DeskAttachments *a, const sc_attach_row *r, const char *state)
{
    tile *t = g_new0(tile, 1);
    memcpy(t->attachment_id, r->attachment_id, 16);
    g_strlcpy(t->name, r->name, sizeof t->name);
    g_strlcpy(t->mime, r->mime, sizeof t->mime);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    gtk_box_append(GTK_BOX(box), thumbnail(a, r));
    GtkWidget *name = desk_label_line(r->name, NULL);
    gtk_label_set_ellipsize(GTK_LABEL(name), PANGO_ELLIPSIZE_MIDDLE);
    gtk_label_set_max_width_chars(GTK_LABEL(name), 16);
    gtk_box_append(GTK_BOX(box), name);
    if (r->material[0])
        gtk_box_append(GTK_BOX(box), desk_label_line(r->material, "dim-label"));
    gtk_box_append(GTK_BOX(box), desk_label_line(state, "dim-label"));
    GtkWidget *btn = gtk_button_new();
    gtk_button_set_child(GTK_BUTTON(btn), box);
    gtk_widget_set_tooltip_text(btn, _("Open"));
    g_object_set_data_full(G_OBJECT(btn), "tile", t, g_free);
    g_signal_connect(btn, "clicked", G_CALLBACK(on_tile_open), a);
    gtk_flow_box_append(GTK_FLOW_BOX(a->tiles), btn);
    g_autofree char *hook = g_strdup_printf("attachments.tile.%u", a->n_tiles++);
    desk_window_register(a->win, hook, btn);
}

static void fill(DeskAttachments *a, bool may_attach)
{
    sc_client *c = desk_window_client(a->win);
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(a->tiles)))
        gtk_flow_box_remove(GTK_FLOW_BOX(a->tiles), child);
    a->n_tiles = 0;
    sc_attach_row *rows = NULL;
    size_t n = 0;
    sj_error err;
    if (sc_attachments(c, a->case_id, &rows, &n, &err) != 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        g_autofree char *state = state_text(&rows[i]);
        add_tile(a, &rows[i], state);
    }
    free(rows);
    gtk_widget_set_visible(a->empty, n == 0);
    gtk_widget_set_visible(a->add, may_attach);
}

/* ---- the county's list ----------------------------------------------------- */

typedef struct list_job {
    DeskAttachments *a;
    uint8_t case_id[16];
} list_job;

static void on_county_list(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    list_job *j = data;
    DeskAttachments *a = j->a;
    if (status == 0 && res && res->result_case == SANJI__QUERY_RESULT__RESULT_ATTACHMENT &&
        a->have_case && memcmp(a->case_id, j->case_id, 16) == 0) {
        sc_attach_row *rows = NULL;
        size_t n = 0;
        sj_error err;
        if (sc_attachments(c, a->case_id, &rows, &n, &err) != 0)
            n = 0;
        for (size_t i = 0; i < res->attachment->n_attachments; i++) {
            const Sanji__AttachmentInfo *in = res->attachment->attachments[i];
            bool known = false;
            for (size_t k = 0; k < n && !known; k++)
                known = in->attachment_id.len == 16 &&
                        memcmp(rows[k].attachment_id, in->attachment_id.data, 16) == 0;
            if (known || in->attachment_id.len != 16)
                continue;
            sc_attach_row r;
            memset(&r, 0, sizeof r);
            memcpy(r.attachment_id, in->attachment_id.data, 16);
            g_strlcpy(r.name, in->name ? in->name : "", sizeof r.name);
            g_strlcpy(r.mime, in->mime ? in->mime : "", sizeof r.mime);
            g_strlcpy(r.material, in->material ? in->material : "", sizeof r.material);
            g_autofree char *state =
                in->complete ? g_strdup(_("attachment: complete at the county"))
                             : g_strdup_printf(_("attachment: %u of %u pieces at the county"),
                                               in->chunks_received, in->chunk_count);
            add_tile(a, &r, state);
            gtk_widget_set_visible(a->empty, false);
        }
        free(rows);
    }
    g_object_unref(a);
    g_free(j);
}

static void ask_county(DeskAttachments *a)
{
    list_job *j = g_new0(list_job, 1);
    j->a = g_object_ref(a);
    memcpy(j->case_id, a->case_id, 16);
    Sanji__AttachmentQuery aq = SANJI__ATTACHMENT_QUERY__INIT;
    aq.case_id = (ProtobufCBinaryData){16, j->case_id};
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_ATTACHMENT;
    q.attachment = &aq;
    sj_error err;
    if (sc_query(desk_window_client(a->win), &q, on_county_list, j, &err) != 0) {
        /* Offline: what this desk holds is shown. */
        g_object_unref(j->a);
        g_free(j);
    }
}

void desk_attachments_show(DeskAttachments *a, const uint8_t case_id[16], bool may_attach)
{
    bool same = a->have_case && memcmp(a->case_id, case_id, 16) == 0;
    /* case_id may be a->case_id itself (a refresh of the case shown). */
    memmove(a->case_id, case_id, 16);
    a->have_case = true;
    gtk_widget_set_visible(GTK_WIDGET(a), true);
    fill(a, may_attach);
    /* What the county has that this desk does not hold (a township desk
     * sees what a station attached): asked once per case shown. */
    if (!same)
        ask_county(a);
}

/* ---- attaching ------------------------------------------------------------- */

typedef struct choose_job {
    desk_attachments_chosen_fn chosen;
    gpointer data;
} choose_job;

/* Reads one chosen file whole and hands it on. */
static void read_chosen(const choose_job *j, GFile *f)
{
    g_autofree char *path = g_file_get_path(f);
    g_autofree char *shown = path ? NULL : g_file_get_uri(f);
    char *contents = NULL;
    gsize len = 0;
    GError *e = NULL;
    if (g_file_load_contents(f, NULL, &contents, &len, NULL, &e)) {
        GBytes *b = g_bytes_new_take(contents, len);
        j->chosen(j->data, path ? path : shown, b, NULL);
        g_bytes_unref(b);
        return;
    }
    sj_error err;
    sj_error_set(&err, SJ_EIO, _("Cannot read %s: %s"), path ? path : shown, e->message);
    g_error_free(e);
    j->chosen(j->data, path ? path : shown, NULL, &err);
}

static void on_chosen(GtkNativeDialog *d, int response, gpointer data)
{
    choose_job *j = data;
    if (response == GTK_RESPONSE_ACCEPT) {
        GListModel *files = gtk_file_chooser_get_files(GTK_FILE_CHOOSER(d));
        for (guint i = 0; files && i < g_list_model_get_n_items(files); i++) {
            GFile *f = g_list_model_get_item(files, i);
            read_chosen(j, f);
            g_object_unref(f);
        }
        if (files)
            g_object_unref(files);
    }
    g_free(j);
    g_object_unref(d);
}

void desk_attachments_choose(DeskWindow *w, desk_attachments_chosen_fn chosen, gpointer data)
{
    choose_job *j = g_new0(choose_job, 1);
    *j = (choose_job){chosen, data};
    g_autofree char *test_path = desk_test_take_chosen_file();
    if (test_path) {
        GFile *f = g_file_new_for_path(test_path);
        read_chosen(j, f);
        g_object_unref(f);
        g_free(j);
        return;
    }
    GtkFileChooserNative *d = gtk_file_chooser_native_new(
        _("Attach a photo or scan"), GTK_WINDOW(w), GTK_FILE_CHOOSER_ACTION_OPEN, _("Attach"),
        _("Cancel"));
    gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(d), true);
    GtkFileFilter *filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, _("Photos and scans (JPEG, PNG, PDF)"));
    gtk_file_filter_add_mime_type(filter, "image/jpeg");
    gtk_file_filter_add_mime_type(filter, "image/png");
    gtk_file_filter_add_mime_type(filter, "application/pdf");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), filter);
    g_object_unref(filter);
    g_signal_connect(d, "response", G_CALLBACK(on_chosen), j);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

/* The case page's button: each chosen file attached to the case shown. */
static void attach_chosen(gpointer data, const char *path, GBytes *contents, const sj_error *read_err)
{
    DeskAttachments *a = data;
    if (!contents) {
        desk_window_show_error(a->win, _("The file was not attached"), read_err);
        return;
    }
    gsize len = 0;
    const uint8_t *bytes = g_bytes_get_data(contents, &len);
    sj_error err;
    if (sc_attach(desk_window_client(a->win), a->case_id, path, bytes, len, NULL, NULL, &err) == 0) {
        desk_window_notify_saved(a->win);
        fill(a, true);
    } else {
        desk_window_show_error(a->win, _("The file was not attached"), &err);
    }
}

static void on_add(GtkButton *b, gpointer data)
{
    DeskAttachments *a = data;
    (void)b;
    desk_attachments_choose(a->win, attach_chosen, a);
}

/* ---- the widget -------------------------------------------------------------- */

static void desk_attachments_class_init(DeskAttachmentsClass *klass)
{
    (void)klass;
}

static void desk_attachments_init(DeskAttachments *a)
{
    (void)a;
}

DeskAttachments *desk_attachments_new(DeskWindow *w)
{
    DeskAttachments *a = g_object_new(DESK_TYPE_ATTACHMENTS, "orientation",
                                      GTK_ORIENTATION_VERTICAL, "spacing", 6, NULL);
    a->win = w;
    GtkWidget *head = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    gtk_box_append(GTK_BOX(head), desk_label_line(_("Attachments"), "title-3"));
    a->add = gtk_button_new_with_label(_("Attach a photo or scan…"));
    g_signal_connect(a->add, "clicked", G_CALLBACK(on_add), a);
    gtk_box_append(GTK_BOX(head), a->add);
    a->empty = desk_label_line(_("No attachments."), "dim-label");
    a->tiles = gtk_flow_box_new();
    gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(a->tiles), GTK_SELECTION_NONE);
    gtk_flow_box_set_max_children_per_line(GTK_FLOW_BOX(a->tiles), 6);
    gtk_box_append(GTK_BOX(a), head);
    gtk_box_append(GTK_BOX(a), a->empty);
    gtk_box_append(GTK_BOX(a), a->tiles);
    gtk_widget_set_visible(GTK_WIDGET(a), false);
    desk_window_register(w, "attachments.add", a->add);
    desk_window_register(w, "attachments.tiles", a->tiles);
    return a;
}
