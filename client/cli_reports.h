/*
 * cli_reports.h - the commands reporting on a scope (cli_reports.c).
 */
#ifndef CLI_REPORTS_H
#define CLI_REPORTS_H

#include "cli_run.h"

/* `sanji network`: the desk's scope as the county (or, for a township
 * desk, its relay) sees it, the warnings of client/netview.h first (with
 * --json, as "warnings" with their kind, for a script's alarm). */
int cli_cmd_network(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji stats`: a period's statistics of the scope, as a table, CSV, .xlsx or
 * --json (docs/STATISTICS.md). */
int cli_cmd_stats(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji bulletin`: the monthly or quarterly 通报 as a PDF or .xlsx (-o FILE). */
int cli_cmd_bulletin(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji ledger`: this station's 台账 of a month as a PDF or .xlsx (-o FILE). */
int cli_cmd_ledger(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji stars --year Y [--quarter Q] [--unit U]`: the county's star
 * rating of the stations in this desk's or station's scope
 * (docs/STATISTICS.md "Station stars"), as a table or --json. */
int cli_cmd_stars(cli_run *r, const cli_command *cmd, sj_error *err);

#endif
