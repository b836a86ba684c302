/*
 * query.c - queries answered from the relay's cache.  See query.h.
 *
 * Entry points: relay_query_answer().
 */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "clock.h"
#include "envelope.h"
#include "i18n.h"
#include "orgunit.h"
#include "personal.h"
#include "status.h"

static int replace_masked(char **field, int (*mask)(const char *, char *, size_t))
{
    if (*field == NULL || (*field)[0] == '\0')
        return 0;
    char m[SJ_PERSONAL_MASK_SIZE];
    if (mask(*field, m, sizeof m) != 0)
        m[0] = '\0';
    char *dup = strdup(m);
    if (dup == NULL) {
        /* Never leave the number whole: clear it in place instead. */
        (*field)[0] = '\0';
        return SJ_ENOMEM;
    }
    free(*field);
    *field = dup;
    return 0;
}

int relay_query_mask_case(Sanji__Case *c, const sj_identity *viewer)
{
    if (c == NULL || c->applicant == NULL ||
        sj_personal_visible(c->village, (sj_level)c->holder_level, c->holder_unit, viewer->role,
                            viewer->unit))
        return 0;
    int rc = replace_masked(&c->applicant->id_number, sj_personal_mask_id);
    int rc2 = replace_masked(&c->applicant->phone, sj_personal_mask_phone);
    return rc != 0 ? rc : rc2;
}

/* A private copy of a cached case, with the applicant masked when the
 * asker may not see it whole. */
static Sanji__Case *copy_case(const Sanji__Case *c, const sj_identity *peer)
{
    size_t n = sanji__case__get_packed_size(c);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return NULL;
    sanji__case__pack(c, buf);
    Sanji__Case *copy = sanji__case__unpack(NULL, n, buf);
    free(buf);
    if (copy == NULL)
        return NULL;
    if (relay_query_mask_case(copy, peer) != 0) {
        sanji__case__free_unpacked(copy, NULL);
        return NULL;
    }
    return copy;
}

typedef struct list_ctx {
    const sj_identity *peer;
    Sanji__Case **cases;
    size_t n, limit;
    int rc;
} list_ctx;

static int list_cb(void *arg, const Sanji__Case *c)
{
    list_ctx *l = arg;
    if (l->n >= l->limit)
        return 0;
    Sanji__Case *copy = copy_case(c, l->peer);
    if (copy == NULL)
        return l->rc = SJ_ENOMEM;
    l->cases[l->n++] = copy;
    return 0;
}

/* The item codes of a catalogue category, from the cached catalogue
 * (*items borrowed from *cat; free(*items) and the catalogue). */
static int category_items(relay *r, const char *category, Sanji__CatalogueSync **cat,
                          const char ***items, size_t *n, sj_error *err)
{
    *cat = NULL;
    *items = NULL;
    *n = 0;
    uint64_t ver;
    uint8_t *blob = NULL;
    size_t blen = 0;
    int rc = relay_store_ref_get(r->store, RELAY_REF_CATALOGUE, &ver, &blob, &blen, err);
    if (rc != 0 || blob == NULL)
        return rc; /* no catalogue yet: no item is of the category */
    *cat = sanji__catalogue_sync__unpack(NULL, blen, blob);
    free(blob);
    if (*cat == NULL)
        return sj_error_set(err, SJ_ESTORE_CORRUPT, "stored catalogue does not decode");
    *items = calloc((*cat)->n_items + 1, sizeof **items);
    if (*items == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    for (size_t i = 0; i < (*cat)->n_items; i++)
        if ((*cat)->items[i]->category && strcmp((*cat)->items[i]->category, category) == 0)
            (*items)[(*n)++] = (*cat)->items[i]->code;
    return 0;
}

/* 我的事项 from the cache: the persons for_person stands in for (AB岗),
 * from the stored persons list; none when there is none yet. */
static int stand_for(relay *r, const char *for_person, Sanji__PersonSync **ps,
                     const char **out, size_t max, size_t *n, sj_error *err)
{
    *ps = NULL;
    *n = 0;
    uint64_t ver;
    uint8_t *blob = NULL;
    size_t blen = 0;
    int rc = relay_store_ref_get(r->store, RELAY_REF_PERSONS, &ver, &blob, &blen, err);
    if (rc != 0 || blob == NULL)
        return rc;
    *ps = sanji__person_sync__unpack(NULL, blen, blob);
    free(blob);
    if (*ps == NULL)
        return sj_error_set(err, SJ_ESTORE_CORRUPT, "stored persons do not decode");
    *n = sj_case_search_stand_for((*ps)->persons, (*ps)->n_persons, for_person, out, max);
    return 0;
}

typedef struct event_ctx {
    Sanji__CaseEvent **events;
    size_t n, cap;
} event_ctx;

static int event_cb(void *arg, const Sanji__CaseEvent *e)
{
    event_ctx *x = arg;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        Sanji__CaseEvent **n = realloc(x->events, cap * sizeof *n);
        if (n == NULL)
            return SJ_ENOMEM;
        x->events = n;
        x->cap = cap;
    }
    size_t len = sanji__case_event__get_packed_size(e);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return SJ_ENOMEM;
    sanji__case_event__pack(e, buf);
    Sanji__CaseEvent *copy = sanji__case_event__unpack(NULL, len, buf);
    free(buf);
    if (copy == NULL)
        return SJ_ENOMEM;
    x->events[x->n++] = copy;
    return 0;
}

