/*
 * tls_pair.c - two TLS engines talking through memory (see tls_pair.h).
 *
 * Entry points: sj_test_tls_transfer(), sj_test_tls_handshake(),
 * sj_test_tls_pair(), sj_test_tls_station_ctxs().
 */
#include "tls_pair.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int sj_test_tls_transfer(sj_tls *from, sj_tls *to, size_t *moved)
{
    *moved = 0;
    size_t have = sj_tls_pending(from), n = 0;
    if (have == 0)
        return 0;
    unsigned char *buf = malloc(have);
    if (buf == NULL)
        return SJ_ENOMEM;
    int rc = sj_tls_take(from, buf, have, &n);
    if (rc == 0 && n != have)
        rc = SJ_EINTERNAL; /* pending promised more than take gave */
    if (rc == 0)
        rc = sj_tls_feed(to, buf, n);
    free(buf);
    if (rc == 0)
        *moved = n;
    return rc;
}

void sj_test_tls_handshake(sj_tls *client, sj_tls *server, sj_test_tls_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->client_rc = o->server_rc = SJ_EAGAIN;
    for (int round = 0; round < 20; round++) {
        size_t there = 0, back = 0;
        if (o->client_rc == SJ_EAGAIN)
            o->client_rc = sj_tls_handshake(client, &o->client_err);
        int rc = sj_test_tls_transfer(client, server, &there);
        if (rc == 0 && o->server_rc == SJ_EAGAIN)
            o->server_rc = sj_tls_handshake(server, &o->server_err);
        if (rc == 0)
            rc = sj_test_tls_transfer(server, client, &back);
        if (rc != 0) {
            o->server_rc = sj_error_set(&o->server_err, rc, "moving the handshake's bytes failed");
            return;
        }
        bool both_ended = o->client_rc != SJ_EAGAIN && o->server_rc != SJ_EAGAIN;
        if (there + back == 0 && (both_ended || round > 0))
            return;
    }
}

int sj_test_tls_pair(sj_tls_ctx *client_ctx, sj_tls_ctx *server_ctx, sj_tls **client,
                     sj_tls **server, sj_test_tls_outcome *o)
{
    memset(o, 0, sizeof *o);
    *client = sj_tls_new(client_ctx, NULL, &o->client_err);
    *server = sj_tls_new(server_ctx, NULL, &o->server_err);
    if (*client == NULL || *server == NULL) {
        o->client_rc = *client ? 0 : o->client_err.code;
        o->server_rc = *server ? 0 : o->server_err.code;
    } else {
        sj_test_tls_handshake(*client, *server, o);
    }
    if (o->client_rc == 0 && o->server_rc == 0)
        return 0;
    sj_tls_free(*client);
    sj_tls_free(*server);
    *client = *server = NULL;
    return o->client_rc != 0 ? o->client_rc : o->server_rc;
}

int sj_test_tls_station_ctxs(const sj_test_certs *certs, sj_tls_ctx **relay_side,
                             sj_tls_ctx **village_side, sj_error *err)
{
    static const sj_node_role villages[] = {SJ_NODE_ROLE_VILLAGE};
    static const sj_node_role relays[] = {SJ_NODE_ROLE_RELAY};
    *village_side = NULL;
    *relay_side = sj_test_certs_tls_ctx(certs, "relay", true, true, villages, 1, NULL, err);
    if (*relay_side == NULL)
        return err->code;
    *village_side = sj_test_certs_tls_ctx(certs, "village", false, true, relays, 1, NULL, err);
    if (*village_side == NULL) {
        sj_tls_ctx_free(*relay_side);
        *relay_side = NULL;
        return err->code;
    }
    return 0;
}
