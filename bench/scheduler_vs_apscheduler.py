"""The scheduler benchmark of issue 4; run it through bench/scheduler_vs_apscheduler.sh.

Start delay: a lone job firing every second for 20 s (20 samples); then N jobs (100, 1,000)
all due at the same whole second T; each runs
`stamp`, which prints the real-time clock as it starts; delay = stamp - T. Measured for
`jobrun start`, for APScheduler 3's BlockingScheduler (each job a function that spawns the
same program; a thread pool as large as N, misfire grace 60 s), and for a bare C loop that
sleeps until T and then spawns N processes from one thread (the physical floor).

Idle cost: 100 jobs none of which is due, 60 s: CPU time and voluntary context switches of
the scheduler process, from /proc. Memory and start-up: 10,000 jobs loaded: RSS after
start-up, time from exec to "ready", and the delay of the first fire.
"""
import argparse
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

APS_PROGRAM = r'''
import subprocess, sys, threading, time
from datetime import datetime, timezone
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.executors.pool import ThreadPoolExecutor
mode, stamp, out_path, n, at, stop_after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
pool = sys.argv[7] if len(sys.argv) > 7 else "n"
if pool == "defaults":
    # APScheduler exactly as it comes: a 10-thread pool, misfire_grace_time 1 s.
    sched = BlockingScheduler()
else:
    workers = max(1, min(n, 1000)) if pool == "n" else int(pool)
    sched = BlockingScheduler(executors={"default": ThreadPoolExecutor(max_workers=workers)},
                              job_defaults={"misfire_grace_time": 60, "coalesce": False, "max_instances": 1})
out = open(out_path, "ab", buffering=0)
def run():
    subprocess.Popen([stamp], stdout=out).wait()
when = datetime.fromtimestamp(at, tz=timezone.utc)
for i in range(n):
    if mode == "due":
        sched.add_job(run, "date", run_date=when, id=str(i))
    elif mode == "idle":
        sched.add_job(run, "cron", month=1, day=1, hour=0, minute=i % 60, id=str(i))
    elif mode == "lone":
        sched.add_job(run, "cron", second="*", id=str(i))
    else:  # "many": n cron jobs, one of them every second
        if i == 0:
            sched.add_job(run, "cron", second="*", id=str(i))
        else:
            sched.add_job(run, "cron", hour=i % 24, minute=i % 60, id=str(i))
threading.Timer(max(0.0, stop_after - time.time()), lambda: sched.shutdown(wait=False)).start()
print("ready", flush=True)
sched.start()
'''


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, math.ceil(p / 100.0 * len(ordered)) - 1))
    return ordered[k]


def summary(name, delays, expected):
    """Prints one line of figures; returns (p99, first-to-last) in ms."""
    if len(delays) != expected:
        note = f" (only {len(delays)} of {expected} ran)"
    else:
        note = ""
    ms = [d * 1000 for d in delays]
    spread = (max(ms) - min(ms)) if ms else float("nan")
    p99 = percentile(ms, 99)
    print(f"  {name:<12} p50 {percentile(ms, 50):8.2f} ms  p99 {p99:8.2f} ms  "
          f"max {max(ms) if ms else float('nan'):8.2f} ms  first-to-last {spread:8.2f} ms{note}")
    return p99, spread


def stamps(path):
    values = []
    try:
        with open(path) as f:
            for line in f:
                if not line.endswith("\n"):
                    continue
                line = line.strip()
                if line:
                    values.append(float(line.split()[-1]))
    except FileNotFoundError:
        pass
    return values


def jobrun_jobfile(path, n, mode, stamp, at=None, pool="n"):
    """pool: "n" (a pool as large as the jobs), "defaults" (no [executors], no [defaults]: jobrun
    as it comes), or a number of workers."""
    with open(path, "w") as f:
        if pool != "defaults":
            workers = max(1, n) if pool == "n" else int(pool)
            f.write(f"[executors.default]\nworkers = {workers}\n\n[defaults]\nmisfire_grace = \"1m\"\nmax_instances = 1\n\n")
        for i in range(n):
            f.write(f"[jobs.j{i}]\n")
            if mode == "due":
                f.write(f'at = "{time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))}"\n')
            elif mode == "idle":
                f.write(f'cron = "{i % 60} 0 1 1 *"\n')
            elif mode == "lone":
                f.write('cron = "* * * * * *"\n')
            else:
                f.write('cron = "* * * * * *"\n' if i == 0 else f'cron = "{i % 60} {i % 24} * * *"\n')
            f.write(f'command = ["{stamp}"]\n\n')


