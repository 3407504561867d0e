//! Random expressions against a brute-force oracle.
//!
//! The generator builds a small model of an expression (lists of values, ranges, steps and
//! the `L`/`W`/`#` extensions), renders it as text, and evaluates the model itself, so the
//! oracle shares nothing with the code under test: not the parser, not the day tables, not
//! the search. The oracle walks every minute (every second for six fields) of a window
//! around a DST transition and decides, instant by instant, from the wall time and the
//! zone's offsets, whether the job fires there by the rules in the module docs.

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc,
    Weekday,
};
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{offset, transitions};
use crate::trigger::cron::{CronExpr, CronTrigger};
use crate::zone::Tz;

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One item of a field's list.
#[derive(Debug, Clone)]
enum Part {
    Star,
    Question,
    StarStep(u32),
    Value(u32),
    Range(u32, u32),
    RangeStep(u32, u32, u32),
    ValueStep(u32, u32),
    /// Day of month: `L`, `LW`, `nW`.
    Last,
    LastWeekday,
    Nearest(u32),
    /// Day of week: `wL`, `w#n`, a lone `L` (Saturday).
    LastOf(u32),
    Nth(u32, u32),
    LoneL,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Month,
    DayOfMonth,
    DayOfWeek,
}

#[derive(Debug, Clone)]
struct FieldModel {
    parts: Vec<Part>,
    kind: Kind,
    min: u32,
    max: u32,
    /// Write month and weekday values as names.
    names: bool,
}

impl FieldModel {
    fn value_text(&self, v: u32) -> String {
        match self.kind {
            Kind::Month if self.names => MONTH_NAMES[v as usize - 1].to_owned(),
            Kind::DayOfWeek if self.names && v < 7 => DAY_NAMES[v as usize].to_owned(),
            _ => v.to_string(),
        }
    }

    fn text(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|p| match *p {
                Part::Star => "*".to_owned(),
                Part::Question => "?".to_owned(),
                Part::StarStep(n) => format!("*/{n}"),
                Part::Value(v) => self.value_text(v),
                Part::Range(a, b) => format!("{}-{}", self.value_text(a), self.value_text(b)),
                Part::RangeStep(a, b, n) => {
                    format!("{}-{}/{n}", self.value_text(a), self.value_text(b))
                }
                Part::ValueStep(a, n) => format!("{}/{n}", self.value_text(a)),
                Part::Last => "L".to_owned(),
                Part::LastWeekday => "LW".to_owned(),
                Part::Nearest(n) => format!("{n}W"),
                Part::LastOf(w) => format!("{w}L"),
                Part::Nth(w, n) => format!("{w}#{n}"),
                Part::LoneL => "L".to_owned(),
            })
            .collect();
        parts.join(",")
    }

    fn starts_with_star(&self) -> bool {
        matches!(
            self.parts[0],
            Part::Star | Part::Question | Part::StarStep(_)
        )
    }

    /// Whether plain value `v` is in the field (ignoring the day extensions).
    fn contains(&self, v: u32) -> bool {
        let (min, max) = (self.min, self.max);
        self.parts.iter().any(|p| match *p {
            Part::Star | Part::Question => true,
            Part::StarStep(n) => v >= min && (v - min).is_multiple_of(n),
            Part::Value(a) => v == a,
            Part::Range(a, b) => (a..=b).contains(&v),
            Part::RangeStep(a, b, n) => (a..=b).contains(&v) && (v - a).is_multiple_of(n),
            Part::ValueStep(a, n) => (a..=max).contains(&v) && (v - a).is_multiple_of(n),
            _ => false,
        })
    }

    fn matches_day_of_month(&self, date: NaiveDate) -> bool {
        let len = month_days(date).count() as u32;
        let day = date.day();
        self.contains(day)
            || self.parts.iter().any(|p| match *p {
                Part::Last => day == len,
                Part::LastWeekday => {
                    month_days(date).filter(|d| is_weekday(*d)).last() == Some(date)
                }
                // The Monday-to-Friday day of this month closest to day n.
                Part::Nearest(n) => {
                    n <= len
                        && month_days(date)
                            .filter(|d| is_weekday(*d))
                            .min_by_key(|d| d.day().abs_diff(n))
                            == Some(date)
                }
                _ => false,
            })
    }

    fn matches_day_of_week(&self, date: NaiveDate) -> bool {
        let w = date.weekday().num_days_from_sunday();
        let same_weekday = || month_days(date).filter(move |d| d.weekday() == date.weekday());
        self.contains(w)
            || (w == 0 && self.contains(7))
            || self.parts.iter().any(|p| match *p {
                Part::LastOf(x) => x % 7 == w && same_weekday().last() == Some(date),
                Part::Nth(x, n) => x % 7 == w && same_weekday().nth(n as usize - 1) == Some(date),
                Part::LoneL => w == 6,
                _ => false,
            })
    }
}

