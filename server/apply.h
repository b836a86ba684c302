/*
 * apply.h - the county's apply path: upward CaseSubmit / CaseAction (and
 * PasswordChange) messages applied to PostgreSQL with authority (docs/ARCHITECTURE.md, G2, G3, G5).
 *
 * countyd_apply_batch() applies many messages in ONE transaction: BEGIN;
 * the persons and catalogue items held in memory are checked against
 * reference_version (refdata.h); each message is applied or refused; then
 * one COMMIT.  For each message, in order:
 *   1. the acting person exists, is active, belongs to the sender's org
 *      unit and has the role of the sender's node;
 *   2. CaseSubmit: the item exists and is active, the applicant's ID number
 *      and phone are valid, the case id is new; sj_case_register(); a case
 *      number <county 6>-<yyyymmdd>-<seq 5> (China date of the county's
 *      clock) and a due time (limit or urgent limit in working days on the
 *      holiday calendar) are assigned;
 *      CaseAction: the case is loaded FOR UPDATE and sj_case_apply() checks
 *      scope, version (G3), role, status and fields;
 *   3. the case, its event(s), one feed row per event for the village (next
 *      seq of a locked per-village counter: gapless) are written;
 *   4. the message id with its result is inserted; if the id was already
 *      recorded (a redelivery), whatever steps 1-3 did is undone and the
 *      stored result is returned instead (G2: a redelivery gets the
 *      original Ack, and nothing is applied twice).
 * A refusal records only the message id with the refusal, so a redelivery
 * gets the same refusal.  Data errors the database reports for one message
 * (SQLSTATE class 22/23) refuse that message; any other database failure
 * rolls back the whole batch and is returned, so that the caller can retry
 * it later (nothing was applied).
 * Modes: a batch without a message id twice first runs set-based: the
 * cases its actions need are read FOR UPDATE in one query, the state
 * machine decides every message in memory (several messages on one case
 * are judged against the case as the one before left it), and the writes
 * go to PostgreSQL as one statement per table (apply_set.h), all in one
 * pipeline.  With row_writes (config apply.set_based = false) the writes
 * are one statement per row in the pipeline, and only batches on distinct
 * cases run so ("pipelined").  There a redelivery or a case id that
 * exists is a unique violation that aborts the batch, and any failure of
 * the pipeline runs the batch again one message at a time, which finds
 * out what happened exactly.  That serial run takes no savepoints.  If a
 * message needs something undone (a data error, a refusal after a write, a
 * redelivery after a write), the batch is rolled back and run again with a
 * SAVEPOINT per message (RELEASE, or ROLLBACK TO on a refusal), so one bad
 * message never aborts the others.
 * Results are valid only when the call returns 0, i.e. after COMMIT.
 *
 * Ownership: countyd_apply_open() loads the holiday calendar into a
 * countyd_apply that countyd_apply_close() frees; the connection is
 * borrowed (the caller closes it) and must not be in a transaction.
 * Messages are borrowed for the call; results are caller storage.
 * countyd_apply_reload_calendar() rereads the holiday table (after an
 * import; the daemon does so before every sweep).
 *
 * Entry points: countyd_apply_open(), countyd_apply_close(),
 * countyd_apply_reload_calendar(), countyd_calendar_read(),
 * countyd_apply_batch(), countyd_apply_system(), countyd_apply_stored_result().
 */
#ifndef COUNTYD_APPLY_H
#define COUNTYD_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "calendar.h"
#include "case.h"
#include "err.h"
#include "refdata.h"
#include "sanji.pb-c.h"

/* Who sent a message: the node proved by its certificate (for a message a
 * relay forwarded, the original node, after the relay's scope was checked). */
typedef struct countyd_peer {
    Sanji__NodeRole role;          /* VILLAGE, TOWNSHIP_DESK or COUNTY_DESK */
    char unit[SJ_UNIT_CODE_SIZE];  /* org unit of the node */
    const char *node;              /* "village:410423101201", for the history */
} countyd_peer;

/* One upward message: exactly one of submit, action and password is set.
 * A password change (PasswordChange) is taken from a node where the
 * person may log in (check_person(), as for a case action), for an active
 * person, with a well-formed verifier and a time not before the password
 * the county holds was set (else SJ_ESTALE_VERSION: a newer reset wins);
 * it stores the verifier, clears must_change_password, writes an
 * admin_audit row (operator the person, node the sender) and raises the
 * person version, so the new verifier goes down in the PersonSync.
 * A batch holding one runs serially. */
typedef struct countyd_apply_msg {
    uint8_t message_id[16];
    const countyd_peer *peer;
    const Sanji__CaseSubmit *submit;
    const Sanji__CaseAction *action;
    const Sanji__PasswordChange *password;
} countyd_apply_msg;

