//! Scheduling policies end to end (issue 11): the cron-like defaults and limited pools.

use crate::harness::{Test, wait_for};

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
