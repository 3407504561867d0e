//! [`Store`]: the one interface the scheduler and the commands use, over either back end: the
//! embedded SQLite file ([`Sqlite`], the default) or a PostgreSQL database shared by several
//! schedulers ([`Postgres`]). Each method means the same on both (the conformance tests in
//! `tests/conformance.rs` run once per back end); where sharing changes a rule, the method
//! says so.
//!
//! Why an enum rather than a trait object: two back ends, known here, and every call site
//! keeps its concrete `Store` (constructors included) instead of a `Box<dyn …>` and generics.

use std::collections::HashMap;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::postgres::{self, Notice, Postgres, Target};
use super::{
    Admission, Boot, Claim, Decision, FailedBy, Hold, JobState, Outcome, PlannedRetry, Retention,
    RunRecord, RunStep, Sqlite, StoreError, Verdict,
};

/// Where a store is.
#[derive(Debug, Clone)]
pub enum Location {
    /// The SQLite file (the default: one per jobfile in the state directory).
    File(PathBuf),
    /// A PostgreSQL database, and how long a scheduler's lease lasts without a heartbeat.
    Postgres {
        target: Box<Target>,
        lease: Duration,
    },
}

impl Location {
    /// How the store is named in messages and logs: the file, or the URL without password.
    pub fn display(&self) -> String {
        match self {
            Location::File(path) => path.display().to_string(),
            Location::Postgres { target, .. } => target.redacted().to_owned(),
        }
    }
}

/// A scheduler working on a store right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveScheduler {
    /// Its host (on SQLite, always this one).
    pub host: String,
    pub pid: u32,
    /// The hash of the jobfile it runs (empty on SQLite, where it is this jobfile's store).
    pub jobfile_hash: String,
}

/// An open state store.
#[derive(Debug)]
pub struct Store(Backend);

#[derive(Debug)]
enum Backend {
    Sqlite(Box<Sqlite>),
    Postgres(Box<Postgres>),
}

/// Calls the same method on whichever back end the store has.
macro_rules! each {
    ($store:expr, $b:ident => $call:expr) => {
        match $store {
            Backend::Sqlite($b) => $call,
            Backend::Postgres($b) => $call,
        }
    };
}

impl Store {
    /// The SQLite store at `path`, opened as [`Sqlite::open_exclusive`] does.
    pub fn open_exclusive(path: &Path, now: DateTime<Utc>) -> Result<Store, StoreError> {
        Sqlite::open_exclusive(path, now).map(|s| Store(Backend::Sqlite(Box::new(s))))
    }

    /// The SQLite store at `path`, read-only ([`Sqlite::open_read`]).
    pub fn open_read(path: &Path) -> Result<Option<Store>, StoreError> {
        Ok(Sqlite::open_read(path)?.map(|s| Store(Backend::Sqlite(Box::new(s)))))
    }

    /// The SQLite store at `path`, beside the scheduler holding it ([`Sqlite::open_shared`]).
    pub fn open_shared(path: &Path) -> Result<Store, StoreError> {
        Sqlite::open_shared(path).map(|s| Store(Backend::Sqlite(Box::new(s))))
    }

    /// For `jobrun start`: the SQLite file exclusively, or the PostgreSQL database as one of
    /// the schedulers sharing it.
    pub fn open_scheduler(location: &Location, now: DateTime<Utc>) -> Result<Store, StoreError> {
        match location {
            Location::File(path) => Store::open_exclusive(path, now),
            Location::Postgres { target, lease } => Postgres::open_scheduler(target, *lease, now)
                .map(|p| Store(Backend::Postgres(Box::new(p)))),
        }
    }

    /// For `jobrun run`: as a scheduler when none holds the SQLite file, else beside it; on
    /// PostgreSQL, always as one more writer among the schedulers.
    pub fn open_writer(location: &Location, now: DateTime<Utc>) -> Result<Store, StoreError> {
        match location {
            Location::File(path) => match Store::open_exclusive(path, now) {
                Err(StoreError::Locked { .. }) => Store::open_shared(path),
                other => other,
            },
            Location::Postgres { .. } => Store::open_scheduler(location, now),
        }
    }

