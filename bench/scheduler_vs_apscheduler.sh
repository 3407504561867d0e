#!/usr/bin/env bash
# The scheduler benchmark of issue 4: start delay for 1, 100 and 1,000 jobs due at the same
# second (jobrun, APScheduler 3's BlockingScheduler, and a bare spawn loop as the floor), the
# idle cost over 60 s with 100 jobs, RSS and start-up time with 10,000 jobs. Installs
# APScheduler in a venv under target/ and builds two small C helpers with gcc.
#
# `--only policies`: issue 11's cases, both schedulers on their defaults and on equal pools of 10;
# `--repeat N` runs each of them N times, interleaved, and adds the medians.
#
# JOBRUN_BIN: the jobrun binaries to measure, separated by ':' (default: a release build of
# this tree); with several, each case measures each of them in the same run, e.g. a binary
# from before a change against the current tree:
#   JOBRUN_BIN=/tmp/jobrun-old:target/release/jobrun bash bench/scheduler_vs_apscheduler.sh 10 --only policies
#
#   bash bench/scheduler_vs_apscheduler.sh [IDLE_SECONDS] [--only lone|latency|policies|many|idle]... [--repeat N]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet 'apscheduler>=3.10,<4'
if [ -z "${JOBRUN_BIN:-}" ]; then
  cargo build --release --quiet
  JOBRUN_BIN=target/release/jobrun
fi
mkdir -p target/bench
gcc -O2 -static -o target/bench/stamp bench/stamp.c
gcc -O2 -o target/bench/spawn_floor bench/spawn_floor.c
jobruns=()
IFS=: read -ra bins <<< "$JOBRUN_BIN"
for bin in "${bins[@]}"; do jobruns+=(--jobrun "$bin"); done
exec "$venv/bin/python" bench/scheduler_vs_apscheduler.py "${jobruns[@]}" \
  --stamp target/bench/stamp --floor target/bench/spawn_floor --idle "${1:-60}" "${@:2}"
