//! What the loop logs and records about decisions that start no run (skipped, missed,
//! coalesced fires), and store errors.

use chrono::{DateTime, Utc};

use super::{Loop, rfc3339};
use crate::log::Field;
use crate::plan::Event;
use crate::store::{Decision, Outcome, StoreError};

impl Loop<'_> {
    /// Logs a decision that starts no run.
    pub(super) fn report(&mut self, event: Event, now: DateTime<Utc>) {
        match event {
            // Carried out by `carry_out`, not reported.
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
                if let Some(metrics) = &self.metrics {
                    // Uncounted: more than a million.
                    metrics.missed(&job, fires.unwrap_or(1_000_000));
                }
                let mut fields: Vec<(&str, Field)> = vec![
                    ("job", job.as_str().into()),
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

    /// Records the fires that get no process (missed, coalesced, skipped), in one transaction.
    pub(super) fn record_decisions(&mut self, events: &[Event], now: DateTime<Utc>) {
        if self.store.is_none() {
            return;
        }
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
        let Some(store) = self.store_to_write(now) else {
            return;
        };
        if let Err(e) = store.decide(&decisions, now) {
            self.store_error(now, &e);
        }
    }

    pub(super) fn store_error(&mut self, now: DateTime<Utc>, error: &StoreError) {
        // An outage is logged once, when the store says it began (`shared.rs`).
        if error.is_unreachable() {
            return;
        }
        self.log
            .event(now, "store_error", &[("error", error.to_string().into())]);
    }
}
