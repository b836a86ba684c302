/*
 * test_config.c - configuration files: every value type, every kind of
 * refusal with its file:line message, overrides, and the printed key table.
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

#include "config.h"

static const sj_config_key keys[] = {
    {"node.name", SJ_CONFIG_STRING, "", 0, 0, "Display name of this node."},
    {"node.unit", SJ_CONFIG_STRING, NULL, 0, 0, "12-digit org unit code (required)."},
    {"listen.address", SJ_CONFIG_HOSTPORT_LIST, "0.0.0.0:7443", 0, 0, "Addresses to listen on."},
    {"listen.max_peers", SJ_CONFIG_INT, "200", 1, 10000, "Most peers connected at once."},
    {"listen.idle", SJ_CONFIG_DURATION, "90s", 1000, 86400000, "Drop a peer silent this long."},
    {"queue.quota", SJ_CONFIG_SIZE, "512MiB", 1048576, 0, "Disk space for the queue."},
    {"queue.path", SJ_CONFIG_PATH, "relay.db", 0, 0, "The SQLite store."},
    {"queue.sync", SJ_CONFIG_BOOL, "true", 0, 0, "fsync every commit."},
    {"upstream.county", SJ_CONFIG_HOSTPORT_LIST, "", 0, 0, "County server addresses, in order."},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int setup(void **state)
{
    sj_config *cfg;
    sj_error err;
    if (sj_config_new(keys, NKEYS, &cfg, &err) != 0)
        fail_msg("%s", err.message);
    *state = cfg;
    return 0;
}

static int teardown(void **state)
{
    sj_config_free(*state);
    return 0;
}

static int load(sj_config *cfg, const char *text, sj_error *err)
{
    sj_error_clear(err);
    return sj_config_load_string(cfg, "relay.conf", "/etc/sanji", text, strlen(text), err);
}

static void test_defaults(void **state)
{
    sj_config *cfg = *state;
    assert_string_equal(sj_config_get_string(cfg, "node.name"), "");
    assert_null(sj_config_get_string(cfg, "node.unit"));
    assert_int_equal(sj_config_get_int(cfg, "listen.max_peers"), 200);
    assert_int_equal(sj_config_get_duration_ms(cfg, "listen.idle"), 90000);
    assert_int_equal(sj_config_get_size(cfg, "queue.quota"), 512ULL << 20);
    assert_string_equal(sj_config_get_path(cfg, "queue.path"), "relay.db");
    assert_true(sj_config_get_bool(cfg, "queue.sync"));
    size_t n;
    const sj_config_hostport *hp = sj_config_get_hostports(cfg, "listen.address", &n);
    assert_int_equal(n, 1);
    assert_string_equal(hp[0].host, "0.0.0.0");
    assert_int_equal(hp[0].port, 7443);
    assert_null(sj_config_get_hostports(cfg, "upstream.county", &n));
    assert_int_equal(n, 0);
    assert_false(sj_config_is_set(cfg, "listen.idle"));
}

static void test_full_file(void **state)
{
    sj_config *cfg = *state;
    sj_error err;
    const char *text = "\xef\xbb\xbf# relay of 张官营镇\n"
                       "[node]\n"
                       "name = \"张官营镇 便民服务中心 # 1\"   # quoted: spaces and # kept\n"
                       "unit=410423101000\n"
                       "\n"
                       "[ listen ]\n"
                       "  address = 0.0.0.0:7443, [::1]:7444\t\n"
                       "max_peers = 10000\n"
                       "idle = 1h30m\n"
                       "[queue]\n"
                       "quota = 2GiB\n"
                       "path = data/relay.db\n"
                       "sync = off\n"
                       "[upstream]\n"
                       "county = county-a.lushan.example:7443 county-b.lushan.example:7443\n";
    if (load(cfg, text, &err) != 0)
        fail_msg("%s", err.message);
    assert_string_equal(sj_config_get_string(cfg, "node.name"), "张官营镇 便民服务中心 # 1");
    assert_string_equal(sj_config_get_string(cfg, "node.unit"), "410423101000");
    assert_int_equal(sj_config_get_int(cfg, "listen.max_peers"), 10000);
    assert_int_equal(sj_config_get_duration_ms(cfg, "listen.idle"), 5400000);
    assert_int_equal(sj_config_get_size(cfg, "queue.quota"), 2ULL << 30);
    assert_string_equal(sj_config_get_path(cfg, "queue.path"), "/etc/sanji/data/relay.db");
    assert_false(sj_config_get_bool(cfg, "queue.sync"));
    size_t n;
    const sj_config_hostport *hp = sj_config_get_hostports(cfg, "listen.address", &n);
    assert_int_equal(n, 2);
    assert_string_equal(hp[1].host, "::1");
    assert_int_equal(hp[1].port, 7444);
    hp = sj_config_get_hostports(cfg, "upstream.county", &n);
    assert_int_equal(n, 2);
    assert_string_equal(hp[0].host, "county-a.lushan.example");
    assert_string_equal(hp[1].host, "county-b.lushan.example");
    assert_true(sj_config_is_set(cfg, "listen.idle"));
}

static void test_value_forms(void **state)
{
    sj_config *cfg = *state;
    static const struct {
        const char *key, *value;
        int64_t want;
    } cases[] = {
        {"listen.idle", "250ms", 0}, /* below the minimum of 1000 ms */
        {"listen.idle", "30s", 30000},
        {"listen.idle", "5m", 300000},
        {"listen.idle", "1d", 86400000},
        {"listen.idle", "2m30s", 150000},
        {"queue.quota", "64KiB", 0}, /* below min */
        {"queue.quota", "1MiB", 1048576},
        {"queue.quota", "3MB", 3000000},
        {"queue.quota", "4096000", 4096000},
        {"queue.quota", "1TiB", 1099511627776LL},
        {"listen.max_peers", "1", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_error err;
        int rc = sj_config_set(cfg, cases[i].key, cases[i].value, &err);
        bool below = (i == 0 || i == 5);
        if (below) {
            if (rc != SJ_ECONFIG_BAD_VALUE)
                fail_msg("%s = %s accepted below the minimum", cases[i].key, cases[i].value);
            continue;
        }
        if (rc != 0)
            fail_msg("%s = %s: %s", cases[i].key, cases[i].value, err.message);
        int64_t got = strcmp(cases[i].key, "listen.idle") == 0
                          ? sj_config_get_duration_ms(cfg, cases[i].key)
                      : strcmp(cases[i].key, "queue.quota") == 0
                          ? (int64_t)sj_config_get_size(cfg, cases[i].key)
                          : sj_config_get_int(cfg, cases[i].key);
        assert_int_equal(got, cases[i].want);
    }
    static const char *const bools[][2] = {{"yes", "1"}, {"no", "0"}, {"ON", "1"}, {"False", "0"},
                                           {"1", "1"},   {"0", "0"}};
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        assert_int_equal(sj_config_set(cfg, "queue.sync", bools[i][0], NULL), 0);
        assert_int_equal(sj_config_get_bool(cfg, "queue.sync"), bools[i][1][0] == '1');
    }
}

