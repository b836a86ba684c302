/*
 * tls.c - the TLS 1.3 engine behind memory BIOs: mutual authentication with
 * the county CA, optional CRL, and the Sanji identity check (tls.h).
 *
 * Two phases.  The handshake is OpenSSL's, behind two memory BIOs.  Once
 * it is done, the engine keeps only the application traffic secrets (caught
 * by the keylog callback), frees the SSL object with its BIOs, certificate
 * and session (~23 KiB per link), and carries the link with its own TLS 1.3
 * record layer (tls_record.c) - the split kernel TLS uses.  An idle
 * established engine then holds no OpenSSL object and no buffer.
 *
 * How a refusal becomes a code: the side that judges a certificate does so
 * in verify_cb(), which records our code and message and sets the X509 error
 * that makes OpenSSL send a telling alert (one alert per code, see
 * alert_for_code).  The other side sees only the alert; info_cb() records
 * it, and refusal() turns it back into the same code.
 *
 * Entry points: sj_tls_ctx_new(), sj_tls_ctx_free(), sj_tls_ctx_reload_crl(),
 * sj_tls_ctx_identity(), sj_tls_new(), sj_tls_free(), sj_tls_feed(),
 * sj_tls_handshake(), sj_tls_is_established(), sj_tls_read(),
 * sj_tls_write(), sj_tls_pending(), sj_tls_take(), sj_tls_shutdown(),
 * sj_tls_peer(), sj_tls_last_error().
 */
#include "tls.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_record.h"

#define MAX_ROLES 8

struct sj_tls_ctx {
    SSL_CTX *ssl_ctx;
    bool is_server;
    sj_node_role allowed[MAX_ROLES];
    size_t n_allowed;
    char *ca_file;
    char *crl_file;
    bool has_identity;
    sj_identity identity;
    sj__tls_record_crypto crypto; /* the record layer's, shared by the engines */
};

/* What an idle established engine holds is this struct alone: keep it
 * small (the failure message is allocated only when there is one). */
struct sj_tls {
    sj_tls_ctx *ctx;
    SSL *ssl;  /* during the handshake only; NULL once the record layer runs */
    BIO *rbio; /* network -> engine; owned by ssl */
    BIO *wbio; /* engine -> network; owned by ssl */
    bool has_expected;
    bool established;
    bool shut;
    bool peer_closed;
    bool has_peer;
    int dead;             /* 0, or the code every call returns from now on */
    sj_error *last;       /* the failure behind dead (or our verdict on the
                           * peer certificate); NULL while there is none */
    int verify_code;      /* our verdict on the peer certificate, 0 if none */
    int alert_received;   /* TLS alert description from the peer, -1 if none */
    sj_identity expected;
    sj_identity peer;
    sj__tls_record rec;   /* the link after the handshake (rec.started) */
};

static const sj_error no_error = {SJ_EOK, ""};
static const sj_error oom_error = {SJ_ENOMEM,
                                   "内存不足, 无法记录 TLS 错误 (out of memory while recording "
                                   "a TLS failure)"};

/* The engine's failure record, allocated when it is first needed; NULL
 * (sj_error_set() then writes nothing) when even that fails. */
static sj_error *last_slot(sj_tls *t)
{
    if (t->last == NULL)
        t->last = calloc(1, sizeof *t->last);
    return t->last;
}

static void copy_last(const sj_tls *t, sj_error *err)
{
    if (err != NULL)
        *err = t->last ? *t->last : t->dead ? oom_error : no_error;
}

/* ---------- helpers ----------------------------------------------------- */

/* Appends the OpenSSL error queue to buf (and empties the queue). */
static void ssl_errors(char *buf, size_t cap)
{
    unsigned long e;
    size_t len = 0;
    buf[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        char one[200];
        ERR_error_string_n(e, one, sizeof one);
        int n = snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", one);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    if (len == 0)
        snprintf(buf, cap, "no OpenSSL detail");
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const char *role_or_unknown(sj_node_role r)
{
    const char *n = sj_node_role_name(r);
    return n ? n : "?";
}

/* The identity of a certificate: exactly one URI SAN, a valid sanji: one. */
static int cert_identity(X509 *cert, sj_identity *out, sj_error *err)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int uris = 0, rc = 0;
    sj_identity id;
    sj_error perr;
    sj_error_clear(&perr);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_URI)
            continue;
        if (++uris > 1)
            break;
        const ASN1_IA5STRING *s = g->d.uniformResourceIdentifier;
        rc = sj_identity_parse_uri((const char *)ASN1_STRING_get0_data(s),
                                   (size_t)ASN1_STRING_length(s), &id, &perr);
    }
    GENERAL_NAMES_free(gens);
    if (uris == 0)
        return sj_error_set(err, SJ_ETLS_BAD_IDENTITY,
                            "证书的 subjectAltName 中没有 sanji: 身份 (no Sanji identity URI)");
    if (uris > 1)
        return sj_error_set(err, SJ_ETLS_BAD_IDENTITY,
                            "证书含有多个 URI 身份 (more than one URI in subjectAltName)");
    if (rc != 0)
        return sj_error_set(err, SJ_ETLS_BAD_IDENTITY, "%s", perr.message);
    *out = id;
    return 0;
}

