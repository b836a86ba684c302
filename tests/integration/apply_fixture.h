/*
 * apply_fixture.h - a county database ready for the apply path, for the
 * integration tests that drive server/apply.c directly (test_server_apply,
 * test_server_clock): a fresh database in the fixture's cluster
 * (pg_test.h), migrated, with a small county of two townships and three
 * villages, three catalogue items, two departments (and an inactive one),
 * one person per unit and department, the test's own holidays, and the
 * clock faked to the test's start.
 *
 *   county 410423000000 鲁山县 (person co, 县员, operator)
 *     township 410423101000 张官营镇 (tx)   villages 410423101201 甲村 (pa),
 *                                                    410423101202 乙村 (pb)
 *     township 410423102000 下汤镇 (ty)     village  410423102201 丙村
 *   items V-1 咨询 (village, 1 day), T-1 证明 (township, 5/2 days),
 *         C-1 低保 (county, 20/10 days), category MZ
 *   departments mzj 县民政局 (dm), rsj 县人社局 (dr), old 县老干局 (inactive)
 *
 * Ownership: aft_open() fills caller storage that aft_close() releases.
 *
 * Entry points: aft_open(), aft_close(), aft_case_id(), aft_msg(),
 * aft_run1(), aft_applied(), aft_register().
 */
#ifndef AFT_APPLY_FIXTURE_H
#define AFT_APPLY_FIXTURE_H

#include <stdint.h>

#include <libpq-fe.h>

#include "apply.h"
#include "personal.h"

#define AFT_VA "410423101201" /* village A, township X */
#define AFT_VB "410423101202" /* village B, township X */
#define AFT_VC "410423102201" /* village C, township Y */
#define AFT_TX "410423101000"
#define AFT_TY "410423102000"
#define AFT_CO "410423000000"

typedef struct aft_county {
    PGconn *db;
    countyd_apply ap;
    char conninfo[1024];
    uint8_t next_mid;                      /* last message id handed out by aft_msg() */
    char id_number[SJ_PERSONAL_ID_SIZE];   /* a valid ID number for applicants */
} aft_county;

/* Makes database <prefix>_<pid>_<n>, migrates and fills it, inserts the
 * holidays given as SQL VALUES rows ("('2026-05-01', 'holiday', '劳动节')",
 * NULL: none), runs the test's own extra_sql on the county (NULL: none;
 * before the apply path reads the persons and items), fakes the clock to
 * now_ms and opens the apply path.  Fails the test on any error. */
void aft_open(aft_county *f, const char *prefix, const char *holiday_values,
              const char *extra_sql, int64_t now_ms);

/* Closes the apply path and the connection; the clock is real again. */
void aft_close(aft_county *f);

/* Case id number n: a fixed UUIDv7-shaped id whose last byte is n, i.e.
 * '01000000-0000-7000-0000-0000000000<n in hex>' in PostgreSQL. */
void aft_case_id(uint8_t out[16], int n);

/* A message from peer with the next message id. */
countyd_apply_msg aft_msg(aft_county *f, const countyd_peer *peer, const Sanji__CaseSubmit *s,
                          const Sanji__CaseAction *a);

/* Applies one message alone; fails the test when the batch fails. */
countyd_apply_result aft_run1(aft_county *f, const countyd_apply_msg *m);

/* Applies s or a from peer alone; fails the test unless it was APPLIED. */
void aft_applied(aft_county *f, const countyd_peer *peer, const Sanji__CaseSubmit *s,
                 const Sanji__CaseAction *a);

/* Registers case n (aft_case_id()) of item at peer's village station by
 * person, for applicant, at the business time when (the clock is faked to
 * it); fails the test unless it was APPLIED. */
void aft_register(aft_county *f, int n, const countyd_peer *peer, const char *person,
                  const char *item, const char *applicant, int64_t when);

#endif
