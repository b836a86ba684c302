/*
 * sc_refdata.c - the client's reference data: the catalogue, the org tree,
 * the person list and the duty roster the county syncs down, kept in the
 * store and cached in the client (sanji_client.h "reference data"); the
 * look-ups on them (persons of this node, catalogue items and search).
 *
 * Entry points: sc_catalogue*(), sc_person*(), sc_unit_name(),
 * sc_item_department(), sc_org_tree(), sc_duty(); inside the library the
 * sc_ref_* functions of sanji_client_private.h.
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_pb.h"
#include "log.h"
#include "utf8.h"

sj_person_role sc_ref_role_for_node(sj_node_role r)
{
    switch (r) {
    case SJ_NODE_ROLE_VILLAGE: return SJ_ROLE_VILLAGE_CADRE;
    case SJ_NODE_ROLE_TOWNSHIP_DESK: return SJ_ROLE_TOWNSHIP_STAFF;
    case SJ_NODE_ROLE_COUNTY_DESK: return SJ_ROLE_COUNTY_OPERATOR;
    case SJ_NODE_ROLE_DEPARTMENT_DESK: return SJ_ROLE_DEPARTMENT_STAFF;
    default: return SJ_ROLE_NONE;
    }
}

void sc_ref_load(sc_client *c, const char *kind)
{
    uint64_t version = 0;
    uint8_t *data = NULL;
    size_t len = 0;
    if (sc_store_ref_get(c->st, kind, &version, &data, &len, NULL) != 0)
        return;
    if (strcmp(kind, "catalogue") == 0) {
        Sanji__CatalogueSync *m = sanji__catalogue_sync__unpack(NULL, len, data);
        if (m) {
            if (c->catalogue)
                sanji__catalogue_sync__free_unpacked(c->catalogue, NULL);
            c->catalogue = m;
            c->catalogue_version = version;
        }
    } else if (strcmp(kind, "org_tree") == 0) {
        Sanji__OrgTreeSync *m = sanji__org_tree_sync__unpack(NULL, len, data);
        if (m) {
            if (c->org_tree)
                sanji__org_tree_sync__free_unpacked(c->org_tree, NULL);
            c->org_tree = m;
            c->org_tree_version = version;
        }
    } else if (strcmp(kind, "duty") == 0) {
        Sanji__DutySync *m = sanji__duty_sync__unpack(NULL, len, data);
        if (m) {
            if (c->duty)
                sanji__duty_sync__free_unpacked(c->duty, NULL);
            c->duty = m;
        }
    } else {
        Sanji__PersonSync *m = sanji__person_sync__unpack(NULL, len, data);
        if (m) {
            if (c->persons)
                sanji__person_sync__free_unpacked(c->persons, NULL);
            c->persons = m;
            c->person_version = version;
        }
    }
    free(data);
}

const Sanji__CatalogueItem *sc_catalogue_item(const sc_client *c, const char *code)
{
    if (!c->catalogue || !code)
        return NULL;
    for (size_t i = 0; i < c->catalogue->n_items; i++)
        if (strcmp(nz(c->catalogue->items[i]->code), code) == 0)
            return c->catalogue->items[i];
    return NULL;
}

const Sanji__Person *sc_ref_person_by_id(const sc_client *c, const char *id)
{
    if (!c->persons || !id || !*id)
        return NULL;
    for (size_t i = 0; i < c->persons->n_persons; i++)
        if (strcmp(nz(c->persons->persons[i]->id), id) == 0)
            return c->persons->persons[i];
    return NULL;
}

/* A person who may log in at this node: same org unit, the role of this
 * node, active. */
/* A department desk's staff are those of its department (the identity's
 * name, identity.h); other persons have no department. */
/* A person of this node whether active or not (a deactivated one is told
 * so at login, sc_login()). */
bool sc_ref_person_of_node(const sc_client *c, const Sanji__Person *p)
{
    const char *department = c->node.role == SJ_NODE_ROLE_DEPARTMENT_DESK ? c->node.name : "";
    return p && strcmp(nz(p->org_unit), c->node.unit) == 0 &&
           (sj_person_role)p->role == sc_ref_role_for_node(c->node.role) &&
           strcmp(nz(p->department), department) == 0;
}

bool sc_ref_person_fits(const sc_client *c, const Sanji__Person *p)
{
    return p && p->active && sc_ref_person_of_node(c, p);
}

const Sanji__Person *sc_person(const sc_client *c)
{
    const Sanji__Person *p = sc_ref_person_by_id(c, c->person_id);
    return sc_ref_person_fits(c, p) ? p : NULL;
}

int sc_persons(const sc_client *c, sc_person_entry **out, size_t *n, sj_error *err)
{
    *out = NULL;
    *n = 0;
    size_t count = 0;
    for (size_t i = 0; c->persons && i < c->persons->n_persons; i++)
        count += sc_ref_person_fits(c, c->persons->persons[i]);
    if (count == 0)
        return 0;
    sc_person_entry *v = calloc(count, sizeof(*v));
    if (!v)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    size_t k = 0;
    for (size_t i = 0; i < c->persons->n_persons; i++) {
        const Sanji__Person *p = c->persons->persons[i];
        if (!sc_ref_person_fits(c, p))
            continue;
        v[k].id = nz(p->id);
        v[k].name = nz(p->name);
        v[k].role = (sj_person_role)p->role;
        v[k].stand_in = nz(p->stand_in);
        k++;
    }
    *out = v;
    *n = k;
    return 0;
}

