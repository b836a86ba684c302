/*
 * personal.c - resident ID numbers and phone numbers: checks and display
 * masks.  See personal.h.
 *
 * Entry points: sj_personal_check_id(), sj_personal_id_check_char(),
 * sj_personal_check_phone(), sj_personal_is_mobile(),
 * sj_personal_mask_id(), sj_personal_mask_phone(), sj_personal_visible().
 */
#include "personal.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "orgunit.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

char sj_personal_id_check_char(const char *first17)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char map[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
    if (first17 == NULL)
        return '?';
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (!is_digit(first17[i]))
            return '?';
        sum += (first17[i] - '0') * weights[i];
    }
    return map[sum % 11];
}

/* Province-level codes of GB/T 2260 (the first two digits), with 71
 * (Taiwan), 81/82 (Hong Kong, Macao) and 83 (residence permits of Taiwan
 * residents). */
static bool province_ok(int code)
{
    static const int codes[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42,
                                43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
                                83};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (codes[i] == code)
            return true;
    return false;
}

int sj_personal_check_id(const char *id, char normalized[SJ_PERSONAL_ID_SIZE], sj_error *err)
{
    if (id == NULL || id[0] == '\0')
        return sj_error_set(err, SJ_EBAD_ID_NUMBER,
                            "请输入身份证号码 (the ID number is empty; enter the 18-character "
                            "resident ID number)");
    size_t len = strnlen(id, 64);
    if (len != SJ_PERSONAL_ID_LEN)
        return sj_error_set(err, SJ_EBAD_ID_NUMBER,
                            "身份证号码应为18位，现在是%s%zu位，请核对后重新输入 (the ID number has "
                            "%s%zu characters; a resident ID number has 18)",
                            len >= 64 ? "超过" : "", len, len >= 64 ? "more than " : "", len);
    if (!all_digits(id, 17))
        return sj_error_set(err, SJ_EBAD_ID_NUMBER,
                            "身份证号码前17位只能是数字，请核对后重新输入 (the first 17 characters "
                            "of an ID number must be digits)");
    char last = id[17];
    if (last == 'x')
        last = 'X';
    if (!is_digit(last) && last != 'X')
        return sj_error_set(err, SJ_EBAD_ID_NUMBER,
                            "身份证号码最后一位只能是数字或X，请核对后重新输入 (the last character "
                            "of an ID number must be a digit or X)");
    if (!province_ok((id[0] - '0') * 10 + (id[1] - '0')))
        return sj_error_set(err, SJ_EBAD_ID_NUMBER,
                            "身份证号码前两位不是有效的省级行政区划代码，请核对后重新输入 (the "
                            "first two digits of the ID number are not a province code)");
    int y = 0, m = 0, d = 0;
    for (int i = 6; i < 10; i++)
        y = y * 10 + (id[i] - '0');
    m = (id[10] - '0') * 10 + (id[11] - '0');
    d = (id[12] - '0') * 10 + (id[13] - '0');
    char birth[32];
    snprintf(birth, sizeof(birth), "%04d-%02d-%02d", y, m, d);
    int32_t bday;
    if (y < 1900 || sj_clock_parse_date(birth, &bday, NULL) != 0)
        return sj_error_set(err, SJ_EBAD_ID_NUMBER,
                            "身份证号码中的出生日期 %s 不存在，请核对后重新输入 (the birth date "
                            "in the ID number, %s, is not a real date)",
                            birth, birth);
    if (bday > sj_clock_china_day(sj_clock_real_ms()))
        return sj_error_set(err, SJ_EBAD_ID_NUMBER,
                            "身份证号码中的出生日期 %s 晚于今天，请核对后重新输入 (the birth date "
                            "in the ID number, %s, is in the future)",
                            birth, birth);
    if (sj_personal_id_check_char(id) != last)
        return sj_error_set(err, SJ_EBAD_ID_NUMBER,
                            "身份证号码校验位不正确，请核对后重新输入 (the check character of the "
                            "ID number is wrong; a digit was probably mistyped)");
    if (normalized != NULL) {
        memcpy(normalized, id, 17);
        normalized[17] = last;
        normalized[18] = '\0';
    }
    return 0;
}

bool sj_personal_is_mobile(const char *phone)
{
    return phone != NULL && strnlen(phone, 12) == 11 && phone[0] == '1' && phone[1] >= '3' &&
           phone[1] <= '9' && all_digits(phone, 11);
}

/* Area code length of a landline (3 or 4 with the leading 0), its local
 * part at *local; 0 if phone is not a landline. */
static size_t landline_split(const char *phone, const char **local)
{
    size_t len = strnlen(phone, SJ_PERSONAL_PHONE_SIZE);
    if (len >= SJ_PERSONAL_PHONE_SIZE || phone[0] != '0')
        return 0;
    const char *dash = memchr(phone, '-', len);
    size_t area_choices[2] = {3, 4};
    for (int k = 0; k < 2; k++) {
        size_t area = area_choices[k];
        if (dash != NULL && (size_t)(dash - phone) != area)
            continue;
        if (area >= len || !all_digits(phone, area) || phone[1] == '0')
            continue;
        const char *l = phone + area + (dash != NULL);
        size_t llen = len - area - (dash != NULL);
        if ((llen == 7 || llen == 8) && all_digits(l, llen) && l[0] != '0' && l[0] != '1') {
            /* Without a dash "0xx" + 8 and "0xxx" + 7 are both 11 digits;
             * Chinese 3-digit area codes are 010 and 02x, so prefer those. */
            if (dash == NULL && area == 3 && !(phone[1] == '1' || phone[1] == '2'))
                continue;
            *local = l;
            return area;
        }
    }
    return 0;
}

