//! `jobrun start` and `jobrun run` with real processes and the real clock: each test lasts a
//! few seconds at most and waits on conditions, never on fixed sleeps.

use std::fs;

use crate::harness::{Test, alive, wait_for};

#[test]
fn an_every_second_job_fires_on_time_each_second() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.tick]
            cron = "* * * * * *"
            command = "echo $JOBRUN_SCHEDULED_AT $(date +%s.%N) $JOBRUN_JOB $JOBRUN_RUN_ID >> ticks"
            shell = true
            "#,
        )
        .args(["start"]);
    let mut jobrun = test.spawn();
    assert!(
        wait_for(6.0, || test.lines("ticks").len() >= 4),
        "log:\n{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let ticks = test.lines("ticks");
    let mut previous: Option<i64> = None;
    let mut run_ids = std::collections::HashSet::new();
    for tick in &ticks {
        let fields: Vec<&str> = tick.split_whitespace().collect();
        assert_eq!(fields.len(), 4, "{tick}");
        let scheduled = chrono::DateTime::parse_from_rfc3339(fields[0])
            .expect("RFC 3339")
            .timestamp();
        let started: f64 = fields[1].parse().expect("date +%s.%N");
        let late = started - scheduled as f64;
        assert!(
            (0.0..0.5).contains(&late),
            "started {late:.3}s after its time: {tick}"
        );
        if let Some(p) = previous {
            assert_eq!(scheduled, p + 1, "consecutive seconds: {ticks:?}");
        }
        previous = Some(scheduled);
        assert_eq!(fields[2], "tick");
        assert!(
            run_ids.insert(fields[3].to_owned()),
            "run ids are unique: {ticks:?}"
        );
    }
    let log = jobrun.log();
    assert!(log.contains("scheduler_started"), "{log}");
    assert!(
        log.contains("finished job=tick run=1 status=\"exit 0\""),
        "{log}"
    );
    assert!(log.contains("scheduler_stopped"), "{log}");
}

#[test]
fn a_pool_of_one_worker_never_runs_two_jobs_at_once() {
    let test = Test::new()
        .jobfile(
            r#"
            [executors.single]
            workers = 1

            [defaults]
            executor = "single"
            misfire_grace = "10s"
            shell = true

            [jobs.a]
            cron = "* * * * * *"
            command = "mkdir lock || echo overlap >> bad; echo a >> ran; sleep 0.3; rmdir lock"

            [jobs.b]
            cron = "* * * * * *"
            command = "mkdir lock || echo overlap >> bad; echo b >> ran; sleep 0.3; rmdir lock"
            "#,
        )
        .args(["start"]);
    let mut jobrun = test.spawn();
    let both = || {
        let ran = test.lines("ran");
        ran.iter().filter(|l| *l == "a").count() >= 2
            && ran.iter().filter(|l| *l == "b").count() >= 2
    };
    assert!(wait_for(6.0, both), "log:\n{}", jobrun.log());
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    assert!(
        !test.path("bad").exists(),
        "two runs overlapped; log:\n{}",
        jobrun.log()
    );
}

#[test]
fn max_instances_skips_a_run_while_the_last_one_is_still_going() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.slow]
            cron = "* * * * * *"
            command = ["sleep", "1.5"]
            max_instances = 1
            "#,
        )
        .args(["start", "--stop-grace", "0s"]);
    let mut jobrun = test.spawn();
    jobrun.expect_log(
        5.0,
        &["skipped", "job=slow", "reason=max_instances", "running=1"],
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
}

#[test]
fn a_timeout_ends_the_whole_process_group() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.stuck]
            cron = "* * * * * *"
            command = "sleep 30 & echo $! > grandchild; sleep 30"
            shell = true
            timeout = "1s"
            kill_after = "1s"
            max_instances = 1
            "#,
        )
        .args(["start"]);
    let mut jobrun = test.spawn();
    jobrun.expect_log(6.0, &["timed_out", "job=stuck"]);
    jobrun.expect_log(
        4.0,
        &[
            "finished",
            "job=stuck",
            "killed by SIGTERM",
            "timed_out=true",
        ],
    );
    let grandchild: i32 = fs::read_to_string(test.path("grandchild"))
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    assert!(
        wait_for(2.0, || !alive(grandchild)),
        "the background grandchild survived the timeout"
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
}

