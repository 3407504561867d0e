//! One run as a single value, from its claim to its end.
//!
//! A [`Ticket`] is made when a run is claimed and prepared (at its instant, or ahead of it),
//! carries the prepared command to the spawn, then rides in the running `Run` (`runs.rs`)
//! until the run ends, where everything that follows (the store, the log, the planner) reads
//! the same facts. Nothing on the way looks the job up again by name: a reload between the
//! start and the end of a run does not change what the run was.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::duration::Duration;
use crate::executor::{Prepared, SpawnError};
use crate::job::Job;
use crate::outcomes::Outcomes;
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

/// What a ticket runs: a job's run, or a hook that follows one.
#[derive(Debug)]
pub(super) enum Role {
    Job,
    Hook {
        /// `on_failure` or `on_success`.
        hook: &'static str,
        /// The id the log shows for the run it follows.
        of: u64,
        /// Its `JOBRUN_OUTPUT_FILE`, removed when it ends.
        output_file: Option<PathBuf>,
    },
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
    /// Which attempt of its fire this is (1 for the first), of how many its job allows.
    pub(super) attempt: u32,
    pub(super) attempts: u32,
    pub(super) limits: Limits,
    /// How its end is judged, and what follows it.
    pub(super) outcomes: Outcomes,
    /// The command, until the spawn takes it; `None` for a job the jobfile does not have.
    pub(super) command: Option<Result<Prepared, SpawnError>>,
    pub(super) role: Role,
    /// Its health-ping id (`rid`), given at its start when its job has a `ping_url`.
    pub(super) rid: Option<String>,
    /// The job as it was when the run was prepared, kept only when it has hooks (they run in
    /// its working directory and environment).
    pub(super) hooked: Option<Box<Job>>,
}

impl Ticket {
    /// Makes this run attempt `attempt` of its fire, and tells its command so
    /// (`JOBRUN_ATTEMPT`).
    pub(super) fn set_attempt(&mut self, attempt: u32) {
        self.attempt = attempt;
        if let Some(Ok(command)) = self.command.as_mut() {
            command.set_env("JOBRUN_ATTEMPT", &attempt.to_string());
        }
    }

    /// `2/3`, as the log and `history` show an attempt.
    pub(super) fn attempt_text(&self) -> String {
        format!("{}/{}", self.attempt, self.attempts)
    }

    /// The id the log shows: the store's when there is one.
    pub(super) fn shown(&self) -> u64 {
        if let Role::Hook { of, .. } = self.role {
            return of;
        }
        self.record
            .map_or(self.run, |id| u64::try_from(id).unwrap_or(self.run))
    }
}
