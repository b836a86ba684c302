/*
 * desk-draft.h - a form's unsaved input kept in a small file next to the
 * client's store, written on every change and read back on start, so that
 * nothing a cadre typed is lost when the program, the machine or the link
 * dies in the middle of a form (issue: "draft kept").
 *
 * The file is a GKeyFile (group "draft"), replaced atomically and durably
 * (write to a temporary file, fsync, rename) on every desk_draft_set().  A
 * file that cannot be parsed is moved aside to "<path>.bad" rather than
 * overwritten, so a damaged draft never destroys the evidence.
 *
 * Ownership: desk_draft_open() allocates, desk_draft_free() frees; strings
 * returned by desk_draft_get() are borrowed until the next set or clear on
 * the same draft.  desk_draft_path() returns a g_malloc'd path.
 *
 * Entry points: desk_draft_path(), desk_draft_open(), desk_draft_free(),
 * desk_draft_get(), desk_draft_set(), desk_draft_clear(),
 * desk_draft_is_empty().
 */
#ifndef DESK_DRAFT_H
#define DESK_DRAFT_H

#include <stdbool.h>

#include "err.h"

typedef struct desk_draft desk_draft;

/* "<store dir>/<store file name>.<name>.draft".  g_free(). */
char *desk_draft_path(const char *store_path, const char *name);

/* Opens (reading if present) the draft at path.  Never NULL. */
desk_draft *desk_draft_open(const char *path);
void desk_draft_free(desk_draft *d);

/* The value of key ("" when unset). */
const char *desk_draft_get(desk_draft *d, const char *key);

/* Sets key to value (NULL or "" removes it) and writes the file now.
 * Returns 0 or SJ_EIO with err naming the file. */
int desk_draft_set(desk_draft *d, const char *key, const char *value, sj_error *err);

/* Forgets every key and removes the file.  0 or SJ_EIO. */
int desk_draft_clear(desk_draft *d, sj_error *err);

/* True when no key holds text. */
bool desk_draft_is_empty(desk_draft *d);

#endif
