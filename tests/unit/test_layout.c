/*
 * test_layout.c - the layering of the source tree, read from its #include
 * lines (docs/ARCHITECTURE.md "Layout" and "common/ modules").
 *
 * Three rules a reviewer would otherwise check by hand, each time:
 *   1. a tier (server/, relay/, client/, deploy/) never includes a header
 *      that lives in another tier's folder: what two tiers share is in
 *      common/;
 *   2. common/ is layered: base/ includes only base/ (one named exception,
 *      log.c masking personal data with domain/personal.h), domain/ only
 *      base/ and domain/, and nothing in common/ includes a tier's header;
 *   3. inside each tier and inside common/, no two modules include each
 *      other, directly or through others (a module is a file name without
 *      its .c/.h; NAME_private.h and NAME_int.h belong to NAME): a circle means neither
 *      side can be read, tested or changed alone.
 *
 * The tree is found through SANJI_SOURCE_DIR (set by ctest).  Only quoted
 * includes count; system and generated headers (sanji.pb-c.h) are not in
 * the tree and so are ignored.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#define MAX_FILES 2048
#define MAX_INCLUDES 64

/* One source file: its path below the tree, its folder's tier, its
 * module (path without extension) and the headers it includes. */
typedef struct src_file {
    char path[512];
    char module[512];
    char tier[32];
    char *includes[MAX_INCLUDES];
    int n_includes;
} src_file;

static src_file files[MAX_FILES];
static int n_files;
static const char *root;

static void tier_of(const char *path, char *tier, size_t size)
{
    /* common/base/x.c -> "common/base"; server/x.c -> "server";
     * client/desk/x.c -> "client" (the desktop is the client tier). */
    const char *slash = strchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : strlen(path);
    if (n == 6 && strncmp(path, "common", 6) == 0 && slash) {
        const char *second = strchr(slash + 1, '/');
        if (second)
            n = (size_t)(second - path);
    }
    snprintf(tier, size, "%.*s", (int)n, path);
}

static void read_includes(src_file *f)
{
    char full[1200];
    snprintf(full, sizeof full, "%s/%s", root, f->path);
    FILE *fp = fopen(full, "r");
    assert_non_null(fp);
    char line[1024];
    while (fgets(line, sizeof line, fp)) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "#include \"", 10) != 0)
            continue;
        p += 10;
        const char *end = strchr(p, '"');
        if (!end || f->n_includes == MAX_INCLUDES)
            continue;
        f->includes[f->n_includes++] = strndup(p, (size_t)(end - p));
    }
    fclose(fp);
}

static void scan(const char *rel)
{
    char full[1200];
    snprintf(full, sizeof full, "%s/%s", root, rel);
    DIR *d = opendir(full);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char child[512];
        snprintf(child, sizeof child, "%s/%s", rel, e->d_name);
        char child_full[1800];
        snprintf(child_full, sizeof child_full, "%s/%s", root, child);
        struct stat st;
        if (stat(child_full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            scan(child);
            continue;
        }
        size_t len = strlen(e->d_name);
        if (len < 3 || e->d_name[len - 2] != '.' ||
            (e->d_name[len - 1] != 'c' && e->d_name[len - 1] != 'h'))
            continue;
        assert_true(n_files < MAX_FILES);
        src_file *f = &files[n_files++];
        memset(f, 0, sizeof *f);
        snprintf(f->path, sizeof f->path, "%s", child);
        /* A module is its .c and .h; NAME_private.h or NAME_int.h, what
         * NAME's files share among themselves, belongs to NAME. */
        size_t stem = strlen(child) - 2;
        if (stem > 8 && strncmp(child + stem - 8, "_private", 8) == 0)
            stem -= 8;
        else if (stem > 4 && strncmp(child + stem - 4, "_int", 4) == 0)
            stem -= 4;
        snprintf(f->module, sizeof f->module, "%.*s", (int)stem, child);
        tier_of(child, f->tier, sizeof f->tier);
        read_includes(f);
    }
    closedir(d);
}

/* The file of the tree a quoted include names, searched the way the
 * build's include paths do: the includer's own folder first, then every
 * folder.  NULL when the header is not in the tree (generated, system). */
static const src_file *resolve(const src_file *from, const char *header)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", from->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    char same[1100];
    snprintf(same, sizeof same, "%s/%s", dir, header);
    for (int i = 0; i < n_files; i++)
        if (strcmp(files[i].path, same) == 0)
            return &files[i];
    /* Elsewhere: prefer the includer's tier, then common/. */
    const src_file *other = NULL;
    for (int i = 0; i < n_files; i++) {
        const char *base = strrchr(files[i].path, '/');
        base = base ? base + 1 : files[i].path;
        if (strcmp(base, header) != 0)
            continue;
        if (strcmp(files[i].tier, from->tier) == 0)
            return &files[i];
        if (!other || strncmp(files[i].tier, "common", 6) == 0)
            other = &files[i];
    }
    return other;
}

