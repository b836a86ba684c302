/*
 * bulletin.c - the 通报's questions, answers and workbook (see bulletin.h);
 * its PDF is bulletin_draw.c.
 */
#include "bulletin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "clock.h"
#include "i18n.h"
#include "orgunit.h"
#include "sanji_client.h"
#include "stat_period.h"
#include "stats_out.h"

static const Sanji__StatGroup PART_GROUP[SC_BULLETIN_PARTS] = {
    SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP, SANJI__STAT_GROUP__STAT_GROUP_VILLAGE,
    SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT, SANJI__STAT_GROUP__STAT_GROUP_CATEGORY,
    SANJI__STAT_GROUP__STAT_GROUP_HANDLING,
};

int sc_bulletin_init(sc_bulletin *b, bool quarter, const char *at, sj_error *err)
{
    memset(b, 0, sizeof *b);
    int64_t from, to;
    sj_stat_period kind = quarter ? SJ_STAT_PERIOD_QUARTER : SJ_STAT_PERIOD_MONTH;
    int rc = sj_stat_period_range(kind, at ? at : "", &from, &to, err);
    if (rc != 0)
        return rc;
    b->quarter = quarter;
    snprintf(b->at, sizeof b->at, "%s", at);
    int y, m, d;
    sj_clock_civil_from_days(sj_clock_china_day(from), &y, &m, &d);
    if (quarter)
        snprintf(b->period_name, sizeof b->period_name, _("bulletin: quarter %d %d"), y,
                 (m + 2) / 3);
    else
        snprintf(b->period_name, sizeof b->period_name, _("bulletin: month %d %d"), y, m);
    for (size_t i = 0; i < SC_BULLETIN_PARTS; i++) {
        sanji__period_stat_query__init(&b->q[i]);
        b->q[i].period = (Sanji__StatPeriod)kind;
        b->q[i].at = b->at;
        b->q[i].unit = "";
        b->q[i].group_by = PART_GROUP[i];
    }
    /* The trend: the twelve months ending with the period's last one. */
    sj_clock_civil_from_days(sj_clock_china_day(to - 1), &y, &m, &d);
    for (int k = SC_BULLETIN_MONTHS - 1; k >= 0; k--) {
        snprintf(b->month_at[k], sizeof b->month_at[k], "%04d-%02d", y, m);
        if (--m == 0) {
            m = 12;
            y--;
        }
    }
    for (size_t k = 0; k < SC_BULLETIN_MONTHS; k++) {
        Sanji__PeriodStatQuery *q = &b->q[SC_BULLETIN_PARTS + k];
        sanji__period_stat_query__init(q);
        q->period = SANJI__STAT_PERIOD__STAT_PERIOD_MONTH;
        q->at = b->month_at[k];
        q->unit = "";
        q->group_by = SANJI__STAT_GROUP__STAT_GROUP_NONE;
    }
    b->made_at_ms = sj_clock_real_ms();
    return 0;
}

int sc_bulletin_take(sc_bulletin *b, size_t i, Sanji__QueryResult *res, sj_error *err)
{
    if (i >= SC_BULLETIN_QUERIES || !res || !res->period_statistics ||
        !res->period_statistics->total) {
        if (res)
            sanji__query_result__free_unpacked(res, NULL);
        return sj_error_set(err, SJ_EFRAME_BAD_FIELD, "%s", _("The answer holds no statistics."));
    }
    if (b->answer[i])
        sanji__query_result__free_unpacked(b->answer[i], NULL);
    b->answer[i] = res;
    return 0;
}

bool sc_bulletin_ready(const sc_bulletin *b)
{
    for (size_t i = 0; i < SC_BULLETIN_QUERIES; i++)
        if (!b->answer[i])
            return false;
    return true;
}

