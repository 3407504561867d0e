//! One zone's rules as a sorted table of transitions, so that every lookup the cron search
//! makes (instant → offset, wall time → offsets) is a binary search with no allocation and no
//! lock.
//!
//! The table lists the TZif file's transitions, then the ones its footer rule (a POSIX TZ
//! string) generates for 400 years. A POSIX rule names days by month, week and weekday or by
//! day of year, and the Gregorian calendar repeats exactly every 400 years (146,097 days, a
//! whole number of weeks), so those 400 years repeat for ever: instants past them are folded
//! back by whole cycles instead of being listed.

use std::borrow::Cow;

use chrono::LocalResult;
use jiff::Timestamp;

/// 400 Gregorian years in seconds: the period of every footer rule.
const CYCLE: i64 = 146_097 * 86_400;
/// More than any UTC offset (TZif allows less than ±25 hours): how far apart a wall time and
/// the instants it names can be.
const MAX_OFFSET: i64 = 26 * 3_600;
/// The index's buckets are 2^22 seconds (about 48 days): a bucket holds a transition or two.
const BUCKET_SHIFT: u32 = 22;
/// More transitions than a file within the size cap (database.rs) can list, plus 400 years of
/// a footer rule: a bound on the table whatever the file says.
const MAX_TRANSITIONS: usize = 100_000;
/// Seconds from 1970-01-01 to January 1 of `year`, 00:00 UTC.
fn january_first(year: i64) -> i64 {
    let y = year - 1;
    let days = 365 * y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400) - 719_162;
    days * 86_400
}

/// An offset from UTC and its abbreviation, in force from one transition to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Period {
    /// Seconds east of UTC.
    pub(crate) offset: i32,
    /// Index into the table's abbreviations.
    pub(crate) abbreviation: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    /// In force before the first transition.
    initial: Period,
    /// Transition instants (seconds since the epoch, UTC), ascending.
    at: Vec<i64>,
    /// `periods[i]` is in force from `at[i]` on.
    periods: Vec<Period>,
    abbreviations: Cow<'static, [Cow<'static, str>]>,
    /// Start of the 400 listed years that only the footer rule governs; instants at or after
    /// `cycle_start + CYCLE` are folded back into them. `i64::MAX` for a zone without
    /// transitions.
    cycle_start: i64,
    /// The offset, when every period has the same (found once: the cron search asks at
    /// every call).
    fixed: Option<i32>,
    /// `index[b]` counts the transitions at or before `index_base + b << BUCKET_SHIFT`, so
    /// that a lookup searches one bucket instead of the whole table.
    index: Vec<u32>,
    index_base: i64,
}

