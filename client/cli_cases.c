/*
 * cli_cases.c - the commands about cases: every lifecycle action (register,
 * resolve, escalate ... through cli_cmd_action()), list and mine, show, a
 * department's queue, and the reference data they name (the catalogue,
 * the departments).
 */
#include "cli_cases.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "i18n.h"
#include "personal.h"
#include "text.h"
#include "uuid.h"

#include "cli_attach.h"
#include "cli_out.h"
#include "cli_opts.h"
#include "cli_run.h"

static int report_action(cli_run *r, const char *ref)
{
    const cli_opts *o = r->o;
    int code;
    const char *state;
    if (r->reached == SC_OUT_REFUSED) {
        code = CLI_EX_REFUSED;
        state = "refused";
    } else if (r->reached == SC_OUT_APPLIED || (r->reached == SC_OUT_STORED && !o->wait_applied)) {
        code = CLI_EX_OK;
        state = r->reached == SC_OUT_APPLIED ? "applied" : "stored";
    } else {
        code = (o->wait_set && o->wait == 0) ? CLI_EX_OK : CLI_EX_PENDING;
        state = r->reached == SC_OUT_STORED ? "stored" : "saved";
    }
    if (o->json) {
        char mid[SJ_UUID_TEXT_SIZE];
        sj_uuid_format(r->msg_id, mid);
        printf("{\"case\":");
        cli_json_str(stdout, ref);
        printf(",\"message_id\":\"%s\",\"state\":\"%s\"", mid, state);
        if (*r->number)
            printf(",\"case_number\":\"%s\",\"case_version\":%" PRIu64, r->number, r->version);
        if (r->reached == SC_OUT_REFUSED) {
            printf(",\"code\":\"%s\"", sj_err_name(r->refused_code));
            cli_json_field("reason", r->reason);
        }
        printf(",\"exit\":%d}\n", code);
    } else if (r->reached == SC_OUT_REFUSED) {
        fprintf(stderr, "%s%s\n", _("Refused: "), r->reason);
    } else if (code == CLI_EX_PENDING && sc_lasting_refusal(r->c)) {
        /* Retrying cannot send it: say why and what to do instead. */
        printf("%s\n", sc_lasting_advice(sc_lasting_refusal(r->c)));
    } else if (code == CLI_EX_PENDING) {
        printf("%s\n", _("Not yet sent: it stays in the outbox and goes with the next run or `sanji sync`."));
    }
    return code;
}

/* register: the new case saved to the outbox; its id into ref (cap bytes).
 * Returns CLI_EX_OK, or the exit code having reported why not. */
