//! The scheduler's decisions, and nothing else: given the jobs, the pools and an instant, what
//! starts, what is skipped or missed, and when to look again. The loop (`scheduler/`) reads the
//! clock, sleeps until [`Planner::next_wake`], calls [`Planner::advance`] and carries out the
//! [`Event`]s; it reports ended runs with [`Planner::finished`]. Nothing here reads a clock,
//! touches a file or a process, so the tests replay DST days and whole years in milliseconds.
//!
//! # Semantics
//! - **Paused** jobs never fire and produce no events; fires that pass while a job is paused are
//!   not missed, they simply do not exist (resuming does not report them).
//! - **Due fires.** A job's due fires are those at or before `now`. A fire with
//!   `now - fire > misfire_grace` is [`Event::Missed`] (so exactly `misfire_grace` late still
//!   runs). Among the fires due within grace: with `coalesce`, all but the latest are
//!   [`Event::Coalesced`] into the latest, which proceeds; without, each proceeds, oldest first.
//! - **Bounded catch-up.** After a long gap (a suspended laptop, weeks of downtime) the late fires
//!   are not enumerated: one `advance` emits at most one `Missed` per job, for the newest late
//!   fire, and it stands for every older fire of the same gap (the state store will record them
//!   one by one). Likewise at most 1000 fires of one job are handled individually in one call;
//!   older fires within grace beyond that (only possible with a grace holding more than 1000
//!   fires) are summarized by the same `Missed` event.
//! - **Jitter.** A proceeding fire of a job with `jitter` gets a random delay in `[0, jitter)`
//!   (millisecond resolution, drawn from the seeded generator in event order) and waits until
//!   `fire + delay`: it counts in [`Planner::queued`] and shows in [`Planner::next_wake`].
//!   Without jitter it proceeds at once. From then on the run's lateness is measured from
//!   `fire + delay`, its *due* time, so jitter never eats into the grace; `late_by` in `Missed`
//!   is measured from the due time too (the fire itself when the fire was never reached).
//! - **Starting.** When a fire proceeds: if the job already has `max_instances` runs started
//!   or waiting for a pool slot, it is [`Event::SkippedMaxInstances`] (not queued). Otherwise
//!   it needs a slot in its pool: a free slot means [`Event::Start`]; with none it waits in the
//!   pool's FIFO queue and starts when a slot frees. Waiting in line does not make a run
//!   missed: `misfire_grace` measures how late the scheduler reached a fire (downtime, suspend,
//!   a stall), not how long a pool the user limited kept it waiting. Only a job with
//!   `queue_grace` gives up: a queued run more than `queue_grace` past its due time is `Missed`
//!   at the first `advance` or `finished` after that (`next_wake` does not wake for it).
//!   Counting waiting runs against `max_instances` is what bounds a queue behind a hung run:
//!   at most `max_instances` runs per job wait, whatever the job's rate.
//! - **Pools.** The `default` pool, when the jobfile does not declare it, has no limit: as under
//!   cron, every due job starts. Limits are what a jobfile declares (`[executors.NAME]`).
//! - **Order.** Run ids increase from 1. Events come in the order things happen: queued runs that
//!   ran out of grace first, then queued runs that a freed slot lets through (they waited
//!   longest), then everything due, in time order across jobs, ties in jobfile order.
//! - **Termination.** A job whose trigger has no next fire stops. Each call's work is bounded by
//!   the jobs, pools, waiting runs and the catch-up limit, never by the length of a gap.
//! - **Reload.** Running runs keep counting against their job (by name) and keep the slot they
//!   took. A job whose schedule (trigger, `start`, `end`) did not change keeps its pending fire
//!   (even one already due and not yet advanced: reloading never loses a fire); the others,
//!   and every job that is or was paused, get their next fire recomputed from `now` (fires at or
//!   before `now` of a changed trigger are not run). Runs waiting for jitter or a slot are kept,
//!   and follow their job to its current pool in their original order, except those of removed
//!   or now paused jobs, which are dropped. Pools take their new sizes: a shrunk pool starts
//!   nothing until its running runs fit; a grown one lets queued runs through at the next
//!   `advance` (which `next_wake` asks for at once).
//! - **Undeclared pools.** A job naming a pool that `executors` lacks (the jobfile loader
//!   refuses this) gets an unlimited one rather than a panic.

