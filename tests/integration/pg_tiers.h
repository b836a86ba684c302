/*
 * pg_tiers.h - a whole network (tests/lib/tiers.h) whose county works on a
 * fresh database of the fixture's cluster (pg_test.h), with a station's
 * person logged in: the set-up of the end-to-end tests that then look at
 * both what the station says and what PostgreSQL holds.
 *
 * Ownership: pgt_tiers_up() fills caller storage; pgt_tiers_down() stops
 * the processes and closes the connection, whatever part of the set-up
 * succeeded.
 *
 * Entry points: pgt_tiers_up(), pgt_tiers_down().
 */
#ifndef PGT_PG_TIERS_H
#define PGT_PG_TIERS_H

#include <libpq-fe.h>

#include "tiers.h"

typedef struct pgt_tiers {
    sj_test_tiers t;
    char conninfo[1024];
    PGconn *db;        /* the county's database, for the test's own queries */
} pgt_tiers;

/* Makes database `dbname` afresh, then starts the network on it with the
 * station's person logged in (sj_test_tiers_up_logged_in()).  Returns 0,
 * or -1 after saying what failed (for a cmocka group set-up). */
int pgt_tiers_up(pgt_tiers *w, const char *dbname, const char *station, const char *person);

/* Stops the network (sj_test_tiers_finish(), keeping its folder when the
 * environment variable keep_var is set) and closes the connection.
 * Returns what sj_test_tiers_finish() returned. */
int pgt_tiers_down(pgt_tiers *w, const char *keep_var);

#endif