static int save_register(cli_run *r, char *ref, size_t cap, sj_error *err)
{
    const cli_opts *o = r->o;
    int64_t appt = 0;
    if (o->appointment && sj_clock_parse_iso(o->appointment, &appt, err) != 0) {
        sj_error_set(err, SJ_EBAD_FIELD, _("The appointment time \"%s\" is not a time like 2026-11-25T09:00:00+08:00."),
                     o->appointment);
        return cli_fail(err, CLI_EX_INPUT);
    }
    sc_register_req req = {
        .item_code = o->item,
        .applicant_name = o->name,
        .id_number = o->id,
        .phone = o->phone,
        .request_text = o->text,
        .urgent = o->urgent,
        .appointment_at_ms = appt,
        .no_notify = o->no_notify,
        .carrier = o->carrier,
    };
    uint8_t cid[16];
    if (sc_register(r->c, &req, cid, r->msg_id, err) != 0)
        return cli_fail(err, CLI_EX_INPUT);
    char t[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(cid, t);
    snprintf(ref, cap, "%s", t);
    return CLI_EX_OK;
}

/* Any other action: checked against the case named (ref, cap bytes: the name
 * given) and saved to the outbox.  Returns CLI_EX_OK, or the exit code
 * having reported why not. */
static int save_action(cli_run *r, const cli_command *cmd, char *ref, size_t cap, sj_error *err)
{
    const cli_opts *o = r->o;
    uint8_t cid[16];
    int rc = cli_find_case(r, o->args[0], cid, err);
    if (rc != CLI_EX_OK)
        return cli_fail(err, rc);
    snprintf(ref, cap, "%s", o->args[0]);
    sj_satisfaction sat = SJ_SATISFACTION_NONE;
    if (cmd->action == SJ_ACTION_FEEDBACK || cmd->action == SJ_ACTION_CALLBACK) {
        sat = sc_satisfaction_parse(o->satisfaction);
        if (sat == SJ_SATISFACTION_NONE) {
            sj_error_set(err, SJ_EBAD_FIELD, _("Satisfaction must be very_satisfied, satisfied, basically, unsatisfied or very_unsatisfied (非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意), not \"%s\"."),
                         o->satisfaction);
            return cli_fail(err, CLI_EX_INPUT);
        }
    }
    uint32_t days = 0;
    if (o->days) {
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(o->days, &end, 10);
        if (errno || !end || *end || !isdigit((unsigned char)o->days[0]) || v < 1 ||
            v > SJ_CASE_EXTEND_MAX) {
            sj_error_set(err, SJ_EBAD_FIELD,
                         _("--days needs a number of working days from 1 to 60, not \"%s\"."),
                         o->days);
            return cli_fail(err, CLI_EX_INPUT);
        }
        days = (uint32_t)v;
    }
    sc_action_req req = {
        .case_id = cid,
        .type = cmd->action,
        .extend_days = days,
        .note = o->note,
        .result = o->result,
        .department = o->department,
        .materials = o->materials,
        .n_materials = o->n_materials,
        .satisfaction = sat,
        .person = o->person,
    };
    if (cmd->action == SJ_ACTION_SUPPLEMENT && o->n_attach &&
        cli_check_supplement_materials(r, cid, err) != 0)
        return cli_fail(err, CLI_EX_INPUT);
    if (sc_act(r->c, &req, r->msg_id, err) != 0)
        return cli_fail(err, CLI_EX_INPUT);
    return CLI_EX_OK;
}

int cli_cmd_action(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    char ref[128] = "";
    if (sc_use_person(r->c, err) != 0)
        return cli_fail(err, CLI_EX_INPUT);
    int rc = cmd->action == SJ_ACTION_REGISTER ? save_register(r, ref, sizeof(ref), err)
                                               : save_action(r, cmd, ref, sizeof(ref), err);
    if (rc != CLI_EX_OK)
        return rc;
    r->reached = SC_OUT_SAVED;
    if (!o->json)
        printf("%s  %s\n", _("outbox: saved"), ref);
    if (o->n_attach) {
        uint8_t cid[16];
        if (sc_find_case(r->c, ref, cid, err) != 0 || cli_attach_files(r, cid, err) != 0)
            return cli_fail(err, CLI_EX_INPUT);
    }
    double wait = cli_wait_seconds(o, 5);
    if (wait > 0)
        cli_run_link(r, wait);
    return report_action(r, ref);
}

/* The columns of `sanji list`, for its head and its rows. */
static const cli_column LIST_COLUMNS[] = {
    {N_("Case number"), 22}, {N_("Status"), 14},     {N_("Item"), 20},
    {N_("Applicant"), 8},    {N_("Registered"), 16}, {N_("Due"), 16},
};

#define N_LIST_COLUMNS (sizeof(LIST_COLUMNS) / sizeof(LIST_COLUMNS[0]))

static void print_case_row(const Sanji__Case *c)
{
    char ref[SJ_UUID_TEXT_SIZE], reg[32], due[64];
    cli_fmt_time(c->registered_at_ms, reg, sizeof(reg));
    cli_fmt_due(c->due_at_ms, c->due_provisional, due, sizeof(due));
    const char *cells[N_LIST_COLUMNS] = {
        cli_case_ref(c, ref), sc_status_label((sj_case_status)c->status), c->item_name,
        c->applicant ? c->applicant->name : "", reg, due,
    };
    cli_print_cells(LIST_COLUMNS, N_LIST_COLUMNS, cells);
    char marks[192];
    fputs(sc_case_marks(c, marks, sizeof(marks)), stdout);
    fputc('\n', stdout);
}

static void json_case(const Sanji__Case *c)
{
    char id[SJ_UUID_TEXT_SIZE] = "";
    if (c->case_id.len == 16)
        sj_uuid_format(c->case_id.data, id);
    printf("{\"case_id\":\"%s\"", id);
    cli_json_field("number", c->number);
    cli_json_field("village", c->village);
    cli_json_field("item_code", c->item_code);
    cli_json_field("item_name", c->item_name);
    printf(",\"status\":\"%s\",\"version\":%" PRIu64 ",\"holder_level\":\"%s\"",
           sj_case_status_name((sj_case_status)c->status), c->version,
           sj_level_name((sj_level)c->holder_level));
    cli_json_field("holder_unit", c->holder_unit);
    printf(",\"registered_at_ms\":%" PRId64 ",\"due_at_ms\":%" PRId64 ",\"overdue\":%s,"
           "\"urge_count\":%u,\"handling\":\"%s\"",
           c->registered_at_ms, c->due_at_ms, c->overdue ? "true" : "false", c->urge_count,
           sj_handling_name((sj_handling)c->handling));
    printf(",\"due_provisional\":%s,\"limit_days\":%u,\"paused_at_ms\":%" PRId64
           ",\"paused_days\":%u,\"extended_days\":%u,\"extension_days\":%u,\"return_count\":%u",
           c->due_provisional ? "true" : "false", c->limit_days, c->paused_at_ms, c->paused_days,
           c->extended_days, c->extension_days, c->return_count);
    cli_json_field("first_receiver", c->first_receiver);
    cli_json_field("assignee", c->assignee);
    cli_json_field("assignee_name", c->assignee_name);
    cli_json_field("carrier", c->carrier);
    cli_json_field("carrier_name", c->carrier_name);
    cli_json_field("applicant", c->applicant ? c->applicant->name : "");
    cli_json_field("result", c->result);
    cli_json_field("return_reason", c->return_reason);
    cli_json_field("department", c->department);
    cli_json_field("department_code", c->department_code);
    printf(",\"department_refusals\":%u", c->department_refusals);
    printf(",\"notify_state\":\"%s\",\"notify_attempts\":%u,\"notify_at_ms\":%" PRId64
           ",\"notify_retry_at_ms\":%" PRId64,
           sj_notify_state_name((sj_notify_state)c->notify_state), c->notify_attempts,
           c->notify_at_ms, c->notify_retry_at_ms);
    printf(",\"materials\":");
    cli_json_strings(c->materials, c->n_materials);
    printf(",\"rectify_due_at_ms\":%" PRId64 ",\"rectified_at_ms\":%" PRId64
           ",\"called_back_at_ms\":%" PRId64 ",\"rectify_late\":%s",
           c->rectify_due_at_ms, c->rectified_at_ms, c->called_back_at_ms,
           c->rectify_late ? "true" : "false");
    printf(",\"satisfaction\":\"%s\"}", sj_satisfaction_name((sj_satisfaction)c->satisfaction));
}

int cli_cmd_list(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    sc_use_person(r->c, NULL);
    sj_case_status st[CLI_MAX_REPEAT];
    for (size_t i = 0; i < o->n_statuses; i++) {
        st[i] = sj_case_status_from_name(o->statuses[i]);
        if (st[i] == SJ_STATUS_NONE) {
            char names[SJ_ERROR_MESSAGE_MAX] = "";
            size_t used = 0;
            for (int k = 1; k < SJ_STATUS_COUNT && used < sizeof(names); k++)
                used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", k > 1 ? ", " : "",
                                         sj_case_status_name((sj_case_status)k));
            return cli_usage_error(NULL, _("unknown status \"%s\"; use one of: %s."), o->statuses[i], names);
        }
    }
    /* `sanji mine`: 我的事项. */
    bool assigned = strcmp(cmd->name, "mine") == 0;
    if ((o->mine || assigned) && !sc_person(r->c)) {
        cli_nobody_logged_in(err);
        return cli_fail(err, CLI_EX_INPUT);
    }
    sc_list_filter f = {.mine = o->mine, .overdue = o->overdue, .waiting_for_me = o->waiting,
                        .statuses = st, .n_statuses = o->n_statuses, .assigned = assigned};
    sc_case_list l;
    if (sc_list_cases(r->c, &f, &l, err) != 0)
        return cli_fail(err, CLI_EX_SETUP);
    if (o->json) {
        printf("[");
        for (size_t i = 0; i < l.n; i++) {
            if (i)
                printf(",\n");
            json_case(l.cases[i]);
        }
        printf("]\n");
    } else if (l.n == 0) {
        printf("%s\n", _("No cases."));
    } else {
        cli_print_header(LIST_COLUMNS, N_LIST_COLUMNS);
        for (size_t i = 0; i < l.n; i++)
            print_case_row(l.cases[i]);
        printf(_("%zu cases.\n"), l.n);
    }
    sc_case_list_free(&l);
    return CLI_EX_OK;
}

