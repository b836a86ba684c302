/*
 * cli_attach.h - attachments at the command line (cli_attach.c).
 */
#ifndef CLI_ATTACH_H
#define CLI_ATTACH_H

#include <stdint.h>

#include "cli_run.h"

/* 补办: a file attached with the supplement answers a material of the
 * case's 一次告知 list; any other name is refused before anything is
 * saved. */
int cli_check_supplement_materials(cli_run *r, const uint8_t cid[16], sj_error *err);

/* Attaches the files of --attach to case cid (register, supplement). */
int cli_attach_files(cli_run *r, const uint8_t cid[16], sj_error *err);

/* The attachments this station knows of a case and how far each is
 * (`sanji attachment list` asks the county too). */
void cli_show_attachments(cli_run *r, const uint8_t case_id[16]);

/* The attachments this station knows of a case, as JSON objects
 * (`sanji --json show`): id, name, MIME type, size, material, chunks
 * recorded by the county of how many, and the refusal code if any. */
void cli_json_attachments(cli_run *r, const uint8_t case_id[16]);

/* `sanji attachment` (its line in sanji.c's command table). */
int cli_cmd_attachment(cli_run *r, const cli_command *cmd, sj_error *err);

#endif
