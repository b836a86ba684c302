/*
 * test_sqlstore.c - sj_sqlstore_open() on real SQLite files in a temporary
 * directory: a new file is created with its meta rows, a file of ours opens
 * again, and every file that is not ours or is damaged is refused with the
 * right code and left exactly as it was.
 *
 * Entry point: main().
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

#include "sqlstore.h"

static const sj_sqlstore_spec SPEC = {
    .kind_zh = "测试存储",
    .kind_en = "test store",
    .program = "test_sqlstore",
    .marker = "sanji-test-store",
    .format_version = 2,
    .accept_older = false,
    .full_check = true,
    .key_marker = "format",
    .key_version = "format_version",
    .key_node = "node_id",
    .schema = "CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT);",
    .damaged_zh = "请从备份恢复",
    .damaged_en = "restore it from a backup",
};

#define NODE "relay:410423101000"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/sanji-test-sqlstore-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void exec_ok(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static sqlite3 *open_ok(const char *path, const sj_sqlstore_spec *spec, const char *node,
                        bool ro, sj_sqlstore_info *info)
{
    sqlite3 *db = NULL;
    sj_error err;
    int rc = sj_sqlstore_open(path, spec, node, ro, &db, info, &err);
    if (rc != 0)
        fail_msg("open: %s: %s", sj_err_name(rc), err.message);
    assert_non_null(db);
    return db;
}

static void make_store(const char *path)
{
    sj_sqlstore_info info;
    sqlite3 *db = open_ok(path, &SPEC, NODE, false, &info);
    assert_true(info.created);
    sqlite3_close(db);
}

static void test_new_store_created_and_reopened(void **state)
{
    fixture *f = *state;
    sj_sqlstore_info info;
    sqlite3 *db = open_ok(f->path, &SPEC, NODE, false, &info);
    assert_true(info.created);
    assert_int_equal(info.format_version, 2);
    assert_string_equal(info.node_id, NODE);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO items (v) VALUES ('x')", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    db = open_ok(f->path, &SPEC, NODE, false, &info);
    assert_false(info.created);
    assert_string_equal(info.node_id, NODE);
    sqlite3_close(db);
    /* Read-only, without a node: the store says whose it is. */
    db = open_ok(f->path, &SPEC, NULL, true, &info);
    assert_string_equal(info.node_id, NODE);
    sqlite3_close(db);
}

/* A copy in rollback-journal mode (sanji-backup-store.sh makes its copies
 * so) opens as the store it is, and is put back in WAL mode. */
static void test_journal_mode_copy_opens(void **state)
{
    fixture *f = *state;
    make_store(f->path);
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    sj_sqlstore_info info;
    sqlite3 *db = open_ok(f->path, &SPEC, NODE, false, &info);
    assert_false(info.created);
    assert_int_equal(info.format_version, 2);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* Each row: how the file is spoilt, the code wanted, a word the message must
 * hold. */
typedef struct refusal {
    const char *name;
    bool ours_first;       /* make a valid store before spoiling it */
    const char *sql;       /* run on it (NULL: none) */
    const char *garbage;   /* or write this text as the whole file */
    const char *node;      /* node asking */
    int code;
    const char *says;
} refusal;

static const refusal REFUSALS[] = {
    {"not sqlite", false, NULL, "this is not a database, just text\n", NODE, SJ_ESTORE_CORRUPT,
     "已损坏"},
    {"other program", false, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NODE,
     SJ_ESTORE_FOREIGN, "不是三级测试存储"},
    {"other marker", true, "UPDATE meta SET value = 'sanji-client' WHERE key = 'format'", NULL,
     NODE, SJ_ESTORE_FOREIGN, "store.path"},
    {"other node", true, NULL, NULL, "relay:410423102000", SJ_ESTORE_FOREIGN, NODE},
    {"newer format", true, "UPDATE meta SET value = '3' WHERE key = 'format_version'", NULL, NODE,
     SJ_ESTORE_FOREIGN, "test_sqlstore"},
    {"older format", true, "UPDATE meta SET value = '1' WHERE key = 'format_version'", NULL, NODE,
     SJ_ESTORE_FOREIGN, "test_sqlstore"},
    {"version unreadable", true, "UPDATE meta SET value = 'x' WHERE key = 'format_version'", NULL,
     NODE, SJ_ESTORE_CORRUPT, "从备份恢复"},
    {"no node", true, "DELETE FROM meta WHERE key = 'node_id'", NULL, NODE, SJ_ESTORE_FOREIGN,
     "store.path"},
};

static void test_refusals_leave_the_file_as_it_was(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof REFUSALS / sizeof REFUSALS[0]; i++) {
        const refusal *r = &REFUSALS[i];
        unlink(f->path);
        if (r->garbage) {
            FILE *fp = fopen(f->path, "w");
            assert_non_null(fp);
            fputs(r->garbage, fp);
            fclose(fp);
        }
        if (r->ours_first)
            make_store(f->path);
        if (r->sql)
            exec_ok(f->path, r->sql);
        FILE *fp = fopen(f->path, "rb");
        assert_non_null(fp);
        char before[4096];
        size_t nb = fread(before, 1, sizeof before, fp);
        fclose(fp);

        sqlite3 *db = (sqlite3 *)1;
        sj_error err;
        sj_error_clear(&err);
        int rc = sj_sqlstore_open(f->path, &SPEC, r->node, false, &db, NULL, &err);
        if (rc != r->code)
            fail_msg("%s: got %s (%s), want %s", r->name, sj_err_name(rc), err.message,
                     sj_err_name(r->code));
        assert_null(db);
        if (!strstr(err.message, r->says))
            fail_msg("%s: message \"%s\" does not say \"%s\"", r->name, err.message, r->says);
        fp = fopen(f->path, "rb");
        assert_non_null(fp);
        char after[4096];
        size_t na = fread(after, 1, sizeof after, fp);
        fclose(fp);
        if (na != nb || memcmp(before, after, nb) != 0)
            fail_msg("%s: the refused file was changed", r->name);
    }
}

static void test_older_format_accepted_when_the_spec_says(void **state)
{
    fixture *f = *state;
    make_store(f->path);
    exec_ok(f->path, "UPDATE meta SET value = '1' WHERE key = 'format_version'");
    sj_sqlstore_spec older = SPEC;
    older.accept_older = true;
    sj_sqlstore_info info;
    sqlite3 *db = open_ok(f->path, &older, NODE, false, &info);
    assert_int_equal(info.format_version, 1);
    sqlite3_close(db);
}

static void test_read_only_never_creates(void **state)
{
    fixture *f = *state;
    sqlite3 *db = NULL;
    sj_error err;
    /* No file: cannot open. */
    assert_int_equal(sj_sqlstore_open(f->path, &SPEC, NULL, true, &db, NULL, &err), SJ_EIO);
    assert_int_equal(access(f->path, F_OK), -1);
    /* An empty file: nothing to read, and it stays empty. */
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(sj_sqlstore_open(f->path, &SPEC, NULL, true, &db, NULL, &err),
                     SJ_ENOTFOUND);
    assert_non_null(strstr(err.message, "test_sqlstore"));
    fp = fopen(f->path, "rb");
    assert_non_null(fp);
    assert_int_equal(fgetc(fp), EOF);
    fclose(fp);
    /* Writing needs a node. */
    assert_int_equal(sj_sqlstore_open(f->path, &SPEC, NULL, false, &db, NULL, &err), SJ_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_store_created_and_reopened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_leave_the_file_as_it_was, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_format_accepted_when_the_spec_says, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_only_never_creates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_mode_copy_opens, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