/* `sanji --json show`: the case, its history, this station's actions on it,
 * its attachments and the actions allowed now (allowed, na of them). */
static void show_json(cli_run *r, const sc_case_detail *d, const sj_case_action *allowed,
                      size_t na)
{
    printf("{\"case\":");
    json_case(d->c);
    printf(",\"predicted\":%s,\"history\":[", d->predicted ? "true" : "false");
    for (size_t i = 0; i < d->n_events; i++) {
        const Sanji__CaseEvent *e = d->events[i];
        printf("%s{\"seq\":%u,\"action\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"at_ms\":%" PRId64,
               i ? "," : "", e->seq, sj_case_action_name((sj_case_action)e->action),
               sj_case_status_name((sj_case_status)e->from_status),
               sj_case_status_name((sj_case_status)e->to_status), e->at_ms);
        cli_json_field("actor", e->actor_person);
        cli_json_field("actor_name", e->actor_name);
        cli_json_field("actor_node", e->actor_node);
        cli_json_field("person", e->person);
        cli_json_field("person_name", e->person_name);
        cli_json_field("note", e->note);
        cli_json_field("result", e->result);
        printf(",\"materials\":");
        cli_json_strings(e->materials, e->n_materials);
        printf(",\"repeat_materials_request\":%s,\"clock_days\":%u,\"due_at_ms\":%" PRId64
               ",\"due_provisional\":%s,\"notify_attempt\":%u}",
               e->repeat_materials_request ? "true" : "false", e->clock_days, e->due_at_ms,
               e->due_provisional ? "true" : "false", e->notify_attempt);
    }
    printf("],\"outbox\":[");
    for (size_t i = 0; i < d->n_pending; i++) {
        static const char *sn[] = {"", "saved", "stored", "applied", "refused"};
        printf("%s{\"action\":\"%s\",\"state\":\"%s\"", i ? "," : "",
               sj_case_action_name((sj_case_action)d->pending[i].action),
               sn[d->pending[i].state]);
        cli_json_field("reason", d->pending[i].reason);
        printf("}");
    }
    printf("],\"attachments\":[");
    cli_json_attachments(r, d->c->case_id.data);
    printf("],\"allowed\":[");
    for (size_t i = 0; i < na; i++)
        printf("%s\"%s\"", i ? "," : "", sj_case_action_name(allowed[i]));
    printf("]}\n");
}

