/*
 * fuzz_identity.c - libFuzzer target for text a peer or a form hands in
 * about who someone is: the certificate identity parser (common/domain/identity.h:
 * the SAN URI "sanji:village:410423101201[:name]", node ids, role names)
 * and the personal-data checks and masks (common/domain/personal.h).
 *
 * Input layout: the first byte sets the output capacity used for the masks
 * and the formatted URI (mod 72, so that both too small and large enough
 * are tried); the rest is the text.
 *
 * Asserts:
 *   - every failure is a table code (SJ_EINVAL, SJ_EBAD_ID_NUMBER,
 *     SJ_EBAD_PHONE, SJ_ETOOBIG) and fills err with a message;
 *   - an accepted URI formats back to exactly the input, its node id parses
 *     to the same identity, sj_identity_make() of its parts gives the same,
 *     and the role's level is the unit's level;
 *   - an accepted ID number has 18 characters, a check character that
 *     matches, and is normalised to upper-case X; an accepted phone is a
 *     mobile or a landline;
 *   - a mask never writes past the capacity given (exact-size buffers), is
 *     "" when refused for size, and shows at most the documented characters
 *     (ID: first 4 and last 4 of an 18-character text, else the first 2;
 *     mobile: 3 + 4; landline: area code and last 4; other text: the last
 *     2), the rest as '*'; a mask of valid UTF-8 is valid UTF-8;
 *   - nothing leaks, nothing is read past the input (exact-size copies).
 *
 * Entry point: LLVMFuzzerTestOneInput().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "identity.h"
#include "orgunit.h"
#include "personal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(int rc, int want, const sj_error *err)
{
    if (rc != want || err->code != rc || err->message[0] == '\0')
        abort();
}

static void same_identity(const sj_identity *a, const sj_identity *b)
{
    if (a->role != b->role || strcmp(a->unit, b->unit) != 0 ||
        strcmp(a->node_id, b->node_id) != 0 || strcmp(a->name, b->name) != 0 ||
        !sj_identity_equal(a, b))
        abort();
}

static void fuzz_uri(const char *raw, size_t len, size_t cap)
{
    sj_identity id;
    sj_error err;
    int rc = sj_identity_parse_uri(raw, len, &id, &err);
    if (rc != 0) {
        check_failure(rc, SJ_EINVAL, &err);
        return;
    }
    const char *role = sj_node_role_name(id.role);
    if (role == NULL || sj_node_role_level(id.role) != sj_orgunit_level(id.unit))
        abort();
    if (len != 6 + strlen(id.node_id) || memcmp(raw, "sanji:", 6) != 0 ||
        memcmp(raw + 6, id.node_id, len - 6) != 0)
        abort();
    char full[SJ_IDENTITY_URI_MAX];
    if (sj_identity_format_uri(&id, full, sizeof(full)) != 0 || strlen(full) != len ||
        memcmp(full, raw, len) != 0)
        abort();
    /* A small buffer: refused whole or filled whole, never overrun. */
    char *small = malloc(cap ? cap : 1);
    if (small == NULL)
        abort();
    rc = sj_identity_format_uri(&id, small, cap);
    if (rc == 0 ? strcmp(small, full) != 0 : (rc != SJ_ETOOBIG || cap > len))
        abort();
    free(small);
    sj_identity again;
    if (sj_identity_parse_node_id(id.node_id, &again, &err) != 0)
        abort();
    same_identity(&id, &again);
    if (sj_identity_make(id.role, id.unit, id.name, &again, &err) != 0)
        abort();
    same_identity(&id, &again);
}

/* out = text[0..head) + '*'... + text[len-tail..len) with head + tail <=
 * limit, for some head and tail. */
static bool mask_shows_at_most(const char *text, const char *out, size_t limit)
{
    size_t len = strlen(text), olen = strlen(out);
    for (size_t head = 0; head <= limit && head <= len && head <= olen; head++) {
        if (memcmp(out, text, head) != 0)
            break;
        for (size_t tail = 0; head + tail <= limit && head + tail <= len && head + tail <= olen;
             tail++) {
            if (memcmp(out + olen - tail, text + len - tail, tail) != 0)
                break;
            bool stars = true;
            for (size_t i = head; i < olen - tail && stars; i++)
                stars = out[i] == '*';
            if (stars)
                return true;
        }
    }
    return false;
}

static void check_mask(int rc, const char *text, const char *out, size_t cap, size_t limit)
{
    if (rc == SJ_ETOOBIG) {
        if (cap > 0 && out[0] != '\0')
            abort();
        if (cap > strlen(text))
            abort(); /* it fits; refusing it is wrong */
        return;
    }
    if (rc != 0 || strlen(out) >= cap || !mask_shows_at_most(text, out, limit))
        abort();
    if (sj_text_valid(text, SIZE_MAX) && !sj_text_valid(out, SIZE_MAX))
        abort();
}

static void fuzz_personal(const char *text, size_t cap)
{
    sj_error err;
    char norm[SJ_PERSONAL_ID_SIZE];
    int rc = sj_personal_check_id(text, norm, &err);
    if (rc != 0) {
        check_failure(rc, SJ_EBAD_ID_NUMBER, &err);
    } else {
        if (strlen(text) != SJ_PERSONAL_ID_LEN || strlen(norm) != SJ_PERSONAL_ID_LEN ||
            strncmp(text, norm, 17) != 0 || sj_personal_id_check_char(norm) != norm[17] ||
            (text[17] == 'x' ? norm[17] != 'X' : norm[17] != text[17]))
            abort();
        /* The check character is the only one that fits. */
        if (sj_personal_check_id(norm, NULL, &err) != 0)
            abort();
    }
    rc = sj_personal_check_phone(text, &err);
    bool mobile = sj_personal_is_mobile(text);
    if (rc != 0) {
        check_failure(rc, SJ_EBAD_PHONE, &err);
        if (mobile)
            abort();
    } else if (strlen(text) >= SJ_PERSONAL_PHONE_SIZE) {
        abort();
    }

    char *out = malloc(cap ? cap : 1);
    if (out == NULL)
        abort();
    size_t len = strlen(text);
    rc = sj_personal_mask_id(text, out, cap);
    check_mask(rc, text, out, cap, len == SJ_PERSONAL_ID_LEN ? 8 : 2);
    size_t limit = 2;
    if (mobile)
        limit = 7;
    else if (sj_personal_check_phone(text, &err) == 0)
        limit = (strchr(text, '-') ? 5 : 4) + 4; /* "0375-" + 4 */
    rc = sj_personal_mask_phone(text, out, cap);
    check_mask(rc, text, out, cap, limit);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cap = data[0] % 72;
    size_t len = size - 1;
    /* Exact-size copies: the URI parser takes a length and must not read past
     * it; the others take a NUL-terminated string. */
    char *raw = malloc(len ? len : 1);
    char *text = malloc(len + 1);
    if (raw == NULL || text == NULL)
        abort();
    memcpy(raw, data + 1, len);
    memcpy(text, data + 1, len);
    text[len] = '\0';

    fuzz_uri(raw, len, cap);
    sj_identity id;
    sj_error err;
    int rc = sj_identity_parse_node_id(text, &id, &err);
    if (rc != 0)
        check_failure(rc, SJ_EINVAL, &err);
    else if (strcmp(id.node_id, text) != 0)
        abort();
    sj_node_role role;
    if (sj_node_role_parse(raw, len, &role) == 0 &&
        (strlen(sj_node_role_name(role)) != len || memcmp(sj_node_role_name(role), raw, len) != 0))
        abort();
    fuzz_personal(text, cap);
    free(text);
    free(raw);
    return 0;
}
