/*
 * status.c - the relay's NodeStatus, collected from the store, and its
 * printed form for sanji-relayctl.  See status.h.
 *
 * Entry points: relay_status_collect(), relay_status_release(),
 * relay_status_print(), relay_status_note_login_failures(),
 * relay_status_note_presence(), relay_status_forwarded().
 */
#include "status.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "login_report.h"
#include "orgunit.h"

/* The meta key of a station's wrong passwords not yet passed on. */
static void login_key(const char *station, char *key, size_t cap)
{
    snprintf(key, cap, "login_report:%s", station);
}

/* The meta key of a station's presence: "<logged_in> <last_login_ms>". */
static void presence_key(const char *station, char *key, size_t cap)
{
    snprintf(key, cap, "presence:%s", station);
}

static int64_t meta_int(relay_store *st, const char *key)
{
    char buf[32];
    if (relay_store_meta_get(st, key, buf, sizeof buf) != 0)
        return 0;
    return strtoll(buf, NULL, 10);
}

typedef struct collector {
    relay_store *st;
    Sanji__NodeStatus *ns;
    const char *scope;
    size_t cap_st, cap_cur;
} collector;

/* A new station entry of c's status for node ("" for a village never
 * seen), its org_unit the node's unit; NULL when out of memory.  Strings
 * are always malloc'd (relay_status_release() frees them). */
