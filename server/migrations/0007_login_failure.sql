-- 0007_login_failure.sql - wrong passwords typed at stations, as their
-- relays pass them on in their status (StationStatus.login_failures), so
-- that the network view (Query.network_status) can show each station's
-- count of the last 24 hours (StationStatus.failed_logins).  Never the
-- password.  Rows older than 30 days are deleted as new ones come.

CREATE TABLE login_failure (
    station     text NOT NULL,                    -- "village:410423101201"
    org_unit    char(12) NOT NULL,                -- the station's unit
    relay       text NOT NULL,                    -- the relay that passed it on
    person      text NOT NULL,                    -- person id, or "?" (a name not in the list)
    count       integer NOT NULL CHECK (count >= 0),
    in_a_row    integer NOT NULL CHECK (in_a_row >= 0),
    last_at_ms  bigint NOT NULL,                  -- the last one, by the station's clock
    reported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failure_recent ON login_failure (org_unit, reported_at);
CREATE INDEX login_failure_age ON login_failure (reported_at);
