//! The blocking scheduler behind `jobrun start` (and the one-run loop behind `jobrun run`).
//!
//! One thread, one `poll(2)`: it waits for the earliest of the next fire or run deadline (a
//! real-time timerfd), a signal (a self-pipe written by the signal handlers), a jobfile edit
//! (inotify), output from a child (its pipes) or a process started (the spawner's socket),
//! handles what happened, asks the planner what is due, and waits again. Nothing polls on a
//! period: with nothing due, the process sleeps until the next fire. Only the spawns
//! themselves happen on other threads (`executor::Spawner`), which the loop hands prepared
//! runs and whose results it takes back; every decision stays on the loop's thread.
//!
//! Decisions (what is due, skipped, missed) are the planner's (`plan.rs`, pure and tested with
//! explicit instants); this module only carries them out. Children run in their own process
//! groups; every child is reaped with `waitpid(-1)`, which also reaps orphans inherited when
//! jobrun is PID 1 in a container.
//!
//! A run is one value, a `Ticket` (`ticket.rs`), from its claim to its end. The loop is
//! split by what each part owns:
//! - `waiting.rs`: the `poll(2)`, the timer and its deadlines, reading the children's pipes;
//! - `dispatch.rs`: claiming, preparing (also ahead of the instant, with `ahead.rs`) and
//!   starting runs;
//! - `spawning.rs`: runs whose processes are being spawned off the loop's thread, started as
//!   they come back;
//! - `ending.rs`: reaping, timeouts, stopping, and what a run's end frees;
//! - `journal.rs`: runs' starts and ends not yet in the store, committed together once per
//!   turn of the loop (group commit);
//! - `hooks.rs`: `on_failure` and `on_success`, run after a run's end;
//! - `pings.rs`: health pings at a run's start and end, handed to the ping thread;
//! - `report.rs`: the log and store records of decisions that start no run;
//! - `shared.rs`: what schedulers sharing a PostgreSQL store tell each other (jobfiles, dead
//!   schedulers' runs and fires);
//! - `limits.rs`: on a shared store, `max_instances` and `workers` across the schedulers (a
//!   claimed run starts once the store admits it);
//! - this file: the loop itself, its state, and reloading the jobfile.
//!
//! Work that follows from other work (a run that could not start frees its slot, which may let
//! a queued run start) is queued in `freed` and done by the loop, never by a call back into the
//! code that caused it.

mod ahead;
mod descendants;
mod dispatch;
mod ending;
mod hooks;
mod journal;
mod leftovers;
mod limits;
mod nospawn;
mod pings;
mod policies;
mod report;
mod runs;
mod shared;
mod signals;
mod spawning;
mod state;
mod ticket;
mod waiting;
mod wakeup;
mod watch;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Timelike, Utc};

use crate::clock::Clock;
use crate::duration::Duration;
use crate::error::Error;
use crate::executor::{BaseEnv, ExitStatus};
use crate::job::Job;
use crate::jobfile::{self, Jobfile};
use crate::log::{Field, Log};
use crate::metrics::Metrics;
use crate::plan::{Planner, RunId};
use crate::store::{Claim, Retention, RunStep, Store};
use crate::zone::Tz;
use ahead::{Ahead, Lead};
use runs::Runs;
pub use shared::jobfile_hash;
use signals::Signals;
use spawning::Spawning;
use ticket::Output;
use wakeup::Wakeup;
use watch::JobfileWatch;

/// What `jobrun start` and `jobrun run` are told from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    pub jobfile: PathBuf,
    pub local_tz: Tz,
    /// On SIGTERM/SIGINT, how long running jobs may take to finish before their process groups
    /// are ended.
    pub stop_grace: Duration,
    /// How much run history the state store keeps.
    pub retention: Retention,
    /// Whose jobfile a reload accepts: the same rules as at start (`trust.rs`).
    pub trust: crate::trust::Trust,
    /// `jobrun start --metrics`: where to serve Prometheus metrics.
    pub metrics: Option<std::net::SocketAddr>,
    /// The kernel's boot id (`@reboot` fires once per boot); `None` when it cannot be read.
    pub boot_id: Option<String>,
    /// `jobrun start --no-spawn` (benchmarks): each fire is claimed and recorded as a success
    /// without a process (`nospawn.rs`).
    pub no_spawn: bool,
    /// `--state-dir` (or `$JOBRUN_STATE_DIR`), absolute: passed to every run as
    /// `JOBRUN_STATE_DIR`, so a job calling `jobrun history` reads this store.
    pub state_dir: Option<PathBuf>,
}