int sj_personal_check_phone(const char *phone, sj_error *err)
{
    if (phone == NULL || phone[0] == '\0')
        return sj_error_set(err, SJ_EBAD_PHONE,
                            "请输入联系电话 (the phone number is empty; enter an 11-digit mobile "
                            "number or a landline with area code)");
    if (sj_personal_is_mobile(phone))
        return 0;
    const char *local;
    if (landline_split(phone, &local) != 0)
        return 0;
    if (phone[0] == '1')
        return sj_error_set(err, SJ_EBAD_PHONE,
                            "手机号码应为11位数字，以13至19开头，请核对后重新输入 (a mobile "
                            "number has 11 digits and starts with 13..19)");
    return sj_error_set(err, SJ_EBAD_PHONE,
                        "电话号码格式不正确，请输入11位手机号码或带区号的固定电话，如 "
                        "0375-5012345 (enter an 11-digit mobile number or a landline with area "
                        "code, e.g. 0375-5012345)");
}

static bool utf8_continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* Copies the first keep_head and last keep_tail bytes of text and writes one
 * '*' per character between them.  Text that is not a number may be
 * Chinese (a name typed into the wrong box): the kept parts shrink to whole
 * UTF-8 characters, so that the mask of UTF-8 text is UTF-8 too. */
static int mask_copy(const char *text, size_t keep_head, size_t keep_tail, char *out, size_t cap)
{
    size_t len = strlen(text);
    if (keep_head + keep_tail > len)
        keep_head = keep_tail = 0;
    while (keep_head > 0 && utf8_continuation(text[keep_head]))
        keep_head--;
    while (keep_tail > 0 && utf8_continuation(text[len - keep_tail]))
        keep_tail--;
    size_t stars = 0;
    for (size_t i = keep_head; i < len - keep_tail; i++)
        stars += !utf8_continuation(text[i]);
    if (stars == 0 && keep_head < len - keep_tail)
        stars = 1; /* continuation bytes only (not UTF-8): still one '*' */
    size_t olen = keep_head + stars + keep_tail;
    if (cap == 0 || olen + 1 > cap) {
        if (cap > 0)
            out[0] = '\0';
        return SJ_ETOOBIG;
    }
    memcpy(out, text, keep_head);
    memset(out + keep_head, '*', stars);
    memcpy(out + keep_head + stars, text + len - keep_tail, keep_tail);
    out[olen] = '\0';
    return 0;
}

int sj_personal_mask_id(const char *id, char *out, size_t cap)
{
    if (id == NULL || out == NULL)
        return SJ_EINVAL;
    size_t len = strlen(id);
    /* Valid length: 4 + 4 kept.  Anything else keeps only the first 2, so a
     * mistyped number is never shown nearly whole. */
    if (len == SJ_PERSONAL_ID_LEN)
        return mask_copy(id, 4, 4, out, cap);
    return mask_copy(id, len > 6 ? 2 : 0, 0, out, cap);
}

int sj_personal_mask_phone(const char *phone, char *out, size_t cap)
{
    if (phone == NULL || out == NULL)
        return SJ_EINVAL;
    if (sj_personal_is_mobile(phone))
        return mask_copy(phone, 3, 4, out, cap);
    const char *local;
    size_t area = landline_split(phone, &local);
    if (area != 0)
        return mask_copy(phone, (size_t)(local - phone), 4, out, cap);
    size_t len = strlen(phone);
    return mask_copy(phone, 0, len > 8 ? 2 : 0, out, cap);
}

int sj_personal_mask_name(const char *name, char *out, size_t cap)
{
    if (name == NULL || out == NULL)
        return SJ_EINVAL;
    /* The surname stays (the first character; 欧阳 and other two-character
     * surnames lose their second, which is the safer side), every other
     * character becomes one '*'. */
    size_t len = strlen(name), first = 0;
    if (len > 0) {
        first = 1;
        while (first < len && utf8_continuation(name[first]))
            first++;
    }
    if (first == len && len > 0) /* one character only: nothing would be hidden */
        return mask_copy(name, 0, 0, out, cap);
    return mask_copy(name, first, 0, out, cap);
}

bool sj_personal_visible(const char *case_village, sj_level holder_level,
                         const char *holder_unit, sj_node_role viewer_role,
                         const char *viewer_unit)
{
    switch (viewer_role) {
    case SJ_NODE_ROLE_RELAY:
    case SJ_NODE_ROLE_COUNTY:
        return true;
    case SJ_NODE_ROLE_VILLAGE:
        return case_village && viewer_unit && strcmp(case_village, viewer_unit) == 0;
    case SJ_NODE_ROLE_TOWNSHIP_DESK:
    case SJ_NODE_ROLE_COUNTY_DESK:
    case SJ_NODE_ROLE_DEPARTMENT_DESK: /* sees only its own cases (server/query.c) */
        return holder_level == sj_node_role_level(viewer_role) && holder_unit && viewer_unit &&
               sj_orgunit_contains(viewer_unit, holder_unit);
    default:
        return false;
    }
}
