/*
 * query.h - answers to Query (PROTOCOL.md "Queries") from PostgreSQL,
 * within the asker's scope, and the network view's store of relays'
 * NodeStatus.
 *
 * The asker is the node proved by the link's certificate; for a query a
 * relay forwards, the original node named in sender_node when it lies in
 * the relay's township (else the relay itself).  Every read is limited to
 * the villages under the asker's unit.  Applicant ID numbers and phones are
 * masked unless the asker may see them (caserow.h); an asker of role relay
 * counts as its villages' cache and sees them unmasked.
 *
 * Answers: case_list (filters; limit default 200, at most 1000; total
 * counts the matches before limit/offset), case_get (by id or number, with
 * the history; another scope's case is SJ_EUNKNOWN_CASE, so ids cannot be
 * probed), catalogue (keyword in name, category or materials), org_tree,
 * network_status (every township and village of the scope from the org
 * tree, each with the latest NodeStatus its relay reported, the working
 * days it has been silent and each station's wrong passwords of the last
 * 24 hours; see proto NetworkStatus), statistics (by township, by
 * category, and all), period_statistics (stats.h, docs/STATISTICS.md).
 *
 * Ownership: the QueryResult's content comes from the caller's arena; out
 * is caller storage, initialised here.
 *
 * Entry points: countyd_query_answer(), countyd_netstat_store(),
 * countyd_login_failures_store(), countyd_login_failure_station().
 */
#ifndef COUNTYD_QUERY_H
#define COUNTYD_QUERY_H

#include <libpq-fe.h>

#include "arena.h"
#include "asker.h"
#include "case.h"
#include "err.h"
#include "identity.h"
#include "presence.h"
#include "sanji.pb-c.h"

struct countyd_stars_config;

/* The county's settings an answer uses (server_config.h network.*). */
typedef struct countyd_query_opts {
    uint32_t offline_warn_days;
    uint32_t cert_warn_days;
    const countyd_duty *duty; /* presence.*; NULL: the defaults */
    const struct countyd_stars_config *stars; /* stars.* (stars.h); NULL: the defaults */
} countyd_query_opts;

/* Fills out (code 0 and a result, or a refusal code and Chinese reason);
 * opts NULL means the defaults.  Returns 0 when out holds the answer
 * (refusals included), or SJ_EDB/SJ_EDB_CONN when the database failed (out
 * then says so too). */
int countyd_query_answer(PGconn *db, countyd_arena *a, const countyd_asker *asker,
                         const countyd_query_opts *opts, const Sanji__Query *q,
                         Sanji__QueryResult *out, sj_error *err);

/* Keeps st as the latest status of node (upsert).  Returns 0 or SJ_EDB*. */
int countyd_netstat_store(PGconn *db, const char *node, const char *unit,
                          const Sanji__NodeStatus *st, sj_error *err);

/* The station of ss when the relay of unit relay_unit may speak for it
 * (a station of its township); its unit into unit.  False otherwise. */
bool countyd_login_failure_station(const char *relay_unit, const Sanji__StationStatus *ss,
                                   char unit[SJ_UNIT_CODE_SIZE]);

/* Keeps the wrong passwords st (a relay's status) passes on from the
 * stations of relay_unit (login_failure), and drops those older than 30
 * days.  Returns 0 or SJ_EDB*. */
int countyd_login_failures_store(PGconn *db, const char *relay, const char *relay_unit,
                                 const Sanji__NodeStatus *st, sj_error *err);

#endif
