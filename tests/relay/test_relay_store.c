/*
 * test_relay_store.c - unit tests of relay/store.c against real SQLite files
 * in a temporary directory: creation and the start-up checks (a damaged
 * file, a foreign file, a store of another relay), the queue (order, dedup,
 * quota, durability only after commit, removal of a found item), results,
 * the feed with its cursor rules (kept in memory, undone by a rollback),
 * the case cache, reference data, read-only opening, the stations with their certificate expiry across the format 2 -> 3 upgrade,
 * the queue's two lanes (case messages, attachment chunks) across the
 * format 4 -> 5 upgrade, the settling of queued messages by the county's
 * result (format 6: the result row settles, the queue row is deleted
 * later, a rollback undoes both), and the format 5 -> 6 upgrade (queue,
 * lanes, results and their delivery intact; a failed upgrade leaves
 * format 5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

#define NODE "relay:410423101000"

typedef struct fixture {
    char dir[64];
    char path[160];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sj-relay-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/relay.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static relay_store *open_ok(const fixture *f)
{
    relay_store *st = NULL;
    sj_error err;
    int rc = relay_store_open(f->path, NODE, &st, &err);
    if (rc != 0)
        fail_msg("open: %s: %s", sj_err_name(rc), err.message);
    return st;
}

static void fill_id(uint8_t id[16], int n)
{
    memset(id, 0, 16);
    id[0] = 0x01;
    id[15] = (uint8_t)n;
    id[14] = (uint8_t)(n >> 8);
}

static int add_msg(relay_store *st, int n, size_t len, uint64_t quota, sj_error *err)
{
    uint8_t payload[4096];
    memset(payload, 'a' + n % 26, sizeof payload);
    relay_queue_item it;
    memset(&it, 0, sizeof it);
    fill_id(it.message_id, n);
    fill_id(it.case_id, 1000 + n);
    snprintf(it.origin_node, sizeof it.origin_node, "village:410423101201");
    snprintf(it.village, sizeof it.village, "410423101201");
    it.payload = payload;
    it.len = len;
    return relay_store_queue_add(st, &it, quota, 1000 + n, err);
}

/* ---- opening and checking ------------------------------------------------ */

static void test_new_store_reopens(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    assert_string_equal(relay_store_node_id(st), NODE);
    relay_store_close(st);
    st = open_ok(f);
    relay_store_close(st);
}

static void test_store_of_another_relay_refused(void **state)
{
    fixture *f = *state;
    relay_store_close(open_ok(f));
    relay_store *st = NULL;
    sj_error err;
    int rc = relay_store_open(f->path, "relay:410423102000", &st, &err);
    assert_int_equal(rc, SJ_ESTORE_FOREIGN);
    assert_null(st);
    assert_non_null(strstr(err.message, "relay:410423101000"));
    /* Refusing changed nothing: the right relay still opens it. */
    relay_store_close(open_ok(f));
}

static void test_foreign_sqlite_file_refused(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    relay_store *st = NULL;
    sj_error err;
    assert_int_equal(relay_store_open(f->path, NODE, &st, &err), SJ_ESTORE_FOREIGN);
    /* The foreign table is still there: nothing was reset. */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "SELECT x FROM t", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_not_a_database_refused(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->path, "w");
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite file at all\n", fp);
    fclose(fp);
    relay_store *st = NULL;
    sj_error err;
    int rc = relay_store_open(f->path, NODE, &st, &err);
    assert_int_equal(rc, SJ_ESTORE_CORRUPT);
    assert_non_null(strstr(err.message, "备份"));
}

