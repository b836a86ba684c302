/*
 * test_desk_draft.c - form drafts on disk (client/desk/desk-draft.c): what
 * is set is read back by a new process's open, clearing removes the file,
 * and a damaged file is moved aside, not overwritten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "desk-draft.h"

static int setup(void **state)
{
    char *dir = g_dir_make_tmp("draft-XXXXXX", NULL);
    assert_non_null(dir);
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char *dir = *state;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    g_free(dir);
    return 0;
}

static char *path_in(void **state)
{
    g_autofree char *store = g_build_filename(*state, "station.db", NULL);
    return desk_draft_path(store, "register");
}

static void test_set_survives_reopen(void **state)
{
    g_autofree char *path = path_in(state);
    sj_error err;
    desk_draft *d = desk_draft_open(path);
    assert_true(desk_draft_is_empty(d));
    assert_int_equal(desk_draft_set(d, "name", "张建国", &err), 0);
    assert_int_equal(desk_draft_set(d, "text", "第一行\n第二行 = 有等号 # 和井号", &err), 0);
    desk_draft_free(d); /* no close step: every set is already on disk */
    d = desk_draft_open(path);
    assert_false(desk_draft_is_empty(d));
    assert_string_equal(desk_draft_get(d, "name"), "张建国");
    assert_string_equal(desk_draft_get(d, "text"), "第一行\n第二行 = 有等号 # 和井号");
    assert_string_equal(desk_draft_get(d, "phone"), "");
    desk_draft_free(d);
}

static void test_empty_value_removes_key(void **state)
{
    g_autofree char *path = path_in(state);
    sj_error err;
    desk_draft *d = desk_draft_open(path);
    assert_int_equal(desk_draft_set(d, "name", "李", &err), 0);
    assert_int_equal(desk_draft_set(d, "name", "", &err), 0);
    assert_true(desk_draft_is_empty(d));
    desk_draft_free(d);
}

static void test_clear_removes_file(void **state)
{
    g_autofree char *path = path_in(state);
    sj_error err;
    desk_draft *d = desk_draft_open(path);
    assert_int_equal(desk_draft_set(d, "name", "李", &err), 0);
    assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    assert_int_equal(desk_draft_clear(d, &err), 0);
    assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    assert_true(desk_draft_is_empty(d));
    desk_draft_free(d);
}

static void test_damaged_file_is_moved_aside(void **state)
{
    g_autofree char *path = path_in(state);
    g_autofree char *bad = g_strdup_printf("%s.bad", path);
    assert_true(g_file_set_contents(path, "this is [not a key file\n\x01", -1, NULL));
    desk_draft *d = desk_draft_open(path);
    assert_true(desk_draft_is_empty(d));
    assert_true(g_file_test(bad, G_FILE_TEST_EXISTS));
    desk_draft_free(d);
}

static void test_unwritable_folder_is_an_error(void **state)
{
    sj_error err;
    desk_draft *d = desk_draft_open("/nonexistent-folder/station.db.register.draft");
    assert_int_equal(desk_draft_set(d, "name", "李", &err), SJ_EIO);
    assert_non_null(strstr(err.message, "/nonexistent-folder"));
    desk_draft_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_value_removes_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_removes_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_file_is_moved_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_folder_is_an_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
