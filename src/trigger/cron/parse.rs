//! Reads crontab(5) text into a [`Calendar`]: fields, names, ranges, steps, lists, the
//! `@` macros and the `L`/`W`/`#` extensions, with an error that names what was expected and
//! points at the byte range that is wrong.

use std::ops::Range;

use super::CronError;
use super::calendar::{Calendar, DayRule, DaysOfMonth, DaysOfWeek, days_up_to, month_len_common};

/// What the parser hands back to `CronExpr::parse`.
pub(super) struct Parsed {
    pub(super) calendar: Calendar,
    pub(super) has_seconds: bool,
    pub(super) fixed_time: bool,
}

const MACROS: &[(&str, &str)] = &[
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTH_WORDS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    fn names(self) -> Option<(&'static [&'static str], u32, &'static str)> {
        match self {
            Field::Month => Some((&MONTH_NAMES, 1, "month")),
            Field::DayOfWeek => Some((&DAY_NAMES, 0, "day")),
            _ => None,
        }
    }

    fn is_day(self) -> bool {
        matches!(self, Field::DayOfMonth | Field::DayOfWeek)
    }
}

/// A piece of the input and where it sits in it, so errors can point at it.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    start: usize,
}

impl<'a> Token<'a> {
    fn span(self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }

    /// The part `range` of this token (byte offsets within `text`).
    fn slice(self, range: Range<usize>) -> Token<'a> {
        Token {
            text: &self.text[range.clone()],
            start: self.start + range.start,
        }
    }

    fn split_once(self, separator: char) -> Option<(Token<'a>, Token<'a>)> {
        let at = self.text.find(separator)?;
        Some((
            self.slice(0..at),
            self.slice(at + separator.len_utf8()..self.text.len()),
        ))
    }

    fn error(self, message: impl Into<String>) -> CronError {
        CronError {
            message: message.into(),
            span: self.span(),
        }
    }
}

/// The whitespace-separated words of `input`, each with its byte offset.
fn words(input: &str) -> Vec<Token<'_>> {
    let mut words = Vec::with_capacity(6);
    let mut start = None;
    for (at, c) in input
        .char_indices()
        .chain(std::iter::once((input.len(), ' ')))
    {
        match (start, c.is_whitespace()) {
            (None, false) => start = Some(at),
            (Some(from), true) => {
                words.push(Token {
                    text: &input[from..at],
                    start: from,
                });
                start = None;
            }
            _ => {}
        }
    }
    words
}

pub(super) fn parse(input: &str) -> Result<Parsed, CronError> {
    let whole = 0..input.len();
    let words = words(input);
    if let Some(first) = words.first().filter(|w| w.text.starts_with('@')) {
        let expansion = expand_macro(*first)?;
        if let Some(extra) = words.get(1) {
            let end = words.last().map_or(extra.start, |w| w.start + w.text.len());
            return Err(CronError {
                message: format!(
                    "unexpected text after {} (a macro stands alone)",
                    first.text
                ),
                span: extra.start..end,
            });
        }
        // The expansion is known to be valid, but parsing it keeps one code path.
        return parse_fields(&self::words(expansion), whole).map_err(|mut e| {
            e.span = first.span();
            e
        });
    }
    parse_fields(&words, whole)
}

