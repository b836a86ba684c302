/*
 * paper.h - the papers a villager takes home from the station: the 受理回执
 * (acknowledgement of receipt: case number, item, date, time limit, due
 * date, the station's phone, the ID number and phone masked) and the
 * 一次性告知单 (one-time notice: every missing material of the current
 * request, at once).  docs/CLI.md "Papers for the villager".
 *
 * Two steps, so that what a paper says is decided once and tested without
 * drawing: sc_paper_make() turns a case (and the names of its units) into
 * the paper's text, pure, no I/O; paper_draw.c lays that text out with
 * Pango on any cairo surface (a PDF file for the CLI, a GTK print page for
 * the desktop).  Labels are gettext msgids, so Chinese by default.
 *
 * Personal data: the paper never holds the ID number or the phone whole,
 * even where the station may see them, since a paper leaves the office.
 *
 * Ownership: an sc_paper is caller storage with no pointers; the input's
 * strings and protobufs are borrowed for the call.
 *
 * Entry points: sc_paper_make(), sc_paper_input_fill(), sc_paper_draw(),
 * sc_paper_write_pdf().
 */
#ifndef SC_PAPER_H
#define SC_PAPER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sanji.pb-c.h"

typedef enum sc_paper_kind {
    SC_PAPER_RECEIPT = 0, /* 受理回执 */
    SC_PAPER_NOTICE = 1,  /* 一次性告知单 */
} sc_paper_kind;

enum {
    SC_PAPER_MAX_ROWS = 14,
    SC_PAPER_MAX_LIST = 40,  /* materials listed; a longer list is refused */
    SC_PAPER_TEXT = 1024,    /* one value, one paragraph (bytes, NUL included) */
};

/* What the paper is about.  Names are the units' names from the org tree
 * ("" where unknown); last_request is the case's latest REQUEST_MATERIALS
 * event (NULL if none: a notice is then refused). */
typedef struct sc_paper_input {
    const Sanji__Case *cs;
    const char *number;             /* the case number when cs has none yet: the
                                     * county's Ack gave it before the feed did */
    const Sanji__CaseEvent *last_request;
    const char *county_name, *township_name, *village_name;
    const char *request_unit_name;  /* the unit of last_request's actor */
    const char *station_phone;      /* client.conf station.phone ("" : not printed) */
    uint32_t limit_days;            /* the case's limit in working days (0: unknown) */
    int64_t printed_at_ms;
} sc_paper_input;

typedef struct sc_paper_row {
    char label[64];
    char value[SC_PAPER_TEXT];
} sc_paper_row;

typedef struct sc_paper {
    sc_paper_kind kind;
    char issuer[256];                   /* 鲁山县张官营镇甲村便民服务站 */
    char title[64];                     /* 受理回执 / 一次性告知单 */
    sc_paper_row rows[SC_PAPER_MAX_ROWS];
    size_t n_rows;
    char intro[SC_PAPER_TEXT];          /* before the list ("" : none) */
    char list[SC_PAPER_MAX_LIST][SC_PAPER_TEXT];
    size_t n_list;
    char closing[SC_PAPER_TEXT];        /* what happens next */
    char footer[SC_PAPER_TEXT];         /* the station's phone, when printed */
} sc_paper;

/* The paper of kind for in.  Returns 0, or SJ_EINVAL with err saying why
 * there is no such paper for this case (a notice for a case that waits
 * for no material, a list longer than SC_PAPER_MAX_LIST). */
int sc_paper_make(const sc_paper_input *in, sc_paper_kind kind, sc_paper *out, sj_error *err);

/* Fills in from a case as the station holds it (sc_get_case(): the case,
 * its events, its outbox rows) with the names the station knows (the
 * client's org tree and catalogue) and the phone given.  in borrows from
 * d, which must outlive it. */
struct sc_client;
struct sc_case_detail;
void sc_paper_input_fill(struct sc_client *c, const struct sc_case_detail *d, const char *phone,
                         sc_paper_input *in);

/* Lays the paper out on cr, a page of width x height points (A4 is
 * 595 x 842), from its top left corner.  Needs Pango (paper_draw.c). */
typedef struct _cairo cairo_t;
void sc_paper_draw(const sc_paper *p, cairo_t *cr, double width, double height);

/* Writes the paper as a one-page A4 PDF at path (replaced if it exists;
 * written to path.tmp first, then renamed).  Returns 0 or SJ_EIO. */
int sc_paper_write_pdf(const sc_paper *p, const char *path, sj_error *err);

#endif
