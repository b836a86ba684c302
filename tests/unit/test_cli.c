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
 *     case) and masked elsewhere, and a value that came masked is shown as
 *     it came, not masked again;
 *   - show: the handling type (即办 ... 退办), a repeated request for
 *     materials (in the case and in its history), and the missing
 *     materials only while the case waits for them;
 *   - the hints quote a case number of the real form (5-digit serial);
 *   - catalogue KEYWORD: items named with it before those that only list
 *     it among their materials.
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
#include "password.h"
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

/* Opens the store of node node_id in W.home. */
static sc_store *open_store(const char *store, const char *node_id)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", W.home, store);
    sc_store *st = NULL;
    sj_error err;
    if (sc_store_open(path, node_id, &st, &err) != 0)
        fail_msg("store %s: %s", path, err.message);
    return st;
}

/* What put_case() changes in its case before storing it (may be NULL). */
typedef void (*case_tweak)(Sanji__Case *c);

/* Puts a case with a full applicant into the store of node node_id. */
static void put_case_tweaked(const char *store, const char *node_id, const char *number, uint8_t seed,
                             const char *village, Sanji__Level holder_level, const char *holder_unit,
                             Sanji__CaseStatus status, case_tweak tweak)
{
    sc_store *st = open_store(store, node_id);
    sj_error err;
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
    if (tweak)
        tweak(&c);
    if (sc_store_case_put(st, &c, &err) != 0)
        fail_msg("case_put: %s", err.message);
    sc_store_close(st);
}

static void put_case(const char *store, const char *node_id, const char *number, uint8_t seed,
                     const char *village, Sanji__Level holder_level, const char *holder_unit,
                     Sanji__CaseStatus status)
{
    put_case_tweaked(store, node_id, number, seed, village, holder_level, holder_unit, status, NULL);
}

/* A case closed after two requests for materials (the second a repeat,
 * which breaks the one-time notice): handled as 补办; its last list of
 * materials stays in the record, but nothing is missing any more. */
static void closed_after_materials(Sanji__Case *c)
{
    static char *mats[] = {(char *)"户口簿", (char *)"低保申请书"};
    c->handling = SANJI__HANDLING_TYPE__HANDLING_SUPPLEMENTED;
    c->materials = mats;
    c->n_materials = 2;
    c->materials_rounds = 2;
    c->version = 7;
}

/* A case the county holds, as it reaches a township desk: the applicant's
 * ID number and phone masked by the relay already. */
static void masked_upstream(Sanji__Case *c)
{
    static Sanji__Applicant ap = SANJI__APPLICANT__INIT;
    ap.name = (char *)"张三";
    ap.id_number = (char *)APPLICANT_ID_MASKED;
    ap.phone = (char *)APPLICANT_PHONE_MASKED;
    c->applicant = &ap;
}

/* The history of closed_after_materials()'s case (seed 5). */
static void put_materials_history(void)
{
    sc_store *st = open_store("village.db", "village:" VILLAGE);
    static const struct {
        Sanji__CaseActionType action;
        Sanji__CaseStatus to;
        const char *material2; /* NULL: one material */
        bool repeat;
    } steps[] = {
        {SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER, SANJI__CASE_STATUS__CASE_STATUS_REGISTERED, NULL, false},
        {SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS,
         SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS, NULL, false},
        {SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS,
         SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS, "低保申请书", true},
        {SANJI__CASE_ACTION_TYPE__CASE_ACTION_SUPPLEMENT, SANJI__CASE_STATUS__CASE_STATUS_REGISTERED, NULL,
         false},
        {SANJI__CASE_ACTION_TYPE__CASE_ACTION_CLOSE, SANJI__CASE_STATUS__CASE_STATUS_CLOSED, NULL, false},
    };
    uint8_t id[16];
    fill_id(id, 5);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        char *mats[] = {(char *)"户口簿", (char *)steps[i].material2};
        Sanji__CaseEvent e = SANJI__CASE_EVENT__INIT;
        e.case_id.data = id;
        e.case_id.len = 16;
        e.seq = (uint32_t)(i + 1);
        e.action = steps[i].action;
        e.actor_name = (char *)"常刚";
        e.to_status = steps[i].to;
        e.at_ms = 1795400000000 + (int64_t)i * 60000;
        if (steps[i].action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS) {
            e.materials = mats;
            e.n_materials = steps[i].material2 ? 2 : 1;
        }
        e.repeat_materials_request = steps[i].repeat;
        sj_error err;
        if (sc_store_event_put(st, &e, &err) != 0)
            fail_msg("event_put: %s", err.message);
    }
    sc_store_close(st);
}

