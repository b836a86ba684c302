/*
 * test_cli.c - the `sanji` command-line tool as a process: the language of
 * its messages, its errors under --json, and what `sanji show` shows of an
 * applicant's ID number and phone.
 *
 *   - language: Chinese with no locale set at all, with LANG=C and with
 *     zh_CN.UTF-8; English with LANG=en_US.UTF-8 or LANGUAGE=en;
 *   - --json: every error path tried here prints exactly one line on stdout,
 *     {"error":NAME,"message":...,"exit":N}, with N the exit status, and
 *     nothing in plain text on stdout;
 *   - show: the ID number and phone are unmasked where sj_personal_visible()
 *     allows (the case's own village station, a desk whose level holds the
 *     case) and masked elsewhere.
 *
 * Stations are real: certificates from the real sanji-pki (tests/lib/certs),
 * a client.conf each, and a local store filled through the store API.  The
 * program runs with an environment made by the test (no inherited locale).
 *
 * Entry point: main().  Needs SANJI_BUILD_DIR (set by ctest).
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "certs.h"
#include "store.h"

#define OUT_MAX 65536
#define VILLAGE "410423101201"
#define OTHER_VILLAGE "410423101202"
#define TOWNSHIP "410423101000"
#define COUNTY "410423000000"
#define APPLICANT_ID "11010519491231002X"
#define APPLICANT_ID_MASKED "1101**********002X"
#define APPLICANT_PHONE "13800138000"
#define APPLICANT_PHONE_MASKED "138****8000"

typedef struct world {
    sj_test_certs certs;
    char cli[4096];
    char home[300];       /* HOME of the program: no ~/.config/sanji there */
    char village_conf[512];
    char desk_conf[512];
} world;

static world W;

/* ---- running the program ----------------------------------------------- */

typedef struct result {
    int exit;             /* exit status; -1 if it did not exit normally */
    char out[OUT_MAX];
    char err[OUT_MAX];
} result;

static void slurp(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs the program with argv (argv[0] is replaced by the binary) and exactly
 * the environment env (plus HOME, PATH and the sanitizers' options); stdin is
 * /dev/null. */
static void run(const char *const argv[], const char *const env[], result *r)
{
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof(out_path), "%s/out.txt", W.home);
    snprintf(err_path, sizeof(err_path), "%s/err.txt", W.home);

    const char *envp[32];
    size_t n = 0;
    static char home_var[600];
    snprintf(home_var, sizeof(home_var), "HOME=%s", W.home);
    envp[n++] = home_var;
    envp[n++] = "PATH=/usr/bin:/bin";
    static const char *const pass[] = {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"};
    static char pass_var[3][1024];
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(pass[i]);
        if (v) {
            snprintf(pass_var[i], sizeof(pass_var[i]), "%s=%s", pass[i], v);
            envp[n++] = pass_var[i];
        }
    }
    for (size_t i = 0; env && env[i]; i++) {
        assert_true(n + 1 < sizeof(envp) / sizeof(envp[0]));
        envp[n++] = env[i];
    }
    envp[n] = NULL;

    const char *args[32];
    size_t na = 0;
    args[na++] = W.cli;
    for (size_t i = 1; argv[i]; i++) {
        assert_true(na + 1 < sizeof(args) / sizeof(args[0]));
        args[na++] = argv[i];
    }
    args[na] = NULL;

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        execve(W.cli, (char *const *)args, (char *const *)envp);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    r->exit = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    slurp(out_path, r->out, sizeof(r->out));
    slurp(err_path, r->err, sizeof(r->err));
}

static void assert_contains(const char *what, const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("%s: want \"%s\" in:\n%s", what, want, text);
}

static void assert_lacks(const char *what, const char *text, const char *unwanted)
{
    if (strstr(text, unwanted))
        fail_msg("%s: did not want \"%s\" in:\n%s", what, unwanted, text);
}

/* ---- the stations ---------------------------------------------------------- */

static void write_conf(const char *path, const char *cert_name, const char *store)
{
    char crt[PATH_MAX], key[PATH_MAX];
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "[node]\ncert = %s\nkey = %s\nca = %s\ncrl = %s\n"
            "[server]\naddress = 127.0.0.1:9\npeer = relay:" TOWNSHIP "\n"
            "[store]\npath = %s/%s\n",
            sj_test_certs_path(&W.certs, cert_name, "crt", crt, sizeof(crt)),
            sj_test_certs_path(&W.certs, cert_name, "key", key, sizeof(key)), W.certs.ca_file,
            W.certs.crl_file, W.home, store);
    assert_int_equal(fclose(f), 0);
}

