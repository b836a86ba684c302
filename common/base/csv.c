/*
 * csv.c - RFC 4180 reader for the county's reference data (see csv.h).
 *
 * Entry points: sj_csv_read(), sj_csv_parse(), sj_csv_free(), sj_csv_write_field().
 */
#include "csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "utf8.h"

/* A growable byte buffer for the field being read. */
typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int buf_put(buf *b, char c)
{
    if (b->n + 1 >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *p = realloc(b->p, cap);
        if (!p)
            return SJ_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    b->p[b->n++] = c;
    b->p[b->n] = '\0';
    return 0;
}

static int record_add_field(sj_csv_record *r, buf *b)
{
    char **f = realloc(r->fields, (r->n + 1) * sizeof(*f));
    if (!f)
        return SJ_ENOMEM;
    r->fields = f;
    f[r->n] = strndup(b->p ? b->p : "", b->n);
    if (!f[r->n])
        return SJ_ENOMEM;
    r->n++;
    b->n = 0;
    if (b->p)
        b->p[0] = '\0';
    return 0;
}

static void record_free(sj_csv_record *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->fields[i]);
    free(r->fields);
    r->fields = NULL;
    r->n = 0;
}

static int csv_add_record(sj_csv *csv, sj_csv_record *r)
{
    /* A record of one empty field is a blank line: skipped. */
    if (r->n == 1 && r->fields[0][0] == '\0') {
        record_free(r);
        return 0;
    }
    sj_csv_record *recs = realloc(csv->records, (csv->n + 1) * sizeof(*recs));
    if (!recs)
        return SJ_ENOMEM;
    csv->records = recs;
    recs[csv->n++] = *r;
    memset(r, 0, sizeof(*r));
    return 0;
}

void sj_csv_free(sj_csv *csv)
{
    if (!csv)
        return;
    for (size_t i = 0; i < csv->n; i++)
        record_free(&csv->records[i]);
    free(csv->records);
    csv->records = NULL;
    csv->n = 0;
}

/* A quoted field from text[*i] (the opening quote): "" is a quote, line
 * breaks are part of the field (*line counts them).  Returns 0 with *i after
 * the closing quote, SJ_EINVAL (err says where) or SJ_ENOMEM (err not set). */
static int read_quoted(const char *name, const char *text, size_t len, size_t *i, size_t *line,
                       buf *b, sj_error *err)
{
    size_t start_line = *line;
    size_t k = *i + 1;
    for (;;) {
        if (k >= len)
            return sj_error_set(err, SJ_EINVAL,
                                "%s:%zu: 引号未闭合 (quoted field not closed before end of file)",
                                name, start_line);
        if (text[k] == '"') {
            if (k + 1 < len && text[k + 1] == '"') {
                if (buf_put(b, '"') != 0)
                    return SJ_ENOMEM;
                k += 2;
                continue;
            }
            k++;
            break;
        }
        if (text[k] == '\n')
            (*line)++;
        if (buf_put(b, text[k]) != 0)
            return SJ_ENOMEM;
        k++;
    }
    *i = k;
    if (k < len && text[k] != ',' && text[k] != '\n' && text[k] != '\r')
        return sj_error_set(err, SJ_EINVAL,
                            "%s:%zu: 引号后有多余字符 (text after the closing quote; "
                            "double a quote inside a quoted field as \"\")",
                            name, *line);
    return 0;
}

/* An unquoted field from text[*i] up to a comma or a line end; a quote in
 * it is refused.  Returns as read_quoted(). */
static int read_bare(const char *name, const char *text, size_t len, size_t *i, size_t line,
                     buf *b, sj_error *err)
{
    size_t k = *i;
    while (k < len && text[k] != ',' && text[k] != '\n' && text[k] != '\r') {
        if (text[k] == '"')
            return sj_error_set(err, SJ_EINVAL,
                                "%s:%zu: 未加引号的字段中有引号 (quote inside an unquoted "
                                "field; quote the whole field)",
                                name, line);
        if (buf_put(b, text[k]) != 0)
            return SJ_ENOMEM;
        k++;
    }
    *i = k;
    return 0;
}

