//! Fitting in a terminal: colour (`--color`, `NO_COLOR`), `--version`, widths, and log lines
//! for journald.

use std::os::unix::fs::MetadataExt;

use crate::harness::{Test, texts};

const JOBS: &str = r#"
    [jobs.backup]
    cron = "30 2 * * *"
    timezone = "America/New_York"
    command = ["true"]
"#;

const BOLD: &str = "\u{1b}[1m";

#[test]
fn colour_is_off_when_not_a_terminal_and_on_with_color_always_even_with_no_color() {
    let args = ["next", "-n", "1", "--from", "2026-03-07T12:00:00Z"];
    let (plain, _) = Test::new().jobfile(JOBS).args(args).status(0);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    let (painted, _) = Test::new()
        .jobfile(JOBS)
        .args(["--color", "always"])
        .args(args)
        .env("NO_COLOR", "1")
        .status(0);
    assert!(painted.starts_with(&format!("{BOLD}TIME")), "{painted:?}");
    let (never, _) = Test::new()
        .jobfile(JOBS)
        .args(args)
        .args(["--color", "never"])
        .status(0);
    assert_eq!(never, plain);
}

#[test]
fn errors_are_red_with_color_always() {
    let (_, err) = Test::new()
        .jobfile("[jobs.x]\ncron = \"0 0 32 * *\"\ncommand = [\"true\"]\n")
        .args(["--color", "always", "check"])
        .status(2);
    assert!(
        err.starts_with("\u{1b}[38;5;9m\u{1b}[1mjobrun: error:\u{1b}[0m jobs.x.cron:"),
        "{err:?}"
    );
}

#[test]
fn version_names_the_release() {
    Test::new().args(["--version"]).expect(
        0,
        &format!("jobrun {}\n", env!("CARGO_PKG_VERSION")),
        "",
    );
}

#[test]
fn under_journald_log_lines_have_priority_prefixes_and_no_timestamps() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.fail]
            cron = "* * * * * *"
            command = "echo out; exit 3"
            shell = true
            "#,
        )
        .args(["start"]);
    // systemd names the stream by device and inode; the log file is that stream here.
    let log = std::fs::File::create(test.path("jobrun.log")).expect("log file");
    let meta = log.metadata().expect("stat");
    let test = test.env("JOURNAL_STREAM", &format!("{}:{}", meta.dev(), meta.ino()));
    let mut jobrun = test.spawn();
    jobrun.expect_log(5.0, &["<3>finished job=fail"]);
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let lines: Vec<String> = jobrun.log().lines().map(str::to_owned).collect();
    assert!(lines[0].starts_with("<5>scheduler_started "), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>started job=fail run="))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>fail[") && l.ends_with("] | out"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<3>finished job=fail") && l.contains(" status=\"exit 3\" ")),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| l.starts_with('<')), "{lines:?}");
}

#[test]
fn a_journal_stream_that_is_not_stderr_changes_nothing() {
    let test = Test::new()
        .jobfile("[jobs.x]\ncron = \"* * * * * *\"\ncommand = [\"true\"]\n")
        .args(["start"])
        .env("JOURNAL_STREAM", "8:12345");
    let mut jobrun = test.spawn();
    jobrun.expect_log(5.0, &["finished job=x"]);
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let log = jobrun.log();
    assert!(log.starts_with("20"), "{log}");
    assert!(!log.contains("<6>"), "{log}");
}

#[test]
fn at_sixty_columns_next_and_history_fit() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.a_rather_long_job_name_for_backups]
            cron = "30 2 * * *"
            timezone = "America/Argentina/ComodRivadavia"
            command = ["sh", "-c", "echo a line of output that is much longer than sixty columns"]
            "#,
        )
        .env("COLUMNS", "60");
    let (next, _) = texts(
        &test
            .command_with(&["next", "-n", "2", "--from", "2026-03-07T12:00:00Z"])
            .output()
            .expect("next"),
    );
    assert_eq!(
        next,
        "TIME                       JOB                 IN\n\
         2026-03-08 02:30:00-03:00  a_rather_long_job…  in 17h 30m\n\
         2026-03-09 02:30:00-03:00  a_rather_long_job…  in 1d 17h\n"
    );
    let output = test
        .command_with(&["run", "a_rather_long_job_name_for_backups"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{:?}", texts(&output));
    let (history, _) = texts(&test.command_with(&["history"]).output().expect("history"));
    for line in history.lines() {
        assert!(line.chars().count() <= 60, "{line:?}\n{history}");
    }
    assert!(history.contains("    | a line of output that is much longer than sixty colum…"));
}
