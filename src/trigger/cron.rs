//! `cron`: crontab(5) expressions and their fire times in a time zone.
//!
//! [`CronExpr`] is the parsed text; [`CronTrigger`] is an expression in a zone, answering
//! "what is the first fire strictly after this instant?". The work is split in three:
//! `parse` reads the text, `calendar` finds matching wall-clock times, and `zone` turns wall
//! times into instants by the DST rules below.
//!
//! # The language (crontab(5) as Vixie cron, cronie and Debian read it)
//!
//! - Five fields, `minute hour day-of-month month day-of-week`, or six with seconds first.
//! - Each field is a list (`a,b,c`) of `*`, a value, a range `a-b`, each optionally with a
//!   step `/n`; `a/n` means `a-max/n`, as cronie reads it.
//! - Months `JAN`-`DEC` and days `SUN`-`SAT` may be written by name, in any case, also in
//!   ranges. Day of week 0 and 7 are both Sunday; a range ending in a Sunday written by name
//!   (`FRI-SUN`) runs up to 7.
//! - Macros: `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`.
//!   `@reboot` is refused: it is not a time (a job's `cron = "@reboot"` is the jobfile's
//!   event trigger `Trigger::Reboot`, read before any expression is parsed).
//! - Day of month also takes `L` (the last day), `LW` (the last weekday, Monday to Friday)
//!   and `15W` (the weekday nearest the 15th, never leaving the month: `1W` on a Saturday is
//!   Monday the 3rd, `31W` on a Sunday is Friday the 29th; a month without that day has no
//!   match). Day of week also takes `5L` (the last Friday of the month), `1#2` (the second
//!   Monday; a month without a fifth one has no `#5` match) and, as in Quartz, a lone `L`
//!   for Saturday, the last day of the week. All of these mix with plain values in lists.
//! - `?` is accepted as `*` in the two day fields, for people used to Quartz; it counts as a
//!   star for the next rule.
//! - Vixie's day rule: when day of month or day of week *starts with* `*` (so `*/2` counts),
//!   a day must match both fields; when both are restricted, a day matching either fires.
//! - An expression that matches no date at all (`0 0 30 2 *`) is refused when parsed.
//!
//! # Daylight saving time, in the trigger's zone
//!
//! A job is *fixed-time* when neither its minute nor its hour field starts with `*`.
//! - A fixed-time job whose wall time is skipped (spring forward) runs once, at the first
//!   instant after the jump, however many of its times fall in the gap, and even if it also
//!   matches the first wall time after the gap.
//! - A fixed-time job whose wall time repeats (fall back) runs once, in the first pass.
//! - Every other job skips the gap and runs in both passes, in real-time order.

mod calendar;
mod parse;
mod zone;

#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::zone::Tz;
use chrono::{DateTime, NaiveDateTime, Timelike, Utc};

use calendar::Calendar;
use zone::Zone;

/// A parsed crontab(5) expression.
#[derive(Clone, PartialEq, Eq)]
pub struct CronExpr {
    source: String,
    has_seconds: bool,
    fixed_time: bool,
    calendar: Calendar,
}

/// Why a cron expression does not parse: a message for the user, and the byte range of the
/// input that is wrong (the whole input when the fault is not in one place).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CronError {
    pub message: String,
    pub span: Range<usize>,
}

impl CronExpr {
    /// Parses crontab(5) text: see the module documentation for the language.
    pub fn parse(s: &str) -> Result<CronExpr, CronError> {
        let parsed = parse::parse(s)?;
        Ok(CronExpr {
            source: s.trim().to_owned(),
            has_seconds: parsed.has_seconds,
            fixed_time: parsed.fixed_time,
            calendar: parsed.calendar,
        })
    }

    /// The text as given, without surrounding whitespace.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the expression has six fields, seconds first.
    pub fn has_seconds(&self) -> bool {
        self.has_seconds
    }

    /// Whether neither the minute nor the hour field starts with `*` (macros expanded): such
    /// a job runs once when its time is skipped or repeated by a DST change.
    pub fn is_fixed_time(&self) -> bool {
        self.fixed_time
    }

    /// What the expression matches, field by field, for reading it back (`jobrun explain`).
    pub fn fields(&self) -> CronFields {
        let c = &self.calendar;
        CronFields {
            seconds: c.seconds,
            minutes: c.minutes,
            hours: c.hours,
            months: c.months,
            days: c.days_of_month.days,
            last_day: c.days_of_month.last,
            last_weekday: c.days_of_month.last_weekday,
            nearest_weekday: c.days_of_month.nearest_weekday,
            weekdays: c.days_of_week.days,
            nth_weekday: c.days_of_week.nth,
            last_of_weekday: c.days_of_week.last,
            either_day: c.day_rule == calendar::DayRule::Either,
        }
    }

    /// The first wall-clock time strictly after `after` that the expression matches, with no
    /// zone involved (whether that time exists in a zone is `CronTrigger`'s business).
    pub fn next_wall_time_after(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        self.calendar.next_after(after)
    }
}

/// The sets an expression matches (bit n set: value n), as [`CronExpr::fields`] reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CronFields {
    pub seconds: u64,
    pub minutes: u64,
    pub hours: u32,
    /// Bits 1-12.
    pub months: u16,
    /// Plain days of the month, bits 1-31.
    pub days: u32,
    /// `L`, `LW`, and bit n for `nW`.
    pub last_day: bool,
    pub last_weekday: bool,
    pub nearest_weekday: u32,
    /// Plain weekdays, bit 0 = Sunday.
    pub weekdays: u8,
    /// `w#n`: bit n of `nth_weekday[w]`.
    pub nth_weekday: [u8; 7],
    /// `wL`: bit w.
    pub last_of_weekday: u8,
    /// Both day fields are restricted, and a day matching either fires (Vixie's rule).
    pub either_day: bool,
}

impl fmt::Debug for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CronExpr")
            .field("source", &self.source)
            .field("has_seconds", &self.has_seconds)
            .field("fixed_time", &self.fixed_time)
            .finish_non_exhaustive()
    }
}

/// A cron expression read in a time zone.
///
/// Offsets come from the zone's rules (`crate::zone`): the system's tz database, else the
/// compiled-in one, each zone with the footer rule that carries daylight saving time past the
/// last transition its file lists.
///
/// Sixteen bytes: the expression is shared (the jobfile loader gives every job with the same
/// text the same one), the zone is the zone itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronTrigger {
    expr: Arc<CronExpr>,
    zone: Zone,
}

impl CronTrigger {
    pub fn new(expr: CronExpr, tz: Tz) -> CronTrigger {
        CronTrigger::shared(Arc::new(expr), tz)
    }

    /// A trigger for an expression other triggers may use too.
    pub fn shared(expr: Arc<CronExpr>, tz: Tz) -> CronTrigger {
        CronTrigger {
            expr,
            zone: Zone::new(tz),
        }
    }

    pub fn expr(&self) -> &CronExpr {
        &self.expr
    }

    pub fn timezone(&self) -> Tz {
        self.zone.tz()
    }

    /// The first fire instant strictly after `t` (t may have sub-seconds; results are whole
    /// seconds), or `None` if none comes within about 400 years.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Fires are whole seconds, so "after t" and "after t rounded down" agree.
        let t = t.with_nanosecond(0)?;
        zone::next_fire(&self.expr.calendar, self.zone, self.expr.fixed_time, t)
    }
}
