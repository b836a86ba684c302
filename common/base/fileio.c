/*
 * fileio.c - a whole file read into memory, with a size limit (see
 * fileio.h).
 *
 * Entry points: sj_file_read_all().
 */
#include "fileio.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

/* The buffer starts at this and doubles: a small file costs little, and a
 * limit of gigabytes is not allocated up front. */
#define FILE_READ_FIRST (64 * 1024)

int sj_file_read_all(const char *path, size_t max, uint8_t **buf, size_t *len, sj_error *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sj_error_set(err, errno == ENOENT ? SJ_ENOTFOUND : SJ_EIO, _("Cannot read %s: %s."),
                            path, strerror(errno));
    /* One byte past max tells a larger file; one more holds the '\0'. */
    size_t want = max < SIZE_MAX - 1 ? max + 1 : SIZE_MAX - 1;
    size_t cap = 0, n = 0;
    uint8_t *b = NULL;
    int rc = 0;
    while (n < want) {
        if (n + 1 >= cap) {
            size_t next = cap ? cap * 2 : FILE_READ_FIRST;
            if (next < cap || next > want + 1)
                next = want + 1;
            uint8_t *nb = realloc(b, next);
            if (!nb) {
                rc = sj_error_set(err, SJ_ENOMEM, NULL);
                break;
            }
            b = nb;
            cap = next;
        }
        size_t room = cap - 1 - n < want - n ? cap - 1 - n : want - n;
        size_t got = fread(b + n, 1, room, f);
        n += got;
        if (got < room)
            break;
    }
    bool bad = rc == 0 && ferror(f);
    int why = errno;
    fclose(f);
    if (rc == 0 && bad)
        rc = sj_error_set(err, SJ_EIO, _("Cannot read %s: %s."), path, strerror(why ? why : EIO));
    if (rc == 0 && n > max)
        rc = sj_error_set(err, SJ_ETOOBIG, _("%s is too large for this."), path);
    if (rc != 0) {
        free(b);
        return rc;
    }
    if (!b && !(b = malloc(1)))
        return sj_error_set(err, SJ_ENOMEM, NULL);
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}