static void cert_subject(X509 *cert, char *buf, size_t cap)
{
    if (cert == NULL || X509_NAME_oneline(X509_get_subject_name(cert), buf, (int)cap) == NULL)
        snprintf(buf, cap, "?");
}

static void cert_times(X509 *cert, char *buf, size_t cap)
{
    struct tm a, b;
    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &a) != 1 ||
        ASN1_TIME_to_tm(X509_get0_notAfter(cert), &b) != 1) {
        snprintf(buf, cap, "?");
        return;
    }
    char sa[32], sb[32];
    strftime(sa, sizeof sa, "%Y-%m-%d %H:%M UTC", &a);
    strftime(sb, sizeof sb, "%Y-%m-%d %H:%M UTC", &b);
    snprintf(buf, cap, "%s .. %s", sa, sb);
}

/* ---------- the trust store --------------------------------------------- */

static X509_STORE *build_store(const char *ca_file, const char *crl_file, sj_error *err)
{
    X509_STORE *store = X509_STORE_new();
    if (store == NULL) {
        sj_error_set(err, SJ_ENOMEM, "内存不足 (out of memory)");
        return NULL;
    }
    char detail[400];
    ERR_clear_error();
    if (X509_STORE_load_file(store, ca_file) != 1) {
        ssl_errors(detail, sizeof detail);
        sj_error_set(err, SJ_ETLS_KEY,
                     "无法读取县级 CA 证书 %s (cannot load the CA certificate: %s); check the "
                     "ca_file setting",
                     ca_file, detail);
        goto fail;
    }
    if (crl_file != NULL) {
        FILE *f = fopen(crl_file, "r");
        X509_CRL *crl = f ? PEM_read_X509_CRL(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        if (crl == NULL) {
            ssl_errors(detail, sizeof detail);
            sj_error_set(err, SJ_ETLS_KEY,
                         "无法读取吊销列表 %s (cannot load the CRL: %s); copy the county's "
                         "crl.pem there",
                         crl_file, detail);
            goto fail;
        }
        int ok = X509_STORE_add_crl(store, crl);
        X509_CRL_free(crl);
        if (ok != 1) {
            ssl_errors(detail, sizeof detail);
            sj_error_set(err, SJ_ETLS_KEY, "无法使用吊销列表 %s (%s)", crl_file, detail);
            goto fail;
        }
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
    return store;
fail:
    X509_STORE_free(store);
    return NULL;
}

/* ---------- verification ------------------------------------------------ */

static sj_tls *tls_of_store_ctx(X509_STORE_CTX *sctx)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    return ssl ? SSL_get_app_data(ssl) : NULL;
}

static bool role_allowed(const sj_tls_ctx *ctx, sj_node_role r)
{
    for (size_t i = 0; i < ctx->n_allowed; i++)
        if (ctx->allowed[i] == r)
            return true;
    return false;
}

static void allowed_list(const sj_tls_ctx *ctx, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ctx->n_allowed; i++) {
        int n = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "",
                         role_or_unknown(ctx->allowed[i]));
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
}

/* Records the first verdict and picks the X509 error whose alert tells the
 * peer the same thing (see alert_code()). */
static int refuse_cert(X509_STORE_CTX *sctx, sj_tls *t, int code, int x509_err, const char *fmt,
                       ...) __attribute__((format(printf, 5, 6)));

static int refuse_cert(X509_STORE_CTX *sctx, sj_tls *t, int code, int x509_err, const char *fmt,
                       ...)
{
    if (t->verify_code == 0) {
        va_list ap;
        va_start(ap, fmt);
        sj_error_setv(last_slot(t), code, fmt, ap);
        va_end(ap);
        t->verify_code = code;
    }
    X509_STORE_CTX_set_error(sctx, x509_err);
    return 0;
}