/* The end of a record at text[*i]: CRLF, LF or the end of the text.
 * Returns 0 with *i after it, or SJ_EINVAL (err says where) for a CR
 * alone. */
static int read_line_end(const char *name, const char *text, size_t len, size_t *i, size_t line,
                         sj_error *err)
{
    if (*i < len && text[*i] == '\r') {
        /* A CR alone would end the record where an editor shows none,
         * and every message after it would name the wrong line. */
        if (*i + 1 < len && text[*i + 1] != '\n')
            return sj_error_set(err, SJ_EINVAL,
                                "%s:%zu: 行中有单独的回车符 (a carriage return without a line "
                                "feed; save the file with LF or CRLF line ends, or quote the "
                                "field)",
                                name, line);
        (*i)++;
    }
    if (*i < len && text[*i] == '\n')
        (*i)++;
    return 0;
}

int sj_csv_parse(const char *name, const char *text, size_t len, sj_csv *out,
                      sj_error *err)
{
    memset(out, 0, sizeof(*out));
    buf b = {0};
    sj_csv_record rec = {0};
    size_t line = 1;
    size_t i = 0;
    int rc = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    if (memchr(text, '\0', len)) {
        rc = sj_error_set(err, SJ_EINVAL, "%s: 文件含有 NUL 字节，不是文本 (file holds a NUL byte; "
                          "not a text file)", name);
        goto done;
    }
    rec.line = line;
    while (i < len) {
        /* A line starting with '#' is a comment (the demo files carry their
         * sources that way); no code in these files starts with '#'. */
        if (rec.n == 0 && text[i] == '#') {
            while (i < len && text[i] != '\n')
                i++;
            i += i < len;
            line++;
            rec.line = line;
            continue;
        }
        /* At the start of a field. */
        rc = text[i] == '"' ? read_quoted(name, text, len, &i, &line, &b, err)
                            : read_bare(name, text, len, &i, line, &b, err);
        if (rc == SJ_ENOMEM)
            goto nomem;
        if (rc != 0)
            goto done;
        if (!sj_utf8_valid(b.p ? b.p : "", b.n)) {
            rc = sj_error_set(err, SJ_EINVAL, "%s:%zu: 不是有效的 UTF-8 文本 (not valid UTF-8; "
                              "save the file as UTF-8)", name, rec.line);
            goto done;
        }
        if ((rc = record_add_field(&rec, &b)) != 0)
            goto nomem;
        /* After a field: a comma, a line end, or the end. */
        if (i < len && text[i] == ',') {
            i++;
            if (i == len && (rc = record_add_field(&rec, &b)) != 0)
                goto nomem;
            continue;
        }
        if ((rc = read_line_end(name, text, len, &i, line, err)) != 0)
            goto done;
        line++;
        if ((rc = csv_add_record(out, &rec)) != 0)
            goto nomem;
        rec.line = line;
    }
    if (rec.n > 0 && (rc = csv_add_record(out, &rec)) != 0)
        goto nomem;
    goto done;
nomem:
    rc = sj_error_set(err, SJ_ENOMEM, "%s: out of memory while reading", name);
done:
    free(b.p);
    record_free(&rec);
    if (rc != 0)
        sj_csv_free(out);
    return rc;
}

int sj_csv_read(const char *path, sj_csv *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    uint8_t *text = NULL;
    size_t n = 0;
    sj_error why;
    int rc = sj_file_read_all(path, SJ_CSV_MAX_BYTES, &text, &n, &why);
    if (rc == SJ_ETOOBIG)
        return sj_error_set(err, SJ_ETOOBIG, "%s: 文件过大 (larger than %u bytes)", path,
                            SJ_CSV_MAX_BYTES);
    if (rc == SJ_ENOMEM)
        return sj_error_set(err, SJ_ENOMEM, "%s: out of memory", path);
    if (rc != 0) /* no such file, or not readable: the reason as fileio gives it */
        return sj_error_set(err, SJ_EIO, "无法打开文件 (cannot open): %s", why.message);
    rc = sj_csv_parse(path, (const char *)text, n, out, err);
    free(text);
    return rc;
}

void sj_csv_write_field(FILE *f, const char *s)
{
    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}
