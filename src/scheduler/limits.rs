//! Limits across hosts: where several schedulers share a PostgreSQL store, a claimed run
//! starts only once the store admits it under its job's `max_instances` and its pool's
//! `workers`, counted over all of them (`store::postgres::admit`). The planner's own counts
//! hold for this scheduler's runs and decide first; the store's word is the last.
//!
//! A run the store does not admit yet waits here, prepared and claimed, still counted by the
//! planner (it holds its place in its pool and job, as a queued run does on one host), and is
//! asked for again each time a slot frees on any host (`Notice::SlotsFreed`) or the database
//! is back after an outage. A run the store records as skipped, coalesced or missed frees its
//! place at once. On a stop, runs still waiting are recorded `interrupted`: their fires were
//! claimed, so no other scheduler would run them.
//!
//! `overlap = "replace"` across hosts: the store marks the oldest run of the job as asked to
//! end; its scheduler is told (`Notice::ReplaceAsked`) and ends it as it ends a run of its own
//! for a newer fire (SIGTERM to its group, SIGKILL `kill_after` later).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::ticket::Ticket;
use super::{Loop, rfc3339};
use crate::log::Field;
use crate::plan::RunId;
use crate::store::{Admission, Outcome, Verdict};

/// What the log and the history say of a fire still waiting when jobrun stops.
const STOPPED_WAITING: &str = "jobrun stopped while it waited for a slot";

/// A run the store has not admitted yet, and what it asked with.
#[derive(Debug)]
pub(super) struct Waiting {
    ticket: Ticket,
    limits: Limits,
}

/// What a run is admitted under, owned (the jobfile may be reloaded while it waits).
#[derive(Debug, Clone)]
struct Limits {
    max_instances: u32,
    overlap: crate::job::Overlap,
    pool: String,
    workers: u32,
    expires: Option<DateTime<Utc>>,
}

