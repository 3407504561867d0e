//! The planner as a specification: jobs from jobfile text, explicit instants, and a small driver
//! that behaves like the loop (wake at `next_wake`, end each run a set time after it started).

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Timelike, Utc};

use super::*;
use crate::jobfile::{self, Jobfile};
use crate::zone::Tz;

/// Overlap policies, `@reboot` and chains (issue 11).
mod policies;
/// Many runs through small pools, and what the planner remembers between wakeups (issue 11).
mod turnover;

const SEED: u64 = 7;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// `10:00:00` on the day most tests use.
fn at(hms: &str) -> DateTime<Utc> {
    utc(&format!("2026-05-01T{hms}Z"))
}

fn jobfile(text: &str) -> Jobfile {
    jobfile::parse(Path::new("jobrun.toml"), text, Tz::UTC).unwrap_or_else(|d| panic!("{d}"))
}

fn planner(text: &str, now: DateTime<Utc>) -> Planner {
    let file = jobfile(text);
    Planner::new(file.jobs, &file.executors, now, SEED)
}

fn reload(planner: &mut Planner, text: &str, now: DateTime<Utc>) {
    let file = jobfile(text);
    planner.reload(file.jobs, &file.executors, now);
}

fn hms(t: &DateTime<Utc>) -> String {
    t.format("%H:%M:%S").to_string()
}

fn render(event: &Event) -> String {
    match event {
        Event::Start {
            run,
            job,
            scheduled,
            ..
        } => format!("start {job}@{} #{run}", hms(scheduled)),
        Event::SkippedMaxInstances {
            job,
            scheduled,
            running,
        } => format!("skip {job}@{} running={running}", hms(scheduled)),
        Event::Missed {
            job,
            scheduled,
            late_by,
            ..
        } => format!(
            "miss {job}@{} late={}s",
            hms(scheduled),
            late_by.num_seconds()
        ),
        Event::Coalesced {
            job,
            scheduled,
            into,
        } => format!("coalesce {job}@{} into {}", hms(scheduled), hms(into)),
        Event::Replace {
            job,
            run,
            scheduled,
        } => format!("replace #{run} by {job}@{}", hms(scheduled)),
    }
}

fn rendered(events: &[Event]) -> Vec<String> {
    events.iter().map(render).collect()
}

/// Drives a planner as the loop does: at the earliest of `next_wake` and the end of a run, it
/// calls `advance` or `finished` (a run ending at a fire's instant ends first).
struct Sim {
    planner: Planner,
    /// How long each job's runs take; one second unless set.
    durations: HashMap<&'static str, TimeDelta>,
    /// Jobs whose runs fail (exit non-zero); the others succeed.
    failing: Vec<&'static str>,
    /// How long a run takes to end once the planner asks for it to be replaced.
    kill_takes: TimeDelta,
    ending: Vec<(DateTime<Utc>, RunId)>,
    /// The job of each run going, told to the planner as an upstream's end when it ends.
    job_of: HashMap<RunId, String>,
    now: DateTime<Utc>,
    /// Each event with the upstream run of a chained start.
    log: Vec<(DateTime<Utc>, Event, Option<u64>)>,
}

impl Sim {
    fn new(text: &str, now: DateTime<Utc>) -> Sim {
        Sim::with(planner(text, now), now)
    }

    fn with(planner: Planner, now: DateTime<Utc>) -> Sim {
        Sim {
            planner,
            durations: HashMap::new(),
            failing: Vec::new(),
            kill_takes: TimeDelta::milliseconds(500),
            ending: Vec::new(),
            job_of: HashMap::new(),
            now,
            log: Vec::new(),
        }
    }

    fn runs_take(mut self, job: &'static str, duration: TimeDelta) -> Sim {
        self.durations.insert(job, duration);
        self
    }

    fn runs_fail(mut self, job: &'static str) -> Sim {
        self.failing.push(job);
        self
    }

