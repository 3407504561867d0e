//! Retries (issue 10): a failed run of a job with `retries = N` is followed by a new attempt of
//! the same fire, `retry_delay` after it ended, the wait doubling with each attempt up to
//! `retry_delay_max`, less a random quarter of it so that jobs that failed together do not all
//! retry in the same instant.
//!
//! A retry waits among the jitter delays and goes through the same start as a fire, with two
//! differences: it is never missed (it runs late rather than not at all: a retry was asked
//! for), and it never overlaps the job's runs beyond `max_instances`: while that many are
//! going, it waits for one to end instead of being skipped.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Pending, Planner};
#[cfg(test)]
use crate::duration::Duration;
use crate::outcomes::Outcomes;

impl Planner {
    /// A run of `job` for the fire `scheduled`, attempt `failed`, has failed at `now`: the next
    /// attempt's number and when it is due, now waiting in the planner, or `None` when that was
    /// the last attempt (or the job is gone or paused).
    pub fn retry_after_failure(
        &mut self,
        job: &str,
        scheduled: DateTime<Utc>,
        failed: u32,
        now: DateTime<Utc>,
    ) -> Option<(u32, DateTime<Utc>)> {
        if failed >= self.live_job(job)?.outcomes.attempts() {
            return None;
        }
        let random = self.rng.f64();
        let wait = retry_wait(&self.live_job(job)?.outcomes, failed, random);
        let due = now + wait;
        self.retry_at(job, scheduled, failed + 1, due);
        Some((failed + 1, due))
    }

    /// Puts back a retry that an earlier scheduler had planned (the state store keeps them):
    /// attempt `attempt` of the fire `scheduled`, due at `due`. An unknown or paused job's
    /// retry is dropped.
    pub fn retry_at(
        &mut self,
        job: &str,
        scheduled: DateTime<Utc>,
        attempt: u32,
        due: DateTime<Utc>,
    ) {
        if self.live_job(job).is_none() {
            return;
        }
        self.delayed.push(Pending {
            job: job.to_owned(),
            scheduled,
            due,
            queued: 0,
            attempt,
            // The store keeps no upstream for a retry, so a restart would lose it: a retried
            // chained run goes without `JOBRUN_AFTER_RUN_ID` alike, whether restarted or not.
            after: None,
            replaces: None,
        });
    }

    /// Whether this is a retry that must wait: its job has `max_instances` runs going.
    pub(super) fn retry_waits(&self, pending: &Pending) -> bool {
        pending.attempt > 1
            && self
                .live_job(&pending.job)
                .is_some_and(|job| self.running_runs_of(&job.name) >= job.max_instances)
    }
}

/// The wait after attempt `failed` (1 = the fire's first run): `retry_delay × 2^(failed-1)`, at
/// most `retry_delay_max`, less up to a quarter of it (`random` in `[0, 1)`).
pub(super) fn retry_wait(rules: &Outcomes, failed: u32, random: f64) -> TimeDelta {
    let base = rules.retry_delay.as_chrono();
    let cap = rules.retry_delay_max.as_chrono();
    let doublings = failed.saturating_sub(1).min(32);
    let full = base
        .checked_mul(1 << doublings.min(30))
        .map_or(cap, |d| d.min(cap));
    let ms = full.num_milliseconds();
    let less = (ms as f64 * random.clamp(0.0, 1.0) / 4.0) as i64;
    TimeDelta::milliseconds(ms - less)
}

