#!/usr/bin/env bash
# The kill -9 fault test: jobrun SIGKILLed 20 times under three every-second jobs, then every
# scheduled second accounted for (see bench/fault_kill9.py). About a minute; needs python3 (no
# packages).
#
#   bash bench/fault_kill9.sh [--seed N] [--iterations N] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
exec python3 bench/fault_kill9.py --jobrun "${CARGO_TARGET_DIR:-target}/release/jobrun" "$@"
