//! Starting runs: the planner's starts are claimed in the store, prepared into
//! [`Ticket`]s (at their instant, or shortly before it with `ahead.rs`) and handed to the
//! spawner (`spawning.rs`); each start is logged and recorded when its process comes back.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::ahead::{Ahead, Ready};
use super::runs::Run;
use super::ticket::{Limits, Output, Role, Ticket};
use super::{Loop, rfc3339};
use crate::executor::{self, BaseEnv, ExitStatus, Launch, Spawned};
use crate::log::Field;
use crate::ping::{self, Kind};
use crate::plan::{Event, RunId};
use crate::store::{Claim, Hold, RunStep, StoreError};

/// What claiming a fire gave.
#[derive(Debug, Clone, Copy)]
enum Claimed {
    /// Ours to run: its row in the store (none without a store).
    Record(Option<i64>),
    /// Another scheduler sharing the store had it first.
    Lost,
}

impl Loop<'_> {
    /// Carries out the planner's events: starts its runs and reports the rest, in order.
    pub(super) fn carry_out(&mut self, events: Vec<Event>, now: DateTime<Utc>) {
        if let (Some(metrics), Some(planner)) = (&self.metrics, &self.planner) {
            for event in &events {
                let job = event_job(event);
                metrics.next_fire(job, planner.next_fire(job));
            }
        }
        // Each start takes the run prepared for it ahead of time, if there is one.
        let mut tickets: Vec<Option<Ticket>> = Vec::new();
        for event in &events {
            if let Event::Start {
                run,
                job,
                scheduled,
                ..
            } = event
            {
                let ready = self.ahead.as_mut().and_then(|a| a.take(job, *scheduled));
                tickets.push(ready.map(|ready| Ticket {
                    run: *run,
                    ..ready.ticket
                }));
            }
        }
        // Runs prepared for an instant that has come and not started are given back before
        // anything else is recorded for their fires (a skip, say).
        if self.ahead.as_ref().is_some_and(|a| a.at <= now) {
            self.release_ahead(now);
        }
        self.record_decisions(&events, now);
        // The rest are claimed before any process starts: once a fire is claimed, no later
        // scheduler runs it again, even if this one is killed the next instant.
        let fresh: Vec<(&str, DateTime<Utc>, u32)> = events
            .iter()
            .filter_map(|event| match event {
                Event::Start {
                    job,
                    scheduled,
                    attempt,
                    ..
                } => Some((job.as_str(), *scheduled, *attempt)),
                _ => None,
            })
            .zip(&tickets)
            .filter(|(_, ticket)| ticket.is_none())
            .map(|(start, _)| start)
            .collect();
        let claimed = self.claim(&fresh, now);
        let mut records = match &claimed {
            Ok(records) => records.clone().into_iter(),
            Err(_) => Vec::new().into_iter(),
        };
        // Runs whose fire another scheduler sharing the store claimed first.
        let mut lost = Vec::new();
        let mut starts = events.iter().filter_map(|event| match event {
            Event::Start {
                run,
                job,
                scheduled,
                attempt,
            } => Some((*run, job.as_str(), *scheduled, *attempt)),
            _ => None,
        });
        for ticket in &mut tickets {
            let Some((run, job, scheduled, attempt)) = starts.next() else {
                break;
            };
            if ticket.is_some() || claimed.is_err() {
                continue;
            }
            if !fresh.is_empty() {
                let record = match records.next() {
                    Some(Claimed::Lost) => {
                        lost.push(run);
                        continue;
                    }
                    Some(Claimed::Record(record)) => record,
                    None => None,
                };
                let base = &self.base_env;
                let mut made = self.prepare(run, job, scheduled, record, base, Output::Log);
                made.set_attempt(attempt);
                *ticket = Some(made);
            }
        }
        // On a shared store, the limits across schedulers have the last word: runs not
        // admitted yet wait in `limits.rs`.
        let held_back = self.admit_tickets(&mut tickets, now);
        // Each claimed run is handed to the spawner (`spawning.rs`) and started when its
        // process comes back; the loop goes on meanwhile.
        let mut tickets = tickets.into_iter();
        for event in events {
            match event {
                Event::Start {
                    run,
                    job,
                    scheduled,
                    attempt,
                } => {
                    match (tickets.next().flatten(), &claimed) {
                        (Some(ticket), _) => self.launch(ticket, now),
                        (None, _) if held_back.contains(&run) => {}
                        // The database is away: not started, kept to catch up when it is
                        // back (`shared.rs`), its slot freed; the outage is logged once.
                        (None, Err(None)) => {
                            self.unclaimed(job, scheduled, attempt);
                            self.freed.push_back(run);
                        }
                        // The claim failed: reported, not started, and its slot freed.
                        (None, Err(Some(error))) => {
                            self.log.event(
                                now,
                                "failed",
                                &[("job", job.into()), ("error", error.as_str().into())],
                            );
                            self.freed.push_back(run);
                        }
                        // Another scheduler runs it: nothing to log or record here.
                        (None, Ok(_)) if lost.contains(&run) => self.freed.push_back(run),
                        (None, Ok(_)) => {}
                    }
                }
                Event::Replace {
                    job,
                    run,
                    scheduled,
                } => self.replace(&job, run, scheduled, now),
                other => self.report(other, now),
            }
        }
    }

    /// Starts runs prepared by hand (`jobrun run`).
    pub(super) fn start_tickets(&mut self, tickets: Vec<Ticket>, now: DateTime<Utc>) {
        for ticket in tickets {
            self.launch(ticket, now);
        }
    }

    /// Prepares the runs of the next instant ahead of it (see `ahead.rs`), when that is close
    /// enough; otherwise notes when to.
    pub(super) fn look_ahead(&mut self, now: DateTime<Utc>) {
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
                attempt: 1,
                attempts: self.attempts_of(job),
            })
            .collect();
        let held = self
            .store_to_write(now)
            .map(|store| store.hold_won(&claims, now));
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
        let base = &self.base_env;
        // A fire another scheduler holds is not prepared; at its instant its claim is lost.
        let runs: Vec<_> = forecast
            .into_iter()
            .zip(holds)
            .filter_map(|(fire, hold)| Some((fire, hold?)))
            .map(|((job, scheduled), hold)| {
                // The planner numbers the run at the instant.
                let mut ticket = self.prepare(0, &job, scheduled, Some(hold.id), base, Output::Log);
                ticket.set_attempt(1);
                ((job, scheduled), Ready { hold, ticket })
            })
            .collect();
        self.lead.observe(runs.len(), began.elapsed());
        self.ahead = Some(Ahead::new(at, runs));
    }

    /// Gives back the claims of the runs prepared ahead that did not start.
    pub(super) fn release_ahead(&mut self, now: DateTime<Utc>) {
        let Some(ahead) = self.ahead.take() else {
            return;
        };
        let holds: Vec<Hold> = ahead.into_holds();
        if let Some(store) = self.store_to_write(now)
            && let Err(e) = store.release(&holds)
        {
            self.store_error(now, &e);
        }
    }

    /// Claims the fires of a batch of starts in the store (one transaction): their store ids,
    /// none at all without a store, or lost to another scheduler sharing the store; the error
    /// as the log reports it, none when the store is unreachable (an outage, logged once).
    fn claim(
        &mut self,
        starts: &[(&str, DateTime<Utc>, u32)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Claimed>, Option<String>> {
        if self.store.is_none() {
            return Ok(vec![Claimed::Record(None); starts.len()]);
        }
        if starts.is_empty() {
            return Ok(Vec::new());
        }
        let claims: Vec<Claim<'_>> = starts
            .iter()
            .map(|&(job, scheduled, attempt)| Claim {
                job,
                scheduled,
                manual: false,
                attempt,
                attempts: self.attempts_of(job),
            })
            .collect();
        // The turn's ends so far (runs whose slots these starts take) go in the same
        // transaction; should it be refused, they are written on their own first, so that
        // each refusal is reported as it would be alone.
        let steps = std::mem::take(&mut self.journal);
        // (Not on a shared store, where a claim may be lost to another scheduler.)
        if !steps.is_empty()
            && let Some(store) = self.store.as_mut()
            && !store.is_shared()
            && let Ok(ids) = store.record_runs_and_claim(&steps, &claims, now)
        {
            return Ok(ids
                .into_iter()
                .map(|id| Claimed::Record(Some(id)))
                .collect());
        }
        self.journal = steps;
        let Some(store) = self.store_to_write(now) else {
            return Ok(vec![Claimed::Record(None); starts.len()]);
        };
        match store.claim_won(&claims, now) {
            Ok(ids) => Ok(ids
                .into_iter()
                .map(|id| id.map_or(Claimed::Lost, |id| Claimed::Record(Some(id))))
                .collect()),
            Err(e) if e.is_unreachable() => Err(None),
            Err(e) => Err(Some(claim_failed(&e))),
        }
    }

    /// How many attempts a fire of this job may take (1 for a job the jobfile does not have).
    pub(super) fn attempts_of(&self, job: &str) -> u32 {
        self.job(job).map_or(1, |j| j.outcomes.attempts())
    }

    /// A run's `JOBRUN_RUN_ID`: its row in the store, else this session's id and its number.
    pub(super) fn run_id(&self, run: RunId, record: Option<i64>) -> String {
        match record {
            Some(id) => id.to_string(),
            None => format!("{}-{run}", self.session),
        }
    }

    /// Builds a run: its command and limits from the job (looked up once, here), or no
    /// command for a job the jobfile no longer has.
    pub(super) fn prepare(
        &self,
        run: RunId,
        name: &str,
        scheduled: DateTime<Utc>,
        record: Option<i64>,
        base: &BaseEnv,
        output: Output,
    ) -> Ticket {
        let mut ticket = Ticket {
            run,
            job: name.to_owned(),
            scheduled,
            record,
            output,
            attempt: 1,
            attempts: 1,
            limits: Limits::default(),
            outcomes: Arc::default(),
            command: None,
            role: Role::Job,
            rid: None,
            hooked: None,
        };
        if let Some(job) = self.job(name) {
            let run_id = self.run_id(run, record);
            let after = self.planner.as_ref().and_then(|p| p.after_run(run));
            let after = after.map(|id| id.to_string());
            let launch = Launch {
                job,
                scheduled_at: scheduled,
                run_id: &run_id,
                jobfile: &self.jobfile_path,
                base_dir: &self.base_dir,
                after_run_id: after.as_deref(),
            };
            ticket.limits = Limits {
                timeout: job.timeout,
                kill_after: job.kill_after,
            };
            ticket.attempts = job.outcomes.attempts();
            ticket.outcomes = Arc::clone(&job.outcomes);
            ticket.hooked = job.outcomes.has_hooks().then(|| Box::new(job.clone()));
            ticket.command = Some(executor::prepare(&launch, base));
        }
        ticket
    }

    /// Logs how a start went and tracks the run; a run that could not start is over at once.
    pub(super) fn start(
        &mut self,
        mut ticket: Ticket,
        spawned: Option<Spawned>,
        now: DateTime<Utc>,
    ) {
        if self.settings.no_spawn {
            return self.record_without_process(ticket, now);
        }
        let shown = ticket.shown();
        self.note_replacement(&ticket, now);
        if ticket.outcomes.ping_url.is_some() {
            ticket.rid = Some(ping::new_rid());
        }
        let failure = match spawned {
            Some(Ok(child)) => {
                let pid = child.pid;
                if let Some(id) = ticket.record {
                    self.journal(RunStep::Started {
                        id,
                        pid: pid.as_raw(),
                        at: now,
                    });
                }
                let mut fields: Vec<(&str, Field)> = vec![
                    ("job", ticket.job.as_str().into()),
                    ("run", shown.into()),
                    ("scheduled", rfc3339(ticket.scheduled).into()),
                    ("pid", pid.as_raw().into()),
                ];
                if ticket.attempts > 1 {
                    fields.push(("attempt", ticket.attempt_text().into()));
                }
                self.log.event(now, "started", &fields);
                if let Some(metrics) = &self.metrics {
                    metrics.run_started(&ticket.job, now - ticket.scheduled);
                }
                self.ping(&ticket, Kind::Start, "", now);
                let run = ticket.run;
                self.runs.insert(run, Run::new(ticket, now, child));
                return;
            }
            Some(Err(e)) => e.to_string(),
            None => "no such job in the jobfile".to_owned(),
        };
        self.log.event(
            now,
            "failed",
            &[
                ("job", ticket.job.as_str().into()),
                ("run", shown.into()),
                ("error", failure.as_str().into()),
            ],
        );
        if let Some(id) = ticket.record
            && let Some(store) = self.store_to_write(now)
            && let Err(e) = store.spawn_failed(id, now, &failure)
        {
            self.store_error(now, &e);
        }
        self.last_status = Some(ExitStatus::Code(127));
        self.last_failed = true;
        self.ping(&ticket, Kind::Fail, &failure, now);
        if let Some(metrics) = &self.metrics {
            metrics.run_failed_to_start(&ticket.job);
        }
        // A run that could not start has failed, for the jobs chained after it.
        self.chain_ended(&ticket.job, false, shown, now);
        self.freed.push_back(ticket.run);
    }
}

/// The job an event is about.
fn event_job(event: &Event) -> &str {
    match event {
        Event::Start { job, .. }
        | Event::SkippedMaxInstances { job, .. }
        | Event::Missed { job, .. }
        | Event::Coalesced { job, .. }
        | Event::Replace { job, .. } => job,
    }
}

fn claim_failed(error: &StoreError) -> String {
    format!("cannot record the run in the state store: {error}")
}