static void fill_id(uint8_t id[16], uint8_t seed)
{
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)(seed * 16 + i);
    id[6] = (uint8_t)(0x70 | (id[6] & 0x0f)); /* a UUIDv7 shape */
    id[8] = (uint8_t)(0x80 | (id[8] & 0x3f));
}

/* Puts a case with a full applicant into the store of node node_id. */
static void put_case(const char *store, const char *node_id, const char *number, uint8_t seed,
                     const char *village, Sanji__Level holder_level, const char *holder_unit,
                     Sanji__CaseStatus status)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", W.home, store);
    sc_store *st = NULL;
    sj_error err;
    if (sc_store_open(path, node_id, &st, &err) != 0)
        fail_msg("store %s: %s", path, err.message);
    uint8_t id[16];
    fill_id(id, seed);
    Sanji__Applicant ap = SANJI__APPLICANT__INIT;
    ap.name = (char *)"张三";
    ap.id_number = (char *)APPLICANT_ID;
    ap.phone = (char *)APPLICANT_PHONE;
    Sanji__Case c = SANJI__CASE__INIT;
    c.case_id.data = id;
    c.case_id.len = 16;
    c.number = (char *)number;
    c.village = (char *)village;
    c.item_code = (char *)"MZ-003";
    c.item_name = (char *)"城乡低保申请";
    c.applicant = &ap;
    c.request_text = (char *)"申请城乡低保";
    c.holder_level = holder_level;
    c.holder_unit = (char *)holder_unit;
    c.status = status;
    c.version = 2;
    c.registered_at_ms = 1795400000000;
    if (sc_store_case_put(st, &c, &err) != 0)
        fail_msg("case_put: %s", err.message);
    sc_store_close(st);
}

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof(W));
    const char *b = getenv("SANJI_BUILD_DIR");
    if (!b || !*b) {
        fprintf(stderr, "SANJI_BUILD_DIR is not set (run the test through ctest)\n");
        return -1;
    }
    snprintf(W.cli, sizeof(W.cli), "%s/client/sanji", b);
    if (sj_test_certs_setup(&W.certs) != 0)
        return -1;
    snprintf(W.home, sizeof(W.home), "%s/home", W.certs.dir);
    if (mkdir(W.home, 0700) != 0)
        return -1;
    snprintf(W.village_conf, sizeof(W.village_conf), "%s/village.conf", W.home);
    snprintf(W.desk_conf, sizeof(W.desk_conf), "%s/desk.conf", W.home);
    write_conf(W.village_conf, "village", "village.db");
    write_conf(W.desk_conf, "township-desk", "desk.db");

    /* At the village station: its own case (held by the township now) and,
     * as if a stale copy had been left there, another village's case. */
    put_case("village.db", "village:" VILLAGE, "410423-20261123-0001", 1, VILLAGE,
             SANJI__LEVEL__LEVEL_TOWNSHIP, TOWNSHIP, SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP);
    put_case("village.db", "village:" VILLAGE, "410423-20261123-0002", 2, OTHER_VILLAGE,
             SANJI__LEVEL__LEVEL_VILLAGE, OTHER_VILLAGE, SANJI__CASE_STATUS__CASE_STATUS_REGISTERED);
    /* At the township desk: one case it holds, one escalated to the county. */
    put_case("desk.db", "township-desk:" TOWNSHIP, "410423-20261123-0003", 3, VILLAGE,
             SANJI__LEVEL__LEVEL_TOWNSHIP, TOWNSHIP, SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP);
    put_case("desk.db", "township-desk:" TOWNSHIP, "410423-20261123-0004", 4, VILLAGE,
             SANJI__LEVEL__LEVEL_COUNTY, COUNTY, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sj_test_certs_cleanup(&W.certs);
    return 0;
}

