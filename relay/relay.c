/*
 * relay.c - the relay daemon's core: start-up, the per-turn commit, the
 * periodic tick, and an orderly stop.  See relay.h.
 *
 * Entry points: relay_start(), relay_stop(), relay_free(),
 * relay_request_commit(), relay_upstream_state_changed().
 */
#include "relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "downstream.h"
#include "log.h"
#include "upstream.h"

#define MOD "relay"
/* Expire old results every this many ticks. */
#define EXPIRE_EVERY 240

static void meta_int(relay *r, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    sj_error err;
    if (relay_store_meta_set(r->store, key, buf, &err) != 0)
        SJ_LOG_WARN(MOD, "status not written", "why", err.message);
}

static void write_status(relay *r)
{
    meta_int(r, "upstream_online", r->upstream_online ? 1 : 0);
    meta_int(r, "upstream_last_contact_ms", r->upstream_last_contact_ms);
    meta_int(r, "status_at_ms", sj_clock_real_ms());
}

static void on_commit_check(uv_check_t *h)
{
    relay *r = h->data;
    /* What is asked for from here on is for the next turn. */
    r->wake_requested = false;
    sj_error err;
    int rc = relay_store_commit(r->store, &err);
    if (rc != 0) {
        SJ_LOG_ERROR(MOD, "store commit failed; nothing of this turn is acknowledged", "why",
                     err.message);
        if (r->down)
            relay_downstream_commit_failed(r->down, &err);
    } else {
        if (r->down)
            relay_downstream_after_commit(r->down);
        if (r->up)
            relay_upstream_after_commit(r->up);
        /* Writes made just now (results marked delivered, ...) are
         * committed in the next turn; keep the loop from blocking until
         * then. */
        if (relay_store_in_tx(r->store))
            relay_request_commit(r);
    }
    /* The idle handle stays active through the next poll only if a turn
     * was asked for here (a link with more to send, a write just made):
     * stopping it in its own callback would come too late, as libuv runs
     * idle callbacks before it decides whether the poll may block. */
    if (!r->wake_requested)
        uv_idle_stop(&r->wake);
}

static void on_wake(uv_idle_t *h)
{
    (void)h; /* only keeps the poll from blocking; on_commit_check stops it */
}

void relay_request_commit(relay *r)
{
    /* An active idle handle makes the loop poll without blocking, so the
     * check handle (and its commit) runs at the end of this turn, or of
     * the next one when asked from the check itself. */
    if (!r->stopping) {
        r->wake_requested = true;
        uv_idle_start(&r->wake, on_wake);
    }
}

void relay_upstream_state_changed(relay *r, bool online)
{
    bool changed = r->upstream_online != online;
    r->upstream_online = online;
    r->upstream_last_contact_ms = sj_clock_real_ms();
    write_status(r);
    relay_request_commit(r);
    /* Stations and desks show the hop behind the relay: they hear of a
     * change now, not at their next connect. */
    if (changed && r->down && !r->stopping)
        relay_downstream_upstream_changed(r->down);
}

static void on_tick(uv_timer_t *t)
{
    relay *r = t->data;
    r->ticks++;
    write_status(r);
    if (r->down)
        relay_downstream_tick(r->down);
    if (r->up)
        relay_upstream_tick(r->up);
    if (r->ticks % EXPIRE_EVERY == 0) {
        sj_error err;
        size_t n = 0;
        if (relay_store_result_expire(r->store, sj_clock_real_ms() - r->cfg->result_keep_ms, &n,
                                      &err) != 0)
            SJ_LOG_WARN(MOD, "old results not expired", "why", err.message);
    }
    relay_request_commit(r);
}

static int mark_offline(void *arg, const char *node, bool connected, int64_t last_seen_ms,
                        uint32_t outbox_depth)
{
    relay *r = arg;
    sj_error err;
    if (connected)
        return relay_store_station_put(r->store, node, false, last_seen_ms, outbox_depth, &err);
    return 0;
}

static int open_tls(relay *r, sj_error *err)
{
    static const sj_node_role down_roles[] = {SJ_NODE_ROLE_VILLAGE, SJ_NODE_ROLE_TOWNSHIP_DESK};
    static const sj_node_role up_roles[] = {SJ_NODE_ROLE_COUNTY};
    sj_tls_config c = {.ca_file = r->cfg->ca_file,
                       .cert_file = r->cfg->cert_file,
                       .key_file = r->cfg->key_file,
                       .crl_file = r->cfg->crl_file,
                       .is_server = true,
                       .allowed_peer_roles = down_roles,
                       .n_allowed_peer_roles = 2};
    r->server_tls = sj_tls_ctx_new(&c, err);
    if (r->server_tls == NULL)
        return err->code;
    c.is_server = false;
    c.allowed_peer_roles = up_roles;
    c.n_allowed_peer_roles = 1;
    r->client_tls = sj_tls_ctx_new(&c, err);
    if (r->client_tls == NULL)
        return err->code;
    const sj_identity *me = sj_tls_ctx_identity(r->server_tls);
    if (me == NULL || me->role != SJ_NODE_ROLE_RELAY)
        return sj_error_set(err, SJ_ETLS_BAD_IDENTITY,
                            "%s 不是乡镇中继的证书 (the certificate is not a relay's; issue one "
                            "with sanji-pki issue --role relay)",
                            r->cfg->cert_file);
    r->self = *me;
    snprintf(r->township, sizeof r->township, "%s", me->unit);
    return 0;
}