/* The case's fields, as far as this node may see them (id: the case id). */
static void show_fields(cli_run *r, const uint8_t id[16], const sc_case_detail *d)
{
    const Sanji__Case *c = d->c;
    char id_text[SJ_UUID_TEXT_SIZE], t1[32], t2[64];
    char mask_id[SJ_PERSONAL_MASK_SIZE], mask_phone[SJ_PERSONAL_MASK_SIZE];
    sj_uuid_format(id, id_text);
    cli_fmt_time(c->registered_at_ms, t1, sizeof(t1));
    cli_fmt_due(c->due_at_ms, c->due_provisional, t2, sizeof(t2));
    /* Unmasked only where common/domain/personal.h lets this node see them: the
     * case's own village station, or a desk whose level holds the case. */
    const sj_identity *me = sc_client_node(r->c);
    sc_text_applicant(c, me->role, me->unit, mask_id, mask_phone);
    cli_kv(_("Case number"), *c->number ? c->number : _("(not yet recorded by the county)"));
    cli_kv(_("Case id"), id_text);
    cli_kv(_("Status"), sc_status_label((sj_case_status)c->status));
    cli_kv(_("Handling"), sc_handling_label((sj_handling)c->handling));
    if (d->predicted)
        cli_kv("", _("(includes actions not yet recorded by the county)"));
    char item[512];
    snprintf(item, sizeof(item), "%s %s", c->item_code, c->item_name);
    cli_kv(_("Item"), item);
    cli_kv(_("Applicant"), c->applicant ? c->applicant->name : "");
    cli_kv(_("ID number"), mask_id);
    cli_kv(_("Phone"), mask_phone);
    cli_kv(_("Request"), c->request_text);
    cli_kv(_("First receiver"), *c->first_receiver_name ? c->first_receiver_name : c->first_receiver);
    cli_kv(_("Assigned to"), c->assignee && *c->assignee
                                 ? (*c->assignee_name ? c->assignee_name : c->assignee)
                                 : _("(not assigned)"));
    cli_kv(_("Carrier"), c->carrier && *c->carrier_name ? c->carrier_name : c->carrier);
    char holder[128];
    snprintf(holder, sizeof(holder), "%s %s", sc_level_label((sj_level)c->holder_level), c->holder_unit);
    cli_kv(_("Held by"), holder);
    cli_kv(_("Registered"), t1);
    cli_kv(_("Due"), t2);
    if (c->overdue)
        cli_kv(_("Overdue"), _("yes"));
}

