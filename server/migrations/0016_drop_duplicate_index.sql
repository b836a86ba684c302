-- 0016_drop_duplicate_index.sql - one index fewer written per case.
--
-- cases_first_receiver (0009) is the same index as cases_receiver_registered
-- (0004): both are (first_receiver, registered_at_ms), so every new case
-- wrote the same entry twice and the planner uses either.  The older one
-- stays and serves 我的事项 and the search by first receiver as before
-- (docs/PERFORMANCE.md "Where PostgreSQL's time per submission went").
DROP INDEX IF EXISTS cases_first_receiver;
