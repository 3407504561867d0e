//! The wall-clock half of cron: which local date-times an expression matches, and the first
//! match strictly after a given one. Nothing here knows about time zones; `zone.rs` maps wall
//! times to instants.
//!
//! Wall times are chrono's `NaiveDateTime`s. Each field is a bit set; the day fields are folded at parse time into one 31-bit mask per
//! (weekday of the 1st, length of the month), so a month's matching days cost one table load
//! whatever mix of `L`, `W`, `#` and the day-of-month/day-of-week rule the expression uses.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// Years a search may look ahead before giving up. Weekdays and leap years repeat every 400
/// years (146,097 days is exactly 20,871 weeks), so an expression that matches any date
/// matches one within every 400-year window.
pub(super) const HORIZON_YEARS: i64 = 401;

/// Beyond this chrono cannot represent a date, so searches stop short of it.
const LAST_SEARCHABLE_YEAR: i64 = 262_000;

/// The day-of-month field: plain days plus the `L`, `LW` and `nW` extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct DaysOfMonth {
    /// Bit d set: day d (1-31).
    pub(super) days: u32,
    /// `L`: the last day of the month.
    pub(super) last: bool,
    /// `LW`: the last weekday (Monday to Friday) of the month.
    pub(super) last_weekday: bool,
    /// Bit n set: `nW`, the weekday nearest to day n without leaving the month.
    pub(super) nearest_weekday: u32,
}

/// The day-of-week field (0 = Sunday … 6 = Saturday; 7 is folded into 0 by the parser).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct DaysOfWeek {
    /// Bit w set: every weekday w.
    pub(super) days: u8,
    /// `w#n`: bit n (1-5) of `nth[w]` set for the n-th weekday w of the month.
    pub(super) nth: [u8; 7],
    /// `wL`: bit w set for the last weekday w of the month.
    pub(super) last: u8,
}

/// How the two day fields combine (crontab(5), Vixie cron): when either field starts with
/// `*` a day must match both; when both are restricted a day matching either one fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DayRule {
    Both,
    Either,
}

impl DaysOfMonth {
    /// The matching days (bit d for day d) of a month of `len` days whose 1st falls on
    /// weekday `first`.
    fn mask(&self, first: u32, len: u32) -> u32 {
        let in_month = days_up_to(len);
        let mut mask = self.days & in_month;
        if self.last {
            mask |= 1 << len;
        }
        if self.last_weekday {
            mask |= 1 << last_weekday(first, len);
        }
        let mut nearest = self.nearest_weekday & in_month;
        while nearest != 0 {
            let n = nearest.trailing_zeros();
            nearest &= nearest - 1;
            if let Some(day) = nearest_weekday(n, first, len) {
                mask |= 1 << day;
            }
        }
        mask
    }
}

impl DaysOfWeek {
    /// The matching days (bit d for day d) of a month of `len` days whose 1st falls on
    /// weekday `first`.
    fn mask(&self, first: u32, len: u32) -> u32 {
        // Plain weekdays: the week as seen from the 1st, repeated five times.
        let mut week = 0u64;
        for i in 0..7 {
            if self.days & (1 << ((first + i) % 7)) != 0 {
                week |= 1 << i;
            }
        }
        let weeks = week | week << 7 | week << 14 | week << 21 | week << 28;
        let mut mask = (weeks << 1) as u32 & days_up_to(len);
        // `w#n` and `wL`, only for the weekdays that have them.
        for weekday in (0..7u32).filter(|&w| self.nth[w as usize] != 0 || self.last & (1 << w) != 0)
        {
            let first_day = (weekday + 7 - first) % 7 + 1;
            for (occurrence, day) in (1u32..).zip((first_day..=len).step_by(7)) {
                let nth = self.nth[weekday as usize] & (1 << occurrence) != 0;
                let last = self.last & (1 << weekday) != 0 && day + 7 > len;
                if nth || last {
                    mask |= 1 << day;
                }
            }
        }
        mask
    }
}

/// Bits 1 to `len`.
pub(super) fn days_up_to(len: u32) -> u32 {
    (u32::MAX >> (31 - len)) & !1
}

/// The weekday (Monday to Friday) nearest to day `n`, staying inside the month: a Saturday
/// moves back to Friday unless that leaves the month (then on to Monday the 3rd), a Sunday
/// moves on to Monday unless that leaves the month (then back to Friday). `None` when the
/// month has no day `n`.
pub(super) fn nearest_weekday(n: u32, first: u32, len: u32) -> Option<u32> {
    if n > len {
        return None;
    }
    Some(match (first + n - 1) % 7 {
        6 if n == 1 => 3,
        6 => n - 1,
        0 if n == len => n - 2,
        0 => n + 1,
        _ => n,
    })
}

/// The last Monday-to-Friday day of a month of `len` days whose 1st is weekday `first`.
pub(super) fn last_weekday(first: u32, len: u32) -> u32 {
    match (first + len - 1) % 7 {
        6 => len - 1,
        0 => len - 2,
        _ => len,
    }
}

/// Every wall time an expression matches, ready for searching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Calendar {
    pub(super) seconds: u64,
    pub(super) minutes: u64,
    pub(super) hours: u32,
    /// Bit m set: month m (1-12).
    pub(super) months: u16,
    pub(super) days_of_month: DaysOfMonth,
    pub(super) days_of_week: DaysOfWeek,
    pub(super) day_rule: DayRule,
    /// `day_masks[first][len - 28]`: bit d set when day d matches in a month of `len` days
    /// whose 1st falls on weekday `first`.
    day_masks: [[u32; 4]; 7],
}

