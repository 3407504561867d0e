//! crontab(5) as Vixie cron and cronie read it, plus the Quartz-style extensions, in UTC so
//! that only the language is under test. Each row: expression, start instant, next fires.

use super::{assert_fires, fires, instant, trigger};
use crate::trigger::cron::CronExpr;

#[test]
fn man_page_examples_fire_when_the_man_page_says() {
    assert_fires(
        "UTC",
        &[
            // "run five minutes after midnight, every day"
            (
                "5 0 * * *",
                "2026-01-01T00:00:00Z",
                &["2026-01-01T00:05:00+00:00", "2026-01-02T00:05:00+00:00"],
            ),
            // "run at 2:15pm on the first of every month"
            (
                "15 14 1 * *",
                "2026-01-15T00:00:00Z",
                &["2026-02-01T14:15:00+00:00", "2026-03-01T14:15:00+00:00"],
            ),
            // "run at 10 pm on weekdays" (2026-01-02 is a Friday)
            (
                "0 22 * * 1-5",
                "2026-01-02T23:00:00Z",
                &["2026-01-05T22:00:00+00:00", "2026-01-06T22:00:00+00:00"],
            ),
            // "run 23 minutes after midn, 2am, 4am ..., everyday"
            (
                "23 0-23/2 * * *",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-01T00:23:00+00:00",
                    "2026-01-01T02:23:00+00:00",
                    "2026-01-01T04:23:00+00:00",
                ],
            ),
            // "run at 5 after 4 every sunday" (2026-01-04 is a Sunday)
            (
                "5 4 * * sun",
                "2026-01-01T00:00:00Z",
                &["2026-01-04T04:05:00+00:00", "2026-01-11T04:05:00+00:00"],
            ),
            // "run at midnight and noon on the 1st of every other month"
            (
                "0 0,12 1 */2 *",
                "2026-01-01T06:00:00Z",
                &[
                    "2026-01-01T12:00:00+00:00",
                    "2026-03-01T00:00:00+00:00",
                    "2026-03-01T12:00:00+00:00",
                ],
            ),
            // "4:30 am on the 1st and 15th of each month, plus every Friday"
            (
                "30 4 1,15 * 5",
                "2026-01-01T05:00:00Z",
                &[
                    "2026-01-02T04:30:00+00:00",
                    "2026-01-09T04:30:00+00:00",
                    "2026-01-15T04:30:00+00:00",
                ],
            ),
        ],
    );
}

#[test]
fn steps_ranges_and_lists_expand_as_cronie_expands_them() {
    assert_fires(
        "UTC",
        &[
            (
                "* * * * *",
                "2026-01-01T00:00:30Z",
                &["2026-01-01T00:01:00+00:00", "2026-01-01T00:02:00+00:00"],
            ),
            (
                "*/15 * * * *",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-01T00:15:00+00:00",
                    "2026-01-01T00:30:00+00:00",
                    "2026-01-01T00:45:00+00:00",
                    "2026-01-01T01:00:00+00:00",
                ],
            ),
            // A step counts from the start of its range.
            (
                "10-30/10 * * * *",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-01T00:10:00+00:00",
                    "2026-01-01T00:20:00+00:00",
                    "2026-01-01T00:30:00+00:00",
                    "2026-01-01T01:10:00+00:00",
                ],
            ),
            // `a/n` runs from a to the end of the field.
            (
                "50/5 * * * *",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-01T00:50:00+00:00",
                    "2026-01-01T00:55:00+00:00",
                    "2026-01-01T01:50:00+00:00",
                ],
            ),
            // Every hour divisible by 7: 0, 7, 14, 21, then midnight again.
            (
                "0 */7 * * *",
                "2026-01-01T15:00:00Z",
                &["2026-01-01T21:00:00+00:00", "2026-01-02T00:00:00+00:00"],
            ),
            (
                "0,30 9,17 * * *",
                "2026-01-01T09:10:00Z",
                &[
                    "2026-01-01T09:30:00+00:00",
                    "2026-01-01T17:00:00+00:00",
                    "2026-01-01T17:30:00+00:00",
                    "2026-01-02T09:00:00+00:00",
                ],
            ),
            (
                "0 0 1-3,20-21/1 * *",
                "2026-01-02T12:00:00Z",
                &[
                    "2026-01-03T00:00:00+00:00",
                    "2026-01-20T00:00:00+00:00",
                    "2026-01-21T00:00:00+00:00",
                    "2026-02-01T00:00:00+00:00",
                ],
            ),
            // A step larger than the field leaves only its start.
            (
                "*/90 * * * *",
                "2026-01-01T00:00:00Z",
                &["2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"],
            ),
            // Leading zeros are plain numbers.
            (
                "05 09 * * *",
                "2026-01-01T00:00:00Z",
                &["2026-01-01T09:05:00+00:00"],
            ),
            // Year boundaries.
            (
                "0 0 1 1 *",
                "2026-12-31T23:59:59Z",
                &["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"],
            ),
        ],
    );
}

