//! The loop's own decisions with an injected clock and a real state store: runs prepared ahead
//! of their instant are started, or given back when they do not start.

use chrono::TimeDelta;
use tempfile::TempDir;

use nix::sys::signal::Signal;

use super::runs::Run;
use super::ticket::{Limits, Ticket};
use super::*;
use crate::clock::ManualClock;
use crate::executor::{self, Launch, all_children};
use crate::log::LogFormat;
use crate::plan::Event;
use crate::store::Outcome;

fn at(hms: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2026-05-01T{hms}Z"))
        .unwrap()
        .with_timezone(&Utc)
}

const EVERY_TEN: &str = "[jobs.tick]\nevery = \"10s\"\ncommand = [\"true\"]\n";

struct Fixture {
    dir: TempDir,
    settings: Settings,
    clock: ManualClock,
}

impl Fixture {
    fn new(jobfile: &str, now: DateTime<Utc>) -> Fixture {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("jobrun.toml");
        std::fs::write(&path, jobfile).unwrap();
        Fixture {
            settings: Settings {
                jobfile: path,
                local_tz: Tz::UTC,
                stop_grace: "10s".parse().unwrap(),
                retention: Retention::default(),
                trust: crate::trust::Trust::of_process(false),
                metrics: None,
                boot_id: None,
                no_spawn: false,
                state_dir: None,
            },
            clock: ManualClock::new(now),
            dir,
        }
    }

    fn store_path(&self) -> PathBuf {
        self.dir.path().join("state.sqlite")
    }

    /// A loop as `serve` builds it, without its jobfile watch.
    fn scheduler<'a>(&'a self, log: &'a mut Log) -> Loop<'a> {
        let now = self.clock.now();
        let jobfile = jobfile::load(&self.settings.jobfile, Tz::UTC, &self.settings.trust).unwrap();
        let planner = Planner::new(jobfile.jobs, &jobfile.executors, now, 7);
        let signals = Signals::install().unwrap();
        let mut scheduler = Loop::new(
            &self.settings,
            &self.clock,
            log,
            signals,
            None,
            None,
            Some(planner),
        )
        .unwrap();
        scheduler.store = Some(Store::open_exclusive(&self.store_path(), now).unwrap());
        scheduler
    }
}

fn rows(scheduler: &Loop<'_>) -> Vec<crate::store::RunRecord> {
    scheduler
        .store
        .as_ref()
        .unwrap()
        .history(None, 100)
        .unwrap()
}

fn last_fire(scheduler: &Loop<'_>, job: &str) -> Option<DateTime<Utc>> {
    let states = scheduler.store.as_ref().unwrap().job_states().unwrap();
    states.get(job).and_then(|s| s.last_fire)
}

/// Waits (bounded, on the spawner's descriptor as the loop does) until every run handed to
/// the spawner has come back and been started.
fn await_spawns(scheduler: &mut Loop<'_>, now: DateTime<Utc>) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let start = std::time::Instant::now();
    while scheduler.spawning.busy() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        let mut fds = [PollFd::new(scheduler.spawning.fd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::from(50u16)).unwrap();
        scheduler.spawned(now);
    }
}

fn quiet() -> Log {
    Log::to_writer(LogFormat::Json, Box::new(std::io::sink()))
}

#[test]
fn a_run_is_claimed_within_its_lead_and_not_before() {
    let fixture = Fixture::new(EVERY_TEN, at("10:00:05"));
    let mut log = quiet();
    let mut scheduler = fixture.scheduler(&mut log);
    scheduler.look_ahead(at("10:00:05"));
    assert!(scheduler.ahead.is_none());
    let (instant, from) = scheduler.prepare_at.unwrap();
    assert_eq!(instant, at("10:00:10"));
    assert!(from < at("10:00:10") && from > at("10:00:09.99"), "{from}");
    // The timer is set for the preparation, not the fire.
    assert_eq!(scheduler.next_deadline(), Some(from));
    assert!(rows(&scheduler).is_empty());

    scheduler.look_ahead(from);
    assert_eq!(scheduler.ahead.as_ref().map(|a| a.at), Some(at("10:00:10")));
    assert_eq!(scheduler.next_deadline(), Some(at("10:00:10")));
    let claimed = rows(&scheduler);
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].outcome, Outcome::Claimed);
    assert_eq!(claimed[0].scheduled, at("10:00:10"));
    // Asked again before the instant: nothing more is claimed.
    scheduler.look_ahead(from + TimeDelta::milliseconds(1));
    assert_eq!(rows(&scheduler).len(), 1);
}

