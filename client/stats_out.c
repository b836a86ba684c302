/*
 * stats_out.c - period statistics as a table, CSV and an .xlsx workbook
 * (see stats_out.h).
 *
 * Entry points: sc_stats_columns(), sc_stats_heading(), sc_stats_cell(),
 * sc_stats_group_name(), sc_stats_period_text(), sc_stats_write_table(),
 * sc_stats_write_csv(), sc_stats_write_xlsx().
 */
#include "stats_out.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "clock.h"
#include "csv.h"
#include "i18n.h"
#include "text.h"

typedef enum kind { K_TEXT, K_COUNT, K_RATE, K_DAYS } kind;

/* The columns, in order: heading (msgid), table width, kind, and where the
 * value is in a row. */
typedef struct col {
    const char *heading;
    size_t width;
    kind k;
    size_t offset;
} col;

#define ROW(f) offsetof(Sanji__PeriodStatRow, f)
static const col COLS[] = {
    {N_("stats: group"), 16, K_TEXT, ROW(label)},
    {N_("stats: code"), 12, K_TEXT, ROW(key)},
    {N_("stats: registered"), 6, K_COUNT, ROW(registered)},
    {N_("stats: withdrawn"), 6, K_COUNT, ROW(withdrawn)},
    {N_("stats: finished"), 6, K_COUNT, ROW(finished)},
    {N_("stats: resolved"), 6, K_COUNT, ROW(resolved)},
    {N_("stats: returned"), 6, K_COUNT, ROW(returned)},
    {N_("stats: open"), 6, K_COUNT, ROW(open)},
    {N_("stats: finish rate"), 7, K_RATE, ROW(finish_rate)},
    {N_("stats: on time"), 6, K_COUNT, ROW(on_time)},
    {N_("stats: on-time rate"), 7, K_RATE, ROW(on_time_rate)},
    {N_("stats: average working days"), 6, K_DAYS, ROW(avg_working_days)},
    {N_("stats: p90 working days"), 6, K_COUNT, ROW(p90_working_days)},
    {N_("stats: overdue now"), 6, K_COUNT, ROW(overdue_now)},
    /* The five levels in the national scale's order (非常满意 .. 非常不满意). */
    {N_("stats: very satisfied"), 6, K_COUNT, ROW(very_satisfied)},
    {N_("stats: satisfied"), 6, K_COUNT, ROW(satisfied)},
    {N_("stats: basically satisfied"), 6, K_COUNT, ROW(basically_satisfied)},
    {N_("stats: unsatisfied"), 6, K_COUNT, ROW(unsatisfied)},
    {N_("stats: very unsatisfied"), 6, K_COUNT, ROW(very_unsatisfied)},
    {N_("stats: satisfaction rate"), 7, K_RATE, ROW(satisfaction_rate)},
    {N_("stats: bad evaluations"), 6, K_COUNT, ROW(bad_evaluations)},
    {N_("stats: rectified on time"), 6, K_COUNT, ROW(rectified_on_time)},
    {N_("stats: rectified late"), 6, K_COUNT, ROW(rectified_late)},
    {N_("stats: rectification open"), 6, K_COUNT, ROW(rectify_open)},
    {N_("stats: called back"), 6, K_COUNT, ROW(called_back)},
    {N_("stats: callback rate"), 7, K_RATE, ROW(callback_rate)},
    {N_("stats: ever unsatisfied"), 6, K_COUNT, ROW(unsatisfied_ever)},
    {N_("stats: unsatisfied followed up"), 6, K_COUNT, ROW(unsatisfied_followed_up)},
    {N_("stats: repeated material requests"), 6, K_COUNT, ROW(repeat_material_requests)},
    {N_("stats: returned down"), 6, K_COUNT, ROW(returns_down)},
    {N_("stats: department refusals"), 6, K_COUNT, ROW(department_refusals)},
    {N_("stats: extensions asked"), 6, K_COUNT, ROW(extension_requests)},
    {N_("stats: extensions approved"), 6, K_COUNT, ROW(extensions_approved)},
    {N_("stats: urges"), 6, K_COUNT, ROW(urges)},
    {N_("stats: supervised"), 6, K_COUNT, ROW(supervised)},
};
#undef ROW
#define N_COLS (sizeof(COLS) / sizeof(COLS[0]))
_Static_assert(N_COLS == SC_STATS_COL_COUNT, "sc_stats_col names every column of COLS");

