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
#include <stddef.h>
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
/* An admin call's outcome as an exit status: 1 when it failed, else 0
 * with what changed said. */
static int admin_done(int rc, bool changed, const char *target)
{
    if (rc != 0)
        return 1;
    say_changed(changed, target);
    return 0;
}

/* person add|reset-password: a password given on stdin or generated, shown
 * once; the person must change it at the next login. */
static int admin_person_password(PGconn *db, const countyd_admin_by *by, const char *verb,
                                 const char *target, const admin_opts *o, sj_error *err)
{
    char password[SJ_PASSWORD_MAX_LEN + 2];
    bool generated;
    int rc = new_password(o, password, sizeof(password), &generated, err);
    if (rc == 0)
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

static int admin_person(PGconn *db, const countyd_admin_by *by, const char *verb,
                        const char *target, const admin_opts *o, sj_error *err)
{
    bool changed = false;
    int rc;
    if (strcmp(verb, "add") == 0 || strcmp(verb, "reset-password") == 0)
        return admin_person_password(db, by, verb, target, o, err);
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
    return admin_done(rc, changed, target);
}

static int admin_item(PGconn *db, const countyd_admin_by *by, const char *verb,
                      const char *target, const admin_opts *o, sj_error *err)
{
    bool changed = false;
    int rc;
    if (strcmp(verb, "edit") == 0) {
        if (!o->person.department) {
            sj_error_set(err, SJ_EINVAL, "请用 --department 给出部门代码 (give the department's "
                                         "code with --department)");
            return 1;
        }
        rc = countyd_admin_item_set_department(db, by, target, o->person.department, &changed,
                                               err);
    } else if (strcmp(verb, "retire") == 0 || strcmp(verb, "restore") == 0) {
        rc = countyd_admin_item_set_active(db, by, target, strcmp(verb, "restore") == 0, &changed,
                                           err);
    } else {
        return 2;
    }
    return admin_done(rc, changed, target);
}

static int admin_department(PGconn *db, const countyd_admin_by *by, const char *verb,
                            const char *target, const admin_opts *o, sj_error *err)
{
    bool changed = false;
    int rc;
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
        rc = countyd_admin_department_set_active(db, by, target, verb[0] == 'a', &changed, err);
    else
        return 2;
    return admin_done(rc, changed, target);
}

/* 值班表: duty list [UNIT], duty add|remove UNIT DATE PERSON. */
static int admin_duty(PGconn *db, const countyd_admin_by *by, const char *const *pos, int npos,
                      sj_error *err)
{
    const char *verb = npos > 1 ? pos[1] : "", *target = npos > 2 ? pos[2] : "";
    if (strcmp(verb, "list") == 0 && npos <= 3) {
        size_t n;
        if (countyd_admin_duty_print(db, target, stdout, &n, err) != 0)
            return 1;
        printf("%zu 条值班安排 (duty rows)\n", n);
        return 0;
    }
    if (npos == 5 && (strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0)) {
        bool changed = false;
        int rc = countyd_admin_duty_set(db, by, pos[2], pos[3], pos[4], verb[0] == 'a', &changed,
                                        err);
        return admin_done(rc, changed, pos[2]);
    }
    return 2;
}

static int admin_command(PGconn *db, const char *const *pos, int npos, const admin_opts *o,
                         sj_error *err)
{
    const char *cmd = pos[0], *verb = npos > 1 ? pos[1] : "", *target = npos > 2 ? pos[2] : "";
    const countyd_admin_by by_cli = {o->by, NULL}, *by = &by_cli;
    if (strcmp(cmd, "audit") == 0 && npos <= 2)
        return countyd_admin_audit_print(db, npos == 2 ? pos[1] : NULL, stdout, err) ? 1 : 0;
    if (strcmp(cmd, "duty") == 0)
        return admin_duty(db, by, pos, npos, err);
    if (npos != 3)
        return 2;
    if (strcmp(cmd, "person") == 0)
        return admin_person(db, by, verb, target, o, err);
    if (strcmp(cmd, "item") == 0)
        return admin_item(db, by, verb, target, o, err);
    if (strcmp(cmd, "department") == 0)
        return admin_department(db, by, verb, target, o, err);
    return 2;
}

/* The command line once read: the words in order, and every option. */
typedef struct countyd_args {
    const char *config_path, *conninfo;
    /* Options may stand before or after the command ("--config F run" and
     * "run --config F" are the same), as operators type them both ways. */
    const char *pos[5];
    int npos;
    admin_opts aopts;
    const char *from_day, *to_day, *out_path; /* haocha-export */
} countyd_args;

/* The value of option argv[*i] when it is one of those that take one. */
static bool option_value(countyd_args *a, int argc, char **argv, int *i)
{
    static const struct {
        const char *name;
        size_t offset;
    } takes[] = {
        {"--config", offsetof(countyd_args, config_path)},
        {"--database", offsetof(countyd_args, conninfo)},
        {"--by", offsetof(countyd_args, aopts.by)},
        {"--name", offsetof(countyd_args, aopts.person.name)},
        {"--role", offsetof(countyd_args, aopts.person.role)},
        {"--unit", offsetof(countyd_args, aopts.person.unit)},
        {"--department", offsetof(countyd_args, aopts.person.department)},
        {"--stand-in", offsetof(countyd_args, aopts.person.stand_in)},
        {"--from", offsetof(countyd_args, from_day)},
        {"--to", offsetof(countyd_args, to_day)},
        {"--out", offsetof(countyd_args, out_path)},
    };
    if (*i + 1 >= argc)
        return false;
    for (size_t k = 0; k < sizeof(takes) / sizeof(takes[0]); k++) {
        if (strcmp(argv[*i], takes[k].name) == 0) {
            *(const char **)((char *)a + takes[k].offset) = argv[++*i];
            return true;
        }
    }
    return false;
}

/* Reads argv into a.  Returns -1 to go on, else the exit status (the
 * options that answer at once, and usage errors). */
static int parse_args(countyd_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            if (a->npos == (int)(sizeof(a->pos) / sizeof(a->pos[0]))) {
                usage(stderr);
                return 2;
            }
            a->pos[a->npos++] = argv[i];
        } else if (option_value(a, argc, argv, &i)) {
            continue;
        } else if (strcmp(argv[i], "--password-stdin") == 0) {
            a->aopts.password_stdin = true;
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
    if (a->npos == 0) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Each command: 0 done, 1 failed (err says why), 2 usage.  *db is the
 * connection the command opened, closed by main(). */
typedef int (*countyd_command_fn)(const countyd_args *a, countyd_config *cfg, PGconn **db,
                                  sj_error *err);

/* The database at the current schema, for the commands that use it. */
static int open_db(const countyd_args *a, PGconn **db, sj_error *err)
{
    if (countyd_db_connect(a->conninfo, db, err) != 0 || countyd_migrate_check(*db, err) != 0)
        return 1;
    return 0;
}

static int cmd_migrate(const countyd_args *a, countyd_config *cfg, PGconn **db, sj_error *err)
{
    (void)cfg;
    int from, to;
    if (countyd_db_connect(a->conninfo, db, err) != 0 || countyd_migrate(*db, &from, &to, err) != 0)
        return 1;
    printf("数据库结构版本 %d -> %d (schema version %d -> %d)\n", from, to, from, to);
    return 0;
}

static int cmd_import(const countyd_args *a, countyd_config *cfg, PGconn **db, sj_error *err)
{
    (void)cfg;
    countyd_import_kind kind;
    if (countyd_import_kind_parse(a->pos[1], &kind) != 0)
        return 2;
    size_t changed;
    if (open_db(a, db, err) != 0 ||
        countyd_import_file(*db, kind, a->pos[2], stderr, &changed, err) != 0)
        return 1;
    printf("%s: 导入完成，%zu 行有变化 (imported; %zu rows changed)\n", a->pos[2], changed, changed);
    /* A year's holiday arrangement: say what the calendar now covers; the
     * county server recomputes the open cases' due times on it. */
    if (kind == COUNTYD_IMPORT_HOLIDAYS && countyd_import_calendar_report(*db, stdout, err) != 0)
        return 1;
    return 0;
}

static int cmd_demo_load(const countyd_args *a, countyd_config *cfg, PGconn **db, sj_error *err)
{
    (void)cfg;
    if (open_db(a, db, err) != 0 || countyd_import_demo(*db, a->pos[1], stdout, err) != 0)
        return 1;
    return 0;
}

static int cmd_admin(const countyd_args *a, countyd_config *cfg, PGconn **db, sj_error *err)
{
    (void)cfg;
    if (open_db(a, db, err) != 0)
        return 1;
    return admin_command(*db, a->pos, a->npos, &a->aopts, err);
}

static int cmd_haocha_export(const countyd_args *a, countyd_config *cfg, PGconn **db,
                             sj_error *err)
{
    (void)cfg;
    if (!a->from_day || !a->to_day || !a->out_path)
        return 2;
    int64_t from_ms, to_ms;
    size_t rows;
    if (countyd_haocha_days(a->from_day, a->to_day, &from_ms, &to_ms, err) != 0 ||
        open_db(a, db, err) != 0 ||
        countyd_haocha_export_file(*db, from_ms, to_ms, a->out_path, &rows, err) != 0)
        return 1;
    printf("%s: 已导出 %zu 条评价 (%zu evaluations exported)\n", a->out_path, rows, rows);
    return 0;
}

static int cmd_stars(const countyd_args *a, countyd_config *cfg, PGconn **db, sj_error *err)
{
    (void)db;
    (void)err;
    if (strcmp(a->pos[1], "thresholds") != 0)
        return 2;
    /* The star thresholds are the stars.* keys (docs/STATISTICS.md
     * "Station stars"): shown as this file sets them; changed there, in
     * effect once the county server is restarted. */
    countyd_stars_print_thresholds(stdout, &cfg->stars, &cfg->duty);
    return 0;
}

static int cmd_links(const countyd_args *a, countyd_config *cfg, PGconn **db, sj_error *err)
{
    (void)db;
    if (!a->config_path)
        return 2;
    char name[SJ_LINKCTL_NAME_MAX];
    countyd_config_links_socket(cfg, name);
    /* A daemon that does not answer in this time is stuck, not slow. */
    return sj_linkctl_print(stdout, name, 30000, err) != 0 ? 1 : 0;
}

static int cmd_run(const countyd_args *a, countyd_config *cfg, PGconn **db, sj_error *err)
{
    if (!a->config_path)
        return 2;
    if (connect_waiting(a->conninfo, cfg->retry_max_ms, db, err) != 0 ||
        countyd_migrate_check(*db, err) != 0)
        return 1;
    /* The workers open their own connections; this one only checked the
     * schema before anything is served. */
    PQfinish(*db);
    *db = NULL;
    cfg->database = a->conninfo;
    sj_log_level level;
    if (sj_log_level_parse(cfg->log_level, &level) != 0) {
        sj_error_set(err, SJ_ECONFIG_BAD_VALUE, "log.level “%s” 无效 (debug, info, warn or error)",
                     cfg->log_level);
        return 1;
    }
    sj_log_set_level(level);
    if (*cfg->log_file && sj_log_set_file(cfg->log_file, err) != 0)
        return 1;
    if (countyd_daemon_run(cfg, err) != 0)
        return 1;
    sj_log_close();
    return 0;
}

/* The commands: name, how many words (0: any), function. */
static const struct {
    const char *name;
    int npos;
    countyd_command_fn fn;
} COMMANDS[] = {
    {"migrate", 1, cmd_migrate},
    {"import", 3, cmd_import},
    {"demo-load", 2, cmd_demo_load},
    {"person", 0, cmd_admin},
    {"item", 0, cmd_admin},
    {"department", 0, cmd_admin},
    {"audit", 0, cmd_admin},
    {"duty", 0, cmd_admin},
    {"haocha-export", 1, cmd_haocha_export},
    {"stars", 2, cmd_stars},
    {"links", 1, cmd_links},
    {"run", 1, cmd_run},
};

int main(int argc, char **argv)
{
    sj_i18n_init(NULL);
    countyd_args a;
    int status = parse_args(&a, argc, argv);
    if (status >= 0)
        return status;
    countyd_command_fn fn = NULL;
    for (size_t k = 0; k < sizeof(COMMANDS) / sizeof(COMMANDS[0]); k++)
        if (strcmp(a.pos[0], COMMANDS[k].name) == 0 &&
            (COMMANDS[k].npos == 0 || COMMANDS[k].npos == a.npos))
            fn = COMMANDS[k].fn;
    if (!fn) {
        usage(stderr);
        return 2;
    }

    sj_error err;
    sj_error_clear(&err);
    countyd_config cfg;
    if (countyd_config_load(a.config_path, &cfg, &err) != 0)
        return fail(&err);
    if (!a.conninfo)
        a.conninfo = cfg.database;

    PGconn *db = NULL;
    status = fn(&a, &cfg, &db, &err);
    if (status == 2)
        usage(stderr);
    else if (status == 1)
        status = fail(&err);
    if (db)
        PQfinish(db);
    countyd_config_free(&cfg);
    return status;
}
