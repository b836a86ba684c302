-- 0011_notification.sql - notifying the villager of a result
-- (docs/LIFECYCLE.md "Notifying the villager", docs/SERVER.md "Notifier").
--
-- When a case is resolved, returned as undoable or waits for materials, the
-- transaction that applies the action also queues one message for the
-- applicant (notification, unique per case event: never lost, never
-- doubled).  The county server's notifier sends it through the configured
-- command (notify.command), retries a failure with back-off and records
-- every attempt (notification_attempt) and, on the case, an event by the
-- system (NOTIFIED 30 / NOTIFY_FAILED 31).  The cadre may choose "do not
-- notify" at registration (notify_state 4).  The ID number is never part
-- of a message.

ALTER TABLE cases
    ADD COLUMN notify_state       smallint NOT NULL DEFAULT 0 CHECK (notify_state BETWEEN 0 AND 4),
    ADD COLUMN notify_attempts    integer NOT NULL DEFAULT 0 CHECK (notify_attempts >= 0),
    ADD COLUMN notify_at_ms       bigint NOT NULL DEFAULT 0,
    ADD COLUMN notify_retry_at_ms bigint NOT NULL DEFAULT 0;

ALTER TABLE case_event
    ADD COLUMN notify_attempt     integer NOT NULL DEFAULT 0 CHECK (notify_attempt >= 0),
    ADD COLUMN notify_retry_at_ms bigint NOT NULL DEFAULT 0;

-- The notification actions (proto CaseActionType 30, 31) may be recorded.
ALTER TABLE case_event DROP CONSTRAINT case_event_action_check,
    ADD CONSTRAINT case_event_action_check CHECK (action BETWEEN 1 AND 31);

-- The outbox: one row per case event that calls for a message.  kind: 1
-- resolved, 2 returned, 3 materials requested (sj_notify_kind).  state:
-- pending (waits for next_attempt_at_ms), sending (an attempt under way; a
-- restart finds it and sends again), sent, failed (retries used up),
-- cancelled (the case was closed or withdrawn before it went out).
-- message: the text as first rendered, so that every retry sends the same.
CREATE TABLE notification (
    id                 bigserial PRIMARY KEY,
    case_id            uuid NOT NULL REFERENCES cases (case_id),
    event_seq          integer NOT NULL,
    kind               smallint NOT NULL CHECK (kind BETWEEN 1 AND 3),
    phone              text NOT NULL,
    state              text NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts           integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at_ms bigint NOT NULL,
    message            text NOT NULL DEFAULT '',
    last_error         text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, event_seq)
);
CREATE INDEX notification_due ON notification (next_attempt_at_ms)
    WHERE state IN ('pending', 'sending');

-- Every attempt: when, whether it was sent, and what failed.
CREATE TABLE notification_attempt (
    notification_id bigint NOT NULL REFERENCES notification (id),
    attempt         integer NOT NULL CHECK (attempt >= 1),
    at_ms           bigint NOT NULL,
    sent            boolean NOT NULL,
    error           text NOT NULL DEFAULT '',
    PRIMARY KEY (notification_id, attempt)
);
