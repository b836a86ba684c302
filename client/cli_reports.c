/*
 * cli_reports.c - the commands that report on a scope, asked of the county
 * (or a township's relay): network, stats, bulletin, ledger and stars.
 */
#include "cli_reports.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulletin.h"
#include "clock.h"
#include "i18n.h"
#include "ledger.h"
#include "netview.h"
#include "stat_period.h"
#include "stars_out.h"
#include "stats_out.h"

#include "cli_out.h"
#include "cli_opts.h"
#include "cli_run.h"

static const cli_column NETWORK_COLUMNS[] = {
    {N_("Place"), 14}, {N_("Node"), 30}, {N_("Link"), 16}, {N_("Last seen"), 16},
    {N_("Queue"), 6},  {N_("Certificate until"), 10},
    {N_("Staffed today (h)"), 10}, {N_("Last working day (h)"), 10},
};

#define N_NETWORK_COLUMNS (sizeof(NETWORK_COLUMNS) / sizeof(NETWORK_COLUMNS[0]))

/* One row of `sanji network`: a township's relay (or its stand-in) or a
 * station under it. */
static void network_row(cli_run *r, const char *unit, const char *node, bool never, bool online,
                        uint32_t days, int64_t seen_ms, uint32_t queue, int64_t cert_ms,
                        bool indent, const Sanji__StationStatus *st, uint32_t warn_percent)
{
    char link[64], seen[32], q[16], cert[32], place[96], today_h[32] = "-", last_h[40] = "-";
    if (st) {
        const Sanji__PresenceDay *today, *last;
        sc_netview_presence(st, sj_clock_real_ms(), &today, &last);
        sc_netview_staffed_text(today, today_h, sizeof today_h);
        sc_netview_staffed_text(last, last_h, sizeof last_h);
        if (sc_netview_understaffed(last, warn_percent))
            strcat(last_h, " !"); /* the warning above says what it means */
    }
    const char *name = sc_unit_name(r->c, unit);
    snprintf(place, sizeof(place), "%s%s", indent ? "  " : "", name ? name : unit);
    if (never)
        snprintf(link, sizeof(link), "%s", _("never connected"));
    else if (online)
        snprintf(link, sizeof(link), "%s", _("online"));
    else if (days > 0)
        snprintf(link, sizeof(link), _("offline %u working days"), (unsigned)days);
    else
        snprintf(link, sizeof(link), "%s", _("offline"));
    cli_fmt_time(never ? 0 : seen_ms, seen, sizeof(seen));
    snprintf(q, sizeof(q), never ? "-" : "%u", (unsigned)queue);
    cli_fmt_time(cert_ms, cert, sizeof(cert));
    cert[10] = '\0';
    const char *cells[N_NETWORK_COLUMNS] = {place, node && *node ? node : "-", link, seen, q, cert,
                                            today_h, last_h};
    cli_print_cells(NETWORK_COLUMNS, N_NETWORK_COLUMNS, cells);
    fputc('\n', stdout);
}

/* `sanji --json network`: the warnings w (nw of them) with their kind, then
 * every node of ns with its stations and their presence. */
