//! Percentiles of the scheduler's per-run writes on a real file, which criterion's means hide.
//! Ignored by default (it takes seconds and its figures are for reading, not asserting):
//!
//!     cargo test --release --lib store::tests::latency -- --ignored --nocapture
//!
//! Two loads: a burst (runs back to back, ~10,000 a second, so checkpoints run alongside
//! nearly every write) and a paced one (a run every millisecond, still six times 10,000 jobs a
//! minute), which is closer to what a scheduler sees.

use std::time::{Duration, Instant};

use chrono::TimeDelta;

use super::{new_store, scheduled, t};
use crate::store::{Admission, Claim, Outcome, RunStep, Store};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    eprintln!(
        "{what}: n={} p50={:?} p90={:?} p99={:?} max={:?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99),
        samples[samples.len() - 1],
    );
}

/// Times `runs` runs of claim (a batch of one) + started + finished with a 3 KB output tail.
fn time_runs(store: &mut Store, first: i64, runs: i64, pause: Option<Duration>) -> Vec<Duration> {
    let output = "line of output\n".repeat(200);
    let mut samples = Vec::with_capacity(usize::try_from(runs).unwrap());
    for i in first..first + runs {
        let at = t(i);
        let start = Instant::now();
        let id = store.claim(&[scheduled("job", at)], at).unwrap()[0];
        store.started(id, 1000, at).unwrap();
        store
            .finished(id, at, &Outcome::Exited { code: 0 }, false, &output)
            .unwrap();
        samples.push(start.elapsed());
        if let Some(pause) = pause {
            std::thread::sleep(pause);
        }
    }
    samples
}

#[test]
#[ignore = "prints latency percentiles; run with --release --ignored --nocapture"]
fn per_run_write_latency() {
    let (_dir, mut store) = new_store();
    report(
        "burst: claim+started+finished",
        time_runs(&mut store, 0, 10_000, None),
    );
    report(
        "paced (1 ms apart): claim+started+finished",
        time_runs(&mut store, 10_000, 3_000, Some(Duration::from_millis(1))),
    );

    let names: Vec<String> = (0..1000).map(|i| format!("job-{i:04}")).collect();
    let mut samples = Vec::with_capacity(50);
    for round in 0..50 {
        let at = t(20_000) + TimeDelta::seconds(round);
        let claims: Vec<Claim<'_>> = names.iter().map(|n| scheduled(n, at)).collect();
        let start = Instant::now();
        store.claim(&claims, at).unwrap();
        samples.push(start.elapsed());
    }
    report("claim of a batch of 1000", samples);
}

/// Times the claim alone, one fire at a time (`claim_won`, what a scheduler sharing a store
/// calls), on both back ends: the SQLite file and the PostgreSQL server of the tests
/// (`$JOBRUN_TEST_PG_URL`, over its loopback TCP connection).
///
///     JOBRUN_TEST_PG_URL=postgres://… cargo test --release --lib store::tests::latency::claim -- --ignored --nocapture
#[test]
#[ignore = "prints latency percentiles; run with --release --ignored --nocapture"]
fn claim_latency_on_both_back_ends() {
    fn claims(store: &mut Store, what: &str) {
        let mut samples = Vec::with_capacity(5_000);
        for i in 0..5_000 {
            let at = t(i);
            let start = Instant::now();
            store.claim_won(&[scheduled("job", at)], at).unwrap();
            samples.push(start.elapsed());
        }
        report(&format!("{what}: claim of one fire"), samples);
        let names: Vec<String> = (0..20).map(|i| format!("job-{i:02}")).collect();
        let mut samples = Vec::with_capacity(500);
        for round in 0..500 {
            let at = t(10_000 + round);
            let batch: Vec<Claim<'_>> = names.iter().map(|n| scheduled(n, at)).collect();
            let start = Instant::now();
            store.claim_won(&batch, at).unwrap();
            samples.push(start.elapsed() / 20);
        }
        report(&format!("{what}: per fire, in a batch of 20"), samples);
    }
    let (_dir, mut store) = new_store();
    claims(&mut store, "sqlite");
    if let Some(db) = crate::store::postgres::testing::TestDatabase::create() {
        let place = crate::store::Location::Postgres {
            target: Box::new(db.target()),
            lease: crate::store::postgres::DEFAULT_LEASE,
        };
        let mut store = Store::open_scheduler(&place, t(0)).unwrap();
        claims(&mut store, "postgres");
        admissions(&mut store);
    }
}

/// Times the admission that follows a claim on a shared store (`postgres/admit.rs`: locks,
/// counts, and the fire's row marked admitted), one fire and per fire in a batch of 20.
fn admissions(store: &mut Store) {
    fn asking<'a>(
        ids: &[i64],
        names: &'a [String],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Vec<Admission<'a>> {
        ids.iter()
            .zip(names)
            .map(|(&id, job)| Admission {
                id,
                job,
                scheduled: at,
                max_instances: 1_000_000,
                overlap: crate::job::Overlap::Skip,
                pool: "default",
                workers: 1_000_000,
                expires: None,
            })
            .collect()
    }
    let one = vec!["one".to_owned()];
    let mut samples = Vec::with_capacity(2_000);
    for i in 0..2_000 {
        let at = t(100_000 + i);
        let ids = store.claim(&[scheduled("one", at)], at).unwrap();
        let start = Instant::now();
        store.admit(&asking(&ids, &one, at), at).unwrap();
        samples.push(start.elapsed());
        end(store, &ids, at);
    }
    report("postgres: admission of one fire", samples);
    let names: Vec<String> = (0..20).map(|i| format!("batch-{i:02}")).collect();
    let mut samples = Vec::with_capacity(500);
    for round in 0..500 {
        let at = t(200_000 + round);
        let batch: Vec<Claim<'_>> = names.iter().map(|n| scheduled(n, at)).collect();
        let ids = store.claim(&batch, at).unwrap();
        let start = Instant::now();
        store.admit(&asking(&ids, &names, at), at).unwrap();
        samples.push(start.elapsed() / 20);
        end(store, &ids, at);
    }
    report("postgres: admission per fire, in a batch of 20", samples);
}

/// Ends the runs `ids` (untimed), as a scheduler does before their next fires.
fn end(store: &mut Store, ids: &[i64], at: chrono::DateTime<chrono::Utc>) {
    let steps: Vec<RunStep> = ids
        .iter()
        .flat_map(|&id| {
            [
                RunStep::Started { id, pid: 1, at },
                RunStep::Finished {
                    id,
                    at,
                    outcome: Outcome::Exited { code: 0 },
                    timed_out: false,
                    output_tail: String::new(),
                    failed_by: None,
                    retry: None,
                },
            ]
        })
        .collect();
    store.record_runs(&steps).unwrap();
}
