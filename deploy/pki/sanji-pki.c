/*
 * sanji-pki.c - the county's certificate authority on the command line.
 *
 * One directory holds one county CA:
 *
 *   ca.crt    the CA certificate (the trust anchor every node is given)
 *   ca.key    its P-256 private key, mode 0600
 *   serial    the next certificate serial number, in hex
 *   index     revoked certificates, one per line: <serial hex> <unix time> <node id>
 *   crl.pem   the CRL made from index, published to every county server and relay
 *
 * Commands: init, issue, revoke, crl, show, enrol (see usage() or
 * docs/PKI.md).  enrol seals a node's certificate, key, CA, CRL and server
 * address into one bundle under a one-time passphrase (common/net/enrol.h) and
 * writes the passphrase on a slip for the township office.
 * Every node certificate carries exactly one identity URI in its
 * subjectAltName, "sanji:<role>:<unit>[:<name>]" (common/domain/identity.h), plus
 * DNS names and IP addresses for the hosts a server or relay listens on.
 *
 * Private keys are created with O_CREAT|O_EXCL and mode 0600 and are never
 * overwritten.  Every failure prints what was wrong and what to do, and
 * exits with status 1 (2 for a usage error).
 *
 * Entry point: main().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "csv.h"
#include "enrol.h"
#include "identity.h"
#include "orgunit.h"

#define PROG "sanji-pki"

/* ---------- messages ---------------------------------------------------- */

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void usage(FILE *f)
{
    fputs("用法 / usage:\n"
          "  " PROG " init   --dir D --county CODE [--name 县名] [--days 3650]\n"
          "  " PROG " issue  --dir D --role ROLE --unit CODE [--name N] [--host H,H...]\n"
          "                  [--days 825 | --minutes M] [--not-before UNIX] [--not-after UNIX]\n"
          "                  --out PREFIX\n"
          "  " PROG " revoke --dir D --cert FILE\n"
          "  " PROG " crl    --dir D [--days 30]\n"
          "  " PROG " show   --cert FILE\n"
          "  " PROG " enrol  --dir D --orgunits CSV --address HOST:PORT[,HOST:PORT]\n"
          "                  (--township CODE | --unit CODE [--role ROLE] [--name N]\n"
          "                   [--host H,H...]) [--days 825] --out DIR\n"
          "\n"
          "  ROLE: village | relay | township-desk | county-desk | department-desk | county\n"
          "        (department-desk: --unit is the county, --name the department's code)\n"
          "  CODE: 12-digit org unit code (county codes end in 000000, township codes in 000)\n"
          "  init   creates D/ca.crt, D/ca.key (0600), D/serial, D/index, D/crl.pem\n"
          "  issue  creates PREFIX.crt and PREFIX.key (0600) for one node\n"
          "  revoke adds the certificate to D/index and rewrites D/crl.pem\n"
          "  crl    re-publishes D/crl.pem (do it before the old one expires)\n"
          "  show   prints a certificate's identity, serial and validity\n"
          "  enrol  writes one enrolment bundle (DIR/<unit>-<role>.sanji) and its passphrase\n"
          "         slip (.slip.txt) per node: every village of --township, or --unit;\n"
          "         --address is its relay's (the county's for a county desk or a relay);\n"
          "         stations import it with 'sanji setup' or sanji-desk, a relay with\n"
          "         'sanji-relayctl setup'; --host names a relay's addresses\n",
          f);
}

/* "sanji-pki: " and the message on stderr; the caller ends the line. */
static void vsay(const char *fmt, va_list ap)
{
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
}

static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    fputs("\n(" PROG " --help 查看用法 / shows usage)\n", stderr);
    exit(2);
}

/* Prints the message and the OpenSSL error queue (if any) to stderr. */
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        fprintf(stderr, "  openssl: %s\n", buf);
    }
}

/* ---------- options ----------------------------------------------------- */

struct opts {
    const char *dir, *county, *name, *role, *unit, *hosts, *out, *cert;
    const char *orgunits, *township, *address; /* enrol */
    long days;
    bool have_days;
    long minutes;
    bool have_minutes;
    long long not_before, not_after;
    bool have_nb, have_na;
};

static long long parse_num(const char *opt, const char *s, long long min, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        die_usage("%s 的值 \"%s\" 无效 (must be an integer from %lld to %lld)", opt, s, min,
                  max);
    return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"county", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"days", required_argument, NULL, 'D'},
        {"minutes", required_argument, NULL, 'M'},
        {"role", required_argument, NULL, 'r'},
        {"unit", required_argument, NULL, 'u'},
        {"host", required_argument, NULL, 'H'},
        {"not-before", required_argument, NULL, 'b'},
        {"not-after", required_argument, NULL, 'a'},
        {"out", required_argument, NULL, 'o'},
        {"cert", required_argument, NULL, 'C'},
        {"orgunits", required_argument, NULL, 'O'},
        {"township", required_argument, NULL, 'T'},
        {"address", required_argument, NULL, 'A'},
        {"relay-address", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    opterr = 0;
    optind = 2; /* argv[1] is the command */
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->dir = optarg; break;
        case 'c': o->county = optarg; break;
        case 'n': o->name = optarg; break;
        case 'D':
            o->days = (long)parse_num("--days", optarg, 1, 36500);
            o->have_days = true;
            break;
        case 'M':
            o->minutes = (long)parse_num("--minutes", optarg, 1, 527040);
            o->have_minutes = true;
            break;
        case 'r': o->role = optarg; break;
        case 'u': o->unit = optarg; break;
        case 'H': o->hosts = optarg; break;
        case 'b':
            o->not_before = parse_num("--not-before", optarg, 0, 253402300799LL);
            o->have_nb = true;
            break;
        case 'a':
            o->not_after = parse_num("--not-after", optarg, 0, 253402300799LL);
            o->have_na = true;
            break;
        case 'o': o->out = optarg; break;
        case 'C': o->cert = optarg; break;
        case 'O': o->orgunits = optarg; break;
        case 'T': o->township = optarg; break;
        case 'A': o->address = optarg; break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            die_usage("未知或不完整的选项 \"%s\" (unknown option or missing value)",
                      argv[optind - 1]);
        }
    }
    if (optind < argc)
        die_usage("多余的参数 \"%s\" (unexpected argument)", argv[optind]);
}

