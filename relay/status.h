/*
 * status.h - the relay's NodeStatus: upstream link state and last contact,
 * queue depth, bytes and oldest age, stations with last seen, and the
 * per-village feed cursors.  The same picture is sent to the county in
 * heartbeats, answered to network_status queries, and printed by
 * sanji-relayctl from the store.
 *
 * Ownership: relay_status_collect() fills a caller-owned Sanji__NodeStatus
 * (initialised by it) with arrays and strings it allocates;
 * relay_status_release() frees them and leaves ns reusable.
 *
 * Wrong passwords stations report (common/domain/login_report.h) wait in the
 * store's meta table, one report per station, until a status to the county
 * has carried them (StationStatus.login_failures and failed_logins).
 *
 * A township desk's network view also lists the villages of its scope
 * whose station the relay never saw (relay_status_add_unseen(), from the
 * org tree the county sent); the heartbeat to the county does not, since
 * the county lists them from its own org tree.
 *
 * Entry points: relay_status_collect(), relay_status_add_unseen(),
 * relay_status_release(), relay_status_print(),
 * relay_status_note_login_failures(), relay_status_note_presence(),
 * relay_status_forwarded().
 */
#ifndef RELAY_STATUS_H
#define RELAY_STATUS_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "sanji.pb-c.h"
#include "store.h"

/* Fills ns from the store: the meta values the daemon keeps
 * (upstream_online, upstream_last_contact_ms, started_at_ms, quota), the
 * queue, stations (only those in scope_unit when it is not NULL) and
 * cursors.  Returns 0 or SJ_EDB / SJ_ENOMEM. */
int relay_status_collect(relay_store *st, const char *scope_unit, Sanji__NodeStatus *ns,
                         sj_error *err);

void relay_status_release(Sanji__NodeStatus *ns);

/* Adds the n wrong-password reports a station sent (its NodeStatus) to
 * what waits for the county.  Returns 0 or SJ_EDB. */
int relay_status_note_login_failures(relay_store *st, const char *station,
                                     Sanji__LoginFailures *const *lf, size_t n, sj_error *err);

/* Keeps a station's presence as it reported it (NodeStatus.logged_in and
 * last_login_ms), for the statuses the relay sends upward (StationStatus
 * logged_in, last_login_ms).  Returns 0 or SJ_EDB. */
int relay_status_note_presence(relay_store *st, const char *station, uint32_t logged_in,
                               int64_t last_login_ms, sj_error *err);

/* After ns (from relay_status_collect()) went to the county: drops the
 * wrong-password reports it carried.  Returns 0 or SJ_EDB. */
int relay_status_forwarded(relay_store *st, const Sanji__NodeStatus *ns, sj_error *err);
/* Adds to ns a never_connected StationStatus for every village of the
 * stored org tree within scope_unit that ns has no station of.  Without a
 * stored tree it adds nothing.  Returns 0, SJ_ENOMEM or a store error. */
int relay_status_add_unseen(relay_store *st, const char *scope_unit, Sanji__NodeStatus *ns,
                            sj_error *err);

/* Writes a readable report (Chinese first) for an operator. */
void relay_status_print(FILE *out, const Sanji__NodeStatus *ns, int64_t now_ms);

#endif