    fn run_until(&mut self, end: DateTime<Utc>) {
        for _ in 0..1_000_000 {
            // What the planner remembers of the jobs' fires is what a walk over them finds.
            assert_eq!(
                self.planner.earliest_fire(),
                self.planner.walked_fire(),
                "at {}",
                self.now
            );
            let wake = self.planner.next_wake();
            let first_end = self.ending.iter().copied().min();
            let (t, ended) = match (wake, first_end) {
                (Some(w), Some((e, run))) if e <= w => (e, Some(run)),
                (None, Some((e, run))) => (e, Some(run)),
                (Some(w), _) => (w, None),
                (None, None) => return,
            };
            if t > end {
                return;
            }
            self.now = self.now.max(t);
            let events = match ended {
                Some(run) => {
                    self.ending.retain(|&(_, r)| r != run);
                    if let Some(job) = self.job_of.remove(&run) {
                        let succeeded = !self.failing.contains(&job.as_str());
                        self.planner.upstream_ended(&job, succeeded, self.now, run);
                    }
                    self.planner.finished(run, self.now)
                }
                None => self.planner.advance(self.now),
            };
            for event in events {
                let mut after = None;
                if let Event::Start { run, job, .. } = &event {
                    let took = self
                        .durations
                        .get(job.as_str())
                        .copied()
                        .unwrap_or(TimeDelta::seconds(1));
                    self.ending.push((self.now + took, *run));
                    self.job_of.insert(*run, job.clone());
                    after = self.planner.after_run(*run);
                }
                if let Event::Replace { run, .. } = &event {
                    let ends = self.now + self.kill_takes;
                    for (end, r) in &mut self.ending {
                        if r == run && *end > ends {
                            *end = ends;
                        }
                    }
                }
                self.log.push((self.now, event, after));
            }
        }
        panic!("the planner never got past {}", self.now);
    }

    /// `"HH:MM:SS event"` lines.
    fn lines(&self) -> Vec<String> {
        self.log
            .iter()
            .map(|(t, e, after)| match after {
                Some(up) => format!("{} {} after #{up}", hms(t), render(e)),
                None => format!("{} {}", hms(t), render(e)),
            })
            .collect()
    }

