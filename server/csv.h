/*
 * csv.h - reads the county's reference-data files: UTF-8 CSV with RFC 4180
 * quoting and one header row (the files in deploy/demo/).
 *
 * Quoted fields may hold commas, doubled quotes and line breaks; a UTF-8
 * byte-order mark at the start and CRLF line ends are accepted.  Every
 * record remembers the line it starts on, so that importers can report
 * "FILE:LINE: what is wrong".  Blank lines, and lines starting with '#'
 * (comments), are skipped.
 *
 * Ownership: countyd_csv_read() fills a countyd_csv that owns all its text;
 * free it with countyd_csv_free() (also after a failed read; a zeroed
 * countyd_csv may be freed too).
 *
 * Entry points: countyd_csv_read(), countyd_csv_parse(), countyd_csv_free().
 */
#ifndef COUNTYD_CSV_H
#define COUNTYD_CSV_H

#include <stddef.h>

#include "err.h"

/* Files larger than this are refused (reference data is small). */
#define COUNTYD_CSV_MAX_BYTES (64u * 1024u * 1024u)

typedef struct countyd_csv_record {
    size_t line;    /* 1-based line on which the record starts */
    size_t n;       /* number of fields */
    char **fields;  /* NUL-terminated UTF-8 */
} countyd_csv_record;

typedef struct countyd_csv {
    countyd_csv_record *records; /* records[0] is the header row */
    size_t n;
} countyd_csv;

/* Reads and parses a file.  Returns 0, SJ_EIO (cannot read; errno text in
 * err), SJ_ETOOBIG, SJ_ENOMEM, or SJ_EINVAL for a malformed file (err says
 * "FILE:LINE: ..."). */
int countyd_csv_read(const char *path, countyd_csv *out, sj_error *err);

/* Parses text in memory; `name` stands for the file in messages. */
int countyd_csv_parse(const char *name, const char *text, size_t len, countyd_csv *out,
                      sj_error *err);

void countyd_csv_free(countyd_csv *csv);

#endif