    /// For read-only commands: `None` when there is no store yet.
    pub fn open_reader(location: &Location) -> Result<Option<Store>, StoreError> {
        match location {
            Location::File(path) => Store::open_read(path),
            Location::Postgres { target, .. } => {
                Ok(Postgres::open_read(target)?.map(|p| Store(Backend::Postgres(Box::new(p)))))
            }
        }
    }

    /// The store's file, or its URL without password (as a path, for messages).
    pub fn path(&self) -> &Path {
        each!(&self.0, b => b.path())
    }

    /// The schedulers working on this store now: on SQLite, the one holding the file, if
    /// any; on PostgreSQL, every one whose lease is current.
    pub fn schedulers(&self) -> Result<Vec<LiveScheduler>, StoreError> {
        match &self.0 {
            Backend::Sqlite(s) => Ok(super::scheduler_pid(s.path())
                .map(|pid| LiveScheduler {
                    host: String::new(),
                    pid,
                    jobfile_hash: String::new(),
                })
                .into_iter()
                .collect()),
            Backend::Postgres(p) => p.schedulers(),
        }
    }

    /// Records the hash of the jobfile this scheduler runs (PostgreSQL: for the schedulers
    /// sharing the store to compare; SQLite: nothing to compare with).
    pub fn set_jobfile_hash(&mut self, hash: &str) -> Result<(), StoreError> {
        match &self.0 {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(p) => p.set_jobfile_hash(hash),
        }
    }

    /// What was learnt about the other schedulers sharing the store since the last call
    /// (always nothing on SQLite).
    pub fn take_notices(&mut self) -> Vec<Notice> {
        match &self.0 {
            Backend::Sqlite(_) => Vec::new(),
            Backend::Postgres(p) => p.take_notices(),
        }
    }