/// Runs the scheduler in the foreground until SIGTERM or SIGINT on `jobfile` (loaded from
/// `settings.jobfile` by the caller), keeping its state in `store` (opened exclusively by the
/// caller).
pub fn serve(
    settings: &Settings,
    clock: &dyn Clock,
    log: &mut Log,
    jobfile: Jobfile,
    mut store: Store,
) -> Result<(), Error> {
    let signals = Signals::install().map_err(io_error("handle signals"))?;
    let watch = JobfileWatch::new(&settings.jobfile).map_err(system("watch the jobfile"))?;
    let now = clock.now();
    let absolute = absolute_jobfile(&settings.jobfile);
    state::recover(&mut store, &jobfile.jobs, &absolute, log, now)?;
    let resume_points = state::resume_points(&mut store, &jobfile.jobs, now)?;
    let boot = policies::note_boot(&mut store, settings.boot_id.as_deref(), now)?;
    let pruned = store.prune(&settings.retention, now)?;
    let jobs = jobfile.jobs.len() as u64;
    let zones = jobfile.jobs.iter().map(|j| j.timezone);
    let tz_rules = crate::zone::rules_in_use(zones.chain([settings.local_tz]));
    let event_jobs = policies::EventJobs::of(&jobfile.jobs);
    // The planner owns the jobs from here on; keeping a second copy would double the memory
    // of a large jobfile.
    let mut planner = Planner::new(jobfile.jobs, &jobfile.executors, now, fastrand::u64(..));
    let resumed = resume_points.len() as u64;
    for (name, last) in &resume_points {
        planner.resume(name, *last);
    }
    let resume_points: HashMap<String, DateTime<Utc>> = resume_points.into_iter().collect();
    let (boot_fires, replayed) = event_jobs.give(&mut planner, &store, boot, &resume_points)?;
    // Retries an earlier scheduler planned and did not start.
    let retries = store.pending_retries()?;
    for retry in &retries {
        planner.retry_at(&retry.job, retry.scheduled, retry.attempt, retry.due);
    }
    let metrics = match settings.metrics {
        Some(address) => Some(
            Metrics::serve(address)
                .map_err(|e| Error::Runtime(format!("cannot serve metrics on {address}: {e}")))?,
        ),
        None => None,
    };
    let mut fields: Vec<(&str, Field)> = vec![
        ("jobfile", settings.jobfile.display().to_string().into()),
        ("jobs", jobs.into()),
        ("tz_rules", tz_rules.to_string().into()),
        ("pid", std::process::id().into()),
        ("store", store.path().display().to_string().into()),
        ("resumed", resumed.into()),
        ("retries", (retries.len() as u64).into()),
        ("pruned", pruned.into()),
        ("boot", if boot.new { "new" } else { "seen" }.into()),
        ("boot_fires", boot_fires.into()),
        ("replayed_ends", replayed.into()),
    ];
    if let Some((_, bound)) = &metrics {
        fields.push(("metrics", format!("http://{bound}/metrics").into()));
    }
    log.event(now, "scheduler_started", &fields);
    let mut scheduler = Loop::new(
        settings,
        clock,
        log,
        signals,
        Some(watch),
        None,
        Some(planner),
    )?;
    scheduler.store = Some(store);
    scheduler.announce_jobfile(now);
    scheduler.sweep_descendants = descendants::adopt_orphans();
    scheduler.metrics = metrics.map(|(metrics, _)| metrics);
    scheduler.all_next_fires();
    scheduler.run()
}

/// Runs one job of `jobfile` now through the same executor path, its output passed through
/// unprefixed; returns the job's exit code (128+n when a signal ended it), 0 when its rules
/// count it a success, and at least 1 when they count it a failure.
///
/// With a `store`, the run is recorded there as a manual run.
pub fn run_once(
    settings: &Settings,
    clock: &dyn Clock,
    log: &mut Log,
    jobfile: Jobfile,
    name: &str,
    store: Option<Store>,
) -> Result<i32, Error> {
    let signals = Signals::install().map_err(io_error("handle signals"))?;
    let mut scheduler = Loop::new(settings, clock, log, signals, None, Some(jobfile), None)?;
    scheduler.store = store;
    let now = scheduler.clock.now();
    // A manual run stands for the second it was asked for: its scheduled time (in history,
    // and JOBRUN_SCHEDULED_AT) is whole seconds like every scheduled fire's (issue 14).
    let scheduled = now.with_nanosecond(0).unwrap_or(now);
    let record = match scheduler.store.as_mut() {
        Some(store) => {
            // A manual run is one attempt: retries belong to the scheduler's planner.
            let claim = Claim {
                job: name,
                scheduled,
                manual: true,
                attempt: 1,
                attempts: 1,
            };
            Some(store.claim(&[claim], now)?[0])
        }
        None => None,
    };
    let mut ticket = scheduler.prepare(
        1,
        name,
        scheduled,
        record,
        &scheduler.base_env,
        Output::PassThrough,
    );
    ticket.attempts = 1;
    ticket.set_attempt(1);
    scheduler.start_tickets(vec![ticket], now);
    scheduler.run()?;
    // A run's start or end always records how it ended. The job's rules decide success: a
    // success exits 0 whatever its code, a failure with code 0 (stderr) exits 1.
    let code = scheduler.last_status.map_or(0, |s| s.as_shell_code());
    Ok(match (code, scheduler.last_failed) {
        (_, false) => 0,
        (0, true) => 1,
        (code, true) => code,
    })
}

