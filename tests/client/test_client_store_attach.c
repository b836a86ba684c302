/*
 * test_client_store_attach.c - attachments in the client's store
 * (client/store.h, format 4): an attachment saved with its data, listed,
 * read back, its progress counted; the bytes of a case; a chunk row in the
 * outbox neither counts as an action on the case nor keeps a prediction,
 * and the sender's list leaves its payload out;
 * a store of format 3 gets the attachments table when it is opened, its
 * outbox untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "store_fixture.h"

#define NODE STORE_FX_NODE

/* The store's file (store_fixture.h). */
static const char *const path = store_fx_path;

static sc_attach_row row(int n, const uint8_t case_id[16], uint64_t size)
{
    sc_attach_row r;
    memset(&r, 0, sizeof r);
    r.attachment_id[0] = 0x02;
    r.attachment_id[15] = (uint8_t)n;
    memcpy(r.case_id, case_id, 16);
    snprintf(r.name, sizeof r.name, "scan-%d.pdf", n);
    snprintf(r.mime, sizeof r.mime, "application/pdf");
    r.size = size;
    r.sha256[0] = (uint8_t)n;
    snprintf(r.material, sizeof r.material, "户口簿");
    r.chunk_count = 2;
    r.local = true;
    return r;
}

static void test_saved_listed_read_and_counted(void **state)
{
    (void)state;
    sc_store *st = store_fx_open();
    uint8_t cid[16] = {0x01, [15] = 7};
    static const uint8_t data[] = "%PDF-1.4 scan";
    sc_attach_row a = row(1, cid, sizeof data);
    sj_error err;
    assert_int_equal(sc_store_attach_add(st, &a, data, sizeof data, &err), 0);
    sc_attach_row b = row(2, cid, 1000);
    b.local = false;
    assert_int_equal(sc_store_attach_add(st, &b, NULL, 0, &err), 0);
    assert_int_equal(sc_store_attach_case_bytes(st, cid), sizeof data + 1000);

    sc_attach_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(sc_store_attach_list(st, cid, &rows, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "scan-1.pdf");
    assert_string_equal(rows[0].material, "户口簿");
    assert_true(rows[0].local && rows[0].have_data);
    assert_false(rows[1].have_data);
    free(rows);

    uint8_t *got = NULL;
    size_t len = 0;
    assert_int_equal(sc_store_attach_data(st, a.attachment_id, &got, &len, &err), 0);
    assert_int_equal(len, sizeof data);
    assert_memory_equal(got, data, len);
    free(got);
    assert_int_equal(sc_store_attach_data(st, b.attachment_id, &got, &len, &err), SJ_ENOTFOUND);
    /* A copy fetched later fills in the data; the row stays one. */
    assert_int_equal(sc_store_attach_add(st, &b, data, sizeof data, &err), 0);
    assert_int_equal(sc_store_attach_data(st, b.attachment_id, &got, &len, &err), 0);
    free(got);

    /* Progress: counted up to the chunk count, a refusal kept. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(sc_store_attach_progress(st, a.attachment_id, true, 0, NULL, &err), 0);
    assert_int_equal(sc_store_attach_progress(st, b.attachment_id, false, SJ_EATTACH_HASH,
                                              "损坏", &err),
                     0);
    assert_int_equal(sc_store_attach_list(st, cid, &rows, &n, &err), 0);
    assert_int_equal(rows[0].chunks_applied, 2);
    assert_int_equal(rows[1].code, SJ_EATTACH_HASH);
    assert_string_equal(rows[1].reason, "损坏");
    free(rows);

    /* A chunk row is no action on the case: nothing to predict. */
    uint8_t mid[16] = {0x03, [15] = 1};
    static const uint8_t payload[] = "chunk";
    assert_int_equal(sc_store_outbox_add(st, mid, cid, SC_OUTBOX_CHUNK, payload, sizeof payload,
                                         1, &err),
                     0);
    assert_int_equal(sc_store_outbox_unfinished_for_case(st, cid), 0);
    assert_int_equal(sc_store_case_prediction_needed(st, cid), 0);
    /* The sender's list has the row without its payload; the row by its
     * id has it. */
    sc_outbox_entry *e = NULL;
    assert_int_equal(sc_store_outbox_pending(st, &e, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].action, SC_OUTBOX_CHUNK);
    assert_int_equal(e[0].payload_len, 0);
    sc_store_outbox_free(e, n);
    assert_int_equal(sc_store_outbox_get(st, mid, &e, &err), 0);
    assert_int_equal(e[0].payload_len, sizeof payload);
    sc_store_outbox_free(e, 1);
    sc_store_close(st);
}

static void test_format_3_store_gets_the_table(void **state)
{
    (void)state;
    sc_store *st = store_fx_open();
    uint8_t cid[16] = {0x01, [15] = 8}, mid[16] = {0x03, [15] = 2};
    sj_error err;
    static const uint8_t payload[] = "register";
    assert_int_equal(sc_store_outbox_add(st, mid, cid, 1, payload, sizeof payload, 1, &err), 0);
    sc_store_close(st);
    /* As a program of format 3 left it. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE attachments;"
                                  "UPDATE meta SET value = '3' WHERE key = 'schema';",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    st = store_fx_open();
    char v[16];
    assert_int_equal(sc_store_meta_get(st, "schema", v, sizeof v, &err), 0);
    assert_string_equal(v, "4");
    sc_attach_row a = row(3, cid, 10);
    assert_int_equal(sc_store_attach_add(st, &a, (const uint8_t *)"0123456789", 10, &err), 0);
    assert_int_equal(sc_store_attach_case_bytes(st, cid), 10);
    sc_outbox_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(sc_store_outbox_list(st, true, &e, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(e[0].message_id, mid, 16);
    sc_store_outbox_free(e, n);
    sc_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_saved_listed_read_and_counted, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_format_3_store_gets_the_table, store_fx_setup, store_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
