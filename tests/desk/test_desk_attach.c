/*
 * test_desk_attach.c - a case's attachments in sanji-desk (docs/DESKTOP.md
 * "附件"), offline at the station of 张官营村 (its store made by
 * desk_fixture_store(), real certificates from sanji-pki, no relay):
 *   - a case registered in the desk shows 没有附件 and the button that
 *     attaches a file;
 *   - a photo attached at the station (the store's attachments table,
 *     written as sc_attach() writes it) shows as a tile with its name, the
 *     material it answers and 附件上传中, and a click opens the viewer.
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "attach.h"
#include "certs.h"
#include "desk_fixture.h"
#include "store.h"

#define NODE "village:410423101201"
#define UNIT "410423101201"
#define PERSON "王秀英"
#define PASSWORD "zhiban-2026"

static sj_test_certs g_certs;
static char g_dir[512], g_store[600];

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_certs_setup(&g_certs) != 0)
        return -1;
    snprintf(g_dir, sizeof g_dir, "%s", g_certs.dir);
    snprintf(g_store, sizeof g_store, "%s/station.db", g_dir);
    sj_error err;
    if (desk_fixture_store(g_store, NODE, getenv("SANJI_SOURCE_DIR"), "p-" UNIT "-01", PERSON, 1,
                           UNIT, PASSWORD, &err) != 0) {
        fprintf(stderr, "fixture: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sj_test_certs_cleanup(&g_certs);
    return 0;
}

static int run(const char *tag, const char *script)
{
    char crt[512], key[512], bin[PATH_MAX];
    sj_test_certs_path(&g_certs, "village", "crt", crt, sizeof crt);
    sj_test_certs_path(&g_certs, "village", "key", key, sizeof key);
    snprintf(bin, sizeof bin, "%s", SANJI_DESK_BIN);
    /* Port 9 (discard) on loopback: nothing listens, the station is offline. */
    const char *args[] = {"--cert", crt, "--key", key, "--ca", g_certs.ca_file, "--address",
                          "127.0.0.1:9", "--store", g_store, NULL};
    return desk_fixture_run(XVFB_RUN, bin, g_dir, tag, args, script);
}

static void test_attachments_on_the_case_page(void **state)
{
    (void)state;
    assert_int_equal(run("register",
                         "wait-page login 20\n"
                         "set login.person " PERSON "\n"
                         "set login.password " PASSWORD "\n"
                         "click login.submit\n"
                         "wait-page home 30\n"
                         "click home.register\n"
                         "wait-page register\n"
                         "set register.search 低保\n"
                         "select register.items 0\n"
                         "set register.name 张建国\n"
                         "set register.id 410423198001011238\n"
                         "set register.phone 13812345678\n"
                         "set register.text '申请城乡低保。'\n"
                         "click register.save\n"
                         "wait-page case 10\n"
                         "wait-text window 没有附件 10\n"
                         "expect-text attachments.add 附加照片或扫描件\n"
                         "quit\n"),
                     0);

    /* A photo attached at the station, as sc_attach() saves it. */
    sc_store *st = NULL;
    sj_error err;
    if (sc_store_open(g_store, NODE, &st, &err) != 0)
        fail_msg("store: %s", err.message);
    sc_outbox_entry *rows = NULL;
    size_t n = 0;
    assert_int_equal(sc_store_outbox_list(st, false, &rows, &n, &err), 0);
    assert_int_equal(n, 1);
    sc_attach_row r;
    memset(&r, 0, sizeof r);
    r.attachment_id[0] = 0x01;
    r.attachment_id[6] = 0x70;
    r.attachment_id[15] = 0x42;
    memcpy(r.case_id, rows[0].case_id, 16);
    sc_store_outbox_free(rows, n);
    snprintf(r.name, sizeof r.name, "户口簿照片.png");
    size_t png_len = 0;
    const uint8_t *png = desk_fixture_png(&png_len);
    snprintf(r.mime, sizeof r.mime, "%s", sj_attach_sniff(png, png_len));
    r.size = png_len;
    sj_attach_sha256(png, png_len, r.sha256);
    snprintf(r.material, sizeof r.material, "户口簿");
    snprintf(r.actor_person, sizeof r.actor_person, "p-" UNIT "-01");
    r.chunk_count = 1;
    r.local = true;
    assert_int_equal(sc_store_attach_add(st, &r, png, png_len, &err), 0);
    sc_store_close(st);

    assert_int_equal(run("open",
                         "wait-page login 20\n"
                         "set login.person " PERSON "\n"
                         "set login.password " PASSWORD "\n"
                         "click login.submit\n"
                         "wait-page home 30\n"
                         "wait-text home.list 张建国 10\n"
                         "select home.list 0\n"
                         "wait-page case 10\n"
                         "wait-text attachments.tiles 户口簿照片.png 10\n"
                         "expect-text attachments.tiles 附件上传中\n"
                         "expect-text attachments.tiles 户口簿\n"
                         "expect-no-text window 没有附件\n"
                         "click attachments.tile.0\n"
                         "wait-text attachment.viewer 保存 10\n"
                         "print attachments.tiles\n"
                         "quit\n"),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attachments_on_the_case_page),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
