/*
 * certs.c - test helper: builds a temporary county PKI with sanji-pki
 * (see certs.h for the set of certificates).
 *
 * Entry points: sj_test_certs_setup(), sj_test_certs_cleanup(),
 * sj_test_certs_path(), sj_test_certs_pki(), sj_test_certs_tls_ctx().
 */
#include "certs.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

int sj_test_certs_pki(const sj_test_certs *c, const char *const args[])
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = c->pki;
    for (size_t i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/pki.log", c->dir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(c->pki, (char *const *)argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *sj_test_certs_path(const sj_test_certs *c, const char *name, const char *ext,
                               char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s.%s", c->dir, name, ext);
    return buf;
}

static int issue(sj_test_certs *c, const char *ca, const char *name, const char *role,
                 const char *unit, const char *extra1, const char *extra2)
{
    char dir[PATH_MAX], out[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", c->dir, ca);
    snprintf(out, sizeof out, "%s/%s", c->dir, name);
    const char *args[] = {"issue", "--dir", dir, "--role", role, "--unit", unit,
                          "--out", out,   extra1, extra2, NULL};
    int rc = sj_test_certs_pki(c, args);
    if (rc != 0)
        fprintf(stderr, "certs: issuing %s failed (%d); see %s/pki.log\n", name, rc, c->dir);
    return rc == 0 ? 0 : -1;
}

/* sanji-pki only makes certificates with a valid identity, so the one
 * without is made here, signed by the county CA: <dir>/<name>.crt/.key with
 * san as its subjectAltName (e.g. "DNS:localhost"). */
static int issue_raw(sj_test_certs *c, const char *name, const char *san)
{
    char path[PATH_MAX];
    int rc = -1;
    FILE *f = NULL;
    X509 *ca = NULL, *x = NULL;
    EVP_PKEY *cakey = NULL, *key = NULL;
    X509_EXTENSION *ext = NULL;
    snprintf(path, sizeof path, "%s/ca/ca.crt", c->dir);
    if ((f = fopen(path, "r")) == NULL)
        goto out;
    ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof path, "%s/ca/ca.key", c->dir);
    if ((f = fopen(path, "r")) == NULL)
        goto out;
    cakey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    key = EVP_EC_gen("P-256");
    x = X509_new();
    if (!ca || !cakey || !key || !x)
        goto out;
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    time_t now = time(NULL);
    if (!X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(x), 0x7f0001) ||
        !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
        !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                    (const unsigned char *)name, -1, -1, 0) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), now - 300) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), now + 86400) || !X509_set_pubkey(x, key) ||
        (ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san)) == NULL ||
        !X509_add_ext(x, ext, -1) || !X509_sign(x, cakey, EVP_sha256()))
        goto out;
    snprintf(path, sizeof path, "%s/%s.crt", c->dir, name);
    if ((f = fopen(path, "w")) == NULL)
        goto out;
    bool ok = PEM_write_X509(f, x) == 1;
    if (fclose(f) != 0 || !ok)
        goto out;
    snprintf(path, sizeof path, "%s/%s.key", c->dir, name);
    /* 0600 like sanji-pki's keys: the TLS context refuses any other mode. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
        if (fd >= 0)
            close(fd);
        goto out;
    }
    ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (fclose(f) != 0 || !ok)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "certs: making %s failed\n", name);
    X509_EXTENSION_free(ext);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(cakey);
    return rc;
}

int sj_test_certs_setup(sj_test_certs *c)
{
    memset(c, 0, sizeof *c);
    const char *build = getenv("SANJI_BUILD_DIR");
    if (build == NULL) {
        fprintf(stderr, "certs: SANJI_BUILD_DIR is not set (run the test through ctest)\n");
        return -1;
    }
    snprintf(c->pki, sizeof c->pki, "%s/deploy/pki/sanji-pki", build);
    if (access(c->pki, X_OK) != 0) {
        fprintf(stderr, "certs: %s not found; build the sanji-pki target first\n", c->pki);
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    int len = snprintf(c->dir, sizeof c->dir, "%s/sanji-certs-XXXXXX", tmp ? tmp : "/tmp");
    if (len < 0 || (size_t)len >= sizeof c->dir) {
        fprintf(stderr, "certs: TMPDIR is too long\n");
        c->dir[0] = '\0';
        return -1;
    }
    if (mkdtemp(c->dir) == NULL) {
        perror("certs: mkdtemp");
        return -1;
    }
    snprintf(c->ca_dir, sizeof c->ca_dir, "%s/ca", c->dir);
    snprintf(c->ca_file, sizeof c->ca_file, "%s/ca/ca.crt", c->dir);
    snprintf(c->crl_file, sizeof c->crl_file, "%s/ca/crl.pem", c->dir);
    snprintf(c->foreign_ca_file, sizeof c->foreign_ca_file, "%s/foreign/ca.crt", c->dir);
    char foreign[PATH_MAX];
    snprintf(foreign, sizeof foreign, "%s/foreign", c->dir);

    const char *init1[] = {"init", "--dir", c->ca_dir, "--county", "410423000000", NULL};
    const char *init2[] = {"init", "--dir", foreign, "--county", "410423000000", NULL};
    if (sj_test_certs_pki(c, init1) != 0 || sj_test_certs_pki(c, init2) != 0) {
        fprintf(stderr, "certs: sanji-pki init failed; see %s/pki.log\n", c->dir);
        return -1;
    }
    char past_na[32], future_nb[32];
    time_t now = time(NULL);
    snprintf(past_na, sizeof past_na, "%lld", (long long)now - 365LL * 86400);
    snprintf(future_nb, sizeof future_nb, "%lld", (long long)now + 365LL * 86400);
    const char *hosts = "127.0.0.1,localhost";
    if (issue(c, "ca", "county", "county", "410423000000", "--host", hosts) ||
        issue(c, "ca", "relay", "relay", "410423101000", "--host", hosts) ||
        issue(c, "ca", "relay2", "relay", "410423102000", "--host", hosts) ||
        issue(c, "ca", "village", "village", "410423101201", NULL, NULL) ||
        issue(c, "ca", "township-desk", "township-desk", "410423101000", NULL, NULL) ||
        issue(c, "ca", "county-desk", "county-desk", "410423000000", "--name", "ops1") ||
        issue(c, "foreign", "foreign-village", "village", "410423101201", NULL, NULL) ||
        issue(c, "ca", "expired-village", "village", "410423101202", "--not-after", past_na) ||
        issue(c, "ca", "future-village", "village", "410423101203", "--not-before",
              future_nb) ||
        issue(c, "ca", "revoked-village", "village", "410423101204", NULL, NULL) ||
        issue_raw(c, "no-identity", "DNS:localhost") ||
        issue_raw(c, "bad-identity", "URI:sanji:village:410423101000"))
        return -1;
    char rv[PATH_MAX];
    const char *revoke[] = {"revoke", "--dir", c->ca_dir, "--cert",
                            sj_test_certs_path(c, "revoked-village", "crt", rv, sizeof rv), NULL};
    if (sj_test_certs_pki(c, revoke) != 0) {
        fprintf(stderr, "certs: sanji-pki revoke failed; see %s/pki.log\n", c->dir);
        return -1;
    }
    return 0;
}

void sj_test_certs_cleanup(sj_test_certs *c)
{
    if (c->dir[0] == '\0')
        return;
    /* Our own temporary directory, made by mkdtemp: remove it with rm. */
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", "--", c->dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
    c->dir[0] = '\0';
}

sj_tls_ctx *sj_test_certs_tls_ctx(const sj_test_certs *c, const char *name, bool is_server,
                                  bool with_crl, const sj_node_role *roles, size_t n_roles,
                                  const char *ca_file, sj_error *err)
{
    char crt[PATH_MAX], key[PATH_MAX];
    bool has_cert = name != NULL && name[0] != '\0';
    sj_tls_config cfg = {
        .ca_file = ca_file ? ca_file : c->ca_file,
        .cert_file = has_cert ? sj_test_certs_path(c, name, "crt", crt, sizeof crt) : NULL,
        .key_file = has_cert ? sj_test_certs_path(c, name, "key", key, sizeof key) : NULL,
        .crl_file = with_crl ? c->crl_file : NULL,
        .is_server = is_server,
        .allowed_peer_roles = roles,
        .n_allowed_peer_roles = n_roles,
    };
    sj_error_clear(err);
    return sj_tls_ctx_new(&cfg, err);
}
