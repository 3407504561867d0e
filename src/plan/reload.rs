//! What a new jobfile keeps of the planner's state: pending fires and chain progress of jobs
//! whose schedule did not change, running runs, and waiting runs of jobs that are still there
//! and not paused.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::chain::{Chain, downstream_of};
use super::{Pending, Planner, Scheduled, any_queue_grace, index_of, pools_for};
use crate::job::{Executor, Job};
use crate::trigger::Trigger;

impl Planner {
    /// Takes a new jobfile; see "Reload" in the module documentation.
    pub fn reload(&mut self, jobs: Vec<Job>, executors: &[Executor], now: DateTime<Utc>) {
        let mut previous: HashMap<String, Scheduled> = self
            .jobs
            .drain(..)
            .map(|s| (s.job.name.clone(), s))
            .collect();
        self.jobs = jobs
            .into_iter()
            .map(|job| {
                let mut old = previous.remove(&job.name);
                // A waiter follows its job like a run in a pool's queue does.
                let waiter = old
                    .as_mut()
                    .and_then(|old| old.waiter.take())
                    .filter(|_| !job.paused);
                match old {
                    Some(old)
                        if !old.job.paused && !job.paused && same_schedule(&old.job, &job) =>
                    {
                        Scheduled {
                            job,
                            next: old.next,
                            waiter,
                            chain: old.chain,
                        }
                    }
                    _ => Scheduled {
                        next: job.next_after(now),
                        chain: Chain::of(&job, now),
                        waiter,
                        job,
                    },
                }
            })
            .collect();
        self.index = index_of(&self.jobs);
        self.downstream = downstream_of(&self.jobs);
        self.waiters = self.jobs.iter().filter(|s| s.waiter.is_some()).count();
        self.queue_graces = any_queue_grace(&self.jobs);
        self.horizon = None;

        let mut queued: Vec<Pending> = std::mem::take(&mut self.pools)
            .into_values()
            .flat_map(|mut pool| pool.queue.drain())
            .collect();
        queued.sort_by_key(|p| p.queued);
        self.pools = pools_for(self.jobs.iter().map(|s| &s.job), executors);
        for pending in queued {
            if let Some(pool) = self.live_job(&pending.job).map(|job| job.executor.clone())
                && let Some(pool) = self.pools.get_mut(&pool)
            {
                pool.queue.push_back(pending);
            }
        }
        let delayed = std::mem::take(&mut self.delayed);
        self.delayed = delayed
            .into_iter()
            .filter(|p| self.live_job(&p.job).is_some())
            .collect();
    }
}

/// Whether two versions of a job fire at the same instants.
fn same_schedule(a: &Job, b: &Job) -> bool {
    a.start == b.start && a.end == b.end && same_trigger(&a.trigger, &b.trigger)
}

fn same_trigger(a: &Trigger, b: &Trigger) -> bool {
    match (a, b) {
        (Trigger::Cron(a), Trigger::Cron(b)) => a == b,
        (Trigger::Every(a), Trigger::Every(b)) => a == b,
        (Trigger::At(a), Trigger::At(b)) => a == b,
        (Trigger::Reboot, Trigger::Reboot) => true,
        (Trigger::After(a), Trigger::After(b)) => a == b,
        (Trigger::All(a), Trigger::All(b)) | (Trigger::Any(a), Trigger::Any(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_trigger(a, b))
        }
        _ => false,
    }
}
