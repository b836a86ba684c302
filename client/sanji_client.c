/*
 * sanji_client.c - the Sanji client library (see sanji_client.h): the
 * client's life cycle.  Its other jobs live beside it, one a file:
 * sc_link.c (the link), sc_send.c (outbox upward), sc_feed.c (feed
 * downward), sc_queries.c (questions to the county), sc_refdata.c
 * (reference data), sc_login.c, sc_password.c, sc_actions.c,
 * sc_attach.c, sc_reads.c and sc_labels.c; sanji_client_private.h is what they share.
 *
 * Entry points: sc_client_new(), sc_client_start(), sc_client_stop(),
 * sc_client_free(); inside the library sc_client_emit() and
 * sc_client_maybe_stopped().
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "conn.h"
#include "dialer.h"
#include "log.h"
#include "tls.h"

/* ---- small helpers ----------------------------------------------------- */

void sc_client_emit(sc_client *c, sc_event *ev)
{
    if (c->cb)
        c->cb(c, ev, c->data);
}

void sc_client_maybe_stopped(sc_client *c)
{
    if (c->stopping && c->busy == 0 && c->on_stopped) {
        void (*cb)(sc_client *, void *) = c->on_stopped;
        c->on_stopped = NULL;
        cb(c, c->data);
    }
}

int64_t sc_client_meta_i64(sc_client *c, const char *key)
{
    char v[32];
    if (sc_store_meta_get(c->st, key, v, sizeof v, NULL) != 0)
        return 0;
    return strtoll(v, NULL, 10);
}

/* ---- life cycle -------------------------------------------------------- */

int sc_client_new(uv_loop_t *loop, const sc_config *cfg, sc_event_cb cb, void *data,
                  sc_client **out, sj_error *err)
{
    *out = NULL;
    if (!loop || !cfg || !cfg->cert_file || !cfg->key_file || !cfg->ca_file || !cfg->store_path)
        return sj_error_set(err, SJ_EINVAL,
                            "配置不完整：需要证书、私钥、CA 证书和本地存储路径 / certificate, key, CA "
                            "and store path are required");
    sc_client *c = calloc(1, sizeof(*c));
    if (!c)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    c->loop = loop;
    c->cb = cb;
    c->data = data;
    c->backoff_base_ms = cfg->backoff_base_ms;
    c->backoff_cap_ms = cfg->backoff_cap_ms;
    c->attach_max_file = cfg->attach_max_file ? cfg->attach_max_file : SJ_ATTACH_MAX_FILE_BYTES;
    c->attach_max_case = cfg->attach_max_case ? cfg->attach_max_case : SJ_ATTACH_MAX_CASE_BYTES;
    c->attach_in_flight = cfg->attach_in_flight ? cfg->attach_in_flight : 2;
    c->feed_deltas = !cfg->no_feed_deltas;
    static const sj_node_role peers[] = {SJ_NODE_ROLE_RELAY, SJ_NODE_ROLE_COUNTY};
    sj_tls_config tc = {
        .ca_file = cfg->ca_file,
        .cert_file = cfg->cert_file,
        .key_file = cfg->key_file,
        .crl_file = cfg->crl_file && *cfg->crl_file ? cfg->crl_file : NULL,
        .is_server = false,
        .allowed_peer_roles = peers,
        .n_allowed_peer_roles = 2,
    };
    c->tls = sj_tls_ctx_new(&tc, err);
    if (!c->tls)
        goto fail;
    const sj_identity *me = sj_tls_ctx_identity(c->tls);
    if (!me || sc_ref_role_for_node(me->role) == SJ_ROLE_NONE) {
        sj_error_set(err, SJ_ETLS_BAD_IDENTITY,
                     "证书 %s 不是村、乡镇或县的工作站证书 / certificate %s is not a station or "
                     "desk certificate",
                     cfg->cert_file, cfg->cert_file);
        goto fail;
    }
    c->node = *me;
    if (sc_store_open(cfg->store_path, c->node.node_id, &c->st, err) != 0)
        goto fail;
    if (cfg->n_addresses) {
        c->addresses = calloc(cfg->n_addresses, sizeof(char *));
        if (!c->addresses)
            goto nomem;
        for (size_t i = 0; i < cfg->n_addresses; i++) {
            c->addresses[i] = strdup(cfg->addresses[i]);
            if (!c->addresses[i])
                goto nomem;
            c->n_addresses++;
        }
    }
    if (cfg->expected_peer && *cfg->expected_peer) {
        sj_identity tmp;
        if (sj_identity_parse_node_id(cfg->expected_peer, &tmp, err) != 0)
            goto fail;
        if (!(c->expected_peer = strdup(cfg->expected_peer)))
            goto nomem;
    }
    sc_ref_load(c, "catalogue");
    sc_ref_load(c, "org_tree");
    sc_ref_load(c, "persons");
    sc_ref_load(c, "duty");
    c->lasting_refusal = (int)sc_client_meta_i64(c, "lasting_refusal");
    if (!sj_err_is_lasting(c->lasting_refusal))
        c->lasting_refusal = 0;
    c->network_time_ms = sc_client_meta_i64(c, "network_time_ms");
    *out = c;
    return 0;
nomem:
    sj_error_set(err, SJ_ENOMEM, NULL);
fail:
    sc_client_free(c);
    return err ? err->code : SJ_EINVAL;
}

int sc_client_start(sc_client *c, sj_error *err)
{
    if (c->started)
        return sj_error_set(err, SJ_EINVAL, "client already started");
    if (c->n_addresses == 0)
        return sj_error_set(err, SJ_ECONFIG_MISSING,
                            "配置中没有服务器地址（server.address）/ no server address configured");
    return sc_link_start(c, err);
}

void sc_client_stop(sc_client *c, void (*on_stopped)(sc_client *c, void *data))
{
    if (c->stopping)
        return;
    c->stopping = true;
    c->on_stopped = on_stopped;
    sc_queries_fail(c, SJ_ECANCELLED);
    if (c->started)
        sc_link_stop(c);
    sc_client_maybe_stopped(c);
}

void sc_client_free(sc_client *c)
{
    if (!c)
        return;
    if (c->busy)
        abort(); /* caller bug: free before on_stopped */
    sj_dialer_free(c->dialer);
    sc_store_close(c->st);
    sj_tls_ctx_free(c->tls);
    for (size_t i = 0; i < c->n_addresses; i++)
        free(c->addresses[i]);
    free(c->addresses);
    free(c->expected_peer);
    if (c->catalogue)
        sanji__catalogue_sync__free_unpacked(c->catalogue, NULL);
    if (c->org_tree)
        sanji__org_tree_sync__free_unpacked(c->org_tree, NULL);
    if (c->persons)
        sanji__person_sync__free_unpacked(c->persons, NULL);
    if (c->duty)
        sanji__duty_sync__free_unpacked(c->duty, NULL);
    free(c);
}
