/*
 * test_desk_e2e.c - sanji-desk as a real process under Xvfb, driven
 * through its widgets by its test hook (--test-script), against a real
 * local store and real certificates.  The station is offline (its relay
 * address refuses connections), which is what a village sees on a bad day:
 * logging in, registering and keeping drafts must all work.
 *
 * Each test: a fresh store and script; the verdict comes from the program's
 * exit status and output, and from the store itself (the outbox row).
 * Set SANJI_DESK_SCREENSHOTS=DIR to keep screenshots of the main views.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "certs.h"
#include "desk_fixture.h"
#include "store.h"

#define NODE "village:410423101201"
#define UNIT "410423101201"
#define PERSON "王秀英"
#define PASSWORD "zhiban-2026"

typedef struct {
    sj_test_certs certs;
    char store[512];
    char script[512];
} ctx;

static sj_test_certs g_certs;
static bool g_certs_ready;

static int group_setup(void **state)
{
    if (sj_test_certs_setup(&g_certs) != 0)
        return -1;
    g_certs_ready = true;
    return 0;
}

static int group_teardown(void **state)
{
    if (g_certs_ready)
        sj_test_certs_cleanup(&g_certs);
    return 0;
}

static int setup(void **state)
{
    ctx *c = g_new0(ctx, 1);
    g_autofree char *dir = g_dir_make_tmp("desk-XXXXXX", NULL);
    assert_non_null(dir);
    snprintf(c->store, sizeof(c->store), "%s/station.db", dir);
    snprintf(c->script, sizeof(c->script), "%s/script.txt", dir);
    sj_error err;
    sj_error_clear(&err);
    int rc = desk_fixture_store(c->store, NODE, getenv("SANJI_SOURCE_DIR"), "p-410423101201-01",
                                PERSON, 1, UNIT, PASSWORD, &err);
    if (rc != 0)
        fail_msg("fixture: %s", err.message);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    g_autofree char *dir = g_path_get_dirname(c->store);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    g_free(c);
    return 0;
}

static char **desk_argv(ctx *c)
{
    char crt[512], key[512];
    sj_test_certs_path(&g_certs, "village", "crt", crt, sizeof(crt));
    sj_test_certs_path(&g_certs, "village", "key", key, sizeof(key));
    /* Port 9 (discard) on loopback: nothing listens, so the station is offline. */
    const char *v[] = {XVFB_RUN, "-a", "-s", "-screen 0 1280x1000x24", SANJI_DESK_BIN,
                       "--cert", crt, "--key", key, "--ca", g_certs.ca_file,
                       "--address", "127.0.0.1:9", "--store", c->store,
                       "--test-script", c->script, NULL};
    return g_strdupv((char **)v);
}

static char **desk_env(void)
{
    char **env = g_get_environ();
    env = g_environ_setenv(env, "GSK_RENDERER", "cairo", TRUE);
    env = g_environ_setenv(env, "NO_AT_BRIDGE", "1", TRUE);
    env = g_environ_setenv(env, "GDK_BACKEND", "x11", TRUE);
    env = g_environ_setenv(env, "LANG", "C.UTF-8", TRUE);
    env = g_environ_unsetenv(env, "LANGUAGE");
    env = g_environ_unsetenv(env, "LC_ALL");
    env = g_environ_unsetenv(env, "LC_MESSAGES");
    return env;
}

