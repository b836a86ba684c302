/*
 * refdata.c - reference data for CatalogueSync/OrgTreeSync/PersonSync
 * (see refdata.h).
 *
 * Entry points: countyd_refdata_versions(), countyd_refdata_catalogue(),
 * countyd_refdata_org_tree(), countyd_refdata_persons(),
 * countyd_scope_prefix().
 */
#include "refdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caserow.h"
#include "db.h"
#include "orgunit.h"

void countyd_scope_prefix(const char *unit, char out[13])
{
    out[0] = '\0';
    switch (unit ? sj_orgunit_level(unit) : SJ_LEVEL_NONE) {
    case SJ_LEVEL_COUNTY: snprintf(out, 13, "%.6s", unit); break;
    case SJ_LEVEL_TOWNSHIP: snprintf(out, 13, "%.9s", unit); break;
    case SJ_LEVEL_VILLAGE: snprintf(out, 13, "%.12s", unit); break;
    default: break;
    }
}

int countyd_refdata_versions(PGconn *db, countyd_ref_versions *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    PGresult *res;
    int rc = countyd_db_query(db, "SELECT name, version FROM reference_version", 0, NULL, &res, err);
    if (rc != 0)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);
        uint64_t v = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        if (strcmp(name, "catalogue") == 0)
            out->catalogue = v;
        else if (strcmp(name, "org_tree") == 0)
            out->org_tree = v;
        else if (strcmp(name, "person") == 0)
            out->person = v;
    }
    PQclear(res);
    return 0;
}

int countyd_refdata_catalogue(PGconn *db, countyd_arena *a, const char *keyword, uint64_t version,
                              Sanji__CatalogueSync **out, sj_error *err)
{
    *out = NULL;
    PGresult *cres, *ires;
    int rc = countyd_db_query(db, "SELECT code, name FROM catalogue_category ORDER BY code", 0,
                              NULL, &cres, err);
    if (rc != 0)
        return rc;
    const char *p[] = {keyword ? keyword : ""};
    /* strpos, not LIKE: a keyword's % and _ are plain characters. */
    rc = countyd_db_query(
        db,
        "SELECT i.code, i.category, i.name, i.min_level, i.department, i.limit_days,"
        " i.urgent_limit_days, i.materials, i.active FROM catalogue_item i"
        " JOIN catalogue_category g ON g.code = i.category"
        " WHERE $1 = '' OR strpos(i.name, $1) > 0 OR strpos(g.name, $1) > 0"
        "  OR strpos(i.category, $1) > 0 OR strpos(array_to_string(i.materials, ' '), $1) > 0"
        " ORDER BY i.code",
        1, p, &ires, err);
    if (rc != 0) {
        PQclear(cres);
        return rc;
    }
    Sanji__CatalogueSync *s = countyd_arena_alloc(a, sizeof(*s));
    sanji__catalogue_sync__init(s);
    s->version = version;
    s->n_categories = (size_t)PQntuples(cres);
    s->categories = countyd_arena_alloc(a, (s->n_categories + 1) * sizeof(*s->categories));
    for (size_t i = 0; i < s->n_categories; i++) {
        Sanji__CatalogueCategory *g = countyd_arena_alloc(a, sizeof(*g));
        sanji__catalogue_category__init(g);
        g->code = countyd_arena_strdup(a, PQgetvalue(cres, (int)i, 0));
        g->name = countyd_arena_strdup(a, PQgetvalue(cres, (int)i, 1));
        s->categories[i] = g;
    }
    s->n_items = (size_t)PQntuples(ires);
    s->items = countyd_arena_alloc(a, (s->n_items + 1) * sizeof(*s->items));
    for (size_t i = 0; i < s->n_items; i++) {
        int r = (int)i;
        Sanji__CatalogueItem *it = countyd_arena_alloc(a, sizeof(*it));
        sanji__catalogue_item__init(it);
        it->code = countyd_arena_strdup(a, PQgetvalue(ires, r, 0));
        it->category = countyd_arena_strdup(a, PQgetvalue(ires, r, 1));
        it->name = countyd_arena_strdup(a, PQgetvalue(ires, r, 2));
        it->min_level = (Sanji__Level)atoi(PQgetvalue(ires, r, 3));
        it->department = countyd_arena_strdup(a, PQgetvalue(ires, r, 4));
        it->limit_days = (uint32_t)atoi(PQgetvalue(ires, r, 5));
        it->urgent_limit_days = (uint32_t)atoi(PQgetvalue(ires, r, 6));
        it->materials = countyd_caserow_text_array(a, PQgetvalue(ires, r, 7), &it->n_materials);
        it->active = PQgetvalue(ires, r, 8)[0] == 't';
        s->items[i] = it;
    }
    PQclear(cres);
    PQclear(ires);
    *out = s;
    return 0;
}

