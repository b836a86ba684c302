/*
 * cli_cases.h - the commands about cases (cli_cases.c).
 */
#ifndef CLI_CASES_H
#define CLI_CASES_H

#include "cli_run.h"

/* Every lifecycle action (register, resolve-now, escalate ...; cmd->action):
 * checked here, saved to the outbox, then sent for --wait seconds. */
int cli_cmd_action(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji list` and `sanji mine` (我的事项): cases of the local copy, filtered. */
int cli_cmd_list(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji show CASE`: one case with its full history, this station's actions
 * on it, its attachments, and what may be done now. */
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

/* `sanji catalogue [KEYWORD]`: the service catalogue, searched by keyword. */
int cli_cmd_catalogue(cli_run *r, const cli_command *cmd, sj_error *err);

#endif