mod ahead;
mod due;
mod reload;
mod retry;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};

use crate::duration::Duration;
use crate::job::{Executor, Job, defaults};

/// Identifies one run of a job, from its start to [`Planner::finished`].
pub type RunId = u64;

/// What the loop must do or log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Start this run now: its pool slot is taken and it counts against max_instances.
    Start {
        run: RunId,
        job: String,
        scheduled: DateTime<Utc>,
        /// Which attempt of the fire this is: 1, or a retry's number (see `retry.rs`).
        attempt: u32,
    },
    /// Not run: `max_instances` runs of the job are already running.
    SkippedMaxInstances {
        job: String,
        scheduled: DateTime<Utc>,
        running: u32,
    },
    /// Not run: it could not start within `misfire_grace` of its time (the scheduler was late —
    /// suspend, stall — or its pool stayed full). After a gap, it also stands for the older
    /// fires of the gap (see the module documentation).
    Missed {
        job: String,
        scheduled: DateTime<Utc>,
        late_by: TimeDelta,
        /// The oldest fire this stands for (`scheduled` itself when it stands for one).
        first: DateTime<Utc>,
        /// How many fires it stands for, `first` and `scheduled` included; `None` when there
        /// were too many to count (see `due::MISSED_COUNT_LIMIT`).
        fires: Option<u64>,
    },
    /// Not run on its own: folded into the run for a later fire of the same job (`coalesce`).
    Coalesced {
        job: String,
        scheduled: DateTime<Utc>,
        into: DateTime<Utc>,
    },
}

/// The decision state of `jobrun start`: jobs with their next fire, pools with their queues,
/// running runs and runs waiting out their jitter.
#[derive(Debug)]
pub struct Planner {
    /// In jobfile order, which breaks ties between jobs.
    jobs: Vec<Scheduled>,
    /// Each job's position in `jobs`: a thousand runs starting at once look their jobs up a
    /// few times each, among perhaps ten thousand.
    index: HashMap<String, usize>,
    pools: BTreeMap<String, Pool>,
    running: BTreeMap<RunId, Running>,
    /// Running runs per job and per pool, kept with `running` (counting them on each start
    /// would cost a scan of every running run per start).
    per_job: HashMap<String, u32>,
    per_pool: HashMap<String, u32>,
    /// Runs waiting for their jitter delay to pass.
    delayed: Vec<Pending>,
    rng: fastrand::Rng,
    last_run: RunId,
    /// Numbers queue entries, so queues rebuilt by a reload keep their order.
    last_queued: u64,
}

#[derive(Debug)]
struct Scheduled {
    job: Job,
    /// The first fire not yet handled; `None` once the trigger is exhausted.
    next: Option<DateTime<Utc>>,
}

#[derive(Debug)]
struct Pool {
    workers: u32,
    queue: VecDeque<Pending>,
}

#[derive(Debug)]
struct Running {
    job: String,
    /// The pool whose slot the run holds, whatever pool its job names after a reload.
    pool: String,
}

/// A fire that proceeds but has not started yet.
#[derive(Debug)]
struct Pending {
    job: String,
    /// The nominal fire time.
    scheduled: DateTime<Utc>,
    /// The fire time plus its jitter delay: when it should start, and what lateness counts from.
    due: DateTime<Utc>,
    /// Position among everything ever queued.
    queued: u64,
    /// 1 for a fire; a retry's number for a retry (see `retry.rs`).
    attempt: u32,
}

/// Something due within one `advance`, sorted by `at`, then by `order` (the job's position).
struct Step {
    at: DateTime<Utc>,
    order: usize,
    what: StepKind,
}

enum StepKind {
    /// Decided already (missed or coalesced): only its place in time is pending.
    Report(Event),
    Proceed(Pending),
}