#[test]
fn at_its_instant_a_prepared_run_starts_under_the_claim_made_ahead() {
    let _children = all_children();
    let fixture = Fixture::new(EVERY_TEN, at("10:00:09.999"));
    let mut log = quiet();
    let mut scheduler = fixture.scheduler(&mut log);
    scheduler.look_ahead(at("10:00:09.999"));
    let held = rows(&scheduler)[0].id;

    fixture.clock.set(at("10:00:10"));
    let events = scheduler.planner.as_mut().unwrap().advance(at("10:00:10"));
    scheduler.carry_out(events, at("10:00:10"));
    assert!(scheduler.ahead.is_none());
    await_spawns(&mut scheduler, at("10:00:10"));
    // The start is written with the rest of the turn's, before the loop sleeps.
    assert_eq!(rows(&scheduler)[0].outcome, Outcome::Claimed);
    scheduler.commit_journal(at("10:00:10"));
    let started = rows(&scheduler);
    assert_eq!(started.len(), 1, "{started:#?}");
    assert_eq!(started[0].id, held);
    assert!(matches!(started[0].outcome, Outcome::Running { .. }));

    // Stop, and let the loop collect the run.
    scheduler.stop(at("10:00:10"));
    scheduler.run().unwrap();
    let ended = rows(&scheduler);
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].outcome, Outcome::Exited { code: 0 });
    assert_eq!(last_fire(&scheduler, "tick"), Some(at("10:00:10")));
}

#[test]
fn stopping_before_the_instant_gives_the_claims_back() {
    let fixture = Fixture::new(EVERY_TEN, at("10:00:09.999"));
    let mut log = quiet();
    let mut scheduler = fixture.scheduler(&mut log);
    // A fire handled before, so that there is a last fire to put back.
    let store = scheduler.store.as_mut().unwrap();
    let earlier = Claim {
        job: "tick",
        scheduled: at("10:00:00"),
        manual: false,
        attempt: 1,
        attempts: 1,
    };
    let id = store.claim(&[earlier], at("10:00:00")).unwrap()[0];
    store.spawn_failed(id, at("10:00:00"), "test").unwrap();

    scheduler.look_ahead(at("10:00:09.999"));
    assert_eq!(rows(&scheduler).len(), 2);
    assert_eq!(last_fire(&scheduler, "tick"), Some(at("10:00:10")));
    scheduler.stop(at("10:00:09.999"));
    assert!(scheduler.ahead.is_none());
    assert_eq!(rows(&scheduler).len(), 1);
    assert_eq!(last_fire(&scheduler, "tick"), Some(at("10:00:00")));
    // Stopping: nothing more is prepared.
    scheduler.look_ahead(at("10:00:09.9995"));
    assert!(scheduler.ahead.is_none() && scheduler.prepare_at.is_none());
}

#[test]
fn a_reload_gives_back_what_was_prepared_from_the_old_jobfile() {
    let fixture = Fixture::new(EVERY_TEN, at("10:00:09.999"));
    let mut log = quiet();
    let mut scheduler = fixture.scheduler(&mut log);
    scheduler.look_ahead(at("10:00:09.999"));
    assert_eq!(rows(&scheduler).len(), 1);
    let edited = EVERY_TEN.replace("[\"true\"]", "[\"false\"]");
    std::fs::write(&fixture.settings.jobfile, edited).unwrap();
    scheduler.reload(at("10:00:09.999"), "test");
    assert!(scheduler.ahead.is_none());
    assert!(rows(&scheduler).is_empty());
    // Prepared again, from the new jobfile.
    scheduler.look_ahead(at("10:00:09.9991"));
    let ahead = scheduler.ahead.as_mut().unwrap();
    let ready = ahead.take("tick", at("10:00:10")).unwrap();
    let command = format!("{:?}", ready.ticket.command.unwrap().unwrap());
    assert!(command.contains("false"), "{command}");
}

