/*
 * cli_station.c - the commands about this station and its people: status
 * and sync, watch, login, logout, passwd, whoami, the persons and the duty
 * roster, the villager's printed papers, and setting the station up.
 */
#include "cli_station.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "i18n.h"
#include "paper.h"
#include "setup.h"
#include "uuid.h"

#include "cli_out.h"
#include "cli_opts.h"
#include "cli_run.h"

int cli_cmd_print(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    sc_paper_kind kind;
    if (strcmp(o->args[0], "receipt") == 0 || strcmp(o->args[0], "回执") == 0)
        kind = SC_PAPER_RECEIPT;
    else if (strcmp(o->args[0], "notice") == 0 || strcmp(o->args[0], "告知单") == 0)
        kind = SC_PAPER_NOTICE;
    else
        return cli_usage_error(cmd, _("which paper: receipt (受理回执) or notice (一次性告知单), not \"%s\"."),
                               o->args[0]);
    sc_use_person(r->c, NULL);
    uint8_t id[16];
    int rc = cli_find_case(r, o->args[1], id, err);
    if (rc != CLI_EX_OK)
        return cli_fail(err, rc);
    sc_case_detail d;
    if (sc_get_case(r->c, id, &d, err) != 0)
        return cli_fail(err, CLI_EX_INPUT);
    sc_paper_input in;
    sc_paper_input_fill(r->c, &d, r->s->station_phone, &in);
    sc_paper *paper = malloc(sizeof *paper);
    if (!paper) {
        sc_case_detail_free(&d);
        sj_error_set(err, SJ_ENOMEM, NULL);
        return cli_fail(err, CLI_EX_SETUP);
    }
    rc = sc_paper_make(&in, kind, paper, err);
    char path[1024];
    if (o->output) {
        snprintf(path, sizeof path, "%s", o->output);
    } else {
        /* The number names the file; a case not recorded yet, its id. */
        char ref[SJ_UUID_TEXT_SIZE];
        if (in.number || (d.c->number && *d.c->number))
            snprintf(ref, sizeof ref, "%s", d.c->number && *d.c->number ? d.c->number : in.number);
        else
            sj_uuid_format(id, ref);
        snprintf(path, sizeof path, "%s-%s.pdf", ref, kind == SC_PAPER_RECEIPT ? "receipt" : "notice");
    }
    if (rc == 0)
        rc = sc_paper_write_pdf(paper, path, err);
    int exit_code = CLI_EX_OK;
    if (rc != 0) {
        exit_code = cli_fail(err, rc == SJ_EIO ? CLI_EX_SETUP : CLI_EX_INPUT);
    } else if (o->json) {
        printf("{\"paper\":\"%s\"", kind == SC_PAPER_RECEIPT ? "receipt" : "notice");
        cli_json_field("file", path);
        printf("}\n");
    } else {
        printf(_("Written: %s (print it with your PDF viewer, or: lp %s)\n"), path, path);
    }
    free(paper);
    sc_case_detail_free(&d);
    return exit_code;
}

static const cli_column PERSON_COLUMNS[] = {
    {N_("Person id"), 20}, {N_("Name"), 12}, {N_("Stand-in (B岗)"), 20},
};

#define N_PERSON_COLUMNS (sizeof(PERSON_COLUMNS) / sizeof(PERSON_COLUMNS[0]))

int cli_cmd_persons(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    (void)cmd;
    sc_person_entry *v = NULL;
    size_t n = 0;
    if (sc_persons(r->c, &v, &n, err) != 0)
        return cli_fail(err, CLI_EX_SETUP);
    if (o->json) {
        printf("[");
        for (size_t i = 0; i < n; i++) {
            printf("%s{\"id\":", i ? ",\n" : "");
            cli_json_str(stdout, v[i].id);
            cli_json_field("name", v[i].name);
            cli_json_field("stand_in", v[i].stand_in);
            printf("}");
        }
        printf("]\n");
    } else if (n == 0) {
        printf("%s\n", _("No person list has been received yet; connect once (sanji sync)."));
    } else {
        cli_print_header(PERSON_COLUMNS, N_PERSON_COLUMNS);
        for (size_t i = 0; i < n; i++) {
            const char *cells[N_PERSON_COLUMNS] = {v[i].id, v[i].name, v[i].stand_in};
            cli_print_cells(PERSON_COLUMNS, N_PERSON_COLUMNS, cells);
            fputc('\n', stdout);
        }
    }
    free(v);
    return CLI_EX_OK;
}