impl Table {
    /// A zone that never changes offset, its abbreviation first in `abbreviations`.
    pub(crate) const fn fixed(offset: i32, abbreviations: &'static [Cow<'static, str>]) -> Table {
        Table {
            initial: Period {
                offset,
                abbreviation: 0,
            },
            at: Vec::new(),
            periods: Vec::new(),
            abbreviations: Cow::Borrowed(abbreviations),
            cycle_start: i64::MAX,
            fixed: Some(offset),
            index: Vec::new(),
            index_base: 0,
        }
    }

    /// Lists `tz`'s transitions; `last_listed` is the last instant the TZif data lists
    /// explicitly (the footer rule governs after it).
    pub(crate) fn new(tz: &jiff::tz::TimeZone, last_listed: Option<i64>) -> Table {
        let last_year = last_listed
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map_or(1970, |t| i64::from(chrono::Datelike::year(&t)));
        let cycle_start = january_first(last_year.max(1970) + 1);
        // A little past the cycle, so that wall-time lookups folded near its end still see
        // every transition within a day of them.
        let listed_until = cycle_start + CYCLE + 2 * MAX_OFFSET;
        let mut abbreviations: Vec<Cow<'static, str>> = Vec::new();
        let mut intern = |name: &str| -> u16 {
            let i = abbreviations
                .iter()
                .position(|a| a == name)
                .unwrap_or_else(|| {
                    abbreviations.push(Cow::Owned(name.to_owned()));
                    abbreviations.len() - 1
                });
            u16::try_from(i).unwrap_or(u16::MAX)
        };
        let first = tz.to_offset_info(Timestamp::MIN);
        let initial = Period {
            offset: first.offset().seconds(),
            abbreviation: intern(first.abbreviation()),
        };
        let (mut at, mut periods) = (Vec::new(), Vec::new());
        // Strictly later each time: after the last transition of a file without a footer,
        // jiff 1.0.3 gives that transition again and again.
        for transition in tz.following(Timestamp::MIN).take(MAX_TRANSITIONS) {
            let instant = transition.timestamp().as_second();
            if instant > listed_until || at.last().is_some_and(|&last| instant <= last) {
                break;
            }
            at.push(instant);
            periods.push(Period {
                offset: transition.offset().seconds(),
                abbreviation: intern(transition.abbreviation()),
            });
        }
        let cycle_start = if at.is_empty() { i64::MAX } else { cycle_start };
        let fixed = periods
            .iter()
            .all(|p: &Period| p.offset == initial.offset)
            .then_some(initial.offset);
        // Instants before 1800 (local mean time, zic's "big bang") are rare: a binary
        // search serves them, and the index stays small.
        let index_base = at.first().map_or(0, |&t| t.max(january_first(1800)));
        let index = match at.last() {
            Some(&last) if last >= index_base => {
                let buckets = ((last - index_base) >> BUCKET_SHIFT) + 1;
                (0..=buckets)
                    .map(|b| {
                        let start = index_base + (b << BUCKET_SHIFT);
                        u32::try_from(at.partition_point(|&t| t <= start)).unwrap_or(u32::MAX)
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        Table {
            initial,
            at,
            periods,
            abbreviations: Cow::Owned(abbreviations),
            cycle_start,
            fixed,
            index,
            index_base,
        }
    }

    /// How many transitions are at or before `secs`.
    fn count_at_or_before(&self, secs: i64) -> usize {
        let Some(&first) = self.index.first() else {
            return self.at.partition_point(|&t| t <= secs);
        };
        if secs < self.index_base {
            return self.at[..first as usize].partition_point(|&t| t <= secs);
        }
        let bucket =
            usize::try_from((secs - self.index_base) >> BUCKET_SHIFT).unwrap_or(usize::MAX);
        match self.index.get(bucket) {
            Some(&low) => {
                let (low, high) = (
                    low as usize,
                    self.index
                        .get(bucket + 1)
                        .map_or(self.at.len(), |&h| h as usize),
                );
                low + self.at[low..high].partition_point(|&t| t <= secs)
            }
            None => self.at.len(),
        }
    }

    /// The offset of a zone that never changes it.
    pub(crate) fn fixed_offset(&self) -> Option<i32> {
        self.fixed
    }

    /// Whether every offset is less than a day from UTC, as chrono's offsets must be.
    pub(crate) fn offsets_within_a_day(&self) -> bool {
        std::iter::once(&self.initial)
            .chain(&self.periods)
            .all(|p| p.offset.unsigned_abs() < 86_400)
    }

    pub(crate) fn abbreviation(&self, period: Period) -> &str {
        self.abbreviations
            .get(usize::from(period.abbreviation))
            .map_or("", |a| a)
    }

    /// `secs` moved back by whole cycles into the listed ones, and how far it was moved.
    fn fold(&self, secs: i64, margin: i64) -> (i64, i64) {
        let limit = self.cycle_start.saturating_add(CYCLE + margin);
        if secs < limit {
            return (secs, 0);
        }
        let cycles = (secs - self.cycle_start - margin).div_euclid(CYCLE);
        let shift = cycles * CYCLE;
        (secs - shift, shift)
    }

    /// Period `p`: before `at[0]` for 0, else from `at[p - 1]` to `at[p]`.
    fn period(&self, p: usize) -> Period {
        p.checked_sub(1).map_or(self.initial, |i| self.periods[i])
    }

    /// What is in force at the instant `secs`.
    pub(crate) fn at_instant(&self, secs: i64) -> Period {
        let (secs, _) = self.fold(secs, 0);
        self.period(self.count_at_or_before(secs))
    }

    /// The periods that make the wall time `wall` (seconds since the epoch, as if UTC) a real
    /// instant: none in a gap, the earlier and the later in an overlap.
    pub(crate) fn at_wall(&self, wall: i64) -> LocalResult<Period> {
        let (wall, _) = self.fold(wall, MAX_OFFSET);
        let (first, last) = self.candidates(wall);
        let mut found: Option<(Period, Period)> = None;
        for p in first..=last {
            let period = self.period(p);
            let instant = wall - i64::from(period.offset);
            if self.contains(p, instant) {
                found = Some(found.map_or((period, period), |(a, _)| (a, period)));
            }
        }
        match found {
            None => LocalResult::None,
            Some((a, b)) if a == b => LocalResult::Single(a),
            Some((a, b)) => LocalResult::Ambiguous(a, b),
        }
    }

    /// For a wall time in a gap, the instant the gap ends (the transition that skips it) and
    /// the offset after it.
    pub(crate) fn gap_end(&self, wall: i64) -> Option<(i64, i32)> {
        let (folded, shift) = self.fold(wall, MAX_OFFSET);
        let (first, last) = self.candidates(folded);
        (first.max(1)..=last).find_map(|p| {
            let (before, after) = (self.period(p - 1), self.period(p));
            let t = self.at[p - 1];
            let skipped = t + i64::from(before.offset)..t + i64::from(after.offset);
            skipped
                .contains(&folded)
                .then_some((t + shift, after.offset))
        })
    }

    /// The periods that can hold an instant within `MAX_OFFSET` of `wall`.
    fn candidates(&self, wall: i64) -> (usize, usize) {
        let first = self.count_at_or_before(wall - MAX_OFFSET);
        let last = self.count_at_or_before(wall + MAX_OFFSET);
        (first, last)
    }

    fn contains(&self, p: usize, instant: i64) -> bool {
        let starts = p.checked_sub(1).map_or(i64::MIN, |i| self.at[i]);
        let ends = self.at.get(p).copied().unwrap_or(i64::MAX);
        (starts..ends).contains(&instant)
    }
}
