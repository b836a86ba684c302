-- 0015_station_presence.sql - each village station's presence during its
-- duty hours, day by day, counted by the county from its relay's reports
-- (server/presence.c, docs/SERVER.md "Station presence"), for the network
-- view and the 值班星 (docs/STATISTICS.md "Station stars").

-- Seconds of one day's duty hours a station was linked (online_s) and
-- linked with someone logged in (staffed_s).  duty_s: the day's duty hours
-- as the county counted them when the row was made (0 on a day off).
CREATE TABLE station_presence (
    node       text NOT NULL,                 -- "village:410423101201"
    org_unit   char(12) NOT NULL,             -- its village
    day        date NOT NULL,                 -- China time
    duty_s     integer NOT NULL,
    online_s   integer NOT NULL DEFAULT 0,
    staffed_s  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (node, day)
);
CREATE INDEX station_presence_unit_day ON station_presence (org_unit, day);

-- The last observation of each station: what held from observed_ms on.
CREATE TABLE station_presence_state (
    node           text PRIMARY KEY,
    org_unit       char(12) NOT NULL,
    observed_ms    bigint NOT NULL,           -- county clock, ms since the epoch
    online         boolean NOT NULL,
    staffed        boolean NOT NULL,
    logged_in      integer NOT NULL,          -- persons logged in, as reported
    last_login_ms  bigint NOT NULL            -- the station's last login (0: unknown)
);
