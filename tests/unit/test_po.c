/*
 * test_po.c - every string a person may read has its Chinese.
 *
 * The template is made fresh from the source tree by the same script as the
 * `sanji_pot` target (common/po/sanji-pot.cmake: the _() and N_() strings of
 * common, server, relay and client, and the error table's texts), then:
 *   - every .po in common/po must give every msgid of it a translation that
 *     is neither empty nor fuzzy;
 *   - the catalogue compiled into <build>/locale must give the zh_CN text of
 *     every msgid at run time, with no locale set (Chinese is the default);
 *   - the template must hold every text of the error table.
 * The PO reader is tested on its own with a table of small catalogues, so
 * the check is known to catch an empty, a fuzzy and a missing entry.
 *
 * Reasons sent to peers (common/domain/refusal.h, "the one rule for text sent to
 * a peer"): in server/ and relay/, a string literal given as the reason of
 * a Goodbye, an Ack or a QueryResult must be a msgid inside _() or N_().
 * Two scans find the call sites:
 *   - xgettext with only the reason-taking functions as keywords (REASON
 *     SINKS below, each with the position of its reason): whatever it
 *     extracts is a bare literal there;
 *   - an assignment to a `reason` field (`x.reason =`, `x->reason =`) whose
 *     right side holds a literal outside _() or N_().
 * And every msgid of server/ and relay/ must be plain English (ASCII): a
 * "中文 (English)" pair inside _() is a bilingual literal all the same.  The
 * scans are tried on a small file with a bare literal at each sink first,
 * so the check is known to catch them.
 *
 * Entry point: main().  Needs SANJI_SOURCE_DIR and SANJI_BUILD_DIR (set by
 * ctest) and the paths compiled in by tests/CMakeLists.txt.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "i18n.h"

#ifndef SANJI_CMAKE_COMMAND
#error "SANJI_CMAKE_COMMAND must be defined by the build"
#endif

/* ---- a small PO reader ---------------------------------------------------- */

typedef struct po_entry {
    char *ctxt;      /* NULL when the entry has no msgctxt */
    char *id;
    char *id_plural; /* NULL for a singular entry */
    char *str[4];    /* msgstr, or msgstr[0..3] */
    int n_str;
    bool fuzzy;
    bool obsolete;
    char ref[128];   /* first "#:" reference, for messages */
} po_entry;

typedef struct po_file {
    po_entry *e;
    size_t n, cap;
} po_file;

static void po_free(po_file *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->e[i].ctxt);
        free(f->e[i].id);
        free(f->e[i].id_plural);
        for (int k = 0; k < f->e[i].n_str; k++)
            free(f->e[i].str[k]);
    }
    free(f->e);
    memset(f, 0, sizeof(*f));
}

/* Appends the C-quoted string starting at p (at the opening quote) to *dst. */
static void append_quoted(char **dst, const char *p)
{
    assert_true(*p == '"');
    size_t old = *dst ? strlen(*dst) : 0;
    char *out = realloc(*dst, old + strlen(p) + 1);
    assert_non_null(out);
    char *o = out + old;
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            switch (*p) {
            case 'n': *o++ = '\n'; break;
            case 't': *o++ = '\t'; break;
            case 'r': *o++ = '\r'; break;
            case 'a': *o++ = '\a'; break;
            default: *o++ = *p; break; /* \" \\ and the rest as themselves */
            }
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    *dst = out;
}

/* Parses PO text (a template or a catalogue).  The header (msgid "") is kept
 * as an entry like the others; callers skip it. */