size_t sc_stats_columns(void)
{
    return N_COLS;
}

const char *sc_stats_heading(size_t c)
{
    return c < N_COLS ? _(COLS[c].heading) : "";
}

static const void *field(const Sanji__PeriodStatRow *row, size_t c)
{
    return (const char *)row + COLS[c].offset;
}

static double number(const Sanji__PeriodStatRow *row, size_t c)
{
    switch (COLS[c].k) {
    case K_COUNT:
        return *(const uint32_t *)field(row, c);
    case K_RATE:
    case K_DAYS:
        return *(const double *)field(row, c);
    default:
        return 0;
    }
}

void sc_stats_cell(const Sanji__PeriodStatRow *row, size_t c, char *buf, size_t cap)
{
    if (c >= N_COLS) {
        snprintf(buf, cap, "%s", "");
        return;
    }
    switch (COLS[c].k) {
    case K_TEXT: {
        const char *s = *(char *const *)field(row, c);
        snprintf(buf, cap, "%s", s ? s : "");
        break;
    }
    case K_COUNT:
        snprintf(buf, cap, "%u", (unsigned)number(row, c));
        break;
    case K_RATE:
        snprintf(buf, cap, "%.1f%%", number(row, c) * 100.0);
        break;
    case K_DAYS:
        snprintf(buf, cap, "%.1f", number(row, c));
        break;
    }
}

const char *sc_stats_group_name(Sanji__StatGroup g)
{
    switch (g) {
    case SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP:
        return _("stats: by township");
    case SANJI__STAT_GROUP__STAT_GROUP_VILLAGE:
        return _("stats: by village");
    case SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT:
        return _("stats: by department");
    case SANJI__STAT_GROUP__STAT_GROUP_CATEGORY:
        return _("stats: by category");
    case SANJI__STAT_GROUP__STAT_GROUP_ITEM:
        return _("stats: by item");
    case SANJI__STAT_GROUP__STAT_GROUP_HANDLING:
        return _("stats: by handling");
    case SANJI__STAT_GROUP__STAT_GROUP_LEVEL:
        return _("stats: by finishing level");
    default:
        return _("stats: total only");
    }
}

void sc_stats_period_text(const Sanji__PeriodStatistics *s, char *buf, size_t cap)
{
    char a[SJ_CLOCK_DATE_SIZE], b[SJ_CLOCK_DATE_SIZE];
    sj_clock_format_date(sj_clock_china_day(s->from_ms), a);
    /* to is not counted: the last day is the one before it. */
    sj_clock_format_date(sj_clock_china_day(s->to_ms - 1), b);
    snprintf(buf, cap, "%s – %s", a, b);
}

/* The rows, then the total (NULL rows skipped). */
static const Sanji__PeriodStatRow *nth(const Sanji__PeriodStatistics *s, size_t i)
{
    return i < s->n_rows ? s->rows[i] : s->total;
}

void sc_stats_write_table(FILE *f, const Sanji__PeriodStatistics *s)
{
    char cell[256], fit[512];
    /* A column is as wide as its heading in the user's language, or its
     * figures. */
    size_t width[N_COLS];
    for (size_t c = 0; c < N_COLS; c++) {
        size_t h = sc_text_width(sc_stats_heading(c));
        width[c] = h > COLS[c].width ? h : COLS[c].width;
        sc_text_fit(sc_stats_heading(c), width[c], fit, sizeof fit);
        fprintf(f, "%s  ", fit);
    }
    fputc('\n', f);
    for (size_t i = 0; i <= s->n_rows; i++) {
        const Sanji__PeriodStatRow *row = nth(s, i);
        if (!row)
            continue;
        for (size_t c = 0; c < N_COLS; c++) {
            sc_stats_cell(row, c, cell, sizeof cell);
            sc_text_fit(cell, width[c], fit, sizeof fit);
            fprintf(f, "%s  ", fit);
        }
        fputc('\n', f);
    }
}