fn expand_macro(word: Token<'_>) -> Result<&'static str, CronError> {
    let name = word.text.to_ascii_lowercase();
    if let Some((_, expansion)) = MACROS.iter().find(|(m, _)| *m == name) {
        return Ok(expansion);
    }
    if name == "@reboot" {
        return Err(word.error(
            "@reboot is not a time: it fires once per boot (a job's cron = \"@reboot\"), so it has no fire times",
        ));
    }
    Err(word.error(format!(
        "unknown macro {:?} (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)",
        word.text
    )))
}

/// Parses the 5 or 6 fields; `whole` is the span of the input, for a wrong field count.
fn parse_fields(words: &[Token<'_>], whole: Range<usize>) -> Result<Parsed, CronError> {
    let (seconds, rest) = match words {
        [second, rest @ ..] if words.len() == 6 => (Some(*second), rest),
        _ => (None, words),
    };
    let [minute, hour, dom, month, dow] = rest else {
        return Err(CronError {
            message: format!(
                "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), found {}",
                words.len()
            ),
            span: whole,
        });
    };
    let has_seconds = seconds.is_some();
    let seconds = match seconds {
        Some(token) => parse_plain(token, Field::Second)?,
        None => 1,
    };
    let minutes = parse_plain(*minute, Field::Minute)?;
    let hours = parse_plain(*hour, Field::Hour)? as u32;
    let days_of_month = parse_days_of_month(*dom)?;
    let months = parse_plain(*month, Field::Month)? as u16;
    let days_of_week = parse_days_of_week(*dow)?;
    let is_star = |t: &Token<'_>| t.text.starts_with('*') || t.text.starts_with('?');
    let day_rule = if is_star(dom) || is_star(dow) {
        DayRule::Both
    } else {
        DayRule::Either
    };
    let calendar = Calendar::new(
        seconds,
        minutes,
        hours,
        months,
        days_of_month,
        days_of_week,
        day_rule,
    );
    if !calendar.matches_some_date() {
        return Err(never_fires(&calendar, *dom, *month, *dow));
    }
    Ok(Parsed {
        calendar,
        has_seconds,
        fixed_time: !minute.text.starts_with('*') && !hour.text.starts_with('*'),
    })
}

/// The error for an expression whose day fields and month never agree on a date. The common
/// case, day-of-month numbers past the end of every chosen month, gets a message naming them.
fn never_fires(calendar: &Calendar, dom: Token<'_>, month: Token<'_>, dow: Token<'_>) -> CronError {
    let d = calendar.days_of_month;
    // `30W` needs a day 30 as much as `30` does.
    let plain = d.days | d.nearest_weekday;
    let months = (1..=12u32).filter(|m| calendar.months & (1 << m) != 0);
    let longest = months
        .map(|m| if m == 2 { 29 } else { month_len_common(m) })
        .max();
    let past_the_end = longest.is_some_and(|len| plain != 0 && plain & days_up_to(len) == 0);
    if !d.last && !d.last_weekday && past_the_end {
        let days: Vec<String> = (1..=31)
            .filter(|n| plain & (1 << n) != 0)
            .map(|n| n.to_string())
            .collect();
        let dates: Vec<String> = (1..=12usize)
            .filter(|m| calendar.months & (1 << m) != 0)
            .map(|m| format!("{} {}", MONTH_WORDS[m - 1], join_or(&days)))
            .collect();
        return CronError {
            message: format!("expression never fires: no {}", join_or(&dates)),
            span: dom.start..month.start + month.text.len(),
        };
    }
    CronError {
        message: "expression can never match a date".into(),
        span: dom.start..dow.start + dow.text.len(),
    }
}

/// "a", "a or b", "a, b or c".
fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A field of plain values, ranges, steps and lists, as a bit set of the values.
fn parse_plain(token: Token<'_>, field: Field) -> Result<u64, CronError> {
    let mut bits = 0u64;
    for item in items(token, field)? {
        refuse_extensions(item, field)?;
        bits |= parse_range(item, field)?;
    }
    Ok(bits)
}

fn parse_days_of_month(token: Token<'_>) -> Result<DaysOfMonth, CronError> {
    let field = Field::DayOfMonth;
    let mut days = DaysOfMonth::default();
    for item in items(token, field)? {
        let upper = item.text.to_ascii_uppercase();
        if upper == "L" {
            days.last = true;
        } else if upper == "LW" {
            days.last_weekday = true;
        } else if let Some(number) = upper.strip_suffix('W') {
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                return Err(item.error(format!(
                    "\"W\" takes a single day before it, like 15W (found {:?})",
                    item.text
                )));
            }
            let n = parse_number(item.slice(0..number.len()), field)?;
            days.nearest_weekday |= 1 << n;
        } else if upper.contains('#') {
            return Err(item.error("\"#\" is only allowed in day-of-week"));
        } else if upper.contains('L') {
            return Err(item.error(format!(
                "invalid day-of-month value {:?} (\"L\" stands alone for the last day, or as LW for the last weekday)",
                item.text
            )));
        } else if upper.contains('W') {
            return Err(item.error(format!(
                "\"W\" takes a single day before it, like 15W (found {:?})",
                item.text
            )));
        } else {
            days.days |= parse_range(item, field)? as u32;
        }
    }
    Ok(days)
}

fn parse_days_of_week(token: Token<'_>) -> Result<DaysOfWeek, CronError> {
    let field = Field::DayOfWeek;
    let mut days = DaysOfWeek::default();
    for item in items(token, field)? {
        let upper = item.text.to_ascii_uppercase();
        if upper == "L" {
            // Quartz reads a lone "L" here as the last day of the week, Saturday.
            days.days |= 1 << 6;
        } else if let Some((weekday, occurrence)) = item.split_once('#') {
            let weekday = parse_number(weekday, field)? % 7;
            let n = parse_step_like(occurrence, '#')?;
            if !(1..=5).contains(&n) {
                return Err(occurrence.error(format!(
                    "\"#\" occurrence {n} is out of range (expected 1-5)"
                )));
            }
            days.nth[weekday as usize] |= 1 << n;
        } else if upper.len() > 1 && upper.ends_with('L') && !upper.contains(['-', '/', ',']) {
            let weekday = parse_number(item.slice(0..item.text.len() - 1), field)? % 7;
            days.last |= 1 << weekday;
        } else if upper.contains('W') && !DAY_NAMES.iter().any(|n| upper.contains(n)) {
            return Err(item.error("\"W\" is only allowed in day-of-month"));
        } else if upper.contains('L') {
            // No day name has an L, so this is "5L" inside a range or with a step.
            return Err(item.error(format!(
                "\"L\" takes a single weekday before it, like 5L for the last Friday (found {:?})",
                item.text
            )));
        } else {
            let bits = parse_range(item, field)?;
            // 7 is Sunday too.
            days.days |= ((bits | bits >> 7) & 0x7f) as u8;
        }
    }
    Ok(days)
}

/// The comma-separated items of a field; an empty item is an error.
fn items(token: Token<'_>, field: Field) -> Result<Vec<Token<'_>>, CronError> {
    let mut items = Vec::new();
    let mut from = 0;
    for (at, _) in token
        .text
        .match_indices(',')
        .chain(std::iter::once((token.text.len(), "")))
    {
        if at == from {
            let comma = if at < token.text.len() {
                at
            } else {
                at.saturating_sub(1)
            };
            return Err(token.slice(comma..comma + 1).error(format!(
                "empty item in the {} list {:?} (expected a value between commas)",
                field.name(),
                token.text
            )));
        }
        items.push(token.slice(from..at));
        from = at + 1;
    }
    Ok(items)
}

/// Refuses the day-only extensions in a field that is not a day field.
fn refuse_extensions(item: Token<'_>, field: Field) -> Result<(), CronError> {
    let upper = item.text.to_ascii_uppercase();
    let names = field.names().map_or(&[][..], |(names, _, _)| names);
    let is_name = |s: &str| names.iter().any(|n| s.contains(n));
    if item.text.contains('?') && !field.is_day() {
        return Err(item.error("\"?\" is only allowed in day-of-month or day-of-week"));
    }
    if item.text.contains('#') {
        return Err(item.error("\"#\" is only allowed in day-of-week"));
    }
    if upper.contains('L') && !is_name(&upper) {
        return Err(item.error("\"L\" is only allowed in day-of-month or day-of-week"));
    }
    if upper.contains('W') && !is_name(&upper) {
        return Err(item.error("\"W\" is only allowed in day-of-month"));
    }
    Ok(())
}

/// One list item: `*`, `n`, `a-b`, each with an optional `/step`; `n/step` means `n-max/step`
/// as in cronie. Returns the bit set of the values.
fn parse_range(item: Token<'_>, field: Field) -> Result<u64, CronError> {
    let (min, max) = field.bounds();
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(parse_step_like(step, '/')?)),
        None => (item, None),
    };
    if step == Some(0) {
        return Err(item
            .slice(base.text.len() + 1..item.text.len())
            .error("step must be at least 1"));
    }
    let (low, high) = if base.text == "*" || (base.text == "?" && field.is_day()) {
        (min, max)
    } else if let Some((low, high)) = base.split_once('-') {
        if low.text.is_empty() || high.text.is_empty() {
            return Err(base.error(format!(
                "incomplete range {:?} (expected a-b, like 1-5)",
                base.text
            )));
        }
        let a = parse_number(low, field)?;
        let mut b = parse_number(high, field)?;
        // "SAT-SUN": a range that ends on a Sunday written by name runs up to 7.
        if field == Field::DayOfWeek && b == 0 && a > 0 && high.text.eq_ignore_ascii_case("SUN") {
            b = 7;
        }
        if a > b {
            let hint = if field == Field::DayOfWeek && b == 0 {
                " (write Sunday as 7 at the end of a range)"
            } else {
                ""
            };
            return Err(base.error(format!(
                "range {}-{} is backwards{hint}",
                low.text, high.text
            )));
        }
        (a, b)
    } else {
        let a = parse_number(base, field)?;
        (a, if step.is_some() { max } else { a })
    };
    let step = step.unwrap_or(1) as u32;
    let mut bits = 0u64;
    let mut v = low;
    while v <= high {
        bits |= 1 << v;
        v = v.saturating_add(step);
    }
    Ok(bits)
}

