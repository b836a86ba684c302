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

/* One answer in the making: the QueryResult and everything allocated for
 * it, released together by answer_release(). */
typedef struct answer {
    relay *r;
    const sj_identity *peer;
    const char *scope;
    Sanji__QueryResult res;
    list_ctx l;
    event_ctx ev;
    Sanji__Case *one;
    Sanji__CaseList clist;
    Sanji__CaseDetail detail;
    Sanji__CatalogueSync *cat;
    Sanji__PersonSync *persons;
    const char *stand_ids[64];
    size_t n_stand;
    Sanji__CatalogueSync catf;
    Sanji__CatalogueItem **items;
    const char **cat_items;
    size_t n_cat_items;
    Sanji__OrgTreeSync *tree;
    Sanji__OrgTreeSync treef;
    Sanji__OrgUnit **units;
    Sanji__NodeStatus ns;
    bool have_ns;
    Sanji__NodeStatus *nsp;
    Sanji__NetworkStatus net;
    uint8_t *blob;
} answer;

static void answer_release(answer *a)
{
    for (size_t i = 0; i < a->l.n; i++)
        sanji__case__free_unpacked(a->l.cases[i], NULL);
    free(a->l.cases);
    for (size_t i = 0; i < a->ev.n; i++)
        sanji__case_event__free_unpacked(a->ev.events[i], NULL);
    free(a->ev.events);
    if (a->one)
        sanji__case__free_unpacked(a->one, NULL);
    free(a->items);
    free(a->cat_items);
    if (a->cat)
        sanji__catalogue_sync__free_unpacked(a->cat, NULL);
    if (a->persons)
        sanji__person_sync__free_unpacked(a->persons, NULL);
    free(a->units);
    if (a->tree)
        sanji__org_tree_sync__free_unpacked(a->tree, NULL);
    if (a->have_ns)
        relay_status_release(&a->ns);
    free(a->blob);
}