    fn starts(&self) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        self.log
            .iter()
            .filter_map(|(t, e, _)| match e {
                Event::Start { scheduled, .. } => Some((*t, *scheduled)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn an_every_second_job_runs_once_a_second() {
    let mut sim = Sim::new(
        "[jobs.tick]\ncommand = [\"true\"]\nevery = \"1s\"",
        at("10:00:00"),
    )
    .runs_take("tick", TimeDelta::milliseconds(200));
    sim.run_until(at("10:00:10.500"));
    let expected: Vec<String> = (1..=10)
        .map(|n| format!("10:00:{n:02} start tick@10:00:{n:02} #{n}"))
        .collect();
    assert_eq!(sim.lines(), expected);
    assert_eq!((sim.planner.running(), sim.planner.queued()), (0, 0));
}

#[test]
fn fires_at_or_before_the_start_instant_are_not_run() {
    let text = "[jobs.once]\ncommand = [\"true\"]\nat = \"2026-05-01T10:00:00Z\"";
    for (start, wake) in [
        ("09:59:59", Some(at("10:00:00"))),
        ("10:00:00", None),
        ("10:00:01", None),
    ] {
        let mut p = planner(text, at(start));
        assert_eq!(p.next_wake(), wake, "started at {start}");
        assert_eq!(p.advance(at("23:00:00")).len(), usize::from(wake.is_some()));
        assert_eq!(p.next_wake(), None, "a spent `at` job stops");
    }
}

#[test]
fn cron_jobs_across_new_york_dst_days() {
    struct Case {
        name: &'static str,
        cron: &'static str,
        /// One New York day, in UTC.
        day: (&'static str, &'static str),
        runs_that_day: usize,
        /// The starts around the transition (04:00Z to 08:00Z), in UTC.
        around_jump: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "spring forward: a fixed-time job in the gap runs once, after the jump",
            cron: "30 2 * * *",
            day: ("2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"),
            runs_that_day: 1,
            around_jump: &["07:00:00"],
        },
        Case {
            name: "spring forward: a half-hourly job skips the gap",
            cron: "*/30 * * * *",
            day: ("2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"),
            runs_that_day: 46,
            around_jump: &[
                "05:00:00", "05:30:00", "06:00:00", "06:30:00", "07:00:00", "07:30:00",
            ],
        },
        Case {
            name: "fall back: a fixed-time job in the overlap runs once, in the first pass",
            cron: "30 1 * * *",
            day: ("2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"),
            runs_that_day: 1,
            around_jump: &["05:30:00"],
        },
        Case {
            name: "fall back: a half-hourly job runs in both passes",
            cron: "*/30 * * * *",
            day: ("2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"),
            runs_that_day: 50,
            around_jump: &[
                "04:00:00", "04:30:00", "05:00:00", "05:30:00", "06:00:00", "06:30:00", "07:00:00",
                "07:30:00",
            ],
        },
    ];
    for case in cases {
        let text = format!(
            "[jobs.j]\ncommand = [\"true\"]\ncron = \"{}\"\ntimezone = \"America/New_York\"",
            case.cron
        );
        let (from, to) = (utc(case.day.0), utc(case.day.1));
        let mut sim = Sim::new(&text, from - TimeDelta::nanoseconds(1));
        sim.run_until(to - TimeDelta::nanoseconds(1));
        let starts = sim.starts();
        assert!(
            sim.log
                .iter()
                .all(|(_, e, _)| matches!(e, Event::Start { .. })),
            "{}: {:?}",
            case.name,
            sim.lines()
        );
        assert!(
            starts.iter().all(|(t, scheduled)| t == scheduled),
            "{}",
            case.name
        );
        assert_eq!(starts.len(), case.runs_that_day, "{}", case.name);
        let jump_day = from.date_naive();
        let around: Vec<String> = starts
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| t.date_naive() == jump_day && (4..8).contains(&t.hour()))
            .map(|t| hms(&t))
            .collect();
        assert_eq!(around, case.around_jump, "{}", case.name);
    }
}

#[test]
fn max_instances_skips_fires_that_would_overlap_a_running_run() {
    let cases: [(u32, &[&str]); 2] = [
        (
            1,
            &[
                "10:01:00 start slow@10:01:00 #1",
                "10:02:00 skip slow@10:02:00 running=1",
                "10:03:00 start slow@10:03:00 #2",
                "10:04:00 skip slow@10:04:00 running=1",
            ],
        ),
        (
            2,
            &[
                "10:01:00 start slow@10:01:00 #1",
                "10:02:00 start slow@10:02:00 #2",
                "10:03:00 start slow@10:03:00 #3",
                "10:04:00 start slow@10:04:00 #4",
            ],
        ),
    ];
    for (max_instances, expected) in cases {
        let text = format!(
            "[jobs.slow]\ncommand = [\"true\"]\ncron = \"* * * * *\"\nmax_instances = {max_instances}"
        );
        let mut sim = Sim::new(&text, at("10:00:00")).runs_take("slow", TimeDelta::seconds(90));
        sim.run_until(at("10:04:00"));
        assert_eq!(sim.lines(), expected, "max_instances = {max_instances}");
    }
}

const ONE_WORKER: &str = r#"
[executors.solo]
workers = 1

[jobs.a]
command = ["true"]
cron = "0 10 * * *"
executor = "solo"

[jobs.b]
command = ["true"]
cron = "0 10 * * *"
executor = "solo"
"#;

#[test]
fn in_a_full_pool_a_run_waits_for_a_slot_however_long_it_takes() {
    // misfire_grace (one minute by default) measures the scheduler's lateness, not the line.
    for a_ends in ["10:00:30", "10:01:01", "23:00:00"] {
        let mut p = planner(ONE_WORKER, at("09:59:00"));
        assert_eq!(
            rendered(&p.advance(at("10:00:00"))),
            ["start a@10:00:00 #1"]
        );
        assert_eq!((p.running(), p.queued()), (1, 1));
        assert_eq!(p.next_wake(), Some(utc("2026-05-02T10:00:00Z")));
        assert_eq!(
            rendered(&p.finished(1, at(a_ends))),
            ["start b@10:00:00 #2"],
            "a ends at {a_ends}"
        );
        assert_eq!(p.queued(), 0);
    }
}

#[test]
fn queue_grace_bounds_the_wait_for_a_slot_to_the_second() {
    let text = ONE_WORKER.replace(
        "[jobs.b]\ncommand = [\"true\"]",
        "[jobs.b]\ncommand = [\"true\"]\nqueue_grace = \"90s\"",
    );
    for (a_ends, expected) in [
        ("10:01:30", "start b@10:00:00 #2"),
        ("10:01:31", "miss b@10:00:00 late=91s"),
    ] {
        let mut p = planner(&text, at("09:59:00"));
        assert_eq!(
            rendered(&p.advance(at("10:00:00"))),
            ["start a@10:00:00 #1"]
        );
        assert_eq!(
            rendered(&p.finished(1, at(a_ends))),
            [expected],
            "a ends at {a_ends}"
        );
    }
}

#[test]
fn with_no_executors_every_due_job_starts_however_long_the_others_run() {
    // Issue 11: twenty jobs due at midnight that each take ten minutes all run, as under cron.
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!(
            "[jobs.j{i:02}]\ncommand = [\"true\"]\ncron = \"0 0 * * *\"\n"
        ));
    }
    let mut p = planner(&text, utc("2026-05-01T23:59:00Z"));
    let events = p.advance(utc("2026-05-02T00:00:00Z"));
    assert_eq!(events.len(), 20);
    assert!(
        events.iter().all(|e| matches!(e, Event::Start { .. })),
        "{:?}",
        rendered(&events)
    );
    assert_eq!((p.running(), p.queued()), (20, 0));
}

