//! Starts and ends written in batches (`Store::record_runs`, the scheduler's group commit):
//! in order, in one transaction, checked like the one-at-a-time writes, all or nothing.

use super::{assert_refused, claim, new_store, reopen, store_path, t};
use crate::store::{FailedBy, Outcome, PlannedRetry, RunStep};

fn started(id: i64, pid: i32, at: i64) -> RunStep {
    RunStep::Started { id, pid, at: t(at) }
}

fn exited(id: i64, code: i32, at: i64, tail: &str) -> RunStep {
    RunStep::Finished {
        id,
        at: t(at),
        outcome: Outcome::Exited { code },
        timed_out: false,
        output_tail: tail.to_owned(),
        failed_by: (code != 0).then_some(FailedBy::Status),
        retry: None,
    }
}

#[test]
fn a_batch_of_starts_and_ends_is_written_in_order() {
    let (dir, mut store) = new_store();
    let a = claim(&mut store, "a", t(1));
    let b = claim(&mut store, "b", t(1));
    let c = claim(&mut store, "c", t(1));
    // `a` starts and ends within the batch: its steps apply in order.
    let steps = [
        started(a, 10, 1),
        started(b, 11, 1),
        exited(a, 3, 2, "last words\n"),
        started(c, 12, 2),
    ];
    store.record_runs(&steps).unwrap();
    drop(store);

    let store = reopen(&store_path(&dir));
    let rows = store.history(None, 10).unwrap();
    let row = |id: i64| rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(row(a).outcome, Outcome::Exited { code: 3 });
    assert_eq!((row(a).started, row(a).ended), (Some(t(1)), Some(t(2))));
    assert_eq!(row(a).output_tail, "last words\n");
    assert_eq!(row(a).failed_by, Some(FailedBy::Status));
    assert_eq!(row(b).outcome, Outcome::Running { pid: 11 });
    assert_eq!(row(c).outcome, Outcome::Running { pid: 12 });
    assert_eq!(row(c).started, Some(t(2)));
}

#[test]
fn one_step_that_does_not_fit_refuses_the_whole_batch() {
    let (_dir, mut store) = new_store();
    let a = claim(&mut store, "a", t(1));
    let b = claim(&mut store, "b", t(1));
    // `b` never started, so it cannot end: nothing of the batch is written, `a`'s start
    // included.
    let err = store
        .record_runs(&[started(a, 10, 1), exited(b, 0, 2, "")])
        .unwrap_err();
    assert_refused(
        err,
        "record runs' starts and ends",
        "is claimed, not running",
    );
    let rows = store.history(None, 10).unwrap();
    assert!(
        rows.iter().all(|r| r.outcome == Outcome::Claimed),
        "{rows:#?}"
    );
    // An end that is not an end is refused the same way.
    let mut odd = exited(a, 0, 2, "");
    if let RunStep::Finished { outcome, .. } = &mut odd {
        *outcome = Outcome::Claimed;
    }
    let err = store.record_runs(&[started(a, 10, 1), odd]).unwrap_err();
    assert_refused(err, "record runs' starts and ends", "exited or signaled");
    assert_eq!(
        store.history(None, 10).unwrap()[0].outcome,
        Outcome::Claimed
    );
}

#[test]
fn an_end_in_a_batch_keeps_its_retry() {
    let (dir, mut store) = new_store();
    let a = claim(&mut store, "j", t(60));
    let retry = PlannedRetry {
        job: "j".into(),
        scheduled: t(60),
        attempt: 2,
        attempts: 3,
        due: t(90),
    };
    let mut failed = exited(a, 1, 61, "");
    if let RunStep::Finished { retry: r, .. } = &mut failed {
        *r = Some(retry.clone());
    }
    store.record_runs(&[started(a, 7, 60), failed]).unwrap();
    drop(store);
    let store = reopen(&store_path(&dir));
    assert_eq!(store.pending_retries().unwrap(), [retry]);
}

#[test]
fn an_empty_batch_writes_nothing() {
    let (_dir, mut store) = new_store();
    store.record_runs(&[]).unwrap();
    assert!(store.history(None, 10).unwrap().is_empty());
}

#[test]
fn a_start_not_yet_written_leaves_the_run_claimed_for_the_next_scheduler() {
    // The scheduler dies between a run's spawn and its turn's commit: the next one finds the
    // run claimed (see "Starts and ends" in the store's documentation) and marks it
    // interrupted; its fire was handled by the claim and is not claimed again.
    let (dir, mut store) = new_store();
    let a = claim(&mut store, "a", t(1));
    drop(store);
    let mut store = reopen(&store_path(&dir));
    let left: Vec<i64> = store.unfinished().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(left, [a]);
    assert_eq!(store.job_states().unwrap()["a"].last_fire, Some(t(1)));
    assert_refused(
        store
            .claim(&[super::scheduled("a", t(1))], t(2))
            .unwrap_err(),
        "claim a run",
        "already handled",
    );
}

#[test]
fn ends_and_the_claims_they_make_room_for_are_one_transaction() {
    let (dir, mut store) = new_store();
    let a = claim(&mut store, "a", t(1));
    store.record_runs(&[started(a, 10, 1)]).unwrap();
    let ids = store
        .record_runs_and_claim(&[exited(a, 0, 2, "")], &[super::scheduled("b", t(1))], t(2))
        .unwrap();
    assert_eq!(ids.len(), 1);
    drop(store);
    let store = reopen(&store_path(&dir));
    let rows = store.history(None, 10).unwrap();
    let row = |id: i64| rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(row(a).outcome, Outcome::Exited { code: 0 });
    assert_eq!(row(ids[0]).outcome, Outcome::Claimed);
    assert_eq!(store.job_states().unwrap()["b"].last_fire, Some(t(1)));
}

#[test]
fn a_refused_claim_takes_the_ends_of_its_batch_with_it() {
    let (_dir, mut store) = new_store();
    let a = claim(&mut store, "a", t(1));
    store.record_runs(&[started(a, 10, 1)]).unwrap();
    // `a`'s fire at t(1) is handled already: claiming it again is refused, and `a`'s end,
    // in the same transaction, is not written either.
    let err = store
        .record_runs_and_claim(&[exited(a, 0, 2, "")], &[super::scheduled("a", t(1))], t(2))
        .unwrap_err();
    assert_refused(err, "record runs and claim others", "already handled");
    assert_eq!(
        store.history(None, 10).unwrap()[0].outcome,
        Outcome::Running { pid: 10 }
    );
}
