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

-- The clock's actions (proto CaseActionType 23..26: EXTEND_REQUEST,
-- EXTEND_APPROVE, EXTEND_REFUSE, DUE_RECOMPUTE) may be recorded, after the
-- departments' 18..22 (0005).
ALTER TABLE case_event DROP CONSTRAINT case_event_action_check,
    ADD CONSTRAINT case_event_action_check CHECK (action BETWEEN 1 AND 26);

-- The clock's columns, and the departments' (0005), hold no personal data:
-- the reporting database gets them (0003_report_publication.sql: a column is published only when a
-- migration adds it to the lists, which SET TABLE gives again in full).
ALTER PUBLICATION sanji_report SET TABLE
    org_unit, catalogue_category, catalogue_item,
    cases (case_id, number, village, item_code, item_name, item_min_level,
           first_receiver, first_receiver_name, holder_level, holder_unit,
           status, resume_status, version, registered_at_ms, due_at_ms,
           department, handling, overdue, warn_level, urge_count, supervised,
           materials_rounds, materials, result, return_reason, satisfaction,
           resolved_level, resolved_unit, updated_at_ms, closed_at_ms, urgent,
           appointment_at_ms, escalated, reached_county, recorded_at,
           department_code, department_refusals,
           limit_days, due_provisional, paused_at_ms, paused_days,
           extended_days, extension_days, return_count),
    case_event (case_id, seq, action, actor_person, actor_name, actor_node,
                actor_level, actor_unit, at_ms, recorded_at_ms, from_status,
                to_status, result, materials, satisfaction, department,
                message_id, repeat_materials_request, department_code, clock_days,
                due_at_ms, due_provisional);

-- A county that already made the reporting role (docs/SCALING.md) lets it
-- read the new published columns, as the initial copy of a subscription
-- needs.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sanji_report') THEN
        GRANT SELECT (department_code, department_refusals, limit_days, due_provisional,
                      paused_at_ms, paused_days, extended_days, extension_days, return_count)
            ON cases TO sanji_report;
        GRANT SELECT (department_code, clock_days, due_at_ms, due_provisional) ON case_event
            TO sanji_report;
    END IF;
END
$$;

-- The calendar the open cases' due times were last recomputed on (a
-- fingerprint of the holiday table, sj_calendar_fingerprint()): the county
-- server recomputes them when the table no longer matches it, at start and
-- before every sweep, so that importing a year reaches every open case.
-- Empty at first: the first start recomputes, which also marks the
-- provisional due times of cases registered before this migration.
CREATE TABLE calendar_recompute (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    fingerprint   text NOT NULL,
    recomputed_at timestamptz NOT NULL DEFAULT now()
);
