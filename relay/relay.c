/*
 * relay.c - the relay daemon's core: start-up, the per-turn commit, the
 * periodic tick, an orderly stop, and the only go-between of the county
 * link (upstream.h) and the station and desk side (downstream.h): each
 * gets the other's part through the events struct given at its start.
 * See relay.h.
 *
 * Entry points: relay_start(), relay_stop(), relay_free(),
 * relay_request_commit(), relay_reload_crl(), relay_crl_received().
 */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "downstream.h"
#include "fileio.h"
#include "log.h"
#include "relay_metrics.h"
#include "upstream.h"

#define MOD "relay"
/* Expire old results every this many ticks. */
#define EXPIRE_EVERY 240
/* The shortest time between two commits (commit_put_off()). */
#define COMMIT_GAP_MS 1

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

/* A put-off commit is due.  The timer runs at the start of a loop turn,
 * before that turn's poll: had it only ended a poll, a timer that came due
 * while the turn began would leave the poll that follows free to block
 * until the next I/O or heartbeat, with the writes uncommitted and their
 * acks unsent meanwhile (stalls of seconds under a closed-loop load: every
 * station waiting for its ack).  So it asks for a turn that does not block,
 * whose check handle then commits. */
static void on_commit_timer(uv_timer_t *t)
{
    relay_request_commit(t->data);
}

/* Group commit sized by load: a commit at most every COMMIT_GAP_MS.  Under
 * light load the gap has passed and the turn commits at once; under load
 * the writes of the turns within the gap share one commit (one WAL write
 * and fsync), and their acks wait for it as they always wait for the
 * commit that covers them.  True when this turn's commit is put off (a
 * timer ends the wait). */
static bool commit_put_off(relay *r)
{
    if (r->stopping || !relay_store_in_tx(r->store))
        return false;
    uint64_t now = uv_now(r->loop);
    if (now >= r->last_commit_ms + COMMIT_GAP_MS)
        return false;
    if (!uv_is_active((uv_handle_t *)&r->commit_timer))
        uv_timer_start(&r->commit_timer, on_commit_timer, r->last_commit_ms + COMMIT_GAP_MS - now,
                       0);
    return true;
}

static void on_commit_check(uv_check_t *h)
{
    relay *r = h->data;
    /* What is asked for from here on is for the next turn. */
    r->wake_requested = false;
    if (commit_put_off(r)) {
        uv_idle_stop(&r->wake);
        return;
    }
    uv_update_time(r->loop);
    r->last_commit_ms = uv_now(r->loop);
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
        /* A commit put off under load (commit_put_off()) has its timer to
         * end the poll: spinning until then would only burn the gap. */
        if (!uv_is_active((uv_handle_t *)&r->commit_timer))
            uv_idle_start(&r->wake, on_wake);
    }
}

/* ---- the go-between of the county link and the station side ------------- */

/* The county link went up (the county's Welcome came) or down: recorded
 * for status and Welcome, and told to the open station and desk links of
 * a change. */
