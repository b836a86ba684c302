/*
 * queue_index.h - the relay's upward queue as the writer keeps it in
 * memory (store format 6, docs/RELAY.md "The store"): every message queued
 * and not yet settled by the county, in queue order, found by message id
 * and by case id without asking SQLite.  The store (store.c) keeps it in
 * step with its tables and rebuilds it from them at open and after a
 * rollback; the table row of a message is written once, when it is
 * queued, and its settling is the county's result stored beside it.
 *
 * Ownership: relay_qindex_new() allocates, relay_qindex_free() frees.
 * Items are copied in without their payload (payload stays NULL; len is
 * the payload's length).  Pointers returned stay valid until the next
 * change of the index.
 *
 * Entry points: relay_qindex_new(), relay_qindex_free(),
 * relay_qindex_clear(), relay_qindex_add(), relay_qindex_remove(),
 * relay_qindex_find(), relay_qindex_next(), relay_qindex_case(),
 * relay_qindex_bytes(), relay_qindex_stats().
 */
#ifndef RELAY_QUEUE_INDEX_H
#define RELAY_QUEUE_INDEX_H

#include <stdbool.h>

#include "err.h"
#include "queue_item.h"

typedef struct relay_qindex relay_qindex;

relay_qindex *relay_qindex_new(void);
void relay_qindex_free(relay_qindex *q);
/* Forgets every item (kept allocations are reused). */
void relay_qindex_clear(relay_qindex *q);

/* Adds it (its seq greater than every seq added before since the last
 * clear).  0, SJ_EEXISTS (message id already there, nothing changed) or
 * SJ_ENOMEM (nothing changed). */
int relay_qindex_add(relay_qindex *q, const relay_queue_item *it);

/* Removes the item of message id; 0 or SJ_ENOTFOUND. */
int relay_qindex_remove(relay_qindex *q, const uint8_t id[16]);

/* The item of message id, or NULL. */
const relay_queue_item *relay_qindex_find(const relay_qindex *q, const uint8_t id[16]);

/* The first item of lane with seq > after_seq, or NULL. */
const relay_queue_item *relay_qindex_next(const relay_qindex *q, relay_queue_lane lane,
                                          int64_t after_seq);

/* Whether an item of case_id is there; village (may be NULL) gets its
 * village. */
bool relay_qindex_case(const relay_qindex *q, const uint8_t case_id[16],
                       char village[RELAY_UNIT_SIZE]);

/* The payload bytes of the items (the quota's count). */
uint64_t relay_qindex_bytes(const relay_qindex *q);

/* Depth, payload bytes and the oldest stored_at_ms (0 when empty; a scan
 * of the items). */
void relay_qindex_stats(const relay_qindex *q, relay_queue_stats *out);

#endif