static int answer_case_list(answer *a, const Sanji__CaseListQuery *lq, sj_error *err)
{
    relay *r = a->r;
    a->l.peer = a->peer;
    a->l.limit = sj_case_search_limit(lq);
    a->l.cases = calloc(a->l.limit, sizeof *a->l.cases);
    if (a->l.cases == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    if (lq->village && lq->village[0] && !sj_orgunit_contains(a->scope, lq->village)) {
        a->res.code = SJ_ESCOPE;
        a->res.reason = (char *)_("That village is outside your scope.");
        return 0;
    }
    int rc;
    if (lq->category && lq->category[0] &&
        (rc = category_items(r, lq->category, &a->cat, &a->cat_items, &a->n_cat_items, err)) != 0)
        return rc;
    if (lq->mine && (rc = stand_for(r, lq->for_person, &a->persons, a->stand_ids, 64,
                                    &a->n_stand, err)) != 0)
        return rc;
    sj_case_search_viewer v = {.role = a->peer->role,
                               .unit = a->peer->unit,
                               .scope = a->scope,
                               .category_items = a->cat_items,
                               .n_category_items = a->n_cat_items,
                               .now_ms = sj_clock_real_ms(),
                               .stand_for = a->stand_ids,
                               .n_stand_for = a->n_stand};
    bool capped = false;
    rc = relay_store_case_search(r->store, lq, &v, list_cb, &a->l, &a->clist.total, &capped, err);
    if (rc == 0 && a->l.rc != 0)
        rc = sj_error_set(err, a->l.rc, NULL);
    a->clist.total_capped = capped;
    a->clist.cases = a->l.cases;
    a->clist.n_cases = a->l.n;
    a->res.result_case = SANJI__QUERY_RESULT__RESULT_CASE_LIST;
    a->res.case_list = &a->clist;
    return rc;
}

static int answer_case_get(answer *a, const Sanji__CaseGetQuery *g, sj_error *err)
{
    relay *r = a->r;
    Sanji__Case *c = NULL;
    int grc, rc = 0;
    if (g->case_id.len == 16)
        grc = relay_store_case_get(r->store, g->case_id.data, &c, err);
    else if (g->number && g->number[0])
        grc = relay_store_case_get_by_number(r->store, g->number, &c, err);
    else
        grc = SJ_EINVAL;
    if (grc == 0 && (c->village == NULL || !sj_orgunit_contains(a->scope, c->village)))
        grc = SJ_ENOTFOUND; /* outside the scope looks like absent */
    if (grc == SJ_ENOTFOUND || grc == SJ_EINVAL) {
        a->res.code = grc == SJ_EINVAL ? SJ_EMISSING_FIELD : SJ_EUNKNOWN_CASE;
        a->res.reason = (char *)(grc == SJ_EINVAL ? _("Give the case number or the case id.")
                                                  : _("The township relay has no such case."));
    } else if (grc != 0) {
        rc = grc;
    } else {
        a->one = copy_case(c, a->peer);
        rc = a->one ? relay_store_case_events(r->store, c->case_id.data, event_cb, &a->ev, err)
                    : sj_error_set(err, SJ_ENOMEM, NULL);
        a->detail.case_ = a->one;
        a->detail.events = a->ev.events;
        a->detail.n_events = a->ev.n;
        a->res.result_case = SANJI__QUERY_RESULT__RESULT_CASE_DETAIL;
        a->res.case_detail = &a->detail;
    }
    sanji__case__free_unpacked(c, NULL);
    return rc;
}

static int answer_catalogue(answer *a, const char *kw, sj_error *err)
{
    uint64_t ver;
    size_t blen;
    int rc = relay_store_ref_get(a->r->store, RELAY_REF_CATALOGUE, &ver, &a->blob, &blen, err);
    if (rc != 0)
        return rc;
    if (a->blob == NULL) {
        a->res.code = SJ_ENOTFOUND;
        a->res.reason = (char *)_("The township relay has not received the service catalogue yet.");
        return 0;
    }
    a->cat = sanji__catalogue_sync__unpack(NULL, blen, a->blob);
    if (a->cat == NULL)
        return sj_error_set(err, SJ_ESTORE_CORRUPT, "stored catalogue does not decode");
    a->items = calloc(a->cat->n_items + 1, sizeof *a->items);
    if (a->items == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    sanji__catalogue_sync__init(&a->catf);
    a->catf.version = a->cat->version;
    a->catf.categories = a->cat->categories;
    a->catf.n_categories = a->cat->n_categories;
    a->catf.items = a->items;
    for (size_t i = 0; i < a->cat->n_items; i++)
        if (kw == NULL || kw[0] == '\0' || keyword_in(kw, a->cat->items[i]))
            a->items[a->catf.n_items++] = a->cat->items[i];
    a->res.result_case = SANJI__QUERY_RESULT__RESULT_CATALOGUE;
    a->res.catalogue = &a->catf;
    return 0;
}

static int answer_org_tree(answer *a, sj_error *err)
{
    uint64_t ver;
    size_t blen;
    int rc = relay_store_ref_get(a->r->store, RELAY_REF_ORG_TREE, &ver, &a->blob, &blen, err);
    if (rc != 0)
        return rc;
    if (a->blob == NULL) {
        a->res.code = SJ_ENOTFOUND;
        a->res.reason = (char *)_("The township relay has not received the list of units yet.");
        return 0;
    }
    a->tree = sanji__org_tree_sync__unpack(NULL, blen, a->blob);
    if (a->tree == NULL)
        return sj_error_set(err, SJ_ESTORE_CORRUPT, "stored org tree does not decode");
    a->units = calloc(a->tree->n_units + 1, sizeof *a->units);
    if (a->units == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    sanji__org_tree_sync__init(&a->treef);
    a->treef.version = a->tree->version;
    a->treef.units = a->units;
    for (size_t i = 0; i < a->tree->n_units; i++) {
        const char *code = a->tree->units[i]->code;
        if (code && (sj_orgunit_contains(a->scope, code) || sj_orgunit_contains(code, a->scope)))
            a->units[a->treef.n_units++] = a->tree->units[i];
    }
    a->res.result_case = SANJI__QUERY_RESULT__RESULT_ORG_TREE;
    a->res.org_tree = &a->treef;
    return 0;
}

static int answer_network(answer *a, sj_error *err)
{
    relay *r = a->r;
    int rc = relay_status_collect(r->store, a->scope, &a->ns, err);
    if (rc != 0)
        return rc;
    a->have_ns = true;
    if ((rc = relay_status_add_unseen(r->store, a->scope, &a->ns, err)) != 0)
        return rc;
    a->ns.upstream_online = r->upstream_online;
    a->ns.upstream_last_contact_ms = r->upstream_last_contact_ms;
    a->ns.reported_at_ms = sj_clock_real_ms();
    a->nsp = &a->ns;
    sanji__network_status__init(&a->net);
    a->net.nodes = &a->nsp;
    a->net.n_nodes = 1;
    a->res.result_case = SANJI__QUERY_RESULT__RESULT_NETWORK;
    a->res.network = &a->net;
    return 0;
}

/* env packed into a buffer from buf of the size it asks for.  Returns the
 * frame's length, or a negative code (SJ_EFRAME_TOO_LARGE: more than one
 * frame holds).  The size is an upper bound, so the exact check against
 * link.max_frame is the packing's own; an answer refused as too large has
 * had its buffer for that moment, no larger than the answer it packs. */
static long pack_into_buf(relay *r, const Sanji__Envelope *env, relay_query_buf_fn buf,
                          void *buf_arg, sj_error *err)
{
    size_t cap = sj_envelope_packed_size(env, r->self.node_id);
    uint8_t *frame = buf(buf_arg, cap);
    if (frame == NULL)
        return sj_error_set(err, SJ_ENOMEM, "no memory for a %zu-byte frame", cap);
    return sj_envelope_pack_into(env, r->self.node_id, r->cfg->max_frame, frame, cap, NULL, err);
}

/* The answer as a frame; one too large for a frame becomes SJ_ETOOBIG. */
static int answer_pack(answer *a, const Sanji__Envelope *q, relay_query_buf_fn buf,
                       void *buf_arg, size_t *len, sj_error *err)
{
    relay *r = a->r;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_QUERY_RESULT;
    env.query_result = &a->res;
    long n = pack_into_buf(r, &env, buf, buf_arg, err);
    if (n == SJ_EFRAME_TOO_LARGE) {
        /* Too much for one frame: answer with the code instead. */
        Sanji__QueryResult small = SANJI__QUERY_RESULT__INIT;
        small.in_reply_to = q->message_id;
        small.code = SJ_ETOOBIG;
        small.reason = (char *)_("Too many results for one answer; narrow the search or ask "
                                 "page by page.");
        env.query_result = &small;
        n = pack_into_buf(r, &env, buf, buf_arg, err);
    }
    if (n < 0)
        return (int)n;
    *len = (size_t)n;
    return 0;
}

int relay_query_answer(relay *r, const sj_identity *peer, const char *scope,
                       const Sanji__Envelope *q, relay_query_buf_fn buf, void *buf_arg,
                       size_t *len, sj_error *err)
{
    *len = 0;
    answer a;
    memset(&a, 0, sizeof a);
    a.r = r;
    a.peer = peer;
    a.scope = scope;
    sanji__query_result__init(&a.res);
    sanji__case_list__init(&a.clist);
    sanji__case_detail__init(&a.detail);
    a.res.in_reply_to = q->message_id;
    if (!r->upstream_online) {
        a.res.from_cache = true;
        a.res.data_as_of_ms = r->upstream_last_contact_ms;
    }
    const Sanji__Query *query = q->query;
    int rc = 0;
    switch (query->kind_case) {
    case SANJI__QUERY__KIND_CASE_LIST:
        rc = answer_case_list(&a, query->case_list, err);
        break;
    case SANJI__QUERY__KIND_CASE_GET:
        rc = answer_case_get(&a, query->case_get, err);
        break;
    case SANJI__QUERY__KIND_CATALOGUE:
        rc = answer_catalogue(&a, query->catalogue->keyword, err);
        break;
    case SANJI__QUERY__KIND_ORG_TREE:
        rc = answer_org_tree(&a, err);
        break;
    case SANJI__QUERY__KIND_NETWORK_STATUS:
        rc = answer_network(&a, err);
        break;
    case SANJI__QUERY__KIND_STATISTICS:
        a.res.code = SJ_EUNSUPPORTED;
        a.res.reason = (char *)_("Statistics are computed by the county; ask again when the "
                                 "township's link to the county is back.");
        break;
    default:
        a.res.code = SJ_EFRAME_BAD_FIELD;
        a.res.reason = (char *)_("This kind of question is not known here.");
        break;
    }
    if (rc == 0)
        rc = answer_pack(&a, q, buf, buf_arg, len, err);
    answer_release(&a);
    return rc;
}
