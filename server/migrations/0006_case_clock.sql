-- 0006_case_clock.sql - the case's clock (docs/LIFECYCLE.md "The clock"):
-- the time limit runs from registration, stands while the case waits for
-- the villager's materials, and is extended only by an approved 延期.  The
-- due time is registered_at_ms + limit_days + paused_days + extended_days
-- working days on the holiday calendar, so that importing a year's holiday
-- arrangement can recompute it; a due time in a year the calendar does not
-- cover is provisional (暂定).  Returns down a level are counted.
--
-- Existing cases: the limit is taken from their catalogue item (the urgent
-- limit for urgent cases), the returns and the pause of a case waiting for
-- materials from their history.  Their due times stay as they were until a
-- recompute.

ALTER TABLE cases
    ADD COLUMN limit_days      integer NOT NULL DEFAULT 0 CHECK (limit_days >= 0),
    ADD COLUMN due_provisional boolean NOT NULL DEFAULT false,
    ADD COLUMN paused_at_ms    bigint NOT NULL DEFAULT 0,
    ADD COLUMN paused_days     integer NOT NULL DEFAULT 0 CHECK (paused_days >= 0),
    ADD COLUMN extended_days   integer NOT NULL DEFAULT 0 CHECK (extended_days >= 0),
    ADD COLUMN extension_days  integer NOT NULL DEFAULT 0 CHECK (extension_days >= 0),
    ADD COLUMN return_count    integer NOT NULL DEFAULT 0 CHECK (return_count >= 0);

UPDATE cases c SET limit_days = CASE WHEN c.urgent AND i.urgent_limit_days > 0
                                     THEN i.urgent_limit_days ELSE i.limit_days END
  FROM catalogue_item i WHERE i.code = c.item_code;

UPDATE cases c SET return_count = e.n
  FROM (SELECT case_id, count(*) AS n FROM case_event WHERE action = 5 GROUP BY case_id) e
 WHERE e.case_id = c.case_id;

UPDATE cases c SET paused_at_ms = e.at_ms
  FROM (SELECT case_id, max(at_ms) AS at_ms FROM case_event WHERE action = 6
        GROUP BY case_id) e
 WHERE c.status = 6 AND e.case_id = c.case_id;

-- What an event did to the clock: the working days paused, asked for,
-- granted or refused; the due time after it when it moved (0: unchanged).
ALTER TABLE case_event
    ADD COLUMN clock_days      integer NOT NULL DEFAULT 0 CHECK (clock_days >= 0),
    ADD COLUMN due_at_ms       bigint NOT NULL DEFAULT 0,
    ADD COLUMN due_provisional boolean NOT NULL DEFAULT false;

-- The clock's actions (proto CaseActionType 30..33: EXTEND_REQUEST,
-- EXTEND_APPROVE, EXTEND_REFUSE, DUE_RECOMPUTE) may be recorded.
ALTER TABLE case_event DROP CONSTRAINT case_event_action_check,
    ADD CONSTRAINT case_event_action_check
        CHECK (action BETWEEN 1 AND 17 OR action BETWEEN 30 AND 33);