static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
    sj_tls *t = tls_of_store_ctx(sctx);
    if (t == NULL)
        return ok; /* not one of ours; cannot happen */
    X509 *cert = X509_STORE_CTX_get_current_cert(sctx);
    char subj[256];
    cert_subject(cert, subj, sizeof subj);

    if (!ok) {
        int e = X509_STORE_CTX_get_error(sctx);
        const char *why = X509_verify_cert_error_string(e);
        char times[96];
        switch (e) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID:
            cert_times(cert, times, sizeof times);
            return refuse_cert(sctx, t, SJ_ETLS_EXPIRED, X509_V_ERR_CERT_HAS_EXPIRED,
                               "对端证书已过期或尚未生效 (peer certificate %s: %s; valid %s); "
                               "issue a new one with 'sanji-pki issue', or check the clocks",
                               subj, why, times);
        case X509_V_ERR_CERT_REVOKED:
            return refuse_cert(sctx, t, SJ_ETLS_REVOKED, X509_V_ERR_CERT_REVOKED,
                               "对端证书已被吊销 (peer certificate %s is revoked by the county "
                               "CRL); the node needs a new certificate from the county",
                               subj);
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        case X509_V_ERR_CERT_UNTRUSTED:
        case X509_V_ERR_INVALID_CA:
            return refuse_cert(sctx, t, SJ_ETLS_UNTRUSTED,
                               X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                               "对端证书不是本县 CA 签发的 (peer certificate %s: %s); it belongs "
                               "to another CA — give the node a certificate from this county's "
                               "CA, or check ca_file",
                               subj, why);
        case X509_V_ERR_UNABLE_TO_GET_CRL:
        case X509_V_ERR_CRL_HAS_EXPIRED:
        case X509_V_ERR_CRL_NOT_YET_VALID:
        case X509_V_ERR_CRL_SIGNATURE_FAILURE:
        case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
            /* Our own CRL is at fault, not the peer: say so, and send a
             * neutral alert rather than one that blames the peer. */
            return refuse_cert(sctx, t, SJ_ETLS_HANDSHAKE, X509_V_ERR_UNSPECIFIED,
                               "本机的吊销列表不可用 (our CRL cannot be used: %s); publish a "
                               "fresh one with 'sanji-pki crl', copy it here and reload",
                               why);
        default:
            return refuse_cert(sctx, t, SJ_ETLS_HANDSHAKE, e,
                               "对端证书验证失败 (peer certificate %s: %s)", subj, why);
        }
    }

    if (X509_STORE_CTX_get_error_depth(sctx) != 0)
        return 1;

    sj_identity id;
    sj_error ierr;
    if (cert_identity(cert, &id, &ierr) != 0)
        return refuse_cert(sctx, t, SJ_ETLS_BAD_IDENTITY, X509_V_ERR_CERT_REJECTED,
                           "对端证书没有有效的 Sanji 身份 (peer certificate %s: %s); reissue it "
                           "with 'sanji-pki issue'",
                           subj, ierr.message);
    if (!role_allowed(t->ctx, id.role)) {
        char list[128];
        allowed_list(t->ctx, list, sizeof list);
        return refuse_cert(sctx, t, SJ_ETLS_WRONG_ROLE, X509_V_ERR_INVALID_PURPOSE,
                           "对端角色不允许使用此连接 (peer %s has role %s; this link accepts "
                           "only %s); check which address the node is configured to use",
                           id.node_id, role_or_unknown(id.role), list);
    }
    if (t->has_expected && !sj_identity_equal(&t->expected, &id))
        return refuse_cert(sctx, t, SJ_ETLS_WRONG_PEER, X509_V_ERR_APPLICATION_VERIFICATION,
                           "对端不是预期的节点 (expected %s, but the peer is %s); check the "
                           "upstream address and node id in the configuration",
                           t->expected.node_id, id.node_id);
    t->peer = id;
    t->has_peer = true;
    return 1;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    /* SSL_CB_READ_ALERT shares its SSL_CB_ALERT bit with write alerts. */
    if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT)
        return;
    sj_tls *t = SSL_get_app_data(ssl);
    int desc = ret & 0xff;
    if (t != NULL && desc != SSL_AD_CLOSE_NOTIFY && t->alert_received < 0)
        t->alert_received = desc;
}