static void po_parse(const char *text, po_file *f)
{
    memset(f, 0, sizeof(*f));
    po_entry cur;
    memset(&cur, 0, sizeof(cur));
    bool have = false;      /* cur has a msgid */
    bool in_str = false;    /* a msgstr was seen: a new keyword starts a new entry */
    bool pend_fuzzy = false;
    char pend_ref[128] = "";
    char **field = NULL;

#define FLUSH()                                                                    \
    do {                                                                           \
        if (have) {                                                                \
            if (f->n == f->cap) {                                                  \
                f->cap = f->cap ? f->cap * 2 : 64;                                 \
                f->e = realloc(f->e, f->cap * sizeof(*f->e));                      \
                assert_non_null(f->e);                                             \
            }                                                                      \
            f->e[f->n++] = cur;                                                    \
        } else {                                                                   \
            free(cur.ctxt);                                                        \
            free(cur.id);                                                          \
            free(cur.id_plural);                                                   \
            for (int k_ = 0; k_ < cur.n_str; k_++)                                 \
                free(cur.str[k_]);                                                 \
        }                                                                          \
        memset(&cur, 0, sizeof(cur));                                              \
        have = in_str = false;                                                     \
        field = NULL;                                                              \
    } while (0)

    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[8192];
        assert_true(len < sizeof(line));
        memcpy(line, p, len);
        line[len] = '\0';
        p = eol ? eol + 1 : p + len;

        char *l = line;
        bool obsolete = false;
        if (strncmp(l, "#~", 2) == 0) {
            obsolete = true;
            l += 2;
            while (*l == ' ')
                l++;
        }
        if (*l == '\0') {
            if (!obsolete)
                FLUSH();
            continue;
        }
        if (*l == '#') {
            if (in_str)
                FLUSH();
            if (l[1] == ',' && strstr(l, "fuzzy"))
                pend_fuzzy = true;
            else if (l[1] == ':' && !pend_ref[0])
                snprintf(pend_ref, sizeof(pend_ref), "%s", l + 3);
            continue;
        }
        if (*l == '"') {
            assert_non_null(field);
            append_quoted(field, l);
            continue;
        }
        char *q = strchr(l, '"');
        assert_non_null(q);
        if (strncmp(l, "msgctxt ", 8) == 0 || strncmp(l, "msgid ", 6) == 0) {
            if (in_str || (have && strncmp(l, "msgctxt ", 8) == 0))
                FLUSH();
            if (!cur.id && !cur.ctxt) {
                cur.fuzzy = pend_fuzzy;
                cur.obsolete = obsolete;
                snprintf(cur.ref, sizeof(cur.ref), "%s", pend_ref);
                pend_fuzzy = false;
                pend_ref[0] = '\0';
            }
            field = strncmp(l, "msgctxt ", 8) == 0 ? &cur.ctxt : &cur.id;
            *field = strdup("");
            assert_non_null(*field);
            if (field == &cur.id)
                have = true;
        } else if (strncmp(l, "msgid_plural ", 13) == 0) {
            field = &cur.id_plural;
            *field = strdup("");
            assert_non_null(*field);
        } else if (strncmp(l, "msgstr", 6) == 0) {
            assert_true(cur.n_str < 4);
            field = &cur.str[cur.n_str++];
            *field = strdup("");
            assert_non_null(*field);
            in_str = true;
        } else {
            fail_msg("PO line not understood: %s", line);
        }
        append_quoted(field, q);
    }
    FLUSH();
#undef FLUSH
}

static const po_entry *po_find(const po_file *f, const po_entry *want)
{
    for (size_t i = 0; i < f->n; i++) {
        const po_entry *e = &f->e[i];
        if (e->obsolete || strcmp(e->id, want->id) != 0)
            continue;
        if ((e->ctxt == NULL) != (want->ctxt == NULL))
            continue;
        if (e->ctxt && strcmp(e->ctxt, want->ctxt) != 0)
            continue;
        return e;
    }
    return NULL;
}

typedef enum po_verdict { PO_OK, PO_MISSING, PO_EMPTY, PO_FUZZY } po_verdict;

static po_verdict po_check(const po_file *catalogue, const po_entry *want)
{
    const po_entry *e = po_find(catalogue, want);
    if (!e)
        return PO_MISSING;
    if (e->fuzzy)
        return PO_FUZZY;
    if (e->n_str == 0)
        return PO_EMPTY;
    for (int k = 0; k < e->n_str; k++)
        if (e->str[k][0] == '\0')
            return PO_EMPTY;
    return PO_OK;
}

static const char *verdict_name(po_verdict v)
{
    switch (v) {
    case PO_OK: return "translated";
    case PO_MISSING: return "no entry";
    case PO_EMPTY: return "empty msgstr";
    case PO_FUZZY: return "fuzzy";
    }
    return "?";
}