static void up_state_changed(void *arg, bool online)
{
    relay *r = arg;
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

static void up_result_ready(void *arg, const char *origin_node, const uint8_t id[16],
                            const uint8_t *ack, size_t len)
{
    relay *r = arg;
    if (r->down)
        relay_downstream_result_ready(r->down, origin_node, id, ack, len);
}

static void up_feed_changed(void *arg, const char *village)
{
    relay *r = arg;
    if (r->down)
        relay_downstream_feed_changed(r->down, village);
}

static void up_query_result(void *arg, Sanji__QueryResult *res)
{
    relay *r = arg;
    if (r->down)
        relay_downstream_query_result(r->down, res);
}

static void down_queued(void *arg)
{
    relay *r = arg;
    if (r->up)
        relay_upstream_queued(r->up);
}

static int down_forward(void *arg, const uint8_t *payload, size_t len, sj_error *err)
{
    relay *r = arg;
    if (r->up == NULL)
        return sj_error_set(err, SJ_EUPSTREAM_DOWN, "county link is down");
    return relay_upstream_forward(r->up, payload, len, err);
}

/* ---- the PKI on live links ------------------------------------------------- */

/* Where the CRL the county sent is kept: next to the store, in the state
 * directory the relay may write (under systemd /etc is read-only), as the
 * DER the county sent.  tls.crl stays the operator's file. */
#define CRL_COPY_SUFFIX ".crl"

/* Cuts every link whose peer has expired or is revoked by the CRL in
 * force: the stations' and desks', and the county's.  Wall-clock time, as
 * the handshake judges it. */
static void recheck_links(relay *r)
{
    int64_t now = (int64_t)time(NULL);
    if (r->down)
        sj_listener_recheck_peers(relay_downstream_listener(r->down), now, sj_conn_log_cut,
                                  (void *)MOD);
    sj_conn *up = r->up ? relay_upstream_conn(r->up) : NULL;
    sj_error why;
    if (up && sj_conn_recheck_peer(up, now, &why) != 0)
        sj_conn_log_cut(up, &why, (void *)MOD);
}

/* Offers a CRL to both contexts, the stations' listener's and the county
 * link's, so that one CRL is in force for both; each that takes it logs
 * msg (one line per context, as operators and tests read them).  Returns 0
 * when a context took it, else the first refusal that is not SJ_EEXISTS,
 * else SJ_EEXISTS, with err saying why. */
static int offer_crl(relay *r, const void *data, size_t len, const char *msg, const char *source,
                     sj_error *err)
{
    const struct {
        sj_tls_ctx *ctx;
        const char *which;
    } to[] = {{r->server_tls, "stations"}, {r->client_tls, "county"}};
    int rc = SJ_EEXISTS;
    sj_error first;
    sj_error_clear(&first);
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {
        sj_tls_crl_info in;
        sj_error e;
        int one = sj_tls_ctx_offer_crl(to[i].ctx, data, len, &in, &e);
        if (one == 0) {
            char number[24], revoked[24];
            snprintf(number, sizeof number, "%" PRIu64, in.number);
            snprintf(revoked, sizeof revoked, "%zu", in.revoked);
            SJ_LOG_INFO(MOD, msg, "source", source, "for", to[i].which, "number", number,
                        "revoked", revoked);
            rc = 0;
        } else if (first.code == SJ_EOK || (first.code == SJ_EEXISTS && one != SJ_EEXISTS)) {
            first = e;
        }
    }
    if (rc == 0 && first.code != SJ_EOK && first.code != SJ_EEXISTS)
        SJ_LOG_ERROR(MOD, "the CRL is not in force for every link", "why", first.message);
    if (rc != 0) {
        rc = first.code;
        if (err != NULL)
            *err = first;
    }
    return rc;
}

/* A CRL file read whole (common/base/fileio.c) up to this size: the
 * county's CRL for a few thousand stations is far smaller; a larger file is
 * not a CRL of this PKI. */
#define CRL_FILE_MAX (64u << 20)

/* Replaces path with data so that a crash leaves the old file or the new
 * one, never a part: a temporary file beside it, synced, renamed over it,
 * and the directory synced. */
static int write_file_atomic(const char *path, const uint8_t *data, size_t len, sj_error *err)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return sj_error_set(err, SJ_EINVAL, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sj_error_set(err, SJ_EIO, "%s: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int e = off == len && fsync(fd) == 0 ? 0 : errno ? errno : EIO;
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0 && rename(tmp, path) != 0)
        e = errno;
    if (e != 0) {
        unlink(tmp);
        return sj_error_set(err, SJ_EIO, "%s: %s", path, strerror(e));
    }
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* the rename is durable; a failure here only risks the old copy */
        close(dfd);
    }
    return 0;
}

static void crl_copy_path(const relay *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s" CRL_COPY_SUFFIX, r->cfg->store_path);
}

