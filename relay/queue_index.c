/*
 * queue_index.c - the writer's in-memory index of the upward queue
 * (queue_index.h): an array in queue order, with the settled items marked
 * and squeezed out once they are the majority, and two hash tables (open
 * addressing, linear probing, deletion by backward shift): message id ->
 * seq, and case id -> how many items of the case, with its village.
 */
#include "queue_index.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    relay_queue_item it;
    bool live;
} slot;

typedef struct hent {
    uint8_t key[16];
    bool used;
    char village[RELAY_UNIT_SIZE];
    int64_t val; /* seq (messages) or count (cases) */
} hent;

typedef struct hmap {
    hent *t;
    size_t cap, n; /* cap a power of two, or 0 */
} hmap;

struct relay_qindex {
    slot *s;
    size_t head, n, cap; /* s[head .. n) in use */
    size_t live;
    uint64_t bytes;
    hmap by_id, by_case;
};

/* Ids are UUIDs (version 7 for messages: time first, random last), so
 * the last eight bytes are spread enough once mixed. */
static size_t hash16(const uint8_t k[16])
{
    uint64_t a, b;
    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ULL));
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
    return (size_t)h;
}

static hent *hmap_find(const hmap *m, const uint8_t key[16])
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hash16(key) & mask;; i = (i + 1) & mask) {
        if (!m->t[i].used)
            return NULL;
        if (memcmp(m->t[i].key, key, 16) == 0)
            return &m->t[i];
    }
}

static int hmap_grow(hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 256;
    hent *t = calloc(cap, sizeof *t);
    if (t == NULL)
        return SJ_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->t[i].used)
            continue;
        size_t j = hash16(m->t[i].key) & (cap - 1);
        while (t[j].used)
            j = (j + 1) & (cap - 1);
        t[j] = m->t[i];
    }
    free(m->t);
    m->t = t;
    m->cap = cap;
    return 0;
}

/* The entry of key, inserted (zeroed but for the key) when absent; NULL
 * when memory runs out. */
static hent *hmap_put(hmap *m, const uint8_t key[16])
{
    hent *e = hmap_find(m, key);
    if (e)
        return e;
    if (2 * (m->n + 1) > m->cap && hmap_grow(m) != 0)
        return NULL;
    size_t mask = m->cap - 1, i = hash16(key) & mask;
    while (m->t[i].used)
        i = (i + 1) & mask;
    memset(&m->t[i], 0, sizeof m->t[i]);
    memcpy(m->t[i].key, key, 16);
    m->t[i].used = true;
    m->n++;
    return &m->t[i];
}

/* Removes e, shifting back the entries of its probe run. */
static void hmap_del(hmap *m, hent *e)
{
    size_t mask = m->cap - 1, i = (size_t)(e - m->t), j = i;
    m->t[i].used = false;
    m->n--;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->t[j].used)
            return;
        size_t k = hash16(m->t[j].key) & mask;
        /* t[j] may move to the hole at i unless its home k lies
         * cyclically in (i, j]. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        m->t[i] = m->t[j];
        m->t[j].used = false;
        i = j;
    }
}

relay_qindex *relay_qindex_new(void)
{
    return calloc(1, sizeof(relay_qindex));
}

void relay_qindex_free(relay_qindex *q)
{
    if (q == NULL)
        return;
    free(q->s);
    free(q->by_id.t);
    free(q->by_case.t);
    free(q);
}

void relay_qindex_clear(relay_qindex *q)
{
    q->head = q->n = q->live = 0;
    q->bytes = 0;
    if (q->by_id.t)
        memset(q->by_id.t, 0, q->by_id.cap * sizeof *q->by_id.t);
    if (q->by_case.t)
        memset(q->by_case.t, 0, q->by_case.cap * sizeof *q->by_case.t);
    q->by_id.n = q->by_case.n = 0;
}

/* The slot of seq in s[head .. n), or NULL (binary search: seqs ascend). */
static slot *slot_of(const relay_qindex *q, int64_t seq)
{
    size_t lo = q->head, hi = q->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->s[mid].it.seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < q->n && q->s[lo].it.seq == seq ? &q->s[lo] : NULL;
}

