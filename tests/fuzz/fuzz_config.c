/*
 * fuzz_config.c - libFuzzer target for the configuration parser
 * (common/base/config.h) over arbitrary file contents.
 *
 * Input layout: the first byte picks the key table (0: sanji-relayd's,
 * 1: sanji-countyd's, 2: a table with one key of every value type, BOOL
 * included, which neither daemon uses); the rest is the file's text.
 *
 * Each run loads a valid baseline file for that table, then the input into
 * the same sj_config, and asserts:
 *   - the result is a code of the error table, and a failure fills err with
 *     that code and a message; syntax, unknown-key and bad-value errors start
 *     with "fuzz.conf:LINE:" for a line the input has, a missing key with
 *     "fuzz.conf:";
 *   - a failed load leaves every value (and whether it was set) as it was;
 *   - a successful load round-trips: every value written back as a file
 *     (quoted strings, durations in ms, sizes in bytes) and loaded into a
 *     fresh sj_config reads back the same;
 *   - nothing leaks (LeakSanitizer).
 * With a daemon's table the same text is also loaded as a file (through a
 * memfd) by relay_config_load() or countyd_config_load(), which check more:
 * their errors start with the file's name; the relay's county addresses are
 * the host:port items of the file, whole; the county's code has 6 digits
 * and its warning percents ascend in 1..99, at most 8.
 *
 * Entry point: LLVMFuzzerTestOneInput().
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "relay_config.h"
#include "server_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.conf"

/* Every value type, ranges with and without upper bounds, a required key. */
static const sj_config_key ALL_TYPES[] = {
    {"a.text", SJ_CONFIG_STRING, "默认", 0, 0, "string"},
    {"a.need", SJ_CONFIG_STRING, NULL, 0, 0, "required string"},
    {"a.num", SJ_CONFIG_INT, "5", -1000, 1000, "int"},
    {"a.wide", SJ_CONFIG_INT, "0", INT64_MIN, INT64_MAX, "int, full range"},
    {"a.flag", SJ_CONFIG_BOOL, "false", 0, 0, "bool"},
    {"b.wait", SJ_CONFIG_DURATION, "30s", 0, 0, "duration, any"},
    {"b.tick", SJ_CONFIG_DURATION, "1s", 100, 3600000, "duration, bounded"},
    {"b.room", SJ_CONFIG_SIZE, "1MiB", 0, 0, "size, any"},
    {"b.quota", SJ_CONFIG_SIZE, "4KiB", 1024, INT64_C(1) << 40, "size, bounded"},
    {"c.file", SJ_CONFIG_PATH, "/etc/sanji/x", 0, 0, "path"},
    {"c.peers", SJ_CONFIG_HOSTPORT_LIST, "", 0, 0, "host:port list"},
};

static const char BASE_RELAY[] = "[county]\naddresses = 10.0.0.1:7443, [::1]:7443\n"
                                 "node = county:410423000000\n[queue]\nquota = 2GiB\n";
static const char BASE_COUNTY[] = "[county]\ncode = 410423\n[apply]\nbatch_size = 99\n";
static const char BASE_ALL[] = "[a]\nneed = \"基线 # value\"\nflag = yes\n[b]\ntick = 2m\n";

static bool is_table_code(int rc)
{
    return rc <= 0 && strcmp(sj_err_name(rc), "UNKNOWN") != 0;
}