/* ---- files and the template ----------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static const char *env_dir(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fail_msg("%s is not set (run the test through ctest)", name);
    return v;
}

typedef struct fixture {
    char dir[64];
    char pot_path[128];
    po_file pot;
} fixture;

/* Runs common/po/sanji-pot.cmake into a temporary directory. */
static int make_template(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/sanji-test-po-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->pot_path, sizeof(fx->pot_path), "%s/sanji.pot", fx->dir);

    char src[4096], out[256], xg[4096];
    snprintf(src, sizeof(src), "-DSOURCE_DIR=%s", env_dir("SANJI_SOURCE_DIR"));
    snprintf(out, sizeof(out), "-DOUTPUT=%s", fx->pot_path);
    snprintf(xg, sizeof(xg), "-DXGETTEXT=%s", SANJI_XGETTEXT);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(SANJI_CMAKE_COMMAND, SANJI_CMAKE_COMMAND, src, out, xg, "-P", SANJI_POT_SCRIPT,
              (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("%s -P %s failed (status %d)", SANJI_CMAKE_COMMAND, SANJI_POT_SCRIPT, st);
    char *text = read_file(fx->pot_path);
    po_parse(text, &fx->pot);
    free(text);
    *state = fx;
    return 0;
}

static int remove_template(void **state)
{
    fixture *fx = *state;
    po_free(&fx->pot);
    unlink(fx->pot_path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Number of real msgids in a template (the header does not count). */
static size_t count_msgids(const po_file *pot)
{
    size_t n = 0;
    for (size_t i = 0; i < pot->n; i++)
        if (pot->e[i].id[0] && !pot->e[i].obsolete)
            n++;
    return n;
}

/* Checks one catalogue against the template; prints every gap; returns how
 * many there are. */
static size_t catalogue_gaps(const po_file *pot, const char *po_path)
{
    char *text = read_file(po_path);
    po_file cat;
    po_parse(text, &cat);
    free(text);
    size_t gaps = 0;
    for (size_t i = 0; i < pot->n; i++) {
        const po_entry *want = &pot->e[i];
        if (!want->id[0] || want->obsolete)
            continue;
        po_verdict v = po_check(&cat, want);
        if (v != PO_OK) {
            gaps++;
            print_error("%s: %s for msgid \"%s\" (%s)\n", po_path, verdict_name(v), want->id,
                        want->ref);
        }
    }
    po_free(&cat);
    return gaps;
}

/* ---- reasons sent to peers ------------------------------------------------- */

/* The functions of server/ and relay/ that send a reason to a peer, or make
 * one for it, as xgettext keywords: name:position of the reason. */
static const char *const REASON_SINKS[] = {
    "sj_conn_close:3",     /* Goodbye.reason (common/net/conn.h) */
    "sj_refusal_format:2", /* common/domain/refusal.h */
    "sj_refusal_set:3",
    "sj_reason_format:1",
    "refuse:3",            /* server/query.c, stars.c, stats.c (QueryResult) */
    "countyd_apply_refuse:3", /* server/apply*.c (Ack) */
    "ack_refuse:4",        /* server/session_upward.c */
    "goodbye:3",           /* the scans' own trial below */
    "countyd_session_goodbye:3", /* server/session*.c */
    "queue_refusal:4",     /* relay/downstream.c */
    "queue_ack:5",
    "reason_set:3",
};
#define N_REASON_SINKS (sizeof(REASON_SINKS) / sizeof(REASON_SINKS[0]))

/* Set while the scans are tried on the sample: its findings are expected
 * and not printed. */
static bool scan_quiet;

/* Runs xgettext on the files listed in list_path (relative to dir) with the
 * given keywords only (and none of its defaults), into out_path.  Returns
 * the template read back. */
static void run_xgettext(const char *dir, const char *list_path, const char *const *keywords,
                         size_t n_keywords, const char *out_path, po_file *pot)
{
    char *argv[64];
    size_t n = 0;
    char kw[N_REASON_SINKS + 4][96];
    argv[n++] = (char *)SANJI_XGETTEXT;
    argv[n++] = (char *)"--from-code=UTF-8";
    argv[n++] = (char *)"--language=C";
    argv[n++] = (char *)"--force-po";
    argv[n++] = (char *)"--keyword=";
    assert_true(n_keywords <= sizeof(kw) / sizeof(kw[0]));
    for (size_t i = 0; i < n_keywords; i++) {
        snprintf(kw[i], sizeof(kw[i]), "--keyword=%s", keywords[i]);
        argv[n++] = kw[i];
    }
    char d[4400], l[4400], o[4400];
    snprintf(d, sizeof(d), "--directory=%s", dir);
    snprintf(l, sizeof(l), "--files-from=%s", list_path);
    snprintf(o, sizeof(o), "--output=%s", out_path);
    argv[n++] = d;
    argv[n++] = l;
    argv[n++] = o;
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(SANJI_XGETTEXT, argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("%s failed (status %d) on %s", SANJI_XGETTEXT, st, list_path);
    char *text = read_file(out_path);
    po_parse(text, pot);
    free(text);
}

/* Replaces comments with spaces, keeping string and character literals and
 * the line count. */
static void strip_comments(char *s)
{
    char quote = 0;
    for (char *p = s; *p; p++) {
        if (quote) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (p[0] == '/' && p[1] == '*') {
            char *e = strstr(p + 2, "*/");
            char *end = e ? e + 2 : p + strlen(p);
            for (; p < end; p++)
                if (*p != '\n')
                    *p = ' ';
            p--;
        } else if (p[0] == '/' && p[1] == '/') {
            for (; *p && *p != '\n'; p++)
                *p = ' ';
            p--;
        }
    }
}

/* Is the literal whose opening quote is at q (in text starting at s) an
 * argument of _() or N_(), maybe after other literals it is joined to? */
static bool literal_marked(const char *s, const char *q)
{
    const char *p = q;
    for (;;) {
        while (p > s && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n'))
            p--;
        if (p > s && p[-1] == '"') { /* the end of a literal before it: go to its start */
            p--;
            while (p > s) {
                p--;
                if (*p == '"' && (p == s || p[-1] != '\\'))
                    break;
            }
            continue;
        }
        break;
    }
    if (p == s || p[-1] != '(')
        return false;
    p--;
    while (p > s && (p[-1] == ' ' || p[-1] == '\t'))
        p--;
    const char *id_end = p;
    while (p > s && (p[-1] == '_' || (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= 'a' && p[-1] <= 'z') ||
                     (p[-1] >= '0' && p[-1] <= '9')))
        p--;
    size_t len = (size_t)(id_end - p);
    return (len == 1 && p[0] == '_') || (len == 2 && p[0] == 'N' && p[1] == '_');
}

/* Assignments to a `reason` field whose right side holds a non-empty string
 * literal outside _() and N_(); each is printed as FILE:LINE.  Returns how
 * many. */
static size_t bare_reason_fields(const char *path, const char *shown_as)
{
    char *s = read_file(path);
    strip_comments(s);
    size_t bad = 0;
    for (char *p = strstr(s, "reason"); p; p = strstr(p + 1, "reason")) {
        const char *b = p;
        while (b > s && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        bool field = (b > s && b[-1] == '.') || (b - s >= 2 && b[-2] == '-' && b[-1] == '>');
        char *a = p + strlen("reason");
        while (*a == ' ' || *a == '\t')
            a++;
        if (!field || a[0] != '=' || a[1] == '=')
            continue;
        /* The right side: to the ';' outside literals. */
        bool bare = false;
        for (char *e = a + 1; *e && *e != ';'; e++) {
            if (*e != '"')
                continue;
            char *open = e;
            for (e++; *e && *e != '"'; e++)
                if (*e == '\\' && e[1])
                    e++;
            if (e > open + 1 && !literal_marked(s, open))
                bare = true;
            if (!*e)
                break;
        }
        if (bare) {
            int line = 1;
            for (const char *c = s; c < p; c++)
                line += *c == '\n';
            if (!scan_quiet)
                print_error("%s:%d: a reason field gets a literal outside _() or N_()\n", shown_as,
                            line);
            bad++;
        }
    }
    free(s);
    return bad;
}

/* A msgid with a byte outside ASCII: not plain English. */
static bool msgid_not_english(const char *id)
{
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        if (*p >= 0x80)
            return true;
    return false;
}

/* The three checks on the .c files listed (relative to dir) in list_path;
 * prints each finding; returns how many. */
static size_t reason_findings(const char *dir, const char *list_path, const char *tmp)
{
    size_t bad = 0;
    char out[4200];
    snprintf(out, sizeof(out), "%s/sinks.pot", tmp);
    po_file pot;
    run_xgettext(dir, list_path, REASON_SINKS, N_REASON_SINKS, out, &pot);
    for (size_t i = 0; i < pot.n; i++) {
        if (!pot.e[i].id[0] || pot.e[i].obsolete)
            continue;
        if (!scan_quiet)
            print_error("%s: a reason given as a bare literal, not _() or N_(): \"%s\"\n",
                        pot.e[i].ref, pot.e[i].id);
        bad++;
    }
    po_free(&pot);
    unlink(out);

    static const char *const marks[] = {"_", "N_"};
    snprintf(out, sizeof(out), "%s/marked.pot", tmp);
    run_xgettext(dir, list_path, marks, 2, out, &pot);
    for (size_t i = 0; i < pot.n; i++) {
        if (!pot.e[i].id[0] || pot.e[i].obsolete || !msgid_not_english(pot.e[i].id))
            continue;
        if (!scan_quiet)
            print_error("%s: a msgid that is not plain English (the Chinese goes in zh_CN.po): "
                        "\"%s\"\n",
                        pot.e[i].ref, pot.e[i].id);
        bad++;
    }
    po_free(&pot);
    unlink(out);

    char *list = read_file(list_path);
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, line);
        bad += bare_reason_fields(path, line);
    }
    free(list);
    return bad;
}

/* Appends the .c files under dir/sub (recursively), relative to dir, one
 * per line, to f. */
static void list_c_files(FILE *f, const char *dir, const char *sub)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    DIR *d = opendir(path);
    if (!d)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char rel[8192];
        snprintf(rel, sizeof(rel), "%s/%s", sub, de->d_name);
        size_t l = strlen(de->d_name);
        if (de->d_type == DT_DIR)
            list_c_files(f, dir, rel);
        else if (l > 2 && strcmp(de->d_name + l - 2, ".c") == 0)
            fprintf(f, "%s\n", rel);
    }
    closedir(d);
}

/* The scans catch what they are for: one file with a bare literal at each
 * kind of sink, one line each, and the same calls done right. */
static void test_reason_scan_catches_bare_literals(void **state)
{
    fixture *fx = *state;
    char path[256], list[256];
    snprintf(path, sizeof(path), "%s/sample.c", fx->dir);
    snprintf(list, sizeof(list), "%s/sample.list", fx->dir);
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    fputs("sample.c\n", f);
    fclose(f);
    static const char *const bad_lines[] = {
        "sj_conn_close(c, SJ_EPROTOCOL, \"第一条消息必须是 Hello (Hello first)\");",
        "refuse(r, SJ_EWRONG_ROLE, \"node role may not act on cases\");",
        "refuse(out, SJ_EINVAL, x ? \"one\" : \"other\");",
        "ack_refuse(s, env, SJ_EINTERNAL, \"internal error\");",
        "goodbye(s, SJ_EPROTOCOL, (char *)\"Hello sent twice\");",
        "queue_refusal(s, env, SJ_EQUOTA, \"queue \" \"full\", &id);",
        "queue_ack(s, &id, st, SJ_EQUOTA, \"full\", &id);",
        "reason_set(err, SJ_ESCOPE, \"outside\", v);",
        "sj_refusal_format(code, \"why\", out, sizeof out);",
        "sj_refusal_set(err, code, \"why\");",
        "sj_reason_format(\"why\", out, sizeof out);",
        "res.reason = (char *)\"县里忙 (busy)\";",
        "res->reason = flag ? _(\"marked\") : \"bare\";",
        "a.reason = \"bare \"\n        \"and joined\";",
        "x = _(\"统计 (statistics)\");",
    };
    static const char *const good_lines[] = {
        "sj_conn_close(c, SJ_EPROTOCOL, _(\"The first message must be Hello.\"));",
        "sj_conn_close(c, SJ_ENOMEM, NULL);",
        "refuse(r, SJ_EWRONG_ROLE, N_(\"This kind of computer may not act on cases.\"));",
        "goodbye(s, SJ_EPROTOCOL, N_(\"Hello was sent \" \"twice.\"));",
        "queue_ack(s, &id, st, 0, NULL, &id);",
        "res.reason = (char *)_(\"Too many questions.\");",
        "res.reason = (char *)(x ? _(\"One.\") : _(\"Other.\"));",
        "ack.reason = (char *)(reason ? reason : \"\");",
        "/* res.reason = \"in a comment\"; */ refuse(r, c, why.message);",
        "c->return_reason = text; the_reason = \"not a field\";",
    };
    scan_quiet = true;
    for (int pass = 0; pass < 2; pass++) {
        const char *const *lines = pass == 0 ? bad_lines : good_lines;
        size_t n = pass == 0 ? sizeof(bad_lines) / sizeof(bad_lines[0])
                             : sizeof(good_lines) / sizeof(good_lines[0]);
        for (size_t i = 0; i < n; i++) {
            f = fopen(path, "w");
            assert_non_null(f);
            fprintf(f, "void f(void)\n{\n    %s\n}\n", lines[i]);
            fclose(f);
            size_t got = reason_findings(fx->dir, list, fx->dir);
            if (got != (pass == 0 ? 1u : 0u)) {
                scan_quiet = false;
                fail_msg("%s: %zu findings, want %d", lines[i], got, pass == 0 ? 1 : 0);
            }
        }
    }
    scan_quiet = false;
    unlink(path);
    unlink(list);
}

/* server/ and relay/ follow the rule. */
static void test_reasons_to_peers_are_msgids(void **state)
{
    fixture *fx = *state;
    const char *src = env_dir("SANJI_SOURCE_DIR");
    char list[256];
    snprintf(list, sizeof(list), "%s/daemons.list", fx->dir);
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    list_c_files(f, src, "server");
    list_c_files(f, src, "relay");
    fclose(f);
    size_t bad = reason_findings(src, list, fx->dir);
    unlink(list);
    if (bad)
        fail_msg("%zu reasons for peers are not gettext msgids (listed above); write them as "
                 "_(\"English\") or N_(\"English\") and add the Chinese to common/po/zh_CN.po",
                 bad);
}

/* ---- the tests ------------------------------------------------------------- */

/* The reader on its own: each catalogue is checked against the same one-entry
 * template, and must give the verdict of the table. */
static void test_reader_verdicts(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *catalogue;
        po_verdict want;
    } rows[] = {
        {"translated", "msgid \"busy\"\nmsgstr \"正忙\"\n", PO_OK},
        {"translated, wrapped", "msgid \"\"\n\"bu\"\n\"sy\"\nmsgstr \"\"\n\"正\"\n\"忙\"\n", PO_OK},
        {"empty msgstr", "msgid \"busy\"\nmsgstr \"\"\n", PO_EMPTY},
        {"fuzzy", "#, fuzzy\nmsgid \"busy\"\nmsgstr \"正忙\"\n", PO_FUZZY},
        {"fuzzy with c-format", "#, fuzzy, c-format\nmsgid \"busy\"\nmsgstr \"正忙\"\n", PO_FUZZY},
        {"absent", "msgid \"idle\"\nmsgstr \"空闲\"\n", PO_MISSING},
        {"obsolete only", "#~ msgid \"busy\"\n#~ msgstr \"正忙\"\n", PO_MISSING},
        {"other context", "msgctxt \"x\"\nmsgid \"busy\"\nmsgstr \"正忙\"\n", PO_MISSING},
        {"fuzzy flag of the previous entry does not leak",
         "#, fuzzy\nmsgid \"idle\"\nmsgstr \"空闲\"\n\nmsgid \"busy\"\nmsgstr \"正忙\"\n", PO_OK},
        {"one plural form empty",
         "msgid \"busy\"\nmsgid_plural \"busies\"\nmsgstr[0] \"正忙\"\nmsgstr[1] \"\"\n", PO_EMPTY},
    };
    po_file pot;
    po_parse("msgid \"\"\nmsgstr \"h\"\n\n#: common/x.c:1\nmsgid \"busy\"\nmsgstr \"\"\n", &pot);
    assert_int_equal(pot.n, 2);
    assert_string_equal(pot.e[1].id, "busy");
    assert_string_equal(pot.e[1].ref, "common/x.c:1");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        po_file cat;
        po_parse(rows[i].catalogue, &cat);
        po_verdict got = po_check(&cat, &pot.e[1]);
        if (got != rows[i].want)
            fail_msg("%s: got %s, want %s", rows[i].what, verdict_name(got),
                     verdict_name(rows[i].want));
        po_free(&cat);
    }
    po_free(&pot);
}

