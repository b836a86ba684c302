/*
 * refdata.c - reference data for CatalogueSync/OrgTreeSync/PersonSync
 * (see refdata.h).
 *
 * The apply cache keeps each set as one array sorted by key and finds rows
 * by binary search: a county has a few thousand persons and a few hundred
 * items, loaded again only when an import changes them.
 *
 * Entry points: countyd_refdata_versions(), countyd_refdata_catalogue(),
 * countyd_refdata_org_tree(), countyd_refdata_persons(),
 * countyd_scope_prefix(), countyd_refdata_cache_init(),
 * countyd_refdata_cache_free(), countyd_refdata_cache_refresh(),
 * countyd_refdata_cache_person(), countyd_refdata_cache_item(),
 * countyd_refdata_cache_department().
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
        else if (strcmp(name, "duty") == 0)
            out->duty = v;
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
    /* Every scope gets every department: a station shows where its case
     * went, a county desk dispatches to one of them. */
    rc = countyd_db_query(db,
                          "SELECT d.code, d.name, d.active, coalesce((SELECT array_agg(i.code"
                          " ORDER BY i.code) FROM catalogue_item i WHERE i.department = d.name),"
                          " '{}') FROM department d ORDER BY d.code",
                          0, NULL, &res, err);
    if (rc != 0)
        return rc;
    s->n_departments = (size_t)PQntuples(res);
    s->departments = countyd_arena_alloc(a, (s->n_departments + 1) * sizeof(*s->departments));
    for (size_t i = 0; i < s->n_departments; i++) {
        int r = (int)i;
        Sanji__Department *d = countyd_arena_alloc(a, sizeof(*d));
        sanji__department__init(d);
        d->code = countyd_arena_strdup(a, PQgetvalue(res, r, 0));
        d->name = countyd_arena_strdup(a, PQgetvalue(res, r, 1));
        d->active = PQgetvalue(res, r, 2)[0] == 't';
        d->item_codes = countyd_caserow_text_array(a, PQgetvalue(res, r, 3), &d->n_item_codes);
        s->departments[i] = d;
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
                              "SELECT id, name, role, org_unit, verifier, active, department,"
                              " stand_in, must_change_password FROM person"
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
        x->department = countyd_arena_strdup(a, PQgetvalue(res, r, 6));
        x->stand_in = countyd_arena_strdup(a, PQgetvalue(res, r, 7));
        x->must_change_password = PQgetvalue(res, r, 8)[0] == 't';
        s->persons[i] = x;
    }
    PQclear(res);
    *out = s;
    return 0;
}

int countyd_refdata_duty(PGconn *db, countyd_arena *a, const char *unit, uint64_t version,
                         Sanji__DutySync **out, sj_error *err)
{
    *out = NULL;
    char prefix[13];
    countyd_scope_prefix(unit, prefix);
    const char *p[] = {prefix};
    PGresult *res;
    /* From yesterday (China time) on, two months at most: what a station
     * shows, in a message of bounded size. */
    int rc = countyd_db_query(db,
                              "SELECT d.org_unit, d.day::text, d.person, p.name FROM duty_roster d"
                              " JOIN person p ON p.id = d.person"
                              " WHERE $1 <> '' AND left(d.org_unit, length($1)) = $1"
                              " AND d.day >= (now() AT TIME ZONE 'Asia/Shanghai')::date - 1"
                              " AND d.day <= (now() AT TIME ZONE 'Asia/Shanghai')::date + 62"
                              " ORDER BY d.day, d.org_unit, d.person",
                              1, p, &res, err);
    if (rc != 0)
        return rc;
    Sanji__DutySync *s = countyd_arena_alloc(a, sizeof(*s));
    sanji__duty_sync__init(s);
    s->version = version;
    s->n_entries = (size_t)PQntuples(res);
    s->entries = countyd_arena_alloc(a, (s->n_entries + 1) * sizeof(*s->entries));
    for (size_t i = 0; i < s->n_entries; i++) {
        int r = (int)i;
        Sanji__DutyEntry *x = countyd_arena_alloc(a, sizeof(*x));
        sanji__duty_entry__init(x);
        x->org_unit = countyd_arena_strdup(a, PQgetvalue(res, r, 0));
        x->day = countyd_arena_strdup(a, PQgetvalue(res, r, 1));
        x->person = countyd_arena_strdup(a, PQgetvalue(res, r, 2));
        x->person_name = countyd_arena_strdup(a, PQgetvalue(res, r, 3));
        s->entries[i] = x;
    }
    PQclear(res);
    *out = s;
    return 0;
}

