//! One run as a single value, from its claim to its end.
//!
//! A [`Ticket`] is made when a run is claimed and prepared (at its instant, or ahead of it),
//! carries the prepared command to the spawn, then rides in the running `Run` (`runs.rs`)
//! until the run ends, where everything that follows (the store, the log, the planner) reads
//! the same facts. Nothing on the way looks the job up again by name: a reload between the
//! start and the end of a run does not change what the run was.

use chrono::{DateTime, Utc};

use crate::duration::Duration;
use crate::executor::{Prepared, SpawnError};
use crate::plan::RunId;

/// Where a run's output lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Output {
    /// The scheduler's log, prefixed with the job's name and run id.
    Log,
    /// Straight to jobrun's own stdout/stderr (`jobrun run`).
    PassThrough,
}

/// The job's time limits, copied when its run is prepared (a reload does not change them).
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) timeout: Option<Duration>,
    pub(super) kill_after: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: None,
            kill_after: crate::job::defaults::KILL_AFTER,
        }
    }
}

/// A run: who it is, what it runs, and within which limits.
#[derive(Debug)]
pub(super) struct Ticket {
    /// The planner's id of the run (0 while it is prepared ahead of its instant, before the
    /// planner has started it).
    pub(super) run: RunId,
    pub(super) job: String,
    /// The nominal fire time (for a manual run, when it was asked for).
    pub(super) scheduled: DateTime<Utc>,
    /// The run's row in the state store (its `JOBRUN_RUN_ID`), if it has one.
    pub(super) record: Option<i64>,
    pub(super) output: Output,
    pub(super) limits: Limits,
    /// The command, until the spawn takes it; `None` for a job the jobfile does not have.
    pub(super) command: Option<Result<Prepared, SpawnError>>,
}

impl Ticket {
    /// The id the log shows: the store's when there is one.
    pub(super) fn shown(&self) -> u64 {
        self.record
            .map_or(self.run, |id| u64::try_from(id).unwrap_or(self.run))
    }
}
