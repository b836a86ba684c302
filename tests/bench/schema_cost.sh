#!/usr/bin/env bash
# schema_cost.sh - what a case row and an event row cost PostgreSQL, by
# index set and columns (docs/PERFORMANCE.md "Where PostgreSQL's time per
# submission went").
#
#   tests/bench/schema_cost.sh BUILD_DIR [ROUNDS]
#
# Starts a private cluster (tests/lib/pg_cluster.sh), migrates it with
# BUILD_DIR's sanji-countyd, makes copies of cases and case_event without
# foreign keys (LIKE ... INCLUDING ALL) with indexes or columns taken away,
# and runs the same INSERT ... SELECT of 50 rows 400 times, one per
# transaction, against each copy, ROUNDS (3) rounds interleaved; then one
# row per transaction, 2000 times, with all of today's indexes and with
# November's.  Prints the CPU time of the backend (utime + stime from
# /proc/<pid>/stat, so it must run as root or as the cluster's user) per
# row or per transaction.  The cluster is removed at the end.
set -euo pipefail
build=${1:?usage: schema_cost.sh BUILD_DIR [ROUNDS]}
rounds=${2:-3}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/sanji-schema-cost.XXXXXX)
trap '"$here/tests/lib/pg_cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
ci=$("$here/tests/lib/pg_cluster.sh" start "$work/pg" | tail -1)
"$build/server/sanji-countyd" --database "$ci" migrate >/dev/null 2>&1

psql "$ci" -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE c_full (LIKE cases INCLUDING ALL);      -- as migrated
CREATE TABLE c_dup (LIKE cases INCLUDING ALL);       -- + the duplicate 0016 dropped
CREATE INDEX ON c_dup (first_receiver, registered_at_ms);
CREATE TABLE c_nostats (LIKE cases INCLUDING ALL);   -- without 0010's cases_stats
CREATE TABLE c_idx1 (LIKE cases INCLUDING ALL);      -- November's indexes (0001), today's columns
CREATE TABLE c_nov (LIKE cases INCLUDING ALL);       -- November's indexes and columns
CREATE TABLE e_full (LIKE case_event INCLUDING ALL);
CREATE TABLE e_nostats (LIKE case_event INCLUDING ALL);
CREATE TABLE e_nov (LIKE case_event INCLUDING ALL);
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexname, tablename, indexdef FROM pg_indexes
           WHERE tablename IN ('c_nostats', 'c_idx1', 'c_nov', 'e_nostats', 'e_nov') LOOP
    IF (r.tablename IN ('c_nostats', 'e_nostats') AND r.indexdef LIKE '%INCLUDE%')
       OR (r.tablename IN ('c_idx1', 'c_nov') AND r.indexdef NOT LIKE '%(case_id)'
           AND r.indexdef NOT LIKE '%(number)' AND r.indexdef NOT LIKE '%(holder_unit, status)'
           AND r.indexdef NOT LIKE '%(due_at_ms) WHERE%'
           AND r.indexdef NOT LIKE '%(village, registered_at_ms)')
       OR (r.tablename = 'e_nov' AND r.indexdef NOT LIKE '%(case_id, seq)') THEN
      EXECUTE format('DROP INDEX %I', r.indexname);
    END IF;
  END LOOP;
END $$;
ALTER TABLE c_nov DROP COLUMN department_code, DROP COLUMN department_refusals,
  DROP COLUMN limit_days, DROP COLUMN due_provisional, DROP COLUMN paused_at_ms,
  DROP COLUMN paused_days, DROP COLUMN extended_days, DROP COLUMN extension_days,
  DROP COLUMN return_count, DROP COLUMN assignee, DROP COLUMN assignee_name, DROP COLUMN carrier,
  DROP COLUMN carrier_name, DROP COLUMN notify_state, DROP COLUMN notify_attempts,
  DROP COLUMN notify_at_ms, DROP COLUMN notify_retry_at_ms;
ALTER TABLE e_nov DROP COLUMN department_code, DROP COLUMN clock_days, DROP COLUMN due_at_ms,
  DROP COLUMN due_provisional, DROP COLUMN person, DROP COLUMN person_name,
  DROP COLUMN notify_attempt, DROP COLUMN notify_retry_at_ms;
SQL
psql "$ci" -Atc "SELECT tablename || ': ' || count(*) || ' indexes' FROM pg_indexes
                 WHERE tablename ~ '^[ce]_' GROUP BY tablename ORDER BY 1"

case_insert() { # table rows
  cat <<SQL
INSERT INTO $1 (case_id, number, village, item_code, item_name, item_min_level, applicant_name,
 applicant_id_number, applicant_phone, request_text, first_receiver, first_receiver_name,
 holder_level, holder_unit, status, version, registered_at_ms, due_at_ms, updated_at_ms)
SELECT u, u::text, '410423901' || lpad((g % 64)::text, 3, '0'), 'V-' || (g % 7), '证明事项', 1,
 '王大妈' || g, '41042319900101' || lpad((g % 9999)::text, 4, '0'),
 '1380013' || lpad((g % 9999)::text, 4, '0'), '申请低保，家中困难，需要开具证明材料。',
 'b410423901' || lpad((g % 64)::text, 3, '0'), '村干部', 1, '410423901' || lpad((g % 64)::text, 3, '0'),
 1, 1, t, t + 86400000, t
FROM (SELECT gen_random_uuid() u, g, (extract(epoch from clock_timestamp()) * 1000)::bigint t
      FROM generate_series(1, $2) g) x;
SQL
}
event_insert() { # table rows
  cat <<SQL
INSERT INTO $1 (case_id, seq, action, actor_person, actor_name, actor_node, actor_level, actor_unit,
 at_ms, recorded_at_ms, from_status, to_status, note, message_id)
SELECT gen_random_uuid(), 1, 1, 'b410423901001', '村干部', 'village:410423901001', 1, '410423901001',
 1, 1, 0, 1, '申请低保，家中困难，需要开具证明材料。', gen_random_uuid()
FROM generate_series(1, $2) g;
SQL
}
# run NAME TABLE ROWS TRANSACTIONS: backend CPU µs per row (ROWS > 1) or per transaction
run() {
  local f=$work/$1.sql kind=case_insert
  [[ $2 == e_* ]] && kind=event_insert
  {
    echo "SELECT pg_backend_pid() AS pid \\gset"
    echo "\\setenv PID :pid"
    echo "\\! awk '{print \$14 + \$15}' /proc/\$PID/stat > $work/before"
    local stmt
    stmt=$($kind "$2" "$3")
    for ((i = 0; i < $4; i++)); do printf 'BEGIN;\n%s\nCOMMIT;\n' "$stmt"; done
    echo "\\! awk '{print \$14 + \$15}' /proc/\$PID/stat > $work/after"
  } >"$f"
  psql "$ci" -q -f "$f"
  local ticks=$(( $(cat "$work/after") - $(cat "$work/before") )) hz
  hz=$(getconf CLK_TCK)
  if (( $3 > 1 )); then
    echo "$1: $(( ticks * 1000000 / hz / ($3 * $4) )) µs CPU per row"
  else
    echo "$1: $(( ticks * 1000000 / hz / $4 )) µs CPU per one-row transaction"
  fi
}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
  echo "round $r"
  for t in c_full c_dup c_nostats c_idx1 c_nov e_full e_nostats e_nov; do run "$t" "$t" 50 400; done
  run one_row_today c_full 1 2000
  run one_row_november c_nov 1 2000
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