static void need(const char *v, const char *opt, const char *cmd)
{
    if (v == NULL)
        die_usage("%s 需要 %s (%s requires %s)", cmd, opt, cmd, opt);
}

/* ---------- files ------------------------------------------------------- */

static char *path_in(const char *dir, const char *file)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, file) < 0) {
        fail("内存不足 (out of memory)");
        exit(1);
    }
    return p;
}

/* Opens path for writing, creating it; never replaces an existing file. */
static FILE *create_excl(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST)
            fail("%s 已存在，不会覆盖 (file exists; it is never overwritten — move it away or "
                 "choose another name)",
                 path);
        else
            fail("无法创建 %s: %s (check the directory and its permissions)", path,
                 strerror(errno));
        return NULL;
    }
    /* The umask may have narrowed mode; make sure a key is never wider either. */
    if (fchmod(fd, mode) != 0) {
        fail("无法设置 %s 的权限: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        fail("无法打开 %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
    }
    return f;
}

/* Closes f; on a write error removes path.  Returns 0 or -1. */
static int close_checked(FILE *f, const char *path, bool ok)
{
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        ok = false;
    if (fclose(f) != 0)
        ok = false;
    if (!ok) {
        fail("写入 %s 失败 (write failed; disk full?)", path);
        unlink(path);
        return -1;
    }
    return 0;
}

/* Replaces path atomically with the given text-writing callback's output, so
 * that a daemon reloading the file never sees half of it. */
typedef bool (*writer_fn)(FILE *f, void *arg);

static int replace_file(const char *path, mode_t mode, writer_fn fn, void *arg)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
        return -1;
    FILE *f = create_excl(tmp, mode);
    if (f == NULL) {
        free(tmp);
        return -1;
    }
    bool ok = fn(f, arg);
    if (close_checked(f, tmp, ok) != 0) {
        free(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        fail("无法替换 %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fail("无法读取证书 %s: %s (check the path)", path, strerror(errno));
        return NULL;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (x == NULL)
        fail("%s 不是 PEM 证书 (not a PEM certificate)", path);
    return x;
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fail("无法读取私钥 %s: %s (is this the CA directory? run '" PROG
             " init' to make one)",
             path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (k == NULL)
        fail("%s 不是 PEM 私钥 (not a PEM private key)", path);
    return k;
}

static bool write_key_fn(FILE *f, void *arg)
{
    return PEM_write_PrivateKey(f, arg, NULL, NULL, 0, NULL, NULL) == 1;
}

static bool write_cert_fn(FILE *f, void *arg)
{
    return PEM_write_X509(f, arg) == 1;
}

static bool write_crl_fn(FILE *f, void *arg)
{
    return PEM_write_X509_CRL(f, arg) == 1;
}

static int write_new(const char *path, mode_t mode, writer_fn fn, void *arg)
{
    FILE *f = create_excl(path, mode);
    if (f == NULL)
        return -1;
    return close_checked(f, path, fn(f, arg));
}

/* ---------- the CA directory -------------------------------------------- */

struct ca {
    char *dir;
    X509 *cert;
    EVP_PKEY *key;
    char county[SJ_IDENTITY_UNIT_LEN + 1];
};

static void ca_free(struct ca *ca)
{
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    free(ca->dir);
    memset(ca, 0, sizeof *ca);
}

static int ca_load(const char *dir, struct ca *ca)
{
    memset(ca, 0, sizeof *ca);
    ca->dir = strdup(dir);
    char *cp = path_in(dir, "ca.crt"), *kp = path_in(dir, "ca.key");
    int rc = -1;
    ca->cert = read_cert(cp);
    if (ca->cert == NULL)
        goto out;
    ca->key = read_key(kp);
    if (ca->key == NULL)
        goto out;
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        fail("%s 与 %s 不匹配 (CA key does not match CA certificate)", kp, cp);
        goto out;
    }
    /* The county code is the CA subject's OU (written by init). */
    X509_NAME *subj = X509_get_subject_name(ca->cert);
    int i = X509_NAME_get_index_by_NID(subj, NID_organizationalUnitName, -1);
    ASN1_STRING *ou = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)) : NULL;
    if (ou == NULL || ASN1_STRING_length(ou) != SJ_IDENTITY_UNIT_LEN) {
        fail("%s 不是 sanji-pki 生成的 CA (CA certificate has no county code)", cp);
        goto out;
    }
    memcpy(ca->county, ASN1_STRING_get0_data(ou), SJ_IDENTITY_UNIT_LEN);
    ca->county[SJ_IDENTITY_UNIT_LEN] = '\0';
    rc = 0;
out:
    free(cp);
    free(kp);
    if (rc != 0)
        ca_free(ca);
    return rc;
}

static bool write_text_fn(FILE *f, void *arg)
{
    return fputs(arg, f) >= 0;
}

