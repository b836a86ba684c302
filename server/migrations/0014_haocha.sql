-- 0014_haocha.sql - the national 政务服务"好差评" scale (docs/LIFECYCLE.md
-- "Bad evaluations: rectify and call back", docs/STATISTICS.md "好差评").
--
-- Satisfaction takes five levels: 1 满意, 2 基本满意, 3 不满意 keep the
-- meaning they always had (no stored value changes), 4 非常满意 and 5
-- 非常不满意 are new.  A 差评 (3 or 5) starts a rectification (整改) with
-- its own due time on the county's calendar; the case records when it was
-- rectified, whether late, and when the villager was called back (回访).
-- Cases that were UNSATISFIED before this migration wait for their
-- rectification like new ones, without a due time (0: never overdue).

ALTER TABLE cases
    ADD COLUMN rectify_due_at_ms bigint NOT NULL DEFAULT 0,
    ADD COLUMN rectified_at_ms   bigint NOT NULL DEFAULT 0,
    ADD COLUMN called_back_at_ms bigint NOT NULL DEFAULT 0,
    ADD COLUMN rectify_late      boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT cases_satisfaction_check CHECK (satisfaction BETWEEN 0 AND 5);

ALTER TABLE case_event
    ADD COLUMN rectify_due_at_ms bigint NOT NULL DEFAULT 0,
    ADD COLUMN rectify_late      boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT case_event_satisfaction_check CHECK (satisfaction BETWEEN 0 AND 5);

-- RECTIFY 33, CALLBACK 34, RECTIFY_OVERDUE 35 (proto CaseActionType).
ALTER TABLE case_event DROP CONSTRAINT case_event_action_check,
    ADD CONSTRAINT case_event_action_check CHECK (action BETWEEN 1 AND 35);

-- The statistics' indexes of 0010, with what the 好差评 figures read: the
-- case's rectification columns, and every 差评 feedback (3 or 5, the
-- classification of common/domain/case.h SJ_SATISFACTION_BAD_SQL) instead of 3.
DROP INDEX cases_stats;
CREATE INDEX cases_stats ON cases (registered_at_ms)
    INCLUDE (case_id, village, item_code, department_code, status, handling, resolved_level,
             overdue, satisfaction, due_at_ms, urge_count, supervised, return_count,
             department_refusals, rectified_at_ms, called_back_at_ms, rectify_late);
DROP INDEX case_event_stats;
CREATE INDEX case_event_stats ON case_event (case_id)
    INCLUDE (action, at_ms, satisfaction, repeat_materials_request)
    WHERE (action IN (2, 8, 9, 23, 24) OR repeat_materials_request
           OR (action = 12 AND satisfaction IN (3, 5)));

-- The export of evaluations (sanji-countyd haocha-export) reads the
-- FEEDBACK and CALLBACK events of a period by time.
CREATE INDEX case_event_evaluation ON case_event (at_ms) WHERE action IN (12, 34);

-- The sweep's open rectifications past their due time.
CREATE INDEX cases_rectify_open ON cases (rectify_due_at_ms)
    WHERE rectified_at_ms = 0 AND rectify_due_at_ms > 0 AND NOT rectify_late;
