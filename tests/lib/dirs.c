/*
 * dirs.c - finds the build and source trees of a test or benchmark program
 * from its own path (see dirs.h).
 */
#include "dirs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Cuts path at its last '/', leaving the parent folder; false at the root. */
static int up(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    *slash = '\0';
    return 1;
}

/* The nearest folder above the running executable with a CMakeCache.txt. */
static int find_build(char *out, size_t cap, sj_error *err)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return sj_error_set(err, SJ_ENOTFOUND, "cannot read /proc/self/exe; set SANJI_BUILD_DIR");
    self[n] = '\0';
    while (up(self)) {
        char cache[PATH_MAX + 16];
        snprintf(cache, sizeof cache, "%s/CMakeCache.txt", self);
        if (access(cache, R_OK) == 0) {
            snprintf(out, cap, "%s", self);
            return 0;
        }
    }
    return sj_error_set(err, SJ_ENOTFOUND,
                        "no CMakeCache.txt above this program; set SANJI_BUILD_DIR to the build "
                        "folder");
}

/* The source folder the build tree's CMakeCache.txt names. */
static int find_source(const char *build, char *out, size_t cap, sj_error *err)
{
    static const char key[] = "CMAKE_HOME_DIRECTORY:INTERNAL=";
    char cache[PATH_MAX + 16];
    snprintf(cache, sizeof cache, "%s/CMakeCache.txt", build);
    FILE *f = fopen(cache, "r");
    if (!f)
        return sj_error_set(err, SJ_ENOTFOUND, "cannot read %s; set SANJI_SOURCE_DIR", cache);
    char line[PATH_MAX + 64];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, sizeof key - 1) == 0) {
            line[strcspn(line, "\r\n")] = '\0';
            const char *value = line + sizeof key - 1;
            if (strlen(value) >= cap)
                break; /* reported below: a longer path than any folder has */
            memcpy(out, value, strlen(value) + 1);
            found = 1;
        }
    }
    fclose(f);
    if (!found)
        return sj_error_set(err, SJ_ENOTFOUND, "%s names no CMAKE_HOME_DIRECTORY; set "
                            "SANJI_SOURCE_DIR", cache);
    return 0;
}

int sj_test_dirs_find(sj_error *err)
{
    const char *b = getenv("SANJI_BUILD_DIR"), *s = getenv("SANJI_SOURCE_DIR");
    char build[PATH_MAX], source[PATH_MAX];
    if (b && *b) {
        snprintf(build, sizeof build, "%s", b);
    } else {
        int rc = find_build(build, sizeof build, err);
        if (rc != 0)
            return rc;
        setenv("SANJI_BUILD_DIR", build, 1);
    }
    if (!s || !*s) {
        int rc = find_source(build, source, sizeof source, err);
        if (rc != 0)
            return rc;
        setenv("SANJI_SOURCE_DIR", source, 1);
    }
    return 0;
}