/* Takes the next serial from D/serial and advances it. */
static int next_serial(const char *dir, BIGNUM **out)
{
    char *p = path_in(dir, "serial");
    char line[128];
    int rc = -1;
    BIGNUM *bn = NULL;
    char *hex = NULL;
    FILE *f = fopen(p, "r");
    if (f == NULL) {
        fail("无法读取 %s: %s (the CA directory is incomplete; was it made by '" PROG
             " init'?)",
             p, strerror(errno));
        goto out;
    }
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    int digits = got ? BN_hex2bn(&bn, line) : 0;
    if (digits == 0 || (size_t)digits != strlen(line)) {
        fail("%s 内容损坏 (serial file must hold one hex number)", p);
        goto out;
    }
    BIGNUM *next = BN_dup(bn);
    if (next == NULL || !BN_add_word(next, 1) || (hex = BN_bn2hex(next)) == NULL) {
        BN_free(next);
        fail("内存不足 (out of memory)");
        goto out;
    }
    BN_free(next);
    char text[140];
    snprintf(text, sizeof text, "%s\n", hex);
    if (replace_file(p, 0644, write_text_fn, text) != 0)
        goto out;
    *out = bn;
    bn = NULL;
    rc = 0;
out:
    OPENSSL_free(hex);
    BN_free(bn);
    free(p);
    return rc;
}

/* ---------- certificates ------------------------------------------------ */

static EVP_PKEY *new_p256_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (k == NULL)
        fail("无法生成 P-256 密钥 (key generation failed)");
    return k;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL) {
        fail("无法生成扩展 %s=%s", OBJ_nid2sn(nid), value);
        return -1;
    }
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ok) {
        fail("无法添加扩展 %s", OBJ_nid2sn(nid));
        return -1;
    }
    return 0;
}

static int set_validity(X509 *x, time_t nb, time_t na)
{
    if (ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL) {
        fail("无法设置有效期 (cannot set validity)");
        return -1;
    }
    return 0;
}

static int name_add(X509_NAME *n, const char *field, const char *value)
{
    if (!X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)value, -1,
                                    -1, 0)) {
        fail("无法设置证书名称 %s=%s (is it valid UTF-8?)", field, value);
        return -1;
    }
    return 0;
}

typedef struct cert_ext {
    int nid;
    const char *value; /* in openssl.cnf's syntax */
} cert_ext;

/* Makes and signs a certificate of this PKI: serial bn, version 3, subject
 * O=Sanji, OU=ou, CN=cn, valid nb..na, for key's public half, with exts.
 * issuer NULL: self-signed with key (the CA's own); otherwise issued by
 * issuer and signed with issuer_key.  sign_failed is what to say when the
 * signature fails.  Returns the certificate (the caller frees it with
 * X509_free), or NULL after printing why. */
static X509 *make_cert(const BIGNUM *bn, const char *ou, const char *cn, time_t nb, time_t na,
                       EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const cert_ext *exts,
                       size_t n_exts, const char *sign_failed)
{
    X509 *x = X509_new();
    ASN1_INTEGER *serial = NULL;
    bool ok = x && (serial = BN_to_ASN1_INTEGER(bn, NULL)) && X509_set_serialNumber(x, serial) &&
              X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_free(serial);
    if (!ok) {
        fail("内存不足 (out of memory)");
        goto fail;
    }
    X509_NAME *nm = X509_get_subject_name(x);
    if (name_add(nm, "O", "Sanji") != 0 || name_add(nm, "OU", ou) != 0 ||
        name_add(nm, "CN", cn) != 0)
        goto fail;
    X509 *signer = issuer ? issuer : x;
    if (!X509_set_issuer_name(x, X509_get_subject_name(signer)) || !X509_set_pubkey(x, key)) {
        fail("内存不足 (out of memory)");
        goto fail;
    }
    if (set_validity(x, nb, na) != 0)
        goto fail;
    for (size_t i = 0; i < n_exts; i++)
        if (add_ext(x, signer, exts[i].nid, exts[i].value) != 0)
            goto fail;
    if (!X509_sign(x, issuer ? issuer_key : key, EVP_sha256())) {
        fail("%s", sign_failed);
        goto fail;
    }
    return x;
fail:
    X509_free(x);
    return NULL;
}

/* ---------- CRL --------------------------------------------------------- */

/* The crlNumber of the CRL at path, or 0 when there is none (no file yet,
 * or no number in it). */
static int64_t last_crl_number(const char *path)
{
    FILE *f = fopen(path, "r");
    X509_CRL *old = f ? PEM_read_X509_CRL(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    ASN1_INTEGER *num = old ? X509_CRL_get_ext_d2i(old, NID_crl_number, NULL, NULL) : NULL;
    int64_t v = 0;
    if (num == NULL || ASN1_INTEGER_get_int64(&v, num) != 1)
        v = 0;
    ASN1_INTEGER_free(num);
    X509_CRL_free(old);
    ERR_clear_error();
    return v;
}

/* Rewrites D/crl.pem from D/index, valid for days. */
static int publish_crl(struct ca *ca, long days)
{
    char *ip = path_in(ca->dir, "index"), *cp = path_in(ca->dir, "crl.pem");
    X509_CRL *crl = X509_CRL_new();
    FILE *f = NULL;
    int rc = -1, n = 0;
    if (crl == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert))) {
        fail("内存不足 (out of memory)");
        goto out;
    }
    time_t now = time(NULL);
    ASN1_TIME *t1 = ASN1_TIME_set(NULL, now), *t2 = ASN1_TIME_set(NULL, now + days * 86400L);
    bool ok = t1 && t2 && X509_CRL_set1_lastUpdate(crl, t1) && X509_CRL_set1_nextUpdate(crl, t2);
    ASN1_TIME_free(t1);
    ASN1_TIME_free(t2);
    if (!ok) {
        fail("无法设置 CRL 时间");
        goto out;
    }
    f = fopen(ip, "r");
    if (f == NULL) {
        fail("无法读取 %s: %s (the CA directory is incomplete)", ip, strerror(errno));
        goto out;
    }
    char line[256];
    int lineno = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char hex[80];
        long long when;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%79s %lld", hex, &when) != 2) {
            fail("%s 第 %d 行损坏 (index line must be: <serial hex> <unix time> <node id>)", ip,
                 lineno);
            goto out;
        }
        BIGNUM *bn = NULL;
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *serial = NULL;
        ASN1_TIME *rt = ASN1_TIME_set(NULL, (time_t)when);
        ok = r && rt && BN_hex2bn(&bn, hex) && (serial = BN_to_ASN1_INTEGER(bn, NULL)) &&
             X509_REVOKED_set_serialNumber(r, serial) && X509_REVOKED_set_revocationDate(r, rt);
        BN_free(bn);
        ASN1_INTEGER_free(serial);
        ASN1_TIME_free(rt);
        if (!ok || !X509_CRL_add0_revoked(crl, r)) {
            X509_REVOKED_free(r);
            fail("%s 第 %d 行无法处理 (bad serial?)", ip, lineno);
            goto out;
        }
        n++;
    }
    X509_CRL_sort(crl);
    /* crlNumber: the publication time, and always above the last one's, so
     * that two publications in one second still tell apart (relays take a
     * CRL only with a greater number than theirs). */
    int64_t number = (int64_t)now, last = last_crl_number(cp);
    if (number <= last)
        number = last + 1;
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    ok = num && ASN1_INTEGER_set_int64(num, number) &&
         X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
    ASN1_INTEGER_free(num);
    if (!ok || !X509_CRL_sign(crl, ca->key, EVP_sha256())) {
        fail("无法签署 CRL (CRL signing failed)");
        goto out;
    }
    if (replace_file(cp, 0644, write_crl_fn, crl) != 0)
        goto out;
    printf("%s: %d revoked, valid until %lld (re-run '" PROG " crl' before then)\n", cp, n,
           (long long)(now + days * 86400L));
    rc = 0;