impl Calendar {
    pub(super) fn new(
        seconds: u64,
        minutes: u64,
        hours: u32,
        months: u16,
        days_of_month: DaysOfMonth,
        days_of_week: DaysOfWeek,
        day_rule: DayRule,
    ) -> Calendar {
        let mut day_masks = [[0u32; 4]; 7];
        for (first, row) in (0u32..).zip(day_masks.iter_mut()) {
            for (len, mask) in (28u32..).zip(row.iter_mut()) {
                let by_month = days_of_month.mask(first, len);
                let by_week = days_of_week.mask(first, len);
                *mask = match day_rule {
                    DayRule::Both => by_month & by_week,
                    DayRule::Either => by_month | by_week,
                };
            }
        }
        Calendar {
            seconds,
            minutes,
            hours,
            months,
            days_of_month,
            days_of_week,
            day_rule,
            day_masks,
        }
    }

    /// The matching days of a month of `len` days whose 1st falls on weekday `first`.
    pub(super) fn day_mask(&self, first: u32, len: u32) -> u32 {
        self.day_masks[first as usize][(len - 28) as usize]
    }

    /// Whether some date matches. Every (month, weekday of the 1st, leap or not) combination
    /// occurs in the 400-year Gregorian cycle, so checking each of them is exact.
    pub(super) fn matches_some_date(&self) -> bool {
        (1..=12u32)
            .filter(|m| self.months & (1 << m) != 0)
            .any(|month| {
                let lens: &[u32] = if month == 2 {
                    &[28, 29]
                } else {
                    &[month_len_common(month)]
                };
                (0..7).any(|first| lens.iter().any(|&len| self.day_mask(first, len) != 0))
            })
    }

    /// The first matching wall time strictly after `after` (whose sub-seconds are ignored),
    /// or `None` if there is none within [`HORIZON_YEARS`] of it.
    ///
    /// Months are walked one at a time, carrying the weekday of the 1st along, so the search
    /// does no calendar arithmetic beyond building its answer.
    pub(super) fn next_after(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let date = after.date();
        let (mut year, mut month, mut day) = (i64::from(date.year()), date.month(), date.day());
        let mut first = (date.weekday().num_days_from_sunday() + 35 - (day - 1)) % 7;
        let time = after.time();
        // The time of day to search from on `day`, one second after `after`; a second or
        // minute of 60 and an hour of 24 are fine, they just match nothing. Zero once the
        // search has moved to a later day.
        let mut from = (time.hour(), time.minute(), time.second() + 1);
        let last_year = (year + HORIZON_YEARS).min(LAST_SEARCHABLE_YEAR);
        loop {
            let len = month_len(year, month);
            if self.months & (1 << month) != 0 {
                let days = self.day_mask(first, len) & (u32::MAX << day);
                if days != 0 {
                    let found = days.trailing_zeros();
                    if found != day {
                        day = found;
                        from = (0, 0, 0);
                    }
                    if let Some((h, m, s)) = self.time_at_or_after(from) {
                        let date = if (year, month, day)
                            == (i64::from(date.year()), date.month(), date.day())
                        {
                            date
                        } else {
                            NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?
                        };
                        return date.and_hms_opt(h, m, s);
                    }
                    // Nothing left today: carry on from the next day.
                    from = (0, 0, 0);
                    if day < len {
                        day += 1;
                        continue;
                    }
                }
            }
            first = (first + len) % 7;
            (year, month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            day = 1;
            from = (0, 0, 0);
            if year > last_year {
                return None;
            }
        }
    }

    /// The first matching (hour, minute, second) at or after `(h, m, s)` on the same day.
    fn time_at_or_after(&self, (h, m, s): (u32, u32, u32)) -> Option<(u32, u32, u32)> {
        let first_minute = self.minutes.trailing_zeros();
        let first_second = self.seconds.trailing_zeros();
        let hours = self.hours & (u32::MAX << h);
        let hour = hours.trailing_zeros();
        if hours == 0 {
            return None;
        }
        if hour > h {
            return Some((hour, first_minute, first_second));
        }
        let minutes = self.minutes & (u64::MAX << m);
        if minutes != 0 {
            let minute = minutes.trailing_zeros();
            if minute > m {
                return Some((h, minute, first_second));
            }
            let seconds = self.seconds & (u64::MAX << s);
            if seconds != 0 {
                return Some((h, m, seconds.trailing_zeros()));
            }
            // `m + 1` is at most 60, inside the 64-bit set.
            let later = self.minutes & (u64::MAX << (m + 1));
            if later != 0 {
                return Some((h, later.trailing_zeros(), first_second));
            }
        }
        let later = self.hours & (u32::MAX << (h + 1));
        (later != 0).then(|| (later.trailing_zeros(), first_minute, first_second))
    }
}

pub(super) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` of a common (non-leap) year.
pub(super) fn month_len_common(month: u32) -> u32 {
    match month {
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub(super) fn month_len(year: i64, month: u32) -> u32 {
    if month == 2 && is_leap(year) {
        29
    } else {
        month_len_common(month)
    }
}
