//! What counts as a run's failure, per job (issue 10): besides a signal and a timeout, an exit
//! code outside `success_exit_codes` (default `[0]`) and, with `fail_on_stderr`, any output on
//! stderr (yacron's `producesStderr`); and the hooks that follow a run's end. Pure: the
//! scheduler hands in how the run ended.

use crate::duration::Duration;
use crate::executor::{ExitStatus, signal_name};
use crate::job::Command;
use crate::store::FailedBy;

/// How long a hook may run before its process group gets SIGTERM (SIGKILL `kill_after`
/// later), unless the job sets `hook_timeout`: a hook that hangs must not stay for good.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// The wait before the first retry of a failed fire, unless the job sets `retry_delay`.
pub const RETRY_DELAY: Duration = Duration::from_secs(30);

/// The longest wait between attempts, unless the job sets `retry_delay_max`.
pub const RETRY_DELAY_MAX: Duration = Duration::from_secs(600);

/// A job's rules for judging its runs, and what follows their end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcomes {
    /// Exit codes that count as success (`[0, 3]` for a tool whose "nothing to do" is 3).
    pub success_exit_codes: Vec<i32>,
    /// A run that wrote anything to stderr has failed, whatever its exit code.
    pub fail_on_stderr: bool,
    /// Run after a run that failed, and after one that succeeded.
    pub on_failure: Option<Command>,
    pub on_success: Option<Command>,
    pub hook_timeout: Duration,
    /// Further attempts of a failed fire, each `retry_delay` after the last failed, doubling,
    /// at most `retry_delay_max` (see `plan/retry.rs`).
    pub retries: u32,
    pub retry_delay: Duration,
    pub retry_delay_max: Duration,
    /// A healthchecks.io-style URL to ping at each run's start and end (`crate::ping`).
    pub ping_url: Option<String>,
}

impl Default for Outcomes {
    fn default() -> Outcomes {
        Outcomes {
            success_exit_codes: vec![0],
            fail_on_stderr: false,
            on_failure: None,
            on_success: None,
            hook_timeout: HOOK_TIMEOUT,
            retries: 0,
            retry_delay: RETRY_DELAY,
            retry_delay_max: RETRY_DELAY_MAX,
            ping_url: None,
        }
    }
}

impl Outcomes {
    /// How many attempts a fire may take: the first and its retries.
    pub fn attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }

    pub fn has_hooks(&self) -> bool {
        self.on_failure.is_some() || self.on_success.is_some()
    }

    /// The hook for a run that ended this way, with its key's name.
    pub fn hook(&self, failed: bool) -> Option<(&'static str, &Command)> {
        if failed {
            self.on_failure.as_ref().map(|c| ("on_failure", c))
        } else {
            self.on_success.as_ref().map(|c| ("on_success", c))
        }
    }

    /// Why a run that ended this way failed, or `None` when it succeeded. A timeout is a
    /// failure however the run then exited; a signal always is; then the exit code; then
    /// stderr.
    pub fn judge(
        &self,
        status: ExitStatus,
        timed_out: bool,
        wrote_stderr: bool,
    ) -> Option<FailedBy> {
        if timed_out {
            return Some(FailedBy::Timeout);
        }
        match status {
            ExitStatus::Signal(_) => Some(FailedBy::Status),
            ExitStatus::Code(code) if !self.success_exit_codes.contains(&code) => {
                Some(FailedBy::Status)
            }
            ExitStatus::Code(_) if self.fail_on_stderr && wrote_stderr => Some(FailedBy::Stderr),
            ExitStatus::Code(_) => None,
        }
    }
}

/// How `history` words a run that ended: `ok`, `exit 3`, `killed by SIGTERM (timed out)`,
/// `ok (exit 3)` for a success with another code, `failed: wrote to stderr (exit 0)`. Also a
/// hook's `JOBRUN_STATUS`.
pub fn words(status: ExitStatus, timed_out: bool, failed_by: Option<FailedBy>) -> String {
    let timed_out = if timed_out { " (timed out)" } else { "" };
    match status {
        ExitStatus::Code(code) if failed_by == Some(FailedBy::Stderr) => {
            format!("failed: wrote to stderr (exit {code})")
        }
        ExitStatus::Code(0) => format!("ok{timed_out}"),
        ExitStatus::Code(code) if failed_by.is_none() => format!("ok (exit {code})"),
        ExitStatus::Code(code) => format!("exit {code}{timed_out}"),
        ExitStatus::Signal(signal) => format!("killed by {}{timed_out}", signal_name(signal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_judged_by_timeout_signal_exit_code_then_stderr() {
        let plain = Outcomes::default();
        let lenient = Outcomes {
            success_exit_codes: vec![0, 3],
            fail_on_stderr: true,
            ..Outcomes::default()
        };
        let code = ExitStatus::Code;
        let cases = [
            (&plain, code(0), false, false, None),
            (&plain, code(0), false, true, None),
            (&plain, code(3), false, false, Some(FailedBy::Status)),
            (
                &plain,
                ExitStatus::Signal(9),
                false,
                false,
                Some(FailedBy::Status),
            ),
            (&plain, code(0), true, false, Some(FailedBy::Timeout)),
            (&lenient, code(3), false, false, None),
            (&lenient, code(4), false, true, Some(FailedBy::Status)),
            (&lenient, code(0), false, true, Some(FailedBy::Stderr)),
            (&lenient, code(3), false, true, Some(FailedBy::Stderr)),
            (&lenient, code(3), true, false, Some(FailedBy::Timeout)),
        ];
        for (rules, status, timed_out, stderr, expected) in cases {
            assert_eq!(
                rules.judge(status, timed_out, stderr),
                expected,
                "{status} timed_out={timed_out} stderr={stderr} {rules:?}"
            );
        }
    }
}
