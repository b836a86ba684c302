/*
 * test_notify.c - the villager is told of a result (docs/LIFECYCLE.md
 * "Notifying the villager", docs/SERVER.md "Notifier"): the real tiers on
 * loopback (tests/lib/tiers.h) and the station 张官营村 with the `sanji`
 * CLI, the county's notify.command a recorder script that appends one line
 * per message (phone, case number, kind, the text from its standard input)
 * and its whole environment, and fails (exit 1) as many times as the file
 * `fails` says.
 *   - one message per result, with the template's text filled in (county,
 *     item, village, materials), and never the ID number, in the text or
 *     the environment;
 *   - a case registered with --no-notify gets none, and shows 不通知;
 *   - a failing command is retried with back-off, every attempt is on the
 *     case (NOTIFY_FAILED events, then NOTIFIED) and in the county's
 *     notification_attempt table, and the station shows 已通知 in the end;
 *     the county server restarted between two attempts neither loses nor
 *     doubles the message;
 *   - a command that keeps failing is tried notify.retry_max times, then
 *     the case shows 通知失败.
 *
 * Nothing waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "files.h"
#include "pg_test.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX   65536
#define STATION   "v201" /* village:410423101201 张官营村, through the relay */
#define PERSON    "p-410423101201-01"
#define ID_NUMBER "11010519491231002X"
#define PHONE     "13800138000"

typedef struct world {
    sj_test_tiers t;
    char conninfo[1024];
    PGconn *db;
    char sent[PATH_MAX], env[PATH_MAX], fails[PATH_MAX];
} world;

static world W;
static char out[OUT_MAX];

static int cli(const char *args)
{
    return sj_test_tiers_cli(&W.t, STATION, "sanji123", out, sizeof out, args);
}

/* The value of the first "key": in a JSON text ("" when absent). */
static const char *jget(const char *json, const char *key, char *buf, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    buf[0] = '\0';
    if (!p)
        return buf;
    p += strlen(pat);
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"' && n + 1 < cap; p++)
            buf[n++] = *p;
    } else {
        while (*p && *p != ',' && *p != '}' && n + 1 < cap)
            buf[n++] = *p++;
    }
    buf[n] = '\0';
    return buf;
}