static void network_json(cli_run *r, const Sanji__NetworkStatus *ns,
                         const sc_netview_warning *w, size_t nw)
{
    printf("{\"warnings\":[");
    for (size_t i = 0; i < nw; i++) {
        static const char *kinds[] = {"",       "cert_expired",  "never_connected",
                                      "silent", "cert_expiring", "calendar_missing",
                                      "unstaffed"};
        char text[512];
        sc_netview_warning_text(&w[i], sc_netview_unit_name, r->c, text, sizeof(text));
        printf("%s{\"kind\":\"%s\"", i ? "," : "", kinds[w[i].kind]);
        cli_json_field("unit", w[i].unit);
        cli_json_field("node", w[i].node);
        cli_json_field("text", text);
        printf(",\"days\":%u,\"count\":%zu}", (unsigned)w[i].days, w[i].count);
    }
    printf("],\"nodes\":[");
    for (size_t i = 0; i < ns->n_nodes; i++) {
        const Sanji__NodeStatus *n = ns->nodes[i];
        printf("%s{\"unit\":", i ? "," : "");
        cli_json_str(stdout, n->org_unit);
        cli_json_field("node", n->node);
        printf(",\"never_connected\":%s,\"online\":%s,\"offline_working_days\":%u,"
               "\"queue_depth\":%u,\"cert_not_after_ms\":%" PRId64 ",\"stations\":[",
               n->never_connected ? "true" : "false", n->upstream_online ? "true" : "false",
               (unsigned)n->offline_working_days, (unsigned)n->queue_depth,
               n->cert_not_after_ms);
        for (size_t j = 0; j < n->n_stations; j++) {
            const Sanji__StationStatus *st = n->stations[j];
            printf("%s{\"unit\":", j ? "," : "");
            cli_json_str(stdout, st->org_unit);
            cli_json_field("node", st->node);
            printf(",\"never_connected\":%s,\"connected\":%s,\"offline_working_days\":%u,"
                   "\"last_seen_ms\":%" PRId64 ",\"outbox_depth\":%u,"
                   "\"cert_not_after_ms\":%" PRId64 ",\"logged_in\":%u,"
                   "\"last_login_ms\":%" PRId64 ",\"presence\":[",
                   st->never_connected ? "true" : "false", st->connected ? "true" : "false",
                   (unsigned)st->offline_working_days, st->last_seen_ms,
                   (unsigned)st->outbox_depth, st->cert_not_after_ms, (unsigned)st->logged_in,
                   st->last_login_ms);
            for (size_t k = 0; k < st->n_presence; k++) {
                const Sanji__PresenceDay *pd = st->presence[k];
                printf("%s{\"day\":", k ? "," : "");
                cli_json_str(stdout, pd->day);
                printf(",\"duty_minutes\":%u,\"online_minutes\":%u,\"staffed_minutes\":%u}",
                       (unsigned)pd->duty_minutes, (unsigned)pd->online_minutes,
                       (unsigned)pd->staffed_minutes);
            }
            printf("]}");
        }
        printf("]}");
    }
    printf("]}\n");
}

/* `sanji network` for people: the warnings w (nw of them), then one row per
 * township and per station under it. */
static void network_text(cli_run *r, const Sanji__NetworkStatus *ns,
                         const sc_netview_warning *w, size_t nw)
{
    for (size_t i = 0; i < nw; i++) {
        char text[512];
        sc_netview_warning_text(&w[i], sc_netview_unit_name, r->c, text, sizeof(text));
        printf("%s%s\n", _("Warning: "), text);
    }
    if (nw)
        fputc('\n', stdout);
    cli_print_header(NETWORK_COLUMNS, N_NETWORK_COLUMNS);
    for (size_t i = 0; i < ns->n_nodes; i++) {
        const Sanji__NodeStatus *n = ns->nodes[i];
        network_row(r, n->org_unit, n->node, n->never_connected, n->upstream_online,
                    n->offline_working_days,
                    n->reported_at_ms ? n->reported_at_ms : n->upstream_last_contact_ms,
                    n->queue_depth, n->cert_not_after_ms, false, NULL, 0);
        for (size_t j = 0; j < n->n_stations; j++) {
            const Sanji__StationStatus *st = n->stations[j];
            network_row(r, st->org_unit, st->node, st->never_connected, st->connected,
                        st->offline_working_days, st->last_seen_ms, st->outbox_depth,
                        st->cert_not_after_ms, true, st, ns->staffed_warn_percent);
        }
    }
}

int cli_cmd_network(cli_run *r, const cli_command *cmd, sj_error *err)
{
    (void)cmd;
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_NETWORK_STATUS;
    q.network_status = true;
    Sanji__QueryResult *res;
    if (cli_ask_peer(r, &q, &res, err) != 0)
        return cli_fail(err, err->code == SJ_ECLOSED ? CLI_EX_PENDING : CLI_EX_INPUT);
    const Sanji__NetworkStatus *ns = res->network;
    sc_netview_warning *w = NULL;
    size_t nw = 0;
    if (ns == NULL || sc_netview_warnings(ns, sj_clock_real_ms(), &w, &nw, err) != 0) {
        if (ns == NULL)
            sj_error_set(err, SJ_EFRAME_BAD_FIELD, "%s", _("The answer holds no network view."));
        sanji__query_result__free_unpacked(res, NULL);
        return cli_fail(err, CLI_EX_INPUT);
    }
    if (r->o->json)
        network_json(r, ns, w, nw);
    else
        network_text(r, ns, w, nw);
    free(w);
    sanji__query_result__free_unpacked(res, NULL);
    return CLI_EX_OK;
}