#[test]
fn sigterm_ends_running_jobs_after_the_grace_period_and_leaves_nothing_behind() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.long]
            cron = "* * * * * *"
            command = "sleep 30 & echo $! > grandchild; echo $$ > child; sleep 30"
            shell = true
            max_instances = 1
            "#,
        )
        .args(["start", "--stop-grace", "1s"]);
    let mut jobrun = test.spawn();
    assert!(
        wait_for(5.0, || test.path("grandchild").exists()
            && test.path("child").exists()),
        "log:\n{}",
        jobrun.log()
    );
    let pid = |name: &str| -> i32 {
        fs::read_to_string(test.path(name))
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap_or(0)
    };
    assert!(wait_for(1.0, || pid("grandchild") > 0 && pid("child") > 0));
    let (child, grandchild) = (pid("child"), pid("grandchild"));
    jobrun.signal("TERM");
    jobrun.expect_log(2.0, &["stopping", "running=1", "grace=1s"]);
    assert_eq!(jobrun.wait_exit(6.0), Some(0));
    assert!(!alive(child), "the job survived jobrun");
    assert!(
        wait_for(2.0, || !alive(grandchild)),
        "the job's background process survived jobrun"
    );
    let log = jobrun.log();
    assert!(log.contains("stopping_run job=long"), "{log}");
    assert!(log.contains("scheduler_stopped"), "{log}");
}

#[test]
fn reload_picks_up_an_edit_and_survives_a_broken_one() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.a]
            cron = "* * * * * *"
            command = ["touch", "a"]
            "#,
        )
        .args(["start"]);
    let mut jobrun = test.spawn();
    assert!(
        wait_for(5.0, || test.path("a").exists()),
        "log:\n{}",
        jobrun.log()
    );
    // Replace the file the way editors and `jobrun add` do: write elsewhere, rename over.
    let replace = |text: &str| {
        fs::write(test.path("next.toml"), text).expect("write");
        fs::rename(test.path("next.toml"), test.path("jobrun.toml")).expect("rename");
    };
    replace("[jobs.b]\ncron = \"* * * * * *\"\ncommand = [\"touch\", \"b\"]\n");
    jobrun.expect_log(3.0, &["reloaded", "reason=\"jobfile changed\"", "jobs=1"]);
    assert!(
        wait_for(4.0, || test.path("b").exists()),
        "log:\n{}",
        jobrun.log()
    );
    replace("[jobs.b]\ncron = \"* * * * * *\"\ncommand = [\"touch\", \"b\"]\ntypo = 1\n");
    jobrun.expect_log(
        3.0,
        &[
            "reload_failed",
            "unknown key",
            "keeping=\"the last good jobfile\"",
        ],
    );
    fs::remove_file(test.path("b")).expect("rm b");
    assert!(
        wait_for(4.0, || test.path("b").exists()),
        "the last good jobfile stopped running; log:\n{}",
        jobrun.log()
    );
    jobrun.signal("HUP");
    jobrun.expect_log(3.0, &["reload_failed", "reason=SIGHUP"]);
    jobrun.signal("INT");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
}

#[test]
fn run_passes_output_through_and_exits_with_the_jobs_status() {
    let test = Test::new().jobfile(
        r#"
        [jobs.fail]
        cron = "@daily"
        command = "echo out; echo err >&2; exit 3"
        shell = true
        "#,
    );
    let output = test.command().args(["run", "fail"]).output().expect("run");
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "out\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.lines().any(|l| l == "err"), "{stderr}");
    assert!(
        stderr.contains("finished job=fail run=1 status=\"exit 3\""),
        "{stderr}"
    );
}

#[test]
fn run_of_an_unknown_job_is_a_usage_error() {
    Test::new()
        .jobfile("[jobs.backup]\ncron = \"@daily\"\ncommand = [\"true\"]\n")
        .args(["run", "bakup"])
        .expect(
            2,
            "",
            "jobrun: error: no job named \"bakup\" in jobrun.toml (did you mean \"backup\"?)\n",
        );
}