static const cli_column DUTY_COLUMNS[] = {
    {N_("Day"), 12}, {N_("Unit"), 14}, {N_("On duty"), 12}, {N_("Person id"), 20},
};

#define N_DUTY_COLUMNS (sizeof(DUTY_COLUMNS) / sizeof(DUTY_COLUMNS[0]))

int cli_cmd_duty(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    (void)cmd;
    (void)err;
    const Sanji__DutySync *d = sc_duty(r->c);
    char today[SJ_CLOCK_DATE_SIZE];
    sj_clock_format_date(sj_clock_china_day(sj_clock_real_ms()), today);
    size_t shown = 0;
    if (o->json)
        printf("[");
    else if (d && d->n_entries)
        cli_print_header(DUTY_COLUMNS, N_DUTY_COLUMNS);
    for (size_t i = 0; d && i < d->n_entries; i++) {
        const Sanji__DutyEntry *e = d->entries[i];
        if (strcmp(e->day, today) < 0)
            continue; /* yesterday's, kept for the day's turn */
        if (o->json) {
            printf("%s{\"day\":", shown ? ",\n" : "");
            cli_json_str(stdout, e->day);
            cli_json_field("org_unit", e->org_unit);
            cli_json_field("person", e->person);
            cli_json_field("person_name", e->person_name);
            printf(",\"today\":%s}", strcmp(e->day, today) == 0 ? "true" : "false");
        } else {
            const char *unit = sc_unit_name(r->c, e->org_unit);
            char day[48];
            snprintf(day, sizeof(day), "%s%s", e->day, strcmp(e->day, today) == 0 ? "*" : "");
            const char *cells[N_DUTY_COLUMNS] = {day, unit ? unit : e->org_unit, e->person_name,
                                                 e->person};
            cli_print_cells(DUTY_COLUMNS, N_DUTY_COLUMNS, cells);
            fputc('\n', stdout);
        }
        shown++;
    }
    if (o->json)
        printf("]\n");
    else if (shown == 0)
        printf("%s\n", _("No duty roster from today on has been received; the county keeps it "
                          "(sanji-countyd duty), connect once (sanji sync)."));
    else
        printf("%s\n", _("* today"));
    return CLI_EX_OK;
}

/* Each hop of the way to the county on a line of its own: this node's link
 * (to the township relay, or to the county for a county desk) and, behind
 * a relay, the relay's link to the county as the relay last said (it tells
 * its stations of a change at once). */
static void print_hops(sj_node_role role, const sc_status_info *st)
{
    char msg[SJ_ERROR_MESSAGE_MAX + 128], t[32];
    bool via_relay = role != SJ_NODE_ROLE_COUNTY_DESK && role != SJ_NODE_ROLE_DEPARTMENT_DESK;
    const char *first = via_relay ? _("Township link") : _("County link");
    if (st->link_up) {
        /* Translators: a link is up; %s is the node at its other end. */
        snprintf(msg, sizeof(msg), _("connected (%s)"), st->peer_node);
    } else {
        snprintf(msg, sizeof(msg), "%s%s", _("not connected: "),
                 *st->last_error_text ? st->last_error_text : _("no answer yet"));
    }
    cli_kv(first, msg);
    if (!via_relay)
        return;
    if (!st->link_up) {
        cli_kv(_("County link"), _("unknown while the township is not reachable"));
    } else if (st->upstream_online) {
        cli_kv(_("County link"), _("up"));
    } else {
        cli_fmt_time(st->upstream_last_contact_ms, t, sizeof(t));
        /* Translators: the relay's link to the county is down; %s is the
         * time of its last contact with the county. */
        snprintf(msg, sizeof(msg), _("down (last contact %s); the township keeps the work"), t);
        cli_kv(_("County link"), msg);
    }
}

