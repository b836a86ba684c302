/*
 * fileio.h - a whole file read into memory, with a size limit: the one
 * reader behind the CLI's attachments, the enrolment bundle and the files
 * it replaces, the relay's CRL and the CSV files (csv.c sj_csv_read()).
 *
 * Entry points: sj_file_read_all().
 */
#ifndef SJ_FILEIO_H
#define SJ_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Reads the whole of the file at path, at most max bytes.  On success *buf
 * is malloc'd (free() it) and holds *len bytes followed by a '\0' that
 * *len does not count, so that a text file can be used as a string.
 * Errors, with *buf NULL: SJ_ENOTFOUND (no such file) or SJ_EIO (cannot
 * open or read it), both "Cannot read PATH: WHY."; SJ_ETOOBIG when the
 * file holds more than max bytes ("PATH is too large for this."), having
 * read no more than max + 1; SJ_ENOMEM.  Callers with words of their own
 * for a case wrap the error. */
int sj_file_read_all(const char *path, size_t max, uint8_t **buf, size_t *len, sj_error *err);

#endif
