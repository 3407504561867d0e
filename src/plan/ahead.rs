//! What is about to start: the runs the loop may prepare before their instant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::Planner;

impl Planner {
    /// The runs that [`advance`](Planner::advance) would start at `at` if nothing changed
    /// before then, as (job, nominal fire) in the order it would start them: fires of unpaused
    /// jobs without jitter due exactly then, and jitter delays ending then, within their job's
    /// `max_instances` and their pool's free slots (a pool with runs waiting starts those
    /// first, so it is left out). It is a forecast: a run that ends, a reload or a queued run
    /// can change what really starts, and `advance` stays the judge.
    pub fn starts_at(&self, at: DateTime<Utc>) -> Vec<(String, DateTime<Utc>)> {
        let mut candidates: Vec<(usize, &str, DateTime<Utc>)> = self
            .delayed
            .iter()
            .filter(|p| p.due == at && p.attempt == 1)
            .map(|p| (self.position(&p.job), p.job.as_str(), p.scheduled))
            .collect();
        candidates.extend(
            self.jobs
                .iter()
                .enumerate()
                .filter(|(_, s)| s.next == Some(at) && !s.job.paused && s.job.jitter.is_none())
                .map(|(i, s)| (i, s.job.name.as_str(), at)),
        );
        // Stable, as in `advance`: jitter delays first on ties.
        candidates.sort_by_key(|&(order, _, _)| order);
        let mut per_job: HashMap<&str, u32> = HashMap::new();
        let mut per_pool: HashMap<&str, u32> = HashMap::new();
        let mut starts = Vec::new();
        for (_, name, scheduled) in candidates {
            let Some(job) = self.live_job(name) else {
                continue;
            };
            let Some(pool) = self.pools.get(&job.executor) else {
                continue;
            };
            let of_job = per_job.entry(name).or_default();
            let of_pool = per_pool.entry(job.executor.as_str()).or_default();
            let running_in_pool = self.per_pool.get(&job.executor).copied().unwrap_or(0);
            if self.running_runs_of(name) + *of_job >= job.max_instances
                || !pool.queue.is_empty()
                || running_in_pool + *of_pool >= pool.workers
            {
                continue;
            }
            *of_job += 1;
            *of_pool += 1;
            starts.push((name.to_owned(), scheduled));
        }
        starts
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeDelta;

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

    fn starts(events: &[Event]) -> Vec<(String, DateTime<Utc>)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Start { job, scheduled, .. } => Some((job.clone(), *scheduled)),
                _ => None,
            })
            .collect()
    }

    /// Every second for two minutes: a plain job, a jittered one, a paused one, three jobs
    /// sharing two slots, and a job whose runs overlap its next fire. Before each wake the
    /// forecast is taken; `advance` at the wake must start exactly those runs.
    #[test]
    fn the_forecast_is_what_advance_starts_when_nothing_changes_in_between() {
        let text = r#"
            [executors.two]
            workers = 2
            [jobs.plain]
            every = "1s"
            command = ["true"]
            [jobs.jittery]
            every = "3s"
            jitter = "2s"
            command = ["true"]
            [jobs.resting]
            every = "1s"
            paused = true
            command = ["true"]
            [jobs.d]
            every = "1s"
            executor = "two"
            command = ["true"]
            [jobs.e]
            every = "1s"
            executor = "two"
            command = ["true"]
            [jobs.f]
            every = "3s"
            executor = "two"
            command = ["true"]
            [jobs.slow]
            every = "1s"
            command = ["true"]
        "#;
        let start = at("10:00:00");
        let mut planner = planner(text, start);
        // Runs end 400 ms after they start, except `slow`'s, which take 1.5 s.
        let mut ending: Vec<(DateTime<Utc>, RunId)> = Vec::new();
        let (mut checked, mut forecast_runs) = (0, 0);
        let mut jittered = 0;
        while let Some(wake) = planner.next_wake() {
            if wake > at("10:02:00") {
                break;
            }
            ending.sort();
            while let Some(&(end, run)) = ending.first().filter(|(end, _)| *end < wake) {
                ending.remove(0);
                // A freed slot lets a waiting run of pool `two` through: not forecast, and
                // not part of what is compared.
                for event in planner.finished(run, end) {
                    if let Event::Start { run, .. } = event {
                        ending.push((end + TimeDelta::milliseconds(400), run));
                    }
                }
            }
            let forecast = planner.starts_at(wake);
            let events = planner.advance(wake);
            let started = starts(&events);
            assert_eq!(forecast, started, "at {wake}: {events:?}");
            checked += 1;
            forecast_runs += forecast.len();
            jittered += started.iter().filter(|(j, _)| j == "jittery").count();
            for event in &events {
                if let Event::Start { run, job, .. } = event {
                    let took = if job == "slow" { 1500 } else { 400 };
                    ending.push((wake + TimeDelta::milliseconds(took), *run));
                }
            }
        }
        assert!(checked >= 150, "{checked}");
        assert!(forecast_runs >= 400, "{forecast_runs}");
        // Forty fires, the last one's delay perhaps beyond the end.
        assert!((39..=40).contains(&jittered), "{jittered}");
    }

    #[test]
    fn a_pool_with_runs_waiting_is_left_out_of_the_forecast() {
        let text = r#"
            [executors.one]
            workers = 1
            [jobs.a]
            every = "1s"
            executor = "one"
            command = ["true"]
            [jobs.b]
            every = "1s"
            executor = "one"
            command = ["true"]
            [jobs.other]
            every = "1s"
            max_instances = 2
            command = ["true"]
        "#;
        let mut planner = planner(text, at("10:00:00"));
        let events = planner.advance(at("10:00:01"));
        // `a` took the slot and `b` waits for it.
        assert_eq!(starts(&events).len(), 2);
        assert_eq!(planner.queued(), 1);
        assert_eq!(
            planner.starts_at(at("10:00:02")),
            [("other".to_owned(), at("10:00:02"))]
        );
        assert!(planner.starts_at(at("10:00:02.5")).is_empty());
        // `other` has two runs going by then: its third is not forecast.
        planner.advance(at("10:00:02"));
        assert!(planner.starts_at(at("10:00:03")).is_empty());
    }
}
