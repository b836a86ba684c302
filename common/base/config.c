/*
 * config.c - INI-like configuration files checked against a table of
 * documented keys.  See config.h; docs/CONFIG.md describes the format.
 *
 * A load parses the whole text into a pending set of values and only
 * replaces the current values when every line and every required key is
 * fine, so a daemon reloading a bad file keeps running on the old one.
 *
 * Entry points: sj_config_new(), sj_config_free(), sj_config_load_file(),
 * sj_config_load_string(), sj_config_set(), sj_config_get_*(),
 * sj_config_is_set(), sj_config_print_doc(), sj_config_type_name().
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CFG_LINE_MAX 4096
#define CFG_FILE_MAX ((size_t)1 << 20)

typedef struct cfg_value {
    bool present;  /* holds a value (default or given) */
    bool given;    /* given by a file or sj_config_set() */
    size_t line;   /* where it was given, within the current load */
    char *text;    /* STRING, PATH */
    int64_t num;   /* INT, DURATION (ms) */
    uint64_t size; /* SIZE */
    bool flag;     /* BOOL */
    sj_config_hostport *hp;
    size_t nhp;
    char *hosts; /* storage of the hp[].host strings */
} cfg_value;

struct sj_config {
    const sj_config_key *keys;
    size_t nkeys;
    cfg_value *values;
};

const char *sj_config_type_name(sj_config_type type)
{
    switch (type) {
    case SJ_CONFIG_STRING:
        return "string";
    case SJ_CONFIG_INT:
        return "integer";
    case SJ_CONFIG_BOOL:
        return "boolean";
    case SJ_CONFIG_DURATION:
        return "duration";
    case SJ_CONFIG_SIZE:
        return "size";
    case SJ_CONFIG_PATH:
        return "path";
    case SJ_CONFIG_HOSTPORT_LIST:
        return "host:port list";
    }
    return "?";
}

static void value_clear(cfg_value *v)
{
    free(v->text);
    free(v->hp);
    free(v->hosts);
    memset(v, 0, sizeof(*v));
}

/* ---- value parsers: each returns 0 or fills why (what is expected) ---- */

static int parse_int64(const char *s, int64_t *out)
{
    if (*s == '\0')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
        return -1;
    *out = v;
    return 0;
}