/* The code a received alert stands for, and what the peer meant by it. */
static int alert_code(int desc, const char **meaning)
{
    switch (desc) {
    case SSL_AD_CERTIFICATE_REQUIRED:
        *meaning = "对端要求本节点出示证书 (the peer requires a certificate; configure cert_file "
                   "and key_file)";
        return SJ_ETLS_NO_CERT;
    case SSL_AD_UNKNOWN_CA:
        *meaning = "对端不信任本节点证书的签发者 (our certificate is not from the peer's CA; "
                   "use a certificate from the county CA)";
        return SJ_ETLS_UNTRUSTED;
    case SSL_AD_CERTIFICATE_EXPIRED:
        *meaning = "对端认为本节点证书已过期或尚未生效 (our certificate expired or is not yet "
                   "valid; renew it, or check the clocks)";
        return SJ_ETLS_EXPIRED;
    case SSL_AD_CERTIFICATE_REVOKED:
        *meaning = "本节点证书已被吊销 (our certificate is revoked; ask the county for a new "
                   "one)";
        return SJ_ETLS_REVOKED;
    case SSL_AD_BAD_CERTIFICATE:
        *meaning = "对端认为本节点证书没有有效的身份 (our certificate has no valid Sanji "
                   "identity; reissue it with 'sanji-pki issue')";
        return SJ_ETLS_BAD_IDENTITY;
    case SSL_AD_UNSUPPORTED_CERTIFICATE:
        *meaning = "本节点的角色不允许连接到对端 (our role is not allowed on that link; check "
                   "the address we connect to)";
        return SJ_ETLS_WRONG_ROLE;
    case SSL_AD_PROTOCOL_VERSION:
        *meaning = "对端不接受此 TLS 版本 (the peer refused the TLS version; Sanji needs TLS "
                   "1.3)";
        return SJ_ETLS_PROTOCOL;
    case SSL_AD_HANDSHAKE_FAILURE:
        *meaning = "对端中止了握手 (the peer aborted the handshake; it may have expected another "
                   "node — check its log)";
        return SJ_ETLS_HANDSHAKE;
    default:
        *meaning = "对端拒绝了连接 (the peer refused the connection; check its log)";
        return SJ_ETLS_HANDSHAKE;
    }
}

/* Records the fatal alert desc from the peer as our code and message. */
static int alert_refusal(sj_tls *t, int desc)
{
    const char *meaning;
    int code = alert_code(desc, &meaning);
    /* OpenSSL 3.0 has no text for the TLS 1.3 certificate_required alert. */
    sj_error_set(last_slot(t), code, "%s [TLS alert: %s]", meaning,
                 desc == SSL_AD_CERTIFICATE_REQUIRED ? "certificate required"
                                                     : SSL_alert_desc_string_long(desc));
    return code;
}

/* Turns a failed SSL call into our code; the engine is dead from then on. */
static int refusal(sj_tls *t, bool in_handshake, sj_error *err)
{
    int code;
    char detail[400];
    ssl_errors(detail, sizeof detail);
    if (t->verify_code != 0) {
        code = t->verify_code; /* its message is in t->last already */
    } else if (t->alert_received >= 0) {
        code = alert_refusal(t, t->alert_received);
    } else if (strstr(detail, "peer did not return a certificate") != NULL) {
        code = sj_error_set(last_slot(t), SJ_ETLS_NO_CERT,
                            "对端没有出示证书 (the peer sent no certificate; every node needs one "
                            "from the county CA)");
    } else if (strstr(detail, "unsupported protocol") != NULL ||
               strstr(detail, "no protocols available") != NULL ||
               strstr(detail, "wrong version number") != NULL) {
        code = sj_error_set(last_slot(t), SJ_ETLS_PROTOCOL,
                            "对端不支持 TLS 1.3 (the peer offers only an older TLS version: %s); "
                            "upgrade the peer's software",
                            detail);
    } else {
        code = in_handshake ? SJ_ETLS_HANDSHAKE : SJ_ETLS;
        sj_error_set(last_slot(t), code, "TLS %s失败 (%s)", in_handshake ? "握手" : "连接",
                     detail);
    }
    t->dead = code;
    copy_last(t, err);
    return code;
}

/* The record layer failed (rerr) or the peer sent a fatal alert: the engine
 * is dead.  An alert keeps the meaning it had under OpenSSL, so a client
 * still learns why the server refused its certificate. */