impl Planner {
    /// Each job's next fire is `job.next_after(now)`: fires at or before `now` are not run
    /// (catch-up after a restart belongs to the state store).
    pub fn new(jobs: Vec<Job>, executors: &[Executor], now: DateTime<Utc>, seed: u64) -> Planner {
        let pools = pools_for(&jobs, executors);
        let jobs: Vec<Scheduled> = jobs
            .into_iter()
            .map(|job| Scheduled {
                next: job.next_after(now),
                job,
            })
            .collect();
        Planner {
            index: index_of(&jobs),
            jobs,
            pools,
            running: BTreeMap::new(),
            per_job: HashMap::new(),
            per_pool: HashMap::new(),
            delayed: Vec::new(),
            rng: fastrand::Rng::with_seed(seed),
            last_run: 0,
            last_queued: 0,
        }
    }

    /// Picks up where an earlier scheduler left off: the job's pending fire becomes its first
    /// fire after `last_fire`, the newest fire that scheduler handled (ran, or reported missed,
    /// coalesced or skipped). Fires that passed while jobrun was down are then due at the next
    /// [`advance`](Planner::advance), and go through `misfire_grace` and `coalesce` like any
    /// late fire. Call it before the first `advance`; an unknown job is ignored.
    pub fn resume(&mut self, name: &str, last_fire: DateTime<Utc>) {
        if let Some(&i) = self.index.get(name) {
            let scheduled = &mut self.jobs[i];
            scheduled.next = scheduled.job.next_after(last_fire);
        }
    }

    /// Everything due at or before `now`, in the order it happens.
    pub fn advance(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        let mut events = Vec::new();
        self.expire_queued(now, &mut events);
        self.start_queued(now, &mut events);

        let mut steps = Vec::new();
        // Jitter delays that are over come before this call's new fires on ties: they are older.
        // A retry whose job has `max_instances` runs going waits until one ends.
        let delayed = std::mem::take(&mut self.delayed);
        let (ready, waiting): (Vec<Pending>, Vec<Pending>) = delayed
            .into_iter()
            .partition(|p| p.due <= now && !self.retry_waits(p));
        self.delayed = waiting;
        for pending in ready {
            steps.push(Step {
                at: pending.due,
                order: self.position(&pending.job),
                what: StepKind::Proceed(pending),
            });
        }
        for order in 0..self.jobs.len() {
            self.collect_due(order, now, &mut steps);
        }
        // Stable: one job's steps at one instant keep their order.
        steps.sort_by_key(|step| (step.at, step.order));
        for step in steps {
            match step.what {
                StepKind::Report(event) => events.push(event),
                StepKind::Proceed(pending) => self.proceed(pending, now, &mut events),
            }
        }
        events
    }

    /// Frees the run's slot and instance (an unknown run frees nothing), then advances: queued
    /// runs may start.
    pub fn finished(&mut self, run: RunId, now: DateTime<Utc>) -> Vec<Event> {
        if let Some(ended) = self.running.remove(&run) {
            for (counts, key) in [
                (&mut self.per_job, ended.job),
                (&mut self.per_pool, ended.pool),
            ] {
                if let Some(n) = counts.get_mut(&key) {
                    *n -= 1;
                    if *n == 0 {
                        counts.remove(&key);
                    }
                }
            }
        }
        self.advance(now)
    }