int cli_cmd_status(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    bool sync = r->mode == CLI_M_SYNC;
    (void)cmd;
    if (sync || !o->offline)
        cli_run_link(r, cli_wait_seconds(o, sync ? 10 : 3));
    sc_status_info st;
    if (sc_status(r->c, &st, err) != 0)
        return cli_fail(err, CLI_EX_SETUP);
    if (r->have_final) {
        /* The link as it was when the run ended; the outbox counts are now's. */
        sc_outbox_counts now = st.outbox;
        st = r->final;
        st.outbox = now;
    }
    sc_outbox_entry *e = NULL;
    size_t n = 0;
    sc_outbox(r->c, &e, &n, err);
    const Sanji__Person *p = (sc_use_person(r->c, NULL) == 0) ? sc_person(r->c) : NULL;
    if (o->json) {
        printf("{\"node\":\"%s\"", sc_client_node(r->c)->node_id);
        cli_json_field("person", p ? p->id : "");
        printf(",\"link_up\":%s,\"caught_up\":%s,\"county_online\":%s,\"peer\":\"%s\"",
               st.link_up ? "true" : "false", st.caught_up ? "true" : "false",
               st.upstream_online ? "true" : "false", st.peer_node);
        printf(",\"county_last_contact_ms\":%" PRId64, st.upstream_last_contact_ms);
        printf(",\"feed_deltas\":%" PRIu64, st.feed_deltas);
        cli_json_field("last_error", st.last_error_text);
        printf(",\"lasting_refusal\":\"%s\"",
               st.lasting_refusal ? sj_err_name(st.lasting_refusal) : "");
        printf(",\"outbox\":{\"saved\":%u,\"stored\":%u,\"applied\":%u,\"refused\":%u},"
               "\"catalogue_version\":%" PRIu64 ",\"person_version\":%" PRIu64 ",\"cursors\":{",
               st.outbox.saved, st.outbox.stored, st.outbox.applied, st.outbox.refused,
               st.catalogue_version, st.person_version);
        for (size_t i = 0; i < st.n_cursors && i < 16; i++)
            printf("%s\"%s\":%" PRIu64, i ? "," : "", st.cursors[i].village, st.cursors[i].after_seq);
        printf("}}\n");
    } else {
        char t[32];
        cli_kv(_("This node"), sc_client_node(r->c)->node_id);
        cli_kv(_("Logged in"), p ? p->name : _("(nobody)"));
        if (o->offline && !sync)
            cli_kv(_("Link"), _("not checked (--offline)"));
        else
            print_hops(sc_client_node(r->c)->role, &st);
        /* Known from the store, so offline too: retrying will not help. */
        if (st.lasting_refusal)
            cli_kv(_("Refused for good"), sc_lasting_advice(st.lasting_refusal));
        char cnt[128];
        snprintf(cnt, sizeof(cnt), _("%u saved, %u reached the township, not yet recorded"),
                 st.outbox.saved, st.outbox.stored);
        cli_kv(_("Outbox"), cnt);
        if (st.outbox.oldest_unfinished_ms) {
            cli_fmt_time(st.outbox.oldest_unfinished_ms, t, sizeof(t));
            cli_kv(_("Oldest unsent"), t);
        }
        for (size_t i = 0; i < st.n_cursors && i < 16; i++) {
            char cur[64];
            snprintf(cur, sizeof(cur), "%s #%" PRIu64, st.cursors[i].village, st.cursors[i].after_seq);
            cli_kv(i == 0 ? _("Feed position") : " ", cur);
        }
        size_t shown = 0;
        for (size_t i = n; i-- > 0 && shown < 20;) {
            if (shown++ == 0)
                printf("\n%s\n", _("Recent actions of this station:"));
            cli_print_outbox_row(&e[i], true);
        }
    }
    sc_store_outbox_free(e, n);
    if (sync && (!st.caught_up || st.outbox.saved > 0))
        return CLI_EX_PENDING;
    return CLI_EX_OK;
}

int cli_cmd_watch(cli_run *r, const cli_command *cmd, sj_error *err)
{
    (void)cmd;
    (void)err;
    if (!r->o->json)
        printf("%s\n", _("Watching for updates; press Ctrl-C to stop."));
    fflush(stdout);
    cli_run_link(r, -1);
    return CLI_EX_OK;
}

static int read_password(const cli_opts *o, char *buf, size_t cap)
{
    const char *env = getenv("SANJI_PASSWORD");
    if (!o->password_stdin && env && *env) {
        snprintf(buf, cap, "%s", env);
        return 0;
    }
    if (o->password_stdin || !isatty(STDIN_FILENO)) {
        if (!fgets(buf, (int)cap, stdin))
            return -1;
        buf[strcspn(buf, "\r\n")] = '\0';
        return 0;
    }
    char *p = getpass(_("Password: "));
    if (!p)
        return -1;
    snprintf(buf, cap, "%s", p);
    explicit_bzero(p, strlen(p));
    return 0;
}

