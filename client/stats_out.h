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
 * sc_stats_write_csv(), sc_stats_write_xlsx().
 */
#ifndef SC_STATS_OUT_H
#define SC_STATS_OUT_H

#include <stdio.h>

#include "err.h"
#include "sanji.pb-c.h"

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

#endif
