//! `jobrun pause` and `jobrun resume`: the flag lands in the jobfile (and nothing else changes),
//! the other commands see it, and a running scheduler honours it at once.

use std::process::Output;

use crate::harness::{Test, assert_file, check, wait_for};

const TWO: &str = "# my jobs\n[jobs.report]  # daily\ncron = \"0 12 * * *\"\ncommand = [\"./report.sh\"]\n\n[jobs.backup]\ncron = \"0 13 * * *\"\ncommand = [\"./backup.sh\"]\n";

/// Runs jobrun with `args` in the test's directory, on the jobfile as earlier commands left it.
fn jobrun(test: &Test, args: &[&str]) -> Output {
    test.command_with(args).output().expect("run jobrun")
}

fn next_plain(test: &Test) -> Output {
    jobrun(test, &["next", "-n", "1", "--from", "2026-01-01T00:00:00Z"])
}

#[test]
fn a_paused_job_shows_as_paused_until_it_is_resumed() {
    let test = Test::new().file("jobrun.toml", TWO);
    check(
        &jobrun(&test, &["pause", "report"]),
        0,
        "paused report\n",
        "",
    );
    let paused = TWO.replace("[\"./report.sh\"]\n", "[\"./report.sh\"]\npaused = true\n");
    assert_file(&test.path("jobrun.toml"), Some(&paused));
    check(
        &jobrun(&test, &["list", "--format", "plain"]),
        0,
        "report\nbackup\n",
        "",
    );
    let list = jobrun(&test, &["list", "--json"]);
    let jobs: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(jobs[0]["name"], "report");
    assert_eq!(jobs[0]["paused"], true);
    assert_eq!(jobs[1]["paused"], false);
    check(
        &next_plain(&test),
        0,
        "TIME                       JOB     ZONE  IN\n2026-01-01 13:00:00+00:00  backup  UTC   in 13h\n(1 paused job not shown: report; name a job to preview it anyway)\n",
        "",
    );

    check(
        &jobrun(&test, &["resume", "report"]),
        0,
        "resumed report\n",
        "",
    );
    assert_file(
        &test.path("jobrun.toml"),
        Some(&paused.replace("paused = true", "paused = false")),
    );
    let list = jobrun(&test, &["list", "--json"]);
    let jobs: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(jobs[0]["paused"], false);
    check(
        &next_plain(&test),
        0,
        "TIME                       JOB     ZONE  IN\n2026-01-01 12:00:00+00:00  report  UTC   in 12h\n2026-01-01 13:00:00+00:00  backup  UTC   in 13h\n",
        "",
    );
}

#[test]
fn pausing_a_paused_job_or_resuming_an_active_one_changes_no_byte() {
    let text = "[jobs.report]\r\ncron = \"0 12 * * *\"\r\ncommand = [\"./report.sh\"]\r\npaused = true # until March\r\n\r\n[jobs.backup]\r\ncron = \"0 13 * * *\"\r\ncommand = [\"./backup.sh\"]";
    let test = Test::new().file("jobrun.toml", text);
    check(
        &jobrun(&test, &["pause", "report"]),
        0,
        "report was already paused\n",
        "",
    );
    check(
        &jobrun(&test, &["resume", "backup"]),
        0,
        "backup was not paused\n",
        "",
    );
    assert_file(&test.path("jobrun.toml"), Some(text));
    check(
        &jobrun(&test, &["pause", "report", "backup"]),
        0,
        "report was already paused\npaused backup\n",
        "",
    );
    assert_file(
        &test.path("jobrun.toml"),
        Some(&format!("{text}\r\npaused = true")),
    );
}

#[test]
fn an_unknown_name_pauses_nothing() {
    let test = Test::new()
        .file("jobrun.toml", TWO)
        .args(["pause", "report", "bakup"]);
    test.expect(
        2,
        "",
        "jobrun: error: no job named \"bakup\" in jobrun.toml (did you mean \"backup\"?)\n",
    );
    assert_file(&test.path("jobrun.toml"), Some(TWO));
}

#[test]
fn a_name_is_required_and_help_shows_examples() {
    let (_, err) = Test::new().args(["pause"]).status(2);
    assert!(err.contains("<NAME>..."), "{err}");
    let (out, _) = Test::new().args(["resume", "--help"]).status(0);
    assert!(out.contains("\n  jobrun resume report poll\n"), "{out}");
}

#[test]
fn resume_of_a_missing_jobfile_is_an_error_and_it_stays_missing() {
    let test = Test::new().args(["--jobfile", "none.toml", "resume", "x"]);
    test.status(2);
    assert_file(&test.path("none.toml"), None);
}

#[test]
fn concurrent_pauses_of_different_jobs_all_land() {
    let jobs: String = (0..12)
        .map(|i| {
            format!(
                "[jobs.job{i:02}]\nevery = \"{}m\"\ncommand = [\"true\"]\n\n",
                i + 1
            )
        })
        .collect();
    let test = Test::new().file("jobrun.toml", &jobs);
    let runs: Vec<Vec<String>> = (0..12)
        .map(|i| vec!["pause".to_owned(), format!("job{i:02}")])
        .collect();
    test.all_succeed_at_once(&runs);
    let list = jobrun(&test, &["list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    let paused: Vec<&serde_json::Value> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|job| &job["paused"])
        .collect();
    assert_eq!(paused, vec![&serde_json::Value::Bool(true); 12]);
}

#[test]
fn a_running_scheduler_stops_firing_a_paused_job_and_fires_it_again_when_resumed() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.tick]
            cron = "* * * * * *"
            command = ["true"]
            "#,
        )
        .args(["start"]);
    let mut scheduler = test.spawn();
    scheduler.expect_log(5.0, &["started", "job=tick"]);
    // Runs started after the `n`th reload (each edit is one), counted in the log.
    let started_after_reload = |n: usize| -> Option<usize> {
        let log = scheduler.log();
        let lines: Vec<&str> = log.lines().collect();
        let reload = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains(" reloaded "))
            .nth(n)?
            .0;
        Some(
            lines[reload..]
                .iter()
                .filter(|l| l.contains(" started job=tick "))
                .count(),
        )
    };

    check(&jobrun(&test, &["pause", "tick"]), 0, "paused tick\n", "");
    scheduler.expect_log(3.0, &["reloaded", "reason=\"jobfile changed\""]);
    let fired = wait_for(1.5, || started_after_reload(0).is_some_and(|n| n > 0));
    assert!(
        !fired,
        "the paused job fired after the reload; log:\n{}",
        scheduler.log()
    );

    check(&jobrun(&test, &["resume", "tick"]), 0, "resumed tick\n", "");
    assert!(
        wait_for(4.0, || started_after_reload(1).is_some_and(|n| n > 0)),
        "the resumed job did not fire again; log:\n{}",
        scheduler.log()
    );
    scheduler.signal("TERM");
    assert_eq!(scheduler.wait_exit(5.0), Some(0));
}