fn month_days(date: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    let first = date.with_day(1).expect("every month has a 1st");
    first
        .iter_days()
        .take_while(move |d| d.month() == first.month())
}

fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[derive(Debug, Clone)]
struct Model {
    seconds: Option<FieldModel>,
    minute: FieldModel,
    hour: FieldModel,
    day_of_month: FieldModel,
    month: FieldModel,
    day_of_week: FieldModel,
}

impl Model {
    fn text(&self) -> String {
        let fields = [
            &self.minute,
            &self.hour,
            &self.day_of_month,
            &self.month,
            &self.day_of_week,
        ];
        let text: Vec<String> = self
            .seconds
            .iter()
            .chain(fields)
            .map(FieldModel::text)
            .collect();
        text.join(" ")
    }

    fn fixed_time(&self) -> bool {
        !self.minute.starts_with_star() && !self.hour.starts_with_star()
    }

    fn matches_date(&self, date: NaiveDate) -> bool {
        let by_month = self.day_of_month.matches_day_of_month(date);
        let by_week = self.day_of_week.matches_day_of_week(date);
        let days = if self.day_of_month.starts_with_star() || self.day_of_week.starts_with_star() {
            by_month && by_week
        } else {
            by_month || by_week
        };
        days && self.month.contains(date.month())
    }

    fn matches(&self, wall: NaiveDateTime) -> bool {
        let second_ok = match &self.seconds {
            Some(field) => field.contains(wall.second()),
            None => wall.second() == 0,
        };
        second_ok
            && self.minute.contains(wall.minute())
            && self.hour.contains(wall.hour())
            && self.matches_date(wall.date())
    }

    fn step(&self) -> TimeDelta {
        if self.seconds.is_some() {
            TimeDelta::seconds(1)
        } else {
            TimeDelta::minutes(1)
        }
    }

    /// Whether the job fires at instant `u` in `tz`, decided from scratch.
    fn fires_at(&self, tz: Tz, u: DateTime<Utc>) -> bool {
        let wall = u.naive_utc() + offset(tz, u);
        let matches = self.matches(wall);
        if !self.fixed_time() {
            return matches;
        }
        let first_occurrence = match tz.from_local_datetime(&wall) {
            LocalResult::Single(x) => x == u,
            LocalResult::Ambiguous(a, b) => a.min(b) == u,
            LocalResult::None => unreachable!("{wall} is the wall time of an instant"),
        };
        if matches && first_occurrence {
            return true;
        }
        // The first instant after a jump forward runs a fixed-time job once for everything
        // it would have matched in the skipped wall times.
        let before = u - TimeDelta::seconds(1);
        let (jump_from, jump_to) = (offset(tz, before), offset(tz, u));
        if jump_from >= jump_to {
            return false;
        }
        let skipped_from = u.naive_utc() + jump_from;
        let skipped_to = u.naive_utc() + jump_to;
        let mut w = skipped_from;
        while w < skipped_to {
            if self.matches(w) {
                return true;
            }
            w += self.step();
        }
        false
    }
}

fn values(min: u32, max: u32, low_bias: Option<u32>) -> BoxedStrategy<u32> {
    match low_bias {
        Some(top) => prop_oneof![min..=top, min..=max].boxed(),
        None => (min..=max).boxed(),
    }
}

