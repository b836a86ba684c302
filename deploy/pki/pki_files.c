/*
 * pki_files.c - sanji-pki's files: a new file created once and never
 * replaced (keys 0600), a published file replaced atomically, the PEM
 * writers, and PEM and text files read back.
 *
 * Entry points: pki_create_excl(), pki_write_new(), pki_replace_file(),
 * pki_read_cert(), pki_read_key(), pki_pem_string(), pki_slurp().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "pki_int.h"

char *pki_path_in(const char *dir, const char *file)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, file) < 0) {
        pki_fail("内存不足 (out of memory)");
        exit(1);
    }
    return p;
}

/* Opens path for writing, creating it; never replaces an existing file. */
FILE *pki_create_excl(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST)
            pki_fail("%s 已存在，不会覆盖 (file exists; it is never overwritten — move it away or "
                     "choose another name)",
                     path);
        else
            pki_fail("无法创建 %s: %s (check the directory and its permissions)", path,
                     strerror(errno));
        return NULL;
    }
    /* The umask may have narrowed mode; make sure a key is never wider either. */
    if (fchmod(fd, mode) != 0) {
        pki_fail("无法设置 %s 的权限: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        pki_fail("无法打开 %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
    }
    return f;
}

/* Closes f; on a write error removes path.  Returns 0 or -1. */
int pki_close_checked(FILE *f, const char *path, bool ok)
{
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        ok = false;
    if (fclose(f) != 0)
        ok = false;
    if (!ok) {
        pki_fail("写入 %s 失败 (write failed; disk full?)", path);
        unlink(path);
        return -1;
    }
    return 0;
}

/* Replaces path atomically with the given text-writing callback's output, so
 * that a daemon reloading the file never sees half of it. */
int pki_replace_file(const char *path, mode_t mode, pki_writer_fn fn, void *arg)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
        return -1;
    FILE *f = pki_create_excl(tmp, mode);
    if (f == NULL) {
        free(tmp);
        return -1;
    }
    bool ok = fn(f, arg);
    if (pki_close_checked(f, tmp, ok) != 0) {
        free(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        pki_fail("无法替换 %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* One PEM object read from path with rd, or NULL after saying why: the
 * file cannot be read (what, then hint: what to do), or it holds no PEM
 * object of the kind (what, in English en). */
static void *read_pem(const char *path, void *(*rd)(FILE *f), const char *what, const char *en,
                      const char *hint)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        pki_fail("无法读取%s %s: %s %s", what, path, strerror(errno), hint);
        return NULL;
    }
    void *x = rd(f);
    fclose(f);
    if (x == NULL)
        pki_fail("%s 不是 PEM %s (not a PEM %s)", path, what, en);
    return x;
}

static void *rd_cert(FILE *f)
{
    return PEM_read_X509(f, NULL, NULL, NULL);
}

static void *rd_key(FILE *f)
{
    return PEM_read_PrivateKey(f, NULL, NULL, NULL);
}

X509 *pki_read_cert(const char *path)
{
    return read_pem(path, rd_cert, "证书", "certificate", "(check the path)");
}

EVP_PKEY *pki_read_key(const char *path)
{
    return read_pem(path, rd_key, "私钥", "private key",
                    "(is this the CA directory? run '" PROG " init' to make one)");
}

bool pki_write_key(FILE *f, void *arg)
{
    return PEM_write_PrivateKey(f, arg, NULL, NULL, 0, NULL, NULL) == 1;
}

bool pki_write_cert(FILE *f, void *arg)
{
    return PEM_write_X509(f, arg) == 1;
}

bool pki_write_crl(FILE *f, void *arg)
{
    return PEM_write_X509_CRL(f, arg) == 1;
}

int pki_write_new(const char *path, mode_t mode, pki_writer_fn fn, void *arg)
{
    FILE *f = pki_create_excl(path, mode);
    if (f == NULL)
        return -1;
    return pki_close_checked(f, path, fn(f, arg));
}

bool pki_write_text(FILE *f, void *arg)
{
    return fputs(arg, f) >= 0;
}

/* The text of a PEM written by fn (NULL after saying why). */
char *pki_pem_string(pki_writer_fn fn, void *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    bool ok = f != NULL && fn(f, arg);
    if (f != NULL && fclose(f) != 0)
        ok = false;
    if (!ok) {
        free(text);
        pki_fail("内存不足 (out of memory)");
        return NULL;
    }
    return text;
}

/* A whole small file as text (NULL after saying why). */
char *pki_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        pki_fail("无法读取 %s: %s (the CA directory is incomplete)", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    char buf[4096];
    size_t n;
    while (m && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, m);
    bool bad = ferror(f) || m == NULL;
    fclose(f);
    if (m && fclose(m) != 0)
        bad = true;
    if (bad) {
        free(text);
        pki_fail("无法读取 %s", path);
        return NULL;
    }
    return text;
}