#[test]
fn a_waiting_run_counts_against_max_instances() {
    let text = |workers: u32| {
        format!(
            r#"
[executors.solo]
workers = {workers}

[jobs.long]
command = ["true"]
cron = "0 10 * * *"
executor = "solo"

[jobs.often]
command = ["true"]
cron = "*/30 * * * * *"
executor = "solo"
coalesce = false
max_instances = 2
"#
        )
    };
    let mut p = planner(&text(1), at("09:59:59"));
    assert_eq!(
        rendered(&p.advance(at("10:00:00"))),
        ["start long@10:00:00 #1"]
    );
    assert!(p.advance(at("10:00:30")).is_empty());
    assert_eq!(
        p.queued(),
        2,
        "two fires of `often` wait: its max_instances"
    );
    assert_eq!(
        rendered(&p.advance(at("10:01:00"))),
        ["skip often@10:01:00 running=2"],
        "a third would exceed max_instances"
    );

    // Two more slots let both waiting runs through at once.
    reload(&mut p, &text(3), at("10:01:15"));
    assert_eq!(
        rendered(&p.advance(at("10:01:15"))),
        ["start often@10:00:00 #2", "start often@10:00:30 #3"]
    );
}

#[test]
fn a_pool_held_by_a_hung_run_keeps_at_most_max_instances_waiting_runs_per_job() {
    let text = r#"
[executors.solo]
workers = 1

[jobs.hung]
command = ["true"]
cron = "0 10 * * *"
executor = "solo"

[jobs.often]
command = ["true"]
every = "1s"
executor = "solo"
coalesce = false
"#;
    let mut sim = Sim::new(text, at("09:59:59")).runs_take("hung", TimeDelta::days(1));
    sim.run_until(at("10:00:03"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:00 start hung@10:00:00 #1",
            "10:00:01 skip often@10:00:01 running=1",
            "10:00:02 skip often@10:00:02 running=1",
            "10:00:03 skip often@10:00:03 running=1",
        ]
    );
    assert_eq!(sim.planner.queued(), 1, "often@10:00:00 still waits");
}

#[test]
fn misfire_grace_is_exact_to_the_second() {
    let text = "[jobs.j]\ncommand = [\"true\"]\ncron = \"0 10 * * *\"\nmisfire_grace = \"5m\"";
    for (now, expected) in [
        ("10:04:59", "start j@10:00:00 #1"),
        ("10:05:00", "start j@10:00:00 #1"),
        ("10:05:01", "miss j@10:00:00 late=301s"),
    ] {
        let mut p = planner(text, at("09:00:00"));
        assert_eq!(
            rendered(&p.advance(at(now))),
            [expected],
            "advanced at {now}"
        );
    }
}

#[test]
fn after_a_ten_minute_stall_late_fires_are_missed_and_the_rest_coalesce_or_not() {
    let late = "miss j@10:05:00 late=330s";
    let cases: [(bool, &[&str]); 2] = [
        (
            true,
            &[
                late,
                "coalesce j@10:06:00 into 10:10:00",
                "coalesce j@10:07:00 into 10:10:00",
                "coalesce j@10:08:00 into 10:10:00",
                "coalesce j@10:09:00 into 10:10:00",
                "start j@10:10:00 #1",
            ],
        ),
        (
            false,
            &[
                late,
                "start j@10:06:00 #1",
                "start j@10:07:00 #2",
                "start j@10:08:00 #3",
                "start j@10:09:00 #4",
                "start j@10:10:00 #5",
            ],
        ),
    ];
    for (coalesce, expected) in cases {
        let text = format!(
            "[jobs.j]\ncommand = [\"true\"]\ncron = \"* * * * *\"\nmisfire_grace = \"5m\"\n\
             max_instances = 10\ncoalesce = {coalesce}"
        );
        let mut p = planner(&text, at("10:00:30"));
        assert_eq!(
            rendered(&p.advance(at("10:10:30"))),
            expected,
            "coalesce = {coalesce}"
        );
        assert_eq!(p.next_wake(), Some(at("10:11:00")));
    }
}

