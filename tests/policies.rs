//! Scheduling policies end to end (issue 11): the cron-like defaults and limited pools,
//! overlap policies, `@reboot` once per boot, and chains of jobs (also across a `kill -9`).

use crate::harness::{Test, alive, wait_for};

/// Twenty jobs, every one due at the same seconds, each running longer than `misfire_grace`.
fn twenty_slow_jobs(extra: &str, cron: &str) -> String {
    let mut text = format!(
        r#"
        {extra}
        [defaults]
        misfire_grace = "1s"
        shell = true
        "#
    );
    for i in 0..20 {
        text.push_str(&format!(
            r#"
            [jobs.j{i:02}]
            cron = "{cron}"
            command = "echo $JOBRUN_JOB >> started; sleep 2"
            "#
        ));
    }
    text
}

#[test]
fn with_no_executors_twenty_jobs_due_at_once_all_run_however_long_they_take() {
    let test = Test::new()
        .jobfile(&twenty_slow_jobs("", "*/2 * * * * *"))
        .args(["start", "--stop-grace", "0s"]);
    let mut jobrun = test.spawn();
    let all_started = wait_for(8.0, || test.lines("started").len() >= 20);
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    let log = jobrun.log();
    assert!(
        all_started,
        "started: {:?}\nlog:\n{log}",
        test.lines("started")
    );
    let mut names = test.lines("started");
    names.truncate(20);
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        20,
        "each of the twenty jobs ran once: {names:?}"
    );
    assert!(!log.contains("missed"), "{log}");
}

#[test]
fn a_limited_pool_runs_its_jobs_in_turn_and_loses_none_to_misfire_grace() {
    // Two slots, twenty jobs of two seconds: the last pair starts about 18 s after the fire,
    // far beyond the 1 s misfire_grace. Only the first ten are waited for (about 9 s) to keep
    // the test short; what matters is that nothing is reported missed meanwhile (later fires
    // of the waiting jobs are skipped: max_instances counts waiting runs).
    let test = Test::new()
        .jobfile(&twenty_slow_jobs(
            "[executors.default]\nworkers = 2",
            "* * * * * *",
        ))
        .args(["start", "--stop-grace", "0s"]);
    let mut jobrun = test.spawn();
    let ten = wait_for(15.0, || test.lines("started").len() >= 10);
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    let log = jobrun.log();
    assert!(ten, "started: {:?}\nlog:\n{log}", test.lines("started"));
    assert!(!log.contains(" missed "), "{log}");
    let starts = log.lines().filter(|l| l.contains(" started job=")).count();
    assert!(starts >= 10, "{log}");
}

#[test]
fn queue_grace_turns_a_long_wait_into_a_miss() {
    // `zz` comes last in the file, so at the shared instant it is queued behind eighteen
    // two-second runs of a two-slot pool: it gives up after its one second of queue_grace.
    let mut text = twenty_slow_jobs("[executors.default]\nworkers = 2", "*/2 * * * * *");
    text.push_str(
        "[jobs.zz]\ncron = \"*/2 * * * * *\"\ncommand = \"true\"\nqueue_grace = \"1s\"\n",
    );
    let test = Test::new()
        .jobfile(&text)
        .args(["start", "--stop-grace", "0s"]);
    let mut jobrun = test.spawn();
    let missed = wait_for(10.0, || jobrun.log().contains("missed job=zz"));
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    assert!(missed, "log:\n{}", jobrun.log());
}

#[test]
fn overlap_queue_runs_a_fire_after_the_running_run_never_beside_it() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.q]
            cron = "* * * * * *"
            overlap = "queue"
            shell = true
            command = "echo start >> q.log; sleep 1.5; echo end >> q.log"
            "#,
        )
        .args(["start", "--stop-grace", "5s"]);
    let mut jobrun = test.spawn();
    let three = wait_for(10.0, || {
        test.lines("q.log").iter().filter(|l| *l == "start").count() >= 3
            && jobrun.log().contains("coalesced job=q")
    });
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    let log = jobrun.log();
    assert!(three, "q.log: {:?}\nlog:\n{log}", test.lines("q.log"));
    let lines = test.lines("q.log");
    assert!(
        lines.windows(2).all(|w| w != ["start", "start"]),
        "a run started beside another: {lines:?}"
    );
    assert!(!log.contains("skipped job=q"), "{log}");
}

