//! The specification of `cron`, as tests: the language (`language`), its errors (`errors`),
//! daylight saving time (`dst`), the shared reference vectors (`vectors`), random
//! expressions against a brute-force oracle (`properties`) and what the zone data gives
//! (`zone_data`).

mod dst;
mod errors;
mod language;
mod properties;
mod vectors;
mod zone_data;

use crate::zone::Tz;
use chrono::{DateTime, Offset, SecondsFormat, TimeDelta, TimeZone, Utc};

use super::{CronExpr, CronTrigger};

/// A trigger from text the test knows to be valid.
fn trigger(expr: &str, tz: &str) -> CronTrigger {
    let expr = CronExpr::parse(expr).unwrap_or_else(|e| panic!("{expr:?} should parse: {e}"));
    CronTrigger::new(expr, zone(tz))
}

fn zone(name: &str) -> Tz {
    name.parse()
        .unwrap_or_else(|e| panic!("{name:?} is not a zone: {e}"))
}

fn instant(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339:?} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

/// The next `n` fires after `from`, as RFC 3339 with the offset of the trigger's zone.
fn fires(trigger: &CronTrigger, from: &str, n: usize) -> Vec<String> {
    let mut t = instant(from);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match trigger.next_after(t) {
            Some(next) => {
                out.push(
                    next.with_timezone(&trigger.timezone())
                        .to_rfc3339_opts(SecondsFormat::Secs, false),
                );
                t = next;
            }
            None => break,
        }
    }
    out
}

/// Checks a table of (expression, start, expected fires) in one zone, reporting every row
/// that disagrees at once.
#[track_caller]
fn assert_fires(tz: &str, cases: &[(&str, &str, &[&str])]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|&(expr, from, expected)| {
            let actual = fires(&trigger(expr, tz), from, expected.len());
            (actual != expected).then(|| {
                format!(
                    "{expr:?} in {tz} from {from}:\n  expected {expected:?}\n  actual   {actual:?}"
                )
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The offset of `tz` at instant `u`.
fn offset(tz: Tz, u: DateTime<Utc>) -> TimeDelta {
    TimeDelta::seconds(i64::from(
        tz.offset_from_utc_datetime(&u.naive_utc())
            .fix()
            .local_minus_utc(),
    ))
}

/// The DST transitions of `tz` in the years the tests look at (1985-1986 for Kathmandu's
/// change of offset, 2018-2019 for São Paulo's last DST, 2026 for the rest).
fn transitions(tz: Tz) -> Vec<DateTime<Utc>> {
    let years = match tz.name() {
        "Asia/Kathmandu" => 1985..1987,
        "America/Sao_Paulo" => 2018..2020,
        _ => 2026..2027,
    };
    let mut day = Utc.with_ymd_and_hms(years.start, 1, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(years.end, 1, 1, 0, 0, 0).unwrap();
    let mut found = Vec::new();
    while day < end {
        let next = day + TimeDelta::days(1);
        if offset(tz, day) != offset(tz, next) {
            let (mut low, mut high) = (day, next);
            while high - low > TimeDelta::seconds(1) {
                let mid = low + (high - low) / 2;
                if offset(tz, mid) == offset(tz, low) {
                    low = mid
                } else {
                    high = mid
                }
            }
            found.push(high);
        }
        day = next;
    }
    found
}
