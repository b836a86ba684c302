/*
 * tls.c - the TLS 1.3 engine: OpenSSL behind an in-memory BIO, mutual
 * authentication with the county CA, optional CRL, and the Sanji identity
 * check (tls.h).
 *
 * OpenSSL does all of TLS for the life of the link: the handshake, every
 * record, alerts, KeyUpdate.  This file only moves bytes between OpenSSL
 * and the connection layer, judges the peer certificate and turns failures
 * into codes.
 *
 * Memory of an idle link: the link BIO (below) keeps its bytes in two
 * queues that are freed as soon as they are empty, and the SSL_CTX sets
 * SSL_MODE_RELEASE_BUFFERS, so an idle engine holds no record buffer; no
 * session is cached and no ticket is made.  What stays is OpenSSL's own
 * state of an established connection (the SSL object, its session with
 * the peer certificate, two cipher contexts): about 22 KiB, measured by
 * tests/unit/test_tls_mem.c and docs/PERFORMANCE.md.
 *
 * How a refusal becomes a code: the side that judges a certificate does so
 * in verify_cb(), which records our code and message and sets the X509 error
 * that makes OpenSSL send a telling alert (one alert per code).  The other
 * side sees only the alert; info_cb() records it, and refusal() turns it
 * back into the same code with alert_code().
 *
 * Live links (tls.h): the context keeps the CRL in force (and its DER, for
 * the county to hand out) with a generation number bumped at each change;
 * an engine keeps its peer's notAfter and the generation it was last
 * judged against, so that judging every link again at every tick costs a
 * comparison unless the CRL changed.  The peer certificate itself stays in
 * OpenSSL's session; nothing more is copied per link.
 *
 * Entry points: sj_tls_ctx_new(), sj_tls_ctx_free(), sj_tls_ctx_reload_crl(),
 * sj_tls_ctx_offer_crl(), sj_tls_ctx_crl(), sj_tls_ctx_identity(),
 * sj_tls_new(), sj_tls_free(), sj_tls_feed(), sj_tls_handshake(),
 * sj_tls_is_established(), sj_tls_read(), sj_tls_write(), sj_tls_pending(),
 * sj_tls_take(), sj_tls_shutdown(), sj_tls_peer(), sj_tls_peer_cert(), sj_tls_ctx_own_cert(),
 * sj_tls_recheck_peer(), sj_tls_last_error().
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "i18n.h"

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
    X509_CRL *crl;      /* the CRL in force (also in the SSL_CTX's store); NULL: none */
    uint8_t *crl_der;   /* crl as DER, for sj_tls_ctx_crl() */
    size_t crl_der_len;
    unsigned crl_gen;   /* bumped whenever the CRL in force changes */
};

/* Bytes [off, len) of p.  p is NULL whenever the queue is empty: a relay
 * holds thousands of idle links, and an idle one must hold no buffer. */
typedef struct tls_queue {
    unsigned char *p;
    size_t off, len, cap;
} tls_queue;

struct sj_tls {
    sj_tls_ctx *ctx;
    SSL *ssl;     /* owns the link BIO, whose data is this engine */
    tls_queue in;  /* fed from the network, not yet read by OpenSSL */
    tls_queue out; /* written by OpenSSL, not yet taken */
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
    unsigned crl_gen;     /* the context's crl_gen when the peer was last judged */
    int64_t peer_not_after; /* Unix seconds, from the verified peer certificate */
    sj_identity expected;
    sj_identity peer;
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

int sj_tls_cert_identity(struct x509_st *cert, sj_identity *out, sj_error *err)
{
    return cert_identity(cert, out, err);
}

static void cert_subject(X509 *cert, char *buf, size_t cap)
{
    if (cert == NULL || X509_NAME_oneline(X509_get_subject_name(cert), buf, (int)cap) == NULL)
        snprintf(buf, cap, "?");
}

/* An ASN1_TIME as Unix seconds; 0 when it cannot be read. */
static int64_t unix_time(const ASN1_TIME *t)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm); /* ASN1_TIME_to_tm gives UTC */
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