def run_jobrun(args, tmp, n, mode, at, stop_after, pool="n", binary=None):
    """Starts `binary` (default: the last --jobrun) on a fresh state store."""
    binary = binary or args.jobrun[-1]
    jobfile = os.path.join(tmp, f"jobrun-{mode}-{n}-{pool}.toml")
    jobrun_jobfile(jobfile, n, mode, os.path.abspath(args.stamp), at, pool)
    log = os.path.join(tmp, f"jobrun-{mode}-{n}.log")
    state = tempfile.mkdtemp(dir=tmp, prefix="state-")
    t0 = time.time()
    proc = subprocess.Popen([binary, "--jobfile", jobfile, "start", "--stop-grace", "5s"],
                            stderr=open(log, "w"), stdout=subprocess.DEVNULL,
                            env={**os.environ, "TZ": "UTC", "JOBRUN_STATE_DIR": state})
    return proc, log, t0


def wait_log(log, text, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(log) as f:
            for line in f:
                if text in line:
                    return line
        time.sleep(0.005)
    raise SystemExit(f"no {text!r} in {log}")


def job_stamps(log):
    """The stamps printed by jobs: lines like `... j3[4] | 1764000000.123456789`."""
    values = []
    with open(log) as f:
        for line in f:
            # A line jobrun is still writing has no newline yet: it is read next time.
            if "] | " in line and line.endswith("\n"):
                values.append(float(line.rsplit("| ", 1)[1]))
    return values


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def lone(args, tmp, rounds=20):
    """A single job due every second: each fire is a lone job; `rounds` samples."""
    print(f"Start delay, a lone job, {rounds} consecutive seconds:")
    proc, log, _ = run_jobrun(args, tmp, 1, "lone", None, None)
    wait_log(log, "scheduler_started", 10)
    deadline = time.time() + rounds + 5
    while time.time() < deadline and len(job_stamps(log)) < rounds:
        time.sleep(0.05)
    stop(proc)
    summary("jobrun", [s - math.floor(s) for s in job_stamps(log)[:rounds]], rounds)
    out = os.path.join(tmp, "aps-lone.out")
    aps = subprocess.Popen([sys.executable, "-c", APS_PROGRAM, "lone", os.path.abspath(args.stamp), out, "1", "0",
                            str(time.time() + rounds + 2.5)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    aps.wait(timeout=rounds + 30)
    summary("APScheduler", [s - math.floor(s) for s in stamps(out)[:rounds]], rounds)
    at = math.ceil(time.time()) + 1
    out = os.path.join(tmp, "floor-lone.out")
    with open(out, "w") as f:
        subprocess.run([args.floor, str(at), "1", os.path.abspath(args.stamp), str(rounds)], stdout=f, check=True)
    summary("bare spawn", [s - math.floor(s) for s in stamps(out)], rounds)


def latency(args, tmp):
    print("Start delay, all jobs due at the same second:")
    for n in (100, 1000):
        print(f" {n} job(s):")
        # jobrun
        at = math.ceil(time.time()) + 3
        proc, log, _ = run_jobrun(args, tmp, n, "due", at, None)
        deadline = time.time() + 3 + n / 100 + 5
        while time.time() < deadline and len(job_stamps(log)) < n:
            time.sleep(0.05)
        stop(proc)
        summary("jobrun", [s - at for s in job_stamps(log)], n)
        # APScheduler
        at = math.ceil(time.time()) + 4
        out = os.path.join(tmp, f"aps-{n}.out")
        aps = subprocess.Popen([sys.executable, "-c", APS_PROGRAM, "due", os.path.abspath(args.stamp), out, str(n), str(at),
                                str(at + 3 + n / 50)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        aps.wait(timeout=at + 60 + n / 10 - time.time())
        summary("APScheduler", [s - at for s in stamps(out)], n)
        # the floor
        at = math.ceil(time.time()) + 2
        out = os.path.join(tmp, f"floor-{n}.out")
        with open(out, "w") as f:
            subprocess.run([args.floor, str(at), str(n), os.path.abspath(args.stamp)], stdout=f, check=True)
        summary("bare spawn", [s - at for s in stamps(out)], n)


def policies(args, tmp):
    """Issue 11: both schedulers on their defaults (jobrun: no [executors]; APScheduler: its
    10-thread pool and 1 s misfire grace), then equal pools of 10 slots each, with the bare
    spawn loop as the floor (with equal pools, one that keeps at most 10 children at a time),
    all in the same run (each --jobrun binary in turn, then
    APScheduler, then the floor; `--repeat` rounds of that, interleaved, then the medians).
    Targets: jobrun's p99 at most half of APScheduler's in both cases; on defaults, jobrun's
    first-to-last spread within 1.2x the floor's. Where half of APScheduler's p99 is below the
    floor's own, the floor is the target that physics allows on this machine."""
    names = [os.path.basename(b) for b in args.jobrun]
    for title, jobrun_pool, aps_pool in (("both on their defaults", "defaults", "defaults"),
                                         ("equal pools of 10", "10", "10")):
        print(f"Start delay, all jobs due at the same second, {title}:")
        for n in (100, 1000):
            print(f" {n} job(s):")
            figures = {}
            for round_ in range(args.repeat):
                if args.repeat > 1:
                    print(f"  round {round_ + 1} of {args.repeat} (load {os.getloadavg()[0]:.2f}):")
                for name, binary in zip(names, args.jobrun):
                    at = math.ceil(time.time()) + 3
                    proc, log, _ = run_jobrun(args, tmp, n, "due", at, None, jobrun_pool, binary)
                    deadline = time.time() + 3 + n / 100 + 10
                    while time.time() < deadline and len(job_stamps(log)) < n:
                        time.sleep(0.05)
                    stop(proc)
                    figures.setdefault(name, []).append(summary(name, [s - at for s in job_stamps(log)], n))
                at = math.ceil(time.time()) + 4
                out = os.path.join(tmp, f"aps-{n}-{aps_pool}-{round_}.out")
                aps = subprocess.Popen([sys.executable, "-c", APS_PROGRAM, "due", os.path.abspath(args.stamp), out, str(n),
                                        str(at), str(at + 3 + n / 50), aps_pool],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                # Stopped once every job has run, rather than at its own deadline.
                deadline = at + 3 + n / 50
                while time.time() < deadline and len(stamps(out)) < n and aps.poll() is None:
                    time.sleep(0.05)
                aps.kill()
                aps.wait()
                figures.setdefault("APScheduler", []).append(summary("APScheduler", [s - at for s in stamps(out)], n))
                at = math.ceil(time.time()) + 2
                out = os.path.join(tmp, f"floor-{n}-{aps_pool}-{round_}.out")
                # With equal pools, the floor keeps 10 children at most, as the pools do.
                limit = [] if aps_pool == "defaults" else ["1", aps_pool]
                with open(out, "w") as f:
                    subprocess.run([args.floor, str(at), str(n), os.path.abspath(args.stamp)] + limit, stdout=f,
                                   check=True)
                figures.setdefault("bare spawn", []).append(summary("bare spawn", [s - at for s in stamps(out)], n))
            verdicts(figures, names, defaults=jobrun_pool == "defaults", rounds=args.repeat)


def verdicts(figures, names, defaults, rounds):
    """The medians over the rounds, and each target: met or not, and the floor where it is
    above the target."""
    med = {name: (statistics.median(p for p, _ in runs), statistics.median(s for _, s in runs))
           for name, runs in figures.items()}
    if rounds > 1:
        print(f"  medians of {rounds} rounds:")
        for name, (p99, spread) in med.items():
            print(f"  {name:<12} p99 {p99:8.2f} ms  first-to-last {spread:8.2f} ms")
    aps_p99 = med["APScheduler"][0]
    floor_p99, floor_spread = med["bare spawn"]
    target = 0.5 * aps_p99
    for name in names:
        p99, spread = med[name]
        line = (f"  {name}: p99 {p99 / aps_p99:.2f}x APScheduler's (target 0.5x = {target:.0f} ms: "
                f"{'met' if p99 <= target else 'not met'}")
        if floor_p99 > target:
            line += (f"; the floor's p99 {floor_p99:.0f} ms is above it, jobrun at {p99 / floor_p99:.2f}x"
                     f" the floor")
        line += ")"
        if defaults:
            line += (f"; first-to-last {spread / floor_spread:.2f}x the floor's (target 1.2x: "
                     f"{'met' if spread <= 1.2 * floor_spread else 'not met'})")
        print(line)
def proc_usage(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    switches = 0
    rss = 0
    # Every thread's switches (the process's status shows the main thread's only).
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        switches += int(line.split()[1])
        except FileNotFoundError:
            pass
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                rss = int(line.split()[1])
    return ticks / os.sysconf("SC_CLK_TCK"), switches, rss


def idle(args, tmp):
    print(f"Idle cost, 100 jobs none due, {args.idle} s:")
    proc, log, _ = run_jobrun(args, tmp, 100, "idle", None, None)
    wait_log(log, "scheduler_started", 10)
    aps = subprocess.Popen([sys.executable, "-c", APS_PROGRAM, "idle", os.path.abspath(args.stamp), os.devnull, "100", "0",
                            str(time.time() + args.idle + 30)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    aps.stdout.readline()
    time.sleep(2)
    before = proc_usage(proc.pid), proc_usage(aps.pid)
    time.sleep(args.idle)
    after = proc_usage(proc.pid), proc_usage(aps.pid)
    for name, b, a in (("jobrun", before[0], after[0]), ("APScheduler", before[1], after[1])):
        print(f"  {name:<12} CPU {1000 * (a[0] - b[0]):7.1f} ms  voluntary context switches {a[1] - b[1]:6d}")
    stop(proc)
    aps.kill()
    aps.wait()


def many(args, tmp):
    print("10,000 jobs loaded (one of them every second):")
    proc, log, t0 = run_jobrun(args, tmp, 10000, "many", None, None)
    line = wait_log(log, "scheduler_started", 30)
    ready = time.mktime(time.strptime(line.split()[0][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0." + line.split()[0][20:23])
    deadline = time.time() + 5
    while time.time() < deadline and not job_stamps(log):
        time.sleep(0.01)
    first = job_stamps(log)[0] if job_stamps(log) else float("nan")
    _, _, rss = proc_usage(proc.pid)
    stop(proc)
    aps = subprocess.Popen([sys.executable, "-c", APS_PROGRAM, "many", os.path.abspath(args.stamp), os.devnull, "10000", "0",
                            str(time.time() + 30)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    aps_t0 = time.time()
    aps.stdout.readline()
    aps_ready = time.time() - aps_t0
    time.sleep(2)
    _, _, aps_rss = proc_usage(aps.pid)
    aps.kill()
    aps.wait()
    print(f"  jobrun       exec to ready {1000 * (ready - t0):6.1f} ms  first fire {1000 * (first - math.floor(first)):6.2f} ms after its second  RSS {rss / 1024:6.1f} MiB")
    print(f"  APScheduler  start to jobs added {1000 * aps_ready:6.1f} ms  RSS {aps_rss / 1024:6.1f} MiB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobrun", required=True, action="append",
                    help="a jobrun binary (repeatable: `policies` measures each; the other parts the last)")
    ap.add_argument("--stamp", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--idle", type=float, default=60)
    ap.add_argument("--repeat", type=int, default=1, help="rounds of each `policies` case")
    parts = {"lone": lone, "latency": latency, "policies": policies, "many": many, "idle": idle}
    ap.add_argument("--only", action="append", choices=sorted(parts),
                    help="run only this part (repeatable); default: all")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, part in parts.items():
            if not args.only or name in args.only:
                part(args, tmp)


if __name__ == "__main__":
    main()