int sc_stats_write_csv(FILE *f, const Sanji__PeriodStatistics *s, sj_error *err)
{
    char cell[256];
    fputs("\xEF\xBB\xBF", f);
    for (size_t c = 0; c < N_COLS; c++) {
        if (c)
            fputc(',', f);
        sj_csv_write_field(f, sc_stats_heading(c));
    }
    fputs("\r\n", f);
    for (size_t i = 0; i <= s->n_rows; i++) {
        const Sanji__PeriodStatRow *row = nth(s, i);
        if (!row)
            continue;
        for (size_t c = 0; c < N_COLS; c++) {
            if (c)
                fputc(',', f);
            sc_stats_cell(row, c, cell, sizeof cell);
            sj_csv_write_field(f, cell);
        }
        fputs("\r\n", f);
    }
    if (fflush(f) != 0 || ferror(f))
        return sj_error_set(err, SJ_EIO, "%s", _("The CSV could not be written completely."));
    return 0;
}

/* One row of figures at row r of ws. */
static void xlsx_row(lxw_worksheet *ws, lxw_row_t r, const Sanji__PeriodStatRow *row,
                     lxw_format *pct, lxw_format *days, lxw_format *bold)
{
    for (size_t c = 0; c < N_COLS; c++) {
        lxw_col_t x = (lxw_col_t)c;
        switch (COLS[c].k) {
        case K_TEXT: {
            const char *s = *(char *const *)field(row, c);
            worksheet_write_string(ws, r, x, s ? s : "", bold);
            break;
        }
        case K_COUNT:
            worksheet_write_number(ws, r, x, number(row, c), bold);
            break;
        case K_RATE:
            worksheet_write_number(ws, r, x, number(row, c), pct);
            break;
        case K_DAYS:
            worksheet_write_number(ws, r, x, number(row, c), days);
            break;
        }
    }
}

/* A sheet name Excel takes: at most 31 characters, none of [ ] : * ? / \
 * (each becomes '-'), so that a heading in any language names its sheet. */
void sc_stats_sheet_name(const char *text, char *out, size_t cap)
{
    size_t n = 0, chars = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 5 < cap;) {
        size_t len = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
        if (chars == 31 || strnlen((const char *)p, len) < len)
            break;
        if (len == 1 && strchr("[]:*?/\\", *p))
            out[n++] = '-';
        else
            for (size_t i = 0; i < len; i++)
                out[n++] = (char)p[i];
        p += len;
        chars++;
    }
    out[n] = '\0';
}

void sc_stats_xlsx_formats_add(lxw_workbook *wb, sc_stats_xlsx_formats *f)
{
    f->head = workbook_add_format(wb);
    format_set_bold(f->head);
    format_set_text_wrap(f->head);
    f->pct = workbook_add_format(wb);
    format_set_num_format(f->pct, "0.0%");
    f->days = workbook_add_format(wb);
    format_set_num_format(f->days, "0.0");
    f->bold = workbook_add_format(wb);
    format_set_bold(f->bold);
    f->bold_pct = workbook_add_format(wb);
    format_set_bold(f->bold_pct);
    format_set_num_format(f->bold_pct, "0.0%");
    f->bold_days = workbook_add_format(wb);
    format_set_bold(f->bold_days);
    format_set_num_format(f->bold_days, "0.0");
}

