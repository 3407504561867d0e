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
//!   or waiting for a pool slot, its `overlap` decides (see "Overlap"). Otherwise
//!   it needs a slot in its pool: a free slot means [`Event::Start`]; with none it waits in the
//!   pool's FIFO queue and starts when a slot frees. Waiting in line does not make a run
//!   missed: `misfire_grace` measures how late the scheduler reached a fire (downtime, suspend,
//!   a stall), not how long a pool the user limited kept it waiting. Only a job with
//!   `queue_grace` gives up: a queued run more than `queue_grace` past its due time is `Missed`
//!   at the first `advance` or `finished` after that (`next_wake` does not wake for it).
//!   Counting waiting runs against `max_instances` is what bounds a queue behind a hung run:
//!   at most `max_instances` runs per job wait, whatever the job's rate.
//! - **Overlap** (`overlap.rs`), for a fire beyond `max_instances`: `skip` reports it
//!   [`Event::SkippedMaxInstances`]. `queue` keeps it as the job's one *waiter*, which joins
//!   its pool's queue (in the order it began waiting) at the first `advance` after a run of
//!   the job ends; a fire that finds a run of its job waiting (the waiter, or a run in the
//!   pool's queue) is [`Event::Coalesced`] into that run's fire instead, so at most one waits
//!   beyond the limit. `replace` does the same and also asks the loop to end the oldest
//!   running run ([`Event::Replace`]), once per waiter; the waiter starts when that run is
//!   reported finished. A waiter's wait is waiting in line: only `queue_grace` bounds it.
//! - **Events.** `@reboot` jobs fire when the loop says the boot's fire is due
//!   ([`Planner::boot`]); `after` jobs when the loop reports their upstreams' runs ended
//!   ([`Planner::upstream_ended`], `chain.rs`). Their fires then go through `misfire_grace`,
//!   `coalesce`, jitter and overlap like any other; a chained run knows the upstream run that
//!   completed it ([`Planner::after_run`]).
//! - **Pools.** The `default` pool, when the jobfile does not declare it, has no limit: as under
//!   cron, every due job starts. Limits are what a jobfile declares (`[executors.NAME]`).
//! - **Order.** Run ids increase from 1. Events come in the order things happen: queued runs that
//!   ran out of grace first, then queued runs that a freed slot lets through (they waited
//!   longest), then everything due, in time order across jobs, ties in jobfile order.
//! - **Termination.** A job whose trigger has no next fire stops. Each call's work is bounded by
//!   the jobs, pools, waiting runs and the catch-up limit, never by the length of a gap.
//! - **Cost per wakeup.** The loop calls in once per ended run, which with a small pool and
//!   many queued runs is often: a call before any job's next fire walks no job (the earliest
//!   fire is remembered, `horizon.rs`), admitting a run counts its job's queued runs from an
//!   index kept with each queue (`queue.rs`), and queued runs are checked for expiry only
//!   when some job has a `queue_grace`.
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

mod admission;
mod ahead;
mod chain;
mod due;
mod horizon;
mod keys;
mod overlap;
mod queue;
mod reload;
mod retry;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use crate::duration::Duration;
use crate::job::{Executor, Job};
use admission::pools_for;
use chain::Chain;
use horizon::Horizon;
use queue::Queue;

pub use keys::{schedule_key, store_key};

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
    /// Not run on its own: folded into the run for another fire of the same job: a later one
    /// (`coalesce`), or the one already waiting (`overlap = "queue"` or `"replace"`).
    Coalesced {
        job: String,
        scheduled: DateTime<Utc>,
        into: DateTime<Utc>,
    },
    /// `overlap = "replace"`: end `run` (SIGTERM to its process group, SIGKILL `kill_after`
    /// later) so that the fire at `scheduled` can start; it starts once `run` is reported
    /// finished.
    Replace {
        job: String,
        run: RunId,
        scheduled: DateTime<Utc>,
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
    /// For each job some `after` trigger names, the positions of the jobs that name it.
    downstream: HashMap<String, Vec<usize>>,
    /// Jobs with a waiter: most have none, so `advance` skips looking.
    waiters: usize,
    /// Whether some job has a `queue_grace`: without one, no queued run ever expires and
    /// `advance` skips looking for those that did.
    queue_graces: bool,
    /// The earliest fires as of the last walk over the jobs; `None` when a change since has
    /// made it unknown (see `horizon.rs`).
    horizon: Option<Horizon>,
}

#[derive(Debug)]
struct Scheduled {
    job: Job,
    /// The first fire not yet handled; `None` once the trigger is exhausted.
    next: Option<DateTime<Utc>>,
    /// The fire waiting for a run of the job to end (`overlap`).
    waiter: Option<Pending>,
    /// What an `after` job has seen of its upstreams.
    chain: Option<Chain>,
}

#[derive(Debug)]
struct Pool {
    workers: u32,
    queue: Queue,
}

