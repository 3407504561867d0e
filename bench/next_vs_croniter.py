"""Times `jobrun next -n 100` over 1,000 cron jobs against croniter computing the same
100,000 fire times, each as a whole process, and checks that both agree. Also times jobrun's
human format against its plain one (they should be within 1.5x of each other), with the peak
memory of each.

Run through bench/next_vs_croniter.sh, which installs croniter in a venv.
"""
import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

# Typical crontab lines, and some that exercise names, lists, steps and the extensions.
EXPRESSIONS = [
    "*/5 * * * *", "0 3 * * *", "30 9 * * MON-FRI", "0 0 1 * *", "15 */2 * * *",
    "0 8-18 * * 1-5", "*/15 9-17 * * *", "0 12 * * SUN", "45 23 L * *", "0 6 * * 1#1",
    "10,40 * * * *", "0 0 * * 0", "5 4 * * 6", "0 22 * * 1-5", "*/10 * * * *",
    "0 */6 * * *", "30 1 1,15 * *", "0 9 1-7 * MON", "20 4 * JAN,JUL *", "0 0 29 2 *",
    "@hourly", "@daily", "@weekly", "@monthly", "7 7 7 7 *",
]
ZONES = ["UTC", "America/New_York", "Europe/London", "Europe/Paris", "Asia/Kathmandu",
         "Australia/Lord_Howe", "Pacific/Chatham", "America/Sao_Paulo", "Asia/Tokyo"]
FROM = "2026-01-01T00:00:00Z"
COUNT = 100
JOBS = 1000

CRONITER_PROGRAM = r'''
import json, sys
from datetime import datetime, timezone
from croniter import croniter
import pytz
jobs = json.load(open(sys.argv[1]))
start = datetime(2026, 1, 1, tzinfo=timezone.utc)
count = int(sys.argv[2])
fires = []
for index, (expr, zone) in enumerate(jobs):
    it = croniter(expr, start.astimezone(pytz.timezone(zone)))
    for _ in range(count):
        t = it.get_next(datetime)
        fires.append((t.timestamp(), index, t.isoformat()))
fires.sort()
sys.stdout.write("".join(f[2] + "\n" for f in fires))
'''


def make_jobs(path):
    rng = random.Random(42)
    jobs = [(EXPRESSIONS[i % len(EXPRESSIONS)], rng.choice(ZONES)) for i in range(JOBS)]
    with open(path + ".toml", "w") as f:
        for i, (expr, zone) in enumerate(jobs):
            f.write(f'[jobs.j{i:04}]\ncron = "{expr}"\ntimezone = "{zone}"\ncommand = ["true"]\n\n')
    with open(path + ".json", "w") as f:
        json.dump(jobs, f)
    return jobs


def timed(argv, runs, tmp):
    """Wall time per run, spawn to exit, measured by hyperfine (no shell, output to /dev/null,
    after warm-up runs), plus the output of one more, captured run for the comparison."""
    export = os.path.join(tmp, "timing.json")
    subprocess.run(["hyperfine", "--shell=none", "--warmup", "2", "--runs", str(runs),
                    "--style", "none", "--export-json", export, shlex.join(argv)],
                   check=True, stdout=subprocess.DEVNULL)
    with open(export) as f:
        times = json.load(f)["results"][0]["times"]
    out = subprocess.run(argv, check=True, stdout=subprocess.PIPE).stdout
    return times, out


def peak_rss_kib(argv):
    """The peak resident memory of one run of argv, output discarded (wait4's rusage)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} exited {proc.returncode}")
    return usage.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobrun", required=True)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "jobs")
        make_jobs(base)
        script = os.path.join(tmp, "croniter_next.py")
        with open(script, "w") as f:
            f.write(CRONITER_PROGRAM)
        jobrun_argv = [args.jobrun, "--jobfile", base + ".toml", "next", "-n", str(COUNT),
                       "--from", FROM, "--format", "plain"]
        croniter_argv = [sys.executable, script, base + ".json", str(COUNT)]
        human_argv = jobrun_argv[:-2]
        j_times, j_out = timed(jobrun_argv, args.runs, tmp)
        h_times, _ = timed(human_argv, args.runs, tmp)
        j_rss, h_rss = peak_rss_kib(jobrun_argv), peak_rss_kib(human_argv)
        c_times, c_out = timed(croniter_argv, max(2, args.runs // 10), tmp)
    # Over several jobs, plain lines are "time<TAB>job": compare the times.
    j_lines = [l.split("\t")[0] for l in j_out.decode().splitlines()]
    c_lines = c_out.decode().splitlines()
    same = sum(1 for a, b in zip(sorted(j_lines), sorted(c_lines)) if a == b)
    j_med, c_med = statistics.median(j_times), statistics.median(c_times)
    print(f"fire times: jobrun {len(j_lines)}, croniter {len(c_lines)}; identical lines {same} "
          f"({100.0 * same / max(1, len(c_lines)):.2f} %)")
    print(f"jobrun   next -n {COUNT} x {JOBS} jobs: median {j_med * 1000:.1f} ms, min {min(j_times) * 1000:.1f} ms ({len(j_times)} runs)")
    print(f"croniter same fire times:        median {c_med * 1000:.1f} ms, min {min(c_times) * 1000:.1f} ms ({len(c_times)} runs)")
    print(f"speed-up (median / median): {c_med / j_med:.0f}x")
    h_med = statistics.median(h_times)
    print(f"jobrun   plain: median {j_med * 1000:.1f} ms, peak RSS {j_rss / 1024:.1f} MiB")
    print(f"jobrun   human: median {h_med * 1000:.1f} ms, peak RSS {h_rss / 1024:.1f} MiB "
          f"({h_med / j_med:.2f}x plain)")


if __name__ == "__main__":
    main()