/* Runs the script; returns the exit status and the output (g_free). */
static int run_desk(ctx *c, const char *script, char **out)
{
    assert_true(g_file_set_contents(c->script, script, -1, NULL));
    g_auto(GStrv) argv = desk_argv(c);
    g_auto(GStrv) env = desk_env();
    g_autofree char *err_text = NULL;
    int status = 0;
    g_autoptr(GError) e = NULL;
    if (!g_spawn_sync(NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, out, &err_text, &status, &e))
        fail_msg("spawn: %s", e->message);
    printf("--- sanji-desk output ---\n%s", *out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        printf("--- stderr ---\n%s", err_text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *shot(const char *name)
{
    const char *dir = getenv("SANJI_DESK_SCREENSHOTS");
    if (!dir || !*dir)
        return g_strdup("");
    return g_strdup_printf("screenshot window '%s/%s.png'\n", dir, name);
}

static const char *LOGIN = "wait-page login 20\n"
                           "set login.person " PERSON "\n"
                           "set login.password " PASSWORD "\n";

static void outbox_rows(ctx *c, size_t *n, int *action, sc_out_state *state)
{
    sc_store *st = NULL;
    sj_error err;
    if (sc_store_open(c->store, NODE, &st, &err) != 0)
        fail_msg("store: %s", err.message);
    sc_outbox_entry *rows = NULL;
    assert_int_equal(sc_store_outbox_list(st, false, &rows, n, &err), 0);
    if (*n > 0) {
        *action = rows[0].action;
        *state = rows[0].state;
    }
    sc_store_outbox_free(rows, *n);
    sc_store_close(st);
}

/* Offline log-in from cached verifiers, register, and the case shows as
 * saved here; the outbox holds exactly that row. */
static void test_register_offline_is_saved(void **state)
{
    ctx *c = *state;
    g_autofree char *s1 = shot("login"), *s2 = shot("home"), *s3 = shot("register"),
                    *s4 = shot("case");
    g_autofree char *script = g_strdup_printf(
        "%s%s"
        "click login.submit\n"
        "wait-page home 30\n"
        "expect-text link.state 离线\n"
        "expect-text home.count.0 0\n"
        "%s"
        "click home.register\n"
        "wait-page register\n"
        "set register.search 低保\n"
        "expect-text register.items 城乡低保申请\n"
        "select register.items 0\n"
        "expect-text register.detail 居民身份证\n"
        "set register.name 张建国\n"
        "set register.id 410423198001011238\n"
        "set register.phone 13812345678\n"
        "set register.text '家中两位老人无固定收入，申请城乡低保。'\n"
        "%s"
        "click register.save\n"
        "wait-page case 10\n"
        "wait-text case.delivery 已保存 10\n"
        "expect-text case.status 已登记\n"
        "expect-text case.title 城乡低保申请\n"
        "expect-text case.timeline 已保存\n"
        "print case.title\n"
        "print case.delivery\n"
        "expect-text link.outbox 1\n"
        "%s"
        "page home\n"
        "wait-text home.count.0 1 5\n"
        "expect-text home.list 张建国\n"
        "%s"
        "quit\n",
        LOGIN, s1, "", s3, s4, s2);
    g_autofree char *out = NULL;
    assert_int_equal(run_desk(c, script, &out), 0);
    assert_non_null(strstr(out, "desk-test: ok"));
    size_t n = 0;
    int action = 0;
    sc_out_state st = 0;
    outbox_rows(c, &n, &action, &st);
    assert_int_equal(n, 1);
    assert_int_equal(action, 1 /* REGISTER */);
    assert_int_equal(st, SC_OUT_SAVED);
}

/* A wrong password keeps the cadre on the log-in page with a plain reason. */
static void test_wrong_password_is_refused(void **state)
{
    ctx *c = *state;
    const char *script = "wait-page login 20\n"
                         "set login.person " PERSON "\n"
                         "set login.password wrong-password\n"
                         "click login.submit\n"
                         "wait-text login.message 密码 20\n"
                         "print login.message\n"
                         "expect-text window 登录\n"
                         "wait-page login 1\n"
                         "quit\n";
    g_autofree char *out = NULL;
    assert_int_equal(run_desk(c, script, &out), 0);
}

/* A bad ID check digit and a bad phone are named next to their fields and
 * nothing reaches the outbox. */
static void test_bad_input_is_not_saved(void **state)
{
    ctx *c = *state;
    g_autofree char *script = g_strdup_printf(
        "%s"
        "click login.submit\n"
        "wait-page home 30\n"
        "page register\n"
        "set register.search 低保\n"
        "select register.items 0\n"
        "set register.name 张建国\n"
        "set register.id 410423198001011234\n"
        "wait-text register.id.error 校验 5\n"
        "set register.phone 1381234567X\n"
        "wait-text register.phone.error 手机号码 5\n"
        "click register.save\n"
        "wait-text register.message 未保存 5\n"
        "expect-text register.text.error 诉求\n"
        "wait-page register 1\n"
        "print register.id.error\n"
        "print register.phone.error\n"
        "quit\n",
        LOGIN);
    g_autofree char *out = NULL;
    assert_int_equal(run_desk(c, script, &out), 0);
    size_t n = 0;
    int action = 0;
    sc_out_state st = 0;
    outbox_rows(c, &n, &action, &st);
    assert_int_equal(n, 0);
}

static void new_session(gpointer data)
{
    (void)setsid();
}

/* What was typed survives kill -9 of the program: the next start shows it. */
static void test_draft_survives_kill(void **state)
{
    ctx *c = *state;
    g_autofree char *script1 = g_strdup_printf(
        "%s"
        "click login.submit\n"
        "wait-page home 30\n"
        "page register\n"
        "set register.name 李桂兰\n"
        "set register.phone 13912345678\n"
        "set register.text '申请残疾人两项补贴'\n"
        "sleep 600000\n",
        LOGIN);
    assert_true(g_file_set_contents(c->script, script1, -1, NULL));
    g_auto(GStrv) argv = desk_argv(c);
    g_auto(GStrv) env = desk_env();
    GPid pid;
    g_autoptr(GError) e = NULL;
    /* Its own process group, so kill -9 reaches xvfb-run, Xvfb and the desk. */
    assert_true(g_spawn_async(NULL, argv, env, G_SPAWN_DO_NOT_REAP_CHILD, new_session,
                              NULL, &pid, &e));
    g_autofree char *draft = g_strdup_printf("%s.register.draft", c->store);
    bool seen = false;
    for (int i = 0; i < 600 && !seen; i++) {
        g_autofree char *text = NULL;
        seen = g_file_get_contents(draft, &text, NULL, NULL) && strstr(text, "申请残疾人两项补贴");
        if (!seen)
            g_usleep(100000);
    }
    kill(-pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    assert_true(seen);

    g_autofree char *script2 = g_strdup_printf(
        "%s"
        "click login.submit\n"
        "wait-page home 30\n"
        "page register\n"
        "expect-text register.name 李桂兰\n"
        "expect-text register.phone 13912345678\n"
        "expect-text register.text 申请残疾人两项补贴\n"
        "expect-text register.message 恢复\n"
        "quit\n",
        LOGIN);
    g_autofree char *out = NULL;
    assert_int_equal(run_desk(c, script2, &out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_offline_is_saved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_password_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_is_not_saved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_draft_survives_kill, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