static int record_failure(sj_tls *t, int rc, const sj_error *rerr)
{
    if (t->rec.peer_alert >= 0) {
        rc = alert_refusal(t, t->rec.peer_alert);
    } else {
        if (rc == 0 || rc == SJ_EAGAIN || rc == SJ_ECLOSED)
            rc = SJ_ETLS;
        sj_error_set(last_slot(t), rc, "%s", rerr->message);
    }
    t->dead = rc;
    return rc;
}

static unsigned hex_nibble(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)(tolower((unsigned char)c) - 'a' + 10);
}

/* Catches the application traffic secrets as OpenSSL derives them
 * ("CLIENT_TRAFFIC_SECRET_0 <client random> <secret>", NSS key log format):
 * the record layer needs them once the SSL object is gone. */
static void keylog_cb(const SSL *ssl, const char *line)
{
    sj_tls *t = SSL_get_app_data(ssl);
    static const char client[] = "CLIENT_TRAFFIC_SECRET_0 ", server[] = "SERVER_TRAFFIC_SECRET_0 ";
    bool is_client_secret;
    if (t == NULL)
        return;
    if (strncmp(line, client, sizeof client - 1) == 0)
        is_client_secret = true;
    else if (strncmp(line, server, sizeof server - 1) == 0)
        is_client_secret = false;
    else
        return;
    const char *hex = strchr(line + sizeof client - 1, ' ');
    if (hex == NULL)
        return;
    hex++;
    uint8_t secret[48];
    size_t n = 0;
    while (n < sizeof secret && isxdigit((unsigned char)hex[0]) &&
           isxdigit((unsigned char)hex[1])) {
        secret[n++] = (uint8_t)(hex_nibble(hex[0]) << 4 | hex_nibble(hex[1]));
        hex += 2;
    }
    /* A malformed line leaves the secret unset; the takeover then fails. */
    if (*hex == '\0') {
        bool ours = is_client_secret != t->ctx->is_server;
        (void)sj__tls_record_set_secret(&t->rec, ours, secret, n);
    }
    OPENSSL_cleanse(secret, sizeof secret);
}

/* ---------- context ----------------------------------------------------- */

