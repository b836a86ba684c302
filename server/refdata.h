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
 * The apply cache (countyd_refdata_cache): the persons and catalogue items
 * the apply path checks for every message, held in memory by the county
 * so that a message costs no lookup of them.  They change only by
 * `sanji-countyd import` / `demo-load` (other processes), which raise
 * reference_version in the same transaction; countyd_refdata_cache_refresh()
 * reads those versions (one statement) and reloads a set whose version
 * moved.  The apply path calls it once per batch, so the first batch that
 * starts after an import has committed sees the import.  A change made to
 * these tables by hand must raise reference_version too, or the county
 * keeps serving the old rows.
 *
 * Entry points: countyd_refdata_versions(), countyd_refdata_catalogue(),
 * countyd_refdata_org_tree(), countyd_refdata_persons(), countyd_refdata_duty(),
 * countyd_scope_prefix(), countyd_refdata_cache_init(),
 * countyd_refdata_cache_free(), countyd_refdata_cache_refresh(),
 * countyd_refdata_cache_person(), countyd_refdata_cache_item(),
 * countyd_refdata_cache_department().
 *
 * Departments (docs/DATA.md "Departments") are part of the org tree: an
 * import of departments raises the org tree's version.
 */
#ifndef COUNTYD_REFDATA_H
#define COUNTYD_REFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "arena.h"
#include "err.h"
#include "sanji.pb-c.h"

typedef struct countyd_ref_versions {
    uint64_t catalogue, org_tree, person, duty;
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

/* Org units in the scope of unit, plus the units above it, and the
 * county's departments (with the catalogue items each owns). */
int countyd_refdata_org_tree(PGconn *db, countyd_arena *a, const char *unit, uint64_t version,
                             Sanji__OrgTreeSync **out, sj_error *err);

/* Persons of the scope of unit, with their verifiers. */
int countyd_refdata_persons(PGconn *db, countyd_arena *a, const char *unit, uint64_t version,
                            Sanji__PersonSync **out, sj_error *err);

/* The duty roster (值班表) of the scope of unit, from yesterday (China
 * time) for two months, with the persons' names. */
int countyd_refdata_duty(PGconn *db, countyd_arena *a, const char *unit, uint64_t version,
                         Sanji__DutySync **out, sj_error *err);

/* One person as the apply path needs it. */
typedef struct countyd_ref_person {
    char *id, *name;
    int role;          /* sj_person_role */
    char org_unit[13];
    char department[32]; /* DEPARTMENT_STAFF: the department's code */
    bool active;
} countyd_ref_person;

/* One department as the apply path needs it (DISPATCH). */
typedef struct countyd_ref_department {
    char *code, *name;
    bool active;
} countyd_ref_department;

/* One catalogue item as the apply path needs it. */
typedef struct countyd_ref_item {
    char *code, *name;
    int min_level;     /* sj_level */
    int limit_days, urgent_limit_days;
    bool active;
} countyd_ref_item;

/* The apply cache (see the top of this file).  Embedded by value in its
 * owner; zero-initialised (or countyd_refdata_cache_init()) it is empty and
 * loads everything on the first refresh.  countyd_refdata_cache_free()
 * frees the rows and leaves it empty and reusable. */
typedef struct countyd_refdata_cache {
    bool loaded;
    uint64_t person_version, catalogue_version, org_tree_version;
    countyd_ref_person *persons;  /* sorted by id (strcmp) */
    size_t n_persons;
    countyd_ref_item *items;      /* sorted by code (strcmp) */
    size_t n_items;
    countyd_ref_department *departments; /* sorted by code (strcmp); with the org tree */
    size_t n_departments;
    unsigned reloads;             /* how many sets were (re)loaded: for tests */
} countyd_refdata_cache;

void countyd_refdata_cache_init(countyd_refdata_cache *c);
void countyd_refdata_cache_free(countyd_refdata_cache *c);

/* Reads reference_version and reloads the persons and/or the catalogue
 * items if their version differs from the one loaded.  Returns 0, or
 * SJ_EDB/SJ_EDB_CONN/SJ_ENOMEM with the cache left as it was (still
 * consistent, possibly old). */
int countyd_refdata_cache_refresh(countyd_refdata_cache *c, PGconn *db, sj_error *err);

/* The person with this id (active or not), or NULL.  Valid until the next
 * refresh or free. */
const countyd_ref_person *countyd_refdata_cache_person(const countyd_refdata_cache *c,
                                                       const char *id);

/* The catalogue item with this code (active or not), or NULL.  Valid until
 * the next refresh or free. */
const countyd_ref_item *countyd_refdata_cache_item(const countyd_refdata_cache *c,
                                                   const char *code);

/* The department with this code (active or not), or NULL.  Valid until the
 * next refresh or free. */
const countyd_ref_department *countyd_refdata_cache_department(const countyd_refdata_cache *c,
                                                               const char *code);

#endif
