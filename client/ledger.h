/*
 * ledger.h - a station's 台账: every request registered at it in a month,
 * one line each (case number, date, the applicant's name masked, item,
 * handling type, status and result, date finished, satisfaction), as a
 * PDF (ledger_draw.c) and an .xlsx workbook.  docs/STATISTICS.md "The 台账".
 *
 * Made from the node's local store, which holds every case of its scope
 * (a station: its village; a township desk: its villages), so it can be
 * printed offline; a county desk, which holds only the cases it opened,
 * is refused.  The ID number and the phone are never in it, and the name
 * is masked as on the wall board (sj_personal_mask_name()), since a
 * ledger leaves the office.
 *
 * Entry points: sc_ledger_make(), sc_ledger_title(), sc_ledger_headings(),
 * sc_ledger_cells(), sc_ledger_write_xlsx(), sc_ledger_write_pdf(),
 * sc_ledger_free().
 */
#ifndef SC_LEDGER_H
#define SC_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum { SC_LEDGER_COLS = 10 };

typedef struct sc_ledger_row {
    char number[64], date[16], applicant[64], item[256], handling[32], status[64],
        result[512], finished[16], satisfaction[32];
} sc_ledger_row;

typedef struct sc_ledger {
    char at[16];            /* "2026-11" */
    char period_name[64];   /* "2026年11月" */
    char unit_name[256];    /* "鲁山县张官营镇甲村" */
    sc_ledger_row *rows;    /* by registration time */
    size_t n;
    int64_t made_at_ms;
} sc_ledger;

/* The ledger of month ("2026-11") from c's store.  Returns 0, SJ_EINVAL
 * (a bad month; a node that does not hold its scope's cases) or a store
 * error, with err saying why. */
struct sc_client;
int sc_ledger_make(struct sc_client *c, const char *month, sc_ledger *out, sj_error *err);

/* "鲁山县张官营镇甲村2026年11月代办台账" into buf. */
void sc_ledger_title(const sc_ledger *l, char *buf, size_t cap);

/* The column headings (序号, 受理编号 …), translated. */
void sc_ledger_headings(const char *heads[SC_LEDGER_COLS]);

/* Row i's cells (序号 written into seq), borrowed from l and seq. */
void sc_ledger_cells(const sc_ledger *l, size_t i, char seq[24], const char *cells[SC_LEDGER_COLS]);

/* One sheet of the rows under their headings, and 说明.  Returns 0 or SJ_EIO. */
int sc_ledger_write_xlsx(const sc_ledger *l, const char *path, sj_error *err);

/* The PDF (A4 across, numbered pages; ledger_draw.c).  Returns 0 or SJ_EIO. */
int sc_ledger_write_pdf(const sc_ledger *l, const char *path, sj_error *err);

void sc_ledger_free(sc_ledger *l);

#endif
