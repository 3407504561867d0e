//! Who starts when: a run whose time has come takes a slot in its job's pool or waits in the
//! pool's queue (first come, first served across the pool), within its job's lateness bounds
//! and `max_instances`; a run that ends frees its slot for the longest-waiting run.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Event, Pending, Planner, Pool, Queue, Running};
use crate::job::{Executor, Job, defaults};

/// What a run about to start or queue may do.
enum Admission {
    /// Take a slot in this pool, or wait in its queue.
    Pool(String),
    /// Its job has this many runs started or waiting: `overlap` decides.
    Full(u32),
    /// Reported (missed), or dropped silently (its job was removed or paused).
    Refused,
}

impl Planner {
    /// A run whose due time has come: start it, queue it, or say why not.
    pub(super) fn proceed(
        &mut self,
        mut pending: Pending,
        now: DateTime<Utc>,
        events: &mut Vec<Event>,
    ) {
        let pool_name = match self.admit(&pending, now, false, events) {
            Admission::Pool(pool) => pool,
            Admission::Full(running) => return self.overlap(pending, running, events),
            Admission::Refused => return,
        };
        let Some(pool) = self.pools.get(&pool_name) else {
            return;
        };
        if pool.queue.is_empty() && self.has_free_slot(&pool_name, pool) {
            self.start(pending, pool_name, events);
        } else if let Some(pool) = self.pools.get_mut(&pool_name) {
            self.last_queued += 1;
            pending.queued = self.last_queued;
            pool.queue.push_back(pending);
        }
    }

    /// Reports the queued runs already past their grace, which could never start now. Done on
    /// every call rather than only when a slot frees, so that a pool held by a hung run does
    /// not collect a run per fire (an every-second job: 86,400 a day) to report all at once.
    pub(super) fn expire_queued(&mut self, now: DateTime<Utc>, events: &mut Vec<Event>) {
        let mut expired = Vec::new();
        if self.queue_graces {
            let mut pools = std::mem::take(&mut self.pools);
            for pool in pools.values_mut() {
                expired.extend(pool.queue.take_where(|p| self.past_grace(p, now)));
            }
            self.pools = pools;
        }
        self.expire_waiters(now, &mut expired);
        expired.sort_by_key(|p| p.queued);
        events.extend(expired.into_iter().map(|p| Event::Missed {
            late_by: now - p.due,
            job: p.job,
            scheduled: p.scheduled,
            first: p.scheduled,
            fires: Some(1),
        }));
    }

    /// Lets queued runs into free slots, longest-waiting first across pools.
    pub(super) fn start_queued(&mut self, now: DateTime<Utc>, events: &mut Vec<Event>) {
        loop {
            let next = self
                .pools
                .iter()
                .filter(|(name, pool)| self.has_free_slot(name, pool))
                .filter_map(|(name, pool)| pool.queue.front().map(|p| (p.queued, name)))
                .min()
                .map(|(_, name)| name.clone());
            let Some(pending) = next
                .as_ref()
                .and_then(|name| self.pools.get_mut(name))
                .and_then(|pool| pool.queue.pop_front())
            else {
                return;
            };
            match self.admit(&pending, now, true, events) {
                Admission::Pool(pool) => self.start(pending, pool, events),
                Admission::Full(running) => self.overlap(pending, running, events),
                Admission::Refused => {}
            }
        }
    }

    /// Checks lateness and `max_instances` for a run about to start or join its pool's queue.
    /// `waited` says whether the run comes out of a pool's queue: its lateness is then the
    /// queue's business (`queue_grace`), not `misfire_grace`'s.
    fn admit(
        &self,
        pending: &Pending,
        now: DateTime<Utc>,
        waited: bool,
        events: &mut Vec<Event>,
    ) -> Admission {
        let Some(job) = self.live_job(&pending.job) else {
            return Admission::Refused;
        };
        let late_by = now - pending.due;
        let grace = if waited {
            job.queue_grace
        } else {
            Some(job.misfire_grace)
        };
        // A retry is never missed: it runs late rather than not at all.
        if pending.attempt == 1 && grace.is_some_and(|grace| late_by > grace.as_chrono()) {
            events.push(Event::Missed {
                job: job.name.clone(),
                scheduled: pending.scheduled,
                late_by,
                first: pending.scheduled,
                fires: Some(1),
            });
            return Admission::Refused;
        }
        let running = self.running_runs_of(&job.name) + self.waiting_runs_of(job);
        if running >= job.max_instances {
            return Admission::Full(running);
        }
        Admission::Pool(job.executor.clone())
    }

    fn start(&mut self, pending: Pending, pool: String, events: &mut Vec<Event>) {
        self.last_run += 1;
        let run = self.last_run;
        *self.per_job.entry(pending.job.clone()).or_default() += 1;
        *self.per_pool.entry(pool.clone()).or_default() += 1;
        self.running.insert(
            run,
            Running {
                job: pending.job.clone(),
                pool,
                after: pending.after,
                replaces: pending.replaces,
            },
        );
        events.push(Event::Start {
            run,
            job: pending.job,
            scheduled: pending.scheduled,
            attempt: pending.attempt,
        });
    }

    /// Whether a queued run has waited longer than its job's `queue_grace` (never, without one).
    pub(super) fn past_grace(&self, pending: &Pending, now: DateTime<Utc>) -> bool {
        pending.attempt == 1
            && self
                .job(&pending.job)
                .and_then(|job| job.queue_grace)
                .is_some_and(|grace| now - pending.due > grace.as_chrono())
    }

    pub(super) fn has_free_slot(&self, name: &str, pool: &Pool) -> bool {
        self.per_pool.get(name).copied().unwrap_or(0) < pool.workers
    }

    pub(super) fn running_runs_of(&self, job: &str) -> u32 {
        self.per_job.get(job).copied().unwrap_or(0)
    }

    /// Runs of the job waiting in its pool's queue (counted by the queue: see `queue.rs`).
    pub(super) fn waiting_runs_of(&self, job: &Job) -> u32 {
        self.pools
            .get(&job.executor)
            .map_or(0, |pool| pool.queue.waiting_of(&job.name))
    }
}

/// The declared pools, plus one of the default size for any pool a job names undeclared.
pub(super) fn pools_for<'j>(
    jobs: impl IntoIterator<Item = &'j Job>,
    executors: &[Executor],
) -> BTreeMap<String, Pool> {
    let mut pools: BTreeMap<String, Pool> = executors
        .iter()
        .map(|e| {
            let pool = Pool {
                workers: e.workers,
                queue: Queue::default(),
            };
            (e.name.clone(), pool)
        })
        .collect();
    for job in jobs {
        pools.entry(job.executor.clone()).or_insert_with(|| Pool {
            workers: defaults::UNDECLARED_POOL_WORKERS,
            queue: Queue::default(),
        });
    }
    pools
}
