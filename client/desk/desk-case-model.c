/*
 * desk-case-model.c - a paged GListModel of cases (see desk-case-model.h).
 *
 * Pages are loaded from an idle callback, never from inside get_item(): a
 * view asks for items while it lays out, and must not hear of changes in
 * the middle of that.  Answers from the county that come after the search
 * changed (the generation moved on) or after the model is gone (a weak
 * reference) are dropped.
 *
 * Entry points: desk_case_model_new(), desk_case_model_set_query(),
 * desk_case_model_refresh(), desk_case_model_total(),
 * desk_case_model_capped(), desk_case_model_remote(),
 * desk_case_model_error(), desk_case_row_case(), desk_case_count().
 */
#include "desk-case-model.h"

#include <stdio.h>
#include <string.h>

#include "i18n.h"

/* A county desk's pages are read again at most this often, however many
 * live updates arrive (a busy county changes cases every second). */
#define REMOTE_REFRESH_MIN_US (2 * G_USEC_PER_SEC)

/* ---- pages and rows ----------------------------------------------------- */

typedef struct page {
    gint ref;
    Sanji__Case **cases;
    size_t n;
} page;

static page *page_ref(page *p)
{
    g_atomic_int_inc(&p->ref);
    return p;
}

static void page_unref(page *p)
{
    if (p && g_atomic_int_dec_and_test(&p->ref)) {
        sc_store_cases_free(p->cases, p->n);
        g_free(p);
    }
}

struct _DeskCaseRow {
    GObject parent;
    page *p;     /* NULL: a placeholder */
    guint index; /* in p */
};

G_DEFINE_TYPE(DeskCaseRow, desk_case_row, G_TYPE_OBJECT)

static void desk_case_row_finalize(GObject *obj)
{
    page_unref(DESK_CASE_ROW(obj)->p);
    G_OBJECT_CLASS(desk_case_row_parent_class)->finalize(obj);
}

static void desk_case_row_class_init(DeskCaseRowClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = desk_case_row_finalize;
}

static void desk_case_row_init(DeskCaseRow *r)
{
}

const Sanji__Case *desk_case_row_case(DeskCaseRow *r)
{
    return r->p && r->index < r->p->n ? r->p->cases[r->index] : NULL;
}

gpointer desk_pb_copy(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = g_malloc(n ? n : 1);
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
    g_free(buf);
    return copy;
}

/* ---- the model ---------------------------------------------------------- */

typedef struct slot {
    page *p;
    gboolean loading;
    guint64 used;
} slot;

struct _DeskCaseModel {
    GObject parent;
    sc_client *client;
    Sanji__CaseListQuery *q;
    guint n;              /* rows now */
    guint total;
    gboolean capped, remote;
    char error[SJ_ERROR_MESSAGE_MAX];
    guint generation;
    GHashTable *slots;    /* page index -> slot */
    GHashTable *wanted;   /* page indexes to load at idle */
    guint64 clock;
    guint idle_id, later_id;
    gint64 last_remote_refresh;
};

static void model_iface_init(GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE(DeskCaseModel, desk_case_model, G_TYPE_OBJECT,
                        G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, model_iface_init))

enum { SIG_LOADED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void slot_free(gpointer data)
{
    slot *s = data;
    page_unref(s->p);
    g_free(s);
}

static slot *slot_of(DeskCaseModel *m, guint k, gboolean make)
{
    slot *s = g_hash_table_lookup(m->slots, GUINT_TO_POINTER(k));
    if (!s && make) {
        s = g_new0(slot, 1);
        g_hash_table_insert(m->slots, GUINT_TO_POINTER(k), s);
    }
    return s;
}

/* Keeps at most DESK_CASE_MODEL_PAGES pages: the least recently used go
 * (page 0 stays: it carries the count). */
static void evict(DeskCaseModel *m)
{
    while (g_hash_table_size(m->slots) > DESK_CASE_MODEL_PAGES) {
        GHashTableIter it;
        gpointer key, value;
        guint oldest_k = 0;
        guint64 oldest = G_MAXUINT64;
        g_hash_table_iter_init(&it, m->slots);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            slot *s = value;
            guint k = GPOINTER_TO_UINT(key);
            if (k != 0 && !s->loading && s->used < oldest) {
                oldest = s->used;
                oldest_k = k;
            }
        }
        if (oldest == G_MAXUINT64)
            return;
        g_hash_table_remove(m->slots, GUINT_TO_POINTER(oldest_k));
    }
}