/* Reads a PEM CRL from crl_file. */
static X509_CRL *load_crl_file(const char *crl_file, sj_error *err)
{
    char detail[400];
    ERR_clear_error();
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
    }
    return crl;
}

/* The trust store: the CA of ca_file and, when crl is not NULL, that CRL
 * checked at every handshake. */
static X509_STORE *build_store(const char *ca_file, X509_CRL *crl, sj_error *err)
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
    if (crl != NULL) {
        if (X509_STORE_add_crl(store, crl) != 1) {
            ssl_errors(detail, sizeof detail);
            sj_error_set(err, SJ_ETLS_KEY, "无法使用吊销列表 (cannot use the CRL: %s)", detail);
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

/* OpenSSL found the chain at fault: the refusal a node's operator can act
 * on (expired, revoked, another CA, our own CRL unusable), else OpenSSL's
 * own words. */
static int refuse_chain(X509_STORE_CTX *sctx, sj_tls *t, X509 *cert, const char *subj)
{
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

/* The chain is sound: the peer's own certificate must carry a Sanji
 * identity of a role this link accepts, and be the node expected if one
 * is.  Records the peer for the rest of the link. */
static int judge_leaf(X509_STORE_CTX *sctx, sj_tls *t, X509 *cert, const char *subj)
{
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
    /* What sj_tls_recheck_peer() needs later: the handshake judged this
     * certificate against the CRL of this generation. */
    t->peer_not_after = unix_time(X509_get0_notAfter(cert));
    t->crl_gen = t->ctx->crl_gen;
    return 1;
}

static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
    sj_tls *t = tls_of_store_ctx(sctx);
    if (t == NULL)
        return ok; /* not one of ours; cannot happen */
    X509 *cert = X509_STORE_CTX_get_current_cert(sctx);
    char subj[256];
    cert_subject(cert, subj, sizeof subj);
    if (!ok)
        return refuse_chain(sctx, t, cert, subj);
    if (X509_STORE_CTX_get_error_depth(sctx) != 0)
        return 1;
    return judge_leaf(sctx, t, cert, subj);
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

/* ---------- the link BIO ------------------------------------------------ */

/* OpenSSL reads the peer's bytes from, and writes its records to, one BIO
 * of this kind per engine.  Unlike a memory BIO, whose buffer keeps the
 * largest size it ever had (the handshake's flights, or one large
 * message), its two queues are freed as soon as they are empty.  Reads of
 * an empty queue ask OpenSSL to retry (SSL_ERROR_WANT_READ); writes always
 * take everything, so the output of OpenSSL (records, alerts, KeyUpdate
 * replies) waits in `out` until the connection layer takes it and bounds
 * it (conn.c). */

static void queue_free(tls_queue *q)
{
    OPENSSL_free(q->p);
    memset(q, 0, sizeof *q);
}

static size_t queue_len(const tls_queue *q)
{
    return q->len - q->off;
}

static int queue_push(tls_queue *q, const void *data, size_t n)
{
    if (n == 0)
        return 0;
    if (q->cap - q->len < n && q->off > 0) {
        memmove(q->p, q->p + q->off, q->len - q->off);
        q->len -= q->off;
        q->off = 0;
    }
    if (q->cap - q->len < n) {
        if (n > SIZE_MAX / 2 - q->len)
            return SJ_ENOMEM;
        size_t need = q->len + n, cap = q->cap ? q->cap * 2 : need;
        while (cap < need)
            cap *= 2;
        unsigned char *p = OPENSSL_realloc(q->p, cap);
        if (p == NULL)
            return SJ_ENOMEM;
        q->p = p;
        q->cap = cap;
    }
    memcpy(q->p + q->len, data, n);
    q->len += n;
    return 0;
}

static size_t queue_pop(tls_queue *q, void *buf, size_t cap)
{
    size_t n = queue_len(q);
    if (n > cap)
        n = cap;
    if (n == 0)
        return 0;
    memcpy(buf, q->p + q->off, n);
    q->off += n;
    if (q->off == q->len)
        queue_free(q);
    return n;
}

static int link_bio_write(BIO *b, const char *data, size_t n, size_t *written)
{
    sj_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    *written = 0;
    if (t == NULL || queue_push(&t->out, data, n) != 0)
        return 0; /* out of memory: the SSL call fails */
    *written = n;
    return 1;
}

static int link_bio_read(BIO *b, char *buf, size_t cap, size_t *nread)
{
    sj_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    *nread = t ? queue_pop(&t->in, buf, cap) : 0;
    if (*nread > 0)
        return 1;
    BIO_set_retry_read(b); /* nothing yet: wait for more, not end of file */
    return 0;
}

static long link_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    const sj_tls *t = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1; /* OpenSSL flushes after each flight; the bytes wait in out */
    case BIO_CTRL_PENDING:
        return t ? (long)queue_len(&t->in) : 0;
    case BIO_CTRL_WPENDING:
        return t ? (long)queue_len(&t->out) : 0;
    default:
        return 0; /* unsupported, e.g. kernel TLS */
    }
}

static int link_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* One method for the process: BIO type numbers are few (BIO_get_new_index),
 * and a program may make many contexts.  It lives until the process ends. */
static BIO_METHOD *link_bio_method;
static CRYPTO_ONCE link_bio_once = CRYPTO_ONCE_STATIC_INIT;

static void link_bio_init(void)
{
    int type = BIO_get_new_index();
    BIO_METHOD *m = type < 0 ? NULL : BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "sanji link");
    if (m == NULL || !BIO_meth_set_write_ex(m, link_bio_write) ||
        !BIO_meth_set_read_ex(m, link_bio_read) || !BIO_meth_set_ctrl(m, link_bio_ctrl) ||
        !BIO_meth_set_create(m, link_bio_create)) {
        BIO_meth_free(m);
        return;
    }
    link_bio_method = m;
}