/* A --from/--to value: a date (the whole day; to_end: the day after it
 * begins the end) or an instant. */
static int stats_bound(const char *text, bool to_end, int64_t *ms, sj_error *err)
{
    int32_t day;
    if (strlen(text) == 10 && sj_clock_parse_date(text, &day, NULL) == 0) {
        *ms = sj_clock_china_day_start_ms(to_end ? day + 1 : day);
        return 0;
    }
    return sj_clock_parse_iso(text, ms, err);
}

/* Fills q from the options: the period, the grouping and the unit. */
static int stats_query(const cli_opts *o, Sanji__PeriodStatQuery *q, char at[48], sj_error *err)
{
    static const char *const groups[] = {"none",     "township", "village",  "department",
                                         "category", "item",     "handling", "level"};
    q->group_by = SANJI__STAT_GROUP__STAT_GROUP_NONE;
    if (o->by) {
        size_t g = 0;
        while (g < sizeof groups / sizeof groups[0] && strcmp(groups[g], o->by) != 0)
            g++;
        if (g == sizeof groups / sizeof groups[0])
            return sj_error_set(err, SJ_EINVAL, _("--by takes township, village, department, "
                                                  "category, item, handling or level, not \"%s\"."),
                                o->by);
        q->group_by = (Sanji__StatGroup)g;
    }
    q->unit = (char *)(o->unit ? o->unit : "");
    if (o->from || o->to) {
        if (!o->from || !o->to || o->period || o->at)
            return sj_error_set(err, SJ_EINVAL, "%s",
                                _("Give --from and --to together, or --period with --at."));
        q->period = SANJI__STAT_PERIOD__STAT_PERIOD_RANGE;
        int rc = stats_bound(o->from, false, &q->from_ms, err);
        if (rc == 0)
            rc = stats_bound(o->to, true, &q->to_ms, err);
        return rc;
    }
    int kind = sj_stat_period_from_name(o->period ? o->period : "month");
    if (kind <= SJ_STAT_PERIOD_RANGE)
        return sj_error_set(err, SJ_EINVAL,
                            _("--period takes day, month, quarter or year, not \"%s\"."),
                            o->period);
    q->period = (Sanji__StatPeriod)kind;
    if (o->at) {
        snprintf(at, 48, "%s", o->at);
    } else { /* the current one, China time */
        int y, m, d;
        sj_clock_civil_from_days(sj_clock_china_day(sj_clock_real_ms()), &y, &m, &d);
        switch (kind) {
        case SJ_STAT_PERIOD_DAY: snprintf(at, 48, "%04d-%02d-%02d", y, m, d); break;
        case SJ_STAT_PERIOD_MONTH: snprintf(at, 48, "%04d-%02d", y, m); break;
        case SJ_STAT_PERIOD_QUARTER: snprintf(at, 48, "%04d-Q%d", y, (m + 2) / 3); break;
        default: snprintf(at, 48, "%04d", y); break;
        }
    }
    q->at = at;
    /* Checked here too, so that a typing error is told before connecting. */
    int64_t from = 0, to = 0;
    return sj_stat_period_range((sj_stat_period)kind, at, &from, &to, err);
}

