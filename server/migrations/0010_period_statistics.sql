-- 0010_period_statistics.sql - the index the period statistics read
-- (docs/STATISTICS.md, server/stats.c).
--
-- The statistics of a period read the cases registered in it (the
-- registration-time indexes of 0004) and, of their history, only the
-- events a figure needs: the finishing ones (即办, 办结, 退办: actions 2, 8,
-- 9), the extensions asked for and approved (23, 24), the unsatisfied
-- feedback (12 with satisfaction 3) and the repeated material requests.
-- This partial index holds just those, with the columns the statistics
-- read, so that they come from the index alone instead of every event of
-- the county's history.  The statement's condition on case_event is this
-- predicate word for word, which is what lets the planner use it.
--
-- On a county that already holds many cases this migration builds the
-- index while it holds the table (a few seconds per million events); run
-- it in a quiet hour (docs/OPERATIONS.md, upgrades).
CREATE INDEX case_event_stats ON case_event (case_id)
    INCLUDE (action, at_ms, satisfaction, repeat_materials_request)
    WHERE (action IN (2, 8, 9, 23, 24) OR repeat_materials_request
           OR (action = 12 AND satisfaction = 3));
