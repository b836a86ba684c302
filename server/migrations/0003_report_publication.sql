-- 0003_report_publication.sql - what a county offers to the prefecture or
-- province reporting database (docs/SCALING.md): the publication
-- sanji_report, for PostgreSQL logical replication.
--
-- The publication costs nothing until a subscriber creates a replication
-- slot for it; publishing needs wal_level = logical on the county cluster.
--
-- cases is published with a column list: the applicant's name, resident ID
-- number and phone, and the free request text stay in the county; so does
-- case_event.note (the register event's note is the request text, and
-- other notes are free text a cadre wrote about the applicant).  A
-- reporting database counts and times cases; it has no need for personal
-- data (个人信息保护法: 最小必要).  A column added to cases or case_event
-- later is NOT published until a migration adds it to the list, so new
-- personal data never leaves the county by accident.  The lists keep the
-- primary keys, as PostgreSQL requires for published UPDATEs.
--
-- org_unit and the catalogue hold no personal data and are published whole.
-- The catalogue tables get REPLICA IDENTITY FULL: the counties of a
-- province may share catalogue codes, so the reporting database keeps those
-- tables without a unique key (one row per county that has the item) and
-- finds the row an UPDATE or DELETE means by all of its old values.  They
-- are small and rarely change, so the fuller WAL records cost nothing worth
-- counting.  (PostgreSQL refuses a column list on a table whose replica
-- identity is FULL unless the list names every column.)  org_unit codes,
-- case ids and (case id, seq) are unique nation-wide, so those tables keep
-- their primary keys as replica identity.

ALTER TABLE catalogue_category REPLICA IDENTITY FULL;
ALTER TABLE catalogue_item REPLICA IDENTITY FULL;

CREATE PUBLICATION sanji_report FOR TABLE
    org_unit, catalogue_category, catalogue_item,
    cases (case_id, number, village, item_code, item_name, item_min_level,
           first_receiver, first_receiver_name, holder_level, holder_unit,
           status, resume_status, version, registered_at_ms, due_at_ms,
           department, handling, overdue, warn_level, urge_count, supervised,
           materials_rounds, materials, result, return_reason, satisfaction,
           resolved_level, resolved_unit, updated_at_ms, closed_at_ms, urgent,
           appointment_at_ms, escalated, reached_county, recorded_at),
    case_event (case_id, seq, action, actor_person, actor_name, actor_node,
                actor_level, actor_unit, at_ms, recorded_at_ms, from_status,
                to_status, result, materials, satisfaction, department,
                message_id, repeat_materials_request);
