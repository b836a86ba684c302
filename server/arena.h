/*
 * arena.h - a region allocator for the county's reply trees: the protobuf
 * messages (QueryResult, FeedUpdate, CatalogueSync ...) that a worker
 * builds from PostgreSQL rows and the loop sends and then drops at once.
 *
 * Every block is freed together by countyd_arena_free(), so builders never
 * track the many small strings and arrays of a message.  Out of memory is
 * exhaustion, not a peer's fault: the process logs it and exits (the
 * failure policy of docs/ARCHITECTURE.md), so the allocation functions never return
 * NULL.
 *
 * Ownership: a countyd_arena is caller storage (zero it, or
 * countyd_arena_init()); what it hands out belongs to it until
 * countyd_arena_free(), after which the arena may be reused.  Not
 * thread-safe: one arena is used by one thread at a time (a worker fills
 * it, then the loop reads and frees it).
 *
 * Entry points: countyd_arena_init(), countyd_arena_alloc(),
 * countyd_arena_strdup(), countyd_arena_strndup(), countyd_arena_free().
 */
#ifndef COUNTYD_ARENA_H
#define COUNTYD_ARENA_H

#include <stddef.h>

typedef struct countyd_arena_block countyd_arena_block;

typedef struct countyd_arena {
    countyd_arena_block *head;
    size_t used; /* bytes handed out, for the log */
} countyd_arena;

void countyd_arena_init(countyd_arena *a);

/* n zeroed bytes, aligned for any type. */
void *countyd_arena_alloc(countyd_arena *a, size_t n);

/* Copies of s (NULL gives ""), and of its first n bytes. */
char *countyd_arena_strdup(countyd_arena *a, const char *s);
char *countyd_arena_strndup(countyd_arena *a, const char *s, size_t n);

/* Frees every block; the arena is empty and reusable afterwards. */
void countyd_arena_free(countyd_arena *a);

#endif
