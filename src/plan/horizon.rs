//! The earliest fire of any job, kept between calls so that `advance` and `next_wake` do not
//! look at every job each time the loop wakes. A pool of ten working through a thousand runs
//! queued at one instant wakes the loop a thousand times, once per ended run; with ten
//! thousand jobs in the jobfile, a look at each job per wakeup was ten million looks at fires
//! that were hours away (issue 11).
//!
//! What it knows is worked out by `advance` while it walks the jobs anyway, and holds until a
//! job's pending fire or chain changes outside that walk: [`Planner::resume`],
//! [`Planner::boot`] and [`Planner::reload`] forget it (the next `advance` walks the jobs
//! again), and [`Planner::upstream_ended`] moves it earlier by the fire it adds.

use chrono::{DateTime, Utc};

use super::{Planner, Scheduled};

/// The earliest pending fires, as of the last walk over the jobs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Horizon {
    /// Of every job, paused ones included (a paused job's passed fire is moved on), and of
    /// every chain: before it, no job has anything due. `None`: no job has a fire.
    any: Option<DateTime<Utc>>,
    /// What `next_wake` counts of the jobs: unpaused jobs' fires and chained fires.
    live: Option<DateTime<Utc>>,
}

impl Horizon {
    /// Counts one job's pending fire and chained fires.
    pub(super) fn note(&mut self, scheduled: &Scheduled) {
        let chained = scheduled.chain.as_ref().and_then(|c| c.first_fire());
        let next = scheduled.next;
        self.any = earliest(earliest(self.any, next), chained);
        let live = next.filter(|_| !scheduled.job.paused);
        self.live = earliest(earliest(self.live, live), chained);
    }

    /// Whether some job may have a fire due at `now`.
    pub(super) fn reached(&self, now: DateTime<Utc>) -> bool {
        self.any.is_some_and(|t| t <= now)
    }

    /// The earliest fire `next_wake` counts.
    pub(super) fn live(&self) -> Option<DateTime<Utc>> {
        self.live
    }

    /// A chained fire added at `at`.
    pub(super) fn add(&mut self, at: DateTime<Utc>) {
        self.any = earliest(self.any, Some(at));
        self.live = earliest(self.live, Some(at));
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Planner {
    /// Whether `advance` at `now` must walk the jobs: it does not know their fires, or one may
    /// be due.
    pub(super) fn must_walk(&self, now: DateTime<Utc>) -> bool {
        self.horizon.is_none_or(|h| h.reached(now))
    }

    /// The earliest fire of an unpaused job or chain, for `next_wake`: from what the last walk
    /// saw when that still holds, else from every job.
    pub(super) fn earliest_fire(&self) -> Option<DateTime<Utc>> {
        match &self.horizon {
            Some(horizon) => horizon.live(),
            None => self.walked_fire(),
        }
    }

    /// [`Planner::earliest_fire`] from every job (what the horizon must always agree with).
    pub(super) fn walked_fire(&self) -> Option<DateTime<Utc>> {
        let fires = self
            .jobs
            .iter()
            .filter(|s| !s.job.paused)
            .filter_map(|s| s.next);
        fires.chain(self.chained_fires()).min()
    }
}
