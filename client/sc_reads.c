/*
 * sc_reads.c - reads of the local copy (cases, their history and pending
 * outbox rows, lists and searches, the client's status) and the cases a
 * desk fetches from the county to keep.
 *
 * Entry points: sc_find_case(), sc_get_case(), sc_list_cases(),
 * sc_search_cases(), sc_keep_case(), sc_fetch_case(), sc_fetch_case_ref(),
 * sc_searches_at_peer(), sc_status(), sc_outbox() and their *_free().
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_search.h"
#include "clock.h"
#include "i18n.h"
#include "orgunit.h"
#include "utf8.h"
#include "uuid.h"

/* ---- reads ------------------------------------------------------------- */

int sc_find_case(sc_client *c, const char *ref, uint8_t case_id[16], sj_error *err)
{
    if (sj_utf8_blank(ref))
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("Give a case number or case id."));
    if (sc_store_case_find(c->st, ref, case_id, NULL) != 0)
        return sj_error_set(err, SJ_EUNKNOWN_CASE,
                            _("There is no case %s at this station (give the case number, e.g. 410423-20261123-00001, or the case id)."),
                            ref);
    return 0;
}

int sc_get_case(sc_client *c, const uint8_t case_id[16], sc_case_detail *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = sc_store_case_get(c->st, case_id, &out->c, &out->predicted, err);
    if (rc == SJ_ENOTFOUND)
        return sj_error_set(err, SJ_EUNKNOWN_CASE, "%s", _("There is no such case at this station."));
    if (rc != 0)
        return rc;
    if ((rc = sc_store_events_get(c->st, case_id, &out->events, &out->n_events, err)) != 0)
        goto fail;
    sc_outbox_entry *all = NULL;
    size_t n = 0;
    if ((rc = sc_store_outbox_list(c->st, false, &all, &n, err)) != 0)
        goto fail;
    /* Keep this case's rows: move them to the front.  Attachment chunks
     * are left out: their attachment says how far its upload is
     * (sc_attachments()). */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(all[i].case_id, case_id, 16) == 0 && all[i].action != SC_OUTBOX_CHUNK) {
            sc_outbox_entry t = all[k];
            all[k] = all[i];
            all[i] = t;
            k++;
        }
    }
    for (size_t i = k; i < n; i++) {
        free(all[i].reason);
        free(all[i].case_number);
        free(all[i].payload);
    }
    out->pending = all;
    out->n_pending = k;
    return 0;
fail:
    sc_case_detail_free(out);
    return rc;
}

void sc_case_detail_free(sc_case_detail *d)
{
    if (d->c)
        sanji__case__free_unpacked(d->c, NULL);
    sc_store_events_free(d->events, d->n_events);
    sc_store_outbox_free(d->pending, d->n_pending);
    memset(d, 0, sizeof(*d));
}

int sc_list_cases(sc_client *c, const sc_list_filter *f, sc_case_list *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    /* 我的事项 includes the cases of those the person stands in for. */
    const char *stand_for[64];
    size_t n_stand_for =
        c->persons ? sj_case_search_stand_for(c->persons->persons, c->persons->n_persons,
                                              c->person_id, stand_for, 64)
                   : 0;
    Sanji__Case **all = NULL;
    size_t n = 0;
    int rc = sc_store_case_list(c->st, &all, &n, err);
    if (rc != 0)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        Sanji__Case *cs = all[i];
        bool keep = true;
        if (f && f->mine)
            keep = keep && c->person_id[0] && strcmp(nz(cs->first_receiver), c->person_id) == 0;
        if (f && f->assigned)
            keep = keep && sj_case_search_is_mine(cs, c->person_id, stand_for, n_stand_for);
        if (f && f->overdue)
            keep = keep && cs->overdue && sj_case_is_active((sj_case_status)cs->status);
        if (f && f->waiting_for_me)
            keep = keep && strcmp(nz(cs->holder_unit), c->node.unit) == 0 &&
                   !sj_case_is_terminal((sj_case_status)cs->status);
        if (f && f->n_statuses) {
            bool any = false;
            for (size_t j = 0; j < f->n_statuses; j++)
                any = any || (sj_case_status)cs->status == f->statuses[j];
            keep = keep && any;
        }
        if (keep)
            all[k++] = cs;
        else
            sanji__case__free_unpacked(cs, NULL);
    }
    out->cases = all;
    out->n = k;
    return 0;
}

void sc_case_list_free(sc_case_list *l)
{
    sc_store_cases_free(l->cases, l->n);
    memset(l, 0, sizeof(*l));
}

bool sc_searches_at_peer(const sc_client *c)
{
    return sc_link_live_only(c);
}