/* ---------- own key ----------------------------------------------------- */

/* Loads key_file into sc, refusing a key that other users can read: a node
 * key copied with the wrong mode would let any local account impersonate
 * the node.  The mode is checked on the descriptor the key is read from. */
static int load_private_key(SSL_CTX *sc, const char *key_file, sj_error *err)
{
    char detail[400];
    int fd = open(key_file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return sj_error_set(err, SJ_ETLS_KEY,
                            "无法读取本节点私钥 %s (cannot open the private key: %s); check "
                            "key_file and that this user may read it",
                            key_file, strerror(e));
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        close(fd);
        return sj_error_set(err, SJ_ETLS_KEY,
                            _("The private key %s is open to other users (mode %03o); only its "
                              "owner may read it. Run: chmod 600 %s"),
                            key_file, (unsigned)(st.st_mode & 0777), key_file);
    }
    ERR_clear_error();
    BIO *in = BIO_new_fd(fd, BIO_CLOSE);
    if (in == NULL) {
        close(fd);
        return sj_error_set(err, SJ_ENOMEM, "内存不足 (out of memory)");
    }
    EVP_PKEY *key = PEM_read_bio_PrivateKey(in, NULL, SSL_CTX_get_default_passwd_cb(sc),
                                            SSL_CTX_get_default_passwd_cb_userdata(sc));
    BIO_free(in);
    int ok = key != NULL && SSL_CTX_use_PrivateKey(sc, key) == 1;
    EVP_PKEY_free(key);
    if (!ok) {
        ssl_errors(detail, sizeof detail);
        return sj_error_set(err, SJ_ETLS_KEY,
                            "无法读取本节点私钥 %s, 或它与证书不匹配 (cannot load the private key, "
                            "or it does not match the certificate: %s); check key_file",
                            key_file, detail);
    }
    return 0;
}

/* ---------- context ----------------------------------------------------- */