/* {["node":NODE,]"person":ID,"name":NAME} and a new line. */
static void json_person(const char *node, const Sanji__Person *p)
{
    printf("{");
    if (node)
        printf("\"node\":\"%s\",", node);
    printf("\"person\":");
    cli_json_str(stdout, p ? p->id : "");
    cli_json_field("name", p ? p->name : "");
    printf("}\n");
}

int cli_cmd_logout(cli_run *r, const cli_command *cmd, sj_error *err)
{
    (void)cmd;
    if (sc_logout(r->c, err) != 0)
        return cli_fail(err, CLI_EX_SETUP);
    if (!r->o->json)
        printf("%s\n", _("Logged out."));
    return CLI_EX_OK;
}

int cli_cmd_whoami(cli_run *r, const cli_command *cmd, sj_error *err)
{
    (void)cmd;
    sj_error_clear(err);
    const Sanji__Person *p = sc_use_person(r->c, err) == 0 ? sc_person(r->c) : NULL;
    if (!p && err->code == 0)
        cli_nobody_logged_in(err);
    if (!p)
        return cli_fail(err, CLI_EX_INPUT);
    if (r->o->json)
        json_person(sc_client_node(r->c)->node_id, p);
    else
        printf("%s %s (%s)\n", _("Logged in:"), p->name, p->id);
    return CLI_EX_OK;
}

/* The new password, twice: SANJI_NEW_PASSWORD (both), the next two lines
 * of standard input (--password-stdin, or not a terminal), or prompts. */
static int read_new_password(const cli_opts *o, char *a, char *b, size_t cap, sj_error *err)
{
    const char *env = getenv("SANJI_NEW_PASSWORD");
    if (!o->password_stdin && env && *env) {
        snprintf(a, cap, "%s", env);
        snprintf(b, cap, "%s", env);
    } else if (o->password_stdin || !isatty(STDIN_FILENO)) {
        if (!fgets(a, (int)cap, stdin) || !fgets(b, (int)cap, stdin))
            return sj_error_set(err, SJ_EMISSING_FIELD, "%s",
                                _("Give the new password twice (two more lines)."));
        a[strcspn(a, "\r\n")] = '\0';
        b[strcspn(b, "\r\n")] = '\0';
    } else {
        char *p = getpass(_("New password: "));
        snprintf(a, cap, "%s", p ? p : "");
        if (p)
            explicit_bzero(p, strlen(p));
        p = getpass(_("New password again: "));
        snprintf(b, cap, "%s", p ? p : "");
        if (p)
            explicit_bzero(p, strlen(p));
    }
    if (strcmp(a, b) != 0)
        return sj_error_set(err, SJ_EINVAL, "%s", _("The two new passwords differ."));
    return 0;
}

/* Changes the logged-in person's password from old_pw (sc_change_password())
 * and sends it if the link comes up within --wait (5 s); the new password
 * counts here at once.  Returns the exit status. */
static int change_password(cli_run *r, const char *old_pw, sj_error *err)
{
    const cli_opts *o = r->o;
    char a[1024], b[1024];
    int rc = read_new_password(o, a, b, sizeof a, err);
    if (rc == 0) {
        r->passwd_done = false;
        rc = sc_change_password(r->c, old_pw, a, cli_login_done, r, err);
    }
    explicit_bzero(a, sizeof a);
    explicit_bzero(b, sizeof b);
    if (rc != 0)
        return cli_fail(err, CLI_EX_INPUT);
    while (!r->passwd_done)
        uv_run(&r->loop, UV_RUN_DEFAULT);
    if (r->login_status != 0)
        return cli_fail(&r->login_err, CLI_EX_INPUT);
    if (!o->json)
        printf("%s\n", _("Password changed; the new one counts at this station now."));
    /* Sent like an action: with the outbox when the link comes up. */
    r->mode = CLI_M_SYNC;
    double wait = cli_wait_seconds(o, 5);
    sc_status_info st;
    if (wait > 0)
        cli_run_link(r, wait);
    if (!o->json && sc_status(r->c, &st, err) == 0 && st.outbox.saved > 0)
        printf("%s\n", _("Not yet sent: it stays in the outbox and goes with the next run or `sanji sync`."));
    return CLI_EX_OK;
}

