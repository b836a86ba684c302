/*
 * personal.h - villagers' personal data: resident ID numbers and phone
 * numbers, checked on entry and masked for display.
 *
 * Resident ID numbers follow GB 11643-1999: 6 digits of the region of
 * first registration (the first two a province code), 8 digits of birth
 * date YYYYMMDD, 3 digits of sequence, and a check character computed
 * with ISO 7064 MOD 11-2 (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, map
 * 1 0 X 9 8 7 6 5 4 3 2).  A lower-case x is accepted and normalised to X.
 *
 * Phones: a mainland mobile number (11 digits, 1[3-9]...), or a landline
 * with its area code, "0375-5012345" or "03755012345" (area code 0 + 2 or 3
 * digits, local number of 7 or 8 digits not starting with 0 or 1).
 *
 * Masks, for levels that do not hold a case: ID 4104**********123X (first
 * 4 and last 4 kept), mobile 138****5678, landline 0375-***2345 (area code
 * and last 4 kept).  Text that is not a valid number is masked too, keeping
 * less, so a mask never leaks a mistyped number whole.
 *
 * Error messages are written for the cadre: Chinese first, then English.
 *
 * Who sees them unmasked (sj_personal_visible()) is decided here once, for
 * the county's answers and feed and for the relay's: personal data is seen
 * only by the levels that handle the case (docs/ARCHITECTURE.md, G5).
 *
 * Entry points: sj_personal_check_id(), sj_personal_id_check_char(),
 * sj_personal_check_phone(), sj_personal_is_mobile(),
 * sj_personal_mask_id(), sj_personal_mask_phone(), sj_personal_mask_name(),
 * sj_personal_visible().
 * Pure functions: no allocation, no global state (the birth-date check
 * reads sj_clock_real_ms()).
 */
#ifndef SJ_PERSONAL_H
#define SJ_PERSONAL_H

#include <stdbool.h>
#include <stddef.h>

#include "case.h"
#include "err.h"
#include "identity.h"

#define SJ_PERSONAL_ID_LEN 18
#define SJ_PERSONAL_ID_SIZE 19    /* with NUL */
#define SJ_PERSONAL_PHONE_SIZE 24 /* longest accepted phone, masked or not, with NUL */
#define SJ_PERSONAL_MASK_SIZE 64  /* enough for any mask this module writes */

/* Checks an ID number.  If normalized is not NULL it receives the number
 * with an upper-case X.  Returns 0 or SJ_EBAD_ID_NUMBER with err saying
 * what is wrong (length, a non-digit, region, birth date, check character). */
int sj_personal_check_id(const char *id, char normalized[SJ_PERSONAL_ID_SIZE], sj_error *err);

/* The check character ('0'..'9' or 'X') for 17 digits; '?' if any of them
 * is not a digit. */
char sj_personal_id_check_char(const char *first17);

/* Checks a phone number.  Returns 0 or SJ_EBAD_PHONE with err. */
int sj_personal_check_phone(const char *phone, sj_error *err);
bool sj_personal_is_mobile(const char *phone);

/* Write the display masks into out.  Return 0, or SJ_ETOOBIG if cap is
 * too small (out then holds ""), or SJ_EINVAL if text is NULL. */
int sj_personal_mask_id(const char *id, char *out, size_t cap);
int sj_personal_mask_phone(const char *phone, char *out, size_t cap);
/* A name for public display (the station's wall board): the first
 * character kept, one '*' for each other ("王秀英" -> "王**"); a name of
 * one character is "*".  Same returns as the masks above. */
int sj_personal_mask_name(const char *name, char *out, size_t cap);

/* May a viewer see a case's applicant (ID number, phone) unmasked?
 *   - the case's own village station: always;
 *   - a township or county desk: when the case is held at the desk's level
 *     by the desk's own unit (or a unit below it);
 *   - a relay and the county server: always, as the stores that serve the
 *     others (they mask what they pass on with this same rule).
 * case_village, holder_unit and viewer_unit may be NULL (then they match
 * nothing).  Anyone else (a village station for another village's case, an
 * unknown role) sees the masks. */
bool sj_personal_visible(const char *case_village, sj_level holder_level,
                         const char *holder_unit, sj_node_role viewer_role,
                         const char *viewer_unit);

#endif
