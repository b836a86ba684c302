/*
 * arena.c - the region allocator of reply trees (see arena.h).
 *
 * Entry points: countyd_arena_init(), countyd_arena_alloc(),
 * countyd_arena_strdup(), countyd_arena_strndup(), countyd_arena_free().
 */
#include "arena.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define BLOCK_MIN 16384

struct countyd_arena_block {
    countyd_arena_block *next;
    size_t cap, used;
    alignas(max_align_t) unsigned char data[];
};

void countyd_arena_init(countyd_arena *a)
{
    a->head = NULL;
    a->used = 0;
}

static void exhausted(size_t n)
{
    char size[32];
    snprintf(size, sizeof(size), "%zu", n);
    SJ_LOG_ERROR("countyd", "内存耗尽，退出 (out of memory; exiting)", "bytes", size);
    exit(70);
}

void *countyd_arena_alloc(countyd_arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    if (n == 0)
        n = align;
    countyd_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            exhausted(cap);
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *countyd_arena_strndup(countyd_arena *a, const char *s, size_t n)
{
    char *p = countyd_arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *countyd_arena_strdup(countyd_arena *a, const char *s)
{
    return countyd_arena_strndup(a, s ? s : "", s ? strlen(s) : 0);
}

void countyd_arena_free(countyd_arena *a)
{
    countyd_arena_block *b = a->head;
    while (b) {
        countyd_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}
