/*
 * sanji.c - `sanji`, the command-line client: every lifecycle action and
 * every read, for scripts, tests and people at a terminal.  Built on the
 * client library (sanji_client.h).  docs/CLI.md is its manual.
 *
 *   sanji [--config FILE] [--json] COMMAND [options]
 *   sanji --print-config-doc    every key of client.conf, documented
 *
 * An action is saved to the local outbox first (已保存), then sent for at
 * most --wait seconds; whatever is not confirmed stays in the outbox and
 * goes with the next run or `sanji sync`.  Reads use the local copy.
 *
 * Exit codes (docs/CLI.md):
 *   0  done (an action: saved and confirmed as far as asked)
 *   1  configuration, certificate or local store problem
 *   2  wrong usage (unknown command or option, missing argument)
 *   3  input refused here (bad field, unknown item or case, not allowed now,
 *      nobody logged in, wrong password)
 *   4  refused by the township relay or the county (reason printed)
 *   5  saved but not yet confirmed; it stays in the outbox and is sent later
 *
 * This file holds main() and the command table that ties the modules
 * together; each module does one job:
 *   cli_opts.c     the options, their parsing, the usage texts and errors
 *   cli_out.c      exit codes and failures, JSON, tables
 *   cli_run.c      a command's run: its client, loop, link, questions to the peer
 *   cli_cases.c    the commands about cases (actions, list, show, queue ...)
 *   cli_attach.c   attachments (--attach, sanji attachment)
 *   cli_station.c  the station and its people (status, login, duty, print, setup ...)
 *   cli_reports.c  reports on a scope (network, stats, bulletin, ledger, stars)
 *
 * Entry point: main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_config.h"
#include "i18n.h"
#include "log.h"
#include "sanji_client.h"

#include "cli_out.h"
#include "cli_opts.h"
#include "cli_run.h"
#include "cli_attach.h"
#include "cli_cases.h"
#include "cli_station.h"
#include "cli_reports.h"

/* The commands: each one's function, how it runs, the options and arguments
 * it takes, and its summary (cli_command, cli_opts.h). */
