/*
 * fuzz_csv.c - libFuzzer target for the county's reference-data reader:
 * the CSV parser (server/csv.h) and the row checks of the importer
 * (server/import.c) that need no database.
 *
 * Input layout: the first byte picks the kind of file (orgunits,
 * categories, catalogue, persons, holidays, by value mod 5); the rest is the
 * file's text.
 *
 * Asserts:
 *   - sj_csv_parse() returns a table code; a failure fills err with it
 *     and a message "fuzz.csv:" (with the line, for a malformed file, that
 *     the input has) and leaves the sj_csv empty;
 *   - a parsed file has records on ascending lines the input has, each with
 *     at least one field, every field valid UTF-8; written back with every
 *     field quoted it parses to the same records;
 *   - the importer's header check, the checks of categories and holidays,
 *     and the materials column of the catalogue report every problem as
 *     "fuzz.csv:LINE: ..." for a line of a record, once per counted problem;
 *     a materials list it accepts becomes a PostgreSQL array literal that
 *     reads back as the same items;
 *   - nothing leaks (LeakSanitizer).
 *
 * The importer's checks are static functions: the file is included here so
 * that they run (and are instrumented) without a database.  Only checks that
 * never query the database are called; the context has no connection.
 *
 * Entry point: LLVMFuzzerTestOneInput().
 */
#include "import.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz.csv"

static bool is_table_code(int rc)
{
    return rc <= 0 && strcmp(sj_err_name(rc), "UNKNOWN") != 0;
}

static size_t count_lines(const char *in, size_t len)
{
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += in[i] == '\n';
    return lines;
}

/* Writes every record with every field quoted. */
static char *write_back(const sj_csv *csv, size_t *len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    if (f == NULL)
        abort();
    for (size_t r = 0; r < csv->n; r++) {
        for (size_t i = 0; i < csv->records[r].n; i++) {
            fputs(i ? ",\"" : "\"", f);
            for (const char *p = csv->records[r].fields[i]; *p; p++) {
                if (*p == '"')
                    fputc('"', f);
                fputc(*p, f);
            }
            fputc('"', f);
        }
        fputs(r % 2 ? "\r\n" : "\n", f);
    }
    if (fclose(f) != 0)
        abort();
    return out;
}

static void same_records(const sj_csv *a, const sj_csv *b)
{
    if (a->n != b->n)
        abort();
    for (size_t r = 0; r < a->n; r++) {
        if (a->records[r].n != b->records[r].n)
            abort();
        for (size_t i = 0; i < a->records[r].n; i++)
            if (strcmp(a->records[r].fields[i], b->records[r].fields[i]) != 0)
                abort();
    }
}

/* Reads back the array literal materials_array() made and compares it with
 * the '|'-separated list. */
static void check_array(const char *list, const char *arr, int items)
{
    const char *p = arr;
    if (*p++ != '{')
        abort();
    const char *want = list;
    for (int k = 0; k < items; k++) {
        if (k > 0 && *p++ != ',')
            abort();
        if (*p++ != '"')
            abort();
        for (;;) {
            char c = *p++;
            if (c == '\0')
                abort();
            if (c == '"')
                break;
            if (c == '\\')
                c = *p++;
            if (c != *want++)
                abort();
        }
        if (*want != (k + 1 < items ? '|' : '\0'))
            abort();
        want++;
    }
    if (p[0] != '}' || p[1] != '\0')
        abort();
}

/* Every report line is "fuzz.csv:LINE: ..." for the line of a record. */
static void check_report(const char *report, size_t n_bad, const sj_csv *csv)
{
    size_t lines = 0;
    for (const char *p = report; *p;) {
        if (strncmp(p, FUZZ_NAME ":", sizeof(FUZZ_NAME)) != 0)
            abort();
        char *end;
        unsigned long line = strtoul(p + sizeof(FUZZ_NAME), &end, 10);
        if (end[0] != ':' || end[1] != ' ')
            abort();
        bool known = csv->n == 0 && line == 1;
        for (size_t r = 0; r < csv->n && !known; r++)
            known = csv->records[r].line == line;
        if (!known)
            abort();
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            abort();
        p = nl + 1;
        lines++;
    }
    if (lines != n_bad)
        abort();
}

