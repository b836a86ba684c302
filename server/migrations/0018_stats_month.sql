-- 0018_stats_month.sql - the period statistics' monthly roll-up
-- (docs/STATISTICS.md "Answering", server/stats.c, server/stats_month.c).
--
-- A question at the county over many months (all ten years of a county:
-- a million cases) read every case of the period from cases_stats and
-- counted them per key: 2.2 s.  The figures of a month's cases are now
-- kept counted per grouping key, and their working days per key and
-- count, as the statement's first aggregation (g0) makes them; a
-- question adds up the full months
-- of its period from here and counts its partial months at the edges, the
-- current month and any month not current here from the cases, in the
-- same statement.
--
-- A month here is a China calendar month (UTC+8), numbered from January
-- 1970 (0): sanji_stats_month() of a registration time, and
-- sanji_stats_month_start() its first millisecond; server/stats_month.c
-- computes the same numbers in C (test_server_stats_month compares them).

CREATE FUNCTION sanji_stats_month(ms bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ((extract(year FROM d)::int - 1970) * 12 + extract(month FROM d)::int - 1)
    FROM (SELECT date '1970-01-01' + floor((ms + 28800000) / 86400000.0)::int AS d) t
$$;

CREATE FUNCTION sanji_stats_month_start(m integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (make_date(1970 + m / 12, m % 12 + 1, 1) - date '1970-01-01')::bigint * 86400000
           - 28800000
$$;

-- The counted figures: one row per month, grouping (grp, the StatGroup
-- number: 0 none, 1 township, 2 village, 3 department, 5 item, 6 handling,
-- 7 level; the category is added up from the items with the catalogue as
-- it is when asked) and key, with the summable figures of the statement's
-- first aggregation (g0, server/stats.c G0_FIGURES); the sums are NULL
-- where g0's are (no value to add).  A month's rows are replaced together.
CREATE TABLE stats_month (
    month          integer  NOT NULL,
    grp            smallint NOT NULL,
    k              text     NOT NULL,
    registered     integer  NOT NULL,
    withdrawn      integer  NOT NULL,
    finished       integer  NOT NULL,
    resolved       integer  NOT NULL,
    returned       integer  NOT NULL,
    open           integer  NOT NULL,
    on_time        integer  NOT NULL,
    overdue_now    integer  NOT NULL,
    s1             integer  NOT NULL,
    s2             integer  NOT NULL,
    s3             integer  NOT NULL,
    unsat_ever     integer  NOT NULL,
    unsat_followed integer  NOT NULL,
    s4             integer  NOT NULL,
    s5             integer  NOT NULL,
    good           integer  NOT NULL,
    rated          integer  NOT NULL,
    bad            integer  NOT NULL,
    rect_on_time   integer  NOT NULL,
    rect_late      integer  NOT NULL,
    rect_open      integer  NOT NULL,
    called_back    integer  NOT NULL,
    rep            integer,
    returns_down   integer,
    refusals       integer,
    ext_req        integer,
    ext_ok         integer,
    urges          integer,
    supervised     integer  NOT NULL
);
CREATE INDEX stats_month_grp ON stats_month (grp, month);

-- The working days of the month's finished cases per grouping and key:
-- how many took wd working days (an exact histogram, so that the average
-- and the 90th percentile of several months added up are exact).
CREATE TABLE stats_month_wd (
    month integer  NOT NULL,
    grp   smallint NOT NULL,
    k     text     NOT NULL,
    wd    integer  NOT NULL,
    n     integer  NOT NULL
);
CREATE INDEX stats_month_wd_grp ON stats_month_wd (grp, month);

-- The months counted, with the fingerprint of the calendar their working
-- days were counted on (sj_calendar_fingerprint()): a month counted on
-- another calendar is not used, and is counted again.
CREATE SEQUENCE stats_month_gen;
CREATE TABLE stats_month_state (
    month       integer PRIMARY KEY,
    calendar    bigint  NOT NULL,
    gen         bigint  NOT NULL DEFAULT nextval('stats_month_gen'),  -- this count of it
    counted_at  timestamptz NOT NULL DEFAULT now()
);

-- A year's working-day histograms added up from its twelve months (a
-- question over years reads a twelfth of the rows), with the counts
-- (gen) of the months they were added up from: a year is used only while
-- its twelve months are kept and are still those counts.
CREATE TABLE stats_year_wd (
    year  integer  NOT NULL,  -- months year * 12 .. year * 12 + 11
    grp   smallint NOT NULL,
    k     text     NOT NULL,
    wd    integer  NOT NULL,
    n     integer  NOT NULL
);
CREATE INDEX stats_year_wd_grp ON stats_year_wd (grp, year);
CREATE TABLE stats_year_state (
    year     integer  PRIMARY KEY,
    calendar bigint   NOT NULL,
    gens     bigint[] NOT NULL
);

-- The months one of whose cases changed since they were counted.  A row
-- of cases inserted or updated marks its month when that month has ended
-- (by the database's clock when the statement began): a lock shared with
-- the other writers of that month, held to the end of the transaction,
-- and an insert that does nothing when the month is marked already.  A
-- month is counted while holding that lock exclusively
-- (server/stats_month.c), so that no transaction changing its cases is in
-- flight while it is counted, and a change committed after it sets the
-- mark again.
--
-- Most writes are of the current month's cases, and the current month is
-- never counted: a month is counted only once it has been over for a day
-- (countyd_stats_full_months()), so a write made while its month was
-- still going on has committed long before (unless a transaction stays
-- open for a day, or the county's and the database's clocks are a day
-- apart).  Those rows take no trigger call at all: the WHEN condition
-- passes them by, and what the statistics cost each action is that
-- comparison.
CREATE TABLE stats_month_dirty (
    month integer PRIMARY KEY
);

CREATE FUNCTION stats_month_mark() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    m integer := sanji_stats_month(NEW.registered_at_ms);
BEGIN
    -- The key's first half is "STat" (0x53547461), the second the month.
    -- Writers only ever share it, so the order they take months in does
    -- not matter; the counting holds one month's at a time.
    PERFORM pg_advisory_xact_lock_shared(1398043745, m);
    INSERT INTO stats_month_dirty (month) VALUES (m) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

-- The first millisecond of the China month the current statement began
-- in: sanji_stats_month_start(sanji_stats_month(now)), written with
-- built-in functions only, as the triggers' WHEN evaluates it for every
-- row written (test_server_stats_month compares the two).
CREATE FUNCTION sanji_stats_month_now_start() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (extract(epoch FROM date_trunc('month', statement_timestamp() AT TIME ZONE
        INTERVAL '+08:00') AT TIME ZONE INTERVAL '+08:00') * 1000)::bigint
$$;

-- A case's registration time is never changed once written, so the rows
-- as written name every month concerned.
CREATE TRIGGER cases_stats_month_insert AFTER INSERT ON cases FOR EACH ROW
    WHEN (NEW.registered_at_ms < sanji_stats_month_now_start())
    EXECUTE FUNCTION stats_month_mark();
CREATE TRIGGER cases_stats_month_update AFTER UPDATE ON cases FOR EACH ROW
    WHEN (NEW.registered_at_ms < sanji_stats_month_now_start())
    EXECUTE FUNCTION stats_month_mark();
