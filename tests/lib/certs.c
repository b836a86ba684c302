/*
 * certs.c - test helper: builds a temporary county PKI with sanji-pki
 * (see certs.h for the set of certificates).
 *
 * Entry points: sj_test_certs_setup(), sj_test_certs_cleanup(),
 * sj_test_certs_path(), sj_test_certs_pki().
 */
#include "certs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
        issue(c, "ca", "revoked-village", "village", "410423101204", NULL, NULL))
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