int sc_search_cases(sc_client *c, const Sanji__CaseListQuery *q, sc_case_page *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    /* A category's items come from the cached catalogue. */
    const char **items = NULL;
    size_t n_items = 0;
    if (q->category && *q->category && c->catalogue) {
        items = calloc(c->catalogue->n_items + 1, sizeof(*items));
        if (!items)
            return sj_error_set(err, SJ_ENOMEM, NULL);
        for (size_t i = 0; i < c->catalogue->n_items; i++)
            if (strcmp(nz(c->catalogue->items[i]->category), q->category) == 0)
                items[n_items++] = c->catalogue->items[i]->code;
    }
    /* The store holds this node's scope only (the feed and sc_keep_case()
     * check it): no scope condition to test on every row. */
    const char *stand_for[64];
    size_t n_stand_for =
        c->persons && q->mine
            ? sj_case_search_stand_for(c->persons->persons, c->persons->n_persons,
                                       q->for_person, stand_for, 64)
            : 0;
    sj_case_search_viewer v = {.role = c->node.role,
                               .unit = c->node.unit,
                               .scope = NULL,
                               .category_items = items,
                               .n_category_items = n_items,
                               .now_ms = sj_clock_real_ms(),
                               .stand_for = stand_for,
                               .n_stand_for = n_stand_for};
    int rc = sc_store_case_search(c->st, q, &v, &out->cases, &out->n, &out->total, &out->capped,
                                  err);
    free(items);
    return rc;
}

void sc_case_page_free(sc_case_page *p)
{
    sc_store_cases_free(p->cases, p->n);
    memset(p, 0, sizeof(*p));
}

int sc_keep_case(sc_client *c, const Sanji__Case *cs, sj_error *err)
{
    if (!cs || cs->case_id.len != 16 || !sj_orgunit_contains(c->node.unit, nz(cs->village)))
        return sj_error_set(err, SJ_EINVAL, "case outside this desk's scope");
    return sc_feed_keep_if_held(c, cs, NULL, true, err);
}

typedef struct fetch_req {
    sc_fetch_cb cb;
    void *data;
} fetch_req;

static void on_fetched(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    fetch_req *f = data;
    sj_error err;
    sj_error_clear(&err);
    const Sanji__CaseDetail *d =
        status == 0 && res && res->result_case == SANJI__QUERY_RESULT__RESULT_CASE_DETAIL
            ? res->case_detail
            : NULL;
    if (status == 0 && (!d || !d->case_ || d->case_->case_id.len != 16 ||
                        !sj_orgunit_contains(c->node.unit, nz(d->case_->village))))
        status = SJ_EFRAME_BAD_FIELD;
    if (status == 0) {
        status = sc_store_begin(c->st, &err);
        if (status == 0)
            status = sc_store_case_put(c->st, d->case_, &err);
        for (size_t i = 0; status == 0 && i < d->n_events; i++)
            if (d->events[i]->case_id.len == 16 && d->events[i]->seq > 0)
                status = sc_store_event_put(c->st, d->events[i], &err);
        if (status == 0)
            status = sc_store_commit(c->st, &err);
        if (status != 0)
            sc_store_rollback(c->st);
    }
    if (status == 0) {
        sc_event ev = {.type = SC_EV_CASE_CHANGED,
                       .case_id = d->case_->case_id.data,
                       .case_number = nz(d->case_->number),
                       .snapshot = d->case_};
        sc_client_emit(c, &ev);
    }
    if (f->cb)
        f->cb(c, status, f->data);
    free(f);
}

int sc_fetch_case(sc_client *c, const uint8_t case_id[16], sc_fetch_cb cb, void *data,
                  sj_error *err)
{
    char id[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(case_id, id);
    return sc_fetch_case_ref(c, id, cb, data, err);
}

int sc_fetch_case_ref(sc_client *c, const char *ref, sc_fetch_cb cb, void *data, sj_error *err)
{
    if (sj_utf8_blank(ref))
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("Give a case number or case id."));
    fetch_req *f = calloc(1, sizeof(*f));
    if (!f)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    f->cb = cb;
    f->data = data;
    Sanji__CaseGetQuery g = SANJI__CASE_GET_QUERY__INIT;
    uint8_t case_id[16];
    if (sj_uuid_parse(ref, case_id, NULL) == 0) {
        g.case_id.data = case_id;
        g.case_id.len = 16;
    } else {
        g.number = (char *)ref;
    }
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_CASE_GET;
    q.case_get = &g;
    int rc = sc_query(c, &q, on_fetched, f, err);
    if (rc != 0)
        free(f);
    return rc;
}

int sc_status(sc_client *c, sc_status_info *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    out->link_up = c->conn && c->welcomed;
    out->caught_up = c->caught_up;
    out->upstream_online = out->link_up && c->upstream_online;
    out->upstream_last_contact_ms = c->upstream_last_ms;
    snprintf(out->peer_node, sizeof(out->peer_node), "%s", c->peer_node);
    out->last_error = c->last_error;
    out->lasting_refusal = c->lasting_refusal;
    snprintf(out->last_error_text, sizeof(out->last_error_text), "%s", c->last_error_text);
    out->catalogue_version = c->catalogue_version;
    out->org_tree_version = c->org_tree_version;
    out->person_version = c->person_version;
    out->feed_deltas = c->deltas_applied;
    int rc = sc_store_outbox_counts(c->st, &out->outbox, err);
    if (rc != 0)
        return rc;
    sc_cursor *cur = NULL;
    size_t n = 0;
    if ((rc = sc_store_cursors(c->st, &cur, &n, err)) != 0)
        return rc;
    out->n_cursors = n;
    for (size_t i = 0; i < n && i < 16; i++)
        out->cursors[i] = cur[i];
    free(cur);
    return 0;
}

int sc_outbox(sc_client *c, sc_outbox_entry **out, size_t *n, sj_error *err)
{
    return sc_store_outbox_list(c->st, false, out, n, err);
}