out:
    if (f)
        fclose(f);
    X509_CRL_free(crl);
    free(ip);
    free(cp);
    return rc;
}

/* ---------- commands ---------------------------------------------------- */

static int cmd_init(const struct opts *o)
{
    need(o->dir, "--dir", "init");
    need(o->county, "--county", "init");
    sj_identity id;
    sj_error err;
    if (sj_identity_make(SJ_NODE_ROLE_COUNTY, o->county, NULL, &id, &err) != 0)
        die_usage("--county: %s", err.message);
    long days = o->have_days ? o->days : 3650;

    if (mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
        fail("无法创建目录 %s: %s", o->dir, strerror(errno));
        return 1;
    }
    char *kp = path_in(o->dir, "ca.key"), *cp = path_in(o->dir, "ca.crt");
    char *sp = path_in(o->dir, "serial"), *ip = path_in(o->dir, "index");
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    struct ca ca = {0};
    int rc = 1;
    if (access(kp, F_OK) == 0) {
        fail("%s 已存在：此目录已有 CA (a CA already exists here; use another --dir)", kp);
        goto out;
    }
    if ((key = new_p256_key()) == NULL)
        goto out;
    BIGNUM *bn = BN_new();
    if (bn == NULL || !BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)) {
        BN_free(bn);
        fail("内存不足 (out of memory)");
        goto out;
    }
    char cn[200];
    snprintf(cn, sizeof cn, "Sanji CA %s%s%s", o->county, o->name ? " " : "",
             o->name ? o->name : "");
    static const cert_ext ca_exts[] = {
        {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
    };
    time_t now = time(NULL);
    x = make_cert(bn, o->county, cn, now - 300, now + days * 86400L, key, NULL, NULL, ca_exts,
                  sizeof ca_exts / sizeof ca_exts[0], "无法签署 CA 证书");
    BN_free(bn);
    if (x == NULL)
        goto out;
    if (write_new(kp, 0600, write_key_fn, key) != 0)
        goto out;
    if (write_new(cp, 0644, write_cert_fn, x) != 0 ||
        write_new(sp, 0644, write_text_fn, "1000\n") != 0 ||
        write_new(ip, 0644, write_text_fn, "") != 0)
        goto out;
    if (ca_load(o->dir, &ca) != 0 || publish_crl(&ca, 30) != 0)
        goto out;
    printf("%s: county CA for %s, valid %ld days\n", cp, o->county, days);
    rc = 0;
out:
    ca_free(&ca);
    X509_free(x);
    EVP_PKEY_free(key);
    free(kp);
    free(cp);
    free(sp);
    free(ip);
    return rc;
}