static void set_count(DeskCaseModel *m, guint total, gboolean capped)
{
    m->total = total;
    m->capped = capped;
    guint n = total > DESK_CASE_MODEL_COUNT_CAP ? DESK_CASE_MODEL_COUNT_CAP : total;
    guint old = m->n;
    m->n = n;
    if (n > old)
        g_list_model_items_changed(G_LIST_MODEL(m), old, 0, n - old);
    else if (n < old)
        g_list_model_items_changed(G_LIST_MODEL(m), n, old - n, 0);
}

/* A page arrived: keep it (cases taken over), update the count (page 0
 * carries it) and say which rows changed. */
static void page_done(DeskCaseModel *m, guint k, Sanji__Case **cases, size_t n, guint total,
                      gboolean capped, gboolean remote)
{
    slot *s = slot_of(m, k, TRUE);
    page *p = g_new0(page, 1);
    p->ref = 1;
    p->cases = cases;
    p->n = n;
    page_unref(s->p);
    s->p = p;
    s->loading = FALSE;
    s->used = ++m->clock;
    m->remote = remote;
    m->error[0] = '\0';
    if (k == 0)
        set_count(m, total, capped);
    guint first = k * DESK_CASE_MODEL_PAGE;
    if (first < m->n) {
        guint cnt = MIN((guint)DESK_CASE_MODEL_PAGE, m->n - first);
        g_list_model_items_changed(G_LIST_MODEL(m), first, cnt, cnt);
    }
    evict(m);
    g_signal_emit(m, signals[SIG_LOADED], 0);
}

static void page_failed(DeskCaseModel *m, guint k, const char *why)
{
    slot *s = slot_of(m, k, FALSE);
    if (s)
        s->loading = FALSE;
    snprintf(m->error, sizeof(m->error), "%s", why);
    g_signal_emit(m, signals[SIG_LOADED], 0);
}

typedef struct ticket {
    GWeakRef model;
    guint generation, page;
} ticket;

static void on_page(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    ticket *t = data;
    DeskCaseModel *m = g_weak_ref_get(&t->model);
    if (m && m->generation == t->generation) {
        if (status == 0 && res && res->result_case == SANJI__QUERY_RESULT__RESULT_CASE_LIST) {
            const Sanji__CaseList *l = res->case_list;
            Sanji__Case **v = g_new0(Sanji__Case *, l->n_cases + 1);
            size_t n = 0;
            for (size_t i = 0; i < l->n_cases; i++)
                if ((v[n] = desk_pb_copy(&l->cases[i]->base)))
                    n++;
            page_done(m, t->page, v, n, l->total, l->total_capped, TRUE);
        } else {
            page_failed(m, t->page,
                        res && res->reason && *res->reason ? res->reason : sj_err_text(status));
        }
    }
    if (m)
        g_object_unref(m);
    g_weak_ref_clear(&t->model);
    g_free(t);
}

/* The query of page k: the page's rows, and the count with page 0 only
 * (count_limit 1 costs nothing on the others). */
static Sanji__CaseListQuery page_query(DeskCaseModel *m, guint k)
{
    Sanji__CaseListQuery q = *m->q;
    q.limit = DESK_CASE_MODEL_PAGE;
    q.offset = k * DESK_CASE_MODEL_PAGE;
    q.count_limit = k == 0 ? DESK_CASE_MODEL_COUNT_CAP : 1;
    return q;
}

static void load_local(DeskCaseModel *m, guint k, const Sanji__CaseListQuery *q)
{
    sc_case_page pg;
    sj_error err;
    if (sc_search_cases(m->client, q, &pg, &err) != 0) {
        page_failed(m, k, err.message);
        return;
    }
    page_done(m, k, pg.cases, pg.n, pg.total, pg.capped, FALSE);
}

