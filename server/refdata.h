/*
 * refdata.h - the reference data pushed downward at session start
 * (PROTOCOL.md: CatalogueSync, OrgTreeSync, PersonSync) and the scope
 * prefixes every scoped read of the county uses.
 *
 * Versions: the counters of table reference_version, raised by every
 * import that really changes a set (import.c).  A peer that holds another
 * version (0: none) gets the whole set again, limited to its scope.
 *
 * Scope: a unit contains every unit whose code starts with its significant
 * prefix (orgunit.h): 6 digits for a county, 9 for a township, 12 for a
 * village.  The org tree sent to a scope also holds the units above it
 * (county, township) so that the receiver's tree has its root.
 *
 * Ownership: the messages come from the caller's arena.
 *
 * Entry points: countyd_refdata_versions(), countyd_refdata_catalogue(),
 * countyd_refdata_org_tree(), countyd_refdata_persons(),
 * countyd_scope_prefix().
 */
#ifndef COUNTYD_REFDATA_H
#define COUNTYD_REFDATA_H

#include <stdint.h>

#include <libpq-fe.h>

#include "arena.h"
#include "err.h"
#include "sanji.pb-c.h"

typedef struct countyd_ref_versions {
    uint64_t catalogue, org_tree, person;
} countyd_ref_versions;

/* Writes the significant prefix of a valid unit code into out (13 bytes);
 * "" for an invalid code (which then matches nothing). */
void countyd_scope_prefix(const char *unit, char out[13]);

int countyd_refdata_versions(PGconn *db, countyd_ref_versions *out, sj_error *err);

/* The catalogue; keyword (NULL or "" for all) narrows the items to those
 * whose name, category name or materials contain it.  Categories are
 * always all. */
int countyd_refdata_catalogue(PGconn *db, countyd_arena *a, const char *keyword, uint64_t version,
                              Sanji__CatalogueSync **out, sj_error *err);

/* Org units in the scope of unit, plus the units above it. */
int countyd_refdata_org_tree(PGconn *db, countyd_arena *a, const char *unit, uint64_t version,
                             Sanji__OrgTreeSync **out, sj_error *err);

/* Persons of the scope of unit, with their verifiers. */
int countyd_refdata_persons(PGconn *db, countyd_arena *a, const char *unit, uint64_t version,
                            Sanji__PersonSync **out, sj_error *err);

#endif
