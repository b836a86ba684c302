/*
 * notify_text.c - the villager's messages as text: templates rendered and
 * checked, and the wait between attempts (see notify_text.h).  No database
 * here, so the configuration (server_config.c) and its fuzzer use it alone.
 *
 * Entry points: countyd_notify_render(), countyd_notify_check_template(),
 * countyd_notify_backoff_ms().
 */
#include "notify_text.h"

#include <stdlib.h>
#include <string.h>

/* The value of placeholder name[0..len), or NULL if there is no such one. */
static const char *field_of(const countyd_notify_fields *f, const char *name, size_t len)
{
    static const char *const names[] = {"county", "item", "village", "materials", "number"};
    const char *values[] = {f ? f->county : "", f ? f->item : "", f ? f->village : "",
                            f ? f->materials : "", f ? f->number : ""};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return values[i] ? values[i] : "";
    return NULL;
}

int countyd_notify_render(const char *tmpl, const countyd_notify_fields *f, char **out,
                          sj_error *err)
{
    if (out)
        *out = NULL;
    size_t cap = 256, n = 0;
    char *buf = out ? malloc(cap) : NULL;
    if (out && !buf)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    for (const char *p = tmpl ? tmpl : ""; *p;) {
        const char *piece = p;
        size_t len = 1;
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close) {
                free(buf);
                return sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                                    "notification template “%s”: a '{' is not closed by '}'", tmpl);
            }
            piece = field_of(f, p + 1, (size_t)(close - p - 1));
            if (!piece) {
                free(buf);
                return sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                                    "notification template “%s”: unknown placeholder “%.*s” (use "
                                    "{county}, {item}, {village}, {materials} or {number})",
                                    tmpl, (int)(close - p + 1), p);
            }
            len = strlen(piece);
            p = close + 1;
        } else {
            p++;
        }
        if (!buf)
            continue;
        if (n + len + 1 > cap) {
            while (n + len + 1 > cap)
                cap *= 2;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                return sj_error_set(err, SJ_ENOMEM, "out of memory");
            }
            buf = grown;
        }
        memcpy(buf + n, piece, len);
        n += len;
    }
    if (buf) {
        buf[n] = '\0';
        *out = buf;
    }
    return 0;
}

int countyd_notify_check_template(const char *tmpl, sj_error *err)
{
    return countyd_notify_render(tmpl, NULL, NULL, err);
}

int64_t countyd_notify_backoff_ms(int64_t base_ms, int64_t cap_ms, uint32_t attempt)
{
    int64_t wait = base_ms;
    for (uint32_t i = 1; i < attempt && wait < cap_ms; i++)
        wait *= 2;
    return wait < cap_ms ? wait : cap_ms;
}