/* A growable string. */
typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        size_t cap = (t->n + n + 1) * 2;
        char *p = realloc(t->p, cap);
        if (p == NULL)
            abort();
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void puts_(text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void printf_(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(text *t, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        abort();
    put(t, buf, (size_t)n);
}

/* A quoted value; false if the text cannot be written in the format (a CR
 * has no escape). */
static bool put_quoted(text *t, const char *s)
{
    puts_(t, "\"");
    for (; *s; s++) {
        switch (*s) {
        case '"':
            puts_(t, "\\\"");
            break;
        case '\\':
            puts_(t, "\\\\");
            break;
        case '\n':
            puts_(t, "\\n");
            break;
        case '\t':
            puts_(t, "\\t");
            break;
        case '\r':
            return false;
        default:
            put(t, s, 1);
        }
    }
    puts_(t, "\"");
    return true;
}

/* The parser's limit on one line (common/base/config.c), newline excluded. */
#define LINE_LIMIT 4095

/* Writes every value as a configuration file (and, with marks, whether each
 * key was set and which have no value, for comparing snapshots).  Returns
 * false if some value cannot be written back: a CR, or a line longer than
 * the parser takes (an unquoted value of 4,000 bytes full of quotes and
 * backslashes is legal, but each of those is two bytes once escaped). */
static bool encode(const sj_config *cfg, const sj_config_key *keys, size_t n, bool marks, text *t)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const sj_config_key *k = &keys[i];
        const char *dot = strchr(k->name, '.');
        printf_(t, "[%.*s]\n", (int)(dot - k->name), k->name);
        size_t line_start = t->n;
        printf_(t, "%s = ", dot + 1);
        switch (k->type) {
        case SJ_CONFIG_STRING:
        case SJ_CONFIG_PATH: {
            const char *s = k->type == SJ_CONFIG_STRING ? sj_config_get_string(cfg, k->name)
                                                        : sj_config_get_path(cfg, k->name);
            if (s == NULL) {
                if (!marks)
                    abort(); /* a loaded configuration has every key */
                puts_(t, "(unset)");
            } else if (!put_quoted(t, s)) {
                ok = false;
            }
            break;
        }
        case SJ_CONFIG_INT:
            printf_(t, "%" PRId64, sj_config_get_int(cfg, k->name));
            break;
        case SJ_CONFIG_BOOL:
            puts_(t, sj_config_get_bool(cfg, k->name) ? "true" : "false");
            break;
        case SJ_CONFIG_DURATION:
            printf_(t, "%" PRId64 "ms", sj_config_get_duration_ms(cfg, k->name));
            break;
        case SJ_CONFIG_SIZE:
            printf_(t, "%" PRIu64, sj_config_get_size(cfg, k->name));
            break;
        case SJ_CONFIG_HOSTPORT_LIST: {
            size_t nh;
            const sj_config_hostport *hp = sj_config_get_hostports(cfg, k->name, &nh);
            if ((nh == 0) != (hp == NULL))
                abort(); /* header: NULL exactly when empty */
            for (size_t j = 0; j < nh; j++) {
                bool v6 = strchr(hp[j].host, ':') != NULL;
                if (hp[j].host[0] == '\0' || hp[j].port == 0)
                    abort();
                printf_(t, "%s%s", j ? ", " : "", v6 ? "[" : "");
                puts_(t, hp[j].host);
                printf_(t, "%s:%u", v6 ? "]" : "", (unsigned)hp[j].port);
            }
            break;
        }
        }
        if (marks)
            printf_(t, "  # set=%d", (int)sj_config_is_set(cfg, k->name));
        else if (t->n - line_start > LINE_LIMIT)
            ok = false;
        puts_(t, "\n");
    }
    return ok;
}

/* The message starts with NAME ":" and, for errors of one line, that line's
 * number, which the input must have. */
static void check_message(int rc, const sj_error *err, const char *in, size_t len)
{
    if (err->code != rc || err->message[0] == '\0')
        abort();
    if (rc == SJ_ENOMEM)
        return;
    if (strncmp(err->message, NAME ":", sizeof(NAME)) != 0)
        abort();
    if (rc == SJ_ECONFIG_MISSING)
        return;
    if (rc != SJ_ECONFIG_SYNTAX && rc != SJ_ECONFIG_UNKNOWN_KEY && rc != SJ_ECONFIG_BAD_VALUE)
        abort(); /* load_string has no other failure */
    const char *p = err->message + sizeof(NAME);
    char *end;
    unsigned long line = strtoul(p, &end, 10);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += in[i] == '\n';
    if (end == p || *end != ':' || line < 1 || line > lines)
        abort();
}

/* The daemons' loaders read a path: the input goes into a memfd, whose
 * /proc/self/fd path this returns. */
static const char *as_file(const char *in, size_t len)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz.conf", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, in, len, 0) != (ssize_t)len)
        abort();
    return path;
}

/* countyd_config_load() on the input. */
static void fuzz_countyd_load(const char *path)
{
    countyd_config c;
    sj_error err;
    int rc = countyd_config_load(path, &c, &err);
    if (!is_table_code(rc))
        abort();
    if (rc != 0) {
        if (err.code != rc || strncmp(err.message, path, strlen(path)) != 0 ||
            err.message[strlen(path)] != ':' || c.cfg != NULL)
            abort();
        return;
    }
    if (strlen(c.county) != 6 || strspn(c.county, "0123456789") != 6 || c.n_warn > COUNTYD_WARN_MAX)
        abort();
    for (size_t i = 0; i < c.n_warn; i++)
        if (c.warn_percents[i] < 1 || c.warn_percents[i] > 99 ||
            (i > 0 && c.warn_percents[i] <= c.warn_percents[i - 1]))
            abort();
    countyd_config_free(&c);
}