/// The number after `/` or `#` (the `separator`, just before `token`).
fn parse_step_like(token: Token<'_>, separator: char) -> Result<u64, CronError> {
    if token.text.is_empty() {
        let at = token.start - separator.len_utf8();
        return Err(CronError {
            message: format!("missing number after \"{separator}\""),
            span: at..token.start,
        });
    }
    if !token.text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(token.error(format!(
            "invalid number {:?} after \"{separator}\"",
            token.text
        )));
    }
    // Anything too long for u32 is far past every field's range; saturate.
    Ok(token
        .text
        .parse::<u32>()
        .map_or(u64::from(u32::MAX), u64::from))
}

/// A value: digits, or a name in the month and day-of-week fields.
fn parse_number(token: Token<'_>, field: Field) -> Result<u32, CronError> {
    let (min, max) = field.bounds();
    let text = token.text;
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            Ok(v) => Err(token.error(format!(
                "{} value {v} is out of range (expected {min}-{max})",
                field.name()
            ))),
            Err(_) => Err(token.error(format!(
                "{} value {text} is out of range (expected {min}-{max})",
                field.name()
            ))),
        };
    }
    if let Some((names, first, noun)) = field.names()
        && !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_alphabetic())
    {
        let upper = text.to_ascii_uppercase();
        return match names.iter().position(|n| *n == upper) {
            Some(i) => Ok(i as u32 + first),
            None => Err(token.error(format!(
                "unknown {noun} name {text:?} (expected {}-{})",
                names[0],
                names[names.len() - 1]
            ))),
        };
    }
    if text.is_empty() {
        return Err(token.error(format!("missing {} value", field.name())));
    }
    let expected = match field.names() {
        Some((names, _, _)) => format!(
            "a number {min}-{max} or a name {}-{}",
            names[0],
            names[names.len() - 1]
        ),
        None => format!("a number {min}-{max}"),
    };
    Err(token.error(format!(
        "invalid {} value {text:?} (expected {expected})",
        field.name()
    )))
}