/// A list item of a plain field; `star` weighs `*` (the day fields keep stars out of their
/// lists, where they would hide the extensions).
fn plain_part(min: u32, max: u32, low_bias: Option<u32>, star: u32) -> BoxedStrategy<Part> {
    let v = move || values(min, max, low_bias);
    prop_oneof![
        star => Just(Part::Star),
        2 => (1..=(max - min + 1).min(25)).prop_map(Part::StarStep),
        4 => v().prop_map(Part::Value),
        2 => (v(), v()).prop_map(|(a, b)| Part::Range(a.min(b), a.max(b))),
        1 => (v(), v(), 1..8u32).prop_map(|(a, b, n)| Part::RangeStep(a.min(b), a.max(b), n)),
        1 => (v(), 1..8u32).prop_map(|(a, n)| Part::ValueStep(a, n)),
    ]
    .boxed()
}

fn field(
    kind: Kind,
    min: u32,
    max: u32,
    low_bias: Option<u32>,
    star_weight: u32,
) -> BoxedStrategy<FieldModel> {
    let part = match kind {
        Kind::DayOfMonth => prop_oneof![
            4 => plain_part(min, max, low_bias, 0),
            1 => Just(Part::Last),
            1 => Just(Part::LastWeekday),
            // Mostly near the month's edges, where `W` has to stay inside the month.
            2 => prop_oneof![1..=2u32, 28..=31u32, 1..=31u32].prop_map(Part::Nearest),
        ]
        .boxed(),
        Kind::DayOfWeek => prop_oneof![
            4 => plain_part(min, max, low_bias, 0),
            1 => (0..=7u32).prop_map(Part::LastOf),
            2 => (0..=7u32, 1..=5u32).prop_map(|(w, n)| Part::Nth(w, n)),
            1 => Just(Part::LoneL),
        ]
        .boxed(),
        Kind::Plain | Kind::Month => plain_part(min, max, low_bias, 1),
    };
    let list = prop::collection::vec(part, 1..=3);
    let field = (list, any::<bool>()).prop_map(move |(parts, names)| FieldModel {
        parts,
        kind,
        min,
        max,
        names,
    });
    if star_weight == 0 {
        return field.boxed();
    }
    let alone = |part: Part| {
        Just(FieldModel {
            parts: vec![part],
            kind,
            min,
            max,
            names: false,
        })
    };
    let star = if matches!(kind, Kind::DayOfMonth | Kind::DayOfWeek) {
        prop_oneof![3 => alone(Part::Star), 1 => alone(Part::Question)].boxed()
    } else {
        alone(Part::Star).boxed()
    };
    prop_oneof![star_weight => star, 10 - star_weight => field].boxed()
}

fn model() -> impl Strategy<Value = Model> {
    (
        prop::option::weighted(0.2, field(Kind::Plain, 0, 59, Some(5), 3)),
        field(Kind::Plain, 0, 59, None, 2),
        field(Kind::Plain, 0, 23, Some(3), 2),
        field(Kind::DayOfMonth, 1, 31, None, 7),
        field(Kind::Month, 1, 12, None, 8),
        field(Kind::DayOfWeek, 0, 7, None, 6),
    )
        .prop_map(
            |(seconds, minute, hour, day_of_month, month, day_of_week)| Model {
                seconds,
                minute,
                hour,
                day_of_month,
                month,
                day_of_week,
            },
        )
}

const ZONES: [&str; 8] = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "UTC",
    "Europe/Paris",
];

/// A start instant: usually shortly before one of the zone's transitions (`before` seconds
/// at most), otherwise anywhere in 2026; with random sub-seconds.
fn start(tz: Tz, pick: usize, near: bool, before: i64, nanos: u32) -> DateTime<Utc> {
    let transitions = transitions(tz);
    let base = if near && !transitions.is_empty() {
        transitions[pick % transitions.len()] - TimeDelta::seconds(before)
    } else {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
            + TimeDelta::seconds((pick as i64 * 7919 * 60) % (365 * 86_400))
    };
    base + TimeDelta::nanoseconds(i64::from(nanos))
}

