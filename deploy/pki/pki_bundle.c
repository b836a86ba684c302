/*
 * pki_bundle.c - one enrolment bundle: a node's certificate issued, sealed
 * with the CA, the CRL and its server's address under a one-time
 * passphrase (common/net/enrol.h), and the passphrase written on a slip.
 *
 * Entry point: pki_enrol_one().
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "enrol.h"
#include "orgunit.h"
#include "pki_int.h"

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
int pki_enrol_one(pki_enrol_run *run, const sj_identity *id, const char *unit_name)
{
    char base[PATH_MAX], bpath[PATH_MAX], spath[PATH_MAX], peer[SJ_IDENTITY_NODE_ID_MAX];
    snprintf(base, sizeof base, "%s-%s%s%s", id->unit, sj_node_role_name(id->role),
             id->name[0] ? "-" : "", id->name);
    if (snprintf(bpath, sizeof bpath, "%s/%s.sanji", run->out, base) >= (int)sizeof bpath ||
        snprintf(spath, sizeof spath, "%s/%s.slip.txt", run->out, base) >= (int)sizeof spath) {
        pki_fail("--out 路径太长 (path too long)");
        return -1;
    }
    if (access(bpath, F_OK) == 0 || access(spath, F_OK) == 0) {
        pki_fail("%s 已存在，不会覆盖 (a bundle for this node was already made; move it away to "
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
    if (pki_issue_node(&run->ca, id, id->role == SJ_NODE_ROLE_RELAY ? run->hosts : NULL, run->nb,
                       run->na, &x, &key, &bn) != 0)
        goto out;
    if ((cert_pem = pki_pem_string(pki_write_cert, x)) == NULL ||
        (key_pem = pki_pem_string(pki_write_key, key)) == NULL)
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
        pki_fail("%s: %s", id->node_id, err.message);
        goto out;
    }
    /* Both 0600: the bundle is safe only while its slip is kept apart. */
    if (pki_write_new(bpath, 0600, pki_write_text, sealed) != 0)
        goto out;
    FILE *f = pki_create_excl(spath, 0600);
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%.4000s.sanji", base);
    if (f == NULL ||
        pki_close_checked(
            f, spath, write_slip(f, id, unit_name, file, peer, run->address, pass, run->na)) != 0) {
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
