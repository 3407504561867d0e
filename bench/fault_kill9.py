"""The kill -9 fault test; run it through bench/fault_kill9.sh.

Three jobs fire every second, each appending `$JOBRUN_JOB $JOBRUN_SCHEDULED_AT $JOBRUN_RUN_ID`
to one file and then sleeping 0-1.5 s; one of them has `coalesce = false` and
`max_instances = 3`. `jobrun start` is started, SIGKILLed after 0.5-2.5 s, sometimes left down
for up to 3 s, and started again, 20 times; a last start runs ~3 s and is stopped with SIGTERM.

Then every scheduled second of each job, from its first recorded fire to its last, must be
accounted for exactly once: by one row of the state store (a `missed` row stands for `fires`
fires from `first` to `scheduled`), and by at most one line of the append file, which must
belong to a row of that second and run id. Nothing may be left claimed or running after the
clean stop, no process of the jobs may outlive it, and SQLite's integrity check must pass.
Exits 1 if any check fails, leaving the temp dir (logs, store, append file) for a look.

Only the standard library: the store is read through `jobrun history --json` and, read-only,
through the `sqlite3` module.
"""
import argparse
import collections
import datetime
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

JOBS = ("a", "b", "c")
OUTCOMES = ("exited", "signaled", "interrupted", "coalesced", "missed", "skipped", "spawn_failed")
# States of a row whose process was started: only these may have written to the append file.
RAN = {"exited", "signaled", "interrupted"}

# dash (/bin/sh here) has no $RANDOM: awk draws the sleep, seeded by the run id and the pid.
COMMAND = (
    'echo "$JOBRUN_JOB $JOBRUN_SCHEDULED_AT $JOBRUN_RUN_ID" >> {append}; '
    "sleep $(awk -v s=\"$JOBRUN_RUN_ID$$\" 'BEGIN {{ srand(s); printf \"%.3f\", rand() * 1.5 }}')"
)


def jobfile_text(append):
    command = json.dumps(COMMAND.format(append=append))
    return "".join([
        "[defaults]\nshell = true\n\n",
        f'[jobs.a]\ncron = "* * * * * *"\ncommand = {command}\n\n',
        f'[jobs.b]\ncron = "* * * * * *"\ncommand = {command}\n\n',
        f'[jobs.c]\ncron = "* * * * * *"\ncommand = {command}\n'
        "coalesce = false\nmax_instances = 3\n",
    ])


def epoch(text):
    return int(datetime.datetime.fromisoformat(text).timestamp())