#define ACT_OPTS "wait,wait-applied"
static const cli_command COMMANDS[] = {
    {"register", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_REGISTER,
     "item,name,id,phone,text,urgent,no-notify,appointment,carrier,attach," ACT_OPTS, "item,name,id,phone,text", "", 0, 0,
     N_("register a new request (诉求登记)")},
    {"resolve-now", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_RESOLVE_AT_ONCE, "result,note," ACT_OPTS, "result", "CASE",
     1, 1, N_("resolve at once at the village (即办)")},
    {"escalate", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_ESCALATE, "note," ACT_OPTS, "", "CASE", 1, 1,
     N_("escalate one level up (上报)")},
    {"accept", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_ACCEPT, "note," ACT_OPTS, "", "CASE", 1, 1,
     N_("accept an escalated case (签收)")},
    {"dispatch", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_DISPATCH, "department,note," ACT_OPTS, "department",
     "CASE", 1, 1, N_("dispatch to a county department (派单, county); codes: sanji departments")},
    {"take", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_TAKE, "note," ACT_OPTS, "", "CASE", 1, 1,
     N_("take a case dispatched to your department (接单)")},
    {"refuse", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_REFUSE_DISPATCH, "note," ACT_OPTS, "note", "CASE", 1,
     1, N_("refuse a dispatched case back to the county, with the reason (退单)")},
    {"report", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_REPORT, "result,note," ACT_OPTS, "result", "CASE", 1,
     1, N_("report the result back to the county (回单)")},
    {"return-report", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_RETURN_REPORT, "note," ACT_OPTS, "note",
     "CASE", 1, 1, N_("send a department's report back to it, with the reason (回单退回, county)")},
    {"return-down", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_RETURN_DOWN, "note," ACT_OPTS, "note", "CASE", 1, 1,
     N_("send a wrongly escalated case back one level (退回下级)")},
    {"request-materials", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_REQUEST_MATERIALS, "material,note," ACT_OPTS,
     "material", "CASE", 1, 1, N_("list every missing material at once (一次告知)")},
    {"supplement", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_SUPPLEMENT, "note,attach," ACT_OPTS, "", "CASE", 1, 1,
     N_("the missing materials were brought (补齐材料)")},
    {"resolve", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_RESOLVE, "result,note," ACT_OPTS, "result", "CASE", 1, 1,
     N_("resolve with a result (办结)")},
    {"return", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_RETURN_UNDOABLE, "note," ACT_OPTS, "note", "CASE", 1, 1,
     N_("return as not doable, with the reason (退办)")},
    {"withdraw", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_WITHDRAW, "note," ACT_OPTS, "note", "CASE", 1, 1,
     N_("the applicant withdraws (撤回)")},
    {"urge", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_URGE, "note," ACT_OPTS, "", "CASE", 1, 1, N_("urge the holder (催办)")},
    {"feedback", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_FEEDBACK, "satisfaction,note," ACT_OPTS, "satisfaction",
     "CASE", 1, 1, N_("record the villager's satisfaction (结果反馈)")},
    {"reopen", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_REOPEN, "note," ACT_OPTS, "note", "CASE", 1, 1,
     N_("handle again after an unsatisfied follow-up (重办)")},
    {"close", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_CLOSE, "note," ACT_OPTS, "note", "CASE", 1, 1,
     N_("close after follow-up (归档)")},
    {"rectify", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_RECTIFY, "note," ACT_OPTS, "note", "CASE", 1, 1,
     N_("record a bad evaluation's rectification as done, saying what was done (整改完成)")},
    {"callback", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_CALLBACK, "satisfaction,note," ACT_OPTS,
     "satisfaction,note", "CASE", 1, 1,
     N_("call the villager back after the rectification: the new evaluation and the outcome (回访)")},
    {"supervise", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_SUPERVISE, "note," ACT_OPTS, "", "CASE", 1, 1,
     N_("flag a case for supervision (督办, county)")},
    {"extend", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_EXTEND_REQUEST, "days,note," ACT_OPTS, "days,note",
     "CASE", 1, 1, N_("ask the level above for more working days, with the reason (申请延期)")},
    {"extend-approve", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_EXTEND_APPROVE, "note," ACT_OPTS, "", "CASE",
     1, 1, N_("approve the extension asked for (批准延期; the level above or the county)")},
    {"extend-refuse", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_EXTEND_REFUSE, "note," ACT_OPTS, "note", "CASE",
     1, 1, N_("refuse the extension asked for, with the reason (不予延期)")},
    {"assign", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_ASSIGN, "person,note," ACT_OPTS, "person", "CASE", 1,
     1, N_("assign the case to a person of the unit holding it (指派/改派)")},
    {"take-over", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_TAKE_OVER, "note," ACT_OPTS, "", "CASE", 1, 1,
     N_("take over a colleague's case, with the reason (接手)")},
    {"set-carrier", cli_cmd_action, CLI_M_ACTION, SJ_ACTION_SET_CARRIER, "person,note," ACT_OPTS, "person",
     "CASE", 1, 1, N_("name the village cadre who carries the case throughout (全程代办员)")},
    {"mine", cli_cmd_list, CLI_M_STATUS, 0, "overdue,status", "", "", 0, 0,
     N_("my cases (我的事项): assigned to me, carried or first received by me, and those of whom "
        "I stand in for (B岗)")},
    {"persons", cli_cmd_persons, CLI_M_STATUS, 0, "", "", "", 0, 0,
     N_("the persons of this station's unit and their stand-ins (for assign)")},
    {"duty", cli_cmd_duty, CLI_M_STATUS, 0, "", "", "", 0, 0,
     N_("the duty roster of this station's unit (值班表): who is on duty today and next")},
    {"list", cli_cmd_list, CLI_M_STATUS, 0, "mine,overdue,waiting,status", "", "", 0, 0,
     N_("list cases (filters: --mine --overdue --waiting --status)")},
    {"show", cli_cmd_show, CLI_M_STATUS, 0, "", "", "CASE", 1, 1, N_("show one case with its full history")},
    {"attachment", cli_cmd_attachment, CLI_M_STATUS, 0, "material,output,wait,offline", "",
     "add|list|get CASE [FILE|ATTACHMENT_ID]", 2, 3,
     N_("a case's photos and scans: add CASE FILE [--material M], list CASE, get CASE ID -o FILE")},
    {"print", cli_cmd_print, CLI_M_STATUS, 0, "output", "", "receipt|notice CASE", 2, 2,
     N_("the villager's paper as a PDF to print: receipt (受理回执) or notice (一次性告知单)")},
    {"catalogue", cli_cmd_catalogue, CLI_M_STATUS, 0, "", "", "[KEYWORD]", 0, 1,
     N_("search the service catalogue by Chinese keyword")},
    {"departments", cli_cmd_departments, CLI_M_STATUS, 0, "", "", "", 0, 0,
     N_("list the county's departments and their codes (for dispatch)")},
    {"queue", cli_cmd_queue, CLI_M_STATUS, 0, "overdue,wait", "", "", 0, 0,
     N_("a department's cases at the county: 待接单, 办理中, 即将超期/已超期")},
    {"status", cli_cmd_status, CLI_M_STATUS, 0, "wait,offline", "", "", 0, 0, N_("link and outbox status")},
    {"sync", cli_cmd_status, CLI_M_SYNC, 0, "wait", "", "", 0, 0,
     N_("connect, send the outbox and bring the local copy up to date")},
    {"watch", cli_cmd_watch, CLI_M_WATCH, 0, "", "", "", 0, 0, N_("stay connected and print live updates")},
    {"login", cli_cmd_login, CLI_M_LOGIN, 0, "password-stdin,wait", "", "[PERSON]", 0, 1,
     N_("log a person in at this station (password checked offline too)")},
    {"logout", cli_cmd_logout, CLI_M_LOGIN, 0, "", "", "", 0, 0, N_("log the person out")},
    {"passwd", cli_cmd_passwd, CLI_M_LOGIN, 0, "password-stdin,wait", "", "", 0, 0,
     N_("change the logged-in person's password (offline too; sent with the next sync)")},
    {"whoami", cli_cmd_whoami, CLI_M_LOGIN, 0, "", "", "", 0, 0, N_("who is logged in at this station")},
    {"network", cli_cmd_network, CLI_M_STATUS, 0, "wait", "", "", 0, 0,
     N_("every township and station of this desk's scope, with warnings (desks)")},
    {"stats", cli_cmd_stats, CLI_M_STATUS, 0, "period,at,from,to,by,unit,format,output,wait", "", "", 0, 0,
     N_("statistics of a period within your scope (办结率、按时办结、满意度 …; docs/STATISTICS.md)")},
    {"bulletin", cli_cmd_bulletin, CLI_M_STATUS, 0, "period,month,quarter,at,format,output,wait", "", "", 0, 0,
     N_("the monthly or quarterly 通报 of your scope as a PDF or an .xlsx workbook (-o FILE)")},
    {"ledger", cli_cmd_ledger, CLI_M_SYNC, 0, "month,format,output,wait", "", "", 0, 0,
     N_("this station's 台账 of a month: every request, its result and satisfaction (PDF or .xlsx, -o FILE)")},
    {"stars", cli_cmd_stars, CLI_M_STATUS, 0, "year,quarter,unit,wait", "year", "", 0, 0,
     N_("station stars of a year or quarter within your scope (代办星、记录星、值班星、服务星、时效星)")},
    /* No function: main() runs cli_setup_station() before any configuration is read. */
    {"setup", NULL, CLI_M_STATUS, 0, "dir,force,passphrase-stdin", "", "BUNDLE", 1, 1,
     N_("set this station up from its enrolment bundle and slip (导入本站配置)")},
};
#define N_COMMANDS (sizeof(COMMANDS) / sizeof(COMMANDS[0]))

