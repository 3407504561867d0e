#!/usr/bin/env bash
# End-to-end benchmark for `jobrun next`: 1,000 mixed cron jobs, 100 fires each (100,000 fire
# times), jobrun's whole process against Python's croniter computing the same fire times, on
# this machine, in the same run. Installs croniter in a venv under target/ on first use.
#
#   bash bench/next_vs_croniter.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'croniter==6.*' 'pytz'
fi
cargo build --release --quiet
exec "$venv/bin/python" bench/next_vs_croniter.py --jobrun target/release/jobrun --runs "$runs"
