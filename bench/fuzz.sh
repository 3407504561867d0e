#!/usr/bin/env bash
# Fuzzes jobrun: runs each cargo-fuzz target in fuzz/ for SECONDS (default 60), one after the
# other (they would only compete for cores), from corpora seeded with the test fixtures, and
# prints executions and crashes per target.
#
#   bash bench/fuzz.sh [SECONDS] [TARGET...]     targets: cron every_at jobfile crontab store_rows
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain, or else the stable one
# with RUSTC_BOOTSTRAP=1 (what cargo-fuzz asks of nightly, sanitizer flags, stable's compiler
# has too; stable ships the AddressSanitizer runtime for x86_64 Linux). Corpora grow in
# fuzz/corpus/TARGET and crashes land in fuzz/artifacts/TARGET (both ignored by git); a crash
# is fixed by turning its input into a regression test beside the code it found.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(cron every_at jobfile crontab store_rows)
fi

# The seeds, taken from the test fixtures (python3, for the JSON of the cron vectors and for
# writing bytes): every input starts with its target's header bytes (see each target's doc).
seed_all() {
  python3 - <<'PY'
import glob, json, os, struct

def seed(target, name, data):
    os.makedirs(f"fuzz/corpus/{target}", exist_ok=True)
    with open(f"fuzz/corpus/{target}/seed-{name}", "wb") as f:
        f.write(data)

# cron, every_at: zone 1 (New York), searched from 2026-01-01 (offset from 2000 in seconds).
head = bytes([1]) + struct.pack("<I", 1_767_225_600 - 946_684_800)
exprs = sorted({json.loads(line)["expr"] for line in open("tests/data/cron-vectors.jsonl")})
for i, expr in enumerate(exprs):
    seed("cron", f"vector-{i}", head + expr.encode())
for name, text in [("all-weekday", "*/10 * * * *|* 8-11 * * MON-FRI"),
                   ("all-never", "*/2 * * * * *|1-59/2 * * * * *"),
                   ("extensions", "L|LW|15W|5L|1#2")]:
    seed("cron", name, head + text.encode())
for i, text in enumerate(["90s", "15m", "1h30m", "2d", "1w", "0s", "2026-12-24T18:00:00",
                          "2026-12-24T18:00:00+01:00", "2026-03-08T02:30:00",
                          "2026-11-01T01:30:00", "2026-12-24T18:00:00Z"]):
    seed("every_at", f"readme-{i}", head + text.encode())

# jobfile: every fixture, read whole (chunk byte 0) and in chunks of 3 tokens.
for path in glob.glob("examples/*.toml") + glob.glob("tests/data/*.toml") + glob.glob("tests/data/errors/*.toml"):
    text = open(path, "rb").read()
    base = os.path.basename(path)
    seed("jobfile", base, b"\0" + text)
    seed("jobfile", "chunked-" + base, b"\3" + text)

# crontab: every crontab fixture; byte 0 is 1 for the system format (a user column).
for path in sorted(glob.glob("tests/data/crontab/**", recursive=True)):
    if not os.path.isfile(path) or "/expected/" in path or path.endswith(".md"):
        continue
    system = 0 if "/user/" in path else 1
    seed("crontab", path.replace("/", "-"), bytes([system]) + open(path, "rb").read())

# store_rows: rows in the target's encoding (tag % 8: 0 null, 1 integer, 2 small integer,
# 4 text, 5 a known word (tag / 8 picks it), 7 a time near 2026 (a step of seconds)).
null = b"\0"
def integer(n): return b"\1" + struct.pack("<q", n)
def small(n): return b"\2" + bytes([n])
def text(s): return b"\4" + bytes([len(s)]) + s.encode()
def word(i): return bytes([5 + 8 * i])
def time(step): return b"\7" + bytes([step])
JOB, EXITED, MISSED = 9, 2, 6
seed("store_rows", "exited", integer(1) + word(JOB) + time(0) + small(0) + time(0) + time(0)
     + time(1) + small(0) + word(EXITED) + null + integer(0) + null * 6 + text("ok\n"))
seed("store_rows", "missed", integer(2) + word(JOB) + time(9) + small(0) + time(9) + null
     + null + small(0) + word(MISSED) + null * 4 + integer(1500) + integer(3) + time(3)
     + null + text(""))
PY
}

seed_all

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi

"${fuzz[@]}" build

status=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  before=$(find "fuzz/artifacts/$target" -type f | wc -l)
  log=$(mktemp)
  # -timeout: a single input slower than this is a finding too (a search that does not end).
  if ! "${fuzz[@]}" run "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$log" 2>&1; then
    status=1
    tail -n 40 "$log" >&2
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  after=$(find "fuzz/artifacts/$target" -type f | wc -l)
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  printf '%-12s %8ss %12s executions %6s corpus inputs %4s new crashes\n' \
    "$target" "$seconds" "$runs" "$corpus" "$((after - before))"
  rm -f "$log"
done
exit "$status"