#[test]
fn overlap_replace_ends_the_old_runs_whole_process_group_then_starts_the_new_fire() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.r]
            cron = "*/2 * * * * *"
            overlap = "replace"
            shell = true
            command = "sleep 30 & echo $! >> grandchildren; echo $JOBRUN_RUN_ID >> started; wait"
            "#,
        )
        .args(["start", "--stop-grace", "0s"]);
    let mut jobrun = test.spawn();
    let two = wait_for(10.0, || test.lines("started").len() >= 2);
    let started = test.lines("started");
    let grandchildren = test.lines("grandchildren");
    let first_grandchild: i32 = grandchildren
        .first()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let gone = wait_for(5.0, || !alive(first_grandchild));
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    let log = jobrun.log();
    assert!(two, "started: {started:?}\nlog:\n{log}");
    assert!(
        gone,
        "the first run's background sleep {first_grandchild} outlived the replacement"
    );
    let (old, new) = (&started[0], &started[1]);
    assert!(
        log.contains(&format!("replacing job=r run={old} ")),
        "{log}"
    );
    assert!(
        log.contains(&format!("replaced job=r run={old} by={new}")),
        "{log}"
    );
    let history = test
        .command_with(&["history", "r", "--json"])
        .output()
        .expect("history");
    let rows: serde_json::Value = serde_json::from_slice(&history.stdout).expect("json");
    let first = rows
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"].as_i64() == old.parse().ok()))
        .unwrap_or_else(|| panic!("run {old} in {rows}"));
    assert_eq!(first["state"], "signaled", "{first}");
    assert_eq!(first["signal"], "SIGTERM", "{first}");
    assert_eq!(first["replaced_by"].as_i64(), new.parse().ok(), "{first}");
    let human = test
        .command_with(&["history", "r"])
        .output()
        .expect("history");
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(
        human.contains(&format!("killed by SIGTERM, replaced by run {new}")),
        "{human}"
    );
}

#[test]
fn a_reboot_job_runs_once_per_boot_not_at_each_start_of_jobrun() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.hello]
            cron = "@reboot"
            shell = true
            command = "echo $JOBRUN_SCHEDULED_AT >> boot.log"
            [jobs.tick]
            cron = "* * * * * *"
            shell = true
            command = "echo tick >> tick.log"
            "#,
        )
        .args(["start", "--stop-grace", "5s"]);
    let start = |boot: &str| test.spawn_with_env(&[("JOBRUN_BOOT_ID", boot)]);
    let stop = |mut jobrun: crate::harness::Background| {
        jobrun.signal("TERM");
        assert_eq!(jobrun.wait_exit(10.0), Some(0), "{}", jobrun.log());
        jobrun.log()
    };

    let jobrun = start("boot-a");
    let ran = wait_for(5.0, || test.lines("boot.log").len() == 1);
    let log = stop(jobrun);
    assert!(ran, "{log}");
    assert!(log.contains("boot=new boot_fires=1"), "{log}");

    // jobrun restarted in the same boot: a second's tick shows it got going, hello stays put.
    let ticks = test.lines("tick.log").len();
    let jobrun = start("boot-a");
    let ticked = wait_for(5.0, || test.lines("tick.log").len() > ticks);
    let log = stop(jobrun);
    assert!(ticked, "{log}");
    assert!(log.contains("boot=seen boot_fires=0"), "{log}");
    assert_eq!(test.lines("boot.log").len(), 1, "{log}");

    let jobrun = start("boot-b");
    let again = wait_for(5.0, || test.lines("boot.log").len() == 2);
    let log = stop(jobrun);
    assert!(again, "{log}");
}

#[test]
fn a_chain_of_three_jobs_runs_in_turn_each_knowing_the_run_before_it() {
    let test = Test::new()
        .jobfile(
            r#"
            [defaults]
            shell = true
            [jobs.a]
            cron = "*/2 * * * * *"
            command = "echo a $JOBRUN_RUN_ID ${JOBRUN_AFTER_RUN_ID:-none} >> chain.log"
            [jobs.b]
            after = "a"
            command = "echo b $JOBRUN_RUN_ID $JOBRUN_AFTER_RUN_ID >> chain.log"
            [jobs.c]
            after = { job = "b", on = "success" }
            command = "echo c $JOBRUN_RUN_ID $JOBRUN_AFTER_RUN_ID >> chain.log"
            "#,
        )
        .args(["start", "--stop-grace", "5s"]);
    let mut jobrun = test.spawn();
    let done = wait_for(8.0, || {
        test.lines("chain.log").iter().any(|l| l.starts_with("c "))
    });
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    let lines = test.lines("chain.log");
    assert!(done, "{lines:?}\nlog:\n{}", jobrun.log());
    let words: Vec<Vec<&str>> = lines[..3].iter().map(|l| l.split(' ').collect()).collect();
    assert_eq!(
        (words[0][0], words[1][0], words[2][0]),
        ("a", "b", "c"),
        "{lines:?}"
    );
    assert_eq!(words[0][2], "none", "{lines:?}");
    assert_eq!(words[1][2], words[0][1], "b follows a's run: {lines:?}");
    assert_eq!(words[2][2], words[1][1], "c follows b's run: {lines:?}");
}

