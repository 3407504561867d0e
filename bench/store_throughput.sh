#!/usr/bin/env bash
# Fires per second that three schedulers sustain on one PostgreSQL store, without spawning
# (issue 15): three `jobrun start --no-spawn` (a hidden flag: each fire is planned, claimed
# and recorded as started and ended with success, and no process is started) share one
# database and one jobfile of JOBS jobs firing every second, for SECONDS seconds.
#
#   bench/store_throughput.sh [JOBS] [SECONDS]        # defaults: 5000 jobs, 20 s
#
# The server: $JOBRUN_BENCH_PG_URL, else $JOBRUN_TEST_PG_URL (a user that may create
# databases), else a private cluster started here with bench/pg-cluster.sh on
# $JOBRUN_BENCH_PG_PORT (default 55440) and stopped at the end. Needs psql and a release build
# (cargo build --release). Prints, from the store itself: fires recorded per second (the
# steady seconds, the first two and the last left out), how late runs were recorded as started
# (p50/p99 of started - scheduled), how the fires were shared among the three, and the count of
# fires recorded twice (must be 0) or missed.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${1:-5000}
seconds=${2:-20}
bin=target/release/jobrun
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }

work=$(mktemp -d)
cluster=""
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${admin:-}" ] && [ -n "${db:-}" ]; then
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  [ -n "$cluster" ] && bash bench/pg-cluster.sh stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

admin=${JOBRUN_BENCH_PG_URL:-${JOBRUN_TEST_PG_URL:-}}
if [ -z "$admin" ]; then
  cluster="$work/pg"
  admin=$(bash bench/pg-cluster.sh start "$cluster" "${JOBRUN_BENCH_PG_PORT:-55440}")
fi
db="jobrun_bench_$$"
psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null
url="${admin%%\?*}"
url="${url%/*}/$db"

{
  for ((i = 0; i < jobs; i++)); do
    printf '[jobs.j%05d]\nevery = "1s"\ncommand = ["true"]\n\n' "$i"
  done
} >"$work/jobrun.toml"

for host in a b c; do
  JOBRUN_STATE_DIR="$work/state-$host" "$bin" --jobfile "$work/jobrun.toml" --store "$url" \
    start --no-spawn --keep-runs 0 --keep-for 0s 2>"$work/$host.log" &
  pids+=($!)
done
sleep "$seconds"
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()

errors=$(cat "$work"/?.log | grep -c -E 'store_error|failed|store_unreachable' || true)
psql -q -A -t "$url" <<SQL
\\echo jobs: $jobs every second, 3 schedulers, $seconds s, release build
\\echo store: PostgreSQL $(psql -A -t "$admin" -c 'SHOW server_version')
WITH per_second AS (
    SELECT scheduled / 1000000 AS s, count(*) AS fires
    FROM jobrun.runs WHERE state = 'exited' GROUP BY 1),
steady AS (
    SELECT fires FROM per_second
    WHERE s > (SELECT min(s) + 2 FROM per_second) AND s < (SELECT max(s) FROM per_second))
SELECT 'fires recorded per second (steady seconds): median ' ||
       percentile_disc(0.5) WITHIN GROUP (ORDER BY fires) || ', min ' || min(fires) ||
       ', over ' || count(*) || ' seconds'
FROM steady;
SELECT 'start late by (started - scheduled): p50 ' ||
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY started - scheduled))::numeric / 1000, 1) ||
       ' ms, p99 ' ||
       round((percentile_cont(0.99) WITHIN GROUP (ORDER BY started - scheduled))::numeric / 1000, 1) ||
       ' ms'
FROM jobrun.runs WHERE state = 'exited';
SELECT 'fires run per scheduler: ' || string_agg(n::text, ' / ' ORDER BY scheduler)
FROM (SELECT scheduler, count(*) AS n FROM jobrun.runs WHERE state = 'exited'
      GROUP BY scheduler) AS shares;
SELECT 'rows not ended (claimed or running): ' || count(*)
FROM jobrun.runs WHERE state IN ('claimed', 'running');
SELECT 'fires recorded twice: ' || count(*)
FROM (SELECT 1 FROM jobrun.runs WHERE NOT manual GROUP BY job, scheduled, attempt
      HAVING count(*) > 1) AS twice;
SELECT 'missed rows: ' || count(*) FROM jobrun.runs WHERE state = 'missed';
SQL
echo "store errors logged: $errors"