/* At start: the county's CRL kept from an earlier run, if it is newer than
 * tls.crl. */
static void adopt_kept_crl(relay *r)
{
    char path[PATH_MAX];
    crl_copy_path(r, path, sizeof path);
    uint8_t *data;
    size_t len;
    sj_error err;
    int rc = sj_file_read_all(path, CRL_FILE_MAX, &data, &len, &err);
    if (rc == SJ_ENOTFOUND)
        return;
    if (rc == 0)
        rc = offer_crl(r, data, len,
                       "吊销列表：使用县里上次发来的 (CRL in force: the county's, kept from before)",
                       path, &err);
    free(data);
    if (rc != 0 && rc != SJ_EEXISTS)
        SJ_LOG_WARN(MOD, "the county's CRL kept from before is not used", "file", path, "why",
                    err.message);
}

void relay_reload_crl(relay *r, const char *trigger)
{
    if (r->cfg->crl_file != NULL && *r->cfg->crl_file) {
        uint8_t *data;
        size_t len;
        sj_error err;
        int rc = sj_file_read_all(r->cfg->crl_file, CRL_FILE_MAX, &data, &len, &err);
        if (rc == 0)
            rc = offer_crl(r, data, len, "吊销列表已重新加载 (CRL reloaded)", r->cfg->crl_file,
                           &err);
        free(data);
        if (rc == SJ_EEXISTS && strcmp(trigger, "SIGHUP") == 0)
            SJ_LOG_INFO(MOD, "tls.crl 不比现用的吊销列表新，现用的仍有效 (tls.crl is not "
                             "newer than the CRL in force; that one stays)",
                        "file", r->cfg->crl_file, "why", err.message);
        else if (rc == SJ_EEXISTS)
            SJ_LOG_DEBUG(MOD, "tls.crl is not newer than the CRL in force", "trigger", trigger,
                         "why", err.message);
        else if (rc != 0)
            SJ_LOG_ERROR(MOD, "吊销列表重新加载失败，旧列表仍有效 (CRL reload failed; the old one "
                              "stays in force)",
                         "file", r->cfg->crl_file, "trigger", trigger, "why", err.message);
    }
    recheck_links(r);
}

void relay_crl_received(relay *r, const uint8_t *crl, size_t len)
{
    sj_error err;
    int rc = offer_crl(r, crl, len, "吊销列表已更新 (CRL from the county in force)", "county",
                       &err);
    if (rc == SJ_EEXISTS) {
        SJ_LOG_DEBUG(MOD, "the county's CRL is the one in force already", "why", err.message);
        return;
    }
    if (rc != 0) {
        SJ_LOG_WARN(MOD, "县里发来的吊销列表无效，已忽略 (the CRL from the county is refused)", "code",
                    sj_err_name(rc), "why", err.message);
        return;
    }
    /* In force first, kept second: a disk that cannot take it must not
     * keep a revoked station connected.  A relay restarted before the next
     * copy starts from tls.crl and gets this one again on its county link. */
    char path[PATH_MAX];
    crl_copy_path(r, path, sizeof path);
    if (write_file_atomic(path, crl, len, &err) != 0)
        SJ_LOG_ERROR(MOD, "the county's CRL is in force but not kept", "why", err.message);
    recheck_links(r);
}

static void on_crl_timer(uv_timer_t *t)
{
    relay *r = t->data;
    if (!r->stopping)
        relay_reload_crl(r, "tls.crl_reload");
}

static void add_station_link(sj_conn *conn, void *arg)
{
    const sj_identity *peer = sj_conn_peer(conn);
    sj_linkctl_add_conn(arg, peer && peer->role == SJ_NODE_ROLE_VILLAGE ? "station" : "desk",
                        conn);
}

static void collect_links(void *arg, sj_linkctl_list *list)
{
    relay *r = arg;
    sj_conn *up = r->up ? relay_upstream_conn(r->up) : NULL;
    if (up)
        sj_linkctl_add_conn(list, "county", up);
    if (r->down)
        sj_listener_each(relay_downstream_listener(r->down), add_station_link, list);
}

