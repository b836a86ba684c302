/*
 * cli_opts.h - `sanji`'s options and the shape of its command table (cli_opts.c).
 */
#ifndef CLI_OPTS_H
#define CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sanji_client.h"

/* The most times a repeatable option (--material, --status, --attach) is taken. */
#define CLI_MAX_REPEAT 50

/* A command line as parsed: each option as given (NULL or false: not given). */
typedef struct cli_opts {
    const char *config;
    bool json;
    bool help;
    const char *item, *name, *id, *phone, *text, *appointment, *result, *note, *department,
        *satisfaction, *password_file, *days, *output, *person, *carrier;
    const char *period, *at, *from, *to, *by, *unit, *format; /* stats */
    const char *month, *quarter;                              /* bulletin, ledger, stars */
    const char *year;                                         /* stars */
    bool urgent, no_notify, wait_applied, mine, overdue, waiting, offline, password_stdin;
    const char *dir;               /* setup */
    bool force, passphrase_stdin;  /* setup */
    const char *materials[CLI_MAX_REPEAT];
    size_t n_materials;
    const char *statuses[CLI_MAX_REPEAT];
    size_t n_statuses;
    const char *attach[CLI_MAX_REPEAT]; /* --attach FILE[:MATERIAL] */
    size_t n_attach;
    double wait;
    bool wait_set;
    const char *args[4];
    size_t n_args;
} cli_opts;

/* How a command uses its run: the events it waits for (cli_run.c, on_event()). */
typedef enum cli_run_mode { CLI_M_ACTION, CLI_M_SYNC, CLI_M_LOGIN, CLI_M_WATCH, CLI_M_STATUS } cli_run_mode;

typedef struct cli_run cli_run;

typedef struct cli_command cli_command;

/* A command's own part: cli_run_command() has set up r (a client on its own
 * loop) before and closes it after; returns the exit code, having reported
 * any failure (err is scratch space for that). */
typedef int (*cli_command_fn)(cli_run *r, const cli_command *cmd, sj_error *err);

/* A line of the command table (sanji.c): a command, how it runs, and what it takes. */
struct cli_command {
    const char *name;
    cli_command_fn fn;
    cli_run_mode mode;
    sj_case_action action; /* cli_cmd_action(): what it does */
    const char *options;  /* comma-separated option names it accepts */
    const char *required; /* options that must be given */
    const char *args;     /* positional argument names, e.g. "CASE" */
    int min_args, max_args;
    const char *summary;  /* msgid */
};

/* Reports a usage error (with --json as JSON on stdout, else on stderr with
 * where to read more: cmd's --help, or sanji --help for none) and returns
 * CLI_EX_USAGE. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether name is one of the comma-separated names of list. */
bool cli_in_list(const char *list, const char *name);

/* The usage of sanji itself: the n commands of cmds with their summaries. */
void cli_usage_main(FILE *f, const cli_command *cmds, size_t n);

/* The usage of one command: its arguments, summary and options. */
void cli_usage_cmd(const cli_command *cmd, FILE *f);

/* Parses "--opt value", "--opt=value" and flags after the command. */
int cli_parse_opts(const cli_command *cmd, int argc, char **argv, cli_opts *o);

/* Whether --json is on the command line, read as the parsers below read it:
 * the value of an option that takes one (--note --json) is not the flag. */
bool cli_wants_json(int argc, char **argv);

#endif
