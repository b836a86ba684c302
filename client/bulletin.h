/*
 * bulletin.h - the 通报: the monthly or quarterly report of a scope's
 * 代办 work that offices circulate (docs/STATISTICS.md "The 通报"), as a
 * PDF (bulletin_draw.c: title, period, summary, tables, charts, page
 * numbers) and as an .xlsx workbook (one sheet per table).
 *
 * Its figures are the county's period statistics (Query.period_statistics)
 * and nothing else: sc_bulletin_init() lists the questions (the period by
 * township, village, department, category and handling type, and each of
 * the twelve months up to the period's end for the trend); the caller asks
 * them (the CLI one after another, the desktop all at once) and hands each
 * answer to sc_bulletin_take().  The county scopes every answer to the
 * asker (county, township desk, station), so a township's 通报 holds its
 * township only.
 *
 * Ownership: the answers taken are owned by the bulletin until
 * sc_bulletin_free(); the names are copies.
 *
 * Entry points: sc_bulletin_init(), sc_bulletin_take(), sc_bulletin_stats(),
 * sc_bulletin_name_units(), sc_bulletin_unit_name(), sc_bulletin_ready(), sc_bulletin_grid(),
 * sc_bulletin_satisfaction(), sc_bulletin_write_xlsx(),
 * sc_bulletin_write_pdf(), sc_bulletin_free().
 */
#ifndef SC_BULLETIN_H
#define SC_BULLETIN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "sanji.pb-c.h"

typedef enum sc_bulletin_part {
    SC_BULLETIN_TOWNSHIP = 0,
    SC_BULLETIN_VILLAGE,
    SC_BULLETIN_DEPARTMENT,
    SC_BULLETIN_CATEGORY,
    SC_BULLETIN_HANDLING,
    SC_BULLETIN_PARTS
} sc_bulletin_part;

enum {
    SC_BULLETIN_MONTHS = 12,
    /* The questions: the parts, then the months oldest first. */
    SC_BULLETIN_QUERIES = SC_BULLETIN_PARTS + SC_BULLETIN_MONTHS,
};

typedef struct sc_bulletin_village {
    char *code, *name;
} sc_bulletin_village;

typedef struct sc_bulletin {
    bool quarter;                      /* else a month */
    char at[16];                       /* "2026-11" or "2026-Q4" */
    char period_name[64];              /* "2026年11月", "2026年第4季度" */
    char month_at[SC_BULLETIN_MONTHS][8];     /* "2025-12" … "2026-11" */
    Sanji__PeriodStatQuery q[SC_BULLETIN_QUERIES];
    Sanji__QueryResult *answer[SC_BULLETIN_QUERIES];
    char scope_name[256];              /* "鲁山县", "鲁山县张官营镇" … */
    sc_bulletin_village *villages;     /* the scope's villages by code, for the grid */
    size_t n_villages;
    int64_t made_at_ms;
} sc_bulletin;

/* A bulletin of the month ("2026-11") or the quarter ("2026-Q4", "2026Q4")
 * with its questions in b->q.  Returns 0, or SJ_EINVAL with err saying
 * what is wrong with the period. */
int sc_bulletin_init(sc_bulletin *b, bool quarter, const char *at, sj_error *err);

/* Question i's answer (taken over; freed by the bulletin).  Returns 0, or
 * SJ_EFRAME_BAD_FIELD when it holds no statistics. */
int sc_bulletin_take(sc_bulletin *b, size_t i, Sanji__QueryResult *res, sj_error *err);

/* Every question answered. */
bool sc_bulletin_ready(const sc_bulletin *b);

/* Question i's statistics (NULL before its answer). */
const Sanji__PeriodStatistics *sc_bulletin_stats(const sc_bulletin *b, size_t i);

/* The scope's name and villages from the client's org tree (after the
 * answers: the scope is the one the county answered for). */
struct sc_client;
void sc_bulletin_name_units(sc_bulletin *b, struct sc_client *c);

/* A unit's name with the units above it ("鲁山县张官营镇甲村"; the code
 * itself when the org tree does not name it) into buf. */
void sc_bulletin_unit_name(struct sc_client *c, const char *code, char *buf, size_t cap);

/* The village grid: for each village of the scope (and each village with
 * cases the tree did not name), its name, 办结率 and whether it had cases
 * to finish.  Arrays of b->n_villages + the village answer's rows; returns
 * how many were filled.  Names are borrowed from b. */
size_t sc_bulletin_grid(const sc_bulletin *b, const char **names, double *rates, bool *has,
                        size_t cap);

/* The satisfaction split of the period's total on the national 好差评
 * scale: 非常满意, 满意, 基本满意, 不满意, 非常不满意, then 未评价 (finished
 * cases without an evaluation), with their counts. */
#define SC_BULLETIN_VERDICTS 6
void sc_bulletin_satisfaction(const sc_bulletin *b, const char *labels[SC_BULLETIN_VERDICTS],
                              double counts[SC_BULLETIN_VERDICTS]);

/* The title ("鲁山县2026年11月代办工作通报") into buf. */
void sc_bulletin_title(const sc_bulletin *b, char *buf, size_t cap);

/* The workbook at path: 概况 (the total figure by figure), one sheet per
 * table (by township, village, department, category, handling type), the
 * satisfaction split, the monthly trend, and 说明 (title, period, scope,
 * computed at).  Returns 0 or SJ_EIO. */
int sc_bulletin_write_xlsx(const sc_bulletin *b, const char *path, sj_error *err);

/* The PDF at path (bulletin_draw.c, needs Pango).  Returns 0 or SJ_EIO. */
int sc_bulletin_write_pdf(const sc_bulletin *b, const char *path, sj_error *err);

void sc_bulletin_free(sc_bulletin *b);

#endif
