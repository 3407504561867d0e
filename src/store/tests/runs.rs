//! Recording: every outcome, the once-per-fire rule, `last_fire` and schedules.

use chrono::TimeDelta;

use super::{assert_refused, claim, new_store, only_row, reopen, scheduled, store_path, t};
use crate::store::{Claim, Decision, JobState, Outcome, Store};

fn last_fire(store: &Store, job: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    store
        .job_states()
        .unwrap()
        .get(job)
        .and_then(|s| s.last_fire)
}

#[test]
fn times_are_kept_to_the_microsecond() {
    let (_dir, mut store) = new_store();
    let at = t(0) + TimeDelta::nanoseconds(123_456_789);
    store.claim(&[scheduled("a", at)], at).unwrap();
    assert_eq!(
        only_row(&store).scheduled,
        t(0) + TimeDelta::microseconds(123_456)
    );
}

#[test]
fn a_batch_claim_returns_the_ids_in_order() {
    let (_dir, mut store) = new_store();
    let claims: Vec<Claim<'_>> = (0..5).map(|i| scheduled("a", t(i))).collect();
    let ids = store.claim(&claims, t(10)).unwrap();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let rows = store.history(None, 10).unwrap();
    for (id, row) in ids.iter().rev().zip(&rows) {
        assert_eq!(*id, row.id);
    }
    assert_eq!(rows[0].scheduled, t(4));
    assert!(store.claim(&[], t(10)).unwrap().is_empty());
}

#[test]
fn a_scheduled_fire_is_claimed_only_once() {
    let (_dir, mut store) = new_store();
    claim(&mut store, "backup", t(60));
    let err = store
        .claim(&[scheduled("backup", t(60))], t(61))
        .unwrap_err();
    assert_refused(err, "claim a run", "already handled");
    // Nor decided after being claimed.
    let err = store
        .decide(
            &[Decision {
                job: "backup",
                scheduled: t(60),
                outcome: Outcome::Skipped {
                    reason: "max_instances".into(),
                },
            }],
            t(61),
        )
        .unwrap_err();
    assert_refused(err, "record a decision", "already handled");
    // Another job's fire at the same instant is another fire.
    claim(&mut store, "report", t(60));
    assert_eq!(store.history(None, 10).unwrap().len(), 2);
}

#[test]
fn a_released_hold_leaves_no_row_and_puts_last_fire_back() {
    let (_dir, mut store) = new_store();
    claim(&mut store, "a", t(60));
    let held = store
        .hold(&[scheduled("a", t(120)), scheduled("b", t(120))], t(119))
        .unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(last_fire(&store, "a"), Some(t(120)));
    assert_eq!(last_fire(&store, "b"), Some(t(120)));
    store.release(&held).unwrap();
    assert_eq!(last_fire(&store, "a"), Some(t(60)));
    assert_eq!(last_fire(&store, "b"), None);
    assert_eq!(store.history(None, 10).unwrap().len(), 1);
    // The fire is free again: claimed at its instant after all.
    claim(&mut store, "a", t(120));
    assert_eq!(last_fire(&store, "a"), Some(t(120)));
}

#[test]
fn a_hold_that_started_cannot_be_released_and_nothing_is() {
    let (_dir, mut store) = new_store();
    let held = store
        .hold(&[scheduled("a", t(120)), scheduled("b", t(120))], t(119))
        .unwrap();
    store.started(held[1].id, 4242, t(120)).unwrap();
    let err = store.release(&held).unwrap_err();
    assert_refused(
        err,
        "release a run claimed ahead",
        "is running, not claimed",
    );
    assert_eq!(store.history(None, 10).unwrap().len(), 2);
    assert_eq!(last_fire(&store, "a"), Some(t(120)));
}

#[test]
fn a_release_leaves_a_last_fire_that_moved_on_since() {
    let (_dir, mut store) = new_store();
    let held = store.hold(&[scheduled("a", t(120))], t(119)).unwrap();
    claim(&mut store, "a", t(180));
    store.release(&held).unwrap();
    assert_eq!(last_fire(&store, "a"), Some(t(180)));
    assert!(store.hold(&[], t(0)).unwrap().is_empty());
    store.release(&[]).unwrap();
}

#[test]
fn a_batch_with_a_duplicate_fire_records_nothing() {
    let (_dir, mut store) = new_store();
    claim(&mut store, "a", t(60));
    let batch = [scheduled("b", t(60)), scheduled("a", t(60))];
    assert!(store.claim(&batch, t(61)).is_err());
    assert_eq!(store.history(None, 10).unwrap().len(), 1);
    assert_eq!(last_fire(&store, "b"), None);
}

