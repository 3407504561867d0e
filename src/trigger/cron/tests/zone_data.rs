//! What the zone data gives, pinned so that a chrono-tz upgrade that changes it is noticed.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::{assert_fires, offset, transitions, zone};
use crate::trigger::cron::zone::is_fixed_offset;

#[test]
fn chrono_tz_keeps_the_last_listed_offset_after_2099() {
    // chrono-tz's tables stop at 2099: New York's last transition is 2099-11-01 (to EST), so
    // it stays on -05:00 all year; Sydney's is 2099-10-04 (to AEDT), so it stays on +11:00.
    let cases = [
        ("America/New_York", 2099, -4),
        ("America/New_York", 2100, -5),
        ("America/New_York", 2200, -5),
        ("America/New_York", 2300, -5),
        ("Europe/London", 2100, 0),
        ("Australia/Sydney", 2100, 11),
    ];
    for (name, year, hours) in cases {
        let july = Utc.with_ymd_and_hms(year, 7, 15, 12, 0, 0).unwrap();
        assert_eq!(
            offset(zone(name), july),
            TimeDelta::hours(hours),
            "{name} in July {year}"
        );
    }
    assert_fires(
        "America/New_York",
        &[(
            "0 12 * * *",
            "2100-07-01T00:00:00Z",
            &["2100-07-01T12:00:00-05:00"],
        )],
    );
    assert_eq!(transitions_between(zone("America/New_York"), 2100, 2400), 0);
}

fn transitions_between(tz: Tz, from_year: i32, to_year: i32) -> usize {
    let mut t = Utc.with_ymd_and_hms(from_year, 1, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(to_year, 1, 1, 0, 0, 0).unwrap();
    let mut count = 0;
    while t < end {
        let next = t + TimeDelta::days(7);
        count += usize::from(offset(tz, t) != offset(tz, next));
        t = next;
    }
    count
}

#[test]
fn zones_taken_for_fixed_offsets_never_change_offset() {
    let probes: Vec<DateTime<Utc>> = (1800..=2400)
        .step_by(7)
        .map(|y| Utc.with_ymd_and_hms(y, 6, 1, 0, 0, 0).unwrap())
        .collect();
    let fixed: Vec<Tz> = chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .filter(|tz| is_fixed_offset(*tz))
        .collect();
    assert!(fixed.len() > 20, "UTC and the Etc zones: {fixed:?}");
    for tz in fixed {
        let first = offset(tz, probes[0]);
        assert!(
            probes.iter().all(|p| offset(tz, *p) == first),
            "{tz} changes offset"
        );
        assert!(transitions(tz).is_empty(), "{tz} has transitions");
    }
}