const Sanji__PeriodStatistics *sc_bulletin_stats(const sc_bulletin *b, size_t i)
{
    return i < SC_BULLETIN_QUERIES && b->answer[i] ? b->answer[i]->period_statistics : NULL;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int by_code(const void *a, const void *b)
{
    return strcmp(((const sc_bulletin_village *)a)->code, ((const sc_bulletin_village *)b)->code);
}

void sc_bulletin_unit_name(sc_client *c, const char *code, char *buf, size_t cap)
{
    char county[SJ_ORGUNIT_CODE_SIZE] = "", township[SJ_ORGUNIT_CODE_SIZE] = "";
    sj_level level = sj_orgunit_level(code);
    if (sj_orgunit_at_level(code, SJ_LEVEL_COUNTY, county) != 0)
        county[0] = '\0';
    if (sj_orgunit_at_level(code, SJ_LEVEL_TOWNSHIP, township) != 0)
        township[0] = '\0';
    const char *cn = county[0] ? sc_unit_name(c, county) : NULL;
    const char *tn = township[0] ? sc_unit_name(c, township) : NULL;
    const char *vn = level == SJ_LEVEL_VILLAGE ? sc_unit_name(c, code) : NULL;
    snprintf(buf, cap, "%s%s%s", nz(cn), nz(tn), nz(vn));
    if (!buf[0])
        snprintf(buf, cap, "%s", code);
}

void sc_bulletin_name_units(sc_bulletin *b, sc_client *c)
{
    const Sanji__PeriodStatistics *s = sc_bulletin_stats(b, SC_BULLETIN_TOWNSHIP);
    const char *scope = s ? nz(s->scope) : "";
    sj_level level = sj_orgunit_level(scope);
    sc_bulletin_unit_name(c, scope, b->scope_name, sizeof b->scope_name);
    /* A department desk's 通报 is its department's: named after the county. */
    const Sanji__OrgTreeSync *tree = sc_org_tree(c);
    for (size_t i = 0; s && s->department && *s->department && tree && i < tree->n_departments;
         i++) {
        const Sanji__Department *dep = tree->departments[i];
        if (dep->code && strcmp(dep->code, s->department) == 0 && dep->name) {
            size_t used = strlen(b->scope_name);
            snprintf(b->scope_name + used, sizeof b->scope_name - used, "%s", dep->name);
            break;
        }
    }
    /* The scope's villages, named in the org tree. */
    const Sanji__OrgTreeSync *t = sc_org_tree(c);
    for (size_t i = 0; t && i < t->n_units; i++) {
        const Sanji__OrgUnit *u = t->units[i];
        if (u->level != SANJI__LEVEL__LEVEL_VILLAGE || !u->code)
            continue;
        bool in = level == SJ_LEVEL_COUNTY     ? strncmp(u->code, scope, 6) == 0
                  : level == SJ_LEVEL_TOWNSHIP ? strncmp(u->code, scope, 9) == 0
                                               : strcmp(u->code, scope) == 0;
        if (!in)
            continue;
        sc_bulletin_village *nv = realloc(b->villages, (b->n_villages + 1) * sizeof *nv);
        if (!nv)
            break;
        b->villages = nv;
        nv[b->n_villages].code = strdup(u->code);
        nv[b->n_villages].name = strdup(nz(u->name));
        if (!nv[b->n_villages].code || !nv[b->n_villages].name) {
            free(nv[b->n_villages].code);
            free(nv[b->n_villages].name);
            break;
        }
        b->n_villages++;
    }
    if (b->n_villages > 1)
        qsort(b->villages, b->n_villages, sizeof *b->villages, by_code);
}

static bool has_work(const Sanji__PeriodStatRow *r)
{
    return r->registered > r->withdrawn;
}

size_t sc_bulletin_grid(const sc_bulletin *b, const char **names, double *rates, bool *has,
                        size_t cap)
{
    const Sanji__PeriodStatistics *s = sc_bulletin_stats(b, SC_BULLETIN_VILLAGE);
    size_t n = 0, rows = s ? s->n_rows : 0;
    /* The tree's villages in code order, then rows the tree did not name;
     * both lists are in code order, so a merge keeps the grid by code. */
    size_t i = 0, k = 0;
    while ((i < b->n_villages || k < rows) && n < cap) {
        const Sanji__PeriodStatRow *r = k < rows ? s->rows[k] : NULL;
        int cmp = i >= b->n_villages ? 1 : !r ? -1 : strcmp(b->villages[i].code, nz(r->key));
        if (cmp < 0) {
            names[n] = b->villages[i++].name;
            rates[n] = 0;
            has[n++] = false;
            continue;
        }
        names[n] = cmp == 0 ? b->villages[i].name : nz(r->label);
        rates[n] = r->finish_rate;
        has[n++] = has_work(r);
        k++;
        if (cmp == 0)
            i++;
    }
    return n;
}

void sc_bulletin_satisfaction(const sc_bulletin *b, const char *labels[SC_BULLETIN_VERDICTS],
                              double counts[SC_BULLETIN_VERDICTS])
{
    const Sanji__PeriodStatistics *s = sc_bulletin_stats(b, SC_BULLETIN_TOWNSHIP);
    const Sanji__PeriodStatRow *t = s ? s->total : NULL;
    labels[0] = sc_stats_heading(SC_STATS_COL_VERY_SATISFIED);
    labels[1] = sc_stats_heading(SC_STATS_COL_SATISFIED);
    labels[2] = sc_stats_heading(SC_STATS_COL_BASICALLY);
    labels[3] = sc_stats_heading(SC_STATS_COL_UNSATISFIED);
    labels[4] = sc_stats_heading(SC_STATS_COL_VERY_UNSATISFIED);
    labels[5] = _("stats: no feedback");
    if (!t) {
        for (int i = 0; i < SC_BULLETIN_VERDICTS; i++)
            counts[i] = 0;
        return;
    }
    counts[0] = t->very_satisfied;
    counts[1] = t->satisfied;
    counts[2] = t->basically_satisfied;
    counts[3] = t->unsatisfied;
    counts[4] = t->very_unsatisfied;
    unsigned judged = t->very_satisfied + t->satisfied + t->basically_satisfied +
                      t->unsatisfied + t->very_unsatisfied;
    counts[5] = t->finished > judged ? t->finished - judged : 0;
}

void sc_bulletin_title(const sc_bulletin *b, char *buf, size_t cap)
{
    snprintf(buf, cap, _("bulletin: title %s%s"), b->scope_name, b->period_name);
}

/* The bulletin's satisfaction split: each verdict, its count and share. */
static void sheet_satisfaction(lxw_workbook *wb, const sc_bulletin *b,
                               const sc_stats_xlsx_formats *fm)
{
    char name[128];
    sc_stats_sheet_name(_("bulletin: satisfaction"), name, sizeof name);
    lxw_worksheet *ws = workbook_add_worksheet(wb, name);
    if (!ws)
        return;
    const char *labels[SC_BULLETIN_VERDICTS];
    double counts[SC_BULLETIN_VERDICTS], sum = 0;
    sc_bulletin_satisfaction(b, labels, counts);
    for (int i = 0; i < SC_BULLETIN_VERDICTS; i++)
        sum += counts[i];
    worksheet_set_column(ws, 0, 2, 14, NULL);
    worksheet_write_string(ws, 0, 0, _("bulletin: verdict"), fm->head);
    worksheet_write_string(ws, 0, 1, _("bulletin: count"), fm->head);
    worksheet_write_string(ws, 0, 2, _("bulletin: share"), fm->head);
    for (int i = 0; i < SC_BULLETIN_VERDICTS; i++) {
        worksheet_write_string(ws, (lxw_row_t)(i + 1), 0, labels[i], NULL);
        worksheet_write_number(ws, (lxw_row_t)(i + 1), 1, counts[i], NULL);
        worksheet_write_number(ws, (lxw_row_t)(i + 1), 2, sum > 0 ? counts[i] / sum : 0,
                               fm->pct);
    }
}

/* The bulletin's trend: registered, finished and finish rate month by month. */
static void sheet_trend(lxw_workbook *wb, const sc_bulletin *b, const sc_stats_xlsx_formats *fm)
{
    char name[128];
    sc_stats_sheet_name(_("bulletin: trend"), name, sizeof name);
    lxw_worksheet *ws = workbook_add_worksheet(wb, name);
    if (!ws)
        return;
    worksheet_set_column(ws, 0, 3, 12, NULL);
    worksheet_write_string(ws, 0, 0, _("bulletin: month"), fm->head);
    worksheet_write_string(ws, 0, 1, sc_stats_heading(SC_STATS_COL_REGISTERED), fm->head);
    worksheet_write_string(ws, 0, 2, sc_stats_heading(SC_STATS_COL_FINISHED), fm->head);
    worksheet_write_string(ws, 0, 3, sc_stats_heading(SC_STATS_COL_FINISH_RATE), fm->head);
    for (size_t k = 0; k < SC_BULLETIN_MONTHS; k++) {
        const Sanji__PeriodStatRow *t = sc_bulletin_stats(b, SC_BULLETIN_PARTS + k)->total;
        lxw_row_t r = (lxw_row_t)(k + 1);
        worksheet_write_string(ws, r, 0, b->month_at[k], NULL);
        worksheet_write_number(ws, r, 1, t->registered, NULL);
        worksheet_write_number(ws, r, 2, t->finished, NULL);
        worksheet_write_number(ws, r, 3, t->finish_rate, fm->pct);
    }
}

/* What the workbook is: title, period, scope, when computed, where the
 * definitions are. */
static void sheet_about(lxw_workbook *wb, const sc_bulletin *b,
                        const Sanji__PeriodStatistics *main, const sc_stats_xlsx_formats *fm)
{
    char name[128];
    sc_stats_sheet_name(_("stats: about"), name, sizeof name);
    lxw_worksheet *ws = workbook_add_worksheet(wb, name);
    if (!ws)
        return;
    char title[512], period[64], at[40];
    sc_bulletin_title(b, title, sizeof title);
    sc_stats_period_text(main, period, sizeof period);
    sj_clock_format_china(main->computed_at_ms, at, sizeof at);
    const char *lines[][2] = {
        {_("bulletin: title"), title},
        {_("stats: period"), period},
        {_("stats: scope"), b->scope_name},
        {_("stats: computed at"), at},
        {_("stats: definitions"), _("stats: see docs/STATISTICS.md")},
    };
    worksheet_set_column(ws, 0, 0, 16, NULL);
    worksheet_set_column(ws, 1, 1, 48, NULL);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        worksheet_write_string(ws, (lxw_row_t)i, 0, lines[i][0], fm->head);
        worksheet_write_string(ws, (lxw_row_t)i, 1, lines[i][1], NULL);
    }
}

