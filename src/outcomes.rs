//! What counts as a run's failure, per job (issue 10): besides a signal and a timeout, an exit
//! code outside `success_exit_codes` (default `[0]`) and, with `fail_on_stderr`, any output on
//! stderr (yacron's `producesStderr`). Pure: the scheduler hands in how the run ended.

use crate::executor::ExitStatus;
use crate::store::FailedBy;

/// A job's rules for judging its runs, and what follows their end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcomes {
    /// Exit codes that count as success (`[0, 3]` for a tool whose "nothing to do" is 3).
    pub success_exit_codes: Vec<i32>,
    /// A run that wrote anything to stderr has failed, whatever its exit code.
    pub fail_on_stderr: bool,
}

impl Default for Outcomes {
    fn default() -> Outcomes {
        Outcomes {
            success_exit_codes: vec![0],
            fail_on_stderr: false,
        }
    }
}

impl Outcomes {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_judged_by_timeout_signal_exit_code_then_stderr() {
        let plain = Outcomes::default();
        let lenient = Outcomes {
            success_exit_codes: vec![0, 3],
            fail_on_stderr: true,
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
