/*
 * password.c - scrypt password verifiers through OpenSSL 3 EVP_KDF.
 * See password.h.
 *
 * Entry points: sj_password_make(), sj_password_verify(), sj_password_parse().
 */
#include "password.h"
#include "utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define PW_N 16384
#define PW_R 8
#define PW_P 1
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32
#define PW_MAX_N (UINT64_C(1) << 20)
#define PW_MAX_R 32
#define PW_MAX_P 16
#define PW_MAX_MEM (UINT64_C(256) << 20)

/* Appends OpenSSL's queued error text (and clears the queue). */
static int openssl_fail(sj_error *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char text[256] = "no detail";
    if (e != 0)
        ERR_error_string_n(e, text, sizeof(text));
    ERR_clear_error();
    return sj_error_set(err, SJ_EINTERNAL, "密码处理失败 (%s: OpenSSL: %s)", what, text);
}

static int scrypt(const char *password, size_t pwlen, const sj_password_verifier *v,
                  uint8_t *out, size_t outlen, sj_error *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    if (kdf == NULL)
        return openssl_fail(err, "EVP_KDF_fetch SCRYPT");
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (ctx == NULL)
        return openssl_fail(err, "EVP_KDF_CTX_new");
    uint64_t n = v->n;
    uint32_t r = v->r, p = v->p;
    /* Enough for the largest parameters parse accepts, plus slack. */
    uint64_t maxmem = PW_MAX_MEM + (UINT64_C(1) << 20);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password, pwlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)v->salt, v->salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    int rc = 0;
    if (EVP_KDF_derive(ctx, out, outlen, params) != 1)
        rc = openssl_fail(err, "EVP_KDF_derive scrypt");
    EVP_KDF_CTX_free(ctx);
    return rc;
}

static int check_password(const char *password, size_t *len, sj_error *err)
{
    if (password == NULL || password[0] == '\0')
        return sj_error_set(err, SJ_EINVAL, "密码不能为空 (the password is empty)");
    *len = strnlen(password, SJ_PASSWORD_MAX_LEN + 1);
    if (*len > SJ_PASSWORD_MAX_LEN)
        return sj_error_set(err, SJ_EINVAL,
                            "密码过长 (the password is longer than %d bytes)", SJ_PASSWORD_MAX_LEN);
    return 0;
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int sj_password_make(const char *password, char *out, size_t cap, sj_error *err)
{
    size_t pwlen;
    int rc = check_password(password, &pwlen, err);
    if (rc != 0)
        return rc;
    sj_password_verifier v = {.n = PW_N, .r = PW_R, .p = PW_P, .salt_len = PW_SALT_LEN,
                              .hash_len = PW_HASH_LEN};
    if (RAND_bytes(v.salt, PW_SALT_LEN) != 1)
        return openssl_fail(err, "RAND_bytes");
    rc = scrypt(password, pwlen, &v, v.hash, v.hash_len, err);
    if (rc != 0)
        return rc;
    char salt_hex[2 * PW_SALT_LEN + 1], hash_hex[2 * PW_HASH_LEN + 1];
    to_hex(v.salt, v.salt_len, salt_hex);
    to_hex(v.hash, v.hash_len, hash_hex);
    OPENSSL_cleanse(v.hash, sizeof(v.hash));
    int w = snprintf(out, cap, "scrypt$%" PRIu64 "$%" PRIu32 "$%" PRIu32 "$%s$%s", v.n, v.r, v.p,
                     salt_hex, hash_hex);
    if (w < 0 || (size_t)w >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return sj_error_set(err, SJ_ETOOBIG, "verifier buffer of %zu bytes is too small; use "
                            "SJ_PASSWORD_VERIFIER_SIZE", cap);
    }
    return 0;
}

/* Reads a decimal field ending at '$'; advances *p past the '$'. */
static bool read_uint(const char **p, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9' || (*s == '0' && s[1] != '$'))
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max)
            return false;
    }
    if (*s != '$')
        return false;
    *p = s + 1;
    *out = v;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Reads lower-case hex up to end (a '$' or NUL) into out (16..64 bytes). */
static bool read_hex(const char **p, char end, uint8_t *out, size_t *outlen)
{
    const char *s = *p;
    size_t n = 0;
    while (s[n] != '\0' && s[n] != end)
        n++;
    if (s[n] != end || n % 2 != 0 || n / 2 < 16 || n / 2 > 64)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = n / 2;
    *p = s + n + (end != '\0');
    return true;
}

