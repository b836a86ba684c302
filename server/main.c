/*
 * main.c - sanji-countyd, the county server: command line.
 *
 *   sanji-countyd [--config FILE] [--database CONNINFO] migrate
 *   sanji-countyd [--config FILE] [--database CONNINFO] import KIND FILE
 *       KIND: orgunits | categories | catalogue | persons | holidays | departments | duty
 *       (holidays: the running server, or the next one to start, then
 *       recomputes every open case's due time, sweep.h countyd_sweep_calendar())
 *   sanji-countyd [--config FILE] [--database CONNINFO] demo-load DIR
 *   sanji-countyd [...] [--by NAME] person add ID --name N --role R --unit U
 *       [--department D] [--password-stdin]
 *   sanji-countyd [...] [--by NAME] person edit ID [--name N] [--role R]
 *       [--unit U] [--department D] [--stand-in PERSON]
 *   sanji-countyd [...] [--by NAME] person deactivate|activate ID
 *   sanji-countyd [...] [--by NAME] person reset-password ID [--password-stdin]
 *   sanji-countyd [...] person cases ID
 *   sanji-countyd [...] [--by NAME] item retire|restore CODE
 *   sanji-countyd [...] [--by NAME] item edit CODE --department DEPT
 *   sanji-countyd [...] [--by NAME] department add|edit CODE --name NAME
 *   sanji-countyd [...] [--by NAME] department deactivate|activate CODE
 *   sanji-countyd [...] [--by NAME] duty add|remove UNIT DATE PERSON
 *   sanji-countyd [...] duty list [UNIT]
 *   sanji-countyd [...] audit [TARGET]
 *   sanji-countyd [...] haocha-export --from DATE --to DATE --out FILE
 *       (haocha.h: the evaluations of those China dates, both counted, as
 *       the CSV the province's 好差评 platform takes; docs/STATISTICS.md)
 *       (admin.h; a new or reset password is generated and printed once,
 *       or read from the first line of stdin with --password-stdin)
 *   sanji-countyd --config FILE run
 *   sanji-countyd --config FILE links
 *   sanji-countyd --print-config-doc
 *
 * The database conninfo comes from --database, else the configuration file
 * (database.conninfo), else the environment (libpq's PG* variables).
 *
 * `run` serves relays and county desks until SIGTERM or SIGINT (daemon.h).
 * `links` asks the running server of FILE for its live links (linkctl.h:
 * a local socket; as root or the server's user) and prints each peer with
 * its certificate's serial and notAfter.
 * When the database cannot be reached at start, `run` waits for it (backoff
 * up to database.retry_max) rather than exit.
 *
 * Exit status: 0 success (for `run`: a clean stop); 1 the command failed
 * (message on stderr); 2 usage error.
 *
 * Entry point: main().
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "daemon.h"
#include "db.h"
#include "enrol.h"
#include "haocha.h"
#include "i18n.h"
#include "import.h"
#include "linkctl.h"
#include "log.h"
#include "migrate.h"
#include "password.h"
#include "sdnotify.h"
#include "server_config.h"

static void usage(FILE *out)
{
    fprintf(out,
            "用法 (usage):\n"
            "  sanji-countyd [--config FILE] [--database CONNINFO] migrate\n"
            "  sanji-countyd [--config FILE] [--database CONNINFO] import "
            "orgunits|categories|catalogue|persons|holidays|departments|duty FILE\n"
            "  sanji-countyd [--config FILE] [--database CONNINFO] demo-load DIR\n"
            "  sanji-countyd [...] [--by NAME] person add ID --name N --role R --unit U "
            "[--department D] [--password-stdin]\n"
            "  sanji-countyd [...] [--by NAME] person edit ID [--name N] [--role R] [--unit U] "
            "[--department D] [--stand-in PERSON]\n"
            "  sanji-countyd [...] [--by NAME] person deactivate|activate ID\n"
            "  sanji-countyd [...] [--by NAME] person reset-password ID [--password-stdin]\n"
            "  sanji-countyd [...] person cases ID\n"
            "  sanji-countyd [...] [--by NAME] item retire|restore CODE\n"
            "  sanji-countyd [...] [--by NAME] item edit CODE --department DEPT\n"
            "  sanji-countyd [...] [--by NAME] department add|edit CODE --name NAME\n"
            "  sanji-countyd [...] [--by NAME] department deactivate|activate CODE\n"
            "  sanji-countyd [...] [--by NAME] duty add|remove UNIT DATE PERSON\n"
            "  sanji-countyd [...] duty list [UNIT]\n"
            "  sanji-countyd [...] audit [TARGET]\n"
            "  sanji-countyd [...] haocha-export --from YYYY-MM-DD --to YYYY-MM-DD --out FILE\n"
            "  sanji-countyd [--config FILE] stars thresholds\n"
            "  sanji-countyd --config FILE run\n"
            "  sanji-countyd --config FILE links\n"
            "  sanji-countyd --print-config-doc\n");
}

static int fail(const sj_error *err)
{
    /* The prefix files the line as an error in the journal (log.h). */
    fprintf(stderr, "%ssanji-countyd: %s: %s\n", sj_log_stderr_prefix(SJ_LOG_LEVEL_ERROR),
            sj_err_name(err->code), err->message);
    return 1;
}

