/*
 * cli_run.h - a command's run: its client, loop and link (cli_run.c).
 */
#ifndef CLI_RUN_H
#define CLI_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "client_config.h"
#include "cli_opts.h"
#include "sanji_client.h"

/* The file's keys and their loading are the library's (client_config.h),
 * shared with the desktop program. */
typedef sc_loaded_config cli_setup;

/* A command's run: its client on its own loop, what the command waits for,
 * and what the events brought (cli_run.c fills it; commands read it). */
struct cli_run {
    uv_loop_t loop;
    uv_timer_t timer;
    uv_signal_t sigint;
    bool timer_on, sig_on;
    bool started;           /* the client was started (cli_run_link() may run again) */
    /* a case a county desk does not hold, asked of the county first */
    const char *fetch_ref;
    bool fetching;
    /* The link runs for a question (await_answer()): events are not the
     * command's to act on, also after the answer came in the same turn. */
    bool awaiting;
    int fetch_status;
    /* or a question for the peer, asked once the link is up (cli_ask_peer()) */
    const Sanji__Query *ask;
    Sanji__QueryResult *answer;
    /* or an attachment, fetched once the link is up (cli_attachment_fetch()) */
    const uint8_t *att_case, *att_id;
    uint8_t *att_data;
    size_t att_len;
    char att_reason[SJ_ERROR_MESSAGE_MAX];
    sc_client *c;
    cli_run_mode mode;
    const cli_opts *o;
    cli_setup *s;
    bool done;
    /* action */
    uint8_t msg_id[16];
    sc_out_state reached;
    int refused_code;
    char reason[1024];
    char number[64];
    uint64_t version;
    bool link_down_told;
    /* login */
    const char *person;
    const char *password;
    bool login_started;
    bool passwd_done;
    int login_status;
    sj_error login_err;
    /* status and sync: the link state when the run finished; stopping the
     * client takes the link down, so reading it afterwards would always say
     * "not connected, not caught up". */
    bool have_final;
    sc_status_info final;
};

/* The password check (or a password change) is done: the command goes on
 * (cli_cmd_login(), cli_cmd_passwd()); run_close() finishes the run. */
void cli_login_done(sc_client *c, int status, const sj_error *err, void *data);

/* Checks r->person's r->password (once); the run finishes if it cannot start. */
void cli_start_login(cli_run *r);

/* Connects (the first time) and runs the loop for at most wait_s seconds
 * (forever when < 0), or until a step stops the loop to go on (uv_stop: a
 * county desk fetching a case before it acts on it). */
void cli_run_link(cli_run *r, double wait_s);

/* Asks the peer q once the link is up and waits for the answer (--wait,
 * at least 10 s).  Returns 0 with *out (free with
 * sanji__query_result__free_unpacked()), or fails with why. */
int cli_ask_peer(cli_run *r, const Sanji__Query *q, Sanji__QueryResult **out, sj_error *err);

/* The case ref names, from the store; at a county desk from the county
 * first (fetch_at_peer()): such a desk follows no feed, so a copy it holds
 * may be old, and a pre-check against it would refuse what the county
 * allows.  Offline, a copy held is used (the county judges the action when
 * it arrives).  Returns CLI_EX_OK, or the exit code with err set. */
int cli_find_case(cli_run *r, const char *ref, uint8_t cid[16], sj_error *err);

/* Runs cmd: its client is set up here, the command does its own part, and
 * the client is closed whatever happened. */
int cli_run_command(const cli_command *cmd, const cli_opts *o, cli_setup *s);

/* --wait when given, else the command's default. */
double cli_wait_seconds(const cli_opts *o, double fallback);

/* Fetches an attachment from the county (sc_attachment_fetch(), once the
 * link is up) and returns the file (*data malloc'd). */
int cli_attachment_fetch(cli_run *r, const uint8_t cid[16], const uint8_t aid[16], uint8_t **data,
                         size_t *len, sj_error *err);

#endif
