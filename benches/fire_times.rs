//! Throughput of cron fire-time search and parsing, jobrun against the `cron` crate (0.17) in
//! the same run.
//!
//! Fire times are chained as a scheduler asks for them: `t = next_after(t)`, restarting from
//! the same instant every `CHAIN` fires so that every sample covers the same stretch of
//! calendar (2026 onwards, DST transitions included) instead of drifting centuries ahead.
//!
//!     cargo bench --bench fire_times -- --warm-up-time 1 --measurement-time 3
//!
//! The `cron` crate wants 6 or 7 fields (seconds first) and numbers weekdays from Sunday = 1,
//! so its expressions are prefixed with "0 " and name weekdays instead of numbering them.

use std::hint::black_box;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jobrun::trigger::cron::{CronExpr, CronTrigger};
use jobrun::zone::Tz;

/// Typical expressions: (name, crontab text).
const EXPRESSIONS: &[(&str, &str)] = &[
    ("every-5-minutes", "*/5 * * * *"),
    ("daily-03:00", "0 3 * * *"),
    ("weekdays-09:30", "30 9 * * MON-FRI"),
    ("monthly", "0 0 1 * *"),
];

fn zones() -> [Tz; 2] {
    let new_york = "America/New_York".parse().expect("a zone");
    [Tz::UTC, new_york]
}

/// Fires per chain before starting over from `START`.
const CHAIN: u32 = 1_000;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid date")
}

fn next_after(c: &mut Criterion) {
    for tz in zones() {
        let mut group = c.benchmark_group(format!("next_after/{}", tz.name()));
        group.throughput(Throughput::Elements(1));
        for &(name, text) in EXPRESSIONS {
            let trigger = CronTrigger::new(CronExpr::parse(text).expect("valid"), tz);
            group.bench_function(BenchmarkId::new("jobrun", name), |b| {
                let (mut t, mut n) = (start(), 0);
                b.iter(|| {
                    n += 1;
                    t = match trigger.next_after(black_box(t)) {
                        Some(next) if n < CHAIN => next,
                        _ => {
                            n = 0;
                            start()
                        }
                    };
                    t
                });
            });

            let schedule = cron::Schedule::from_str(&format!("0 {text}")).expect("valid for cron");
            group.bench_function(BenchmarkId::new("cron-0.17", name), |b| {
                let (mut t, mut n) = (start().with_timezone(&tz), 0);
                b.iter(|| {
                    n += 1;
                    t = match schedule.after(black_box(&t)).next() {
                        Some(next) if n < CHAIN => next,
                        _ => {
                            n = 0;
                            start().with_timezone(&tz)
                        }
                    };
                    t
                });
            });
        }
        group.finish();
    }
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    for &(name, text) in EXPRESSIONS
        .iter()
        .chain(&[("mixed-list", "0,15,30-45/5 8-18 1,15,L 1-11/2 MON-FRI")])
    {
        group.bench_function(BenchmarkId::new("jobrun", name), |b| {
            b.iter(|| CronExpr::parse(black_box(text)))
        });
        let six = format!("0 {text}");
        // The cron crate takes no `L` in a list, so "mixed-list" runs for jobrun alone.
        if cron::Schedule::from_str(&six).is_ok() {
            group.bench_function(BenchmarkId::new("cron-0.17", name), |b| {
                b.iter(|| cron::Schedule::from_str(black_box(&six)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, next_after, parse);
criterion_main!(benches);
