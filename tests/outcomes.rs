//! How runs end and what jobrun does about it (issue 10): real-time signals, failure rules,
//! hooks, retries, pings and metrics, with real processes and the real clock.

use crate::harness::{Test, wait_for};

/// `SIGRTMIN+n` as the C library numbers it, which is what `kill -s RTMIN+n` sends.
fn rtmin(n: i32) -> i32 {
    libc::SIGRTMIN() + n
}

/// Issue 10: the run was reaped but lost, and `jobrun run` never returned.
#[test]
fn run_reports_a_real_time_signal_by_name_and_exits_128_plus_its_number() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.rt]
            at = "2030-01-01T00:00:00Z"
            command = "echo before; kill -s RTMIN+2 $$"
            shell = true
            "#,
        )
        .args(["run", "rt"]);
    let mut jobrun = test.spawn();
    assert_eq!(jobrun.wait_exit(10.0), Some(128 + rtmin(2)));
    let log = jobrun.log();
    assert!(
        log.contains("finished job=rt run=1 status=\"killed by SIGRTMIN+2\""),
        "{log}"
    );
    let history = test.command_with(&["history"]).output().expect("history");
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(text.contains("killed by SIGRTMIN+2"), "{text}");
}

/// Issue 10: under `start` the lost run kept its `max_instances` count for good, so every
/// later fire was skipped, and SIGTERM left the loop re-arming a deadline in the past.
#[test]
fn start_frees_the_slot_of_a_run_a_real_time_signal_ended_and_stops_on_sigterm() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.rt]
            every = "1s"
            command = "kill -s RTMIN $$"
            shell = true
            "#,
        )
        .args(["start", "--stop-grace", "1s"]);
    let mut jobrun = test.spawn();
    let ended = |log: &str| {
        log.lines()
            .filter(|l| l.contains("finished job=rt") && l.contains("killed by SIGRTMIN\""))
            .count()
    };
    assert!(
        wait_for(6.0, || ended(&jobrun.log()) >= 2),
        "log:\n{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let log = jobrun.log();
    assert!(!log.contains("skipped"), "{log}");
    assert!(log.contains("scheduler_stopped"), "{log}");
}