sj_tls_ctx *sj_tls_ctx_new(const sj_tls_config *cfg, sj_error *err)
{
    if (cfg == NULL || cfg->ca_file == NULL) {
        sj_error_set(err, SJ_EINVAL, "TLS 配置缺少 ca_file (ca_file is required)");
        return NULL;
    }
    if ((cfg->cert_file == NULL) != (cfg->key_file == NULL) ||
        (cfg->cert_file == NULL && cfg->is_server)) {
        sj_error_set(err, SJ_EINVAL,
                     "TLS 配置须同时给出 cert_file 和 key_file (cert_file and key_file go "
                     "together, and a server needs both)");
        return NULL;
    }
    if (cfg->n_allowed_peer_roles == 0 || cfg->n_allowed_peer_roles > MAX_ROLES ||
        cfg->allowed_peer_roles == NULL) {
        sj_error_set(err, SJ_EINVAL,
                     "TLS 配置须列出 1 到 %d 个允许的对端角色 (allowed_peer_roles)", MAX_ROLES);
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_allowed_peer_roles; i++) {
        if (sj_node_role_name(cfg->allowed_peer_roles[i]) == NULL) {
            sj_error_set(err, SJ_EINVAL, "允许的对端角色 %d 无效 (not a node role)",
                         (int)cfg->allowed_peer_roles[i]);
            return NULL;
        }
    }

    sj_tls_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        sj_error_set(err, SJ_ENOMEM, "内存不足 (out of memory)");
        return NULL;
    }
    ctx->is_server = cfg->is_server;
    ctx->n_allowed = cfg->n_allowed_peer_roles;
    memcpy(ctx->allowed, cfg->allowed_peer_roles, ctx->n_allowed * sizeof ctx->allowed[0]);
    ctx->ca_file = strdup(cfg->ca_file);
    ctx->crl_file = dup_or_null(cfg->crl_file);
    if (ctx->ca_file == NULL || (cfg->crl_file && ctx->crl_file == NULL)) {
        sj_error_set(err, SJ_ENOMEM, "内存不足 (out of memory)");
        goto fail;
    }

    char detail[400];
    ERR_clear_error();
    ctx->ssl_ctx = SSL_CTX_new(cfg->is_server ? TLS_server_method() : TLS_client_method());
    if (ctx->ssl_ctx == NULL) {
        ssl_errors(detail, sizeof detail);
        sj_error_set(err, SJ_ENOMEM, "无法创建 TLS 上下文 (%s)", detail);
        goto fail;
    }
    SSL_CTX *sc = ctx->ssl_ctx;
    if (!SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(sc, TLS1_3_VERSION)) {
        ssl_errors(detail, sizeof detail);
        sj_error_set(err, SJ_EINTERNAL, "无法限定 TLS 1.3 (%s)", detail);
        goto fail;
    }
    /* A relay holds thousands of idle sessions: drop the record buffers
     * between reads and writes. */
    SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
    /* Connections are long-lived; resumption would only cost memory and
     * skip the certificate checks we rely on. */
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    /* No tickets from the server also means nothing is written under the
     * application keys before the record layer takes over (sequence 0). */
    if (cfg->is_server && !SSL_CTX_set_num_tickets(sc, 0)) {
        ssl_errors(detail, sizeof detail);
        sj_error_set(err, SJ_EINTERNAL, "无法关闭会话票据 (%s)", detail);
        goto fail;
    }
    /* Only the AEADs that tls_record.c implements, in OpenSSL's own order. */
    if (SSL_CTX_set_ciphersuites(sc, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                                     "TLS_AES_128_GCM_SHA256") != 1) {
        ssl_errors(detail, sizeof detail);
        sj_error_set(err, SJ_EINTERNAL, "无法限定 TLS 1.3 算法套件 (%s)", detail);
        goto fail;
    }
    SSL_CTX_set_keylog_callback(sc, keylog_cb);
    if (sj__tls_record_crypto_init(&ctx->crypto, err) != 0)
        goto fail;

    X509_STORE *store = build_store(cfg->ca_file, cfg->crl_file, err);
    if (store == NULL)
        goto fail;
    SSL_CTX_set_cert_store(sc, store); /* sc owns it now */
    if (cfg->crl_file != NULL)
        X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(sc), X509_V_FLAG_CRL_CHECK);

    if (cfg->cert_file != NULL) {
        if (SSL_CTX_use_certificate_chain_file(sc, cfg->cert_file) != 1) {
            ssl_errors(detail, sizeof detail);
            sj_error_set(err, SJ_ETLS_KEY,
                         "无法读取本节点证书 %s (cannot load the certificate: %s); check "
                         "cert_file",
                         cfg->cert_file, detail);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(sc, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
            ssl_errors(detail, sizeof detail);
            sj_error_set(err, SJ_ETLS_KEY,
                         "无法读取本节点私钥 %s, 或它与证书不匹配 (cannot load the private key, "
                         "or it does not match the certificate: %s); check key_file and that "
                         "this user may read it",
                         cfg->key_file, detail);
            goto fail;
        }
        if (SSL_CTX_check_private_key(sc) != 1) {
            ssl_errors(detail, sizeof detail);
            sj_error_set(err, SJ_ETLS_KEY,
                         "私钥 %s 与证书 %s 不匹配 (key does not match certificate: %s)",
                         cfg->key_file, cfg->cert_file, detail);
            goto fail;
        }
        sj_error ierr;
        if (cert_identity(SSL_CTX_get0_certificate(sc), &ctx->identity, &ierr) != 0) {
            sj_error_set(err, SJ_ETLS_BAD_IDENTITY,
                         "本节点证书 %s 没有有效的 Sanji 身份 (%s); reissue it with 'sanji-pki "
                         "issue'",
                         cfg->cert_file, ierr.message);
            goto fail;
        }
        ctx->has_identity = true;
    }

    SSL_CTX_set_verify(sc,
                       cfg->is_server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                      : SSL_VERIFY_PEER,
                       verify_cb);
    /* leaf + county CA; Sanji has no intermediates */
    SSL_CTX_set_verify_depth(sc, 1);
    return ctx;
fail:
    sj_tls_ctx_free(ctx);
    return NULL;
}

void sj_tls_ctx_free(sj_tls_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    sj__tls_record_crypto_free(&ctx->crypto);
    free(ctx->ca_file);
    free(ctx->crl_file);
    free(ctx);
}

int sj_tls_ctx_reload_crl(sj_tls_ctx *ctx, sj_error *err)
{
    if (ctx->crl_file == NULL)
        return sj_error_set(err, SJ_EINVAL,
                            "未配置吊销列表 (no crl_file configured; nothing to reload)");
    X509_STORE *store = build_store(ctx->ca_file, ctx->crl_file, err);
    if (store == NULL)
        return err ? err->code : SJ_ETLS_KEY;
    /* Engines look the store up from the SSL_CTX at verification time, so
     * the swap applies to every handshake from now on. */
    SSL_CTX_set_cert_store(ctx->ssl_ctx, store);
    return 0;
}