/// Parses a generated expression. The generator can combine day fields that never agree
/// (`LW` with `*/6`): those are refused at parse time, checked by the last property here,
/// and skipped elsewhere; any other error is a failure.
fn parse(text: &str) -> Result<CronExpr, TestCaseError> {
    CronExpr::parse(text).map_err(|e| {
        if e.message.starts_with("expression never fires")
            || e.message == "expression can never match a date"
        {
            TestCaseError::reject(e.message)
        } else {
            TestCaseError::fail(format!("{text:?} does not parse: {e}"))
        }
    })
}

fn check_against_oracle(model: &Model, tz: Tz, from: DateTime<Utc>) -> Result<(), TestCaseError> {
    let text = model.text();
    let expr = parse(&text)?;
    prop_assert_eq!(expr.is_fixed_time(), model.fixed_time(), "{}", text);
    let trigger = CronTrigger::new(expr, tz);

    // Strictly increasing whole seconds, each one a fire by the oracle, also past the window.
    let mut t = from;
    for _ in 0..12 {
        let Some(next) = trigger.next_after(t) else {
            break;
        };
        prop_assert!(
            next > t && next.nanosecond() == 0,
            "{text:?} in {tz}: {next} after {t}"
        );
        prop_assert!(
            model.fires_at(tz, next),
            "{text:?} in {tz} fired at {next}, which the rules do not allow"
        );
        t = next;
    }

    // Exactly the oracle's fires within the window.
    let window = if model.seconds.is_some() {
        TimeDelta::hours(3)
    } else {
        TimeDelta::days(2)
    };
    let end = from + window;
    let mut expected = Vec::new();
    let step = model.step();
    let mut u = DateTime::from_timestamp(
        from.timestamp() - from.timestamp().rem_euclid(step.num_seconds()),
        0,
    )
    .unwrap();
    while u < end {
        if u > from && model.fires_at(tz, u) {
            expected.push(u);
        }
        u += step;
    }
    let mut actual = Vec::new();
    let mut t = from;
    while let Some(next) = trigger.next_after(t).filter(|n| *n < end) {
        actual.push(next);
        t = next;
    }
    prop_assert_eq!(actual, expected, "{:?} in {} from {}", text, tz, from);
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 400, failure_persistence: None, ..Config::default() })]

    #[test]
    fn fires_are_exactly_the_oracles_around_dst_transitions(
        model in model(),
        zone_index in 0..ZONES.len(),
        pick in 0..1000usize,
        near in prop::bool::weighted(0.8),
        before_minutes in 0..(40 * 60i64),
        before_seconds in 0..(2 * 3600i64),
        nanos in prop_oneof![Just(0u32), 0..1_000_000_000u32],
    ) {
        let tz: Tz = ZONES[zone_index].parse().unwrap();
        let before = if model.seconds.is_some() { before_seconds } else { before_minutes * 60 + before_seconds % 60 };
        check_against_oracle(&model, tz, start(tz, pick, near, before, nanos))?;
    }
}