/* Squeezes the settled slots out once they outnumber the live ones. */
static void compact(relay_qindex *q)
{
    size_t used = q->n - q->head;
    if (used < 64 || q->live * 2 > used)
        return;
    size_t w = 0;
    for (size_t r = q->head; r < q->n; r++)
        if (q->s[r].live)
            q->s[w++] = q->s[r];
    q->head = 0;
    q->n = w;
}

int relay_qindex_add(relay_qindex *q, const relay_queue_item *it)
{
    if (hmap_find(&q->by_id, it->message_id))
        return SJ_EEXISTS;
    if (q->n == q->cap) {
        compact(q);
        if (q->head > 0 && q->head * 2 >= q->cap) {
            memmove(q->s, q->s + q->head, (q->n - q->head) * sizeof *q->s);
            q->n -= q->head;
            q->head = 0;
        }
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 256;
        slot *s = realloc(q->s, cap * sizeof *s);
        if (s == NULL)
            return SJ_ENOMEM;
        q->s = s;
        q->cap = cap;
    }
    hent *ei = hmap_put(&q->by_id, it->message_id);
    if (ei == NULL)
        return SJ_ENOMEM;
    hent *ec = hmap_put(&q->by_case, it->case_id);
    if (ec == NULL) {
        hmap_del(&q->by_id, ei);
        return SJ_ENOMEM;
    }
    ei->val = it->seq;
    if (ec->val++ == 0)
        memcpy(ec->village, it->village, RELAY_UNIT_SIZE);
    slot *sl = &q->s[q->n++];
    sl->it = *it;
    sl->it.payload = NULL;
    sl->live = true;
    q->live++;
    q->bytes += it->len;
    return 0;
}

int relay_qindex_remove(relay_qindex *q, const uint8_t id[16])
{
    hent *ei = hmap_find(&q->by_id, id);
    if (ei == NULL)
        return SJ_ENOTFOUND;
    slot *sl = slot_of(q, ei->val);
    hmap_del(&q->by_id, ei);
    if (sl == NULL || !sl->live)
        return 0; /* cannot happen: the two are changed together */
    sl->live = false;
    q->live--;
    q->bytes -= sl->it.len <= q->bytes ? sl->it.len : q->bytes;
    hent *ec = hmap_find(&q->by_case, sl->it.case_id);
    if (ec && --ec->val <= 0)
        hmap_del(&q->by_case, ec);
    while (q->head < q->n && !q->s[q->head].live)
        q->head++;
    if (q->head == q->n)
        q->head = q->n = 0;
    return 0;
}

const relay_queue_item *relay_qindex_find(const relay_qindex *q, const uint8_t id[16])
{
    const hent *ei = hmap_find(&q->by_id, id);
    const slot *sl = ei ? slot_of(q, ei->val) : NULL;
    return sl && sl->live ? &sl->it : NULL;
}

const relay_queue_item *relay_qindex_next(const relay_qindex *q, relay_queue_lane lane,
                                          int64_t after_seq)
{
    size_t lo = q->head, hi = q->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->s[mid].it.seq <= after_seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < q->n; i++)
        if (q->s[i].live && q->s[i].it.lane == lane)
            return &q->s[i].it;
    return NULL;
}

bool relay_qindex_case(const relay_qindex *q, const uint8_t case_id[16],
                       char village[RELAY_UNIT_SIZE])
{
    const hent *ec = hmap_find(&q->by_case, case_id);
    if (ec == NULL)
        return false;
    if (village)
        memcpy(village, ec->village, RELAY_UNIT_SIZE);
    return true;
}

uint64_t relay_qindex_bytes(const relay_qindex *q)
{
    return q->bytes;
}

void relay_qindex_stats(const relay_qindex *q, relay_queue_stats *out)
{
    memset(out, 0, sizeof *out);
    out->depth = (uint32_t)q->live;
    out->bytes = q->bytes;
    for (size_t i = q->head; i < q->n; i++)
        if (q->s[i].live && (out->oldest_stored_at_ms == 0 ||
                             q->s[i].it.stored_at_ms < out->oldest_stored_at_ms))
            out->oldest_stored_at_ms = q->s[i].it.stored_at_ms;
}
