/*
 * test_turnover.c - administration through turnover reaches a station
 * (docs/SERVER.md "Administration"): the real tiers on loopback
 * (tests/lib/tiers.h, heartbeats every 300 ms) and the station 张官营村
 * with the `sanji` CLI, its cadre logged in.  The county deactivates the
 * cadre with `sanji-countyd person deactivate` while the relay's link is
 * up: the county sends the new person list on that live link, the station
 * gets it at its next `sanji sync`, and from then on the cadre cannot log
 * in there, even offline, and is told so in Chinese, while a colleague
 * still can; the cadre's session is refused too.  A catalogue item the
 * county retires is no longer offered for registration at the station.
 * Reactivated, the cadre logs in again.
 *
 * The cadre's work is reassigned (指派, 接手): a case registered and
 * assigned to the cadre is in their 我的事项 (`sanji mine`); once they are
 * deactivated it shows up in `sanji-countyd person cases`, and the
 * colleague takes it over at the station without a reason (the assignee is
 * gone), which the county records with the colleague's name and the
 * colleague's 我的事项 and `sanji show` then show.  The county puts the
 * colleague on today's duty (`sanji-countyd duty add`): the station shows
 * it (`sanji duty`) after its next sync.
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
#include "pg_tiers.h"
#include "proc.h"
#include "tiers.h"

#define OUT_MAX 65536
#define STATION "v201" /* village:410423101201 张官营村, through the relay */
#define PERSON "p-410423101201-01"
#define COLLEAGUE "p-410423101201-02"
#define DEACTIVATED "已被县里停用"

typedef pgt_tiers world;

static world W;
static char out[OUT_MAX];

static int cli(const char *pw, const char *args)
{
    return sj_test_tiers_cli(&W.t, STATION, pw, out, sizeof out, args);
}

/* The case the cadre was assigned before leaving (its UUID and number). */
static char assigned_case[64], assigned_number[64];

/* The value of "key":"..." in out (the CLI's --json), or "". */
static const char *json_value(const char *key, char *buf, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(out, pat);
    buf[0] = '\0';
    if (!p)
        return buf;
    p += strlen(pat);
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < cap)
        n++;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

