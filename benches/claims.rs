//! The claim's cost per fire on both store back ends (issue 15): the SQLite file and a
//! PostgreSQL database (`$JOBRUN_TEST_PG_URL`, a throw-away database on it; the PostgreSQL
//! cases are left out without it). A claim is what stands between a fire's instant and its
//! process; on PostgreSQL it is also what makes one fire run once across hosts.
//!
//!     JOBRUN_TEST_PG_URL=postgres://… cargo bench --bench claims -- --warm-up-time 1 --measurement-time 3
//!
//! Percentiles (criterion reports means and medians) come from an ignored unit test:
//!     cargo test --release --lib store::tests::latency::claim -- --ignored --nocapture

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jobrun::store::postgres::testing::TestDatabase;
use jobrun::store::{Claim, Location, Store};

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("a valid date")
}

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

/// Claims fires of `jobs` jobs at successive instants, one batch per iteration.
fn bench_claims(c: &mut Criterion, name: &str, store: &mut Store, jobs: usize) {
    let names: Vec<String> = (0..jobs).map(|i| format!("job-{i:05}")).collect();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(jobs as u64));
    let mut second = 0;
    group.bench_function(format!("claim, batch of {jobs}"), |b| {
        b.iter(|| {
            second += 1;
            let at = start() + TimeDelta::seconds(second);
            black_box(store.claim_won(&fires(&names, at), at).expect("claimed"));
        });
    });
    group.finish();
}

fn claims(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut sqlite =
        Store::open_exclusive(&dir.path().join("bench.sqlite"), start()).expect("a new store");
    for jobs in [1, 20] {
        bench_claims(c, "sqlite", &mut sqlite, jobs);
    }
    if let Some(db) = TestDatabase::create() {
        let place = Location::Postgres {
            target: Box::new(db.target()),
            lease: jobrun::store::postgres::DEFAULT_LEASE,
        };
        let mut postgres = Store::open_scheduler(&place, start()).expect("a new store");
        for jobs in [1, 20] {
            bench_claims(c, "postgres", &mut postgres, jobs);
        }
    }
}

criterion_group!(benches, claims);
criterion_main!(benches);