int cli_cmd_passwd(cli_run *r, const cli_command *cmd, sj_error *err)
{
    (void)cmd;
    const cli_opts *o = r->o;
    if (sc_use_person(r->c, err) != 0)
        return cli_fail(err, CLI_EX_INPUT);
    char pw[1024];
    if (read_password(o, pw, sizeof(pw)) != 0 || !*pw) {
        sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("No password given."));
        return cli_fail(err, CLI_EX_INPUT);
    }
    int code = change_password(r, pw, err);
    explicit_bzero(pw, sizeof(pw));
    return code;
}

int cli_cmd_login(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    const char *person = o->n_args ? o->args[0] : r->s->person_default;
    if (!person || !*person)
        return cli_usage_error(cmd, "%s", _("give the person id or name."));
    char pw[1024];
    if (read_password(o, pw, sizeof(pw)) != 0 || !*pw) {
        sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("No password given."));
        return cli_fail(err, CLI_EX_INPUT);
    }
    r->person = person;
    r->password = pw;
    r->login_status = SJ_EUNKNOWN_PERSON;
    sj_error_set(&r->login_err, SJ_EUNKNOWN_PERSON, "%s",
                 _("No list of persons has been received yet; connect to the relay once (sanji sync) and try again."));
    /* With the person list cached, log in offline at once; otherwise
     * fetch it first. */
    sc_status_info st;
    if (sc_status(r->c, &st, err) == 0 && st.person_version > 0) {
        cli_start_login(r);
        if (!r->done)
            uv_run(&r->loop, UV_RUN_DEFAULT);
    } else {
        cli_run_link(r, cli_wait_seconds(o, 10));
    }
    r->password = NULL;
    if (r->login_status != 0) {
        explicit_bzero(pw, sizeof(pw));
        return cli_fail(&r->login_err, r->login_status == SJ_EAUTH || r->login_status == SJ_EUNKNOWN_PERSON ||
                                           r->login_status == SJ_EMISSING_FIELD
                                       ? CLI_EX_INPUT
                                       : CLI_EX_SETUP);
    }
    const Sanji__Person *p = sc_person(r->c);
    /* A password the county set (a new person, a reset) is replaced before
     * anything else; until then nothing can be saved (actor_of()). */
    if (p && sc_must_change_password(r->c, p->id)) {
        if (!o->json)
            printf("%s\n", _("The county set this password: choose a new one now (at least 8 "
                             "characters, two of letters, digits and other characters)."));
        int code = change_password(r, pw, err);
        explicit_bzero(pw, sizeof(pw));
        if (code != CLI_EX_OK)
            return code;
    }
    explicit_bzero(pw, sizeof(pw));
    if (o->json)
        json_person(NULL, p);
    else
        printf("%s %s\n", _("Logged in:"), p ? p->name : "");
    /* Logging in works offline; the cadre must still learn before working
     * that nothing saved here can go out. */
    if (!o->json && sc_lasting_refusal(r->c))
        printf("%s\n", sc_lasting_advice(sc_lasting_refusal(r->c)));
    return CLI_EX_OK;
}

int cli_setup_station(const cli_opts *o)
{
    char pass[256];
    sj_error err;
    sj_error_clear(&err);
    if (o->passphrase_stdin || !isatty(STDIN_FILENO)) {
        if (!fgets(pass, (int)sizeof(pass), stdin))
            pass[0] = '\0';
    } else {
        char *p = getpass(_("Passphrase (on the slip): "));
        snprintf(pass, sizeof(pass), "%s", p ? p : "");
        if (p)
            explicit_bzero(p, strlen(p));
    }
    sc_setup_target t;
    sc_setup_result res;
    int rc = sc_setup_default_target(o->dir, o->config, &t, &err);
    if (rc == 0)
        rc = sc_setup_import(o->args[0], pass, &t, o->force, &res, &err);
    explicit_bzero(pass, sizeof(pass));
    if (rc != 0)
        return cli_fail(&err, rc == SJ_EAUTH || rc == SJ_EINVAL ? CLI_EX_INPUT : CLI_EX_SETUP);
    if (o->json) {
        printf("{\"node\":");
        cli_json_str(stdout, res.id.node_id);
        cli_json_field("unit_name", res.unit_name);
        cli_json_field("config", t.config);
        printf(",\"unchanged\":%s}\n", res.unchanged ? "true" : "false");
    } else {
        printf(res.unchanged ? _("This station was already set up as %s %s; nothing changed.\n")
                             : _("This station is now set up as %s %s.\n"),
               res.id.node_id, res.unit_name);
        printf(_("Configuration: %s\n"), t.config);
    }
    return CLI_EX_OK;
}