static int setup(void **state)
{
    (void)state;
    root = getenv("SANJI_SOURCE_DIR");
    if (!root) {
        fprintf(stderr, "SANJI_SOURCE_DIR is not set: run this test through ctest\n");
        return -1;
    }
    n_files = 0;
    const char *tops[] = {"common", "server", "relay", "client", "deploy"};
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++)
        scan(tops[i]);
    return n_files > 50 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < n_files; i++)
        for (int j = 0; j < files[i].n_includes; j++)
            free(files[i].includes[j]);
    return 0;
}

static int is_common(const char *tier)
{
    return strncmp(tier, "common", 6) == 0;
}

static void test_a_tier_includes_only_its_own_and_common(void **state)
{
    (void)state;
    int bad = 0;
    for (int i = 0; i < n_files; i++) {
        const src_file *f = &files[i];
        if (is_common(f->tier))
            continue;
        for (int j = 0; j < f->n_includes; j++) {
            const src_file *h = resolve(f, f->includes[j]);
            if (h && !is_common(h->tier) && strcmp(h->tier, f->tier) != 0) {
                print_error("%s includes %s of another tier (%s): move what both need to "
                            "common/\n", f->path, h->path, h->tier);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

static void test_common_is_layered(void **state)
{
    (void)state;
    int bad = 0;
    for (int i = 0; i < n_files; i++) {
        const src_file *f = &files[i];
        if (!is_common(f->tier))
            continue;
        for (int j = 0; j < f->n_includes; j++) {
            const src_file *h = resolve(f, f->includes[j]);
            if (!h)
                continue;
            const char *why = NULL;
            if (!is_common(h->tier))
                why = "common/ never includes a tier's header";
            else if (strcmp(f->tier, "common/base") == 0 &&
                     strcmp(h->tier, "common/base") != 0 &&
                     !(strcmp(f->path, "common/base/log.c") == 0 &&
                       strcmp(h->path, "common/domain/personal.h") == 0))
                why = "base/ includes only base/";
            else if (strcmp(f->tier, "common/domain") == 0 &&
                     strcmp(h->tier, "common/net") == 0)
                why = "domain/ includes only base/ and domain/";
            if (why) {
                print_error("%s includes %s: %s\n", f->path, h->path, why);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* Depth-first search over modules; colour 1 = on the current path. */
static int module_index(const char *module, char modules[][512], int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(modules[i], module) == 0)
            return i;
    return -1;
}

static char modules[MAX_FILES][512];
static char module_tier[MAX_FILES][32];
static unsigned char edge[MAX_FILES][MAX_FILES / 8];
static int colour[MAX_FILES];
static int path_stack[MAX_FILES];
static int n_modules;

static int has_edge(int a, int b)
{
    return edge[a][b / 8] & (1u << (b % 8));
}

/* Counts the back edges reachable from m (each closes a circle) and
 * prints each circle's modules. */
static int visit(int m, int depth)
{
    int circles = 0;
    colour[m] = 1;
    path_stack[depth] = m;
    for (int k = 0; k < n_modules; k++) {
        if (!has_edge(m, k))
            continue;
        if (colour[k] == 1) {
            print_error("include circle:");
            int start = depth;
            while (start > 0 && path_stack[start] != k)
                start--;
            for (int s = start; s <= depth; s++)
                print_error(" %s ->", modules[path_stack[s]]);
            print_error(" %s\n", modules[k]);
            circles++;
        } else if (colour[k] == 0) {
            circles += visit(k, depth + 1);
        }
    }
    colour[m] = 2;
    return circles;
}

static void test_no_include_circles(void **state)
{
    (void)state;
    n_modules = 0;
    memset(edge, 0, sizeof edge);
    for (int i = 0; i < n_files; i++) {
        if (module_index(files[i].module, modules, n_modules) < 0) {
            snprintf(modules[n_modules], sizeof modules[0], "%s", files[i].module);
            snprintf(module_tier[n_modules], sizeof module_tier[0], "%s", files[i].tier);
            n_modules++;
        }
    }
    for (int i = 0; i < n_files; i++) {
        const src_file *f = &files[i];
        int a = module_index(f->module, modules, n_modules);
        for (int j = 0; j < f->n_includes; j++) {
            const src_file *h = resolve(f, f->includes[j]);
            if (!h)
                continue;
            int b = module_index(h->module, modules, n_modules);
            if (b >= 0 && b != a)
                edge[a][b / 8] |= (unsigned char)(1u << (b % 8));
        }
    }
    memset(colour, 0, sizeof colour);
    int circles = 0;
    for (int m = 0; m < n_modules; m++)
        if (colour[m] == 0)
            circles += visit(m, 0);
    assert_int_equal(circles, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_tier_includes_only_its_own_and_common),
        cmocka_unit_test(test_common_is_layered),
        cmocka_unit_test(test_no_include_circles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
