/*
 * log.c - one-line key=value log events to stderr or a file.  See log.h.
 *
 * Entry points: sj_log(), sj_logv(), sj_log_set_level(), sj_log_level_get(),
 * sj_log_enabled(), sj_log_level_parse(), sj_log_level_name(),
 * sj_log_set_file(), sj_log_close(), sj_log_redact(), sj_log_set_prefix_mode(),
 * sj_log_stderr_prefix().
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "personal.h"

static atomic_int log_level = SJ_LOG_LEVEL_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1; /* -1: stderr */
static atomic_int prefix_mode = SJ_LOG_PREFIX_AUTO;
/* Whether stderr is the journal: -1 not looked at yet, 0 no, 1 yes.  Looking
 * twice gives the same answer, so threads racing to fill it in are harmless. */
static atomic_int stderr_is_journal = -1;

void sj_log_set_level(sj_log_level level)
{
    atomic_store(&log_level, (int)level);
}

sj_log_level sj_log_level_get(void)
{
    return (sj_log_level)atomic_load(&log_level);
}

bool sj_log_enabled(sj_log_level level)
{
    return (int)level >= atomic_load(&log_level);
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

const char *sj_log_level_name(sj_log_level level)
{
    if ((unsigned)level < sizeof(level_names) / sizeof(level_names[0]))
        return level_names[level];
    return "?";
}

int sj_log_level_parse(const char *text, sj_log_level *out)
{
    if (text == NULL)
        return SJ_EINVAL;
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (sj_log_level)i;
            return 0;
        }
    if (strcasecmp(text, "warning") == 0) {
        *out = SJ_LOG_LEVEL_WARN;
        return 0;
    }
    return SJ_EINVAL;
}

int sj_log_set_file(const char *path, sj_error *err)
{
    int fd = -1;
    if (path != NULL) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
            return sj_error_set(err, SJ_EIO, "无法打开日志文件 %s: %s (check the directory and "
                                "its permissions, or set log.file to another path)",
                                path, strerror(errno));
    }
    pthread_mutex_lock(&log_lock);
    int old = log_fd;
    log_fd = fd;
    pthread_mutex_unlock(&log_lock);
    if (old >= 0)
        close(old);
    return 0;
}

void sj_log_close(void)
{
    sj_log_set_file(NULL, NULL);
}

/* sd-daemon(3): "<N>" with N the syslog priority (LOG_ERR 3, LOG_WARNING 4,
 * LOG_INFO 6, LOG_DEBUG 7).  Written as literals so this file needs no
 * systemd header. */
static const char *const level_prefixes[] = {"<7>", "<6>", "<4>", "<3>"};

/* True when $JOURNAL_STREAM is "DEVICE:INODE" of our stderr.  systemd sets it
 * for a service's stdout/stderr connected to the journal; a child whose
 * stderr was redirected elsewhere inherits the variable but no longer
 * matches, which is why the device and inode are compared. */
