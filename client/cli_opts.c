/*
 * cli_opts.c - the command line: the option table with each option's help,
 * parsing a command's options into cli_opts, the usage texts and the usage
 * errors (exit 2).  The command table itself is sanji.c's.
 */
#include "cli_opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "text.h"

#include "cli_out.h"

typedef struct cli_option_def {
    const char *name;
    bool has_arg;
    const char *help; /* msgid */
} cli_option_def;

static const cli_option_def CLI_OPTIONS[] = {
    {"item", true, N_("catalogue item code, e.g. MZ-003 (find it with: sanji catalogue KEYWORD)")},
    {"name", true, N_("applicant's name")},
    {"id", true, N_("applicant's 18-character resident ID number")},
    {"phone", true, N_("applicant's phone: 11-digit mobile, or landline with area code")},
    {"text", true, N_("what the villager asks for")},
    {"urgent", false, N_("green channel: shortened time limit")},
    {"no-notify", false, N_("send the villager no messages about this case (不通知)")},
    {"appointment", true, N_("agreed appointment time, e.g. 2026-11-25T09:00:00+08:00")},
    {"result", true, N_("the result of the handling")},
    {"note", true, N_("reason or remark")},
    {"department", true, N_("a county department's code, from `sanji departments` (dispatch)")},
    {"material", true, N_("one missing material; repeat for each (all at once: one-time notice)")},
    {"satisfaction", true, N_("very_satisfied | satisfied | basically | unsatisfied | very_unsatisfied (also 非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意)")},
    {"days", true, N_("working days of extension asked for, 1 to 60 (延期)")},
    {"person", true, N_("a person's id, from `sanji persons` (assign, set-carrier)")},
    {"carrier", true, N_("the cadre who carries the case throughout (全程代办员), from `sanji persons`; default: you")},
    {"wait", true, N_("seconds to try sending before leaving it in the outbox (default 5; 0: save only)")},
    {"wait-applied", false, N_("wait until the county has recorded it, not only the township")},
    {"mine", false, N_("only cases I first received")},
    {"overdue", false, N_("only overdue cases")},
    {"waiting", false, N_("only cases waiting for this station")},
    {"status", true, N_("only this status (repeatable), e.g. registered, resolved")},
    {"offline", false, N_("do not connect; show the local copy only")},
    {"password-stdin", false, N_("read the password from standard input")},
    {"dir", true, N_("folder for the station's files (default: where the client looks, docs/CLI.md)")},
    {"force", false, N_("replace a different setup already there")},
    {"passphrase-stdin", false, N_("read the slip's passphrase from standard input")},
    {"period", true, N_("day | month | quarter | year (with --at; default: the current one)")},
    {"at", true, N_("which period: 2026-11-23, 2026-11, 2026-Q4 or 2026")},
    {"from", true, N_("first day counted, e.g. 2026-11-01 (or an instant: 2026-11-01T08:00:00+08:00)")},
    {"to", true, N_("last day counted, e.g. 2026-11-30 (an instant is not counted itself)")},
    {"by", true, N_("township | village | department | category | item | handling | level")},
    {"unit", true, N_("only this township or village of your scope")},
    {"format", true, N_("stats: table | csv | xlsx (default table; xlsx needs -o FILE); bulletin, ledger: pdf | xlsx (default pdf)")},
    {"year", true, N_("the year rated, e.g. 2026")},
    {"attach", true, N_("a photo or scan (JPEG, PNG, PDF) to attach, FILE or FILE:MATERIAL (the 一次告知 material it answers); repeatable")},
    {"output", true, N_("the file to write (also -o FILE): print, the PDF (default: the case number and the paper's name, in this folder); stats, instead of standard output")},
    {"month", true, N_("which month: 2026-11 (bulletin, ledger; default: the current one)")},
    {"quarter", true, N_("which quarter: 2026Q4 or 2026-Q4 (bulletin); stars: 1 to 4 of --year (default: the whole year)")},
};

#define CLI_N_OPTIONS (sizeof(CLI_OPTIONS) / sizeof(CLI_OPTIONS[0]))