#[derive(Debug)]
struct Running {
    job: String,
    /// The pool whose slot the run holds, whatever pool its job names after a reload.
    pool: String,
    /// The upstream run a chained run follows.
    after: Option<u64>,
    /// The run it replaced.
    replaces: Option<RunId>,
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
    /// The upstream run whose end fired it (`after`).
    after: Option<u64>,
    /// The run it waits to replace (`overlap = "replace"`).
    replaces: Option<RunId>,
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
                waiter: None,
                chain: Chain::of(&job, now),
                job,
            })
            .collect();
        Planner {
            queue_graces: any_queue_grace(&jobs),
            horizon: None,
            index: index_of(&jobs),
            downstream: chain::downstream_of(&jobs),
            jobs,
            pools,
            running: BTreeMap::new(),
            per_job: HashMap::new(),
            per_pool: HashMap::new(),
            delayed: Vec::new(),
            rng: fastrand::Rng::with_seed(seed),
            last_run: 0,
            last_queued: 0,
            waiters: 0,
        }
    }

    /// Picks up where an earlier scheduler left off: the job's pending fire becomes its first
    /// fire after `last_fire`, the newest fire that scheduler handled (ran, or reported missed,
    /// coalesced or skipped). Fires that passed while jobrun was down are then due at the next
    /// [`advance`](Planner::advance), and go through `misfire_grace` and `coalesce` like any
    /// late fire. Call it before the first `advance`; an unknown job is ignored.
    ///
    /// For an `after` job, `last_fire` is where its chain resumes: upstream ends reported with
    /// [`upstream_ended`](Planner::upstream_ended) at or before it are its past.
    pub fn resume(&mut self, name: &str, last_fire: DateTime<Utc>) {
        if let Some(&i) = self.index.get(name) {
            let scheduled = &mut self.jobs[i];
            scheduled.next = scheduled.job.next_after(last_fire);
            if let Some(chain) = scheduled.chain.as_mut() {
                chain.resume(last_fire);
            }
            self.horizon = None;
        }
    }

    /// A `@reboot` job's fire for this boot, due at `at` (when the boot was first seen): the
    /// loop calls it at start for each such job that has not handled this boot's fire. Any
    /// other job, one unknown, or an `at` outside the job's window, is ignored.
    pub fn boot(&mut self, name: &str, at: DateTime<Utc>) {
        if let Some(&i) = self.index.get(name) {
            let scheduled = &mut self.jobs[i];
            if matches!(scheduled.job.trigger, crate::trigger::Trigger::Reboot)
                && scheduled.job.in_window(at)
            {
                scheduled.next = Some(at);
                self.horizon = None;
            }
        }
    }

    /// Everything due at or before `now`, in the order it happens.
    pub fn advance(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        let mut events = Vec::new();
        self.expire_queued(now, &mut events);
        self.release_waiters();
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
        // Walking the jobs is skipped while none can be due (see `horizon.rs`).
        if self.must_walk(now) {
            let mut horizon = Horizon::default();
            for order in 0..self.jobs.len() {
                self.collect_due(order, now, &mut steps);
                horizon.note(&self.jobs[order]);
            }
            self.horizon = Some(horizon);
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
        self.earliest_fire()
            .into_iter()
            .chain(jitter_ends)
            .chain(startable)
            .chain(self.releasable_waiters())
            .min()
    }

    /// The upstream run a chained run follows, while it runs (its `JOBRUN_AFTER_RUN_ID`).
    pub fn after_run(&self, run: RunId) -> Option<u64> {
        self.running.get(&run).and_then(|r| r.after)
    }

    /// The run a running run replaced (`overlap = "replace"`).
    pub fn replaces(&self, run: RunId) -> Option<RunId> {
        self.running.get(&run).and_then(|r| r.replaces)
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

    /// The `workers` of pool `name` (`u32::MAX`: no limit, or no such pool).
    pub fn workers(&self, name: &str) -> u32 {
        self.pools.get(name).map_or(u32::MAX, |pool| pool.workers)
    }

    /// Runs started and not finished.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Runs waiting for a pool slot, their jitter delay or a run of their job to end.
    pub fn queued(&self) -> usize {
        self.delayed.len()
            + self.pools.values().map(|p| p.queue.len()).sum::<usize>()
            + self.waiters
    }

    /// Turns the job's due fires into steps: reports for missed and coalesced fires, and runs
    /// that proceed now or after their jitter delay.
    fn collect_due(&mut self, order: usize, now: DateTime<Utc>, steps: &mut Vec<Step>) {
        let scheduled = &mut self.jobs[order];
        let chained = scheduled.chain.as_mut().filter(|c| c.has_fires());
        let (missed, runnable) = if let Some(chain) = chained {
            if scheduled.job.paused {
                chain.drop_fires();
                return;
            }
            chain.take_due(scheduled.job.misfire_grace, now)
        } else {
            let Some(pending) = scheduled.next.filter(|&fire| fire <= now) else {
                return;
            };
            if scheduled.job.paused {
                scheduled.next = scheduled.job.next_after(now);
                return;
            }
            let due = due::due_fires(&scheduled.job, pending, now);
            scheduled.next = due.next;
            let runnable = due.runnable.into_iter().map(|f| (f, None)).collect();
            (due.missed, runnable)
        };
        let job = &scheduled.job;
        let report = |at: DateTime<Utc>, event: Event| Step {
            at,
            order,
            what: StepKind::Report(event),
        };
        if let Some(missed) = missed {
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
        let mut proceeding = runnable.as_slice();
        if job.coalesce
            && let Some((&(latest, _), older)) = proceeding.split_last()
        {
            for &(fire, _) in older {
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
        for &(fire, after) in proceeding {
            let pending = Pending {
                job: job.name.clone(),
                scheduled: fire,
                due: fire + jitter_delay(&mut self.rng, job.jitter),
                queued: 0,
                attempt: 1,
                after,
                replaces: None,
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

    /// The job by name, unless it is paused.
    fn live_job(&self, name: &str) -> Option<&Job> {
        self.job(name).filter(|job| !job.paused)
    }

    fn position(&self, name: &str) -> usize {
        self.index.get(name).copied().unwrap_or(usize::MAX)
    }
}

fn any_queue_grace(jobs: &[Scheduled]) -> bool {
    jobs.iter().any(|s| s.job.queue_grace.is_some())
}

fn index_of(jobs: &[Scheduled]) -> HashMap<String, usize> {
    jobs.iter()
        .enumerate()
        .map(|(i, s)| (s.job.name.clone(), i))
        .collect()
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
