/*
 * test_password.c - scrypt verifiers: format, verify, wrong passwords,
 * malformed verifiers, and known answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "password.h"

static void test_make_format(void **state)
{
    char v[SJ_PASSWORD_VERIFIER_SIZE];
    sj_error err;
    assert_int_equal(sj_password_make("村委会2026", v, sizeof(v), &err), 0);
    assert_int_equal(strncmp(v, "scrypt$16384$8$1$", 17), 0);
    /* 17 + 32 hex salt + '$' + 64 hex hash */
    assert_int_equal(strlen(v), 17 + 32 + 1 + 64);
    sj_password_verifier p;
    assert_int_equal(sj_password_parse(v, &p, &err), 0);
    assert_int_equal(p.n, 16384);
    assert_int_equal(p.r, 8);
    assert_int_equal(p.p, 1);
    assert_int_equal(p.salt_len, 16);
    assert_int_equal(p.hash_len, 32);
}

static void test_verify_right_and_wrong(void **state)
{
    char v[SJ_PASSWORD_VERIFIER_SIZE];
    sj_error err;
    assert_int_equal(sj_password_make("correct horse", v, sizeof(v), &err), 0);
    assert_int_equal(sj_password_verify("correct horse", v, &err), 0);
    assert_int_equal(sj_password_verify("correct horsE", v, &err), SJ_EAUTH);
    assert_int_equal(sj_password_verify("correct horse ", v, &err), SJ_EAUTH);
    assert_int_equal(sj_password_verify("c", v, &err), SJ_EAUTH);
}

static void test_salt_is_random(void **state)
{
    char a[SJ_PASSWORD_VERIFIER_SIZE], b[SJ_PASSWORD_VERIFIER_SIZE];
    assert_int_equal(sj_password_make("same", a, sizeof(a), NULL), 0);
    assert_int_equal(sj_password_make("same", b, sizeof(b), NULL), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(sj_password_verify("same", b, NULL), 0);
}

static void test_empty_password_refused(void **state)
{
    char v[SJ_PASSWORD_VERIFIER_SIZE];
    sj_error err;
    assert_int_equal(sj_password_make("", v, sizeof(v), &err), SJ_EINVAL);
    assert_non_null(strstr(err.message, "密码不能为空"));
    assert_int_equal(sj_password_make("x", v, sizeof(v), NULL), 0);
    assert_int_equal(sj_password_verify("", v, &err), SJ_EINVAL);
    assert_int_equal(sj_password_make(NULL, v, sizeof(v), NULL), SJ_EINVAL);
}

static void test_small_buffer(void **state)
{
    char v[40];
    assert_int_equal(sj_password_make("pw", v, sizeof(v), NULL), SJ_ETOOBIG);
    assert_string_equal(v, "");
}

/* Known answers.  The first is computed the same way as RFC 7914 section
 * 12's second vector (P="password", N=1024, r=8, p=16, 64 bytes), with the
 * RFC's salt "NaCl" repeated to the 16 bytes a verifier needs; the second
 * uses the default parameters.  Both values come from Python's
 * hashlib.scrypt, which reproduces the RFC vector itself. */
static void test_known_answers(void **state)
{
    static const struct {
        const char *password;
        const char *verifier;
    } cases[] = {
        {"password", "scrypt$1024$8$16$4e61436c4e61436c4e61436c4e61436c$"
                     "aee7e5612afb24ac1cc8fe2d68580f04923b9ea9b0455be3a27b6141bd8c4822"
                     "f4a30fdf836bf2a834e696303b79c2fe98ede8e2c1364c095103b7f726ee2987"},
        {"村委会", "scrypt$16384$8$1$000102030405060708090a0b0c0d0e0f$"
                   "9a6516d231c3ac7ff346ada4e417f9bbece2c77faeda9447b468da2dd8a05dec"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_error err;
        sj_error_clear(&err);
        int rc = sj_password_verify(cases[i].password, cases[i].verifier, &err);
        if (rc != 0)
            fail_msg("case %zu: rc %d \"%s\"; want 0", i, rc, err.message);
        assert_int_equal(sj_password_verify("Password", cases[i].verifier, NULL), SJ_EAUTH);
    }
}

static void test_malformed_verifiers(void **state)
{
    static const struct {
        const char *v;
        const char *why;
    } cases[] = {
        {"", "scrypt$"},
        {"bcrypt$16384$8$1$00112233445566778899aabbccddeeff$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "scrypt$"},
        {"scrypt$16383$8$1$00112233445566778899aabbccddeeff$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "power of two"},
        {"scrypt$2097152$8$1$00112233445566778899aabbccddeeff$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "power of two"},
        {"scrypt$016384$8$1$00112233445566778899aabbccddeeff$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "power of two"},
        {"scrypt$16384$0$1$00112233445566778899aabbccddeeff$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "r must be"},
        {"scrypt$16384$8$17$00112233445566778899aabbccddeeff$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "p must be"},
        {"scrypt$1048576$32$16$00112233445566778899aabbccddeeff$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "256 MiB"},
        {"scrypt$16384$8$1$0011223344556677$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "salt"},
        {"scrypt$16384$8$1$00112233445566778899AABBCCDDEEFF$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "salt"},
        {"scrypt$16384$8$1$00112233445566778899aabbccddeeff$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
         "hash"},
        {"scrypt$16384$8$1$00112233445566778899aabbccddeeff$"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff$",
         "hash"},
        {"scrypt$16384$8$1$00112233445566778899aabbccddeeff", "salt"},
        {"scrypt$16384$8", "r must be"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_error err;
        sj_error_clear(&err);
        int rc = sj_password_verify("pw", cases[i].v, &err);
        if (rc != SJ_EINVAL || strstr(err.message, cases[i].why) == NULL)
            fail_msg("case %zu \"%s\": rc %d \"%s\"; want SJ_EINVAL with \"%s\"", i, cases[i].v, rc,
                     err.message, cases[i].why);
    }
    assert_int_equal(sj_password_parse(NULL, &(sj_password_verifier){0}, NULL), SJ_EINVAL);
}

/* The rules for a password a person chooses (sj_password_strength). */
static void test_strength(void **state)
{
    (void)state;
    sj_error err;
    static const char *const good[] = {"Neu-gewaehlt-7", "abcdefg1", "12345678!", "密码是个好东西1",
                                       "ab-cd-ef"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (sj_password_strength(good[i], &err) != 0)
            fail_msg("%s refused: %s", good[i], err.message);
    static const char *const bad[] = {"", "short1", "abcdefgh", "12345678", "aaaaaaaa",
                                      "密码是个好东西吗", "\377\3761234567"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(sj_password_strength(bad[i], &err), SJ_EINVAL);
        assert_true(err.message[0] != '\0');
    }
    assert_int_equal(sj_password_strength(NULL, &err), SJ_EINVAL);
    assert_int_equal(sj_password_strength("abcdefg", &err), SJ_EINVAL);
    assert_non_null(strstr(err.message, "8"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_format),
        cmocka_unit_test(test_verify_right_and_wrong),
        cmocka_unit_test(test_salt_is_random),
        cmocka_unit_test(test_empty_password_refused),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_malformed_verifiers),
        cmocka_unit_test(test_strength),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
