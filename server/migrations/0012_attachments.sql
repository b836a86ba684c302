-- 0012_attachments.sql - photos and scans attached to a case
-- (docs/PROTOCOL.md "Attachments", docs/DATA.md "Attachments").
--
-- A station sends an attachment in chunks, each an upward message of its
-- own (processed_message records it, G2).  The county keeps the chunks
-- that have arrived in attachment_part; when the last one arrives the
-- file is assembled, its SHA-256 checked, stored once per content in
-- attachment_blob (bytea: covered by pg_dump and by the base backup +
-- WAL like every other table, docs/OPERATIONS.md "Backups") and its parts
-- deleted.  attachment describes it; the data is never in the feed.

CREATE TABLE attachment (
    attachment_id   uuid PRIMARY KEY,
    case_id         uuid NOT NULL REFERENCES cases (case_id),
    name            text NOT NULL,
    mime            text NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'application/pdf')),
    size            bigint NOT NULL CHECK (size > 0),
    sha256          bytea NOT NULL CHECK (length(sha256) = 32),
    material        text NOT NULL DEFAULT '',
    actor_person    text NOT NULL,
    actor_node      text NOT NULL,
    attached_at_ms  bigint NOT NULL,
    chunk_count     integer NOT NULL CHECK (chunk_count > 0),
    chunks_received integer NOT NULL DEFAULT 0 CHECK (chunks_received >= 0),
    complete        boolean NOT NULL DEFAULT false,
    received_at     timestamptz
);
CREATE INDEX attachment_case ON attachment (case_id);

-- Chunks of attachments not yet complete.
CREATE TABLE attachment_part (
    attachment_id uuid NOT NULL REFERENCES attachment (attachment_id),
    chunk_no      integer NOT NULL CHECK (chunk_no >= 0),
    data          bytea NOT NULL,
    PRIMARY KEY (attachment_id, chunk_no)
);

-- The files, one row per content (two attachments of the same scan share it).
CREATE TABLE attachment_blob (
    sha256 bytea PRIMARY KEY CHECK (length(sha256) = 32),
    size   bigint NOT NULL,
    data   bytea NOT NULL
);
