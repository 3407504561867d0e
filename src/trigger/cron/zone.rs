//! From wall times to instants in the trigger's zone, by crontab's DST rules (see the module
//! docs of `cron`): the only part of cron that reads a time zone.
//!
//! Instants are `DateTime<Utc>` and wall times `NaiveDateTime`, both whole seconds; for an
//! instant `u` with offset `o`, the wall time is `u + o`.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, Utc};

use crate::zone::Tz;

use super::calendar::{Calendar, HORIZON_YEARS};

/// A zone as the search sees it. Eight bytes, so that a cron trigger stays small in a planner
/// holding thousands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Zone(Tz);

impl Zone {
    pub(super) fn new(tz: Tz) -> Zone {
        Zone(tz)
    }

    pub(super) fn tz(self) -> Tz {
        self.0
    }
}

/// What a wall time is in a zone, as instants.
enum Local {
    /// It happens once.
    Single(DateTime<Utc>),
    /// It happens twice (a fall-back overlap): first and second pass.
    Twice(DateTime<Utc>, DateTime<Utc>),
    /// It never happens (a spring-forward gap).
    Skipped,
}

/// The first fire strictly after `t` (a whole second) of `calendar` in `zone`; `fixed_time`
/// says which DST rule applies.
pub(super) fn next_fire(
    calendar: &Calendar,
    zone: Zone,
    fixed_time: bool,
    t: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let tz = zone.tz();
    match tz.fixed_offset() {
        // A zone that never changes its offset (UTC, `Etc/GMT+5`, …): no lookups at all.
        Some(offset_secs) => {
            let offset = TimeDelta::seconds(i64::from(offset_secs));
            let wall = t.naive_utc().checked_add_signed(offset)?;
            Some(
                calendar
                    .next_after(wall)?
                    .checked_sub_signed(offset)?
                    .and_utc(),
            )
        }
        None => {
            let search = Search {
                calendar,
                tz,
                fixed_time,
            };
            let offset = search.offset_at(t);
            let wall = t.naive_utc().checked_add_signed(offset)?;
            let ahead = search.forward(t, wall);
            if fixed_time {
                return ahead;
            }
            match (ahead, search.second_pass(t, wall, offset)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
    }
}

struct Search<'a> {
    calendar: &'a Calendar,
    tz: Tz,
    fixed_time: bool,
}

impl Search<'_> {
    /// The first fire after `t` among matching wall times later than `wall`, the wall time
    /// at `t`. That misses only second-pass fires at wall times up to `wall`, which
    /// [`Search::second_pass`] looks for.
    fn forward(&self, t: DateTime<Utc>, mut wall: NaiveDateTime) -> Option<DateTime<Utc>> {
        let give_up = wall.checked_add_signed(TimeDelta::days(HORIZON_YEARS * 366))?;
        while wall < give_up {
            let next = self.calendar.next_after(wall)?;
            match self.local(next)? {
                Local::Single(u) if u > t => return Some(u),
                // Only after an offset drop larger than the time since `t`: keep looking.
                Local::Single(_) => wall = next,
                // A fixed-time job runs in the first pass only; the others in both.
                Local::Twice(first, _) if first > t => return Some(first),
                Local::Twice(_, second) if second > t && !self.fixed_time => return Some(second),
                Local::Twice(..) => wall = next,
                Local::Skipped => {
                    let (end, offset_after) = self.tz.gap_end(next.and_utc().timestamp())?;
                    let end_instant = DateTime::from_timestamp(end, 0)?;
                    if self.fixed_time && end_instant > t {
                        // One run for the whole gap, at the first instant after it.
                        return Some(end_instant);
                    }
                    // Other jobs skip the gap; a match at its very end still counts for them.
                    wall = end_instant
                        .naive_utc()
                        .checked_add_signed(TimeDelta::seconds(i64::from(offset_after)))?;
                    if !self.fixed_time {
                        wall = wall.checked_sub_signed(TimeDelta::seconds(1))?;
                    }
                }
            }
        }
        None
    }

    /// When `t` is in the first pass of a fall-back overlap, the second pass repeats wall
    /// times up to and including `wall`, which [`Search::forward`] never looks at again: the
    /// first of those that matches, for jobs that run in both passes.
    fn second_pass(
        &self,
        t: DateTime<Utc>,
        wall: NaiveDateTime,
        offset: TimeDelta,
    ) -> Option<DateTime<Utc>> {
        let Local::Twice(first, second) = self.local(wall)? else {
            return None;
        };
        if first != t {
            return None;
        }
        let transition = self.transition_after(t, second, offset)?;
        let offset_after = self.offset_at(transition);
        let repeats_from = transition.naive_utc().checked_add_signed(offset_after)?;
        let one_second = TimeDelta::seconds(1);
        let next = self
            .calendar
            .next_after(repeats_from.checked_sub_signed(one_second)?)?;
        (next <= wall).then(|| next.checked_sub_signed(offset_after).map(|n| n.and_utc()))?
    }

    /// The first instant in `(from, to]` whose offset differs from `offset`, the offset at
    /// `from`; `to` must have another offset.
    fn transition_after(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: TimeDelta,
    ) -> Option<DateTime<Utc>> {
        let (mut low, mut high) = (from.timestamp(), to.timestamp());
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if self.offset_at(DateTime::from_timestamp(mid, 0)?) == offset {
                low = mid;
            } else {
                high = mid;
            }
        }
        DateTime::from_timestamp(high, 0)
    }

    fn offset_at(&self, instant: DateTime<Utc>) -> TimeDelta {
        TimeDelta::seconds(i64::from(self.tz.utc_offset(instant.timestamp())))
    }

    fn local(&self, wall: NaiveDateTime) -> Option<Local> {
        let instant = |offset: i32| {
            let offset = TimeDelta::seconds(i64::from(offset));
            wall.checked_sub_signed(offset).map(|u| u.and_utc())
        };
        Some(match self.tz.wall_offsets(wall.and_utc().timestamp()) {
            LocalResult::Single(o) => Local::Single(instant(o)?),
            LocalResult::Ambiguous(a, b) => {
                let (a, b) = (instant(a)?, instant(b)?);
                Local::Twice(a.min(b), a.max(b))
            }
            LocalResult::None => Local::Skipped,
        })
    }
}