/* The recorder's lines so far. */
static void read_file(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* How many recorded messages are for case `number`. */
static int messages_for(const char *number)
{
    static char text[OUT_MAX];
    read_file(W.sent, text, sizeof text);
    int n = 0;
    char tab[96];
    snprintf(tab, sizeof tab, "\t%s\t", number);
    for (const char *p = text; (p = strstr(p, tab)); p++)
        n++;
    return n;
}

/* The recorded line of the k-th (0-based) message for case `number`. */
static void message_line(const char *number, int k, char *line, size_t cap)
{
    static char text[OUT_MAX];
    read_file(W.sent, text, sizeof text);
    char tab[96];
    snprintf(tab, sizeof tab, "\t%s\t", number);
    line[0] = '\0';
    const char *p = text;
    for (int i = 0; (p = strstr(p, tab)); p++, i++) {
        if (i < k)
            continue;
        const char *start = p;
        while (start > text && start[-1] != '\n')
            start--;
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        snprintf(line, cap, "%.*s", (int)len, start);
        return;
    }
}

typedef struct want_count {
    const char *number;
    int n;
} want_count;

static bool has_messages(void *arg)
{
    const want_count *w = arg;
    return messages_for(w->number) >= w->n;
}

static void wait_messages(const char *number, int n)
{
    want_count w = {number, n};
    if (!sj_test_poll_until(has_messages, &w, SJ_TEST_HANG_MS, 50)) {
        static char text[OUT_MAX];
        read_file(W.sent, text, sizeof text);
        fail_msg("no %d message(s) for %s recorded; the recorder has:\n%s", n, number, text);
    }
}

/* Registers a case (extra options appended) and waits until the county
 * recorded it; id and number filled. */
static void reg(const char *extra, char id[64], char number[64])
{
    char args[1024];
    snprintf(args, sizeof args,
             "--json register --item MZ-001 --name 张三 --id " ID_NUMBER " --phone " PHONE
             " --text 申请办理 %s --wait-applied --wait 120",
             extra);
    int rc = cli(args);
    if (rc != 0)
        fail_msg("register: exit %d: %s", rc, out);
    jget(out, "case", id, 64);
    jget(out, "case_number", number, 64);
    assert_true(number[0] != '\0');
}

static void act(const char *id, const char *what)
{
    char args[1024];
    snprintf(args, sizeof args, "--json %s %s --wait-applied --wait 120", what, id);
    int rc = cli(args);
    if (rc != 0)
        fail_msg("%s: exit %d: %s", what, rc, out);
}

typedef struct want_show {
    const char *id;
    const char *key, *value;
} want_show;

/* After a sync, does `sanji --json show` of the case have key = value? */
static bool station_shows(void *arg)
{
    const want_show *w = arg;
    if (cli("sync --wait 5") != 0)
        return false;
    char args[256], buf[128];
    snprintf(args, sizeof args, "--json show %s", w->id);
    if (cli(args) != 0)
        return false;
    return strcmp(jget(out, w->key, buf, sizeof buf), w->value) == 0;
}

static void wait_station(const char *id, const char *key, const char *value)
{
    want_show w = {id, key, value};
    if (!sj_test_poll_until(station_shows, &w, SJ_TEST_HANG_MS, 100))
        fail_msg("the station never showed %s = %s for %s: %s", key, value, id, out);
}

/* ---- the network ----------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    W.db = pgt_fresh_db("sanji_notify", W.conninfo, sizeof W.conninfo);
    if (!W.db)
        return -1;
    const char *dir = W.t.certs.dir;
    snprintf(W.sent, sizeof W.sent, "%s/sent.txt", dir);
    snprintf(W.env, sizeof W.env, "%s/env.txt", dir);
    snprintf(W.fails, sizeof W.fails, "%s/fails", dir);
    /* The recorder: fails while `fails` counts down, else records. */
    if (sj_test_write_file(dir, "notify.sh",
                           "n=$(cat '%s' 2>/dev/null || echo 0)\n"
                           "if [ \"$n\" -gt 0 ]; then echo $((n - 1)) > '%s'; exit 1; fi\n"
                           "env >> '%s'\n"
                           /* one write of the whole line: the test reads it meanwhile */
                           "text=$(cat)\n"
                           "printf '%%s\\t%%s\\t%%s\\t%%s\\n' \"$SANJI_NOTIFY_PHONE\" "
                           "\"$SANJI_NOTIFY_CASE\" \"$SANJI_NOTIFY_KIND\" \"$text\" >> '%s'\n",
                           W.fails, W.fails, W.env, W.sent) != 0)
        return -1;
    char county_extra[2048];
    snprintf(county_extra, sizeof county_extra,
             "[link]\nheartbeat = 300ms\n"
             "[notify]\ncommand = \"/bin/sh '%s/notify.sh'\"\ninterval = 100ms\n"
             "retry_base = 1s\nretry_cap = 2s\nretry_max = 4\n",
             dir);
    if (sj_test_tiers_configure(&W.t, W.conninfo, county_extra, "[link]\nheartbeat = 300ms\n") !=
            0 ||
        sj_test_tiers_write_station(&W.t, STATION) != 0 || sj_test_tiers_start(&W.t) != 0)
        return -1;
    return sj_test_tiers_station_login(&W.t, STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    if (W.db)
        PQfinish(W.db);
    return sj_test_tiers_finish(&W.t, "SANJI_E2E_KEEP");
}

/* ---- the tests ------------------------------------------------------------------ */

static void test_one_message_per_result_with_its_text(void **state)
{
    (void)state;
    char id[64], number[64], line[4096], want[4096];
    reg("", id, number);
    act(id, "resolve-now --result 已当场答复");
    wait_messages(number, 1);
    message_line(number, 0, line, sizeof line);
    snprintf(want, sizeof want,
             PHONE "\t%s\tresolved\t【鲁山县代办】您申请的社会救助政策咨询已办结，请到张官营村便民"
                   "服务站领取结果。",
             number);
    assert_string_equal(line, want);
    wait_station(id, "notify_state", "sent");
    assert_int_equal(cli("sync --wait 5"), 0);
    char args[128];
    snprintf(args, sizeof args, "show %s", id);
    assert_int_equal(cli(args), 0);
    if (!strstr(out, "已通知"))
        fail_msg("sanji show does not say 已通知:\n%s", out);

    /* Materials asked for, then returned as undoable: one message each. */
    char id2[64], number2[64];
    reg("", id2, number2);
    act(id2, "request-materials --material 户口簿 --material 近期免冠照片");
    wait_messages(number2, 1);
    act(id2, "return --note 申请人不符合条件");
    wait_messages(number2, 2);
    message_line(number2, 0, line, sizeof line);
    snprintf(want, sizeof want,
             PHONE "\t%s\tmaterials\t【鲁山县代办】您申请的社会救助政策咨询需补充材料：户口簿、"
                   "近期免冠照片。请备齐后到张官营村便民服务站提交。",
             number2);
    assert_string_equal(line, want);
    message_line(number2, 1, line, sizeof line);
    snprintf(want, sizeof want,
             PHONE "\t%s\treturned\t【鲁山县代办】您申请的社会救助政策咨询未能办理（退办），"
                   "请到张官营村便民服务站了解原因。",
             number2);
    assert_string_equal(line, want);
    wait_station(id2, "notify_state", "sent");
    /* Exactly one per result: the outbox rows are sent, none waits. */
    assert_int_equal(messages_for(number), 1);
    assert_int_equal(messages_for(number2), 2);
    assert_int_equal(pgt_count(W.db, "notification WHERE state <> 'sent'"), 0);
    /* The ID number is in no message and in no command's environment. */
    static char text[OUT_MAX];
    read_file(W.sent, text, sizeof text);
    assert_null(strstr(text, ID_NUMBER));
    assert_null(strstr(text, "张三"));
    read_file(W.env, text, sizeof text);
    assert_non_null(strstr(text, "SANJI_NOTIFY_PHONE=" PHONE));
    assert_null(strstr(text, ID_NUMBER));
}

static void test_do_not_notify_sends_nothing(void **state)
{
    (void)state;
    char quiet[64], quiet_no[64], loud[64], loud_no[64];
    reg("--no-notify", quiet, quiet_no);
    act(quiet, "resolve-now --result 已当场答复");
    /* A later case's message is sent: the quiet one, due earlier, had its
     * turn before and was never queued. */
    reg("", loud, loud_no);
    act(loud, "resolve-now --result 已当场答复");
    wait_messages(loud_no, 1);
    assert_int_equal(messages_for(quiet_no), 0);
    char cond[256];
    snprintf(cond, sizeof cond, "notification n JOIN cases c USING (case_id) WHERE c.number = '%s'",
             quiet_no);
    assert_int_equal(pgt_count(W.db, cond), 0);
    wait_station(quiet, "notify_state", "off");
    char args[128];
    snprintf(args, sizeof args, "show %s", quiet);
    assert_int_equal(cli(args), 0);
    if (!strstr(out, "不通知"))
        fail_msg("sanji show does not say 不通知:\n%s", out);
}

static void test_failing_command_is_retried_across_a_restart(void **state)
{
    (void)state;
    /* The next two attempts fail. */
    assert_int_equal(sj_test_write_file(W.t.certs.dir, "fails", "2\n"), 0);
    char id[64], number[64];
    reg("", id, number);
    act(id, "resolve-now --result 已当场答复");
    /* The first failure reaches the station: pending, one attempt. */
    wait_station(id, "notify_attempts", "1");
    char buf[64];
    assert_string_equal(jget(out, "notify_state", buf, sizeof buf), "pending");
    assert_int_equal(messages_for(number), 0);

    /* The county server stops and starts again between two attempts. */
    sj_error err;
    assert_int_equal(sj_test_proc_stop(&W.t.county, SJ_TEST_HANG_MS, &err), 0);
    assert_int_equal(sj_test_proc_restart(&W.t.county, &err), 0);
    assert_int_equal(sj_test_proc_wait_port(&W.t.county, W.t.county_port, SJ_TEST_HANG_MS, &err),
                     0);

    wait_messages(number, 1);
    wait_station(id, "notify_state", "sent");
    assert_string_equal(jget(out, "notify_attempts", buf, sizeof buf), "3");
    /* Every attempt is on the case: two failures, then the message. */
    const char *failed = strstr(out, "\"action\":\"notify_failed\"");
    assert_non_null(failed);
    assert_non_null(strstr(failed + 1, "\"action\":\"notify_failed\""));
    assert_non_null(strstr(out, "\"action\":\"notified\""));
    assert_non_null(strstr(out, "notify.command exited with status 1"));
    char args[128];
    snprintf(args, sizeof args, "show %s", id);
    assert_int_equal(cli(args), 0);
    if (!strstr(out, "已通知") || !strstr(out, "通知村民失败"))
        fail_msg("sanji show does not tell the attempts:\n%s", out);
    /* And in the county's records: three attempts, the last one sent. */
    char cond[512];
    snprintf(cond, sizeof cond,
             "notification_attempt a JOIN notification n ON n.id = a.notification_id"
             " JOIN cases c USING (case_id) WHERE c.number = '%s'",
             number);
    assert_int_equal(pgt_count(W.db, cond), 3);
    snprintf(cond, sizeof cond,
             "notification_attempt a JOIN notification n ON n.id = a.notification_id"
             " JOIN cases c USING (case_id) WHERE c.number = '%s' AND a.sent",
             number);
    assert_int_equal(pgt_count(W.db, cond), 1);
    /* Not lost, not doubled. */
    assert_int_equal(messages_for(number), 1);
}

/* A command that keeps failing: notify.retry_max (4) attempts, then the
 * case says 通知失败 and nothing more is tried. */
static void test_failing_command_gives_up(void **state)
{
    (void)state;
    assert_int_equal(sj_test_write_file(W.t.certs.dir, "fails", "100\n"), 0);
    char id[64], number[64];
    reg("", id, number);
    act(id, "return --note 申请人不符合条件");
    wait_station(id, "notify_state", "failed");
    char buf[64];
    assert_string_equal(jget(out, "notify_attempts", buf, sizeof buf), "4");
    assert_string_equal(jget(out, "notify_retry_at_ms", buf, sizeof buf), "0");
    assert_int_equal(messages_for(number), 0);
    char cond[512];
    snprintf(cond, sizeof cond,
             "notification n JOIN cases c USING (case_id) WHERE c.number = '%s'"
             " AND n.state = 'failed' AND n.attempts = 4",
             number);
    assert_int_equal(pgt_count(W.db, cond), 1);
    char args[128];
    snprintf(args, sizeof args, "show %s", id);
    assert_int_equal(cli(args), 0);
    if (!strstr(out, "通知失败（已发送 4 次）"))
        fail_msg("sanji show does not say 通知失败:\n%s", out);
    assert_int_equal(sj_test_write_file(W.t.certs.dir, "fails", "0\n"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_message_per_result_with_its_text),
        cmocka_unit_test(test_do_not_notify_sends_nothing),
        cmocka_unit_test(test_failing_command_is_retried_across_a_restart),
        cmocka_unit_test(test_failing_command_gives_up),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
