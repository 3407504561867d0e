//! Issue 12, finding 6: what a job prints, or its command holds, cannot forge or restyle
//! jobrun's own lines: control characters are escaped in the log, `history` and `list` for
//! people; JSON carries them as JSON escapes.

use crate::harness::Test;

/// A job whose output returns to the start of the line and prints a fake `finished` of
/// another job, then clears the screen and retitles the terminal.
const FORGER: &str = r#"
    [jobs.forger]
    cron = "* * * * * *"
    command = ["printf", "x\r2026-01-01T00:00:00.000Z finished job=backup status=\"exit 0\"\n\u001b[2J\u001b]0;owned\u0007\n"]
    "#;

#[test]
fn a_jobs_control_characters_are_escaped_in_the_log_and_history() {
    let test = Test::new().jobfile(FORGER).args(["start"]);
    let mut jobrun = test.spawn();
    jobrun.expect_log(5.0, &["finished job=forger"]);
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let log = jobrun.log();
    assert!(
        !log.contains('\r') && !log.contains('\u{1b}') && !log.contains('\u{7}'),
        "{log:?}"
    );
    assert!(
        log.contains(
            "forger[1] | x\\r2026-01-01T00:00:00.000Z finished job=backup status=\"exit 0\"\n"
        ),
        "{log}"
    );
    assert!(
        log.contains("forger[1] | \\x1b[2J\\x1b]0;owned\\x07\n"),
        "{log}"
    );

    let history = test.command_with(&["history"]).output().expect("history");
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{text:?}");
    assert!(
        text.contains("    | \\x1b[2J\\x1b]0;owned\\x07\n"),
        "{text}"
    );
    let json = test
        .command_with(&["history", "--json"])
        .output()
        .expect("history");
    let runs: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert!(
        runs[0]["output"]
            .as_str()
            .is_some_and(|o| o.contains("\u{1b}[2J")),
        "{runs}"
    );
}

#[test]
fn list_escapes_newlines_and_escapes_in_arguments() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.odd]
            cron = "@daily"
            command = ["echo", "two\nlines", "\u001b[31mred"]
            "#,
        )
        .args(["list"]);
    let (out, _) = test.status(0);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    // The jobfile and scheduler lines, the header, and one line for the job: none added.
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(out.contains("echo 'two\\nlines' '\\x1b[31mred'"), "{out}");
}