/* ---- language -------------------------------------------------------------- */

/* An unknown command (a usage error) and a configuration file that does not
 * exist (a setup error), each under several locales. */
static void test_language_of_errors(void **state)
{
    (void)state;
    static const struct {
        const char *env[4];
        const char *usage_want, *setup_want; /* substrings of stderr */
        const char *usage_unwanted;
    } rows[] = {
        {{NULL}, "没有“frobnicate”这个命令", "无法使用配置文件", "unknown command"},
        {{"LANG=C", NULL}, "没有“frobnicate”这个命令", "无法使用配置文件", "unknown command"},
        {{"LANG=zh_CN.UTF-8", NULL}, "没有“frobnicate”这个命令", "无法使用配置文件", "unknown command"},
        {{"LANG=en_US.UTF-8", NULL}, "unknown command \"frobnicate\"", "Cannot use the configuration file",
         "命令"},
        {{"LANGUAGE=en", "LANG=zh_CN.UTF-8", NULL}, "unknown command \"frobnicate\"",
         "Cannot use the configuration file", "命令"},
        {{"LC_ALL=en_US.UTF-8", "LANG=zh_CN.UTF-8", NULL}, "unknown command \"frobnicate\"",
         "Cannot use the configuration file", "命令"},
    };
    static result r;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char what[128];
        snprintf(what, sizeof(what), "row %zu (%s)", i, rows[i].env[0] ? rows[i].env[0] : "no locale");
        const char *usage[] = {"sanji", "frobnicate", NULL};
        run(usage, rows[i].env, &r);
        assert_int_equal(r.exit, 2);
        assert_contains(what, r.err, rows[i].usage_want);
        assert_lacks(what, r.err, rows[i].usage_unwanted);

        const char *setup_args[] = {"sanji", "--config", "/nonexistent/client.conf", "status", NULL};
        run(setup_args, rows[i].env, &r);
        assert_int_equal(r.exit, 1);
        assert_contains(what, r.err, rows[i].setup_want);
    }
}

/* ---- --json errors --------------------------------------------------------- */

/* Checks that out is exactly one line {"error":NAME,"message":"...","exit":N}
 * and returns NAME in name and N. */
static int json_error_line(const char *what, const char *out, char *name, size_t cap)
{
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^\\{\"error\":\"([A-Z_]+)\",\"message\":\"([^\"\\\\]|\\\\.)+\","
                             "\"exit\":([0-9]+)\\}\n$",
                             REG_EXTENDED),
                     0);
    regmatch_t m[4];
    int rc = regexec(&re, out, 4, m, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("%s: stdout is not one JSON error line: [%s]", what, out);
    size_t l = (size_t)(m[1].rm_eo - m[1].rm_so);
    assert_true(l < cap);
    memcpy(name, out + m[1].rm_so, l);
    name[l] = '\0';
    return atoi(out + m[3].rm_so);
}