#[test]
fn a_cycle_of_after_triggers_is_refused_before_anything_starts() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.a]
            after = "b"
            command = ["true"]
            [jobs.b]
            after = "a"
            command = ["true"]
            "#,
        )
        .args(["start"]);
    test.expect(
        2,
        "",
        r#"
        jobrun: error: jobs.b.after: after triggers wait for each other in a circle: "b" waits for "a", which waits for "b"
          --> jobrun.toml:5:9
           |
         5 | after = "a"
           |         ^^^
           = help: one job of a chain must fire on its own (cron, every, at or @reboot)
        "#,
    );
    assert!(!test.path("home/.local/state/jobrun").exists());
}

#[test]
fn a_downstream_still_runs_after_jobrun_was_killed_between_its_upstreams_end_and_its_start() {
    // `down` waits for the one slot of `one`, which `hog` holds (it runs at boot), when `up`
    // ends: jobrun is killed with SIGKILL then. The next start (same boot: hog is not run
    // again; its leftover process is ended) finds up's end in the store and runs `down`.
    let at = (chrono::Utc::now() + chrono::TimeDelta::seconds(2))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let test = Test::new()
        .jobfile(&format!(
            r#"
            [executors.one]
            workers = 1
            [jobs.hog]
            cron = "@reboot"
            executor = "one"
            command = ["sleep", "60"]
            [jobs.up]
            at = "{at}"
            shell = true
            command = "echo $JOBRUN_RUN_ID >> up.log"
            [jobs.down]
            after = "up"
            executor = "one"
            shell = true
            command = "echo $JOBRUN_AFTER_RUN_ID >> down.log"
            "#
        ))
        .args(["start", "--stop-grace", "0s"]);
    let boot = [("JOBRUN_BOOT_ID", "one-boot")];
    let mut first = test.spawn_with_env(&boot);
    first.expect_log(8.0, &["finished job=up"]);
    first.signal("KILL");
    first.wait_exit(5.0);
    assert!(test.lines("down.log").is_empty(), "{}", first.log());
    let up = test.lines("up.log");

    let mut second = test.spawn_with_env(&boot);
    let ran = wait_for(8.0, || !test.lines("down.log").is_empty());
    second.signal("TERM");
    assert_eq!(second.wait_exit(10.0), Some(0));
    let log = second.log();
    assert!(ran, "{log}");
    assert_eq!(test.lines("down.log"), up, "down follows up's run: {log}");
    assert!(log.contains("replayed_ends=1"), "{log}");
    assert!(log.contains("interrupted job=hog"), "{log}");
}

const EVENT_JOBS: &str = r#"
    [jobs.backup]
    cron = "0 3 * * *"
    command = ["./backup.sh"]
    [jobs.report]
    after = "backup"
    command = ["./report.sh"]
    [jobs.alert]
    after = { job = "backup", on = "failure" }
    command = ["./alert.sh"]
    [jobs.hello]
    cron = "@reboot"
    command = ["./hello.sh"]
    [jobs.greet]
    after = "hello"
    command = ["./greet.sh"]
"#;

#[test]
fn next_shows_a_chained_job_after_its_upstream_at_the_upstreams_fires_and_boot_jobs_apart() {
    Test::new()
        .jobfile(EVENT_JOBS)
        .args(["next", "-n", "2", "--from", "2026-05-01T00:00:00Z"])
        .expect(
            0,
            "
            TIME                       JOB                              ZONE  IN
            2026-05-01 03:00:00+00:00  backup                           UTC   in 3h
            2026-05-01 03:00:00+00:00  report (after backup)            UTC   in 3h
            2026-05-01 03:00:00+00:00  alert (after backup on failure)  UTC   in 3h
            2026-05-02 03:00:00+00:00  backup                           UTC   in 1d 3h
            2026-05-02 03:00:00+00:00  report (after backup)            UTC   in 1d 3h
            2026-05-02 03:00:00+00:00  alert (after backup on failure)  UTC   in 1d 3h
            (at boot, not at a time: hello, greet; they run at the first jobrun start after the system starts)
            ",
            "",
        );
}

