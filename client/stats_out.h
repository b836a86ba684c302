/*
 * stats_out.h - a period statistics answer (proto PeriodStatistics,
 * docs/STATISTICS.md) as people and spreadsheets read it: one column list
 * (headings and cells) for the CLI's table, CSV and the .xlsx workbook, so
 * that every output shows the same figures under the same names.
 *
 * Rates are shown as percentages with one decimal in text (CSV and the
 * table) and kept as numbers with a percent format in the workbook.
 *
 * Entry points: sc_stats_columns(), sc_stats_heading(), sc_stats_cell(),
 * sc_stats_group_name(), sc_stats_period_text(), sc_stats_write_table(),
 * sc_stats_write_csv(), sc_stats_write_xlsx(), sc_stats_xlsx_formats_add(),
 * sc_stats_xlsx_rows(), sc_stats_xlsx_total(), sc_stats_sheet_name().
 */
#ifndef SC_STATS_OUT_H
#define SC_STATS_OUT_H

#include <stdio.h>

#include <xlsxwriter.h>

#include "err.h"
#include "sanji.pb-c.h"

/* The columns, in order (sc_stats_cell()'s col). */
typedef enum sc_stats_col {
    SC_STATS_COL_LABEL, SC_STATS_COL_KEY, SC_STATS_COL_REGISTERED, SC_STATS_COL_WITHDRAWN,
    SC_STATS_COL_FINISHED, SC_STATS_COL_RESOLVED, SC_STATS_COL_RETURNED, SC_STATS_COL_OPEN,
    SC_STATS_COL_FINISH_RATE, SC_STATS_COL_ON_TIME, SC_STATS_COL_ON_TIME_RATE,
    SC_STATS_COL_AVG_DAYS, SC_STATS_COL_P90_DAYS, SC_STATS_COL_OVERDUE_NOW,
    SC_STATS_COL_VERY_SATISFIED, SC_STATS_COL_SATISFIED, SC_STATS_COL_BASICALLY,
    SC_STATS_COL_UNSATISFIED, SC_STATS_COL_VERY_UNSATISFIED, SC_STATS_COL_SATISFACTION_RATE,
    SC_STATS_COL_BAD_EVALUATIONS, SC_STATS_COL_RECTIFIED_ON_TIME, SC_STATS_COL_RECTIFIED_LATE,
    SC_STATS_COL_RECTIFY_OPEN, SC_STATS_COL_CALLED_BACK, SC_STATS_COL_CALLBACK_RATE,
    SC_STATS_COL_UNSATISFIED_EVER,
    SC_STATS_COL_FOLLOWED_UP, SC_STATS_COL_REPEAT_MATERIALS, SC_STATS_COL_RETURNS_DOWN,
    SC_STATS_COL_REFUSALS, SC_STATS_COL_EXTENSION_REQUESTS, SC_STATS_COL_EXTENSIONS_APPROVED,
    SC_STATS_COL_URGES, SC_STATS_COL_SUPERVISED,
    SC_STATS_COL_COUNT
} sc_stats_col;

/* How many columns a row has: the group's name and key, then the figures. */
size_t sc_stats_columns(void);

/* Column col's heading, translated. */
const char *sc_stats_heading(size_t col);

/* Column col of row as text into buf (always terminated). */
void sc_stats_cell(const Sanji__PeriodStatRow *row, size_t col, char *buf, size_t cap);

/* The grouping's name, translated ("按乡镇" ...). */
const char *sc_stats_group_name(Sanji__StatGroup g);

/* "2026-11-01 – 2026-11-30" (China dates of [from, to)) into buf. */
void sc_stats_period_text(const Sanji__PeriodStatistics *s, char *buf, size_t cap);

/* The rows then the total, one line each, in fitted columns. */
void sc_stats_write_table(FILE *f, const Sanji__PeriodStatistics *s);

/* RFC 4180 CSV (UTF-8 with a byte-order mark, so spreadsheet programs read
 * the Chinese right): a heading line, the rows, the total.  Returns 0 or
 * SJ_EIO. */
int sc_stats_write_csv(FILE *f, const Sanji__PeriodStatistics *s, sj_error *err);

/* A workbook at path, one sheet per table: the grouped rows with the total
 * under them, the total alone (figure by figure), and what was asked
 * (period, scope, grouping, time of computing).  Sheets are named in the
 * user's language, made fit for Excel (31 characters, none of []:*?/\).
 * Returns 0 or SJ_EIO with err saying why. */
int sc_stats_write_xlsx(const char *path, const Sanji__PeriodStatistics *s, sj_error *err);

/* The pieces of that workbook, for workbooks of several answers (the 通报,
 * bulletin.c): the cell formats, a sheet of grouped rows with the total
 * under them, a sheet of the total figure by figure (each returns the sheet,
 * NULL when it could not be added), and a sheet name Excel takes. */
typedef struct sc_stats_xlsx_formats {
    lxw_format *head, *pct, *days, *bold, *bold_pct, *bold_days;
} sc_stats_xlsx_formats;
void sc_stats_xlsx_formats_add(lxw_workbook *wb, sc_stats_xlsx_formats *f);
lxw_worksheet *sc_stats_xlsx_rows(lxw_workbook *wb, const char *name,
                                  const Sanji__PeriodStatistics *s, const sc_stats_xlsx_formats *f);
lxw_worksheet *sc_stats_xlsx_total(lxw_workbook *wb, const char *name,
                                   const Sanji__PeriodStatRow *total,
                                   const sc_stats_xlsx_formats *f);
void sc_stats_sheet_name(const char *text, char *out, size_t cap);

#endif
