#!/usr/bin/env bash
# The scheduler benchmark of issue 4: start delay for 1, 100 and 1,000 jobs due at the same
# second (jobrun, APScheduler 3's BlockingScheduler, and a bare spawn loop as the floor), the
# idle cost over 60 s with 100 jobs, RSS and start-up time with 10,000 jobs. Installs
# APScheduler in a venv under target/ and builds two small C helpers with gcc.
#
# `--only policies`: issue 11's cases, both schedulers on their defaults and on equal pools of 10.
#
#   bash bench/scheduler_vs_apscheduler.sh [IDLE_SECONDS] [--only lone|latency|policies|many|idle]...
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet 'apscheduler>=3.10,<4'
cargo build --release --quiet
mkdir -p target/bench
gcc -O2 -static -o target/bench/stamp bench/stamp.c
gcc -O2 -o target/bench/spawn_floor bench/spawn_floor.c
exec "$venv/bin/python" bench/scheduler_vs_apscheduler.py --jobrun target/release/jobrun \
  --stamp target/bench/stamp --floor target/bench/spawn_floor --idle "${1:-60}" "${@:2}"