/* Adds "URI:sanji:..." and DNS:/IP: entries for each host to the SAN value. */
static char *san_value(const sj_identity *id, const char *hosts)
{
    char uri[SJ_IDENTITY_URI_MAX];
    if (sj_identity_format_uri(id, uri, sizeof uri) != 0)
        return NULL;
    size_t cap = strlen(uri) + 8 + (hosts ? strlen(hosts) * 2 + 64 : 0);
    char *v = malloc(cap);
    if (v == NULL)
        return NULL;
    snprintf(v, cap, "URI:%s", uri);
    if (hosts == NULL)
        return v;
    char *copy = strdup(hosts), *save = NULL;
    if (copy == NULL) {
        free(v);
        return NULL;
    }
    for (char *h = strtok_r(copy, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
        unsigned char addr[16];
        bool ip = inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1;
        /* Refuse what would smuggle another SAN entry into the config string. */
        if (strpbrk(h, ",:= \t") != NULL && !ip) {
            fprintf(stderr, PROG ": --host \"%s\" 无效 (not a host name or IP address)\n", h);
            free(copy);
            free(v);
            return NULL;
        }
        size_t len = strlen(v);
        snprintf(v + len, cap - len, ",%s:%s", ip ? "IP" : "DNS", h);
    }
    free(copy);
    return v;
}

/* Makes a key and a certificate for id issued by ca, valid nb..na, with
 * DNS/IP names for hosts (may be NULL); takes the next serial.  Returns 0
 * with *xo, *ko and *bno (the caller frees them), or -1 after saying why. */
static int issue_node(struct ca *ca, const sj_identity *id, const char *hosts, long long nb,
                      long long na, X509 **xo, EVP_PKEY **ko, BIGNUM **bno)
{
    *xo = NULL;
    *ko = NULL;
    *bno = NULL;
    if (memcmp(id->unit, ca->county, 6) != 0) {
        fail("单位 %s 不属于本县 %s (unit is outside this CA's county; use the CA of that "
             "county)",
             id->unit, ca->county);
        return -1;
    }
    int rc = -1;
    char *san = NULL;
    EVP_PKEY *key = NULL;
    BIGNUM *bn = NULL;
    if ((san = san_value(id, hosts)) == NULL)
        goto out;
    if ((key = new_p256_key()) == NULL || next_serial(ca->dir, &bn) != 0)
        goto out;
    const cert_ext node_exts[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "serverAuth,clientAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {NID_subject_alt_name, san},
    };
    X509 *x = make_cert(bn, id->unit, id->node_id, (time_t)nb, (time_t)na, key, ca->cert, ca->key,
                        node_exts, sizeof node_exts / sizeof node_exts[0],
                        "无法签署证书 (signing failed)");
    if (x == NULL)
        goto out;
    *xo = x;
    *ko = key;
    *bno = bn;
    key = NULL;
    bn = NULL;
    rc = 0;
out:
    BN_free(bn);
    EVP_PKEY_free(key);
    free(san);
    return rc;
}

static int cmd_issue(const struct opts *o)
{
    need(o->dir, "--dir", "issue");
    need(o->role, "--role", "issue");
    need(o->unit, "--unit", "issue");
    need(o->out, "--out", "issue");
    sj_node_role role;
    if (sj_node_role_parse(o->role, strlen(o->role), &role) != 0)
        die_usage("--role \"%s\" 无效 (use village, relay, township-desk, county-desk, "
                  "department-desk or county)",
                  o->role);
    sj_identity id;
    sj_error err;
    if (sj_identity_make(role, o->unit, o->name, &id, &err) != 0)
        die_usage("%s", err.message);
    long days = o->have_days ? o->days : 825;
    time_t now = time(NULL);
    if (o->have_minutes && (o->have_days || o->have_na))
        die_usage("--minutes 不能与 --days 或 --not-after 同用 (--minutes sets the end itself)");
    long long nb = o->have_nb ? o->not_before
                   : o->have_na ? o->not_after - days * 86400LL
                                : (long long)now - 300;
    /* --minutes counts from now, not from the start 5 minutes back: a
     * certificate for one minute is good for one minute. */
    long long na = o->have_minutes ? (long long)now + o->minutes * 60LL
                   : o->have_na    ? o->not_after
                                   : nb + days * 86400LL;
    if (na <= nb)
        die_usage("--not-after 必须晚于 --not-before (validity would be empty)");

    struct ca ca;
    if (ca_load(o->dir, &ca) != 0)
        return 1;
    int rc = 1;
    char *kp = NULL, *cp = NULL;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    BIGNUM *bn = NULL;
    if (asprintf(&kp, "%s.key", o->out) < 0 || asprintf(&cp, "%s.crt", o->out) < 0)
        goto out;
    if (access(kp, F_OK) == 0 || access(cp, F_OK) == 0) {
        fail("%s 或 %s 已存在，不会覆盖 (choose another --out, or move the old files away)", kp,
             cp);
        goto out;
    }
    if (issue_node(&ca, &id, o->hosts, nb, na, &x, &key, &bn) != 0)
        goto out;
    if (write_new(kp, 0600, write_key_fn, key) != 0)
        goto out;
    if (write_new(cp, 0644, write_cert_fn, x) != 0) {
        unlink(kp);
        goto out;
    }
    char *hex = BN_bn2hex(bn);
    printf("%s: %s serial %s, valid %lld..%lld\n", cp, id.node_id, hex ? hex : "?", nb, na);
    OPENSSL_free(hex);
    rc = 0;
out:
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(key);
    free(kp);
    free(cp);
    ca_free(&ca);
    return rc;
}

/* The identity in x's SAN: fills id (or err) and returns 0 / -1.  Also
 * prints the hosts when print is true. */
static int cert_identity(X509 *x, sj_identity *id, sj_error *err, bool print)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int uris = 0, rc = -1;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_URI) {
            uris++;
            const ASN1_IA5STRING *s = g->d.uniformResourceIdentifier;
            if (sj_identity_parse_uri((const char *)ASN1_STRING_get0_data(s),
                                      (size_t)ASN1_STRING_length(s), id, err) == 0)
                rc = 0;
        } else if (print && g->type == GEN_DNS) {
            printf("host:       %.*s\n", ASN1_STRING_length(g->d.dNSName),
                   ASN1_STRING_get0_data(g->d.dNSName));
        } else if (print && g->type == GEN_IPADD) {
            char buf[64] = "?";
            int len = ASN1_STRING_length(g->d.iPAddress);
            inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), buf,
                      sizeof buf);
            printf("host:       %s\n", buf);
        }
    }
    GENERAL_NAMES_free(gens);
    if (uris != 1) {
        sj_error_set(err, SJ_ETLS_BAD_IDENTITY, "证书含有 %d 个身份 URI (must hold exactly one)",
                     uris);
        return -1;
    }
    return rc;
}