#[test]
fn due_fires_come_in_time_order_across_jobs_and_jobfile_order_on_ties() {
    let text = r#"
[jobs.a]
command = ["true"]
cron = "20 0 10 * * *"

[jobs.b]
command = ["true"]
cron = "10 0 10 * * *"

[jobs.c]
command = ["true"]
cron = "10 0 10 * * *"
"#;
    let mut p = planner(text, at("09:00:00"));
    assert_eq!(
        rendered(&p.advance(at("10:00:30"))),
        [
            "start b@10:00:10 #1",
            "start c@10:00:10 #2",
            "start a@10:00:20 #3"
        ]
    );
}

const JITTERED: &str =
    "[jobs.spread]\ncommand = [\"true\"]\ncron = \"* * * * *\"\njitter = \"30s\"";

#[test]
fn jitter_delays_are_within_bounds_and_follow_the_seed() {
    let run = |seed: u64| {
        let file = jobfile(JITTERED);
        let p = Planner::new(file.jobs, &file.executors, at("00:00:00"), seed);
        let mut sim = Sim::with(p, at("00:00:00"));
        sim.run_until(at("01:40:30"));
        assert!(sim.lines().iter().all(|l| l.contains("start")));
        sim.starts()
    };
    let starts = run(SEED);
    assert_eq!(starts.len(), 100);
    let delays: Vec<TimeDelta> = starts.iter().map(|(t, s)| *t - *s).collect();
    assert!(
        delays
            .iter()
            .all(|d| TimeDelta::zero() <= *d && *d < TimeDelta::seconds(30)),
        "{delays:?}"
    );
    assert!(delays.iter().any(|d| *d < TimeDelta::seconds(10)));
    assert!(delays.iter().any(|d| *d >= TimeDelta::seconds(20)));
    assert_eq!(run(SEED), starts, "the same seed gives the same delays");
    assert_ne!(run(SEED + 1), starts, "another seed gives others");
}

#[test]
fn a_jittered_run_waits_in_the_queue_and_is_missed_if_the_scheduler_oversleeps() {
    let text = "[jobs.j]\ncommand = [\"true\"]\ncron = \"0 10 * * *\"\njitter = \"30s\"";
    let mut p = planner(text, at("09:00:00"));
    assert!(p.advance(at("10:00:00")).is_empty());
    assert_eq!(p.queued(), 1);
    let due = p.next_wake().unwrap();
    assert!(at("10:00:00") <= due && due < at("10:00:30"), "{due}");

    // On time: it starts at its due instant, under its nominal fire time.
    let mut on_time = planner(text, at("09:00:00"));
    on_time.advance(at("10:00:00"));
    assert_eq!(rendered(&on_time.advance(due)), ["start j@10:00:00 #1"]);
    assert_eq!((on_time.running(), on_time.queued()), (1, 0));

    // Lateness counts from the due instant, so the grace is not eaten by the jitter.
    assert_eq!(
        p.advance(due + TimeDelta::seconds(61)),
        [Event::Missed {
            job: "j".into(),
            scheduled: at("10:00:00"),
            late_by: TimeDelta::seconds(61),
            first: at("10:00:00"),
            fires: Some(1),
        }]
    );
    assert_eq!(p.queued(), 0);
}

#[test]
fn paused_jobs_never_fire_and_are_not_missed_later() {
    let text = r#"
[jobs.off]
command = ["true"]
cron = "* * * * *"
paused = true

[jobs.on]
command = ["true"]
cron = "*/5 * * * *"
"#;
    let mut sim = Sim::new(text, at("10:00:00"));
    sim.run_until(at("10:10:00"));
    assert_eq!(
        sim.lines(),
        [
            "10:05:00 start on@10:05:00 #1",
            "10:10:00 start on@10:10:00 #2"
        ]
    );

    let only_paused = "[jobs.off]\ncommand = [\"true\"]\ncron = \"* * * * *\"\npaused = true";
    let mut p = planner(only_paused, at("10:00:00"));
    assert_eq!(p.next_wake(), None);
    assert!(p.advance(utc("2026-06-01T00:00:00Z")).is_empty());
    let resumed = only_paused.replace("paused = true", "paused = false");
    reload(&mut p, &resumed, utc("2026-06-01T00:00:00Z"));
    assert_eq!(p.next_wake(), Some(utc("2026-06-01T00:01:00Z")));
    assert_eq!(
        rendered(&p.advance(utc("2026-06-01T00:01:00Z"))),
        ["start off@00:01:00 #1"],
        "a month of pause is not reported as missed"
    );
}