fn system(action: &'static str) -> impl Fn(nix::Error) -> Error {
    move |e| Error::Runtime(format!("cannot {action}: {e}"))
}

fn io_error(action: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::Runtime(format!("cannot {action}: {e}"))
}

struct Loop<'a> {
    settings: &'a Settings,
    clock: &'a dyn Clock,
    log: &'a mut Log,
    signals: Signals,
    wakeup: Wakeup,
    watch: Option<JobfileWatch>,
    /// `jobrun run` only: the jobfile its one job comes from (the scheduler's jobs live in
    /// its planner).
    jobfile: Option<Jobfile>,
    /// None in `jobrun run`: nothing is scheduled, one run is started by hand.
    planner: Option<Planner>,
    runs: Runs,
    /// Runs claimed and not started yet: their processes are being spawned.
    spawning: Spawning,
    /// Runs that are over (ended, or never started) and whose end the planner has not been
    /// told yet: the queue of follow-up work (see the module documentation).
    freed: VecDeque<RunId>,
    /// Set on SIGTERM/SIGINT: no more launches; running jobs have until then to finish.
    stop_deadline: Option<DateTime<Utc>>,
    /// The stop grace has run out and its SIGTERMs are sent: its deadline is spent.
    grace_over: bool,
    /// The last deadline the timer was armed at that had already passed: a deadline is armed in
    /// the past once, so one that nothing consumed cannot wake the loop again and again.
    spent: Option<DateTime<Utc>>,
    /// Distinguishes this scheduler's run ids from another's in `JOBRUN_RUN_ID`.
    session: String,
    /// The status of the last run that ended (what `jobrun run` exits with), and whether it
    /// failed by its job's rules.
    last_status: Option<ExitStatus>,
    last_failed: bool,
    /// The jobfile's directory, absolute: runs without a `workdir` start there.
    base_dir: PathBuf,
    /// The jobfile, absolute (`JOBRUN_JOBFILE`).
    jobfile_path: PathBuf,
    /// What runs' environments are built from: jobrun's own environment does not change
    /// while it runs, so it is read once rather than for every batch of starts.
    base_env: BaseEnv,
    /// Where runs are claimed before they start and recorded when they end.
    store: Option<Store>,
    /// Starts and ends carried out and not yet written to the store (`journal.rs`).
    journal: Vec<RunStep>,
    /// `--metrics`: what the metrics thread serves.
    metrics: Option<Metrics>,
    /// The health-ping thread, started with the first ping.
    pinger: Option<crate::ping::Pinger>,
    /// Hooks started so far (their keys in `runs` follow `hooks::FIRST_HOOK`).
    last_hook: u64,
    /// Runs ended since history was last pruned.
    ended_since_prune: u32,
    /// `jobrun start` as the subreaper of its jobs: at the end, every process still its child
    /// (a daemonized leftover) is ended too.
    sweep_descendants: bool,
    /// Runs ended for a newer fire (`overlap = "replace"`), by planner id, with their store
    /// records: noted on them as replaced once the newer fire starts.
    replacing: HashMap<RunId, i64>,
    /// The runs prepared for the next instant (see `ahead.rs`).
    ahead: Option<Ahead>,
    /// The next instant whose runs are to be prepared, and when to prepare them.
    prepare_at: Option<(DateTime<Utc>, DateTime<Utc>)>,
    lead: Lead,
    /// What sharing a store with other schedulers needs kept (`shared.rs`).
    shared: shared::Shared,
}