#[test]
fn names_are_case_insensitive_and_work_in_ranges_and_lists() {
    assert_fires(
        "UTC",
        &[
            (
                "0 12 1 jan,Jul *",
                "2026-01-05T00:00:00Z",
                &["2026-07-01T12:00:00+00:00", "2027-01-01T12:00:00+00:00"],
            ),
            (
                "0 12 1 FEB-apr/2 *",
                "2026-01-05T00:00:00Z",
                &[
                    "2026-02-01T12:00:00+00:00",
                    "2026-04-01T12:00:00+00:00",
                    "2027-02-01T12:00:00+00:00",
                ],
            ),
            // 2026-01-01 is a Thursday.
            (
                "0 8 * * mon-wed,Fri",
                "2026-01-01T12:00:00Z",
                &[
                    "2026-01-02T08:00:00+00:00",
                    "2026-01-05T08:00:00+00:00",
                    "2026-01-06T08:00:00+00:00",
                    "2026-01-07T08:00:00+00:00",
                    "2026-01-09T08:00:00+00:00",
                ],
            ),
        ],
    );
}

#[test]
fn seven_is_sunday_like_zero() {
    let sundays: &[&str] = &["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"];
    let weekend: &[&str] = &[
        "2026-01-02T00:00:00+00:00",
        "2026-01-03T00:00:00+00:00",
        "2026-01-04T00:00:00+00:00",
        "2026-01-09T00:00:00+00:00",
    ];
    assert_fires(
        "UTC",
        &[
            ("0 0 * * 0", "2026-01-01T00:00:00Z", sundays),
            ("0 0 * * 7", "2026-01-01T00:00:00Z", sundays),
            ("0 0 * * SUN", "2026-01-01T00:00:00Z", sundays),
            ("0 0 * * 0,7", "2026-01-01T00:00:00Z", sundays),
            // Friday to Sunday, however written.
            ("0 0 * * 5-7", "2026-01-01T00:00:00Z", weekend),
            ("0 0 * * FRI-SUN", "2026-01-01T00:00:00Z", weekend),
            ("0 0 * * 5,6,0", "2026-01-01T00:00:00Z", weekend),
        ],
    );
}

#[test]
fn macros_expand_to_their_five_fields() {
    let cases = [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"),
    ];
    for (name, fields) in cases {
        let from = "2026-01-01T10:30:00Z";
        assert_eq!(
            fires(&trigger(name, "UTC"), from, 3),
            fires(&trigger(fields, "UTC"), from, 3),
            "{name}"
        );
        assert_eq!(
            CronExpr::parse(name).unwrap().is_fixed_time(),
            CronExpr::parse(fields).unwrap().is_fixed_time(),
            "{name}"
        );
    }
    assert_fires(
        "UTC",
        &[(
            "@weekly",
            "2026-01-01T00:00:00Z",
            &["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"],
        )],
    );
}

#[test]
fn restricted_day_of_month_and_day_of_week_fire_on_either() {
    assert_fires(
        "UTC",
        &[
            // The 13th, and every Friday (February 2026: Fridays 6, 13, 20, 27).
            (
                "0 0 13 * FRI",
                "2026-02-01T00:00:00Z",
                &[
                    "2026-02-06T00:00:00+00:00",
                    "2026-02-13T00:00:00+00:00",
                    "2026-02-20T00:00:00+00:00",
                    "2026-02-27T00:00:00+00:00",
                    "2026-03-06T00:00:00+00:00",
                ],
            ),
            // A classic surprise: days 1-7 *or* Mondays, not the first Monday.
            (
                "0 0 1-7 * MON",
                "2026-01-07T12:00:00Z",
                &[
                    "2026-01-12T00:00:00+00:00",
                    "2026-01-19T00:00:00+00:00",
                    "2026-01-26T00:00:00+00:00",
                    "2026-02-01T00:00:00+00:00",
                ],
            ),
            // Feb 29, or any Sunday of February.
            (
                "0 0 29 2 SUN",
                "2028-02-20T00:00:00Z",
                &[
                    "2028-02-27T00:00:00+00:00",
                    "2028-02-29T00:00:00+00:00",
                    "2029-02-04T00:00:00+00:00",
                ],
            ),
        ],
    );
}