int sc_bulletin_write_xlsx(const sc_bulletin *b, const char *path, sj_error *err)
{
    if (!sc_bulletin_ready(b))
        return sj_error_set(err, SJ_EINVAL, "%s", _("The bulletin is not complete: some statistics were not answered."));
    lxw_workbook *wb = workbook_new(path);
    if (!wb)
        return sj_error_set(err, SJ_EIO, _("The workbook %s could not be made."), path);
    sc_stats_xlsx_formats fm;
    sc_stats_xlsx_formats_add(wb, &fm);
    const Sanji__PeriodStatistics *main = sc_bulletin_stats(b, SC_BULLETIN_TOWNSHIP);
    if (!sc_stats_xlsx_total(wb, _("bulletin: overview"), main->total, &fm)) {
        workbook_close(wb);
        unlink(path);
        return sj_error_set(err, SJ_EIO, _("The workbook %s could not be made."), path);
    }
    for (size_t i = 0; i < SC_BULLETIN_PARTS; i++) {
        const Sanji__PeriodStatistics *s = sc_bulletin_stats(b, i);
        sc_stats_xlsx_rows(wb, sc_stats_group_name(s->group_by), s, &fm);
    }
    sheet_satisfaction(wb, b, &fm);
    sheet_trend(wb, b, &fm);
    sheet_about(wb, b, main, &fm);
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR)
        return sj_error_set(err, SJ_EIO, _("The workbook %s could not be written (%s)."), path,
                            lxw_strerror(e));
    return 0;
}

void sc_bulletin_free(sc_bulletin *b)
{
    for (size_t i = 0; i < SC_BULLETIN_QUERIES; i++)
        if (b->answer[i])
            sanji__query_result__free_unpacked(b->answer[i], NULL);
    for (size_t i = 0; i < b->n_villages; i++) {
        free(b->villages[i].code);
        free(b->villages[i].name);
    }
    free(b->villages);
    memset(b, 0, sizeof *b);
}
