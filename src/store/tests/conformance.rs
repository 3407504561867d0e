//! The store's contract, written once and run on both back ends: each test is a function of a
//! [`Backend`] (which opens stores of one kind on one place), and `conformance!` makes a
//! `sqlite::name` and a `postgres::name` test of it. The PostgreSQL ones get a database of
//! their own on the test server (`postgres::testing`), and are skipped without one.
//!
//! Where the back ends differ on purpose, the test says so and checks both rules.

use chrono::TimeDelta;

use super::t;
use crate::store::postgres::testing::TestDatabase;
use crate::store::{
    Claim, Decision, FailedBy, Location, MAX_TAIL, Outcome, PlannedRetry, Retention, RunRecord,
    RunStep, Store, StoreError,
};

/// Opens stores of one kind, all on the same data.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(Box<TestDatabase>),
}

impl Backend {
    fn location(&self) -> Location {
        match self {
            Backend::Sqlite(dir) => Location::File(dir.path().join("state").join("s.sqlite")),
            Backend::Postgres(db) => Location::Postgres {
                target: Box::new(db.target()),
                lease: crate::store::postgres::DEFAULT_LEASE,
            },
        }
    }

    /// A scheduler's store (drop the previous one first: SQLite allows one at a time).
    fn writer(&self) -> Store {
        Store::open_scheduler(&self.location(), t(0)).unwrap()
    }

    fn reader(&self) -> Option<Store> {
        Store::open_reader(&self.location()).unwrap()
    }

    fn is_postgres(&self) -> bool {
        matches!(self, Backend::Postgres(_))
    }
}

fn sqlite() -> Option<Backend> {
    Some(Backend::Sqlite(tempfile::tempdir().unwrap()))
}

fn postgres() -> Option<Backend> {
    TestDatabase::create().map(|db| Backend::Postgres(Box::new(db)))
}

/// `conformance!(a, b, …)`: a test per back end for each function named.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                if let Some(backend) = super::sqlite() {
                    super::$name(&backend);
                }
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(backend) = super::postgres() {
                    super::$name(&backend);
                }
            })*
        }
    };
}

conformance!(
    nothing_to_read_before_a_scheduler_made_the_store,
    a_run_that_exits_round_trips_with_every_field,
    every_outcome_round_trips,
    a_scheduled_fire_is_claimed_only_once,
    a_fire_someone_else_has_is_lost_not_refused,
    manual_runs_may_repeat_an_instant_and_leave_last_fire_alone,
    a_run_moves_only_forward,
    last_fire_never_moves_back_and_schedules_reset_it,
    forgotten_jobs_start_afresh_and_keep_their_history,
    a_released_hold_puts_last_fire_back,
    runs_left_by_a_scheduler_are_found_by_the_next,
    history_is_newest_first_and_last_outcomes_skip_claims,
    a_planned_retry_survives_and_its_claim_takes_it_off,
    a_boot_is_new_once,
    chains_start_once_and_follow_final_ends,
    a_replaced_run_names_its_replacement,
    pruning_keeps_runs_in_flight,
    output_tails_are_cut_to_their_end,
    a_bad_decision_is_refused,
    starts_and_ends_in_one_batch_are_written_whole_or_not_at_all,
);

fn scheduled(job: &str, at: chrono::DateTime<chrono::Utc>) -> Claim<'_> {
    Claim {
        job,
        scheduled: at,
        manual: false,
        attempt: 1,
        attempts: 1,
    }
}

fn claim(store: &mut Store, job: &str, secs: i64) -> i64 {
    store.claim(&[scheduled(job, t(secs))], t(secs)).unwrap()[0]
}

fn run(store: &mut Store, job: &str, secs: i64, code: i32) -> i64 {
    let id = claim(store, job, secs);
    store.started(id, 4242, t(secs)).unwrap();
    store
        .finished(id, t(secs + 1), &Outcome::Exited { code }, false, "")
        .unwrap();
    id
}

