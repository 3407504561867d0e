//! Cost of the state store's writes and reads on a real file in a temporary directory, with
//! the pragmas jobrun uses (WAL, synchronous=NORMAL): what the scheduler pays per run, per
//! batch of fires, and what `jobrun list` pays to read.
//!
//!     cargo bench --bench store -- --warm-up-time 1 --measurement-time 3
//!
//! Percentiles (criterion reports means and medians) come from an ignored unit test:
//!     cargo test --release --lib store::tests::latency -- --ignored --nocapture

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jobrun::store::{Claim, Outcome, Store};

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("a valid date")
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store =
        Store::open_exclusive(&dir.path().join("bench.sqlite"), start()).expect("a new store");
    (dir, store)
}

/// A scheduled fire of each job at `at`.
fn fires(names: &[String], at: DateTime<Utc>) -> Vec<Claim<'_>> {
    names
        .iter()
        .map(|job| Claim {
            job,
            scheduled: at,
            manual: false,
            attempt: 1,
            attempts: 1,
        })
        .collect()
}

/// What the scheduler writes for every run: claim (a batch of one), started, finished.
fn per_run(c: &mut Criterion) {
    let (_dir, mut store) = open();
    let output = "a line of job output\n".repeat(50);
    let mut n = 0;
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1));
    group.bench_function("claim+started+finished", |b| {
        b.iter(|| {
            n += 1;
            let at = start() + TimeDelta::seconds(n);
            let claim = Claim {
                job: "backup",
                scheduled: at,
                manual: false,
                attempt: 1,
                attempts: 1,
            };
            let id = store.claim(&[claim], at).expect("claim")[0];
            store.started(id, 4242, at).expect("started");
            store
                .finished(
                    id,
                    at,
                    &Outcome::Exited { code: 0 },
                    false,
                    black_box(&output),
                )
                .expect("finished");
        });
    });
    group.finish();
}

/// One transaction claiming a fire of each of 1000 jobs (a busy minute boundary).
fn batch_claim(c: &mut Criterion) {
    let (_dir, mut store) = open();
    let names: Vec<String> = (0..1000).map(|i| format!("job-{i:04}")).collect();
    let mut n = 0;
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("claim-batch-1000", |b| {
        b.iter(|| {
            n += 1;
            let at = start() + TimeDelta::seconds(n);
            store.claim(&fires(&names, at), at).expect("claim")
        });
    });
    group.finish();
}

/// `jobrun list` and `jobrun history` on a store of 1000 jobs with 20 ended runs each.
fn reads(c: &mut Criterion) {
    let (_dir, mut store) = open();
    let names: Vec<String> = (0..1000).map(|i| format!("job-{i:04}")).collect();
    for round in 0..20 {
        let at = start() + TimeDelta::minutes(round);
        for id in store.claim(&fires(&names, at), at).expect("claim") {
            store.started(id, 1, at).expect("started");
            store
                .finished(id, at, &Outcome::Exited { code: 0 }, false, "done\n")
                .expect("finished");
        }
    }
    let mut group = c.benchmark_group("store");
    group.bench_function("last_outcomes-1000-jobs", |b| {
        b.iter(|| store.last_outcomes().expect("read"))
    });
    group.bench_function("history-one-job-20", |b| {
        b.iter(|| {
            store
                .history(Some(black_box("job-0500")), 20)
                .expect("read")
        })
    });
    group.finish();
}

criterion_group!(benches, per_run, batch_claim, reads);
criterion_main!(benches);