/* Every kind of refusal, with the file:line and the hint the operator needs. */
static void test_refusals(void **state)
{
    static const struct {
        const char *text;
        int rc;
        const char *want; /* part of the message */
    } cases[] = {
        /* syntax */
        {"[node\nunit = 1\n", SJ_ECONFIG_SYNTAX, "relay.conf:1: 节名格式不正确"},
        {"[No-de]\n", SJ_ECONFIG_SYNTAX, "relay.conf:1: 节名 [No-de]"},
        {"[node]\nunit 410423101000\n", SJ_ECONFIG_SYNTAX, "relay.conf:2: 无法识别的行"},
        {"[node]\n= 4\n", SJ_ECONFIG_SYNTAX, "relay.conf:2: 无法识别的行"},
        {"unit = 410423101000\n", SJ_ECONFIG_SYNTAX, "relay.conf:1: 配置项 unit 不在任何节中"},
        {"[node]\nname = \"open\n", SJ_ECONFIG_SYNTAX, "relay.conf:2: 引号没有闭合"},
        {"[node]\nname = \"a\" b\n", SJ_ECONFIG_SYNTAX, "relay.conf:2: 引号后有多余内容"},
        {"[node]\nname = \"a\\q\"\n", SJ_ECONFIG_SYNTAX, "relay.conf:2: 不支持的转义"},
        /* unknown keys */
        {"[node]\nunit = 1\n[listen]\nadress = x:1\n", SJ_ECONFIG_UNKNOWN_KEY,
         "relay.conf:4: 未知配置项 listen.adress"},
        {"[nodes]\nunit = 1\n", SJ_ECONFIG_UNKNOWN_KEY, "relay.conf:2: 未知配置项 nodes.unit"},
        /* bad values */
        {"[node]\nunit = 1\n[listen]\nmax_peers = 0\n", SJ_ECONFIG_BAD_VALUE,
         "relay.conf:4: 值 \"0\" 不正确 (bad value for listen.max_peers; expected a whole number "
         "in 1..10000)"},
        {"[node]\nunit = 1\n[listen]\nmax_peers = 12x\n", SJ_ECONFIG_BAD_VALUE, "relay.conf:4:"},
        {"[node]\nunit = 1\n[listen]\nmax_peers = 99999999999999999999\n", SJ_ECONFIG_BAD_VALUE,
         "relay.conf:4:"},
        {"[node]\nunit = 1\n[listen]\nidle = 30\n", SJ_ECONFIG_BAD_VALUE,
         "expected a duration such as 250ms, 30s"},
        {"[node]\nunit = 1\n[listen]\nidle = 5 minutes\n", SJ_ECONFIG_BAD_VALUE, "relay.conf:4:"},
        {"[node]\nunit = 1\n[queue]\nquota = 512M\n", SJ_ECONFIG_BAD_VALUE,
         "expected a size such as 4096, 64KiB"},
        {"[node]\nunit = 1\n[queue]\nsync = maybe\n", SJ_ECONFIG_BAD_VALUE, "true or false"},
        {"[node]\nunit = 1\n[queue]\npath =\n", SJ_ECONFIG_BAD_VALUE, "expected a file name"},
        {"[node]\nunit = 1\n[listen]\naddress = county:70000\n", SJ_ECONFIG_BAD_VALUE,
         "\"county:70000\" is not host:port"},
        {"[node]\nunit = 1\n[listen]\naddress = county\n", SJ_ECONFIG_BAD_VALUE,
         "\"county\" is not host:port"},
        {"[node]\nunit = 1\n[listen]\naddress = [::1:7443\n", SJ_ECONFIG_BAD_VALUE, "is not host:port"},
        {"[node]\nunit = 1\n[listen]\naddress = a/b:1\n", SJ_ECONFIG_BAD_VALUE, "is not host:port"},
        /* 254 characters: longer than any DNS name */
        {"[node]\nunit = 1\n[listen]\naddress = "
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1\n",
         SJ_ECONFIG_BAD_VALUE, "host at most 253 characters"},
        /* duplicates */
        {"[node]\nunit = 1\n\n[node]\nunit = 2\n", SJ_ECONFIG_BAD_VALUE,
         "relay.conf:5: 配置项 node.unit 重复 (given twice; first on line 2"},
        /* missing required key */
        {"[node]\nname = x\n", SJ_ECONFIG_MISSING, "relay.conf: 缺少必填配置项 node.unit"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_config *cfg;
        assert_int_equal(sj_config_new(keys, NKEYS, &cfg, NULL), 0);
        sj_error err;
        int rc = load(cfg, cases[i].text, &err);
        if (rc != cases[i].rc || strstr(err.message, cases[i].want) == NULL)
            fail_msg("case %zu: rc %s \"%s\"; want %s with \"%s\"", i, sj_err_name(rc), err.message,
                     sj_err_name(cases[i].rc), cases[i].want);
        sj_config_free(cfg);
    }
}

static void test_failed_load_keeps_old_values(void **state)
{
    sj_config *cfg = *state;
    sj_error err;
    assert_int_equal(load(cfg, "[node]\nunit = 410423101000\n[listen]\nmax_peers = 7\n", &err), 0);
    assert_int_equal(load(cfg, "[listen]\nmax_peers = 9\nidle = never\n", &err),
                     SJ_ECONFIG_BAD_VALUE);
    assert_int_equal(sj_config_get_int(cfg, "listen.max_peers"), 7);
    /* a later good load only needs the keys it changes */
    assert_int_equal(load(cfg, "[listen]\nmax_peers = 9\n", &err), 0);
    assert_int_equal(sj_config_get_int(cfg, "listen.max_peers"), 9);
    assert_string_equal(sj_config_get_string(cfg, "node.unit"), "410423101000");
}

static void test_lines_and_nul(void **state)
{
    sj_config *cfg = *state;
    sj_error err;
    char text[] = "[node]\nunit = 1\0\n";
    assert_int_equal(sj_config_load_string(cfg, "relay.conf", NULL, text, sizeof(text) - 1, &err),
                     SJ_ECONFIG_SYNTAX);
    assert_non_null(strstr(err.message, "relay.conf:2: 含有NUL字符"));
    char *big = malloc(8000);
    assert_non_null(big);
    memset(big, 'a', 7999);
    memcpy(big, "[node]\nname = ", 14);
    big[7999] = '\0';
    assert_int_equal(load(cfg, big, &err), SJ_ECONFIG_SYNTAX);
    assert_non_null(strstr(err.message, "relay.conf:2: 行过长"));
    free(big);
}

static void test_load_file_and_relative_path(void **state)
{
    sj_config *cfg = *state;
    char dir[] = "/tmp/sj_test_config.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/relay.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[node]\nunit = 410423101000\n[queue]\npath = relay.db\n", f);
    fclose(f);
    sj_error err;
    assert_int_equal(sj_config_load_file(cfg, path, &err), 0);
    char want[160];
    snprintf(want, sizeof(want), "%s/relay.db", dir);
    assert_string_equal(sj_config_get_path(cfg, "queue.path"), want);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("[node]\nunit = 1\nunit = 2\n", f);
    fclose(f);
    assert_int_equal(sj_config_load_file(cfg, path, &err), SJ_ECONFIG_BAD_VALUE);
    char where[160];
    snprintf(where, sizeof(where), "%s:3: ", path);
    assert_non_null(strstr(err.message, where));
    unlink(path);
    rmdir(dir);
    assert_int_equal(sj_config_load_file(cfg, path, &err), SJ_EIO);
    assert_non_null(strstr(err.message, "relay.conf"));
}