impl<'a> Loop<'a> {
    fn new(
        settings: &'a Settings,
        clock: &'a dyn Clock,
        log: &'a mut Log,
        signals: Signals,
        watch: Option<JobfileWatch>,
        jobfile: Option<Jobfile>,
        planner: Option<Planner>,
    ) -> Result<Loop<'a>, Error> {
        raise_fd_limit();
        Ok(Loop {
            settings,
            clock,
            log,
            signals,
            wakeup: Wakeup::new().map_err(system("create a timer"))?,
            watch,
            jobfile,
            planner,
            runs: Runs::default(),
            spawning: Spawning::new().map_err(io_error("start the spawning threads"))?,
            freed: VecDeque::new(),
            stop_deadline: None,
            grace_over: false,
            spent: None,
            session: format!("{:08x}", fastrand::u32(..)),
            last_status: None,
            last_failed: false,
            base_dir: jobfile_dir(&settings.jobfile),
            jobfile_path: absolute_jobfile(&settings.jobfile),
            base_env: {
                let mut base = BaseEnv::capture();
                if let Some(dir) = &settings.state_dir {
                    base.set(crate::store::STATE_DIR_ENV, dir.as_os_str());
                }
                base
            },
            store: None,
            journal: Vec::new(),
            metrics: None,
            pinger: None,
            last_hook: 0,
            ended_since_prune: 0,
            sweep_descendants: false,
            replacing: HashMap::new(),
            ahead: None,
            prepare_at: None,
            lead: Lead::new(),
            shared: shared::Shared::default(),
        })
    }

    fn run(&mut self) -> Result<(), Error> {
        loop {
            let now = self.clock.now();
            if self.stop_deadline.is_none()
                && let Some(planner) = self.planner.as_mut()
            {
                let events = planner.advance(now);
                self.carry_out(events, now);
            }
            self.settle(now);
            self.shared_notices(now);
            self.enforce_deadlines(now);
            if self.finished() {
                self.commit_journal(now);
                self.end_lingering_groups();
                self.flush_pings();
                if self.planner.is_some() {
                    self.log.event(self.clock.now(), "scheduler_stopped", &[]);
                }
                return Ok(());
            }
            self.look_ahead(now);
            // Before sleeping: what this turn started and ended goes to the store now, unless
            // more starts are about to come back from the spawner (`journal.rs`).
            if !self.journal_can_wait() {
                self.commit_journal(now);
            }
            let wake = self.wake_at(now);
            self.wakeup.arm(wake).map_err(system("arm the timer"))?;
            self.wait()?;
        }
    }

    /// Whether the loop is done: stopping (or a lone `jobrun run`) with no run left, none
    /// still being spawned either.
    fn finished(&self) -> bool {
        self.runs.is_empty()
            && !self.spawning.busy()
            && (self.stop_deadline.is_some() || self.planner.is_none())
    }

    /// `--metrics`: every job's next fire, afresh (at start and after a reload).
    fn all_next_fires(&self) {
        if let (Some(metrics), Some(planner)) = (&self.metrics, &self.planner) {
            metrics.forget_next_fires();
            for (job, next) in planner.next_fires() {
                metrics.next_fire(job, next);
            }
        }
    }

    fn job(&self, name: &str) -> Option<&Job> {
        match &self.planner {
            Some(planner) => planner.job(name),
            None => self.jobfile.as_ref().and_then(|j| j.job(name)),
        }
    }

    fn reload(&mut self, now: DateTime<Utc>, why: &str) {
        if self.planner.is_none() {
            return;
        }
        let settings = &self.settings;
        match jobfile::load(&settings.jobfile, settings.local_tz, &settings.trust) {
            Ok(jobfile) => {
                let jobs = jobfile.jobs.len() as u64;
                // Prepared with the old jobfile's commands: prepared again from the new one.
                self.release_ahead(now);
                if let Some(store) = self.store_to_write(now)
                    && let Err(e) = state::record_schedules(store, &jobfile.jobs, now)
                {
                    self.log
                        .event(now, "store_error", &[("error", e.to_string().into())]);
                }
                let Some(planner) = self.planner.as_mut() else {
                    return;
                };
                planner.reload(jobfile.jobs, &jobfile.executors, now);
                self.all_next_fires();
                self.announce_jobfile(now);
                self.log.event(
                    now,
                    "reloaded",
                    &[("reason", why.into()), ("jobs", jobs.into())],
                );
            }
            Err(e) => {
                let text = Error::from(e).render();
                let first = text
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("jobrun: error: ")
                    .to_owned();
                self.log.event(
                    now,
                    "reload_failed",
                    &[
                        ("reason", why.into()),
                        ("error", first.into()),
                        ("keeping", "the last good jobfile".into()),
                    ],
                );
            }
        }
    }
}

fn absolute_jobfile(jobfile: &Path) -> PathBuf {
    std::path::absolute(jobfile).unwrap_or_else(|_| jobfile.to_path_buf())
}

fn jobfile_dir(jobfile: &Path) -> PathBuf {
    let dir = crate::atomic_file::parent_dir(jobfile);
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// A thousand simultaneous runs hold two pipes each: lift the soft limit on open files to the
/// hard one (commonly 1024 → 524288) so they fit.
fn raise_fd_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
    {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}

#[cfg(test)]
mod tests;