const sj_identity *sj_tls_ctx_identity(const sj_tls_ctx *ctx)
{
    return ctx->has_identity ? &ctx->identity : NULL;
}

/* ---------- engine ------------------------------------------------------ */

static BIO *new_mem_bio(void)
{
    BIO *b = BIO_new(BIO_s_mem());
    /* An empty memory BIO means "wait for more", not end of file. */
    if (b != NULL)
        BIO_set_mem_eof_return(b, -1);
    return b;
}

sj_tls *sj_tls_new(sj_tls_ctx *ctx, const char *expected_peer_node, sj_error *err)
{
    if (expected_peer_node != NULL && ctx->is_server) {
        sj_error_set(err, SJ_EINVAL, "服务端不指定预期对端 (expected_peer_node is client-side only)");
        return NULL;
    }
    sj_tls *t = calloc(1, sizeof *t);
    if (t == NULL) {
        sj_error_set(err, SJ_ENOMEM, "内存不足 (out of memory)");
        return NULL;
    }
    t->ctx = ctx;
    t->alert_received = -1;
    if (expected_peer_node != NULL) {
        sj_error perr;
        if (sj_identity_parse_node_id(expected_peer_node, &t->expected, &perr) != 0) {
            sj_error_set(err, SJ_EINVAL, "预期的对端节点标识无效 (expected_peer_node \"%s\": %s)",
                         expected_peer_node, perr.message);
            free(t);
            return NULL;
        }
        t->has_expected = true;
    }
    ERR_clear_error();
    t->ssl = SSL_new(ctx->ssl_ctx);
    t->rbio = new_mem_bio();
    t->wbio = new_mem_bio();
    if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
        char detail[400];
        ssl_errors(detail, sizeof detail);
        sj_error_set(err, SJ_ENOMEM, "无法创建 TLS 会话 (%s)", detail);
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_app_data(t->ssl, t);
    SSL_set_info_callback(t->ssl, info_cb);
    if (ctx->is_server)
        SSL_set_accept_state(t->ssl);
    else
        SSL_set_connect_state(t->ssl);
    return t;
}

void sj_tls_free(sj_tls *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl); /* frees both BIOs; NULL after the takeover */
    sj__tls_record_free(&t->rec);
    free(t->last);
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}

int sj_tls_feed(sj_tls *t, const void *cipher, size_t len)
{
    if (len == 0)
        return 0;
    if (t->rec.started)
        return sj__tls_record_feed(&t->rec, cipher, len);
    if (t->ssl == NULL)
        return 0; /* dead in the takeover: nothing will read them */
    if (len > INT32_MAX)
        return SJ_ETOOBIG;
    int n = BIO_write(t->rbio, cipher, (int)len);
    if (n != (int)len) {
        ERR_clear_error();
        return SJ_ENOMEM;
    }
    return 0;
}

static int takeover_failed(sj_tls *t, sj_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The takeover failed: the link is dead; never fall back to something
 * weaker.  What the SSL object held is dropped with it. */
static int takeover_failed(sj_tls *t, sj_error *err, const char *fmt, ...)
{
    char msg[SJ_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    t->dead = sj_error_set(last_slot(t), SJ_ETLS, "TLS 握手后无法接管连接 (%s)", msg);
    SSL_free(t->ssl);
    t->ssl = NULL;
    t->rbio = t->wbio = NULL;
    sj__tls_record_free(&t->rec);
    t->rec.started = false;
    copy_last(t, err);
    return t->dead;
}

/* Moves a memory BIO's bytes into the record layer (the output queue or
 * the reader's input). */
static int move_bio(sj_tls *t, BIO *b, bool to_output)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (n <= 0)
        return 0;
    return to_output ? sj__tls_record_queue_raw(&t->rec, p, (size_t)n)
                     : sj__tls_record_feed(&t->rec, p, (size_t)n);
}

/* The handshake is done: keep the traffic keys, free the SSL object, and
 * let the record layer carry the link from sequence number 0 both ways.
 * The client's last flight (Certificate, CertificateVerify, Finished) may
 * still wait in the write BIO, and records the peer sent right after its
 * Finished (data, or the server's refusal alert) in the read BIO. */
static int take_over(sj_tls *t, sj_error *err)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(t->ssl);
    if (cipher == NULL)
        return takeover_failed(t, err, "no cipher suite negotiated");
    if (SSL_pending(t->ssl) != 0 || SSL_has_pending(t->ssl))
        return takeover_failed(t, err, "OpenSSL still holds unread record bytes");
    uint16_t suite = (uint16_t)SSL_CIPHER_get_protocol_id(cipher);
    sj_error rerr;
    if (sj__tls_record_start(&t->rec, &t->ctx->crypto, suite, !t->ctx->is_server, &rerr) != 0)
        return takeover_failed(t, err, "%s", rerr.message);
    if (move_bio(t, t->wbio, true) != 0 || move_bio(t, t->rbio, false) != 0)
        return takeover_failed(t, err, "out of memory");
    SSL_free(t->ssl); /* and both BIOs */
    t->ssl = NULL;
    t->rbio = t->wbio = NULL;
    ERR_clear_error();
    return 0;
}