const sj_identity *sc_client_node(const sc_client *c)
{
    return &c->node;
}

const char *sc_unit_name(const sc_client *c, const char *code)
{
    for (size_t i = 0; code && c->org_tree && i < c->org_tree->n_units; i++) {
        const Sanji__OrgUnit *u = c->org_tree->units[i];
        if (u->code && strcmp(u->code, code) == 0)
            return u->name && *u->name ? u->name : NULL;
    }
    return NULL;
}

const Sanji__CatalogueSync *sc_catalogue(const sc_client *c)
{
    return c->catalogue;
}

const Sanji__Department *sc_item_department(const sc_client *c, const char *item_code)
{
    for (size_t i = 0; item_code && c->org_tree && i < c->org_tree->n_departments; i++) {
        const Sanji__Department *d = c->org_tree->departments[i];
        for (size_t k = 0; d->active && k < d->n_item_codes; k++)
            if (strcmp(nz(d->item_codes[k]), item_code) == 0)
                return d;
    }
    return NULL;
}

const Sanji__OrgTreeSync *sc_org_tree(const sc_client *c)
{
    return c->org_tree;
}

const Sanji__DutySync *sc_duty(const sc_client *c)
{
    return c->duty;
}

/* The state machine's view of a case record (borrowing its text).  An item
 * this node does not know counts as finishable at the county only; the
 * county decides anyway. */
void sc_ref_case_view(const sc_client *c, const Sanji__Case *p, sj_case *o)
{
    const Sanji__CatalogueItem *it = sc_catalogue_item(c, p->item_code);
    sj_case_pb_to_case(p, it ? (sj_level)it->min_level : SJ_LEVEL_COUNTY, o);
}

void sc_ref_on_sync(sc_client *c, const char *kind, uint64_t version, const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    sj_error err;
    if (!buf)
        return;
    protobuf_c_message_pack(m, buf);
    if (sc_store_ref_put(c->st, kind, version, buf, len, &err) != 0)
        SJ_LOG_WARN(MOD, "reference data not stored", "kind", kind, "error", err.message);
    else
        sc_ref_load(c, kind);
    if (strcmp(kind, "persons") == 0)
        sc_password_settle(c);
    free(buf);
    sc_event ev = {.type = SC_EV_REFDATA, .kind = kind};
    sc_client_emit(c, &ev);
}

static const char *category_name(const sc_client *c, const char *code)
{
    for (size_t i = 0; i < c->catalogue->n_categories; i++)
        if (strcmp(nz(c->catalogue->categories[i]->code), nz(code)) == 0)
            return nz(c->catalogue->categories[i]->name);
    return "";
}

/* How well an item matches a keyword, best first; CATALOGUE_NO_MATCH when
 * it does not.  A cadre who types 户口 wants 户口迁移, not every item whose
 * materials list a 户口簿. */
enum {
    CATALOGUE_BY_NAME,
    CATALOGUE_BY_CODE,
    CATALOGUE_BY_CATEGORY,
    CATALOGUE_BY_DEPARTMENT,
    CATALOGUE_BY_MATERIAL,
    CATALOGUE_NO_MATCH,
};

static int catalogue_rank(const sc_client *c, const Sanji__CatalogueItem *it, const char *keyword)
{
    if (sj_utf8_blank(keyword) || strstr(nz(it->name), keyword))
        return CATALOGUE_BY_NAME;
    if (strstr(nz(it->code), keyword))
        return CATALOGUE_BY_CODE;
    if (strstr(category_name(c, it->category), keyword))
        return CATALOGUE_BY_CATEGORY;
    if (strstr(nz(it->department), keyword))
        return CATALOGUE_BY_DEPARTMENT;
    for (size_t j = 0; j < it->n_materials; j++)
        if (strstr(nz(it->materials[j]), keyword))
            return CATALOGUE_BY_MATERIAL;
    return CATALOGUE_NO_MATCH;
}

size_t sc_catalogue_search(const sc_client *c, const char *keyword,
                           const Sanji__CatalogueItem ***items)
{
    *items = NULL;
    if (!c->catalogue || c->catalogue->n_items == 0)
        return 0;
    const Sanji__CatalogueItem **v = calloc(c->catalogue->n_items, sizeof(*v));
    if (!v)
        return 0;
    /* One pass per rank keeps catalogue order within a rank. */
    size_t k = 0;
    for (int rank = CATALOGUE_BY_NAME; rank < CATALOGUE_NO_MATCH; rank++)
        for (size_t i = 0; i < c->catalogue->n_items; i++) {
            const Sanji__CatalogueItem *it = c->catalogue->items[i];
            if (it->active && catalogue_rank(c, it, keyword) == rank)
                v[k++] = it;
        }
    *items = v;
    return k;
}

const Sanji__PersonSync *sc_person_list(const sc_client *c)
{
    return c->persons;
}