/// Without DST in the way, checks a run of fires over months or years: each fire matches,
/// and no minute between two fires does (whole days by their date, the two partial days
/// minute by minute).
fn check_calendar_in_utc(model: &Model, from: DateTime<Utc>) -> Result<(), TestCaseError> {
    let text = model.text();
    let trigger = CronTrigger::new(parse(&text)?, Tz::UTC);
    let minute = TimeDelta::minutes(1);
    let mut t = from;
    for _ in 0..12 {
        let Some(next) = trigger.next_after(t) else {
            return Err(TestCaseError::fail(format!(
                "{text:?} stopped firing after {t}"
            )));
        };
        prop_assert!(
            model.matches(next.naive_utc()),
            "{:?} fired at {}",
            text,
            next
        );
        let mut u = DateTime::from_timestamp(t.timestamp() - t.timestamp().rem_euclid(60), 0)
            .unwrap()
            + minute;
        while u < next {
            let day = u.date_naive();
            if day != t.date_naive() && day != next.date_naive() {
                prop_assert!(
                    !model.matches_date(day),
                    "{:?} skipped {} between {} and {}",
                    text,
                    day,
                    t,
                    next
                );
                u = day
                    .succ_opt()
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc();
                continue;
            }
            prop_assert!(
                !model.matches(u.naive_utc()),
                "{:?} skipped {} between {} and {}",
                text,
                u,
                t,
                next
            );
            u += minute;
        }
        t = next;
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 300, failure_persistence: None, ..Config::default() })]

    #[test]
    fn in_utc_fires_are_exactly_the_matching_minutes_over_months(
        minute in field(Kind::Plain, 0, 59, None, 2),
        hour in field(Kind::Plain, 0, 23, None, 2),
        day_of_month in field(Kind::DayOfMonth, 1, 31, None, 3),
        month in field(Kind::Month, 1, 12, None, 5),
        day_of_week in field(Kind::DayOfWeek, 0, 7, None, 3),
        days in 0..(30 * 365i64),
    ) {
        let model = Model { seconds: None, minute, hour, day_of_month, month, day_of_week };
        let from = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(days) + TimeDelta::seconds(days * 37 % 86_400);
        check_calendar_in_utc(&model, from)?;
    }
}

fn model_field(kind: Kind, min: u32, max: u32, parts: Vec<Part>) -> FieldModel {
    FieldModel {
        parts,
        kind,
        min,
        max,
        names: false,
    }
}

/// Days of month near the end of the month, where short months run out of them.
fn sparse_days_of_month() -> impl Strategy<Value = FieldModel> {
    let part = prop_oneof![
        4 => (29..=31u32).prop_map(Part::Value),
        2 => (29..=31u32).prop_map(Part::Nearest),
        1 => Just(Part::Last),
        1 => Just(Part::LastWeekday),
        1 => (28..=31u32, 28..=31u32).prop_map(|(a, b)| Part::Range(a.min(b), a.max(b))),
    ];
    prop::collection::vec(part, 1..=2).prop_map(|parts| model_field(Kind::DayOfMonth, 1, 31, parts))
}

/// Mostly months without a 31st.
fn short_months() -> impl Strategy<Value = FieldModel> {
    let part = prop_oneof![4 => prop::sample::select(vec![2u32, 4, 6, 9, 11]), 1 => 1..=12u32];
    prop::collection::vec(part.prop_map(Part::Value), 1..=2)
        .prop_map(|parts| model_field(Kind::Month, 1, 12, parts))
}

proptest! {
    #![proptest_config(Config { cases: 64, failure_persistence: None, ..Config::default() })]

    /// Weekdays and leap years repeat every 400 years, so one cycle of days decides whether
    /// an expression can ever fire; parsing must refuse exactly those that cannot.
    #[test]
    fn parsing_refuses_exactly_the_expressions_that_match_no_date(
        day_of_month in sparse_days_of_month(),
        month in short_months(),
        day_of_week in prop_oneof![
            6 => (1..=7u32).prop_map(|n| model_field(Kind::DayOfWeek, 0, 7, vec![Part::StarStep(n)])),
            4 => field(Kind::DayOfWeek, 0, 7, None, 0),
        ],
    ) {
        let zero = model_field(Kind::Plain, 0, 59, vec![Part::Value(0)]);
        let model = Model { seconds: None, minute: zero.clone(), hour: zero, day_of_month, month, day_of_week };
        let text = model.text();
        let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        let some_date = first.iter_days().take(146_097).any(|d| model.matches_date(d));
        match CronExpr::parse(&text) {
            Ok(_) => prop_assert!(some_date, "{:?} parsed but never fires", text),
            Err(e) => {
                prop_assert!(!some_date, "{:?} refused but fires: {}", text, e);
                prop_assert!(e.message.starts_with("expression never fires") || e.message == "expression can never match a date", "{}", e);
            }
        }
    }
}
