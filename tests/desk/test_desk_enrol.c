/*
 * test_desk_enrol.c - "导入本站配置": sanji-desk started without a
 * configuration sets the station up from its enrolment bundle.
 *
 * A real county PKI (certs.h) and the real sanji-pki make the bundle of
 * 张官营村 (410423101201) from the demo org tree.  sanji-desk under
 * xvfb-run, pointed (SANJI_CONFIG) at a configuration file that does not
 * exist yet, shows its set-up page; the test script types the bundle's
 * path and first a wrong passphrase (refused in Chinese, nothing written),
 * then the slip's (the station is set up).  The files are there, the key
 * readable by its owner only, and sanji-desk started again with the same
 * SANJI_CONFIG comes up at the log-in page.
 *
 * Waits in the scripts only catch a hang.
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
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <glib.h>

#include "desk_fixture.h"
#include "certs.h"

static sj_test_certs g_certs;
static char g_bundle[600], g_conf[600], g_script[600], g_pass[64];

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_certs_setup(&g_certs) != 0)
        return -1;
    const char *src = getenv("SANJI_SOURCE_DIR");
    g_autofree char *csv = g_strdup_printf("%s/deploy/demo/orgunits.csv", src ? src : ".");
    g_autofree char *out = g_strdup_printf("%s/bundles", g_certs.dir);
    const char *argv[] = {g_certs.pki, "enrol", "--dir", g_certs.ca_dir, "--orgunits", csv,
                          "--unit", "410423101201", "--address", "127.0.0.1:9", "--out", out,
                          NULL};
    g_autofree char *text = NULL, *err_text = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &text, &err_text,
                      &status, NULL) ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "sanji-pki enrol failed: %s%s\n", text ? text : "", err_text ? err_text : "");
        return -1;
    }
    snprintf(g_bundle, sizeof g_bundle, "%s/410423101201-village.sanji", out);
    snprintf(g_conf, sizeof g_conf, "%s/station/client.conf", g_certs.dir);
    snprintf(g_script, sizeof g_script, "%s/desk.script", g_certs.dir);
    g_autofree char *slip = NULL;
    g_autofree char *slip_path = g_strdup_printf("%s/410423101201-village.slip.txt", out);
    if (!g_file_get_contents(slip_path, &slip, NULL, NULL))
        return -1;
    const char *p = strstr(slip, "口令 passphrase:");
    if (!p || sscanf(p + strlen("口令 passphrase:"), "%63s", g_pass) != 1)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sj_test_certs_cleanup(&g_certs);
    return 0;
}

/* Runs sanji-desk with the script and SANJI_CONFIG; returns its exit status. */
static int run_desk(const char *script)
{
    assert_true(g_file_set_contents(g_script, script, -1, NULL));
    const char *argv[] = {XVFB_RUN, "-a", "-s", "-screen 0 1280x1000x24", SANJI_DESK_BIN,
                          "--test-script", g_script, NULL};
    char **env = g_get_environ();
    env = g_environ_setenv(env, "GSK_RENDERER", "cairo", TRUE);
    env = g_environ_setenv(env, "NO_AT_BRIDGE", "1", TRUE);
    env = g_environ_setenv(env, "GDK_BACKEND", "x11", TRUE);
    env = g_environ_setenv(env, "LANG", "C.UTF-8", TRUE);
    env = g_environ_setenv(env, "SANJI_CONFIG", g_conf, TRUE);
    env = g_environ_unsetenv(env, "LANGUAGE");
    env = g_environ_unsetenv(env, "LC_ALL");
    env = g_environ_unsetenv(env, "LC_MESSAGES");
    g_autofree char *out = NULL, *err_text = NULL;
    int status = 0;
    g_autoptr(GError) e = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err_text,
                      &status, &e))
        fail_msg("spawn: %s", e->message);
    g_strfreev(env);
    printf("--- sanji-desk output ---\n%s", out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        printf("--- stderr ---\n%s", err_text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_import_from_the_setup_page(void **state)
{
    (void)state;
    struct stat st;
    g_autofree char *s_setup = desk_fixture_shot("setup");
    g_autofree char *script = g_strdup_printf(
        "set setup.file '%s'\n"
        "set setup.passphrase AAAA-BBBB-CCCC-DDDD-EEEE\n"
        "click setup.import\n"
        "wait-text setup.status 口令不对 60\n"
        "set setup.passphrase '%s'\n"
        "click setup.import\n"
        "wait-text setup.status 本站已设置为 60\n"
        "expect-text setup.status village:410423101201\n"
        "%s"
        "quit\n",
        g_bundle, g_pass, s_setup);
    assert_int_equal(run_desk(script), 0);
    assert_int_equal(stat(g_conf, &st), 0);
    g_autofree char *dir = g_path_get_dirname(g_conf);
    g_autofree char *key = g_strdup_printf("%s/station.key", dir);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* Started again: the station's configuration is found, log-in page. */
    assert_int_equal(run_desk("wait-page login 60\nquit\n"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_from_the_setup_page),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