static void test_set_override(void **state)
{
    sj_config *cfg = *state;
    sj_error err;
    assert_int_equal(sj_config_set(cfg, "queue.quota", "1GiB", &err), 0);
    assert_int_equal(sj_config_get_size(cfg, "queue.quota"), 1ULL << 30);
    assert_int_equal(sj_config_set(cfg, "queue.qouta", "1GiB", &err), SJ_ECONFIG_UNKNOWN_KEY);
    assert_int_equal(sj_config_set(cfg, "queue.quota", "lots", &err), SJ_ECONFIG_BAD_VALUE);
    assert_non_null(strstr(err.message, "queue.quota"));
    assert_int_equal(sj_config_get_size(cfg, "queue.quota"), 1ULL << 30);
}

static void test_bad_tables_refused(void **state)
{
    static const sj_config_key bad_name[] = {{"nodot", SJ_CONFIG_STRING, "", 0, 0, "x"}};
    static const sj_config_key bad_default[] = {{"a.b", SJ_CONFIG_INT, "5", 10, 20, "x"}};
    static const sj_config_key twice[] = {{"a.b", SJ_CONFIG_BOOL, "on", 0, 0, "x"},
                                          {"a.b", SJ_CONFIG_BOOL, "on", 0, 0, "y"}};
    static const sj_config_key no_doc[] = {{"a.b", SJ_CONFIG_BOOL, "on", 0, 0, NULL}};
    sj_config *cfg = (sj_config *)1;
    sj_error err;
    assert_int_equal(sj_config_new(bad_name, 1, &cfg, &err), SJ_EINVAL);
    assert_null(cfg);
    assert_int_equal(sj_config_new(bad_default, 1, &cfg, &err), SJ_EINVAL);
    assert_non_null(strstr(err.message, "default of a.b"));
    assert_int_equal(sj_config_new(twice, 2, &cfg, &err), SJ_EINVAL);
    assert_int_equal(sj_config_new(no_doc, 1, &cfg, &err), SJ_EINVAL);
}

