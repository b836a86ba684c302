/*
 * test_client_store.c - the client's SQLite store on real files in a
 * temporary directory: creation and re-opening, refusal of damaged and
 * foreign files, the outbox's order and forward-only states, the feed's
 * cursor rule (store, duplicate, gap), predicted versus county snapshots,
 * reference data and settings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "store_fixture.h"

#define NODE STORE_FX_NODE
#define VILLAGE "410423101201"

/* The store's file (store_fixture.h). */
static const char *const path = store_fx_path;

static void id_of(uint8_t id[16], int n)
{
    memset(id, 0, 16);
    id[0] = 0x01;
    id[15] = (uint8_t)n;
}

static void test_open_creates_and_reopens(void **state)
{
    (void)state;
    sc_store *st = store_fx_open();
    sj_error err;
    assert_int_equal(sc_store_meta_set(st, "person", "p-1", &err), 0);
    sc_store_close(st);
    st = store_fx_open();
    char buf[64];
    assert_int_equal(sc_store_meta_get(st, "person", buf, sizeof(buf), &err), 0);
    assert_string_equal(buf, "p-1");
    sc_store_close(st);
}

static void test_open_refuses_other_node(void **state)
{
    (void)state;
    sc_store_close(store_fx_open());
    sc_store *st = NULL;
    sj_error err;
    assert_int_equal(sc_store_open(path, "village:410423101202", &st, &err), SJ_ESTORE_FOREIGN);
    assert_null(st);
    assert_non_null(strstr(err.message, "village:410423101201"));
}

static void test_open_refuses_garbage_file(void **state)
{
    (void)state;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc("not a database "[i % 15], f);
    fclose(f);
    sc_store *st = NULL;
    sj_error err;
    assert_int_equal(sc_store_open(path, NODE, &st, &err), SJ_ESTORE_CORRUPT);
    /* Never reset: the file is still the garbage we wrote. */
    f = fopen(path, "rb");
    char head[16] = {0};
    assert_int_equal(fread(head, 1, 15, f), 15);
    fclose(f);
    assert_string_equal(head, "not a database ");
}

static void test_open_refuses_foreign_sqlite(void **state)
{
    (void)state;
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'CREATE TABLE x(a); INSERT INTO x VALUES (1);' 2>/dev/null || "
             "python3 -c \"import sqlite3; c=sqlite3.connect('%s'); c.execute('CREATE TABLE x(a)'); c.commit()\"",
             path, path);
    assert_int_equal(system(cmd), 0);
    sc_store *st = NULL;
    sj_error err;
    assert_int_equal(sc_store_open(path, NODE, &st, &err), SJ_ESTORE_FOREIGN);
}