#[test]
fn manual_runs_of_one_instant_may_repeat_and_leave_last_fire_alone() {
    let (_dir, mut store) = new_store();
    claim(&mut store, "backup", t(60));
    let manual = Claim {
        job: "backup",
        scheduled: t(120),
        manual: true,
        attempt: 1,
        attempts: 1,
    };
    let ids = store.claim(&[manual, manual], t(120)).unwrap();
    assert_eq!(ids.len(), 2);
    // A manual run at the instant of a scheduled fire does not take that fire's place.
    store.claim(&[scheduled("backup", t(120))], t(120)).unwrap();
    assert_eq!(store.history(None, 10).unwrap().len(), 4);
    let rows = store.history(Some("backup"), 10).unwrap();
    assert_eq!(rows.iter().filter(|r| r.manual).count(), 2);
    assert_eq!(last_fire(&store, "backup"), Some(t(120)));

    let (_dir, mut store) = new_store();
    store.claim(&[manual], t(120)).unwrap();
    assert_eq!(last_fire(&store, "backup"), None);
}

#[test]
fn last_fire_never_moves_backwards() {
    let (_dir, mut store) = new_store();
    claim(&mut store, "a", t(100));
    assert_eq!(last_fire(&store, "a"), Some(t(100)));
    claim(&mut store, "a", t(50));
    assert_eq!(last_fire(&store, "a"), Some(t(100)));
    let skipped = |at| Decision {
        job: "a",
        scheduled: at,
        outcome: Outcome::Skipped {
            reason: "max_instances".into(),
        },
    };
    store.decide(&[skipped(t(40))], t(200)).unwrap();
    assert_eq!(last_fire(&store, "a"), Some(t(100)));
    store
        .decide(&[skipped(t(200)), skipped(t(150))], t(200))
        .unwrap();
    assert_eq!(last_fire(&store, "a"), Some(t(200)));
}

#[test]
fn set_schedules_keeps_last_fire_until_the_schedule_changes() {
    let (dir, mut store) = new_store();
    store
        .set_schedules(&[("a", "cron:0 3 * * *|UTC"), ("b", "every:60s")])
        .unwrap();
    claim(&mut store, "a", t(100));
    claim(&mut store, "b", t(100));
    store
        .set_schedules(&[("a", "cron:0 3 * * *|UTC"), ("b", "every:90s")])
        .unwrap();
    let states = store.job_states().unwrap();
    assert_eq!(
        states["a"],
        JobState {
            last_fire: Some(t(100)),
            schedule: "cron:0 3 * * *|UTC".into(),
        }
    );
    assert_eq!(
        states["b"],
        JobState {
            last_fire: None,
            schedule: "every:90s".into(),
        }
    );
    // Kept across a restart; a job no longer listed is left alone.
    drop(store);
    let mut store = reopen(&store_path(&dir));
    store.set_schedules(&[("b", "every:90s")]).unwrap();
    assert_eq!(store.job_states().unwrap().len(), 2);
    assert_eq!(last_fire(&store, "a"), Some(t(100)));
}

#[test]
fn a_fire_handled_before_any_schedule_was_recorded_gets_an_empty_fingerprint() {
    let (_dir, mut store) = new_store();
    claim(&mut store, "a", t(100));
    let states = store.job_states().unwrap();
    assert_eq!(states["a"].schedule, "");
    assert_eq!(states["a"].last_fire, Some(t(100)));
}

#[test]
fn a_decision_must_be_a_decision_and_a_missed_range_must_add_up() {
    let (_dir, mut store) = new_store();
    let decide = |store: &mut Store, outcome| {
        store.decide(
            &[Decision {
                job: "a",
                scheduled: t(100),
                outcome,
            }],
            t(100),
        )
    };
    assert_refused(
        decide(&mut store, Outcome::Exited { code: 0 }).unwrap_err(),
        "record a decision",
        "missed, coalesced or skipped",
    );
    let missed = |fires, first| Outcome::Missed {
        late_by_ms: 0,
        fires,
        first,
    };
    for bad in [
        missed(0, t(100)),
        missed(1, t(50)),
        missed(3, t(100)),
        missed(3, t(150)),
    ] {
        assert!(decide(&mut store, bad).is_err());
    }
    assert!(store.history(None, 10).unwrap().is_empty());
    decide(&mut store, missed(3, t(40))).unwrap();
}