int relay_start(relay *r, uv_loop_t *loop, const relay_config *cfg, sj_error *err)
{
    memset(r, 0, sizeof *r);
    r->loop = loop;
    r->cfg = cfg;
    r->started_at_ms = sj_clock_real_ms();
    int rc = open_tls(r, err);
    if (rc != 0)
        goto fail;
    if ((rc = relay_store_open(cfg->store_path, r->self.node_id, &r->store, err)) != 0)
        goto fail;
    relay_store_meta_set(r->store, "software", "sanji-relayd " SANJI_VERSION, err);
    meta_int(r, "started_at_ms", r->started_at_ms);
    meta_int(r, "queue_quota_bytes", (int64_t)cfg->queue_quota);
    write_status(r);
    relay_store_station_each(r->store, mark_offline, r, err);
    size_t expired = 0;
    relay_store_result_expire(r->store, sj_clock_real_ms() - cfg->result_keep_ms, &expired, err);
    if ((rc = relay_store_commit(r->store, err)) != 0)
        goto fail;
    relay_queue_stats qs;
    if (relay_store_queue_stats(r->store, &qs, err) == 0 && qs.depth > 0) {
        char n[16];
        snprintf(n, sizeof n, "%u", qs.depth);
        SJ_LOG_INFO(MOD, "queued messages will be resent to the county", "count", n);
    }
    uv_check_init(loop, &r->commit_check);
    r->commit_check.data = r;
    uv_check_start(&r->commit_check, on_commit_check);
    uv_idle_init(loop, &r->wake);
    r->wake.data = r;
    uv_timer_init(loop, &r->tick);
    r->tick.data = r;
    uv_timer_start(&r->tick, on_tick, cfg->heartbeat_ms, cfg->heartbeat_ms);
    r->open_parts = 3;
    if ((rc = relay_downstream_start(r, &r->down, err)) != 0) {
        relay_stop(r, NULL);
        return rc;
    }
    if ((rc = relay_upstream_start(r, &r->up, err)) != 0) {
        relay_stop(r, NULL);
        return rc;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", relay_downstream_port(r->down));
    SJ_LOG_INFO(MOD, "relay started", "node", r->self.node_id, "port", port, "store",
                cfg->store_path);
    return 0;
fail:
    relay_store_close(r->store);
    r->store = NULL;
    sj_tls_ctx_free(r->server_tls);
    sj_tls_ctx_free(r->client_tls);
    r->server_tls = r->client_tls = NULL;
    return rc;
}

static void part_closed(relay *r)
{
    if (--r->open_parts > 0)
        return;
    sj_error err;
    write_status(r);
    if (relay_store_commit(r->store, &err) != 0)
        SJ_LOG_ERROR(MOD, "last commit failed", "why", err.message);
    if (r->on_stopped)
        r->on_stopped(r);
}

static void handle_closed(uv_handle_t *h)
{
    relay *r = h->data;
    if (h == (uv_handle_t *)&r->tick)
        part_closed(r);
}

static void on_handles_closed(uv_handle_t *h)
{
    handle_closed(h);
}

void relay_stop(relay *r, void (*on_stopped)(relay *r))
{
    if (r->stopping)
        return;
    r->stopping = true;
    r->on_stopped = on_stopped;
    r->upstream_online = false;
    uv_close((uv_handle_t *)&r->commit_check, NULL);
    uv_close((uv_handle_t *)&r->wake, NULL);
    uv_close((uv_handle_t *)&r->tick, on_handles_closed);
    if (r->down)
        relay_downstream_close(r->down, part_closed);
    else
        r->open_parts--;
    if (r->up)
        relay_upstream_stop(r->up, part_closed);
    else
        r->open_parts--;
}

void relay_free(relay *r)
{
    relay_downstream_free(r->down);
    relay_upstream_free(r->up);
    r->down = NULL;
    r->up = NULL;
    relay_store_close(r->store);
    r->store = NULL;
    sj_tls_ctx_free(r->server_tls);
    sj_tls_ctx_free(r->client_tls);
    r->server_tls = r->client_tls = NULL;
}