/// For tests: the bounds of the wait after attempt `failed`.
#[cfg(test)]
fn wait_bounds(delay: Duration, max: Duration, failed: u32) -> (TimeDelta, TimeDelta) {
    let rules = Outcomes {
        retry_delay: delay,
        retry_delay_max: max,
        ..Outcomes::default()
    };
    (
        retry_wait(&rules, failed, 0.999_999_9),
        retry_wait(&rules, failed, 0.0),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::plan::{Event, RunId};
    use crate::zone::Tz;

    fn at(hms: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-05-01T{hms}Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn planner(text: &str, now: DateTime<Utc>) -> Planner {
        let file = crate::jobfile::parse(Path::new("jobrun.toml"), text, Tz::UTC)
            .unwrap_or_else(|d| panic!("{d}"));
        Planner::new(file.jobs, &file.executors, now, 7)
    }

    fn started(events: &[Event]) -> Vec<(RunId, DateTime<Utc>, u32)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Start {
                    run,
                    scheduled,
                    attempt,
                    ..
                } => Some((*run, *scheduled, *attempt)),
                _ => None,
            })
            .collect()
    }

    fn secs(s: i64) -> TimeDelta {
        TimeDelta::seconds(s)
    }

    #[test]
    fn the_wait_doubles_up_to_its_cap_less_up_to_a_quarter() {
        let d = |s: &str| s.parse::<Duration>().unwrap();
        let (thirty, ten_min) = (d("30s"), d("10m"));
        assert_eq!(
            wait_bounds(thirty, ten_min, 1),
            (TimeDelta::milliseconds(22_501), secs(30))
        );
        assert_eq!(
            wait_bounds(thirty, ten_min, 2),
            (TimeDelta::milliseconds(45_001), secs(60))
        );
        assert_eq!(
            wait_bounds(thirty, ten_min, 3),
            (TimeDelta::milliseconds(90_001), secs(120))
        );
        assert_eq!(wait_bounds(thirty, ten_min, 5).1, secs(480));
        assert_eq!(wait_bounds(thirty, ten_min, 6).1, secs(600));
        assert_eq!(wait_bounds(thirty, ten_min, 60).1, secs(600));
        assert_eq!(wait_bounds(d("1h"), ten_min, 1).1, secs(600));
    }

    /// The planner as the loop drives it, with explicit instants: a job fails twice, its
    /// retries come at the planned waits, and after the third attempt there is none.
    #[test]
    fn a_failed_fire_is_retried_after_doubling_waits_until_its_attempts_run_out() {
        let text = "[jobs.j]\ncommand = [\"false\"]\ncron = \"0 3 * * *\"\nretries = 2\n\
                    retry_delay = \"10s\"\n";
        let mut p = planner(text, at("02:59:00"));
        let fire = at("03:00:00");
        let first = started(&p.advance(fire));
        assert_eq!(first, [(1, fire, 1)]);
        p.finished(1, at("03:00:01"));
        let (attempt, due) = p.retry_after_failure("j", fire, 1, at("03:00:01")).unwrap();
        assert_eq!(attempt, 2);
        let wait = due - at("03:00:01");
        assert!(
            wait > TimeDelta::milliseconds(7_500) && wait <= secs(10),
            "{wait}"
        );
        assert_eq!(p.next_wake(), Some(due));
        assert!(p.advance(due - TimeDelta::milliseconds(1)).is_empty());
        assert_eq!(started(&p.advance(due)), [(2, fire, 2)]);
        p.finished(2, due + secs(1));
        let (attempt, due) = p.retry_after_failure("j", fire, 2, due + secs(1)).unwrap();
        assert_eq!(attempt, 3);
        let wait = due - (due - (due - at("03:00:00")));
        assert!(wait > secs(0));
        assert_eq!(started(&p.advance(due)), [(3, fire, 3)]);
        p.finished(3, due);
        assert_eq!(p.retry_after_failure("j", fire, 3, due), None);
        assert_eq!(p.next_wake(), Some(at("03:00:00") + secs(86_400)));
    }

    #[test]
    fn a_retry_is_never_missed_and_waits_for_max_instances_instead_of_being_skipped() {
        let text = "[jobs.j]\ncommand = [\"false\"]\nevery = \"10s\"\nretries = 1\n\
                    retry_delay = \"1s\"\nmisfire_grace = \"1s\"\n";
        let mut p = planner(text, at("10:00:00"));
        assert_eq!(
            started(&p.advance(at("10:00:10"))),
            [(1, at("10:00:10"), 1)]
        );
        p.finished(1, at("10:00:11"));
        let (_, due) = p
            .retry_after_failure("j", at("10:00:10"), 1, at("10:00:11"))
            .unwrap();
        // A retry due within its grace starts when due.
        assert!(due < at("10:00:12.1"));
        let events = p.advance(at("10:00:12.5"));
        assert_eq!(started(&events), [(2, at("10:00:10"), 2)]);
        // Run 2 fails just before the next fire; its retry is due just after it starts.
        p.finished(2, at("10:00:19.9"));
        let (_, due) = p
            .retry_after_failure("j", at("10:00:10"), 1, at("10:00:19.9"))
            .unwrap();
        assert!(due > at("10:00:20") && due < at("10:00:21"), "{due}");
        assert_eq!(
            started(&p.advance(at("10:00:20"))),
            [(3, at("10:00:20"), 1)]
        );
        // Due, but the fire's run holds the one instance: no wakeup for it, no skip.
        assert_eq!(p.next_wake(), Some(at("10:00:30")));
        assert!(p.advance(at("10:00:21")).is_empty());
        // Long past any grace when the run ends: it starts then.
        assert_eq!(
            started(&p.finished(3, at("10:00:25"))),
            [(4, at("10:00:10"), 2)]
        );
    }

    #[test]
    fn a_retry_planned_before_a_restart_is_put_back_and_runs_even_late() {
        let text = "[jobs.j]\ncommand = [\"false\"]\ncron = \"0 3 * * *\"\nretries = 3\n";
        let mut p = planner(text, at("04:00:00"));
        p.retry_at("j", at("03:00:00"), 3, at("03:10:00"));
        p.retry_at("gone", at("03:00:00"), 2, at("03:10:00"));
        assert_eq!(p.next_wake(), Some(at("03:10:00")));
        assert_eq!(
            started(&p.advance(at("04:00:00"))),
            [(1, at("03:00:00"), 3)]
        );
    }
}