static int cmd_revoke(const struct opts *o)
{
    need(o->dir, "--dir", "revoke");
    need(o->cert, "--cert", "revoke");
    struct ca ca;
    if (ca_load(o->dir, &ca) != 0)
        return 1;
    int rc = 1;
    char *ip = path_in(o->dir, "index");
    char *hex = NULL;
    FILE *f = NULL;
    X509 *x = read_cert(o->cert);
    if (x == NULL)
        goto out;
    EVP_PKEY *capub = X509_get0_pubkey(ca.cert);
    if (capub == NULL || X509_verify(x, capub) != 1) {
        ERR_clear_error();
        fail("%s 不是本 CA 签发的 (certificate was not issued by the CA in %s)", o->cert,
             o->dir);
        goto out;
    }
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    hex = bn ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    if (hex == NULL) {
        fail("内存不足 (out of memory)");
        goto out;
    }
    sj_identity id;
    sj_error err;
    const char *who = cert_identity(x, &id, &err, false) == 0 ? id.node_id : "-";
    f = fopen(ip, "a+");
    if (f == NULL) {
        fail("无法打开 %s: %s", ip, strerror(errno));
        goto out;
    }
    char line[256];
    bool already = false;
    rewind(f);
    while (fgets(line, sizeof line, f) != NULL) {
        char h[80];
        if (sscanf(line, "%79s", h) == 1 && strcmp(h, hex) == 0)
            already = true;
    }
    if (already) {
        printf("%s: serial %s was already revoked\n", o->cert, hex);
    } else {
        fprintf(f, "%s %lld %s\n", hex, (long long)time(NULL), who);
        if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
            fail("写入 %s 失败 (write failed)", ip);
            goto out;
        }
        printf("%s: serial %s (%s) revoked\n", o->cert, hex, who);
    }
    if (publish_crl(&ca, o->have_days ? o->days : 30) != 0)
        goto out;
    rc = 0;
out:
    if (f && fclose(f) != 0)
        rc = 1;
    OPENSSL_free(hex);
    X509_free(x);
    free(ip);
    ca_free(&ca);
    return rc;
}

static int cmd_crl(const struct opts *o)
{
    need(o->dir, "--dir", "crl");
    struct ca ca;
    if (ca_load(o->dir, &ca) != 0)
        return 1;
    int rc = publish_crl(&ca, o->have_days ? o->days : 30) == 0 ? 0 : 1;
    ca_free(&ca);
    return rc;
}

static void print_time(const char *label, const ASN1_TIME *t)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        printf("%s?\n", label);
        return;
    }
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    printf("%s%s (%lld)\n", label, buf, (long long)timegm(&tm));
}

static int cmd_show(const struct opts *o)
{
    need(o->cert, "--cert", "show");
    X509 *x = read_cert(o->cert);
    if (x == NULL)
        return 1;
    sj_identity id;
    sj_error err;
    sj_error_clear(&err);
    int ok = cert_identity(x, &id, &err, true);
    if (ok == 0) {
        printf("identity:   sanji:%s\n", id.node_id);
        printf("node id:    %s\n", id.node_id);
        printf("role:       %s\n", sj_node_role_name(id.role));
        printf("unit:       %s\n", id.unit);
        if (id.name[0])
            printf("name:       %s\n", id.name);
    }
    /* Print names as UTF-8 (a CA name is usually Chinese), not escaped. */
    unsigned long flags = XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB;
    fputs("subject:    ", stdout);
    X509_NAME_print_ex_fp(stdout, X509_get_subject_name(x), 0, flags);
    fputs("\nissuer:     ", stdout);
    X509_NAME_print_ex_fp(stdout, X509_get_issuer_name(x), 0, flags);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    printf("\nserial:     %s\n", hex ? hex : "?");
    print_time("not before: ", X509_get0_notBefore(x));
    print_time("not after:  ", X509_get0_notAfter(x));
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(x);
    if (ok != 0) {
        fail("%s 没有有效的 Sanji 身份: %s (reissue it with '" PROG " issue')", o->cert,
             err.message);
        return 1;
    }
    return 0;
}

/* ---------- enrolment bundles ------------------------------------------- */

/* The text of a PEM written by fn (NULL after saying why). */
static char *pem_string(writer_fn fn, void *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    bool ok = f != NULL && fn(f, arg);
    if (f != NULL && fclose(f) != 0)
        ok = false;
    if (!ok) {
        free(text);
        fail("内存不足 (out of memory)");
        return NULL;
    }
    return text;
}

/* A whole small file as text (NULL after saying why). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fail("无法读取 %s: %s (the CA directory is incomplete)", path, strerror(errno));
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
        fail("无法读取 %s", path);
        return NULL;
    }
    return text;
}

/* One unit of the org tree CSV (deploy/demo/orgunits.csv). */
typedef struct org_unit {
    const char *code, *name, *level, *parent;
} org_unit;

/* Reads the org tree; checks its header.  Returns 0 or -1 (said why). */
static int read_orgunits(const char *path, sj_csv *csv)
{
    sj_error err;
    sj_error_clear(&err);
    if (sj_csv_read(path, csv, &err) != 0) {
        fail("无法读取机构表 %s: %s", path, err.message);
        return -1;
    }
    const sj_csv_record *h = csv->n > 0 ? &csv->records[0] : NULL;
    if (h == NULL || h->n < 4 || strcmp(h->fields[0], "code") != 0 ||
        strcmp(h->fields[1], "name") != 0 || strcmp(h->fields[2], "level") != 0 ||
        strcmp(h->fields[3], "parent") != 0) {
        fail("%s 不是机构表 (the org tree CSV starts with the header code,name,level,parent, as "
             "deploy/demo/orgunits.csv)",
             path);
        return -1;
    }
    return 0;
}

static bool org_row(const sj_csv *csv, size_t i, org_unit *u)
{
    const sj_csv_record *r = &csv->records[i];
    if (r->n < 4)
        return false;
    *u = (org_unit){r->fields[0], r->fields[1], r->fields[2], r->fields[3]};
    return true;
}

static bool org_find(const sj_csv *csv, const char *code, org_unit *u)
{
    for (size_t i = 1; i < csv->n; i++)
        if (org_row(csv, i, u) && strcmp(u->code, code) == 0)
            return true;
    return false;
}

/* What every bundle of one run shares. */
typedef struct enrol_run {
    struct ca ca;
    char *ca_pem, *crl_pem;
    const char *address, *out;
    const char *hosts; /* --host: DNS names and addresses of a relay's certificate */
    long long nb, na;
    int issued, failed;
} enrol_run;