#[test]
fn list_shows_event_triggers_and_when_they_fire() {
    let (out, _) = Test::new()
        .jobfile(EVENT_JOBS)
        .args(["list", "--json"])
        .status(0);
    let rows: serde_json::Value = serde_json::from_str(&out).expect("json");
    let rows = rows.as_array().expect("array");
    let field = |i: usize, key: &str| rows[i][key].clone();
    let triggers: Vec<_> = (0..5).map(|i| field(i, "trigger")).collect();
    assert_eq!(
        triggers,
        [
            "cron \"0 3 * * *\"",
            "after backup",
            "after backup on failure",
            "at boot",
            "after hello"
        ]
    );
    assert_eq!(field(1, "next"), field(0, "next"), "report follows backup");
    assert!(field(3, "next").is_null() && field(4, "next").is_null());
    let (human, _) = Test::new()
        .jobfile(EVENT_JOBS)
        .args(["list"])
        .env("COLUMNS", "200")
        .status(0);
    let hello = human
        .lines()
        .find(|l| l.starts_with("hello "))
        .expect("hello");
    assert!(hello.contains("at boot  "), "{human}");
}

#[test]
fn explain_reads_reboot_and_a_chained_job_back() {
    Test::new()
        .args(["explain", "@reboot", "--from", "2026-05-01T00:00:00Z"])
        .expect(
            0,
            "
            at boot
              at boot: once per boot, at the first jobrun start after the system started

            next fires:
              at the next boot: the first jobrun start after the system starts

            clock changes in the coming year (to 2027-05-01):
              @reboot has no clock time: clock changes do not move it
            ",
            "",
        );
    Test::new()
        .jobfile(EVENT_JOBS)
        .args([
            "explain",
            "report",
            "--from",
            "2026-05-01T00:00:00Z",
            "-n",
            "2",
        ])
        .expect(
            0,
            "
            job report: after backup
              after each run of backup that succeeds

            next fires:
              2026-05-01 03:00:00+00:00  in 3h
              2026-05-02 03:00:00+00:00  in 1d 3h
              (when the jobs its chain starts from fire: it starts as their runs end)

            clock changes in the coming year (to 2027-05-01):
              after follows other jobs' runs: clock changes move it only as they move those
            ",
            "",
        );
}

#[test]
fn add_takes_reboot_as_a_cron_schedule() {
    let test = Test::new()
        .jobfile("[jobs.x]\ncron = \"0 3 * * *\"\ncommand = [\"x\"]\n")
        .args([
            "add", "--name", "hello", "--cron", "@reboot", "--", "echo", "hi",
        ]);
    test.expect(
        0,
        "added job \"hello\" to jobrun.toml (it fires at the next boot)\n",
        "",
    );
    assert!(
        test.read("jobrun.toml")
            .ends_with("[jobs.hello]\ncron = \"@reboot\"\ncommand = [\"echo\", \"hi\"]\n"),
        "{}",
        test.read("jobrun.toml")
    );
}

#[test]
fn a_chain_follows_the_upstreams_own_rules_for_success() {
    // `a` exits 3 after writing to stderr: a success by its rules (success_exit_codes, and no
    // fail_on_stderr), so `ok` runs and `alert` does not.
    let test = Test::new()
        .jobfile(
            r#"
            [defaults]
            shell = true
            [jobs.a]
            cron = "*/2 * * * * *"
            command = "echo noise >&2; exit 3"
            success_exit_codes = [0, 3]
            [jobs.ok]
            after = "a"
            command = "echo ok >> chain.log"
            [jobs.alert]
            after = { job = "a", on = "failure" }
            command = "echo alert >> chain.log"
            "#,
        )
        .args(["start", "--stop-grace", "5s"]);
    let mut jobrun = test.spawn();
    let ran = wait_for(8.0, || !test.lines("chain.log").is_empty());
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    assert!(ran, "{}", jobrun.log());
    assert!(
        test.lines("chain.log").iter().all(|l| l == "ok"),
        "{:?}",
        test.lines("chain.log")
    );
}