static int check_config(const sj_tls_config *cfg, sj_error *err)
{
    if (cfg == NULL || cfg->ca_file == NULL)
        return sj_error_set(err, SJ_EINVAL, "TLS 配置缺少 ca_file (ca_file is required)");
    if ((cfg->cert_file == NULL) != (cfg->key_file == NULL) ||
        (cfg->cert_file == NULL && cfg->is_server))
        return sj_error_set(err, SJ_EINVAL,
                            "TLS 配置须同时给出 cert_file 和 key_file (cert_file and key_file go "
                            "together, and a server needs both)");
    if (cfg->n_allowed_peer_roles == 0 || cfg->n_allowed_peer_roles > MAX_ROLES ||
        cfg->allowed_peer_roles == NULL)
        return sj_error_set(err, SJ_EINVAL,
                            "TLS 配置须列出 1 到 %d 个允许的对端角色 (allowed_peer_roles)",
                            MAX_ROLES);
    for (size_t i = 0; i < cfg->n_allowed_peer_roles; i++)
        if (sj_node_role_name(cfg->allowed_peer_roles[i]) == NULL)
            return sj_error_set(err, SJ_EINVAL, "允许的对端角色 %d 无效 (not a node role)",
                                (int)cfg->allowed_peer_roles[i]);
    return 0;
}

/* TLS 1.3 only, and nothing kept for later connections. */
static int set_protocol(SSL_CTX *sc, bool is_server, sj_error *err)
{
    char detail[400];
    if (!SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(sc, TLS1_3_VERSION)) {
        ssl_errors(detail, sizeof detail);
        return sj_error_set(err, SJ_EINTERNAL, "无法限定 TLS 1.3 (%s)", detail);
    }
    /* A relay holds thousands of idle links: drop the record buffers
     * between reads and writes. */
    SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
    /* Connections are long-lived; resumption would only cost memory and
     * skip the certificate checks we rely on. */
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    if (is_server && !SSL_CTX_set_num_tickets(sc, 0)) {
        ssl_errors(detail, sizeof detail);
        return sj_error_set(err, SJ_EINTERNAL, "无法关闭会话票据 (%s)", detail);
    }
    return 0;
}

/* This node's certificate and key, checked against each other and for a
 * Sanji identity. */
static int load_own(sj_tls_ctx *ctx, const sj_tls_config *cfg, sj_error *err)
{
    SSL_CTX *sc = ctx->ssl_ctx;
    char detail[400];
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(sc, cfg->cert_file) != 1) {
        ssl_errors(detail, sizeof detail);
        return sj_error_set(err, SJ_ETLS_KEY,
                            "无法读取本节点证书 %s (cannot load the certificate: %s); check "
                            "cert_file",
                            cfg->cert_file, detail);
    }
    int rc = load_private_key(sc, cfg->key_file, err);
    if (rc != 0)
        return rc;
    if (SSL_CTX_check_private_key(sc) != 1) {
        ssl_errors(detail, sizeof detail);
        return sj_error_set(err, SJ_ETLS_KEY,
                            "私钥 %s 与证书 %s 不匹配 (key does not match certificate: %s)",
                            cfg->key_file, cfg->cert_file, detail);
    }
    sj_error ierr;
    if (cert_identity(SSL_CTX_get0_certificate(sc), &ctx->identity, &ierr) != 0)
        return sj_error_set(err, SJ_ETLS_BAD_IDENTITY,
                            "本节点证书 %s 没有有效的 Sanji 身份 (%s); reissue it with 'sanji-pki "
                            "issue'",
                            cfg->cert_file, ierr.message);
    ctx->has_identity = true;
    return 0;
}