#[test]
fn a_day_field_starting_with_a_star_makes_both_fields_required() {
    assert_fires(
        "UTC",
        &[
            // `*/2` counts as a star: odd days that are Fridays.
            (
                "0 0 */2 * FRI",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-09T00:00:00+00:00",
                    "2026-01-23T00:00:00+00:00",
                    "2026-02-13T00:00:00+00:00",
                    "2026-02-27T00:00:00+00:00",
                ],
            ),
            // And in day of week: days 1-7 that are Sunday, Tuesday, Thursday or Saturday.
            (
                "0 0 1-7 * */2",
                "2026-01-01T12:00:00Z",
                &[
                    "2026-01-03T00:00:00+00:00",
                    "2026-01-04T00:00:00+00:00",
                    "2026-01-06T00:00:00+00:00",
                    "2026-02-01T00:00:00+00:00",
                ],
            ),
            // `?` is a star too.
            (
                "0 0 ? * MON",
                "2026-01-01T00:00:00Z",
                &["2026-01-05T00:00:00+00:00", "2026-01-12T00:00:00+00:00"],
            ),
            (
                "0 0 13 * ?",
                "2026-01-01T00:00:00Z",
                &["2026-01-13T00:00:00+00:00", "2026-02-13T00:00:00+00:00"],
            ),
            // Feb 29 that is a Sunday (`*/7` is 0 and 7, both Sunday): 2032, then 2060.
            (
                "0 0 29 2 */7",
                "2026-01-01T00:00:00Z",
                &["2032-02-29T00:00:00+00:00", "2060-02-29T00:00:00+00:00"],
            ),
        ],
    );
}

#[test]
fn leap_days_come_every_four_years_but_not_in_2100() {
    assert_fires(
        "UTC",
        &[
            (
                "0 0 29 2 *",
                "2026-01-01T00:00:00Z",
                &["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"],
            ),
            (
                "0 0 29 2 *",
                "2096-03-01T00:00:00Z",
                &["2104-02-29T00:00:00+00:00"],
            ),
            (
                "0 0 29 2 *",
                "2399-01-01T00:00:00Z",
                &["2400-02-29T00:00:00+00:00"],
            ),
            // The 31st only in months that have one.
            (
                "0 0 31 * *",
                "2026-01-31T12:00:00Z",
                &[
                    "2026-03-31T00:00:00+00:00",
                    "2026-05-31T00:00:00+00:00",
                    "2026-07-31T00:00:00+00:00",
                    "2026-08-31T00:00:00+00:00",
                ],
            ),
        ],
    );
}

#[test]
fn l_is_the_last_day_of_the_month() {
    assert_fires(
        "UTC",
        &[
            (
                "0 0 L * *",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-31T00:00:00+00:00",
                    "2026-02-28T00:00:00+00:00",
                    "2026-03-31T00:00:00+00:00",
                    "2026-04-30T00:00:00+00:00",
                ],
            ),
            (
                "0 0 L 2 *",
                "2027-03-01T00:00:00Z",
                &["2028-02-29T00:00:00+00:00", "2029-02-28T00:00:00+00:00"],
            ),
            // In a list with plain days.
            (
                "0 0 15,L * *",
                "2026-02-01T00:00:00Z",
                &[
                    "2026-02-15T00:00:00+00:00",
                    "2026-02-28T00:00:00+00:00",
                    "2026-03-15T00:00:00+00:00",
                ],
            ),
        ],
    );
}

