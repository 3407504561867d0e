//! Group commit of runs' starts and ends: the loop notes them here as it carries them out, and
//! writes them to the store in one transaction before it sleeps again, or before any other
//! write to the store, whichever comes first; the claims of runs that start in the same turn
//! take the ends noted so far into their own transaction (`dispatch.rs`). A pool of ten
//! working through a thousand queued runs made three commits per run (claim, start, end); it
//! now makes two per turn of the loop (ends with the claims they make room for, then the
//! starts), however many runs the turn handles (issue 11).
//!
//! The store sees every write in the order the loop made it; only a run's start or end may
//! reach it a few milliseconds after its process started or was reaped. What a crash in that
//! window does is the store's rule ("Starts and ends" in `store`): the run is found claimed or
//! running at the next start and recorded as interrupted, and its fire never runs again,
//! because its claim was committed before its process started.

use chrono::{DateTime, Utc};

use super::Loop;

/// At most this many starts and ends wait for the spawns in flight (see
/// [`Loop::journal_can_wait`]).
const MAX_WAITING: usize = 256;
use crate::store::{RunStep, Store};

impl Loop<'_> {
    /// Notes a run's start or end for the store, written at the end of this turn.
    pub(super) fn journal(&mut self, step: RunStep) {
        if self.store.is_some() {
            self.journal.push(step);
        }
    }

    /// Whether the turn's starts and ends may wait for the next turn: while runs are being
    /// spawned, their results come back one at a time, each waking the loop, and a commit per
    /// result made a batch of a hundred runs a hundred transactions. They wait at most until
    /// the spawns are done, [`MAX_WAITING`] steps are noted, or anything else is written.
    pub(super) fn journal_can_wait(&self) -> bool {
        self.spawning.busy() && self.journal.len() < MAX_WAITING
    }

    /// Writes the starts and ends noted so far, in one transaction. Should the batch be refused
    /// (a step that does not fit the run's state), each step is written alone, so that the one
    /// at fault is reported and the others are kept, as when each was written at once.
    pub(super) fn commit_journal(&mut self, now: DateTime<Utc>) {
        if self.journal.is_empty() {
            return;
        }
        let steps = std::mem::take(&mut self.journal);
        let Some(store) = self.store.as_mut() else {
            return;
        };
        if store.record_runs(&steps).is_ok() {
            return;
        }
        for step in &steps {
            let Some(store) = self.store.as_mut() else {
                return;
            };
            if let Err(e) = write_one(store, step) {
                self.store_error(now, &e);
            }
        }
    }

    /// The store, for a write other than a start or an end: what the journal holds is written
    /// first, so that the store sees the loop's writes in the order it made them.
    pub(super) fn store_to_write(&mut self, now: DateTime<Utc>) -> Option<&mut Store> {
        self.commit_journal(now);
        self.store.as_mut()
    }
}

fn write_one(store: &mut Store, step: &RunStep) -> Result<(), crate::store::StoreError> {
    match step {
        RunStep::Started { id, pid, at } => store.started(*id, *pid, *at),
        RunStep::Finished {
            id,
            at,
            outcome,
            timed_out,
            output_tail,
            failed_by,
            retry,
        } => store.finished_as(
            *id,
            *at,
            outcome,
            *timed_out,
            output_tail,
            *failed_by,
            retry.as_ref(),
        ),
    }
}