#[test]
fn a_prepared_run_the_planner_does_not_start_is_given_back_before_its_skip_is_recorded() {
    let text = "[jobs.tick]\nevery = \"10s\"\ncommand = [\"true\"]\n";
    let fixture = Fixture::new(text, at("10:00:09.999"));
    let mut log = quiet();
    let mut scheduler = fixture.scheduler(&mut log);
    scheduler.look_ahead(at("10:00:09.999"));
    // The forecast was wrong: say a run of `tick` began meanwhile, so at the instant the
    // planner skips the fire (max_instances = 1).
    let skip = vec![Event::SkippedMaxInstances {
        job: "tick".into(),
        scheduled: at("10:00:10"),
        running: 1,
    }];
    scheduler.carry_out(skip, at("10:00:10"));
    assert!(scheduler.ahead.is_none());
    let recorded = rows(&scheduler);
    assert_eq!(recorded.len(), 1, "{recorded:#?}");
    assert_eq!(
        recorded[0].outcome,
        Outcome::Skipped {
            reason: "max_instances".into()
        }
    );
    assert_eq!(last_fire(&scheduler, "tick"), Some(at("10:00:10")));
}

/// Starts `sleep 30` as a run of `tick` under run id 1, as a start would.
fn start_sleeper(scheduler: &mut Loop<'_>, now: DateTime<Utc>) -> nix::unistd::Pid {
    let mut job = scheduler.job("tick").unwrap().clone();
    job.command = crate::job::Command::Argv(vec!["sleep".into(), "30".into()]);
    let launch = Launch {
        job: &job,
        scheduled_at: now,
        run_id: "t-1",
        jobfile: Path::new("/nonexistent/jobrun.toml"),
        base_dir: Path::new("/"),
        after_run_id: None,
    };
    let child = executor::spawn(&launch).unwrap();
    let pid = child.pid;
    let ticket = Ticket {
        run: 1,
        job: "tick".into(),
        scheduled: now,
        record: None,
        output: Output::Log,
        attempt: 1,
        attempts: 1,
        limits: Limits {
            timeout: None,
            kill_after: job.kill_after,
        },
        outcomes: std::sync::Arc::default(),
        command: None,
        role: super::ticket::Role::Job,
        rid: None,
        hooked: None,
    };
    let run = Run::new(ticket, now, child);
    scheduler.runs.insert(1, run);
    pid
}

/// Reaps until `pid` has ended (bounded); its status.
fn reap_pid(pid: nix::unistd::Pid) -> ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some((_, status)) = executor::reap_any().into_iter().find(|(p, _)| *p == pid) {
            return status;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{pid} still runs: {}",
            std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Issue 10: once the stop grace had run out, its deadline stayed in the past and was armed
/// again on every turn of the loop, which then spun at 100 % CPU until its runs ended.
#[test]
fn a_stop_grace_that_ran_out_is_not_armed_again() {
    let _children = all_children();
    let fixture = Fixture::new(EVERY_TEN, at("10:00:05"));
    let mut log = quiet();
    let mut scheduler = fixture.scheduler(&mut log);
    let pid = start_sleeper(&mut scheduler, at("10:00:05"));
    scheduler.stop(at("10:00:05"));
    assert_eq!(scheduler.wake_at(at("10:00:05")), Some(at("10:00:15")));
    // The grace runs out: SIGTERM goes to the run, and SIGKILL is due `kill_after` later.
    scheduler.enforce_deadlines(at("10:00:15"));
    assert_eq!(scheduler.wake_at(at("10:00:15")), Some(at("10:00:25")));
    scheduler.enforce_deadlines(at("10:00:25"));
    assert_eq!(scheduler.wake_at(at("10:00:25")), None);
    assert_eq!(reap_pid(pid), ExitStatus::Signal(Signal::SIGTERM as i32));
}

#[test]
fn a_past_deadline_that_nothing_consumes_wakes_the_loop_once() {
    let fixture = Fixture::new(EVERY_TEN, at("10:00:05"));
    let mut log = quiet();
    let mut scheduler = fixture.scheduler(&mut log);
    // Nothing handles this deadline (no call of enforce_deadlines): only the guard is tested.
    scheduler.stop_deadline = Some(at("10:00:04"));
    assert_eq!(scheduler.wake_at(at("10:00:05")), Some(at("10:00:04")));
    assert_eq!(scheduler.wake_at(at("10:00:05.1")), None);
    assert_eq!(scheduler.wake_at(at("10:00:05.2")), None);
    // A new past deadline is armed, once.
    scheduler.stop_deadline = Some(at("10:00:05.1"));
    assert_eq!(scheduler.wake_at(at("10:00:05.3")), Some(at("10:00:05.1")));
    assert_eq!(scheduler.wake_at(at("10:00:05.3")), None);
}

#[test]
fn a_batch_larger_than_a_spawn_chunk_starts_and_records_every_run_once() {
    // 80 runs due at once are handed to the spawner a few dozen at a time, with the ended ones
    // reaped in between (`IN_FLIGHT` in `spawning.rs`), some of them before their start has
    // come back: each still ends exactly once in the store.
    let _children = all_children();
    let mut text = String::new();
    for i in 0..80 {
        text.push_str(&format!(
            "[jobs.j{i}]\nat = \"2026-05-01T10:00:10Z\"\ncommand = [\"true\"]\n"
        ));
    }
    let fixture = Fixture::new(&text, at("10:00:09.999"));
    let mut log = quiet();
    let mut scheduler = fixture.scheduler(&mut log);
    scheduler.look_ahead(at("10:00:09.999"));
    fixture.clock.set(at("10:00:10"));
    let events = scheduler.planner.as_mut().unwrap().advance(at("10:00:10"));
    assert_eq!(events.len(), 80);
    scheduler.carry_out(events, at("10:00:10"));
    scheduler.stop(at("10:00:10"));
    scheduler.run().unwrap();
    let ended = rows(&scheduler);
    assert_eq!(ended.len(), 80);
    assert!(
        ended
            .iter()
            .all(|r| r.outcome == Outcome::Exited { code: 0 }),
        "{ended:#?}"
    );
    let jobs: std::collections::BTreeSet<&str> = ended.iter().map(|r| r.job.as_str()).collect();
    assert_eq!(jobs.len(), 80);
}

/// The loop at 10:00:10, and what the planner starts then.
fn at_ten<'a>(fixture: &'a Fixture, log: &'a mut Log) -> (Loop<'a>, Vec<Event>) {
    let mut scheduler = fixture.scheduler(log);
    fixture.clock.set(at("10:00:10"));
    let events = scheduler.planner.as_mut().unwrap().advance(at("10:00:10"));
    (scheduler, events)
}