lxw_worksheet *sc_stats_xlsx_rows(lxw_workbook *wb, const char *name,
                                  const Sanji__PeriodStatistics *s, const sc_stats_xlsx_formats *f)
{
    char sheet[128];
    sc_stats_sheet_name(name, sheet, sizeof sheet);
    lxw_worksheet *ws = workbook_add_worksheet(wb, sheet);
    if (!ws)
        return NULL;
    for (size_t c = 0; c < N_COLS; c++)
        worksheet_write_string(ws, 0, (lxw_col_t)c, sc_stats_heading(c), f->head);
    worksheet_set_column(ws, 0, 0, 18, NULL);
    worksheet_set_column(ws, 1, 1, 14, NULL);
    worksheet_set_column(ws, 2, (lxw_col_t)(N_COLS - 1), 10, NULL);
    worksheet_freeze_panes(ws, 1, 2);
    lxw_row_t r = 1;
    for (size_t i = 0; i < s->n_rows; i++)
        xlsx_row(ws, r++, s->rows[i], f->pct, f->days, NULL);
    if (s->total)
        xlsx_row(ws, r, s->total, f->bold_pct, f->bold_days, f->bold);
    return ws;
}

lxw_worksheet *sc_stats_xlsx_total(lxw_workbook *wb, const char *name,
                                   const Sanji__PeriodStatRow *total,
                                   const sc_stats_xlsx_formats *f)
{
    char sheet[128];
    sc_stats_sheet_name(name, sheet, sizeof sheet);
    lxw_worksheet *tw = workbook_add_worksheet(wb, sheet);
    if (!tw || !total)
        return tw;
    worksheet_set_column(tw, 0, 0, 24, NULL);
    worksheet_set_column(tw, 1, 1, 14, NULL);
    for (size_t c = 2; c < N_COLS; c++) {
        lxw_row_t y = (lxw_row_t)(c - 2);
        worksheet_write_string(tw, y, 0, sc_stats_heading(c), f->head);
        lxw_format *fmt = COLS[c].k == K_RATE ? f->pct : COLS[c].k == K_DAYS ? f->days : NULL;
        worksheet_write_number(tw, y, 1, number(total, c), fmt);
    }
    return tw;
}

int sc_stats_write_xlsx(const char *path, const Sanji__PeriodStatistics *s, sj_error *err)
{
    const char *name[2] = {sc_stats_group_name(s->group_by), _("stats: total")};
    /* Two sheets cannot share a name (合计 is also the name of the total
     * only grouping): the first gives way. */
    if (strcmp(name[0], name[1]) == 0)
        name[0] = _("stats: rows");
    lxw_workbook *wb = workbook_new(path);
    if (!wb)
        return sj_error_set(err, SJ_EIO, _("The workbook %s could not be made."), path);
    sc_stats_xlsx_formats fm;
    sc_stats_xlsx_formats_add(wb, &fm);
    lxw_format *head = fm.head;

    /* 1: the grouped rows and the total under them. */
    if (!sc_stats_xlsx_rows(wb, name[0], s, &fm)) {
        workbook_close(wb);
        unlink(path);
        return sj_error_set(err, SJ_EIO, _("The workbook %s could not be made."), path);
    }
    /* 2: the total, one figure a line. */
    sc_stats_xlsx_total(wb, name[1], s->total, &fm);

    /* 3: what was asked. */
    char about[128];
    sc_stats_sheet_name(_("stats: about"), about, sizeof about);
    lxw_worksheet *aw = workbook_add_worksheet(wb, about);
    if (aw) {
        char period[64], at[40];
        sc_stats_period_text(s, period, sizeof period);
        sj_clock_format_china(s->computed_at_ms, at, sizeof at);
        const char *lines[][2] = {
            {_("stats: period"), period},
            {_("stats: scope"), s->scope ? s->scope : ""},
            {_("stats: department"), s->department ? s->department : ""},
            {_("stats: grouping"), sc_stats_group_name(s->group_by)},
            {_("stats: computed at"), at},
            {_("stats: definitions"), _("stats: see docs/STATISTICS.md")},
        };
        worksheet_set_column(aw, 0, 0, 16, NULL);
        worksheet_set_column(aw, 1, 1, 40, NULL);
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            worksheet_write_string(aw, (lxw_row_t)i, 0, lines[i][0], head);
            worksheet_write_string(aw, (lxw_row_t)i, 1, lines[i][1], NULL);
        }
    }
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR)
        return sj_error_set(err, SJ_EIO, _("The workbook %s could not be written (%s)."), path,
                            lxw_strerror(e));
    return 0;
}