static void test_damaged_pages_refused(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    for (int i = 0; i < 300; i++)
        assert_int_equal(add_msg(st, i, 1000, 0, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_store_close(st); /* the last close checkpoints the WAL into the file */
    FILE *fp = fopen(f->path, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    assert_true(size > 64 * 1024);
    /* Scribble over the middle of the file, page headers included. */
    for (long off = 8192; off < size - 4096; off += 4096) {
        fseek(fp, off, SEEK_SET);
        fwrite("\xff\xfe\xfd\xfc\x00\x13\x37garbage", 1, 14, fp);
    }
    fclose(fp);
    st = NULL;
    int rc = relay_store_open(f->path, NODE, &st, &err);
    assert_int_equal(rc, SJ_ESTORE_CORRUPT);
    assert_null(st);
}

/* ---- queue --------------------------------------------------------------- */

static void test_queue_order_and_remove(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    for (int i = 1; i <= 5; i++)
        assert_int_equal(add_msg(st, i, 100, 0, &err), 0);
    relay_queue_item it;
    int64_t after = 0;
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(relay_store_queue_next(st, RELAY_LANE_MESSAGE, after, &it, &err), 0);
        uint8_t want[16];
        fill_id(want, i);
        assert_memory_equal(it.message_id, want, 16);
        assert_int_equal(it.len, 100);
        assert_string_equal(it.origin_node, "village:410423101201");
        after = it.seq;
        free(it.payload);
    }
    assert_int_equal(relay_store_queue_next(st, RELAY_LANE_MESSAGE, after, &it, &err), SJ_ENOTFOUND);
    uint8_t id3[16];
    fill_id(id3, 3);
    assert_int_equal(relay_store_queue_remove(st, id3, &err), 0);
    assert_int_equal(relay_store_queue_remove(st, id3, &err), SJ_ENOTFOUND);
    relay_queue_stats qs;
    assert_int_equal(relay_store_queue_stats(st, &qs, &err), 0);
    assert_int_equal(qs.depth, 4);
    assert_int_equal(qs.bytes, 400);
    assert_int_equal(qs.oldest_stored_at_ms, 1001);
    relay_store_close(st);
}

static void test_queue_duplicate_not_stored_twice(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    assert_int_equal(add_msg(st, 7, 100, 0, &err), 0);
    assert_int_equal(add_msg(st, 7, 100, 0, &err), SJ_EEXISTS);
    /* The refused insert leaves the turn's transaction going: what it
     * holds is committed. */
    assert_int_equal(add_msg(st, 8, 50, 0, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_queue_stats qs;
    assert_int_equal(relay_store_queue_stats(st, &qs, &err), 0);
    assert_int_equal(qs.depth, 2);
    assert_int_equal(qs.bytes, 150);
    /* The quota's bookkeeping did not count the duplicate. */
    assert_int_equal(add_msg(st, 9, 50, 200, &err), 0);
    relay_store_close(st);
}

static void test_queue_quota_refuses_new_keeps_old(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    assert_int_equal(add_msg(st, 1, 400, 1000, &err), 0);
    assert_int_equal(add_msg(st, 2, 400, 1000, &err), 0);
    assert_int_equal(add_msg(st, 3, 400, 1000, &err), SJ_EQUOTA);
    assert_non_null(strstr(err.message, "队列已满"));
    /* A message already queued is STORED again even with the queue full. */
    assert_int_equal(add_msg(st, 2, 400, 1000, &err), SJ_EEXISTS);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_store_close(st);
    /* Reopened, the quota is computed from what is stored. */
    st = open_ok(f);
    assert_int_equal(add_msg(st, 3, 400, 1000, &err), SJ_EQUOTA);
    uint8_t id1[16];
    fill_id(id1, 1);
    assert_int_equal(relay_store_queue_remove(st, id1, &err), 0);
    assert_int_equal(add_msg(st, 3, 400, 1000, &err), 0);
    relay_queue_stats qs;
    assert_int_equal(relay_store_queue_stats(st, &qs, &err), 0);
    assert_int_equal(qs.depth, 2);
    relay_store_close(st);
}

/* The county's ack path: the item found (with its payload's length) is
 * removed by one statement, and the quota gets its bytes back. */
static void test_queue_remove_found(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    assert_int_equal(add_msg(st, 1, 300, 0, &err), 0);
    assert_int_equal(add_msg(st, 2, 200, 0, &err), 0);
    uint8_t id1[16];
    fill_id(id1, 1);
    relay_queue_item it;
    assert_int_equal(relay_store_queue_find(st, id1, &it, &err), 0);
    assert_int_equal(it.len, 300);
    assert_int_equal(relay_store_queue_remove_found(st, &it, &err), 0);
    assert_int_equal(relay_store_queue_remove_found(st, &it, &err), SJ_ENOTFOUND);
    assert_int_equal(relay_store_queue_find(st, id1, &it, &err), SJ_ENOTFOUND);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_queue_stats qs;
    assert_int_equal(relay_store_queue_stats(st, &qs, &err), 0);
    assert_int_equal(qs.depth, 1);
    assert_int_equal(qs.bytes, 200);
    /* 200 queued: 300 more fit a quota of 500 only if the 300 came back. */
    assert_int_equal(add_msg(st, 3, 300, 500, &err), 0);
    relay_store_close(st);
}

static void test_queue_durable_only_after_commit(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    assert_int_equal(add_msg(st, 1, 10, 0, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    assert_int_equal(add_msg(st, 2, 10, 0, &err), 0);
    assert_true(relay_store_in_tx(st));
    relay_store_close(st); /* not committed: message 2 is gone */
    st = open_ok(f);
    relay_queue_stats qs;
    assert_int_equal(relay_store_queue_stats(st, &qs, &err), 0);
    assert_int_equal(qs.depth, 1);
    assert_int_equal(qs.bytes, 10);
    relay_store_close(st);
}

/* ---- results ------------------------------------------------------------- */

typedef struct seen {
    int n;
    uint8_t ids[8][16];
} seen;

static int collect(void *arg, const uint8_t id[16], const uint8_t *ack, size_t len)
{
    seen *s = arg;
    memcpy(s->ids[s->n++], id, 16);
    return 0;
}

static void test_results_delivery_and_expiry(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    uint8_t a[16], b[16], c[16], cid[16];
    fill_id(a, 1);
    fill_id(b, 2);
    fill_id(c, 3);
    fill_id(cid, 99);
    const uint8_t ack[] = {0x08, 0x02};
    assert_int_equal(relay_store_result_put(st, a, "village:410423101201", "410423101201", cid,
                                            ack, sizeof ack, 100, &err),
                     0);
    assert_int_equal(relay_store_result_put(st, b, "village:410423101201", "410423101201", cid,
                                            ack, sizeof ack, 200, &err),
                     0);
    assert_int_equal(relay_store_result_put(st, c, "village:410423101202", "410423101202", cid,
                                            ack, sizeof ack, 300, &err),
                     0);
    seen s = {0};
    assert_int_equal(
        relay_store_result_each_undelivered(st, "village:410423101201", collect, &s, &err), 0);
    assert_int_equal(s.n, 2);
    assert_memory_equal(s.ids[0], a, 16);
    assert_int_equal(relay_store_result_mark_delivered(st, a, &err), 0);
    memset(&s, 0, sizeof s);
    relay_store_result_each_undelivered(st, "village:410423101201", collect, &s, &err);
    assert_int_equal(s.n, 1);
    assert_memory_equal(s.ids[0], b, 16);
    uint8_t *got;
    size_t len;
    char village[RELAY_UNIT_SIZE];
    assert_int_equal(relay_store_result_get(st, a, &got, &len, village, &err), 0);
    assert_int_equal(len, sizeof ack);
    assert_memory_equal(got, ack, len);
    assert_string_equal(village, "410423101201");
    free(got);
    size_t removed = 0;
    assert_int_equal(relay_store_result_expire(st, 250, &removed, &err), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(relay_store_result_get(st, a, &got, &len, NULL, &err), SJ_ENOTFOUND);
    assert_int_equal(relay_store_result_get(st, c, &got, &len, NULL, &err), 0);
    free(got);
    relay_store_close(st);
}

/* ---- feed and cache ------------------------------------------------------ */

static int put_update(relay_store *st, const char *village, uint64_t seq, int case_n,
                      uint64_t version, sj_error *err)
{
    uint8_t cid[16];
    fill_id(cid, case_n);
    Sanji__Case c = SANJI__CASE__INIT;
    c.case_id.data = cid;
    c.case_id.len = 16;
    c.village = (char *)village;
    c.version = version;
    c.number = (char *)"410423-20260213-0001";
    c.status = SANJI__CASE_STATUS__CASE_STATUS_REGISTERED;
    Sanji__CaseEvent e = SANJI__CASE_EVENT__INIT;
    e.case_id = c.case_id;
    e.seq = (uint32_t)version;
    e.action = SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER;
    Sanji__FeedUpdate u = SANJI__FEED_UPDATE__INIT;
    u.village = (char *)village;
    u.seq = seq;
    u.snapshot = &c;
    u.event = &e;
    return relay_store_feed_put(st, &u, err);
}

static int count_events(void *arg, const Sanji__CaseEvent *e)
{
    (*(int *)arg)++;
    return 0;
}

static void test_feed_cursor_rules(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    const char *v = "410423101201";
    assert_int_equal(relay_store_cursor_get(st, v), 0);
    assert_int_equal(put_update(st, v, 2, 1, 1, &err), SJ_EAGAIN); /* gap */
    assert_int_equal(relay_store_cursor_get(st, v), 0);
    assert_int_equal(put_update(st, v, 1, 1, 1, &err), 0);
    assert_int_equal(put_update(st, v, 1, 1, 1, &err), SJ_EEXISTS); /* duplicate */
    assert_int_equal(put_update(st, v, 2, 1, 2, &err), 0);
    assert_int_equal(relay_store_cursor_get(st, v), 2);
    assert_int_equal(relay_store_commit(st, &err), 0);
    /* A cursor moved in a transaction that is rolled back is back too (the
     * store keeps cursors in memory). */
    assert_int_equal(put_update(st, v, 3, 1, 3, &err), 0);
    assert_int_equal(relay_store_cursor_get(st, v), 3);
    relay_store_rollback(st);
    assert_int_equal(relay_store_cursor_get(st, v), 2);
    assert_int_equal(put_update(st, v, 4, 1, 4, &err), SJ_EAGAIN);

    Sanji__FeedUpdate *u = NULL;
    assert_int_equal(relay_store_feed_next(st, v, 1, &u, &err), 0);
    assert_int_equal(u->seq, 2);
    sanji__feed_update__free_unpacked(u, NULL);
    assert_int_equal(relay_store_feed_next(st, v, 2, &u, &err), SJ_ENOTFOUND);

    uint8_t cid[16];
    fill_id(cid, 1);
    Sanji__Case *c = NULL;
    assert_int_equal(relay_store_case_get(st, cid, &c, &err), 0);
    assert_int_equal(c->version, 2); /* the cache holds the latest snapshot */
    sanji__case__free_unpacked(c, NULL);
    assert_int_equal(relay_store_case_get_by_number(st, "410423-20260213-0001", &c, &err), 0);
    sanji__case__free_unpacked(c, NULL);
    int n = 0;
    assert_int_equal(relay_store_case_events(st, cid, count_events, &n, &err), 0);
    assert_int_equal(n, 2);
    relay_store_close(st);
}

static int count_cases(void *arg, const Sanji__Case *c)
{
    (*(int *)arg)++;
    return 0;
}

static void test_case_list_by_unit(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    assert_int_equal(put_update(st, "410423101201", 1, 1, 1, &err), 0);
    assert_int_equal(put_update(st, "410423101201", 2, 2, 1, &err), 0);
    assert_int_equal(put_update(st, "410423101202", 1, 3, 1, &err), 0);
    int n = 0;
    assert_int_equal(relay_store_case_each(st, "410423101201", count_cases, &n, &err), 0);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(relay_store_case_each(st, "410423101000", count_cases, &n, &err), 0);
    assert_int_equal(n, 3);
    relay_store_close(st);
}

static void test_readonly_sees_committed_and_refuses_writes(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    const uint8_t cat[] = {1, 2, 3};
    assert_int_equal(relay_store_ref_put(st, RELAY_REF_CATALOGUE, 7, cat, sizeof cat, &err), 0);
    assert_int_equal(add_msg(st, 1, 10, 0, &err), 0);
    assert_int_equal(relay_store_meta_set(st, "upstream_online", "1", &err), 0);
    assert_int_equal(relay_store_meta_set(st, "node_id", "x", &err), SJ_EINVAL);
    assert_int_equal(relay_store_commit(st, &err), 0);

    relay_store *ro = NULL;
    int rc = relay_store_open_readonly(f->path, &ro, &err);
    if (rc != 0)
        fail_msg("readonly: %s", err.message);
    assert_string_equal(relay_store_node_id(ro), NODE);
    uint64_t ver;
    uint8_t *p;
    size_t len;
    assert_int_equal(relay_store_ref_get(ro, RELAY_REF_CATALOGUE, &ver, &p, &len, &err), 0);
    assert_int_equal(ver, 7);
    assert_memory_equal(p, cat, sizeof cat);
    free(p);
    assert_int_equal(relay_store_ref_get(ro, RELAY_REF_PERSONS, &ver, &p, &len, &err), 0);
    assert_null(p);
    char buf[16];
    assert_int_equal(relay_store_meta_get(ro, "upstream_online", buf, sizeof buf), 0);
    assert_string_equal(buf, "1");
    assert_int_equal(add_msg(ro, 2, 10, 0, &err), SJ_EINVAL);
    relay_store_close(ro);
    relay_store_close(st);
}

/* The stations as station_each gives them: node and expiry, one line each. */
static int station_line(void *arg, const relay_station *s)
{
    char *out = arg;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s %d %lld %u %lld\n", s->node, s->connected,
             (long long)s->last_seen_ms, s->outbox_depth, (long long)s->cert_not_after_ms);
    return 0;
}

static void test_stations_keep_their_certificate_expiry(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    relay_station a = {"village:410423101201", true, 1000, 2, 1900000000000};
    relay_station b = {"village:410423101202", false, 500, 0, 0};
    assert_int_equal(relay_store_station_put(st, &a, &err), 0);
    assert_int_equal(relay_store_station_put(st, &b, &err), 0);
    a.connected = false; /* the link ended: the expiry stays */
    assert_int_equal(relay_store_station_put(st, &a, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    char out[512] = "";
    assert_int_equal(relay_store_station_each(st, station_line, out, &err), 0);
    assert_string_equal(out, "village:410423101201 0 1000 2 1900000000000\n"
                             "village:410423101202 0 500 0 0\n");
    relay_store_close(st);

    /* A store of format 2 (before the column): read-only readers read it
     * as it is, with no expiry; the relay upgrades it and keeps the rows. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE stations DROP COLUMN cert_not_after_ms;"
                                  "UPDATE meta SET value = '2' WHERE key = 'format_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    relay_store *ro = NULL;
    assert_int_equal(relay_store_open_readonly(f->path, &ro, &err), 0);
    out[0] = '\0';
    assert_int_equal(relay_store_station_each(ro, station_line, out, &err), 0);
    assert_string_equal(out, "village:410423101201 0 1000 2 0\n"
                             "village:410423101202 0 500 0 0\n");
    relay_store_close(ro);
    st = open_ok(f);
    out[0] = '\0';
    assert_int_equal(relay_store_station_each(st, station_line, out, &err), 0);
    assert_string_equal(out, "village:410423101201 0 1000 2 0\n"
                             "village:410423101202 0 500 0 0\n");
    b.cert_not_after_ms = 1800000000000;
    assert_int_equal(relay_store_station_put(st, &b, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    out[0] = '\0';
    assert_int_equal(relay_store_station_each(st, station_line, out, &err), 0);
    assert_non_null(strstr(out, "village:410423101202 0 500 0 1800000000000\n"));
    relay_store_close(st);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'format_version'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    char current[16];
    snprintf(current, sizeof current, "%d", RELAY_STORE_FORMAT_VERSION);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), current);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* ---- the queue's lanes --------------------------------------------------- */

/* Queues message n as the station sends it: a packed Envelope, a case
 * action or (chunk) an attachment chunk, in the lane the relay gives it. */
static void add_envelope(relay_store *st, int n, bool chunk)
{
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    uint8_t id[16], case_id[16];
    fill_id(id, n);
    fill_id(case_id, 1000);
    env.message_id.data = id;
    env.message_id.len = 16;
    Sanji__AttachmentChunk ch = SANJI__ATTACHMENT_CHUNK__INIT;
    Sanji__CaseAction ca = SANJI__CASE_ACTION__INIT;
    uint8_t data[64];
    memset(data, n, sizeof data);
    if (chunk) {
        ch.case_id.data = case_id;
        ch.case_id.len = 16;
        ch.data.data = data;
        ch.data.len = sizeof data;
        env.body_case = SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK;
        env.attachment_chunk = &ch;
    } else {
        ca.case_id.data = case_id;
        ca.case_id.len = 16;
        env.body_case = SANJI__ENVELOPE__BODY_CASE_ACTION;
        env.case_action = &ca;
    }
    uint8_t buf[512];
    assert_true(sanji__envelope__get_packed_size(&env) <= sizeof buf);
    relay_queue_item it;
    memset(&it, 0, sizeof it);
    memcpy(it.message_id, id, 16);
    memcpy(it.case_id, case_id, 16);
    snprintf(it.origin_node, sizeof it.origin_node, "village:410423101201");
    snprintf(it.village, sizeof it.village, "410423101201");
    it.payload = buf;
    it.len = sanji__envelope__pack(&env, buf);
    it.lane = chunk ? RELAY_LANE_CHUNK : RELAY_LANE_MESSAGE;
    sj_error err;
    assert_int_equal(relay_store_queue_add(st, &it, 0, 1000 + n, &err), 0);
}

/* The message numbers of a lane, in the order relay_store_queue_next()
 * gives them: "1 3 " */
static void lane_ids(relay_store *st, relay_queue_lane lane, char *out, size_t cap)
{
    out[0] = '\0';
    relay_queue_item it;
    sj_error err;
    int64_t after = 0;
    int rc;
    while ((rc = relay_store_queue_next(st, lane, after, &it, &err)) == 0) {
        assert_int_equal(it.lane, lane);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%d ", it.message_id[15]);
        after = it.seq;
        free(it.payload);
    }
    assert_int_equal(rc, SJ_ENOTFOUND);
}

/* Turns the closed format-7 store at f into the same store at format 5, as
 * a relay of format 5 made it: the queue a table (AUTOINCREMENT, with its
 * indexes), results with their `delivered` column, the case cache in the
 * store (cases, events; no `cached` marks: it was written with each feed
 * update), and no cache file. */
static void to_format5(const fixture *f)
{
    static const char SQL[] =
        "CREATE TABLE queue5 (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " message_id BLOB NOT NULL UNIQUE, origin_node TEXT NOT NULL, village TEXT NOT NULL,"
        " case_id BLOB NOT NULL, stored_at_ms INTEGER NOT NULL, payload BLOB NOT NULL,"
        " lane INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO queue5 SELECT seq, message_id, origin_node, village, case_id, stored_at_ms,"
        " payload, lane FROM queue;"
        "DROP VIEW queue;"
        "DROP TABLE upward;"
        "ALTER TABLE queue5 RENAME TO queue;"
        "CREATE INDEX queue_case ON queue(case_id);"
        "CREATE INDEX queue_lane ON queue(lane, seq);"
        "CREATE TABLE results5 (message_id BLOB PRIMARY KEY, origin_node TEXT NOT NULL,"
        " village TEXT NOT NULL, case_id BLOB NOT NULL, ack BLOB NOT NULL,"
        " stored_at_ms INTEGER NOT NULL, delivered INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO results5 SELECT r.message_id, r.origin_node, r.village, r.case_id, r.ack,"
        " r.stored_at_ms, NOT EXISTS (SELECT 1 FROM pending p WHERE p.message_id = r.message_id)"
        " FROM results r;"
        "DROP TABLE pending;"
        "DROP TABLE results;"
        "ALTER TABLE results5 RENAME TO results;"
        "CREATE INDEX results_undelivered ON results(origin_node, delivered, stored_at_ms);"
        "CREATE INDEX results_case ON results(case_id);"
        "CREATE TABLE cases (case_id BLOB PRIMARY KEY, village TEXT NOT NULL, number TEXT,"
        " registered_at_ms INTEGER NOT NULL, snapshot BLOB NOT NULL);"
        "CREATE INDEX cases_number ON cases(number);"
        "CREATE TABLE events (case_id BLOB NOT NULL, seq INTEGER NOT NULL,"
        " event_pb BLOB NOT NULL, PRIMARY KEY (case_id, seq)) WITHOUT ROWID;"
        "INSERT INTO cases VALUES (x'00', '410423101201', '', 0, x'');"
        "CREATE TABLE feed7 (village TEXT NOT NULL, seq INTEGER NOT NULL,"
        " update_pb BLOB NOT NULL, PRIMARY KEY (village, seq)) WITHOUT ROWID;"
        "INSERT INTO feed7 SELECT village, seq, update_pb FROM feed;"
        "DROP TABLE feed;"
        "ALTER TABLE feed7 RENAME TO feed;"
        "UPDATE meta SET value = '5' WHERE key = 'format_version';";
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, SQL, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("to format 5: %s", msg);
    sqlite3_close(db);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -f '%s.cache' '%s.cache-wal' '%s.cache-shm'", f->path, f->path,
             f->path);
    assert_int_equal(system(cmd), 0);
}

/* The fixture of the store's case cache file (case_cache.h). */
static fixture cache_file(const fixture *f)
{
    fixture c = *f;
    snprintf(c.path, sizeof c.path, "%.140s.cache", f->path);
    return c;
}

/* One value of the store file read directly ("" when no row). */
static void sql_value(const fixture *f, const char *sql, char *out, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    out[0] = '\0';
    if (sqlite3_step(q) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_queue_lanes_kept_across_upgrade(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    /* An upload of four chunks with two case actions queued amid it. */
    static const bool chunk[] = {false, true, true, false, true, true};
    for (int i = 1; i <= 5; i++)
        add_envelope(st, i, chunk[i]);
    assert_int_equal(relay_store_commit(st, &err), 0);
    char out[64];
    lane_ids(st, RELAY_LANE_MESSAGE, out, sizeof out);
    assert_string_equal(out, "3 ");
    lane_ids(st, RELAY_LANE_CHUNK, out, sizeof out);
    assert_string_equal(out, "1 2 4 5 ");
    /* queue_find names the lane, which the county's ack is counted in. */
    uint8_t id[16];
    relay_queue_item it;
    fill_id(id, 4);
    assert_int_equal(relay_store_queue_find(st, id, &it, &err), 0);
    assert_int_equal(it.lane, RELAY_LANE_CHUNK);
    fill_id(id, 3);
    assert_int_equal(relay_store_queue_find(st, id, &it, &err), 0);
    assert_int_equal(it.lane, RELAY_LANE_MESSAGE);
    /* Settled messages leave their lane; the rest keep their order. */
    fill_id(id, 2);
    assert_int_equal(relay_store_queue_remove(st, id, &err), 0);
    add_envelope(st, 6, false);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_store_close(st);

    /* A store of format 4 (one lane): the relay upgrades it and sorts what
     * is queued by its envelope, in the same order. */
    to_format5(f);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX queue_lane;"
                                  "ALTER TABLE queue DROP COLUMN lane;"
                                  "UPDATE meta SET value = '4' WHERE key = 'format_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    relay_queue_stats qs;
    relay_store *ro = NULL;
    assert_int_equal(relay_store_open_readonly(f->path, &ro, &err), 0);
    assert_int_equal(relay_store_queue_stats(ro, &qs, &err), 0);
    assert_int_equal(qs.depth, 5); /* relayctl reads an old store as it is */
    relay_store_close(ro);
    st = open_ok(f);
    lane_ids(st, RELAY_LANE_MESSAGE, out, sizeof out);
    assert_string_equal(out, "3 6 ");
    lane_ids(st, RELAY_LANE_CHUNK, out, sizeof out);
    assert_string_equal(out, "1 4 5 ");
    assert_int_equal(relay_store_queue_stats(st, &qs, &err), 0);
    assert_int_equal(qs.depth, 5);
    relay_store_close(st);
}

/* ---- format 6: settling ------------------------------------------------- */

static int settle(relay_store *st, int n, sj_error *err)
{
    uint8_t id[16];
    fill_id(id, n);
    relay_queue_item it;
    int rc = relay_store_queue_find(st, id, &it, err);
    if (rc != 0)
        return rc;
    const uint8_t ack[] = {0x08, 0x02, 0x10, (uint8_t)n};
    return relay_store_queue_settle(st, &it, ack, sizeof ack, 5000 + n, err);
}

/* The county's result settles a queued message in the turn's transaction:
 * durable with the commit, undone (message queued again, no result) by a
 * rollback or a crash before it. */
static void test_settle_is_the_result(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    for (int i = 1; i <= 4; i++)
        assert_int_equal(add_msg(st, i, 100, 0, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    assert_int_equal(settle(st, 2, &err), 0);
    assert_int_equal(settle(st, 2, &err), SJ_ENOTFOUND); /* a repeated ack */
    char out[64];
    lane_ids(st, RELAY_LANE_MESSAGE, out, sizeof out);
    assert_string_equal(out, "1 3 4 ");
    relay_store_rollback(st); /* the commit failed, say */
    lane_ids(st, RELAY_LANE_MESSAGE, out, sizeof out);
    assert_string_equal(out, "1 2 3 4 ");
    uint8_t id[16], *ack = NULL;
    size_t len;
    fill_id(id, 2);
    assert_int_equal(relay_store_result_get(st, id, &ack, &len, NULL, &err), SJ_ENOTFOUND);
    /* Settled and not committed: a crash (close without commit) too. */
    assert_int_equal(settle(st, 2, &err), 0);
    relay_store_close(st);
    st = open_ok(f);
    lane_ids(st, RELAY_LANE_MESSAGE, out, sizeof out);
    assert_string_equal(out, "1 2 3 4 ");
    /* Committed: the message is gone from the queue for good, its result
     * kept, undelivered, with the quota's bytes back. */
    assert_int_equal(settle(st, 2, &err), 0);
    assert_int_equal(settle(st, 4, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_store_close(st);
    st = open_ok(f);
    lane_ids(st, RELAY_LANE_MESSAGE, out, sizeof out);
    assert_string_equal(out, "1 3 ");
    relay_queue_stats qs;
    assert_int_equal(relay_store_queue_stats(st, &qs, &err), 0);
    assert_int_equal(qs.depth, 2);
    assert_int_equal(qs.bytes, 200);
    assert_int_equal(relay_store_result_get(st, id, &ack, &len, NULL, &err), 0);
    assert_int_equal(len, 4);
    assert_int_equal(ack[3], 2);
    free(ack);
    seen s = {0};
    assert_int_equal(
        relay_store_result_each_undelivered(st, "village:410423101201", collect, &s, &err), 0);
    assert_int_equal(s.n, 2);
    assert_memory_equal(s.ids[0], id, 16);
    assert_int_equal(relay_store_result_mark_delivered(st, id, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    /* relayctl's view of the file agrees. */
    relay_store *ro = NULL;
    assert_int_equal(relay_store_open_readonly(f->path, &ro, &err), 0);
    assert_int_equal(relay_store_queue_stats(ro, &qs, &err), 0);
    assert_int_equal(qs.depth, 2);
    assert_int_equal(qs.bytes, 200);
    memset(&s, 0, sizeof s);
    assert_int_equal(
        relay_store_result_each_undelivered(ro, "village:410423101201", collect, &s, &err), 0);
    assert_int_equal(s.n, 1);
    fill_id(id, 4);
    assert_memory_equal(s.ids[0], id, 16);
    relay_store_close(ro);
    /* A message id whose message was settled may be queued again (a
     * station that never got its STORED resends it after the result
     * expired): the county answers it from its dedup table. */
    fill_id(id, 2);
    size_t removed = 0;
    assert_int_equal(relay_store_result_expire(st, 6000, &removed, &err), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(add_msg(st, 2, 100, 0, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    lane_ids(st, RELAY_LANE_MESSAGE, out, sizeof out);
    assert_string_equal(out, "1 3 2 ");
    relay_store_close(st);
}

/* The rows of settled messages are deleted in batches, and at start-up
 * those a crash left are recognised by their results. */
static void test_settled_rows_trimmed(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    enum { N = 600 };
    for (int i = 1; i <= N; i++)
        assert_int_equal(add_msg(st, i, 10, 0, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    for (int i = 1; i <= N - 1; i++)
        assert_int_equal(settle(st, i, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_store_close(st);
    char v[32];
    sql_value(f, "SELECT count(*) FROM upward", v, sizeof v);
    int rows = atoi(v);
    assert_true(rows < N - 256); /* at least two batches went */
    assert_true(rows > 1);       /* the last settled ones are still there */
    sql_value(f, "SELECT count(*) FROM queue", v, sizeof v);
    assert_string_equal(v, "1");
    st = open_ok(f);
    relay_queue_stats qs;
    assert_int_equal(relay_store_queue_stats(st, &qs, &err), 0);
    assert_int_equal(qs.depth, 1);
    /* The result expiry deletes the rest first (a settled message must not
     * look queued once its result is gone). */
    assert_int_equal(relay_store_result_expire(st, 0, NULL, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_store_close(st);
    sql_value(f, "SELECT count(*) FROM upward", v, sizeof v);
    assert_string_equal(v, "1");
}

/* A store of format 5 is upgraded in one transaction with its queue (order,
 * seq, lanes), its results and their delivery intact; an upgrade that
 * fails half way leaves format 5 as it was. */
static void test_format5_upgraded_with_queue_intact(void **state)
{
    fixture *f = *state;
    relay_store *st = open_ok(f);
    sj_error err;
    static const bool chunk[] = {false, false, true, false, true, false, false};
    for (int i = 1; i <= 6; i++)
        add_envelope(st, i, chunk[i]);
    assert_int_equal(relay_store_commit(st, &err), 0);
    assert_int_equal(settle(st, 2, &err), 0);
    assert_int_equal(settle(st, 5, &err), 0);
    uint8_t id[16];
    fill_id(id, 5);
    assert_int_equal(relay_store_result_mark_delivered(st, id, &err), 0);
    /* Two cached cases (format 5 wrote them with their feed updates). */
    assert_int_equal(put_update(st, "410423101201", 1, 1, 1, &err), 0);
    assert_int_equal(put_update(st, "410423101201", 2, 2, 1, &err), 0);
    int n = 0;
    assert_int_equal(relay_store_case_each(st, NULL, count_cases, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_store_close(st);
    to_format5(f);
    char v[64];
    sql_value(f, "SELECT group_concat(seq, ',') FROM (SELECT seq FROM queue ORDER BY seq)", v,
              sizeof v);
    assert_string_equal(v, "1,3,4,6");
    sql_value(f, "SELECT group_concat(delivered, ',') FROM results", v, sizeof v);

    /* Half way: a table in the way of format 6 makes the upgrade fail. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE pending (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    relay_store *bad = NULL;
    assert_int_not_equal(relay_store_open(f->path, NODE, &bad, &err), 0);
    assert_null(bad);
    sql_value(f, "SELECT value FROM meta WHERE key = 'format_version'", v, sizeof v);
    assert_string_equal(v, "5");
    sql_value(f, "SELECT group_concat(seq, ',') FROM (SELECT seq FROM queue ORDER BY seq)", v,
              sizeof v);
    assert_string_equal(v, "1,3,4,6");
    sql_value(f, "SELECT type FROM sqlite_master WHERE name = 'upward'", v, sizeof v);
    assert_string_equal(v, "");
    /* relayctl reads format 5 as it is. */
    relay_store *ro = NULL;
    relay_queue_stats qs;
    assert_int_equal(relay_store_open_readonly(f->path, &ro, &err), 0);
    assert_int_equal(relay_store_queue_stats(ro, &qs, &err), 0);
    assert_int_equal(qs.depth, 4);
    seen s = {0};
    assert_int_equal(
        relay_store_result_each_undelivered(ro, "village:410423101201", collect, &s, &err), 0);
    assert_int_equal(s.n, 1);
    relay_store_close(ro);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE pending", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    st = open_ok(f);
    sql_value(f, "SELECT value FROM meta WHERE key = 'format_version'", v, sizeof v);
    assert_string_equal(v, "8");
    /* Format 8: the feed's rows in the rowid table, keyed by its index. */
    sql_value(f, "SELECT count(*) || ' ' || max(seq) FROM feed INDEXED BY feed_key"
                 " WHERE village = '410423101201'", v, sizeof v);
    assert_string_equal(v, "2 2");
    sql_value(f, "SELECT count(*) FROM sqlite_master WHERE name = 'feed_v7'", v, sizeof v);
    assert_string_equal(v, "0");
    /* The case cache left the store for its own file, written from the
     * feed. */
    sql_value(f, "SELECT count(*) FROM sqlite_master WHERE name IN ('cases', 'events', 'cached')",
              v, sizeof v);
    assert_string_equal(v, "0");
    n = 0;
    assert_int_equal(relay_store_case_each(st, NULL, count_cases, &n, &err), 0);
    assert_int_equal(n, 2);
    fixture cf = cache_file(f);
    sql_value(&cf, "SELECT seq FROM cached WHERE village = '410423101201'", v, sizeof v);
    assert_string_equal(v, "2");
    char out[64];
    lane_ids(st, RELAY_LANE_MESSAGE, out, sizeof out);
    assert_string_equal(out, "1 3 6 ");
    lane_ids(st, RELAY_LANE_CHUNK, out, sizeof out);
    assert_string_equal(out, "4 ");
    relay_queue_item it;
    fill_id(id, 6);
    assert_int_equal(relay_store_queue_find(st, id, &it, &err), 0);
    assert_int_equal(it.seq, 6);
    assert_int_equal(it.stored_at_ms, 1006);
    memset(&s, 0, sizeof s);
    assert_int_equal(
        relay_store_result_each_undelivered(st, "village:410423101201", collect, &s, &err), 0);
    assert_int_equal(s.n, 1);
    fill_id(id, 2);
    assert_memory_equal(s.ids[0], id, 16);
    uint8_t *ack = NULL;
    size_t len;
    fill_id(id, 5);
    assert_int_equal(relay_store_result_get(st, id, &ack, &len, NULL, &err), 0);
    free(ack);
    /* New messages follow the old ones, and the queue settles as before. */
    add_envelope(st, 7, false);
    assert_int_equal(settle(st, 3, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    lane_ids(st, RELAY_LANE_MESSAGE, out, sizeof out);
    assert_string_equal(out, "1 6 7 ");
    fill_id(id, 7);
    assert_int_equal(relay_store_queue_find(st, id, &it, &err), 0);
    assert_true(it.seq > 6);
    relay_store_close(st);
}

/* ---- format 7: the case cache in its own file ----------------------------- */

/* Runs sql on the file of fixture f. */
static void sql_exec(const fixture *f, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* The case cache (its own file, written by its own thread from the feed):
 * every read that must see the stored updates sees them at once (a case
 * read before the cache has them, a list after waiting for it); a stop, a
 * crash, a rollback, a cache ahead of the feed or a file that is not a
 * cache leave none of the stored updates out and none of the others in. */
static void test_case_cache_follows_the_feed(void **state)
{
    fixture *f = *state;
    fixture cf = cache_file(f);
    relay_store *st = open_ok(f);
    sj_error err;
    const char *v = "410423101201";
    for (int i = 1; i <= 5; i++)
        assert_int_equal(put_update(st, v, (uint64_t)i, i, 1, &err), 0);
    /* Uncommitted, and surely not in the cache yet: a case read sees it. */
    uint8_t cid[16];
    fill_id(cid, 3);
    Sanji__Case *c = NULL;
    assert_int_equal(relay_store_case_get(st, cid, &c, &err), 0);
    assert_memory_equal(c->case_id.data, cid, 16);
    sanji__case__free_unpacked(c, NULL);
    /* A list commits what waits and waits for the cache. */
    int n = 0;
    assert_int_equal(relay_store_case_each(st, v, count_cases, &n, &err), 0);
    assert_int_equal(n, 5);
    char val[32];
    sql_value(f, "SELECT count(*) FROM feed", val, sizeof val);
    assert_string_equal(val, "5");
    sql_value(&cf, "SELECT count(*) FROM cases", val, sizeof val);
    assert_string_equal(val, "5");
    sql_value(&cf, "SELECT seq FROM cached WHERE village = '410423101201'", val, sizeof val);
    assert_string_equal(val, "5");
    /* Committed, then a stop in order: the cache has them. */
    for (int i = 6; i <= 8; i++)
        assert_int_equal(put_update(st, v, (uint64_t)i, i, 1, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    relay_store_close(st);
    sql_value(&cf, "SELECT count(*) FROM cases", val, sizeof val);
    assert_string_equal(val, "8");
    /* A crash before they reached the cache (the cache set back to before
     * them): the next start writes them. */
    sql_exec(&cf, "DELETE FROM cases WHERE hex(case_id) IN ('01000000000000000000000000000006',"
                  " '01000000000000000000000000000007', '01000000000000000000000000000008');"
                  "DELETE FROM events WHERE hex(case_id) IN ('01000000000000000000000000000006',"
                  " '01000000000000000000000000000007', '01000000000000000000000000000008');"
                  "UPDATE cached SET seq = 5");
    sql_value(&cf, "SELECT count(*) FROM cases", val, sizeof val);
    assert_string_equal(val, "5");
    st = open_ok(f);
    relay_store_close(st);
    sql_value(&cf, "SELECT count(*) FROM cases", val, sizeof val);
    assert_string_equal(val, "8");
    sql_value(&cf, "SELECT count(*) FROM events", val, sizeof val);
    assert_string_equal(val, "8");
    /* A cache ahead of the store's feed (the store restored from an older
     * copy) is emptied and written again: its case 99 goes. */
    sql_exec(&cf, "UPDATE cached SET seq = 100;"
                  "INSERT INTO cases (case_id, village, registered_at_ms, snapshot)"
                  " VALUES (x'01000000000000000000000000000099', '410423101201', 0, x'')");
    st = open_ok(f);
    relay_store_close(st);
    sql_value(&cf, "SELECT count(*) FROM cases", val, sizeof val);
    assert_string_equal(val, "8");
    sql_value(&cf, "SELECT seq FROM cached WHERE village = '410423101201'", val, sizeof val);
    assert_string_equal(val, "8");
    /* A file that is not a cache is replaced by one. */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -f '%s-wal' '%s-shm' && echo 'not a database' > '%s'", cf.path,
             cf.path, cf.path);
    assert_int_equal(system(cmd), 0);
    st = open_ok(f);
    n = 0;
    assert_int_equal(relay_store_case_each(st, v, count_cases, &n, &err), 0);
    assert_int_equal(n, 8);
    /* Committed updates waiting for the cache survive a later rollback;
     * the rolled back one reaches neither a read nor the cache. */
    assert_int_equal(put_update(st, v, 9, 9, 1, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
    assert_int_equal(put_update(st, v, 10, 10, 1, &err), 0);
    relay_store_rollback(st);
    fill_id(cid, 10);
    assert_int_equal(relay_store_case_get(st, cid, &c, &err), SJ_ENOTFOUND);
    n = 0;
    assert_int_equal(relay_store_case_each(st, v, count_cases, &n, &err), 0);
    assert_int_equal(n, 9);
    n = 0;
    fill_id(cid, 9);
    assert_int_equal(relay_store_case_events(st, cid, count_events, &n, &err), 0);
    assert_int_equal(n, 1);
    relay_store_close(st);
    sql_value(&cf, "SELECT seq FROM cached WHERE village = '410423101201'", val, sizeof val);
    assert_string_equal(val, "9");
    /* A read-only reader reads the cache as it is, and writes nothing. */
    relay_store *ro = NULL;
    assert_int_equal(relay_store_open_readonly(f->path, &ro, &err), 0);
    n = 0;
    assert_int_equal(relay_store_case_each(ro, v, count_cases, &n, &err), 0);
    assert_int_equal(n, 9);
    relay_store_close(ro);
}

/* One case as the feed carries it after each of three updates: the row in
 * the cache is the latest, the columns an action changes and those fixed
 * at registration (here corrected at the county) alike, and each index
 * finds it by its new value only. */
static void put_version(relay_store *st, uint64_t seq, uint64_t version, Sanji__CaseStatus status,
                        const char *holder, const char *name)
{
    uint8_t cid[16];
    fill_id(cid, 1);
    Sanji__Applicant a = SANJI__APPLICANT__INIT;
    a.name = (char *)name;
    Sanji__Case c = SANJI__CASE__INIT;
    c.case_id.data = cid;
    c.case_id.len = 16;
    c.village = (char *)"410423101201";
    c.version = version;
    c.number = (char *)"410423-20260213-0001";
    c.registered_at_ms = 1000;
    c.status = status;
    c.holder_unit = (char *)holder;
    c.applicant = &a;
    Sanji__FeedUpdate u = SANJI__FEED_UPDATE__INIT;
    u.village = c.village;
    u.seq = seq;
    u.snapshot = &c;
    sj_error err;
    assert_int_equal(relay_store_feed_put(st, &u, &err), 0);
    assert_int_equal(relay_store_commit(st, &err), 0);
}

static void test_case_cache_row_follows_each_update(void **state)
{
    fixture *f = *state;
    fixture cf = cache_file(f);
    relay_store *st = open_ok(f);
    put_version(st, 1, 1, SANJI__CASE_STATUS__CASE_STATUS_REGISTERED, "410423101201", "张三");
    put_version(st, 2, 2, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP, "410423101000", "张三");
    relay_store_close(st);
    char val[128];
    sql_value(&cf, "SELECT status || ' ' || holder_unit || ' ' || applicant_name FROM cases", val,
              sizeof val);
    assert_string_equal(val, "2 410423101000 张三");
    /* The applicant's name corrected, with the next action. */
    st = open_ok(f);
    put_version(st, 3, 3, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY, "410423000000", "张叁");
    relay_store_close(st);
    sql_value(&cf, "SELECT status || ' ' || holder_unit || ' ' || applicant_name FROM cases", val,
              sizeof val);
    assert_string_equal(val, "4 410423000000 张叁");
    sql_value(&cf, "SELECT count(*) FROM cases INDEXED BY cases_s_name WHERE applicant_name = '张三'",
              val, sizeof val);
    assert_string_equal(val, "0");
    sql_value(&cf, "SELECT count(*) FROM cases INDEXED BY cases_s_name WHERE applicant_name = '张叁'",
              val, sizeof val);
    assert_string_equal(val, "1");
    sql_value(&cf, "SELECT count(*) FROM cases INDEXED BY cases_s_holder"
                   " WHERE holder_unit = '410423000000' AND status = 4", val, sizeof val);
    assert_string_equal(val, "1");
    sql_value(&cf, "PRAGMA integrity_check", val, sizeof val);
    assert_string_equal(val, "ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_new_store_reopens),
        T(test_store_of_another_relay_refused),
        T(test_foreign_sqlite_file_refused),
        T(test_not_a_database_refused),
        T(test_damaged_pages_refused),
        T(test_queue_order_and_remove),
        T(test_queue_duplicate_not_stored_twice),
        T(test_queue_quota_refuses_new_keeps_old),
        T(test_queue_remove_found),
        T(test_queue_durable_only_after_commit),
        T(test_results_delivery_and_expiry),
        T(test_feed_cursor_rules),
        T(test_case_list_by_unit),
        T(test_readonly_sees_committed_and_refuses_writes),
        T(test_stations_keep_their_certificate_expiry),
        T(test_queue_lanes_kept_across_upgrade),
        T(test_settle_is_the_result),
        T(test_settled_rows_trimmed),
        T(test_format5_upgraded_with_queue_intact),
        T(test_case_cache_follows_the_feed),
        T(test_case_cache_row_follows_each_update),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
