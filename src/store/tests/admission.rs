//! Limits across schedulers sharing a PostgreSQL store (`postgres/admit.rs`): `max_instances`
//! with each overlap policy, pool `workers`, `queue_grace` while waiting, and the news a
//! waiting or replaced scheduler is told. Skipped without a test server.

use std::time::Duration;

use super::{notices_until, t};
use crate::job::Overlap;
use crate::store::postgres::Notice;
use crate::store::postgres::testing::TestDatabase;
use crate::store::{Admission, Claim, Location, Outcome, Store, Verdict};

fn open(db: &TestDatabase) -> Store {
    let place = Location::Postgres {
        target: Box::new(db.target()),
        lease: Duration::from_secs(10),
    };
    Store::open_scheduler(&place, t(0)).unwrap()
}

/// Claims the fire of `job` at second `secs` on `store`; its row.
fn claim(store: &mut Store, job: &str, secs: i64) -> i64 {
    let fire = Claim {
        job,
        scheduled: t(secs),
        manual: false,
        attempt: 1,
        attempts: 1,
    };
    store.claim_won(&[fire], t(secs)).unwrap()[0].expect("won")
}

/// An admission of run `id` of `job` (fire at `secs`) under `max_instances` 1 with `overlap`,
/// in pool `pool` of `workers`.
fn asking<'a>(id: i64, job: &'a str, secs: i64, overlap: Overlap) -> Admission<'a> {
    Admission {
        id,
        job,
        scheduled: t(secs),
        max_instances: 1,
        overlap,
        pool: "default",
        workers: u32::MAX,
        expires: None,
    }
}

fn admit(store: &mut Store, one: Admission<'_>, secs: i64) -> Verdict {
    store.admit(&[one], t(secs)).unwrap().remove(0)
}

/// Starts and ends run `id`.
fn run_to_end(store: &mut Store, id: i64, secs: i64) {
    store.started(id, 4242, t(secs)).unwrap();
    let ended = Outcome::Exited { code: 0 };
    store.finished(id, t(secs + 1), &ended, false, "").unwrap();
}

#[test]
fn a_job_running_on_one_scheduler_is_skipped_on_another() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (mut a, mut b) = (open(&db), open(&db));
    let first = claim(&mut a, "j", 60);
    assert_eq!(
        admit(&mut a, asking(first, "j", 60, Overlap::Skip), 60),
        Verdict::Admitted
    );
    let second = claim(&mut b, "j", 61);
    let verdict = admit(&mut b, asking(second, "j", 61, Overlap::Skip), 61);
    let skipped = Outcome::Skipped {
        reason: "max_instances".into(),
    };
    assert_eq!(verdict, Verdict::Decided(skipped.clone()));
    let rows = b.history(Some("j"), 10).unwrap();
    assert_eq!(rows[0].id, second);
    assert_eq!(rows[0].outcome, skipped);
    // Once the first has ended, a later fire is admitted wherever it is claimed.
    run_to_end(&mut a, first, 60);
    let third = claim(&mut b, "j", 62);
    assert_eq!(
        admit(&mut b, asking(third, "j", 62, Overlap::Skip), 62),
        Verdict::Admitted
    );
}

#[test]
fn with_queue_one_fire_waits_across_schedulers_later_ones_coalesce_and_an_end_wakes_it() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (mut a, mut b, mut c) = (open(&db), open(&db), open(&db));
    let first = claim(&mut a, "j", 60);
    let queue = Overlap::Queue;
    assert_eq!(
        admit(&mut a, asking(first, "j", 60, queue), 60),
        Verdict::Admitted
    );
    let second = claim(&mut b, "j", 61);
    assert!(matches!(
        admit(&mut b, asking(second, "j", 61, queue), 61),
        Verdict::Waiting { .. }
    ));
    b.set_waiting(true);
    let third = claim(&mut c, "j", 62);
    assert_eq!(
        admit(&mut c, asking(third, "j", 62, queue), 62),
        Verdict::Decided(Outcome::Coalesced { into: t(61) })
    );
    // Asked again before the first ends, it still waits.
    assert!(matches!(
        admit(&mut b, asking(second, "j", 61, queue), 62),
        Verdict::Waiting { .. }
    ));
    b.take_notices();
    run_to_end(&mut a, first, 60);
    notices_until(&mut b, |n| n.contains(&Notice::SlotsFreed));
    assert_eq!(
        admit(&mut b, asking(second, "j", 61, queue), 63),
        Verdict::Admitted
    );
}