/// `count` jobs running `command`, all due at 10:00:10.
fn due_at_ten(count: usize, command: &str) -> String {
    (0..count)
        .map(|i| format!("[jobs.j{i}]\nat = \"2026-05-01T10:00:10Z\"\ncommand = {command}\n"))
        .collect()
}

#[test]
fn a_run_whose_process_is_reaped_before_its_start_comes_back_ends_once() {
    let _children = all_children();
    let fixture = Fixture::new(&due_at_ten(1, "[\"true\"]"), at("10:00:09.999"));
    let mut log = quiet();
    let (mut scheduler, events) = at_ten(&fixture, &mut log);
    scheduler.carry_out(events, at("10:00:10"));
    // The process is reaped while its start has not been taken from the spawner: the loop
    // does not know its pid yet, and keeps its exit.
    let start = std::time::Instant::now();
    while scheduler.spawning.early_exits() == 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(5));
        scheduler.reap(at("10:00:10"));
    }
    assert!(scheduler.runs.is_empty());
    await_spawns(&mut scheduler, at("10:00:10"));
    // Its start came back: it started and ended at once, its slot freed for the planner.
    assert!(scheduler.runs.is_empty());
    assert_eq!(scheduler.freed.len(), 1);
    assert_eq!(scheduler.spawning.early_exits(), 0);
    scheduler.commit_journal(at("10:00:10"));
    let ended = rows(&scheduler);
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].outcome, Outcome::Exited { code: 0 });
    assert!(ended[0].started.is_some());
}