bool cli_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && strncmp(p, name, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

void cli_usage_main(FILE *f, const cli_command *cmds, size_t n)
{
    fprintf(f, "%s\n  sanji [--config FILE] [--json] COMMAND [options]\n  sanji --print-config-doc\n\n%s\n",
            _("Usage:"), _("Commands:"));
    for (size_t i = 0; i < n; i++) {
        char col[64];
        sc_text_fit(cmds[i].name, 20, col, sizeof(col));
        fprintf(f, "  %s%s\n", col, _(cmds[i].summary));
    }
    fprintf(f, "\n%s\n", _("Every command has --help. Exit codes: 0 done, 1 setup problem, 2 wrong usage, 3 input refused here, 4 refused by the township or county, 5 saved, not yet sent."));
}

void cli_usage_cmd(const cli_command *cmd, FILE *f)
{
    fprintf(f, "%s\n  sanji %s %s%s[options]\n  %s\n\n%s\n", _("Usage:"), cmd->name, cmd->args,
            *cmd->args ? " " : "", _(cmd->summary), _("Options:"));
    for (size_t i = 0; i < CLI_N_OPTIONS; i++) {
        if (!cli_in_list(cmd->options, CLI_OPTIONS[i].name))
            continue;
        char col[64], name[48];
        snprintf(name, sizeof(name), "--%s%s", CLI_OPTIONS[i].name, CLI_OPTIONS[i].has_arg ? " X" : "");
        sc_text_fit(name, 22, col, sizeof(col));
        fprintf(f, "  %s%s%s\n", col, _(CLI_OPTIONS[i].help),
                cli_in_list(cmd->required, CLI_OPTIONS[i].name) ? _(" (required)") : "");
    }
    fprintf(f, "  %-22s%s\n  %-22s%s\n  %-22s%s\n", "--json", _("machine-readable output"),
            "--config FILE", _("configuration file"), "--help", _("this help"));
    if (strcmp(cmd->args, "CASE") == 0)
        fprintf(f, "\n%s\n", _("CASE is the case number (e.g. 410423-20261123-00001) or the case id."));
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    char msg[SJ_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cli_json_mode) {
        cli_json_error(SJ_EINVAL, msg, CLI_EX_USAGE);
        return CLI_EX_USAGE;
    }
    fprintf(stderr, "sanji: %s", msg);
    if (cmd)
        fprintf(stderr, _("\nSee: sanji %s --help\n"), cmd->name);
    else
        fprintf(stderr, "\n%s\n", _("See: sanji --help"));
    return CLI_EX_USAGE;
}

/* Sets the option name of o to val (NULL for a flag), having checked what
 * cli_parse_opts() cannot (how often an option repeats, --wait's number). */
static int set_option(const cli_command *cmd, const char *name, const char *val, cli_opts *o)
{
#define STR(opt, field) else if (strcmp(name, opt) == 0) o->field = val
#define FLAG(opt, field) else if (strcmp(name, opt) == 0) o->field = true
    if (0) {
    }
    STR("item", item);
    STR("name", name);
    STR("id", id);
    STR("phone", phone);
    STR("text", text);
    STR("appointment", appointment);
    STR("result", result);
    STR("note", note);
    STR("department", department);
    STR("satisfaction", satisfaction);
    STR("days", days);
    STR("output", output);
    STR("person", person);
    STR("carrier", carrier);
    STR("period", period);
    STR("at", at);
    STR("from", from);
    STR("to", to);
    STR("by", by);
    STR("unit", unit);
    STR("format", format);
    STR("month", month);
    STR("year", year);
    STR("quarter", quarter);
    FLAG("urgent", urgent);
    FLAG("no-notify", no_notify);
    FLAG("wait-applied", wait_applied);
    FLAG("mine", mine);
    FLAG("overdue", overdue);
    FLAG("waiting", waiting);
    FLAG("offline", offline);
    FLAG("password-stdin", password_stdin);
    STR("dir", dir);
    FLAG("force", force);
    FLAG("passphrase-stdin", passphrase_stdin);
    else if (strcmp(name, "material") == 0) {
        if (o->n_materials >= CLI_MAX_REPEAT)
            return cli_usage_error(cmd, _("too many --material options (at most %d)."), CLI_MAX_REPEAT);
        o->materials[o->n_materials++] = val;
    }
    else if (strcmp(name, "attach") == 0) {
        if (o->n_attach >= CLI_MAX_REPEAT)
            return cli_usage_error(cmd, _("too many --attach options (at most %d)."), CLI_MAX_REPEAT);
        o->attach[o->n_attach++] = val;
    }
    else if (strcmp(name, "status") == 0) {
        if (o->n_statuses >= CLI_MAX_REPEAT)
            return cli_usage_error(cmd, _("too many --status options."));
        o->statuses[o->n_statuses++] = val;
    }
    else if (strcmp(name, "wait") == 0) {
        char *end = NULL;
        errno = 0;
        double w = strtod(val, &end);
        if (errno || !end || *end || w < 0 || w > 3600)
            return cli_usage_error(cmd, _("--wait needs a number of seconds from 0 to 3600, not \"%s\"."), val);
        o->wait = w;
        o->wait_set = true;
    }
#undef STR
#undef FLAG
    return 0;
}

/* Whether every option cmd requires is given. */
static int check_required(const cli_command *cmd, const cli_opts *o)
{
    for (size_t k = 0; k < CLI_N_OPTIONS; k++) {
        if (!cli_in_list(cmd->required, CLI_OPTIONS[k].name))
            continue;
        bool given = (strcmp(CLI_OPTIONS[k].name, "material") == 0) ? o->n_materials > 0 : false;
#define GIVEN(opt, field) if (strcmp(CLI_OPTIONS[k].name, opt) == 0) given = o->field && *o->field
        GIVEN("item", item);
        GIVEN("name", name);
        GIVEN("id", id);
        GIVEN("phone", phone);
        GIVEN("text", text);
        GIVEN("result", result);
        GIVEN("note", note);
        GIVEN("department", department);
        GIVEN("satisfaction", satisfaction);
        GIVEN("days", days);
        GIVEN("person", person);
        GIVEN("year", year);
#undef GIVEN
        if (!given)
            return cli_usage_error(cmd, _("missing --%s (%s)."), CLI_OPTIONS[k].name, _(CLI_OPTIONS[k].help));
    }
    return 0;
}

int cli_parse_opts(const cli_command *cmd, int argc, char **argv, cli_opts *o)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = true;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "-o") == 0 && cli_in_list(cmd->options, "output")) {
            if (i + 1 >= argc)
                return cli_usage_error(cmd, _("option --%s needs a value."), "output");
            o->output = argv[++i];
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (o->n_args >= 4 || (int)o->n_args >= cmd->max_args)
                return cli_usage_error(cmd, _("unexpected argument \"%s\"."), a);
            o->args[o->n_args++] = a;
            continue;
        }
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nl >= sizeof(name))
            nl = sizeof(name) - 1;
        memcpy(name, a + 2, nl);
        name[nl] = '\0';
        const cli_option_def *d = NULL;
        for (size_t k = 0; k < CLI_N_OPTIONS; k++)
            if (strcmp(CLI_OPTIONS[k].name, name) == 0)
                d = &CLI_OPTIONS[k];
        if (strcmp(name, "config") == 0) {
            if (!eq && i + 1 >= argc)
                return cli_usage_error(cmd, _("option --%s needs a value."), name);
            o->config = eq ? eq + 1 : argv[++i];
            continue;
        }
        if (!d || !cli_in_list(cmd->options, name))
            return cli_usage_error(cmd, _("unknown option --%s for \"sanji %s\"."), name, cmd->name);
        const char *val = NULL;
        if (d->has_arg) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return cli_usage_error(cmd, _("option --%s needs a value."), name);
        } else if (eq) {
            return cli_usage_error(cmd, _("option --%s takes no value."), name);
        }
        int rc = set_option(cmd, name, val, o);
        if (rc != 0)
            return rc;
    }
    if (o->help)
        return 0;
    if ((int)o->n_args < cmd->min_args)
        return cli_usage_error(cmd, _("missing %s."), cmd->args);
    return check_required(cmd, o);
}

bool cli_wants_json(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0)
            return true;
        if (strncmp(a, "--", 2) != 0 || strchr(a, '=') != NULL)
            continue;
        bool takes_value = strcmp(a + 2, "config") == 0;
        for (size_t k = 0; k < CLI_N_OPTIONS && !takes_value; k++)
            takes_value = CLI_OPTIONS[k].has_arg && strcmp(CLI_OPTIONS[k].name, a + 2) == 0;
        if (takes_value)
            i++;
    }
    return false;
}