/* relay_config_load() the same way: errors name the file; what it accepts
 * sj_config accepts too, with the same county addresses, written whole. */
static void fuzz_relayd_load(const char *path, const char *in, size_t len)
{
    relay_config rc_cfg;
    sj_error err;
    int rc = relay_config_load(path, &rc_cfg, &err);
    if (!is_table_code(rc))
        abort();
    if (rc != 0) {
        if (err.code != rc || (rc != SJ_ENOMEM && strncmp(err.message, path, strlen(path)) != 0))
            abort();
        relay_config_free(&rc_cfg);
        return;
    }
    size_t nkeys;
    const sj_config_key *keys = relay_config_keys(&nkeys);
    sj_config *cfg;
    if (sj_config_new(keys, nkeys, &cfg, &err) != 0 ||
        sj_config_load_string(cfg, NAME, NULL, in, len, &err) != 0)
        abort();
    size_t n;
    const sj_config_hostport *hp = sj_config_get_hostports(cfg, "county.addresses", &n);
    if (n != rc_cfg.n_county_addresses)
        abort();
    for (size_t i = 0; i < n; i++) {
        text want = {0};
        bool v6 = strchr(hp[i].host, ':') != NULL;
        printf_(&want, "%s", v6 ? "[" : "");
        puts_(&want, hp[i].host);
        printf_(&want, "%s:%u", v6 ? "]" : "", (unsigned)hp[i].port);
        if (rc_cfg.county_addresses[i] == NULL || strcmp(rc_cfg.county_addresses[i], want.p) != 0) {
            fprintf(stderr, "county address %zu: \"%s\", want \"%s\"\n", i,
                    rc_cfg.county_addresses[i] ? rc_cfg.county_addresses[i] : "(null)", want.p);
            abort();
        }
        free(want.p);
    }
    sj_config_free(cfg);
    relay_config_free(&rc_cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const sj_config_key *keys;
    size_t nkeys;
    const char *base;
    switch (data[0] % 3) {
    case 0:
        keys = relay_config_keys(&nkeys);
        base = BASE_RELAY;
        break;
    case 1:
        keys = countyd_config_keys(&nkeys);
        base = BASE_COUNTY;
        break;
    default:
        keys = ALL_TYPES;
        nkeys = sizeof(ALL_TYPES) / sizeof(ALL_TYPES[0]);
        base = BASE_ALL;
        break;
    }
    /* An exact-size copy: a read past the end is caught by AddressSanitizer. */
    size_t len = size - 1;
    char *in = malloc(len ? len : 1);
    if (in == NULL)
        return 0;
    memcpy(in, data + 1, len);

    sj_config *cfg;
    sj_error err;
    if (sj_config_new(keys, nkeys, &cfg, &err) != 0 ||
        sj_config_load_string(cfg, NAME, NULL, base, strlen(base), &err) != 0)
        abort(); /* the tables and baselines are fine */
    text before = {0};
    encode(cfg, keys, nkeys, true, &before);

    int rc = sj_config_load_string(cfg, NAME, NULL, in, len, &err);
    if (!is_table_code(rc))
        abort();
    if (rc != 0) {
        check_message(rc, &err, in, len);
        text after = {0};
        encode(cfg, keys, nkeys, true, &after);
        if (strcmp(before.p, after.p) != 0)
            abort(); /* a failed load changed the values */
        free(after.p);
    } else {
        text file = {0};
        if (encode(cfg, keys, nkeys, false, &file)) {
            sj_config *again;
            if (sj_config_new(keys, nkeys, &again, &err) != 0)
                abort();
            if (sj_config_load_string(again, NAME, NULL, file.p, file.n, &err) != 0) {
                fprintf(stderr, "round trip refused: %s\n---\n%s---\n", err.message, file.p);
                abort();
            }
            text back = {0};
            encode(again, keys, nkeys, false, &back);
            if (strcmp(file.p, back.p) != 0) {
                fprintf(stderr, "round trip differs:\n%s---\n%s---\n", file.p, back.p);
                abort();
            }
            free(back.p);
            sj_config_free(again);
        }
        free(file.p);
    }
    free(before.p);
    sj_config_free(cfg);
    if (data[0] % 3 == 0)
        fuzz_relayd_load(as_file(in, len), in, len);
    else if (data[0] % 3 == 1)
        fuzz_countyd_load(as_file(in, len));
    free(in);
    return 0;
}