#[test]
fn reload_recomputes_changed_triggers_and_keeps_unchanged_pending_fires() {
    let hourly = "[jobs.j]\ncommand = [\"true\"]\ncron = \"0 * * * *\"";
    // Reloaded at 11:00:00 sharp, before the loop advanced to that fire.
    for (new_cron, wake) in [
        ("0 * * * *", "11:00:00"),
        ("30 * * * *", "11:30:00"),
        ("0 */2 * * *", "12:00:00"),
    ] {
        let mut p = planner(hourly, at("10:20:00"));
        assert_eq!(p.next_wake(), Some(at("11:00:00")));
        reload(
            &mut p,
            &hourly.replace("0 * * * *", new_cron),
            at("11:00:00"),
        );
        assert_eq!(p.next_wake(), Some(at(wake)), "reloaded with {new_cron:?}");
    }

    let mut p = planner(hourly, at("10:20:00"));
    reload(
        &mut p,
        &format!("{hourly}\njitter = \"1s\""),
        at("11:00:00"),
    );
    assert_eq!(
        p.next_wake(),
        Some(at("11:00:00")),
        "only the schedule matters"
    );
}

#[test]
fn reload_removing_a_job_lets_its_running_run_finish_quietly() {
    let both = "[jobs.a]\ncommand = [\"true\"]\ncron = \"0 10 * * *\"\n\
                [jobs.b]\ncommand = [\"true\"]\ncron = \"0 11 * * *\"";
    let mut p = planner(both, at("09:00:00"));
    assert_eq!(
        rendered(&p.advance(at("10:00:00"))),
        ["start a@10:00:00 #1"]
    );
    reload(
        &mut p,
        "[jobs.b]\ncommand = [\"true\"]\ncron = \"0 11 * * *\"",
        at("10:00:05"),
    );
    assert!(p.job("a").is_none());
    assert_eq!(p.running(), 1, "the run goes on after its job is removed");
    assert!(p.finished(1, at("10:00:10")).is_empty());
    assert!(
        p.finished(1, at("10:00:11")).is_empty(),
        "twice is harmless"
    );
    assert!(
        p.finished(99, at("10:00:12")).is_empty(),
        "so is an unknown run"
    );
    assert_eq!(p.running(), 0);
    assert_eq!(p.next_wake(), Some(at("11:00:00")));
}

#[test]
fn reload_resizes_pools_and_running_runs_keep_their_slots() {
    let three = |workers: u32| {
        format!(
            "[executors.p]\nworkers = {workers}\n\
             [jobs.a]\ncommand = [\"true\"]\ncron = \"0 10 * * *\"\nexecutor = \"p\"\n\
             [jobs.b]\ncommand = [\"true\"]\ncron = \"0 10 * * *\"\nexecutor = \"p\"\n\
             [jobs.c]\ncommand = [\"true\"]\ncron = \"0 10 * * *\"\nexecutor = \"p\""
        )
    };

    // Shrunk from two slots to one while two runs hold them.
    let mut p = planner(&three(2), at("09:00:00"));
    assert_eq!(
        rendered(&p.advance(at("10:00:00"))),
        ["start a@10:00:00 #1", "start b@10:00:00 #2"]
    );
    reload(&mut p, &three(1), at("10:00:10"));
    assert!(
        p.finished(1, at("10:00:20")).is_empty(),
        "b still fills the pool"
    );
    assert_eq!(p.queued(), 1);
    assert_eq!(
        rendered(&p.finished(2, at("10:00:40"))),
        ["start c@10:00:00 #3"]
    );

    // Grown from two to three: the queued run starts at the next advance, asked for at once.
    let mut p = planner(&three(2), at("09:00:00"));
    p.advance(at("10:00:00"));
    reload(&mut p, &three(3), at("10:00:10"));
    assert!(p.next_wake().is_some_and(|t| t <= at("10:00:10")));
    assert_eq!(
        rendered(&p.advance(at("10:00:10"))),
        ["start c@10:00:00 #3"]
    );
}

