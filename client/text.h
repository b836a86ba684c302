/*
 * text.h - display width of UTF-8 text on a terminal, for aligned columns
 * of Chinese output: CJK ideographs, kana, Hangul and full-width forms take
 * two columns, combining marks none, everything else one.  A byte that is
 * not valid UTF-8 counts as one column (and is shown as U+FFFD by most
 * terminals), so a hostile string can never make the width negative.
 *
 * And how an applicant's ID number and phone are shown to a viewer, the
 * one rule for the CLI and the desktop (sc_text_applicant()).
 *
 * Pure functions; output goes to caller buffers.
 *
 * Entry points: sc_text_width(), sc_text_fit(), sc_text_applicant().
 */
#ifndef SC_TEXT_H
#define SC_TEXT_H

#include <stddef.h>

#include "identity.h"
#include "personal.h"
#include "sanji.pb-c.h"

/* Columns s takes on a terminal (NULL counts as empty). */
size_t sc_text_width(const char *s);

/* Writes s into out (cap bytes, always NUL-terminated when cap > 0) cut to
 * at most `width` columns (a cut string ends in "…", never in the middle
 * of a character) and padded with spaces to exactly `width` columns.
 * Returns the number of bytes written. */
size_t sc_text_fit(const char *s, size_t width, char *out, size_t cap);

/* The applicant's ID number and phone of case c as a viewer (its node's
 * role and unit) may see them: whole where sj_personal_visible() allows,
 * masked (sj_personal_mask_id/phone()) elsewhere.  A value that came down
 * masked already (the relay or the county masked it for this viewer) is
 * shown as it came: masking it again would hide even the digits the mask
 * keeps ("*********78").  Both are "" when c has no applicant. */
void sc_text_applicant(const Sanji__Case *c, sj_node_role viewer_role, const char *viewer_unit,
                       char id[SJ_PERSONAL_MASK_SIZE], char phone[SJ_PERSONAL_MASK_SIZE]);

#endif
