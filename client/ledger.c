/*
 * ledger.c - a station's 台账 from its local store, and its workbook (see
 * ledger.h); its PDF is ledger_draw.c.
 */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "bulletin.h"
#include "case.h"
#include "clock.h"
#include "i18n.h"
#include "personal.h"
#include "sanji_client.h"
#include "stat_period.h"
#include "stats_out.h"

static const char *nz(const char *s)
{
    return s ? s : "";
}

static bool finishing(Sanji__CaseActionType a)
{
    return a == SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE ||
           a == SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE ||
           a == SANJI__CASE_ACTION_TYPE__CASE_ACTION_RETURN_UNDOABLE;
}

static bool finished(sj_case_status s)
{
    return s == SJ_STATUS_RESOLVED || s == SJ_STATUS_RETURNED || s == SJ_STATUS_UNSATISFIED ||
           s == SJ_STATUS_CLOSED;
}

static int by_time(const void *a, const void *b)
{
    const Sanji__Case *x = *(Sanji__Case *const *)a, *y = *(Sanji__Case *const *)b;
    if (x->registered_at_ms != y->registered_at_ms)
        return x->registered_at_ms < y->registered_at_ms ? -1 : 1;
    return strcmp(nz(x->number), nz(y->number));
}

static void fill_row(sc_client *c, const Sanji__Case *cs, sc_ledger_row *r)
{
    memset(r, 0, sizeof *r);
    if (cs->number && *cs->number)
        snprintf(r->number, sizeof r->number, "%s", cs->number);
    else
        snprintf(r->number, sizeof r->number, "%s", _("ledger: no number yet"));
    sj_clock_format_date(sj_clock_china_day(cs->registered_at_ms), r->date);
    const char *name = cs->applicant ? nz(cs->applicant->name) : "";
    if (sj_personal_mask_name(name, r->applicant, sizeof r->applicant) != 0)
        r->applicant[0] = '\0';
    snprintf(r->item, sizeof r->item, "%s", nz(cs->item_name));
    snprintf(r->handling, sizeof r->handling, "%s", sc_handling_label((sj_handling)cs->handling));
    sj_case_status st = (sj_case_status)cs->status;
    snprintf(r->status, sizeof r->status, "%s", sc_status_label(st));
    const char *result = st == SJ_STATUS_RETURNED && cs->return_reason && *cs->return_reason
                             ? cs->return_reason
                             : nz(cs->result);
    snprintf(r->result, sizeof r->result, "%s", result);
    if (cs->satisfaction)
        snprintf(r->satisfaction, sizeof r->satisfaction, "%s",
                 sc_satisfaction_label((sj_satisfaction)cs->satisfaction));
    if (!finished(st))
        return;
    /* The finish time as docs/STATISTICS.md defines it: the last
     * finishing event of the case's history. */
    uint8_t id[16];
    if (cs->case_id.len != 16)
        return;
    memcpy(id, cs->case_id.data, 16);
    sc_case_detail d;
    if (sc_get_case(c, id, &d, NULL) != 0)
        return;
    for (size_t i = d.n_events; i-- > 0;)
        if (finishing(d.events[i]->action)) {
            sj_clock_format_date(sj_clock_china_day(d.events[i]->at_ms), r->finished);
            break;
        }
    sc_case_detail_free(&d);
}

int sc_ledger_make(sc_client *c, const char *month, sc_ledger *out, sj_error *err)
{
    memset(out, 0, sizeof *out);
    int64_t from, to;
    int rc = sj_stat_period_range(SJ_STAT_PERIOD_MONTH, nz(month), &from, &to, err);
    if (rc != 0)
        return rc;
    if (sc_searches_at_peer(c))
        return sj_error_set(err, SJ_EINVAL, "%s",
                            _("A ledger is made where the cases are kept: at the village station "
                              "or the township desk, not at a county desk."));
    snprintf(out->at, sizeof out->at, "%s", month);
    int y, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(from), &y, &m, &d);
    snprintf(out->period_name, sizeof out->period_name, _("bulletin: month %d %d"), y, m);
    sc_bulletin_unit_name(c, sc_client_node(c)->unit, out->unit_name, sizeof out->unit_name);
    out->made_at_ms = sj_clock_real_ms();

    sc_list_filter f = {0};
    sc_case_list l;
    rc = sc_list_cases(c, &f, &l, err);
    if (rc != 0)
        return rc;
    Sanji__Case **pick = calloc(l.n ? l.n : 1, sizeof *pick);
    if (!pick) {
        sc_case_list_free(&l);
        return sj_error_set(err, SJ_ENOMEM, "%s", _("out of memory"));
    }
    size_t n = 0;
    for (size_t i = 0; i < l.n; i++)
        if (l.cases[i]->registered_at_ms >= from && l.cases[i]->registered_at_ms < to)
            pick[n++] = l.cases[i];
    qsort(pick, n, sizeof *pick, by_time);
    out->rows = calloc(n ? n : 1, sizeof *out->rows);
    if (!out->rows) {
        free(pick);
        sc_case_list_free(&l);
        return sj_error_set(err, SJ_ENOMEM, "%s", _("out of memory"));
    }
    for (size_t i = 0; i < n; i++)
        fill_row(c, pick[i], &out->rows[i]);
    out->n = n;
    free(pick);
    sc_case_list_free(&l);
    return 0;
}