#[test]
fn lw_is_the_last_weekday_of_the_month() {
    // January 2026 ends on a Saturday, February on a Saturday, May on a Sunday.
    assert_fires(
        "UTC",
        &[(
            "0 0 LW * *",
            "2026-01-01T00:00:00Z",
            &[
                "2026-01-30T00:00:00+00:00",
                "2026-02-27T00:00:00+00:00",
                "2026-03-31T00:00:00+00:00",
                "2026-04-30T00:00:00+00:00",
                "2026-05-29T00:00:00+00:00",
            ],
        )],
    );
}

#[test]
fn w_is_the_nearest_weekday_without_leaving_the_month() {
    assert_fires(
        "UTC",
        &[
            // 2026-08-01 is a Saturday: not Friday July 31 but Monday August 3.
            (
                "0 0 1W 8 *",
                "2026-01-01T00:00:00Z",
                &["2026-08-03T00:00:00+00:00"],
            ),
            // 2026-05-31 is a Sunday: not Monday June 1 but Friday May 29.
            (
                "0 0 31W 5 *",
                "2026-01-01T00:00:00Z",
                &["2026-05-29T00:00:00+00:00"],
            ),
            // Inside the month: Sunday the 15th moves to Monday, Saturday the 15th to Friday.
            (
                "0 0 15W 3 *",
                "2026-01-01T00:00:00Z",
                &["2026-03-16T00:00:00+00:00"],
            ),
            (
                "0 0 15W 8 *",
                "2026-01-01T00:00:00Z",
                &["2026-08-14T00:00:00+00:00"],
            ),
            // A weekday stays put (2026-01-15 is a Thursday).
            (
                "0 0 15W 1 *",
                "2026-01-01T00:00:00Z",
                &["2026-01-15T00:00:00+00:00"],
            ),
            // No day 31, no 31W: April, June, September and November are skipped.
            (
                "0 0 31W * *",
                "2026-03-01T00:00:00Z",
                &[
                    "2026-03-31T00:00:00+00:00",
                    "2026-05-29T00:00:00+00:00",
                    "2026-07-31T00:00:00+00:00",
                ],
            ),
            // Mixed with plain days.
            (
                "0 0 1,15W 2 *",
                "2026-01-01T00:00:00Z",
                &["2026-02-01T00:00:00+00:00", "2026-02-16T00:00:00+00:00"],
            ),
        ],
    );
}

#[test]
fn l_after_a_weekday_is_its_last_occurrence_in_the_month() {
    assert_fires(
        "UTC",
        &[
            (
                "0 0 * * 5L",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-30T00:00:00+00:00",
                    "2026-02-27T00:00:00+00:00",
                    "2026-03-27T00:00:00+00:00",
                ],
            ),
            (
                "0 0 * * FRIL",
                "2026-01-01T00:00:00Z",
                &["2026-01-30T00:00:00+00:00"],
            ),
            // July 2026 ends on a Friday: the 24th is not the last one.
            (
                "0 0 * * 5L",
                "2026-07-01T00:00:00Z",
                &["2026-07-31T00:00:00+00:00", "2026-08-28T00:00:00+00:00"],
            ),
            // 7L and 0L are both the last Sunday.
            (
                "0 0 * * 7L",
                "2026-01-01T00:00:00Z",
                &["2026-01-25T00:00:00+00:00", "2026-02-22T00:00:00+00:00"],
            ),
            (
                "0 0 * * 0L",
                "2026-01-01T00:00:00Z",
                &["2026-01-25T00:00:00+00:00", "2026-02-22T00:00:00+00:00"],
            ),
            // A lone L is Saturday, the last day of the week (as in Quartz).
            (
                "0 0 * * L",
                "2026-01-01T00:00:00Z",
                &["2026-01-03T00:00:00+00:00", "2026-01-10T00:00:00+00:00"],
            ),
        ],
    );
}

#[test]
fn hash_is_the_nth_weekday_of_the_month() {
    assert_fires(
        "UTC",
        &[
            (
                "0 0 * * 1#2",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-12T00:00:00+00:00",
                    "2026-02-09T00:00:00+00:00",
                    "2026-03-09T00:00:00+00:00",
                ],
            ),
            (
                "0 0 * * MON#1,FRI#3",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-05T00:00:00+00:00",
                    "2026-01-16T00:00:00+00:00",
                    "2026-02-02T00:00:00+00:00",
                ],
            ),
            // A fifth Friday exists only in some months.
            (
                "0 0 * * 5#5",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-30T00:00:00+00:00",
                    "2026-05-29T00:00:00+00:00",
                    "2026-07-31T00:00:00+00:00",
                    "2026-10-30T00:00:00+00:00",
                ],
            ),
            // With a restricted day of month, either one (Vixie's rule holds for the extensions).
            (
                "0 0 1 * 5L",
                "2026-01-01T12:00:00Z",
                &[
                    "2026-01-30T00:00:00+00:00",
                    "2026-02-01T00:00:00+00:00",
                    "2026-02-27T00:00:00+00:00",
                ],
            ),
        ],
    );
}