/* The node a role's client must reach: its township's relay, or the county. */
static void peer_of(const sj_identity *id, char *peer, size_t cap)
{
    char up[SJ_ORGUNIT_CODE_SIZE];
    if (id->role == SJ_NODE_ROLE_VILLAGE || id->role == SJ_NODE_ROLE_TOWNSHIP_DESK) {
        sj_orgunit_township_of(id->unit, up);
        snprintf(peer, cap, "relay:%s", up);
    } else {
        sj_orgunit_county_of(id->unit, up);
        snprintf(peer, cap, "county:%s", up);
    }
}

static bool write_slip(FILE *f, const sj_identity *id, const char *unit_name, const char *file,
                       const char *peer, const char *address, const char *pass, long long na)
{
    char until[32] = "?";
    bool relay = id->role == SJ_NODE_ROLE_RELAY;
    time_t t = (time_t)na;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(until, sizeof until, "%Y-%m-%d", &tm);
    return fprintf(f,
                   "三级代办 本站配置口令单 (Sanji enrolment slip)\n"
                   "==============================================\n"
                   "单位 unit:            %s %s\n"
                   "节点 node:            %s\n"
                   "配置文件 bundle:      %s\n"
                   "上级 server:          %s (%s)\n"
                   "证书有效至 valid to:  %s\n"
                   "\n"
                   "口令 passphrase:      %s\n"
                   "\n"
                   "导入 / import:  %s %s\n"
                   "%s"
                   "口令只用于这一个文件；文件和本单请分开送达，导入后销毁本单。\n"
                   "(Deliver the file and this slip separately; destroy the slip after import.)\n",
                   id->unit, unit_name, id->node_id, file, peer, address, until, pass,
                   relay ? "sanji-relayctl setup" : "sanji setup", file,
                   relay ? "                (以 root 身份在乡镇中转服务器上运行 / as root on the relay)\n"
                         : "                或在 sanji-desk 首次启动时选择“导入本站配置”\n") > 0;
}

/* Issues one node's certificate and writes its bundle and slip into
 * run->out.  Returns 0 or -1 (said why). */
static int enrol_one(enrol_run *run, const sj_identity *id, const char *unit_name)
{
    char base[PATH_MAX], bpath[PATH_MAX], spath[PATH_MAX], peer[SJ_IDENTITY_NODE_ID_MAX];
    snprintf(base, sizeof base, "%s-%s%s%s", id->unit, sj_node_role_name(id->role),
             id->name[0] ? "-" : "", id->name);
    if (snprintf(bpath, sizeof bpath, "%s/%s.sanji", run->out, base) >= (int)sizeof bpath ||
        snprintf(spath, sizeof spath, "%s/%s.slip.txt", run->out, base) >= (int)sizeof spath) {
        fail("--out 路径太长 (path too long)");
        return -1;
    }
    if (access(bpath, F_OK) == 0 || access(spath, F_OK) == 0) {
        fail("%s 已存在，不会覆盖 (a bundle for this node was already made; move it away to "
             "make a new one)",
             bpath);
        return -1;
    }
    peer_of(id, peer, sizeof peer);
    X509 *x = NULL;
    EVP_PKEY *key = NULL;
    BIGNUM *bn = NULL;
    char *cert_pem = NULL, *key_pem = NULL, *sealed = NULL;
    size_t sealed_len = 0;
    char pass[SJ_ENROL_PASSPHRASE_SIZE];
    int rc = -1;
    sj_error err;
    sj_error_clear(&err);
    if (issue_node(&run->ca, id, id->role == SJ_NODE_ROLE_RELAY ? run->hosts : NULL, run->nb,
                   run->na, &x, &key, &bn) != 0)
        goto out;
    if ((cert_pem = pem_string(write_cert_fn, x)) == NULL ||
        (key_pem = pem_string(write_key_fn, key)) == NULL)
        goto out;
    sj_enrol_bundle b = {.id = *id,
                         .address = (char *)run->address,
                         .peer = peer,
                         .cert_pem = cert_pem,
                         .key_pem = key_pem,
                         .ca_pem = run->ca_pem,
                         .crl_pem = run->crl_pem};
    snprintf(b.unit_name, sizeof b.unit_name, "%s", unit_name);
    if (sj_enrol_passphrase(pass, &err) != 0 ||
        sj_enrol_seal(&b, pass, &sealed, &sealed_len, &err) != 0) {
        fail("%s: %s", id->node_id, err.message);
        goto out;
    }
    /* Both 0600: the bundle is safe only while its slip is kept apart. */
    if (write_new(bpath, 0600, write_text_fn, sealed) != 0)
        goto out;
    FILE *f = create_excl(spath, 0600);
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%.4000s.sanji", base);
    if (f == NULL || close_checked(f, spath,
                                   write_slip(f, id, unit_name, file, peer, run->address, pass,
                                              run->na)) != 0) {
        unlink(bpath);
        goto out;
    }
    printf("%s: %s %s, slip %s\n", bpath, id->node_id, unit_name, spath);
    rc = 0;
out:
    OPENSSL_cleanse(pass, sizeof pass);
    if (key_pem)
        OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(key_pem);
    free(cert_pem);
    free(sealed);
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(key);
    if (rc == 0)
        run->issued++;
    else
        run->failed++;
    return rc;
}

/* Checks --address as client.conf's server.address would read it. */
static void check_address(const char *address)
{
    static const sj_config_key k[] = {
        {"server.address", SJ_CONFIG_HOSTPORT_LIST, NULL, 0, 0, "address"},
    };
    sj_config *cfg = NULL;
    sj_error err;
    sj_error_clear(&err);
    int rc = sj_config_new(k, 1, &cfg, &err);
    if (rc == 0)
        rc = sj_config_set(cfg, "server.address", address, &err);
    sj_config_free(cfg);
    if (rc != 0 || strpbrk(address, "\"\\#") != NULL)
        die_usage("--address \"%s\" 无效 (give host:port, several separated by commas): %s",
                  address, err.message);
}

