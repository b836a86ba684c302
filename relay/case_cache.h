/*
 * case_cache.h - the relay's case cache: every case of the township's
 * villages with its history, searchable (common/domain/case_search.h), kept
 * in a file of its own beside the relay store ("<store>.cache") and written
 * by a thread of its own from the store's feed table.
 *
 * Why apart: the cache's dozen search indexes cost tens of milliseconds per
 * thousand feed updates; written on the relay's loop they held every link
 * still that long once a second (docs/PERFORMANCE.md "The case cache off
 * the loop").  The cache is derived data: the store's feed table holds every
 * update, and the cache file's `cached` marks say how far each village's
 * feed is in it, written in the same transaction as the rows.  So the file
 * needs no fsync of its own (synchronous=NORMAL: a power cut may lose its
 * last batches, never its consistency) and may be deleted at any time: the
 * next start writes it again from the feed.  A cache whose marks are ahead
 * of the store's feed (a store restored from an older backup, or moved
 * away) is emptied and written again.
 *
 * The writer thread owns one connection (the cache file, with the store
 * attached read-only as `s`); the loop thread reads through another.  The
 * loop thread tells the writer after each store commit how many feed
 * updates it held (relay_cache_committed()); the writer waits until
 * RELAY_CACHE_BATCH of them or RELAY_CACHE_WAIT_MS after the first, then
 * writes everything the feed holds past its marks in one transaction.
 * relay_cache_sync() makes the loop thread wait until everything committed
 * so far is written (a read that must see it).
 *
 * Entry points: relay_cache_open(), relay_cache_close(),
 * relay_cache_committed(), relay_cache_written(), relay_cache_sync(),
 * relay_cache_case_get(), relay_cache_case_get_by_number(),
 * relay_cache_case_each(), relay_cache_case_search(),
 * relay_cache_case_events().
 */
#ifndef RELAY_CASE_CACHE_H
#define RELAY_CASE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case_search.h"
#include "err.h"
#include "sanji.pb-c.h"

/* Feed updates written together (at most), and how long the first of them
 * waits at most: the indexes then take one page write per page changed in
 * the batch instead of one per update.  The relay holds the updates not
 * yet written in memory (store.c), so this also bounds that memory: 4 096
 * made the thread's CPU per update 15-25 % less but let a large feed sit
 * in memory (docs/PERFORMANCE.md "The case cache's indexes"). */
#define RELAY_CACHE_BATCH 1024
#define RELAY_CACHE_WAIT_MS 1000

typedef struct relay_cache relay_cache;

/* Opens the cache of the store at store_path (the file store_path +
 * ".cache", created if missing; one that does not open as a cache is
 * replaced).  A writer starts its thread, which first writes what the feed
 * holds past the marks.  A read-only cache (sanji-relayctl) never writes
 * and reads nothing when the file is missing or does not open.  Returns 0,
 * SJ_ENOMEM, SJ_EIO or SJ_EDB with err. */
int relay_cache_open(const char *store_path, bool read_only, relay_cache **out, sj_error *err);

/* Writes what is left (a stop in order leaves the cache complete), stops
 * the thread and frees everything.  NULL is ignored. */
void relay_cache_close(relay_cache *c);

/* After a store commit that held n feed updates (n > 0): returns the
 * commit's number, which relay_cache_written() reaches once they are in the
 * cache. */
uint64_t relay_cache_committed(relay_cache *c, size_t n);

/* The number of the last commit whose feed updates are all in the cache. */
uint64_t relay_cache_written(relay_cache *c);

/* Waits until the feed updates of every commit reported so far are in the
 * cache.  Returns 0, or the writer's error when it could not write them
 * (it tries again meanwhile). */
int relay_cache_sync(relay_cache *c, sj_error *err);

/* Reads, on the loop thread, of what is written (callers sync first when
 * they must see the latest).  As relay_store_case_* (store.h). */
typedef int (*relay_cache_case_cb)(void *arg, const Sanji__Case *c);
typedef int (*relay_cache_event_cb)(void *arg, const Sanji__CaseEvent *e);
int relay_cache_case_get(relay_cache *c, const uint8_t case_id[16], Sanji__Case **out,
                         sj_error *err);
int relay_cache_case_get_by_number(relay_cache *c, const char *number, Sanji__Case **out,
                                   sj_error *err);
int relay_cache_case_each(relay_cache *c, const char *unit, relay_cache_case_cb cb, void *arg,
                          sj_error *err);
int relay_cache_case_search(relay_cache *c, const Sanji__CaseListQuery *q,
                            const sj_case_search_viewer *viewer, relay_cache_case_cb cb,
                            void *arg, uint32_t *total, bool *capped, sj_error *err);
int relay_cache_case_events(relay_cache *c, const uint8_t case_id[16], relay_cache_event_cb cb,
                            void *arg, sj_error *err);

#endif