sj_tls_ctx *sj_tls_ctx_new(const sj_tls_config *cfg, sj_error *err)
{
    if (check_config(cfg, err) != 0)
        return NULL;
    if (!CRYPTO_THREAD_run_once(&link_bio_once, link_bio_init) || link_bio_method == NULL) {
        sj_error_set(err, SJ_ENOMEM, "无法创建 TLS 连接的 BIO 方法 (out of memory)");
        return NULL;
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
    if (set_protocol(sc, cfg->is_server, err) != 0)
        goto fail;
    X509_STORE *store = build_store(cfg->ca_file, NULL, err);
    if (store == NULL)
        goto fail;
    SSL_CTX_set_cert_store(sc, store); /* sc owns it now */
    if (cfg->crl_file != NULL && sj_tls_ctx_reload_crl(ctx, err) != 0)
        goto fail;
    if (cfg->cert_file != NULL && load_own(ctx, cfg, err) != 0)
        goto fail;

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
    X509_CRL_free(ctx->crl);
    OPENSSL_free(ctx->crl_der);
    free(ctx->ca_file);
    free(ctx->crl_file);
    free(ctx);
}

/* ---------- the CRL in force -------------------------------------------- */

static void crl_info(const X509_CRL *crl, sj_tls_crl_info *out)
{
    memset(out, 0, sizeof *out);
    ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    uint64_t v;
    if (num != NULL && ASN1_INTEGER_get_uint64(&v, num) == 1)
        out->number = v;
    ASN1_INTEGER_free(num);
    ERR_clear_error(); /* a crlNumber that does not fit is only "none" */
    out->last_update = unix_time(X509_CRL_get0_lastUpdate(crl));
    out->next_update = unix_time(X509_CRL_get0_nextUpdate(crl));
    STACK_OF(X509_REVOKED) *r = X509_CRL_get_REVOKED((X509_CRL *)(uintptr_t)crl);
    out->revoked = r ? (size_t)sk_X509_REVOKED_num(r) : 0;
}

/* The one order of CRLs: sanji-pki numbers each publication above the last
 * (crlNumber); a CRL from elsewhere without numbers is ordered by its
 * lastUpdate. */
static bool crl_newer(const sj_tls_crl_info *a, const sj_tls_crl_info *b)
{
    if (a->number != 0 && b->number != 0)
        return a->number > b->number;
    return a->last_update > b->last_update;
}

/* Makes crl the CRL in force (it takes its own reference): a new store
 * with it replaces the SSL_CTX's, so that it applies to every handshake
 * from now on (engines look the store up at verification time), and the
 * generation changes, so that sj_tls_recheck_peer() looks every
 * established peer up in it once. */
static int install_crl(sj_tls_ctx *ctx, X509_CRL *crl, sj_error *err)
{
    sj_error e;
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(crl, &der);
    if (n <= 0)
        return sj_error_set(err, SJ_ENOMEM, "内存不足 (out of memory for the CRL)");
    X509_STORE *store = build_store(ctx->ca_file, crl, &e);
    if (store == NULL) {
        OPENSSL_free(der);
        if (err != NULL)
            *err = e;
        return e.code;
    }
    SSL_CTX_set_cert_store(ctx->ssl_ctx, store);
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx->ssl_ctx), X509_V_FLAG_CRL_CHECK);
    X509_CRL_up_ref(crl);
    X509_CRL_free(ctx->crl);
    ctx->crl = crl;
    OPENSSL_free(ctx->crl_der);
    ctx->crl_der = der;
    ctx->crl_der_len = (size_t)n;
    ctx->crl_gen++;
    return 0;
}

int sj_tls_ctx_reload_crl(sj_tls_ctx *ctx, sj_error *err)
{
    if (ctx->crl_file == NULL)
        return sj_error_set(err, SJ_EINVAL,
                            "未配置吊销列表 (no crl_file configured; nothing to reload)");
    X509_CRL *crl = load_crl_file(ctx->crl_file, err);
    if (crl == NULL)
        return SJ_ETLS_KEY;
    int rc = install_crl(ctx, crl, err);
    X509_CRL_free(crl);
    return rc;
}

/* A CRL from bytes: PEM when they start like PEM, else DER (all of it). */
static X509_CRL *parse_crl(const void *data, size_t len, sj_error *err)
{
    static const char pem[] = "-----BEGIN";
    X509_CRL *crl = NULL;
    ERR_clear_error();
    if (len > 0 && len <= INT_MAX) {
        if (len >= sizeof pem - 1 && memcmp(data, pem, sizeof pem - 1) == 0) {
            BIO *b = BIO_new_mem_buf(data, (int)len);
            crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
            BIO_free(b);
        } else {
            const unsigned char *p = data;
            crl = d2i_X509_CRL(NULL, &p, (long)len);
            if (crl != NULL && p != (const unsigned char *)data + len) {
                X509_CRL_free(crl);
                crl = NULL;
            }
        }
    }
    if (crl == NULL) {
        char detail[400];
        ssl_errors(detail, sizeof detail);
        sj_error_set(err, SJ_EINVAL, "收到的不是吊销列表 (%zu bytes that are no CRL: %s)", len,
                     detail);
    }
    return crl;
}

