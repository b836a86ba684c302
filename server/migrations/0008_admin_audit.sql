-- 0008_admin_audit.sql - administration through staff turnover
-- (docs/SERVER.md "Administration"): every change made with
-- `sanji-countyd person|item|department ...` is written here with who ran
-- it, what, when, and the old and new values (never a password: a reset
-- is written as such, without the password or its verifier).
--
-- person.must_change_password: set by `person reset-password`, so that the
-- one-time password is replaced at the next login (docs/SERVER.md).

CREATE TABLE admin_audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    operator    text NOT NULL CHECK (operator <> ''),   -- --by NAME, else the Unix user
    command     text NOT NULL CHECK (command <> ''),    -- "person deactivate"
    target      text NOT NULL CHECK (target <> ''),     -- person id, item code, department code
    old_value   text NOT NULL DEFAULT '',
    new_value   text NOT NULL DEFAULT ''
);
CREATE INDEX admin_audit_target ON admin_audit (target, at);

ALTER TABLE person ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
