/*
 * queue_item.h - what the relay knows of one upward message in its queue
 * (relay_queue_item, its lane) and of the queue as a whole
 * (relay_queue_stats): shared by the store (store.h) and the writer's
 * in-memory index of the queue (queue_index.h).
 */
#ifndef RELAY_QUEUE_ITEM_H
#define RELAY_QUEUE_ITEM_H

#include <stddef.h>
#include <stdint.h>

#define RELAY_NODE_MAX 64
#define RELAY_UNIT_SIZE 13

/* The two lanes of the queue, forwarded to the county side by side
 * (upstream.c): case messages first, attachment chunks within
 * `upstream.chunk_window`, so that an upload never holds up a case action.
 * Each lane keeps its own order. */
typedef enum relay_queue_lane {
    RELAY_LANE_MESSAGE = 0, /* everything but attachment chunks */
    RELAY_LANE_CHUNK = 1,   /* AttachmentChunk */
} relay_queue_lane;

/* One queued upward message.  payload is the Envelope exactly as received. */
typedef struct relay_queue_item {
    int64_t seq;                        /* queue order, from 1 */
    uint8_t message_id[16];
    char origin_node[RELAY_NODE_MAX];   /* node of the link that sent it (its certificate) */
    char village[RELAY_UNIT_SIZE];      /* the case's village */
    uint8_t case_id[16];
    int64_t stored_at_ms;
    relay_queue_lane lane;              /* set by the caller of relay_store_queue_add() */
    uint8_t *payload;                   /* relay_store_queue_next(): malloc'd, caller frees */
    size_t len;
} relay_queue_item;

typedef struct relay_queue_stats {
    uint32_t depth;
    uint64_t bytes;
    int64_t oldest_stored_at_ms; /* 0 when empty */
} relay_queue_stats;

#endif
