/*
 * store.h - the township relay's durable store: one SQLite file (WAL,
 * synchronous=FULL) holding the upward queue, the results of applied
 * messages, the downward feed with one cursor per village, the reference data
 * (catalogue, org tree, persons), the stations' last-seen table and a few
 * status values for sanji-relayctl.  The case cache is a file of its own
 * beside it, written from the feed (case_cache.h; format 7).
 *
 * Identity and integrity: a store names the relay it belongs to in its
 * `meta` table (format "sanji-relay-store", format version, node id).
 * relay_store_open() runs PRAGMA integrity_check and compares the meta
 * table; a damaged file is refused with SJ_ESTORE_CORRUPT, a store of
 * another relay or program (or of a newer format) with SJ_ESTORE_FOREIGN.
 * Nothing is ever reset silently: only a file that holds no table at all
 * (new, or empty) is initialised.  An older format is upgraded at open in
 * one transaction (format 6: docs/RELAY.md "Format 6").
 *
 * Transactions: every write joins the one open transaction, begun lazily by
 * the first write; relay_store_commit() makes all of them durable at once.
 * The daemon commits once per loop turn and only then sends the acks that
 * depend on the writes ("commits grouped per loop turn").  A failed commit
 * rolls back; nothing that depended on it may be acknowledged.
 *
 * Ownership: relay_store_open() allocates the store; relay_store_close()
 * rolls back an uncommitted transaction and frees it.  Blobs returned
 * through an out pointer are malloc'd and freed by the caller with free();
 * unpacked protobuf messages are freed with the matching
 * sanji__*__free_unpacked(msg, NULL).  A store belongs to one thread.
 *
 * Entry points: relay_store_open(), relay_store_open_readonly(),
 * relay_store_close(), relay_store_commit(), relay_store_rollback(),
 * relay_store_queue_*, relay_store_result_*, relay_store_feed_*,
 * relay_store_cursor_*, relay_store_case_*, relay_store_ref_*,
 * relay_store_station_*, relay_store_meta_*.
 */
#ifndef RELAY_STORE_H
#define RELAY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case_search.h"
#include "err.h"
#include "queue_item.h"
#include "sanji.pb-c.h"

#define RELAY_STORE_FORMAT "sanji-relay-store"
#define RELAY_STORE_FORMAT_VERSION 8

typedef struct relay_store relay_store;

/* Opens (creating if new) the store at path for the relay node_id
 * ("relay:410423101000"), checks it, and prepares it for writing.
 * Returns 0, SJ_ESTORE_CORRUPT, SJ_ESTORE_FOREIGN, SJ_EIO (cannot open or
 * create the file) or SJ_EDB, with err saying what to do. */
int relay_store_open(const char *path, const char *node_id, relay_store **out, sj_error *err);

/* Opens an existing store read-only (sanji-relayctl), checking its format
 * but not its node id.  Never writes.  Same returns. */
int relay_store_open_readonly(const char *path, relay_store **out, sj_error *err);

/* Rolls back an open transaction and frees st.  NULL is ignored. */
void relay_store_close(relay_store *st);

/* The node id the store belongs to. */
const char *relay_store_node_id(const relay_store *st);

/* Commits the open transaction (0 if none is open), or SJ_EDB after rolling
 * it back. */
int relay_store_commit(relay_store *st, sj_error *err);
void relay_store_rollback(relay_store *st);
bool relay_store_in_tx(const relay_store *st);

/* ---- the upward queue ---------------------------------------------------- */

/* Stores item (payload borrowed; seq and stored_at_ms filled in).  Refuses
 * with SJ_EEXISTS when the message id is already queued (nothing written),
 * SJ_EQUOTA when the queue would grow past quota_bytes (0: no limit). */
int relay_store_queue_add(relay_store *st, relay_queue_item *item, uint64_t quota_bytes,
                          int64_t now_ms, sj_error *err);

/* The first item of lane with seq > after_seq, payload included (caller
 * frees item->payload).  0 or SJ_ENOTFOUND.  (A writer's store only:
 * the queue's order is kept in memory.) */
int relay_store_queue_next(relay_store *st, relay_queue_lane lane, int64_t after_seq,
                           relay_queue_item *item, sj_error *err);

