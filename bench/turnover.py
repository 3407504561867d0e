"""One `jobrun start` with N jobs due at the same instant, optionally under a profiler: the
driver behind issue 11's profiles of slot turnover and of a large batch's start.

    python3 bench/turnover.py JOBRUN N WORKERS|defaults LEAD_SECONDS [WRAPPER...]

WORKERS: the size of the default pool (`defaults`: no [executors], as jobrun comes). The jobs
run `target/bench/stamp` (built by bench/scheduler_vs_apscheduler.sh), which prints the time it
started. LEAD_SECONDS: how far ahead the instant is (15 under valgrind, which starts slowly).
The driver waits for every job's stamp, prints jobrun's own CPU time and the start delays,
then stops jobrun with SIGTERM (the wrapper's child, so that a profiler writes its output).
Examples:

    python3 bench/turnover.py target/release/jobrun 1000 10 15 \\
        valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p
    python3 bench/turnover.py target/release/jobrun 1000 defaults 2 perf record -g -o /tmp/perf.data
"""
import math
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    jobrun, n, pool, lead = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    wrapper = sys.argv[5:]
    stamp = os.path.join(ROOT, "target", "bench", "stamp")
    tmp = tempfile.mkdtemp(prefix="jobrun-turnover-")
    at = math.ceil(time.time() + lead)
    jobfile = os.path.join(tmp, "jobs.toml")
    with open(jobfile, "w") as f:
        if pool != "defaults":
            f.write(f'[executors.default]\nworkers = {pool}\n\n'
                    '[defaults]\nmisfire_grace = "1m"\nmax_instances = 1\n\n')
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
        for i in range(n):
            f.write(f'[jobs.j{i}]\nat = "{when}"\ncommand = ["{stamp}"]\n\n')
    log = os.path.join(tmp, "log")
    proc = subprocess.Popen(wrapper + [jobrun, "--jobfile", jobfile, "start", "--stop-grace", "5s"],
                            stderr=open(log, "w"), stdout=subprocess.DEVNULL,
                            env={**os.environ, "TZ": "UTC", "JOBRUN_STATE_DIR": os.path.join(tmp, "state")})
    deadline = time.time() + lead + 600
    while time.time() < deadline and len(stamps(log)) < n:
        time.sleep(0.1)
    delays = sorted(s - at for s in stamps(log))
    time.sleep(0.5)
    target = jobrun_pid(proc.pid, jobrun, jobfile) if wrapper else proc.pid
    with open(f"/proc/{target}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    print(f"jobrun CPU: user {int(fields[11]) / tick:.2f} s, system {int(fields[12]) / tick:.2f} s")
    os.kill(target, signal.SIGTERM)
    proc.wait(timeout=120)
    if delays:
        p99 = delays[min(len(delays) - 1, math.ceil(0.99 * len(delays)) - 1)]
        print(f"{len(delays)} runs: first {delays[0] * 1000:.1f} ms, p50 {delays[len(delays) // 2] * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms, last {delays[-1] * 1000:.1f} ms; log {log}")


def stamps(log):
    """The stamps in jobrun's log, from whole lines only (jobrun may be writing the last)."""
    with open(log) as f:
        return [float(line.rsplit("| ", 1)[1]) for line in f if "] | " in line and line.endswith("\n")]


def jobrun_pid(fallback, jobrun, jobfile):
    """The jobrun process under the wrapper: its executable and its jobfile."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if (os.readlink(f"/proc/{pid}/exe") == os.path.realpath(jobrun)
                    and jobfile in open(f"/proc/{pid}/cmdline").read()):
                return int(pid)
        except OSError:
            pass
    return fallback


if __name__ == "__main__":
    main()
