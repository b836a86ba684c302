/*
 * desk_fixture.c - a filled client store for desk tests (see
 * desk_fixture.h).
 *
 * Entry points: desk_fixture_store(), desk_fixture_run().
 */
#include "desk_fixture.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "password.h"
#include "proc.h"
#include "store.h"

static int put(sc_store *st, const char *kind, const ProtobufCMessage *m, sj_error *err)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = g_malloc(len ? len : 1);
    protobuf_c_message_pack(m, buf);
    int rc = sc_store_ref_put(st, kind, 1, buf, len, err);
    g_free(buf);
    return rc;
}

static int level_of(const char *s)
{
    return strcmp(s, "village") == 0 ? 1 : strcmp(s, "township") == 0 ? 2 : 3;
}

int desk_fixture_store(const char *store_path, const char *node_id, const char *source_dir,
                       const char *person_id, const char *name, int role, const char *unit,
                       const char *password, sj_error *err)
{
    g_autofree char *cats_path = g_build_filename(source_dir, "deploy/demo/catalogue_categories.csv", NULL);
    g_autofree char *items_path = g_build_filename(source_dir, "deploy/demo/catalogue.csv", NULL);
    g_autofree char *cats_text = NULL, *items_text = NULL;
    if (!g_file_get_contents(cats_path, &cats_text, NULL, NULL) ||
        !g_file_get_contents(items_path, &items_text, NULL, NULL))
        return sj_error_set(err, SJ_EIO, "cannot read the demo catalogue under %s", source_dir);
    g_auto(GStrv) cat_lines = g_strsplit(cats_text, "\n", -1);
    g_auto(GStrv) item_lines = g_strsplit(items_text, "\n", -1);
    GPtrArray *keep = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);

    Sanji__CatalogueSync cs = SANJI__CATALOGUE_SYNC__INIT;
    guint nc = g_strv_length(cat_lines), ni = g_strv_length(item_lines);
    Sanji__CatalogueCategory *cats = g_new0(Sanji__CatalogueCategory, nc);
    Sanji__CatalogueCategory **pcats = g_new0(Sanji__CatalogueCategory *, nc);
    Sanji__CatalogueItem *items = g_new0(Sanji__CatalogueItem, ni);
    Sanji__CatalogueItem **pitems = g_new0(Sanji__CatalogueItem *, ni);
    for (guint i = 1; i < nc; i++) {
        char **f = g_strsplit(g_strstrip(cat_lines[i]), ",", -1);
        g_ptr_array_add(keep, f);
        if (g_strv_length(f) < 2)
            continue;
        sanji__catalogue_category__init(&cats[cs.n_categories]);
        cats[cs.n_categories].code = f[0];
        cats[cs.n_categories].name = f[1];
        pcats[cs.n_categories] = &cats[cs.n_categories];
        cs.n_categories++;
    }
    for (guint i = 1; i < ni; i++) {
        char **f = g_strsplit(g_strstrip(item_lines[i]), ",", -1);
        g_ptr_array_add(keep, f);
        if (g_strv_length(f) < 8)
            continue;
        char **m = g_strsplit(f[7], "|", -1);
        g_ptr_array_add(keep, m);
        Sanji__CatalogueItem *it = &items[cs.n_items];
        sanji__catalogue_item__init(it);
        it->code = f[0];
        it->category = f[1];
        it->name = f[2];
        it->min_level = level_of(f[3]);
        it->department = f[4];
        it->limit_days = (uint32_t)atoi(f[5]);
        it->urgent_limit_days = (uint32_t)atoi(f[6]);
        it->materials = m;
        it->n_materials = g_strv_length(m);
        it->active = true;
        pitems[cs.n_items++] = it;
    }
    cs.version = 1;
    cs.categories = pcats;
    cs.items = pitems;

    char verifier[SJ_PASSWORD_VERIFIER_SIZE];
    sc_store *st = NULL;
    int rc = sj_password_make(password, verifier, sizeof(verifier), err);
    if (rc == 0)
        rc = sc_store_open(store_path, node_id, &st, err);
    if (rc == 0)
        rc = put(st, "catalogue", &cs.base, err);
    if (rc == 0) {
        Sanji__Person p = SANJI__PERSON__INIT;
        p.id = (char *)person_id;
        p.name = (char *)name;
        p.role = role;
        p.org_unit = (char *)unit;
        p.verifier = verifier;
        p.active = true;
        Sanji__Person *pp[] = {&p};
        Sanji__PersonSync ps = SANJI__PERSON_SYNC__INIT;
        ps.version = 1;
        ps.persons = pp;
        ps.n_persons = 1;
        rc = put(st, "persons", &ps.base, err);
    }
    sc_store_close(st);
    g_free(cats);
    g_free(pcats);
    g_free(items);
    g_free(pitems);
    g_ptr_array_unref(keep);
    return rc;
}

int desk_fixture_run(const char *xvfb_run, const char *desk_bin, const char *dir, const char *tag,
                     const char *const *args, const char *script)
{
    g_autofree char *sp = g_strdup_printf("%s/%s.script", dir, tag);
    g_autofree char *log = g_strdup_printf("%s/%s.out", dir, tag);
    if (!g_file_set_contents(sp, script, -1, NULL)) {
        fprintf(stderr, "cannot write %s\n", sp);
        return -1;
    }
    const char *argv[40];
    int a = 0;
    const char *head[] = {xvfb_run, "-a", "-s", "-screen 0 1280x1000x24", desk_bin};
    for (size_t i = 0; i < G_N_ELEMENTS(head); i++)
        argv[a++] = head[i];
    for (int i = 0; args[i] && i < 30; i++)
        argv[a++] = args[i];
    argv[a++] = "--test-script";
    argv[a++] = sp;
    argv[a] = NULL;
    const char *env[] = {"GSK_RENDERER=cairo", "NO_AT_BRIDGE=1", "GDK_BACKEND=x11", "LANG=C.UTF-8",
                         "LANGUAGE=", "LC_ALL=", "LC_MESSAGES=", NULL};
    sj_test_proc p = {0};
    sj_error err;
    if (sj_test_proc_start(&p, argv, env, log, &err) != 0) {
        fprintf(stderr, "cannot start sanji-desk: %s\n", err.message);
        return -1;
    }
    int rc = sj_test_proc_wait(&p, SJ_TEST_HANG_MS, &err);
    int st = rc == 0 && WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
    sj_test_proc_free(&p);
    g_autofree char *out = NULL;
    g_file_get_contents(log, &out, NULL, NULL);
    printf("--- sanji-desk %s ---\n%s", tag, out ? out : "");
    return st;
}

char *desk_fixture_shot(const char *name)
{
    const char *dir = getenv("SANJI_DESK_SCREENSHOTS");
    if (!dir || !*dir)
        return g_strdup("");
    return g_strdup_printf("screenshot window '%s/%s.png'\n", dir, name);
}

/* A 1x1 PNG (a red pixel). */
static const uint8_t PNG[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90,
    0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8,
    0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

const uint8_t *desk_fixture_png(size_t *len)
{
    *len = sizeof PNG;
    return PNG;
}
