//! Starts and ends of runs written in batches, one transaction each: the scheduler's group
//! commit (see "Starts and ends" in the module documentation). Each step is checked as the
//! one-at-a-time writes of `writes.rs` check theirs, and a batch is all or nothing.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

#[cfg(doc)]
use super::Store;
use super::codec::micros;
use super::error::Failure;
use super::writes::{START, end_columns, expect_one, finish, insert_claims};
use super::{Claim, FailedBy, Outcome, PlannedRetry, Sqlite, StoreError};

/// One step of a run's life, for [`Store::record_runs`]: what [`Store::started`] and
/// [`Store::finished_as`] write, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStep {
    /// The claimed run `id` started as process `pid` at `at`.
    Started {
        id: i64,
        pid: i32,
        at: DateTime<Utc>,
    },
    /// The running run `id` ended at `at` (see [`Store::finished_as`] for the rest).
    Finished {
        id: i64,
        at: DateTime<Utc>,
        outcome: Outcome,
        timed_out: bool,
        output_tail: String,
        failed_by: Option<FailedBy>,
        retry: Option<PlannedRetry>,
    },
}

impl Sqlite {
    /// Several steps of runs' lives, in order, in one transaction: the starts and ends the
    /// scheduler gathers in one turn of its loop and commits before it sleeps again (group
    /// commit: see "Starts and ends" in the module documentation of `store`). Each step is
    /// checked as [`Store::started`] and [`Store::finished_as`] check theirs, and one refused
    /// step refuses the batch: nothing of it is written.
    pub fn record_runs(&mut self, steps: &[RunStep]) -> Result<(), StoreError> {
        if steps.is_empty() {
            return Ok(());
        }
        self.write("record runs' starts and ends", steps.len(), |tx| {
            record_steps(tx, steps)
        })
    }

    /// [`Store::record_runs`], then [`Store::claim`], in one transaction: a turn of the loop
    /// that ends runs in a full pool and starts the queued runs their slots let through
    /// commits once. Refused as either would refuse; then nothing is written.
    pub fn record_runs_and_claim(
        &mut self,
        steps: &[RunStep],
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = steps.len() + claims.len();
        let held = self.write("record runs and claim others", rows, |tx| {
            record_steps(tx, steps)?;
            insert_claims(tx, claims, now)
        })?;
        Ok(held.into_iter().map(|h| h.id).collect())
    }
}

/// Applies each step in order, as [`Store::started`] and [`Store::finished_as`] would.
fn record_steps(tx: &Connection, steps: &[RunStep]) -> Result<(), Failure> {
    for step in steps {
        match step {
            RunStep::Started { id, pid, at } => {
                let changed = tx
                    .prepare_cached(START)?
                    .execute(params![id, pid, micros(*at)])?;
                expect_one(tx, changed, *id, "claimed")?;
            }
            RunStep::Finished {
                id,
                at,
                outcome,
                timed_out,
                output_tail,
                failed_by,
                retry,
            } => {
                let c = end_columns(outcome).map_err(Failure::Refused)?;
                let retry = retry.as_ref();
                finish(tx, *id, &c, *at, *timed_out, output_tail, *failed_by, retry)?;
            }
        }
    }
    Ok(())
}