#[test]
fn a_run_the_spawner_cannot_start_is_recorded_as_failed_and_the_others_run() {
    let _children = all_children();
    let text =
        due_at_ten(3, "[\"true\"]").replacen("[\"true\"]", "[\"/nonexistent/jobrun-program\"]", 1);
    let fixture = Fixture::new(&text, at("10:00:09.999"));
    let mut log = quiet();
    let (mut scheduler, events) = at_ten(&fixture, &mut log);
    scheduler.carry_out(events, at("10:00:10"));
    scheduler.stop(at("10:00:10"));
    scheduler.run().unwrap();
    let mut ended = rows(&scheduler);
    ended.sort_by(|a, b| a.job.cmp(&b.job));
    assert_eq!(ended.len(), 3);
    match &ended[0].outcome {
        Outcome::SpawnFailed { error } => {
            assert!(error.contains("/nonexistent/jobrun-program"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        ended[1..]
            .iter()
            .all(|r| r.outcome == Outcome::Exited { code: 0 })
    );
}

#[test]
fn stopping_while_runs_are_being_spawned_ends_every_one_of_them() {
    // More runs than are handed to the spawner at a time: when the stop comes, some are
    // being spawned and some wait their turn. Each still starts (its fire is claimed), is
    // ended by the stop and reaped before the loop returns.
    let _children = all_children();
    let fixture = Fixture::new(&due_at_ten(40, "[\"sleep\", \"30\"]"), at("10:00:09.999"));
    let mut log = quiet();
    let (mut scheduler, events) = at_ten(&fixture, &mut log);
    scheduler.carry_out(events, at("10:00:10"));
    assert!(scheduler.spawning.busy());
    // What the stop reports as running: those started, and those still being spawned.
    assert_eq!(scheduler.runs.len() + scheduler.spawning.len(), 40);
    // SIGTERM, then a second one: no grace.
    scheduler.stop(at("10:00:10"));
    scheduler.stop(at("10:00:10"));
    scheduler.run().unwrap();
    assert!(!scheduler.spawning.busy());
    let ended = rows(&scheduler);
    assert_eq!(ended.len(), 40);
    let term = Signal::SIGTERM as i32;
    assert!(
        ended
            .iter()
            .all(|r| r.outcome == Outcome::Signaled { signal: term }),
        "{ended:#?}"
    );
}

#[test]
fn starts_wait_for_the_spawns_in_flight_and_reach_the_store_once_they_are_done() {
    // Results come back one at a time; committing the starts at each would make a batch of
    // forty runs forty transactions (`journal.rs`).
    let _children = all_children();
    let fixture = Fixture::new(&due_at_ten(40, "[\"sleep\", \"30\"]"), at("10:00:09.999"));
    let mut log = quiet();
    let (mut scheduler, events) = at_ten(&fixture, &mut log);
    scheduler.carry_out(events, at("10:00:10"));
    let start = std::time::Instant::now();
    while scheduler.runs.is_empty() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(5));
        scheduler.spawned(at("10:00:10"));
    }
    assert!(scheduler.spawning.busy(), "all 40 came back at once");
    assert!(scheduler.journal_can_wait());
    assert!(
        rows(&scheduler)
            .iter()
            .all(|r| r.outcome == Outcome::Claimed)
    );
    await_spawns(&mut scheduler, at("10:00:10"));
    // Done spawning: the turn commits them, all forty in one go.
    assert!(!scheduler.journal_can_wait());
    assert_eq!(scheduler.journal.len(), 40);
    scheduler.commit_journal(at("10:00:10"));
    let rows = rows(&scheduler);
    assert_eq!(rows.len(), 40);
    assert!(
        rows.iter()
            .all(|r| matches!(r.outcome, Outcome::Running { .. })),
        "{rows:#?}"
    );
    scheduler.stop(at("10:00:10"));
    scheduler.stop(at("10:00:10"));
    scheduler.run().unwrap();
}

#[test]
fn a_run_replaced_while_it_is_being_spawned_is_ended_once_it_has_started() {
    // Several missed fires caught up at once: the newer fire replaces a run whose process is
    // still being spawned.
    let _children = all_children();
    let text = "[jobs.w]\nevery = \"10s\"\noverlap = \"replace\"\ncommand = [\"sleep\", \"30\"]\n";
    let fixture = Fixture::new(text, at("10:00:09.999"));
    let mut log = quiet();
    let (mut scheduler, mut events) = at_ten(&fixture, &mut log);
    let Some(Event::Start { run, .. }) = events.first() else {
        panic!("{events:?}");
    };
    events.push(Event::Replace {
        job: "w".into(),
        run: *run,
        scheduled: at("10:00:20"),
    });
    scheduler.carry_out(events, at("10:00:10"));
    await_spawns(&mut scheduler, at("10:00:10"));
    let start = std::time::Instant::now();
    while !scheduler.runs.is_empty() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(5));
        scheduler.reap(at("10:00:10"));
    }
    scheduler.commit_journal(at("10:00:10"));
    let ended = rows(&scheduler);
    assert_eq!(ended.len(), 1);
    let term = Signal::SIGTERM as i32;
    assert_eq!(ended[0].outcome, Outcome::Signaled { signal: term });
}