int sj_tls_handshake(sj_tls *t, sj_error *err)
{
    if (t->dead) {
        copy_last(t, err);
        return t->dead;
    }
    if (t->established)
        return 0;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        if (!t->has_peer) {
            /* verify_cb always runs on a completed mutual handshake; if it
             * did not, refuse rather than trust an unchecked peer. */
            t->dead = sj_error_set(last_slot(t), SJ_ETLS_BAD_IDENTITY,
                                   "对端身份未经检查 (peer identity was not checked)");
            copy_last(t, err);
            return t->dead;
        }
        int rc = take_over(t, err);
        if (rc != 0)
            return rc;
        t->established = true;
        return 0;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        return SJ_EAGAIN;
    }
    return refusal(t, true, err);
}

bool sj_tls_is_established(const sj_tls *t)
{
    return t->established;
}

int sj_tls_read(sj_tls *t, void *buf, size_t cap, size_t *nread)
{
    *nread = 0;
    if (t->dead)
        return t->dead;
    if (!t->established || cap == 0)
        return SJ_EINVAL;
    if (t->peer_closed)
        return SJ_ECLOSED;
    sj_error rerr;
    int rc = sj__tls_record_read(&t->rec, buf, cap, nread, &rerr);
    if (rc == 0 || rc == SJ_EAGAIN)
        return rc;
    if (rc == SJ_ECLOSED) {
        t->peer_closed = true;
        return SJ_ECLOSED;
    }
    return record_failure(t, rc, &rerr);
}

int sj_tls_write(sj_tls *t, const void *plain, size_t len)
{
    if (t->dead)
        return t->dead;
    if (!t->established || t->shut)
        return SJ_EINVAL;
    if (len == 0)
        return 0;
    sj_error rerr;
    int rc = sj__tls_record_write(&t->rec, plain, len, &rerr);
    return rc == 0 ? 0 : record_failure(t, rc, &rerr);
}

size_t sj_tls_pending(const sj_tls *t)
{
    if (t->rec.started)
        return sj__tls_record_pending(&t->rec);
    return t->wbio ? BIO_ctrl_pending(t->wbio) : 0;
}

int sj_tls_take(sj_tls *t, void *buf, size_t cap, size_t *n)
{
    *n = 0;
    if (t->rec.started) {
        *n = sj__tls_record_take(&t->rec, buf, cap);
        return 0;
    }
    size_t have = t->wbio ? BIO_ctrl_pending(t->wbio) : 0;
    if (have == 0 || cap == 0)
        return 0;
    if (cap > have)
        cap = have;
    if (cap > INT32_MAX)
        cap = INT32_MAX;
    int got = BIO_read(t->wbio, buf, (int)cap);
    if (got > 0)
        *n = (size_t)got;
    return 0;
}

int sj_tls_shutdown(sj_tls *t)
{
    if (t->shut)
        return 0;
    t->shut = true;
    if (t->established && !t->dead) {
        sj_error rerr;
        int rc = sj__tls_record_close(&t->rec, &rerr);
        if (rc != 0)
            (void)record_failure(t, rc, &rerr);
    }
    return 0;
}

const sj_identity *sj_tls_peer(const sj_tls *t)
{
    return t->established ? &t->peer : NULL;
}

const sj_error *sj_tls_last_error(const sj_tls *t)
{
    return t->last ? t->last : t->dead ? &oom_error : &no_error;
}

sj__tls_record *sj__tls_record_of(sj_tls *t)
{
    return t->rec.started ? &t->rec : NULL;
}