class Jobrun:
    """Runs the jobrun binary against one jobfile and state dir, with a clean environment."""

    def __init__(self, binary, tmp):
        self.binary = binary
        self.tmp = tmp
        self.jobfile = os.path.join(tmp, "jobrun.toml")
        self.state = os.path.join(tmp, "state")
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC",
                    "HOME": os.path.join(tmp, "home")}
        self.starts = 0

    def argv(self, *args):
        return [self.binary, "--jobfile", self.jobfile, "--state-dir", self.state, *args]

    def start(self):
        self.starts += 1
        log = os.path.join(self.tmp, f"start-{self.starts:02}.log")
        # No pruning: every row is needed for the accounting.
        proc = subprocess.Popen(self.argv("start", "--keep-runs", "0", "--keep-for", "0s"),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=open(log, "w"), env=self.env, cwd=self.tmp)
        return proc, log

    def history(self):
        out = subprocess.run(self.argv("history", "--json", "-n", "1000000"), env=self.env,
                             cwd=self.tmp, capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    def store_path(self, log):
        for line in open(log):
            if "scheduler_started" in line:
                for field in line.split():
                    if field.startswith("store="):
                        return os.path.join(self.tmp, field[len("store="):])
        return None


def leftover_pids(jobfile):
    """Pids of live (not zombie) processes whose environment names our jobfile."""
    mark = b"JOBRUN_JOBFILE=" + os.fsencode(jobfile)
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                environ = f.read().split(b"\0")
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark in environ and state != "Z":
            found.append(int(name))
    return found


def chaos(jobrun, rng, iterations, budget):
    """Starts and SIGKILLs jobrun `iterations` times, then starts it once more and stops it
    cleanly. Returns (problems, number of kills, seconds down between kills)."""
    problems = []
    down = 0.0
    deadline = time.monotonic() + budget
    for i in range(iterations):
        proc, log = jobrun.start()
        time.sleep(rng.uniform(0.5, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode != -signal.SIGKILL:
            problems.append(f"start {jobrun.starts} ended by itself ({proc.returncode}) before "
                            f"the kill: {open(log).read()[-2000:]}")
        elif "scheduler_started" not in open(log).read():
            problems.append(f"start {jobrun.starts} never got going: {open(log).read()[-2000:]}")
        if rng.random() < 0.5:
            # Keep the whole run inside its budget: shorten pauses when earlier ones ran long.
            room = deadline - time.monotonic() - 1.5 * (iterations - i - 1)
            pause = max(0.0, min(rng.uniform(0.0, 3.0), room))
            time.sleep(pause)
            down += pause
    proc, log = jobrun.start()
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
        problems.append("the last start did not stop within 40 s of SIGTERM")
    if code != 0:
        problems.append(f"the last start exited {code}: {open(log).read()[-2000:]}")
    return problems, iterations, down, log


def account(rows, appends):
    """Checks the store's rows against each other and against the append file.

    Returns (problems, per-job counters)."""
    problems = []
    stats = {}
    by_fire = collections.defaultdict(list)  # (job, second) -> rows standing for it
    for row in rows:
        if row["manual"]:
            continue
        last = epoch(row["scheduled"])
        if row["state"] == "missed":
            first = epoch(row["first"])
            if row["fires"] != last - first + 1:
                problems.append(f"missed row {row['id']}: fires={row['fires']} but "
                                f"{row['first']}..{row['scheduled']} is {last - first + 1} s")
            seconds = range(first, last + 1)
        else:
            seconds = [last]
        for s in seconds:
            by_fire[(row["job"], s)].append(row)

    appended = collections.defaultdict(list)  # (job, second) -> run ids that wrote a line
    for job, scheduled, run_id in appends:
        appended[(job, epoch(scheduled))].append(int(run_id))
    by_id = {row["id"]: row for row in rows}

    for job in JOBS:
        seconds = sorted(s for (j, s) in by_fire if j == job)
        if not seconds:
            problems.append(f"{job}: no rows at all")
            continue
        counts = collections.Counter()
        for row in rows:
            if row["job"] == job and not row["manual"]:
                counts[row["state"]] += row["fires"] if row["state"] == "missed" else 1
        span = range(seconds[0], seconds[-1] + 1)
        unaccounted = [s for s in span if (job, s) not in by_fire]
        twice_rows = [s for s in span if len(by_fire.get((job, s), [])) > 1]
        twice_appended = [s for (j, s), ids in appended.items() if j == job and len(ids) > 1]
        for s in unaccounted:
            problems.append(f"{job}: second {s} ({iso(s)}) has no row")
        for s in twice_rows:
            ids = [r["id"] for r in by_fire[(job, s)]]
            problems.append(f"{job}: second {iso(s)} has rows {ids}")
        for s in twice_appended:
            problems.append(f"{job}: second {iso(s)} ran twice: run ids {appended[(job, s)]}")
        unrecorded = 0
        for (j, s), ids in sorted(appended.items()):
            if j != job:
                continue
            for run_id in ids:
                row = by_id.get(run_id)
                if row is None or row["job"] != job or epoch(row["scheduled"]) != s \
                        or row["state"] not in RAN:
                    unrecorded += 1
                    problems.append(f"{job}: appended {iso(s)} run {run_id} has no matching "
                                    f"row: {json.dumps(row)}")
        # A run that exited 0 got past the echo, so it wrote its line.
        silent = [r["id"] for r in rows if r["job"] == job and not r["manual"]
                  and r["state"] == "exited" and r["exit_code"] == 0
                  and (job, epoch(r["scheduled"])) not in appended]
        for run_id in silent:
            problems.append(f"{job}: run {run_id} exited 0 without appending its line")
        unfinished = [r["id"] for r in rows if r["job"] == job
                      and r["state"] in ("claimed", "running")]
        for run_id in unfinished:
            problems.append(f"{job}: run {run_id} is still {by_id[run_id]['state']} after the "
                            "clean stop")
        stats[job] = {
            "seconds": len(span),
            **{o: counts[o] for o in OUTCOMES},
            "unaccounted": len(unaccounted),
            "twice": len(twice_rows) + len(twice_appended),
            "unfinished": len(unfinished),
            "unrecorded": unrecorded + len(silent),
        }
    manual = [r["id"] for r in rows if r["manual"]]
    if manual:
        problems.append(f"manual rows nobody asked for: {manual}")
    return problems, stats


def log_vs_store(tmp, rows):
    """Runs whose `finished` log line and store row disagree. Not a failure: the scheduler logs
    `finished` just before it commits the end, so a SIGKILL between the two leaves a run the
    log calls ended and the store `interrupted` (its status lost). Counted to show how often."""
    finished = set()
    for name in sorted(os.listdir(tmp)):
        if name.startswith("start-"):
            for line in open(os.path.join(tmp, name)):
                m = re.search(r" finished job=\S+ run=(\d+) ", line)
                if m:
                    finished.add(int(m[1]))
    return sorted(r["id"] for r in rows if r["id"] in finished and r["state"] == "interrupted")


def iso(second):
    return datetime.datetime.fromtimestamp(second, datetime.timezone.utc).isoformat()


def check_sqlite(path, rows):
    """Reads the store directly, read-only: SQLite's integrity check, and the same rows and
    fires as `history` showed."""
    problems = []
    uri = "file:" + path + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            problems.append(f"integrity_check: {integrity}")
        count = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        if count != len(rows):
            problems.append(f"history showed {len(rows)} rows, the table has {count}")
        dup = conn.execute("SELECT job, scheduled, count(*) FROM runs WHERE manual = 0 "
                           "GROUP BY job, scheduled HAVING count(*) > 1").fetchall()
        if dup:
            problems.append(f"fires with two rows in the table: {dup}")
        stuck = conn.execute("SELECT id, job, state FROM runs "
                             "WHERE state IN ('claimed', 'running')").fetchall()
        if stuck:
            problems.append(f"claimed/running rows in the table: {stuck}")
        # Each job resumes from last_fire: it must be the newest fire the job has a row for.
        for name, last_fire, newest in conn.execute(
                "SELECT name, last_fire, (SELECT max(scheduled) FROM runs "
                "WHERE runs.job = jobs.name AND manual = 0) FROM jobs"):
            if last_fire != newest:
                problems.append(f"job {name}: last_fire {last_fire} but newest row {newest}")
    finally:
        conn.close()
    return integrity, problems


def table(stats):
    columns = ["seconds", *OUTCOMES, "unaccounted", "twice", "unfinished", "unrecorded"]
    header = ["job", *columns]
    body = [[job, *(str(s[c]) for c in columns)] for job, s in stats.items()]
    body.append(["all", *(str(sum(s[c] for s in stats.values())) for c in columns)])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(r, widths)).rstrip()
                     for r in [header, *body])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobrun", required=True, help="the jobrun binary")
    parser.add_argument("--iterations", type=int, default=20, help="kills before the clean stop")
    parser.add_argument("--seed", type=int, help="for the random timings (default: random)")
    parser.add_argument("--budget", type=float, default=50.0,
                        help="seconds the kill loop may take at most (pauses shrink to fit)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir even on success")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    binary = os.path.abspath(args.jobrun)
    tmp = tempfile.mkdtemp(prefix="jobrun-fault-kill9-")
    append = os.path.join(tmp, "appended")
    with open(os.path.join(tmp, "jobrun.toml"), "w") as f:
        f.write(jobfile_text(append))
    jobrun = Jobrun(binary, tmp)
    print(f"seed {seed}, {args.iterations} kills, temp dir {tmp}", flush=True)

    t0 = time.monotonic()
    problems, kills, down, last_log = chaos(jobrun, rng, args.iterations, args.budget)
    elapsed = time.monotonic() - t0

    # Nothing of the jobs may outlive the clean stop (the last start waited for its runs).
    leftovers = leftover_pids(jobrun.jobfile)
    if leftovers:
        problems.append(f"processes of the jobs alive after the clean stop: {leftovers}")

    rows = jobrun.history()
    appends = [line.split() for line in open(append).read().splitlines()]
    found, stats = account(rows, appends)
    problems += found
    store = jobrun.store_path(last_log)
    integrity = ["not run"]
    if store is None:
        problems.append(f"no store= in {last_log}")
    else:
        integrity, found = check_sqlite(store, rows)
        problems += found

    print(f"{kills} kills, {down:.1f} s down between them, {elapsed:.1f} s in all; "
          f"{len(rows)} rows, {len(appends)} lines appended")
    print(table(stats))
    print(f"integrity_check: {', '.join(integrity)}; processes left: {len(leftovers)}")
    lost = log_vs_store(tmp, rows)
    print(f"logged finished but recorded interrupted (killed between log line and commit): "
          f"{len(lost)}{' ' + str(lost) if lost else ''}")
    if problems:
        print(f"\nFAILED: {len(problems)} problem(s); logs, store and append file in {tmp}")
        for p in problems[:50]:
            print(f"- {p}")
        return 1
    print("ok: every second accounted for once, none ran twice, nothing left unfinished")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
