//! What a new user tripped over (issue 14, item 6), each reproduced as they met it.

use crate::harness::{Test, assert_file};

#[test]
fn add_refuses_shell_syntax_in_one_word_and_says_how_to_write_it() {
    let test = Test::new().args([
        "add",
        "--cron",
        "0 4 * * *",
        "--",
        "tar czf /tmp/x.tgz ~/docs > /dev/null 2>&1",
    ]);
    test.expect(
        2,
        "",
        r#"
        jobrun: error: CMD: the command is one word holding shell syntax ('&', '>', '~'), run as a program of that whole name, not by a shell; add --shell to run it with /bin/sh -c, or give the program and its arguments as separate words after --
        "#,
    );
    assert_file(&test.path("home/.config/jobrun/jobrun.toml"), None);
}

#[test]
fn with_shell_the_job_is_named_after_its_program_not_a_redirection() {
    let test = Test::new().file("jobrun.toml", "").args([
        "add",
        "--cron",
        "0 4 * * *",
        "--shell",
        "--",
        "tar czf /tmp/x.tgz ~/docs > /dev/null 2>&1",
    ]);
    let (out, _) = test.status(0);
    assert!(out.starts_with("added job \"tar\" to jobrun.toml"), "{out}");
}

#[test]
fn check_warns_about_commands_that_cannot_run_as_written() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.tar]
            cron = "0 4 * * *"
            command = ["tar czf /tmp/x.tgz ~/docs > /dev/null 2>&1"]

            [jobs.typo]
            cron = "0 4 * * *"
            command = ["rsnyc", "-a", "src", "dst"]

            [jobs.script]
            cron = "0 4 * * *"
            command = ["./missing.sh"]

            [jobs.fine]
            cron = "0 4 * * *"
            command = ["true"]
            "#,
        )
        .args(["check"]);
    let dir = test.dir.path().display().to_string();
    // Every job is in the local zone, UTC here.
    let utc = "UTC".parse::<jobrun::zone::Tz>().unwrap();
    let rules = jobrun::zone::rules_in_use([utc]);
    test.expect(
        0,
        &format!("jobrun.toml: ok (4 jobs, 0 paused, 1 executor)\ntime zone rules: {rules}\n"),
        &format!(
            r#"
            jobrun: warning: jobs.tar.command: the command is one word holding shell syntax ('&', '>', '~'), run as a program of that whole name, not by a shell; write it as a string with shell = true, or as separate words
            jobrun: warning: jobs.typo.command: "rsnyc" is not on the run's PATH
            jobrun: warning: jobs.script.command: "./missing.sh" does not exist (seen from {dir})
            "#
        ),
    );
}

#[test]
fn unknown_names_get_a_suggestion_even_when_short_and_history_refuses_them() {
    let run = Test::new()
        .jobfile("[jobs.cmd]\ncron = \"@daily\"\ncommand = [\"true\"]\n")
        .args(["run", "cdm"]);
    run.expect(
        2,
        "",
        "jobrun: error: no job named \"cdm\" in jobrun.toml (did you mean \"cmd\"?)\n",
    );
    let history = Test::new()
        .jobfile("[jobs.cmd]\ncron = \"@daily\"\ncommand = [\"true\"]\n")
        .args(["history", "cdm"]);
    history.expect(
        2,
        "",
        "jobrun: error: no job named \"cdm\" in jobrun.toml (did you mean \"cmd\"?)\n",
    );
}

#[test]
fn history_of_a_removed_job_is_still_shown() {
    let test = Test::new().jobfile("[jobs.gone]\ncron = \"@daily\"\ncommand = [\"true\"]\n");
    let output = test.command_with(&["run", "gone"]).output().expect("run");
    assert_eq!(output.status.code(), Some(0));
    std::fs::write(test.path("jobrun.toml"), "").expect("empty the jobfile");
    let output = test
        .command_with(&["history", "gone", "--format", "plain"])
        .output()
        .expect("history");
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("\tgone\t"));
}

#[test]
fn a_manual_runs_scheduled_time_is_whole_seconds_in_history_and_its_environment() {
    let test = Test::new().jobfile(
        r#"
        [jobs.stamp]
        cron = "@daily"
        command = "echo $JOBRUN_SCHEDULED_AT > at"
        shell = true
        "#,
    );
    let output = test.command_with(&["run", "stamp"]).output().expect("run");
    assert_eq!(output.status.code(), Some(0));
    let at = test.read("at");
    let at = at.trim();
    assert!(
        chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.len() == 25,
        "{at:?}"
    );
    let rows = crate::store::history(&test, &[]);
    assert_eq!(rows[0]["scheduled"], at);
}

#[test]
fn history_and_list_word_times_as_next_does() {
    let test = Test::new().jobfile("[jobs.j]\ncron = \"@daily\"\ncommand = [\"true\"]\n");
    let output = test.command_with(&["run", "j"]).output().expect("run");
    assert_eq!(output.status.code(), Some(0));
    let (history, _) =
        crate::harness::texts(&test.command_with(&["history"]).output().expect("history"));
    let row = history.lines().nth(1).expect("a row");
    // "1  j (manual)  2026-12-06 22:19:13+00:00  +0.001s  0.004s  ok"
    let scheduled = row
        .split("  ")
        .filter(|c| !c.is_empty())
        .nth(2)
        .expect("SCHEDULED")
        .trim();
    assert_eq!(scheduled.len(), 25, "{row}");
    assert_eq!(&scheduled[10..11], " ", "{row}");
    assert!(
        history.starts_with("RUN  JOB         SCHEDULED                  DELAY "),
        "{history}"
    );
}