static void stats_json(const Sanji__PeriodStatistics *s)
{
    printf("{\"from_ms\":%" PRId64 ",\"to_ms\":%" PRId64, s->from_ms, s->to_ms);
    cli_json_field("scope", s->scope);
    cli_json_field("department", s->department);
    printf(",\"rows\":[");
    for (size_t i = 0; i <= s->n_rows; i++) {
        const Sanji__PeriodStatRow *row = i < s->n_rows ? s->rows[i] : s->total;
        if (i == s->n_rows)
            printf("],\"total\":");
        else if (i)
            putchar(',');
        if (!row) {
            printf("null");
            continue;
        }
        printf("{\"key\":");
        cli_json_str(stdout, row->key);
        cli_json_field("label", row->label);
        printf(",\"registered\":%u,\"withdrawn\":%u,\"finished\":%u,\"resolved\":%u,"
               "\"returned\":%u,\"open\":%u,\"finish_rate\":%.6f,\"on_time\":%u,"
               "\"on_time_rate\":%.6f,\"avg_working_days\":%.6f,\"p90_working_days\":%u,"
               "\"overdue_now\":%u,\"satisfied\":%u,\"basically_satisfied\":%u,"
               "\"unsatisfied\":%u,\"satisfaction_rate\":%.6f,\"unsatisfied_ever\":%u,"
               "\"unsatisfied_followed_up\":%u,\"repeat_material_requests\":%u,"
               "\"returns_down\":%u,\"department_refusals\":%u,\"extension_requests\":%u,"
               "\"extensions_approved\":%u,\"urges\":%u,\"supervised\":%u,"
               "\"very_satisfied\":%u,\"very_unsatisfied\":%u,\"bad_evaluations\":%u,"
               "\"rectified_on_time\":%u,\"rectified_late\":%u,\"rectify_open\":%u,"
               "\"called_back\":%u,\"callback_rate\":%.6f}",
               row->registered, row->withdrawn, row->finished, row->resolved, row->returned,
               row->open, row->finish_rate, row->on_time, row->on_time_rate,
               row->avg_working_days, row->p90_working_days, row->overdue_now, row->satisfied,
               row->basically_satisfied, row->unsatisfied, row->satisfaction_rate,
               row->unsatisfied_ever, row->unsatisfied_followed_up,
               row->repeat_material_requests, row->returns_down, row->department_refusals,
               row->extension_requests, row->extensions_approved, row->urges, row->supervised,
               row->very_satisfied, row->very_unsatisfied, row->bad_evaluations,
               row->rectified_on_time, row->rectified_late, row->rectify_open, row->called_back,
               row->callback_rate);
    }
    printf("}\n");
}

int cli_cmd_stats(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    const char *format = o->format ? o->format : "table";
    bool xlsx = strcmp(format, "xlsx") == 0, csv = strcmp(format, "csv") == 0;
    if (!xlsx && !csv && strcmp(format, "table") != 0)
        return cli_usage_error(cmd, _("--format takes table, csv or xlsx, not \"%s\"."), format);
    if (xlsx && !o->output)
        return cli_usage_error(cmd, "%s", _("An .xlsx workbook goes to a file: add -o FILE."));
    Sanji__PeriodStatQuery pq = SANJI__PERIOD_STAT_QUERY__INIT;
    char at[48];
    if (stats_query(o, &pq, at, err) != 0)
        return cli_usage_error(cmd, "%s", err->message);
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
    q.period_statistics = &pq;
    Sanji__QueryResult *res;
    if (cli_ask_peer(r, &q, &res, err) != 0)
        return cli_fail(err, err->code == SJ_ECLOSED ? CLI_EX_PENDING : CLI_EX_INPUT);
    const Sanji__PeriodStatistics *s = res->period_statistics;
    int rc = CLI_EX_OK;
    if (!s) {
        sj_error_set(err, SJ_EFRAME_BAD_FIELD, "%s", _("The answer holds no statistics."));
        rc = cli_fail(err, CLI_EX_INPUT);
    } else if (xlsx) {
        if (sc_stats_write_xlsx(o->output, s, err) != 0)
            rc = cli_fail(err, CLI_EX_INPUT);
    } else if (o->json) {
        stats_json(s);
    } else {
        FILE *f = stdout;
        if (o->output && !(f = fopen(o->output, "w"))) {
            sj_error_set(err, SJ_EIO, _("Cannot write %s: %s"), o->output, strerror(errno));
            rc = cli_fail(err, CLI_EX_INPUT);
        } else if (csv) {
            if (sc_stats_write_csv(f, s, err) != 0)
                rc = cli_fail(err, CLI_EX_INPUT);
        } else {
            char period[64];
            sc_stats_period_text(s, period, sizeof period);
            fprintf(f, "%s %s · %s %s · %s\n\n", _("stats: period"), period, _("stats: scope"),
                    s->scope, sc_stats_group_name(s->group_by));
            sc_stats_write_table(f, s);
        }
        if (f && f != stdout && fclose(f) != 0 && rc == CLI_EX_OK) {
            sj_error_set(err, SJ_EIO, _("Cannot write %s: %s"), o->output, strerror(errno));
            rc = cli_fail(err, CLI_EX_INPUT);
        }
    }
    sanji__query_result__free_unpacked(res, NULL);
    return rc;
}

/* "pdf" or "xlsx" to a file: the 通报's and the 台账's outputs.  Returns
 * 1 for xlsx, 0 for pdf, or -1 having told what is wrong. */