static void fuzz_import(const sj_csv *csv, countyd_import_kind kind)
{
    size_t k = 0;
    while (KINDS[k].kind != kind)
        k++;
    char *report = NULL;
    size_t report_len = 0;
    FILE *f = open_memstream(&report, &report_len);
    if (f == NULL)
        abort();
    import_ctx c = {.db = NULL, .path = FUZZ_NAME, .report = f, .csv = csv};
    sj_error err;
    check_shape(&c, k);
    if (c.n_bad == 0) {
        switch (kind) {
        case COUNTYD_IMPORT_CATEGORIES:
            if (check_categories(&c, &err) != 0)
                abort();
            break;
        case COUNTYD_IMPORT_HOLIDAYS:
            if (check_holidays(&c, &err) != 0)
                abort();
            break;
        case COUNTYD_IMPORT_CATALOGUE:
            /* The rest of check_catalogue() asks the database for the category. */
            for (size_t i = 1; i < csv->n; i++) {
                const char *list = csv->records[i].fields[7];
                char *arr = NULL;
                if (!list[0])
                    continue;
                int items = materials_array(&c, csv->records[i].line, list, &arr);
                if (items == -2)
                    abort();
                if (items >= 0) {
                    if (arr == NULL || items < 1 || items > SJ_CASE_MATERIALS_MAX)
                        abort();
                    check_array(list, arr, items);
                } else if (arr != NULL) {
                    abort();
                }
                free(arr);
            }
            break;
        default:
            break; /* org units and persons are checked against the database */
        }
    }
    if (fclose(f) != 0)
        abort();
    check_report(report, c.n_bad, csv);
    free(report);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    countyd_import_kind kind = (countyd_import_kind)(COUNTYD_IMPORT_ORGUNITS + data[0] % 5);
    size_t len = size - 1;
    /* An exact-size copy: a read past the end is caught by AddressSanitizer. */
    char *in = malloc(len ? len : 1);
    if (in == NULL)
        return 0;
    memcpy(in, data + 1, len);

    sj_csv csv;
    sj_error err;
    int rc = sj_csv_parse(FUZZ_NAME, in, len, &csv, &err);
    if (!is_table_code(rc))
        abort();
    if (rc != 0) {
        if (err.code != rc || strncmp(err.message, FUZZ_NAME ":", sizeof(FUZZ_NAME)) != 0 ||
            csv.n != 0 || csv.records != NULL)
            abort();
        if (rc == SJ_EINVAL && err.message[sizeof(FUZZ_NAME)] != ' ') {
            unsigned long line = strtoul(err.message + sizeof(FUZZ_NAME), NULL, 10);
            if (line < 1 || line > count_lines(in, len))
                abort();
        }
        free(in);
        return 0;
    }
    size_t lines = count_lines(in, len), last = 0;
    for (size_t r = 0; r < csv.n; r++) {
        const sj_csv_record *rec = &csv.records[r];
        if (rec->n < 1 || rec->line <= last || rec->line > lines)
            abort();
        last = rec->line;
        for (size_t i = 0; i < rec->n; i++)
            if (!sj_text_valid(rec->fields[i], SIZE_MAX))
                abort();
    }
    size_t wlen;
    char *written = write_back(&csv, &wlen);
    sj_csv again;
    if (sj_csv_parse(FUZZ_NAME, written, wlen, &again, &err) != 0) {
        fprintf(stderr, "written back, refused: %s\n", err.message);
        abort();
    }
    same_records(&csv, &again);
    sj_csv_free(&again);
    free(written);

    fuzz_import(&csv, kind);
    sj_csv_free(&csv);
    free(in);
    return 0;
}
