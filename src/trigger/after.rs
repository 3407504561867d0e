//! `after`: a job that fires when other jobs' runs end, not at times of its own.
//!
//! The trigger only names the upstream jobs and which ends count; the planner keeps, per
//! downstream job, which upstreams have ended that way since its last fire (`plan/chain.rs`).

use std::fmt;

/// Which ends of an upstream's run fire the downstream job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum On {
    /// The run succeeded (the default, as with `&&` in a shell).
    #[default]
    Success,
    /// The run failed: non-zero exit, signal, timeout, or it could not start.
    Failure,
    /// Any end.
    Always,
}

impl On {
    /// The jobfile's words for it, in order.
    pub const NAMES: [&'static str; 3] = ["success", "failure", "always"];

    pub fn parse(text: &str) -> Option<On> {
        match text {
            "success" => Some(On::Success),
            "failure" => Some(On::Failure),
            "always" => Some(On::Always),
            _ => None,
        }
    }

    /// Whether a run that ended this way (`succeeded`) counts.
    pub fn matches(self, succeeded: bool) -> bool {
        match self {
            On::Success => succeeded,
            On::Failure => !succeeded,
            On::Always => true,
        }
    }
}

impl fmt::Display for On {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            On::Success => "success",
            On::Failure => "failure",
            On::Always => "always",
        })
    }
}

/// One job a chained job waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The upstream job's name.
    pub job: String,
    pub on: On,
}

impl Upstream {
    /// `backup`, or `backup on failure` for anything but the default.
    pub fn describe(&self) -> String {
        match self.on {
            On::Success => self.job.clone(),
            on => format!("{} on {on}", self.job),
        }
    }
}

/// `after backup`, `after backup, db on failure`: for listings and the state store's schedule
/// fingerprint.
pub fn describe(upstreams: &[Upstream]) -> String {
    let names: Vec<String> = upstreams.iter().map(Upstream::describe).collect();
    format!("after {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_end_counts_for_its_words() {
        let table = [
            (On::Success, [true, false]),
            (On::Failure, [false, true]),
            (On::Always, [true, true]),
        ];
        for (on, [on_success, on_failure]) in table {
            assert_eq!(on.matches(true), on_success, "{on}");
            assert_eq!(on.matches(false), on_failure, "{on}");
            assert_eq!(On::parse(&on.to_string()), Some(on));
        }
        assert_eq!(On::parse("Success"), None);
    }

    #[test]
    fn upstreams_describe_as_the_jobfile_reads() {
        let up = |job: &str, on| Upstream {
            job: job.to_owned(),
            on,
        };
        assert_eq!(describe(&[up("backup", On::Success)]), "after backup");
        assert_eq!(
            describe(&[up("a", On::Success), up("b", On::Failure)]),
            "after a, b on failure"
        );
    }
}