static void load(DeskCaseModel *m, guint k)
{
    slot *s = slot_of(m, k, TRUE);
    if (s->loading)
        return;
    s->loading = TRUE;
    Sanji__CaseListQuery q = page_query(m, k);
    if (sc_searches_at_peer(m->client)) {
        Sanji__Query query = SANJI__QUERY__INIT;
        query.kind_case = SANJI__QUERY__KIND_CASE_LIST;
        query.case_list = &q;
        ticket *t = g_new0(ticket, 1);
        g_weak_ref_init(&t->model, m);
        t->generation = m->generation;
        t->page = k;
        sj_error err;
        if (sc_query(m->client, &query, on_page, t, &err) == 0)
            return;
        g_weak_ref_clear(&t->model);
        g_free(t);
        /* The county cannot be asked now: the cases this desk keeps. */
    }
    load_local(m, k, &q);
}

static gboolean on_idle(gpointer data)
{
    DeskCaseModel *m = data;
    m->idle_id = 0;
    GList *keys = g_hash_table_get_keys(m->wanted);
    g_hash_table_remove_all(m->wanted);
    /* Page 0 first: it carries the count. */
    for (GList *l = keys; l; l = l->next)
        if (GPOINTER_TO_UINT(l->data) == 0)
            load(m, 0);
    for (GList *l = keys; l; l = l->next)
        if (GPOINTER_TO_UINT(l->data) != 0)
            load(m, GPOINTER_TO_UINT(l->data));
    g_list_free(keys);
    return G_SOURCE_REMOVE;
}

static void want(DeskCaseModel *m, guint k)
{
    g_hash_table_add(m->wanted, GUINT_TO_POINTER(k));
    if (!m->idle_id)
        m->idle_id = g_idle_add(on_idle, m);
}

/* ---- GListModel ---------------------------------------------------------- */

static GType get_item_type(GListModel *list)
{
    return DESK_TYPE_CASE_ROW;
}

static guint get_n_items(GListModel *list)
{
    return DESK_CASE_MODEL(list)->n;
}

static gpointer get_item(GListModel *list, guint position)
{
    DeskCaseModel *m = DESK_CASE_MODEL(list);
    if (position >= m->n)
        return NULL;
    guint k = position / DESK_CASE_MODEL_PAGE;
    DeskCaseRow *r = g_object_new(DESK_TYPE_CASE_ROW, NULL);
    slot *s = slot_of(m, k, FALSE);
    if (s && s->p) {
        s->used = ++m->clock;
        r->p = page_ref(s->p);
        r->index = position % DESK_CASE_MODEL_PAGE;
        /* A row past a short page stays empty until the next refresh:
         * asking again would only bring the same page. */
    } else if (!s || !s->loading) {
        want(m, k);
    }
    return r;
}

static void model_iface_init(GListModelInterface *iface)
{
    iface->get_item_type = get_item_type;
    iface->get_n_items = get_n_items;
    iface->get_item = get_item;
}

/* ---- the model's life ---------------------------------------------------- */

static void desk_case_model_dispose(GObject *obj)
{
    DeskCaseModel *m = DESK_CASE_MODEL(obj);
    if (m->idle_id) {
        g_source_remove(m->idle_id);
        m->idle_id = 0;
    }
    if (m->later_id) {
        g_source_remove(m->later_id);
        m->later_id = 0;
    }
    G_OBJECT_CLASS(desk_case_model_parent_class)->dispose(obj);
}

static void desk_case_model_finalize(GObject *obj)
{
    DeskCaseModel *m = DESK_CASE_MODEL(obj);
    g_hash_table_destroy(m->slots);
    g_hash_table_destroy(m->wanted);
    if (m->q)
        sanji__case_list_query__free_unpacked(m->q, NULL);
    G_OBJECT_CLASS(desk_case_model_parent_class)->finalize(obj);
}