#[test]
fn a_pool_holds_its_workers_across_schedulers_whatever_the_jobs() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let mut stores = [open(&db), open(&db), open(&db)];
    let jobs = ["a", "b", "c"];
    let mut verdicts = Vec::new();
    let mut ids = Vec::new();
    for (store, job) in stores.iter_mut().zip(jobs) {
        let id = claim(store, job, 60);
        ids.push(id);
        let one = Admission {
            pool: "heavy",
            workers: 2,
            ..asking(id, job, 60, Overlap::Skip)
        };
        verdicts.push(admit(store, one, 60));
    }
    assert_eq!(verdicts[..2], [Verdict::Admitted, Verdict::Admitted]);
    // A pool slot is waited for, whatever the job's overlap policy.
    let Verdict::Waiting { reason } = &verdicts[2] else {
        panic!("{verdicts:?}")
    };
    assert!(reason.contains("pool heavy"), "{reason}");
    run_to_end(&mut stores[1], ids[1], 60);
    let one = Admission {
        pool: "heavy",
        workers: 2,
        ..asking(ids[2], "c", 60, Overlap::Skip)
    };
    assert_eq!(admit(&mut stores[2], one, 61), Verdict::Admitted);
}

#[test]
fn a_fire_waiting_past_its_queue_grace_is_missed() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (mut a, mut b) = (open(&db), open(&db));
    let first = claim(&mut a, "j", 60);
    admit(&mut a, asking(first, "j", 60, Overlap::Queue), 60);
    let second = claim(&mut b, "j", 61);
    let one = Admission {
        expires: Some(t(71)),
        ..asking(second, "j", 61, Overlap::Queue)
    };
    assert!(matches!(admit(&mut b, one, 61), Verdict::Waiting { .. }));
    let Verdict::Decided(Outcome::Missed { late_by_ms, .. }) = admit(&mut b, one, 72) else {
        panic!("not missed")
    };
    assert_eq!(late_by_ms, 11_000);
    assert!(matches!(
        b.history(Some("j"), 1).unwrap()[0].outcome,
        Outcome::Missed { .. }
    ));
}

#[test]
fn replace_asks_the_holder_to_end_its_run_and_records_who_replaced_it() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (mut a, mut b) = (open(&db), open(&db));
    let replace = Overlap::Replace;
    let first = claim(&mut a, "j", 60);
    admit(&mut a, asking(first, "j", 60, replace), 60);
    a.started(first, 4242, t(60)).unwrap();
    a.take_notices();
    let second = claim(&mut b, "j", 61);
    assert!(matches!(
        admit(&mut b, asking(second, "j", 61, replace), 61),
        Verdict::Waiting { .. }
    ));
    let told = notices_until(&mut a, |n| {
        n.iter().any(|n| matches!(n, Notice::ReplaceAsked { .. }))
    });
    assert!(
        told.contains(&Notice::ReplaceAsked {
            runs: vec![(first, "j".into(), t(61).timestamp_micros())]
        }),
        "{told:?}"
    );
    let ended = Outcome::Signaled { signal: 15 };
    a.finished(first, t(62), &ended, false, "").unwrap();
    assert_eq!(
        admit(&mut b, asking(second, "j", 61, replace), 62),
        Verdict::Admitted
    );
    let old = b
        .history(Some("j"), 10)
        .unwrap()
        .into_iter()
        .find(|r| r.id == first)
        .unwrap();
    assert_eq!(old.replaced_by, Some(second));
}

#[test]
fn a_claim_that_is_no_longer_this_schedulers_is_lost_and_manual_runs_do_not_count() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (mut a, mut b) = (open(&db), open(&db));
    let theirs = claim(&mut a, "j", 60);
    assert_eq!(
        admit(&mut b, asking(theirs, "j", 60, Overlap::Skip), 60),
        Verdict::Lost
    );
    let manual = Claim {
        job: "j",
        scheduled: t(61),
        manual: true,
        attempt: 1,
        attempts: 1,
    };
    let id = a.claim(&[manual], t(61)).unwrap()[0];
    a.started(id, 4242, t(61)).unwrap();
    let fire = claim(&mut b, "j", 62);
    assert_eq!(
        admit(&mut b, asking(fire, "j", 62, Overlap::Skip), 62),
        Verdict::Admitted
    );
}

#[test]
fn a_run_its_own_scheduler_ends_for_a_fire_another_runs_is_recorded_replaced_by_it() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (mut a, mut b) = (open(&db), open(&db));
    let replace = Overlap::Replace;
    let first = claim(&mut a, "j", 60);
    admit(&mut a, asking(first, "j", 60, replace), 60);
    a.started(first, 4242, t(60)).unwrap();
    // A's planner ends its run for the fire at 61, which B claims.
    a.mark_replacing(first, t(61)).unwrap();
    let ended = Outcome::Signaled { signal: 15 };
    a.finished(first, t(61), &ended, false, "").unwrap();
    let second = claim(&mut b, "j", 61);
    assert_eq!(
        admit(&mut b, asking(second, "j", 61, replace), 61),
        Verdict::Admitted
    );
    let rows = b.history(Some("j"), 10).unwrap();
    let old = rows.iter().find(|r| r.id == first).unwrap();
    assert_eq!(old.replaced_by, Some(second));
}