    /// The earliest instant at which [`advance`](Planner::advance) would do something: the next
    /// fire of an unpaused job, the end of a jitter delay, or (after a reload grew a pool) the
    /// due time of a queued run that now fits, which is already past. `None`: nothing will
    /// happen until a run finishes or the jobfile changes.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        let fires = self
            .jobs
            .iter()
            .filter(|s| !s.job.paused)
            .filter_map(|s| s.next);
        let jitter_ends = self
            .delayed
            .iter()
            .filter(|p| !self.retry_waits(p))
            .map(|p| p.due);
        let startable = self
            .pools
            .iter()
            .filter(|(name, pool)| self.has_free_slot(name, pool))
            .filter_map(|(_, pool)| pool.queue.front().map(|p| p.due));
        fires.chain(jitter_ends).chain(startable).min()
    }

    /// When the job fires next (`None` when it never will, or is paused).
    pub fn next_fire(&self, name: &str) -> Option<DateTime<Utc>> {
        let scheduled = &self.jobs[*self.index.get(name)?];
        scheduled.next.filter(|_| !scheduled.job.paused)
    }

    /// Every job's next fire, in jobfile order, as [`Planner::next_fire`] gives it.
    pub fn next_fires(&self) -> impl Iterator<Item = (&str, Option<DateTime<Utc>>)> {
        self.jobs
            .iter()
            .map(|s| (s.job.name.as_str(), s.next.filter(|_| !s.job.paused)))
    }

    pub fn job(&self, name: &str) -> Option<&Job> {
        self.index.get(name).map(|&i| &self.jobs[i].job)
    }

    /// Runs started and not finished.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Runs waiting for a pool slot or their jitter delay.
    pub fn queued(&self) -> usize {
        self.delayed.len() + self.pools.values().map(|p| p.queue.len()).sum::<usize>()
    }

    /// Turns the job's due fires into steps: reports for missed and coalesced fires, and runs
    /// that proceed now or after their jitter delay.
    fn collect_due(&mut self, order: usize, now: DateTime<Utc>, steps: &mut Vec<Step>) {
        let scheduled = &mut self.jobs[order];
        let Some(pending) = scheduled.next.filter(|&fire| fire <= now) else {
            return;
        };
        let job = &scheduled.job;
        if job.paused {
            scheduled.next = job.next_after(now);
            return;
        }
        let due = due::due_fires(job, pending, now);
        scheduled.next = due.next;
        let report = |at: DateTime<Utc>, event: Event| Step {
            at,
            order,
            what: StepKind::Report(event),
        };
        if let Some(missed) = due.missed {
            steps.push(report(
                missed.newest,
                Event::Missed {
                    job: job.name.clone(),
                    scheduled: missed.newest,
                    late_by: now - missed.newest,
                    first: missed.oldest,
                    fires: missed.count,
                },
            ));
        }
        let mut proceeding = due.runnable.as_slice();
        if job.coalesce
            && let Some((&latest, older)) = proceeding.split_last()
        {
            for &fire in older {
                steps.push(report(
                    fire,
                    Event::Coalesced {
                        job: job.name.clone(),
                        scheduled: fire,
                        into: latest,
                    },
                ));
            }
            proceeding = &proceeding[older.len()..];
        }
        for &fire in proceeding {
            let pending = Pending {
                job: job.name.clone(),
                scheduled: fire,
                due: fire + jitter_delay(&mut self.rng, job.jitter),
                queued: 0,
                attempt: 1,
            };
            if pending.due <= now {
                steps.push(Step {
                    at: pending.due,
                    order,
                    what: StepKind::Proceed(pending),
                });
            } else {
                self.delayed.push(pending);
            }
        }
    }

    /// A run whose due time has come: start it, queue it, or say why not.
    fn proceed(&mut self, mut pending: Pending, now: DateTime<Utc>, events: &mut Vec<Event>) {
        let Some(pool_name) = self.admit(&pending, now, false, events) else {
            return;
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
    fn expire_queued(&mut self, now: DateTime<Utc>, events: &mut Vec<Event>) {
        let mut expired = Vec::new();
        self.pools = std::mem::take(&mut self.pools)
            .into_iter()
            .map(|(name, mut pool)| {
                let (late, kept): (VecDeque<Pending>, VecDeque<Pending>) = pool
                    .queue
                    .into_iter()
                    .partition(|p| self.past_grace(p, now));
                expired.extend(late);
                pool.queue = kept;
                (name, pool)
            })
            .collect();
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
    fn start_queued(&mut self, now: DateTime<Utc>, events: &mut Vec<Event>) {
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
            if let Some(pool) = self.admit(&pending, now, true, events) {
                self.start(pending, pool, events);
            }
        }
    }

    /// Checks lateness and `max_instances` for a run about to start or join its pool's queue:
    /// the pool it may take a slot in, or `None` once the refusal is reported (silently for a
    /// job removed or paused). `waited` says whether the run comes out of a pool's queue: its
    /// lateness is then the queue's business (`queue_grace`), not `misfire_grace`'s.
    fn admit(
        &self,
        pending: &Pending,
        now: DateTime<Utc>,
        waited: bool,
        events: &mut Vec<Event>,
    ) -> Option<String> {
        let job = self.live_job(&pending.job)?;
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
            return None;
        }
        let running = self.running_runs_of(&job.name) + self.waiting_runs_of(job);
        if running >= job.max_instances {
            events.push(Event::SkippedMaxInstances {
                job: job.name.clone(),
                scheduled: pending.scheduled,
                running,
            });
            return None;
        }
        Some(job.executor.clone())
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
    fn past_grace(&self, pending: &Pending, now: DateTime<Utc>) -> bool {
        pending.attempt == 1
            && self
                .job(&pending.job)
                .and_then(|job| job.queue_grace)
                .is_some_and(|grace| now - pending.due > grace.as_chrono())
    }

    fn has_free_slot(&self, name: &str, pool: &Pool) -> bool {
        self.per_pool.get(name).copied().unwrap_or(0) < pool.workers
    }

    fn running_runs_of(&self, job: &str) -> u32 {
        self.per_job.get(job).copied().unwrap_or(0)
    }

    /// Runs of the job waiting in its pool's queue. The queue holds at most the sum of the
    /// jobs' `max_instances`, so a scan is cheap.
    fn waiting_runs_of(&self, job: &Job) -> u32 {
        self.pools.get(&job.executor).map_or(0, |pool| {
            let waiting = pool.queue.iter().filter(|p| p.job == job.name).count();
            u32::try_from(waiting).unwrap_or(u32::MAX)
        })
    }

    /// The job by name, unless it is paused.
    fn live_job(&self, name: &str) -> Option<&Job> {
        self.job(name).filter(|job| !job.paused)
    }

    fn position(&self, name: &str) -> usize {
        self.index.get(name).copied().unwrap_or(usize::MAX)
    }
}

fn index_of(jobs: &[Scheduled]) -> HashMap<String, usize> {
    jobs.iter()
        .enumerate()
        .map(|(i, s)| (s.job.name.clone(), i))
        .collect()
}

/// What decides a job's fire times, as text: its trigger, zone and window. A state store keeps
/// it beside the job's last fire, so that a trigger edited while jobrun was down is noticed
/// (its old fires are not caught up). Built from the jobfile's own spelling (a cron
/// expression's source), so it does not change between jobrun versions.
pub fn schedule_key(job: &Job) -> String {
    let instant = |t: Option<DateTime<Utc>>| t.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339());
    format!(
        "{} tz={} start={} end={}",
        job.trigger.describe(),
        job.timezone.name(),
        instant(job.start),
        instant(job.end)
    )
}