static void desk_case_model_class_init(DeskCaseModelClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = desk_case_model_dispose;
    G_OBJECT_CLASS(klass)->finalize = desk_case_model_finalize;
    signals[SIG_LOADED] = g_signal_new("loaded", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void desk_case_model_init(DeskCaseModel *m)
{
    m->slots = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, slot_free);
    m->wanted = g_hash_table_new(g_direct_hash, g_direct_equal);
}

DeskCaseModel *desk_case_model_new(sc_client *c)
{
    DeskCaseModel *m = g_object_new(DESK_TYPE_CASE_MODEL, NULL);
    m->client = c;
    return m;
}

void desk_case_model_set_query(DeskCaseModel *m, const Sanji__CaseListQuery *q)
{
    Sanji__CaseListQuery *copy = desk_pb_copy(&q->base);
    if (!copy)
        return;
    if (m->q)
        sanji__case_list_query__free_unpacked(m->q, NULL);
    m->q = copy;
    m->generation++;
    g_hash_table_remove_all(m->slots);
    g_hash_table_remove_all(m->wanted);
    set_count(m, 0, FALSE);
    want(m, 0);
}

static gboolean on_later(gpointer data)
{
    DeskCaseModel *m = data;
    m->later_id = 0;
    desk_case_model_refresh(m);
    return G_SOURCE_REMOVE;
}

void desk_case_model_refresh(DeskCaseModel *m)
{
    if (!m->q)
        return;
    if (sc_searches_at_peer(m->client)) {
        gint64 now = g_get_monotonic_time();
        if (now - m->last_remote_refresh < REMOTE_REFRESH_MIN_US) {
            if (!m->later_id)
                m->later_id = g_timeout_add(
                    (guint)((REMOTE_REFRESH_MIN_US - (now - m->last_remote_refresh)) / 1000) + 1,
                    on_later, m);
            return;
        }
        m->last_remote_refresh = now;
    }
    /* Every page kept is read again; its rows stay shown meanwhile. */
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, m->slots);
    while (g_hash_table_iter_next(&it, &key, NULL))
        want(m, GPOINTER_TO_UINT(key));
    want(m, 0);
}

guint desk_case_model_total(DeskCaseModel *m)
{
    return m->total;
}

gboolean desk_case_model_capped(DeskCaseModel *m)
{
    return m->capped;
}

gboolean desk_case_model_remote(DeskCaseModel *m)
{
    return m->remote;
}

const char *desk_case_model_error(DeskCaseModel *m)
{
    return m->error;
}

/* ---- counts --------------------------------------------------------------- */

typedef struct count_ticket {
    GWeakRef owner;
    desk_case_count_cb cb;
    gpointer data;
} count_ticket;

static void on_count(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    count_ticket *t = data;
    GObject *owner = g_weak_ref_get(&t->owner);
    if (owner) {
        bool ok = status == 0 && res && res->result_case == SANJI__QUERY_RESULT__RESULT_CASE_LIST;
        t->cb(owner, ok ? (gint64)res->case_list->total : -1, ok && res->case_list->total_capped,
              t->data);
        g_object_unref(owner);
    }
    g_weak_ref_clear(&t->owner);
    g_free(t);
}

void desk_case_count(sc_client *c, const Sanji__CaseListQuery *q, GObject *owner,
                     desk_case_count_cb cb, gpointer data)
{
    Sanji__CaseListQuery cq = *q;
    cq.limit = 1;
    cq.offset = 0;
    cq.count_limit = DESK_CASE_MODEL_COUNT_CAP;
    if (sc_searches_at_peer(c)) {
        Sanji__Query query = SANJI__QUERY__INIT;
        query.kind_case = SANJI__QUERY__KIND_CASE_LIST;
        query.case_list = &cq;
        count_ticket *t = g_new0(count_ticket, 1);
        g_weak_ref_init(&t->owner, owner);
        t->cb = cb;
        t->data = data;
        if (sc_query(c, &query, on_count, t, NULL) == 0)
            return;
        g_weak_ref_clear(&t->owner);
        g_free(t);
    }
    sc_case_page pg;
    if (sc_search_cases(c, &cq, &pg, NULL) != 0) {
        cb(owner, -1, FALSE, data);
        return;
    }
    cb(owner, pg.total, pg.capped, data);
    sc_case_page_free(&pg);
}
