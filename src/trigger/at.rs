//! `at`: one fire at one instant.
//!
//! Written with an offset (`2026-12-24T18:00:00+01:00`, `...Z`) it is that instant. Written
//! without one (`2026-12-24T18:00:00`) it is wall-clock time in the job's zone: a time that
//! the zone skips (a DST gap) is an error, because there is no honest instant to pick; a time
//! that occurs twice (a DST overlap) means the first occurrence, as for fixed-time cron jobs.

use crate::zone::Tz;
use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    instant: DateTime<Utc>,
}

/// Why an `at` value names no instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AtError(String);

impl At {
    pub fn new(instant: DateTime<Utc>) -> At {
        At { instant }
    }

    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (self.instant > t).then_some(self.instant)
    }

    /// Reads `text` as RFC 3339 with an offset, or as a local date-time in `tz`
    /// (`YYYY-MM-DDTHH:MM[:SS]`, a space instead of the `T` is fine).
    pub fn parse(text: &str, tz: Tz) -> Result<At, AtError> {
        let s = text.trim();
        if let Ok(dt) = DateTime::<FixedOffset>::parse_from_rfc3339(s) {
            return Ok(At::new(whole_second(dt.with_timezone(&Utc))?));
        }
        let naive = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .ok_or_else(|| {
                AtError(format!(
                    "invalid date-time {text:?} (expected a local time like \"2026-12-24T18:00:00\" or RFC 3339 with an offset like \"2026-12-24T18:00:00+01:00\")"
                ))
            })?;
        At::local(naive, tz)
    }

    /// Resolves a wall-clock time in `tz` by the rule in the module doc.
    pub fn local(naive: NaiveDateTime, tz: Tz) -> Result<At, AtError> {
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => {
                Ok(At::new(whole_second(dt.with_timezone(&Utc))?))
            }
            LocalResult::None => Err(AtError(format!(
                "{} does not exist in {} (the clocks skip it for daylight saving time); pick a time outside the gap or give an offset",
                naive.format("%Y-%m-%dT%H:%M:%S"),
                tz.name()
            ))),
        }
    }
}

fn whole_second(dt: DateTime<Utc>) -> Result<DateTime<Utc>, AtError> {
    if dt.timestamp_subsec_nanos() == 0 {
        Ok(dt)
    } else {
        Err(AtError(format!(
            "{} has fractions of a second; jobrun schedules whole seconds",
            dt.to_rfc3339()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str, tz: &str) -> Result<String, String> {
        At::parse(s, tz.parse().unwrap())
            .map(|a| a.instant().to_rfc3339())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn local_time_is_read_in_the_jobs_zone() {
        assert_eq!(
            parse("2026-12-24T18:00:00", "Europe/Paris"),
            Ok("2026-12-24T17:00:00+00:00".into())
        );
        assert_eq!(
            parse("2026-12-24 18:00", "Asia/Kathmandu"),
            Ok("2026-12-24T12:15:00+00:00".into())
        );
    }

    #[test]
    fn an_offset_overrides_the_zone() {
        assert_eq!(
            parse("2026-12-24T18:00:00+01:00", "Asia/Tokyo"),
            Ok("2026-12-24T17:00:00+00:00".into())
        );
        assert_eq!(
            parse("2026-12-24T18:00:00Z", "Asia/Tokyo"),
            Ok("2026-12-24T18:00:00+00:00".into())
        );
    }

    #[test]
    fn a_time_in_a_dst_gap_is_an_error() {
        assert_eq!(
            parse("2026-03-08T02:30:00", "America/New_York"),
            Err("2026-03-08T02:30:00 does not exist in America/New_York (the clocks skip it for daylight saving time); pick a time outside the gap or give an offset".into())
        );
    }

    #[test]
    fn a_time_in_a_dst_overlap_means_the_first_pass() {
        // 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
        assert_eq!(
            parse("2026-11-01T01:30:00", "America/New_York"),
            Ok("2026-11-01T05:30:00+00:00".into())
        );
    }

    #[test]
    fn fires_once_then_never() {
        let at = At::parse("2026-12-24T18:00:00Z", Tz::UTC).unwrap();
        let before = at.instant() - chrono::TimeDelta::seconds(1);
        assert_eq!(at.next_after(before), Some(at.instant()));
        assert_eq!(at.next_after(at.instant()), None);
    }

    #[test]
    fn malformed_dates_say_what_was_expected() {
        assert!(
            parse("tomorrow", "UTC")
                .unwrap_err()
                .starts_with("invalid date-time \"tomorrow\"")
        );
        assert!(parse("2026-02-30T00:00:00", "UTC").is_err());
        assert!(
            parse("2026-12-24T18:00:00.5Z", "UTC")
                .unwrap_err()
                .contains("fractions of a second")
        );
    }
}