/// The text the state store keeps per job to notice, at the next start, that its schedule
/// changed while jobrun was down: [`schedule_key`], and whether the job is paused. A pause
/// counts as a change: fires that pass while a job is paused do not exist, so a job resumed
/// while jobrun was down starts afresh rather than catching up.
pub fn store_key(job: &Job) -> String {
    let key = schedule_key(job);
    if job.paused {
        format!("{key} paused")
    } else {
        key
    }
}

/// The declared pools, plus one of the default size for any pool a job names undeclared.
fn pools_for<'j>(
    jobs: impl IntoIterator<Item = &'j Job>,
    executors: &[Executor],
) -> BTreeMap<String, Pool> {
    let mut pools: BTreeMap<String, Pool> = executors
        .iter()
        .map(|e| {
            let pool = Pool {
                workers: e.workers,
                queue: VecDeque::new(),
            };
            (e.name.clone(), pool)
        })
        .collect();
    for job in jobs {
        pools.entry(job.executor.clone()).or_insert_with(|| Pool {
            workers: defaults::UNDECLARED_POOL_WORKERS,
            queue: VecDeque::new(),
        });
    }
    pools
}

/// A random delay in `[0, jitter)`, to the millisecond; none without jitter.
fn jitter_delay(rng: &mut fastrand::Rng, jitter: Option<Duration>) -> TimeDelta {
    let millis = jitter.map_or(0, |j| j.as_chrono().num_milliseconds());
    if millis > 0 {
        TimeDelta::milliseconds(rng.i64(0..millis))
    } else {
        TimeDelta::zero()
    }
}