/* What the Ack says. */
typedef struct countyd_apply_result {
    Sanji__AckStatus status;       /* APPLIED or REFUSED */
    int code;                      /* 0, or the SJ_E* refusal */
    char reason[SJ_ERROR_MESSAGE_MAX]; /* the cadre's text (refusal.h), Chinese by default */
    uint8_t case_id[16];
    char case_number[32];          /* "" until a number is assigned */
    uint64_t case_version;
    bool redelivered;              /* answered from the stored result */
    /* Downward feed rows written (0 if none): the village, the seq of the
     * first and of the last (countyd_apply_feed_row()). */
    char village[SJ_UNIT_CODE_SIZE];
    uint64_t feed_first, feed_seq;
    bool notify_queued;            /* a message to the villager was queued (notify.h) */
} countyd_apply_result;

typedef struct countyd_apply {
    PGconn *db;
    char county[7];                /* only villages of this county are served */
    sj_calendar *calendar;
    /* A 差评's 整改时限 in working days (haocha.rectify_days; set to
     * SJ_RECTIFY_DAYS_DEFAULT by countyd_apply_open()). */
    uint32_t rectify_days;
    /* Times before this are impossible (the county CA's notBefore,
     * server/ca_time.h); 0: no lower bound. */
    int64_t time_floor_ms;
    countyd_refdata_cache refs;    /* persons and items, checked once per batch */
    /* Internal to apply.c and apply_exec.c: the mode of the batch being
     * applied and what the current message did (see apply_one()). */
    bool serial_only;              /* never pipelined (config apply.pipeline = false; tests) */
    bool row_writes;               /* pipelined writes one statement per row, not per table
                                    * (config apply.set_based = false; tests) */
    bool pipelined, safe, wrote, recorded, record_fresh;
    bool number_later;             /* the message's case was registered in this batch */
    const countyd_apply_msg *cur;  /* the node's message being applied, or NULL */
    struct countyd_apply_pipe *pipe; /* the pipelined mode's deferred writes */
    unsigned serial_runs;          /* batches run again one message at a time: for tests */
    unsigned safe_runs;            /* batches that needed the safe mode: for tests */
    unsigned set_batches;          /* batches written set-based (apply_set.h): for tests */
} countyd_apply;

/* Binds to db and county (6 digits) and loads the holiday table.  Returns
 * 0, SJ_EINVAL, SJ_ENOMEM or SJ_EDB/SJ_EDB_CONN. */
int countyd_apply_open(countyd_apply *a, PGconn *db, const char *county, sj_error *err);
void countyd_apply_close(countyd_apply *a);

/* Rereads the holiday table into a->calendar; on failure the old calendar
 * stays.  Returns 0, SJ_ENOMEM or SJ_EDB/SJ_EDB_CONN. */
int countyd_apply_reload_calendar(countyd_apply *a, sj_error *err);

/* The holiday table as a calendar (*out, freed with sj_calendar_free()).
 * Returns 0, SJ_ENOMEM or SJ_EDB/SJ_EDB_CONN. */
int countyd_calendar_read(PGconn *db, sj_calendar **out, sj_error *err);

/* The stored result of message id message_id (text uuid) as it was
 * recorded when the message was applied or refused, into r (marked
 * redelivered; r is left alone when the id is not recorded).  Returns 1
 * when found, 0 when not, or SJ_EDB/SJ_EDB_CONN.  The one reading of the
 * processed-message row: a redelivered case message, a redelivered
 * attachment chunk (attach_store.c). */
int countyd_apply_stored_result(PGconn *db, const char *message_id, countyd_apply_result *r,
                                sj_error *err);

/* Applies n messages in one transaction (see above) and fills results[i]
 * for msgs[i].  Returns 0 after COMMIT, or SJ_EDB/SJ_EDB_CONN/SJ_ENOMEM
 * with nothing applied. */
int countyd_apply_batch(countyd_apply *a, const countyd_apply_msg *msgs, size_t n,
                        countyd_apply_result *results, sj_error *err);

/* One action of the SYSTEM actor of the county: the supervision sweep's
 * (sweep.h) OVERDUE, WARN at warn_percent, DUE_RECOMPUTE; the notifier's
 * (notify.h) NOTIFIED / NOTIFY_FAILED with the attempt, the retry time and
 * the error as note.  then_sql (with then_n parameters), when set, is run
 * in the same transaction after the action, whether the machine applied or
 * refused it: the notifier's record of the attempt, so that the attempt and
 * the case's event are committed together. */
typedef struct countyd_system_action {
    uint8_t case_id[16];
    sj_case_action type;
    uint32_t warn_percent;
    uint32_t notify_attempt;
    int64_t notify_retry_at_ms;
    const char *note;
    const char *then_sql;
    int then_n;
    const char *const *then_params;
} countyd_system_action;

/* Applies n system actions in one transaction, through the state machine
 * like any action (event, feed row; no message id).  A case the machine
 * refuses (e.g. no longer active) gets REFUSED in its result and changes
 * nothing.  Returns 0 after COMMIT, or SJ_EDB/SJ_EDB_CONN with nothing
 * applied. */
int countyd_apply_system(countyd_apply *a, const countyd_system_action *acts, size_t n,
                         countyd_apply_result *results, sj_error *err);

#endif