/* `run` waits for the database instead of exiting when it is not up yet
 * (a machine starting the county server and PostgreSQL together, or a
 * county server restarted while PostgreSQL recovers): only a failure to
 * reach it is retried, with backoff up to database.retry_max; a wrong
 * schema or any other error still stops the start. */
static int connect_waiting(const char *conninfo, int64_t retry_max_ms, PGconn **db, sj_error *err)
{
    int64_t backoff = 100;
    for (;;) {
        int rc = countyd_db_connect(conninfo, db, err);
        if (rc == 0 || rc != SJ_EDB_CONN)
            return rc;
        fprintf(stderr, "%ssanji-countyd: 数据库尚不可用，%lld 毫秒后重试 (database not reachable yet; "
                        "retrying in %lld ms): %s\n",
                sj_log_stderr_prefix(SJ_LOG_LEVEL_WARN), (long long)backoff, (long long)backoff,
                err->message);
        /* Under systemd the start is not finished until READY=1: ask it to
         * wait through this pause (and a margin for the next attempt)
         * instead of failing the start at TimeoutStartSec. */
        sj_sdnotify_extend_timeout((uint64_t)backoff + 30000u,
                                   "waiting for the database (database.conninfo)");
        struct timespec ts = {.tv_sec = backoff / 1000, .tv_nsec = (backoff % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0)
            ;
        backoff = backoff * 2 > retry_max_ms ? (retry_max_ms > 100 ? retry_max_ms : 100) : backoff * 2;
    }
}

/* The options of the administration commands (admin.h). */
typedef struct admin_opts {
    const char *by;
    countyd_admin_person person; /* --name --role --unit --department --stand-in */
    bool password_stdin;
} admin_opts;

/* A new password: the first line of stdin, or a random one printed once
 * (the enrolment passphrase's alphabet: easy to read out and type). */
static int new_password(const admin_opts *o, char *out, size_t cap, bool *generated, sj_error *err)
{
    *generated = !o->password_stdin;
    if (o->password_stdin) {
        if (!fgets(out, (int)cap, stdin))
            return sj_error_set(err, SJ_EINVAL, "标准输入中没有密码 (no password on stdin)");
        out[strcspn(out, "\r\n")] = '\0';
        return 0;
    }
    char pass[SJ_ENROL_PASSPHRASE_SIZE];
    int rc = sj_enrol_passphrase(pass, err);
    if (rc == 0)
        snprintf(out, cap, "%s", pass);
    return rc;
}

static void say_changed(bool changed, const char *target)
{
    if (changed)
        printf("%s: 已修改 (changed)\n", target);
    else
        printf("%s: 无变化 (nothing to change)\n", target);
}

/* person|item|department|audit.  Returns the exit status; 2 for usage. */
static int admin_command(PGconn *db, const char *const *pos, int npos, const admin_opts *o,
                         sj_error *err)
{
    const char *cmd = pos[0], *verb = npos > 1 ? pos[1] : "", *target = npos > 2 ? pos[2] : "";
    const countyd_admin_by by_cli = {o->by, NULL}, *by = &by_cli;
    bool changed = false;
    int rc;
    if (strcmp(cmd, "audit") == 0 && npos <= 2)
        return countyd_admin_audit_print(db, npos == 2 ? pos[1] : NULL, stdout, err) ? 1 : 0;
    /* 值班表: duty list [UNIT], duty add|remove UNIT DATE PERSON. */
    if (strcmp(cmd, "duty") == 0 && strcmp(verb, "list") == 0 && npos <= 3) {
        size_t n;
        if (countyd_admin_duty_print(db, target, stdout, &n, err) != 0)
            return 1;
        printf("%zu 条值班安排 (duty rows)\n", n);
        return 0;
    }
    if (strcmp(cmd, "duty") == 0 && npos == 5 &&
        (strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0)) {
        if (countyd_admin_duty_set(db, by, pos[2], pos[3], pos[4], verb[0] == 'a', &changed,
                                   err) != 0)
            return 1;
        say_changed(changed, pos[2]);
        return 0;
    }
    if (npos != 3)
        return 2;
    if (strcmp(cmd, "person") == 0) {
        if (strcmp(verb, "add") == 0 || strcmp(verb, "reset-password") == 0) {
            char password[SJ_PASSWORD_MAX_LEN + 2];
            bool generated;
            if ((rc = new_password(o, password, sizeof(password), &generated, err)) == 0)
                rc = strcmp(verb, "add") == 0
                         ? countyd_admin_person_add(db, by, target, &o->person, password, err)
                         : countyd_admin_person_reset_password(db, by, target, password, err);
            if (rc == 0 && generated)
                printf("%s: 一次性密码 (one-time password): %s\n"
                       "首次登录时须改为新密码 (it must be changed at the next login)\n",
                       target, password);
            else if (rc == 0)
                printf("%s: 密码已设置，首次登录时须修改 (password set; it must be changed at the "
                       "next login)\n", target);
            explicit_bzero(password, sizeof(password));
            return rc ? 1 : 0;
        }
        if (strcmp(verb, "edit") == 0)
            rc = countyd_admin_person_edit(db, by, target, &o->person, &changed, err);
        else if (strcmp(verb, "deactivate") == 0 || strcmp(verb, "activate") == 0)
            rc = countyd_admin_person_set_active(db, by, target, verb[0] == 'a', &changed, err);
        else if (strcmp(verb, "cases") == 0) {
            size_t n;
            if ((rc = countyd_admin_person_cases(db, target, stdout, &n, err)) == 0)
                printf("%s: %zu 件在办事项待改派 (open cases to reassign)\n", target, n);
            return rc ? 1 : 0;
        } else
            return 2;
    } else if (strcmp(cmd, "item") == 0) {
        if (strcmp(verb, "edit") == 0) {
            if (!o->person.department) {
                sj_error_set(err, SJ_EINVAL, "请用 --department 给出部门代码 (give the department's "
                                             "code with --department)");
                return 1;
            }
            rc = countyd_admin_item_set_department(db, by, target, o->person.department, &changed,
                                                   err);
        } else if (strcmp(verb, "retire") == 0 || strcmp(verb, "restore") == 0) {
            rc = countyd_admin_item_set_active(db, by, target, strcmp(verb, "restore") == 0,
                                               &changed, err);
        } else {
            return 2;
        }
    } else if (strcmp(cmd, "department") == 0) {
        if ((strcmp(verb, "add") == 0 || strcmp(verb, "edit") == 0) && !o->person.name) {
            sj_error_set(err, SJ_EINVAL, "请用 --name 给出部门名称 (give the name with --name)");
            return 1;
        }
        if (strcmp(verb, "add") == 0) {
            rc = countyd_admin_department_add(db, by, target, o->person.name, err);
            changed = rc == 0;
        } else if (strcmp(verb, "edit") == 0)
            rc = countyd_admin_department_edit(db, by, target, o->person.name, &changed, err);
        else if (strcmp(verb, "deactivate") == 0 || strcmp(verb, "activate") == 0)
            rc = countyd_admin_department_set_active(db, by, target, verb[0] == 'a', &changed,
                                                     err);
        else
            return 2;
    } else {
        return 2;
    }
    if (rc != 0)
        return 1;
    say_changed(changed, target);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *conninfo = NULL;
    /* Options may stand before or after the command ("--config F run" and
     * "run --config F" are the same), as operators type them both ways. */
    const char *pos[5];
    int npos = 0;
    admin_opts aopts = {0};
    const char *from_day = NULL, *to_day = NULL, *out_path = NULL; /* haocha-export */
    sj_i18n_init(NULL);
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            if (npos == (int)(sizeof(pos) / sizeof(pos[0]))) {
                usage(stderr);
                return 2;
            }
            pos[npos++] = argv[i];
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--database") == 0 && i + 1 < argc) {
            conninfo = argv[++i];
        } else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc) {
            aopts.by = argv[++i];
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            aopts.person.name = argv[++i];
        } else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) {
            aopts.person.role = argv[++i];
        } else if (strcmp(argv[i], "--unit") == 0 && i + 1 < argc) {
            aopts.person.unit = argv[++i];
        } else if (strcmp(argv[i], "--department") == 0 && i + 1 < argc) {
            aopts.person.department = argv[++i];
        } else if (strcmp(argv[i], "--stand-in") == 0 && i + 1 < argc) {
            aopts.person.stand_in = argv[++i];
        } else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
            from_day = argv[++i];
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            to_day = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (strcmp(argv[i], "--password-stdin") == 0) {
            aopts.password_stdin = true;
        } else if (strcmp(argv[i], "--print-config-doc") == 0) {
            return countyd_config_print_doc(stdout) == 0 ? 0 : 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (npos == 0) {
        usage(stderr);
        return 2;
    }
    const char *cmd = pos[0];
    sj_error err;
    sj_error_clear(&err);

    countyd_config cfg;
    if (countyd_config_load(config_path, &cfg, &err) != 0)
        return fail(&err);
    if (!conninfo)
        conninfo = cfg.database;

    int status = 1;
    PGconn *db = NULL;
    if (strcmp(cmd, "migrate") == 0 && npos == 1) {
        int from, to;
        if (countyd_db_connect(conninfo, &db, &err) != 0 || countyd_migrate(db, &from, &to, &err) != 0)
            goto out_fail;
        printf("数据库结构版本 %d -> %d (schema version %d -> %d)\n", from, to, from, to);
        status = 0;
    } else if (strcmp(cmd, "import") == 0 && npos == 3) {
        countyd_import_kind kind;
        if (countyd_import_kind_parse(pos[1], &kind) != 0) {
            usage(stderr);
            status = 2;
            goto out;
        }
        size_t changed;
        if (countyd_db_connect(conninfo, &db, &err) != 0 || countyd_migrate_check(db, &err) != 0 ||
            countyd_import_file(db, kind, pos[2], stderr, &changed, &err) != 0)
            goto out_fail;
        printf("%s: 导入完成，%zu 行有变化 (imported; %zu rows changed)\n", pos[2], changed,
               changed);
        /* A year's holiday arrangement: say what the calendar now covers;
         * the county server recomputes the open cases' due times on it. */
        if (kind == COUNTYD_IMPORT_HOLIDAYS &&
            countyd_import_calendar_report(db, stdout, &err) != 0)
            goto out_fail;
        status = 0;
    } else if (strcmp(cmd, "demo-load") == 0 && npos == 2) {
        if (countyd_db_connect(conninfo, &db, &err) != 0 || countyd_migrate_check(db, &err) != 0 ||
            countyd_import_demo(db, pos[1], stdout, &err) != 0)
            goto out_fail;
        status = 0;
    } else if (strcmp(cmd, "person") == 0 || strcmp(cmd, "item") == 0 ||
               strcmp(cmd, "department") == 0 || strcmp(cmd, "audit") == 0 ||
               strcmp(cmd, "duty") == 0) {
        if (countyd_db_connect(conninfo, &db, &err) != 0 || countyd_migrate_check(db, &err) != 0)
            goto out_fail;
        status = admin_command(db, pos, npos, &aopts, &err);
        if (status == 2)
            usage(stderr);
        else if (status == 1)
            goto out_fail;
    } else if (strcmp(cmd, "haocha-export") == 0 && npos == 1) {
        if (!from_day || !to_day || !out_path) {
            usage(stderr);
            status = 2;
            goto out;
        }
        int64_t from_ms, to_ms;
        size_t rows;
        if (countyd_haocha_days(from_day, to_day, &from_ms, &to_ms, &err) != 0 ||
            countyd_db_connect(conninfo, &db, &err) != 0 || countyd_migrate_check(db, &err) != 0 ||
            countyd_haocha_export_file(db, from_ms, to_ms, out_path, &rows, &err) != 0)
            goto out_fail;
        printf("%s: 已导出 %zu 条评价 (%zu evaluations exported)\n", out_path, rows, rows);
        status = 0;
    } else if (strcmp(cmd, "stars") == 0 && npos == 2 && strcmp(pos[1], "thresholds") == 0) {
        /* The star thresholds are the stars.* keys (docs/STATISTICS.md
         * "Station stars"): shown as this file sets them; changed there,
         * in effect once the county server is restarted. */
        countyd_stars_print_thresholds(stdout, &cfg.stars, &cfg.duty);
        status = 0;
    } else if (strcmp(cmd, "links") == 0 && npos == 1) {
        if (!config_path) {
            usage(stderr);
            status = 2;
            goto out;
        }
        char name[SJ_LINKCTL_NAME_MAX];
        countyd_config_links_socket(&cfg, name);
        /* A daemon that does not answer in this time is stuck, not slow. */
        if (sj_linkctl_print(stdout, name, 30000, &err) != 0)
            goto out_fail;
        status = 0;
    } else if (strcmp(cmd, "run") == 0 && npos == 1) {
        if (!config_path) {
            usage(stderr);
            status = 2;
            goto out;
        }
        if (connect_waiting(conninfo, cfg.retry_max_ms, &db, &err) != 0 ||
            countyd_migrate_check(db, &err) != 0)
            goto out_fail;
        /* The workers open their own connections; this one only checked
         * the schema before anything is served. */
        PQfinish(db);
        db = NULL;
        cfg.database = conninfo;
        sj_log_level level;
        if (sj_log_level_parse(cfg.log_level, &level) != 0) {
            sj_error_set(&err, SJ_ECONFIG_BAD_VALUE, "log.level “%s” 无效 (debug, info, warn or error)",
                         cfg.log_level);
            goto out_fail;
        }
        sj_log_set_level(level);
        if (*cfg.log_file && sj_log_set_file(cfg.log_file, &err) != 0)
            goto out_fail;
        if (countyd_daemon_run(&cfg, &err) != 0)
            goto out_fail;
        sj_log_close();
        status = 0;
    } else {
        usage(stderr);
        status = 2;
    }
    goto out;
out_fail:
    status = fail(&err);
out:
    if (db)
        PQfinish(db);
    countyd_config_free(&cfg);
    return status;
}