static bool journal_is_stderr(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    if (v == NULL || v[0] == '\0')
        return false;
    unsigned long long dev, ino;
    char tail;
    if (sscanf(v, "%llu:%llu%c", &dev, &ino, &tail) != 2)
        return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void sj_log_set_prefix_mode(sj_log_prefix_mode mode)
{
    atomic_store(&prefix_mode, (int)mode);
    atomic_store(&stderr_is_journal, -1);
}

const char *sj_log_stderr_prefix(sj_log_level level)
{
    if ((unsigned)level >= sizeof(level_prefixes) / sizeof(level_prefixes[0]))
        level = SJ_LOG_LEVEL_ERROR;
    switch ((sj_log_prefix_mode)atomic_load(&prefix_mode)) {
    case SJ_LOG_PREFIX_NEVER:
        return "";
    case SJ_LOG_PREFIX_ALWAYS:
        return level_prefixes[level];
    case SJ_LOG_PREFIX_AUTO:
        break;
    }
    int known = atomic_load(&stderr_is_journal);
    if (known < 0) {
        known = journal_is_stderr() ? 1 : 0;
        atomic_store(&stderr_is_journal, known);
    }
    return known ? level_prefixes[level] : "";
}

/* A growing line buffer that silently stops at its end. */
typedef struct log_buf {
    char *p;
    size_t len, cap;
    bool cut;
} log_buf;

static void buf_putc(log_buf *b, char c)
{
    if (b->len + 1 < b->cap)
        b->p[b->len++] = c;
    else
        b->cut = true;
}

static void buf_puts(log_buf *b, const char *s)
{
    while (*s)
        buf_putc(b, *s++);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of an ID-like (18) or mobile-like (11) run starting at s[i], or 0.
 * Only maximal runs of digits count, so longer numbers (timestamps, case
 * numbers) are left alone. */
static size_t personal_run(const char *s, size_t i, bool *is_id)
{
    if (!is_digit(s[i]) || (i > 0 && is_digit(s[i - 1])))
        return 0;
    size_t n = 0;
    while (is_digit(s[i + n]))
        n++;
    if (n == 18 || (n == 17 && (s[i + 17] == 'X' || s[i + 17] == 'x'))) {
        *is_id = true;
        return 18;
    }
    if (n == 11 && s[i] == '1' && s[i + 1] >= '3' && s[i + 1] <= '9') {
        *is_id = false;
        return 11;
    }
    return 0;
}

/* Calls emit(ctx, c) for each character of text with personal runs masked. */
static void redact_each(const char *text, void (*emit)(void *, char), void *ctx)
{
    for (size_t i = 0; text[i] != '\0';) {
        bool is_id = false;
        size_t run = personal_run(text, i, &is_id);
        if (run == 0) {
            emit(ctx, text[i++]);
            continue;
        }
        char raw[SJ_PERSONAL_ID_SIZE], masked[SJ_PERSONAL_MASK_SIZE];
        memcpy(raw, text + i, run);
        raw[run] = '\0';
        int rc = is_id ? sj_personal_mask_id(raw, masked, sizeof(masked))
                       : sj_personal_mask_phone(raw, masked, sizeof(masked));
        if (rc != 0)
            snprintf(masked, sizeof(masked), "[redacted]");
        for (const char *m = masked; *m; m++)
            emit(ctx, *m);
        i += run;
    }
}

static void emit_plain(void *ctx, char c)
{
    buf_putc(ctx, c);
}

static void emit_quoted(void *ctx, char c)
{
    log_buf *b = ctx;
    unsigned char u = (unsigned char)c;
    switch (c) {
    case '"':
        buf_puts(b, "\\\"");
        return;
    case '\\':
        buf_puts(b, "\\\\");
        return;
    case '\n':
        buf_puts(b, "\\n");
        return;
    case '\r':
        buf_puts(b, "\\r");
        return;
    case '\t':
        buf_puts(b, "\\t");
        return;
    }
    if (u < 0x20 || u == 0x7f) {
        char hex[5];
        snprintf(hex, sizeof(hex), "\\x%02x", u);
        buf_puts(b, hex);
        return;
    }
    buf_putc(b, c);
}

static bool needs_quotes(const char *v)
{
    if (v[0] == '\0')
        return true;
    for (const char *p = v; *p; p++) {
        unsigned char u = (unsigned char)*p;
        if (u <= 0x20 || u == 0x7f || *p == '"' || *p == '=' || *p == '\\')
            return true;
    }
    return false;
}

static void put_value(log_buf *b, const char *v, bool force_quotes)
{
    if (v == NULL)
        v = "";
    if (force_quotes || needs_quotes(v)) {
        buf_putc(b, '"');
        redact_each(v, emit_quoted, b);
        buf_putc(b, '"');
    } else {
        redact_each(v, emit_plain, b);
    }
}

static void put_key(log_buf *b, const char *k)
{
    if (k[0] == '\0')
        k = "_";
    for (const char *p = k; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
                  c == '.' || c == '-';
        buf_putc(b, ok ? c : '_');
    }
}

size_t sj_log_redact(const char *text, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    log_buf b = {.p = out, .len = 0, .cap = cap};
    if (text != NULL)
        redact_each(text, emit_plain, &b);
    out[b.len] = '\0';
    return b.len;
}

void sj_logv(sj_log_level level, const char *module, const char *msg, va_list ap)
{
    if (!sj_log_enabled(level))
        return;
    char line[SJ_LOG_LINE_MAX];
    /* The first PREFIX_ROOM bytes are kept for the priority prefix, which
     * only a line that goes to stderr gets (decided under the lock, where
     * the destination is known).  Room for "...\n" is kept back at the end
     * so a cut line still ends cleanly. */
    enum { PREFIX_ROOM = 3 };
    char *text = line + PREFIX_ROOM;
    log_buf b = {.p = text, .len = 0, .cap = sizeof(line) - PREFIX_ROOM - 4};
    const char *prefix = sj_log_stderr_prefix(level);
    char when[SJ_CLOCK_ISO_SIZE];
    if (sj_clock_format_utc(sj_clock_system_ms(), when, sizeof(when)) != 0)
        snprintf(when, sizeof(when), "0000-00-00T00:00:00.000Z");
    buf_puts(&b, when);
    buf_puts(&b, " level=");
    buf_puts(&b, sj_log_level_name(level));
    buf_puts(&b, " module=");
    put_value(&b, module ? module : "?", false);
    buf_puts(&b, " msg=");
    put_value(&b, msg ? msg : "?", true);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL)
            break;
        const char *v = va_arg(ap, const char *);
        buf_putc(&b, ' ');
        put_key(&b, k);
        buf_putc(&b, '=');
        put_value(&b, v, false);
    }
    if (b.cut) {
        memcpy(text + b.len, "...", 3);
        b.len += 3;
    }
    text[b.len++] = '\n';

    pthread_mutex_lock(&log_lock);
    int fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
    const char *out = text;
    size_t len = b.len;
    if (log_fd < 0 && strlen(prefix) == PREFIX_ROOM) {
        memcpy(line, prefix, PREFIX_ROOM);
        out = line;
        len += PREFIX_ROOM;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, out + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* logging never stops the daemon */
        off += (size_t)w;
    }
    pthread_mutex_unlock(&log_lock);
}

void sj_log(sj_log_level level, const char *module, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    sj_logv(level, module, msg, ap);
    va_end(ap);
}