void sc_ledger_title(const sc_ledger *l, char *buf, size_t cap)
{
    snprintf(buf, cap, _("ledger: title %s%s"), l->unit_name, l->period_name);
}

void sc_ledger_headings(const char *heads[SC_LEDGER_COLS])
{
    heads[0] = _("ledger: seq");
    heads[1] = _("ledger: case number");
    heads[2] = _("ledger: registered");
    heads[3] = _("ledger: applicant");
    heads[4] = _("ledger: item");
    heads[5] = _("ledger: handling");
    heads[6] = _("ledger: status");
    heads[7] = _("ledger: result");
    heads[8] = _("ledger: finished");
    heads[9] = _("ledger: satisfaction");
}

void sc_ledger_cells(const sc_ledger *l, size_t i, char seq[24], const char *cells[SC_LEDGER_COLS])
{
    const sc_ledger_row *r = &l->rows[i];
    snprintf(seq, 24, "%zu", i + 1);
    cells[0] = seq;
    cells[1] = r->number;
    cells[2] = r->date;
    cells[3] = r->applicant;
    cells[4] = r->item;
    cells[5] = r->handling;
    cells[6] = r->status;
    cells[7] = r->result;
    cells[8] = r->finished;
    cells[9] = r->satisfaction;
}

int sc_ledger_write_xlsx(const sc_ledger *l, const char *path, sj_error *err)
{
    lxw_workbook *wb = workbook_new(path);
    if (!wb)
        return sj_error_set(err, SJ_EIO, _("The workbook %s could not be made."), path);
    sc_stats_xlsx_formats fm;
    sc_stats_xlsx_formats_add(wb, &fm);
    char name[128];
    sc_stats_sheet_name(_("ledger: sheet"), name, sizeof name);
    lxw_worksheet *ws = workbook_add_worksheet(wb, name);
    if (!ws) {
        workbook_close(wb);
        return sj_error_set(err, SJ_EIO, _("The workbook %s could not be made."), path);
    }
    static const double widths[SC_LEDGER_COLS] = {6, 22, 12, 10, 24, 8, 12, 30, 12, 10};
    const char *heads[SC_LEDGER_COLS];
    sc_ledger_headings(heads);
    for (size_t c = 0; c < SC_LEDGER_COLS; c++) {
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, widths[c], NULL);
        worksheet_write_string(ws, 0, (lxw_col_t)c, heads[c], fm.head);
    }
    worksheet_freeze_panes(ws, 1, 0);
    for (size_t i = 0; i < l->n; i++) {
        char seq[24];
        const char *cells[SC_LEDGER_COLS];
        sc_ledger_cells(l, i, seq, cells);
        lxw_row_t r = (lxw_row_t)(i + 1);
        worksheet_write_number(ws, r, 0, (double)(i + 1), NULL);
        for (size_t c = 1; c < SC_LEDGER_COLS; c++)
            worksheet_write_string(ws, r, (lxw_col_t)c, cells[c], NULL);
    }
    sc_stats_sheet_name(_("stats: about"), name, sizeof name);
    lxw_worksheet *aw = workbook_add_worksheet(wb, name);
    if (aw) {
        char title[512], at[40], count[32];
        sc_ledger_title(l, title, sizeof title);
        sj_clock_format_china(l->made_at_ms, at, sizeof at);
        snprintf(count, sizeof count, "%zu", l->n);
        const char *lines[][2] = {
            {_("bulletin: title"), title},
            {_("stats: period"), l->at},
            {_("ledger: cases"), count},
            {_("ledger: made at"), at},
        };
        worksheet_set_column(aw, 0, 0, 16, NULL);
        worksheet_set_column(aw, 1, 1, 48, NULL);
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            worksheet_write_string(aw, (lxw_row_t)i, 0, lines[i][0], fm.head);
            worksheet_write_string(aw, (lxw_row_t)i, 1, lines[i][1], NULL);
        }
    }
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR)
        return sj_error_set(err, SJ_EIO, _("The workbook %s could not be written (%s)."), path,
                            lxw_strerror(e));
    return 0;
}

void sc_ledger_free(sc_ledger *l)
{
    free(l->rows);
    memset(l, 0, sizeof *l);
}