/* --- the apply cache -------------------------------------------------------- */

void countyd_refdata_cache_init(countyd_refdata_cache *c)
{
    memset(c, 0, sizeof(*c));
}

static void free_persons(countyd_ref_person *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].id);
        free(p[i].name);
    }
    free(p);
}

static void free_items(countyd_ref_item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(it[i].code);
        free(it[i].name);
    }
    free(it);
}

static void free_departments(countyd_ref_department *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].code);
        free(d[i].name);
    }
    free(d);
}

void countyd_refdata_cache_free(countyd_refdata_cache *c)
{
    free_persons(c->persons, c->n_persons);
    free_items(c->items, c->n_items);
    free_departments(c->departments, c->n_departments);
    unsigned reloads = c->reloads;
    memset(c, 0, sizeof(*c));
    c->reloads = reloads;
}

static int cmp_person(const void *x, const void *y)
{
    return strcmp(((const countyd_ref_person *)x)->id, ((const countyd_ref_person *)y)->id);
}

static int cmp_item(const void *x, const void *y)
{
    return strcmp(((const countyd_ref_item *)x)->code, ((const countyd_ref_item *)y)->code);
}

static int cmp_department(const void *x, const void *y)
{
    return strcmp(((const countyd_ref_department *)x)->code,
                  ((const countyd_ref_department *)y)->code);
}

static int load_departments(PGconn *db, countyd_ref_department **out, size_t *n_out,
                            sj_error *err)
{
    PGresult *res;
    int rc = countyd_db_query(db, "SELECT code, name, active FROM department", 0, NULL, &res,
                              err);
    if (rc != 0)
        return rc;
    size_t n = (size_t)PQntuples(res);
    countyd_ref_department *d = calloc(n + 1, sizeof(*d));
    if (!d) {
        PQclear(res);
        return sj_error_set(err, SJ_ENOMEM, "out of memory loading %zu departments", n);
    }
    for (size_t i = 0; i < n; i++) {
        int r = (int)i;
        d[i].code = strdup(PQgetvalue(res, r, 0));
        d[i].name = strdup(PQgetvalue(res, r, 1));
        if (!d[i].code || !d[i].name) {
            free_departments(d, i + 1);
            PQclear(res);
            return sj_error_set(err, SJ_ENOMEM, "out of memory loading %zu departments", n);
        }
        d[i].active = PQgetvalue(res, r, 2)[0] == 't';
    }
    PQclear(res);
    qsort(d, n, sizeof(*d), cmp_department);
    *out = d;
    *n_out = n;
    return 0;
}

static int load_persons(PGconn *db, countyd_ref_person **out, size_t *n_out, sj_error *err)
{
    PGresult *res;
    int rc = countyd_db_query(db, "SELECT id, name, role, org_unit, active, department FROM person",
                              0, NULL, &res, err);
    if (rc != 0)
        return rc;
    size_t n = (size_t)PQntuples(res);
    countyd_ref_person *p = calloc(n + 1, sizeof(*p));
    if (!p) {
        PQclear(res);
        return sj_error_set(err, SJ_ENOMEM, "out of memory loading %zu persons", n);
    }
    for (size_t i = 0; i < n; i++) {
        int r = (int)i;
        p[i].id = strdup(PQgetvalue(res, r, 0));
        p[i].name = strdup(PQgetvalue(res, r, 1));
        if (!p[i].id || !p[i].name) {
            free_persons(p, i + 1);
            PQclear(res);
            return sj_error_set(err, SJ_ENOMEM, "out of memory loading %zu persons", n);
        }
        p[i].role = atoi(PQgetvalue(res, r, 2));
        snprintf(p[i].org_unit, sizeof(p[i].org_unit), "%s", PQgetvalue(res, r, 3));
        p[i].active = PQgetvalue(res, r, 4)[0] == 't';
        snprintf(p[i].department, sizeof(p[i].department), "%s", PQgetvalue(res, r, 5));
    }
    PQclear(res);
    qsort(p, n, sizeof(*p), cmp_person);
    *out = p;
    *n_out = n;
    return 0;
}

