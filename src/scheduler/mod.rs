//! The blocking scheduler behind `jobrun start` (and the one-run loop behind `jobrun run`).
//!
//! One thread, one `poll(2)`: it waits for the earliest of the next fire or run deadline (a
//! real-time timerfd), a signal (a self-pipe written by the signal handlers), a jobfile edit (inotify) or output from a child
//! (its pipes), handles what happened, asks the planner what is due, and waits again. Nothing
//! polls on a period: with nothing due, the process sleeps until the next fire.
//!
//! Decisions (what is due, skipped, missed) are the planner's (`plan.rs`, pure and tested with
//! explicit instants); this file only carries them out. Children run in their own process
//! groups; every child is reaped with `waitpid(-1)`, which also reaps orphans inherited when
//! jobrun is PID 1 in a container.

mod ahead;
mod leftovers;
mod runs;
mod signals;
mod state;
mod wakeup;
mod watch;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

use crate::clock::Clock;
use crate::duration::Duration;
use crate::error::Error;
use crate::executor::{self, BaseEnv, ExitStatus, Launch, Prepared, SpawnError, Stream};
use crate::job::Job;
use crate::jobfile::{self, Jobfile};
use crate::log::{Field, Log};
use crate::plan::{Event, Planner, RunId};
use crate::store::{Claim, Decision, Hold, Outcome, Retention, Store};
use ahead::{Ahead, Lead, Ready};
use runs::{Limits, Output, Run, Runs};
use signals::Signals;
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
}

/// After this many ended runs, old history is pruned again (besides at every start).
const PRUNE_EVERY: u32 = 1000;

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
    let resume_points = state::resume_points(&mut store, &jobfile.jobs)?;
    let pruned = store.prune(&settings.retention, now)?;
    let jobs = jobfile.jobs.len() as u64;
    // The planner owns the jobs from here on; keeping a second copy would double the memory
    // of a large jobfile.
    let mut planner = Planner::new(jobfile.jobs, &jobfile.executors, now, fastrand::u64(..));
    let resumed = resume_points.len() as u64;
    for (name, last) in resume_points {
        planner.resume(&name, last);
    }
    log.event(
        now,
        "scheduler_started",
        &[
            ("jobfile", settings.jobfile.display().to_string().into()),
            ("jobs", jobs.into()),
            ("pid", std::process::id().into()),
            ("store", store.path().display().to_string().into()),
            ("resumed", resumed.into()),
            ("pruned", pruned.into()),
        ],
    );
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
    scheduler.run()
}

/// Runs one job of `jobfile` now through the same executor path, its output passed through
/// unprefixed; returns the job's exit code (128+n when a signal ended it).
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
            let claim = Claim {
                job: name,
                scheduled,
                manual: true,
            };
            Some(store.claim(&[claim], now)?[0])
        }
        None => None,
    };
    let run_id = scheduler.run_id(1, record);
    let prepared = scheduler.prepare(name, scheduled, &run_id, &BaseEnv::capture());
    let result = scheduler
        .start_batch(vec![(name, prepared)])
        .pop()
        .flatten();
    scheduler.record_start(1, name, scheduled, now, Output::PassThrough, record, result);
    scheduler.run()?;
    // `launch` and `reap` always record how the run ended.
    Ok(scheduler.last_status.map_or(0, |s| s.as_shell_code()))
}

fn system(action: &'static str) -> impl Fn(nix::Error) -> Error {
    move |e| Error::Runtime(format!("cannot {action}: {e}"))
}

fn io_error(action: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::Runtime(format!("cannot {action}: {e}"))
}