/* The queued item with this id (its lane too), without payload (len is
 * the payload's length), from memory.  0 or SJ_ENOTFOUND.  (A writer's
 * store only.) */
int relay_store_queue_find(relay_store *st, const uint8_t id[16], relay_queue_item *item,
                           sj_error *err);

/* Removes an item without a result (its row deleted now); 0 or
 * SJ_ENOTFOUND. */
int relay_store_queue_remove(relay_store *st, const uint8_t id[16], sj_error *err);

/* The same for the item relay_store_queue_find() found.  0 or
 * SJ_ENOTFOUND. */
int relay_store_queue_remove_found(relay_store *st, const relay_queue_item *found,
                                   sj_error *err);

/* Settles the queued message found (relay_store_queue_find(), or what the
 * forwarding side remembered of it) with the county's final Ack, packed
 * (ack_len bytes): stores the result as relay_store_result_put() does and
 * takes the message off the queue, in the open transaction.  The result
 * row is what makes the settling durable: the message's queue row is not
 * rewritten but deleted later with others (store format 6, docs/RELAY.md
 * "The store").  0, SJ_ENOTFOUND (not queued; nothing written) or SJ_EDB. */
int relay_store_queue_settle(relay_store *st, const relay_queue_item *found, const uint8_t *ack,
                             size_t ack_len, int64_t now_ms, sj_error *err);

/* True if a message on case_id is queued; *village (may be NULL) gets its
 * village. */
bool relay_store_queue_has_case(relay_store *st, const uint8_t case_id[16],
                                char village[RELAY_UNIT_SIZE]);

int relay_store_queue_stats(relay_store *st, relay_queue_stats *out, sj_error *err);

/* ---- results of applied or refused messages ------------------------------ */

/* Records the county's final Ack (packed Sanji__Ack) for message id, sent by
 * origin_node, for delivery and for answering redeliveries.  Replaces an
 * earlier result of the same id. */
int relay_store_result_put(relay_store *st, const uint8_t id[16], const char *origin_node,
                           const char *village, const uint8_t case_id[16],
                           const uint8_t *ack, size_t ack_len, int64_t now_ms, sj_error *err);

/* The result of id: *ack (malloc'd, caller frees) and its length; village
 * (may be NULL) gets the case's village.  0 or SJ_ENOTFOUND. */
int relay_store_result_get(relay_store *st, const uint8_t id[16], uint8_t **ack,
                           size_t *ack_len, char village[RELAY_UNIT_SIZE], sj_error *err);

/* The village of a case named in a kept result; 0 or SJ_ENOTFOUND. */
int relay_store_result_case_village(relay_store *st, const uint8_t case_id[16],
                                    char village[RELAY_UNIT_SIZE]);

/* Calls cb for every result of origin_node not yet delivered, oldest first,
 * until cb returns non-zero (which is returned). */
typedef int (*relay_store_result_cb)(void *arg, const uint8_t id[16], const uint8_t *ack,
                                     size_t ack_len);
int relay_store_result_each_undelivered(relay_store *st, const char *origin_node,
                                        relay_store_result_cb cb, void *arg, sj_error *err);

int relay_store_result_mark_delivered(relay_store *st, const uint8_t id[16], sj_error *err);

/* Deletes results stored before before_ms; *removed (may be NULL) says how
 * many. */
int relay_store_result_expire(relay_store *st, int64_t before_ms, size_t *removed,
                              sj_error *err);

/* ---- the downward feed, cursors and the case cache ----------------------- */

/* Stores one FeedUpdate if its seq is exactly the village's cursor + 1:
 * the update, the case snapshot and the event, advancing the cursor, all in
 * the open transaction.  Returns 0 when stored, SJ_EEXISTS for an old or
 * repeated update (nothing written), SJ_EAGAIN for a gap (nothing written;
 * ask for the feed again from the cursor), SJ_EINVAL for an update without
 * village or seq. */
int relay_store_feed_put(relay_store *st, const Sanji__FeedUpdate *u, sj_error *err);