int sj_password_parse(const char *verifier, sj_password_verifier *out, sj_error *err)
{
    if (verifier == NULL)
        return sj_error_set(err, SJ_EINVAL, "口令校验值为空 (no password verifier given)");
    const char *p = verifier;
    sj_password_verifier v;
    memset(&v, 0, sizeof(v));
    uint64_t n, r, pp;
    if (strncmp(p, "scrypt$", 7) != 0)
        return sj_error_set(err, SJ_EINVAL, "口令校验值格式不正确 (verifier does not start with "
                            "\"scrypt$\"; expected scrypt$N$r$p$<salt hex>$<hash hex>)");
    p += 7;
    if (!read_uint(&p, PW_MAX_N, &n) || n < 2 || (n & (n - 1)) != 0)
        return sj_error_set(err, SJ_EINVAL, "口令校验值格式不正确 (scrypt N must be a power of "
                            "two from 2 to %" PRIu64 ")", PW_MAX_N);
    if (!read_uint(&p, PW_MAX_R, &r) || r < 1)
        return sj_error_set(err, SJ_EINVAL, "口令校验值格式不正确 (scrypt r must be 1..%d)",
                            PW_MAX_R);
    if (!read_uint(&p, PW_MAX_P, &pp) || pp < 1)
        return sj_error_set(err, SJ_EINVAL, "口令校验值格式不正确 (scrypt p must be 1..%d)",
                            PW_MAX_P);
    if (128 * n * r * pp > PW_MAX_MEM)
        return sj_error_set(err, SJ_EINVAL, "口令校验值格式不正确 (scrypt parameters need more "
                            "than 256 MiB)");
    if (!read_hex(&p, '$', v.salt, &v.salt_len))
        return sj_error_set(err, SJ_EINVAL, "口令校验值格式不正确 (salt must be 16..64 bytes of "
                            "lower-case hex followed by '$')");
    if (!read_hex(&p, '\0', v.hash, &v.hash_len))
        return sj_error_set(err, SJ_EINVAL, "口令校验值格式不正确 (hash must be 16..64 bytes of "
                            "lower-case hex at the end)");
    v.n = n;
    v.r = (uint32_t)r;
    v.p = (uint32_t)pp;
    *out = v;
    return 0;
}

int sj_password_verify(const char *password, const char *verifier, sj_error *err)
{
    size_t pwlen;
    int rc = check_password(password, &pwlen, err);
    if (rc != 0)
        return rc;
    sj_password_verifier v;
    rc = sj_password_parse(verifier, &v, err);
    if (rc != 0)
        return rc;
    uint8_t got[64];
    rc = scrypt(password, pwlen, &v, got, v.hash_len, err);
    if (rc != 0)
        return rc;
    bool same = CRYPTO_memcmp(got, v.hash, v.hash_len) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    if (!same)
        return sj_error_set(err, SJ_EAUTH, "用户名或密码不正确 (wrong name or password)");
    return 0;
}

int sj_password_strength(const char *password, sj_error *err)
{
    size_t len;
    int rc = check_password(password, &len, err);
    if (rc != 0)
        return rc;
    if (!sj_utf8_valid(password, len))
        return sj_error_set(err, SJ_EINVAL, "密码含有无效字符 (the password is not valid text)");
    size_t chars = 0;
    bool letter = false, digit = false, other = false, varied = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)password[i];
        if ((ch & 0xC0) != 0x80)
            chars++; /* a character starts here */
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
            letter = true;
        else if (ch >= '0' && ch <= '9')
            digit = true;
        else if ((ch & 0xC0) != 0x80)
            other = true;
        if (ch != (unsigned char)password[0])
            varied = true;
    }
    if (chars < SJ_PASSWORD_MIN_CHARS)
        return sj_error_set(err, SJ_EINVAL, "密码至少要有 %d 个字符 (the password needs at least %d "
                            "characters)", SJ_PASSWORD_MIN_CHARS, SJ_PASSWORD_MIN_CHARS);
    if ((int)letter + (int)digit + (int)other < 2 || !varied)
        return sj_error_set(err, SJ_EINVAL, "密码须包含字母、数字、其他字符中的至少两种 (the password "
                            "needs at least two of: letters, digits, other characters)");
    return 0;
}
