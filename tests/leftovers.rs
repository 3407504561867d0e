//! What jobs leave running (issue 12, item 8): jobrun is the subreaper of its jobs, so a
//! process that daemonizes stays its descendant, its late output is still read, and stopping
//! jobrun ends it.

use std::fs;

use crate::harness::{Test, alive, wait_for};

fn parent_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn a_job_that_daemonizes_stays_jobruns_descendant_and_is_ended_when_jobrun_stops() {
    // setsid in a subshell that exits at once: a double fork into a session of its own, the
    // way daemons detach, with nothing of the run's group or pipes left.
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.daemon]
            cron = "* * * * * *"
            command = "[ -e daemon.pid ] || (setsid sh -c 'echo $$ > daemon.pid.tmp && mv daemon.pid.tmp daemon.pid && exec sleep 60' </dev/null >/dev/null 2>&1 &)"
            shell = true
            "#,
        )
        .args(["start", "--stop-grace", "0s"]);
    let mut jobrun = test.spawn();
    assert!(
        wait_for(6.0, || test.path("daemon.pid").exists()),
        "log:\n{}",
        jobrun.log()
    );
    let pid: i32 = test.read("daemon.pid").trim().parse().expect("a pid");
    assert!(alive(pid));
    assert_eq!(
        parent_of(pid),
        Some(i32::try_from(jobrun.child.id()).expect("pid")),
        "reparented to jobrun, not to init"
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(15.0), Some(0), "log:\n{}", jobrun.log());
    assert!(
        !alive(pid),
        "the daemon outlived jobrun\nlog:\n{}",
        jobrun.log()
    );
    assert!(jobrun.log().contains("ended_leftovers"), "{}", jobrun.log());
}

#[test]
fn a_background_childs_late_output_is_logged_and_it_is_not_killed_by_sigpipe() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.late]
            cron = "* * * * * *"
            command = "[ -e started ] && exit 0; touch started; (sleep 0.5; echo late line; echo done > finished) & echo early line"
            shell = true
            "#,
        )
        .args(["start"]);
    let mut jobrun = test.spawn();
    let finished = wait_for(6.0, || test.path("finished").exists());
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    let log = jobrun.log();
    assert!(
        finished,
        "the background child died before it finished\nlog:\n{log}"
    );
    assert!(log.contains("early line"), "{log}");
    assert!(log.contains("late[1] | late line"), "{log}");
}
