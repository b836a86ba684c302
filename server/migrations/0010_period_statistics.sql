-- 0010_period_statistics.sql - the indexes the period statistics read
-- (docs/STATISTICS.md, server/stats.c).
--
-- The statistics of a period read the cases registered in it, and only
-- the columns a figure or a grouping needs: cases_stats holds them beside
-- the registration time, so that a year's cases come from the index alone
-- (the visibility map permitting) instead of a read of every row's page
-- (a year of a million-case county is about a sixth of the table, spread
-- over most of its pages).  Of the cases' history they read only the
-- events a figure needs: the finishing ones (即办, 办结, 退办: actions 2, 8,
-- 9), the extensions asked for and approved (23, 24), the unsatisfied
-- feedback (12 with satisfaction 3) and the repeated material requests.
-- This partial index holds just those, with the columns the statistics
-- read, so that they come from the index alone instead of every event of
-- the county's history.  The statement's condition on case_event is this
-- predicate word for word, which is what lets the planner use it.
--
-- On a county that already holds many cases this migration builds the
-- indexes while it holds the tables (seconds per million rows); run
-- it in a quiet hour (docs/OPERATIONS.md, upgrades).
CREATE INDEX cases_stats ON cases (registered_at_ms)
    INCLUDE (case_id, village, item_code, department_code, status, handling, resolved_level,
             overdue, satisfaction, due_at_ms, urge_count, supervised, return_count,
             department_refusals);
CREATE INDEX case_event_stats ON case_event (case_id)
    INCLUDE (action, at_ms, satisfaction, repeat_materials_request)
    WHERE (action IN (2, 8, 9, 23, 24) OR repeat_materials_request
           OR (action = 12 AND satisfaction = 3));
