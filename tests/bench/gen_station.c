/*
 * gen_station.c - a station's store filled from the county (see
 * gen_station.h).
 *
 * Entry points: gen_station_fill().
 */
#include "gen_station.h"

#include <stdio.h>

#include <libpq-fe.h>

#include "arena.h"
#include "query.h"
#include "store.h"

#define PAGE 1000

int gen_station_fill(const char *conninfo, const char *village, const char *store_path,
                     uint64_t max, uint64_t *got, sj_error *err)
{
    *got = 0;
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        int rc = sj_error_set(err, SJ_EDB_CONN, "%s", PQerrorMessage(db));
        PQfinish(db);
        return rc;
    }
    countyd_asker k = {.role = SJ_NODE_ROLE_VILLAGE, .level = SJ_LEVEL_VILLAGE};
    snprintf(k.unit, sizeof(k.unit), "%s", village);
    char node[64];
    snprintf(node, sizeof(node), "village:%s", village);
    sc_store *st = NULL;
    int rc = sc_store_open(store_path, node, &st, err);
    for (uint32_t off = 0; rc == 0 && *got < max; off += PAGE) {
        Sanji__CaseListQuery q = SANJI__CASE_LIST_QUERY__INIT;
        q.limit = PAGE;
        q.offset = off;
        q.count_limit = 1;
        Sanji__Query query = SANJI__QUERY__INIT;
        query.kind_case = SANJI__QUERY__KIND_CASE_LIST;
        query.case_list = &q;
        countyd_arena a;
        countyd_arena_init(&a);
        Sanji__QueryResult res;
        rc = countyd_query_answer(db, &a, &k, NULL, &query, &res, err);
        size_t n = rc == 0 && res.case_list ? res.case_list->n_cases : 0;
        if (rc == 0 && res.code != 0)
            rc = sj_error_set(err, res.code, "%s", res.reason);
        /* One transaction per page, as the feed commits. */
        if (rc == 0 && n > 0 && (rc = sc_store_begin(st, err)) == 0) {
            for (size_t i = 0; i < n && rc == 0 && *got < max; i++, (*got)++)
                rc = sc_store_case_put(st, res.case_list->cases[i], err);
            if (rc == 0)
                rc = sc_store_commit(st, err);
            else
                sc_store_rollback(st);
        }
        countyd_arena_free(&a);
        if (n < PAGE)
            break;
    }
    sc_store_close(st);
    PQfinish(db);
    return rc;
}