/* $1 the scope prefix, $2 the county and $3 the township above it. */
static void scope_params(const char *unit, char prefix[13], char county[13], char township[13])
{
    countyd_scope_prefix(unit, prefix);
    county[0] = township[0] = '\0';
    if (sj_orgunit_level(unit) != SJ_LEVEL_NONE) {
        if (sj_orgunit_county_of(unit, county) != 0)
            snprintf(county, 13, "%s", unit);
        if (sj_orgunit_township_of(unit, township) != 0)
            township[0] = '\0';
    }
}

int countyd_refdata_org_tree(PGconn *db, countyd_arena *a, const char *unit, uint64_t version,
                             Sanji__OrgTreeSync **out, sj_error *err)
{
    *out = NULL;
    char prefix[13], county[13], township[13];
    scope_params(unit, prefix, county, township);
    const char *p[] = {prefix, county, township};
    PGresult *res;
    int rc = countyd_db_query(db,
                              "SELECT code, name, level, coalesce(parent, '') FROM org_unit"
                              " WHERE ($1 <> '' AND left(code, length($1)) = $1)"
                              "  OR code = $2 OR code = $3 ORDER BY code",
                              3, p, &res, err);
    if (rc != 0)
        return rc;
    Sanji__OrgTreeSync *s = countyd_arena_alloc(a, sizeof(*s));
    sanji__org_tree_sync__init(s);
    s->version = version;
    s->n_units = (size_t)PQntuples(res);
    s->units = countyd_arena_alloc(a, (s->n_units + 1) * sizeof(*s->units));
    for (size_t i = 0; i < s->n_units; i++) {
        Sanji__OrgUnit *u = countyd_arena_alloc(a, sizeof(*u));
        sanji__org_unit__init(u);
        u->code = countyd_arena_strdup(a, PQgetvalue(res, (int)i, 0));
        u->name = countyd_arena_strdup(a, PQgetvalue(res, (int)i, 1));
        u->level = (Sanji__Level)atoi(PQgetvalue(res, (int)i, 2));
        u->parent = countyd_arena_strdup(a, PQgetvalue(res, (int)i, 3));
        s->units[i] = u;
    }
    PQclear(res);
    *out = s;
    return 0;
}

int countyd_refdata_persons(PGconn *db, countyd_arena *a, const char *unit, uint64_t version,
                            Sanji__PersonSync **out, sj_error *err)
{
    *out = NULL;
    char prefix[13], county[13], township[13];
    scope_params(unit, prefix, county, township);
    const char *p[] = {prefix};
    PGresult *res;
    int rc = countyd_db_query(db,
                              "SELECT id, name, role, org_unit, verifier, active FROM person"
                              " WHERE $1 <> '' AND left(org_unit, length($1)) = $1 ORDER BY id",
                              1, p, &res, err);
    if (rc != 0)
        return rc;
    Sanji__PersonSync *s = countyd_arena_alloc(a, sizeof(*s));
    sanji__person_sync__init(s);
    s->version = version;
    s->n_persons = (size_t)PQntuples(res);
    s->persons = countyd_arena_alloc(a, (s->n_persons + 1) * sizeof(*s->persons));
    for (size_t i = 0; i < s->n_persons; i++) {
        int r = (int)i;
        Sanji__Person *x = countyd_arena_alloc(a, sizeof(*x));
        sanji__person__init(x);
        x->id = countyd_arena_strdup(a, PQgetvalue(res, r, 0));
        x->name = countyd_arena_strdup(a, PQgetvalue(res, r, 1));
        x->role = (Sanji__PersonRole)atoi(PQgetvalue(res, r, 2));
        x->org_unit = countyd_arena_strdup(a, PQgetvalue(res, r, 3));
        x->verifier = countyd_arena_strdup(a, PQgetvalue(res, r, 4));
        x->active = PQgetvalue(res, r, 5)[0] == 't';
        s->persons[i] = x;
    }
    PQclear(res);
    *out = s;
    return 0;
}