static int parse_duration(const char *s, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    int64_t total = 0;
    if (*s == '\0')
        return -1;
    while (*s) {
        if (*s < '0' || *s > '9')
            return -1;
        int64_t n = 0;
        while (*s >= '0' && *s <= '9') {
            if (n > (INT64_MAX - 9) / 10)
                return -1;
            n = n * 10 + (*s++ - '0');
        }
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t ul = strlen(units[i].unit);
            if (strncmp(s, units[i].unit, ul) == 0 && !(s[ul] >= 'a' && s[ul] <= 'z') &&
                (best == SIZE_MAX || ul > strlen(units[best].unit)))
                best = i;
        }
        if (best == SIZE_MAX)
            return -1;
        if (n > INT64_MAX / units[best].ms || total > INT64_MAX - n * units[best].ms)
            return -1;
        total += n * units[best].ms;
        s += strlen(units[best].unit);
    }
    *out = total;
    return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"KiB", UINT64_C(1) << 10},
                 {"MiB", UINT64_C(1) << 20},
                 {"GiB", UINT64_C(1) << 30},
                 {"TiB", UINT64_C(1) << 40},
                 {"KB", 1000},
                 {"MB", 1000000},
                 {"GB", 1000000000},
                 {"TB", UINT64_C(1000000000000)}};
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t n = 0;
    while (*s >= '0' && *s <= '9') {
        if (n > (UINT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (uint64_t)(*s++ - '0');
    }
    while (*s == ' ')
        s++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(s, units[i].unit) == 0) {
            if (n > UINT64_MAX / units[i].mult)
                return -1;
            *out = n * units[i].mult;
            return 0;
        }
    return -1;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

/* Fills v->hp/hosts from "h:p, h:p".  why gets the offending item. */
/* One "host:port" or "[v6addr]:port" item of ilen bytes: the host as
 * [*hs, *he), the port 1..65535.  False when it is not one. */
static bool split_hostport(const char *item, size_t ilen, const char **hs_out,
                           const char **he_out, uint16_t *port_out)
{
    const char *hs, *he, *colon;
    if (item[0] == '[') {
        he = memchr(item, ']', ilen);
        hs = item + 1;
        colon = he ? he + 1 : NULL;
        bool ok = he != NULL && he > hs;
        for (const char *c = hs; ok && c < he; c++)
            ok = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') ||
                 (*c >= 'A' && *c <= 'F') || *c == ':' || *c == '.';
        if (!ok || colon >= item + ilen || *colon != ':')
            return false;
    } else {
        colon = NULL;
        for (const char *c = item; c < item + ilen; c++)
            if (*c == ':')
                colon = c;
        hs = item;
        he = colon;
        if (colon == NULL || he == hs)
            return false;
        /* A DNS name has at most 253 characters; a longer "host" is a
         * mistake, and the daemons' fixed buffers would cut it. */
        if (he - hs > 253)
            return false;
        for (const char *c = hs; c < he; c++)
            if (!host_char(*c))
                return false;
    }
    const char *ps = colon + 1, *pe = item + ilen;
    long port = 0;
    if (ps == pe || pe - ps > 5)
        return false;
    for (const char *c = ps; c < pe; c++) {
        if (*c < '0' || *c > '9')
            return false;
        port = port * 10 + (*c - '0');
    }
    if (port < 1 || port > 65535)
        return false;
    *port_out = (uint16_t)port;
    *hs_out = hs;
    *he_out = he;
    return true;
}

static int parse_hostports(const char *s, cfg_value *v, char *why, size_t whycap)
{
    size_t len = strlen(s);
    char *hosts = malloc(len + 1);
    sj_config_hostport *hp = calloc(len / 2 + 1, sizeof(*hp));
    if (hosts == NULL || hp == NULL) {
        free(hosts);
        free(hp);
        return SJ_ENOMEM;
    }
    size_t nhp = 0, o = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        const char *item = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',')
            p++;
        size_t ilen = (size_t)(p - item);
        const char *hs, *he;
        uint16_t port;
        if (!split_hostport(item, ilen, &hs, &he, &port))
            goto bad;
        hp[nhp].port = port;
        memcpy(hosts + o, hs, (size_t)(he - hs));
        hosts[o + (size_t)(he - hs)] = '\0';
        /* Offsets for now; turned into pointers once hosts is final. */
        hp[nhp].host = (const char *)(uintptr_t)o;
        o += (size_t)(he - hs) + 1;
        nhp++;
        continue;
    bad:
        snprintf(why, whycap, "\"%.*s\" is not host:port (host at most 253 characters, port "
                 "1..65535; [addr]:port for IPv6)",
                 (int)(ilen > 80 ? 80 : ilen), item);
        free(hosts);
        free(hp);
        return SJ_ECONFIG_BAD_VALUE;
    }
    for (size_t i = 0; i < nhp; i++)
        hp[i].host = hosts + (uintptr_t)hp[i].host;
    if (nhp == 0) {
        free(hosts);
        free(hp);
        hosts = NULL;
        hp = NULL;
    }
    v->hp = hp;
    v->nhp = nhp;
    v->hosts = hosts;
    return 0;
}

static void range_text(const sj_config_key *k, char *buf, size_t cap)
{
    buf[0] = '\0';
    const char *unit = k->type == SJ_CONFIG_DURATION ? " ms" : " bytes";
    if (k->type == SJ_CONFIG_INT)
        snprintf(buf, cap, "%" PRId64 "..%" PRId64, k->min, k->max);
    else if ((k->type == SJ_CONFIG_DURATION || k->type == SJ_CONFIG_SIZE) && k->max > 0)
        snprintf(buf, cap, "%" PRId64 "..%" PRId64 "%s", k->min, k->max, unit);
    else if ((k->type == SJ_CONFIG_DURATION || k->type == SJ_CONFIG_SIZE) && k->min > 0)
        snprintf(buf, cap, "at least %" PRId64 "%s", k->min, unit);
}