/* A catalogue at the township desk (the village station has none, for the
 * error of test_json_errors): 户口 is in the names of two items and
 * among the materials of others, listed first (as the county's code order
 * puts 残疾人 items before 户籍 ones). */
static void put_catalogue(void)
{
    static const struct {
        const char *code, *category, *name, *material;
    } rows[] = {
        {"CJ-002", "CJ", "残疾人证新办（评残）", "户口簿"},
        {"CJ-004", "CJ", "困难残疾人生活补贴和重度残疾人护理补贴申请", "户口簿"},
        {"HJ-004", "HJ", "户口迁移（县内）", "户口迁移申请表"},
        {"HJ-006", "HJ", "户口迁出", "居民身份证"},
        {"MZ-003", "MZ", "城乡低保申请", "户口簿"},
    };
    enum { N = sizeof(rows) / sizeof(rows[0]) };
    Sanji__CatalogueItem items[N], *pi[N];
    char *mats[N];
    for (size_t i = 0; i < N; i++) {
        sanji__catalogue_item__init(&items[i]);
        items[i].code = (char *)rows[i].code;
        items[i].category = (char *)rows[i].category;
        items[i].name = (char *)rows[i].name;
        items[i].min_level = SANJI__LEVEL__LEVEL_COUNTY;
        items[i].department = (char *)"县民政局";
        items[i].limit_days = 20;
        mats[i] = (char *)rows[i].material;
        items[i].materials = &mats[i];
        items[i].n_materials = 1;
        items[i].active = true;
        pi[i] = &items[i];
    }
    Sanji__CatalogueCategory cats[3], *pc[3];
    static const char *const cat_rows[3][2] = {{"CJ", "残疾人服务"}, {"HJ", "户籍证照"}, {"MZ", "民政救助"}};
    for (size_t i = 0; i < 3; i++) {
        sanji__catalogue_category__init(&cats[i]);
        cats[i].code = (char *)cat_rows[i][0];
        cats[i].name = (char *)cat_rows[i][1];
        pc[i] = &cats[i];
    }
    Sanji__CatalogueSync cs = SANJI__CATALOGUE_SYNC__INIT;
    cs.version = 1;
    cs.items = pi;
    cs.n_items = N;
    cs.categories = pc;
    cs.n_categories = 3;
    size_t len = sanji__catalogue_sync__get_packed_size(&cs);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    sanji__catalogue_sync__pack(&cs, buf);
    sc_store *st = open_store("desk.db", "township-desk:" TOWNSHIP);
    sj_error err;
    if (sc_store_ref_put(st, "catalogue", 1, buf, len, &err) != 0)
        fail_msg("ref_put: %s", err.message);
    sc_store_close(st);
    free(buf);
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
    put_case_tweaked("village.db", "village:" VILLAGE, "410423-20261123-00005", 5, VILLAGE,
                     SANJI__LEVEL__LEVEL_VILLAGE, VILLAGE, SANJI__CASE_STATUS__CASE_STATUS_CLOSED,
                     closed_after_materials);
    put_materials_history();
    put_case_tweaked("desk.db", "township-desk:" TOWNSHIP, "410423-20261123-00006", 6, VILLAGE,
                     SANJI__LEVEL__LEVEL_COUNTY, COUNTY, SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY,
                     masked_upstream);
    put_catalogue();
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

/* A value the relay masked for this desk is shown as it came: masking it
 * again would hide the digits the mask keeps. */
static void test_show_masks_once(void **state)
{
    (void)state;
    static result r;
    const char *argv[] = {"sanji", "--config", W.desk_conf, "show", "410423-20261123-00006", NULL};
    run(argv, NULL, &r);
    if (r.exit != 0)
        fail_msg("exit %d: %s", r.exit, r.err);
    /* Each value exactly as it came (the phone masked again would be
     * "*********00"). */
    static const char *const rows[][2] = {{"身份证号", APPLICANT_ID_MASKED}, {"电话", APPLICANT_PHONE_MASKED}};
    for (size_t i = 0; i < 2; i++) {
        const char *line = strstr(r.out, rows[i][0]);
        assert_non_null(line);
        line += strlen(rows[i][0]);
        line += strspn(line, " ");
        if (strncmp(line, rows[i][1], strlen(rows[i][1])) != 0 || line[strlen(rows[i][1])] != '\n')
            fail_msg("%s: want %s in:\n%s", rows[i][0], rows[i][1], r.out);
    }
}

/* The handling type and the repeated request for materials, in the case
 * and its history; a closed case has no missing materials. */
static void test_show_handling_and_materials(void **state)
{
    (void)state;
    static result r;
    const char *argv[] = {"sanji", "--config", W.village_conf, "show", "410423-20261123-00005", NULL};
    run(argv, NULL, &r);
    if (r.exit != 0)
        fail_msg("exit %d: %s", r.exit, r.err);
    assert_contains("handling", r.out, "办理方式");
    assert_contains("handling", r.out, "补办");
    assert_contains("materials rounds", r.out, "2 次：未做到一次性告知");
    assert_contains("repeated request in the history", r.out, "户口簿、低保申请书");
    assert_contains("repeated request in the history", r.out, "再次告知");
    assert_lacks("closed case", r.out, "缺少材料");

    const char *json[] = {"sanji", "--config", W.village_conf, "--json", "show", "410423-20261123-00005",
                          NULL};
    run(json, NULL, &r);
    assert_int_equal(r.exit, 0);
    assert_contains("json", r.out, "\"handling\":\"supplemented\"");
    assert_contains("json", r.out, "\"repeat_materials_request\":true");

    /* An open case that was never finished has no handling type yet. */
    const char *open[] = {"sanji", "--config", W.village_conf, "show", "410423-20261123-0001", NULL};
    run(open, NULL, &r);
    assert_int_equal(r.exit, 0);
    assert_lacks("open case", r.out, "办理方式");
}

/* The hints quote a case number as the county makes them: a 5-digit
 * serial (410423-20261123-00001), never one that cannot exist. */
static void test_hints_quote_real_case_numbers(void **state)
{
    (void)state;
    static result r;
    const char *argv[] = {"sanji", "--config", W.village_conf, "show", "410423-20261123-99999", NULL};
    run(argv, NULL, &r);
    assert_int_equal(r.exit, 3);
    assert_contains("unknown case", r.err, "410423-20261123-00001");
    assert_lacks("unknown case", r.err, "-0001（");
    const char *help[] = {"sanji", "show", "--help", NULL};
    run(help, NULL, &r);
    assert_contains("show --help", r.out, "410423-20261123-00001");
    assert_lacks("show --help", r.out, "-0001）");
}

/* A station its relay refused for good (here: a revoked certificate, as the
 * library keeps it in the store) says so in `status`, in Chinese, with what
 * to do, and in --json by code; a link taken again clears it. */
static void test_status_tells_a_lasting_refusal(void **state)
{
    (void)state;
    sc_store *st = open_store("village.db", "village:" VILLAGE);
    sj_error err;
    char code[16];
    snprintf(code, sizeof code, "%d", SJ_ETLS_REVOKED);
    assert_int_equal(sc_store_meta_set(st, "lasting_refusal", code, &err), 0);
    sc_store_close(st);
    static result r;
    const char *argv[] = {"sanji", "--config", W.village_conf, "status", "--offline", NULL};
    run(argv, NULL, &r);
    assert_contains("status", r.out, "本站证书已被吊销，请联系县委组织部重新发证");
    const char *json[] = {"sanji", "--config", W.village_conf, "--json", "status", "--offline",
                          NULL};
    run(json, NULL, &r);
    assert_contains("status --json", r.out, "\"lasting_refusal\":\"TLS_REVOKED\"");
    st = open_store("village.db", "village:" VILLAGE);
    assert_int_equal(sc_store_meta_set(st, "lasting_refusal", "0", &err), 0);
    sc_store_close(st);
    run(argv, NULL, &r);
    assert_lacks("status", r.out, "吊销");
}

/* Logging in works offline while the link is refused for good, and says
 * why and what to do (the cadre learns it before working).  Its own store
 * (login.db), with one person whose verifier is real. */
static void test_login_tells_a_lasting_refusal(void **state)
{
    (void)state;
    char conf[600];
    snprintf(conf, sizeof conf, "%s/login.conf", W.home);
    write_conf(conf, "village", "login.db");
    sc_store *st = open_store("login.db", "village:" VILLAGE);
    sj_error err;
    char verifier[SJ_PASSWORD_VERIFIER_SIZE];
    assert_int_equal(sj_password_make("zhiban-2026", verifier, sizeof verifier, &err), 0);
    Sanji__Person p = SANJI__PERSON__INIT;
    p.id = (char *)"p-" VILLAGE "-01";
    p.name = (char *)"王秀英";
    p.role = SANJI__PERSON_ROLE__PERSON_ROLE_VILLAGE_CADRE;
    p.org_unit = (char *)VILLAGE;
    p.verifier = verifier;
    p.active = true;
    Sanji__Person *pp[] = {&p};
    Sanji__PersonSync ps = SANJI__PERSON_SYNC__INIT;
    ps.version = 1;
    ps.persons = pp;
    ps.n_persons = 1;
    uint8_t buf[1024];
    size_t len = sanji__person_sync__pack(&ps, buf);
    assert_int_equal(sc_store_ref_put(st, "persons", 1, buf, len, &err), 0);
    char code[16];
    snprintf(code, sizeof code, "%d", SJ_ETLS_REVOKED);
    assert_int_equal(sc_store_meta_set(st, "lasting_refusal", code, &err), 0);
    sc_store_close(st);
    static result r;
    const char *argv[] = {"sanji", "--config", conf, "login", "p-" VILLAGE "-01", NULL};
    const char *env[] = {"SANJI_PASSWORD=zhiban-2026", NULL};
    run(argv, env, &r);
    assert_int_equal(r.exit, 0);
    assert_contains("login", r.out, "王秀英");
    assert_contains("login", r.out, "本站证书已被吊销，请联系县委组织部重新发证");
}

/* 户口 finds the items named with it first, then those that only need a
 * 户口簿. */
static void test_catalogue_keyword_ranks_names_first(void **state)
{
    (void)state;
    static result r;
    const char *argv[] = {"sanji", "--config", W.desk_conf, "--json", "catalogue", "户口", NULL};
    run(argv, NULL, &r);
    if (r.exit != 0)
        fail_msg("exit %d: %s %s", r.exit, r.out, r.err);
    const char *order[] = {"HJ-004", "HJ-006", "CJ-002", "CJ-004", "MZ-003"};
    const char *at = r.out;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        char want[32];
        snprintf(want, sizeof(want), "\"code\":\"%s\"", order[i]);
        const char *p = strstr(at, want);
        if (!p)
            fail_msg("%s is not where it belongs (after %s) in:\n%s", order[i], i ? order[i - 1] : "nothing",
                     r.out);
        at = p;
    }
    const char *text[] = {"sanji", "--config", W.desk_conf, "catalogue", "户口", NULL};
    run(text, NULL, &r);
    assert_int_equal(r.exit, 0);
    const char *hj = strstr(r.out, "HJ-004"), *cj = strstr(r.out, "CJ-002");
    assert_non_null(hj);
    assert_non_null(cj);
    assert_true(hj < cj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_language_of_errors),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_error_message_is_chinese),
        cmocka_unit_test(test_show_masks_by_the_rule),
        cmocka_unit_test(test_show_masks_once),
        cmocka_unit_test(test_show_handling_and_materials),
        cmocka_unit_test(test_hints_quote_real_case_numbers),
        cmocka_unit_test(test_catalogue_keyword_ranks_names_first),
        cmocka_unit_test(test_status_tells_a_lasting_refusal),
        cmocka_unit_test(test_login_tells_a_lasting_refusal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
