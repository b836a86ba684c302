/*
 * text.c - terminal display width of UTF-8 text (see text.h).
 *
 * Entry points: sc_text_width(), sc_text_fit(), sc_text_applicant().
 */
#include "text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decodes one character at s; *len gets its byte length (1 for a bad byte).
 * Returns the code point, or 0xFFFD for a malformed sequence. */
static uint32_t decode(const unsigned char *s, size_t *len)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
        *len = 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
    } else {
        *len = 1;
        return 0xFFFD;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *len = 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *len = n;
    return cp;
}

static int cp_width(uint32_t cp)
{
    if (cp == 0)
        return 0;
    if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
        (cp >= 0xFE00 && cp <= 0xFE0F))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
        (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
        (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

size_t sc_text_width(const char *s)
{
    size_t w = 0;
    if (!s)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n;
        w += (size_t)cp_width(decode(p, &n));
        p += n;
    }
    return w;
}

size_t sc_text_fit(const char *s, size_t width, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    if (!s)
        s = "";
    size_t o = 0, w = 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t total = sc_text_width(s);
    /* Room for the text: all of it if it fits, else width - 1 and "…". */
    size_t room = total <= width ? width : (width > 0 ? width - 1 : 0);
    while (*p) {
        size_t n;
        int cw = cp_width(decode(p, &n));
        if (w + (size_t)cw > room || o + n + 1 > cap)
            break;
        memcpy(out + o, p, n);
        o += n;
        w += (size_t)cw;
        p += n;
    }
    if (*p && width > 0 && o + 3 + 1 <= cap) {
        memcpy(out + o, "\xE2\x80\xA6", 3); /* … */
        o += 3;
        w += 1;
    }
    while (w < width && o + 1 < cap) {
        out[o++] = ' ';
        w++;
    }
    out[o] = '\0';
    return o;
}

/* One value for display: as it is, or masked by mask(). */
static void show_value(const char *v, bool whole, int (*mask)(const char *, char *, size_t),
                       char out[SJ_PERSONAL_MASK_SIZE])
{
    v = v ? v : "";
    /* A valid ID number or phone never holds '*': one that does was
     * masked upstream. */
    if (whole || strchr(v, '*') != NULL) {
        snprintf(out, SJ_PERSONAL_MASK_SIZE, "%s", v);
        return;
    }
    if (mask(v, out, SJ_PERSONAL_MASK_SIZE) != 0)
        out[0] = '\0';
}

void sc_text_applicant(const Sanji__Case *c, sj_node_role viewer_role, const char *viewer_unit,
                       char id[SJ_PERSONAL_MASK_SIZE], char phone[SJ_PERSONAL_MASK_SIZE])
{
    id[0] = phone[0] = '\0';
    if (!c || !c->applicant)
        return;
    bool whole = sj_personal_visible(c->village, (sj_level)c->holder_level, c->holder_unit, viewer_role,
                                     viewer_unit);
    show_value(c->applicant->id_number, whole, sj_personal_mask_id, id);
    show_value(c->applicant->phone, whole, sj_personal_mask_phone, phone);
}
