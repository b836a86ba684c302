/*
 * test_desk_e2e.c - sanji-desk as a real process under Xvfb, driven
 * through its widgets by its test hook (--test-script).
 *
 * Two groups:
 *   offline: a real local store and real certificates, the station's relay
 *     address refusing connections (what a village sees on a bad day):
 *     logging in, registering (with 添加附件: a file of the wrong kind and
 *     one past the size limit refused when chosen, a photo attached with
 *     the case), refusing bad input and keeping drafts must all work; the form does not move under the pointer when its error
 *     lines fill, its summary is in view, item codes show whole, the ID
 *     example is valid, Tab goes from the name to the password.  Each
 *     test: a fresh store and script.
 *   network: the real local network of deploy/localnet.sh (private
 *     PostgreSQL, sanji-countyd, two sanji-relayd) in a temporary
 *     SANJI_NET_DIR on a free SANJI_PORT_BASE, and three desks in turn: the
 *     station registers a case with a photo of the 户口簿 attached on the
 *     form (it reaches the county whole) and sees it saved, at the township (the
 *     county is stopped meanwhile) and recorded with its number, then opens
 *     一次告知 (which fills in the item's materials) and escalates instead,
 *     and the escalation carries no materials; the link bar shows the
 *     county link down while the county is stopped and up again after; the
 *     township sends the case back with a reason, which the station sees in
 *     the banner and a notification that opens the case when clicked, the
 *     station escalates again, and logging out withdraws the notification;
 *     the township desk accepts it from 待签收; the county desk shows the
 *     network, the statistics, the 通报's charts (saved as PDF and .xlsx;
 *     a station saves its 台账, names masked) and this month's period statistics by
 *     township.  Each step is also checked in PostgreSQL.
 *
 * The verdict comes from the program's exit status and output, and from
 * the store or the county's database.  Set SANJI_DESK_SCREENSHOTS=DIR to
 * keep screenshots of the main views (docs/screenshots is made so).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "case.h"
#include "certs.h"
#include "desk_fixture.h"
#include "files.h"
#include "proc.h"
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
/* The files the offline registration chooses: a photo and a PDF to
 * attach, a text file (not a kind Sanji takes) and a "photo" one byte past
 * the 10 MiB limit (attachment.max_file's default); their paths in dir. */
static void attachment_files(const char *dir)
{
    size_t png_len = 0;
    const uint8_t *png = desk_fixture_png(&png_len);
    g_autofree char *photo = g_strdup_printf("%s/户口簿.png", dir);
    assert_true(g_file_set_contents(photo, (const char *)png, (gssize)png_len, NULL));
    g_autofree char *pdf = g_strdup_printf("%s/收入证明.pdf", dir);
    assert_true(g_file_set_contents(pdf, "%PDF-1.4\n%%EOF\n", -1, NULL));
    g_autofree char *txt = g_strdup_printf("%s/说明.txt", dir);
    assert_true(g_file_set_contents(txt, "不是照片\n", -1, NULL));
    gsize big_len = 10 * 1024 * 1024 + 1;
    g_autofree char *big = g_malloc0(big_len);
    memcpy(big, png, png_len);
    g_autofree char *big_path = g_strdup_printf("%s/大照片.png", dir);
    assert_true(g_file_set_contents(big_path, big, (gssize)big_len, NULL));
}

