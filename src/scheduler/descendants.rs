//! What jobs leave behind when jobrun stops. jobrun is the subreaper of its jobs
//! (`PR_SET_CHILD_SUBREAPER`), so a process a job started stays jobrun's descendant even when
//! its parent exits or it daemonizes (`setsid` and a double fork): it is reparented to jobrun,
//! not to init, is reaped by the loop's `wait`, and at the end is one of jobrun's children.
//! Stopping ends them all: SIGTERM to each child (and to the group it leads), a bounded wait
//! that reaps them, then SIGKILL for what is left. Nothing outlives `jobrun start`.

use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::{Pid, getpgrp, getpid};

use super::signals::Signals;
use crate::executor::reap_any;

/// Makes jobrun the subreaper of everything it starts. Failing (a kernel before 3.4) only
/// means daemonized processes escape to init, as under cron: not a reason to refuse to run.
pub(super) fn adopt_orphans() -> bool {
    nix::sys::prctl::set_child_subreaper(true).is_ok()
}

/// jobrun's living children: jobs' leftovers reparented to it, and runs not yet reaped.
pub(super) fn children() -> Vec<Pid> {
    let me = getpid().as_raw();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| parent_of(pid) == Some(me))
        .map(Pid::from_raw)
        .collect()
}

/// The parent pid from `/proc/PID/stat` (its fourth field, after the command in parentheses,
/// which may itself hold spaces and parentheses).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let state = fields.next()?;
    // A zombie child is already dead: reaping it is all that is left.
    if state == "Z" {
        return None;
    }
    fields.next()?.parse().ok()
}

/// Signals a child and, when it leads a process group other than jobrun's own, that group.
fn signal_tree(pid: Pid, signal: Signal) {
    let _ = kill(pid, signal);
    if nix::unistd::getpgid(Some(pid)).is_ok_and(|g| g == pid && g != getpgrp()) {
        let _ = killpg(pid, signal);
    }
}

/// Ends every child jobrun still has: SIGTERM, up to `grace` for them to exit (reaped as they
/// do, woken by SIGCHLD through `signals`), then SIGKILL. Returns how many there were.
pub(super) fn end_all(signals: &Signals, grace: Duration) -> usize {
    reap_any();
    let first = children();
    if first.is_empty() {
        return 0;
    }
    for &pid in &first {
        signal_tree(pid, Signal::SIGTERM);
    }
    if !reap_until_gone(signals, Instant::now() + grace) {
        for pid in children() {
            signal_tree(pid, Signal::SIGKILL);
        }
        // SIGKILL cannot be caught: what is left exits at once; the bound is only a guard.
        reap_until_gone(signals, Instant::now() + Duration::from_secs(1));
    }
    first.len()
}

/// Reaps children as they exit, sleeping in `poll` on the signal pipe (SIGCHLD) between
/// checks, until none is left (true) or `deadline` passes (false).
fn reap_until_gone(signals: &Signals, deadline: Instant) -> bool {
    loop {
        reap_any();
        if children().is_empty() {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let millis = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(signals.fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(millis));
        let _ = signals.drain();
    }
}
