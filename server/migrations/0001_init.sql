-- 0001_init.sql - the county's authoritative schema, first version.
--
-- Applied by `sanji-countyd migrate` inside one transaction, which also
-- records it in schema_version.  Numeric enumerations (levels, roles,
-- statuses, actions ...) carry the values of proto/sanji.proto, so that a
-- row converts to a message without a lookup table.
--
-- Times the clients send (acted_at_ms, registered_at_ms ...) are kept as
-- milliseconds since the epoch, exactly as on the wire; times the county
-- makes itself are timestamptz.

-- Org units: county -> township -> village, 12-digit codes (common/domain/orgunit.h).
CREATE TABLE org_unit (
    code        char(12) PRIMARY KEY CHECK (code ~ '^[0-9]{12}$'),
    name        text NOT NULL CHECK (name <> ''),
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
    parent      char(12) REFERENCES org_unit (code),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((level = 3) = (parent IS NULL))
);
CREATE INDEX org_unit_parent ON org_unit (parent);

-- Machines that may connect: identified by their certificate.
CREATE TABLE node (
    id               text PRIMARY KEY,          -- "village:410423101201"
    role             smallint NOT NULL CHECK (role BETWEEN 1 AND 5),
    org_unit         char(12) NOT NULL REFERENCES org_unit (code),
    cert_serial      text NOT NULL DEFAULT '',
    cert_fingerprint text UNIQUE,               -- SHA-256, hex
    revoked          boolean NOT NULL DEFAULT false,
    revoked_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Persons who log in.  verifier is scrypt (common/domain/password.h), never the
-- password itself.
CREATE TABLE person (
    id          text PRIMARY KEY CHECK (id <> ''),
    name        text NOT NULL CHECK (name <> ''),
    role        smallint NOT NULL CHECK (role BETWEEN 1 AND 3),
    org_unit    char(12) NOT NULL REFERENCES org_unit (code),
    verifier    text NOT NULL CHECK (verifier LIKE 'scrypt$%'),
    active      boolean NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_org_unit ON person (org_unit);

-- The service catalogue (服务事项清单).
CREATE TABLE catalogue_category (
    code        text PRIMARY KEY CHECK (code <> ''),
    name        text NOT NULL CHECK (name <> '')
);

CREATE TABLE catalogue_item (
    code              text PRIMARY KEY CHECK (code <> ''),
    category          text NOT NULL REFERENCES catalogue_category (code),
    name              text NOT NULL CHECK (name <> ''),
    min_level         smallint NOT NULL CHECK (min_level BETWEEN 1 AND 3),
    department        text NOT NULL CHECK (department <> ''),
    limit_days        integer NOT NULL CHECK (limit_days > 0),
    urgent_limit_days integer NOT NULL DEFAULT 0
                      CHECK (urgent_limit_days >= 0 AND urgent_limit_days <= limit_days),
    materials         text[] NOT NULL DEFAULT '{}',
    active            boolean NOT NULL DEFAULT true,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Versions of the reference data pushed downward (CatalogueSync.version ...):
-- raised by every import that changes the set.
CREATE TABLE reference_version (
    name        text PRIMARY KEY CHECK (name IN ('catalogue', 'org_tree', 'person')),
    version     bigint NOT NULL DEFAULT 0
);
INSERT INTO reference_version (name) VALUES ('catalogue'), ('org_tree'), ('person');

-- The working-day calendar: public holidays, and weekend days that are
-- working days (调休).  Days not listed follow the week (Sat/Sun off).
CREATE TABLE holiday (
    day         date PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name        text NOT NULL DEFAULT ''
);

-- Cases: every field of proto Case.
CREATE TABLE cases (
    case_id             uuid PRIMARY KEY,
    number              text UNIQUE,
    village             char(12) NOT NULL REFERENCES org_unit (code),
    item_code           text NOT NULL REFERENCES catalogue_item (code),
    item_name           text NOT NULL,
    item_min_level      smallint NOT NULL CHECK (item_min_level BETWEEN 1 AND 3),
    applicant_name      text NOT NULL,
    applicant_id_number text NOT NULL,
    applicant_phone     text NOT NULL,
    request_text        text NOT NULL,
    first_receiver      text NOT NULL REFERENCES person (id),
    first_receiver_name text NOT NULL,
    holder_level        smallint NOT NULL CHECK (holder_level BETWEEN 1 AND 3),
    holder_unit         char(12) NOT NULL REFERENCES org_unit (code),
    status              smallint NOT NULL CHECK (status BETWEEN 1 AND 11),
    resume_status       smallint NOT NULL DEFAULT 0,
    version             bigint NOT NULL CHECK (version >= 1),
    registered_at_ms    bigint NOT NULL,
    due_at_ms           bigint NOT NULL,
    department          text NOT NULL DEFAULT '',
    handling            smallint NOT NULL DEFAULT 0,
    overdue             boolean NOT NULL DEFAULT false,
    warn_level          integer NOT NULL DEFAULT 0,
    urge_count          integer NOT NULL DEFAULT 0,
    supervised          boolean NOT NULL DEFAULT false,
    materials_rounds    integer NOT NULL DEFAULT 0,
    materials           text[] NOT NULL DEFAULT '{}',
    result              text NOT NULL DEFAULT '',
    return_reason       text NOT NULL DEFAULT '',
    satisfaction        smallint NOT NULL DEFAULT 0,
    resolved_level      smallint NOT NULL DEFAULT 0,
    resolved_unit       text NOT NULL DEFAULT '',
    updated_at_ms       bigint NOT NULL,
    closed_at_ms        bigint NOT NULL DEFAULT 0,
    urgent              boolean NOT NULL DEFAULT false,
    appointment_at_ms   bigint NOT NULL DEFAULT 0,
    escalated           boolean NOT NULL DEFAULT false,
    reached_county      boolean NOT NULL DEFAULT false,
    recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_village ON cases (village);
CREATE INDEX cases_holder ON cases (holder_unit, status);
CREATE INDEX cases_active_due ON cases (due_at_ms) WHERE status NOT IN (10, 11);

-- The history of every case: append-only (see the trigger below).
CREATE TABLE case_event (
    case_id                  uuid NOT NULL REFERENCES cases (case_id),
    seq                      integer NOT NULL CHECK (seq >= 1),
    action                   smallint NOT NULL CHECK (action BETWEEN 1 AND 17),
    actor_person             text NOT NULL DEFAULT '',
    actor_name               text NOT NULL DEFAULT '',
    actor_node               text NOT NULL DEFAULT '',
    actor_level              smallint NOT NULL,
    actor_unit               text NOT NULL,
    at_ms                    bigint NOT NULL,
    recorded_at_ms           bigint NOT NULL,
    from_status              smallint NOT NULL,
    to_status                smallint NOT NULL,
    note                     text NOT NULL DEFAULT '',
    result                   text NOT NULL DEFAULT '',
    materials                text[] NOT NULL DEFAULT '{}',
    satisfaction             smallint NOT NULL DEFAULT 0,
    department               text NOT NULL DEFAULT '',
    message_id               uuid,
    repeat_materials_request boolean NOT NULL DEFAULT false,
    PRIMARY KEY (case_id, seq)
);

CREATE FUNCTION case_event_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = '案件记录只能追加，不能修改或删除 (history is append-only).';
END;
$$;

CREATE TRIGGER case_event_append_only
    BEFORE UPDATE OR DELETE ON case_event
    FOR EACH ROW EXECUTE FUNCTION case_event_refuse_change();
CREATE TRIGGER case_event_no_truncate
    BEFORE TRUNCATE ON case_event
    FOR EACH STATEMENT EXECUTE FUNCTION case_event_refuse_change();

-- The downward feed: per village, seq 1, 2, 3 ... without gaps.  The
-- counter row is locked (SELECT ... FOR UPDATE) by every writer, so two
-- transactions never take the same number and a rolled-back one leaves no
-- hole.
CREATE TABLE feed_counter (
    village     char(12) PRIMARY KEY REFERENCES org_unit (code),
    last_seq    bigint NOT NULL DEFAULT 0
);

CREATE TABLE feed (
    village     char(12) NOT NULL REFERENCES org_unit (code),
    seq         bigint NOT NULL CHECK (seq >= 1),
    case_id     uuid NOT NULL,
    event_seq   integer NOT NULL,
    PRIMARY KEY (village, seq),
    FOREIGN KEY (case_id, event_seq) REFERENCES case_event (case_id, seq)
);

-- Every upward message applied or refused, with its result (G2): a
-- redelivery is answered from here and applies nothing.
CREATE TABLE processed_message (
    message_id    uuid PRIMARY KEY,
    status        smallint NOT NULL CHECK (status IN (2, 3)),  -- AckStatus APPLIED / REFUSED
    code          integer NOT NULL DEFAULT 0,
    reason        text NOT NULL DEFAULT '',
    case_id       uuid,
    case_number   text NOT NULL DEFAULT '',
    case_version  bigint NOT NULL DEFAULT 0,
    sender_node   text NOT NULL DEFAULT '',
    processed_at  timestamptz NOT NULL DEFAULT now()
);

-- Case numbers: <county code 6 digits>-<yyyymmdd>-<seq 5 digits>, one
-- sequence per county per China day.
CREATE TABLE case_number_seq (
    county      char(6) NOT NULL CHECK (county ~ '^[0-9]{6}$'),
    day         date NOT NULL,
    last_seq    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (county, day)
);
