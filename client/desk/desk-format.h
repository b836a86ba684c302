/*
 * desk-format.h - what the desktop shows, computed from the client
 * library's data: which home-page lists a case belongs to, its delivery
 * state (saved / reached the township / recorded by the county), times in
 * China time, percentages, and the statistics as CSV.  No widgets here, so
 * the rules are unit-tested without a display.
 *
 * Strings returned as `char *` are g_malloc'd: the caller g_free()s them.
 * `const char *` results are static or translated constants.
 *
 * Entry points: desk_format_buckets(), desk_format_delivery(),
 * desk_format_delivery_label(), desk_format_time(), desk_format_label(),
 * desk_format_percent(), desk_format_stats_csv(), desk_format_case_title().
 */
#ifndef DESK_FORMAT_H
#define DESK_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "sanji_client.h"

/* The lists of the home page; a case may be in several (bits). */
typedef enum desk_bucket {
    DESK_BUCKET_TODO = 1u << 0,        /* 待办: held here, active */
    DESK_BUCKET_IN_PROGRESS = 1u << 1, /* 在办: active, held by another level/unit */
    DESK_BUCKET_DUE_SOON = 1u << 2,    /* 即将超期: active, due within two days */
    DESK_BUCKET_OVERDUE = 1u << 3,     /* 已超期 */
    DESK_BUCKET_FEEDBACK = 1u << 4,    /* 待回访: result back, satisfaction to record */
    DESK_BUCKET_DONE = 1u << 5,        /* 已办结: closed or withdrawn */
} desk_bucket;
#define DESK_BUCKET_N 6

/* How close to the due time counts as "due soon". */
#define DESK_DUE_SOON_MS (2 * 24 * 3600 * 1000LL)

/* The buckets of case c seen from org unit my_unit at now_ms. */
unsigned desk_format_buckets(const Sanji__Case *c, const char *my_unit, int64_t now_ms);

/* Index (0..DESK_BUCKET_N-1) of a single bucket bit, and its Chinese title. */
const char *desk_format_bucket_title(unsigned index);

typedef enum desk_delivery {
    DESK_DELIVERY_NONE = 0,    /* nothing known (not from this desk, no number) */
    DESK_DELIVERY_SAVED,       /* 已保存，未送出 */
    DESK_DELIVERY_STORED,      /* 已送达乡镇 */
    DESK_DELIVERY_APPLIED,     /* 县已记录 */
    DESK_DELIVERY_REFUSED,     /* 被退回（最后一次操作被拒绝） */
} desk_delivery;

/* Delivery state of case c given the outbox rows (any order, any cases):
 * the least advanced unfinished row if there is one, else REFUSED if the
 * case's last row was refused, else APPLIED if the county numbered the case. */
desk_delivery desk_format_delivery(const Sanji__Case *c, const sc_outbox_entry *rows, size_t n);
const char *desk_format_delivery_label(desk_delivery d);

/* "2026-11-23 20:00" in China time (UTC+8); "—" for 0.  g_free(). */
char *desk_format_time(int64_t ms);

/* A library label without its English context prefix: "case status:
 * registered" -> "registered" when the catalogue has no translation. */
const char *desk_format_label(const char *label);

/* "98.5%" (one decimal); "—" when den is 0.  g_free(). */
char *desk_format_percent(unsigned num, unsigned den);

/* The statistics as CSV (UTF-8 with BOM so spreadsheet programs read the
 * Chinese; CRLF lines as RFC 4180 says): one row for the whole scope, then
 * by township, then by category.  g_free(). */
char *desk_format_stats_csv(const Sanji__Statistics *s);

/* "410423-20261123-00001 城乡低保申请" or "（待县里编号） 城乡低保申请". g_free(). */
char *desk_format_case_title(const Sanji__Case *c);

/* What another level did to a case, in one line for the banner and the
 * desktop notification: "<action>（<who>）" and what the step carries
 * that the cadre must know: the reason of a return, withdrawal, reopening
 * or closing, the result, the missing materials (and that a second list
 * breaks the one-time notice), or a remark.  g_free(). */
char *desk_format_case_change(const Sanji__CaseEvent *e);

#endif