static int paper_format(const cli_command *cmd, const cli_opts *o)
{
    const char *format = o->format ? o->format : "pdf";
    if (strcmp(format, "pdf") != 0 && strcmp(format, "xlsx") != 0) {
        cli_usage_error(cmd, _("--format takes pdf or xlsx, not \"%s\"."), format);
        return -1;
    }
    if (!o->output || !*o->output) {
        cli_usage_error(cmd, "%s", _("Say where to write it: add -o FILE."));
        return -1;
    }
    return strcmp(format, "xlsx") == 0;
}

/* The current month ("2026-11") or quarter ("2026-Q4"), China time. */
static void current_period(bool quarter, char at[16])
{
    int y, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(sj_clock_real_ms()), &y, &m, &d);
    /* Years of four digits (the clock's range): the casts tell the compiler. */
    if (quarter)
        snprintf(at, 16, "%04u-Q%u", (unsigned)y % 10000u, (unsigned)(m + 2) / 3u % 10u);
    else
        snprintf(at, 16, "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
}

int cli_cmd_bulletin(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    int xlsx = paper_format(cmd, o);
    if (xlsx < 0)
        return CLI_EX_USAGE;
    if (o->period && strcmp(o->period, "month") != 0 && strcmp(o->period, "quarter") != 0)
        return cli_usage_error(cmd, _("--period takes month or quarter, not \"%s\"."), o->period);
    if (o->month && o->quarter)
        return cli_usage_error(cmd, "%s", _("Give --month or --quarter, not both."));
    bool quarter = o->quarter || (o->period && strcmp(o->period, "quarter") == 0);
    if (quarter && o->month)
        return cli_usage_error(cmd, "%s", _("--month goes with --period month; use --quarter for a quarter."));
    if (o->quarter && o->period && strcmp(o->period, "month") == 0)
        return cli_usage_error(cmd, "%s", _("--quarter goes with --period quarter; use --month for a month."));
    char at[16];
    const char *which = o->quarter ? o->quarter : o->month ? o->month : o->at;
    if (which)
        snprintf(at, sizeof at, "%s", which);
    else
        current_period(quarter, at);
    sc_bulletin b;
    if (sc_bulletin_init(&b, quarter, at, err) != 0)
        return cli_usage_error(cmd, "%s", err->message);
    int rc = CLI_EX_OK;
    for (size_t i = 0; i < SC_BULLETIN_QUERIES && rc == CLI_EX_OK; i++) {
        Sanji__Query q = SANJI__QUERY__INIT;
        q.kind_case = SANJI__QUERY__KIND_PERIOD_STATISTICS;
        q.period_statistics = &b.q[i];
        Sanji__QueryResult *res;
        if (cli_ask_peer(r, &q, &res, err) != 0)
            rc = cli_fail(err, err->code == SJ_ECLOSED ? CLI_EX_PENDING : CLI_EX_INPUT);
        else if (sc_bulletin_take(&b, i, res, err) != 0)
            rc = cli_fail(err, CLI_EX_INPUT);
    }
    if (rc == CLI_EX_OK) {
        sc_bulletin_name_units(&b, r->c);
        if ((xlsx ? sc_bulletin_write_xlsx(&b, o->output, err)
                  : sc_bulletin_write_pdf(&b, o->output, err)) != 0)
            rc = cli_fail(err, CLI_EX_INPUT);
        else if (o->json)
        {
            printf("{\"file\":");
            cli_json_str(stdout, o->output);
            cli_json_field("scope", sc_bulletin_stats(&b, 0)->scope);
            printf("}\n");
        }
        else
            printf(_("Written: %s\n"), o->output);
    }
    sc_bulletin_free(&b);
    return rc;
}

int cli_cmd_ledger(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    int xlsx = paper_format(cmd, o);
    if (xlsx < 0)
        return CLI_EX_USAGE;
    char at[16];
    if (o->month)
        snprintf(at, sizeof at, "%s", o->month);
    else
        current_period(false, at);
    /* Brought up to date first when the township is reachable; offline, the
     * ledger is what the station holds. */
    double w = cli_wait_seconds(o, 5);
    if (w > 0)
        cli_run_link(r, w);
    sc_ledger l;
    int rc = sc_ledger_make(r->c, at, &l, err);
    if (rc == SJ_EINVAL)
        return cli_usage_error(cmd, "%s", err->message);
    if (rc != 0)
        return cli_fail(err, CLI_EX_SETUP);
    rc = CLI_EX_OK;
    if ((xlsx ? sc_ledger_write_xlsx(&l, o->output, err) : sc_ledger_write_pdf(&l, o->output, err)) !=
        0)
        rc = cli_fail(err, CLI_EX_INPUT);
    else if (o->json)
    {
        printf("{\"file\":");
        cli_json_str(stdout, o->output);
        printf(",\"cases\":%zu}\n", l.n);
    }
    else
        printf(_("Written: %s (%zu requests)\n"), o->output, l.n);
    sc_ledger_free(&l);
    return rc;
}

