-- 0017_case_event_figures.sql - the figures of a case's history that the
-- period statistics count, kept on the case row (docs/STATISTICS.md,
-- docs/DATA.md "cases").
--
-- The statistics of a period read, per case, six figures of its events:
-- when it was last finished (即办, 办结, 退办: actions 2, 8, 9), how many
-- events asked for the same materials again, how many extensions were asked
-- for (23) and approved (24), whether a feedback (12) said 不满意 (3) and
-- whether one was a 差评 (3 or 5, common/domain/case.h SJ_SATISFACTION_BAD_SQL).
-- Reading them from case_event cost one index lookup per case (a year of a
-- million-case county: 0.5 - 0.8 s); the county's apply path now keeps them
-- on the case in the statement that appends the event (server/apply.c
-- EVENT_SQL, server/apply_set.c SET_EVENT_SQL), and the statistics read
-- them from cases_stats with the other columns.
--
-- finished_event_at_ms is 0 while no finishing event was recorded.
--
-- On a county that already holds many cases the backfill rewrites every
-- case row that has such events and the covering index is built again
-- while the tables are held (about six minutes per million cases); run it in
-- a quiet hour (docs/OPERATIONS.md, upgrades).

ALTER TABLE cases
    ADD COLUMN finished_event_at_ms bigint  NOT NULL DEFAULT 0,
    ADD COLUMN repeat_requests      integer NOT NULL DEFAULT 0,
    ADD COLUMN extensions_asked     integer NOT NULL DEFAULT 0,
    ADD COLUMN extensions_approved  integer NOT NULL DEFAULT 0,
    ADD COLUMN feedback_unsatisfied boolean NOT NULL DEFAULT false,
    ADD COLUMN feedback_bad         boolean NOT NULL DEFAULT false;

-- The history so far (the condition is case_event_stats' predicate, so
-- that the index serves the read).  The benchmark's county generator
-- (tests/bench/gen_county.c) runs this same statement, found between the
-- two marker lines, on the history it writes.
-- figures: begin
UPDATE cases SET
    finished_event_at_ms = f.fin,
    repeat_requests      = f.rep,
    extensions_asked     = f.ext_req,
    extensions_approved  = f.ext_ok,
    feedback_unsatisfied = f.unsat,
    feedback_bad         = f.bad
FROM (SELECT case_id,
             coalesce(max(at_ms) FILTER (WHERE action IN (2, 8, 9)), 0) AS fin,
             (count(*) FILTER (WHERE repeat_materials_request))::int AS rep,
             (count(*) FILTER (WHERE action = 23))::int AS ext_req,
             (count(*) FILTER (WHERE action = 24))::int AS ext_ok,
             bool_or(action = 12 AND satisfaction = 3) AS unsat,
             bool_or(action = 12 AND satisfaction IN (3, 5)) AS bad
      FROM case_event
      WHERE action IN (2, 8, 9, 23, 24) OR repeat_materials_request
            OR (action = 12 AND satisfaction IN (3, 5))
      GROUP BY case_id) f
WHERE cases.case_id = f.case_id;
-- figures: end

-- The statistics read the cases of a period from this index alone: it
-- holds the new columns too.
DROP INDEX cases_stats;
CREATE INDEX cases_stats ON cases (registered_at_ms)
    INCLUDE (case_id, village, item_code, department_code, status, handling, resolved_level,
             overdue, satisfaction, due_at_ms, urge_count, supervised, return_count,
             department_refusals, rectified_at_ms, called_back_at_ms, rectify_late,
             finished_event_at_ms, repeat_requests, extensions_asked, extensions_approved,
             feedback_unsatisfied, feedback_bad);