    /// A descriptor that is readable when [`Store::take_notices`] has something.
    pub fn notice_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.0 {
            Backend::Sqlite(_) => None,
            Backend::Postgres(p) => p.notice_fd(),
        }
    }

    /// Whether several schedulers may share this store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Backend::Postgres(_))
    }

    /// Admits claimed fires under the limits that hold across the schedulers sharing the
    /// store (`postgres/admit.rs`), in the order given. On SQLite every fire is admitted: one
    /// scheduler's planner keeps the limits itself.
    pub fn admit(
        &mut self,
        asking: &[Admission<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Verdict>, StoreError> {
        match &self.0 {
            Backend::Sqlite(_) => Ok(vec![Verdict::Admitted; asking.len()]),
            Backend::Postgres(p) => p.admit(asking, now),
        }
    }

    /// Notes that run `id` is being ended for its job's fire at `fire` (`overlap =
    /// "replace"`), for whichever scheduler sharing the store runs that fire to record itself
    /// as the replacement; on SQLite the scheduler records it itself when the fire starts.
    pub fn mark_replacing(&mut self, id: i64, fire: DateTime<Utc>) -> Result<(), StoreError> {
        match &self.0 {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(p) => p.mark_replacing(id, fire),
        }
    }

    /// Whether this scheduler has fires waiting for a slot elsewhere: only then do freed slots
    /// wake it (`Notice::SlotsFreed`).
    pub fn set_waiting(&mut self, waiting: bool) {
        if let Backend::Postgres(p) = &self.0 {
            p.set_waiting(waiting);
        }
    }

    /// A PostgreSQL scheduler's store as if its process were killed (tests of the lease).
    #[cfg(test)]
    pub(super) fn die(self) {
        if let Backend::Postgres(p) = self.0 {
            p.die();
        }
    }

    /// The SQLite store underneath (for tests that reach behind the interface).
    #[cfg(test)]
    pub(super) fn sqlite(&self) -> &Sqlite {
        match &self.0 {
            Backend::Sqlite(s) => s,
            Backend::Postgres(_) => panic!("not an SQLite store"),
        }
    }

    /// See [`Sqlite::set_schedules`].
    pub fn set_schedules(&mut self, jobs: &[(&str, &str)]) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.set_schedules(jobs))
    }

    /// See [`Sqlite::forget_jobs`].
    pub fn forget_jobs(&mut self, names: &[&str]) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.forget_jobs(names))
    }

    /// One transaction: a Claimed row per claim, `last_fire` advanced; a fire already handled
    /// refuses the whole batch (see [`Sqlite::claim`]).
    pub fn claim(
        &mut self,
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        match &mut self.0 {
            Backend::Sqlite(s) => s.claim(claims, now),
            Backend::Postgres(p) => {
                let held = p.claim_rows("claim a run", claims, now, postgres::Lost::Refuse)?;
                Ok(held.into_iter().flatten().map(|h| h.id).collect())
            }
        }
    }

    /// [`Store::claim`] for schedulers that share the store: a fire another scheduler claimed
    /// (or decided) first is `None`, not an error, and the rest of the batch is claimed. On
    /// SQLite, where one scheduler holds the store, the same as `claim`.
    pub fn claim_won(
        &mut self,
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<i64>>, StoreError> {
        match &mut self.0 {
            Backend::Sqlite(s) => Ok(s.claim(claims, now)?.into_iter().map(Some).collect()),
            Backend::Postgres(p) => {
                let held = p.claim_rows("claim a run", claims, now, postgres::Lost::Skip)?;
                Ok(held.into_iter().map(|h| h.map(|h| h.id)).collect())
            }
        }
    }

    /// See [`Sqlite::hold`].
    pub fn hold(
        &mut self,
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Hold>, StoreError> {
        match &mut self.0 {
            Backend::Sqlite(s) => s.hold(claims, now),
            Backend::Postgres(p) => Ok(p
                .claim_rows("claim a run ahead", claims, now, postgres::Lost::Refuse)?
                .into_iter()
                .flatten()
                .collect()),
        }
    }

    /// [`Store::hold`] for schedulers that share the store: `None` for a fire another one
    /// has (as [`Store::claim_won`]).
    pub fn hold_won(
        &mut self,
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<Hold>>, StoreError> {
        match &mut self.0 {
            Backend::Sqlite(s) => Ok(s.hold(claims, now)?.into_iter().map(Some).collect()),
            Backend::Postgres(p) => {
                p.claim_rows("claim a run ahead", claims, now, postgres::Lost::Skip)
            }
        }
    }

    /// See [`Sqlite::release`].
    pub fn release(&mut self, holds: &[Hold]) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.release(holds))
    }

    /// Decisions (missed, coalesced, skipped), advancing `last_fire`. On SQLite a fire already
    /// handled refuses the batch; on PostgreSQL it is left to whoever handled it first (two
    /// schedulers may both decide about one fire, e.g. both skip it at `max_instances`).
    pub fn decide(
        &mut self,
        decisions: &[Decision<'_>],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match &mut self.0 {
            Backend::Sqlite(s) => s.decide(decisions, now),
            Backend::Postgres(p) => p.decide(decisions, now, postgres::Lost::Skip),
        }
    }

    /// See [`Sqlite::started`].
    pub fn started(&mut self, id: i64, pid: i32, at: DateTime<Utc>) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.started(id, pid, at))
    }

    /// See [`Sqlite::spawn_failed`].
    pub fn spawn_failed(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.spawn_failed(id, at, error))
    }

    /// The running run `id` ended. `outcome` must be `Exited` or `Signaled`; `output_tail` is
    /// cut to its last [`super::MAX_TAIL`] bytes. It is judged by the default rules (a
    /// timeout, a signal or a non-zero exit code is a failure); see [`Store::finished_as`].
    pub fn finished(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        outcome: &Outcome,
        timed_out: bool,
        output_tail: &str,
    ) -> Result<(), StoreError> {
        let failed_by = match outcome {
            _ if timed_out => Some(FailedBy::Timeout),
            Outcome::Exited { code: 0 } => None,
            _ => Some(FailedBy::Status),
        };
        self.finished_as(id, at, outcome, timed_out, output_tail, failed_by, None)
    }

    /// See [`Sqlite::finished_as`].
    #[allow(
        clippy::too_many_arguments,
        reason = "one run's end; each argument is a different fact of it"
    )]
    pub fn finished_as(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        outcome: &Outcome,
        timed_out: bool,
        output_tail: &str,
        failed_by: Option<FailedBy>,
        retry: Option<&PlannedRetry>,
    ) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.finished_as(id, at, outcome, timed_out, output_tail, failed_by, retry))
    }

    /// Several starts and ends of runs in one transaction (the scheduler's group commit; see
    /// [`Sqlite::record_runs`]); on PostgreSQL, kept for later when the database is
    /// unreachable, as [`Store::started`] and [`Store::finished_as`] are.
    pub fn record_runs(&mut self, steps: &[RunStep]) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.record_runs(steps))
    }

    /// [`Store::record_runs`], then [`Store::claim`], in one transaction on SQLite (see
    /// [`Sqlite::record_runs_and_claim`]); on PostgreSQL one after the other.
    pub fn record_runs_and_claim(
        &mut self,
        steps: &[RunStep],
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        match &mut self.0 {
            Backend::Sqlite(s) => s.record_runs_and_claim(steps, claims, now),
            Backend::Postgres(_) => {
                self.record_runs(steps)?;
                self.claim(claims, now)
            }
        }
    }

    /// See [`Sqlite::mark_interrupted`].
    pub fn mark_interrupted(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.mark_interrupted(id, at, note))
    }

    /// See [`Sqlite::job_states`].
    pub fn job_states(&self) -> Result<HashMap<String, JobState>, StoreError> {
        each!(&self.0, b => b.job_states())
    }

    /// Runs left claimed or running by a scheduler that is gone (see [`Sqlite::unfinished`]);
    /// on PostgreSQL, those of no live scheduler: a scheduler never sees another live one's.
    pub fn unfinished(&self) -> Result<Vec<RunRecord>, StoreError> {
        each!(&self.0, b => b.unfinished())
    }

    /// See [`Sqlite::history`].
    pub fn history(&self, job: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        each!(&self.0, b => b.history(job, limit))
    }

    /// See [`Sqlite::last_outcomes`].
    pub fn last_outcomes(&self) -> Result<HashMap<String, RunRecord>, StoreError> {
        each!(&self.0, b => b.last_outcomes())
    }

    /// See [`Sqlite::pending_retries`].
    pub fn pending_retries(&self) -> Result<Vec<PlannedRetry>, StoreError> {
        each!(&self.0, b => b.pending_retries())
    }

    /// See [`Sqlite::note_boot`]; on PostgreSQL, per host.
    pub fn note_boot(&mut self, boot_id: &str, now: DateTime<Utc>) -> Result<Boot, StoreError> {
        each!(&mut self.0, b => b.note_boot(boot_id, now))
    }

    /// See [`Sqlite::start_chains`].
    pub fn start_chains(&mut self, jobs: &[&str], now: DateTime<Utc>) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.start_chains(jobs, now))
    }

    /// See [`Sqlite::ended_after`].
    pub fn ended_after(
        &self,
        jobs: &[&str],
        after: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>, StoreError> {
        each!(&self.0, b => b.ended_after(jobs, after))
    }

    /// See [`Sqlite::mark_replaced`].
    pub fn mark_replaced(&mut self, id: i64, by: i64) -> Result<(), StoreError> {
        each!(&mut self.0, b => b.mark_replaced(id, by))
    }

    /// See [`Sqlite::prune`].
    pub fn prune(&mut self, retention: &Retention, now: DateTime<Utc>) -> Result<u64, StoreError> {
        each!(&mut self.0, b => b.prune(retention, now))
    }

    /// See [`Sqlite::check`]; on PostgreSQL, jobrun's own rules (the database checks its own
    /// pages).
    pub fn check(&self) -> Result<Vec<String>, StoreError> {
        each!(&self.0, b => b.check())
    }
}
