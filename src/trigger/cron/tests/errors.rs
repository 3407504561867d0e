//! What a user sees for a malformed expression: the exact message, and the byte range it
//! points at (shown as the text it covers, then as numbers).

use crate::trigger::cron::{CronError, CronExpr};

/// (input, message, the part of the input the span covers, span)
const CASES: &[(&str, &str, &str, std::ops::Range<usize>)] = &[
    (
        "* * * *",
        "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), found 4",
        "* * * *",
        0..7,
    ),
    (
        "0 0 1 1 * 2027 x",
        "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), found 7",
        "0 0 1 1 * 2027 x",
        0..16,
    ),
    (
        "   ",
        "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), found 0",
        "   ",
        0..3,
    ),
    (
        "0 0 32 * *",
        "day-of-month value 32 is out of range (expected 1-31)",
        "32",
        4..6,
    ),
    (
        "0 0 0 * *",
        "day-of-month value 0 is out of range (expected 1-31)",
        "0",
        4..5,
    ),
    (
        "60 * * * *",
        "minute value 60 is out of range (expected 0-59)",
        "60",
        0..2,
    ),
    (
        "0 24 * * *",
        "hour value 24 is out of range (expected 0-23)",
        "24",
        2..4,
    ),
    (
        "0 0 * 13 *",
        "month value 13 is out of range (expected 1-12)",
        "13",
        6..8,
    ),
    (
        "0 0 * * 8",
        "day-of-week value 8 is out of range (expected 0-7)",
        "8",
        8..9,
    ),
    (
        "61 * * * * *",
        "second value 61 is out of range (expected 0-59)",
        "61",
        0..2,
    ),
    (
        "0 0 1-40 * *",
        "day-of-month value 40 is out of range (expected 1-31)",
        "40",
        6..8,
    ),
    (
        "0 0 * JAM *",
        "unknown month name \"JAM\" (expected JAN-DEC)",
        "JAM",
        6..9,
    ),
    (
        "0 0 * * Mon-Fry",
        "unknown day name \"Fry\" (expected SUN-SAT)",
        "Fry",
        12..15,
    ),
    (
        "0 0 * * MONDAY",
        "unknown day name \"MONDAY\" (expected SUN-SAT)",
        "MONDAY",
        8..14,
    ),
    ("*/0 * * * *", "step must be at least 1", "0", 2..3),
    ("*/ * * * *", "missing number after \"/\"", "/", 1..2),
    ("*/x * * * *", "invalid number \"x\" after \"/\"", "x", 2..3),
    ("50-10 * * * *", "range 50-10 is backwards", "50-10", 0..5),
    (
        "0 0 * * FRI-MON",
        "range FRI-MON is backwards",
        "FRI-MON",
        8..15,
    ),
    (
        "0 0 * * 5-0",
        "range 5-0 is backwards (write Sunday as 7 at the end of a range)",
        "5-0",
        8..11,
    ),
    (
        "-5 * * * *",
        "incomplete range \"-5\" (expected a-b, like 1-5)",
        "-5",
        0..2,
    ),
    (
        "1,,2 * * * *",
        "empty item in the minute list \"1,,2\" (expected a value between commas)",
        ",",
        2..3,
    ),
    (
        "0 8-17, * * *",
        "empty item in the hour list \"8-17,\" (expected a value between commas)",
        ",",
        6..7,
    ),
    (
        "abc * * * *",
        "invalid minute value \"abc\" (expected a number 0-59)",
        "abc",
        0..3,
    ),
    (
        "0 0 * 1x *",
        "invalid month value \"1x\" (expected a number 1-12 or a name JAN-DEC)",
        "1x",
        6..8,
    ),
    (
        "0 L * * *",
        "\"L\" is only allowed in day-of-month or day-of-week",
        "L",
        2..3,
    ),
    (
        "0 0 * L *",
        "\"L\" is only allowed in day-of-month or day-of-week",
        "L",
        6..7,
    ),
    (
        "0 0 * 5W *",
        "\"W\" is only allowed in day-of-month",
        "5W",
        6..8,
    ),
    (
        "0 0 * * 5W",
        "\"W\" is only allowed in day-of-month",
        "5W",
        8..10,
    ),
    (
        "0 0 1#2 * *",
        "\"#\" is only allowed in day-of-week",
        "1#2",
        4..7,
    ),
    (
        "? * * * *",
        "\"?\" is only allowed in day-of-month or day-of-week",
        "?",
        0..1,
    ),
    (
        "0 0 W * *",
        "\"W\" takes a single day before it, like 15W (found \"W\")",
        "W",
        4..5,
    ),
    (
        "0 0 1-5W * *",
        "\"W\" takes a single day before it, like 15W (found \"1-5W\")",
        "1-5W",
        4..8,
    ),
    (
        "0 0 L-3 * *",
        "invalid day-of-month value \"L-3\" (\"L\" stands alone for the last day, or as LW for the last weekday)",
        "L-3",
        4..7,
    ),
    (
        "0 0 * * 1-5L",
        "\"L\" takes a single weekday before it, like 5L for the last Friday (found \"1-5L\")",
        "1-5L",
        8..12,
    ),
    (
        "0 0 * * 1#6",
        "\"#\" occurrence 6 is out of range (expected 1-5)",
        "6",
        10..11,
    ),
    ("0 0 * * 1#", "missing number after \"#\"", "#", 9..10),
    (
        "@daly",
        "unknown macro \"@daly\" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)",
        "@daly",
        0..5,
    ),
    (
        "@reboot",
        "@reboot is not a time: it fires once per boot (a job's cron = \"@reboot\"), so it has no fire times",
        "@reboot",
        0..7,
    ),
    (
        "@daily 0 0 * * *",
        "unexpected text after @daily (a macro stands alone)",
        "0 0 * * *",
        7..16,
    ),
    (
        "0 0 30 2 *",
        "expression never fires: no February 30",
        "30 2",
        4..8,
    ),
    (
        "0 0 30,31 2 *",
        "expression never fires: no February 30 or 31",
        "30,31 2",
        4..11,
    ),
    (
        "0 0 31 4,6 *",
        "expression never fires: no April 31 or June 31",
        "31 4,6",
        4..10,
    ),
    (
        "0 0 30W FEB *",
        "expression never fires: no February 30",
        "30W FEB",
        4..11,
    ),
    // Whatever the day of week says, September has no 31st.
    (
        "0 0 31 9 */7",
        "expression never fires: no September 31",
        "31 9",
        4..8,
    ),
    // The last weekday of a month is never a Sunday.
    (
        "0 0 LW * */7",
        "expression can never match a date",
        "LW * */7",
        4..12,
    ),
    // Spans count bytes of the input as given, surrounding blanks included.
    (
        "  0 0 32 * *",
        "day-of-month value 32 is out of range (expected 1-31)",
        "32",
        6..8,
    ),
];

#[test]
fn malformed_expressions_say_what_was_expected_and_point_at_it() {
    let mut failures = Vec::new();
    for (input, message, covered, span) in CASES {
        let expected = CronError {
            message: (*message).to_owned(),
            span: span.clone(),
        };
        match CronExpr::parse(input) {
            Ok(expr) => failures.push(format!("{input:?} parsed as {expr:?}")),
            Err(actual) if actual != expected => {
                failures.push(format!(
                    "{input:?}:\n  expected {expected:?}\n  actual   {actual:?}"
                ));
            }
            Err(_) => {}
        }
        assert_eq!(
            &input[span.clone()],
            *covered,
            "the table's span for {input:?}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn error_messages_are_lower_case_sentences_without_a_full_stop() {
    for (input, ..) in CASES {
        let message = CronExpr::parse(input).unwrap_err().message;
        let first = message.chars().next().unwrap();
        assert!(
            !first.is_uppercase() && !message.ends_with('.'),
            "{message:?}"
        );
    }
}

#[test]
fn the_error_displays_as_its_message() {
    let error = CronExpr::parse("0 0 32 * *").unwrap_err();
    assert_eq!(
        error.to_string(),
        "day-of-month value 32 is out of range (expected 1-31)"
    );
}
