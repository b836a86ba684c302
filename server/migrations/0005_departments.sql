-- 0005_departments.sql - county departments as actors (docs/DATA.md
-- "Departments", docs/LIFECYCLE.md 派单-接单-回单).
--
-- A department is a record of the county's reference data: a code (the
-- name part of its desk's certificate, sanji:department-desk:<county>:<code>),
-- a name, and whether cases may be dispatched to it.  The catalogue items it
-- owns are those whose catalogue_item.department is its name.  Department
-- staff are persons of role 4 with the county's org unit and their
-- department's code.  A case dispatched to a department keeps the code
-- (department_code) beside the name (department), and counts how often a
-- department refused it back (退单).

CREATE TABLE department (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9-]{1,31}$'),
    name        text NOT NULL UNIQUE CHECK (name <> ''),
    active      boolean NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE person DROP CONSTRAINT person_role_check;
ALTER TABLE person ADD CONSTRAINT person_role_check CHECK (role BETWEEN 1 AND 4);
ALTER TABLE person ADD COLUMN department text NOT NULL DEFAULT '';
ALTER TABLE person ADD CONSTRAINT person_department_check
    CHECK ((role = 4) = (department <> ''));

ALTER TABLE node DROP CONSTRAINT node_role_check;
ALTER TABLE node ADD CONSTRAINT node_role_check CHECK (role BETWEEN 1 AND 6);

ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK (status BETWEEN 1 AND 14);
ALTER TABLE cases ADD COLUMN department_code text NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN department_refusals integer NOT NULL DEFAULT 0
    CHECK (department_refusals >= 0);
-- A department's queue (待接单, 办理中): its open cases by due time.
CREATE INDEX cases_department_queue ON cases (department_code, due_at_ms)
    WHERE department_code <> '' AND status NOT IN (7, 8, 9, 10, 11);

ALTER TABLE case_event DROP CONSTRAINT case_event_action_check;
ALTER TABLE case_event ADD CONSTRAINT case_event_action_check CHECK (action BETWEEN 1 AND 22);
ALTER TABLE case_event ADD COLUMN department_code text NOT NULL DEFAULT '';