/* Runs sanji-countyd with the county's configuration; its output in out. */
static int countyd(const char *args)
{
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "'%s' --config '%s/county.conf' %s 2>&1", W.t.countyd,
             W.t.certs.dir, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* After a sync, does `sanji login` of who answer with `want` in it? */
static bool login_says(void *arg)
{
    const char *const *w = arg;
    if (cli("sanji123", "sync --wait 5") != 0)
        return false;
    (void)cli("sanji123", w[0]);
    return strstr(out, w[1]) != NULL;
}

static int group_setup(void **state)
{
    (void)state;
    return pgt_tiers_up(&W, "sanji_turnover", STATION, PERSON);
}

static int group_teardown(void **state)
{
    (void)state;
    return pgt_tiers_down(&W, "SANJI_E2E_KEEP");
}

/* Registered at the station and assigned to the cadre: in their 我的事项. */
static void test_case_assigned_to_the_cadre(void **state)
{
    (void)state;
    int rc = cli("sanji123", "--json register --item MZ-003 --name 钱七 --id 11010519491231002X"
                             " --phone 13800138000 --text 指派测试 --wait-applied --wait 120");
    if (rc != 0)
        fail_msg("register: exit %d: %s", rc, out);
    json_value("case", assigned_case, sizeof assigned_case);
    json_value("case_number", assigned_number, sizeof assigned_number);
    assert_true(assigned_case[0] && assigned_number[0]);
    char args[256];
    snprintf(args, sizeof args,
             "--json assign %s --person " PERSON " --note 请跟进 --wait-applied --wait 120",
             assigned_case);
    if ((rc = cli("sanji123", args)) != 0 || !strstr(out, "\"applied\""))
        fail_msg("assign: exit %d: %s", rc, out);
    char *v = pgt_scalar(W.db, "SELECT assignee || ' ' || assignee_name || ' ' || carrier"
                               " FROM cases WHERE request_text = '指派测试'");
    assert_non_null(v);
    assert_string_equal(v, PERSON " 常刚 " PERSON);
    free(v);
    if ((rc = cli("sanji123", "--json mine")) != 0 || !strstr(out, assigned_case) ||
        !strstr(out, "\"carrier_name\":\"常刚\""))
        fail_msg("the assigned case is not in 我的事项: exit %d: %s", rc, out);
    /* 全程代办员 named at registration: a colleague of the station. */
    rc = cli("sanji123", "--json register --item MZ-003 --name 孙八 --id 11010519491231002X"
                         " --phone 13800138000 --text 代办测试 --carrier " COLLEAGUE
                         " --wait-applied --wait 120");
    if (rc != 0)
        fail_msg("register --carrier: exit %d: %s", rc, out);
    v = pgt_scalar(W.db, "SELECT carrier || ' ' || carrier_name || ' ' || first_receiver"
                         " FROM cases WHERE request_text = '代办测试'");
    assert_non_null(v);
    assert_string_equal(v, COLLEAGUE " 姚铁柱 " PERSON);
    free(v);
    rc = cli("sanji123", "register --item MZ-003 --name 孙八 --id 11010519491231002X"
                         " --phone 13800138000 --text 代办测试二 --carrier p-410423000000-01");
    assert_int_not_equal(rc, 0); /* not a person of this station */
}

/* After a sync, does the colleague's 我的事项 hold the case as the county
 * recorded it (numbered, taken over by the colleague, carried by the
 * cadre)? */
static bool mine_shows_take_over(void *arg)
{
    (void)arg;
    if (cli("sanji123", "sync --wait 5") != 0 || cli("sanji123", "--json mine") != 0)
        return false;
    return strstr(out, assigned_number) && strstr(out, "\"assignee_name\":\"姚铁柱\"") &&
           strstr(out, "\"carrier_name\":\"常刚\"");
}

static void test_deactivated_person_cannot_log_in_at_the_station(void **state)
{
    (void)state;
    int rc = countyd("--by 县管理员 person deactivate " PERSON);
    if (rc != 0)
        fail_msg("person deactivate: exit %d: %s", rc, out);
    char *v = pgt_scalar(W.db, "SELECT operator || ' ' || command FROM admin_audit"
                               " ORDER BY id DESC LIMIT 1");
    assert_non_null(v);
    assert_string_equal(v, "县管理员 person deactivate");
    free(v);
    /* The relay's link stays up: the list reaches it on that link. */
    const char *w[] = {"login " PERSON, DEACTIVATED};
    if (!sj_test_poll_until(login_says, (void *)w, SJ_TEST_HANG_MS, 200))
        fail_msg("the station still lets %s log in after syncing: %s", PERSON, out);
    /* Offline too (the station's cached list), and not as a wrong password. */
    rc = cli("sanji123", "login " PERSON);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, DEACTIVATED));
    /* The session they had is refused. */
    rc = cli("sanji123", "whoami");
    if (rc == 0)
        fail_msg("the deactivated person's session still works: %s", out);
    /* A colleague of the same station still logs in. */
    rc = cli("sanji123", "login " COLLEAGUE);
    if (rc != 0)
        fail_msg("login %s: exit %d: %s", COLLEAGUE, rc, out);

    /* The cadre's open case shows up for reassignment, and the colleague
     * takes it over: no reason needed, the assignee is gone. */
    if ((rc = countyd("person cases " PERSON)) != 0 || !strstr(out, assigned_number) ||
        !strstr(out, "指派给本人"))
        fail_msg("person cases: exit %d: %s", rc, out);
    char args[256];
    snprintf(args, sizeof args, "--json take-over %s --wait-applied --wait 120", assigned_case);
    if ((rc = cli("sanji123", args)) != 0 || !strstr(out, "\"applied\""))
        fail_msg("take-over: exit %d: %s", rc, out);
    v = pgt_scalar(W.db, "SELECT c.assignee || ' ' || c.assignee_name || ' ' ||"
                               " e.person_name || ' ' || e.actor_name FROM cases c JOIN case_event e"
                               " ON e.case_id = c.case_id AND e.action = 28"
                               " WHERE c.request_text = '指派测试'");
    assert_non_null(v);
    assert_string_equal(v, COLLEAGUE " 姚铁柱 姚铁柱 姚铁柱");
    free(v);
    /* The station shows what the county recorded, once the feed brought it. */
    if (!sj_test_poll_until(mine_shows_take_over, NULL, SJ_TEST_HANG_MS, 200))
        fail_msg("the colleague's 我的事项 does not show the case taken over: %s", out);
    snprintf(args, sizeof args, "show %s", assigned_case);
    if ((rc = cli("sanji123", args)) != 0 || !strstr(out, "承办人") || !strstr(out, "姚铁柱") ||
        !strstr(out, "接手"))
        fail_msg("show: exit %d: %s", rc, out);
}