/* The clock: what moved the due time, and what waits. */
static void show_clock(const Sanji__Case *c)
{
    char t1[32];
    char clock[128];
    if ((sj_case_status)c->status == SJ_STATUS_WAITING_MATERIALS && c->paused_at_ms > 0) {
        cli_fmt_time(c->paused_at_ms, t1, sizeof(t1));
        /* Translators: the time limit stands while the villager gathers materials. */
        snprintf(clock, sizeof(clock), _("paused since %s, waiting for the materials"), t1);
        cli_kv(_("Time limit"), clock);
    }
    if (c->paused_days > 0) {
        snprintf(clock, sizeof(clock), _("%u working days"), c->paused_days);
        cli_kv(_("Paused for materials"), clock);
    }
    if (c->extended_days > 0) {
        snprintf(clock, sizeof(clock), _("%u working days"), c->extended_days);
        cli_kv(_("Extended (approved)"), clock);
    }
    if (c->extension_days > 0) {
        snprintf(clock, sizeof(clock), _("%u working days, waiting for the level above"),
                 c->extension_days);
        cli_kv(_("Extension asked"), clock);
    }
    if (c->return_count > 0) {
        snprintf(clock, sizeof(clock), _("%u times"), c->return_count);
        cli_kv(_("Returned down"), clock);
    }
}

/* Where the case went and how it ended: department, materials, result,
 * satisfaction and what followed it, the villager's messages. */