static void test_json_errors(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *argv[12];
        int exit;
        const char *error;
    } rows[] = {
        {"login without a password", {"sanji", "--config", W.village_conf, "--json", "login", "p-1",
                                      "--password-stdin", NULL}, 3, "MISSING_FIELD"},
        {"login, --json after the command", {"sanji", "--config", W.village_conf, "login", "p-1",
                                             "--password-stdin", "--json", NULL}, 3, "MISSING_FIELD"},
        {"login without a person", {"sanji", "--config", W.village_conf, "--json", "login", NULL}, 2,
         "INVAL"},
        {"no command", {"sanji", "--json", NULL}, 2, "INVAL"},
        {"unknown command", {"sanji", "--json", "frobnicate", NULL}, 2, "INVAL"},
        {"unknown option", {"sanji", "--json", "list", "--frob", NULL}, 2, "INVAL"},
        {"option without its value", {"sanji", "list", "--json", "--status", NULL}, 2, "INVAL"},
        {"missing required option", {"sanji", "--json", "resolve", "410423-20261123-0001", NULL}, 2,
         "INVAL"},
        {"bad --wait", {"sanji", "--json", "escalate", "X", "--wait", "soon", NULL}, 2, "INVAL"},
        {"no configuration file", {"sanji", "--json", "--config", "/nonexistent/client.conf", "status",
                                   NULL}, 1, NULL},
        {"unknown status", {"sanji", "--config", W.village_conf, "--json", "list", "--status", "done",
                            NULL}, 2, "INVAL"},
        {"--mine with nobody logged in", {"sanji", "--config", W.village_conf, "--json", "list", "--mine",
                                          NULL}, 3, "UNKNOWN_PERSON"},
        {"show an unknown case", {"sanji", "--config", W.village_conf, "--json", "show",
                                  "410423-20261123-9999", NULL}, 3, NULL},
        {"catalogue never received", {"sanji", "--config", W.village_conf, "--json", "catalogue", NULL}, 3,
         "UNKNOWN_ITEM"},
        {"whoami with nobody logged in", {"sanji", "--config", W.village_conf, "--json", "whoami", NULL}, 3,
         NULL},
        {"action with nobody logged in", {"sanji", "--config", W.village_conf, "--json", "escalate",
                                          "410423-20261123-0001", "--wait", "0", NULL}, 3, NULL},
    };
    static result r;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        run(rows[i].argv, NULL, &r);
        char name[64];
        int exit_in_json = json_error_line(rows[i].what, r.out, name, sizeof(name));
        if (r.exit != rows[i].exit || exit_in_json != rows[i].exit)
            fail_msg("%s: exit %d, \"exit\":%d in the JSON; want %d (stdout %s, stderr %s)", rows[i].what,
                     r.exit, exit_in_json, rows[i].exit, r.out, r.err);
        if (rows[i].error && strcmp(name, rows[i].error) != 0)
            fail_msg("%s: error %s, want %s", rows[i].what, name, rows[i].error);
    }
}

/* The message in the JSON is the one a person reads: Chinese by default. */
static void test_json_error_message_is_chinese(void **state)
{
    (void)state;
    static result r;
    const char *argv[] = {"sanji", "--config", W.village_conf, "--json", "login", "p-1", "--password-stdin",
                          NULL};
    run(argv, NULL, &r);
    assert_int_equal(r.exit, 3);
    assert_contains("login", r.out, "\"message\":\"没有输入密码。\"");
    assert_lacks("login", r.err, "错误：");
}

/* ---- show: personal data ----------------------------------------------------- */

static void test_show_masks_by_the_rule(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *conf_is_desk; /* NULL: the village station */
        const char *number;
        bool unmasked;
    } rows[] = {
        {"own village's case at the village station", NULL, "410423-20261123-0001", true},
        {"another village's case at the village station", NULL, "410423-20261123-0002", false},
        {"case held by the township, at the township desk", "desk", "410423-20261123-0003", true},
        {"case held by the county, at the township desk", "desk", "410423-20261123-0004", false},
    };
    static result r;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *argv[] = {"sanji", "--config", rows[i].conf_is_desk ? W.desk_conf : W.village_conf, "show",
                              rows[i].number, NULL};
        run(argv, NULL, &r);
        if (r.exit != 0)
            fail_msg("%s: exit %d: %s", rows[i].what, r.exit, r.err);
        assert_contains(rows[i].what, r.out, "张三");
        if (rows[i].unmasked) {
            assert_contains(rows[i].what, r.out, APPLICANT_ID);
            assert_contains(rows[i].what, r.out, APPLICANT_PHONE);
        } else {
            assert_contains(rows[i].what, r.out, APPLICANT_ID_MASKED);
            assert_contains(rows[i].what, r.out, APPLICANT_PHONE_MASKED);
            assert_lacks(rows[i].what, r.out, APPLICANT_ID);
            assert_lacks(rows[i].what, r.out, APPLICANT_PHONE);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_language_of_errors),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_error_message_is_chinese),
        cmocka_unit_test(test_show_masks_by_the_rule),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