static void test_print_doc(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(sj_config_print_doc(keys, NKEYS, out), 0);
    fclose(out);
    static const char *const want[] = {
        "[node]\n# Display name of this node.\n# type: string; default: (empty)\n#name = \"\"\n",
        "# 12-digit org unit code (required).\n# type: string; required\n#unit =\n",
        ("[listen]\n# Addresses to listen on.\n# type: host:port list; default: 0.0.0.0:7443\n"
         "#address = 0.0.0.0:7443\n"),
        "# type: integer, range 1..10000; default: 200\n#max_peers = 200\n",
        "# type: duration, range 1000..86400000 ms; default: 90s\n#idle = 90s\n",
        "# type: size, at least 1048576 bytes; default: 512MiB\n#quota = 512MiB\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strstr(buf, want[i]) == NULL)
            fail_msg("printed table lacks:\n%s\n--- printed:\n%s", want[i], buf);
    /* each section once */
    assert_null(strstr(strstr(buf, "[node]") + 1, "[node]"));
    /* The printed document is itself a valid file for the same table. */
    sj_config *cfg;
    assert_int_equal(sj_config_new(keys, NKEYS, &cfg, NULL), 0);
    sj_error err;
    assert_int_equal(sj_config_set(cfg, "node.unit", "410423101000", NULL), 0);
    assert_int_equal(sj_config_load_string(cfg, "doc", NULL, buf, len, &err), 0);
    sj_config_free(cfg);
    free(buf);
}

/* The line that gave a key its value, for checks made after loading. */
static void test_line_of_a_key(void **state)
{
    sj_config *cfg = *state;
    sj_error err;
    assert_int_equal(load(cfg, "[node]\nunit = 410423101000\n\n[queue]\nsync = false\n", &err), 0);
    assert_int_equal(sj_config_line(cfg, "node.unit"), 2);
    assert_int_equal(sj_config_line(cfg, "queue.sync"), 5);
    assert_int_equal(sj_config_line(cfg, "listen.max_peers"), 0); /* default */
    assert_int_equal(sj_config_set(cfg, "listen.max_peers", "7", &err), 0);
    assert_int_equal(sj_config_line(cfg, "listen.max_peers"), 0); /* not from a file */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_of_a_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_forms, setup, teardown),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test_setup_teardown(test_failed_load_keeps_old_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_and_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file_and_relative_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_override, setup, teardown),
        cmocka_unit_test(test_bad_tables_refused),
        cmocka_unit_test_setup_teardown(test_print_doc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
