/*
 * password.h - password verifiers for people who log in at a desk.
 *
 * A verifier is text that can be stored (PostgreSQL, SQLite) and compared
 * against a password later without keeping the password:
 *
 *     scrypt$16384$8$1$<salt, 32 hex digits>$<hash, 64 hex digits>
 *
 * i.e. scrypt (RFC 7914, through OpenSSL 3 EVP_KDF "SCRYPT") with N=16384,
 * r=8, p=1, a 16-byte random salt and a 32-byte result.  Verifiers with
 * other parameters are read too, within limits (N a power of two up to
 * 2^20, r up to 32, p up to 16, N*r*p*128 up to 256 MiB, salt and hash of
 * 16..64 bytes) so that a stored verifier cannot make a daemon spend
 * unbounded memory or time.
 *
 * A password a person chooses themselves (a change at login, `sanji
 * passwd`, the desk's 修改密码) must pass sj_password_strength() first.
 *
 * Entry points: sj_password_make(), sj_password_verify(),
 * sj_password_parse(), sj_password_strength().  Output goes to caller buffers; nothing is kept.
 * Thread-safe.
 */
#ifndef SJ_PASSWORD_H
#define SJ_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SJ_PASSWORD_VERIFIER_SIZE 256 /* enough for any verifier, with NUL */
#define SJ_PASSWORD_MAX_LEN 1024      /* longest password accepted, bytes */
#define SJ_PASSWORD_MIN_CHARS 8       /* shortest password a person may choose, characters */

typedef struct sj_password_verifier {
    uint64_t n;
    uint32_t r, p;
    uint8_t salt[64];
    size_t salt_len;
    uint8_t hash[64];
    size_t hash_len;
} sj_password_verifier;

/* Makes a verifier for password (NUL-terminated UTF-8) into out.  Returns 0,
 * SJ_EINVAL (empty or longer than SJ_PASSWORD_MAX_LEN), SJ_ETOOBIG (cap too
 * small) or SJ_EINTERNAL (OpenSSL failed; its text is in err). */
int sj_password_make(const char *password, char *out, size_t cap, sj_error *err);

/* Returns 0 if password matches verifier, SJ_EAUTH if it does not (the
 * comparison takes the same time wherever the bytes differ), SJ_EINVAL for
 * an empty password or a malformed verifier (err says what is wrong), or
 * SJ_EINTERNAL. */
int sj_password_verify(const char *password, const char *verifier, sj_error *err);

/* Splits a verifier into its parts.  Returns 0 or SJ_EINVAL with err. */
int sj_password_parse(const char *verifier, sj_password_verifier *out, sj_error *err);

/* The rules for a password a person chooses: valid UTF-8 of at most
 * SJ_PASSWORD_MAX_LEN bytes, at least SJ_PASSWORD_MIN_CHARS characters, at
 * least two kinds of letters, digits and other characters, and not one
 * character repeated.  Returns 0 or SJ_EINVAL with err saying which rule
 * failed (Chinese first). */
int sj_password_strength(const char *password, sj_error *err);

#endif