fn last_fire(store: &Store, job: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    store
        .job_states()
        .unwrap()
        .get(job)
        .and_then(|s| s.last_fire)
}

fn refused(err: StoreError, action: &str, words: &str) {
    match &err {
        StoreError::Io { action: a, .. } => assert_eq!(*a, action, "{err}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(err.to_string().contains(words), "{err}");
}

fn nothing_to_read_before_a_scheduler_made_the_store(b: &Backend) {
    assert!(b.reader().is_none());
    drop(b.writer());
    let reader = b.reader().expect("made by the scheduler");
    assert!(reader.history(None, 10).unwrap().is_empty());
    assert!(reader.check().unwrap().is_empty());
}

fn a_run_that_exits_round_trips_with_every_field(b: &Backend) {
    let mut store = b.writer();
    let id = store.claim(&[scheduled("backup", t(60))], t(61)).unwrap()[0];
    assert_eq!(store.history(None, 1).unwrap()[0].outcome, Outcome::Claimed);
    store.started(id, 777, t(62)).unwrap();
    assert_eq!(
        store.history(None, 1).unwrap()[0].outcome,
        Outcome::Running { pid: 777 }
    );
    store
        .finished(id, t(65), &Outcome::Exited { code: 3 }, true, "out\nerr\n")
        .unwrap();
    let row = b.reader().unwrap().history(None, 10).unwrap();
    assert_eq!(
        row,
        [RunRecord {
            id,
            job: "backup".into(),
            scheduled: t(60),
            manual: false,
            recorded_at: t(61),
            started: Some(t(62)),
            ended: Some(t(65)),
            timed_out: true,
            outcome: Outcome::Exited { code: 3 },
            failed_by: Some(FailedBy::Timeout),
            attempt: 1,
            attempts: 1,
            output_tail: "out\nerr\n".into(),
            replaced_by: None,
        }]
    );
}

fn every_outcome_round_trips(b: &Backend) {
    let mut store = b.writer();
    let signaled = claim(&mut store, "a", 1);
    store.started(signaled, 10, t(1)).unwrap();
    store
        .finished(signaled, t(2), &Outcome::Signaled { signal: 9 }, false, "")
        .unwrap();
    let failed = claim(&mut store, "b", 1);
    store.spawn_failed(failed, t(1), "No such file").unwrap();
    let interrupted = claim(&mut store, "c", 1);
    store
        .mark_interrupted(interrupted, t(5), "jobrun stopped")
        .unwrap();
    let decisions = [
        Outcome::Missed {
            late_by_ms: 90_000,
            fires: 1,
            first: t(10),
        },
        Outcome::Missed {
            late_by_ms: -1,
            fires: 604_800,
            first: t(10) - TimeDelta::days(7),
        },
        Outcome::Coalesced { into: t(20) },
        Outcome::Skipped {
            reason: "max_instances".into(),
        },
    ];
    let jobs = ["d", "e", "f", "g"];
    let batch: Vec<Decision<'_>> = jobs
        .iter()
        .zip(&decisions)
        .map(|(job, outcome)| Decision {
            job,
            scheduled: t(10),
            outcome: outcome.clone(),
        })
        .collect();
    store.decide(&batch, t(30)).unwrap();
    let mut rows = store.history(None, 100).unwrap();
    rows.reverse();
    let outcomes: Vec<_> = rows.iter().map(|r| r.outcome.clone()).collect();
    let mut expected = vec![
        Outcome::Signaled { signal: 9 },
        Outcome::SpawnFailed {
            error: "No such file".into(),
        },
        Outcome::Interrupted {
            note: "jobrun stopped".into(),
        },
    ];
    expected.extend(decisions);
    assert_eq!(outcomes, expected);
    // A failed start has an end but no start; a decision has neither.
    assert_eq!((rows[1].started, rows[1].ended), (None, Some(t(1))));
    assert_eq!((rows[2].started, rows[2].ended), (None, Some(t(5))));
    for decision in &rows[3..] {
        assert_eq!((decision.started, decision.ended), (None, None));
        assert_eq!(decision.recorded_at, t(30));
        assert!(!decision.manual);
    }
    assert!(store.check().unwrap().is_empty());
    assert_eq!(last_fire(&store, "g"), Some(t(10)));
    assert!(store.check().unwrap().is_empty());
}

fn a_scheduled_fire_is_claimed_only_once(b: &Backend) {
    let mut store = b.writer();
    claim(&mut store, "backup", 60);
    let twice = [scheduled("other", t(60)), scheduled("backup", t(60))];
    refused(
        store.claim(&twice, t(61)).unwrap_err(),
        "claim a run",
        "already handled",
    );
    // The whole batch was rolled back.
    assert_eq!(store.history(None, 10).unwrap().len(), 1);
    let skip = Decision {
        job: "backup",
        scheduled: t(60),
        outcome: Outcome::Skipped {
            reason: "max_instances".into(),
        },
    };
    let decided = store.decide(&[skip], t(61));
    if b.is_postgres() {
        // Shared: another scheduler may have decided about the fire too; the first word stands.
        decided.unwrap();
    } else {
        refused(decided.unwrap_err(), "record a decision", "already handled");
    }
    assert_eq!(
        store.history(None, 10).unwrap()[0].outcome,
        Outcome::Claimed
    );
    claim(&mut store, "report", 60);
    assert_eq!(store.history(None, 10).unwrap().len(), 2);
}

fn a_fire_someone_else_has_is_lost_not_refused(b: &Backend) {
    let mut store = b.writer();
    let first = claim(&mut store, "a", 60);
    let claims = [scheduled("b", t(60)), scheduled("a", t(60))];
    let won = store.claim_won(&claims, t(60));
    if b.is_postgres() {
        let won = won.unwrap();
        assert!(won[0].is_some() && won[1].is_none(), "{won:?}");
        let rows = store.history(None, 10).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().any(|r| r.id == first));
    } else {
        // One scheduler holds an SQLite store: a second claim is its own mistake.
        refused(won.unwrap_err(), "claim a run", "already handled");
    }
}

fn manual_runs_may_repeat_an_instant_and_leave_last_fire_alone(b: &Backend) {
    let mut store = b.writer();
    claim(&mut store, "a", 60);
    let manual = Claim {
        manual: true,
        ..scheduled("a", t(60))
    };
    let ids = store.claim(&[manual, manual], t(90)).unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(last_fire(&store, "a"), Some(t(60)));
    assert!(store.history(Some("a"), 1).unwrap()[0].manual);
}

fn a_run_moves_only_forward(b: &Backend) {
    let mut store = b.writer();
    let id = claim(&mut store, "a", 1);
    let ended = Outcome::Exited { code: 0 };
    refused(
        store.finished(id, t(2), &ended, false, "").unwrap_err(),
        "record a run's end",
        "is claimed, not running",
    );
    store.started(id, 1, t(1)).unwrap();
    refused(
        store.started(id, 1, t(1)).unwrap_err(),
        "record a run's start",
        "is running, not claimed",
    );
    refused(
        store.started(id + 1000, 1, t(1)).unwrap_err(),
        "record a run's start",
        "there is no run",
    );
    refused(
        store
            .finished(id, t(2), &Outcome::Claimed, false, "")
            .unwrap_err(),
        "record a run's end",
        "exited or signaled",
    );
    store.finished(id, t(2), &ended, false, "").unwrap();
    refused(
        store.mark_interrupted(id, t(3), "late").unwrap_err(),
        "mark a run as interrupted",
        "is exited, not claimed or running",
    );
}

fn last_fire_never_moves_back_and_schedules_reset_it(b: &Backend) {
    let mut store = b.writer();
    store
        .set_schedules(&[("a", "cron 1"), ("b", "cron 2")])
        .unwrap();
    assert_eq!(last_fire(&store, "a"), None);
    claim(&mut store, "a", 120);
    claim(&mut store, "a", 60);
    assert_eq!(last_fire(&store, "a"), Some(t(120)));
    // The same schedule again: kept; another one: the new schedule starts afresh.
    store.set_schedules(&[("a", "cron 1")]).unwrap();
    assert_eq!(last_fire(&store, "a"), Some(t(120)));
    store.set_schedules(&[("a", "cron 9")]).unwrap();
    let states = store.job_states().unwrap();
    assert_eq!(states["a"].schedule, "cron 9");
    assert_eq!(states["a"].last_fire, None);
    assert_eq!(states["b"].schedule, "cron 2");
    // A job claimed before any schedule was recorded has an empty one.
    claim(&mut store, "c", 5);
    assert_eq!(store.job_states().unwrap()["c"].schedule, "");
}

fn forgotten_jobs_start_afresh_and_keep_their_history(b: &Backend) {
    let mut store = b.writer();
    run(&mut store, "a", 60, 0);
    store.forget_jobs(&["a"]).unwrap();
    assert!(!store.job_states().unwrap().contains_key("a"));
    assert_eq!(store.history(Some("a"), 10).unwrap().len(), 1);
    store.forget_jobs(&[]).unwrap();
}

fn a_released_hold_puts_last_fire_back(b: &Backend) {
    let mut store = b.writer();
    claim(&mut store, "a", 60);
    let held = store
        .hold(&[scheduled("a", t(120)), scheduled("b", t(120))], t(119))
        .unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(last_fire(&store, "a"), Some(t(120)));
    store.release(&held).unwrap();
    assert_eq!(last_fire(&store, "a"), Some(t(60)));
    assert_eq!(last_fire(&store, "b"), None);
    assert_eq!(store.history(None, 10).unwrap().len(), 1);
    // A hold that started is not released, nor is anything else of the batch.
    let held = store
        .hold(&[scheduled("a", t(180)), scheduled("b", t(180))], t(179))
        .unwrap();
    store.started(held[1].id, 7, t(180)).unwrap();
    refused(
        store.release(&held).unwrap_err(),
        "release a run claimed ahead",
        "is running, not claimed",
    );
    assert_eq!(store.history(None, 10).unwrap().len(), 3);
}

fn runs_left_by_a_scheduler_are_found_by_the_next(b: &Backend) {
    let mut first = b.writer();
    let claimed = claim(&mut first, "a", 1);
    let running = claim(&mut first, "b", 1);
    first.started(running, 99, t(1)).unwrap();
    run(&mut first, "c", 1, 0);
    // Its own runs in flight are not "left" while it lives.
    assert!(first.unfinished().unwrap().is_empty());
    drop(first);
    let mut next = b.writer();
    let left: Vec<i64> = next.unfinished().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(left, [claimed, running]);
    for id in left {
        next.mark_interrupted(id, t(9), "jobrun stopped").unwrap();
    }
    assert!(next.unfinished().unwrap().is_empty());
    // A reader sees every run in flight, the live scheduler's included.
    let mine = claim(&mut next, "d", 2);
    let seen: Vec<i64> = b
        .reader()
        .unwrap()
        .unfinished()
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(seen, [mine]);
}

fn history_is_newest_first_and_last_outcomes_skip_claims(b: &Backend) {
    let mut store = b.writer();
    run(&mut store, "a", 1, 0);
    let newest_a = run(&mut store, "a", 2, 3);
    let b_run = run(&mut store, "b", 3, 0);
    claim(&mut store, "a", 4);
    let all = store.history(None, 10).unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    assert_eq!(store.history(None, 2).unwrap().len(), 2);
    assert_eq!(store.history(Some("a"), 10).unwrap().len(), 3);
    assert!(store.history(Some("zzz"), 10).unwrap().is_empty());
    let last = store.last_outcomes().unwrap();
    assert_eq!(last.len(), 2);
    assert_eq!(last["a"].id, newest_a);
    assert_eq!(last["a"].failed_by, Some(FailedBy::Status));
    assert_eq!(last["b"].id, b_run);
    assert!(last["b"].succeeded());
}

fn a_planned_retry_survives_and_its_claim_takes_it_off(b: &Backend) {
    let attempt = |n| Claim {
        attempt: n,
        attempts: 3,
        ..scheduled("j", t(60))
    };
    let retry = PlannedRetry {
        job: "j".into(),
        scheduled: t(60),
        attempt: 2,
        attempts: 3,
        due: t(91),
    };
    let mut store = b.writer();
    let id = store.claim(&[attempt(1)], t(60)).unwrap()[0];
    store.started(id, 7, t(60)).unwrap();
    store
        .finished_as(
            id,
            t(61),
            &Outcome::Exited { code: 1 },
            false,
            "",
            Some(FailedBy::Status),
            Some(&retry),
        )
        .unwrap();
    drop(store);
    let mut store = b.writer();
    assert_eq!(store.pending_retries().unwrap(), [retry]);
    store.claim(&[attempt(2)], t(91)).unwrap();
    assert!(store.pending_retries().unwrap().is_empty());
    refused(
        store.claim(&[attempt(2)], t(92)).unwrap_err(),
        "claim a run",
        "already handled",
    );
    let rows = store.history(Some("j"), 10).unwrap();
    assert_eq!((rows[0].attempt, rows[0].attempts), (2, 3));
    assert_eq!(last_fire(&store, "j"), Some(t(60)));
}

fn a_boot_is_new_once(b: &Backend) {
    let mut store = b.writer();
    let first = store.note_boot("boot-1", t(10)).unwrap();
    assert!(first.new);
    assert_eq!(first.at, t(10));
    let again = store.note_boot("boot-1", t(20)).unwrap();
    assert!(!again.new);
    assert_eq!(again.at, t(10));
    let next = store.note_boot("boot-2", t(30)).unwrap();
    assert!(next.new);
    assert_eq!(next.at, t(30));
}

fn chains_start_once_and_follow_final_ends(b: &Backend) {
    let mut store = b.writer();
    store.set_schedules(&[("down", "after up")]).unwrap();
    store.start_chains(&["down"], t(5)).unwrap();
    store.start_chains(&["down"], t(50)).unwrap();
    assert_eq!(last_fire(&store, "down"), Some(t(5)));
    run(&mut store, "up", 1, 0);
    let later = run(&mut store, "up", 10, 1);
    let failed_start = claim(&mut store, "up", 20);
    store.spawn_failed(failed_start, t(20), "gone").unwrap();
    let ended = store.ended_after(&["up"], t(5)).unwrap();
    let ids: Vec<i64> = ended.iter().map(|r| r.id).collect();
    assert_eq!(ids, [later, failed_start]);
    // A failed attempt that a retry follows is not an end.
    let first = Claim {
        attempts: 2,
        ..scheduled("up", t(30))
    };
    let id = store.claim(&[first], t(30)).unwrap()[0];
    store.started(id, 1, t(30)).unwrap();
    let retry = PlannedRetry {
        job: "up".into(),
        scheduled: t(30),
        attempt: 2,
        attempts: 2,
        due: t(40),
    };
    store
        .finished_as(
            id,
            t(31),
            &Outcome::Exited { code: 1 },
            false,
            "",
            Some(FailedBy::Status),
            Some(&retry),
        )
        .unwrap();
    assert_eq!(store.ended_after(&["up"], t(25)).unwrap(), []);
}

fn a_replaced_run_names_its_replacement(b: &Backend) {
    let mut store = b.writer();
    let old = run(&mut store, "a", 1, 0);
    let new = claim(&mut store, "a", 2);
    store.mark_replaced(old, new).unwrap();
    assert_eq!(
        store.history(Some("a"), 2).unwrap()[1].replaced_by,
        Some(new)
    );
    refused(
        store.mark_replaced(new, old).unwrap_err(),
        "record a replaced run",
        "is claimed, not exited or signaled",
    );
}

fn pruning_keeps_runs_in_flight(b: &Backend) {
    let mut store = b.writer();
    for i in 0..5 {
        run(&mut store, "a", i, 0);
    }
    let in_flight = claim(&mut store, "a", 100);
    run(&mut store, "b", 1, 0);
    let keep_two = Retention {
        max_runs_per_job: Some(2),
        max_age: None,
    };
    // The in-flight claim is a's newest row: it and one more stay.
    assert_eq!(store.prune(&keep_two, t(10)).unwrap(), 4);
    let a: Vec<i64> = store
        .history(Some("a"), 10)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(a.len(), 2);
    assert!(a.contains(&in_flight));
    let by_age = Retention {
        max_runs_per_job: None,
        max_age: Some(TimeDelta::zero()),
    };
    assert_eq!(store.prune(&by_age, t(1000)).unwrap(), 2);
    assert_eq!(store.history(None, 10).unwrap().len(), 1);
}

fn output_tails_are_cut_to_their_end(b: &Backend) {
    let mut store = b.writer();
    let id = claim(&mut store, "a", 1);
    store.started(id, 1, t(1)).unwrap();
    let long = format!("{}é{}", "x".repeat(MAX_TAIL), "end");
    store
        .finished(id, t(2), &Outcome::Exited { code: 0 }, false, &long)
        .unwrap();
    let tail = store.history(None, 1).unwrap().remove(0).output_tail;
    assert!(
        tail.len() <= MAX_TAIL && tail.ends_with("éend"),
        "{}",
        tail.len()
    );
}

fn a_bad_decision_is_refused(b: &Backend) {
    let mut store = b.writer();
    let not_a_decision = Decision {
        job: "a",
        scheduled: t(1),
        outcome: Outcome::Exited { code: 0 },
    };
    refused(
        store.decide(&[not_a_decision], t(1)).unwrap_err(),
        "record a decision",
        "not Exited",
    );
    let bad_range = Decision {
        job: "a",
        scheduled: t(1),
        outcome: Outcome::Missed {
            late_by_ms: 0,
            fires: 2,
            first: t(5),
        },
    };
    refused(
        store.decide(&[bad_range], t(1)).unwrap_err(),
        "record a decision",
        "must come before",
    );
    assert!(store.history(None, 10).unwrap().is_empty());
}

fn starts_and_ends_in_one_batch_are_written_whole_or_not_at_all(b: &Backend) {
    let mut store = b.writer();
    let one = claim(&mut store, "a", 1);
    let two = claim(&mut store, "b", 1);
    let ended = |id, code| RunStep::Finished {
        id,
        at: t(3),
        outcome: Outcome::Exited { code },
        timed_out: false,
        output_tail: format!("run {id}"),
        failed_by: (code != 0).then_some(FailedBy::Status),
        retry: None,
    };
    let started = |id| RunStep::Started {
        id,
        pid: 7,
        at: t(2),
    };
    store
        .record_runs(&[started(one), started(two), ended(one, 0)])
        .unwrap();
    // An end of a run that is not running refuses the batch: nothing of it is written.
    let three = claim(&mut store, "c", 1);
    assert!(
        store
            .record_runs(&[ended(two, 1), ended(three, 0)])
            .is_err()
    );
    let rows = store.history(None, 10).unwrap();
    let outcome = |id| rows.iter().find(|r| r.id == id).unwrap().outcome.clone();
    assert_eq!(outcome(one), Outcome::Exited { code: 0 });
    assert_eq!(outcome(two), Outcome::Running { pid: 7 });
    assert_eq!(outcome(three), Outcome::Claimed);
    store.record_runs(&[ended(two, 1)]).unwrap();
    let row = store.history(Some("b"), 1).unwrap().remove(0);
    assert_eq!(row.failed_by, Some(FailedBy::Status));
    assert_eq!(row.output_tail, format!("run {two}"));
    assert_eq!((row.started, row.ended), (Some(t(2)), Some(t(3))));
}