impl Loop<'_> {
    /// Asks the shared store to admit the prepared runs of a batch (those with a store row),
    /// oldest first as given; takes out of `tickets` every run it does not admit now, and
    /// returns their planner ids.
    pub(super) fn admit_tickets(
        &mut self,
        tickets: &mut [Option<Ticket>],
        now: DateTime<Utc>,
    ) -> HashSet<RunId> {
        let mut held_back = HashSet::new();
        if !self.store.as_ref().is_some_and(|s| s.is_shared()) {
            return held_back;
        }
        let mut places = HashMap::new();
        let mut asking = Vec::new();
        for (place, slot) in tickets.iter_mut().enumerate() {
            if let Some(ticket) = slot.take_if(|t| t.record.is_some()) {
                places.insert(ticket.run, place);
                held_back.insert(ticket.run);
                asking.push(Waiting {
                    limits: self.limits_of(&ticket),
                    ticket,
                });
            }
        }
        if asking.is_empty() {
            return held_back;
        }
        // Admitted runs go back to their places.
        for ticket in self.ask(asking, now, true) {
            if let Some(&place) = places.get(&ticket.run) {
                held_back.remove(&ticket.run);
                tickets[place] = Some(ticket);
            }
        }
        held_back
    }

    /// Asks again for the runs waiting for a slot (a slot freed somewhere, or the database is
    /// back), and starts those admitted now.
    pub(super) fn admit_waiting(&mut self, now: DateTime<Utc>) {
        let waiting = std::mem::take(&mut self.shared.waiting);
        if waiting.is_empty() {
            return;
        }
        let admitted = self.ask(waiting, now, false);
        self.start_tickets(admitted, now);
    }

    /// On a stop: the runs still waiting will not start; their claims are recorded
    /// `interrupted` (no other scheduler would run a fire claimed here).
    pub(super) fn drop_waiting(&mut self, now: DateTime<Utc>) {
        let waiting = std::mem::take(&mut self.shared.waiting);
        self.note_waiting();
        for Waiting { ticket, .. } in waiting {
            if let Some(id) = ticket.record
                && let Some(store) = self.store_to_write(now)
                && let Err(e) = store.mark_interrupted(id, now, STOPPED_WAITING)
            {
                self.store_error(now, &e);
            }
            self.log.event(
                now,
                "interrupted",
                &[
                    ("job", ticket.job.as_str().into()),
                    ("run", ticket.shown().into()),
                    ("note", STOPPED_WAITING.into()),
                ],
            );
            self.freed.push_back(ticket.run);
        }
    }

    /// Ends the runs of this scheduler that other schedulers' newer fires wait to replace
    /// (each run's store row, job, and the fire, in microseconds, waiting for it), as its own
    /// newer fires would (`policies.rs`): at once, or once a run being spawned has started.
    pub(super) fn replace_for_others(
        &mut self,
        asked: Vec<(i64, String, i64)>,
        now: DateTime<Utc>,
    ) {
        for (record, job, fire) in asked {
            let run = self
                .runs
                .by_record(record)
                .or_else(|| self.spawning.by_record(record));
            if let (Some(run), Some(fire)) = (run, DateTime::from_timestamp_micros(fire)) {
                self.replace(&job, run, fire, now);
            }
        }
    }

    /// Asks the store about `asking`, in order; returns the runs admitted, in order. The
    /// others are dropped (decided: logged and their places freed) or kept waiting (logged
    /// the first time, `first`).
    fn ask(&mut self, asking: Vec<Waiting>, now: DateTime<Utc>, first: bool) -> Vec<Ticket> {
        let admissions: Vec<Admission<'_>> = asking
            .iter()
            .map(|w| Admission {
                id: w.ticket.record.unwrap_or_default(),
                job: &w.ticket.job,
                scheduled: w.ticket.scheduled,
                max_instances: w.limits.max_instances,
                overlap: w.limits.overlap,
                pool: &w.limits.pool,
                workers: w.limits.workers,
                expires: w.limits.expires,
            })
            .collect();
        // Told as waiting before asking: a slot that frees while the store decides must not
        // go unheard (the flag is set right after, from what still waits).
        if let Some(store) = self.store.as_mut() {
            store.set_waiting(true);
        }
        let verdicts = match self.store_to_write(now).map(|s| s.admit(&admissions, now)) {
            Some(Ok(verdicts)) => verdicts,
            Some(Err(e)) => {
                // Asked again when a slot frees or the database is back.
                self.store_error(now, &e);
                Vec::new()
            }
            None => Vec::new(),
        };
        drop(admissions);
        let mut verdicts = verdicts.into_iter();
        let mut admitted = Vec::new();
        for waiting in asking {
            match verdicts.next() {
                Some(Verdict::Admitted) => admitted.push(waiting.ticket),
                Some(Verdict::Lost) => self.freed.push_back(waiting.ticket.run),
                Some(Verdict::Decided(outcome)) => self.decided(&waiting.ticket, &outcome, now),
                Some(Verdict::Waiting { reason }) => {
                    if first {
                        self.log.event(
                            now,
                            "waiting",
                            &[
                                ("job", waiting.ticket.job.as_str().into()),
                                ("run", waiting.ticket.shown().into()),
                                ("scheduled", rfc3339(waiting.ticket.scheduled).into()),
                                ("reason", reason.into()),
                            ],
                        );
                    }
                    self.shared.waiting.push(waiting);
                }
                None => self.shared.waiting.push(waiting),
            }
        }
        self.note_waiting();
        admitted
    }

    /// Logs a run the store recorded as getting no process, and frees its place.
    fn decided(&mut self, ticket: &Ticket, outcome: &Outcome, now: DateTime<Utc>) {
        let mut fields: Vec<(&str, Field)> = vec![
            ("job", ticket.job.as_str().into()),
            ("scheduled", rfc3339(ticket.scheduled).into()),
        ];
        let event = match outcome {
            Outcome::Skipped { reason } => {
                fields.push(("reason", reason.as_str().into()));
                fields.push(("across", "schedulers".into()));
                "skipped"
            }
            Outcome::Coalesced { into } => {
                fields.push(("into", rfc3339(*into).into()));
                "coalesced"
            }
            Outcome::Missed { late_by_ms, .. } => {
                fields.push(("late_by", format!("{}s", late_by_ms / 1000).into()));
                fields.push(("reason", "queue_grace".into()));
                "missed"
            }
            _ => "decided",
        };
        self.log.event(now, event, &fields);
        self.freed.push_back(ticket.run);
    }

    /// Tells the store whether runs wait here, so that freed slots wake this scheduler only
    /// then.
    fn note_waiting(&mut self) {
        let waiting = !self.shared.waiting.is_empty();
        if let Some(store) = self.store.as_mut() {
            store.set_waiting(waiting);
        }
    }

    /// What a run of `ticket`'s job is admitted under, from the jobfile now.
    fn limits_of(&self, ticket: &Ticket) -> Limits {
        let job = self.job(&ticket.job);
        let pool = job.map_or_else(String::new, |j| j.executor.clone());
        let workers = match &self.planner {
            Some(planner) => planner.workers(&pool),
            None => u32::MAX,
        };
        Limits {
            max_instances: job.map_or(u32::MAX, |j| j.max_instances),
            overlap: job.map(|j| j.overlap).unwrap_or_default(),
            workers,
            expires: job
                .and_then(|j| j.queue_grace)
                .filter(|_| ticket.attempt == 1)
                .map(|grace| ticket.scheduled + grace.as_chrono()),
            pool,
        }
    }
}