static void show_outcome(const Sanji__Case *c)
{
    char t1[32];
    cli_kv(_("Department"), c->department);
    if (c->department_refusals > 0) {
        char n[16];
        snprintf(n, sizeof(n), "%u", c->department_refusals);
        cli_kv(_("Refused by departments"), n);
    }
    /* The list is what is missing now: a case that moved on (supplied,
     * resolved, closed) keeps the field, but nothing is missing. */
    if ((sj_case_status)c->status == SJ_STATUS_WAITING_MATERIALS)
        for (size_t i = 0; i < c->n_materials; i++)
            cli_kv(i == 0 ? _("Missing materials") : " ", c->materials[i]);
    if (c->materials_rounds > 1) {
        char rounds[128];
        /* Translators: how many times missing materials were asked for;
         * more than once breaks the one-time notice (一次告知). */
        snprintf(rounds, sizeof(rounds), _("%u times: the list was not given all at once"),
                 c->materials_rounds);
        cli_kv(_("Material requests"), rounds);
    }
    cli_kv(_("Result"), c->result);
    cli_kv(_("Return reason"), c->return_reason);
    cli_kv(_("Satisfaction"), sc_satisfaction_label((sj_satisfaction)c->satisfaction));
    char haocha[160];
    if (*sc_rectify_label(c, haocha, sizeof(haocha)))
        cli_kv(_("Rectification"), haocha);
    if (c->called_back_at_ms > 0) {
        cli_fmt_time(c->called_back_at_ms, t1, sizeof(t1));
        cli_kv(_("Called back"), t1);
    }
    char notify[160];
    if (*sc_notify_label(c, notify, sizeof(notify))) {
        if (c->notify_at_ms > 0) {
            char at[32];
            cli_fmt_time(c->notify_at_ms, at, sizeof(at));
            size_t len = strlen(notify);
            snprintf(notify + len, sizeof(notify) - len, " · %s", at);
        }
        cli_kv(_("Villager notified"), notify);
    }
}

/* The history as the county recorded it, then this station's actions on
 * the case. */
static void show_history(const sc_case_detail *d)
{
    char t1[32];
    printf("\n%s\n", _("History:"));
    for (size_t i = 0; i < d->n_events; i++) {
        const Sanji__CaseEvent *e = d->events[i];
        cli_fmt_time(e->at_ms, t1, sizeof(t1));
        printf("  %3u  ", e->seq);
        cli_print_cell(t1, 16);
        cli_print_cell(sc_action_label((sj_case_action)e->action), 12);
        cli_print_cell(sc_status_label((sj_case_status)e->to_status), 14);
        cli_print_cell(*e->actor_name ? e->actor_name : e->actor_person, 8);
        if (e->person && *e->person)
            printf("→ %s  ", *e->person_name ? e->person_name : e->person);
        printf("%s%s%s", e->note, *e->note && *e->result ? " / " : "", e->result);
        for (size_t m = 0; m < e->n_materials; m++)
            printf("%s%s", m == 0 ? (*e->note || *e->result ? " / " : "") : _(", "), e->materials[m]);
        if (e->repeat_materials_request)
            printf("%s", _(" (asked again: the first list was not complete)"));
        if (e->clock_days > 0)
            printf(_(" (%u working days)"), e->clock_days);
        if (e->notify_attempt > 0)
            printf(_(" (attempt %u)"), e->notify_attempt);
        if (e->due_at_ms > 0) {
            char due[64];
            cli_fmt_due(e->due_at_ms, e->due_provisional, due, sizeof(due));
            printf(_(" (due %s)"), due);
        }
        printf("\n");
    }
    if (d->n_events == 0)
        printf("  %s\n", _("(no history received from the county yet)"));
    if (d->n_pending) {
        printf("\n%s\n", _("This station's actions on the case:"));
        for (size_t i = 0; i < d->n_pending; i++)
            cli_print_outbox_row(&d->pending[i], false);
    }
}

