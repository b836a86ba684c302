/*
 * batch.h - the county's batcher of upward messages: CaseSubmit,
 * CaseAction, PasswordChange and AttachmentChunk from every session wait
 * here in arrival order and go to the apply worker (worker.h) in batches,
 * one database commit each (group commit; apply.h).
 *
 * A batch starts when apply.batch_size messages wait or the oldest has
 * waited apply.batch_wait, and never while one is in flight: messages that
 * arrive meanwhile form the next one.  An attachment's chunk goes as a
 * batch of its own (attach_store.h).  Messages wait in memory, at most
 * apply.max_pending (waiting and in flight); past that the sender is told
 * SJ_EBUSY and closes its link (its relay resends later; nothing is
 * refused).  A batch that cannot be allocated stays pending and is tried
 * again after apply.batch_wait: nothing is lost, nothing exits.
 *
 * After a commit each sender gets its Ack through the hooks, and the feed
 * updates written go to the hooks' committed(); the batcher knows nothing
 * of sessions or of the daemon.
 *
 * Entry points: countyd_batcher_init(), countyd_batcher_upward(),
 * countyd_batcher_report(), countyd_batcher_stop(),
 * countyd_batcher_close(), countyd_batcher_register_metrics().
 */
#ifndef COUNTYD_BATCH_H
#define COUNTYD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "apply.h"
#include "server_config.h"
#include "worker.h"

/* What the batcher calls back (on the loop thread). */
typedef struct countyd_batcher_hooks {
    /* The Ack of one committed (or refused) message to its sender. */
    void (*ack)(void *sender, const uint8_t message_id[16], const countyd_apply_result *r,
                Sanji__Case *current, const countyd_peer *origin);
    /* Drops the reference to a sender given to countyd_batcher_upward(). */
    void (*release)(void *sender);
    /* After a commit: the feed updates it wrote (lost: some could not be
     * read back), and whether a message to a villager was queued. */
    void (*committed)(void *arg, Sanji__FeedUpdate **u, size_t n, bool lost, bool notify);
    void *arg;
} countyd_batcher_hooks;

typedef struct countyd_batcher {
    uv_loop_t *loop;
    const countyd_config *cfg;
    countyd_worker *apply;
    countyd_batcher_hooks hooks;
    uv_timer_t timer;
    struct countyd_upmsg *head, *tail;
    size_t n_pending, n_inflight;
    bool busy, stopping;
} countyd_batcher;

/* Sets up b on loop (its timer is a handle of the loop until
 * countyd_batcher_close()); batches go to apply. */
void countyd_batcher_init(countyd_batcher *b, uv_loop_t *loop, const countyd_config *cfg,
                          countyd_worker *apply, const countyd_batcher_hooks *hooks);

/* Queues an upward message: env is taken over (freed after its batch),
 * sender is a reference taken over (released through the hooks), peer is
 * copied.  Returns 0, or SJ_EBUSY (the bound is reached, or stopping) or
 * SJ_ENOMEM, with env freed and sender released. */
int countyd_batcher_upward(countyd_batcher *b, void *sender, Sanji__Envelope *env,
                           const countyd_peer *peer);

/* Sets the gauge of messages waiting or in a batch (each tick). */
void countyd_batcher_report(const countyd_batcher *b);

/* Begins the stop: no new batch starts, no message is taken. */
void countyd_batcher_stop(countyd_batcher *b);

/* After the stop, with the apply worker closed: frees the waiting
 * messages and closes the timer. */
void countyd_batcher_close(countyd_batcher *b);

/* The batches' figures (applied, refused, redelivered, sizes, latency,
 * pending) in the metrics registry. */
void countyd_batcher_register_metrics(void);

#endif