static void test_reader_unescapes(void **state)
{
    (void)state;
    po_file f;
    po_parse("msgid \"a \\\"b\\\"\\n\"\n\"c\\\\d\"\nmsgstr \"x\"\n", &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.e[0].id, "a \"b\"\nc\\d");
    po_free(&f);
}

/* Every catalogue in common/po translates every msgid of the sources. */
static void test_every_msgid_translated(void **state)
{
    fixture *fx = *state;
    assert_true(count_msgids(&fx->pot) > 100); /* the extraction found the sources */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/common/po", env_dir("SANJI_SOURCE_DIR"));
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t catalogues = 0, gaps = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 3, ".po") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        catalogues++;
        gaps += catalogue_gaps(&fx->pot, path);
    }
    closedir(d);
    assert_true(catalogues >= 1);
    if (gaps)
        fail_msg("%zu msgids lack a translation (listed above); add them to common/po/*.po", gaps);
}

/* The compiled catalogue gives the Chinese of every msgid, with no locale
 * set at all: what a village PC with an unset locale shows. */
static void test_compiled_catalogue_is_chinese_by_default(void **state)
{
    fixture *fx = *state;
    unsetenv("LANGUAGE");
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANG");
    char locale[4096];
    snprintf(locale, sizeof(locale), "%s/locale", env_dir("SANJI_BUILD_DIR"));
    sj_i18n_init(locale);
    assert_string_equal(sj_i18n_language(), "zh_CN");

    char po_path[4096];
    snprintf(po_path, sizeof(po_path), "%s/common/po/zh_CN.po", env_dir("SANJI_SOURCE_DIR"));
    char *text = read_file(po_path);
    po_file cat;
    po_parse(text, &cat);
    free(text);
    size_t wrong = 0;
    for (size_t i = 0; i < fx->pot.n; i++) {
        const po_entry *want = &fx->pot.e[i];
        if (!want->id[0] || want->obsolete)
            continue;
        if (po_check(&cat, want) != PO_OK)
            continue; /* reported by test_every_msgid_translated */
        const po_entry *tr = po_find(&cat, want);
        const char *got;
        char key[8192];
        if (want->ctxt) {
            snprintf(key, sizeof(key), "%s\004%s", want->ctxt, want->id);
            got = dgettext(SJ_TEXT_DOMAIN, key);
            if (got == key)
                got = want->id;
        } else if (want->id_plural) {
            got = dngettext(SJ_TEXT_DOMAIN, want->id, want->id_plural, 1);
        } else {
            got = dgettext(SJ_TEXT_DOMAIN, want->id);
        }
        if (strcmp(got, tr->str[0]) != 0) {
            wrong++;
            print_error("msgid \"%s\": got \"%s\", want \"%s\"\n", want->id, got, tr->str[0]);
        }
    }
    po_free(&cat);
    if (wrong)
        fail_msg("%zu msgids not translated by %s/zh_CN/LC_MESSAGES/sanji.mo (rebuild?)", wrong,
                 locale);
}

/* The error table's texts reach people (_(sj_err_text(code))): the template
 * must hold each of them. */
static void test_template_holds_error_table(void **state)
{
    fixture *fx = *state;
    size_t codes = 0;
    for (int code = 0; code > -1000; code--) {
        if (strcmp(sj_err_name(code), "UNKNOWN") == 0)
            continue;
        codes++;
        po_entry want;
        memset(&want, 0, sizeof(want));
        want.id = (char *)sj_err_text(code);
        if (!po_find(&fx->pot, &want))
            fail_msg("error %s (\"%s\") is not in the template", sj_err_name(code), want.id);
    }
    assert_true(codes > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_verdicts),
        cmocka_unit_test(test_reader_unescapes),
        cmocka_unit_test(test_every_msgid_translated),
        cmocka_unit_test(test_compiled_catalogue_is_chinese_by_default),
        cmocka_unit_test(test_template_holds_error_table),
        cmocka_unit_test(test_reason_scan_catches_bare_literals),
        cmocka_unit_test(test_reasons_to_peers_are_msgids),
    };
    return cmocka_run_group_tests(tests, make_template, remove_template);
}
