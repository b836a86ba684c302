-- 0013_password_change.sql - a person's own password change and
-- administration from the county desk (docs/SERVER.md "Administration",
-- docs/PROTOCOL.md "Password change").
--
-- person.password_set_at_ms: when the stored verifier was set (the
-- county's clock for an add or a reset, the station's for a person's own
-- change; 0: imported).  A change made at a station before a newer reset
-- at the county is refused, so that the reset is not undone by a message
-- that was on its way.
--
-- admin_audit.node: the node a change came from ("" for the county
-- machine's command line): the county desk of an administration request,
-- the station or desk of a person's own password change.

ALTER TABLE person ADD COLUMN password_set_at_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE admin_audit ADD COLUMN node text NOT NULL DEFAULT '';
