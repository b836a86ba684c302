/*
 * csv.h - reads reference-data files: UTF-8 CSV with RFC 4180 quoting and
 * one header row (the files in deploy/demo/), for the county's imports and
 * sanji-pki's enrolment from the org tree.
 *
 * Quoted fields may hold commas, doubled quotes and line breaks; a UTF-8
 * byte-order mark at the start and CRLF line ends are accepted.  Every
 * record remembers the line it starts on, so that importers can report
 * "FILE:LINE: what is wrong".  Blank lines, and lines starting with '#'
 * (comments), are skipped.
 *
 * Ownership: sj_csv_read() fills a sj_csv that owns all its text;
 * free it with sj_csv_free() (also after a failed read; a zeroed
 * sj_csv may be freed too).
 *
 * Entry points: sj_csv_read(), sj_csv_parse(), sj_csv_free(), sj_csv_write_field().
 */
#ifndef SJ_CSV_H
#define SJ_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* Files larger than this are refused (reference data is small). */
#define SJ_CSV_MAX_BYTES (64u * 1024u * 1024u)

typedef struct sj_csv_record {
    size_t line;    /* 1-based line on which the record starts */
    size_t n;       /* number of fields */
    char **fields;  /* NUL-terminated UTF-8 */
} sj_csv_record;

typedef struct sj_csv {
    sj_csv_record *records; /* records[0] is the header row */
    size_t n;
} sj_csv;

/* Reads and parses a file.  Returns 0, SJ_EIO (cannot read; errno text in
 * err), SJ_ETOOBIG, SJ_ENOMEM, or SJ_EINVAL for a malformed file (err says
 * "FILE:LINE: ..."). */
int sj_csv_read(const char *path, sj_csv *out, sj_error *err);

/* Writes one field as RFC 4180 has it: quoted (quotes doubled) when it
 * holds a comma, a quote or a line break, as is otherwise.  The writers of
 * CSV (the statistics, the 好差评 export) share it, so that what they
 * write this module reads back. */
void sj_csv_write_field(FILE *f, const char *s);

/* Parses text in memory; `name` stands for the file in messages. */
int sj_csv_parse(const char *name, const char *text, size_t len, sj_csv *out,
                      sj_error *err);

void sj_csv_free(sj_csv *csv);

#endif