#[test]
fn reload_drops_waiting_runs_of_jobs_it_pauses_or_removes() {
    let mut p = planner(ONE_WORKER, at("09:00:00"));
    p.advance(at("10:00:00"));
    assert_eq!(p.queued(), 1);
    let paused = ONE_WORKER.replace(
        "[jobs.b]\ncommand = [\"true\"]",
        "[jobs.b]\ncommand = [\"true\"]\npaused = true",
    );
    reload(&mut p, &paused, at("10:00:05"));
    assert_eq!(p.queued(), 0);
    assert!(p.finished(1, at("10:00:10")).is_empty());
}

#[test]
fn a_year_of_daily_runs_is_365_starts_on_time() {
    let text = "[jobs.daily]\ncommand = [\"true\"]\ncron = \"0 3 * * *\"\n\
                timezone = \"Europe/Paris\"";
    let mut sim =
        Sim::new(text, utc("2026-01-01T00:00:00Z")).runs_take("daily", TimeDelta::minutes(20));
    sim.run_until(utc("2027-01-01T00:00:00Z"));
    let starts = sim.starts();
    assert_eq!(starts.len(), 365);
    assert_eq!(sim.log.len(), 365, "nothing missed, skipped or coalesced");
    assert!(starts.iter().all(|(t, scheduled)| t == scheduled));
    let paris = |t: &DateTime<Utc>| t.with_timezone(&chrono_tz::Europe::Paris).hour();
    assert!(starts.iter().all(|(t, _)| paris(t) == 3));
}

#[test]
fn three_weeks_of_downtime_with_an_every_second_job_is_a_bounded_catch_up() {
    let cases: [(bool, usize, usize); 2] = [(true, 60, 0), (false, 0, 60)];
    for (coalesce, coalesced, skipped) in cases {
        let text =
            format!("[jobs.tick]\ncommand = [\"true\"]\nevery = \"1s\"\ncoalesce = {coalesce}");
        let start = utc("2026-05-01T00:00:00Z");
        let back = start + TimeDelta::weeks(3);
        let mut p = planner(&text, start);
        let events = p.advance(back);
        let count = |f: fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
        assert_eq!(
            events.first(),
            Some(&Event::Missed {
                job: "tick".into(),
                scheduled: back - TimeDelta::seconds(61),
                late_by: TimeDelta::seconds(61),
                first: start + TimeDelta::seconds(1),
                // 1,814,339 fires: too many to count.
                fires: None,
            }),
            "one Missed, for the newest late fire, stands for the gap"
        );
        assert_eq!(count(|e| matches!(e, Event::Missed { .. })), 1);
        assert_eq!(count(|e| matches!(e, Event::Coalesced { .. })), coalesced);
        assert_eq!(
            count(|e| matches!(e, Event::SkippedMaxInstances { .. })),
            skipped
        );
        assert_eq!(count(|e| matches!(e, Event::Start { .. })), 1);
        assert_eq!(events.len(), 62, "coalesce = {coalesce}");
        assert_eq!(p.next_wake(), Some(back + TimeDelta::seconds(1)));
    }
}

/// A planner started at `back`, resumed from `last_fire` for job `j`, advanced once.
fn resumed(text: &str, last_fire: DateTime<Utc>, back: DateTime<Utc>) -> Vec<Event> {
    let mut p = planner(text, back);
    p.resume("j", last_fire);
    p.advance(back)
}

#[test]
fn resuming_after_minutes_of_downtime_coalesces_or_runs_each_fire() {
    let minutely = "[jobs.j]\ncommand = [\"true\"]\ncron = \"* * * * *\"\nmisfire_grace = \"10m\"";
    // Down from just after 10:00 to 10:03:30: 10:01, 10:02 and 10:03 passed.
    let coalesced = resumed(minutely, at("10:00:00"), at("10:03:30"));
    assert_eq!(
        rendered(&coalesced),
        [
            "coalesce j@10:01:00 into 10:03:00",
            "coalesce j@10:02:00 into 10:03:00",
            "start j@10:03:00 #1",
        ]
    );
    let each = format!("{minutely}\ncoalesce = false\nmax_instances = 3");
    assert_eq!(
        rendered(&resumed(&each, at("10:00:00"), at("10:03:30"))),
        [
            "start j@10:01:00 #1",
            "start j@10:02:00 #2",
            "start j@10:03:00 #3",
        ]
    );
    // Without resume, a fresh planner would not run any of them.
    assert!(
        planner(minutely, at("10:03:30"))
            .advance(at("10:03:30"))
            .is_empty()
    );
}

