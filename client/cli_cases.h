/*
 * cli_cases.h - the commands about cases (cli_cases.c).
 */
#ifndef CLI_CASES_H
#define CLI_CASES_H

#include "cli_run.h"

/* `sanji action` (its line in sanji.c's command table). */
int cli_cmd_action(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji list` (its line in sanji.c's command table). */
int cli_cmd_list(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji show` (its line in sanji.c's command table). */
int cli_cmd_show(cli_run *r, const cli_command *cmd, sj_error *err);

/* The departments of the org tree (docs/DATA.md "Departments"): the codes
 * the county operator dispatches to. */
int cli_cmd_departments(cli_run *r, const cli_command *cmd, sj_error *err);

/* A department's queue, asked of the county (a department desk holds no
 * feed; the county answers with the cases dispatched to its department,
 * a county desk with every department's): 待接单, 办理中 (materials
 * requested included), 待审核回单, earliest due first; overdue and nearly
 * overdue (a time-limit warning issued) ones are marked. */
int cli_cmd_queue(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji catalogue` (its line in sanji.c's command table). */
int cli_cmd_catalogue(cli_run *r, const cli_command *cmd, sj_error *err);

#endif
