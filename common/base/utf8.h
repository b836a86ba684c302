/*
 * utf8.h - the one strict UTF-8 check and the one "blank text" rule that
 * every tier uses: the envelope decoder on every string of every message,
 * the case rules on every text a person typed, the clients before they save.
 *
 * Strict means RFC 3629: no overlong forms, no UTF-16 surrogates, nothing
 * above U+10FFFF, no truncated sequence.  Blank means NULL, empty, or only
 * white space: ASCII space and \t \n \v \f \r, the no-break space U+00A0
 * (pasted from office documents) and the ideographic space U+3000 (typed by
 * Chinese input methods).  A required text that is blank is missing.
 *
 * Pure functions; no allocation.
 *
 * Entry points: sj_utf8_valid(), sj_utf8_blank().
 */
#ifndef SJ_UTF8_H
#define SJ_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8.  A NUL byte inside is U+0000,
 * which is valid; callers that read C strings pass strlen(). */
bool sj_utf8_valid(const char *s, size_t len);

/* True when s is NULL, empty, or white space only (see above). */
bool sj_utf8_blank(const char *s);

#endif