int cli_cmd_show(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    (void)cmd;
    sc_use_person(r->c, NULL);
    uint8_t id[16];
    sc_case_detail d;
    int rc = cli_find_case(r, o->args[0], id, err);
    if (rc != CLI_EX_OK)
        return cli_fail(err, rc);
    if (sc_get_case(r->c, id, &d, err) != 0)
        return cli_fail(err, CLI_EX_INPUT);
    const Sanji__Case *c = d.c;
    sj_case_action allowed[SJ_ACTION_COUNT];
    size_t na = sc_allowed_actions(r->c, c, allowed, SJ_ACTION_COUNT);
    if (o->json) {
        show_json(r, &d, allowed, na);
    } else {
        show_fields(r, id, &d);
        show_clock(c);
        show_outcome(c);
        show_history(&d);
        cli_show_attachments(r, d.c->case_id.data);
        if (na) {
            printf("\n%s", _("You may now: "));
            for (size_t i = 0; i < na; i++)
                printf("%s%s", i ? _(", ") : "", sc_action_label(allowed[i]));
            printf("\n");
        }
    }
    sc_case_detail_free(&d);
    return CLI_EX_OK;
}

/* The columns of `sanji catalogue`, for its head and its rows. */
static const cli_column CATALOGUE_COLUMNS[] = {
    {N_("Code"), 8},  {N_("Item"), 28}, {N_("Finished at"), 10}, {N_("Limit (working days)"), 12},
    {N_("Department"), 16},
};

#define N_CATALOGUE_COLUMNS (sizeof(CATALOGUE_COLUMNS) / sizeof(CATALOGUE_COLUMNS[0]))

static const cli_column DEPARTMENT_COLUMNS[] = {
    {N_("Code"), 10}, {N_("Department"), 24}, {N_("Items"), 6}, {N_("Active"), 6},
};

#define N_DEPARTMENT_COLUMNS (sizeof(DEPARTMENT_COLUMNS) / sizeof(DEPARTMENT_COLUMNS[0]))

int cli_cmd_departments(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    (void)cmd;
    const Sanji__OrgTreeSync *t = sc_org_tree(r->c);
    if (!t) {
        sj_error_set(err, SJ_EUNKNOWN_ITEM, "%s",
                     _("No org tree has been received yet; connect once (sanji sync) and try "
                       "again."));
        return cli_fail(err, CLI_EX_INPUT);
    }
    if (o->json) {
        printf("[");
        for (size_t i = 0; i < t->n_departments; i++) {
            const Sanji__Department *d = t->departments[i];
            printf("%s{\"code\":", i ? ",\n" : "");
            cli_json_str(stdout, d->code);
            cli_json_field("name", d->name);
            printf(",\"active\":%s,\"items\":", d->active ? "true" : "false");
            cli_json_strings(d->item_codes, d->n_item_codes);
            printf("}");
        }
        printf("]\n");
        return CLI_EX_OK;
    }
    if (t->n_departments == 0) {
        printf("%s\n", _("The county has no departments on record."));
        return CLI_EX_OK;
    }
    cli_print_header(DEPARTMENT_COLUMNS, N_DEPARTMENT_COLUMNS);
    for (size_t i = 0; i < t->n_departments; i++) {
        const Sanji__Department *d = t->departments[i];
        char items[16];
        snprintf(items, sizeof(items), "%zu", d->n_item_codes);
        const char *cells[N_DEPARTMENT_COLUMNS] = {d->code, d->name, items,
                                                   d->active ? _("yes") : _("no")};
        cli_print_cells(DEPARTMENT_COLUMNS, N_DEPARTMENT_COLUMNS, cells);
        fputc('\n', stdout);
    }
    return CLI_EX_OK;
}

