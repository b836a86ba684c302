/*
 * text.h - display width of UTF-8 text on a terminal, for aligned columns
 * of Chinese output: CJK ideographs, kana, Hangul and full-width forms take
 * two columns, combining marks none, everything else one.  A byte that is
 * not valid UTF-8 counts as one column (and is shown as U+FFFD by most
 * terminals), so a hostile string can never make the width negative.
 *
 * Pure functions; output goes to caller buffers.
 *
 * Entry points: sc_text_width(), sc_text_fit().
 */
#ifndef SC_TEXT_H
#define SC_TEXT_H

#include <stddef.h>

/* Columns s takes on a terminal (NULL counts as empty). */
size_t sc_text_width(const char *s);

/* Writes s into out (cap bytes, always NUL-terminated when cap > 0) cut to
 * at most `width` columns (a cut string ends in "…", never in the middle
 * of a character) and padded with spaces to exactly `width` columns.
 * Returns the number of bytes written. */
size_t sc_text_fit(const char *s, size_t width, char *out, size_t cap);

#endif
