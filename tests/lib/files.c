/*
 * files.c - test helper: writes a small file into a test's folder from a
 * printf-style format, counts the lines of a log that say something, and
 * finds the folders ctest names (files.h has the contract).
 *
 * Entry points: sj_test_write_file(), sj_test_count_lines(), sj_test_dirs().
 */
#include "files.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sj_test_write_file(const char *dir, const char *name, const char *fmt, ...)
{
    char path[PATH_MAX];
    if (dir)
        snprintf(path, sizeof path, "%s/%s", dir, name);
    else
        snprintf(path, sizeof path, "%s", name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    /* A full disk shows only at the flush. */
    if (fclose(f) != 0 || n < 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int sj_test_count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

int sj_test_dirs(const char **build, const char **source)
{
    *build = getenv("SANJI_BUILD_DIR");
    *source = getenv("SANJI_SOURCE_DIR");
    if (!*build || !*source) {
        fprintf(stderr, "SANJI_BUILD_DIR and SANJI_SOURCE_DIR must be set (ctest sets them)\n");
        return -1;
    }
    return 0;
}
