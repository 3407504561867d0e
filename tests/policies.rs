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