static Sanji__StationStatus *new_station(collector *c, const char *node)
{
    Sanji__NodeStatus *ns = c->ns;
    if (ns->n_stations == c->cap_st) {
        size_t cap = c->cap_st ? c->cap_st * 2 : 16;
        Sanji__StationStatus **n = realloc(ns->stations, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        ns->stations = n;
        c->cap_st = cap;
    }
    Sanji__StationStatus *s = malloc(sizeof *s);
    if (s == NULL)
        return NULL;
    sanji__station_status__init(s);
    const char *colon = strchr(node, ':');
    s->node = strdup(node);
    s->org_unit = strndup(colon ? colon + 1 : "", 12);
    ns->stations[ns->n_stations++] = s;
    return s->node && s->org_unit ? s : NULL;
}

static int add_station(void *arg, const relay_station *station)
{
    collector *c = arg;
    const char *node = station->node;
    if (c->scope) {
        const char *unit = strchr(node, ':');
        char code[RELAY_UNIT_SIZE] = "";
        if (unit)
            snprintf(code, sizeof code, "%.12s", unit + 1);
        if (!sj_orgunit_contains(c->scope, code))
            return 0;
    }
    Sanji__StationStatus *s = new_station(c, node);
    if (s == NULL)
        return SJ_ENOMEM;
    s->connected = station->connected;
    s->last_seen_ms = station->last_seen_ms;
    s->outbox_depth = station->outbox_depth;
    s->cert_not_after_ms = station->cert_not_after_ms;
    char key[RELAY_NODE_MAX + 16], report[SJ_LOGIN_REPORT_SIZE];
    presence_key(node, key, sizeof key);
    unsigned logged_in = 0;
    long long last_login = 0;
    if (relay_store_meta_get(c->st, key, report, sizeof report) == 0 &&
        sscanf(report, "%u %lld", &logged_in, &last_login) == 2) {
        s->logged_in = logged_in;
        s->last_login_ms = last_login;
    }
    login_key(node, key, sizeof key);
    if (relay_store_meta_get(c->st, key, report, sizeof report) != 0)
        report[0] = '\0';
    s->failed_logins = sj_login_report_total(report);
    return sj_login_report_parse(report, &s->login_failures, &s->n_login_failures);
}

static int add_cursor(void *arg, const char *village, uint64_t seq)
{
    collector *c = arg;
    Sanji__NodeStatus *ns = c->ns;
    if (c->scope && !sj_orgunit_contains(c->scope, village))
        return 0;
    if (ns->n_cursors == c->cap_cur) {
        size_t cap = c->cap_cur ? c->cap_cur * 2 : 16;
        Sanji__FeedCursor **n = realloc(ns->cursors, cap * sizeof *n);
        if (n == NULL)
            return SJ_ENOMEM;
        ns->cursors = n;
        c->cap_cur = cap;
    }
    Sanji__FeedCursor *fc = malloc(sizeof *fc);
    if (fc == NULL)
        return SJ_ENOMEM;
    sanji__feed_cursor__init(fc);
    fc->village = strdup(village);
    fc->after_seq = seq;
    ns->cursors[ns->n_cursors++] = fc;
    return fc->village ? 0 : SJ_ENOMEM;
}

int relay_status_collect(relay_store *st, const char *scope_unit, Sanji__NodeStatus *ns,
                         sj_error *err)
{
    sanji__node_status__init(ns);
    const char *node = relay_store_node_id(st);
    ns->node = strdup(node);
    ns->role = SANJI__NODE_ROLE__NODE_ROLE_RELAY;
    const char *colon = strchr(node, ':');
    ns->org_unit = strdup(colon ? colon + 1 : "");
    char sw[64] = "";
    relay_store_meta_get(st, "software", sw, sizeof sw);
    ns->software = strdup(sw);
    if (!ns->node || !ns->org_unit || !ns->software) {
        relay_status_release(ns);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    ns->upstream_online = meta_int(st, "upstream_online") != 0;
    ns->upstream_last_contact_ms = meta_int(st, "upstream_last_contact_ms");
    ns->started_at_ms = meta_int(st, "started_at_ms");
    ns->queue_quota_bytes = (uint64_t)meta_int(st, "queue_quota_bytes");
    ns->reported_at_ms = meta_int(st, "status_at_ms");
    ns->cert_not_after_ms = meta_int(st, "cert_not_after_ms");
    relay_queue_stats qs;
    int rc = relay_store_queue_stats(st, &qs, err);
    if (rc == 0) {
        ns->queue_depth = qs.depth;
        ns->queue_bytes = qs.bytes;
        int64_t now = sj_clock_real_ms();
        ns->oldest_queued_age_ms =
            qs.oldest_stored_at_ms > 0 && now > qs.oldest_stored_at_ms ? now - qs.oldest_stored_at_ms
                                                                       : 0;
        collector c = {st, ns, scope_unit, 0, 0};
        rc = relay_store_station_each(st, add_station, &c, err);
        if (rc == 0)
            rc = relay_store_cursor_each(st, add_cursor, &c, err);
        if (rc == SJ_ENOMEM)
            sj_error_set(err, SJ_ENOMEM, NULL);
    }
    if (rc != 0)
        relay_status_release(ns);
    return rc;
}

void relay_status_release(Sanji__NodeStatus *ns)
{
    free(ns->node);
    free(ns->org_unit);
    free(ns->software);
    for (size_t i = 0; i < ns->n_stations; i++) {
        free(ns->stations[i]->node);
        sj_login_report_free(ns->stations[i]->login_failures, ns->stations[i]->n_login_failures);
        free(ns->stations[i]->org_unit);
        free(ns->stations[i]);
    }
    free(ns->stations);
    for (size_t i = 0; i < ns->n_cursors; i++) {
        free(ns->cursors[i]->village);
        free(ns->cursors[i]);
    }
    free(ns->cursors);
    sanji__node_status__init(ns);
}

static void print_time(FILE *out, int64_t ms, int64_t now_ms)
{
    if (ms <= 0) {
        fputs("从未 (never)", out);
        return;
    }
    char buf[SJ_CLOCK_ISO_SIZE];
    sj_clock_format_china(ms, buf, sizeof buf);
    fprintf(out, "%s (%llds ago)", buf, (long long)((now_ms - ms) / 1000));
}

void relay_status_print(FILE *out, const Sanji__NodeStatus *ns, int64_t now_ms)
{
    fprintf(out, "中继 (relay): %s  %s\n", ns->node, ns->software ? ns->software : "");
    fputs("启动于 (started): ", out);
    print_time(out, ns->started_at_ms, now_ms);
    fputs("\n状态写入于 (status written): ", out);
    print_time(out, ns->reported_at_ms, now_ms);
    fprintf(out, "\n县链路 (county link): %s\n",
            ns->upstream_online ? "在线 (up)" : "断开 (down)");
    fputs("最后联系 (last contact): ", out);
    print_time(out, ns->upstream_last_contact_ms, now_ms);
    fprintf(out, "\n队列 (queue): %u 条 (messages), %llu / %llu 字节 (bytes)\n", ns->queue_depth,
            (unsigned long long)ns->queue_bytes, (unsigned long long)ns->queue_quota_bytes);
    fprintf(out, "最早排队 (oldest queued): %lld s\n",
            (long long)(ns->oldest_queued_age_ms / 1000));
    fprintf(out, "村站与乡镇终端 (stations and desks): %zu\n", ns->n_stations);
    for (size_t i = 0; i < ns->n_stations; i++) {
        const Sanji__StationStatus *s = ns->stations[i];
        fprintf(out, "  %-40s %-16s outbox=%u last_seen=", s->node,
                s->connected ? "已连接 (connected)" : "未连接 (offline)", s->outbox_depth);
        print_time(out, s->last_seen_ms, now_ms);
        if (s->logged_in)
            fprintf(out, " 有人登录 (logged in)=%u", s->logged_in);
        if (s->failed_logins)
            fprintf(out, " 密码错误待上报 (wrong passwords not yet reported)=%u", s->failed_logins);
        fputc('\n', out);
    }
    fprintf(out, "各村下行游标 (feed cursors): %zu\n", ns->n_cursors);
    for (size_t i = 0; i < ns->n_cursors; i++)
        fprintf(out, "  %s  %llu\n", ns->cursors[i]->village,
                (unsigned long long)ns->cursors[i]->after_seq);
}

int relay_status_note_login_failures(relay_store *st, const char *station,
                                     Sanji__LoginFailures *const *lf, size_t n, sj_error *err)
{
    char key[RELAY_NODE_MAX + 16], report[SJ_LOGIN_REPORT_SIZE];
    login_key(station, key, sizeof key);
    if (relay_store_meta_get(st, key, report, sizeof report) != 0)
        report[0] = '\0';
    for (size_t i = 0; i < n; i++)
        sj_login_report_add(report, lf[i]->person, lf[i]->count, lf[i]->in_a_row,
                            lf[i]->last_at_ms);
    return relay_store_meta_set(st, key, report, err);
}

int relay_status_note_presence(relay_store *st, const char *station, uint32_t logged_in,
                               int64_t last_login_ms, sj_error *err)
{
    char key[RELAY_NODE_MAX + 16], value[48];
    presence_key(station, key, sizeof key);
    snprintf(value, sizeof value, "%u %lld", (unsigned)logged_in, (long long)last_login_ms);
    return relay_store_meta_set(st, key, value, err);
}

int relay_status_forwarded(relay_store *st, const Sanji__NodeStatus *ns, sj_error *err)
{
    for (size_t i = 0; i < ns->n_stations; i++) {
        if (ns->stations[i]->n_login_failures == 0)
            continue;
        char key[RELAY_NODE_MAX + 16];
        login_key(ns->stations[i]->node, key, sizeof key);
        int rc = relay_store_meta_set(st, key, "", err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int relay_status_add_unseen(relay_store *st, const char *scope_unit, Sanji__NodeStatus *ns,
                            sj_error *err)
{
    uint64_t version;
    uint8_t *blob = NULL;
    size_t len;
    int rc = relay_store_ref_get(st, RELAY_REF_ORG_TREE, &version, &blob, &len, err);
    if (rc != 0 || blob == NULL)
        return rc;
    Sanji__OrgTreeSync *tree = sanji__org_tree_sync__unpack(NULL, len, blob);
    free(blob);
    if (tree == NULL)
        return sj_error_set(err, SJ_ESTORE_CORRUPT, "stored org tree does not decode");
    /* The stations array holds exactly n_stations: grow from there. */
    collector c = {st, ns, scope_unit, ns->n_stations, 0};
    size_t seen = ns->n_stations;
    for (size_t i = 0; rc == 0 && i < tree->n_units; i++) {
        const Sanji__OrgUnit *u = tree->units[i];
        if (u->level != SANJI__LEVEL__LEVEL_VILLAGE || !sj_orgunit_contains(scope_unit, u->code))
            continue;
        bool found = false;
        for (size_t j = 0; j < seen && !found; j++)
            found = strcmp(ns->stations[j]->org_unit, u->code) == 0;
        if (found)
            continue;
        Sanji__StationStatus *s = new_station(&c, "");
        if (s == NULL) {
            rc = sj_error_set(err, SJ_ENOMEM, NULL);
            break;
        }
        free(s->org_unit);
        if ((s->org_unit = strdup(u->code)) == NULL)
            rc = sj_error_set(err, SJ_ENOMEM, NULL);
        s->never_connected = true;
    }
    sanji__org_tree_sync__free_unpacked(tree, NULL);
    return rc;
}