static int load_items(PGconn *db, countyd_ref_item **out, size_t *n_out, sj_error *err)
{
    PGresult *res;
    int rc = countyd_db_query(db,
                              "SELECT code, name, min_level, limit_days, urgent_limit_days, active"
                              " FROM catalogue_item",
                              0, NULL, &res, err);
    if (rc != 0)
        return rc;
    size_t n = (size_t)PQntuples(res);
    countyd_ref_item *it = calloc(n + 1, sizeof(*it));
    if (!it) {
        PQclear(res);
        return sj_error_set(err, SJ_ENOMEM, "out of memory loading %zu catalogue items", n);
    }
    for (size_t i = 0; i < n; i++) {
        int r = (int)i;
        it[i].code = strdup(PQgetvalue(res, r, 0));
        it[i].name = strdup(PQgetvalue(res, r, 1));
        if (!it[i].code || !it[i].name) {
            free_items(it, i + 1);
            PQclear(res);
            return sj_error_set(err, SJ_ENOMEM, "out of memory loading %zu catalogue items", n);
        }
        it[i].min_level = atoi(PQgetvalue(res, r, 2));
        it[i].limit_days = atoi(PQgetvalue(res, r, 3));
        it[i].urgent_limit_days = atoi(PQgetvalue(res, r, 4));
        it[i].active = PQgetvalue(res, r, 5)[0] == 't';
    }
    PQclear(res);
    qsort(it, n, sizeof(*it), cmp_item);
    *out = it;
    *n_out = n;
    return 0;
}

int countyd_refdata_cache_refresh(countyd_refdata_cache *c, PGconn *db, sj_error *err)
{
    countyd_ref_versions v;
    int rc = countyd_refdata_versions(db, &v, err);
    if (rc != 0)
        return rc;
    /* The versions are read before the rows: if an import commits in
     * between, the rows are newer than the version kept, and the next
     * refresh loads them once more; never the other way round. */
    if (!c->loaded || v.person != c->person_version) {
        countyd_ref_person *p = NULL;
        size_t n = 0;
        if ((rc = load_persons(db, &p, &n, err)) != 0)
            return rc;
        free_persons(c->persons, c->n_persons);
        c->persons = p;
        c->n_persons = n;
        c->person_version = v.person;
        c->reloads++;
    }
    if (!c->loaded || v.catalogue != c->catalogue_version) {
        countyd_ref_item *it = NULL;
        size_t n = 0;
        if ((rc = load_items(db, &it, &n, err)) != 0)
            return rc;
        free_items(c->items, c->n_items);
        c->items = it;
        c->n_items = n;
        c->catalogue_version = v.catalogue;
        c->reloads++;
    }
    if (!c->loaded || v.org_tree != c->org_tree_version) {
        countyd_ref_department *d = NULL;
        size_t n = 0;
        if ((rc = load_departments(db, &d, &n, err)) != 0)
            return rc;
        free_departments(c->departments, c->n_departments);
        c->departments = d;
        c->n_departments = n;
        c->org_tree_version = v.org_tree;
    }
    c->loaded = true;
    return 0;
}

const countyd_ref_person *countyd_refdata_cache_person(const countyd_refdata_cache *c,
                                                       const char *id)
{
    if (!c->persons || !id)
        return NULL;
    countyd_ref_person key = {.id = (char *)id};
    return bsearch(&key, c->persons, c->n_persons, sizeof(key), cmp_person);
}

const countyd_ref_item *countyd_refdata_cache_item(const countyd_refdata_cache *c,
                                                   const char *code)
{
    if (!c->items || !code)
        return NULL;
    countyd_ref_item key = {.code = (char *)code};
    return bsearch(&key, c->items, c->n_items, sizeof(key), cmp_item);
}

const countyd_ref_department *countyd_refdata_cache_department(const countyd_refdata_cache *c,
                                                               const char *code)
{
    if (!c->departments || !code)
        return NULL;
    countyd_ref_department key = {.code = (char *)code};
    return bsearch(&key, c->departments, c->n_departments, sizeof(key), cmp_department);
}