#[test]
fn six_fields_put_seconds_first() {
    assert_fires(
        "UTC",
        &[
            (
                "*/20 * * * * *",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-01T00:00:20+00:00",
                    "2026-01-01T00:00:40+00:00",
                    "2026-01-01T00:01:00+00:00",
                ],
            ),
            (
                "30 0 12 * * *",
                "2026-01-01T00:00:00Z",
                &["2026-01-01T12:00:30+00:00", "2026-01-02T12:00:30+00:00"],
            ),
            (
                "0,59 59 23 31 12 *",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-12-31T23:59:00+00:00",
                    "2026-12-31T23:59:59+00:00",
                    "2027-12-31T23:59:00+00:00",
                ],
            ),
        ],
    );
}

#[test]
fn fires_come_strictly_after_the_given_instant_in_whole_seconds() {
    let t = trigger("* * * * * *", "UTC");
    assert_eq!(
        t.next_after(instant("2026-01-01T12:00:00.5Z")),
        Some(instant("2026-01-01T12:00:01Z"))
    );
    assert_eq!(
        t.next_after(instant("2026-01-01T12:00:00Z")),
        Some(instant("2026-01-01T12:00:01Z"))
    );
    let t = trigger("0 12 * * *", "UTC");
    assert_eq!(
        t.next_after(instant("2026-01-01T12:00:00Z")),
        Some(instant("2026-01-02T12:00:00Z"))
    );
    assert_eq!(
        t.next_after(instant("2026-01-01T11:59:59.999999999Z")),
        Some(instant("2026-01-01T12:00:00Z"))
    );
}

#[test]
fn the_end_of_representable_time_gives_none_not_a_panic() {
    use chrono::{DateTime, Utc};
    for expr in ["* * * * *", "0 0 29 2 */7", "0 0 L * 5L"] {
        assert_eq!(
            trigger(expr, "UTC").next_after(DateTime::<Utc>::MAX_UTC),
            None,
            "{expr}"
        );
        assert_eq!(
            trigger(expr, "America/New_York").next_after(DateTime::<Utc>::MAX_UTC),
            None,
            "{expr}"
        );
        assert!(
            trigger(expr, "Europe/Paris")
                .next_after(DateTime::<Utc>::MIN_UTC)
                .is_some(),
            "{expr}"
        );
    }
}

#[test]
fn an_expression_knows_its_text_its_seconds_and_whether_it_is_fixed_time() {
    // (text, source, has_seconds, is_fixed_time)
    let cases = [
        ("30 2 * * *", "30 2 * * *", false, true),
        ("  0-59 2 * * *\t", "0-59 2 * * *", false, true),
        ("*/5 2 * * *", "*/5 2 * * *", false, false),
        ("0 */2 * * *", "0 */2 * * *", false, false),
        ("0 * * * *", "0 * * * *", false, false),
        ("@daily", "@daily", false, true),
        ("@hourly", "@hourly", false, false),
        ("*/10 30 2 * * *", "*/10 30 2 * * *", true, true),
        ("0 * 2 * * *", "0 * 2 * * *", true, false),
    ];
    for (text, source, seconds, fixed) in cases {
        let expr = CronExpr::parse(text).unwrap();
        assert_eq!(
            (expr.source(), expr.has_seconds(), expr.is_fixed_time()),
            (source, seconds, fixed),
            "{text:?}"
        );
    }
    assert_eq!(
        CronExpr::parse("0 0 * * 7").unwrap(),
        CronExpr::parse("0 0 * * 7").unwrap().clone()
    );
    assert_ne!(
        CronExpr::parse("0 0 * * 7").unwrap(),
        CronExpr::parse("0 0 * * 0").unwrap(),
        "the text differs"
    );
}