/* Whether our CA made crl: an issuer named as a CA of the store, whose key
 * verifies the signature. */
static int check_crl_issuer(const sj_tls_ctx *ctx, X509_CRL *crl, sj_error *err)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx->ssl_ctx);
    STACK_OF(X509_OBJECT) *objs = store ? X509_STORE_get0_objects(store) : NULL;
    for (int i = 0; objs != NULL && i < sk_X509_OBJECT_num(objs); i++) {
        X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (ca == NULL || X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) != 0)
            continue;
        EVP_PKEY *key = X509_get0_pubkey(ca);
        if (key != NULL && X509_CRL_verify(crl, key) == 1)
            return 0;
    }
    ERR_clear_error();
    char issuer[256];
    if (X509_NAME_oneline(X509_CRL_get_issuer(crl), issuer, sizeof issuer) == NULL)
        snprintf(issuer, sizeof issuer, "?");
    return sj_error_set(err, SJ_ETLS_UNTRUSTED,
                        "吊销列表不是本县 CA 签发的 (the CRL of %s is not signed by the CA of %s); "
                        "it is ignored",
                        issuer, ctx->ca_file);
}

int sj_tls_ctx_offer_crl(sj_tls_ctx *ctx, const void *data, size_t len, sj_tls_crl_info *offered,
                         sj_error *err)
{
    X509_CRL *crl = parse_crl(data, len, err);
    if (crl == NULL)
        return SJ_EINVAL;
    sj_tls_crl_info in, cur;
    crl_info(crl, &in);
    if (offered != NULL)
        *offered = in;
    int rc = check_crl_issuer(ctx, crl, err);
    if (rc == 0 && ctx->crl != NULL) {
        crl_info(ctx->crl, &cur);
        if (!crl_newer(&in, &cur))
            rc = sj_error_set(err, SJ_EEXISTS,
                              "吊销列表不比现用的新 (CRL number %llu of %lld is not newer than "
                              "number %llu of %lld in force; the one in force stays)",
                              (unsigned long long)in.number, (long long)in.last_update,
                              (unsigned long long)cur.number, (long long)cur.last_update);
    }
    if (rc == 0)
        rc = install_crl(ctx, crl, err);
    X509_CRL_free(crl);
    return rc;
}

int sj_tls_ctx_crl(const sj_tls_ctx *ctx, sj_tls_crl_info *info, const uint8_t **der, size_t *len)
{
    if (ctx->crl == NULL)
        return SJ_ENOTFOUND;
    if (info != NULL)
        crl_info(ctx->crl, info);
    if (der != NULL)
        *der = ctx->crl_der;
    if (len != NULL)
        *len = ctx->crl_der_len;
    return 0;
}

const sj_identity *sj_tls_ctx_identity(const sj_tls_ctx *ctx)
{
    return ctx->has_identity ? &ctx->identity : NULL;
}

/* ---------- engine ------------------------------------------------------ */

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
    BIO *bio = BIO_new(link_bio_method);
    if (t->ssl == NULL || bio == NULL) {
        char detail[400];
        ssl_errors(detail, sizeof detail);
        sj_error_set(err, SJ_ENOMEM, "无法创建 TLS 会话 (%s)", detail);
        BIO_free(bio);
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio); /* one BIO both ways; ssl owns it */
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
    SSL_free(t->ssl); /* and the link BIO */
    queue_free(&t->in);
    queue_free(&t->out);
    free(t->last);
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}

int sj_tls_feed(sj_tls *t, const void *cipher, size_t len)
{
    return queue_push(&t->in, cipher, len);
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
        t->established = true;
        return 0;
    }
    if (SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_READ) {
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
    ERR_clear_error();
    if (SSL_read_ex(t->ssl, buf, cap, nread) == 1)
        return 0;
    switch (SSL_get_error(t->ssl, 0)) {
    case SSL_ERROR_WANT_READ:
        ERR_clear_error();
        return SJ_EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        t->peer_closed = true;
        ERR_clear_error();
        return SJ_ECLOSED;
    default:
        return refusal(t, false, NULL);
    }
}