static void test_register_offline_is_saved(void **state)
{
    ctx *c = *state;
    g_autofree char *dir = g_path_get_dirname(c->store);
    attachment_files(dir);
    g_autofree char *shot = desk_fixture_shot("register-attachments");
    /* 添加附件: a text file and a file past the limit are refused when
     * chosen, with the reason; a photo and a PDF are listed, the photo
     * named as the 户口簿 of the item's materials, the PDF removed again. */
    g_autofree char *attach = g_strdup_printf(
        "choose-file '%s/说明.txt'\n"
        "click register.attach\n"
        "expect-text register.attach.error '说明.txt 未添加'\n"
        "expect-text register.attach.error 'JPEG、PNG 或 PDF'\n"
        "choose-file '%s/大照片.png'\n"
        "click register.attach\n"
        "expect-text register.attach.error 每个文件最多\n"
        "choose-file '%s/户口簿.png'\n"
        "click register.attach\n"
        "expect-text register.attachments 户口簿.png\n"
        "expect-no-text register.attach.error 未添加\n"
        "select-text register.attachment.material.0 户口簿\n"
        "choose-file '%s/收入证明.pdf'\n"
        "click register.attach\n"
        "expect-rows register.attachments 2\n"
        "select-text register.attachment.material.1 家庭收入证明\n"
        "choose-file '%s/户口簿.png'\n"
        "click register.attach\n"
        "expect-text register.attach.error 已在列表中\n"
        "click register.attachment.remove.1\n"
        "expect-rows register.attachments 1\n"
        "expect-no-text register.attachments 收入证明.pdf\n"
        "print register.attachments\n"
        /* The screenshot: one photo listed, a refusal under the list. */
        "choose-file '%s/说明.txt'\n"
        "click register.attach\n"
        "scroll-page register.save 1\n"
        "expect-in-view register.attach.error\n"
        "%s"
        "scroll-page register.save 0\n",
        dir, dir, dir, dir, dir, dir, shot);
    g_autofree char *s1 = desk_fixture_shot("login"), *s2 = desk_fixture_shot("home"), *s3 = desk_fixture_shot("register"),
                    *s4 = desk_fixture_shot("case");
    g_autofree char *script = g_strdup_printf(
        "%s%s"
        "click login.submit\n"
        "wait-page home 30\n"
        "expect-text link.state 离线\n"
        "expect-text home.count.0 0\n"
        /* The counts are of every case at the station, not of today. */
        "expect-no-text window 本站今日\n"
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
        "%s"
        "click register.save\n"
        "wait-page case 10\n"
        "wait-text case.delivery 已保存 10\n"
        "wait-text attachments.tiles 户口簿.png 10\n"
        "expect-text case.status 已登记\n"
        "expect-text case.facts 410423198001011238\n"
        "expect-text case.facts 13812345678\n"
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
        LOGIN, s1, "", attach, s3, s4, s2);
    g_autofree char *out = NULL;
    assert_int_equal(run_desk(c, script, &out), 0);
    assert_non_null(strstr(out, "desk-test: ok"));
    size_t n = 0;
    int action = 0;
    sc_out_state st = 0;
    outbox_rows(c, &n, &action, &st);
    /* The registration, then the photo's one chunk (below). */
    assert_int_equal(n, 2);
    assert_int_equal(action, 1 /* REGISTER */);
    assert_int_equal(st, SC_OUT_SAVED);
    /* The photo was attached to the case saved, with its material, as
     * sc_attach() saves a file: whole, its chunk waiting in the outbox
     * behind the registration. */
    sc_store *sto = NULL;
    sj_error err;
    if (sc_store_open(c->store, NODE, &sto, &err) != 0)
        fail_msg("store: %s", err.message);
    sc_outbox_entry *rows = NULL;
    assert_int_equal(sc_store_outbox_list(sto, false, &rows, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[1].action, SC_OUTBOX_CHUNK);
    assert_memory_equal(rows[1].case_id, rows[0].case_id, 16);
    assert_int_equal(rows[1].state, SC_OUT_SAVED);
    sc_attach_row *att = NULL;
    size_t n_att = 0;
    assert_int_equal(sc_store_attach_list(sto, rows[0].case_id, &att, &n_att, &err), 0);
    sc_store_outbox_free(rows, n);
    assert_int_equal(n_att, 1);
    assert_string_equal(att[0].name, "户口簿.png");
    assert_string_equal(att[0].mime, "image/png");
    assert_string_equal(att[0].material, "户口簿");
    size_t png_len = 0;
    desk_fixture_png(&png_len);
    assert_int_equal(att[0].size, png_len);
    assert_true(att[0].local);
    free(att);
    sc_store_close(sto);
}

/* A wrong password keeps the cadre on the log-in page with a plain reason. */
static void test_wrong_password_is_refused(void **state)
{
    ctx *c = *state;
    const char *script = "wait-page login 20\n"
                         /* Tab from the name goes to the password, not to the
                          * name buttons (a password typed there is lost). */
                         "tab-from login.person login.password\n"
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
    g_autofree char *s_errors = desk_fixture_shot("register-errors");
    g_autofree char *script = g_strdup_printf(
        "%s"
        "click login.submit\n"
        "wait-page home 30\n"
        "page register\n"
        /* The example in the placeholder passes the check it shows. */
        "expect-placeholder register.id 410423198001011238\n"
        /* 户口: the items named with it first, and every code whole. */
        /* A window narrower than the default, where long names reach the
         * list's edge. */
        "resize-window 860 760\n"
        "set register.search 户口\n"
        "expect-whole register.items HJ-004\n"
        "expect-whole register.items CJ-004\n"

        "select register.items 0\n"
        "expect-text register.detail 户口迁移\n"
        "set register.search 低保\n"
        "select-text register.items 城乡低保申请\n"
        /* Only an ideographic and a no-break space: blank, not a name. */
        "set register.name '\u3000\u00a0'\n"
        "set register.id 410423198001011234\n"
        "wait-text register.id.error 校验 5\n"
        "set register.phone 1381234567X\n"
        "wait-text register.phone.error 手机号码 5\n"
        /* What the pointer may be over when the error lines fill. */
        "keep-place register.phone\n"
        "keep-place register.text.error\n"
        "keep-place register.urgent\n"
        "keep-place register.text\n"
        "keep-place register.save\n"
        "scroll-page register.save 1\n"
        "click register.save\n"
        "wait-text register.message 未保存 5\n"
        "expect-in-view register.message\n"
        "expect-text register.text.error 诉求\n"
        "expect-text register.name.error 姓名\n"
        "scroll-page register.save 0\n"
        "expect-same-place register.phone\n"
        "expect-same-place register.text\n"
        "expect-same-place register.text.error\n"
        "expect-same-place register.urgent\n"
        "expect-same-place register.text\n"
        "expect-same-place register.save\n"
        "%s"
        "wait-page register 1\n"
        "print register.id.error\n"
        "print register.phone.error\n"
        "print register.name.error\n"
        "quit\n",
        LOGIN, s_errors);
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

/* ---- the real network ------------------------------------------------------ */

#define T101 "410423101000"      /* 张官营镇: its relay, its township desk */
#define V201 "410423101201"      /* 张官营村, a station of 张官营镇 */
#define V201_LAST5 "01201"     /* its last five digits: localnet.sh's made-up station phone */
#define V301 "410423102201"      /* 梁洼村, a station of the other township */
#define APPLICANT "张建国"

typedef struct {
    char net[PATH_MAX];          /* SANJI_NET_DIR of this test's network */
    char source[PATH_MAX];
    char build[PATH_MAX];
    int port_base;
    PGconn *db;
    bool started;
    char number[64];             /* the case the station desk registered */
} network;

static network NET;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    /* As the daemons bind (libuv sets SO_REUSEADDR): a port whose closed
     * connections wait in TIME_WAIT is free for them. */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Three free ports in a row: the county, then the two relays. */
static int free_port_base(void)
{
    for (int i = 0; i < 200; i++) {
        int base = 21000 + (int)((getpid() * 37 + i * 97) % 30000);
        if (port_free(base) && port_free(base + 1) && port_free(base + 2))
            return base;
    }
    return -1;
}

static int localnet(const char *what)
{
    return sh("'%s/deploy/localnet.sh' %s >>'%s/localnet.log' 2>&1", NET.source, what, NET.net);
}

/* Runs the sanji CLI at a node; its output (the --json answer) in out. */
static int cli(const char *node, char *out, size_t cap, const char *args)
{
    g_autofree char *cmd = g_strdup_printf("'%s/client/sanji' --config '%s/%s/client.conf' --json %s 2>>'%s/cli.log'",
                                           NET.build, NET.net, node, args, NET.net);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The value of "key":"..." in a JSON answer ("" when absent). */
static void json_str(const char *json, const char *key, char *buf, size_t cap)
{
    g_autofree char *pat = g_strdup_printf("\"%s\":\"", key);
    const char *p = strstr(json, pat);
    buf[0] = '\0';
    if (!p)
        return;
    p += strlen(pat);
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < cap) {
        buf[n] = p[n];
        n++;
    }
    buf[n] = '\0';
}

/* A case made at a station with the CLI, to give the pages something
 * besides the case the desk makes: resolved at once, and with feedback
 * (closed) when feedback is not NULL. */
static int cli_case(const char *station, const char *item, const char *name, const char *id,
                    bool resolve, const char *feedback)
{
    char out[8192], number[64], args[1024];
    snprintf(args, sizeof args,
             "register --item %s --name %s --id %s --phone 13700000000 --text '代办测试' --wait-applied",
             item, name, id);
    if (cli(station, out, sizeof out, args) != 0)
        return -1;
    json_str(out, "case_number", number, sizeof number);
    if (!*number)
        return -1;
    if (resolve) {
        snprintf(args, sizeof args, "resolve-now %s --result 已当场办结 --wait-applied", number);
        if (cli(station, out, sizeof out, args) != 0)
            return -1;
    }
    if (feedback) {
        snprintf(args, sizeof args, "feedback %s --satisfaction %s --wait-applied", number, feedback);
        if (cli(station, out, sizeof out, args) != 0)
            return -1;
    }
    return 0;
}

static const char *pq(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *pq(const char *fmt, ...)
{
    static char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *sql = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    PGresult *r = PQexec(NET.db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(buf, sizeof buf, "%s", PQerrorMessage(NET.db));
        PQclear(r);
        fail_msg("query failed: %s: %s", sql, buf);
    }
    snprintf(buf, sizeof buf, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return buf;
}

static int net_setup(void **state)
{
    const char *b, *src;
    if (sj_test_dirs(&b, &src) != 0)
        return -1;
    snprintf(NET.build, sizeof NET.build, "%s", b);
    snprintf(NET.source, sizeof NET.source, "%s", src);
    g_autofree char *dir = g_dir_make_tmp("desk-net-XXXXXX", NULL);
    if (!dir)
        return -1;
    snprintf(NET.net, sizeof NET.net, "%s", dir);
    /* PostgreSQL runs as an unprivileged user when the test runs as root:
     * it must be able to reach the folder. */
    chmod(NET.net, 0755);
    NET.port_base = free_port_base();
    if (NET.port_base < 0)
        return -1;
    char port[16];
    snprintf(port, sizeof port, "%d", NET.port_base);
    setenv("SANJI_NET_DIR", NET.net, 1);
    setenv("SANJI_PORT_BASE", port, 1);
    setenv("SANJI_PASSWORD", "sanji123", 1); /* the demo accounts' password */
    NET.started = true;
    if (localnet("start") != 0) {
        fprintf(stderr, "localnet.sh start failed; see %s/localnet.log\n", NET.net);
        return -1;
    }
    g_autofree char *ci_path = g_build_filename(NET.net, "pg", "conninfo", NULL);
    g_autofree char *ci = NULL;
    if (!g_file_get_contents(ci_path, &ci, NULL, NULL))
        return -1;
    NET.db = PQconnectdb(g_strstrip(ci));
    if (PQstatus(NET.db) != CONNECTION_OK) {
        fprintf(stderr, "PostgreSQL: %s\n", PQerrorMessage(NET.db));
        return -1;
    }
    /* The rest of the day at the stations, made with the CLI: at 张官营村
     * one case closed with feedback, one resolved waiting for feedback, one
     * still to do; at 梁洼村 (the other township) one closed. */
    char out[4096];
    if (cli("station-" V201, out, sizeof out, "login p-" V201 "-01") != 0 ||
        cli("station-" V301, out, sizeof out, "login p-" V301 "-01") != 0 ||
        cli_case("station-" V201, "YB-002", "王秀兰", "410423195803121021", true, "满意") != 0 ||
        cli_case("station-" V201, "HJ-002", "李春生", "410423196507212046", true, NULL) != 0 ||
        cli_case("station-" V201, "DB-003", "赵桂芳", "410423197201053016", false, NULL) != 0 ||
        cli_case("station-" V301, "JS-001", "周丽娜", "410423199108110732", true, "基本满意") != 0) {
        fprintf(stderr, "the CLI's cases failed; see %s/cli.log\n", NET.net);
        return -1;
    }
    return 0;
}

static int net_teardown(void **state)
{
    if (NET.db)
        PQfinish(NET.db);
    NET.db = NULL;
    if (NET.started && localnet("clean") != 0) {
        fprintf(stderr, "localnet.sh clean failed; see %s\n", NET.net);
        return -1;
    }
    if (NET.started)
        g_rmdir(NET.net); /* clean removed what was inside */
    return 0;
}

/* Starts sanji-desk with a node's client.conf and a script; its output goes
 * to <net>/<tag>.out. */
static void desk_start(sj_test_proc *p, const char *node, const char *tag, const char *script)
{
    g_autofree char *conf = g_strdup_printf("%s/%s/client.conf", NET.net, node);
    g_autofree char *sp = g_strdup_printf("%s/%s.script", NET.net, tag);
    g_autofree char *log = g_strdup_printf("%s/%s.out", NET.net, tag);
    assert_true(g_file_set_contents(sp, script, -1, NULL));
    const char *argv[] = {XVFB_RUN, "-a", "-s", "-screen 0 1280x1000x24", SANJI_DESK_BIN,
                          "--config", conf, "--test-script", sp, NULL};
    /* Papers a script prints are exported to <net>/papers (desk-print.h). */
    g_autofree char *papers = g_strdup_printf("SANJI_DESK_PRINT_EXPORT=%s/papers", NET.net);
    const char *env[] = {"GSK_RENDERER=cairo", "NO_AT_BRIDGE=1", "GDK_BACKEND=x11", "LANG=C.UTF-8",
                         "LANGUAGE=", "LC_ALL=", "LC_MESSAGES=", papers, NULL};
    sj_error err;
    if (sj_test_proc_start(p, argv, env, log, &err) != 0)
        fail_msg("cannot start sanji-desk: %s", err.message);
}

static char *desk_output(const char *tag)
{
    g_autofree char *log = g_strdup_printf("%s/%s.out", NET.net, tag);
    char *text = NULL;
    if (!g_file_get_contents(log, &text, NULL, NULL))
        text = g_strdup("");
    return text;
}

/* Waits until the desk printed want (or ended, or timeout_s passed). */
static bool desk_wait_output(sj_test_proc *p, const char *tag, const char *want, int timeout_s)
{
    for (int i = 0; i < timeout_s * 10; i++) {
        g_autofree char *text = desk_output(tag);
        if (strstr(text, want))
            return true;
        if (!sj_test_proc_alive(p))
            return false;
        g_usleep(100000);
    }
    return false;
}

/* Waits for the desk to end; returns its exit status, its output printed. */
static int desk_finish(sj_test_proc *p, const char *tag, int timeout_s)
{
    sj_error err;
    int rc = sj_test_proc_wait(p, timeout_s * 1000, &err);
    int st = rc == 0 && WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
    g_autofree char *text = desk_output(tag);
    printf("--- sanji-desk %s ---\n%s", tag, text);
    sj_test_proc_free(p);
    return st;
}

/* This month as the 通报 and the 台账 name their files ("2026-12"), China time. */
static void report_month(char at[16])
{
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(at, 16, "%04d-%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100);
}

/* pdftotext's text of a file, its spaces taken out (pdftotext spaces
 * Chinese text as the layout falls). */
static char *pdf_text(const char *path)
{
    g_autofree char *cmd = g_strdup_printf("pdftotext -enc UTF-8 '%s' -", path);
    char *text = NULL;
    g_autofree char *err = NULL;
    int st = 0;
    g_autoptr(GError) e = NULL;
    if (!g_spawn_command_line_sync(cmd, &text, &err, &st, &e) || st != 0)
        fail_msg("pdftotext %s: %s", path, e ? e->message : err);
    char *o = text;
    for (const char *q = text; *q; q++)
        if (*q != ' ')
            *o++ = *q;
    *o = '\0';
    return text;
}

static int run_desk_net(const char *node, const char *tag, const char *script, int timeout_s)
{
    sj_test_proc p = {0};
    desk_start(&p, node, tag, script);
    return desk_finish(&p, tag, timeout_s);
}

static pid_t pid_of(const char *name)
{
    g_autofree char *path = g_strdup_printf("%s/%s.pid", NET.net, name);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    return (pid_t)atoi(text);
}

/* Stops the county server and waits until its port refuses connections. */
static bool stop_county(void)
{
    pid_t pid = pid_of("county");
    if (pid <= 0 || kill(pid, SIGTERM) != 0)
        return false;
    for (int i = 0; i < 200 && sj_test_proc_port_accepts(NET.port_base); i++)
        g_usleep(100000);
    return !sj_test_proc_port_accepts(NET.port_base);
}

/* The township desk sends the case of applicant back to the village with a
 * reason, with the CLI (its copy is brought up to date first; the
 * escalation may still be on its way).  False at the hang deadline. */
static bool township_returns(const char *applicant, const char *reason)
{
    char out[8192], number[64];
    snprintf(number, sizeof number, "%s", pq("SELECT number FROM cases WHERE applicant_name = '%s'", applicant));
    if (cli("desk-" T101, out, sizeof out, "login p-" T101 "-01") != 0)
        return false;
    g_autofree char *args = g_strdup_printf("return-down %s --note %s --wait-applied", number, reason);
    for (gint64 end = g_get_monotonic_time() + (gint64)SJ_TEST_HANG_MS * 1000; g_get_monotonic_time() < end;) {
        cli("desk-" T101, out, sizeof out, "sync --wait 10");
        if (cli("desk-" T101, out, sizeof out, args) == 0)
            return true;
    }
    fprintf(stderr, "return-down at the township desk: %s\n", out);
    return false;
}

/* 1. The station: log in by picking the name, register through the form,
 * and watch the case go 已保存在本机 -> 已送达乡镇 -> 县里已记录 with its
 * number; then open 一次告知 (the item's materials filled in), switch to 上报
 * and escalate it to the township, without the materials.  To see each
 * state, the county is stopped before saving and the relay frozen
 * (SIGSTOP) until the desk showed the saved state; the county starts again
 * once the desk showed that the township holds it. */
static void test_station_case_reaches_county(void **state)
{
    g_autofree char *s_login = desk_fixture_shot("login"), *s_home = desk_fixture_shot("home"), *s_reg = desk_fixture_shot("register");
    g_autofree char *s_down = desk_fixture_shot("county-down"), *s_returned = desk_fixture_shot("case-returned");
    /* The charts alone, drawn by the chart module of the 通报's PDF. */
    const char *shots = g_getenv("SANJI_DESK_SCREENSHOTS");
    g_autofree char *s_report =
        shots && *shots ? g_strdup_printf("screenshot report.charts '%s/station-charts.png'\n", shots)
                        : g_strdup("");
    char month[16];
    report_month(month);
    g_autofree char *go = g_strdup_printf("%s/go-save", NET.net);
    /* A photo of the 户口簿 goes with the registration (添加附件). */
    size_t png_len = 0;
    const uint8_t *png = desk_fixture_png(&png_len);
    g_autofree char *photo = g_strdup_printf("%s/户口簿.png", NET.net);
    assert_true(g_file_set_contents(photo, (const char *)png, (gssize)png_len, NULL));
    g_autofree char *script = g_strdup_printf(
        "wait-page login 30\n"
        "wait-text login.persons 常刚 30\n"
        "expect-text login.persons 姚铁柱\n"
        "%s"
        "select-text login.persons 常刚\n"
        "expect-text login.person 常刚\n"
        "set login.password sanji123\n"
        "click login.submit\n"
        "wait-page home 30\n"
        "wait-text link.state 在线 20\n"
        "wait-text home.count.0 1 20\n"
        "wait-text home.count.4 1 20\n"
        "wait-text home.count.5 1 20\n"
        "%s"
        "click home.register\n"
        "wait-page register\n"
        "set register.search 低保\n"
        "expect-text register.items 城乡低保申请\n"
        "expect-no-text register.items 电费代缴\n"
        "select-text register.items 城乡低保申请\n"
        "expect-text register.detail 县民政局\n"
        "expect-text register.detail 家庭收入证明\n"
        "set register.name " APPLICANT "\n"
        "set register.id 410423198001011238\n"
        "set register.phone 13812345678\n"
        "set register.text '家中两位老人无固定收入，申请城乡低保。'\n"
        "choose-file '%s'\n"
        "click register.attach\n"
        "expect-text register.attachments 户口簿.png\n"
        "select-text register.attachment.material.0 户口簿\n"
        "%s"
        "print register.text\n"
        /* The county is stopped now: the relay says so at once. */
        "wait-text link.upstream 县级连接中断 60\n"
        "%s"
        "print link.upstream\n"
        "wait-file %s 30\n"
        "click register.save\n"
        "wait-page case 10\n"
        "wait-text case.delivery 已保存在本机 5\n"
        "wait-text attachments.tiles 户口簿.png 5\n"
        "print case.delivery\n"
        "wait-text case.delivery 已送达乡镇 30\n"
        "expect-text link.outbox 已到乡镇\n"
        "print case.delivery\n"
        "wait-text case.delivery 县里已记录 40\n"
        "wait-text link.upstream 县级连接：正常 30\n"
        "wait-text banner 编号 410423- 5\n"
        "expect-text case.title 410423-\n"
        "expect-text case.title 城乡低保申请\n"
        "expect-text case.status 已登记\n"
        "print case.title\n"
        /* The villager's receipt, printed (exported: see desk_start()). */
        "click case.print.receipt\n"
        "wait-file %s/papers/receipt.pdf 20\n"
        /* 一次告知 pre-fills the item's seven materials; the cadre changes
         * their mind and escalates instead: the escalation goes without
         * them (checked in PostgreSQL below). */
        "click case.action.request_materials\n"
        "expect-text case.materials 家庭收入证明\n"
        "click case.action.escalate\n"
        "expect-no-text case.materials 家庭收入证明\n"
        "click case.confirm\n"
        "wait-text case.status 已上报乡镇 10\n"
        "wait-text case.delivery 县里已记录 20\n"
        /* The county's event comes with the feed, which the protocol does
         * not order with the result: waited for, not expected at once. */
        "wait-text case.timeline 上报 20\n"
        "expect-no-text case.timeline 需补材料\n"
        /* The township sends it back with a reason (the test does, with
         * the CLI): the banner and the notification say why, and a click
         * on the notification opens the case. */
        "print case.status\n"
        "page home\n"
        "wait-notification 请先补齐家庭收入证明 90\n"
        "expect-text banner 请先补齐家庭收入证明\n"
        "click-notification 请先补齐家庭收入证明\n"
        "wait-page case 5\n"
        "expect-text case.title 城乡低保申请\n"
        "wait-text case.timeline 退回 10\n"
        "%s"
        "click case.action.escalate\n"
        "click case.confirm\n"
        "wait-text case.status 已上报乡镇 10\n"
        "wait-text case.delivery 县里已记录 30\n"
        "page home\n"
        "wait-text home.count.1 1 10\n"
        /* The month's 台账 from the station's own store, and its 通报's
         * charts (computed by the county for this village). */
        "page stats\n"
        "click report.ledger\n"
        "wait-file %s/papers/台账-%s.pdf 20\n"
        "click report.ask\n"
        "wait-text report.message 代办工作通报 60\n"
        "print report.message\n"
        "%s"
        /* Logging out leaves nothing of this cadre's on the desktop. */
        "click logout\n"
        "wait-page login 10\n"
        "expect-no-notification ''\n"
        "quit\n",
        s_login, s_home, photo, s_reg, s_down, go, NET.net, s_returned, NET.net, month, s_report);
    g_autofree char *papers = g_strdup_printf("%s/papers", NET.net);
    assert_int_equal(g_mkdir_with_parents(papers, 0700), 0);
    sj_test_proc p = {0};
    desk_start(&p, "station-" V201, "station", script);
    bool filled = desk_wait_output(&p, "station", "register.text:", 60);
    bool stopped = filled && stop_county();
    /* The relay tells its stations at once that the county link is down;
     * the desk shows it before the relay is frozen. */
    bool told = stopped && desk_wait_output(&p, "station", "link.upstream: 县级连接中断", 60);
    if (told) {
        assert_int_equal(kill(pid_of("relay-" T101), SIGSTOP), 0);
        assert_true(g_file_set_contents(go, "", 0, NULL));
    }
    bool saved = told && desk_wait_output(&p, "station", "case.delivery: 已保存在本机", 20);
    kill(pid_of("relay-" T101), SIGCONT);
    if (saved) {
        /* Nothing has reached the county yet. */
        assert_string_equal(pq("SELECT count(*) FROM cases WHERE applicant_name = '%s'", APPLICANT), "0");
    }
    bool stored = saved && desk_wait_output(&p, "station", "case.delivery: 已送达乡镇", 30);
    if (stored)
        assert_int_equal(localnet("start"), 0); /* the county again */
    bool returned = stored && desk_wait_output(&p, "station", "case.status: 已上报乡镇", 120) &&
                    township_returns(APPLICANT, "请先补齐家庭收入证明");
    int rc = desk_finish(&p, "station", 120);
    if (!filled || !stopped || !told || !saved || !stored || !returned) {
        localnet("start");
        fail_msg("%s", !filled    ? "the desk did not reach the filled form"
                       : !stopped ? "the county server did not stop on SIGTERM within 20 s"
                       : !told    ? "the desk did not show the county link down"
                       : !saved   ? "the desk did not show 已保存在本机"
                       : !stored  ? "the desk did not show 已送达乡镇"
                                  : "the township could not send the case back");
    }
    assert_int_equal(rc, 0);
    g_autofree char *out = desk_output("station");
    (void)out;
    /* The county's row: the number the desk showed, the item, the
     * applicant, the person who logged in, and the escalation. */
    const char *n = pq("SELECT number FROM cases WHERE applicant_name = '%s'", APPLICANT);
    snprintf(NET.number, sizeof NET.number, "%s", n);
    assert_true(strlen(NET.number) > 7);
    g_autofree char *log = desk_output("station");
    g_autofree char *want = g_strdup_printf("case.title: %s", NET.number);
    if (!strstr(log, want))
        fail_msg("the desk did not show the county's number %s", NET.number);
    assert_string_equal(pq("SELECT item_code FROM cases WHERE number = '%s'", NET.number), "MZ-003");
    assert_string_equal(pq("SELECT first_receiver FROM cases WHERE number = '%s'", NET.number),
                        "p-" V201 "-01");
    assert_string_equal(pq("SELECT applicant_id_number FROM cases WHERE number = '%s'", NET.number),
                        "410423198001011238");
    char st[8];
    snprintf(st, sizeof st, "%d", SJ_STATUS_ESCALATED_TOWNSHIP);
    assert_string_equal(pq("SELECT status FROM cases WHERE number = '%s'", NET.number), st);
    /* Sent back by the township with its reason, escalated again. */
    assert_string_equal(pq("SELECT string_agg(e.action::text, ',' ORDER BY e.seq) FROM case_event e"
                           " JOIN cases c USING (case_id) WHERE c.number = '%s'", NET.number),
                        "1,3,5,3");
    /* The escalation took only its own fields: the materials that 一次告知
     * had filled in are in neither the case nor its history. */
    assert_string_equal(pq("SELECT coalesce(cardinality(materials), 0) FROM cases WHERE number = '%s'",
                           NET.number), "0");
    assert_string_equal(pq("SELECT materials_rounds FROM cases WHERE number = '%s'", NET.number), "0");
    assert_string_equal(pq("SELECT count(*) FROM case_event e JOIN cases c USING (case_id)"
                           " WHERE c.number = '%s' AND e.action = %d"
                           " AND coalesce(cardinality(e.materials), 0) = 0",
                           NET.number, SJ_ACTION_ESCALATE), "2");
    assert_string_equal(pq("SELECT count(*) FROM case_event e JOIN cases c USING (case_id)"
                           " WHERE c.number = '%s' AND coalesce(cardinality(e.materials), 0) > 0",
                           NET.number), "0");
    /* The receipt the station printed: the county's number, the item, the
     * station's phone (localnet's client.conf), the ID number masked. */
    g_autofree char *pdftotext = g_strdup_printf("pdftotext -enc UTF-8 '%s/papers/receipt.pdf' -",
                                                 NET.net);
    g_autofree char *receipt = NULL;
    g_autofree char *receipt_err = NULL;
    int pst = 0;
    g_autoptr(GError) perr = NULL;
    if (!g_spawn_command_line_sync(pdftotext, &receipt, &receipt_err, &pst, &perr) || pst != 0)
        fail_msg("pdftotext: %s", perr ? perr->message : receipt_err);
    printf("--- receipt.pdf ---\n%s", receipt);
    assert_non_null(strstr(receipt, "受理回执"));
    assert_non_null(strstr(receipt, NET.number));
    assert_non_null(strstr(receipt, "城乡低保申请"));
    assert_non_null(strstr(receipt, "0375-55" V201_LAST5));
    assert_null(strstr(receipt, "410423198001011238"));
    assert_null(strstr(receipt, "13812345678"));
    /* The 台账: this month's requests of the station, the name masked. */
    g_autofree char *ledger_path = g_strdup_printf("%s/papers/台账-%s.pdf", NET.net, month);
    g_autofree char *ledger = pdf_text(ledger_path);
    printf("--- ledger ---\n%s", ledger);
    assert_non_null(strstr(ledger, "代办台账"));
    assert_non_null(strstr(ledger, NET.number));
    assert_non_null(strstr(ledger, "城乡低保申请"));
    assert_non_null(strstr(ledger, "第1页"));
    assert_null(strstr(ledger, APPLICANT));
    assert_null(strstr(ledger, "410423198001011238"));
    assert_null(strstr(ledger, "13812345678"));
    /* The photo attached on the registration form reached the county whole,
     * with its material (it goes up once the case is recorded). */
    const char *done = "0";
    for (int i = 0; i < 60 && strcmp(done, "1") != 0; i++) {
        if (i > 0)
            g_usleep(G_USEC_PER_SEC);
        done = pq("SELECT count(*) FROM attachment a JOIN cases c USING (case_id)"
                  " WHERE c.number = '%s' AND a.complete AND a.name = '户口簿.png'"
                  " AND a.material = '户口簿' AND a.mime = 'image/png' AND a.size = %zu",
                  NET.number, png_len);
    }
    assert_string_equal(done, "1");
}

/* 2. The township desk (a second sanji-desk, the township's config) sees
 * the case in 待签收 and accepts it; an action whose required input is
 * empty is refused with the reason, and nothing is recorded; its stations
 * page lists its own villages' stations only. */
static void test_township_accepts(void **state)
{
    if (!NET.number[0])
        skip();
    g_autofree char *s_tw = desk_fixture_shot("township"), *s_case = desk_fixture_shot("case"), *s_st = desk_fixture_shot("stations");
    g_autofree char *script = g_strdup_printf(
        "wait-page login 30\n"
        "wait-text login.persons 王志强 30\n"
        "select-text login.persons 王志强\n"
        "set login.password sanji123\n"
        "click login.submit\n"
        "wait-page township 30\n"
        "wait-text township.list %s 30\n"
        "expect-text township.list " APPLICANT "\n"
        "%s"
        "select township.list 0\n"
        "wait-page case 5\n"
        "expect-text case.title %s\n"
        "expect-text case.status 已上报乡镇\n"
        "expect-text case.facts 410423198001011238\n"
        "click case.action.return_down\n"
        "click case.confirm\n"
        "wait-text case.message 未保存 5\n"
        "print case.message\n"
        "expect-text case.status 已上报乡镇\n"
        "expect-text link.outbox 无\n"
        "click case.action.accept\n"
        "click case.confirm\n"
        "wait-text case.status 乡镇已签收 20\n"
        "wait-text case.delivery 县里已记录 30\n"
        "wait-text case.timeline 签收 20\n"
        "expect-text case.timeline 张官营镇\n"
        "%s"
        /* 指派: to a person of the township, chosen from its list; then
         * in 我的事项. */
        "expect-text case.assignee 未指派\n"
        "click case.action.assign\n"
        "select-text case.person 王志强\n"
        "click case.confirm\n"
        "wait-text case.assignee 王志强 20\n"
        "wait-text case.delivery 县里已记录 30\n"
        "wait-text case.timeline 指派给：王志强 20\n"
        "page township\n"
        "click township.view.assigned\n"
        "wait-text township.list %s 10\n"
        "click township.view.held\n"
        "wait-text township.list %s 10\n"
        "page network\n"
        "wait-text window village:" V201 " 20\n"
        "expect-no-text window village:" V301 "\n"
        "print network.message\n"
        /* Its own statistics, through the relay: its villages only. */
        "page stats\n"
        "click pstats.ask\n"
        "wait-text pstats.message 统计期间 60\n"
        "expect-text pstats.grid 张官营村\n"
        "expect-no-text pstats.grid 梁洼村\n"
        "print pstats.message\n"
        "%s"
        "quit\n",
        NET.number, s_tw, NET.number, s_case, NET.number, NET.number, s_st);
    assert_int_equal(run_desk_net("desk-" T101, "township", script, 90), 0);
    char st[8];
    snprintf(st, sizeof st, "%d", SJ_STATUS_ACCEPTED_TOWNSHIP);
    assert_string_equal(pq("SELECT status FROM cases WHERE number = '%s'", NET.number), st);
    assert_string_equal(pq("SELECT e.actor_person FROM case_event e JOIN cases c USING (case_id) "
                           "WHERE c.number = '%s' ORDER BY e.seq DESC LIMIT 1", NET.number),
                        "p-" T101 "-01");
    /* The refused return left no event: register, escalate, the
     * township's return and the second escalation (the station's test),
     * accept, assign. */
    assert_string_equal(pq("SELECT count(*) FROM case_event e JOIN cases c USING (case_id) "
                           "WHERE c.number = '%s'", NET.number), "6");
    assert_string_equal(pq("SELECT assignee || ',' || assignee_name FROM cases WHERE number = '%s'",
                           NET.number),
                        "p-" T101 "-01,王志强");
}

/* 3. The county desk: the network (both relays online, the stations that
 * came, queue depths, every other township and village of the county as
 * never connected, with its warnings) and the statistics with the county's
 * real counts. */
static void test_county_network_and_stats(void **state)
{
    g_autofree char *s_net = desk_fixture_shot("network"), *s_stats = desk_fixture_shot("stats"),
                    *s_county = desk_fixture_shot("county");
    const char *shots = g_getenv("SANJI_DESK_SCREENSHOTS");
    g_autofree char *s_report =
        shots && *shots ? g_strdup_printf("screenshot report.charts '%s/county-charts.png'\n", shots)
                        : g_strdup("");
    char month[16];
    report_month(month);
    char total[16], closed[16];
    snprintf(total, sizeof total, "%s", pq("SELECT count(*) FROM cases"));
    snprintf(closed, sizeof closed, "%s", pq("SELECT count(*) FROM cases WHERE status = %d", SJ_STATUS_CLOSED));
    /* The CLI's four, and the station desk's own when its test got so far. */
    assert_string_equal(total, NET.number[0] ? "5" : "4");
    assert_string_equal(closed, "2");
    /* The console's search by assignee: the township assigned the station's
     * case to 王志强 (test 2); it alone is found. */
    g_autofree char *by_assignee =
        NET.number[0] ? g_strdup_printf("set county.list.search.assignee p-" T101 "-01\n"
                                        "click county.list.search.go\n"
                                        "wait-text county.list.title （1） 30\n"
                                        "expect-text county.list %s\n"
                                        "click county.list.search.clear\n",
                                        NET.number)
                      : g_strdup("");
    g_autofree char *script = g_strdup_printf(
        "wait-page login 30\n"
        "wait-text login.persons 邱志强 30\n"
        "select-text login.persons 邱志强\n"
        "set login.password sanji123\n"
        "click login.submit\n"
        "wait-page county 30\n"
        /* The county's queues, each with its count (none of the CLI's
         * cases is at the county now). */
        "expect-text county.view.incoming 待签收\n"
        "expect-text county.view.dispatch 待派单\n"
        "expect-text county.view.held 部门办理中\n"
        "expect-text county.view.review 待审核\n"
        "wait-text county.count.review 0 30\n"
        "click county.view.all\n"
        "wait-text county.list %s 30\n"
        "%s"
        "%s"
        "page network\n"
        /* A relay's status reaches the county with its heartbeats (every
         * 30 s at most) and the page asks again every 30 s: either relay
         * may show one refresh after the other. */
        "wait-text window relay:" T101 " 70\n"
        "wait-text window relay:410423102000 70\n"
        "wait-text window village:" V201 " 70\n"
        "expect-text window 排队\n"
        /* Each station's wrong passwords of the last day (PKI.md). */
        "expect-text window 密码错误\n"
        "expect-no-text window 离线　relay\n"
        /* Every township of the demo county, those without a relay in
         * this network among them, and their villages that never
         * connected: in the table and as warnings. */
        "expect-text window 从未连接\n"
        "expect-text window 证书有效期至\n"
        "expect-text network.warnings 鲁阳街道：乡镇中继从未向县里报到\n"
        "expect-text network.warnings 个村站从未连接\n"
        "print network.warnings\n"
        "print network.message\n"
        "%s"
        "page stats\n"
        "wait-text stats.summary '事项 %s 件' 20\n"
        "expect-text window 张官营镇\n"
        "expect-text window 梁洼镇\n"
        "expect-text window 医疗保障\n"
        "print stats.summary\n"
        /* The period statistics (docs/STATISTICS.md): this month, by
         * township, as the county computes them. */
        "click pstats.ask\n"
        "wait-text pstats.message 统计期间 30\n"
        "expect-text pstats.grid 张官营镇\n"
        "expect-text pstats.grid 办结率\n"
        "expect-text pstats.grid 合计\n"
        "print pstats.message\n"
        "%s"
        /* The 通报 of this month: its charts, then the PDF and the workbook. */
        "click report.ask\n"
        "wait-text report.message 鲁山县 60\n"
        "expect-text report.message 代办工作通报\n"
        "print report.message\n"
        "%s"
        "click report.pdf\n"
        "wait-file %s/papers/通报-%s.pdf 20\n"
        "click report.xlsx\n"
        "wait-file %s/papers/通报-%s.xlsx 20\n"
        "quit\n",
        NET.number[0] ? NET.number : "410423-", s_county, by_assignee, s_net, total, s_stats,
        s_report, NET.net, month, NET.net, month);
    g_autofree char *papers = g_strdup_printf("%s/papers", NET.net);
    assert_int_equal(g_mkdir_with_parents(papers, 0700), 0);
    assert_int_equal(run_desk_net("desk-county", "county", script, 90), 0);
    /* Both relays online as the county sees them. */
    g_autofree char *out = desk_output("county");
    assert_non_null(strstr(out, "network.message: 共"));
    /* The 通报 the desk saved: the county's, this month's, numbered pages. */
    g_autofree char *bulletin_path = g_strdup_printf("%s/papers/通报-%s.pdf", NET.net, month);
    g_autofree char *bulletin = pdf_text(bulletin_path);
    assert_non_null(strstr(bulletin, "鲁山县"));
    assert_non_null(strstr(bulletin, "代办工作通报"));
    assert_non_null(strstr(bulletin, "本期共登记诉求"));
    assert_non_null(strstr(bulletin, "第1页"));
    g_autofree char *xlsx_path = g_strdup_printf("%s/papers/通报-%s.xlsx", NET.net, month);
    assert_true(g_file_test(xlsx_path, G_FILE_TEST_EXISTS));
}

/* 4. 派单-接单: the township escalates the station's case to the county
 * (the CLI); the county desk accepts it and dispatches it to 县民政局,
 * chosen from the county's list of departments (never typed); that
 * department's desk finds it in 待接单 and takes it.  Each step is checked
 * in PostgreSQL. */
static void test_county_dispatches_department_takes(void **state)
{
    if (!NET.number[0])
        skip();
    char out[8192];
    g_autofree char *args = g_strdup_printf("escalate %s --wait-applied", NET.number);
    bool escalated = false;
    for (gint64 end = g_get_monotonic_time() + (gint64)SJ_TEST_HANG_MS * 1000;
         !escalated && g_get_monotonic_time() < end;) {
        cli("desk-" T101, out, sizeof out, "sync --wait 10");
        escalated = cli("desk-" T101, out, sizeof out, args) == 0;
    }
    assert_true(escalated);
    char st[8];
    snprintf(st, sizeof st, "%d", SJ_STATUS_ESCALATED_COUNTY);
    assert_string_equal(pq("SELECT status FROM cases WHERE number = '%s'", NET.number), st);

    g_autofree char *county = g_strdup_printf(
        "wait-page login 30\n"
        "wait-text login.persons 邱志强 30\n"
        "select-text login.persons 邱志强\n"
        "set login.password sanji123\n"
        "click login.submit\n"
        "wait-page county 30\n"
        "click county.view.incoming\n"
        "wait-text county.list %s 30\n"
        "select-text county.list %s\n"
        "wait-page case 10\n"
        "click case.action.accept\n"
        "click case.confirm\n"
        "wait-text case.status 县已签收 30\n"
        "wait-text case.delivery 县里已记录 30\n"
        "click case.action.dispatch\n"
        /* The department that owns the item is proposed; the list is the
         * county's departments. */
        "expect-text case.department 县民政局\n"
        "select-text case.department 县人社局\n"
        "select-text case.department 县民政局\n"
        "click case.confirm\n"
        "wait-text case.status 待接单 30\n"
        "wait-text case.delivery 县里已记录 30\n"
        "quit\n",
        NET.number, NET.number);
    assert_int_equal(run_desk_net("desk-county", "county-dispatch", county, 90), 0);
    snprintf(st, sizeof st, "%d", SJ_STATUS_DISPATCHED);
    g_autofree char *want = g_strdup_printf("%s,mzj,县民政局", st);
    assert_string_equal(pq("SELECT status || ',' || department_code || ',' || department FROM cases"
                           " WHERE number = '%s'", NET.number),
                        want);

    g_autofree char *s_dept = desk_fixture_shot("department");
    g_autofree char *dept = g_strdup_printf(
        "wait-page login 30\n"
        "wait-text login.persons 韩秀英 30\n"
        "select-text login.persons 韩秀英\n"
        "set login.password sanji123\n"
        "click login.submit\n"
        "wait-page department 30\n"
        "click department.view.incoming\n"
        "wait-text department.list %s 30\n"
        "wait-text department.count.incoming 1 30\n"
        "%s"
        "select-text department.list %s\n"
        "wait-page case 10\n"
        "click case.action.take\n"
        "click case.confirm\n"
        "wait-text case.status 部门办理中 30\n"
        "wait-text case.delivery 县里已记录 30\n"
        "quit\n",
        NET.number, s_dept, NET.number);
    assert_int_equal(run_desk_net("desk-dept-mzj", "department", dept, 90), 0);
    snprintf(st, sizeof st, "%d", SJ_STATUS_DEPARTMENT_HANDLING);
    assert_string_equal(pq("SELECT status FROM cases WHERE number = '%s'", NET.number), st);
    assert_string_equal(pq("SELECT e.actor_person || ',' || e.actor_node FROM case_event e"
                           " JOIN cases c USING (case_id) WHERE c.number = '%s'"
                           " ORDER BY e.seq DESC LIMIT 1", NET.number),
                        "p-410423000000-mzj-01,department-desk:410423000000:mzj");
}

/* 好差评 at the station's desk: the feedback form offers the five levels
 * in the national scale's order; 非常不满意 on the case the CLI resolved
 * (李春生) makes it a 差评, which the county records with the
 * rectification's due time; the case page shows 整改中 with it, and the
 * case stays in the village's 待回访 view. */
static void test_station_bad_evaluation(void **state)
{
    (void)state;
    if (!NET.db)
        skip();
    g_autofree char *number = g_strdup(pq("SELECT number FROM cases WHERE applicant_name = '李春生'"));
    g_autofree char *script = g_strdup_printf(
        "wait-page login 30\n"
        "wait-text login.persons 常刚 30\n"
        "select-text login.persons 常刚\n"
        "set login.password sanji123\n"
        "click login.submit\n"
        "wait-page home 30\n"
        "click home.view.feedback\n"
        "wait-text home.list 李春生 30\n"
        "select-text home.list 李春生\n"
        "wait-page case 10\n"
        "expect-text case.title %s\n"
        "click case.action.feedback\n"
        "select-text case.satisfaction 非常不满意\n"
        "set case.note 答复不清楚\n"
        "click case.confirm\n"
        "wait-text case.delivery 县里已记录 40\n"
        "wait-text case.facts 整改中 30\n"
        "print case.facts\n"
        /* It stays in 待回访 while it is rectified, for the call back. */
        "page home\n"
        "click home.view.feedback\n"
        "wait-text home.list 李春生 30\n"
        "quit\n",
        number);
    assert_int_equal(run_desk_net("station-" V201, "station-haocha", script, 90), 0);
    assert_string_equal(pq("SELECT status || ',' || satisfaction || ',' || (rectify_due_at_ms >"
                           " updated_at_ms) FROM cases WHERE number = '%s'", number),
                        "9,5,true");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_offline_is_saved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_password_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_is_not_saved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_draft_survives_kill, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("offline", tests, group_setup, group_teardown);
    const struct CMUnitTest net_tests[] = {
        cmocka_unit_test(test_station_case_reaches_county),
        cmocka_unit_test(test_township_accepts),
        cmocka_unit_test(test_county_network_and_stats),
        cmocka_unit_test(test_county_dispatches_department_takes),
        cmocka_unit_test(test_station_bad_evaluation),
    };
    failed += cmocka_run_group_tests_name("network", net_tests, net_setup, net_teardown);
    return failed;
}
