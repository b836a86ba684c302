/*
 * desk-draft.c - form drafts kept on disk (see desk-draft.h).
 *
 * Entry points: desk_draft_path(), desk_draft_open(), desk_draft_free(),
 * desk_draft_get(), desk_draft_set(), desk_draft_clear(),
 * desk_draft_is_empty().
 */
#include "desk-draft.h"

#include "i18n.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#define GROUP "draft"

struct desk_draft {
    char *path;
    GKeyFile *kf;
    char *last;   /* the string returned by the last desk_draft_get() */
};

char *desk_draft_path(const char *store_path, const char *name)
{
    return g_strdup_printf("%s.%s.draft", store_path, name);
}

desk_draft *desk_draft_open(const char *path)
{
    desk_draft *d = g_new0(desk_draft, 1);
    d->path = g_strdup(path);
    d->kf = g_key_file_new();
    g_autoptr(GError) e = NULL;
    if (!g_key_file_load_from_file(d->kf, path, G_KEY_FILE_NONE, &e) &&
        !g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        /* Keep the damaged file for whoever wants to look at it. */
        g_autofree char *bad = g_strdup_printf("%s.bad", path);
        g_warning("draft %s unreadable (%s); moved to %s", path, e->message, bad);
        (void)g_rename(path, bad);
        g_key_file_free(d->kf);
        d->kf = g_key_file_new();
    }
    return d;
}

void desk_draft_free(desk_draft *d)
{
    if (!d)
        return;
    g_key_file_free(d->kf);
    g_free(d->path);
    g_free(d->last);
    g_free(d);
}

const char *desk_draft_get(desk_draft *d, const char *key)
{
    g_free(d->last);
    d->last = g_key_file_get_string(d->kf, GROUP, key, NULL);
    return d->last ? d->last : "";
}

static int save(desk_draft *d, sj_error *err)
{
    gsize len = 0;
    g_autofree char *data = g_key_file_to_data(d->kf, &len, NULL);
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents_full(d->path, data, (gssize)len,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0600, &e))
        return sj_error_set(err, SJ_EIO, _("The draft could not be saved to %s: %s. Check the free disk space and the folder's permissions."),
                            d->path, e->message);
    return 0;
}

int desk_draft_set(desk_draft *d, const char *key, const char *value, sj_error *err)
{
    if (!value || !*value) {
        if (!g_key_file_has_key(d->kf, GROUP, key, NULL))
            return 0;
        g_key_file_remove_key(d->kf, GROUP, key, NULL);
    } else {
        g_autofree char *old = g_key_file_get_string(d->kf, GROUP, key, NULL);
        if (old && strcmp(old, value) == 0)
            return 0;
        g_key_file_set_string(d->kf, GROUP, key, value);
    }
    return save(d, err);
}

int desk_draft_clear(desk_draft *d, sj_error *err)
{
    g_key_file_free(d->kf);
    d->kf = g_key_file_new();
    if (g_unlink(d->path) != 0 && errno != ENOENT)
        return sj_error_set(err, SJ_EIO, _("The draft file %s could not be removed: %s."), d->path, g_strerror(errno));
    return 0;
}

bool desk_draft_is_empty(desk_draft *d)
{
    gsize n = 0;
    g_auto(GStrv) keys = g_key_file_get_keys(d->kf, GROUP, &n, NULL);
    for (gsize i = 0; i < n; i++) {
        g_autofree char *v = g_key_file_get_string(d->kf, GROUP, keys[i], NULL);
        if (v && *v)
            return false;
    }
    return true;
}
