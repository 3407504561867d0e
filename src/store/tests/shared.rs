//! What only a shared (PostgreSQL) store does: schedulers racing for one fire, settling the
//! runs of one whose lease ran out, comparing jobfiles, and riding out a lost connection.
//! Skipped without a test server (`postgres::testing`).

use std::time::Duration;

use super::{notices_until, t};
use crate::store::postgres::testing::TestDatabase;
use crate::store::postgres::{Handover, Notice};
use crate::store::{Claim, Location, Outcome, Store};

fn location(db: &TestDatabase, lease: Duration) -> Location {
    Location::Postgres {
        target: Box::new(db.target()),
        lease,
    }
}

fn fire(job: &str, secs: i64) -> Claim<'_> {
    Claim {
        job,
        scheduled: t(secs),
        manual: false,
        attempt: 1,
        attempts: 1,
    }
}

#[test]
fn of_two_schedulers_claiming_one_batch_each_fire_goes_to_one() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let place = location(&db, Duration::from_secs(10));
    let mut a = Store::open_scheduler(&place, t(0)).unwrap();
    let mut b = Store::open_scheduler(&place, t(0)).unwrap();
    let names: Vec<String> = (0..50).map(|i| format!("j{i}")).collect();
    let batch: Vec<Claim<'_>> = names.iter().map(|n| fire(n, 60)).collect();
    let reversed: Vec<Claim<'_>> = batch.iter().rev().copied().collect();
    let (won_a, won_b) = std::thread::scope(|s| {
        let one = s.spawn(|| a.claim_won(&batch, t(60)).unwrap());
        let two = s.spawn(|| b.claim_won(&reversed, t(60)).unwrap());
        (one.join().unwrap(), two.join().unwrap())
    });
    let mut won_b = won_b;
    won_b.reverse();
    for (x, y) in won_a.iter().zip(&won_b) {
        assert!(x.is_some() != y.is_some(), "{won_a:?} {won_b:?}");
    }
    assert_eq!(a.history(None, 100).unwrap().len(), 50);
}

#[test]
fn a_scheduler_past_its_lease_is_settled_once_and_its_unstarted_fires_handed_over() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let place = location(&db, Duration::from_secs(1));
    let mut dead = Store::open_scheduler(&place, t(0)).unwrap();
    let running = dead.claim(&[fire("r", 60)], t(60)).unwrap()[0];
    dead.started(running, 4242, t(60)).unwrap();
    dead.claim(&[fire("c", 61)], t(60)).unwrap();
    // Killed: its heartbeats stop, its row stays.
    dead.die();
    let mut survivor = Store::open_scheduler(&place, t(0)).unwrap();
    let mut other = Store::open_scheduler(&place, t(0)).unwrap();
    let notices = notices_until(&mut survivor, |n| {
        n.iter().any(|n| matches!(n, Notice::Settled { .. }))
    });
    let others = other.take_notices();
    let settled: Vec<&Notice> = notices
        .iter()
        .chain(&others)
        .filter(|n| matches!(n, Notice::Settled { .. }))
        .collect();
    assert_eq!(settled.len(), 1, "{notices:?} {others:?}");
    let Notice::Settled {
        interrupted,
        handed_over,
        ..
    } = settled[0]
    else {
        unreachable!()
    };
    assert_eq!(interrupted, &[(running, "r".to_owned())]);
    assert_eq!(
        handed_over,
        &[Handover {
            job: "c".into(),
            scheduled: t(61),
            attempt: 1
        }]
    );
    let rows = survivor.history(None, 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(matches!(rows[0].outcome, Outcome::Interrupted { .. }));
    // The handed-over fire is free to claim again.
    assert_eq!(
        survivor.claim_won(&[fire("c", 61)], t(62)).unwrap().len(),
        1
    );
    drop(other);
}

#[test]
fn schedulers_running_different_jobfiles_are_told_once_per_change() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let place = location(&db, Duration::from_secs(1));
    let mut a = Store::open_scheduler(&place, t(0)).unwrap();
    let mut b = Store::open_scheduler(&place, t(0)).unwrap();
    a.set_jobfile_hash("aaaa").unwrap();
    b.set_jobfile_hash("bbbb").unwrap();
    let told = notices_until(&mut a, |n| !n.is_empty());
    let Notice::Jobfiles { differing } = &told[0] else {
        panic!("{told:?}")
    };
    assert_eq!(differing.len(), 1);
    assert_eq!(differing[0].jobfile_hash, "bbbb");
    assert_eq!(b.schedulers().unwrap().len(), 2);
    b.set_jobfile_hash("aaaa").unwrap();
    let told = notices_until(&mut a, |n| !n.is_empty());
    assert_eq!(told, [Notice::Jobfiles { differing: vec![] }]);
}

#[test]
fn a_lost_connection_keeps_starts_and_ends_and_comes_back_once() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let mut store = Store::open_scheduler(&location(&db, Duration::from_secs(10)), t(0)).unwrap();
    let id = store.claim(&[fire("a", 60)], t(60)).unwrap()[0];
    assert!(db.cut_connections() > 0);
    // Nothing new is claimed without the database; a start already claimed is kept.
    let err = store.claim(&[fire("a", 61)], t(61)).unwrap_err();
    assert!(err.is_unreachable(), "{err}");
    store.started(id, 7, t(60)).unwrap();
    store
        .finished(id, t(62), &Outcome::Exited { code: 0 }, false, "ok")
        .unwrap();
    let rows =
        crate::store::tests::wait(Duration::from_secs(5), || store.history(None, 10).is_ok());
    assert!(rows, "the store did not come back");
    let notices = store.take_notices();
    assert!(
        matches!(notices.first(), Some(Notice::Unreachable { .. })),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, Notice::Back { kept: 2, .. })),
        "{notices:?}"
    );
    let row = store.history(None, 10).unwrap().remove(0);
    assert_eq!(row.outcome, Outcome::Exited { code: 0 });
    assert_eq!(row.output_tail, "ok");
}

#[test]
fn a_job_another_live_scheduler_may_still_run_is_not_forgotten() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let place = location(&db, Duration::from_secs(10));
    let mut a = Store::open_scheduler(&place, t(0)).unwrap();
    a.claim(&[fire("j", 60)], t(60)).unwrap();
    let b = Store::open_scheduler(&place, t(0)).unwrap();
    a.forget_jobs(&["j"]).unwrap();
    assert!(a.job_states().unwrap().contains_key("j"));
    drop(b);
    a.forget_jobs(&["j"]).unwrap();
    assert!(!a.job_states().unwrap().contains_key("j"));
}
