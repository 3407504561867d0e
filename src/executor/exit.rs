//! How a child ended, and collecting the children that have ended.
//!
//! The wait status is read raw (rustix's `waitpid`), not through nix: nix turns the signal
//! number into its `Signal` enum and fails with `EINVAL` for a number it cannot name (every
//! real-time signal, `SIGRTMIN+n`), after the kernel has already reaped the child. The run
//! was then lost: it kept its pool slot and `max_instances` count for good (issue 10).

use std::fmt;

use nix::unistd::Pid;
use rustix::io::Errno;
use rustix::process::{WaitOptions, wait};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// The signal with this number ended it (a number, since real-time signals have no name
    /// of their own: see [`signal_name`]).
    Signal(i32),
}

impl ExitStatus {
    pub fn success(&self) -> bool {
        *self == ExitStatus::Code(0)
    }

    /// The code a shell reports for it: the exit code, or 128 + n after signal n.
    pub fn as_shell_code(&self) -> i32 {
        match *self {
            ExitStatus::Code(code) => code,
            ExitStatus::Signal(signal) => 128 + signal,
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(code) => write!(f, "exit {code}"),
            ExitStatus::Signal(signal) => write!(f, "killed by {}", signal_name(*signal)),
        }
    }
}

/// A signal's name as `kill -l` and a shell's messages write it: `SIGTERM`, `SIGRTMIN`,
/// `SIGRTMIN+2` (counted from the C library's `SIGRTMIN`, which glibc puts at 34, two above
/// the kernel's, because it keeps two for itself), or `signal 99` for a number that is none.
pub fn signal_name(signal: i32) -> String {
    if let Ok(named) = nix::sys::signal::Signal::try_from(signal) {
        return named.as_str().to_owned();
    }
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    match signal {
        n if n == min => "SIGRTMIN".to_owned(),
        n if n > min && n <= max => format!("SIGRTMIN+{}", n - min),
        n => format!("signal {n}"),
    }
}

/// Collects every child that has ended, without blocking: `waitpid(-1, WNOHANG)` until none
/// is left (`ECHILD`) or the rest still run. Besides runs, that includes orphans the kernel
/// hands to jobrun when it is PID 1 (or a subreaper); the caller ignores pids it does not know.
///
/// Stops and continues are not ends and are not reported.
pub fn reap_any() -> Vec<(Pid, ExitStatus)> {
    let mut reaped = Vec::new();
    loop {
        // `wait`, not `waitpid(None, ..)`: rustix passes None as 0, which waits only for
        // children in jobrun's own process group, and every run has a group of its own.
        match wait(WaitOptions::NOHANG) {
            Ok(Some((pid, status))) => {
                let pid = Pid::from_raw(pid.as_raw_nonzero().get());
                if let Some(code) = status.exit_status() {
                    reaped.push((pid, ExitStatus::Code(code)));
                } else if let Some(signal) = status.terminating_signal() {
                    reaped.push((pid, ExitStatus::Signal(signal)));
                }
                // Otherwise a stop or continue (ptrace only, without WUNTRACED): go on.
            }
            Ok(None) | Err(Errno::CHILD) => break,
            Err(Errno::INTR) => {}
            Err(_) => break,
        }
    }
    reaped
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use nix::sys::signal::Signal;

    use super::*;
    use crate::executor::all_children;

    /// Starts `sh -c SCRIPT` in its own process group, as runs are; its pid.
    #[allow(
        clippy::zombie_processes,
        reason = "reap_any, the code under test, collects it"
    )]
    fn start(script: &str) -> Pid {
        use std::os::unix::process::CommandExt;
        let child = std::process::Command::new("/bin/sh")
            .args(["-c", script])
            .process_group(0)
            .spawn()
            .expect("spawn sh");
        Pid::from_raw(i32::try_from(child.id()).unwrap())
    }

    /// Reaps until every pid in `pids` is collected, for at most ten seconds.
    fn reap_all(pids: &[Pid]) -> HashMap<Pid, ExitStatus> {
        let mut statuses = HashMap::new();
        let start = Instant::now();
        while !pids.iter().all(|p| statuses.contains_key(p)) {
            assert!(start.elapsed() < Duration::from_secs(10), "{statuses:?}");
            statuses.extend(reap_any());
            std::thread::sleep(Duration::from_millis(1));
        }
        statuses
    }

    #[test]
    fn reap_any_reports_exit_codes_and_signals() {
        let _all = all_children();
        let exit3 = start("exit 3");
        let killed = start("kill -KILL $$");
        let ok = start("true");
        let statuses = reap_all(&[exit3, killed, ok]);
        assert_eq!(statuses[&exit3], ExitStatus::Code(3));
        assert_eq!(
            statuses[&killed],
            ExitStatus::Signal(Signal::SIGKILL as i32)
        );
        assert_eq!(statuses[&ok], ExitStatus::Code(0));
        // Nothing left: it returns at once, empty.
        assert_eq!(reap_any(), []);
    }

    /// Issue 10: nix could not name these, and the child was reaped and lost.
    #[test]
    fn a_child_killed_by_a_real_time_signal_is_reaped_and_reported_by_number() {
        let _all = all_children();
        let rtmin = start("kill -s RTMIN $$");
        let rtmin2 = start("kill -s RTMIN+2 $$");
        let statuses = reap_all(&[rtmin, rtmin2]);
        let base = libc::SIGRTMIN();
        assert_eq!(statuses[&rtmin], ExitStatus::Signal(base));
        assert_eq!(statuses[&rtmin2], ExitStatus::Signal(base + 2));
        assert_eq!(statuses[&rtmin].to_string(), "killed by SIGRTMIN");
        assert_eq!(statuses[&rtmin2].to_string(), "killed by SIGRTMIN+2");
        assert_eq!(statuses[&rtmin2].as_shell_code(), 128 + base + 2);
    }

    #[test]
    fn exit_statuses_read_like_a_shell_reports_them() {
        let cases = [
            (ExitStatus::Code(0), "exit 0", true, 0),
            (ExitStatus::Code(3), "exit 3", false, 3),
            (ExitStatus::Signal(9), "killed by SIGKILL", false, 137),
            (ExitStatus::Signal(15), "killed by SIGTERM", false, 143),
            (ExitStatus::Signal(99), "killed by signal 99", false, 227),
        ];
        for (status, text, success, code) in cases {
            assert_eq!(status.to_string(), text);
            assert_eq!(status.success(), success, "{text}");
            assert_eq!(status.as_shell_code(), code, "{text}");
        }
    }

    #[test]
    fn real_time_signals_are_named_from_sigrtmin() {
        let base = libc::SIGRTMIN();
        assert_eq!(signal_name(base), "SIGRTMIN");
        assert_eq!(signal_name(base + 2), "SIGRTMIN+2");
        assert_eq!(
            signal_name(libc::SIGRTMAX() + 1),
            format!("signal {}", libc::SIGRTMAX() + 1)
        );
        assert_eq!(signal_name(0), "signal 0");
    }
}
