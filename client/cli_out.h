/*
 * cli_out.h - exit codes, failures, JSON and tables for `sanji` (cli_out.c).
 */
#ifndef CLI_OUT_H
#define CLI_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sanji_client.h"
#include "uuid.h"

/* The exit codes (docs/CLI.md; listed at the head of sanji.c). */
enum {
    CLI_EX_OK = 0,
    CLI_EX_SETUP = 1,
    CLI_EX_USAGE = 2,
    CLI_EX_INPUT = 3,
    CLI_EX_REFUSED = 4,
    CLI_EX_PENDING = 5,
};

/* A column of a table printed for people: its heading (msgid) and width in
 * terminal cells. */
typedef struct cli_column {
    const char *label;
    size_t width;
} cli_column;

/* With --json every error, usage errors included, is one JSON object on
 * stdout ({"error":NAME,"message":...,"exit":N}), like the other output, so
 * that a script reads one format whatever happened.  Set in main() from the
 * whole command line before anything can fail. */
extern bool cli_json_mode;

/* An error as the one JSON object of --json: {"error":NAME,"message":...,"exit":N}. */
void cli_json_error(int code, const char *message, int exit_code);

/* s as a JSON string on f (NULL as ""). */
void cli_json_str(FILE *f, const char *s);

/* A time as people read it, China time (sc_format_time()). */
void cli_fmt_time(int64_t ms, char *out, size_t cap);

/* A due time, marked provisional (暂定) when it lies in a year whose
 * holidays the county has not loaded (docs/LIFECYCLE.md "The clock"). */
void cli_fmt_due(int64_t ms, bool provisional, char *out, size_t cap);

/* s fitted to width terminal cells, and the gap after it, on stdout. */
void cli_print_cell(const char *s, size_t width);

/* ,"key":"value" on stdout (the value escaped; NULL prints as ""). */
void cli_json_field(const char *key, const char *value);

/* ["a","b",...] on stdout. */
void cli_json_strings(char *const *v, size_t n);

/* The headings of a table, on a line of their own. */
void cli_print_header(const cli_column *cols, size_t n);

/* One row's cells, each fitted to its column; the caller ends the line. */
void cli_print_cells(const cli_column *cols, size_t n, const char *const *cells);

/* The case's number, or its id while it has none. */
const char *cli_case_ref(const Sanji__Case *c, char buf[SJ_UUID_TEXT_SIZE]);

/* Reports err (as JSON on stdout with --json, else on stderr) and returns
 * exit_code. */
int cli_fail(const sj_error *err, int exit_code);

/* Sets err to "nobody is logged in" and returns its code. */
int cli_nobody_logged_in(sj_error *err);

/* A "label  value" line of a detail view; nothing when the value is empty. */
void cli_kv(const char *k, const char *v);

/* One outbox row: when it was saved, the case (with_case), the action, and
 * how far it got (with the reason of a refusal). */
void cli_print_outbox_row(const sc_outbox_entry *e, bool with_case);

#endif
