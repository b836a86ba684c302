/*
 * test_personal.c - resident ID numbers, phone numbers, and their masks.
 * Valid ID numbers are built here from a region, a birth date and a
 * sequence, with the check character computed independently of the code
 * under test; none is a real person's number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "personal.h"

/* GB 11643 check character, written out again so the test does not trust
 * the code under test. */
static void make_id(const char *region6, const char *birth8, const char *seq3, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    snprintf(out, 19, "%.6s%.8s%.3s", region6, birth8, seq3);
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (out[i] - '0') * w[i];
    out[17] = "10X98765432"[sum % 11];
    out[18] = '\0';
}

static void test_valid_ids(void **state)
{
    static const struct {
        const char *region, *birth, *seq;
    } cases[] = {
        {"410423", "19800101", "123"}, {"410423", "19560229", "041"}, /* leap day */
        {"110105", "20000229", "002"}, {"650102", "19991231", "998"},
        {"410423", "19700615", "317"}, {"830000", "19900101", "011"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char id[19], norm[SJ_PERSONAL_ID_SIZE];
        make_id(cases[i].region, cases[i].birth, cases[i].seq, id);
        sj_error err;
        sj_error_clear(&err);
        if (sj_personal_check_id(id, norm, &err) != 0)
            fail_msg("%s refused: %s", id, err.message);
        assert_string_equal(norm, id);
    }
}

static void test_lower_case_x_accepted(void **state)
{
    /* Find a sequence whose check character is X. */
    char id[19];
    int seq = 0;
    for (;; seq++) {
        char s[12];
        snprintf(s, sizeof(s), "%03d", seq);
        make_id("410423", "19851010", s, id);
        if (id[17] == 'X')
            break;
    }
    char lower[19], norm[SJ_PERSONAL_ID_SIZE];
    memcpy(lower, id, 19);
    lower[17] = 'x';
    assert_int_equal(sj_personal_check_id(lower, norm, NULL), 0);
    assert_string_equal(norm, id);
    assert_int_equal(sj_personal_id_check_char(id), 'X');
}

static void test_invalid_ids(void **state)
{
    char good[19], wrong_check[19], bad_date[19], feb29[19], future[19], bad_region[19];
    make_id("410423", "19800101", "123", good);
    memcpy(wrong_check, good, 19);
    wrong_check[17] = wrong_check[17] == '0' ? '1' : '0';
    make_id("410423", "19801301", "123", bad_date);
    make_id("410423", "19810229", "123", feb29);
    make_id("410423", "20991231", "123", future);
    make_id("990423", "19800101", "123", bad_region);
    char swapped[19]; /* a transposition of two digits: the check catches it */
    memcpy(swapped, good, 19);
    char t = swapped[14];
    swapped[14] = swapped[15];
    swapped[15] = t;
    char letter[19];
    memcpy(letter, good, 19);
    letter[3] = 'A';
    char last_letter[19];
    memcpy(last_letter, good, 19);
    last_letter[17] = 'Y';
    static char short17[18];
    memcpy(short17, good, 17);

    const struct {
        const char *id;
        const char *why;
    } cases[] = {
        {"", "请输入身份证号码"},
        {short17, "应为18位，现在是17位"},
        {"4104231980010112345", "应为18位，现在是19位"},
        {letter, "前17位只能是数字"},
        {last_letter, "最后一位只能是数字或X"},
        {bad_region, "省级行政区划代码"},
        {bad_date, "出生日期 1980-13-01 不存在"},
        {feb29, "出生日期 1981-02-29 不存在"},
        {future, "晚于今天"},
        {wrong_check, "身份证号码校验位不正确，请核对后重新输入"},
        {swapped, "校验位不正确"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_error err;
        sj_error_clear(&err);
        int rc = sj_personal_check_id(cases[i].id, NULL, &err);
        if (rc != SJ_EBAD_ID_NUMBER || strstr(err.message, cases[i].why) == NULL)
            fail_msg("\"%s\": rc %d \"%s\"; want SJ_EBAD_ID_NUMBER with \"%s\"", cases[i].id, rc,
                     err.message, cases[i].why);
    }
    assert_int_equal(sj_personal_check_id(NULL, NULL, NULL), SJ_EBAD_ID_NUMBER);
}

static void test_phones(void **state)
{
    static const struct {
        const char *phone;
        int rc;
        bool mobile;
    } cases[] = {
        {"13812345678", 0, true},
        {"19912345678", 0, true},
        {"16637501234", 0, true},
        {"0375-5012345", 0, false},
        {"0375-50123456", 0, false},
        {"010-62345678", 0, false},
        {"03755012345", 0, false},
        {"02161234567", 0, false},
        {"12812345678", SJ_EBAD_PHONE, false},  /* 12x is not a mobile prefix */
        {"1381234567", SJ_EBAD_PHONE, false},   /* 10 digits */
        {"138123456789", SJ_EBAD_PHONE, false}, /* 12 digits */
        {"138-1234-5678", SJ_EBAD_PHONE, false},
        {"0375-0123456", SJ_EBAD_PHONE, false}, /* local part starts with 0 */
        {"0375-501234", SJ_EBAD_PHONE, false},  /* 6-digit local part */
        {"375-5012345", SJ_EBAD_PHONE, false},  /* no leading 0 */
        {"0375--5012345", SJ_EBAD_PHONE, false},
        {"", SJ_EBAD_PHONE, false},
        {"1381234567８", SJ_EBAD_PHONE, false}, /* full-width digit */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_error err;
        sj_error_clear(&err);
        int rc = sj_personal_check_phone(cases[i].phone, &err);
        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d (%s); want %d", cases[i].phone, rc, err.message, cases[i].rc);
        if (rc != 0 && strstr(err.message, "请") == NULL)
            fail_msg("\"%s\": message \"%s\" does not tell the cadre what to do", cases[i].phone,
                     err.message);
        assert_int_equal(sj_personal_is_mobile(cases[i].phone), cases[i].mobile);
    }
}

static void test_masks(void **state)
{
    static const struct {
        bool id;
        const char *in, *want;
    } cases[] = {
        {true, "41042319800101123X", "4104**********123X"},
        {true, "410423198001011234", "4104**********1234"},
        {true, "4104231980", "41********"}, /* not an ID: keep less */
        {true, "12345", "*****"},
        {false, "13812345678", "138****5678"},
        {false, "0375-5012345", "0375-***2345"},
        {false, "010-62345678", "010-****5678"},
        {false, "03755012345", "0375***2345"},
        {false, "12345678901", "*********01"},
        {false, "123", "***"},
        /* Not numbers but Chinese (a name in the wrong box): whole characters
         * kept or masked, one '*' each, so the mask stays UTF-8. */
        {true, "张三李四王五赵六", "********"},
        {true, "张三李四王五", "张****五"},
        {false, "张三李四", "****"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[SJ_PERSONAL_MASK_SIZE];
        int rc = cases[i].id ? sj_personal_mask_id(cases[i].in, out, sizeof(out))
                             : sj_personal_mask_phone(cases[i].in, out, sizeof(out));
        assert_int_equal(rc, 0);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("mask(\"%s\") = \"%s\"; want \"%s\"", cases[i].in, out, cases[i].want);
    }
    static const struct {
        const char *in, *want;
    } names[] = {
        {"王秀英", "王**"}, {"张三", "张*"}, {"欧阳春花", "欧***"}, {"李", "*"},
        {"Wang Xiu", "W*******"}, {"", ""},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char out[SJ_PERSONAL_MASK_SIZE];
        assert_int_equal(sj_personal_mask_name(names[i].in, out, sizeof(out)), 0);
        if (strcmp(out, names[i].want) != 0)
            fail_msg("mask_name(\"%s\") = \"%s\"; want \"%s\"", names[i].in, out, names[i].want);
    }
    char small[8];
    assert_int_equal(sj_personal_mask_name("王秀英王秀英", small, sizeof(small)), SJ_ETOOBIG);
    assert_int_equal(sj_personal_mask_id("41042319800101123X", small, sizeof(small)), SJ_ETOOBIG);
    assert_string_equal(small, "");
    assert_int_equal(sj_personal_mask_phone(NULL, small, sizeof(small)), SJ_EINVAL);
}

static void test_future_birth_follows_fake_clock(void **state)
{
    char id[19];
    make_id("410423", "20300101", "123", id);
    assert_int_equal(sj_personal_check_id(id, NULL, NULL), SJ_EBAD_ID_NUMBER);
    int64_t at;
    assert_int_equal(sj_clock_parse_iso("2031-01-01T00:00:00+08:00", &at, NULL), 0);
    sj_clock_set_fake_now_ms(at);
    assert_int_equal(sj_personal_check_id(id, NULL, NULL), 0);
    sj_clock_set_fake_offset_ms(0);
}

/* Who sees an applicant unmasked: a case of village 张官营村 (410423101201)
 * of township 410423101000, held at various levels. */
static void test_visible(void **state)
{
    (void)state;
    static const char V[] = "410423101201", T[] = "410423101000", C[] = "410423000000";
    static const struct {
        sj_level holder_level;
        const char *holder_unit;
        sj_node_role role;
        const char *unit;
        bool want;
    } rows[] = {
        /* its own village always, another village never */
        {SJ_LEVEL_VILLAGE, V, SJ_NODE_ROLE_VILLAGE, V, true},
        {SJ_LEVEL_COUNTY, C, SJ_NODE_ROLE_VILLAGE, V, true},
        {SJ_LEVEL_VILLAGE, "410423101202", SJ_NODE_ROLE_VILLAGE, "410423101202", false},
        /* the township desk while the township holds it */
        {SJ_LEVEL_TOWNSHIP, T, SJ_NODE_ROLE_TOWNSHIP_DESK, T, true},
        {SJ_LEVEL_VILLAGE, V, SJ_NODE_ROLE_TOWNSHIP_DESK, T, false},
        {SJ_LEVEL_COUNTY, C, SJ_NODE_ROLE_TOWNSHIP_DESK, T, false},
        {SJ_LEVEL_TOWNSHIP, T, SJ_NODE_ROLE_TOWNSHIP_DESK, "410423102000", false},
        /* the county desk while the county holds it (a department below it too) */
        {SJ_LEVEL_COUNTY, C, SJ_NODE_ROLE_COUNTY_DESK, C, true},
        {SJ_LEVEL_TOWNSHIP, T, SJ_NODE_ROLE_COUNTY_DESK, C, false},
        {SJ_LEVEL_COUNTY, C, SJ_NODE_ROLE_COUNTY_DESK, "410424000000", false},
        /* a department desk like the county desk (it is shown only the cases
         * dispatched to it: server/query.c, server/session.c) */
        {SJ_LEVEL_COUNTY, C, SJ_NODE_ROLE_DEPARTMENT_DESK, C, true},
        {SJ_LEVEL_VILLAGE, V, SJ_NODE_ROLE_DEPARTMENT_DESK, C, false},
        /* the stores that serve the others */
        {SJ_LEVEL_VILLAGE, V, SJ_NODE_ROLE_RELAY, T, true},
        {SJ_LEVEL_VILLAGE, V, SJ_NODE_ROLE_COUNTY, C, true},
        /* nobody known */
        {SJ_LEVEL_COUNTY, C, SJ_NODE_ROLE_UNSPECIFIED, C, false},
        {SJ_LEVEL_TOWNSHIP, NULL, SJ_NODE_ROLE_TOWNSHIP_DESK, T, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bool got = sj_personal_visible(V, rows[i].holder_level, rows[i].holder_unit, rows[i].role,
                                       rows[i].unit);
        if (got != rows[i].want)
            fail_msg("row %zu: held at level %d by %s, viewer role %d unit %s: got %d, want %d",
                     i, (int)rows[i].holder_level, rows[i].holder_unit ? rows[i].holder_unit : "NULL",
                     (int)rows[i].role, rows[i].unit, got, rows[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_ids),
        cmocka_unit_test(test_lower_case_x_accepted),
        cmocka_unit_test(test_invalid_ids),
        cmocka_unit_test(test_phones),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_visible),
        cmocka_unit_test(test_future_birth_follows_fake_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