/// A spawn's outcome with what the loop needs to track the run.
struct Spawned {
    result: Result<executor::RunningChild, executor::SpawnError>,
    timeout: Option<Duration>,
    kill_after: Duration,
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
    /// Set on SIGTERM/SIGINT: no more launches; running jobs have until then to finish.
    stop_deadline: Option<DateTime<Utc>>,
    /// Distinguishes this scheduler's run ids from another's in `JOBRUN_RUN_ID`.
    session: String,
    /// The status of the last run that ended (what `jobrun run` exits with).
    last_status: Option<ExitStatus>,
    /// The jobfile's directory, absolute: runs without a `workdir` start there.
    base_dir: PathBuf,
    /// The jobfile, absolute (`JOBRUN_JOBFILE`).
    jobfile_path: PathBuf,
    /// Where runs are claimed before they start and recorded when they end.
    store: Option<Store>,
    /// Runs ended since history was last pruned.
    ended_since_prune: u32,
    /// The runs prepared for the next instant (see `ahead.rs`).
    ahead: Option<Ahead>,
    /// The next instant whose runs are to be prepared, and when to prepare them.
    prepare_at: Option<(DateTime<Utc>, DateTime<Utc>)>,
    lead: Lead,
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
            stop_deadline: None,
            session: format!("{:08x}", fastrand::u32(..)),
            last_status: None,
            base_dir: jobfile_dir(&settings.jobfile),
            jobfile_path: absolute_jobfile(&settings.jobfile),
            store: None,
            ended_since_prune: 0,
            ahead: None,
            prepare_at: None,
            lead: Lead::new(),
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
            self.enforce_deadlines(now);
            if self.finished() {
                self.end_lingering_groups();
                if self.planner.is_some() {
                    self.log.event(self.clock.now(), "scheduler_stopped", &[]);
                }
                return Ok(());
            }
            self.look_ahead(now);
            self.wakeup
                .arm(self.next_deadline())
                .map_err(system("arm the timer"))?;
            self.wait()?;
        }
    }

    /// Whether the loop is done: stopping (or a lone `jobrun run`) with no run left.
    fn finished(&self) -> bool {
        self.runs.is_empty() && (self.stop_deadline.is_some() || self.planner.is_none())
    }

    fn next_deadline(&self) -> Option<DateTime<Utc>> {
        let planned = if self.stop_deadline.is_some() {
            None
        } else {
            self.planner.as_ref().and_then(Planner::next_wake)
        };
        [
            planned,
            self.prepare_at.map(|(_, from)| from),
            self.runs.next_deadline(),
            self.stop_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Blocks until something happens, then handles it.
    fn wait(&mut self) -> Result<(), Error> {
        let (ready, pipes) = {
            let mut fds = vec![
                PollFd::new(self.signals.fd(), PollFlags::POLLIN),
                PollFd::new(self.wakeup.fd(), PollFlags::POLLIN),
            ];
            if let Some(watch) = &self.watch {
                fds.push(PollFd::new(watch.fd(), PollFlags::POLLIN));
            }
            let fixed = fds.len();
            let mut pipes = Vec::new();
            for (run, stream, fd) in self.runs.pipes() {
                pipes.push((run, stream));
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(system("wait for events")(e)),
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            let pipes: Vec<_> = pipes
                .into_iter()
                .zip(ready[fixed..].iter().copied())
                .filter(|(_, r)| *r)
                .map(|(k, _)| k)
                .collect();
            (ready[..fixed].to_vec(), pipes)
        };
        let now = self.clock.now();
        for (run, stream) in pipes {
            self.read_pipe(run, stream, now);
        }
        if ready[1] {
            self.wakeup.acknowledge();
        }
        if ready.get(2).copied().unwrap_or(false)
            && self.watch.as_ref().is_some_and(JobfileWatch::changed)
        {
            self.reload(now, "jobfile changed");
        }
        if ready[0] {
            let arrived = self.signals.drain().map_err(io_error("read signals"))?;
            if arrived.child {
                self.reap(now);
            }
            if arrived.reload && self.planner.is_some() {
                self.reload(now, "SIGHUP");
            }
            if arrived.stop {
                self.stop(now);
            }
        }
        Ok(())
    }

    fn carry_out(&mut self, events: Vec<Event>, now: DateTime<Utc>) {
        let starts: Vec<(RunId, &str, DateTime<Utc>)> = events
            .iter()
            .filter_map(|event| match event {
                Event::Start {
                    run,
                    job,
                    scheduled,
                } => Some((*run, job.as_str(), *scheduled)),
                _ => None,
            })
            .collect();
        let ready: Vec<Option<Ready>> = match self.ahead.as_mut() {
            Some(ahead) => starts
                .iter()
                .map(|&(_, job, scheduled)| ahead.take(job, scheduled))
                .collect(),
            None => starts.iter().map(|_| None).collect(),
        };
        // Runs prepared for an instant that has come and not started are given back before
        // anything else is recorded for their fires (a skip, say).
        if self.ahead.as_ref().is_some_and(|a| a.at <= now) {
            self.release_ahead(now);
        }
        self.record_decisions(&events, now);
        // The rest are claimed before any process starts: once a fire is claimed, no later
        // scheduler runs it again, even if this one is killed the next instant.
        let fresh: Vec<(RunId, &str, DateTime<Utc>)> = starts
            .iter()
            .zip(&ready)
            .filter(|(_, r)| r.is_none())
            .map(|(s, _)| *s)
            .collect();
        let (mut claimed, failed) = match self.claim(&fresh, now) {
            Ok(records) => (records.into_iter(), None),
            Err(e) => (
                Vec::new().into_iter(),
                Some(format!("cannot record the run in the state store: {e}")),
            ),
        };
        let base = if fresh.is_empty() {
            None
        } else {
            Some(BaseEnv::capture())
        };
        let mut batch = Vec::with_capacity(starts.len());
        let mut records = Vec::with_capacity(starts.len());
        for (&(run, job, scheduled), ready) in starts.iter().zip(ready) {
            let (record, prepared) = match (ready, &base, &failed) {
                (Some(ready), _, _) => (Some(ready.hold.id), ready.prepared),
                (None, Some(base), None) => {
                    let record = claimed.next().flatten();
                    let run_id = self.run_id(run, record);
                    (record, self.prepare(job, scheduled, &run_id, base))
                }
                // The claim failed: reported below, not started.
                (None, _, _) => continue,
            };
            records.push((run, record));
            batch.push((job, prepared));
        }
        let mut spawned = self.start_batch(batch).into_iter();
        let mut records = records.into_iter().peekable();
        let mut unclaimed = Vec::new();
        for event in events {
            match event {
                Event::Start {
                    run,
                    job,
                    scheduled,
                } => {
                    let Some((_, record)) = records.next_if(|(r, _)| *r == run) else {
                        unclaimed.push((run, job));
                        continue;
                    };
                    let result = spawned.next().flatten();
                    self.record_start(run, &job, scheduled, now, Output::Log, record, result);
                }
                other => self.report(other, now),
            }
        }
        if let Some(error) = failed {
            for (run, job) in unclaimed {
                self.log.event(
                    now,
                    "failed",
                    &[("job", job.into()), ("error", error.as_str().into())],
                );
                self.run_ended(run, now);
            }
        }
    }

    /// Prepares the runs of the next instant ahead of it (see `ahead.rs`), when that is close
    /// enough; otherwise notes when to.
    fn look_ahead(&mut self, now: DateTime<Utc>) {
        let planned = self.prepare_at.take();
        if self.stop_deadline.is_some() || self.ahead.is_some() || self.store.is_none() {
            return;
        }
        let Some(planner) = self.planner.as_ref() else {
            return;
        };
        let Some(at) = planner.next_wake().filter(|&at| at > now) else {
            return;
        };
        // Woken early for something else (a child's output, say): the forecast for this instant
        // stands, and is not worked out again on every wakeup.
        if let Some((instant, from)) = planned
            && instant == at
            && now < from
        {
            self.prepare_at = planned;
            return;
        }
        let forecast = planner.starts_at(at);
        if forecast.is_empty() {
            return;
        }
        let from = at - self.lead.for_runs(forecast.len());
        if now < from {
            self.prepare_at = Some((at, from));
            return;
        }
        let began = std::time::Instant::now();
        let claims: Vec<Claim<'_>> = forecast
            .iter()
            .map(|(job, scheduled)| Claim {
                job,
                scheduled: *scheduled,
                manual: false,
            })
            .collect();
        let held = self.store.as_mut().map(|store| store.hold(&claims, now));
        let holds = match held {
            Some(Ok(holds)) => holds,
            Some(Err(e)) => {
                // Claimed at the instant instead, which reports what is wrong there.
                self.store_error(now, &e);
                self.ahead = Some(Ahead::new(at, []));
                return;
            }
            None => return,
        };
        let base = BaseEnv::capture();
        let runs: Vec<_> = forecast
            .into_iter()
            .zip(holds)
            .map(|((job, scheduled), hold)| {
                let prepared = self.prepare(&job, scheduled, &hold.id.to_string(), &base);
                ((job, scheduled), Ready { hold, prepared })
            })
            .collect();
        self.lead.observe(runs.len(), began.elapsed());
        self.ahead = Some(Ahead::new(at, runs));
    }

    /// Gives back the claims of the runs prepared ahead that did not start.
    fn release_ahead(&mut self, now: DateTime<Utc>) {
        let Some(ahead) = self.ahead.take() else {
            return;
        };
        let holds: Vec<Hold> = ahead.into_holds();
        if let Some(store) = self.store.as_mut()
            && let Err(e) = store.release(&holds)
        {
            self.store_error(now, &e);
        }
    }

    /// Claims the fires of a batch of starts in the store (one transaction): their store ids,
    /// or none at all without a store.
    fn claim(
        &mut self,
        starts: &[(RunId, &str, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<i64>>, crate::store::StoreError> {
        let Some(store) = self.store.as_mut() else {
            return Ok(vec![None; starts.len()]);
        };
        if starts.is_empty() {
            return Ok(Vec::new());
        }
        let claims: Vec<Claim<'_>> = starts
            .iter()
            .map(|&(_, job, scheduled)| Claim {
                job,
                scheduled,
                manual: false,
            })
            .collect();
        Ok(store.claim(&claims, now)?.into_iter().map(Some).collect())
    }

    /// Records the fires that get no process (missed, coalesced, skipped), in one transaction.
    fn record_decisions(&mut self, events: &[Event], now: DateTime<Utc>) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let decisions: Vec<Decision<'_>> = events
            .iter()
            .filter_map(|event| match event {
                Event::Start { .. } | Event::Replace { .. } => None,
                Event::SkippedMaxInstances { job, scheduled, .. } => Some(Decision {
                    job,
                    scheduled: *scheduled,
                    outcome: Outcome::Skipped {
                        reason: "max_instances".into(),
                    },
                }),
                Event::Missed {
                    job,
                    scheduled,
                    late_by,
                    first,
                    fires,
                } => Some(Decision {
                    job,
                    scheduled: *scheduled,
                    outcome: Outcome::Missed {
                        late_by_ms: late_by.num_milliseconds(),
                        // 0: more than could be counted.
                        fires: fires.unwrap_or(0),
                        first: *first,
                    },
                }),
                Event::Coalesced {
                    job,
                    scheduled,
                    into,
                } => Some(Decision {
                    job,
                    scheduled: *scheduled,
                    outcome: Outcome::Coalesced { into: *into },
                }),
            })
            .collect();
        if decisions.is_empty() {
            return;
        }
        if let Err(e) = store.decide(&decisions, now) {
            self.store_error(now, &e);
        }
    }

    fn store_error(&mut self, now: DateTime<Utc>, error: &crate::store::StoreError) {
        self.log
            .event(now, "store_error", &[("error", error.to_string().into())]);
    }

    /// Tells the planner a run is over (its slot is free) and carries out what follows.
    fn run_ended(&mut self, run: RunId, now: DateTime<Utc>) {
        if let Some(planner) = self.planner.as_mut() {
            let events = planner.finished(run, now);
            if self.stop_deadline.is_none() {
                self.carry_out(events, now);
            }
        }
    }

    /// Logs a decision that starts no run.
    fn report(&mut self, event: Event, now: DateTime<Utc>) {
        match event {
            Event::Start { .. } | Event::Replace { .. } => {}
            Event::SkippedMaxInstances {
                job,
                scheduled,
                running,
            } => self.log.event(
                now,
                "skipped",
                &[
                    ("job", job.into()),
                    ("scheduled", rfc3339(scheduled).into()),
                    ("reason", "max_instances".into()),
                    ("running", running.into()),
                ],
            ),
            Event::Missed {
                job,
                scheduled,
                late_by,
                first,
                fires,
            } => {
                let mut fields: Vec<(&str, Field)> = vec![
                    ("job", job.into()),
                    ("scheduled", rfc3339(scheduled).into()),
                    ("late_by", format!("{}s", late_by.num_seconds()).into()),
                ];
                // One event can stand for a whole gap of fires (downtime, suspend).
                if fires != Some(1) {
                    fields.push(("first", rfc3339(first).into()));
                    fields.push((
                        "fires",
                        fires.map_or_else(|| "uncounted".into(), Field::from),
                    ));
                }
                self.log.event(now, "missed", &fields);
            }
            Event::Coalesced {
                job,
                scheduled,
                into,
            } => self.log.event(
                now,
                "coalesced",
                &[
                    ("job", job.into()),
                    ("scheduled", rfc3339(scheduled).into()),
                    ("into", rfc3339(into).into()),
                ],
            ),
        }
    }

    /// A run's `JOBRUN_RUN_ID`: its row in the store, else this session's id and its number.
    fn run_id(&self, run: RunId, record: Option<i64>) -> String {
        match record {
            Some(id) => id.to_string(),
            None => format!("{}-{run}", self.session),
        }
    }

    /// Builds a run's command; `None` for a job the jobfile no longer has.
    fn prepare(
        &self,
        name: &str,
        scheduled: DateTime<Utc>,
        run_id: &str,
        base: &BaseEnv,
    ) -> Option<Result<Prepared, SpawnError>> {
        let job = self.job(name)?;
        let launch = Launch {
            job,
            scheduled_at: scheduled,
            run_id,
            jobfile: &self.jobfile_path,
            base_dir: &self.base_dir,
        };
        Some(executor::prepare(&launch, base))
    }

    /// Starts the prepared runs of one batch (from several threads when it is large), in
    /// order; `None` for a job the jobfile no longer has.
    fn start_batch(
        &self,
        batch: Vec<(&str, Option<Result<Prepared, SpawnError>>)>,
    ) -> Vec<Option<Spawned>> {
        let mut limits = Vec::with_capacity(batch.len());
        let mut prepared = Vec::with_capacity(batch.len());
        for (name, command) in batch {
            let job = self.job(name).map(|job| (job.timeout, job.kill_after));
            match (command, job) {
                (Some(command), Some(job)) => {
                    limits.push(Some(job));
                    prepared.push(command);
                }
                _ => limits.push(None),
            }
        }
        let mut results = executor::start_all(prepared).into_iter();
        limits
            .into_iter()
            .map(|limits| {
                let (timeout, kill_after) = limits?;
                let result = results.next()?;
                Some(Spawned {
                    result,
                    timeout,
                    kill_after,
                })
            })
            .collect()
    }

    /// Logs how a start went and tracks the run; a run that could not start is over at once.
    #[allow(
        clippy::too_many_arguments,
        reason = "one start's facts, each from a different place; a struct would only rename them"
    )]
    fn record_start(
        &mut self,
        run: RunId,
        name: &str,
        scheduled: DateTime<Utc>,
        now: DateTime<Utc>,
        output: Output,
        record: Option<i64>,
        spawned: Option<Spawned>,
    ) {
        let shown = record.map_or(run, |id| u64::try_from(id).unwrap_or(run));
        let failure = match spawned.map(|s| (s.result, s.timeout, s.kill_after)) {
            Some((Ok(child), timeout, kill_after)) => {
                let pid = child.pid;
                if let (Some(store), Some(id)) = (self.store.as_mut(), record)
                    && let Err(e) = store.started(id, pid.as_raw(), now)
                {
                    self.store_error(now, &e);
                }
                self.log.event(
                    now,
                    "started",
                    &[
                        ("job", name.into()),
                        ("run", shown.into()),
                        ("scheduled", rfc3339(scheduled).into()),
                        ("pid", pid.as_raw().into()),
                    ],
                );
                let limits = Limits {
                    timeout,
                    kill_after,
                };
                let ids = (record, shown);
                self.runs
                    .insert(run, Run::new(name, ids, limits, now, child, output));
                return;
            }
            Some((Err(e), _, _)) => e.to_string(),
            None => "no such job in the jobfile".to_owned(),
        };
        self.log.event(
            now,
            "failed",
            &[
                ("job", name.into()),
                ("run", shown.into()),
                ("error", failure.as_str().into()),
            ],
        );
        if let (Some(store), Some(id)) = (self.store.as_mut(), record)
            && let Err(e) = store.spawn_failed(id, now, &failure)
        {
            self.store_error(now, &e);
        }
        self.last_status = Some(ExitStatus::Code(127));
        self.run_ended(run, now);
    }

    fn job(&self, name: &str) -> Option<&Job> {
        match &self.planner {
            Some(planner) => planner.job(name),
            None => self.jobfile.as_ref().and_then(|j| j.job(name)),
        }
    }

    fn read_pipe(&mut self, run: RunId, stream: Stream, now: DateTime<Utc>) {
        let log = &mut *self.log;
        self.runs.read(
            run,
            stream,
            |job, run, is_stderr, output, line| match output {
                Output::Log => log.output(now, job, run, is_stderr, line),
                Output::PassThrough => pass_through(is_stderr, line),
            },
        );
    }

    /// Reaps every child that has exited; ours finish their run, others (orphans inherited as
    /// PID 1, a job's reparented grandchildren) are just collected.
    fn reap(&mut self, now: DateTime<Utc>) {
        for (pid, status) in executor::reap_any() {
            let Some(id) = self.runs.by_pid(pid) else {
                continue;
            };
            // Whatever the child wrote before exiting is already in its pipes: read it all.
            for stream in [Stream::Stdout, Stream::Stderr] {
                self.read_pipe(id, stream, now);
            }
            let Some(run) = self.runs.remove(id) else {
                continue;
            };
            let duration = now - run.started;
            let mut fields: Vec<(&str, Field)> = vec![
                ("job", run.job.as_str().into()),
                ("run", run.shown.into()),
                ("status", status.into()),
                ("duration", Field::Millis(duration.num_milliseconds())),
            ];
            if run.timed_out {
                fields.push(("timed_out", true.into()));
            }
            // The store first: it is the record of what happened, and the log must not report
            // an end that a crash in between would leave the store without.
            if let (Some(store), Some(record)) = (self.store.as_mut(), run.record) {
                let outcome = state::outcome(status);
                if let Err(e) =
                    store.finished(record, now, &outcome, run.timed_out, &run.tail.text())
                {
                    self.store_error(now, &e);
                }
                self.ended_since_prune += 1;
            }
            self.log.event(now, "finished", &fields);
            if nix::sys::signal::killpg(pid, None).is_ok() {
                // Something the job started is still running in its group; it is ended when
                // jobrun stops, so nothing outlives the scheduler.
                self.log.event(
                    now,
                    "lingering",
                    &[
                        ("job", run.job.as_str().into()),
                        ("run", run.shown.into()),
                        ("pgid", pid.as_raw().into()),
                    ],
                );
                self.runs.linger(pid);
            }
            self.last_status = Some(status);
            self.run_ended(id, now);
            if self.ended_since_prune >= PRUNE_EVERY {
                self.prune(now);
            }
        }
    }

    /// Timeouts (SIGTERM to the group, SIGKILL `kill_after` later) and the end of the grace
    /// period when stopping.
    fn enforce_deadlines(&mut self, now: DateTime<Utc>) {
        let stop_expired = self.stop_deadline.is_some_and(|d| d <= now);
        for (id, job, pid, signal) in self.runs.due_signals(now, stop_expired) {
            if signal == Signal::SIGTERM {
                self.log.event(
                    now,
                    if stop_expired {
                        "stopping_run"
                    } else {
                        "timed_out"
                    },
                    &[("job", job.into()), ("run", id.into())],
                );
            } else {
                self.log
                    .event(now, "killed", &[("job", job.into()), ("run", id.into())]);
            }
            let _ = executor::signal_group(pid, signal);
        }
    }

    fn stop(&mut self, now: DateTime<Utc>) {
        if self.stop_deadline.is_some() {
            // A second signal: do not wait out the grace period.
            self.stop_deadline = Some(now);
            return;
        }
        let grace = self.settings.stop_grace.as_chrono();
        self.stop_deadline = Some(now + grace);
        self.release_ahead(now);
        if self.planner.is_some() {
            self.log.event(
                now,
                "stopping",
                &[
                    ("running", (self.runs.len() as u64).into()),
                    ("grace", self.settings.stop_grace.to_string().into()),
                ],
            );
        } else {
            // `jobrun run`: the user asked to interrupt this one job; pass it on at once.
            self.stop_deadline = Some(now);
        }
    }

    fn reload(&mut self, now: DateTime<Utc>, why: &str) {
        if self.planner.is_none() {
            return;
        }
        match jobfile::load(&self.settings.jobfile, self.settings.local_tz) {
            Ok(jobfile) => {
                let jobs = jobfile.jobs.len() as u64;
                // Prepared with the old jobfile's commands: prepared again from the new one.
                self.release_ahead(now);
                if let Some(store) = self.store.as_mut()
                    && let Err(e) = state::record_schedules(store, &jobfile.jobs)
                {
                    self.log
                        .event(now, "store_error", &[("error", e.to_string().into())]);
                }
                let Some(planner) = self.planner.as_mut() else {
                    return;
                };
                planner.reload(jobfile.jobs, &jobfile.executors, now);
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

    fn prune(&mut self, now: DateTime<Utc>) {
        self.ended_since_prune = 0;
        let retention = self.settings.retention;
        if let Some(store) = self.store.as_mut()
            && let Err(e) = store.prune(&retention, now)
        {
            self.store_error(now, &e);
        }
    }

    /// Ends the process groups that outlived their run, so nothing is left behind.
    fn end_lingering_groups(&mut self) {
        let groups = self.runs.take_lingering();
        for pgid in &groups {
            let _ = executor::signal_group(*pgid, Signal::SIGTERM);
        }
        let _ = std::io::stderr().flush();
    }
}

fn pass_through(is_stderr: bool, line: &str) {
    if is_stderr {
        let _ = writeln!(std::io::stderr(), "{line}");
    } else {
        let _ = writeln!(std::io::stdout(), "{line}");
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