int cli_cmd_stars(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    char *end;
    unsigned long year = strtoul(o->year, &end, 10), quarter = 0;
    if (*end || year < 1970 || year > 9999)
        return cli_usage_error(cmd, _("--year takes a year such as 2026, not \"%s\"."), o->year);
    /* "4", or the bulletin's spelling "2026Q4" / "2026-Q4" of --year's quarter. */
    const char *qs = o->quarter ? strpbrk(o->quarter, "Qq") : NULL;
    qs = qs ? qs + 1 : o->quarter;
    if (qs && ((quarter = strtoul(qs, &end, 10)) < 1 || quarter > 4 || *end ||
               (qs != o->quarter && strtoul(o->quarter, NULL, 10) != year)))
        return cli_usage_error(cmd, _("--quarter takes 1, 2, 3 or 4, not \"%s\"."), o->quarter);
    Sanji__StarQuery sq = SANJI__STAR_QUERY__INIT;
    sq.year = (uint32_t)year;
    sq.quarter = (uint32_t)quarter;
    sq.unit = (char *)(o->unit ? o->unit : "");
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_STARS;
    q.stars = &sq;
    Sanji__QueryResult *res;
    if (cli_ask_peer(r, &q, &res, err) != 0)
        return cli_fail(err, err->code == SJ_ECLOSED ? CLI_EX_PENDING : CLI_EX_INPUT);
    const Sanji__StarRating *sr = res->stars;
    if (!sr) {
        sj_error_set(err, SJ_EFRAME_BAD_FIELD, "%s", _("The answer holds no star rating."));
        sanji__query_result__free_unpacked(res, NULL);
        return cli_fail(err, CLI_EX_INPUT);
    }
    if (o->json) {
        printf("{\"year\":%u,\"quarter\":%u,\"from_ms\":%" PRId64 ",\"to_ms\":%" PRId64,
               (unsigned)sr->year, (unsigned)sr->quarter, sr->from_ms, sr->to_ms);
        cli_json_field("scope", sr->scope);
        printf(",\"stations\":[");
        for (size_t i = 0; i < sr->n_stations; i++) {
            const Sanji__StarStation *st = sr->stations[i];
            printf("%s{\"unit\":", i ? "," : "");
            cli_json_str(stdout, st->unit);
            cli_json_field("label", st->label);
            printf(",\"stars\":%u,\"daiban_star\":%s,\"record_star\":%s,\"duty_star\":%s,"
                   "\"service_star\":%s,\"on_time_star\":%s,\"registered\":%u,\"finished\":%u,"
                   "\"finish_rate\":%.6f,\"daiban_finished\":%u,\"missing_records\":%u,"
                   "\"duty_minutes\":%u,\"staffed_minutes\":%u,\"verdicts\":%u,"
                   "\"satisfaction_rate\":%.6f,\"on_time\":%u,\"on_time_rate\":%.6f}",
                   (unsigned)st->stars, st->daiban_star ? "true" : "false",
                   st->record_star ? "true" : "false", st->duty_star ? "true" : "false",
                   st->service_star ? "true" : "false", st->on_time_star ? "true" : "false",
                   (unsigned)st->registered, (unsigned)st->finished, st->finish_rate,
                   (unsigned)st->daiban_finished, (unsigned)st->missing_records,
                   (unsigned)st->duty_minutes, (unsigned)st->staffed_minutes,
                   (unsigned)st->verdicts, st->satisfaction_rate, (unsigned)st->on_time,
                   st->on_time_rate);
        }
        printf("]}\n");
    } else {
        char period[32];
        sc_stars_period_text(sr, period, sizeof period);
        printf("%s %s · %s %s\n\n", _("stats: period"), period, _("stats: scope"), sr->scope);
        sc_stars_write_table(stdout, sr);
    }
    sanji__query_result__free_unpacked(res, NULL);
    return CLI_EX_OK;
}