#[test]
fn resuming_after_weeks_reports_the_gap_once_with_its_size_and_runs_what_is_in_grace() {
    let hourly = "[jobs.j]\ncommand = [\"true\"]\ncron = \"0 * * * *\"\nmisfire_grace = \"90m\"";
    let last = utc("2026-05-01T10:00:00Z");
    let back = utc("2026-05-22T10:20:00Z");
    let events = resumed(hourly, last, back);
    assert_eq!(
        events,
        [
            Event::Missed {
                job: "j".into(),
                scheduled: utc("2026-05-22T08:00:00Z"),
                late_by: TimeDelta::minutes(140),
                first: utc("2026-05-01T11:00:00Z"),
                // 21 days of hours, less the two still in grace (09:00, 10:00).
                fires: Some(21 * 24 - 2),
            },
            Event::Coalesced {
                job: "j".into(),
                scheduled: utc("2026-05-22T09:00:00Z"),
                into: utc("2026-05-22T10:00:00Z"),
            },
            Event::Start {
                run: 1,
                job: "j".into(),
                scheduled: utc("2026-05-22T10:00:00Z"),
                attempt: 1,
            },
        ]
    );
}

#[test]
fn resuming_respects_the_grace_to_the_second() {
    let daily = "[jobs.j]\ncommand = [\"true\"]\ncron = \"0 3 * * *\"\nmisfire_grace = \"5m\"";
    let last = utc("2026-04-30T03:00:00Z");
    for (back, expected) in [
        ("03:04:59", "start j@03:00:00 #1"),
        ("03:05:00", "start j@03:00:00 #1"),
        ("03:05:01", "miss j@03:00:00 late=301s"),
    ] {
        let events = resumed(daily, last, at(back));
        assert_eq!(rendered(&events), [expected], "back at {back}");
    }
}

#[test]
fn resuming_across_a_dst_change_runs_the_gap_time_once() {
    // New York springs forward on 2026-03-08: 02:30 does not exist, the job runs at 03:00
    // EDT (07:00 UTC). Down from the day before until 03:10 EDT.
    let text = "[jobs.j]\ncommand = [\"true\"]\ncron = \"30 2 * * *\"\n\
                timezone = \"America/New_York\"\nmisfire_grace = \"1h\"";
    let events = resumed(
        text,
        utc("2026-03-07T07:30:00Z"),
        utc("2026-03-08T07:10:00Z"),
    );
    assert_eq!(
        events,
        [Event::Start {
            run: 1,
            job: "j".into(),
            scheduled: utc("2026-03-08T07:00:00Z"),
            attempt: 1,
        }]
    );
    // Falling back on 2026-11-01, 01:30 comes twice; the fixed-time job ran in the first pass
    // (05:30 UTC) before jobrun went down, and does not run again in the second (06:30 UTC).
    let fall = "[jobs.j]\ncommand = [\"true\"]\ncron = \"30 1 * * *\"\n\
                timezone = \"America/New_York\"\nmisfire_grace = \"1h\"";
    let events = resumed(
        fall,
        utc("2026-11-01T05:30:00Z"),
        utc("2026-11-01T06:45:00Z"),
    );
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn a_paused_job_resumed_from_the_store_reports_nothing_for_its_pause() {
    let text = "[jobs.j]\ncommand = [\"true\"]\ncron = \"* * * * *\"\npaused = true";
    assert!(resumed(text, at("09:00:00"), at("10:00:30")).is_empty());
}

#[test]
fn the_schedule_key_changes_with_the_trigger_zone_and_window_only() {
    let key = |extra: &str| {
        let text = format!("[jobs.j]\ncommand = [\"true\"]\ncron = \"0 3 * * *\"\n{extra}");
        schedule_key(&jobfile(&text).jobs[0])
    };
    let base = key("");
    assert_eq!(base, "cron \"0 3 * * *\" tz=UTC start=- end=-");
    assert_eq!(key("timeout = \"1h\"\ncoalesce = false"), base);
    assert_ne!(key("timezone = \"Europe/Paris\""), base);
    assert_ne!(key("end = 2027-01-01T00:00:00Z"), base);
    let other = "[jobs.j]\ncommand = [\"true\"]\ncron = \"0 4 * * *\"";
    assert_ne!(schedule_key(&jobfile(other).jobs[0]), base);
}