static const char *expected_text(sj_config_type t)
{
    switch (t) {
    case SJ_CONFIG_STRING:
        return "text";
    case SJ_CONFIG_INT:
        return "a whole number";
    case SJ_CONFIG_BOOL:
        return "true or false (also yes/no, on/off, 1/0)";
    case SJ_CONFIG_DURATION:
        return "a duration such as 250ms, 30s, 5m, 2h, 1d or 1h30m";
    case SJ_CONFIG_SIZE:
        return "a size such as 4096, 64KiB, 512MiB or 2GiB";
    case SJ_CONFIG_PATH:
        return "a file name";
    case SJ_CONFIG_HOSTPORT_LIST:
        return "host:port items separated by commas";
    }
    return "?";
}

/* Parses text for key k into v (cleared first).  Returns 0, SJ_ENOMEM or
 * SJ_ECONFIG_BAD_VALUE with why filled. */
static int parse_value(const sj_config_key *k, const char *text, const char *base_dir,
                       cfg_value *v, char *why, size_t whycap)
{
    value_clear(v);
    char range[96];
    range_text(k, range, sizeof(range));
    int bad = 0;
    switch (k->type) {
    case SJ_CONFIG_STRING:
        v->text = strdup(text);
        if (v->text == NULL)
            return SJ_ENOMEM;
        break;
    case SJ_CONFIG_PATH:
        if (text[0] == '\0') {
            bad = 1;
            break;
        }
        if (text[0] != '/' && base_dir != NULL && base_dir[0] != '\0') {
            size_t bl = strlen(base_dir), tl = strlen(text);
            v->text = malloc(bl + tl + 2);
            if (v->text == NULL)
                return SJ_ENOMEM;
            memcpy(v->text, base_dir, bl);
            v->text[bl] = '/';
            memcpy(v->text + bl + 1, text, tl + 1);
        } else {
            v->text = strdup(text);
            if (v->text == NULL)
                return SJ_ENOMEM;
        }
        break;
    case SJ_CONFIG_INT:
        bad = parse_int64(text, &v->num) != 0 || v->num < k->min || v->num > k->max;
        break;
    case SJ_CONFIG_BOOL:
        bad = parse_bool(text, &v->flag) != 0;
        break;
    case SJ_CONFIG_DURATION:
        bad = parse_duration(text, &v->num) != 0 || v->num < k->min ||
              (k->max > 0 && v->num > k->max);
        break;
    case SJ_CONFIG_SIZE:
        bad = parse_size(text, &v->size) != 0 || (k->min > 0 && v->size < (uint64_t)k->min) ||
              (k->max > 0 && v->size > (uint64_t)k->max);
        break;
    case SJ_CONFIG_HOSTPORT_LIST: {
        char item[160];
        int rc = parse_hostports(text, v, item, sizeof(item));
        if (rc == SJ_ECONFIG_BAD_VALUE) {
            snprintf(why, whycap, "值不正确 (bad value for %s: %s)", k->name, item);
            return rc;
        }
        if (rc != 0)
            return rc;
        break;
    }
    }
    if (bad) {
        value_clear(v);
        snprintf(why, whycap, "值 \"%.60s\" 不正确 (bad value for %s; expected %s%s%s)", text,
                 k->name, expected_text(k->type),
                 range[0] == '\0' ? "" : range[0] == 'a' ? ", " : " in ", range);
        return SJ_ECONFIG_BAD_VALUE;
    }
    v->present = true;
    return 0;
}

/* ---- the table ---- */

static bool name_part_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool key_name_ok(const char *name)
{
    const char *dot = name ? strchr(name, '.') : NULL;
    return dot != NULL && name_part_ok(name, (size_t)(dot - name)) &&
           name_part_ok(dot + 1, strlen(dot + 1));
}

