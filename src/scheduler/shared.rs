//! What a scheduler does because others share its store (PostgreSQL; on SQLite none of this
//! happens): it tells them which jobfile it runs, and acts on what its heartbeat thread
//! learnt about them (`store::postgres::lease`):
//! - a scheduler whose lease ran out: its running runs were recorded interrupted (logged
//!   here, one line each), and the fires it had claimed without starting are this one's:
//!   run, if still within the job's `misfire_grace` and the job is in this jobfile, else
//!   recorded as missed;
//! - the database unreachable: logged once when it goes (`store_unreachable`) and once when it
//!   is back (`store_back`); the fires not claimed meanwhile then run if still within grace;
//! - jobfiles that differ: logged once per change (`jobfiles_differ`, then `jobfiles_agree`).
//!   A job only some hosts know is run by those alone: claims are by job name.

use chrono::{DateTime, TimeDelta, Utc};

use super::Loop;
use crate::store::postgres::{Handover, Notice};
use crate::store::{Decision, Outcome};

/// The jobfile's fingerprint as the schedulers compare it: FNV-1a (64 bits) of its bytes, in
/// hex. Not a defence against anything, only a cheap "same file?"; stable across builds,
/// unlike std's hasher.
pub fn jobfile_hash(path: &std::path::Path) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return String::new();
    };
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Fires not claimed for want of the database, at most this many (a week of a per-second
/// job); older ones beyond are dropped, as missed fires beyond a bound are counted, not
/// listed.
const MAX_UNCLAIMED: usize = 604_800;

/// The loop's memory of the shared store.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// Fires that could not be claimed while the database was unreachable, oldest first: run
    /// when it is back if still within grace (`store_back`).
    unclaimed: Vec<(String, DateTime<Utc>, u32)>,
    /// Claimed runs waiting for the store to admit them, oldest first (`limits.rs`).
    pub(super) waiting: Vec<super::limits::Waiting>,
}

impl Loop<'_> {
    /// A fire not claimed because the database is unreachable.
    pub(super) fn unclaimed(&mut self, job: String, scheduled: DateTime<Utc>, attempt: u32) {
        let unclaimed = &mut self.shared.unclaimed;
        if unclaimed.len() >= MAX_UNCLAIMED {
            unclaimed.remove(0);
        }
        unclaimed.push((job, scheduled, attempt));
    }

    /// The database is back: each fire not claimed meanwhile is run now if still within its
    /// job's grace (only the newest of a job with `coalesce`), else recorded as missed; its
    /// claim decides, as always, so a fire another scheduler ran meanwhile is not run twice.
    fn store_back(&mut self, now: DateTime<Utc>) {
        let unclaimed = std::mem::take(&mut self.shared.unclaimed);
        let mut newest: std::collections::HashMap<String, DateTime<Utc>> =
            std::collections::HashMap::new();
        for (job, scheduled, _) in &unclaimed {
            let at = newest.entry(job.clone()).or_insert(*scheduled);
            *at = (*at).max(*scheduled);
        }
        for (job, scheduled, attempt) in unclaimed {
            let coalesced = self
                .job(&job)
                .is_some_and(|j| j.coalesce && newest.get(&job) != Some(&scheduled));
            if coalesced {
                continue;
            }
            self.take_over(
                Handover {
                    job,
                    scheduled,
                    attempt,
                },
                now,
                "the store was unreachable at its instant",
            );
        }
    }

    /// Tells the schedulers sharing the store which jobfile this one runs now.
    pub(super) fn announce_jobfile(&mut self, now: DateTime<Utc>) {
        let hash = jobfile_hash(&self.settings.jobfile);
        if let Some(store) = self.store_to_write(now)
            && let Err(e) = store.set_jobfile_hash(&hash)
        {
            self.store_error(now, &e);
        }
    }

    /// Acts on what the heartbeat thread found since the last call.
    pub(super) fn shared_notices(&mut self, now: DateTime<Utc>) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        for notice in store.take_notices() {
            match notice {
                Notice::Settled {
                    host,
                    pid,
                    interrupted,
                    handed_over,
                } => {
                    self.log.event(
                        now,
                        "lease_expired",
                        &[
                            ("host", host.into()),
                            ("pid", pid.into()),
                            ("interrupted", (interrupted.len() as u64).into()),
                            ("taken_over", (handed_over.len() as u64).into()),
                        ],
                    );
                    for (run, job) in interrupted {
                        self.log.event(
                            now,
                            "interrupted",
                            &[
                                ("job", job.into()),
                                ("run", run.into()),
                                ("note", "its scheduler's lease ran out".into()),
                            ],
                        );
                    }
                    for fire in handed_over {
                        self.take_over(fire, now, "its scheduler died before starting it");
                    }
                }
                Notice::Unreachable { error } => {
                    self.log
                        .event(now, "store_unreachable", &[("error", error.into())]);
                }
                Notice::Back { after, kept } => {
                    self.log.event(
                        now,
                        "store_back",
                        &[
                            ("after", format!("{:.1}s", after.as_secs_f64()).into()),
                            ("kept_writes", (kept as u64).into()),
                            ("unclaimed", (self.shared.unclaimed.len() as u64).into()),
                        ],
                    );
                    self.store_back(now);
                    self.admit_waiting(now);
                }
                Notice::SlotsFreed => self.admit_waiting(now),
                Notice::ReplaceAsked { runs } => self.replace_for_others(runs, now),
                Notice::Jobfiles { differing } if differing.is_empty() => {
                    self.log.event(now, "jobfiles_agree", &[]);
                }
                Notice::Jobfiles { differing } => {
                    let others: Vec<String> = differing
                        .iter()
                        .map(|s| format!("{} pid {} ({})", s.host, s.pid, s.jobfile_hash))
                        .collect();
                    self.log.event(
                        now,
                        "jobfiles_differ",
                        &[
                            ("mine", jobfile_hash(&self.settings.jobfile).into()),
                            ("others", others.join(", ").into()),
                        ],
                    );
                }
            }
        }
    }

    /// A fire nobody started (its scheduler died after claiming it, or the database was away
    /// at its instant): run here if the job is ours and the fire still within its grace (at
    /// its instant, for one claimed ahead of it), else recorded as missed.
    fn take_over(&mut self, fire: Handover, now: DateTime<Utc>, why: &str) {
        let grace = self
            .job(&fire.job)
            .map(|j| TimeDelta::from_std(j.misfire_grace.as_std()).unwrap_or(TimeDelta::MAX));
        let late = now - fire.scheduled;
        if let (Some(grace), Some(planner)) = (grace, self.planner.as_mut())
            && late <= grace
        {
            planner.retry_at(
                &fire.job,
                fire.scheduled,
                fire.attempt,
                fire.scheduled.max(now),
            );
            self.log.event(
                now,
                "taken_over",
                &[
                    ("job", fire.job.as_str().into()),
                    ("scheduled", fire.scheduled.to_rfc3339().into()),
                    ("reason", why.into()),
                ],
            );
            return;
        }
        let decision = Decision {
            job: &fire.job,
            scheduled: fire.scheduled,
            outcome: Outcome::Missed {
                late_by_ms: late.num_milliseconds(),
                fires: 1,
                first: fire.scheduled,
            },
        };
        if let Some(store) = self.store_to_write(now)
            && let Err(e) = store.decide(&[decision], now)
        {
            self.store_error(now, &e);
        }
        self.log.event(
            now,
            "missed",
            &[
                ("job", fire.job.as_str().into()),
                ("scheduled", fire.scheduled.to_rfc3339().into()),
                ("reason", why.into()),
            ],
        );
    }
}