static void test_outbox_order_and_states(void **state)
{
    (void)state;
    sc_store *st = store_fx_open();
    sj_error err;
    uint8_t m[3][16], cid[16];
    id_of(cid, 99);
    for (int i = 0; i < 3; i++) {
        id_of(m[i], 10 - i); /* ids not in insertion order: order is the outbox's */
        uint8_t payload[4] = {1, 2, 3, (uint8_t)i};
        assert_int_equal(sc_store_outbox_add(st, m[i], cid, 3, payload, 4, 1000 + i, &err), 0);
    }
    assert_int_equal(sc_store_outbox_add(st, m[0], cid, 3, (const uint8_t *)"x", 1, 5, &err),
                     SJ_EEXISTS);
    bool changed;
    assert_int_equal(sc_store_outbox_mark(st, m[0], SC_OUT_STORED, 0, NULL, NULL, 0, 2000,
                                          &changed, &err), 0);
    assert_true(changed);
    assert_int_equal(sc_store_outbox_mark(st, m[1], SC_OUT_APPLIED, 0, NULL, "410423-20261123-0001",
                                          2, 2001, &changed, &err), 0);
    /* Going back is ignored. */
    assert_int_equal(sc_store_outbox_mark(st, m[1], SC_OUT_STORED, 0, NULL, NULL, 0, 2002,
                                          &changed, &err), 0);
    assert_false(changed);
    /* A final state is never replaced by another final state. */
    assert_int_equal(sc_store_outbox_mark(st, m[1], SC_OUT_REFUSED, SJ_ESCOPE, "x", NULL, 0, 2003,
                                          &changed, &err), 0);
    assert_false(changed);
    uint8_t unknown[16];
    id_of(unknown, 77);
    assert_int_equal(sc_store_outbox_mark(st, unknown, SC_OUT_STORED, 0, NULL, NULL, 0, 1, NULL,
                                          &err), SJ_ENOTFOUND);

    sc_outbox_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(sc_store_outbox_list(st, true, &e, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(e[0].message_id, m[0], 16);
    assert_int_equal(e[0].state, SC_OUT_STORED);
    assert_memory_equal(e[1].message_id, m[2], 16);
    assert_int_equal(e[1].payload_len, 4);
    assert_int_equal(e[1].payload[3], 2);
    sc_store_outbox_free(e, n);

    assert_int_equal(sc_store_outbox_get(st, m[1], &e, &err), 0);
    assert_int_equal(e[0].state, SC_OUT_APPLIED);
    assert_string_equal(e[0].case_number, "410423-20261123-0001");
    assert_int_equal(e[0].case_version, 2);
    sc_store_outbox_free(e, 1);

    sc_outbox_counts oc;
    assert_int_equal(sc_store_outbox_counts(st, &oc, &err), 0);
    assert_int_equal(oc.saved, 1);
    assert_int_equal(oc.stored, 1);
    assert_int_equal(oc.applied, 1);
    assert_int_equal(oc.oldest_unfinished_ms, 1000);
    assert_int_equal(sc_store_outbox_unfinished_for_case(st, cid), 2);
    sc_store_close(st);
}

static void test_outbox_survives_reopen(void **state)
{
    (void)state;
    sc_store *st = store_fx_open();
    sj_error err;
    uint8_t m[16], cid[16];
    id_of(m, 1);
    id_of(cid, 2);
    assert_int_equal(sc_store_outbox_add(st, m, cid, 1, (const uint8_t *)"abc", 3, 10, &err), 0);
    sc_store_close(st);
    st = store_fx_open();
    sc_outbox_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(sc_store_outbox_list(st, true, &e, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(e[0].payload, "abc", 3);
    sc_store_outbox_free(e, n);
    sc_store_close(st);
}

static Sanji__Case *mk_case(Sanji__Case *c, uint8_t id[16], const char *number, uint64_t version,
                            Sanji__CaseStatus status)
{
    sanji__case__init(c);
    c->case_id.data = id;
    c->case_id.len = 16;
    c->number = (char *)number;
    c->village = (char *)VILLAGE;
    c->version = version;
    c->status = status;
    c->registered_at_ms = 1000;
    return c;
}

static void test_feed_cursor_rule(void **state)
{
    (void)state;
    sc_store *st = store_fx_open();
    sj_error err;
    uint8_t id[16];
    id_of(id, 5);
    Sanji__Case c;
    Sanji__CaseEvent ev = SANJI__CASE_EVENT__INIT;
    ev.case_id.data = id;
    ev.case_id.len = 16;
    ev.seq = 1;
    ev.action = SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER;
    Sanji__FeedUpdate u = SANJI__FEED_UPDATE__INIT;
    u.village = (char *)VILLAGE;
    u.snapshot = mk_case(&c, id, "410423-20261123-0001", 1, SANJI__CASE_STATUS__CASE_STATUS_REGISTERED);
    u.event = &ev;
    static const struct {
        uint64_t seq;
        sc_feed_result want;
    } steps[] = {{2, SC_FEED_GAP}, {1, SC_FEED_STORED}, {1, SC_FEED_DUPLICATE},
                 {3, SC_FEED_GAP}, {2, SC_FEED_STORED}, {2, SC_FEED_DUPLICATE}};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        u.seq = steps[i].seq;
        ev.seq = (uint32_t)steps[i].seq;
        sc_feed_result r;
        assert_int_equal(sc_store_feed_apply(st, &u, &r, &err), 0);
        if (r != steps[i].want)
            fail_msg("step %zu (seq %" PRIu64 "): got %d, want %d", i, steps[i].seq, r, steps[i].want);
    }
    sc_cursor *cur = NULL;
    size_t n = 0;
    assert_int_equal(sc_store_cursors(st, &cur, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(cur[0].village, VILLAGE);
    assert_int_equal(cur[0].after_seq, 2);
    free(cur);
    Sanji__CaseEvent **evs = NULL;
    size_t ne = 0;
    assert_int_equal(sc_store_events_get(st, id, &evs, &ne, &err), 0);
    assert_int_equal(ne, 2);
    assert_int_equal(evs[1]->seq, 2);
    sc_store_events_free(evs, ne);
    /* A malformed update is refused, nothing stored. */
    u.village = (char *)"";
    sc_feed_result r;
    assert_int_equal(sc_store_feed_apply(st, &u, &r, &err), SJ_EFRAME_BAD_FIELD);
    sc_store_close(st);
}

static void test_predicted_then_county_snapshot(void **state)
{
    (void)state;
    sc_store *st = store_fx_open();
    sj_error err;
    uint8_t id[16], m[16];
    id_of(id, 6);
    id_of(m, 60);
    Sanji__Case c;
    assert_int_equal(sc_store_outbox_add(st, m, id, 1, (const uint8_t *)"p", 1, 1, &err), 0);
    assert_int_equal(sc_store_case_put_predicted(
                         st, id, mk_case(&c, id, "", 1, SANJI__CASE_STATUS__CASE_STATUS_REGISTERED), &err), 0);
    Sanji__Case *got = NULL;
    bool predicted = false;
    assert_int_equal(sc_store_case_get(st, id, &got, &predicted, &err), 0);
    assert_true(predicted);
    sanji__case__free_unpacked(got, NULL);
    /* The county's snapshot arrives while the action is unfinished: the
     * prediction is still shown. */
    assert_int_equal(sc_store_case_put(st, mk_case(&c, id, "410423-20261123-0002", 1,
                                                   SANJI__CASE_STATUS__CASE_STATUS_REGISTERED), &err), 0);
    assert_int_equal(sc_store_case_get(st, id, &got, &predicted, &err), 0);
    assert_true(predicted);
    sanji__case__free_unpacked(got, NULL);
    uint8_t found[16];
    assert_int_equal(sc_store_case_find(st, "410423-20261123-0002", found, &err), 0);
    assert_memory_equal(found, id, 16);
    assert_int_equal(sc_store_case_find(st, "410423-20261123-9999", found, &err), SJ_EUNKNOWN_CASE);
    /* Once applied, the next snapshot drops the prediction; an older
     * version never replaces a newer one. */
    assert_int_equal(sc_store_outbox_mark(st, m, SC_OUT_APPLIED, 0, NULL, NULL, 1, 5, NULL, &err), 0);
    assert_int_equal(sc_store_case_put(st, mk_case(&c, id, "410423-20261123-0002", 3,
                                                   SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP), &err), 0);
    assert_int_equal(sc_store_case_put(st, mk_case(&c, id, "410423-20261123-0002", 2,
                                                   SANJI__CASE_STATUS__CASE_STATUS_REGISTERED), &err), 0);
    assert_int_equal(sc_store_case_get(st, id, &got, &predicted, &err), 0);
    assert_false(predicted);
    assert_int_equal(got->version, 3);
    assert_int_equal(got->status, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP);
    sanji__case__free_unpacked(got, NULL);
    Sanji__Case **all = NULL;
    size_t n = 0;
    assert_int_equal(sc_store_case_list(st, &all, &n, &err), 0);
    assert_int_equal(n, 1);
    sc_store_cases_free(all, n);
    sc_store_close(st);
}

static void test_refused_registration_leaves_no_case(void **state)
{
    (void)state;
    sc_store *st = store_fx_open();
    sj_error err;
    uint8_t id[16];
    id_of(id, 7);
    Sanji__Case c;
    assert_int_equal(sc_store_case_put_predicted(
                         st, id, mk_case(&c, id, "", 1, SANJI__CASE_STATUS__CASE_STATUS_REGISTERED), &err), 0);
    assert_int_equal(sc_store_case_put_predicted(st, id, NULL, &err), 0);
    Sanji__Case *got = NULL;
    assert_int_equal(sc_store_case_get(st, id, &got, NULL, &err), SJ_ENOTFOUND);
    sc_store_close(st);
}

static void test_refdata_roundtrip(void **state)
{
    (void)state;
    sc_store *st = store_fx_open();
    sj_error err;
    uint64_t v;
    uint8_t *data;
    size_t len;
    assert_int_equal(sc_store_ref_get(st, "catalogue", &v, &data, &len, &err), SJ_ENOTFOUND);
    assert_int_equal(sc_store_ref_put(st, "catalogue", 7, (const uint8_t *)"abc", 3, &err), 0);
    assert_int_equal(sc_store_ref_put(st, "catalogue", 8, (const uint8_t *)"abcd", 4, &err), 0);
    assert_int_equal(sc_store_ref_get(st, "catalogue", &v, &data, &len, &err), 0);
    assert_int_equal(v, 8);
    assert_int_equal(len, 4);
    assert_memory_equal(data, "abcd", 4);
    free(data);
    sc_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_and_reopens, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_other_node, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_garbage_file, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_foreign_sqlite, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_order_and_states, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_survives_reopen, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_feed_cursor_rule, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_predicted_then_county_snapshot, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_refused_registration_leaves_no_case, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_refdata_roundtrip, store_fx_setup, store_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
