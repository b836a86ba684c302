-- 0009_assignment.sql - who works a case, who carries it, who stands in
-- (docs/LIFECYCLE.md "Who works the case", docs/DATA.md "Persons" and
-- "Duty roster").
--
-- cases.assignee: the person of the holding unit (or department) the case
-- is assigned to (指派; '' when nobody is), cleared by the state machine
-- when the case moves to another unit.  cases.carrier: the village cadre
-- who carries the case throughout (全程代办员); existing cases get their
-- first receiver, as new ones do when the village names nobody.
-- case_event.person: the person an ASSIGN, TAKE_OVER or SET_CARRIER
-- event names, with the name the county's records had.
--
-- person.stand_in: the colleague of the same unit who sees and acts on the
-- person's assigned cases while they are away (AB岗; '' for nobody).
-- duty_roster: who is on duty at a unit on a day (值班表), sent to the
-- stations with the reference data.

ALTER TABLE cases
    ADD COLUMN assignee      text NOT NULL DEFAULT '',
    ADD COLUMN assignee_name text NOT NULL DEFAULT '',
    ADD COLUMN carrier       text NOT NULL DEFAULT '',
    ADD COLUMN carrier_name  text NOT NULL DEFAULT '';

UPDATE cases SET carrier = first_receiver, carrier_name = first_receiver_name;

-- 我的事项 and the county's search by assignee: by person, open cases first.
CREATE INDEX cases_assignee ON cases (assignee, registered_at_ms) WHERE assignee <> '';
CREATE INDEX cases_carrier ON cases (carrier, registered_at_ms);
CREATE INDEX cases_first_receiver ON cases (first_receiver, registered_at_ms);

ALTER TABLE case_event
    ADD COLUMN person      text NOT NULL DEFAULT '',
    ADD COLUMN person_name text NOT NULL DEFAULT '',
    DROP CONSTRAINT case_event_action_check,
    ADD CONSTRAINT case_event_action_check CHECK (action BETWEEN 1 AND 29);

ALTER TABLE person
    ADD COLUMN stand_in text NOT NULL DEFAULT ''
        CHECK (stand_in <> id);

CREATE TABLE duty_roster (
    org_unit  char(12) NOT NULL REFERENCES org_unit (code),
    day       date NOT NULL,
    person    text NOT NULL REFERENCES person (id),
    PRIMARY KEY (org_unit, day, person)
);
CREATE INDEX duty_roster_day ON duty_roster (day);

-- The roster is reference data with its own version (DutySync).
ALTER TABLE reference_version DROP CONSTRAINT reference_version_name_check,
    ADD CONSTRAINT reference_version_name_check
        CHECK (name IN ('catalogue', 'org_tree', 'person', 'duty'));
INSERT INTO reference_version (name) VALUES ('duty');