static ssize_t key_index(const sj_config_key *keys, size_t nkeys, const char *name)
{
    for (size_t i = 0; i < nkeys; i++)
        if (strcmp(keys[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

int sj_config_new(const sj_config_key *keys, size_t nkeys, sj_config **out, sj_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < nkeys; i++) {
        const sj_config_key *k = &keys[i];
        if (!key_name_ok(k->name))
            return sj_error_set(err, SJ_EINVAL, "config key table: entry %zu name \"%s\" is not "
                                "section.key in [a-z0-9_]", i, k->name ? k->name : "(null)");
        if (k->type < SJ_CONFIG_STRING || k->type > SJ_CONFIG_HOSTPORT_LIST ||
            k->description == NULL || (k->type == SJ_CONFIG_INT && k->min > k->max) ||
            ((k->type == SJ_CONFIG_DURATION || k->type == SJ_CONFIG_SIZE) &&
             (k->min < 0 || k->max < 0 || (k->max > 0 && k->min > k->max))))
            return sj_error_set(err, SJ_EINVAL, "config key table: %s has a bad type, range or "
                                "no description", k->name);
        if (key_index(keys, i, k->name) >= 0)
            return sj_error_set(err, SJ_EINVAL, "config key table: %s is listed twice", k->name);
    }
    sj_config *cfg = calloc(1, sizeof(*cfg));
    cfg_value *values = calloc(nkeys ? nkeys : 1, sizeof(*values));
    if (cfg == NULL || values == NULL) {
        free(cfg);
        free(values);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    cfg->keys = keys;
    cfg->nkeys = nkeys;
    cfg->values = values;
    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i].def == NULL)
            continue;
        char why[256];
        int rc = parse_value(&keys[i], keys[i].def, NULL, &values[i], why, sizeof(why));
        if (rc != 0) {
            sj_config_free(cfg);
            if (rc == SJ_ENOMEM)
                return sj_error_set(err, rc, NULL);
            return sj_error_set(err, SJ_EINVAL, "config key table: default of %s: %s",
                                keys[i].name, why);
        }
    }
    *out = cfg;
    return 0;
}

void sj_config_free(sj_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->nkeys; i++)
        value_clear(&cfg->values[i]);
    free(cfg->values);
    free(cfg);
}

/* ---- the file ---- */

typedef struct cfg_load {
    sj_config *cfg;
    const char *name;
    const char *base_dir;
    cfg_value *pending;
    char section[128];
    size_t lineno;
    sj_error *err;
} cfg_load;

static int load_fail(cfg_load *L, int code, const char *fmt, const char *a, const char *b)
{
    /* Bounded copies: a hostile or broken file cannot overflow the message. */
    char as[400], bs[64], msg[SJ_ERROR_MESSAGE_MAX];
    snprintf(as, sizeof(as), "%.399s", a ? a : "");
    snprintf(bs, sizeof(bs), "%.63s", b ? b : "");
    /* A message cut at the buffer's end still says what was wrong. */
    if (snprintf(msg, sizeof(msg), fmt, as, bs) < 0)
        msg[0] = '\0';
    return sj_error_set(L->err, code, "%s:%zu: %s", L->name, L->lineno, msg);
}

