//! Issue 12, finding 1: files that are not jobfiles, and jobfiles built to exhaust jobrun, are
//! refused quickly by every command and by a running scheduler's reload, which keeps firing.

use std::fs;
use std::os::unix::fs::symlink;

use crate::harness::{Test, output_within, texts, wait_for};

/// The nested `all` of the issue: the inner parts fire on even and odd seconds, the outer ones on
/// January 1st and 2nd; no instant satisfies either.
const NEVER_AGREES: &str = r#"[jobs.x]
all = [ { any = [ { all = [{ cron = "*/2 * * * * *" }, { cron = "1-59/2 * * * * *" }] }, { cron = "0 0 1 1 *" } ] }, { cron = "0 0 2 1 *" } ]
command = ["true"]
"#;

fn refused(test: &Test, args: &[&str], message: &str) {
    let output = output_within(test, args, 5.0);
    let (out, err) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}\n{out}\n{err}");
    assert_eq!(err, format!("jobrun: error: {message}\n"), "{args:?}");
}

#[test]
fn a_fifo_jobfile_is_refused_at_once_by_every_command() {
    let test = Test::new();
    nix::unistd::mkfifo(
        &test.path("jobrun.toml"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .expect("mkfifo");
    for args in [&["check"][..], &["next"], &["list"], &["start"]] {
        refused(
            &test,
            args,
            "jobfile jobrun.toml is a FIFO, not a regular file",
        );
    }
}

#[test]
fn dev_zero_as_a_jobfile_or_behind_a_symlink_is_refused() {
    let test = Test::new();
    symlink("/dev/zero", test.path("jobrun.toml")).expect("symlink");
    for args in [&["check"][..], &["next"], &["list"]] {
        refused(
            &test,
            args,
            "jobfile jobrun.toml is a character device, not a regular file",
        );
    }
    refused(
        &test,
        &["--jobfile", "/dev/zero", "check"],
        "jobfile /dev/zero is a character device, not a regular file",
    );
}

#[test]
fn a_jobfile_larger_than_4_mib_is_refused_without_reading_it() {
    let test = Test::new().file("jobrun.toml", &"#".repeat(4 * 1024 * 1024 + 1));
    refused(
        &test,
        &["check"],
        "jobfile jobrun.toml is 4194305 bytes, more than the 4 MiB a jobfile may have",
    );
}

#[test]
fn an_all_whose_parts_never_agree_fails_check_instead_of_searching_for_minutes() {
    let test = Test::new().file("jobrun.toml", NEVER_AGREES);
    for args in [&["check"][..], &["next", "-n", "1"]] {
        let output = output_within(&test, args, 10.0);
        let (_, err) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with(
                "jobrun: error: jobs.x.all[0].any[0].all: this trigger never fires: its parts \
                 never agree"
            ),
            "{err}"
        );
    }
}

#[test]
fn a_syntax_error_at_the_end_of_a_long_line_prints_a_clipped_line() {
    let line = format!("x = {{ {}bad = }}\n", "k = 1, ".repeat(80_000));
    let test = Test::new().file("jobrun.toml", &line);
    let output = output_within(&test, &["check"], 20.0);
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.len() < 1000, "{} bytes of stderr", err.len());
    assert!(err.contains("--> jobrun.toml:1:"), "{err}");
}

#[test]
fn a_key_nested_too_deep_is_reported_where_it_is() {
    let keys = vec!["k"; 100_000].join(".");
    let test = Test::new().file("jobrun.toml", &format!("a = 1\n{keys} = 1\n"));
    let output = output_within(&test, &["check"], 10.0);
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("jobrun: error: invalid TOML: recursion limit\n  --> jobrun.toml:2:159\n"),
        "{err}"
    );
}

#[test]
fn a_scheduler_keeps_firing_whatever_the_jobfile_is_replaced_with() {
    let good = "[jobs.tick]\ncron = \"* * * * * *\"\ncommand = [\"touch\", \"tick\"]\n";
    let test = Test::new().file("jobrun.toml", good).args(["start"]);
    let mut jobrun = test.spawn();
    // Replaces the jobfile by rename, as editors do, so the scheduler notices.
    let replace_with = |make: &dyn Fn(&std::path::Path)| {
        let next = test.path("next.toml");
        let _ = fs::remove_file(&next);
        make(&next);
        fs::rename(&next, test.path("jobrun.toml")).expect("rename");
    };
    let still_firing = |what: &str| {
        let _ = fs::remove_file(test.path("tick"));
        assert!(
            wait_for(4.0, || test.path("tick").exists()),
            "no fire after the jobfile became {what}; log:\n{}",
            jobrun.log()
        );
    };
    still_firing("nothing yet");

    replace_with(&|p| {
        nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("fifo");
    });
    jobrun.expect_log(3.0, &["reload_failed", "is a FIFO, not a regular file"]);
    still_firing("a FIFO");

    replace_with(&|p| symlink("/dev/zero", p).expect("symlink"));
    jobrun.expect_log(3.0, &["reload_failed", "is a character device"]);
    still_firing("a link to /dev/zero");

    replace_with(&|p| fs::write(p, NEVER_AGREES).expect("write"));
    jobrun.expect_log(3.0, &["reload_failed", "never fires"]);
    still_firing("a trigger that never fires");

    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
}
