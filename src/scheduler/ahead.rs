//! Runs prepared ahead of their instant.
//!
//! Starting a run takes more than its process: its fire is claimed in the state store first
//! (0.1–0.2 ms for one, tens of milliseconds for a thousand) and its command is built (the
//! working directory checked, the program found, the environment assembled). The loop does
//! both shortly before the instant, for the runs the planner forecasts
//! ([`Planner::starts_at`](crate::plan::Planner::starts_at)), so that at the instant only the
//! processes are left to start.
//!
//! The planner stays the judge: at the instant, a start it decides takes its prepared run if
//! there is one, and a prepared run it does not start (the job was skipped, its pool filled,
//! the scheduler is stopping, the jobfile changed) is released, which deletes its claim and puts
//! the job's last fire back. If jobrun dies between the claim and the instant, the next start
//! finds the claim unstarted and records it as interrupted, as it does for a run killed
//! between its claim and its spawn.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::ticket::Ticket;
use crate::store::Hold;

/// The runs prepared for one instant, by (job, nominal fire).
#[derive(Debug)]
pub(super) struct Ahead {
    pub(super) at: DateTime<Utc>,
    runs: HashMap<(String, DateTime<Utc>), Ready>,
}

/// One prepared run: its claim, and the run itself (its planner id still unknown).
#[derive(Debug)]
pub(super) struct Ready {
    pub(super) hold: Hold,
    pub(super) ticket: Ticket,
}

impl Ahead {
    pub(super) fn new(
        at: DateTime<Utc>,
        runs: impl IntoIterator<Item = ((String, DateTime<Utc>), Ready)>,
    ) -> Ahead {
        Ahead {
            at,
            runs: runs.into_iter().collect(),
        }
    }

    /// The run prepared for this fire, if any; it is no longer held here.
    pub(super) fn take(&mut self, job: &str, scheduled: DateTime<Utc>) -> Option<Ready> {
        self.runs.remove(&(job.to_owned(), scheduled))
    }

    /// The claims of the runs not taken, to be released.
    pub(super) fn into_holds(self) -> Vec<Hold> {
        self.runs.into_values().map(|ready| ready.hold).collect()
    }
}

/// How long before an instant its runs are prepared: twice what preparing them is expected to
/// take, from the cost per run measured so far, plus a margin for the wakeup itself.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lead {
    /// Seconds per prepared run, smoothed.
    per_run: f64,
}

impl Lead {
    /// At least this much ahead.
    const MARGIN: TimeDelta = TimeDelta::milliseconds(2);
    /// At most this much ahead: a claim is not made further from its instant than this.
    const MAX: TimeDelta = TimeDelta::seconds(1);
    /// The first estimate per run, before anything is measured: a claim of one fire on this
    /// kind of machine takes 0.1–0.2 ms in situ.
    const FIRST_GUESS: f64 = 0.000_2;

    pub(super) fn new() -> Lead {
        Lead {
            per_run: Lead::FIRST_GUESS,
        }
    }

    pub(super) fn for_runs(&self, runs: usize) -> TimeDelta {
        let micros = (2.0 * self.per_run * runs as f64 * 1e6).min(1e9) as i64;
        (Lead::MARGIN + TimeDelta::microseconds(micros)).min(Lead::MAX)
    }

    /// Preparing `runs` runs took `took`.
    pub(super) fn observe(&mut self, runs: usize, took: std::time::Duration) {
        if runs == 0 {
            return;
        }
        let sample = took.as_secs_f64() / runs as f64;
        // A slow sample counts at once (the next lead must cover it); a fast one only slowly.
        self.per_run = if sample > self.per_run {
            sample
        } else {
            0.8 * self.per_run + 0.2 * sample
        };
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_lead_grows_with_the_batch_and_stays_between_its_bounds() {
        let lead = Lead::new();
        assert_eq!(lead.for_runs(0), TimeDelta::milliseconds(2));
        assert_eq!(lead.for_runs(1), TimeDelta::microseconds(2_400));
        assert_eq!(lead.for_runs(1000), TimeDelta::milliseconds(402));
        assert_eq!(lead.for_runs(1_000_000), TimeDelta::seconds(1));
    }

    #[test]
    fn a_slow_preparation_raises_the_lead_at_once_and_fast_ones_lower_it_gradually() {
        let mut lead = Lead::new();
        lead.observe(10, Duration::from_millis(10));
        assert_eq!(lead.for_runs(1), TimeDelta::microseconds(4_000));
        lead.observe(10, Duration::from_millis(0));
        assert_eq!(lead.for_runs(1), TimeDelta::microseconds(3_600));
        for _ in 0..100 {
            lead.observe(1, Duration::from_micros(50));
        }
        let settled = lead.for_runs(1000);
        assert!(
            settled > TimeDelta::milliseconds(100) && settled < TimeDelta::milliseconds(103),
            "{settled}"
        );
        lead.observe(0, Duration::from_secs(5));
        assert_eq!(lead.for_runs(1000), settled);
    }
}