#[test]
fn as_pid_1_it_reaps_orphans_it_inherits() {
    // A PID namespace makes jobrun PID 1 there, as in a container. Needs unshare(1) and the
    // privilege to create namespaces (root in CI).
    let probe = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        // CI runs as root and must be able to; elsewhere (an unprivileged developer) say so.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI cannot create a PID namespace"
        );
        eprintln!("skipping: cannot create a PID namespace here");
        return;
    }
    let test = Test::new().jobfile(
        r#"
        [jobs.orphan]
        cron = "* * * * * *"
        command = "(sleep 0.2 &) ; true"
        shell = true

        [jobs.census]
        cron = "* * * * * *"
        command = "ps -eo pid=,stat=,comm= > tmp.$$ && mv tmp.$$ ps.$(date +%s)"
        shell = true
        "#,
    );
    let log = test.path("jobrun.log");
    let mut child = std::process::Command::new("unshare")
        // --kill-child: when unshare is killed, jobrun (its child, PID 1 inside) gets SIGTERM.
        .args([
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child=SIGTERM",
            crate::harness::BIN,
            "start",
        ])
        .current_dir(test.dir.path())
        .env("TZ", "UTC")
        // The state store in the test's directory, not the developer's.
        .env("JOBRUN_STATE_DIR", test.path("state"))
        .stderr(fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn unshare");
    let censuses = || {
        fs::read_dir(test.dir.path())
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with("ps."))
                    .count()
            })
            .unwrap_or(0)
    };
    let ok = wait_for(8.0, || censuses() >= 4);
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "log:\n{}", fs::read_to_string(&log).unwrap_or_default());
    let mut names: Vec<_> = fs::read_dir(test.dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ps."))
        .collect();
    names.sort();
    // The last censuses are taken after several orphans were born and died: none may linger as
    // a zombie. A census can catch a child in the instant between its exit and its reaping (it
    // runs at the same second as the other job), so a zombie counts only when the next census,
    // a second later, still finds the same pid a zombie.
    let zombies = |name: &String| -> Vec<String> {
        fs::read_to_string(test.path(name))
            .expect("census")
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|s| s.starts_with('Z'))
            })
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect()
    };
    let last = fs::read_to_string(test.path(&names[names.len() - 1])).expect("census");
    assert!(
        last.lines()
            .any(|l| l.trim_start().starts_with("1 ") && l.contains("jobrun")),
        "jobrun is PID 1:\n{last}"
    );
    let before = zombies(&names[names.len() - 2]);
    let lasting: Vec<String> = zombies(&names[names.len() - 1])
        .into_iter()
        .filter(|pid| before.contains(pid))
        .collect();
    assert!(
        lasting.is_empty(),
        "zombies for a second or more: {lasting:?}\n{last}"
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.hello]
            cron = "* * * * * *"
            command = "echo hi; echo oops >&2"
            shell = true
            "#,
        )
        .args(["start", "--log-format", "json"]);
    let mut jobrun = test.spawn();
    jobrun.expect_log(5.0, &["\"event\":\"finished\""]);
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let events: Vec<serde_json::Value> = jobrun
        .log()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of = |name: &str| {
        events
            .iter()
            .filter(|e| e["event"] == name)
            .cloned()
            .collect::<Vec<_>>()
    };
    let started = &of("started")[0];
    assert_eq!(started["job"], "hello");
    assert_eq!(started["run"], 1);
    assert!(started["pid"].as_i64().is_some_and(|p| p > 1), "{started}");
    let outputs = of("output");
    assert!(
        outputs
            .iter()
            .any(|o| o["stream"] == "stdout" && o["line"] == "hi" && o["run"] == 1),
        "{outputs:?}"
    );
    assert!(
        outputs
            .iter()
            .any(|o| o["stream"] == "stderr" && o["line"] == "oops"),
        "{outputs:?}"
    );
    let finished = &of("finished")[0];
    assert_eq!(finished["level"], "info");
    // The same fields, with the same values, as the run's row in `history --json`.
    let run = crate::store::history(&test, &[])
        .into_iter()
        .find(|r| r["id"] == finished["run"])
        .expect("the run in the history");
    for key in ["exit_code", "signal", "duration_ms"] {
        assert_eq!(finished[key], run[key], "{key}: {finished} vs {run}");
    }
    assert_eq!(finished["exit_code"], 0);
    assert!(
        finished["ts"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{finished}"
    );
    assert_eq!(of("scheduler_stopped").len(), 1);
}
