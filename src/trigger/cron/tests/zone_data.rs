//! What the zone data gives, pinned so that a change of database that changes it is noticed.

use crate::zone::Tz;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::{assert_fires, offset, transitions, zone};

#[test]
fn zones_follow_their_footer_rule_after_the_last_listed_transition() {
    // TZif files list transitions up to 2037 (or fewer, "slim"); the POSIX TZ string at their
    // end gives the rest, so New York keeps daylight saving time in 2100 and long after.
    let cases = [
        ("America/New_York", 2099, -4),
        ("America/New_York", 2100, -4),
        ("America/New_York", 2200, -4),
        ("America/New_York", 2300, -4),
        ("America/New_York", 12_026, -4),
        ("Europe/London", 2100, 1),
        ("Australia/Sydney", 2100, 10),
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
            &["2100-07-01T12:00:00-04:00"],
        )],
    );
    // Two a year, for ever.
    assert_eq!(
        transitions_between(zone("America/New_York"), 2100, 2400),
        600
    );
    assert_eq!(
        transitions_between(zone("America/New_York"), 9_990, 10_010),
        40
    );
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
    let fixed: Vec<Tz> = crate::zone::names()
        .iter()
        .map(|name| zone(name))
        .filter(|tz| tz.fixed_offset().is_some())
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
