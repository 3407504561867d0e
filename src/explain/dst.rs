//! What a zone's clock changes in a year do to a cron trigger, in plain words: which of its
//! times are skipped or repeated, and when it runs instead. The facts come from the trigger
//! itself (the times it matches, the instants it fires at), so the words say what jobrun does.

use chrono::{DateTime, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};

use crate::trigger::CronTrigger;
use crate::zone::Tz;

/// A change of a zone's offset: the first instant of the new offset, and both offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Transition {
    pub(super) at: DateTime<Utc>,
    pub(super) before: i32,
    pub(super) after: i32,
}

fn offset(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The zone's offset changes in `[from, to)`, found hour by hour and then to the second.
pub(super) fn transitions(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Transition> {
    let hour = TimeDelta::hours(1);
    let mut found = Vec::new();
    let mut t = from;
    let mut current = offset(tz, t);
    while t < to {
        let next = t + hour;
        let then = offset(tz, next);
        if then != current {
            // The change lies in (t, next]: narrow it to the second.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > TimeDelta::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset(tz, mid) == current {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            if hi < to {
                found.push(Transition {
                    at: hi,
                    before: current,
                    after: then,
                });
            }
            current = then;
        }
        t = next;
    }
    found
}

fn wall(t: DateTime<Utc>, offset: i32) -> NaiveDateTime {
    t.naive_utc() + TimeDelta::seconds(i64::from(offset))
}

fn hhmm(t: NaiveDateTime) -> String {
    if t.format("%S").to_string() == "00" {
        t.format("%H:%M").to_string()
    } else {
        t.format("%H:%M:%S").to_string()
    }
}

/// "02:00", "02:00 and 02:30", or "02:00, 02:15, … (8 times)" when there are many.
fn times(list: &[NaiveDateTime]) -> String {
    let shown: Vec<String> = list.iter().take(4).map(|t| hhmm(*t)).collect();
    match list.len() {
        0 => String::new(),
        1 => shown[0].clone(),
        2..=4 => {
            let (last, init) = shown.split_last().unwrap_or((&shown[0], &[]));
            format!("{} and {last}", init.join(", "))
        }
        n => format!("{}, … ({n} times)", shown[..3].join(", ")),
    }
}

/// The wall times in `[start, end)` that the expression matches.
fn matches_between(
    trigger: &CronTrigger,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Vec<NaiveDateTime> {
    let mut out = Vec::new();
    let mut t = start - TimeDelta::seconds(1);
    while let Some(next) = trigger.expr().next_wall_time_after(t) {
        if next >= end || out.len() >= 3600 {
            break;
        }
        out.push(next);
        t = next;
    }
    out
}

/// One line per clock change in `[from, to)` saying what it does to the trigger.
pub(super) fn notes(trigger: &CronTrigger, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    let tz = trigger.timezone();
    let zone = tz.name();
    let fixed = trigger.expr().is_fixed_time();
    transitions(tz, from, to)
        .into_iter()
        .map(|change| {
            let old = wall(change.at, change.before);
            let new = wall(change.at, change.after);
            let date = new.format("%Y-%m-%d");
            if change.after > change.before {
                // Spring forward: wall times [old, new) do not exist.
                let skipped = matches_between(trigger, old, new);
                if skipped.is_empty() {
                    return format!(
                        "{date}: clocks jump from {} to {} in {zone}; no time of this job is skipped",
                        hhmm(old),
                        hhmm(new)
                    );
                }
                let verb = if skipped.len() == 1 { "does" } else { "do" };
                if fixed {
                    let runs = trigger
                        .next_after(change.at - TimeDelta::seconds(1))
                        .map_or_else(|| "later".to_owned(), |t| hhmm(wall(t, change.after)));
                    let once = if skipped.len() == 1 { "" } else { "once, " };
                    format!(
                        "{date} {} {verb} not exist in {zone}; this job runs {once}at {runs} that day",
                        times(&skipped)
                    )
                } else {
                    format!(
                        "{date} {} {verb} not exist in {zone} (clocks jump from {} to {}); those fires do not happen",
                        times(&skipped),
                        hhmm(old),
                        hhmm(new)
                    )
                }
            } else {
                // Fall back: wall times [new, old) happen twice.
                let repeated = matches_between(trigger, new, old);
                if repeated.is_empty() {
                    return format!(
                        "{date}: clocks go back from {} to {} in {zone}; no time of this job is repeated",
                        hhmm(old),
                        hhmm(new)
                    );
                }
                let verb = if repeated.len() == 1 { "happens" } else { "happen" };
                if fixed {
                    format!(
                        "{date} {} {verb} twice; it runs in the first pass only",
                        times(&repeated)
                    )
                } else {
                    format!(
                        "{date} {} {verb} twice (clocks go back from {} to {} in {zone}); it runs in both passes",
                        times(&repeated),
                        hhmm(old),
                        hhmm(new)
                    )
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn finds_each_change_to_the_second() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let found = transitions(tz, utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"));
        assert_eq!(
            found,
            [
                Transition {
                    at: utc("2027-03-14T07:00:00Z"),
                    before: -5 * 3600,
                    after: -4 * 3600
                },
                Transition {
                    at: utc("2027-11-07T06:00:00Z"),
                    before: -4 * 3600,
                    after: -5 * 3600
                },
            ]
        );
        let none = transitions(
            Tz::UTC,
            utc("2027-01-01T00:00:00Z"),
            utc("2028-01-01T00:00:00Z"),
        );
        assert!(none.is_empty());
    }
}