static char *skip_ws(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Only whitespace or a comment may follow. */
static bool rest_is_empty(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    return *s == '\0' || *s == '#';
}

/* A [section] header: its name must be a-z, 0-9 and _ alone on the line. */
static int load_section(cfg_load *L, char *s)
{
    char *close = strchr(s, ']');
    if (close == NULL || !rest_is_empty(close + 1))
        return load_fail(L, SJ_ECONFIG_SYNTAX,
                         "节名格式不正确 (a section header must be [name] alone on its line)",
                         NULL, NULL);
    *close = '\0';
    char *name = skip_ws(s + 1);
    rtrim(name);
    if (!name_part_ok(name, strlen(name)) || strlen(name) >= sizeof(L->section))
        return load_fail(L, SJ_ECONFIG_SYNTAX,
                         "节名 [%s] 不正确 (section names use a-z, 0-9 and _)", name, NULL);
    snprintf(L->section, sizeof(L->section), "%s", name);
    return 0;
}

/* A quoted value from s (at its opening quote) into value: \", \\, \n and
 * \t are the escapes; only a comment may follow the closing quote. */
static int load_quoted(cfg_load *L, char *s, const char *key, char value[CFG_LINE_MAX])
{
    size_t o = 0;
    s++;
    for (;;) {
        char c = *s++;
        if (c == '\0' || c == '\r')
            return load_fail(L, SJ_ECONFIG_SYNTAX,
                             "引号没有闭合 (quoted value of %s has no closing \")", key, NULL);
        if (c == '"')
            break;
        if (c == '\\') {
            char e = *s++;
            switch (e) {
            case '"':
            case '\\':
                c = e;
                break;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            default:
                return load_fail(L, SJ_ECONFIG_SYNTAX,
                                 "不支持的转义 (in a quoted value of %s only \\\", \\\\, \\n and "
                                 "\\t are escapes)",
                                 key, NULL);
            }
        }
        value[o++] = c;
    }
    value[o] = '\0';
    if (!rest_is_empty(s))
        return load_fail(L, SJ_ECONFIG_SYNTAX,
                         "引号后有多余内容 (only a # comment may follow the quoted value of %s)",
                         key, NULL);
    return 0;
}

static int load_line(cfg_load *L, char *line)
{
    char *s = skip_ws(line);
    if (*s == '\0' || *s == '#' || *s == '\r')
        return 0;
    if (*s == '[')
        return load_section(L, s);
    char *key = s;
    while ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')
        s++;
    char *key_end = s;
    s = skip_ws(s);
    if (key_end == key || *s != '=')
        return load_fail(L, SJ_ECONFIG_SYNTAX,
                         "无法识别的行 (expected `key = value`, `[section]` or a # comment; keys "
                         "use a-z, 0-9 and _)",
                         NULL, NULL);
    *key_end = '\0';
    s = skip_ws(s + 1);
    char value[CFG_LINE_MAX];
    if (*s == '"') {
        int rc = load_quoted(L, s, key, value);
        if (rc != 0)
            return rc;
    } else {
        char *hash = strchr(s, '#');
        if (hash != NULL)
            *hash = '\0';
        rtrim(s);
        snprintf(value, sizeof(value), "%s", s);
    }
    if (L->section[0] == '\0')
        return load_fail(L, SJ_ECONFIG_SYNTAX,
                         "配置项 %s 不在任何节中 (put keys under a [section] header)", key, NULL);
    char full[256];
    snprintf(full, sizeof(full), "%.120s.%.120s", L->section, key);
    ssize_t idx = key_index(L->cfg->keys, L->cfg->nkeys, full);
    if (idx < 0)
        return load_fail(L, SJ_ECONFIG_UNKNOWN_KEY,
                         "未知配置项 %s (not a documented key; --print-config-doc lists them all)",
                         full, NULL);
    cfg_value *v = &L->pending[idx];
    if (v->given) {
        char first[32];
        snprintf(first, sizeof(first), "%zu", v->line);
        return load_fail(L, SJ_ECONFIG_BAD_VALUE,
                         "配置项 %s 重复 (given twice; first on line %s; keep one)", full, first);
    }
    char why[400];
    int rc = parse_value(&L->cfg->keys[idx], value, L->base_dir, v, why, sizeof(why));
    if (rc == SJ_ENOMEM)
        return sj_error_set(L->err, rc, NULL);
    if (rc != 0)
        return load_fail(L, rc, "%s", why, NULL);
    v->given = true;
    v->line = L->lineno;
    return 0;
}

int sj_config_load_string(sj_config *cfg, const char *name, const char *base_dir,
                          const char *text, size_t len, sj_error *err)
{
    cfg_load L = {.cfg = cfg, .name = name ? name : "(config)", .base_dir = base_dir, .err = err};
    L.pending = calloc(cfg->nkeys ? cfg->nkeys : 1, sizeof(cfg_value));
    if (L.pending == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    int rc = 0;
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* a UTF-8 byte-order mark from Windows editors */
    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        L.lineno++;
        char line[CFG_LINE_MAX];
        if (l >= sizeof(line))
            rc = load_fail(&L, SJ_ECONFIG_SYNTAX, "行过长 (lines are limited to 4095 bytes)",
                           NULL, NULL);
        else if (memchr(p, '\0', l) != NULL)
            rc = load_fail(&L, SJ_ECONFIG_SYNTAX, "含有NUL字符 (the line contains a NUL byte; "
                           "is this a text file?)", NULL, NULL);
        else {
            memcpy(line, p, l);
            line[l] = '\0';
            rc = load_line(&L, line);
        }
        p += l + (nl != NULL);
    }
    for (size_t i = 0; rc == 0 && i < cfg->nkeys; i++)
        if (!L.pending[i].given && !cfg->values[i].present)
            rc = sj_error_set(err, SJ_ECONFIG_MISSING,
                              "%s: 缺少必填配置项 %s (required key missing: %s)", L.name,
                              cfg->keys[i].name, cfg->keys[i].description);
    for (size_t i = 0; i < cfg->nkeys; i++) {
        if (rc == 0 && L.pending[i].given) {
            value_clear(&cfg->values[i]);
            cfg->values[i] = L.pending[i];
        } else {
            value_clear(&L.pending[i]);
        }
    }
    free(L.pending);
    return rc;
}

int sj_config_load_file(sj_config *cfg, const char *path, sj_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sj_error_set(err, SJ_EIO, "无法读取配置文件 %s: %s (check the path given with "
                            "--config and its permissions)", path, strerror(errno));
    char *buf = malloc(CFG_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    size_t len = fread(buf, 1, CFG_FILE_MAX + 1, f);
    int rc = 0;
    if (ferror(f))
        rc = sj_error_set(err, SJ_EIO, "读取配置文件 %s 失败: %s", path, strerror(errno));
    else if (len > CFG_FILE_MAX)
        rc = sj_error_set(err, SJ_ECONFIG_SYNTAX, "%s: 配置文件过大 (larger than 1 MiB)", path);
    fclose(f);
    if (rc == 0) {
        /* Relative paths in the file are relative to the file's directory. */
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        if (slash == NULL)
            snprintf(dir, sizeof(dir), ".");
        else if (slash == path)
            snprintf(dir, sizeof(dir), "/");
        else
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        rc = sj_config_load_string(cfg, path, strcmp(dir, "/") == 0 ? "" : dir, buf, len, err);
    }
    free(buf);
    return rc;
}

int sj_config_set(sj_config *cfg, const char *name, const char *value, sj_error *err)
{
    ssize_t idx = name ? key_index(cfg->keys, cfg->nkeys, name) : -1;
    if (idx < 0)
        return sj_error_set(err, SJ_ECONFIG_UNKNOWN_KEY,
                            "未知配置项 %s (not a documented key; --print-config-doc lists them all)",
                            name ? name : "(null)");
    cfg_value v = {0};
    char why[400];
    int rc = parse_value(&cfg->keys[idx], value ? value : "", NULL, &v, why, sizeof(why));
    if (rc != 0) {
        value_clear(&v);
        return sj_error_set(err, rc, "%s", rc == SJ_ENOMEM ? sj_err_text(rc) : why);
    }
    value_clear(&cfg->values[idx]);
    v.given = true;
    cfg->values[idx] = v;
    return 0;
}

/* ---- getters ---- */

/* The value of a key of the program's own table; asking for any other key
 * (or, in get(), with the wrong type) is a bug of the program, not bad
 * input. */
static ssize_t key_of(const sj_config *cfg, const char *name, const sj_config_type *type)
{
    ssize_t idx = key_index(cfg->keys, cfg->nkeys, name);
    if (idx < 0 || (type != NULL && cfg->keys[idx].type != *type)) {
        fprintf(stderr, "sanji: config key %s %s (a bug in the program)\n", name,
                idx < 0 ? "is not in the key table" : "read with the wrong type");
        abort();
    }
    return idx;
}

static const cfg_value *get(const sj_config *cfg, const char *name, sj_config_type type)
{
    return &cfg->values[key_of(cfg, name, &type)];
}

const char *sj_config_get_string(const sj_config *cfg, const char *name)
{
    return get(cfg, name, SJ_CONFIG_STRING)->text;
}

int64_t sj_config_get_int(const sj_config *cfg, const char *name)
{
    return get(cfg, name, SJ_CONFIG_INT)->num;
}

bool sj_config_get_bool(const sj_config *cfg, const char *name)
{
    return get(cfg, name, SJ_CONFIG_BOOL)->flag;
}

int64_t sj_config_get_duration_ms(const sj_config *cfg, const char *name)
{
    return get(cfg, name, SJ_CONFIG_DURATION)->num;
}

uint64_t sj_config_get_size(const sj_config *cfg, const char *name)
{
    return get(cfg, name, SJ_CONFIG_SIZE)->size;
}

const char *sj_config_get_path(const sj_config *cfg, const char *name)
{
    return get(cfg, name, SJ_CONFIG_PATH)->text;
}

const sj_config_hostport *sj_config_get_hostports(const sj_config *cfg, const char *name,
                                                  size_t *n)
{
    const cfg_value *v = get(cfg, name, SJ_CONFIG_HOSTPORT_LIST);
    *n = v->nhp;
    return v->hp;
}

size_t sj_config_line(const sj_config *cfg, const char *name)
{
    const cfg_value *v = &cfg->values[key_of(cfg, name, NULL)];
    return v->given ? v->line : 0;
}

bool sj_config_is_set(const sj_config *cfg, const char *name)
{
    return cfg->values[key_of(cfg, name, NULL)].given;
}

/* ---- documentation ---- */

int sj_config_print_doc(const sj_config_key *keys, size_t nkeys, FILE *out)
{
    fprintf(out, "# Every key this program reads, with its default.  Lines starting with '#'\n"
                 "# are comments; remove the '#' before a key to set it.  See docs/CONFIG.md.\n");
    for (size_t i = 0; i < nkeys; i++) {
        const char *dot = strchr(keys[i].name, '.');
        size_t slen = (size_t)(dot - keys[i].name);
        /* Print each section once, at its first key, with all its keys. */
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strncmp(keys[j].name, keys[i].name, slen + 1) == 0;
        if (seen)
            continue;
        fprintf(out, "\n[%.*s]\n", (int)slen, keys[i].name);
        for (size_t j = i; j < nkeys; j++) {
            const sj_config_key *k = &keys[j];
            if (strncmp(k->name, keys[i].name, slen + 1) != 0)
                continue;
            char range[96];
            range_text(k, range, sizeof(range));
            fprintf(out, "# %s\n# type: %s%s%s; %s%s%s\n", k->description,
                    sj_config_type_name(k->type),
                    range[0] == '\0' ? "" : range[0] == 'a' ? ", " : ", range ", range,
                    k->def ? "default: " : "required", k->def ? (k->def[0] ? k->def : "(empty)") : "",
                    "");
            if (k->def == NULL)
                fprintf(out, "#%s =\n", k->name + slen + 1);
            else if (k->type == SJ_CONFIG_STRING || strpbrk(k->def, "# ") != NULL)
                fprintf(out, "#%s = \"%s\"\n", k->name + slen + 1, k->def);
            else
                fprintf(out, "#%s = %s\n", k->name + slen + 1, k->def);
        }
    }
    return ferror(out) ? SJ_EIO : 0;
}
