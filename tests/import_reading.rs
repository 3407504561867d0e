//! An independent reading of crontab lines, for checking what `jobrun import` makes of them:
//! which lines are entries, their schedules and zones, and their fire times computed by brute
//! force from crontab(5) and jobrun's documented DST rules. Nothing here uses jobrun's code.
//!
//! - fields: `*`, `a`, `a-b`, `*/n`, `a-b/n`, lists, three-letter names, `7` for Sunday;
//! - day of month and day of week both restricted (neither starts with `*`): either matches;
//!   otherwise both must;
//! - a fixed-time schedule (neither minute nor hour starts with `*`) is read in wall-clock
//!   time: a time the zone skips fires at the first real minute after the jump, a time it
//!   repeats fires once, in the first pass;
//! - any other schedule is read minute by minute in real time, so it skips a gap and fires in
//!   both passes of a repeated hour.

use chrono::Datelike;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use jobrun::zone::Tz;

/// An entry line: its schedule as written and the zone it is read in.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) schedule: String,
    pub(crate) zone: Tz,
}

/// The entries of a crontab that fire at times (no `@reboot`), in file order, with `CRON_TZ`
/// applied.
pub(crate) fn entries(text: &str, default_zone: Tz) -> Vec<Entry> {
    let mut zone = default_zone;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(name) = line.strip_prefix("CRON_TZ=") {
            zone = if name.is_empty() {
                default_zone
            } else {
                name.parse().unwrap()
            };
            continue;
        }
        // Entries start with a field or a macro (cronie allows a `-` before them); anything
        // else in these fixtures is a comment, a blank line or a NAME=value setting.
        let line = line.strip_prefix('-').unwrap_or(line);
        let first = line.chars().next().unwrap_or('#');
        if !(first == '@' || first == '*' || first.is_ascii_digit()) {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let schedule = if first == '@' {
            if words[0] == "@reboot" {
                continue;
            }
            words[0].to_owned()
        } else {
            words[..5].join(" ")
        };
        out.push(Entry { schedule, zone });
    }
    out
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// A schedule as sets of values.
pub(crate) struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days: Vec<u32>,
    months: Vec<u32>,
    weekdays: Vec<u32>,
    either: bool,
    fixed: bool,
}

fn values(field: &str, min: u32, max: u32, names: &[&str], first_name: u32) -> Vec<u32> {
    let value = |text: &str| -> u32 {
        text.parse().unwrap_or_else(|_| {
            let i = names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(text))
                .unwrap_or_else(|| panic!("bad value {text}"));
            i as u32 + first_name
        })
    };
    let mut out = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, step.parse::<usize>().unwrap()),
            None => (item, 1),
        };
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a), value(b))
        } else {
            (value(range), value(range))
        };
        out.extend((low..=high).step_by(step));
    }
    out.sort_unstable();
    out.dedup();
    out
}

impl Cron {
    pub(crate) fn parse(schedule: &str) -> Cron {
        let expanded = match schedule {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let f: Vec<&str> = expanded.split(' ').collect();
        let weekdays = values(f[4], 0, 7, &DAYS, 0)
            .into_iter()
            .map(|d| d % 7)
            .collect();
        Cron {
            minutes: values(f[0], 0, 59, &[], 0),
            hours: values(f[1], 0, 23, &[], 0),
            days: values(f[2], 1, 31, &[], 0),
            months: values(f[3], 1, 12, &MONTHS, 1),
            weekdays,
            either: !f[2].starts_with('*') && !f[4].starts_with('*'),
            fixed: !f[0].starts_with('*') && !f[1].starts_with('*'),
        }
    }

    fn date_matches(&self, date: NaiveDate) -> bool {
        let day = self.days.contains(&date.day());
        let weekday = self
            .weekdays
            .contains(&date.weekday().num_days_from_sunday());
        self.months.contains(&date.month())
            && if self.either {
                day || weekday
            } else {
                day && weekday
            }
    }

    /// The first `n` fires strictly after `after`, in `zone`.
    pub(crate) fn fires(&self, zone: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        if self.fixed {
            self.fixed_fires(zone, after, n)
        } else {
            self.minute_fires(zone, after, n)
        }
    }

    fn fixed_fires(&self, zone: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out: Vec<DateTime<Utc>> = Vec::new();
        let mut date = after.with_timezone(&zone).date_naive() - Duration::days(1);
        let last = date + Duration::days(366 * 30);
        while out.len() < n && date < last {
            if self.date_matches(date) {
                for &hour in &self.hours {
                    for &minute in &self.minutes {
                        let wall = date.and_hms_opt(hour, minute, 0).unwrap();
                        let instant = resolve(zone, wall);
                        if instant > after && out.last() != Some(&instant) && out.len() < n {
                            out.push(instant);
                        }
                    }
                }
            }
            date += Duration::days(1);
        }
        out
    }

    fn minute_fires(&self, zone: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t =
            after.with_second(0).unwrap().with_nanosecond(0).unwrap() + Duration::minutes(1);
        let last = after + Duration::days(366 * 5);
        while out.len() < n && t < last {
            let local = t.with_timezone(&zone).naive_local();
            if self.minutes.contains(&local.minute())
                && self.hours.contains(&local.hour())
                && self.date_matches(local.date())
            {
                out.push(t);
            }
            t += Duration::minutes(1);
        }
        out
    }
}

/// The instant of a wall-clock time: the first pass when it occurs twice, and the first real
/// minute after the jump when the zone skips it.
fn resolve(zone: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    let mut wall = wall;
    loop {
        match zone.from_local_datetime(&wall) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => wall += Duration::minutes(1),
        }
    }
}

#[test]
fn the_reading_knows_the_rules_it_checks_against() {
    let utc = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let ny: Tz = "America/New_York".parse().unwrap();
    // 02:30 does not exist in New York on 2026-03-08: 03:00 EDT, 07:00 UTC.
    let fires = Cron::parse("30 2 * * *").fires(ny, utc("2026-03-07T12:00:00Z"), 2);
    assert_eq!(
        fires,
        [utc("2026-03-08T07:00:00Z"), utc("2026-03-09T06:30:00Z")]
    );
    // 01:30 happens twice on 2026-11-01: once for a fixed time, twice for */30.
    let fires = Cron::parse("30 1 * * *").fires(ny, utc("2026-11-01T04:00:00Z"), 1);
    assert_eq!(fires, [utc("2026-11-01T05:30:00Z")]);
    let fires = Cron::parse("*/30 1 * * *").fires(ny, utc("2026-11-01T04:00:00Z"), 4);
    assert_eq!(
        fires,
        [
            utc("2026-11-01T05:00:00Z"),
            utc("2026-11-01T05:30:00Z"),
            utc("2026-11-01T06:00:00Z"),
            utc("2026-11-01T06:30:00Z"),
        ]
    );
    // Friday the 13th or any 13th; and every other day that is also a Monday.
    let fires = Cron::parse("0 0 13 * fri").fires(Tz::UTC, utc("2026-03-01T00:00:00Z"), 3);
    assert_eq!(
        fires,
        [
            utc("2026-03-06T00:00:00Z"),
            utc("2026-03-13T00:00:00Z"),
            utc("2026-03-20T00:00:00Z")
        ]
    );
    let fires = Cron::parse("0 12 */2 * mon").fires(Tz::UTC, utc("2026-03-01T00:00:00Z"), 2);
    assert_eq!(
        fires,
        [utc("2026-03-09T12:00:00Z"), utc("2026-03-23T12:00:00Z")]
    );
}
