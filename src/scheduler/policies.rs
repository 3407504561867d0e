//! What the loop carries out for the scheduling policies of issue 11: `overlap = "replace"`
//! (ending a run for a newer fire, and noting which run replaced it), `after` (telling the
//! planner how each scheduled run ended), and at start the fires of event triggers: this
//! boot's `@reboot` fires, and the chained fires that a scheduler killed between an upstream's
//! end and its downstream's start never carried out, replayed from the store's run records.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;

use super::ticket::Ticket;
use super::{Loop, rfc3339};
use crate::executor;
use crate::job::Job;
use crate::plan::{Planner, RunId};
use crate::store::{Boot, Store, StoreError};
use crate::trigger::Trigger;

impl Loop<'_> {
    /// `overlap = "replace"`: ends `run` (SIGTERM to its process group now, SIGKILL its
    /// `kill_after` later) so that the fire at `scheduled` can start, which the planner does
    /// once the run is reaped. A run being spawned is ended once it has started; a run already
    /// over is left alone: the planner hears of its end from the queue of follow-up work.
    pub(super) fn replace(
        &mut self,
        job: &str,
        run: RunId,
        scheduled: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let Some(ending) = self.runs.end_early(run, now) else {
            // Not running yet: ended once its process has started (`spawning.rs`).
            self.replace_on_start(run, scheduled);
            return;
        };
        self.log.event(
            now,
            "replacing",
            &[
                ("job", job.into()),
                ("run", ending.shown.into()),
                ("by_scheduled", rfc3339(scheduled).into()),
            ],
        );
        let _ = executor::signal_group(ending.pid, Signal::SIGTERM);
        // On a shared store the newer fire may be run by another scheduler: the store
        // records the replacement for whoever does.
        if let Some(record) = ending.record
            && let Some(store) = self.store_to_write(now)
            && let Err(e) = store.mark_replacing(record, scheduled)
        {
            self.store_error(now, &e);
        }
        if let Some(record) = ending.record {
            // Forget replacements whose newer fire will not start (it ran out of
            // queue_grace, or a reload dropped it).
            if let Some(planner) = &self.planner {
                let pending: HashSet<RunId> = planner.replacing().collect();
                self.replacing.retain(|old, _| pending.contains(old));
            }
            self.replacing.insert(run, record);
        }
    }

    /// When the run of `ticket` is the newer fire of a replacement, logs it and records it on
    /// the replaced run (`replaced by run N` in its history).
    pub(super) fn note_replacement(&mut self, ticket: &Ticket, now: DateTime<Utc>) {
        let Some(old) = self.planner.as_ref().and_then(|p| p.replaces(ticket.run)) else {
            return;
        };
        let Some(old_record) = self.replacing.remove(&old) else {
            return;
        };
        self.log.event(
            now,
            "replaced",
            &[
                ("job", ticket.job.as_str().into()),
                ("run", old_record.into()),
                ("by", ticket.shown().into()),
            ],
        );
        if let Some(new) = ticket.record
            && let Some(store) = self.store_to_write(now)
            && let Err(e) = store.mark_replaced(old_record, new)
        {
            self.store_error(now, &e);
        }
    }

    /// Tells the planner how a scheduled run of `job` ended (the last attempt of its fire),
    /// for the jobs chained after it: `succeeded` as its job's rules judged it
    /// (`Outcomes::judge`, which the store keeps as `failed_by`), at the instant the store
    /// records (microseconds), so that a replay from the store at the next start sees the
    /// same ends.
    pub(super) fn chain_ended(
        &mut self,
        job: &str,
        succeeded: bool,
        shown: u64,
        now: DateTime<Utc>,
    ) {
        if let Some(planner) = self.planner.as_mut() {
            planner.upstream_ended(job, succeeded, store_instant(now), shown);
        }
    }
}

/// `now` as the store keeps instants, to the microsecond.
fn store_instant(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// The jobs of a jobfile with event triggers, noted before the planner takes the jobs.
pub(super) struct EventJobs {
    reboot: Vec<String>,
    chained: Vec<String>,
    /// The jobs `after` triggers name.
    upstreams: Vec<String>,
}

impl EventJobs {
    pub(super) fn of(jobs: &[Job]) -> EventJobs {
        let named = |trigger: fn(&Trigger) -> bool| {
            jobs.iter()
                .filter(|j| trigger(&j.trigger))
                .map(|j| j.name.clone())
                .collect()
        };
        let upstreams: BTreeSet<String> = jobs
            .iter()
            .flat_map(|j| j.trigger.upstreams())
            .map(|u| u.job.clone())
            .collect();
        EventJobs {
            reboot: named(|t| matches!(t, Trigger::Reboot)),
            chained: named(|t| matches!(t, Trigger::After(_))),
            upstreams: upstreams.into_iter().collect(),
        }
    }

    /// Gives the planner the fires due at start: each `@reboot` job's fire when the boot is
    /// new, or when the job handled no fire of this boot yet (a scheduler killed between
    /// noting the boot and claiming the fire); and the ends of upstream runs after each
    /// chained job's resume point. Returns how many `@reboot` fires and upstream ends it gave.
    pub(super) fn give(
        &self,
        planner: &mut Planner,
        store: &Store,
        boot: Boot,
        resumed: &HashMap<String, DateTime<Utc>>,
    ) -> Result<(u64, u64), StoreError> {
        let mut boot_fires = 0;
        for name in &self.reboot {
            if boot.new || resumed.get(name).is_some_and(|&last| last < boot.at) {
                planner.boot(name, boot.at);
                boot_fires += 1;
            }
        }
        let since = self.chained.iter().filter_map(|n| resumed.get(n)).min();
        let Some(&since) = since else {
            return Ok((boot_fires, 0));
        };
        let upstreams: Vec<&str> = self.upstreams.iter().map(String::as_str).collect();
        let ended = store.ended_after(&upstreams, since)?;
        for record in &ended {
            let Some(at) = record.ended else {
                continue;
            };
            let run = u64::try_from(record.id).unwrap_or_default();
            planner.upstream_ended(&record.job, record.succeeded(), at, run);
        }
        Ok((boot_fires, ended.len() as u64))
    }
}

/// The boot jobrun starts in, as the store has it; without a boot id (no `/proc`), every
/// start counts as a new boot, as under Vixie cron, which runs `@reboot` jobs whenever it
/// starts.
pub(super) fn note_boot(
    store: &mut Store,
    boot_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Boot, StoreError> {
    match boot_id {
        Some(id) => store.note_boot(id, now),
        None => Ok(Boot { at: now, new: true }),
    }
}
