/*
 * notify.h - the notifier's database side and its texts: the villager is
 * told when a case's result reaches the village (docs/LIFECYCLE.md
 * "Notifying the villager", docs/SERVER.md "Notifier").
 *
 * The apply path queues one `notification` row per case event that calls
 * for a message (apply.c, in the action's transaction).  The daemon's
 * notifier (daemon.c) then, one message at a time:
 *   1. countyd_notify_take(): the next due row, locked, is marked
 *      `sending` and its text rendered from the template of its kind
 *      (kept in the row, so that every retry sends the same text); a row
 *      whose case was closed or withdrawn meanwhile is `cancelled`;
 *   2. runs notify.command without blocking the loop (uv_spawn): the text on
 *      standard input, the phone and the case number in the environment;
 *      exit 0 within notify.timeout is success;
 *   3. countyd_notify_record(): in one transaction, the attempt
 *      (notification_attempt), the row's new state (sent; pending again at
 *      the back-off time; failed when notify.retry_max attempts are used)
 *      and the case's system event NOTIFIED or NOTIFY_FAILED
 *      (countyd_apply_system(), so that it goes down the village's feed).
 * A row found `sending` at start (the server stopped during an attempt)
 * is made pending again by countyd_notify_recover(): it is sent again (a
 * message may then go out twice; none is lost).
 *
 * Texts (countyd_notify_render()): a template with the placeholders
 * {county} (the county's name), {item} (the catalogue item's name),
 * {village} (the village's name), {materials} (the list asked for,
 * joined by "、") and {number} (the case number).  No placeholder gives
 * the applicant's name or ID number: a message never carries the ID number.
 *
 * Ownership: countyd_notify_msg's strings are malloc'ed; free them with
 * countyd_notify_msg_free().  Rendered text is malloc'ed for the caller.
 *
 * Entry points: countyd_notify_recover(), countyd_notify_take(),
 * countyd_notify_record(), countyd_notify_msg_free(); the texts are
 * notify_text.h's.
 */
#ifndef COUNTYD_NOTIFY_H
#define COUNTYD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "apply.h"
#include "case.h"
#include "err.h"
#include "notify_text.h"
#include "server_config.h"

/* One message being sent. */
typedef struct countyd_notify_msg {
    int64_t id; /* notification.id */
    uint8_t case_id[16];
    char *number, *phone, *text;
    sj_notify_kind kind;
    uint32_t attempt; /* this attempt's number, 1, 2 ... */
} countyd_notify_msg;

void countyd_notify_msg_free(countyd_notify_msg *m);

/* Rows left `sending` by a stop during an attempt are pending again.
 * Returns 0 or SJ_EDB/SJ_EDB_CONN. */
int countyd_notify_recover(PGconn *db, sj_error *err);

/* Takes the next message due at now (see above).  *found false: none due.
 * Returns 0, SJ_ENOMEM, SJ_EDB/SJ_EDB_CONN (nothing changed). */
int countyd_notify_take(PGconn *db, const countyd_config *cfg, int64_t now, countyd_notify_msg *m,
                        bool *found, sj_error *err);

/* Records the attempt m (sent, or failed with error) at now, with the
 * case's event; r is the system action's result (its feed row).  Returns
 * 0, or SJ_EDB/SJ_EDB_CONN with nothing recorded. */
int countyd_notify_record(countyd_apply *a, const countyd_config *cfg, const countyd_notify_msg *m,
                          bool sent, const char *error, int64_t now, countyd_apply_result *r,
                          sj_error *err);

#endif