static int load_setup(const char *path, cli_setup *s, sj_error *err)
{
    int rc = sc_config_load(path, s, err);
    if (rc != 0)
        return rc;
    /* A command runs for seconds: retry a lost link sooner than a desk does. */
    s->client.backoff_base_ms = 200;
    s->client.backoff_cap_ms = 2000;
    return 0;
}

int main(int argc, char **argv)
{
    sj_i18n_init(NULL);
    sj_log_set_level(SJ_LOG_LEVEL_ERROR);
    const char *lv = getenv("SANJI_LOG_LEVEL");
    sj_log_level lvl;
    if (lv && sj_log_level_parse(lv, &lvl) == 0)
        sj_log_set_level(lvl);
    cli_opts o;
    memset(&o, 0, sizeof(o));
    cli_json_mode = cli_wants_json(argc, argv);
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            o.json = true;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            o.config = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            o.config = argv[i] + 9;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage_main(stdout, COMMANDS, N_COMMANDS);
            return CLI_EX_OK;
        } else if (strcmp(argv[i], "--print-config-doc") == 0) {
            return sc_config_print_doc(stdout) == 0 ? CLI_EX_OK : CLI_EX_SETUP;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("sanji %s\n", SANJI_VERSION);
            return CLI_EX_OK;
        } else if (argv[i][0] == '-')
            return cli_usage_error(NULL, _("unknown option %s."), argv[i]);
        else
            break;
    }
    if (i >= argc) {
        if (cli_json_mode)
            return cli_usage_error(NULL, "%s", _("no command given."));
        cli_usage_main(stderr, COMMANDS, N_COMMANDS);
        return CLI_EX_USAGE;
    }
    const cli_command *cmd = NULL;
    for (size_t k = 0; k < N_COMMANDS; k++)
        if (strcmp(COMMANDS[k].name, argv[i]) == 0)
            cmd = &COMMANDS[k];
    if (!cmd)
        return cli_usage_error(NULL, _("unknown command \"%s\"."), argv[i]);
    int rc = cli_parse_opts(cmd, argc - i - 1, argv + i + 1, &o);
    if (rc != 0)
        return rc;
    if (o.help) {
        cli_usage_cmd(cmd, stdout);
        return CLI_EX_OK;
    }
    if (strcmp(cmd->name, "setup") == 0)
        return cli_setup_station(&o);
    cli_setup s;
    sj_error err;
    if (load_setup(o.config, &s, &err) != 0) {
        sc_config_release(&s);
        return cli_fail(&err, CLI_EX_SETUP);
    }
    rc = cli_run_command(cmd, &o, &s);
    sc_config_release(&s);
    sj_log_close();
    return rc;
}
