-- 0004_case_search.sql - the indexes a case search needs (PROTOCOL.md "Case
-- search", server/query.c): every key a desk searches by, and every order
-- it pages in, is served by an index, so that a search reads the rows of
-- one page (and counts at most Query.count_limit matches) instead of the
-- county's whole history.  Measured with a million cases over ten years in
-- docs/PERFORMANCE.md "County search".
--
-- The number is searched by its end ("0012", "20261123-0012"): an index on
-- the reversed number serves that as a prefix match.  Names are searched
-- by their beginning, which text_pattern_ops serves whatever the database's
-- collation.  ID numbers and phones are matched whole.  Overdue and
-- supervised cases are few: partial indexes keep them apart.
--
-- On a county that already holds many cases this migration builds the
-- indexes while it holds the table (a few seconds per hundred thousand
-- cases); run it in a quiet hour (docs/OPERATIONS.md, upgrades).

CREATE INDEX cases_registered ON cases (registered_at_ms);
CREATE INDEX cases_due ON cases (due_at_ms);
CREATE INDEX cases_status_registered ON cases (status, registered_at_ms);
CREATE INDEX cases_village_registered ON cases (village, registered_at_ms);
DROP INDEX cases_village;  -- the one above serves what it served
CREATE INDEX cases_number_reversed ON cases (reverse(number) text_pattern_ops);
CREATE INDEX cases_applicant_name ON cases (applicant_name text_pattern_ops);
CREATE INDEX cases_applicant_id ON cases (applicant_id_number);
CREATE INDEX cases_applicant_phone ON cases (applicant_phone);
CREATE INDEX cases_item_registered ON cases (item_code, registered_at_ms);
CREATE INDEX cases_receiver_registered ON cases (first_receiver, registered_at_ms);
CREATE INDEX cases_department_registered ON cases (department, registered_at_ms)
    WHERE department <> '';
CREATE INDEX cases_overdue_registered ON cases (registered_at_ms) WHERE overdue;
CREATE INDEX cases_supervised_registered ON cases (registered_at_ms) WHERE supervised;

-- The statistics count repeated material requests (一次告知 broken): few
-- events, read from their own index instead of the whole history.
CREATE INDEX case_event_repeat ON case_event (case_id) WHERE repeat_materials_request;