/* The update of village with the smallest seq > after_seq, unpacked (free
 * with sanji__feed_update__free_unpacked(*out, NULL)).  0 or SJ_ENOTFOUND. */
int relay_store_feed_next(relay_store *st, const char *village, uint64_t after_seq,
                          Sanji__FeedUpdate **out, sj_error *err);

/* The village's cursor: the last seq stored (0 when none). */
uint64_t relay_store_cursor_get(relay_store *st, const char *village);

/* Calls cb for every village with a cursor, in code order. */
typedef int (*relay_store_cursor_cb)(void *arg, const char *village, uint64_t seq);
int relay_store_cursor_each(relay_store *st, relay_store_cursor_cb cb, void *arg,
                            sj_error *err);

/* The cached case (free with sanji__case__free_unpacked(*out, NULL)).
 * 0 or SJ_ENOTFOUND. */
int relay_store_case_get(relay_store *st, const uint8_t case_id[16], Sanji__Case **out,
                         sj_error *err);
/* The same by case number. */
int relay_store_case_get_by_number(relay_store *st, const char *number, Sanji__Case **out,
                                   sj_error *err);

/* Calls cb for every cached case whose village lies in unit (a village or
 * the township code), newest registration first.  cb borrows c. */
typedef int (*relay_store_case_cb)(void *arg, const Sanji__Case *c);
int relay_store_case_each(relay_store *st, const char *unit, relay_store_case_cb cb, void *arg,
                          sj_error *err);

/* Calls cb for each case of one page of the cached cases matching q
 * (PROTOCOL.md "Case search"), in q's order, through the cache's search
 * columns and indexes (common/domain/case_search.h); *total counts the matches
 * (up to q->count_limit when set, *capped then true).  cb borrows c. */
int relay_store_case_search(relay_store *st, const Sanji__CaseListQuery *q,
                            const sj_case_search_viewer *viewer, relay_store_case_cb cb, void *arg,
                            uint32_t *total, bool *capped, sj_error *err);

/* Calls cb for every cached event of a case, in seq order.  cb borrows e. */
typedef int (*relay_store_event_cb)(void *arg, const Sanji__CaseEvent *e);
int relay_store_case_events(relay_store *st, const uint8_t case_id[16], relay_store_event_cb cb,
                            void *arg, sj_error *err);

/* ---- reference data ------------------------------------------------------ */

typedef enum relay_ref_kind {
    RELAY_REF_CATALOGUE = 0, /* packed CatalogueSync */
    RELAY_REF_ORG_TREE = 1,  /* packed OrgTreeSync */
    RELAY_REF_PERSONS = 2,   /* packed PersonSync */
    RELAY_REF_DUTY = 3,      /* packed DutySync (值班表) */
} relay_ref_kind;

/* Replaces the kind's data (payload borrowed). */
int relay_store_ref_put(relay_store *st, relay_ref_kind kind, uint64_t version,
                        const uint8_t *payload, size_t len, sj_error *err);
/* *payload malloc'd (caller frees); *version 0 and *payload NULL when none
 * is stored (returns 0 then too). */
int relay_store_ref_get(relay_store *st, relay_ref_kind kind, uint64_t *version,
                        uint8_t **payload, size_t *len, sj_error *err);

/* ---- stations and status ------------------------------------------------- */

/* What the relay knows of one station (or desk) it has seen. */
typedef struct relay_station {
    const char *node;
    bool connected;
    int64_t last_seen_ms;
    uint32_t outbox_depth;      /* as last reported by the station */
    int64_t cert_not_after_ms;  /* its certificate's notAfter as last linked; 0 unknown */
} relay_station;

int relay_store_station_put(relay_store *st, const relay_station *station, sj_error *err);
typedef int (*relay_store_station_cb)(void *arg, const relay_station *station);
int relay_store_station_each(relay_store *st, relay_store_station_cb cb, void *arg,
                             sj_error *err);

/* Free-form status values (text) in the meta table, e.g. "upstream_online". */
int relay_store_meta_set(relay_store *st, const char *key, const char *value, sj_error *err);
/* Copies the value into buf; SJ_ENOTFOUND if unset. */
int relay_store_meta_get(relay_store *st, const char *key, char *buf, size_t cap);

#endif
