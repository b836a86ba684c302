/*
 * cli_station.h - the commands about this station and its people (cli_station.c).
 */
#ifndef CLI_STATION_H
#define CLI_STATION_H

#include "cli_opts.h"
#include "cli_run.h"

/* `sanji print receipt|notice CASE`: the villager's paper (client/paper.h)
 * as a one-page PDF, from the station's own copy of the case. */
int cli_cmd_print(cli_run *r, const cli_command *cmd, sj_error *err);

/* The persons who work here (active, of this station's unit and role):
 * those a case held here is assigned to (sanji assign --person), with
 * their stand-ins. */
int cli_cmd_persons(cli_run *r, const cli_command *cmd, sj_error *err);

/* The duty roster (值班表) as the county last sent it: today on, today's
 * rows marked. */
int cli_cmd_duty(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji status`, and `sanji sync` (mode CLI_M_SYNC): the same report, sync
 * connects even with --offline and exits 5 while anything is unsent. */
int cli_cmd_status(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji watch`: stays connected and prints every event until Ctrl-C. */
int cli_cmd_watch(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji logout`. */
int cli_cmd_logout(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji whoami`: who is logged in at this station. */
int cli_cmd_whoami(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji passwd`: the logged-in person's new password (offline too). */
int cli_cmd_passwd(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji login [PERSON]`: the password checked offline too; a password the
 * county set is changed at once. */
int cli_cmd_login(cli_run *r, const cli_command *cmd, sj_error *err);

/* `sanji setup BUNDLE`: opens the bundle with the slip's passphrase and
 * writes the station's files (client/setup.h); needs no configuration. */
int cli_setup_station(const cli_opts *o);

#endif