/* enrol --unit: one bundle for the unit, of the role asked (a village by
 * default).  Returns 0, or 1 when the unit is not in the org tree. */
static int enrol_unit(const struct opts *o, const sj_csv *csv, enrol_run *run)
{
    org_unit u;
    sj_identity id;
    sj_error err;
    sj_error_clear(&err);
    sj_node_role role = SJ_NODE_ROLE_VILLAGE;
    if (o->role && sj_node_role_parse(o->role, strlen(o->role), &role) != 0)
        die_usage("--role \"%s\" 无效 (use village, township-desk, county-desk or relay)",
                  o->role);
    if (role != SJ_NODE_ROLE_VILLAGE && role != SJ_NODE_ROLE_TOWNSHIP_DESK &&
        role != SJ_NODE_ROLE_COUNTY_DESK && role != SJ_NODE_ROLE_RELAY)
        die_usage("enrol 只签发村站、办公桌和乡镇中转 (enrol makes bundles for village, "
                  "township-desk, county-desk and relay; issue the county's own certificate "
                  "with '" PROG " issue')");
    if (o->hosts && role != SJ_NODE_ROLE_RELAY)
        die_usage("--host 只用于 --role relay (a station or desk certificate names no host)");
    if (sj_identity_make(role, o->unit, o->name, &id, &err) != 0)
        die_usage("%s", err.message);
    if (!org_find(csv, o->unit, &u)) {
        fail("机构表 %s 中没有单位 %s (unit not in the org tree; check the code)", o->orgunits,
             o->unit);
        return 1;
    }
    enrol_one(run, &id, u.name);
    return 0;
}

/* enrol --township: a bundle for every village of the township. */
static int enrol_township(const struct opts *o, const sj_csv *csv, enrol_run *run)
{
    org_unit u;
    sj_identity id;
    sj_error err;
    sj_error_clear(&err);
    if (!org_find(csv, o->township, &u) || strcmp(u.level, "township") != 0) {
        fail("机构表 %s 中没有乡镇 %s (no township with this code in the org tree)",
             o->orgunits, o->township);
        return 1;
    }
    for (size_t i = 1; i < csv->n; i++) {
        if (!org_row(csv, i, &u) || strcmp(u.level, "village") != 0 ||
            strcmp(u.parent, o->township) != 0)
            continue;
        if (sj_identity_make(SJ_NODE_ROLE_VILLAGE, u.code, NULL, &id, &err) != 0) {
            fail("%s:%zu: %s", o->orgunits, csv->records[i].line, err.message);
            run->failed++;
            continue;
        }
        enrol_one(run, &id, u.name);
    }
    return 0;
}

static int cmd_enrol(const struct opts *o)
{
    need(o->dir, "--dir", "enrol");
    need(o->orgunits, "--orgunits", "enrol");
    need(o->address, "--address", "enrol");
    need(o->out, "--out", "enrol");
    if ((o->township == NULL) == (o->unit == NULL))
        die_usage("enrol 需要 --township 或 --unit 之一 (give one: a township for all its "
                  "villages, or one unit)");
    if (o->township && (o->role || o->name || o->hosts))
        die_usage("--township 只签发村站 (--township makes village bundles; use --unit with "
                  "--role for a desk)");
    check_address(o->address);
    long days = o->have_days ? o->days : 825;
    if (o->have_minutes || o->have_nb || o->have_na)
        die_usage("enrol 只接受 --days (enrol takes --days for the validity)");

    sj_csv csv = {0};
    enrol_run run = {.address = o->address, .out = o->out, .hosts = o->hosts};
    time_t now = time(NULL);
    run.nb = (long long)now - 300;
    run.na = run.nb + days * 86400LL;
    int rc = 1;
    if (read_orgunits(o->orgunits, &csv) != 0)
        goto out;
    if (ca_load(o->dir, &run.ca) != 0)
        goto out;
    char *cap = path_in(o->dir, "ca.crt"), *crp = path_in(o->dir, "crl.pem");
    run.ca_pem = slurp(cap);
    run.crl_pem = run.ca_pem ? slurp(crp) : NULL;
    free(cap);
    free(crp);
    if (run.crl_pem == NULL)
        goto out;
    if (mkdir(o->out, 0700) != 0 && errno != EEXIST) {
        fail("无法创建目录 %s: %s", o->out, strerror(errno));
        goto out;
    }
    if ((o->unit ? enrol_unit(o, &csv, &run) : enrol_township(o, &csv, &run)) != 0)
        goto out;
    if (run.issued + run.failed == 0)
        fail("乡镇 %s 下没有村 (no village under this township in %s)", o->township, o->orgunits);
    else
        printf("%d bundle(s) written to %s%s\n", run.issued, o->out,
               run.failed ? "; some failed (see above)" : "");
    rc = run.failed == 0 && run.issued > 0 ? 0 : 1;
out:
    sj_csv_free(&csv);
    free(run.ca_pem);
    free(run.crl_pem);
    ca_free(&run.ca);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    struct opts o;
    parse_opts(argc, argv, &o);
    if (strcmp(cmd, "init") == 0)
        return cmd_init(&o);
    if (strcmp(cmd, "issue") == 0)
        return cmd_issue(&o);
    if (strcmp(cmd, "revoke") == 0)
        return cmd_revoke(&o);
    if (strcmp(cmd, "crl") == 0)
        return cmd_crl(&o);
    if (strcmp(cmd, "show") == 0)
        return cmd_show(&o);
    if (strcmp(cmd, "enrol") == 0)
        return cmd_enrol(&o);
    die_usage("未知命令 \"%s\" (unknown command; use init, issue, revoke, crl, show or enrol)", cmd);
}