int sj_tls_write(sj_tls *t, const void *plain, size_t len)
{
    if (t->dead)
        return t->dead;
    if (!t->established || t->shut)
        return SJ_EINVAL;
    if (len == 0)
        return 0;
    ERR_clear_error();
    size_t n = 0;
    /* The link BIO never blocks, so SSL_write_ex takes everything at once. */
    if (SSL_write_ex(t->ssl, plain, len, &n) == 1 && n == len)
        return 0;
    return refusal(t, false, NULL);
}

size_t sj_tls_pending(const sj_tls *t)
{
    return queue_len(&t->out);
}

int sj_tls_take(sj_tls *t, void *buf, size_t cap, size_t *n)
{
    *n = queue_pop(&t->out, buf, cap);
    return 0;
}

int sj_tls_shutdown(sj_tls *t)
{
    if (t->shut)
        return 0;
    t->shut = true;
    if (t->established && !t->dead) {
        ERR_clear_error();
        /* 0: close_notify queued, the peer's not seen yet; both are fine. */
        (void)SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
    return 0;
}

const sj_identity *sj_tls_peer(const sj_tls *t)
{
    return t->established ? &t->peer : NULL;
}

static void serial_hex(const X509 *cert, char *buf, size_t cap)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    snprintf(buf, cap, "%s", hex ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);
}

static void cert_info(X509 *cert, sj_tls_cert_info *out)
{
    serial_hex(cert, out->serial, sizeof out->serial);
    out->not_before = unix_time(X509_get0_notBefore(cert));
    out->not_after = unix_time(X509_get0_notAfter(cert));
}

int sj_tls_peer_cert(const sj_tls *t, sj_tls_cert_info *out)
{
    memset(out, 0, sizeof *out);
    X509 *cert = t->established ? SSL_get0_peer_certificate(t->ssl) : NULL;
    if (cert == NULL)
        return SJ_EINVAL;
    cert_info(cert, out);
    return 0;
}

int sj_tls_ctx_own_cert(const sj_tls_ctx *ctx, sj_tls_cert_info *out)
{
    memset(out, 0, sizeof *out);
    X509 *cert = SSL_CTX_get0_certificate(ctx->ssl_ctx);
    if (cert == NULL)
        return SJ_ENOTFOUND;
    cert_info(cert, out);
    return 0;
}

int sj_tls_recheck_peer(sj_tls *t, int64_t now, sj_error *err)
{
    if (!t->established || t->dead)
        return 0;
    const sj_tls_ctx *ctx = t->ctx;
    /* As X509_cmp_time() at the handshake: valid through notAfter itself.
     * 0 means the time could not be read; the handshake judged it then. */
    bool expired = t->peer_not_after > 0 && now > t->peer_not_after;
    if (!expired && t->crl_gen == ctx->crl_gen)
        return 0;
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    char serial[SJ_TLS_SERIAL_MAX], times[96];
    if (cert == NULL)
        return 0; /* cannot happen on an established mutual link */
    serial_hex(cert, serial, sizeof serial);
    if (expired) {
        cert_times(cert, times, sizeof times);
        return sj_error_set(err, SJ_ETLS_EXPIRED,
                            "对端证书已过期 (the certificate of %s, serial %s, valid %s, has "
                            "expired); the link is closed: the node needs a new certificate from "
                            "the county ('sanji-pki issue'), or check the clocks",
                            t->peer.node_id, serial, times);
    }
    X509_REVOKED *rev = NULL;
    if (ctx->crl != NULL && X509_CRL_get0_by_cert(ctx->crl, &rev, cert) == 1)
        /* The generation stays old: the peer stays refused until its link
         * is gone. */
        return sj_error_set(err, SJ_ETLS_REVOKED,
                            "对端证书已被吊销 (the certificate of %s, serial %s, is revoked by the "
                            "county CRL now in force); the link is closed: the node needs a new "
                            "certificate from the county",
                            t->peer.node_id, serial);
    t->crl_gen = ctx->crl_gen;
    return 0;
}

const sj_error *sj_tls_last_error(const sj_tls *t)
{
    return t->last ? t->last : t->dead ? &oom_error : &no_error;
}
