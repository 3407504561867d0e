//! What a fire beyond its job's `max_instances` does (`overlap`): it is skipped, or it waits
//! for a run of its job to end (one such waiter per job), with `replace` after asking the loop
//! to end the oldest run. See "Overlap" in the planner's documentation.

use chrono::{DateTime, Utc};

use super::{Event, Pending, Planner, RunId};
use crate::job::Overlap;

impl Planner {
    /// A fire whose job has `running` runs started or waiting, `max_instances` or more.
    pub(super) fn overlap(&mut self, mut pending: Pending, running: u32, events: &mut Vec<Event>) {
        let Some(&order) = self.index.get(&pending.job) else {
            return;
        };
        let job = &self.jobs[order].job;
        if job.overlap == Overlap::Skip {
            events.push(Event::SkippedMaxInstances {
                job: pending.job,
                scheduled: pending.scheduled,
                running,
            });
            return;
        }
        if let Some(into) = self.waiting_fire_of(order) {
            events.push(Event::Coalesced {
                job: pending.job,
                scheduled: pending.scheduled,
                into,
            });
            return;
        }
        if job.overlap == Overlap::Replace
            && let Some(old) = self.oldest_run_of(&pending.job)
        {
            pending.replaces = Some(old);
            events.push(Event::Replace {
                job: pending.job.clone(),
                run: old,
                scheduled: pending.scheduled,
            });
        }
        self.last_queued += 1;
        pending.queued = self.last_queued;
        self.jobs[order].waiter = Some(pending);
        self.waiters += 1;
    }

    /// Moves each waiter whose job has room again (a run ended, or a reload raised
    /// `max_instances`) into its pool's queue, where its place is the moment it began
    /// waiting: `start_queued` then starts it when a slot is free, before younger runs.
    pub(super) fn release_waiters(&mut self) {
        if self.waiters == 0 {
            return;
        }
        for order in 0..self.jobs.len() {
            if self.jobs[order].waiter.is_none() || !self.has_room(order) {
                continue;
            }
            let Some(waiter) = self.jobs[order].waiter.take() else {
                continue;
            };
            self.waiters -= 1;
            let executor = &self.jobs[order].job.executor;
            if let Some(pool) = self.pools.get_mut(executor) {
                pool.queue.insert_in_order(waiter);
            }
        }
    }

    /// Waiters past their job's `queue_grace`, taken out for `expire_queued` to report.
    pub(super) fn expire_waiters(&mut self, now: DateTime<Utc>, expired: &mut Vec<Pending>) {
        if self.waiters == 0 {
            return;
        }
        for order in 0..self.jobs.len() {
            let late = self.jobs[order]
                .waiter
                .as_ref()
                .is_some_and(|w| self.past_grace(w, now));
            if late && let Some(waiter) = self.jobs[order].waiter.take() {
                self.waiters -= 1;
                expired.push(waiter);
            }
        }
    }

    /// The due times of waiters that `advance` would release now (after a reload raised a
    /// limit; a run's end is followed by `advance` anyway), for `next_wake`.
    pub(super) fn releasable_waiters(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let jobs = if self.waiters == 0 {
            &self.jobs[..0]
        } else {
            &self.jobs[..]
        };
        jobs.iter()
            .enumerate()
            .filter_map(|(order, s)| s.waiter.as_ref().filter(|_| self.has_room(order)))
            .map(|waiter| waiter.due)
    }

    /// The runs that fires waiting to start are to replace (`overlap = "replace"`).
    pub fn replacing(&self) -> impl Iterator<Item = RunId> + '_ {
        let waiters = self.jobs.iter().filter_map(|s| s.waiter.as_ref());
        let queued = self.pools.values().flat_map(|pool| pool.queue.iter());
        waiters.chain(queued).filter_map(|p| p.replaces)
    }

    /// Whether the job at `order` has fewer than `max_instances` runs started or waiting in
    /// its pool's queue.
    fn has_room(&self, order: usize) -> bool {
        let job = &self.jobs[order].job;
        self.running_runs_of(&job.name) + self.waiting_runs_of(job) < job.max_instances
    }

    /// The fire of the run of the job waiting to start, if one is: its waiter, or its newest
    /// run in its pool's queue.
    fn waiting_fire_of(&self, order: usize) -> Option<DateTime<Utc>> {
        let scheduled = &self.jobs[order];
        if let Some(waiter) = &scheduled.waiter {
            return Some(waiter.scheduled);
        }
        let pool = self.pools.get(&scheduled.job.executor)?;
        pool.queue
            .iter()
            .rev()
            .find(|p| p.job == scheduled.job.name)
            .map(|p| p.scheduled)
    }

    /// The job's run that started first (run ids grow with each start).
    fn oldest_run_of(&self, job: &str) -> Option<RunId> {
        self.running
            .iter()
            .find(|(_, run)| run.job == job)
            .map(|(&id, _)| id)
    }
}
