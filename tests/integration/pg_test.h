/*
 * pg_test.h - helpers for integration tests against the private PostgreSQL
 * cluster that the ctest fixture "pg" starts (tests/lib/pg_cluster.sh, see
 * tests/integration/CMakeLists.txt).
 *
 * Each test program makes its own fresh database in that cluster, so tests
 * may run in parallel and never see each other's rows.
 *
 * Ownership: pgt_fresh_db() returns a connection the caller closes with
 * PQfinish(); pgt_* query helpers return malloc'ed strings the caller frees.
 *
 * Entry points: pgt_conninfo(), pgt_fresh_db(), pgt_scalar(), pgt_count(),
 * pgt_exec().
 */
#ifndef PGT_PG_TEST_H
#define PGT_PG_TEST_H

#include <stddef.h>

#include <libpq-fe.h>

/* Writes a conninfo for database `name` (created afresh, dropped first if
 * it exists) into out; aborts the test program when the cluster is not
 * there (the fixture did not run).  Returns a connection to it. */
PGconn *pgt_fresh_db(const char *name, char *out, size_t cap);

/* First column of the first row of a parameterless query, malloc'ed;
 * NULL for SQL NULL or no rows.  Fails the test on a database error. */
char *pgt_scalar(PGconn *db, const char *sql);

/* SELECT count(*) FROM <from_where>, e.g. pgt_count(db, "cases"). */
long pgt_count(PGconn *db, const char *from_where);

/* Runs a parameterless statement; fails the test on error. */
void pgt_exec(PGconn *db, const char *sql);

#endif