int cli_cmd_queue(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    (void)cmd;
    sc_use_person(r->c, NULL);
    Sanji__CaseStatus st[] = {SANJI__CASE_STATUS__CASE_STATUS_DISPATCHED,
                              SANJI__CASE_STATUS__CASE_STATUS_DEPARTMENT_HANDLING,
                              SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS,
                              SANJI__CASE_STATUS__CASE_STATUS_REPORTED};
    Sanji__CaseListQuery cl = SANJI__CASE_LIST_QUERY__INIT;
    cl.statuses = st;
    cl.n_statuses = sizeof(st) / sizeof(st[0]);
    cl.holder_level = SANJI__LEVEL__LEVEL_COUNTY;
    cl.overdue_only = o->overdue;
    cl.sort = SANJI__CASE_SORT__CASE_SORT_DUE;
    cl.ascending = true;
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_CASE_LIST;
    q.case_list = &cl;
    Sanji__QueryResult *res;
    if (cli_ask_peer(r, &q, &res, err) != 0)
        return cli_fail(err, err->code == SJ_ECLOSED ? CLI_EX_PENDING : CLI_EX_INPUT);
    if (res->result_case != SANJI__QUERY_RESULT__RESULT_CASE_LIST) {
        sanji__query_result__free_unpacked(res, NULL);
        sj_error_set(err, SJ_EPROTOCOL, "%s", _("The county's answer holds no case list."));
        return cli_fail(err, CLI_EX_INPUT);
    }
    const Sanji__CaseList *l = res->case_list;
    /* Materials asked by the county itself are not a department's. */
    size_t shown = 0;
    if (o->json)
        printf("[");
    for (size_t i = 0; i < l->n_cases; i++) {
        const Sanji__Case *c = l->cases[i];
        if (!*c->department_code)
            continue;
        if (o->json) {
            printf("%s", shown ? ",\n" : "");
            json_case(c);
        } else {
            if (shown == 0)
                cli_print_header(LIST_COLUMNS, N_LIST_COLUMNS);
            print_case_row(c);
            if (!c->overdue && c->warn_level > 0)
                printf("  %s\n", _("due soon"));
        }
        shown++;
    }
    if (o->json)
        printf("]\n");
    else if (shown == 0)
        printf("%s\n", _("No cases."));
    else
        printf(_("%zu cases.\n"), shown);
    sanji__query_result__free_unpacked(res, NULL);
    return CLI_EX_OK;
}

int cli_cmd_catalogue(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    (void)cmd;
    if (!sc_catalogue(r->c)) {
        sj_error_set(err, SJ_EUNKNOWN_ITEM, "%s", _("No service catalogue has been received yet; connect to the relay once (sanji sync) and try again."));
        return cli_fail(err, CLI_EX_INPUT);
    }
    const Sanji__CatalogueItem **items = NULL;
    size_t n = sc_catalogue_search(r->c, o->n_args ? o->args[0] : NULL, &items);
    if (o->json) {
        printf("[");
        for (size_t i = 0; i < n; i++) {
            printf("%s{\"code\":", i ? ",\n" : "");
            cli_json_str(stdout, items[i]->code);
            cli_json_field("name", items[i]->name);
            cli_json_field("category", items[i]->category);
            printf(",\"min_level\":\"%s\",\"limit_days\":%u",
                   sj_level_name((sj_level)items[i]->min_level), items[i]->limit_days);
            cli_json_field("department", items[i]->department);
            printf(",\"materials\":");
            cli_json_strings(items[i]->materials, items[i]->n_materials);
            printf("}");
        }
        printf("]\n");
    } else if (n == 0) {
        printf(_("No catalogue item matches \"%s\".\n"), o->n_args ? o->args[0] : "");
    } else {
        cli_print_header(CATALOGUE_COLUMNS, N_CATALOGUE_COLUMNS);
        for (size_t i = 0; i < n; i++) {
            char days[16];
            snprintf(days, sizeof(days), "%u", items[i]->limit_days);
            const char *cells[N_CATALOGUE_COLUMNS] = {
                items[i]->code, items[i]->name, sc_level_label((sj_level)items[i]->min_level), days,
                items[i]->department,
            };
            cli_print_cells(CATALOGUE_COLUMNS, N_CATALOGUE_COLUMNS, cells);
            fputc('\n', stdout);
        }
    }
    free(items);
    return CLI_EX_OK;
}