/* ---- ticks --------------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
    relay *r = t->data;
    r->ticks++;
    write_status(r);
    relay_metrics_queue(r->store);
    /* Certificates that expired since the last tick (link.heartbeat). */
    recheck_links(r);
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

static int mark_offline(void *arg, const relay_station *station)
{
    relay *r = arg;
    sj_error err;
    /* Every station the relay ever linked is a series, linked or not. */
    sj_metrics_link(station->node, false, station->last_seen_ms);
    if (station->cert_not_after_ms)
        sj_metrics_cert(station->node, station->cert_not_after_ms / 1000);
    if (!station->connected)
        return 0;
    relay_station row = *station;
    row.connected = false;
    return relay_store_station_put(r->store, &row, &err);
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
    adopt_kept_crl(r);
    return 0;
}

/* The relay's own handles on the loop: the per-turn commit check, the
 * wake-up idle, the commit timer, the tick and the tls.crl reload timer
 * (relay_stop() closes each). */
static void start_handles(relay *r, uv_loop_t *loop)
{
    const relay_config *cfg = r->cfg;
    uv_check_init(loop, &r->commit_check);
    r->commit_check.data = r;
    uv_check_start(&r->commit_check, on_commit_check);
    uv_idle_init(loop, &r->wake);
    r->wake.data = r;
    uv_timer_init(loop, &r->commit_timer);
    r->commit_timer.data = r;
    uv_timer_init(loop, &r->tick);
    r->tick.data = r;
    uv_timer_start(&r->tick, on_tick, cfg->heartbeat_ms, cfg->heartbeat_ms);
    uv_timer_init(loop, &r->crl_timer);
    r->crl_timer.data = r;
    if (cfg->crl_file != NULL && *cfg->crl_file)
        uv_timer_start(&r->crl_timer, on_crl_timer, cfg->crl_reload_ms, cfg->crl_reload_ms);
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
    relay_metrics_register();
    sj_tls_cert_info own;
    if (sj_tls_ctx_own_cert(r->server_tls, &own) == 0) {
        meta_int(r, "cert_not_after_ms", own.not_after * 1000);
        sj_metrics_cert(r->self.node_id, own.not_after);
    }
    write_status(r);
    relay_store_station_each(r->store, mark_offline, r, err);
    relay_metrics_queue(r->store);
    sj_metrics_link(cfg->county_node, false, r->started_at_ms);
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
    start_handles(r, loop);
    r->open_parts = 3;
    const relay_downstream_events dev = {.arg = r, .queued = down_queued,
                                         .forward = down_forward};
    if ((rc = relay_downstream_start(r, &dev, &r->down, err)) != 0) {
        relay_stop(r, NULL);
        return rc;
    }
    const relay_upstream_events uev = {.arg = r,
                                       .state_changed = up_state_changed,
                                       .result_ready = up_result_ready,
                                       .feed_changed = up_feed_changed,
                                       .query_result = up_query_result};
    if ((rc = relay_upstream_start(r, &uev, &r->up, err)) != 0) {
        relay_stop(r, NULL);
        return rc;
    }
    char links_name[SJ_LINKCTL_NAME_MAX];
    relay_config_links_socket(cfg->store_path, links_name);
    sj_error lc_err;
    r->linkctl = sj_linkctl_start(loop, links_name, r->self.node_id, collect_links, r, &lc_err);
    if (r->linkctl == NULL) /* the relay goes on; only `sanji-relayctl links` cannot answer */
        SJ_LOG_WARN(MOD, "no list of links for sanji-relayctl links", "why", lc_err.message);
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
    uv_close((uv_handle_t *)&r->commit_timer, NULL);
    uv_close((uv_handle_t *)&r->crl_timer, NULL);
    sj_linkctl_close(r->linkctl);
    r->linkctl = NULL;
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
