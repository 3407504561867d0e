//! Exit codes and command-line mistakes: 2 for bad input, with a message naming the flag.

use crate::harness::Test;

#[test]
fn bad_flags_exit_with_2() {
    let (_, err) = Test::new().args(["next", "--frobnicate"]).status(2);
    assert!(err.contains("unexpected argument '--frobnicate'"), "{err}");
}

#[test]
fn adhoc_cron_errors_name_the_flag() {
    Test::new().args(["next", "--cron", "0 0 32 * *"]).expect(
        2,
        "",
        "jobrun: error: --cron: day-of-month value 32 is out of range (expected 1-31)\n",
    );
}

#[test]
fn an_unknown_zone_gets_a_suggestion() {
    Test::new().args(["next", "--cron", "@daily", "--tz", "Europe/Pari"]).expect(
        2,
        "",
        "jobrun: error: --tz: unknown time zone \"Europe/Pari\" (did you mean \"Europe/Paris\"?); expected an IANA name like \"Europe/Paris\"\n",
    );
}

#[test]
fn a_bad_from_says_what_was_expected() {
    Test::new().args(["next", "--cron", "@daily", "--from", "yesterday"]).expect(
        2,
        "",
        "jobrun: error: --from: invalid date-time \"yesterday\" (expected a local time like \"2026-12-24T18:00:00\" or RFC 3339 with an offset like \"2026-12-24T18:00:00+01:00\")\n",
    );
}

#[test]
fn help_and_version_exit_0() {
    let (out, _) = Test::new().args(["--help"]).status(0);
    assert!(out.contains("Preview when jobs fire"), "{out}");
    let (out, _) = Test::new().args(["--version"]).status(0);
    assert_eq!(out, format!("jobrun {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let test = Test::new().args([
        "next",
        "--cron",
        "* * * * * *",
        "-n",
        "200000",
        "--from",
        "2026-01-01T00:00:00Z",
        "--format",
        "plain",
    ]);
    let mut child = test
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("some output");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}