static bool keyword_in(const char *kw, const Sanji__CatalogueItem *it)
{
    if ((it->name && strstr(it->name, kw)) || (it->category && strstr(it->category, kw)) ||
        (it->code && strstr(it->code, kw)))
        return true;
    for (size_t i = 0; i < it->n_materials; i++)
        if (strstr(it->materials[i], kw))
            return true;
    return false;
}

int relay_query_answer(relay *r, const sj_identity *peer, const char *scope,
                       const Sanji__Envelope *q, uint8_t **frame, size_t *len, sj_error *err)
{
    *frame = NULL;
    *len = 0;
    Sanji__QueryResult res = SANJI__QUERY_RESULT__INIT;
    res.in_reply_to = q->message_id;
    if (!r->upstream_online) {
        res.from_cache = true;
        res.data_as_of_ms = r->upstream_last_contact_ms;
    }
    const Sanji__Query *query = q->query;
    /* Everything allocated for the answer, released at the end. */
    list_ctx l = {0};
    event_ctx ev = {0};
    Sanji__Case *one = NULL;
    Sanji__CaseList clist = SANJI__CASE_LIST__INIT;
    Sanji__CaseDetail detail = SANJI__CASE_DETAIL__INIT;
    Sanji__CatalogueSync *cat = NULL;
    Sanji__PersonSync *persons = NULL;
    const char *stand_ids[64];
    size_t n_stand = 0;
    Sanji__CatalogueSync catf = SANJI__CATALOGUE_SYNC__INIT;
    Sanji__CatalogueItem **items = NULL;
    const char **cat_items = NULL;
    size_t n_cat_items = 0;
    Sanji__OrgTreeSync *tree = NULL;
    Sanji__OrgTreeSync treef = SANJI__ORG_TREE_SYNC__INIT;
    Sanji__OrgUnit **units = NULL;
    Sanji__NodeStatus ns;
    bool have_ns = false;
    Sanji__NodeStatus *nsp = NULL;
    Sanji__NetworkStatus net = SANJI__NETWORK_STATUS__INIT;
    uint8_t *blob = NULL;
    int rc = 0;

    switch (query->kind_case) {
    case SANJI__QUERY__KIND_CASE_LIST: {
        const Sanji__CaseListQuery *lq = query->case_list;
        l.peer = peer;
        l.limit = sj_case_search_limit(lq);
        l.cases = calloc(l.limit, sizeof *l.cases);
        if (l.cases == NULL) {
            rc = sj_error_set(err, SJ_ENOMEM, NULL);
            break;
        }
        if (lq->village && lq->village[0] && !sj_orgunit_contains(scope, lq->village)) {
            res.code = SJ_ESCOPE;
            res.reason = (char *)_("That village is outside your scope.");
            break;
        }
        if (lq->category && lq->category[0] &&
            (rc = category_items(r, lq->category, &cat, &cat_items, &n_cat_items, err)) != 0)
            break;
        if (lq->mine && (rc = stand_for(r, lq->for_person, &persons, stand_ids, 64, &n_stand,
                                        err)) != 0)
            break;
        sj_case_search_viewer v = {.role = peer->role,
                                   .unit = peer->unit,
                                   .scope = scope,
                                   .category_items = cat_items,
                                   .n_category_items = n_cat_items,
                                   .now_ms = sj_clock_real_ms(),
                                   .stand_for = stand_ids,
                                   .n_stand_for = n_stand};
        bool capped = false;
        rc = relay_store_case_search(r->store, lq, &v, list_cb, &l, &clist.total, &capped, err);
        if (rc == 0 && l.rc != 0)
            rc = sj_error_set(err, l.rc, NULL);
        clist.total_capped = capped;
        clist.cases = l.cases;
        clist.n_cases = l.n;
        res.result_case = SANJI__QUERY_RESULT__RESULT_CASE_LIST;
        res.case_list = &clist;
        break;
    }
    case SANJI__QUERY__KIND_CASE_GET: {
        const Sanji__CaseGetQuery *g = query->case_get;
        Sanji__Case *c = NULL;
        int grc;
        if (g->case_id.len == 16)
            grc = relay_store_case_get(r->store, g->case_id.data, &c, err);
        else if (g->number && g->number[0])
            grc = relay_store_case_get_by_number(r->store, g->number, &c, err);
        else
            grc = SJ_EINVAL;
        if (grc == 0 && (c->village == NULL || !sj_orgunit_contains(scope, c->village)))
            grc = SJ_ENOTFOUND; /* outside the scope looks like absent */
        if (grc == SJ_ENOTFOUND || grc == SJ_EINVAL) {
            res.code = grc == SJ_EINVAL ? SJ_EMISSING_FIELD : SJ_EUNKNOWN_CASE;
            res.reason = (char *)(grc == SJ_EINVAL ? _("Give the case number or the case id.")
                                                   : _("The township relay has no such case."));
        } else if (grc != 0) {
            rc = grc;
        } else {
            one = copy_case(c, peer);
            rc = one ? relay_store_case_events(r->store, c->case_id.data, event_cb, &ev, err)
                     : sj_error_set(err, SJ_ENOMEM, NULL);
            detail.case_ = one;
            detail.events = ev.events;
            detail.n_events = ev.n;
            res.result_case = SANJI__QUERY_RESULT__RESULT_CASE_DETAIL;
            res.case_detail = &detail;
        }
        sanji__case__free_unpacked(c, NULL);
        break;
    }
    case SANJI__QUERY__KIND_CATALOGUE: {
        uint64_t ver;
        size_t blen;
        rc = relay_store_ref_get(r->store, RELAY_REF_CATALOGUE, &ver, &blob, &blen, err);
        if (rc != 0)
            break;
        if (blob == NULL) {
            res.code = SJ_ENOTFOUND;
            res.reason = (char *)_("The township relay has not received the service catalogue yet.");
            break;
        }
        cat = sanji__catalogue_sync__unpack(NULL, blen, blob);
        if (cat == NULL) {
            rc = sj_error_set(err, SJ_ESTORE_CORRUPT, "stored catalogue does not decode");
            break;
        }
        const char *kw = query->catalogue->keyword;
        items = calloc(cat->n_items + 1, sizeof *items);
        if (items == NULL) {
            rc = sj_error_set(err, SJ_ENOMEM, NULL);
            break;
        }
        catf.version = cat->version;
        catf.categories = cat->categories;
        catf.n_categories = cat->n_categories;
        catf.items = items;
        for (size_t i = 0; i < cat->n_items; i++)
            if (kw == NULL || kw[0] == '\0' || keyword_in(kw, cat->items[i]))
                items[catf.n_items++] = cat->items[i];
        res.result_case = SANJI__QUERY_RESULT__RESULT_CATALOGUE;
        res.catalogue = &catf;
        break;
    }
    case SANJI__QUERY__KIND_ORG_TREE: {
        uint64_t ver;
        size_t blen;
        rc = relay_store_ref_get(r->store, RELAY_REF_ORG_TREE, &ver, &blob, &blen, err);
        if (rc != 0)
            break;
        if (blob == NULL) {
            res.code = SJ_ENOTFOUND;
            res.reason = (char *)_("The township relay has not received the list of units yet.");
            break;
        }
        tree = sanji__org_tree_sync__unpack(NULL, blen, blob);
        if (tree == NULL) {
            rc = sj_error_set(err, SJ_ESTORE_CORRUPT, "stored org tree does not decode");
            break;
        }
        units = calloc(tree->n_units + 1, sizeof *units);
        if (units == NULL) {
            rc = sj_error_set(err, SJ_ENOMEM, NULL);
            break;
        }
        treef.version = tree->version;
        treef.units = units;
        for (size_t i = 0; i < tree->n_units; i++) {
            const char *code = tree->units[i]->code;
            if (code && (sj_orgunit_contains(scope, code) || sj_orgunit_contains(code, scope)))
                units[treef.n_units++] = tree->units[i];
        }
        res.result_case = SANJI__QUERY_RESULT__RESULT_ORG_TREE;
        res.org_tree = &treef;
        break;
    }
    case SANJI__QUERY__KIND_NETWORK_STATUS:
        rc = relay_status_collect(r->store, scope, &ns, err);
        if (rc != 0)
            break;
        have_ns = true;
        if ((rc = relay_status_add_unseen(r->store, scope, &ns, err)) != 0)
            break;
        ns.upstream_online = r->upstream_online;
        ns.upstream_last_contact_ms = r->upstream_last_contact_ms;
        ns.reported_at_ms = sj_clock_real_ms();
        nsp = &ns;
        net.nodes = &nsp;
        net.n_nodes = 1;
        res.result_case = SANJI__QUERY_RESULT__RESULT_NETWORK;
        res.network = &net;
        break;
    case SANJI__QUERY__KIND_STATISTICS:
        res.code = SJ_EUNSUPPORTED;
        res.reason = (char *)_("Statistics are computed by the county; ask again when the "
                               "township's link to the county is back.");
        break;
    default:
        res.code = SJ_EFRAME_BAD_FIELD;
        res.reason = (char *)_("This kind of question is not known here.");
        break;
    }
    if (rc == 0) {
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
        env.query_result = &res;
        rc = sj_envelope_pack(&env, r->self.node_id, r->cfg->max_frame, frame, len, NULL, err);
        if (rc == SJ_EFRAME_TOO_LARGE) {
            /* Too much for one frame: answer with the code instead. */
            Sanji__QueryResult small = SANJI__QUERY_RESULT__INIT;
            small.in_reply_to = q->message_id;
            small.code = SJ_ETOOBIG;
            small.reason = (char *)_("Too many results for one answer; narrow the search or ask "
                                     "page by page.");
            env.query_result = &small;
            rc = sj_envelope_pack(&env, r->self.node_id, r->cfg->max_frame, frame, len, NULL, err);
        }
    }
    for (size_t i = 0; i < l.n; i++)
        sanji__case__free_unpacked(l.cases[i], NULL);
    free(l.cases);
    for (size_t i = 0; i < ev.n; i++)
        sanji__case_event__free_unpacked(ev.events[i], NULL);
    free(ev.events);
    if (one)
        sanji__case__free_unpacked(one, NULL);
    free(items);
    free(cat_items);
    if (cat)
        sanji__catalogue_sync__free_unpacked(cat, NULL);
    if (persons)
        sanji__person_sync__free_unpacked(persons, NULL);
    free(units);
    if (tree)
        sanji__org_tree_sync__free_unpacked(tree, NULL);
    if (have_ns)
        relay_status_release(&ns);
    free(blob);
    return rc;
}