/* After a sync, does the station's roster list the colleague on today's
 * duty? */
static bool duty_shows_colleague(void *arg)
{
    (void)arg;
    if (cli("sanji123", "sync --wait 5") != 0 || cli("sanji123", "--json duty") != 0)
        return false;
    return strstr(out, "\"person\":\"" COLLEAGUE "\"") && strstr(out, "\"today\":true");
}

static void test_duty_roster_reaches_the_station(void **state)
{
    (void)state;
    char *today = pgt_scalar(W.db, "SELECT ((now() AT TIME ZONE 'Asia/Shanghai')::date)::text");
    assert_non_null(today);
    char args[256];
    snprintf(args, sizeof args, "--by 县管理员 duty add 410423101201 %s " COLLEAGUE, today);
    int rc = countyd(args);
    free(today);
    if (rc != 0)
        fail_msg("duty add: exit %d: %s", rc, out);
    if (!sj_test_poll_until(duty_shows_colleague, NULL, SJ_TEST_HANG_MS, 200))
        fail_msg("the station does not show today's duty: %s", out);
    rc = cli("sanji123", "duty");
    if (rc != 0 || !strstr(out, "姚铁柱") || !strstr(out, "张官营村"))
        fail_msg("sanji duty: exit %d: %s", rc, out);
}

static void test_retired_item_is_not_offered(void **state)
{
    (void)state;
    int rc = countyd("--by 县管理员 item retire MZ-001");
    if (rc != 0)
        fail_msg("item retire: exit %d: %s", rc, out);
    const char *w[] = {"register --item MZ-001 --name 赵六 --id 11010519491231002X"
                       " --phone 13800138000 --text 停用事项 --wait 0",
                       "已被县里停用"};
    if (!sj_test_poll_until(login_says, (void *)w, SJ_TEST_HANG_MS, 200))
        fail_msg("the station still registers the retired MZ-001: %s", out);
    assert_int_equal(pgt_count(W.db, "cases WHERE request_text = '停用事项'"), 0);
}

static void test_reactivated_person_logs_in_again(void **state)
{
    (void)state;
    int rc = countyd("--by 县管理员 person activate " PERSON);
    if (rc != 0)
        fail_msg("person activate: exit %d: %s", rc, out);
    const char *w[] = {"login " PERSON, "已登录"};
    if (!sj_test_poll_until(login_says, (void *)w, SJ_TEST_HANG_MS, 200))
        fail_msg("%s cannot log in again after being reactivated: %s", PERSON, out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_assigned_to_the_cadre),
        cmocka_unit_test(test_deactivated_person_cannot_log_in_at_the_station),
        cmocka_unit_test(test_duty_roster_reaches_the_station),
        cmocka_unit_test(test_retired_item_is_not_offered),
        cmocka_unit_test(test_reactivated_person_logs_in_again),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
